//! A delay: the part's onsets come back one delay time later.
//!
//! For every candidate time from 80 ms to 1.5 s (5 ms apart), the onsets whose echo would land
//! where the part is silent (no note sounding 60 ms before to 40 ms after it) are taken, and
//! the rise of the level there (the 30 ms from the echo time against the 40 ms before it) is
//! their median. A dry part's silences only fall; an echo makes them jump at one time (and its
//! multiples). The best candidate counts when its median rise is over 3 dB and most onsets
//! agree. The wet level is the echo's level against its onset's, and the feedback the second
//! echo's against the first's. An "echo" within 3 dB of its note, or a second one not at least
//! 1 dB under the first, is the part repeating itself where its notes miss an onset, and
//! nothing is reported.

use serde::{Deserialize, Serialize};

use super::{median, onset_within, silent_over, Context, Envelope};

/// A delay found on a part.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct EchoFound {
    /// Delay time, seconds.
    pub time_s: f64,
    /// The same in beats (the nearest sixteenth, when within 3 %; else the exact ratio).
    pub beats: f64,
    /// Level of the first echo against its note, dB.
    pub wet_db: f64,
    /// Share of each echo fed into the next (0 when no second echo was heard).
    pub feedback: f64,
    /// Onsets measured at the chosen time (the evidence).
    pub onsets_used: usize,
    /// Median rise of the level at the echo time, dB.
    pub rise_db: f64,
}

/// Loudest echo against its note, dB.
const MAX_WET_DB: f64 = -3.0;
/// Fewest onsets to decide on.
const MIN_ONSETS: usize = 6;

fn onsets(ctx: &Context) -> Vec<f64> {
    let mut o: Vec<f64> = ctx.notes.iter().map(|n| n.start_s).collect();
    o.sort_by(f64::total_cmp);
    o.dedup_by(|a, b| (*a - *b).abs() < 0.03);
    o
}

/// The rises at `o + d` for the onsets whose echo lands in the part's silence.
fn rises(env: &Envelope, ctx: &Context, onsets: &[f64], d: f64) -> Vec<(f64, f64)> {
    onsets
        .iter()
        .filter(|&&o| {
            silent_over(ctx.notes, o + d - 0.06, o + d + 0.04)
                && !onset_within(ctx.notes, o + d - 0.06, o + d + 0.04)
        })
        .filter_map(|&o| {
            // Levels are floored 60 dB under the part's loud level: a rise out of digital
            // silence into a faint tail is no echo.
            let floor = env.loud_db - 60.0;
            let after = env.mean_db(o + d, o + d + 0.03)?.max(floor);
            let before = env.mean_db(o + d - 0.04, o + d - 0.005)?.max(floor);
            let note = env.mean_db(o, o + 0.03)?;
            (note >= env.loud_db - 30.0).then_some((after - before, after - note))
        })
        .collect()
}

/// Detects a delay on the part whose envelope is `env`.
pub fn detect(env: &Envelope, ctx: &Context) -> Option<EchoFound> {
    let onsets = onsets(ctx);
    if onsets.len() < MIN_ONSETS {
        return None;
    }
    let mut best: Option<(f64, f64, usize)> = None;
    for step in 16..=300 {
        let d = step as f64 * 0.005;
        let r = rises(env, ctx, &onsets, d);
        if r.len() < MIN_ONSETS {
            continue;
        }
        let agree = r.iter().filter(|x| x.0 > 1.5).count() as f64 / r.len() as f64;
        let rise = median(&mut r.iter().map(|x| x.0).collect::<Vec<_>>())?;
        if agree >= 0.5 && best.is_none_or(|b| rise > b.1) {
            best = Some((d, rise, r.len()));
        }
    }
    let (d, rise, used) = best?;
    if rise < 3.0 {
        return None;
    }
    let wet_db = median(
        &mut rises(env, ctx, &onsets, d)
            .iter()
            .map(|x| x.1)
            .collect::<Vec<_>>(),
    )?;
    // An "echo" about as loud as its note is the part itself (an onset its notes miss).
    if wet_db > MAX_WET_DB {
        return None;
    }
    let second: Vec<(f64, f64)> = rises(env, ctx, &onsets, 2.0 * d);
    let feedback = if second.len() >= MIN_ONSETS {
        let second_db = median(&mut second.iter().map(|x| x.1).collect::<Vec<_>>())?;
        let rise2 = median(&mut second.iter().map(|x| x.0).collect::<Vec<_>>())?;
        // A second "echo" as loud as the first is the part's own repetition (an onset the
        // notes miss, at every beat), not a delay: echoes fade.
        if second_db > wet_db - 1.0 && rise2 > 1.0 {
            return None;
        }
        if rise2 > 1.0 {
            10f64.powf((second_db - wet_db) / 20.0).min(0.95)
        } else {
            0.0
        }
    } else {
        0.0
    };
    let exact = d / ctx.beat_s.max(1e-6);
    let sixteenth = (exact * 4.0).round() / 4.0;
    let beats = if sixteenth > 0.0 && (exact / sixteenth - 1.0).abs() < 0.03 {
        sixteenth
    } else {
        exact
    };
    Some(EchoFound {
        time_s: d,
        beats,
        wet_db,
        feedback,
        onsets_used: used,
        rise_db: rise,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Envelope;
    use super::*;
    use auralis_engine::fx::delay::{Delay, DelaySettings};
    use auralis_engine::render::NoteSpec;

    #[test]
    fn an_echoed_part_gives_its_time_and_a_dry_one_none() {
        let rate = 44_100.0f32;
        let beat_s = 0.5;
        // Short decaying tones on irregular beats, with silences between.
        let starts = [
            0.5, 1.5, 2.0, 3.5, 4.5, 5.0, 6.5, 7.0, 8.5, 10.0, 11.0, 12.5, 13.0, 14.5,
        ];
        let notes: Vec<NoteSpec> = starts
            .iter()
            .map(|&s| NoteSpec {
                start_s: s,
                end_s: s + 0.12,
                pitch: 64,
                velocity: 0.8,
            })
            .collect();
        let n = (16.0 * rate) as usize;
        let dry: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / rate as f64;
                notes
                    .iter()
                    .filter(|nt| t >= nt.start_s && t < nt.end_s + 0.05)
                    .map(|nt| {
                        let dt = t - nt.start_s;
                        (0.5 * (-dt * 30.0).exp() * (std::f64::consts::TAU * 330.0 * dt).sin())
                            as f32
                    })
                    .sum()
            })
            .collect();
        for wet in [0.0f32, 0.3] {
            let mut d = Delay::default();
            d.allocate(rate);
            d.set_tempo(120.0);
            d.set(DelaySettings {
                beats: 0.75,
                feedback: 0.4,
                wet,
                ..Default::default()
            });
            let (mut l, mut r) = (dry.clone(), dry.clone());
            d.process(&mut l, &mut r);
            let audio: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
            let env = Envelope::of_stereo(&audio, 44_100);
            let ctx = Context {
                notes: &notes,
                kicks: &[],
                beat_s,
            };
            let found = detect(&env, &ctx);
            if wet == 0.0 {
                assert_eq!(found, None);
            } else {
                let e = found.expect("echo found");
                assert!((e.time_s - 0.375).abs() < 0.011, "{e:?}");
                assert_eq!(e.beats, 0.75);
                assert!((e.wet_db - 20.0 * 0.3f64.log10()).abs() < 3.0, "{e:?}");
                assert!((e.feedback - 0.4).abs() < 0.15, "{e:?}");
            }
        }
    }
}
