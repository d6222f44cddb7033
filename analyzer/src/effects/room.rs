//! Reverb: how fast the part's sound dies once its notes have all ended.
//!
//! Two estimates. Where the part falls silent often enough (three gaps or more), from its
//! gaps (below). Where it hardly ever does (pads, strings, legato lines), from the decays of
//! its sub-band envelopes (as in Wen, Habets and Naylor, "Blind estimation of reverberation
//! time based on the distribution of signal decay rates", ICASSP 2008): in every band, each
//! stretch where the level falls steadily for 150 ms or more by 10 dB or more gives a decay
//! rate. Where the wet level is high, nothing dies faster than the room lets it; at the wet
//! levels of mixes (8 to 18 dB under the dry sound) most decays are the dry sound's own
//! quicker fall, and where the room's tail takes over it is the slower one: the figure is the
//! 75th percentile of the decays' RT60s (see [`DECAY_QUANTILE`]).
//!
//! For each gap of at least 300 ms where none of the part's notes sounds, the level from the
//! last note's end on is smoothed (20 ms) and the straight line through its fall from 15 dB
//! to 45 dB below the level at the end (or to 6 dB above the gap's floor) gives a decay rate;
//! RT60 = 60 dB over that rate, the median over the gaps. The first 15 dB are left out: that
//! is where the instrument's own release and the direct sound fade, before the room's tail
//! carries the level (the late decay, as ISO 3382's T30 leaves out the first 5 dB).

use serde::{Deserialize, Serialize};

use super::{median, silent_over, Context, Envelope, HOP_S};

/// Reverb found on a part.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct RoomFound {
    /// Decay to −60 dB, seconds.
    pub rt60_s: f64,
    /// Gaps measured (the evidence; 0 when the sub-band decays gave the figure).
    pub gaps_used: usize,
    /// Sub-band decays measured (0 when the gaps gave the figure).
    #[serde(default)]
    pub decays_used: usize,
    /// Spread of the gaps' RT60s: the interquartile range over the median.
    pub spread: f64,
}

/// Shortest gap measured, seconds.
const MIN_GAP_S: f64 = 0.3;
/// Longest stretch of a gap measured, seconds.
const MAX_GAP_S: f64 = 4.0;

/// Measures the reverb of the part whose envelope is `env` (and, for the sub-band decays,
/// whose mono audio is `mono` at `rate`).
pub fn detect(env: &Envelope, ctx: &Context, mono: &[f32], rate: u32) -> Option<RoomFound> {
    from_gaps(env, ctx).or_else(|| from_decays(mono, rate))
}

/// Bands of the sub-band decays.
const DECAY_BANDS: usize = 12;
/// The quantile of the decays' RT60s taken as the room's. Chosen on the corpus of seed 1 and
/// checked on seed 7 (the 75th percentile was within ±25 % of the truth on 15 of 27 and 18
/// of 28 stems, the median on 9 and 13, the 25th on 9 and 10): at the wet levels of mixes
/// most decays are the dry sound's own quicker fall, and the room's tail the slow end.
const DECAY_QUANTILE: f64 = 0.75;
/// Share of a decay's fall left out at its start (5 to 20 dB).
const SKIP_SHARE: f64 = 0.4;
/// Shortest decay measured, frames of 10 ms.
const MIN_DECAY_FRAMES: usize = 15;

/// The sub-band decay estimate (see the module docs).
pub fn from_decays(mono: &[f32], rate: u32) -> Option<RoomFound> {
    let hop = ((0.01 * rate as f64).round() as usize).max(1);
    let frame_s = hop as f64 / rate as f64;
    let mut spec = crate::hands::mel::MelSpec::new(rate, 1024, hop, DECAY_BANDS);
    let p = spec.powers(mono);
    let frames = p.len() / DECAY_BANDS;
    let mut rts = Vec::new();
    for b in 0..DECAY_BANDS {
        // 30 ms smoothing (power), then dB.
        let band: Vec<f64> = (0..frames)
            .map(|t| {
                let lo = t.saturating_sub(1);
                let hi = (t + 1).min(frames - 1);
                let s: f64 = (lo..=hi).map(|u| p[u * DECAY_BANDS + b] as f64).sum();
                10.0 * (s / (hi - lo + 1) as f64).max(1e-20).log10()
            })
            .collect();
        let mut sorted = band.clone();
        sorted.sort_by(f64::total_cmp);
        let loud = sorted[((sorted.len() as f64 * 0.99) as usize).min(sorted.len() - 1)];
        let mut t = 0;
        while t + 1 < frames {
            // A decay starts at a frame louder than the next, within 40 dB of the band's loud
            // level, and runs while the level keeps falling (0.3 dB of wobble allowed).
            if band[t] < loud - 40.0 || band[t + 1] >= band[t] {
                t += 1;
                continue;
            }
            let mut end = t + 1;
            while end + 1 < frames && band[end + 1] <= band[end] + 0.3 {
                end += 1;
            }
            let start_db = band[t];
            // The floor: the fall is measured down to 45 dB below its start or 50 dB below
            // the loud level. The start left out: the direct sound's own end falls first
            // (as far as the reverb lies below it), so the fit starts once the level is
            // `skip` below the start.
            let bottom = (start_db - 45.0).max(loud - 50.0);
            let total = start_db - band[end].max(bottom);
            let skip = (SKIP_SHARE * total).clamp(5.0, 20.0);
            let i0 = (t..=end).find(|&i| band[i] <= start_db - skip);
            let i1 = (t..=end).find(|&i| band[i] <= bottom).unwrap_or(end);
            if let Some(i0) = i0 {
                if i1 >= i0 + MIN_DECAY_FRAMES - 5
                    && end - t >= MIN_DECAY_FRAMES
                    && band[i0] - band[i1] >= 10.0
                {
                    let slope = slope_of(&band[i0..=i1], frame_s);
                    if slope < -1.0 {
                        rts.push(-60.0 / slope);
                    }
                }
            }
            t = end + 1;
        }
    }
    if rts.len() < 5 {
        return None;
    }
    rts.sort_by(f64::total_cmp);
    let q = |p: f64| rts[((rts.len() - 1) as f64 * p).round() as usize];
    let rt60_s = q(DECAY_QUANTILE);
    Some(RoomFound {
        rt60_s,
        gaps_used: 0,
        decays_used: rts.len(),
        spread: (q(0.5) - q(0.1)) / rt60_s.max(1e-6),
    })
}

/// The gap estimate (see the module docs).
pub fn from_gaps(env: &Envelope, ctx: &Context) -> Option<RoomFound> {
    let mut ends: Vec<f64> = ctx.notes.iter().map(|n| n.end_s).collect();
    ends.sort_by(f64::total_cmp);
    ends.dedup_by(|a, b| (*a - *b).abs() < 0.01);
    let total = env.db.len() as f64 * HOP_S;
    let mut rts = Vec::new();
    for &e in &ends {
        // The gap: from this end to the next onset (or the end of the audio).
        let next = ctx
            .notes
            .iter()
            .map(|n| n.start_s)
            .filter(|&s| s > e - 1e-6)
            .fold(total, f64::min);
        let gap_end = next.min(e + MAX_GAP_S).min(total - HOP_S);
        if gap_end - e < MIN_GAP_S || !silent_over(ctx.notes, e + 1e-3, gap_end) {
            continue;
        }
        let Some(start_db) = env.mean_db(e - 0.03, e) else {
            continue;
        };
        if start_db < env.loud_db - 30.0 {
            continue;
        }
        let (Some(a), Some(b)) = (env.frame(e), env.frame(gap_end)) else {
            continue;
        };
        // 20 ms smoothing (power).
        let smooth: Vec<f64> = (a..b)
            .map(|f| {
                let lo = f.saturating_sub(2);
                let hi = (f + 2).min(env.db.len() - 1);
                let p = env.db[lo..=hi]
                    .iter()
                    .map(|d| 10f64.powf(d / 10.0))
                    .sum::<f64>()
                    / (hi - lo + 1) as f64;
                10.0 * p.max(1e-20).log10()
            })
            .collect();
        let floor = smooth.iter().copied().fold(f64::INFINITY, f64::min);
        let top = start_db - 15.0;
        let bottom = (start_db - 45.0).max(floor + 6.0);
        if top - bottom < 10.0 {
            continue;
        }
        // The stretch from the first frame below `top` to the first below `bottom`.
        let Some(i0) = smooth.iter().position(|&d| d <= top) else {
            continue;
        };
        let Some(i1) = smooth[i0..]
            .iter()
            .position(|&d| d <= bottom)
            .map(|i| i + i0)
        else {
            continue;
        };
        if i1 < i0 + 6 {
            continue;
        }
        let slope = slope_per_s(&smooth[i0..=i1]);
        if slope < -1.0 {
            rts.push(-60.0 / slope);
        }
    }
    if rts.len() < 3 {
        return None;
    }
    let mut sorted = rts.clone();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    let rt60_s = median(&mut rts)?;
    Some(RoomFound {
        rt60_s,
        gaps_used: sorted.len(),
        decays_used: 0,
        spread: (q(0.75) - q(0.25)) / rt60_s.max(1e-6),
    })
}

/// The least-squares slope of `db` (frames [`HOP_S`] apart), dB per second.
fn slope_per_s(db: &[f64]) -> f64 {
    slope_of(db, HOP_S)
}

/// The least-squares slope of `db` (frames `frame_s` apart), dB per second.
fn slope_of(db: &[f64], frame_s: f64) -> f64 {
    let n = db.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = db.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in db.iter().enumerate() {
        let x = i as f64 - mx;
        sxy += x * (y - my);
        sxx += x * x;
    }
    sxy / sxx.max(1e-12) / frame_s
}

#[cfg(test)]
mod tests {
    use super::*;
    use auralis_engine::render::NoteSpec;

    /// Short noise bursts (the notes), each followed by an exponential tail of the given RT60
    /// 12 dB below the burst.
    fn tails(rt60: f64) -> (Vec<f32>, Vec<NoteSpec>) {
        let rate = 44_100.0;
        let n = (rate * 20.0) as usize;
        let mut seed = 7u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f64 / (1u32 << 24) as f64 - 0.5
        };
        let notes: Vec<NoteSpec> = (0..10)
            .map(|i| NoteSpec {
                start_s: 0.5 + 2.0 * i as f64,
                end_s: 0.7 + 2.0 * i as f64,
                pitch: 60,
                velocity: 0.8,
            })
            .collect();
        let mut audio = vec![0.0f32; 2 * n];
        for i in 0..n {
            let t = i as f64 / rate;
            let mut x = 0.0;
            for note in &notes {
                if t >= note.start_s && t < note.end_s {
                    x += 0.5 * noise();
                } else if t >= note.end_s {
                    let dt = t - note.end_s;
                    // The dry part stops at once; the room carries on.
                    x += 0.5 * 0.25 * noise() * 10f64.powf(-3.0 * dt / rt60);
                }
            }
            audio[2 * i] = x as f32;
            audio[2 * i + 1] = x as f32;
        }
        (audio, notes)
    }

    #[test]
    fn tails_give_their_rt60() {
        for rt60 in [0.6, 1.5] {
            let (audio, notes) = tails(rt60);
            let env = Envelope::of_stereo(&audio, 44_100);
            let ctx = Context {
                notes: &notes,
                kicks: &[],
                beat_s: 0.5,
            };
            let r = from_gaps(&env, &ctx).expect("tails measured");
            assert!((r.rt60_s / rt60 - 1.0).abs() < 0.1, "{rt60}: {r:?}");
        }
    }
}
