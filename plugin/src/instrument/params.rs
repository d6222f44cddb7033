//! The Instrument's parameters.
//!
//! The patch comes from the session, so the exposed parameters are moves *relative to the
//! fitted patch*: at their defaults the plugin plays the patch exactly as the analyzer rendered
//! it, and automating them shapes it from there (cutoff and envelope in octaves, resonance and
//! sustain as offsets, output gain in dB). The engine smooths every change over ~10 ms; the
//! output gain is smoothed here. Ids are stable: hosts store automation under them.

use std::sync::{Arc, RwLock};

use auralis_engine::{Values, P};
use nice_plug::prelude::*;

use super::part::SessionRef;
use super::player::Sync;

/// Where the notes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Source {
    /// The element's MIDI from the session, in time with the host's transport.
    #[id = "session"]
    #[name = "Session"]
    Session,
    /// MIDI arriving from the host.
    #[id = "host"]
    #[name = "Host MIDI"]
    Host,
    /// Both.
    #[id = "both"]
    #[name = "Session + host"]
    Both,
}

/// Which timeline the session's notes follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Timeline {
    /// The track's seconds (as the analyzer rendered it and the A/B plugin plays the original).
    #[id = "track"]
    #[name = "Track time"]
    Track,
    /// The MIDI file's beats at the host's tempo.
    #[id = "tempo"]
    #[name = "Host tempo"]
    Tempo,
}

impl Timeline {
    /// The player's mode.
    pub fn sync(self) -> Sync {
        match self {
            Self::Track => Sync::Track,
            Self::Tempo => Sync::Tempo,
        }
    }
}

/// The parameters.
#[derive(Params)]
pub struct InstrumentParams {
    /// The session and element played (saved with the host's project).
    #[persist = "session"]
    pub session: Arc<RwLock<SessionRef>>,
    /// Where the notes come from.
    #[id = "source"]
    pub source: EnumParam<Source>,
    /// Which timeline the session's notes follow.
    #[id = "sync"]
    pub timeline: EnumParam<Timeline>,
    /// Output gain, dB.
    #[id = "gain"]
    pub gain: FloatParam,
    /// Filter cutoff move, octaves.
    #[id = "cutoff"]
    pub cutoff: FloatParam,
    /// Filter resonance move.
    #[id = "reso"]
    pub resonance: FloatParam,
    /// Filter envelope depth move, octaves.
    #[id = "fenv"]
    pub filter_env: FloatParam,
    /// Amp attack time scale, octaves (each +1 doubles it).
    #[id = "attack"]
    pub attack: FloatParam,
    /// Amp decay time scale, octaves.
    #[id = "decay"]
    pub decay: FloatParam,
    /// Amp sustain move.
    #[id = "sustain"]
    pub sustain: FloatParam,
    /// Amp release time scale, octaves.
    #[id = "release"]
    pub release: FloatParam,
}

fn octaves(name: &str, range: f32) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Linear {
            min: -range,
            max: range,
        },
    )
    .with_unit(" oct")
    .with_step_size(0.01)
}

fn time_scale(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Linear {
            min: -4.0,
            max: 4.0,
        },
    )
    .with_step_size(0.01)
    .with_value_to_string(Arc::new(|x| format!("x{:.2}", 2f32.powf(x))))
    .with_string_to_value(Arc::new(|s| {
        // "x1.50", "1.5" or "1.5x": a factor of time, back to octaves.
        let t = s
            .trim()
            .trim_start_matches(['x', 'X', '×'])
            .trim_end_matches(['x', 'X', '×']);
        t.trim()
            .parse::<f32>()
            .ok()
            .filter(|f| *f > 0.0)
            .map(f32::log2)
    }))
}

fn offset(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Linear {
            min: -1.0,
            max: 1.0,
        },
    )
    .with_step_size(0.01)
}

impl Default for InstrumentParams {
    fn default() -> Self {
        Self {
            session: Arc::new(RwLock::new(SessionRef::default())),
            source: EnumParam::new("Notes from", Source::Session),
            timeline: EnumParam::new("Timeline", Timeline::Track),
            gain: FloatParam::new(
                "Output gain",
                0.0,
                FloatRange::Linear {
                    min: -36.0,
                    max: 12.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1)
            .with_smoother(SmoothingStyle::Linear(20.0)),
            cutoff: octaves("Cutoff", 6.0),
            resonance: offset("Resonance"),
            filter_env: octaves("Filter envelope", 8.0),
            attack: time_scale("Attack"),
            decay: time_scale("Decay"),
            sustain: offset("Sustain"),
            release: time_scale("Release"),
        }
    }
}

/// The patch moves as numbers (copied on the audio thread to spot changes).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Moves {
    /// Octaves.
    pub cutoff: f32,
    /// Offset.
    pub resonance: f32,
    /// Octaves.
    pub filter_env: f32,
    /// Octaves of time.
    pub attack: f32,
    /// Octaves of time.
    pub decay: f32,
    /// Offset.
    pub sustain: f32,
    /// Octaves of time.
    pub release: f32,
}

/// The engine parameters the moves act on.
pub const MOVED: [P; 7] = [
    P::FilterCutoff,
    P::FilterResonance,
    P::FilterEnvAmount,
    P::AmpAttack,
    P::AmpDecay,
    P::AmpSustain,
    P::AmpRelease,
];

impl Moves {
    /// The current (unsmoothed) values of the parameters.
    pub fn of(params: &InstrumentParams) -> Self {
        Self {
            cutoff: params.cutoff.value(),
            resonance: params.resonance.value(),
            filter_env: params.filter_env.value(),
            attack: params.attack.value(),
            decay: params.decay.value(),
            sustain: params.sustain.value(),
            release: params.release.value(),
        }
    }

    /// `patch` moved (clamped to each parameter's range). At the defaults (all zero) this is
    /// `patch` exactly.
    pub fn apply(&self, patch: &Values) -> Values {
        let mut v = *patch;
        let scale = |p: P, oct: f32| patch.get(p) * 2f32.powf(oct);
        v.set(P::FilterCutoff, scale(P::FilterCutoff, self.cutoff));
        v.set(
            P::FilterResonance,
            patch.get(P::FilterResonance) + self.resonance,
        );
        v.set(
            P::FilterEnvAmount,
            patch.get(P::FilterEnvAmount) + self.filter_env,
        );
        v.set(P::AmpAttack, scale(P::AmpAttack, self.attack));
        v.set(P::AmpDecay, scale(P::AmpDecay, self.decay));
        v.set(P::AmpSustain, patch.get(P::AmpSustain) + self.sustain);
        v.set(P::AmpRelease, scale(P::AmpRelease, self.release));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_moves_leave_every_patch_of_the_bank_exactly_as_it_is() {
        for preset in auralis_engine::bank::presets() {
            let v = preset.patch.values().unwrap();
            assert_eq!(Moves::default().apply(&v), v, "{}", preset.patch.name);
        }
    }

    #[test]
    fn moves_act_in_octaves_and_offsets_within_range() {
        let v = Values::default();
        let m = Moves {
            cutoff: -1.0,
            release: 1.0,
            sustain: -2.0,
            ..Moves::default()
        };
        let w = m.apply(&v);
        assert_eq!(w.get(P::FilterCutoff), v.get(P::FilterCutoff) / 2.0);
        assert_eq!(w.get(P::AmpRelease), v.get(P::AmpRelease) * 2.0);
        assert_eq!(w.get(P::AmpSustain), 0.0);
    }
}
