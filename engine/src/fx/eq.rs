//! Equalisers: a parametric EQ of RBJ biquads (peaks, shelves, high- and low-pass), and a
//! minimum-phase matching EQ that designs such a cascade from a target curve.
//!
//! The biquads are Robert Bristow-Johnson's Audio EQ Cookbook (W3C note, 2021 edition); the
//! shelves use its slope S = 1 form, so `q` is ignored for them. The matching EQ puts one peak
//! on each ISO 266 third-octave centre and solves for the gains that make the cascade's
//! response (evaluated exactly, not assumed additive) meet the target at the centres, by a
//! few rounds of fixed-point correction: neighbouring bands overlap, so a band set to the
//! target alone would overshoot where the target is broad. A cascade of biquads is minimum
//! phase (no pre-ringing, no latency), which is what a mix insert wants; a linear-phase FIR
//! would add latency for no audible gain at these slopes.

use serde::{Deserialize, Serialize};

use crate::filter::Biquad;

/// The most bands an [`Eq`] holds (room for a third-octave match and a few parametric bands).
pub const MAX_BANDS: usize = 40;

/// The ISO 266 third-octave centre frequencies, 20 Hz – 20 kHz.
pub const THIRD_OCTAVES_HZ: [f32; 31] = [
    20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0,
    500.0, 630.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0,
    8000.0, 10000.0, 12500.0, 16000.0, 20000.0,
];

/// The Q of the matching EQ's bells (about 0.7 octave wide) on third-octave centres: bells a
/// third of an octave wide (Q 4.3) ripple between the centres (2.7 dB on the test's curve),
/// an octave wide (Q 1.4) they overlap so much that the correction rounds do not settle.
pub const MATCH_Q: f32 = 2.0;

/// What a band does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandKind {
    /// A bell around `freq_hz`.
    Peak,
    /// Everything below `freq_hz` raised or cut by `gain_db`.
    LowShelf,
    /// Everything above `freq_hz` raised or cut by `gain_db`.
    HighShelf,
    /// 12 dB/octave low-pass at `freq_hz` (`gain_db` ignored).
    LowPass,
    /// 12 dB/octave high-pass at `freq_hz` (`gain_db` ignored).
    HighPass,
}

/// One band of an EQ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// What the band does.
    pub kind: BandKind,
    /// Centre or corner frequency, Hz.
    pub freq_hz: f32,
    /// Gain at the centre (peaks) or of the shelf, dB.
    #[serde(default)]
    pub gain_db: f32,
    /// Quality factor (peaks and passes; 0.707 is Butterworth).
    #[serde(default = "default_q")]
    pub q: f32,
}

fn default_q() -> f32 {
    std::f32::consts::FRAC_1_SQRT_2
}

impl Band {
    /// Normalised biquad coefficients `[b0, b1, b2, a1, a2]` at `rate`, in f64.
    pub fn coefs_f64(&self, rate: f32) -> [f64; 5] {
        let rate = rate as f64;
        let f = (self.freq_hz as f64).min(0.49 * rate).max(1.0);
        let w0 = std::f64::consts::TAU * f / rate;
        let (sin, cos) = w0.sin_cos();
        let q = (self.q as f64).max(0.05);
        let a = 10f64.powf(self.gain_db as f64 / 40.0);
        let (b, aa) = match self.kind {
            BandKind::Peak => {
                let alpha = sin / (2.0 * q);
                (
                    [1.0 + alpha * a, -2.0 * cos, 1.0 - alpha * a],
                    [1.0 + alpha / a, -2.0 * cos, 1.0 - alpha / a],
                )
            }
            BandKind::LowShelf | BandKind::HighShelf => {
                // Slope S = 1: alpha = sin/2 · √2.
                let alpha = sin / 2.0 * std::f64::consts::SQRT_2;
                let k = 2.0 * a.sqrt() * alpha;
                let s = if self.kind == BandKind::LowShelf {
                    1.0
                } else {
                    -1.0
                };
                (
                    [
                        a * ((a + 1.0) - s * (a - 1.0) * cos + k),
                        s * 2.0 * a * ((a - 1.0) - s * (a + 1.0) * cos),
                        a * ((a + 1.0) - s * (a - 1.0) * cos - k),
                    ],
                    [
                        (a + 1.0) + s * (a - 1.0) * cos + k,
                        -s * 2.0 * ((a - 1.0) + s * (a + 1.0) * cos),
                        (a + 1.0) + s * (a - 1.0) * cos - k,
                    ],
                )
            }
            BandKind::LowPass | BandKind::HighPass => {
                let alpha = sin / (2.0 * q);
                let (b0, b1) = if self.kind == BandKind::LowPass {
                    ((1.0 - cos) / 2.0, 1.0 - cos)
                } else {
                    ((1.0 + cos) / 2.0, -(1.0 + cos))
                };
                ([b0, b1, b0], [1.0 + alpha, -2.0 * cos, 1.0 - alpha])
            }
        };
        [
            b[0] / aa[0],
            b[1] / aa[0],
            b[2] / aa[0],
            aa[1] / aa[0],
            aa[2] / aa[0],
        ]
    }

    /// The band's magnitude response at `freq_hz`, dB (exact, from its coefficients).
    pub fn response_db(&self, freq_hz: f32, rate: f32) -> f64 {
        magnitude_db(&self.coefs_f64(rate), freq_hz as f64 / rate as f64)
    }
}

/// |H(e^{jω})| in dB of normalised biquad coefficients at `f` cycles per sample.
pub fn magnitude_db(c: &[f64; 5], f: f64) -> f64 {
    let w = std::f64::consts::TAU * f;
    let (s1, c1) = w.sin_cos();
    let (s2, c2) = (2.0 * w).sin_cos();
    let (nr, ni) = (c[0] + c[1] * c1 + c[2] * c2, -(c[1] * s1 + c[2] * s2));
    let (dr, di) = (1.0 + c[3] * c1 + c[4] * c2, -(c[3] * s1 + c[4] * s2));
    10.0 * ((nr * nr + ni * ni) / (dr * dr + di * di))
        .max(1e-30)
        .log10()
}

/// The response of a cascade of `bands` at `freq_hz`, dB.
pub fn cascade_db(bands: &[Band], freq_hz: f32, rate: f32) -> f64 {
    bands.iter().map(|b| b.response_db(freq_hz, rate)).sum()
}

/// The target curve `(freq_hz, gain_db)` (sorted by frequency) at `freq_hz`: linear in log
/// frequency between points, flat beyond the ends.
pub fn curve_at(curve: &[(f32, f32)], freq_hz: f32) -> f32 {
    let Some(first) = curve.first() else {
        return 0.0;
    };
    if freq_hz <= first.0 {
        return first.1;
    }
    for w in curve.windows(2) {
        let ((f0, g0), (f1, g1)) = (w[0], w[1]);
        if freq_hz <= f1 {
            let t = ((freq_hz / f0).ln() / (f1 / f0).ln().max(1e-9)).clamp(0.0, 1.0);
            return g0 + (g1 - g0) * t;
        }
    }
    curve[curve.len() - 1].1
}

/// Designs a matching EQ: one bell per ISO third-octave centre below 0.45 of `rate` (shelves
/// at the two ends), with
/// gains (each within ±`max_db`) that make the cascade meet `target` (`(freq_hz, gain_db)`,
/// sorted) at the centres. Allocates (main thread).
pub fn match_curve(target: &[(f32, f32)], rate: f32, max_db: f32) -> Vec<Band> {
    let centres: Vec<f32> = THIRD_OCTAVES_HZ
        .iter()
        .copied()
        .filter(|&f| f <= 0.45 * rate)
        .collect();
    let goal: Vec<f32> = centres.iter().map(|&f| curve_at(target, f)).collect();
    // The end bands are shelves: the target is flat beyond its ends, and the top shelf
    // carries the correction up to Nyquist (a peak would leave the last half-octave alone).
    let last = centres.len().saturating_sub(1);
    let mut bands: Vec<Band> = centres
        .iter()
        .zip(&goal)
        .enumerate()
        .map(|(k, (&freq_hz, &g))| Band {
            kind: if k == 0 {
                BandKind::LowShelf
            } else if k == last {
                BandKind::HighShelf
            } else {
                BandKind::Peak
            },
            freq_hz,
            gain_db: g.clamp(-max_db, max_db),
            q: MATCH_Q,
        })
        .collect();
    // Fixed-point rounds: each band takes the error at its centre, damped (the neighbours
    // correct the same error at the same time); a round that makes the worst error grow is
    // undone and the step halved.
    let errors = |bands: &[Band]| -> Vec<f64> {
        centres
            .iter()
            .zip(&goal)
            .map(|(&f, &g)| g as f64 - cascade_db(bands, f, rate))
            .collect()
    };
    let worst = |e: &[f64]| e.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut err = errors(&bands);
    let mut step = 0.6f32;
    for _ in 0..40 {
        if worst(&err) < 0.02 {
            break;
        }
        let mut next = bands.clone();
        for (b, e) in next.iter_mut().zip(&err) {
            b.gain_db = (b.gain_db + step * *e as f32).clamp(-max_db, max_db);
        }
        let next_err = errors(&next);
        if worst(&next_err) < worst(&err) {
            (bands, err) = (next, next_err);
        } else {
            step *= 0.5;
        }
    }
    bands
}

/// Four lanes that the compiler keeps in one vector register (SSE on x86-64, NEON on
/// ARM): lane by lane, each operation rounds as its scalar form does.
#[derive(Clone, Copy)]
#[repr(align(16))]
struct Lanes([f32; 4]);

impl Lanes {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        Self([v; 4])
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        let (a, b) = (self.0, o.0);
        Self([a[0] * b[0], a[1] * b[1], a[2] * b[2], a[3] * b[3]])
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        let (a, b) = (self.0, o.0);
        Self([a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]])
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        let (a, b) = (self.0, o.0);
        Self([a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]])
    }
}

/// Two cascades at once, `coefs[0]` over `left` and `coefs[1]` over `right` (the same one
/// for a stereo pair, or a mid's and a side's); `lanes` holds per band the states `[s1 left,
/// s1 right, s2 left, s2 right]`. Each lane does exactly the operations of [`Biquad::tick`],
/// so each channel comes out as its cascade alone would give it (the shorter cascade's
/// missing bands pass their input through unchanged).
fn run_pair(coefs: [&[[f32; 5]]; 2], lanes: &mut [[f32; 4]], left: &mut [f32], right: &mut [f32]) {
    let zero = Lanes::splat(0.0);
    let mut c = [[zero; 5]; MAX_BANDS];
    let mut s1 = [zero; MAX_BANDS];
    let mut s2 = [zero; MAX_BANDS];
    let n = coefs[0]
        .len()
        .max(coefs[1].len())
        .min(lanes.len())
        .min(MAX_BANDS);
    const THROUGH: [f32; 5] = [1.0, 0.0, 0.0, 0.0, 0.0];
    for k in 0..n {
        let (a, b) = (
            coefs[0].get(k).unwrap_or(&THROUGH),
            coefs[1].get(k).unwrap_or(&THROUGH),
        );
        c[k] = std::array::from_fn(|j| Lanes([a[j], b[j], 0.0, 0.0]));
        let l = lanes[k];
        s1[k] = Lanes([l[0], l[1], 0.0, 0.0]);
        s2[k] = Lanes([l[2], l[3], 0.0, 0.0]);
    }
    for (a, b) in left.iter_mut().zip(right.iter_mut()) {
        let mut x = Lanes([*a, *b, 0.0, 0.0]);
        for ((c, s1), s2) in c[..n].iter().zip(&mut s1[..n]).zip(&mut s2[..n]) {
            let y = c[0].mul(x).add(*s1);
            *s1 = c[1].mul(x).sub(c[3].mul(y)).add(*s2);
            *s2 = c[2].mul(x).sub(c[4].mul(y));
            x = y;
        }
        (*a, *b) = (x.0[0], x.0[1]);
    }
    for k in 0..n {
        lanes[k] = [s1[k].0[0], s1[k].0[1], s2[k].0[0], s2[k].0[1]];
    }
}

/// A cascade of up to [`MAX_BANDS`] biquads on two channels.
#[derive(Debug, Clone)]
pub struct Eq {
    coefs: [[f32; 5]; MAX_BANDS],
    states: [[Biquad; 2]; MAX_BANDS],
    len: usize,
}

impl Default for Eq {
    fn default() -> Self {
        Self {
            coefs: [[1.0, 0.0, 0.0, 0.0, 0.0]; MAX_BANDS],
            states: [[Biquad::default(); 2]; MAX_BANDS],
            len: 0,
        }
    }
}

impl Eq {
    /// Sets the bands (those past [`MAX_BANDS`] are ignored; peaks and shelves at 0 dB are
    /// skipped). States of bands that stay are kept, so a change does not click.
    pub fn set(&mut self, bands: &[Band], rate: f32) {
        let mut n = 0;
        if rate <= 0.0 {
            // Not allocated yet: nothing runs until the rate is known.
            self.len = 0;
            return;
        }
        for b in bands {
            let flat = matches!(
                b.kind,
                BandKind::Peak | BandKind::LowShelf | BandKind::HighShelf
            ) && b.gain_db.abs() < 1e-3;
            if flat || n == MAX_BANDS {
                continue;
            }
            self.coefs[n] = b.coefs_f64(rate).map(|c| c as f32);
            n += 1;
        }
        for s in &mut self.states[n..self.len.max(n)] {
            *s = Default::default();
        }
        self.len = n;
    }

    /// Clears the states.
    pub fn reset(&mut self) {
        self.states = [[Biquad::default(); 2]; MAX_BANDS];
    }

    /// Filters the buffers in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = self.len;
        if n == 0 {
            return;
        }
        if left.len() != right.len() {
            self.run(0, left);
            self.run(1, right);
            return;
        }
        // The two channels side by side, in two vector lanes: each lane does exactly the
        // operations of [`Biquad::tick`] (the same samples out), at the cost of one channel.
        let mut lanes: [[f32; 4]; MAX_BANDS] = [[0.0; 4]; MAX_BANDS];
        for (lane, [l, r]) in lanes.iter_mut().zip(&self.states[..n]) {
            let ([l1, l2], [r1, r2]) = (l.state(), r.state());
            *lane = [l1, r1, l2, r2];
        }
        let coefs = &self.coefs[..n];
        run_pair([coefs, coefs], &mut lanes[..n], left, right);
        for (lane, [l, r]) in lanes.iter().zip(self.states[..n].iter_mut()) {
            l.set_state([lane[0], lane[2]]);
            r.set_state([lane[1], lane[3]]);
            l.flush();
            r.flush();
        }
    }

    /// Filters `a` with this EQ's channel-0 states and `b` with `other`'s, at once (a mid
    /// and a side through their own EQs): each comes out as [`Eq::process_channel`] would
    /// give it, for about the cost of one. Buffers of different lengths run one by one.
    pub fn process_with(&mut self, other: &mut Eq, a: &mut [f32], b: &mut [f32]) {
        let n = self.len.max(other.len);
        if a.len() != b.len() || n == 0 {
            self.process_channel(0, a);
            other.process_channel(0, b);
            return;
        }
        let mut lanes: [[f32; 4]; MAX_BANDS] = [[0.0; 4]; MAX_BANDS];
        for (k, lane) in lanes[..n].iter_mut().enumerate() {
            let [a1, a2] = self.states[k][0].state();
            let [b1, b2] = other.states[k][0].state();
            *lane = [a1, b1, a2, b2];
        }
        run_pair(
            [&self.coefs[..self.len], &other.coefs[..other.len]],
            &mut lanes[..n],
            a,
            b,
        );
        for (k, lane) in lanes[..n].iter().enumerate() {
            if k < self.len {
                self.states[k][0].set_state([lane[0], lane[2]]);
                self.states[k][0].flush();
            }
            if k < other.len {
                other.states[k][0].set_state([lane[1], lane[3]]);
                other.states[k][0].flush();
            }
        }
    }

    /// Filters one buffer in place with the states of channel `ch` (0 or 1): a mono signal
    /// (a mid or a side) costs half of [`Eq::process`].
    pub fn process_channel(&mut self, ch: usize, x: &mut [f32]) {
        self.run(ch.min(1), x);
    }

    fn run(&mut self, ch: usize, x: &mut [f32]) {
        let n = self.len;
        if n == 0 {
            return;
        }
        // Sample by sample through every band: each band sees the same samples in the same
        // order as band by band over the buffer would give it, and the bands' dependency
        // chains overlap in the processor (a cascade of 31 bands runs several times faster).
        let coefs = &self.coefs[..n];
        let states = &mut self.states[..n];
        for v in x.iter_mut() {
            let mut y = *v;
            for (c, s) in coefs.iter().zip(states.iter_mut()) {
                y = s[ch].tick(y, c);
            }
            *v = y;
        }
        for s in states.iter_mut() {
            s[ch].flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gain a band gives a sine at `freq_hz`, measured by running it.
    fn measured_db(bands: &[Band], freq_hz: f32, rate: f32) -> f64 {
        let mut eq = Eq::default();
        eq.set(bands, rate);
        let n = rate as usize;
        let w = std::f32::consts::TAU * freq_hz / rate;
        let mut l: Vec<f32> = (0..n).map(|i| (w * i as f32).sin()).collect();
        let mut r = l.clone();
        eq.process(&mut l, &mut r);
        let tail = &l[n / 2..];
        let rms =
            (tail.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / tail.len() as f64).sqrt();
        20.0 * (rms * 2f64.sqrt()).log10()
    }

    #[test]
    fn bands_have_their_analytic_responses() {
        let rate = 48_000.0;
        let cases = [
            (BandKind::Peak, 1000.0, 6.0, 1.0, 1000.0, 6.0),
            (BandKind::Peak, 1000.0, -9.0, 2.0, 1000.0, -9.0),
            (BandKind::LowShelf, 200.0, 6.0, 0.7, 20.0, 6.0),
            (BandKind::HighShelf, 4000.0, -6.0, 0.7, 18_000.0, -6.0),
            (BandKind::LowPass, 1000.0, 0.0, 0.707, 1000.0, -3.01),
            (BandKind::HighPass, 1000.0, 0.0, 0.707, 1000.0, -3.01),
            (BandKind::LowPass, 1000.0, 0.0, 0.707, 100.0, 0.0),
            (BandKind::HighPass, 100.0, 0.0, 0.707, 25.0, -24.0),
        ];
        for (kind, freq_hz, gain_db, q, at, want) in cases {
            let b = Band {
                kind,
                freq_hz,
                gain_db,
                q,
            };
            let exact = b.response_db(at, rate);
            assert!(
                (exact - want).abs() < 0.35,
                "{kind:?} at {at}: {exact} vs {want}"
            );
            for f in [at, 0.5 * freq_hz, 2.0 * freq_hz] {
                let m = measured_db(&[b], f, rate);
                let e = b.response_db(f, rate);
                assert!(
                    (m - e).abs() < 0.05,
                    "{kind:?} at {f}: ran {m}, analytic {e}"
                );
            }
        }
    }

    #[test]
    fn the_matching_eq_meets_a_target_curve() {
        let rate = 48_000.0;
        // A bass lift, a presence dip and a rolled-off top.
        let target = [
            (20.0, 4.0),
            (120.0, 4.0),
            (400.0, 0.0),
            (2000.0, 0.0),
            (3000.0, -5.0),
            (4500.0, 0.0),
            (10_000.0, 0.0),
            (20_000.0, -8.0),
        ];
        let bands = match_curve(&target, rate, 18.0);
        let mut worst = 0.0f64;
        for i in 0..200 {
            let f = 40.0 * (16_000.0f32 / 40.0).powf(i as f32 / 199.0);
            let err = (cascade_db(&bands, f, rate) - curve_at(&target, f) as f64).abs();
            worst = worst.max(err);
        }
        assert!(worst < 1.0, "worst error {worst} dB");
        // What runs is what was designed.
        for f in [63.0, 1000.0, 3150.0, 12_500.0] {
            let m = measured_db(&bands, f, rate);
            let e = cascade_db(&bands, f, rate);
            assert!((m - e).abs() < 0.1, "{f}: ran {m}, designed {e}");
        }
    }

    #[test]
    fn flat_bands_pass_the_signal_untouched() {
        let mut eq = Eq::default();
        let flat = Band {
            kind: BandKind::Peak,
            freq_hz: 1000.0,
            gain_db: 0.0,
            q: 1.0,
        };
        eq.set(&[flat; 5], 48_000.0);
        let mut l: Vec<f32> = (0..256).map(|i| (i as f32 * 0.1).sin()).collect();
        let mut r = l.clone();
        let want = l.clone();
        eq.process(&mut l, &mut r);
        assert_eq!(l, want);
    }

    /// A curve of `n` bands with gains that wander, for the lane tests.
    fn wandering(n: usize, seed: f32) -> Vec<Band> {
        let curve: Vec<(f32, f32)> = THIRD_OCTAVES_HZ
            .iter()
            .enumerate()
            .map(|(k, &f)| (f, 6.0 * (k as f32 * 0.9 + seed).sin()))
            .collect();
        let mut bands = match_curve(&curve, 44_100.0, 12.0);
        bands.truncate(n);
        bands
    }

    fn signal(n: usize, step: f32) -> Vec<f32> {
        (0..n)
            .map(|i| (i as f32 * step).sin() * (1.0 + 0.5 * (i as f32 * 0.0007).cos()))
            .collect()
    }

    #[test]
    fn the_channels_side_by_side_come_out_as_each_alone() {
        let bands = wandering(31, 0.0);
        let (l, r) = (signal(5000, 0.05), signal(5000, 0.31));
        let mut pair = Eq::default();
        pair.set(&bands, 44_100.0);
        let (mut a, mut b) = (l.clone(), r.clone());
        // In blocks, so that the states carry from one call to the next.
        for (x, y) in a.chunks_mut(700).zip(b.chunks_mut(700)) {
            pair.process(x, y);
        }
        let mut alone = Eq::default();
        alone.set(&bands, 44_100.0);
        let (mut c, mut d) = (l.clone(), r.clone());
        for (x, y) in c.chunks_mut(700).zip(d.chunks_mut(700)) {
            alone.process_channel(0, x);
            alone.process_channel(1, y);
        }
        assert!(a == c && b == d, "the pair differs from the channels alone");
        assert!(a != l, "the EQ did something");

        // Two different EQs (of different lengths) at once: each as it runs alone.
        let (mid_bands, side_bands) = (wandering(31, 0.0), wandering(12, 2.0));
        let (mut mid, mut side) = (Eq::default(), Eq::default());
        mid.set(&mid_bands, 44_100.0);
        side.set(&side_bands, 44_100.0);
        let (mut a, mut b) = (l.clone(), r.clone());
        for (x, y) in a.chunks_mut(700).zip(b.chunks_mut(700)) {
            mid.process_with(&mut side, x, y);
        }
        let (mut mid1, mut side1) = (Eq::default(), Eq::default());
        mid1.set(&mid_bands, 44_100.0);
        side1.set(&side_bands, 44_100.0);
        let (mut c, mut d) = (l.clone(), r.clone());
        for (x, y) in c.chunks_mut(700).zip(d.chunks_mut(700)) {
            mid1.process_channel(0, x);
            side1.process_channel(0, y);
        }
        assert!(
            a == c && b == d,
            "the two EQs at once differ from each alone"
        );
        // And the other way round (the shorter one first).
        let (mut a, mut b) = (r.clone(), l.clone());
        let (mut mid2, mut side2) = (Eq::default(), Eq::default());
        mid2.set(&mid_bands, 44_100.0);
        side2.set(&side_bands, 44_100.0);
        side2.process_with(&mut mid2, &mut a, &mut b);
        let (mut c, mut d) = (r.clone(), l.clone());
        let (mut mid3, mut side3) = (Eq::default(), Eq::default());
        mid3.set(&mid_bands, 44_100.0);
        side3.set(&side_bands, 44_100.0);
        side3.process_channel(0, &mut c);
        mid3.process_channel(0, &mut d);
        assert!(a == c && b == d, "the shorter EQ first differs");
    }
}
