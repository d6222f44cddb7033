//! Decoding any track into a stream of stereo frames at the source rate.
//!
//! Containers and codecs come from Symphonia (WAV, AIFF, CAF, FLAC, MP3, Ogg Vorbis, MP4/M4A
//! with AAC-LC or ALAC, MKV/WebM). The stream is pulled one packet at a time, so memory stays
//! bounded whatever the length of the track: consumers see short chunks and keep only what they
//! need (see `frontend`).
//!
//! Channel folding: mono is duplicated to both sides; more than two channels are folded to
//! stereo with the ITU-R BS.775 downmix coefficients (centre and surrounds at −3 dB, LFE
//! dropped), using the container's speaker positions or, when it has none, the WAVE default
//! order (FL, FR, FC, LFE, BL, BR, FLC, FRC, BC, SL, SR, …).
//!
//! Untrusted headers are checked before anything is allocated from them: the sample rate must
//! lie in [`MIN_SAMPLE_RATE`, `MAX_SAMPLE_RATE`] and the channel count in 1..=[`MAX_CHANNELS`].

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::error::{Error, Result};

/// Lowest sample rate accepted (telephone-band audio and below is not music we can analyse).
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest sample rate accepted (DXD / 8× 96 kHz).
pub const MAX_SAMPLE_RATE: u32 = 768_000;
/// Most channels accepted before folding to stereo.
pub const MAX_CHANNELS: usize = 32;
/// Longest track accepted, in seconds (memory for the analysis signals grows with length).
pub const MAX_DURATION_S: f64 = 4.0 * 3600.0;
/// Consecutive undecodable packets tolerated before the stream is declared corrupt.
const MAX_CONSECUTIVE_BAD_PACKETS: usize = 8;

/// What the container says about the track, checked against our limits.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// The file that was opened.
    pub path: PathBuf,
    /// Sample rate of the file, Hz.
    pub sample_rate: u32,
    /// Channel count of the file (before folding to stereo).
    pub channels: usize,
    /// Frames the header declares, when it declares them.
    pub declared_frames: Option<u64>,
    /// Short container name (`wav`, `flac`, `mp3`, …).
    pub container: &'static str,
    /// Short codec name (`pcm_s16le`, `flac`, `mp3`, …).
    pub codec: &'static str,
    /// Whether `declared_frames` is exact for this container/codec (PCM and FLAC), so that a
    /// shorter stream means a truncated file.
    pub length_is_exact: bool,
}

/// Decodes a whole file: its sample rate and interleaved stereo frames at that rate.
pub fn read_stereo(path: &Path) -> Result<(u32, Vec<f32>)> {
    let mut d = Decoder::open(path)?;
    let rate = d.info().sample_rate;
    let mut out = Vec::with_capacity(d.info().declared_frames.unwrap_or(0) as usize * 2);
    while let Some(chunk) = d.next_chunk()? {
        out.extend_from_slice(chunk);
    }
    Ok((rate, out))
}

/// A pull decoder yielding interleaved stereo `f32` frames at the source rate.
pub struct Decoder {
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: SourceInfo,
    fold: Fold,
    planar: Vec<Vec<f32>>,
    stereo: Vec<f32>,
    frames_decoded: u64,
    ended_early: bool,
}

/// How source channels map onto left and right.
#[derive(Debug, Clone)]
enum Fold {
    Mono,
    Stereo,
    Matrix(Vec<(f32, f32)>),
}

impl Decoder {
    /// Opens `path` and checks its header. Errors name the file and the problem.
    pub fn open(path: &Path) -> Result<Self> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound { path: path.into() })
            }
            Err(e) => return Err(Error::io(path, "reading the file's metadata", e)),
        };
        if !meta.is_file() {
            return Err(Error::NotAFile { path: path.into() });
        }
        if meta.len() == 0 {
            return Err(Error::EmptyFile { path: path.into() });
        }
        let file = File::open(path).map_err(|e| Error::io(path, "opening the file", e))?;
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let reader = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| probe_error(path, e))?;
        let track = reader
            .default_track(TrackType::Audio)
            .or_else(|| reader.first_track_known_codec(TrackType::Audio))
            .ok_or_else(|| Error::NoAudioTrack { path: path.into() })?;
        let track_id = track.id;
        let params = match &track.codec_params {
            Some(CodecParameters::Audio(p)) => p.clone(),
            _ => return Err(Error::NoAudioTrack { path: path.into() }),
        };
        let declared_frames = track.num_frames;
        let sample_rate = params.sample_rate.ok_or_else(|| Error::Malformed {
            path: path.into(),
            detail: "the header gives no sample rate".into(),
        })?;
        check_sample_rate(path, sample_rate)?;
        if let Some(frames) = declared_frames {
            let seconds = frames as f64 / f64::from(sample_rate);
            if seconds > MAX_DURATION_S {
                return Err(Error::Limit {
                    path: path.into(),
                    what: format!(
                        "the header declares {seconds:.0} s of audio; the limit is {MAX_DURATION_S:.0} s"
                    ),
                });
            }
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| probe_error(path, e))?;
        let codec = decoder.codec_info().short_name;
        let container = reader.format_info().short_name;
        let channels_decl = params.channels.clone();
        let channels = channels_decl.as_ref().map(Channels::count).unwrap_or(0);
        if channels > MAX_CHANNELS {
            return Err(Error::Limit {
                path: path.into(),
                what: format!("{channels} channels; the limit is {MAX_CHANNELS}"),
            });
        }
        let length_is_exact = codec.starts_with("pcm") || codec == "flac" || codec == "alac";
        let info = SourceInfo {
            path: path.into(),
            sample_rate,
            channels,
            declared_frames,
            container,
            codec,
            length_is_exact,
        };
        let fold = channels_decl.as_ref().map(fold_for).unwrap_or(Fold::Stereo);
        Ok(Decoder {
            reader,
            decoder,
            track_id,
            info,
            fold,
            planar: Vec::new(),
            stereo: Vec::new(),
            frames_decoded: 0,
            ended_early: false,
        })
    }

    /// The checked header information.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// Frames decoded so far.
    pub fn frames_decoded(&self) -> u64 {
        self.frames_decoded
    }

    /// Decodes the next packet. Returns interleaved stereo frames (`[l0, r0, l1, r1, …]`), or
    /// `None` at the end of the stream. The end is checked: a stream shorter than an exact
    /// header length, or one that breaks off mid-packet, is reported as truncated.
    pub fn next_chunk(&mut self) -> Result<Option<&[f32]>> {
        let mut bad_in_a_row = 0usize;
        loop {
            let packet = match self.reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return self.finish(),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.ended_early = true;
                    return self.finish();
                }
                Err(SymError::ResetRequired) => {
                    return Err(Error::Unsupported {
                        path: self.info.path.clone(),
                        detail: "the stream changes its format part-way (chained streams)".into(),
                    })
                }
                Err(SymError::IoError(e)) => {
                    return Err(Error::io(&self.info.path, "reading the audio stream", e))
                }
                Err(e) => {
                    return Err(Error::Malformed {
                        path: self.info.path.clone(),
                        detail: e.to_string(),
                    })
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(buf) => buf,
                Err(SymError::DecodeError(detail)) => {
                    bad_in_a_row += 1;
                    if bad_in_a_row >= MAX_CONSECUTIVE_BAD_PACKETS || self.frames_decoded == 0 {
                        return Err(Error::Malformed {
                            path: self.info.path.clone(),
                            detail: detail.to_string(),
                        });
                    }
                    continue;
                }
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.ended_early = true;
                    return self.finish();
                }
                Err(SymError::Unsupported(detail)) => {
                    return Err(Error::Unsupported {
                        path: self.info.path.clone(),
                        detail: detail.to_string(),
                    })
                }
                Err(e) => {
                    return Err(Error::Malformed {
                        path: self.info.path.clone(),
                        detail: e.to_string(),
                    })
                }
            };
            let frames = decoded.frames();
            if frames == 0 {
                continue;
            }
            let spec_channels = decoded.spec().channels().count();
            if spec_channels == 0 || spec_channels > MAX_CHANNELS {
                return Err(Error::Limit {
                    path: self.info.path.clone(),
                    what: format!("a packet decodes to {spec_channels} channels"),
                });
            }
            if self.info.channels == 0 {
                // The container did not say; the codec does.
                self.info.channels = spec_channels;
                self.fold = fold_for(decoded.spec().channels());
            }
            decoded.copy_to_vecs_planar::<f32>(&mut self.planar);
            fold_to_stereo(&self.fold, &self.planar, frames, &mut self.stereo);
            self.frames_decoded += frames as u64;
            return Ok(Some(&self.stereo));
        }
    }

    fn finish(&mut self) -> Result<Option<&[f32]>> {
        let decoded = self.frames_decoded;
        if let Some(expected) = self.info.declared_frames {
            // One packet of slack: some encoders round the declared length.
            let slack = 4096;
            if self.info.length_is_exact && decoded + slack < expected {
                return Err(Error::Truncated {
                    path: self.info.path.clone(),
                    expected_frames: expected,
                    decoded_frames: decoded,
                });
            }
        }
        if self.ended_early && decoded > 0 && !self.info.length_is_exact {
            return Err(Error::Truncated {
                path: self.info.path.clone(),
                expected_frames: self.info.declared_frames.unwrap_or(0),
                decoded_frames: decoded,
            });
        }
        if decoded == 0 {
            return Err(Error::ZeroLength {
                path: self.info.path.clone(),
            });
        }
        Ok(None)
    }
}

fn check_sample_rate(path: &Path, rate: u32) -> Result<()> {
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        return Err(Error::Limit {
            path: path.into(),
            what: format!(
                "sample rate {rate} Hz is outside the supported range {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz"
            ),
        });
    }
    Ok(())
}

fn probe_error(path: &Path, e: SymError) -> Error {
    match e {
        SymError::Unsupported(detail) if detail.contains("no suitable format reader") => {
            Error::NotAudio { path: path.into() }
        }
        SymError::Unsupported(detail) => Error::Unsupported {
            path: path.into(),
            detail: detail.to_string(),
        },
        SymError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Error::Malformed {
            path: path.into(),
            detail: "the header is cut short".into(),
        },
        SymError::IoError(e) => Error::io(path, "reading the file", e),
        SymError::LimitError(what) => Error::Limit {
            path: path.into(),
            what: what.to_string(),
        },
        other => Error::Malformed {
            path: path.into(),
            detail: other.to_string(),
        },
    }
}

/// Speaker side of one channel position bit: −1 left, +1 right, 0 centre, `None` for LFE.
fn side_of_position_bit(bit: u32) -> Option<i8> {
    const LEFT: &[u32] = &[0, 4, 6, 9, 12, 15, 19, 22, 24];
    const RIGHT: &[u32] = &[1, 5, 7, 10, 14, 17, 20, 23, 25];
    const LFE: &[u32] = &[3, 18];
    if LEFT.contains(&bit) {
        Some(-1)
    } else if RIGHT.contains(&bit) {
        Some(1)
    } else if LFE.contains(&bit) {
        None
    } else {
        Some(0)
    }
}

fn fold_for(channels: &Channels) -> Fold {
    let count = channels.count();
    match count {
        0 | 2 => return Fold::Stereo,
        1 => return Fold::Mono,
        _ => {}
    }
    let bits: Vec<u32> = match channels {
        Channels::Positioned(p) => (0..32).filter(|b| p.bits() & (1 << b) != 0).collect(),
        // WAVE default order for unlabelled channels.
        _ => (0..count as u32).collect(),
    };
    let front = [Position::FRONT_LEFT.bits(), Position::FRONT_RIGHT.bits()];
    let minus3db = std::f32::consts::FRAC_1_SQRT_2;
    let gains = bits
        .iter()
        .map(|&bit| {
            let is_front = front.contains(&(1 << bit));
            match side_of_position_bit(bit) {
                None => (0.0, 0.0),
                Some(-1) => (if is_front { 1.0 } else { minus3db }, 0.0),
                Some(1) => (0.0, if is_front { 1.0 } else { minus3db }),
                Some(_) => (minus3db, minus3db),
            }
        })
        .collect();
    Fold::Matrix(gains)
}

fn fold_to_stereo(fold: &Fold, planar: &[Vec<f32>], frames: usize, out: &mut Vec<f32>) {
    out.clear();
    out.reserve(frames * 2);
    match fold {
        Fold::Mono => {
            for &s in &planar[0][..frames] {
                out.push(s);
                out.push(s);
            }
        }
        Fold::Stereo if planar.len() >= 2 => {
            for (&l, &r) in planar[0][..frames].iter().zip(&planar[1][..frames]) {
                out.push(l);
                out.push(r);
            }
        }
        Fold::Stereo => {
            for &s in &planar[0][..frames] {
                out.push(s);
                out.push(s);
            }
        }
        Fold::Matrix(gains) => {
            out.resize(frames * 2, 0.0);
            for (plane, &(gl, gr)) in planar.iter().zip(gains) {
                for (frame, &s) in out.chunks_exact_mut(2).zip(&plane[..frames]) {
                    frame[0] += gl * s;
                    frame[1] += gr * s;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_one_folds_with_bs775_gains() {
        let fold = fold_for(&Channels::Discrete(6));
        let Fold::Matrix(g) = fold else {
            panic!("expected a matrix")
        };
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert_eq!(
            g,
            vec![
                (1.0, 0.0),
                (0.0, 1.0),
                (h, h),
                (0.0, 0.0),
                (h, 0.0),
                (0.0, h)
            ]
        );
    }

    #[test]
    fn matrix_fold_mixes_planes() {
        let planes = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0]];
        let mut out = Vec::new();
        let h = std::f32::consts::FRAC_1_SQRT_2;
        fold_to_stereo(
            &Fold::Matrix(vec![(1.0, 0.0), (0.0, 1.0), (h, h)]),
            &planes,
            2,
            &mut out,
        );
        assert!((out[0] - (1.0 + h)).abs() < 1e-6);
        assert!((out[1] - h).abs() < 1e-6);
        assert!((out[2] - h).abs() < 1e-6);
        assert!((out[3] - (1.0 + h)).abs() < 1e-6);
    }
}
