//! Running hot loops with the widest vector instructions the CPU has.
//!
//! The loops themselves are plain Rust over fixed-size lanes, which the compiler vectorises;
//! [`widest`] only lets it use 256-bit registers when the CPU has AVX2. Both builds perform the
//! same operations in the same order, so results never depend on the machine.

/// Runs `f` compiled for AVX2 when the CPU supports it, else for the baseline. Pass a closure
/// marked `#[inline(always)]` that calls only `#[inline(always)]` code: whatever is not inlined
/// into the AVX2 build runs at the baseline.
#[inline(always)]
pub fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX and AVX2, checked just above.
            return unsafe { with_avx2(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,avx2")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
