//! The Instrument, loaded from its CLAP binary in-process with clack-host: host MIDI, a
//! session's part in time with the transport, jumps and stops, parameters, state round trips
//! and reloading when the session changes on disk. Debug builds of the plugin abort on any
//! allocation inside `process` (`assert_process_allocs`), so every test here also checks that.

mod support;

use std::path::{Path, PathBuf};

use auralis_engine::render::{render, NoteSpec};
use auralis_engine::{Patch, Values, P};
use support::*;

const RATE: f64 = 48_000.0;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auralis-plugin-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("midi")).unwrap();
    dir
}

/// A lead patch from the bank with a short release (so tails do not blur the tests).
fn lead() -> Values {
    let preset = auralis_engine::bank::presets()
        .into_iter()
        .find(|p| p.role == "lead")
        .expect("a lead preset");
    let mut v = preset.patch.values().unwrap();
    v.set(P::AmpRelease, 30.0);
    v
}

/// Writes a session with one element `lead` playing `notes` with `values`, atomically.
fn write_session(dir: &Path, values: &Values, notes: &[(f64, f64, u8, u8)]) {
    std::fs::write(dir.join("midi/lead.mid"), midi_file(notes)).unwrap();
    let doc = serde_json::json!({
        "schema": "auralis.session/1",
        "elements": [{
            "name": "lead",
            "role": "lead",
            "midi": "midi/lead.mid",
            "patch": Patch::from_values("test lead", values),
        }],
    });
    let tmp = dir.join("session.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::rename(&tmp, dir.join("session.json")).unwrap();
}

fn specs(notes: &[(f64, f64, u8, u8)]) -> Vec<NoteSpec> {
    let bytes = midi_file(notes);
    auralis_engine::smf::read_notes(&bytes)
        .unwrap()
        .iter()
        .map(|n| n.spec())
        .collect()
}

fn rms_db(x: &[f32]) -> f64 {
    let e: f64 = x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64;
    10.0 * (e + 1e-30).log10()
}

/// Fundamental by autocorrelation between 50 and 2000 Hz.
fn pitch_hz(x: &[f32], rate: f64) -> f64 {
    let (lo, hi) = ((rate / 2000.0) as usize, (rate / 50.0) as usize);
    let ac = |lag: usize| -> f64 {
        x.iter()
            .zip(&x[lag..])
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum()
    };
    let best = (lo..hi).max_by(|a, b| ac(*a).total_cmp(&ac(*b))).unwrap();
    // Parabolic refinement.
    let (y0, y1, y2) = (ac(best - 1), ac(best), ac(best + 1));
    let shift = 0.5 * (y0 - y2) / (y0 - 2.0 * y1 + y2);
    rate / (best as f64 + shift)
}

fn first_difference(a: &[f32], b: &[f32]) -> Option<(usize, f32, f32)> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x.to_bits() != y.to_bits())
        .map(|i| (i, a[i], b[i]))
}

#[test]
fn the_factory_describes_the_instrument() {
    let entry = entry();
    let factory = entry.get_plugin_factory().expect("a plugin factory");
    let ids: Vec<String> = factory
        .plugin_descriptors()
        .filter_map(|d| d.id().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    assert!(
        ids.contains(&"audio.auralis.instrument".to_string()),
        "{ids:?}"
    );
    let d = factory
        .plugin_descriptors()
        .find(|d| d.id() == Some(INSTRUMENT_ID))
        .unwrap();
    assert_eq!(d.name().unwrap().to_str().unwrap(), "AURALIS Instrument");
}

#[test]
fn host_midi_plays_in_tune_sample_accurately_as_the_engine_renders() {
    let entry = entry();
    let mut plugin = instance(&entry, INSTRUMENT_ID);
    // No session: the default patch. Notes from the host; A4 from sample 10 to 24_000.
    let total = 36_000;
    let mut blocks = Vec::new();
    for b in 0..total / 64 {
        let mut block = Block {
            len: 64,
            ..Block::default()
        };
        if b == 0 {
            block.params.push((0, param_id("source"), 1.0)); // Host MIDI
            block.notes.push((10, 69, Some(0.8)));
        }
        if b == 24_000 / 64 {
            block.notes.push((0, 69, None));
        }
        blocks.push(block);
    }
    let [l, r] = play(&mut plugin, RATE, 64, &blocks);
    let want = render(
        &Values::default(),
        &[NoteSpec {
            start_s: 10.0 / RATE,
            end_s: 24_000.0 / RATE,
            pitch: 69,
            velocity: 0.8,
        }],
        RATE as f32,
        total,
    );
    assert_eq!(first_difference(&l, &want[0]), None);
    assert_eq!(first_difference(&r, &want[1]), None);
    assert!(l[..10].iter().all(|x| *x == 0.0), "sound before the note");
    let f = pitch_hz(&l[4_800..14_400], RATE);
    assert!((f - 440.0).abs() < 2.0, "pitch {f:.2} Hz");
    let level = rms_db(&l[4_800..14_400]);
    assert!(level > -40.0 && level < 0.0, "level {level:.1} dBFS");
    assert!(rms_db(&l[30_000..]) < -100.0, "no release to silence");
}

#[test]
fn the_session_part_plays_with_the_transport_exactly_as_the_engine_renders_it() {
    let dir = scratch("transport");
    let values = lead();
    let notes = [
        (0.1, 0.3, 57, 100),
        (0.35, 0.6, 60, 80),
        (0.5, 0.9, 64, 110),
        (1.0, 1.2, 69, 90),
    ];
    write_session(&dir, &values, &notes);
    let total = (1.4 * RATE) as usize;
    let want = render(&values, &specs(&notes), RATE as f32, total);
    let entry = entry();
    let mut plugin = instance(&entry, INSTRUMENT_ID);
    choose(&mut plugin, &dir, "lead");
    // Blocks of 64, and of irregular sizes: the same samples.
    for sizes in [vec![64usize], vec![37, 64, 1, 5, 13]] {
        let mut blocks = Vec::new();
        let mut at = 0usize;
        let mut k = 0;
        while at < total {
            let len = sizes[k % sizes.len()].min(total - at);
            blocks.push(Block {
                len,
                transport: Some((at as i64, 120.0)),
                ..Block::default()
            });
            at += len;
            k += 1;
        }
        let [l, r] = play(&mut plugin, RATE, 64, &blocks);
        assert_eq!(first_difference(&l, &want[0]), None, "blocks {sizes:?}");
        assert_eq!(first_difference(&r, &want[1]), None, "blocks {sizes:?}");
    }
    let f = pitch_hz(
        &want[0][(0.15 * RATE) as usize..(0.28 * RATE) as usize],
        RATE,
    );
    assert!((f - 220.0).abs() < 1.5, "A3 plays at {f:.2} Hz");

    // Stopped, then started again from zero within the same activation: the same samples.
    let mut blocks = playing(0, 24_000, 64, 120.0);
    blocks.extend((0..100).map(|_| Block {
        len: 64,
        ..Block::default()
    }));
    blocks.extend(playing(0, 24_000, 64, 120.0));
    let [l, _] = play(&mut plugin, RATE, 64, &blocks);
    let second = &l[24_000 + 6_400..];
    assert_eq!(first_difference(&l[..24_000], &want[0][..24_000]), None);
    assert_eq!(first_difference(second, &want[0][..24_000]), None);
    // The stop released the held note: silence by the end of the stopped stretch.
    assert!(rms_db(&l[24_000 + 4_800..24_000 + 6_400]) < -90.0);
}

#[test]
fn jumps_and_loops_release_held_notes_and_play_from_the_new_position() {
    let dir = scratch("jumps");
    let values = lead();
    // A3 0.1–0.3 s, E4 0.5–0.9 s.
    let notes = [(0.1, 0.3, 57, 100), (0.5, 0.9, 64, 100)];
    write_session(&dir, &values, &notes);
    let entry = entry();
    let mut plugin = instance(&entry, INSTRUMENT_ID);
    choose(&mut plugin, &dir, "lead");
    // Play 0–0.6 s (E4 sounding), loop back to 0 and play 0.6 s again.
    let n = (0.6 * RATE) as usize;
    let mut blocks = playing(0, n, 64, 120.0);
    blocks.extend(playing(0, n, 64, 120.0));
    let [l, _] = play(&mut plugin, RATE, 64, &blocks);
    let s = |a: f64, b: f64| ((a * RATE) as usize, (b * RATE) as usize);
    let (a, b) = s(0.15, 0.28);
    // The jump released E4 (30 ms release): silence before A3 strikes again.
    let (q0, q1) = s(0.05, 0.095);
    assert!(
        rms_db(&l[n + q0..n + q1]) < -90.0,
        "E4 still sounds after the loop"
    );
    let (first, second) = (rms_db(&l[a..b]), rms_db(&l[n + a..n + b]));
    assert!((first - second).abs() < 0.5, "{first:.2} vs {second:.2} dB");
    let f = pitch_hz(&l[n + a..n + b], RATE);
    assert!((f - 220.0).abs() < 1.5, "{f:.2} Hz after the loop");

    // A jump (within one activation) from 0.3 s into the middle of E4 does not strike it:
    // after A3's release, silence.
    let mut blocks = playing(0, (0.3 * RATE) as usize, 64, 120.0);
    blocks.extend(playing((0.6 * RATE) as i64, 9_600, 64, 120.0));
    let [l, _] = play(&mut plugin, RATE, 64, &blocks);
    let after = (0.3 * RATE) as usize + 4_800;
    let level = rms_db(&l[after..]);
    assert!(
        level < -90.0,
        "a note struck before the position: {level:.1} dB"
    );
}

/// Host notes held when the plugin is switched to the session's notes are released.
#[test]
fn switching_off_host_notes_releases_them() {
    let entry = entry();
    let mut plugin = instance(&entry, INSTRUMENT_ID);
    let mut blocks: Vec<Block> = (0..300)
        .map(|_| Block {
            len: 64,
            ..Block::default()
        })
        .collect();
    blocks[0].params.push((0, param_id("source"), 1.0)); // Host MIDI
    blocks[0].notes.push((0, 60, Some(1.0)));
    blocks[0].notes.push((5, 64, Some(1.0)));
    blocks[100].params.push((0, param_id("source"), 0.0)); // Session: no note-offs sent
    let [l, _] = play(&mut plugin, RATE, 64, &blocks);
    assert!(rms_db(&l[3_200..6_400]) > -40.0, "the host notes play");
    assert!(
        rms_db(&l[64 * 200..]) < -100.0,
        "host notes hang after the switch"
    );
}

#[test]
fn host_tempo_timeline_follows_the_host_tempo() {
    let dir = scratch("tempo");
    let values = lead();
    // A4 on beat 2 (1.0 s at the file's 120 BPM).
    write_session(&dir, &values, &[(1.0, 1.2, 69, 100)]);
    let entry = entry();
    let mut plugin = instance(&entry, INSTRUMENT_ID);
    choose(&mut plugin, &dir, "lead");
    // At 240 BPM beat 2 comes at 0.5 s.
    let mut blocks = playing(0, (0.8 * RATE) as usize, 64, 240.0);
    blocks[0].params.push((0, param_id("sync"), 1.0)); // Host tempo
    let [l, _] = play(&mut plugin, RATE, 64, &blocks);
    let onset = l
        .iter()
        .position(|x| x.abs() > 1e-4)
        .expect("the note plays");
    let at = onset as f64 / RATE;
    assert!((at - 0.5).abs() < 0.003, "onset at {at:.4} s");
}

#[test]
fn parameters_move_the_patch_and_the_state_restores_the_same_sound() {
    let dir = scratch("state");
    let values = lead();
    let notes = [(0.05, 0.4, 60, 100), (0.2, 0.5, 67, 100)];
    write_session(&dir, &values, &notes);
    let entry = entry();
    let mut a = instance(&entry, INSTRUMENT_ID);
    choose(&mut a, &dir, "lead");
    // Cutoff down two octaves, output −6 dB (CLAP values are normalised).
    let set = vec![
        (0u32, param_id("cutoff"), (-2.0 + 6.0) / 12.0),
        (0u32, param_id("gain"), (-6.0 + 36.0) / 48.0),
    ];
    let mut first = playing(0, 64, 64, 120.0);
    first[0].params = set;
    play(&mut a, RATE, 64, &first);

    let total = 28_800;
    let [la, ra] = play(&mut a, RATE, 64, &playing(0, total, 64, 120.0));
    let plain = render(&values, &specs(&notes), RATE as f32, total);
    let moved = rms_db(&la[4_800..19_200]);
    let unmoved = rms_db(&plain[0][4_800..19_200]);
    assert!(
        moved < unmoved - 6.5,
        "cutoff and gain moved {unmoved:.1} → {moved:.1} dB"
    );

    let state = save(&mut a);
    let json = state_json(&state);
    assert!(json["fields"]["session"].as_str().unwrap().contains("lead"));
    let mut b = instance(&entry, INSTRUMENT_ID);
    load(&mut b, &state);
    let [lb, rb] = play(&mut b, RATE, 64, &playing(0, total, 64, 120.0));
    assert_eq!(first_difference(&la, &lb), None);
    assert_eq!(first_difference(&ra, &rb), None);
    // And B saves what it loaded.
    assert_eq!(state_json(&save(&mut b)), json);
}

#[test]
fn a_session_rewritten_on_disk_is_reloaded_while_playing() {
    let dir = scratch("reload");
    let mut values = lead();
    // A note every 100 ms.
    let notes: Vec<(f64, f64, u8, u8)> = (0..40)
        .map(|i| (0.1 * i as f64, 0.1 * i as f64 + 0.05, 60, 100))
        .collect();
    write_session(&dir, &values, &notes);
    let entry = entry();
    let mut plugin = instance(&entry, INSTRUMENT_ID);
    choose(&mut plugin, &dir, "lead");
    let total = (3.9 * RATE) as usize;
    let blocks = playing(0, total, 64, 120.0);
    let rewrite_at = 1_000; // block index (1.33 s)
    values.set(P::Level, values.get(P::Level) - 20.0);
    let config = (dir.clone(), values, notes.clone());
    let [l, _] = play_with(&mut plugin, RATE, 64, &blocks, &mut |i| {
        if i == rewrite_at {
            write_session(&config.0, &config.1, &config.2);
        }
        if i > rewrite_at {
            // Give the loader (it looks four times a second) real time to notice.
            std::thread::sleep(std::time::Duration::from_micros(600));
        }
    });
    let before = rms_db(&l[..(1.2 * RATE) as usize]);
    let after = rms_db(&l[(3.0 * RATE) as usize..]);
    assert!(
        (before - after - 20.0).abs() < 1.0,
        "{before:.1} dB before, {after:.1} dB after the rewrite"
    );
}

/// The main job's session: every element the analyzer rendered plays in the plugin, transport
/// from zero at the render's rate, sample for sample as `render/<element>.wav`.
#[test]
fn an_analyzer_session_plays_sample_for_sample_as_the_analyzers_render() {
    let dir = scratch("analyzer");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "run",
            "--quiet",
            "-p",
            "auralis-analyzer",
            "--bin",
            "auralis",
            "--",
        ])
        .args([
            "reconstruct",
            "--progress",
            "none",
            "--fit-seconds",
            "2",
            "-o",
        ])
        .arg(&dir)
        .output()
        .expect("running auralis reconstruct");
    assert!(
        out.status.success(),
        "auralis reconstruct failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("session.json")).unwrap()).unwrap();
    let entry = entry();
    let mut checked = 0;
    for e in session["elements"].as_array().unwrap() {
        let Some(render) = e["render"].as_str() else {
            continue;
        };
        let name = e["name"].as_str().unwrap();
        let mut wav = hound::WavReader::open(dir.join(render)).unwrap();
        let rate = wav.spec().sample_rate as f64;
        let samples: Vec<f32> = wav.samples::<f32>().map(|s| s.unwrap()).collect();
        let want: [Vec<f32>; 2] = [
            samples.iter().step_by(2).copied().collect(),
            samples.iter().skip(1).step_by(2).copied().collect(),
        ];
        let mut plugin = instance(&entry, INSTRUMENT_ID);
        choose(&mut plugin, &dir, name);
        let [l, r] = play(&mut plugin, rate, 64, &playing(0, want[0].len(), 64, 120.0));
        assert_eq!(first_difference(&l, &want[0]), None, "{name}, left");
        assert_eq!(first_difference(&r, &want[1]), None, "{name}, right");
        assert!(rms_db(&l) > -60.0, "{name}: silent");
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} elements rendered");

    // The DAW project `auralis export` writes loads into the plugins: every state it holds
    // is accepted as it is and names what it should.
    let project = dir.join("project.dawproject");
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "run",
            "--quiet",
            "-p",
            "auralis-analyzer",
            "--bin",
            "auralis",
            "--",
        ])
        .arg("export")
        .arg(&dir)
        .arg("-o")
        .arg(&project)
        .output()
        .expect("running auralis export");
    assert!(
        out.status.success(),
        "auralis export failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&project).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(String::from).collect();
    let mut loaded = 0;
    for name in names.iter().filter(|n| n.ends_with(".clap-state")) {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut zip.by_name(name).unwrap(), &mut bytes).unwrap();
        let id = if name.ends_with("-instrument.clap-state") {
            INSTRUMENT_ID
        } else if name.ends_with("-console.clap-state") {
            CONSOLE_ID
        } else {
            c"audio.auralis.ab"
        };
        let mut plugin = instance(&entry, id);
        load(&mut plugin, &bytes);
        let saved = state_json(&save(&mut plugin));
        let written = state_json(&bytes);
        let session_of = |j: &serde_json::Value| -> serde_json::Value {
            serde_json::from_str(j["fields"]["session"].as_str().unwrap()).unwrap()
        };
        assert_eq!(session_of(&saved), session_of(&written), "{name}");
        if id == INSTRUMENT_ID {
            assert_eq!(
                saved["params"]["source"],
                serde_json::json!({"string": "host"})
            );
        }
        loaded += 1;
    }
    assert_eq!(
        loaded,
        2 * session["elements"].as_array().unwrap().len() + 2
    );
}
