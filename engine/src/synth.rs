//! The polyphonic synth: voice allocation and stealing, mono/legato mode, sample-accurate
//! events, parameter smoothing.
//!
//! Lifecycle (the same in the analyzer and the plugins):
//! - [`Synth::new`] and [`Synth::allocate`] allocate (main thread);
//! - [`Synth::process`], [`Synth::reset`], [`Synth::set_values`] and [`Synth::set_param`]
//!   never allocate, lock or block (audio thread).
//!
//! `process` renders straight into the caller's buffers, of any length: the synth keeps no
//! block-sized scratch, so `allocate` needs only the sample rate.

use std::sync::Arc;

use crate::drums::DrumKit;
use crate::filter::{butterworth_q, flush, lowpass, peaking, Biquad};
use crate::params::{high_cut_order, EQ_BANDS, FINE_EQ_BANDS, FINE_EQ_Q, HIGH_CUT_OFF_HZ};
use crate::params::{Kind, Values, P, SPECS};
use crate::reverb::{Reverb, ReverbSettings};
use crate::voice::{Control, Voice, CONTROL_PERIOD};
use crate::wavetable::WaveTables;

/// Voices allocated (the `polyphony` parameter chooses how many are used).
pub const MAX_VOICES: usize = 32;
/// Keys remembered by the mono mode's note stack.
const NOTE_STACK: usize = 16;
/// Corner of the output's DC blocker, Hz: saturating an asymmetric wave (a resonant,
/// driven ladder) makes an offset, as in analog synths; one pole removes it.
const DC_BLOCK_HZ: f32 = 5.0;
/// Time constant of parameter smoothing, seconds.
const SMOOTH_S: f32 = 0.01;

/// What an event does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventKind {
    /// A key goes down; velocity 0..1.
    NoteOn {
        /// MIDI note number.
        note: u8,
        /// Velocity, 0..1.
        velocity: f32,
    },
    /// A key goes up.
    NoteOff {
        /// MIDI note number.
        note: u8,
    },
    /// Pitch bend, −1..1 of the patch's bend range.
    PitchBend(f32),
    /// A parameter changes (index into [`crate::params::SPECS`]), smoothed.
    Param {
        /// Parameter index.
        index: usize,
        /// New value in the parameter's unit.
        value: f32,
    },
    /// Every key goes up.
    AllNotesOff,
}

/// An event at a sample offset inside the block being processed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// Sample offset from the start of the block.
    pub time: u32,
    /// What happens.
    pub kind: EventKind,
}

/// The synth.
#[derive(Debug, Clone)]
pub struct Synth {
    sample_rate: f32,
    tables: Option<Arc<WaveTables>>,
    voices: Vec<Voice>,
    /// Values as set (targets of the smoothing).
    target: Values,
    /// Values the voices read.
    current: Values,
    /// Whether some of `current` may still be on its way to `target` (the smoothing loop
    /// runs only then).
    smoothing: bool,
    /// Whether `current` may have moved since the EQs', the high cut's and the reverb's
    /// settings were last made from it (they are remade at the next control tick).
    moved: bool,
    clock: u64,
    bend: f32,
    /// Pitch of the last note played, where a glide starts.
    last_pitch: Option<f32>,
    stack: [u8; NOTE_STACK],
    stack_len: usize,
    kit: DrumKit,
    /// The tone EQ (octave bands), the fine EQ (third-octave bands) and the high cut.
    eq: PeakBank<{ EQ_BANDS.len() }>,
    fine_eq: PeakBank<{ FINE_EQ_BANDS.len() }>,
    high_cut: HighCut,
    /// The patch's reverb (after the tone EQ).
    reverb: Reverb,
    /// DC blocker state per channel: last input, last output.
    dc: [(f32, f32); 2],
    dc_pole: f32,
}

impl Synth {
    /// A synth playing `values` (allocates nothing large; call [`Synth::allocate`] before
    /// processing).
    pub fn new(values: Values) -> Self {
        Self {
            sample_rate: 0.0,
            tables: None,
            voices: Vec::new(),
            target: values,
            current: values,
            smoothing: false,
            moved: true,
            clock: 0,
            bend: 0.0,
            last_pitch: None,
            stack: [0; NOTE_STACK],
            stack_len: 0,
            kit: DrumKit::default(),
            eq: PeakBank::new(&EQ_BANDS, std::f32::consts::SQRT_2),
            fine_eq: PeakBank::new(&FINE_EQ_BANDS, FINE_EQ_Q),
            high_cut: HighCut::default(),
            reverb: Reverb::default(),
            dc: [(0.0, 0.0); 2],
            dc_pole: 0.0,
        }
    }

    /// Prepares to run at `sample_rate`: builds the wavetables and the voices (allocates; main
    /// thread). Tables already built for this rate are kept.
    pub fn allocate(&mut self, sample_rate: f32) {
        if self.tables.as_ref().map(|t| t.sample_rate()) != Some(sample_rate) {
            self.tables = Some(Arc::new(WaveTables::new(sample_rate)));
        }
        self.sample_rate = sample_rate;
        self.dc_pole = (-std::f32::consts::TAU * DC_BLOCK_HZ / sample_rate).exp();
        self.reverb.allocate(sample_rate);
        self.voices = vec![Voice::default(); MAX_VOICES];
        for v in self.voices.iter_mut() {
            v.allocate(sample_rate);
        }
        // Coefficients made for another rate are made again.
        self.eq.invalidate();
        self.fine_eq.invalidate();
        self.high_cut.invalidate();
        self.reset();
    }

    /// Shares already-built tables (for many synths at one rate: the analyzer's fitting runs).
    pub fn allocate_with(&mut self, tables: Arc<WaveTables>) {
        self.tables = Some(tables);
        self.allocate(self.tables.as_ref().map_or(48_000.0, |t| t.sample_rate()));
    }

    /// The wavetables in use (after [`Synth::allocate`]).
    pub fn tables(&self) -> Option<&Arc<WaveTables>> {
        self.tables.as_ref()
    }

    /// Silences every voice and restarts the clock: what follows renders exactly as after
    /// [`Synth::allocate`].
    pub fn reset(&mut self) {
        for v in self.voices.iter_mut() {
            v.reset();
        }
        self.current = self.target;
        self.smoothing = false;
        self.clock = 0;
        self.bend = 0.0;
        self.last_pitch = None;
        self.stack_len = 0;
        self.kit.reset();
        self.kit.update_eq(&self.current, self.sample_rate);
        self.dc = [(0.0, 0.0); 2];
        self.eq.clear();
        self.fine_eq.clear();
        self.high_cut.clear();
        self.update_eq();
        self.reverb.reset();
        self.update_reverb();
    }

    /// Gives the reverb the current decay, pre-delay and damping.
    fn update_reverb(&mut self) {
        self.reverb.set(ReverbSettings {
            rt60_s: self.current.get(P::ReverbRt60),
            predelay_ms: self.current.get(P::ReverbPredelay),
            damp_hz: self.current.get(P::ReverbDamp),
        });
    }

    /// [`Synth::reset`] with the clock at `clock`: a player starting at sample `clock` of a
    /// timeline keeps the control ticks (every [`CONTROL_PERIOD`] samples of the clock) where a
    /// render of the whole timeline from zero has them.
    pub fn reset_at(&mut self, clock: u64) {
        self.reset();
        self.clock = clock;
    }

    /// Recomputes the tone EQs' and the high cut's coefficients where their settings moved.
    fn update_eq(&mut self) {
        if self.sample_rate > 0.0 {
            self.eq.update(&self.current, self.sample_rate);
            self.fine_eq.update(&self.current, self.sample_rate);
            self.high_cut.update(
                self.current.get(P::ToneHighCut),
                high_cut_order(self.current.get(P::ToneHighCutSlope)),
                self.sample_rate,
            );
        }
    }

    /// Replaces every value at once, unsmoothed (loading a patch).
    pub fn set_values(&mut self, values: Values) {
        self.target = values;
        self.current = values;
        self.smoothing = false;
        self.moved = true;
    }

    /// The values as set.
    pub fn values(&self) -> &Values {
        &self.target
    }

    /// Sets one parameter (index into [`SPECS`]); continuous ones glide there over ~10 ms.
    pub fn set_param(&mut self, index: usize, value: f32) {
        if let Some(spec) = SPECS.get(index) {
            self.target.0[index] = spec.clamp(value);
            self.smoothing = true;
            self.moved = true;
            if matches!(spec.kind, Kind::Int { .. } | Kind::Choice { .. }) {
                self.current.0[index] = self.target.0[index];
            }
        }
    }

    /// Voices sounding now.
    pub fn active_voices(&self) -> usize {
        self.voices.iter().filter(|v| v.is_active()).count() + self.kit.active()
    }

    /// Renders `left.len()` samples (`right` must be as long) into the buffers, overwriting
    /// them, applying `events` (sorted by time; times past the block apply at its end).
    pub fn process(&mut self, events: &[Event], left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        left[..n].fill(0.0);
        right[..n].fill(0.0);
        let Some(tables) = self.tables.clone() else {
            return;
        };
        let mut next_event = 0;
        let mut i = 0;
        while i < n {
            while next_event < events.len() && events[next_event].time as usize <= i {
                self.handle(&events[next_event].kind, &tables);
                next_event += 1;
            }
            let phase = (self.clock % CONTROL_PERIOD as u64) as usize;
            if phase == 0 {
                self.control_tick(&tables);
            }
            let mut end = n.min(i + CONTROL_PERIOD as usize - phase);
            if let Some(e) = events.get(next_event) {
                end = end.min((e.time as usize).max(i + 1));
            }
            for v in self.voices.iter_mut().filter(|v| v.is_active()) {
                v.render(&tables, &mut left[i..end], &mut right[i..end]);
            }
            // Only a kit patch triggers hits (its metallic bank runs only then, too).
            if self.drums() {
                self.kit
                    .render(&tables, &mut left[i..end], &mut right[i..end]);
            }
            // Tone EQs: bands at 0 dB (and above 0.45 of the rate) are skipped, so a patch
            // without EQ renders exactly as the voices made it; so is a high cut that is off.
            self.eq.process(&mut left[i..end], &mut right[i..end]);
            self.fine_eq.process(&mut left[i..end], &mut right[i..end]);
            self.high_cut.process(&mut left[i..end], &mut right[i..end]);
            let reverb = self.current.get(P::ReverbLevel);
            if reverb > 0.0 {
                self.reverb
                    .process(reverb, &mut left[i..end], &mut right[i..end]);
            }
            let pole = self.dc_pole;
            for (buf, state) in [&mut left[i..end], &mut right[i..end]]
                .into_iter()
                .zip(self.dc.iter_mut())
            {
                for x in buf.iter_mut() {
                    let y = *x - state.0 + pole * state.1;
                    *state = (*x, y);
                    *x = y;
                }
            }
            self.clock += (end - i) as u64;
            i = end;
        }
        for e in &events[next_event..] {
            self.handle(&e.kind, &tables);
        }
    }

    fn control_tick(&mut self, tables: &WaveTables) {
        // Settings are remade only where the values moved (the smoothing moves them too).
        let moved = self.moved || self.smoothing;
        if self.smoothing {
            self.smooth();
        }
        if moved {
            self.update_eq();
            if self.drums() {
                self.kit.update_eq(&self.current, self.sample_rate);
            }
            self.update_reverb();
            self.moved = false;
        }
        if self.drums() {
            self.kit.flush();
        }
        self.eq.flush();
        self.fine_eq.flush();
        self.high_cut.flush();
        for (x, y) in self.dc.iter_mut() {
            (*x, *y) = (flush(*x), flush(*y));
        }
        let ctl = control(&self.current, tables, self.sample_rate, self.bend);
        for v in self.voices.iter_mut().filter(|v| v.is_active()) {
            v.control(&ctl);
        }
    }

    /// Moves every value one control tick towards its target.
    fn smooth(&mut self) {
        let a = 1.0 - (-(CONTROL_PERIOD as f32) / (SMOOTH_S * self.sample_rate)).exp();
        let mut moving = false;
        for ((spec, &t), c) in SPECS
            .iter()
            .zip(&self.target.0)
            .zip(self.current.0.iter_mut())
        {
            if *c == t {
                continue;
            }
            let next = match spec.kind {
                Kind::Log { .. } if *c > 0.0 && t > 0.0 => *c * (t / *c).powf(a),
                Kind::Linear { .. } | Kind::Log { .. } => *c + (t - *c) * a,
                _ => t,
            };
            // Land exactly once within a millionth of the distance.
            *c = if (next - t).abs() <= 1e-6 * t.abs().max(1e-3) {
                t
            } else {
                moving = true;
                next
            };
        }
        self.smoothing = moving;
    }

    fn control<'a>(&'a self, tables: &'a WaveTables) -> Control<'a> {
        control(&self.current, tables, self.sample_rate, self.bend)
    }

    fn handle(&mut self, kind: &EventKind, tables: &WaveTables) {
        match *kind {
            EventKind::NoteOn { note, velocity } if velocity > 0.0 && self.drums() => self
                .kit
                .trigger(note, velocity, &self.current, tables, self.clock),
            EventKind::NoteOn { note, velocity } if velocity > 0.0 => {
                self.note_on(note.min(127), velocity, tables)
            }
            // Drum hits are one-shots: their keys going up changes nothing.
            EventKind::NoteOn { .. } | EventKind::NoteOff { .. } if self.drums() => {}
            EventKind::NoteOn { note, .. } | EventKind::NoteOff { note } => {
                self.note_off(note, tables)
            }
            EventKind::PitchBend(b) => self.bend = b.clamp(-1.0, 1.0),
            EventKind::Param { index, value } => self.set_param(index, value),
            EventKind::AllNotesOff => {
                self.stack_len = 0;
                for v in self.voices.iter_mut() {
                    v.release();
                }
            }
        }
    }

    fn drums(&self) -> bool {
        self.current.index(P::VoiceType) == 3
    }

    fn mono(&self) -> bool {
        self.current.index(P::VoiceMode) == 1
    }

    fn note_on(&mut self, note: u8, velocity: f32, tables: &WaveTables) {
        if self.voices.is_empty() {
            return;
        }
        let from = match self.last_pitch {
            Some(p) if self.current.get(P::Glide) > 0.0 => p,
            _ => note as f32,
        };
        self.last_pitch = Some(note as f32);
        let clock = self.clock;
        if self.mono() {
            self.push(note);
            let v = &mut self.voices[0];
            if v.gate && v.is_active() {
                v.legato(note);
                let mut voice = std::mem::take(&mut self.voices[0]);
                voice.control(&self.control(tables));
                self.voices[0] = voice;
                return;
            }
            let from = if v.is_active() { from } else { note as f32 };
            let mut voice = std::mem::take(&mut self.voices[0]);
            voice.start(note, velocity, from, clock, &self.control(tables));
            self.voices[0] = voice;
            return;
        }
        let used = self.current.index(P::Polyphony).clamp(1, MAX_VOICES);
        // The same key again reuses its voice; else a silent voice; else the quietest
        // released one; else the oldest.
        let pick = self.voices[..used]
            .iter()
            .position(|v| v.gate && v.note == note)
            .or_else(|| self.voices[..used].iter().position(|v| !v.is_active()))
            .or_else(|| {
                self.voices[..used]
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| !v.gate)
                    .min_by(|a, b| a.1.amp_level().total_cmp(&b.1.amp_level()))
                    .map(|(i, _)| i)
            })
            .or_else(|| {
                self.voices[..used]
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, v)| v.started_at)
                    .map(|(i, _)| i)
            })
            .unwrap_or(0);
        let mut voice = std::mem::take(&mut self.voices[pick]);
        voice.start(note, velocity, from, clock, &self.control(tables));
        self.voices[pick] = voice;
    }

    fn note_off(&mut self, note: u8, _tables: &WaveTables) {
        if self.mono() {
            self.remove(note);
            let Some(v) = self.voices.first_mut() else {
                return;
            };
            if v.note != note || !v.gate {
                return;
            }
            if self.stack_len > 0 {
                let top = self.stack[self.stack_len - 1];
                self.last_pitch = Some(top as f32);
                v.legato(top);
            } else {
                v.release();
            }
            return;
        }
        for v in self.voices.iter_mut().filter(|v| v.gate && v.note == note) {
            v.release();
        }
    }

    fn push(&mut self, note: u8) {
        self.remove(note);
        if self.stack_len == NOTE_STACK {
            self.stack.copy_within(1.., 0);
            self.stack_len -= 1;
        }
        self.stack[self.stack_len] = note;
        self.stack_len += 1;
    }

    fn remove(&mut self, note: u8) {
        if let Some(i) = self.stack[..self.stack_len].iter().position(|&n| n == note) {
            self.stack.copy_within(i + 1..self.stack_len, i);
            self.stack_len -= 1;
        }
    }
}

fn control<'a>(
    values: &'a Values,
    tables: &'a WaveTables,
    sample_rate: f32,
    bend: f32,
) -> Control<'a> {
    Control {
        tables,
        values,
        sample_rate,
        bend_st: bend * values.get(P::BendRange),
    }
}

/// A cascade of peaking bands at fixed centres, one gain parameter each, on both channels.
#[derive(Debug, Clone)]
struct PeakBank<const N: usize> {
    bands: &'static [(P, f32); N],
    q: f32,
    /// Gains the coefficients were made for.
    gains: [f32; N],
    /// Whether each band filters (not at 0 dB, not above 0.45 of the rate).
    active: [bool; N],
    /// Whether any band filters.
    any: bool,
    coefs: [[f32; 5]; N],
    state: [[Biquad; N]; 2],
}

impl<const N: usize> PeakBank<N> {
    fn new(bands: &'static [(P, f32); N], q: f32) -> Self {
        Self {
            bands,
            q,
            gains: [0.0; N],
            active: [false; N],
            any: false,
            coefs: [[1.0, 0.0, 0.0, 0.0, 0.0]; N],
            state: [[Biquad::default(); N]; 2],
        }
    }

    fn clear(&mut self) {
        self.state = [[Biquad::default(); N]; 2];
    }

    /// Forgets the gains the coefficients were made for (the rate changed).
    fn invalidate(&mut self) {
        self.gains = [f32::NAN; N];
    }

    fn update(&mut self, values: &Values, rate: f32) {
        for (k, (p, freq)) in self.bands.iter().enumerate() {
            let g = values.get(*p);
            if g != self.gains[k] {
                self.gains[k] = g;
                self.coefs[k] = peaking(*freq, self.q, g, rate);
                self.active[k] = g.abs() >= 1e-3 && *freq <= 0.45 * rate;
            }
        }
        self.any = self.active.iter().any(|&on| on);
    }

    /// Bands that do not filter keep a zero state.
    fn flush(&mut self) {
        if !self.any {
            return;
        }
        for (k, &on) in self.active.iter().enumerate() {
            if on {
                self.state[0][k].flush();
                self.state[1][k].flush();
            }
        }
    }

    /// Filters both channels in place, through the active bands only.
    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if !self.any {
            return;
        }
        for k in 0..N {
            if !self.active[k] {
                continue;
            }
            let c = self.coefs[k];
            for (buf, states) in [&mut *left, &mut *right]
                .into_iter()
                .zip(self.state.iter_mut())
            {
                for x in buf.iter_mut() {
                    *x = states[k].tick(*x, &c);
                }
            }
        }
    }
}

/// The patch's high cut: a Butterworth low-pass of order 4, 8 or 16 (its slope), off at
/// [`HIGH_CUT_OFF_HZ`] or above 0.45 of the rate.
#[derive(Debug, Clone, Default)]
struct HighCut {
    /// The corner the coefficients were made for (0: none yet).
    hz: f32,
    /// The order they were made for.
    order: usize,
    on: bool,
    /// Second-order sections in use (order / 2).
    sections: usize,
    coefs: [[f32; 5]; 8],
    state: [[Biquad; 8]; 2],
}

impl HighCut {
    fn clear(&mut self) {
        self.state = [[Biquad::default(); 8]; 2];
    }

    fn invalidate(&mut self) {
        self.hz = f32::NAN;
    }

    fn update(&mut self, hz: f32, order: usize, rate: f32) {
        if hz == self.hz && order == self.order {
            return;
        }
        self.hz = hz;
        let on = hz < HIGH_CUT_OFF_HZ && hz < 0.45 * rate;
        if on && (!self.on || order != self.order) {
            // Switched on, or to another number of sections: from silence, as a filter that
            // was not running.
            self.clear();
        }
        self.order = order;
        self.on = on;
        if on {
            let qs = butterworth_q(order);
            self.sections = qs.len();
            for (c, &q) in self.coefs.iter_mut().zip(qs) {
                *c = lowpass(hz, q, rate);
            }
        }
    }

    fn flush(&mut self) {
        if self.on {
            for ch in self.state.iter_mut() {
                for b in ch.iter_mut() {
                    b.flush();
                }
            }
        }
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if !self.on {
            return;
        }
        for (buf, states) in [left, right].into_iter().zip(self.state.iter_mut()) {
            for x in buf.iter_mut() {
                let mut y = *x;
                for (st, c) in states[..self.sections]
                    .iter_mut()
                    .zip(&self.coefs[..self.sections])
                {
                    y = st.tick(y, c);
                }
                *x = y;
            }
        }
    }
}
