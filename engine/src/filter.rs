//! Filters: the topology-preserving (zero-delay-feedback) state-variable filter and the
//! four-pole ladder low-pass with drive.
//!
//! Both are trapezoidal integrations of their analog prototypes, so their linear responses are
//! exactly the bilinear transform of the prototype with the cutoff prewarped
//! (`g = tan(π·fc/fs)`); the tests compare them with those curves.
//!
//! References: V. Zavalishin, "The Art of VA Filter Design", rev. 2.1.2 (2020), ch. 4 (SVF)
//! and ch. 5 (ladder); A. Simper, "Linear trapezoidal integrated state variable filter"
//! (Cytomic technical paper, 2013) for the SVF's update equations.
//!
//! Departure from the ladder of the book: the nonlinearity is a single `tanh` on the first
//! stage's input, applied after solving the linear zero-delay feedback loop, instead of one per
//! stage solved iteratively. That keeps the filter's cost fixed per sample (no iterations), and
//! its small-signal response stays the exact linear ladder.

/// Highest cutoff as a fraction of the sample rate (tan() grows without bound at 0.5).
const MAX_CUTOFF_RATIO: f32 = 0.45;

/// Which response the state-variable filter outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SvfMode {
    /// Low-pass, 12 dB/octave.
    #[default]
    LowPass,
    /// Band-pass (unity gain at the centre).
    BandPass,
    /// High-pass, 12 dB/octave.
    HighPass,
}

/// Coefficients of the state-variable filter for one cutoff and damping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvfCoefs {
    k: f32,
    a1: f32,
    a2: f32,
    a3: f32,
}

impl SvfCoefs {
    /// For `cutoff_hz` at `sample_rate` and damping `k` = 1/Q (2 = no resonance).
    pub fn new(cutoff_hz: f32, sample_rate: f32, k: f32) -> Self {
        let g = prewarp(cutoff_hz, sample_rate);
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        let a3 = g * a2;
        Self { k, a1, a2, a3 }
    }
}

impl Default for SvfCoefs {
    fn default() -> Self {
        Self::new(1000.0, 48_000.0, 2.0)
    }
}

/// The state of one state-variable filter.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Svf {
    ic1: f32,
    ic2: f32,
}

impl Svf {
    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Sets a state below [`FLUSH_BELOW`] to zero.
    pub fn flush(&mut self) {
        self.ic1 = flush(self.ic1);
        self.ic2 = flush(self.ic2);
    }

    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, x: f32, c: &SvfCoefs, mode: SvfMode) -> f32 {
        let v3 = x - self.ic2;
        let v1 = c.a1 * self.ic1 + c.a2 * v3;
        let v2 = self.ic2 + c.a2 * self.ic1 + c.a3 * v3;
        self.ic1 = 2.0 * v1 - self.ic1;
        self.ic2 = 2.0 * v2 - self.ic2;
        match mode {
            SvfMode::LowPass => v2,
            SvfMode::BandPass => c.k * v1,
            SvfMode::HighPass => x - c.k * v1 - v2,
        }
    }
}

/// Coefficients of the ladder filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LadderCoefs {
    /// One-pole gain G = g / (1 + g).
    big_g: f32,
    /// G⁴ / (1 + k·G⁴): the loop's gain from the input.
    gain_in: f32,
    /// Weights of the four states in the loop's output, each over (1 + k·G⁴).
    w: [f32; 4],
    /// Feedback (4 = self-oscillation).
    k: f32,
    /// Input gain into the saturator (1 = clean at small levels), and its inverse.
    drive: f32,
    inv_drive: f32,
}

impl LadderCoefs {
    /// For `cutoff_hz` at `sample_rate`, feedback `k` (0..4) and `drive` (≥ 1).
    pub fn new(cutoff_hz: f32, sample_rate: f32, k: f32, drive: f32) -> Self {
        let g = prewarp(cutoff_hz, sample_rate);
        let big_g = g / (1.0 + g);
        let h = 1.0 - big_g;
        let g4 = big_g.powi(4);
        let inv = 1.0 / (1.0 + k * g4);
        Self {
            big_g,
            gain_in: g4 * inv,
            w: [
                h * big_g.powi(3) * inv,
                h * big_g * big_g * inv,
                h * big_g * inv,
                h * inv,
            ],
            k,
            drive: drive.max(1.0),
            // Louder in, louder out, but less than linearly: heavy drive saturates without
            // the level falling by the drive (1/d) or jumping with it (1).
            inv_drive: 1.0 / drive.max(1.0).sqrt(),
        }
    }
}

impl Default for LadderCoefs {
    fn default() -> Self {
        Self::new(1000.0, 48_000.0, 0.0, 1.0)
    }
}

/// The state of one ladder filter (four one-pole stages).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ladder {
    s: [f32; 4],
}

impl Ladder {
    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Sets a state below [`FLUSH_BELOW`] to zero.
    pub fn flush(&mut self) {
        for s in &mut self.s {
            *s = flush(*s);
        }
    }

    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, x: f32, c: &LadderCoefs) -> f32 {
        let g = c.big_g;
        // y4 = G⁴·u + S, where S collects the states; solve u = x − k·y4 for the linear loop.
        let y4 = c.gain_in * x
            + c.w[0] * self.s[0]
            + c.w[1] * self.s[1]
            + c.w[2] * self.s[2]
            + c.w[3] * self.s[3];
        let u = x - c.k * y4;
        let mut y = soft_clip(c.drive * u) * c.inv_drive;
        for s in self.s.iter_mut() {
            let v = (y - *s) * g;
            y = v + *s;
            *s = y + v;
        }
        y
    }
}

/// A peaking EQ band (RBJ Audio EQ Cookbook, R. Bristow-Johnson), normalised biquad
/// coefficients `[b0, b1, b2, a1, a2]`.
pub fn peaking(freq_hz: f32, q: f32, gain_db: f32, sample_rate: f32) -> [f32; 5] {
    let a = 10f64.powf(gain_db as f64 / 40.0);
    let w0 = std::f64::consts::TAU * (freq_hz as f64 / sample_rate as f64).min(0.49);
    let alpha = w0.sin() / (2.0 * q as f64);
    let cos = w0.cos();
    let a0 = 1.0 + alpha / a;
    [
        ((1.0 + alpha * a) / a0) as f32,
        (-2.0 * cos / a0) as f32,
        ((1.0 - alpha * a) / a0) as f32,
        (-2.0 * cos / a0) as f32,
        ((1.0 - alpha / a) / a0) as f32,
    ]
}

/// RBJ low-pass biquad coefficients `[b0, b1, b2, a1, a2]` (12 dB/octave; `q` 0.707 is
/// Butterworth).
pub fn lowpass(freq_hz: f32, q: f32, sample_rate: f32) -> [f32; 5] {
    let w0 = std::f64::consts::TAU * (freq_hz as f64 / sample_rate as f64).min(0.49);
    let alpha = w0.sin() / (2.0 * q as f64);
    let cos = w0.cos();
    let a0 = 1.0 + alpha;
    let b0 = (1.0 - cos) / 2.0;
    [
        (b0 / a0) as f32,
        ((1.0 - cos) / a0) as f32,
        (b0 / a0) as f32,
        (-2.0 * cos / a0) as f32,
        ((1.0 - alpha) / a0) as f32,
    ]
}

/// Quality factors of the two sections of a fourth-order Butterworth low-pass.
pub const BUTTERWORTH4_Q: [f32; 2] = [0.541_196_1, 1.306_563];
/// Quality factors of the four sections of an eighth-order Butterworth low-pass.
pub const BUTTERWORTH8_Q: [f32; 4] = [0.509_795_6, 0.601_344_9, 0.899_976_2, 2.562_915_4];
/// Quality factors of the eight sections of a sixteenth-order Butterworth low-pass.
pub const BUTTERWORTH16_Q: [f32; 8] = [
    0.502_419_3,
    0.522_498_6,
    0.566_944,
    0.646_821_8,
    0.788_154_6,
    1.060_677_7,
    1.722_447_1,
    5.101_148_6,
];

/// The quality factors of the sections of an `order`-th order Butterworth low-pass (4, 8 or
/// 16): section k of N has Q = 1 / (2 cos((2k − 1)π / 2N)).
pub fn butterworth_q(order: usize) -> &'static [f32] {
    match order {
        16 => &BUTTERWORTH16_Q,
        8 => &BUTTERWORTH8_Q,
        _ => &BUTTERWORTH4_Q,
    }
}

/// A biquad's state (transposed direct form II).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Biquad {
    s1: f32,
    s2: f32,
}

/// Below this a filter's state is set to zero at a control tick: a state decaying in silence
/// would otherwise reach the denormal range, where each operation costs a hundred times more
/// (a kit's tom bus, silent most of a song, ran its EQ thirty times slower than the kit). It is
/// 300 dB down, so nothing audible changes, and ticks fall on the clock, so neither does the
/// output with the block size.
pub const FLUSH_BELOW: f32 = 1e-15;

/// `x`, or 0 where it is below [`FLUSH_BELOW`].
#[inline]
pub fn flush(x: f32) -> f32 {
    if x.abs() < FLUSH_BELOW {
        0.0
    } else {
        x
    }
}

impl Biquad {
    /// Sets a state below [`FLUSH_BELOW`] to zero.
    pub fn flush(&mut self) {
        self.s1 = flush(self.s1);
        self.s2 = flush(self.s2);
    }

    /// The state `(s1, s2)`, for a caller that runs it in its own lanes.
    pub(crate) fn state(&self) -> [f32; 2] {
        [self.s1, self.s2]
    }

    /// Sets the state `(s1, s2)` ([`Biquad::state`]).
    pub(crate) fn set_state(&mut self, [s1, s2]: [f32; 2]) {
        (self.s1, self.s2) = (s1, s2);
    }

    /// Whether the state is zero (silence in gives silence out).
    pub fn is_clear(&self) -> bool {
        self.s1 == 0.0 && self.s2 == 0.0
    }

    /// Filters one sample with coefficients `c` (`[b0, b1, b2, a1, a2]`).
    #[inline]
    pub fn tick(&mut self, x: f32, c: &[f32; 5]) -> f32 {
        let y = c[0] * x + self.s1;
        self.s1 = c[1] * x - c[3] * y + self.s2;
        self.s2 = c[2] * x - c[4] * y;
        y
    }
}

/// A smooth saturator shaped like tanh: the [3/2] Padé approximant x(27 + x²)/(27 + 9x²),
/// which reaches ±1 with zero slope at |x| = 3 and is held there. Within 2.5 % of tanh,
/// exact to third order at 0 (so small signals see the linear filter), and a fraction of the
/// cost of `f32::tanh` (the ladder runs it on every sample).
#[inline]
pub fn soft_clip(x: f32) -> f32 {
    let x = x.clamp(-3.0, 3.0);
    let x2 = x * x;
    x * (27.0 + x2) / (27.0 + 9.0 * x2)
}

/// `tan(π·fc/fs)`, with the cutoff kept between 1 Hz and 0.45·fs.
#[inline]
fn prewarp(cutoff_hz: f32, sample_rate: f32) -> f32 {
    let fc = cutoff_hz.clamp(1.0, MAX_CUTOFF_RATIO * sample_rate);
    (std::f32::consts::PI * fc / sample_rate).tan()
}

#[cfg(test)]
mod tests {
    use super::*;

    type C = (f64, f64);
    fn mul(a: C, b: C) -> C {
        (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
    }
    fn div(a: C, b: C) -> C {
        let d = b.0 * b.0 + b.1 * b.1;
        ((a.0 * b.0 + a.1 * b.1) / d, (a.1 * b.0 - a.0 * b.1) / d)
    }
    fn abs(a: C) -> f64 {
        a.0.hypot(a.1)
    }

    /// Gain of a steady sine through `f`, measured over its last half second.
    fn measured_gain(freq: f64, rate: f64, mut f: impl FnMut(f32) -> f32) -> f64 {
        let n = rate as usize;
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for i in 0..n {
            let x = 0.001 * (2.0 * std::f64::consts::PI * freq * i as f64 / rate).sin();
            let y = f(x as f32) as f64;
            if i >= n / 2 {
                num += y * y;
                den += x * x;
            }
        }
        (num / den).sqrt()
    }

    #[test]
    fn svf_responses_match_the_bilinear_transform_of_the_analog_filter() {
        let rate = 48_000.0f64;
        for (fc, k) in [(1000.0f64, 2.0f64), (500.0, 0.5), (5000.0, 1.0)] {
            let c = SvfCoefs::new(fc as f32, rate as f32, k as f32);
            let g = (std::f64::consts::PI * fc / rate).tan();
            for f in [100.0f64, 700.0, 1000.0, 3000.0, 9000.0] {
                // s = j·tan(ω/2)/g on the unit circle.
                let s = (0.0, (std::f64::consts::PI * f / rate).tan() / g);
                let den = (1.0 - s.1 * s.1, k * s.1);
                let expect = [
                    (SvfMode::LowPass, abs(div((1.0, 0.0), den))),
                    (SvfMode::BandPass, abs(div(mul((k, 0.0), s), den))),
                    (SvfMode::HighPass, abs(div(mul(s, s), den))),
                ];
                for (mode, want) in expect {
                    let mut svf = Svf::default();
                    let got = measured_gain(f, rate, |x| svf.tick(x, &c, mode));
                    let err_db = 20.0 * (got / want).log10();
                    assert!(
                        err_db.abs() < 0.1 || (want < 1e-3 && got < 2e-3),
                        "{mode:?} fc {fc} k {k} at {f} Hz: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn ladder_small_signal_response_is_the_linear_ladder() {
        let rate = 48_000.0f64;
        for (fc, k) in [(800.0f64, 0.0f64), (800.0, 2.0), (2000.0, 3.5)] {
            let c = LadderCoefs::new(fc as f32, rate as f32, k as f32, 1.0);
            let g = (std::f64::consts::PI * fc / rate).tan();
            for f in [100.0f64, 800.0, 1500.0, 2000.0, 6000.0] {
                let s = (0.0, (std::f64::consts::PI * f / rate).tan() / g);
                let one_pole = div((1.0, 0.0), (1.0 + s.0, s.1));
                let p4 = mul(mul(one_pole, one_pole), mul(one_pole, one_pole));
                let want = abs(div(p4, (1.0 + k * p4.0, k * p4.1)));
                let mut ladder = Ladder::default();
                let got = measured_gain(f, rate, |x| ladder.tick(x, &c));
                let err_db = 20.0 * (got / want).log10();
                assert!(
                    err_db.abs() < 0.1,
                    "fc {fc} k {k} at {f} Hz: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn peaking_band_has_its_gain_at_the_centre_and_none_far_away() {
        let rate = 48_000.0f64;
        let c = peaking(1000.0, std::f32::consts::SQRT_2, 9.0, rate as f32);
        let mut bq = Biquad::default();
        let at = |f: f64, bq: &mut Biquad| {
            *bq = Biquad::default();
            20.0 * measured_gain(f, rate, |x| bq.tick(x, &c)).log10()
        };
        assert!((at(1000.0, &mut bq) - 9.0).abs() < 0.05);
        assert!(at(50.0, &mut bq).abs() < 0.3 && at(15_000.0, &mut bq).abs() < 0.3);
    }

    #[test]
    fn soft_clip_is_close_to_tanh_and_monotonic() {
        let mut last = -2.0f32;
        for i in -500..=500 {
            let x = i as f32 / 100.0;
            let y = soft_clip(x);
            assert!((y - x.tanh()).abs() < 0.025, "{x}: {y} vs {}", x.tanh());
            assert!(y >= last - 1e-6, "not monotonic at {x}");
            last = y;
        }
    }

    #[test]
    fn ladder_drive_saturates_loud_input() {
        let c = LadderCoefs::new(2_000.0, 48_000.0, 0.0, 8.0);
        let mut ladder = Ladder::default();
        let peak = (0..4800)
            .map(|i| {
                ladder
                    .tick(if (i / 100) % 2 == 0 { 1.0 } else { -1.0 }, &c)
                    .abs()
            })
            .fold(0.0f32, f32::max);
        // soft_clip(8)/√8 = 0.354: the drive bounds the level (the four real poles do not
        // overshoot).
        assert!(peak < 0.3536 && peak > 0.34, "{peak}");
    }
}
