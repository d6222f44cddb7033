//! Key and mode from pitch content *and* harmonic function.
//!
//! A pitch-class profile alone cannot tell relative keys apart (C major and A minor share their
//! notes), so each of the 24 keys is scored on two kinds of evidence:
//!
//! 1. **Pitch content** — correlation of the duration-weighted chroma with the Krumhansl–Kessler
//!    key profiles (C. Krumhansl, *Cognitive Foundations of Musical Pitch*, 1990, ch. 4).
//! 2. **Function** — what the recognised chords do in that key, after the common-practice
//!    account of tonality (e.g. W. Caplin, *Classical Form*, 1998, on cadences; D. Temperley,
//!    *The Cognition of Basic Musical Structures*, 2001, ch. 7):
//!    - how much of the time the tonic triad sounds;
//!    - whether phrases (4-bar groups from each section start) *begin* on the tonic;
//!    - whether phrases *end* on a cadence: on the tonic (authentic/plagal) or on the dominant
//!      (half cadence);
//!    - cadential motions `V(7) → I` (full weight) and `IV → I` (half);
//!    - how much the dominant triad (major, with the leading tone) sounds: in a minor key this
//!      is the raised seventh, the clearest sign of the mode.
//!
//! The weights are fixed a priori (no training); phrase endings weigh more than phrase
//! beginnings, because in loops such as vi–IV–I–V the phrase starts off the tonic and the
//! resolution is what names the key.

use super::chords::Chord;

const KK_MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
const KK_MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// Weight of the profile correlation.
const W_PROFILE: f64 = 1.0;
/// Weight of the share of time on the tonic triad.
const W_TONIC: f64 = 0.5;
/// Weights of the per-phrase evidence: starts on the tonic; contains an authentic (V→I),
/// plagal (IV→I) or, in minor, subtonic (VII→i) motion; ends on the dominant (half cadence)
/// or on the tonic (full close).
const W_START: f64 = 1.0;
const W_AUTHENTIC: f64 = 1.0;
const W_PLAGAL: f64 = 0.6;
const W_SUBTONIC: f64 = 0.2;
const W_HALF: f64 = 0.6;
const W_FULL: f64 = 0.6;
/// Weight of the leading tone in minor: the share of time on a major dominant, which is foreign
/// to the relative major (its seventh degree raised).
const W_LEADING_TONE: f64 = 1.0;

/// Inputs of the key stage.
pub struct KeyEvidence<'a> {
    /// Chord per beat.
    pub chords: &'a [Option<Chord>],
    /// Duration of each beat, seconds.
    pub beat_s: &'a [f64],
    /// Treble chroma per beat.
    pub treble: &'a [[f32; 12]],
    /// Bass chroma per beat.
    pub bass: &'a [[f32; 12]],
    /// Beat indices where phrases begin (sorted).
    pub phrase_starts: &'a [usize],
}

/// A key estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyEstimate {
    /// Tonic pitch class (0 = C).
    pub tonic: u8,
    /// Minor mode (else major).
    pub minor: bool,
    /// 0–1, from the margin over the runner-up.
    pub confidence: f64,
}

fn pearson(a: &[f64; 12], b: &[f64; 12]) -> f64 {
    let ma = a.iter().sum::<f64>() / 12.0;
    let mb = b.iter().sum::<f64>() / 12.0;
    let (mut num, mut da, mut db) = (0.0, 0.0, 0.0);
    for i in 0..12 {
        num += (a[i] - ma) * (b[i] - mb);
        da += (a[i] - ma).powi(2);
        db += (b[i] - mb).powi(2);
    }
    if da <= 0.0 || db <= 0.0 {
        0.0
    } else {
        num / (da * db).sqrt()
    }
}

/// The chord's harmonic function in a key, as far as this stage cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Tonic,
    Dominant,
    Subdominant,
    Subtonic,
    Other,
}

fn function(c: Chord, tonic: u8, minor: bool) -> Function {
    let rel = (c.root + 12 - tonic) % 12;
    let tonic_quality = if minor { c.is_minor() } else { c.is_major() };
    match rel {
        0 if tonic_quality => Function::Tonic,
        7 if c.is_major() => Function::Dominant,
        5 if tonic_quality => Function::Subdominant,
        10 if minor && c.is_major() => Function::Subtonic,
        _ => Function::Other,
    }
}

/// One phrase as chord segments: `(chord, duration)` in order, and the chord that follows it.
struct Phrase {
    chords: Vec<Chord>,
    next: Option<Chord>,
}

/// Splits the per-beat chords into phrases at `starts` (beat indices), merging repeats.
fn phrases(chords: &[Option<Chord>], starts: &[usize]) -> Vec<Phrase> {
    let mut bounds: Vec<usize> = starts
        .iter()
        .copied()
        .filter(|&s| s < chords.len())
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    if bounds.first() != Some(&0) {
        bounds.insert(0, 0);
    }
    bounds.push(chords.len());
    let mut out: Vec<Phrase> = bounds
        .windows(2)
        .map(|w| {
            let mut seq: Vec<Chord> = Vec::new();
            for c in chords[w[0]..w[1]].iter().flatten() {
                if seq.last() != Some(c) {
                    seq.push(*c);
                }
            }
            Phrase {
                chords: seq,
                next: None,
            }
        })
        .filter(|p| !p.chords.is_empty())
        .collect();
    for i in 0..out.len().saturating_sub(1) {
        out[i].next = out[i + 1].chords.first().copied();
    }
    out
}

/// Scores all 24 keys; index `tonic + 12·minor`.
pub fn scores(ev: &KeyEvidence<'_>) -> [f64; 24] {
    let n = ev.chords.len();
    let mut profile = [0.0f64; 12];
    let mut total = 0.0;
    for i in 0..n {
        let d = ev.beat_s.get(i).copied().unwrap_or(0.0);
        let tn = ev.treble[i]
            .iter()
            .copied()
            .fold(0.0f32, f32::max)
            .max(1e-9);
        let bn = ev.bass[i].iter().copied().fold(0.0f32, f32::max).max(1e-9);
        for (pc, p) in profile.iter_mut().enumerate() {
            *p += d * (f64::from(ev.treble[i][pc] / tn) + 0.5 * f64::from(ev.bass[i][pc] / bn));
        }
        if ev.chords[i].is_some() {
            total += d;
        }
    }
    let total = total.max(1e-9);
    let share = |pred: &dyn Fn(Chord) -> bool| -> f64 {
        (0..n)
            .filter(|&i| ev.chords[i].is_some_and(pred))
            .map(|i| ev.beat_s.get(i).copied().unwrap_or(0.0))
            .sum::<f64>()
            / total
    };
    let phr = phrases(ev.chords, ev.phrase_starts);
    let mut out = [0.0f64; 24];
    for minor in [false, true] {
        for tonic in 0..12u8 {
            let base = if minor { &KK_MINOR } else { &KK_MAJOR };
            let mut rotated = [0.0f64; 12];
            for (i, r) in rotated.iter_mut().enumerate() {
                *r = base[(i + 12 - tonic as usize) % 12];
            }
            let r = pearson(&profile, &rotated);
            let f = |c: Chord| function(c, tonic, minor);
            let tonic_share = share(&|c| f(c) == Function::Tonic);
            let leading_tone = if minor {
                share(&|c| f(c) == Function::Dominant)
            } else {
                0.0
            };
            let mut phrase_sum = 0.0;
            for p in &phr {
                let mut motions: Vec<(Chord, Chord)> =
                    p.chords.windows(2).map(|w| (w[0], w[1])).collect();
                if let (Some(&last), Some(next)) = (p.chords.last(), p.next) {
                    if last != next {
                        motions.push((last, next));
                    }
                }
                let has = |from: Function| {
                    motions
                        .iter()
                        .any(|&(a, b)| f(a) == from && f(b) == Function::Tonic)
                };
                let end = p.chords.last().map(|&c| f(c));
                phrase_sum += W_START * f64::from(u8::from(f(p.chords[0]) == Function::Tonic))
                    + W_AUTHENTIC * f64::from(u8::from(has(Function::Dominant)))
                    + W_PLAGAL * f64::from(u8::from(has(Function::Subdominant)))
                    + W_SUBTONIC * f64::from(u8::from(has(Function::Subtonic)))
                    + W_HALF * f64::from(u8::from(end == Some(Function::Dominant)))
                    + W_FULL * f64::from(u8::from(end == Some(Function::Tonic)));
            }
            let phrase_mean = if phr.is_empty() {
                0.0
            } else {
                phrase_sum / phr.len() as f64
            };
            out[tonic as usize + if minor { 12 } else { 0 }] =
                W_PROFILE * r + W_TONIC * tonic_share + phrase_mean + W_LEADING_TONE * leading_tone;
        }
    }
    out
}

/// Estimates the key.
pub fn estimate(ev: &KeyEvidence<'_>) -> KeyEstimate {
    let s = scores(ev);
    let mut idx: Vec<usize> = (0..24).collect();
    idx.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let margin = s[idx[0]] - s[idx[1]];
    KeyEstimate {
        tonic: (idx[0] % 12) as u8,
        minor: idx[0] >= 12,
        confidence: 1.0 - (-margin / 0.1).exp(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::chords::{parse_label, QUALITIES};
    use super::*;

    fn chord(label: &str) -> Chord {
        let (root, q) = parse_label(label).unwrap();
        let quality = QUALITIES.iter().position(|(n, _)| *n == q).unwrap() as u8;
        Chord { root, quality }
    }

    /// Four beats per chord, phrases of four bars; chroma straight from the chords.
    fn run(progression: &[&str], repeats: usize) -> KeyEstimate {
        let mut chords = Vec::new();
        for _ in 0..repeats {
            for l in progression {
                for _ in 0..4 {
                    chords.push(Some(chord(l)));
                }
            }
        }
        let treble: Vec<[f32; 12]> = chords
            .iter()
            .map(|c| {
                let mut v = [0.0f32; 12];
                for pc in c.unwrap().pitch_classes() {
                    v[pc as usize] = 1.0;
                }
                v
            })
            .collect();
        let bass: Vec<[f32; 12]> = chords
            .iter()
            .map(|c| {
                let mut v = [0.0f32; 12];
                v[c.unwrap().root as usize] = 1.0;
                v
            })
            .collect();
        let beat_s = vec![0.5; chords.len()];
        let phrase_starts: Vec<usize> = (0..chords.len()).step_by(16).collect();
        estimate(&KeyEvidence {
            chords: &chords,
            beat_s: &beat_s,
            treble: &treble,
            bass: &bass,
            phrase_starts: &phrase_starts,
        })
    }

    #[test]
    fn authentic_cadence_in_minor() {
        // i iv V i in A minor: the E major chord carries the leading tone.
        let k = run(&["A:min", "D:min", "E:maj", "A:min"], 4);
        assert_eq!((k.tonic, k.minor), (9, true));
    }

    #[test]
    fn vi_iv_i_v_is_major() {
        // Am F C G: phrases start on vi but end on V, a half cadence in C.
        let k = run(&["A:min", "F:maj", "C:maj", "G:maj"], 4);
        assert_eq!((k.tonic, k.minor), (0, false));
    }

    #[test]
    fn i_v_vi_iv_is_major() {
        let k = run(&["G:maj", "D:maj", "E:min", "C:maj"], 4);
        assert_eq!((k.tonic, k.minor), (7, false));
    }

    #[test]
    fn aeolian_loop_with_dominant_is_minor() {
        // i VI VII V: the V (B major) in E minor.
        let k = run(&["E:min", "C:maj", "D:maj", "B:maj"], 4);
        assert_eq!((k.tonic, k.minor), (4, true));
    }
}
