//! One element of a session, ready to play: its fitted patch and its notes as events on the
//! track's timeline (samples at the host's rate) and on the MIDI file's beats.
//!
//! Loading reads `session.json` and the element's MIDI file (main or loader thread; it
//! allocates and does I/O). The event list is built by the engine's own
//! [`auralis_engine::render::timed_events`], the function the analyzer renders with, so a
//! transport playing from zero gives the analyzer's render sample for sample.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use auralis_engine::render::timed_events;
use auralis_engine::smf::read_notes;
use auralis_engine::{EventKind, Patch, Values};
use serde::{Deserialize, Serialize};

/// The session schema this plugin reads.
pub const SCHEMA: &str = "auralis.session/1";
/// The session document inside a session folder.
pub const SESSION_FILE: &str = "session.json";

/// What the plugin plays: a session and one of its elements (the plugin's saved state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    /// The session folder, or its `session.json`.
    pub path: String,
    /// The element's name in the session.
    pub element: String,
}

impl SessionRef {
    /// Whether anything is chosen.
    pub fn is_set(&self) -> bool {
        !self.path.is_empty() && !self.element.is_empty()
    }

    /// The `session.json` this refers to.
    pub fn session_file(&self) -> PathBuf {
        let p = PathBuf::from(&self.path);
        if p.is_dir() {
            p.join(SESSION_FILE)
        } else {
            p
        }
    }
}

/// A note event of the part.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartEvent {
    /// Sample on the track's timeline at the part's rate.
    pub sample: u64,
    /// Quarter notes from the start of the MIDI file.
    pub beat: f64,
    /// Note-on or note-off.
    pub kind: EventKind,
}

/// A loaded element.
#[derive(Debug, Clone)]
pub struct Part {
    /// What was loaded.
    pub source: SessionRef,
    /// Rate the sample positions are at.
    pub rate: f32,
    /// The fitted patch.
    pub values: Values,
    /// Events sorted by sample (note-offs first at a tie).
    pub events: Vec<PartEvent>,
    /// Modification times of the files it came from (session, MIDI), for reloading.
    pub stamps: Vec<(PathBuf, Option<SystemTime>)>,
}

impl Part {
    /// Nothing to play (no session chosen, or it failed to load): the default patch, no notes.
    pub fn empty(rate: f32) -> Self {
        Self {
            source: SessionRef::default(),
            rate,
            values: Values::default(),
            events: Vec::new(),
            stamps: Vec::new(),
        }
    }

    /// Loads `source` for playing at `rate`. Errors name the file and the problem.
    pub fn load(source: &SessionRef, rate: f32) -> Result<Self, String> {
        let (file, doc, stamp) = read_session(source)?;
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut stamps = vec![(file.clone(), stamp)];
        let element = find_element(&file, &doc, &source.element)?;
        let patch: Patch =
            serde_json::from_value(element.get("patch").cloned().ok_or_else(|| {
                format!(
                    "{}: element {:?} has no fitted patch (run `auralis reconstruct`)",
                    file.display(),
                    source.element
                )
            })?)
            .map_err(|e| {
                format!(
                    "{}: element {:?}: bad patch: {e}",
                    file.display(),
                    source.element
                )
            })?;
        let values = patch.values().map_err(|e| {
            format!(
                "{}: element {:?}: bad patch: {e}",
                file.display(),
                source.element
            )
        })?;
        let mut notes = Vec::new();
        if let Some(midi) = element.get("midi").and_then(|m| m.as_str()) {
            let path = dir.join(midi);
            stamps.push((path.clone(), modified(&path)));
            let bytes = std::fs::read(&path)
                .map_err(|e| format!("{}: cannot read the MIDI file: {e}", path.display()))?;
            notes = read_notes(&bytes).map_err(|e| {
                format!("{}: not a MIDI file the plugin reads: {e}", path.display())
            })?;
        }
        let specs: Vec<_> = notes.iter().map(|n| n.spec()).collect();
        let events = timed_events(&specs, rate)
            .into_iter()
            .map(|t| {
                let n = &notes[t.note];
                let beat = match t.kind {
                    EventKind::NoteOff { .. } => n.end_beats.max(n.start_beats + 1e-6),
                    _ => n.start_beats,
                };
                PartEvent {
                    sample: t.sample,
                    beat,
                    kind: t.kind,
                }
            })
            .collect();
        Ok(Self {
            source: source.clone(),
            rate,
            values,
            events,
            stamps,
        })
    }
}

/// Reads and checks the `session.json` `source` names: its path, the document, and its
/// modification time taken before reading (a file replaced in between is seen as changed the
/// next time the loader looks). Errors name the file and the problem.
pub fn read_session(
    source: &SessionRef,
) -> Result<(PathBuf, serde_json::Value, Option<SystemTime>), String> {
    let file = source.session_file();
    let stamp = modified(&file);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: cannot read the session: {e}", file.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a session (invalid JSON: {e})", file.display()))?;
    let schema = doc.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if schema != SCHEMA {
        return Err(format!(
            "{}: session schema {schema:?}, this plugin reads {SCHEMA:?}",
            file.display()
        ));
    }
    Ok((file, doc, stamp))
}

/// The element called `name` in a session document; the error lists the names it has.
pub fn find_element<'a>(
    file: &Path,
    doc: &'a serde_json::Value,
    name: &str,
) -> Result<&'a serde_json::Value, String> {
    let elements = doc
        .get("elements")
        .and_then(|e| e.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    elements
        .iter()
        .find(|e| e.get("name").and_then(|n| n.as_str()) == Some(name))
        .ok_or_else(|| {
            let names: Vec<&str> = elements
                .iter()
                .filter_map(|e| e.get("name").and_then(|n| n.as_str()))
                .collect();
            format!(
                "{}: no element {name:?} (the session has: {})",
                file.display(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl crate::loader::Loadable for Part {
    fn load(source: &SessionRef, rate: f32) -> Result<Self, String> {
        Part::load(source, rate)
    }

    fn empty(rate: f32) -> Self {
        Part::empty(rate)
    }

    fn rate(&self) -> f32 {
        self.rate
    }

    fn stamps(&self) -> crate::loader::Stamps {
        self.stamps.clone()
    }
}
