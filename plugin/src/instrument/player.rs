//! Plays a part's events against the host's transport, block by block (audio thread: no
//! allocation).
//!
//! The player keeps its own position and follows the host while the host plays on: each block
//! starts where the last one ended. A host position within 10 ms of that is drift (a tempo
//! ramp, rounding): the player takes it and plays on. Further away (a loop, a jump) or at a
//! start, the player releases the notes it holds and continues from the host's position. Notes
//! that began before that position are not struck again (as a DAW's MIDI clip does).
//!
//! Two timelines:
//! - [`Sync::Track`]: the element's notes at their times in the track (seconds), as the
//!   analyzer rendered them and as the A/B plugin plays the original;
//! - [`Sync::Tempo`]: at their beats in the MIDI file, following the host's tempo.

use auralis_engine::EventKind;

use super::part::Part;

/// Which timeline the notes follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// The track's seconds.
    Track,
    /// The MIDI file's beats at the host's tempo.
    Tempo,
}

/// The host's transport at the start of a block.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HostTime {
    /// Whether the transport runs.
    pub playing: bool,
    /// Position, samples at the plugin's rate.
    pub pos_samples: Option<i64>,
    /// Position, quarter notes.
    pub pos_beats: Option<f64>,
    /// Tempo, beats per minute.
    pub tempo: Option<f64>,
}

/// Tempo assumed when the host gives none.
const DEFAULT_TEMPO: f64 = 120.0;
/// A host position this close to where the player expected it (but more than a sample
/// away) is a drift of the host's clock (a tempo ramp, beats rounded), not a jump: the player
/// takes the host's position and keeps its notes.
const RESYNC_S: f64 = 0.010;

/// The player's state.
#[derive(Debug, Clone)]
pub struct Player {
    playing: bool,
    next: usize,
    expect_sample: i64,
    expect_beat: f64,
    /// Notes the player holds, per key.
    held: [u8; 128],
    /// Find the position again at the next block, as after a jump.
    seek: bool,
}

impl Default for Player {
    fn default() -> Self {
        Self {
            playing: false,
            next: 0,
            expect_sample: 0,
            expect_beat: 0.0,
            held: [0; 128],
            seek: false,
        }
    }
}

/// What happened to the transport in a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// Stopped.
    Stopped,
    /// Started playing at this block.
    Started,
    /// Jumped (a loop or a move) while playing.
    Jumped,
    /// Played on from the last block.
    Continued,
}

impl Player {
    /// Forgets everything (the synth was reset: nothing is held).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Releases the held notes and finds the position again at the next block (a new part
    /// while playing: no restart of the synth, so tails ring on).
    pub fn relocate(&mut self, emit: &mut impl FnMut(u32, EventKind)) {
        self.release(emit);
        self.seek = true;
    }

    /// Forgets the held notes without releasing them (the synth released everything).
    pub fn forget_held(&mut self) {
        self.held = [0; 128];
    }

    /// Whether the player holds any note.
    pub fn holds_notes(&self) -> bool {
        self.held.iter().any(|&h| h > 0)
    }

    /// The events of `part` in a block of `len` samples at `rate`, passed to `emit` with their
    /// offsets, in order. A new part must come with [`Player::reset`] or after a stop.
    pub fn block(
        &mut self,
        part: &Part,
        time: &HostTime,
        sync: Sync,
        rate: f32,
        len: usize,
        emit: &mut impl FnMut(u32, EventKind),
    ) -> Motion {
        if !time.playing || len == 0 {
            let was = self.playing;
            self.playing = false;
            self.seek = false;
            if was {
                self.release(emit);
            }
            return Motion::Stopped;
        }
        let started = !self.playing;
        self.playing = true;

        let events = &part.events;
        let last = len as u32 - 1;
        match sync {
            Sync::Track => {
                let pos = time
                    .pos_samples
                    .unwrap_or(if started { 0 } else { self.expect_sample });
                let off = (pos - self.expect_sample).abs();
                let motion = if started {
                    Motion::Started
                } else if self.seek || off as f64 > RESYNC_S * rate as f64 {
                    Motion::Jumped
                } else {
                    Motion::Continued
                };
                let cur = match motion {
                    Motion::Continued if off <= 1 => self.expect_sample,
                    Motion::Continued => pos,
                    _ => {
                        if motion == Motion::Jumped {
                            self.release(emit);
                        }
                        self.next = events.partition_point(|e| (e.sample as i64) < pos);
                        pos
                    }
                };
                self.seek = false;
                let end = cur + len as i64;
                while let Some(e) = events.get(self.next) {
                    if e.sample as i64 >= end {
                        break;
                    }
                    let at = (e.sample as i64 - cur).clamp(0, last as i64) as u32;
                    self.play(at, e.kind, emit);
                    self.next += 1;
                }
                self.expect_sample = end;
                motion
            }
            Sync::Tempo => {
                let tempo = time.tempo.filter(|t| *t > 0.0).unwrap_or(DEFAULT_TEMPO);
                let per_sample = tempo / 60.0 / rate as f64;
                let pos = time
                    .pos_beats
                    .unwrap_or(if started { 0.0 } else { self.expect_beat });
                let off = (pos - self.expect_beat).abs();
                let motion = if started {
                    Motion::Started
                } else if self.seek || off > RESYNC_S * rate as f64 * per_sample {
                    Motion::Jumped
                } else {
                    Motion::Continued
                };
                let cur = match motion {
                    Motion::Continued if off <= 2.0 * per_sample => self.expect_beat,
                    Motion::Continued => pos,
                    _ => {
                        if motion == Motion::Jumped {
                            self.release(emit);
                        }
                        self.next = events.partition_point(|e| e.beat < pos);
                        pos
                    }
                };
                self.seek = false;
                let end = cur + len as f64 * per_sample;
                let mut at_least = 0u32;
                while let Some(e) = events.get(self.next) {
                    if e.beat >= end {
                        break;
                    }
                    // The first sample at or after the event's beat (within rounding).
                    let at = (((e.beat - cur) / per_sample - 1e-6).ceil().max(0.0) as u32)
                        .clamp(at_least, last);
                    at_least = at;
                    self.play(at, e.kind, emit);
                    self.next += 1;
                }
                self.expect_beat = end;
                motion
            }
        }
    }

    fn play(&mut self, at: u32, kind: EventKind, emit: &mut impl FnMut(u32, EventKind)) {
        match kind {
            EventKind::NoteOn { note, .. } => {
                let h = &mut self.held[note as usize & 127];
                *h = h.saturating_add(1);
                emit(at, kind);
            }
            EventKind::NoteOff { note } => {
                // Only the player's own notes: a note-off whose note-on was skipped by a jump
                // must not end a note the host plays on the same key.
                let h = &mut self.held[note as usize & 127];
                if *h > 0 {
                    *h -= 1;
                    emit(at, kind);
                }
            }
            other => emit(at, other),
        }
    }

    /// Releases every held note at the start of the block.
    fn release(&mut self, emit: &mut impl FnMut(u32, EventKind)) {
        for (key, h) in self.held.iter_mut().enumerate() {
            for _ in 0..*h {
                emit(0, EventKind::NoteOff { note: key as u8 });
            }
            *h = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::part::PartEvent;

    /// Notes at 100 samples per beat (rate 200, 120 BPM): key 60 on beats 0–1, key 64 on
    /// beats 2–3, key 67 on beats 4–6.
    fn part() -> Part {
        let mut p = Part::empty(200.0);
        for (key, on, off) in [(60u8, 0.0, 1.0), (64, 2.0, 3.0), (67, 4.0, 6.0)] {
            p.events.push(PartEvent {
                sample: (on * 100.0) as u64,
                beat: on,
                kind: EventKind::NoteOn {
                    note: key,
                    velocity: 1.0,
                },
            });
            p.events.push(PartEvent {
                sample: (off * 100.0) as u64,
                beat: off,
                kind: EventKind::NoteOff { note: key },
            });
        }
        p.events.sort_by_key(|e| e.sample);
        p
    }

    fn at(pos: i64) -> HostTime {
        HostTime {
            playing: true,
            pos_samples: Some(pos),
            pos_beats: Some(pos as f64 / 100.0),
            tempo: Some(120.0),
        }
    }

    /// Runs blocks of `len` from the positions given; returns (absolute sample, event).
    fn run(player: &mut Player, sync: Sync, starts: &[i64], len: usize) -> Vec<(i64, EventKind)> {
        let p = part();
        let mut out = Vec::new();
        for &s in starts {
            player.block(&p, &at(s), sync, 200.0, len, &mut |t, k| {
                out.push((s + t as i64, k))
            });
        }
        out
    }

    #[test]
    fn continuous_play_gives_every_event_at_its_sample_on_both_timelines() {
        for sync in [Sync::Track, Sync::Tempo] {
            let mut player = Player::default();
            let starts: Vec<i64> = (0..20).map(|b| b * 37).collect();
            let got = run(&mut player, sync, &starts, 37);
            let want: Vec<(i64, EventKind)> = part()
                .events
                .iter()
                .map(|e| (e.sample as i64, e.kind))
                .collect();
            assert_eq!(got, want, "{sync:?}");
            assert!(!player.holds_notes());
        }
    }

    #[test]
    fn a_jump_releases_held_notes_and_skips_what_began_before() {
        let mut player = Player::default();
        // Play 0..300 (key 60 on, then off at 100; key 64 strikes at 200). Jump to 450
        // (inside key 67, which began at 400): 64 is released at the jump and 67 is not
        // struck; its note-off at 600 is not sent either.
        let got = run(&mut player, Sync::Track, &[0, 100, 200, 450, 550, 650], 100);
        let keys: Vec<(i64, EventKind)> = got;
        assert_eq!(
            keys,
            vec![
                (
                    0,
                    EventKind::NoteOn {
                        note: 60,
                        velocity: 1.0
                    }
                ),
                (100, EventKind::NoteOff { note: 60 }),
                (
                    200,
                    EventKind::NoteOn {
                        note: 64,
                        velocity: 1.0
                    }
                ),
                (450, EventKind::NoteOff { note: 64 }),
            ]
        );
        assert!(!player.holds_notes());
    }

    #[test]
    fn a_loop_back_plays_the_loop_again_and_stop_releases() {
        let mut player = Player::default();
        let p = part();
        let mut out = Vec::new();
        let mut motions = Vec::new();
        // Loop 0..250 twice in blocks of 50, then stop while key 64 is held.
        for pass in 0..2 {
            for b in 0..5 {
                let s = b * 50;
                let m = player.block(&p, &at(s), Sync::Track, 200.0, 50, &mut |t, k| {
                    out.push((pass, s + t as i64, k))
                });
                motions.push(m);
            }
        }
        assert_eq!(motions[0], Motion::Started);
        assert_eq!(motions[5], Motion::Jumped);
        assert!(motions[1..5].iter().all(|m| *m == Motion::Continued));
        let stopped = HostTime::default();
        let m = player.block(&p, &stopped, Sync::Track, 200.0, 50, &mut |t, k| {
            out.push((2, t as i64, k))
        });
        assert_eq!(m, Motion::Stopped);
        let on64 = |pass| {
            out.iter()
                .filter(|(p, s, k)| {
                    *p == pass && *s == 200 && matches!(k, EventKind::NoteOn { note: 64, .. })
                })
                .count()
        };
        assert_eq!((on64(0), on64(1)), (1, 1));
        // The jump back released 64; the stop released the 64 of the second pass.
        assert!(out.contains(&(1, 0, EventKind::NoteOff { note: 64 })));
        assert_eq!(out.last(), Some(&(2, 0, EventKind::NoteOff { note: 64 })));
        assert!(!player.holds_notes());
    }

    #[test]
    fn drift_under_ten_milliseconds_keeps_the_notes_and_a_relocation_releases_them() {
        let mut player = Player::default();
        let p = part();
        let mut out = Vec::new();
        // Blocks of 100 from 0 and 100; the host then says 202 where 200 was expected (10 ms
        // is 2 samples at 200 Hz: drift, kept); at 252 a new part relocates the player.
        let mut motions = Vec::new();
        for (s, len, relocate) in [
            (0i64, 100, false),
            (100, 100, false),
            (202, 50, false),
            (252, 50, true),
        ] {
            if relocate {
                player.relocate(&mut |t, k| out.push((s + t as i64, k)));
            }
            motions.push(
                player.block(&p, &at(s), Sync::Track, 200.0, len, &mut |t, k| {
                    out.push((s + t as i64, k))
                }),
            );
        }
        assert_eq!(motions[2], Motion::Continued);
        assert_eq!(motions[3], Motion::Jumped);
        // Key 64 (due at 200) strikes at the start of the drifted block, and is released at
        // the relocation.
        let on = EventKind::NoteOn {
            note: 64,
            velocity: 1.0,
        };
        assert!(out.contains(&(202, on)), "{out:?}");
        assert_eq!(out.last(), Some(&(252, EventKind::NoteOff { note: 64 })));
        assert!(!player.holds_notes());
    }

    #[test]
    fn tempo_sync_follows_the_host_tempo() {
        // At 240 BPM the notes come twice as fast: beat 2 lands on sample 100.
        let mut player = Player::default();
        let p = part();
        let mut out = Vec::new();
        for b in 0..4 {
            let s = b * 64;
            let time = HostTime {
                playing: true,
                pos_samples: Some(s),
                pos_beats: Some(s as f64 / 50.0),
                tempo: Some(240.0),
            };
            player.block(&p, &time, Sync::Tempo, 200.0, 64, &mut |t, k| {
                out.push((s + t as i64, k))
            });
        }
        let times: Vec<i64> = out.iter().map(|(s, _)| *s).collect();
        assert_eq!(times, vec![0, 50, 100, 150, 200]);
    }
}
