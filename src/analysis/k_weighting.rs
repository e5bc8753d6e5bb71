//! The K-weighting of ITU-R BS.1770: a high shelf (the head's acoustic effect) followed by a
//! high-pass (the revised low-frequency B curve), as two biquads.
//!
//! The standard gives the coefficients at 48 kHz only. Here both stages come from their analog
//! prototypes (centre frequency, gain and Q fitted to the 48 kHz table) through the bilinear
//! transform with the frequency prewarped, so every sample rate gets the same curve: at 48 kHz
//! the result matches the standard's table to nine decimals.

/// The shelf's centre frequency, Hz.
const SHELF_HZ: f64 = 1_681.974_450_955_533;
/// The shelf's gain at high frequencies, dB.
const SHELF_GAIN_DB: f64 = 3.999_843_853_973_347;
/// The shelf's Q.
const SHELF_Q: f64 = 0.707_175_236_955_419_6;
/// The high-pass's corner frequency, Hz.
const HIGH_PASS_HZ: f64 = 38.135_470_876_024_44;
/// The high-pass's Q.
const HIGH_PASS_Q: f64 = 0.500_327_037_323_877_3;

/// One biquad's coefficients, normalised so a0 = 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    /// Feed-forward b0, b1, b2.
    pub b: [f64; 3],
    /// Feedback a1, a2.
    pub a: [f64; 2],
}

impl Biquad {
    /// The high shelf at `sample_rate`.
    pub fn shelf(sample_rate: f64) -> Self {
        let k = (std::f64::consts::PI * SHELF_HZ / sample_rate).tan();
        let high = 10f64.powf(SHELF_GAIN_DB / 20.0);
        // The shelf's mid-band gain; the exponent places the transition where the standard's
        // table has it.
        let mid = high.powf(0.499_666_774_154_541_6);
        let a0 = 1.0 + k / SHELF_Q + k * k;
        Self {
            b: [
                (high + mid * k / SHELF_Q + k * k) / a0,
                2.0 * (k * k - high) / a0,
                (high - mid * k / SHELF_Q + k * k) / a0,
            ],
            a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / SHELF_Q + k * k) / a0],
        }
    }

    /// The high-pass at `sample_rate`. Its gain is 1 in the pass band, as the standard's
    /// table has it.
    pub fn high_pass(sample_rate: f64) -> Self {
        let k = (std::f64::consts::PI * HIGH_PASS_HZ / sample_rate).tan();
        let a0 = 1.0 + k / HIGH_PASS_Q + k * k;
        Self {
            b: [1.0, -2.0, 1.0],
            a: [
                2.0 * (k * k - 1.0) / a0,
                (1.0 - k / HIGH_PASS_Q + k * k) / a0,
            ],
        }
    }
}

/// The two stages' state for one channel (transposed direct form II).
#[derive(Debug, Clone, Copy, Default)]
pub struct KState {
    shelf: [f64; 2],
    high_pass: [f64; 2],
}

/// Both stages at one sample rate.
#[derive(Debug, Clone, Copy)]
pub struct KWeighting {
    shelf: Biquad,
    high_pass: Biquad,
}

impl KWeighting {
    /// The K-weighting at `sample_rate`.
    pub fn new(sample_rate: f64) -> Self {
        Self {
            shelf: Biquad::shelf(sample_rate),
            high_pass: Biquad::high_pass(sample_rate),
        }
    }

    /// Filters `samples` through `state` and returns the sum of the squared output. Non-finite
    /// samples are read as zero, so one NaN cannot poison the state for the rest of the pass;
    /// only a stretch that holds one pays for the check.
    #[inline]
    pub fn sum_of_squares(&self, state: &mut KState, samples: &[f32]) -> f64 {
        let [sum] = self.sums_of_squares([state], [samples]);
        sum
    }

    /// The same for two channels at once: their filters are independent, so the processor
    /// runs both recursions side by side instead of waiting on one. The slices have the same
    /// length.
    #[inline]
    pub fn pair_sums_of_squares(&self, states: [&mut KState; 2], samples: [&[f32]; 2]) -> [f64; 2] {
        self.sums_of_squares(states, samples)
    }

    fn sums_of_squares<const N: usize>(
        &self,
        mut states: [&mut KState; N],
        samples: [&[f32]; N],
    ) -> [f64; N] {
        let saved: [KState; N] = std::array::from_fn(|c| *states[c]);
        let sums = self.run::<N, false>(&mut states, samples);
        if sums.iter().all(|s| s.is_finite()) {
            return sums;
        }
        for (state, saved) in states.iter_mut().zip(saved) {
            **state = saved;
        }
        self.run::<N, true>(&mut states, samples)
    }

    /// The cascade over `N` channels in lockstep; `CLEAN` reads non-finite samples as zero.
    #[inline(always)]
    #[allow(
        clippy::needless_range_loop,
        reason = "frame i is read across the N channels' slices at once"
    )]
    fn run<const N: usize, const CLEAN: bool>(
        &self,
        states: &mut [&mut KState; N],
        samples: [&[f32]; N],
    ) -> [f64; N] {
        let (s, h) = (self.shelf, self.high_pass);
        let mut s1: [f64; N] = std::array::from_fn(|c| states[c].shelf[0]);
        let mut s2: [f64; N] = std::array::from_fn(|c| states[c].shelf[1]);
        let mut h1: [f64; N] = std::array::from_fn(|c| states[c].high_pass[0]);
        let mut h2: [f64; N] = std::array::from_fn(|c| states[c].high_pass[1]);
        let mut sum = [0.0f64; N];
        let frames = samples.iter().map(|c| c.len()).min().unwrap_or(0);
        for i in 0..frames {
            let frame: [f32; N] = std::array::from_fn(|c| samples[c][i]);
            for (c, &x) in frame.iter().enumerate() {
                let x = if CLEAN && !x.is_finite() {
                    0.0
                } else {
                    f64::from(x)
                };
                let y = s.b[0] * x + s1[c];
                s1[c] = s.b[1] * x - s.a[0] * y + s2[c];
                s2[c] = s.b[2] * x - s.a[1] * y;
                let z = y + h1[c];
                h1[c] = -2.0 * y - h.a[0] * z + h2[c];
                h2[c] = y - h.a[1] * z;
                sum[c] += z * z;
            }
        }
        // Below this the state is inaudible and only risks denormals in a silent stretch.
        let flush = |v: f64| if v.abs() < 1e-30 { 0.0 } else { v };
        for c in 0..N {
            states[c].shelf = [flush(s1[c]), flush(s2[c])];
            states[c].high_pass = [flush(h1[c]), flush(h2[c])];
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_48_khz_the_coefficients_are_the_standards() {
        // ITU-R BS.1770-5, Tables 1 and 2.
        let shelf = Biquad::shelf(48_000.0);
        let expected_b = [
            1.535_124_859_586_97,
            -2.691_696_189_406_38,
            1.198_392_810_852_85,
        ];
        let expected_a = [-1.690_659_293_182_41, 0.732_480_774_215_85];
        for (got, want) in shelf
            .b
            .iter()
            .zip(expected_b)
            .chain(shelf.a.iter().zip(expected_a))
        {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
        let high_pass = Biquad::high_pass(48_000.0);
        let expected_a = [-1.990_047_454_833_98, 0.990_072_250_366_21];
        for (got, want) in high_pass.a.iter().zip(expected_a) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
    }

    /// The filter's power gain for a sine at `hz`, measured after it settles, dB.
    fn gain_db(sample_rate: f64, hz: f64) -> f64 {
        let k = KWeighting::new(sample_rate);
        let mut state = KState::default();
        let n = sample_rate as usize;
        let x: Vec<f32> = (0..2 * n)
            .map(|i| (2.0 * std::f64::consts::PI * hz * i as f64 / sample_rate).sin() as f32)
            .collect();
        k.sum_of_squares(&mut state, &x[..n]);
        let power = k.sum_of_squares(&mut state, &x[n..]) / n as f64;
        10.0 * (power / 0.5).log10()
    }

    #[test]
    fn every_rate_gets_the_same_curve() {
        // The curve at 1 kHz (+0.69 dB: why a 0 dBFS 1 kHz sine reads -3.01 LUFS), in the
        // shelf (+4 dB) and below the high-pass corner. Up high, 48 kHz's own table bends by
        // up to 0.04 dB towards Nyquist (the bilinear transform); higher rates follow the
        // analog curve more closely.
        for rate in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            for (hz, want) in [(1_000.0, 0.691), (10_000.0, 3.98), (20.0, -13.25)] {
                let got = gain_db(rate, hz);
                let reference = gain_db(48_000.0, hz);
                assert!(
                    (got - reference).abs() < 0.05,
                    "{rate} Hz, {hz} Hz: {got} vs {reference}"
                );
                assert!(
                    (got - want).abs() < 0.1,
                    "{rate} Hz, {hz} Hz: {got} vs {want}"
                );
            }
        }
    }
}
