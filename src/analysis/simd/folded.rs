//! The interpolator's folded sums written once for any vector width; the AVX2 and NEON kernels
//! run it with their own registers ([`Lanes`]). Even taps apply to the mirrored sums, odd taps
//! to the differences, every sum in its own registers and in tap order, as the portable loop
//! adds them, so each width gives the same bits.

/// One instruction set's register of f32 lanes and the operations the folded sums use.
///
/// # Safety
/// An implementation calls its instruction set's intrinsics in `add`, `sub`, `mul` and `store`
/// without checking the CPU: a value may only be made (by the unsafe `zero`, `splat` and
/// `load`) where the CPU has that instruction set.
pub unsafe trait Lanes: Copy {
    /// f32 lanes per register.
    const WIDTH: usize;
    /// # Safety
    /// The CPU has this instruction set.
    unsafe fn zero() -> Self;
    /// # Safety
    /// The CPU has this instruction set.
    unsafe fn splat(value: f32) -> Self;
    /// The first [`WIDTH`](Self::WIDTH) values of `from` (panics if it is shorter).
    ///
    /// # Safety
    /// The CPU has this instruction set.
    unsafe fn load(from: &[f32]) -> Self;
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
    fn mul(self, other: Self) -> Self;
    /// Writes the lanes to the first [`WIDTH`](Self::WIDTH) values of `to` (panics if it is
    /// shorter).
    fn store(self, to: &mut [f32]);
}

/// The folded sums for sixteen intervals (windows of `2·HALF` taps starting at `x[0..16]`),
/// each sum in `VECTORS` registers of `V`.
///
/// # Safety
/// The CPU has `V`'s instruction set. Call it from a function compiled for that instruction
/// set, so that `V`'s operations are inlined as single instructions.
#[inline(always)]
pub unsafe fn folded_sums<
    V: Lanes,
    const VECTORS: usize,
    const E: usize,
    const O: usize,
    const HALF: usize,
    const REACH: usize,
>(
    even_taps: [&[f32; HALF]; E],
    odd_taps: [&[f32; HALF]; O],
    x: &[f32; REACH],
) -> ([[f32; 16]; E], [[f32; 16]; O]) {
    const {
        assert!(REACH + 1 == 2 * HALF + 16, "sixteen intervals per call");
        assert!(VECTORS * V::WIDTH == 16, "sixteen lanes per sum");
    };
    // SAFETY (this and every `zero`, `splat` and `load` below): the caller's promise.
    let zero = unsafe { V::zero() };
    let mut even = [[zero; VECTORS]; E];
    let mut odd = [[zero; VECTORS]; O];
    let load = |at: usize| -> [V; VECTORS] {
        let lanes = &x[at..at + 16];
        std::array::from_fn(|j| unsafe { V::load(&lanes[j * V::WIDTH..]) })
    };
    for k in 0..HALF {
        let (near, far) = (load(k), load(2 * HALF - 1 - k));
        let sums: [V; VECTORS] = std::array::from_fn(|j| near[j].add(far[j]));
        let differences: [V; VECTORS] = std::array::from_fn(|j| near[j].sub(far[j]));
        for (acc, taps) in even.iter_mut().zip(even_taps) {
            let h = unsafe { V::splat(taps[k]) };
            for (a, v) in acc.iter_mut().zip(sums) {
                *a = a.add(h.mul(v));
            }
        }
        for (acc, taps) in odd.iter_mut().zip(odd_taps) {
            let h = unsafe { V::splat(taps[k]) };
            for (a, v) in acc.iter_mut().zip(differences) {
                *a = a.add(h.mul(v));
            }
        }
    }
    let store = |acc: [V; VECTORS]| -> [f32; 16] {
        let mut out = [0.0f32; 16];
        for (j, v) in acc.into_iter().enumerate() {
            v.store(&mut out[j * V::WIDTH..]);
        }
        out
    };
    (even.map(store), odd.map(store))
}
