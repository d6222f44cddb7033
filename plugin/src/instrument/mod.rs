//! AURALIS Instrument: plays one element of a session with its fitted patch, through the same
//! engine the analyzer rendered it with.
//!
//! - The session folder and the element's name are the plugin's saved state (the persisted
//!   `session` field); [`loader`] loads them off the audio thread and reloads when the session
//!   changes on disk.
//! - Notes come from the element's MIDI file in time with the host's transport ([`player`]),
//!   from the host's MIDI input, or both ([`params::Source`]).
//! - The exposed parameters move the fitted patch ([`params`]); at their defaults, a transport
//!   playing from zero at the session's rate gives the analyzer's `render/<element>.wav`
//!   sample for sample.

pub mod params;
pub mod part;
pub mod player;

use std::num::NonZeroU32;
use std::sync::Arc;

use auralis_engine::voice::CONTROL_PERIOD;
use auralis_engine::{Event, EventKind, Synth, Values};
use nice_plug::prelude::*;

use crate::loader::{Loader, Shared};
use params::{InstrumentParams, Moves, Source, MOVED};
use part::Part;
use player::{HostTime, Motion, Player};

/// Events a block can carry (host and session together); more are dropped.
const EVENT_CAPACITY: usize = 4096;

/// The plugin.
pub struct Instrument {
    params: Arc<InstrumentParams>,
    shared: Arc<Shared<Part>>,
    _loader: Loader<Part>,
    synth: Synth,
    part: Box<Part>,
    player: Player,
    rate: f32,
    /// The moves applied to the synth now.
    moves: Moves,
    /// Host notes sounding, per key (released when the host's notes are switched off).
    host_held: [u8; 128],
    session_events: Vec<Event>,
    host_events: Vec<Event>,
    events: Vec<Event>,
}

impl Default for Instrument {
    fn default() -> Self {
        let params = Arc::new(InstrumentParams::default());
        let shared = Arc::new(Shared::new(params.session.clone()));
        Self {
            _loader: Loader::start(shared.clone(), "auralis-instrument-loader"),
            shared,
            synth: Synth::new(Values::default()),
            part: Box::new(Part::empty(0.0)),
            player: Player::default(),
            rate: 0.0,
            moves: Moves::default(),
            host_held: [0; 128],
            session_events: Vec::with_capacity(EVENT_CAPACITY),
            host_events: Vec::with_capacity(EVENT_CAPACITY),
            events: Vec::with_capacity(2 * EVENT_CAPACITY),
            params,
        }
    }
}

/// Adds an event if there is room (never allocates; a block with more events drops the rest).
fn push(events: &mut Vec<Event>, time: u32, kind: EventKind) {
    if events.len() < events.capacity() {
        events.push(Event { time, kind });
    }
}

impl Instrument {
    /// Plays `part` from now on: releases what the player holds, loads the patch.
    fn install(&mut self, part: Box<Part>) -> Box<Part> {
        let old = std::mem::replace(&mut self.part, part);
        self.moves = Moves::of(&self.params);
        self.synth.set_values(self.moves.apply(&self.part.values));
        old
    }

    /// Takes a part the loader left, if the slot is free this instant.
    fn take_incoming(&mut self) {
        let shared = self.shared.clone();
        shared.exchange(self.rate, |new| {
            // Releases what the player holds of the old part.
            let events = &mut self.session_events;
            self.player.block(
                &self.part,
                &HostTime::default(),
                player::Sync::Track,
                1.0,
                1,
                &mut |t, k| push(events, t, k),
            );
            self.install(new)
        });
    }

    /// Applies the parameter moves that changed since the last block (smoothed by the engine).
    fn apply_moves(&mut self) {
        let moves = Moves::of(&self.params);
        if moves == self.moves {
            return;
        }
        self.moves = moves;
        let values = moves.apply(&self.part.values);
        for p in MOVED {
            let i = p as usize;
            if values.0[i] != self.synth.values().0[i] {
                self.synth.set_param(i, values.0[i]);
            }
        }
    }
}

impl Plugin for Instrument {
    const NAME: &'static str = "AURALIS Instrument";
    const VENDOR: &'static str = "AURALIS";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: None,
        main_output_channels: NonZeroU32::new(2),
        ..AudioIOLayout::const_default()
    }];
    const MIDI_INPUT: MidiConfig = MidiConfig::MidiCCs;
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type Editor = ();
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.rate = config.sample_rate;
        self.synth.allocate(config.sample_rate);
        let part = self.shared.load_now(config.sample_rate);
        let _ = self.install(Box::new(part));
        self.player.reset();
        true
    }

    fn reset(&mut self) {
        self.synth.reset();
        self.player.reset();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let len = buffer.samples();
        self.session_events.clear();
        self.host_events.clear();
        self.take_incoming();
        self.apply_moves();

        let source = self.params.source.value();
        let uses_session = source != Source::Host;
        let uses_host = source != Source::Session;
        if !uses_session {
            // Stops the player (releasing its notes) once; it starts afresh when switched back.
            let events = &mut self.session_events;
            self.player.block(
                &self.part,
                &HostTime::default(),
                player::Sync::Track,
                1.0,
                1,
                &mut |t, k| push(events, t, k),
            );
        }
        if !uses_host {
            for (key, held) in self.host_held.iter_mut().enumerate() {
                for _ in 0..*held {
                    push(
                        &mut self.host_events,
                        0,
                        EventKind::NoteOff { note: key as u8 },
                    );
                }
                *held = 0;
            }
        }

        if uses_session {
            let t = context.transport();
            let time = HostTime {
                playing: t.playing,
                pos_samples: t.pos_samples(),
                pos_beats: t.pos_beats(),
                tempo: t.tempo,
            };
            let sync = self.params.timeline.value().sync();
            let events = &mut self.session_events;
            let motion =
                self.player
                    .block(&self.part, &time, sync, self.rate, len, &mut |at, k| {
                        push(events, at, k)
                    });
            if motion == Motion::Started && !uses_host {
                // Playing from a position sounds the same every time: the synth restarts with
                // its clock where a render of the track from zero has it at this position
                // (so from zero it is the analyzer's render, sample for sample).
                let clock = match sync {
                    player::Sync::Track => time.pos_samples.unwrap_or(0),
                    player::Sync::Tempo => 0,
                };
                self.synth.reset_at(if clock >= 0 {
                    clock as u64
                } else {
                    clock.rem_euclid(CONTROL_PERIOD as i64) as u64
                });
            }
        }

        while let Some(event) = context.next_event() {
            let time = event.timing().min(len.saturating_sub(1) as u32);
            match event {
                NoteEvent::NoteOn { key, velocity, .. } if uses_host => {
                    if let Some(note) = key.number() {
                        let held = &mut self.host_held[note as usize & 127];
                        *held = held.saturating_add(1);
                        push(
                            &mut self.host_events,
                            time,
                            EventKind::NoteOn { note, velocity },
                        );
                    }
                }
                // Note-offs only for the host's own notes (a session note on the same key
                // plays on).
                NoteEvent::NoteOff { key, .. } | NoteEvent::Choke { key, .. } => {
                    if let Some(note) = key.number() {
                        let held = &mut self.host_held[note as usize & 127];
                        if *held > 0 {
                            *held -= 1;
                            push(&mut self.host_events, time, EventKind::NoteOff { note });
                        }
                    }
                }
                NoteEvent::MidiPitchBend { value, .. } if uses_host => {
                    push(
                        &mut self.host_events,
                        time,
                        EventKind::PitchBend((value - 0.5) * 2.0),
                    );
                }
                NoteEvent::MidiCC { cc, .. } if uses_host && cc == 123 => {
                    // All notes off: the synth releases every voice, the session's too.
                    push(&mut self.host_events, time, EventKind::AllNotesOff);
                    self.host_held = [0; 128];
                    self.player.forget_held();
                }
                _ => (),
            }
        }

        // Merge the two time-ordered lists (session first at a tie).
        self.events.clear();
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.session_events, &self.host_events);
        while i < a.len() || j < b.len() {
            let take_a = j >= b.len() || (i < a.len() && a[i].time <= b[j].time);
            let e = if take_a { a[i] } else { b[j] };
            if take_a {
                i += 1;
            } else {
                j += 1;
            }
            push(&mut self.events, e.time, e.kind);
        }

        let channels = buffer.as_slice();
        if channels.len() < 2 {
            for c in channels.iter_mut() {
                c.fill(0.0);
            }
            return ProcessStatus::KeepAlive;
        }
        let (left, right) = channels.split_at_mut(1);
        let (left, right) = (&mut *left[0], &mut *right[0]);
        self.synth.process(&self.events, left, right);

        let gain = &self.params.gain.smoothed;
        if gain.is_smoothing() {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let g = util::db_to_gain(gain.next());
                *l *= g;
                *r *= g;
            }
        } else {
            let db = gain.next();
            if db != 0.0 {
                let g = util::db_to_gain(db);
                for x in left.iter_mut().chain(right.iter_mut()) {
                    *x *= g;
                }
            }
        }
        // The sequencer must run while the output is silent.
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for Instrument {
    const CLAP_ID: &'static str = "audio.auralis.instrument";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Plays an element of an AURALIS session with its fitted synth patch");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::Instrument,
        ClapFeature::Synthesizer,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for Instrument {
    const VST3_CLASS_ID: [u8; 16] = *b"AuralisInstrum01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
}
