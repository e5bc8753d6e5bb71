//! Running hot loops with the widest vector instructions the CPU has.
//!
//! The loops themselves are plain Rust over fixed-size lanes, which the compiler vectorises;
//! [`widest`] only lets it use 256-bit registers when the CPU has AVX2. Both builds perform the
//! same operations in the same order, so results never depend on the machine.
//!
//! A few loops the compiler does not vectorise well have hand-written kernels: [`avx2`] on
//! x86-64 (chosen at run time) and [`neon`] on aarch64 (always there). Their callers keep a
//! portable loop for other CPUs and for the ragged ends, and the tests hold every kernel to
//! that loop's bits.

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
))]
mod folded;
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
pub mod neon;

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

/// Which hand-written kernels this CPU runs, for the tests that hold them to the portable
/// loops: "AVX2", "NEON" or "none" (portable loops only).
#[cfg(test)]
pub(crate) fn kernels() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            return "AVX2";
        }
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    {
        return "NEON";
    }
    #[allow(unreachable_code)]
    "none"
}
