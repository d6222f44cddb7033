//! Basic Pitch (Bittner et al., "A Lightweight Instrument-Agnostic Model for Polyphonic Note
//! Transcription and Multipitch Estimation", ICASSP 2022) in Rust: the windowing of its
//! inference, the model through ONNX Runtime, and its note creation, following the Python
//! package (`basic_pitch.inference`, `basic_pitch.note_creation`, version 0.4.0) step for step
//! so that both give the same notes for the same audio.
//!
//! - Windows of 43 844 samples at 22 050 Hz, 30 output frames (7 680 samples) of overlap, the
//!   signal padded with half the overlap in front; each window's 15 edge frames on both sides
//!   are dropped and the rest concatenated (`unwrap_output`).
//! - Notes: onset peaks (local maxima in time) above the onset threshold, inferred onsets from
//!   the rise of the frame activation, each followed forward while the frame activation stays
//!   above the frame threshold (11 frames of tolerance); then the "melodia trick" tracks the
//!   remaining energy from its maximum outwards. Notes of `min_note_len` frames or fewer go.
//! - Pitch bends: the contour output around each note's pitch, weighted by a Gaussian
//!   (σ = 5 bins), arg-max per frame, in thirds of a semitone.
//! - Frame times carry the package's per-window correction (`model_frames_to_time`).
//!
//! The one place this departs from the Python code is speed: the melodia trick picks the global
//! maximum of the remaining energy again and again; here a max-heap with lazy deletion gives
//! the same picks in the same order (values only ever drop to zero) without rescanning.

use std::collections::BinaryHeap;

use crate::models::{Model, ModelError, Tensor};

/// Sample rate of the model's input, Hz.
pub const SAMPLE_RATE: u32 = 22_050;
/// Hop between output frames, samples.
pub const FFT_HOP: usize = 256;
/// Samples per model window.
pub const WINDOW: usize = SAMPLE_RATE as usize * 2 - FFT_HOP;
/// Output frames per window.
pub const WINDOW_FRAMES: usize = 172;
/// Output frames shared by consecutive windows.
pub const OVERLAP_FRAMES: usize = 30;
/// Output frames per second as the package counts them (integer division).
pub const FPS: usize = SAMPLE_RATE as usize / FFT_HOP;
/// Semitones in the note and onset outputs (A0 upwards).
pub const N_NOTES: usize = 88;
/// Bins in the contour output (three per semitone).
pub const N_CONTOUR: usize = 264;
/// MIDI note of the first note bin.
pub const MIDI_OFFSET: u8 = 21;
/// Windows per inference call.
const BATCH: usize = 8;

/// Model outputs for a whole signal, row-major `[frame][bin]`.
#[derive(Debug, Clone, Default)]
pub struct Activations {
    /// Output frames.
    pub frames: usize,
    /// Note (frame) activation, `frames × 88`.
    pub note: Vec<f32>,
    /// Onset activation, `frames × 88`.
    pub onset: Vec<f32>,
    /// Pitch contour, `frames × 264`.
    pub contour: Vec<f32>,
}

/// Runs the model over `audio` (mono, [`SAMPLE_RATE`]). Windows of digital silence (every
/// sample 0, as a stem is where its part rests) are not run: they take the model's output for
/// a silent window, computed once — the same numbers, without the work.
pub fn infer(
    model: &mut Model,
    audio: &[f32],
    progress: &mut dyn FnMut(f64),
) -> Result<Activations, ModelError> {
    infer_with(model, audio, true, progress)
}

/// [`infer`], with the skipping of silent windows as a choice (`false` runs every window).
pub fn infer_with(
    model: &mut Model,
    audio: &[f32],
    skip_silence: bool,
    progress: &mut dyn FnMut(f64),
) -> Result<Activations, ModelError> {
    let overlap_len = OVERLAP_FRAMES * FFT_HOP;
    let hop = WINDOW - overlap_len;
    let pad = overlap_len / 2;
    let padded_len = audio.len() + pad;
    let starts: Vec<usize> = (0..padded_len).step_by(hop).collect();
    let keep = WINDOW_FRAMES - OVERLAP_FRAMES; // frames kept per window
    let total = audio.len() * FPS / SAMPLE_RATE as usize;
    let sample = |i: usize| -> f32 {
        if i < pad {
            0.0
        } else {
            audio.get(i - pad).copied().unwrap_or(0.0)
        }
    };
    let silent = |s: usize| -> bool {
        let a = s.saturating_sub(pad).min(audio.len());
        let b = (s + WINDOW).saturating_sub(pad).min(audio.len());
        audio[a..b].iter().all(|&x| x == 0.0)
    };
    // Windows to run (in order), and the silent ones.
    let (quiet, loud): (Vec<usize>, Vec<usize>) =
        (0..starts.len()).partition(|&w| skip_silence && silent(starts[w]));
    let mut acts = Activations {
        frames: total,
        note: vec![0.0; starts.len() * keep * N_NOTES],
        onset: vec![0.0; starts.len() * keep * N_NOTES],
        contour: vec![0.0; starts.len() * keep * N_CONTOUR],
    };
    let mut place = |w: usize, out: &[Tensor], row: usize| {
        let trim = OVERLAP_FRAMES / 2;
        let rows = row * WINDOW_FRAMES + trim..row * WINDOW_FRAMES + trim + keep;
        let dst = w * keep..(w + 1) * keep;
        for (t, dst_v, bins) in [
            (&out[0], &mut acts.note, N_NOTES),
            (&out[1], &mut acts.onset, N_NOTES),
            (&out[2], &mut acts.contour, N_CONTOUR),
        ] {
            dst_v[dst.start * bins..dst.end * bins]
                .copy_from_slice(&t.data[rows.start * bins..rows.end * bins]);
        }
    };
    let name = model.manifest.name.clone();
    let mut run = |windows: &[Vec<f32>]| -> Result<Vec<Tensor>, ModelError> {
        let mut data = Vec::with_capacity(windows.len() * WINDOW);
        for w in windows {
            data.extend_from_slice(w);
        }
        let input = Tensor {
            shape: vec![windows.len() as i64, WINDOW as i64, 1],
            data,
        };
        let out = model.run(&[input])?;
        if out.len() != 3 {
            return Err(ModelError::Contract {
                name: name.clone(),
                detail: "expected three outputs (note, onset, contour)".into(),
            });
        }
        for (t, bins) in [(&out[0], N_NOTES), (&out[1], N_NOTES), (&out[2], N_CONTOUR)] {
            let expect = [windows.len() as i64, WINDOW_FRAMES as i64, bins as i64];
            if t.shape != expect {
                return Err(ModelError::Contract {
                    name: name.clone(),
                    detail: format!("output shape {:?}, expected {:?}", t.shape, expect),
                });
            }
        }
        Ok(out)
    };
    if !quiet.is_empty() {
        let out = run(&[vec![0.0; WINDOW]])?;
        for &w in &quiet {
            place(w, &out, 0);
        }
    }
    for (b, batch) in loud.chunks(BATCH).enumerate() {
        let windows: Vec<Vec<f32>> = batch
            .iter()
            .map(|&w| (starts[w]..starts[w] + WINDOW).map(sample).collect())
            .collect();
        let out = run(&windows)?;
        for (row, &w) in batch.iter().enumerate() {
            place(w, &out, row);
        }
        progress(((b + 1) * BATCH).min(loud.len()) as f64 / loud.len().max(1) as f64);
    }
    let available = acts.note.len() / N_NOTES;
    acts.frames = total.min(available);
    acts.note.truncate(acts.frames * N_NOTES);
    acts.onset.truncate(acts.frames * N_NOTES);
    acts.contour.truncate(acts.frames * N_CONTOUR);
    Ok(acts)
}

/// Note-creation settings (the package's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteParams {
    /// Minimum onset activation of a note start.
    pub onset_threshold: f32,
    /// Minimum frame activation for a note to go on.
    pub frame_threshold: f32,
    /// Notes must be longer than this many frames.
    pub min_note_frames: usize,
    /// Also take onsets from rises of the frame activation.
    pub infer_onsets: bool,
    /// Track the energy left over after onset-started notes.
    pub melodia_trick: bool,
    /// Frames below the frame threshold tolerated inside a note.
    pub energy_tolerance: usize,
    /// Lowest MIDI note kept (bins below are cleared), if any.
    pub min_midi: Option<u8>,
    /// Highest MIDI note kept (exclusive bin index as the package computes it), if any.
    pub max_midi: Option<u8>,
}

impl Default for NoteParams {
    fn default() -> Self {
        Self {
            onset_threshold: 0.5,
            frame_threshold: 0.3,
            min_note_frames: min_note_frames(127.70),
            infer_onsets: true,
            melodia_trick: true,
            energy_tolerance: 11,
            min_midi: None,
            max_midi: None,
        }
    }
}

/// Frames for a minimum note length in milliseconds, rounded as the package does.
pub fn min_note_frames(ms: f64) -> usize {
    (ms / 1000.0 * (SAMPLE_RATE as f64 / FFT_HOP as f64)).round() as usize
}

/// A note in output frames.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameNote {
    /// First frame.
    pub start: usize,
    /// Frame after the last.
    pub end: usize,
    /// MIDI note number.
    pub pitch: u8,
    /// Mean frame activation over the note, 0–1.
    pub amplitude: f32,
}

/// A decoded note in seconds, with its pitch bend curve.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteEvent {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// MIDI note number.
    pub pitch: u8,
    /// Mean frame activation, 0–1 (velocity = round(127 × amplitude)).
    pub amplitude: f32,
    /// Pitch offsets in thirds of a semitone, evenly spaced from start to end.
    pub bends: Vec<i32>,
    /// The model's onset activation at the note's start (its maximum over the start frame and
    /// its neighbours): low for notes the melodia trick found without an onset.
    pub onset: f32,
}

/// The package's `model_output_to_notes`: frame notes, pitch bends, times.
pub fn notes(acts: &Activations, params: &NoteParams) -> Vec<NoteEvent> {
    let frame_notes = output_to_notes_polyphonic(acts, params);
    let times = frame_times(acts.frames);
    frame_notes
        .into_iter()
        .map(|n| {
            let bends = pitch_bends(acts, &n);
            let bin = (n.pitch - MIDI_OFFSET) as usize;
            let onset = (n.start.saturating_sub(1)..(n.start + 2).min(acts.frames))
                .map(|t| acts.onset[t * N_NOTES + bin])
                .fold(0.0f32, f32::max);
            NoteEvent {
                onset,
                start_s: times[n.start],
                end_s: times
                    .get(n.end)
                    .copied()
                    .unwrap_or_else(|| frame_time(n.end)),
                pitch: n.pitch,
                amplitude: n.amplitude,
                bends,
            }
        })
        .collect()
}

fn frame_time(i: usize) -> f64 {
    let window_offset = (FFT_HOP as f64 / SAMPLE_RATE as f64)
        * (WINDOW_FRAMES as f64 - WINDOW as f64 / FFT_HOP as f64)
        + 0.0018;
    i as f64 * FFT_HOP as f64 / SAMPLE_RATE as f64 - window_offset * (i / WINDOW_FRAMES) as f64
}

/// The package's `model_frames_to_time`.
pub fn frame_times(n: usize) -> Vec<f64> {
    (0..n).map(frame_time).collect()
}

/// Onsets with rises of the frame activation added (`get_infered_onsets`, two-frame
/// differences).
fn inferred_onsets(onset: &[f32], note: &[f32], frames: usize) -> Vec<f32> {
    const N_DIFF: usize = 2;
    let mut diff = vec![0.0f64; frames * N_NOTES];
    for t in N_DIFF..frames {
        for f in 0..N_NOTES {
            let x = note[t * N_NOTES + f] as f64;
            let mut d = f64::INFINITY;
            for n in 1..=N_DIFF {
                d = d.min(x - note[(t - n) * N_NOTES + f] as f64);
            }
            diff[t * N_NOTES + f] = d.max(0.0);
        }
    }
    let max_onset = onset.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let max_diff = diff.iter().fold(0.0f64, |a, &b| a.max(b));
    let scale = if max_diff > 0.0 {
        max_onset / max_diff
    } else {
        0.0
    };
    onset
        .iter()
        .zip(&diff)
        .map(|(&o, &d)| (o as f64).max(d * scale) as f32)
        .collect()
}

/// Bin index of a MIDI note as the package rounds `hz_to_midi(f) - 21`.
fn clamp_bins(onset: &mut [f32], note: &mut [f32], params: &NoteParams) {
    let frames = note.len() / N_NOTES;
    for t in 0..frames {
        for f in 0..N_NOTES {
            let midi = f as i32 + MIDI_OFFSET as i32;
            let above = params.max_midi.is_some_and(|m| midi >= m as i32);
            let below = params.min_midi.is_some_and(|m| midi < m as i32);
            if above || below {
                onset[t * N_NOTES + f] = 0.0;
                note[t * N_NOTES + f] = 0.0;
            }
        }
    }
}

/// The package's `output_to_notes_polyphonic`.
pub fn output_to_notes_polyphonic(acts: &Activations, params: &NoteParams) -> Vec<FrameNote> {
    let n = acts.frames;
    if n < 3 {
        return Vec::new();
    }
    let mut frames = acts.note[..n * N_NOTES].to_vec();
    let mut onsets = acts.onset[..n * N_NOTES].to_vec();
    clamp_bins(&mut onsets, &mut frames, params);
    if params.infer_onsets {
        onsets = inferred_onsets(&onsets, &frames, n);
    }
    let at = |t: usize, f: usize| t * N_NOTES + f;

    // Peaks along time (scipy.signal.argrelmax, order 1: edges never count).
    let mut peaks = Vec::new();
    for t in 1..n - 1 {
        for f in 0..N_NOTES {
            let v = onsets[at(t, f)];
            if v > onsets[at(t - 1, f)] && v > onsets[at(t + 1, f)] && v >= params.onset_threshold {
                peaks.push((t, f));
            }
        }
    }
    let mut remaining = frames.clone();
    let thr = params.frame_threshold;
    let tol = params.energy_tolerance;
    let min_len = params.min_note_frames;
    let mut out = Vec::new();
    let mean = |frames: &[f32], a: usize, b: usize, f: usize| -> f32 {
        let s: f64 = (a..b).map(|t| frames[at(t, f)] as f64).sum();
        (s / (b - a).max(1) as f64) as f32
    };
    // Backwards in time, and within a frame from the highest bin down.
    for &(start, f) in peaks.iter().rev() {
        if start >= n - 1 {
            continue;
        }
        let mut i = start + 1;
        let mut k = 0;
        while i < n - 1 && k < tol {
            if remaining[at(i, f)] < thr {
                k += 1;
            } else {
                k = 0;
            }
            i += 1;
        }
        i -= k;
        if i - start <= min_len {
            continue;
        }
        for t in start..i {
            remaining[at(t, f)] = 0.0;
            if f + 1 < N_NOTES {
                remaining[at(t, f + 1)] = 0.0;
            }
            if f > 0 {
                remaining[at(t, f - 1)] = 0.0;
            }
        }
        out.push(FrameNote {
            start,
            end: i,
            pitch: f as u8 + MIDI_OFFSET,
            amplitude: mean(&frames, start, i, f),
        });
    }

    if params.melodia_trick {
        // Max-heap of (value, earliest index first) with lazy deletion: an entry is live while
        // the cell still holds its value.
        #[derive(PartialEq)]
        struct Cell(f32, usize);
        impl Eq for Cell {}
        impl PartialOrd for Cell {
            fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Cell {
            fn cmp(&self, o: &Self) -> std::cmp::Ordering {
                self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
            }
        }
        let mut heap: BinaryHeap<Cell> = remaining
            .iter()
            .enumerate()
            .filter(|(_, &v)| v > thr)
            .map(|(i, &v)| Cell(v, i))
            .collect();
        while let Some(Cell(v, idx)) = heap.pop() {
            if remaining[idx] != v {
                continue;
            }
            let (mid, f) = (idx / N_NOTES, idx % N_NOTES);
            remaining[idx] = 0.0;
            let clear = |remaining: &mut [f32], i: usize| {
                remaining[at(i, f)] = 0.0;
                if f + 1 < N_NOTES {
                    remaining[at(i, f + 1)] = 0.0;
                }
                if f > 0 {
                    remaining[at(i, f - 1)] = 0.0;
                }
            };
            // Forward.
            let mut i = mid + 1;
            let mut k = 0;
            while i < n - 1 && k < tol {
                if remaining[at(i, f)] < thr {
                    k += 1;
                } else {
                    k = 0;
                }
                clear(&mut remaining, i);
                i += 1;
            }
            let end = i - 1 - k;
            // Backward.
            let mut i = mid as isize - 1;
            let mut k = 0;
            while i > 0 && k < tol {
                let iu = i as usize;
                if remaining[at(iu, f)] < thr {
                    k += 1;
                } else {
                    k = 0;
                }
                clear(&mut remaining, iu);
                i -= 1;
            }
            let start = (i + 1 + k as isize).max(0) as usize;
            if end <= start || end - start <= min_len {
                continue;
            }
            out.push(FrameNote {
                start,
                end,
                pitch: f as u8 + MIDI_OFFSET,
                amplitude: mean(&frames, start, end, f),
            });
        }
    }
    out
}

/// The package's `get_pitch_bends` for one note: offsets in thirds of a semitone per frame.
pub fn pitch_bends(acts: &Activations, note: &FrameNote) -> Vec<i32> {
    const TOL: usize = 25;
    const WIN: usize = 2 * TOL + 1;
    let gauss: Vec<f32> = (0..WIN)
        .map(|n| {
            let x = (n as f64 - TOL as f64) / 5.0;
            (-0.5 * x * x).exp() as f32
        })
        .collect();
    let fi = 3 * (note.pitch - MIDI_OFFSET) as usize;
    let lo = fi.saturating_sub(TOL);
    let hi = (fi + TOL + 1).min(N_CONTOUR);
    let g0 = TOL.saturating_sub(fi);
    let shift = TOL as i32 - g0 as i32;
    (note.start..note.end.min(acts.frames))
        .map(|t| {
            let row = &acts.contour[t * N_CONTOUR..(t + 1) * N_CONTOUR];
            let mut best = 0usize;
            let mut best_v = f32::NEG_INFINITY;
            for (j, c) in (lo..hi).enumerate() {
                let v = row[c] * gauss[g0 + j];
                if v > best_v {
                    best_v = v;
                    best = j;
                }
            }
            best as i32 - shift
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acts_with(frames: usize, notes: &[(usize, usize, usize, f32)]) -> Activations {
        let mut a = Activations {
            frames,
            note: vec![0.0; frames * N_NOTES],
            onset: vec![0.0; frames * N_NOTES],
            contour: vec![0.0; frames * N_CONTOUR],
        };
        for &(s, e, f, v) in notes {
            for t in s..e {
                a.note[t * N_NOTES + f] = v;
                a.contour[t * N_CONTOUR + 3 * f + 1] = v;
            }
            a.onset[s * N_NOTES + f] = 0.9;
        }
        a
    }

    #[test]
    fn onset_started_notes_and_bends() {
        let a = acts_with(200, &[(20, 60, 40, 0.8), (100, 105, 50, 0.8)]);
        let n = notes(&a, &NoteParams::default());
        // The 5-frame note is too short; the 40-frame one is found with its exact extent.
        assert_eq!(n.len(), 1, "{n:?}");
        assert_eq!(n[0].pitch, 61);
        let f = output_to_notes_polyphonic(&a, &NoteParams::default());
        assert_eq!((f[0].start, f[0].end), (20, 60));
        assert!((n[0].amplitude - 0.8).abs() < 1e-6);
        // Contour a third of a semitone above the note's centre bin: bend +1 everywhere.
        assert!(n[0].bends.iter().all(|&b| b == 1), "{:?}", n[0].bends);
    }

    #[test]
    fn melodia_trick_finds_notes_without_onsets() {
        let mut a = acts_with(300, &[(50, 120, 30, 0.6)]);
        a.onset.iter_mut().for_each(|v| *v = 0.0);
        let p = NoteParams {
            infer_onsets: false,
            ..NoteParams::default()
        };
        let f = output_to_notes_polyphonic(&a, &p);
        assert_eq!(f.len(), 1, "{f:?}");
        // The package's melodia pass ends a note one frame before the onset pass would.
        assert_eq!((f[0].start, f[0].end, f[0].pitch), (50, 119, 51));
        let none = output_to_notes_polyphonic(
            &a,
            &NoteParams {
                melodia_trick: false,
                ..p
            },
        );
        assert!(none.is_empty());
    }

    #[test]
    fn frame_times_follow_the_package() {
        let t = frame_times(400);
        assert_eq!(t[0], 0.0);
        assert!((t[171] - 171.0 * 256.0 / 22050.0).abs() < 1e-12);
        // From the second window on, each window is shifted back by its offset.
        let off = (256.0 / 22050.0) * (172.0 - 43844.0 / 256.0) + 0.0018;
        assert!((t[172] - (172.0 * 256.0 / 22050.0 - off)).abs() < 1e-12);
        assert_eq!(min_note_frames(127.70), 11);
    }
}
