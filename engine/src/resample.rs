//! Streaming sample-rate conversion of one channel with rubato's synchronous FFT resampler, for
//! work off the audio thread (it allocates): the analyzer's decoding, the plugins' loaders.
//!
//! Input arrives in packets of any size; output is produced chunk by chunk, the resampler's
//! start-up delay is trimmed and the tail is flushed, so that `n` input frames give exactly
//! `round(n · out_rate / in_rate)` output frames aligned with the input.
//!
//! Notes: rubato reports its delay as `fft_size_out / 2` rounded down, so for ratios whose
//! output FFT length is odd (48 kHz → 22.05 kHz) the output lags by half an output sample
//! (23 µs). Nothing downstream resolves time that finely, so it is left as it is.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::{Error, Result};

/// Input frames per resampler call.
const CHUNK_FRAMES: usize = 4096;

/// A one-channel streaming resampler (pass-through when the rates are equal).
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    ratio: f64,
    pending: Vec<f32>,
    scratch: Vec<f32>,
    delay_left: usize,
    frames_in: u64,
    frames_out: u64,
}

impl StreamResampler {
    /// Creates a resampler from `in_rate` to `out_rate` (Hz).
    pub fn new(in_rate: u32, out_rate: u32) -> Result<Self> {
        let ratio = f64::from(out_rate) / f64::from(in_rate);
        if in_rate == out_rate {
            return Ok(Self {
                inner: None,
                ratio,
                pending: Vec::new(),
                scratch: Vec::new(),
                delay_left: 0,
                frames_in: 0,
                frames_out: 0,
            });
        }
        let fft = Fft::<f32>::new(
            in_rate as usize,
            out_rate as usize,
            CHUNK_FRAMES,
            1,
            FixedSync::Input,
        )
        .map_err(|e| Error::Resample(e.to_string()))?;
        let delay_left = fft.output_delay();
        let scratch = vec![0.0; fft.output_frames_max()];
        Ok(Self {
            inner: Some(fft),
            ratio,
            pending: Vec::with_capacity(CHUNK_FRAMES * 2),
            scratch,
            delay_left,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Feeds `input` and appends whatever output is ready to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.frames_in += input.len() as u64;
        if self.inner.is_none() {
            out.extend_from_slice(input);
            self.frames_out += input.len() as u64;
            return Ok(());
        }
        self.pending.extend_from_slice(input);
        let mut start = 0;
        while self.pending.len() - start >= CHUNK_FRAMES {
            self.process(start, None, out)?;
            start += CHUNK_FRAMES;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Flushes the tail; after this `out` holds exactly `round(frames_in · ratio)` frames.
    pub fn finish(mut self, out: &mut Vec<f32>) -> Result<()> {
        if self.inner.is_none() {
            return Ok(());
        }
        let wanted = (self.frames_in as f64 * self.ratio).round() as u64;
        let mut guard = 0;
        while self.frames_out < wanted {
            let partial = self.pending.len().min(CHUNK_FRAMES);
            self.pending
                .resize(CHUNK_FRAMES.max(self.pending.len()), 0.0);
            self.process(0, Some(partial), out)?;
            self.pending.drain(..CHUNK_FRAMES);
            guard += 1;
            if guard > 64 {
                return Err(Error::Resample("the resampler did not flush".into()));
            }
        }
        let excess = (self.frames_out - wanted) as usize;
        out.truncate(out.len() - excess);
        Ok(())
    }

    fn process(&mut self, start: usize, partial: Option<usize>, out: &mut Vec<f32>) -> Result<()> {
        let fft = self.inner.as_mut().expect("checked by caller");
        let internal = Error::Resample;
        let input = InterleavedSlice::new(&self.pending[start..], 1, CHUNK_FRAMES)
            .map_err(|e| internal(e.to_string()))?;
        let cap = self.scratch.len();
        let mut output = InterleavedSlice::new_mut(&mut self.scratch[..], 1, cap)
            .map_err(|e| internal(e.to_string()))?;
        let indexing = Indexing {
            partial_len: partial,
            ..Indexing::default()
        };
        let (_, written) = fft
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| internal(e.to_string()))?;
        let skip = self.delay_left.min(written);
        self.delay_left -= skip;
        out.extend_from_slice(&self.scratch[skip..written]);
        self.frames_out += (written - skip) as u64;
        Ok(())
    }
}

/// Resamples a whole signal (allocates the output).
pub fn resample(input: &[f32], in_rate: u32, out_rate: u32) -> Result<Vec<f32>> {
    let mut r = StreamResampler::new(in_rate, out_rate)?;
    let mut out = Vec::with_capacity((input.len() as f64 * r.ratio) as usize + 16);
    r.push(input, &mut out)?;
    r.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    #[test]
    fn length_and_alignment_are_exact() {
        for (a, b) in [
            (44_100, 22_050),
            (48_000, 22_050),
            (96_000, 22_050),
            (16_000, 22_050),
        ] {
            let n = 3 * a as usize + 1234;
            let x = sine(440.0, a, n);
            // Feed in odd packet sizes as a decoder would.
            let mut r = StreamResampler::new(a, b).unwrap();
            let mut out = Vec::new();
            for chunk in x.chunks(1157) {
                r.push(chunk, &mut out).unwrap();
            }
            r.finish(&mut out).unwrap();
            let want = (n as f64 * f64::from(b) / f64::from(a)).round() as usize;
            assert_eq!(out.len(), want, "{a}->{b}");
            // Aligned: the phase of the output against the ideal sine, in the middle of the
            // signal, must be within one output sample (see the module notes), and the
            // waveform clean.
            let w = 2.0 * std::f64::consts::PI * 440.0 / f64::from(b);
            let mid = want / 2;
            let (mut c, mut q) = (0.0f64, 0.0f64);
            for (i, &v) in out.iter().enumerate().skip(mid).take(2000) {
                c += f64::from(v) * (w * i as f64).sin();
                q += f64::from(v) * (w * i as f64).cos();
            }
            let lag_samples = -q.atan2(c) / w;
            assert!(
                lag_samples.abs() <= 1.0,
                "{a}->{b}: lag {lag_samples} samples"
            );
            let amp = 2.0 * c.hypot(q) / 2000.0;
            let err: f64 = (mid..mid + 2000)
                .map(|i| (f64::from(out[i]) - amp * (w * (i as f64 - lag_samples)).sin()).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-2, "{a}->{b}: residual {err}");
        }
    }

    #[test]
    fn equal_rates_pass_through() {
        let x = sine(100.0, 22_050, 5000);
        assert_eq!(resample(&x, 22_050, 22_050).unwrap(), x);
    }
}
