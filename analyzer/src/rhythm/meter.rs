//! Meter and downbeats from beat-synchronous evidence; subdivision and swing from the novelty
//! folded over the beats.
//!
//! Downbeats: each beat gets a downbeat likelihood, the weighted sum of standardised features —
//! harmonic change (chords change on strong beats), bass change, low-band onset (kick and bass
//! attacks) and overall accent. This is the evidence used by M. Goto, "An audio-based real-time
//! beat tracking system for music with or without drum-sounds", J. New Music Research 30(2),
//! 2001 (chord changes) and by M. Davies and M. Plumbley, "A spectral difference approach to
//! downbeat extraction in musical audio", EUSIPCO 2006. The bar length `M ∈ {2, 3, 4}` is voted
//! by the contrast of its best phase in overlapping windows; the bar position of every beat is
//! then decoded by Viterbi over positions that advance one per beat or reset to a downbeat at a
//! fixed cost, so an inserted or dropped beat moves the downbeats instead of ruining them (the
//! bar-pointer idea of N. Whiteley, A. Cemgil and S. Godsill, ISMIR 2006, reduced to one tempo).
//!
//! Notes: a bar of two beats explains any four-beat bar almost as well as four (every other
//! beat), so `M = 2` must beat `M = 4` by a clear factor before 2/4 is reported.
//!
//! Subdivision: the novelty is folded over each beat into [`FOLD_BINS`] phase bins; a
//! *ternary* beat has onsets at ⅓ and ⅔ and none at ½, giving compound meters (6/8, 9/8,
//! 12/8); otherwise the off-beat peak's position is the swing (0.5 straight, ⅔ triplet).

/// Phase bins of the folded novelty.
pub const FOLD_BINS: usize = 48;
/// Factor by which two-beat bars must out-score four-beat bars.
const TWO_OVER_FOUR: f64 = 1.25;

/// Per-beat evidence for the bar position.
#[derive(Debug, Clone, Default)]
pub struct BeatEvidence {
    /// Harmonic (treble chroma) change into the beat.
    pub harmonic: Vec<f32>,
    /// Bass chroma change into the beat.
    pub bass: Vec<f32>,
    /// Low-band onset strength at the beat.
    pub low: Vec<f32>,
    /// Full-band onset strength at the beat.
    pub accent: Vec<f32>,
}

/// A meter estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterEstimate {
    /// Time-signature numerator.
    pub numerator: u32,
    /// Time-signature denominator.
    pub denominator: u32,
    /// Beats (tracked pulses) per bar.
    pub beats_per_bar: usize,
    /// Position in the bar of every beat (0 = downbeat).
    pub positions: Vec<usize>,
    /// 0–1.
    pub confidence: f64,
}

fn standardise(v: &[f32]) -> Vec<f64> {
    let n = v.len().max(1) as f64;
    let m = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let sd = (v.iter().map(|&x| (f64::from(x) - m).powi(2)).sum::<f64>() / n).sqrt();
    v.iter()
        .map(|&x| {
            if sd > 1e-12 {
                (f64::from(x) - m) / sd
            } else {
                0.0
            }
        })
        .collect()
}

/// Contrast of positions `≡ phase (mod m)` against the rest.
fn contrast(z: &[f64], m: usize, phase: usize) -> f64 {
    let (mut on, mut n_on, mut off, mut n_off) = (0.0, 0usize, 0.0, 0usize);
    for (i, &v) in z.iter().enumerate() {
        if i % m == phase {
            on += v;
            n_on += 1;
        } else {
            off += v;
            n_off += 1;
        }
    }
    if n_on == 0 || n_off == 0 {
        return 0.0;
    }
    on / n_on as f64 - off / n_off as f64
}

/// Feature weights: harmonic, bass, low onset, accent.
const WEIGHTS: [f64; 4] = [1.0, 0.7, 0.5, 0.3];

/// Downbeat likelihood per beat: the weighted sum of the standardised features.
pub fn downbeat_likelihood(ev: &BeatEvidence) -> Vec<f64> {
    let feats = [
        standardise(&ev.harmonic),
        standardise(&ev.bass),
        standardise(&ev.low),
        standardise(&ev.accent),
    ];
    (0..ev.harmonic.len())
        .map(|i| feats.iter().zip(WEIGHTS).map(|(z, w)| w * z[i]).sum())
        .collect()
}

/// Beats per window of the bar-length vote.
const VOTE_WINDOW_BEATS: usize = 48;

/// Score of each bar length (2, 3, 4 beats): the contrast of its best phase, taken in windows of
/// [`VOTE_WINDOW_BEATS`] beats (half overlapping) and averaged, so that a place where the bar
/// phase shifts (an inserted or dropped beat) does not blur the vote for the whole track.
pub fn bar_length_scores(d: &[f64]) -> [(usize, f64); 3] {
    let n = d.len();
    let mut starts: Vec<usize> = (0..n.saturating_sub(VOTE_WINDOW_BEATS) + 1)
        .step_by(VOTE_WINDOW_BEATS / 2)
        .collect();
    if starts.is_empty() {
        starts.push(0);
    }
    let mut out = [(2, 0.0), (3, 0.0), (4, 0.0)];
    for o in out.iter_mut() {
        let m = o.0;
        let mut total = 0.0;
        for &a in &starts {
            let w = &d[a..(a + VOTE_WINDOW_BEATS).min(n)];
            total += (0..m)
                .map(|phase| contrast(w, m, phase))
                .fold(f64::MIN, f64::max);
        }
        o.1 = total / starts.len() as f64;
    }
    out
}

/// Cost of a phase reset in the bar-position decoding, in units of downbeat likelihood: a
/// shifted bar phase must be supported by this much evidence (about two bars' worth) before
/// the decoder follows it.
const RESET_COST: f64 = 6.0;

/// Bar position (0 = downbeat) of every beat for bars of `m` beats: Viterbi decoding over
/// positions that advance by one per beat, or reset to a downbeat at [`RESET_COST`] (a bar cut
/// short), scored by the downbeat likelihood `d` on downbeats.
pub fn bar_positions(d: &[f64], m: usize) -> Vec<usize> {
    let n = d.len();
    if n == 0 || m == 0 {
        return Vec::new();
    }
    let mut score: Vec<f64> = (0..m).map(|s| if s == 0 { d[0] } else { 0.0 }).collect();
    let mut back = vec![0usize; n * m];
    for i in 1..n {
        let mut next = vec![f64::MIN; m];
        for (s, nx) in next.iter_mut().enumerate() {
            let advance_from = (s + m - 1) % m;
            let mut best = (score[advance_from], advance_from);
            if s == 0 {
                for (p, &sp) in score.iter().enumerate() {
                    if p != m - 1 && sp - RESET_COST > best.0 {
                        best = (sp - RESET_COST, p);
                    }
                }
            }
            *nx = best.0 + if s == 0 { d[i] } else { 0.0 };
            back[i * m + s] = best.1;
        }
        score = next;
    }
    let mut s = (0..m)
        .max_by(|&a, &b| score[a].total_cmp(&score[b]))
        .unwrap_or(0);
    let mut out = vec![0usize; n];
    for i in (0..n).rev() {
        out[i] = s;
        s = back[i * m + s];
    }
    out
}

/// Subdivision of the beat read from the folded novelty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subdivision {
    /// Whether the beat divides in three.
    pub ternary: bool,
    /// Off-beat position within the beat (0.5 straight).
    pub offbeat_position: f64,
    /// Strength of the off-beat peak relative to the on-beat one, 0–1.
    pub offbeat_strength: f64,
}

/// Folds `novelty` (frames at `frame_rate`) over the beats into [`FOLD_BINS`] phase bins: per
/// bin, the mean over beats of the novelty maximum in that bin.
pub fn fold(novelty: &[f32], frame_rate: f64, beats: &[f64]) -> [f64; FOLD_BINS] {
    let mut acc = [0.0f64; FOLD_BINS];
    let mut cnt = [0usize; FOLD_BINS];
    for w in beats.windows(2) {
        let (a, b) = (w[0] * frame_rate, w[1] * frame_rate);
        let mut best = [0.0f32; FOLD_BINS];
        let mut t = a.ceil() as usize;
        while (t as f64) < b && t < novelty.len() {
            let phase = (t as f64 - a) / (b - a);
            let bin = ((phase * FOLD_BINS as f64) as usize).min(FOLD_BINS - 1);
            best[bin] = best[bin].max(novelty[t]);
            t += 1;
        }
        for k in 0..FOLD_BINS {
            acc[k] += f64::from(best[k]);
            cnt[k] += 1;
        }
    }
    let mut out = [0.0f64; FOLD_BINS];
    for k in 0..FOLD_BINS {
        out[k] = if cnt[k] > 0 {
            acc[k] / cnt[k] as f64
        } else {
            0.0
        };
    }
    out
}

/// Reads the subdivision off a folded profile.
pub fn subdivision(profile: &[f64; FOLD_BINS]) -> Subdivision {
    let at = |phase: f64| {
        // Max over ±1 bin, wrapping at the beat.
        let c = (phase * FOLD_BINS as f64).round() as isize;
        (c - 1..=c + 1)
            .map(|k| profile[k.rem_euclid(FOLD_BINS as isize) as usize])
            .fold(0.0, f64::max)
    };
    let on = at(0.0).max(1e-12);
    let floor = {
        let mut v = profile.to_vec();
        v.sort_by(f64::total_cmp);
        v[FOLD_BINS / 4]
    };
    let (third, two_thirds, half) = (at(1.0 / 3.0), at(2.0 / 3.0), at(0.5));
    let ternary = third.min(two_thirds) - floor > 0.5 * (on - floor)
        && half - floor < 0.6 * (third.min(two_thirds) - floor);
    // Off-beat peak between 0.4 and 0.75 of the beat.
    let lo = (0.4 * FOLD_BINS as f64) as usize;
    let hi = (0.75 * FOLD_BINS as f64) as usize;
    let k = (lo..=hi)
        .max_by(|&a, &b| profile[a].total_cmp(&profile[b]))
        .unwrap_or(FOLD_BINS / 2);
    let (l, c, r) = (profile[k - 1], profile[k], profile[(k + 1) % FOLD_BINS]);
    let den = l - 2.0 * c + r;
    let d = if den < 0.0 {
        (0.5 * (l - r) / den).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    // Bin k spans [k, k+1)/FOLD_BINS; an onset exactly at phase p lands in bin floor(p·B).
    let pos = (k as f64 + d + 0.5) / FOLD_BINS as f64;
    let strength = ((c - floor) / (on - floor).max(1e-12)).clamp(0.0, 1.0);
    Subdivision {
        ternary,
        offbeat_position: if strength > 0.15 { pos } else { 0.5 },
        offbeat_strength: strength,
    }
}

/// Chooses the meter and the phase of the downbeats.
pub fn estimate(ev: &BeatEvidence, sub: &Subdivision) -> MeterEstimate {
    let d = downbeat_likelihood(ev);
    let [b2, b3, b4] = bar_length_scores(&d);
    let mut best = if b3.1 > b4.1 { b3 } else { b4 };
    if b2.1 > TWO_OVER_FOUR * b4.1.max(0.0) && b2.1 > b3.1 {
        best = b2;
    }
    let mut others: Vec<f64> = [b2, b3, b4]
        .iter()
        .filter(|s| s.0 != best.0)
        .map(|s| s.1)
        .collect();
    others.sort_by(|a, b| b.total_cmp(a));
    let margin = best.1 - others.first().copied().unwrap_or(0.0);
    let confidence = (1.0 - (-margin.max(0.0) / 0.3).exp()).clamp(0.0, 1.0);
    let m = best.0;
    let (numerator, denominator) = if sub.ternary {
        (3 * m as u32, 8)
    } else {
        (m as u32, 4)
    };
    MeterEstimate {
        numerator,
        denominator,
        beats_per_bar: m,
        positions: bar_positions(&d, m),
        confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(m: usize, phase: usize, n: usize) -> BeatEvidence {
        let f = |strong: f32, weak: f32| {
            (0..n)
                .map(|i| if i % m == phase { strong } else { weak })
                .collect::<Vec<_>>()
        };
        BeatEvidence {
            harmonic: f(0.8, 0.1),
            bass: f(0.6, 0.2),
            low: f(1.0, 0.7),
            accent: f(1.0, 0.9),
        }
    }

    #[test]
    fn finds_bar_length_and_phase() {
        let straight = Subdivision {
            ternary: false,
            offbeat_position: 0.5,
            offbeat_strength: 0.5,
        };
        for (m, phase, num) in [(4, 1, 4), (3, 2, 3), (2, 0, 2), (4, 3, 4)] {
            let e = estimate(&evidence(m, phase, 96), &straight);
            assert_eq!((e.beats_per_bar, e.numerator, e.denominator), (m, num, 4));
            let downbeats: Vec<usize> = (0..96).filter(|&i| e.positions[i] == 0).collect();
            assert_eq!(downbeats, (phase..96).step_by(m).collect::<Vec<_>>());
        }
        let ternary = Subdivision {
            ternary: true,
            ..straight
        };
        let e = estimate(&evidence(2, 1, 96), &ternary);
        assert_eq!((e.numerator, e.denominator), (6, 8));
    }

    #[test]
    fn bar_phase_follows_a_dropped_beat() {
        // Four-beat bars; from beat 40 on the downbeats fall one beat earlier (a beat dropped):
        // one bar around the shift is cut to three beats and the new phase is followed.
        let mut d = Vec::new();
        for i in 0..40 {
            d.push(if i % 4 == 0 { 2.0 } else { -0.7 });
        }
        for i in 0..40 {
            d.push(if i % 4 == 3 { 2.0 } else { -0.7 });
        }
        let pos = bar_positions(&d, 4);
        let downbeats: Vec<usize> = (0..80).filter(|&i| pos[i] == 0).collect();
        let before: Vec<usize> = downbeats.iter().copied().filter(|&i| i <= 36).collect();
        let after: Vec<usize> = downbeats.iter().copied().filter(|&i| i >= 43).collect();
        assert_eq!(before, (0..=36).step_by(4).collect::<Vec<_>>());
        assert_eq!(after, (43..80).step_by(4).collect::<Vec<_>>());
        assert!(
            downbeats.iter().filter(|&&i| i > 36 && i < 43).count() <= 1,
            "{downbeats:?}"
        );
        // The vote for four-beat bars is not blurred by the shift.
        let [b2, _, b4] = bar_length_scores(&d);
        assert!(b4.1 > 1.25 * b2.1, "{b2:?} {b4:?}");
    }

    #[test]
    fn subdivision_reads_straight_swung_and_ternary() {
        let beats: Vec<f64> = (0..60).map(|i| i as f64 * 0.5).collect();
        let fr = 100.0;
        let make = |offs: &[(f64, f32)]| {
            let mut x = vec![0.0f32; 3100];
            for &b in &beats {
                x[(b * fr).round() as usize] = 1.0;
                for &(o, a) in offs {
                    x[((b + o * 0.5) * fr).round() as usize] = a;
                }
            }
            x
        };
        let s = subdivision(&fold(&make(&[(0.5, 0.6)]), fr, &beats));
        assert!(
            !s.ternary && (s.offbeat_position - 0.5).abs() < 0.03,
            "{s:?}"
        );
        let s = subdivision(&fold(&make(&[(0.62, 0.6)]), fr, &beats));
        assert!(
            !s.ternary && (s.offbeat_position - 0.62).abs() < 0.03,
            "{s:?}"
        );
        let s = subdivision(&fold(
            &make(&[(1.0 / 3.0, 0.6), (2.0 / 3.0, 0.6)]),
            fr,
            &beats,
        ));
        assert!(s.ternary, "{s:?}");
    }
}
