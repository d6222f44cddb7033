//! AURALIS A/B: on the master bus, switches between the mix it sits on (A) and the session's
//! original track (B), played in time with the host.
//!
//! - **Sync**: the original plays at the host's position, sample for sample: each block reads
//!   the frames at the transport's position (less the compensation below), and a block that
//!   runs past the end of the host's loop continues from the loop's start, so loops and jumps
//!   stay exact. Streamed from disk by [`stream`] (the audio thread never waits for the disk
//!   except in offline rendering, where it must not miss a frame).
//! - **Compensation**: behind the AURALIS Console running the session's master chain (as the
//!   exported project places it), the mix arrives late by the limiter's look-ahead; with
//!   "Behind master" on (the default) the original is delayed by the same amount. "Offset"
//!   moves it further (ms), for chains of other plugins.
//! - **Loudness match**: the original is turned to the mix's loudness: both are measured
//!   (BS.1770, gated, over the last 30 s played, at the same positions) and the original gets
//!   the difference, smoothed over half a second ([`meter`]).
//! - **Switch**: "Original" is automatable; the change is a 50 ms raised-cosine crossfade.
//! - **Meters** for the editor (loudness, width, octave-band spectrum difference) through the
//!   lock-free [`meter::Meters`] (see [`Ab::meters`]).
//!
//! The plugin adds no latency (it reports none): the mix passes through untouched while A is
//! heard. The session and the source (`original`, or an element's name for its stem) are the
//! saved state, with the parameters.

pub mod editor;
pub mod meter;
pub mod source;
pub mod stream;
pub mod workflow;

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};

use nice_plug::prelude::*;

use crate::instrument::part::SessionRef;
use crate::loader::{Loader, Shared};
use meter::{Meter, Meters};
use source::Source;

/// The switch's crossfade, seconds.
pub const FADE_S: f32 = 0.05;
/// The loudness match's smoothing time constant, seconds.
const MATCH_TAU_S: f32 = 0.5;
/// The most the loudness match turns the original up or down, dB.
const MATCH_LIMIT_DB: f32 = 24.0;

/// The parameters.
#[derive(Params)]
pub struct AbParams {
    /// The session and what to compare with (`original`, or an element's name), saved with
    /// the project.
    #[persist = "session"]
    pub session: Arc<RwLock<SessionRef>>,
    /// B: the original is heard (off: the mix).
    #[id = "ab"]
    pub original: BoolParam,
    /// Turn the original to the mix's loudness.
    #[id = "match"]
    pub match_loudness: BoolParam,
    /// Delay the original by the session master chain's look-ahead.
    #[id = "behind"]
    pub behind_master: BoolParam,
    /// Further delay of the original, ms (negative: earlier).
    #[id = "offset"]
    pub offset_ms: FloatParam,
}

impl Default for AbParams {
    fn default() -> Self {
        Self {
            session: Arc::new(RwLock::new(SessionRef::default())),
            original: BoolParam::new("Original", false),
            match_loudness: BoolParam::new("Match loudness", true),
            behind_master: BoolParam::new("Behind master", true),
            offset_ms: FloatParam::new(
                "Offset",
                0.0,
                FloatRange::Linear {
                    min: -250.0,
                    max: 250.0,
                },
            )
            .with_unit(" ms")
            .with_step_size(0.01),
        }
    }
}

/// The plugin.
pub struct Ab {
    params: Arc<AbParams>,
    shared: Arc<Shared<Source>>,
    _loader: Loader<Source>,
    source: Box<Source>,
    meters: Arc<Meters>,
    /// Asks the editor to repaint when the meters move.
    repaint: nice_plug_egui::RepaintNotifier,
    meter: Box<Meter>,
    rate: f32,
    offline: bool,
    /// The original's frames for the block.
    left: Vec<f32>,
    right: Vec<f32>,
    /// The crossfade's position, 0 (mix) to 1 (original).
    fade: f32,
    /// The loudness match applied now, dB.
    match_db: f32,
}

impl Default for Ab {
    fn default() -> Self {
        let params = Arc::new(AbParams::default());
        let shared = Arc::new(Shared::new(params.session.clone()));
        Self {
            _loader: Loader::start(shared.clone(), "auralis-ab-loader"),
            shared,
            source: Box::new(crate::loader::Loadable::empty(0.0)),
            meters: Arc::new(Meters::default()),
            repaint: nice_plug_egui::RepaintNotifier::new(),
            meter: Box::new(Meter::new(48_000.0)),
            rate: 0.0,
            offline: false,
            left: Vec::new(),
            right: Vec::new(),
            fade: 0.0,
            match_db: 0.0,
            params,
        }
    }
}

impl Ab {
    /// The meters the audio thread publishes (for the editor).
    pub fn meters(&self) -> Arc<Meters> {
        self.meters.clone()
    }

    /// The last load error, empty when the source loaded.
    pub fn status(&self) -> String {
        self.shared.status()
    }

    fn take_incoming(&mut self) {
        let shared = self.shared.clone();
        if shared.exchange(self.rate, |new| std::mem::replace(&mut self.source, new)) {
            self.meter.clear();
        }
    }

    /// Frames the original is delayed by.
    fn compensation(&self) -> i64 {
        let master = if self.params.behind_master.value() {
            self.source.master_latency as i64
        } else {
            0
        };
        master + (self.params.offset_ms.value() * 0.001 * self.rate).round() as i64
    }

    /// Reads the original's frames for a block at host position `pos` into `left`/`right`,
    /// continuing from the loop's start past its end.
    fn read(&mut self, pos: i64, lp: Option<(i64, i64)>, len: usize) {
        let comp = self.compensation();
        let (left, right) = (&mut self.left[..len], &mut self.right[..len]);
        let Some(streamer) = &self.source.streamer else {
            left.fill(0.0);
            right.fill(0.0);
            return;
        };
        let stream = &streamer.stream;
        let read = |at: i64, l: &mut [f32], r: &mut [f32]| {
            if self.offline {
                stream.read_waiting(at, l, r)
            } else {
                stream.read(at, l, r)
            }
        };
        let mut done = 0;
        let mut at = pos;
        while done < len {
            let mut run = len - done;
            if let Some((_, le)) = lp {
                if at < le && at + run as i64 > le {
                    run = (le - at) as usize;
                }
            }
            read(
                at - comp,
                &mut left[done..done + run],
                &mut right[done..done + run],
            );
            done += run;
            at += run as i64;
            if let Some((ls, le)) = lp {
                if at == le && done < len {
                    at = ls;
                }
            }
        }
        stream.cue(at - comp, lp.map(|(ls, _)| ls - comp));
    }
}

impl Plugin for Ab {
    const NAME: &'static str = "AURALIS A/B";
    const VENDOR: &'static str = "AURALIS";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: NonZeroU32::new(2),
        main_output_channels: NonZeroU32::new(2),
        ..AudioIOLayout::const_default()
    }];
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type Editor = nice_plug_egui::EguiEditor<editor::AbEditor>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        let shared = self.shared.clone();
        let app = editor::AbEditor::new(
            self.params.clone(),
            self.meters.clone(),
            Arc::new(move || shared.status()),
            self.repaint.clone(),
        );
        nice_plug_egui::create_egui_editor(
            nice_plug_egui::EguiEditorState::from_size(
                nice_plug::editor::dpi::LogicalSize::new(editor::SIZE.0, editor::SIZE.1),
                1.0,
            ),
            self.repaint.clone(),
            nice_plug_egui::EguiNiceSettings::new(),
            app,
        )
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.rate = config.sample_rate;
        self.offline = config.process_mode == ProcessMode::Offline;
        let n = config.max_buffer_size as usize;
        if self.left.len() < n {
            self.left = vec![0.0; n];
            self.right = vec![0.0; n];
        }
        if self.meter.rate() != config.sample_rate {
            *self.meter = Meter::new(config.sample_rate);
        }
        *self.source = self.shared.load_now(config.sample_rate);
        self.meter.clear();
        self.fade = if self.params.original.value() {
            1.0
        } else {
            0.0
        };
        self.match_db = 0.0;
        context.set_latency_samples(0);
        true
    }

    fn reset(&mut self) {
        self.meter.clear();
        self.fade = if self.params.original.value() {
            1.0
        } else {
            0.0
        };
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let len = buffer.samples().min(self.left.len());
        self.take_incoming();
        let transport = context.transport();
        let pos = transport.pos_samples();
        let playing = transport.playing && pos.is_some();
        let lp = transport.loop_range_samples().filter(|(s, e)| e > s);
        match (playing, pos) {
            (true, Some(p)) => self.read(p, lp, len),
            (false, p) => {
                // Stopped: silence, and the reader primes where playing will start.
                self.left[..len].fill(0.0);
                self.right[..len].fill(0.0);
                if let (Some(p), Some(s)) = (p, &self.source.streamer) {
                    let comp = self.compensation();
                    s.stream.cue(p - comp, lp.map(|(ls, _)| ls - comp));
                }
            }
            _ => {
                self.left[..len].fill(0.0);
                self.right[..len].fill(0.0);
            }
        }

        let channels = buffer.as_slice();
        if channels.len() < 2 {
            return ProcessStatus::Normal;
        }
        let (l, r) = channels.split_at_mut(1);
        let (mix_l, mix_r) = (&mut l[0][..len], &mut r[0][..len]);

        // Measure before the mix is replaced.
        let stepped = playing
            && self
                .meter
                .push([&*mix_l, &*mix_r], [&self.left[..len], &self.right[..len]]);

        // The loudness match, smoothed.
        let target = if self.params.match_loudness.value() {
            self.meter
                .match_db()
                .unwrap_or(0.0)
                .clamp(-MATCH_LIMIT_DB, MATCH_LIMIT_DB)
        } else {
            0.0
        };
        let before = self.match_db;
        let k = 1.0 - (-(len as f32) / (MATCH_TAU_S * self.rate.max(1.0))).exp();
        self.match_db += (target - self.match_db) * k;
        let (g0, g1) = (util::db_to_gain(before), util::db_to_gain(self.match_db));

        // The switch.
        let want = if self.params.original.value() {
            1.0
        } else {
            0.0
        };
        let step = 1.0 / (FADE_S * self.rate.max(1.0));
        let dg = (g1 - g0) / len.max(1) as f32;
        if want == self.fade {
            if want == 1.0 {
                // B: the original, matched.
                for i in 0..len {
                    let g = g0 + dg * (i + 1) as f32;
                    mix_l[i] = self.left[i] * g;
                    mix_r[i] = self.right[i] * g;
                }
            }
            // A: the mix as it is.
        } else {
            for i in 0..len {
                if self.fade < want {
                    self.fade = (self.fade + step).min(want);
                } else if self.fade > want {
                    self.fade = (self.fade - step).max(want);
                }
                let w = 0.5 - 0.5 * (std::f32::consts::PI * self.fade).cos();
                let g = (g0 + dg * (i + 1) as f32) * w;
                mix_l[i] = mix_l[i] * (1.0 - w) + self.left[i] * g;
                mix_r[i] = mix_r[i] * (1.0 - w) + self.right[i] * g;
            }
        }

        if stepped {
            let s = &mut self.meter.snapshot;
            s.match_db = self.match_db;
            s.original_on = self.fade > 0.5;
            s.dropouts = self
                .source
                .streamer
                .as_ref()
                .map_or(0, |st| st.stream.missing().min(u64::from(u32::MAX)) as u32);
            self.meters.publish(s);
            self.repaint.request_repaint();
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Ab {
    const CLAP_ID: &'static str = "audio.auralis.ab";
    const CLAP_DESCRIPTION: Option<&'static str> = Some(
        "Switches the master bus between the mix and the session's original, in time and matched in loudness",
    );
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for Ab {
    const VST3_CLASS_ID: [u8; 16] = *b"AuralisABSwitch1";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Analyzer];
}
