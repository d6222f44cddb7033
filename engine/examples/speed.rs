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
}
