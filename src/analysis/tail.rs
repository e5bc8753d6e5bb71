//! Did the audio end while still sounding? A cut reverb or release tail is the commonest
//! export-range mistake after a late start.

use super::level::{gain_to_db, lane_sum, sum_of_squares};

/// Loudness is measured in windows of this length.
const WINDOW_S: f32 = 0.05;
/// The decay rate is read from the last second.
const DECAY_WINDOWS: usize = 20;
/// Below this the audio has ended, whatever its noise floor.
pub const SOUNDING_DBFS: f32 = -80.0;
/// ...and it must also stand this far above the quietest window of the stream, so a stem with
/// hiss at -75 dBFS is not "still sounding" forever.
const ABOVE_FLOOR_DB: f32 = 10.0;
/// Only a floor below this is taken for noise; a louder "floor" is a loud song, not hiss.
const NOISE_FLOOR_MAX_DBFS: f32 = -65.0;
/// Windows quieter than this are digital silence and do not set the noise floor.
const DIGITAL_SILENCE_DBFS: f32 = -140.0;
/// Window levels are counted in 1 dB bins from here up to 0 dBFS.
const LEVEL_BINS: usize = 140;
/// The noise floor is the quietest level held for at least this many windows (0.5 s): a fade
/// passing through once does not make a floor.
const FLOOR_WINDOWS: u32 = 10;
/// A window holds its level when it is this close to the one before, dB: hiss, hum and dither
/// stay within a tenth of a dB from one 50 ms window to the next, while a note or a reverb
/// tail dying away falls faster than 10 dB/s and passes each level in a window or two, however
/// many times a song does it.
const HELD_WITHIN_DB: f32 = 0.5;

/// Channels whose DC is taken out of the level: a DC offset is not sound, and a stem with one
/// would otherwise "sound" forever. Channels beyond these are measured with their DC.
const DC_CHANNELS: usize = 64;

/// How the end of a stream sounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TailState {
    /// RMS level of the last 50 ms without DC, dBFS (all channels).
    pub end_level_dbfs: f32,
    /// How fast the level fell over the last second, dB per second (positive = decaying).
    pub decay_db_per_s: f32,
    /// The stream stopped while the audio was still sounding.
    pub cut: bool,
    /// When cut and decaying: about how much longer the export must run to reach the
    /// threshold, seconds (rounded up to a whole second).
    pub extend_by_s: Option<f32>,
}

impl TailState {
    /// How much longer the export must run, in words: "by about 3 s", or "to where the sound
    /// has died away" when the decay rate says nothing. Allocates: not for the audio thread.
    pub fn extend_hint(&self) -> String {
        self.extend_by_s.map_or_else(
            || "to where the sound has died away".to_string(),
            |s| format!("by about {s:.0} s"),
        )
    }
}

/// Tracks the level of the last second in 50 ms windows. Allocates only in `new`.
#[derive(Debug, Clone)]
pub struct TailMeter {
    window_len: usize,
    /// Sum of squares and sample count of the window being filled.
    energy: f64,
    /// Sum of each channel's samples in the window being filled: its DC.
    sums: [f64; DC_CHANNELS],
    filled: usize,
    /// Mean-square levels of the last windows, oldest first after `next`.
    ring: [f32; DECAY_WINDOWS],
    next: usize,
    windows: u64,
    /// How many windows held their level in each 1 dB level bin (-140..0 dBFS).
    levels: [u32; LEVEL_BINS],
    /// The last finished window's level, dBFS.
    last_level: f32,
}

impl TailMeter {
    /// A meter for audio at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        Self {
            window_len: ((sample_rate * WINDOW_S) as usize).max(1),
            energy: 0.0,
            sums: [0.0; DC_CHANNELS],
            filled: 0,
            ring: [0.0; DECAY_WINDOWS],
            next: 0,
            windows: 0,
            levels: [0; LEVEL_BINS],
            last_level: f32::NEG_INFINITY,
        }
    }

    /// Starts over. Never allocates.
    pub fn reset(&mut self) {
        *self = Self {
            window_len: self.window_len,
            ..Self::new(1.0)
        };
    }

    /// Feeds one block (one slice per channel, equal lengths). NaN and Inf samples are
    /// ignored. Never allocates.
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S]) {
        let Some(frames) = channels.first().map(|c| c.as_ref().len()) else {
            return;
        };
        let scale = 1.0 / channels.len() as f64;
        let mut at = 0;
        while at < frames {
            let take = (self.window_len - self.filled).min(frames - at);
            for (channel, dc_sum) in channels.iter().zip(self.sums.iter_mut()) {
                let part = &channel.as_ref()[at..at + take];
                // Only a block with NaN or Inf pays for the filter.
                let mut sum = sum_of_squares(part);
                let mut plain = lane_sum(part, |x| x);
                if !sum.is_finite() || !plain.is_finite() {
                    sum = lane_sum(part, |x| if x.is_finite() { x * x } else { 0.0 });
                    plain = lane_sum(part, |x| if x.is_finite() { x } else { 0.0 });
                }
                self.energy += sum * scale;
                *dc_sum += plain;
            }
            for channel in channels.iter().skip(DC_CHANNELS) {
                let part = &channel.as_ref()[at..at + take];
                self.energy += lane_sum(part, |x| if x.is_finite() { x * x } else { 0.0 }) * scale;
            }
            self.filled += take;
            at += take;
            if self.filled == self.window_len {
                let n = self.window_len as f64;
                let dc_power: f64 =
                    self.sums.iter().map(|s| (s / n) * (s / n)).sum::<f64>() * scale;
                let mean_square = ((self.energy / n - dc_power).max(0.0)) as f32;
                let level = gain_to_db(mean_square.sqrt());
                let held = (level - self.last_level).abs() <= HELD_WITHIN_DB;
                self.last_level = level;
                if level > DIGITAL_SILENCE_DBFS && held {
                    let bin = ((level - DIGITAL_SILENCE_DBFS) as usize).min(LEVEL_BINS - 1);
                    self.levels[bin] += 1;
                }
                self.ring[self.next] = mean_square;
                self.next = (self.next + 1) % DECAY_WINDOWS;
                self.windows += 1;
                self.energy = 0.0;
                self.sums = [0.0; DC_CHANNELS];
                self.filled = 0;
            }
        }
    }

    /// The quietest level (RMS over 50 ms, to 1 dB) the stream held for half a second or more,
    /// digital silence aside: hiss, hum, or dither. `None` when no level was held that long.
    /// Never allocates.
    pub fn noise_floor_dbfs(&self) -> Option<f32> {
        self.levels
            .iter()
            .position(|&count| count >= FLOOR_WINDOWS)
            .map(|bin| DIGITAL_SILENCE_DBFS + bin as f32 + 0.5)
    }

    /// The state of the end of the stream so far (the partial last window is left out).
    /// Never allocates.
    pub fn state(&self) -> TailState {
        let count = (self.windows as usize).min(DECAY_WINDOWS);
        let level = |age: usize| {
            // age 0 = newest window
            let index = (self.next + DECAY_WINDOWS - 1 - age) % DECAY_WINDOWS;
            gain_to_db(self.ring[index].sqrt())
        };
        if count == 0 {
            return TailState {
                end_level_dbfs: gain_to_db(0.0),
                decay_db_per_s: 0.0,
                cut: false,
                extend_by_s: None,
            };
        }
        let end_level_dbfs = level(0);
        // Least-squares slope of level against time over the windows we have.
        let n = count as f32;
        let (mut st, mut sl, mut stt, mut stl) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for age in 0..count {
            let t = -(age as f32) * WINDOW_S;
            let l = level(age).max(gain_to_db(0.0));
            st += t;
            sl += l;
            stt += t * t;
            stl += t * l;
        }
        let denominator = n * stt - st * st;
        let slope = if denominator > 0.0 {
            (n * stl - st * sl) / denominator
        } else {
            0.0
        };
        let decay_db_per_s = -slope;
        let threshold = match self.noise_floor_dbfs() {
            Some(floor_db) if floor_db < NOISE_FLOOR_MAX_DBFS => {
                SOUNDING_DBFS.max(floor_db + ABOVE_FLOOR_DB)
            }
            _ => SOUNDING_DBFS,
        };
        let cut = end_level_dbfs > threshold;
        let extend_by_s = (cut && decay_db_per_s > 3.0)
            // Whole seconds, rounded up unless only a hair over.
            .then(|| {
                ((end_level_dbfs - threshold) / decay_db_per_s - 0.1)
                    .ceil()
                    .max(1.0)
            });
        TailState {
            end_level_dbfs,
            decay_db_per_s,
            cut,
            extend_by_s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decaying_noise(rate: f32, seconds: f32, start_db: f32, db_per_s: f32) -> Vec<f32> {
        let mut state = 1u32;
        (0..(rate * seconds) as usize)
            .map(|n| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let white = (state >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
                let db = start_db - db_per_s * n as f32 / rate;
                // White noise in -1..1 has an RMS of 1/sqrt(3).
                white * 3f32.sqrt() * 10f32.powf(db / 20.0)
            })
            .collect()
    }

    #[test]
    fn a_cut_reverb_tail_is_found_with_the_time_it_needs() {
        // -20 dB RMS falling 12 dB/s, cut after 2 s: ends at -44 dBFS, needs 36 dB more to reach
        // -80 dBFS = 3 s.
        let x = decaying_noise(48_000.0, 2.0, -20.0, 12.0);
        let mut meter = TailMeter::new(48_000.0);
        for block in x.chunks(333) {
            meter.process(&[block, block]);
        }
        let state = meter.state();
        assert!(state.cut);
        assert!((state.end_level_dbfs - -43.7).abs() < 0.5, "{state:?}");
        assert!((state.decay_db_per_s - 12.0).abs() < 0.5, "{state:?}");
        assert_eq!(state.extend_by_s, Some(3.0));
    }

    #[test]
    fn a_decayed_ending_and_silence_are_not_cut() {
        let mut x = decaying_noise(48_000.0, 2.0, -20.0, 12.0);
        x.extend(std::iter::repeat_n(0.0, 48_000));
        let mut meter = TailMeter::new(48_000.0);
        meter.process(&[&x]);
        assert!(!meter.state().cut);

        let mut silent = TailMeter::new(48_000.0);
        silent.process(&[&[0.0; 10_000]]);
        assert!(!silent.state().cut);

        // A 2 % DC offset (-34 dBFS) on one channel under the same decayed ending: DC is not
        // sound, so the ending is not cut, and the level without it is the other channel's
        // silence.
        let offset: Vec<f32> = x.iter().map(|v| v + 0.02).collect();
        let mut with_dc = TailMeter::new(48_000.0);
        with_dc.process(&[&offset, &x]);
        let state = with_dc.state();
        assert!(!state.cut, "{state:?}");
        assert!(state.end_level_dbfs < -100.0, "{state:?}");
    }

    #[test]
    fn the_noise_floor_is_a_held_level_not_a_passing_fade() {
        // A fade from -20 dBFS to silence passes every level once: no floor.
        let mut x = decaying_noise(48_000.0, 2.0, -20.0, 60.0);
        x.extend(std::iter::repeat_n(0.0, 48_000));
        let mut meter = TailMeter::new(48_000.0);
        meter.process(&[&x]);
        assert_eq!(meter.noise_floor_dbfs(), None);
        // Nor do a dozen notes dying away at 30 dB/s through the same levels.
        let notes: Vec<f32> = (0..12)
            .flat_map(|_| decaying_noise(48_000.0, 2.0, -60.0, 30.0))
            .collect();
        let mut meter = TailMeter::new(48_000.0);
        meter.process(&[&notes]);
        assert_eq!(meter.noise_floor_dbfs(), None);
        // One second of noise at -97 dBFS RMS after it: that is the floor, to 1 dB.
        x.extend(decaying_noise(48_000.0, 1.0, -97.0, 0.0));
        let mut meter = TailMeter::new(48_000.0);
        meter.process(&[&x]);
        let floor = meter.noise_floor_dbfs().expect("a floor");
        assert!((floor - -97.0).abs() <= 1.0, "{floor}");
    }

    #[test]
    fn steady_hiss_is_not_a_tail() {
        // Noise at -70 dBFS from start to end: that is the floor, not a sounding tail.
        let x = decaying_noise(48_000.0, 3.0, -70.0, 0.0);
        let mut meter = TailMeter::new(48_000.0);
        meter.process(&[&x]);
        assert!(!meter.state().cut, "{:?}", meter.state());
    }
}
