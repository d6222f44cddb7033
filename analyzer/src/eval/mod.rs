//! `auralis eval`: runs the profile on every song of a ground-truth corpus (built by
//! `shared/corpus/build`) and scores it with the standard metrics of [`metrics`].

pub mod ear;
pub mod effects;
pub mod hands;
pub mod metrics;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::session::Session;
use metrics::{
    boundaries, chord_overlap, f_measure, key_score, pairwise_labels, parse_key, tempo_acc1,
    tempo_acc2, ChordRule,
};

/// The parts of a corpus `truth.json` that the profile is scored on.
#[derive(Debug, Clone, Deserialize)]
pub struct Truth {
    pub title: Option<String>,
    pub tempo_bpm: f64,
    pub time_signature: [u32; 2],
    pub key: TruthKey,
    pub beats: Vec<f64>,
    pub downbeats: Vec<f64>,
    pub chords: Vec<TruthSegment>,
    pub sections: Vec<TruthSegment>,
    pub mix: TruthMix,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TruthKey {
    pub tonic: String,
    pub mode: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TruthSegment {
    pub start: f64,
    pub end: f64,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TruthMix {
    pub lufs_integrated: f64,
}

/// Reads a `truth.json`.
pub fn read_truth(path: &Path) -> Result<Truth> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(path, "reading the truth file", e))?;
    serde_json::from_str(&text).map_err(|e| Error::BadTruth {
        path: path.into(),
        detail: format!("not a corpus truth file: {e}"),
    })
}

/// Scores of one song.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SongScore {
    pub song: String,
    pub beat_f: f64,
    pub downbeat_f: f64,
    pub tempo_acc1: f64,
    pub tempo_acc2: f64,
    pub tempo_est: f64,
    pub tempo_ref: f64,
    pub meter_correct: f64,
    pub meter_est: String,
    pub key_score: f64,
    pub key_est: String,
    pub key_ref: String,
    pub chords_majmin: f64,
    pub chords_sevenths: f64,
    pub sections_f3: f64,
    pub sections_f05: f64,
    pub sections_pairwise_f: f64,
    pub loudness_error_lu: f64,
    pub analyze_s: f64,
}

/// Scores a session against its truth.
pub fn score(song: &str, s: &Session, t: &Truth, analyze_s: f64) -> SongScore {
    let seg = |v: &[TruthSegment]| {
        v.iter()
            .map(|x| (x.start, x.end, x.label.clone()))
            .collect::<Vec<_>>()
    };
    let est_chords: Vec<(f64, f64, String)> = s
        .chords
        .iter()
        .map(|x| (x.start, x.end, x.label.clone()))
        .collect();
    let ref_chords = seg(&t.chords);
    let ref_bounds = boundaries(
        &t.sections
            .iter()
            .map(|x| (x.start, x.end))
            .collect::<Vec<_>>(),
    );
    let est_bounds = boundaries(
        &s.sections
            .iter()
            .map(|x| (x.start, x.end))
            .collect::<Vec<_>>(),
    );
    let key_ref = format!("{} {}", t.key.tonic, t.key.mode);
    let ks = match (parse_key(&key_ref), parse_key(&s.key.label)) {
        (Some((rt, rm)), Some((et, em))) => key_score(rt, rm, et, em),
        _ => 0.0,
    };
    let bool_f = |b: bool| if b { 1.0 } else { 0.0 };
    SongScore {
        song: song.to_string(),
        beat_f: f_measure(&t.beats, &s.beats, 0.07).f,
        downbeat_f: f_measure(&t.downbeats, &s.downbeats, 0.07).f,
        tempo_acc1: bool_f(tempo_acc1(t.tempo_bpm, s.tempo.bpm)),
        tempo_acc2: bool_f(tempo_acc2(t.tempo_bpm, s.tempo.bpm)),
        tempo_est: s.tempo.bpm,
        tempo_ref: t.tempo_bpm,
        meter_correct: bool_f(
            s.meter.numerator == t.time_signature[0] && s.meter.denominator == t.time_signature[1],
        ),
        meter_est: format!("{}/{}", s.meter.numerator, s.meter.denominator),
        key_score: ks,
        key_est: s.key.label.clone(),
        key_ref,
        chords_majmin: chord_overlap(&ref_chords, &est_chords, ChordRule::MajMin).unwrap_or(0.0),
        chords_sevenths: chord_overlap(&ref_chords, &est_chords, ChordRule::Sevenths)
            .unwrap_or(0.0),
        sections_f3: f_measure(&ref_bounds, &est_bounds, 3.0).f,
        sections_f05: f_measure(&ref_bounds, &est_bounds, 0.5).f,
        sections_pairwise_f: pairwise_labels(
            &seg(&t.sections),
            &s.sections
                .iter()
                .map(|x| (x.start, x.end, x.label.clone()))
                .collect::<Vec<_>>(),
            0.1,
        )
        .f,
        loudness_error_lu: (s.loudness.integrated_lufs - t.mix.lufs_integrated).abs(),
        analyze_s,
    }
}

/// Results over a corpus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub corpus: String,
    pub songs: Vec<SongScore>,
    pub mean: SongScore,
    /// Stems and notes per song (empty with `--profile-only`).
    pub ear: Vec<ear::EarScore>,
    /// Means of `ear`.
    pub ear_mean: ear::EarScore,
}

/// What `run` evaluates besides the profile.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also separate, transcribe and score stems and notes.
    pub elements: bool,
    /// Model cache.
    pub models: Option<PathBuf>,
}

/// Songs of a corpus: sub-folders holding `mix.wav` and `truth.json`, sorted by name.
pub fn corpus_songs(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound { path: dir.into() },
        _ => Error::io(dir, "listing the corpus", e),
    })?;
    let mut songs: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("mix.wav").is_file() && p.join("truth.json").is_file())
        .collect();
    songs.sort();
    if songs.is_empty() {
        return Err(Error::BadTruth {
            path: dir.into(),
            detail: "no songs here (expected sub-folders with mix.wav and truth.json, as shared/corpus/build writes)".into(),
        });
    }
    Ok(songs)
}

/// Analyses and scores every song of the corpus at `dir`. `on_song` sees each score as it
/// comes (for live output).
pub fn run(
    dir: &Path,
    options: &Options,
    progress: &dyn Progress,
    on_song: &mut dyn FnMut(&SongScore),
    on_ear: &mut dyn FnMut(&ear::EarScore),
) -> Result<Report> {
    let songs = corpus_songs(dir)?;
    let mut scores = Vec::new();
    let mut ears = Vec::new();
    let store = crate::models::Store::open(options.models.as_deref());
    let mut transcriber = if options.elements {
        ear::transcriber(&store)
    } else {
        None
    };
    let work = std::env::temp_dir().join(format!("auralis-eval-{}", std::process::id()));
    for (i, song) in songs.iter().enumerate() {
        let name = song
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        progress.update("eval", i as f64 / songs.len() as f64, &name);
        let truth = read_truth(&song.join("truth.json"))?;
        let t0 = Instant::now();
        let mut analysis =
            crate::profile::analyze(&song.join("mix.wav"), None, &crate::progress::Silent)?;
        let s = score(&name, &analysis.session, &truth, t0.elapsed().as_secs_f64());
        on_song(&s);
        scores.push(s);
        if options.elements {
            let session_dir = work.join(&name);
            std::fs::create_dir_all(&session_dir)
                .map_err(|e| Error::io(&session_dir, "creating", e))?;
            let el = crate::elements::Options {
                device: crate::models::Device::Auto,
                models: options.models.clone(),
            };
            crate::elements::run(
                &song.join("mix.wav"),
                &analysis.mono,
                &mut analysis.session,
                &session_dir,
                &el,
                &crate::progress::Silent,
            )?;
            let e = ear::score(song, &session_dir, &mut transcriber)?;
            let _ = std::fs::remove_dir_all(&session_dir);
            on_ear(&e);
            ears.push(e);
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    let ear_mean = ear::EarScore {
        song: "mean".into(),
        sdr: ear::mean(&ears.iter().map(|e| &e.sdr).collect::<Vec<_>>()),
        notes_truth_stems: ear::mean(
            &ears
                .iter()
                .map(|e| &e.notes_truth_stems)
                .collect::<Vec<_>>(),
        ),
        notes_our_stems: ear::mean(&ears.iter().map(|e| &e.notes_our_stems).collect::<Vec<_>>()),
        drums: ear::mean(&ears.iter().map(|e| &e.drums).collect::<Vec<_>>()),
    };
    progress.update("eval", 1.0, "done");
    let n = scores.len() as f64;
    let mean_of = |f: &dyn Fn(&SongScore) -> f64| scores.iter().map(f).sum::<f64>() / n;
    let mean = SongScore {
        song: "mean".into(),
        beat_f: mean_of(&|s| s.beat_f),
        downbeat_f: mean_of(&|s| s.downbeat_f),
        tempo_acc1: mean_of(&|s| s.tempo_acc1),
        tempo_acc2: mean_of(&|s| s.tempo_acc2),
        tempo_est: f64::NAN,
        tempo_ref: f64::NAN,
        meter_correct: mean_of(&|s| s.meter_correct),
        meter_est: String::new(),
        key_score: mean_of(&|s| s.key_score),
        key_est: String::new(),
        key_ref: String::new(),
        chords_majmin: mean_of(&|s| s.chords_majmin),
        chords_sevenths: mean_of(&|s| s.chords_sevenths),
        sections_f3: mean_of(&|s| s.sections_f3),
        sections_f05: mean_of(&|s| s.sections_f05),
        sections_pairwise_f: mean_of(&|s| s.sections_pairwise_f),
        loudness_error_lu: mean_of(&|s| s.loudness_error_lu),
        analyze_s: mean_of(&|s| s.analyze_s),
    };
    Ok(Report {
        corpus: dir.display().to_string(),
        songs: scores,
        mean,
        ear: ears,
        ear_mean,
    })
}

/// Column header of [`row`].
pub fn header() -> String {
    format!(
        "{:<24} {:>6} {:>6} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}  {}",
        "song",
        "beatF",
        "dbF",
        "acc1",
        "acc2",
        "meter",
        "key",
        "majmin",
        "7ths",
        "sec@3",
        "sec@.5",
        "pairF",
        "LU err",
        "sec",
        "tempo / meter / key (est vs ref)"
    )
}

/// One table row.
pub fn row(s: &SongScore) -> String {
    let detail = if s.song == "mean" {
        String::new()
    } else {
        format!(
            "{:.1}/{:.0} {} {} vs {}",
            s.tempo_est, s.tempo_ref, s.meter_est, s.key_est, s.key_ref
        )
    };
    format!(
        "{:<24} {:>6.3} {:>6.3} {:>5.2} {:>5.2} {:>5.2} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.2} {:>6.2}  {}",
        truncate(&s.song, 24),
        s.beat_f,
        s.downbeat_f,
        s.tempo_acc1,
        s.tempo_acc2,
        s.meter_correct,
        s.key_score,
        s.chords_majmin,
        s.chords_sevenths,
        s.sections_f3,
        s.sections_f05,
        s.sections_pairwise_f,
        s.loudness_error_lu,
        s.analyze_s,
        detail
    )
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The first `n` characters of `s` (for table columns).
pub fn truncate_pub(s: &str, n: usize) -> String {
    truncate(s, n)
}

/// Column header of [`ear_row`].
pub fn ear_header() -> String {
    format!(
        "{:<24} {:>7} {:>7} {:>7} {:>7} | {:>6} {:>6} {:>6} | {:>6} {:>6} | {:>5} {:>5} {:>5}",
        "song",
        "SDR drm",
        "bass",
        "vocals",
        "other",
        "n:bass",
        "voc+ld",
        "poly",
        "o:bass",
        "vocals",
        "kick",
        "snare",
        "hats"
    )
}

/// One row of the EAR table (notes from truth stems `n:`, from our stems `o:`).
pub fn ear_row(e: &ear::EarScore) -> String {
    let f = |m: &std::collections::BTreeMap<String, f64>, k: &str, w: usize, p: usize| {
        m.get(k)
            .map(|v| format!("{v:>w$.p$}"))
            .unwrap_or_else(|| format!("{:>w$}", "-"))
    };
    format!(
        "{:<24} {} {} {} {} | {} {} {} | {} {} | {} {} {}",
        truncate(&e.song, 24),
        f(&e.sdr, "drums", 7, 2),
        f(&e.sdr, "bass", 7, 2),
        f(&e.sdr, "vocals", 7, 2),
        f(&e.sdr, "other", 7, 2),
        f(&e.notes_truth_stems, "bass", 6, 3),
        f(&e.notes_truth_stems, "vocals+lead", 6, 3),
        f(&e.notes_truth_stems, "polyphonic", 6, 3),
        f(&e.notes_our_stems, "bass", 6, 3),
        f(&e.notes_our_stems, "vocals", 6, 3),
        f(&e.drums, "kick", 5, 2),
        f(&e.drums, "snare", 5, 2),
        f(&e.drums, "hats", 5, 2),
    )
}
