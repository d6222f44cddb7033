//! Meter end to end on synthesised audio: a simple (3/4) and a compound (6/8) meter, each with
//! drums marking the bar and a chord change on every downbeat.

use std::f64::consts::PI;
use std::path::Path;

use auralis::{profile, progress};

const RATE: u32 = 44_100;

/// Renders `bars` bars: `pulses_per_bar` pulses per bar at `pulse_s` seconds, an accent
/// pattern per pulse (kick on strong pulses, a hat on every pulse) and a new chord every bar,
/// alternating A minor and E major so that every barline changes harmony by the same amount
/// (no hypermeter to mistake for a longer bar).
fn render(path: &Path, bars: usize, pulses_per_bar: usize, pulse_s: f64, accents: &[f64]) {
    let lead = 0.3;
    let total = lead + bars as f64 * pulses_per_bar as f64 * pulse_s + 1.0;
    let n = (total * f64::from(RATE)) as usize;
    let mut x = vec![0.0f64; n];
    let chords: [[f64; 3]; 2] = [[57.0, 60.0, 64.0], [52.0, 56.0, 59.0]];
    let mut noise = 0x1234_5678u64;
    for bar in 0..bars {
        let t0 = lead + (bar * pulses_per_bar) as f64 * pulse_s;
        let bar_len = pulses_per_bar as f64 * pulse_s;
        let chord = chords[bar % 2];
        // Chord tones and a bass root for the whole bar.
        let s0 = (t0 * f64::from(RATE)) as usize;
        for i in 0..(bar_len * f64::from(RATE)) as usize {
            let t = i as f64 / f64::from(RATE);
            let env = (t / 0.01).min(1.0);
            let mut v = 0.0;
            for m in chord.iter().chain(std::iter::once(&(chord[0] - 24.0))) {
                let f = 440.0 * 2f64.powf((m - 69.0) / 12.0);
                v += 0.05 * (2.0 * PI * f * t).sin() + 0.02 * (4.0 * PI * f * t).sin();
            }
            if let Some(o) = x.get_mut(s0 + i) {
                *o += env * v;
            }
        }
        for (p, &accent) in accents.iter().enumerate().take(pulses_per_bar) {
            let s = ((t0 + p as f64 * pulse_s) * f64::from(RATE)) as usize;
            for i in 0..(0.2 * f64::from(RATE)) as usize {
                let t = i as f64 / f64::from(RATE);
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                let hat = ((noise % 2000) as f64 / 1000.0 - 1.0) * 0.08 * (-t / 0.01).exp();
                let kick = accent
                    * 0.6
                    * (2.0 * PI * (50.0 + 90.0 * (-t / 0.02).exp()) * t).sin()
                    * (-t / 0.08).exp();
                if let Some(o) = x.get_mut(s + i) {
                    *o += hat + kick;
                }
            }
        }
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let peak = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for v in x {
        w.write_sample((v / peak * 0.8 * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

fn meter_of(name: &str, pulses_per_bar: usize, pulse_s: f64, accents: &[f64]) -> (u32, u32, f64) {
    let dir = std::env::temp_dir().join(format!("auralis-meter-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("track.wav");
    render(&path, 24, pulses_per_bar, pulse_s, accents);
    let s = profile::analyze(&path, None, &progress::Silent)
        .unwrap()
        .session;
    std::fs::remove_dir_all(&dir).unwrap();
    (s.meter.numerator, s.meter.denominator, s.tempo.bpm)
}

#[test]
fn three_four_waltz() {
    // 100 BPM, kick on one.
    let (num, den, bpm) = meter_of("34", 3, 0.6, &[1.0, 0.0, 0.0]);
    assert_eq!((num, den), (3, 4));
    assert!((bpm - 100.0).abs() < 2.0, "{bpm}");
}

#[test]
fn six_eight_compound() {
    // Eighths at 0.2 s: dotted-quarter beat at 100 BPM, kick on one, lighter kick on four.
    let (num, den, bpm) = meter_of("68", 6, 0.2, &[1.0, 0.0, 0.0, 0.6, 0.0, 0.0]);
    assert_eq!((num, den), (6, 8), "{bpm} BPM");
    assert!((bpm - 100.0).abs() < 2.0, "{bpm}");
}

#[test]
fn four_four() {
    let (num, den, bpm) = meter_of("44", 4, 0.5, &[1.0, 0.3, 0.7, 0.3]);
    assert_eq!((num, den), (4, 4));
    assert!((bpm - 120.0).abs() < 2.0, "{bpm}");
}
