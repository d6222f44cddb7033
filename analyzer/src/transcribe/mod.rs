//! Transcription: the notes of each element.
//!
//! - Pitched elements go through Basic Pitch ([`basic_pitch`]), then through the policy of
//!   their role: bass and lead/vocal lines are made monophonic (one note at a time, the pitch
//!   curve kept as MIDI pitch bend); harmonic parts stay polyphonic.
//! - Drums go through our own drum transcriber ([`drums`]).
//!
//! Without the model (not installed, corrupt, or ONNX Runtime unusable) pitched elements fall
//! back to [`mono`], a harmonic-sum pitch tracker of our own that follows one line.

pub mod basic_pitch;
pub mod drums;
pub mod mono;

use serde::{Deserialize, Serialize};

use crate::models::{Device, Model, ModelError, Store};

pub use basic_pitch::{NoteEvent, NoteParams};

/// Name of the Basic Pitch manifest.
pub const BASIC_PITCH: &str = "basic-pitch";

/// Basic Pitch, loaded once and used for every pitched element.
#[derive(Debug)]
pub struct Transcriber {
    model: Model,
}

impl Transcriber {
    /// Loads the model from the cache.
    pub fn load(store: &Store, device: Device) -> Result<Self, ModelError> {
        Ok(Self {
            model: Model::load(store, BASIC_PITCH, device)?,
        })
    }

    /// Where inference runs: `cpu` or `cuda`.
    pub fn device(&self) -> &'static str {
        self.model.device
    }

    /// Model activations for a mono signal at 22 050 Hz.
    pub fn activations(
        &mut self,
        mono: &[f32],
        progress: &mut dyn FnMut(f64),
    ) -> Result<basic_pitch::Activations, ModelError> {
        basic_pitch::infer(&mut self.model, mono, progress)
    }

    /// Basic Pitch's note events (its defaults) with onset strengths, with progress.
    pub fn events(
        &mut self,
        mono: &[f32],
        progress: &mut dyn FnMut(f64),
    ) -> Result<Vec<NoteEvent>, ModelError> {
        let acts = self.activations(mono, progress)?;
        Ok(basic_pitch::notes(&acts, &NoteParams::default()))
    }

    /// Basic Pitch's own notes (its defaults), as the Python package gives them.
    pub fn raw_notes(&mut self, mono: &[f32]) -> Result<Vec<NoteEvent>, ModelError> {
        let acts = self.activations(mono, &mut |_| {})?;
        Ok(basic_pitch::notes(&acts, &NoteParams::default()))
    }

    /// The notes of a pitched element under its policy.
    pub fn notes(
        &mut self,
        mono: &[f32],
        policy: Policy,
        progress: &mut dyn FnMut(f64),
    ) -> Result<Vec<Note>, ModelError> {
        let acts = self.activations(mono, progress)?;
        Ok(apply_policy(&acts, policy))
    }
}

/// Notes from activations under a policy.
pub fn apply_policy(acts: &basic_pitch::Activations, policy: Policy) -> Vec<Note> {
    let params = NoteParams::default();
    let notes: Vec<Note> = basic_pitch::notes(acts, &params)
        .iter()
        .map(Note::from_event)
        .collect();
    match policy {
        Policy::Monophonic => monophonic_line(&basic_pitch::notes(acts, &params)),
        Policy::Polyphonic => joined(&basic_pitch::notes(acts, &params)),
        Policy::Drums => notes,
    }
}

/// Polyphonic notes with the pieces of held notes joined: a note that follows one of the same
/// pitch within 35 ms without an onset of its own (the model's onset activation below 0.5, as
/// when the melodia trick picks up the tail of a held note) continues it.
pub fn joined(events: &[NoteEvent]) -> Vec<Note> {
    let mut ev: Vec<&NoteEvent> = events.iter().collect();
    ev.sort_by(|a, b| a.pitch.cmp(&b.pitch).then(a.start_s.total_cmp(&b.start_s)));
    let mut out: Vec<Note> = Vec::with_capacity(ev.len());
    for e in ev {
        let n = Note::from_event(e);
        if let Some(k) = out.last_mut() {
            if k.pitch == n.pitch && n.start_s - k.end_s < 0.035 && e.onset < 0.5 {
                if n.end_s > k.end_s {
                    join(k, &n);
                }
                continue;
            }
        }
        out.push(n);
    }
    out.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.pitch.cmp(&b.pitch)));
    out
}

/// Extends `k` to the end of `n`, which continues it; the bend curves (one value per model
/// frame) are joined, or dropped when either note has none.
fn join(k: &mut Note, n: &Note) {
    if k.bend.is_empty() || n.bend.is_empty() {
        k.bend.clear();
    } else {
        let overlap = (((k.end_s - n.start_s).max(0.0)) * 86.0).round() as usize;
        k.bend.extend(n.bend.iter().skip(overlap));
    }
    k.end_s = n.end_s;
}

/// Keeps the first `keep` seconds of a note's bend curve (evenly spaced over its old span).
fn cut_bend(n: &mut Note, new_end: f64) {
    let old = n.end_s - n.start_s;
    if !n.bend.is_empty() && old > 0.0 {
        let keep = ((n.bend.len() as f64) * ((new_end - n.start_s) / old)).round() as usize;
        n.bend.truncate(keep.max(1));
    }
    n.end_s = new_end;
}

/// One line from Basic Pitch's notes, the way a monophonic instrument plays: a new onset ends
/// the sounding note. Of notes starting together (within 40 ms) the strongest (activation ×
/// duration) stays; a weaker note inside a stronger one at an octave, octave-and-fifth or two
/// octaves from it is a harmonic ghost and goes; a same-pitch note that follows within 35 ms
/// without an onset of its own (the model's onset activation below 0.5) continues the note
/// before it.
pub fn monophonic_line(events: &[NoteEvent]) -> Vec<Note> {
    let mut ev: Vec<&NoteEvent> = events.iter().collect();
    ev.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let score = |e: &NoteEvent| e.amplitude as f64 * (e.end_s - e.start_s);
    let mut picked: Vec<&NoteEvent> = Vec::with_capacity(ev.len());
    let mut i = 0;
    while i < ev.len() {
        let mut j = i + 1;
        while j < ev.len() && ev[j].start_s - ev[i].start_s < 0.04 {
            j += 1;
        }
        if let Some(best) = ev[i..j].iter().max_by(|a, b| score(a).total_cmp(&score(b))) {
            picked.push(best);
        }
        i = j;
    }
    let mut line: Vec<(Note, f32)> = Vec::with_capacity(picked.len());
    for e in picked {
        let n = Note::from_event(e);
        if let Some((k, k_amp)) = line.last_mut() {
            if n.start_s < k.end_s {
                let interval = (n.pitch as i32 - k.pitch as i32).abs();
                let ghost =
                    n.end_s <= k.end_s && matches!(interval, 12 | 19 | 24) && e.amplitude < *k_amp;
                if ghost {
                    continue;
                }
                if n.pitch == k.pitch && e.onset < 0.5 {
                    if n.end_s > k.end_s {
                        join(k, &n);
                    }
                    continue;
                }
                cut_bend(k, n.start_s);
                if k.end_s - k.start_s < 0.03 {
                    line.pop();
                }
            } else if n.pitch == k.pitch && n.start_s - k.end_s < 0.035 && e.onset < 0.5 {
                join(k, &n);
                continue;
            }
        }
        line.push((n, e.amplitude));
    }
    line.into_iter().map(|(n, _)| n).collect()
}

/// How an element's notes are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// One note at a time with pitch bends (bass, lead, vocals).
    Monophonic,
    /// Any number of notes at a time (keys, pads, guitars, the rest).
    Polyphonic,
    /// General MIDI drum notes.
    Drums,
}

impl Policy {
    /// The policy for an element role.
    pub fn for_role(role: &str) -> Self {
        match role {
            "drums" | "percussion" => Self::Drums,
            "bass" | "vocals" | "lead" => Self::Monophonic,
            _ => Self::Polyphonic,
        }
    }
}

/// A transcribed note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// Start, seconds from the start of the source.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// MIDI note number (General MIDI drum note for drums).
    pub pitch: u8,
    /// MIDI velocity, 1–127.
    pub velocity: u8,
    /// Pitch bend curve in semitones, evenly spaced from start to end (empty when flat).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bend: Vec<f32>,
}

impl Note {
    /// From a Basic Pitch event (velocity = round(127 × amplitude)).
    pub fn from_event(e: &NoteEvent) -> Self {
        let flat = e.bends.iter().all(|&b| b == 0);
        Self {
            start_s: e.start_s,
            end_s: e.end_s,
            pitch: e.pitch,
            velocity: ((127.0 * e.amplitude).round() as i32).clamp(1, 127) as u8,
            bend: if flat {
                Vec::new()
            } else {
                e.bends.iter().map(|&b| b as f32 / 3.0).collect()
            },
        }
    }
}

/// Places each note's onset where its own partials rise in `reference` (mono, `rate`): the frame
/// between 100 ms before and 45 ms after the transcribed onset (11.6 ms steps, 93 ms windows at
/// 22.05 kHz) with the largest rise, over two frames, of the magnitude on the note's first four
/// partials, when that rise exceeds 3 dB. Stems made by masking carry the mix's timing
/// smeared over the mask's window; the mix itself does not, so notes transcribed from a stem
/// take their onsets from the mix.
///
/// The same evidence then cleans the line: a note whose partials do not rise in the mix by
/// those 3 dB was not struck there — it continues the note before it when that note has
/// the same pitch and ends within 50 ms, and is dropped otherwise (the mask let another part's
/// energy through).
pub fn align_onsets(notes: &mut Vec<Note>, reference: &[f32], rate: u32) {
    const N_FFT: usize = 2048;
    const HOP: usize = 256;
    let frame_s = HOP as f64 / rate as f64;
    let bin_hz = rate as f32 / N_FFT as f32;
    let last = reference.len() / HOP;
    let mut rises = Vec::with_capacity(notes.len());
    for n in notes.iter_mut() {
        let t0 = (n.start_s / frame_s).round() as isize;
        let frames: Vec<usize> = ((t0 - 11).max(0)..=(t0 + 4).min(last as isize))
            .map(|t| t as usize)
            .collect();
        if frames.len() < 4 {
            rises.push(f32::INFINITY);
            continue;
        }
        let f0 = 440.0 * 2f32.powf((n.pitch as f32 - 69.0) / 12.0);
        let energy = crate::spectrum::map_frames(reference, N_FFT, HOP, &frames, |mags| {
            let mut e = 0.0f32;
            for h in 1..=4 {
                let k = (h as f32 * f0 / bin_hz).round() as usize;
                if k + 1 >= mags.len() {
                    break;
                }
                e += mags[k.saturating_sub(1)].max(mags[k]).max(mags[k + 1]);
            }
            e
        });
        // Where: the largest rise in magnitude (for a step it peaks with the window centred on
        // the onset). Whether: that rise in dB.
        let db = |x: f32| 20.0 * (x + 1e-6).log10();
        let best = (2..energy.len())
            .max_by(|&a, &b| (energy[a] - energy[a - 2]).total_cmp(&(energy[b] - energy[b - 2])))
            .map(|i| (i, db(energy[i]) - db(energy[i - 2])));
        if let Some((i, rise)) = best {
            if rise >= 3.0 {
                let start = (frames[i - 1] as f64) * frame_s;
                if start < n.end_s - 0.03 {
                    n.start_s = start;
                }
            }
        }
        rises.push(best.map_or(f32::INFINITY, |b| b.1));
    }
    let mut kept: Vec<Note> = Vec::with_capacity(notes.len());
    for (n, rise) in notes.drain(..).zip(rises) {
        if rise < 3.0 {
            if let Some(k) = kept.last_mut() {
                if k.pitch == n.pitch && n.start_s - k.end_s < 0.05 {
                    join(k, &n);
                }
            }
            continue;
        }
        kept.push(n);
    }
    *notes = kept;
}

/// Reduces overlapping notes to one line: where notes overlap, the note with the most energy
/// (activation × duration) keeps the time; others are cut or dropped. Used for bass and lead
/// lines, whose transcription otherwise carries octave and harmonic ghosts.
pub fn monophonic(mut notes: Vec<Note>, min_len_s: f64) -> Vec<Note> {
    let weight = |n: &Note| n.velocity as f64 * (n.end_s - n.start_s);
    notes.sort_by(|a, b| weight(b).total_cmp(&weight(a)));
    let mut kept: Vec<Note> = Vec::with_capacity(notes.len());
    'next: for mut n in notes {
        // Trim against stronger notes already kept.
        for k in &kept {
            let overlap = n.end_s.min(k.end_s) - n.start_s.max(k.start_s);
            if overlap <= 0.0 {
                continue;
            }
            if n.start_s >= k.start_s && n.end_s <= k.end_s {
                continue 'next;
            }
            if n.start_s < k.start_s && n.end_s > k.end_s {
                // A longer, weaker note around a stronger one: keep its head.
                n.end_s = k.start_s;
            } else if n.start_s < k.start_s {
                n.end_s = k.start_s;
            } else {
                n.start_s = k.end_s;
            }
            if n.end_s - n.start_s < min_len_s {
                continue 'next;
            }
        }
        // Bends were spaced over the original span; keep them only when the note is whole.
        kept.push(n);
    }
    kept.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(s: f64, e: f64, p: u8, v: u8) -> Note {
        Note {
            start_s: s,
            end_s: e,
            pitch: p,
            velocity: v,
            bend: Vec::new(),
        }
    }

    #[test]
    fn monophonic_keeps_the_strongest_line() {
        let notes = vec![
            note(0.0, 1.0, 40, 100),
            note(0.1, 0.9, 52, 40), // octave ghost inside the note
            note(0.9, 2.0, 43, 90), // overlaps the first by 0.1 s
            note(2.5, 3.0, 45, 80),
        ];
        let m = monophonic(notes, 0.05);
        let pitches: Vec<u8> = m.iter().map(|n| n.pitch).collect();
        assert_eq!(pitches, vec![40, 43, 45]);
        for w in m.windows(2) {
            assert!(w[0].end_s <= w[1].start_s + 1e-12, "{m:?}");
        }
    }

    fn event(s: f64, e: f64, p: u8, amp: f32, onset: f32) -> NoteEvent {
        NoteEvent {
            start_s: s,
            end_s: e,
            pitch: p,
            amplitude: amp,
            bends: Vec::new(),
            onset,
        }
    }

    #[test]
    fn monophonic_line_plays_like_a_mono_synth() {
        let line = monophonic_line(&[
            event(0.0, 1.0, 40, 0.8, 0.9),
            event(0.01, 0.5, 52, 0.3, 0.6), // octave ghost starting with it: weaker, goes
            event(0.2, 0.6, 64, 0.3, 0.6),  // two octaves up inside it: a harmonic ghost
            event(0.7, 1.5, 43, 0.7, 0.9),  // a new onset ends the first note
            event(1.5, 2.0, 43, 0.7, 0.2),  // same pitch, no onset: continues it
            event(2.1, 2.6, 43, 0.7, 0.9),  // same pitch with an onset: a new note
        ]);
        let got: Vec<(u8, f64, f64)> = line.iter().map(|n| (n.pitch, n.start_s, n.end_s)).collect();
        assert_eq!(got, vec![(40, 0.0, 0.7), (43, 0.7, 2.0), (43, 2.1, 2.6)]);
    }

    #[test]
    fn onsets_move_to_where_the_partials_rise() {
        // A 110 Hz tone from 1.0 s to 2.0 s, then the same pitch held on to 3.0 s.
        let rate = 22_050u32;
        let signal: Vec<f32> = (0..rate as usize * 4)
            .map(|i| {
                let t = i as f32 / rate as f32;
                if (1.0..3.0).contains(&t) {
                    (0.3 * (2.0 * std::f32::consts::PI * 110.0 * t).sin())
                        + 0.1 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                } else {
                    0.0
                }
            })
            .collect();
        let mut notes = vec![
            Note {
                start_s: 1.07,
                end_s: 2.0,
                pitch: 45,
                velocity: 100,
                bend: vec![],
            },
            // No onset of its own in the signal: continues the first note.
            Note {
                start_s: 2.01,
                end_s: 3.0,
                pitch: 45,
                velocity: 100,
                bend: vec![],
            },
        ];
        align_onsets(&mut notes, &signal, rate);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!((notes[0].start_s - 1.0).abs() < 0.03, "{notes:?}");
        assert!((notes[0].end_s - 3.0).abs() < 1e-9);
    }

    #[test]
    fn policies_by_role() {
        assert_eq!(Policy::for_role("bass"), Policy::Monophonic);
        assert_eq!(Policy::for_role("vocals"), Policy::Monophonic);
        assert_eq!(Policy::for_role("drums"), Policy::Drums);
        assert_eq!(Policy::for_role("piano"), Policy::Polyphonic);
        assert_eq!(Policy::for_role("other"), Policy::Polyphonic);
    }
}
