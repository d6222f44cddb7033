//! The neural separation backend end to end, through ONNX Runtime, with a test model of our
//! own (`tests/data/gain4-separator.onnx`, built by `tools/make_test_separator.py`): four stems
//! that are fixed gains of the input. The track is longer than several chunks, so any seam left
//! by chunking and overlap-add shows up as an error against the exact answer.
//!
//! Needs the model cache (`cargo xtask models`, which `.ci/run` runs first).

use std::path::{Path, PathBuf};

use auralis::models::{sha256_hex, Device, Store};
use auralis::separate::neural::NeuralSeparator;
use auralis::separate::{sdr, Audio, Guide, MemorySink, Separator};

fn test_cache(tag: &str) -> PathBuf {
    let real = Store::open(None);
    let lib = real
        .file("onnxruntime")
        .expect("ONNX Runtime is installed in the model cache (run `cargo xtask models`)");
    let dir = std::env::temp_dir().join(format!("auralis-neural-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&lib, dir.join("libonnxruntime.so")).unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gain4-separator.onnx");
    std::fs::copy(&model, dir.join("gain4.onnx")).unwrap();
    let manifest = format!(
        r#"name = "gain4"
task = "separation"
file = "gain4.onnx"
sha256 = "{}"
sample_rate = 44100
channels = 2
chunk = 44100
overlap = 4410
stems = ["drums", "bass", "vocals", "other"]
[source]
path = "gain4.onnx"
[[inputs]]
name = "audio"
shape = [1, 2, -1]
[[outputs]]
name = "stems"
role = "stems"
shape = [1, 4, 2, -1]
"#,
        sha256_hex(&model).unwrap()
    );
    std::fs::write(dir.join("gain4.toml"), manifest).unwrap();
    dir
}

fn signal(rate: u32, seconds: f64) -> Audio {
    let n = (rate as f64 * seconds) as usize;
    let mut seed = 7u32;
    let samples = (0..n * 2)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let t = (i / 2) as f32 / rate as f32;
            0.3 * (2.0 * std::f32::consts::PI * 330.0 * t).sin() + 0.2 * noise
        })
        .collect();
    Audio { rate, samples }
}

#[test]
fn chunked_inference_has_no_seams() {
    let dir = test_cache("seams");
    let store = Store::open(Some(&dir));
    assert_eq!(NeuralSeparator::installed(&store).as_deref(), Some("gain4"));
    let mut sep = NeuralSeparator::load(&store, "gain4", Device::Cpu).unwrap();
    assert_eq!(sep.device(), "cpu");
    assert_eq!(sep.stems(), ["drums", "bass", "vocals", "other"]);
    // 5.3 chunks' worth, so there are several chunk boundaries and a ragged end.
    let audio = signal(44_100, 5.3);
    let mut sink = MemorySink::default();
    sep.separate(&audio, &Guide::default(), &mut sink, &mut |_| {})
        .unwrap();
    for (s, gain) in [0.1f32, 0.2, 0.3, 0.4].iter().enumerate() {
        let expect: Vec<f32> = audio.samples.iter().map(|x| x * gain).collect();
        let got = &sink.stems[s];
        assert_eq!(got.len(), expect.len());
        let d = sdr(&expect, got);
        assert!(d >= 80.0, "stem {s}: {d:.1} dB from the exact answer");
    }
    // Resampled path: a 48 kHz track through the 44.1 kHz model still adds up to the mix.
    let audio = signal(48_000, 2.5);
    let mut sink = MemorySink::default();
    sep.separate(&audio, &Guide::default(), &mut sink, &mut |_| {})
        .unwrap();
    let sum: Vec<f32> = (0..audio.samples.len())
        .map(|i| sink.stems.iter().map(|s| s[i]).sum())
        .collect();
    assert!(sdr(&audio.samples, &sum) > 80.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_model_is_reported_not_loaded() {
    let dir = test_cache("corrupt");
    std::fs::write(dir.join("gain4.onnx"), b"definitely not onnx").unwrap();
    let store = Store::open(Some(&dir));
    let e = NeuralSeparator::load(&store, "gain4", Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("corrupt"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
