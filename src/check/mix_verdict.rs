//! The findings that wait for the set: what holds the mix's peaks (a limiter on the master bus,
//! or the stems themselves), and whether a normalize step put a file's peak on a round value.

use super::finding::{Check, Finding};
use super::judge;
use super::measure::FileMeasurements;
use super::normalized;
use super::outcome::{FileReport, NullReport};
use crate::analysis::{gain_to_db, HeadroomThresholds, LimiterVerdict};

/// Master limiters are set within this much of full scale, dBFS.
const LIMITER_CEILINGS_FROM_DBFS: f32 = -3.0;
/// Stems at one level in the mix: their gains there agree this closely, dB.
const ONE_LEVEL_DB: f32 = 0.1;
/// The mix's peak below what the stems' sum at the mix's level reaches, far beyond rounding
/// (1e-5 dB at 24 bits): a limiter's gain reduction on its loudest peak, dB. A finding names it
/// to a tenth, so it never reads "0.0 dB".
const HELD_DOWN_DB: f32 = 0.05;

/// What holds the mix's peaks, once the null test has said whether the mix is its stems' sum.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MixLimiter {
    /// No sign of one.
    None,
    /// The peak detector saw one, and the stems do not contradict it.
    Seen,
    /// The detector saw peaks held on one level, yet the mix is its stems' sum times one gain
    /// and peaks where their sum does: nothing on the master bus held it down, the stems hold
    /// those peaks themselves.
    InTheStems,
    /// The set alone shows it (the detector saw too few passages): the mix peaks on a limiter's
    /// ceiling (dBFS), and either no gain of the stems adds up to it (`None`) or their sum at the
    /// mix's level goes this many dB higher.
    Ceiling(f32, Option<f32>),
}

/// The mix is its stems' sum times some gain, as far as the null test can tell.
pub fn linear_in_stems(null: &NullReport) -> bool {
    normalized::linear_in_stems(
        null.residual_db,
        null.residual_aligned_db,
        null.fitted_residual_db,
    )
}

fn mix_limiter(m: &FileMeasurements, null: Option<&NullReport>) -> MixLimiter {
    let Some(null) = null else {
        return if m.limiter.verdict == LimiterVerdict::None {
            MixLimiter::None
        } else {
            MixLimiter::Seen
        };
    };
    let linear = linear_in_stems(null);
    let held_db = held_down_db(m.sample_peak_dbfs, null);
    if m.limiter.verdict != LimiterVerdict::None {
        let theirs = linear && held_db.is_some_and(|db| db < HELD_DOWN_DB);
        return if theirs {
            MixLimiter::InTheStems
        } else {
            MixLimiter::Seen
        };
    }
    let evidence = if linear {
        held_db.filter(|&db| db >= HELD_DOWN_DB).map(Some)
    } else {
        Some(None)
    };
    match (normalized::limiter_ceiling(m.sample_peak_dbfs), evidence) {
        (Some(ceiling), Some(held)) if ceiling >= LIMITER_CEILINGS_FROM_DBFS => {
            MixLimiter::Ceiling(ceiling, held)
        }
        _ => MixLimiter::None,
    }
}

/// How far below the stems' plain sum, at the level the mix has them, the mix peaks, dB, when
/// they sit in it at one level: a limiter on the master bus takes its gain reduction off the
/// loudest peak; a normalize step or a limiter on one of the stems' buses takes nothing.
fn held_down_db(mix_peak_dbfs: f32, null: &NullReport) -> Option<f32> {
    let (low, high) = null
        .stem_gains
        .iter()
        .map(|(_, g)| gain_to_db(g.abs()))
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), d| {
            (l.min(d), h.max(d))
        });
    let level_db = (low + high) / 2.0;
    (high - low <= ONE_LEVEL_DB).then_some(null.stems_sum_peak_dbfs + level_db - mix_peak_dbfs)
}

/// A limiter on the mix, as the set's evidence leaves it: the detector's verdict, unless the
/// stems hold the peaks it saw.
pub fn mix_is_limited(m: &FileMeasurements, null: Option<&NullReport>) -> bool {
    mix_limiter(m, null) == MixLimiter::Seen
}

/// The reference mix's findings once the set has spoken: its limiter finding and the headroom
/// and clipping judged under it when the set changes the detector's view, the dense-mix note
/// when no limiter names the cause (one cause, one finding), and normalization.
pub fn judge_the_mix(
    report: &mut FileReport,
    m: &FileMeasurements,
    null: Option<&NullReport>,
    thresholds: HeadroomThresholds,
) {
    let label = report.label();
    let limiter = mix_limiter(m, null);
    let replaced = match limiter {
        MixLimiter::InTheStems => Some((
            false,
            Finding::pass(
                Check::Limiter,
                format!("No limiter on the master bus: {label}'s peaks often return to one level, but the mix is its stems' sum times one gain, so that level comes from the stems."),
            ),
        )),
        MixLimiter::Ceiling(ceiling, held) => {
            let evidence = match held {
                Some(db) => format!(
                    "{db:.1} dB under the peak of the stems' own sum at the mix's level"
                ),
                None => "and no gain of the stems adds up to it".to_owned(),
            };
            Some((
                true,
                Finding::warn(
                    Check::Limiter,
                    format!("{label} peaks at exactly {ceiling:.1} dBFS, {evidence}: something on the master bus holds its peaks there, most likely a limiter or clipper. Bypass it before exporting stems and the reference mix."),
                ),
            ))
        }
        MixLimiter::None | MixLimiter::Seen => None,
    };
    if let Some((limited, finding)) = replaced {
        judge::rejudge_headroom_and_clipping(&mut report.findings, m, &label, thresholds, limited);
        for old in report
            .findings
            .iter_mut()
            .filter(|f| f.check == Check::Limiter)
        {
            *old = finding.clone();
        }
    }
    let limited = matches!(limiter, MixLimiter::Seen | MixLimiter::Ceiling(..));
    if let Some(note) = judge::dense_mix_note(m).filter(|_| !limited) {
        let after_limiter = report
            .findings
            .iter()
            .position(|f| f.check == Check::Limiter)
            .map_or(report.findings.len(), |at| at + 1);
        report.findings.insert(after_limiter, note);
    }
    // A limiter's ceiling is a round peak too; the limiter finding names it.
    let as_mixed =
        null.is_some_and(|n| normalized::sums_its_stems(&gains(n), n.fitted_residual_db));
    if !limited && !as_mixed {
        report.findings.extend(normalized::finding(
            &label,
            m.sample_peak_dbfs,
            m.sample_step(),
            None,
        ));
    }
}

/// A stem's normalization finding: its peak on a round value, and its level in the mix moved
/// when the null test can tell.
pub fn judge_normalized_stem(
    report: &mut FileReport,
    m: &FileMeasurements,
    null: Option<&NullReport>,
) {
    let gain_in_mix = null.and_then(|n| {
        let name = report.file_name();
        let stem = n.stem_gains.iter().position(|(f, _)| *f == name)?;
        normalized::telling_gain(&gains(n), stem, n.fitted_residual_db)
    });
    report.findings.extend(normalized::finding(
        &report.label(),
        m.sample_peak_dbfs,
        m.sample_step(),
        gain_in_mix,
    ));
}

fn gains(null: &NullReport) -> Vec<f32> {
    null.stem_gains.iter().map(|(_, g)| *g).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn null(gains: &[f32], stems_sum_peak_dbfs: f32) -> NullReport {
        NullReport {
            residual_db: -6.0,
            residual_aligned_db: None,
            stem_gains: gains.iter().map(|&g| (String::new(), g)).collect(),
            fitted_residual_db: -110.0,
            timeline: Vec::new(),
            stems_sum_peak_dbfs,
        }
    }

    #[test]
    fn a_mix_peak_is_held_down_by_what_the_stems_sum_reaches_above_it() {
        let close = |a: Option<f32>, b: f32| a.is_some_and(|a| (a - b).abs() < 1e-3);
        // Normalized: every stem 5.9 dB up, the mix's peak exactly where their sum's goes.
        let up = 10f32.powf(5.9 / 20.0);
        assert!(close(held_down_db(-0.1, &null(&[up, up, up], -6.0)), 0.0));
        // A bus limiter delivered in its stem: the mix is the plain sum.
        assert!(close(held_down_db(-0.3, &null(&[1.0, 1.0], -0.3)), 0.0));
        // A limiter on the master took 1 dB off the loudest peak.
        assert!(close(held_down_db(-1.1, &null(&[1.0, 1.0], -0.1)), 1.0));
        // The stems at different levels: their plain sum's peak says nothing of the mix's.
        assert_eq!(held_down_db(-0.3, &null(&[1.0, 1.5], -0.3)), None);
    }
}
