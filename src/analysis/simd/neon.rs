//! The hand-written NEON kernels (Apple Silicon, ARM Linux): the same scans as the AVX2 ones,
//! four lanes wide, and the interpolator's folded sums (`folded.rs`) in NEON registers. NEON is part of every aarch64 CPU, so nothing is detected at run
//! time. Each performs the portable loop's operations in the same order (integer maxima are
//! exact; every float sum is a separate multiply and add in tap order, never fused), so the
//! results are the same bits.

use super::folded::{self, Lanes};
use std::arch::aarch64::*;

/// The bits of f32 +∞: every magnitude at or above them is not finite.
const NON_FINITE_BITS: u32 = 0x7f80_0000;

/// The magnitude bits (sign cleared) of four samples.
#[inline]
#[target_feature(enable = "neon")]
fn magnitudes(four: &[f32]) -> uint32x4_t {
    let four: &[f32; 4] = four.try_into().expect("four samples");
    // SAFETY: `four` holds four f32.
    let bits = unsafe { vld1q_u32(four.as_ptr().cast()) };
    vandq_u32(bits, vdupq_n_u32(0x7fff_ffff))
}

/// The largest magnitude bits of the samples up to the last whole 16; returns how many
/// samples that was and the maximum. Four accumulators keep the vector units busy.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn max_abs_bits(samples: &[f32]) -> (usize, i32) {
    let mut acc = [vdupq_n_u32(0); 4];
    let mut chunks = samples.chunks_exact(16);
    for chunk in &mut chunks {
        for (j, a) in acc.iter_mut().enumerate() {
            *a = vmaxq_u32(*a, magnitudes(&chunk[4 * j..4 * j + 4]));
        }
    }
    let all = vmaxq_u32(vmaxq_u32(acc[0], acc[1]), vmaxq_u32(acc[2], acc[3]));
    let done = samples.len() - chunks.remainder().len();
    // Magnitude bits have the sign bit clear: they fit an i32 unchanged.
    (done, vmaxvq_u32(all) as i32)
}

/// Four stretches of `STRETCH` (16) samples at a time: each stretch's four vectors are
/// combined, then two rounds of pairwise maxima leave one stretch maximum per lane. Fills
/// `maxima` for every whole group of four stretches (NaN where a stretch holds a non-finite
/// sample); returns the stretches done and their largest magnitude bits.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn stretch_maxima<const STRETCH: usize>(samples: &[f32], maxima: &mut [f32]) -> (usize, i32) {
    const { assert!(STRETCH == 16, "four vectors of four per stretch") };
    let below_non_finite = vdupq_n_u32(NON_FINITE_BITS - 1);
    let nan = vdupq_n_u32(f32::NAN.to_bits());
    let mut all = vdupq_n_u32(0);
    let mut groups = 0;
    for (group, out) in samples
        .chunks_exact(4 * STRETCH)
        .zip(maxima.chunks_exact_mut(4))
    {
        let m: [uint32x4_t; 4] = std::array::from_fn(|s| {
            let stretch = &group[s * STRETCH..(s + 1) * STRETCH];
            vmaxq_u32(
                vmaxq_u32(magnitudes(&stretch[0..4]), magnitudes(&stretch[4..8])),
                vmaxq_u32(magnitudes(&stretch[8..12]), magnitudes(&stretch[12..16])),
            )
        });
        let maxima_bits = vpmaxq_u32(vpmaxq_u32(m[0], m[1]), vpmaxq_u32(m[2], m[3]));
        all = vmaxq_u32(all, maxima_bits);
        let non_finite = vcgtq_u32(maxima_bits, below_non_finite);
        let values = vbslq_u32(non_finite, nan, maxima_bits);
        let out: &mut [f32; 4] = out.try_into().expect("chunks_exact_mut yields 4");
        // SAFETY: `out` holds exactly four f32.
        unsafe { vst1q_u32(out.as_mut_ptr().cast(), values) };
        groups += 1;
    }
    (groups * 4, vmaxvq_u32(all) as i32)
}

/// A NEON register of four f32.
#[derive(Clone, Copy)]
struct Neon(float32x4_t);

// SAFETY: values are made only by the unsafe constructors, whose callers promise NEON.
unsafe impl Lanes for Neon {
    const WIDTH: usize = 4;
    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller's promise.
        Self(unsafe { vdupq_n_f32(0.0) })
    }
    #[inline(always)]
    unsafe fn splat(value: f32) -> Self {
        // SAFETY: the caller's promise.
        Self(unsafe { vdupq_n_f32(value) })
    }
    #[inline(always)]
    unsafe fn load(from: &[f32]) -> Self {
        let from: &[f32; 4] = from[..4].try_into().expect("four values");
        // SAFETY: the caller's promise; `from` holds four f32.
        Self(unsafe { vld1q_f32(from.as_ptr()) })
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        // SAFETY: a value exists only where the CPU has NEON (see the impl).
        Self(unsafe { vaddq_f32(self.0, other.0) })
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        // SAFETY: as in `add`.
        Self(unsafe { vsubq_f32(self.0, other.0) })
    }
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        // SAFETY: as in `add`.
        Self(unsafe { vmulq_f32(self.0, other.0) })
    }
    #[inline(always)]
    fn store(self, to: &mut [f32]) {
        let to: &mut [f32; 4] = (&mut to[..4]).try_into().expect("room for four");
        // SAFETY: as in `add`; `to` holds four f32.
        unsafe { vst1q_f32(to.as_mut_ptr(), self.0) }
    }
}

/// The interpolator's folded sums ([`folded::folded_sums`]) in NEON registers: each sum in
/// four.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn folded_sums<const E: usize, const O: usize, const HALF: usize, const REACH: usize>(
    even_taps: [&[f32; HALF]; E],
    odd_taps: [&[f32; HALF]; O],
    x: &[f32; REACH],
) -> ([[f32; 16]; E], [[f32; 16]; O]) {
    // SAFETY: this function runs only where the CPU has NEON, and is compiled for it.
    unsafe { folded::folded_sums::<Neon, 4, E, O, HALF, REACH>(even_taps, odd_taps, x) }
}
