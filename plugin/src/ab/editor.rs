//! The A/B's editor (nice-plug-egui): the A/B switch and its meters, a track to reconstruct
//! (typed, pasted or dropped on the window) with the pipeline's stages as they run, the session's
//! QC table with its history over iterations, the elements (role, preset, fit loss), and the
//! session's commands (another iteration, the report, the MIDI files, the DAW project).
//!
//! The logic is [`super::workflow`], tested without a window; this file only draws it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use egui::{Color32, RichText};
use nice_plug::context::gui::GuiContext;
use nice_plug_egui::{NiceEguiApp, RepaintNotifier};

use super::meter::{Meters, BAND_HZ};
use super::source::ORIGINAL;
use super::workflow::Workflow;
use super::AbParams;
use crate::instrument::part::SessionRef;

/// The editor's size, logical pixels.
pub const SIZE: (u32, u32) = (980, 700);

/// The editor's state.
pub struct AbEditor {
    params: Arc<AbParams>,
    meters: Arc<Meters>,
    session: Arc<RwLock<SessionRef>>,
    status: Arc<dyn Fn() -> String + Send + Sync>,
    notifier: RepaintNotifier,
    ticking: Arc<AtomicBool>,
    gui: Option<GuiContext>,
    /// The track field.
    track: String,
    workflow: Workflow,
    shown: Option<String>,
}

impl AbEditor {
    pub fn new(
        params: Arc<AbParams>,
        meters: Arc<Meters>,
        status: Arc<dyn Fn() -> String + Send + Sync>,
        notifier: RepaintNotifier,
    ) -> Self {
        Self {
            session: params.session.clone(),
            params,
            meters,
            status,
            notifier,
            ticking: Arc::new(AtomicBool::new(false)),
            gui: None,
            track: String::new(),
            workflow: Workflow::new(),
            shown: None,
        }
    }

    /// Shows the session the plugin plays, when it changed (a state load, a finished job).
    fn follow_session(&mut self) {
        if let Some(dir) = self.workflow.load.take() {
            if let Ok(mut s) = self.session.write() {
                *s = SessionRef {
                    path: dir.to_string_lossy().into_owned(),
                    element: ORIGINAL.to_string(),
                };
            }
        }
        let path = self
            .session
            .read()
            .map(|s| s.path.clone())
            .unwrap_or_default();
        if !path.is_empty() && self.shown.as_deref() != Some(path.as_str()) {
            let p = PathBuf::from(&path);
            let dir = if p.is_dir() {
                p
            } else {
                p.parent().map(PathBuf::from).unwrap_or_default()
            };
            self.workflow.open(&dir);
            self.shown = Some(path);
        }
    }

    fn ab_switch(&mut self, ui: &mut egui::Ui) {
        let on = self.params.original.value();
        let label = if on {
            RichText::new("B · ORIGINAL").strong().color(Color32::BLACK)
        } else {
            RichText::new("A · REBUILD").strong().color(Color32::WHITE)
        };
        let fill = if on {
            Color32::from_rgb(255, 196, 64)
        } else {
            Color32::from_rgb(40, 110, 200)
        };
        let button = egui::Button::new(label)
            .fill(fill)
            .min_size(egui::vec2(180.0, 44.0));
        if ui.add(button).clicked() {
            if let Some(gui) = &self.gui {
                let setter = gui.param_setter();
                setter.begin_set_parameter(&self.params.original);
                setter.set_parameter(&self.params.original, !on);
                setter.end_set_parameter(&self.params.original);
            }
        }
        let mut matched = self.params.match_loudness.value();
        if ui.checkbox(&mut matched, "Match loudness").changed() {
            if let Some(gui) = &self.gui {
                let setter = gui.param_setter();
                setter.begin_set_parameter(&self.params.match_loudness);
                setter.set_parameter(&self.params.match_loudness, matched);
                setter.end_set_parameter(&self.params.match_loudness);
            }
        }
    }

    fn meters(&self, ui: &mut egui::Ui) {
        let (s, n) = self.meters.read();
        let f = |x: f32, unit: &str| {
            if x.is_finite() {
                format!("{x:.1} {unit}")
            } else {
                "—".to_string()
            }
        };
        egui::Grid::new("meters").num_columns(3).show(ui, |ui| {
            ui.label("");
            ui.label(RichText::new("rebuild (A)").strong());
            ui.label(RichText::new("original (B)").strong());
            ui.end_row();
            ui.label("loudness, 3 s");
            ui.label(f(s.mix_lufs, "LUFS"));
            ui.label(f(s.original_lufs, "LUFS"));
            ui.end_row();
            ui.label("loudness, 30 s");
            ui.label(f(s.mix_window_lufs, "LUFS"));
            ui.label(f(s.original_window_lufs, "LUFS"));
            ui.end_row();
            ui.label("width (side/mid)");
            ui.label(f(s.mix_width_db, "dB"));
            ui.label(f(s.original_width_db, "dB"));
            ui.end_row();
            ui.label("match on B");
            ui.label(f(s.match_db, "dB"));
            ui.label(if s.dropouts > 0 {
                format!("{} frames late from disk", s.dropouts)
            } else {
                String::new()
            });
            ui.end_row();
        });
        // The spectrum difference, octave by octave.
        let (rect, _) = ui.allocate_exact_size(egui::vec2(360.0, 90.0), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, Color32::from_gray(24));
        let mid = rect.center().y;
        painter.line_segment(
            [egui::pos2(rect.left(), mid), egui::pos2(rect.right(), mid)],
            (1.0, Color32::from_gray(90)),
        );
        let w = rect.width() / BAND_HZ.len() as f32;
        for (i, d) in s.spectrum_diff_db.iter().enumerate() {
            let h = (d.clamp(-12.0, 12.0) / 12.0) * (rect.height() / 2.0 - 12.0);
            let x = rect.left() + w * (i as f32 + 0.2);
            let bar =
                egui::Rect::from_two_pos(egui::pos2(x, mid), egui::pos2(x + w * 0.6, mid - h));
            let c = if *d > 0.0 {
                Color32::from_rgb(90, 170, 255)
            } else {
                Color32::from_rgb(255, 170, 60)
            };
            painter.rect_filled(bar, 1.0, c);
            let hz = BAND_HZ[i];
            let label = if hz >= 1000.0 {
                format!("{}k", hz / 1000.0)
            } else {
                format!("{hz}")
            };
            painter.text(
                egui::pos2(x + w * 0.3, rect.bottom() - 6.0),
                egui::Align2::CENTER_BOTTOM,
                label,
                egui::FontId::proportional(9.0),
                Color32::from_gray(160),
            );
        }
        ui.label(
            RichText::new(if n == 0 {
                "Play the transport to measure (rebuild minus original per octave, ±12 dB)"
                    .to_string()
            } else {
                "Spectrum: rebuild minus original per octave, ±12 dB".to_string()
            })
            .small(),
        );
    }

    fn pipeline(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label("Track:");
            ui.add(egui::TextEdit::singleline(&mut self.track).desired_width(420.0))
                .on_hover_text("Type or paste a path, or drop a file on the window");
            let busy = self.workflow.job.as_ref().is_some_and(|j| j.running());
            if ui
                .add_enabled(
                    !busy && !self.track.trim().is_empty(),
                    egui::Button::new("Reconstruct"),
                )
                .clicked()
            {
                let track = PathBuf::from(self.track.trim());
                let out = Workflow::session_for(&track);
                self.workflow.analyse(&track, &out);
            }
            if busy && ui.button("Cancel").clicked() {
                if let Some(j) = self.workflow.job.as_mut() {
                    j.cancel();
                }
            }
        });
        if let Some(job) = &self.workflow.job {
            ui.horizontal(|ui| {
                ui.label(RichText::new(&job.title).strong());
                ui.add(
                    egui::ProgressBar::new(job.fraction() as f32)
                        .desired_width(260.0)
                        .text(format!("{:.0} s", job.elapsed())),
                );
            });
            egui::ScrollArea::vertical()
                .id_salt("stages")
                .max_height(120.0)
                .show(ui, |ui| {
                    for s in &job.stages {
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::ProgressBar::new(s.fraction as f32)
                                    .desired_width(120.0)
                                    .text(&s.name),
                            );
                            ui.label(RichText::new(&s.message).small());
                        });
                    }
                });
        }
        if !self.workflow.message.is_empty() {
            ui.label(RichText::new(&self.workflow.message).color(Color32::from_rgb(230, 200, 120)));
        }
    }

    fn session_view(&mut self, ui: &mut egui::Ui) {
        let Some(s) = self.workflow.summary.clone() else {
            ui.label("No session yet: reconstruct a track, or load a project that has one.");
            return;
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(s.dir.display().to_string()).strong());
            if let Some(bpm) = s.bpm {
                ui.label(format!("{bpm:.1} BPM"));
            }
            ui.label(&s.key);
        });
        ui.horizontal(|ui| {
            if ui.button("Another iteration").clicked() {
                self.workflow.iterate();
            }
            if let Some(r) = &s.report {
                if ui.button("Open report").clicked() {
                    self.workflow.reveal(r);
                }
            }
            if ui.button("Reveal MIDI").clicked() {
                self.workflow.reveal(&s.dir.join("midi"));
            }
            if ui.button("Export DAWproject").clicked() {
                self.workflow.export(false);
            }
            if ui.button("Export REAPER").clicked() {
                self.workflow.export(true);
            }
        });
        ui.columns(2, |cols| {
            let ui = &mut cols[0];
            ui.label(RichText::new("QC per iteration").strong());
            let qc = &s.qc;
            egui::Grid::new("qc").striped(true).show(ui, |ui| {
                ui.label("");
                for i in 0..qc.overall.len() {
                    let t = RichText::new(format!("#{i}"));
                    ui.label(if Some(i) == qc.best { t.strong() } else { t });
                }
                ui.end_row();
                let cell = |ui: &mut egui::Ui, v: f64, strong: bool| {
                    let c = if v >= 85.0 {
                        Color32::from_rgb(120, 220, 120)
                    } else if v >= 60.0 {
                        Color32::from_rgb(230, 200, 100)
                    } else {
                        Color32::from_rgb(240, 110, 100)
                    };
                    let t = RichText::new(if v.is_finite() {
                        format!("{v:.0}")
                    } else {
                        "—".into()
                    })
                    .color(c);
                    ui.label(if strong { t.strong() } else { t });
                };
                ui.label(RichText::new("overall").strong());
                for (i, v) in qc.overall.iter().enumerate() {
                    cell(ui, *v, Some(i) == qc.best);
                }
                ui.end_row();
                for (name, row) in &qc.dimensions {
                    ui.label(name.replace('_', " "));
                    for (i, v) in row.iter().enumerate() {
                        cell(ui, *v, Some(i) == qc.best);
                    }
                    ui.end_row();
                }
            });
            if let Some(t) = qc.target {
                ui.label(RichText::new(format!("target {t:.0}")).small());
            }
            let ui = &mut cols[1];
            ui.label(RichText::new("Elements").strong());
            egui::Grid::new("elements").striped(true).show(ui, |ui| {
                for h in ["element", "role", "preset", "fit loss"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for e in &s.elements {
                    ui.label(&e.name);
                    ui.label(&e.role);
                    ui.label(&e.preset);
                    ui.label(match (e.loss_before, e.loss_after) {
                        (Some(a), Some(b)) => format!("{a:.2} -> {b:.2}"),
                        _ => "—".into(),
                    });
                    ui.end_row();
                }
            });
        });
    }
}

impl NiceEguiApp for AbEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(nice_gui_ctx);
        // Repaint ten times a second while open: the meters and the pipeline move on their own.
        self.ticking.store(true, Ordering::Release);
        let (ticking, notifier) = (self.ticking.clone(), self.notifier.clone());
        let _ = std::thread::Builder::new()
            .name("auralis-ab-editor-tick".into())
            .spawn(move || {
                while ticking.load(Ordering::Acquire) {
                    notifier.request_repaint();
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        // A file dropped on the window is the track.
        let dropped: Option<PathBuf> = ui.ctx().input(|i| {
            i.raw
                .dropped_files
                .first()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
        });
        if let Some(p) = dropped {
            self.track = p.to_string_lossy().into_owned();
        }
        self.workflow.poll();
        self.follow_session();
        egui::Frame::new().inner_margin(12.0).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("AURALIS A/B");
                let status = (self.status)();
                if !status.is_empty() {
                    ui.label(RichText::new(status).color(Color32::from_rgb(240, 110, 100)));
                }
            });
            ui.separator();
            ui.horizontal(|ui| {
                ui.vertical(|ui| self.ab_switch(ui));
                ui.add_space(24.0);
                ui.vertical(|ui| self.meters(ui));
            });
            ui.separator();
            self.pipeline(ui);
            ui.separator();
            self.session_view(ui);
        });
    }

    fn editor_closed(&mut self) {
        self.ticking.store(false, Ordering::Release);
        self.gui = None;
    }
}
