//! The synth's contract: block size does not change the output, `reset` makes it repeatable,
//! `process` does not allocate, oscillators do not alias, notes sound at their pitch, and
//! voices are allocated as the patch says.

use assert_no_alloc::{assert_no_alloc, AllocDisabler};
use auralis_engine::params::P;
use auralis_engine::render::{events, render, NoteSpec};
use auralis_engine::{Event, EventKind, Synth, Values};
use realfft::RealFftPlanner;

#[cfg(debug_assertions)]
#[global_allocator]
static A: AllocDisabler = AllocDisabler;

const RATE: f32 = 48_000.0;

/// A patch that runs every part of the voice: unison with spread, FM, PWM, the ladder with
/// drive and envelope, a delayed vibrato, tremolo, glide, sub and noise.
fn busy_patch() -> Values {
    let mut v = Values::default();
    v.set(P::Osc1Wave, 3.0); // pulse
    v.set(P::Osc2Wave, 0.0); // sine modulator
    v.set(P::Osc2Level, 0.3);
    v.set(P::Osc2Octave, 1.0);
    v.set(P::FmAmount, 1.5);
    v.set(P::SubLevel, 0.4);
    v.set(P::NoiseLevel, 0.05);
    v.set(P::UnisonVoices, 3.0);
    v.set(P::UnisonDetune, 12.0);
    v.set(P::UnisonSpread, 0.8);
    v.set(P::FilterType, 3.0);
    v.set(P::FilterCutoff, 700.0);
    v.set(P::FilterResonance, 0.6);
    v.set(P::FilterDrive, 0.4);
    v.set(P::FilterEnvAmount, 3.0);
    v.set(P::FenvDecay, 250.0);
    v.set(P::Lfo1Rate, 5.5);
    v.set(P::Lfo1Pitch, 30.0);
    v.set(P::Lfo1Delay, 200.0);
    v.set(P::Lfo2Pw, 0.3);
    v.set(P::Lfo2Amp, 0.2);
    v.set(P::Lfo2Shape, 4.0);
    v.set(P::Glide, 40.0);
    v.set(P::AmpRelease, 120.0);
    v
}

fn song() -> Vec<(u64, EventKind)> {
    let notes: Vec<NoteSpec> = (0..24)
        .map(|i| NoteSpec {
            start_s: 0.0731 * i as f64,
            end_s: 0.0731 * i as f64 + 0.05 + 0.02 * (i % 5) as f64,
            pitch: 36 + ((i * 7) % 24) as u8,
            velocity: 0.3 + 0.03 * i as f32,
        })
        .collect();
    let mut ev = events(&notes, RATE);
    ev.push((
        12_345,
        EventKind::Param {
            index: P::FilterCutoff as usize,
            value: 2500.0,
        },
    ));
    ev.push((20_000, EventKind::PitchBend(0.5)));
    ev.sort_by_key(|e| e.0);
    ev
}

/// Renders `ev` in blocks whose sizes cycle through `sizes`.
fn render_blocks(
    synth: &mut Synth,
    ev: &[(u64, EventKind)],
    len: usize,
    sizes: &[usize],
) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * len);
    let (mut l, mut r) = (vec![0.0f32; 4096], vec![0.0f32; 4096]);
    let mut block = Vec::with_capacity(256);
    let (mut start, mut next, mut k) = (0usize, 0usize, 0usize);
    while start < len {
        let end = (start + sizes[k % sizes.len()]).min(len);
        k += 1;
        block.clear();
        while next < ev.len() && (ev[next].0 as usize) < end {
            block.push(Event {
                time: (ev[next].0 as usize - start) as u32,
                kind: ev[next].1,
            });
            next += 1;
        }
        let n = end - start;
        assert_no_alloc(|| synth.process(&block, &mut l[..n], &mut r[..n]));
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
        start = end;
    }
    out
}

#[test]
fn block_size_does_not_change_the_output_and_reset_repeats_it() {
    let len = 2 * RATE as usize;
    let ev = song();
    for mono in [false, true] {
        let mut values = busy_patch();
        values.set(P::VoiceMode, if mono { 1.0 } else { 0.0 });
        let mut synth = Synth::new(values);
        synth.allocate(RATE);
        let per_sample = render_blocks(&mut synth, &ev, len, &[1]);
        // The song's parameter event changed the patch: restore it, as a host restores state.
        synth.set_values(values);
        synth.reset();
        let blocks = render_blocks(&mut synth, &ev, len, &[64, 7, 333, 1, 4096, 100]);
        let peak = per_sample.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak > 0.05, "silent render (mono {mono}): {peak}");
        assert!(per_sample.iter().all(|x| x.is_finite()));
        let first_diff = per_sample.iter().zip(&blocks).position(|(a, b)| a != b);
        assert_eq!(
            first_diff, None,
            "mono {mono}: blocks differ from per-sample"
        );
        synth.set_values(values);
        synth.reset();
        let again = render_blocks(&mut synth, &ev, len, &[256]);
        assert!(
            again == per_sample,
            "mono {mono}: reset did not repeat the output"
        );
    }
}

/// Largest spectral component away from the harmonics of `f0`, relative to the fundamental,
/// dB (Blackman–Harris window: leakage is below −92 dB).
fn worst_alias_db(x: &[f32], f0: f32) -> f32 {
    let n = x.len();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut input: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let t = std::f32::consts::TAU * i as f32 / n as f32;
            let w =
                0.35875 - 0.48829 * t.cos() + 0.14128 * (2.0 * t).cos() - 0.01168 * (3.0 * t).cos();
            s * w
        })
        .collect();
    let mut spec = fft.make_output_vec();
    fft.process(&mut input, &mut spec).unwrap();
    let bin_hz = RATE / n as f32;
    let mag: Vec<f32> = spec.iter().map(|c| c.norm()).collect();
    let fund = mag[(f0 / bin_hz).round() as usize - 3..(f0 / bin_hz).round() as usize + 4]
        .iter()
        .fold(0.0f32, |m, &x| m.max(x));
    let mut worst = 0.0f32;
    for (k, &m) in mag.iter().enumerate().skip(8) {
        let f = k as f32 * bin_hz;
        let h = (f / f0).round().max(1.0);
        if (f - h * f0).abs() > 6.0 * bin_hz {
            worst = worst.max(m);
        }
    }
    20.0 * (worst / fund).log10()
}

#[test]
fn band_limited_oscillators_do_not_alias() {
    // Waves 1..4: saw, square, pulse, triangle; fundamentals up to 2 kHz.
    for wave in 1..=4 {
        for f0 in [261.6f32, 1046.5, 1975.5] {
            let mut v = Values::default();
            v.set(P::Osc1Wave, wave as f32);
            v.set(P::Osc1Pw, 0.3);
            v.set(P::AmpAttack, 0.5);
            v.set(
                P::Osc1Fine,
                100.0 * (12.0 * (f0 / 440.0).log2() - (12.0 * (f0 / 440.0).log2()).round()),
            );
            let note = (69.0 + 12.0 * (f0 / 440.0).log2()).round() as u8;
            let n = 1 << 15;
            let notes = [NoteSpec {
                start_s: 0.0,
                end_s: 10.0,
                pitch: note,
                velocity: 1.0,
            }];
            let [l, _] = render(&v, &notes, RATE, n + 4800);
            let db = worst_alias_db(&l[4800..], f0);
            assert!(db < -60.0, "wave {wave} at {f0} Hz: alias at {db:.1} dB");
        }
    }
}

/// Frequency of the strongest component (parabolic interpolation of the FFT peak).
fn peak_hz(x: &[f32]) -> f32 {
    let n = x.len();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut input: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, &s)| s * (0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos()))
        .collect();
    let mut spec = fft.make_output_vec();
    fft.process(&mut input, &mut spec).unwrap();
    let mag: Vec<f32> = spec.iter().map(|c| c.norm().max(1e-12).ln()).collect();
    let k = (1..mag.len() - 1)
        .max_by(|&a, &b| mag[a].total_cmp(&mag[b]))
        .unwrap();
    let d = 0.5 * (mag[k - 1] - mag[k + 1]) / (mag[k - 1] - 2.0 * mag[k] + mag[k + 1]);
    (k as f32 + d) * RATE / n as f32
}

#[test]
fn notes_sound_at_their_pitch_with_bend_and_tuning() {
    let mut v = Values::default();
    v.set(P::Osc1Wave, 0.0);
    let notes = [NoteSpec {
        start_s: 0.0,
        end_s: 2.0,
        pitch: 57,
        velocity: 1.0,
    }];
    let [l, _] = render(&v, &notes, RATE, 1 << 16);
    let f = peak_hz(&l[4096..4096 + (1 << 15)]);
    assert!((f - 220.0).abs() < 0.2, "{f}");

    // Octave, semitone and fine offsets; a bend of +1 on a range of 2.
    v.set(P::Osc1Octave, 1.0);
    v.set(P::Osc1Semi, -5.0);
    v.set(P::Osc1Fine, 50.0);
    let mut synth = Synth::new(v);
    synth.allocate(RATE);
    let (mut l, mut r) = (vec![0.0; 1 << 16], vec![0.0; 1 << 16]);
    let ev = [
        Event {
            time: 0,
            kind: EventKind::PitchBend(1.0),
        },
        Event {
            time: 0,
            kind: EventKind::NoteOn {
                note: 57,
                velocity: 1.0,
            },
        },
    ];
    synth.process(&ev, &mut l, &mut r);
    let f = peak_hz(&l[4096..4096 + (1 << 15)]);
    let want = 220.0 * 2f32.powf((12.0 - 5.0 + 0.5 + 2.0) / 12.0);
    assert!((f - want).abs() < 0.3, "{f} vs {want}");
}

#[test]
fn voices_are_allocated_as_the_patch_says() {
    let mut v = Values::default();
    v.set(P::Polyphony, 4.0);
    v.set(P::AmpRelease, 1000.0);
    let mut synth = Synth::new(v);
    synth.allocate(RATE);
    let (mut l, mut r) = (vec![0.0; 256], vec![0.0; 256]);
    let chord: Vec<Event> = (0..6)
        .map(|i| Event {
            time: i,
            kind: EventKind::NoteOn {
                note: 60 + i as u8,
                velocity: 0.8,
            },
        })
        .collect();
    synth.process(&chord, &mut l, &mut r);
    assert_eq!(
        synth.active_voices(),
        4,
        "polyphony 4: the oldest notes are stolen"
    );

    // Mono: a second key while the first is held glides there without a new attack, and
    // releasing it returns to the first.
    let mut v = Values::default();
    v.set(P::VoiceMode, 1.0);
    v.set(P::Osc1Wave, 0.0);
    v.set(P::AmpAttack, 300.0);
    let mut synth = Synth::new(v);
    synth.allocate(RATE);
    let on = |t, note| Event {
        time: t,
        kind: EventKind::NoteOn {
            note,
            velocity: 1.0,
        },
    };
    let mut l = vec![0.0; 48_000];
    let mut r = vec![0.0; 48_000];
    synth.process(&[on(0, 57), on(12_000, 69)], &mut l, &mut r);
    assert_eq!(synth.active_voices(), 1);
    // The attack (300 ms) keeps rising through the legato change at 250 ms.
    let rms = |x: &[f32]| (x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32).sqrt();
    assert!(rms(&l[12_000..13_000]) < rms(&l[14_000..15_000]));
    let f = peak_hz(&l[16_384..16_384 + 16_384]);
    assert!((f - 440.0).abs() < 1.0, "{f}");
    synth.process(
        &[Event {
            time: 0,
            kind: EventKind::NoteOff { note: 69 },
        }],
        &mut l,
        &mut r,
    );
    let f = peak_hz(&l[16_384..16_384 + 16_384]);
    assert!((f - 220.0).abs() < 1.0, "back to the held key: {f}");
}
