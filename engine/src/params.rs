//! The synth's parameters: one table, in one place, with stable string ids.
//!
//! A parameter's **id** (`"filter_cutoff_hz"`) is what patches, presets, sessions and plugin
//! state store; it never changes once released. The enum [`P`] and the table's order are
//! internal (the voice reads a dense array indexed by `P`), so parameters may be added or
//! reordered without breaking a stored patch: a patch names values by id, and an id it does
//! not name takes its default.
//!
//! Choice parameters hold the option's index as a float inside the engine and are stored by
//! the option's name (also stable forever).

/// How a parameter's value is distributed over its range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A continuous value, linear in `min..=max`.
    Linear {
        /// Lowest value.
        min: f32,
        /// Highest value.
        max: f32,
        /// Value when a patch does not name it.
        default: f32,
    },
    /// A continuous value spread evenly in log scale over `min..=max` (both > 0).
    Log {
        /// Lowest value.
        min: f32,
        /// Highest value.
        max: f32,
        /// Value when a patch does not name it.
        default: f32,
    },
    /// A whole number in `min..=max`.
    Int {
        /// Lowest value.
        min: i32,
        /// Highest value.
        max: i32,
        /// Value when a patch does not name it.
        default: i32,
    },
    /// One of named options (stored by name, held as the option's index).
    Choice {
        /// Option names, stable forever.
        options: &'static [&'static str],
        /// Index of the default option.
        default: usize,
    },
}

/// One parameter of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Stable id (stored in patches, presets, sessions and plugin state).
    pub id: &'static str,
    /// Short name shown to the user.
    pub name: &'static str,
    /// Unit shown after the value (`"Hz"`, `"ms"`, `"dB"`, `"st"`, `"ct"`, `""`).
    pub unit: &'static str,
    /// Range and scale.
    pub kind: Kind,
}

impl ParamSpec {
    /// The default value (a choice's index as a float).
    pub fn default_value(&self) -> f32 {
        match self.kind {
            Kind::Linear { default, .. } | Kind::Log { default, .. } => default,
            Kind::Int { default, .. } => default as f32,
            Kind::Choice { default, .. } => default as f32,
        }
    }

    /// Lowest and highest value (a choice's indices).
    pub fn range(&self) -> (f32, f32) {
        match self.kind {
            Kind::Linear { min, max, .. } | Kind::Log { min, max, .. } => (min, max),
            Kind::Int { min, max, .. } => (min as f32, max as f32),
            Kind::Choice { options, .. } => (0.0, (options.len() - 1) as f32),
        }
    }

    /// `value` clamped to the range and, for whole-number kinds, rounded.
    pub fn clamp(&self, value: f32) -> f32 {
        let (lo, hi) = self.range();
        let v = value.clamp(lo, hi);
        match self.kind {
            Kind::Int { .. } | Kind::Choice { .. } => v.round(),
            _ => v,
        }
    }

    /// The value's place in its range, 0..=1 (log scale for [`Kind::Log`]); what a host
    /// automates and what the fitter searches over.
    pub fn to_normalized(&self, value: f32) -> f32 {
        let (lo, hi) = self.range();
        if hi <= lo {
            return 0.0;
        }
        let v = self.clamp(value);
        match self.kind {
            Kind::Log { min, max, .. } => (v / min).ln() / (max / min).ln(),
            _ => (v - lo) / (hi - lo),
        }
    }

    /// The value at `normalized` (0..=1) of the range.
    pub fn from_normalized(&self, normalized: f32) -> f32 {
        let t = normalized.clamp(0.0, 1.0);
        let (lo, hi) = self.range();
        match self.kind {
            Kind::Log { min, max, .. } => self.clamp(min * (max / min).powf(t)),
            _ => self.clamp(lo + t * (hi - lo)),
        }
    }
}

/// Oscillator waveforms (the `osc1_wave` / `osc2_wave` options, in this order).
pub const WAVES: &[&str] = &[
    "sine",
    "saw",
    "square",
    "pulse",
    "triangle",
    "noise",
    "wavetable",
];
/// Filter types (the `filter_type` options, in this order).
pub const FILTERS: &[&str] = &["lowpass", "bandpass", "highpass", "ladder"];
/// LFO shapes (the `lfo1_shape` / `lfo2_shape` options, in this order).
pub const LFO_SHAPES: &[&str] = &["sine", "triangle", "saw", "square", "random"];
/// Sound generators (the `voice_type` options): the subtractive voice, a plucked string
/// (Karplus–Strong), a sung voice (formant filters), a drum kit (notes are General MIDI drums),
/// or four-operator FM.
pub const VOICE_TYPES: &[&str] = &["subtractive", "pluck", "formant", "drums", "fm4"];
/// Four-operator FM algorithms (the `fm4_algorithm` options; operator 1 is always a carrier):
/// a stack 4→3→2→1, two pairs 4→3 and 2→1, three modulators into one (2, 3, 4 → 1), and all
/// four as carriers (additive).
pub const FM4_ALGORITHMS: &[&str] = &["stack", "pairs", "three_to_one", "parallel"];
/// Voice modes (the `voice_mode` options): polyphonic, or one voice with legato and glide.
pub const VOICE_MODES: &[&str] = &["poly", "mono"];

macro_rules! params {
    ($( $(#[$doc:meta])* $var:ident = ($id:literal, $name:literal, $unit:literal, $kind:expr) ),* $(,)?) => {
        /// Index of each parameter in the dense value array (internal: stored patches use ids).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(usize)]
        #[allow(missing_docs)]
        pub enum P { $( $(#[$doc])* $var ),* }

        /// The parameter table, in [`P`] order.
        pub const SPECS: &[ParamSpec] = &[ $( ParamSpec { id: $id, name: $name, unit: $unit, kind: $kind } ),* ];
    };
}

const fn lin(min: f32, max: f32, default: f32) -> Kind {
    Kind::Linear { min, max, default }
}
const fn log(min: f32, max: f32, default: f32) -> Kind {
    Kind::Log { min, max, default }
}
const fn int(min: i32, max: i32, default: i32) -> Kind {
    Kind::Int { min, max, default }
}
const fn choice(options: &'static [&'static str], default: usize) -> Kind {
    Kind::Choice { options, default }
}

params! {
    VoiceType = ("voice_type", "Voice type", "", choice(VOICE_TYPES, 0)),
    Osc1Wave = ("osc1_wave", "Osc 1 wave", "", choice(WAVES, 1)),
    Osc1Level = ("osc1_level", "Osc 1 level", "", lin(0.0, 1.0, 1.0)),
    Osc1Octave = ("osc1_octave", "Osc 1 octave", "oct", int(-3, 3, 0)),
    Osc1Semi = ("osc1_semi", "Osc 1 semitones", "st", int(-12, 12, 0)),
    Osc1Fine = ("osc1_fine", "Osc 1 fine", "ct", lin(-100.0, 100.0, 0.0)),
    Osc1Pw = ("osc1_pw", "Osc 1 pulse width", "", lin(0.05, 0.95, 0.5)),
    /// Position in the morphing wavetable (`wavetable` wave): 0 sine … 1 vowel-like.
    Osc1WtPos = ("osc1_wt_pos", "Osc 1 wavetable position", "", lin(0.0, 1.0, 0.4)),
    Osc2Wave = ("osc2_wave", "Osc 2 wave", "", choice(WAVES, 1)),
    Osc2Level = ("osc2_level", "Osc 2 level", "", lin(0.0, 1.0, 0.0)),
    Osc2Octave = ("osc2_octave", "Osc 2 octave", "oct", int(-3, 3, 0)),
    Osc2Semi = ("osc2_semi", "Osc 2 semitones", "st", int(-12, 12, 0)),
    Osc2Fine = ("osc2_fine", "Osc 2 fine", "ct", lin(-100.0, 100.0, 0.0)),
    Osc2Pw = ("osc2_pw", "Osc 2 pulse width", "", lin(0.05, 0.95, 0.5)),
    Osc2WtPos = ("osc2_wt_pos", "Osc 2 wavetable position", "", lin(0.0, 1.0, 0.4)),
    /// Phase modulation of osc 1 by osc 2 (two-operator FM: osc 2 is the modulator), radians.
    FmAmount = ("fm_amount", "FM amount", "rad", lin(0.0, 10.0, 0.0)),
    SubLevel = ("sub_level", "Sub level", "", lin(0.0, 1.0, 0.0)),
    NoiseLevel = ("noise_level", "Noise level", "", lin(0.0, 1.0, 0.0)),
    UnisonVoices = ("unison_voices", "Unison voices", "", int(1, 7, 1)),
    UnisonDetune = ("unison_detune", "Unison detune", "ct", lin(0.0, 100.0, 0.0)),
    UnisonSpread = ("unison_spread", "Unison stereo spread", "", lin(0.0, 1.0, 0.0)),
    FilterType = ("filter_type", "Filter type", "", choice(FILTERS, 0)),
    FilterCutoff = ("filter_cutoff_hz", "Filter cutoff", "Hz", log(20.0, 20_000.0, 20_000.0)),
    FilterResonance = ("filter_resonance", "Filter resonance", "", lin(0.0, 1.0, 0.0)),
    FilterDrive = ("filter_drive", "Filter drive", "", lin(0.0, 1.0, 0.0)),
    /// Cutoff follows the note: 1 = one octave per octave, around C4.
    FilterKeytrack = ("filter_keytrack", "Filter key tracking", "", lin(0.0, 1.0, 0.0)),
    /// Filter envelope depth, octaves of cutoff at full envelope.
    FilterEnvAmount = ("filter_env_oct", "Filter envelope", "oct", lin(-8.0, 8.0, 0.0)),
    /// Velocity to cutoff, octaves at full velocity (relative to velocity 0).
    FilterVelocity = ("filter_velocity_oct", "Filter velocity", "oct", lin(0.0, 4.0, 0.0)),
    AmpAttack = ("amp_attack_ms", "Amp attack", "ms", log(0.5, 10_000.0, 2.0)),
    AmpDecay = ("amp_decay_ms", "Amp decay", "ms", log(1.0, 20_000.0, 300.0)),
    AmpSustain = ("amp_sustain", "Amp sustain", "", lin(0.0, 1.0, 1.0)),
    AmpRelease = ("amp_release_ms", "Amp release", "ms", log(1.0, 20_000.0, 50.0)),
    /// 0: linear segments; 1: strongly exponential (fast start, long tail).
    AmpCurve = ("amp_curve", "Amp curve", "", lin(0.0, 1.0, 0.6)),
    FenvAttack = ("fenv_attack_ms", "Filter env attack", "ms", log(0.5, 10_000.0, 2.0)),
    FenvDecay = ("fenv_decay_ms", "Filter env decay", "ms", log(1.0, 20_000.0, 300.0)),
    FenvSustain = ("fenv_sustain", "Filter env sustain", "", lin(0.0, 1.0, 0.0)),
    FenvRelease = ("fenv_release_ms", "Filter env release", "ms", log(1.0, 20_000.0, 100.0)),
    FenvCurve = ("fenv_curve", "Filter env curve", "", lin(0.0, 1.0, 0.6)),
    MenvAttack = ("menv_attack_ms", "Mod env attack", "ms", log(0.5, 10_000.0, 0.5)),
    MenvDecay = ("menv_decay_ms", "Mod env decay", "ms", log(1.0, 20_000.0, 100.0)),
    MenvSustain = ("menv_sustain", "Mod env sustain", "", lin(0.0, 1.0, 0.0)),
    MenvRelease = ("menv_release_ms", "Mod env release", "ms", log(1.0, 20_000.0, 100.0)),
    MenvCurve = ("menv_curve", "Mod env curve", "", lin(0.0, 1.0, 0.6)),
    /// Mod envelope to pitch, semitones at full envelope.
    MenvPitch = ("menv_pitch_st", "Mod env to pitch", "st", lin(-48.0, 48.0, 0.0)),
    /// Mod envelope to FM amount, radians at full envelope.
    MenvFm = ("menv_fm", "Mod env to FM", "rad", lin(0.0, 10.0, 0.0)),
    Lfo1Shape = ("lfo1_shape", "LFO 1 shape", "", choice(LFO_SHAPES, 0)),
    Lfo1Rate = ("lfo1_rate_hz", "LFO 1 rate", "Hz", log(0.01, 40.0, 5.0)),
    /// The LFO fades in over this time after the note starts (vibrato that comes in late).
    Lfo1Delay = ("lfo1_delay_ms", "LFO 1 delay", "ms", lin(0.0, 2_000.0, 0.0)),
    Lfo1Pitch = ("lfo1_pitch_ct", "LFO 1 to pitch", "ct", lin(0.0, 200.0, 0.0)),
    Lfo1Cutoff = ("lfo1_cutoff_oct", "LFO 1 to cutoff", "oct", lin(0.0, 4.0, 0.0)),
    Lfo2Shape = ("lfo2_shape", "LFO 2 shape", "", choice(LFO_SHAPES, 1)),
    Lfo2Rate = ("lfo2_rate_hz", "LFO 2 rate", "Hz", log(0.01, 40.0, 1.0)),
    Lfo2Pw = ("lfo2_pw", "LFO 2 to pulse width", "", lin(0.0, 0.45, 0.0)),
    /// Tremolo depth: 1 swings the level from full to silence.
    Lfo2Amp = ("lfo2_amp", "LFO 2 to level", "", lin(0.0, 1.0, 0.0)),
    VoiceMode = ("voice_mode", "Voice mode", "", choice(VOICE_MODES, 0)),
    Polyphony = ("polyphony", "Polyphony", "", int(1, 32, 16)),
    Glide = ("glide_ms", "Glide", "ms", lin(0.0, 2_000.0, 0.0)),
    /// How much velocity scales the level: 0 = not at all, 1 = fully (velocity² law).
    VelocityAmount = ("velocity_amount", "Velocity to level", "", lin(0.0, 1.0, 0.7)),
    BendRange = ("bend_range_st", "Pitch bend range", "st", int(0, 24, 2)),
    Level = ("level_db", "Level", "dB", lin(-60.0, 12.0, -6.0)),
    Pan = ("pan", "Pan", "", lin(-1.0, 1.0, 0.0)),
    // The patch's tone EQ: peaking bands an octave wide (Q = √2) at octave centres, after the
    // voices. It shapes the instrument's spectral envelope (a soundboard, a body, a cabinet).
    Eq31 = ("eq_31_db", "EQ 31 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq63 = ("eq_63_db", "EQ 63 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq125 = ("eq_125_db", "EQ 125 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq250 = ("eq_250_db", "EQ 250 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq500 = ("eq_500_db", "EQ 500 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq1k = ("eq_1k_db", "EQ 1 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq2k = ("eq_2k_db", "EQ 2 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq4k = ("eq_4k_db", "EQ 4 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq8k = ("eq_8k_db", "EQ 8 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Eq16k = ("eq_16k_db", "EQ 16 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    // Four-operator FM (voice_type = fm4): sine operators at ratios of the note's frequency.
    // A modulator's level 1 is a modulation index of 8 radians; a carrier's is its output gain.
    Fm4Algorithm = ("fm4_algorithm", "FM algorithm", "", choice(FM4_ALGORITHMS, 0)),
    Fm4Ratio1 = ("fm4_op1_ratio", "Op 1 ratio", "", log(0.25, 16.0, 1.0)),
    Fm4Ratio2 = ("fm4_op2_ratio", "Op 2 ratio", "", log(0.25, 16.0, 1.0)),
    Fm4Ratio3 = ("fm4_op3_ratio", "Op 3 ratio", "", log(0.25, 16.0, 2.0)),
    Fm4Ratio4 = ("fm4_op4_ratio", "Op 4 ratio", "", log(0.25, 16.0, 3.0)),
    Fm4Level2 = ("fm4_op2_level", "Op 2 level", "", lin(0.0, 1.0, 0.2)),
    Fm4Level3 = ("fm4_op3_level", "Op 3 level", "", lin(0.0, 1.0, 0.1)),
    Fm4Level4 = ("fm4_op4_level", "Op 4 level", "", lin(0.0, 1.0, 0.0)),
    /// Each operator's level falls from full to `fm4_sustain` of it over this time (60 dB).
    Fm4Decay1 = ("fm4_op1_decay_ms", "Op 1 decay", "ms", log(5.0, 20_000.0, 20_000.0)),
    Fm4Decay2 = ("fm4_op2_decay_ms", "Op 2 decay", "ms", log(5.0, 20_000.0, 400.0)),
    Fm4Decay3 = ("fm4_op3_decay_ms", "Op 3 decay", "ms", log(5.0, 20_000.0, 400.0)),
    Fm4Decay4 = ("fm4_op4_decay_ms", "Op 4 decay", "ms", log(5.0, 20_000.0, 400.0)),
    Fm4Sustain = ("fm4_sustain", "Op sustain", "", lin(0.0, 1.0, 0.3)),
    /// Operator 4 modulating itself, radians per unit of its output.
    Fm4Feedback = ("fm4_feedback", "Op 4 feedback", "rad", lin(0.0, 1.5, 0.0)),
    // Plucked string (voice_type = pluck): the oscillators excite it.
    /// Time for the string to fall by 60 dB at C4 (lower notes ring longer).
    PluckDecay = ("pluck_decay_ms", "Pluck decay", "ms", log(20.0, 20_000.0, 1500.0)),
    /// Loop damping: 0 dark (high partials die fast), 1 bright.
    PluckBrightness = ("pluck_brightness", "Pluck brightness", "", lin(0.0, 1.0, 0.5)),
    /// Length of the excitation burst.
    PluckExcite = ("pluck_excite_ms", "Pluck excitation", "ms", log(0.5, 50.0, 3.0)),
    // Sung voice (voice_type = formant): the oscillators are the glottal source.
    /// Vowel: 0 a, 1 e, 2 i, 3 o, 4 u (continuous: between vowels the formants move).
    FormantVowel = ("formant_vowel", "Vowel", "", lin(0.0, 4.0, 0.0)),
    /// Formant frequencies scaled by this many semitones (vocal tract length).
    FormantShift = ("formant_shift_st", "Formant shift", "st", lin(-12.0, 12.0, 0.0)),
    /// Breath noise mixed into the source.
    FormantBreath = ("formant_breath", "Breath", "", lin(0.0, 1.0, 0.1)),
    // Drum kit (voice_type = drums).
    KickTune = ("kick_tune_hz", "Kick pitch", "Hz", log(25.0, 200.0, 50.0)),
    KickSweep = ("kick_sweep_st", "Kick sweep", "st", lin(0.0, 60.0, 24.0)),
    KickSweepTime = ("kick_sweep_ms", "Kick sweep time", "ms", log(2.0, 300.0, 30.0)),
    KickDecay = ("kick_decay_ms", "Kick decay", "ms", log(20.0, 3_000.0, 400.0)),
    KickClick = ("kick_click", "Kick click", "", lin(0.0, 1.0, 0.3)),
    KickDrive = ("kick_drive", "Kick drive", "", lin(0.0, 1.0, 0.1)),
    KickLevel = ("kick_level_db", "Kick level", "dB", lin(-60.0, 12.0, 0.0)),
    SnareTune = ("snare_tune_hz", "Snare pitch", "Hz", log(80.0, 600.0, 190.0)),
    SnareToneDecay = ("snare_tone_decay_ms", "Snare tone decay", "ms", log(10.0, 1_000.0, 90.0)),
    SnareNoiseDecay = ("snare_noise_decay_ms", "Snare noise decay", "ms", log(10.0, 2_000.0, 180.0)),
    SnareNoiseHz = ("snare_noise_hz", "Snare noise colour", "Hz", log(500.0, 16_000.0, 4_000.0)),
    SnareTone = ("snare_tone", "Snare tone mix", "", lin(0.0, 1.0, 0.4)),
    SnareLevel = ("snare_level_db", "Snare level", "dB", lin(-60.0, 12.0, -3.0)),
    ClapHz = ("clap_hz", "Clap colour", "Hz", log(400.0, 8_000.0, 1_200.0)),
    ClapDecay = ("clap_decay_ms", "Clap decay", "ms", log(10.0, 2_000.0, 200.0)),
    ClapSpread = ("clap_spread_ms", "Clap spread", "ms", lin(0.0, 40.0, 10.0)),
    ClapLevel = ("clap_level_db", "Clap level", "dB", lin(-60.0, 12.0, -3.0)),
    /// Metallic partials of hats and cymbals scaled by this ratio (1: the TR-808's).
    HatTune = ("hat_tune", "Hat pitch", "", log(0.25, 4.0, 1.0)),
    HatHp = ("hat_hp_hz", "Hat high-pass", "Hz", log(1_000.0, 16_000.0, 7_000.0)),
    /// Noise against metallic partials: 0 all metal, 1 all noise.
    HatNoise = ("hat_noise", "Hat noise", "", lin(0.0, 1.0, 0.5)),
    HatClosedDecay = ("hat_closed_ms", "Closed hat decay", "ms", log(5.0, 1_000.0, 50.0)),
    HatOpenDecay = ("hat_open_ms", "Open hat decay", "ms", log(20.0, 5_000.0, 400.0)),
    HatLevel = ("hat_level_db", "Hat level", "dB", lin(-60.0, 12.0, -8.0)),
    CymbalDecay = ("cymbal_decay_ms", "Cymbal decay", "ms", log(100.0, 10_000.0, 1_800.0)),
    CymbalLevel = ("cymbal_level_db", "Cymbal level", "dB", lin(-60.0, 12.0, -10.0)),
    TomTune = ("tom_tune_hz", "Tom pitch (mid)", "Hz", log(40.0, 400.0, 120.0)),
    TomDecay = ("tom_decay_ms", "Tom decay", "ms", log(20.0, 3_000.0, 350.0)),
    TomLevel = ("tom_level_db", "Tom level", "dB", lin(-60.0, 12.0, -4.0)),
    // Each drum class's own tone EQ (the bands of the patch's tone EQ, on that class's hits
    // only): a kit's kick, snare and cymbals each have their own spectrum, which one EQ after
    // the kit cannot give them all.
    KickEq31 = ("kick_eq_31_db", "Kick EQ 31 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq63 = ("kick_eq_63_db", "Kick EQ 63 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq125 = ("kick_eq_125_db", "Kick EQ 125 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq250 = ("kick_eq_250_db", "Kick EQ 250 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq500 = ("kick_eq_500_db", "Kick EQ 500 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq1k = ("kick_eq_1k_db", "Kick EQ 1 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq2k = ("kick_eq_2k_db", "Kick EQ 2 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq4k = ("kick_eq_4k_db", "Kick EQ 4 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq8k = ("kick_eq_8k_db", "Kick EQ 8 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    KickEq16k = ("kick_eq_16k_db", "Kick EQ 16 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq31 = ("snare_eq_31_db", "Snare EQ 31 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq63 = ("snare_eq_63_db", "Snare EQ 63 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq125 = ("snare_eq_125_db", "Snare EQ 125 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq250 = ("snare_eq_250_db", "Snare EQ 250 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq500 = ("snare_eq_500_db", "Snare EQ 500 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq1k = ("snare_eq_1k_db", "Snare EQ 1 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq2k = ("snare_eq_2k_db", "Snare EQ 2 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq4k = ("snare_eq_4k_db", "Snare EQ 4 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq8k = ("snare_eq_8k_db", "Snare EQ 8 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    SnareEq16k = ("snare_eq_16k_db", "Snare EQ 16 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq31 = ("clap_eq_31_db", "Clap EQ 31 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq63 = ("clap_eq_63_db", "Clap EQ 63 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq125 = ("clap_eq_125_db", "Clap EQ 125 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq250 = ("clap_eq_250_db", "Clap EQ 250 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq500 = ("clap_eq_500_db", "Clap EQ 500 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq1k = ("clap_eq_1k_db", "Clap EQ 1 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq2k = ("clap_eq_2k_db", "Clap EQ 2 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq4k = ("clap_eq_4k_db", "Clap EQ 4 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq8k = ("clap_eq_8k_db", "Clap EQ 8 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    ClapEq16k = ("clap_eq_16k_db", "Clap EQ 16 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq31 = ("hat_eq_31_db", "Hat EQ 31 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq63 = ("hat_eq_63_db", "Hat EQ 63 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq125 = ("hat_eq_125_db", "Hat EQ 125 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq250 = ("hat_eq_250_db", "Hat EQ 250 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq500 = ("hat_eq_500_db", "Hat EQ 500 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq1k = ("hat_eq_1k_db", "Hat EQ 1 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq2k = ("hat_eq_2k_db", "Hat EQ 2 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq4k = ("hat_eq_4k_db", "Hat EQ 4 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq8k = ("hat_eq_8k_db", "Hat EQ 8 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    HatEq16k = ("hat_eq_16k_db", "Hat EQ 16 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq31 = ("cymbal_eq_31_db", "Cymbal EQ 31 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq63 = ("cymbal_eq_63_db", "Cymbal EQ 63 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq125 = ("cymbal_eq_125_db", "Cymbal EQ 125 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq250 = ("cymbal_eq_250_db", "Cymbal EQ 250 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq500 = ("cymbal_eq_500_db", "Cymbal EQ 500 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq1k = ("cymbal_eq_1k_db", "Cymbal EQ 1 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq2k = ("cymbal_eq_2k_db", "Cymbal EQ 2 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq4k = ("cymbal_eq_4k_db", "Cymbal EQ 4 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq8k = ("cymbal_eq_8k_db", "Cymbal EQ 8 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    CymbalEq16k = ("cymbal_eq_16k_db", "Cymbal EQ 16 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq31 = ("tom_eq_31_db", "Tom EQ 31 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq63 = ("tom_eq_63_db", "Tom EQ 63 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq125 = ("tom_eq_125_db", "Tom EQ 125 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq250 = ("tom_eq_250_db", "Tom EQ 250 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq500 = ("tom_eq_500_db", "Tom EQ 500 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq1k = ("tom_eq_1k_db", "Tom EQ 1 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq2k = ("tom_eq_2k_db", "Tom EQ 2 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq4k = ("tom_eq_4k_db", "Tom EQ 4 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq8k = ("tom_eq_8k_db", "Tom EQ 8 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    TomEq16k = ("tom_eq_16k_db", "Tom EQ 16 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    /// Level of the reverb added to the dry sound (amplitude; 0: no reverb).
    ReverbLevel = ("reverb_level", "Reverb level", "", lin(0.0, 1.0, 0.0)),
    ReverbRt60 = ("reverb_rt60_s", "Reverb decay (RT60)", "s", log(0.1, 10.0, 1.2)),
    ReverbPredelay = ("reverb_predelay_ms", "Reverb pre-delay", "ms", lin(0.0, 200.0, 10.0)),
    ReverbDamp = ("reverb_damp_hz", "Reverb damping", "Hz", log(1_000.0, 20_000.0, 8_000.0)),
    // The patch's fine tone EQ: peaking bands a third of an octave wide at the ISO 266
    // third-octave centres, after the octave EQ, and a high cut after them (24 dB/octave
    // Butterworth; at the top of its range, off). The fitter sets them last, in closed form,
    // from the part's average spectrum over the whole song: the detail of an instrument's
    // spectral envelope an octave EQ cannot follow, and the band limit of its recording.
    Fine25 = ("fine_eq_25_db", "Fine EQ 25 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine31_5 = ("fine_eq_31_5_db", "Fine EQ 31.5 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine40 = ("fine_eq_40_db", "Fine EQ 40 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine50 = ("fine_eq_50_db", "Fine EQ 50 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine63 = ("fine_eq_63_db", "Fine EQ 63 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine80 = ("fine_eq_80_db", "Fine EQ 80 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine100 = ("fine_eq_100_db", "Fine EQ 100 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine125 = ("fine_eq_125_db", "Fine EQ 125 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine160 = ("fine_eq_160_db", "Fine EQ 160 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine200 = ("fine_eq_200_db", "Fine EQ 200 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine250 = ("fine_eq_250_db", "Fine EQ 250 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine315 = ("fine_eq_315_db", "Fine EQ 315 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine400 = ("fine_eq_400_db", "Fine EQ 400 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine500 = ("fine_eq_500_db", "Fine EQ 500 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine630 = ("fine_eq_630_db", "Fine EQ 630 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine800 = ("fine_eq_800_db", "Fine EQ 800 Hz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine1k = ("fine_eq_1k_db", "Fine EQ 1 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine1k25 = ("fine_eq_1_25k_db", "Fine EQ 1.25 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine1k6 = ("fine_eq_1_6k_db", "Fine EQ 1.6 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine2k = ("fine_eq_2k_db", "Fine EQ 2 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine2k5 = ("fine_eq_2_5k_db", "Fine EQ 2.5 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine3k15 = ("fine_eq_3_15k_db", "Fine EQ 3.15 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine4k = ("fine_eq_4k_db", "Fine EQ 4 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine5k = ("fine_eq_5k_db", "Fine EQ 5 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine6k3 = ("fine_eq_6_3k_db", "Fine EQ 6.3 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine8k = ("fine_eq_8k_db", "Fine EQ 8 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine10k = ("fine_eq_10k_db", "Fine EQ 10 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine12k5 = ("fine_eq_12_5k_db", "Fine EQ 12.5 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine16k = ("fine_eq_16k_db", "Fine EQ 16 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    Fine20k = ("fine_eq_20k_db", "Fine EQ 20 kHz", "dB", lin(-24.0, 24.0, 0.0)),
    ToneHighCut = ("tone_high_cut_hz", "High cut", "Hz", log(1_000.0, 22_000.0, 22_000.0)),
    ToneHighCutSlope = ("tone_high_cut_slope", "High cut slope", "", choice(HIGH_CUT_SLOPES, 0)),
}

/// Number of parameters.
pub const COUNT: usize = SPECS.len();

/// The tone EQ's gain parameters, low to high, and their centre frequencies, Hz.
pub const EQ_BANDS: [(P, f32); 10] = [
    (P::Eq31, 31.25),
    (P::Eq63, 62.5),
    (P::Eq125, 125.0),
    (P::Eq250, 250.0),
    (P::Eq500, 500.0),
    (P::Eq1k, 1000.0),
    (P::Eq2k, 2000.0),
    (P::Eq4k, 4000.0),
    (P::Eq8k, 8000.0),
    (P::Eq16k, 16000.0),
];

/// The fine tone EQ's gain parameters, low to high, and their centre frequencies, Hz.
pub const FINE_EQ_BANDS: [(P, f32); 30] = [
    (P::Fine25, 25.0),
    (P::Fine31_5, 31.5),
    (P::Fine40, 40.0),
    (P::Fine50, 50.0),
    (P::Fine63, 63.0),
    (P::Fine80, 80.0),
    (P::Fine100, 100.0),
    (P::Fine125, 125.0),
    (P::Fine160, 160.0),
    (P::Fine200, 200.0),
    (P::Fine250, 250.0),
    (P::Fine315, 315.0),
    (P::Fine400, 400.0),
    (P::Fine500, 500.0),
    (P::Fine630, 630.0),
    (P::Fine800, 800.0),
    (P::Fine1k, 1000.0),
    (P::Fine1k25, 1250.0),
    (P::Fine1k6, 1600.0),
    (P::Fine2k, 2000.0),
    (P::Fine2k5, 2500.0),
    (P::Fine3k15, 3150.0),
    (P::Fine4k, 4000.0),
    (P::Fine5k, 5000.0),
    (P::Fine6k3, 6300.0),
    (P::Fine8k, 8000.0),
    (P::Fine10k, 10000.0),
    (P::Fine12k5, 12500.0),
    (P::Fine16k, 16000.0),
    (P::Fine20k, 20000.0),
];

/// Quality factor of the fine EQ's bands: a third of an octave between the -3 dB points.
pub const FINE_EQ_Q: f32 = 4.318;

/// The high cut's slopes (the options of [`P::ToneHighCutSlope`]): Butterworth low-passes of
/// order 4, 8 and 16. The steep ones match a source with a hard band limit: a lossy codec's
/// (16 to 20 kHz), a sampler's or a resampler's.
pub const HIGH_CUT_SLOPES: &[&str] = &["24 dB/oct", "48 dB/oct", "96 dB/oct"];

/// The order of the Butterworth low-pass of high-cut slope option `slope`.
pub fn high_cut_order(slope: f32) -> usize {
    4 << (slope.round().clamp(0.0, 2.0) as usize)
}

/// The high cut's setting at and above which it is off (the top of its range).
pub const HIGH_CUT_OFF_HZ: f32 = 22_000.0;

/// The drum classes' tone EQ gains: per class group (kick, snare, clap, hats, cymbals, toms;
/// see [`crate::drums::DrumClass::eq_group`]), the bands of [`EQ_BANDS`] in its order.
pub const KIT_EQ: [[P; EQ_BANDS.len()]; 6] = [
    [
        P::KickEq31,
        P::KickEq63,
        P::KickEq125,
        P::KickEq250,
        P::KickEq500,
        P::KickEq1k,
        P::KickEq2k,
        P::KickEq4k,
        P::KickEq8k,
        P::KickEq16k,
    ],
    [
        P::SnareEq31,
        P::SnareEq63,
        P::SnareEq125,
        P::SnareEq250,
        P::SnareEq500,
        P::SnareEq1k,
        P::SnareEq2k,
        P::SnareEq4k,
        P::SnareEq8k,
        P::SnareEq16k,
    ],
    [
        P::ClapEq31,
        P::ClapEq63,
        P::ClapEq125,
        P::ClapEq250,
        P::ClapEq500,
        P::ClapEq1k,
        P::ClapEq2k,
        P::ClapEq4k,
        P::ClapEq8k,
        P::ClapEq16k,
    ],
    [
        P::HatEq31,
        P::HatEq63,
        P::HatEq125,
        P::HatEq250,
        P::HatEq500,
        P::HatEq1k,
        P::HatEq2k,
        P::HatEq4k,
        P::HatEq8k,
        P::HatEq16k,
    ],
    [
        P::CymbalEq31,
        P::CymbalEq63,
        P::CymbalEq125,
        P::CymbalEq250,
        P::CymbalEq500,
        P::CymbalEq1k,
        P::CymbalEq2k,
        P::CymbalEq4k,
        P::CymbalEq8k,
        P::CymbalEq16k,
    ],
    [
        P::TomEq31,
        P::TomEq63,
        P::TomEq125,
        P::TomEq250,
        P::TomEq500,
        P::TomEq1k,
        P::TomEq2k,
        P::TomEq4k,
        P::TomEq8k,
        P::TomEq16k,
    ],
];

impl P {
    /// This parameter's table entry.
    pub fn spec(self) -> &'static ParamSpec {
        &SPECS[self as usize]
    }
}

/// Index of the parameter with stable id `id`.
pub fn index_of(id: &str) -> Option<usize> {
    SPECS.iter().position(|s| s.id == id)
}

/// A value for every parameter, dense, in [`P`] order: what the voices read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Values(pub [f32; COUNT]);

impl Default for Values {
    fn default() -> Self {
        let mut v = [0.0; COUNT];
        for (x, s) in v.iter_mut().zip(SPECS) {
            *x = s.default_value();
        }
        Self(v)
    }
}

impl Values {
    /// The value of `p`.
    #[inline]
    pub fn get(&self, p: P) -> f32 {
        self.0[p as usize]
    }

    /// Sets `p`, clamped to its range.
    #[inline]
    pub fn set(&mut self, p: P, value: f32) {
        self.0[p as usize] = p.spec().clamp(value);
    }

    /// A choice's index (or a whole number) as `usize`.
    #[inline]
    pub fn index(&self, p: P) -> usize {
        self.0[p as usize].max(0.0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_defaults_in_range() {
        for (i, s) in SPECS.iter().enumerate() {
            assert_eq!(index_of(s.id), Some(i), "duplicate id {}", s.id);
            let (lo, hi) = s.range();
            let d = s.default_value();
            assert!(
                lo <= d && d <= hi,
                "{}: default {d} outside {lo}..{hi}",
                s.id
            );
            assert!(
                s.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                s.id
            );
        }
    }

    #[test]
    fn normalized_round_trips() {
        for s in SPECS {
            for t in [0.0f32, 0.25, 0.5, 0.8, 1.0] {
                let v = s.from_normalized(t);
                let back = s.from_normalized(s.to_normalized(v));
                assert!(
                    (back - v).abs() <= 1e-3 * v.abs().max(1.0),
                    "{}: {v} → {back}",
                    s.id
                );
            }
        }
        // Log scale: the middle of 20 Hz..20 kHz is 632 Hz.
        let c = P::FilterCutoff.spec();
        assert!((c.from_normalized(0.5) - 632.46).abs() < 0.1);
    }
}
