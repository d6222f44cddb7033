//! Drum voices: kick, snare, clap, closed / open hat, crash / ride, toms, played by General
//! MIDI drum notes (a patch with `voice_type = drums`).
//!
//! Each class is a small analog-style model, the way drum machines build them:
//! - **kick**: a sine whose pitch falls exponentially from `kick_sweep_st` above `kick_tune_hz`
//!   (time constant `kick_sweep_ms`), an exponential body decay, a click of high-passed
//!   noise, and soft-clip drive;
//! - **snare**: two drum-head modes (f and 1.47·f, the ratio of a membrane's first two
//!   modes that ring with the head struck off-centre) plus band-limited noise, each with its
//!   own decay;
//! - **clap**: band-passed noise in three quick bursts `clap_spread_ms` apart, then a tail;
//! - **hats and cymbals**: six square waves at the TR-808's inharmonic frequencies (205.3,
//!   304.4, 369.6, 522.7, 540 and 800 Hz, scaled by `hat_tune`) mixed with noise and
//!   high-passed; a closed hat chokes a ringing open hat. As in the 808, one bank of the six
//!   oscillators runs for the whole kit and every metallic hit taps it (each with its own
//!   noise, filter and decay), so a cymbal-heavy part costs one bank, not one per ringing
//!   hit;
//! - **toms**: a sine with a short downward pitch bend (5 semitones over 40 ms).
//!
//! A hit latches the kit's parameters when it starts; decays are 60 dB times. Every hit is
//! rendered per sample with no control-rate state, so block size never changes the output.
//! Reference for the metallic source and the kick's sweep: the Roland TR-808 service notes
//! (1981), as analysed by K. Werner, "Virtual analog modeling of the TR-808 cymbal", DAFx 2014.

use crate::env::next_bipolar;
use crate::filter::{peaking, soft_clip, Biquad, Svf, SvfCoefs, SvfMode};
use crate::params::{Values, EQ_BANDS, KIT_EQ, P};
use crate::voice::db_to_gain;
use crate::wavetable::{increment, read, Shape, WaveTables};

/// Hits that can ring at once.
pub const DRUM_VOICES: usize = 16;
/// The TR-808's metallic oscillator frequencies, Hz.
const METAL_HZ: [f32; 6] = [205.3, 304.4, 369.6, 522.7, 540.0, 800.0];
/// Below this level (−80 dB) a hit has ended.
const SILENT: f32 = 1e-4;

/// A drum class.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum DrumClass {
    /// Bass drum.
    #[default]
    Kick,
    /// Snare (and side stick).
    Snare,
    /// Hand clap.
    Clap,
    /// Closed (and pedal) hi-hat.
    ClosedHat,
    /// Open hi-hat.
    OpenHat,
    /// Crash (and splash, china).
    Crash,
    /// Ride (and ride bell).
    Ride,
    /// A tom, pitched at this ratio of `tom_tune_hz`.
    Tom(f32),
}

impl DrumClass {
    /// The class's group for its tone EQ (a row of [`KIT_EQ`]): kick, snare, clap, hats,
    /// cymbals, toms.
    pub fn eq_group(self) -> usize {
        match self {
            Self::Kick => 0,
            Self::Snare => 1,
            Self::Clap => 2,
            Self::ClosedHat | Self::OpenHat => 3,
            Self::Crash | Self::Ride => 4,
            Self::Tom(_) => 5,
        }
    }

    /// The class a General MIDI drum note plays (`None` for notes the kit does not play).
    pub fn of_note(note: u8) -> Option<Self> {
        Some(match note {
            35 | 36 => Self::Kick,
            37 | 38 | 40 => Self::Snare,
            39 => Self::Clap,
            42 | 44 => Self::ClosedHat,
            46 => Self::OpenHat,
            49 | 52 | 55 | 57 => Self::Crash,
            51 | 53 | 59 => Self::Ride,
            41 | 43 => Self::Tom(0.75),
            45 | 47 => Self::Tom(1.0),
            48 | 50 => Self::Tom(4.0 / 3.0),
            _ => return None,
        })
    }
}

/// Whether a tone EQ band at `gain_db` and `freq_hz` filters at `rate`.
#[inline]
fn band_on(gain_db: f32, freq_hz: f32, rate: f32) -> bool {
    gain_db.abs() >= 1e-3 && freq_hz <= 0.45 * rate
}

/// Per-sample multiplier of an exponential decay falling 60 dB in `ms`.
fn decay_coef(ms: f32, rate: f32) -> f32 {
    (0.001f32.ln() / (ms.max(0.1) * 0.001 * rate)).exp()
}

/// One ringing hit.
#[derive(Debug, Clone, Copy, Default)]
struct Hit {
    class: DrumClass,
    active: bool,
    started_at: u64,
    gain: f32,
    /// Samples since the hit.
    t: u32,
    rng: u32,
    // Tonal part.
    phase: [u32; 2],
    f_end: f32,
    f_delta: f32,
    sweep: f32,
    sweep_coef: f32,
    body: f32,
    body_coef: f32,
    tone_mix: f32,
    drive: f32,
    // Noise part.
    noise: f32,
    noise_coef: f32,
    click: f32,
    click_coef: f32,
    f1: Svf,
    f1_c: SvfCoefs,
    f1_mode: SvfMode,
    f2: Svf,
    f2_c: SvfCoefs,
    // Clap bursts, samples.
    burst: u32,
    // Metallic part: the share of noise against the kit's metallic bank.
    metal_mix: f32,
    /// The soft clip's output at full scale (`soft_clip(drive)`), which a kick divides by.
    clip_norm: f32,
}

impl Hit {
    fn metallic(&self) -> bool {
        matches!(
            self.class,
            DrumClass::ClosedHat | DrumClass::OpenHat | DrumClass::Crash | DrumClass::Ride
        )
    }
}

/// Samples rendered at a time (the metallic bank is computed for a chunk, then read by every
/// metallic hit).
const CHUNK: usize = 16;

/// The six square waves every metallic hit taps.
#[derive(Debug, Clone, Copy)]
struct MetalBank {
    phase: [u32; 6],
    inc: [u32; 6],
    mip: usize,
}

impl Default for MetalBank {
    /// Phases spread so that the six squares do not start together; silent until a
    /// metallic hit sets the tune.
    fn default() -> Self {
        Self {
            phase: std::array::from_fn(|k| (k as u32).wrapping_mul(0x3C6E_F372)),
            inc: [0; 6],
            mip: 0,
        }
    }
}

/// The drum kit: up to [`DRUM_VOICES`] hits at once, the oldest stolen first.
#[derive(Debug, Clone, Default)]
pub struct DrumKit {
    hits: [Hit; DRUM_VOICES],
    metal: MetalBank,
    /// Per class group: the tone EQ's gains its coefficients were made for, the
    /// coefficients, the state (the kit is mono), and whether any band is on.
    eq_gains: [[f32; EQ_BANDS.len()]; KIT_EQ.len()],
    eq_coefs: [[[f32; 5]; EQ_BANDS.len()]; KIT_EQ.len()],
    eq_state: [[Biquad; EQ_BANDS.len()]; KIT_EQ.len()],
    eq_on: [bool; KIT_EQ.len()],
}

/// A hit's noise seed, from when it starts and its note alone (a mix of the two, after
/// SplitMix64's finaliser): a hit sounds the same whichever other hits the kit plays, so a
/// part's render is the sum of the renders of any split of its hits.
fn hit_seed(clock: u64, note: u8) -> u32 {
    let mut z = clock ^ ((note as u64) << 56) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) as u32) | 1
}

impl DrumKit {
    /// Silences every hit; what follows repeats exactly.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Takes the class groups' tone EQ from `v`, recomputing coefficients where a gain moved
    /// (no allocation; the audio thread calls it at control ticks). A band at 0 dB or above
    /// 0.45 of the rate is off; a group with no band on renders straight to the output, as
    /// without the EQ.
    pub(crate) fn update_eq(&mut self, v: &Values, rate: f32) {
        for (g, row) in KIT_EQ.iter().enumerate() {
            let mut on = false;
            for (k, (p, (_, freq))) in row.iter().zip(EQ_BANDS).enumerate() {
                let gain = v.get(*p);
                if gain != self.eq_gains[g][k] && rate > 0.0 {
                    self.eq_gains[g][k] = gain;
                    self.eq_coefs[g][k] = peaking(freq, std::f32::consts::SQRT_2, gain, rate);
                }
                on |= band_on(self.eq_gains[g][k], freq, rate);
            }
            self.eq_on[g] = on;
        }
    }

    /// Sets the class EQs' tiny states to zero ([`crate::filter::FLUSH_BELOW`]; the synth
    /// calls it at its control ticks).
    pub(crate) fn flush(&mut self) {
        for state in self.eq_state.iter_mut().flatten() {
            state.flush();
        }
    }

    /// Hits ringing now.
    pub fn active(&self) -> usize {
        self.hits.iter().filter(|h| h.active).count()
    }

    /// Starts a hit of `note` (General MIDI drums) at `velocity` (0..1).
    pub(crate) fn trigger(
        &mut self,
        note: u8,
        velocity: f32,
        v: &Values,
        tables: &WaveTables,
        clock: u64,
    ) {
        let Some(class) = DrumClass::of_note(note) else {
            return;
        };
        let rate = tables.sample_rate();
        if class == DrumClass::ClosedHat {
            // A closed hat chokes the open hat (5 ms fade).
            for h in self
                .hits
                .iter_mut()
                .filter(|h| h.active && h.class == DrumClass::OpenHat)
            {
                h.noise_coef = h.noise_coef.min(decay_coef(5.0, rate));
            }
        }
        let slot = self
            .hits
            .iter()
            .position(|h| !h.active)
            .or_else(|| {
                self.hits
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, h)| h.started_at)
                    .map(|(i, _)| i)
            })
            .unwrap_or(0);
        let va = v.get(P::VelocityAmount);
        let vel = velocity.clamp(0.0, 1.0);
        let vel_gain = 1.0 - va + va * vel * vel;
        let master = db_to_gain(v.get(P::Level)) * vel_gain;
        let mut h = Hit {
            class,
            active: true,
            started_at: clock,
            rng: hit_seed(clock, note),
            ..Hit::default()
        };
        let noise_filters = |h: &mut Hit, mode: SvfMode, f1: f32, k1: f32, f2: f32| {
            h.f1_mode = mode;
            h.f1_c = SvfCoefs::new(f1, rate, k1);
            h.f2_c = SvfCoefs::new(f2, rate, 1.4);
        };
        match class {
            DrumClass::Kick => {
                h.gain = master * db_to_gain(v.get(P::KickLevel));
                h.f_end = v.get(P::KickTune);
                h.f_delta = h.f_end * ((v.get(P::KickSweep) / 12.0).exp2() - 1.0);
                h.sweep = 1.0;
                // The sweep's time constant: e⁻¹ after kick_sweep_ms.
                h.sweep_coef = (-1.0 / (v.get(P::KickSweepTime) * 0.001 * rate)).exp();
                h.body = 1.0;
                h.body_coef = decay_coef(v.get(P::KickDecay), rate);
                h.click = v.get(P::KickClick);
                h.click_coef = decay_coef(6.0, rate);
                h.drive = 1.0 + 5.0 * v.get(P::KickDrive);
                h.clip_norm = soft_clip(h.drive);
                noise_filters(&mut h, SvfMode::HighPass, 1500.0, 1.4, 12_000.0);
            }
            DrumClass::Snare => {
                h.gain = master * db_to_gain(v.get(P::SnareLevel));
                h.f_end = v.get(P::SnareTune);
                h.body = 1.0;
                h.body_coef = decay_coef(v.get(P::SnareToneDecay), rate);
                h.noise = 1.0;
                h.noise_coef = decay_coef(v.get(P::SnareNoiseDecay), rate);
                h.tone_mix = v.get(P::SnareTone);
                let colour = v.get(P::SnareNoiseHz);
                noise_filters(&mut h, SvfMode::HighPass, colour / 8.0, 1.4, colour);
            }
            DrumClass::Clap => {
                h.gain = master * db_to_gain(v.get(P::ClapLevel));
                h.noise = 1.0;
                h.noise_coef = decay_coef(v.get(P::ClapDecay), rate);
                h.burst = (v.get(P::ClapSpread) * 0.001 * rate) as u32;
                // Each burst falls 60 dB in its spacing.
                h.click_coef = decay_coef(v.get(P::ClapSpread).max(1.0), rate);
                let c = v.get(P::ClapHz);
                noise_filters(&mut h, SvfMode::BandPass, c, 0.8, 0.45 * rate);
            }
            DrumClass::ClosedHat | DrumClass::OpenHat | DrumClass::Crash | DrumClass::Ride => {
                let (decay, level, hp) = match class {
                    DrumClass::ClosedHat => (
                        v.get(P::HatClosedDecay),
                        v.get(P::HatLevel),
                        v.get(P::HatHp),
                    ),
                    DrumClass::OpenHat => {
                        (v.get(P::HatOpenDecay), v.get(P::HatLevel), v.get(P::HatHp))
                    }
                    DrumClass::Crash => (
                        v.get(P::CymbalDecay),
                        v.get(P::CymbalLevel),
                        v.get(P::HatHp),
                    ),
                    _ => (
                        1.5 * v.get(P::CymbalDecay),
                        v.get(P::CymbalLevel),
                        0.7 * v.get(P::HatHp),
                    ),
                };
                h.gain = master * db_to_gain(level);
                h.noise = 1.0;
                h.noise_coef = decay_coef(decay, rate);
                h.metal_mix = v.get(P::HatNoise);
                // The bank takes the tune of the latest hit.
                let tune = v.get(P::HatTune);
                for (inc, f) in self.metal.inc.iter_mut().zip(METAL_HZ) {
                    *inc = increment(f * tune, rate);
                }
                self.metal.mip = tables.level_for(METAL_HZ[5] * tune);
                noise_filters(&mut h, SvfMode::HighPass, hp, 1.2, 0.45 * rate);
            }
            DrumClass::Tom(ratio) => {
                h.gain = master * db_to_gain(v.get(P::TomLevel));
                h.f_end = v.get(P::TomTune) * ratio;
                h.f_delta = h.f_end * ((5.0f32 / 12.0).exp2() - 1.0);
                h.sweep = 1.0;
                h.sweep_coef = (-1.0 / (0.04 * rate)).exp();
                h.body = 1.0;
                h.body_coef = decay_coef(v.get(P::TomDecay), rate);
                h.click = 0.15;
                h.click_coef = decay_coef(4.0, rate);
                h.drive = 1.0;
                h.clip_norm = soft_clip(h.drive);
                noise_filters(&mut h, SvfMode::HighPass, 1000.0, 1.4, 8_000.0);
            }
        }
        self.hits[slot] = h;
    }

    /// Adds every ringing hit into `left` and `right` (the kit sits in the centre).
    pub(crate) fn render(&mut self, tables: &WaveTables, left: &mut [f32], right: &mut [f32]) {
        for (l, r) in left.chunks_mut(CHUNK).zip(right.chunks_mut(CHUNK)) {
            self.render_chunk(tables, l, r);
        }
    }

    fn render_chunk(&mut self, tables: &WaveTables, left: &mut [f32], right: &mut [f32]) {
        let rate = tables.sample_rate();
        let sine = tables.sine();
        // The metallic bank, the mean of six squares: computed where a metallic hit rings,
        // else only moved on (it runs from the kit's reset, so its phase at a sample does not
        // depend on which hits sounded before).
        let mut metal = [0.0f32; CHUNK];
        let bank = &mut self.metal;
        if self.hits.iter().any(|h| h.active && h.metallic()) {
            let table = tables.table(Shape::Saw, bank.mip);
            for m in metal[..left.len()].iter_mut() {
                let mut sum = 0.0;
                for (p, inc) in bank.phase.iter_mut().zip(bank.inc) {
                    sum += read(table, *p) - read(table, p.wrapping_add(1 << 31));
                    *p = p.wrapping_add(inc);
                }
                *m = sum * (1.0 / 6.0);
            }
        } else {
            for (p, inc) in bank.phase.iter_mut().zip(bank.inc) {
                *p = p.wrapping_add(inc.wrapping_mul(left.len() as u32));
            }
        }
        // Hits of a class group with its EQ on gather on the group's bus, EQ'd below.
        let mut bus = [[0.0f32; CHUNK]; KIT_EQ.len()];
        let eq_on = self.eq_on;
        for h in self.hits.iter_mut().filter(|h| h.active) {
            let group = h.class.eq_group();
            for (i, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
                let y = match h.class {
                    DrumClass::Kick | DrumClass::Tom(_) => {
                        let f = h.f_end + h.f_delta * h.sweep;
                        h.sweep *= h.sweep_coef;
                        h.phase[0] = h.phase[0].wrapping_add(increment(f, rate));
                        let body = read(sine, h.phase[0]) * h.body;
                        h.body *= h.body_coef;
                        let n = next_bipolar(&mut h.rng);
                        let click = h.f1.tick(n, &h.f1_c, h.f1_mode) * h.click;
                        h.click *= h.click_coef;
                        if h.body < SILENT && h.click < SILENT {
                            h.active = false;
                        }
                        soft_clip(h.drive * (body + click)) / h.clip_norm
                    }
                    DrumClass::Snare => {
                        h.phase[0] = h.phase[0].wrapping_add(increment(h.f_end, rate));
                        h.phase[1] = h.phase[1].wrapping_add(increment(1.47 * h.f_end, rate));
                        let tone = (read(sine, h.phase[0]) + 0.5 * read(sine, h.phase[1])) * h.body;
                        h.body *= h.body_coef;
                        let n = next_bipolar(&mut h.rng);
                        let lp = h.f2.tick(n, &h.f2_c, SvfMode::LowPass);
                        let noise = h.f1.tick(lp, &h.f1_c, h.f1_mode) * h.noise;
                        h.noise *= h.noise_coef;
                        if h.body < SILENT && h.noise < SILENT {
                            h.active = false;
                        }
                        h.tone_mix * tone + (1.0 - h.tone_mix) * 2.0 * noise
                    }
                    DrumClass::Clap => {
                        let env = if h.burst > 0 && h.t < 3 * h.burst {
                            if h.t % h.burst == 0 {
                                h.click = 1.0;
                            }
                            let e = h.click;
                            h.click *= h.click_coef;
                            e
                        } else {
                            let e = h.noise;
                            h.noise *= h.noise_coef;
                            e
                        };
                        if h.t >= 3 * h.burst && h.noise < SILENT {
                            h.active = false;
                        }
                        let n = next_bipolar(&mut h.rng);
                        3.0 * h.f1.tick(n, &h.f1_c, h.f1_mode) * env
                    }
                    _ => {
                        let n = next_bipolar(&mut h.rng);
                        let src = (1.0 - h.metal_mix) * metal[i] + h.metal_mix * n;
                        let y = h.f1.tick(src, &h.f1_c, h.f1_mode) * h.noise;
                        h.noise *= h.noise_coef;
                        if h.noise < SILENT {
                            h.active = false;
                        }
                        2.0 * y
                    }
                };
                h.t = h.t.saturating_add(1);
                let y = y * h.gain * std::f32::consts::FRAC_1_SQRT_2;
                if eq_on[group] {
                    bus[group][i] += y;
                } else {
                    *l += y;
                    *r += y;
                }
                if !h.active {
                    break;
                }
            }
        }
        for (g, bus) in bus.iter().enumerate().filter(|(g, _)| eq_on[*g]) {
            // Silence into a settled EQ gives silence.
            if self.eq_state[g].iter().all(Biquad::is_clear) && bus.iter().all(|&x| x == 0.0) {
                continue;
            }
            for (x, (l, r)) in bus.iter().zip(left.iter_mut().zip(right.iter_mut())) {
                let mut y = *x;
                for ((state, c), (&gain, (_, freq))) in self.eq_state[g]
                    .iter_mut()
                    .zip(&self.eq_coefs[g])
                    .zip(self.eq_gains[g].iter().zip(EQ_BANDS))
                {
                    if band_on(gain, freq, rate) {
                        y = state.tick(y, c);
                    }
                }
                *l += y;
                *r += y;
            }
        }
    }
}
