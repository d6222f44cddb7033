//! EAR's effect detection: what was done to an element after it was played, measured on its
//! stem with its notes (and the kicks) as the reference for what the dry part did.
//!
//! - [`image`]: pan and stereo width (side-to-mid ratio);
//! - [`pump`]: sidechain pumping: a dip at each kick while the part's notes hold, its depth and
//!   release fitted to the dip's shape;
//! - [`echo`]: a delay: bursts of energy one delay time after the notes' onsets, where the
//!   notes themselves are silent; its time (and the beat fraction), wet level and feedback;
//! - [`room`]: reverb: the decay rate of the tails after the part falls silent, as RT60.
//!
//! Every detector works on one envelope (mono power in 5 ms frames, [`Envelope`]) and gives
//! its evidence (how many notes or kicks it rested on, how consistent they were) with the
//! figure, so that a later stage can weigh it. A detector with too little evidence says so
//! (`None`) rather than guessing.

pub mod echo;
pub mod image;
pub mod pump;
pub mod room;

use auralis_engine::render::NoteSpec;
use serde::{Deserialize, Serialize};

/// Frame hop of the envelope, seconds.
pub const HOP_S: f64 = 0.005;

/// Mono power per frame, dB.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Level of each frame, dB (mean square of the mono sum; −200 dB for silence).
    pub db: Vec<f64>,
    /// The loud level: the 99th percentile of the frames' levels, dB.
    pub loud_db: f64,
}

impl Envelope {
    /// The envelope of interleaved stereo `audio` at `rate`.
    pub fn of_stereo(audio: &[f32], rate: u32) -> Self {
        // Frame f covers the samples from round(f·hop) on, so that frame times stay exact at
        // any rate (a hop rounded to whole samples would drift: 22 ms after 10 s at 44.1 kHz).
        let edge =
            |f: usize| ((f as f64 * HOP_S * rate as f64).round() as usize).min(audio.len() / 2);
        let frames = ((audio.len() / 2) as f64 / (HOP_S * rate as f64)).floor() as usize;
        let mut db = Vec::with_capacity(frames);
        for f in 0..frames {
            let (a, b) = (edge(f), edge(f + 1).max(edge(f) + 1));
            let chunk = &audio[2 * a..(2 * b).min(audio.len())];
            let sq: f64 = chunk
                .chunks_exact(2)
                .map(|s| (0.5 * (s[0] + s[1]) as f64).powi(2))
                .sum();
            db.push(10.0 * (sq / (b - a) as f64).max(1e-20).log10());
        }
        let mut sorted = db.clone();
        sorted.sort_by(f64::total_cmp);
        let loud_db = sorted
            .get(((sorted.len() as f64 * 0.99) as usize).min(sorted.len().saturating_sub(1)))
            .copied()
            .unwrap_or(-200.0);
        Self { db, loud_db }
    }

    /// The frame holding time `t_s`.
    pub fn frame(&self, t_s: f64) -> Option<usize> {
        let f = (t_s / HOP_S).floor();
        (f >= 0.0 && (f as usize) < self.db.len()).then_some(f as usize)
    }

    /// Mean level (power mean, dB) over `[a_s, b_s)`; `None` outside the envelope.
    pub fn mean_db(&self, a_s: f64, b_s: f64) -> Option<f64> {
        let (a, b) = (self.frame(a_s)?, self.frame(b_s.max(a_s))?);
        let frames = &self.db[a..=b.max(a)];
        let p: f64 = frames.iter().map(|d| 10f64.powf(d / 10.0)).sum::<f64>() / frames.len() as f64;
        Some(10.0 * p.max(1e-20).log10())
    }
}

/// Whether any note of `notes` starts within `[a_s, b_s]`.
pub fn onset_within(notes: &[NoteSpec], a_s: f64, b_s: f64) -> bool {
    notes.iter().any(|n| n.start_s >= a_s && n.start_s <= b_s)
}

/// Whether some note sounds over the whole of `[a_s, b_s]`.
pub fn held_over(notes: &[NoteSpec], a_s: f64, b_s: f64) -> bool {
    notes.iter().any(|n| n.start_s <= a_s && n.end_s >= b_s)
}

/// Whether no note sounds anywhere in `[a_s, b_s]`.
pub fn silent_over(notes: &[NoteSpec], a_s: f64, b_s: f64) -> bool {
    !notes.iter().any(|n| n.start_s < b_s && n.end_s > a_s)
}

/// The median of `v` (`None` when empty).
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Everything detected on one element.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Effects {
    /// Pan and width.
    pub image: image::Image,
    /// Sidechain pumping, where found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pump: Option<pump::PumpFound>,
    /// A delay, where found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub echo: Option<echo::EchoFound>,
    /// Reverb, where its tails could be measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<room::RoomFound>,
}

/// What the detectors need besides the stem.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The element's notes, seconds.
    pub notes: &'a [NoteSpec],
    /// Kick onsets of the song, seconds (empty: no drums found).
    pub kicks: &'a [f64],
    /// Seconds per beat.
    pub beat_s: f64,
}

/// Runs every detector on interleaved stereo `audio` at `rate`.
pub fn detect(audio: &[f32], rate: u32, ctx: &Context) -> Effects {
    let env = Envelope::of_stereo(audio, rate);
    let mono: Vec<f32> = audio.chunks_exact(2).map(|s| 0.5 * (s[0] + s[1])).collect();
    Effects {
        image: image::measure(audio),
        pump: pump::detect(&env, ctx),
        echo: echo::detect(&env, ctx),
        room: room::detect(&env, ctx, &mono, rate),
    }
}

/// The kick onsets of a drum part's notes (GM 35 and 36), sorted, seconds.
pub fn kicks_of(notes: &[NoteSpec]) -> Vec<f64> {
    let mut k: Vec<f64> = notes
        .iter()
        .filter(|n| n.pitch == 35 || n.pitch == 36)
        .map(|n| n.start_s)
        .collect();
    k.sort_by(f64::total_cmp);
    k.dedup_by(|a, b| (*a - *b).abs() < 0.01);
    k
}

/// Runs the detectors on every element of a session whose stems and MIDI files are in `dir`,
/// and stores each element's findings as its `effects` (with their evidence).
pub fn run(
    session: &mut crate::session::Session,
    dir: &std::path::Path,
    progress: &dyn crate::progress::Progress,
) -> crate::Result<crate::session::StageRecord> {
    let started = std::time::Instant::now();
    progress.update("effects", 0.0, "effect detection");
    // The kicks: the drum element's, where there is one.
    let kicks = session
        .elements
        .iter()
        .find(|e| e.role == "drums")
        .and_then(|e| e.midi.as_ref())
        .and_then(|m| crate::hands::read_notes(&dir.join(m)).ok())
        .map(|n| kicks_of(&n))
        .unwrap_or_default();
    let beat_s = 60.0 / session.tempo.bpm.max(1.0);
    let n = session.elements.len();
    let mut found = 0;
    for (i, e) in session.elements.iter_mut().enumerate() {
        let (Some(stem), Some(midi)) = (e.stem.clone(), e.midi.clone()) else {
            continue;
        };
        progress.update("effects", i as f64 / n.max(1) as f64, &e.name);
        let (rate, audio) = crate::decode::read_stereo(&dir.join(&stem))?;
        let notes = crate::hands::read_notes(&dir.join(&midi))?;
        let ctx = Context {
            notes: &notes,
            kicks: if e.role == "drums" { &[] } else { &kicks },
            beat_s,
        };
        let fx = detect(&audio, rate, &ctx);
        e.extra.insert(
            "effects".into(),
            serde_json::to_value(&fx).unwrap_or_default(),
        );
        found += 1;
    }
    progress.update("effects", 1.0, "done");
    Ok(crate::session::StageRecord {
        name: "effects".into(),
        version: "1".into(),
        parameters: serde_json::json!({
            "elements": found,
            "kicks": kicks.len(),
            "detectors": ["image", "pump", "echo", "room"],
        }),
        wall_s: started.elapsed().as_secs_f64(),
    })
}
