//! Notes of a Standard MIDI File, as the analyzer renders them and the Instrument plugin plays
//! them: one reader, so both see the same notes at the same times.
//!
//! Times come in seconds (ticks through the file's tempo map; the analyzer writes MIDI time 0
//! at the start of the audio) and in beats (ticks over the file's ticks per quarter note), so a
//! player can follow either the track's timeline or a host's tempo.

use midly::{MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};

use crate::render::NoteSpec;

/// A note read back from a MIDI file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadNote {
    /// Track index.
    pub track: usize,
    /// Channel 0–15.
    pub channel: u8,
    /// Key.
    pub pitch: u8,
    /// Velocity.
    pub velocity: u8,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Start, quarter notes from the file's start.
    pub start_beats: f64,
    /// End, quarter notes.
    pub end_beats: f64,
}

impl ReadNote {
    /// The note as the engine renders it (velocity scaled to 0..1).
    pub fn spec(&self) -> NoteSpec {
        NoteSpec {
            start_s: self.start_s,
            end_s: self.end_s,
            pitch: self.pitch,
            velocity: self.velocity as f32 / 127.0,
        }
    }
}

/// Reads the notes of a MIDI file (every track), converting ticks to seconds through its tempo
/// map; sorted by start, then pitch. A note-on without its note-off is dropped.
pub fn read_notes(bytes: &[u8]) -> Result<Vec<ReadNote>, String> {
    let smf = Smf::parse(bytes).map_err(|e| e.to_string())?;
    let ppq = match smf.header.timing {
        Timing::Metrical(t) if t.as_int() > 0 => t.as_int() as f64,
        Timing::Metrical(_) => return Err("zero ticks per quarter note".into()),
        Timing::Timecode(..) => return Err("SMPTE timing is not supported".into()),
    };
    // Tempo map from every track (format 1 keeps it in track 0).
    let mut tempos: Vec<(u64, u32)> = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for e in track {
            tick += e.delta.as_int() as u64;
            if let TrackEventKind::Meta(MetaMessage::Tempo(us)) = e.kind {
                tempos.push((tick, us.as_int()));
            }
        }
    }
    tempos.sort();
    let seconds = |tick: u64| -> f64 {
        let mut t = 0.0;
        let mut last_tick = 0u64;
        let mut us = 500_000.0;
        for &(k, u) in &tempos {
            if k >= tick {
                break;
            }
            t += (k - last_tick) as f64 / ppq * us / 1e6;
            last_tick = k;
            us = u as f64;
        }
        t + (tick - last_tick) as f64 / ppq * us / 1e6
    };
    let mut notes = Vec::new();
    for (ti, track) in smf.tracks.iter().enumerate() {
        let mut tick = 0u64;
        let mut open: Vec<(u8, u8, u8, u64)> = Vec::new();
        for e in track {
            tick += e.delta.as_int() as u64;
            if let TrackEventKind::Midi { channel, message } = e.kind {
                let ch = channel.as_int();
                let (key, vel, on) = match message {
                    MidiMessage::NoteOn { key, vel } => (key.as_int(), vel.as_int(), vel > 0),
                    MidiMessage::NoteOff { key, vel } => (key.as_int(), vel.as_int(), false),
                    _ => continue,
                };
                if on {
                    open.push((ch, key, vel, tick));
                } else if let Some(i) = open.iter().position(|&(c, k, _, _)| c == ch && k == key) {
                    let (c, k, v, start) = open.remove(i);
                    notes.push(ReadNote {
                        track: ti,
                        channel: c,
                        pitch: k,
                        velocity: v,
                        start_s: seconds(start),
                        end_s: seconds(tick),
                        start_beats: start as f64 / ppq,
                        end_beats: tick as f64 / ppq,
                    });
                }
            }
        }
    }
    notes.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.pitch.cmp(&b.pitch)));
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use midly::num::{u15, u24, u28, u4, u7};
    use midly::{Format, Header, TrackEvent};

    fn event(delta: u32, kind: TrackEventKind<'static>) -> TrackEvent<'static> {
        TrackEvent {
            delta: u28::new(delta),
            kind,
        }
    }

    fn note(on: bool, key: u8) -> TrackEventKind<'static> {
        let (key, vel) = (u7::new(key), u7::new(if on { 100 } else { 0 }));
        TrackEventKind::Midi {
            channel: u4::new(0),
            message: if on {
                MidiMessage::NoteOn { key, vel }
            } else {
                MidiMessage::NoteOff { key, vel }
            },
        }
    }

    #[test]
    fn ticks_become_seconds_through_the_tempo_map_and_beats_through_ppq() {
        // 480 ticks per quarter; 120 BPM for the first beat, then 60 BPM.
        let tempo = vec![
            event(
                0,
                TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000))),
            ),
            event(
                480,
                TrackEventKind::Meta(MetaMessage::Tempo(u24::new(1_000_000))),
            ),
            event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack)),
        ];
        let notes = vec![
            event(240, note(true, 60)),
            event(480, note(false, 60)),
            event(0, note(true, 64)), // never released: dropped
            event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack)),
        ];
        let smf = Smf {
            header: Header::new(Format::Parallel, Timing::Metrical(u15::new(480))),
            tracks: vec![tempo, notes],
        };
        let mut bytes = Vec::new();
        smf.write_std(&mut bytes).unwrap();
        let read = read_notes(&bytes).unwrap();
        assert_eq!(read.len(), 1);
        let n = &read[0];
        assert_eq!((n.track, n.pitch, n.velocity), (1, 60, 100));
        // Start at half a beat of 120 BPM; the end half a beat later at 60 BPM.
        assert!((n.start_s - 0.25).abs() < 1e-12, "{}", n.start_s);
        assert!((n.end_s - 1.0).abs() < 1e-12, "{}", n.end_s);
        assert_eq!((n.start_beats, n.end_beats), (0.5, 1.5));
        assert!((n.spec().velocity - 100.0 / 127.0).abs() < 1e-7);
    }

    #[test]
    fn malformed_files_are_errors() {
        assert!(read_notes(b"not a midi file").is_err());
    }
}
