//! Lossy origin: MP3 and AAC encoders throw away everything above a fixed frequency (about
//! 16 kHz at 128 kbit/s, 19–20 kHz at 256–320 kbit/s), leaving a cliff in the long-term spectrum
//! that no microphone, synthesizer or mix bus makes. A WAV decoded from an MP3 still has it.

use super::level::log10;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// FFT length: 11.7 Hz bins at 48 kHz.
const FFT_LEN: usize = 4096;
/// Analyse one frame in this many: the long-term spectrum needs a sample of the song, not all
/// of it.
const FRAME_STRIDE: u64 = 4;
/// Search for a cliff between these frequencies.
const SEARCH_HZ: (f32, f32) = (15_000.0, 20_500.0);
/// Width of the bands compared below and above a candidate cutoff.
const BAND_HZ: f32 = 1_000.0;
/// Gap left around the candidate (the encoder's transition band).
const GAP_HZ: f32 = 250.0;
/// Drop needed across the gap.
const CLIFF_DB: f32 = 30.0;
/// The band below the cliff must carry signal, not only dither.
const MIN_BELOW_DB: f32 = -110.0;
/// Audio from a 44.1 kHz source (a sample library, a bounce) resampled to a higher rate stops
/// where the converter's filter closed, at 20 to 21.5 kHz: in a file above 44.1 kHz a cliff
/// from here up is that, not an encoder's.
const RESAMPLED_FROM_44K_HZ: f32 = 20_000.0;

/// A cliff in the long-term spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectralCutoff {
    /// Where the spectrum falls off, Hz.
    pub frequency_hz: f32,
    /// How far it falls, dB (band below against band above).
    pub drop_db: f32,
}

/// Accumulates the long-term power spectrum of a mono signal. Allocates in `new` only.
pub struct CutoffDetector {
    sample_rate: f32,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    frame: Vec<f32>,
    filled: usize,
    frames_seen: u64,
    scratch_in: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    power: Vec<f64>,
    frames_used: u64,
}

impl CutoffDetector {
    /// A detector for audio at `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_LEN);
        let window = (0..FFT_LEN)
            .map(|n| {
                let x = std::f32::consts::PI * n as f32 / FFT_LEN as f32;
                x.sin() * x.sin() // Hann
            })
            .collect();
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            sample_rate,
            window,
            frame: vec![0.0; FFT_LEN],
            filled: 0,
            frames_seen: 0,
            scratch_in: vec![0.0; FFT_LEN],
            power: vec![0.0; spectrum.len()],
            spectrum,
            scratch,
            fft,
            frames_used: 0,
        }
    }

    /// Feeds mono samples. Non-finite samples count as silence. Never allocates.
    pub fn process(&mut self, samples: &[f32]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (FFT_LEN - self.filled).min(rest.len());
            if self.frames_seen.is_multiple_of(FRAME_STRIDE) {
                self.frame[self.filled..self.filled + take].copy_from_slice(&rest[..take]);
            }
            self.filled += take;
            rest = &rest[take..];
            if self.filled == FFT_LEN {
                if self.frames_seen.is_multiple_of(FRAME_STRIDE) {
                    self.analyse_frame();
                }
                self.frames_seen += 1;
                self.filled = 0;
            }
        }
    }

    /// Forgets the stream. Never allocates.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.frames_seen = 0;
        self.frames_used = 0;
        self.power.fill(0.0);
    }

    fn analyse_frame(&mut self) {
        for ((out, x), w) in self
            .scratch_in
            .iter_mut()
            .zip(&self.frame)
            .zip(&self.window)
        {
            *out = if x.is_finite() { x * w } else { 0.0 };
        }
        if self
            .fft
            .process_with_scratch(&mut self.scratch_in, &mut self.spectrum, &mut self.scratch)
            .is_ok()
        {
            for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
                *p += f64::from(c.norm_sqr());
            }
            self.frames_used += 1;
        }
    }

    /// The steepest cliff in the search range, if one is there.
    pub fn cutoff(&self) -> Option<SpectralCutoff> {
        if self.frames_used == 0 {
            return None;
        }
        let bin_hz = self.sample_rate / FFT_LEN as f32;
        let nyquist = self.sample_rate / 2.0;
        // Normalised so a full-scale sine reads about 0 dB in its bin.
        let scale = 4.0 / (self.frames_used as f64 * (FFT_LEN as f64 / 2.0).powi(2));
        let band_db = |from_hz: f32, to_hz: f32| {
            let from = (from_hz / bin_hz).round() as usize;
            let to = ((to_hz / bin_hz).round() as usize).min(self.power.len());
            if to <= from {
                return f32::NEG_INFINITY;
            }
            let mean = self.power[from..to].iter().sum::<f64>() / (to - from) as f64 * scale;
            (10.0 * log10(mean.max(1e-30))) as f32
        };
        let mut best: Option<SpectralCutoff> = None;
        let mut f = SEARCH_HZ.0;
        while f <= SEARCH_HZ.1.min(nyquist - GAP_HZ - BAND_HZ / 2.0) {
            let below = band_db(f - BAND_HZ - GAP_HZ, f - GAP_HZ);
            // Above the cliff: everything up to (nearly) Nyquist must stay down.
            let above = band_db(f + GAP_HZ, (f + GAP_HZ + 2.0 * BAND_HZ).min(nyquist * 0.98));
            let drop_db = below - above;
            if below > MIN_BELOW_DB
                && drop_db >= CLIFF_DB
                && best.is_none_or(|b| drop_db > b.drop_db)
            {
                best = Some(SpectralCutoff {
                    frequency_hz: f,
                    drop_db,
                });
            }
            f += bin_hz * 4.0;
        }
        // The drop is huge for every candidate whose gap straddles the cliff; the cliff itself
        // is where the spectrum first falls halfway down.
        let resampled_up = self.sample_rate > 44_100.0;
        best.map(|b| {
            let below = band_db(b.frequency_hz - BAND_HZ - GAP_HZ, b.frequency_hz - GAP_HZ);
            let mut f = b.frequency_hz - GAP_HZ - BAND_HZ / 2.0;
            while f < b.frequency_hz + GAP_HZ
                && band_db(f, f + 8.0 * bin_hz) > below - CLIFF_DB / 2.0
            {
                f += bin_hz;
            }
            SpectralCutoff {
                frequency_hz: f,
                drop_db: b.drop_db,
            }
        })
        .filter(|c| !(resampled_up && c.frequency_hz >= RESAMPLED_FROM_44K_HZ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// White noise, optionally brick-wall low-passed in the frequency domain.
    pub(crate) fn noise(rate: f32, seconds: f32, lowpass_hz: Option<f32>) -> Vec<f32> {
        let len = (rate * seconds) as usize / FFT_LEN * FFT_LEN;
        let mut state = 7u64;
        let mut x: Vec<f32> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.5
            })
            .collect();
        if let Some(cut) = lowpass_hz {
            let mut planner = RealFftPlanner::<f32>::new();
            let forward = planner.plan_fft_forward(len);
            let inverse = planner.plan_fft_inverse(len);
            let mut spectrum = forward.make_output_vec();
            forward.process(&mut x, &mut spectrum).unwrap();
            for (k, c) in spectrum.iter_mut().enumerate() {
                if k as f32 * rate / len as f32 > cut {
                    *c = realfft::num_complex::Complex::new(0.0, 0.0);
                }
            }
            inverse.process(&mut spectrum, &mut x).unwrap();
            x.iter_mut().for_each(|s| *s /= len as f32);
        }
        x
    }

    fn detect(x: &[f32], rate: f32) -> Option<SpectralCutoff> {
        let mut detector = CutoffDetector::new(rate);
        for block in x.chunks(1000) {
            detector.process(block);
        }
        detector.cutoff()
    }

    #[test]
    fn an_encoder_cliff_is_found_within_a_few_bins() {
        for (rate, cut) in [(44_100.0, 16_000.0), (48_000.0, 19_500.0)] {
            let found = detect(&noise(rate, 10.0, Some(cut)), rate).expect("cliff found");
            assert!(
                (found.frequency_hz - cut).abs() < 300.0,
                "{rate} Hz, cut {cut}: {found:?}"
            );
        }
    }

    #[test]
    fn full_band_noise_and_a_dull_stem_have_no_cliff() {
        assert_eq!(detect(&noise(48_000.0, 10.0, None), 48_000.0), None);
        // A bass stem with nothing above 5 kHz: both sides of any candidate are empty.
        assert_eq!(
            detect(&noise(48_000.0, 10.0, Some(5_000.0)), 48_000.0),
            None
        );
        // A 44.1 kHz converter's anti-alias filter sits above the search range.
        assert_eq!(
            detect(&noise(44_100.0, 10.0, Some(21_000.0)), 44_100.0),
            None
        );
    }

    #[test]
    fn a_44_1_khz_source_resampled_up_is_not_an_encoder() {
        for rate in [48_000.0, 96_000.0] {
            assert_eq!(detect(&noise(rate, 10.0, Some(20_400.0)), rate), None);
        }
        // The same edge in a 44.1 kHz file is where a 320 kbit/s encoder stops.
        let found = detect(&noise(44_100.0, 10.0, Some(20_400.0)), 44_100.0);
        assert!(found.is_some_and(|c| (c.frequency_hz - 20_400.0).abs() < 300.0));
    }
}
