//! ADSR envelope with curved segments, and the LFO.
//!
//! Each segment is a one-pole approach towards a target placed beyond the segment's end
//! (overshoot `ratio`), stopped when the segment's end is reached, so every segment takes
//! exactly its time whatever its curve: a large ratio gives a straight line, a small one the
//! exponential shape of an analog envelope (fast start, long tail). One multiply-add per step.
//! Reference: N. Redmon, "Envelope generators — ADSR", EarLevel Engineering (2013).

/// Stage of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// Silent, not running.
    #[default]
    Idle,
    /// Rising to 1.
    Attack,
    /// Falling to the sustain level.
    Decay,
    /// Holding the sustain level.
    Sustain,
    /// Falling to 0 after the gate closed.
    Release,
}

/// Times and shape of an envelope, converted to per-step coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdsrShape {
    attack: (f32, f32),
    decay: (f32, f32),
    release: (f32, f32),
    sustain: f32,
}

impl AdsrShape {
    /// For segment times in ms, a sustain level (0..1) and a `curve` (0: linear, 1: strongly
    /// exponential), stepped at `step_rate` Hz.
    pub fn new(
        attack_ms: f32,
        decay_ms: f32,
        sustain: f32,
        release_ms: f32,
        curve: f32,
        step_rate: f32,
    ) -> Self {
        let c = curve.clamp(0.0, 1.0);
        // Overshoot of the target: 10 (nearly straight) down to 1e-4 (decays by ~9 time
        // constants over the segment); the attack curves less, as analog attacks do.
        let ratio_a = 10f32.powf(1.0 - 2.5 * c);
        let ratio_dr = 10f32.powf(1.0 - 5.0 * c);
        let coef = |ms: f32, ratio: f32| {
            let steps = (ms * 0.001 * step_rate).max(1.0);
            (-((1.0 + ratio) / ratio).ln() / steps).exp()
        };
        let s = sustain.clamp(0.0, 1.0);
        let ca = coef(attack_ms, ratio_a);
        let cd = coef(decay_ms, ratio_dr);
        let cr = coef(release_ms, ratio_dr);
        Self {
            attack: (ca, (1.0 + ratio_a) * (1.0 - ca)),
            decay: (cd, (s - ratio_dr) * (1.0 - cd)),
            release: (cr, -ratio_dr * (1.0 - cr)),
            sustain: s,
        }
    }
}

impl Default for AdsrShape {
    fn default() -> Self {
        Self::new(1.0, 100.0, 1.0, 50.0, 0.5, 48_000.0)
    }
}

/// A running envelope.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Adsr {
    /// Current stage.
    pub stage: Stage,
    /// Current level, 0..1.
    pub level: f32,
}

impl Adsr {
    /// Opens the gate: attack from the current level (no click when a voice is retriggered).
    pub fn gate_on(&mut self) {
        self.stage = Stage::Attack;
    }

    /// Closes the gate: release from the current level.
    pub fn gate_off(&mut self) {
        if self.stage != Stage::Idle {
            self.stage = Stage::Release;
        }
    }

    /// Back to silence.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Whether the envelope still sounds.
    pub fn is_active(&self) -> bool {
        self.stage != Stage::Idle
    }

    /// Advances one step and returns the level.
    #[inline]
    pub fn tick(&mut self, s: &AdsrShape) -> f32 {
        match self.stage {
            Stage::Idle => {}
            Stage::Attack => {
                self.level = s.attack.1 + self.level * s.attack.0;
                if self.level >= 1.0 {
                    self.level = 1.0;
                    self.stage = Stage::Decay;
                }
            }
            Stage::Decay => {
                self.level = s.decay.1 + self.level * s.decay.0;
                if self.level <= s.sustain {
                    self.level = s.sustain;
                    self.stage = Stage::Sustain;
                }
            }
            Stage::Sustain => self.level = s.sustain,
            Stage::Release => {
                self.level = s.release.1 + self.level * s.release.0;
                // The target lies below zero: the segment ends where the level crosses it.
                if self.level <= 0.0 {
                    self.level = 0.0;
                    self.stage = Stage::Idle;
                }
            }
        }
        self.level
    }
}

/// LFO waveform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LfoShape {
    /// Sine.
    #[default]
    Sine,
    /// Triangle.
    Triangle,
    /// Rising saw.
    Saw,
    /// Square.
    Square,
    /// A new random value each cycle (sample and hold).
    Random,
}

impl LfoShape {
    /// The shape for the `lfoN_shape` option index.
    pub fn from_index(i: usize) -> Self {
        match i {
            1 => Self::Triangle,
            2 => Self::Saw,
            3 => Self::Square,
            4 => Self::Random,
            _ => Self::Sine,
        }
    }
}

/// A low-frequency oscillator, bipolar (−1..1), restarted with each note.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lfo {
    phase: f32,
    held: f32,
    rng: u32,
}

impl Lfo {
    /// Restarts at phase 0; `seed` makes the random shape repeatable.
    pub fn restart(&mut self, seed: u32) {
        self.phase = 0.0;
        self.rng = seed | 1;
        self.held = next_bipolar(&mut self.rng);
    }

    /// Advances by `dt_cycles` (rate / step rate) and returns the value.
    #[inline]
    pub fn tick(&mut self, shape: LfoShape, dt_cycles: f32) -> f32 {
        let p = self.advance(dt_cycles);
        self.value(shape, p)
    }

    /// Advances by `dt_cycles` and returns the phase the step started from (what
    /// [`Lfo::value`] reads): a voice whose LFO modulates nothing keeps it running without
    /// computing its value.
    #[inline]
    pub fn advance(&mut self, dt_cycles: f32) -> f32 {
        let p = self.phase;
        self.phase += dt_cycles;
        if self.phase >= 1.0 {
            self.phase -= self.phase.floor();
            self.held = next_bipolar(&mut self.rng);
        }
        p
    }

    /// The value at phase `p` (from [`Lfo::advance`]).
    #[inline]
    pub fn value(&self, shape: LfoShape, p: f32) -> f32 {
        match shape {
            LfoShape::Sine => (std::f32::consts::TAU * p).sin(),
            LfoShape::Triangle => 1.0 - 4.0 * (p + 0.25 - (p + 0.25).floor() - 0.5).abs(),
            LfoShape::Saw => 2.0 * p - 1.0,
            LfoShape::Square => {
                if p < 0.5 {
                    1.0
                } else {
                    -1.0
                }
            }
            LfoShape::Random => self.held,
        }
    }
}

/// xorshift32 → −1..1.
#[inline]
pub fn next_bipolar(state: &mut u32) -> f32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    (x as f32) * (2.0 / 4_294_967_296.0) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_take_their_time_whatever_the_curve() {
        let rate = 1000.0;
        for curve in [0.0f32, 0.5, 1.0] {
            // Times are for a full-scale segment (the decay to a sustain of 0).
            let shape = AdsrShape::new(50.0, 100.0, 0.0, 200.0, curve, rate);
            let mut env = Adsr::default();
            env.gate_on();
            let mut n = 0;
            while env.stage == Stage::Attack {
                env.tick(&shape);
                n += 1;
            }
            assert!(
                (49..=51).contains(&n),
                "attack took {n} steps at curve {curve}"
            );
            let mut n = 0;
            while env.stage == Stage::Decay {
                env.tick(&shape);
                n += 1;
            }
            assert!(
                (99..=101).contains(&n),
                "decay took {n} steps at curve {curve}"
            );
            assert_eq!((env.tick(&shape), env.stage), (0.0, Stage::Sustain));
            // A release time is the fall from full level.
            let shape = AdsrShape::new(0.5, 1.0, 1.0, 200.0, curve, rate);
            let mut env = Adsr::default();
            env.gate_on();
            for _ in 0..10 {
                env.tick(&shape);
            }
            env.gate_off();
            let mut n = 0;
            while env.is_active() {
                env.tick(&shape);
                n += 1;
            }
            assert!(
                (199..=201).contains(&n),
                "release took {n} steps at curve {curve}"
            );
        }
    }

    #[test]
    fn curve_bends_the_decay() {
        let rate = 1000.0;
        let half_way = |curve: f32| {
            let shape = AdsrShape::new(0.5, 100.0, 0.0, 10.0, curve, rate);
            let mut env = Adsr::default();
            env.gate_on();
            while env.stage == Stage::Attack {
                env.tick(&shape);
            }
            (0..50).map(|_| env.tick(&shape)).last().unwrap()
        };
        // Linear: half way down after half the time; exponential: far lower.
        assert!((half_way(0.0) - 0.5).abs() < 0.06, "{}", half_way(0.0));
        assert!(half_way(1.0) < 0.05, "{}", half_way(1.0));
    }

    #[test]
    fn lfo_shapes_span_minus_one_to_one() {
        for shape in [
            LfoShape::Sine,
            LfoShape::Triangle,
            LfoShape::Saw,
            LfoShape::Square,
            LfoShape::Random,
        ] {
            let mut lfo = Lfo::default();
            lfo.restart(7);
            let v: Vec<f32> = (0..4000).map(|_| lfo.tick(shape, 0.01)).collect();
            let (lo, hi) = v
                .iter()
                .fold((1f32, -1f32), |a, &x| (a.0.min(x), a.1.max(x)));
            assert!(lo >= -1.0 && hi <= 1.0, "{shape:?}");
            assert!(hi - lo > 1.0, "{shape:?}: {lo}..{hi}");
        }
        // The triangle starts at 0, peaks at a quarter cycle.
        let mut lfo = Lfo::default();
        lfo.restart(1);
        let v: Vec<f32> = (0..100)
            .map(|_| lfo.tick(LfoShape::Triangle, 0.01))
            .collect();
        assert!(v[0].abs() < 1e-6 && (v[25] - 1.0).abs() < 1e-5 && (v[75] + 1.0).abs() < 1e-5);
    }
}
