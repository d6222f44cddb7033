//! Reference mastering: the rebuilt mix is matched to the original the way a mastering
//! engineer matches a reference.
//!
//! 1. The long-term spectra of both (Welch: 8192-point Hann frames, half overlap) are taken
//!    in ISO third-octave bands, for the mid and the side signal apart.
//! 2. A minimum-phase matching EQ ([`auralis_engine::fx::eq::match_curve`]) moves the mix's
//!    mid and side bands onto the original's (each correction within ±12 dB; bands where the
//!    mix is silent are left alone: an EQ cannot raise what is not there). A gain after the
//!    side's EQ sets the width: a broadband side gain, the duration-weighted median over the
//!    original's sections of its side-to-mid ratio minus the mix's (the gain that makes their
//!    mean absolute difference least).
//! 3. A gain sets the integrated loudness (EBU R128) to the original's, into the true-peak
//!    limiter with its ceiling at the original's true peak (at most −0.1 dBTP); the limiter
//!    takes a little loudness off, so the gain is corrected by what each pass measured (at
//!    most three passes). Where the standard true-peak meter still reads over the ceiling
//!    (its interpolator is not the limiter's), a trim takes up to 0.05 dB off, or the limiter
//!    runs once more with its ceiling lowered by the excess.
//!
//! The chain is stored in the session; [`Report`] says how close it came (integrated
//! loudness, mean third-octave band error, true peak).

use auralis_engine::fx::eq::{match_curve, Band, Eq, THIRD_OCTAVES_HZ};
use auralis_engine::fx::limiter::{Limiter, LimiterSettings};
use realfft::RealFftPlanner;
use serde::Serialize;

use crate::error::Result;
use crate::level::LoudnessMeter;

/// How far under the ceiling the limiter aims, dB (see `master`).
const METER_MARGIN_DB: f32 = 0.1;
/// Limiter passes at most (the first two run at once), and the loudness error that ends
/// them, LU.
const LOUDNESS_PASSES: usize = 4;
/// The second gain of the first round, over the plain estimate, dB.
const PROBE_DB: f64 = 1.0;
const LOUDNESS_TOLERANCE_LU: f64 = 0.05;

/// The gain of the pass that was kept (the last one tried).
fn gain_db_of(tried: &[(f64, f64)]) -> f64 {
    tried.last().map_or(0.0, |t| t.0)
}

/// Largest correction of one band, dB.
const MAX_BAND_DB: f32 = 12.0;
/// Welch frame, samples.
const FRAME: usize = 8192;
/// Bands of the error figure: 31.5 Hz to 16 kHz.
const SCORED: std::ops::Range<usize> = 2..30;

/// Third-octave band powers (dB) of the mid and side of interleaved stereo `audio`.
pub fn band_spectra(audio: &[f32], rate: u32) -> [Vec<f64>; 2] {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(FRAME);
    let window: Vec<f32> = (0..FRAME)
        .map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / FRAME as f64).cos()) as f32)
        .collect();
    let frames = audio.len() / 2;
    let mut power = [vec![0.0f64; FRAME / 2 + 1], vec![0.0f64; FRAME / 2 + 1]];
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut start = 0;
    while start + FRAME <= frames.max(FRAME) {
        for (c, acc) in power.iter_mut().enumerate() {
            for (i, (v, w)) in input.iter_mut().zip(&window).enumerate() {
                let k = start + i;
                *v = if k < frames {
                    let (l, r) = (audio[2 * k], audio[2 * k + 1]);
                    w * if c == 0 { 0.5 * (l + r) } else { 0.5 * (l - r) }
                } else {
                    0.0
                };
            }
            let _ = fft.process(&mut input, &mut output);
            for (a, o) in acc.iter_mut().zip(&output) {
                *a += o.norm_sqr() as f64;
            }
        }
        start += FRAME / 2;
    }
    let bin_hz = rate as f64 / FRAME as f64;
    power.map(|p| {
        THIRD_OCTAVES_HZ
            .iter()
            .map(|&f| {
                let (lo, hi) = (
                    f as f64 * 2f64.powf(-1.0 / 6.0),
                    f as f64 * 2f64.powf(1.0 / 6.0),
                );
                let (a, b) = (
                    (lo / bin_hz).ceil() as usize,
                    (hi / bin_hz).floor() as usize,
                );
                let s: f64 = p[a.min(p.len() - 1)..=b.clamp(a.min(p.len() - 1), p.len() - 1)]
                    .iter()
                    .sum();
                10.0 * s.max(1e-20).log10()
            })
            .collect()
    })
}

/// The stereo sum's third-octave bands (mid and side powers added), dB.
fn sum_bands(s: &[Vec<f64>; 2]) -> Vec<f64> {
    s[0].iter()
        .zip(&s[1])
        .map(|(m, si)| 10.0 * (10f64.powf(m / 10.0) + 10f64.powf(si / 10.0)).log10())
        .collect()
}

/// The EQ curve that moves `ours` (band dB) onto `reference`: the difference, less its median
/// over the scored bands (the level is a gain's job, and the median is one no loud band can
/// drag), zero where ours is 60 dB under its loudest band (an EQ cannot raise what is not
/// there), within ±[`MAX_BAND_DB`].
fn curve(reference: &[f64], ours: &[f64]) -> Vec<(f32, f32)> {
    let mut d: Vec<f64> = SCORED.map(|k| reference[k] - ours[k]).collect();
    d.sort_by(f64::total_cmp);
    let mid = d[d.len() / 2];
    let loudest = ours.iter().copied().fold(f64::MIN, f64::max);
    THIRD_OCTAVES_HZ
        .iter()
        .enumerate()
        .map(|(k, &f)| {
            let g = if ours[k] < loudest - 60.0 {
                0.0
            } else {
                reference[k] - ours[k] - mid
            };
            (f, g.clamp(-MAX_BAND_DB as f64, MAX_BAND_DB as f64) as f32)
        })
        .collect()
}

/// The duration-weighted median over `sections` (seconds; none: the whole signal as one) of
/// the side-to-mid energy ratio of `reference` minus that of `ours` (interleaved stereo), each
/// ratio floored at −30 dB, silent sections skipped; dB within ±[`MAX_BAND_DB`], 0 when
/// nothing is measurable.
fn width_gain(reference: &[f32], ours: &[f32], rate: u32, sections: &[(f64, f64)]) -> f32 {
    let frames = reference.len().min(ours.len()) / 2;
    let ratio = |x: &[f32]| -> Option<f64> {
        let (mut m, mut s) = (0.0f64, 0.0f64);
        for f in x.chunks_exact(2) {
            let (a, b) = (f64::from(f[0]), f64::from(f[1]));
            m += (0.5 * (a + b)).powi(2);
            s += (0.5 * (a - b)).powi(2);
        }
        (m > 1e-10 * x.len() as f64).then(|| (10.0 * (s.max(1e-30) / m).log10()).max(-30.0))
    };
    let whole = [(0.0, frames as f64 / f64::from(rate))];
    let spans = if sections.is_empty() {
        &whole[..]
    } else {
        sections
    };
    let mut d: Vec<(f64, f64)> = spans
        .iter()
        .filter_map(|&(a, b)| {
            let (i, j) = (
                ((a.max(0.0) * f64::from(rate)) as usize).min(frames),
                ((b.max(0.0) * f64::from(rate)) as usize).min(frames),
            );
            if j <= i {
                return None;
            }
            let diff = ratio(&reference[2 * i..2 * j])? - ratio(&ours[2 * i..2 * j])?;
            Some((diff, (j - i) as f64))
        })
        .collect();
    if d.is_empty() {
        return 0.0;
    }
    d.sort_by(|x, y| x.0.total_cmp(&y.0));
    let half = d.iter().map(|x| x.1).sum::<f64>() / 2.0;
    let mut acc = 0.0;
    for (diff, w) in &d {
        acc += w;
        if acc >= half {
            return (*diff as f32).clamp(-MAX_BAND_DB, MAX_BAND_DB);
        }
    }
    0.0
}

/// A matching EQ (one for both channels) that moves the stereo sum's bands of `ours` onto
/// those of `reference` (both interleaved stereo at `rate`); empty when either is silent.
pub fn match_bands(reference: &[f32], ours: &[f32], rate: u32) -> Vec<Band> {
    let (r, o) = (
        sum_bands(&band_spectra(reference, rate)),
        sum_bands(&band_spectra(ours, rate)),
    );
    let silent = |b: &[f64]| b.iter().all(|x| *x < -150.0);
    if silent(&r) || silent(&o) {
        return Vec::new();
    }
    match_curve(&curve(&r, &o), rate as f32, MAX_BAND_DB)
}

/// The master chain as the session stores it (the engine's, which the Console plugin plays).
pub use auralis_engine::fx::master::MasterSettings as MasterChain;

/// How close the master came to the original.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Integrated loudness of the original and the master, LUFS.
    pub original_lufs: f64,
    pub master_lufs: f64,
    /// Mean absolute third-octave band difference (31.5 Hz – 16 kHz, mid + side over
    /// channels: the stereo sum's bands), dB.
    pub band_error_db: f64,
    /// The same before mastering (the mix loudness-matched only), dB.
    pub band_error_before_db: f64,
    /// True peak of the master, dBTP.
    pub master_true_peak_dbtp: f64,
    /// Limiter passes run (loudness and the true-peak check).
    pub limiter_passes: usize,
    /// Wall time of the stage, seconds.
    pub seconds: f64,
}

fn loudness(audio: &[f32], rate: u32) -> Result<(f64, f64)> {
    let mut m = LoudnessMeter::new(rate, 2)?;
    m.push(audio)?;
    let l = m.finish();
    Ok((l.integrated_lufs, l.true_peak_dbtp))
}

/// True peak of interleaved stereo, dBTP: each channel on its own core.
fn true_peak_dbtp(audio: &[f32], rate: u32) -> Result<f64> {
    let channel = |c: usize| -> Result<f64> {
        let err = |e: ebur128::Error| crate::Error::Internal {
            stage: "master",
            detail: format!("{e:?}"),
        };
        let mut m = ebur128::EbuR128::new(1, rate, ebur128::Mode::TRUE_PEAK).map_err(err)?;
        let mono: Vec<f32> = audio.iter().skip(c).step_by(2).copied().collect();
        m.add_frames_f32(&mono).map_err(err)?;
        m.true_peak(0).map_err(err)
    };
    let (l, r) = std::thread::scope(|s| {
        let r = s.spawn(|| channel(1));
        (channel(0), r.join())
    });
    let r = r.unwrap_or_else(|_| {
        Err(crate::Error::Internal {
            stage: "master",
            detail: "the true-peak thread panicked".into(),
        })
    })?;
    Ok(crate::level::amp_db(l?.max(r)))
}

/// Integrated loudness alone (without the true-peak meter's oversampling), LUFS.
fn integrated(audio: &[f32], rate: u32) -> Result<f64> {
    let err = |e: ebur128::Error| crate::Error::Internal {
        stage: "master",
        detail: format!("{e:?}"),
    };
    let mut m = ebur128::EbuR128::new(2, rate, ebur128::Mode::I).map_err(err)?;
    m.add_frames_f32(audio).map_err(err)?;
    let l = m.loudness_global().map_err(err)?;
    Ok(if l.is_finite() {
        l
    } else {
        crate::level::FLOOR_DB
    })
}

/// The mean difference of the stereo sums' bands from the reference's, less its median (the
/// spectrum's shape, whatever the level), dB.
fn shape_error(reference: &[Vec<f64>; 2], ours: &[Vec<f64>; 2]) -> f64 {
    let (r, o) = (sum_bands(reference), sum_bands(ours));
    let mut d: Vec<f64> = SCORED.map(|k| r[k] - o[k]).collect();
    let mut sorted = d.clone();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted[sorted.len() / 2];
    d.iter_mut().for_each(|x| *x = (*x - mid).abs());
    d.iter().sum::<f64>() / d.len() as f64
}

/// The mean band error of `audio` against `reference` (both loudness-matched already).
fn band_error(reference: &[Vec<f64>; 2], audio: &[f32], rate: u32) -> f64 {
    let s = band_spectra(audio, rate);
    // The stereo sum's bands: mid and side powers added.
    let sum = |m: &[f64], si: &[f64], k: usize| {
        10.0 * (10f64.powf(m[k] / 10.0) + 10f64.powf(si[k] / 10.0)).log10()
    };
    SCORED
        .map(|k| (sum(&reference[0], &reference[1], k) - sum(&s[0], &s[1], k)).abs())
        .sum::<f64>()
        / SCORED.len() as f64
}

/// Masters interleaved stereo `mix` against `original` (same rate, any lengths); returns the
/// master (as long as `mix`), its chain and the report.
/// `original_lufs` and `original_tp_dbtp` are the original's integrated loudness and true peak
/// (the session has them).
/// `sections` (seconds) are the original's: the width is matched over them as QC scores it
/// (none: over the whole song).
pub fn master(
    mix: &[f32],
    original: &[f32],
    rate: u32,
    original_lufs: f64,
    original_tp_dbtp: f64,
    sections: &[(f64, f64)],
) -> Result<(Vec<f32>, MasterChain, Report)> {
    let started = std::time::Instant::now();
    let (target_lufs, original_tp) = (original_lufs, original_tp_dbtp);
    let (reference, ours) = std::thread::scope(|scope| {
        let r = scope.spawn(|| band_spectra(original, rate));
        let o = band_spectra(mix, rate);
        (r.join().unwrap_or_else(|_| band_spectra(original, rate)), o)
    });
    let mut mid_eq = match_curve(&curve(&reference[0], &ours[0]), rate as f32, MAX_BAND_DB);
    let mut side_eq = match_curve(&curve(&reference[1], &ours[1]), rate as f32, MAX_BAND_DB);
    // Mid/side EQ, the two side by side in one loop (vector lanes).
    let frames = mix.len() / 2;
    let mut m: Vec<f32> = (0..frames)
        .map(|i| 0.5 * (mix[2 * i] + mix[2 * i + 1]))
        .collect();
    let mut s: Vec<f32> = (0..frames)
        .map(|i| 0.5 * (mix[2 * i] - mix[2 * i + 1]))
        .collect();
    {
        let (mut me, mut se) = (Eq::default(), Eq::default());
        me.set(&mid_eq, rate as f32);
        se.set(&side_eq, rate as f32);
        for (a, b) in m.chunks_mut(4096).zip(s.chunks_mut(4096)) {
            me.process_with(&mut se, a, b);
        }
    }
    let mut eqd: Vec<f32> = m.iter().zip(&s).flat_map(|(a, b)| [a + b, a - b]).collect();
    // The EQ is kept only where it brings the spectrum's shape closer to the original's (with
    // few FFT bins in the lowest bands, their levels are noisy and the corrections can
    // alternate band to band); the check runs beside the loudness measurement.
    let (eq_lufs, eq_shape) = std::thread::scope(|scope| {
        let shape = scope.spawn(|| shape_error(&reference, &band_spectra(&eqd, rate)));
        (integrated(&eqd, rate), shape.join())
    });
    let mut eq_lufs = eq_lufs?;
    let shape_kept = !eq_shape.is_ok_and(|e| e >= shape_error(&reference, &ours));
    if !shape_kept {
        mid_eq.clear();
        side_eq.clear();
        for (i, (a, b)) in m.iter_mut().zip(s.iter_mut()).enumerate() {
            *a = 0.5 * (mix[2 * i] + mix[2 * i + 1]);
            *b = 0.5 * (mix[2 * i] - mix[2 * i + 1]);
        }
        eqd = mix.to_vec();
        eq_lufs = integrated(&eqd, rate)?;
    }
    // The width: the side's level against the mid's, section by section as it is heard and
    // scored. The broadband side gain that makes the duration-weighted mean |difference| of
    // the sections' side-to-mid ratios (floored at −30 dB) least is their weighted median; it
    // follows the side's EQ (the chain's own stage, so the EQ need not run again).
    let width_db = width_gain(original, &eqd, rate, sections);
    let side_gain_db = if width_db.abs() >= 0.1 { width_db } else { 0.0 };
    if side_gain_db != 0.0 {
        let g = 10f32.powf(side_gain_db / 20.0);
        for (f, (a, b)) in eqd.chunks_exact_mut(2).zip(m.iter().zip(&s)) {
            let side = b * g;
            f[0] = a + side;
            f[1] = a - side;
        }
        eq_lufs = integrated(&eqd, rate)?;
    }
    drop((m, s));
    let ceiling = original_tp.min(-0.1) as f32;
    let limit_at = |gain_db: f64, ceiling: f32| -> Vec<f32> {
        let mut lim = Limiter::default();
        lim.allocate(rate as f32);
        lim.set(LimiterSettings {
            ceiling_db: ceiling,
            input_gain_db: gain_db as f32,
            ..Default::default()
        });
        let lat = lim.latency();
        // The limiter's look-ahead delays the audio: the first `lat` samples out are dropped
        // and the tail is fed silence, so that the master stays in time with the original.
        // Through block scratch buffers, straight into the interleaved output.
        const BLOCK: usize = 4096;
        let frames = eqd.len() / 2;
        let mut out = vec![0.0f32; 2 * frames];
        let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
        let mut written = 0usize;
        let mut start = 0usize;
        while start < frames + lat {
            let n = BLOCK.min(frames + lat - start);
            for k in 0..n {
                let f = start + k;
                (l[k], r[k]) = if f < frames {
                    (eqd[2 * f], eqd[2 * f + 1])
                } else {
                    (0.0, 0.0)
                };
            }
            lim.process(&mut l[..n], &mut r[..n]);
            for k in 0..n {
                let f = start + k;
                if f >= lat {
                    out[2 * written] = l[k];
                    out[2 * written + 1] = r[k];
                    written += 1;
                }
            }
            start += n;
        }
        out
    };
    // The standard meter's interpolator (BS.1770's 12 taps a phase) reads the limiter's
    // output up to about 0.1 dB over the limiter's own (finer) estimate: the limiter aims
    // that much under, so that the check below rarely has to run it again.
    let limit = |gain_db: f64| limit_at(gain_db, ceiling - METER_MARGIN_DB);
    // The loudness: a gain into the limiter, corrected by what each pass measured (the
    // limiter's loss grows with the gain: the third pass, where needed, takes the secant).
    // Meanwhile the figures before mastering are taken on the other core.
    // The figures before mastering (the mix loudness-matched only), taken while a core is
    // free: beside the first secant pass, or after the passes when none was needed.
    let before_figures = || -> Result<f64> {
        let mix_lufs = integrated(mix, rate)?;
        let g = 10f32.powf(((target_lufs - mix_lufs) / 20.0) as f32);
        let matched: Vec<f32> = mix.iter().map(|x| x * g).collect();
        Ok(band_error(&reference, &matched, rate))
    };
    let before = (|| -> Result<_> {
        // The first round runs two gains at once (on the two cores), the plain estimate and
        // one dB over it, so that the second can take the secant through both.
        let mut gain_db = target_lufs - eq_lufs;
        let (first, probe) = std::thread::scope(|inner| {
            let probe = inner.spawn(|| {
                let out = limit(gain_db + PROBE_DB);
                integrated(&out, rate).map(|l| (out, l))
            });
            let out = limit(gain_db);
            let first = integrated(&out, rate).map(|l| (out, l));
            (first, probe.join())
        });
        let (mut out, got) = first?;
        let mut tried: Vec<(f64, f64)> = vec![(gain_db, got)];
        if let Ok(Ok((probe_out, probe_got))) = probe {
            tried.push((gain_db + PROBE_DB, probe_got));
            if (target_lufs - probe_got).abs() < (target_lufs - got).abs() {
                out = probe_out;
                tried.swap(0, 1);
            }
        }
        let mut passes = tried.len();
        let mut before: Option<Result<f64>> = None;
        while (target_lufs - tried.last().map_or(f64::NAN, |t| t.1)).abs() > LOUDNESS_TOLERANCE_LU
            && passes < LOUDNESS_PASSES
        {
            gain_db = match tried[..] {
                [.., (g0, l0), (g1, l1)] if (l1 - l0).abs() > 1e-6 => {
                    g1 + (target_lufs - l1) * (g1 - g0) / (l1 - l0)
                }
                [.., (g, l)] => g + (target_lufs - l),
                [] => gain_db,
            };
            let (pass, figures) = std::thread::scope(|inner| {
                let figures = before.is_none().then(|| inner.spawn(before_figures));
                let out = limit(gain_db);
                let l = integrated(&out, rate).map(|l| (out, l));
                (l, figures.map(|f| f.join()))
            });
            if let Some(f) = figures {
                before = Some(f.unwrap_or_else(|_| {
                    Err(crate::Error::Internal {
                        stage: "master",
                        detail: "the reference figures' thread panicked".into(),
                    })
                }));
            }
            let (o, l) = pass?;
            out = o;
            tried.push((gain_db, l));
            passes += 1;
        }
        let before = match before {
            Some(b) => b?,
            None => before_figures()?,
        };
        let last_lufs = tried.last().map_or(f64::NAN, |t| t.1);
        Ok((out, gain_db_of(&tried), before, passes, last_lufs))
    })();
    // The last pass measured the kept output's loudness; only its true peak is left.
    let (mut out, gain_db, band_error_before_db, mut limiter_passes, mut master_lufs) = before?;
    let mut master_tp = true_peak_dbtp(&out, rate)?;
    // The standard meter (BS.1770's interpolator, not ours) can read a little over the
    // ceiling. A little (up to 0.05 dB) is taken off by a plain gain, which costs as much
    // loudness and nothing else; more, and the limiter runs again with its ceiling lowered by
    // what the meter read over.
    let mut limiter_ceiling = ceiling - METER_MARGIN_DB;
    let mut trim_db = 0.0;
    let over = master_tp - ceiling as f64;
    if over > 0.0 && over <= 0.05 {
        trim_db = -over;
        let g = 10f32.powf(trim_db as f32 / 20.0);
        out.iter_mut().for_each(|x| *x *= g);
        master_tp -= over;
        master_lufs -= over;
    } else if over > 0.05 {
        limiter_ceiling -= over as f32 + 0.01;
        out = limit_at(gain_db, limiter_ceiling);
        (master_lufs, master_tp) = loudness(&out, rate)?;
        limiter_passes += 1;
    }
    let report = Report {
        original_lufs: target_lufs,
        master_lufs,
        band_error_db: band_error(&reference, &out, rate),
        band_error_before_db,
        master_true_peak_dbtp: master_tp,
        limiter_passes,
        seconds: started.elapsed().as_secs_f64(),
    };
    let chain = MasterChain {
        mid_eq,
        side_eq,
        side_gain_db: f64::from(side_gain_db),
        gain_db,
        trim_db,
        limiter: LimiterSettings {
            ceiling_db: limiter_ceiling,
            input_gain_db: 0.0,
            ..Default::default()
        },
    };
    Ok((out, chain, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noise shaped by a slope, stereo with some side.
    fn shaped(tilt_db_per_octave: f64, level: f32, seed: u32, n: usize) -> Vec<f32> {
        let mut s = seed;
        let mut noise = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        // A one-pole tilt: low-pass mixed with the dry signal.
        let a = 0.95f32;
        let mix = (tilt_db_per_octave / 6.0).clamp(-1.0, 1.0) as f32;
        let (mut yl, mut yr) = (0.0f32, 0.0f32);
        (0..n)
            .flat_map(|_| {
                let (xl, xr) = (noise(), noise());
                yl = a * yl + (1.0 - a) * xl;
                yr = a * yr + (1.0 - a) * xr;
                let l = level * ((1.0 - mix.abs()) * xl + mix.max(0.0) * 8.0 * yl);
                let r = level * ((1.0 - mix.abs()) * xr + mix.max(0.0) * 8.0 * yr);
                [0.8 * l + 0.2 * r, 0.2 * l + 0.8 * r]
            })
            .collect()
    }

    #[test]
    fn the_master_meets_the_reference_loudness_and_spectrum() {
        let rate = 44_100;
        let n = rate as usize * 20;
        let original = shaped(0.0, 0.5, 1, n);
        let mix = shaped(3.0, 0.1, 2, n);
        let (lufs, tp) = loudness(&original, rate).unwrap();
        let (out, chain, report) = master(&mix, &original, rate, lufs, tp, &[]).unwrap();
        assert_eq!(out.len(), mix.len());

        assert!(
            (report.master_lufs - report.original_lufs).abs() < 0.1,
            "{report:?}"
        );
        assert!(report.band_error_db < 1.2, "{report:?}");
        assert!(
            report.band_error_db < report.band_error_before_db,
            "{report:?}"
        );
        assert!(
            report.master_true_peak_dbtp <= tp.min(-0.1) + 0.02 && chain.limiter.ceiling_db <= -0.1,
            "{report:?}"
        );

        // The engine's master chain (what the Console plugin runs) with the stored settings
        // gives the same master, once its look-ahead is accounted for, in any block size.
        let mut m = auralis_engine::fx::master::Master::default();
        m.allocate(rate as f32);
        m.set(&chain);
        let lat = m.latency();
        let (mut l, mut r): (Vec<f32>, Vec<f32>) =
            mix.chunks_exact(2).map(|f| (f[0], f[1])).unzip();
        l.extend(std::iter::repeat_n(0.0, lat));
        r.extend(std::iter::repeat_n(0.0, lat));
        let mut at = 0;
        for (i, n) in [64usize, 1000, 37, 4096].iter().cycle().enumerate() {
            if at >= l.len() || i > 1_000_000 {
                break;
            }
            let end = (at + n).min(l.len());
            m.process(&mut l[at..end], &mut r[at..end]);
            at = end;
        }
        let worst = out
            .chunks_exact(2)
            .zip(l[lat..].iter().zip(&r[lat..]))
            .map(|(o, (a, b))| (o[0] - a).abs().max((o[1] - b).abs()))
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "the engine's master differs by {worst}");
    }
}
