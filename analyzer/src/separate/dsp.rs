//! The embedded separator: soft time-frequency masks, no model.
//!
//! On the STFT of the mix (windows of ≈ 0.19 s — 8192 samples at 44.1 or 48 kHz — 75 % overlap, square-root Hann for analysis and
//! synthesis, so unmasked frames reconstruct exactly):
//! 1. **Harmonic/percussive split** by median filtering (D. Fitzgerald, "Harmonic/percussive
//!    separation using median filtering", DAFx 2010): the median over ±8 frames is the
//!    harmonic estimate, the median over ±8 bins the percussive one.
//! 2. **Bass**: a comb on the bass line's partials up to 350 Hz, plus the harmonic energy
//!    below 100 Hz fading out by 160 Hz, also where the guide shows no bass note (the bass is
//!    nearly always what sounds there, and the guide misses some of its notes).
//!    The line comes from notes found on the centre of the stereo image ([`centre_mono`]: its
//!    lowest line below G3); each frame's f0 is refined within ±70 cents on the spectrum
//!    itself, so bends and vibrato are followed. On a sounding bass note's partials below
//!    300 Hz the bass keeps its attack too, which the harmonic/percussive split would hand to
//!    the drums. On each partial the bass takes at most what its own sound predicts
//!    ([`PartialModel`]: its spectral envelope over the song × its level in the frame), so a
//!    chord tone or a pad landing on a bass partial stays with its part.
//! 3. **Vocals / lead**: a comb (teeth 3 % of the partial's frequency wide) on the lead line's
//!    partials up to 10 kHz, weighted by a centre-channel prior (√(1 − |L − R| / (|L| + |R|))
//!    per bin). The line is chosen among the centre signal's notes from G3 up by the magnitude on
//!    their partials weighted by that prior (notes mostly off-centre are not candidates), then
//!    refined per frame like the bass: lead vocals sit in the middle of the stereo image.
//! 4. **Other**: the remaining harmonic energy.
//!
//! Each stem's magnitude estimate `Eₛ` (each a share of the bin's magnitude) becomes a soft
//! mask `Eₛ / Σ E`, read as the stem's share of the bin's power. A multichannel Wiener filter
//! ([`Spatial`]) then draws the stems from the stereo mix with those shares and each stem's
//! place in the stereo image, learnt per bin over the song; `other` takes the remainder, so
//! the stems add back up to the mix. Above 11 kHz, where the estimates are not formed, each
//! stem keeps its mean mask over 8–11 kHz for that frame.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::{Audio, Guide, SeparateError, Separator, StemSink};
use crate::transcribe::Note;

/// Stems of the DSP separator, in order.
pub const STEMS: [&str; 4] = ["drums", "bass", "vocals", "other"];
const DRUMS: usize = 0;
const BASS: usize = 1;
const VOCALS: usize = 2;
const OTHER: usize = 3;
/// Half-length of the HPSS median filters (frames, bins).
const MEDIAN_HALF: usize = 8;
/// The bass comb stops here, Hz: above it the partials of other parts outweigh the bass's.
const BASS_TOP_HZ: f32 = 350.0;
/// Harmonic energy below this goes to the bass, fading out by 1.6 times it, Hz.
const BASS_FULL_HZ: f32 = 100.0;
/// Below this no instrument plays a pitch, Hz: DC offsets and infrasound (a sample's DC,
/// rumble, a filter's drift) stay in `other`, the residual, instead of joining the bass's
/// low band.
const SUBSONIC_HZ: f32 = 20.0;
/// Width (σ) of a bass comb tooth, relative to the partial's frequency (≈ a sixth of a
/// semitone): the bass's partials are steady and dense, so narrow teeth leave the rest alone.
const BASS_COMB_REL: f32 = 0.01;
/// Width of a lead comb tooth (≈ half a semitone): a voice's partials spread with vibrato,
/// breath and the formant synthesis, and the upper partials of a moving f0 smear within a frame.
const LEAD_COMB_REL: f32 = 0.03;
/// Highest frequency the masks are estimated at, Hz.
const MASK_TOP_HZ: f64 = 11_000.0;

/// The embedded soft-mask separator.
#[derive(Debug, Default)]
pub struct DspSeparator;

struct Stft {
    n: usize,
    hop: usize,
    window: Vec<f32>,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
}

impl Stft {
    fn new(rate: u32) -> Self {
        let n = ((rate as f64 * 0.093) as usize).next_power_of_two();
        let mut planner = RealFftPlanner::<f32>::new();
        let window = (0..n)
            .map(|i| {
                let x = std::f64::consts::PI * 2.0 * i as f64 / n as f64;
                (0.5 - 0.5 * x.cos()).sqrt() as f32
            })
            .collect();
        Self {
            n,
            hop: n / 4,
            window,
            fwd: planner.plan_fft_forward(n),
            inv: planner.plan_fft_inverse(n),
        }
    }

    /// Frames so that every sample lies under four windows: frame `j` starts at
    /// `(j − 3)·hop`.
    fn frames(&self, len: usize) -> usize {
        (len + self.n - self.hop) / self.hop + 1
    }

    /// First sample of frame `j` (negative before the signal).
    fn start(&self, j: usize) -> isize {
        (j * self.hop) as isize - (self.n - self.hop) as isize
    }

    /// Spectrum of channel `ch` (0, 1; 2 = mid) at frame `j`.
    fn analyse(&self, audio: &[f32], ch: usize, j: usize, buf: &mut [f32], out: &mut [Complex32]) {
        let frames = audio.len() / 2;
        let start = self.start(j);
        for (i, (x, &w)) in buf.iter_mut().zip(&self.window).enumerate() {
            let idx = start + i as isize;
            *x = if idx >= 0 && (idx as usize) < frames {
                let f = idx as usize * 2;
                let v = match ch {
                    0 => audio[f],
                    1 => audio[f + 1],
                    _ => 0.5 * (audio[f] + audio[f + 1]),
                };
                v * w
            } else {
                0.0
            };
        }
        let _ = self.fwd.process(buf, out);
    }
}

/// The centre of the stereo image as a mono signal: each bin of the mid signal `(L+R)/2`
/// weighted by the centre prior `(1 − |L − R| / (|L| + |R|))^4`, so that sources panned away from
/// the middle fall back (a source panned 25 % off-centre by about 10 dB more than one in the
/// middle). Lead vocals and bass live there; the guide lines are transcribed from it.
pub fn centre_mono(audio: &Audio) -> Vec<f32> {
    let stft = Stft::new(audio.rate);
    let (n, hop) = (stft.n, stft.hop);
    let len = audio.frames();
    let frames = stft.frames(len);
    // Frames are split among the workers; each overlap-adds into its own span of the output,
    // and the spans' overlapping edges (one window less a hop) are summed afterwards.
    let workers = crate::spectrum::workers().min(frames.max(1));
    let per = frames.div_ceil(workers).max(1);
    let parts: Vec<(isize, Vec<f32>)> = std::thread::scope(|scope| {
        let stft = &stft;
        let handles: Vec<_> = (0..frames)
            .step_by(per)
            .map(|j0| {
                scope.spawn(move || {
                    let j1 = (j0 + per).min(frames);
                    let bins = n / 2 + 1;
                    let base = stft.start(j0);
                    let mut out = vec![0.0f32; (j1 - j0 - 1) * hop + n];
                    let mut buf = vec![0.0f32; n];
                    let mut l = vec![Complex32::default(); bins];
                    let mut r = vec![Complex32::default(); bins];
                    let mut y = vec![Complex32::default(); bins];
                    let mut time = vec![0.0f32; n];
                    let g = 1.0 / (n as f32 * 2.0);
                    for j in j0..j1 {
                        stft.analyse(&audio.samples, 0, j, &mut buf, &mut l);
                        stft.analyse(&audio.samples, 1, j, &mut buf, &mut r);
                        for k in 0..bins {
                            let side = (l[k] - r[k]).norm() * 0.5;
                            let level = 0.5 * (l[k].norm() + r[k].norm());
                            let c = (1.0 - side / level.max(1e-12)).clamp(0.0, 1.0);
                            y[k] = (l[k] + r[k]) * (0.5 * c.powi(4));
                        }
                        y[0].im = 0.0;
                        y[bins - 1].im = 0.0;
                        let _ = stft.inv.process(&mut y, &mut time);
                        let at = (j - j0) * hop;
                        for ((o, &x), &w) in out[at..at + n].iter_mut().zip(&time).zip(&stft.window)
                        {
                            *o += x * w * g;
                        }
                    }
                    (base, out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = vec![0.0f32; len];
    for (base, part) in parts {
        for (i, x) in part.into_iter().enumerate() {
            let idx = base + i as isize;
            if idx >= 0 && (idx as usize) < len {
                out[idx as usize] += x;
            }
        }
    }
    out
}

/// Per-frame f0 (Hz; 0 when silent) of a line of notes, pitch bends followed; frame `j` is
/// centred at `j·frame_s + t0` seconds.
fn line_f0(notes: &[Note], frames: usize, frame_s: f64, t0: f64) -> Vec<f32> {
    let mut f0 = vec![0.0f32; frames];
    for n in notes {
        let a = ((n.start_s - t0) / frame_s).round().max(0.0) as usize;
        let z = (((n.end_s - t0) / frame_s).round().max(0.0) as usize).min(frames);
        for (t, slot) in f0.iter_mut().enumerate().take(z).skip(a) {
            let bend = if n.bend.is_empty() {
                0.0
            } else {
                let pos = (t - a) as f64 / (z - a).max(1) as f64 * (n.bend.len() - 1) as f64;
                n.bend[(pos.round() as usize).min(n.bend.len() - 1)] as f64
            };
            *slot = (440.0 * 2f64.powf((n.pitch as f64 + bend - 69.0) / 12.0)) as f32;
        }
    }
    f0
}

/// Comb weight at frequency `f` for partials of `f0` up to `top` Hz; each tooth a Gaussian of
/// `rel` × the partial's frequency (at least 3/4 of a bin).
fn comb(f: f32, f0: f32, top: f32, bin_hz: f32, rel: f32) -> f32 {
    if f0 <= 0.0 || f > top + f0 {
        return 0.0;
    }
    let h = (f / f0).round().max(1.0);
    if h * f0 > top {
        return 0.0;
    }
    let sigma = (rel * h * f0).max(0.75 * bin_hz);
    let d = (f - h * f0) / sigma;
    (-0.5 * d * d).exp()
}

/// The f0 within ±70 cents of `guess` (10-cent steps) whose partials up to `top` Hz collect
/// the most magnitude in `row` (a frame's spectrum, bins of `bin_hz`): the guide notes give the
/// semitone, the frame gives the exact pitch, vibrato and bends included.
fn refine_f0(row: &[f32], guess: f32, top: f32, bin_hz: f32) -> f32 {
    if guess <= 0.0 {
        return 0.0;
    }
    let at = |f: f32| -> f32 {
        let x = f / bin_hz;
        let k = x.floor() as usize;
        if k + 1 >= row.len() {
            return 0.0;
        }
        let a = x - k as f32;
        row[k] * (1.0 - a) + row[k + 1] * a
    };
    let mut best = (guess, f32::MIN);
    for c in -7..=7 {
        let f0 = guess * 2f32.powf(c as f32 * 10.0 / 1200.0);
        let mut score = 0.0;
        let mut h = 1.0;
        while h * f0 <= top {
            score += at(h * f0) / h.sqrt();
            h += 1.0;
        }
        if score > best.1 {
            best = (f0, score);
        }
    }
    best.0
}

/// The lead line as the notes sounding in the centre of the stereo image: each candidate note
/// is scored by the magnitude on its partials (up to 5 kHz) weighted by the centre prior
/// squared, notes whose partials sit mostly off-centre (centre share below one half) are
/// dropped, and the strongest notes make one line (see [`crate::transcribe::monophonic`]).
fn centre_line(
    candidates: &[Note],
    mag: &[f32],
    centre: &[f32],
    kmax: usize,
    bin_hz: f32,
    frame_s: f64,
    t0: f64,
) -> Vec<Note> {
    let frames = mag.len() / kmax.max(1);
    let mut scored: Vec<(Note, f64)> = Vec::new();
    for n in candidates {
        let a = (((n.start_s - t0) / frame_s).round().max(0.0) as usize).min(frames);
        let z = (((n.end_s - t0) / frame_s).round().max(0.0) as usize).min(frames);
        let f0 = 440.0 * 2f32.powf((n.pitch as f32 - 69.0) / 12.0);
        let (mut centred, mut all) = (0.0f64, 0.0f64);
        for t in a..z {
            let mut h = 1.0;
            while h * f0 <= 5000.0 {
                let k = (h * f0 / bin_hz).round() as usize;
                if k >= kmax {
                    break;
                }
                let i = t * kmax + k;
                let c = centre[i] as f64;
                all += mag[i] as f64;
                centred += mag[i] as f64 * c * c;
                h += 1.0;
            }
        }
        if all <= 0.0 || centred / all < 0.5 {
            continue;
        }
        scored.push((n.clone(), centred));
    }
    let top = scored.iter().map(|s| s.1).fold(0.0f64, f64::max);
    if top <= 0.0 {
        return Vec::new();
    }
    let notes: Vec<Note> = scored
        .into_iter()
        .map(|(mut n, s)| {
            // The line keeps the strongest notes: velocity carries the score.
            let per_s = s / (n.end_s - n.start_s).max(1e-3);
            n.velocity = (127.0 * (per_s / top).sqrt()).clamp(1.0, 127.0) as u8;
            n
        })
        .collect();
    crate::transcribe::monophonic(notes, 0.06)
}

/// Log-frequency bands of a [`PartialModel`] per octave.
const MODEL_BANDS_PER_OCT: f32 = 6.0;
/// Lowest frequency of the model's bands, Hz.
const MODEL_LO_HZ: f32 = 20.0;

/// The quantile of a band's partial-to-level ratios taken as the line's envelope: below the
/// median, since another part on the same partial only raises the ratio.
const MODEL_QUANTILE: f32 = 0.3;
/// A band needs this many measured partials for an envelope value; with fewer the line is
/// taken to have nothing there.
const MODEL_MIN_PARTIALS: usize = 8;
/// A bass frame's level is read on its partials below this, Hz, where the bass dominates.
const BASS_LEVEL_TOP_HZ: f32 = 200.0;

/// A line's sound as one spectral envelope over the song: each partial's magnitude relative to
/// the line's level in its frame, per sixth of an octave (the filters and bodies that shape a
/// part's timbre are fixed in frequency, not in partial number). Measured where the line sounds;
/// other parts only add to a partial's magnitude, so a low quantile of the ratios is taken.
/// Partials are read within the bass comb's tooth width.
struct PartialModel {
    /// Relative magnitude per band.
    envelope: Vec<f32>,
    /// The line's level per frame (0 where it rests).
    level: Vec<f32>,
}

fn model_band(f: f32) -> usize {
    ((f.max(MODEL_LO_HZ) / MODEL_LO_HZ).log2() * MODEL_BANDS_PER_OCT) as usize
}

/// Peak magnitude within `half` bins of frequency `f`.
fn partial_mag(row: &[f32], f: f32, bin_hz: f32, half: usize) -> f32 {
    let k = (f / bin_hz).round() as usize;
    if k >= row.len() {
        return 0.0;
    }
    row[k.saturating_sub(half)..(k + half + 1).min(row.len())]
        .iter()
        .fold(0.0f32, |a, &b| a.max(b))
}

impl PartialModel {
    /// Fits the envelope of the line `f0` (Hz per frame, 0 = rest) on `mag` (frames × `kmax`)
    /// for partials up to `top` Hz; the level of a frame comes from its partials below
    /// `level_top` Hz (where the line dominates).
    fn fit(mag: &[f32], kmax: usize, f0: &[f32], bin_hz: f32, top: f32, level_top: f32) -> Self {
        let nb = model_band(top) + 1;
        let frames = f0.len();
        let mut level = vec![0.0f32; frames];
        let mut envelope = vec![1.0f32; nb];
        let mut ratios: Vec<Vec<f32>> = vec![Vec::new(); nb];
        let mut parts: Vec<(usize, f32)> = Vec::new();
        for pass in 0..3 {
            ratios.iter_mut().for_each(Vec::clear);
            for t in 0..frames {
                let f = f0[t];
                if f <= 0.0 {
                    continue;
                }
                let row = &mag[t * kmax..(t + 1) * kmax];
                let half = |fh: f32| ((BASS_COMB_REL * fh / bin_hz).ceil() as usize).max(1);
                // The level: on the first pass the strongest low partial, after that the
                // median over the low partials of magnitude / envelope.
                parts.clear();
                let mut h = 1.0;
                while h * f <= level_top {
                    let fh = h * f;
                    parts.push((model_band(fh), partial_mag(row, fh, bin_hz, half(fh))));
                    h += 1.0;
                }
                if parts.is_empty() {
                    continue;
                }
                level[t] = if pass == 0 {
                    parts.iter().fold(0.0f32, |a, p| a.max(p.1))
                } else {
                    let mut v: Vec<f32> = parts
                        .iter()
                        .filter(|&&(b, _)| envelope[b] > 0.0)
                        .map(|&(b, m)| m / envelope[b])
                        .collect();
                    if v.is_empty() {
                        0.0
                    } else {
                        median(&mut v)
                    }
                };
                if level[t] <= 0.0 {
                    continue;
                }
                let mut h = 1.0;
                while h * f <= top {
                    let fh = h * f;
                    ratios[model_band(fh)].push(partial_mag(row, fh, bin_hz, half(fh)) / level[t]);
                    h += 1.0;
                }
            }
            for (e, r) in envelope.iter_mut().zip(ratios.iter_mut()) {
                *e = if r.len() < MODEL_MIN_PARTIALS {
                    0.0
                } else {
                    let i = ((r.len() - 1) as f32 * MODEL_QUANTILE) as usize;
                    *r.select_nth_unstable_by(i, f32::total_cmp).1
                };
            }
        }
        Self { envelope, level }
    }

    /// The line's expected magnitude on its partial nearest `f` in frame `t`.
    fn expected(&self, t: usize, f: f32) -> f32 {
        let b = model_band(f);
        if b >= self.envelope.len() {
            return 0.0;
        }
        self.level[t] * self.envelope[b]
    }
}

/// A stem's spatial covariance at a bin is averaged over the frames with weight mask^this:
/// it is read where the stem dominates, not where other parts fill the bin.
const SPATIAL_WEIGHT_POW: i32 = 4;

/// Where each stem sits in the stereo image, per bin: its 2 × 2 spatial covariance over the
/// song (level in each channel and their coherence, so pan, width and phase). The stems are
/// then drawn from the stereo mix by a multichannel Wiener filter (as in A. Liutkus et al.,
/// "Gaussian processes for underdetermined source separation", 2011, and the `norbert`
/// post-filter of Open-Unmix): with the masks read as each stem's share of the bin's power
/// `v_s`, stem `s` is `v_s R_s (Σ v R)⁻¹ x`. Where all stems sit alike this is the plain mask;
/// where they sit apart (a centred voice over wide pads, a panned guitar) the stereo image
/// separates them too.
struct Spatial {
    /// Per bin, per stem: r11, r22, Re r12, Im r12 (normalised so that r11 + r22 = 2).
    r: Vec<[[f32; 4]; 4]>,
}

impl Spatial {
    fn fit(stft: &Stft, audio: &Audio, masks: &[[u16; 4]], kmax: usize) -> Self {
        let n = stft.n;
        let bins = n / 2 + 1;
        let frames = masks.len() / kmax;
        let mut acc = vec![[[0.0f64; 4]; 4]; kmax];
        let mut wsum = vec![[0.0f64; 4]; kmax];
        let mut buf = vec![0.0f32; n];
        let mut l = vec![Complex32::default(); bins];
        let mut r = vec![Complex32::default(); bins];
        for j in 0..frames {
            stft.analyse(&audio.samples, 0, j, &mut buf, &mut l);
            stft.analyse(&audio.samples, 1, j, &mut buf, &mut r);
            for k in 0..kmax {
                let m = masks[j * kmax + k];
                let (a, b) = (l[k], r[k]);
                let p = a.norm_sqr() + b.norm_sqr();
                if p <= 1e-20 {
                    continue;
                }
                let c = a * b.conj();
                for s in 0..4 {
                    let w = (m[s] as f64 / 65535.0).powi(SPATIAL_WEIGHT_POW);
                    acc[k][s][0] += w * a.norm_sqr() as f64;
                    acc[k][s][1] += w * b.norm_sqr() as f64;
                    acc[k][s][2] += w * c.re as f64;
                    acc[k][s][3] += w * c.im as f64;
                    wsum[k][s] += w * p as f64 * 0.5;
                }
            }
        }
        let r = acc
            .iter()
            .zip(&wsum)
            .map(|(a, w)| {
                let mut out = [[1.0f32, 1.0, 0.0, 0.0]; 4];
                for s in 0..4 {
                    if w[s] > 0.0 {
                        let x = a[s].map(|v| (v / w[s]) as f32);
                        out[s] = x;
                    }
                }
                out
            })
            .collect();
        Self { r }
    }

    /// The four stems' left and right spectra at bin `k`: `v_s R_s (Σ v R)⁻¹ x`, `other`
    /// taking the remainder so the stems add up to the mix exactly.
    fn filter(&self, k: usize, m: &[u16; 4], a: Complex32, b: Complex32) -> [Complex32; 8] {
        let p = 0.5 * (a.norm_sqr() + b.norm_sqr());
        let mut out = [Complex32::default(); 8];
        if p <= 1e-20 {
            return out;
        }
        let r = &self.r[k];
        let v: [f32; 4] = std::array::from_fn(|s| m[s] as f32 / 65535.0 * p);
        let eps = 1e-4 * p;
        let (mut c11, mut c22, mut c12) = (eps, eps, Complex32::default());
        for s in 0..4 {
            c11 += v[s] * r[s][0];
            c22 += v[s] * r[s][1];
            c12 += Complex32::new(r[s][2], r[s][3]) * v[s];
        }
        let det = c11 * c22 - c12.norm_sqr();
        if det <= 1e-30 {
            for s in 0..4 {
                let g = m[s] as f32 / 65535.0;
                out[2 * s] = a * g;
                out[2 * s + 1] = b * g;
            }
            return out;
        }
        // z = C⁻¹ x
        let z1 = (a * c22 - c12 * b) / det;
        let z2 = (b * c11 - c12.conj() * a) / det;
        let (mut sa, mut sb) = (Complex32::default(), Complex32::default());
        for s in 0..3 {
            let r12 = Complex32::new(r[s][2], r[s][3]);
            let y1 = (z1 * r[s][0] + r12 * z2) * v[s];
            let y2 = (r12.conj() * z1 + z2 * r[s][1]) * v[s];
            out[2 * s] = y1;
            out[2 * s + 1] = y2;
            sa += y1;
            sb += y2;
        }
        out[6] = a - sa;
        out[7] = b - sb;
        out
    }
}

fn median(v: &mut [f32]) -> f32 {
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f32::total_cmp).1
}

impl Separator for DspSeparator {
    fn name(&self) -> &str {
        "dsp"
    }

    fn device(&self) -> &str {
        "cpu"
    }

    fn stems(&self) -> Vec<String> {
        STEMS.iter().map(|s| s.to_string()).collect()
    }

    fn separate(
        &mut self,
        audio: &Audio,
        guide: &Guide,
        sink: &mut dyn StemSink,
        progress: &mut dyn FnMut(f64),
    ) -> Result<(), SeparateError> {
        let stft = Stft::new(audio.rate);
        let (n, hop) = (stft.n, stft.hop);
        let bins = n / 2 + 1;
        let bin_hz = audio.rate as f32 / n as f32;
        let kmax = ((MASK_TOP_HZ / bin_hz as f64) as usize).min(bins);
        let frames = stft.frames(audio.frames());
        let frame_s = hop as f64 / audio.rate as f64;

        // Pass 1: mid magnitude and centre-ness below the mask ceiling.
        let workers = crate::spectrum::workers();
        let per = frames.div_ceil(workers).max(1);
        let mut mag = vec![0.0f32; frames * kmax];
        let mut centre = vec![0.0f32; frames * kmax];
        std::thread::scope(|s| {
            for (chunk, (m_out, c_out)) in mag
                .chunks_mut(per * kmax)
                .zip(centre.chunks_mut(per * kmax))
                .enumerate()
            {
                let stft = &stft;
                let samples = &audio.samples;
                s.spawn(move || {
                    let mut buf = vec![0.0f32; n];
                    let mut l = vec![Complex32::default(); bins];
                    let mut r = vec![Complex32::default(); bins];
                    for (i, (m, c)) in m_out
                        .chunks_mut(kmax)
                        .zip(c_out.chunks_mut(kmax))
                        .enumerate()
                    {
                        let j = chunk * per + i;
                        stft.analyse(samples, 0, j, &mut buf, &mut l);
                        stft.analyse(samples, 1, j, &mut buf, &mut r);
                        for k in 0..kmax {
                            let (al, ar) = (l[k].norm(), r[k].norm());
                            m[k] = 0.5 * (l[k] + r[k]).norm();
                            let side = (l[k] - r[k]).norm() * 0.5;
                            let c1 = 1.0 - side / (0.5 * (al + ar)).max(1e-12);
                            c[k] = c1.clamp(0.0, 1.0);
                        }
                    }
                });
            }
        });
        progress(0.2);

        // HPSS medians.
        let mut harm = vec![0.0f32; frames * kmax];
        let mut perc = vec![0.0f32; frames * kmax];
        std::thread::scope(|s| {
            let mag = &mag;
            for (chunk, (h_out, p_out)) in harm
                .chunks_mut(per * kmax)
                .zip(perc.chunks_mut(per * kmax))
                .enumerate()
            {
                s.spawn(move || {
                    let mut win = Vec::with_capacity(2 * MEDIAN_HALF + 1);
                    for (i, (h, p)) in h_out
                        .chunks_mut(kmax)
                        .zip(p_out.chunks_mut(kmax))
                        .enumerate()
                    {
                        let t = chunk * per + i;
                        let t0 = t.saturating_sub(MEDIAN_HALF);
                        let t1 = (t + MEDIAN_HALF + 1).min(frames);
                        let row = &mag[t * kmax..(t + 1) * kmax];
                        for k in 0..kmax {
                            win.clear();
                            win.extend((t0..t1).map(|u| mag[u * kmax + k]));
                            h[k] = median(&mut win);
                            let k0 = k.saturating_sub(MEDIAN_HALF);
                            let k1 = (k + MEDIAN_HALF + 1).min(kmax);
                            win.clear();
                            win.extend_from_slice(&row[k0..k1]);
                            p[k] = median(&mut win);
                        }
                    }
                });
            }
        });
        progress(0.45);

        let t0 = (stft.start(0) + (n / 2) as isize) as f64 / audio.rate as f64;
        let mut bass_f0 = line_f0(&guide.bass, frames, frame_s, t0);
        let lead_line = if guide.lead_candidates.is_empty() {
            guide.lead.clone()
        } else {
            centre_line(
                &guide.lead_candidates,
                &mag,
                &centre,
                kmax,
                bin_hz,
                frame_s,
                t0,
            )
        };
        let mut lead_f0 = line_f0(&lead_line, frames, frame_s, t0);
        let mut centred = vec![0.0f32; kmax];
        for t in 0..frames {
            let row = &mag[t * kmax..(t + 1) * kmax];
            bass_f0[t] = refine_f0(row, bass_f0[t], BASS_TOP_HZ, bin_hz);
            for (k, c) in centred.iter_mut().enumerate() {
                let w = centre[t * kmax + k];
                *c = row[k] * w * w;
            }
            lead_f0[t] = refine_f0(&centred, lead_f0[t], 5000.0, bin_hz);
        }
        // The bass's own sound: on a partial shared with other parts it takes only what its
        // envelope predicts.
        let bass_model =
            PartialModel::fit(&mag, kmax, &bass_f0, bin_hz, BASS_TOP_HZ, BASS_LEVEL_TOP_HZ);
        // Masks, four per bin below the ceiling, as u16 fractions to keep memory small.
        let mut masks = vec![[0u16; 4]; frames * kmax];
        for t in 0..frames {
            for k in 0..kmax {
                let i = t * kmax + k;
                let s = mag[i];
                let (h2, p2) = (harm[i] * harm[i], perc[i] * perc[i]);
                let hp = (h2 + p2).max(1e-20);
                let (hs, ps) = (h2 / hp, p2 / hp);
                let f = k as f32 * bin_hz;
                let mut tooth = comb(f, bass_f0[t], BASS_TOP_HZ, bin_hz, BASS_COMB_REL);
                if tooth > 0.0 {
                    tooth *= (bass_model.expected(t, f) / s.max(1e-12)).min(1.0);
                }
                let low = if f < BASS_FULL_HZ {
                    1.0
                } else if f < 1.6 * BASS_FULL_HZ {
                    (1.6 * BASS_FULL_HZ - f) / (0.6 * BASS_FULL_HZ)
                } else {
                    0.0
                };
                // On a sounding bass note's partials below 300 Hz the bass keeps its attack
                // too (an HPSS split would hand it to the drums).
                let attack = if f < 300.0 { tooth } else { 0.0 };
                let wb = tooth.max(low);
                // A gentle centre prior: the Wiener filter below weighs the stereo image again.
                let wv = comb(f, lead_f0[t], 10_000.0, bin_hz, LEAD_COMB_REL) * centre[i].sqrt();
                let e_d = s * ps * (1.0 - attack);
                let e_b = s * wb * (hs + ps * attack);
                let e_v = s * wv * (1.0 - wb);
                let e_o = s * hs * (1.0 - wb) * (1.0 - wv);
                let mut e = [0.0f32; 4];
                e[DRUMS] = e_d;
                e[BASS] = e_b;
                e[VOCALS] = e_v;
                e[OTHER] = e_o;
                let total: f32 = e.iter().sum();
                masks[i] = if total > 1e-24 && f >= SUBSONIC_HZ {
                    e.map(|x| ((x / total) * 65535.0).round() as u16)
                } else {
                    [0, 0, 0, 65535]
                };
            }
        }
        drop((mag, centre, harm, perc));
        progress(0.6);

        // Pass 2: mask each channel and overlap-add, streaming finished samples out.
        let band_lo = ((8000.0 / bin_hz) as usize).min(kmax.saturating_sub(1));
        let mut ola = vec![vec![0.0f32; 2 * n]; 4];
        let mut buf = vec![0.0f32; n];
        let mut spec = [
            vec![Complex32::default(); bins],
            vec![Complex32::default(); bins],
        ];
        let mut out_spec = vec![Complex32::default(); bins];
        let mut time = vec![0.0f32; n];
        let total_frames = audio.frames();
        let mut written = 0usize;
        let mut chunk = Vec::with_capacity(2 * hop);
        // The OLA buffer starts at `base`, the first sample of the current frame.
        let spatial = Spatial::fit(&stft, audio, &masks, kmax);
        let mut outs = vec![[Complex32::default(); 4 * 2]; kmax];
        let mut base: isize = stft.start(0);
        for j in 0..frames {
            stft.analyse(&audio.samples, 0, j, &mut buf, &mut spec[0]);
            stft.analyse(&audio.samples, 1, j, &mut buf, &mut spec[1]);
            let row = &masks[j * kmax..(j + 1) * kmax];
            for (k, out) in outs.iter_mut().enumerate() {
                *out = spatial.filter(k, &row[k], spec[0][k], spec[1][k]);
            }
            let mut high = [0.0f32; 4];
            for m in &row[band_lo..kmax] {
                for s in 0..4 {
                    high[s] += m[s] as f32;
                }
            }
            let hs: f32 = high.iter().sum::<f32>().max(1.0);
            let high = high.map(|x| x / hs);
            for s in 0..4 {
                for ch in 0..2 {
                    for k in 0..bins {
                        out_spec[k] = if k < kmax {
                            outs[k][s * 2 + ch]
                        } else {
                            spec[ch][k] * high[s]
                        };
                    }
                    out_spec[0].im = 0.0;
                    out_spec[bins - 1].im = 0.0;
                    let _ = stft.inv.process(&mut out_spec, &mut time);
                    // realfft's inverse is unnormalised (× n); sqrt-Hann² at 75 % overlap sums to 2.
                    let g = 1.0 / (n as f32 * 2.0);
                    for i in 0..n {
                        ola[s][2 * i + ch] += time[i] * stft.window[i] * g;
                    }
                }
            }
            // The first `hop` frames of the buffer are final now.
            for (s, o) in ola.iter_mut().enumerate() {
                chunk.clear();
                for i in 0..hop {
                    let idx = base + i as isize;
                    if idx >= 0 && (idx as usize) < total_frames {
                        chunk.push(o[2 * i]);
                        chunk.push(o[2 * i + 1]);
                    }
                }
                if !chunk.is_empty() {
                    sink.write(s, &chunk)?;
                }
                o.copy_within(2 * hop.., 0);
                let len = o.len();
                o[len - 2 * hop..].iter_mut().for_each(|x| *x = 0.0);
            }
            written += hop;
            base += hop as isize;
            if j % 256 == 0 {
                progress(0.6 + 0.4 * (j as f64 / frames as f64));
            }
        }
        let _ = written;
        // Anything left in the buffers inside the signal.
        for (s, o) in ola.iter().enumerate() {
            chunk.clear();
            for i in 0..n {
                let idx = base + i as isize;
                if idx >= 0 && (idx as usize) < total_frames {
                    chunk.push(o[2 * i]);
                    chunk.push(o[2 * i + 1]);
                }
            }
            if !chunk.is_empty() {
                sink.write(s, &chunk)?;
            }
        }
        progress(1.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemorySink;
    use super::*;

    #[test]
    fn the_centre_keeps_the_middle_of_the_image_without_seams() {
        // A centred 330 Hz tone and a hard-left 500 Hz tone, 5 s (several worker spans).
        let rate = 44_100u32;
        let len = rate as usize * 5;
        let tau = std::f32::consts::TAU;
        let mut samples = vec![0.0f32; len * 2];
        let mut centred = vec![0.0f32; len];
        for i in 0..len {
            let t = i as f32 / rate as f32;
            let c = 0.3 * (tau * 330.0 * t).sin();
            centred[i] = c;
            samples[2 * i] = c + 0.3 * (tau * 500.0 * t).sin();
            samples[2 * i + 1] = c;
        }
        let out = centre_mono(&Audio { rate, samples });
        assert_eq!(out.len(), len);
        // Away from the ends: the centred tone, the side tone gone, at every sample.
        let inner = rate as usize / 2..len - rate as usize / 2;
        let err = inner
            .clone()
            .map(|i| (out[i] - centred[i]).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 0.03, "largest deviation {err}");
    }

    #[test]
    fn stems_sum_back_to_the_mix_and_split_tone_from_clicks() {
        let rate = 44_100u32;
        let len = rate as usize * 3;
        let mut samples = vec![0.0f32; len * 2];
        for i in 0..len {
            let t = i as f32 / rate as f32;
            // A steady 220 Hz tone (harmonic) plus clicks every 0.25 s (percussive).
            let tone = 0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin();
            let click = if i % (rate as usize / 4) < 40 {
                0.8
            } else {
                0.0
            };
            samples[2 * i] = tone + click;
            samples[2 * i + 1] = tone + click;
        }
        let audio = Audio { rate, samples };
        let mut sink = MemorySink::default();
        DspSeparator
            .separate(&audio, &Guide::default(), &mut sink, &mut |_| {})
            .unwrap();
        assert_eq!(sink.stems.len(), 4);
        for s in &sink.stems {
            assert_eq!(s.len(), audio.samples.len());
        }
        let sum: Vec<f32> = (0..audio.samples.len())
            .map(|i| sink.stems.iter().map(|s| s[i]).sum())
            .collect();
        let sdr = super::super::sdr(&audio.samples, &sum);
        assert!(sdr > 60.0, "stems add back to the mix: {sdr:.1} dB");
        // Clicks land in drums, the tone elsewhere.
        let energy = |s: &[f32]| s.iter().map(|x| x * x).sum::<f32>();
        let drums = energy(&sink.stems[DRUMS]);
        let tone_part =
            energy(&sink.stems[OTHER]) + energy(&sink.stems[BASS]) + energy(&sink.stems[VOCALS]);
        assert!(drums > 0.0 && tone_part > 0.0);
        let clicks: f32 = (0..len)
            .filter(|i| i % (rate as usize / 4) < 40)
            .map(|_| 0.64 * 2.0)
            .sum();
        let tone: f32 = 0.045 * 2.0 * len as f32;
        assert!(
            drums / clicks > 0.3 && drums / clicks < 3.0,
            "drums {drums} vs clicks {clicks}"
        );
        assert!(
            tone_part / tone > 0.5,
            "tone part {tone_part} vs tone {tone}"
        );
    }

    #[test]
    fn dc_and_infrasound_stay_out_of_the_bass() {
        // A 55 Hz bass note (A1) on a DC offset with a 6 Hz wobble.
        let rate = 44_100u32;
        let len = rate as usize * 3;
        let mut samples = vec![0.0f32; len * 2];
        for i in 0..len {
            let t = i as f32 / rate as f32;
            let bass = 0.3 * (std::f32::consts::TAU * 55.0 * t).sin();
            let sub = 0.1 + 0.05 * (std::f32::consts::TAU * 6.0 * t).sin();
            samples[2 * i] = bass + sub;
            samples[2 * i + 1] = bass + sub;
        }
        let audio = Audio { rate, samples };
        let guide = Guide {
            bass: vec![Note {
                start_s: 0.0,
                end_s: 3.0,
                pitch: 33,
                velocity: 100,
                bend: Vec::new(),
            }],
            ..Guide::default()
        };
        let mut sink = MemorySink::default();
        DspSeparator
            .separate(&audio, &guide, &mut sink, &mut |_| {})
            .unwrap();
        // Away from the edges: the bass stem holds the note and (almost) no offset; `other`
        // holds the offset.
        let mid = (rate as usize / 2)..(len - rate as usize / 2);
        let mean = |s: &[f32]| {
            mid.clone()
                .map(|i| 0.5 * (s[2 * i] + s[2 * i + 1]))
                .sum::<f32>()
                / mid.len() as f32
        };
        let (bass_dc, other_dc) = (mean(&sink.stems[BASS]), mean(&sink.stems[OTHER]));
        assert!(bass_dc.abs() < 0.01, "bass DC {bass_dc}");
        assert!((other_dc - 0.1).abs() < 0.01, "other DC {other_dc}");
        let tone: f32 = mid
            .clone()
            .map(|i| {
                let t = i as f32 / rate as f32;
                let want = 0.3 * (std::f32::consts::TAU * 55.0 * t).sin();
                (sink.stems[BASS][2 * i] - want).powi(2)
            })
            .sum::<f32>()
            / mid.len() as f32;
        assert!(tone < 0.3 * 0.3 * 0.5 * 0.1, "bass misses the note: {tone}");
    }

    #[test]
    fn bass_takes_only_its_own_share_of_a_partial_it_shares() {
        // A1 (55 Hz) with partials 0.3/h up to the 6th for 4 s; from 2 s a sustained tone of
        // another part lands on its third partial (165 Hz), three times as loud as that partial.
        let rate = 44_100u32;
        let len = rate as usize * 4;
        let tau = std::f32::consts::TAU;
        let mut samples = vec![0.0f32; len * 2];
        for i in 0..len {
            let t = i as f32 / rate as f32;
            let mut x: f32 = (1..=6)
                .map(|h| 0.3 / h as f32 * (tau * 55.0 * h as f32 * t).sin())
                .sum();
            if t >= 2.0 {
                x += 0.3 * (tau * 165.0 * t).sin();
            }
            samples[2 * i] = x;
            samples[2 * i + 1] = x;
        }
        let audio = Audio { rate, samples };
        let guide = Guide {
            bass: vec![Note {
                start_s: 0.0,
                end_s: 4.0,
                pitch: 33,
                velocity: 100,
                bend: Vec::new(),
            }],
            ..Guide::default()
        };
        let mut sink = MemorySink::default();
        DspSeparator
            .separate(&audio, &guide, &mut sink, &mut |_| {})
            .unwrap();
        // Amplitude of the 165 Hz component of a stem over [a, b) seconds.
        let amp = |stem: usize, a: f32, b: f32| {
            let (i0, i1) = ((a * rate as f32) as usize, (b * rate as f32) as usize);
            let (mut c, mut s) = (0.0f64, 0.0f64);
            for i in i0..i1 {
                let ph = (tau * 165.0 * i as f32 / rate as f32) as f64;
                let x = sink.stems[stem][2 * i] as f64;
                c += x * ph.cos();
                s += x * ph.sin();
            }
            2.0 * (c * c + s * s).sqrt() / (i1 - i0) as f64
        };
        // Alone, the bass keeps its partial (0.1).
        let alone = amp(BASS, 0.5, 1.5);
        assert!((alone - 0.1).abs() < 0.03, "bass alone: {alone}");
        // Shared (0.1 + 0.3 in phase): the bass takes about its own 0.1, the rest stays in
        // `other`.
        let (bass, other) = (amp(BASS, 2.5, 3.5), amp(OTHER, 2.5, 3.5));
        assert!(bass < 0.17, "bass on the shared partial: {bass}");
        assert!(other > 0.22, "other on the shared partial: {other}");
    }

    #[test]
    fn stems_sharing_a_bin_come_apart_by_their_place_in_the_image() {
        // At one bin: a centred voice (L = R) and a part panned hard left, with masks that
        // cannot tell them apart (half each).
        let centre = [1.0, 1.0, 1.0, 0.0];
        let left = [2.0, 0.0, 0.0, 0.0];
        let spatial = Spatial {
            r: vec![[centre, centre, centre, left]],
        };
        let voice = Complex32::new(0.3, -0.2);
        let part = Complex32::new(-0.5, 0.4);
        let (l, r) = (voice + part, voice);
        let half = 65535 / 2;
        let y = spatial.filter(0, &[0, 0, half, half], l, r);
        let close = |a: Complex32, b: Complex32| (a - b).norm() < 0.01;
        assert!(
            close(y[2 * VOCALS], voice) && close(y[2 * VOCALS + 1], voice),
            "{y:?}"
        );
        assert!(close(y[2 * OTHER], part) && close(y[2 * OTHER + 1], Complex32::default()));
        // The stems add up to the mix.
        let sum_l: Complex32 = (0..4).map(|s| y[2 * s]).sum();
        let sum_r: Complex32 = (0..4).map(|s| y[2 * s + 1]).sum();
        assert!((sum_l - l).norm() < 1e-6 && (sum_r - r).norm() < 1e-6);
    }
}
