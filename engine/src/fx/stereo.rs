//! Gain, saturation, stereo width and pan.
//!
//! Width scales the side signal of a mid/side split (0: mono, 1: as it was, 2: twice the
//! side). Pan is a constant-power balance: the far channel falls along a quarter-sine and the
//! near one is kept, so a centred source keeps its level. Saturation drives the tanh-like
//! [`soft_clip`] and scales back by the drive, so small signals pass at unity gain and loud ones
//! round off symmetrically (odd harmonics, no DC).

use serde::{Deserialize, Serialize};

use crate::filter::soft_clip;

/// Gain, saturation and stereo image of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StereoSettings {
    /// Gain, dB.
    #[serde(default)]
    pub gain_db: f32,
    /// Saturation drive, dB (0: clean).
    #[serde(default)]
    pub drive_db: f32,
    /// Side gain (0: mono, 1: unchanged, up to 2).
    #[serde(default = "one")]
    pub width: f32,
    /// Balance, −1 (left) … 1 (right).
    #[serde(default)]
    pub pan: f32,
}

fn one() -> f32 {
    1.0
}

impl Default for StereoSettings {
    fn default() -> Self {
        Self {
            gain_db: 0.0,
            drive_db: 0.0,
            width: 1.0,
            pan: 0.0,
        }
    }
}

/// Gain, saturation, width and pan (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stereo {
    settings: StereoSettings,
    gain: f32,
    drive: f32,
    pan: (f32, f32),
}

impl Stereo {
    /// Sets the stage.
    pub fn set(&mut self, s: StereoSettings) {
        self.settings = s;
        self.gain = 10f32.powf(s.gain_db / 20.0);
        self.drive = 10f32.powf(s.drive_db.max(0.0) / 20.0);
        let p = s.pan.clamp(-1.0, 1.0);
        // The far side along a quarter sine, the near side kept.
        let far = (std::f32::consts::FRAC_PI_2 * (1.0 - p.abs())).sin();
        self.pan = if p >= 0.0 { (far, 1.0) } else { (1.0, far) };
    }

    /// Processes the buffers in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let s = self.settings;
        let half_width = 0.5 * s.width.clamp(0.0, 2.0);
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let (mut a, mut b) = (*l * self.gain, *r * self.gain);
            if s.drive_db > 0.0 {
                a = soft_clip(a * self.drive) / self.drive;
                b = soft_clip(b * self.drive) / self.drive;
            }
            if s.width != 1.0 {
                let (m, side) = (0.5 * (a + b), half_width * (a - b));
                (a, b) = (m + side, m - side);
            }
            *l = a * self.pan.0;
            *r = b * self.pan.1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn width_scales_the_side_and_pan_keeps_the_near_side() {
        let l: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin()).collect();
        let r: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.013).sin()).collect();
        let side = |a: &[f32], b: &[f32]| {
            let s: Vec<f32> = a.iter().zip(b).map(|(x, y)| 0.5 * (x - y)).collect();
            rms(&s)
        };
        for width in [0.0f32, 0.5, 1.5] {
            let mut st = Stereo::default();
            st.set(StereoSettings {
                width,
                ..Default::default()
            });
            let (mut a, mut b) = (l.clone(), r.clone());
            st.process(&mut a, &mut b);
            assert!(
                (side(&a, &b) - width * side(&l, &r)).abs() < 1e-4,
                "{width}"
            );
        }
        let mut st = Stereo::default();
        st.set(StereoSettings {
            pan: 0.5,
            gain_db: -6.0,
            ..Default::default()
        });
        let (mut a, mut b) = (l.clone(), l.clone());
        st.process(&mut a, &mut b);
        let g = 10f32.powf(-6.0 / 20.0);
        assert!((rms(&b) - g * rms(&l)).abs() < 1e-5);
        assert!((rms(&a) - g * (std::f32::consts::FRAC_PI_4).sin() * rms(&l)).abs() < 1e-5);
    }

    #[test]
    fn saturation_is_clean_when_quiet_and_odd_when_loud() {
        let mut st = Stereo::default();
        st.set(StereoSettings {
            drive_db: 12.0,
            ..Default::default()
        });
        let n = 4800;
        let tone = |amp: f32| -> Vec<f32> {
            (0..n)
                .map(|i| amp * (std::f32::consts::TAU * 10.0 * i as f32 / n as f32).sin())
                .collect()
        };
        // Harmonic k's amplitude by correlation (the tone has 10 cycles in the buffer).
        let harmonic = |x: &[f32], k: f32| {
            let (mut c, mut s) = (0.0f32, 0.0f32);
            for (i, v) in x.iter().enumerate() {
                let a = std::f32::consts::TAU * 10.0 * k * i as f32 / n as f32;
                c += v * a.cos();
                s += v * a.sin();
            }
            2.0 * (c * c + s * s).sqrt() / n as f32
        };
        let quiet = tone(0.001);
        let (mut a, mut b) = (quiet.clone(), quiet.clone());
        st.process(&mut a, &mut b);
        assert!((harmonic(&a, 1.0) / 0.001 - 1.0).abs() < 1e-3);
        let loud = tone(0.8);
        let (mut a, mut b) = (loud.clone(), loud.clone());
        st.process(&mut a, &mut b);
        let h1 = harmonic(&a, 1.0);
        assert!(harmonic(&a, 3.0) > 0.05 * h1, "third harmonic");
        assert!(harmonic(&a, 2.0) < 1e-4 * h1, "even harmonic");
        assert!(a.iter().sum::<f32>().abs() / (n as f32) < 1e-5, "DC");
    }
}
