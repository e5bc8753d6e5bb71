//! The verdict at the top of the editor: the status light with its advice, and the limiter.

use egui::{Color32, RichText};
use std::sync::atomic::Ordering;

use super::widgets::{light_colour, status_box};
use super::StemApp;
use crate::analysis::LimiterVerdict;
use crate::plugin::instance_row::{HeldPeaks, Light};
use crate::plugin::params::BusRole;

impl StemApp {
    pub(super) fn status(&mut self, ui: &mut egui::Ui) {
        let thresholds = self.params.thresholds();
        let peaks = HeldPeaks::of(&self.shared);
        let name = self
            .params
            .display_name(self.shared.track_name().as_deref());
        let status = peaks.status(thresholds);
        let colour = light_colour(Light::of(status));
        let (label, advice) = match status {
            None => (
                "No signal yet",
                "Play the song or start the export: the peaks are measured as audio passes."
                    .to_owned(),
            ),
            Some(status) => (
                status.label(),
                status.advice(
                    &name,
                    peaks.sample_peak_dbfs,
                    peaks.true_peak_dbtp,
                    thresholds,
                ),
            ),
        };
        // Readable from across the room: the state large, the fix in words below it.
        status_box(ui, colour, label, 30.0, |ui| {
            ui.label(RichText::new(advice).size(16.0));
            let non_finite: u64 = self.shared.channels[..self.channel_count()]
                .iter()
                .map(|c| c.non_finite_samples.load(Ordering::Relaxed))
                .sum();
            if non_finite > 0 {
                ui.label(
                        RichText::new(format!(
                            "{non_finite} invalid (NaN or infinite) samples reached this bus: a plugin before this one is misbehaving. Find it and replace or reset it before exporting."
                        ))
                        .color(Color32::from_rgb(230, 40, 40)),
                    );
            }
        });
    }

    /// The limiter warning: prominent on the master, a note on a stem bus, with the numbers
    /// behind it on demand.
    pub(super) fn limiter(&mut self, ui: &mut egui::Ui) {
        let Some(evidence) = self.shared.limiter.read() else {
            return;
        };
        let master = self.params.role.value() == BusRole::Master;
        let found = evidence.verdict >= LimiterVerdict::Likely;
        if found && master {
            let colour = Color32::from_rgb(240, 140, 20);
            status_box(ui, colour, "Limiter on the master", 22.0, |ui| {
                ui.label(evidence.explanation());
            });
        } else if found {
            ui.label(format!(
                "Note: {} (A limiter on a group bus may be intended; the master must have none.)",
                evidence.explanation()
            ));
        } else {
            ui.label(RichText::new(evidence.explanation()).weak());
        }
        egui::CollapsingHeader::new("Limiter evidence").show(ui, |ui| {
            ui.label(format!(
                "Loud material: {:.0} s. Ceiling {:.2} dBFS. Loud passages within 0.3 dB of it: {:.0} %. Within 0.1 dB of the highest peak: {:.0} %. Loudness range: {:.0} dB.",
                evidence.loud_seconds,
                evidence.ceiling_dbfs,
                evidence.pinned_share * 100.0,
                evidence.top_share * 100.0,
                evidence.loudness_range_db
            ));
        });
    }
}
