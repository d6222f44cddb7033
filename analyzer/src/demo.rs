//! The embedded demo track: a short song synthesised from scratch, so that the main command
//! runs on a fresh machine with no audio file at hand, and so that tests have a track whose
//! every answer is known.
//!
//! 112 BPM, 4/4, D minor, 18 bars: a two-bar intro (chords and bass), an A section
//! (`Dm Bb Gm A`, drums enter), a B section (`Bb C Dm A` with a lead line) and A again, then a
//! final bar on the tonic. Drums are synthesised (pitch-swept sine kick, noise-and-tone snare,
//! filtered-noise hats), bass and chords are additive tones, the lead a vibrato sine.

use std::f64::consts::PI;
use std::path::Path;

use crate::error::{Error, Result};

/// Sample rate of the demo, Hz.
pub const RATE: u32 = 44_100;
/// Tempo, BPM.
pub const BPM: f64 = 112.0;
/// Beats per bar.
pub const BEATS_PER_BAR: usize = 4;
/// Silence before the first downbeat, seconds.
pub const LEAD_IN_S: f64 = 0.35;
/// Key label.
pub const KEY: &str = "D minor";

/// Chords of each bar: (root pitch class, minor?).
const BARS: &[(u8, bool)] = &[
    (2, true),
    (10, false), // intro
    (2, true),
    (10, false),
    (7, true),
    (9, false),
    (2, true),
    (10, false),
    (7, true),
    (9, false), // A
    (10, false),
    (0, false),
    (2, true),
    (9, false), // B
    (2, true),
    (10, false),
    (7, true),
    (9, false), // A
];
/// Final bar: the tonic.
const LAST: (u8, bool) = (2, true);

fn section_of(bar: usize) -> usize {
    match bar {
        0..=1 => 0,
        2..=9 => 1,
        10..=13 => 2,
        _ => 3,
    }
}

/// Seconds per beat.
pub fn beat_s() -> f64 {
    60.0 / BPM
}

/// Number of bars including the final one.
pub fn bars() -> usize {
    BARS.len() + 1
}

/// Beat times of the demo, seconds.
pub fn beats() -> Vec<f64> {
    (0..bars() * BEATS_PER_BAR)
        .map(|b| LEAD_IN_S + b as f64 * beat_s())
        .collect()
}

/// Chord labels per bar (Harte).
pub fn chord_labels() -> Vec<String> {
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
    ];
    BARS.iter()
        .chain(std::iter::once(&LAST))
        .map(|&(r, m)| format!("{}:{}", NAMES[r as usize], if m { "min" } else { "maj" }))
        .collect()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        // xorshift64*: deterministic noise for the drums.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

fn hz(midi: f64) -> f64 {
    440.0 * 2f64.powf((midi - 69.0) / 12.0)
}

/// Adds a tone with `harmonics` partials (amplitude 1/h·decay) to both channels.
#[allow(clippy::too_many_arguments)]
fn tone(
    out: &mut [[f64; 2]],
    start: f64,
    dur: f64,
    f0: f64,
    amp: f64,
    harmonics: usize,
    attack: f64,
    pan: f64,
) {
    let rate = f64::from(RATE);
    let s0 = (start * rate) as usize;
    let n = ((dur + 0.15) * rate) as usize;
    let (gl, gr) = (((1.0 - pan) * 0.5).sqrt(), ((1.0 + pan) * 0.5).sqrt());
    for i in 0..n {
        let idx = s0 + i;
        if idx >= out.len() {
            break;
        }
        let t = i as f64 / rate;
        let env = (t / attack).min(1.0)
            * if t > dur {
                (-(t - dur) / 0.04).exp()
            } else {
                1.0
            };
        let mut v = 0.0;
        for h in 1..=harmonics {
            let fh = f0 * h as f64;
            if fh > 9000.0 {
                break;
            }
            v += (2.0 * PI * fh * t).sin() / h as f64 * (-(h as f64) * t * 0.8).exp();
        }
        out[idx][0] += amp * env * v * gl;
        out[idx][1] += amp * env * v * gr;
    }
}

fn kick(out: &mut [[f64; 2]], start: f64, amp: f64) {
    let rate = f64::from(RATE);
    let s0 = (start * rate) as usize;
    let mut phase = 0.0;
    for i in 0..(0.35 * rate) as usize {
        let Some(o) = out.get_mut(s0 + i) else { break };
        let t = i as f64 / rate;
        let f = 50.0 + 110.0 * (-t / 0.03).exp();
        phase += 2.0 * PI * f / rate;
        let v = amp * phase.sin() * (-t / 0.12).exp();
        o[0] += v;
        o[1] += v;
    }
}

/// A noise-based drum hit: snare (noise and a tone body) or hat (high-passed noise).
struct NoiseHit {
    amp: f64,
    decay_s: f64,
    tone_hz: f64,
    highpass: bool,
    pan: f64,
}

const SNARE: NoiseHit = NoiseHit {
    amp: 0.16,
    decay_s: 0.06,
    tone_hz: 190.0,
    highpass: false,
    pan: 0.0,
};
const HAT: NoiseHit = NoiseHit {
    amp: 0.045,
    decay_s: 0.015,
    tone_hz: 0.0,
    highpass: true,
    pan: 0.4,
};

fn noise_hit(out: &mut [[f64; 2]], start: f64, hit: &NoiseHit, rng: &mut Rng) {
    let rate = f64::from(RATE);
    let s0 = (start * rate) as usize;
    let (gl, gr) = (
        ((1.0 - hit.pan) * 0.5).sqrt(),
        ((1.0 + hit.pan) * 0.5).sqrt(),
    );
    let mut prev = 0.0;
    for i in 0..(hit.decay_s * 6.0 * rate) as usize {
        let Some(o) = out.get_mut(s0 + i) else { break };
        let t = i as f64 / rate;
        let n = rng.next();
        let x = if hit.highpass { n - prev } else { n };
        prev = n;
        let body = if hit.tone_hz > 0.0 {
            0.6 * (2.0 * PI * hit.tone_hz * t).sin()
        } else {
            0.0
        };
        let v = hit.amp * (x + body) * (-t / hit.decay_s).exp();
        o[0] += v * gl;
        o[1] += v * gr;
    }
}

/// A variation of the demo, for tests that need a known pair (the QC's "detuned copy",
/// "drums muted").
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Variant {
    /// Semitones added to every pitched part (bass, chords, lead); the drums stay.
    pub transpose: i8,
    /// Leaves the drums out.
    pub no_drums: bool,
}

/// Renders the demo as interleaved stereo samples at [`RATE`].
pub fn render() -> Vec<[f32; 2]> {
    render_variant(Variant::default())
}

/// Renders a variant of the demo at the demo's own gain (the gain that brings the unchanged
/// demo's peak to −1 dBFS), so that a variant differs from the demo only as it says.
pub fn render_variant(variant: Variant) -> Vec<[f32; 2]> {
    let out = render_raw(variant);
    let peak_of = |x: &[[f64; 2]]| {
        x.iter()
            .flat_map(|f| [f[0].abs(), f[1].abs()])
            .fold(0.0, f64::max)
            .max(1e-9)
    };
    let peak = if variant == Variant::default() {
        peak_of(&out)
    } else {
        peak_of(&render_raw(Variant::default()))
    };
    let g = 10f64.powf(-1.0 / 20.0) / peak;
    out.iter()
        .map(|f| [(f[0] * g) as f32, (f[1] * g) as f32])
        .collect()
}

fn render_raw(variant: Variant) -> Vec<[f64; 2]> {
    let b = beat_s();
    let shift = f64::from(variant.transpose);
    let drums = !variant.no_drums;
    let total_s = LEAD_IN_S + (bars() * BEATS_PER_BAR) as f64 * b + 2.0;
    let mut out = vec![[0.0f64; 2]; (total_s * f64::from(RATE)) as usize];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let all: Vec<(u8, bool)> = BARS.iter().copied().chain(std::iter::once(LAST)).collect();
    let lead = [74.0, 72.0, 70.0, 69.0, 70.0, 72.0, 74.0, 76.0];
    for (bar, &(root, minor)) in all.iter().enumerate() {
        let t0 = LEAD_IN_S + (bar * BEATS_PER_BAR) as f64 * b;
        let last = bar == all.len() - 1;
        let sec = if last { 0 } else { section_of(bar) };
        let third = if minor { 3.0 } else { 4.0 };
        let base = 57.0 + f64::from((root + 12 - 9) % 12) + shift; // voicing from A3 upwards
        let bar_len = if last { b } else { 4.0 * b };
        for (k, iv) in [0.0, third, 7.0].iter().enumerate() {
            let pan = [-0.3, 0.3, 0.0][k];
            // Chords re-struck on beats 1 and 3.
            tone(
                &mut out,
                t0,
                bar_len * 0.5 - 0.02,
                hz(base + iv),
                0.07,
                6,
                0.01,
                pan,
            );
            if !last {
                tone(
                    &mut out,
                    t0 + 2.0 * b,
                    2.0 * b - 0.05,
                    hz(base + iv),
                    0.06,
                    6,
                    0.01,
                    pan,
                );
            }
        }
        let bass = 38.0 + f64::from((root + 12 - 2) % 12) + shift; // D2 upwards
        let bass_beats: &[f64] = if last { &[0.0] } else { &[0.0, 1.5, 2.0, 3.0] };
        for &beat in bass_beats {
            tone(
                &mut out,
                t0 + beat * b,
                0.45 * b,
                hz(bass),
                0.22,
                5,
                0.005,
                0.0,
            );
        }
        if drums && sec > 0 && !last {
            for beat in 0..BEATS_PER_BAR {
                let t = t0 + beat as f64 * b;
                if beat % 2 == 0 {
                    kick(&mut out, t, 0.55);
                } else {
                    noise_hit(&mut out, t, &SNARE, &mut rng);
                }
                for half in [0.0, 0.5] {
                    noise_hit(&mut out, t + half * b, &HAT, &mut rng);
                }
            }
            kick(&mut out, t0 + 2.5 * b, 0.4);
        }
        if sec == 2 {
            for (i, &p) in lead.iter().enumerate() {
                let t = t0 + i as f64 * 0.5 * b;
                let p = if i % 2 == 0 {
                    p
                } else {
                    p - f64::from(u8::from(i % 4 == 1)) * 2.0
                };
                tone(&mut out, t, 0.45 * b, hz(p + shift), 0.08, 3, 0.01, -0.1);
            }
        }
        if drums && last {
            kick(&mut out, t0, 0.55);
        }
    }
    out
}

/// Writes the demo as a 24-bit stereo WAV.
pub fn write_wav(path: &Path) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let pending = crate::session::PendingFile::new(path);
    let io = |e: hound::Error| match e {
        hound::Error::IoError(io) => Error::io(path, "writing the demo track", io),
        other => Error::Internal {
            stage: "demo",
            detail: other.to_string(),
        },
    };
    let mut w = hound::WavWriter::create(pending.path(), spec).map_err(io)?;
    let full = f64::from((1 << 23) - 1);
    for f in render() {
        for s in f {
            w.write_sample((f64::from(s) * full).round() as i32)
                .map_err(io)?;
        }
    }
    w.finalize().map_err(io)?;
    pending.commit()
}
