//! Engine speed: how many times faster than real time the synth renders.
//!
//! `cargo run --release -p auralis-engine --example speed [-- PRESET ...]`
//!
//! Cases: one voice of a saw through the low-pass filter (the benchmark), the same
//! through the ladder, and 16 voices of a busier patch (unison 3, two oscillators, ladder).

use std::time::Instant;

use auralis_engine::params::P;
use auralis_engine::{Event, EventKind, Synth, Values};

const RATE: f32 = 48_000.0;

fn speed(name: &str, values: Values, voices: u8, block: usize) {
    let mut synth = Synth::new(values);
    synth.allocate(RATE);
    let on: Vec<Event> = (0..voices)
        .map(|i| Event {
            time: 0,
            kind: EventKind::NoteOn {
                note: 40 + 3 * i,
                velocity: 0.8,
            },
        })
        .collect();
    let (mut l, mut r) = (vec![0.0f32; block], vec![0.0f32; block]);
    synth.process(&on, &mut l, &mut r);
    let seconds = 60.0;
    let blocks = (seconds * RATE) as usize / block;
    let started = Instant::now();
    let mut sink = 0.0f32;
    for _ in 0..blocks {
        synth.process(&[], &mut l, &mut r);
        sink += l[0];
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{name:<40} {:>8.0}x real time ({:.1} ns/sample; block {block}) {}",
        seconds as f64 / wall,
        wall * 1e9 / (blocks * block) as f64,
        if sink.is_nan() { "NaN!" } else { "" }
    );
}

fn main() {
    // Presets of the bank by name: 16 held voices each, in 64-sample blocks.
    let names: Vec<String> = std::env::args().skip(1).collect();
    if std::env::var_os("FTZ").is_some() {
        #[allow(deprecated)]
        unsafe {
            use std::arch::x86_64::*;
            _mm_setcsr(_mm_getcsr() | 0x8040);
        }
    }
    if !names.is_empty() {
        let bank = auralis_engine::bank::presets();
        for name in &names {
            match bank.iter().find(|p| &p.name == name) {
                Some(p) => speed(name, p.patch.values().expect("bank patch"), 16, 64),
                None => eprintln!("no preset {name:?}"),
            }
        }
        return;
    }
    let mut saw = Values::default();
    saw.set(P::FilterCutoff, 1200.0);
    saw.set(P::FilterResonance, 0.3);
    saw.set(P::FenvDecay, 400.0);
    saw.set(P::FilterEnvAmount, 2.0);
    speed("1 voice: saw + SVF low-pass", saw, 1, 64);
    speed("1 voice: saw + SVF low-pass", saw, 1, 512);
    let mut ladder = saw;
    ladder.set(P::FilterType, 3.0);
    speed("1 voice: saw + ladder", ladder, 1, 512);
    let mut busy = ladder;
    busy.set(P::UnisonVoices, 3.0);
    busy.set(P::UnisonDetune, 15.0);
    busy.set(P::UnisonSpread, 0.7);
    busy.set(P::Osc2Level, 0.5);
    busy.set(P::Osc2Wave, 3.0);
    busy.set(P::Lfo1Pitch, 20.0);
    speed("16 voices: unison 3, 2 osc, ladder", busy, 16, 64);
    chain_speed();
}

/// The insert chain with every stage on (a 3-band EQ, compressor, pump, saturation, width,
/// chorus, echo, reverb, true-peak limiter), on stereo noise in 64-sample blocks.
fn chain_speed() {
    use auralis_engine::fx::eq::{Band, BandKind};
    use auralis_engine::fx::{Chain, ChainReverb, ChainSettings};
    let band = |kind, freq_hz, gain_db| Band {
        kind,
        freq_hz,
        gain_db,
        q: 0.9,
    };
    let settings = ChainSettings {
        eq: vec![
            band(BandKind::HighPass, 40.0, 0.0),
            band(BandKind::Peak, 2500.0, -3.0),
            band(BandKind::HighShelf, 8000.0, 2.0),
        ],
        compressor: Some(Default::default()),
        pump: Some(auralis_engine::fx::dynamics::PumpSettings {
            depth_db: 6.0,
            ..Default::default()
        }),
        stereo: auralis_engine::fx::stereo::StereoSettings {
            drive_db: 6.0,
            width: 1.3,
            ..Default::default()
        },
        chorus: Some(auralis_engine::fx::delay::ChorusSettings {
            mix: 0.3,
            ..Default::default()
        }),
        delay: Some(auralis_engine::fx::delay::DelaySettings {
            wet: 0.3,
            ..Default::default()
        }),
        reverb: Some(ChainReverb {
            level: 0.2,
            rt60_s: 1.5,
            predelay_ms: 10.0,
            damp_hz: 8000.0,
        }),
        limiter: Some(Default::default()),
    };
    let mut chain = Chain::default();
    chain.set(&settings);
    chain.allocate(RATE);
    let block = 64;
    let mut seed = 1u32;
    let noise: Vec<f32> = (0..block)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1 << 24) as f32 - 0.5
        })
        .collect();
    let (mut l, mut r) = (vec![0.0f32; block], vec![0.0f32; block]);
    let seconds = 20.0;
    let blocks = (seconds * RATE) as usize / block;
    let started = Instant::now();
    let mut sink = 0.0f32;
    for _ in 0..blocks {
        l.copy_from_slice(&noise);
        r.copy_from_slice(&noise);
        chain.process(&mut l, &mut r, None);
        sink += l[0];
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{:<40} {:>8.0}x real time ({:.2} % of one core) {}",
        "insert chain: every stage, stereo",
        seconds as f64 / wall,
        100.0 * wall / seconds as f64,
        if sink.is_nan() { "NaN!" } else { "" }
    );
}
