//! The nice-plug glue: a pass-through effect that meters every block.

mod clip_filer;
pub mod clip_notice;
pub mod delivery;
pub mod delivery_sheet;
pub mod finished_pass;
pub mod instance_row;
pub mod lossy_handoff;
pub mod loudness_shared;
pub mod overview;
pub mod params;
pub mod pass;
mod pass_bookkeeping;
pub mod pass_strip;
pub mod process_time;
pub mod report;
pub mod report_writer;
pub mod shared;
pub mod status_file;
pub mod test_signal;
pub mod timeline;
mod user_folders;

use nice_plug::prelude::*;
use nice_plug_egui::RepaintNotifier;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::analysis::{ChannelAnalyzer, ClipKind, LimiterDetector, LoudnessMeter, TailMeter};
use crate::editor;
use clip_filer::ClipFiler;
use clip_notice::{ClipNotice, MAX_CHANNELS};
use lossy_handoff::{Detector, DetectorPool};
use params::StemPreflightParams;
use pass::PassTracker;
use pass_strip::StripPen;
use report::REPORTED_CLIPS;
use report_writer::ReportWriter;
use shared::MeterShared;
use timeline::{BlockAnchor, RecentAnchors};

/// The live bars' window: each takes the meter's reading over this long.
const DISPLAY_WINDOW_S: f32 = 0.02;
/// How often the limiter evidence is recomputed and published (it reads a whole histogram).
const LIMITER_UPDATE_S: f32 = 0.5;

/// One instance on one bus.
pub struct StemPreflight {
    params: Arc<StemPreflightParams>,
    shared: Arc<MeterShared>,
    repaint: RepaintNotifier,
    /// One per channel of the active layout; built in `activate`.
    analyzers: Vec<ChannelAnalyzer>,
    /// Limiter detection over all channels; built in `activate`.
    limiter: Option<LimiterDetector>,
    /// Samples since the limiter evidence was last published.
    limiter_samples: u32,
    limiter_interval: u32,
    /// Samples per channel since activation or reset.
    stream_samples: u64,
    /// Where the recent blocks sat on the timeline: places each clip from the block it began in.
    anchors: RecentAnchors,
    /// Samples since the true-peak display window was last restarted.
    window_samples: u32,
    window_length: u32,
    /// Export passes.
    pass: PassTracker,
    /// Where the pass timeline has got to; rebuilt in `activate`.
    strip: StripPen,
    /// Whether the pass ends while the audio still sounds; built in `activate`.
    tail: Option<TailMeter>,
    /// Loudness of the pass; built in `activate`.
    loudness: Option<LoudnessMeter>,
    /// Lossy origin of the pass: the detector in use (with the report writer after a pass),
    /// and the spare.
    lossy: Option<Detector>,
    detectors: DetectorPool,
    /// The first clips of the current pass, with positions.
    pass_clips: [Option<ClipNotice>; REPORTED_CLIPS],
    /// Ends of passes go to this instance's report writer thread.
    reports: Option<ReportWriter>,
    /// This instance's place in the overview of all instances; joined at first activation.
    overview: Option<overview::Registration>,
    /// The standalone build's known signal (see [`test_signal`]) and where it is in its loop.
    #[cfg(feature = "standalone")]
    test_signal: Option<(Vec<f32>, usize)>,
}

impl Default for StemPreflight {
    fn default() -> Self {
        Self {
            params: Arc::new(StemPreflightParams::default()),
            shared: Arc::new(MeterShared::default()),
            repaint: RepaintNotifier::new(),
            analyzers: Vec::new(),
            limiter: None,
            limiter_samples: 0,
            limiter_interval: 24_000,
            stream_samples: 0,
            anchors: RecentAnchors::default(),
            window_samples: 0,
            window_length: 960,
            pass: PassTracker::default(),
            strip: StripPen::new(48_000.0),
            tail: None,
            loudness: None,
            lossy: None,
            detectors: DetectorPool::default(),
            pass_clips: [None; REPORTED_CLIPS],
            reports: None,
            overview: None,
            #[cfg(feature = "standalone")]
            test_signal: None,
        }
    }
}

impl Plugin for StemPreflight {
    const NAME: &'static str = "Stem Preflight";
    const VENDOR: &'static str = "Stem Preflight";
    const URL: &'static str = "https://crates.io/crates/nice-plug";
    const EMAIL: &'static str = "stem-preflight@localhost";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.shared.clone(),
            self.repaint.clone(),
        )
    }

    type Editor = editor::StemEditor;

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let channels = audio_io_layout
            .main_input_channels
            .map_or(0, NonZeroU32::get)
            .min(MAX_CHANNELS as u32);
        if self.analyzers.len() != channels as usize {
            self.analyzers = (0..channels as u16).map(ChannelAnalyzer::new).collect();
        }
        self.window_length = (buffer_config.sample_rate * DISPLAY_WINDOW_S).max(1.0) as u32;
        self.limiter_interval = (buffer_config.sample_rate * LIMITER_UPDATE_S).max(1.0) as u32;
        self.limiter = Some(LimiterDetector::new(buffer_config.sample_rate));
        self.tail = Some(TailMeter::new(buffer_config.sample_rate));
        self.loudness = Some(LoudnessMeter::new(
            f64::from(buffer_config.sample_rate),
            channels as usize,
        ));
        self.detectors
            .prepare(&mut self.lossy, buffer_config.sample_rate.round() as u32);
        self.start_report_writer();
        if self.overview.is_none() {
            self.overview = Some(overview::register(
                self.params.clone(),
                self.shared.clone(),
                self.repaint.clone(),
            ));
        }
        self.strip = StripPen::new(f64::from(buffer_config.sample_rate));
        self.pass
            .activated(buffer_config.process_mode == ProcessMode::Offline);
        // Whatever came before this activation is not part of what comes after it.
        self.clear_measurements();
        #[cfg(feature = "standalone")]
        {
            let setting = std::env::var(test_signal::TEST_SIGNAL_VAR).ok();
            let setting = setting.as_deref().and_then(test_signal::parse_setting);
            if let Some((_, Some(name))) = &setting {
                if let Ok(mut stem_name) = self.params.stem_name.write() {
                    *stem_name = name.clone();
                }
            }
            self.test_signal =
                setting.map(|(signal, _)| (signal.render(buffer_config.sample_rate), 0));
        }
        self.shared.channel_count.store(channels, Ordering::Relaxed);
        self.shared
            .sample_rate
            .store(buffer_config.sample_rate, Ordering::Relaxed);
        true
    }

    /// A pass still open at deactivation ends here.
    fn deactivate(&mut self) {
        if let Some(pass) = self.pass.finish() {
            self.finish_pass_measurements();
            self.send_report(pass);
            self.restart_streams();
        }
        self.shared.mark_pass_closed();
    }

    /// Keeps the measurements. nice-plug calls this whenever the host starts processing, and
    /// hosts call it on seeks or, hostile ones, before every block; a meter that forgot the
    /// pass's peaks each time would report only the last block. The audio passes through with
    /// no state to clear. Measurements restart with each pass and with the editor's Reset.
    fn reset(&mut self) {}

    /// Meters the block and leaves the audio untouched. Never allocates, locks or blocks.
    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        if self.shared.reset_requested.swap(false, Ordering::AcqRel) {
            self.clear_measurements();
        }
        let frames = buffer.samples();
        // NOTE: deliberately breaks the real-time rule, only in the test suite's negative control.
        #[cfg(feature = "alloc_canary")]
        std::hint::black_box(Box::new(frames));
        if frames == 0 {
            return ProcessStatus::Normal;
        }
        #[cfg(feature = "standalone")]
        if let Some((signal, at)) = &mut self.test_signal {
            for mut frame in buffer.iter_samples() {
                for sample in frame.iter_mut() {
                    *sample = signal[*at];
                }
                *at = (*at + 1) % signal.len();
            }
        }
        let transport = context.transport();
        let anchor = BlockAnchor::from_transport(transport, self.stream_samples);
        self.follow_pass(frames as u32, anchor, transport);
        // A pass that ended or began here restarted the stream count: place this block anew.
        let anchor = BlockAnchor::from_transport(transport, self.stream_samples);
        self.anchors.push(anchor);
        // The timeline follows the song: it stops with the transport and keeps the last pass.
        let drawing = self.pass.current().is_some()
            || transport.playing
            || !timeline::has_transport(transport);
        if drawing {
            self.strip.advance(
                &self.shared.strip,
                frames as u64,
                self.anchors.position_of(self.stream_samples),
            );
        }
        let restart_window = self.window_samples + frames as u32 >= self.window_length;
        let shared = &*self.shared;
        let mut changed = false;
        let mut filer = ClipFiler {
            shared,
            anchors: &self.anchors,
            pass_clips: &mut self.pass_clips,
            strip: drawing.then_some(&self.strip),
            stream_end: self.stream_samples + frames as u64,
        };
        let mut block_peak_all = 0.0f32;

        for ((channel, samples), analyzer) in buffer
            .as_slice_immutable()
            .iter()
            .enumerate()
            .zip(self.analyzers.iter_mut())
        {
            let meter = &shared.channels[channel];
            let mut clips = 0u64;
            let mut flat_tops = 0u64;
            let block_peak = analyzer.process(samples, |event| {
                clips += 1;
                if event.kind == ClipKind::FlatTop {
                    flat_tops += 1;
                }
                filer.file(event);
            });
            block_peak_all = block_peak_all.max(block_peak);
            let true_peak = if restart_window {
                analyzer.take_true_peak_window()
            } else {
                analyzer.true_peak_window()
            };

            meter.sample_peak.fetch_max(block_peak, Ordering::Relaxed);
            meter.true_peak.fetch_max(true_peak, Ordering::Relaxed);
            // Maxima only grow until a clear: the analyzers start a new stream at a pass's end.
            meter
                .max_sample_peak
                .fetch_max(analyzer.max_sample_peak(), Ordering::Relaxed);
            meter
                .max_true_peak
                .fetch_max(analyzer.max_true_peak(), Ordering::Relaxed);
            if clips > 0 {
                meter.clip_events.fetch_add(clips, Ordering::Relaxed);
                meter
                    .flat_top_events
                    .fetch_add(flat_tops, Ordering::Relaxed);
            }
            meter
                .non_finite_samples
                .fetch_max(analyzer.non_finite_samples(), Ordering::Relaxed);
            changed |= block_peak > 0.0 || true_peak > 0.0 || clips > 0;
        }

        if let Some(loudness) = &mut self.loudness {
            loudness.process(buffer.as_slice_immutable());
            let now = loudness.loudness_now();
            shared.loudness.publish_levels(now.0, now.1);
        }
        if let Some(limiter) = &mut self.limiter {
            limiter.process(buffer.as_slice_immutable());
            self.limiter_samples += frames as u32;
            if self.limiter_samples >= self.limiter_interval {
                self.limiter_samples = 0;
                shared.limiter.publish(&limiter.evidence());
                if let Some(loudness) = &self.loudness {
                    shared.loudness.publish(&loudness.loudness());
                }
                changed = true;
            }
        }

        if let Some(tail) = &mut self.tail {
            tail.process(buffer.as_slice_immutable());
        }
        if let Some(lossy) = &mut self.lossy {
            lossy.process(buffer.as_slice_immutable());
        }
        if drawing {
            self.strip
                .raise(&self.shared.strip, frames as u64, block_peak_all);
        }
        self.stream_samples += frames as u64;
        self.window_samples = if restart_window {
            0
        } else {
            self.window_samples + frames as u32
        };
        // The meters move only while there is signal; silence needs no repaint.
        if changed {
            self.repaint.request_repaint();
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for StemPreflight {
    const CLAP_ID: &'static str = "audio.stem-preflight.meter";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Checks peaks, true peaks, clips and headroom on each bus before you export stems");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Utility,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for StemPreflight {
    /// Never change: hosts identify saved instances by it.
    const VST3_CLASS_ID: [u8; 16] = *b"StemPreflightMtr";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Analyzer,
        Vst3SubCategory::Tools,
    ];
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::HeadroomThresholds;
    use crate::plugin::finished_pass::FinishedPass;
    use crate::plugin::pass::PassTiming;
    use crate::plugin::report::{PassKind, PassMeasurements};
    use crate::plugin::report_writer::write_pass_report;
    use crate::plugin::timeline::TimelinePosition;
    use std::time::Instant;

    /// A pass report with a sample peak of -6 dBFS on both channels.
    pub(crate) fn export(
        offline: bool,
        from_project_start: bool,
        seconds: f64,
    ) -> PassMeasurements {
        let plugin = StemPreflight::default();
        let mut report = plugin.pass_report(PassTiming {
            start: TimelinePosition {
                seconds: 0.0,
                from_host: true,
                bar_beat: None,
            },
            from_project_start,
            frames: (seconds * 48_000.0) as u64,
            sample_rate: 48_000.0,
            tempo_bpm: None,
            time_signature: None,
            offline,
            began_at: Instant::now(),
            last_block_at: Instant::now(),
        });
        report.channels = 2;
        report.sample_peak = [0.5; MAX_CHANNELS];
        report
    }

    #[test]
    fn the_editor_says_what_the_last_pass_was_and_whether_it_was_saved() {
        let pass = |kind| FinishedPass {
            report: export(false, true, 33.0),
            name: "Bass".into(),
            master: false,
            thresholds: HeadroomThresholds::default(),
            folder: std::path::PathBuf::new(),
            kind,
            noted: false,
            began_unix_ms: 0,
            ended_unix_ms: 0,
            timeline: Default::default(),
        };
        let line = |kind, saved| pass(kind).outcome_line(saved);
        assert_eq!(
            line(PassKind::Export, true),
            "export: report written (33.0 s from 0:00.000)"
        );
        assert_eq!(
            line(PassKind::Export, false),
            "export: report not saved (33.0 s from 0:00.000)"
        );
        assert_eq!(
            line(PassKind::Playback, true),
            "playback: not saved (33.0 s from 0:00.000)"
        );
        assert_eq!(
            line(PassKind::Partial, true),
            "part of the song: not saved (33.0 s from 0:00.000)"
        );
        assert!(pass(PassKind::Export).is_export());
        assert!(!pass(PassKind::Playback).is_export());
    }

    #[test]
    fn offline_renders_and_armed_real_time_passes_are_exports_playback_is_not() {
        let min = report::MIN_EXPORT_S;
        let kind = |offline, from_start, seconds, min_s, armed| {
            export(offline, from_start, seconds).kind(min_s, armed)
        };
        assert_eq!(kind(true, false, 1.0, min, false), PassKind::Export);
        assert_eq!(kind(false, true, 10.0, min, false), PassKind::Playback);
        assert_eq!(kind(false, true, 10.0, min, true), PassKind::Export);
        assert_eq!(kind(false, true, 5.0, min, true), PassKind::Partial);
        assert_eq!(kind(false, true, 5.0, 4.0, true), PassKind::Export);
        assert_eq!(kind(false, false, 60.0, min, true), PassKind::Partial);
    }

    #[test]
    fn a_failed_write_keeps_the_report_in_memory_with_the_reason() {
        let params = StemPreflightParams::default();
        *params.report_folder.write().unwrap() = "/proc/stem-preflight/not-here".into();
        *params.stem_name.write().unwrap() = "Drums".into();
        let shared = MeterShared::default();
        write_pass_report(&params, &shared, &export(true, true, 30.0), None);
        let log = shared.reports.lock().unwrap();
        let failed = log.failed.as_ref().expect("the failure is kept");
        assert!(
            failed.error.contains("/proc/stem-preflight/not-here"),
            "{}",
            failed.error
        );
        assert!(failed.base.ends_with(" Drums"));
        let json: serde_json::Value = serde_json::from_str(&failed.json).unwrap();
        assert_eq!(json["name"], "Drums");
        assert!(failed.text.contains("Drums"));
        assert!(log.written.is_none());
    }
}
