//! Offline rendering of a note list through the synth (the analyzer's renders and fitting).
//!
//! Notes become events at `round(time × rate)` samples; at one sample, note-offs come before
//! note-ons, so a key struck again at the instant it is released restarts. Rendering runs in
//! blocks of [`BLOCK`] samples, which (by the engine's contract) gives the same samples as any
//! other block size.

use crate::params::Values;
use crate::synth::{Event, EventKind, Synth};

/// Block size of offline rendering, samples.
pub const BLOCK: usize = 512;

/// A note to render.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteSpec {
    /// Onset, seconds.
    pub start_s: f64,
    /// Release, seconds.
    pub end_s: f64,
    /// MIDI note number.
    pub pitch: u8,
    /// Velocity, 0..1.
    pub velocity: f32,
}

/// A note's event at a sample: what [`events`] returns, with the index of the note it came
/// from (so a player can place it on another timeline, such as a host's beats).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timed {
    /// Sample at `sample_rate`.
    pub sample: u64,
    /// Index into the notes.
    pub note: usize,
    /// Note-on or note-off.
    pub kind: EventKind,
}

/// The events of `notes` at `sample_rate` with their notes, in the order of [`events`].
pub fn timed_events(notes: &[NoteSpec], sample_rate: f32) -> Vec<Timed> {
    let at = |s: f64| (s.max(0.0) * sample_rate as f64).round() as u64;
    let mut out: Vec<Timed> = Vec::with_capacity(2 * notes.len());
    for (i, n) in notes.iter().enumerate() {
        let on = at(n.start_s);
        let off = at(n.end_s).max(on + 1);
        out.push(Timed {
            sample: on,
            note: i,
            kind: EventKind::NoteOn {
                note: n.pitch.min(127),
                velocity: n.velocity,
            },
        });
        out.push(Timed {
            sample: off,
            note: i,
            kind: EventKind::NoteOff {
                note: n.pitch.min(127),
            },
        });
    }
    let rank = |k: &EventKind| match k {
        EventKind::NoteOff { .. } => 0,
        _ => 1,
    };
    out.sort_by(|a, b| {
        a.sample
            .cmp(&b.sample)
            .then(rank(&a.kind).cmp(&rank(&b.kind)))
    });
    out
}

/// The events of `notes` at `sample_rate`, sorted by sample (note-offs first at a tie).
pub fn events(notes: &[NoteSpec], sample_rate: f32) -> Vec<(u64, EventKind)> {
    timed_events(notes, sample_rate)
        .into_iter()
        .map(|t| (t.sample, t.kind))
        .collect()
}

/// Renders `notes` with `values` into `len` stereo samples at the synth's rate (allocates the
/// output; the synth must be allocated). The synth is reset first.
pub fn render_with(
    synth: &mut Synth,
    values: &Values,
    notes: &[NoteSpec],
    len: usize,
) -> [Vec<f32>; 2] {
    synth.set_values(*values);
    synth.reset();
    let rate = synth.tables().map_or(48_000.0, |t| t.sample_rate());
    let all = events(notes, rate);
    let mut left = vec![0.0f32; len];
    let mut right = vec![0.0f32; len];
    let mut block: Vec<Event> = Vec::with_capacity(64);
    let mut next = 0;
    let mut start = 0usize;
    while start < len {
        let end = (start + BLOCK).min(len);
        block.clear();
        while next < all.len() && (all[next].0 as usize) < end {
            block.push(Event {
                time: (all[next].0 as usize).saturating_sub(start) as u32,
                kind: all[next].1,
            });
            next += 1;
        }
        synth.process(&block, &mut left[start..end], &mut right[start..end]);
        start = end;
    }
    [left, right]
}

/// Renders `notes` with `values` at `sample_rate` for `len` samples (allocates a synth and
/// its tables; for many renders at one rate, keep a [`Synth`] and use [`render_with`]).
pub fn render(values: &Values, notes: &[NoteSpec], sample_rate: f32, len: usize) -> [Vec<f32>; 2] {
    let mut synth = Synth::new(*values);
    synth.allocate(sample_rate);
    render_with(&mut synth, values, notes, len)
}
