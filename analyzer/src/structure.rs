//! Sections: boundaries from novelty on bar-synchronous features, labels from repetition.
//!
//! References: J. Foote, "Automatic audio segmentation using a measure of audio novelty",
//! ICME 2000 (checkerboard-kernel novelty on a self-similarity matrix); J. Paulus, M. Müller
//! and A. Klapuri, "Audio-based music structure analysis", ISMIR 2010 (the novelty /
//! homogeneity / repetition taxonomy used here).
//!
//! Every bar (downbeat to downbeat) gets a timbre vector (octave-band levels and the onset
//! density of the low, mid and high bands, each standardised over the track) and a harmony
//! vector (treble and bass chroma). Two novelty curves are computed at each barline:
//! - *arrangement*: Foote's Gaussian-tapered checkerboard kernel, two bars wide on each side,
//!   over the bar timbre self-similarity matrix — instruments entering or leaving, level jumps;
//! - *harmony*: the cosine distance between the mean chroma of the [`PHRASE_BARS`] bars before
//!   and after the barline. A loop of chords inside one section gives the same mean on both
//!   sides; a new progression does not.
//!
//! Their standardised sum is peak-picked (local maxima above mean + [`PEAK_SD`] standard
//! deviations, at least [`MIN_BARS`] bars apart), so every boundary falls on a downbeat.
//! Sections are then labelled A, B, C… by agglomerating those whose mean harmony and timbre
//! vectors are close: equal labels mean the same material.

use crate::harmony::chroma::{cosine, span_means, Chroma, TIMBRE_BANDS};
use crate::onset::Onsets;

/// Bars on each side of the harmonic comparison (one four-bar phrase).
pub const PHRASE_BARS: usize = 4;
/// Shortest section, bars.
pub const MIN_BARS: usize = 2;
/// Peak threshold, standard deviations above the mean novelty.
pub const PEAK_SD: f64 = 0.5;
/// Distance under which two sections get the same label.
const SAME_LABEL_DISTANCE: f64 = 0.2;
/// Weight of the chord-sequence distance against the timbre distance in labelling.
const SEQUENCE_WEIGHT: f64 = 0.6;

/// A section: bar range and label.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Start, seconds (a downbeat).
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// Repetition label (`A`, `B`, …).
    pub label: String,
}

struct BarFeatures {
    timbre: Vec<Vec<f64>>,
    treble: Vec<[f32; 12]>,
    bass: Vec<[f32; 12]>,
}

fn zscore_columns(rows: &mut [Vec<f64>]) {
    if rows.is_empty() {
        return;
    }
    let d = rows[0].len();
    let n = rows.len() as f64;
    for j in 0..d {
        let m = rows.iter().map(|r| r[j]).sum::<f64>() / n;
        let sd = (rows.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / n).sqrt();
        for r in rows.iter_mut() {
            r[j] = if sd > 1e-9 { (r[j] - m) / sd } else { 0.0 };
        }
    }
}

fn bar_features(bars: &[f64], chroma: &Chroma, onsets: &Onsets) -> BarFeatures {
    let tim = span_means::<TIMBRE_BANDS>(&chroma.timbre, chroma.frame_rate, bars);
    let density = |x: &[f32]| -> Vec<f64> {
        bars.windows(2)
            .map(|w| {
                let a = ((w[0] * onsets.frame_rate) as usize).min(x.len());
                let b = ((w[1] * onsets.frame_rate) as usize).clamp(a, x.len());
                let s: f64 = x[a..b].iter().map(|&v| f64::from(v)).sum();
                (1.0 + s / (b - a).max(1) as f64).ln()
            })
            .collect()
    };
    let (lo, mi, hi) = (
        density(&onsets.low),
        density(&onsets.mid),
        density(&onsets.high),
    );
    let mut timbre: Vec<Vec<f64>> = tim
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut v: Vec<f64> = t.iter().map(|&x| f64::from(x)).collect();
            v.extend([lo[i], mi[i], hi[i]]);
            v
        })
        .collect();
    zscore_columns(&mut timbre);
    BarFeatures {
        timbre,
        treble: span_means(&chroma.treble, chroma.frame_rate, bars),
        bass: span_means(&chroma.bass, chroma.frame_rate, bars),
    }
}

/// Harmonic distance of two bars: cosine distance of their treble chroma plus half that of
/// their bass chroma (0 to 1.5).
fn bar_distance(f: &BarFeatures, a: usize, b: usize) -> f64 {
    f64::from(1.0 - cosine(&f.treble[a], &f.treble[b]))
        + 0.5 * f64::from(1.0 - cosine(&f.bass[a], &f.bass[b]))
}

fn timbre_similarity(a: &[f64], b: &[f64]) -> f64 {
    let d2: f64 =
        a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len().max(1) as f64;
    (-d2 / 2.0).exp()
}

/// Foote novelty at each barline `i` (between bar `i−1` and bar `i`), kernel half-width `w`.
fn foote(sim: &dyn Fn(usize, usize) -> f64, n: usize, w: usize) -> Vec<f64> {
    let sigma = w as f64 * 0.75;
    (0..n)
        .map(|i| {
            let mut acc = 0.0;
            let mut norm = 0.0;
            for a in 0..w {
                for b in 0..w {
                    let g = (-((a as f64 + 0.5).powi(2) + (b as f64 + 0.5).powi(2))
                        / (2.0 * sigma * sigma))
                        .exp();
                    let (before_a, before_b) =
                        (i as isize - 1 - a as isize, i as isize - 1 - b as isize);
                    let (after_a, after_b) = (i + a, i + b);
                    if before_a < 0 || before_b < 0 || after_a >= n || after_b >= n {
                        // No half-kernels at the edges: they make every first bar a boundary.
                        return 0.0;
                    }
                    let (ba, bb) = (before_a as usize, before_b as usize);
                    acc += g
                        * (sim(ba, bb) + sim(after_a, after_b)
                            - sim(ba, after_b)
                            - sim(after_a, bb));
                    norm += 2.0 * g;
                }
            }
            if norm > 0.0 {
                acc / norm
            } else {
                0.0
            }
        })
        .collect()
}

fn standardise(v: &[f64]) -> Vec<f64> {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
    v.iter()
        .map(|x| if sd > 1e-12 { (x - m) / sd } else { 0.0 })
        .collect()
}

/// Boundary novelty at each barline (index = bar that starts there).
pub fn novelty(bars: &[f64], chroma: &Chroma, onsets: &Onsets) -> Vec<f64> {
    let f = bar_features(bars, chroma, onsets);
    let n = f.timbre.len();
    let sim = |a: usize, b: usize| timbre_similarity(&f.timbre[a], &f.timbre[b]);
    let arrangement = foote(&sim, n, 2);
    // Sequence change: bar-by-bar distance between the PHRASE_BARS bars after the barline and
    // the PHRASE_BARS bars before it. Inside a section that loops a phrase the two windows hold
    // the same chords in the same order; across a change of progression they do not, even when
    // the two progressions use the same chords.
    let bar_dist = |a: usize, b: usize| bar_distance(&f, a, b);
    let harmony: Vec<f64> = (0..n)
        .map(|i| {
            // Near the end the window after the barline may be shorter (a two-bar outro).
            let w = PHRASE_BARS.min(n.saturating_sub(i));
            if i < PHRASE_BARS || w == 0 {
                return 0.0;
            }
            (0..w)
                .map(|k| bar_dist(i + k, i - PHRASE_BARS + k))
                .sum::<f64>()
                / w as f64
        })
        .collect();
    let transition = transition_cues(bars, onsets);
    let (za, zh, zt) = (
        standardise(&arrangement),
        standardise(&harmony),
        standardise(&transition),
    );
    (0..n).map(|i| za[i] + zh[i] + zt[i]).collect()
}

/// Drum cues of a section change at each barline: a fill (a burst of percussive mid-band
/// onsets in the last beat before the barline) and a crash (a jump of percussive high-band
/// onset strength on the downbeat), each relative to the track's typical bar.
fn transition_cues(bars: &[f64], o: &Onsets) -> Vec<f64> {
    let n = bars.len().saturating_sub(1);
    let fr = o.frame_rate;
    let sum = |x: &[f32], a: f64, b: f64| -> f64 {
        let i0 = ((a * fr).round().max(0.0) as usize).min(x.len());
        let i1 = ((b * fr).round().max(0.0) as usize).clamp(i0, x.len());
        x[i0..i1].iter().map(|&v| f64::from(v)).sum()
    };
    let max_in = |x: &[f32], a: f64, b: f64| -> f64 {
        let i0 = ((a * fr).round().max(0.0) as usize).min(x.len());
        let i1 = ((b * fr).round().max(0.0) as usize).clamp(i0, x.len());
        x[i0..i1].iter().map(|&v| f64::from(v)).fold(0.0, f64::max)
    };
    let mut fill = vec![0.0; n];
    let mut crash = vec![0.0; n];
    for i in 1..n {
        let prev_len = bars[i] - bars[i - 1];
        // The last quarter of the previous bar against its first three quarters.
        let tail = sum(&o.perc[1], bars[i] - 0.25 * prev_len, bars[i]);
        let head = sum(&o.perc[1], bars[i - 1], bars[i] - 0.25 * prev_len) / 3.0;
        fill[i] = ((1.0 + tail) / (1.0 + head)).ln();
        let here = max_in(&o.perc[2], bars[i] - 0.03, bars[i] + 0.06);
        let before = max_in(&o.perc[2], bars[i - 1] - 0.03, bars[i - 1] + 0.06);
        crash[i] = ((1.0 + here) / (1.0 + before)).ln();
    }
    let (zf, zc) = (standardise(&fill), standardise(&crash));
    zf.iter()
        .zip(&zc)
        .map(|(f, c)| f.max(0.0) + c.max(0.0))
        .collect()
}

/// Picks boundaries (bar indices) from novelty: local maxima above the threshold, greedily
/// strongest first with at least [`MIN_BARS`] between boundaries.
pub fn pick_boundaries(nov: &[f64]) -> Vec<usize> {
    let n = nov.len();
    let z = standardise(nov);
    let mut cands: Vec<usize> = (1..n.saturating_sub(1))
        .filter(|&i| z[i] > PEAK_SD && z[i] >= z[i - 1] && z[i] >= z[i + 1])
        .collect();
    cands.sort_by(|&a, &b| z[b].total_cmp(&z[a]));
    let mut chosen: Vec<usize> = Vec::new();
    for c in cands {
        if c >= MIN_BARS && c + MIN_BARS <= n && chosen.iter().all(|&k| k.abs_diff(c) >= MIN_BARS) {
            chosen.push(c);
        }
    }
    chosen.sort_unstable();
    chosen
}

/// Segments the bars and labels the sections. `bars` are bar edges in seconds (downbeats and
/// the end of the last bar).
pub fn sections(bars: &[f64], chroma: &Chroma, onsets: &Onsets) -> Vec<Section> {
    let n = bars.len().saturating_sub(1);
    if n == 0 {
        return Vec::new();
    }
    let nov = novelty(bars, chroma, onsets);
    let mut cuts = vec![0];
    cuts.extend(pick_boundaries(&nov));
    cuts.push(n);
    let f = bar_features(bars, chroma, onsets);
    // Section distance: the chord sequences compared bar by bar from each section's start (the
    // same progression in the same order, up to two phrases), and the mean timbre.
    let mean_timbre: Vec<Vec<f64>> = cuts
        .windows(2)
        .map(|w| {
            let t = &f.timbre[w[0]..w[1]];
            (0..t[0].len())
                .map(|j| t.iter().map(|r| r[j]).sum::<f64>() / t.len() as f64)
                .collect()
        })
        .collect();
    let dist = |a: usize, b: usize| {
        let (a0, a1, b0, b1) = (cuts[a], cuts[a + 1], cuts[b], cuts[b + 1]);
        let len = (a1 - a0).min(b1 - b0).min(2 * PHRASE_BARS);
        let h = (0..len)
            .map(|k| bar_distance(&f, a0 + k, b0 + k))
            .sum::<f64>()
            / len.max(1) as f64
            / 1.5;
        let t = 1.0 - timbre_similarity(&mean_timbre[a], &mean_timbre[b]);
        SEQUENCE_WEIGHT * h + (1.0 - SEQUENCE_WEIGHT) * t
    };
    let count = cuts.len() - 1;
    // Label in order of first appearance; each section joins the closest earlier label.
    let mut labels: Vec<usize> = Vec::new();
    let mut reps: Vec<Vec<usize>> = Vec::new();
    for s in 0..count {
        let mut best = (f64::MAX, usize::MAX);
        for (l, members) in reps.iter().enumerate() {
            let d = members.iter().map(|&m| dist(s, m)).sum::<f64>() / members.len() as f64;
            if d < best.0 {
                best = (d, l);
            }
        }
        if best.0 < SAME_LABEL_DISTANCE {
            labels.push(best.1);
            reps[best.1].push(s);
        } else {
            labels.push(reps.len());
            reps.push(vec![s]);
        }
    }
    cuts.windows(2)
        .zip(labels)
        .map(|(w, l)| Section {
            start: bars[w[0]],
            end: bars[w[1]],
            label: label_name(l),
        })
        .collect()
}

/// `A`, `B`, … `Z`, `AA`, `AB`, …
pub fn label_name(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < 26 {
        (letters[i] as char).to_string()
    } else {
        format!(
            "{}{}",
            letters[(i / 26 - 1).min(25)] as char,
            letters[i % 26] as char
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_separated_peaks() {
        let mut nov = vec![0.0; 40];
        nov[8] = 3.0;
        nov[9] = 2.0;
        nov[16] = 2.5;
        nov[24] = 4.0;
        nov[32] = 1.0;
        assert_eq!(pick_boundaries(&nov), vec![8, 16, 24, 32]);
    }

    #[test]
    fn foote_peaks_at_block_change() {
        let labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        let sim = |a: usize, b: usize| if labels[a] == labels[b] { 1.0 } else { 0.0 };
        let nov = foote(&sim, labels.len(), 2);
        let arg = (0..nov.len())
            .max_by(|&a, &b| nov[a].total_cmp(&nov[b]))
            .unwrap();
        assert_eq!(arg, 6);
    }

    #[test]
    fn label_names() {
        assert_eq!(label_name(0), "A");
        assert_eq!(label_name(25), "Z");
        assert_eq!(label_name(26), "AA");
    }
}
