//! The egui editor: reads the shared meter state and parameters, never touches DSP.

mod ballistics;
mod levels;
mod meter_bar;
mod pass_timeline;
mod reports;
mod verdict;
mod widgets;

use egui::RichText;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::resizable_window::ResizableWindow;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, NiceEguiApp, RepaintNotifier,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::analysis::gain_to_db;
use crate::plugin::clip_notice::{ClipNotice, MAX_CHANNELS};
use crate::plugin::params::{BusRole, StemPreflightParams, EDITOR_SIZE};
use crate::plugin::pass_strip::StripPicture;
use crate::plugin::shared::MeterShared;
use ballistics::PeakDisplay;

/// The editor type the plugin exports.
pub type StemEditor = EguiEditor<StemApp>;

/// Environment variable with the editor's zoom (1 = 100 %), for screens whose scale the host
/// does not pass on.
pub const ZOOM_VAR: &str = "STEM_PREFLIGHT_EDITOR_ZOOM";
/// The smallest the window may be made, points: everything still fits, the middle scrolls.
const MIN_SIZE: egui::Vec2 = egui::vec2(480.0, 420.0);

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
    // The saved size is not loaded yet (the host restores state after this); the window asks
    // for it when it opens.
    let (width, height) = EDITOR_SIZE;
    let settings = nice_plug_egui::EguiNiceSettings {
        resize_hint: ResizeHint::resizable()
            .with_min_logical_size(LogicalSize::new(MIN_SIZE.x, MIN_SIZE.y)),
        ..nice_plug_egui::EguiNiceSettings::default()
    };
    create_egui_editor(
        EguiEditorState::from_size(LogicalSize::new(f64::from(width), f64::from(height)), zoom),
        repaint.clone(),
        settings,
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
    /// The pass timeline as last read whole.
    strip: StripPicture,
    /// The window has just opened: ask for the size the user left it at.
    restore_size: bool,
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
        self.restore_size = true;
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
            strip: StripPicture::default(),
            restore_size: true,
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
        self.follow_size(ui);

        // Header and thresholds always in view; the middle scrolls when the window is small.
        ResizableWindow::new("stem-preflight")
            .min_size(MIN_SIZE)
            .show(ui, |ui| {
                egui::Panel::top("header").show(ui, |ui| self.header(ui));
                egui::Panel::bottom("thresholds").show(ui, |ui| self.settings(ui));
                egui::CentralPanel::default().show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .auto_shrink(false)
                        .show(ui, |ui| self.sections(ui));
                });
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
        self.status(ui);
        self.limiter(ui);
        ui.separator();
        self.meters(ui);
        self.pass_timeline(ui);
        self.clips(ui);
        ui.separator();
        self.overview(ui);
        ui.separator();
        self.reports(ui);
    }

    /// Asks once for the size the user left the window at, then remembers each new size.
    fn follow_size(&mut self, ui: &egui::Ui) {
        let now = ui.ctx().content_rect().size();
        let saved = self
            .params
            .editor_size
            .read()
            .map_or(EDITOR_SIZE, |size| *size);
        let saved = egui::vec2(saved.0, saved.1).max(MIN_SIZE);
        if std::mem::take(&mut self.restore_size) {
            if (saved - now).length() > 1.0 {
                ui.ctx()
                    .send_viewport_cmd(egui::ViewportCommand::InnerSize(saved));
            }
        } else if (saved - now).length() > 1.0 {
            if let Ok(mut size) = self.params.editor_size.write() {
                *size = (now.x, now.y);
            }
        }
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
        ui.horizontal_wrapped(|ui| {
            ui.label("Target peak");
            ui.add(
                ParamSlider::for_param(&self.params.target_peak_dbfs, &setter).with_width(110.0),
            );
            ui.add_space(8.0);
            ui.label("Warn above");
            ui.add(
                ParamSlider::for_param(&self.params.warning_peak_dbfs, &setter).with_width(110.0),
            );
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

    /// Draws one frame in a window of `size` points and returns its output.
    fn frame_of_size(app: &mut StemApp, size: egui::Vec2) -> egui::FullOutput {
        let ctx = egui::Context::default();
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
            ..egui::RawInput::default()
        };
        ctx.run_ui(input, |ui| app.draw(ui))
    }

    /// Every shape of a frame, nested ones included.
    fn shapes(output: &egui::FullOutput) -> Vec<egui::Shape> {
        fn flatten(shape: &egui::Shape, into: &mut Vec<egui::Shape>) {
            match shape {
                egui::Shape::Vec(inner) => inner.iter().for_each(|s| flatten(s, into)),
                other => into.push(other.clone()),
            }
        }
        let mut all = Vec::new();
        for clipped in &output.shapes {
            flatten(&clipped.shape, &mut all);
        }
        all
    }

    /// The text of every text shape.
    fn texts_of(shapes: &[egui::Shape]) -> Vec<String> {
        shapes
            .iter()
            .filter_map(|s| match s {
                egui::Shape::Text(text) => Some(text.galley.text().to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_meters_read_on_a_db_scale_and_light_per_channel_on_a_clip() {
        let (mut app, shared) = app();
        shared.channels[1].clip_events.store(1, Ordering::Relaxed);
        let output = frame_of_size(&mut app, egui::vec2(640.0, 660.0));
        let all = shapes(&output);
        let texts = texts_of(&all);
        for label in [
            "-60", "-40", "-30", "-20", "-12", "-9", "-6", "-3", "0", "+3",
        ] {
            assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
        }
        // The right channel's light is lit, the left one's is not.
        let lights: Vec<egui::Color32> = all
            .iter()
            .filter_map(|s| match s {
                egui::Shape::Circle(c)
                    if c.radius == 7.0 && c.fill != egui::Color32::TRANSPARENT =>
                {
                    Some(c.fill)
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            lights,
            [egui::Color32::from_gray(55), meter_bar::RED],
            "{lights:?}"
        );
        output.drop_without_applying_deltas();
    }

    #[test]
    fn the_timeline_marks_each_clip_where_it_happened() {
        use crate::plugin::pass_strip::{StripPen, STRIP_COLUMNS};
        let (mut app, shared) = app();
        // 30 s at 48 kHz in blocks of 480, a clip at 2 s and an over at 10 s.
        let mut pen = StripPen::new(48_000.0);
        pen.restart(&shared.strip);
        let start = TimelinePosition {
            seconds: 60.0,
            from_host: true,
            bar_beat: None,
        };
        for block in 0..3000u64 {
            pen.advance(&shared.strip, 480, start);
            pen.raise(&shared.strip, 480, 0.5);
            let at = |s: f64| TimelinePosition {
                seconds: 60.0 + s,
                from_host: true,
                bar_beat: None,
            };
            if block == 200 {
                pen.mark(&shared.strip, 96_000, ClipKind::Sample, at(2.0));
            }
            if block == 1000 {
                pen.mark(&shared.strip, 480_000, ClipKind::TruePeak, at(10.0));
            }
        }
        let output = frame_of_size(&mut app, egui::vec2(640.0, 660.0));
        let all = shapes(&output);
        let strip = all
            .iter()
            .find_map(|s| match s {
                egui::Shape::Rect(r) if r.fill == pass_timeline::BACKGROUND => Some(r.rect),
                _ => None,
            })
            .expect("the strip is drawn");
        let markers: Vec<(f32, egui::Color32)> = all
            .iter()
            .filter_map(|s| match s {
                egui::Shape::LineSegment { points, stroke }
                    if points[0].x == points[1].x
                        && (points[1].y - points[0].y).abs() == strip.height()
                        && stroke.width == 2.0 =>
                {
                    Some((points[0].x, stroke.color))
                }
                _ => None,
            })
            .collect();
        let expected_x = |seconds: f32| {
            let column = (seconds / 0.1) as usize;
            strip.left() + (column as f32 + 0.5) * strip.width() / STRIP_COLUMNS as f32
        };
        assert_eq!(markers.len(), 2, "{markers:?}");
        assert!((markers[0].0 - expected_x(2.0)).abs() < 0.01, "{markers:?}");
        assert_eq!(markers[0].1, meter_bar::RED);
        assert!(
            (markers[1].0 - expected_x(10.0)).abs() < 0.01,
            "{markers:?}"
        );
        assert_eq!(markers[1].1, meter_bar::ORANGE);
        let texts = texts_of(&all);
        // The span: from the pass's start to where 480 columns of 0.1 s end.
        assert!(texts.iter().any(|t| t == "1:00.000"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "1:48.000"), "{texts:?}");
        output.drop_without_applying_deltas();
    }

    #[test]
    fn the_window_asks_for_the_size_it_was_left_at_and_remembers_a_new_one() {
        let (mut app, _) = app();
        *app.params.editor_size.write().unwrap() = (720.0, 700.0);
        let output = frame_of_size(&mut app, egui::vec2(640.0, 660.0));
        let commands = &output.viewport_output[&egui::ViewportId::ROOT].commands;
        assert!(
            commands.contains(&egui::ViewportCommand::InnerSize(egui::vec2(720.0, 700.0))),
            "{commands:?}"
        );
        output.drop_without_applying_deltas();
        // The user drags the corner: the next session opens at the new size.
        frame_of_size(&mut app, egui::vec2(800.0, 500.0)).drop_without_applying_deltas();
        assert_eq!(*app.params.editor_size.read().unwrap(), (800.0, 500.0));
    }

    #[test]
    fn silence_says_what_to_do() {
        let (mut app, _) = app();
        let texts = texts_of_frame(&mut app);
        assert!(texts.iter().any(|t| t == "No signal yet"), "{texts:?}");
    }

    #[test]
    fn the_overview_lists_every_instance_in_the_process() {
        let _turn = overview::registry_to_myself();
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
