//! `auralis eval --effects`: effect detection against the corpus's known effects.
//!
//! Each truth stem is measured with its truth MIDI and the kicks of the truth drum MIDI (GM
//! notes 35 and 36), so that detection is scored apart from separation and transcription.
//! Scored as the CONSOLE issue states it: RT60 within ±25 % (over the stems with reverb),
//! sidechain presence accuracy (over every pitched stem), width as the side-to-mid ratio in dB;
//! plus delay presence and time, and pan.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::effects::{self, Context, Effects};
use crate::error::{Error, Result};
use crate::hands;

/// The effects the corpus applied to one stem (`truth.json` → `stems.<name>.fx`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TruthFx {
    #[serde(default)]
    pub pan: f64,
    #[serde(default)]
    pub width: Option<f64>,
    pub reverb_rt60: Option<f64>,
    pub sidechain_depth_db: Option<f64>,
    pub sidechain_release_s: Option<f64>,
    pub delay_s: Option<f64>,
    pub delay_feedback: Option<f64>,
    pub delay_wet_db: Option<f64>,
    pub lowpass_hz: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
struct TruthStem {
    #[serde(default)]
    is_drum: bool,
    fx: TruthFx,
    side_to_mid_db: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
struct TruthStems {
    tempo_bpm: f64,
    stems: BTreeMap<String, TruthStem>,
}

/// One stem's truth and detection.
#[derive(Debug, Clone, Serialize)]
pub struct StemFx {
    pub song: String,
    pub stem: String,
    pub drums: bool,
    pub truth: TruthFx,
    pub truth_side_to_mid_db: Option<f64>,
    pub found: Effects,
}

/// Detects the effects of every stem of every song.
pub fn run(songs: &[std::path::PathBuf], on_stem: &mut dyn FnMut(&StemFx)) -> Result<Vec<StemFx>> {
    let mut out = Vec::new();
    for song in songs {
        let path = song.join("truth.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::io(&path, "reading the truth file", e))?;
        let truth: TruthStems = serde_json::from_str(&text).map_err(|e| Error::BadTruth {
            path: path.clone(),
            detail: format!("no stems with effects: {e}"),
        })?;
        let kicks = hands::read_notes(&song.join("midi").join("drums.mid"))
            .map(|n| effects::kicks_of(&n))
            .unwrap_or_default();
        let name = song
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (stem, t) in &truth.stems {
            let Some(audio_path) = ["flac", "wav"]
                .iter()
                .map(|ext| song.join("stems").join(format!("{stem}.{ext}")))
                .find(|p| p.is_file())
            else {
                continue;
            };
            let Ok(notes) = hands::read_notes(&song.join("midi").join(format!("{stem}.mid")))
            else {
                continue;
            };
            let (rate, audio) = crate::decode::read_stereo(&audio_path)?;
            let ctx = Context {
                notes: &notes,
                kicks: &kicks,
                beat_s: 60.0 / truth.tempo_bpm.max(1.0),
            };
            let s = StemFx {
                song: name.clone(),
                stem: stem.clone(),
                drums: t.is_drum,
                truth: t.fx.clone(),
                truth_side_to_mid_db: t.side_to_mid_db,
                found: effects::detect(&audio, rate, &ctx),
            };
            on_stem(&s);
            out.push(s);
        }
    }
    Ok(out)
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("-".into(), |v| format!("{v:.digits$}"))
}

/// Header of the per-stem table.
pub fn header() -> String {
    format!(
        "{:<20} {:<8} {:>11} {:>15} {:>17} {:>11} {:>11}",
        "song", "stem", "RT60 t/f", "pump dB t/f", "pump rel s t/f", "delay s t/f", "pan t/f"
    )
}

/// One row of the per-stem table.
pub fn row(s: &StemFx) -> String {
    let f = &s.found;
    format!(
        "{:<20} {:<8} {:>5}/{:<5} {:>7}/{:<7} {:>8}/{:<8} {:>5}/{:<5} {:>5.2}/{:<5.2}",
        crate::eval::truncate_pub(&s.song, 20),
        s.stem,
        opt(s.truth.reverb_rt60, 2),
        opt(f.room.map(|r| r.rt60_s), 2),
        opt(s.truth.sidechain_depth_db, 1),
        opt(f.pump.as_ref().map(|p| p.depth_db), 1),
        opt(s.truth.sidechain_release_s, 3),
        opt(f.pump.as_ref().map(|p| p.release_s), 3),
        opt(s.truth.delay_s, 3),
        opt(f.echo.map(|e| e.time_s), 3),
        s.truth.pan,
        f.image.pan,
    )
}

/// The benchmark's summary lines.
pub fn summary(stems: &[StemFx]) -> String {
    let with_reverb: Vec<&StemFx> = stems
        .iter()
        .filter(|s| s.truth.reverb_rt60.is_some())
        .collect();
    let measured: Vec<(f64, f64)> = with_reverb
        .iter()
        .filter_map(|s| Some((s.truth.reverb_rt60?, s.found.room?.rt60_s)))
        .collect();
    let within = measured
        .iter()
        .filter(|(t, f)| (f / t - 1.0).abs() <= 0.25)
        .count();
    let pitched: Vec<&StemFx> = stems.iter().filter(|s| !s.drums).collect();
    let pump_right = pitched
        .iter()
        .filter(|s| s.truth.sidechain_depth_db.is_some() == s.found.pump.is_some())
        .count();
    let pumped = pitched
        .iter()
        .filter(|s| s.truth.sidechain_depth_db.is_some())
        .count();
    let pump_found = pitched
        .iter()
        .filter(|s| s.truth.sidechain_depth_db.is_some() && s.found.pump.is_some())
        .count();
    let false_pumps = pitched
        .iter()
        .filter(|s| s.truth.sidechain_depth_db.is_none() && s.found.pump.is_some())
        .count();
    let depth_err: Vec<f64> = pitched
        .iter()
        .filter_map(|s| Some((s.truth.sidechain_depth_db? - s.found.pump.as_ref()?.depth_db).abs()))
        .collect();
    let rel_err: Vec<f64> = pitched
        .iter()
        .filter_map(|s| {
            let t = s.truth.sidechain_release_s?;
            Some((s.found.pump.as_ref()?.release_s / t - 1.0).abs())
        })
        .collect();
    let delay_right = pitched
        .iter()
        .filter(|s| s.truth.delay_s.is_some() == s.found.echo.is_some())
        .count();
    let delays = pitched.iter().filter(|s| s.truth.delay_s.is_some()).count();
    let delay_found = pitched
        .iter()
        .filter(|s| s.truth.delay_s.is_some() && s.found.echo.is_some())
        .count();
    let delay_time: Vec<f64> = pitched
        .iter()
        .filter_map(|s| Some((s.found.echo?.time_s - s.truth.delay_s?).abs()))
        .collect();
    let s2m: Vec<f64> = stems
        .iter()
        // Below −60 dB a stem is mono (the truth's floor is its own epsilon).
        .filter_map(|s| {
            let t = s.truth_side_to_mid_db?.max(-60.0);
            Some((s.found.image.side_to_mid_db.max(-60.0) - t).abs())
        })
        .filter(|e| e.is_finite())
        .collect();
    let pan: Vec<f64> = stems
        .iter()
        .map(|s| (s.found.image.pan - s.truth.pan).abs())
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    format!(
        "RT60 within ±25 %: {within} of {} stems with reverb ({} measured; {:.2} of all)\n\
         sidechain presence accuracy: {pump_right} of {} pitched stems ({:.2}); found {pump_found} of {pumped} pumped, {false_pumps} false; depth error {:.1} dB, release error {:.0} % (means over those found)\n\
         delay presence accuracy: {delay_right} of {} ({:.2}); found {delay_found} of {delays}; time error {:.1} ms\n\
         width (side-to-mid) error: {:.2} dB mean; pan error: {:.3} mean",
        with_reverb.len(),
        measured.len(),
        within as f64 / with_reverb.len().max(1) as f64,
        pitched.len(),
        pump_right as f64 / pitched.len().max(1) as f64,
        mean(&depth_err),
        100.0 * mean(&rel_err),
        pitched.len(),
        delay_right as f64 / pitched.len().max(1) as f64,
        1000.0 * mean(&delay_time),
        mean(&s2m),
        mean(&pan),
    )
}

/// Writes `stems` as JSON to `path` (atomically).
pub fn write_json(path: &Path, stems: &[StemFx]) -> Result<()> {
    let text = serde_json::to_string_pretty(stems).map_err(|e| Error::Internal {
        stage: "eval",
        detail: e.to_string(),
    })?;
    crate::session::write_atomic(path, text.as_bytes())
}
