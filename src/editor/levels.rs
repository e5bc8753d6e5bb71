//! The level meters and the clips found so far.

use egui::{Color32, RichText};
use std::sync::atomic::Ordering;

use super::ballistics::PeakDisplay;
use super::meter_bar;
use super::widgets::format_db;
use super::StemApp;
use crate::analysis::{gain_to_db, to_tenth};
use crate::channel_name::channel_name;
use crate::plugin::clip_notice::{ClipNotice, MAX_CHANNELS};
use crate::plugin::instance_row::HeldPeaks;
use crate::plugin::params::BusRole;

impl StemApp {
    pub(super) fn meters(&mut self, ui: &mut egui::Ui) {
        let thresholds = self.params.thresholds();
        let count = self.channel_count();
        for channel in 0..count {
            let label = channel_name(channel, count)[..1].to_uppercase();
            let meter = &self.shared.channels[channel];
            let clipped = meter.clip_events.load(Ordering::Relaxed) > 0;
            ui.horizontal(|ui| {
                ui.label(RichText::new(label).monospace());
                meter_bar::draw(
                    ui,
                    &self.sample[channel],
                    &self.true_peak[channel],
                    (thresholds.target_dbfs, thresholds.warning_dbfs),
                    clipped,
                )
                .on_hover_text(if clipped {
                    "This channel clipped. The light stays on until Reset or the next pass."
                } else {
                    "Lights red when this channel clips, and stays on until Reset."
                });
            });
        }
        ui.horizontal(|ui| {
            // Under the bars, past the channel letters.
            ui.label(RichText::new(" ").monospace());
            meter_bar::draw_scale(ui);
        });
        for channel in 0..count {
            let label = channel_name(channel, count)[..1].to_uppercase();
            let meter = &self.shared.channels[channel];
            let max_sample = gain_to_db(meter.max_sample_peak.load(Ordering::Relaxed));
            let max_true = gain_to_db(meter.max_true_peak.load(Ordering::Relaxed));
            ui.label(
                RichText::new(format!(
                    "{label}  now {} dBFS  {} dBTP     max {} dBFS  {} dBTP",
                    format_db(self.sample[channel].level_db),
                    format_db(self.true_peak[channel].level_db),
                    format_db(max_sample),
                    format_db(max_true),
                ))
                .monospace(),
            );
        }
        ui.horizontal(|ui| {
            ui.label(RichText::new(self.loudness_line()).monospace());
            let reset = ui.button("Reset").on_hover_text(
                "Clear the maximum peaks, the clip lights, the timeline and the loudness",
            );
            if reset.clicked() {
                self.reset();
            }
        });
    }

    fn reset(&mut self) {
        self.shared.reset_requested.store(true, Ordering::Release);
        self.last_clip = None;
        self.sample = [PeakDisplay::default(); MAX_CHANNELS];
        self.true_peak = [PeakDisplay::default(); MAX_CHANNELS];
    }

    /// "   short-term -14.2 LUFS   integrated -13.8 LUFS   PLR 12.6 dB", and on the master
    /// the loudness range.
    fn loudness_line(&self) -> String {
        let reading = self.shared.loudness.read();
        let lufs = |v: f32| {
            if v.is_finite() {
                format!("{v:.1} LUFS")
            } else {
                "— LUFS".to_owned()
            }
        };
        let mut line = format!(
            "   short-term {}   integrated {}",
            lufs(reading.short_term_lufs),
            lufs(reading.integrated_lufs.unwrap_or(f32::NEG_INFINITY))
        );
        if let Some(integrated) = reading.integrated_lufs {
            let plr = HeldPeaks::of(&self.shared).true_peak_dbtp - integrated;
            line += &format!("   PLR {:.1} dB", to_tenth(plr.into()));
        }
        if self.params.role.value() == BusRole::Master {
            if let Some(range) = reading.range_lu {
                line += &format!("   LRA {range:.1} LU");
            }
        }
        line
    }

    pub(super) fn clips(&mut self, ui: &mut egui::Ui) {
        let total = HeldPeaks::of(&self.shared).clips;
        let dropped = self.shared.dropped_clip_notices.load(Ordering::Relaxed);
        let text = match (&self.last_clip, total) {
            (_, 0) => "Clips: none".to_owned(),
            (Some(notice), _) => format!(
                "Clips: {total}. Last: {}",
                describe_clip(notice, self.channel_count())
            ),
            (None, _) => format!("Clips: {total}"),
        };
        let colour = if total > 0 {
            Color32::from_rgb(230, 40, 40)
        } else {
            ui.visuals().text_color()
        };
        ui.label(RichText::new(text).color(colour));
        if dropped > 0 {
            ui.label(format!(
                "{dropped} clip positions were not listed (too many at once); the count above is exact."
            ));
        }
    }
}

/// "1:23.456 (bar 12, beat 3.00), right channel, 4 samples at full scale".
fn describe_clip(notice: &ClipNotice, channels: usize) -> String {
    use crate::analysis::ClipKind;
    let event = notice.event;
    let channel = if channels > 1 {
        format!(", {}", channel_name(usize::from(event.channel), channels))
    } else {
        String::new()
    };
    let what = match event.kind {
        ClipKind::Sample => format!("{} samples at full scale", event.length_samples),
        ClipKind::TruePeak => format!("true peak {:+.1} dBTP", gain_to_db(event.peak)),
        ClipKind::FlatTop => format!(
            "flat top of {} samples at {:.1} dBFS (clipped before this plugin)",
            event.length_samples,
            gain_to_db(event.peak)
        ),
    };
    format!("{}{channel}, {what}", notice.position.describe())
}
