//! Time effects on delay lines: a tempo-synced echo with feedback, and a chorus.
//!
//! The echo reads its line `beats × 60 / bpm` seconds back (linear interpolation between
//! samples), feeds `feedback` of it back through a one-pole low-pass (each repeat darker, as
//! tape and analogue delays do) and adds `wet` of it to the dry sound; ping-pong crosses the
//! feedback between the channels. The chorus is two lines swept by sines a quarter-cycle apart
//! (left and right), 7 ms ± `depth_ms` at `rate_hz`, mixed with the dry sound.

use serde::{Deserialize, Serialize};

/// The longest echo, seconds.
pub const MAX_DELAY_S: f32 = 4.0;
/// The chorus's centre delay, ms.
const CHORUS_CENTRE_MS: f32 = 7.0;
/// The chorus's deepest sweep, ms.
pub const MAX_CHORUS_DEPTH_MS: f32 = 5.0;

/// The echo's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DelaySettings {
    /// Delay time in beats (0.75: a dotted eighth).
    pub beats: f32,
    /// Share of each repeat fed back, 0…0.95.
    pub feedback: f32,
    /// Level of the echoes added to the dry sound (linear; 0: off).
    pub wet: f32,
    /// Corner of the low-pass in the feedback, Hz (20 kHz and above: none).
    #[serde(default = "default_damp")]
    pub damp_hz: f32,
    /// Repeats alternate between left and right.
    #[serde(default)]
    pub ping_pong: bool,
}

fn default_damp() -> f32 {
    20_000.0
}

impl Default for DelaySettings {
    fn default() -> Self {
        Self {
            beats: 0.5,
            feedback: 0.3,
            wet: 0.0,
            damp_hz: default_damp(),
            ping_pong: false,
        }
    }
}

/// Reads `line` `delay` samples (fractional, ≥ 1) behind `pos` (the next write).
#[inline]
fn read(line: &[f32], pos: usize, delay: f32) -> f32 {
    let n = line.len();
    let d = delay.clamp(1.0, (n - 2) as f32);
    let di = d as usize;
    let frac = d - di as f32;
    let a = line[(pos + n - di) % n];
    let b = line[(pos + n - di - 1) % n];
    a + (b - a) * frac
}

/// The echo's state.
#[derive(Debug, Clone, Default)]
pub struct Delay {
    settings: DelaySettings,
    rate: f32,
    bpm: f32,
    lines: [Vec<f32>; 2],
    pos: usize,
    delay: f32,
    damp: f32,
    lp: [f32; 2],
}

impl Delay {
    /// Allocates the lines for `rate` (main thread) and clears them.
    pub fn allocate(&mut self, rate: f32) {
        self.rate = rate;
        let n = (MAX_DELAY_S * rate).ceil() as usize + 3;
        self.lines = [vec![0.0; n], vec![0.0; n]];
        if self.bpm <= 0.0 {
            self.bpm = 120.0;
        }
        self.set(self.settings);
        self.reset();
    }

    /// Sets the echo (no allocation).
    pub fn set(&mut self, s: DelaySettings) {
        self.settings = s;
        self.update();
    }

    /// Sets the tempo the delay time follows, beats per minute.
    pub fn set_tempo(&mut self, bpm: f32) {
        if bpm > 0.0 && bpm != self.bpm {
            self.bpm = bpm;
            self.update();
        }
    }

    fn update(&mut self) {
        let s = self.settings;
        if self.rate <= 0.0 {
            return;
        }
        let seconds = s.beats.max(0.0) as f64 * 60.0 / self.bpm.max(1.0) as f64;
        self.delay = ((seconds * self.rate as f64) as f32).clamp(1.0, MAX_DELAY_S * self.rate);
        self.damp = if s.damp_hz >= 20_000.0 || self.rate <= 0.0 {
            0.0
        } else {
            (-std::f32::consts::TAU * s.damp_hz.min(0.45 * self.rate) / self.rate).exp()
        };
    }

    /// The delay time now, samples.
    pub fn delay_samples(&self) -> f32 {
        self.delay
    }

    /// Clears the lines.
    pub fn reset(&mut self) {
        for l in &mut self.lines {
            l.fill(0.0);
        }
        self.pos = 0;
        self.lp = [0.0; 2];
    }

    /// Adds the echoes to the buffers.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let s = self.settings;
        if s.wet <= 0.0 || self.lines[0].is_empty() {
            return;
        }
        let fb = s.feedback.clamp(0.0, 0.95);
        let n = self.lines[0].len();
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let echo = [
                read(&self.lines[0], self.pos, self.delay),
                read(&self.lines[1], self.pos, self.delay),
            ];
            for (lp, e) in self.lp.iter_mut().zip(echo) {
                *lp = e + (*lp - e) * self.damp;
                if lp.abs() < crate::filter::FLUSH_BELOW {
                    *lp = 0.0;
                }
            }
            let back = if s.ping_pong {
                [self.lp[1], self.lp[0]]
            } else {
                self.lp
            };
            // Ping-pong starts on the left: the input goes in mono, its first repeat left.
            let input = if s.ping_pong {
                [0.5 * (*l + *r), 0.0]
            } else {
                [*l, *r]
            };
            self.lines[0][self.pos] = input[0] + fb * back[0];
            self.lines[1][self.pos] = input[1] + fb * back[1];
            self.pos = (self.pos + 1) % n;
            *l += s.wet * echo[0];
            *r += s.wet * echo[1];
        }
    }
}

/// The chorus's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChorusSettings {
    /// Sweep rate, Hz.
    pub rate_hz: f32,
    /// Sweep depth either side of the centre delay, ms.
    pub depth_ms: f32,
    /// Share of the swept sound, 0 (dry) … 1 (only swept).
    pub mix: f32,
}

impl Default for ChorusSettings {
    fn default() -> Self {
        Self {
            rate_hz: 0.8,
            depth_ms: 2.0,
            mix: 0.0,
        }
    }
}

/// The chorus's state.
#[derive(Debug, Clone, Default)]
pub struct Chorus {
    settings: ChorusSettings,
    rate: f32,
    lines: [Vec<f32>; 2],
    pos: usize,
    /// Sweep phase, cycles.
    phase: f64,
}

impl Chorus {
    /// Allocates the lines for `rate` (main thread) and clears them.
    pub fn allocate(&mut self, rate: f32) {
        self.rate = rate;
        let n = ((CHORUS_CENTRE_MS + MAX_CHORUS_DEPTH_MS) * 1e-3 * rate).ceil() as usize + 4;
        self.lines = [vec![0.0; n], vec![0.0; n]];
        self.reset();
    }

    /// Sets the chorus (no allocation).
    pub fn set(&mut self, s: ChorusSettings) {
        self.settings = s;
    }

    /// Clears the lines and restarts the sweep.
    pub fn reset(&mut self) {
        for l in &mut self.lines {
            l.fill(0.0);
        }
        self.pos = 0;
        self.phase = 0.0;
    }

    /// Chorus the buffers in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let s = self.settings;
        if s.mix <= 0.0 || self.lines[0].is_empty() {
            return;
        }
        let mix = s.mix.min(1.0);
        let n = self.lines[0].len();
        let centre = CHORUS_CENTRE_MS * 1e-3 * self.rate;
        let depth = s.depth_ms.clamp(0.0, MAX_CHORUS_DEPTH_MS) * 1e-3 * self.rate;
        let step = s.rate_hz.max(0.0) as f64 / self.rate as f64;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            self.lines[0][self.pos] = *l;
            self.lines[1][self.pos] = *r;
            self.pos = (self.pos + 1) % n;
            let a = std::f64::consts::TAU * self.phase;
            let (dl, dr) = (
                centre + depth * a.sin() as f32,
                centre + depth * a.cos() as f32,
            );
            let (wl, wr) = (
                read(&self.lines[0], self.pos, dl),
                read(&self.lines[1], self.pos, dr),
            );
            *l += mix * (wl - *l);
            *r += mix * (wr - *r);
            self.phase += step;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f32 = 48_000.0;

    #[test]
    fn echoes_fall_on_the_beat_and_decay_by_the_feedback() {
        let mut d = Delay::default();
        d.allocate(RATE);
        d.set_tempo(120.0);
        d.set(DelaySettings {
            beats: 0.5,
            feedback: 0.5,
            wet: 0.8,
            ..Default::default()
        });
        // Half a beat at 120 bpm: 250 ms.
        assert_eq!(d.delay_samples(), 12_000.0);
        let n = 60_000;
        let mut l = vec![0.0f32; n];
        l[100] = 1.0;
        let mut r = l.clone();
        for (a, b) in l.chunks_mut(333).zip(r.chunks_mut(333)) {
            d.process(a, b);
        }
        assert_eq!(l[100], 1.0);
        for k in 1..4 {
            let at = 100 + k * 12_000;
            let want = 0.8 * 0.5f32.powi(k as i32 - 1);
            assert!(
                (l[at] - want).abs() < 1e-5,
                "repeat {k}: {} vs {want}",
                l[at]
            );
            assert!(l[at - 1].abs() < 1e-6 && l[at + 1].abs() < 1e-6);
        }
        // A new tempo moves the echo.
        d.set_tempo(100.0);
        assert_eq!(d.delay_samples(), 14_400.0);
    }

    #[test]
    fn ping_pong_alternates_and_damping_darkens_the_repeats() {
        let mut d = Delay::default();
        d.allocate(RATE);
        d.set(DelaySettings {
            beats: 0.25,
            feedback: 0.7,
            wet: 1.0,
            damp_hz: 2000.0,
            ping_pong: true,
        });
        let step = d.delay_samples() as usize;
        let n = step * 5;
        let mut l = vec![0.0f32; n];
        l[0] = 1.0;
        let mut r = vec![0.0f32; n];
        r[0] = 1.0;
        d.process(&mut l, &mut r);
        let energy = |x: &[f32], k: usize| {
            x[k * step - 5..k * step + 200]
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
        };
        assert!(energy(&l, 1) > 100.0 * energy(&r, 1), "first repeat left");
        assert!(energy(&r, 2) > 100.0 * energy(&l, 2), "second right");
        // Damped: each repeat's peak is lower than feedback alone would leave it.
        let peak = |x: &[f32], k: usize| {
            x[k * step - 5..k * step + 200]
                .iter()
                .fold(0.0f32, |m, v| m.max(v.abs()))
        };
        assert!(peak(&r, 2) < 0.7 * peak(&l, 1) * 0.9);
    }

    #[test]
    fn the_chorus_sweeps_and_a_dry_mix_passes_untouched() {
        let mut c = Chorus::default();
        c.allocate(RATE);
        let x: Vec<f32> = (0..RATE as usize)
            .map(|i| (std::f32::consts::TAU * 440.0 * i as f32 / RATE).sin())
            .collect();
        let (mut l, mut r) = (x.clone(), x.clone());
        c.process(&mut l, &mut r);
        assert_eq!(l, x);
        c.set(ChorusSettings {
            rate_hz: 1.0,
            depth_ms: 3.0,
            mix: 1.0,
        });
        let (mut l, mut r) = (x.clone(), x.clone());
        c.process(&mut l, &mut r);
        // Fully wet: the same level, but left and right swept apart (decorrelated).
        let tail = RATE as usize / 10..;
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        let (ll, rr, lr) = (
            dot(&l[tail.clone()], &l[tail.clone()]),
            dot(&r[tail.clone()], &r[tail.clone()]),
            dot(&l[tail.clone()], &r[tail.clone()]),
        );
        let dry = dot(&x[tail.clone()], &x[tail.clone()]);
        assert!((ll / dry - 1.0).abs() < 0.05, "{}", ll / dry);
        assert!(lr / (ll * rr).sqrt() < 0.9, "{}", lr / (ll * rr).sqrt());
    }
}
