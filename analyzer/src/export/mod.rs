//! `auralis export SESSION --format dawproject|rpp -o FILE`: the session as a DAW project.
//!
//! One track per element with its MIDI clip and an AURALIS Instrument loaded with the element
//! (set to play the clip: host MIDI) followed by an AURALIS Console running the element's mix
//! chain; the original on a muted reference track; the AURALIS Console with the master chain
//! and the AURALIS A/B on the master; the tempo map and meter of the session's MIDI files (so
//! the clips' beats fall where the notes are in the original); the sections as markers.
//!
//! The plugins' states are written as the plugins save them (nice-plug's CLAP state: a
//! little-endian `u64` length, then `{version, params, fields}` JSON) and name the session
//! folder by its absolute path, so the project opens wherever it is saved as long as the
//! session folder stays where it is. The original is referenced, not copied.
//!
//! - [`dawproject`]: the open DAWproject format (a ZIP of `project.xml` and `metadata.xml`
//!   with the plugin states), validated against its published schema in the tests.
//! - [`rpp`]: a REAPER project (text), with [`rpp::parse`] reading one back.

pub mod dawproject;
pub mod rpp;

use std::path::{Path, PathBuf};

use midly::{MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};

use crate::error::{Error, Result};
use crate::session::{self, Session};

/// Ticks per quarter note of the exported clips.
pub const PPQ: u32 = 960;

/// The plugins' CLAP ids.
pub const INSTRUMENT_ID: &str = "audio.auralis.instrument";
pub const CONSOLE_ID: &str = "audio.auralis.console";
pub const AB_ID: &str = "audio.auralis.ab";

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// DAWproject (Bitwig Studio, Studio One, Cubase).
    DawProject,
    /// REAPER's `.RPP`.
    Rpp,
}

/// A tempo change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempoPoint {
    /// Ticks at [`PPQ`] from the start.
    pub tick: u64,
    /// Seconds from the start.
    pub seconds: f64,
    /// Beats per minute (quarter notes).
    pub bpm: f64,
}

/// A meter change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterPoint {
    pub tick: u64,
    pub numerator: u8,
    pub denominator: u8,
}

/// A note of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note {
    /// Ticks at [`PPQ`] from the start.
    pub start: u64,
    pub end: u64,
    pub channel: u8,
    pub key: u8,
    pub velocity: u8,
}

/// One element's track.
#[derive(Debug, Clone)]
pub struct ElementTrack {
    pub name: String,
    pub role: String,
    /// The bank preset its patch started from.
    pub preset: Option<String>,
    pub notes: Vec<Note>,
    /// State of its AURALIS Instrument.
    pub instrument_state: Vec<u8>,
    /// State of its AURALIS Console (when the session has its mix chain).
    pub console_state: Option<Vec<u8>>,
    /// Whether its chain pumps (its Console wants the drums on its sidechain).
    pub pumped: bool,
}

/// The original on the reference track.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Absolute path.
    pub path: PathBuf,
    pub sample_rate: u32,
    pub channels: u16,
    pub seconds: f64,
}

/// Everything an exported project holds.
#[derive(Debug, Clone)]
pub struct Project {
    /// The session's name (its folder's).
    pub name: String,
    /// The session folder, absolute.
    pub session_dir: PathBuf,
    pub tempos: Vec<TempoPoint>,
    pub meters: Vec<MeterPoint>,
    /// Length, seconds.
    pub seconds: f64,
    pub tracks: Vec<ElementTrack>,
    pub reference: Option<Reference>,
    /// State of the master's AURALIS Console (when the session has a master chain).
    pub master_state: Option<Vec<u8>>,
    /// State of the master's AURALIS A/B (when the session has its original).
    pub ab_state: Option<Vec<u8>>,
    /// Sections: (start tick, label).
    pub markers: Vec<(u64, String)>,
}

/// A plugin state as nice-plug saves it: a little-endian `u64` length, then the JSON.
pub fn plugin_state(session_dir: &Path, element: &str, params: serde_json::Value) -> Vec<u8> {
    let session = serde_json::json!({
        "path": session_dir.to_string_lossy(),
        "element": element,
    })
    .to_string();
    let body = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "params": params,
        "fields": {"session": session},
    });
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out
}

/// The JSON of a plugin state written by [`plugin_state`] (or saved by the plugin).
pub fn state_json(bytes: &[u8]) -> Option<serde_json::Value> {
    let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    serde_json::from_slice(bytes.get(8..8 + len)?).ok()
}

fn bad(path: &Path, detail: impl Into<String>) -> Error {
    Error::BadTruth {
        path: path.into(),
        detail: detail.into(),
    }
}

/// Tempo and meter maps and every note of a MIDI file, at [`PPQ`].
struct MidiFile {
    tempos: Vec<(u64, u32)>,
    meters: Vec<MeterPoint>,
    notes: Vec<Note>,
}

fn read_midi(path: &Path) -> Result<MidiFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading the MIDI file", e))?;
    let smf = Smf::parse(&bytes).map_err(|e| bad(path, format!("not a MIDI file: {e}")))?;
    let ppq = match smf.header.timing {
        Timing::Metrical(t) if t.as_int() > 0 => u64::from(t.as_int()),
        _ => return Err(bad(path, "the MIDI file has no metrical timing")),
    };
    let scale = |tick: u64| (tick * u64::from(PPQ) + ppq / 2) / ppq;
    let mut tempos = Vec::new();
    let mut meters = Vec::new();
    let mut notes = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        let mut open: Vec<(u8, u8, u64, u8)> = Vec::new();
        for ev in track {
            tick += u64::from(ev.delta.as_int());
            match ev.kind {
                TrackEventKind::Meta(MetaMessage::Tempo(us)) => {
                    tempos.push((scale(tick), us.as_int()))
                }
                TrackEventKind::Meta(MetaMessage::TimeSignature(n, d, _, _)) => {
                    meters.push(MeterPoint {
                        tick: scale(tick),
                        numerator: n,
                        denominator: 1u8.checked_shl(u32::from(d)).unwrap_or(4),
                    })
                }
                TrackEventKind::Midi { channel, message } => {
                    let ch = channel.as_int();
                    let (on, key, vel) = match message {
                        MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                            (true, key.as_int(), vel.as_int())
                        }
                        MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                            (false, key.as_int(), 0)
                        }
                        _ => continue,
                    };
                    if on {
                        open.push((ch, key, tick, vel));
                    } else if let Some(i) = open.iter().position(|o| o.0 == ch && o.1 == key) {
                        let (_, _, start, velocity) = open.remove(i);
                        notes.push(Note {
                            start: scale(start),
                            end: scale(tick).max(scale(start) + 1),
                            channel: ch,
                            key,
                            velocity,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    notes.sort_by_key(|n| (n.start, n.key));
    tempos.sort_by_key(|t| t.0);
    meters.sort_by_key(|m| m.tick);
    Ok(MidiFile {
        tempos,
        meters,
        notes,
    })
}

/// Seconds at each tempo change.
fn tempo_points(tempos: &[(u64, u32)]) -> Vec<TempoPoint> {
    let mut out: Vec<TempoPoint> = Vec::with_capacity(tempos.len());
    for &(tick, us) in tempos {
        let seconds = match out.last() {
            None => tick as f64 / f64::from(PPQ) * 0.5, // 120 BPM before the first change
            Some(p) => p.seconds + (tick - p.tick) as f64 / f64::from(PPQ) * 60.0 / p.bpm,
        };
        let bpm = 60e6 / f64::from(us.max(1));
        if out.last().is_some_and(|p| p.tick == tick) {
            out.pop();
        }
        out.push(TempoPoint { tick, seconds, bpm });
    }
    if out.first().is_none_or(|p| p.tick > 0) {
        out.insert(
            0,
            TempoPoint {
                tick: 0,
                seconds: 0.0,
                bpm: 120.0,
            },
        );
    }
    out
}

impl Project {
    /// Seconds at `tick` through the tempo map.
    pub fn seconds_at(&self, tick: u64) -> f64 {
        let i = self.tempos.partition_point(|p| p.tick <= tick).max(1) - 1;
        let p = self.tempos[i];
        p.seconds + (tick.saturating_sub(p.tick)) as f64 / f64::from(PPQ) * 60.0 / p.bpm
    }

    /// Tick at `seconds` through the tempo map.
    pub fn tick_at(&self, seconds: f64) -> u64 {
        let i = self.tempos.partition_point(|p| p.seconds <= seconds).max(1) - 1;
        let p = self.tempos[i];
        let t = p.tick as f64 + (seconds - p.seconds).max(0.0) * p.bpm / 60.0 * f64::from(PPQ);
        t.round() as u64
    }

    /// The session's main meter (the last change: the first may be a pickup bar).
    pub fn meter(&self) -> (u8, u8) {
        self.meters
            .iter()
            .max_by_key(|m| m.tick)
            .map_or((4, 4), |m| (m.numerator, m.denominator))
    }

    /// Reads the session in `dir` into a project.
    pub fn from_session(dir: &Path) -> Result<Self> {
        let dir =
            std::fs::canonicalize(dir).map_err(|e| Error::io(dir, "opening the session", e))?;
        let file = dir.join(session::SESSION_FILE);
        if !file.is_file() {
            return Err(Error::NotFound { path: file });
        }
        let s: Session = session::read(&file)?;
        let raw: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&file)
                .map_err(|e| Error::io(&file, "reading the session", e))?,
        )
        .map_err(|e| bad(&file, format!("not a valid session: {e}")))?;

        // The first MIDI file's tempo and meter maps (the analyzer writes the same into all).
        let mut tempo_map: Option<MidiFile> = None;
        let mut tracks = Vec::new();
        for (i, e) in s.elements.iter().enumerate() {
            let Some(midi) = &e.midi else { continue };
            let m = read_midi(&dir.join(midi))?;
            if tempo_map.is_none() && !m.tempos.is_empty() {
                tempo_map = Some(MidiFile {
                    tempos: m.tempos.clone(),
                    meters: m.meters.clone(),
                    notes: Vec::new(),
                });
            }
            let chain = raw["elements"][i].get("mix_chain");
            let pumped = chain
                .and_then(|c| c.get("pump"))
                .is_some_and(|p| !p.is_null());
            tracks.push(ElementTrack {
                name: e.name.clone(),
                role: e.role.clone(),
                preset: e
                    .extra
                    .get("preset")
                    .and_then(|p| p.as_str())
                    .map(String::from),
                notes: m.notes,
                instrument_state: plugin_state(
                    &dir,
                    &e.name,
                    serde_json::json!({"source": {"string": "host"}}),
                ),
                console_state: chain
                    .is_some()
                    .then(|| plugin_state(&dir, &e.name, serde_json::json!({}))),
                pumped,
            });
        }
        if tracks.is_empty() {
            return Err(bad(
                &file,
                "the session has no element with MIDI (run `auralis analyze` or `auralis reconstruct`)",
            ));
        }
        let (tempos, mut meters) =
            tempo_map.map_or((Vec::new(), Vec::new()), |m| (m.tempos, m.meters));
        let tempos = if tempos.is_empty() {
            let bpm = if s.tempo.bpm > 0.0 {
                s.tempo.bpm
            } else {
                120.0
            };
            tempo_points(&[(0, (60e6 / bpm).round() as u32)])
        } else {
            tempo_points(&tempos)
        };
        if meters.is_empty() {
            meters.push(MeterPoint {
                tick: 0,
                numerator: s.meter.numerator.clamp(1, 255) as u8,
                denominator: s.meter.denominator.clamp(1, 64) as u8,
            });
        }
        let reference = s.source.original.as_ref().and_then(|o| {
            let path = dir.join(o);
            let spec = hound::WavReader::open(&path).ok()?;
            let (sp, frames) = (spec.spec(), spec.duration());
            Some(Reference {
                path,
                sample_rate: sp.sample_rate,
                channels: sp.channels,
                seconds: f64::from(frames) / f64::from(sp.sample_rate.max(1)),
            })
        });
        let has_master = raw.get("master").and_then(|m| m.get("chain")).is_some();
        let mut project = Project {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "AURALIS session".into()),
            session_dir: dir.clone(),
            tempos,
            meters,
            seconds: s.source.duration_s.max(0.0),
            tracks,
            master_state: has_master.then(|| plugin_state(&dir, "master", serde_json::json!({}))),
            ab_state: reference
                .is_some()
                .then(|| plugin_state(&dir, "original", serde_json::json!({}))),
            reference,
            markers: Vec::new(),
        };
        if project.seconds <= 0.0 {
            project.seconds = project.reference.as_ref().map_or(0.0, |r| r.seconds);
        }
        project.markers = s
            .sections
            .iter()
            .map(|sec| (project.tick_at(sec.start), sec.label.clone()))
            .collect();
        Ok(project)
    }
}

/// Writes `project` as `format` at `out`, atomically (a file already there is replaced only
/// once the new one is complete).
pub fn write(project: &Project, format: Format, out: &Path) -> Result<()> {
    let bytes = match format {
        Format::DawProject => dawproject::to_bytes(project)?,
        Format::Rpp => rpp::to_string(project).into_bytes(),
    };
    session::write_atomic(out, &bytes)
}

/// Escapes text for an XML attribute or element.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tempo_map_converts_both_ways() {
        let tempos = tempo_points(&[(0, 500_000), (1920, 250_000)]);
        let p = Project {
            name: String::new(),
            session_dir: PathBuf::new(),
            tempos,
            meters: Vec::new(),
            seconds: 0.0,
            tracks: Vec::new(),
            reference: None,
            master_state: None,
            ab_state: None,
            markers: Vec::new(),
        };
        // Two quarters at 120 BPM = 1 s, then 240 BPM.
        assert!((p.seconds_at(1920) - 1.0).abs() < 1e-12);
        assert!((p.seconds_at(2880) - 1.25).abs() < 1e-12);
        assert_eq!(p.tick_at(1.25), 2880);
        assert_eq!(p.tick_at(0.5), 960);
    }

    #[test]
    fn a_plugin_state_reads_back() {
        let s = plugin_state(Path::new("/x/y"), "bass", serde_json::json!({"a": 1}));
        let j = state_json(&s).unwrap();
        assert_eq!(j["params"]["a"], 1);
        let session: serde_json::Value =
            serde_json::from_str(j["fields"]["session"].as_str().unwrap()).unwrap();
        assert_eq!(session["path"], "/x/y");
        assert_eq!(session["element"], "bass");
    }
}
