//! Band-limited interpolation between samples: a Kaiser-windowed sinc split into an 8-phase
//! polyphase table.
//!
//! ITU-R BS.1770-4 Annex 2 interpolates with a 48-tap, 4-phase table and reads the maximum of
//! the 4x grid. That grid alone can under-read by 0.69 dB near fs/2. Here the table has
//! [`FINE_PHASES`] phases of [`TAPS`] taps each: a coarse grid (every [`COARSE_STEP`]-th phase,
//! 4x oversampling) finds where a peak may be, the fine grid (8x) holds it, and a parabola
//! through the three fine points around it reads its top: for a sine up to 0.45·fs the
//! parabola misses by at most 0.003 dB, the table's own ripple adds less than 0.01 dB.
//!
//! Phase `8 - j` is phase `j` reversed, and phase 4 is symmetric, so every evaluation works on
//! the sums and differences of the window's mirrored samples: half the multiplications.

use super::sample_peak::STRETCH;
use super::simd;

/// Taps per phase. Interval `n` (between x\[n\] and x\[n+1\]) reads x\[n-15 ..= n+16\].
pub const TAPS: usize = 32;
/// Index of the tap that meets x\[n\] in phase 0.
pub const CENTER: usize = TAPS / 2 - 1;
/// Samples needed after x\[n\] before interval `n` can be evaluated.
pub const LOOKAHEAD: usize = TAPS - CENTER - 1;
/// Phases of the fine grid: positions n + j/8.
pub const FINE_PHASES: usize = 8;
/// The coarse detection grid is 4x oversampling, as in BS.1770.
pub const COARSE_FACTOR: usize = 4;
/// Fine phases between two coarse grid points.
pub const COARSE_STEP: usize = FINE_PHASES / COARSE_FACTOR;
/// Kaiser window shape: about 70 dB image rejection at this length.
const KAISER_BETA: f64 = 7.0;
/// Mirrored tap pairs of a window.
const HALF: usize = TAPS / 2;

/// How much the largest value on the coarse grid can under-read the peak of the interpolated
/// signal in its neighbourhood. A peak lies at most half a coarse step (1/8 sample) from a grid
/// point, and by Bernstein's inequality a signal band-limited to B drops at most
/// (2πB)²·d²/2 of its peak over a distance d. B is taken as 0.55·fs to cover the
/// filter's transition band; that gives 1 - 0.0933, rounded down for safety.
pub const COARSE_UNDER_READ: f32 = 0.88;
/// The same for the fine grid: at most 1/16 sample from a grid point, 1 - 0.0233.
pub const FINE_UNDER_READ: f32 = 0.97;

/// Samples a stretch of intervals reads: their windows overlap.
pub const STRETCH_REACH: usize = STRETCH + TAPS - 1;

/// The interpolation table, folded for evaluation.
#[derive(Debug, Clone)]
pub struct Interpolator {
    /// The coarse grid's phases 2 and 6 as one mirrored pair, then phase 4 (odd part zero).
    coarse: [Folded; 2],
    /// The fine grid's other phases: the pairs 1 and 7, 3 and 5.
    fine: [Folded; 2],
    /// Largest L1 norm over all phases: |y(t)| never exceeds this times the largest |x| in the
    /// taps' reach.
    max_l1: f32,
    /// How far the measured peak of an interval can lie above the straight line joining its
    /// two samples.
    between_samples: Straying,
    /// How far it can lie above the straight lines joining neighbouring coarse grid points.
    between_coarse_points: Straying,
    /// How far it can lie above the highest of its fine grid points.
    between_fine_points: Straying,
}

/// Phase `j` and its mirror `8 - j` as the even and odd parts of phase `j`'s taps over the
/// mirrored pairs of the window: phase j = Σ even·(x\[k\] + x\[31-k\]) + Σ odd·(x\[k\] - x\[31-k\]),
/// its mirror the same with the odd sum subtracted.
#[derive(Debug, Clone, Copy)]
struct Folded {
    even: [f32; HALF],
    odd: [f32; HALF],
}

impl Folded {
    fn new(taps: &[f64; TAPS]) -> Self {
        Self {
            even: std::array::from_fn(|k| ((taps[k] + taps[TAPS - 1 - k]) / 2.0) as f32),
            odd: std::array::from_fn(|k| ((taps[k] - taps[TAPS - 1 - k]) / 2.0) as f32),
        }
    }

    /// The taps these sums apply to x\[k\], phase `j` and its mirror.
    #[cfg(test)]
    fn taps(&self) -> [[f32; TAPS]; 2] {
        let side = |sign: f32| {
            std::array::from_fn(|k| {
                if k < HALF {
                    self.even[k] + sign * self.odd[k]
                } else {
                    self.even[TAPS - 1 - k] - sign * self.odd[TAPS - 1 - k]
                }
            })
        };
        [side(1.0), side(-1.0)]
    }
}

/// A bound on how far the interpolated signal strays from the straight line joining two
/// points of a grid, from how sharply the samples bend.
///
/// A phase's taps minus the straight line between the grid points on either side of it sum
/// to zero and (almost) cancel a ramp, so they act on the samples' second differences: what is
/// left of a smooth signal is tiny. Per bend: the largest L1 norm of those taps written as a
/// filter of second differences; per level: what a ramp leaves, times the largest |x|. Both
/// include what the final parabola can add to a fine point, a safety factor and rounding. The
/// true-peak meter uses it to skip tones and slow passages whose peaks sit at the running
/// maximum: there, the 4x grid's generic under-read (12 %) would send a third of all intervals
/// to the fine grid, while the samples show the signal bends by a fraction of that.
#[derive(Debug, Clone, Copy)]
pub struct Straying {
    per_bend: f32,
    per_level: f32,
}

impl Straying {
    /// At most this far above the line, given the largest |x\[k\] − 2x\[k+1\] + x\[k+2\]| and
    /// the largest |x| over the taps' reach.
    #[inline(always)]
    pub fn at_most(&self, bend: f32, level: f32) -> f32 {
        self.per_bend * bend + self.per_level * level
    }
}

/// Margin on the computed norms.
const STRAYING_SAFETY: f64 = 1.25;
/// f32 rounding of two folded 32-tap sums (each off by at most about 5e-6 of the level), with room.
const ROUNDING_PER_LEVEL: f64 = 4e-5;

impl Default for Interpolator {
    fn default() -> Self {
        Self::new()
    }
}

impl Interpolator {
    /// Designs the table. Allocates nothing it keeps; call it outside the audio thread all the
    /// same (it is not cheap).
    pub fn new() -> Self {
        let phases = table();
        let max_l1 = phases
            .iter()
            .map(|phase| phase.iter().map(|h| h.abs()).sum::<f64>())
            .fold(0.0, f64::max) as f32;
        Self {
            coarse: [Folded::new(&phases[2]), Folded::new(&phases[4])],
            fine: [Folded::new(&phases[1]), Folded::new(&phases[3])],
            max_l1,
            between_samples: straying(&phases, FINE_PHASES),
            between_coarse_points: straying(&phases, COARSE_STEP),
            between_fine_points: straying(&phases, 1),
        }
    }

    /// See [`Straying`]: between x\[n\] and x\[n+1\].
    pub fn between_samples(&self) -> Straying {
        self.between_samples
    }

    /// See [`Straying`]: between neighbouring points of the coarse grid.
    pub fn between_coarse_points(&self) -> Straying {
        self.between_coarse_points
    }

    /// See [`Straying`]: above the fine grid, where only the final parabola can add.
    pub fn between_fine_points(&self) -> Straying {
        self.between_fine_points
    }

    /// Bound on |y(t)| relative to the largest |x| within the taps' reach.
    pub fn max_l1(&self) -> f32 {
        self.max_l1
    }

    /// y(n + 7/8) of the interval whose taps are `window` (x\[n-15 ..= n+16\]): the fine point
    /// just before the next sample, for the parabola around a peak at a sample. Never
    /// allocates.
    pub fn seven_eighths(&self, window: &[f32; TAPS]) -> f32 {
        let pair = &self.fine[0];
        let terms: [f32; HALF] = std::array::from_fn(|k| {
            let (near, far) = (window[k], window[TAPS - 1 - k]);
            pair.even[k] * (near + far) - pair.odd[k] * (near - far)
        });
        let halves: [f32; HALF / 2] = std::array::from_fn(|k| terms[k] + terms[k + HALF / 2]);
        let quarters: [f32; HALF / 4] = std::array::from_fn(|k| halves[k] + halves[k + HALF / 4]);
        (quarters[0] + quarters[2]) + (quarters[1] + quarters[3])
    }
}

/// The table: `phases[j][k]` weighs x\[n - CENTER + k\] to give y(n + j/FINE_PHASES).
fn table() -> [[f64; TAPS]; FINE_PHASES] {
    let half = HALF as f64;
    let bessel_beta = bessel_i0(KAISER_BETA);
    std::array::from_fn(|j| {
        let frac = j as f64 / FINE_PHASES as f64;
        let mut taps: [f64; TAPS] = std::array::from_fn(|k| {
            // Distance in samples from the interpolated point to the tap's sample.
            let u = frac + CENTER as f64 - k as f64;
            let ratio = (u / half).clamp(-1.0, 1.0);
            let window = bessel_i0(KAISER_BETA * (1.0 - ratio * ratio).sqrt()) / bessel_beta;
            sinc(u) * window
        });
        // Unity gain at DC for every phase, so low frequencies read exactly.
        let sum: f64 = taps.iter().sum();
        for tap in &mut taps {
            *tap /= sum;
        }
        taps
    })
}

impl Interpolator {
    /// The coarse grid's interpolated points (phases 2, 4, 6) for `STRETCH` consecutive
    /// intervals whose windows start at `x[0]`: `out[p][i]` is phase `(p + 1)·COARSE_STEP` of
    /// interval `i`. Never allocates.
    #[inline]
    pub fn coarse_block(&self, x: &[f32; STRETCH_REACH]) -> [[f32; STRETCH]; COARSE_FACTOR - 1] {
        let [quarter, half] = &self.coarse;
        let ([even, middle], [odd]) = folded_sums([&quarter.even, &half.even], [&quarter.odd], x);
        [add(&even, &odd), middle, subtract(&even, &odd)]
    }

    /// The fine grid's other points (phases 1, 3, 5, 7) of the same intervals: `out[p][i]` is
    /// phase `2p + 1` of interval `i`. Never allocates.
    #[inline]
    pub fn fine_block(&self, x: &[f32; STRETCH_REACH]) -> [[f32; STRETCH]; COARSE_FACTOR] {
        let [eighth, three] = &self.fine;
        let ([even_1, even_3], [odd_1, odd_3]) =
            folded_sums([&eighth.even, &three.even], [&eighth.odd, &three.odd], x);
        [
            add(&even_1, &odd_1),
            add(&even_3, &odd_3),
            subtract(&even_3, &odd_3),
            subtract(&even_1, &odd_1),
        ]
    }
}

/// Even parts applied to the mirrored sums x\[i+k\] + x\[i+31-k\] and odd parts to the
/// differences, for `STRETCH` intervals at once, each sum in tap order so the result never
/// depends on how the stream was split into blocks (or on the CPU: the hand-written kernels
/// do the same operations in the same order).
#[inline]
fn folded_sums<const E: usize, const O: usize>(
    even_taps: [&[f32; HALF]; E],
    odd_taps: [&[f32; HALF]; O],
    x: &[f32; STRETCH_REACH],
) -> ([[f32; STRETCH]; E], [[f32; STRETCH]; O]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { simd::avx2::folded_sums(even_taps, odd_taps, x) };
        }
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    {
        // SAFETY: NEON is enabled for this build (every aarch64 CPU has it).
        return unsafe { simd::neon::folded_sums(even_taps, odd_taps, x) };
    }
    #[allow(unreachable_code)]
    portable_folded_sums(even_taps, odd_taps, x)
}

/// [`folded_sums`] as a plain loop.
fn portable_folded_sums<const E: usize, const O: usize>(
    even_taps: [&[f32; HALF]; E],
    odd_taps: [&[f32; HALF]; O],
    x: &[f32; STRETCH_REACH],
) -> ([[f32; STRETCH]; E], [[f32; STRETCH]; O]) {
    let mut even = [[0.0f32; STRETCH]; E];
    let mut odd = [[0.0f32; STRETCH]; O];
    for k in 0..HALF {
        for i in 0..STRETCH {
            let (near, far) = (x[i + k], x[i + TAPS - 1 - k]);
            for (acc, taps) in even.iter_mut().zip(even_taps) {
                acc[i] += taps[k] * (near + far);
            }
            for (acc, taps) in odd.iter_mut().zip(odd_taps) {
                acc[i] += taps[k] * (near - far);
            }
        }
    }
    (even, odd)
}

#[inline]
fn add(a: &[f32; STRETCH], b: &[f32; STRETCH]) -> [f32; STRETCH] {
    std::array::from_fn(|i| a[i] + b[i])
}

#[inline]
fn subtract(a: &[f32; STRETCH], b: &[f32; STRETCH]) -> [f32; STRETCH] {
    std::array::from_fn(|i| a[i] - b[i])
}

/// Taps over x\[n-16 ..= n+16\]: one more on the left than an interval's window, for the
/// fine point before x\[n\].
const WIDE: usize = TAPS + 1;

/// The [`Straying`] of every fine phase from the line through the grid points `step` phases
/// apart on either side of it, plus what the parabola through the highest fine point and its
/// neighbours can add.
fn straying(phases: &[[f64; TAPS]; FINE_PHASES], step: usize) -> Straying {
    // Fine phase j (-1 ..= FINE_PHASES) as taps over x[n-16 ..= n+16]: -1 is the previous
    // interval's last phase, FINE_PHASES the next sample.
    let taps = |j: isize| -> [f64; WIDE] {
        let (phase, shift) = match j {
            -1 => (&phases[FINE_PHASES - 1], 0),
            _ => match phases.get(j as usize) {
                Some(phase) => (phase, 1),
                None => return std::array::from_fn(|k| f64::from(u8::from(k == CENTER + 2))),
            },
        };
        std::array::from_fn(|k| match k.checked_sub(shift) {
            Some(k) if k < TAPS => phase[k],
            _ => 0.0,
        })
    };
    let mut line = (0.0f64, 0.0f64);
    let mut parabola = (0.0f64, 0.0f64);
    for j in 0..=FINE_PHASES {
        let (before, r) = (j / step * step, j % step);
        let (here, left, right) = (
            taps(j as isize),
            taps(before as isize),
            taps((before + step).min(FINE_PHASES) as isize),
        );
        let weight = r as f64 / step as f64;
        let off_line =
            std::array::from_fn(|k| here[k] - (1.0 - weight) * left[k] - weight * right[k]);
        let (bend, level) = on_second_differences(off_line);
        line = (line.0.max(bend), line.1.max(level));
        if j < FINE_PHASES {
            // The parabola tops its highest point by at most an eighth of the second
            // difference there.
            let (previous, next) = (taps(j as isize - 1), taps(j as isize + 1));
            let curvature = std::array::from_fn(|k| previous[k] - 2.0 * here[k] + next[k]);
            let (bend, level) = on_second_differences(curvature);
            parabola = (parabola.0.max(bend / 8.0), parabola.1.max(level / 8.0));
        }
    }
    Straying {
        per_bend: (STRAYING_SAFETY * (line.0 + parabola.0)) as f32,
        per_level: (STRAYING_SAFETY * (line.1 + parabola.1) + ROUNDING_PER_LEVEL) as f32,
    }
}

/// Writes `taps` as Σ g\[k\]·(x\[k\] − 2x\[k+1\] + x\[k+2\]) plus a rest on the last two taps;
/// returns (Σ|g|, Σ|rest|).
fn on_second_differences(mut taps: [f64; WIDE]) -> (f64, f64) {
    let mut bend = 0.0;
    for k in 0..WIDE - 2 {
        let g = taps[k];
        bend += g.abs();
        taps[k] = 0.0;
        taps[k + 1] += 2.0 * g;
        taps[k + 2] -= g;
    }
    (bend, taps[WIDE - 2].abs() + taps[WIDE - 1].abs())
}

fn sinc(u: f64) -> f64 {
    if u == 0.0 {
        1.0
    } else if u.fract() == 0.0 {
        // Exact zeros at the other sample instants keep phase 0 an identity.
        0.0
    } else {
        let pu = std::f64::consts::PI * u;
        pu.sin() / pu
    }
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half_sq = x * x / 4.0;
    for k in 1..64 {
        term *= half_sq / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_zero_is_the_sample_itself() {
        for (k, &h) in table()[0].iter().enumerate() {
            assert_eq!(h, if k == CENTER { 1.0 } else { 0.0 });
        }
    }

    #[test]
    fn every_phase_has_unity_dc_gain() {
        for (j, phase) in table().iter().enumerate() {
            let sum: f64 = phase.iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "phase {j} sums to {sum}");
        }
        // The windowed sinc's L1 norm grows with length; for 32 taps it is about 2.4.
        let interp = Interpolator::new();
        assert!(interp.max_l1() > 2.0 && interp.max_l1() < 3.0);
    }

    #[test]
    fn phases_mirror_each_other() {
        // The folded evaluation computes phase 8 - j from phase j's taps reversed.
        let phases = table();
        for j in 1..FINE_PHASES {
            for k in 0..TAPS {
                let (a, b) = (phases[FINE_PHASES - j][k], phases[j][TAPS - 1 - k]);
                assert!((a - b).abs() < 1e-12, "phase {j}, tap {k}: {a} vs {b}");
            }
        }
        let interp = Interpolator::new();
        for (folded, j) in interp
            .coarse
            .iter()
            .zip([2, 4])
            .chain(interp.fine.iter().zip([1, 3]))
        {
            let [here, mirror] = folded.taps();
            for k in 0..TAPS {
                assert!((f64::from(here[k]) - phases[j][k]).abs() < 1e-7);
                assert!((f64::from(mirror[k]) - phases[FINE_PHASES - j][k]).abs() < 1e-7);
            }
        }
    }

    #[test]
    fn the_kernels_give_the_portable_loops_bits() {
        let interp = Interpolator::new();
        let [quarter, half] = &interp.coarse;
        let [eighth, three] = &interp.fine;
        for seed in 0..200u32 {
            // Full scale, quiet, denormal and mixed windows.
            let scale = [1.0, 1e-3, f32::MIN_POSITIVE, 0.5][seed as usize % 4];
            let x: [f32; STRETCH_REACH] = std::array::from_fn(|i| {
                let n = (i as u32 + 1)
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(seed * 40_503);
                (n % 20_001) as f32 / 10_000.0 - 1.0
            })
            .map(|v| v * scale);
            let bits = |rows: &[[f32; STRETCH]]| -> Vec<u32> {
                rows.iter().flatten().map(|v| v.to_bits()).collect()
            };
            let (even, odd) = folded_sums([&quarter.even, &half.even], [&quarter.odd], &x);
            let (plain_even, plain_odd) =
                portable_folded_sums([&quarter.even, &half.even], [&quarter.odd], &x);
            assert_eq!(bits(&even), bits(&plain_even), "coarse, seed {seed}");
            assert_eq!(bits(&odd), bits(&plain_odd), "coarse, seed {seed}");
            let (even, odd) =
                folded_sums([&eighth.even, &three.even], [&eighth.odd, &three.odd], &x);
            let (plain_even, plain_odd) =
                portable_folded_sums([&eighth.even, &three.even], [&eighth.odd, &three.odd], &x);
            assert_eq!(bits(&even), bits(&plain_even), "fine, seed {seed}");
            assert_eq!(bits(&odd), bits(&plain_odd), "fine, seed {seed}");
        }
    }

    #[test]
    fn blocks_match_plain_sums_of_the_table() {
        let interp = Interpolator::new();
        let phases = table();
        let x: [f32; STRETCH_REACH] = std::array::from_fn(|i| ((i * 37 % 23) as f32 - 11.0) / 11.0);
        let coarse = interp.coarse_block(&x);
        let fine = interp.fine_block(&x);
        for i in 0..STRETCH {
            let direct =
                |j: usize| -> f64 { (0..TAPS).map(|k| phases[j][k] * f64::from(x[i + k])).sum() };
            for (p, row) in coarse.iter().enumerate() {
                let j = (p + 1) * COARSE_STEP;
                assert!((f64::from(row[i]) - direct(j)).abs() < 1e-5, "phase {j}");
            }
            for (p, row) in fine.iter().enumerate() {
                let j = 2 * p + 1;
                assert!((f64::from(row[i]) - direct(j)).abs() < 1e-5, "phase {j}");
            }
        }
    }
}
