//! The insert chain as the Console plugin and the analyzer run it: every stage on, any block
//! size gives the same samples, `reset` repeats them, `process` never allocates, the latency
//! reported is the latency there is, and the stored form round-trips.

use assert_no_alloc::{assert_no_alloc, AllocDisabler};
use auralis_engine::fx::delay::{ChorusSettings, DelaySettings};
use auralis_engine::fx::dynamics::{CompressorSettings, PumpSettings};
use auralis_engine::fx::eq::{Band, BandKind};
use auralis_engine::fx::limiter::LimiterSettings;
use auralis_engine::fx::stereo::StereoSettings;
use auralis_engine::fx::{Chain, ChainReverb, ChainSettings};

#[cfg(debug_assertions)]
#[global_allocator]
static A: AllocDisabler = AllocDisabler;

const RATE: f32 = 48_000.0;

fn everything() -> ChainSettings {
    ChainSettings {
        eq: vec![
            Band {
                kind: BandKind::HighPass,
                freq_hz: 40.0,
                gain_db: 0.0,
                q: 0.707,
            },
            Band {
                kind: BandKind::Peak,
                freq_hz: 2500.0,
                gain_db: -3.0,
                q: 1.5,
            },
            Band {
                kind: BandKind::HighShelf,
                freq_hz: 8000.0,
                gain_db: 2.0,
                q: 0.707,
            },
        ],
        compressor: Some(CompressorSettings {
            threshold_db: -18.0,
            ratio: 3.0,
            knee_db: 6.0,
            attack_ms: 5.0,
            release_ms: 80.0,
            makeup_db: 3.0,
        }),
        pump: Some(PumpSettings {
            depth_db: 8.0,
            release_ms: 180.0,
            ..Default::default()
        }),
        stereo: StereoSettings {
            gain_db: -2.0,
            drive_db: 6.0,
            width: 1.4,
            pan: -0.3,
        },
        chorus: Some(ChorusSettings {
            rate_hz: 0.7,
            depth_ms: 2.0,
            mix: 0.3,
        }),
        delay: Some(DelaySettings {
            beats: 0.75,
            feedback: 0.4,
            wet: 0.3,
            damp_hz: 4000.0,
            ping_pong: true,
        }),
        reverb: Some(ChainReverb {
            level: 0.2,
            rt60_s: 1.5,
            predelay_ms: 15.0,
            damp_hz: 7000.0,
        }),
        limiter: Some(LimiterSettings::default()),
    }
}

/// A stereo phrase: plucked tones every quarter note at 128 bpm, and a kick on the sidechain.
fn phrase(n: usize) -> ([Vec<f32>; 2], Vec<f32>) {
    let beat = (RATE * 60.0 / 128.0) as usize;
    let mut l = vec![0.0f32; n];
    let mut r = vec![0.0f32; n];
    let mut kick = vec![0.0f32; n];
    for i in 0..n {
        let t = (i % beat) as f32 / RATE;
        let f = [220.0, 330.0, 277.0, 415.0][(i / beat) % 4];
        let env = (-t * 8.0).exp();
        l[i] = 0.7 * env * (std::f32::consts::TAU * f * t).sin();
        r[i] = 0.7 * env * (std::f32::consts::TAU * 1.01 * f * t).sin();
        kick[i] = (-t * 30.0).exp() * (std::f32::consts::TAU * 55.0 * t).sin();
    }
    ([l, r], kick)
}

fn run(chain: &mut Chain, input: &[Vec<f32>; 2], key: &[f32], block: usize) -> Vec<f32> {
    let (mut l, mut r) = (input[0].clone(), input[1].clone());
    let mut start = 0;
    while start < l.len() {
        let end = (start + block).min(l.len());
        let k = &key[start..end];
        let (a, b) = (&mut l[start..end], &mut r[start..end]);
        assert_no_alloc(|| chain.process(a, b, Some([k, k])));
        start = end;
    }
    l.into_iter().chain(r).collect()
}

#[test]
fn block_size_does_not_change_the_output_and_reset_repeats_it() {
    let mut chain = Chain::default();
    chain.set(&everything());
    chain.allocate(RATE);
    chain.set_tempo(128.0);
    let (input, key) = phrase(3 * RATE as usize);
    let whole = run(&mut chain, &input, &key, 4096);
    assert!(whole.iter().all(|x| x.is_finite()));
    let peak = whole.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(
        peak > 0.1 && peak <= 10f32.powf(-1.0 / 20.0) + 1e-3,
        "{peak}"
    );
    for block in [1, 64, 777] {
        chain.reset();
        assert_eq!(run(&mut chain, &input, &key, block), whole, "block {block}");
    }
}

#[test]
fn the_reported_latency_is_the_latency() {
    let mut chain = Chain::default();
    chain.allocate(RATE);
    chain.set(&ChainSettings {
        limiter: Some(LimiterSettings::default()),
        ..Default::default()
    });
    let mut l = vec![0.0f32; 1024];
    l[10] = 0.1;
    let mut r = l.clone();
    chain.process(&mut l, &mut r, None);
    let at = l.iter().position(|x| x.abs() > 0.05).unwrap();
    assert_eq!(at, 10 + chain.latency());
    // No limiter: no latency, and a neutral chain is the identity.
    chain.set(&ChainSettings::default());
    assert_eq!(chain.latency(), 0);
    let x: Vec<f32> = (0..512).map(|i| (i as f32 * 0.1).sin()).collect();
    let (mut l, mut r) = (x.clone(), x.clone());
    chain.process(&mut l, &mut r, None);
    assert_eq!(l, x);
}

#[test]
fn the_stored_form_round_trips_and_defaults_what_it_lacks() {
    let s = everything();
    let json = serde_json::to_string(&s).unwrap();
    let back: ChainSettings = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let sparse: ChainSettings = serde_json::from_str(
        r#"{"stereo": {"pan": 0.5}, "delay": {"beats": 1, "feedback": 0.2, "wet": 0.1}}"#,
    )
    .unwrap();
    assert_eq!(sparse.stereo.width, 1.0);
    assert_eq!(sparse.delay.unwrap().damp_hz, 20_000.0);
    assert!(sparse.compressor.is_none() && sparse.eq.is_empty());
}
