//! QC on known pairs: the demo song against itself and against copies changed in one way each.
//! A change must cost points on the dimensions it touches and leave the others alone.

use std::path::{Path, PathBuf};

use auralis::demo::{self, Variant};
use auralis::qc::{self, timbre::SpectralStats, Features, Table};
use auralis_engine::fx::chain::{Chain, ChainReverb, ChainSettings};

fn write(path: &Path, frames: &[[f32; 2]]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: demo::RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for f in frames {
        w.write_sample(f[0]).unwrap();
        w.write_sample(f[1]).unwrap();
    }
    w.finalize().unwrap();
}

/// The demo is dry; QC's reverb dimension needs a room to measure, so every copy goes
/// through the same reverb (RT60 1.2 s, 10 dB under the dry sound).
fn wet(frames: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut chain = Chain::default();
    chain.allocate(demo::RATE as f32);
    chain.set(&ChainSettings {
        reverb: Some(ChainReverb {
            level: 0.32,
            rt60_s: 1.2,
            predelay_ms: 15.0,
            damp_hz: 8000.0,
        }),
        ..ChainSettings::default()
    });
    let mut l: Vec<f32> = frames.iter().map(|f| f[0]).collect();
    let mut r: Vec<f32> = frames.iter().map(|f| f[1]).collect();
    for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
        chain.process(a, b, None);
    }
    l.into_iter().zip(r).map(|(a, b)| [a, b]).collect()
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("auralis-qc-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn measure(d: &Path, name: &str, frames: &[[f32; 2]]) -> Features {
    let p = d.join(format!("{name}.wav"));
    write(&p, frames);
    Features::measure(&p, &SpectralStats).unwrap()
}

/// What a known pair must show: every dimension in `drop` loses at least [`MIN_DROP`]
/// points; every one in `noisy` (an estimator's known limit on this pair, with the reason)
/// keeps at least [`NOISY_FLOOR`], or is only printed when its floor is `None`; every other
/// one stays within [`MAX_DRIFT`] of 100.
struct Expect<'a> {
    drop: &'a [&'a str],
    noisy: &'a [(&'a str, Option<f64>, &'a str)],
}

const MIN_DROP: f64 = 10.0;
const MAX_DRIFT: f64 = 5.0;
const NOISY_FLOOR: f64 = 75.0;

fn check(t: &Table, what: &str, e: &Expect, failures: &mut Vec<String>) {
    println!("{what}:\n{}", t.to_text());
    for m in &t.measures {
        if e.drop.contains(&m.name) {
            if m.score > 100.0 - MIN_DROP {
                failures.push(format!(
                    "{what}: {} should lose points, scored {:.1}",
                    m.name, m.score
                ));
            }
        } else if let Some((_, floor, why)) = e.noisy.iter().find(|n| n.0 == m.name) {
            println!("  {}: {:.1} ({why})", m.name, m.score);
            if let Some(f) = floor {
                if m.score < *f {
                    failures.push(format!(
                        "{what}: {} may drift but not below {f}, scored {:.1}",
                        m.name, m.score
                    ));
                }
            }
        } else if m.score < 100.0 - MAX_DRIFT {
            failures.push(format!(
                "{what}: {} should not move, scored {:.1}",
                m.name, m.score
            ));
        }
    }
}

#[test]
fn known_pairs_lose_points_where_they_differ() {
    let d = dir();
    let original = wet(&demo::render());
    let reference = measure(&d, "original", &original);

    let same = qc::score(&reference, &reference);
    for m in &same.measures {
        assert_eq!(m.score, 100.0, "identical audio: {}", m.name);
    }
    assert_eq!(same.overall, 100.0);

    let g = 10f32.powf(-3.0 / 20.0);
    let quieter: Vec<[f32; 2]> = original.iter().map(|f| [f[0] * g, f[1] * g]).collect();
    let t = qc::score(&reference, &measure(&d, "quieter", &quieter));
    let mut failures = Vec::new();
    let expect = Expect {
        drop: &["rms_sections"],
        noisy: &[],
    };
    check(&t, "3 dB quieter", &expect, &mut failures);

    let beat = (demo::beat_s() * f64::from(demo::RATE)).round() as usize;
    let mut shifted = vec![[0.0f32; 2]; beat];
    shifted.extend_from_slice(&original[..original.len() - beat]);
    let sh = measure(&d, "shifted", &shifted);
    let t = qc::score(&reference, &sh);
    let expect = Expect {
        // Compared moment by moment: the spectra, the bass line, the low-end hits, the chords.
        drop: &["spectral", "bass_pattern", "kick_pattern", "harmony"],
        noisy: &[(
            "sections",
            Some(NOISY_FLOOR),
            "the shifted copy's own structure analysis merges two of its sections",
        )],
    };
    check(&t, "a beat late", &expect, &mut failures);

    let detuned = wet(&demo::render_variant(Variant {
        transpose: 1,
        ..Variant::default()
    }));
    let de = measure(&d, "detuned", &detuned);
    let t = qc::score(&reference, &de);
    let expect = Expect {
        drop: &["bass_pattern", "harmony"],
        noisy: &[(
            "kick_pattern",
            Some(NOISY_FLOOR),
            "the demo's bass attacks are as sharp as its kicks; the transposed ones do not \
             all reach the low-end detector's threshold",
        )],
    };
    check(&t, "a semitone up", &expect, &mut failures);

    let no_drums = wet(&demo::render_variant(Variant {
        no_drums: true,
        ..Variant::default()
    }));
    let t = qc::score(&reference, &measure(&d, "no-drums", &no_drums));
    let expect = Expect {
        // The drums entering in bar 3 are the demo's main rise in energy and its first
        // section boundary: without them the energy curve flattens and the intro merges
        // with the A section.
        drop: &[
            "spectral",
            "rms_sections",
            "kick_pattern",
            "energy_curve",
            "dynamic_range",
            "sections",
            "timbre",
        ],
        noisy: &[
            (
                "bass_pattern",
                Some(NOISY_FLOOR),
                "where a kick lands on a bass note's tail it masks the note's pitch class",
            ),
            (
                "reverb",
                None,
                "blind RT60 rests on the decays the mix holds: without the drums only the \
                 tones' own slow decays remain",
            ),
        ],
    };
    check(&t, "drums muted", &expect, &mut failures);
    let _ = std::fs::remove_dir_all(&d);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
