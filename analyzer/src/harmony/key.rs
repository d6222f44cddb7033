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

const KK_MAJOR: [f64; 12] = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88];
const KK_MINOR: [f64; 12] = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];

/// Weights of the evidence (profile correlation, tonic share, phrase starts, phrase ends,
/// cadences, dominant share).
const W_PROFILE: f64 = 1.0;
const W_TONIC: f64 = 0.5;
const W_START: f64 = 0.3;
const W_END: f64 = 0.45;
const W_CADENCE: f64 = 0.5;
const W_DOMINANT: f64 = 0.5;

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
    Other,
}

fn function(c: Chord, tonic: u8, minor: bool) -> Function {
    let rel = (c.root + 12 - tonic) % 12;
    let tonic_quality = if minor { c.is_minor() } else { c.is_major() };
    match rel {
        0 if tonic_quality => Function::Tonic,
        7 if c.is_major() => Function::Dominant,
        5 if tonic_quality => Function::Subdominant,
        _ => Function::Other,
    }
}

/// Scores all 24 keys; index `tonic + 12·minor`.
pub fn scores(ev: &KeyEvidence<'_>) -> [f64; 24] {
    let n = ev.chords.len();
    let mut profile = [0.0f64; 12];
    for i in 0..n {
        let d = ev.beat_s.get(i).copied().unwrap_or(0.0);
        let tn = ev.treble[i].iter().copied().fold(0.0f32, f32::max).max(1e-9);
        let bn = ev.bass[i].iter().copied().fold(0.0f32, f32::max).max(1e-9);
        for pc in 0..12 {
            profile[pc] += d * (f64::from(ev.treble[i][pc] / tn) + 0.5 * f64::from(ev.bass[i][pc] / bn));
        }
    }
    // Chord segments: (chord, first beat, duration).
    let mut segs: Vec<(Chord, usize, f64)> = Vec::new();
    let mut prev: Option<Chord> = None;
    for i in 0..n {
        let d = ev.beat_s.get(i).copied().unwrap_or(0.0);
        match ev.chords[i] {
            Some(c) if prev == Some(c) => {
                if let Some(last) = segs.last_mut() {
                    last.2 += d;
                }
            }
            Some(c) => segs.push((c, i, d)),
            None => {}
        }
        prev = ev.chords[i];
    }
    let total: f64 = segs.iter().map(|s| s.2).sum::<f64>().max(1e-9);
    // The chord sounding at a beat (or the last one before it).
    let chord_at = |beat: usize| -> Option<Chord> {
        let k = segs.partition_point(|s| s.1 <= beat);
        (k > 0).then(|| segs[k - 1].0)
    };
    let starts: Vec<Chord> = ev.phrase_starts.iter().filter_map(|&b| ev.chords.get(b).copied().flatten()).collect();
    let mut ends: Vec<Chord> = ev
        .phrase_starts
        .iter()
        .filter(|&&b| b > 0)
        .filter_map(|&b| chord_at(b - 1))
        .collect();
    if let Some(last) = segs.last() {
        ends.push(last.0);
    }
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
            let tonic_share = segs.iter().filter(|s| f(s.0) == Function::Tonic).map(|s| s.2).sum::<f64>() / total;
            let dominant_share =
                segs.iter().filter(|s| f(s.0) == Function::Dominant).map(|s| s.2).sum::<f64>() / total;
            let start = if starts.is_empty() {
                0.0
            } else {
                starts.iter().filter(|&&c| f(c) == Function::Tonic).count() as f64 / starts.len() as f64
            };
            let end = if ends.is_empty() {
                0.0
            } else {
                ends.iter()
                    .map(|&c| match f(c) {
                        Function::Tonic => 1.0,
                        Function::Dominant => 0.8,
                        _ => 0.0,
                    })
                    .sum::<f64>()
                    / ends.len() as f64
            };
            let changes = segs.len().saturating_sub(1).max(1) as f64;
            let cadence = segs
                .windows(2)
                .map(|w| match (f(w[0].0), f(w[1].0)) {
                    (Function::Dominant, Function::Tonic) => 1.0,
                    (Function::Subdominant, Function::Tonic) => 0.5,
                    _ => 0.0,
                })
                .sum::<f64>()
                / changes;
            out[tonic as usize + if minor { 12 } else { 0 }] = W_PROFILE * r
                + W_TONIC * tonic_share
                + W_START * start
                + W_END * end
                + W_CADENCE * cadence
                + W_DOMINANT * dominant_share;
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
        estimate(&KeyEvidence { chords: &chords, beat_s: &beat_s, treble: &treble, bass: &bass, phrase_starts: &phrase_starts })
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
