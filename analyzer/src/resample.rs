//! Sample-rate conversion: the engine's streaming resampler ([`auralis_engine::resample`],
//! shared with the plugins' loaders) with the analyzer's errors.

use crate::error::{Error, Result};

fn internal(e: auralis_engine::Error) -> Error {
    Error::Internal {
        stage: "resample",
        detail: e.to_string(),
    }
}

/// A one-channel streaming resampler (pass-through when the rates are equal).
pub struct StreamResampler(auralis_engine::resample::StreamResampler);

impl StreamResampler {
    /// Creates a resampler from `in_rate` to `out_rate` (Hz).
    pub fn new(in_rate: u32, out_rate: u32) -> Result<Self> {
        auralis_engine::resample::StreamResampler::new(in_rate, out_rate)
            .map(Self)
            .map_err(internal)
    }

    /// Feeds `input` and appends whatever output is ready to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.0.push(input, out).map_err(internal)
    }

    /// Flushes the tail; after this `out` holds exactly `round(frames_in · ratio)` frames.
    pub fn finish(self, out: &mut Vec<f32>) -> Result<()> {
        self.0.finish(out).map_err(internal)
    }
}

/// Resamples a whole signal (allocates the output).
pub fn resample(input: &[f32], in_rate: u32, out_rate: u32) -> Result<Vec<f32>> {
    auralis_engine::resample::resample(input, in_rate, out_rate).map_err(internal)
}
