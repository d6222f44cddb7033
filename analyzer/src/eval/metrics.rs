//! Standard MIR evaluation metrics, defined as `mir_eval` defines them so that the figures
//! compare with published work.
//!
//! - Beat / downbeat F-measure: events matched one-to-one within ±70 ms (mir_eval.beat
//!   .f_measure; no 5 s trimming — stricter than `mir_eval.beat.evaluate`).
//! - Tempo Acc1: within 4 % of the reference; Acc2: also at ×2, ×3, ×½, ×⅓ (F. Gouyon et al.,
//!   "An experimental comparison of audio tempo induction algorithms", IEEE TASLP 14(5), 2006).
//! - Key: MIREX weighted score (same 1, estimate a fifth above with the same mode 0.5,
//!   relative 0.3, parallel 0.2; mir_eval.key.weighted_score).
//! - Chords: duration-weighted overlap of `majmin` and `sevenths` comparisons over the
//!   reference span (mir_eval.chord); reference chords outside the comparison's vocabulary
//!   are left out of both numerator and denominator.
//! - Sections: boundary hit rate F at ±0.5 s and ±3 s over all interval starts and the final
//!   end (mir_eval.segment.detection, `trim=False`).

use crate::harmony::chords::parse_label;

/// F-measure, precision and recall of event matching.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    pub f: f64,
    pub precision: f64,
    pub recall: f64,
}

impl Prf {
    /// From the number of matches and the sizes of the estimate and the reference (an empty
    /// side gives 0).
    pub fn from_counts(hits: u64, estimated: u64, reference: u64) -> Self {
        let ratio = |n: u64| if n > 0 { hits as f64 / n as f64 } else { 0.0 };
        let (precision, recall) = (ratio(estimated), ratio(reference));
        let f = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            f,
            precision,
            recall,
        }
    }
}

/// Maximum one-to-one matching of sorted event times within `window` seconds. On a line with
/// a common window, matching each reference to the earliest free estimate in reach is optimal.
pub fn match_events(reference: &[f64], estimate: &[f64], window: f64) -> usize {
    let mut est: Vec<f64> = estimate.to_vec();
    est.sort_by(f64::total_cmp);
    let mut refs: Vec<f64> = reference.to_vec();
    refs.sort_by(f64::total_cmp);
    let mut j = 0;
    let mut hits = 0;
    for &r in &refs {
        while j < est.len() && est[j] < r - window - 1e-9 {
            j += 1;
        }
        if j < est.len() && (est[j] - r).abs() <= window + 1e-9 {
            hits += 1;
            j += 1;
        }
    }
    hits
}

/// Precision, recall and F-measure of `estimate` against `reference` within `window`.
pub fn f_measure(reference: &[f64], estimate: &[f64], window: f64) -> Prf {
    if reference.is_empty() && estimate.is_empty() {
        return Prf {
            f: 1.0,
            precision: 1.0,
            recall: 1.0,
        };
    }
    if reference.is_empty() || estimate.is_empty() {
        return Prf {
            f: 0.0,
            precision: 0.0,
            recall: 0.0,
        };
    }
    let hits = match_events(reference, estimate, window) as u64;
    Prf::from_counts(hits, estimate.len() as u64, reference.len() as u64)
}

/// Tempo Acc1 (within 4 %).
pub fn tempo_acc1(reference: f64, estimate: f64) -> bool {
    (estimate - reference).abs() <= 0.04 * reference
}

/// Tempo Acc2 (within 4 % of the reference or of its double, triple, half or third).
pub fn tempo_acc2(reference: f64, estimate: f64) -> bool {
    [1.0, 2.0, 3.0, 0.5, 1.0 / 3.0]
        .iter()
        .any(|&k| tempo_acc1(reference * k, estimate))
}

/// MIREX weighted key score. Tonics are pitch classes, `minor` the mode.
pub fn key_score(ref_tonic: u8, ref_minor: bool, est_tonic: u8, est_minor: bool) -> f64 {
    let up = (est_tonic + 12 - ref_tonic) % 12;
    if up == 0 && ref_minor == est_minor {
        1.0
    } else if ref_minor == est_minor && up == 7 {
        0.5
    } else if (!ref_minor && est_minor && up == 9) || (ref_minor && !est_minor && up == 3) {
        0.3 // relative: C major ↔ A minor
    } else if up == 0 {
        0.2
    } else {
        0.0
    }
}

/// Parses a key label such as `"A minor"`, `"Bb major"`, `"F# min"`.
pub fn parse_key(label: &str) -> Option<(u8, bool)> {
    let mut parts = label.split_whitespace();
    let tonic = parts.next()?;
    let mode = parts.next().unwrap_or("major").to_ascii_lowercase();
    let (pc, _) = parse_label(&format!("{tonic}:maj"))?;
    Some((pc, mode.starts_with("min")))
}

/// Semitone set (bit per interval above the root) of a Harte shorthand; `None` if unknown.
fn quality_bits(q: &str) -> Option<u16> {
    let intervals: &[u16] = match q {
        "maj" | "" => &[0, 4, 7],
        "min" => &[0, 3, 7],
        "dim" => &[0, 3, 6],
        "aug" => &[0, 4, 8],
        "7" => &[0, 4, 7, 10],
        "maj7" => &[0, 4, 7, 11],
        "min7" => &[0, 3, 7, 10],
        "dim7" => &[0, 3, 6, 9],
        "hdim7" => &[0, 3, 6, 10],
        "minmaj7" => &[0, 3, 7, 11],
        "sus4" => &[0, 5, 7],
        "sus2" => &[0, 2, 7],
        "maj6" => &[0, 4, 7, 9],
        "min6" => &[0, 3, 7, 9],
        "9" => &[0, 4, 7, 10, 2],
        "maj9" => &[0, 4, 7, 11, 2],
        "min9" => &[0, 3, 7, 10, 2],
        "5" => &[0, 7],
        "1" => &[0],
        _ => return None,
    };
    Some(intervals.iter().fold(0u16, |acc, &i| acc | (1 << i)))
}

/// A chord reduced for comparison: `None` = N, else (root, semitone bits).
type Reduced = Option<(u8, u16)>;

fn reduce(label: &str) -> Option<Reduced> {
    match parse_label(label) {
        None => Some(None),
        Some((root, q)) => quality_bits(&q).map(|b| Some((root, b))),
    }
}

/// Which chord comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChordRule {
    /// Root and major/minor triad (intervals up to the fifth).
    MajMin,
    /// Root and the seventh-chord quality.
    Sevenths,
}

fn compare(rule: ChordRule, r: &str, e: &str) -> Option<bool> {
    let rr = reduce(r)?;
    let er = reduce(e).unwrap_or(Some((255, 0)));
    const TRIAD_MASK: u16 = 0xFF; // semitones 0..8
    let maj = quality_bits("maj").unwrap_or(0);
    let min = quality_bits("min").unwrap_or(0);
    match rule {
        ChordRule::MajMin => {
            let valid = |x: Reduced| match x {
                None => true,
                Some((_, b)) => b & TRIAD_MASK == maj || b & TRIAD_MASK == min,
            };
            if !valid(rr) {
                return None;
            }
            Some(match (rr, er) {
                (None, None) => true,
                (Some((ra, ba)), Some((rb, bb))) => ra == rb && ba & TRIAD_MASK == bb & TRIAD_MASK,
                _ => false,
            })
        }
        ChordRule::Sevenths => {
            let set: Vec<u16> = ["maj", "min", "maj7", "7", "min7"]
                .iter()
                .filter_map(|q| quality_bits(q))
                .collect();
            let valid = |x: Reduced| match x {
                None => true,
                Some((_, b)) => set.contains(&b),
            };
            if !valid(rr) {
                return None;
            }
            Some(match (rr, er) {
                (None, None) => true,
                (Some((ra, ba)), Some((rb, bb))) => ra == rb && ba == bb,
                _ => false,
            })
        }
    }
}

/// Duration-weighted chord overlap. Segments are `(start, end, label)`; the estimate is
/// clipped to the reference span and padded with N.
pub fn chord_overlap(
    reference: &[(f64, f64, String)],
    estimate: &[(f64, f64, String)],
    rule: ChordRule,
) -> Option<f64> {
    let (Some(first), Some(last)) = (reference.first(), reference.last()) else {
        return None;
    };
    let (t0, t1) = (first.0, last.1);
    let mut cuts: Vec<f64> = reference.iter().flat_map(|s| [s.0, s.1]).collect();
    cuts.extend(
        estimate
            .iter()
            .flat_map(|s| [s.0, s.1])
            .filter(|&t| t > t0 && t < t1),
    );
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    let label_at = |segs: &[(f64, f64, String)], t: f64| -> String {
        segs.iter()
            .find(|s| s.0 <= t && t < s.1)
            .map(|s| s.2.clone())
            .unwrap_or_else(|| "N".into())
    };
    let (mut good, mut total) = (0.0, 0.0);
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b <= t0 || a >= t1 || b - a <= 0.0 {
            continue;
        }
        let mid = 0.5 * (a + b);
        let r = label_at(reference, mid);
        let e = label_at(estimate, mid);
        if let Some(ok) = compare(rule, &r, &e) {
            total += b - a;
            if ok {
                good += b - a;
            }
        }
    }
    (total > 0.0).then(|| good / total)
}

/// Pairwise frame-clustering F-measure of section labels (mir_eval.segment.pairwise): frames
/// every `frame_s` over the reference span; a pair of frames agrees when both segmentations
/// give the two frames the same label, or both give different labels.
pub fn pairwise_labels(
    reference: &[(f64, f64, String)],
    estimate: &[(f64, f64, String)],
    frame_s: f64,
) -> Prf {
    let (Some(first), Some(last)) = (reference.first(), reference.last()) else {
        return Prf {
            f: 0.0,
            precision: 0.0,
            recall: 0.0,
        };
    };
    let label_at = |segs: &[(f64, f64, String)], t: f64| -> Option<String> {
        segs.iter()
            .find(|s| s.0 <= t && t < s.1)
            .map(|s| s.2.clone())
    };
    let mut r = Vec::new();
    let mut e = Vec::new();
    let mut t = first.0 + frame_s / 2.0;
    while t < last.1 {
        r.push(label_at(reference, t));
        e.push(label_at(estimate, t));
        t += frame_s;
    }
    let (mut both, mut ref_same, mut est_same) = (0u64, 0u64, 0u64);
    for i in 0..r.len() {
        for j in i + 1..r.len() {
            let rs = r[i].is_some() && r[i] == r[j];
            let es = e[i].is_some() && e[i] == e[j];
            ref_same += u64::from(rs);
            est_same += u64::from(es);
            both += u64::from(rs && es);
        }
    }
    Prf::from_counts(both, est_same, ref_same)
}

/// Boundaries of a segmentation: every start and the last end.
pub fn boundaries(segments: &[(f64, f64)]) -> Vec<f64> {
    let mut b: Vec<f64> = segments.iter().map(|s| s.0).collect();
    if let Some(l) = segments.last() {
        b.push(l.1);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beat_f_measure_hand_cases() {
        let r = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(f_measure(&r, &r, 0.07).f, 1.0);
        // Two right, one 80 ms off, one missing, one extra.
        let e = [1.05, 2.0, 3.08, 5.0];
        let p = f_measure(&r, &e, 0.07);
        assert!((p.precision - 0.5).abs() < 1e-12 && (p.recall - 0.5).abs() < 1e-12);
        // Double tempo: all references hit, half the estimates wrong.
        let e: Vec<f64> = (0..8).map(|i| 1.0 + 0.5 * i as f64).collect();
        let p = f_measure(&r, &e, 0.07);
        assert!((p.recall - 1.0).abs() < 1e-12 && (p.precision - 0.5).abs() < 1e-12);
        assert!((p.f - 2.0 / 3.0).abs() < 1e-12);
        // One estimate cannot match two references.
        assert_eq!(match_events(&[1.0, 1.1], &[1.05], 0.07), 1);
    }

    #[test]
    fn tempo_accuracies() {
        assert!(tempo_acc1(120.0, 124.7));
        assert!(!tempo_acc1(120.0, 125.0));
        assert!(!tempo_acc1(120.0, 60.0));
        assert!(tempo_acc2(120.0, 60.0) && tempo_acc2(120.0, 240.0) && tempo_acc2(120.0, 40.5));
        assert!(!tempo_acc2(120.0, 90.0));
    }

    #[test]
    fn mirex_key_weights() {
        let c = 0;
        let a = 9;
        let g = 7;
        assert_eq!(key_score(c, false, c, false), 1.0);
        assert_eq!(key_score(c, false, g, false), 0.5); // fifth above
        assert_eq!(key_score(c, false, 5, false), 0.0); // fifth below is not credited
        assert_eq!(key_score(c, false, a, true), 0.3);
        assert_eq!(key_score(a, true, c, false), 0.3);
        assert_eq!(key_score(c, false, c, true), 0.2);
        assert_eq!(key_score(c, false, 2, false), 0.0);
        assert_eq!(parse_key("Bb major"), Some((10, false)));
        assert_eq!(parse_key("C# minor"), Some((1, true)));
    }

    #[test]
    fn chord_overlap_hand_cases() {
        let s = |a: f64, b: f64, l: &str| (a, b, l.to_string());
        let reference = vec![
            s(0.0, 2.0, "A:min7"),
            s(2.0, 4.0, "G:7"),
            s(4.0, 5.0, "B:dim"),
        ];
        // A:min for A:min7 is right under majmin, wrong under sevenths; G:maj for G:7 likewise;
        // B:dim is outside both vocabularies and is ignored.
        let estimate = vec![
            s(0.0, 2.0, "A:min"),
            s(2.0, 3.0, "G:maj"),
            s(3.0, 5.0, "C:maj"),
        ];
        assert!(
            (chord_overlap(&reference, &estimate, ChordRule::MajMin).unwrap() - 0.75).abs() < 1e-12
        );
        assert!(
            (chord_overlap(&reference, &estimate, ChordRule::Sevenths).unwrap() - 0.0).abs()
                < 1e-12
        );
        let exact = vec![s(-1.0, 2.0, "A:min7"), s(2.0, 4.0, "G:7"), s(4.0, 9.0, "N")];
        assert!(
            (chord_overlap(&reference, &exact, ChordRule::Sevenths).unwrap() - 1.0).abs() < 1e-12
        );
        // Estimate covering only half the span: the rest counts as N (wrong).
        let half = vec![s(0.0, 2.0, "A:min")];
        assert!((chord_overlap(&reference, &half, ChordRule::MajMin).unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn pairwise_label_agreement() {
        let s = |a: f64, b: f64, l: &str| (a, b, l.to_string());
        let reference = vec![
            s(0.0, 10.0, "verse"),
            s(10.0, 20.0, "chorus"),
            s(20.0, 30.0, "verse"),
        ];
        let renamed = vec![s(0.0, 10.0, "A"), s(10.0, 20.0, "B"), s(20.0, 30.0, "A")];
        assert!((pairwise_labels(&reference, &renamed, 1.0).f - 1.0).abs() < 1e-12);
        // Everything one label: recall 1, precision = same-pairs share.
        let one = vec![s(0.0, 30.0, "A")];
        let p = pairwise_labels(&reference, &one, 1.0);
        assert!((p.recall - 1.0).abs() < 1e-12);
        // 30 frames, 435 pairs: the reference pairs 20 verse frames (190 pairs) and 10 chorus
        // frames (45 pairs).
        let ref_same = 190.0 + 45.0;
        assert!((p.precision - ref_same / 435.0).abs() < 1e-12);
    }

    #[test]
    fn segment_boundaries_hit_rate() {
        let reference = boundaries(&[(0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]);
        assert_eq!(reference, vec![0.0, 10.0, 20.0, 30.0]);
        let estimate = boundaries(&[(0.2, 12.0), (12.0, 30.4)]);
        let p05 = f_measure(&reference, &estimate, 0.5);
        assert!((p05.precision - 2.0 / 3.0).abs() < 1e-12 && (p05.recall - 0.5).abs() < 1e-12);
        let p3 = f_measure(&reference, &estimate, 3.0);
        assert!((p3.precision - 1.0).abs() < 1e-12 && (p3.recall - 0.75).abs() < 1e-12);
    }
}
