//! Short-time Fourier transform magnitudes (Hann window, centred frames) with `realfft`.
//!
//! Frame `t` is centred on sample `t · hop`; the signal is zero-padded at both ends, so frame
//! times are simply `t · hop / rate` with no half-window offset to correct for downstream.
//! Frames are split across the available cores.

use realfft::RealFftPlanner;

/// A magnitude spectrogram, frame-major.
#[derive(Debug, Clone)]
pub struct Spectrogram {
    /// FFT length, samples.
    pub n_fft: usize,
    /// Hop, samples.
    pub hop: usize,
    /// Sample rate of the analysed signal, Hz.
    pub sample_rate: u32,
    /// Number of frames.
    pub frames: usize,
    /// Bins per frame (`n_fft / 2 + 1`).
    pub bins: usize,
    /// Magnitudes, scaled so that a full-scale sine peaks near 1.0; `frames × bins`.
    pub data: Vec<f32>,
}

impl Spectrogram {
    /// Magnitudes of frame `t`.
    pub fn frame(&self, t: usize) -> &[f32] {
        &self.data[t * self.bins..(t + 1) * self.bins]
    }

    /// Frames per second.
    pub fn frame_rate(&self) -> f64 {
        f64::from(self.sample_rate) / self.hop as f64
    }

    /// Centre frequency of bin `k`, Hz.
    pub fn bin_hz(&self, k: usize) -> f64 {
        k as f64 * f64::from(self.sample_rate) / self.n_fft as f64
    }
}

/// Number of worker threads for frame-parallel work.
pub fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// Number of frames of a signal of `len` samples at hop `hop`.
pub fn frame_count(len: usize, hop: usize) -> usize {
    len / hop + 1
}

/// Runs `f` on the magnitude spectrum (`n_fft / 2 + 1` bins, scaled so that a full-scale sine
/// peaks near 1.0) of each frame listed in `frames`, in parallel, and returns the results in
/// order. Only one spectrum per worker is alive at a time, so memory does not grow with the
/// length of the signal; this is the function the analysis stages use.
pub fn map_frames<R: Send>(
    signal: &[f32],
    n_fft: usize,
    hop: usize,
    frames: &[usize],
    f: impl Fn(&[f32]) -> R + Sync,
) -> Vec<R> {
    let bins = n_fft / 2 + 1;
    let window: Vec<f32> = (0..n_fft)
        .map(|i| {
            let x = std::f64::consts::PI * 2.0 * i as f64 / n_fft as f64;
            (0.5 - 0.5 * x.cos()) as f32
        })
        .collect();
    // Hann's coherent gain is 0.5: a full-scale sine then reads 1.0 at its bin.
    let scale = 2.0 / (0.5 * n_fft as f32);
    let n_workers = workers().min(frames.len().max(1));
    let per = frames.len().div_ceil(n_workers).max(1);
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n_fft);
    let f = &f;
    let window = &window;
    std::thread::scope(|scope| {
        let handles: Vec<_> = frames
            .chunks(per)
            .map(|chunk| {
                let fft = fft.clone();
                scope.spawn(move || {
                    let mut input = fft.make_input_vec();
                    let mut output = fft.make_output_vec();
                    let mut scratch = fft.make_scratch_vec();
                    let mut mags = vec![0.0f32; bins];
                    chunk
                        .iter()
                        .map(|&t| {
                            let start = (t * hop) as isize - (n_fft / 2) as isize;
                            for (i, (x, &win)) in input.iter_mut().zip(window).enumerate() {
                                let idx = start + i as isize;
                                *x = if idx >= 0 && (idx as usize) < signal.len() {
                                    signal[idx as usize] * win
                                } else {
                                    0.0
                                };
                            }
                            // Lengths come from the same plan, so this cannot fail.
                            let _ = fft.process_with_scratch(&mut input, &mut output, &mut scratch);
                            for (m, c) in mags.iter_mut().zip(&output) {
                                *m = c.norm() * scale;
                            }
                            f(&mags)
                        })
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Computes the whole magnitude STFT of `signal` (allocates `frames × bins`; for short
/// signals and tests — the analysis stages use [`map_frames`]).
pub fn stft(signal: &[f32], sample_rate: u32, n_fft: usize, hop: usize) -> Spectrogram {
    let bins = n_fft / 2 + 1;
    let frames = frame_count(signal.len(), hop);
    let idx: Vec<usize> = (0..frames).collect();
    let data = map_frames(signal, n_fft, hop, &idx, |m| m.to_vec()).concat();
    Spectrogram {
        n_fft,
        hop,
        sample_rate,
        frames,
        bins,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sine_peaks_at_its_bin_with_unit_magnitude() {
        let rate = 22_050;
        let n_fft = 2048;
        let k = 100;
        let f = k as f64 * f64::from(rate) / n_fft as f64;
        let x: Vec<f32> = (0..rate as usize)
            .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / f64::from(rate)).sin() as f32)
            .collect();
        let s = stft(&x, rate, n_fft, 512);
        let mid = s.frame(s.frames / 2);
        let (arg, max) = mid
            .iter()
            .enumerate()
            .fold((0, 0.0f32), |a, (i, &v)| if v > a.1 { (i, v) } else { a });
        assert_eq!(arg, k);
        assert!((max - 1.0).abs() < 0.01, "{max}");
        assert_eq!(s.frames, x.len() / 512 + 1);
        // The per-frame map sees the same spectra.
        let peaks = map_frames(&x, n_fft, 512, &[s.frames / 2], |m| m[k]);
        assert_eq!(peaks, vec![max]);
    }

    #[test]
    fn parallel_frames_match_a_naive_dft() {
        let rate = 8000;
        let x: Vec<f32> = (0..3000)
            .map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5)
            .collect();
        let n_fft = 64;
        let s = stft(&x, rate, n_fft, 16);
        for t in [0, 1, 50, s.frames - 1] {
            for k in [0, 5, 32] {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for i in 0..n_fft {
                    let idx = (t * 16) as isize - 32 + i as isize;
                    let v = if idx >= 0 && (idx as usize) < x.len() {
                        f64::from(x[idx as usize])
                    } else {
                        0.0
                    };
                    let w =
                        0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos();
                    let ph = -2.0 * std::f64::consts::PI * (k * i) as f64 / n_fft as f64;
                    re += v * w * ph.cos();
                    im += v * w * ph.sin();
                }
                let want = (re.hypot(im) * 2.0 / (0.5 * n_fft as f64)) as f32;
                assert!((s.frame(t)[k] - want).abs() < 1e-4, "t{t} k{k}");
            }
        }
    }
}
