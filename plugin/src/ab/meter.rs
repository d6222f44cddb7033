//! The A/B's measurements (audio thread: no allocation after [`Meter::new`]).
//!
//! - **Loudness** (ITU-R BS.1770-4): K-weighted mean square per 100 ms step, kept for the last
//!   [`WINDOW_STEPS`] steps; gated loudness over 400 ms blocks (75 % overlap) with the absolute
//!   gate at −70 LUFS and the relative gate 10 LU below, as integrated loudness is, but over a
//!   window that moves with the playhead. The mix and the original are measured on the same
//!   steps (the original read at the positions the mix is played at), so the loudness match
//!   compares like with like however short the stretch that plays (a looped intro is matched
//!   to the original's intro, not to the whole song's integrated loudness).
//! - **Width**: side over mid energy, dB, over the last 3 s.
//! - **Spectrum**: octave-band levels of the mid signal (31.5 Hz – 16 kHz) from a 4096-point
//!   FFT every 100 ms, smoothed over about 3 s; the difference is mix minus original, each
//!   normalised to its own loudness (the shape, not the level).
//!
//! [`Meters`] carries the figures to the editor lock-free: a sequence number around plain
//! atomics (a seqlock: the editor retries a snapshot torn by a write).

use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// 100 ms steps kept for the loudness window (30 s).
pub const WINDOW_STEPS: usize = 300;
/// Steps in a 400 ms gating block.
const BLOCK_STEPS: usize = 4;
/// Steps of measured blocks before the loudness match moves (3 s).
pub const MATCH_MIN_BLOCKS: usize = 30;
/// Steps the width and short-term loudness cover (3 s).
const SHORT_STEPS: usize = 30;
/// Octave bands of the spectrum meter.
pub const BANDS: usize = 10;
/// The bands' centres, Hz.
pub const BAND_HZ: [f32; BANDS] = [
    31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0,
];
const FFT: usize = 4096;
/// Mean square of −70 LUFS (the absolute gate).
const ABS_GATE: f64 = 1.1724653045822963e-7; // 10^((−70 + 0.691) / 10)

/// A biquad in transposed direct form II (f64 state: the K-weighting's high-pass sits at
/// 38 Hz, where f32 coefficients lose the response at low rates).
#[derive(Debug, Clone, Copy, Default)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    s: [f64; 2],
}

impl Biquad {
    /// Both stages of a K-weighting.
    #[inline]
    fn weigh(k: &mut [Biquad; 2], x: f64) -> f64 {
        let y = k[0].tick(x);
        k[1].tick(y)
    }

    #[inline]
    fn tick(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.s[0];
        self.s[0] = self.b[1] * x - self.a[0] * y + self.s[1];
        self.s[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// The BS.1770 K-weighting at `rate`: the head's high shelf (+4 dB above about 1.7 kHz) and
/// the RLB high-pass (38 Hz), designed for the rate by the bilinear transform.
fn k_weighting(rate: f64) -> [Biquad; 2] {
    let (f0, g, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let vh = 10f64.powf(g / 20.0);
    let vb = vh.powf(0.4996667741545416);
    let a0 = 1.0 + k / q + k * k;
    let shelf = Biquad {
        b: [
            (vh + vb * k / q + k * k) / a0,
            2.0 * (k * k - vh) / a0,
            (vh - vb * k / q + k * k) / a0,
        ],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        s: [0.0; 2],
    };
    let (f0, q) = (38.13547087602444, 0.5003270373238773);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let a0 = 1.0 + k / q + k * k;
    let high_pass = Biquad {
        b: [1.0, -2.0, 1.0],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        s: [0.0; 2],
    };
    [shelf, high_pass]
}

/// LUFS of a mean square (summed over channels).
pub fn lufs(mean_square: f64) -> f32 {
    if mean_square <= 0.0 {
        return f32::NEG_INFINITY;
    }
    (-0.691 + 10.0 * mean_square.log10()) as f32
}

/// Gated loudness of the last `steps` 100 ms mean squares of `ring` (oldest first from
/// `start`), and the number of blocks above the absolute gate.
fn gated(ring: &[f64], start: usize, steps: usize) -> (f64, usize) {
    let n = ring.len();
    let at = |i: usize| ring[(start + i) % n];
    if steps < BLOCK_STEPS {
        return (0.0, 0);
    }
    let block = |i: usize| (0..BLOCK_STEPS).map(|j| at(i + j)).sum::<f64>() / BLOCK_STEPS as f64;
    let blocks = steps - BLOCK_STEPS + 1;
    let (mut sum, mut count) = (0.0, 0usize);
    for i in 0..blocks {
        let e = block(i);
        if e > ABS_GATE {
            sum += e;
            count += 1;
        }
    }
    if count == 0 {
        return (0.0, 0);
    }
    let relative = sum / count as f64 * 0.1; // −10 LU
    let (mut s2, mut c2) = (0.0, 0usize);
    for i in 0..blocks {
        let e = block(i);
        if e > ABS_GATE && e > relative {
            s2 += e;
            c2 += 1;
        }
    }
    (if c2 > 0 { s2 / c2 as f64 } else { 0.0 }, count)
}

/// One signal's measurement.
struct Channel {
    k: [[Biquad; 2]; 2],
    /// K-weighted energy of the step so far (both channels summed).
    acc: f64,
    mid_acc: f64,
    side_acc: f64,
    /// Mean squares of the last steps.
    ring: Vec<f64>,
    mid: Vec<f64>,
    side: Vec<f64>,
    /// The last [`FFT`] mid samples.
    history: Vec<f32>,
    /// Smoothed octave-band power.
    bands: [f64; BANDS],
}

impl Channel {
    fn new(rate: f64) -> Self {
        let k = k_weighting(rate);
        Self {
            k: [k, k],
            acc: 0.0,
            mid_acc: 0.0,
            side_acc: 0.0,
            ring: vec![0.0; WINDOW_STEPS],
            mid: vec![0.0; SHORT_STEPS],
            side: vec![0.0; SHORT_STEPS],
            history: vec![0.0; FFT],
            bands: [0.0; BANDS],
        }
    }

    #[inline]
    fn push(&mut self, l: f32, r: f32, hist_at: usize) {
        let kl = Biquad::weigh(&mut self.k[0], f64::from(l));
        let kr = Biquad::weigh(&mut self.k[1], f64::from(r));
        self.acc += kl * kl + kr * kr;
        let (m, s) = (0.5 * (l + r), 0.5 * (l - r));
        self.mid_acc += f64::from(m * m);
        self.side_acc += f64::from(s * s);
        self.history[hist_at] = m;
    }
}

/// The figures the editor shows, as of the last 100 ms step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    /// Short-term (3 s) loudness of the mix and of the original as it plays (before the
    /// match), LUFS.
    pub mix_lufs: f32,
    pub original_lufs: f32,
    /// Gated loudness over the window, LUFS.
    pub mix_window_lufs: f32,
    pub original_window_lufs: f32,
    /// The gain on the original now, dB.
    pub match_db: f32,
    /// Side over mid, dB, over 3 s.
    pub mix_width_db: f32,
    pub original_width_db: f32,
    /// Octave-band shape difference, mix minus original, dB.
    pub spectrum_diff_db: [f32; BANDS],
    /// Samples of the original that were not read from disk in time (played as silence).
    pub dropouts: u32,
    /// Whether the original is what is heard (after the crossfade's midpoint).
    pub original_on: bool,
}

const FIELDS: usize = 9 + BANDS;

/// The lock-free hand-over of [`Snapshot`]s from the audio thread to the editor.
#[derive(Debug)]
pub struct Meters {
    seq: AtomicU32,
    fields: [AtomicU32; FIELDS],
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            seq: AtomicU32::new(0),
            // Levels unknown (−∞) until measured; no spectrum difference.
            fields: std::array::from_fn(|i| {
                AtomicU32::new(if i < 9 { f32::NEG_INFINITY } else { 0.0 }.to_bits())
            }),
        }
    }
}

impl Meters {
    /// Audio thread: publishes `s`.
    pub fn publish(&self, s: &Snapshot) {
        let mut v = [0f32; FIELDS];
        v[..9].copy_from_slice(&[
            s.mix_lufs,
            s.original_lufs,
            s.mix_window_lufs,
            s.original_window_lufs,
            s.match_db,
            s.mix_width_db,
            s.original_width_db,
            s.dropouts as f32,
            if s.original_on { 1.0 } else { 0.0 },
        ]);
        v[9..].copy_from_slice(&s.spectrum_diff_db);
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        for (f, x) in self.fields.iter().zip(v) {
            f.store(x.to_bits(), Ordering::Relaxed);
        }
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Editor: the last published snapshot, and how many were published (0: none yet).
    pub fn read(&self) -> (Snapshot, u32) {
        loop {
            let a = self.seq.load(Ordering::Acquire);
            if a % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let v: [f32; FIELDS] =
                std::array::from_fn(|i| f32::from_bits(self.fields[i].load(Ordering::Relaxed)));
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != a {
                continue;
            }
            let mut s = Snapshot {
                mix_lufs: v[0],
                original_lufs: v[1],
                mix_window_lufs: v[2],
                original_window_lufs: v[3],
                match_db: v[4],
                mix_width_db: v[5],
                original_width_db: v[6],
                dropouts: v[7].max(0.0) as u32,
                original_on: v[8] > 0.5,
                ..Snapshot::default()
            };
            s.spectrum_diff_db.copy_from_slice(&v[9..]);
            return (s, a / 2);
        }
    }
}

/// Measures the mix and the original side by side.
pub struct Meter {
    rate: f64,
    step: usize,
    in_step: usize,
    mix: Channel,
    original: Channel,
    /// Ring position of the next step and how many steps are filled.
    at: usize,
    filled: usize,
    short_at: usize,
    hist_at: usize,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    fft_in: Vec<f32>,
    fft_out: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    /// Each band's FFT bins, `[lo, hi)`.
    band_bins: [(usize, usize); BANDS],
    /// The loudness match as of the last step.
    matched: Option<f32>,
    /// The latest figures.
    pub snapshot: Snapshot,
}

fn db(x: f64) -> f32 {
    if x > 0.0 {
        (10.0 * x.log10()) as f32
    } else {
        f32::NEG_INFINITY
    }
}

impl Meter {
    /// A meter at `rate` (allocates: main thread).
    pub fn new(rate: f32) -> Self {
        let rate = f64::from(rate.max(1000.0));
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
        let fft_out = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        let window = (0..FFT)
            .map(|i| {
                let x = std::f32::consts::PI * 2.0 * i as f32 / FFT as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        let bin_hz = rate / FFT as f64;
        let band_bins = std::array::from_fn(|b| {
            let c = f64::from(BAND_HZ[b]);
            let lo = ((c / 2f64.sqrt()) / bin_hz).round().max(1.0) as usize;
            let hi = ((c * 2f64.sqrt()) / bin_hz).round() as usize;
            (lo.min(FFT / 2), hi.clamp(lo + 1, FFT / 2 + 1))
        });
        Self {
            rate,
            step: (rate / 10.0).round() as usize,
            in_step: 0,
            mix: Channel::new(rate),
            original: Channel::new(rate),
            at: 0,
            filled: 0,
            short_at: 0,
            hist_at: 0,
            fft,
            window,
            fft_in: vec![0.0; FFT],
            fft_out,
            scratch,
            band_bins,
            matched: None,
            snapshot: Snapshot {
                mix_lufs: f32::NEG_INFINITY,
                original_lufs: f32::NEG_INFINITY,
                mix_window_lufs: f32::NEG_INFINITY,
                original_window_lufs: f32::NEG_INFINITY,
                mix_width_db: f32::NEG_INFINITY,
                original_width_db: f32::NEG_INFINITY,
                ..Snapshot::default()
            },
        }
    }

    /// The rate it measures at.
    pub fn rate(&self) -> f32 {
        self.rate as f32
    }

    /// Forgets everything measured (a new original, a new session): no allocation.
    pub fn clear(&mut self) {
        for c in [&mut self.mix, &mut self.original] {
            for k in c.k.iter_mut().flatten() {
                k.s = [0.0; 2];
            }
            c.acc = 0.0;
            c.mid_acc = 0.0;
            c.side_acc = 0.0;
            c.ring.fill(0.0);
            c.mid.fill(0.0);
            c.side.fill(0.0);
            c.history.fill(0.0);
            c.bands = [0.0; BANDS];
        }
        self.at = 0;
        self.filled = 0;
        self.short_at = 0;
        self.in_step = 0;
        self.hist_at = 0;
        self.matched = None;
        let s = &mut self.snapshot;
        for x in [
            &mut s.mix_lufs,
            &mut s.original_lufs,
            &mut s.mix_window_lufs,
            &mut s.original_window_lufs,
            &mut s.mix_width_db,
            &mut s.original_width_db,
        ] {
            *x = f32::NEG_INFINITY;
        }
        s.spectrum_diff_db = [0.0; BANDS];
    }

    /// Measures a block of the mix and of the original at the same positions; returns true
    /// when a 100 ms step completed (the snapshot is new).
    pub fn push(&mut self, mix: [&[f32]; 2], original: [&[f32]; 2]) -> bool {
        let n = mix[0].len();
        let mut stepped = false;
        for i in 0..n {
            self.mix.push(mix[0][i], mix[1][i], self.hist_at);
            self.original
                .push(original[0][i], original[1][i], self.hist_at);
            self.hist_at = (self.hist_at + 1) % FFT;
            self.in_step += 1;
            if self.in_step == self.step {
                self.finish_step();
                stepped = true;
            }
        }
        stepped
    }

    fn finish_step(&mut self) {
        let n = self.step as f64;
        for c in [&mut self.mix, &mut self.original] {
            c.ring[self.at] = c.acc / n;
            c.mid[self.short_at] = c.mid_acc / n;
            c.side[self.short_at] = c.side_acc / n;
            c.acc = 0.0;
            c.mid_acc = 0.0;
            c.side_acc = 0.0;
        }
        self.at = (self.at + 1) % WINDOW_STEPS;
        self.short_at = (self.short_at + 1) % SHORT_STEPS;
        self.filled = (self.filled + 1).min(WINDOW_STEPS);
        self.in_step = 0;
        self.spectrum();

        let start = (self.at + WINDOW_STEPS - self.filled) % WINDOW_STEPS;
        let short = self.filled.min(SHORT_STEPS);
        let short_start = (self.at + WINDOW_STEPS - short) % WINDOW_STEPS;
        let s = &mut self.snapshot;
        let (mw, mc) = gated(&self.mix.ring, start, self.filled);
        let (ow, oc) = gated(&self.original.ring, start, self.filled);
        self.matched = (mc >= MATCH_MIN_BLOCKS && oc >= MATCH_MIN_BLOCKS && mw > 0.0 && ow > 0.0)
            .then(|| lufs(mw) - lufs(ow));
        s.mix_window_lufs = lufs(mw);
        s.original_window_lufs = lufs(ow);
        let mean = |r: &[f64]| r[..].iter().sum::<f64>() / r.len() as f64;
        let short_ms = |r: &[f64]| {
            (0..short)
                .map(|i| r[(short_start + i) % WINDOW_STEPS])
                .sum::<f64>()
                / short.max(1) as f64
        };
        s.mix_lufs = lufs(short_ms(&self.mix.ring));
        s.original_lufs = lufs(short_ms(&self.original.ring));
        s.mix_width_db = db(mean(&self.mix.side) / mean(&self.mix.mid).max(1e-30));
        s.original_width_db = db(mean(&self.original.side) / mean(&self.original.mid).max(1e-30));
        let shape = |b: &[f64; BANDS]| -> [f64; BANDS] {
            let total: f64 = b.iter().sum::<f64>().max(1e-30);
            std::array::from_fn(|i| b[i] / total)
        };
        let (m, o) = (shape(&self.mix.bands), shape(&self.original.bands));
        for (d, (m, o)) in s.spectrum_diff_db.iter_mut().zip(m.iter().zip(o.iter())) {
            *d = if *m > 1e-12 && *o > 1e-12 {
                db(m / o)
            } else {
                0.0
            };
        }
    }

    /// Octave bands of the last [`FFT`] mid samples of both signals, smoothed (3 s).
    fn spectrum(&mut self) {
        let keep = (-1.0f64 / SHORT_STEPS as f64).exp();
        for which in 0..2 {
            let c = if which == 0 {
                &mut self.mix
            } else {
                &mut self.original
            };
            for i in 0..FFT {
                self.fft_in[i] = c.history[(self.hist_at + i) % FFT] * self.window[i];
            }
            if self
                .fft
                .process_with_scratch(&mut self.fft_in, &mut self.fft_out, &mut self.scratch)
                .is_err()
            {
                return;
            }
            for (b, &(lo, hi)) in self.band_bins.iter().enumerate() {
                let p: f64 = self.fft_out[lo..hi]
                    .iter()
                    .map(|z| f64::from(z.norm_sqr()))
                    .sum();
                c.bands[b] = keep * c.bands[b] + (1.0 - keep) * p;
            }
        }
    }

    /// The loudness match: mix minus original over the window, once both have
    /// [`MATCH_MIN_BLOCKS`] blocks above the gate; `None` before. Updated every 100 ms step.
    pub fn match_db(&self) -> Option<f32> {
        self.matched
    }
}

/// Integrated loudness (BS.1770-4, gated over the whole signal) of a stereo signal at `rate`,
/// LUFS; the meter's own measure, used for a file's loudness when it is loaded.
pub fn integrated(left: &[f32], right: &[f32], rate: f32) -> f32 {
    let rate64 = f64::from(rate);
    let mut k = [k_weighting(rate64), k_weighting(rate64)];
    let step = (rate64 / 10.0).round() as usize;
    let mut steps = Vec::with_capacity(left.len() / step.max(1) + 1);
    for (l, r) in left.chunks(step).zip(right.chunks(step)) {
        if l.len() < step {
            break;
        }
        let mut acc = 0.0;
        for (&a, &b) in l.iter().zip(r) {
            let x = Biquad::weigh(&mut k[0], f64::from(a));
            let y = Biquad::weigh(&mut k[1], f64::from(b));
            acc += x * x + y * y;
        }
        steps.push(acc / step as f64);
    }
    let (e, _) = gated(&steps, 0, steps.len());
    lufs(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, amp: f32, rate: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (std::f32::consts::TAU * freq * i as f32 / rate).sin())
            .collect()
    }

    #[test]
    fn a_1khz_sine_at_minus_18_dbfs_reads_its_bs1770_loudness() {
        // BS.1770: a 0 dBFS 1 kHz sine on one channel reads −3.01 LKFS, so on both channels
        // 0 LUFS, and at −18 dBFS −18 LUFS.
        for rate in [44_100.0, 48_000.0, 96_000.0] {
            let amp = 10f32.powf(-18.0 / 20.0);
            let x = sine(1000.0, amp, rate, (rate * 10.0) as usize);
            let l = integrated(&x, &x, rate);
            assert!((l + 18.0).abs() < 0.1, "{rate}: {l} LUFS");
        }
    }

    #[test]
    fn the_window_and_the_match_follow_the_signals() {
        let rate = 48_000.0;
        let mut m = Meter::new(rate);
        let a = sine(440.0, 0.5, rate, 480);
        let b: Vec<f32> = a.iter().map(|x| x * 0.25).collect(); // −12 dB
        assert_eq!(m.match_db(), None);
        let mut steps = 0;
        for _ in 0..(rate as usize * 5 / 480) {
            if m.push([&a, &a], [&b, &b]) {
                steps += 1;
            }
        }
        assert_eq!(steps, 50);
        let d = m.match_db().expect("5 s measured");
        assert!((d - 12.04).abs() < 0.05, "match {d} dB");
        let s = m.snapshot;
        assert!((s.mix_window_lufs - s.original_window_lufs - 12.04).abs() < 0.05);
        // Mono: no side.
        assert_eq!(s.mix_width_db, f32::NEG_INFINITY);
        // Same shape at another level: no spectrum difference.
        for d in s.spectrum_diff_db {
            assert!(d.abs() < 0.01, "{:?}", s.spectrum_diff_db);
        }
    }

    #[test]
    fn the_spectrum_difference_finds_the_band_that_differs() {
        let rate = 48_000.0;
        let mut m = Meter::new(rate);
        let low = sine(125.0, 0.3, rate, 4800);
        let high = sine(4000.0, 0.3, rate, 4800);
        let mix: Vec<f32> = low.iter().zip(&high).map(|(a, b)| a + b).collect();
        let orig: Vec<f32> = low.iter().zip(&high).map(|(a, b)| a + 0.1 * b).collect();
        for _ in 0..60 {
            m.push([&mix, &mix], [&orig, &orig]);
        }
        let d = m.snapshot.spectrum_diff_db;
        let b4k = BAND_HZ.iter().position(|&f| f == 4000.0).unwrap();
        let b125 = BAND_HZ.iter().position(|&f| f == 125.0).unwrap();
        assert!(d[b4k] > 10.0 && d[b125] < 0.0, "{d:?}");
    }

    #[test]
    fn snapshots_cross_intact() {
        let meters = Meters::default();
        assert_eq!(meters.read().1, 0);
        let s = Snapshot {
            mix_lufs: -14.0,
            match_db: 1.5,
            dropouts: 7,
            original_on: true,
            spectrum_diff_db: std::array::from_fn(|i| i as f32),
            ..Snapshot::default()
        };
        meters.publish(&s);
        let (got, n) = meters.read();
        assert_eq!(n, 1);
        assert_eq!(got, s);
    }
}
