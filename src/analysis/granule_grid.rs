//! MP3 origin from the encoder's time grid. An MP3 encoder codes the audio in granules of 576
//! samples and quantises each granule's spectrum on its own, so a decoded MP3 keeps a trace of
//! that grid even where it has no high frequencies to cut off: how noise-like its spectrum is
//! changes in step with the granules. The detector measures the level and the spectral flatness
//! of four bands in short frames, folds each by position modulo 576 samples, and compares how
//! much it varies across that period with how much it varies across nearby periods that mean
//! nothing. Natural audio has no preferred period there; a decoded MP3 stands out.

use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// An MP3 granule at 32 to 48 kHz, samples. Files above 48 kHz made from an MP3 went through
/// a resampler: their grid is a whole multiple of this.
pub const GRANULE: usize = 576;
/// Frame length and hop at up to 48 kHz, samples (both scale with the rate above it).
const FRAME: usize = 256;
const HOP: usize = 16;
/// Edges of the bands whose level and flatness are read, Hz: where an encoder spends few bits
/// and leaves holes.
const BAND_EDGES_HZ: [f32; 5] = [2_000.0, 4_000.0, 7_000.0, 11_000.0, 16_000.0];
/// Level and flatness of each band.
const FEATURES: usize = 2 * (BAND_EDGES_HZ.len() - 1);
/// The first seconds of sound after the file starts are enough.
const ANALYSED_S: f32 = 30.0;
/// Slow changes of the music are taken out with a centred moving average over this many frames
/// (about 4 granules).
const DETREND_FRAMES: usize = 73;
/// Periods (at up to 48 kHz) that mean nothing to an encoder, for comparison.
const OTHER_PERIODS: [usize; 12] = [480, 496, 512, 528, 544, 560, 592, 608, 624, 640, 656, 672];
/// The grid must stand out this much from the other periods (the root mean of the features'
/// variance ratios): clean rendered songs stayed below 1.3, drum hits on a sample-exact grid
/// that lands on one granule phase at 1.4; decoded MP3s at 96 and 128 kbit/s mostly reached
/// 1.6 and more (EVALUATION.md).
pub const MIN_GRID_RATIO: f32 = 1.6;
/// Frames quieter than this (mean power per bin in the band) carry no evidence.
const QUIET_POWER: f32 = 1e-12;
/// Frames with sound needed before any verdict: about 5 s at the hop.
const MIN_FRAMES: u32 = 15_000;
/// Music that repeats itself sample-exactly every few granules (a drum machine at 125 BPM and
/// 48 kHz plays a 16th every 10 granules, the same sample each time) folds onto the granule
/// like an encoder does; no verdict when the level correlates this well with itself one or
/// more whole granules later (up to [`REPEAT_GRANULES`]).
const REPEATS_CORRELATION: f32 = 0.5;
const REPEAT_GRANULES: usize = 210;

/// One fold: flatness summed by phase within a period.
#[derive(Debug, Clone)]
struct Fold {
    period_frames: usize,
    sums: Vec<f64>,
    counts: Vec<u32>,
}

impl Fold {
    fn new(period_frames: usize) -> Self {
        Self {
            period_frames,
            sums: vec![0.0; period_frames],
            counts: vec![0; period_frames],
        }
    }

    fn add(&mut self, frame: u64, value: f32) {
        let phase = (frame % self.period_frames as u64) as usize;
        self.sums[phase] += f64::from(value);
        self.counts[phase] += 1;
    }

    /// Variance of the phase means.
    fn spread(&self) -> f32 {
        let means = || {
            self.sums
                .iter()
                .zip(&self.counts)
                .filter(|(_, &c)| c > 0)
                .map(|(s, &c)| s / f64::from(c))
        };
        let count = means().count();
        if count < 2 {
            return 0.0;
        }
        let mean = means().sum::<f64>() / count as f64;
        let variance = means().map(|m| (m - mean) * (m - mean)).sum::<f64>() / count as f64;
        variance as f32
    }
}

/// One feature's moving average and folds.
#[derive(Debug, Clone)]
struct Feature {
    recent_sum: f64,
    grid: Fold,
    others: Vec<Fold>,
}

impl Feature {
    /// The grid's variance over the median of the other periods' (about 1 for natural audio).
    fn ratio(&self) -> Option<f32> {
        let mut others = [0.0f32; OTHER_PERIODS.len()];
        for (spread, fold) in others.iter_mut().zip(&self.others) {
            *spread = fold.spread();
        }
        others.sort_by(f32::total_cmp);
        let median = others[others.len() / 2];
        (median > 0.0).then(|| self.grid.spread() / median)
    }
}

/// Streams mono audio and reads the granule grid from its first [`ANALYSED_S`] seconds.
/// Allocates in `new` only.
pub struct GranuleGridDetector {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    frame: Vec<f32>,
    input: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    /// Samples seen (the ring's write position), and samples until the next hop.
    held: usize,
    until_hop: usize,
    hop: usize,
    bands: Vec<std::ops::Range<usize>>,
    /// The features of the recent frames (for the moving average), and whether each had sound.
    recent: Vec<([f32; FEATURES], bool)>,
    features: Vec<Feature>,
    frames: u64,
    frames_limit: u64,
    sounding_frames: u32,
    /// The detrended overall level of every analysed frame (0 where silent), for the
    /// repetition guard.
    levels: Vec<f32>,
}

impl GranuleGridDetector {
    /// A detector for audio at `sample_rate` Hz.
    pub fn new(sample_rate: f32) -> Self {
        let scale = ((sample_rate / 48_000.0).ceil() as usize).max(1);
        let frame_len = FRAME * scale;
        let hop = HOP * scale;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(frame_len);
        let window = (0..frame_len)
            .map(|n| {
                let x = std::f32::consts::PI * n as f32 / frame_len as f32;
                x.sin() * x.sin() // Hann
            })
            .collect();
        let bin_hz = sample_rate / frame_len as f32;
        let bin = |hz: f32| ((hz.min(sample_rate / 2.0) / bin_hz).round() as usize).max(1);
        let bands = BAND_EDGES_HZ
            .windows(2)
            .map(|edges| bin(edges[0])..bin(edges[1]).max(bin(edges[0]) + 1))
            .collect();
        // Periods in frames: the granule and the comparison periods are whole multiples of the
        // hop at every rate.
        let frames_per = |period: usize| period / HOP;
        Self {
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            input: vec![0.0; frame_len],
            frame: vec![0.0; frame_len],
            fft,
            window,
            held: 0,
            until_hop: hop,
            hop,
            bands,
            recent: vec![([0.0; FEATURES], false); DETREND_FRAMES],
            features: (0..FEATURES)
                .map(|_| Feature {
                    recent_sum: 0.0,
                    grid: Fold::new(frames_per(GRANULE)),
                    others: OTHER_PERIODS
                        .iter()
                        .map(|&p| Fold::new(frames_per(p)))
                        .collect(),
                })
                .collect(),
            frames: 0,
            frames_limit: (ANALYSED_S * sample_rate / hop as f32) as u64,
            sounding_frames: 0,
            levels: Vec::with_capacity((ANALYSED_S * sample_rate / hop as f32) as usize + 1),
        }
    }

    /// Feeds mono samples (non-finite ones count as silence).
    pub fn process(&mut self, samples: &[f32]) {
        let len = self.frame.len();
        for &x in samples {
            if self.frames >= self.frames_limit {
                return;
            }
            // `frame` is a ring holding the last `len` samples, oldest at `held % len`.
            self.frame[self.held % len] = if x.is_finite() { x } else { 0.0 };
            self.held += 1;
            self.until_hop -= 1;
            if self.until_hop == 0 {
                self.until_hop = self.hop;
                if self.held >= len {
                    self.analyse_frame();
                }
            }
        }
    }

    fn analyse_frame(&mut self) {
        let len = self.frame.len();
        let oldest = self.held % len;
        let (newer, older) = self.frame.split_at(oldest);
        for ((i, f), w) in self
            .input
            .iter_mut()
            .zip(older.iter().chain(newer))
            .zip(&self.window)
        {
            *i = f * w;
        }
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .is_err()
        {
            return;
        }
        // Level and log spectral flatness of each band (flatness: 0 for white noise, very
        // negative for a few strong lines).
        let mut values = [0.0f32; FEATURES];
        let mut total = 0.0f64;
        let mut bins_total = 0usize;
        for (band, pair) in self.bands.iter().zip(values.chunks_exact_mut(2)) {
            let bins = &self.spectrum[band.clone()];
            let (mut log_sum, mut sum) = (0.0f64, 0.0f64);
            for c in bins {
                let power = f64::from(c.norm_sqr()) + 1e-20;
                log_sum += power.ln();
                sum += power;
            }
            let n = bins.len().max(1) as f64;
            pair[0] = (sum / n).ln() as f32;
            pair[1] = (log_sum / n - (sum / n).ln()) as f32;
            total += sum;
            bins_total += bins.len();
        }
        let sounding = total / bins_total.max(1) as f64 > f64::from(QUIET_POWER);
        let slot = (self.frames % DETREND_FRAMES as u64) as usize;
        for (k, feature) in self.features.iter_mut().enumerate() {
            feature.recent_sum += f64::from(values[k]) - f64::from(self.recent[slot].0[k]);
        }
        self.recent[slot] = (values, sounding);
        self.frames += 1;
        // The frame at the centre of the moving average is ready.
        if self.frames >= DETREND_FRAMES as u64 {
            let centre = self.frames - 1 - (DETREND_FRAMES / 2) as u64;
            let (centre_values, had_sound) = self.recent[(centre % DETREND_FRAMES as u64) as usize];
            let level: f32 = self
                .features
                .iter()
                .zip(&centre_values)
                .step_by(2)
                .map(|(f, &v)| v - (f.recent_sum / DETREND_FRAMES as f64) as f32)
                .sum();
            if self.levels.len() < self.levels.capacity() {
                self.levels.push(if had_sound { level } else { 0.0 });
            }
            if had_sound {
                for (feature, &value) in self.features.iter_mut().zip(&centre_values) {
                    // Only the sign is folded: a drum machine's hits, a few loud frames on a
                    // sample-exact grid (at 125 BPM and 48 kHz every 16th lands on the same
                    // granule phase), would otherwise outweigh a trace present in every granule.
                    let above = value > (feature.recent_sum / DETREND_FRAMES as f64) as f32;
                    let vote = if above { 1.0 } else { -1.0 };
                    feature.grid.add(centre, vote);
                    for fold in &mut feature.others {
                        fold.add(centre, vote);
                    }
                }
                self.sounding_frames += 1;
            }
        }
    }

    /// The music repeats itself (its level correlates with itself) a whole number of granules
    /// later: its own grid, not an encoder's, may be what folds.
    fn repeats_on_the_grid(&self) -> bool {
        const GRANULE_FRAMES: usize = GRANULE / HOP;
        let x = &self.levels;
        // An encoder's own trace repeats every granule too: take out the level's mean at each
        // phase of the granule, so only the music's repetition is left.
        let mut phase_sum = [0.0f64; GRANULE_FRAMES];
        let mut phase_count = [0u32; GRANULE_FRAMES];
        for (i, &v) in x.iter().enumerate() {
            phase_sum[i % GRANULE_FRAMES] += f64::from(v);
            phase_count[i % GRANULE_FRAMES] += 1;
        }
        let music = |i: usize| {
            let phase = i % GRANULE_FRAMES;
            f64::from(x[i]) - phase_sum[phase] / f64::from(phase_count[phase].max(1))
        };
        (2..=REPEAT_GRANULES).any(|k| {
            let lag = k * GRANULE_FRAMES;
            if lag >= x.len() / 2 {
                return false;
            }
            let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
            for i in 0..x.len() - lag {
                let (p, q) = (music(i), music(i + lag));
                ab += p * q;
                aa += p * p;
                bb += q * q;
            }
            aa > 0.0 && bb > 0.0 && (ab / (aa * bb).sqrt()) as f32 >= REPEATS_CORRELATION
        })
    }

    /// How much more the bands' level and flatness vary across the MP3 granule than across
    /// periods that mean nothing (the root mean of the variance ratios: about 1 for natural
    /// audio), or `None` with too little sound to tell or music that repeats itself on the
    /// granule grid.
    pub fn grid_ratio(&self) -> Option<f32> {
        if self.sounding_frames < MIN_FRAMES || self.repeats_on_the_grid() {
            return None;
        }
        let mut sum = 0.0f32;
        for feature in &self.features {
            sum += feature.ratio()?;
        }
        Some((sum / FEATURES as f32).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(seed: u64, len: usize) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect()
    }

    #[test]
    fn a_spectrum_that_changes_every_granule_stands_out_and_steady_noise_does_not() {
        let rate = 48_000;
        let len = 20 * rate;
        // Noise whose high band switches off in the second half of every 576-sample granule,
        // as an encoder that runs out of bits leaves it: a two-tap average removes the top.
        let white = noise(1, len);
        let gridded: Vec<f32> = (0..len)
            .map(|n| {
                if n % GRANULE < GRANULE / 2 || n == 0 {
                    white[n]
                } else {
                    0.5 * (white[n] + white[n - 1])
                }
            })
            .collect();
        let ratio = |x: &[f32]| {
            let mut d = GranuleGridDetector::new(rate as f32);
            for block in x.chunks(1000) {
                d.process(block);
            }
            d.grid_ratio().expect("enough sound")
        };
        assert!(ratio(&gridded) > 5.0, "{}", ratio(&gridded));
        // A drum machine: the same hit every 5760 samples (16ths at 125 BPM, 48 kHz), every
        // hit on the same granule phase, yet no encoder was involved. No verdict.
        let mut hits = noise(2, len).iter().map(|x| 0.02 * x).collect::<Vec<f32>>();
        let burst = noise(3, 2000);
        for start in (0..len - 2000).step_by(5760) {
            for (k, b) in burst.iter().enumerate() {
                hits[start + k] += 0.6 * b * (-(k as f32) / 300.0).exp();
            }
        }
        let mut drum_machine = GranuleGridDetector::new(rate as f32);
        drum_machine.process(&hits);
        assert_eq!(drum_machine.grid_ratio(), None);
        assert!(ratio(&white) < MIN_GRID_RATIO, "{}", ratio(&white));
        // Too little sound: no verdict.
        let mut short = GranuleGridDetector::new(rate as f32);
        short.process(&white[..rate]);
        assert_eq!(short.grid_ratio(), None);
    }
}
