//! Sidechain pumping: the part's level dips at every kick and climbs back.
//!
//! Evidence comes only from kicks the part holds a note across (a note that began at least
//! 40 ms before the kick and lasts 30 ms past it, with no new onset of the part near the
//! kick): there, a dry part's level moves smoothly, so a step down right at the kick is the
//! pump. The step (the level 5–25 ms after the kick against 5–35 ms before) gives the
//! presence and a first depth; the shape over the following beat (median over the kicks of
//! the level against the level before the kick, as far as the note holds) is then fitted by
//! the engine's pump curve ([`auralis_engine::fx::dynamics::PumpSettings`]: floor + (1 −
//! floor)·u^curve over the release) plus a straight decay (the note's own), by a grid search.

use auralis_engine::fx::dynamics::PumpSettings;
use serde::{Deserialize, Serialize};

use super::{held_over, median, onset_within, Context, Envelope, HOP_S};

/// A pump found on a part.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PumpFound {
    /// Depth of the dip, dB.
    pub depth_db: f64,
    /// Time from the bottom back to unity, seconds.
    pub release_s: f64,
    /// Shape of the recovery (see the engine's pump).
    pub curve: f64,
    /// What triggers it.
    pub trigger: String,
    /// Kicks the part held a note across (the evidence).
    pub kicks_used: usize,
    /// Share of those kicks with a step down of more than 1.5 dB.
    pub consistency: f64,
}

impl PumpFound {
    /// The engine's settings for this pump.
    pub fn settings(&self) -> PumpSettings {
        PumpSettings {
            depth_db: self.depth_db as f32,
            attack_ms: 2.0,
            release_ms: (1000.0 * self.release_s) as f32,
            curve: self.curve as f32,
            ..Default::default()
        }
    }
}

/// Fewest kicks to decide on.
const MIN_KICKS: usize = 4;
/// Smallest median step that counts as a pump, dB.
const MIN_DEPTH_DB: f64 = 2.0;

/// Detects pumping on the part whose envelope is `env`.
pub fn detect(env: &Envelope, ctx: &Context) -> Option<PumpFound> {
    if ctx.kicks.len() < MIN_KICKS {
        return None;
    }
    let mut spacing: Vec<f64> = ctx.kicks.windows(2).map(|w| w[1] - w[0]).collect();
    let spacing = median(&mut spacing)?.clamp(0.1, 2.0);
    let mut steps = Vec::new();
    let mut used = Vec::new();
    for &k in ctx.kicks {
        if !held_over(ctx.notes, k - 0.04, k + 0.03) || onset_within(ctx.notes, k - 0.04, k + 0.04)
        {
            continue;
        }
        let (Some(before), Some(after)) = (
            env.mean_db(k - 0.035, k - 0.005),
            env.mean_db(k + 0.005, k + 0.025),
        ) else {
            continue;
        };
        if before < env.loud_db - 35.0 {
            continue;
        }
        steps.push(after - before);
        used.push((k, before));
    }
    if steps.len() < MIN_KICKS {
        return None;
    }
    let consistency = steps.iter().filter(|s| **s < -1.5).count() as f64 / steps.len() as f64;
    let step = median(&mut steps.clone())?;
    if -step < MIN_DEPTH_DB || consistency < 0.6 {
        return None;
    }
    // The shape: the median over kicks of the level against the level before, lag by lag,
    // as long as the note holds and no onset comes.
    let lags = ((0.95 * spacing) / HOP_S) as usize;
    let mut profile = Vec::with_capacity(lags);
    for j in 0..lags {
        let lag = j as f64 * HOP_S;
        let mut v: Vec<f64> = used
            .iter()
            .filter(|(k, _)| {
                held_over(ctx.notes, *k, k + lag + HOP_S)
                    && !onset_within(ctx.notes, k + 0.04, k + lag + HOP_S)
            })
            .filter_map(|(k, before)| env.mean_db(k + lag, k + lag + HOP_S).map(|d| d - before))
            .collect();
        if v.len() < MIN_KICKS.min(used.len()) {
            break;
        }
        profile.push(median(&mut v)?);
    }
    if profile.len() < 8 {
        return None;
    }
    let (depth_db, release_s, curve) = fit_shape(&profile);
    Some(PumpFound {
        depth_db,
        release_s,
        curve,
        trigger: "kick".into(),
        kicks_used: used.len(),
        consistency,
    })
}

/// Fits floor + (1 − floor)·u^curve (in dB, plus a straight fall: the note's own) to the
/// profile (dB against the level before the kick, at lags of [`HOP_S`]; the first frame,
/// which straddles the kick, is left out); returns (depth dB, release s, curve).
fn fit_shape(profile: &[f64]) -> (f64, f64, f64) {
    let profile = &profile[1..];
    let lags: Vec<f64> = (1..=profile.len()).map(|j| j as f64 * HOP_S).collect();
    let mut best = (f64::INFINITY, 0.0, 0.1, 2.0);
    let mut model = vec![0.0; profile.len()];
    for depth10 in (10..=300).step_by(5) {
        let depth = depth10 as f64 / 10.0;
        let floor = 10f64.powf(-depth / 20.0);
        for release_ms in (20..=1200).step_by(10) {
            let release = release_ms as f64 / 1000.0;
            for curve in [1.0, 1.5, 2.0, 3.0] {
                for (m, &lag) in model.iter_mut().zip(&lags) {
                    let u = (lag / release).min(1.0);
                    *m = 20.0 * (floor + (1.0 - floor) * u.powf(curve)).log10();
                }
                let err = residual(profile, &model, &lags);
                if err < best.0 {
                    best = (err, depth, release, curve);
                }
            }
        }
    }
    (best.1, best.2, best.3)
}

/// The squared error left after fitting `profile − model ≈ b·lag` with b ≤ 0 (the level
/// before the kick is the reference, so there is no offset).
fn residual(profile: &[f64], model: &[f64], lags: &[f64]) -> f64 {
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for ((p, m), x) in profile.iter().zip(model).zip(lags) {
        sxx += x * x;
        sxy += x * (p - m);
    }
    let b = (sxy / sxx.max(1e-12)).min(0.0);
    profile
        .iter()
        .zip(model)
        .zip(lags)
        .map(|((p, m), x)| (p - m - b * x).powi(2))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use auralis_engine::fx::dynamics::Pump;
    use auralis_engine::render::NoteSpec;

    /// A held chord of sines, pumped by the engine's pump at every beat.
    fn pumped(depth_db: f32, release_ms: f32) -> (Vec<f32>, Vec<NoteSpec>, Vec<f64>) {
        let rate = 44_100.0f32;
        let beat = 0.5;
        let n = (rate * 12.0) as usize;
        let mut l: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f32 / rate;
                0.2 * ((std::f32::consts::TAU * 220.0 * t).sin()
                    + (std::f32::consts::TAU * 277.0 * t).sin())
            })
            .collect();
        let mut r = l.clone();
        let kicks: Vec<f64> = (1..23).map(|k| k as f64 * beat).collect();
        let mut p = Pump::default();
        p.set(
            PumpSettings {
                depth_db,
                attack_ms: 1.0,
                release_ms,
                curve: 2.0,
                ..Default::default()
            },
            rate,
        );
        p.reset();
        let block = 441;
        for (b, (cl, cr)) in l.chunks_mut(block).zip(r.chunks_mut(block)).enumerate() {
            let start = (b * block) as f64 / rate as f64;
            for &k in &kicks {
                let at = ((k - start) * rate as f64).round();
                if at >= 0.0 && at < block as f64 {
                    p.trigger(at as u32);
                }
            }
            if depth_db > 0.0 {
                p.process(cl, cr, None);
            }
        }
        let notes: Vec<NoteSpec> = (0..6)
            .map(|i| NoteSpec {
                start_s: 0.2 + 2.0 * i as f64,
                end_s: 2.15 + 2.0 * i as f64,
                pitch: 57,
                velocity: 0.8,
            })
            .collect();
        let audio = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
        (audio, notes, kicks)
    }

    #[test]
    fn a_pumped_pad_gives_its_depth_and_release_and_a_dry_one_none() {
        for (depth, release) in [(9.0f32, 300.0f32), (6.0, 180.0), (12.0, 400.0)] {
            let (audio, notes, kicks) = pumped(depth, release);
            let env = Envelope::of_stereo(&audio, 44_100);
            let ctx = Context {
                notes: &notes,
                kicks: &kicks,
                beat_s: 0.5,
            };
            let p = detect(&env, &ctx).expect("pump found");
            assert!((p.depth_db - depth as f64).abs() < 1.5, "{depth}: {p:?}");
            assert!(
                (p.release_s - release as f64 / 1000.0).abs() < 0.25 * release as f64 / 1000.0,
                "{release}: {p:?}"
            );
        }
        let (audio, notes, kicks) = pumped(0.0, 300.0);
        let env = Envelope::of_stereo(&audio, 44_100);
        let ctx = Context {
            notes: &notes,
            kicks: &kicks,
            beat_s: 0.5,
        };
        assert_eq!(detect(&env, &ctx), None);
    }
}
