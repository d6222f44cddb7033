//! Dynamics: a feed-forward compressor with an optional external sidechain, and the
//! sidechain "pump" (a gain envelope each kick sets off).
//!
//! The compressor is the log-domain design of Giannoulis, Massberg and Reiss, "Digital
//! Dynamic Range Compressor Design — A Tutorial and Analysis" (JAES 60(6), 2012): a
//! soft-knee gain computer on the level in dB, then a smooth branching peak detector on the
//! gain reduction (attack when it grows, release when it falls), which keeps the static curve
//! exact and the time constants independent of the ratio. Stereo-linked: the louder channel
//! of the detector's input sets one gain for both.
//!
//! The pump is what producers draw with a "volume shaper" or a ducking compressor keyed by the
//! kick: at each trigger the gain falls by `depth_db` over `attack_ms`, then recovers to unity
//! over `release_ms` along a power curve in linear gain (a volume shaper's drawn line). Triggers come from the sidechain signal (its
//! envelope rising through a threshold, with a hold-off so one kick triggers once) or are
//! given by sample position ([`Pump::trigger`]: the kick's notes, or the beat grid).

use serde::{Deserialize, Serialize};

/// One-pole smoothing coefficient reaching 1 − 1/e of a step in `ms`.
fn coef(ms: f32, rate: f32) -> f32 {
    if ms <= 0.0 {
        0.0
    } else {
        (-1.0 / (ms * 1e-3 * rate)).exp()
    }
}

/// Level in dB of a linear amplitude (floored at −200 dB).
#[inline]
fn to_db(x: f32) -> f32 {
    20.0 * x.max(1e-10).log10()
}

/// A compressor's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompressorSettings {
    /// Level above which the gain falls, dBFS.
    pub threshold_db: f32,
    /// Input dB per output dB above the threshold (1: none; large: a limiter).
    pub ratio: f32,
    /// Width of the soft knee around the threshold, dB (0: hard).
    #[serde(default)]
    pub knee_db: f32,
    /// Time to follow a rise in gain reduction, ms.
    pub attack_ms: f32,
    /// Time to follow a fall in gain reduction, ms.
    pub release_ms: f32,
    /// Gain after compression, dB.
    #[serde(default)]
    pub makeup_db: f32,
}

impl Default for CompressorSettings {
    fn default() -> Self {
        Self {
            threshold_db: 0.0,
            ratio: 1.0,
            knee_db: 0.0,
            attack_ms: 10.0,
            release_ms: 100.0,
            makeup_db: 0.0,
        }
    }
}

impl CompressorSettings {
    /// The static gain reduction (≥ 0 dB) for an input level of `level_db` (the gain
    /// computer, eq. 4 of the tutorial).
    pub fn reduction_db(&self, level_db: f32) -> f32 {
        let (t, w) = (self.threshold_db, self.knee_db.max(0.0));
        let slope = 1.0 - 1.0 / self.ratio.max(1.0);
        let over = level_db - t;
        if 2.0 * over <= -w {
            0.0
        } else if 2.0 * over.abs() < w {
            slope * (over + w / 2.0).powi(2) / (2.0 * w)
        } else {
            slope * over
        }
    }
}

/// A compressor's state.
#[derive(Debug, Clone, Default)]
pub struct Compressor {
    settings: CompressorSettings,
    attack: f32,
    release: f32,
    makeup: f32,
    /// The smoothed gain reduction, dB.
    reduction_db: f32,
}

impl Compressor {
    /// Sets the compressor (no allocation).
    pub fn set(&mut self, s: CompressorSettings, rate: f32) {
        self.settings = s;
        self.attack = coef(s.attack_ms, rate);
        self.release = coef(s.release_ms, rate);
        self.makeup = 10f32.powf(s.makeup_db / 20.0);
    }

    /// Clears the detector.
    pub fn reset(&mut self) {
        self.reduction_db = 0.0;
    }

    /// The gain reduction now, dB (for meters).
    pub fn reduction_db(&self) -> f32 {
        self.reduction_db
    }

    /// Compresses the buffers in place; the detector hears `sidechain` (left, right) where
    /// given, else the input itself.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32], sidechain: Option<[&[f32]; 2]>) {
        if self.settings.ratio <= 1.0 && self.settings.makeup_db == 0.0 {
            return;
        }
        for i in 0..left.len().min(right.len()) {
            let key = match sidechain {
                Some([a, b]) => a
                    .get(i)
                    .map_or(0.0, |x| x.abs())
                    .max(b.get(i).map_or(0.0, |x| x.abs())),
                None => left[i].abs().max(right[i].abs()),
            };
            let target = self.settings.reduction_db(to_db(key));
            let c = if target > self.reduction_db {
                self.attack
            } else {
                self.release
            };
            self.reduction_db = c * self.reduction_db + (1.0 - c) * target;
            if self.reduction_db < 1e-6 {
                self.reduction_db = 0.0;
            }
            let g = self.makeup * 10f32.powf(-self.reduction_db / 20.0);
            left[i] *= g;
            right[i] *= g;
        }
    }
}

/// The pump's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PumpSettings {
    /// How far the gain dips at each trigger, dB (0: no pump).
    pub depth_db: f32,
    /// Time from the trigger to the bottom of the dip, ms.
    #[serde(default = "default_pump_attack")]
    pub attack_ms: f32,
    /// Time from the bottom back to 0 dB, ms.
    pub release_ms: f32,
    /// Shape of the recovery: the linear gain follows floor + (1 − floor)·t^curve over the
    /// release (1: a straight line; 2: slow out of the dip, quick at the end).
    #[serde(default = "default_pump_curve")]
    pub curve: f32,
    /// Level of the sidechain's envelope that counts as a trigger, dBFS.
    #[serde(default = "default_pump_threshold")]
    pub threshold_db: f32,
}

fn default_pump_attack() -> f32 {
    5.0
}
fn default_pump_curve() -> f32 {
    2.0
}
fn default_pump_threshold() -> f32 {
    -30.0
}

impl Default for PumpSettings {
    fn default() -> Self {
        Self {
            depth_db: 0.0,
            attack_ms: default_pump_attack(),
            release_ms: 200.0,
            curve: default_pump_curve(),
            threshold_db: default_pump_threshold(),
        }
    }
}

impl PumpSettings {
    /// The gain at the bottom of the dip, linear.
    pub fn floor(&self) -> f32 {
        10f32.powf(-self.depth_db.max(0.0) / 20.0)
    }

    /// The pump's gain (linear) `t_ms` after a trigger that struck at unity gain.
    pub fn gain_at(&self, t_ms: f32) -> f32 {
        self.gain_from(1.0, t_ms)
    }

    /// The gain `t_ms` after a trigger that struck when the gain was `from`.
    fn gain_from(&self, from: f32, t_ms: f32) -> f32 {
        if t_ms < 0.0 || self.depth_db <= 0.0 {
            return 1.0;
        }
        let floor = self.floor();
        if t_ms < self.attack_ms {
            return from + (floor - from) * t_ms / self.attack_ms;
        }
        let u = (t_ms - self.attack_ms) / self.release_ms.max(1.0);
        if u >= 1.0 {
            1.0
        } else {
            floor + (1.0 - floor) * u.powf(self.curve.max(0.1))
        }
    }
}

/// Shortest time between two triggers from the sidechain, ms (one kick, one trigger).
const HOLD_OFF_MS: f32 = 50.0;

/// The pump's state.
#[derive(Debug, Clone)]
pub struct Pump {
    settings: PumpSettings,
    rate: f32,
    /// Samples since the last trigger (`u32::MAX`: none yet).
    since: u32,
    /// Trigger `pending` samples from now (a given trigger inside the next block).
    pending: Option<u32>,
    env: f32,
    env_fall: f32,
    threshold: f32,
    above: bool,
    /// The gain where the last trigger struck (a trigger inside a dip starts from there).
    from: f32,
}

impl Default for Pump {
    fn default() -> Self {
        Self {
            settings: PumpSettings::default(),
            rate: 0.0,
            since: u32::MAX,
            pending: None,
            env: 0.0,
            env_fall: 0.0,
            threshold: 1.0,
            above: false,
            from: 1.0,
        }
    }
}

impl Pump {
    /// Sets the pump (no allocation).
    pub fn set(&mut self, s: PumpSettings, rate: f32) {
        self.settings = s;
        self.rate = rate;
        self.env_fall = coef(10.0, rate);
        self.threshold = 10f32.powf(s.threshold_db / 20.0);
    }

    /// Clears the state (no trigger since).
    pub fn reset(&mut self) {
        self.since = u32::MAX;
        self.pending = None;
        self.env = 0.0;
        self.above = false;
        self.from = 1.0;
    }

    /// Triggers the pump `offset` samples into the next [`Pump::process`] call.
    pub fn trigger(&mut self, offset: u32) {
        self.pending = Some(offset);
    }

    fn gain(&self) -> f32 {
        if self.since == u32::MAX {
            return 1.0;
        }
        self.settings
            .gain_from(self.from, self.since as f32 * 1000.0 / self.rate)
    }

    fn strike(&mut self) {
        self.from = self.gain();
        self.since = 0;
    }

    /// Applies the pump to the buffers; `sidechain` (left, right), where given, triggers it.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32], sidechain: Option<[&[f32]; 2]>) {
        if self.settings.depth_db <= 0.0 || self.rate <= 0.0 {
            self.pending = None;
            return;
        }
        let hold = (HOLD_OFF_MS * 1e-3 * self.rate) as u32;
        for i in 0..left.len().min(right.len()) {
            if self.pending == Some(i as u32) {
                self.pending = None;
                self.strike();
            }
            if let Some([a, b]) = sidechain {
                let x = a
                    .get(i)
                    .map_or(0.0, |x| x.abs())
                    .max(b.get(i).map_or(0.0, |x| x.abs()));
                // Instant attack, 10 ms fall: the envelope of the key.
                self.env = if x > self.env {
                    x
                } else {
                    self.env_fall * self.env
                };
                let above = self.env >= self.threshold;
                if above && !self.above && self.since >= hold {
                    self.strike();
                }
                self.above = above;
            }
            let g = self.gain();
            left[i] *= g;
            right[i] *= g;
            // Saturates at "no trigger": a day after the last one its dip is long over.
            self.since = self.since.saturating_add(1);
        }
        // A trigger beyond the block lands at its end.
        if self.pending.is_some() {
            self.pending = None;
            self.strike();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f32 = 48_000.0;

    fn sine(amp: f32, freq: f32, n: usize) -> Vec<f32> {
        let w = std::f32::consts::TAU * freq / RATE;
        (0..n).map(|i| amp * (w * i as f32).sin()).collect()
    }

    fn peak_db(x: &[f32]) -> f32 {
        to_db(x.iter().fold(0.0f32, |m, v| m.max(v.abs())))
    }

    #[test]
    fn the_static_curve_is_the_gain_computers() {
        let s = CompressorSettings {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 6.0,
            attack_ms: 1.0,
            release_ms: 300.0,
            makeup_db: 2.0,
        };
        // Hard-knee values far from the knee, the quadratic inside it.
        assert_eq!(s.reduction_db(-30.0), 0.0);
        assert!((s.reduction_db(-10.0) - 7.5).abs() < 1e-5);
        assert!((s.reduction_db(-20.0) - 0.75 * 9.0 / 12.0).abs() < 1e-5);
        for level in [-30.0f32, -20.0, -14.0, -6.0] {
            let mut c = Compressor::default();
            c.set(s, RATE);
            let amp = 10f32.powf(level / 20.0);
            let mut l = sine(amp, 200.0, RATE as usize);
            let mut r = l.clone();
            c.process(&mut l, &mut r, None);
            let out = peak_db(&l[RATE as usize / 2..]);
            let want = level - s.reduction_db(level) + 2.0;
            assert!(
                (out - want).abs() < 0.3,
                "{level} dB in: {out} out, want {want}"
            );
        }
    }

    #[test]
    fn attack_and_release_follow_their_times() {
        let s = CompressorSettings {
            threshold_db: -40.0,
            ratio: 100.0,
            knee_db: 0.0,
            attack_ms: 5.0,
            release_ms: 50.0,
            makeup_db: 0.0,
        };
        let mut c = Compressor::default();
        c.set(s, RATE);
        // A step from silence to a DC level 20 dB over the threshold, then back.
        let n = RATE as usize / 5;
        let mut l = vec![0.1f32; n];
        let mut r = l.clone();
        c.process(&mut l, &mut r, None);
        let full = s.reduction_db(-20.0);
        let at = |ms: f32| (ms * 1e-3 * RATE) as usize;
        // After one attack time the reduction is 1 − 1/e of its way.
        let red = -to_db(l[at(5.0)] / 0.1);
        assert!((red / full - 0.632).abs() < 0.02, "{red} of {full}");
        let mut quiet = vec![1e-4f32; n];
        let mut q2 = quiet.clone();
        c.process(&mut quiet, &mut q2, None);
        let red = -to_db(quiet[at(50.0)] / 1e-4);
        assert!((red / full - 0.368).abs() < 0.02, "{red} of {full}");
    }

    #[test]
    fn the_sidechain_ducks_a_quiet_signal() {
        let s = CompressorSettings {
            threshold_db: -30.0,
            ratio: 4.0,
            attack_ms: 1.0,
            release_ms: 100.0,
            ..Default::default()
        };
        let mut c = Compressor::default();
        c.set(s, RATE);
        let n = RATE as usize;
        let mut l = sine(0.01, 300.0, n);
        let mut r = l.clone();
        // A steady key at 0 dBFS (a sine's peaks would ripple through the release).
        let key = vec![1.0f32; n];
        c.process(&mut l, &mut r, Some([&key, &key]));
        let out = peak_db(&l[n / 2..]);
        // The key is at 0 dBFS: 22.5 dB of reduction on a −40 dB signal.
        assert!((out - (-40.0 - 22.5)).abs() < 0.5, "{out}");
    }

    #[test]
    fn the_pump_dips_at_each_kick_and_recovers() {
        let s = PumpSettings {
            depth_db: 12.0,
            attack_ms: 5.0,
            release_ms: 200.0,
            curve: 2.0,
            threshold_db: -20.0,
        };
        let mut p = Pump::default();
        p.set(s, RATE);
        p.reset();
        // Kicks (short 50 Hz bursts) every 500 ms into the sidechain; DC through the main.
        let n = RATE as usize * 2;
        let beat = RATE as usize / 2;
        let key: Vec<f32> = (0..n)
            .map(|i| {
                let t = i % beat;
                if t < 2000 {
                    (std::f32::consts::TAU * 50.0 * t as f32 / RATE).sin()
                } else {
                    0.0
                }
            })
            .collect();
        let mut l = vec![1.0f32; n];
        let mut r = l.clone();
        for ((k, bl), br) in key.chunks(64).zip(l.chunks_mut(64)).zip(r.chunks_mut(64)) {
            p.process(bl, br, Some([k, k]));
        }
        let ms = |m: f32| (m * 1e-3 * RATE) as usize;
        for kick in 1..4 {
            let t0 = kick * beat;
            // The 50 Hz burst crosses −20 dB within its first millisecond.
            let bottom = (0..ms(8.0))
                .map(|d| to_db(l[t0 + d]))
                .fold(0.0f32, f32::min);
            assert!((bottom + 12.0).abs() < 0.3, "kick {kick}: bottom {bottom}");
            let mid = to_db(l[t0 + ms(5.0) + ms(100.0)]);
            assert!(
                (mid - to_db(s.gain_at(105.0))).abs() < 0.4,
                "kick {kick}: {mid}"
            );
            assert!(
                to_db(l[t0 + ms(260.0)]) > -0.01,
                "kick {kick}: not recovered"
            );
        }
        // Given triggers do the same, block size aside.
        let mut p2 = Pump::default();
        p2.set(s, RATE);
        p2.reset();
        let mut l2 = vec![1.0f32; 4096];
        let mut r2 = l2.clone();
        p2.trigger(100);
        p2.process(&mut l2, &mut r2, None);
        assert_eq!(l2[99], 1.0);
        let bottom = to_db(l2[100 + ms(5.0)]);
        assert!((bottom + 12.0).abs() < 0.1, "{bottom}");
    }
}
