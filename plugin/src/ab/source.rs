//! What the A/B plays against the mix: the session's original track (`original`, the
//! default) or one element's stem (an element's name), streamed from disk at the host's rate.
//!
//! The session's `original.wav` (and its stems) are stereo 32-bit float WAV at the source's
//! rate. When that is the host's rate the file is streamed as it is; otherwise the loader
//! writes a copy at the host's rate once, `cache/<name>-<rate>.wav` in the session folder
//! (resampled by the engine's resampler, written to a temporary file and renamed into place;
//! in the system's temporary folder when the session folder is read-only), and streams that.

use std::path::{Path, PathBuf};

use auralis_engine::fx::master::{Master, MasterSettings};

use super::stream::Streamer;
use crate::instrument::part::{find_element, read_session, SessionRef};
use crate::loader::{stamp, Loadable, Stamps};

/// The element name that means the session's original track.
pub const ORIGINAL: &str = "original";

/// A loaded source.
#[derive(Debug)]
pub struct Source {
    /// What was loaded.
    pub source: SessionRef,
    /// The host rate it streams at.
    pub rate: f32,
    /// The stream; `None` when nothing is loaded.
    pub streamer: Option<Streamer>,
    /// The session master chain's look-ahead at this rate, samples: how late the mix arrives
    /// when the A/B sits after the AURALIS Console running that chain.
    pub master_latency: usize,
    /// The original's integrated loudness as the analyzer measured it, LUFS.
    pub integrated_lufs: Option<f32>,
    /// The file streamed (the source or its copy at the host's rate).
    pub path: PathBuf,
    stamps: Stamps,
}

/// Reads a WAV into two channels (more folded to stereo, mono duplicated), as `f32`.
fn read_stereo(path: &Path) -> Result<(Vec<f32>, Vec<f32>, u32), String> {
    let err = |e: hound::Error| format!("{}: cannot read the audio: {e}", path.display());
    let mut reader = hound::WavReader::open(path).map_err(err)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(err)?;
    let frames = samples.len() / channels;
    let (mut l, mut r) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    for f in samples.chunks_exact(channels) {
        if channels == 1 {
            l.push(f[0]);
            r.push(f[0]);
        } else {
            // Odd channels to the left, even to the right, as the analyzer folds them.
            let (mut a, mut b) = (0.0, 0.0);
            for (i, x) in f.iter().enumerate() {
                if i % 2 == 0 {
                    a += x;
                } else {
                    b += x;
                }
            }
            let (na, nb) = (channels.div_ceil(2) as f32, (channels / 2) as f32);
            l.push(a / na);
            r.push(b / nb);
        }
    }
    Ok((l, r, spec.sample_rate))
}

/// A copy of `path` as stereo float at `rate`, written at `out` (atomically).
fn write_copy(path: &Path, rate: u32, out: &Path) -> Result<(), String> {
    let (l, r, from) = read_stereo(path)?;
    let resample = |x: &[f32]| {
        auralis_engine::resample::resample(x, from, rate)
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let (l, r) = (resample(&l)?, resample(&r)?);
    let tmp = out.with_extension(format!("wav.{}.tmp", std::process::id()));
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let werr = |e: hound::Error| format!("{}: cannot write: {e}", tmp.display());
    let mut w = hound::WavWriter::create(&tmp, spec).map_err(werr)?;
    for (a, b) in l.iter().zip(&r) {
        w.write_sample(*a).map_err(werr)?;
        w.write_sample(*b).map_err(werr)?;
    }
    w.finalize().map_err(werr)?;
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: cannot write: {e}", out.display())
    })
}

/// Whether `path` streams as it is at `rate`.
fn streams_as_is(path: &Path, rate: u32) -> Result<bool, String> {
    let spec = hound::WavReader::open(path)
        .map_err(|e| format!("{}: cannot read the audio: {e}", path.display()))?
        .spec();
    Ok(spec.channels == 2
        && spec.sample_format == hound::SampleFormat::Float
        && spec.bits_per_sample == 32
        && spec.sample_rate == rate)
}

/// The file to stream for `path` at `rate`: itself, or its copy at that rate (made if it is
/// missing or older than the file).
fn at_rate(path: &Path, dir: &Path, name: &str, rate: u32) -> Result<PathBuf, String> {
    if streams_as_is(path, rate)? {
        return Ok(path.to_path_buf());
    }
    let file = format!("{name}-{rate}.wav");
    let fresh = |p: &Path| match (stamp(p), stamp(path)) {
        (Some(c), Some(s)) => c >= s && streams_as_is(p, rate).unwrap_or(false),
        _ => false,
    };
    let mut tried = Vec::new();
    for folder in [
        dir.join("cache"),
        std::env::temp_dir().join("auralis-ab-cache"),
    ] {
        let copy = folder.join(&file);
        if fresh(&copy) {
            return Ok(copy);
        }
        let made = std::fs::create_dir_all(&folder)
            .map_err(|e| format!("{}: {e}", folder.display()))
            .and_then(|_| write_copy(path, rate, &copy));
        match made {
            Ok(()) => return Ok(copy),
            Err(e) => tried.push(e),
        }
    }
    Err(tried.join("; "))
}

impl Loadable for Source {
    fn load(source: &SessionRef, rate: f32) -> Result<Self, String> {
        let (file, doc, session_stamp) = read_session(source)?;
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let (relative, name) = if source.element == ORIGINAL {
            let original = doc
                .get("source")
                .and_then(|s| s.get("original"))
                .and_then(|o| o.as_str())
                .ok_or_else(|| {
                    format!(
                        "{}: the session has no original.wav (it was made with --no-original)",
                        file.display()
                    )
                })?;
            (original.to_string(), ORIGINAL.to_string())
        } else {
            let element = find_element(&file, &doc, &source.element)?;
            let stem = element
                .get("stem")
                .and_then(|s| s.as_str())
                .ok_or_else(|| {
                    format!(
                        "{}: element {:?} has no stem",
                        file.display(),
                        source.element
                    )
                })?;
            (stem.to_string(), format!("stem-{}", source.element))
        };
        let path = dir.join(&relative);
        let audio_stamp = stamp(&path);
        let streamed = at_rate(&path, &dir, &name, rate.round() as u32)?;
        // Section starts, where users jump: kept in memory so a jump there is never late.
        let cues: Vec<u64> = doc
            .get("sections")
            .and_then(|v| v.as_array())
            .map(|list| {
                list.iter()
                    .filter_map(|sec| sec.get("start").and_then(|t| t.as_f64()))
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .map(|t| (t * f64::from(rate)).round() as u64)
                    .collect()
            })
            .unwrap_or_default();
        let streamer = Streamer::open(&streamed, &cues)?;
        let master_latency = doc
            .get("master")
            .and_then(|m| m.get("chain"))
            .and_then(|c| serde_json::from_value::<MasterSettings>(c.clone()).ok())
            .map_or(0, |settings| {
                let mut m = Master::default();
                m.allocate(rate);
                m.set(&settings);
                m.latency()
            });
        let integrated_lufs = (source.element == ORIGINAL)
            .then(|| {
                doc.get("loudness")
                    .and_then(|l| l.get("integrated_lufs"))
                    .and_then(|v| v.as_f64())
                    .map(|v| v as f32)
            })
            .flatten();
        Ok(Self {
            source: source.clone(),
            rate,
            streamer: Some(streamer),
            master_latency,
            integrated_lufs,
            path: streamed,
            stamps: vec![(file, session_stamp), (path, audio_stamp)],
        })
    }

    fn empty(rate: f32) -> Self {
        Self {
            source: SessionRef::default(),
            rate,
            streamer: None,
            master_latency: 0,
            integrated_lufs: None,
            path: PathBuf::new(),
            stamps: Vec::new(),
        }
    }

    fn rate(&self) -> f32 {
        self.rate
    }

    fn stamps(&self) -> Stamps {
        self.stamps.clone()
    }
}
