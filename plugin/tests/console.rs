//! The Console, loaded from its CLAP binary in-process with clack-host: an element's chain and
//! the master chain from a session play as the engine runs them (in any block size), the
//! master's look-ahead is reported as latency, the sidechain input triggers the pump, and the
//! parameters are smoothed. Debug builds abort on any allocation inside `process`
//! (`assert_process_allocs`), so every test here also checks that.

mod support;

use std::path::{Path, PathBuf};

use auralis_engine::fx::dynamics::PumpSettings;
use auralis_engine::fx::eq::{Band, BandKind};
use auralis_engine::fx::limiter::LimiterSettings;
use auralis_engine::fx::master::{Master, MasterSettings};
use auralis_engine::fx::stereo::StereoSettings;
use auralis_engine::fx::{Chain, ChainReverb, ChainSettings};
use clack_extensions::latency::PluginLatency;
use support::*;

const RATE: f64 = 48_000.0;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auralis-console-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A session with one element `pad` whose mix chain is `chain`, and the master chain `master`.
fn write_session(dir: &Path, chain: &ChainSettings, master: &MasterSettings) {
    let doc = serde_json::json!({
        "schema": "auralis.session/1",
        "tempo": {"bpm": 120.0},
        "elements": [{"name": "pad", "role": "keys", "mix_chain": chain}],
        "master": {"chain": master, "report": {}},
    });
    let tmp = dir.join("session.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::rename(&tmp, dir.join("session.json")).unwrap();
}

/// Two seconds of stereo noise in bursts.
fn input(seconds: f64) -> [Vec<f32>; 2] {
    let n = (seconds * RATE) as usize;
    let mut s = 12345u32;
    let mut noise = || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let mut l = Vec::with_capacity(n);
    let mut r = Vec::with_capacity(n);
    for i in 0..n {
        let on = (i / 6000) % 3 != 2;
        let a = if on { 0.6 } else { 0.0 };
        let x = noise();
        l.push(a * x);
        r.push(a * (0.6 * x + 0.4 * noise()));
    }
    [l, r]
}

/// Blocks of varied lengths covering `total` frames.
fn blocks(total: usize) -> Vec<(usize, Vec<(clack_host::prelude::ClapId, f64)>)> {
    let sizes = [64usize, 300, 512, 17, 480];
    let mut out = Vec::new();
    let mut at = 0;
    let mut k = 0;
    while at < total {
        let n = sizes[k % sizes.len()].min(total - at);
        out.push((n, Vec::new()));
        at += n;
        k += 1;
    }
    out
}

fn element_chain() -> ChainSettings {
    ChainSettings {
        eq: vec![
            Band {
                kind: BandKind::Peak,
                freq_hz: 1000.0,
                gain_db: 6.0,
                q: 1.0,
            },
            Band {
                kind: BandKind::HighPass,
                freq_hz: 80.0,
                gain_db: 0.0,
                q: 0.707,
            },
        ],
        stereo: StereoSettings {
            gain_db: -3.0,
            width: 1.3,
            pan: 0.2,
            ..Default::default()
        },
        reverb: Some(ChainReverb {
            level: 0.3,
            rt60_s: 1.2,
            predelay_ms: 10.0,
            damp_hz: 8000.0,
        }),
        ..Default::default()
    }
}

fn master_chain() -> MasterSettings {
    MasterSettings {
        mid_eq: vec![Band {
            kind: BandKind::LowShelf,
            freq_hz: 200.0,
            gain_db: 3.0,
            q: 0.707,
        }],
        side_eq: vec![Band {
            kind: BandKind::HighShelf,
            freq_hz: 6000.0,
            gain_db: 2.0,
            q: 0.707,
        }],
        side_gain_db: -1.5,
        gain_db: 6.0,
        trim_db: -0.02,
        limiter: LimiterSettings {
            ceiling_db: -1.0,
            input_gain_db: 0.0,
            ..Default::default()
        },
    }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn an_elements_chain_plays_as_the_engine_runs_it() {
    let dir = scratch("element");
    write_session(&dir, &element_chain(), &master_chain());
    let [l, r] = input(2.0);
    let entry = entry();
    let mut console = instance(&entry, CONSOLE_ID);
    choose(&mut console, &dir, "pad");
    let out = play_effect(&mut console, RATE, [&l, &r], None, &blocks(l.len()), 120.0);

    let mut chain = Chain::default();
    chain.set(&element_chain());
    chain.allocate(RATE as f32);
    chain.set_tempo(120.0);
    let (mut el, mut er) = (l.clone(), r.clone());
    for (a, b) in el.chunks_mut(512).zip(er.chunks_mut(512)) {
        chain.process(a, b, None);
    }
    assert!(max_diff(&out[0], &el) < 1e-6 && max_diff(&out[1], &er) < 1e-6);
    // And it did something: the chain is not a pass-through.
    assert!(max_diff(&out[0], &l) > 0.05);
}

#[test]
fn the_master_chain_plays_with_its_look_ahead_reported() {
    let dir = scratch("master");
    write_session(&dir, &element_chain(), &master_chain());
    let [l, r] = input(2.0);
    let entry = entry();
    let mut console = instance(&entry, CONSOLE_ID);
    choose(&mut console, &dir, "master");
    let out = play_effect(&mut console, RATE, [&l, &r], None, &blocks(l.len()), 120.0);

    let mut m = Master::default();
    m.allocate(RATE as f32);
    m.set(&master_chain());
    let (mut el, mut er) = (l.clone(), r.clone());
    for (a, b) in el.chunks_mut(256).zip(er.chunks_mut(256)) {
        m.process(a, b);
    }
    assert!(max_diff(&out[0], &el) < 1e-6 && max_diff(&out[1], &er) < 1e-6);
    // Limited: nothing over the ceiling (plus the limiter's own true-peak margin).
    let peak = out[0]
        .iter()
        .chain(&out[1])
        .fold(0.0f32, |a, x| a.max(x.abs()));
    assert!(peak <= 10f32.powf(-1.0 / 20.0) * 1.001, "{peak}");

    // The host hears of the look-ahead (after activation, as hosts ask).
    let config = clack_host::prelude::PluginAudioConfiguration {
        sample_rate: RATE,
        min_frames_count: 1,
        max_frames_count: 512,
    };
    let stopped = console.activate(|_, _| (), config).unwrap();
    let handle = console.plugin_handle();
    let latency: PluginLatency = handle.get_extension().expect("latency extension");
    let handle = console.plugin_handle();
    assert_eq!(latency.get(&handle) as usize, m.latency());
    assert!(m.latency() > 0);
    console.deactivate(stopped);
}

#[test]
fn the_sidechain_triggers_the_pump() {
    let dir = scratch("pump");
    let chain = ChainSettings {
        pump: Some(PumpSettings {
            depth_db: 12.0,
            release_ms: 200.0,
            ..Default::default()
        }),
        ..Default::default()
    };
    write_session(&dir, &chain, &master_chain());
    let n = (2.0 * RATE) as usize;
    // A steady tone in; a click every half second on the sidechain.
    let tone: Vec<f32> = (0..n)
        .map(|i| 0.5 * (i as f32 * 440.0 * std::f32::consts::TAU / RATE as f32).sin())
        .collect();
    let mut kick = vec![0.0f32; n];
    let every = (0.5 * RATE) as usize;
    for k in (every / 2..n).step_by(every) {
        for (j, x) in kick[k..(k + 480).min(n)].iter_mut().enumerate() {
            *x = 0.9 * (1.0 - j as f32 / 480.0);
        }
    }
    let entry = entry();
    let mut console = instance(&entry, CONSOLE_ID);
    choose(&mut console, &dir, "pad");
    let keyed = play_effect(
        &mut console,
        RATE,
        [&tone, &tone],
        Some([&kick, &kick]),
        &blocks(n),
        120.0,
    );
    let unkeyed = play_effect(&mut console, RATE, [&tone, &tone], None, &blocks(n), 120.0);
    let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    let db = |x: &[f32]| 20.0 * rms(x).max(1e-9).log10();
    // 20 ms after each kick the tone is well down; just before the next it is back.
    for k in (every / 2..n - every).step_by(every) {
        let dip = db(&keyed[0][k + 480..k + 1440]);
        let before = db(&keyed[0][k + every - 1440..k + every - 480]);
        assert!(
            dip < before - 6.0,
            "at {k}: dip {dip:.1} dB, before {before:.1} dB"
        );
    }
    // Without a sidechain nothing triggers it.
    assert!((db(&unkeyed[0]) - db(&tone)).abs() < 0.1);
}

#[test]
fn gain_and_width_moves_are_smoothed() {
    // Nothing chosen: the sound passes through, so the output over the input is the gain.
    let entry = entry();
    let mut console = instance(&entry, CONSOLE_ID);
    let n = (0.5 * RATE) as usize;
    let dc = vec![0.5f32; n];
    let mut b = blocks(n);
    // Normalised: −12 dB of −24…24.
    b[10].1.push((param_id("output"), 0.25));
    let at: usize = b[..10].iter().map(|x| x.0).sum();
    let out = play_effect(&mut console, RATE, [&dc, &dc], None, &b, 120.0);
    let gain_db: Vec<f32> = out[0].iter().map(|x| 20.0 * (x / 0.5).log10()).collect();
    assert!(gain_db[..at].iter().all(|g| g.abs() < 1e-4));
    let steps = gain_db
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(steps < 0.05, "a step of {steps} dB");
    let settled = at + (0.025 * RATE) as usize;
    assert!(gain_db[settled..].iter().all(|g| (g + 12.0).abs() < 0.01));

    // Width 0 folds the sound to mono, smoothly (a new instance: the output gain stays).
    let mut console = instance(&entry, CONSOLE_ID);
    let l: Vec<f32> = vec![0.5; n];
    let r: Vec<f32> = vec![-0.1; n];
    let mut b = blocks(n);
    b[4].1.push((param_id("width"), 0.0));
    let at: usize = b[..4].iter().map(|x| x.0).sum();
    let out = play_effect(&mut console, RATE, [&l, &r], None, &b, 120.0);
    let side: Vec<f32> = out[0]
        .iter()
        .zip(&out[1])
        .map(|(a, b)| 0.5 * (a - b))
        .collect();
    assert!((side[at - 1] - 0.3).abs() < 1e-6);
    let steps = side
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(steps < 0.001, "{steps}");
    assert!(side[at + (0.025 * RATE) as usize..]
        .iter()
        .all(|s| s.abs() < 1e-6));
}
