//! The analyzer's error type. Every variant that concerns a file names it, so that the CLI can
//! print one clear line and pick an exit code from [`Error::exit_code`].

use std::path::PathBuf;

/// Result alias used throughout the analyzer library.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong, with the numbers that explain it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input path does not exist.
    #[error("{path}: file not found")]
    NotFound { path: PathBuf },
    /// The input path exists but is not a regular file.
    #[error("{path}: not a file (is it a directory?)")]
    NotAFile { path: PathBuf },
    /// Reading or writing a file failed at the OS level.
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The file has zero bytes.
    #[error("{path}: the file is empty (0 bytes)")]
    EmptyFile { path: PathBuf },
    /// No container format recognised the file.
    #[error("{path}: not a recognised audio file (supported: WAV, AIFF, FLAC, MP3, Ogg Vorbis, M4A/AAC, ALAC, CAF, MKV/WebM)")]
    NotAudio { path: PathBuf },
    /// The container was recognised but its codec (or a feature of it) is not supported.
    #[error("{path}: unsupported codec or format feature: {detail}")]
    Unsupported { path: PathBuf, detail: String },
    /// The container holds no audio track.
    #[error("{path}: the file holds no audio track")]
    NoAudioTrack { path: PathBuf },
    /// The stream is corrupt.
    #[error("{path}: corrupt audio data: {detail}")]
    Malformed { path: PathBuf, detail: String },
    /// The stream ended before the length its header declares.
    #[error("{path}: the file is truncated: its header declares {expected_frames} frames but the audio ends after {decoded_frames}")]
    Truncated {
        path: PathBuf,
        expected_frames: u64,
        decoded_frames: u64,
    },
    /// A well-formed file with no audio frames in it.
    #[error("{path}: the file holds no audio (zero length)")]
    ZeroLength { path: PathBuf },
    /// The audio is digital silence (or so close to it that nothing can be analysed).
    #[error("{path}: the audio is silent (peak {peak_dbfs:.1} dBFS); there is nothing to analyse")]
    Silent { path: PathBuf, peak_dbfs: f64 },
    /// Untrusted input asks for more than we accept (sample rate, channel count, length).
    #[error("{path}: {what}")]
    Limit { path: PathBuf, what: String },
    /// A corpus or truth file is not what `auralis eval` expects.
    #[error("{path}: {detail}")]
    BadTruth { path: PathBuf, detail: String },
    /// An internal DSP component refused its configuration (a bug, not bad input).
    #[error("internal error in {stage}: {detail}")]
    Internal { stage: &'static str, detail: String },
}

impl Error {
    /// Exit code for the CLI, after the BSD `sysexits.h` convention: 66 when the input cannot be
    /// opened, 65 when its data is bad, 74 when writing output fails, 70 for internal errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NotFound { .. } | Error::NotAFile { .. } => 66,
            Error::Io { action, .. } if action.starts_with("writing") => 74,
            Error::Io { .. } => 66,
            Error::Internal { .. } => 70,
            _ => 65,
        }
    }

    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
