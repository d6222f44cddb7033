//! Rhythm: tempo, beats, tempo map, meter, downbeats and swing.
//!
//! Stage order: [`beat_novelty`] → [`tempo::estimate_period`] → [`beats::track`] (with local
//! periods) → trimming to the sounding span → [`meter::estimate`] on beat-synchronous
//! evidence (which needs the chroma of the harmony stage) → downbeats.

pub mod beats;
pub mod meter;
pub mod tempo;

use crate::harmony::chroma::{cosine, span_means, Chroma};
use crate::onset::Onsets;

/// The novelty the beat tracker follows: low and mid bands in full, the high band (hats,
/// which mark subdivisions more often than beats) at half weight.
pub fn beat_novelty(o: &Onsets) -> Vec<f32> {
    o.low
        .iter()
        .zip(&o.mid)
        .zip(&o.high)
        .map(|((l, m), h)| l + m + 0.5 * h)
        .collect()
}

/// Tracked beats and the tempo read off them.
#[derive(Debug, Clone, Default)]
pub struct BeatTrack {
    /// Beat times, seconds.
    pub beats: Vec<f64>,
    /// Global tempo, BPM: the mean inter-beat interval when the tempo map has one entry, else
    /// the median.
    pub bpm: f64,
    /// Tempo map: (start, BPM).
    pub map: Vec<(f64, f64)>,
    /// Confidence of the tempo estimate, 0–1.
    pub confidence: f64,
}

/// Tracks the beats of the music sounding between `start_s` and `end_s`; `level_db(a, b)` is the
/// level of the span `[a, b)` and `loud_db` that of the loud passages, for trimming the tail.
pub fn track_beats(
    o: &Onsets,
    start_s: f64,
    end_s: f64,
    level_db: &dyn Fn(f64, f64) -> f64,
    loud_db: f64,
) -> BeatTrack {
    let x = beat_novelty(o);
    if x.len() < 16 {
        return BeatTrack::default();
    }
    let (period, confidence) = tempo::estimate_period(&x, o.frame_rate);
    let local = beats::local_periods(&x, o.frame_rate, period);
    let frames = beats::track(&x, &local);
    let fr = o.frame_rate;
    let start_f = start_s * fr;
    let end_f = end_s * fr;
    let tol = 0.25 * period;
    let dp: Vec<f64> = frames
        .into_iter()
        .filter(|&f| f >= start_f - tol && f <= end_f + tol)
        .collect();
    // Where the pulse is steady, replace the DP path by a rigid grid fitted to the whole span:
    // one phase for the span, so a stretch where off-beats are louder cannot pull the beat
    // half a beat away (the DP optimises locally and would follow it). Tried on the whole
    // track first, then on each stretch of the DP's tempo map.
    let out = match steady_grid(&x, o, &dp) {
        Some(g) => g,
        None => {
            let dp_times: Vec<f64> = dp.iter().map(|f| f / fr).collect();
            let map = beats::tempo_map(&dp_times, 0.04, 8);
            let mut out: Vec<f64> = Vec::new();
            for (i, &(t0, _)) in map.iter().enumerate() {
                let t1 = map.get(i + 1).map(|m| m.0).unwrap_or(f64::MAX);
                let seg: Vec<f64> = dp
                    .iter()
                    .copied()
                    .filter(|&f| f / fr >= t0 - 1e-9 && f / fr < t1 - 1e-9)
                    .collect();
                out.extend(steady_grid(&x, o, &seg).unwrap_or(seg));
            }
            if map.is_empty() {
                dp
            } else {
                out
            }
        }
    };
    let mut beats: Vec<f64> = out.iter().map(|f| f / fr).filter(|&t| t >= 0.0).collect();
    beats::trim_tail(&mut beats, level_db, loud_db);
    let map = beats::tempo_map(&beats, 0.04, 8);
    let bpm = if map.len() == 1 && beats.len() >= 2 {
        // Steady: the mean interval over the whole track, free of frame quantisation.
        60.0 * (beats.len() - 1) as f64 / (beats[beats.len() - 1] - beats[0])
    } else if beats.len() >= 2 {
        let mut ibi: Vec<f64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
        ibi.sort_by(f64::total_cmp);
        60.0 / ibi[ibi.len() / 2]
    } else {
        60.0 * o.frame_rate / period
    };
    BeatTrack {
        beats,
        bpm,
        map,
        confidence,
    }
}

/// Novelty a rigid grid must capture, relative to the DP path over the same span, for the span
/// to count as steady.
const STEADY_CAPTURE: f64 = 0.9;

/// A rigid grid over the span of the DP beats `dp` (frames), or `None` when the span is not
/// steady: the grid (at its beats or half-way between them) must catch [`STEADY_CAPTURE`] of
/// the novelty the DP path catches.
fn steady_grid(x: &[f32], o: &Onsets, dp: &[f64]) -> Option<Vec<f64>> {
    if dp.len() < 8 {
        return None;
    }
    let mut ibi: Vec<f64> = dp.windows(2).map(|w| w[1] - w[0]).collect();
    ibi.sort_by(f64::total_cmp);
    let p0 = ibi[ibi.len() / 2];
    let (a, b) = (dp[0] - 0.5 * p0, dp[dp.len() - 1] + 0.5 * p0);
    let (p, ph) = beats::fit_grid(x, p0, a, b);
    let near = |f: f64| {
        let c = f.round().max(0.0) as usize;
        let hi = (c + 2).min(x.len());
        f64::from(
            (c.saturating_sub(1)..hi)
                .map(|i| x[i])
                .fold(0.0f32, f32::max),
        )
    };
    let dp_sum: f64 = dp.iter().map(|&f| near(f)).sum();
    let grid = beats::grid_beats(x, p, ph, a, b);
    // Phase-agnostic: a half-beat slip of the DP (off-beats louder for a while) is not a
    // departure from a steady pulse, a drift or a tempo change is.
    let grid_sum: f64 = grid.iter().map(|&f| near(f).max(near(f + 0.5 * p))).sum();
    if grid_sum < STEADY_CAPTURE * dp_sum {
        return None;
    }
    let ph = choose_phase(o, p, ph, a, b);
    Some(beats::grid_beats(x, p, ph, a, b))
}

/// Beat or off-beat: the grid at `phase` or shifted by half a period. The drum kit decides:
/// the kick (percussive low band) falls on beats far more often than between them, while hats,
/// off-beat bass lines and stabs often fall between. When the kick gives no clear contrast
/// (under [`KICK_CONTRAST`]), kick and snare together (percussive low + mid) decide, and when
/// neither does (under [`DRUMS_CONTRAST`]) the fitted phase stands.
fn choose_phase(o: &Onsets, period: f64, phase: f64, a: f64, b: f64) -> f64 {
    let sum_at = |x: &dyn Fn(usize) -> f32, ph: f64| {
        let mut t = ph;
        let mut s = 0.0f64;
        while t < b {
            if t >= a {
                let c = t.round() as usize;
                let hi = (c + 2).min(o.perc[0].len());
                s += f64::from((c.saturating_sub(1)..hi).map(x).fold(0.0f32, f32::max));
            }
            t += period;
        }
        s
    };
    let kick = |i: usize| o.perc[0][i];
    let drums = |i: usize| o.perc[0][i] + o.perc[1][i];
    let half = phase + period / 2.0;
    let contrast = |x: &dyn Fn(usize) -> f32| {
        let (on, off) = (sum_at(x, phase), sum_at(x, half));
        if on + off > 0.0 {
            (on - off) / (on + off)
        } else {
            0.0
        }
    };
    let c_kick = contrast(&kick);
    let decisive = if c_kick.abs() >= KICK_CONTRAST {
        c_kick
    } else {
        let c = contrast(&drums);
        if c.abs() >= DRUMS_CONTRAST {
            c
        } else {
            0.0
        }
    };
    if decisive < 0.0 {
        if half >= a + period {
            half - period
        } else {
            half
        }
    } else {
        phase
    }
}

/// Relative kick contrast that decides the beat phase on its own.
const KICK_CONTRAST: f64 = 0.1;
/// Relative kick-and-snare contrast that decides the beat phase.
const DRUMS_CONTRAST: f64 = 0.05;

/// Span edges of the beats: each beat to the next, the last one as long as the median.
pub fn beat_edges(beats: &[f64]) -> Vec<f64> {
    let mut edges = beats.to_vec();
    if beats.len() >= 2 {
        let mut ibi: Vec<f64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
        ibi.sort_by(f64::total_cmp);
        edges.push(beats[beats.len() - 1] + ibi[ibi.len() / 2]);
    } else if let Some(&b) = beats.first() {
        edges.push(b + 0.5);
    }
    edges
}

/// Maximum of `x` within ±`reach` frames of time `t`.
fn peak_near(x: &[f32], frame_rate: f64, t: f64, reach: usize) -> f32 {
    let c = (t * frame_rate).round() as isize;
    let a = (c - reach as isize).max(0) as usize;
    let b = ((c + reach as isize + 1).max(0) as usize).min(x.len());
    x.get(a..b)
        .map(|s| s.iter().copied().fold(0.0, f32::max))
        .unwrap_or(0.0)
}

/// Beat-synchronous evidence for the bar position.
pub fn beat_evidence(o: &Onsets, chroma: &Chroma, beats: &[f64]) -> meter::BeatEvidence {
    let edges = beat_edges(beats);
    let tre = span_means(&chroma.treble, chroma.frame_rate, &edges);
    let bas = span_means(&chroma.bass, chroma.frame_rate, &edges);
    let change = |v: &[[f32; 12]], i: usize| -> f32 {
        // The beat before against this one: one-beat windows, so that bars of two beats
        // (2/4, 6/8) show their changes as clearly as bars of four.
        if i == 0 {
            0.0
        } else {
            1.0 - cosine(&v[i - 1], &v[i])
        }
    };
    meter::BeatEvidence {
        harmonic: (0..beats.len()).map(|i| change(&tre, i)).collect(),
        bass: (0..beats.len()).map(|i| change(&bas, i)).collect(),
        low: beats
            .iter()
            .map(|&b| peak_near(&o.low, o.frame_rate, b, 2))
            .collect(),
        accent: beats
            .iter()
            .map(|&b| peak_near(&o.total, o.frame_rate, b, 2))
            .collect(),
    }
}
