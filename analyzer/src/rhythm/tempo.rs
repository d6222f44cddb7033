//! Global tempo: which pulse is the beat.
//!
//! Method:
//! 1. The beat-tracking novelty `x` (see [`super::beat_novelty`]) is detrended and its
//!    autocorrelation `r` computed through the FFT.
//! 2. Candidate periods are the peaks of the harmonically enhanced autocorrelation
//!    `r(τ) + r(2τ)/2 + r(4τ)/4` between [`MIN_BPM`] and [`MAX_BPM`] — the "enhanced
//!    autocorrelation" of Percival & Tzanetakis (IEEE/ACM TASLP 22(12), 2014), which favours
//!    periods whose multiples also repeat.
//! 3. Each candidate's *pulse salience* is measured directly on the novelty: the pulse grid
//!    with the best phase is laid over it, and we take the mean novelty on the grid against the
//!    mean novelty half-way between grid points. A log-normal prior on tempo (centre
//!    [`PRIOR_CENTRE_BPM`], one octave wide: Moelants & McKinney, "Tempo perception and musical
//!    content", ICMPC 2004) weighs the candidates.
//! 4. Octave decision: between a period and its half, the faster pulse is preferred when the
//!    events half-way between the slower pulse's beats are nearly as strong as those on its
//!    beats (then those in-between events are beats too, not subdivisions).
//!
//! Notes: the paper's final octave step is a trained classifier; step 4 replaces it with the
//! explicit rule, which needs no training data.

use realfft::RealFftPlanner;

/// Slowest tempo reported, BPM.
pub const MIN_BPM: f64 = 40.0;
/// Fastest tempo reported, BPM.
pub const MAX_BPM: f64 = 240.0;
/// Centre of the tempo prior, BPM.
pub const PRIOR_CENTRE_BPM: f64 = 115.0;
/// Width (standard deviation) of the tempo prior, octaves.
pub const PRIOR_OCTAVES: f64 = 1.0;

/// Autocorrelation of `x` for lags `0..max_lag`, normalised by the overlap length.
pub fn autocorrelation(x: &[f32], max_lag: usize) -> Vec<f64> {
    let n = x.len();
    let size = (2 * n).next_power_of_two().max(2);
    let mut planner = RealFftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(size);
    let inv = planner.plan_fft_inverse(size);
    let mut buf = fwd.make_input_vec();
    for (b, &v) in buf.iter_mut().zip(x) {
        *b = f64::from(v);
    }
    let mut spec = fwd.make_output_vec();
    let _ = fwd.process(&mut buf, &mut spec);
    for c in spec.iter_mut() {
        *c = realfft::num_complex::Complex::new(c.norm_sqr(), 0.0);
    }
    let _ = inv.process(&mut spec, &mut buf);
    (0..max_lag.min(n))
        .map(|l| buf[l] / size as f64 / (n - l) as f64)
        .collect()
}

/// Linear interpolation of `r` at fractional lag `lag` (0 past the end).
pub fn interp(r: &[f64], lag: f64) -> f64 {
    let i = lag.floor() as usize;
    if i + 1 >= r.len() {
        return 0.0;
    }
    let f = lag - i as f64;
    r[i] * (1.0 - f) + r[i + 1] * f
}

/// Removes the local mean (moving average over `win` frames).
pub fn detrend(x: &[f32], win: usize) -> Vec<f32> {
    let n = x.len();
    let mut prefix = vec![0.0f64; n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] + f64::from(x[i]);
    }
    (0..n)
        .map(|i| {
            let a = i.saturating_sub(win / 2);
            let b = (i + win / 2 + 1).min(n);
            x[i] - ((prefix[b] - prefix[a]) / (b - a) as f64) as f32
        })
        .collect()
}

/// Log-normal tempo prior (unnormalised, 1 at the centre).
pub fn prior(bpm: f64) -> f64 {
    let d = (bpm / PRIOR_CENTRE_BPM).log2() / PRIOR_OCTAVES;
    (-0.5 * d * d).exp()
}

/// Pulse salience of period `period` (frames) on novelty `x`.
#[derive(Debug, Clone, Copy)]
pub struct Pulse {
    /// Period, frames.
    pub period: f64,
    /// Mean novelty on the grid over the mean novelty of the track.
    pub on: f64,
    /// Mean novelty half-way between grid points over the mean on the grid.
    pub mid_ratio: f64,
    /// Mean novelty at a third and two thirds of the way between grid points over the mean on
    /// the grid (a ternary subdivision).
    pub third_ratio: f64,
}

/// Window over which a pulse grid is laid with its own phase, seconds: long enough for a
/// dozen beats, short enough that a period known to ±1 % cannot drift off the onsets.
pub const PULSE_WINDOW_S: f64 = 8.0;

/// Mean of the local maxima (±`reach` frames) of `x[a..b]` at `phase + k·period`.
fn grid_mean(x: &[f32], a: usize, b: usize, period: f64, phase: f64, reach: usize) -> f64 {
    let mut sum = 0.0;
    let mut count = 0usize;
    let mut t = a as f64 + phase;
    while t < b as f64 {
        let c = t.round() as usize;
        let lo = c.saturating_sub(reach).max(a);
        let hi = (c + reach + 1).min(b);
        if lo < hi {
            sum += f64::from(x[lo..hi].iter().copied().fold(f32::MIN, f32::max));
            count += 1;
        }
        t += period;
    }
    if count == 0 {
        0.0
    } else {
        sum / count as f64
    }
}

/// Measures the pulse of period `period` frames on `x` (non-negative novelty at
/// `frame_rate`): in each [`PULSE_WINDOW_S`] window the grid takes its best phase and a period
/// within ±1 % (so that neither drift nor the coarse lag of the autocorrelation peak matters),
/// and the window means are pooled.
pub fn pulse(x: &[f32], period: f64, frame_rate: f64) -> Pulse {
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len().max(1) as f64;
    let win = ((PULSE_WINDOW_S * frame_rate) as usize).max((4.0 * period) as usize);
    let (mut on_sum, mut mid_sum, mut third_sum) = (0.0, 0.0, 0.0);
    let mut a = 0;
    while a < x.len() {
        let b = (a + win).min(x.len());
        if (b - a) as f64 >= 2.0 * period {
            let mut best = (f64::MIN, period, 0.0);
            for k in -5..=5 {
                let p = period * (1.0 + 0.002 * f64::from(k));
                let steps = (p.round() as usize).max(1);
                for s in 0..steps {
                    let phase = s as f64 * p / steps as f64;
                    let m = grid_mean(x, a, b, p, phase, 1);
                    if m > best.0 {
                        best = (m, p, phase);
                    }
                }
            }
            let (on_w, p, phase) = best;
            on_sum += on_w * (b - a) as f64;
            mid_sum += grid_mean(x, a, b, p, phase + p / 2.0, 1) * (b - a) as f64;
            third_sum += 0.5
                * (grid_mean(x, a, b, p, phase + p / 3.0, 1)
                    + grid_mean(x, a, b, p, phase + 2.0 * p / 3.0, 1))
                * (b - a) as f64;
        }
        a = b;
    }
    let on_mean = on_sum / x.len().max(1) as f64;
    Pulse {
        period,
        on: on_mean / mean.max(1e-12),
        mid_ratio: mid_sum / on_sum.max(1e-12),
        third_ratio: third_sum / on_sum.max(1e-12),
    }
}

/// Candidate beat periods (frames): peaks of the enhanced autocorrelation, strongest first.
pub fn candidates(r: &[f64], frame_rate: f64) -> Vec<(f64, f64)> {
    let lag_min = 60.0 * frame_rate / MAX_BPM;
    let lag_max = 60.0 * frame_rate / MIN_BPM;
    let enhanced =
        |lag: f64| interp(r, lag) + 0.5 * interp(r, 2.0 * lag) + 0.25 * interp(r, 4.0 * lag);
    let mut out = Vec::new();
    let mut lag = lag_min.floor().max(2.0);
    let step = 0.25;
    let mut prev2 = f64::MIN;
    let mut prev1 = enhanced(lag);
    while lag + step <= lag_max {
        let next = enhanced(lag + step);
        if prev1 > prev2 && prev1 >= next && prev1 > 0.0 {
            out.push((lag, prev1));
        }
        prev2 = prev1;
        prev1 = next;
        lag += step;
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.truncate(10);
    out
}

/// Octave rule: between a pulse and its double, the faster one is the beat when the events
/// half-way between the slower pulse's beats reach this fraction of those on its beats.
pub const FASTER_MID_RATIO: f64 = 0.35;
/// The octave rule never moves the beat above this tempo, BPM (beats faster than this are
/// rarely what listeners tap; double-time drum and bass at 170–180 stays reachable).
pub const FASTEST_BEAT_BPM: f64 = 185.0;
/// Slowest tempo the octave rule moves down to, BPM.
pub const SLOWEST_BEAT_BPM: f64 = 50.0;

/// Estimates the beat period (frames) of novelty `x`. Returns the period and a confidence.
pub fn estimate_period(x: &[f32], frame_rate: f64) -> (f64, f64) {
    let detrended = detrend(x, (frame_rate * 1.0) as usize);
    let max_lag = (60.0 * frame_rate / MIN_BPM * 4.0) as usize + 2;
    let r = autocorrelation(&detrended, max_lag);
    let cands = candidates(&r, frame_rate);
    if cands.is_empty() {
        return (60.0 * frame_rate / PRIOR_CENTRE_BPM, 0.0);
    }
    let bpm = |p: f64| 60.0 * frame_rate / p;
    // A beat pulse has strong events on its grid and, usually, a subdivision — half-way, or
    // at the thirds in compound meters: score the grid and its subdivision together, so that a
    // grouping in threes of a binary pulse (or in twos of a ternary one) loses to the true
    // pulse.
    let score = |p: f64, ac: f64| {
        let pl = pulse(x, p, frame_rate);
        let subdivision = pl.mid_ratio.max(pl.third_ratio);
        ac.max(0.0).sqrt() * pl.on * (1.0 + subdivision) * 0.5 * prior(bpm(p))
    };
    let mut scored: Vec<(f64, f64)> = cands.iter().map(|&(p, ac)| (p, score(p, ac))).collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut period = scored[0].0;
    // Octave decision, one rule in both directions.
    loop {
        let half = period / 2.0;
        if bpm(half) <= FASTEST_BEAT_BPM
            && pulse(x, period, frame_rate).mid_ratio >= FASTER_MID_RATIO
        {
            period = half;
        } else {
            break;
        }
    }
    loop {
        let double = period * 2.0;
        if bpm(double) >= SLOWEST_BEAT_BPM
            && pulse(x, double, frame_rate).mid_ratio < FASTER_MID_RATIO
        {
            period = double;
        } else {
            break;
        }
    }
    let total: f64 = scored.iter().map(|s| s.1.max(0.0)).sum();
    let conf = if total > 0.0 {
        scored[0].1.max(0.0) / total
    } else {
        0.0
    };
    (period, conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pulses(n: usize, period: f64, phase: f64, amp: &[f32]) -> Vec<f32> {
        let mut x = vec![0.0f32; n];
        let mut k = 0;
        let mut t = phase;
        while (t as usize) < n {
            x[t.round() as usize] = amp[k % amp.len()];
            k += 1;
            t += period;
        }
        x
    }

    #[test]
    fn autocorrelation_matches_naive() {
        let x: Vec<f32> = (0..300).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
        let r = autocorrelation(&x, 50);
        for l in [0, 1, 7, 49] {
            let naive: f64 = (0..300 - l)
                .map(|i| f64::from(x[i]) * f64::from(x[i + l]))
                .sum::<f64>()
                / (300 - l) as f64;
            assert!((r[l] - naive).abs() < 1e-9, "lag {l}");
        }
    }

    #[test]
    fn equal_pulses_at_120_bpm() {
        let fr = 86.13;
        let x = pulses(3000, 60.0 * fr / 120.0, 10.0, &[1.0]);
        let (p, _) = estimate_period(&x, fr);
        assert!((60.0 * fr / p - 120.0).abs() < 2.0, "{}", 60.0 * fr / p);
    }

    #[test]
    fn backbeat_pattern_is_not_halved() {
        // Strong-weak-strong-weak at 170 BPM with weak eighth-note fillers.
        let fr = 86.13;
        let beat = 60.0 * fr / 170.0;
        let mut x = pulses(4000, beat, 5.0, &[1.0, 0.9, 0.6, 0.9]);
        for (i, v) in pulses(4000, beat, 5.0 + beat / 2.0, &[0.25])
            .into_iter()
            .enumerate()
        {
            x[i] += v;
        }
        let (p, _) = estimate_period(&x, fr);
        assert!((60.0 * fr / p - 170.0).abs() < 3.0, "{}", 60.0 * fr / p);
    }
}
