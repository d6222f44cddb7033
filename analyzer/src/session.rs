//! The session contract: the serde types of `session.json` and the atomic writer.
//!
//! Field names here are read by the plugins and by outside tools; they are documented in
//! `docs/session.md` and never renamed. A change that breaks a reader bumps [`SCHEMA`].
//!
//! Every file of the session is written to a temporary name in the same folder and renamed
//! into place once complete (rename is atomic on POSIX file systems), `session.json` last, so a
//! reader never sees half a file and a failed run leaves the previous session intact.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Schema identifier written into every session.
pub const SCHEMA: &str = "auralis.session/1";
/// File name of the session document inside the session folder.
pub const SESSION_FILE: &str = "session.json";
/// File name of the decoded original inside the session folder.
pub const ORIGINAL_FILE: &str = "original.wav";

/// `session.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The program that wrote the session.
    pub generator: Generator,
    /// The analysed file.
    pub source: Source,
    /// Tempo: global and map.
    pub tempo: Tempo,
    /// Time signature.
    pub meter: Meter,
    /// Swing of the off-beat eighths.
    pub swing: Swing,
    /// Beat times, seconds from the start of the source.
    pub beats: Vec<f64>,
    /// Downbeat (first beat of each bar) times, seconds.
    pub downbeats: Vec<f64>,
    /// Key and mode.
    pub key: Key,
    /// Chords, Harte labels.
    pub chords: Vec<Segment>,
    /// Sections; equal labels mark repeated material.
    pub sections: Vec<Segment>,
    /// EBU R128 figures and peaks.
    pub loudness: LoudnessInfo,
    /// Stereo image.
    pub stereo: Stereo,
    /// Energy per section and over time.
    pub energy: Energy,
    /// Musical elements (stems); empty until separation exists.
    pub elements: Vec<Element>,
    /// What ran, in order.
    pub stages: Vec<StageRecord>,
    /// The mastered rebuild (`render/mix.wav`), after `auralis reconstruct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render_mix: Option<String>,
    /// The master chain and how close the master came to the original, after
    /// `auralis reconstruct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<serde_json::Value>,
    /// BRAIN's mix plan of the mix `render_mix` holds (per element: reverb send, spread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_plan: Option<serde_json::Value>,
    /// The QC history of the reconstruct loop: `{target, best_iteration, iterations: [{index,
    /// overall, dimensions: {name: score}, seconds}]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qc: Option<serde_json::Value>,
    /// BRAIN's decisions, in order, each `{iteration, area, action, reason}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<serde_json::Value>,
}

impl Session {
    /// The mix plan stored in the session, if any (and readable).
    pub fn extra_plan(&self) -> Option<crate::brain::Plan> {
        self.mix_plan
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// Name and version of the writer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    pub name: String,
    pub version: String,
}

/// The analysed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Path as given on the command line, made absolute.
    pub path: String,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// Sample rate of the file, Hz.
    pub sample_rate: u32,
    /// Channel count of the file (the analysis folds to stereo).
    pub channels: usize,
    /// Duration, seconds.
    pub duration_s: f64,
    /// Container short name (`wav`, `flac`, `mp3`, …).
    pub container: String,
    /// Codec short name.
    pub codec: String,
    /// The decoded stereo original inside the session folder (32-bit float WAV, source rate),
    /// or `null` when it was not written.
    pub original: Option<String>,
}

/// Tempo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tempo {
    /// Global tempo, beats per minute (from the median inter-beat interval).
    pub bpm: f64,
    /// Piecewise-constant tempo map; one entry when the tempo is steady.
    pub map: Vec<TempoPoint>,
    /// Confidence 0–1.
    pub confidence: f64,
}

/// A tempo change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TempoPoint {
    /// Where this tempo starts, seconds.
    pub time_s: f64,
    /// Beats per minute from here on.
    pub bpm: f64,
}

/// Time signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meter {
    pub numerator: u32,
    pub denominator: u32,
    /// Confidence 0–1.
    pub confidence: f64,
}

/// Swing of the off-beat eighths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Swing {
    /// Position of the off-beat eighth within the beat, 0.5 = straight, 0.667 = triplet swing.
    pub offbeat_position: f64,
    /// Long-to-short ratio of the two eighths, 1.0 = straight, 2.0 = triplet swing.
    pub ratio: f64,
    /// How much off-beat onset energy the estimate rests on, 0–1.
    pub confidence: f64,
}

/// Key and mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    /// Tonic pitch class name (`C`, `C#`, `D`, `Eb`, `E`, `F`, `F#`, `G`, `Ab`, `A`, `Bb`, `B`).
    pub tonic: String,
    /// `major` or `minor`.
    pub mode: String,
    /// `"<tonic> <mode>"`, e.g. `"A minor"`.
    pub label: String,
    /// Confidence 0–1 (margin of the best key over the runner-up).
    pub confidence: f64,
}

/// A labelled time span (chords, sections).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// Label (Harte chord label, or section label).
    pub label: String,
}

/// Loudness and peaks of the whole track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoudnessInfo {
    /// Integrated loudness, LUFS (EBU R128).
    pub integrated_lufs: f64,
    /// True peak, dBTP.
    pub true_peak_dbtp: f64,
    /// Loudness range, LU (EBU Tech 3342).
    pub loudness_range_lu: f64,
    /// Sample peak, dBFS.
    pub sample_peak_dbfs: f64,
    /// Crest factor (sample peak over RMS), dB.
    pub crest_db: f64,
}

/// Stereo image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stereo {
    /// Side-to-mid energy ratio of the whole track, dB (mid = (L+R)/2, side = (L−R)/2).
    pub side_to_mid_db: f64,
    /// The same per section.
    pub sections: Vec<SectionValue>,
}

/// A value measured over one section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionValue {
    /// Section start, seconds.
    pub start: f64,
    /// Section end, seconds.
    pub end: f64,
    /// Section label.
    pub label: String,
    /// Side-to-mid ratio, dB (in `stereo.sections`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub side_to_mid_db: Option<f64>,
    /// RMS over both channels, dBFS (in `energy.sections`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rms_dbfs: Option<f64>,
}

/// Energy over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Energy {
    /// RMS per section, dBFS.
    pub sections: Vec<SectionValue>,
    /// Frames per second of `curve`.
    pub frame_rate_hz: f64,
    /// RMS over both channels per frame (non-overlapping), dBFS.
    pub curve: Vec<f64>,
}

/// A musical element (one stem). Filled by the separation stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// Element name, unique in the session (`drums`, `bass`, …).
    pub name: String,
    /// Musical role.
    pub role: String,
    /// Stem file relative to the session folder.
    pub stem: Option<String>,
    /// MIDI file relative to the session folder.
    pub midi: Option<String>,
    /// Everything else later stages add (figures the element was found from, patch, chain).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One stage that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// Stage name.
    pub name: String,
    /// Version of the stage's method; bumped when its output changes.
    pub version: String,
    /// The parameters it ran with.
    pub parameters: serde_json::Value,
    /// Wall time, seconds.
    pub wall_s: f64,
}

/// Reads and checks a session document.
pub fn read(path: &Path) -> Result<Session> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(path, "reading the session", e))?;
    let session: Session = serde_json::from_str(&text).map_err(|e| Error::BadTruth {
        path: path.into(),
        detail: format!("not a valid session: {e}"),
    })?;
    if session.schema != SCHEMA {
        return Err(Error::BadTruth {
            path: path.into(),
            detail: format!("schema {:?}, this program reads {SCHEMA:?}", session.schema),
        });
    }
    Ok(session)
}

/// A file being written under a temporary name next to its final path; [`PendingFile::commit`]
/// renames it into place, dropping it uncommitted removes it.
#[derive(Debug)]
pub struct PendingFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Reserves a temporary path for `dest` (in the same folder, so the rename is atomic).
    pub fn new(dest: &Path) -> Self {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        Self {
            tmp,
            dest: dest.into(),
            committed: false,
        }
    }

    /// The temporary path to write to.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Flushes the file to disk and renames it into place.
    pub fn commit(mut self) -> Result<()> {
        let f = std::fs::File::open(&self.tmp)
            .map_err(|e| Error::io(&self.tmp, "writing (reopening to sync)", e))?;
        f.sync_all()
            .map_err(|e| Error::io(&self.tmp, "writing (syncing to disk)", e))?;
        std::fs::rename(&self.tmp, &self.dest)
            .map_err(|e| Error::io(&self.dest, "writing (renaming into place)", e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    let pending = PendingFile::new(dest);
    let mut f = std::fs::File::create(pending.path())
        .map_err(|e| Error::io(pending.path(), "writing (creating)", e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io(pending.path(), "writing", e))?;
    drop(f);
    pending.commit()
}

/// Writes `session.json` into `dir` atomically.
pub fn write(dir: &Path, session: &Session) -> Result<PathBuf> {
    let dest = dir.join(SESSION_FILE);
    let mut text = serde_json::to_string_pretty(session).map_err(|e| Error::Internal {
        stage: "session",
        detail: e.to_string(),
    })?;
    text.push('\n');
    write_atomic(&dest, text.as_bytes())?;
    Ok(dest)
}

/// The example of `docs/session.md`, for tests.
#[cfg(test)]
pub fn example() -> Session {
    let doc = include_str!("../../docs/session.md");
    let start = doc
        .find("```json")
        .expect("docs/session.md has a json example")
        + 7;
    let end = start + doc[start..].find("```").expect("closed json block");
    serde_json::from_str(&doc[start..end]).expect("the documented example parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_file_is_removed_unless_committed() {
        let dir = std::env::temp_dir().join(format!("auralis-pending-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("x.txt");
        std::fs::write(&dest, "old").unwrap();
        {
            let p = PendingFile::new(&dest);
            std::fs::write(p.path(), "half").unwrap();
            // dropped: a failed run
        }
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        write_atomic(&dest, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
