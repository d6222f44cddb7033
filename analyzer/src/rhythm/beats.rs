//! Beat tracking by dynamic programming, and the tempo map read off the beats.
//!
//! Reference: D. P. W. Ellis, "Beat tracking by dynamic programming", J. New Music Research
//! 36(1), 2007. The best beat sequence maximises the novelty at the beats minus a penalty
//! `λ · ln²(Δ/τ)` on every inter-beat interval `Δ` that departs from the target period `τ`.
//!
//! Notes, where this departs from the paper:
//! - the target period is local (`τ(t)`, from a sliding-window autocorrelation restricted to
//!   ±30 % of the global period), so the tracker follows tempo changes and drift;
//! - beat times are refined to sub-frame precision by parabolic interpolation of the novelty
//!   peak they sit on;
//! - beats before the music starts and after it ends (silence, reverb tails) are dropped using
//!   the level envelope, not the novelty, so quiet held chords keep their beats.

use super::tempo::{autocorrelation, detrend, interp};

/// Transition tightness λ (Ellis' default, for a novelty normalised to unit deviation).
const TIGHTNESS: f64 = 100.0;
/// Window of the local-period estimate, seconds.
const LOCAL_WINDOW_S: f64 = 8.0;
/// Hop of the local-period estimate, seconds.
const LOCAL_HOP_S: f64 = 1.0;

/// Local beat period per frame: the autocorrelation peak nearest `global` within ±30 % in
/// windows of [`LOCAL_WINDOW_S`], interpolated to every frame.
pub fn local_periods(x: &[f32], frame_rate: f64, global: f64) -> Vec<f64> {
    let n = x.len();
    let win = (LOCAL_WINDOW_S * frame_rate) as usize;
    let hop = ((LOCAL_HOP_S * frame_rate) as usize).max(1);
    if n < win * 2 {
        return vec![global; n];
    }
    let detrended = detrend(x, frame_rate as usize);
    let lo = global / 1.3;
    let hi = global * 1.3;
    let mut centres = Vec::new();
    let mut periods = Vec::new();
    let mut start = 0;
    while start + win <= n {
        let r = autocorrelation(&detrended[start..start + win], (hi * 2.0) as usize + 2);
        let mut best = (f64::MIN, global);
        let mut lag = lo;
        while lag <= hi {
            // Include the second multiple so that one noisy window cannot jump an octave.
            let v = interp(&r, lag) + 0.5 * interp(&r, 2.0 * lag);
            // A mild pull towards the global period breaks ties between near-equal peaks.
            let pull = 1.0 - 0.1 * ((lag / global).ln()).abs();
            if v * pull > best.0 {
                best = (v * pull, lag);
            }
            lag += 0.1;
        }
        centres.push(start + win / 2);
        periods.push(best.1);
        start += hop;
    }
    // Median-smooth over five windows: a tempo change lasts, a glitch does not.
    let smoothed: Vec<f64> = (0..periods.len())
        .map(|i| {
            let a = i.saturating_sub(2);
            let b = (i + 3).min(periods.len());
            let mut w: Vec<f64> = periods[a..b].to_vec();
            w.sort_by(f64::total_cmp);
            w[w.len() / 2]
        })
        .collect();
    let mut out = vec![0.0; n];
    for (t, o) in out.iter_mut().enumerate() {
        let j = centres.partition_point(|&c| c <= t);
        *o = if j == 0 {
            smoothed[0]
        } else if j >= centres.len() {
            smoothed[centres.len() - 1]
        } else {
            let (c0, c1) = (centres[j - 1] as f64, centres[j] as f64);
            let f = (t as f64 - c0) / (c1 - c0);
            smoothed[j - 1] * (1.0 - f) + smoothed[j] * f
        };
    }
    out
}

/// Tracks beats on novelty `x` with local periods `period` (frames). Returns beat positions in
/// (fractional) frames.
pub fn track(x: &[f32], period: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let sd = (x
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt()
        .max(1e-12);
    let o: Vec<f64> = x.iter().map(|&v| f64::from(v) / sd).collect();
    let mut score = vec![0.0f64; n];
    let mut back = vec![usize::MAX; n];
    for t in 0..n {
        let tau = period[t];
        let lo = t as f64 - 2.0 * tau;
        let hi = t as f64 - tau / 2.0;
        let mut best = (f64::MIN, usize::MAX);
        if hi >= 0.0 {
            let a = lo.max(0.0).round() as usize;
            let b = hi.round() as usize;
            let b = b.min(t.saturating_sub(1));
            for (p, &sp) in score.iter().enumerate().take(b + 1).skip(a) {
                let d = ((t - p) as f64 / tau).ln();
                let s = sp - TIGHTNESS * d * d;
                if s > best.0 {
                    best = (s, p);
                }
            }
        }
        if best.1 != usize::MAX && best.0 > 0.0 {
            score[t] = o[t] + best.0;
            back[t] = best.1;
        } else {
            score[t] = o[t];
        }
    }
    // End on the best-scoring frame within the last period.
    let tail = (period[n - 1].round() as usize).min(n);
    let mut t = (n - tail..n)
        .max_by(|&a, &b| score[a].total_cmp(&score[b]))
        .unwrap_or(n - 1);
    let mut beats = vec![t];
    while back[t] != usize::MAX {
        t = back[t];
        beats.push(t);
    }
    beats.reverse();
    beats
        .into_iter()
        .map(|b| {
            if b == 0 || b + 1 >= n {
                return b as f64;
            }
            let (l, c, r) = (o[b - 1], o[b], o[b + 1]);
            let den = l - 2.0 * c + r;
            if c >= l && c >= r && den < 0.0 {
                b as f64 + (0.5 * (l - r) / den).clamp(-0.5, 0.5)
            } else {
                b as f64
            }
        })
        .collect()
}

/// Sum of the novelty maxima (±1 frame) at `phase + k·period` for grid points in `[a, b)`.
fn grid_score(x: &[f32], period: f64, phase: f64, a: f64, b: f64) -> f64 {
    let mut t = phase;
    let mut s = 0.0;
    while t < b {
        if t >= a {
            let c = t.round() as usize;
            let lo = c.saturating_sub(1);
            let hi = (c + 2).min(x.len());
            if lo < hi {
                s += f64::from(x[lo..hi].iter().copied().fold(0.0f32, f32::max));
            }
        }
        t += period;
    }
    s
}

/// Fits a rigid beat grid (constant period, one phase) to novelty `x` over frames `[a, b)`,
/// starting from `period0`: a coarse-to-fine search of period (±2 %) and phase that maximises
/// the novelty on the grid. Returns `(period, phase)` with `phase` in `[a, a + period)`.
pub fn fit_grid(x: &[f32], period0: f64, a: f64, b: f64) -> (f64, f64) {
    let mut best = (f64::MIN, period0, a);
    let search = |best: &mut (f64, f64, f64),
                  p_lo: f64,
                  p_hi: f64,
                  p_step: f64,
                  ph_lo: f64,
                  ph_hi: f64,
                  ph_step: f64| {
        let mut p = p_lo;
        while p <= p_hi {
            let mut ph = ph_lo;
            while ph < ph_hi {
                let s = grid_score(x, p, ph, a, b);
                if s > best.0 {
                    *best = (s, p, ph);
                }
                ph += ph_step;
            }
            p += p_step;
        }
    };
    search(
        &mut best,
        period0 * 0.98,
        period0 * 1.02,
        period0 * 0.001,
        a,
        a + period0,
        1.0,
    );
    let (p1, ph1) = (best.1, best.2);
    search(
        &mut best,
        p1 - period0 * 0.001,
        p1 + period0 * 0.001,
        period0 * 0.0001,
        ph1 - 1.0,
        ph1 + 1.0,
        0.25,
    );
    let (period, mut phase) = (best.1, best.2);
    while phase < a {
        phase += period;
    }
    while phase >= a + period {
        phase -= period;
    }
    (period, phase)
}

/// Beat positions (frames) of a rigid grid over `[a, b)`, each moved to the novelty peak within
/// ±2 frames when there is one (micro-timing), else kept on the grid.
pub fn grid_beats(x: &[f32], period: f64, phase: f64, a: f64, b: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut t = phase;
    while t < b {
        if t >= a {
            let c = t.round() as isize;
            let mut best = (f32::MIN, c);
            for k in c - 2..=c + 2 {
                if k > 0 && (k as usize) + 1 < x.len() {
                    let v = x[k as usize];
                    if v > x[k as usize - 1] && v >= x[k as usize + 1] && v > best.0 {
                        best = (v, k);
                    }
                }
            }
            if best.0 > f32::MIN {
                let k = best.1 as usize;
                let (l, c2, r) = (f64::from(x[k - 1]), f64::from(x[k]), f64::from(x[k + 1]));
                let den = l - 2.0 * c2 + r;
                let d = if den < 0.0 {
                    (0.5 * (l - r) / den).clamp(-0.5, 0.5)
                } else {
                    0.0
                };
                out.push(k as f64 + d);
            } else {
                out.push(t);
            }
        }
        t += period;
    }
    out
}

/// Level drop (dB) from one beat to the next that marks the final release: a trailing beat
/// whose first half-beat is this much quieter than the beat before it lies in the tail.
pub const TAIL_DROP_DB: f64 = 6.0;

/// Drops trailing beats that fall in the release and reverb tail after the last notes: walking
/// back from the end, a beat goes while the level of its first half-beat lies
/// [`TAIL_DROP_DB`] below the level of the beat before it, or [`ACTIVE_RANGE_DB`] below the
/// loud passages. A drop inside the music (a breakdown) is never reached: the walk stops at the
/// first beat that still sounds.
pub fn trim_tail(beats: &mut Vec<f64>, level_db: &dyn Fn(f64, f64) -> f64, loud_db: f64) {
    while beats.len() >= 2 {
        let n = beats.len();
        let (prev, last) = (beats[n - 2], beats[n - 1]);
        let period = last - prev;
        let here = level_db(last, last + 0.5 * period);
        let before = level_db(prev, last);
        if here < before - TAIL_DROP_DB || here < loud_db - ACTIVE_RANGE_DB {
            beats.pop();
        } else {
            break;
        }
    }
}

/// Level range (dB below the loud passages) within which the music counts as sounding.
pub const ACTIVE_RANGE_DB: f64 = 30.0;

/// A piecewise-constant tempo map from beat times: a new entry starts where the smoothed
/// inter-beat interval departs by more than `tolerance` (fraction) from the current entry for
/// at least `min_beats` beats in a row.
pub fn tempo_map(beats: &[f64], tolerance: f64, min_beats: usize) -> Vec<(f64, f64)> {
    if beats.len() < 3 {
        return Vec::new();
    }
    let ibi: Vec<f64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
    let smooth: Vec<f64> = (0..ibi.len())
        .map(|i| {
            let a = i.saturating_sub(3);
            let b = (i + 4).min(ibi.len());
            let mut w = ibi[a..b].to_vec();
            w.sort_by(f64::total_cmp);
            w[w.len() / 2]
        })
        .collect();
    let median_of = |s: &[f64]| {
        let mut w = s.to_vec();
        w.sort_by(f64::total_cmp);
        w[w.len() / 2]
    };
    let mut starts = vec![0usize];
    let mut i = 0;
    while i < smooth.len() {
        let seg_start = *starts.last().unwrap_or(&0);
        let current = median_of(&smooth[seg_start..=i.max(seg_start)]);
        let run = smooth[i..]
            .iter()
            .take_while(|&&v| ((v - current) / current).abs() > tolerance)
            .count();
        if run >= min_beats && i > seg_start + min_beats {
            starts.push(i);
            i += run;
        } else {
            i += 1;
        }
    }
    starts.push(ibi.len());
    starts
        .windows(2)
        .map(|w| (beats[w[0]], 60.0 / median_of(&ibi[w[0]..w[1]])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_a_pulse_train_exactly() {
        let fr = 86.13;
        let period = 60.0 * fr / 100.0;
        let mut x = vec![0.05f32; 3000];
        let mut t: f64 = 20.0;
        let mut truth = Vec::new();
        while t < 2990.0 {
            x[t.round() as usize] = 1.0;
            truth.push(t.round());
            t += period;
        }
        let beats = track(&x, &vec![period; x.len()]);
        let hits = truth
            .iter()
            .filter(|&&b| beats.iter().any(|&e| (e - b).abs() <= 1.0))
            .count();
        assert!(hits >= truth.len() - 1, "{hits}/{}", truth.len());
        assert!(beats.len() <= truth.len() + 1);
    }

    #[test]
    fn tempo_map_finds_one_change() {
        let mut beats = Vec::new();
        let mut t = 0.0;
        for _ in 0..40 {
            beats.push(t);
            t += 0.5;
        }
        for _ in 0..40 {
            beats.push(t);
            t += 0.4;
        }
        let map = tempo_map(&beats, 0.03, 6);
        assert_eq!(map.len(), 2, "{map:?}");
        assert!((map[0].1 - 120.0).abs() < 0.5);
        assert!((map[1].1 - 150.0).abs() < 0.5);
        assert!((map[1].0 - 20.0).abs() < 2.1, "{map:?}");
    }

    #[test]
    fn steady_tempo_with_jitter_is_one_entry() {
        let beats: Vec<f64> = (0..100)
            .map(|i| i as f64 * 0.5 + if i % 2 == 0 { 0.008 } else { -0.008 })
            .collect();
        assert_eq!(tempo_map(&beats, 0.03, 6).len(), 1);
    }
}
