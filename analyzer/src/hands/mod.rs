//! HANDS: a synth patch per element, matched to its stem, and the element rendered with it.
//!
//! For every element with a stem and a MIDI file, [`fit::fit`] chooses the nearest preset of
//! its role from the bank (`presets/bank.json`, embedded in the engine) and fits its
//! parameters; the element's notes are then rendered through the engine — the same code the
//! Instrument plugin plays — to `render/<element>.wav`. Each element in `session.json`
//! gains `preset`, `patch`, `fit` (`{loss_before, loss_after, seconds, evaluations}`, losses
//! in dB of log-mel distance) and `render`.
//!
//! Elements are fitted in parallel (one per core); the time budget is for the whole song.

pub mod cmaes;
pub mod fit;
pub mod mel;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use auralis_engine::render::{render_with, NoteSpec};
use auralis_engine::{Patch, Synth, Values};
use serde_json::json;

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::session::{PendingFile, Session, StageRecord};

/// Folder of the renders inside a session.
pub const RENDER_DIR: &str = "render";

/// Options of the HANDS stage.
#[derive(Debug, Clone)]
pub struct Options {
    /// Fitting time for the whole song (all elements), wall clock.
    pub budget: Duration,
    /// Only these elements (a refit): each keeps its earlier patch and render unless the new
    /// fit's loss is lower. `None`: every element, from scratch.
    pub only: Option<Vec<String>>,
    /// Added to each element's search seed (a refit searches elsewhere than the first fit).
    pub seed: u64,
    /// Appended to each render's file name (`render/<element><suffix>.wav`), so that a refit
    /// does not overwrite the renders an earlier iteration's mix was made from.
    pub suffix: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            budget: Duration::from_secs(40),
            only: None,
            seed: 0,
            suffix: String::new(),
        }
    }
}

/// Mono mix-down of interleaved stereo.
pub fn mono(stereo: &[f32]) -> Vec<f32> {
    stereo
        .chunks_exact(2)
        .map(|f| 0.5 * (f[0] + f[1]))
        .collect()
}

/// The notes of a MIDI file as the engine plays them.
pub fn read_notes(path: &Path) -> Result<Vec<NoteSpec>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading", e))?;
    let notes = crate::midi::read_notes(&bytes).map_err(|detail| Error::Malformed {
        path: path.into(),
        detail,
    })?;
    Ok(notes.iter().map(|n| n.spec()).collect())
}

/// Renders `notes` with `values` at `rate` for `frames` frames (interleaved stereo).
pub fn render_part(values: &Values, notes: &[NoteSpec], rate: u32, frames: usize) -> Vec<f32> {
    let mut synth = Synth::new(*values);
    synth.allocate(rate as f32);
    let [l, r] = render_with(&mut synth, values, notes, frames);
    l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect()
}

/// Writes interleaved stereo as a 32-bit float WAV, atomically.
pub fn write_wav(path: &Path, rate: u32, stereo: &[f32]) -> Result<()> {
    let pending = PendingFile::new(path);
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let io = |e: hound::Error| Error::Io {
        path: path.to_path_buf(),
        action: "writing",
        source: std::io::Error::other(e.to_string()),
    };
    let mut w = hound::WavWriter::create(pending.path(), spec).map_err(io)?;
    for &x in stereo {
        w.write_sample(x).map_err(io)?;
    }
    w.finalize().map_err(io)?;
    pending.commit()
}

/// Share of the 10 ms frames of interleaved stereo `audio` at `rate` within 6 dB of its loud
/// level (the 99th percentile of the frames' levels): how much of the time the part sounds
/// near full level — high for held notes, low for notes that die away (a piano's, a pluck's).
pub fn occupancy(audio: &[f32], rate: u32) -> f64 {
    let per = ((rate as usize) / 100).max(1) * 2;
    let mut db: Vec<f64> = audio
        .chunks(per)
        .map(|c| {
            let ms = c.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / c.len() as f64;
            10.0 * ms.max(1e-20).log10()
        })
        .collect();
    if db.is_empty() {
        return 0.0;
    }
    let n = db.len();
    let mut sorted = db.clone();
    sorted.sort_by(f64::total_cmp);
    let loud = sorted[((n - 1) as f64 * 0.99) as usize];
    db.retain(|&d| d > loud - 6.0);
    db.len() as f64 / n as f64
}

/// Renders element `index` again with `values` into `render/<element><suffix>.wav` (as long
/// as its earlier render) and stores the patch; `name` names the patch.
pub fn rerender(
    session: &mut Session,
    dir: &Path,
    index: usize,
    values: &Values,
    name: &str,
    suffix: &str,
) -> Result<()> {
    let e = &session.elements[index];
    let (Some(midi), Some(render)) = (
        e.midi.clone(),
        e.extra
            .get("render")
            .and_then(|r| r.as_str())
            .map(String::from),
    ) else {
        return Ok(());
    };
    let earlier = dir.join(&render);
    let reader = hound::WavReader::open(&earlier).map_err(|err| Error::Malformed {
        path: earlier.clone(),
        detail: err.to_string(),
    })?;
    let (rate, frames) = (reader.spec().sample_rate, reader.duration() as usize);
    drop(reader);
    let notes = read_notes(&dir.join(&midi))?;
    let rendered = render_part(values, &notes, rate, frames);
    let rel = format!("{RENDER_DIR}/{}{suffix}.wav", e.name);
    write_wav(&dir.join(&rel), rate, &rendered)?;
    let patch = Patch::from_values(name, values);
    let e = &mut session.elements[index];
    e.extra.insert(
        "patch".into(),
        serde_json::to_value(&patch).unwrap_or_default(),
    );
    e.extra.insert("render".into(), json!(rel));
    Ok(())
}

/// What one element's fit produced.
struct Done {
    index: usize,
    fit: Option<fit::Fit>,
}

/// Seconds of a whole part's render per second of audio, before one is measured.
const RENDER_PACE_PRIOR: f64 = 1.0 / 60.0;

/// Runs the stage on a session whose elements have stems and MIDI files in `dir`.
pub fn run(
    session: &mut Session,
    dir: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<StageRecord> {
    let started = Instant::now();
    let bank = auralis_engine::bank::presets();
    let jobs: Vec<(usize, String, String, String, String)> = session
        .elements
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            options
                .only
                .as_ref()
                .is_none_or(|names| names.contains(&e.name))
        })
        .filter_map(|(i, e)| {
            Some((
                i,
                e.name.clone(),
                e.role.clone(),
                e.stem.clone()?,
                e.midi.clone()?,
            ))
        })
        .collect();
    // On a refit, the loss each element's new fit must beat.
    let earlier: Vec<f64> = jobs
        .iter()
        .map(|j| {
            options
                .only
                .as_ref()
                .and_then(|_| session.elements[j.0].extra.get("fit"))
                .and_then(|f| f.get("loss_after"))
                .and_then(|l| l.as_f64())
                .unwrap_or(f64::INFINITY)
        })
        .collect();
    let render_dir = dir.join(RENDER_DIR);
    std::fs::create_dir_all(&render_dir).map_err(|e| Error::io(&render_dir, "creating", e))?;
    let workers = crate::spectrum::workers().min(jobs.len()).max(1);
    // The budget is for the whole stage: each element, as it starts, gets an even share of
    // what is left among the rounds of elements still to start (so that a part that ran over,
    // or the time its stem took to read, comes out of the later ones).
    let deadline = started + options.budget;
    // The render of the whole part after its fit comes out of its share: seconds of render
    // per second of audio, the mean of those measured so far (before any, about a kit's:
    // 60 times real time, the slowest of the roles).
    let render_pace: Mutex<(f64, usize)> = Mutex::new((RENDER_PACE_PRIOR, 0));
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let results: Mutex<Vec<Result<Done>>> = Mutex::new(Vec::new());
    progress.update("fit", 0.0, "timbre matching");
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some((index, name, role, stem, midi)) = jobs.get(k) else {
                    break;
                };
                let out = (|| -> Result<Done> {
                    let (rate, stereo) = crate::decode::read_stereo(&dir.join(stem))?;
                    let frames = stereo.len() / 2;
                    let audio = mono(&stereo);
                    drop(stereo);
                    let notes = read_notes(&dir.join(midi))?;
                    let part = fit::Part {
                        role,
                        rate,
                        audio: &audio,
                        notes: &notes,
                    };
                    let rounds = (jobs.len() - k).div_ceil(workers).max(1);
                    let seconds = frames as f64 / f64::from(rate.max(1));
                    let pace = render_pace.lock().map_or(RENDER_PACE_PRIOR, |p| p.0);
                    let per_element = deadline
                        .saturating_duration_since(Instant::now())
                        .div_f64(rounds as f64)
                        .saturating_sub(Duration::from_secs_f64(pace * seconds));
                    let found =
                        fit::fit(&part, &bank, per_element, 1 + *index as u64 + options.seed)
                            .filter(|f| f.loss_after < earlier[k]);
                    if let Some(f) = &found {
                        let timer = Instant::now();
                        let rendered = render_part(&f.values, &notes, rate, frames);
                        if let Ok(mut p) = render_pace.lock() {
                            let measured = timer.elapsed().as_secs_f64() / seconds.max(1e-3);
                            let n = if p.1 == 0 { 0.0 } else { p.1 as f64 };
                            *p = ((p.0 * n + measured) / (n + 1.0), p.1 + 1);
                        }
                        write_wav(
                            &render_dir.join(format!("{name}{}.wav", options.suffix)),
                            rate,
                            &rendered,
                        )?;
                    }
                    Ok(Done {
                        index: *index,
                        fit: found,
                    })
                })();
                let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                progress.update("fit", n as f64 / jobs.len() as f64, name);
                if let Ok(mut r) = results.lock() {
                    r.push(out);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let mut fitted = 0;
    for r in results {
        let done = r?;
        let Some(f) = done.fit else {
            continue;
        };
        let e = &mut session.elements[done.index];
        let patch = Patch::from_values(&format!("{} ({})", e.name, f.preset), &f.values);
        e.extra.insert("preset".into(), json!(f.preset));
        e.extra.insert(
            "patch".into(),
            serde_json::to_value(&patch).unwrap_or_default(),
        );
        e.extra.insert(
            "fit".into(),
            json!({
                "loss_before": round3(f.loss_before),
                "loss_after": round3(f.loss_after),
                "seconds": round3(f.seconds),
                "evaluations": f.evaluations,
            }),
        );
        e.extra.insert(
            "render".into(),
            json!(format!("{RENDER_DIR}/{}{}.wav", e.name, options.suffix)),
        );
        fitted += 1;
    }
    progress.update("fit", 1.0, "done");
    Ok(StageRecord {
        name: "fit".into(),
        version: "1".into(),
        parameters: json!({
            "budget_s": options.budget.as_secs_f64(),
            "presets": bank.len(),
            "elements_fitted": fitted,
            "loss": "log-mel spectral distance, dB (46 ms and 12 ms windows)",
        }),
        wall_s: started.elapsed().as_secs_f64(),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
