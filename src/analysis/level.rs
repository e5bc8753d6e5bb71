//! Conversions between linear gain and decibels, and vectorised sums.

use super::simd::widest;

/// The level reported for digital silence, in dB. Finite so that it can be stored in atomics,
/// compared and printed without special cases.
pub const SILENCE_DB: f32 = -200.0;

/// A sample louder than this sounds (-60 dBFS): where a file's sound starts, which stretches
/// count towards its DC offset.
pub const SOUND_THRESHOLD: f32 = 0.001;

/// Linear gain (or absolute sample value) to dB re full scale. Zero, negative and NaN inputs
/// map to [`SILENCE_DB`].
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    if gain > 0.0 {
        ((20.0 * log10(f64::from(gain))) as f32).max(SILENCE_DB)
    } else {
        SILENCE_DB
    }
}

/// The base-10 logarithm from IEEE basic arithmetic alone, so that every platform gets the same
/// bits (the C libraries' `log10` differ in the last place, and a report's dB figures with
/// them). x = m·2^e with m in [√½, √2); ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| < 0.172,
/// summed to s^23 (the next term is below 1e-19 of the result). Within a few units in the last
/// place of the exact value; -∞ at 0, NaN below, +∞ at +∞.
pub fn log10(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    // Subnormals are scaled into the normal range first (exactly: a power of two).
    let (x, scaled) = if x < f64::MIN_POSITIVE {
        (x * 2f64.powi(54), -54)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023 + scaled;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        exponent += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = (0..12)
        .rev()
        .fold(0.0, |sum, k| sum * s2 + 1.0 / f64::from(2 * k + 1));
    let ln = 2.0 * s * series + exponent as f64 * std::f64::consts::LN_2;
    ln / std::f64::consts::LN_10
}

/// dB re full scale to linear gain.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// `db` rounded to a tenth as printed with one decimal, never "-0.0": a level difference or
/// ratio that rounds to nothing reads 0.0.
pub fn to_tenth(db: f64) -> f64 {
    (db * 10.0).round() / 10.0 + 0.0
}

/// Σ f(x) over independent lanes, so the loop vectorises (a plain f32 `sum()` must keep its
/// order and runs one sample at a time, each addition waiting for the last); the lanes are
/// added in f64 at the end.
#[inline]
pub fn lane_sum(samples: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    lane_sum_of_pairs(samples, samples, |x, _| f(x))
}

/// Σ f(x) over the finite samples, in lanes as [`lane_sum`]: only a stretch that holds NaN or
/// Inf pays for leaving them out.
#[inline]
pub fn finite_lane_sum(samples: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    let sum = lane_sum(samples, &f);
    if sum.is_finite() {
        sum
    } else {
        lane_sum(samples, |x| if x.is_finite() { f(x) } else { 0.0 })
    }
}

/// Σ a·b of every pair over independent lanes (see [`lane_sum`]; each pair's two slices have
/// the same length), each with the bits of its own sum taken alone, reading all the pairs a
/// stretch at a time: pairs that share most of their samples (a cross-correlation at
/// neighbouring lags) then read each stretch from memory once, and from the cache for the
/// others.
pub fn lane_dots(pairs: &[(&[f32], &[f32])]) -> Vec<f64> {
    const STRETCH: usize = 128 * LANES;
    widest(
        #[inline(always)]
        || {
            let mut lanes = vec![[0.0f32; LANES]; pairs.len()];
            let longest = pairs.iter().map(|(a, _)| a.len()).max().unwrap_or(0);
            for from in (0..longest).step_by(STRETCH) {
                for (&(a, b), lanes) in pairs.iter().zip(&mut lanes) {
                    debug_assert_eq!(a.len(), b.len());
                    let to = (from + STRETCH).min(a.len());
                    if from < to {
                        add_chunks(lanes, &a[from..to], &b[from..to], |x, y| x * y);
                    }
                }
            }
            pairs
                .iter()
                .zip(&lanes)
                .map(|(&(a, b), lanes)| pairwise_sum(lanes) + tail_sum(a, b, |x, y| x * y))
                .collect()
        },
    )
}

/// Σ a·b with every product exact and summed in f64 lanes: for sums that are subtracted from
/// one another (a least-squares fit's residual is ‖r‖² − gᵀb), where f32 lanes leave about 1e-8
/// of each sum, -80 dB, as if it were signal.
pub fn lane_dot_f64(a: &[f32], b: &[f32]) -> f64 {
    const WIDE_LANES: usize = 16;
    debug_assert_eq!(a.len(), b.len());
    widest(
        #[inline(always)]
        || {
            let mut lanes = [0.0f64; WIDE_LANES];
            for (x, y) in a.chunks_exact(WIDE_LANES).zip(b.chunks_exact(WIDE_LANES)) {
                for ((lane, &x), &y) in lanes.iter_mut().zip(x).zip(y) {
                    *lane += f64::from(x) * f64::from(y);
                }
            }
            let whole = a.len() / WIDE_LANES * WIDE_LANES;
            let tail: f64 = a[whole..]
                .iter()
                .zip(&b[whole..])
                .map(|(&x, &y)| f64::from(x) * f64::from(y))
                .sum();
            lanes.iter().sum::<f64>() + tail
        },
    )
}

/// Lanes of the sums.
const LANES: usize = 32;

/// Σ f(a\[i\], b\[i\]) over independent lanes.
#[inline(always)]
fn lane_sum_of_pairs(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let (lanes, tail) = widest(
        #[inline(always)]
        || {
            let mut lanes = [0.0f32; LANES];
            add_chunks(&mut lanes, a, b, &f);
            (lanes, tail_sum(a, b, &f))
        },
    );
    pairwise_sum(&lanes) + tail
}

/// Adds f(a\[i\], b\[i\]) into lane i mod 32, over the whole chunks of 32.
#[inline(always)]
fn add_chunks(lanes: &mut [f32; LANES], a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) {
    let mut sums = *lanes;
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for ((lane, &x), &y) in sums.iter_mut().zip(x).zip(y) {
            *lane += f(x, y);
        }
    }
    *lanes = sums;
}

/// Σ f(a\[i\], b\[i\]) in f64 over what follows the whole chunks of 32.
#[inline(always)]
fn tail_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    let whole = a.len().min(b.len()) / LANES * LANES;
    a[whole..]
        .iter()
        .zip(&b[whole..])
        .map(|(&x, &y)| f64::from(f(x, y)))
        .sum()
}

/// Σ of 32 lanes in f64, pairwise, so the additions do not wait on each other one by one.
#[inline(always)]
pub fn pairwise_sum(lanes: &[f32; LANES]) -> f64 {
    let mut wide: [f64; 16] =
        std::array::from_fn(|i| f64::from(lanes[i]) + f64::from(lanes[i + 16]));
    let mut width = wide.len() / 2;
    while width > 0 {
        for i in 0..width {
            wide[i] += wide[i + width];
        }
        width /= 2;
    }
    wide[0]
}

/// Σx², vectorised.
pub fn sum_of_squares(samples: &[f32]) -> f64 {
    lane_sum(samples, |x| x * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Σ a·b in f32 lanes, one pair alone.
    fn lane_dot(a: &[f32], b: &[f32]) -> f64 {
        lane_sum_of_pairs(a, b, |x, y| x * y)
    }

    #[test]
    fn a_dot_in_f64_lanes_leaves_what_a_gain_explains_at_the_rounding_of_f64() {
        // A mix that is its stem times a gain: ‖mix‖² − g·⟨stem, mix⟩ must be nothing, as it is
        // once every product and sum keeps 53 bits. f32 lanes leave about 1e-8 of the energy.
        let stem: Vec<f32> = (0..480_017)
            .map(|n| {
                let t = n as f32;
                0.5 * (t * 0.031).sin() + 0.3 * (t * 0.0071).sin() * (t * 0.00013).cos()
            })
            .collect();
        let gain = 1.7f64;
        let mix: Vec<f32> = stem.iter().map(|&x| (f64::from(x) * gain) as f32).collect();
        let left = |dot: fn(&[f32], &[f32]) -> f64| {
            let fitted = dot(&stem, &mix) / dot(&stem, &stem);
            (dot(&mix, &mix) - fitted * dot(&stem, &mix)) / dot(&mix, &mix)
        };
        // What rounding the mix to f32 leaves, a few 1e-15: no fit can explain it.
        assert!(left(lane_dot_f64).abs() < 1e-13, "{}", left(lane_dot_f64));
        assert!(left(lane_dot).abs() > 1e-12, "{}", left(lane_dot));
        let naive: f64 = stem
            .iter()
            .zip(&mix)
            .map(|(&x, &y)| f64::from(x) * f64::from(y))
            .sum();
        let ours = lane_dot_f64(&stem, &mix);
        assert!(
            (ours - naive).abs() <= 1e-13 * naive.abs(),
            "{ours} {naive}"
        );
    }

    #[test]
    fn our_log10_is_the_libraries_to_a_few_units_in_the_last_place() {
        let mut x = 1e-310f64;
        while x < 1e300 {
            let (ours, theirs) = (log10(x), x.log10());
            assert!(
                (ours - theirs).abs() <= 4.0 * f64::EPSILON * theirs.abs().max(1.0),
                "{x}: {ours} against {theirs}"
            );
            x *= 1.000_913;
        }
        for (x, exact) in [(1.0, 0.0), (10.0, 1.0), (100.0, 2.0), (0.001, -3.0)] {
            assert!((log10(x) - exact).abs() <= 2.0 * f64::EPSILON, "{x}");
        }
        assert_eq!(log10(1.0), 0.0);
        assert_eq!(log10(0.0), f64::NEG_INFINITY);
        assert_eq!(log10(f64::INFINITY), f64::INFINITY);
        assert!(log10(-1.0).is_nan() && log10(f64::NAN).is_nan());
        // Full scale and half of it, as reports print them.
        assert_eq!(gain_to_db(1.0), 0.0);
        assert!((gain_to_db(0.5) - -6.020_6).abs() < 1e-4);
    }

    #[test]
    fn dots_of_many_pairs_have_the_bits_of_one_dot_each() {
        let mut state = 1u64;
        let signal: Vec<f32> = (0..40_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect();
        // Lengths around the chunk and the stretch, and shifts either way, as the lags give.
        let pairs: Vec<(&[f32], &[f32])> = [0, 1, 31, 32, 33, 4_095, 4_096, 4_097, 12_345, 30_001]
            .iter()
            .zip([0, 3, 17, 2_000, 9_999, 5, 0, 1, 8, 9_000])
            .flat_map(|(&len, shift)| {
                [
                    (&signal[..len], &signal[shift..shift + len]),
                    (&signal[shift..shift + len], &signal[..len]),
                ]
            })
            .collect();
        let together = lane_dots(&pairs);
        for (&(a, b), dot) in pairs.iter().zip(&together) {
            assert_eq!(dot.to_bits(), lane_dot(a, b).to_bits(), "{}", a.len());
        }
        assert_eq!(lane_dots(&[]), Vec::<f64>::new());
    }

    #[test]
    fn tenths_never_read_minus_zero() {
        assert_eq!(format!("{:.1}", to_tenth(-0.04)), "0.0");
        assert_eq!(format!("{:.1}", to_tenth(-0.05)), "-0.1");
        assert_eq!(format!("{:.1}", to_tenth(12.649)), "12.6");
    }

    #[test]
    fn round_trips_and_silence() {
        // 0.5 is 20·log10(0.5) = -6.0206 dBFS.
        assert!((gain_to_db(0.5) + 6.0206).abs() < 1e-4);
        assert!((db_to_gain(-6.0206) - 0.5).abs() < 1e-5);
        assert_eq!(gain_to_db(0.0), SILENCE_DB);
        assert_eq!(gain_to_db(f32::NAN), SILENCE_DB);
    }
}
