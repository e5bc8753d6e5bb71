//! The egui editor: reads the shared meter state and parameters, never touches DSP.

mod ballistics;
mod levels;
mod meter_bar;
mod reports;
mod verdict;
mod widgets;

use egui::RichText;
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

use crate::analysis::gain_to_db;
use crate::plugin::clip_notice::{ClipNotice, MAX_CHANNELS};
use crate::plugin::params::{BusRole, StemPreflightParams};
use crate::plugin::shared::MeterShared;
use ballistics::PeakDisplay;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{db_to_gain, ClipEvent, ClipKind, LimiterVerdict};
    use crate::plugin::overview;
    use crate::plugin::shared::FailedReport;
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
    fn loudness_is_shown_with_the_plr_and_on_the_master_the_range() {
        let (mut app, shared) = app();
        shared.channels[0]
            .max_true_peak
            .store(db_to_gain(-1.0), Ordering::Relaxed);
        shared.loudness.publish(&crate::analysis::Loudness {
            integrated_lufs: Some(-13.8),
            range_lu: Some(7.0),
            max_momentary_lufs: -10.0,
            max_short_term_lufs: -12.0,
            momentary_lufs: -14.5,
            short_term_lufs: -14.2,
        });
        let texts = texts_of_frame(&mut app).join("\n");
        assert!(
            texts.contains("short-term -14.2 LUFS   integrated -13.8 LUFS   PLR 12.8 dB"),
            "{texts}"
        );
        assert!(
            !texts.contains("LRA"),
            "a stem shows no loudness range: {texts}"
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
