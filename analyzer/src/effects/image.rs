//! Pan and stereo width of a stem.
//!
//! Width is the side-to-mid power ratio (M = (L+R)/2, S = (L−R)/2) over the frames where the
//! stem sounds. Pan is the constant-power position whose channel gains (cos θ, sin θ) give the
//! stem's left/right power ratio: θ = atan √(P_R / P_L), pan = 4θ/π − 1 (−1 left, 1 right).

use serde::{Deserialize, Serialize};

/// A stem's stereo image.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Image {
    /// Constant-power pan position, −1 (left) … 1 (right).
    pub pan: f64,
    /// Side-to-mid power ratio, dB (−∞ for mono; 0 when side and mid are equal).
    pub side_to_mid_db: f64,
}

/// Frames for the activity gate, samples per channel.
const FRAME: usize = 2048;

/// Measures interleaved stereo `audio`.
pub fn measure(audio: &[f32]) -> Image {
    let frames: Vec<(f64, f64, f64, f64)> = audio
        .chunks(2 * FRAME)
        .map(|c| {
            let (mut l2, mut r2, mut m2, mut s2) = (0.0, 0.0, 0.0, 0.0);
            for s in c.chunks_exact(2) {
                let (l, r) = (s[0] as f64, s[1] as f64);
                l2 += l * l;
                r2 += r * r;
                m2 += (0.5 * (l + r)).powi(2);
                s2 += (0.5 * (l - r)).powi(2);
            }
            (l2, r2, m2, s2)
        })
        .collect();
    // Frames within 40 dB of the loudest count.
    let loudest = frames.iter().map(|f| f.0 + f.1).fold(0.0f64, f64::max);
    let (mut l2, mut r2, mut m2, mut s2) = (0.0, 0.0, 0.0, 0.0);
    for f in frames
        .iter()
        .filter(|f| f.0 + f.1 >= 1e-4 * loudest && f.0 + f.1 > 0.0)
    {
        l2 += f.0;
        r2 += f.1;
        m2 += f.2;
        s2 += f.3;
    }
    if l2 + r2 <= 0.0 {
        return Image::default();
    }
    let theta = (r2 / l2.max(1e-30)).sqrt().atan();
    Image {
        pan: (4.0 * theta / std::f64::consts::PI - 1.0).clamp(-1.0, 1.0),
        side_to_mid_db: 10.0 * (s2.max(1e-30) / m2.max(1e-30)).log10(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panned_mono_source_reads_back_its_pan_and_no_side() {
        for pan in [-0.6f64, 0.0, 0.37] {
            let theta = (pan + 1.0) * std::f64::consts::FRAC_PI_4;
            let audio: Vec<f32> = (0..48_000)
                .flat_map(|i| {
                    let x = (i as f64 * 0.05).sin();
                    [(x * theta.cos()) as f32, (x * theta.sin()) as f32]
                })
                .collect();
            let im = measure(&audio);
            assert!((im.pan - pan).abs() < 0.01, "{pan}: {}", im.pan);
            if pan == 0.0 {
                assert!(im.side_to_mid_db < -100.0);
            }
        }
        // Independent channels of equal power: side and mid equal.
        let audio: Vec<f32> = (0..48_000)
            .flat_map(|i| [(i as f32 * 0.05).sin(), (i as f32 * 0.0731).sin()])
            .collect();
        assert!(measure(&audio).side_to_mid_db.abs() < 0.2);
    }
}
