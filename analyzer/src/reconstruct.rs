//! The reconstruct loop after the first HANDS pass: CONSOLE → QC, then BRAIN → (HANDS) →
//! CONSOLE → QC until the target score, the iteration limit or the time budget.
//!
//! Each iteration mixes into `render/mix-next.wav`, is scored against `original.wav`, and,
//! when it beats the best so far, becomes the session: its mix is renamed to
//! `render/mix.wav`, its chains and plan are the session's. After every iteration
//! `session.json` is rewritten (atomically) with the best iteration's state, the QC history
//! and BRAIN's decisions, so a run killed at any moment leaves the last complete iteration on
//! disk, and `--resume` continues from it. At the end the session's `report.html` is written
//! ([`crate::report`]).

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::brain::{self, Decision, Memory, Plan, Step};
use crate::console::{self, MIX_FILE};
use crate::error::{Error, Result};
use crate::hands;
use crate::progress::Progress;
use crate::qc::{self, timbre::SpectralStats, Features, Table};
use crate::session::{self, Session};

/// Where an iteration's mix is written before it is judged.
pub const NEXT_MIX_FILE: &str = "render/mix-next.wav";

/// Loop options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Overall QC score that ends the loop.
    pub target: f64,
    /// Iterations at most (the first mix counts).
    pub max_iterations: usize,
    /// Seconds for the whole reconstruct, from `started` (`None`: no limit).
    pub time_budget: Option<f64>,
}

/// One iteration's scores (`session.json` → `qc.iterations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iteration {
    pub index: usize,
    pub overall: f64,
    pub dimensions: serde_json::Map<String, serde_json::Value>,
    /// Wall time of the iteration (BRAIN, HANDS, CONSOLE, QC), seconds.
    pub seconds: f64,
    /// What ran: `mix` or `refit`.
    pub step: String,
}

/// `session.json` → `qc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub target: f64,
    pub best_iteration: usize,
    pub iterations: Vec<Iteration>,
    /// The best iteration's full table (measures, weights, embedding).
    pub best_table: serde_json::Value,
    /// BRAIN's memory, for `--resume`.
    #[serde(default)]
    pub memory: Memory,
    /// Why the loop stopped (absent while it runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// Runs the loop on a session whose elements have renders (after HANDS), in `dir`.
/// `on_iteration` hears each iteration's table. With `resume`, continues the history the
/// session holds. Returns the session as written (the best iteration's).
pub fn run(
    mut best: Session,
    dir: &Path,
    options: &Options,
    started: Instant,
    resume: bool,
    progress: &dyn Progress,
    on_iteration: &mut dyn FnMut(&Iteration, &Table),
) -> Result<Session> {
    let original = dir.join(
        best.source
            .original
            .clone()
            .ok_or_else(|| Error::BadTruth {
                path: dir.join(session::SESSION_FILE),
                detail: "the session has no original.wav to score against".into(),
            })?,
    );
    progress.update("qc", 0.0, "measuring the original");
    let embedder = SpectralStats;
    let reference = Features::measure(&original, &embedder)?;

    let mut history: Option<History> = if resume {
        best.qc
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    } else {
        None
    };
    let mut decisions: Vec<Decision> = if resume {
        best.decisions
            .iter()
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect()
    } else {
        Vec::new()
    };
    let mut plan: Plan = match (&history, best.extra_plan()) {
        (Some(_), Some(p)) => p,
        _ => {
            let (p, log) = brain::initial(&best);
            decisions.extend(log);
            p
        }
    };
    let mut best_table: Option<Table> = None;
    if let Some(h) = history.as_mut() {
        h.stopped = None;
        h.target = options.target;
        // The best iteration's table, measured again (its mix is on disk).
        let mix = dir.join(MIX_FILE);
        if mix.exists() {
            best_table = Some(qc::score(&reference, &Features::measure(&mix, &embedder)?));
        } else {
            history = None;
        }
    }
    let mut memory = history
        .as_ref()
        .map(|h| h.memory.clone())
        .unwrap_or_default();
    let mut best_index = history.as_ref().map_or(0, |h| h.best_iteration);
    let mut iterations = history.map(|h| h.iterations).unwrap_or_default();

    let mut occupancy = occupancies(&best, dir);
    let elapsed = || started.elapsed().as_secs_f64();
    let budget = options.time_budget.unwrap_or(f64::INFINITY);
    // What a CONSOLE + QC round costs at most: no round starts with less time left.
    let mut mix_cost = 0.0f64;
    // Each round's processed elements, for the next round (which changes one or two).
    let mut mix_cache = console::Cache::default();
    let stopped: String;
    loop {
        let index = iterations.len();
        if index >= options.max_iterations {
            stopped = format!("{} iterations, the limit", options.max_iterations);
            break;
        }
        if let Some(t) = &best_table {
            if t.overall >= options.target {
                stopped = format!(
                    "overall {:.1} reached the target {}",
                    t.overall, options.target
                );
                break;
            }
        }
        let left = budget - elapsed();
        if index > 0 && left < mix_cost {
            stopped =
                format!("{left:.0} s of the time budget left, a mix round takes {mix_cost:.0} s");
            break;
        }
        let it_started = Instant::now();
        let step = match &best_table {
            None => Step::Mix(plan.clone()),
            Some(t) => match brain::next(
                &best,
                &plan,
                t,
                &mut memory,
                index,
                left - mix_cost,
                &occupancy,
                &mut decisions,
            ) {
                Some(s) => s,
                None => {
                    stopped = "BRAIN has nothing left to try".into();
                    break;
                }
            },
        };
        let mut candidate = best.clone();
        let (step_plan, step_name) = match step {
            Step::Mix(p) => (p, "mix"),
            Step::Refit {
                plan: p,
                elements,
                seconds,
            } => {
                progress.update("fit", 0.0, &format!("refitting {}", elements.join(", ")));
                let record = hands::run(
                    &mut candidate,
                    dir,
                    &hands::Options {
                        budget: std::time::Duration::from_secs_f64(seconds),
                        only: Some(elements),
                        seed: 1000 * index as u64,
                        suffix: format!("-{index}"),
                    },
                    progress,
                )?;
                candidate.stages.push(record);
                (p, "refit")
            }
            Step::Envelope { plan: p, element } => {
                if let Some(i) = candidate.elements.iter().position(|e| e.name == element) {
                    let patch = candidate.elements[i].extra.get("patch").and_then(|v| {
                        serde_json::from_value::<auralis_engine::Patch>(v.clone()).ok()
                    });
                    if let Some(patch) = patch {
                        if let Ok(mut values) = patch.values() {
                            use auralis_engine::P;
                            values.set(
                                P::AmpSustain,
                                values.get(P::AmpSustain) * brain::SUSTAIN_SCALE,
                            );
                            values.set(
                                P::AmpRelease,
                                values.get(P::AmpRelease) * brain::RELEASE_SCALE,
                            );
                            hands::rerender(
                                &mut candidate,
                                dir,
                                i,
                                &values,
                                &patch.name,
                                &format!("-{index}"),
                            )?;
                        }
                    }
                }
                (p, "envelope")
            }
        };
        let mix_started = Instant::now();
        candidate.stages.retain(|r| r.name != "console");
        let record = console::run_cached(
            &mut candidate,
            dir,
            &step_plan,
            NEXT_MIX_FILE,
            progress,
            &mut mix_cache,
        )?;
        candidate.stages.push(record);
        progress.update("qc", 0.5, "scoring");
        let next_mix = dir.join(NEXT_MIX_FILE);
        let table = qc::score(&reference, &Features::measure(&next_mix, &embedder)?);
        let seconds = it_started.elapsed().as_secs_f64();
        // The dearest round so far (a round's cost varies by a second or two with what it
        // runs again and with the machine's load).
        mix_cost = mix_cost.max(mix_started.elapsed().as_secs_f64());
        let iteration = Iteration {
            index,
            overall: round2(table.overall),
            dimensions: table
                .measures
                .iter()
                .map(|m| (m.name.to_string(), json!(round2(m.score))))
                .collect(),
            seconds: round2(seconds),
            step: step_name.into(),
        };
        on_iteration(&iteration, &table);
        brain::judge(&mut memory, table.overall, index, &mut decisions);
        iterations.push(iteration);
        let better = best_table
            .as_ref()
            .is_none_or(|b| table.overall > b.overall);
        if better {
            std::fs::rename(&next_mix, dir.join(MIX_FILE))
                .map_err(|e| Error::io(dir.join(MIX_FILE), "writing (renaming into place)", e))?;
            candidate.render_mix = Some(MIX_FILE.into());
            if step_name != "mix" {
                occupancy = occupancies(&candidate, dir);
            }
            best = candidate;
            best_index = index;
            plan = step_plan;
            best_table = Some(table);
        } else {
            let _ = std::fs::remove_file(&next_mix);
        }
        let state = State {
            iterations: &iterations,
            best_index,
            best_table: &best_table,
            memory: &memory,
            decisions: &decisions,
        };
        write(&mut best, &state, options, None, dir)?;
    }
    decisions.push(Decision {
        iteration: iterations.len(),
        area: "stop".into(),
        action: "stop".into(),
        reason: stopped.clone(),
    });
    let state = State {
        iterations: &iterations,
        best_index,
        best_table: &best_table,
        memory: &memory,
        decisions: &decisions,
    };
    write(&mut best, &state, options, Some(stopped), dir)?;
    progress.update("report", 0.0, "report.html");
    crate::report::write(&best, dir)?;
    // The DAW projects beside it (`auralis export` writes them again on demand).
    progress.update("export", 0.0, "project.dawproject, project.rpp");
    match crate::export::Project::from_session(dir) {
        Ok(project) => {
            for (format, file) in [
                (crate::export::Format::DawProject, PROJECT_DAWPROJECT),
                (crate::export::Format::Rpp, PROJECT_RPP),
            ] {
                if let Err(e) = crate::export::write(&project, format, &dir.join(file)) {
                    progress.update("export", 1.0, &format!("{file} not written: {e}"));
                }
            }
        }
        Err(e) => progress.update("export", 1.0, &format!("no DAW project: {e}")),
    }
    progress.update("export", 1.0, "done");
    progress.update("qc", 1.0, "done");
    Ok(best)
}

/// The DAW projects `auralis reconstruct` leaves in the session.
pub const PROJECT_DAWPROJECT: &str = "project.dawproject";
pub const PROJECT_RPP: &str = "project.rpp";

/// How much of the time each pitched element's render and stem sound.
fn occupancies(s: &Session, dir: &Path) -> brain::Occupancy {
    let mut out = brain::Occupancy::new();
    for e in &s.elements {
        if e.role == "drums" {
            continue;
        }
        let (Some(render), Some(stem)) = (
            e.extra.get("render").and_then(|r| r.as_str()),
            e.stem.as_deref(),
        ) else {
            continue;
        };
        let (Ok((rr, ra)), Ok((sr, sa))) = (
            crate::decode::read_stereo(&dir.join(render)),
            crate::decode::read_stereo(&dir.join(stem)),
        ) else {
            continue;
        };
        out.insert(
            e.name.clone(),
            (hands::occupancy(&ra, rr), hands::occupancy(&sa, sr)),
        );
    }
    out
}

/// What the loop has to write after an iteration.
struct State<'a> {
    iterations: &'a [Iteration],
    best_index: usize,
    best_table: &'a Option<Table>,
    memory: &'a Memory,
    decisions: &'a [Decision],
}

fn write(
    best: &mut Session,
    state: &State,
    options: &Options,
    stopped: Option<String>,
    dir: &Path,
) -> Result<()> {
    let history = History {
        target: options.target,
        best_iteration: state.best_index,
        iterations: state.iterations.to_vec(),
        best_table: state
            .best_table
            .as_ref()
            .map(Table::to_json)
            .unwrap_or(serde_json::Value::Null),
        memory: state.memory.clone(),
        stopped,
    };
    best.qc = serde_json::to_value(&history).ok();
    best.decisions = state
        .decisions
        .iter()
        .filter_map(|d| serde_json::to_value(d).ok())
        .collect();
    session::write(dir, best)?;
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
