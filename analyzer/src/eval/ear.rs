//! The EAR benchmark on a ground-truth corpus: separation SDR per stem, note F1 per element
//! (from the truth stems — transcription alone — and from our stems — the whole pipeline), and
//! drum onset F-measure per class.
//!
//! - SDR as the MDX challenge computes it, 10·log10(Σs² / Σ(s−ŝ)²) over both channels. Truth
//!   groups: `drums`, `bass`, `vocals`, everything else summed as `other`. On songs without a
//!   vocal stem our `vocals` (lead) stem is added to our `other` and no vocal SDR is counted.
//! - Notes: onset within ±50 ms, same pitch (±50 cents on MIDI notes), offsets ignored; a
//!   maximum one-to-one matching per pitch.
//! - Drums: onsets within ±50 ms per class (kick; snare, clap and side stick; closed, pedal and
//!   open hats).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::metrics::{f_measure, match_events, Prf};
use crate::error::{Error, Result};
use crate::frontend::ANALYSIS_RATE;
use crate::models::Store;
use crate::transcribe::{drums, Note, Policy, Transcriber};

/// A note reduced to what the metric looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Onset {
    /// Onset, seconds.
    pub time: f64,
    /// MIDI note.
    pub pitch: u8,
}

/// Note precision / recall / F1: onsets within `window`, equal pitch.
pub fn note_prf(reference: &[Onset], estimate: &[Onset], window: f64) -> Prf {
    let mut by_pitch: BTreeMap<u8, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for r in reference {
        by_pitch.entry(r.pitch).or_default().0.push(r.time);
    }
    for e in estimate {
        by_pitch.entry(e.pitch).or_default().1.push(e.time);
    }
    let hits: usize = by_pitch
        .values()
        .map(|(r, e)| match_events(r, e, window))
        .sum();
    if reference.is_empty() && estimate.is_empty() {
        return Prf {
            f: 1.0,
            precision: 1.0,
            recall: 1.0,
        };
    }
    Prf::from_counts(hits as u64, estimate.len() as u64, reference.len() as u64)
}

fn onsets(notes: &[Note]) -> Vec<Onset> {
    notes
        .iter()
        .map(|n| Onset {
            time: n.start_s,
            pitch: n.pitch,
        })
        .collect()
}

fn read_midi(path: &Path) -> Result<Vec<crate::midi::ReadNote>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading", e))?;
    crate::midi::read_notes(&bytes).map_err(|detail| Error::BadTruth {
        path: path.into(),
        detail,
    })
}

/// Interleaved stereo of an audio file, padded or cut to `frames`.
fn stereo(path: &Path, frames: usize) -> Result<Vec<f32>> {
    let (_, mut s) = crate::decode::read_stereo(path)?;
    s.resize(frames * 2, 0.0);
    Ok(s)
}

/// Scores of one song.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EarScore {
    pub song: String,
    /// SDR per stem group, dB (absent when the truth has no such stem).
    pub sdr: BTreeMap<String, f64>,
    /// Note F1 from the truth stems, per group (`bass`, `vocals+lead`, `polyphonic`).
    pub notes_truth_stems: BTreeMap<String, f64>,
    /// Note F1 from our stems (bass; vocals against the truth vocals where there are any).
    pub notes_our_stems: BTreeMap<String, f64>,
    /// Drum onset F per class, from the truth drum stem.
    pub drums: BTreeMap<String, f64>,
}

/// Element group of a truth stem for note scoring.
fn group_of(stem: &str) -> (&'static str, Policy) {
    match stem {
        "bass" => ("bass", Policy::Bass),
        "vocals" | "lead" => ("vocals+lead", Policy::Monophonic),
        _ => ("polyphonic", Policy::Polyphonic),
    }
}

/// Scores the elements of one analysed song (`session_dir` written by `auralis analyze`)
/// against its corpus folder.
pub fn score(
    song_dir: &Path,
    session_dir: &Path,
    transcriber: &mut Option<Transcriber>,
) -> Result<EarScore> {
    let name = song_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = EarScore {
        song: name,
        ..EarScore::default()
    };
    let (_, mix) = crate::decode::read_stereo(&song_dir.join("mix.wav"))?;
    let frames = mix.len() / 2;
    let stems_dir = song_dir.join("stems");
    let mut truth_stems: Vec<String> = std::fs::read_dir(&stems_dir)
        .map_err(|e| Error::io(&stems_dir, "listing", e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            (p.extension().is_some_and(|x| x == "flac" || x == "wav"))
                .then(|| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .flatten()
        })
        .collect();
    truth_stems.sort();
    let stem_path = |s: &str| {
        let flac = stems_dir.join(format!("{s}.flac"));
        if flac.is_file() {
            flac
        } else {
            stems_dir.join(format!("{s}.wav"))
        }
    };

    // SDR.
    let mut truth_groups: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    for s in &truth_stems {
        let g = match s.as_str() {
            "drums" | "bass" | "vocals" => s.as_str(),
            _ => "other",
        };
        let audio = stereo(&stem_path(s), frames)?;
        let acc = truth_groups
            .entry(g)
            .or_insert_with(|| vec![0.0; frames * 2]);
        for (a, x) in acc.iter_mut().zip(&audio) {
            *a += x;
        }
    }
    let ours_dir = session_dir.join(crate::elements::STEMS_DIR);
    let mut ours: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    for g in ["drums", "bass", "vocals", "other"] {
        let p = ours_dir.join(format!("{g}.wav"));
        let v = if p.is_file() {
            stereo(&p, frames)?
        } else {
            vec![0.0; frames * 2]
        };
        ours.insert(g, v);
    }
    if !truth_groups.contains_key("vocals") {
        let v = ours.remove("vocals").unwrap_or_default();
        if let Some(o) = ours.get_mut("other") {
            for (a, x) in o.iter_mut().zip(&v) {
                *a += x;
            }
        }
    }
    for (g, truth) in &truth_groups {
        if let Some(est) = ours.get(g) {
            out.sdr
                .insert(g.to_string(), crate::separate::sdr(truth, est));
        }
    }

    // Notes from the truth stems, and drums.
    let mut group_hits: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    let midi_dir = song_dir.join("midi");
    for s in &truth_stems {
        let midi_path = midi_dir.join(format!("{s}.mid"));
        if !midi_path.is_file() {
            continue;
        }
        let truth_notes = read_midi(&midi_path)?;
        let (rate, audio) = crate::decode::read_stereo(&stem_path(s))?;
        let mono: Vec<f32> = audio.chunks(2).map(|f| 0.5 * (f[0] + f[1])).collect();
        if s == "drums" {
            let est = drums::transcribe(&mono, rate);
            for class in ["kick", "snare", "hats"] {
                let r: Vec<f64> = truth_notes
                    .iter()
                    .filter(|n| drums::class_of(n.pitch) == Some(class))
                    .map(|n| n.start_s)
                    .collect();
                let e: Vec<f64> = est
                    .iter()
                    .filter(|n| drums::class_of(n.pitch) == Some(class))
                    .map(|n| n.start_s)
                    .collect();
                if !r.is_empty() {
                    out.drums.insert(class.into(), f_measure(&r, &e, 0.05).f);
                }
            }
            continue;
        }
        let Some(t) = transcriber.as_mut() else {
            continue;
        };
        let mono22 = crate::resample::resample(&mono, rate, ANALYSIS_RATE)?;
        let (group, policy) = group_of(s);
        let est = t
            .notes(&mono22, policy, &mut |_| {})
            .map_err(|e| Error::Internal {
                stage: "eval",
                detail: e.to_string(),
            })?;
        let r: Vec<Onset> = truth_notes
            .iter()
            .map(|n| Onset {
                time: n.start_s,
                pitch: n.pitch,
            })
            .collect();
        let e = onsets(&est);
        let hits = (note_prf(&r, &e, 0.05).recall * r.len() as f64).round() as u64;
        let acc = group_hits.entry(group).or_default();
        acc.0 += hits;
        acc.1 += e.len() as u64;
        acc.2 += r.len() as u64;
    }
    for (g, (h, e, r)) in group_hits {
        out.notes_truth_stems
            .insert(g.into(), Prf::from_counts(h, e, r).f);
    }

    // Notes from our stems.
    let our_midi = session_dir.join(crate::elements::MIDI_DIR);
    // Our vocals against the truth vocals (songs with a singer only, as the target reads).
    let truth_for_vocals = Some("vocals").filter(|s| midi_dir.join(format!("{s}.mid")).is_file());
    for (ours_name, truth_name) in [("bass", Some("bass")), ("vocals", truth_for_vocals)] {
        let Some(truth_name) = truth_name else {
            continue;
        };
        let truth_path = midi_dir.join(format!("{truth_name}.mid"));
        if !truth_path.is_file() {
            continue;
        }
        let r: Vec<Onset> = read_midi(&truth_path)?
            .iter()
            .map(|n| Onset {
                time: n.start_s,
                pitch: n.pitch,
            })
            .collect();
        let ours_path = our_midi.join(format!("{ours_name}.mid"));
        let e: Vec<Onset> = if ours_path.is_file() {
            read_midi(&ours_path)?
                .iter()
                .map(|n| Onset {
                    time: n.start_s,
                    pitch: n.pitch,
                })
                .collect()
        } else {
            Vec::new()
        };
        out.notes_our_stems
            .insert(ours_name.into(), note_prf(&r, &e, 0.05).f);
    }
    Ok(out)
}

/// Loads Basic Pitch for the benchmark (`None` with a message when it is not installed).
pub fn transcriber(store: &Store) -> Option<Transcriber> {
    match Transcriber::load(store, crate::models::Device::Auto) {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("auralis: note benchmarks skipped: {e}");
            None
        }
    }
}

/// Mean of each key over the songs that have it.
pub fn mean(maps: &[&BTreeMap<String, f64>]) -> BTreeMap<String, f64> {
    let mut acc: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for m in maps {
        for (k, v) in m.iter() {
            let e = acc.entry(k.clone()).or_default();
            e.0 += v;
            e.1 += 1;
        }
    }
    acc.into_iter()
        .map(|(k, (s, n))| (k, s / n as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_f1_needs_pitch_and_onset() {
        let r = [
            Onset {
                time: 1.0,
                pitch: 60,
            },
            Onset {
                time: 2.0,
                pitch: 62,
            },
            Onset {
                time: 3.0,
                pitch: 64,
            },
        ];
        let e = [
            Onset {
                time: 1.04,
                pitch: 60,
            }, // hit
            Onset {
                time: 2.0,
                pitch: 63,
            }, // wrong pitch
            Onset {
                time: 3.08,
                pitch: 64,
            }, // too late
        ];
        let p = note_prf(&r, &e, 0.05);
        assert!((p.precision - 1.0 / 3.0).abs() < 1e-9);
        assert!((p.recall - 1.0 / 3.0).abs() < 1e-9);
    }
}
