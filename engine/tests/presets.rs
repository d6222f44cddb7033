//! The preset bank: large enough, covering the roles and families the product rebuilds, and
//! every preset loads and renders cleanly (no NaN, no DC, no clipping, not silent).

use std::collections::BTreeSet;

use auralis_engine::bank::presets;
use auralis_engine::render::{render, NoteSpec};

const RATE: f32 = 48_000.0;

/// A phrase in the role's range: a line for bass/lead/vocals, chords for the rest, every
/// drum class for kits.
fn phrase(role: &str) -> Vec<NoteSpec> {
    let note = |start_s: f64, len_s: f64, pitch: u8, velocity: f32| NoteSpec {
        start_s,
        end_s: start_s + len_s,
        pitch,
        velocity,
    };
    match role {
        "drums" => [36u8, 38, 39, 42, 46, 49, 51, 41, 45, 48]
            .iter()
            .enumerate()
            .map(|(i, &p)| note(0.15 * i as f64, 0.1, p, 1.0))
            .collect(),
        "bass" => [28u8, 40, 33, 45]
            .iter()
            .enumerate()
            .map(|(i, &p)| note(0.3 * i as f64, 0.25, p, 1.0))
            .collect(),
        "lead" | "vocals" => [60u8, 67, 72, 79]
            .iter()
            .enumerate()
            .map(|(i, &p)| note(0.3 * i as f64, 0.28, p, 1.0))
            .collect(),
        _ => [48u8, 55, 60, 64, 67, 72]
            .iter()
            .map(|&p| note(0.0, 1.0, p, 1.0))
            .collect(),
    }
}

#[test]
fn the_bank_covers_the_roles_and_families() {
    let bank = presets();
    assert!(bank.len() >= 120, "{} presets", bank.len());
    let names: BTreeSet<&str> = bank.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), bank.len(), "duplicate names");
    let families: BTreeSet<&str> = bank.iter().map(|p| p.family.as_str()).collect();
    for f in [
        "sub",
        "reese",
        "acid",
        "pluck bass",
        "finger bass",
        "picked bass",
        "saw lead",
        "square lead",
        "sync lead",
        "pluck",
        "stab",
        "pad",
        "strings",
        "brass",
        "bells",
        "electric piano",
        "organ",
        "piano",
        "guitar",
        "sung voice",
        "drum kit",
    ] {
        assert!(families.contains(f), "no {f} preset");
    }
    let kits = bank.iter().filter(|p| p.role == "drums").count();
    assert!(kits >= 4, "{kits} drum kits");
    for role in ["bass", "lead", "vocals", "keys", "guitar", "other", "drums"] {
        assert!(bank.iter().any(|p| p.role == role), "no preset for {role}");
    }
}

#[test]
fn every_preset_renders_cleanly() {
    let mut problems = Vec::new();
    for p in presets() {
        let values = p
            .patch
            .values()
            .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        let notes = phrase(&p.role);
        let len = (2.5 * RATE) as usize;
        let [l, r] = render(&values, &notes, RATE, len);
        let mut sq = 0.0f64;
        let mut peak = 0.0f32;
        for &x in l.iter().chain(&r) {
            assert!(x.is_finite(), "{}: not finite", p.name);
            sq += (x as f64).powi(2);
            peak = peak.max(x.abs());
        }
        let rms = (sq / (2 * len) as f64).sqrt();
        if peak >= 1.0 {
            problems.push(format!("{}: clips (peak {peak})", p.name));
        }
        if rms <= 10f64.powf(-50.0 / 20.0) {
            problems.push(format!("{}: silent (rms {rms})", p.name));
        }
        // DC: for pitched presets, one held note, the Hann-weighted mean of 0.5–2.5 s (many
        // cycles of the lowest note, away from the attack) against the RMS there; for kits,
        // the mean of the phrase against its peak (a kick's first half-cycle is its own).
        let (dc, wrms) = if p.role == "drums" {
            let mean = l.iter().map(|&x| x as f64).sum::<f64>() / len as f64;
            (mean.abs(), peak as f64)
        } else {
            let pitch = match p.role.as_str() {
                "bass" => 33,
                "lead" | "vocals" => 67,
                _ => 57,
            };
            let held = [NoteSpec {
                start_s: 0.0,
                end_s: 3.0,
                pitch,
                velocity: 1.0,
            }];
            let [h, _] = render(&values, &held, RATE, 3 * RATE as usize);
            let part = &h[RATE as usize / 2..5 * RATE as usize / 2];
            let (mut wsum, mut wx, mut wsq) = (0.0f64, 0.0f64, 0.0f64);
            for (i, &x) in part.iter().enumerate() {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / part.len() as f64).cos();
                wsum += w;
                wx += w * x as f64;
                wsq += w * (x as f64).powi(2);
            }
            ((wx / wsum).abs(), (wsq / wsum).sqrt())
        };
        if dc >= 0.01 * wrms + 1e-6 {
            problems.push(format!("{}: DC {dc} against rms {wrms}", p.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether `x` is subnormal (below the smallest normal `f32`, not zero).
fn subnormal(x: f32) -> bool {
    x != 0.0 && x.abs() < f32::MIN_POSITIVE
}

/// A note held long after its sound has died, and the tail of the patch's reverb after its
/// release, must decay to zero rather than to subnormal numbers: each of those costs tens of
/// times a normal sample, and a host's idle tracks would eat the CPU.
#[test]
fn held_and_released_notes_never_leave_subnormals() {
    let mut problems = Vec::new();
    for p in presets() {
        let mut values = p.patch.values().expect("bank patch");
        // With the patch's own reverb, and with a long one (a fitted patch often has one).
        for reverb in [None, Some(4.0)] {
            if let Some(rt60) = reverb {
                values.set(auralis_engine::P::ReverbLevel, 0.3);
                values.set(auralis_engine::P::ReverbRt60, rt60);
            }
            let pitch = if p.role == "drums" { 36 } else { 45 };
            let held = [NoteSpec {
                start_s: 0.0,
                end_s: 12.0,
                pitch,
                velocity: 1.0,
            }];
            let len = 24 * RATE as usize;
            let [l, r] = render(&values, &held, RATE, len);
            let found = l.iter().chain(&r).filter(|&&x| subnormal(x)).count();
            if found > 0 {
                problems.push(format!(
                    "{} (reverb {reverb:?}): {found} subnormal samples",
                    p.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
