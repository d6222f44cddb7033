//! `auralis eval --timbre`: how close the fitted patches sound to the corpus stems.
//!
//! Each truth stem with a MIDI file is fitted exactly as the pipeline fits an element
//! ([`crate::hands::fit::fit`]), but from the truth stem and the truth MIDI, so that timbre is
//! measured apart from separation and transcription. The truth MIDI is then rendered over the
//! whole song with (a) the nearest preset alone (level-matched) and (b) the fitted patch, and
//! each render is compared with the stem by the log-mel spectral distance
//! ([`crate::hands::mel`]: 128 bands, 2048-point window, 512 hop, mean over the frames where
//! the stem is within 40 dB of its loudest).
//!
//! The stems carry the corpus's effects (reverb, delay, filter sweeps, sidechain pumping);
//! the patches do not (that is the CONSOLE's job), so part of each distance is the effects.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::error::Result;
use crate::hands::{self, fit, mel};

/// Scores of one fitted part.
#[derive(Debug, Clone, Serialize)]
pub struct PartScore {
    /// Song folder name.
    pub song: String,
    /// Truth stem name.
    pub stem: String,
    /// Role it was fitted as.
    pub role: String,
    /// The nearest preset.
    pub preset: String,
    /// Distance of the level-matched preset's render from the stem, dB.
    pub preset_db: f64,
    /// Distance of the fitted patch's render, dB.
    pub fitted_db: f64,
    /// Fitting time, seconds.
    pub fit_s: f64,
    /// Loss evaluations of the parameter search.
    pub evaluations: usize,
}

/// The role a corpus stem is rebuilt as.
pub fn role_of_stem(name: &str) -> &'static str {
    match name {
        "drums" => "drums",
        "bass" => "bass",
        "vocals" => "vocals",
        "lead" => "lead",
        "piano" | "keys" => "keys",
        "guitar" => "guitar",
        _ => "other",
    }
}

fn stem_path(song: &Path, name: &str) -> Option<std::path::PathBuf> {
    ["flac", "wav"]
        .iter()
        .map(|ext| song.join("stems").join(format!("{name}.{ext}")))
        .find(|p| p.is_file())
}

/// Fits and scores every stem of every song in `songs`, `per_part` of fitting each, on all
/// cores; `on_part` sees each score as it is done. With `renders`, each part's fitted render
/// (the one scored) is also written there as `<song>-<stem>.wav`.
pub fn run(
    songs: &[std::path::PathBuf],
    per_part: fit::Budget,
    renders: Option<&Path>,
    on_part: &(dyn Fn(&PartScore) + Sync),
) -> Result<Vec<PartScore>> {
    if let Some(dir) = renders {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::error::Error::io(dir, "creating the folder", e))?;
    }
    let mut jobs = Vec::new();
    for song in songs {
        let Ok(entries) = std::fs::read_dir(song.join("midi")) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.path()
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .filter(|n| n != "song" && n != "all")
            .collect();
        names.sort();
        for n in names {
            if let Some(stem) = stem_path(song, &n) {
                jobs.push((song.clone(), n, stem));
            }
        }
    }
    let bank = auralis_engine::bank::presets();
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Result<Option<PartScore>>>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..crate::spectrum::workers().min(jobs.len()).max(1) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some((song, name, stem)) = jobs.get(k) else {
                    break;
                };
                let r = score_part(song, name, stem, &bank, per_part, k as u64, renders);
                if let Ok(Some(s)) = &r {
                    on_part(s);
                }
                if let Ok(mut o) = out.lock() {
                    o.push(r);
                }
            });
        }
    });
    let mut scores = Vec::new();
    for r in out.into_inner().unwrap_or_default() {
        if let Some(s) = r? {
            scores.push(s);
        }
    }
    scores.sort_by(|a, b| (&a.song, &a.stem).cmp(&(&b.song, &b.stem)));
    Ok(scores)
}

fn score_part(
    song: &Path,
    name: &str,
    stem: &Path,
    bank: &[auralis_engine::bank::Preset],
    budget: fit::Budget,
    seed: u64,
    renders: Option<&Path>,
) -> Result<Option<PartScore>> {
    let (rate, stereo) = crate::decode::read_stereo(stem)?;
    let audio = hands::mono(&stereo);
    drop(stereo);
    let notes = hands::read_notes(&song.join("midi").join(format!("{name}.mid")))?;
    let role = role_of_stem(name);
    let part = fit::Part {
        role,
        rate,
        audio: &audio,
        notes: &notes,
    };
    let Some(f) = fit::fit(&part, bank, budget, seed) else {
        return Ok(None);
    };
    let mut spec = mel::MelSpec::new(rate, 2048, 512, 128);
    let song_name = song
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut dist = |values, keep: bool| -> Result<f64> {
        let stereo = hands::render_part(values, &notes, rate, audio.len());
        if let (true, Some(dir)) = (keep, renders) {
            hands::write_wav(&dir.join(format!("{song_name}-{name}.wav")), rate, &stereo)?;
        }
        let r = hands::mono(&stereo);
        Ok(mel::distance(&mut spec, &audio, &r).map_or(f64::NAN, |d| d.0))
    };
    let preset_db = dist(&f.preset_values, false)?;
    let fitted_db = dist(&f.values, true)?;
    Ok(Some(PartScore {
        song: song_name,
        stem: name.to_string(),
        role: role.to_string(),
        preset: f.preset,
        preset_db,
        fitted_db,
        fit_s: f.seconds,
        evaluations: f.evaluations,
    }))
}

/// Header of the per-part table.
pub fn header() -> String {
    format!(
        "{:<24} {:<8} {:<7} {:<22} {:>9} {:>9} {:>6}",
        "song", "stem", "role", "nearest preset", "preset dB", "fitted dB", "fit s"
    )
}

/// One row of the per-part table.
pub fn row(s: &PartScore) -> String {
    format!(
        "{:<24} {:<8} {:<7} {:<22} {:>9.2} {:>9.2} {:>6.1}",
        s.song, s.stem, s.role, s.preset, s.preset_db, s.fitted_db, s.fit_s
    )
}

/// The benchmark's summary lines: pitched and drum means, and the reduction.
pub fn summary(scores: &[PartScore]) -> String {
    let mean = |f: &dyn Fn(&PartScore) -> bool, g: &dyn Fn(&PartScore) -> f64| {
        let v: Vec<f64> = scores
            .iter()
            .filter(|s| f(s))
            .map(g)
            .filter(|x| x.is_finite())
            .collect();
        (v.iter().sum::<f64>() / v.len().max(1) as f64, v.len())
    };
    let pitched = |s: &PartScore| s.role != "drums";
    let drums = |s: &PartScore| s.role == "drums";
    let all = |_: &PartScore| true;
    let (p_pre, n_p) = mean(&pitched, &|s| s.preset_db);
    let (p_fit, _) = mean(&pitched, &|s| s.fitted_db);
    let (d_pre, n_d) = mean(&drums, &|s| s.preset_db);
    let (d_fit, _) = mean(&drums, &|s| s.fitted_db);
    let (reduction, _) = mean(&all, &|s| 1.0 - s.fitted_db / s.preset_db);
    let (secs, _) = mean(&all, &|s| s.fit_s);
    format!(
        "pitched ({n_p} parts): preset {p_pre:.2} dB → fitted {p_fit:.2} dB\n\
         drum kits ({n_d}): preset {d_pre:.2} dB → fitted {d_fit:.2} dB\n\
         distance lower by {:.1} % (mean over parts); {secs:.1} s of fitting per part",
        100.0 * reduction
    )
}
