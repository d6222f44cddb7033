//! Waveform-in / waveform-out separators exported to ONNX (HTDemucs-style), run through ONNX
//! Runtime.
//!
//! Contract (declared by the model's manifest, `task = "separation"`):
//! - input: stereo audio `[1, 2, chunk]` at the manifest's `sample_rate`;
//! - output: `[1, stems, 2, chunk]`, the stems in the order the manifest lists them.
//!
//! As the reference implementations do, the track is cut into chunks of `chunk` samples that
//! overlap by `overlap`; each chunk's output is weighted by a window that is flat in the middle
//! and ramps linearly over the overlap, and the weighted outputs are overlap-added and divided
//! by the summed weights, so chunk boundaries leave no seam. Audio at another rate is resampled
//! to the model's rate and the stems back. Whatever the stems leave of the mix (models do not
//! add up exactly) goes into the `other` stem when the model has one, so that the stems always
//! sum to the mix.

use super::{Audio, Guide, SeparateError, Separator, StemSink};
use crate::models::{Device, Model, ModelError, Store, Tensor};
use crate::resample::resample;

/// A separator backed by an ONNX model.
#[derive(Debug)]
pub struct NeuralSeparator {
    model: Model,
}

impl NeuralSeparator {
    /// Loads the separation model `name`.
    pub fn load(store: &Store, name: &str, device: Device) -> Result<Self, ModelError> {
        let model = Model::load(store, name, device)?;
        if model.manifest.task != "separation" {
            return Err(ModelError::Contract {
                name: name.into(),
                detail: format!("task is {}, not separation", model.manifest.task),
            });
        }
        Ok(Self { model })
    }

    /// The first installed separation model, if any.
    pub fn installed(store: &Store) -> Option<String> {
        store
            .installed("separation")
            .first()
            .map(|m| m.name.clone())
    }
}

/// Chunk weights: 1 in the middle, linear ramps over `overlap` at both ends.
fn chunk_weight(chunk: usize, overlap: usize) -> Vec<f32> {
    (0..chunk)
        .map(|i| {
            if overlap == 0 {
                return 1.0;
            }
            let from_start = (i + 1) as f32 / (overlap + 1) as f32;
            let from_end = (chunk - i) as f32 / (overlap + 1) as f32;
            from_start.min(from_end).min(1.0)
        })
        .collect()
}

impl Separator for NeuralSeparator {
    fn name(&self) -> &str {
        &self.model.manifest.name
    }

    fn device(&self) -> &str {
        self.model.device
    }

    fn stems(&self) -> Vec<String> {
        self.model.manifest.stems.clone()
    }

    fn separate(
        &mut self,
        audio: &Audio,
        _guide: &Guide,
        sink: &mut dyn StemSink,
        progress: &mut dyn FnMut(f64),
    ) -> Result<(), SeparateError> {
        let m = self.model.manifest.clone();
        let contract = |detail: String| {
            SeparateError::Model(ModelError::Contract {
                name: m.name.clone(),
                detail,
            })
        };
        let rate = m.sample_rate.unwrap_or(audio.rate);
        let chunk = m.chunk.unwrap_or(rate as usize * 8);
        let overlap = m.overlap.unwrap_or(0).min(chunk / 2);
        let n_stems = m.stems.len();
        // Planar input at the model's rate.
        let mut planar: Vec<Vec<f32>> = (0..2)
            .map(|c| audio.samples.iter().skip(c).step_by(2).copied().collect())
            .collect();
        if rate != audio.rate {
            for ch in planar.iter_mut() {
                *ch = resample(ch, audio.rate, rate)?;
            }
        }
        let len = planar[0].len();
        let hop = chunk - overlap;
        let weight = chunk_weight(chunk, overlap);
        let mut acc = vec![vec![vec![0.0f32; len]; 2]; n_stems];
        let mut wsum = vec![0.0f32; len];
        let starts: Vec<usize> = if len <= chunk {
            vec![0]
        } else {
            (0..len - overlap).step_by(hop).collect()
        };
        for (ci, &start) in starts.iter().enumerate() {
            let mut data = vec![0.0f32; 2 * chunk];
            for c in 0..2 {
                for i in 0..chunk {
                    data[c * chunk + i] = planar[c].get(start + i).copied().unwrap_or(0.0);
                }
            }
            let out = self
                .model
                .run(&[Tensor {
                    shape: vec![1, 2, chunk as i64],
                    data,
                }])
                .map_err(SeparateError::Model)?;
            let y = out
                .first()
                .ok_or_else(|| contract("the model gave no output".into()))?;
            let expect = [1, n_stems as i64, 2, chunk as i64];
            if y.shape != expect {
                return Err(contract(format!(
                    "output shape {:?}, the manifest implies {:?}",
                    y.shape, expect
                )));
            }
            for (i, &w) in weight.iter().enumerate() {
                let t = start + i;
                if t >= len {
                    break;
                }
                wsum[t] += w;
                for (s, stem) in acc.iter_mut().enumerate() {
                    for (c, ch) in stem.iter_mut().enumerate() {
                        ch[t] += w * y.data[((s * 2) + c) * chunk + i];
                    }
                }
            }
            progress((ci + 1) as f64 / starts.len() as f64);
        }
        for stem in acc.iter_mut() {
            for ch in stem.iter_mut() {
                for (x, &w) in ch.iter_mut().zip(&wsum) {
                    *x /= w.max(1e-12);
                }
            }
        }
        // Back to the source rate.
        if rate != audio.rate {
            for stem in acc.iter_mut() {
                for ch in stem.iter_mut() {
                    let mut back = resample(ch, rate, audio.rate)?;
                    back.resize(audio.frames(), 0.0);
                    *ch = back;
                }
            }
        }
        // Whatever the stems leave of the mix goes to `other`.
        if let Some(o) = m.stems.iter().position(|s| s == "other") {
            let frames = audio.frames();
            let mut residual = vec![0.0f32; 2 * frames];
            for (i, r) in residual.iter_mut().enumerate() {
                let (t, c) = (i / 2, i % 2);
                let sum: f32 = acc.iter().map(|stem| stem[c][t]).sum();
                *r = audio.samples[i] - sum;
            }
            for (i, r) in residual.iter().enumerate() {
                acc[o][i % 2][i / 2] += r;
            }
        }
        let mut frames = Vec::with_capacity(2 * 65_536);
        for (s, stem) in acc.iter().enumerate() {
            for block in (0..audio.frames()).step_by(65_536) {
                frames.clear();
                let end = (block + 65_536).min(audio.frames());
                for (l, r) in stem[0][block..end].iter().zip(&stem[1][block..end]) {
                    frames.push(*l);
                    frames.push(*r);
                }
                sink.write(s, &frames)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_weights_ramp_over_the_overlap() {
        let w = chunk_weight(10, 3);
        assert_eq!(w[4], 1.0);
        assert!(w[0] < w[1] && w[1] < w[2]);
        assert!(w[9] < w[8]);
        // Where two chunks overlap, the weights of the outgoing and incoming chunk add up to a
        // constant, so the normalised sum never dips.
        let hop = 7;
        for i in 0..3 {
            assert!((w[hop + i] + w[i] - (w[hop] + w[0])).abs() < 1e-6);
        }
    }
}
