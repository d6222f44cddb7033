//! The elements stage on the embedded demo song: stems that add back up to the mix, one MIDI
//! file per element that reads back with midly (tempo and notes intact), and the `elements`
//! list; then the same with no model installed, which must fall back to the embedded defaults.

use std::path::Path;

use auralis::elements::{self, Options};
use auralis::{demo, midi, profile, progress};

fn stereo(path: &Path) -> Vec<f32> {
    auralis::decode::read_stereo(path).unwrap().1
}

fn run(tag: &str, models: Option<&Path>) -> (std::path::PathBuf, auralis::session::Session) {
    let dir = std::env::temp_dir().join(format!("auralis-elements-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("demo.wav");
    demo::write_wav(&wav).unwrap();
    let mut analysis = profile::analyze(&wav, None, &progress::Silent).unwrap();
    let options = Options {
        models: models.map(Path::to_path_buf),
        ..Options::default()
    };
    let records = elements::run(
        &wav,
        &analysis.mono,
        &mut analysis.session,
        &dir,
        &options,
        &progress::Silent,
    )
    .unwrap();
    analysis.session.stages.extend(records);
    (dir, analysis.session)
}

#[test]
fn demo_elements_stems_and_midi() {
    let (dir, s) = run("models", None);
    let names: Vec<&str> = s.elements.iter().map(|e| e.name.as_str()).collect();
    // The demo has drums, a bass line and a lead over chords.
    for want in ["drums", "bass", "other"] {
        assert!(names.contains(&want), "{names:?}");
    }
    // Stems add back up to the mix.
    let mix = stereo(&dir.join("demo.wav"));
    let mut sum = vec![0.0f32; mix.len()];
    for stem in ["drums", "bass", "vocals", "other"] {
        let x = stereo(&dir.join("stems").join(format!("{stem}.wav")));
        assert_eq!(x.len(), mix.len(), "{stem}");
        sum.iter_mut().zip(&x).for_each(|(a, b)| *a += b);
    }
    let sdr = auralis::separate::sdr(&mix, &sum);
    assert!(sdr > 60.0, "stems sum to the mix within {sdr:.1} dB");

    // Each element's MIDI reads back: the note count in the session, drums on channel 10.
    for e in &s.elements {
        let path = dir.join(e.midi.as_ref().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        let notes = midi::read_notes(&bytes).unwrap();
        assert_eq!(
            notes.len() as u64,
            e.extra["notes"].as_u64().unwrap(),
            "{}",
            e.name
        );
        assert!(!notes.is_empty(), "{} has notes", e.name);
        if e.name == "drums" {
            assert!(notes.iter().all(|n| n.channel == midi::DRUM_CHANNEL));
            // Kicks land on the demo's eighth-note grid (beats 1, 3 and the "and" of 3).
            let beats: Vec<f64> = demo::beats()
                .iter()
                .flat_map(|&b| [b, b + 0.5 * demo::beat_s()])
                .collect();
            let kicks: Vec<f64> = notes
                .iter()
                .filter(|n| n.pitch == 36)
                .map(|n| n.start_s)
                .collect();
            let on_beat = kicks
                .iter()
                .filter(|k| beats.iter().any(|b| (*b - **k).abs() < 0.05))
                .count();
            assert!(
                on_beat as f64 >= 0.9 * kicks.len() as f64 && kicks.len() >= 8,
                "{on_beat} of {}",
                kicks.len()
            );
        }
        assert!(e.stem.as_ref().is_some_and(|p| dir.join(p).is_file()));
    }
    // all.mid: tempo map of the session and one track per element.
    let bytes = std::fs::read(dir.join("midi/all.mid")).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    assert_eq!(smf.tracks.len(), 1 + s.elements.len());
    let tempo = smf.tracks[0].iter().find_map(|e| match e.kind {
        midly::TrackEventKind::Meta(midly::MetaMessage::Tempo(us)) => Some(us.as_int()),
        _ => None,
    });
    let bpm = 60e6 / tempo.unwrap() as f64;
    // The first tempo can be the lead-in's; the steady one is the demo's.
    let steady = smf.tracks[0]
        .iter()
        .filter_map(|e| match e.kind {
            midly::TrackEventKind::Meta(midly::MetaMessage::Tempo(us)) => {
                Some(60e6 / us.as_int() as f64)
            }
            _ => None,
        })
        .next_back()
        .unwrap();
    assert!(
        bpm > 0.0 && (steady - s.tempo.bpm).abs() < 1.0,
        "{steady} vs {}",
        s.tempo.bpm
    );
    let stages: Vec<&str> = s.stages.iter().map(|r| r.name.as_str()).collect();
    assert!(stages.contains(&"separate") && stages.contains(&"transcribe"));
    let sep = s.stages.iter().find(|r| r.name == "separate").unwrap();
    assert!(matches!(
        sep.parameters["device"].as_str(),
        Some("cpu" | "cuda")
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_models_the_embedded_defaults_run() {
    let empty = std::env::temp_dir().join(format!("auralis-no-models-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (dir, s) = run("nomodels", Some(&empty));
    assert!(s.elements.iter().any(|e| e.name == "bass"));
    let t = s.stages.iter().find(|r| r.name == "transcribe").unwrap();
    assert_eq!(t.parameters["method"], "embedded pitch tracker");
    assert!(t.parameters["model_problem"]
        .as_str()
        .is_some_and(|p| p.contains("not installed")));
    let bass = s.elements.iter().find(|e| e.name == "bass").unwrap();
    assert!(bass.extra["notes"].as_u64().unwrap() > 0);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
}
