//! The elements stage: stems, their notes, their MIDI files, and the `elements` list.
//!
//! 1. The mix (mono, 22.05 kHz) goes through Basic Pitch once; its lowest line (below G3) and
//!    its strongest line above it guide the separator.
//! 2. The separator (a neural model when one is installed, else the embedded DSP one) writes
//!    `stems/<name>.wav` (32-bit float, source rate, stereo); the stems add up to the mix.
//! 3. An element exists when its stem carries meaningful energy: within 30 dB of the mix and
//!    above −70 dBFS RMS.
//! 4. Each element is transcribed under its role's policy (Basic Pitch, or the embedded tracker
//!    without the model; drums through the drum transcriber) and written to
//!    `midi/<name>.mid`; `midi/all.mid` holds every element, with the profile's tempo map and
//!    meter.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use crate::error::{Error, Result};
use crate::frontend::ANALYSIS_RATE;
use crate::midi::{self, Grid, Part};
use crate::models::{Device, ModelError, Store};
use crate::progress::Progress;
use crate::resample::StreamResampler;
use crate::separate::{
    dsp::DspSeparator, neural::NeuralSeparator, Audio, Guide, Separator, StemSink,
};
use crate::session::{Element, PendingFile, Session, StageRecord};
use crate::transcribe::{
    self, drums, mono, Note, NoteEvent, NoteParams, Policy, Transcriber, Voice,
};

/// Folder of the stems inside a session.
pub const STEMS_DIR: &str = "stems";
/// Folder of the MIDI files inside a session.
pub const MIDI_DIR: &str = "midi";
/// A stem within this many dB of the mix (RMS) is an element.
const PRESENT_DB: f64 = -30.0;
/// … and above this RMS, dBFS.
const FLOOR_DBFS: f64 = -70.0;

/// Options of the elements stage.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where inference runs.
    pub device: Device,
    /// The model cache (`None`: the usual places).
    pub models: Option<std::path::PathBuf>,
}

/// A separated stem as later stages need it.
#[derive(Debug, Clone, Default)]
pub struct Stem {
    /// Element name.
    pub name: String,
    /// Mono at 22.05 kHz.
    pub mono: Vec<f32>,
    /// Mono at the source rate (drums only; the drum transcriber listens above 11 kHz).
    pub full_mono: Vec<f32>,
    /// Sum of squares over both channels, and frame count.
    energy: f64,
    frames: usize,
}

impl Stem {
    /// RMS over both channels, dBFS.
    pub fn rms_dbfs(&self) -> f64 {
        10.0 * (self.energy / (2 * self.frames.max(1)) as f64 + 1e-20).log10()
    }
}

/// Writes stems to WAV files and keeps the mono signals transcription needs.
struct FileSink {
    writers: Vec<Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>>,
    pending: Vec<PendingFile>,
    resamplers: Vec<StreamResampler>,
    stems: Vec<Stem>,
    scratch: Vec<f32>,
}

impl StemSink for FileSink {
    fn write(&mut self, stem: usize, frames: &[f32]) -> Result<()> {
        let path = self.pending[stem].path().to_path_buf();
        if let Some(w) = self.writers[stem].as_mut() {
            for &x in frames {
                w.write_sample(x).map_err(|e| Error::Io {
                    path: path.clone(),
                    action: "writing",
                    source: std::io::Error::other(e.to_string()),
                })?;
            }
        }
        let s = &mut self.stems[stem];
        self.scratch.clear();
        for f in frames.chunks_exact(2) {
            s.energy += (f[0] as f64).powi(2) + (f[1] as f64).powi(2);
            self.scratch.push(0.5 * (f[0] + f[1]));
        }
        s.frames += frames.len() / 2;
        if s.name == "drums" {
            s.full_mono.extend_from_slice(&self.scratch);
        }
        self.resamplers[stem].push(&self.scratch, &mut s.mono)?;
        Ok(())
    }
}

/// The role an element name plays.
pub fn role_of(name: &str) -> &'static str {
    match name {
        "drums" => "drums",
        "bass" => "bass",
        "vocals" => "vocals",
        "lead" => "lead",
        "piano" => "keys",
        "guitar" => "guitar",
        _ => "other",
    }
}

/// The General MIDI program a role's MIDI track starts with.
fn program_of(role: &str) -> u8 {
    match role {
        "bass" => 33,
        "vocals" => 53,
        "lead" => 80,
        "keys" => 0,
        "guitar" => 25,
        _ => 48,
    }
}

/// Lowest note of a lead line (G3).
const LEAD_LOWEST: u8 = 55;
/// A bass stem's note is checked against the bass line over its first this many seconds: the
/// stem's note runs on through the release and whatever fills the bass's rests, the line's
/// note (from the centre) ends with the pluck.
const BASS_LINE_HEAD_S: f64 = 0.2;

/// Splits the mix's notes into the guide lines: the bass (the lowest line below G3) and
/// the lead (the strongest line from G3 up; `run` replaces it with the contour-tracked line of
/// [`transcribe::melody`] when it has the model's activations).
pub fn guide_from(events: &[NoteEvent]) -> Guide {
    let low: Vec<NoteEvent> = events.iter().filter(|n| n.pitch < 55).cloned().collect();
    let high: Vec<NoteEvent> = events.iter().filter(|n| n.pitch >= 55).cloned().collect();
    Guide {
        bass: transcribe::monophonic_line(&low, Voice::Lowest),
        lead: transcribe::monophonic_line(&high, Voice::Strongest),
        lead_candidates: high.iter().map(Note::from_event).collect(),
    }
}

/// Guide lines from notes without model details (the embedded tracker's).
fn guide_from_notes(notes: &[Note]) -> Guide {
    let low: Vec<Note> = notes.iter().filter(|n| n.pitch < 55).cloned().collect();
    let high: Vec<Note> = notes.iter().filter(|n| n.pitch >= 55).cloned().collect();
    Guide {
        bass: transcribe::monophonic(low, 0.06),
        lead_candidates: high.clone(),
        lead: transcribe::monophonic(high, 0.06),
    }
}

/// Runs the stage: writes stems and MIDI into `dir` and fills `session.elements`.
pub fn run(
    track: &Path,
    mix_mono: &[f32],
    session: &mut Session,
    dir: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Vec<StageRecord>> {
    let mut records = Vec::new();
    let store = Store::open(options.models.as_deref());
    for p in &store.problems {
        eprintln!("auralis: warning: {p}");
    }

    progress.update("separate", 0.0, "decoding");
    let (rate, samples) = crate::decode::read_stereo(track)?;
    let audio = Audio { rate, samples };

    // Notes of the centre of the mix (where bass and lead vocals sit) guide the separator.
    let started = Instant::now();
    progress.update("transcribe", 0.0, "notes of the mix");
    let mut transcriber = match Transcriber::load(&store, options.device) {
        Ok(t) => Ok(t),
        Err(e @ ModelError::NoGpu { .. }) => {
            return Err(Error::Internal {
                stage: "transcribe",
                detail: e.to_string(),
            })
        }
        Err(e) => Err(e),
    };
    let centre = crate::resample::resample(
        &crate::separate::dsp::centre_mono(&audio),
        rate,
        ANALYSIS_RATE,
    )?;
    // The centre's own notes also mark where a line is struck again (see `split_at_restrikes`).
    let mut centre_events: Vec<NoteEvent> = Vec::new();
    let guide = match transcriber.as_mut() {
        Ok(t) => match t.activations(&centre, &mut |f| {
            progress.update("transcribe", 0.3 * f, "notes of the mix")
        }) {
            Ok(acts) => {
                let events = transcribe::basic_pitch::notes(&acts, &NoteParams::default());
                let mut guide = guide_from(&events);
                // The lead line from the centre's pitch contours, which keep a sung line
                // that the notes of the mix miss or mix up with the accompaniment.
                guide.lead = transcribe::melody::lead_line(&acts, LEAD_LOWEST);
                guide.lead_candidates.clear();
                centre_events = events;
                guide
            }
            Err(e) => {
                transcriber = Err(e);
                guide_from_notes(&mono::track(mix_mono, ANALYSIS_RATE, 28, 96))
            }
        },
        Err(_) => guide_from_notes(&mono::track(mix_mono, ANALYSIS_RATE, 28, 96)),
    };
    // The bass line's notes start where their partials rise in the mix: Basic Pitch starts
    // low notes late (30–60 ms on a 16th-note bass), which puts the comb on the wrong note
    // and judges the bass stem's (aligned) notes against the note before.
    let mut guide = guide;
    transcribe::align_onsets_with(&mut guide.bass, mix_mono, ANALYSIS_RATE, false);
    let lead_line = guide.lead.clone();
    let bass_line = guide.bass.clone();
    let guide_s = started.elapsed().as_secs_f64();
    // Separation.
    let started = Instant::now();
    let mut fallback: Option<String> = None;
    let mut separator: Box<dyn Separator> = match NeuralSeparator::installed(&store) {
        Some(name) => match NeuralSeparator::load(&store, &name, options.device) {
            Ok(s) => Box::new(s),
            Err(e) => {
                eprintln!("auralis: warning: {e}; separating with the embedded DSP separator");
                fallback = Some(e.to_string());
                Box::new(DspSeparator)
            }
        },
        None => Box::new(DspSeparator),
    };
    let stems_dir = dir.join(STEMS_DIR);
    std::fs::create_dir_all(&stems_dir).map_err(|e| Error::io(&stems_dir, "creating", e))?;
    let make_sink = |names: &[String]| -> Result<FileSink> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut sink = FileSink {
            writers: Vec::new(),
            pending: Vec::new(),
            resamplers: Vec::new(),
            stems: Vec::new(),
            scratch: Vec::new(),
        };
        for name in names {
            let pending = PendingFile::new(&stems_dir.join(format!("{name}.wav")));
            let w = hound::WavWriter::create(pending.path(), spec).map_err(|e| Error::Io {
                path: pending.path().to_path_buf(),
                action: "writing",
                source: std::io::Error::other(e.to_string()),
            })?;
            sink.writers.push(Some(w));
            sink.pending.push(pending);
            sink.resamplers
                .push(StreamResampler::new(rate, ANALYSIS_RATE)?);
            sink.stems.push(Stem {
                name: name.clone(),
                ..Stem::default()
            });
        }
        Ok(sink)
    };
    let mut names = separator.stems();
    let mut sink = make_sink(&names)?;
    let mut result = separator.separate(&audio, &guide, &mut sink, &mut |f| {
        progress.update("separate", f, "stems")
    });
    if let Err(crate::separate::SeparateError::Model(e)) = &result {
        eprintln!("auralis: warning: {e}; separating with the embedded DSP separator");
        fallback = Some(e.to_string());
        separator = Box::new(DspSeparator);
        names = separator.stems();
        sink = make_sink(&names)?;
        result = separator.separate(&audio, &guide, &mut sink, &mut |f| {
            progress.update("separate", f, "stems")
        });
    }
    match result {
        Ok(()) => {}
        Err(crate::separate::SeparateError::Io(e)) => return Err(e),
        Err(crate::separate::SeparateError::Model(e)) => {
            return Err(Error::Internal {
                stage: "separate",
                detail: e.to_string(),
            })
        }
    }
    let FileSink {
        writers,
        pending,
        resamplers,
        mut stems,
        ..
    } = sink;
    for ((w, p), (r, s)) in writers
        .into_iter()
        .zip(pending)
        .zip(resamplers.into_iter().zip(stems.iter_mut()))
    {
        if let Some(w) = w {
            w.finalize().map_err(|e| Error::Io {
                path: p.path().to_path_buf(),
                action: "writing",
                source: std::io::Error::other(e.to_string()),
            })?;
        }
        p.commit()?;
        r.finish(&mut s.mono)?;
    }
    drop(audio);
    records.push(StageRecord {
        name: "separate".into(),
        version: "1".into(),
        parameters: json!({
            "method": separator.name(),
            "device": separator.device(),
            "stems": names,
            "fallback_reason": fallback,
        }),
        wall_s: started.elapsed().as_secs_f64(),
    });

    // Elements and their notes.
    let started = Instant::now();
    let mix_db = session.loudness.sample_peak_dbfs - session.loudness.crest_db;
    let grid = Grid::from_session(session);
    let midi_dir = dir.join(MIDI_DIR);
    std::fs::create_dir_all(&midi_dir).map_err(|e| Error::io(&midi_dir, "creating", e))?;
    let mut elements = Vec::new();
    let mut all_notes: Vec<(String, &'static str, Vec<Note>)> = Vec::new();
    let method = match &transcriber {
        Ok(t) => format!("basic-pitch ({})", t.device()),
        Err(_) => "embedded pitch tracker".to_string(),
    };
    let n_stems = stems.len();
    for (i, stem) in stems.iter().enumerate() {
        let role = role_of(&stem.name);
        let rms = stem.rms_dbfs();
        let relative = rms - mix_db;
        let present = rms > FLOOR_DBFS && relative > PRESENT_DB;
        progress.update(
            "transcribe",
            0.3 + 0.7 * i as f64 / n_stems as f64,
            &stem.name,
        );
        if !present {
            continue;
        }
        let policy = Policy::for_role(role);
        let mut notes = match policy {
            Policy::Drums => drums::transcribe(&stem.full_mono, rate),
            _ => match transcriber.as_mut() {
                Ok(t) => t
                    .notes(&stem.mono, policy, &mut |_| {})
                    .unwrap_or_else(|_| mono::track(&stem.mono, ANALYSIS_RATE, 21, 108)),
                Err(_) => {
                    let (lo, hi) = if role == "bass" { (24, 60) } else { (36, 96) };
                    mono::track(&stem.mono, ANALYSIS_RATE, lo, hi)
                }
            },
        };
        if policy.is_line() {
            if std::env::var("NO_ALIGN").is_err() {
                transcribe::align_onsets(&mut notes, mix_mono, ANALYSIS_RATE);
            }
            if std::env::var("NO_SPLIT").is_err() {
                transcribe::split_at_restrikes(&mut notes, &centre_events);
            }
            // The lead stem's notes must lie on the lead line it was masked around.
            // A stem's notes must lie on the line it was masked around.
            let line = match policy {
                Policy::Bass => Some((&bass_line, BASS_LINE_HEAD_S)),
                Policy::Monophonic => Some((&lead_line, f64::INFINITY)),
                _ => None,
            };
            if let Some((line, head_s)) = line.filter(|(l, _)| !l.is_empty()) {
                transcribe::melody::on_line(&mut notes, line, head_s);
            }
        }
        let midi_rel = format!("{MIDI_DIR}/{}.mid", stem.name);
        midi::write(
            &dir.join(&midi_rel),
            &grid,
            &[Part {
                name: &stem.name,
                drums: policy == Policy::Drums,
                program: program_of(role),
                notes: &notes,
            }],
        )?;
        let mut extra = serde_json::Map::new();
        extra.insert("policy".into(), json!(policy));
        extra.insert("notes".into(), json!(notes.len()));
        extra.insert(
            "transcription".into(),
            json!(if policy == Policy::Drums {
                "drum transcriber"
            } else {
                method.as_str()
            }),
        );
        extra.insert(
            "found_from".into(),
            json!({"stem_rms_dbfs": round2(rms), "relative_to_mix_db": round2(relative)}),
        );
        elements.push(Element {
            name: stem.name.clone(),
            role: role.to_string(),
            stem: Some(format!("{STEMS_DIR}/{}.wav", stem.name)),
            midi: Some(midi_rel),
            extra,
        });
        all_notes.push((stem.name.clone(), role, notes));
    }
    let parts: Vec<Part<'_>> = all_notes
        .iter()
        .map(|(name, role, notes)| Part {
            name,
            drums: *role == "drums",
            program: program_of(role),
            notes,
        })
        .collect();
    midi::write(&midi_dir.join("all.mid"), &grid, &parts)?;
    session.elements = elements;
    records.push(StageRecord {
        name: "transcribe".into(),
        version: "1".into(),
        parameters: json!({
            "method": method,
            "device": transcriber.as_ref().map(|t| t.device()).unwrap_or("cpu"),
            "model_problem": transcriber.as_ref().err().map(|e| e.to_string()),
            "mix_guide_s": round2(guide_s),
        }),
        wall_s: started.elapsed().as_secs_f64() + guide_s,
    });
    progress.update("transcribe", 1.0, "done");
    Ok(records)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
