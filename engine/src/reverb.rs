//! A small algorithmic reverb: pre-delay, then an eight-line feedback delay network
//! (Jot's design) with a Householder mixing matrix and one-pole damping in each loop.
//!
//! Each line's loop gain makes its decay reach −60 dB in the set RT60 (Jot and Chaigne 1991:
//! g = 10^(−3·length / (RT60·rate))); damping rolls off the highs inside the loops, so they die
//! sooner, as in rooms. The two outputs take the lines with different signs, which decorrelates
//! them. Allocates in [`Reverb::allocate`] only.

/// Delay line lengths, milliseconds (mutually prime at common rates; 30–70 ms).
const LINES_MS: [f32; 8] = [29.7, 37.1, 41.1, 43.7, 47.3, 53.9, 59.3, 67.1];
/// Longest pre-delay, milliseconds.
pub const MAX_PREDELAY_MS: f32 = 200.0;
/// Output signs per line, left and right.
const OUT_L: [f32; 8] = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
const OUT_R: [f32; 8] = [1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0];

/// The settings a patch gives the reverb.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReverbSettings {
    /// Decay to −60 dB, seconds.
    pub rt60_s: f32,
    /// Delay before the reverb, milliseconds.
    pub predelay_ms: f32,
    /// Corner of the damping low-pass in the loops, Hz (20 kHz and above: none).
    pub damp_hz: f32,
}

/// The reverb's state.
#[derive(Debug, Clone, Default)]
pub struct Reverb {
    rate: f32,
    pre: Vec<f32>,
    pre_pos: usize,
    pre_len: usize,
    lines: [Vec<f32>; 8],
    pos: [usize; 8],
    gain: [f32; 8],
    lp: [f32; 8],
    damp: f32,
    settings: Option<ReverbSettings>,
}

impl Reverb {
    /// Allocates the delay lines for `rate` (main thread) and clears them.
    pub fn allocate(&mut self, rate: f32) {
        self.rate = rate;
        self.pre = vec![0.0; (MAX_PREDELAY_MS * 1e-3 * rate).ceil() as usize + 1];
        for (line, ms) in self.lines.iter_mut().zip(LINES_MS) {
            *line = vec![0.0; ((ms * 1e-3 * rate).round() as usize).max(1)];
        }
        self.settings = None;
        self.reset();
    }

    /// Clears the tails.
    pub fn reset(&mut self) {
        self.pre.fill(0.0);
        for l in self.lines.iter_mut() {
            l.fill(0.0);
        }
        self.pos = [0; 8];
        self.pre_pos = 0;
        self.lp = [0.0; 8];
    }

    /// Sets decay, pre-delay and damping (recomputed only when they change).
    pub fn set(&mut self, s: ReverbSettings) {
        if self.settings == Some(s) || self.rate <= 0.0 {
            return;
        }
        self.settings = Some(s);
        let rt60 = s.rt60_s.max(0.01);
        for (g, line) in self.gain.iter_mut().zip(&self.lines) {
            *g = 10f32.powf(-3.0 * line.len() as f32 / (rt60 * self.rate));
        }
        // 20 kHz (the top of the parameter's range) means no damping.
        self.damp = if s.damp_hz >= 20_000.0 {
            0.0
        } else {
            (-std::f32::consts::TAU * s.damp_hz.min(0.45 * self.rate) / self.rate).exp()
        };
        self.pre_len = ((s.predelay_ms.clamp(0.0, MAX_PREDELAY_MS) * 1e-3 * self.rate).round()
            as usize)
            .min(self.pre.len() - 1);
    }

    /// Adds `level` × the reverb of the buffers' mono sum to them.
    pub fn process(&mut self, level: f32, left: &mut [f32], right: &mut [f32]) {
        if self.pre.is_empty() {
            return;
        }
        let n = self.pre.len();
        let scale = level * (1.0 / 8f32.sqrt());
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let input = 0.5 * (*l + *r);
            // Pre-delay: a circular buffer read `pre_len` samples back.
            self.pre[self.pre_pos] = input;
            let read = if self.pre_pos >= self.pre_len {
                self.pre_pos - self.pre_len
            } else {
                self.pre_pos + n - self.pre_len
            };
            let x = self.pre[read];
            self.pre_pos += 1;
            if self.pre_pos == n {
                self.pre_pos = 0;
            }

            let mut v = [0.0f32; 8];
            for (((v, line), (pos, lp)), g) in v
                .iter_mut()
                .zip(&self.lines)
                .zip(self.pos.iter().zip(self.lp.iter_mut()))
                .zip(&self.gain)
            {
                let y = line[*pos];
                *lp = y + (*lp - y) * self.damp;
                *v = *lp * g;
            }
            let (mut out_l, mut out_r) = (0.0, 0.0);
            for ((v, a), b) in v.iter().zip(OUT_L).zip(OUT_R) {
                out_l += a * v;
                out_r += b * v;
            }
            // Householder: v − (2/N)·Σv, plus the input into every line.
            let s = 0.25 * v.iter().sum::<f32>();
            for ((line, pos), v) in self.lines.iter_mut().zip(self.pos.iter_mut()).zip(v) {
                line[*pos] = v - s + x;
                *pos += 1;
                if *pos == line.len() {
                    *pos = 0;
                }
            }
            *l += scale * out_l;
            *r += scale * out_r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Level, dB, of `x` over each 50 ms.
    fn envelope(x: &[f32], rate: f32) -> Vec<f32> {
        let hop = (0.05 * rate) as usize;
        x.chunks(hop)
            .map(|c| {
                let e = c.iter().map(|v| v * v).sum::<f32>() / c.len() as f32;
                10.0 * (e + 1e-30).log10()
            })
            .collect()
    }

    #[test]
    fn an_impulse_decays_by_60_db_in_the_rt60_and_waits_for_the_predelay() {
        let rate = 48_000.0;
        for rt60 in [0.5f32, 1.2, 3.0] {
            let mut rv = Reverb::default();
            rv.allocate(rate);
            rv.set(ReverbSettings {
                rt60_s: rt60,
                predelay_ms: 20.0,
                damp_hz: 20_000.0,
            });
            let n = (rt60 * 2.0 * rate) as usize;
            let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
            l[0] = 1.0;
            r[0] = 1.0;
            rv.process(1.0, &mut l, &mut r);
            // Nothing of the reverb before the pre-delay and the shortest line.
            let first = l[1..].iter().position(|x| x.abs() > 1e-9).unwrap() + 1;
            let expect = (0.020 * rate) as usize + (LINES_MS[0] * 1e-3 * rate).round() as usize;
            assert!(first.abs_diff(expect) <= 1, "{first} vs {expect}");
            // The decay rate, fitted between −5 and −35 dB of the envelope's start.
            let env = envelope(&r, rate);
            let top = env[2];
            let a = env.iter().position(|e| *e < top - 5.0).unwrap();
            let b = env.iter().position(|e| *e < top - 35.0).unwrap();
            let slope = (env[b] - env[a]) / ((b - a) as f32 * 0.05);
            let measured = -60.0 / slope;
            assert!(
                (measured / rt60 - 1.0).abs() < 0.15,
                "RT60 {rt60}: measured {measured:.2} s"
            );
            // The two sides differ (decorrelated).
            assert!(l
                .iter()
                .zip(&r)
                .skip(first)
                .any(|(a, b)| (a - b).abs() > 1e-4));
        }
    }

    #[test]
    fn damping_shortens_the_high_frequencies() {
        let rate = 48_000.0;
        let tail = |damp_hz: f32| {
            let mut rv = Reverb::default();
            rv.allocate(rate);
            rv.set(ReverbSettings {
                rt60_s: 2.0,
                predelay_ms: 0.0,
                damp_hz,
            });
            let n = rate as usize;
            let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
            l[0] = 1.0;
            rv.process(1.0, &mut l, &mut r);
            l[n / 2..].iter().map(|x| x * x).sum::<f32>()
        };
        assert!(tail(2_000.0) < 0.5 * tail(20_000.0));
    }
}
