//! CPU load of the A/B as a host sees it: the bundled release binary loaded with clack-host,
//! streaming a 60 s original at 48 kHz in 64-sample blocks, with B on (the original heard,
//! matched in loudness, all meters running), paced at twice real time so the disk reader works
//! as it would in a session.
//!
//! ```sh
//! cargo xtask bundle auralis-plugin --release
//! cargo run --release -p auralis-plugin --example ab_cpu [-- PLUGIN.clap]
//! ```
//! Prints the share of one core spent in `process` (time inside the host's process calls over
//! audio time) and the frames the stream missed.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::*;

const RATE: u32 = 48_000;
const BLOCK: usize = 64;
const SECONDS: f64 = 20.0;

fn main() {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bundled/AURALIS.clap"));
    let dir = std::env::temp_dir().join(format!("auralis-ab-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = 60 * RATE as usize;
    let mut s = 1u32;
    let mut noise = || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let x: [Vec<f32>; 2] = [
        (0..n).map(|_| 0.3 * noise()).collect(),
        (0..n).map(|_| 0.3 * noise()).collect(),
    ];
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(dir.join("original.wav"), spec).unwrap();
    for (a, b) in x[0].iter().zip(&x[1]) {
        w.write_sample(*a).unwrap();
        w.write_sample(*b).unwrap();
    }
    w.finalize().unwrap();
    let doc = serde_json::json!({
        "schema": "auralis.session/1",
        "source": {"original": "original.wav"},
        "elements": [],
    });
    std::fs::write(dir.join("session.json"), doc.to_string()).unwrap();

    let entry = entry_at(&path);
    // AURALIS_AB_CPU_BASELINE=1: the Console with nothing loaded (a pass-through) instead, for
    // what the host loop and an empty plugin cost on this machine.
    let baseline = std::env::var_os("AURALIS_AB_CPU_BASELINE").is_some();
    let id = if baseline {
        c"audio.auralis.console"
    } else {
        c"audio.auralis.ab"
    };
    let mut p = instance(&entry, id);
    let mut state = state_json(&save(&mut p));
    state["fields"]["session"] = serde_json::Value::String(
        serde_json::json!({"path": dir.to_str().unwrap(), "element": "original"}).to_string(),
    );
    state["params"]["ab"] = serde_json::json!({"bool": true});
    if !baseline {
        load(&mut p, &state_bytes(&state));
    }

    let frames = (SECONDS * f64::from(RATE)) as usize;
    let blocks: Vec<EffectBlock> = (0..frames / BLOCK)
        .map(|i| EffectBlock {
            len: BLOCK,
            params: Vec::new(),
            transport: HostTransport {
                pos: (i * BLOCK) as i64,
                tempo: 120.0,
                playing: true,
                looping: None,
            },
        })
        .collect();
    // AURALIS_AB_CPU_UNPACED=1: back to back (the cost with warm caches).
    let pace = if std::env::var_os("AURALIS_AB_CPU_UNPACED").is_some() {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(BLOCK as f64 / f64::from(RATE) / 2.0)
    };
    let mut busy = Duration::ZERO;
    let mut last: Option<Instant> = None;
    let mix = [x[1][..frames].to_vec(), x[0][..frames].to_vec()];
    let out = run_effect(
        &mut p,
        f64::from(RATE),
        [&mix[0], &mix[1]],
        baseline,
        None,
        &blocks,
        &mut |_| {
            if let Some(t) = last {
                busy += t.elapsed();
            }
            if !pace.is_zero() {
                std::thread::sleep(pace);
            }
            last = Some(Instant::now());
        },
    );
    let missed = (0..frames)
        .filter(|&i| out[0][i] == 0.0 && x[0][i] != 0.0)
        .count();
    println!(
        "{}: {:.3} % of one core ({RATE} Hz, {BLOCK}-sample blocks, B on, loudness match and meters running); {missed} frames missed by the stream",
        if baseline { "baseline (pass-through)" } else { "A/B" },
        100.0 * busy.as_secs_f64() / SECONDS
    );
    let _ = std::fs::remove_dir_all(&dir);
}
