//! Timbre embeddings: a vector per recording whose angle to another recording's vector says
//! how alike the two sound, whatever they play.
//!
//! [`TimbreEmbedding`] is the seam: the default, [`SpectralStats`], needs no model; a neural
//! embedding (MERT, CLAP audio encoders, …) run through ONNX Runtime implements the same trait
//! and is chosen when its model file is present.

use crate::hands::mel::MelSpec;

/// Maps a recording to a timbre vector. Vectors from one implementation are compared by their
/// angle, so only their direction matters.
pub trait TimbreEmbedding: Send + Sync {
    /// Short name, written into the QC table so that scores from different embeddings are
    /// never compared.
    fn name(&self) -> &'static str;
    /// The embedding of mono audio at `rate` Hz.
    fn embed(&self, mono: &[f32], rate: u32) -> Vec<f32>;
}

/// Mel bands of the default embedding.
pub const MEL_BANDS: usize = 24;
/// Cepstral coefficients kept (c1..=c19; c0, the level, is left out).
pub const CEPSTRA: usize = 12;
/// Frames count when within this many dB of the loud frames (99th percentile).
pub const ACTIVE_DB: f64 = 40.0;

/// The model-free default: statistics of mel-frequency cepstra over the sounding frames.
///
/// Per frame of 93 ms (hop 46 ms at 22.05 kHz): 40 HTK-mel band powers, in dB floored 80 dB
/// under the loudest band of the recording, and their orthonormal DCT-II; c1..c19 are the
/// spectral envelope's shape without its level. The embedding is the mean of c1..c19 over the
/// frames within [`ACTIVE_DB`] of the loud frames (the average envelope: bright or dark,
/// formants, body) and their standard deviation (how much the envelope moves: attacks, hits
/// against sustains), 38 values in dB. This is the classic MFCC timbre model of
/// Aucouturier and Pachet ("Music similarity measures: what's the use?", ISMIR 2002), reduced
/// to its first two moments so that two recordings compare by one angle. Gain does not move
/// it (gain is c0 only); the mix's balance, the instruments' brightness and the drums' share
/// do.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpectralStats;

impl TimbreEmbedding for SpectralStats {
    fn name(&self) -> &'static str {
        "mfcc-stats"
    }

    fn embed(&self, mono: &[f32], rate: u32) -> Vec<f32> {
        let hop = ((0.046 * f64::from(rate)).round() as usize).max(1);
        let n_fft = (2 * hop).next_power_of_two();
        let mut spec = MelSpec::new(rate, n_fft, hop, MEL_BANDS);
        let p = spec.powers(mono);
        cepstral_stats(&p)
    }
}

/// Mean and standard deviation of c1..c19 over the active frames of `powers`
/// (`frames × MEL_BANDS`), see [`SpectralStats`].
pub fn cepstral_stats(powers: &[f32]) -> Vec<f32> {
    let frames = powers.len() / MEL_BANDS;
    let mut out = vec![0.0f32; 2 * CEPSTRA];
    if frames == 0 {
        return out;
    }
    let loudest_band = powers.iter().copied().fold(0.0f32, f32::max) as f64;
    if loudest_band <= 0.0 {
        return out;
    }
    let floor = loudest_band * 1e-8;
    let frame_db: Vec<f64> = powers
        .chunks_exact(MEL_BANDS)
        .map(|f| 10.0 * (f.iter().map(|&x| x as f64).sum::<f64>() + 1e-30).log10())
        .collect();
    let mut sorted = frame_db.clone();
    sorted.sort_by(f64::total_cmp);
    let loud = sorted[((sorted.len() - 1) as f64 * 0.99) as usize];
    let basis = dct_basis();
    let mut sum = [0.0f64; CEPSTRA];
    let mut sum_sq = [0.0f64; CEPSTRA];
    let mut n = 0usize;
    let mut logs = [0.0f64; MEL_BANDS];
    for (f, &db) in powers.chunks_exact(MEL_BANDS).zip(&frame_db) {
        if db < loud - ACTIVE_DB {
            continue;
        }
        for (l, &x) in logs.iter_mut().zip(f) {
            *l = 10.0 * (x as f64).max(floor).log10();
        }
        for (k, row) in basis.iter().enumerate() {
            let c: f64 = row.iter().zip(&logs).map(|(b, l)| b * l).sum();
            sum[k] += c;
            sum_sq[k] += c * c;
        }
        n += 1;
    }
    if n == 0 {
        return out;
    }
    for k in 0..CEPSTRA {
        let mean = sum[k] / n as f64;
        let var = (sum_sq[k] / n as f64 - mean * mean).max(0.0);
        out[k] = mean as f32;
        out[CEPSTRA + k] = var.sqrt() as f32;
    }
    out
}

/// Rows c1..c19 of the orthonormal DCT-II over [`MEL_BANDS`] points.
fn dct_basis() -> Vec<[f64; MEL_BANDS]> {
    let n = MEL_BANDS as f64;
    (1..=CEPSTRA)
        .map(|k| {
            let mut row = [0.0; MEL_BANDS];
            for (i, r) in row.iter_mut().enumerate() {
                *r = (2.0 / n).sqrt()
                    * (std::f64::consts::PI * k as f64 * (i as f64 + 0.5) / n).cos();
            }
            row
        })
        .collect()
}

/// Angle between two embeddings, degrees (90 when either is zero). Computed as
/// `2·atan2(|â − b̂|, |â + b̂|)` of the unit vectors, which is exact near 0 where `acos` of the
/// cosine is not.
pub fn angle_deg(a: &[f32], b: &[f32]) -> f64 {
    let na: f64 = a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    if na <= 0.0 || nb <= 0.0 {
        return 90.0;
    }
    let (mut diff, mut sum) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (u, v) = (x as f64 / na, y as f64 / nb);
        diff += (u - v).powi(2);
        sum += (u + v).powi(2);
    }
    (2.0 * diff.sqrt().atan2(sum.sqrt())).to_degrees()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn gain_leaves_the_embedding_and_brightness_moves_it() {
        let rate = 22_050;
        let white = noise(rate as usize * 3, 7);
        let quiet: Vec<f32> = white.iter().map(|x| x * 0.1).collect();
        // A one-pole low-pass: a darker sound.
        let mut y = 0.0;
        let dark: Vec<f32> = white
            .iter()
            .map(|&x| {
                y += 0.05 * (x - y);
                y
            })
            .collect();
        let e = SpectralStats;
        let (a, b, c) = (
            e.embed(&white, rate),
            e.embed(&quiet, rate),
            e.embed(&dark, rate),
        );
        assert!(angle_deg(&a, &a) < 1e-3);
        assert!(angle_deg(&a, &b) < 0.5, "{}", angle_deg(&a, &b));
        assert!(angle_deg(&a, &c) > 20.0, "{}", angle_deg(&a, &c));
    }
}
