//! The hand-written AVX2 kernels: the magnitude scans of `sample_peak`, and the interpolator's
//! folded sums (`folded.rs`) in AVX registers. Each performs the portable loop's operations in the same order (integer maxima
//! are exact; every float sum is added in tap order), so the results are the same bits.

use super::folded::{self, Lanes};
use std::arch::x86_64::*;

/// The bits of f32 +∞: every magnitude at or above them is not finite.
const NON_FINITE_BITS: i32 = 0x7f80_0000;

/// The largest magnitude bits of the samples up to the last whole 32; returns how many
/// samples that was and the maximum. Four accumulators keep the vector units busy.
///
/// # Safety
/// The CPU must support AVX2.
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

/// Eight stretches of `STRETCH` (16) samples at a time: each stretch's two vectors are
/// combined, then the eight partial maxima are reduced together by interleaving (14 shuffles
/// for eight stretches instead of 6 for each). Fills `maxima` for every whole group of eight
/// stretches (NaN where a stretch holds a non-finite sample); returns the stretches done and
/// their largest magnitude bits.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn stretch_maxima<const STRETCH: usize>(samples: &[f32], maxima: &mut [f32]) -> (usize, i32) {
    const { assert!(STRETCH == 16, "two vectors of eight per stretch") };
    let magnitude = _mm256_set1_epi32(0x7fff_ffff);
    let below_non_finite = _mm256_set1_epi32(NON_FINITE_BITS - 1);
    let nan = _mm256_set1_epi32(f32::NAN.to_bits() as i32);
    let mut all = _mm256_setzero_si256();
    let mut groups = 0;
    for (group, out) in samples
        .chunks_exact(8 * STRETCH)
        .zip(maxima.chunks_exact_mut(8))
    {
        let m: [__m256i; 8] = std::array::from_fn(|s| {
            stretch_pair_max(&group[s * STRETCH..(s + 1) * STRETCH], magnitude)
        });
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

/// Lane-wise maximum of the magnitude bits of a stretch's two halves.
#[inline]
#[target_feature(enable = "avx2")]
fn stretch_pair_max(stretch: &[f32], magnitude: __m256i) -> __m256i {
    let stretch: &[f32; 16] = stretch.try_into().expect("a stretch of sixteen");
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

#[target_feature(enable = "avx2")]
fn largest_lane(v: __m256i) -> i32 {
    let mut lanes = [0i32; 8];
    // SAFETY: `lanes` holds exactly eight i32.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
    lanes.into_iter().fold(0, i32::max)
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

/// An AVX register of eight f32.
#[derive(Clone, Copy)]
struct Avx(__m256);

// SAFETY: values are made only by the unsafe constructors, whose callers promise AVX2.
unsafe impl Lanes for Avx {
    const WIDTH: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller's promise.
        Self(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn splat(value: f32) -> Self {
        // SAFETY: the caller's promise.
        Self(unsafe { _mm256_set1_ps(value) })
    }
    #[inline(always)]
    unsafe fn load(from: &[f32]) -> Self {
        let from: &[f32; 8] = from[..8].try_into().expect("eight values");
        // SAFETY: the caller's promise; `from` holds eight f32.
        Self(unsafe { _mm256_loadu_ps(from.as_ptr()) })
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        // SAFETY: a value exists only where the CPU has AVX2 (see the impl).
        Self(unsafe { _mm256_add_ps(self.0, other.0) })
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        // SAFETY: as in `add`.
        Self(unsafe { _mm256_sub_ps(self.0, other.0) })
    }
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        // SAFETY: as in `add`.
        Self(unsafe { _mm256_mul_ps(self.0, other.0) })
    }
    #[inline(always)]
    fn store(self, to: &mut [f32]) {
        let to: &mut [f32; 8] = (&mut to[..8]).try_into().expect("room for eight");
        // SAFETY: as in `add`; `to` holds eight f32.
        unsafe { _mm256_storeu_ps(to.as_mut_ptr(), self.0) }
    }
}

/// The interpolator's folded sums ([`folded::folded_sums`]) in AVX registers: each sum in two.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub fn folded_sums<const E: usize, const O: usize, const HALF: usize, const REACH: usize>(
    even_taps: [&[f32; HALF]; E],
    odd_taps: [&[f32; HALF]; O],
    x: &[f32; REACH],
) -> ([[f32; 16]; E], [[f32; 16]; O]) {
    // SAFETY: this function runs only where the CPU has AVX2, and is compiled for it.
    unsafe { folded::folded_sums::<Avx, 2, E, O, HALF, REACH>(even_taps, odd_taps, x) }
}
