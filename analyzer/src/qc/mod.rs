//! QC: how close a rebuild comes to its original, on twelve dimensions scored 0–100, and an
//! overall score (their weighted mean). Formulas and references: `docs/qc.md`.
//!
//! Both recordings are measured the same way ([`Features`]), then compared. Where a dimension
//! compares things over time (sections, beats, segments) it uses the reference's grid for
//! both, so the two are compared at the same moments. Every dimension but `rms_sections` is
//! blind to the playback level, so a gain change costs points there only.
//!
//! Most dimensions turn an error into a score as `100 · 2^(−error / half)`: no error scores
//! 100, an error of `half` scores 50, twice `half` 25. The others are a share (an F-measure,
//! an agreement, a correlation) times 100.

pub mod features;
pub mod timbre;

use serde::Serialize;

use crate::harmony::chords::parse_label;
use crate::level::FLOOR_DB;
use crate::session::Segment;

pub use features::Features;

/// What each dimension measures, its weight in the overall score, and the error that scores
/// 50 (for the dimensions scored from an error).
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Name in the table and in `session.json`.
    pub name: &'static str,
    /// Weight in the overall score (the weights sum to 100).
    pub weight: f64,
    /// Errors up to this, in `unit`, cost nothing (what cannot be heard or measured).
    pub tolerance: f64,
    /// Error beyond the tolerance that scores 50, in `unit`; 0 for the dimensions scored as
    /// a share.
    pub half: f64,
    /// Unit of the measured values and the error.
    pub unit: &'static str,
    /// One line on what it is.
    pub what: &'static str,
}

/// The twelve dimensions, in table order.
pub const DIMENSIONS: [Spec; 12] = [
    Spec {
        name: "spectral",
        tolerance: 1.0,
        weight: 12.0,
        half: 6.0,
        unit: "dB",
        what: "mel spectra per half second, level-normalised: mean |difference|",
    },
    Spec {
        name: "rms_sections",
        tolerance: 0.5,
        weight: 8.0,
        half: 3.0,
        unit: "dB",
        what: "RMS per section: mean |difference|",
    },
    Spec {
        name: "width",
        tolerance: 1.0,
        weight: 6.0,
        half: 3.0,
        unit: "dB",
        what: "side-to-mid ratio per section: mean |difference|",
    },
    Spec {
        name: "bass_pattern",
        tolerance: 0.0,
        weight: 10.0,
        half: 0.0,
        unit: "%",
        what: "bass pitch class per half beat: agreement",
    },
    Spec {
        name: "kick_pattern",
        tolerance: 0.0,
        weight: 10.0,
        half: 0.0,
        unit: "%",
        what: "low-end hits: strength-weighted F-measure at ±50 ms",
    },
    Spec {
        name: "harmony",
        tolerance: 0.0,
        weight: 10.0,
        half: 0.0,
        unit: "%",
        what: "chords (root and major/minor): share of the time they agree",
    },
    Spec {
        name: "energy_curve",
        tolerance: 0.0,
        weight: 10.0,
        half: 0.0,
        unit: "",
        what: "loudness over time (3 s windows): concordance correlation",
    },
    Spec {
        name: "reverb",
        tolerance: 0.0953,
        weight: 6.0,
        half: 0.405,
        unit: "ln ratio",
        what: "RT60 from the decays: |ln ratio|",
    },
    Spec {
        name: "dynamic_range",
        tolerance: 1.0,
        weight: 6.0,
        half: 3.0,
        unit: "dB",
        what: "crest factor (median over 3 s windows): |difference|",
    },
    Spec {
        name: "bpm",
        tolerance: 0.0,
        weight: 6.0,
        half: 2.0,
        unit: "%",
        what: "global tempo: |difference| in percent",
    },
    Spec {
        name: "sections",
        tolerance: 0.0,
        weight: 6.0,
        half: 0.0,
        unit: "%",
        what: "segmentation: 1 − mean directional Hamming distance",
    },
    Spec {
        name: "timbre",
        tolerance: 3.0,
        weight: 10.0,
        half: 10.0,
        unit: "deg",
        what: "angle between the timbre embeddings",
    },
];

/// One dimension's score and the figures it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// Dimension name.
    pub name: &'static str,
    /// Score, 0–100.
    pub score: f64,
    /// The reference's value, when the dimension compares one value.
    pub reference: Option<f64>,
    /// The candidate's value, likewise.
    pub candidate: Option<f64>,
    /// The error (or share) the score came from, in `unit`.
    pub error: f64,
    /// Unit of the values.
    pub unit: &'static str,
}

/// The QC table of one comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Weighted mean of the dimensions' scores, 0–100.
    pub overall: f64,
    /// Per dimension, in [`DIMENSIONS`] order.
    pub measures: Vec<Measure>,
    /// The timbre embedding used.
    pub embedding: &'static str,
}

impl Table {
    /// The score of dimension `name`.
    pub fn score(&self, name: &str) -> Option<f64> {
        self.measures
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.score)
    }

    /// `{"overall", "dimensions": {name: score}, "measures": {name: {...}}, "weights",
    /// "embedding"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut dims = serde_json::Map::new();
        let mut measures = serde_json::Map::new();
        let mut weights = serde_json::Map::new();
        for (m, s) in self.measures.iter().zip(DIMENSIONS.iter()) {
            dims.insert(m.name.into(), round(m.score, 2).into());
            measures.insert(
                m.name.into(),
                serde_json::json!({
                    "reference": m.reference.map(|v| round(v, 4)),
                    "candidate": m.candidate.map(|v| round(v, 4)),
                    "error": round(m.error, 4),
                    "unit": m.unit,
                }),
            );
            weights.insert(m.name.into(), s.weight.into());
        }
        serde_json::json!({
            "overall": round(self.overall, 2),
            "dimensions": dims,
            "measures": measures,
            "weights": weights,
            "embedding": self.embedding,
        })
    }

    /// The table as text, one dimension a line.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{:<14} {:>6}  {:>10} {:>10} {:>9}  {}\n",
            "dimension", "score", "reference", "candidate", "error", "unit"
        );
        let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
        for m in &self.measures {
            s.push_str(&format!(
                "{:<14} {:>6.1}  {:>10} {:>10} {:>9.3}  {}\n",
                m.name,
                m.score,
                num(m.reference),
                num(m.candidate),
                m.error,
                m.unit
            ));
        }
        s.push_str(&format!("{:<14} {:>6.1}\n", "overall", self.overall));
        s
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// `100 · 2^(−max(0, error − tolerance) / half)`.
pub fn from_error(error: f64, tolerance: f64, half: f64) -> f64 {
    if !error.is_finite() {
        return 0.0;
    }
    100.0 * 0.5f64.powf((error - tolerance).max(0.0) / half)
}

/// Scores `candidate` against `reference`.
pub fn score(reference: &Features, candidate: &Features) -> Table {
    let r = reference;
    let c = candidate;
    let spec = |name: &str| {
        DIMENSIONS
            .iter()
            .find(|s| s.name == name)
            .copied()
            .unwrap_or(DIMENSIONS[0])
    };
    let by_error = |name: &'static str, rv: Option<f64>, cv: Option<f64>, err: f64| {
        let s = spec(name);
        Measure {
            name,
            score: from_error(err, s.tolerance, s.half),
            reference: rv,
            candidate: cv,
            error: err,
            unit: s.unit,
        }
    };
    let by_share = |name: &'static str, rv: Option<f64>, cv: Option<f64>, share: f64| Measure {
        name,
        score: 100.0 * share.clamp(0.0, 1.0),
        reference: rv,
        candidate: cv,
        error: share,
        unit: spec(name).unit,
    };

    let sections = reference_sections(r);
    let mut measures = Vec::with_capacity(12);

    measures.push(by_error("spectral", None, None, spectral_error(r, c)));

    let rms = |f: &Features, s: &Segment| f.blocks.rms_dbfs(s.start, s.end).max(-90.0);
    let (rms_r, rms_c, rms_err) = per_section(&sections, |s| (rms(r, s), rms(c, s)));
    measures.push(by_error("rms_sections", Some(rms_r), Some(rms_c), rms_err));

    let width = |f: &Features, s: &Segment| f.blocks.side_to_mid_db(s.start, s.end).max(-30.0);
    let (w_r, w_c, w_err) = per_section(&sections, |s| (width(r, s), width(c, s)));
    measures.push(by_error("width", Some(w_r), Some(w_c), w_err));

    measures.push(by_share("bass_pattern", None, None, bass_agreement(r, c)));

    measures.push(by_share(
        "kick_pattern",
        Some(r.kicks.len() as f64),
        Some(c.kicks.len() as f64),
        weighted_f_measure(&r.kicks, &c.kicks, 0.05),
    ));

    measures.push(by_share(
        "harmony",
        None,
        None,
        chord_agreement(&r.session.chords, &c.session.chords, r.duration_s),
    ));

    measures.push(by_share(
        "energy_curve",
        None,
        None,
        energy_concordance(r, c),
    ));

    let reverb = match (r.rt60_s, c.rt60_s) {
        (Some(a), Some(b)) => by_error("reverb", Some(a), Some(b), (b / a).ln().abs()),
        (None, None) => by_error("reverb", None, None, 0.0),
        // One measurable and the other not: they differ, by how much is unknown; scored as
        // a ratio of two (≈ 25).
        (a, b) => by_error("reverb", a, b, std::f64::consts::LN_2),
    };
    measures.push(reverb);

    let crest = match (r.crest_db, c.crest_db) {
        (Some(a), Some(b)) => by_error("dynamic_range", Some(a), Some(b), (b - a).abs()),
        (a, b) => by_error("dynamic_range", a, b, f64::INFINITY),
    };
    measures.push(crest);

    let (br, bc) = (r.session.tempo.bpm, c.session.tempo.bpm);
    // As MIREX's "Accuracy 2": the candidate's tempo times 1, 2, 3, 1/2 or 1/3, whichever
    // is nearest (which beat level a listener taps is ambiguous, most of all without drums).
    let bpm_err = if br > 0.0 && bc > 0.0 {
        [1.0, 2.0, 3.0, 0.5, 1.0 / 3.0]
            .iter()
            .map(|f| 100.0 * (bc * f - br).abs() / br)
            .fold(f64::INFINITY, f64::min)
    } else {
        f64::INFINITY
    };
    measures.push(by_error("bpm", Some(br), Some(bc), bpm_err));

    let (nr, nc) = (r.session.sections.len(), c.session.sections.len());
    measures.push(by_share(
        "sections",
        Some(nr as f64),
        Some(nc as f64),
        segmentation_agreement(
            &sections,
            &candidate_sections(c, r.duration_s),
            r.duration_s,
        ),
    ));

    let angle = if r.embedding_name == c.embedding_name {
        timbre::angle_deg(&r.embedding, &c.embedding)
    } else {
        90.0
    };
    measures.push(by_error("timbre", None, None, angle));

    let total_w: f64 = DIMENSIONS.iter().map(|s| s.weight).sum();
    let overall = measures
        .iter()
        .zip(DIMENSIONS.iter())
        .map(|(m, s)| m.score * s.weight)
        .sum::<f64>()
        / total_w;
    Table {
        overall,
        measures,
        embedding: r.embedding_name,
    }
}

/// The reference's sections, or the whole track as one when it has none.
fn reference_sections(r: &Features) -> Vec<Segment> {
    let s: Vec<Segment> = r
        .session
        .sections
        .iter()
        .filter(|s| s.end > s.start)
        .cloned()
        .collect();
    if s.is_empty() {
        vec![Segment {
            start: 0.0,
            end: r.duration_s,
            label: "A".into(),
        }]
    } else {
        s
    }
}

/// Duration-weighted means over sections of the two values and of their |difference|.
fn per_section(sections: &[Segment], f: impl Fn(&Segment) -> (f64, f64)) -> (f64, f64, f64) {
    let (mut a, mut b, mut e, mut w) = (0.0, 0.0, 0.0, 0.0);
    for s in sections {
        let d = s.end - s.start;
        let (x, y) = f(s);
        a += d * x;
        b += d * y;
        e += d * (x - y).abs();
        w += d;
    }
    let w = w.max(1e-9);
    (a / w, b / w, e / w)
}

/// Mean |difference| of the level-normalised mel spectra over the reference's sounding
/// segments, dB (see `docs/qc.md`).
fn spectral_error(r: &Features, c: &Features) -> f64 {
    let nb = features::SPECTRAL_BANDS;
    let segs = r.segments.len() / nb;
    if segs == 0 {
        return 0.0;
    }
    let level = |x: &[f32]| {
        let n = (x.len() / nb).max(1) as f64;
        let mean: f64 = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        10.0 * (mean + 1e-30).log10()
    };
    let (gr, gc) = (level(&r.segments), level(&c.segments));
    let db = |v: f32, g: f64| 10.0 * (f64::from(v) + 1e-30).log10() - g;
    let loudest = r
        .segments
        .iter()
        .map(|&v| db(v, gr))
        .fold(f64::NEG_INFINITY, f64::max);
    let floor = loudest - 60.0;
    let seg_db: Vec<f64> = r.segments.chunks_exact(nb).map(|s| level(s) - gr).collect();
    let mut sorted = seg_db.clone();
    sorted.sort_by(f64::total_cmp);
    let loud = sorted[((sorted.len() - 1) as f64 * 0.99) as usize];
    let (mut sum, mut n) = (0.0, 0usize);
    for (t, &sdb) in seg_db.iter().enumerate() {
        if sdb < loud - 40.0 {
            continue;
        }
        for b in 0..nb {
            let x = db(r.segments[t * nb + b], gr).max(floor);
            let y = c
                .segments
                .get(t * nb + b)
                .map(|&v| db(v, gc).max(floor))
                .unwrap_or(floor);
            sum += (x - y).abs();
        }
        n += nb;
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// Share of the half-beat cells (on the reference's beats) where the two bass lines have the
/// same pitch class, among the cells where either sounds, each weighted by its salience.
fn bass_agreement(r: &Features, c: &Features) -> f64 {
    let beats = &r.session.beats;
    let mut edges = Vec::new();
    if beats.len() >= 2 {
        for w in beats.windows(2) {
            edges.push(w[0]);
            edges.push(0.5 * (w[0] + w[1]));
        }
        edges.push(beats[beats.len() - 1]);
    } else {
        let mut t = 0.0;
        while t <= r.duration_s {
            edges.push(t);
            t += 0.25;
        }
    }
    let cells = |f: &Features| -> Vec<(usize, f32)> {
        crate::harmony::chroma::span_means(&f.bass, f.bass_rate, &edges)
            .iter()
            .map(|v| {
                v.iter()
                    .enumerate()
                    .fold((0, 0.0f32), |a, (i, &x)| if x > a.1 { (i, x) } else { a })
            })
            .collect()
    };
    let (a, b) = (cells(r), cells(c));
    let active = |v: &[(usize, f32)]| -> Vec<bool> {
        let mut s: Vec<f32> = v.iter().map(|x| x.1).collect();
        s.sort_by(f32::total_cmp);
        let p90 = s.get(((s.len().max(1) - 1) as f64 * 0.9) as usize).copied();
        let thr = 0.3 * p90.unwrap_or(0.0);
        v.iter().map(|x| x.1 > thr && x.1 > 0.0).collect()
    };
    let (aa, ab) = (active(&a), active(&b));
    // Each cell weighs by the stronger of its two bass salience values, relative to each
    // recording's loud cells, so that a faint pitch (a kick's tail) counts less than a note.
    let norm = |v: &[(usize, f32)]| {
        let m = v.iter().map(|x| x.1).fold(0.0f32, f32::max);
        if m > 0.0 {
            1.0 / m
        } else {
            0.0
        }
    };
    let (na, nb) = (norm(&a), norm(&b));
    let (mut agree, mut n) = (0.0f64, 0.0f64);
    for i in 0..a.len().min(b.len()) {
        if !(aa[i] || ab[i]) {
            continue;
        }
        let w = f64::from((a[i].1 * na).max(b[i].1 * nb));
        n += w;
        if aa[i] && ab[i] && a[i].0 == b[i].0 {
            agree += w;
        }
    }
    if n <= 0.0 {
        1.0
    } else {
        agree / n
    }
}

/// F-measure of `est` against `reference` event times with tolerance `tol` seconds (each
/// event matched at most once, in time order). Both empty is 1.
pub fn f_measure(reference: &[f64], est: &[f64], tol: f64) -> f64 {
    if reference.is_empty() && est.is_empty() {
        return 1.0;
    }
    if reference.is_empty() || est.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut hits) = (0, 0, 0usize);
    while i < reference.len() && j < est.len() {
        let d = est[j] - reference[i];
        if d.abs() <= tol {
            hits += 1;
            i += 1;
            j += 1;
        } else if d < 0.0 {
            j += 1;
        } else {
            i += 1;
        }
    }
    2.0 * hits as f64 / (reference.len() + est.len()) as f64
}

/// [`f_measure`] with each event weighted by its strength: precision is the strength of the
/// matched estimates over that of all estimates, recall likewise for the reference, so that
/// a faint hit found or missed counts less than a loud one.
pub fn weighted_f_measure(reference: &[(f64, f64)], est: &[(f64, f64)], tol: f64) -> f64 {
    let total = |v: &[(f64, f64)]| v.iter().map(|e| e.1.max(0.0)).sum::<f64>();
    let (tr, te) = (total(reference), total(est));
    if tr <= 0.0 && te <= 0.0 {
        return 1.0;
    }
    if tr <= 0.0 || te <= 0.0 {
        return 0.0;
    }
    let (mut i, mut j) = (0, 0);
    let (mut hit_r, mut hit_e) = (0.0, 0.0);
    while i < reference.len() && j < est.len() {
        let d = est[j].0 - reference[i].0;
        if d.abs() <= tol {
            hit_r += reference[i].1.max(0.0);
            hit_e += est[j].1.max(0.0);
            i += 1;
            j += 1;
        } else if d < 0.0 {
            j += 1;
        } else {
            i += 1;
        }
    }
    let (p, r) = (hit_e / te, hit_r / tr);
    if p + r <= 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// A chord reduced to root and triad family: `None` (no chord), or root and 0 = major (maj,
/// 7, maj7), 1 = minor (min, min7), 2 = diminished, 3 = suspended.
fn chord_class(label: &str) -> Option<(u8, u8)> {
    let (root, q) = parse_label(label)?;
    let family = if q.starts_with("min") {
        1
    } else if q.starts_with("dim") || q.starts_with("hdim") {
        2
    } else if q.starts_with("sus") {
        3
    } else {
        0
    };
    Some((root, family))
}

/// Share of `[0, duration)` (sampled every 50 ms) where the two chord timelines agree.
fn chord_agreement(r: &[Segment], c: &[Segment], duration: f64) -> f64 {
    let at = |segs: &[Segment], t: f64| -> Option<(u8, u8)> {
        let i = segs.partition_point(|s| s.end <= t);
        segs.get(i)
            .filter(|s| s.start <= t)
            .and_then(|s| chord_class(&s.label))
    };
    let steps = (duration / 0.05).floor() as usize;
    if steps == 0 {
        return 1.0;
    }
    let agree = (0..steps)
        .filter(|&k| {
            let t = (k as f64 + 0.5) * 0.05;
            at(r, t) == at(c, t)
        })
        .count();
    agree as f64 / steps as f64
}

/// The candidate's sections, or its whole length as one.
fn candidate_sections(c: &Features, reference_duration: f64) -> Vec<Segment> {
    let s: Vec<Segment> = c
        .session
        .sections
        .iter()
        .filter(|s| s.end > s.start)
        .cloned()
        .collect();
    if s.is_empty() {
        vec![Segment {
            start: 0.0,
            end: reference_duration,
            label: "A".into(),
        }]
    } else {
        s
    }
}

/// One minus the mean of the two directional Hamming distances between two segmentations of
/// `[0, duration)` (S. Abdallah et al., "Theory and evaluation of a Bayesian music structure
/// extractor", ISMIR 2005): for each segment of one, the part of it outside its best-matching
/// segment of the other, summed and over the duration. A missing or spurious boundary costs
/// the smaller of the two pieces it splits; labels are not compared.
pub fn segmentation_agreement(r: &[Segment], c: &[Segment], duration: f64) -> f64 {
    if duration <= 0.0 {
        return 1.0;
    }
    let directional = |a: &[Segment], b: &[Segment]| -> f64 {
        let mut missed = 0.0;
        for s in a {
            let (s0, s1) = (s.start.max(0.0), s.end.min(duration));
            if s1 <= s0 {
                continue;
            }
            let best = b
                .iter()
                .map(|t| (s1.min(t.end) - s0.max(t.start)).max(0.0))
                .fold(0.0, f64::max);
            missed += (s1 - s0) - best;
        }
        missed / duration
    };
    (1.0 - 0.5 * (directional(r, c) + directional(c, r))).clamp(0.0, 1.0)
}

/// The regularised concordance of the two loudness curves (3 s moving RMS at 10 Hz, dB,
/// each less its mean) over the reference's sounding span; see `docs/qc.md`.
fn energy_concordance(r: &Features, c: &Features) -> f64 {
    /// Variance added to both sides, dB²: two flat curves agree.
    const EPS_DB2: f64 = 1.0;
    /// Half-length of the moving window, frames of 100 ms (3 s in all).
    const HALF: usize = 15;
    /// Alignments tried either way, frames of 100 ms.
    const LAG: usize = 10;
    let (x, y) = (r.blocks.energy_curve(10.0), c.blocks.energy_curve(10.0));
    if x.is_empty() {
        return 1.0;
    }
    // The span where the reference sounds (its 100 ms frames within 30 dB of the loud ones).
    let mut sorted = x.clone();
    sorted.sort_by(f64::total_cmp);
    let loud = sorted[((sorted.len() - 1) as f64 * 0.9) as usize];
    let first = x.iter().position(|&v| v > loud - 30.0).unwrap_or(0);
    let last = x
        .iter()
        .rposition(|&v| v > loud - 30.0)
        .unwrap_or(x.len() - 1);
    // Moving means of the power inside the span only, so that the silence around the music
    // does not draw ramps into the curve.
    let smooth = |v: &[f64], lag: isize| -> Vec<f64> {
        let p: Vec<f64> = (first..=last)
            .map(|i| {
                let j = i as isize + lag;
                let db = if j < 0 {
                    FLOOR_DB
                } else {
                    v.get(j as usize).copied().unwrap_or(FLOOR_DB)
                };
                10f64.powf(db / 10.0)
            })
            .collect();
        (0..p.len())
            .map(|i| {
                let a = i.saturating_sub(HALF);
                let b = (i + HALF + 1).min(p.len());
                let m = p[a..b].iter().sum::<f64>() / (b - a) as f64;
                10.0 * (m + 1e-30).log10()
            })
            .collect()
    };
    let floor = loud - 60.0;
    let xs: Vec<f64> = smooth(&x, 0).into_iter().map(|v| v.max(floor)).collect();
    // The best alignment within ±1 s: the curve judges the arrangement's rises and falls; a
    // beat's misalignment is the business of the kick, bass and harmony dimensions.
    (-(LAG as isize)..=LAG as isize)
        .map(|lag| {
            let ys: Vec<f64> = smooth(&y, lag).into_iter().map(|v| v.max(floor)).collect();
            concordance(&xs, &ys, EPS_DB2)
        })
        .fold(-1.0, f64::max)
}

/// `(2·cov + ε) / (var x + var y + ε)`, clamped to −1..1.
fn concordance(xs: &[f64], ys: &[f64], eps: f64) -> f64 {
    let n = xs.len().max(1) as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in xs.iter().zip(ys) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    let (sxy, sxx, syy) = (sxy / n, sxx / n, syy / n);
    ((2.0 * sxy + eps) / (sxx + syy + eps)).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f_measure_counts_each_event_once() {
        assert_eq!(f_measure(&[1.0, 2.0], &[1.01, 2.04], 0.05), 1.0);
        assert_eq!(f_measure(&[1.0, 2.0], &[1.01, 1.02], 0.05), 0.5);
        assert_eq!(f_measure(&[], &[], 0.05), 1.0);
        assert_eq!(f_measure(&[1.0], &[], 0.05), 0.0);
    }

    #[test]
    fn weights_sum_to_100_and_names_are_unique() {
        let sum: f64 = DIMENSIONS.iter().map(|d| d.weight).sum();
        assert!((sum - 100.0).abs() < 1e-9);
        let mut names: Vec<&str> = DIMENSIONS.iter().map(|d| d.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 12);
        assert_eq!(from_error(0.0, 0.0, 3.0), 100.0);
        assert_eq!(from_error(0.4, 0.5, 3.0), 100.0);
        assert!((from_error(3.5, 0.5, 3.0) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn chords_agree_by_root_and_family() {
        let seg = |a: f64, b: f64, l: &str| Segment {
            start: a,
            end: b,
            label: l.into(),
        };
        let r = [seg(0.0, 1.0, "C:maj"), seg(1.0, 2.0, "A:min")];
        let c = [seg(0.0, 1.0, "C:7"), seg(1.0, 2.0, "A:maj")];
        assert!((chord_agreement(&r, &c, 2.0) - 0.5).abs() < 1e-9);
    }
}
