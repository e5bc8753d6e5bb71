//! Where the reports and the delivery note went, and every instance at a glance.

use egui::{Color32, RichText};
use std::sync::atomic::Ordering;

use super::widgets::{format_db, light_colour, status_box};
use super::StemApp;
use crate::plugin::instance_row::{InstanceRow, Light};
use crate::plugin::overview;
use crate::plugin::report::{self, PassKind};
use crate::plugin::shared::FailedReport;

impl StemApp {
    /// The last pass report: where it went, or why it could not be saved with a way to retry
    /// or copy it; and the folder reports go to.
    pub(super) fn reports(&mut self, ui: &mut egui::Ui) {
        self.last_pass(ui);
        let mut log = self
            .shared
            .reports
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (mut retry, mut copy) = (false, false);
        if let Some(failed) = &log.failed {
            status_box(
                ui,
                Color32::from_rgb(220, 60, 50),
                "Report not saved",
                16.0,
                |ui| {
                    ui.label(format!(
                    "{}. The report is kept here until it is saved: fix the folder and retry, or copy it.",
                    failed.error
                ));
                    ui.horizontal(|ui| {
                        retry = ui.button("Retry").clicked();
                        copy = ui.button("Copy report").clicked();
                    });
                },
            );
        } else if let Some(path) = &log.written {
            ui.label(format!("Last report: {}", path.display()));
        }
        if copy {
            if let Some(failed) = &log.failed {
                ui.ctx().copy_text(failed.text.clone());
            }
        }
        if retry {
            if let Some(failed) = log.failed.take() {
                match report::write_report(&failed.folder, &failed.base, &failed.json, &failed.text)
                {
                    Ok(path) => log.written = Some(path),
                    Err(error) => log.failed = Some(FailedReport { error, ..failed }),
                }
            }
        }
        drop(log);
        ui.horizontal(|ui| {
            ui.label("Reports go to");
            let mut folder = self
                .params
                .report_folder
                .read()
                .map(|f| f.clone())
                .unwrap_or_default();
            let hint = report::default_folder().display().to_string();
            let edit = egui::TextEdit::singleline(&mut folder).hint_text(hint);
            if ui.add(edit).changed() {
                if let Ok(mut stored) = self.params.report_folder.write() {
                    *stored = folder;
                }
            }
        });
        let mut armed = self.params.export_armed.load(Ordering::Acquire);
        let arm = ui.checkbox(
            &mut armed,
            "Save the next real-time pass from the start as an export (every instance in this host)",
        );
        if arm.changed() {
            overview::arm_every_instance(armed);
        }
        arm.on_hover_text(
            "Offline exports are always saved. A pass played in real time from the start is taken for listening unless armed here; the arm lasts for one export.",
        );
        ui.horizontal(|ui| {
            ui.label("An armed real-time pass counts as an export after");
            if let Ok(mut min_s) = self.params.report_min_s.write() {
                ui.add(
                    egui::DragValue::new(&mut *min_s)
                        .range(1.0..=600.0)
                        .suffix(" s"),
                );
            }
        });
    }

    /// What the last pass was (export, playback or part of the song), and what it found when
    /// nothing was saved: listening is never written to disk.
    fn last_pass(&self, ui: &mut egui::Ui) {
        let saved = self
            .shared
            .reports
            .lock()
            .map_or(true, |log| log.failed.is_none());
        let Some((line, playback, findings)) = self.shared.last_pass().as_ref().map(|pass| {
            let unsaved = (pass.kind != PassKind::Export).then(|| pass.findings());
            (
                pass.outcome_line(saved),
                pass.kind == PassKind::Playback,
                unsaved.unwrap_or_default(),
            )
        }) else {
            return;
        };
        ui.label(format!("Last pass: {line}"));
        for finding in findings {
            ui.label(format!("  • {finding}"));
        }
        if playback {
            ui.label(
                RichText::new(
                    "Exporting in real time? Arm the next pass below before you start it, and its report and the delivery note are written.",
                )
                .weak(),
            );
        }
    }

    /// Every instance in this host (and in other processes of this user): one glance before
    /// pressing export. Then where the last delivery note went.
    pub(super) fn overview(&mut self, ui: &mut egui::Ui) {
        let rows = overview::rows();
        egui::CollapsingHeader::new(format!("All instances ({})", rows.len()))
            .default_open(true)
            .show(ui, |ui| {
                // One light, name and peak per row; the rest on hover.
                egui::Grid::new("overview")
                    .striped(true)
                    .spacing(egui::vec2(10.0, 2.0))
                    .show(ui, |ui| {
                        for row in rows.iter() {
                            let details = row_details(row);
                            let (spot, light) = ui
                                .allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                            ui.painter()
                                .circle_filled(spot.center(), 5.0, light_colour(row.light));
                            light.on_hover_text(&details);
                            let mut name = row.name.clone();
                            if row.master {
                                name += " (mix)";
                            }
                            ui.label(name).on_hover_text(&details);
                            ui.label(format!("{} dBFS", format_db(row.sample_peak_dbfs)))
                                .on_hover_text(&details);
                            ui.end_row();
                        }
                    });
            });
        let Some(note) = overview::last_note() else {
            return;
        };
        match &note.written {
            Ok(path) => {
                ui.label(format!("Delivery note: {}", path.display()));
            }
            Err(error) => {
                status_box(
                    ui,
                    light_colour(Light::Clipped),
                    "Delivery note not saved",
                    16.0,
                    |ui| {
                        ui.label(format!(
                            "{error}. The note is kept here: fix the report folder and retry, or copy it."
                        ));
                        ui.horizontal(|ui| {
                            if ui.button("Retry").clicked() {
                                overview::retry_note();
                            }
                            if ui.button("Copy note").clicked() {
                                ui.ctx().copy_text(note.text.clone());
                            }
                        });
                    },
                );
            }
        }
    }
}

/// What a row of the overview says on hover.
fn row_details(row: &InstanceRow) -> String {
    format!(
        "True peak {} dBTP\nClips: {}\nLimiter: {}\nLast pass: {}\n{}",
        format_db(row.true_peak_dbtp).trim(),
        row.clips,
        row.limiter,
        row.last_pass.as_deref().unwrap_or("none yet"),
        if row.elsewhere {
            "In another plugin process of this host"
        } else {
            "In this host process"
        }
    )
}
