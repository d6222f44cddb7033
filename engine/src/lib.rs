//! AURALIS engine: the real-time DSP shared by the offline analyzer and the plugins.
//!
//! The analyzer renders each element with this code and the Instrument plugin plays it with
//! the same code, so what the analyzer scored is what the user hears.
//!
//! The contract every processor here keeps:
//! - allocation happens in `new` / `allocate` only; `process`, `reset` and parameter changes
//!   never allocate, lock, block or do I/O;
//! - `reset()` makes the output repeatable: the same events after a reset give the same samples;
//! - processing in blocks of any size gives the same samples as processing one sample at a time
//!   (modulation runs on ticks of the processor's own clock, never on block boundaries).
//!
//! Modules: [`params`] (the parameter table and its stable ids), [`patch`] (the stored patch
//! format), [`wavetable`] (band-limited oscillators), [`filter`], [`env`] (envelopes and LFOs),
//! [`voice`], [`synth`] (voices, events), [`render`] (offline rendering of notes), [`smf`] (the notes of MIDI files).

#![warn(missing_docs)]

pub mod bank;
pub mod drums;
pub mod env;
pub mod error;
pub mod filter;
pub mod fx;
pub mod params;
pub mod patch;
pub mod render;
pub mod resample;
pub mod reverb;
pub mod smf;
pub mod synth;
pub mod voice;
pub mod wavetable;

pub use error::{Error, Result};
pub use params::{Values, P};
pub use patch::Patch;
pub use synth::{Event, EventKind, Synth};
