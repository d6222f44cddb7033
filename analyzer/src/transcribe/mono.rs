//! The embedded pitch tracker, used when the Basic Pitch model is not available: one line of
//! notes from a harmonic-sum salience (each candidate f0, in thirds of a semitone from A0 to
//! C7, scores Σₕ 0.8ʰ⁻¹·|X(h·f0)| over its first eight partials), smoothed by a median over
//! five frames, and cut into notes where the pitch moves by more than half a semitone or the
//! level falls 30 dB below the loudest frame. It follows one line only, so polyphonic parts
//! get their most salient voice.

use super::Note;
use crate::spectrum::map_frames;

const N_FFT: usize = 4096;
const HOP: usize = 256;
const PARTIALS: usize = 8;
/// Candidate pitches: MIDI 21 (A0) to 96 (C7) in thirds of a semitone.
const LOW_MIDI: f64 = 21.0;
const STEPS: usize = (96 - 21) * 3 + 1;

/// One line of notes from a mono signal at `rate`, within `[min_midi, max_midi]`.
pub fn track(signal: &[f32], rate: u32, min_midi: u8, max_midi: u8) -> Vec<Note> {
    let bin_hz = rate as f64 / N_FFT as f64;
    let frames = signal.len() / HOP + 1;
    let idx: Vec<usize> = (0..frames).collect();
    let lo = ((min_midi as f64 - LOW_MIDI) * 3.0).max(0.0) as usize;
    let hi = (((max_midi as f64 - LOW_MIDI) * 3.0) as usize).min(STEPS - 1);
    let per_frame: Vec<(f32, f32)> = map_frames(signal, N_FFT, HOP, &idx, |mags| {
        let level: f32 = mags.iter().map(|m| m * m).sum::<f32>().sqrt();
        let mut best = (0.0f32, 0.0f32);
        for step in lo..=hi {
            let midi = LOW_MIDI + step as f64 / 3.0;
            let f0 = 440.0 * 2f64.powf((midi - 69.0) / 12.0);
            let mut s = 0.0f32;
            let mut w = 1.0f32;
            for h in 1..=PARTIALS {
                let k = (h as f64 * f0 / bin_hz).round() as usize;
                if k + 1 >= mags.len() {
                    break;
                }
                s += w * mags[k].max(mags[k + 1]).max(mags[k.saturating_sub(1)]);
                w *= 0.8;
            }
            if s > best.1 {
                best = (midi as f32, s);
            }
        }
        (best.0, level)
    });
    let loud = per_frame.iter().map(|p| p.1).fold(0.0f32, f32::max);
    if loud <= 0.0 {
        return Vec::new();
    }
    let pitch: Vec<f32> = (0..frames)
        .map(|t| {
            let mut w: Vec<f32> = (t.saturating_sub(2)..(t + 3).min(frames))
                .map(|u| per_frame[u].0)
                .collect();
            w.sort_by(f32::total_cmp);
            w[w.len() / 2]
        })
        .collect();
    let voiced: Vec<bool> = per_frame
        .iter()
        .map(|p| p.1 > loud * 10f32.powf(-1.5))
        .collect();
    let frame_s = HOP as f64 / rate as f64;
    let mut notes = Vec::new();
    let mut t = 0;
    while t < frames {
        if !voiced[t] {
            t += 1;
            continue;
        }
        let p0 = pitch[t].round();
        let mut u = t + 1;
        while u < frames && voiced[u] && (pitch[u] - p0).abs() <= 0.5 {
            u += 1;
        }
        if (u - t) as f64 * frame_s >= 0.08 {
            let level = per_frame[t..u].iter().map(|p| p.1).fold(0.0f32, f32::max);
            let db = 20.0 * (level / loud).max(1e-6).log10();
            notes.push(Note {
                start_s: t as f64 * frame_s,
                end_s: u as f64 * frame_s,
                pitch: p0.clamp(0.0, 127.0) as u8,
                velocity: (127.0 * (1.0 + db / 40.0)).round().clamp(1.0, 127.0) as u8,
                bend: Vec::new(),
            });
        }
        t = u;
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_sawtooth_melody() {
        let rate = 22_050;
        let melody = [45u8, 48, 52, 50];
        let mut signal = Vec::new();
        for &m in &melody {
            let f = 440.0 * 2f32.powf((m as f32 - 69.0) / 12.0);
            for i in 0..rate / 2 {
                let t = i as f32 / rate as f32;
                // A few partials, decreasing.
                let v: f32 = (1..6)
                    .map(|h| (2.0 * std::f32::consts::PI * f * h as f32 * t).sin() / h as f32)
                    .sum();
                signal.push(0.2 * v);
            }
        }
        let notes = track(&signal, rate, 28, 84);
        let pitches: Vec<u8> = notes.iter().map(|n| n.pitch).collect();
        assert_eq!(pitches, melody.to_vec(), "{notes:?}");
    }
}
