#!/usr/bin/env python3
"""Writes presets/bank.json, the AURALIS generic preset bank, from the family definitions below.

Each family is a sound designer's template (the parameters that make the family) with the
variations that span it (darker / brighter, shorter / longer, cleaner / dirtier). Patches name
only what differs from the engine's defaults (engine/src/params.rs). Every preset carries its
`role` (which elements it may rebuild: bass, lead, vocals, keys, guitar, other, drums), its
`family`, and descriptor tags.

Run from the repository root: `python3 tools/make_presets.py` (no dependencies). The bank is
committed; `cargo test -p auralis-engine --test presets` checks it (every preset loads,
renders without NaN, DC or clipping, and the roles and families the issue names are there).
"""
import json
import os

BANK = []


# Gain staging: a polyphonic preset plays chords (the bank's test plays six notes at once),
# so it sits this many dB below a line preset of the same loudness per note.
POLY_TRIM_DB = -12.0


def add(name, role, family, tags, **params):
    if params.get("voice_mode") != "mono" and params.get("voice_type") != "drums" and role not in ("bass", "lead", "vocals"):
        params["level_db"] = params.get("level_db", -6.0) + POLY_TRIM_DB
    BANK.append({
        "name": name,
        "role": role,
        "family": family,
        "tags": tags,
        "patch": {"format": 1, "name": name, "params": params},
    })


def env(prefix, a, d, s, r, curve=None):
    out = {f"{prefix}_attack_ms": a, f"{prefix}_decay_ms": d, f"{prefix}_sustain": s, f"{prefix}_release_ms": r}
    if curve is not None:
        out[f"{prefix}_curve"] = curve
    return out


# ---------------------------------------------------------------- bass
for i, (wave, cut, rel, tag) in enumerate([
    ("sine", 20000.0, 60.0, "pure"), ("triangle", 20000.0, 60.0, "soft"),
    ("sine", 20000.0, 200.0, "long"), ("triangle", 900.0, 40.0, "round"),
]):
    add(f"Sub {tag}", "bass", "sub", ["dark", "clean", "sustained"], voice_mode="mono",
        osc1_wave=wave, filter_cutoff_hz=cut, level_db=-4.0, **env("amp", 2.0, 300.0, 1.0, rel))
for i, (det, cut, res, tag) in enumerate([
    (18.0, 600.0, 0.2, "dark"), (25.0, 1200.0, 0.3, "mid"), (35.0, 2500.0, 0.2, "bright"), (12.0, 400.0, 0.5, "growl"),
]):
    add(f"Reese {tag}", "bass", "reese", ["detuned", "sustained", tag], voice_mode="mono",
        osc1_wave="saw", unison_voices=3, unison_detune=det, filter_type="ladder", filter_cutoff_hz=cut,
        filter_resonance=res, filter_drive=0.3, sub_level=0.4, level_db=-8.0, **env("amp", 3.0, 500.0, 1.0, 80.0))
for i, (cut, envo, res, tag) in enumerate([
    (180.0, 4.5, 0.75, "squelch"), (250.0, 3.5, 0.6, "classic"), (120.0, 5.5, 0.85, "screaming"), (300.0, 2.5, 0.5, "soft"),
]):
    add(f"Acid {tag}", "bass", "acid", ["resonant", "bright", "plucky"], voice_mode="mono", glide_ms=45.0,
        osc1_wave="saw" if i % 2 == 0 else "square", filter_type="ladder", filter_cutoff_hz=cut,
        filter_resonance=res, filter_env_oct=envo, filter_drive=0.4, level_db=-8.0,
        **env("fenv", 1.0, 180.0 + 60 * i, 0.0, 80.0), **env("amp", 1.0, 400.0, 0.8, 40.0))
for i, (wave, cut, dec, tag) in enumerate([
    ("saw", 300.0, 250.0, "round"), ("square", 400.0, 180.0, "hollow"), ("saw", 700.0, 120.0, "tight"), ("pulse", 500.0, 300.0, "nasal"),
]):
    add(f"Pluck bass {tag}", "bass", "pluck bass", ["plucky", "short"], voice_mode="mono", osc1_wave=wave, osc1_pw=0.3,
        filter_cutoff_hz=cut, filter_env_oct=3.0, filter_resonance=0.2, level_db=-6.0,
        **env("fenv", 1.0, dec, 0.0, 60.0), **env("amp", 1.0, dec * 2.0, 0.3, 60.0))
for i, (bright, dec, tag) in enumerate([(0.35, 1800.0, "warm"), (0.5, 2500.0, "round"), (0.25, 1200.0, "muted")]):
    add(f"Finger bass {tag}", "bass", "finger bass", ["plucked", "acoustic-like", tag], voice_type="pluck", voice_mode="mono",
        osc1_wave="triangle", pluck_brightness=bright, pluck_decay_ms=dec, pluck_excite_ms=4.0, filter_cutoff_hz=1500.0,
        level_db=-2.0, **env("amp", 0.5, 2000.0, 1.0, 60.0))
for i, (bright, dec, tag) in enumerate([(0.75, 1500.0, "bright"), (0.6, 1000.0, "tight"), (0.85, 2000.0, "twangy")]):
    add(f"Picked bass {tag}", "bass", "picked bass", ["plucked", "bright", tag], voice_type="pluck", voice_mode="mono",
        osc1_wave="saw", pluck_brightness=bright, pluck_decay_ms=dec, pluck_excite_ms=1.5, filter_cutoff_hz=3000.0,
        level_db=-4.0, **env("amp", 0.5, 2000.0, 1.0, 50.0))
for i, (fm, dec, tag) in enumerate([(2.5, 200.0, "punchy"), (4.0, 120.0, "metallic"), (1.5, 400.0, "soft")]):
    add(f"FM bass {tag}", "bass", "fm bass", ["fm", "punchy", tag], voice_mode="mono", osc1_wave="sine",
        osc2_wave="sine", osc2_octave=0, fm_amount=fm * 0.3, menv_fm=fm, level_db=-6.0,
        **env("menv", 0.5, dec, 0.0, 50.0), **env("amp", 1.0, 600.0, 0.9, 50.0))
for i, (cut, tag) in enumerate([(800.0, "dark"), (2000.0, "bright")]):
    add(f"Square bass {tag}", "bass", "square bass", ["hollow", "sustained"], voice_mode="mono", osc1_wave="square",
        sub_level=0.5, filter_cutoff_hz=cut, level_db=-7.0, **env("amp", 2.0, 300.0, 1.0, 60.0))
for i, (rate, tag) in enumerate([(2.0, "slow"), (4.0, "fast")]):
    add(f"Wobble bass {tag}", "bass", "wobble", ["modulated", "resonant"], voice_mode="mono", osc1_wave="saw",
        osc2_wave="square", osc2_level=0.6, osc2_octave=-1, filter_type="ladder", filter_cutoff_hz=300.0,
        filter_resonance=0.5, lfo1_rate_hz=rate, lfo1_cutoff_oct=2.5, lfo1_shape="triangle", level_db=-8.0,
        **env("amp", 2.0, 300.0, 1.0, 60.0))
add("Synth bass 80s", "bass", "synth bass", ["bright", "plucky"], voice_mode="mono", osc1_wave="saw", osc2_wave="saw",
    osc2_level=0.7, osc2_fine=8.0, filter_cutoff_hz=500.0, filter_env_oct=3.0, level_db=-8.0,
    **env("fenv", 1.0, 220.0, 0.2, 60.0), **env("amp", 1.0, 500.0, 0.7, 60.0))
add("Synth bass deep", "bass", "synth bass", ["dark", "sustained"], voice_mode="mono", osc1_wave="pulse", osc1_pw=0.25,
    sub_level=0.6, filter_cutoff_hz=350.0, filter_env_oct=1.5, level_db=-6.0, **env("fenv", 1.0, 400.0, 0.3, 60.0),
    **env("amp", 2.0, 500.0, 1.0, 70.0))

# ---------------------------------------------------------------- lead
for i, (det, cut, vib, tag) in enumerate([
    (0.0, 3000.0, 20.0, "classic"), (15.0, 5000.0, 15.0, "wide"), (8.0, 1800.0, 25.0, "warm"), (25.0, 8000.0, 0.0, "supersaw"),
]):
    add(f"Saw lead {tag}", "lead", "saw lead", ["bright", "sustained", tag], voice_mode="mono", glide_ms=30.0,
        osc1_wave="saw", unison_voices=1 if det == 0 else 5, unison_detune=det, unison_spread=0.6,
        filter_cutoff_hz=cut, filter_resonance=0.15, lfo1_rate_hz=5.5, lfo1_pitch_ct=vib, lfo1_delay_ms=300.0,
        level_db=-10.0, **env("amp", 5.0, 300.0, 0.9, 120.0))
for i, (pw, cut, tag) in enumerate([(0.5, 3000.0, "hollow"), (0.3, 4000.0, "nasal"), (0.15, 2500.0, "thin")]):
    add(f"Square lead {tag}", "lead", "square lead", ["hollow", "sustained", tag], voice_mode="mono", glide_ms=25.0,
        osc1_wave="pulse", osc1_pw=pw, filter_cutoff_hz=cut, lfo1_rate_hz=5.0, lfo1_pitch_ct=15.0,
        lfo1_delay_ms=250.0, lfo2_pw=0.1, lfo2_rate_hz=0.7, level_db=-10.0, **env("amp", 4.0, 300.0, 0.9, 100.0))
for i, (fm, tag) in enumerate([(3.0, "sync-style bright"), (5.5, "sync-style edgy"), (2.0, "sync-style soft")]):
    add(f"Lead {tag}", "lead", "sync lead", ["bright", "aggressive", "fm"], voice_mode="mono", glide_ms=20.0,
        osc1_wave="saw", osc2_wave="sine", osc2_octave=1, osc2_semi=7, fm_amount=fm, menv_fm=2.0,
        filter_cutoff_hz=6000.0, level_db=-12.0, **env("menv", 1.0, 400.0, 0.3, 100.0), **env("amp", 3.0, 300.0, 0.9, 100.0))
for i, (wave, tag) in enumerate([("sine", "whistle"), ("triangle", "flute-like")]):
    add(f"Soft lead {tag}", "lead", "soft lead", ["soft", "pure", "breathy"], voice_mode="mono", glide_ms=40.0,
        osc1_wave=wave, noise_level=0.05, lfo1_rate_hz=5.0, lfo1_pitch_ct=20.0, lfo1_delay_ms=200.0,
        level_db=-6.0, **env("amp", 30.0, 300.0, 0.9, 150.0))
add("Lead chip", "lead", "square lead", ["retro", "bright"], voice_mode="mono", osc1_wave="pulse", osc1_pw=0.125,
    level_db=-12.0, **env("amp", 1.0, 200.0, 0.8, 30.0))
add("Lead mono synth", "lead", "saw lead", ["fat", "warm"], voice_mode="mono", glide_ms=60.0, osc1_wave="saw",
    osc2_wave="saw", osc2_level=0.8, osc2_fine=-7.0, filter_type="ladder", filter_cutoff_hz=1500.0,
    filter_env_oct=2.0, filter_resonance=0.3, level_db=-10.0, **env("fenv", 5.0, 500.0, 0.4, 100.0),
    **env("amp", 3.0, 400.0, 0.9, 100.0))

for pos, cut, tag in [(0.3, 2500.0, "soft"), (0.85, 5000.0, "vocal")]:
    add(f"Wavetable lead {tag}", "lead", "wavetable lead", ["wavetable", "sustained", tag], voice_mode="mono",
        glide_ms=25.0, osc1_wave="wavetable", osc1_wt_pos=pos, filter_cutoff_hz=cut, lfo1_rate_hz=5.0,
        lfo1_pitch_ct=15.0, lfo1_delay_ms=250.0, level_db=-8.0, **env("amp", 5.0, 300.0, 0.9, 120.0))
add("Wavetable bass", "bass", "wavetable bass", ["wavetable", "hollow"], voice_mode="mono", osc1_wave="wavetable",
    osc1_wt_pos=0.7, sub_level=0.3, filter_cutoff_hz=900.0, filter_env_oct=2.0, level_db=-6.0,
    **env("fenv", 1.0, 250.0, 0.3, 60.0), **env("amp", 1.0, 500.0, 0.9, 60.0))
add("Wavetable pad", "other", "pad", ["wavetable", "sustained", "slow"], osc1_wave="wavetable", osc1_wt_pos=0.55,
    unison_voices=3, unison_detune=12.0, unison_spread=0.8, filter_cutoff_hz=3000.0, level_db=-10.0,
    **env("amp", 500.0, 800.0, 0.9, 1500.0))

# ---------------------------------------------------------------- sung voice
for i, (vowel, shift, breath, tag) in enumerate([
    (0.0, 0.0, 0.08, "aah male"), (0.0, 4.0, 0.12, "aah female"), (3.0, 0.0, 0.06, "ooh male"),
    (3.5, 4.0, 0.1, "ooh female"), (1.0, 2.0, 0.1, "eh"), (2.0, 3.0, 0.15, "ee breathy"),
]):
    add(f"Voice {tag}", "vocals", "sung voice", ["vocal", "formant", tag], voice_type="formant", voice_mode="mono",
        glide_ms=35.0, osc1_wave="saw", formant_vowel=vowel, formant_shift_st=shift, formant_breath=breath,
        lfo1_rate_hz=5.2, lfo1_pitch_ct=35.0, lfo1_delay_ms=250.0, filter_cutoff_hz=6000.0, level_db=0.0,
        **env("amp", 40.0, 300.0, 0.9, 150.0))
add("Voice choir pad", "other", "sung voice", ["vocal", "choir", "slow"], voice_type="formant", osc1_wave="saw",
    unison_voices=3, unison_detune=12.0, unison_spread=0.7, formant_vowel=0.5, formant_shift_st=2.0,
    formant_breath=0.1, level_db=-4.0, **env("amp", 300.0, 500.0, 1.0, 800.0))

# ---------------------------------------------------------------- plucks and stabs
for i, (wave, cut, dec, tag) in enumerate([
    ("saw", 800.0, 150.0, "short"), ("square", 1200.0, 250.0, "hollow"), ("saw", 2000.0, 400.0, "bright"),
    ("triangle", 3000.0, 300.0, "soft"), ("pulse", 1000.0, 200.0, "nasal"), ("saw", 500.0, 600.0, "long"),
]):
    add(f"Pluck {tag}", "other", "pluck", ["plucky", tag], osc1_wave=wave, osc1_pw=0.3, filter_cutoff_hz=cut,
        filter_env_oct=3.0, filter_resonance=0.2, level_db=-10.0, **env("fenv", 1.0, dec, 0.0, 100.0),
        **env("amp", 1.0, dec * 2.0, 0.0, dec))
for i, (bright, dec, tag) in enumerate([(0.7, 800.0, "string"), (0.9, 400.0, "glassy")]):
    add(f"Pluck {tag}", "other", "pluck", ["plucked", tag], voice_type="pluck", osc1_wave="noise",
        pluck_brightness=bright, pluck_decay_ms=dec, level_db=-6.0, **env("amp", 0.5, 2000.0, 1.0, 200.0))
for i, (cut, dec, tag) in enumerate([
    (1500.0, 250.0, "house"), (2500.0, 180.0, "bright"), (900.0, 350.0, "dark"), (4000.0, 120.0, "short"),
    (1200.0, 300.0, "detuned"), (2000.0, 220.0, "organ-ish"),
]):
    add(f"Stab {tag}", "other", "stab", ["chord", "short", tag], osc1_wave="saw", osc2_wave="square", osc2_level=0.5,
        osc2_fine=7.0, unison_voices=3 if tag == "detuned" else 1, unison_detune=15.0, unison_spread=0.5,
        filter_cutoff_hz=cut, filter_env_oct=2.0, level_db=-12.0, **env("fenv", 1.0, dec, 0.2, 100.0),
        **env("amp", 1.0, dec * 1.5, 0.1, 120.0))

# ---------------------------------------------------------------- pads and strings
for i, (det, cut, att, rel, tag) in enumerate([
    (12.0, 1500.0, 400.0, 1200.0, "warm"), (20.0, 3000.0, 800.0, 2000.0, "lush"), (8.0, 800.0, 600.0, 1500.0, "dark"),
    (25.0, 5000.0, 300.0, 1000.0, "bright"), (15.0, 1200.0, 1500.0, 3000.0, "slow"), (10.0, 2000.0, 200.0, 800.0, "soft"),
    (30.0, 2500.0, 500.0, 1500.0, "wide"), (6.0, 600.0, 1000.0, 2500.0, "muffled"),
]):
    add(f"Pad {tag}", "other", "pad", ["sustained", "slow", tag], osc1_wave="saw",
        osc2_wave="triangle" if i % 2 else "saw", osc2_level=0.5, osc2_octave=-1 if i % 3 == 0 else 0,
        unison_voices=5, unison_detune=det, unison_spread=0.8, filter_cutoff_hz=cut, filter_resonance=0.1,
        lfo1_rate_hz=0.3, lfo1_cutoff_oct=0.5, level_db=-16.0, **env("amp", att, 800.0, 0.9, rel))
add("Pad glass", "other", "pad", ["sustained", "bright", "fm"], osc1_wave="sine", osc2_wave="sine", osc2_octave=2,
    fm_amount=1.2, unison_voices=3, unison_detune=8.0, unison_spread=0.6, level_db=-10.0,
    **env("amp", 500.0, 800.0, 0.9, 1500.0))
add("Pad PWM", "other", "pad", ["sustained", "moving"], osc1_wave="pulse", osc1_pw=0.4, lfo2_pw=0.3, lfo2_rate_hz=0.4,
    unison_voices=3, unison_detune=10.0, unison_spread=0.7, filter_cutoff_hz=2000.0, level_db=-14.0,
    **env("amp", 400.0, 800.0, 0.9, 1200.0))
for i, (cut, att, vib, tag) in enumerate([
    (3000.0, 250.0, 12.0, "ensemble"), (2000.0, 500.0, 15.0, "slow section"), (5000.0, 120.0, 18.0, "bright section"),
    (1500.0, 400.0, 10.0, "cellos"), (4000.0, 60.0, 0.0, "staccato"), (2500.0, 300.0, 20.0, "solo"),
]):
    add(f"Strings {tag}", "other", "strings", ["bowed-like", "sustained", tag], osc1_wave="saw",
        unison_voices=4 if tag != "solo" else 1, unison_detune=10.0, unison_spread=0.7, filter_cutoff_hz=cut,
        filter_keytrack=0.5, lfo1_rate_hz=5.5, lfo1_pitch_ct=vib, lfo1_delay_ms=300.0, level_db=-14.0,
        **env("amp", att, 500.0, 0.9, 500.0 if tag != "staccato" else 120.0))

# ---------------------------------------------------------------- brass, bells
for i, (cut, envo, tag) in enumerate([
    (700.0, 3.0, "section"), (1000.0, 2.5, "soft"), (500.0, 4.0, "punchy"), (1500.0, 2.0, "horn"), (900.0, 3.5, "stab"),
]):
    add(f"Brass {tag}", "other", "brass", ["brass-like", "bright", tag], osc1_wave="saw", osc2_wave="saw",
        osc2_level=0.6, osc2_fine=6.0, filter_cutoff_hz=cut, filter_env_oct=envo, filter_keytrack=0.5,
        level_db=-12.0, **env("fenv", 40.0, 300.0, 0.5, 200.0),
        **env("amp", 20.0, 300.0, 0.9 if tag != "stab" else 0.0, 200.0))
for i, (ratio_oct, ratio_semi, fm, dec, tag) in enumerate([
    (1, 7, 2.0, 2500.0, "tubular"), (2, 0, 1.5, 1800.0, "glass"), (0, 9, 3.0, 3000.0, "gong-ish"),
    (3, 0, 1.0, 1200.0, "celesta"), (1, 0, 2.5, 2000.0, "bright bell"), (2, 4, 1.8, 4000.0, "long bell"),
]):
    add(f"Bell {tag}", "other", "bells", ["bell", "fm", "decaying", tag], osc1_wave="sine", osc2_wave="sine",
        osc2_octave=ratio_oct, osc2_semi=ratio_semi, fm_amount=fm * 0.3, menv_fm=fm, level_db=-8.0,
        **env("menv", 0.5, dec * 0.5, 0.0, dec * 0.3), **env("amp", 0.5, dec, 0.0, dec * 0.5))

# ---------------------------------------------------------------- keys
for i, (fm, dec, tag) in enumerate([
    (1.2, 1500.0, "tine"), (2.0, 1000.0, "bright tine"), (0.8, 2500.0, "mellow"), (1.5, 800.0, "dx-style"), (0.5, 3000.0, "soft"),
]):
    add(f"E-piano {tag}", "keys", "electric piano", ["keys", "fm", "decaying", tag], osc1_wave="sine",
        osc2_wave="sine", osc2_octave=0 if i % 2 else 1, fm_amount=fm * 0.2, menv_fm=fm, velocity_amount=0.9,
        level_db=-6.0, **env("menv", 0.5, 300.0, 0.1, 200.0), **env("amp", 1.0, dec, 0.2, 300.0))
for i, (w2, oct2, lvl2, tag) in enumerate([
    ("sine", 1, 0.6, "drawbar"), ("triangle", 1, 0.5, "soft"), ("square", 0, 0.3, "reed"),
    ("sine", 2, 0.4, "jazz"), ("saw", 1, 0.2, "rock"),
]):
    add(f"Organ {tag}", "keys", "organ", ["keys", "sustained", tag], osc1_wave="sine", osc2_wave=w2, osc2_octave=oct2,
        osc2_level=lvl2, sub_level=0.4, lfo1_rate_hz=6.5, lfo1_pitch_ct=4.0, level_db=-8.0,
        **env("amp", 3.0, 100.0, 1.0, 40.0, curve=0.0))
for i, (bright, dec, tag) in enumerate([(0.6, 3000.0, "grand"), (0.45, 2000.0, "upright"), (0.75, 2500.0, "bright"), (0.35, 1500.0, "felt")]):
    add(f"Piano {tag}", "keys", "piano", ["keys", "struck", "piano-like", tag], voice_type="pluck",
        osc1_wave="triangle", osc2_wave="noise", osc2_level=0.2, pluck_brightness=bright, pluck_decay_ms=dec,
        pluck_excite_ms=2.0, velocity_amount=0.9, filter_cutoff_hz=6000.0, filter_velocity_oct=2.0,
        level_db=-2.0, **env("amp", 0.5, 3000.0, 1.0, 250.0))
add("Clavinet", "keys", "clav", ["keys", "plucked", "funky"], voice_type="pluck", osc1_wave="pulse", osc1_pw=0.2,
    pluck_brightness=0.9, pluck_decay_ms=700.0, pluck_excite_ms=1.0, filter_type="bandpass", filter_cutoff_hz=1500.0,
    level_db=-2.0, **env("amp", 0.5, 1000.0, 1.0, 80.0))

# Four-operator FM (operator 1 carries; levels of modulators are indices / 8 rad).
add("FM4 tine piano", "keys", "fm4", ["keys", "fm", "decaying", "tine"], voice_type="fm4", fm4_algorithm="pairs",
    fm4_op1_ratio=1.0, fm4_op2_ratio=1.0, fm4_op3_ratio=1.0, fm4_op4_ratio=14.0, fm4_op2_level=0.25,
    fm4_op3_level=0.3, fm4_op4_level=0.15, fm4_op1_decay_ms=3000.0, fm4_op2_decay_ms=900.0,
    fm4_op3_decay_ms=2000.0, fm4_op4_decay_ms=120.0, fm4_sustain=0.1, velocity_amount=0.9, level_db=-4.0,
    **env("amp", 1.0, 3000.0, 0.3, 300.0))
add("FM4 bell", "other", "fm4", ["bell", "fm", "decaying"], voice_type="fm4", fm4_algorithm="pairs",
    fm4_op1_ratio=1.0, fm4_op2_ratio=3.5, fm4_op3_ratio=2.0, fm4_op4_ratio=5.19, fm4_op2_level=0.3,
    fm4_op3_level=0.4, fm4_op4_level=0.25, fm4_op1_decay_ms=4000.0, fm4_op2_decay_ms=2500.0,
    fm4_op3_decay_ms=3000.0, fm4_op4_decay_ms=2000.0, fm4_sustain=0.0, level_db=-6.0,
    **env("amp", 0.5, 4000.0, 0.0, 1500.0))
add("FM4 bass", "bass", "fm4", ["fm", "punchy"], voice_type="fm4", voice_mode="mono", fm4_algorithm="stack",
    fm4_op1_ratio=1.0, fm4_op2_ratio=1.0, fm4_op3_ratio=1.0, fm4_op4_ratio=1.0, fm4_op2_level=0.3,
    fm4_op3_level=0.2, fm4_op4_level=0.1, fm4_feedback=0.6, fm4_op2_decay_ms=250.0, fm4_op3_decay_ms=300.0,
    fm4_op4_decay_ms=300.0, fm4_sustain=0.2, level_db=-4.0, **env("amp", 1.0, 600.0, 0.9, 60.0))
add("FM4 brass", "other", "fm4", ["brass-like", "fm", "bright"], voice_type="fm4", fm4_algorithm="three_to_one",
    fm4_op2_ratio=1.0, fm4_op3_ratio=1.0, fm4_op4_ratio=1.0, fm4_op2_level=0.25, fm4_op3_level=0.0,
    fm4_op4_level=0.1, fm4_feedback=0.9, fm4_op2_decay_ms=600.0, fm4_sustain=0.6, level_db=-4.0,
    **env("amp", 40.0, 400.0, 0.9, 200.0))
add("FM4 organ", "keys", "fm4", ["keys", "organ", "additive"], voice_type="fm4", fm4_algorithm="parallel",
    fm4_op2_ratio=2.0, fm4_op3_ratio=3.0, fm4_op4_ratio=4.0, fm4_op2_level=0.6, fm4_op3_level=0.4,
    fm4_op4_level=0.3, fm4_sustain=1.0, level_db=-6.0, **env("amp", 3.0, 100.0, 1.0, 40.0, curve=0.0))

# ---------------------------------------------------------------- guitar
for i, (wave, bright, dec, exc, tag) in enumerate([
    ("noise", 0.7, 2000.0, 3.0, "acoustic"), ("saw", 0.6, 1500.0, 2.0, "clean electric"), ("triangle", 0.4, 1200.0, 4.0, "nylon"),
    ("noise", 0.85, 2500.0, 1.0, "steel"), ("saw", 0.5, 600.0, 1.5, "muted"), ("pulse", 0.75, 1800.0, 2.0, "twangy"),
]):
    add(f"Guitar {tag}", "guitar", "guitar", ["plucked", "guitar-like", tag], voice_type="pluck", osc1_wave=wave,
        osc1_pw=0.3, pluck_brightness=bright, pluck_decay_ms=dec, pluck_excite_ms=exc, filter_cutoff_hz=5000.0,
        level_db=-3.0, **env("amp", 0.5, 3000.0, 1.0, 150.0))
for i, (cut, drive, tag) in enumerate([(2500.0, 0.8, "overdrive"), (1800.0, 1.0, "distortion"), (3500.0, 0.5, "crunch")]):
    add(f"Guitar {tag}", "guitar", "guitar", ["distorted", "guitar-like", tag], voice_type="pluck", osc1_wave="saw",
        pluck_brightness=0.8, pluck_decay_ms=3000.0, pluck_excite_ms=2.0, filter_type="ladder", filter_cutoff_hz=cut,
        filter_drive=drive, level_db=-6.0, **env("amp", 0.5, 3000.0, 1.0, 120.0))
add("Guitar power chord", "guitar", "guitar", ["distorted", "guitar-like", "saw"], osc1_wave="saw", osc2_wave="saw",
    osc2_level=0.7, osc2_fine=5.0, filter_type="ladder", filter_cutoff_hz=2000.0, filter_drive=1.0, level_db=-12.0,
    **env("amp", 1.0, 800.0, 0.7, 100.0))

# ---------------------------------------------------------------- drum kits
KITS = [
    ("808", ["electronic", "boomy"], dict(kick_tune_hz=48.0, kick_sweep_st=24.0, kick_sweep_ms=35.0, kick_decay_ms=900.0,
        kick_click=0.1, snare_tune_hz=220.0, snare_tone=0.55, snare_noise_decay_ms=150.0, snare_noise_hz=5000.0,
        clap_hz=1100.0, clap_decay_ms=250.0, hat_tune=1.0, hat_noise=0.3, hat_closed_ms=45.0, hat_open_ms=450.0,
        tom_tune_hz=110.0, tom_decay_ms=500.0)),
    ("909", ["electronic", "punchy"], dict(kick_tune_hz=55.0, kick_sweep_st=30.0, kick_sweep_ms=18.0, kick_decay_ms=450.0,
        kick_click=0.5, kick_drive=0.3, snare_tune_hz=190.0, snare_tone=0.35, snare_noise_decay_ms=220.0,
        snare_noise_hz=7000.0, clap_hz=1300.0, clap_decay_ms=180.0, hat_tune=1.2, hat_noise=0.6, hat_closed_ms=60.0,
        hat_open_ms=350.0, cymbal_decay_ms=2000.0, tom_tune_hz=130.0)),
    ("acoustic", ["acoustic-like", "natural"], dict(kick_tune_hz=60.0, kick_sweep_st=12.0, kick_sweep_ms=10.0,
        kick_decay_ms=300.0, kick_click=0.6, snare_tune_hz=180.0, snare_tone=0.3, snare_tone_decay_ms=120.0,
        snare_noise_decay_ms=260.0, snare_noise_hz=9000.0, hat_tune=1.6, hat_noise=0.7, hat_hp_hz=6000.0,
        hat_closed_ms=70.0, hat_open_ms=700.0, cymbal_decay_ms=3000.0, cymbal_level_db=-8.0, tom_tune_hz=100.0,
        tom_decay_ms=450.0)),
    ("lo-fi", ["dusty", "dark"], dict(kick_tune_hz=52.0, kick_sweep_st=18.0, kick_sweep_ms=25.0, kick_decay_ms=350.0,
        kick_click=0.2, kick_drive=0.6, snare_tune_hz=200.0, snare_tone=0.45, snare_noise_hz=3000.0,
        snare_noise_decay_ms=160.0, hat_tune=0.8, hat_hp_hz=5000.0, hat_noise=0.5, hat_closed_ms=40.0,
        hat_level_db=-12.0, tom_tune_hz=105.0)),
    ("techno", ["electronic", "hard"], dict(kick_tune_hz=50.0, kick_sweep_st=36.0, kick_sweep_ms=22.0, kick_decay_ms=600.0,
        kick_click=0.7, kick_drive=0.8, kick_level_db=2.0, snare_tune_hz=240.0, snare_tone=0.25, snare_noise_hz=8000.0,
        clap_hz=1500.0, clap_spread_ms=12.0, clap_decay_ms=300.0, hat_tune=1.4, hat_noise=0.75, hat_hp_hz=8000.0,
        hat_closed_ms=35.0, hat_open_ms=300.0, tom_tune_hz=140.0)),
    ("trap", ["electronic", "boomy", "crisp"], dict(kick_tune_hz=42.0, kick_sweep_st=20.0, kick_sweep_ms=40.0,
        kick_decay_ms=1500.0, kick_click=0.3, kick_drive=0.4, snare_tune_hz=230.0, snare_tone=0.3,
        snare_noise_decay_ms=200.0, snare_noise_hz=8000.0, clap_hz=1400.0, clap_decay_ms=220.0, hat_tune=1.5,
        hat_noise=0.5, hat_closed_ms=30.0, hat_open_ms=250.0, tom_tune_hz=120.0)),
]
for name, tags, params in KITS:
    add(f"Kit {name}", "drums", "drum kit", ["drums"] + tags, voice_type="drums", **params)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    names = [p["name"] for p in BANK]
    assert len(names) == len(set(names)), "duplicate preset names"
    out = os.path.join(root, "presets", "bank.json")
    with open(out + ".tmp", "w") as f:
        json.dump({"format": 1, "presets": BANK}, f, indent=1)
        f.write("\n")
    os.replace(out + ".tmp", out)
    print(f"{len(BANK)} presets -> {out}")


if __name__ == "__main__":
    main()
