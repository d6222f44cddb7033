//! AURALIS Console: runs one fitted chain of a session — an element's insert chain (matching
//! EQ, compressor, sidechain pump, width and pan, chorus, echo, reverb) or the master chain
//! (mid/side matching EQ, gain, true-peak limiter) — through the same engine code the
//! analyzer mixed and mastered with.
//!
//! - The session folder and the chain's name (an element's, or `master`) are the saved state
//!   (the persisted `session` field); [`loader`] loads the chain off the audio thread and
//!   reloads it when the session changes on disk (the loop wrote a better iteration).
//! - A stereo sidechain input keys the compressor and triggers the pump (put the kick on it).
//! - Three parameters, automatable and smoothed over 20 ms: input gain into the chain, stereo
//!   width after it (side gain), and output gain. At their defaults the plugin gives the
//!   chain's output sample for sample; the master chain's limiter look-ahead is reported to
//!   the host as latency.

pub mod chain;

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};

use nice_plug::prelude::*;

use crate::instrument::part::SessionRef;
use crate::loader::{Loader, Shared};
use chain::{Loaded, Processor};

/// The parameters.
#[derive(Params)]
pub struct ConsoleParams {
    /// The session and chain (an element's name, or `master`), saved with the project.
    #[persist = "session"]
    pub session: Arc<RwLock<SessionRef>>,
    /// Gain into the chain, dB.
    #[id = "input"]
    pub input: FloatParam,
    /// Side gain after the chain (1: as the chain leaves it).
    #[id = "width"]
    pub width: FloatParam,
    /// Gain after the chain, dB.
    #[id = "output"]
    pub output: FloatParam,
}

fn gain_param(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Linear {
            min: -24.0,
            max: 24.0,
        },
    )
    .with_unit(" dB")
    .with_step_size(0.1)
    .with_smoother(SmoothingStyle::Linear(20.0))
}

impl Default for ConsoleParams {
    fn default() -> Self {
        Self {
            session: Arc::new(RwLock::new(SessionRef::default())),
            input: gain_param("Input"),
            width: FloatParam::new("Width", 1.0, FloatRange::Linear { min: 0.0, max: 2.0 })
                .with_step_size(0.01)
                .with_smoother(SmoothingStyle::Linear(20.0)),
            output: gain_param("Output"),
        }
    }
}

/// The plugin.
pub struct Console {
    params: Arc<ConsoleParams>,
    shared: Arc<Shared<Loaded>>,
    _loader: Loader<Loaded>,
    loaded: Box<Loaded>,
    rate: f32,
    tempo: f32,
}

impl Default for Console {
    fn default() -> Self {
        let params = Arc::new(ConsoleParams::default());
        let shared = Arc::new(Shared::new(params.session.clone()));
        Self {
            _loader: Loader::start(shared.clone(), "auralis-console-loader"),
            shared,
            loaded: Box::new(Loaded::through(0.0)),
            rate: 0.0,
            tempo: 0.0,
            params,
        }
    }
}

impl Console {
    /// Takes a chain the loader left, if the slot is free this instant; returns whether the
    /// latency changed.
    fn take_incoming(&mut self) -> bool {
        let before = self.loaded.latency();
        let shared = self.shared.clone();
        let came = shared.exchange(self.rate, |new| std::mem::replace(&mut self.loaded, new));
        if came {
            self.tempo = 0.0;
        }
        came && self.loaded.latency() != before
    }
}

/// Multiplies by a smoothed dB gain (cheap when it is not moving).
fn apply_gain(param: &FloatParam, left: &mut [f32], right: &mut [f32]) {
    let s = &param.smoothed;
    if s.is_smoothing() {
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let g = util::db_to_gain(s.next());
            *l *= g;
            *r *= g;
        }
    } else {
        let db = s.next();
        if db != 0.0 {
            let g = util::db_to_gain(db);
            for x in left.iter_mut().chain(right.iter_mut()) {
                *x *= g;
            }
        }
    }
}

impl Plugin for Console {
    const NAME: &'static str = "AURALIS Console";
    const VENDOR: &'static str = "AURALIS";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: NonZeroU32::new(2),
        main_output_channels: NonZeroU32::new(2),
        aux_input_ports: &[new_nonzero_u32(2)],
        names: PortNames {
            layout: Some("Stereo with sidechain"),
            main_input: Some("Input"),
            main_output: Some("Output"),
            aux_inputs: &["Sidechain"],
            aux_outputs: &[],
        },
        ..AudioIOLayout::const_default()
    }];
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
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.rate = config.sample_rate;
        *self.loaded = self.shared.load_now(config.sample_rate);
        self.tempo = 0.0;
        context.set_latency_samples(self.loaded.latency() as u32);
        true
    }

    fn reset(&mut self) {
        match &mut self.loaded.processor {
            Processor::Through => {}
            Processor::Element(c) => c.reset(),
            Processor::Master(m) => m.reset(),
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let len = buffer.samples();
        if self.take_incoming() {
            context.set_latency_samples(self.loaded.latency() as u32);
        }
        let host_tempo = context.transport().tempo.map(|t| t as f32);
        let channels = buffer.as_slice();
        if channels.len() < 2 {
            return ProcessStatus::Normal;
        }
        let (left, right) = channels.split_at_mut(1);
        let (left, right) = (&mut *left[0], &mut *right[0]);

        apply_gain(&self.params.input, left, right);
        let side = aux.inputs.first().map(|b| b.as_slice_immutable());
        let sidechain = match side {
            Some([a, b, ..]) if a.len() >= len && b.len() >= len => Some([&a[..len], &b[..len]]),
            _ => None,
        };
        let bpm = self.loaded.bpm;
        match &mut self.loaded.processor {
            Processor::Through => {}
            Processor::Element(c) => {
                // The echo follows the host's tempo while it reports one, else the session's.
                let tempo = host_tempo.filter(|t| *t > 0.0).unwrap_or(bpm);
                if tempo != self.tempo {
                    c.set_tempo(tempo);
                    self.tempo = tempo;
                }
                c.process(left, right, sidechain);
            }
            Processor::Master(m) => m.process(left, right),
        }
        let width = &self.params.width.smoothed;
        if width.is_smoothing() || width.next() != 1.0 {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let w = width.next();
                let (m, s) = (0.5 * (*l + *r), 0.5 * (*l - *r) * w);
                *l = m + s;
                *r = m - s;
            }
        }
        apply_gain(&self.params.output, left, right);
        // Reverb and echo tails ring on after the input stops.
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for Console {
    const CLAP_ID: &'static str = "audio.auralis.console";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Runs an element's or the master's fitted chain from an AURALIS session");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mixing,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for Console {
    const VST3_CLASS_ID: [u8; 16] = *b"AuralisConsole01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Mastering];
}
