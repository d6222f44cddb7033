//! The session contract, end to end: the documented example parses into the serde types, and a
//! real analysis of the embedded demo song carries every contract field with the values the demo
//! was composed with.

use std::path::Path;

use auralis::eval::metrics::{chord_overlap, f_measure, ChordRule};
use auralis::session::{self, Session};
use auralis::{demo, profile, progress};

fn documented_example() -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/session.md"))
            .unwrap();
    let start = doc
        .find("```json")
        .expect("docs/session.md has a json example")
        + "```json".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

#[test]
fn documented_example_parses() {
    let s: Session = serde_json::from_str(&documented_example()).unwrap();
    assert_eq!(s.schema, session::SCHEMA);
    assert_eq!(s.key.label, "D minor");
}

/// The field names the plugins and outside tools read (issue #2); they must never disappear.
const CONTRACT: &[&[&str]] = &[
    &["schema"],
    &["source", "path"],
    &["source", "sha256"],
    &["source", "sample_rate"],
    &["source", "channels"],
    &["source", "duration_s"],
    &["tempo", "bpm"],
    &["tempo", "map"],
    &["meter", "numerator"],
    &["meter", "denominator"],
    &["beats"],
    &["downbeats"],
    &["key", "tonic"],
    &["key", "mode"],
    &["key", "label"],
    &["key", "confidence"],
    &["chords"],
    &["sections"],
    &["loudness", "integrated_lufs"],
    &["loudness", "true_peak_dbtp"],
    &["loudness", "loudness_range_lu"],
    &["stereo", "side_to_mid_db"],
    &["stereo", "sections"],
    &["energy", "sections"],
    &["energy", "curve"],
    &["energy", "frame_rate_hz"],
    &["elements"],
    &["stages"],
];

#[test]
fn demo_session_keeps_the_contract_and_finds_what_the_demo_holds() {
    let dir = std::env::temp_dir().join(format!("auralis-contract-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("demo.wav");
    demo::write_wav(&wav).unwrap();
    let analysis = profile::analyze(&wav, None, &progress::Silent).unwrap();
    let s = &analysis.session;

    let value = serde_json::to_value(s).unwrap();
    for path in CONTRACT {
        let mut v = &value;
        for key in *path {
            v = v.get(key).unwrap_or_else(|| panic!("missing {path:?}"));
        }
    }
    for seg in value["chords"]
        .as_array()
        .unwrap()
        .iter()
        .chain(value["sections"].as_array().unwrap())
    {
        for k in ["start", "end", "label"] {
            assert!(seg.get(k).is_some(), "segment without {k}");
        }
    }
    assert!(
        value["tempo"]["map"][0].get("time_s").is_some()
            && value["tempo"]["map"][0].get("bpm").is_some()
    );

    // What the demo was composed with.
    assert!(
        (s.tempo.bpm - demo::BPM).abs() < 0.01 * demo::BPM,
        "tempo {}",
        s.tempo.bpm
    );
    assert_eq!(s.tempo.map.len(), 1, "steady tempo: {:?}", s.tempo.map);
    assert_eq!((s.meter.numerator, s.meter.denominator), (4, 4));
    assert_eq!(s.key.label, demo::KEY);
    let truth_beats = demo::beats();
    let beat_f = f_measure(&truth_beats, &s.beats, 0.07).f;
    assert!(beat_f > 0.95, "beat F {beat_f}");
    let truth_down: Vec<f64> = truth_beats
        .iter()
        .step_by(demo::BEATS_PER_BAR)
        .copied()
        .collect();
    let down_f = f_measure(&truth_down, &s.downbeats, 0.07).f;
    assert!(down_f > 0.9, "downbeat F {down_f}");
    let bar_s = demo::beat_s() * demo::BEATS_PER_BAR as f64;
    let truth_chords: Vec<(f64, f64, String)> = demo::chord_labels()
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let t = demo::LEAD_IN_S + i as f64 * bar_s;
            (t, t + bar_s, l)
        })
        .collect();
    let est: Vec<(f64, f64, String)> = s
        .chords
        .iter()
        .map(|c| (c.start, c.end, c.label.clone()))
        .collect();
    let majmin = chord_overlap(&truth_chords, &est, ChordRule::MajMin).unwrap();
    assert!(majmin > 0.8, "chords {majmin}");
    assert!(s.sections.len() >= 2, "{:?}", s.sections);
    assert!(
        s.loudness.true_peak_dbtp > -1.5 && s.loudness.true_peak_dbtp < 0.0,
        "{:?}",
        s.loudness
    );

    // The session writes and reads back unchanged.
    session::write(&dir, s).unwrap();
    assert_eq!(&session::read(&dir.join(session::SESSION_FILE)).unwrap(), s);
    std::fs::remove_dir_all(&dir).unwrap();
}
