//! Drum transcription: hits per class (kick, snare, clap, closed hat, open hat, crash, toms)
//! with velocities, as General MIDI drum notes.
//!
//! Method (our own; in the family of onset-detection-then-classification drum transcribers,
//! see C.-W. Wu et al., "A review of automatic drum transcription", IEEE/ACM TASLP 2018):
//! 1. **Bands.** Magnitude STFT (≈ 46 ms window, 1/8 hop: 2048/256 at 44.1 kHz) pooled into
//!    log bands, 6 per octave, 30 Hz – 16 kHz (the source rate is kept: hats are told from
//!    snares above 11 kHz).
//! 2. **Hits.** Log-compressed band flux (SuperFlux: each band against the ±1-band maximum two
//!    frames earlier) in four band groups (< 120 Hz, 120–400 Hz, 400 Hz – 5 kHz, > 5 kHz), each
//!    normalised by its own loud-hit level, summed and peak-picked with an adaptive threshold
//!    (local mean plus a fraction of the local maximum), at least 30 ms apart; the top group
//!    is also peak-picked on its own, so that a quiet hat between loud kicks and snares (whose
//!    peaks set the summed function's threshold) is not lost. Each onset is then placed on the
//!    waveform: the ~1.5 ms block with the largest rise in energy.
//! 3. **What was struck.** At each hit the *added power* (just after minus just before, per
//!    band) is summed in six groups: sub 30–120 Hz, low 120–250 Hz, mid 250 Hz – 2 kHz,
//!    presence 2–6 kHz, high 6–11 kHz, air 11–16 kHz. Per song, each class's key group splits
//!    the hits into struck / not struck at Otsu's threshold when the two groups stand ≥ 8 dB
//!    apart (else within 12 dB of the loud hits); shape rules then tell the classes apart:
//!    - kick: sub-band energy not below the low and mid groups (a snare's or tom's body is
//!      higher up);
//!    - snare or clap: mid-band energy with noise above 2 kHz (a tom has none); a clap when
//!      its tonal body (low group) is weak;
//!    - tom: a low body well above the sub band and the presence band, neither kick nor snare;
//!    - hats and cymbals: air-band energy; on a snare hit only when the air stands above the
//!      snare's own (the split of air-to-presence ratios over snare hits, when it is bimodal).
//!
//!    Several classes can share one hit (kick + hat, snare + hat).
//! 4. **Hats and cymbals by decay** of the high band after the hit (to 100 ms or the next
//!    hit): faster than 100 dB/s a closed hat, slower an open hat; a loud hit slower than
//!    15 dB/s a crash. Rides are not told from open hats yet.
//! 5. **Velocity** from the class's key group level relative to its loud hits (the loudest
//!    127, −30 dB is 1).

use super::Note;
use crate::onset::log_filterbank;
use crate::spectrum::map_frames;

/// General MIDI drum notes.
pub mod gm {
    pub const KICK: u8 = 36;
    pub const SIDE_STICK: u8 = 37;
    pub const SNARE: u8 = 38;
    pub const CLAP: u8 = 39;
    pub const CLOSED_HAT: u8 = 42;
    pub const LOW_TOM: u8 = 45;
    pub const OPEN_HAT: u8 = 46;
    pub const MID_TOM: u8 = 47;
    pub const CRASH: u8 = 49;
    pub const HIGH_TOM: u8 = 50;
    pub const RIDE: u8 = 51;
}

/// Evaluation classes a GM drum note belongs to.
pub fn class_of(note: u8) -> Option<&'static str> {
    Some(match note {
        35 | 36 => "kick",
        37..=40 => "snare",
        42 | 44 | 46 => "hats",
        49 | 51 | 52 | 53 | 55 | 57 | 59 => "cymbals",
        41 | 43 | 45 | 47 | 48 | 50 => "toms",
        _ => return None,
    })
}

/// Least normalised flux of a hit found in the top band alone (a loud hit of the band is 1).
const TOP_FLOOR: f32 = 0.15;
/// Analysis window, seconds (1024 samples at 22.05 kHz, 2048 at 44.1 kHz).
const WINDOW_S: f64 = 0.046;
/// Highest band edge, Hz (hats and cymbals are told apart from snares above 11 kHz).
const TOP_HZ: f64 = 16_000.0;
/// A loud metal hit whose high band falls slower than this (dB/s) is a crash.
const CYMBAL_DB_S: f32 = 15.0;
/// … and faster than this, a closed hat; in between, an open hat.
const CLOSED_HAT_DB_S: f32 = 100.0;
/// Bands hold power raised to this (band magnitude); onsets are found on its logarithm.
const COMPRESS: f32 = 0.5;
/// Band groups of the added spectrum, Hz: sub (kick), low (kick, snare and tom bodies), mid
/// (snare), presence, high and air (hats and cymbals).
const GROUPS: [(f64, f64); 6] = [
    (30.0, 120.0),
    (120.0, 250.0),
    (250.0, 2000.0),
    (2000.0, 6000.0),
    (6000.0, 11_000.0),
    (11_000.0, 16_000.0),
];
const SUB: usize = 0;
const LOW: usize = 1;
const MID: usize = 2;
const PRES: usize = 3;
const HIGH: usize = 4;
const AIR: usize = 5;
/// Two groups of values are told apart when their means stand this far apart, dB.
const CLUSTER_GAP_DB: f32 = 8.0;

/// Band magnitudes of a signal.
struct Bands {
    centres: Vec<f64>,
    /// frames × bands, linear magnitude.
    mag: Vec<f32>,
    frames: usize,
    frame_rate: f64,
}

impl Bands {
    fn n(&self) -> usize {
        self.centres.len()
    }
    fn frame(&self, t: usize) -> &[f32] {
        let n = self.n();
        &self.mag[t * n..(t + 1) * n]
    }
}

fn bands(signal: &[f32], rate: u32) -> Bands {
    let n_fft = ((rate as f64 * WINDOW_S) as usize).next_power_of_two();
    let hop = n_fft / 8;
    let bin_hz = rate as f64 / n_fft as f64;
    let fb = log_filterbank(
        n_fft / 2 + 1,
        bin_hz,
        30.0,
        TOP_HZ.min(rate as f64 * 0.48),
        6.0,
    );
    let centres: Vec<f64> = fb.iter().map(|(c, _)| *c).collect();
    let frames = signal.len() / hop + 1;
    let idx: Vec<usize> = (0..frames).collect();
    let rows = map_frames(signal, n_fft, hop, &idx, |mags| {
        fb.iter()
            .map(|(_, taps)| {
                let p: f32 = taps.iter().map(|&(k, g)| mags[k] * mags[k] * g).sum();
                p.powf(COMPRESS)
            })
            .collect::<Vec<f32>>()
    });
    Bands {
        centres,
        mag: rows.concat(),
        frames,
        frame_rate: rate as f64 / hop as f64,
    }
}

/// Otsu's split of sorted values: the threshold maximising the between-group variance, and the
/// distance between the two groups' means.
fn otsu(sorted: &[f32]) -> Option<(f32, f32)> {
    let n = sorted.len();
    if n < 4 {
        return None;
    }
    let total: f64 = sorted.iter().map(|&x| x as f64).sum();
    let mut left = 0.0f64;
    let mut best: Option<(f64, usize)> = None;
    for i in 1..n {
        left += sorted[i - 1] as f64;
        let (n0, n1) = (i as f64, (n - i) as f64);
        let (m0, m1) = (left / n0, (total - left) / n1);
        let between = n0 * n1 * (m0 - m1) * (m0 - m1);
        if best.is_none_or(|(b, _)| between > b) {
            best = Some((between, i));
        }
    }
    let (_, i) = best?;
    let m0 = sorted[..i].iter().map(|&x| x as f64).sum::<f64>() / i as f64;
    let m1 = sorted[i..].iter().map(|&x| x as f64).sum::<f64>() / (n - i) as f64;
    Some((0.5 * (sorted[i - 1] + sorted[i]), (m1 - m0) as f32))
}

/// A detected hit.
struct Hit {
    /// Onset time, seconds (refined on the waveform).
    time_s: f64,
    /// Power added per band by the hit.
    added: Vec<f32>,
    /// How fast the high band falls after the hit, dB per second (unknown when the next hit
    /// comes too soon).
    high_decay_db_s: Option<f32>,
}

/// The onset near `t_s` on the waveform: the start of the ~1.5 ms block with the largest rise
/// in energy over the two blocks before it, searched from 30 ms before to 15 ms after.
fn refine_onset(signal: &[f32], rate: u32, t_s: f64) -> f64 {
    let blk = (rate as usize / 700).max(8);
    let a = ((t_s - 0.03) * rate as f64).max(0.0) as usize;
    let z = (((t_s + 0.015) * rate as f64) as usize).min(signal.len());
    if z <= a + 4 * blk {
        return t_s;
    }
    let energy: Vec<f64> = signal[a..z]
        .chunks(blk)
        .map(|c| c.iter().map(|&x| x as f64 * x as f64).sum::<f64>())
        .collect();
    let best = (2..energy.len())
        .max_by(|&i, &j| {
            let ri = energy[i] - energy[i - 1].max(energy[i - 2]);
            let rj = energy[j] - energy[j - 1].max(energy[j - 2]);
            ri.total_cmp(&rj)
        })
        .unwrap_or(0);
    (a + best * blk) as f64 / rate as f64
}

/// Peaks of an onset function (`fr` frames a second) above an adaptive threshold — the mean
/// over ±0.25 s plus 0.12 of the maximum over ±1 s — and above `floor`, at least 30 ms apart
/// (of two closer peaks the larger stays).
fn pick_peaks(odf: &[f32], fr: f64, floor: f32) -> Vec<usize> {
    let frames = odf.len();
    let w_mean = (0.25 * fr) as usize;
    let w_max = (1.0 * fr) as usize;
    let min_gap = (0.03 * fr).ceil() as usize;
    let mut prefix = vec![0.0f64; frames + 1];
    for t in 0..frames {
        prefix[t + 1] = prefix[t] + odf[t] as f64;
    }
    let mut picked: Vec<usize> = Vec::new();
    for t in 2..frames.saturating_sub(2) {
        let v = odf[t];
        if !(v > odf[t - 1] && v >= odf[t + 1] && v >= odf[t - 2] && v >= odf[t + 2]) {
            continue;
        }
        let a = t.saturating_sub(w_mean);
        let z = (t + w_mean + 1).min(frames);
        let mean = ((prefix[z] - prefix[a]) / (z - a) as f64) as f32;
        let a = t.saturating_sub(w_max);
        let z = (t + w_max + 1).min(frames);
        let local_max = odf[a..z].iter().copied().fold(0.0f32, f32::max);
        if v < mean + 0.12 * local_max || v < floor {
            continue;
        }
        if let Some(&last) = picked.last() {
            if t - last < min_gap {
                if v > odf[last] {
                    picked.pop();
                } else {
                    continue;
                }
            }
        }
        picked.push(t);
    }
    picked
}

fn hits(b: &Bands, signal: &[f32], rate: u32) -> Vec<Hit> {
    let n = b.n();
    if b.frames < 8 || n == 0 {
        return Vec::new();
    }
    let mean_mag = b.mag.iter().map(|&x| x as f64).sum::<f64>() / b.mag.len() as f64;
    let x0 = (mean_mag * 1e-3).max(1e-9) as f32;
    let log: Vec<f32> = b.mag.iter().map(|&m| (1.0 + m / x0).ln()).collect();
    let group = |c: f64| -> usize {
        if c < 120.0 {
            0
        } else if c < 400.0 {
            1
        } else if c < 5000.0 {
            2
        } else {
            3
        }
    };
    let groups: Vec<usize> = b.centres.iter().map(|&c| group(c)).collect();
    const LAG: usize = 2;
    let mut flux = vec![[0.0f32; 4]; b.frames];
    for t in LAG..b.frames {
        let cur = &log[t * n..(t + 1) * n];
        let prev = &log[(t - LAG) * n..(t - LAG + 1) * n];
        for k in 0..n {
            let lo = k.saturating_sub(1);
            let hi = (k + 1).min(n - 1);
            let r = prev[lo..=hi].iter().copied().fold(f32::MIN, f32::max);
            let d = cur[k] - r;
            if d > 0.0 {
                flux[t][groups[k]] += d;
            }
        }
    }
    // Each group normalised by its loud-hit level (98th percentile of its local maxima).
    let mut scale = [1.0f32; 4];
    for (g, s) in scale.iter_mut().enumerate() {
        let mut peaks: Vec<f32> = (1..b.frames - 1)
            .filter(|&t| flux[t][g] > flux[t - 1][g] && flux[t][g] >= flux[t + 1][g])
            .map(|t| flux[t][g])
            .collect();
        if peaks.is_empty() {
            continue;
        }
        peaks.sort_by(f32::total_cmp);
        *s = peaks[(peaks.len() as f64 * 0.98) as usize].max(1e-6);
    }
    let odf: Vec<f32> = flux
        .iter()
        .map(|f| (0..4).map(|g| (f[g] / scale[g]).min(1.5)).sum::<f32>())
        .collect();
    let fr = b.frame_rate;
    let min_gap = (0.03 * fr).ceil() as usize;
    let mut picked = pick_peaks(&odf, fr, 0.08);
    // The top group on its own: a quiet hat between kicks and snares barely moves the summed
    // function (its threshold follows the loud hits), but stands out in its own band.
    let top: Vec<f32> = flux.iter().map(|f| (f[3] / scale[3]).min(1.5)).collect();
    let extra: Vec<usize> = pick_peaks(&top, fr, TOP_FLOOR)
        .into_iter()
        .filter(|&t| {
            let i = picked.partition_point(|&p| p < t);
            !((i > 0 && t - picked[i - 1] < min_gap)
                || (i < picked.len() && picked[i] - t < min_gap))
        })
        .collect();
    picked.extend(extra);
    picked.sort_unstable();
    let high: Vec<usize> = (0..n).filter(|&k| b.centres[k] >= 5000.0).collect();
    let high_db = |t: usize| -> f32 {
        let f = b.frame(t);
        // Bands hold compressed power: undo the compression to get dB.
        let p: f32 = high.iter().map(|&k| f[k].powf(1.0 / COMPRESS)).sum();
        10.0 * p.max(1e-20).log10()
    };
    let next: Vec<usize> = picked
        .iter()
        .skip(1)
        .copied()
        .chain(std::iter::once(b.frames))
        .collect();
    picked
        .iter()
        .zip(&next)
        .map(|(&t, &t_next)| {
            // After: the strongest of the 4 frames from the hit on; before: the mean of the two
            // frames 3–4 hops ahead of it.
            let power = |u: usize, k: usize| b.frame(u)[k].powf(1.0 / COMPRESS);
            let added: Vec<f32> = (0..n)
                .map(|k| {
                    let before =
                        0.5 * (power(t.saturating_sub(4), k) + power(t.saturating_sub(3), k));
                    let after = (t..(t + 4).min(b.frames))
                        .map(|u| power(u, k))
                        .fold(0.0f32, f32::max);
                    (after - before).max(0.0)
                })
                .collect();
            // High-band decay rate from its peak to 100 ms later or the next hit.
            let peak_t = (t..(t + 4).min(b.frames))
                .max_by(|&u, &v| high_db(u).total_cmp(&high_db(v)))
                .unwrap_or(t);
            let end = (peak_t + (0.1 * fr) as usize).min(t_next.saturating_sub(1));
            let high_decay_db_s = (end > peak_t + (0.03 * fr) as usize)
                .then(|| (high_db(peak_t) - high_db(end)) / ((end - peak_t) as f64 / fr) as f32);
            Hit {
                time_s: refine_onset(signal, rate, t as f64 / fr),
                added,
                high_decay_db_s,
            }
        })
        .collect()
}

/// Transcribes a drum signal (mono) into General MIDI drum notes.
pub fn transcribe(signal: &[f32], rate: u32) -> Vec<Note> {
    let b = bands(signal, rate);
    let hits = hits(&b, signal, rate);
    if hits.is_empty() {
        return Vec::new();
    }
    // Added power per band group, dB.
    let has_air = b.centres.iter().any(|&c| c >= GROUPS[AIR].0);
    let feats: Vec<[f32; 6]> = hits
        .iter()
        .map(|h| {
            let mut g = [0.0f32; 6];
            for (k, &c) in b.centres.iter().enumerate() {
                if let Some(i) = GROUPS.iter().position(|&(lo, hi)| c >= lo && c < hi) {
                    g[i] += h.added[k];
                }
            }
            g.map(|p| 10.0 * p.max(1e-20).log10())
        })
        .collect();
    let metal_group = if has_air { AIR } else { HIGH };
    let thr = |group: usize| -> (f32, f32) {
        let mut v: Vec<f32> = feats
            .iter()
            .map(|f| f[group])
            .filter(|&x| x > -190.0)
            .collect();
        v.sort_by(f32::total_cmp);
        if v.is_empty() {
            return (f32::INFINITY, f32::INFINITY);
        }
        let loud = v[(v.len() as f64 * 0.95) as usize];
        let split = match otsu(&v) {
            Some((split, gap)) if gap >= CLUSTER_GAP_DB => split,
            _ => loud - 12.0,
        };
        (split, loud)
    };
    let (kick_thr, kick_loud) = thr(SUB);
    let (snare_thr, snare_loud) = thr(MID);
    let (metal_thr, metal_loud) = thr(metal_group);
    let (low_thr, low_loud) = thr(LOW);
    // Over hits that look like snares, the air-to-presence ratio falls in two groups when some
    // carry a hat and some do not; the split between them decides. With one group there is no
    // telling, and every snare hit with air counts as a hat too.
    let snare_air = {
        let mut r: Vec<f32> = feats
            .iter()
            .filter(|f| f[MID] >= snare_thr && f[MID] >= f[SUB] - 10.0 && f[PRES] >= f[MID] - 10.0)
            .map(|f| f[metal_group] - f[PRES])
            .collect();
        r.sort_by(f32::total_cmp);
        match otsu(&r) {
            Some((split, gap)) if gap >= 6.0 => split,
            _ => f32::NEG_INFINITY,
        }
    };
    let velocity = |v: f32, loud: f32| -> u8 {
        (127.0 * (1.0 + (v - loud).min(0.0) / 30.0))
            .round()
            .clamp(1.0, 127.0) as u8
    };
    let mut notes = Vec::new();
    for (h, f) in hits.iter().zip(&feats) {
        let time = h.time_s;
        let mut push = |pitch: u8, vel: u8| {
            notes.push(Note {
                start_s: time,
                end_s: time + 0.1,
                pitch,
                velocity: vel,
                bend: Vec::new(),
            })
        };
        // Kick: a sub-band hit centred low (not the body of a snare or a tom).
        let kick = f[SUB] >= kick_thr && f[SUB] >= f[LOW] - 10.0 && f[SUB] >= f[MID] - 3.0;
        // Snare or clap: a mid-band hit at least as strong as a kick's leakage would be, with
        // noise above 2 kHz (a tom's body has none).
        let snare = f[MID] >= snare_thr && f[MID] >= f[SUB] - 10.0 && f[PRES] >= f[MID] - 10.0;
        if kick {
            push(gm::KICK, velocity(f[SUB], kick_loud));
        }
        if snare {
            // A snare has a tonal body under its noise; a clap has none.
            let pitch = if f[LOW] >= f[MID] - 6.0 {
                gm::SNARE
            } else {
                gm::CLAP
            };
            push(pitch, velocity(f[MID], snare_loud));
        }
        // Tom: a low body well above the sub band, with little noise, that is neither.
        if !kick
            && !snare
            && f[LOW] >= low_thr.min(low_loud - 20.0)
            && f[LOW] >= f[SUB] + 8.0
            && f[LOW] >= f[PRES] + 6.0
        {
            push(gm::MID_TOM, velocity(f[LOW], low_loud));
        }
        // Hats and cymbals: air-band energy; on a snare or clap hit, more than the snare's own.
        if f[metal_group] >= metal_thr && (!snare || f[metal_group] - f[PRES] >= snare_air) {
            let pitch = match h.high_decay_db_s {
                Some(r) if r < CYMBAL_DB_S && f[metal_group] >= metal_loud - 6.0 => gm::CRASH,
                Some(r) if r < CLOSED_HAT_DB_S => gm::OPEN_HAT,
                _ => gm::CLOSED_HAT,
            };
            push(pitch, velocity(f[metal_group], metal_loud));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kick (decaying 55 Hz sine with a pitch drop), a snare (noise burst + 190 Hz tone),
    /// and a closed hat (high-passed noise, 40 ms).
    fn kit(rate: u32, pattern: &[(f64, u8)], seconds: f64) -> Vec<f32> {
        let n = (seconds * rate as f64) as usize;
        let mut out = vec![0.0f32; n];
        let mut seed = 12345u32;
        let mut noise = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        };
        for &(t, what) in pattern {
            let s0 = (t * rate as f64) as usize;
            let mut prev = 0.0f32;
            for i in 0..(0.4 * rate as f64) as usize {
                let idx = s0 + i;
                if idx >= n {
                    break;
                }
                let x = i as f32 / rate as f32;
                let v = match what {
                    gm::KICK => {
                        let f = 50.0 + 80.0 * (-x * 40.0).exp();
                        0.9 * (2.0 * std::f32::consts::PI * f * x).sin() * (-x * 12.0).exp()
                    }
                    gm::SNARE => {
                        0.5 * noise() * (-x * 25.0).exp()
                            + 0.3
                                * (2.0 * std::f32::consts::PI * 190.0 * x).sin()
                                * (-x * 30.0).exp()
                    }
                    _ => {
                        let w = noise();
                        let hp = w - prev;
                        prev = w;
                        0.25 * hp * (-x * 90.0).exp()
                    }
                };
                out[idx] += v;
            }
        }
        out
    }

    #[test]
    fn kick_snare_hat_pattern_is_transcribed() {
        let rate = 22_050;
        let beat = 0.5;
        let mut pattern = Vec::new();
        for bar in 0..8 {
            for b in 0..4 {
                let t = 0.3 + (bar * 4 + b) as f64 * beat;
                pattern.push((t, if b % 2 == 0 { gm::KICK } else { gm::SNARE }));
                pattern.push((t, gm::CLOSED_HAT));
                pattern.push((t + beat / 2.0, gm::CLOSED_HAT));
            }
        }
        let audio = kit(rate, &pattern, 17.0);
        let notes = transcribe(&audio, rate);
        for (class, truth_note) in [
            ("kick", gm::KICK),
            ("snare", gm::SNARE),
            ("hats", gm::CLOSED_HAT),
        ] {
            let truth: Vec<f64> = pattern
                .iter()
                .filter(|p| p.1 == truth_note)
                .map(|p| p.0)
                .collect();
            let found: Vec<f64> = notes
                .iter()
                .filter(|n| class_of(n.pitch) == Some(class))
                .map(|n| n.start_s)
                .collect();
            let hit = truth
                .iter()
                .filter(|&&t| found.iter().any(|&f| (f - t).abs() < 0.05))
                .count();
            let recall = hit as f64 / truth.len() as f64;
            let precision = hit as f64 / found.len().max(1) as f64;
            assert!(
                recall > 0.9 && precision > 0.9,
                "{class}: recall {recall}, precision {precision}, {} found",
                found.len()
            );
        }
    }

    #[test]
    fn a_top_band_hit_between_loud_hits_is_found() {
        // One band per group (sub, low, mid, top), 172 frames a second. Loud hits in every
        // band each half second (a kick with its click); between them, three steps in the top
        // band only, a third of the loud hits' rise (quiet 16th-note hats).
        let fr = 172.0;
        let frames = 1720;
        let n = 4;
        let mut mag = vec![0.01f32; frames * n];
        let mut quiet = Vec::new();
        for t0 in (40..frames - 90).step_by(86) {
            for t in t0..t0 + 40 {
                let level = (-((t - t0) as f32) / 8.0).exp();
                for k in 0..n {
                    mag[t * n + k] = 0.01 + level;
                }
            }
            for q in 1..4 {
                let tq = t0 + q * 86 / 4;
                quiet.push(tq as f64 / fr);
                for t in tq..tq + 8 {
                    let level = 0.3 * (-((t - tq) as f32) / 3.0).exp();
                    mag[t * n + 3] = mag[t * n + 3].max(0.01 + level);
                }
            }
        }
        let bands = Bands {
            centres: vec![60.0, 200.0, 1000.0, 8000.0],
            mag,
            frames,
            frame_rate: fr,
        };
        let found: Vec<f64> = hits(&bands, &[], 22_050).iter().map(|h| h.time_s).collect();
        let hit = quiet
            .iter()
            .filter(|&&t| found.iter().any(|&f| (f - t).abs() < 0.03))
            .count();
        assert!(
            hit as f64 >= 0.9 * quiet.len() as f64,
            "{hit} of {} quiet hits found ({} hits in all)",
            quiet.len(),
            found.len()
        );
    }

    #[test]
    fn silence_has_no_hits() {
        assert!(transcribe(&vec![0.0; 22_050 * 3], 22_050).is_empty());
    }
}
