//! A channel's (or the master's) insert chain, in a fixed order:
//! EQ → compressor → pump → gain / saturation / width / pan → chorus → echo → reverb →
//! limiter.
//!
//! Dynamics come before the colour and the space, as on a console channel: the compressor
//! and the pump act on the dry sound, and the echoes and the room are not pumped twice.
//! The limiter is last (a master's brickwall). [`ChainSettings`] is what a session stores
//! for an element or the master; a stage that is absent (or at its neutral setting) costs
//! nothing.

use serde::{Deserialize, Serialize};

use super::delay::{Chorus, ChorusSettings, Delay, DelaySettings};
use super::dynamics::{Compressor, CompressorSettings, Pump, PumpSettings};
use super::eq::{Band, Eq};
use super::limiter::{Limiter, LimiterSettings};
use super::stereo::{Stereo, StereoSettings};
use crate::reverb::{Reverb, ReverbSettings};

/// The reverb of a chain: the engine's [`Reverb`] with its level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChainReverb {
    /// Level of the reverb added to the sound (linear; 0: none).
    pub level: f32,
    /// Decay to −60 dB, seconds.
    pub rt60_s: f32,
    /// Delay before the reverb, milliseconds.
    #[serde(default)]
    pub predelay_ms: f32,
    /// Corner of the damping low-pass, Hz (20 kHz and above: none).
    #[serde(default = "default_damp")]
    pub damp_hz: f32,
}

fn default_damp() -> f32 {
    8000.0
}

/// What a chain does (the form a session stores).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChainSettings {
    /// EQ bands, in order (at most [`super::eq::MAX_BANDS`] are used).
    pub eq: Vec<Band>,
    /// Compressor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compressor: Option<CompressorSettings>,
    /// Sidechain pump.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pump: Option<PumpSettings>,
    /// Gain, saturation, width and pan.
    pub stereo: StereoSettings,
    /// Chorus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chorus: Option<ChorusSettings>,
    /// Tempo-synced echo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<DelaySettings>,
    /// Reverb.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverb: Option<ChainReverb>,
    /// True-peak limiter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limiter: Option<LimiterSettings>,
}

/// A chain's state.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    settings: ChainSettings,
    rate: f32,
    eq: Eq,
    compressor: Compressor,
    pump: Pump,
    stereo: Stereo,
    chorus: Chorus,
    delay: Delay,
    reverb: Reverb,
    limiter: Limiter,
    active: ActiveStages,
}

impl Chain {
    /// Allocates every stage for `rate` (main thread) and clears them.
    pub fn allocate(&mut self, rate: f32) {
        self.rate = rate;
        self.chorus.allocate(rate);
        self.delay.allocate(rate);
        self.reverb.allocate(rate);
        self.limiter.allocate(rate);
        let s = std::mem::take(&mut self.settings);
        self.set(&s);
        self.settings = s;
        self.reset();
    }

    /// Sets every stage from `s`. Copies into the stages' own storage; allocates only to keep
    /// `s` itself for [`Chain::settings`] (call it off the audio thread, or use
    /// [`Chain::apply`]).
    pub fn set(&mut self, s: &ChainSettings) {
        self.apply(s);
        self.settings.clone_from(s);
    }

    /// Sets every stage from `s` without keeping a copy (no allocation: for the audio thread).
    pub fn apply(&mut self, s: &ChainSettings) {
        let rate = self.rate;
        self.eq.set(&s.eq, rate);
        self.compressor.set(
            s.compressor.unwrap_or(CompressorSettings {
                ratio: 1.0,
                ..Default::default()
            }),
            rate,
        );
        self.pump.set(
            s.pump.unwrap_or(PumpSettings {
                depth_db: 0.0,
                ..Default::default()
            }),
            rate,
        );
        self.stereo.set(s.stereo);
        self.chorus.set(s.chorus.unwrap_or(ChorusSettings {
            mix: 0.0,
            ..Default::default()
        }));
        self.delay.set(s.delay.unwrap_or(DelaySettings {
            wet: 0.0,
            ..Default::default()
        }));
        if let Some(r) = s.reverb {
            self.reverb.set(ReverbSettings {
                rt60_s: r.rt60_s,
                predelay_ms: r.predelay_ms,
                damp_hz: r.damp_hz,
            });
        }
        self.limiter.set(s.limiter.unwrap_or_default());
        self.active = ActiveStages {
            reverb: s.reverb.map_or(0.0, |r| r.level),
            limiter: s.limiter.is_some(),
        };
    }

    /// The settings last given to [`Chain::set`].
    pub fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    /// Sets the tempo the echo follows, beats per minute.
    pub fn set_tempo(&mut self, bpm: f32) {
        self.delay.set_tempo(bpm);
    }

    /// Triggers the pump `offset` samples into the next [`Chain::process`] call.
    pub fn trigger_pump(&mut self, offset: u32) {
        self.pump.trigger(offset);
    }

    /// Samples the output lags the input (the limiter's look-ahead, when it is on).
    pub fn latency(&self) -> usize {
        if self.active.limiter {
            self.limiter.latency()
        } else {
            0
        }
    }

    /// Clears every stage's state.
    pub fn reset(&mut self) {
        self.eq.reset();
        self.compressor.reset();
        self.pump.reset();
        self.chorus.reset();
        self.delay.reset();
        self.reverb.reset();
        self.limiter.reset();
    }

    /// Runs the chain over the buffers in place; `sidechain` (left, right) keys the compressor
    /// and triggers the pump where given.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32], sidechain: Option<[&[f32]; 2]>) {
        self.eq.process(left, right);
        self.compressor.process(left, right, sidechain);
        self.pump.process(left, right, sidechain);
        self.stereo.process(left, right);
        self.chorus.process(left, right);
        self.delay.process(left, right);
        if self.active.reverb > 0.0 {
            self.reverb.process(self.active.reverb, left, right);
        }
        if self.active.limiter {
            self.limiter.process(left, right);
        }
    }
}

/// What [`Chain::process`] reads of the settings without touching them (they may be
/// reallocated on another thread's copy).
#[derive(Debug, Clone, Copy, Default)]
struct ActiveStages {
    reverb: f32,
    limiter: bool,
}
