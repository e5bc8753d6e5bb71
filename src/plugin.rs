//! The nice-plug glue: a pass-through effect that meters every block.

pub mod params;
pub mod shared;
pub mod timeline;

use nice_plug::prelude::*;
use nice_plug_egui::RepaintNotifier;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::analysis::{ChannelAnalyzer, ClipKind, LimiterDetector};
use crate::editor;
use params::StemPreflightParams;
use shared::{ClipNotice, MeterShared, MAX_CHANNELS};
use timeline::BlockAnchor;

/// The true-peak display window: the meter's threshold for skipping work restarts this often.
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
    /// Samples since the true-peak display window was last restarted.
    window_samples: u32,
    window_length: u32,
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
            window_samples: 0,
            window_length: 960,
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
        self.shared.channel_count.store(channels, Ordering::Relaxed);
        self.shared
            .sample_rate
            .store(buffer_config.sample_rate, Ordering::Relaxed);
        true
    }

    /// Clears the measurements. Never allocates.
    fn reset(&mut self) {
        for analyzer in &mut self.analyzers {
            analyzer.reset();
        }
        if let Some(limiter) = &mut self.limiter {
            limiter.reset();
        }
        self.limiter_samples = 0;
        self.stream_samples = 0;
        self.window_samples = 0;
        self.shared.clear();
        self.repaint.request_repaint();
    }

    /// Meters the block and leaves the audio untouched. Never allocates, locks or blocks.
    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        if self.shared.reset_requested.swap(false, Ordering::AcqRel) {
            self.reset();
        }
        let frames = buffer.samples();
        // NOTE: deliberately breaks the real-time rule, only in the test suite's negative control.
        #[cfg(feature = "alloc_canary")]
        std::hint::black_box(Box::new(frames));
        if frames == 0 {
            return ProcessStatus::Normal;
        }
        let anchor = BlockAnchor::from_transport(context.transport(), self.stream_samples);
        let restart_window = self.window_samples + frames as u32 >= self.window_length;
        let shared = &*self.shared;
        let mut changed = false;

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
                shared.post_clip(ClipNotice {
                    event,
                    position: anchor.position_of(event.start_sample),
                });
            });
            let true_peak = if restart_window {
                analyzer.take_true_peak_window()
            } else {
                analyzer.true_peak_window()
            };

            meter.sample_peak.fetch_max(block_peak, Ordering::Relaxed);
            meter.true_peak.fetch_max(true_peak, Ordering::Relaxed);
            meter
                .max_sample_peak
                .store(analyzer.max_sample_peak(), Ordering::Relaxed);
            meter
                .max_true_peak
                .store(analyzer.max_true_peak(), Ordering::Relaxed);
            if clips > 0 {
                meter.clip_events.fetch_add(clips, Ordering::Relaxed);
                meter
                    .flat_top_events
                    .fetch_add(flat_tops, Ordering::Relaxed);
            }
            meter
                .non_finite_samples
                .store(analyzer.non_finite_samples(), Ordering::Relaxed);
            changed |= block_peak > 0.0 || true_peak > 0.0 || clips > 0;
        }

        if let Some(limiter) = &mut self.limiter {
            limiter.process(buffer.as_slice_immutable());
            self.limiter_samples += frames as u32;
            if self.limiter_samples >= self.limiter_interval {
                self.limiter_samples = 0;
                shared.limiter.publish(&limiter.evidence());
                changed = true;
            }
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
