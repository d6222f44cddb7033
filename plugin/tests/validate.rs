//! A CLAP validation run over every AURALIS plugin (Instrument, Console, A/B), loaded from the
//! bundle in-process with clack-host, each on a session that gives it everything to do:
//!
//! - parameters: every one described with a name, a range holding its default, and text for
//!   its values that reads back;
//! - activation at 44.1, 48 and 96 kHz with blocks of at most 1, 64, 512 and 2048 frames, each
//!   played in blocks of random lengths with the parameters fuzzed (random values at random
//!   blocks), the transport playing, jumping, looping and stopping: the output stays finite and
//!   bounded (below 60 dBFS), and nothing allocates in `process` (debug builds abort: `assert_process_allocs`);
//! - state: saved after the fuzzing, loaded into a new instance, saved again: the same; and
//!   both instances then play the same blocks to the same samples.

mod support;

use std::ffi::CStr;
use std::path::{Path, PathBuf};

use auralis_engine::fx::master::MasterSettings;
use auralis_engine::fx::ChainSettings;
use auralis_engine::{Patch, Values};
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_host::prelude::*;
use support::*;

const AB_ID: &CStr = c"audio.auralis.ab";

/// A small random generator (the runs repeat exactly).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A session with one element (patch, MIDI, mix chain with a pump), a master chain and the
/// original.
fn session(dir: &Path) {
    std::fs::create_dir_all(dir.join("midi")).unwrap();
    let notes: Vec<(f64, f64, u8, u8)> = (0..24)
        .map(|i| {
            (
                i as f64 * 0.25,
                i as f64 * 0.25 + 0.4,
                48 + (i * 5 % 24) as u8,
                100,
            )
        })
        .collect();
    std::fs::write(dir.join("midi/lead.mid"), midi_file(&notes)).unwrap();
    let preset = auralis_engine::bank::presets()
        .into_iter()
        .find(|p| p.role == "lead")
        .unwrap();
    let values: Values = preset.patch.values().unwrap();
    let chain: ChainSettings = serde_json::from_value(serde_json::json!({
        "eq": [{"kind": "peak", "freq_hz": 1000.0, "gain_db": 3.0, "q": 1.0}],
        "stereo": {"gain_db": -1.0, "width": 1.2, "pan": 0.1, "drive_db": 3.0},
        "pump": {"depth_db": 6.0, "release_ms": 200.0},
    }))
    .expect("a mix chain");
    assert!(chain.pump.is_some());
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(dir.join("original.wav"), spec).unwrap();
    for i in 0..44_100 * 8 {
        let x = 0.3 * (i as f32 * 0.05).sin();
        w.write_sample(x).unwrap();
        w.write_sample(-x).unwrap();
    }
    w.finalize().unwrap();
    let doc = serde_json::json!({
        "schema": "auralis.session/1",
        "source": {"original": "original.wav"},
        "tempo": {"bpm": 120.0},
        "elements": [{
            "name": "lead", "role": "lead", "midi": "midi/lead.mid",
            "patch": Patch::from_values("validation lead", &values),
            "mix_chain": chain,
        }],
        "master": {"chain": MasterSettings::default(), "report": {}},
    });
    std::fs::write(
        dir.join("session.json"),
        serde_json::to_vec_pretty(&doc).unwrap(),
    )
    .unwrap();
}

/// The plugins and what each is pointed at.
fn plugins() -> [(&'static CStr, &'static str); 4] {
    [
        (INSTRUMENT_ID, "lead"),
        (CONSOLE_ID, "lead"),
        (CONSOLE_ID, "master"),
        (AB_ID, "original"),
    ]
}

/// Every parameter: (id, min, max).
fn check_params(p: &mut PluginInstance<Quiet>, what: &str) -> Vec<(ClapId, f64, f64)> {
    let handle = p.plugin_handle();
    let params: PluginParams = handle.get_extension().expect("params extension");
    let handle = p.plugin_handle();
    let n = params.count(&handle);
    assert!(n > 0, "{what}: no parameters");
    let mut out = Vec::new();
    let mut buf = ParamInfoBuffer::new();
    for i in 0..n {
        let info = params.get_info(&handle, i, &mut buf).expect("param info");
        let name = String::from_utf8_lossy(info.name).to_string();
        assert!(!name.is_empty(), "{what}: parameter {i} has no name");
        assert!(
            info.min_value < info.max_value,
            "{what}/{name}: empty range"
        );
        assert!(
            (info.min_value..=info.max_value).contains(&info.default_value),
            "{what}/{name}: default outside its range"
        );
        let (id, min, max) = (info.id, info.min_value, info.max_value);
        let value = params.get_value(&handle, id).expect("a value");
        assert!((min..=max).contains(&value), "{what}/{name}: value {value}");
        let mut text = [0u8; 256];
        let shown = params
            .value_to_text(&handle, id, value, &mut text)
            .unwrap_or_else(|_| panic!("{what}/{name}: no text for {value}"))
            .to_vec();
        let shown = std::ffi::CString::new(shown).unwrap();
        let back = params
            .text_to_value(&handle, id, &shown)
            .unwrap_or_else(|| panic!("{what}/{name}: {shown:?} does not read back"));
        assert!(
            (back - value).abs() <= 0.02 * (max - min),
            "{what}/{name}: {value} shown as {shown:?} reads back as {back}"
        );
        out.push((id, min, max));
    }
    out
}

/// Blocks of random lengths up to `max_block` covering `frames`, with fuzzed parameters and a
/// transport that plays, jumps, loops and stops.
fn fuzz_blocks(
    rng: &mut Rng,
    frames: usize,
    max_block: usize,
    rate: f64,
    params: &[(ClapId, f64, f64)],
) -> Vec<EffectBlock> {
    let mut out = Vec::new();
    let mut done = 0;
    let mut pos = 0i64;
    let mut looping = None;
    let mut playing = true;
    while done < frames {
        let len = (1 + rng.below(max_block as u64) as usize).min(frames - done);
        let mut changes = Vec::new();
        if !params.is_empty() && rng.below(8) == 0 {
            let &(id, min, max) = &params[rng.below(params.len() as u64) as usize];
            changes.push((id, min + (max - min) * rng.unit()));
        }
        match rng.below(40) {
            0 => pos = rng.below((6.0 * rate) as u64) as i64, // a jump
            1 => {
                let start = rng.below((4.0 * rate) as u64) as i64;
                looping = Some((start, start + (0.05 * rate) as i64 + rng.below(4096) as i64));
            }
            2 => looping = None,
            3 => playing = !playing,
            _ => {}
        }
        out.push(EffectBlock {
            len,
            params: changes,
            transport: HostTransport {
                pos,
                tempo: 120.0,
                playing,
                looping,
            },
        });
        if playing {
            pos += len as i64;
            if let Some((ls, le)) = looping {
                if pos >= le && le > ls {
                    pos = ls + (pos - le) % (le - ls);
                }
            }
        }
        done += len;
    }
    out
}

fn input(frames: usize) -> [Vec<f32>; 2] {
    let l: Vec<f32> = (0..frames)
        .map(|i| 0.4 * (i as f32 * 0.031).sin())
        .collect();
    let r: Vec<f32> = (0..frames)
        .map(|i| 0.4 * (i as f32 * 0.017).cos())
        .collect();
    [l, r]
}

fn offline(p: &mut PluginInstance<Quiet>) {
    let handle = p.plugin_handle();
    if let Some(render) = handle.get_extension::<PluginRender>() {
        let handle = p.plugin_handle();
        let _ = render.set(&handle, RenderMode::Offline);
    }
}

fn play_blocks(
    p: &mut PluginInstance<Quiet>,
    id: &CStr,
    rate: f64,
    blocks: &[EffectBlock],
) -> [Vec<f32>; 2] {
    let frames: usize = blocks.iter().map(|b| b.len).sum();
    if id == INSTRUMENT_ID {
        // No audio input: the host's blocks as an instrument gets them.
        let max = blocks.iter().map(|b| b.len).max().unwrap_or(1) as u32;
        let blocks: Vec<Block> = blocks
            .iter()
            .map(|b| Block {
                len: b.len,
                notes: Vec::new(),
                params: b.params.iter().map(|&(id, v)| (0, id, v)).collect(),
                transport: b
                    .transport
                    .playing
                    .then_some((b.transport.pos, b.transport.tempo)),
            })
            .collect();
        return play(p, rate, max, &blocks);
    }
    let [l, r] = input(frames);
    run_effect(
        p,
        rate,
        [&l, &r],
        id == CONSOLE_ID,
        Some([&r, &l]),
        blocks,
        &mut |_| {},
    )
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auralis-validate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_plugin_passes_activation_fuzzing_and_state_checks() {
    let dir = scratch();
    session(&dir);
    let entry = entry();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut runs = 0;
    for (id, element) in plugins() {
        let what = format!("{id:?} on {element}");
        let mut p = instance(&entry, id);
        choose(&mut p, &dir, element);
        let params = check_params(&mut p, &what);
        for rate in [44_100.0, 48_000.0, 96_000.0] {
            for max_block in [1usize, 64, 512, 2048] {
                let frames = if max_block == 1 {
                    3_000
                } else {
                    (rate * 1.5) as usize
                };
                let blocks = fuzz_blocks(&mut rng, frames, max_block, rate, &params);
                let out = play_blocks(&mut p, id, rate, &blocks);
                let worst = out.iter().flatten().fold(0.0f32, |m, x| {
                    if x.is_finite() {
                        m.max(x.abs())
                    } else {
                        f32::INFINITY
                    }
                });
                // Finite and bounded: the Console's input and output gains reach +24 dB each,
                // so a 0.4 input may leave at up to 100; an unstable filter runs to infinity.
                assert!(
                    worst < 1000.0,
                    "{what} at {rate} Hz, blocks up to {max_block}: peak {worst}"
                );
                runs += 1;
            }
        }
        // State after fuzzing, restored into a new instance: the same state, the same sound.
        let saved = save(&mut p);
        let mut q = instance(&entry, id);
        load(&mut q, &saved);
        assert_eq!(state_json(&save(&mut q)), state_json(&saved), "{what}");
        offline(&mut p);
        offline(&mut q);
        let mut steady = Rng(7);
        let blocks = fuzz_blocks(&mut steady, 48_000, 512, 48_000.0, &[]);
        let a = play_blocks(&mut p, id, 48_000.0, &blocks);
        let b = play_blocks(&mut q, id, 48_000.0, &blocks);
        assert!(a == b, "{what}: a restored instance plays differently");
        assert!(
            a.iter().flatten().any(|x| x.abs() > 1e-4),
            "{what}: silent, nothing was validated"
        );
    }
    println!("{runs} fuzzed activations over {} plugins", plugins().len());
    std::fs::remove_dir_all(&dir).ok();
}
