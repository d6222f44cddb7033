//! Timbre matching: the nearest preset of the element's role, then its parameters fitted so
//! that the element's notes, played through the engine, sound like the stem.
//!
//! 1. **Excerpts.** Up to [`EXCERPTS`] + [`HELD_OUT`] note-aligned windows of the stem, one
//!    per equal slice of the song (the note at [`PICK_QUANTILE`] of the slice's loudness:
//!    typical of the part, yet clear of the quietest notes, the likeliest leakage), from 30 ms
//!    before the onset to 250 ms after the release (at most [`EXCERPT_MAX_S`]). Each is
//!    rendered with [`PREROLL_S`] of the notes before it, so release tails and legato arrive
//!    as they do in the song. Every third excerpt is held out of the fit and only judges it.
//!    Two long windows (the loudest 8 s and a typical one) choose the reverb and check the
//!    fit.
//! 2. **Loss.** The log-mel spectral distance ([`super::mel`]) at two resolutions (≈ 46 ms
//!    windows with 128 bands, ≈ 12 ms with 64: timbre and attack), averaged over the
//!    excerpts' active frames.
//! 3. **Presets.** Every preset of the role, level-matched (RMS over the excerpts, from one
//!    render: the output is linear in the level), is scored by successive halving (a pitched
//!    part's on two excerpts, the best [`RANK_KEEP`] on all); the [`SHORTLIST`] best (the last
//!    place to another generator) get a short trial fit each ([`TRIAL_SHARE`] of the budget
//!    together), and the one that then sounds closest over the whole part once a static EQ
//!    is allowed for ([`super::mel::distance_after_eq`]: what its tone matches cannot fix)
//!    is fitted on. The excerpts judge single notes; a part's sound over the song (its
//!    phrases, tails and quiet passages) tells a square lead from a sung one where a dozen
//!    notes, after a few evaluations of fitting, nearly tie.
//! 4. **Fit.** Plain values (a square's width, no modulation, detune or extra source) are
//!    tried, the reverb is chosen on a grid (from one dry render: see
//!    [`Objective::match_reverb`]) and the patch's tone EQ is matched in closed form
//!    to the stem's average spectrum (ten octave bands; kept only if it lowers the loss), then
//!    CMA-ES ([`super::cmaes`]) searches the sound-shaping parameters (which ones depends on
//!    the voice type), normalised by their ranges, from the preset outwards, until the budget
//!    is spent; plain values and the EQ are tried again for what moved. A drum kit is fitted
//!    class by class on hits of that class, each with its share of the budget, the other
//!    hits rendered once as a background; then each class's own tone EQ is matched
//!    ([`Objective::match_class_eq`]).
//! 5. **Check.** The fitted patch is kept only if it is closer than the nearest preset on the
//!    held-out excerpts and over both long windows; otherwise the nearest preset is the
//!    answer.
//! 6. **Song-wide tone.** The whole part is rendered and the patch's fine EQ (third-octave
//!    bands) and high cut (corner and slope) are set in closed form so that its average spectrum over the song
//!    meets the stem's ([`match_song_tone`]), kept only where the whole part's distance falls;
//!    a further round only where the first render's time still fits in the budget.
//!
//! The budget is wall-clock time (optionally also a count of loss evaluations, for
//! repeatable comparisons): a loss's cost is timed on the nearest preset, the steps around
//! the searches are reserved from it, and the trials are dropped where they would not fit.
//!
//! Parts are fitted at the stem's rate: a patch's top octave (above 11 kHz at 44.1 kHz) is
//! a fifth of the mel bands, and a fit blind to it leaves presets too bright or too dull there.

use std::time::{Duration, Instant};

use auralis_engine::bank::Preset;
use auralis_engine::drums::DrumClass;
use auralis_engine::fx::eq::magnitude_db;
use auralis_engine::params::{
    high_cut_order, Values, EQ_BANDS, FINE_EQ_BANDS, FINE_EQ_Q, HIGH_CUT_OFF_HZ, HIGH_CUT_SLOPES,
    KIT_EQ, P,
};
use auralis_engine::render::{render_with, NoteSpec};
use auralis_engine::reverb::{Reverb, ReverbSettings};
use auralis_engine::Synth;

use super::cmaes;
use super::mel::{distance_after_eq, distance_of_powers, mean_difference, MelSpec};

/// Excerpts fitted on per part (per drum class).
pub const EXCERPTS: usize = 8;
/// Where in its slice's loudness an excerpt's note is picked (1: the loudest). The benchmark,
/// like the ear, weighs every moment of the part alike, and the loudest notes are not typical
/// of it (harder struck, brighter, a different velocity layer); the upper part of the range
/// still keeps away from the quietest notes, which in a separated stem are the likeliest to be
/// another part's leakage. Corpus (16 × 60 s, 8 s per part): 0.7 against the loudest, pitched
/// 7.50 → 7.24 dB, drums 9.63 → 9.38 dB.
pub const PICK_QUANTILE: f64 = 0.7;
/// Excerpts held out per part (per drum class) to check that the fit generalises.
pub const HELD_OUT: usize = 4;
/// Presets given a short trial fit before the best is fitted on.
pub const SHORTLIST: usize = 3;
/// Presets a pitched part's ranking keeps after its first round (on two excerpts).
pub const RANK_KEEP: usize = 12;
/// Kits a drum part's ranking keeps after its first round (one level for the whole kit).
pub const RANK_KEEP_KITS: usize = 2;
/// Share of the budget the trial fits take together.
pub const TRIAL_SHARE: f64 = 0.4;
/// CMA-ES's initial step, in units of each parameter's normalised range: the search starts
/// from a preset that already sounds close, so it explores the neighbourhood (a twentieth of
/// a range) rather than the whole box.
const INITIAL_STEP: f64 = 0.05;
/// Rounds of tone-EQ matching, and the share of the measured difference each round applies.
const EQ_ROUNDS: usize = 3;
const EQ_STEP: f64 = 0.7;
/// Longest excerpt, seconds.
pub const EXCERPT_MAX_S: f64 = 1.2;
/// Notes rendered before an excerpt, seconds.
pub const PREROLL_S: f64 = 0.5;
/// The long window the reverb is chosen on, and how long before it its render starts, s.
const LONG_S: f64 = 8.0;
const LONG_PREROLL_S: f64 = 4.0;
/// Parameters with a value where the sound changes kind, and that value, for
/// [`Objective::simplify`]: pulse widths of a square (with the width modulation off too, as
/// either alone may not help), no pitch, width, cutoff or level modulation, no glide, no
/// noise, sub or second oscillator, no detune.
const PLAIN: [&[(P, f32)]; 13] = [
    &[(P::Osc1Pw, 0.5), (P::Lfo2Pw, 0.0)],
    &[(P::Osc1Pw, 0.5)],
    &[(P::Osc2Pw, 0.5)],
    &[(P::Lfo2Pw, 0.0)],
    &[(P::Lfo1Pitch, 0.0)],
    &[(P::Lfo1Cutoff, 0.0)],
    &[(P::Lfo2Amp, 0.0)],
    &[(P::Glide, 0.0)],
    &[(P::NoiseLevel, 0.0)],
    &[(P::SubLevel, 0.0)],
    &[(P::Osc2Level, 0.0)],
    &[(P::UnisonDetune, 0.0)],
    &[(P::Osc1Fine, 0.0)],
];
/// Reverb levels (amplitude) and decay times (s) the reverb's grid search tries.
const REVERB_LEVELS: [f32; 3] = [0.08, 0.16, 0.3];
const REVERB_RT60S: [f32; 3] = [0.6, 1.2, 2.4];

/// A part to fit: its stem (mono) and its notes.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// Element role (`bass`, `vocals`, `lead`, `keys`, `guitar`, `other`, `drums`).
    pub role: &'a str,
    /// Sample rate of `audio`, Hz.
    pub rate: u32,
    /// The stem, mono.
    pub audio: &'a [f32],
    /// The part's notes (General MIDI drum notes for drums).
    pub notes: &'a [NoteSpec],
}

/// What the fit found.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Name of the preset the fit started from.
    pub preset: String,
    /// The preset's values, level-matched (what "the nearest preset alone" plays).
    pub preset_values: Values,
    /// The fitted values.
    pub values: Values,
    /// Loss of the level-matched preset on the excerpts, dB.
    pub loss_before: f64,
    /// Loss of the fitted patch, dB.
    pub loss_after: f64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Loss evaluations spent.
    pub evaluations: usize,
}

/// The bank roles that may rebuild an element of `role`, best first.
pub fn candidate_roles(role: &str) -> &'static [&'static str] {
    match role {
        "bass" => &["bass"],
        "vocals" => &["vocals", "lead"],
        "lead" => &["lead", "vocals"],
        "keys" => &["keys", "other"],
        "guitar" => &["guitar", "other"],
        "drums" => &["drums"],
        _ => &["other", "keys", "guitar"],
    }
}

/// Parameters fitted together and the excerpts they are fitted and judged on.
struct Group {
    params: Vec<P>,
    /// A drum group's classes (only their hits move while its parameters are searched) and
    /// its row of [`KIT_EQ`].
    takes: Option<(ClassFilter, usize)>,
    train: Vec<usize>,
    held: Vec<usize>,
}

struct Excerpt {
    /// Notes, times relative to the render's start.
    notes: Vec<NoteSpec>,
    /// While [`Objective::focus`] holds: the notes rendered (the rest are in `background`).
    focused: Option<Vec<NoteSpec>>,
    /// The render of the notes left out by the focus, over the compared window (mono).
    background: Vec<f32>,
    /// Samples to render, and where the compared window starts in them.
    render_len: usize,
    offset: usize,
    /// The stem's mel powers over the window, at both resolutions.
    reference: [Vec<f32>; 2],
    /// The stem's window (for level matching).
    rms: f64,
}

/// Renders excerpts and scores them.
struct Objective {
    rate: u32,
    synth: Synth,
    specs: [MelSpec; 2],
    excerpts: Vec<Excerpt>,
}

impl Objective {
    fn new(rate: u32) -> Self {
        let n_fft = ((rate as f64 * 0.0464) as usize).next_power_of_two();
        let mut synth = Synth::new(Values::default());
        synth.allocate(rate as f32);
        Self {
            rate,
            synth,
            specs: [
                MelSpec::new(rate, n_fft, n_fft / 4, 128),
                MelSpec::new(rate, n_fft / 4, n_fft / 16, 64),
            ],
            excerpts: Vec::new(),
        }
    }

    fn add_excerpts(
        &mut self,
        audio: &[f32],
        rate: u32,
        notes: &[NoteSpec],
        chosen: &[usize],
        max_s: f64,
    ) {
        let at = |s: f64| ((s.max(0.0) * rate as f64) as usize).min(audio.len());
        for &i in chosen {
            let n = &notes[i];
            let len_s = (n.end_s - n.start_s + 0.25).clamp(0.25, max_s);
            let w0 = at(n.start_s - 0.03);
            let w1 = at(n.start_s + len_s);
            self.add_window(audio, rate, notes, w0, w1, PREROLL_S);
        }
    }

    /// Adds the window `w0..w1` (samples) of the stem as an excerpt, rendered from `preroll_s`
    /// before it; returns its index (`None` when shorter than 50 ms).
    fn add_window(
        &mut self,
        audio: &[f32],
        rate: u32,
        notes: &[NoteSpec],
        w0: usize,
        w1: usize,
        preroll_s: f64,
    ) -> Option<usize> {
        if w1 <= w0 + rate as usize / 20 {
            return None;
        }
        let r0 = w0.saturating_sub((preroll_s * rate as f64) as usize);
        let t0 = r0 as f64 / rate as f64;
        let t1 = w1 as f64 / rate as f64;
        let ex_notes: Vec<NoteSpec> = notes
            .iter()
            .filter(|m| m.start_s < t1 && m.end_s > t0)
            .map(|m| NoteSpec {
                start_s: (m.start_s - t0).max(0.0),
                end_s: m.end_s - t0,
                ..*m
            })
            .collect();
        let window = &audio[w0..w1];
        let rms =
            (window.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / window.len() as f64).sqrt();
        let reference = [self.specs[0].powers(window), self.specs[1].powers(window)];
        self.excerpts.push(Excerpt {
            notes: ex_notes,
            focused: None,
            background: Vec::new(),
            render_len: w1 - r0,
            offset: w0 - r0,
            reference,
            rms,
        });
        Some(self.excerpts.len() - 1)
    }

    /// The rate the objective renders at, Hz.
    fn synth_rate(&self) -> f32 {
        self.rate as f32
    }

    /// Mono renders of the excerpts `which` with `values`.
    fn render(&mut self, values: &Values, which: &[usize]) -> Vec<Vec<f32>> {
        which
            .iter()
            .map(|&e| {
                let ex = &self.excerpts[e];
                let notes = ex.focused.as_ref().unwrap_or(&ex.notes);
                let mut y = render_window(&mut self.synth, values, notes, ex.render_len, ex.offset);
                for (y, b) in y.iter_mut().zip(&ex.background) {
                    *y += b;
                }
                y
            })
            .collect()
    }

    /// Until [`Objective::unfocus`], the excerpts `which` render only the notes `keep` takes,
    /// over a background of the others rendered now with `values`: the synth sums its notes
    /// and every stage after the voices is linear, so while only the kept notes' sound moves
    /// (a drum class's parameters), the render is the same at a fraction of the cost.
    fn focus(&mut self, values: &Values, which: &[usize], keep: impl Fn(&NoteSpec) -> bool) {
        for &e in which {
            let ex = &mut self.excerpts[e];
            let (kept, rest): (Vec<NoteSpec>, Vec<NoteSpec>) =
                ex.notes.iter().partition(|n| keep(n));
            ex.background = if rest.is_empty() {
                Vec::new()
            } else {
                render_window(&mut self.synth, values, &rest, ex.render_len, ex.offset)
            };
            ex.focused = Some(kept);
        }
    }

    /// Ends every focus.
    fn unfocus(&mut self) {
        for ex in self.excerpts.iter_mut() {
            ex.focused = None;
            ex.background = Vec::new();
        }
    }

    /// Loss over the excerpts `which`: mean distance over both resolutions, weighted by
    /// active frames.
    fn loss(&mut self, values: &Values, which: &[usize]) -> f64 {
        let renders = self.render(values, which);
        self.loss_of(&renders, which)
    }

    /// [`Objective::loss`] of renders of the excerpts `which`.
    fn loss_of(&mut self, renders: &[Vec<f32>], which: &[usize]) -> f64 {
        let (mut sum, mut n) = (0.0, 0usize);
        for (y, &e) in renders.iter().zip(which) {
            for r in 0..2 {
                let bands = self.specs[r].bands();
                let c = self.specs[r].powers(y);
                if let Some((d, frames)) =
                    distance_of_powers(&self.excerpts[e].reference[r], &c, bands)
                {
                    sum += d * frames as f64;
                    n += frames;
                }
            }
        }
        if n == 0 {
            f64::INFINITY
        } else {
            sum / n as f64
        }
    }

    /// Sets the patch's tone EQ so that the renders' average spectrum over `which` matches the
    /// stem's: each octave band takes the mean difference of the mel bands within an octave of
    /// its centre (triangular weights in log frequency), repeated [`EQ_ROUNDS`] times so the
    /// overlap of neighbouring bands settles.
    /// The EQ is kept only if it lowers the loss over `which`.
    fn match_eq(&mut self, values: &mut Values, which: &[usize]) {
        let before = *values;
        let loss_before = self.loss(values, which);
        self.match_eq_rounds(values, which);
        if self.loss(values, which) > loss_before {
            *values = before;
        }
    }

    fn match_eq_rounds(&mut self, values: &mut Values, which: &[usize]) {
        let centres = self.specs[0].centres().to_vec();
        let bands = self.specs[0].bands();
        for _ in 0..EQ_ROUNDS {
            let renders = self.render(values, which);
            let mut diff = vec![0.0f64; bands];
            let mut frames = 0usize;
            for (y, &e) in renders.iter().zip(which) {
                let c = self.specs[0].powers(y);
                if let Some((d, n)) = mean_difference(&self.excerpts[e].reference[0], &c, bands) {
                    for (acc, v) in diff.iter_mut().zip(&d) {
                        *acc += v * n as f64;
                    }
                    frames += n;
                }
            }
            if frames == 0 {
                return;
            }
            for (p, freq) in EQ_BANDS {
                let (mut num, mut den) = (0.0, 0.0);
                for (d, &fc) in diff.iter().zip(&centres) {
                    let w = octave_weight(fc, freq);
                    num += w * d / frames as f64;
                    den += w;
                }
                if den > 0.0 {
                    values.set(p, values.get(p) + (EQ_STEP * num / den) as f32);
                }
            }
        }
    }

    /// Sets a drum class group's own tone EQ (`row`, a row of [`KIT_EQ`]) on the excerpts
    /// `which`, focused on that group's hits ([`Objective::focus`]): per mel band, the stem's
    /// difference from the render, averaged over the active frames with each frame weighted
    /// by the group's share of the render's power in that band (so a band the other hits
    /// fill barely moves it), then taken to the octave bands as
    /// [`Objective::match_eq_rounds`] does, over [`EQ_ROUNDS`] rounds. Kept only if the loss
    /// over `which` falls.
    fn match_class_eq(&mut self, values: &mut Values, which: &[usize], row: &[P; EQ_BANDS.len()]) {
        let before = *values;
        let loss_before = self.loss(values, which);
        let centres = self.specs[0].centres().to_vec();
        let bands = self.specs[0].bands();
        for _ in 0..EQ_ROUNDS {
            let (mut num, mut den) = (vec![0.0f64; bands], vec![0.0f64; bands]);
            for &e in which {
                let ex = &self.excerpts[e];
                let Some(kept) = &ex.focused else {
                    continue;
                };
                let class = render_window(&mut self.synth, values, kept, ex.render_len, ex.offset);
                let total: Vec<f32> = if ex.background.is_empty() {
                    class.clone()
                } else {
                    class
                        .iter()
                        .zip(&ex.background)
                        .map(|(a, b)| a + b)
                        .collect()
                };
                let own = self.specs[0].powers(&class);
                let all = self.specs[0].powers(&total);
                share_weighted_difference(&ex.reference[0], &all, &own, bands, &mut num, &mut den);
            }
            for (p, (_, freq)) in row.iter().zip(EQ_BANDS) {
                let (mut a, mut b) = (0.0, 0.0);
                for ((n, d), &fc) in num.iter().zip(&den).zip(&centres) {
                    let w = octave_weight(fc, freq) * d;
                    if *d > 0.0 {
                        a += w * n / d;
                        b += w;
                    }
                }
                if b > 0.0 {
                    values.set(*p, values.get(*p) + (EQ_STEP * a / b) as f32);
                }
            }
        }
        if self.loss(values, which) > loss_before {
            *values = before;
        }
    }

    /// Tries the reverb on a grid of levels and decay times (and as it is) and keeps the best
    /// on `which`. A reverb builds up over seconds, so `which` is a long window rendered from
    /// well before it: short excerpts would see too little of the tails of earlier notes.
    ///
    /// The voices are rendered once, dry: the reverb comes last but for the DC blocker, and
    /// both are linear and time-invariant, so a render with the reverb is the dry render plus
    /// the level times the reverb of the dry render, and each decay time costs one pass of
    /// the reverb alone, not a render of every voice.
    fn match_reverb(&mut self, values: &mut Values, which: &[usize]) {
        let mut dry_values = *values;
        dry_values.set(P::ReverbLevel, 0.0);
        let dry: Vec<[Vec<f32>; 2]> = which
            .iter()
            .map(|&e| {
                let ex = &self.excerpts[e];
                let notes = ex.focused.as_ref().unwrap_or(&ex.notes);
                render_with(&mut self.synth, &dry_values, notes, ex.render_len)
            })
            .collect();
        let mut reverb = Reverb::default();
        reverb.allocate(self.synth_rate());
        let mut trials: Vec<(f32, f32)> =
            vec![(values.get(P::ReverbLevel), values.get(P::ReverbRt60))];
        for rt60 in REVERB_RT60S {
            trials.extend(REVERB_LEVELS.iter().map(|&level| (level, rt60)));
        }
        let mut best: Option<(f64, (f32, f32))> = None;
        let mut wet: Vec<[Vec<f32>; 2]> = Vec::new();
        let mut wet_rt60 = None;
        for (level, rt60) in trials {
            if wet_rt60 != Some(rt60) {
                reverb.set(ReverbSettings {
                    rt60_s: rt60,
                    predelay_ms: values.get(P::ReverbPredelay),
                    damp_hz: values.get(P::ReverbDamp),
                });
                wet = dry
                    .iter()
                    .map(|[l, r]| {
                        reverb.reset();
                        let (mut wl, mut wr) = (l.clone(), r.clone());
                        reverb.process(1.0, &mut wl, &mut wr);
                        for (w, d) in wl.iter_mut().zip(l).chain(wr.iter_mut().zip(r)) {
                            *w -= d;
                        }
                        [wl, wr]
                    })
                    .collect();
                wet_rt60 = Some(rt60);
            }
            let renders: Vec<Vec<f32>> = which
                .iter()
                .zip(dry.iter().zip(&wet))
                .map(|(&e, ([dl, dr], [wl, wr]))| {
                    let ex = &self.excerpts[e];
                    let at = ex.offset;
                    let mut y: Vec<f32> = (at..dl.len())
                        .map(|i| 0.5 * ((dl[i] + level * wl[i]) + (dr[i] + level * wr[i])))
                        .collect();
                    for (y, b) in y.iter_mut().zip(&ex.background) {
                        *y += b;
                    }
                    y
                })
                .collect();
            let loss = self.loss_of(&renders, which);
            if best.is_none_or(|(b, _)| loss < b) {
                best = Some((loss, (level, rt60)));
            }
        }
        if let Some((_, (level, rt60))) = best {
            values.set(P::ReverbLevel, level);
            values.set(P::ReverbRt60, rt60);
        }
    }

    /// Tries each set of [`PLAIN`] at its plain values, in order, keeping every one
    /// that does not make the loss over `which` worse; the result is kept only if it is not
    /// worse over the window `check` either (where a glide or a slow modulation shows). A
    /// continuous search cannot land on a value where the sound changes kind (a pulse at
    /// exactly half width has no even harmonics; a modulation depth of exactly zero leaves
    /// the harmonics sharp), and the log spectrum punishes the small leftovers of being
    /// near one.
    fn simplify(&mut self, values: &mut Values, which: &[usize], check: Option<usize>) {
        let before = *values;
        self.simplify_on(values, which);
        if let Some(c) = check {
            if *values != before && self.loss(values, &[c]) > self.loss(&before, &[c]) {
                *values = before;
            }
        }
    }

    fn simplify_on(&mut self, values: &mut Values, which: &[usize]) {
        let mut best = self.loss(values, which);
        for set in PLAIN {
            if set.iter().all(|&(p, plain)| values.get(p) == plain) {
                continue;
            }
            let mut v = *values;
            for &(p, plain) in set {
                v.set(p, plain);
            }
            let loss = self.loss(&v, which);
            if loss <= best {
                (best, *values) = (loss, v);
            }
        }
    }

    /// Sets `level` so the renders' RMS matches the stem's over `which`.
    fn match_level(&mut self, values: &mut Values, level: P, which: &[usize]) {
        let renders = self.render(values, which);
        let gain_db = self.level_gain_db(&renders, which);
        values.set(level, values.get(level) + gain_db as f32);
    }

    /// The gain (dB) that makes the RMS of `renders` of the excerpts `which` the stem's (0
    /// when either is silent).
    fn level_gain_db(&self, renders: &[Vec<f32>], which: &[usize]) -> f64 {
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for (y, &e) in renders.iter().zip(which) {
            num += self.excerpts[e].rms.powi(2) * y.len() as f64;
            den += y.iter().map(|x| (*x as f64).powi(2)).sum::<f64>();
        }
        if den > 0.0 && num > 0.0 {
            10.0 * (num / den).log10()
        } else {
            0.0
        }
    }

    /// [`Objective::match_level`] on [`P::Level`] and then [`Objective::loss`], from one
    /// render: the output is linear in the level (it scales the voices after every
    /// nonlinearity), so the level-matched render is the render scaled.
    fn level_matched_loss(&mut self, values: &mut Values, which: &[usize]) -> f64 {
        let mut renders = self.render(values, which);
        let gain_db = self.level_gain_db(&renders, which);
        values.set(P::Level, values.get(P::Level) + gain_db as f32);
        let g = 10f64.powf(gain_db / 20.0) as f32;
        for y in renders.iter_mut() {
            y.iter_mut().for_each(|x| *x *= g);
        }
        self.loss_of(&renders, which)
    }
}

/// Rounds of the song-wide tone match.
const SONG_TONE_ROUNDS: usize = 2;
/// High-cut corners the song-wide tone match tries: twelfth-octave steps from 1 kHz up (a
/// steep cut needs its corner within a few per cent), each at every slope.
const HIGH_CUT_STEPS_PER_OCTAVE: f64 = 12.0;

/// The song-wide tone match: the whole part rendered, the stem's mean difference from it per
/// mel band over the stem's active frames ([`mean_difference`]: what a static filter would
/// have to add), and the fine EQ and the high cut set in closed form to add it
/// ([`solve_tone`]); kept if the whole part's distance falls, and repeated from the new
/// render. The excerpts judge timbre note by note; over the whole song a part also has its
/// quiet passages, its tails and its band limit, and an EQ fitted on a dozen notes leaves a
/// few dB of the song's average spectrum unmatched. The first render always runs; a round
/// only where it and one more render (the caller's of the result) still fit before
/// `deadline`.
fn match_song_tone(
    obj: &mut Objective,
    values: &mut Values,
    audio: &[f32],
    notes: &[NoteSpec],
    deadline: Instant,
) {
    let bands = obj.specs[0].bands();
    let reference = obj.specs[0].powers(audio);
    let rate = obj.synth_rate();
    let centres = obj.specs[0].centres().to_vec();
    let score = |obj: &mut Objective, v: &Values| {
        let y = render_window(&mut obj.synth, v, notes, audio.len(), 0);
        let c = obj.specs[0].powers(&y);
        let d = distance_of_powers(&reference, &c, bands).map_or(f64::INFINITY, |d| d.0);
        (d, c)
    };
    let timer = Instant::now();
    let (mut best, mut powers) = score(obj, values);
    let per_round = timer.elapsed();
    for _ in 0..SONG_TONE_ROUNDS {
        if Instant::now() + 2 * per_round > deadline {
            return;
        }
        let Some((diff, _)) = mean_difference(&reference, &powers, bands) else {
            return;
        };
        let now = tone_response(values, &centres, rate);
        let target: Vec<f64> = now.iter().zip(&diff).map(|(a, d)| a + d).collect();
        let mut v = *values;
        solve_tone(&mut v, &target, &centres, rate);
        let (d, c) = score(obj, &v);
        if d >= best {
            return;
        }
        (best, powers, *values) = (d, c, v);
    }
}

/// Response (dB) of `values`' fine EQ and high cut at each of `freqs`, at `rate`.
fn tone_response(values: &Values, freqs: &[f64], rate: f32) -> Vec<f64> {
    let cut = values.get(P::ToneHighCut);
    let order = high_cut_order(values.get(P::ToneHighCutSlope));
    let fine: Vec<[f64; 5]> = FINE_EQ_BANDS
        .iter()
        .filter(|(p, f)| values.get(*p).abs() >= 1e-3 && *f <= 0.45 * rate)
        .map(|(p, f)| peak_coefs(*f, values.get(*p), rate))
        .collect();
    freqs
        .iter()
        .map(|&f| {
            let x = f / rate as f64;
            fine.iter().map(|c| magnitude_db(c, x)).sum::<f64>() + high_cut_db(cut, order, f, rate)
        })
        .collect()
}

/// The engine's peaking band ([`auralis_engine::filter::peaking`]) in f64.
fn peak_coefs(freq: f32, gain_db: f32, rate: f32) -> [f64; 5] {
    auralis_engine::fx::eq::Band {
        kind: auralis_engine::fx::eq::BandKind::Peak,
        freq_hz: freq,
        gain_db,
        q: FINE_EQ_Q,
    }
    .coefs_f64(rate)
}

/// Response (dB) at `f` Hz of the engine's high cut set to `cut` Hz at Butterworth `order`:
/// |H|² = 1 / (1 + (f/fc)^2N) on prewarped frequencies, as the bilinear transform maps them; 0
/// when off.
fn high_cut_db(cut: f32, order: usize, f: f64, rate: f32) -> f64 {
    if cut >= HIGH_CUT_OFF_HZ || cut >= 0.45 * rate {
        return 0.0;
    }
    // Prewarped, as the bilinear transform maps the corner.
    let warp = |x: f64| (std::f64::consts::PI * x / rate as f64).tan();
    let r = warp(f.min(0.499 * rate as f64)) / warp(cut as f64);
    -10.0 * (1.0 + r.powi(2 * order as i32)).log10()
}

/// Sets the fine EQ and the high cut of `values` so that their response at `freqs` (mel band
/// centres, Hz) comes closest to `target` (dB), every band alike as the distance weighs them:
/// least squares with a small ridge ([`TONE_RIDGE`], which keeps a band no mel band sees at
/// 0 dB). Each high-cut corner at each slope (and none) is tried with the fine EQ it leaves to
/// do, from the
/// bands' responses at 0 dB taken as linear in their gains; the closest is kept, and the fine
/// EQ is then refined by Gauss–Newton steps on its exact response (a peak's shape changes with
/// its gain, and neighbours overlap).
fn solve_tone(values: &mut Values, target: &[f64], freqs: &[f64], rate: f32) {
    let usable: Vec<(P, f32)> = FINE_EQ_BANDS
        .iter()
        .copied()
        .filter(|(_, f)| *f <= FINE_EQ_TOP * rate)
        .collect();
    let k = usable.len();
    let response = |gains: &[f64]| -> Vec<f64> {
        let coefs: Vec<[f64; 5]> = usable
            .iter()
            .zip(gains)
            .filter(|(_, g)| g.abs() >= 1e-3)
            .map(|((_, c), g)| peak_coefs(*c, *g as f32, rate))
            .collect();
        freqs
            .iter()
            .map(|&f| coefs.iter().map(|c| magnitude_db(c, f / rate as f64)).sum())
            .collect()
    };
    // Jacobian (bands × mel bands, row-major by band) of the response at `gains`, by central
    // differences of 1 dB.
    let jacobian = |gains: &[f64]| -> Vec<f64> {
        let mut j = vec![0.0; k * freqs.len()];
        for b in 0..k {
            let c = |g: f64| peak_coefs(usable[b].1, g as f32, rate);
            let (up, down) = (c(gains[b] + 1.0), c(gains[b] - 1.0));
            for (m, &f) in freqs.iter().enumerate() {
                let x = f / rate as f64;
                j[b * freqs.len() + m] = 0.5 * (magnitude_db(&up, x) - magnitude_db(&down, x));
            }
        }
        j
    };
    // The step that best explains `residual`: (JᵀJ + λI) δ = Jᵀ r − λ g (the ridge on the
    // gains themselves, not on the step).
    let step = |j: &[f64], residual: &[f64], gains: &[f64]| -> Vec<f64> {
        let n = freqs.len();
        let mut a = vec![0.0; k * k];
        let mut rhs = vec![0.0; k];
        for p in 0..k {
            for q in 0..k {
                a[p * k + q] = (0..n).map(|m| j[p * n + m] * j[q * n + m]).sum();
            }
            a[p * k + p] += TONE_RIDGE;
            rhs[p] =
                (0..n).map(|m| j[p * n + m] * residual[m]).sum::<f64>() - TONE_RIDGE * gains[p];
        }
        solve_linear(&mut a, &mut rhs, k);
        rhs
    };
    let top = (0.45 * rate).min(HIGH_CUT_OFF_HZ) as f64;
    let mut cuts = vec![HIGH_CUT_OFF_HZ];
    let mut c = 1_000.0f64;
    while c < top {
        cuts.push(c as f32);
        c *= 2f64.powf(1.0 / HIGH_CUT_STEPS_PER_OCTAVE);
    }
    let zero = vec![0.0; k];
    let j0 = jacobian(&zero);
    let residual_for = |cut: f32, order: usize| -> Vec<f64> {
        target
            .iter()
            .zip(freqs)
            .map(|(t, &f)| t - high_cut_db(cut, order, f, rate))
            .collect()
    };
    let linear_error = |residual: &[f64], gains: &[f64]| -> f64 {
        let n = freqs.len();
        (0..n)
            .map(|m| {
                let fit: f64 = (0..k).map(|b| j0[b * n + m] * gains[b]).sum();
                (residual[m] - fit).powi(2)
            })
            .sum::<f64>()
            + TONE_RIDGE * gains.iter().map(|g| g * g).sum::<f64>()
    };
    // (error, corner, slope option); the slope matters only with a corner.
    let mut best = (f64::INFINITY, HIGH_CUT_OFF_HZ, 0usize);
    for &cut in &cuts {
        let slopes = if cut >= HIGH_CUT_OFF_HZ {
            1
        } else {
            HIGH_CUT_SLOPES.len()
        };
        for slope in 0..slopes {
            let r = residual_for(cut, high_cut_order(slope as f32));
            let g: Vec<f64> = step(&j0, &r, &zero)
                .into_iter()
                .map(|g| g.clamp(-24.0, 24.0))
                .collect();
            let e = linear_error(&r, &g);
            if e < best.0 {
                best = (e, cut, slope);
            }
        }
    }
    let (_, cut, slope) = best;
    values.set(P::ToneHighCut, cut);
    values.set(P::ToneHighCutSlope, slope as f32);
    let residual = residual_for(cut, high_cut_order(slope as f32));
    let mut gains = zero.clone();
    for _ in 0..SOLVE_ROUNDS {
        let now = response(&gains);
        let r: Vec<f64> = residual.iter().zip(&now).map(|(a, b)| a - b).collect();
        let d = step(&jacobian(&gains), &r, &gains);
        for (g, d) in gains.iter_mut().zip(d) {
            *g = (*g + d).clamp(-24.0, 24.0);
        }
    }
    for (p, _) in FINE_EQ_BANDS {
        values.set(p, 0.0);
    }
    for ((p, _), g) in usable.iter().zip(&gains) {
        values.set(*p, *g as f32);
    }
}

/// Gauss–Newton steps of [`solve_tone`]'s fine EQ.
const SOLVE_ROUNDS: usize = 4;
/// Ridge of [`solve_tone`]'s least squares (per band, in the units of a mel band's squared
/// dB): small against the dozen mel bands a third-octave band spans, large against none.
const TONE_RIDGE: f64 = 0.3;
/// The fine EQ's top band that [`solve_tone`] sets, as a share of the rate: below the engine's
/// limit, so that the patch sounds alike at 44.1 and 48 kHz.
const FINE_EQ_TOP: f32 = 0.45;

/// Solves `a x = b` in place (`a` n × n row-major, symmetric positive definite here) by
/// Gaussian elimination with partial pivoting; `b` becomes `x` (a singular row leaves 0).
fn solve_linear(a: &mut [f64], b: &mut [f64], n: usize) {
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
            .unwrap_or(col);
        if a[pivot * n + col].abs() < 1e-12 {
            continue;
        }
        if pivot != col {
            for c in 0..n {
                a.swap(col * n + c, pivot * n + c);
            }
            b.swap(col, pivot);
        }
        for row in col + 1..n {
            let f = a[row * n + col] / a[col * n + col];
            if f == 0.0 {
                continue;
            }
            for c in col..n {
                a[row * n + c] -= f * a[col * n + c];
            }
            b[row] -= f * b[col];
        }
    }
    for col in (0..n).rev() {
        let d = a[col * n + col];
        if d.abs() < 1e-12 {
            b[col] = 0.0;
            continue;
        }
        let s: f64 = (col + 1..n).map(|c| a[col * n + c] * b[c]).sum();
        b[col] = (b[col] - s) / d;
    }
}

/// Adds, per band, the difference (dB) of the reference `r` from the render `all` over the
/// reference's active frames, weighted by the share of `all`'s power that `own` has, into
/// `num`, and the weights into `den` (band powers frame-major, floored as
/// [`mean_difference`] floors).
fn share_weighted_difference(
    r: &[f32],
    all: &[f32],
    own: &[f32],
    bands: usize,
    num: &mut [f64],
    den: &mut [f64],
) {
    let frames = (r.len() / bands)
        .min(all.len() / bands)
        .min(own.len() / bands);
    let frame_power = |t: usize| {
        r[t * bands..(t + 1) * bands]
            .iter()
            .map(|&p| p as f64)
            .sum::<f64>()
    };
    let loudest = (0..frames).map(frame_power).fold(0.0f64, f64::max);
    let band_max = r[..frames * bands].iter().fold(0.0f32, |m, &p| m.max(p)) as f64;
    if loudest <= 0.0 || band_max <= 0.0 {
        return;
    }
    let active = loudest * 10f64.powf(-super::mel::ACTIVE_DB / 10.0);
    let floor = band_max * 10f64.powf(-super::mel::FLOOR_DB / 10.0);
    for t in (0..frames).filter(|&t| frame_power(t) >= active) {
        for b in 0..bands {
            let i = t * bands + b;
            let total = all[i] as f64;
            let w = if total > 0.0 {
                (own[i] as f64 / total).min(1.0)
            } else {
                0.0
            };
            num[b] += w * 10.0 * ((r[i] as f64 + floor) / (total + floor)).log10();
            den[b] += w;
        }
    }
}

/// How much a mel band centred at `centre_hz` counts towards the tone EQ band at `band_hz`:
/// a triangle in log frequency, 1 at the band's centre, 0 an octave away.
fn octave_weight(centre_hz: f64, band_hz: f32) -> f64 {
    (1.0 - (centre_hz.max(1.0) / band_hz as f64).log2().abs()).max(0.0)
}

/// Renders `notes` for `len` samples and returns the mono mix from `offset` on.
fn render_window(
    synth: &mut Synth,
    values: &Values,
    notes: &[NoteSpec],
    len: usize,
    offset: usize,
) -> Vec<f32> {
    let [l, r] = render_with(synth, values, notes, len);
    l[offset..]
        .iter()
        .zip(&r[offset..])
        .map(|(a, b)| 0.5 * (a + b))
        .collect()
}

/// Picks up to `k` notes among `idx` (sorted by start), one in each of `k` equal slices of
/// time: the one at [`PICK_QUANTILE`] of the slice's loudness.
fn pick_notes(audio: &[f32], rate: u32, notes: &[NoteSpec], idx: &[usize], k: usize) -> Vec<usize> {
    if idx.is_empty() {
        return Vec::new();
    }
    let (t0, t1) = (
        notes[idx[0]].start_s,
        notes[idx[idx.len() - 1]].start_s + 1e-6,
    );
    let loudness = |n: &NoteSpec| {
        let a = ((n.start_s.max(0.0)) * rate as f64) as usize;
        let b = (((n.start_s + (n.end_s - n.start_s).min(0.3) + 0.05) * rate as f64) as usize)
            .min(audio.len());
        if b <= a {
            return 0.0;
        }
        audio[a..b].iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / (b - a) as f64
    };
    let mut out = Vec::new();
    for s in 0..k {
        let lo = t0 + (t1 - t0) * s as f64 / k as f64;
        let hi = t0 + (t1 - t0) * (s + 1) as f64 / k as f64;
        let mut slice: Vec<(usize, f64)> = idx
            .iter()
            .filter(|&&i| notes[i].start_s >= lo && notes[i].start_s < hi)
            .map(|&i| (i, loudness(&notes[i])))
            .collect();
        slice.sort_by(|a, b| a.1.total_cmp(&b.1));
        if !slice.is_empty() {
            let k = ((slice.len() - 1) as f64 * PICK_QUANTILE).round() as usize;
            out.push(slice[k].0);
        }
    }
    out
}

/// The parameters fitted for a pitched patch with `v`'s voice type and sources.
fn pitched_params(v: &Values) -> Vec<P> {
    let mut p = vec![P::Level, P::FilterCutoff, P::VelocityAmount];
    match v.index(P::VoiceType) {
        1 => p.extend([
            P::PluckDecay,
            P::PluckBrightness,
            P::PluckExcite,
            P::AmpRelease,
            P::Osc2Level,
        ]),
        4 => p.extend([
            P::Fm4Level2,
            P::Fm4Level3,
            P::Fm4Level4,
            P::Fm4Decay1,
            P::Fm4Decay2,
            P::Fm4Decay3,
            P::Fm4Decay4,
            P::Fm4Sustain,
            P::Fm4Feedback,
            P::AmpAttack,
            P::AmpRelease,
        ]),
        2 => p.extend([
            P::FormantVowel,
            P::FormantShift,
            P::FormantBreath,
            P::AmpAttack,
            P::AmpRelease,
            P::Lfo1Pitch,
        ]),
        _ => {
            p.extend([
                P::FilterResonance,
                P::FilterEnvAmount,
                P::FenvDecay,
                P::FenvSustain,
                P::AmpAttack,
                P::AmpDecay,
                P::AmpSustain,
                P::AmpRelease,
                P::Osc2Level,
                P::NoiseLevel,
                P::SubLevel,
            ]);
            match v.index(P::Osc1Wave) {
                3 => p.push(P::Osc1Pw),
                6 => p.push(P::Osc1WtPos),
                _ => {}
            }
            if v.index(P::UnisonVoices) > 1 {
                p.push(P::UnisonDetune);
            }
            if v.get(P::FmAmount) > 0.0 || v.get(P::MenvFm) > 0.0 {
                p.extend([P::FmAmount, P::MenvFm, P::MenvDecay]);
            }
            if v.index(P::FilterType) == 3 {
                p.push(P::FilterDrive);
            }
        }
    }
    p
}

/// Which drum classes a group takes.
type ClassFilter = fn(DrumClass) -> bool;

/// Drum classes fitted separately: the notes they take and their parameters, in the order of
/// the class groups' tone EQ ([`KIT_EQ`], [`DrumClass::eq_group`]).
fn drum_groups() -> Vec<(ClassFilter, Vec<P>)> {
    vec![
        (
            |c| c == DrumClass::Kick,
            vec![
                P::KickTune,
                P::KickSweep,
                P::KickSweepTime,
                P::KickDecay,
                P::KickClick,
                P::KickDrive,
                P::KickLevel,
            ],
        ),
        (
            |c| c == DrumClass::Snare,
            vec![
                P::SnareTune,
                P::SnareToneDecay,
                P::SnareNoiseDecay,
                P::SnareNoiseHz,
                P::SnareTone,
                P::SnareLevel,
            ],
        ),
        (
            |c| c == DrumClass::Clap,
            vec![P::ClapHz, P::ClapDecay, P::ClapSpread, P::ClapLevel],
        ),
        (
            |c| matches!(c, DrumClass::ClosedHat | DrumClass::OpenHat),
            vec![
                P::HatTune,
                P::HatHp,
                P::HatNoise,
                P::HatClosedDecay,
                P::HatOpenDecay,
                P::HatLevel,
            ],
        ),
        (
            |c| matches!(c, DrumClass::Crash | DrumClass::Ride),
            vec![P::CymbalDecay, P::CymbalLevel],
        ),
        (
            |c| matches!(c, DrumClass::Tom(_)),
            vec![P::TomTune, P::TomDecay, P::TomLevel],
        ),
    ]
}

/// What a fit may spend: wall-clock time, and optionally a number of loss evaluations of the
/// search. With a count each search stops after the generation that reaches its share (or at
/// the time, whichever comes first), so a fit repeats exactly whatever else the machine is
/// doing: for comparing changes to the fitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Wall-clock time.
    pub time: Duration,
    /// Loss evaluations of the parameter search (the preset ranking, EQ, reverb and level
    /// matching come on top); `None`: the time alone.
    pub evaluations: Option<usize>,
}

impl From<Duration> for Budget {
    fn from(time: Duration) -> Self {
        Self {
            time,
            evaluations: None,
        }
    }
}

impl Budget {
    /// The part `f` of this budget.
    fn share(self, f: f64) -> Self {
        Self {
            time: self.time.mul_f64(f),
            evaluations: self.evaluations.map(|n| (n as f64 * f).round() as usize),
        }
    }

    /// What is left after `elapsed` and `evaluations` spent.
    fn left(self, elapsed: Duration, evaluations: usize) -> Self {
        Self {
            time: self.time.saturating_sub(elapsed),
            evaluations: self.evaluations.map(|n| n.saturating_sub(evaluations)),
        }
    }

    fn is_zero(self) -> bool {
        self.time.is_zero() || self.evaluations == Some(0)
    }
}

/// Runs CMA-ES over `params` of `values` on the excerpts `which` for `budget`.
fn optimise(
    obj: &mut Objective,
    values: &mut Values,
    params: &[P],
    which: &[usize],
    budget: Budget,
    seed: u64,
) -> (f64, usize) {
    let started = Instant::now();
    let base = *values;
    let start: Vec<f64> = params
        .iter()
        .map(|p| p.spec().to_normalized(base.get(*p)) as f64)
        .collect();
    let apply = |x: &[f64]| {
        let mut v = base;
        for (p, &t) in params.iter().zip(x) {
            v.set(*p, p.spec().from_normalized(t as f32));
        }
        v
    };
    let best = cmaes::minimize(
        &start,
        INITIAL_STEP,
        seed,
        &mut |x| obj.loss(&apply(x), which),
        &mut |n| started.elapsed() >= budget.time || budget.evaluations.is_some_and(|m| n >= m),
    );
    *values = apply(&best.x);
    (best.loss, best.evaluations)
}

/// Finds the nearest preset of the part's role and fits it within `budget` (which leaves time
/// for one render of the whole part after it: the caller's of the result); `None` when the
/// part has no notes, no bank preset fits its role, or its stem is silent where it plays.
pub fn fit(part: &Part, bank: &[Preset], budget: impl Into<Budget>, seed: u64) -> Option<Fit> {
    let budget = budget.into();
    let started = Instant::now();
    let drums = part.role == "drums";
    let (audio, rate) = (part.audio, part.rate);
    let mut notes: Vec<NoteSpec> = part.notes.to_vec();
    notes.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut obj = Objective::new(rate);
    // Excerpt groups: one for a pitched part; one per drum class present. Every third excerpt
    // is held out: the fit is kept only if it also sounds closer there.
    let mut groups: Vec<Group> = Vec::new();
    let mut add_group = |obj: &mut Objective,
                         params: Vec<P>,
                         takes: Option<(ClassFilter, usize)>,
                         idx: &[usize],
                         max_s: f64| {
        let chosen = pick_notes(audio, rate, &notes, idx, EXCERPTS + HELD_OUT);
        let first = obj.excerpts.len();
        obj.add_excerpts(audio, rate, &notes, &chosen, max_s);
        let (mut train, mut held) = (Vec::new(), Vec::new());
        for (k, e) in (first..obj.excerpts.len()).enumerate() {
            if k % 3 == 1 {
                held.push(e);
            } else {
                train.push(e);
            }
        }
        if !train.is_empty() {
            groups.push(Group {
                params,
                takes,
                train,
                held,
            });
        }
    };
    if drums {
        for (row, (takes, params)) in drum_groups().into_iter().enumerate() {
            let idx: Vec<usize> = (0..notes.len())
                .filter(|&i| DrumClass::of_note(notes[i].pitch).is_some_and(takes))
                .collect();
            add_group(&mut obj, params, Some((takes, row)), &idx, 0.5);
        }
    } else {
        let idx: Vec<usize> = (0..notes.len())
            .filter(|&i| notes[i].end_s - notes[i].start_s >= 0.06)
            .collect();
        add_group(&mut obj, Vec::new(), None, &idx, EXCERPT_MAX_S);
    }
    let all: Vec<usize> = (0..obj.excerpts.len()).collect();
    let train: Vec<usize> = groups
        .iter()
        .flat_map(|g| g.train.iter().copied())
        .collect();
    let held: Vec<usize> = groups.iter().flat_map(|g| g.held.iter().copied()).collect();
    if train.is_empty() || obj.excerpts.iter().all(|e| e.rms <= 0.0) {
        return None;
    }
    let judge = if held.is_empty() { &train } else { &held };
    // The loudest stretch of the stem (1 s steps), for the reverb, and a typical one (the
    // median energy of the stretches where it plays, away from the loudest) that guards the
    // fit against sounding closer only where the part is loudest.
    let (long, typical) = {
        let len = ((LONG_S * rate as f64) as usize).min(audio.len());
        let hop = rate as usize;
        let energy = |a: usize| audio[a..a + len].iter().map(|x| x * x).sum::<f32>();
        let mut windows: Vec<(usize, f32)> = (0..=(audio.len() - len) / hop)
            .map(|k| (k * hop, energy(k * hop)))
            .collect();
        windows.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (loudest, top) = windows.first().copied().unwrap_or((0, 0.0));
        let mut playing: Vec<(usize, f32)> = windows
            .iter()
            .copied()
            .filter(|&(a, e)| e >= 0.01 * top && a.abs_diff(loudest) >= len)
            .collect();
        playing.sort_by(|a, b| a.1.total_cmp(&b.1));
        let long = obj.add_window(audio, rate, &notes, loudest, loudest + len, LONG_PREROLL_S);
        let typical = playing
            .get(playing.len() / 2)
            .and_then(|&(a, _)| obj.add_window(audio, rate, &notes, a, a + len, LONG_PREROLL_S));
        (long, typical)
    };

    // Presets of the role, level-matched, ranked on the training excerpts by successive
    // halving (most presets are far, and a cheap look tells them): a pitched part's presets
    // first on two excerpts, the best [`RANK_KEEP`] then on all; kits first with one level
    // for the whole kit, the best [`RANK_KEEP_KITS`] then with each class's level matched on
    // its own hits.
    let roles = candidate_roles(part.role);
    let mut ranked: Vec<(f64, &Preset, Values)> = Vec::new();
    for preset in bank.iter().filter(|p| roles.contains(&p.role.as_str())) {
        let Ok(mut v) = preset.patch.values() else {
            continue;
        };
        let probe = if drums {
            &train[..]
        } else {
            &[train[0], train[train.len() / 2]][..train.len().min(2)]
        };
        let loss = obj.level_matched_loss(&mut v, probe);
        ranked.push((loss, preset, v));
    }
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    ranked.truncate(if drums { RANK_KEEP_KITS } else { RANK_KEEP });
    for (loss, _, v) in ranked.iter_mut() {
        *loss = if drums {
            for g in &groups {
                if let Some(level) = g.params.last() {
                    obj.match_level(v, *level, &g.train);
                }
            }
            obj.loss(v, &train)
        } else {
            obj.level_matched_loss(v, &train)
        };
    }
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (_, nearest, nearest_values) = *ranked.first()?;
    // What a loss costs here, for sharing the budget: per excerpt (timed on the nearest
    // preset, whose loss is reported anyway) and over the long window (also needed by the
    // final check).
    let timer = Instant::now();
    let loss_before = obj.loss(&nearest_values, &all);
    let per_excerpt = timer.elapsed().div_f64(all.len().max(1) as f64);
    let timer = Instant::now();
    let nearest_long: Vec<f64> = [long, typical]
        .into_iter()
        .flatten()
        .map(|l| obj.loss(&nearest_values, &[l]))
        .collect();
    let per_long = timer.elapsed().div_f64(nearest_long.len().max(1) as f64);
    let cost =
        |excerpts: usize, longs: usize| per_excerpt * excerpts as u32 + per_long * longs as u32;
    let eq_cost = cost((EQ_ROUNDS + 2) * train.len(), 0);
    // Before the final search: plain values (each try on the training excerpts, the result
    // checked over the long window), the reverb's grid, the EQ; after it: plain values, the
    // EQ, the level over the long window and the checks.
    let tries = if drums { 0 } else { PLAIN.len() + 1 };
    let grid = REVERB_LEVELS.len() * REVERB_RT60S.len() + 1;
    let before = cost(tries * train.len(), 2 + grid) + eq_cost;
    // A whole part's render (the trials' judge, the song-wide tone match) is costed at a
    // long window's cost per second of it (the long window is rendered from its preroll);
    // measured: a whole part costs about 1.6 times that (a kit 2 times: its class EQs, set by
    // the search, make the buses dearer to render).
    let song_share = audio.len() as f64 / (rate as f64 * (LONG_S + LONG_PREROLL_S))
        * if drums { 2.0 } else { 1.6 };
    let song_render = per_long.mul_f64(song_share);
    let after = cost(
        tries * train.len() + 2 * judge.len() + all.len(),
        5 + nearest_long.len(),
    ) + eq_cost;
    // A trial: its EQ, its search, and its judging over the whole part.
    let trial_cost = eq_cost + song_render;

    // Fit: a short fit of each of the best few presets, the one that does best on the held-out
    // excerpts is fitted on with the rest of the budget. Where the budget does not cover the
    // trials' own costs, only the nearest is fitted.
    let left = budget.left(started.elapsed() + before + after, 0);
    let mut shortlist = if drums {
        1
    } else {
        SHORTLIST.min(ranked.len())
    };
    let for_trials = left.time.saturating_sub(trial_cost * shortlist as u32);
    if shortlist > 1 && for_trials.is_zero() {
        shortlist = 1;
    }
    let trial = if shortlist > 1 {
        Budget {
            time: for_trials.mul_f64(TRIAL_SHARE / shortlist as f64),
            evaluations: left.share(TRIAL_SHARE / shortlist as f64).evaluations,
        }
    } else {
        left.share(0.0)
    };
    // The last place goes to the best preset of another generator than the ones before it
    // (a plucked string for a piano the subtractive pads happen to match more closely as
    // they are): presets of one generator share its limits, which a fit cannot move.
    let mut picks: Vec<usize> = (0..shortlist).collect();
    if shortlist > 1 {
        let kinds: Vec<usize> = ranked[..shortlist - 1]
            .iter()
            .map(|r| r.2.index(P::VoiceType))
            .collect();
        if let Some(other) = (shortlist - 1..ranked.len())
            .find(|&i| !kinds.contains(&ranked[i].2.index(P::VoiceType)))
        {
            picks[shortlist - 1] = other;
        }
    }
    let mut evaluations = 0;
    let song_reference = (picks.len() > 1).then(|| obj.specs[0].powers(audio));
    let mut contenders: Vec<(f64, &Preset, Values)> = Vec::new();
    for (k, (_, preset, v)) in picks.iter().map(|&i| &ranked[i]).enumerate() {
        let mut v = *v;
        if !trial.is_zero() {
            // Each with its tone EQ, so presets are compared on what an EQ cannot fix.
            obj.match_eq(&mut v, &train);
            evaluations += fit_groups(
                &mut obj,
                &mut v,
                &groups,
                drums,
                trial,
                per_excerpt,
                seed.wrapping_add(100 * k as u64),
            );
        }
        // Judged over the whole part, on what its tone match would leave.
        let score = if let Some(reference) = &song_reference {
            let y = render_window(&mut obj.synth, &v, &notes, audio.len(), 0);
            let c = obj.specs[0].powers(&y);
            distance_after_eq(reference, &c, obj.specs[0].bands()).unwrap_or(f64::INFINITY)
        } else {
            0.0
        };
        contenders.push((score, preset, v));
    }
    contenders.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (_, preset, mut values) = contenders.swap_remove(0);
    // Plain values, the reverb and the tone EQ first (tries, a grid and a closed form), then
    // the synth's parameters, then plain values and the EQ again for what the search moved.
    if !drums {
        obj.simplify(&mut values, &train, long);
    }
    if let Some(long) = long {
        obj.match_reverb(&mut values, &[long]);
    }
    obj.match_eq(&mut values, &train);
    // The reverb and the class buses make a loss dearer than the bare preset's: timed again,
    // and what comes after the search costed at that rate.
    let timer = Instant::now();
    obj.loss(&values, &train);
    let per_excerpt_now = timer.elapsed().div_f64(train.len().max(1) as f64);
    let timer = Instant::now();
    if let Some(l) = long {
        obj.loss(&values, &[l]);
    }
    // The song-wide tone match: its first render and at least one round; and the whole
    // part's render the caller makes of the result (the budget is for all of it).
    let song_cost = timer.elapsed().mul_f64(song_share * 3.0);
    let after = after
        .mul_f64((per_excerpt_now.as_secs_f64() / per_excerpt.as_secs_f64().max(1e-9)).max(1.0))
        + song_cost;
    let rest = budget.left(started.elapsed() + after, evaluations);
    evaluations += fit_groups(
        &mut obj,
        &mut values,
        &groups,
        drums,
        rest,
        per_excerpt_now,
        seed,
    );
    if !drums {
        obj.simplify(&mut values, &train, long);
    }
    obj.match_eq(&mut values, &train);
    // The excerpts are single notes: the level over a long stretch is the song's.
    if let (false, Some(l)) = (drums, long) {
        let before = values;
        obj.match_level(&mut values, P::Level, &[l]);
        if obj.loss(&values, &[l]) > obj.loss(&before, &[l]) {
            values = before;
        }
    }

    // Keep the fit only where it generalises: closer than the nearest preset on the held-out
    // excerpts, and over the loudest and the typical long windows (sustained notes longer
    // than an excerpt, reverb, the part's quieter stretches).
    let long_ok = [long, typical]
        .into_iter()
        .flatten()
        .zip(&nearest_long)
        .all(|(l, &nearest)| obj.loss(&values, &[l]) <= nearest);
    let values = if long_ok && obj.loss(&values, judge) <= obj.loss(&nearest_values, judge) {
        values
    } else {
        nearest_values
    };
    let preset = if values == nearest_values {
        nearest
    } else {
        preset
    };
    // Last, the whole song's average spectrum: the fine EQ and the high cut.
    let mut values = values;
    match_song_tone(&mut obj, &mut values, audio, &notes, started + budget.time);
    let loss_after = obj.loss(&values, &all);
    Some(Fit {
        preset: preset.name.clone(),
        preset_values: nearest_values,
        values,
        loss_before,
        loss_after,
        seconds: started.elapsed().as_secs_f64(),
        evaluations,
    })
}

/// Fits every group's parameters on its training excerpts, the budget shared by excerpt count.
/// `per_excerpt` is what a loss costs per excerpt: a drum group's background render and class
/// EQ are reserved from its share at that rate (times [`EQ_ROUNDS`] + 3) for the first group,
/// then at what the previous group's took.
fn fit_groups(
    obj: &mut Objective,
    values: &mut Values,
    groups: &[Group],
    drums: bool,
    budget: Budget,
    per_excerpt: Duration,
    seed: u64,
) -> usize {
    let total: usize = groups.iter().map(|g| g.train.len()).sum();
    let mut evaluations = 0;
    let mut overhead_per_excerpt = per_excerpt * (EQ_ROUNDS as u32 + 3);
    for (k, g) in groups.iter().enumerate() {
        let params = if drums {
            g.params.clone()
        } else {
            pitched_params(values)
        };
        let mut share = budget.share(g.train.len() as f64 / total.max(1) as f64);
        // A drum group: only its hits move (the others are a background), and its own tone
        // EQ is matched after the search (closed form: what the search moved, the EQ
        // follows).
        let overhead = Instant::now();
        let mut searched = Duration::ZERO;
        if g.takes.is_some() {
            share.time = share
                .time
                .saturating_sub(overhead_per_excerpt * g.train.len() as u32);
        }
        let row = g.takes.map(|(takes, row)| {
            obj.focus(values, &g.train, |n| {
                DrumClass::of_note(n.pitch).is_some_and(takes)
            });
            &KIT_EQ[row]
        });
        let search = Instant::now();
        let (_, e) = optimise(
            obj,
            values,
            &params,
            &g.train,
            share,
            seed.wrapping_add(k as u64),
        );
        searched += search.elapsed();
        if let Some(row) = row {
            obj.match_class_eq(values, &g.train, row);
            overhead_per_excerpt = overhead
                .elapsed()
                .saturating_sub(searched)
                .div_f64(g.train.len().max(1) as f64);
        }
        obj.unfocus();
        evaluations += e;
    }
    evaluations
}

#[cfg(test)]
mod tests {
    use super::*;
    use auralis_engine::render::render;

    /// A part rendered by a known patch is fitted back closer than its nearest preset.
    #[test]
    fn fitting_recovers_a_rendered_part() {
        let rate = 22_050u32;
        let mut truth = Values::default();
        truth.set(P::VoiceMode, 1.0);
        truth.set(P::Osc1Wave, 1.0);
        truth.set(P::FilterCutoff, 900.0);
        truth.set(P::FilterEnvAmount, 2.5);
        truth.set(P::FenvDecay, 150.0);
        truth.set(P::AmpDecay, 400.0);
        truth.set(P::AmpSustain, 0.5);
        truth.set(P::Level, -12.0);
        let notes: Vec<NoteSpec> = (0..24)
            .map(|i| NoteSpec {
                start_s: 0.25 * i as f64,
                end_s: 0.25 * i as f64 + 0.18,
                pitch: [33u8, 36, 40, 43][i % 4],
                velocity: 0.9,
            })
            .collect();
        let [l, r] = render(&truth, &notes, rate as f32, rate as usize * 7);
        let mono: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
        let bank = auralis_engine::bank::presets();
        let part = Part {
            role: "bass",
            rate,
            audio: &mono,
            notes: &notes,
        };
        // A count of evaluations (about what 6 s buys on an idle core) rather than the time
        // alone: the result must not depend on what else the machine runs.
        let budget = Budget {
            time: Duration::from_secs(600),
            evaluations: Some(400),
        };
        let fit = fit(&part, &bank, budget, 1).unwrap();
        eprintln!(
            "fit: {} → {} ({}, {} evals)",
            fit.loss_before, fit.loss_after, fit.preset, fit.evaluations
        );
        assert!(
            fit.loss_after < 0.6 * fit.loss_before,
            "{} → {} ({})",
            fit.loss_before,
            fit.loss_after,
            fit.preset
        );
        assert!(fit.loss_after < 4.0, "{}", fit.loss_after);
    }

    /// A square lead fitted near a square (a slightly uneven width, a little width
    /// modulation and vibrato) is snapped back to the square where that sounds closer, and
    /// a modulation the part really has is kept.
    /// The fine EQ and high cut solved for a target made by a known setting reproduce that
    /// target's response at the mel centres, and find its corner.
    #[test]
    fn the_tone_solver_recovers_a_known_fine_eq_and_high_cut() {
        let rate = 44_100.0f32;
        let spec = MelSpec::new(44_100, 2048, 512, 128);
        let centres = spec.centres().to_vec();
        let mut truth = Values::default();
        truth.set(P::Fine200, 6.0);
        truth.set(P::Fine1k6, -5.0);
        truth.set(P::Fine2k, -3.0);
        truth.set(P::Fine5k, 4.0);
        truth.set(P::ToneHighCut, 9_000.0);
        let target = tone_response(&truth, &centres, rate);
        let mut v = Values::default();
        solve_tone(&mut v, &target, &centres, rate);
        let got = tone_response(&v, &centres, rate);
        // Compared where the cut leaves something to hear (30 dB below it is the floor's).
        let err: Vec<f64> = got
            .iter()
            .zip(&target)
            .filter(|(_, t)| **t > -30.0)
            .map(|(g, t)| (g - t).abs())
            .collect();
        let rms = (err.iter().map(|e| e * e).sum::<f64>() / err.len() as f64).sqrt();
        let worst = err.iter().copied().fold(0.0, f64::max);
        assert!(
            rms < 0.3 && worst < 1.5,
            "rms {rms:.2} dB, worst {worst:.2} dB"
        );
        let cut = v.get(P::ToneHighCut) as f64;
        assert!(
            (cut / 9_000.0).log2().abs() <= 1.0 / HIGH_CUT_STEPS_PER_OCTAVE,
            "corner {cut} Hz"
        );
        // A hard band limit (a codec's or a resampler's: 96 dB/oct at 18.5 kHz over a tilt)
        // is found at the steepest slope, its corner within a step.
        let mut limited = Values::default();
        limited.set(P::Fine8k, -4.0);
        limited.set(P::ToneHighCut, 18_500.0);
        limited.set(P::ToneHighCutSlope, 2.0);
        let target = tone_response(&limited, &centres, rate);
        let mut v = Values::default();
        solve_tone(&mut v, &target, &centres, rate);
        assert_eq!(v.get(P::ToneHighCutSlope), 2.0);
        let cut = v.get(P::ToneHighCut) as f64;
        assert!(
            (cut / 18_500.0).log2().abs() <= 1.0 / HIGH_CUT_STEPS_PER_OCTAVE,
            "corner {cut} Hz"
        );
        // A flat target leaves the tone flat and the cut off.
        let mut flat = Values::default();
        solve_tone(&mut flat, &vec![0.0; centres.len()], &centres, rate);
        assert_eq!(flat.get(P::ToneHighCut), HIGH_CUT_OFF_HZ);
        assert!(FINE_EQ_BANDS.iter().all(|(p, _)| flat.get(*p).abs() < 1e-6));
    }

    /// A part whose stem is its own render through a tone it lacks (a boost, a dip and a band
    /// limit) comes most of the way back to the stem after the song-wide tone match.
    #[test]
    fn the_song_wide_tone_match_finds_the_stems_tone() {
        let rate = 44_100u32;
        let mut plain = Values::default();
        plain.set(P::Osc1Wave, 1.0);
        plain.set(P::FilterCutoff, 6_000.0);
        plain.set(P::Level, -12.0);
        let mut stem_tone = plain;
        stem_tone.set(P::Fine400, 7.0);
        stem_tone.set(P::Fine2k5, -6.0);
        stem_tone.set(P::ToneHighCut, 3_000.0);
        let notes: Vec<NoteSpec> = (0..16)
            .map(|i| NoteSpec {
                start_s: 0.3 * i as f64,
                end_s: 0.3 * i as f64 + 0.25,
                pitch: [45u8, 48, 52, 57][i % 4],
                velocity: 0.8,
            })
            .collect();
        let len = rate as usize * 5;
        let [l, r] = render(&stem_tone, &notes, rate as f32, len);
        let stem: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
        let mut obj = Objective::new(rate);
        let mut spec = MelSpec::new(rate, 2048, 512, 128);
        let distance = |spec: &mut MelSpec, v: &Values| {
            let [l, r] = render(v, &notes, rate as f32, len);
            let y: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
            super::super::mel::distance(spec, &stem, &y).unwrap().0
        };
        let before = distance(&mut spec, &plain);
        let mut v = plain;
        match_song_tone(
            &mut obj,
            &mut v,
            &stem,
            &notes,
            Instant::now() + Duration::from_secs(3600),
        );
        let after = distance(&mut spec, &v);
        eprintln!(
            "{before:.2} dB -> {after:.2} dB; 400 Hz {:.1} dB, 2.5 kHz {:.1} dB, cut {:.0} Hz",
            v.get(P::Fine400),
            v.get(P::Fine2k5),
            v.get(P::ToneHighCut)
        );
        // What is left is mostly the stem's floor above the cut, which the distance floors.
        assert!(after < 0.4 * before, "{before:.2} dB -> {after:.2} dB");
        assert!(v.get(P::Fine400) > 3.0, "{}", v.get(P::Fine400));
        assert!(v.get(P::Fine2k5) < -2.0, "{}", v.get(P::Fine2k5));
        // The band limit is followed (by the cut, or by the fine EQ's top bands).
        let above = tone_response(&v, &[8_000.0], rate as f32)[0];
        assert!(above < -15.0, "{above:.1} dB at 8 kHz");
    }

    #[test]
    fn simplify_snaps_to_plain_values_that_sound_closer() {
        let rate = 22_050u32;
        let mut truth = Values::default();
        truth.set(P::VoiceMode, 1.0);
        truth.set(P::Osc1Wave, 3.0);
        truth.set(P::Osc1Pw, 0.5);
        truth.set(P::FilterCutoff, 6000.0);
        truth.set(P::Lfo1Cutoff, 1.0);
        truth.set(P::Lfo1Rate, 3.0);
        truth.set(P::Level, -12.0);
        let notes: Vec<NoteSpec> = (0..12)
            .map(|i| NoteSpec {
                start_s: 0.5 * i as f64,
                end_s: 0.5 * i as f64 + 0.4,
                pitch: [57u8, 60, 64, 67][i % 4],
                velocity: 0.8,
            })
            .collect();
        let [l, r] = render(&truth, &notes, rate as f32, rate as usize * 6);
        let mono: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
        let mut obj = Objective::new(rate);
        obj.add_excerpts(&mono, rate, &notes, &[0, 3, 6, 9], 1.0);
        let which = [0, 1, 2, 3];
        let mut near = truth;
        near.set(P::Osc1Pw, 0.46);
        near.set(P::Lfo2Pw, 0.08);
        near.set(P::Lfo1Pitch, 12.0);
        let before = obj.loss(&near, &which);
        let mut v = near;
        obj.simplify(&mut v, &which, None);
        assert_eq!(v.get(P::Osc1Pw), 0.5);
        assert_eq!(v.get(P::Lfo2Pw), 0.0);
        assert_eq!(v.get(P::Lfo1Pitch), 0.0);
        assert_eq!(v.get(P::Lfo1Cutoff), 1.0, "a modulation the part has stays");
        let after = obj.loss(&v, &which);
        assert!(after < 0.5 * before, "{before} → {after}");
    }

    /// A focused render (one drum class's hits over a background of the others) is the full
    /// render, and the one-render level match is the two-render one.
    #[test]
    fn focus_and_the_one_render_level_match_change_nothing() {
        let rate = 22_050u32;
        let bank = auralis_engine::bank::presets();
        let mut kit = bank
            .iter()
            .find(|p| p.role == "drums")
            .and_then(|p| p.patch.values().ok())
            .unwrap();
        kit.set(P::ReverbLevel, 0.2);
        let notes: Vec<NoteSpec> = (0..16)
            .map(|i| NoteSpec {
                start_s: 0.125 * i as f64,
                end_s: 0.125 * i as f64 + 0.05,
                pitch: [36u8, 42, 38, 42][i % 4],
                velocity: 0.5 + 0.03 * i as f32,
            })
            .collect();
        let [l, r] = render(&kit, &notes, rate as f32, rate as usize * 3);
        let mono: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
        let mut obj = Objective::new(rate);
        obj.add_excerpts(&mono, rate, &notes, &[8, 12], 0.5);
        let which = [0, 1];
        let full = obj.render(&kit, &which);
        obj.focus(&kit, &which, |n| n.pitch == 36);
        assert!(obj.excerpts[0].focused.as_ref().unwrap().len() < obj.excerpts[0].notes.len());
        let focused = obj.render(&kit, &which);
        obj.unfocus();
        for (a, b) in full.iter().zip(&focused) {
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-5, "{worst}");
        }
        // A kick's change shows in the focused render as in the full one.
        let mut louder = kit;
        louder.set(P::KickLevel, kit.get(P::KickLevel) + 6.0);
        let full = obj.loss(&louder, &which);
        obj.focus(&kit, &which, |n| n.pitch == 36);
        let focused = obj.loss(&louder, &which);
        obj.unfocus();
        assert!((full - focused).abs() < 1e-3, "{full} vs {focused}");

        let mut a = kit;
        a.set(P::Level, kit.get(P::Level) - 9.0);
        let mut b = a;
        obj.match_level(&mut a, P::Level, &which);
        let two = obj.loss(&a, &which);
        let one = obj.level_matched_loss(&mut b, &which);
        assert!((a.get(P::Level) - b.get(P::Level)).abs() < 1e-4);
        assert!((one - two).abs() < 1e-3, "{one} vs {two}");
    }

    /// The drum groups are the kit's EQ groups, in their order.
    #[test]
    fn the_one_render_reverb_grid_finds_the_stems_reverb() {
        let rate = 22_050u32;
        let bank = auralis_engine::bank::presets();
        let mut plain = bank
            .iter()
            .find(|p| p.role == "keys")
            .and_then(|p| p.patch.values().ok())
            .unwrap();
        plain.set(P::ReverbLevel, 0.0);
        let mut truth = plain;
        truth.set(P::ReverbLevel, REVERB_LEVELS[1]);
        truth.set(P::ReverbRt60, REVERB_RT60S[2]);
        let notes: Vec<NoteSpec> = (0..8)
            .map(|i| NoteSpec {
                start_s: 0.5 * i as f64,
                end_s: 0.5 * i as f64 + 0.2,
                pitch: 60 + [0u8, 4, 7, 12][i % 4],
                velocity: 0.8,
            })
            .collect();
        let [l, r] = render(&truth, &notes, rate as f32, rate as usize * 5);
        let mono: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
        let mut obj = Objective::new(rate);
        let w = obj
            .add_window(
                &mono,
                rate,
                &notes,
                rate as usize * 2,
                rate as usize * 5,
                2.0,
            )
            .unwrap();
        let mut v = plain;
        obj.match_reverb(&mut v, &[w]);
        assert_eq!(v.get(P::ReverbLevel), truth.get(P::ReverbLevel));
        assert_eq!(v.get(P::ReverbRt60), truth.get(P::ReverbRt60));
        // What the grid scored is what a render with that reverb scores.
        assert!(obj.loss(&v, &[w]) < 1e-3, "{}", obj.loss(&v, &[w]));
    }

    #[test]
    fn drum_groups_follow_the_kit_eq_groups() {
        let groups = drum_groups();
        assert_eq!(groups.len(), KIT_EQ.len());
        for note in 0..128u8 {
            if let Some(class) = DrumClass::of_note(note) {
                let taking: Vec<usize> = (0..groups.len())
                    .filter(|&k| (groups[k].0)(class))
                    .collect();
                assert_eq!(taking, vec![class.eq_group()], "note {note}");
            }
        }
    }

    /// With a count of evaluations the fit repeats exactly, and spends about that on its
    /// search.
    #[test]
    fn an_evaluation_budget_repeats_exactly() {
        let rate = 22_050u32;
        let mut truth = Values::default();
        truth.set(P::FilterCutoff, 1200.0);
        truth.set(P::AmpDecay, 200.0);
        truth.set(P::AmpSustain, 0.3);
        let notes: Vec<NoteSpec> = (0..10)
            .map(|i| NoteSpec {
                start_s: 0.3 * i as f64,
                end_s: 0.3 * i as f64 + 0.2,
                pitch: [45u8, 48, 52][i % 3],
                velocity: 0.8,
            })
            .collect();
        let [l, r] = render(&truth, &notes, rate as f32, rate as usize * 4);
        let mono: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
        let bank = auralis_engine::bank::presets();
        let part = Part {
            role: "bass",
            rate,
            audio: &mono,
            notes: &notes,
        };
        let budget = Budget {
            time: Duration::from_secs(600),
            evaluations: Some(60),
        };
        let a = fit(&part, &bank, budget, 3).unwrap();
        let b = fit(&part, &bank, budget, 3).unwrap();
        assert_eq!(a.values, b.values);
        assert_eq!(a.evaluations, b.evaluations);
        // A search stops between generations: at most one generation (≤ 16 for the
        // parameters of a patch) over, in each of the shortlist's trials and the final fit.
        assert!(
            a.evaluations <= 60 + 16 * (SHORTLIST + 1),
            "{}",
            a.evaluations
        );
        assert!(a.evaluations >= 30, "{}", a.evaluations);
    }
}
