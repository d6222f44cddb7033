//! The A/B, loaded from its CLAP binary in-process with clack-host: the original plays at the
//! host's position sample for sample through loops (ending mid-block) and jumps, at the
//! file's rate and resampled to another; the switch is click-free; the original is turned to
//! the mix's loudness; the master's look-ahead is compensated; state round-trips; the
//! reported latency is zero. Debug builds abort on any allocation inside `process`
//! (`assert_process_allocs`), so every test here also checks that.

mod support;

use std::path::{Path, PathBuf};

use auralis_engine::fx::limiter::LimiterSettings;
use auralis_engine::fx::master::{Master, MasterSettings};
use clack_extensions::latency::PluginLatency;
use clack_extensions::render::{PluginRender, RenderMode};
use support::*;

const AB_ID: &std::ffi::CStr = c"audio.auralis.ab";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auralis-ab-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Noise whose every frame differs (so a frame out of place shows), `seconds` long.
fn noise(seconds: f64, rate: u32, seed: u32) -> [Vec<f32>; 2] {
    let n = (seconds * f64::from(rate)) as usize;
    let mut s = seed;
    let mut next = || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let mut l = Vec::with_capacity(n);
    let mut r = Vec::with_capacity(n);
    for _ in 0..n {
        l.push(0.5 * next());
        r.push(0.5 * next());
    }
    [l, r]
}

fn write_wav(path: &Path, rate: u32, x: &[Vec<f32>; 2]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for (a, b) in x[0].iter().zip(&x[1]) {
        w.write_sample(*a).unwrap();
        w.write_sample(*b).unwrap();
    }
    w.finalize().unwrap();
}

/// A session whose original is `x` at `rate`, with `master` as its master chain.
fn write_session(dir: &Path, rate: u32, x: &[Vec<f32>; 2], master: Option<&MasterSettings>) {
    write_wav(&dir.join("original.wav"), rate, x);
    let mut doc = serde_json::json!({
        "schema": "auralis.session/1",
        "source": {"path": "song.wav", "sample_rate": rate, "original": "original.wav"},
        "loudness": {"integrated_lufs": -14.0},
        "tempo": {"bpm": 120.0},
        "sections": [{"start": 0.0, "end": 20.0, "label": "A"}, {"start": 20.0, "end": 25.0, "label": "B"}],
        "elements": [],
    });
    if let Some(m) = master {
        doc["master"] = serde_json::json!({"chain": m, "report": {}});
    }
    std::fs::write(
        dir.join("session.json"),
        serde_json::to_vec_pretty(&doc).unwrap(),
    )
    .unwrap();
}

fn set_render(instance: &mut clack_host::prelude::PluginInstance<Quiet>, mode: RenderMode) {
    let handle = instance.plugin_handle();
    let render: PluginRender = handle.get_extension().expect("render extension");
    let handle = instance.plugin_handle();
    render.set(&handle, mode).expect("render mode");
}

/// An A/B on `dir`'s original with the given parameters (plain values: switches 0 or 1, the
/// offset in ms) in its state.
fn ab(
    entry: &clack_host::prelude::PluginEntry,
    dir: &Path,
    params: &[(&str, f64)],
) -> clack_host::prelude::PluginInstance<Quiet> {
    let mut p = instance(entry, AB_ID);
    let mut state = state_json(&save(&mut p));
    state["fields"]["session"] = serde_json::Value::String(
        serde_json::json!({"path": dir.to_str().unwrap(), "element": "original"}).to_string(),
    );
    for (id, v) in params {
        state["params"][*id] = if *id == "offset" {
            serde_json::json!({ "f32": *v })
        } else {
            serde_json::json!({ "bool": *v > 0.5 })
        };
    }
    load(&mut p, &state_bytes(&state));
    p
}

/// What a host plays: blocks of varied lengths, with the loop and jumps the test asks for;
/// returns the blocks and the host position of every frame.
struct Timeline {
    blocks: Vec<EffectBlock>,
    positions: Vec<i64>,
}

impl Timeline {
    fn new() -> Self {
        Self {
            blocks: Vec::new(),
            positions: Vec::new(),
        }
    }

    /// Plays `frames` from `pos`, wrapping at the loop's end as a host does (the block that
    /// crosses it is not split: the plugin must wrap inside it).
    fn play(&mut self, mut pos: i64, frames: usize, looping: Option<(i64, i64)>) -> i64 {
        let sizes = [512usize, 64, 300, 17, 480, 1024];
        let mut done = 0;
        let mut k = 0;
        while done < frames {
            let len = sizes[k % sizes.len()].min(frames - done);
            self.blocks.push(EffectBlock {
                len,
                params: Vec::new(),
                transport: HostTransport {
                    pos,
                    tempo: 120.0,
                    playing: true,
                    looping,
                },
            });
            for _ in 0..len {
                self.positions.push(pos);
                pos += 1;
                if let Some((ls, le)) = looping {
                    if pos == le {
                        pos = ls;
                    }
                }
            }
            done += len;
            k += 1;
        }
        pos
    }
}

/// Frame `p` of `x` (silence outside).
fn at(x: &[Vec<f32>; 2], p: i64) -> (f32, f32) {
    if p < 0 || p as usize >= x[0].len() {
        (0.0, 0.0)
    } else {
        (x[0][p as usize], x[1][p as usize])
    }
}

/// A mix the host feeds (it must not reach the output while B is on).
fn mix(frames: usize) -> [Vec<f32>; 2] {
    noise(frames as f64 / 48_000.0 + 0.01, 48_000, 99)
}

/// The frames where `out` is not the original at the timeline's positions less `delay`.
fn misaligned(out: &[Vec<f32>; 2], x: &[Vec<f32>; 2], t: &Timeline, delay: i64) -> Vec<usize> {
    (0..t.positions.len())
        .filter(|&i| at(x, t.positions[i] - delay) != (out[0][i], out[1][i]))
        .collect()
}

/// Loops (with the loop's end inside a block), a jump far ahead and back, playing on past
/// the end of the song: offline, every frame is the original's at the host's position.
fn looped_and_jumped(t: &mut Timeline) {
    let p = t.play(0, 30_000, None);
    // A loop of 0.3 s from 1 s, entered from before it, three times round.
    let lp = Some((48_000, 62_400));
    let p = t.play(p + 10_000, 14_400 * 3 + 9_000, lp);
    // Jump far ahead, then back to the start.
    let _ = p;
    t.play(400_000, 20_000, None);
    t.play(0, 5_000, None);
    // Past the end of the song.
    t.play(455_000, 10_000, None);
}

#[test]
fn offline_the_original_plays_at_the_hosts_position_through_loops_and_jumps() {
    let dir = scratch("sync");
    let x = noise(9.5, 48_000, 7);
    write_session(&dir, 48_000, &x, None);
    let entry = entry();
    let mut p = ab(&entry, &dir, &[("ab", 1.0), ("match", 0.0)]);
    set_render(&mut p, RenderMode::Offline);
    let mut t = Timeline::new();
    looped_and_jumped(&mut t);
    let m = mix(t.positions.len());
    let out = run_effect(
        &mut p,
        48_000.0,
        [&m[0], &m[1]],
        false,
        None,
        &t.blocks,
        &mut |_| {},
    );
    let bad = misaligned(&out, &x, &t, 0);
    assert!(
        bad.is_empty(),
        "{} frames out of place, first at {:?}",
        bad.len(),
        bad.first()
    );
}

#[test]
fn an_original_at_another_rate_plays_resampled_in_time() {
    let dir = scratch("rate");
    let x = noise(4.0, 44_100, 11);
    write_session(&dir, 44_100, &x, None);
    let want = [
        auralis_engine::resample::resample(&x[0], 44_100, 48_000).unwrap(),
        auralis_engine::resample::resample(&x[1], 44_100, 48_000).unwrap(),
    ];
    let entry = entry();
    let mut p = ab(&entry, &dir, &[("ab", 1.0), ("match", 0.0)]);
    set_render(&mut p, RenderMode::Offline);
    let mut t = Timeline::new();
    let lp = Some((96_000, 110_000));
    t.play(90_000, 40_000, lp);
    t.play(5_000, 20_000, None);
    let m = mix(t.positions.len());
    let out = run_effect(
        &mut p,
        48_000.0,
        [&m[0], &m[1]],
        false,
        None,
        &t.blocks,
        &mut |_| {},
    );
    let bad = misaligned(&out, &want, &t, 0);
    assert!(bad.is_empty(), "{} frames out of place", bad.len());
    assert!(
        dir.join("cache/original-48000.wav").is_file(),
        "the copy at the host's rate is kept in the session"
    );
}

#[test]
fn in_real_time_loops_never_miss_a_frame_and_a_jump_is_late_never_shifted() {
    let dir = scratch("realtime");
    let x = noise(30.0, 48_000, 3);
    write_session(&dir, 48_000, &x, None);
    let entry = entry();
    let mut p = ab(&entry, &dir, &[("ab", 1.0), ("match", 0.0)]);
    let mut t = Timeline::new();
    let p0 = t.play(0, 48_000, None);
    let lp = Some((96_000, 120_000));
    let loop_from = t.positions.len();
    t.play(p0 + 30_000, 24_000 * 6, lp);
    let jump_from = t.positions.len();
    t.play(1_000_000, 48_000, None);
    // A jump to a section's start (a place users jump to): kept in memory, never late.
    let section_from = t.positions.len();
    t.play(20 * 48_000, 24_000, None);
    let m = mix(t.positions.len());
    // Paced at about four times real time, as a busy host might be at worst.
    let lens: Vec<usize> = t.blocks.iter().map(|b| b.len).collect();
    let out = run_effect(
        &mut p,
        48_000.0,
        [&m[0], &m[1]],
        false,
        None,
        &t.blocks,
        &mut |i| {
            std::thread::sleep(std::time::Duration::from_micros(
                (lens[i] as f64 / 48_000.0 * 1e6 / 4.0) as u64,
            ))
        },
    );
    let bad = misaligned(&out, &x, &t, 0);
    assert!(
        bad.iter().all(|&i| i < section_from),
        "a jump to a section's start was late by {} frames",
        bad.iter().filter(|&&i| i >= section_from).count()
    );
    // Playing on and round the loop: every frame.
    assert!(
        bad.iter().all(|&i| i >= jump_from),
        "missed before the jump at {:?} (loop from {loop_from})",
        bad.iter().find(|&&i| i < jump_from)
    );
    // After the jump to a place not read yet: silence until the disk delivers, then every
    // frame in its place (never a frame shifted).
    for &i in &bad {
        assert_eq!((out[0][i], out[1][i]), (0.0, 0.0), "frame {i} shifted");
    }
    let late = bad.len();
    println!(
        "jump to an unread place: first {late} frames ({:.1} ms) silent",
        late as f64 / 48.0
    );
    assert!(
        bad.iter().all(|&i| i < jump_from + 24_000),
        "still missing 0.5 s after the jump"
    );
}

fn tone(n: usize, rate: u32, f: f32, a: f32) -> Vec<f32> {
    (0..n)
        .map(|i| a * (std::f32::consts::TAU * f * i as f32 / rate as f32).sin())
        .collect()
}

#[test]
fn the_switch_is_click_free() {
    let dir = scratch("switch");
    let rate = 48_000u32;
    let n = 6 * rate as usize;
    // The mix a 440 Hz sine, the original a 1 kHz sine, both at half scale: they differ by up
    // to full scale, the worst case for a crossfade.
    let mix_l = tone(n, rate, 440.0, 0.5);
    let orig = tone(n, rate, 1000.0, 0.5);
    write_session(&dir, rate, &[orig.clone(), orig.clone()], None);
    let entry = entry();
    let mut p = ab(&entry, &dir, &[("match", 0.0)]);
    set_render(&mut p, RenderMode::Offline);
    let ab_id = param_id("ab");
    let mut t = Timeline::new();
    t.play(0, n, None);
    // B at 1 s, A at 2.5 s, B at 2.53 s (mid-fade), A at 4 s.
    let mut switched = Vec::new();
    let mut at_frame = 0usize;
    for b in t.blocks.iter_mut() {
        for (s, v) in [(1.0, 1.0), (2.5, 0.0), (2.53, 1.0), (4.0, 0.0)] {
            let f = (s * f64::from(rate)) as usize;
            if at_frame <= f && f < at_frame + b.len {
                b.params.push((ab_id, v));
                switched.push(at_frame);
            }
        }
        at_frame += b.len;
    }
    assert_eq!(switched.len(), 4);
    let out = run_effect(
        &mut p,
        f64::from(rate),
        [&mix_l, &mix_l],
        false,
        None,
        &t.blocks,
        &mut |_| {},
    );
    // The click: the step from one frame to the next beyond the larger of the two sources'
    // own steps (what the crossfade's slope adds, times their difference).
    let fade = (0.05 * f64::from(rate)) as usize;
    let mut worst = 0.0f32;
    let mut faded = 0;
    for &s in &switched {
        for i in s.max(1)..(s + 2 * fade).min(n) {
            let dy = (out[0][i] - out[0][i - 1]).abs();
            let da = (mix_l[i] - mix_l[i - 1]).abs();
            let db = (orig[i] - orig[i - 1]).abs();
            worst = worst.max(dy - da.max(db));
            let (ya, yb) = (out[0][i] == mix_l[i], out[0][i] == orig[i]);
            if !ya && !yb {
                faded += 1;
            }
        }
    }
    let worst_db = 20.0 * worst.max(1e-12).log10();
    println!("largest step at the switch beyond the sources' own: {worst_db:.1} dBFS");
    assert!(
        worst_db < -60.0,
        "a click of {worst_db:.1} dBFS at the switch"
    );
    // It is a crossfade (not a hard switch): frames that are neither A nor B.
    assert!(faded > fade, "{faded} frames crossfaded");
    // Between the switches, A is the mix untouched and B the original exactly.
    let a = rate as usize / 2;
    let b = 2 * rate as usize;
    assert_eq!(out[0][a], mix_l[a]);
    assert_eq!(out[0][b], orig[b]);
}

#[test]
fn the_original_is_matched_to_the_mix_in_loudness() {
    let dir = scratch("match");
    let rate = 48_000u32;
    let n = 8 * rate as usize;
    let mix_l = tone(n, rate, 440.0, 0.5);
    // The same tone 12 dB down.
    let orig = tone(n, rate, 440.0, 0.125);
    write_session(&dir, rate, &[orig.clone(), orig.clone()], None);
    let entry = entry();
    let mut p = ab(&entry, &dir, &[("ab", 1.0)]);
    set_render(&mut p, RenderMode::Offline);
    let mut t = Timeline::new();
    t.play(0, n, None);
    let out = run_effect(
        &mut p,
        f64::from(rate),
        [&mix_l, &mix_l],
        false,
        None,
        &t.blocks,
        &mut |_| {},
    );
    let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    let level = |from: usize, to: usize| {
        20.0 * (rms(&out[0][from * rate as usize..to * rate as usize])
            / rms(&mix_l[from * rate as usize..to * rate as usize]))
        .log10()
    };
    // Before 3 s measured, as it is in the file; from 6 s, at the mix's loudness.
    let early = level(0, 2);
    let late = level(6, 8);
    println!("B against A: {early:.2} dB in the first 2 s, {late:.3} dB from 6 s");
    assert!((early + 12.04).abs() < 0.1, "{early}");
    assert!(late.abs() < 0.1, "{late}");
}

#[test]
fn behind_the_master_the_original_waits_for_its_look_ahead_and_no_latency_is_reported() {
    let dir = scratch("master");
    let x = noise(3.0, 48_000, 5);
    let master = MasterSettings {
        limiter: LimiterSettings {
            lookahead_ms: 1.5,
            ..LimiterSettings::default()
        },
        ..MasterSettings::default()
    };
    write_session(&dir, 48_000, &x, Some(&master));
    let mut m = Master::default();
    m.allocate(48_000.0);
    m.set(&master);
    let delay = m.latency() as i64;
    assert!(delay > 0);
    let entry = entry();
    for (behind, offset_ms, want) in [(1.0, 0.0, delay), (0.0, 0.0, 0), (1.0, 2.5, delay + 120)] {
        let mut p = ab(
            &entry,
            &dir,
            &[
                ("ab", 1.0),
                ("match", 0.0),
                ("behind", behind),
                ("offset", offset_ms),
            ],
        );
        set_render(&mut p, RenderMode::Offline);
        let mut t = Timeline::new();
        t.play(10_000, 30_000, None);
        let mx = mix(t.positions.len());
        let out = run_effect(
            &mut p,
            48_000.0,
            [&mx[0], &mx[1]],
            false,
            None,
            &t.blocks,
            &mut |_| {},
        );
        let bad = misaligned(&out, &x, &t, want);
        assert!(
            bad.is_empty(),
            "behind {behind}, offset {offset_ms} ms: {} frames",
            bad.len()
        );

        let config = clack_host::prelude::PluginAudioConfiguration {
            sample_rate: 48_000.0,
            min_frames_count: 1,
            max_frames_count: 512,
        };
        let stopped = p.activate(|_, _| (), config).unwrap();
        let handle = p.plugin_handle();
        let latency: PluginLatency = handle.get_extension().expect("latency extension");
        let handle = p.plugin_handle();
        assert_eq!(latency.get(&handle), 0);
        p.deactivate(stopped);
    }
}

#[test]
fn state_round_trips_and_a_restored_instance_plays_the_same() {
    let dir = scratch("state");
    let x = noise(2.0, 48_000, 9);
    write_session(&dir, 48_000, &x, None);
    let entry = entry();
    let mut a = ab(
        &entry,
        &dir,
        &[("ab", 1.0), ("match", 0.0), ("offset", 5.0)],
    );
    let saved = save(&mut a);
    let mut b = instance(&entry, AB_ID);
    load(&mut b, &saved);
    assert_eq!(state_json(&save(&mut b)), state_json(&saved));
    let mut t = Timeline::new();
    t.play(1_000, 40_000, None);
    let m = mix(t.positions.len());
    set_render(&mut a, RenderMode::Offline);
    set_render(&mut b, RenderMode::Offline);
    let oa = run_effect(
        &mut a,
        48_000.0,
        [&m[0], &m[1]],
        false,
        None,
        &t.blocks,
        &mut |_| {},
    );
    let ob = run_effect(
        &mut b,
        48_000.0,
        [&m[0], &m[1]],
        false,
        None,
        &t.blocks,
        &mut |_| {},
    );
    assert!(oa == ob, "the restored instance plays differently");
    // The offset (5 ms = 240 frames) is in effect.
    assert!(misaligned(&oa, &x, &t, 240).is_empty());
}
