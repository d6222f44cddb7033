//! Pitch-class features: tuning estimate, whitened semitone spectrum, treble and bass chroma,
//! and their beat-synchronous means.
//!
//! Method (after M. Mauch, "Automatic chord transcription from audio using computational
//! models of musical context", PhD thesis, QMUL 2010, ch. 3, without the NNLS step):
//! 1. A long-window STFT (372 ms, so that semitones are resolved down to ~50 Hz).
//! 2. Tuning: the magnitude-weighted circular mean of the deviation of spectral peaks
//!    (parabolically interpolated) from the equal-tempered grid, so that a track tuned to
//!    A = 432 Hz or 446 Hz still lands on the right pitch classes.
//! 3. A semitone spectrum (MIDI 24–95) by triangular pooling of bins in the pitch domain,
//!    log-compressed and whitened by subtracting its running mean over ±1 octave, which removes
//!    the spectral tilt and most broadband (percussive) energy.
//! 4. Bass chroma from MIDI 28–54 and treble chroma from MIDI 48–95, each folded to 12 pitch
//!    classes with a smooth weight across its range.

use crate::spectrum::{frame_count, map_frames};

/// FFT length at 22.05 kHz (372 ms).
pub const N_FFT: usize = 8192;
/// Hop at 22.05 kHz (46 ms).
pub const HOP: usize = 1024;
const PITCH_LO: i32 = 24;
const PITCH_HI: i32 = 95;
const N_PITCH: usize = (PITCH_HI - PITCH_LO + 1) as usize;

/// Chroma frames of a track.
#[derive(Debug, Clone, Default)]
pub struct Chroma {
    /// Frames per second.
    pub frame_rate: f64,
    /// Tuning offset from A = 440 Hz, semitones (−0.5..0.5).
    pub tuning_semitones: f64,
    /// Treble chroma per frame (12 values, pitch class 0 = C), not normalised.
    pub treble: Vec<[f32; 12]>,
    /// Bass chroma per frame.
    pub bass: Vec<[f32; 12]>,
    /// Log-band energies per frame (a coarse timbre descriptor, [`TIMBRE_BANDS`] values).
    pub timbre: Vec<[f32; TIMBRE_BANDS]>,
}

/// Octave bands of the timbre descriptor (≈ 43 Hz – 11 kHz).
pub const TIMBRE_BANDS: usize = 8;

/// Frames whose spectral peaks estimate the tuning (spread over the track).
const TUNING_FRAMES: usize = 400;

/// Computes chroma features of a mono signal. Memory: one semitone row (72 values) per frame,
/// never the full spectrogram.
pub fn chroma(signal: &[f32], sample_rate: u32) -> Chroma {
    let bins = N_FFT / 2 + 1;
    let bin_hz = f64::from(sample_rate) / N_FFT as f64;
    let frames = frame_count(signal.len(), HOP);
    let step = (frames / TUNING_FRAMES).max(1);
    let sample: Vec<usize> = (0..frames).step_by(step).collect();
    let (sx, sy) = map_frames(signal, N_FFT, HOP, &sample, |m| tuning_vector(m, bin_hz))
        .into_iter()
        .fold((0.0, 0.0), |a, v| (a.0 + v.0, a.1 + v.1));
    let tuning = if sx == 0.0 && sy == 0.0 {
        0.0
    } else {
        sy.atan2(sx) / (2.0 * std::f64::consts::PI)
    };
    // Pitch-domain triangular pooling taps.
    let mut taps: Vec<Vec<(usize, f32)>> = vec![Vec::new(); N_PITCH];
    for k in 1..bins {
        let m = midi_of(k as f64 * bin_hz) - tuning;
        let p = m.floor() as i32;
        for (q, w) in [(p, 1.0 - (m - m.floor())), (p + 1, m - m.floor())] {
            if (PITCH_LO..=PITCH_HI).contains(&q) && w > 0.0 {
                taps[(q - PITCH_LO) as usize].push((k, w as f32));
            }
        }
    }
    // Timbre bands: octaves from 43 Hz.
    let band_of = |k: usize| {
        let hz = k as f64 * bin_hz;
        if hz < 43.0 {
            None
        } else {
            Some(((hz / 43.0).log2().floor() as usize).min(TIMBRE_BANDS - 1))
        }
    };
    let bands: Vec<Option<usize>> = (0..bins).map(band_of).collect();
    let idx: Vec<usize> = (0..frames).collect();
    let rows: Vec<([f32; N_PITCH], [f32; TIMBRE_BANDS])> =
        map_frames(signal, N_FFT, HOP, &idx, |f| {
            let mut semis = [0.0f32; N_PITCH];
            for (s, tp) in semis.iter_mut().zip(&taps) {
                *s = tp.iter().map(|&(k, w)| f[k] * w).sum();
            }
            let mut tim = [0.0f64; TIMBRE_BANDS];
            for (k, b) in bands.iter().enumerate() {
                if let Some(b) = b {
                    tim[*b] += f64::from(f[k]) * f64::from(f[k]);
                }
            }
            let mut tb = [0.0f32; TIMBRE_BANDS];
            for (o, &e) in tb.iter_mut().zip(&tim) {
                *o = (10.0 * (e + 1e-10).log10()) as f32;
            }
            (semis, tb)
        });
    fold_chroma(&rows, tuning, f64::from(sample_rate) / HOP as f64)
}

fn midi_of(hz: f64) -> f64 {
    69.0 + 12.0 * (hz / 440.0).log2()
}

/// Weighted unit vector of the deviation of one spectrum's peaks (100 Hz – 2 kHz) from the
/// equal-tempered grid; summed over frames, its angle is the tuning offset.
fn tuning_vector(f: &[f32], bin_hz: f64) -> (f64, f64) {
    let k0 = (100.0 / bin_hz) as usize;
    let k1 = ((2000.0 / bin_hz) as usize).min(f.len() - 2);
    let max = f[k0..k1].iter().copied().fold(0.0f32, f32::max);
    let (mut sx, mut sy) = (0.0f64, 0.0f64);
    if max <= 0.0 {
        return (0.0, 0.0);
    }
    for k in k0..k1 {
        let (l, c, r) = (f[k - 1], f[k], f[k + 1]);
        if c > l && c >= r && c > 0.1 * max {
            let den = l - 2.0 * c + r;
            let d = if den < 0.0 { 0.5 * (l - r) / den } else { 0.0 };
            let m = midi_of((k as f64 + f64::from(d)) * bin_hz);
            let ang = 2.0 * std::f64::consts::PI * (m - m.round());
            sx += f64::from(c) * ang.cos();
            sy += f64::from(c) * ang.sin();
        }
    }
    (sx, sy)
}

/// Per-pitch weights of a chroma range `lo..=hi` (MIDI): a raised cosine over the range on a
/// floor of 0.2, zero outside.
fn range_weights(lo: i32, hi: i32) -> Vec<f32> {
    (0..N_PITCH)
        .map(|i| {
            let p = i as i32 + PITCH_LO;
            if (lo..=hi).contains(&p) {
                let x = f64::from(p - lo) / f64::from(hi - lo);
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * x).cos()) as f32 + 0.2
            } else {
                0.0
            }
        })
        .collect()
}

/// Compresses, whitens and folds the semitone rows into treble and bass chroma.
fn fold_chroma(
    rows: &[([f32; N_PITCH], [f32; TIMBRE_BANDS])],
    tuning: f64,
    frame_rate: f64,
) -> Chroma {
    let frames = rows.len();
    let mean = rows
        .iter()
        .flat_map(|r| r.0.iter())
        .map(|&v| f64::from(v))
        .sum::<f64>()
        / (frames * N_PITCH).max(1) as f64;
    let x0 = (mean * 0.01).max(1e-9) as f32;
    // Bass: MIDI 28–54, peaking around E2; treble: MIDI 48–95, peaking around C5.
    let bass_w = range_weights(28, 54);
    let treble_w = range_weights(48, 95);
    let mut out = Chroma {
        frame_rate,
        tuning_semitones: tuning,
        treble: Vec::with_capacity(frames),
        bass: Vec::with_capacity(frames),
        timbre: Vec::with_capacity(frames),
    };
    let mut logs = vec![0.0f32; N_PITCH];
    let mut prefix = vec![0.0f32; N_PITCH + 1];
    for (row, timbre) in rows {
        for (l, &v) in logs.iter_mut().zip(row) {
            *l = (1.0 + v / x0).ln();
        }
        for p in 0..N_PITCH {
            prefix[p + 1] = prefix[p] + logs[p];
        }
        let mut tre = [0.0f32; 12];
        let mut bas = [0.0f32; 12];
        for p in 0..N_PITCH {
            let a = p.saturating_sub(12);
            let b = (p + 13).min(N_PITCH);
            let local = (prefix[b] - prefix[a]) / (b - a) as f32;
            let w = (logs[p] - local).max(0.0);
            let pc = ((p as i32 + PITCH_LO) % 12) as usize;
            tre[pc] += w * treble_w[p];
            bas[pc] += w * bass_w[p];
        }
        out.treble.push(tre);
        out.bass.push(bas);
        out.timbre.push(*timbre);
    }
    out
}

/// Means of per-frame vectors over spans `[edges[i], edges[i+1])` (seconds). Frames are
/// centred at `t / frame_rate`.
pub fn span_means<const N: usize>(
    frames: &[[f32; N]],
    frame_rate: f64,
    edges: &[f64],
) -> Vec<[f32; N]> {
    edges
        .windows(2)
        .map(|w| {
            let a = ((w[0] * frame_rate).round().max(0.0) as usize).min(frames.len());
            let b = ((w[1] * frame_rate).round().max(0.0) as usize).clamp(a, frames.len());
            let mut acc = [0.0f32; N];
            if b > a {
                for f in &frames[a..b] {
                    for (x, &v) in acc.iter_mut().zip(f) {
                        *x += v;
                    }
                }
                for x in acc.iter_mut() {
                    *x /= (b - a) as f32;
                }
            } else if a < frames.len() {
                acc = frames[a];
            }
            acc
        })
        .collect()
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na <= 0.0 || nb <= 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freqs: &[f64], rate: u32, seconds: f64) -> Vec<f32> {
        let n = (seconds * f64::from(rate)) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                freqs
                    .iter()
                    .map(|f| {
                        // Three harmonics, like a simple instrument.
                        (1..=3)
                            .map(|h| {
                                (2.0 * std::f64::consts::PI * f * h as f64 * t).sin() / h as f64
                            })
                            .sum::<f64>()
                    })
                    .sum::<f64>() as f32
                    * 0.1
            })
            .collect()
    }

    fn hz(midi: f64) -> f64 {
        440.0 * 2f64.powf((midi - 69.0) / 12.0)
    }

    #[test]
    fn a_minor_triad_lights_a_c_e() {
        let x = tone(&[hz(57.0), hz(60.0), hz(64.0)], 22_050, 2.0);
        let c = chroma(&x, 22_050);
        let mid = c.treble[c.treble.len() / 2];
        let mut idx: Vec<usize> = (0..12).collect();
        idx.sort_by(|&a, &b| mid[b].total_cmp(&mid[a]));
        let mut top: Vec<usize> = idx[..3].to_vec();
        top.sort();
        assert_eq!(top, vec![0, 4, 9]);
    }

    #[test]
    fn tuning_of_a_sharp_track_is_found() {
        // A quarter-tone sharp (+0.3 semitone) C major triad.
        let x = tone(&[hz(60.3), hz(64.3), hz(67.3)], 22_050, 2.0);
        let t = chroma(&x, 22_050).tuning_semitones;
        assert!((t - 0.3).abs() < 0.05, "{t}");
    }

    #[test]
    fn bass_chroma_sees_the_bass_note() {
        let x = tone(&[hz(38.0), hz(62.0), hz(66.0), hz(69.0)], 22_050, 2.0); // D2 bass under a D major triad
        let c = chroma(&x, 22_050);
        let b = c.bass[c.bass.len() / 2];
        let arg = (0..12).max_by(|&i, &j| b[i].total_cmp(&b[j])).unwrap();
        assert_eq!(arg, 2);
    }
}
