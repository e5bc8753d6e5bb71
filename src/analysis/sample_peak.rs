//! Exact sample peak with separate accounting of non-finite samples.

use super::level::pairwise_sum;
use super::simd::{self, widest};

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
    let (done, bits) = kernel_max_abs_bits(samples);
    peak_from_bits(bits.max(max_abs_bits(&samples[done..])))
}

/// The hand-written kernel's part of [`max_abs`], where the CPU has one: (samples done, their
/// largest [`abs_bits`]).
#[inline(always)]
fn kernel_max_abs_bits(samples: &[f32]) -> (usize, i32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { simd::avx2::max_abs_bits(samples) };
        }
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    {
        // SAFETY: NEON is enabled for this build (every aarch64 CPU has it).
        return unsafe { simd::neon::max_abs_bits(samples) };
    }
    #[allow(unreachable_code)]
    (0, 0)
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
    let (done, all) = kernel_stretch_maxima(samples, maxima);
    portable_stretch_maxima(samples, maxima, done, all)
}

/// The hand-written kernel's part of [`stretch_maxima`], where the CPU has one: (stretches
/// done, their largest [`abs_bits`]).
#[inline(always)]
fn kernel_stretch_maxima(samples: &[f32], maxima: &mut [f32]) -> (usize, i32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { simd::avx2::stretch_maxima::<STRETCH>(samples, maxima) };
        }
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    {
        // SAFETY: NEON is enabled for this build (every aarch64 CPU has it).
        return unsafe { simd::neon::stretch_maxima::<STRETCH>(samples, maxima) };
    }
    #[allow(unreachable_code)]
    (0, 0)
}

/// [`stretch_maxima`] from stretch `done` on, given the largest bits `all` before it.
fn portable_stretch_maxima(samples: &[f32], maxima: &mut [f32], done: usize, mut all: i32) -> f32 {
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

    /// Inputs that hold the kernels to the portable loops: lengths around the kernels' group
    /// sizes, both signs, both zeros, denormals, and non-finite samples in some stretches.
    fn awkward_inputs() -> Vec<Vec<f32>> {
        let mut inputs = Vec::new();
        for len in [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 130, 1000, 4099] {
            let x: Vec<f32> = (0..len)
                .map(|i| match i % 11 {
                    0 => -0.0,
                    3 => f32::MIN_POSITIVE / 16.0,
                    7 => -(((i * 7919) % 2003) as f32 / 2003.0),
                    _ => ((i * 104_729) % 4001) as f32 / 4001.0 - 0.5,
                })
                .collect();
            for bad in [
                None,
                Some(f32::NAN),
                Some(f32::NEG_INFINITY),
                Some(-f32::NAN),
            ] {
                let mut y = x.clone();
                if let Some(bad) = bad {
                    for at in [len / 3, len - len / 5].into_iter().filter(|&at| at < len) {
                        y[at] = bad;
                    }
                }
                inputs.push(y);
            }
        }
        inputs
    }

    #[test]
    fn the_kernels_give_the_portable_loops_bits() {
        eprintln!("kernels on this CPU: {}", simd::kernels());
        for x in awkward_inputs() {
            let plain = peak_from_bits(max_abs_bits(&x));
            assert_eq!(
                max_abs(&x).to_bits(),
                plain.to_bits(),
                "max_abs of {}",
                x.len()
            );
            let stretches = x.len().div_ceil(STRETCH);
            let (mut fast, mut slow) = (vec![0.0f32; stretches], vec![0.0f32; stretches]);
            let all = stretch_maxima(&x, &mut fast);
            let plain_all = portable_stretch_maxima(&x, &mut slow, 0, 0);
            assert_eq!(all.to_bits(), plain_all.to_bits(), "all of {}", x.len());
            let bits = |v: &[f32]| v.iter().map(|m| m.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&slow), "stretches of {}", x.len());
        }
        // The kernels really ran (where the CPU has them) on input as long as a meter's block.
        let block = vec![0.5f32; 512];
        let ran = kernel_stretch_maxima(&block, &mut [0.0; 32]).0 > 0
            && kernel_max_abs_bits(&block).0 > 0;
        assert_eq!(ran, simd::kernels() != "none");
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
