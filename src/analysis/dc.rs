//! DC offset: a channel's mean while it sounds. Counted on a fixed grid of stretches, whatever
//! the blocks it arrives in, so that the plugin and the file checker read the same stream the
//! same way; only stretches where the channel sounds count, so silence around a stem does not
//! dilute it.

use super::level::{finite_lane_sum, gain_to_db, SOUND_THRESHOLD};

/// Frames in a stretch of the grid; a stretch sounds when a sample passes [`SOUND_THRESHOLD`].
const STRETCH_FRAMES: usize = 8192;
/// DC at or above this while the channel sounds is reported, dBFS (1 % of full scale): it costs
/// headroom and the engineer's time. Sample-based instruments and reverbs leave 0.1–0.5 %
/// (-60 to -46 dBFS), which is inaudible and which every mastering chain filters.
const DC_OFFSET_DBFS: f32 = -40.0;

/// Follows one channel's mean while it sounds. Never allocates.
#[derive(Debug, Clone, Copy, Default)]
pub struct DcMeter {
    sum: f64,
    sounding_frames: u64,
    stretch_sum: f64,
    stretch_frames: usize,
    stretch_sounds: bool,
}

impl DcMeter {
    /// Starts over.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Adds samples (NaN and ±Inf left out of the sum).
    pub fn process(&mut self, samples: &[f32]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (STRETCH_FRAMES - self.stretch_frames).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.stretch_sum += finite_lane_sum(now, |x| x);
            self.stretch_sounds |= now.iter().any(|x| x.abs() > SOUND_THRESHOLD);
            self.stretch_frames += take;
            if self.stretch_frames == STRETCH_FRAMES {
                self.close_stretch();
            }
            rest = later;
        }
    }

    fn close_stretch(&mut self) {
        if self.stretch_sounds {
            self.sum += self.stretch_sum;
            self.sounding_frames += self.stretch_frames as u64;
        }
        self.stretch_sum = 0.0;
        self.stretch_frames = 0;
        self.stretch_sounds = false;
    }

    /// The mean while the channel sounds, linear (0 when it never sounds), the stretch in
    /// progress included.
    pub fn offset(&self) -> f32 {
        let mut whole = *self;
        whole.close_stretch();
        (whole.sum / whole.sounding_frames.max(1) as f64) as f32
    }
}

/// The finding for a channel with DC offset `dc` (linear), named `channel` ("left"), with the
/// fix; `None` below [`DC_OFFSET_DBFS`].
pub fn dc_advice(dc: f32, channel: &str) -> Option<String> {
    let dc_db = gain_to_db(dc.abs());
    (dc_db >= DC_OFFSET_DBFS).then(|| format!("DC offset of {:.2} % ({dc_db:.0} dBFS) on the {channel} channel: something in its chain (an instrument's sample, a plugin, a converter) holds the waveform off centre. Insert a DC filter or a gentle high-pass below 20 Hz and export again.", dc * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tone at -6 dBFS on 2 % DC for `sounding` frames, then silence.
    fn offset_tone(sounding: usize, silent: usize) -> Vec<f32> {
        (0..sounding)
            .map(|n| 0.02 + 0.5 * (n as f32 * 0.05).sin())
            .chain(std::iter::repeat_n(0.0, silent))
            .collect()
    }

    #[test]
    fn the_mean_counts_only_where_the_channel_sounds_in_any_blocks() {
        let x = offset_tone(10 * STRETCH_FRAMES, 30 * STRETCH_FRAMES);
        let mut whole = DcMeter::default();
        whole.process(&x);
        assert!((whole.offset() - 0.02).abs() < 2e-4, "{}", whole.offset());
        for block in [1, 511, 512, 8192, 10_000] {
            let mut meter = DcMeter::default();
            x.chunks(block).for_each(|b| meter.process(b));
            assert!(
                (meter.offset() - whole.offset()).abs() < 1e-7,
                "blocks of {block}: {} against {}",
                meter.offset(),
                whole.offset()
            );
        }
        whole.reset();
        assert_eq!(whole.offset(), 0.0);
    }

    #[test]
    fn a_short_stream_and_broken_samples_still_read() {
        let mut meter = DcMeter::default();
        meter.process(&[0.03, f32::NAN, 0.03, f32::INFINITY, 0.03]);
        assert!((meter.offset() - 0.018).abs() < 1e-6, "{}", meter.offset());
    }

    #[test]
    fn one_percent_warns_and_the_dc_instruments_leave_does_not() {
        let advice = dc_advice(-0.02, "left").expect("2 % warns");
        assert!(advice.starts_with("DC offset of -2.00 % (-34 dBFS) on the left channel"));
        assert!(dc_advice(0.0101, "right").is_some());
        assert_eq!(dc_advice(0.005, "left"), None);
        assert_eq!(dc_advice(0.0, "mono"), None);
    }
}
