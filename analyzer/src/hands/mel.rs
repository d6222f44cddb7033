//! Log-mel spectra and the log-spectral distance between two renderings of a part.
//!
//! The distance is the benchmark's timbre measure and the fitter's loss: for each frame where
//! the reference sounds (within [`ACTIVE_DB`] of its loudest frame), the RMS over mel bands of
//! the difference of the two log-mel spectra, in dB, averaged over those frames (the
//! "log-spectral distance" of speech coding, on a mel scale). Powers are floored
//! [`FLOOR_DB`] below the reference's loudest band, so silence on one side counts as a large
//! but finite difference.
//!
//! Mel scale: HTK (2595·log10(1 + f/700)), triangular filters on the power spectrum, bands
//! spaced evenly in mel from 0 Hz to Nyquist. Frames are Hann windowed and centred (frame t
//! on sample t·hop, zero-padded), as in [`crate::spectrum`].

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};

/// A frame counts when the reference is within this many dB of its loudest frame.
pub const ACTIVE_DB: f64 = 40.0;
/// Band powers are floored this many dB below the reference's loudest band.
pub const FLOOR_DB: f64 = 80.0;

/// A reusable log-mel analyser (owns its FFT plan and buffers; single-threaded).
pub struct MelSpec {
    n_fft: usize,
    hop: usize,
    bands: usize,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// Per band: first bin and the triangle's weights from there.
    filters: Vec<(usize, Vec<f32>)>,
    /// Centre frequency of each band, Hz.
    centres: Vec<f64>,
    input: Vec<f32>,
    output: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

fn hz_to_mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

impl MelSpec {
    /// An analyser for `rate` Hz with an `n_fft`-point window, `hop` samples and `bands` bands.
    pub fn new(rate: u32, n_fft: usize, hop: usize, bands: usize) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(n_fft);
        let window = (0..n_fft)
            .map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n_fft as f64).cos()) as f32)
            .collect();
        let bin_hz = rate as f64 / n_fft as f64;
        let top = hz_to_mel(rate as f64 / 2.0);
        let edges: Vec<f64> = (0..bands + 2)
            .map(|i| mel_to_hz(top * i as f64 / (bands + 1) as f64))
            .collect();
        let bins = n_fft / 2 + 1;
        let filters = (0..bands)
            .map(|b| {
                let (lo, mid, hi) = (edges[b], edges[b + 1], edges[b + 2]);
                let first = ((lo / bin_hz).floor() as usize).min(bins - 1);
                let last = ((hi / bin_hz).ceil() as usize).min(bins - 1);
                let mut w: Vec<f32> = (first..=last)
                    .map(|k| {
                        let f = k as f64 * bin_hz;
                        let v = if f <= mid {
                            (f - lo) / (mid - lo).max(1e-9)
                        } else {
                            (hi - f) / (hi - mid).max(1e-9)
                        };
                        v.max(0.0) as f32
                    })
                    .collect();
                // Low bands narrower than a bin still take the bin they fall in.
                if w.iter().all(|&x| x == 0.0) {
                    let k = ((mid / bin_hz).round() as usize).clamp(first, last);
                    w[k - first] = 1.0;
                }
                (first, w)
            })
            .collect();
        let input = fft.make_input_vec();
        let output = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        let centres = edges[1..=bands].to_vec();
        Self {
            n_fft,
            hop,
            bands,
            fft,
            window,
            filters,
            centres,
            input,
            output,
            scratch,
        }
    }

    /// Number of bands.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Centre frequency of each band, Hz.
    pub fn centres(&self) -> &[f64] {
        &self.centres
    }

    /// Mel band powers of every frame of `x`, frame-major (`frames × bands`).
    pub fn powers(&mut self, x: &[f32]) -> Vec<f32> {
        let frames = x.len() / self.hop + 1;
        let mut out = Vec::with_capacity(frames * self.bands);
        for t in 0..frames {
            let start = (t * self.hop) as isize - (self.n_fft / 2) as isize;
            for (i, (v, &w)) in self.input.iter_mut().zip(&self.window).enumerate() {
                let idx = start + i as isize;
                *v = if idx >= 0 && (idx as usize) < x.len() {
                    x[idx as usize] * w
                } else {
                    0.0
                };
            }
            // Buffers come from the plan: the lengths match, so this cannot fail.
            let _ =
                self.fft
                    .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch);
            for (first, w) in &self.filters {
                let p: f32 = w
                    .iter()
                    .zip(&self.output[*first..])
                    .map(|(&wt, c)| wt * c.norm_sqr())
                    .sum();
                out.push(p);
            }
        }
        out
    }
}

/// The log-spectral distance of `candidate` from `reference` (dB) and the number of active
/// frames it averages; `None` when the reference has no active frame.
pub fn distance(spec: &mut MelSpec, reference: &[f32], candidate: &[f32]) -> Option<(f64, usize)> {
    let r = spec.powers(reference);
    let c = spec.powers(candidate);
    distance_of_powers(&r, &c, spec.bands())
}

/// The reference's active frames (within [`ACTIVE_DB`] of its loudest frame) among the first
/// `frames`, and the power floor ([`FLOOR_DB`] under its loudest band) every distance adds;
/// `None` when the reference is silent.
fn active_frames(r: &[f32], frames: usize, bands: usize) -> Option<(Vec<usize>, f64)> {
    let frame_power = |t: usize| -> f64 {
        r[t * bands..(t + 1) * bands]
            .iter()
            .map(|&p| p as f64)
            .sum()
    };
    let loudest = (0..frames).map(frame_power).fold(0.0f64, f64::max);
    let band_max = r[..frames * bands].iter().fold(0.0f32, |m, &p| m.max(p)) as f64;
    if frames == 0 || loudest <= 0.0 || band_max <= 0.0 {
        return None;
    }
    let active = loudest * 10f64.powf(-ACTIVE_DB / 10.0);
    let frames: Vec<usize> = (0..frames).filter(|&t| frame_power(t) >= active).collect();
    (!frames.is_empty()).then(|| (frames, band_max * 10f64.powf(-FLOOR_DB / 10.0)))
}

/// Mean over the reference's active frames of the per-band difference reference − candidate,
/// dB (floored as [`distance`] floors), with the number of frames; what a static EQ would
/// have to add to the candidate.
pub fn mean_difference(r: &[f32], c: &[f32], bands: usize) -> Option<(Vec<f64>, usize)> {
    let frames = (r.len() / bands).min(c.len() / bands);
    let (active, floor) = active_frames(r, frames, bands)?;
    let mut sum = vec![0.0f64; bands];
    for &t in &active {
        for (b, s) in sum.iter_mut().enumerate() {
            *s += 10.0
                * ((r[t * bands + b] as f64 + floor) / (c[t * bands + b] as f64 + floor)).log10();
        }
    }
    let n = active.len();
    Some((sum.iter().map(|s| s / n as f64).collect(), n))
}

/// [`distance`] on band powers already computed (`frames × bands`, the shorter side sets the
/// frame count).
pub fn distance_of_powers(r: &[f32], c: &[f32], bands: usize) -> Option<(f64, usize)> {
    let frames = (r.len() / bands).min(c.len() / bands);
    let (active, floor) = active_frames(r, frames, bands)?;
    let sum: f64 = active
        .iter()
        .map(|&t| {
            let sq: f64 = (0..bands)
                .map(|b| {
                    let a = 10.0 * (r[t * bands + b] as f64 + floor).log10();
                    let e = 10.0 * (c[t * bands + b] as f64 + floor).log10();
                    (a - e).powi(2)
                })
                .sum();
            (sq / bands as f64).sqrt()
        })
        .sum();
    Some((sum / active.len() as f64, active.len()))
}

/// [`distance_of_powers`] once each band of the candidate is moved by the reference's mean
/// difference from it ([`mean_difference`]): the distance a static EQ and gain cannot remove,
/// for comparing candidates on what is left to their sound once their tone is matched.
pub fn distance_after_eq(r: &[f32], c: &[f32], bands: usize) -> Option<f64> {
    let frames = (r.len() / bands).min(c.len() / bands);
    let (active, floor) = active_frames(r, frames, bands)?;
    let diff = |t: usize, b: usize| {
        10.0 * ((r[t * bands + b] as f64 + floor) / (c[t * bands + b] as f64 + floor)).log10()
    };
    let n = active.len() as f64;
    let mut mean = vec![0.0f64; bands];
    for &t in &active {
        for (b, m) in mean.iter_mut().enumerate() {
            *m += diff(t, b) / n;
        }
    }
    let sum: f64 = active
        .iter()
        .map(|&t| {
            let sq: f64 = (0..bands).map(|b| (diff(t, b) - mean[b]).powi(2)).sum();
            (sq / bands as f64).sqrt()
        })
        .sum();
    Some(sum / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f: f32, amp: f32, rate: u32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| amp * (std::f32::consts::TAU * f * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn identical_is_zero_and_a_level_change_reads_as_its_db() {
        let mut spec = MelSpec::new(44_100, 2048, 512, 128);
        let mut x = tone(220.0, 0.3, 44_100, 1.0);
        for (i, s) in tone(1760.0, 0.1, 44_100, 1.0).into_iter().enumerate() {
            x[i] += s;
        }
        let (d, n) = distance(&mut spec, &x, &x).unwrap();
        assert!(d.abs() < 1e-9 && n > 80, "{d} over {n}");
        // 6 dB quieter: every band that carries the signal differs by 6 dB; bands at the floor
        // (both silent) differ by less, so the RMS is at most 6.
        let y: Vec<f32> = x.iter().map(|s| s * 0.5).collect();
        let (d, _) = distance(&mut spec, &x, &y).unwrap();
        assert!(d > 1.0 && d <= 6.03, "{d}");
        // A different pitch is far.
        let z = tone(330.0, 0.3, 44_100, 1.0);
        let (d2, _) = distance(&mut spec, &x, &z).unwrap();
        assert!(d2 > d, "{d2} vs {d}");
        assert!(distance(&mut spec, &vec![0.0; 4096], &z).is_none());
    }
}
