//! Loudness as ITU-R BS.1770-5 and EBU R128 define it: momentary (400 ms) and short-term (3 s)
//! loudness, integrated loudness behind the absolute and relative gates, and the loudness range
//! of EBU Tech 3342.
//!
//! The signal is K-weighted and its power summed in 100 ms steps. Four steps make a gating
//! block (400 ms, 75 % overlap), thirty a short-term window, both moving 100 ms at a time. The
//! blocks and windows are kept in two histograms of 0.01 LU bins that hold each bin's count
//! and energy, so memory stays fixed for a pass of any length and the integrated loudness
//! (a mean of energies) is exact: only a block within 0.01 LU of the relative gate can fall on
//! the wrong side of it.
//!
//! The loudest momentary and short-term values slide in sub-steps of about 1 ms instead: a
//! 400 ms burst that falls between two 100 ms blocks would otherwise read up to 1.2 LU low
//! (EBU Tech 3341 cases 10 and 13 ask a file meter for the true maximum wherever the burst
//! starts).

use super::k_weighting::{KState, KWeighting};
use super::level::{log10, to_tenth};

/// LUFS of a mean square of 1 (BS.1770: -0.691 + 10·log10 of the weighted mean square).
const OFFSET_LU: f64 = -0.691;
/// Blocks at or below this never count (the absolute gate), LUFS.
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// The integrated loudness's relative gate, LU below the absolutely gated loudness.
const INTEGRATED_RELATIVE_GATE_LU: f64 = -10.0;
/// The loudness range's relative gate (EBU Tech 3342), LU.
const RANGE_RELATIVE_GATE_LU: f64 = -20.0;
/// The loudness range runs from this percentile of the gated short-term values ...
const RANGE_LOW_PERCENTILE: f64 = 0.10;
/// ... to this one.
const RANGE_HIGH_PERCENTILE: f64 = 0.95;
/// Steps in a gating block (400 ms).
const MOMENTARY_STEPS: usize = 4;
/// Steps in a short-term window (3 s).
const SHORT_TERM_STEPS: usize = 30;
/// Sub-steps in a step: the maximum momentary and short-term values move about 1 ms at a time.
const SUB_STEPS: usize = 100;
/// Sub-steps in a gating block.
const MOMENTARY_SUB_STEPS: usize = MOMENTARY_STEPS * SUB_STEPS;
/// Sub-steps in a short-term window.
const SHORT_TERM_SUB_STEPS: usize = SHORT_TERM_STEPS * SUB_STEPS;
/// Steps between the short-term windows the loudness range reads: EBU Tech 3342 (2016) asks
/// for at least 10 per second. libebur128 and the `ebur128` crate take one per second (the
/// 2011 edition): [`LoudnessMeter::with_range_hop`] reproduces that for comparison.
pub const RANGE_HOP_STEPS: u64 = 1;
/// Histogram bins per LU.
const BINS_PER_LU: f64 = 100.0;
/// The loudest a block can be: a full-scale square wave on six channels weighted 1.41 stays
/// below this, LUFS.
const HISTOGRAM_TOP_LUFS: f64 = 12.0;
/// Bins from the absolute gate to the top.
const BINS: usize = ((HISTOGRAM_TOP_LUFS - ABSOLUTE_GATE_LUFS) * BINS_PER_LU) as usize;

/// The BS.1770 weight of each channel: 1 for mono and stereo; for six channels the 5.1 order
/// (L, R, C, LFE, Ls, Rs) with the LFE left out and the surrounds at +1.5 dB. Any other count
/// is weighed 1 per channel (the report says so).
pub fn channel_weights(channels: usize) -> Vec<f64> {
    if channels == 6 {
        vec![1.0, 1.0, 1.0, 0.0, 1.41, 1.41]
    } else {
        vec![1.0; channels]
    }
}

/// Loudness of a mean square, LUFS.
fn lufs(mean_square: f64) -> f64 {
    if mean_square > 0.0 {
        OFFSET_LU + 10.0 * log10(mean_square)
    } else {
        f64::NEG_INFINITY
    }
}

/// Blocks or windows by loudness: per 0.01 LU bin, how many and their summed mean squares.
#[derive(Debug, Clone)]
struct Histogram {
    count: Vec<u64>,
    energy: Vec<f64>,
}

impl Histogram {
    fn new() -> Self {
        Self {
            count: vec![0; BINS],
            energy: vec![0.0; BINS],
        }
    }

    fn clear(&mut self) {
        self.count.fill(0);
        self.energy.fill(0.0);
    }

    /// The bin of a loudness above the absolute gate.
    fn bin(loudness: f64) -> usize {
        (((loudness - ABSOLUTE_GATE_LUFS) * BINS_PER_LU) as usize).min(BINS - 1)
    }

    /// Adds a block; blocks at or below the absolute gate are not kept.
    fn add(&mut self, mean_square: f64) {
        let loudness = lufs(mean_square);
        if loudness > ABSOLUTE_GATE_LUFS {
            let bin = Self::bin(loudness);
            self.count[bin] += 1;
            self.energy[bin] += mean_square;
        }
    }

    /// The first bin at or above `loudness`.
    fn first_bin_from(loudness: f64) -> usize {
        if loudness <= ABSOLUTE_GATE_LUFS {
            0
        } else {
            Self::bin(loudness)
        }
    }

    /// Count and mean square of the blocks from bin `from` up.
    fn bins_upwards(&self, from: usize) -> (u64, f64) {
        let count: u64 = self.count[from..].iter().sum();
        let energy: f64 = self.energy[from..].iter().sum();
        (
            count,
            if count > 0 {
                energy / count as f64
            } else {
                0.0
            },
        )
    }

    /// The blocks above the relative gate `relative_lu` below the absolutely gated mean:
    /// (first bin, count, mean square).
    fn gated(&self, relative_lu: f64) -> Option<(usize, u64, f64)> {
        let (count, mean) = self.bins_upwards(0);
        if count == 0 {
            return None;
        }
        let from = Self::first_bin_from(lufs(mean) + relative_lu);
        let (count, mean) = self.bins_upwards(from);
        (count > 0).then_some((from, count, mean))
    }

    /// The loudness of the `rank`-th block (from 0, quietest first) from bin `from` up: its
    /// bin's centre.
    fn ranked(&self, from: usize, rank: u64) -> f64 {
        let mut seen = 0;
        for (bin, &count) in self.count.iter().enumerate().skip(from) {
            seen += count;
            if seen > rank {
                return ABSOLUTE_GATE_LUFS + (bin as f64 + 0.5) / BINS_PER_LU;
            }
        }
        HISTOGRAM_TOP_LUFS
    }
}

/// What a pass or a file measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// Integrated loudness, LUFS; `None` when no block passed the gates (silence, or shorter
    /// than 400 ms).
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU; `None` with fewer than one gated short-term window (3 s).
    pub range_lu: Option<f64>,
    /// The loudest momentary value, LUFS (−∞ before the first 400 ms).
    pub max_momentary_lufs: f64,
    /// The loudest short-term value, LUFS (−∞ before the first 3 s).
    pub max_short_term_lufs: f64,
    /// The latest momentary value, LUFS.
    pub momentary_lufs: f64,
    /// The latest short-term value, LUFS.
    pub short_term_lufs: f64,
}

impl Loudness {
    /// Nothing measured yet.
    pub const NONE: Self = Self {
        integrated_lufs: None,
        range_lu: None,
        max_momentary_lufs: f64::NEG_INFINITY,
        max_short_term_lufs: f64::NEG_INFINITY,
        momentary_lufs: f64::NEG_INFINITY,
        short_term_lufs: f64::NEG_INFINITY,
    };

    /// Peak-to-loudness ratio: the true peak above the integrated loudness, dB.
    pub fn plr_db(&self, true_peak_dbtp: f32) -> Option<f64> {
        self.integrated_lufs
            .map(|integrated| f64::from(true_peak_dbtp) - integrated)
    }

    /// The figures a report gives, with the PLR from `true_peak_dbtp`.
    pub fn figures(&self, true_peak_dbtp: f32) -> LoudnessFigures {
        let finite = |v: f64| v.is_finite().then_some(v);
        LoudnessFigures {
            integrated_lufs: self.integrated_lufs,
            range_lu: self.range_lu,
            max_momentary_lufs: finite(self.max_momentary_lufs),
            max_short_term_lufs: finite(self.max_short_term_lufs),
            plr_db: self.plr_db(true_peak_dbtp),
        }
    }
}

/// Loudness as the reports give it (the plugin's pass report and the checker's JSON alike);
/// `None` (JSON `null`) where there was nothing to measure: silence, or too short for a 400 ms
/// block or a 3 s window.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LoudnessFigures {
    /// Integrated loudness, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range (EBU Tech 3342), LU.
    pub range_lu: Option<f64>,
    /// The loudest momentary (400 ms) value, LUFS.
    pub max_momentary_lufs: Option<f64>,
    /// The loudest short-term (3 s) value, LUFS.
    pub max_short_term_lufs: Option<f64>,
    /// Peak-to-loudness ratio: true peak minus integrated loudness, dB.
    pub plr_db: Option<f64>,
}

impl LoudnessFigures {
    /// "-13.8 LUFS integrated, LRA 7.0 LU, PLR 12.6 dB", as much as was measured; `None`
    /// without an integrated loudness.
    pub fn describe(&self) -> Option<String> {
        let mut text = format!("{:.1} LUFS integrated", self.integrated_lufs?);
        if let Some(range) = self.range_lu {
            text += &format!(", LRA {range:.1} LU");
        }
        if let Some(plr) = self.plr_db {
            text += &format!(", PLR {:.1} dB", to_tenth(plr));
        }
        Some(text)
    }
}

/// The loudness meter. Allocates only in [`LoudnessMeter::new`]; `process`, `reset` and
/// `loudness` never allocate, lock or panic.
#[derive(Debug, Clone)]
pub struct LoudnessMeter {
    filter: KWeighting,
    states: Vec<KState>,
    weights: Vec<f64>,
    /// Samples per 100 ms step.
    step_len: usize,
    /// Samples of the current step so far.
    in_step: usize,
    /// Weighted sum of squares of the current step.
    step_sum: f64,
    /// The current sub-step within the step.
    sub_step: usize,
    /// Weighted sum of squares of the current sub-step.
    sub_step_sum: f64,
    /// The maxima's sliding windows, in sub-steps.
    sliding: SlidingWindows,
    /// The last [`SHORT_TERM_STEPS`] steps' sums, a ring.
    steps: [f64; SHORT_TERM_STEPS],
    /// Steps completed.
    done: u64,
    /// Steps between the windows the loudness range reads.
    range_hop: u64,
    blocks: Histogram,
    windows: Histogram,
    momentary: f64,
    short_term: f64,
}

/// The last 3 s of sub-step sums and the running sums of the momentary and short-term windows
/// that end at the latest sub-step, with the largest each has reached.
#[derive(Debug, Clone)]
struct SlidingWindows {
    /// Sub-step sums, a ring of [`SHORT_TERM_SUB_STEPS`].
    ring: Box<[f64]>,
    /// Sub-steps completed.
    done: u64,
    momentary_sum: f64,
    short_term_sum: f64,
    max_momentary_sum: f64,
    max_short_term_sum: f64,
}

impl SlidingWindows {
    fn new() -> Self {
        Self {
            ring: vec![0.0; SHORT_TERM_SUB_STEPS].into_boxed_slice(),
            done: 0,
            momentary_sum: 0.0,
            short_term_sum: 0.0,
            max_momentary_sum: f64::NEG_INFINITY,
            max_short_term_sum: f64::NEG_INFINITY,
        }
    }

    fn clear(&mut self) {
        self.ring.fill(0.0);
        self.done = 0;
        self.momentary_sum = 0.0;
        self.short_term_sum = 0.0;
        self.max_momentary_sum = f64::NEG_INFINITY;
        self.max_short_term_sum = f64::NEG_INFINITY;
    }

    fn slot(&self, back: usize) -> usize {
        ((self.done - back as u64) % SHORT_TERM_SUB_STEPS as u64) as usize
    }

    /// Slides both windows on by one sub-step of weighted sum `sum`.
    fn push(&mut self, sum: f64) {
        let leaving_momentary = if self.done >= MOMENTARY_SUB_STEPS as u64 {
            self.ring[self.slot(MOMENTARY_SUB_STEPS)]
        } else {
            0.0
        };
        let slot = self.slot(0);
        // The ring holds 3 s, so the slot written is the one leaving the short-term window.
        let leaving_short_term = self.ring[slot];
        self.ring[slot] = sum;
        self.done += 1;
        self.momentary_sum += sum - leaving_momentary;
        self.short_term_sum += sum - leaving_short_term;
        if self.done >= MOMENTARY_SUB_STEPS as u64 {
            self.max_momentary_sum = self.max_momentary_sum.max(self.momentary_sum);
        }
        if self.done >= SHORT_TERM_SUB_STEPS as u64 {
            self.max_short_term_sum = self.max_short_term_sum.max(self.short_term_sum);
        }
    }

    /// At a step's end both windows span whole steps: takes their exact sums from there, so
    /// the running sums' rounding never outlives a step.
    fn settle(&mut self, momentary_sum: f64, short_term_sum: f64) {
        self.momentary_sum = momentary_sum;
        self.short_term_sum = short_term_sum;
    }
}

impl LoudnessMeter {
    /// A meter for `channels` channels at `sample_rate`, weighted as [`channel_weights`].
    pub fn new(sample_rate: f64, channels: usize) -> Self {
        Self::with_range_hop(sample_rate, channels, RANGE_HOP_STEPS)
    }

    /// The same, with the loudness range reading a short-term window every `hop` steps of
    /// 100 ms (10: as libebur128 does).
    pub fn with_range_hop(sample_rate: f64, channels: usize, hop: u64) -> Self {
        Self {
            filter: KWeighting::new(sample_rate),
            states: vec![KState::default(); channels],
            weights: channel_weights(channels),
            // As libebur128 rounds it: 4410 at 44.1 kHz, 4800 at 48 kHz.
            step_len: ((sample_rate + 5.0) / 10.0).max(1.0) as usize,
            in_step: 0,
            step_sum: 0.0,
            sub_step: 0,
            sub_step_sum: 0.0,
            sliding: SlidingWindows::new(),
            steps: [0.0; SHORT_TERM_STEPS],
            done: 0,
            range_hop: hop.max(1),
            blocks: Histogram::new(),
            windows: Histogram::new(),
            momentary: f64::NEG_INFINITY,
            short_term: f64::NEG_INFINITY,
        }
    }

    /// Starts over (a new pass).
    pub fn reset(&mut self) {
        self.states.fill(KState::default());
        self.in_step = 0;
        self.step_sum = 0.0;
        self.sub_step = 0;
        self.sub_step_sum = 0.0;
        self.sliding.clear();
        self.steps = [0.0; SHORT_TERM_STEPS];
        self.done = 0;
        self.blocks.clear();
        self.windows.clear();
        self.momentary = f64::NEG_INFINITY;
        self.short_term = f64::NEG_INFINITY;
    }

    /// Where the current sub-step ends, in samples from the step's start.
    fn sub_step_end(&self) -> usize {
        (self.sub_step + 1) * self.step_len / SUB_STEPS
    }

    /// Feeds one block, one slice per channel (all the same length; extra slices are
    /// ignored, missing ones are silence).
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S]) {
        let frames = channels.first().map_or(0, |c| c.as_ref().len());
        let mut at = 0;
        while at < frames {
            let take = (self.sub_step_end() - self.in_step).min(frames - at);
            let stereo = channels.len() == 2
                && self.states.len() == 2
                && channels.iter().all(|c| c.as_ref().len() >= at + take);
            if stereo {
                let [left, right] = &mut self.states[..] else {
                    unreachable!("two states checked above")
                };
                let sums = self.filter.pair_sums_of_squares(
                    [left, right],
                    [
                        &channels[0].as_ref()[at..at + take],
                        &channels[1].as_ref()[at..at + take],
                    ],
                );
                self.sub_step_sum += self.weights[0] * sums[0] + self.weights[1] * sums[1];
            } else {
                for ((channel, state), &weight) in
                    channels.iter().zip(&mut self.states).zip(&self.weights)
                {
                    let channel = channel.as_ref();
                    let end = (at + take).min(channel.len());
                    if weight != 0.0 && at < end {
                        self.sub_step_sum +=
                            weight * self.filter.sum_of_squares(state, &channel[at..end]);
                    }
                }
            }
            at += take;
            self.in_step += take;
            // A step shorter than SUB_STEPS samples has empty sub-steps: they end here too.
            while self.sub_step < SUB_STEPS && self.in_step == self.sub_step_end() {
                self.finish_sub_step();
            }
            if self.in_step == self.step_len {
                self.finish_step();
            }
        }
    }

    fn finish_sub_step(&mut self) {
        self.sliding.push(self.sub_step_sum);
        self.step_sum += self.sub_step_sum;
        self.sub_step_sum = 0.0;
        self.sub_step += 1;
    }

    fn finish_step(&mut self) {
        self.steps[(self.done % SHORT_TERM_STEPS as u64) as usize] = self.step_sum;
        self.done += 1;
        self.step_sum = 0.0;
        self.in_step = 0;
        self.sub_step = 0;
        // The sum of the last `n` steps (fewer at the start of a pass).
        let recent = |n: usize| -> f64 {
            (0..self.done.min(n as u64))
                .map(|back| self.steps[((self.done - 1 - back) % SHORT_TERM_STEPS as u64) as usize])
                .sum::<f64>()
        };
        let (block_sum, window_sum) = (recent(MOMENTARY_STEPS), recent(SHORT_TERM_STEPS));
        self.sliding.settle(block_sum, window_sum);
        let block = block_sum / (MOMENTARY_STEPS * self.step_len) as f64;
        let window = window_sum / (SHORT_TERM_STEPS * self.step_len) as f64;
        if self.done >= MOMENTARY_STEPS as u64 {
            self.blocks.add(block);
            self.momentary = lufs(block);
        }
        if self.done >= SHORT_TERM_STEPS as u64 {
            if (self.done - SHORT_TERM_STEPS as u64).is_multiple_of(self.range_hop) {
                self.windows.add(window);
            }
            self.short_term = lufs(window);
        }
    }

    /// The latest (momentary, short-term) loudness, LUFS: cheap enough for every block.
    pub fn loudness_now(&self) -> (f64, f64) {
        (self.momentary, self.short_term)
    }

    /// Everything measured so far. Reads both histograms: not for every block.
    pub fn loudness(&self) -> Loudness {
        let integrated = self
            .blocks
            .gated(INTEGRATED_RELATIVE_GATE_LU)
            .map(|(_, _, mean)| lufs(mean));
        let range = self
            .windows
            .gated(RANGE_RELATIVE_GATE_LU)
            .map(|(from, count, _)| {
                let rank = |p: f64| ((count - 1) as f64 * p).round() as u64;
                self.windows.ranked(from, rank(RANGE_HIGH_PERCENTILE))
                    - self.windows.ranked(from, rank(RANGE_LOW_PERCENTILE))
            });
        let mean = |sum: f64, steps: usize| sum / (steps * self.step_len) as f64;
        Loudness {
            integrated_lufs: integrated,
            range_lu: range,
            max_momentary_lufs: lufs(mean(self.sliding.max_momentary_sum, MOMENTARY_STEPS)),
            max_short_term_lufs: lufs(mean(self.sliding.max_short_term_sum, SHORT_TERM_STEPS)),
            momentary_lufs: self.momentary,
            short_term_lufs: self.short_term,
        }
    }
}
