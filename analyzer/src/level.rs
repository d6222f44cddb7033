//! Level, loudness and stereo measurements.
//!
//! - Loudness: ITU-R BS.1770-4 / EBU R128 through the `ebur128` crate — integrated loudness
//!   (gated), loudness range (EBU Tech 3342) and true peak (4× oversampled, BS.1770-4 Annex 2).
//! - Level blocks: per 10 ms block of the source, the sums of squares of left, right, mid
//!   `(L+R)/2` and side `(L−R)/2`, and the sample peak. Every other level figure (RMS per
//!   section, energy curve, side-to-mid ratio per section, crest factor) is computed from these
//!   sums, so the whole-track and per-section figures are exactly consistent and cost nothing
//!   to recompute for any span.

use ebur128::{EbuR128, Mode};

use crate::error::{Error, Result};

/// Level-block length in seconds (the resolution of every span measurement).
pub const BLOCK_S: f64 = 0.01;
/// Floor for levels reported in dB, so that digital silence prints as a number, not −∞.
pub const FLOOR_DB: f64 = -120.0;

/// Sums of squares per block, at the source rate.
#[derive(Debug, Clone, Default)]
pub struct LevelBlocks {
    /// Frames per block at the source rate.
    pub block_frames: usize,
    /// Source sample rate, Hz.
    pub sample_rate: u32,
    /// Σ(L² + R²) per block.
    pub sum_sq: Vec<f64>,
    /// Σ mid² per block, mid = (L+R)/2.
    pub mid_sq: Vec<f64>,
    /// Σ side² per block, side = (L−R)/2.
    pub side_sq: Vec<f64>,
    /// Frames in each block (the last one may be short).
    pub frames: Vec<u32>,
    /// Sample peak (absolute) per block.
    pub peak: Vec<f32>,
    fill: usize,
}

impl LevelBlocks {
    /// Empty accumulator for a source at `sample_rate` Hz.
    pub fn new(sample_rate: u32) -> Self {
        Self {
            block_frames: ((f64::from(sample_rate) * BLOCK_S).round() as usize).max(1),
            sample_rate,
            ..Default::default()
        }
    }

    /// Accumulates interleaved stereo frames.
    pub fn push(&mut self, stereo: &[f32]) {
        for frame in stereo.chunks_exact(2) {
            if self.fill == 0 {
                self.sum_sq.push(0.0);
                self.mid_sq.push(0.0);
                self.side_sq.push(0.0);
                self.frames.push(0);
                self.peak.push(0.0);
            }
            let i = self.sum_sq.len() - 1;
            let (l, r) = (f64::from(frame[0]), f64::from(frame[1]));
            let (m, s) = ((l + r) * 0.5, (l - r) * 0.5);
            self.sum_sq[i] += l * l + r * r;
            self.mid_sq[i] += m * m;
            self.side_sq[i] += s * s;
            self.frames[i] += 1;
            self.peak[i] = self.peak[i].max(frame[0].abs()).max(frame[1].abs());
            self.fill += 1;
            if self.fill == self.block_frames {
                self.fill = 0;
            }
        }
    }

    /// Duration of one block, seconds.
    pub fn block_s(&self) -> f64 {
        self.block_frames as f64 / f64::from(self.sample_rate)
    }

    /// Block index range covering `[start_s, end_s)`.
    fn span(&self, start_s: f64, end_s: f64) -> std::ops::Range<usize> {
        let b = self.block_s();
        let n = self.sum_sq.len();
        let i0 = ((start_s / b).round().max(0.0) as usize).min(n);
        let i1 = ((end_s / b).round().max(0.0) as usize).clamp(i0, n);
        i0..i1
    }

    /// RMS over both channels in `[start_s, end_s)`, dBFS (a full-scale sine reads −3 dBFS).
    pub fn rms_dbfs(&self, start_s: f64, end_s: f64) -> f64 {
        let r = self.span(start_s, end_s);
        let sum: f64 = self.sum_sq[r.clone()].iter().sum();
        let frames: f64 = self.frames[r].iter().map(|&f| f64::from(f)).sum();
        power_db(sum / (2.0 * frames.max(1.0)))
    }

    /// Side-to-mid energy ratio in `[start_s, end_s)`, dB (−∞ for mono is floored).
    pub fn side_to_mid_db(&self, start_s: f64, end_s: f64) -> f64 {
        let r = self.span(start_s, end_s);
        let mid: f64 = self.mid_sq[r.clone()].iter().sum();
        let side: f64 = self.side_sq[r].iter().sum();
        if mid <= 0.0 && side <= 0.0 {
            return FLOOR_DB;
        }
        (10.0 * ((side + 1e-20) / (mid + 1e-20)).log10()).max(FLOOR_DB)
    }

    /// Sample peak of the whole track, linear.
    pub fn peak(&self) -> f32 {
        self.peak.iter().copied().fold(0.0, f32::max)
    }

    /// Crest factor of the whole track: sample peak over RMS, dB.
    pub fn crest_db(&self) -> f64 {
        let dur =
            self.frames.iter().map(|&f| f64::from(f)).sum::<f64>() / f64::from(self.sample_rate);
        amp_db(f64::from(self.peak())) - self.rms_dbfs(0.0, dur)
    }

    /// RMS curve in dBFS at `frame_rate_hz` frames per second (each frame the RMS of its own
    /// non-overlapping span).
    pub fn energy_curve(&self, frame_rate_hz: f64) -> Vec<f64> {
        let per = ((1.0 / frame_rate_hz) / self.block_s()).round().max(1.0) as usize;
        self.sum_sq
            .chunks(per)
            .zip(self.frames.chunks(per))
            .map(|(s, f)| {
                let frames: f64 = f.iter().map(|&x| f64::from(x)).sum();
                power_db(s.iter().sum::<f64>() / (2.0 * frames.max(1.0)))
            })
            .collect()
    }
}

/// Mean power (linear) to dB, floored.
pub fn power_db(p: f64) -> f64 {
    if p <= 0.0 {
        FLOOR_DB
    } else {
        (10.0 * p.log10()).max(FLOOR_DB)
    }
}

/// Amplitude (linear) to dB, floored.
pub fn amp_db(a: f64) -> f64 {
    if a <= 0.0 {
        FLOOR_DB
    } else {
        (20.0 * a.log10()).max(FLOOR_DB)
    }
}

/// EBU R128 figures of a track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// Gated integrated loudness, LUFS.
    pub integrated_lufs: f64,
    /// Maximum true peak over the channels, dBTP.
    pub true_peak_dbtp: f64,
    /// Loudness range, LU.
    pub loudness_range_lu: f64,
}

/// A streaming EBU R128 meter. Mono sources are measured as one channel, as BS.1770 asks
/// (a mono file played on both speakers is not 3 dB louder than itself).
pub struct LoudnessMeter {
    meter: EbuR128,
    mono: bool,
    scratch: Vec<f32>,
}

impl LoudnessMeter {
    /// Meter for a source with `channels` channels (folded to stereo when more than two).
    pub fn new(sample_rate: u32, source_channels: usize) -> Result<Self> {
        let mono = source_channels == 1;
        let meter = EbuR128::new(
            if mono { 1 } else { 2 },
            sample_rate,
            Mode::I | Mode::LRA | Mode::TRUE_PEAK,
        )
        .map_err(|e| Error::Internal {
            stage: "loudness",
            detail: format!("{e:?}"),
        })?;
        Ok(Self {
            meter,
            mono,
            scratch: Vec::new(),
        })
    }

    /// Feeds interleaved stereo frames.
    pub fn push(&mut self, stereo: &[f32]) -> Result<()> {
        let res = if self.mono {
            self.scratch.clear();
            self.scratch.extend(stereo.iter().step_by(2));
            self.meter.add_frames_f32(&self.scratch)
        } else {
            self.meter.add_frames_f32(stereo)
        };
        res.map_err(|e| Error::Internal {
            stage: "loudness",
            detail: format!("{e:?}"),
        })
    }

    /// The figures so far. Integrated loudness of audio quieter than the absolute gate reads
    /// as [`FLOOR_DB`].
    pub fn finish(&self) -> Loudness {
        let finite = |x: f64| if x.is_finite() { x } else { FLOOR_DB };
        let channels = if self.mono { 1 } else { 2 };
        let tp = (0..channels)
            .filter_map(|c| self.meter.true_peak(c).ok())
            .fold(0.0f64, f64::max);
        Loudness {
            integrated_lufs: finite(self.meter.loudness_global().unwrap_or(f64::NEG_INFINITY)),
            true_peak_dbtp: amp_db(tp),
            loudness_range_lu: self
                .meter
                .loudness_range()
                .map(finite)
                .unwrap_or(0.0)
                .max(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stereo_sine(amp_l: f32, amp_r: f32, seconds: f64, rate: u32) -> Vec<f32> {
        let n = (seconds * f64::from(rate)) as usize;
        let mut v = Vec::with_capacity(n * 2);
        for i in 0..n {
            let s = (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / f64::from(rate)).sin() as f32;
            v.push(amp_l * s);
            v.push(amp_r * s);
        }
        v
    }

    #[test]
    fn full_scale_sine_rms_is_minus_3_dbfs() {
        let mut b = LevelBlocks::new(48_000);
        b.push(&stereo_sine(1.0, 1.0, 2.0, 48_000));
        assert!((b.rms_dbfs(0.0, 2.0) + 3.0103).abs() < 0.01);
        assert!((b.crest_db() - 3.0103).abs() < 0.01);
        // Identical channels: no side at all.
        assert!(b.side_to_mid_db(0.0, 2.0) < -100.0);
    }

    #[test]
    fn side_to_mid_of_hard_panned_signal_is_0_db() {
        let mut b = LevelBlocks::new(44_100);
        b.push(&stereo_sine(1.0, 0.0, 1.0, 44_100));
        assert!(b.side_to_mid_db(0.0, 1.0).abs() < 1e-6);
        // Anti-phase: all side.
        let mut b = LevelBlocks::new(44_100);
        b.push(&stereo_sine(1.0, -1.0, 1.0, 44_100));
        assert!(b.side_to_mid_db(0.0, 1.0) > 100.0);
    }

    #[test]
    fn ebu_tech_3341_case_1_reads_minus_23_lufs() {
        // EBU Tech 3341 test case 1: a 1 kHz stereo sine at −23 dBFS peak reads −23.0 LUFS.
        let a = 10f32.powf(-23.0 / 20.0);
        let mut m = LoudnessMeter::new(48_000, 2).unwrap();
        m.push(&stereo_sine(a, a, 20.0, 48_000)).unwrap();
        let l = m.finish();
        assert!((l.integrated_lufs + 23.0).abs() < 0.1, "{l:?}");
        assert!((l.true_peak_dbtp + 23.0).abs() < 0.2, "{l:?}");
    }

    #[test]
    fn mono_source_counts_once() {
        let a = 10f32.powf(-23.0 / 20.0);
        let mut m = LoudnessMeter::new(48_000, 1).unwrap();
        m.push(&stereo_sine(a, a, 20.0, 48_000)).unwrap();
        assert!((m.finish().integrated_lufs + 26.01).abs() < 0.1);
    }
}
