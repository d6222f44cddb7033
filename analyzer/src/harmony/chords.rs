//! Chord recognition per beat: template matching on beat-synchronous chroma, decoded with a
//! hidden Markov model whose chord-change probability follows the meter.
//!
//! References: T. Fujishima, "Realtime chord recognition of musical sound", ICMC 1999
//! (templates); A. Sheh and D. Ellis, "Chord segmentation and recognition using EM-trained
//! hidden Markov models", ISMIR 2003 (HMM decoding); M. Mauch and S. Dixon, "Simultaneous
//! estimation of chords and musical context from audio", IEEE TASLP 18(6), 2010 (bass chroma
//! and metric position as evidence).
//!
//! - Templates carry the first four harmonics of each chord tone (amplitude 0.6ʰ⁻¹), so that a
//!   note's twelfth does not read as a foreign chord tone.
//! - The emission of chord `c` at beat `i` is `β·(cos(chroma_i, T_c) + w_b·bass_i[root(c)] +
//!   bias(quality))`, the bass term (bass chroma normalised to its maximum) separating e.g.
//!   `A:min7` from `C:maj`.
//! - Transitions: stay with probability `p_stay`, lower on downbeats than inside bars, because
//!   harmony changes on strong beats; the change goes to any other chord uniformly.
//! - `N` (no chord) is emitted where the beat's chroma energy is small against the track's.

/// Pitch-class names used in labels (the spelling of the session contract).
pub const PITCH_NAMES: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

/// Chord qualities recognised, with Harte shorthand and intervals (semitones above the root).
pub const QUALITIES: &[(&str, &[u8])] = &[
    ("maj", &[0, 4, 7]),
    ("min", &[0, 3, 7]),
    ("7", &[0, 4, 7, 10]),
    ("maj7", &[0, 4, 7, 11]),
    ("min7", &[0, 3, 7, 10]),
    ("dim", &[0, 3, 6]),
    ("sus4", &[0, 5, 7]),
    ("sus2", &[0, 2, 7]),
];

/// Prior bias per quality (cosine units): plain triads are the default explanation.
const QUALITY_BIAS: [f32; 8] = [0.0, 0.0, -0.015, -0.02, -0.015, -0.05, -0.05, -0.05];
/// Weight of the bass evidence.
const BASS_WEIGHT: f32 = 0.15;
/// Emission sharpness β.
const BETA: f32 = 25.0;
/// Probability of keeping the chord across a beat inside a bar.
const P_STAY_IN_BAR: f64 = 0.97;
/// Probability of keeping the chord across a barline.
const P_STAY_AT_DOWNBEAT: f64 = 0.6;

/// A chord: root pitch class and quality index into [`QUALITIES`]; `None` is "N".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chord {
    pub root: u8,
    pub quality: u8,
}

impl Chord {
    /// Harte label, e.g. `A:min`.
    pub fn label(&self) -> String {
        format!(
            "{}:{}",
            PITCH_NAMES[self.root as usize], QUALITIES[self.quality as usize].0
        )
    }

    /// Pitch classes of the chord.
    pub fn pitch_classes(&self) -> impl Iterator<Item = u8> + '_ {
        QUALITIES[self.quality as usize]
            .1
            .iter()
            .map(move |&i| (self.root + i) % 12)
    }

    /// Whether the chord has a major third (maj, 7, maj7).
    pub fn is_major(&self) -> bool {
        matches!(QUALITIES[self.quality as usize].0, "maj" | "7" | "maj7")
    }

    /// Whether the chord has a minor third and perfect fifth (min, min7).
    pub fn is_minor(&self) -> bool {
        matches!(QUALITIES[self.quality as usize].0, "min" | "min7")
    }
}

/// Label of an optional chord (`N` for none).
pub fn label(c: Option<Chord>) -> String {
    c.map(|c| c.label()).unwrap_or_else(|| "N".to_string())
}

/// Parses a Harte label into pitch class of the root and the shorthand (`"N"` → `None`).
pub fn parse_label(label: &str) -> Option<(u8, String)> {
    if label == "N" || label == "X" {
        return None;
    }
    let (root, qual) = label.split_once(':').unwrap_or((label, "maj"));
    let qual = qual.split('/').next().unwrap_or("maj");
    let mut chars = root.chars();
    let letter = chars.next()?;
    let base: i32 = match letter {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let acc: i32 = chars
        .map(|c| match c {
            '#' => 1,
            'b' => -1,
            _ => 0,
        })
        .sum();
    Some((((base + acc).rem_euclid(12)) as u8, qual.to_string()))
}

fn template(c: Chord) -> [f32; 12] {
    let mut t = [0.0f32; 12];
    for pc in c.pitch_classes() {
        // Harmonics 1..4 of the note: octave, twelfth (+7), double octave.
        for (h, interval) in [(0, 0u8), (1, 0), (2, 7), (3, 0)] {
            t[((pc + interval) % 12) as usize] += 0.6f32.powi(h);
        }
    }
    t
}

/// All chords of the vocabulary, in state order.
pub fn vocabulary() -> Vec<Chord> {
    (0..QUALITIES.len() as u8)
        .flat_map(|q| {
            (0..12u8).map(move |r| Chord {
                root: r,
                quality: q,
            })
        })
        .collect()
}

/// Prior bias (cosine units) for chords whose notes all belong to the key, once the key is
/// known: where the audio leaves the third open (power chords, bare fifths) the diatonic
/// quality wins — the key–chord dependence of Mauch & Dixon (2010).
const IN_KEY_BIAS: f32 = 0.04;

/// Pitch classes of a key's scale: major, or natural minor with the raised seventh.
pub fn key_scale(tonic: u8, minor: bool) -> [bool; 12] {
    let steps: &[u8] = if minor {
        &[0, 2, 3, 5, 7, 8, 10, 11]
    } else {
        &[0, 2, 4, 5, 7, 9, 11]
    };
    let mut s = [false; 12];
    for &st in steps {
        s[((tonic + st) % 12) as usize] = true;
    }
    s
}

/// Per-beat evidence for the chord decoder.
pub struct BeatChroma<'a> {
    /// Treble chroma per beat.
    pub treble: &'a [[f32; 12]],
    /// Bass chroma per beat.
    pub bass: &'a [[f32; 12]],
    /// Whether each beat is a downbeat.
    pub downbeat: &'a [bool],
}

/// Decodes one chord (or `None`) per beat; with `key` (tonic, minor) the chords of the key get
/// a small prior advantage.
pub fn decode(ev: &BeatChroma<'_>, key: Option<(u8, bool)>) -> Vec<Option<Chord>> {
    let n = ev.treble.len();
    if n == 0 {
        return Vec::new();
    }
    let vocab = vocabulary();
    let templates: Vec<[f32; 12]> = vocab.iter().map(|&c| template(c)).collect();
    let key_bias: Vec<f32> = vocab
        .iter()
        .map(|c| match key {
            Some((tonic, minor)) => {
                let scale = key_scale(tonic, minor);
                if c.pitch_classes().all(|pc| scale[pc as usize]) {
                    IN_KEY_BIAS
                } else {
                    0.0
                }
            }
            None => 0.0,
        })
        .collect();
    let s = vocab.len() + 1; // last state = N
    let energy: Vec<f32> = ev
        .treble
        .iter()
        .map(|c| c.iter().map(|v| v * v).sum::<f32>().sqrt())
        .collect();
    let mut sorted = energy.clone();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[sorted.len() / 2].max(1e-9);
    let mut emis = vec![0.0f32; n * s];
    for i in 0..n {
        let bmax = ev.bass[i].iter().copied().fold(0.0f32, f32::max).max(1e-9);
        for (j, (c, t)) in vocab.iter().zip(&templates).enumerate() {
            let cos = super::chroma::cosine(&ev.treble[i], t);
            let bass = ev.bass[i][c.root as usize] / bmax;
            emis[i * s + j] =
                BETA * (cos + BASS_WEIGHT * bass + QUALITY_BIAS[c.quality as usize] + key_bias[j]);
        }
        // N: a fixed threshold, raised where the beat carries little pitched energy.
        let quiet = (1.0 - energy[i] / (0.15 * median)).clamp(0.0, 1.0);
        emis[i * s + s - 1] = BETA * (0.5 + 1.5 * quiet);
    }
    // Viterbi with "stay or jump anywhere" transitions: O(states) per beat.
    let mut delta: Vec<f32> = emis[..s].to_vec();
    let mut back = vec![0u16; n * s];
    for i in 1..n {
        let p_stay = if ev.downbeat[i] {
            P_STAY_AT_DOWNBEAT
        } else {
            P_STAY_IN_BAR
        };
        let ls = p_stay.ln() as f32;
        let lc = ((1.0 - p_stay) / (s - 1) as f64).ln() as f32;
        let (best_j, best_v) =
            delta.iter().enumerate().fold(
                (0usize, f32::MIN),
                |a, (j, &v)| if v > a.1 { (j, v) } else { a },
            );
        let mut next = vec![0.0f32; s];
        for j in 0..s {
            let stay = delta[j] + ls;
            let jump = best_v + lc;
            let (v, from) = if stay >= jump || best_j == j {
                (stay, j)
            } else {
                (jump, best_j)
            };
            next[j] = v + emis[i * s + j];
            back[i * s + j] = from as u16;
        }
        delta = next;
    }
    let mut j = (0..s)
        .max_by(|&a, &b| delta[a].total_cmp(&delta[b]))
        .unwrap_or(s - 1);
    let mut path = vec![0usize; n];
    for i in (0..n).rev() {
        path[i] = j;
        j = back[i * s + j] as usize;
    }
    path.into_iter()
        .map(|j| if j == s - 1 { None } else { Some(vocab[j]) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chroma_of(pcs: &[u8]) -> [f32; 12] {
        let mut c = [0.05f32; 12];
        for &p in pcs {
            c[p as usize] = 1.0;
        }
        c
    }

    #[test]
    fn labels_round_trip() {
        for c in vocabulary() {
            let (root, q) = parse_label(&c.label()).unwrap();
            assert_eq!(root, c.root);
            assert_eq!(q, QUALITIES[c.quality as usize].0);
        }
        assert_eq!(parse_label("Bb:min7/b3"), Some((10, "min7".into())));
        assert_eq!(parse_label("N"), None);
    }

    #[test]
    fn decodes_a_progression_with_sevenths_and_bass() {
        // | A:min7 | D:min7 | G:7 | C:maj7 |, four beats each; bass on the roots.
        let bars: [(&[u8], u8); 4] = [
            (&[9, 0, 4, 7], 9),
            (&[2, 5, 9, 0], 2),
            (&[7, 11, 2, 5], 7),
            (&[0, 4, 7, 11], 0),
        ];
        let mut treble = Vec::new();
        let mut bass = Vec::new();
        let mut down = Vec::new();
        for (pcs, root) in bars {
            for b in 0..4 {
                treble.push(chroma_of(pcs));
                let mut bc = [0.0f32; 12];
                bc[root as usize] = 1.0;
                bass.push(bc);
                down.push(b == 0);
            }
        }
        let out = decode(
            &BeatChroma {
                treble: &treble,
                bass: &bass,
                downbeat: &down,
            },
            None,
        );
        let labels: Vec<String> = out.iter().step_by(4).map(|&c| label(c)).collect();
        assert_eq!(labels, vec!["A:min7", "D:min7", "G:7", "C:maj7"]);
    }

    #[test]
    fn key_decides_the_third_of_a_power_chord() {
        // C#5 (C#, G#) over a C# bass: minor in E major (vi), major in F# major (V).
        let treble = vec![chroma_of(&[1, 8]); 8];
        let mut b = [0.0f32; 12];
        b[1] = 1.0;
        let bass = vec![b; 8];
        let down: Vec<bool> = (0..8).map(|i| i % 4 == 0).collect();
        let ev = BeatChroma {
            treble: &treble,
            bass: &bass,
            downbeat: &down,
        };
        assert_eq!(label(decode(&ev, Some((4, false)))[0]), "C#:min");
        assert_eq!(label(decode(&ev, Some((6, false)))[0]), "C#:maj");
    }

    #[test]
    fn silence_is_n() {
        let mut treble = vec![chroma_of(&[0, 4, 7]); 8];
        for c in treble.iter_mut().skip(4) {
            *c = [0.0; 12];
        }
        let bass = vec![[0.0f32; 12]; 8];
        let down: Vec<bool> = (0..8).map(|i| i % 4 == 0).collect();
        let out = decode(
            &BeatChroma {
                treble: &treble,
                bass: &bass,
                downbeat: &down,
            },
            None,
        );
        assert_eq!(label(out[0]), "C:maj");
        assert_eq!(label(out[6]), "N");
    }
}
