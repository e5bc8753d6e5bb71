//! Everything measured on one channel, fed once per block.

use super::clip::{ClipCounts, ClipDetector, ClipEvent};
use super::dc::DcMeter;
use super::level::gain_to_db;
use super::sample_peak::{stretch_maxima, SamplePeak, STRETCH};
use super::true_peak::TruePeakMeter;

/// Samples scanned at a time: the stretch maxima of one scan live on the stack.
const SCAN: usize = 1024;

/// Sample peak, true peak and clip detection for one channel, sharing one pass over the block,
/// and its DC offset.
#[derive(Debug, Clone)]
pub struct ChannelAnalyzer {
    sample_peak: SamplePeak,
    true_peak: TruePeakMeter,
    clips: ClipDetector,
    dc: DcMeter,
}

/// The measurements of one channel since the last reset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelSummary {
    /// Largest finite |x|, dBFS.
    pub sample_peak_dbfs: f32,
    /// Largest value of the reconstructed signal, dBTP.
    pub true_peak_dbtp: f32,
    /// Clip events and clipped samples.
    pub clips: ClipCounts,
    /// NaN samples (reported, never measured).
    pub nan_samples: u64,
    /// ±Inf samples.
    pub inf_samples: u64,
}

impl ChannelAnalyzer {
    /// An analyzer for channel `channel` (0 = left). Allocates.
    pub fn new(channel: u16) -> Self {
        Self {
            sample_peak: SamplePeak::new(),
            true_peak: TruePeakMeter::new(),
            clips: ClipDetector::new(channel),
            dc: DcMeter::default(),
        }
    }

    /// Starts over. Never allocates.
    pub fn reset(&mut self) {
        self.sample_peak.reset();
        self.true_peak.reset();
        self.clips.reset();
        self.dc.reset();
    }

    /// Analyses one block; `on_clip` receives each clip once it has ended. Returns the block's
    /// sample peak (linear). Never allocates.
    pub fn process(&mut self, samples: &[f32], mut on_clip: impl FnMut(ClipEvent)) -> f32 {
        let mut block_peak = 0.0f32;
        let mut maxima = [0.0f32; SCAN / STRETCH];
        // One scan for stretch maxima serves all three meters.
        for piece in samples.chunks(SCAN) {
            let piece_max = stretch_maxima(piece, &mut maxima);
            block_peak = block_peak.max(self.sample_peak.process_scanned(piece, piece_max));
            self.clips
                .process_scanned(piece, &maxima, piece_max, &mut on_clip);
            let clips = &mut self.clips;
            self.true_peak.process_scanned(
                piece,
                Some(&maxima),
                piece_max.is_finite(),
                |interval, peak| clips.true_peak_over(interval, peak, &mut on_clip),
            );
        }
        self.clips
            .true_peak_checked_until(self.true_peak.evaluated_until(), &mut on_clip);
        self.dc.process(samples);
        block_peak
    }

    /// The channel's mean while it sounds (DC offset), linear.
    pub fn dc_offset(&self) -> f32 {
        self.dc.offset()
    }

    /// Ends the stream: evaluates the last samples' true peak and reports open clip runs.
    /// Reset before feeding again. Never allocates.
    pub fn finish(&mut self, mut on_clip: impl FnMut(ClipEvent)) {
        let clips = &mut self.clips;
        self.true_peak
            .finish(|interval, peak| clips.true_peak_over(interval, peak, &mut on_clip));
        self.clips.finish(&mut on_clip);
    }

    /// The display window's true-peak reading (linear) since the last take, between its sample
    /// peak and its true peak; starts a new window. See [`TruePeakMeter::take_window_max`].
    pub fn take_true_peak_window(&mut self) -> f32 {
        self.true_peak.take_window_max()
    }

    /// The current display window's true-peak reading (linear) so far.
    pub fn true_peak_window(&self) -> f32 {
        self.true_peak.window_max()
    }

    /// Largest finite |x| since the last reset (linear).
    pub fn max_sample_peak(&self) -> f32 {
        self.sample_peak.max_abs()
    }

    /// Largest true peak since the last reset (linear).
    pub fn max_true_peak(&self) -> f32 {
        self.true_peak.max()
    }

    /// NaN and ±Inf samples since the last reset.
    pub fn non_finite_samples(&self) -> u64 {
        self.sample_peak.nan_count() + self.sample_peak.inf_count()
    }

    /// The measurements since the last reset. Never allocates.
    pub fn summary(&self) -> ChannelSummary {
        ChannelSummary {
            sample_peak_dbfs: gain_to_db(self.sample_peak.max_abs()),
            true_peak_dbtp: self.true_peak.true_peak_dbtp(),
            clips: self.clips.counts(),
            nan_samples: self.sample_peak.nan_count(),
            inf_samples: self.sample_peak.inf_count(),
        }
    }
}
