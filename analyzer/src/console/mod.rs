//! CONSOLE: the rebuilt elements mixed like their stems, and the mix mastered against the
//! original.
//!
//! Each element's render (HANDS) goes through an insert chain of the engine
//! ([`auralis_engine::fx::Chain`], what the Console plugin runs): the pump and the echo EAR
//! detected on its stem ([`crate::effects`]), its pan and width set to the stem's (width as
//! the side gain that gives the stem's side-to-mid ratio), a matching EQ that moves its
//! third-octave spectrum onto the stem's, and a gain that brings it to its stem's level. The sum is mastered by [`master`] against `original.wav` and written to
//! `render/mix.wav`; each element's chain goes into its `mix_chain`, the master's into the
//! session's `master` with the report of how close it came.

pub mod master;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use auralis_engine::fx::delay::{ChorusSettings, DelaySettings};
use auralis_engine::fx::stereo::StereoSettings;
use auralis_engine::fx::{Chain, ChainReverb, ChainSettings};
use serde_json::json;

use crate::brain;
use crate::effects::{self, Effects};
use crate::error::Result;
use crate::hands;
use crate::progress::Progress;
use crate::session::{Session, StageRecord};

/// The stereo stage's pan (the far side along a quarter sine, the near side kept) that puts a
/// centred mono source where a constant-power pan `pan` (−1…1) puts it.
pub fn stereo_pan_for(pan: f64) -> f32 {
    let theta = (pan.clamp(-1.0, 1.0) + 1.0) * std::f64::consts::FRAC_PI_4;
    // Far over near is tan θ (right of centre) or its inverse (left).
    let ratio = if theta >= std::f64::consts::FRAC_PI_4 {
        1.0 / theta.tan()
    } else {
        theta.tan()
    };
    let p = 1.0 - 2.0 / std::f64::consts::PI * ratio.clamp(0.0, 1.0).asin();
    (if pan >= 0.0 { p } else { -p }) as f32
}

/// Mean power of interleaved stereo over the frames within 40 dB of its loudest (2048-frame
/// blocks).
fn active_power(audio: &[f32]) -> f64 {
    let blocks: Vec<f64> = audio
        .chunks(4096)
        .map(|c| c.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / c.len().max(1) as f64)
        .collect();
    let loudest = blocks.iter().copied().fold(0.0, f64::max);
    let active: Vec<f64> = blocks
        .into_iter()
        .filter(|p| *p >= 1e-4 * loudest && *p > 0.0)
        .collect();
    active.iter().sum::<f64>() / active.len().max(1) as f64
}

/// Side-to-mid power ratio of interleaved stereo, dB.
fn side_to_mid_db(audio: &[f32]) -> f64 {
    let (mut m, mut s) = (0.0f64, 0.0f64);
    for f in audio.chunks_exact(2) {
        m += (0.5 * (f[0] + f[1]) as f64).powi(2);
        s += (0.5 * (f[0] - f[1]) as f64).powi(2);
    }
    10.0 * (s.max(1e-30) / m.max(1e-30)).log10()
}

/// An element's processed render: its index, the audio and its chain.
type Mixed = (usize, Arc<Vec<f32>>, ChainSettings);

/// Runs `chain` over interleaved stereo `audio`, triggering its pump at `kicks` (seconds).
fn run_chain(chain: &mut Chain, audio: &[f32], rate: u32, kicks: &[f64]) -> Vec<f32> {
    let (mut l, mut r): (Vec<f32>, Vec<f32>) = audio.chunks_exact(2).map(|f| (f[0], f[1])).unzip();
    let block = 512;
    let mut next = 0;
    for (b, (cl, cr)) in l.chunks_mut(block).zip(r.chunks_mut(block)).enumerate() {
        let start = b * block;
        while next < kicks.len() {
            let at = (kicks[next] * rate as f64).round() as i64 - start as i64;
            if at >= cl.len() as i64 {
                break;
            }
            if at >= 0 {
                chain.trigger_pump(at as u32);
            }
            next += 1;
        }
        chain.process(cl, cr, None);
    }
    l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect()
}

/// The element's chain from what EAR found (gain and width still to be set).
fn chain_from(fx: &Effects) -> ChainSettings {
    ChainSettings {
        pump: fx.pump.as_ref().map(|p| p.settings()),
        delay: fx.echo.map(|e| DelaySettings {
            beats: e.beats as f32,
            feedback: e.feedback as f32,
            wet: 10f32.powf(e.wet_db as f32 / 20.0),
            ..Default::default()
        }),
        stereo: StereoSettings {
            pan: stereo_pan_for(fx.image.pan),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// File of the mastered rebuild inside the session.
pub const MIX_FILE: &str = "render/mix.wav";

/// The session's mix plan (`mix_plan`), or BRAIN's first one when it has none.
pub fn plan_of(session: &Session) -> brain::Plan {
    session
        .extra_plan()
        .unwrap_or_else(|| brain::initial(session).0)
}

/// Mixes and masters a session whose elements have renders (after HANDS) in `dir` with its
/// plan, into [`MIX_FILE`].
pub fn run(session: &mut Session, dir: &Path, progress: &dyn Progress) -> Result<StageRecord> {
    let plan = plan_of(session);
    run_with(session, dir, &plan, MIX_FILE, progress)
}

/// What CONSOLE keeps from one round of the loop to the next: the original, and each
/// element's processed render with the inputs that made it. A round where BRAIN changed one
/// element's plan (or refitted one element) runs only that element's chain again.
#[derive(Default)]
pub struct Cache {
    original: Option<(String, u32, Arc<Vec<f32>>)>,
    elements: HashMap<String, (String, Arc<Vec<f32>>, ChainSettings)>,
}

/// Mixes and masters with `plan` into `out_rel` (relative to `dir`); sets the session's
/// `render_mix` to it, and its elements' `mix_chain` and `master` to what was used.
pub fn run_with(
    session: &mut Session,
    dir: &Path,
    plan: &brain::Plan,
    out_rel: &str,
    progress: &dyn Progress,
) -> Result<StageRecord> {
    run_cached(session, dir, plan, out_rel, progress, &mut Cache::default())
}

/// [`run_with`], reusing what `cache` holds from an earlier round and keeping this round's
/// for the next. The files a cached result came from are not read again: a render or stem
/// rewritten in place must come with a new cache.
pub fn run_cached(
    session: &mut Session,
    dir: &Path,
    plan: &brain::Plan,
    out_rel: &str,
    progress: &dyn Progress,
    cache: &mut Cache,
) -> Result<StageRecord> {
    let started = std::time::Instant::now();
    progress.update("console", 0.0, "mixing");
    let Some(original_rel) = session.source.original.clone() else {
        return Ok(skipped(started, "no original.wav in the session"));
    };
    let (rate, original) = match &cache.original {
        Some((rel, rate, audio)) if *rel == original_rel => (*rate, Arc::clone(audio)),
        _ => {
            let (rate, audio) = crate::decode::read_stereo(&dir.join(&original_rel))?;
            let audio = Arc::new(audio);
            cache.original = Some((original_rel.clone(), rate, Arc::clone(&audio)));
            (rate, audio)
        }
    };
    let kicks = session
        .elements
        .iter()
        .find(|e| e.role == "drums")
        .and_then(|e| e.midi.as_ref())
        .and_then(|m| hands::read_notes(&dir.join(m)).ok())
        .map(|n| effects::kicks_of(&n))
        .unwrap_or_default();
    // The elements' chains, one element per core; the sum is taken in the elements' order,
    // so the mix does not depend on which finished first.
    struct Job {
        index: usize,
        name: String,
        drums: bool,
        render: String,
        stem: String,
        fx: Effects,
        plan: brain::ElementPlan,
        key: String,
    }
    let bpm = session.tempo.bpm as f32;
    let context = format!(
        "{rate}|{}|{}|{}",
        bpm.to_bits(),
        kicks.len(),
        kicks.iter().sum::<f64>().to_bits()
    );
    let all: Vec<Job> = session
        .elements
        .iter()
        .enumerate()
        .filter_map(|(index, e)| {
            let render = e.extra.get("render")?.as_str()?.to_string();
            let stem = e.stem.clone()?;
            let fx: Effects = e
                .extra
                .get("effects")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let plan = plan.elements.get(&e.name).copied().unwrap_or_default();
            let drums = e.role == "drums";
            // Everything the processed render depends on (the kicks, rate and tempo are the
            // round's).
            let key = format!(
                "{render}|{stem}|{}|{}|{drums}|{context}",
                serde_json::to_string(&fx).unwrap_or_default(),
                serde_json::to_string(&plan).unwrap_or_default(),
            );
            Some(Job {
                index,
                name: e.name.clone(),
                drums,
                render,
                stem,
                fx,
                plan,
                key,
            })
        })
        .collect();
    // What the cache has already.
    let mut finished: Vec<Mixed> = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    for job in all {
        match cache.elements.get(&job.name) {
            Some((key, audio, settings)) if *key == job.key => {
                finished.push((job.index, Arc::clone(audio), settings.clone()));
            }
            _ => jobs.push(job),
        }
    }
    let cached = finished.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    type Processed = (usize, Vec<f32>, ChainSettings);
    let results: std::sync::Mutex<Vec<Result<Option<Processed>>>> =
        std::sync::Mutex::new(Vec::new());
    let workers = crate::spectrum::workers().min(jobs.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(job) = jobs.get(k) else {
                    break;
                };
                let r = mix_element(
                    job.index,
                    &job.fx,
                    job.plan,
                    job.drums,
                    &dir.join(&job.render),
                    &dir.join(&job.stem),
                    rate,
                    bpm,
                    &kicks,
                );
                let d = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                progress.update(
                    "console",
                    0.8 * d as f64 / jobs.len().max(1) as f64,
                    &job.name,
                );
                if let Ok(mut out) = results.lock() {
                    out.push(r);
                }
            });
        }
    });
    for r in results.into_inner().unwrap_or_default() {
        if let Some((index, audio, settings)) = r? {
            let audio = Arc::new(audio);
            if let Some(job) = jobs.iter().find(|j| j.index == index) {
                cache.elements.insert(
                    job.name.clone(),
                    (job.key.clone(), Arc::clone(&audio), settings.clone()),
                );
            }
            finished.push((index, audio, settings));
        }
    }
    finished.sort_by_key(|m| m.0);
    let mut mix = vec![0.0f32; original.len()];
    let mixed = finished.len();
    for (index, processed, settings) in finished {
        for (m, x) in mix.iter_mut().zip(processed.iter()) {
            *m += x;
        }
        session.elements[index].extra.insert(
            "mix_chain".into(),
            serde_json::to_value(&settings).unwrap_or_default(),
        );
    }
    if mixed == 0 {
        return Ok(skipped(started, "no element has a render"));
    }
    progress.update("console", 0.8, "mastering");
    let sections: Vec<(f64, f64)> = session.sections.iter().map(|s| (s.start, s.end)).collect();
    let (out, chain, report) = master::master(
        &mix,
        &original,
        rate,
        session.loudness.integrated_lufs,
        session.loudness.true_peak_dbtp,
        &sections,
    )?;
    drop(mix);
    hands::write_wav(&dir.join(out_rel), rate, &out)?;
    session.render_mix = Some(out_rel.to_string());
    session.mix_plan = serde_json::to_value(plan).ok();
    session.master = Some(json!({"chain": chain, "report": report}));
    progress.update("console", 1.0, "done");
    Ok(StageRecord {
        name: "console".into(),
        version: "1".into(),
        parameters: json!({
            "elements_mixed": mixed,
            "elements_cached": cached,
            "original_lufs": round2(report.original_lufs),
            "master_lufs": round2(report.master_lufs),
            "band_error_db": round2(report.band_error_db),
            "band_error_before_db": round2(report.band_error_before_db),
            "master_s": round2(report.seconds),
        }),
        wall_s: started.elapsed().as_secs_f64(),
    })
}

/// One element through its chain: the render at `render` matched to the stem at `stem`;
/// returns the processed render (gain applied) and the chain, or `None` when the files'
/// rates differ from the session's.
#[allow(clippy::too_many_arguments)]
fn mix_element(
    index: usize,
    fx: &Effects,
    plan: brain::ElementPlan,
    drums: bool,
    render: &Path,
    stem: &Path,
    rate: u32,
    bpm: f32,
    kicks: &[f64],
) -> Result<Option<(usize, Vec<f32>, ChainSettings)>> {
    let (r_rate, audio) = crate::decode::read_stereo(render)?;
    let (s_rate, stem_audio) = crate::decode::read_stereo(stem)?;
    if r_rate != rate || s_rate != rate {
        return Ok(None);
    }
    let mut settings = chain_from(fx);
    if plan.spread > 0.0 {
        settings.chorus = Some(ChorusSettings {
            rate_hz: 0.4,
            depth_ms: 3.0,
            mix: plan.spread.min(1.0),
        });
    }
    if let (Some(db), Some(room)) = (plan.reverb_db, fx.room.as_ref()) {
        settings.reverb = Some(ChainReverb {
            level: 10f32.powf(db / 20.0),
            rt60_s: room.rt60_s.clamp(0.2, 8.0) as f32,
            predelay_ms: 10.0,
            damp_hz: 8000.0,
        });
    } else if let Some(db) = plan.reverb_db {
        // No room measured on the stem: a short one.
        settings.reverb = Some(ChainReverb {
            level: 10f32.powf(db / 20.0),
            rt60_s: 0.8,
            predelay_ms: 10.0,
            damp_hz: 8000.0,
        });
    }
    // Width: the side gain that gives the stem's side-to-mid ratio (where the render has a
    // side at all).
    let ours = side_to_mid_db(&audio);
    if ours > -60.0 {
        settings.stereo.width = 10f64
            .powf((fx.image.side_to_mid_db - ours) / 20.0)
            .clamp(0.0, 2.0) as f32;
    }
    let element_kicks: &[f64] = if drums { &[] } else { kicks };
    let run = |settings: &ChainSettings| {
        let mut chain = Chain::default();
        chain.set(settings);
        chain.allocate(rate as f32);
        chain.set_tempo(bpm);
        run_chain(&mut chain, &audio, rate, element_kicks)
    };
    let mut processed = run(&settings);
    // EQ towards the stem's spectrum: its third-octave bands over ours (the level is the
    // gain's), as the master matches the mix to the original.
    settings.eq = master::match_bands(&stem_audio, &processed, rate);
    if !settings.eq.is_empty() {
        processed = run(&settings);
    }
    // The gain to the stem's level.
    let (want, have) = (active_power(&stem_audio), active_power(&processed));
    let gain_db = if have > 0.0 && want > 0.0 {
        (10.0 * (want / have).log10()).clamp(-40.0, 40.0)
    } else {
        0.0
    };
    let g = 10f32.powf(gain_db as f32 / 20.0);
    processed.iter_mut().for_each(|x| *x *= g);
    settings.stereo.gain_db = gain_db as f32;
    Ok(Some((index, processed, settings)))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn skipped(started: std::time::Instant, why: &str) -> StageRecord {
    StageRecord {
        name: "console".into(),
        version: "1".into(),
        parameters: json!({"skipped": why}),
        wall_s: started.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stereo test signal: noise through a slope, `seconds` long at 44.1 kHz.
    fn noise(seed: u32, level: f32, seconds: f64) -> Vec<f32> {
        let mut s = seed;
        let mut y = 0.0f32;
        (0..(seconds * 44_100.0) as usize)
            .flat_map(|i| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let x = (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                y = 0.9 * y + 0.1 * x;
                let tone = (i as f32 * 0.03).sin();
                [
                    level * (y + 0.2 * tone),
                    level * (0.8 * y + 0.1 * x + 0.2 * tone),
                ]
            })
            .collect()
    }

    #[test]
    fn a_round_from_the_cache_mixes_what_a_fresh_round_mixes() {
        let dir =
            std::env::temp_dir().join(format!("auralis-console-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("render")).unwrap();
        std::fs::create_dir_all(dir.join("stems")).unwrap();
        let write =
            |rel: &str, audio: &[f32]| hands::write_wav(&dir.join(rel), 44_100, audio).unwrap();
        let original = noise(1, 0.3, 4.0);
        write("original.wav", &original);
        let mut session = crate::session::example();
        session.source.original = Some("original.wav".into());
        let (lufs, tp) = {
            let mut m = crate::level::LoudnessMeter::new(44_100, 2).unwrap();
            m.push(&original).unwrap();
            let l = m.finish();
            (l.integrated_lufs, l.true_peak_dbtp)
        };
        session.loudness.integrated_lufs = lufs;
        session.loudness.true_peak_dbtp = tp;
        let mut bass = session.elements[0].clone();
        bass.name = "bass".into();
        bass.role = "bass".into();
        bass.midi = None;
        let mut pad = bass.clone();
        pad.name = "pad".into();
        pad.role = "keys".into();
        for (k, e) in [&mut bass, &mut pad].into_iter().enumerate() {
            let (stem, render) = (
                format!("stems/{}.wav", e.name),
                format!("render/{}.wav", e.name),
            );
            write(&stem, &noise(10 + k as u32, 0.2, 4.0));
            write(&render, &noise(20 + k as u32, 0.1, 4.0));
            e.stem = Some(stem);
            e.extra.insert("render".into(), json!(render));
            e.extra.insert(
                "effects".into(),
                json!({"image": {"pan": 0.2 * k as f64, "side_to_mid_db": -12.0},
                       "room": {"rt60_s": 1.2, "gaps_used": 3, "decays_used": 0, "spread": 0.1}}),
            );
        }
        session.elements = vec![bass, pad];
        let plan = |pad_reverb: Option<f32>| {
            let mut p = brain::Plan::default();
            p.elements.insert(
                "pad".into(),
                brain::ElementPlan {
                    reverb_db: pad_reverb,
                    spread: 0.0,
                },
            );
            p
        };
        let read = |rel: &str| crate::decode::read_stereo(&dir.join(rel)).unwrap().1;
        // Fresh, with the pad's reverb.
        let mut fresh = session.clone();
        run_with(
            &mut fresh,
            &dir,
            &plan(Some(-12.0)),
            "render/fresh.wav",
            &crate::progress::Silent,
        )
        .unwrap();
        // Through the cache: a round without the reverb, then one with it (the bass from
        // the cache both times after the first).
        let mut cache = Cache::default();
        let mut other = session.clone();
        run_cached(
            &mut other,
            &dir,
            &plan(None),
            "render/a.wav",
            &crate::progress::Silent,
            &mut cache,
        )
        .unwrap();
        let mut again = session.clone();
        let record = run_cached(
            &mut again,
            &dir,
            &plan(Some(-12.0)),
            "render/b.wav",
            &crate::progress::Silent,
            &mut cache,
        )
        .unwrap();
        assert_eq!(
            record.parameters["elements_cached"], 1,
            "{}",
            record.parameters
        );
        assert!(
            read("render/b.wav") == read("render/fresh.wav"),
            "the cached round mixes otherwise"
        );
        assert!(
            read("render/a.wav") != read("render/fresh.wav"),
            "the plan changed the mix"
        );
        assert_eq!(again.elements, fresh.elements);
        let chain = |s: &Session| s.master.as_ref().map(|m| m["chain"].clone());
        assert_eq!(chain(&again), chain(&fresh));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_stereo_pan_places_a_source_where_constant_power_would() {
        for pan in [-0.6f64, -0.2, 0.0, 0.37, 0.9] {
            let mut st = auralis_engine::fx::stereo::Stereo::default();
            st.set(StereoSettings {
                pan: stereo_pan_for(pan),
                ..Default::default()
            });
            let x: Vec<f32> = (0..4800).map(|i| (i as f32 * 0.05).sin()).collect();
            let (mut l, mut r) = (x.clone(), x.clone());
            st.process(&mut l, &mut r);
            let audio: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
            let got = crate::effects::image::measure(&audio).pan;
            assert!((got - pan).abs() < 0.01, "{pan}: {got}");
        }
    }
}
