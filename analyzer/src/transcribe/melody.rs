//! The lead line of a mix from Basic Pitch's pitch contour (a salience map at a third of a
//! semitone, ~86 frames a second), in the manner of contour-based melody extraction
//! (Salamon & Gómez 2012): peaks of the salience are linked over time into pitch contours,
//! each contour is judged as a whole, and the line takes, frame by frame, the best contour
//! sounding.
//!
//! A contour's score is its mean salience, times three when its pitch moves like a voice's
//! (vibrato, scoops: a spread of its pitch around its own 11-frame moving average — the model's
//! contour is flat for keys, guitars and most synths), scaled down when it is shorter than
//! 20 frames (~230 ms). Judging contours rather than frames keeps a sung note whole where an
//! accompanying chord is momentarily louder, and the voice cue picks the singer out of
//! accompaniment in the same register and the same place in the stereo image — what the
//! note-level candidates of the mix could not do.

use super::basic_pitch::{frame_times, Activations, MIDI_OFFSET, N_CONTOUR};
use super::Note;

/// Contour bins per semitone.
const BINS_PER_SEMITONE: usize = 3;
/// Lowest salience a contour peak may have.
const PEAK_MIN: f32 = 0.2;
/// Largest step of a contour between frames, bins (two thirds of a semitone).
const MAX_STEP: usize = 2;
/// Shortest contour, frames (~58 ms).
const MIN_FRAMES: usize = 5;
/// Contours shorter than this are scaled down in proportion, frames.
const FULL_FRAMES: usize = 20;
/// Half-width of the moving average a contour's modulation is measured against, frames.
const MOD_HALF: usize = 5;
/// Modulation (standard deviation around the moving average, bins) above which a contour
/// moves like a voice.
const VOICE_MOD: f32 = 0.05;
/// Weight of a voice-like contour relative to a steady one.
const VOICE_WEIGHT: f32 = 3.0;

/// A pitch contour: consecutive frames from `start`, one bin per frame.
#[derive(Debug, Clone)]
struct Contour {
    start: usize,
    bins: Vec<usize>,
    salience: Vec<f32>,
}

impl Contour {
    fn score(&self) -> f32 {
        let n = self.bins.len();
        let mean = self.salience.iter().sum::<f32>() / n as f32;
        let voice = if self.modulation() > VOICE_MOD {
            VOICE_WEIGHT
        } else {
            1.0
        };
        mean * voice * (n.min(FULL_FRAMES) as f32 / FULL_FRAMES as f32)
    }

    /// Standard deviation of the pitch around its moving average, bins (0 when too short to
    /// tell).
    fn modulation(&self) -> f32 {
        let n = self.bins.len();
        if n < 2 * MOD_HALF + 1 {
            return 0.0;
        }
        let b: Vec<f32> = self.bins.iter().map(|&x| x as f32).collect();
        let dev: Vec<f32> = (MOD_HALF..n - MOD_HALF)
            .map(|i| {
                let avg =
                    b[i - MOD_HALF..=i + MOD_HALF].iter().sum::<f32>() / (2 * MOD_HALF + 1) as f32;
                b[i] - avg
            })
            .collect();
        let mean = dev.iter().sum::<f32>() / dev.len() as f32;
        (dev.iter().map(|d| (d - mean).powi(2)).sum::<f32>() / dev.len() as f32).sqrt()
    }
}

/// Links the salience peaks at or above `lowest` (MIDI) into contours.
fn contours(acts: &Activations, lowest: u8) -> Vec<Contour> {
    let lo = (lowest.saturating_sub(MIDI_OFFSET) as usize) * BINS_PER_SEMITONE;
    let mut active: Vec<Contour> = Vec::new();
    let mut done: Vec<Contour> = Vec::new();
    let mut peaks: Vec<usize> = Vec::new();
    for t in 0..acts.frames {
        let row = &acts.contour[t * N_CONTOUR..(t + 1) * N_CONTOUR];
        peaks.clear();
        peaks.extend(
            (lo.max(1)..N_CONTOUR - 1)
                .filter(|&k| row[k] >= row[k - 1] && row[k] > row[k + 1] && row[k] > PEAK_MIN),
        );
        peaks.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        let mut next: Vec<Contour> = Vec::with_capacity(peaks.len());
        let mut taken = vec![false; active.len()];
        for &k in &peaks {
            let nearest = active
                .iter()
                .enumerate()
                .filter(|(i, c)| !taken[*i] && c.bins[c.bins.len() - 1].abs_diff(k) <= MAX_STEP)
                .min_by_key(|(_, c)| c.bins[c.bins.len() - 1].abs_diff(k))
                .map(|(i, _)| i);
            match nearest {
                Some(i) => {
                    taken[i] = true;
                    let mut c = std::mem::replace(
                        &mut active[i],
                        Contour {
                            start: 0,
                            bins: Vec::new(),
                            salience: Vec::new(),
                        },
                    );
                    c.bins.push(k);
                    c.salience.push(row[k]);
                    next.push(c);
                }
                None => next.push(Contour {
                    start: t,
                    bins: vec![k],
                    salience: vec![row[k]],
                }),
            }
        }
        for (c, used) in active.drain(..).zip(taken) {
            if !used {
                done.push(c);
            }
        }
        active = next;
    }
    done.extend(active);
    done.retain(|c| c.bins.len() >= MIN_FRAMES);
    done
}

/// The lead line from `lowest` (MIDI) up: notes cut from the winning contours, each with its
/// pitch (the contour's median, rounded to a semitone) and a bend curve (one value per frame,
/// semitones) following the contour.
pub fn lead_line(acts: &Activations, lowest: u8) -> Vec<Note> {
    let found = contours(acts, lowest);
    let scores: Vec<f32> = found.iter().map(Contour::score).collect();

    // The best contour sounding in each frame.
    let mut best: Vec<Option<(usize, f32)>> = vec![None; acts.frames];
    for (i, c) in found.iter().enumerate() {
        for slot in &mut best[c.start..c.start + c.bins.len()] {
            if slot.is_none_or(|(_, s)| scores[i] > s) {
                *slot = Some((i, scores[i]));
            }
        }
    }
    let times = frame_times(acts.frames + 1);
    let mut notes = Vec::new();
    let mut t = 0;
    while t < acts.frames {
        let Some((i, _)) = best[t] else {
            t += 1;
            continue;
        };
        let mut end = t + 1;
        while end < acts.frames && best[end].map(|b| b.0) == Some(i) {
            end += 1;
        }
        if end - t >= MIN_FRAMES {
            let c = &found[i];
            let semis: Vec<f32> = (t..end)
                .map(|u| {
                    let bin = c.bins[u - c.start];
                    MIDI_OFFSET as f32 + (bin as f32 - 1.0) / BINS_PER_SEMITONE as f32
                })
                .collect();
            let mut sorted = semis.clone();
            sorted.sort_by(f32::total_cmp);
            let pitch = sorted[sorted.len() / 2].round();
            let salience: f32 =
                (t..end).map(|u| c.salience[u - c.start]).sum::<f32>() / (end - t) as f32;
            let bend: Vec<f32> = semis.iter().map(|s| s - pitch).collect();
            let flat = bend.iter().all(|b| b.abs() < 1e-3);
            notes.push(Note {
                start_s: times[t],
                end_s: times[end],
                pitch: pitch.clamp(0.0, 127.0) as u8,
                velocity: ((127.0 * salience).round() as i32).clamp(1, 127) as u8,
                bend: if flat { Vec::new() } else { bend },
            });
        }
        t = end;
    }
    notes
}

/// Keeps the notes that `line` agrees with: a note stays when, for at least half of its first
/// `head_s` seconds (its whole length when shorter), the line sounds within a semitone of it.
/// A stem masked around a line carries other parts where they share its partials; their notes
/// are not on the line. A short `head_s` judges a note by its attack, where a line whose notes
/// are short (a plucked bass) still sounds.
pub fn on_line(notes: &mut Vec<Note>, line: &[Note], head_s: f64) {
    const STEP_S: f64 = 0.01;
    let pitch_at = |t: f64| -> Option<f32> {
        let i = line.partition_point(|n| n.end_s <= t);
        let n = line.get(i).filter(|n| n.start_s <= t)?;
        let bend = if n.bend.is_empty() {
            0.0
        } else {
            let pos = (t - n.start_s) / (n.end_s - n.start_s).max(1e-9);
            n.bend[((pos * (n.bend.len() - 1) as f64).round() as usize).min(n.bend.len() - 1)]
        };
        Some(n.pitch as f32 + bend)
    };
    notes.retain(|n| {
        let steps = ((n.end_s - n.start_s).min(head_s) / STEP_S).ceil().max(1.0) as usize;
        let agree = (0..steps)
            .filter(|&i| {
                pitch_at(n.start_s + (i as f64 + 0.5) * STEP_S)
                    .is_some_and(|p| (p - n.pitch as f32).abs() <= 1.0)
            })
            .count();
        2 * agree >= steps
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::basic_pitch::N_NOTES;

    fn empty(frames: usize) -> Activations {
        Activations {
            frames,
            note: vec![0.0; frames * N_NOTES],
            onset: vec![0.0; frames * N_NOTES],
            contour: vec![0.0; frames * N_CONTOUR],
        }
    }

    fn bin_of(midi: f32) -> usize {
        ((midi - MIDI_OFFSET as f32) * 3.0 + 1.0).round() as usize
    }

    #[test]
    fn a_sung_line_wins_over_a_louder_steady_part() {
        let frames = 200;
        let mut a = empty(frames);
        for t in 0..frames {
            // A steady chord tone at 59, louder than the voice.
            a.contour[t * N_CONTOUR + bin_of(59.0)] = 0.5;
            // A voice at 71 with vibrato of ± one bin (a third of a semitone) at ~5.4 Hz.
            if (20..180).contains(&t) {
                let wobble = ((t as f32 / 16.0) * std::f32::consts::TAU).sin().round() as isize;
                let b = (bin_of(71.0) as isize + wobble) as usize;
                a.contour[t * N_CONTOUR + b] = 0.35;
            }
        }
        let line = lead_line(&a, 55);
        let times = frame_times(frames + 1);
        // The voice's frames are one note at 71 with its vibrato as bend; the chord tone
        // fills the rest.
        let voice: Vec<&Note> = line.iter().filter(|n| n.pitch == 71).collect();
        assert_eq!(voice.len(), 1, "{line:?}");
        assert!((voice[0].start_s - times[20]).abs() < 1e-9);
        assert!((voice[0].end_s - times[180]).abs() < 1e-9);
        let swing = voice[0].bend.iter().fold(0.0f32, |m, b| m.max(b.abs()));
        assert!((swing - 1.0 / 3.0).abs() < 1e-4, "{:?}", voice[0].bend);
        assert!(line.iter().all(|n| n.pitch == 71 || n.pitch == 59));
        // Without the vibrato the louder steady part is the line throughout.
        let mut steady = empty(frames);
        for t in 0..frames {
            steady.contour[t * N_CONTOUR + bin_of(59.0)] = 0.5;
            if (20..180).contains(&t) {
                steady.contour[t * N_CONTOUR + bin_of(71.0)] = 0.35;
            }
        }
        let line = lead_line(&steady, 55);
        assert_eq!(line.len(), 1, "{line:?}");
        assert_eq!(line[0].pitch, 59);
    }

    #[test]
    fn silence_and_short_blips_make_no_notes() {
        let mut a = empty(100);
        for t in 40..43 {
            a.contour[t * N_CONTOUR + bin_of(72.0)] = 0.9;
        }
        assert!(lead_line(&a, 55).is_empty());
    }

    #[test]
    fn notes_off_the_line_go() {
        let n = |s: f64, e: f64, p: u8, bend: Vec<f32>| Note {
            start_s: s,
            end_s: e,
            pitch: p,
            velocity: 100,
            bend,
        };
        // The line: 71 from 1 s to 2 s, then 69 bending up a semitone (to 70) to 3 s.
        let line = vec![n(1.0, 2.0, 71, vec![]), n(2.0, 3.0, 69, vec![0.0, 1.0])];
        let mut notes = vec![
            n(1.0, 1.9, 71, vec![]), // on the line
            n(1.2, 1.6, 59, vec![]), // an octave below: another part
            n(2.5, 2.9, 70, vec![]), // on the bent second half
            n(3.2, 3.6, 71, vec![]), // where the line is silent
            n(1.8, 2.6, 72, vec![]), // within a semitone for a quarter of it only
        ];
        on_line(&mut notes, &line, f64::INFINITY);
        let kept: Vec<(f64, u8)> = notes.iter().map(|n| (n.start_s, n.pitch)).collect();
        assert_eq!(kept, vec![(1.0, 71), (2.5, 70)]);

        // A plucked line: its note is short, the stem's note rings on. Judged by its attack
        // it stays; judged whole it goes.
        let line = vec![n(1.0, 1.15, 40, vec![])];
        let ringing = vec![n(1.0, 2.0, 40, vec![])];
        let mut notes = ringing.clone();
        on_line(&mut notes, &line, 0.2);
        assert_eq!(notes.len(), 1);
        let mut notes = ringing;
        on_line(&mut notes, &line, f64::INFINITY);
        assert!(notes.is_empty());
    }
}
