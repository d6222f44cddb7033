//! Decoding of every supported container and sample format, checked on the signal itself.

use std::path::{Path, PathBuf};

use auralis::decode::Decoder;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auralis-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Decodes a whole file: (rate, source channels, left, right).
fn decode_all(path: &Path) -> (u32, usize, Vec<f32>, Vec<f32>) {
    let mut d = Decoder::open(path).unwrap_or_else(|e| panic!("{e}"));
    let (mut l, mut r) = (Vec::new(), Vec::new());
    while let Some(chunk) = d.next_chunk().unwrap_or_else(|e| panic!("{e}")) {
        for f in chunk.chunks_exact(2) {
            l.push(f[0]);
            r.push(f[1]);
        }
    }
    (d.info().sample_rate, d.info().channels, l, r)
}

/// Amplitude of the `freq` component of `x` (a single-bin DFT over the middle of the signal).
fn amplitude(x: &[f32], rate: u32, freq: f64) -> f64 {
    let a = x.len() / 4;
    let b = 3 * x.len() / 4;
    let (mut c, mut s) = (0.0f64, 0.0f64);
    for (i, &v) in x[a..b].iter().enumerate() {
        let ph = 2.0 * std::f64::consts::PI * freq * (a + i) as f64 / f64::from(rate);
        c += f64::from(v) * ph.cos();
        s += f64::from(v) * ph.sin();
    }
    2.0 * c.hypot(s) / (b - a) as f64
}

fn check_tone_file(name: &str, seconds: f64, rate: u32) {
    let (r, ch, l, rr) = decode_all(&data(name));
    assert_eq!(r, rate, "{name}: rate");
    assert_eq!(ch, 2, "{name}: channels");
    let dur = l.len() as f64 / f64::from(r);
    assert!((dur - seconds).abs() < 0.06, "{name}: {dur} s");
    // Left is 440 Hz, right 660 Hz, each with amplitude 1/16 (see tests/data/README.md).
    let (l440, l660) = (amplitude(&l, r, 440.0), amplitude(&l, r, 660.0));
    let (r440, r660) = (amplitude(&rr, r, 440.0), amplitude(&rr, r, 660.0));
    let want = 1.0 / 16.0;
    assert!(
        (l440 - want).abs() < 0.1 * want && l660 < 0.03 * want,
        "{name}: left {l440} {l660}"
    );
    assert!(
        (r660 - want).abs() < 0.1 * want && r440 < 0.03 * want,
        "{name}: right {r440} {r660}"
    );
}

#[test]
fn flac() {
    check_tone_file("tone_l440_r660.flac", 1.5, 44_100);
}

#[test]
fn mp3() {
    check_tone_file("tone_l440_r660.mp3", 1.5, 44_100);
}

#[test]
fn ogg_vorbis() {
    check_tone_file("tone_l440_r660.ogg", 1.5, 44_100);
}

#[test]
fn m4a_aac() {
    check_tone_file("tone_l440_r660.m4a", 1.5, 44_100);
}

#[test]
fn m4a_alac() {
    check_tone_file("tone_l440_r660_short_alac.m4a", 0.3, 22_050);
}

#[test]
fn aiff() {
    check_tone_file("tone_l440_r660_short.aiff", 0.3, 22_050);
}

fn write_wav(
    path: &Path,
    rate: u32,
    channels: u16,
    bits: u16,
    float: bool,
    frames: usize,
    sample: impl Fn(usize, usize) -> f64,
) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let full = ((1i64 << (bits - 1)) - 1) as f64;
    for i in 0..frames {
        for c in 0..channels as usize {
            let v = sample(i, c);
            if float {
                w.write_sample(v as f32).unwrap();
            } else {
                w.write_sample((v * full).round() as i32).unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

fn sine(i: usize, rate: u32, freq: f64) -> f64 {
    0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()
}

#[test]
fn wav_integer_and_float_depths() {
    for (bits, float) in [(16, false), (24, false), (32, false), (32, true)] {
        let p = scratch(&format!("d{bits}{float}.wav"));
        write_wav(&p, 48_000, 2, bits, float, 24_000, |i, c| {
            sine(i, 48_000, if c == 0 { 440.0 } else { 660.0 })
        });
        let (r, ch, l, rr) = decode_all(&p);
        assert_eq!((r, ch, l.len()), (48_000, 2, 24_000), "{bits} {float}");
        assert!(
            (amplitude(&l, r, 440.0) - 0.5).abs() < 0.01,
            "{bits} {float}"
        );
        assert!(
            (amplitude(&rr, r, 660.0) - 0.5).abs() < 0.01,
            "{bits} {float}"
        );
    }
}

#[test]
fn mono_is_duplicated_and_odd_rates_decode() {
    for rate in [8_000, 11_025, 96_000, 192_000] {
        let p = scratch(&format!("mono{rate}.wav"));
        write_wav(&p, rate, 1, 16, false, rate as usize / 2, |i, _| {
            sine(i, rate, 440.0)
        });
        let (r, ch, l, rr) = decode_all(&p);
        assert_eq!((r, ch), (rate, 1));
        assert_eq!(l, rr);
        assert!((amplitude(&l, r, 440.0) - 0.5).abs() < 0.01);
    }
}

#[test]
fn surround_folds_to_stereo() {
    // 5.1 with a tone on the centre channel only: both sides get it at −3 dB.
    let p = scratch("surround.wav");
    write_wav(&p, 48_000, 6, 16, false, 24_000, |i, c| {
        if c == 2 {
            sine(i, 48_000, 440.0)
        } else {
            0.0
        }
    });
    let (r, ch, l, rr) = decode_all(&p);
    assert_eq!(ch, 6);
    let want = 0.5 * std::f64::consts::FRAC_1_SQRT_2;
    assert!((amplitude(&l, r, 440.0) - want).abs() < 0.01);
    assert!((amplitude(&rr, r, 440.0) - want).abs() < 0.01);
}

#[test]
fn long_tracks_stream_in_bounded_chunks() {
    // Ten minutes of 48 kHz stereo: the decoder hands out packets, never the whole track.
    let p = scratch("long.wav");
    let frames = 48_000 * 600;
    write_wav(&p, 48_000, 2, 16, false, frames, |i, _| {
        if i % 4800 == 0 {
            0.5
        } else {
            0.0
        }
    });
    let mut d = Decoder::open(&p).unwrap();
    let mut total = 0usize;
    let mut largest = 0usize;
    while let Some(chunk) = d.next_chunk().unwrap() {
        total += chunk.len() / 2;
        largest = largest.max(chunk.len());
    }
    assert_eq!(total, frames);
    assert!(largest <= 2 * 65_536, "largest chunk {largest} samples");
    std::fs::remove_file(&p).unwrap();
}
