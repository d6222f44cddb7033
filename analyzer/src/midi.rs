//! Standard MIDI files of the transcribed elements, written with `midly`.
//!
//! The files carry the profile's timing so that they line up with the original in a DAW:
//! - MIDI time 0 is the start of the audio, and every detected beat falls exactly on a beat of
//!   the MIDI grid: one tempo per beat interval (written only when it changes), rounded to the
//!   microsecond with the error carried forward so no drift builds up.
//! - The first downbeat falls on a bar line: the span before it becomes a pickup bar with its
//!   own time signature (in quarters, eighths or sixteenths), then the song's meter.
//! - In compound meters (6/8, 9/8, 12/8) the beat is the dotted quarter.
//!
//! Format 1: track 0 holds tempo and meter, one track per element follows. Drums play on
//! channel 10 (General MIDI); pitched notes carry their pitch bend (range set to ±2 semitones
//! by RPN 0), only on notes that sound alone.

use std::path::Path;

use midly::num::{u15, u24, u28, u4, u7};
use midly::{
    Format, Header, MetaMessage, MidiMessage, PitchBend, Smf, Timing, TrackEvent, TrackEventKind,
};

use crate::error::{Error, Result};
use crate::session::Session;
use crate::transcribe::Note;

/// Ticks per quarter note.
pub const PPQ: u32 = 480;
/// Pitch bend range written by RPN 0, semitones.
pub const BEND_RANGE: f32 = 2.0;
/// Channel index of General MIDI drums (channel 10).
pub const DRUM_CHANNEL: u8 = 9;

/// Seconds ↔ ticks for one session.
#[derive(Debug, Clone)]
pub struct Grid {
    /// (seconds, tick) anchors, increasing in both.
    anchors: Vec<(f64, f64)>,
    /// Ticks per second after the last anchor.
    tail_rate: f64,
    /// (tick, microseconds per quarter).
    tempos: Vec<(u64, u32)>,
    /// (tick, numerator, denominator).
    meters: Vec<(u64, u8, u8)>,
}

impl Grid {
    /// The grid of a session's beats, downbeats, tempo and meter.
    pub fn from_session(s: &Session) -> Self {
        let compound = s.meter.denominator == 8 && s.meter.numerator % 3 == 0;
        let beat_ticks = if compound {
            PPQ as f64 * 1.5
        } else {
            PPQ as f64 * 4.0 / s.meter.denominator.max(1) as f64
        };
        let num = s.meter.numerator.clamp(1, 255) as u8;
        let den = s.meter.denominator.clamp(1, 64) as u8;
        let bar_ticks = if compound {
            beat_ticks * (num as f64 / 3.0)
        } else {
            beat_ticks * num as f64
        };
        let beats: Vec<f64> = s.beats.iter().copied().filter(|b| b.is_finite()).collect();
        if beats.len() < 2 {
            let bpm = if s.tempo.bpm > 0.0 {
                s.tempo.bpm
            } else {
                120.0
            };
            let rate = bpm / 60.0 * PPQ as f64;
            return Self {
                anchors: vec![(0.0, 0.0)],
                tail_rate: rate,
                tempos: vec![(0, (60e6 / bpm).round() as u32)],
                meters: vec![(0, num, den)],
            };
        }
        let j0 = s
            .downbeats
            .first()
            .and_then(|d| beats.iter().position(|b| (b - d).abs() < 1e-6))
            .unwrap_or(0);
        // Ticks of the first downbeat: a whole number of sixteenths, and enough room before it
        // for the beats ahead of it plus a lead-in.
        let sixteenth = PPQ as f64 / 4.0;
        let ibi0 = beats[1] - beats[0];
        let lead = if beats[0] > 1e-3 {
            beats[0] / ibi0 * beat_ticks
        } else {
            0.0
        };
        let natural = lead + j0 as f64 * beat_ticks;
        let mut t0 = (natural / sixteenth).round() * sixteenth;
        if beats[0] > 1e-3 && t0 <= j0 as f64 * beat_ticks {
            t0 += sixteenth;
        }
        let lead = t0 - j0 as f64 * beat_ticks;
        let mut anchors = Vec::with_capacity(beats.len() + 1);
        if beats[0] > 1e-3 {
            anchors.push((0.0, 0.0));
        }
        for (i, &b) in beats.iter().enumerate() {
            anchors.push((b, lead + i as f64 * beat_ticks));
        }
        let last = beats.len() - 1;
        let tail_rate = beat_ticks / (beats[last] - beats[last - 1]).max(1e-3);

        // Tempo per anchor span, microseconds per quarter, error carried forward.
        let mut tempos: Vec<(u64, u32)> = Vec::new();
        let mut carried = 0.0f64;
        for w in anchors.windows(2) {
            let (ta, ka) = w[0];
            let (tb, kb) = w[1];
            let quarters = (kb - ka) / PPQ as f64;
            if quarters <= 0.0 {
                continue;
            }
            let exact = (tb - ta) * 1e6 / quarters + carried;
            let us = exact.round().clamp(1.0, 16_777_215.0);
            carried = exact - us; // the residue goes into the next span
            let us = us as u32;
            let tick = ka.round() as u64;
            if tempos.last().map(|&(_, u)| u) != Some(us) {
                tempos.push((tick, us));
            }
        }
        if tempos.is_empty() {
            tempos.push((0, (60e6 / s.tempo.bpm.max(1.0)).round() as u32));
        }
        tempos[0].0 = 0;

        let mut meters = Vec::new();
        let pickup = (t0.round() as u64) % (bar_ticks.round() as u64).max(1);
        if pickup > 0 {
            let (n, d) = if pickup % PPQ as u64 == 0 {
                (pickup / PPQ as u64, 4)
            } else if pickup % (PPQ as u64 / 2) == 0 {
                (pickup / (PPQ as u64 / 2), 8)
            } else {
                (pickup / (PPQ as u64 / 4), 16)
            };
            meters.push((0, n.min(255) as u8, d));
            meters.push((pickup, num, den));
        } else {
            meters.push((0, num, den));
        }
        Self {
            anchors,
            tail_rate,
            tempos,
            meters,
        }
    }

    /// Tick of a time in seconds (piecewise linear between beats).
    pub fn tick(&self, t: f64) -> u64 {
        let t = t.max(0.0);
        let a = &self.anchors;
        let i = a.partition_point(|&(s, _)| s <= t);
        let ticks = if i == 0 {
            // Before the first anchor (only when the first beat is at 0 s).
            a[0].1 - (a[0].0 - t) * self.tail_rate
        } else if i >= a.len() {
            let (s, k) = a[a.len() - 1];
            k + (t - s) * self.tail_rate
        } else {
            let (s0, k0) = a[i - 1];
            let (s1, k1) = a[i];
            k0 + (t - s0) / (s1 - s0) * (k1 - k0)
        };
        ticks.max(0.0).round() as u64
    }

    /// Tempo changes: (tick, microseconds per quarter).
    pub fn tempos(&self) -> &[(u64, u32)] {
        &self.tempos
    }

    /// Meter changes: (tick, numerator, denominator).
    pub fn meters(&self) -> &[(u64, u8, u8)] {
        &self.meters
    }
}

/// One element's notes for a MIDI file.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// Track name.
    pub name: &'a str,
    /// Drums (channel 10) or pitched.
    pub drums: bool,
    /// General MIDI program for pitched parts.
    pub program: u8,
    /// The notes.
    pub notes: &'a [Note],
}

fn ev(tick: u64, kind: TrackEventKind<'_>) -> (u64, u8, TrackEventKind<'_>) {
    // The middle value orders events at the same tick: note-offs and bend resets before
    // note-ons.
    let order = match kind {
        TrackEventKind::Meta(_) => 0,
        TrackEventKind::Midi {
            message: MidiMessage::NoteOff { .. },
            ..
        } => 1,
        TrackEventKind::Midi {
            message: MidiMessage::Controller { .. } | MidiMessage::ProgramChange { .. },
            ..
        } => 2,
        TrackEventKind::Midi {
            message: MidiMessage::PitchBend { .. },
            ..
        } => 3,
        _ => 4,
    };
    (tick, order, kind)
}

fn finish(mut events: Vec<(u64, u8, TrackEventKind<'_>)>) -> Vec<TrackEvent<'_>> {
    events.sort_by_key(|&(t, o, _)| (t, o));
    let mut out = Vec::with_capacity(events.len() + 1);
    let mut last = 0u64;
    for (t, _, kind) in events {
        let delta = (t - last).min(u28::max_value().as_int() as u64) as u32;
        out.push(TrackEvent {
            delta: u28::new(delta),
            kind,
        });
        last = t;
    }
    out.push(TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    out
}

fn part_events<'a>(grid: &Grid, part: &Part<'a>) -> Vec<TrackEvent<'a>> {
    let ch = u4::new(if part.drums { DRUM_CHANNEL } else { 0 });
    let mut events = vec![ev(
        0,
        TrackEventKind::Meta(MetaMessage::TrackName(part.name.as_bytes())),
    )];
    let midi = |message| TrackEventKind::Midi {
        channel: ch,
        message,
    };
    if !part.drums {
        events.push(ev(
            0,
            midi(MidiMessage::ProgramChange {
                program: u7::new(part.program.min(127)),
            }),
        ));
        for (cc, v) in [(101u8, 0u8), (100, 0), (6, BEND_RANGE as u8), (38, 0)] {
            events.push(ev(
                0,
                midi(MidiMessage::Controller {
                    controller: u7::new(cc),
                    value: u7::new(v),
                }),
            ));
        }
    }
    let mut notes: Vec<&Note> = part.notes.iter().collect();
    notes.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    for (i, n) in notes.iter().enumerate() {
        let on = grid.tick(n.start_s);
        let off = grid.tick(n.end_s).max(on + 1);
        let key = u7::new(n.pitch.min(127));
        events.push(ev(
            on,
            midi(MidiMessage::NoteOn {
                key,
                vel: u7::new(n.velocity.clamp(1, 127)),
            }),
        ));
        events.push(ev(
            off,
            midi(MidiMessage::NoteOff {
                key,
                vel: u7::new(0),
            }),
        ));
        let alone = !notes
            .iter()
            .enumerate()
            .any(|(j, m)| j != i && m.start_s < n.end_s && n.start_s < m.end_s);
        if part.drums || n.bend.is_empty() || !alone {
            continue;
        }
        let steps = n.bend.len();
        let mut previous = None;
        for (k, &b) in n.bend.iter().enumerate() {
            let t = if steps > 1 {
                n.start_s + (n.end_s - n.start_s) * k as f64 / (steps - 1) as f64
            } else {
                n.start_s
            };
            let value = ((b / BEND_RANGE) * 8192.0).round().clamp(-8192.0, 8191.0) as i16;
            if previous == Some(value) {
                continue;
            }
            previous = Some(value);
            events.push(ev(
                grid.tick(t).min(off),
                midi(MidiMessage::PitchBend {
                    bend: PitchBend::from_int(value),
                }),
            ));
        }
        if previous.is_some_and(|v| v != 0) {
            events.push(ev(
                off,
                midi(MidiMessage::PitchBend {
                    bend: PitchBend::from_int(0),
                }),
            ));
        }
    }
    finish(events)
}

fn conductor(grid: &Grid) -> Vec<TrackEvent<'static>> {
    let mut events = Vec::new();
    for &(tick, us) in grid.tempos() {
        events.push(ev(
            tick,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(us))),
        ));
    }
    for &(tick, n, d) in grid.meters() {
        let log2 = d.max(1).trailing_zeros() as u8;
        events.push(ev(
            tick,
            TrackEventKind::Meta(MetaMessage::TimeSignature(n, log2, 24, 8)),
        ));
    }
    finish(events)
}

/// The bytes of a format-1 file with the session's timing and the given parts.
pub fn to_bytes(grid: &Grid, parts: &[Part<'_>]) -> Vec<u8> {
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(PPQ as u16)),
    ));
    smf.tracks.push(conductor(grid));
    for p in parts {
        smf.tracks.push(part_events(grid, p));
    }
    let mut bytes = Vec::new();
    // Writing to memory cannot fail for well-formed tracks.
    if smf.write_std(&mut bytes).is_err() {
        bytes.clear();
    }
    bytes
}

/// Writes a MIDI file atomically.
pub fn write(path: &Path, grid: &Grid, parts: &[Part<'_>]) -> Result<()> {
    let bytes = to_bytes(grid, parts);
    if bytes.is_empty() {
        return Err(Error::Internal {
            stage: "midi",
            detail: format!("could not encode {}", path.display()),
        });
    }
    crate::session::write_atomic(path, &bytes)
}

pub use auralis_engine::smf::{read_notes, ReadNote};

#[cfg(test)]
mod tests {
    use super::*;

    fn session(beats: Vec<f64>, downbeats: Vec<f64>, num: u32, den: u32) -> Session {
        let mut s = crate::session::example();
        s.beats = beats;
        s.downbeats = downbeats;
        s.meter.numerator = num;
        s.meter.denominator = den;
        s
    }

    #[test]
    fn beats_land_on_the_grid_and_notes_round_trip() {
        // Tempo drifting from 120 to ~126 BPM, first beat at 0.37 s, first downbeat on the
        // third beat (a two-beat pickup).
        let mut beats = Vec::new();
        let mut t = 0.37;
        for i in 0..64 {
            beats.push(t);
            t += 0.5 - 0.0003 * i as f64;
        }
        let downbeats: Vec<f64> = beats.iter().skip(2).step_by(4).copied().collect();
        let s = session(beats.clone(), downbeats.clone(), 4, 4);
        let grid = Grid::from_session(&s);
        // The span before the first downbeat is a pickup bar; the song's meter starts on it.
        let d0 = grid.tick(downbeats[0]);
        let (_, n, d) = grid.meters()[0];
        assert_eq!(
            n as u64 * 4 * PPQ as u64 / d as u64,
            d0,
            "{:?}",
            grid.meters()
        );
        assert_eq!(grid.meters()[1], (d0, 4, 4));
        for w in beats.windows(2) {
            assert_eq!(grid.tick(w[1]) - grid.tick(w[0]), PPQ as u64);
        }
        let notes: Vec<Note> = beats
            .iter()
            .enumerate()
            .map(|(i, &b)| Note {
                start_s: b + 0.01,
                end_s: b + 0.3,
                pitch: 40 + (i % 12) as u8,
                velocity: 90,
                bend: if i == 3 { vec![0.0, 0.5, 1.0] } else { vec![] },
            })
            .collect();
        let bytes = to_bytes(
            &grid,
            &[Part {
                name: "bass",
                drums: false,
                program: 33,
                notes: &notes,
            }],
        );
        let back = read_notes(&bytes).unwrap();
        assert_eq!(back.len(), notes.len());
        for (a, b) in notes.iter().zip(&back) {
            assert_eq!(a.pitch, b.pitch);
            assert_eq!(b.velocity, 90);
            assert!((a.start_s - b.start_s).abs() < 0.002, "{a:?} {b:?}");
            assert!((a.end_s - b.end_s).abs() < 0.002, "{a:?} {b:?}");
        }
    }

    #[test]
    fn compound_meter_beats_are_dotted_quarters() {
        let beats: Vec<f64> = (0..24).map(|i| i as f64 * 0.6).collect();
        let downbeats: Vec<f64> = beats.iter().step_by(2).copied().collect();
        let grid = Grid::from_session(&session(beats.clone(), downbeats, 6, 8));
        assert_eq!(grid.tick(beats[1]), 720);
        // 0.6 s per dotted quarter = 0.4 s per quarter.
        assert_eq!(grid.tempos()[0].1, 400_000);
        assert_eq!(grid.meters(), &[(0, 6, 8)]);
    }

    #[test]
    fn drums_on_channel_ten() {
        let s = session(vec![], vec![], 4, 4);
        let grid = Grid::from_session(&s);
        let notes = vec![Note {
            start_s: 1.0,
            end_s: 1.1,
            pitch: 36,
            velocity: 100,
            bend: vec![],
        }];
        let bytes = to_bytes(
            &grid,
            &[Part {
                name: "drums",
                drums: true,
                program: 0,
                notes: &notes,
            }],
        );
        let back = read_notes(&bytes).unwrap();
        assert_eq!(back[0].channel, DRUM_CHANNEL);
        assert!((back[0].start_s - 1.0).abs() < 0.002);
    }
}
