//! Effects: the mix and master processors the Console plugin and the analyzer's CONSOLE
//! stage share. Each follows the engine's contract (see the crate docs): allocation in
//! `allocate` only, `reset` makes the output repeatable, any block size gives the same
//! samples.
//!
//! Modules: [`eq`] (parametric and matching EQ), [`dynamics`] (compressor with sidechain,
//! pump), [`delay`] (tempo-synced echo, chorus), [`stereo`] (gain, saturation, width, pan),
//! [`limiter`] (true-peak brickwall), [`master`] (the master bus: mid/side EQ, gain, limiter,
//! trim); the reverb is [`crate::reverb`]. [`chain`] runs them in
//! a console channel's order from the settings a session stores.

pub mod chain;
pub mod delay;
pub mod dynamics;
pub mod eq;
pub mod limiter;
pub mod master;
pub mod stereo;

pub use chain::{Chain, ChainReverb, ChainSettings};
