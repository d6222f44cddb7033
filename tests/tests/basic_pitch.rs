//! Basic Pitch through ONNX Runtime on the real model: windows of digital silence are skipped
//! (their output is the model's output for a silent window, computed once), and the result is
//! the same as running every window.
//!
//! Needs the model cache (`cargo xtask models`, which `.ci/run` runs first).

use auralis::models::{Device, Model, Store};
use auralis::transcribe::basic_pitch::{self, SAMPLE_RATE};
use auralis::transcribe::BASIC_PITCH;

#[test]
fn skipping_silent_windows_changes_nothing() {
    let store = Store::open(None);
    let mut model = Model::load(&store, BASIC_PITCH, Device::Cpu)
        .expect("Basic Pitch is installed in the model cache (run `cargo xtask models`)");
    // 2 s of a plucked A3 with its octave, 9 s of digital silence (several whole windows), 2 s
    // of an E4 again.
    let rate = SAMPLE_RATE as usize;
    let audio: Vec<f32> = (0..13 * rate)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let tone = |f: f32, t0: f32| {
                let u = t - t0;
                0.3 * (-3.0 * u).exp()
                    * ((std::f32::consts::TAU * f * u).sin()
                        + 0.5 * (std::f32::consts::TAU * 2.0 * f * u).sin())
            };
            if t < 2.0 {
                tone(220.0, 0.0)
            } else if t < 11.0 {
                0.0
            } else {
                tone(329.63, 11.0)
            }
        })
        .collect();
    let all = basic_pitch::infer_with(&mut model, &audio, false, &mut |_| {}).unwrap();
    let skipped = basic_pitch::infer_with(&mut model, &audio, true, &mut |_| {}).unwrap();
    assert_eq!(all.frames, skipped.frames);
    for (name, a, b) in [
        ("note", &all.note, &skipped.note),
        ("onset", &all.onset, &skipped.onset),
        ("contour", &all.contour, &skipped.contour),
    ] {
        assert_eq!(a.len(), b.len(), "{name}");
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{name}: largest difference {worst}");
    }
    // Both notes are found.
    let notes = basic_pitch::notes(&skipped, &basic_pitch::NoteParams::default());
    for pitch in [57u8, 64] {
        assert!(
            notes.iter().any(|n| n.pitch == pitch),
            "{pitch} in {notes:?}"
        );
    }
}
