//! Exact sample peak with separate accounting of non-finite samples.

use super::level::pairwise_sum;
use super::simd::widest;

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
#[inline]
pub fn max_abs(samples: &[f32]) -> f32 {
    // The AVX2 kernel's part (samples done, their largest bits), where the CPU has it.
    let (done, bits) = {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { by_eight::max_abs_bits(samples) }
            } else {
                (0, 0)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            (0, 0)
        }
    };
    peak_from_bits(bits.max(max_abs_bits(&samples[done..])))
}

/// [`max_abs`] and Σx² in one pass (Σx² is meaningless when the peak is NaN). The lanes are
/// reduced inside the vectorised build too: the baseline's reductions (no integer maximum
/// instruction before SSE4.1) had cost as much as the loop on a 512-sample block.
pub fn max_abs_and_energy(samples: &[f32]) -> (f32, f64) {
    let (peak_bits, energy) = widest(
        #[inline(always)]
        || {
            let mut peak = [0i32; 32];
            let mut energy = [0.0f32; 32];
            let mut chunks = samples.chunks_exact(peak.len());
            for chunk in &mut chunks {
                for ((p, e), &x) in peak.iter_mut().zip(&mut energy).zip(chunk) {
                    *p = (*p).max(abs_bits(x));
                    *e += x * x;
                }
            }
            let tail = chunks.remainder();
            let tail_energy: f64 = tail.iter().map(|&x| f64::from(x * x)).sum();
            let peak_bits = peak.into_iter().fold(max_abs_bits(tail), i32::max);
            (peak_bits, pairwise_sum(&energy) + tail_energy)
        },
    );
    (peak_from_bits(peak_bits), energy)
}

/// The bit pattern of |x| as an integer. For non-negative floats integer order is numeric
/// order, and every infinity and NaN lies above every finite value: one integer maximum finds
/// the largest finite |x| exactly and flags anything non-finite in the same pass.
#[inline(always)]
fn abs_bits(x: f32) -> i32 {
    (x.to_bits() & 0x7fff_ffff) as i32
}

/// The smallest [`abs_bits`] of a non-finite value (+∞).
const NON_FINITE_BITS: i32 = 0x7f80_0000;

/// The peak an [`abs_bits`] maximum stands for: NaN when the maximum is not finite.
#[inline(always)]
fn peak_from_bits(bits: i32) -> f32 {
    if bits < NON_FINITE_BITS {
        f32::from_bits(bits as u32)
    } else {
        f32::NAN
    }
}

/// Largest [`abs_bits`] over independent lanes.
#[inline(always)]
fn max_abs_bits(samples: &[f32]) -> i32 {
    let mut lanes = [0i32; 8];
    let mut chunks = samples.chunks_exact(lanes.len());
    for chunk in &mut chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane = (*lane).max(abs_bits(x));
        }
    }
    let tail = chunks.remainder().iter().map(|&x| abs_bits(x));
    lanes.into_iter().chain(tail).fold(0, i32::max)
}

/// Samples per stretch in [`stretch_maxima`].
pub const STRETCH: usize = 16;

/// One pass over `samples`: `maxima[i]` gets [`max_abs`] of the i-th stretch of [`STRETCH`]
/// samples (the last may be shorter; NaN where a stretch holds a non-finite sample), and the
/// result is the largest of them (NaN if any sample is not finite). `maxima` must have room
/// for every stretch.
pub fn stretch_maxima(samples: &[f32], maxima: &mut [f32]) -> f32 {
    // The AVX2 kernel's part (stretches done, their largest bits), where the CPU has it.
    let (done, mut all) = {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { by_eight::stretch_maxima(samples, maxima) }
            } else {
                (0, 0)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            (0, 0)
        }
    };
    for (stretch, max) in samples[done * STRETCH..]
        .chunks(STRETCH)
        .zip(&mut maxima[done..])
    {
        let bits = match stretch.try_into() {
            Ok(full) => stretch_max_bits(full),
            Err(_) => max_abs_bits(stretch),
        };
        all = all.max(bits);
        *max = peak_from_bits(bits);
    }
    peak_from_bits(all)
}

/// Eight stretches at a time in AVX2 registers: each stretch's two vectors are combined, then
/// the eight partial maxima are reduced together by interleaving (14 shuffles for eight
/// stretches instead of 6 for each). Integer maxima are exact, so the result is the same as
/// the portable code's.
#[cfg(target_arch = "x86_64")]
mod by_eight {
    use super::{NON_FINITE_BITS, STRETCH};
    use std::arch::x86_64::*;

    const GROUP: usize = 8 * STRETCH;

    /// Fills `maxima` for every whole group of eight stretches; returns the stretches done and
    /// their largest magnitude bits.
    #[target_feature(enable = "avx2")]
    pub fn stretch_maxima(samples: &[f32], maxima: &mut [f32]) -> (usize, i32) {
        let magnitude = _mm256_set1_epi32(0x7fff_ffff);
        let below_non_finite = _mm256_set1_epi32(NON_FINITE_BITS - 1);
        let nan = _mm256_set1_epi32(f32::NAN.to_bits() as i32);
        let mut all = _mm256_setzero_si256();
        let mut groups = 0;
        for (group, out) in samples.chunks_exact(GROUP).zip(maxima.chunks_exact_mut(8)) {
            let group: &[f32; GROUP] = group.try_into().expect("chunks_exact yields GROUP");
            let m = std::array::from_fn::<_, 8, _>(|s| stretch_pair_max(group, s, magnitude));
            let pairs = [
                interleave_32(m[0], m[1]),
                interleave_32(m[2], m[3]),
                interleave_32(m[4], m[5]),
                interleave_32(m[6], m[7]),
            ];
            let low = interleave_64(pairs[0], pairs[1]);
            let high = interleave_64(pairs[2], pairs[3]);
            let maxima_bits = _mm256_max_epi32(
                _mm256_permute2x128_si256::<0x20>(low, high),
                _mm256_permute2x128_si256::<0x31>(low, high),
            );
            all = _mm256_max_epi32(all, maxima_bits);
            let non_finite = _mm256_cmpgt_epi32(maxima_bits, below_non_finite);
            let values = _mm256_blendv_epi8(maxima_bits, nan, non_finite);
            let out: &mut [f32; 8] = out.try_into().expect("chunks_exact_mut yields 8");
            // SAFETY: `out` holds exactly eight f32.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), _mm256_castsi256_ps(values)) };
            groups += 1;
        }
        (groups * 8, largest_lane(all))
    }

    /// The largest magnitude bits of the samples up to the last whole 32; returns how many
    /// samples that was and the maximum. Four accumulators keep the vector units busy.
    #[target_feature(enable = "avx2")]
    pub fn max_abs_bits(samples: &[f32]) -> (usize, i32) {
        let magnitude = _mm256_set1_epi32(0x7fff_ffff);
        let mut acc = [_mm256_setzero_si256(); 4];
        let mut chunks = samples.chunks_exact(32);
        for chunk in &mut chunks {
            for (j, a) in acc.iter_mut().enumerate() {
                // SAFETY: reads samples 8j..8j+8 of a chunk of 32.
                let v = unsafe { _mm256_loadu_si256(chunk[8 * j..].as_ptr().cast()) };
                *a = _mm256_max_epi32(*a, _mm256_and_si256(v, magnitude));
            }
        }
        let all = _mm256_max_epi32(
            _mm256_max_epi32(acc[0], acc[1]),
            _mm256_max_epi32(acc[2], acc[3]),
        );
        let done = samples.len() - chunks.remainder().len();
        (done, largest_lane(all))
    }

    #[target_feature(enable = "avx2")]
    fn largest_lane(v: __m256i) -> i32 {
        let mut lanes = [0i32; 8];
        // SAFETY: `lanes` holds exactly eight i32.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
        lanes.into_iter().fold(0, i32::max)
    }

    /// Lane-wise maximum of the magnitude bits of stretch `s`'s two halves.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn stretch_pair_max(group: &[f32; GROUP], s: usize, magnitude: __m256i) -> __m256i {
        let stretch = &group[s * STRETCH..(s + 1) * STRETCH];
        // SAFETY: each load reads eight of the stretch's sixteen samples.
        let (a, b) = unsafe {
            (
                _mm256_loadu_si256(stretch.as_ptr().cast()),
                _mm256_loadu_si256(stretch[8..].as_ptr().cast()),
            )
        };
        _mm256_max_epi32(
            _mm256_and_si256(a, magnitude),
            _mm256_and_si256(b, magnitude),
        )
    }

    /// Maxima of two vectors' lane pairs, interleaved: per 128-bit half,
    /// [a(0,2), b(0,2), a(1,3), b(1,3)].
    #[inline]
    #[target_feature(enable = "avx2")]
    fn interleave_32(a: __m256i, b: __m256i) -> __m256i {
        _mm256_max_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b))
    }

    /// The next step for two [`interleave_32`] results: per 128-bit half, each lane holds one
    /// of the four vectors' maximum over that half.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn interleave_64(ab: __m256i, cd: __m256i) -> __m256i {
        _mm256_max_epi32(_mm256_unpacklo_epi64(ab, cd), _mm256_unpackhi_epi64(ab, cd))
    }
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

/// Largest of a stretch's worth of values.
#[inline(always)]
pub fn largest(values: &[f32; STRETCH]) -> f32 {
    tree_reduce(*values, greater)
}

/// Largest [`abs_bits`] of a stretch.
#[inline(always)]
fn stretch_max_bits(stretch: &[f32; STRETCH]) -> i32 {
    tree_reduce(stretch.map(abs_bits), i32::max)
}

/// Reduces a stretch's worth of values as a tree, which the compiler vectorises (a fold would
/// be a chain of comparisons, each waiting for the last).
#[inline(always)]
fn tree_reduce<T: Copy>(values: [T; STRETCH], larger: impl Fn(T, T) -> T) -> T {
    let mut m: [T; STRETCH / 2] =
        std::array::from_fn(|i| larger(values[i], values[i + STRETCH / 2]));
    let mut width = STRETCH / 4;
    while width > 0 {
        for i in 0..width {
            m[i] = larger(m[i], m[i + width]);
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
    fn stretch_maxima_of_long_input_match_a_plain_scan() {
        // Long enough for whole groups of eight stretches plus a ragged end, with signs,
        // a denormal, and a non-finite sample planted in some stretches.
        let mut x: Vec<f32> = (0..1000)
            .map(|i| ((i * 7919 % 2003) as f32 / 1001.5 - 1.0) * 0.9)
            .collect();
        x[5] = -0.99;
        x[300] = f32::MIN_POSITIVE / 8.0;
        let mut with_bad = x.clone();
        with_bad[130] = f32::NAN;
        with_bad[777] = f32::NEG_INFINITY;
        for x in [x, with_bad] {
            let mut maxima = vec![0.0; x.len().div_ceil(STRETCH)];
            let all = stretch_maxima(&x, &mut maxima);
            for (stretch, &max) in x.chunks(STRETCH).zip(&maxima) {
                let plain = if stretch.iter().all(|v| v.is_finite()) {
                    stretch.iter().fold(0.0f32, |m, v| m.max(v.abs()))
                } else {
                    f32::NAN
                };
                assert!(
                    max == plain || (max.is_nan() && plain.is_nan()),
                    "{max} vs {plain}"
                );
            }
            let finite = x.iter().all(|v| v.is_finite());
            assert_eq!(all.is_nan(), !finite);
            if finite {
                assert_eq!(all, 0.99);
            }
        }
    }

    #[test]
    fn peak_and_energy_in_one_pass_match_plain_sums() {
        let x: Vec<f32> = (0..1001)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 60.0)
            .collect();
        let (peak, energy) = max_abs_and_energy(&x);
        let plain: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        assert_eq!(peak, 50.0 / 60.0);
        assert!((energy - plain).abs() < plain * 1e-6, "{energy} vs {plain}");
        let mut bad = x;
        bad[500] = f32::INFINITY;
        assert!(max_abs_and_energy(&bad).0.is_nan());
    }

    #[test]
    fn max_abs_flags_nan_anywhere_and_finds_the_peak_anywhere() {
        // Short input, and input long enough for whole vectors plus a ragged end.
        for len in [19, 101] {
            for pos in 0..len {
                let mut x = vec![0.25f32; len];
                x[pos] = f32::NAN;
                assert!(max_abs(&x).is_nan(), "NaN at {pos} of {len} was missed");
                x[pos] = -0.5;
                assert_eq!(max_abs(&x), 0.5, "peak at {pos} of {len}");
            }
        }
        assert_eq!(max_abs(&[]), 0.0);
    }
}
