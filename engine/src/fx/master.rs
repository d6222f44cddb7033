//! The master chain the analyzer's reference mastering fits (`session.json` → `master.chain`):
//! a matching EQ on the mid and one on the side signal, a gain on the side after its EQ (the
//! width), a gain into the true-peak limiter, and a trim after it. The Console plugin plays it on the master bus; the analyzer's
//! mastering does the same steps in the same order.

use serde::{Deserialize, Serialize};

use super::eq::{Band, Eq};
use super::limiter::{Limiter, LimiterSettings};

/// The master chain's settings, as the session stores them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MasterSettings {
    /// Matching EQ on the mid signal (L+R)/2.
    pub mid_eq: Vec<Band>,
    /// Matching EQ on the side signal (L−R)/2.
    pub side_eq: Vec<Band>,
    /// Gain on the side signal after its EQ (the width against the mid), dB.
    #[serde(default)]
    pub side_gain_db: f64,
    /// Gain into the limiter, dB.
    pub gain_db: f64,
    /// Gain after the limiter, dB.
    #[serde(default)]
    pub trim_db: f64,
    /// The limiter (its own input gain is added to `gain_db`).
    pub limiter: LimiterSettings,
}

/// Block length of the mid/side scratch buffers.
const BLOCK: usize = 256;

/// The master chain's state.
#[derive(Debug, Clone, Default)]
pub struct Master {
    mid_eq: Eq,
    side_eq: Eq,
    limiter: Limiter,
    trim: f32,
    side_gain: f32,
    rate: f32,
    mid: Vec<f32>,
    side: Vec<f32>,
}

impl Master {
    /// Allocates for `rate` (main thread) and clears the state.
    pub fn allocate(&mut self, rate: f32) {
        self.rate = rate;
        self.limiter.allocate(rate);
        self.mid = vec![0.0; BLOCK];
        self.side = vec![0.0; BLOCK];
        self.reset();
    }

    /// Sets the chain (no allocation).
    pub fn set(&mut self, s: &MasterSettings) {
        self.mid_eq.set(&s.mid_eq, self.rate);
        self.side_eq.set(&s.side_eq, self.rate);
        self.limiter.set(LimiterSettings {
            input_gain_db: s.limiter.input_gain_db + s.gain_db as f32,
            ..s.limiter
        });
        self.trim = 10f32.powf(s.trim_db as f32 / 20.0);
        self.side_gain = 10f32.powf(s.side_gain_db as f32 / 20.0);
    }

    /// Samples the output lags the input (the limiter's look-ahead).
    pub fn latency(&self) -> usize {
        self.limiter.latency()
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.mid_eq.reset();
        self.side_eq.reset();
        self.limiter.reset();
    }

    /// Runs the chain over the buffers in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.mid.is_empty() {
            return;
        }
        for (l, r) in left.chunks_mut(BLOCK).zip(right.chunks_mut(BLOCK)) {
            let n = l.len();
            let (m, s) = (&mut self.mid[..n], &mut self.side[..n]);
            for i in 0..n {
                m[i] = 0.5 * (l[i] + r[i]);
                s[i] = 0.5 * (l[i] - r[i]);
            }
            self.mid_eq.process_with(&mut self.side_eq, m, s);
            if self.side_gain != 1.0 {
                s.iter_mut().for_each(|x| *x *= self.side_gain);
            }
            for i in 0..n {
                l[i] = m[i] + s[i];
                r[i] = m[i] - s[i];
            }
            self.limiter.process(l, r);
            if self.trim != 1.0 {
                for x in l.iter_mut().chain(r.iter_mut()) {
                    *x *= self.trim;
                }
            }
        }
    }
}
