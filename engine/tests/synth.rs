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

/// A patch that runs every part of the voice: unison with spread, FM from the wavetable, PWM, the ladder with
/// drive and envelope, a delayed vibrato, tremolo, glide, sub and noise, and the tone EQ.
fn busy_patch() -> Values {
    let mut v = Values::default();
    v.set(P::Osc1Wave, 3.0); // pulse
    v.set(P::Osc2Wave, 6.0); // wavetable modulator
    v.set(P::Osc2WtPos, 0.6);
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
    v.set(P::Fm4Level4, 0.3);
    v.set(P::Fm4Feedback, 0.8);
    v.set(P::Eq125, 4.0);
    v.set(P::Eq4k, -6.0);
    v.set(P::Fine1k, 3.0);
    v.set(P::Fine6k3, -4.0);
    v.set(P::ToneHighCut, 9_000.0);
    v.set(P::ReverbLevel, 0.3);
    v.set(P::ReverbRt60, 0.8);
    v.set(P::ReverbPredelay, 15.0);
    v.set(P::ReverbDamp, 5_000.0);
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
    // Poly and mono subtractive, then the plucked string, the sung voice, the drum kit (the
    // song's notes 36..59 hit every drum class) and four-operator FM (with feedback).
    for (mono, voice_type) in [
        (false, 0.0),
        (true, 0.0),
        (false, 1.0),
        (true, 2.0),
        (false, 3.0),
    ] {
        let mut values = busy_patch();
        values.set(P::VoiceMode, if mono { 1.0 } else { 0.0 });
        values.set(P::VoiceType, voice_type);
        // The kit with two classes' own EQ on (their hits go through the class buses).
        values.set(P::KickEq63, 6.0);
        values.set(P::HatEq8k, -9.0);
        let mut synth = Synth::new(values);
        synth.allocate(RATE);
        let per_sample = render_blocks(&mut synth, &ev, len, &[1]);
        // The song's parameter event changed the patch: restore it, as a host restores state.
        synth.set_values(values);
        synth.reset();
        let blocks = render_blocks(&mut synth, &ev, len, &[64, 7, 333, 1, 4096, 100]);
        let peak = per_sample.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(
            peak > 0.05,
            "silent render (voice type {voice_type}): {peak}"
        );
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
    // Waves 1..4 and 6: saw, square, pulse, triangle, the wavetable (between its buzzy and
    // vowel-like frames); fundamentals up to 2 kHz.
    for wave in [1, 2, 3, 4, 6] {
        for f0 in [261.6f32, 1046.5, 1975.5] {
            let mut v = Values::default();
            v.set(P::Osc1Wave, wave as f32);
            v.set(P::Osc1Pw, 0.3);
            v.set(P::Osc1WtPos, 0.93);
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
    peak_hz_in(x, 0.0, RATE / 2.0)
}

/// Frequency of the strongest component between `lo` and `hi` Hz.
fn peak_hz_in(x: &[f32], lo: f32, hi: f32) -> f32 {
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
    let bin_hz = RATE / n as f32;
    let k = (1..mag.len() - 1)
        .filter(|&k| (lo..hi).contains(&(k as f32 * bin_hz)))
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

/// Energy of `x` between `lo` and `hi` Hz, as a share of its total.
fn band_share(x: &[f32], lo: f32, hi: f32) -> f32 {
    let n = x.len().next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut input = x.to_vec();
    input.resize(n, 0.0);
    let mut spec = fft.make_output_vec();
    fft.process(&mut input, &mut spec).unwrap();
    let bin_hz = RATE / n as f32;
    let total: f32 = spec.iter().map(|c| c.norm_sqr()).sum();
    let band: f32 = spec
        .iter()
        .enumerate()
        .filter(|(k, _)| (lo..hi).contains(&(*k as f32 * bin_hz)))
        .map(|(_, c)| c.norm_sqr())
        .sum();
    band / total.max(1e-20)
}

fn hit(values: &Values, note: u8, len: usize) -> Vec<f32> {
    let notes = [NoteSpec {
        start_s: 0.0,
        end_s: 0.1,
        pitch: note,
        velocity: 1.0,
    }];
    render(values, &notes, RATE, len)[0].clone()
}

#[test]
fn drum_classes_sound_like_their_class_and_end() {
    let mut kit = Values::default();
    kit.set(P::VoiceType, 3.0);
    kit.set(P::KickTune, 55.0);
    let kick = hit(&kit, 36, 48_000);
    assert!(
        band_share(&kick, 20.0, 200.0) > 0.8,
        "kick: {}",
        band_share(&kick, 20.0, 200.0)
    );
    // After the sweep the body rings at kick_tune_hz.
    let f = peak_hz(&kick[9_600..9_600 + 8192]);
    assert!((f - 55.0).abs() < 2.0, "kick body at {f} Hz");
    let hat = hit(&kit, 42, 24_000);
    assert!(band_share(&hat, 5_000.0, 24_000.0) > 0.8, "hat");
    let snare = hit(&kit, 38, 24_000);
    let tone = band_share(&snare, 150.0, 400.0);
    let noise = band_share(&snare, 1_000.0, 24_000.0);
    assert!(
        tone > 0.1 && noise > 0.2,
        "snare: tone {tone}, noise {noise}"
    );
    let clap = hit(&kit, 39, 24_000);
    assert!(band_share(&clap, 600.0, 3_000.0) > 0.5, "clap");
    let low_tom = peak_hz(&hit(&kit, 41, 32_768)[4_800..]);
    let high_tom = peak_hz(&hit(&kit, 50, 32_768)[4_800..]);
    assert!(
        (high_tom / low_tom - 16.0 / 9.0).abs() < 0.1,
        "toms {low_tom} {high_tom}"
    );

    // Every hit ends (kick decay 400 ms, open hat 400 ms), and a closed hat chokes the open.
    let mut synth = Synth::new(kit);
    synth.allocate(RATE);
    let (mut l, mut r) = (vec![0.0; 48_000], vec![0.0; 48_000]);
    let on = |time, note| Event {
        time,
        kind: EventKind::NoteOn {
            note,
            velocity: 1.0,
        },
    };
    synth.process(&[on(0, 36), on(0, 46), on(0, 49)], &mut l, &mut r);
    assert_eq!(
        synth.active_voices(),
        1,
        "only the crash (1.8 s) still rings"
    );
    synth.reset();
    synth.process(&[on(0, 46), on(4_800, 42)], &mut l, &mut r);
    let after = l[7_200..9_600].iter().map(|x| x.abs()).fold(0.0, f32::max);
    assert!(after < 1e-3, "open hat not choked: {after}");
}

/// Energy of `x` (linear) between `lo` and `hi` Hz.
fn band_energy(x: &[f32], lo: f32, hi: f32) -> f32 {
    band_share(x, lo, hi) * x.iter().map(|s| s * s).sum::<f32>()
}

/// A class's tone EQ shapes that class's hits, by its gain, and leaves the other classes as
/// they were, sample for sample.
#[test]
fn a_drum_class_eq_shapes_only_its_class() {
    let mut kit = Values::default();
    kit.set(P::VoiceType, 3.0);
    let mut eq = kit;
    eq.set(P::KickEq1k, 12.0);
    // Kick: its band around 1 kHz (the click) rises by about the gain; its body, far below,
    // hardly moves.
    let (plain, boosted) = (hit(&kit, 36, 24_000), hit(&eq, 36, 24_000));
    let rise = 10.0
        * (band_energy(&boosted, 800.0, 1_250.0) / band_energy(&plain, 800.0, 1_250.0)).log10();
    assert!((rise - 12.0).abs() < 2.0, "kick 1 kHz rose {rise} dB");
    let body =
        10.0 * (band_energy(&boosted, 30.0, 120.0) / band_energy(&plain, 30.0, 120.0)).log10();
    assert!(body.abs() < 1.0, "kick body moved {body} dB");
    // Hats and snares: untouched.
    for note in [42, 38] {
        assert_eq!(
            hit(&kit, note, 12_000),
            hit(&eq, note, 12_000),
            "note {note}"
        );
    }
}

/// The fine EQ and the high cut shape the sound as their analytic responses say: white noise
/// through a third-octave band raised by 9 dB at 1 kHz and a fourth-order Butterworth cut at
/// 6 kHz, against the same noise without them (the noise repeats: the ratio is the filter's).
#[test]
fn the_fine_eq_and_the_high_cut_follow_their_responses() {
    let mut noise = Values::default();
    noise.set(P::Osc1Level, 0.0);
    noise.set(P::NoiseLevel, 1.0);
    noise.set(P::AmpSustain, 1.0);
    let mut shaped = noise;
    shaped.set(P::Fine1k, 9.0);
    shaped.set(P::ToneHighCut, 6_000.0);
    let held = |v: &Values| {
        let notes = [NoteSpec {
            start_s: 0.0,
            end_s: 2.0,
            pitch: 60,
            velocity: 1.0,
        }];
        render(v, &notes, RATE, 96_000)[0][4_800..].to_vec()
    };
    let (plain, out) = (held(&noise), held(&shaped));
    let gain_db = |f: f32| {
        let (lo, hi) = (f * 0.97, f * 1.03);
        10.0 * (band_energy(&out, lo, hi) / band_energy(&plain, lo, hi)).log10()
    };
    // The engine's peaking band is the RBJ cookbook's, as the console's EQ computes it.
    let fine = |f: f32| {
        auralis_engine::fx::eq::Band {
            kind: auralis_engine::fx::eq::BandKind::Peak,
            freq_hz: 1_000.0,
            gain_db: 9.0,
            q: auralis_engine::params::FINE_EQ_Q,
        }
        .response_db(f, RATE)
    };
    let cut = |f: f32| {
        let warp = |x: f32| (std::f32::consts::PI * x / RATE).tan();
        -10.0 * (1.0 + (warp(f) / warp(6_000.0)).powi(8)).log10()
    };
    for f in [
        250.0, 800.0, 1_000.0, 1_250.0, 3_000.0, 6_000.0, 9_000.0, 12_000.0,
    ] {
        let want = fine(f) as f32 + cut(f);
        let got = gain_db(f);
        assert!(
            (got - want).abs() < 0.6,
            "{f} Hz: {got:.2} dB, analytic {want:.2} dB"
        );
    }
    assert!(
        gain_db(12_000.0) < -23.0,
        "a fourth-order cut is 24 dB down an octave up"
    );
}

/// The tone EQs, the high cut and the reverb follow their parameters when automated: a
/// change sent while a note plays lands where a patch set that way from the start is.
#[test]
fn automated_eq_high_cut_and_reverb_settings_take_effect() {
    let mut plain = Values::default();
    plain.set(P::AmpSustain, 1.0);
    plain.set(P::ReverbRt60, 0.8);
    let mut set = plain;
    let moves = [
        (P::Fine1k, 9.0),
        (P::Eq4k, -6.0),
        (P::ToneHighCut, 5_000.0),
        (P::ToneHighCutSlope, 1.0),
        (P::ReverbLevel, 0.3),
        (P::ReverbRt60, 0.3),
    ];
    for (p, x) in moves {
        set.set(p, x);
    }
    let len = 48_000;
    let play = |v: Values, automate: bool| {
        let mut synth = Synth::new(v);
        synth.allocate(RATE);
        let mut ev = vec![(
            0u64,
            EventKind::NoteOn {
                note: 57,
                velocity: 0.9,
            },
        )];
        if automate {
            ev.extend(moves.iter().map(|&(p, value)| {
                (
                    1_000,
                    EventKind::Param {
                        index: p as usize,
                        value,
                    },
                )
            }));
        }
        render_blocks(&mut synth, &ev, len, &[64])
    };
    let (before, after, automated) = (play(plain, false), play(set, false), play(plain, true));
    // Over the last quarter second, the smoothing long done and the reverb's old tail gone.
    let tail = 2 * (len - 12_000)..2 * len;
    let diff = |a: &[f32], b: &[f32]| {
        a[tail.clone()]
            .iter()
            .zip(&b[tail.clone()])
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f32>()
            .sqrt()
    };
    let apart = diff(&before, &after);
    assert!(apart > 1.0, "the settings change the sound ({apart})");
    let left = diff(&automated, &after);
    assert!(
        left < 0.02 * apart,
        "automated, the sound lands on the set one: {left} left of {apart}"
    );
}

/// The steep high-cut slopes follow the Butterworth responses of order 8 and 16 (white noise
/// against the same noise unfiltered, as above).
#[test]
fn the_steep_high_cut_slopes_follow_their_responses() {
    let mut noise = Values::default();
    noise.set(P::Osc1Level, 0.0);
    noise.set(P::NoiseLevel, 1.0);
    noise.set(P::AmpSustain, 1.0);
    let held = |v: &Values| {
        let notes = [NoteSpec {
            start_s: 0.0,
            end_s: 2.0,
            pitch: 60,
            velocity: 1.0,
        }];
        render(v, &notes, RATE, 96_000)[0][4_800..].to_vec()
    };
    let plain = held(&noise);
    let corner = 15_000.0f32;
    for (slope, order) in [(1.0f32, 8), (2.0, 16)] {
        let mut shaped = noise;
        shaped.set(P::ToneHighCut, corner);
        shaped.set(P::ToneHighCutSlope, slope);
        assert_eq!(auralis_engine::params::high_cut_order(slope), order);
        let out = held(&shaped);
        let gain_db = |f: f32| {
            let (lo, hi) = (f * 0.99, f * 1.01);
            10.0 * (band_energy(&out, lo, hi) / band_energy(&plain, lo, hi)).log10()
        };
        let warp = |x: f32| (std::f32::consts::PI * x / RATE).tan();
        let cut = |f: f32| -10.0 * (1.0 + (warp(f) / warp(corner)).powi(2 * order as i32)).log10();
        // Compared down to 25 dB under the pass band, where the band's measure is exact enough.
        for f in [
            3_000.0, 10_000.0, 13_500.0, 14_500.0, 15_000.0, 15_500.0, 16_000.0,
        ] {
            let (got, want) = (gain_db(f), cut(f));
            assert!(
                (got - want).abs() < 0.6,
                "order {order}, {f} Hz: {got:.2} dB, analytic {want:.2} dB"
            );
        }
        // 18 kHz, a quarter of an octave up: the fourth order is 17 dB down, these 33 and 66.
        assert!(gain_db(18_000.0) < -28.0, "order {order}");
    }
}

#[test]
fn the_plucked_string_is_in_tune_and_decays_as_set() {
    let mut v = Values::default();
    v.set(P::VoiceType, 1.0);
    v.set(P::Osc1Wave, 5.0); // noise burst
    v.set(P::PluckDecay, 1000.0);
    v.set(P::PluckBrightness, 0.6);
    for note in [45u8, 57, 69, 81] {
        let notes = [NoteSpec {
            start_s: 0.0,
            end_s: 3.0,
            pitch: note,
            velocity: 1.0,
        }];
        let [l, _] = render(&v, &notes, RATE, 3 * 48_000);
        let want = 440.0 * 2f32.powf((note as f32 - 69.0) / 12.0);
        // The strongest component within a fifth of the fundamental (a bright pluck's
        // strongest partial may be a harmonic).
        let f = peak_hz_in(&l[2_400..2_400 + 16_384], want / 1.5, want * 1.5);
        let cents = 1200.0 * (f / want).log2();
        assert!(
            cents.abs() < 8.0,
            "note {note}: {f} Hz, {cents:.1} cents off"
        );
    }
    // C4's fundamental falls 60 dB in pluck_decay_ms: about 30 dB at half of it.
    let notes = [NoteSpec {
        start_s: 0.0,
        end_s: 3.0,
        pitch: 60,
        velocity: 1.0,
    }];
    let [l, _] = render(&v, &notes, RATE, 2 * 48_000);
    let rms = |x: &[f32]| (x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32).sqrt();
    let drop_db = 20.0 * (rms(&l[2_400..7_200]) / rms(&l[26_400..31_200])).log10();
    assert!(
        (22.0..40.0).contains(&drop_db),
        "fell {drop_db:.1} dB in 0.5 s"
    );
}

#[test]
fn vowels_move_the_formants() {
    let mut v = Values::default();
    v.set(P::VoiceType, 2.0);
    v.set(P::Osc1Wave, 1.0);
    v.set(P::FormantBreath, 0.0);
    let sung = |vowel: f32| {
        let mut v = v;
        v.set(P::FormantVowel, vowel);
        hit(&v, 48, 32_768)[4_800..].to_vec()
    };
    let (a, i) = (sung(0.0), sung(2.0));
    // "a" has its first formant at 730 Hz, "i" at 270 Hz.
    assert!(band_share(&a, 600.0, 900.0) > 2.0 * band_share(&i, 600.0, 900.0));
    assert!(band_share(&i, 200.0, 350.0) > 2.0 * band_share(&a, 200.0, 350.0));
}

/// The left channel of `note` held for the whole render.
fn held(values: &Values, note: u8, len: usize) -> Vec<f32> {
    let notes = [NoteSpec {
        start_s: 0.0,
        end_s: 10.0,
        pitch: note,
        velocity: 1.0,
    }];
    render(values, &notes, RATE, len)[0].clone()
}

/// `x` under a Hann window (a steady tone's leakage stays within a few bins).
fn hann(x: &[f32]) -> Vec<f32> {
    let n = x.len();
    x.iter()
        .enumerate()
        .map(|(i, &s)| s * (0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos()))
        .collect()
}

#[test]
fn four_operator_fm_makes_the_spectra_its_algorithms_predict() {
    let mut v = Values::default();
    v.set(P::VoiceType, 4.0);
    v.set(P::Fm4Sustain, 1.0);
    v.set(P::Fm4Level2, 0.0);
    v.set(P::Fm4Level3, 0.0);
    v.set(P::Fm4Level4, 0.0);
    // Stack with every modulator silent: a sine at operator 1's ratio.
    v.set(P::Fm4Ratio1, 2.0);
    let x = held(&v, 57, 40_000)[4_800..4_800 + 32_768].to_vec();
    let f = peak_hz(&x);
    assert!((f - 440.0).abs() < 0.5, "{f}");
    let share = band_share(&hann(&x), 430.0, 450.0);
    assert!(share > 0.99, "{share}");
    // A modulator at twice the carrier's frequency puts energy only on odd harmonics of the
    // carrier (carrier ± 2n·carrier), and more index spreads it higher.
    v.set(P::Fm4Ratio1, 1.0);
    v.set(P::Fm4Ratio2, 2.0);
    let spread = |level: f32| {
        let mut v = v;
        v.set(P::Fm4Level2, level);
        let x = hann(&held(&v, 57, 40_000)[4_800..4_800 + 32_768]);
        let even: f32 = [440.0f32, 880.0, 1320.0]
            .iter()
            .map(|h| band_share(&x, h - 10.0, h + 10.0))
            .sum();
        (even, band_share(&x, 500.0, 24_000.0))
    };
    let (even_lo, high_lo) = spread(0.1);
    let (even_hi, high_hi) = spread(0.4);
    assert!(
        even_lo < 1e-4 && even_hi < 1e-4,
        "even harmonics {even_lo} {even_hi}"
    );
    assert!(
        high_hi > 2.0 * high_lo && high_lo > 0.01,
        "{high_lo} → {high_hi}"
    );
    // Parallel: every operator heard at its own ratio.
    let mut p = Values::default();
    p.set(P::VoiceType, 4.0);
    p.set(P::Fm4Algorithm, 3.0);
    p.set(P::Fm4Sustain, 1.0);
    for (level, ratio) in [
        (P::Fm4Level2, P::Fm4Ratio2),
        (P::Fm4Level3, P::Fm4Ratio3),
        (P::Fm4Level4, P::Fm4Ratio4),
    ] {
        p.set(level, 0.5);
        p.set(ratio, 1.0);
    }
    p.set(P::Fm4Ratio3, 3.0);
    let x = hann(&held(&p, 57, 40_000)[4_800..4_800 + 32_768]);
    assert!(band_share(&x, 210.0, 230.0) > 0.5 && band_share(&x, 650.0, 670.0) > 0.05);
}
