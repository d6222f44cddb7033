//! CPU load of the Instrument as a host sees it: the bundled release binary loaded with
//! clack-host, 16 held notes at 48 kHz in 64-sample blocks, one preset of the bank at a time.
//!
//! ```sh
//! cargo xtask bundle auralis-plugin --release
//! cargo run --release -p auralis-plugin --example cpu [-- PLUGIN.clap [PRESET ... | --all]]
//! ```
//! Prints the share of one core per preset (wall time of `process` over audio time).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::Instant;

use support::*;

const RATE: f64 = 48_000.0;
const BLOCK: usize = 64;
const SECONDS: f64 = 10.0;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bundled/AURALIS.clap"));
    let mut presets: Vec<String> = args.collect();
    let bank = auralis_engine::bank::presets();
    if presets == ["--all"] {
        presets = bank.iter().map(|p| p.name.clone()).collect();
    } else if presets.is_empty() {
        presets = ["Saw lead warm", "Pad lush", "Saw lead supersaw"]
            .map(String::from)
            .to_vec();
    }
    let entry = entry_at(&path);
    let mut shares = Vec::new();
    let dir = std::env::temp_dir().join(format!("auralis-cpu-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("midi")).unwrap();
    // The issue's benchmark voice: one saw through the low-pass filter, played polyphonically.
    let mut saw = auralis_engine::Values::default();
    saw.set(auralis_engine::P::FilterCutoff, 1200.0);
    saw.set(auralis_engine::P::FilterResonance, 0.3);
    let saw = auralis_engine::bank::Preset {
        name: "saw + low-pass".into(),
        role: "lead".into(),
        family: String::new(),
        tags: Vec::new(),
        patch: auralis_engine::Patch::from_values("saw + low-pass", &saw),
    };
    for name in std::iter::once(&saw.name).chain(&presets) {
        let preset = std::iter::once(&saw)
            .chain(&bank)
            .find(|p| &p.name == name)
            .unwrap_or_else(|| panic!("no preset {name:?}"));
        // 16 notes struck at once and held: an element of the session, played by the transport.
        let notes: Vec<(f64, f64, u8, u8)> = (0..16)
            .map(|i| (0.0, SECONDS, 36 + 3 * i as u8, 100))
            .collect();
        std::fs::write(dir.join("midi/part.mid"), midi_file(&notes)).unwrap();
        let doc = serde_json::json!({
            "schema": "auralis.session/1",
            "elements": [{"name": "part", "role": preset.role, "midi": "midi/part.mid",
                          "patch": preset.patch}],
        });
        std::fs::write(dir.join("session.json"), doc.to_string()).unwrap();
        let mut plugin = instance(&entry, INSTRUMENT_ID);
        choose(&mut plugin, &dir, "part");
        let blocks = playing(0, (SECONDS * RATE) as usize, BLOCK, 120.0);
        let started = Instant::now();
        let [l, _] = play(&mut plugin, RATE, BLOCK as u32, &blocks);
        let wall = started.elapsed().as_secs_f64();
        let peak = l.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        if name != &saw.name {
            shares.push(100.0 * wall / SECONDS);
        }
        println!(
            "{name:>20}: {:.2} % of one core (16 voices, {RATE} Hz, {BLOCK}-sample blocks; peak {peak:.2})",
            100.0 * wall / SECONDS
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    shares.sort_by(f64::total_cmp);
    if shares.len() > 3 {
        println!(
            "{} presets: median {:.2} %, 90th percentile {:.2} %, max {:.2} % of one core",
            shares.len(),
            shares[shares.len() / 2],
            shares[shares.len() * 9 / 10],
            shares[shares.len() - 1]
        );
    }
}
