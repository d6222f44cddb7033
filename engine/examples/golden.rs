//! Prints a checksum of every preset's render of a fixed phrase: a change of the engine that
//! should not change the sound (an optimisation) must leave every line the same.
//!
//! `cargo run --release -p auralis-engine --example golden > before.txt`

use auralis_engine::render::{render, NoteSpec};

fn main() {
    let notes: Vec<NoteSpec> = (0..12)
        .map(|i| NoteSpec {
            start_s: 0.07 * i as f64,
            end_s: 0.07 * i as f64 + 0.5,
            pitch: 36 + 5 * i as u8,
            velocity: 0.3 + 0.05 * i as f32,
        })
        .collect();
    for p in auralis_engine::bank::presets() {
        let v = p.patch.values().expect("bank patch");
        let [l, r] = render(&v, &notes, 44_100.0, 66_150);
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for x in l.iter().chain(&r) {
            h = (h ^ x.to_bits() as u64).wrapping_mul(0x0100_0000_01b3);
        }
        println!("{:016x} {}", h, p.name);
    }
}
