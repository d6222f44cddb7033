//! Band-limited waveforms as mip-mapped wavetables.
//!
//! Each classic waveform is stored as a set of single-cycle tables ("mip levels"), three per
//! octave of fundamental: the table for fundamentals up to `f_top` holds only the harmonics
//! below the Nyquist frequency at `f_top`, so a note read from its level never aliases; what
//! remains is the error of linear interpolation on 2048-point tables, which is below −85 dB
//! for the top harmonic of every level (error ≈ (πk/N)²/8 for harmonic k of an N-point table,
//! and the levels keep k ≤ N/2 only for low fundamentals, where the table is read slower than
//! one point per sample). The tables are built from their Fourier series with an inverse FFT
//! when the engine is allocated (≈ 1 MB for all levels; a few milliseconds).
//!
//! The pulse wave with variable width is the difference of two band-limited saws half a
//! width apart (so it is band-limited too, and its width can move per sample without clicks).
//!
//! Reference: T. Stilson, J. O. Smith, "Alias-free digital synthesis of classic analog
//! waveforms", ICMC 1996 (the band-limited framing); mip-mapping as in most wavetable synths.

use realfft::num_complex::Complex32;
use realfft::RealFftPlanner;

/// Points per table (a power of two: indices wrap with a mask).
pub const TABLE_LEN: usize = 2048;
const MASK: u32 = TABLE_LEN as u32 - 1;
/// Bits of the 32-bit phase that index a table.
const INDEX_BITS: u32 = TABLE_LEN.trailing_zeros();
/// Mip levels per octave of fundamental.
const LEVELS_PER_OCTAVE: f32 = 3.0;
/// Top of the lowest level's range, Hz.
const LOWEST_TOP_HZ: f32 = 16.0;

/// Frames of the morphing wavetable (the `wavetable` wave; `oscN_wt_pos` sweeps them).
pub const MORPH_FRAMES: usize = 8;

/// Amplitude of harmonic `k` in morph frame `frame`: from a sine through soft and full
/// harmonic series to hollow, buzzy and vocal-like spectra, so that one position parameter
/// spans dull to bright and the fitter can move along it smoothly:
/// 0 sine; 1 odd harmonics 1/k²; 2 all 1/k²; 3 all 1/k (saw); 4 odd 1/k (square);
/// 5 even harmonics strong, odd at a quarter (hollow, octave-like); 6 1/√k (buzzy);
/// 7 1/k with a resonance around the 8th harmonic (vowel-like).
fn morph_amp(frame: usize, k: usize) -> f32 {
    let kf = k as f32;
    let odd = k % 2 == 1;
    match frame {
        0 => (k == 1) as u8 as f32,
        1 => odd as u8 as f32 / (kf * kf),
        2 => 1.0 / (kf * kf),
        3 => 1.0 / kf,
        4 => odd as u8 as f32 / kf,
        5 => (if odd { 0.25 } else { 1.0 }) / kf + (k == 1) as u8 as f32 * 0.75,
        6 => 1.0 / kf.sqrt(),
        _ => (1.0 + 4.0 * (-((kf - 8.0) / 3.0).powi(2)).exp()) / kf,
    }
}

/// Which band-limited table set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Rising saw, −1 → 1.
    Saw,
    /// Triangle, peak 1.
    Triangle,
}

/// The band-limited tables for one sample rate (shared by all voices of a synth).
#[derive(Debug, Clone)]
pub struct WaveTables {
    sample_rate: f32,
    levels: usize,
    saw: Vec<f32>,
    triangle: Vec<f32>,
    /// The morphing wavetable: [`MORPH_FRAMES`] frames × levels × [`TABLE_LEN`].
    morph: Vec<f32>,
    sine: Vec<f32>,
}

impl WaveTables {
    /// Builds every level for `sample_rate` (allocates; call outside the audio thread).
    pub fn new(sample_rate: f32) -> Self {
        let nyquist = 0.5 * sample_rate;
        let levels = ((nyquist / LOWEST_TOP_HZ).log2() * LEVELS_PER_OCTAVE)
            .ceil()
            .max(1.0) as usize
            + 1;
        let mut planner = RealFftPlanner::<f32>::new();
        let ifft = planner.plan_fft_inverse(TABLE_LEN);
        let mut spectrum = ifft.make_input_vec();
        let mut table = ifft.make_output_vec();
        let mut build = |amp: &dyn Fn(usize) -> f32, harmonics: usize, out: &mut Vec<f32>| {
            for (k, c) in spectrum.iter_mut().enumerate() {
                // x[n] = Σ b_k sin(2πkn/N): the inverse transform sums 2·Re(X_k e^{iθ}).
                *c = if k >= 1 && k <= harmonics {
                    Complex32::new(0.0, -0.5 * amp(k))
                } else {
                    Complex32::new(0.0, 0.0)
                };
            }
            // The spectrum is well formed (zero imaginary DC and Nyquist bins), so this cannot fail.
            if ifft.process(&mut spectrum, &mut table).is_err() {
                table.iter_mut().for_each(|x| *x = 0.0);
            }
            out.extend_from_slice(&table);
        };
        let saw_amp = |k: usize| -2.0 / (std::f32::consts::PI * k as f32);
        let tri_amp = |k: usize| {
            if k % 2 == 0 {
                0.0
            } else {
                let s = if (k / 2) % 2 == 0 { 1.0 } else { -1.0 };
                s * 8.0 / (std::f32::consts::PI * k as f32).powi(2)
            }
        };
        let mut saw = Vec::with_capacity(levels * TABLE_LEN);
        let mut triangle = Vec::with_capacity(levels * TABLE_LEN);
        for level in 0..levels {
            let top = LOWEST_TOP_HZ * 2f32.powf((level + 1) as f32 / LEVELS_PER_OCTAVE);
            let harmonics = ((nyquist / top) as usize).min(TABLE_LEN / 2 - 1);
            build(&saw_amp, harmonics, &mut saw);
            build(&tri_amp, harmonics, &mut triangle);
        }
        let mut sine = Vec::with_capacity(TABLE_LEN);
        build(&|k| if k == 1 { 1.0 } else { 0.0 }, 1, &mut sine);
        let mut morph = Vec::with_capacity(MORPH_FRAMES * levels * TABLE_LEN);
        for frame in 0..MORPH_FRAMES {
            let first = morph.len();
            for level in 0..levels {
                let top = LOWEST_TOP_HZ * 2f32.powf((level + 1) as f32 / LEVELS_PER_OCTAVE);
                let harmonics = ((nyquist / top) as usize).min(TABLE_LEN / 2 - 1);
                build(&|k| morph_amp(frame, k), harmonics, &mut morph);
            }
            // Each frame peaks at 1 on its fullest level, so the position moves the timbre, not
            // the level.
            let peak = morph[first..first + TABLE_LEN]
                .iter()
                .fold(0.0f32, |m, x| m.max(x.abs()))
                .max(1e-9);
            morph[first..].iter_mut().for_each(|x| *x /= peak);
        }
        Self {
            sample_rate,
            levels,
            saw,
            triangle,
            sine,
            morph,
        }
    }

    /// The sample rate the tables were built for, Hz.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Number of mip levels (a level at or past this reads as silence).
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// The mip level to read for a fundamental of `freq_hz` (a level past the last one, which
    /// reads as silence, when the fundamental itself is above Nyquist).
    #[inline]
    pub fn level_for(&self, freq_hz: f32) -> usize {
        if freq_hz >= 0.5 * self.sample_rate {
            return self.levels;
        }
        let l = (freq_hz.max(1.0) / LOWEST_TOP_HZ).log2() * LEVELS_PER_OCTAVE;
        if l <= 0.0 {
            0
        } else {
            (l as usize).min(self.levels - 1)
        }
    }

    /// One cycle of `shape` at `level` (empty past the last level: silence).
    #[inline]
    pub fn table(&self, shape: Shape, level: usize) -> &[f32] {
        if level >= self.levels {
            return &[];
        }
        let all = match shape {
            Shape::Saw => &self.saw,
            Shape::Triangle => &self.triangle,
        };
        &all[level * TABLE_LEN..(level + 1) * TABLE_LEN]
    }

    /// One cycle of frame `frame` (0..[`MORPH_FRAMES`]) of the morphing wavetable at `level`
    /// (empty past the last level: silence).
    #[inline]
    pub fn morph(&self, frame: usize, level: usize) -> &[f32] {
        if level >= self.levels {
            return &[];
        }
        let at = (frame.min(MORPH_FRAMES - 1) * self.levels + level) * TABLE_LEN;
        &self.morph[at..at + TABLE_LEN]
    }

    /// One cycle of a sine.
    #[inline]
    pub fn sine(&self) -> &[f32] {
        &self.sine
    }
}

/// Reads `table` at `phase` (a full cycle is 2³²) with linear interpolation; an empty table
/// reads 0.
#[inline]
pub fn read(table: &[f32], phase: u32) -> f32 {
    if table.len() != TABLE_LEN {
        return 0.0;
    }
    let i = phase >> (32 - INDEX_BITS);
    let frac = (phase << INDEX_BITS) as f32 * (1.0 / 4_294_967_296.0);
    let a = table[i as usize];
    let b = table[((i + 1) & MASK) as usize];
    a + (b - a) * frac
}

/// Phase increment per sample (a full cycle is 2³²) for `freq_hz` at `sample_rate`.
#[inline]
pub fn increment(freq_hz: f32, sample_rate: f32) -> u32 {
    let cycles = (freq_hz / sample_rate).clamp(0.0, 0.5) as f64;
    (cycles * 4_294_967_296.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_the_naive_waves_at_low_levels() {
        let t = WaveTables::new(48_000.0);
        // Level 0 has ~1000 harmonics: away from the jump, the saw is 2φ − 1 within the
        // Gibbs ripple, and the triangle within a hundredth.
        let saw = t.table(Shape::Saw, 0);
        let tri = t.table(Shape::Triangle, 0);
        for (i, (&s, &tr)) in saw.iter().zip(tri).enumerate() {
            let phi = i as f32 / TABLE_LEN as f32;
            if (0.05..0.95).contains(&phi) {
                assert!((s - (2.0 * phi - 1.0)).abs() < 0.01, "saw {i}: {s}");
            }
            let naive = if phi < 0.25 {
                4.0 * phi
            } else if phi < 0.75 {
                2.0 - 4.0 * phi
            } else {
                4.0 * phi - 4.0
            };
            assert!((tr - naive).abs() < 0.01, "triangle {i}: {tr} vs {naive}");
        }
        assert!((read(t.sine(), 1 << 30) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn the_morph_starts_at_a_sine_and_passes_through_the_saw() {
        let t = WaveTables::new(48_000.0);
        let sine = t.morph(0, 0);
        let saw = t.table(Shape::Saw, 0);
        let saw_peak = saw.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        for i in 0..TABLE_LEN {
            let want = (std::f32::consts::TAU * i as f32 / TABLE_LEN as f32).sin();
            assert!((sine[i] - want).abs() < 1e-4);
            // Frame 3 is the saw's series with the opposite sign, at peak 1.
            assert!((t.morph(3, 0)[i] + saw[i] / saw_peak).abs() < 1e-3, "{i}");
        }
        for f in 0..MORPH_FRAMES {
            let peak = t.morph(f, 0).iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!((peak - 1.0).abs() < 1e-5, "frame {f} peaks at {peak}");
        }
    }

    #[test]
    fn levels_keep_every_harmonic_below_nyquist() {
        let t = WaveTables::new(44_100.0);
        for f in [20.0f32, 55.0, 440.0, 1234.0, 5000.0, 15_000.0] {
            let level = t.level_for(f);
            let top = LOWEST_TOP_HZ * 2f32.powf((level + 1) as f32 / LEVELS_PER_OCTAVE);
            assert!(
                f <= top * 1.0001,
                "{f} Hz read from level {level} (top {top})"
            );
            let harmonics = ((22_050.0 / top) as usize).min(TABLE_LEN / 2 - 1);
            assert!(
                harmonics as f32 * f < 22_050.0,
                "{f} Hz: {harmonics} harmonics"
            );
        }
        assert!(t.table(Shape::Saw, t.level_for(30_000.0)).is_empty());
    }
}
