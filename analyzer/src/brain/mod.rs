//! BRAIN: the decisions between one QC table and the next round.
//!
//! The default planner is rule-based, offline and deterministic. It reads the analysis (the
//! elements, their effects and fits) and the last QC table, and decides:
//! - **sound design**: which role and preset family each element was given (HANDS chose the
//!   nearest preset; the planner records it with the fit's loss as its reason);
//! - **arrangement**: which elements play (all that separation found with notes);
//! - **mix strategy**: the [`Plan`] CONSOLE mixes with: each element's reverb send (at the
//!   RT60 EAR measured on its stem) and its stereo spread (a chorus on a render narrower than
//!   its stem);
//! - **what to change after QC**: the dimensions are ranked by what they cost the overall
//!   score (weight × (100 − score)); the worst one with an action left is acted on — the
//!   reverb sends up or down towards the original's RT60, the spread up or down towards its
//!   width, a shorter envelope for the element whose render is near full level far more of
//!   the time than its stem (its notes ring where the stem's die away), or a refit of the
//!   elements whose patches match worst, with more of the time budget. An action that did
//!   not raise the overall score is not tried again.
//!
//! Every decision is logged with its reason ([`Decision`], `session.json` → `decisions`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::effects::Effects;
use crate::qc::{Table, DIMENSIONS};
use crate::session::Session;

/// Reverb send of an element with a measured room, before QC has spoken, dB under the dry.
pub const INITIAL_REVERB_DB: f32 = -14.0;
/// Step of one reverb decision, dB.
pub const REVERB_STEP_DB: f32 = 4.0;
/// Step of one spread decision (chorus mix).
pub const SPREAD_STEP: f32 = 0.2;
/// Spread given to a mono render whose stem is wide, before QC has spoken.
pub const INITIAL_SPREAD: f32 = 0.3;
/// A stem wider than this side-to-mid ratio is wide, dB.
pub const WIDE_STEM_DB: f64 = -20.0;
/// A render near its full level this much more of the time than its stem (share of the
/// frames, [`crate::hands::occupancy`]) holds its notes where the stem's die away.
pub const OVERHANG: f64 = 0.1;
/// One envelope decision: the amp sustain times this, the release times [`RELEASE_SCALE`].
pub const SUSTAIN_SCALE: f32 = 0.35;
pub const RELEASE_SCALE: f32 = 0.6;

/// How CONSOLE mixes one element, beyond what it matches by itself (EQ, level, pan, width).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct ElementPlan {
    /// Level of the element's reverb (at its stem's RT60), dB under the dry; `None`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverb_db: Option<f32>,
    /// Chorus mix that spreads a narrow render across the stereo image, 0–1.
    #[serde(default)]
    pub spread: f32,
}

/// The mix strategy: per element name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Plan {
    pub elements: BTreeMap<String, ElementPlan>,
}

/// One logged decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The iteration it shapes.
    pub iteration: usize,
    /// `sound`, `arrangement`, `mix`, `refit` or `stop`.
    pub area: String,
    /// What was decided.
    pub action: String,
    /// Why.
    pub reason: String,
}

impl Decision {
    fn new(iteration: usize, area: &str, action: String, reason: String) -> Self {
        Self {
            iteration,
            area: area.into(),
            action,
            reason,
        }
    }
}

/// What the next round runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// CONSOLE again with a new plan.
    Mix(Plan),
    /// HANDS again for these elements with this many seconds, then CONSOLE with the plan.
    Refit {
        plan: Plan,
        elements: Vec<String>,
        seconds: f64,
    },
    /// The element's notes die sooner (amp sustain × [`SUSTAIN_SCALE`], release ×
    /// [`RELEASE_SCALE`]), rendered again, then CONSOLE with the plan.
    Envelope { plan: Plan, element: String },
}

/// How much of the time each element's render and its stem sound ([`crate::hands::occupancy`]),
/// by element name.
pub type Occupancy = BTreeMap<String, (f64, f64)>;

fn effects_of(e: &crate::session::Element) -> Effects {
    e.extra
        .get("effects")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// The first round's decisions: the sound design HANDS made, the arrangement, and the mix
/// strategy from EAR's effects.
pub fn initial(session: &Session) -> (Plan, Vec<Decision>) {
    let mut plan = Plan::default();
    let mut log = Vec::new();
    let playing: Vec<&str> = session
        .elements
        .iter()
        .filter(|e| e.extra.contains_key("render"))
        .map(|e| e.name.as_str())
        .collect();
    log.push(Decision::new(
        0,
        "arrangement",
        format!("play {}", playing.join(", ")),
        "every separated element with notes is rebuilt; the notes follow its MIDI".into(),
    ));
    for e in &session.elements {
        if !e.extra.contains_key("render") {
            continue;
        }
        if let Some(preset) = e.extra.get("preset").and_then(|p| p.as_str()) {
            let loss = e
                .extra
                .get("fit")
                .and_then(|f| f.get("loss_after"))
                .and_then(|l| l.as_f64());
            log.push(Decision::new(
                0,
                "sound",
                format!("{}: role {}, preset {preset}", e.name, e.role),
                match loss {
                    Some(l) => format!(
                        "nearest preset of the role's families, fitted to the stem ({l:.2} dB log-mel distance)"
                    ),
                    None => "nearest preset of the role's families".into(),
                },
            ));
        }
        let fx = effects_of(e);
        let mut p = ElementPlan::default();
        if let Some(room) = fx.room {
            p.reverb_db = Some(INITIAL_REVERB_DB);
            log.push(Decision::new(
                0,
                "mix",
                format!(
                    "{}: reverb {:.2} s at {INITIAL_REVERB_DB} dB",
                    e.name, room.rt60_s
                ),
                format!(
                    "EAR measured RT60 {:.2} s on the stem ({} gaps, {} decays)",
                    room.rt60_s, room.gaps_used, room.decays_used
                ),
            ));
        }
        if e.role != "drums" && e.role != "bass" && fx.image.side_to_mid_db > WIDE_STEM_DB {
            p.spread = INITIAL_SPREAD;
            log.push(Decision::new(
                0,
                "mix",
                format!("{}: spread {INITIAL_SPREAD}", e.name),
                format!(
                    "the stem is wide (side {:.1} dB under mid); a mono render needs spreading to reach it",
                    -fx.image.side_to_mid_db
                ),
            ));
        }
        plan.elements.insert(e.name.clone(), p);
    }
    (plan, log)
}

/// The dimensions ranked by what they cost the overall score, worst first.
pub fn ranked(table: &Table) -> Vec<(&'static str, f64)> {
    let mut v: Vec<(&'static str, f64)> = table
        .measures
        .iter()
        .zip(DIMENSIONS.iter())
        .map(|(m, s)| (m.name, s.weight * (100.0 - m.score) / 100.0))
        .filter(|(_, cost)| *cost > 0.05)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v
}

/// What the planner may still try, and what it has tried.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Memory {
    /// Actions that did not raise the overall score (keys like `reverb+`).
    pub rejected: Vec<String>,
    /// The action of the last round and the overall score it started from.
    pub last: Option<(String, f64)>,
}

/// Decides the next round from the best plan so far and its QC table. `seconds_left` is the
/// time budget left after the round's own mix and QC (infinite without a budget). `None`
/// when nothing is left to try.
#[allow(clippy::too_many_arguments)]
pub fn next(
    session: &Session,
    best: &Plan,
    table: &Table,
    memory: &mut Memory,
    iteration: usize,
    seconds_left: f64,
    occupancy: &Occupancy,
    log: &mut Vec<Decision>,
) -> Option<Step> {
    for (dim, cost) in ranked(table) {
        let m = table.measures.iter().find(|m| m.name == dim)?;
        let reason = |what: &str| {
            format!(
                "{dim} scored {:.1} (costs {cost:.1} of the overall {:.1}); {what}",
                m.score, table.overall
            )
        };
        match dim {
            "reverb" => {
                // Shorter (or unmeasurable) in the rebuild: more reverb; longer: less.
                let more = match (m.reference, m.candidate) {
                    (Some(r), Some(c)) => c < r,
                    (Some(_), None) => true,
                    _ => continue,
                };
                let key = if more { "reverb+" } else { "reverb-" };
                if memory.rejected.iter().any(|k| k == key) {
                    continue;
                }
                let mut plan = best.clone();
                let mut touched = Vec::new();
                for e in &session.elements {
                    let Some(p) = plan.elements.get_mut(&e.name) else {
                        continue;
                    };
                    let has_room = effects_of(e).room.is_some();
                    match (p.reverb_db, more) {
                        (Some(db), true) => p.reverb_db = Some((db + REVERB_STEP_DB).min(-2.0)),
                        (Some(db), false) => p.reverb_db = Some(db - REVERB_STEP_DB),
                        (None, true) if has_room || e.role != "drums" => {
                            p.reverb_db = Some(INITIAL_REVERB_DB)
                        }
                        _ => continue,
                    }
                    touched.push(e.name.clone());
                }
                if touched.is_empty() {
                    continue;
                }
                log.push(Decision::new(
                    iteration,
                    "mix",
                    format!(
                        "reverb sends {} {REVERB_STEP_DB} dB on {}",
                        if more { "up" } else { "down" },
                        touched.join(", ")
                    ),
                    reason(&format!(
                        "the rebuild's RT60 is {}, the original's {}",
                        m.candidate
                            .map(|c| format!("{c:.2} s"))
                            .unwrap_or_else(|| "unmeasurable".into()),
                        m.reference
                            .map(|r| format!("{r:.2} s"))
                            .unwrap_or_else(|| "unmeasurable".into())
                    )),
                ));
                memory.last = Some((key.into(), table.overall));
                return Some(Step::Mix(plan));
            }
            "width" => {
                let (Some(r), Some(c)) = (m.reference, m.candidate) else {
                    continue;
                };
                let wider = c < r;
                let key = if wider { "spread+" } else { "spread-" };
                if memory.rejected.iter().any(|k| k == key) {
                    continue;
                }
                let mut plan = best.clone();
                let mut touched = Vec::new();
                for e in &session.elements {
                    if e.role == "drums" || e.role == "bass" {
                        continue;
                    }
                    let Some(p) = plan.elements.get_mut(&e.name) else {
                        continue;
                    };
                    let s = if wider {
                        (p.spread + SPREAD_STEP).min(1.0)
                    } else {
                        (p.spread - SPREAD_STEP).max(0.0)
                    };
                    if (s - p.spread).abs() > 1e-6 {
                        p.spread = s;
                        touched.push(e.name.clone());
                    }
                }
                if touched.is_empty() {
                    continue;
                }
                log.push(Decision::new(
                    iteration,
                    "mix",
                    format!(
                        "spread {} {SPREAD_STEP} on {}",
                        if wider { "up" } else { "down" },
                        touched.join(", ")
                    ),
                    reason(&format!(
                        "the rebuild's side is {:.1} dB under its mid, the original's {:.1} dB",
                        -c, -r
                    )),
                ));
                memory.last = Some((key.into(), table.overall));
                return Some(Step::Mix(plan));
            }
            "timbre" | "spectral" | "kick_pattern" | "bass_pattern" | "energy_curve" => {
                // First the element that sounds most more of the time than its stem: its
                // notes ring where the stem's have died (a sustain the short fitting
                // excerpts could not see), a wash over the whole mix.
                if dim != "kick_pattern" && dim != "bass_pattern" {
                    let worst = occupancy
                        .iter()
                        .filter(|(n, _)| {
                            !memory
                                .rejected
                                .iter()
                                .any(|k| *k == format!("envelope:{n}"))
                        })
                        .map(|(n, &(r, st))| (n.clone(), r, st))
                        .filter(|(_, r, st)| r - st > OVERHANG)
                        .max_by(|a, b| (a.1 - a.2).total_cmp(&(b.1 - b.2)));
                    if let Some((name, r, st)) = worst {
                        log.push(Decision::new(
                            iteration,
                            "sound",
                            format!(
                                "{name}: amp sustain × {SUSTAIN_SCALE}, release × {RELEASE_SCALE}"
                            ),
                            reason(&format!(
                                "{name}'s render is near full level {:.0} % of the time, its stem {:.0} %",
                                100.0 * r,
                                100.0 * st
                            )),
                        ));
                        memory.last = Some((format!("envelope:{name}"), table.overall));
                        return Some(Step::Envelope {
                            plan: best.clone(),
                            element: name,
                        });
                    }
                }
                if dim == "energy_curve" {
                    continue;
                }
                let key = "refit";
                if memory.rejected.iter().any(|k| k == key) {
                    continue;
                }
                // The elements whose fits are worst (highest loss), the drums for the kick,
                // the bass for the bass line.
                let mut by_loss: Vec<(String, f64)> = session
                    .elements
                    .iter()
                    .filter(|e| e.extra.contains_key("render"))
                    .filter(|e| match dim {
                        "kick_pattern" => e.role == "drums",
                        "bass_pattern" => e.role == "bass",
                        _ => true,
                    })
                    .filter_map(|e| {
                        let l = e.extra.get("fit")?.get("loss_after")?.as_f64()?;
                        Some((e.name.clone(), l))
                    })
                    .collect();
                by_loss.sort_by(|a, b| b.1.total_cmp(&a.1));
                by_loss.truncate(2);
                // Half the time left, at most 30 s: enough for a deeper search of two parts,
                // leaving room for later rounds.
                let seconds = (0.5 * seconds_left).min(30.0);
                if by_loss.is_empty() || seconds < 3.0 {
                    continue;
                }
                let names: Vec<String> = by_loss.iter().map(|b| b.0.clone()).collect();
                log.push(Decision::new(
                    iteration,
                    "refit",
                    format!("refit {} for {seconds:.0} s", names.join(", ")),
                    reason(&format!(
                        "their patches match their stems worst ({})",
                        by_loss
                            .iter()
                            .map(|(n, l)| format!("{n} {l:.2} dB"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ));
                memory.last = Some((key.into(), table.overall));
                return Some(Step::Refit {
                    plan: best.clone(),
                    elements: names,
                    seconds,
                });
            }
            _ => continue,
        }
    }
    None
}

/// After a round: an action that did not raise the overall score is not tried again.
pub fn judge(memory: &mut Memory, overall: f64, iteration: usize, log: &mut Vec<Decision>) {
    if let Some((key, before)) = memory.last.take() {
        if overall <= before + 0.05 {
            log.push(Decision::new(
                iteration,
                "judge",
                format!("drop {key}"),
                format!("overall {overall:.1} did not rise above {before:.1}; the best iteration's plan stays"),
            ));
            memory.rejected.push(key);
        } else {
            log.push(Decision::new(
                iteration,
                "judge",
                format!("keep {key}"),
                format!("overall rose from {before:.1} to {overall:.1}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qc::Measure;
    use serde_json::json;

    /// The documented session with a pad (wide stem, a room) and a bass (fitted worse).
    fn session() -> Session {
        let mut s = crate::session::example();
        let mut pad = s.elements[0].clone();
        pad.name = "pad".into();
        pad.role = "keys".into();
        pad.extra.insert("render".into(), json!("render/pad.wav"));
        pad.extra.insert("preset".into(), json!("Pad warm"));
        pad.extra.insert("fit".into(), json!({"loss_after": 6.0}));
        pad.extra.insert(
            "effects".into(),
            json!({"image": {"pan": 0.0, "side_to_mid_db": -9.0},
                   "room": {"rt60_s": 1.4, "gaps_used": 3, "decays_used": 0, "spread": 0.1}}),
        );
        let bass = &mut s.elements[0];
        bass.extra.insert("render".into(), json!("render/bass.wav"));
        bass.extra.insert("fit".into(), json!({"loss_after": 9.0}));
        bass.extra.insert(
            "effects".into(),
            json!({"image": {"pan": 0.0, "side_to_mid_db": -40.0}}),
        );
        s.elements.push(pad);
        s
    }

    /// A table where every dimension scores 100 but `worst`, with its values.
    fn table(worst: &'static str, score: f64, r: Option<f64>, c: Option<f64>) -> Table {
        let measures: Vec<Measure> = DIMENSIONS
            .iter()
            .map(|d| Measure {
                name: d.name,
                score: if d.name == worst { score } else { 100.0 },
                reference: if d.name == worst { r } else { None },
                candidate: if d.name == worst { c } else { None },
                error: 0.0,
                unit: d.unit,
            })
            .collect();
        let overall = measures
            .iter()
            .zip(DIMENSIONS.iter())
            .map(|(m, d)| m.score * d.weight)
            .sum::<f64>()
            / 100.0;
        Table {
            overall,
            measures,
            embedding: "mfcc-stats",
        }
    }

    #[test]
    fn the_first_plan_follows_the_effects_and_logs_why() {
        let s = session();
        let (plan, log) = initial(&s);
        let pad = plan.elements["pad"];
        assert_eq!(pad.reverb_db, Some(INITIAL_REVERB_DB));
        assert_eq!(pad.spread, INITIAL_SPREAD);
        let bass = plan.elements["bass"];
        assert_eq!(bass.reverb_db, None);
        assert_eq!(bass.spread, 0.0);
        assert!(log.iter().any(|d| d.area == "arrangement"));
        assert!(log
            .iter()
            .any(|d| d.area == "sound" && d.action.contains("Pad warm")));
        assert!(log.iter().all(|d| !d.reason.is_empty()));
    }

    #[test]
    fn the_worst_dimension_is_acted_on_and_a_failed_action_not_repeated() {
        let s = session();
        let (plan, _) = initial(&s);
        let mut memory = Memory::default();
        let mut log = Vec::new();
        let none = Occupancy::new();
        // Too little reverb in the rebuild: the sends go up.
        let t = table("reverb", 40.0, Some(1.4), Some(0.6));
        let Some(Step::Mix(next_plan)) = next(&s, &plan, &t, &mut memory, 1, 60.0, &none, &mut log)
        else {
            panic!("expected a mix step: {log:?}");
        };
        assert_eq!(
            next_plan.elements["pad"].reverb_db,
            Some(INITIAL_REVERB_DB + REVERB_STEP_DB)
        );
        // It did not help: dropped, and the same table asks for something else.
        judge(&mut memory, t.overall, 1, &mut log);
        assert_eq!(memory.rejected, vec!["reverb+".to_string()]);
        assert!(next(&s, &plan, &t, &mut memory, 2, 60.0, &none, &mut log).is_none());

        // Too narrow: the spread of the wide element goes up, not the bass's.
        let t = table("width", 50.0, Some(-10.0), Some(-18.0));
        let Some(Step::Mix(p)) = next(&s, &plan, &t, &mut memory, 2, 60.0, &none, &mut log) else {
            panic!("expected a mix step");
        };
        assert_eq!(p.elements["pad"].spread, INITIAL_SPREAD + SPREAD_STEP);
        assert_eq!(p.elements["bass"].spread, 0.0);

        // Timbre: the worst-fitted element first, with half the time left; none without time.
        let t = table("timbre", 30.0, None, None);
        match next(&s, &plan, &t, &mut memory, 3, 40.0, &none, &mut log) {
            Some(Step::Refit {
                elements, seconds, ..
            }) => {
                assert_eq!(elements[0], "bass");
                assert_eq!(seconds, 20.0);
            }
            other => panic!("expected a refit: {other:?}"),
        }
        assert!(next(&s, &plan, &t, &mut memory, 3, 2.0, &none, &mut log).is_none());

        // An element whose render rings on where its stem has died: its envelope first.
        let rings: Occupancy = [
            ("pad".to_string(), (0.9, 0.5)),
            ("bass".to_string(), (0.6, 0.55)),
        ]
        .into_iter()
        .collect();
        match next(&s, &plan, &t, &mut memory, 4, 40.0, &rings, &mut log) {
            Some(Step::Envelope { element, .. }) => assert_eq!(element, "pad"),
            other => panic!("expected an envelope step: {other:?}"),
        }
        judge(&mut memory, t.overall, 4, &mut log);
        assert!(matches!(
            next(&s, &plan, &t, &mut memory, 5, 40.0, &rings, &mut log),
            Some(Step::Refit { .. })
        ));
    }
}
