//! The EAR profile: runs every analysis stage on one track and assembles the session.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use crate::error::Result;
use crate::frontend::{self, FrontEnd, ANALYSIS_RATE};
use crate::harmony::chords::{self, BeatChroma, Chord};
use crate::harmony::chroma::{self, span_means};
use crate::harmony::key::{self, KeyEvidence};
use crate::level::amp_db;
use crate::onset;
use crate::progress::Progress;
use crate::rhythm::{self, meter};
use crate::session::{self, Session};
use crate::structure::{self, PHRASE_BARS};

/// Frame rate of the session's energy curve, Hz.
pub const ENERGY_FRAME_RATE_HZ: f64 = 10.0;
use crate::rhythm::beats::ACTIVE_RANGE_DB;

/// Times the stages of one run.
struct Stages {
    records: Vec<session::StageRecord>,
    started: Instant,
}

impl Stages {
    fn new() -> Self {
        Self {
            records: Vec::new(),
            started: Instant::now(),
        }
    }

    fn done(&mut self, name: &str, version: &str, parameters: serde_json::Value) {
        let now = Instant::now();
        self.records.push(session::StageRecord {
            name: name.to_string(),
            version: version.to_string(),
            parameters,
            wall_s: (now - self.started).as_secs_f64(),
        });
        self.started = now;
    }
}

/// Where the music sounds: first and last 100 ms frame within [`ACTIVE_RANGE_DB`] of the loud
/// passages, seconds; and the level of the loud passages (90th percentile), dBFS.
pub fn sounding_span(fe: &FrontEnd) -> (f64, f64, f64) {
    let curve = fe.blocks.energy_curve(10.0);
    if curve.is_empty() {
        return (0.0, fe.duration_s, 0.0);
    }
    let mut sorted = curve.clone();
    sorted.sort_by(f64::total_cmp);
    let loud = sorted[(sorted.len() * 9) / 10];
    let gate = loud - ACTIVE_RANGE_DB;
    let first = curve.iter().position(|&v| v > gate).unwrap_or(0);
    let last = curve
        .iter()
        .rposition(|&v| v > gate)
        .unwrap_or(curve.len() - 1);
    (
        first as f64 / 10.0,
        ((last + 1) as f64 / 10.0).min(fe.duration_s),
        loud,
    )
}

/// Everything measured on one track, before it is written as a session.
pub struct Analysis {
    /// The session document.
    pub session: Session,
    /// The mono mix at the analysis rate (later stages transcribe it).
    pub mono: Vec<f32>,
    /// Level blocks at the source rate (any span's RMS, width and peak).
    pub blocks: crate::level::LevelBlocks,
    /// Onset strength functions of the mono mix.
    pub onsets: onset::Onsets,
    /// Chroma frames of the mono mix.
    pub chroma: chroma::Chroma,
}

/// Runs the whole profile on `path`. When `original_wav` is given the decoded audio is written
/// there (the caller commits it).
pub fn analyze(
    path: &Path,
    original_wav: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Analysis> {
    let mut stages = Stages::new();
    progress.update("decode", 0.0, "opening");
    let fe = frontend::run(path, original_wav, progress)?;
    stages.done(
        "decode",
        "1",
        json!({"analysis_rate_hz": ANALYSIS_RATE, "container": fe.source.container, "codec": fe.source.codec}),
    );

    progress.update("rhythm", 0.0, "onset strength");
    let (onsets, chroma_frames) = std::thread::scope(|s| {
        let c = s.spawn(|| chroma::chroma(&fe.mono, ANALYSIS_RATE));
        let o = onset::onset_strength(&fe.mono, ANALYSIS_RATE);
        (o, c.join().unwrap_or_default())
    });
    progress.update("rhythm", 0.4, "tempo and beats");
    let (start_s, end_s, loud_db) = sounding_span(&fe);
    let level = |a: f64, b: f64| fe.blocks.rms_dbfs(a, b);
    let track = rhythm::track_beats(&onsets, start_s, end_s, &level, loud_db);
    progress.update("rhythm", 0.7, "meter and downbeats");
    let novelty = rhythm::beat_novelty(&onsets);
    let profile = meter::fold(&novelty, onsets.frame_rate, &track.beats);
    let sub = meter::subdivision(&profile);
    let evidence = rhythm::beat_evidence(&onsets, &chroma_frames, &track.beats);
    let m = meter::estimate(&evidence, &sub);
    let downbeat_flags: Vec<bool> = (0..track.beats.len())
        .map(|i| m.positions.get(i) == Some(&0))
        .collect();
    let downbeats: Vec<f64> = track
        .beats
        .iter()
        .zip(&downbeat_flags)
        .filter(|(_, &d)| d)
        .map(|(&b, _)| b)
        .collect();
    progress.update("rhythm", 1.0, "done");
    stages.done(
        "rhythm",
        "1",
        json!({"onset_fft": onset::N_FFT, "onset_hop": onset::HOP, "tempo_prior_bpm": rhythm::tempo::PRIOR_CENTRE_BPM}),
    );

    progress.update("harmony", 0.0, "chroma per beat");
    let edges = rhythm::beat_edges(&track.beats);
    let beat_treble = span_means(&chroma_frames.treble, chroma_frames.frame_rate, &edges);
    let beat_bass = span_means(&chroma_frames.bass, chroma_frames.frame_rate, &edges);
    let beat_evidence = BeatChroma {
        treble: &beat_treble,
        bass: &beat_bass,
        downbeat: &downbeat_flags,
    };
    // A first chord pass without a key feeds the key stage; the chords are then decoded again
    // knowing the key.
    let draft_chords = chords::decode(&beat_evidence, None);
    progress.update("harmony", 1.0, "draft chords");
    stages.done(
        "harmony",
        "1",
        json!({"chroma_fft": chroma::N_FFT, "chroma_hop": chroma::HOP, "tuning_semitones": chroma_frames.tuning_semitones}),
    );

    progress.update("structure", 0.0, "sections");
    let bar_edges = bar_edges(&downbeats, &track.beats, m.beats_per_bar, fe.duration_s);
    let secs = structure::sections(&bar_edges, &chroma_frames, &onsets);
    stages.done(
        "structure",
        "1",
        json!({"phrase_bars": PHRASE_BARS, "min_bars": structure::MIN_BARS}),
    );

    progress.update("key", 0.0, "key");
    let phrase_starts = phrase_start_beats(&secs, &track.beats, &downbeats);
    let beat_s: Vec<f64> = edges.windows(2).map(|w| w[1] - w[0]).collect();
    let k = key::estimate(&KeyEvidence {
        chords: &draft_chords,
        beat_s: &beat_s,
        treble: &beat_treble,
        bass: &beat_bass,
        phrase_starts: &phrase_starts,
    });
    stages.done("key", "1", json!({"profiles": "krumhansl-kessler", "evidence": ["profile", "tonic", "phrase-start", "cadence", "leading-tone"]}));

    progress.update("chords", 0.0, "chords in the key");
    let beat_chords = chords::decode(&beat_evidence, Some((k.tonic, k.minor)));
    let chord_segments = chord_timeline(&beat_chords, &edges, fe.duration_s);
    progress.update("chords", 1.0, "done");
    stages.done(
        "chords",
        "1",
        json!({"vocabulary": chords::QUALITIES.iter().map(|q| q.0).collect::<Vec<_>>(), "method": "beat-synchronous templates + metric HMM, key prior"}),
    );

    progress.update("levels", 0.0, "loudness and width");
    let session = assemble(
        &fe,
        &track,
        &m,
        &sub,
        downbeats,
        chord_segments,
        &secs,
        k,
        stages,
        progress,
    );
    Ok(Analysis {
        session,
        mono: fe.mono,
        blocks: fe.blocks,
        onsets,
        chroma: chroma_frames,
    })
}

/// Chord segments over `[0, duration]`: `N` before the first beat and after the last.
fn chord_timeline(
    beat_chords: &[Option<Chord>],
    edges: &[f64],
    duration: f64,
) -> Vec<session::Segment> {
    let mut out: Vec<session::Segment> = Vec::new();
    let mut push = |start: f64, end: f64, label: String| {
        if end <= start {
            return;
        }
        match out.last_mut() {
            Some(last) if last.label == label => last.end = end,
            _ => out.push(session::Segment { start, end, label }),
        }
    };
    if let Some(&first) = edges.first() {
        push(0.0, first, "N".into());
    }
    for (i, c) in beat_chords.iter().enumerate() {
        push(edges[i], edges[i + 1], chords::label(*c));
    }
    if let Some(&last) = edges.last() {
        push(last, duration, "N".into());
    } else {
        push(0.0, duration, "N".into());
    }
    out
}

/// Bar edges: each downbeat, and the end of the last bar.
fn bar_edges(downbeats: &[f64], beats: &[f64], beats_per_bar: usize, duration: f64) -> Vec<f64> {
    let mut e = downbeats.to_vec();
    if let Some(&last) = downbeats.last() {
        let edges = rhythm::beat_edges(beats);
        let ibi = if edges.len() >= 2 {
            edges[edges.len() - 1] - edges[edges.len() - 2]
        } else {
            0.5
        };
        e.push((last + ibi * beats_per_bar as f64).min(duration));
    }
    e
}

/// Beat indices where phrases begin: each section start and every [`PHRASE_BARS`] bars after.
fn phrase_start_beats(secs: &[structure::Section], beats: &[f64], downbeats: &[f64]) -> Vec<usize> {
    let mut out = Vec::new();
    for s in secs {
        let first_bar = downbeats.partition_point(|&d| d < s.start - 1e-6);
        let last_bar = downbeats.partition_point(|&d| d < s.end - 1e-6);
        for bar in (first_bar..last_bar).step_by(PHRASE_BARS) {
            let t = downbeats[bar];
            if let Some(i) = beats.iter().position(|&b| (b - t).abs() < 1e-9) {
                out.push(i);
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    fe: &FrontEnd,
    track: &rhythm::BeatTrack,
    m: &meter::MeterEstimate,
    sub: &meter::Subdivision,
    downbeats: Vec<f64>,
    chord_segments: Vec<session::Segment>,
    secs: &[structure::Section],
    k: key::KeyEstimate,
    mut stages: Stages,
    progress: &dyn Progress,
) -> Session {
    let b = &fe.blocks;
    let tonic = chords::PITCH_NAMES[k.tonic as usize].to_string();
    let mode = if k.minor { "minor" } else { "major" }.to_string();
    let section_value = |s: &structure::Section| session::SectionValue {
        start: round(s.start, 4),
        end: round(s.end, 4),
        label: s.label.clone(),
        side_to_mid_db: None,
        rms_dbfs: None,
    };
    let stereo_sections = secs
        .iter()
        .map(|s| session::SectionValue {
            side_to_mid_db: Some(round(b.side_to_mid_db(s.start, s.end), 2)),
            ..section_value(s)
        })
        .collect();
    let energy_sections = secs
        .iter()
        .map(|s| session::SectionValue {
            rms_dbfs: Some(round(b.rms_dbfs(s.start, s.end), 2)),
            ..section_value(s)
        })
        .collect();
    let swing_pos = sub.offbeat_position;
    stages.done(
        "levels",
        "1",
        json!({"standard": "ITU-R BS.1770-4 / EBU R128", "block_s": crate::level::BLOCK_S}),
    );
    progress.update("levels", 1.0, "done");
    Session {
        schema: session::SCHEMA.to_string(),
        generator: session::Generator {
            name: "auralis".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        source: session::Source {
            path: std::path::absolute(&fe.source.path)
                .unwrap_or_else(|_| fe.source.path.clone())
                .to_string_lossy()
                .into_owned(),
            sha256: fe.sha256.clone(),
            sample_rate: fe.source.sample_rate,
            channels: fe.source.channels,
            duration_s: round(fe.duration_s, 6),
            container: fe.source.container.to_string(),
            codec: fe.source.codec.to_string(),
            original: None,
        },
        tempo: session::Tempo {
            bpm: round(track.bpm, 2),
            map: track
                .map
                .iter()
                .map(|&(t, bpm)| session::TempoPoint {
                    time_s: round(t, 4),
                    bpm: round(bpm, 2),
                })
                .collect(),
            confidence: round(track.confidence, 3),
        },
        meter: session::Meter {
            numerator: m.numerator,
            denominator: m.denominator,
            confidence: round(m.confidence, 3),
        },
        swing: session::Swing {
            offbeat_position: round(swing_pos, 3),
            ratio: round(swing_pos / (1.0 - swing_pos), 3),
            confidence: round(sub.offbeat_strength, 3),
        },
        beats: track.beats.iter().map(|&t| round(t, 4)).collect(),
        downbeats: downbeats.iter().map(|&t| round(t, 4)).collect(),
        key: session::Key {
            label: format!("{tonic} {mode}"),
            tonic,
            mode,
            confidence: round(k.confidence, 3),
        },
        chords: chord_segments
            .into_iter()
            .map(|s| session::Segment {
                start: round(s.start, 4),
                end: round(s.end, 4),
                label: s.label,
            })
            .collect(),
        sections: secs
            .iter()
            .map(|s| session::Segment {
                start: round(s.start, 4),
                end: round(s.end, 4),
                label: s.label.clone(),
            })
            .collect(),
        loudness: session::LoudnessInfo {
            integrated_lufs: round(fe.loudness.integrated_lufs, 2),
            true_peak_dbtp: round(fe.loudness.true_peak_dbtp, 2),
            loudness_range_lu: round(fe.loudness.loudness_range_lu, 2),
            sample_peak_dbfs: round(amp_db(f64::from(b.peak())), 2),
            crest_db: round(b.crest_db(), 2),
        },
        stereo: session::Stereo {
            side_to_mid_db: round(b.side_to_mid_db(0.0, fe.duration_s), 2),
            sections: stereo_sections,
        },
        energy: session::Energy {
            sections: energy_sections,
            frame_rate_hz: ENERGY_FRAME_RATE_HZ,
            curve: b
                .energy_curve(ENERGY_FRAME_RATE_HZ)
                .into_iter()
                .map(|v| round(v, 2))
                .collect(),
        },
        elements: Vec::new(),
        stages: stages.records,
        render_mix: None,
        master: None,
        mix_plan: None,
        qc: None,
        decisions: Vec::new(),
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}
