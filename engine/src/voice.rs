//! One synth voice: two oscillators (with two-operator FM), sub and noise, unison, the filter,
//! three envelopes and two LFOs.
//!
//! Audio runs per sample; modulation (envelopes other than the amp's, LFOs, glide, pitch,
//! cutoff, pulse width, FM depth, level) runs at the control rate, every
//! [`CONTROL_PERIOD`] samples of the synth's clock. The control ticks fall on multiples of the
//! clock, never on block boundaries, so a song renders the same whatever the block size. The
//! amp envelope runs per sample (its attack must not step), and the level set at a control
//! tick is reached by a per-sample ramp.

use crate::env::{next_bipolar, Adsr, AdsrShape, Lfo, LfoShape};
use crate::filter::{flush, Ladder, LadderCoefs, Svf, SvfCoefs, SvfMode};
use crate::params::{Values, P};
use crate::wavetable::{increment, read, Shape, WaveTables, MORPH_FRAMES};

/// Samples between control ticks.
pub const CONTROL_PERIOD: u32 = 16;
/// Most unison copies per voice.
pub const MAX_UNISON: usize = 7;

/// Oscillator waveform (the `oscN_wave` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wave {
    /// Sine.
    Sine,
    /// Band-limited rising saw.
    #[default]
    Saw,
    /// Band-limited square.
    Square,
    /// Band-limited pulse of variable width.
    Pulse,
    /// Band-limited triangle.
    Triangle,
    /// White noise.
    Noise,
    /// The morphing wavetable, read at `oscN_wt_pos`.
    Wavetable,
}

impl Wave {
    fn from_index(i: usize) -> Self {
        match i {
            0 => Self::Sine,
            2 => Self::Square,
            3 => Self::Pulse,
            4 => Self::Triangle,
            5 => Self::Noise,
            6 => Self::Wavetable,
            _ => Self::Saw,
        }
    }
}

/// The voice's sound generator (the `voice_type` option; drums are the kit's, not a voice's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Generator {
    #[default]
    Subtractive,
    /// The oscillators excite a plucked string (extended Karplus–Strong).
    Pluck,
    /// The oscillators are a glottal source shaped by three formant band-passes.
    Formant,
    /// Four sine operators replace the oscillators.
    Fm4,
}

/// Modulation index of an FM modulator at level 1, radians.
const FM4_MAX_INDEX: f32 = 8.0;
/// Phase units (a cycle is 2³²) per radian.
const PHASE_PER_RAD: f32 = 4_294_967_296.0 / std::f32::consts::TAU;

/// Formants of five vowels (a, e, i, o, u): centre Hz of F1–F3, for an adult voice.
/// Source: G. E. Peterson, H. L. Barney, "Control methods used in a study of the vowels",
/// JASA 24 (1952), table II (men's averages; "o" and "u" from /ɔ/ and /u/).
const VOWELS: [[f32; 3]; 5] = [
    [730.0, 1090.0, 2440.0],
    [530.0, 1840.0, 2480.0],
    [270.0, 2290.0, 3010.0],
    [570.0, 840.0, 2410.0],
    [300.0, 870.0, 2240.0],
];
/// Formant bandwidths, Hz, and their gains (the higher formants weaker).
const FORMANT_BW_HZ: [f32; 3] = [80.0, 100.0, 140.0];
const FORMANT_GAIN: [f32; 3] = [1.0, 0.6, 0.3];
/// Frequency at which `pluck_decay_ms` is the string's 60 dB time (C4); a note an octave
/// lower rings √2 times longer.
const PLUCK_REF_HZ: f32 = 261.63;

/// Filter response (the `filter_type` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum FilterKind {
    #[default]
    Svf,
    Ladder,
}

/// Everything the per-sample loop reads, set at each control tick.
#[derive(Debug, Clone, Copy, Default)]
struct Frame {
    wave: [Wave; 2],
    level: [f32; 2],
    /// Per oscillator: phase increments of each unison copy, and the mip level.
    inc: [[u32; MAX_UNISON]; 2],
    mip: [usize; 2],
    /// Pulse width as a phase offset (a full cycle is 2³²).
    pw: [u32; 2],
    /// Wavetable: the frame below the position, and how far towards the next.
    wt: [(usize, f32); 2],
    /// FM depth, in phase units per unit of osc 2's output.
    fm: f32,
    sub_level: f32,
    sub_inc: u32,
    sub_mip: usize,
    noise_level: f32,
    unison: usize,
    /// Per unison copy: left and right gains.
    pan: [(f32, f32); MAX_UNISON],
    stereo: bool,
    filter: FilterKind,
    svf_mode: SvfMode,
    svf: SvfCoefs,
    ladder: LadderCoefs,
    /// Per-sample level ramp towards the tick's target.
    gain_step: f32,
    /// Voice pan (mono path), left and right gains.
    out_pan: (f32, f32),
    generator: Generator,
    /// Pluck: read delay (samples), loop gain, loop filter's one-sample weight, burst length.
    ks_delay: f32,
    ks_rho: f32,
    ks_s: f32,
    ks_burst: u32,
    ks_dc_pole: f32,
    /// FM4: algorithm, per-operator increments of each unison copy, per-operator gain (phase
    /// units per unit of output for a modulator, output gain for a carrier), feedback.
    fm4_algorithm: usize,
    fm4_inc: [[u32; MAX_UNISON]; 4],
    fm4_gain: [f32; 4],
    fm4_feedback: f32,
    /// Formant: the three band-passes and the breath level.
    formant: [SvfCoefs; 3],
    breath: f32,
}

/// Synth-wide state a voice reads at its control ticks.
pub(crate) struct Control<'a> {
    pub tables: &'a WaveTables,
    pub values: &'a Values,
    pub sample_rate: f32,
    /// Pitch bend, semitones.
    pub bend_st: f32,
}

/// One voice.
#[derive(Debug, Clone, Default)]
pub struct Voice {
    /// MIDI note the voice plays (its target, while gliding).
    pub note: u8,
    /// Whether the key is down.
    pub gate: bool,
    /// When the voice was started (synth clock), for stealing the oldest.
    pub started_at: u64,
    velocity: f32,
    /// Current pitch (MIDI note number, fractional while gliding).
    pitch: f32,
    phases: [[u32; MAX_UNISON]; 2],
    sub_phase: u32,
    noise: u32,
    amp: Adsr,
    fenv: Adsr,
    menv: Adsr,
    amp_shape: AdsrShape,
    fenv_shape: AdsrShape,
    menv_shape: AdsrShape,
    /// The parameters the three shapes were built from.
    shape_keys: Option<([[f32; 5]; 3], f32)>,
    lfo: [Lfo; 2],
    ticks_since_on: u32,
    svf: [Svf; 2],
    ladder: [Ladder; 2],
    formants: [[Svf; 3]; 2],
    gain: f32,
    frame: Frame,
    /// The plucked string's delay line (allocated by [`Voice::allocate`]; a power of two).
    string: Vec<f32>,
    string_pos: usize,
    string_last: f32,
    /// FM4: operator phases per unison copy, operator 4's last outputs (feedback), operator
    /// envelope levels.
    fm4_phase: [[u32; MAX_UNISON]; 4],
    fm4_last: [[f32; 2]; MAX_UNISON],
    fm4_env: [f32; 4],
    /// The loop's DC blocker: last input, last output.
    string_dc: (f32, f32),
    /// Samples of excitation left.
    burst_left: u32,
    /// Coefficients of the last control tick, kept while their inputs stand still.
    memo: Memos,
}

/// The last result of a function of `K`, recomputed only when the key changes: a control
/// tick derives increments and coefficients (exp, tan, pow) from inputs that mostly stand
/// still between ticks. The value is a function of the key alone, so a hit gives exactly what
/// recomputing would.
#[derive(Debug, Clone, Copy, Default)]
struct Memo<K, V> {
    key: Option<K>,
    value: V,
}

impl<K: PartialEq + Copy, V: Copy> Memo<K, V> {
    #[inline]
    fn get(&mut self, key: K, compute: impl FnOnce() -> V) -> V {
        if self.key != Some(key) {
            self.value = compute();
            self.key = Some(key);
        }
        self.value
    }
}

/// Unison copies' detune ratios and the widest copy's.
type Detune = ([f32; MAX_UNISON], f32);

/// Per oscillator, keyed by its note, the copies and their detune: increments and mip level.
type OscMemo = Memo<(f32, usize, Detune), ([u32; MAX_UNISON], usize)>;
/// Keyed by copies, spread, pan and whether stereo: whether stereo, per-copy gains, voice pan.
type PanMemo = Memo<(usize, f32, f32, bool), (bool, [(f32, f32); MAX_UNISON], (f32, f32))>;
/// Keyed by cutoff, its modulation in octaves, resonance, type and drive: the coefficients.
type FilterMemo = Memo<(f32, f32, f32, usize, f32), (FilterKind, SvfMode, SvfCoefs, LadderCoefs)>;
/// Keyed by pitch, brightness, decay and excitation: delay, loop weight, loop gain, DC pole,
/// burst length.
type PluckMemo = Memo<(f32, f32, f32, f32), (f32, f32, f32, f32, u32)>;
/// Keyed by pitch, ratios, copies and detune: each operator's increments.
type Fm4IncMemo = Memo<(f32, [f32; 4], usize, Detune), [[u32; MAX_UNISON]; 4]>;

/// A voice's memos (cleared with the voice: [`Voice::allocate`] sets the rate they assume).
#[derive(Debug, Clone, Copy, Default)]
struct Memos {
    detune: Memo<(usize, f32), Detune>,
    osc: [OscMemo; 2],
    sub: Memo<f32, (u32, usize)>,
    pan: PanMemo,
    filter: FilterMemo,
    pluck: PluckMemo,
    formant: Memo<(f32, f32), [SvfCoefs; 3]>,
    fm4_decay: Memo<[f32; 4], [f32; 4]>,
    fm4_inc: Fm4IncMemo,
    level: Memo<f32, f32>,
}

impl Voice {
    /// Whether the voice sounds (its amp envelope runs).
    pub fn is_active(&self) -> bool {
        self.amp.is_active()
    }

    /// Amp envelope level, for choosing which voice to steal.
    pub fn amp_level(&self) -> f32 {
        self.amp.level
    }

    /// Silences the voice at once and clears its state.
    pub fn reset(&mut self) {
        let mut string = std::mem::take(&mut self.string);
        string.iter_mut().for_each(|x| *x = 0.0);
        *self = Self::default();
        self.string = string;
    }

    /// Allocates the plucked string for notes down to 16 Hz at `sample_rate` (main thread).
    pub fn allocate(&mut self, sample_rate: f32) {
        let len = ((sample_rate / 16.0) as usize + 4).next_power_of_two();
        self.string = vec![0.0; len];
        self.reset();
    }

    /// Starts `note`: envelopes attack from where they are (a stolen or retriggered voice does
    /// not click), LFOs and oscillator phases restart (repeatable output), filters are cleared
    /// only when the voice was silent. `from_pitch` is where a glide starts.
    pub(crate) fn start(
        &mut self,
        note: u8,
        velocity: f32,
        from_pitch: f32,
        clock: u64,
        ctl: &Control,
    ) {
        if !self.is_active() {
            self.svf = Default::default();
            self.ladder = Default::default();
            self.formants = Default::default();
            self.string.iter_mut().for_each(|x| *x = 0.0);
            self.string_last = 0.0;
            self.string_dc = (0.0, 0.0);
            self.gain = 0.0;
            self.amp.reset();
            self.fenv.reset();
            self.menv.reset();
        }
        self.note = note;
        self.gate = true;
        self.started_at = clock;
        self.velocity = velocity.clamp(0.0, 1.0);
        self.pitch = from_pitch;
        for (k, osc) in self.phases.iter_mut().enumerate() {
            for (u, p) in osc.iter_mut().enumerate() {
                // Unison copies start spread over the cycle (a fixed, irrational-looking step)
                // so they do not sum in phase at the onset; copy 0 starts at 0.
                *p = (u as u32)
                    .wrapping_mul(0x5F35_6495)
                    .wrapping_add(k as u32 * 0x1234_5678);
            }
        }
        self.sub_phase = 0;
        self.noise = 0x9E37_79B9 ^ (note as u32) << 8;
        let seed = 0x2545_F491u32.wrapping_mul(note as u32 + 1);
        self.lfo[0].restart(seed);
        self.lfo[1].restart(seed.rotate_left(11));
        self.ticks_since_on = 0;
        self.burst_left = u32::MAX;
        self.fm4_phase = [[0; MAX_UNISON]; 4];
        self.fm4_last = [[0.0; 2]; MAX_UNISON];
        self.fm4_env = [1.0; 4];
        self.amp.gate_on();
        self.fenv.gate_on();
        self.menv.gate_on();
        self.control(ctl);
    }

    /// Moves a sounding voice to `note` without restarting it (legato).
    pub(crate) fn legato(&mut self, note: u8) {
        self.note = note;
        self.gate = true;
    }

    /// Releases the key.
    pub(crate) fn release(&mut self) {
        self.gate = false;
        self.amp.gate_off();
        self.fenv.gate_off();
        self.menv.gate_off();
    }

    /// States below [`crate::filter::FLUSH_BELOW`] (300 dB down) set to zero: a note held
    /// after its sound has died (a plucked string, a decayed envelope into a filter) would
    /// otherwise run its filters on denormals, which cost tens of times a normal sample.
    fn flush_states(&mut self) {
        match self.frame.filter {
            FilterKind::Svf => self.svf.iter_mut().for_each(Svf::flush),
            FilterKind::Ladder => self.ladder.iter_mut().for_each(Ladder::flush),
        }
        match self.frame.generator {
            Generator::Pluck => {
                self.string_last = flush(self.string_last);
                self.string_dc = (flush(self.string_dc.0), flush(self.string_dc.1));
            }
            Generator::Formant => self.formants.iter_mut().flatten().for_each(Svf::flush),
            Generator::Subtractive | Generator::Fm4 => {}
        }
    }

    /// A control tick: advances modulation and sets what the per-sample loop reads.
    pub(crate) fn control(&mut self, ctl: &Control) {
        let v = ctl.values;
        let rate = ctl.sample_rate;
        let tick_rate = rate / CONTROL_PERIOD as f32;
        self.ticks_since_on = self.ticks_since_on.saturating_add(1);
        self.flush_states();

        // Envelope shapes cost a few exp/ln each: rebuilt only when their parameters move.
        let env_params = |a, d, s, r, c| [v.get(a), v.get(d), v.get(s), v.get(r), v.get(c)];
        let keys = [
            env_params(
                P::AmpAttack,
                P::AmpDecay,
                P::AmpSustain,
                P::AmpRelease,
                P::AmpCurve,
            ),
            env_params(
                P::FenvAttack,
                P::FenvDecay,
                P::FenvSustain,
                P::FenvRelease,
                P::FenvCurve,
            ),
            env_params(
                P::MenvAttack,
                P::MenvDecay,
                P::MenvSustain,
                P::MenvRelease,
                P::MenvCurve,
            ),
        ];
        if self.shape_keys != Some((keys, rate)) {
            let shape = |k: &[f32; 5], step_rate: f32| {
                AdsrShape::new(k[0], k[1], k[2], k[3], k[4], step_rate)
            };
            self.amp_shape = shape(&keys[0], rate);
            self.fenv_shape = shape(&keys[1], tick_rate);
            self.menv_shape = shape(&keys[2], tick_rate);
            self.shape_keys = Some((keys, rate));
        }
        let fenv = self.fenv.tick(&self.fenv_shape);
        let menv = self.menv.tick(&self.menv_shape);

        // Glide: a one-pole approach, 63 % of the way in glide_ms.
        let glide_ms = v.get(P::Glide);
        let target = self.note as f32;
        if glide_ms > 0.0 {
            let a = 1.0 - (-1000.0 / (glide_ms * tick_rate)).exp();
            self.pitch += (target - self.pitch) * a;
        } else {
            self.pitch = target;
        }

        let delay_ticks = v.get(P::Lfo1Delay) * 0.001 * tick_rate;
        let fade = if delay_ticks > 0.0 {
            (self.ticks_since_on as f32 / delay_ticks).min(1.0)
        } else {
            1.0
        };
        // An LFO that modulates nothing still runs (its phase is part of the voice's
        // state), but its value, a sine or more, is not computed.
        let p1 = self.lfo[0].advance(v.get(P::Lfo1Rate) / tick_rate);
        let lfo1 = if v.get(P::Lfo1Pitch) != 0.0 || v.get(P::Lfo1Cutoff) != 0.0 {
            fade * self.lfo[0].value(LfoShape::from_index(v.index(P::Lfo1Shape)), p1)
        } else {
            0.0
        };
        let p2 = self.lfo[1].advance(v.get(P::Lfo2Rate) / tick_rate);
        let lfo2 = if v.get(P::Lfo2Pw) != 0.0 || v.get(P::Lfo2Amp) != 0.0 {
            self.lfo[1].value(LfoShape::from_index(v.index(P::Lfo2Shape)), p2)
        } else {
            0.0
        };

        let f = &mut self.frame;
        let m = &mut self.memo;
        let base = self.pitch
            + ctl.bend_st
            + lfo1 * v.get(P::Lfo1Pitch) * 0.01
            + menv * v.get(P::MenvPitch);
        let unison = v.index(P::UnisonVoices).clamp(1, MAX_UNISON);
        let detune_ct = v.get(P::UnisonDetune);
        let spread = v.get(P::UnisonSpread);
        f.unison = unison;
        f.generator = match v.index(P::VoiceType) {
            1 if !self.string.is_empty() => Generator::Pluck,
            2 => Generator::Formant,
            4 => Generator::Fm4,
            _ => Generator::Subtractive,
        };
        // Each unison copy's detune as a frequency ratio, and the widest copy's.
        let detune = m.detune.get((unison, detune_ct), || {
            let mut ratio = [1.0; MAX_UNISON];
            for (u, r) in ratio.iter_mut().enumerate().take(unison) {
                let off = if unison > 1 {
                    detune_ct * (2.0 * u as f32 / (unison - 1) as f32 - 1.0)
                } else {
                    0.0
                };
                *r = cents(off);
            }
            (ratio, cents(detune_ct))
        });
        let oscs = [
            (
                P::Osc1Wave,
                P::Osc1Level,
                P::Osc1Octave,
                P::Osc1Semi,
                P::Osc1Fine,
                P::Osc1Pw,
                P::Osc1WtPos,
            ),
            (
                P::Osc2Wave,
                P::Osc2Level,
                P::Osc2Octave,
                P::Osc2Semi,
                P::Osc2Fine,
                P::Osc2Pw,
                P::Osc2WtPos,
            ),
        ];
        // Osc 2 is read only when it sounds or modulates (`render`'s `use_osc2`), and no
        // oscillator is read by the FM4 generator.
        let fm_used = v.get(P::FmAmount) != 0.0 || v.get(P::MenvFm) != 0.0;
        for (k, (wave, level, oct, semi, fine, pw, pos)) in oscs.into_iter().enumerate() {
            let x = v.get(pos).clamp(0.0, 1.0) * (MORPH_FRAMES - 1) as f32;
            let i = (x as usize).min(MORPH_FRAMES - 2);
            f.wt[k] = (i, x - i as f32);
            f.wave[k] = Wave::from_index(v.index(wave));
            f.level[k] = v.get(level);
            if f.generator == Generator::Fm4 || (k == 1 && f.level[1] <= 0.0 && !fm_used) {
                continue;
            }
            let note = base + 12.0 * v.get(oct) + v.get(semi) + 0.01 * v.get(fine);
            (f.inc[k], f.mip[k]) = m.osc[k].get((note, unison, detune), || {
                let freq = midi_hz(note);
                let mut inc = [0; MAX_UNISON];
                for (i, r) in inc.iter_mut().zip(&detune.0).take(unison) {
                    *i = increment(freq * r, rate);
                }
                (inc, ctl.tables.level_for(freq * detune.1))
            });
            let width = (v.get(pw) + lfo2 * v.get(P::Lfo2Pw)).clamp(0.02, 0.98);
            f.pw[k] = (width as f64 * 4_294_967_296.0) as u32;
        }
        f.sub_level = v.get(P::SubLevel);
        if f.sub_level > 0.0 {
            let sub_note = base + 12.0 * v.get(P::Osc1Octave) + v.get(P::Osc1Semi);
            (f.sub_inc, f.sub_mip) = m.sub.get(sub_note, || {
                let sub_freq = 0.5 * midi_hz(sub_note);
                (increment(sub_freq, rate), ctl.tables.level_for(sub_freq))
            });
        }
        f.noise_level = v.get(P::NoiseLevel);
        // Radians of phase per unit of osc 2 → phase units (a cycle is 2³²).
        let fm_rad = v.get(P::FmAmount) + menv * v.get(P::MenvFm);
        f.fm = fm_rad / std::f32::consts::TAU * 4_294_967_296.0;

        // The string is one delay line: a plucked voice is mono (its pan still applies).
        let stereo = unison > 1 && spread > 0.0 && f.generator != Generator::Pluck;
        (f.stereo, f.pan, f.out_pan) = m.pan.get((unison, spread, v.get(P::Pan), stereo), || {
            let norm = 1.0 / (unison as f32).sqrt();
            let mut gains = [(0.0, 0.0); MAX_UNISON];
            for (u, g) in gains.iter_mut().enumerate().take(unison) {
                let p = if unison > 1 {
                    spread * (2.0 * u as f32 / (unison - 1) as f32 - 1.0)
                } else {
                    0.0
                };
                let (l, r) = pan_gains(p);
                *g = if stereo {
                    (l * norm, r * norm)
                } else {
                    (norm, norm)
                };
            }
            let out_pan = pan_gains(v.get(P::Pan));
            if stereo {
                // Unison spread already placed the copies; the voice pan tilts the pair.
                let (l, r) = out_pan;
                let s = std::f32::consts::SQRT_2;
                for g in gains[..unison].iter_mut() {
                    *g = (g.0 * l * s, g.1 * r * s);
                }
            }
            (stereo, gains, out_pan)
        });

        let octaves = v.get(P::FilterKeytrack) * (self.note as f32 - 60.0) / 12.0
            + v.get(P::FilterEnvAmount) * fenv
            + v.get(P::Lfo1Cutoff) * lfo1
            + v.get(P::FilterVelocity) * self.velocity;
        let res = v.get(P::FilterResonance);
        let filter_key = (
            v.get(P::FilterCutoff),
            octaves,
            res,
            v.index(P::FilterType),
            v.get(P::FilterDrive),
        );
        (f.filter, f.svf_mode, f.svf, f.ladder) = m.filter.get(filter_key, || {
            let cutoff = v.get(P::FilterCutoff) * octaves.exp2();
            match v.index(P::FilterType) {
                3 => (
                    FilterKind::Ladder,
                    SvfMode::LowPass,
                    SvfCoefs::default(),
                    LadderCoefs::new(cutoff, rate, 3.98 * res, 1.0 + 15.0 * v.get(P::FilterDrive)),
                ),
                i => (
                    FilterKind::Svf,
                    match i {
                        1 => SvfMode::BandPass,
                        2 => SvfMode::HighPass,
                        _ => SvfMode::LowPass,
                    },
                    SvfCoefs::new(cutoff, rate, 2.0 - 1.97 * res),
                    LadderCoefs::default(),
                ),
            }
        });

        match f.generator {
            Generator::Pluck => {
                let string_len = self.string.len();
                let key = (
                    base,
                    v.get(P::PluckBrightness),
                    v.get(P::PluckDecay),
                    v.get(P::PluckExcite),
                );
                let ks = m.pluck.get(key, || {
                    let f0 = midi_hz(base).max(16.0);
                    let period = rate / f0;
                    let s_w = 0.5 * (1.0 - v.get(P::PluckBrightness));
                    // The loop filter (1 − s) + s·z⁻¹ delays by ≈ s samples, and the loop's
                    // DC blocker (5 Hz) advances f0 by atan(5/f0) of a cycle; the line makes
                    // up the rest.
                    let dc_advance = (5.0 / f0).atan() / std::f32::consts::TAU * period;
                    let delay = (period - s_w + dc_advance).clamp(1.0, (string_len - 2) as f32);
                    let t60 = v.get(P::PluckDecay) * 0.001 * (PLUCK_REF_HZ / f0).sqrt();
                    let w = std::f32::consts::TAU * f0 / rate;
                    let loop_gain =
                        ((1.0 - s_w).powi(2) + s_w * s_w + 2.0 * s_w * (1.0 - s_w) * w.cos())
                            .sqrt()
                            .max(1e-3);
                    let rho = (0.001f32.powf(1.0 / (f0 * t60)) / loop_gain).min(0.99995);
                    let dc_pole = (-std::f32::consts::TAU * 5.0 / rate).exp();
                    let burst = (v.get(P::PluckExcite) * 0.001 * rate).max(1.0) as u32;
                    (delay, s_w, rho, dc_pole, burst)
                });
                (f.ks_delay, f.ks_s, f.ks_rho, f.ks_dc_pole, f.ks_burst) = ks;
                if self.burst_left == u32::MAX {
                    self.burst_left = f.ks_burst;
                }
            }
            Generator::Formant => {
                let key = (v.get(P::FormantVowel), v.get(P::FormantShift));
                f.formant = m.formant.get(key, || {
                    let x = v.get(P::FormantVowel).clamp(0.0, 4.0);
                    let i = (x as usize).min(3);
                    let t = x - i as f32;
                    let shift = (v.get(P::FormantShift) / 12.0).exp2();
                    std::array::from_fn(|k| {
                        let fc = shift * (VOWELS[i][k] + t * (VOWELS[i + 1][k] - VOWELS[i][k]));
                        SvfCoefs::new(fc, rate, FORMANT_BW_HZ[k] * shift / fc)
                    })
                });
                f.breath = v.get(P::FormantBreath);
            }
            Generator::Fm4 => {
                f.fm4_algorithm = v.index(P::Fm4Algorithm);
                let ratios = [
                    v.get(P::Fm4Ratio1),
                    v.get(P::Fm4Ratio2),
                    v.get(P::Fm4Ratio3),
                    v.get(P::Fm4Ratio4),
                ];
                let levels = [
                    1.0,
                    v.get(P::Fm4Level2),
                    v.get(P::Fm4Level3),
                    v.get(P::Fm4Level4),
                ];
                let decays = [
                    v.get(P::Fm4Decay1),
                    v.get(P::Fm4Decay2),
                    v.get(P::Fm4Decay3),
                    v.get(P::Fm4Decay4),
                ];
                let sustain = v.get(P::Fm4Sustain);
                let coefs = m.fm4_decay.get(decays, || {
                    decays.map(|d| (0.001f32.ln() / (d * 0.001 * tick_rate)).exp())
                });
                f.fm4_inc = m.fm4_inc.get((base, ratios, unison, detune), || {
                    let freq = midi_hz(base);
                    let mut inc = [[0; MAX_UNISON]; 4];
                    for (op, ratio) in inc.iter_mut().zip(ratios) {
                        for (i, r) in op.iter_mut().zip(&detune.0).take(unison) {
                            *i = increment(freq * ratio * r, rate);
                        }
                    }
                    inc
                });
                for k in 0..4 {
                    // Flushed 300 dB down: a decayed operator would scale by denormals.
                    self.fm4_env[k] = flush(sustain + (self.fm4_env[k] - sustain) * coefs[k]);
                    let g = levels[k] * self.fm4_env[k];
                    f.fm4_gain[k] = if fm4_carrier(f.fm4_algorithm, k) {
                        g
                    } else {
                        g * FM4_MAX_INDEX * PHASE_PER_RAD
                    };
                }
                f.fm4_feedback = v.get(P::Fm4Feedback) * PHASE_PER_RAD;
            }
            Generator::Subtractive => {}
        }

        let va = v.get(P::VelocityAmount);
        let vel_gain = 1.0 - va + va * self.velocity * self.velocity;
        let trem = 1.0 - v.get(P::Lfo2Amp) * 0.5 * (1.0 - lfo2);
        let target_gain =
            m.level.get(v.get(P::Level), || db_to_gain(v.get(P::Level))) * vel_gain * trem;
        f.gain_step = (target_gain - self.gain) / CONTROL_PERIOD as f32;
    }

    /// Adds the voice's next `left.len()` samples into `left` and `right`.
    pub(crate) fn render(&mut self, tables: &WaveTables, left: &mut [f32], right: &mut [f32]) {
        let f = self.frame;
        let tabs = [
            table_for(tables, f.wave[0], f.mip[0], f.wt[0].0),
            table_for(tables, f.wave[1], f.mip[1], f.wt[1].0),
        ];
        // The next wavetable frame (only read by the wavetable wave).
        let next = [
            tables.morph(f.wt[0].0 + 1, f.mip[0]),
            tables.morph(f.wt[1].0 + 1, f.mip[1]),
        ];
        let ws = [
            Wt {
                next: next[0],
                t: f.wt[0].1,
            },
            Wt {
                next: next[1],
                t: f.wt[1].1,
            },
        ];
        let sub = tables.table(Shape::Saw, f.sub_mip);
        let sine = tables.sine();
        let half = 1u32 << 31;
        let use_osc2 = f.level[1] > 0.0 || f.fm != 0.0;
        if f.unison == 1
            && !use_osc2
            && f.sub_level == 0.0
            && f.noise_level == 0.0
            && !f.stereo
            && f.generator == Generator::Subtractive
        {
            // The common case (one oscillator, no extras), without the general loop's
            // branches; the arithmetic is the same, so the output is too.
            let (pl, pr) = (f.out_pan.0 * f.pan[0].0, f.out_pan.1 * f.pan[0].1);
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let o1 = osc(
                    f.wave[0],
                    tabs[0],
                    &ws[0],
                    self.phases[0][0],
                    f.pw[0],
                    &mut self.noise,
                );
                self.phases[0][0] = self.phases[0][0].wrapping_add(f.inc[0][0]);
                let s = f.level[0] * o1;
                let amp = self.amp.tick(&self.amp_shape);
                self.gain += f.gain_step;
                let y = self.filter(0, s) * (amp * self.gain);
                *l += y * pl;
                *r += y * pr;
            }
            return;
        }
        // The oscillators run one at a time over the slice (a slice is at most a control
        // period), each in a loop of its own waveform; a noise oscillator draws from the
        // voice's noise in step with the noise source and the breath, so it keeps the
        // per-sample loop. The sums are taken in the same order either way.
        let n = left.len();
        let blockwise = n <= CONTROL_PERIOD as usize
            && f.wave[0] != Wave::Noise
            && !(use_osc2 && f.wave[1] == Wave::Noise);
        let mut bank = [[0.0f32; CONTROL_PERIOD as usize]; 2];
        if blockwise {
            let [bl, br] = &mut bank;
            self.oscillators(&tabs, &ws, sine, use_osc2, &mut bl[..n], &mut br[..n]);
        }
        for (i, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
            let (mut sl, mut sr) = if blockwise {
                (bank[0][i], bank[1][i])
            } else {
                self.oscillator_sample(&tabs, &ws, sine, use_osc2)
            };
            let mut centre = 0.0;
            if f.sub_level > 0.0 {
                centre += f.sub_level
                    * (read(sub, self.sub_phase) - read(sub, self.sub_phase.wrapping_add(half)));
                self.sub_phase = self.sub_phase.wrapping_add(f.sub_inc);
            }
            if f.noise_level > 0.0 {
                centre += f.noise_level * next_bipolar(&mut self.noise);
            }
            match f.generator {
                Generator::Subtractive | Generator::Fm4 => {}
                Generator::Pluck => {
                    let excite = if self.burst_left > 0 {
                        self.burst_left -= 1;
                        sl + centre
                    } else {
                        0.0
                    };
                    let y = self.pluck(excite);
                    (sl, sr, centre) = (y, y, 0.0);
                }
                Generator::Formant => {
                    let breath = f.breath * next_bipolar(&mut self.noise);
                    sl = self.formant(0, sl + centre + breath);
                    sr = if f.stereo {
                        self.formant(1, sr + centre + breath)
                    } else {
                        sl
                    };
                    centre = 0.0;
                }
            }
            let amp = self.amp.tick(&self.amp_shape);
            self.gain += f.gain_step;
            let g = amp * self.gain;
            if f.stereo {
                let (yl, yr) = (self.filter(0, sl + centre), self.filter(1, sr + centre));
                *l += g * yl;
                *r += g * yr;
            } else {
                let y = self.filter(0, sl + centre) * g;
                *l += y * f.out_pan.0;
                *r += y * f.out_pan.1;
            }
        }
    }

    /// One sample of every oscillator of every unison copy, panned: `(left, right)`.
    #[inline]
    fn oscillator_sample(
        &mut self,
        tabs: &[&[f32]; 2],
        ws: &[Wt; 2],
        sine: &[f32],
        use_osc2: bool,
    ) -> (f32, f32) {
        let f = self.frame;
        let (mut sl, mut sr) = (0.0f32, 0.0f32);
        for u in 0..f.unison {
            if f.generator == Generator::Fm4 {
                let s = self.fm4_sample(sine, u);
                sl += s * f.pan[u].0;
                sr += s * f.pan[u].1;
                continue;
            }
            let mut o2 = 0.0;
            if use_osc2 {
                o2 = osc(
                    f.wave[1],
                    tabs[1],
                    &ws[1],
                    self.phases[1][u],
                    f.pw[1],
                    &mut self.noise,
                );
                self.phases[1][u] = self.phases[1][u].wrapping_add(f.inc[1][u]);
            }
            let ph1 = self.phases[0][u].wrapping_add((o2 * f.fm) as i64 as u32);
            let o1 = osc(f.wave[0], tabs[0], &ws[0], ph1, f.pw[0], &mut self.noise);
            self.phases[0][u] = self.phases[0][u].wrapping_add(f.inc[0][u]);
            let s = f.level[0] * o1 + f.level[1] * o2;
            sl += s * f.pan[u].0;
            sr += s * f.pan[u].1;
        }
        (sl, sr)
    }

    /// The oscillators of every unison copy over a slice, panned and summed into `bl` and
    /// `br` (as [`Voice::oscillator_sample`] sums them, sample by sample). Kept out of line:
    /// inlined, it made `render` too large for the common case's loop to stay tight.
    #[inline(never)]
    fn oscillators(
        &mut self,
        tabs: &[&[f32]; 2],
        ws: &[Wt; 2],
        sine: &[f32],
        use_osc2: bool,
        bl: &mut [f32],
        br: &mut [f32],
    ) {
        let f = self.frame;
        let n = bl.len();
        let mut o1 = [0.0f32; CONTROL_PERIOD as usize];
        let mut o2 = [0.0f32; CONTROL_PERIOD as usize];
        for u in 0..f.unison {
            let (pl, pr) = f.pan[u];
            if f.generator == Generator::Fm4 {
                for (l, r) in bl.iter_mut().zip(br.iter_mut()) {
                    let s = self.fm4_sample(sine, u);
                    *l += s * pl;
                    *r += s * pr;
                }
                continue;
            }
            if use_osc2 {
                let phase = &mut self.phases[1][u];
                fill(
                    f.wave[1],
                    tabs[1],
                    &ws[1],
                    f.pw[1],
                    phase,
                    f.inc[1][u],
                    None,
                    &mut o2[..n],
                );
            }
            let pm = (use_osc2 && f.fm != 0.0).then_some((&o2[..n], f.fm));
            let phase = &mut self.phases[0][u];
            fill(
                f.wave[0],
                tabs[0],
                &ws[0],
                f.pw[0],
                phase,
                f.inc[0][u],
                pm,
                &mut o1[..n],
            );
            for (((l, r), a), b) in bl.iter_mut().zip(br.iter_mut()).zip(&o1).zip(&o2) {
                let s = f.level[0] * a + f.level[1] * b;
                *l += s * pl;
                *r += s * pr;
            }
        }
    }

    /// One sample of the four operators of unison copy `u`.
    #[inline]
    fn fm4_sample(&mut self, sine: &[f32], u: usize) -> f32 {
        let f = &self.frame;
        let g = f.fm4_gain;
        let p = [
            self.fm4_phase[0][u],
            self.fm4_phase[1][u],
            self.fm4_phase[2][u],
            self.fm4_phase[3][u],
        ];
        for ((phase, inc), start) in self.fm4_phase.iter_mut().zip(&f.fm4_inc).zip(p) {
            phase[u] = start.wrapping_add(inc[u]);
        }
        let at = |phase: u32, m: f32| read(sine, phase.wrapping_add(m as i64 as u32));
        // Operator 4's feedback: the mean of its last two outputs (damps the fast oscillation
        // plain one-sample feedback makes at high amounts).
        let last = self.fm4_last[u];
        let o4 = at(p[3], f.fm4_feedback * 0.5 * (last[0] + last[1]));
        self.fm4_last[u] = [o4, last[0]];
        match f.fm4_algorithm {
            // 4 → 3 → 2 → 1
            0 => {
                let o3 = at(p[2], g[3] * o4);
                let o2 = at(p[1], g[2] * o3);
                g[0] * at(p[0], g[1] * o2)
            }
            // 4 → 3 and 2 → 1; operators 1 and 3 are heard.
            1 => {
                let o3 = at(p[2], g[3] * o4);
                let o2 = at(p[1], 0.0);
                g[0] * at(p[0], g[1] * o2) + g[2] * o3
            }
            // 2, 3, 4 → 1
            2 => {
                let o3 = at(p[2], 0.0);
                let o2 = at(p[1], 0.0);
                g[0] * at(p[0], g[1] * o2 + g[2] * o3 + g[3] * o4)
            }
            // All heard.
            _ => g[0] * at(p[0], 0.0) + g[1] * at(p[1], 0.0) + g[2] * at(p[2], 0.0) + g[3] * o4,
        }
    }

    /// One sample of the string: the excitation plus the delayed, damped loop.
    #[inline]
    fn pluck(&mut self, excite: f32) -> f32 {
        let f = &self.frame;
        let mask = self.string.len() - 1;
        let d = f.ks_delay;
        let di = d as usize;
        let frac = d - di as f32;
        let a = self.string[(self.string_pos + mask + 1 - di) & mask];
        let b = self.string[(self.string_pos + mask - di) & mask];
        let delayed = a + (b - a) * frac;
        let damped = (1.0 - f.ks_s) * delayed + f.ks_s * self.string_last;
        self.string_last = delayed;
        let y = excite + f.ks_rho * damped;
        // A DC blocker in the loop (5 Hz): an excitation with an offset would otherwise
        // circulate as DC for as long as the string rings.
        // A string rung out would circulate denormals (a held note's line decays for as long
        // as the key is down): what goes back into the loop is flushed 300 dB down.
        let y = flush(y);
        let blocked = flush(y - self.string_dc.0 + f.ks_dc_pole * self.string_dc.1);
        self.string_dc = (y, blocked);
        let y = blocked;
        self.string[self.string_pos] = y;
        self.string_pos = (self.string_pos + 1) & mask;
        y
    }

    #[inline]
    fn formant(&mut self, ch: usize, x: f32) -> f32 {
        let f = &self.frame;
        let mut y = 0.0;
        for ((state, c), gain) in self.formants[ch]
            .iter_mut()
            .zip(&f.formant)
            .zip(FORMANT_GAIN)
        {
            y += gain * state.tick(x, c, SvfMode::BandPass);
        }
        y
    }

    #[inline]
    fn filter(&mut self, ch: usize, x: f32) -> f32 {
        match self.frame.filter {
            FilterKind::Svf => self.svf[ch].tick(x, &self.frame.svf, self.frame.svf_mode),
            FilterKind::Ladder => self.ladder[ch].tick(x, &self.frame.ladder),
        }
    }
}

/// Whether operator `k` (0-based) is heard, rather than modulating, in `algorithm`.
fn fm4_carrier(algorithm: usize, k: usize) -> bool {
    match algorithm {
        0 | 2 => k == 0,
        1 => k == 0 || k == 2,
        _ => true,
    }
}

/// The wavetable wave's second frame and the share of it in the mix.
struct Wt<'a> {
    next: &'a [f32],
    t: f32,
}

fn table_for(tables: &WaveTables, wave: Wave, mip: usize, frame: usize) -> &[f32] {
    match wave {
        Wave::Wavetable => tables.morph(frame, mip),
        Wave::Sine if mip < tables.levels() => tables.sine(),
        Wave::Sine => &[],
        Wave::Triangle => tables.table(Shape::Triangle, mip),
        _ => tables.table(Shape::Saw, mip),
    }
}

#[inline]
fn osc(wave: Wave, table: &[f32], wt: &Wt, phase: u32, pw: u32, noise: &mut u32) -> f32 {
    match wave {
        Wave::Wavetable => {
            let a = read(table, phase);
            a + (read(wt.next, phase) - a) * wt.t
        }
        Wave::Sine | Wave::Saw | Wave::Triangle => read(table, phase),
        Wave::Square => read(table, phase) - read(table, phase.wrapping_add(1 << 31)),
        Wave::Pulse => read(table, phase) - read(table, phase.wrapping_add(pw)),
        Wave::Noise => next_bipolar(noise),
    }
}

/// `out.len()` samples of a (non-noise) oscillator from `phase` on, phase-modulated by
/// `pm = (signal, depth)` where given; the same samples as [`osc`] gives one at a time.
#[allow(clippy::too_many_arguments)]
#[inline]
fn fill(
    wave: Wave,
    table: &[f32],
    wt: &Wt,
    pw: u32,
    phase: &mut u32,
    inc: u32,
    pm: Option<(&[f32], f32)>,
    out: &mut [f32],
) {
    match wave {
        Wave::Wavetable => run(out, phase, inc, pm, |p| {
            let a = read(table, p);
            a + (read(wt.next, p) - a) * wt.t
        }),
        Wave::Sine | Wave::Saw | Wave::Triangle => run(out, phase, inc, pm, |p| read(table, p)),
        Wave::Square => run(out, phase, inc, pm, |p| {
            read(table, p) - read(table, p.wrapping_add(1 << 31))
        }),
        Wave::Pulse => run(out, phase, inc, pm, |p| {
            read(table, p) - read(table, p.wrapping_add(pw))
        }),
        Wave::Noise => out.fill(0.0),
    }
}

/// The loop of [`fill`] for one waveform.
#[inline(always)]
fn run(
    out: &mut [f32],
    phase: &mut u32,
    inc: u32,
    pm: Option<(&[f32], f32)>,
    wave: impl Fn(u32) -> f32,
) {
    match pm {
        None => {
            for o in out {
                *o = wave(*phase);
                *phase = phase.wrapping_add(inc);
            }
        }
        Some((m, depth)) => {
            for (o, m) in out.iter_mut().zip(m) {
                *o = wave(phase.wrapping_add((m * depth) as i64 as u32));
                *phase = phase.wrapping_add(inc);
            }
        }
    }
}

/// Frequency of a (fractional) MIDI note, A4 = 440 Hz.
#[inline]
pub fn midi_hz(note: f32) -> f32 {
    440.0 * ((note - 69.0) / 12.0).exp2()
}

#[inline]
fn cents(c: f32) -> f32 {
    (c / 1200.0).exp2()
}

/// Linear gain of `db`.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Constant-power pan, −1 (left) … 1 (right); 1/√2 each at the centre.
#[inline]
pub fn pan_gains(pan: f32) -> (f32, f32) {
    let a = (pan.clamp(-1.0, 1.0) + 1.0) * std::f32::consts::FRAC_PI_4;
    (a.cos(), a.sin())
}
