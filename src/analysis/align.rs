//! Where a stem sits against the reference mix, to the sample: stems exported from different
//! start points do not line up, and the mastering engineer finds out only after importing them.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use super::level::{lane_dots, sum_of_squares};

/// An offset is reported only when it explains clearly more of the mix than no offset: a
/// stem built from a repeating loop matches almost as well one loop off, and "your stem is
/// misaligned" must never be said of an aligned stem.
const ZERO_PREFERENCE: f64 = 0.99;

thread_local! {
    static PLANNER: std::cell::RefCell<RealFftPlanner<f32>> =
        std::cell::RefCell::new(RealFftPlanner::new());
}

/// The result of aligning a stem with the reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alignment {
    /// Frames the stem is late against the reference (negative: early).
    pub offset_frames: i64,
    /// Normalised correlation at that offset, -1..1.
    pub correlation: f32,
    /// Normalised correlation in place (offset 0), -1..1.
    pub correlation_in_place: f32,
}

/// Finds the lag of `stem` against `reference` (both mono, same rate, starting at the same
/// instant of the files) within ±`max_lag` frames. Allocates: not for the audio thread.
pub fn align(reference: &[f32], stem: &[f32], max_lag: usize) -> Alignment {
    // Compare slopes rather than levels: the first difference tilts the spectrum up by 6 dB
    // per octave, so the bass and pads that carry most of a mix's energy (and correlate with
    // a kick at every beat) no longer drown the transients that pin a stem's position. A
    // filter applied to both sides keeps mix = stem + rest, so the stem still lines up with itself inside the mix.
    let reference = &difference(reference);
    let stem = &difference(stem);
    // No lag beyond the signals' own length can overlap anything.
    let max_lag = max_lag.min(reference.len().max(stem.len()));
    // Candidates from a quarter-rate search; the exact sums around each decide. Offset 0 is
    // summed with them, last.
    let lags: Vec<i64> = coarse_candidates(reference, stem, max_lag)
        .into_iter()
        .flatten()
        .flat_map(|lag| lag - DECIMATION as i64..=lag + DECIMATION as i64)
        .filter(|lag| lag.unsigned_abs() <= max_lag as u64)
        .chain([0])
        .collect();
    let pairs: Vec<(&[f32], &[f32])> = lags
        .iter()
        .map(|&lag| overlapping(reference, stem, lag))
        .collect();
    let mut sums = lane_dots(&pairs);
    let at_zero = sums.pop().expect("offset 0 is summed");
    let (candidate, at_candidate) =
        lags.into_iter()
            .zip(sums)
            .fold((0, f64::NEG_INFINITY), |best, next| {
                if next.1 > best.1 {
                    next
                } else {
                    best
                }
            });
    let (best, best_value) = if at_zero >= ZERO_PREFERENCE * at_candidate {
        (0, at_zero)
    } else {
        (candidate, at_candidate)
    };
    let correlation_at = |lag: i64, value: f64| {
        let (energy_ref, energy_stem) = overlap_energies(reference, stem, lag);
        if energy_ref > 0.0 && energy_stem > 0.0 {
            (value / (energy_ref * energy_stem).sqrt()) as f32
        } else {
            0.0
        }
    };
    let correlation = correlation_at(best, best_value);
    let correlation_in_place = correlation_at(0, at_zero);
    Alignment {
        offset_frames: best,
        correlation,
        correlation_in_place,
    }
}

fn difference(x: &[f32]) -> Vec<f32> {
    let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
    let mut previous = 0.0;
    x.iter()
        .map(|&v| {
            let v = finite(v);
            let d = v - previous;
            previous = v;
            d
        })
        .collect()
}

/// The overlap of `reference[n]` with `stem[n + lag]`.
fn overlap(len_ref: usize, len_stem: usize, lag: i64) -> std::ops::Range<usize> {
    let start = (-lag).max(0) as usize;
    let end = (len_ref as i64)
        .min(len_stem as i64 - lag)
        .max(start as i64) as usize;
    start..end
}

/// The parts of `reference` and `stem` that meet at `lag` (finite slopes, see [`difference`]).
fn overlapping<'a>(reference: &'a [f32], stem: &'a [f32], lag: i64) -> (&'a [f32], &'a [f32]) {
    let range = overlap(reference.len(), stem.len(), lag);
    let shift = |n: usize| (n as i64 + lag) as usize;
    (
        &reference[range.clone()],
        &stem[shift(range.start)..shift(range.end)],
    )
}

fn overlap_energies(reference: &[f32], stem: &[f32], lag: i64) -> (f64, f64) {
    let (r, s) = overlapping(reference, stem, lag);
    (sum_of_squares(r), sum_of_squares(s))
}

/// The coarse search keeps every fourth frame of the slopes, low-passed first: 16 times less
/// work, and a correlation peak that is still found within a few frames.
const DECIMATION: usize = 4;
/// Peaks of the coarse correlation examined at full rate: a loop-based stem can peak almost as
/// high one bar off, and the low-pass may rank such peaks differently from the exact sums.
const CANDIDATES: usize = 3;

/// Every [`DECIMATION`]-th frame of `x` after a triangular low-pass (two boxes of
/// [`DECIMATION`]), so that what the decimation folds down stays small.
fn decimated(x: &[f32]) -> Vec<f32> {
    const TRIANGLE: [f32; 2 * DECIMATION - 1] = [1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0];
    let at = |n: i64| usize::try_from(n).ok().and_then(|n| x.get(n)).copied();
    (0..x.len().div_ceil(DECIMATION))
        .map(|m| {
            let centre = (m * DECIMATION) as i64;
            TRIANGLE
                .iter()
                .zip(centre - DECIMATION as i64 + 1..)
                .map(|(w, n)| w * at(n).unwrap_or(0.0))
                .sum::<f32>()
                / 16.0
        })
        .collect()
}

/// Full-rate lags near the highest peaks of the quarter-rate cross-correlation within
/// ±`max_lag`, best first.
fn coarse_candidates(reference: &[f32], stem: &[f32], max_lag: usize) -> [Option<i64>; CANDIDATES] {
    let coarse_lag = max_lag.div_ceil(DECIMATION);
    let correlation = cross_correlation(&decimated(reference), &decimated(stem), coarse_lag);
    let value_at = |lag: i64| {
        usize::try_from(lag + coarse_lag as i64)
            .ok()
            .and_then(|i| correlation.get(i))
            .copied()
            .unwrap_or(0.0)
    };
    let mut best: [Option<(f32, i64)>; CANDIDATES] = [None; CANDIDATES];
    let coarse_lag = coarse_lag as i64;
    for lag in -coarse_lag..=coarse_lag {
        let value = value_at(lag);
        let is_peak = value >= value_at(lag - 1) && value > value_at(lag + 1);
        if !is_peak {
            continue;
        }
        // Insert into the short list, which stays sorted, best first.
        let mut entry = Some((value, lag));
        for slot in &mut best {
            if entry.is_some_and(|(v, _)| slot.is_none_or(|(held, _)| v > held)) {
                std::mem::swap(slot, &mut entry);
            }
        }
    }
    best.map(|b| b.map(|(_, lag)| lag * DECIMATION as i64))
}

/// The smallest length ≥ `n` with no prime factor above 5: FFTs of such lengths are as fast
/// per sample as powers of two, and up to 1.9x shorter.
fn fft_len(n: usize) -> usize {
    let mut best = n.next_power_of_two();
    let mut fives = 1;
    while fives < best {
        let mut threes = fives;
        while threes < best {
            let mut length = threes;
            while length < n {
                length *= 2;
            }
            best = best.min(length);
            threes *= 3;
        }
        fives *= 5;
    }
    best
}

/// Σ reference[n] · stem[n + lag] for every lag from -`max_lag` to `max_lag`, in that order,
/// by FFT.
fn cross_correlation(reference: &[f32], stem: &[f32], max_lag: usize) -> Vec<f32> {
    let len = fft_len(reference.len().max(stem.len()) + max_lag + 1);
    // Plans (and their twiddle tables) are reused across calls on the same thread.
    let (forward, inverse) = PLANNER
        .with_borrow_mut(|planner| (planner.plan_fft_forward(len), planner.plan_fft_inverse(len)));
    let spectrum_of = |x: &[f32]| {
        let mut padded = vec![0.0f32; len];
        for (p, s) in padded.iter_mut().zip(x) {
            *p = if s.is_finite() { *s } else { 0.0 };
        }
        let mut spectrum = forward.make_output_vec();
        forward
            .process(&mut padded, &mut spectrum)
            .expect("buffer sizes match the plan");
        spectrum
    };
    let r = spectrum_of(reference);
    let s = spectrum_of(stem);
    // Cross-correlation: conj(R) · S, so that index k holds Σ r[n] s[n + k].
    let mut product: Vec<Complex<f32>> = r.iter().zip(&s).map(|(a, b)| a.conj() * b).collect();
    // The imaginary parts of DC and Nyquist must be zero for the inverse real transform.
    if let Some(first) = product.first_mut() {
        first.im = 0.0;
    }
    if let Some(last) = product.last_mut() {
        last.im = 0.0;
    }
    let mut correlation = vec![0.0f32; len];
    inverse
        .process(&mut product, &mut correlation)
        .expect("buffer sizes match the plan");
    // Negative lags wrap around to the end.
    correlation[len - max_lag..]
        .iter()
        .chain(&correlation[..=max_lag])
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn music_like(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        let mut low = 0.0f32;
        (0..len)
            .map(|n| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let white = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                low = 0.95 * low + 0.05 * white;
                let beat = if n % 24_000 < 2_000 { 1.0 } else { 0.2 };
                (low * 4.0 + white * 0.3) * beat
            })
            .collect()
    }

    #[test]
    fn offsets_are_found_to_the_sample() {
        let drums = music_like(200_000, 1);
        let bass = music_like(200_000, 2);
        for offset in [0i64, 1, -1, 7, 480, -4_411, 47_999] {
            // The stem file holds the bass `offset` frames late.
            let late: Vec<f32> = (0..200_000i64)
                .map(|n| {
                    let i = n - offset;
                    if (0..200_000).contains(&i) {
                        bass[i as usize]
                    } else {
                        0.0
                    }
                })
                .collect();
            let mix: Vec<f32> = drums.iter().zip(&bass).map(|(a, b)| a + b).collect();
            let found = align(&mix, &late, 48_000);
            assert_eq!(found.offset_frames, offset, "{found:?}");
            assert!(found.correlation > 0.5, "{found:?}");
        }
    }

    #[test]
    fn a_looped_stem_is_placed_on_its_own_beat_not_one_loop_off() {
        // One bar of drums repeated: every lag a whole bar away matches almost as well.
        let bar = music_like(12_000, 5);
        let drums: Vec<f32> = (0..120_000).map(|n| bar[n % bar.len()]).collect();
        let pad = music_like(120_000, 6);
        let mix: Vec<f32> = drums.iter().zip(&pad).map(|(d, p)| d + 0.5 * p).collect();
        for offset in [0i64, 3, -5, 1_001] {
            let late: Vec<f32> = (0..120_000i64)
                .map(|n| {
                    usize::try_from(n - offset)
                        .map_or(0.0, |i| drums.get(i).copied().unwrap_or(0.0))
                })
                .collect();
            let found = align(&mix, &late, 30_000);
            assert_eq!(found.offset_frames, offset, "{found:?}");
        }
    }

    #[test]
    fn fft_lengths_are_5_smooth_and_tight() {
        assert_eq!(fft_len(1_000), 1_000);
        assert_eq!(fft_len(1_001), 1_024);
        assert_eq!(fft_len(1_248_001), 1_250_000);
        for n in [1, 7, 4_097, 123_457] {
            let mut m = fft_len(n);
            assert!(m >= n);
            for p in [2, 3, 5] {
                while m.is_multiple_of(p) {
                    m /= p;
                }
            }
            assert_eq!(m, 1, "{n}");
        }
    }

    #[test]
    fn a_stem_that_is_not_in_the_mix_correlates_weakly() {
        let found = align(&music_like(100_000, 3), &music_like(100_000, 4), 10_000);
        assert!(found.correlation.abs() < 0.2, "{found:?}");
        let silent = align(&music_like(100_000, 3), &[0.0; 100_000], 10_000);
        assert_eq!(silent.correlation, 0.0);
    }
}
