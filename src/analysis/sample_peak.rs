//! Exact sample peak with separate accounting of non-finite samples.

/// Running maximum of |x| for one channel.
///
/// NaN and ±Inf are counted, never folded into the maximum: one corrupt sample must not hide
/// the real level of the rest of the stem.
#[derive(Debug, Clone, Default)]
pub struct SamplePeak {
    /// Largest finite |x| since the last reset (linear, full scale = 1.0).
    max_abs: f32,
    /// NaN samples seen since the last reset.
    nan_count: u64,
    /// +Inf or -Inf samples seen since the last reset.
    inf_count: u64,
}

impl SamplePeak {
    /// A meter that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget everything. Never allocates.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Feeds samples and returns the largest finite |x| among them. Never allocates.
    pub fn process(&mut self, samples: &[f32]) -> f32 {
        self.process_scanned(samples, max_abs(samples))
    }

    /// [`process`](Self::process) when [`max_abs`] of `samples` is already known (NaN if any
    /// sample is not finite). Never allocates.
    pub fn process_scanned(&mut self, samples: &[f32], block_max: f32) -> f32 {
        if block_max.is_finite() {
            self.max_abs = self.max_abs.max(block_max);
            return block_max;
        }
        // Rare path: something non-finite is in this block.
        let mut finite_max = 0.0f32;
        for &x in samples {
            if x.is_nan() {
                self.nan_count += 1;
            } else if x.is_infinite() {
                self.inf_count += 1;
            } else {
                finite_max = finite_max.max(x.abs());
            }
        }
        self.max_abs = self.max_abs.max(finite_max);
        finite_max
    }

    /// Largest finite |x| since the last reset.
    pub fn max_abs(&self) -> f32 {
        self.max_abs
    }

    /// NaN samples since the last reset.
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }

    /// Infinite samples since the last reset.
    pub fn inf_count(&self) -> u64 {
        self.inf_count
    }
}

/// Largest |x| in `samples`, or NaN when any sample is NaN or infinite, so callers can take a
/// fast path when everything is finite.
///
/// Written as eight independent lanes so the compiler vectorises it. Non-finite input is caught
/// by a second accumulator of x·0, which is 0 for every finite x and NaN otherwise.
#[inline]
pub fn max_abs(samples: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut poison = [0.0f32; 8];
    let mut chunks = samples.chunks_exact(8);
    for chunk in &mut chunks {
        for i in 0..8 {
            let a = chunk[i].abs();
            lanes[i] = if a > lanes[i] { a } else { lanes[i] };
            poison[i] += chunk[i] * 0.0;
        }
    }
    for &x in chunks.remainder() {
        let a = x.abs();
        lanes[0] = if a > lanes[0] { a } else { lanes[0] };
        poison[0] += x * 0.0;
    }
    let max = lanes.iter().fold(0.0f32, |m, &l| m.max(l));
    if poison.iter().sum::<f32>() == 0.0 {
        max
    } else {
        f32::NAN
    }
}

/// Samples per stretch in [`stretch_maxima`].
pub const STRETCH: usize = 16;

/// One pass over `samples`: `maxima[i]` gets [`max_abs`] of the i-th stretch of [`STRETCH`]
/// samples (the last may be shorter), and the result is the largest of them (NaN if any
/// sample is not finite). `maxima` must have room for every stretch.
pub fn stretch_maxima(samples: &[f32], maxima: &mut [f32]) -> f32 {
    let mut chunks = samples.chunks_exact(STRETCH);
    let mut poison = [0.0f32; STRETCH];
    let mut all = 0.0f32;
    for (chunk, max) in (&mut chunks).zip(maxima.iter_mut()) {
        let stretch: &[f32; STRETCH] = chunk.try_into().expect("chunks_exact yields STRETCH");
        for (p, &x) in poison.iter_mut().zip(stretch) {
            *p += x * 0.0;
        }
        *max = stretch_max(stretch);
        all = greater(all, *max);
    }
    let remainder = chunks.remainder();
    if !remainder.is_empty() {
        let max = max_abs(remainder);
        maxima[samples.len() / STRETCH] = max;
        poison[0] += max * 0.0;
        all = greater(all, max);
    }
    if poison.iter().sum::<f32>() == 0.0 {
        return all;
    }
    // Rare: something is not finite. Flag the stretches that hold it.
    for (stretch, max) in samples.chunks(STRETCH).zip(maxima.iter_mut()) {
        *max = max_abs(stretch);
    }
    f32::NAN
}

/// `a` if it is greater, else `b`: one `maxps`, unlike `f32::max` with its NaN rules.
#[inline(always)]
pub fn greater(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// Largest |x| of a full stretch of finite samples, as a reduction tree the compiler
/// vectorises.
#[inline(always)]
pub fn stretch_max(stretch: &[f32; STRETCH]) -> f32 {
    let mut m = [0.0f32; STRETCH / 2];
    for (i, v) in m.iter_mut().enumerate() {
        *v = greater(stretch[i].abs(), stretch[i + STRETCH / 2].abs());
    }
    let mut width = STRETCH / 4;
    while width > 0 {
        for i in 0..width {
            m[i] = greater(m[i], m[i + width]);
        }
        width /= 2;
    }
    m[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_peak_and_non_finite_counts() {
        let mut peak = SamplePeak::new();
        assert_eq!(peak.process(&[0.1, -0.75, 0.5]), 0.75);
        assert_eq!(
            peak.process(&[f32::NAN, 0.2, f32::INFINITY, -0.9, f32::NEG_INFINITY]),
            0.9
        );
        assert_eq!(peak.max_abs(), 0.9);
        assert_eq!(peak.nan_count(), 1);
        assert_eq!(peak.inf_count(), 2);
        peak.reset();
        assert_eq!(peak.max_abs(), 0.0);
    }

    #[test]
    fn stretch_maxima_match_their_stretches() {
        let x: Vec<f32> = (0..40).map(|i| i as f32 / 100.0).collect();
        let mut maxima = [0.0; 3];
        assert_eq!(stretch_maxima(&x, &mut maxima), 0.39);
        assert_eq!(maxima, [0.15, 0.31, 0.39]);
        let mut y = x.clone();
        y[3] = f32::INFINITY;
        assert!(stretch_maxima(&y, &mut maxima).is_nan());
    }

    #[test]
    fn max_abs_flags_nan_anywhere() {
        for pos in 0..19 {
            let mut x = vec![0.25f32; 19];
            x[pos] = f32::NAN;
            assert!(max_abs(&x).is_nan(), "NaN at {pos} was missed");
        }
        assert_eq!(max_abs(&[]), 0.0);
    }
}
