//! Master-bus limiter detection from the audio alone.
//!
//! A limiter pins the peaks of loud passages to one ceiling while the loudness underneath keeps
//! moving; in unlimited audio the peaks move with the loudness. The detector cuts the signal
//! into 400 ms passages, files each window's peak and RMS level in a fixed 2-D histogram (fixed
//! memory, whatever the song's length), and reads the evidence from it: where the ceiling is,
//! what share of the loud windows sit within half a dB of it, and how much their loudness
//! varies meanwhile.

use super::level::{gain_to_db, log10};
use super::sample_peak::{greater, max_abs_and_energy};

/// Window ("passage") length: long enough that a passage of a mix almost always holds a drum hit
/// or another transient that a limiter would catch, short enough that verse, chorus and
/// breakdown land in different passages.
pub const WINDOW_MS: f32 = 400.0;
/// Histogram resolution of window peaks, dB.
const PEAK_BIN_DB: f32 = 0.1;
/// Histogram range of window peaks, dBFS.
const PEAK_RANGE_DB: (f32, f32) = (-60.0, 6.0);
/// Histogram resolution of window loudness (RMS), dB.
const RMS_BIN_DB: f32 = 1.0;
/// Histogram range of window loudness, dBFS.
const RMS_RANGE_DB: (f32, f32) = (-70.0, 6.0);
/// Windows quieter than this are gaps, not music.
const SILENT_RMS_DB: f32 = -60.0;
/// "Loud" windows: within this many dB of the loud reference (90th percentile of loudness).
const LOUD_RANGE_DB: f32 = 12.0;
/// A passage is pinned when its peak lies within this distance of the ceiling. Sample-peak
/// limiters hold peaks to the ceiling exactly; true-peak limiters leave the sample peaks a
/// little below it.
pub const PINNED_TOLERANCE_DB: f32 = 0.3;
/// Peaks further than this above the ceiling mean nothing holds them down.
const ABOVE_CEILING_DB: f32 = 0.3;
/// A ceiling held only by a few passages counts only this close to full scale, where people
/// set master limiters (-0.1 to -1 dBFS, a little lower for streaming): a handful of equal
/// peaks further down is more often a repeated drum sample than a limiter.
const LIKELY_CEILING_DBFS: f32 = -3.0;
/// Loud material needed before any verdict: 5 s.
const MIN_LOUD_WINDOWS: u32 = 12;
/// Each passage is also read as 8 blocks of 50 ms: music moves inside a passage (a beat, a
/// note's attack), a steady tone or noise does not, however hard a limiter squashes the music.
const BLOCKS_PER_WINDOW: usize = 8;
/// A passage moves when its loudest 50 ms block is this much louder than its quietest, dB.
/// A steady tone stays within 0.7 dB (a 20 Hz sine in 50 ms blocks), white noise within 1 dB;
/// music under 12 dB of limiting still moves by more.
const MOVING_DB: f32 = 2.0;
/// Music: at least this share of the loud passages move.
const MOVING_SHARE: f32 = 0.5;
/// Passage peaks this close to the highest one are the same value (two 24-bit LSBs): a
/// sample-peak limiter holds its ceiling exactly, natural peaks never tie.
const TIE: f32 = 2.0 / 8_388_608.0;
/// Tied highest peaks that show a limiter even when it touches only a few passages.
const MIN_TIES: u32 = 3;

/// How sure the detector is that a limiter shaped this audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LimiterVerdict {
    /// No sign of a limiter (or not enough loud material yet).
    None,
    /// The peaks look held to a ceiling.
    Likely,
    /// The peaks are held to a ceiling in most loud passages while the loudness moves.
    Certain,
}

impl LimiterVerdict {
    /// The verdict's name in reports: "none", "likely" or "certain".
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Likely => "likely",
            Self::Certain => "certain",
        }
    }
}

/// The verdict with the numbers behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterEvidence {
    /// The verdict.
    pub verdict: LimiterVerdict,
    /// The ceiling the peaks are held to, dBFS (the 95th percentile of loud windows' peaks).
    pub ceiling_dbfs: f32,
    /// Share of loud windows whose peak is within [`PINNED_TOLERANCE_DB`] of the ceiling, 0..1.
    pub pinned_share: f32,
    /// Share of loud passages whose peak is within 0.1 dB of the highest one: near 1 / count
    /// for natural audio, a pile-up under a limiter.
    pub top_share: f32,
    /// How much the loudness of the loud passages varies (10th to 90th percentile), dB.
    pub loudness_range_db: f32,
    /// Share of loud passages whose loudness moves inside them by [`MOVING_DB`] or more, 0..1:
    /// music, even squashed; 0 for a steady tone.
    pub moving_share: f32,
    /// Passages whose peak ties with the highest one, to two 24-bit LSBs.
    pub ties_at_top: u32,
    /// Seconds of loud material the evidence rests on.
    pub loud_seconds: f32,
}

impl LimiterEvidence {
    /// What the evidence means and what to do, in the engineer's words.
    /// Allocates: not for the audio thread.
    pub fn explanation(&self) -> String {
        let share = (self.pinned_share * 100.0).round();
        match self.verdict {
            LimiterVerdict::Certain | LimiterVerdict::Likely => {
                let underneath = if self.loudness_range_db >= 3.0 {
                    format!("while loudness varies by {:.0} dB", self.loudness_range_db)
                } else {
                    format!(
                        "while the music moves underneath, its loudness squashed into {:.0} dB",
                        self.loudness_range_db
                    )
                };
                // Few pinned passages convince only through their exact tie: say it.
                let ties = if self.pinned_share < 0.4 && self.ties_at_top >= MIN_TIES {
                    format!(" ({} at exactly the same peak)", self.ties_at_top)
                } else {
                    String::new()
                };
                format!(
                    "Peaks pinned at {:.1} dBFS in {share:.0} % of loud passages{ties} {underneath}: {} on this bus. Bypass it before exporting stems and the reference mix.",
                    self.ceiling_dbfs,
                    if self.verdict == LimiterVerdict::Certain {
                        "a limiter or maximizer is active"
                    } else {
                        "a limiter or maximizer is probably active"
                    }
                )
            }
            LimiterVerdict::None if self.loud_seconds < MIN_LOUD_WINDOWS as f32 * WINDOW_MS / 1000.0 => {
                "Not enough loud material yet to judge whether a limiter is active.".to_owned()
            }
            // Steady peaks under a steady level (a test tone, a drone) prove nothing either way.
            LimiterVerdict::None if self.pinned_share >= 0.5 => format!(
                "No limiter found: the level is steady (loudness varies by {:.0} dB), so steady peaks say nothing about a limiter.",
                self.loudness_range_db
            ),
            LimiterVerdict::None => format!(
                "No limiter: peaks move with the loudness (only {share:.0} % of loud passages reach the top 0.5 dB)."
            ),
        }
    }
}

/// Passages of one peak and loudness (histogram cell centres).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Passage {
    /// Peak, dBFS.
    pub peak_dbfs: f32,
    /// Loudness (RMS over the passage), dBFS.
    pub loudness_dbfs: f32,
    /// How many passages.
    pub count: u32,
    /// Among the loud passages the evidence rests on.
    pub loud: bool,
}

/// Streaming limiter detector for one bus (all channels together).
#[derive(Debug, Clone)]
pub struct LimiterDetector {
    window_len: usize,
    /// Position inside the current window.
    filled: usize,
    window_peak: f32,
    window_square_sum: f64,
    /// The 50 ms block being filled: its length, position and sum of squares.
    block_len: usize,
    block_filled: usize,
    block_square_sum: f64,
    /// Quietest and loudest block of the passage so far (sums of squares).
    block_min: f64,
    block_max: f64,
    /// Loud-enough passages that moved, by loudness bin.
    moving: [u32; 128],
    /// Passages whose peak ties with `max_peak`.
    ties: u32,
    channels_seen: usize,
    /// `histogram[peak_bin * rms_bins + rms_bin]`: windows by peak and loudness.
    histogram: Vec<u32>,
    /// Largest window peak so far (linear): the exact ceiling when a limiter holds it.
    max_peak: f32,
    peak_bins: usize,
    rms_bins: usize,
}

impl LimiterDetector {
    /// A detector for audio at `sample_rate` Hz. Allocates its histogram (about 270 KB).
    pub fn new(sample_rate: f32) -> Self {
        let peak_bins = ((PEAK_RANGE_DB.1 - PEAK_RANGE_DB.0) / PEAK_BIN_DB).round() as usize;
        let rms_bins = ((RMS_RANGE_DB.1 - RMS_RANGE_DB.0) / RMS_BIN_DB).round() as usize;
        let window_len = ((sample_rate * WINDOW_MS / 1000.0).round() as usize).max(1);
        Self {
            window_len,
            filled: 0,
            window_peak: 0.0,
            window_square_sum: 0.0,
            block_len: window_len.div_ceil(BLOCKS_PER_WINDOW),
            block_filled: 0,
            block_square_sum: 0.0,
            block_min: f64::INFINITY,
            block_max: 0.0,
            moving: [0; 128],
            ties: 0,
            channels_seen: 1,
            histogram: vec![0; peak_bins * rms_bins],
            max_peak: 0.0,
            peak_bins,
            rms_bins,
        }
    }

    /// Forgets everything. Never allocates.
    pub fn reset(&mut self) {
        self.histogram.fill(0);
        self.max_peak = 0.0;
        self.filled = 0;
        self.window_peak = 0.0;
        self.window_square_sum = 0.0;
        self.block_filled = 0;
        self.block_square_sum = 0.0;
        self.block_min = f64::INFINITY;
        self.block_max = 0.0;
        self.moving.fill(0);
        self.ties = 0;
    }

    /// Feeds one block; every channel slice has the same length. Non-finite samples are
    /// ignored. Never allocates.
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S]) {
        let Some(first) = channels.first() else {
            return;
        };
        self.channels_seen = channels.len();
        let frames = first.as_ref().len();
        let mut start = 0;
        while start < frames {
            let take = (self.window_len - self.filled)
                .min(self.block_len - self.block_filled)
                .min(frames - start);
            let energy_before = self.window_square_sum;
            for channel in channels {
                let segment = &channel.as_ref()[start..start + take];
                let (peak, energy) = max_abs_and_energy(segment);
                if peak.is_finite() {
                    self.window_peak = greater(self.window_peak, peak);
                    self.window_square_sum += energy;
                } else {
                    // Rare: skip the non-finite samples one by one.
                    for &x in segment.iter().filter(|x| x.is_finite()) {
                        self.window_peak = greater(self.window_peak, x.abs());
                        self.window_square_sum += f64::from(x) * f64::from(x);
                    }
                }
            }
            self.block_square_sum += self.window_square_sum - energy_before;
            self.filled += take;
            self.block_filled += take;
            start += take;
            if self.block_filled == self.block_len || self.filled == self.window_len {
                self.close_block();
            }
            if self.filled == self.window_len {
                self.close_window();
            }
        }
    }

    fn close_block(&mut self) {
        // The passage's last block may be short: compare mean squares.
        let mean_square = self.block_square_sum / self.block_filled.max(1) as f64;
        self.block_min = self.block_min.min(mean_square);
        self.block_max = self.block_max.max(mean_square);
        self.block_filled = 0;
        self.block_square_sum = 0.0;
    }

    fn close_window(&mut self) {
        let samples = (self.window_len * self.channels_seen) as f64;
        let rms = (self.window_square_sum / samples).sqrt() as f32;
        let rms_db = gain_to_db(rms);
        if rms_db > SILENT_RMS_DB {
            let peak_bin = bin(
                gain_to_db(self.window_peak),
                PEAK_RANGE_DB,
                PEAK_BIN_DB,
                self.peak_bins,
            );
            let rms_bin = bin(rms_db, RMS_RANGE_DB, RMS_BIN_DB, self.rms_bins);
            self.histogram[peak_bin * self.rms_bins + rms_bin] += 1;
            let movement_db = 10.0 * log10(self.block_max / self.block_min.max(1e-30));
            if movement_db >= f64::from(MOVING_DB) {
                self.moving[rms_bin] += 1;
            }
            if self.window_peak > self.max_peak + TIE {
                self.ties = 1;
            } else if self.window_peak >= self.max_peak - TIE {
                self.ties += 1;
            }
            self.max_peak = self.max_peak.max(self.window_peak);
        }
        self.block_min = f64::INFINITY;
        self.block_max = 0.0;
        self.filled = 0;
        self.window_peak = 0.0;
        self.window_square_sum = 0.0;
    }

    /// Passages by loudness bin (all non-silent ones), and the first bin of the loud ones.
    fn loudness_counts(&self) -> ([u32; 128], usize) {
        let mut rms_counts = [0u32; 128];
        for peak_row in self.histogram.chunks(self.rms_bins) {
            for (count, &c) in rms_counts.iter_mut().zip(peak_row) {
                *count += c;
            }
        }
        let counts = &rms_counts[..self.rms_bins];
        let total: u32 = counts.iter().sum();
        let loud_reference = percentile_bin(counts, total, 0.9);
        let loud_from = loud_reference.saturating_sub((LOUD_RANGE_DB / RMS_BIN_DB) as usize);
        (rms_counts, loud_from)
    }

    /// Every kind of passage seen so far, by peak (0.1 dB steps) and loudness (1 dB steps):
    /// the picture behind the evidence. A limiter shows as a flat row of loud passages at the
    /// ceiling; free peaks rise with the loudness. Allocates: not for the audio thread.
    pub fn passages(&self) -> Vec<Passage> {
        let (_, loud_from) = self.loudness_counts();
        let mut passages = Vec::new();
        for (peak_bin, row) in self.histogram.chunks(self.rms_bins).enumerate() {
            for (rms_bin, &count) in row.iter().enumerate().filter(|(_, &c)| c > 0) {
                passages.push(Passage {
                    peak_dbfs: PEAK_RANGE_DB.0 + (peak_bin as f32 + 0.5) * PEAK_BIN_DB,
                    loudness_dbfs: RMS_RANGE_DB.0 + (rms_bin as f32 + 0.5) * RMS_BIN_DB,
                    count,
                    loud: rms_bin >= loud_from,
                });
            }
        }
        passages
    }

    /// The evidence so far. Never allocates; reads the whole histogram, so call it a few times
    /// a second, not per block.
    pub fn evidence(&self) -> LimiterEvidence {
        let window_s = WINDOW_MS / 1000.0;
        let (rms_counts, loud_from) = self.loudness_counts();
        let rms_counts = &rms_counts[..self.rms_bins];
        let total: u32 = rms_counts.iter().sum();
        let none = |loud_windows: u32| LimiterEvidence {
            verdict: LimiterVerdict::None,
            ceiling_dbfs: f32::NAN,
            pinned_share: 0.0,
            top_share: 0.0,
            loudness_range_db: 0.0,
            moving_share: 0.0,
            ties_at_top: 0,
            loud_seconds: loud_windows as f32 * window_s,
        };
        if total == 0 {
            return none(0);
        }

        // Peaks of the loud windows.
        let mut loud_windows = 0u32;
        let mut peak_counts = [0u32; 1024];
        for (peak_bin, row) in self.histogram.chunks(self.rms_bins).enumerate() {
            let n: u32 = row[loud_from..].iter().sum();
            peak_counts[peak_bin] = n;
            loud_windows += n;
        }
        if loud_windows < MIN_LOUD_WINDOWS {
            return none(loud_windows);
        }
        let peak_counts = &peak_counts[..self.peak_bins];
        let ceiling_bin = percentile_bin(peak_counts, loud_windows, 0.95);
        let tolerance_bins = (PINNED_TOLERANCE_DB / PEAK_BIN_DB).round() as usize;
        let above_bins = (ABOVE_CEILING_DB / PEAK_BIN_DB).round() as usize;
        let pinned_from = ceiling_bin.saturating_sub(tolerance_bins);
        let pinned_to = (ceiling_bin + 1 + tolerance_bins).min(self.peak_bins);
        let pinned: u32 = peak_counts[pinned_from..pinned_to].iter().sum();
        let above: u32 = peak_counts[(ceiling_bin + 1 + above_bins).min(self.peak_bins)..]
            .iter()
            .sum();

        // Loudness spread of all loud passages, and of the pinned ones.
        let loud_rms = &rms_counts[loud_from..];
        let loud_low = percentile_bin(loud_rms, loud_windows, 0.1);
        let loud_high = percentile_bin(loud_rms, loud_windows, 0.9);
        let loudness_range_db = (loud_high - loud_low) as f32 * RMS_BIN_DB;
        let pinned_share = pinned as f32 / loud_windows as f32;
        // A limiter lets nothing through above its ceiling.
        let held = (above as f32) < 0.01 * loud_windows as f32;
        // A sample-peak limiter holds the loudest passages to the same value, to the LSB:
        // count the passages within one bin of the highest peak.
        let top_bin = peak_counts.iter().rposition(|&c| c > 0).unwrap_or(0);
        let at_top: u32 = peak_counts[top_bin.saturating_sub(1)..=top_bin]
            .iter()
            .sum();
        let top_share = at_top as f32 / loud_windows as f32;
        let moving: u32 = self.moving[loud_from..self.rms_bins].iter().sum();
        let moving_share = moving as f32 / loud_windows as f32;

        // The audio must move, or a steady tone (all peaks equal) would look limited: its
        // loudness from passage to passage, or, where a limiter squashed that, inside them.
        let music = loudness_range_db >= 3.0 || moving_share >= MOVING_SHARE;
        let near_full_scale = gain_to_db(self.max_peak) >= LIKELY_CEILING_DBFS;
        let verdict = if held && pinned_share >= 0.4 && music {
            LimiterVerdict::Certain
        } else if held
            && near_full_scale
            && (loudness_range_db >= 2.0 || moving_share >= MOVING_SHARE)
            && ((top_share >= 0.05 && at_top >= 4) || self.ties >= MIN_TIES)
        {
            LimiterVerdict::Likely
        } else {
            LimiterVerdict::None
        };
        LimiterEvidence {
            verdict,
            // Held peaks sit at the ceiling: the highest one is exact, the bin only approximate.
            ceiling_dbfs: if held {
                gain_to_db(self.max_peak)
            } else {
                PEAK_RANGE_DB.0 + (ceiling_bin as f32 + 0.5) * PEAK_BIN_DB
            },
            pinned_share,
            top_share,
            loudness_range_db,
            moving_share,
            ties_at_top: self.ties,
            loud_seconds: loud_windows as f32 * window_s,
        }
    }
}

fn bin(db: f32, range: (f32, f32), width: f32, bins: usize) -> usize {
    (((db - range.0) / width).floor().max(0.0) as usize).min(bins - 1)
}

/// The bin below which `fraction` of `total` lies.
fn percentile_bin(counts: &[u32], total: u32, fraction: f32) -> usize {
    let target = (total as f32 * fraction).ceil().max(1.0) as u32;
    let mut seen = 0u32;
    for (i, &c) in counts.iter().enumerate() {
        seen += c;
        if seen >= target {
            return i;
        }
    }
    counts.len().saturating_sub(1)
}
