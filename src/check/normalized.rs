//! Normalization: a normalize step lands a file's peak exactly on a round value and changes its
//! level against the mix, so the stems no longer add up to it.

use super::finding::{Check, Finding};
use crate::analysis::{db_to_gain, gain_to_db};

/// Steps of the file's grid a normalizer can leave its peak off the target: half a step of
/// rounding, and a step and a half with dither.
const LANDING_STEPS: f32 = 2.0;
/// The closest a peak is ever judged to land, dB: float arithmetic on the gain, and the f32 dB
/// the peak is given in, stay well inside it.
const FLOAT_LANDING_DB: f32 = 2e-5;
/// A stem whose gain in the mix is this close to unity was exported as mixed, dB.
const UNITY_WITHIN_DB: f32 = 0.1;
/// The stems' gains say something about one stem only when the mix is their sum times those
/// gains, to this residual (dB against the mix): a limiter, compressor or missing stem on the
/// other side makes every gain move.
const LINEAR_FIT_DB: f32 = -60.0;
/// How close to its ceiling a limiter holds the loudest peak, dB: its gain is computed, not
/// set, and a true-peak limiter keeps the samples a hair under the ceiling.
const LIMITER_HOLDS_WITHIN_DB: f32 = 0.001;
/// What no gain of the stems explains, above which the mix went through something non-linear,
/// dB against the mix: a gain (a normalize step) leaves only rounding, near -140 dB at 24 bits.
const NON_LINEAR_DB: f32 = -90.0;
/// Targets a normalize dialog offers, for files the null test cannot cross-check (the mix, or
/// stems without one), dBFS. Whole decibels down to -12 and the usual ceilings near full
/// scale; a natural 24-bit peak lands as close to one of these as a normalizer would in about
/// 1 file in 20 000 (a 16-bit peak in about 1 in 400).
const CLASSIC_TARGETS_DBFS: [f32; 15] = [
    -0.1, -0.3, -0.5, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0, -10.0, -11.0, -12.0,
];

/// The classic value a peak sits on as a limiter holds it there, if it does.
pub fn limiter_ceiling(peak_dbfs: f32) -> Option<f32> {
    let round = (peak_dbfs * 10.0).round() / 10.0;
    (is_classic_target(round) && (peak_dbfs - round).abs() <= LIMITER_HOLDS_WITHIN_DB)
        .then_some(round)
}

/// One of [`CLASSIC_TARGETS_DBFS`], as a tenth of a dB rounded in f32.
fn is_classic_target(round: f32) -> bool {
    CLASSIC_TARGETS_DBFS
        .iter()
        .any(|&t| (t - round).abs() < 0.01)
}

/// How close to its target a normalizer leaves a peak, dB: as close as the file's grid lets it
/// (`step`: between two sample values, full scale = 1; 0 for float audio on no integer grid).
fn landing_within_db(peak_dbfs: f32, step: f32) -> f32 {
    gain_to_db(1.0 + LANDING_STEPS * step / db_to_gain(peak_dbfs)).max(FLOAT_LANDING_DB)
}

/// The round value a peak was normalized to, if it was. `step` is the file's grid, as in
/// [`landing_within_db`]. `gain_in_mix` is the stem's least-squares gain in the mix from the
/// null test: a stem that sits in the mix at unity gain was exported as mixed, whatever its
/// peak; one at another level with a peak on any tenth of a dB was normalized. Without it,
/// only the classic targets count.
pub fn round_peak(peak_dbfs: f32, step: f32, gain_in_mix: Option<f32>) -> Option<f32> {
    let round = (peak_dbfs * 10.0).round() / 10.0;
    if (peak_dbfs - round).abs() > landing_within_db(round, step) || !(-24.0..0.0).contains(&round)
    {
        return None;
    }
    match gain_in_mix {
        Some(gain) if gain.abs() > 0.0 => {
            (gain_to_db(gain.abs()).abs() > UNITY_WITHIN_DB).then_some(round)
        }
        Some(_) => None,
        None => is_classic_target(round).then_some(round),
    }
}

/// The gain of stem `stem` in the mix when the null test can tell whether this stem's level
/// moved: the mix is the stems' sum times their gains, and the others sit at unity (a gain
/// shared by every stem is the mix's own).
pub fn telling_gain(gains: &[f32], stem: usize, fitted_residual_db: f32) -> Option<f32> {
    let gain = *gains.get(stem)?;
    let others_at_unity = gains
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != stem)
        .all(|(_, &g)| gain_to_db(g.abs()).abs() <= UNITY_WITHIN_DB);
    (fitted_residual_db < LINEAR_FIT_DB && others_at_unity).then_some(gain)
}

/// The mix is its stems' sum times some gain, as a normalize step leaves it and a limiter does
/// not: their plain sum (lined up, when any was moved) or their sum at the fitted gains leaves
/// nothing but rounding.
pub fn linear_in_stems(
    residual_db: f32,
    residual_aligned_db: Option<f32>,
    fitted_residual_db: f32,
) -> bool {
    let unexplained = residual_aligned_db
        .map_or(residual_db, |aligned| aligned.min(residual_db))
        .min(fitted_residual_db);
    unexplained < NON_LINEAR_DB
}

/// The mix is its stems' sum as they were exported, every one at unity and nothing non-linear
/// between: its peak lies where the mix put it, round or not.
pub fn sums_its_stems(gains: &[f32], fitted_residual_db: f32) -> bool {
    fitted_residual_db < LINEAR_FIT_DB
        && gains
            .iter()
            .all(|&g| gain_to_db(g.abs()).abs() <= UNITY_WITHIN_DB)
}

/// "4.2 dB hotter" or "4.2 dB quieter": a stem's level against the mix, from its gain there.
fn level_against_mix(gain_in_mix: f32) -> String {
    let direction = if gain_in_mix.abs() < 1.0 {
        "hotter"
    } else {
        "quieter"
    };
    format!("{:.1} dB {direction}", gain_to_db(gain_in_mix.abs()).abs())
}

/// "Drums is 4.2 dB hotter in its stem than in the mix", from its gain in the mix.
pub fn level_in_stem(name: &str, gain_in_mix: f32) -> String {
    format!(
        "{name} is {} in its stem than in the mix",
        level_against_mix(gain_in_mix)
    )
}

/// The finding for a file whose peak says it was normalized.
pub fn finding(
    label: &str,
    peak_dbfs: f32,
    step: f32,
    gain_in_mix: Option<f32>,
) -> Option<Finding> {
    let round = round_peak(peak_dbfs, step, gain_in_mix)?;
    let evidence = match gain_in_mix {
        Some(gain) => format!(
            "{label} peaks at exactly {round:.1} dBFS and is {} than in the mix",
            level_against_mix(gain)
        ),
        None => format!("{label} peaks at exactly {round:.1} dBFS"),
    };
    Some(Finding::warn(
        Check::Normalized,
        format!("{evidence}: it was normalized. Export without normalizing: it changes the balance between the stems, so they no longer add up to the mix."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP_16_BIT: f32 = 1.0 / 32_768.0;
    const STEP_24_BIT: f32 = 1.0 / 8_388_608.0;

    #[test]
    fn a_round_peak_counts_only_with_a_level_change_when_the_mix_can_tell() {
        let step = STEP_24_BIT;
        // -6.0 dBFS as a 24-bit normalizer leaves it: within 2e-6 dB.
        assert_eq!(round_peak(-6.000_002, step, Some(0.61)), Some(-6.0));
        assert_eq!(round_peak(-3.0, step, Some(1.4)), Some(-3.0));
        assert_eq!(round_peak(-4.7, step, Some(0.8)), Some(-4.7));
        // In the mix at unity gain: exported as mixed, round peak or not.
        assert_eq!(round_peak(-6.0, step, Some(1.0)), None);
        assert_eq!(round_peak(-6.0, step, Some(1.005)), None);
        // Not round.
        assert_eq!(round_peak(-6.002, step, Some(0.5)), None);
        // Without the mix: only the classic targets.
        assert_eq!(round_peak(-1.0, step, None), Some(-1.0));
        assert_eq!(round_peak(-6.0, step, None), Some(-6.0));
        assert_eq!(round_peak(-4.7, step, None), None);
    }

    /// Every value a normalizer can leave on the file's grid, to a target: the nearest grid
    /// value, and that value moved by up to a step and a half of dither.
    fn landings(target_dbfs: f32, step: f32) -> Vec<f32> {
        let exact = f64::from(db_to_gain(target_dbfs));
        let grid = (exact / f64::from(step)).round();
        [-1.5, -1.0, 0.0, 1.0, 1.5]
            .iter()
            .map(|d| gain_to_db(((grid + d) * f64::from(step)) as f32))
            .collect()
    }

    #[test]
    fn a_normalized_peak_is_found_wherever_the_files_grid_lets_it_land() {
        for step in [STEP_16_BIT, STEP_24_BIT, 0.0] {
            for target in CLASSIC_TARGETS_DBFS {
                for peak in landings(target, step.max(f32::EPSILON / 4.0)) {
                    assert_eq!(round_peak(peak, step, None), Some(target), "{peak} {step}");
                }
            }
        }
    }

    #[test]
    fn a_natural_peak_must_land_on_the_target_as_closely_as_the_grid_allows() {
        // 0.0005 dB off: where a 16-bit file can land after dither, never a 24-bit one.
        assert_eq!(round_peak(-6.0005, STEP_16_BIT, None), Some(-6.0));
        assert_eq!(round_peak(-6.0005, STEP_24_BIT, None), None);
        // 24-bit: a few steps off is already not normalized (one step at -6 dBFS is 2e-6 dB).
        assert_eq!(round_peak(-6.000_03, STEP_24_BIT, None), None);
        // A 16-bit grid at -12 dBFS: a step and a half of dither is 0.0019 dB.
        assert_eq!(round_peak(-12.0019, STEP_16_BIT, None), Some(-12.0));
        assert_eq!(round_peak(-12.003, STEP_16_BIT, None), None);
    }

    #[test]
    fn a_mix_that_is_its_stems_sum_was_not_normalized() {
        assert!(sums_its_stems(&[1.0, 0.999, 1.004], -80.0));
        // A gain shared by every stem is the mix's own level change.
        assert!(!sums_its_stems(&[0.7, 0.7, 0.7], -80.0));
        // Something non-linear between: the gains say nothing.
        assert!(!sums_its_stems(&[1.0, 1.0, 1.0], -30.0));
    }

    #[test]
    fn a_limiter_holds_its_peak_near_its_ceiling_not_on_the_grid() {
        assert_eq!(limiter_ceiling(-0.1004), Some(-0.1));
        assert_eq!(limiter_ceiling(-0.2996), Some(-0.3));
        assert_eq!(limiter_ceiling(-0.102), None);
        assert_eq!(limiter_ceiling(-0.2), None);
        // Not close enough to the grid for a normalizer, close enough for a limiter.
        assert_eq!(round_peak(-0.1004, STEP_24_BIT, None), None);
    }

    #[test]
    fn a_mix_is_linear_in_its_stems_when_any_sum_of_them_leaves_only_rounding() {
        assert!(linear_in_stems(-128.0, None, -89.0));
        assert!(linear_in_stems(-6.0, None, -120.0));
        assert!(linear_in_stems(-6.0, Some(-130.0), -70.0));
        // A limiter: no gain, no offset explains it.
        assert!(!linear_in_stems(-20.0, None, -62.0));
        assert!(!linear_in_stems(-20.0, Some(-25.0), -62.0));
    }

    #[test]
    fn the_finding_says_which_way_the_level_moved() {
        let f = finding("Drums", -6.0, STEP_24_BIT, Some(1.62)).unwrap();
        assert!(
            f.message.starts_with("Drums peaks at exactly -6.0 dBFS and is 4.2 dB quieter than in the mix: it was normalized."),
            "{}",
            f.message
        );
        assert_eq!(
            level_in_stem("Guitar", 0.2),
            "Guitar is 14.0 dB hotter in its stem than in the mix"
        );
    }
}
