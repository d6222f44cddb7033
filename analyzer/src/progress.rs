//! Progress reporting for long stages.
//!
//! Stages call [`Progress::update`] with their name, the fraction done (0–1) and a short
//! message. The CLI renders this as terminal progress bars, or — with `--progress json` — as
//! one [`ProgressEvent`] JSON object per line on stdout, which the plugin editor consumes.

use std::io::Write;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One machine-readable progress event (a line of `--progress json` output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    /// Stage name, as in `session.json`'s `stages` (`decode`, `rhythm`, …), or `done`.
    pub stage: String,
    /// Fraction of the stage done, 0–1.
    pub fraction: f64,
    /// Human-readable detail.
    pub message: String,
}

/// Receives progress from the pipeline. Called from the pipeline's thread; may be called often,
/// so implementations should be cheap.
pub trait Progress: Sync {
    /// Reports that `stage` is `fraction` (0–1) done.
    fn update(&self, stage: &str, fraction: f64, message: &str);
}

/// Discards progress.
pub struct Silent;

impl Progress for Silent {
    fn update(&self, _stage: &str, _fraction: f64, _message: &str) {}
}

/// Writes one JSON object per line to a writer (stdout in the CLI). Repeated updates of a stage
/// are thinned to steps of 1 % so that the stream stays small.
pub struct JsonLines<W: Write + Send> {
    out: Mutex<(W, String, f64)>,
}

impl<W: Write + Send> JsonLines<W> {
    /// Progress events written to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new((out, String::new(), -1.0)),
        }
    }
}

impl<W: Write + Send> Progress for JsonLines<W> {
    fn update(&self, stage: &str, fraction: f64, message: &str) {
        let Ok(mut guard) = self.out.lock() else {
            return;
        };
        let (out, last_stage, last_fraction) = &mut *guard;
        let fraction = fraction.clamp(0.0, 1.0);
        if last_stage == stage && fraction < 1.0 && fraction - *last_fraction < 0.01 {
            return;
        }
        *last_stage = stage.to_string();
        *last_fraction = fraction;
        let event = ProgressEvent {
            stage: stage.to_string(),
            fraction,
            message: message.to_string(),
        };
        if let Ok(line) = serde_json::to_string(&event) {
            // A closed pipe must not stop the analysis.
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_parseable_events_and_thinned() {
        let sink = JsonLines::new(Vec::new());
        for i in 0..=1000 {
            sink.update("decode", f64::from(i) / 1000.0, "reading");
        }
        sink.update("rhythm", 0.5, "beats");
        let bytes = sink.out.into_inner().unwrap().0;
        let text = String::from_utf8(bytes).unwrap();
        let events: Vec<ProgressEvent> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(events.len() <= 102, "{} events", events.len());
        assert_eq!(events.last().unwrap().stage, "rhythm");
        assert!(events
            .iter()
            .any(|e| e.stage == "decode" && e.fraction == 1.0));
    }
}
