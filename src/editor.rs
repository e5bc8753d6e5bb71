//! The egui editor: reads the shared meter state and parameters, never touches DSP.

mod ballistics;
mod meter_bar;

use egui::{Color32, RichText};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, NiceEguiApp, RepaintNotifier,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::analysis::{gain_to_db, HeadroomStatus, LimiterVerdict};
use crate::channel_name::channel_name;
use crate::plugin::clip_notice::{ClipNotice, MAX_CHANNELS};
use crate::plugin::overview::{self, Light};
use crate::plugin::params::{BusRole, StemPreflightParams};
use crate::plugin::report;
use crate::plugin::shared::{FailedReport, MeterShared};
use ballistics::{PeakDisplay, FLOOR_DB};

/// The editor type the plugin exports.
pub type StemEditor = EguiEditor<StemApp>;

const WIDTH: f32 = 540.0;
/// Environment variable with the editor's zoom (1 = 100 %), for screens whose scale the host
/// does not pass on.
pub const ZOOM_VAR: &str = "STEM_PREFLIGHT_EDITOR_ZOOM";
const HEIGHT: f32 = 560.0;

/// Builds the editor. Called once per plugin instance.
pub fn create(
    params: Arc<StemPreflightParams>,
    shared: Arc<MeterShared>,
    repaint: RepaintNotifier,
) -> Option<StemEditor> {
    let zoom = std::env::var(ZOOM_VAR)
        .ok()
        .and_then(|z| z.trim().parse::<f32>().ok())
        .filter(|z| z.is_finite())
        .map_or(1.0, |z| z.clamp(0.5, 4.0));
    create_egui_editor(
        EguiEditorState::from_size(LogicalSize::new(f64::from(WIDTH), f64::from(HEIGHT)), zoom),
        repaint.clone(),
        nice_plug_egui::EguiNiceSettings::default(),
        StemApp::new(params, shared, repaint),
    )
}

/// The editor's own state.
pub struct StemApp {
    params: Arc<StemPreflightParams>,
    shared: Arc<MeterShared>,
    repaint: RepaintNotifier,
    gui: Option<GuiContext>,
    /// The name field's text while the editor is open.
    name_field: Option<String>,
    sample: [PeakDisplay; MAX_CHANNELS],
    true_peak: [PeakDisplay; MAX_CHANNELS],
    last_clip: Option<ClipNotice>,
    last_frame: Option<Instant>,
}

impl NiceEguiApp for StemApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui_context: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::dark());
        self.gui = Some(gui_context);
        self.last_frame = None;
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        self.draw(ui);
    }

    fn editor_closed(&mut self) {
        self.gui = None;
        self.name_field = None;
    }

    fn track_info_changed(&mut self, info: TrackInfo) {
        // Kept with the meters: the reports and the overview name the bus after the track too.
        self.shared.set_track_name(info.name());
    }
}

impl StemApp {
    fn new(
        params: Arc<StemPreflightParams>,
        shared: Arc<MeterShared>,
        repaint: RepaintNotifier,
    ) -> Self {
        Self {
            params,
            shared,
            repaint,
            gui: None,
            name_field: None,
            sample: [PeakDisplay::default(); MAX_CHANNELS],
            true_peak: [PeakDisplay::default(); MAX_CHANNELS],
            last_clip: None,
            last_frame: None,
        }
    }

    /// One frame of the editor.
    fn draw(&mut self, ui: &mut egui::Ui) {
        let now = Instant::now();
        let dt_s = self
            .last_frame
            .map_or(0.0, |last| now.duration_since(last).as_secs_f32().min(0.25));
        self.last_frame = Some(now);
        self.read_meters(dt_s);

        egui::Frame::central_panel(ui.style()).show(ui, |ui| {
            ui.set_min_size(ui.available_size());
            egui::ScrollArea::vertical().show(ui, |ui| self.sections(ui));
        });

        // Keep animating while a bar or hold line is still falling.
        if self
            .sample
            .iter()
            .chain(&self.true_peak)
            .any(PeakDisplay::is_moving)
        {
            self.repaint.request_repaint();
        }
    }

    fn sections(&mut self, ui: &mut egui::Ui) {
        self.header(ui);
        ui.separator();
        self.status(ui);
        self.limiter(ui);
        ui.separator();
        self.meters(ui);
        ui.separator();
        self.clips(ui);
        ui.separator();
        self.reports(ui);
        ui.separator();
        self.overview(ui);
        ui.separator();
        self.settings(ui);
    }

    fn channel_count(&self) -> usize {
        (self.shared.channel_count.load(Ordering::Relaxed) as usize).min(MAX_CHANNELS)
    }

    /// Swaps the read-and-reset peaks once per frame and drains the clip queue.
    fn read_meters(&mut self, dt_s: f32) {
        for channel in 0..MAX_CHANNELS {
            let meter = &self.shared.channels[channel];
            let sample = meter.sample_peak.swap(0.0, Ordering::Relaxed);
            let true_peak = meter.true_peak.swap(0.0, Ordering::Relaxed);
            self.sample[channel].update(gain_to_db(sample), dt_s);
            self.true_peak[channel].update(gain_to_db(true_peak), dt_s);
        }
        while let Some(notice) = self.shared.next_clip() {
            self.last_clip = Some(notice);
        }
    }

    fn max_peak_db(&self) -> (f32, f32) {
        let channels = &self.shared.channels[..self.channel_count()];
        let sample = channels
            .iter()
            .map(|c| c.max_sample_peak.load(Ordering::Relaxed))
            .fold(0.0f32, f32::max);
        let true_peak = channels
            .iter()
            .map(|c| c.max_true_peak.load(Ordering::Relaxed))
            .fold(0.0f32, f32::max);
        (gain_to_db(sample), gain_to_db(true_peak))
    }

    fn clip_total(&self) -> u64 {
        self.shared.channels[..self.channel_count()]
            .iter()
            .map(|c| c.clip_events.load(Ordering::Relaxed))
            .sum()
    }

    fn header(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Stem Preflight").strong());
            ui.label("Name:");
            let params = self.params.clone();
            let track_name = self.shared.track_name();
            let field = self
                .name_field
                .get_or_insert_with(|| params.display_name(track_name.as_deref()));
            let response = ui.add(egui::TextEdit::singleline(field).desired_width(140.0));
            if response.changed() {
                if let Ok(mut name) = params.stem_name.write() {
                    *name = field.trim().to_owned();
                }
            }
            let role = params.role.value();
            let mut chosen = role;
            egui::ComboBox::from_id_salt("role")
                .selected_text(match role {
                    BusRole::Stem => "Stem",
                    BusRole::Master => "Reference mix",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut chosen, BusRole::Stem, "Stem (group bus)");
                    ui.selectable_value(&mut chosen, BusRole::Master, "Reference mix (master)");
                });
            if chosen != role {
                if let Some(gui) = &self.gui {
                    let setter = gui.param_setter();
                    setter.begin_set_parameter(&params.role);
                    setter.set_parameter(&params.role, chosen);
                    setter.end_set_parameter(&params.role);
                }
            }
        });
    }

    fn status(&mut self, ui: &mut egui::Ui) {
        let thresholds = self.params.thresholds();
        let (sample_db, true_peak_db) = self.max_peak_db();
        let peak_db = sample_db.max(true_peak_db);
        let name = self
            .params
            .display_name(self.shared.track_name().as_deref());
        let (colour, label, advice) = if peak_db <= crate::analysis::level::SILENCE_DB {
            (
                light_colour(Light::NoSignal),
                "No signal yet",
                "Play the song or start the export: the peaks are measured as audio passes."
                    .to_owned(),
            )
        } else {
            let status =
                HeadroomStatus::assess(sample_db, true_peak_db, self.clip_total() > 0, thresholds);
            (
                light_colour(Light::of(status)),
                status.label(),
                status.advice(&name, sample_db, true_peak_db, thresholds),
            )
        };
        status_box(ui, colour, label, 20.0, |ui| {
            ui.label(advice);
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
    fn limiter(&mut self, ui: &mut egui::Ui) {
        let Some(evidence) = self.shared.limiter.read() else {
            return;
        };
        let master = self.params.role.value() == BusRole::Master;
        let found = evidence.verdict >= LimiterVerdict::Likely;
        if found && master {
            let colour = Color32::from_rgb(240, 140, 20);
            status_box(ui, colour, "Limiter on the master", 16.0, |ui| {
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

    fn meters(&mut self, ui: &mut egui::Ui) {
        let thresholds = self.params.thresholds();
        let count = self.channel_count();
        for channel in 0..count {
            let label = channel_name(channel, count)[..1].to_uppercase();
            let meter = &self.shared.channels[channel];
            let max_sample = gain_to_db(meter.max_sample_peak.load(Ordering::Relaxed));
            let max_true = gain_to_db(meter.max_true_peak.load(Ordering::Relaxed));
            ui.horizontal(|ui| {
                ui.label(RichText::new(label).monospace());
                meter_bar::draw(
                    ui,
                    ui.available_width() - 4.0,
                    &self.sample[channel],
                    &self.true_peak[channel],
                    thresholds.target_dbfs,
                    thresholds.warning_dbfs,
                );
            });
            ui.label(
                RichText::new(format!(
                    "   now {} dBFS  {} dBTP     max {} dBFS  {} dBTP",
                    format_db(self.sample[channel].level_db),
                    format_db(self.true_peak[channel].level_db),
                    format_db(max_sample),
                    format_db(max_true),
                ))
                .monospace(),
            );
        }
        if ui
            .button("Reset")
            .on_hover_text("Clear the maximum peaks and the clip count")
            .clicked()
        {
            self.shared.reset_requested.store(true, Ordering::Release);
            self.last_clip = None;
            self.sample = [PeakDisplay::default(); MAX_CHANNELS];
            self.true_peak = [PeakDisplay::default(); MAX_CHANNELS];
        }
    }

    fn clips(&mut self, ui: &mut egui::Ui) {
        let total = self.clip_total();
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

    /// The last pass report: where it went, or why it could not be saved with a way to retry
    /// or copy it; and the folder reports go to.
    fn reports(&mut self, ui: &mut egui::Ui) {
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
        ui.horizontal(|ui| {
            ui.label("Real-time passes from the start count as exports after");
            if let Ok(mut min_s) = self.params.report_min_s.write() {
                ui.add(
                    egui::DragValue::new(&mut *min_s)
                        .range(1.0..=600.0)
                        .suffix(" s"),
                );
            }
        });
    }

    /// Every instance in this host (and in other processes of this user): one glance before
    /// pressing export. Then where the last delivery note went.
    fn overview(&mut self, ui: &mut egui::Ui) {
        let rows = overview::rows();
        egui::CollapsingHeader::new(format!("All instances ({})", rows.len()))
            .default_open(true)
            .show(ui, |ui| {
                egui::Grid::new("overview").striped(true).show(ui, |ui| {
                    for heading in [
                        "",
                        "Name",
                        "Peak",
                        "True peak",
                        "Clips",
                        "Limiter",
                        "Last pass",
                    ] {
                        ui.label(RichText::new(heading).strong());
                    }
                    ui.end_row();
                    for row in &rows {
                        let (spot, _) =
                            ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                        ui.painter()
                            .circle_filled(spot.center(), 5.0, light_colour(row.light));
                        let mut name = row.name.clone();
                        if row.master {
                            name += " (mix)";
                        }
                        ui.label(name).on_hover_text(if row.elsewhere {
                            "In another plugin process of this host"
                        } else {
                            "In this host process"
                        });
                        ui.label(format!("{} dBFS", format_db(row.sample_peak_dbfs)));
                        ui.label(format!("{} dBTP", format_db(row.true_peak_dbtp)));
                        ui.label(row.clips.to_string());
                        ui.label(&row.limiter);
                        ui.label(row.last_pass.as_ref().map_or_else(
                            || "none yet".to_owned(),
                            |pass| format!("from {}, tail {}", pass.start, pass.tail),
                        ));
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

    fn settings(&mut self, ui: &mut egui::Ui) {
        let Some(gui) = &self.gui else {
            return;
        };
        let setter = gui.param_setter();
        egui::Grid::new("thresholds").show(ui, |ui| {
            ui.label("Target peak");
            ui.add(ParamSlider::for_param(
                &self.params.target_peak_dbfs,
                &setter,
            ));
            ui.end_row();
            ui.label("Warn above");
            ui.add(ParamSlider::for_param(
                &self.params.warning_peak_dbfs,
                &setter,
            ));
            ui.end_row();
        });
    }
}

/// The colour of a status light.
fn light_colour(light: Light) -> Color32 {
    match light {
        Light::NoSignal => Color32::from_gray(120),
        Light::Ready => Color32::from_rgb(60, 190, 90),
        Light::Acceptable => Color32::from_rgb(220, 200, 40),
        Light::TooHot => Color32::from_rgb(240, 140, 20),
        Light::Clipped => Color32::from_rgb(230, 40, 40),
    }
}

/// A framed, tinted box with a coloured heading: the editor's way of saying "look here".
fn status_box(
    ui: &mut egui::Ui,
    colour: Color32,
    heading: &str,
    heading_size: f32,
    body: impl FnOnce(&mut egui::Ui),
) {
    egui::Frame::new()
        .fill(colour.gamma_multiply(0.25))
        .stroke(egui::Stroke::new(2.0, colour))
        .corner_radius(4.0)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(
                RichText::new(heading)
                    .size(heading_size)
                    .strong()
                    .color(colour),
            );
            body(ui);
        });
}

fn format_db(db: f32) -> String {
    if db <= FLOOR_DB {
        "  -inf".to_owned()
    } else {
        format!("{db:+6.1}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{db_to_gain, ClipEvent, ClipKind};
    use crate::plugin::timeline::{BarBeat, TimelinePosition};

    /// Draws one frame headlessly and returns every piece of text it laid out.
    fn texts_of_frame(app: &mut StemApp) -> Vec<String> {
        let ctx = egui::Context::default();
        let output = ctx.run_ui(egui::RawInput::default(), |ui| app.draw(ui));
        let texts = output
            .shapes
            .iter()
            .filter_map(|clipped| match &clipped.shape {
                egui::Shape::Text(text) => Some(text.galley.text().to_owned()),
                _ => None,
            })
            .collect();
        // No GPU here: the font atlas upload is dropped on purpose.
        output.drop_without_applying_deltas();
        texts
    }

    fn app() -> (StemApp, Arc<MeterShared>) {
        let shared = Arc::new(MeterShared::default());
        let app = StemApp::new(
            Arc::new(StemPreflightParams::default()),
            shared.clone(),
            RepaintNotifier::new(),
        );
        (app, shared)
    }

    #[test]
    fn a_hot_bus_shows_the_fader_move_that_fixes_it() {
        let (mut app, shared) = app();
        shared.set_track_name("Drums");
        // Left channel peaked at -1.2 dBFS: 4.8 dB above the -6 dBFS target.
        shared.channels[0]
            .max_sample_peak
            .store(db_to_gain(-1.2), Ordering::Relaxed);
        shared.channels[0]
            .sample_peak
            .store(db_to_gain(-1.2), Ordering::Relaxed);
        let texts = texts_of_frame(&mut app);
        assert!(texts.iter().any(|t| t == "Too hot"), "{texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.contains("Lower the Drums bus by 4.8 dB")),
            "{texts:?}"
        );
        // The read-and-reset peak was consumed by the frame.
        assert_eq!(shared.channels[0].sample_peak.load(Ordering::Relaxed), 0.0);
    }

    #[test]
    fn a_clip_is_shown_with_its_place_in_the_song() {
        let (mut app, shared) = app();
        shared.channels[1]
            .max_sample_peak
            .store(1.0, Ordering::Relaxed);
        shared.channels[1].clip_events.store(1, Ordering::Relaxed);
        shared.post_clip(ClipNotice {
            event: ClipEvent {
                kind: ClipKind::Sample,
                channel: 1,
                start_sample: 0,
                length_samples: 4,
                peak: 1.0,
            },
            position: TimelinePosition {
                seconds: 83.25,
                from_host: true,
                bar_beat: Some(BarBeat { bar: 42, beat: 3.0 }),
            },
        });
        let texts = texts_of_frame(&mut app);
        assert!(texts.iter().any(|t| t == "Clipped"), "{texts:?}");
        assert!(
            texts.iter().any(|t| t.contains(
                "Clips: 1. Last: 1:23.250 (bar 42, beat 3.00), right, 4 samples at full scale"
            )),
            "{texts:?}"
        );
    }

    #[test]
    fn a_limiter_on_the_master_is_a_prominent_warning_and_a_note_on_a_stem() {
        use crate::analysis::LimiterEvidence;
        let evidence = LimiterEvidence {
            verdict: LimiterVerdict::Certain,
            ceiling_dbfs: -0.3,
            pinned_share: 0.91,
            top_share: 0.4,
            loudness_range_db: 9.0,
            moving_share: 0.9,
            ties_at_top: 12,
            loud_seconds: 60.0,
        };
        let expected = "Peaks pinned at -0.3 dBFS in 91 % of loud passages while loudness varies by 9 dB: a limiter or maximizer is active on this bus. Bypass it before exporting stems and the reference mix.";

        let (mut stem, shared) = app();
        shared.limiter.publish(&evidence);
        let texts = texts_of_frame(&mut stem);
        assert!(
            !texts.iter().any(|t| t == "Limiter on the master"),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("Note: ") && t.contains(expected)),
            "{texts:?}"
        );

        let params = Arc::new(StemPreflightParams {
            role: EnumParam::new("Role", BusRole::Master),
            ..StemPreflightParams::default()
        });
        let mut master = StemApp::new(params, shared, RepaintNotifier::new());
        let texts = texts_of_frame(&mut master);
        assert!(
            texts.iter().any(|t| t == "Limiter on the master"),
            "{texts:?}"
        );
        assert!(texts.iter().any(|t| t == expected), "{texts:?}");
    }

    #[test]
    fn a_report_that_could_not_be_saved_is_shown_with_the_reason() {
        let (mut app, shared) = app();
        shared.reports.lock().unwrap().failed = Some(FailedReport {
            error: "cannot write /read-only/x.json: Permission denied".into(),
            folder: "/read-only".into(),
            base: "x".into(),
            json: "{}".into(),
            text: "report".into(),
        });
        let texts = texts_of_frame(&mut app).join("\n");
        assert!(texts.contains("Report not saved"), "{texts}");
        assert!(texts.contains("Permission denied"), "{texts}");
        assert!(
            texts.contains("Retry") && texts.contains("Copy report"),
            "{texts}"
        );
    }

    #[test]
    fn silence_says_what_to_do() {
        let (mut app, _) = app();
        let texts = texts_of_frame(&mut app);
        assert!(texts.iter().any(|t| t == "No signal yet"), "{texts:?}");
    }

    #[test]
    fn the_overview_lists_every_instance_in_the_process() {
        let named = |name: &str, role: BusRole| {
            let params = StemPreflightParams {
                role: EnumParam::new("Role", role),
                ..StemPreflightParams::default()
            };
            *params.stem_name.write().unwrap() = name.into();
            Arc::new(params)
        };
        let bass = Arc::new(MeterShared::default());
        bass.channels[0]
            .max_sample_peak
            .store(db_to_gain(-12.0), Ordering::Relaxed);
        let mix = Arc::new(MeterShared::default());
        let _bass = overview::register(
            named("Bass", BusRole::Stem),
            bass.clone(),
            RepaintNotifier::new(),
        );
        let _mix = overview::register(named("Mix", BusRole::Master), mix, RepaintNotifier::new());
        let (mut app, _) = app();
        let texts = texts_of_frame(&mut app);
        assert!(texts.iter().any(|t| t == "All instances (2)"), "{texts:?}");
        let bass_row = texts.iter().position(|t| t == "Bass").expect("a Bass row");
        let mix_row = texts
            .iter()
            .position(|t| t == "Mix (mix)")
            .expect("a Mix row");
        assert!(bass_row < mix_row, "the reference mix comes last");
        assert_eq!(texts[bass_row + 1].trim(), "-12.0 dBFS");
    }
}
