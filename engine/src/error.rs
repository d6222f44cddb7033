//! Errors of the engine crate. Only loading patches and resampling (off the audio thread) can
//! fail; audio processing never returns an error (everything it reads was validated before).

/// What went wrong reading a patch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter id this engine does not know.
    #[error("unknown parameter \"{0}\"")]
    UnknownParam(String),
    /// A choice parameter named an option it does not have.
    #[error("parameter \"{param}\" has no option \"{option}\"")]
    UnknownOption {
        /// Parameter id.
        param: String,
        /// The option named.
        option: String,
    },
    /// A number outside the parameter's range (or not finite).
    #[error("parameter \"{param}\" is {value}, outside {min}..={max}")]
    OutOfRange {
        /// Parameter id.
        param: String,
        /// The value found.
        value: f32,
        /// Lowest allowed.
        min: f32,
        /// Highest allowed.
        max: f32,
    },
    /// A patch format this engine cannot read.
    #[error("patch format {found} is not supported (this engine reads formats 1 to {newest})")]
    Format {
        /// The format found.
        found: u32,
        /// The newest format this engine reads.
        newest: u32,
    },
    /// The resampler could not be built or run.
    #[error("resampling: {0}")]
    Resample(String),
}

/// Result of the engine's fallible calls.
pub type Result<T> = std::result::Result<T, Error>;
