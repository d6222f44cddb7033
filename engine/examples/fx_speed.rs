//! Effect speed: how many times faster than real time the offline mix's stages run on
//! stereo at 44.1 kHz (the matching EQ's 31 bands, the chain with echo, chorus and reverb,
//! the limiter).
//!
//! `cargo run --release -p auralis-engine --example fx_speed`

use std::time::Instant;

use auralis_engine::fx::delay::{ChorusSettings, DelaySettings};
use auralis_engine::fx::eq::{match_curve, THIRD_OCTAVES_HZ};
use auralis_engine::fx::limiter::LimiterSettings;
use auralis_engine::fx::{Chain, ChainReverb, ChainSettings};

const RATE: f32 = 44_100.0;

fn speed(name: &str, settings: &ChainSettings, input: &[f32]) -> f32 {
    let mut chain = Chain::default();
    chain.set(settings);
    chain.allocate(RATE);
    chain.set_tempo(124.0);
    let (mut l, mut r) = (input.to_vec(), input.to_vec());
    let started = Instant::now();
    for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
        chain.process(a, b, None);
    }
    let wall = started.elapsed().as_secs_f64();
    let seconds = input.len() as f64 / RATE as f64;
    println!("{name:<44} {:>8.0}x real time", seconds / wall);
    l.iter().chain(&r).map(|x| x.abs()).sum()
}

fn main() {
    // Ten seconds of a decaying chord with noise: every stage has something to do.
    let n = (10.0 * RATE) as usize;
    let mut seed = 1u32;
    let input: Vec<f32> = (0..n)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = i as f32 / RATE;
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let tone: f32 = [110.0f32, 220.0, 330.0, 440.0]
                .iter()
                .map(|f| (std::f32::consts::TAU * f * t).sin())
                .sum();
            0.1 * (tone + noise) * (-(t % 2.0)).exp()
        })
        .collect();
    let curve: Vec<(f32, f32)> = THIRD_OCTAVES_HZ
        .iter()
        .enumerate()
        .map(|(k, &f)| (f, 4.0 * ((k as f32) * 0.7).sin()))
        .collect();
    let eq = match_curve(&curve, RATE, 12.0);
    let mut sink = 0.0;
    sink += speed(
        &format!("matching EQ ({} bands)", eq.len()),
        &ChainSettings {
            eq: eq.clone(),
            ..Default::default()
        },
        &input,
    );
    let full = ChainSettings {
        eq,
        chorus: Some(ChorusSettings {
            rate_hz: 0.4,
            depth_ms: 3.0,
            mix: 0.3,
        }),
        delay: Some(DelaySettings {
            beats: 0.75,
            feedback: 0.4,
            wet: 0.3,
            ..Default::default()
        }),
        reverb: Some(ChainReverb {
            level: 0.3,
            rt60_s: 1.5,
            predelay_ms: 10.0,
            damp_hz: 8000.0,
        }),
        ..Default::default()
    };
    sink += speed("EQ, chorus, echo, reverb", &full, &input);
    sink += speed(
        "limiter",
        &ChainSettings {
            limiter: Some(LimiterSettings::default()),
            ..Default::default()
        },
        &input,
    );
    println!("(checksum {sink:.3})");
}
