//! What QC measures on one recording, once: the EAR profile (tempo, chords, sections, level
//! blocks) and the signal features the dimensions compare.

use std::path::Path;

use crate::error::Result;
use crate::frontend::ANALYSIS_RATE;
use crate::hands::mel::MelSpec;
use crate::level::LevelBlocks;
use crate::onset::Onsets;
use crate::progress::Silent;
use crate::session::Session;

use super::timbre::TimbreEmbedding;

/// Mel bands of the spectral comparison.
pub const SPECTRAL_BANDS: usize = 24;
/// Length of the spectral comparison's segments, seconds (an eighth note at 60 BPM: coarse
/// enough that a few milliseconds of misalignment do not count, fine enough for a bar's
/// changes).
pub const SEGMENT_S: f64 = 0.5;
/// Window of the crest-factor measurement, seconds.
pub const CREST_WINDOW_S: f64 = 3.0;
/// A kick onset is a peak of the low percussive flux at least this share of its 99th
/// percentile.
pub const KICK_PEAK_SHARE: f32 = 0.2;
/// Kick onsets closer than this are one, seconds.
pub const KICK_MIN_GAP_S: f64 = 0.08;

/// The features of one recording.
#[derive(Debug, Clone)]
pub struct Features {
    /// Duration, seconds.
    pub duration_s: f64,
    /// The EAR profile (tempo, beats, chords, sections, loudness).
    pub session: Session,
    /// Level blocks at the source rate.
    pub blocks: LevelBlocks,
    /// Bass chroma frames (12 per frame) and their frame rate.
    pub bass: Vec<[f32; 12]>,
    /// Frames per second of `bass`.
    pub bass_rate: f64,
    /// Low-end hits: (time in seconds, strength), see [`kick_onsets`].
    pub kicks: Vec<(f64, f64)>,

    /// Mel band powers per [`SEGMENT_S`] segment (`segments × SPECTRAL_BANDS`, linear).
    pub segments: Vec<f32>,
    /// Length of one segment, seconds (close to [`SEGMENT_S`]).
    pub segment_s: f64,
    /// The timbre embedding.
    pub embedding: Vec<f32>,
    /// Which embedding made it.
    pub embedding_name: &'static str,
    /// Reverb time from the decays of the mix's sub-bands, seconds; `None` when fewer than
    /// five decays could be measured.
    pub rt60_s: Option<f64>,
    /// Crest factor: the median over sounding [`CREST_WINDOW_S`] windows of sample peak over
    /// RMS, dB.
    pub crest_db: Option<f64>,
}

impl Features {
    /// Decodes and measures the audio file at `path`.
    pub fn measure(path: &Path, embedder: &dyn TimbreEmbedding) -> Result<Self> {
        let a = crate::profile::analyze(path, None, &Silent)?;
        let (segments, segment_s) = mel_segments(&a.mono, ANALYSIS_RATE);
        let (embedding, rt60_s) = std::thread::scope(|s| {
            let rt = s.spawn(|| {
                crate::effects::room::from_decays(&a.mono, ANALYSIS_RATE).map(|r| r.rt60_s)
            });
            let e = embedder.embed(&a.mono, ANALYSIS_RATE);
            (e, rt.join().unwrap_or(None))
        });
        Ok(Self {
            duration_s: a.session.source.duration_s,
            crest_db: crest_db(&a.blocks),
            kicks: kick_onsets(&a.onsets),

            bass: a.chroma.bass,
            bass_rate: a.chroma.frame_rate,
            blocks: a.blocks,
            session: a.session,
            segments,
            segment_s,
            embedding,
            embedding_name: embedder.name(),
            rt60_s,
        })
    }
}

/// Mel band powers summed over segments of about [`SEGMENT_S`].
fn mel_segments(mono: &[f32], rate: u32) -> (Vec<f32>, f64) {
    let hop = 1024;
    let mut spec = MelSpec::new(rate, 2048, hop, SPECTRAL_BANDS);
    let p = spec.powers(mono);
    let per = ((SEGMENT_S * f64::from(rate) / hop as f64).round() as usize).max(1);
    let frames = p.len() / SPECTRAL_BANDS;
    let mut out = Vec::with_capacity(frames.div_ceil(per) * SPECTRAL_BANDS);
    for chunk in p.chunks(per * SPECTRAL_BANDS) {
        let n = (chunk.len() / SPECTRAL_BANDS).max(1) as f32;
        let mut acc = [0.0f32; SPECTRAL_BANDS];
        for f in chunk.chunks_exact(SPECTRAL_BANDS) {
            for (a, &x) in acc.iter_mut().zip(f) {
                *a += x;
            }
        }
        out.extend(acc.iter().map(|a| a / n));
    }
    (out, per as f64 * hop as f64 / f64::from(rate))
}

/// Low-end hits: peaks of the percussive flux below 200 Hz (after the median-filter
/// harmonic/percussive split, so that held notes do not count): the kick drum, and on a full
/// mix also the attacks of bass notes and a snare's body, which no band split tells from a
/// kick without separating the drums. What the ear follows as the low end's rhythm.
pub fn kick_onsets(o: &Onsets) -> Vec<(f64, f64)> {
    let x = &o.perc[0];
    if x.is_empty() {
        return Vec::new();
    }
    let mut sorted = x.clone();
    sorted.sort_by(f32::total_cmp);
    let p99 = sorted[((sorted.len() - 1) as f64 * 0.99) as usize];
    if p99 <= 0.0 {
        return Vec::new();
    }
    let thr = KICK_PEAK_SHARE * p99;
    let reach = (0.035 * o.frame_rate).round().max(1.0) as usize;
    let gap = KICK_MIN_GAP_S * o.frame_rate;
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut last: Option<usize> = None;
    for t in 0..x.len() {
        if x[t] < thr {
            continue;
        }
        let a = t.saturating_sub(reach);
        let b = (t + reach + 1).min(x.len());
        // The first frame of the window's maximum.
        let is_peak = x[a..b].iter().all(|&v| v <= x[t]) && x[a..t].iter().all(|&v| v < x[t]);
        if !is_peak {
            continue;
        }
        if last.is_some_and(|l| ((t - l) as f64) < gap) {
            continue;
        }
        last = Some(t);
        out.push((t as f64 / o.frame_rate, f64::from(x[t])));
    }
    out
}

/// See [`Features::crest_db`].
pub fn crest_db(b: &LevelBlocks) -> Option<f64> {
    let per = ((CREST_WINDOW_S / b.block_s()).round() as usize).max(1);
    let windows: Vec<(f64, f64)> = b
        .sum_sq
        .chunks(per)
        .zip(b.frames.chunks(per))
        .zip(b.peak.chunks(per))
        .filter(|((_, f), _)| f.len() * 2 > per)
        .map(|((s, f), p)| {
            let frames: f64 = f.iter().map(|&x| f64::from(x)).sum();
            let rms = (s.iter().sum::<f64>() / (2.0 * frames.max(1.0))).sqrt();
            let peak = f64::from(p.iter().copied().fold(0.0f32, f32::max));
            (rms, peak)
        })
        .collect();
    let loud = windows.iter().map(|w| w.0).fold(0.0, f64::max);
    if loud <= 0.0 {
        return None;
    }
    // Sounding windows: within 30 dB of the loudest.
    let mut crest: Vec<f64> = windows
        .iter()
        .filter(|w| w.0 > loud * 10f64.powf(-30.0 / 20.0))
        .map(|w| 20.0 * (w.1 / w.0).log10())
        .collect();
    crate::effects::median(&mut crest)
}
