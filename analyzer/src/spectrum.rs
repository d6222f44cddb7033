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

/// Computes the magnitude STFT of `signal`.
pub fn stft(signal: &[f32], sample_rate: u32, n_fft: usize, hop: usize) -> Spectrogram {
    let bins = n_fft / 2 + 1;
    let frames = signal.len() / hop + 1;
    let window: Vec<f32> = (0..n_fft)
        .map(|i| {
            let x = std::f64::consts::PI * 2.0 * i as f64 / n_fft as f64;
            (0.5 - 0.5 * x.cos()) as f32
        })
        .collect();
    // Hann's coherent gain is 0.5: a full-scale sine then reads 1.0 at its bin.
    let scale = 2.0 / (0.5 * n_fft as f32);
    let mut data = vec![0.0f32; frames * bins];
    let n_workers = workers().min(frames.max(1));
    let per = frames.div_ceil(n_workers);
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n_fft);
    std::thread::scope(|scope| {
        for (w, chunk) in data.chunks_mut(per * bins).enumerate() {
            let fft = fft.clone();
            let window = &window;
            scope.spawn(move || {
                let mut input = fft.make_input_vec();
                let mut output = fft.make_output_vec();
                let mut scratch = fft.make_scratch_vec();
                for (j, out_frame) in chunk.chunks_mut(bins).enumerate() {
                    let t = w * per + j;
                    let centre = (t * hop) as isize;
                    let start = centre - (n_fft / 2) as isize;
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
                    for (o, c) in out_frame.iter_mut().zip(&output) {
                        *o = c.norm() * scale;
                    }
                }
            });
        }
    });
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
