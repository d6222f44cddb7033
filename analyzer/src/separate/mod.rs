//! Separation: the mix split into stems that add back up to it.
//!
//! Every separator implements [`Separator`]: stereo audio at the source rate in, one stereo
//! signal per stem out, streamed to a [`StemSink`] in order so that no stem is ever held whole
//! at the source rate. Two implementations:
//! - [`dsp::DspSeparator`], the embedded default (no model): our own soft-mask DSP;
//! - [`neural::NeuralSeparator`], waveform-in/waveform-out ONNX models (HTDemucs-style) run
//!   through ONNX Runtime with chunking and overlap-add.

pub mod dsp;
pub mod neural;

use crate::models::ModelError;
use crate::transcribe::Note;

/// Stereo audio, interleaved `[l0, r0, l1, r1, …]`, at its own rate.
#[derive(Debug, Clone, Default)]
pub struct Audio {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Interleaved stereo frames.
    pub samples: Vec<f32>,
}

impl Audio {
    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / 2
    }
}

/// What a separator may use besides the audio: notes found on the mix.
#[derive(Debug, Clone, Default)]
pub struct Guide {
    /// The bass line (one note at a time).
    pub bass: Vec<Note>,
    /// The lead or vocal line (one note at a time).
    pub lead: Vec<Note>,
    /// Every note from G3 up, for separators that pick the lead line themselves (the DSP
    /// separator prefers notes in the centre of the stereo image). Empty when `lead` is
    /// already the line to follow (tracked from the model's pitch contours).
    pub lead_candidates: Vec<Note>,
}

/// Receives the stems as they are made: `write(stem_index, frames)` with interleaved stereo
/// frames, called in time order for each stem.
pub trait StemSink {
    /// Appends frames to a stem.
    fn write(&mut self, stem: usize, frames: &[f32]) -> crate::error::Result<()>;
}

/// Why separation failed.
#[derive(Debug)]
pub enum SeparateError {
    /// The model could not be used (the caller falls back to the DSP separator).
    Model(ModelError),
    /// Writing a stem failed.
    Io(crate::error::Error),
}

impl From<crate::error::Error> for SeparateError {
    fn from(e: crate::error::Error) -> Self {
        Self::Io(e)
    }
}

impl From<ModelError> for SeparateError {
    fn from(e: ModelError) -> Self {
        Self::Model(e)
    }
}

/// A source separator.
pub trait Separator {
    /// Name for `stages` (`dsp`, or the model's name).
    fn name(&self) -> &str;
    /// Where it runs: `cpu` or `cuda`.
    fn device(&self) -> &str;
    /// The stems it writes, in order.
    fn stems(&self) -> Vec<String>;
    /// Separates `audio`, streaming every stem to `sink`.
    fn separate(
        &mut self,
        audio: &Audio,
        guide: &Guide,
        sink: &mut dyn StemSink,
        progress: &mut dyn FnMut(f64),
    ) -> Result<(), SeparateError>;
}

/// Collects stems in memory (tests, evaluation).
#[derive(Debug, Default, Clone)]
pub struct MemorySink {
    /// Interleaved stereo per stem.
    pub stems: Vec<Vec<f32>>,
}

impl StemSink for MemorySink {
    fn write(&mut self, stem: usize, frames: &[f32]) -> crate::error::Result<()> {
        if self.stems.len() <= stem {
            self.stems.resize(stem + 1, Vec::new());
        }
        self.stems[stem].extend_from_slice(frames);
        Ok(())
    }
}

/// Signal-to-distortion ratio as the MDX challenge defines it: 10·log10(Σs² / Σ(s−ŝ)²), dB.
pub fn sdr(reference: &[f32], estimate: &[f32]) -> f64 {
    let n = reference.len().min(estimate.len());
    let mut num = 0.0f64;
    let mut den = 0.0f64;
    for i in 0..n {
        let s = reference[i] as f64;
        let d = s - estimate[i] as f64;
        num += s * s;
        den += d * d;
    }
    for &s in &reference[n..] {
        num += s as f64 * s as f64;
        den += s as f64 * s as f64;
    }
    for &e in &estimate[n..] {
        den += e as f64 * e as f64;
    }
    10.0 * ((num + 1e-12) / (den + 1e-12)).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdr_of_known_errors() {
        let s: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.1).sin()).collect();
        assert!(sdr(&s, &s) > 100.0);
        let half: Vec<f32> = s.iter().map(|x| x * 0.5).collect();
        // Error is half the signal: 10·log10(1 / 0.25) = 6.02 dB.
        assert!((sdr(&s, &half) - 6.0206).abs() < 1e-3);
        let zero = vec![0.0f32; 1000];
        assert!(sdr(&s, &zero).abs() < 1e-9);
    }
}
