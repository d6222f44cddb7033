//! The decode stage: one streaming pass over the track that produces everything later stages
//! read, with memory bounded by the analysis signal (≈ 5 MB per minute).
//!
//! From each decoded packet (stereo, source rate):
//! - the mono mix `(L+R)/2` is resampled to [`ANALYSIS_RATE`] for the rhythm, harmony and
//!   structure stages;
//! - level blocks accumulate (see [`crate::level`]);
//! - a worker thread runs the EBU R128 meter (the true-peak oversampler is the costliest
//!   per-sample work) and, when asked, writes the decoded audio to `original.wav`;
//! - another thread hashes the file's bytes (SHA-256) for the session's `source.sha256`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use crate::decode::{Decoder, SourceInfo};
use crate::error::{Error, Result};
use crate::level::{amp_db, LevelBlocks, Loudness, LoudnessMeter};
use crate::progress::Progress;
use crate::resample::StreamResampler;

/// Sample rate of the mono analysis signal, Hz. Rhythm and harmony need nothing above 11 kHz.
pub const ANALYSIS_RATE: u32 = 22_050;
/// Below this peak the track is treated as silence, dBFS.
pub const SILENCE_PEAK_DBFS: f64 = -90.0;

/// Everything the decode stage produces.
#[derive(Debug, Clone)]
pub struct FrontEnd {
    /// Header facts of the source.
    pub source: SourceInfo,
    /// Frames decoded at the source rate.
    pub frames: u64,
    /// Duration, seconds.
    pub duration_s: f64,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// Mono mix at [`ANALYSIS_RATE`].
    pub mono: Vec<f32>,
    /// Level blocks at the source rate.
    pub blocks: LevelBlocks,
    /// EBU R128 figures.
    pub loudness: Loudness,
}

/// Decodes `path`. When `original_wav` is given, the decoded stereo audio is also written there
/// as 32-bit float WAV at the source rate (the caller renames it into place).
pub fn run(path: &Path, original_wav: Option<&Path>, progress: &dyn Progress) -> Result<FrontEnd> {
    let mut decoder = Decoder::open(path)?;
    let info = decoder.info().clone();
    let expected = info.declared_frames.unwrap_or(0).max(1) as f64;

    let hasher = {
        let path = path.to_path_buf();
        std::thread::spawn(move || sha256_file(&path))
    };
    let (tx, rx) = mpsc::sync_channel::<Vec<f32>>(32);
    let worker = {
        let original = original_wav.map(Path::to_path_buf);
        let (rate, channels) = (info.sample_rate, info.channels);
        std::thread::spawn(move || meter_and_write(rx, rate, channels, original))
    };

    let mut resampler = StreamResampler::new(info.sample_rate, ANALYSIS_RATE)?;
    let mut blocks = LevelBlocks::new(info.sample_rate);
    let mut mono = Vec::with_capacity(
        (expected * f64::from(ANALYSIS_RATE) / f64::from(info.sample_rate)) as usize + 1024,
    );
    let mut mono_src = Vec::new();
    let decoded: Result<()> = (|| {
        while let Some(chunk) = decoder.next_chunk()? {
            blocks.push(chunk);
            mono_src.clear();
            mono_src.extend(chunk.chunks_exact(2).map(|f| 0.5 * (f[0] + f[1])));
            resampler.push(&mono_src, &mut mono)?;
            if tx.send(chunk.to_vec()).is_err() {
                break; // the worker failed; its error is collected below
            }
            let done = decoder.frames_decoded() as f64 / expected;
            progress.update("decode", done.min(0.99), "decoding");
        }
        Ok(())
    })();
    drop(tx);
    let worker_result = worker.join().map_err(|_| Error::Internal {
        stage: "decode",
        detail: "the loudness worker panicked".into(),
    })?;
    decoded?;
    let loudness = worker_result?;
    resampler.finish(&mut mono)?;
    let sha256 = hasher.join().map_err(|_| Error::Internal {
        stage: "decode",
        detail: "the hashing thread panicked".into(),
    })??;

    let peak_dbfs = amp_db(f64::from(blocks.peak()));
    if peak_dbfs < SILENCE_PEAK_DBFS {
        if let Some(p) = original_wav {
            let _ = std::fs::remove_file(p);
        }
        return Err(Error::Silent {
            path: path.into(),
            peak_dbfs,
        });
    }
    let frames = decoder.frames_decoded();
    progress.update("decode", 1.0, "decoded");
    Ok(FrontEnd {
        duration_s: frames as f64 / f64::from(info.sample_rate),
        source: info,
        frames,
        sha256,
        mono,
        blocks,
        loudness,
    })
}

fn meter_and_write(
    rx: mpsc::Receiver<Vec<f32>>,
    rate: u32,
    channels: usize,
    original: Option<PathBuf>,
) -> Result<Loudness> {
    let mut meter = LoudnessMeter::new(rate, channels.max(1))?;
    let mut writer = match &original {
        Some(p) => {
            let spec = hound::WavSpec {
                channels: 2,
                sample_rate: rate,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            };
            Some(hound::WavWriter::create(p, spec).map_err(|e| hound_error(p, e))?)
        }
        None => None,
    };
    for chunk in rx {
        meter.push(&chunk)?;
        if let (Some(w), Some(p)) = (writer.as_mut(), original.as_ref()) {
            for &s in &chunk {
                w.write_sample(s).map_err(|e| hound_error(p, e))?;
            }
        }
    }
    if let (Some(w), Some(p)) = (writer, original.as_ref()) {
        w.finalize().map_err(|e| hound_error(p, e))?;
    }
    Ok(meter.finish())
}

fn hound_error(path: &Path, e: hound::Error) -> Error {
    match e {
        hound::Error::IoError(io) => Error::io(path, "writing the decoded original", io),
        other => Error::Internal {
            stage: "decode",
            detail: format!("{}: {other}", path.display()),
        },
    }
}

/// SHA-256 of a file's bytes, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, "opening the file", e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io(path, "reading the file", e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
