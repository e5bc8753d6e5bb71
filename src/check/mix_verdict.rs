//! The findings that wait for the set: what holds the mix's peaks (a limiter on the master bus,
//! or the stems themselves), and whether a normalize step put a file's peak on a round value.

use super::finding::{Check, Finding};
use super::judge;
use super::measure::FileMeasurements;
use super::normalized;
use super::outcome::{FileReport, NullReport};
use crate::analysis::{HeadroomThresholds, LimiterVerdict};

/// Master limiters are set within this much of full scale, dBFS.
const LIMITER_CEILINGS_FROM_DBFS: f32 = -3.0;

/// What holds the mix's peaks, once the null test has said whether the mix is its stems' sum.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MixLimiter {
    /// No sign of one.
    None,
    /// The peak detector saw one, and the stems do not contradict it.
    Seen,
    /// The detector saw peaks held on one level, yet the mix is its stems' sum times one gain:
    /// a limiter on the master bus would have made it something else, so the stems hold them.
    InTheStems,
    /// The set alone shows it: the mix peaks on a limiter's ceiling (dBFS), and no gain of the
    /// stems adds up to it (the detector saw too few passages).
    Ceiling(f32),
}

/// The mix is its stems' sum times some gain, as far as the null test can tell.
fn linear_in_stems(null: &NullReport) -> bool {
    normalized::linear_in_stems(
        null.residual_db,
        null.residual_aligned_db,
        null.fitted_residual_db,
    )
}

fn mix_limiter(m: &FileMeasurements, null: Option<&NullReport>) -> MixLimiter {
    let linear = null.map(linear_in_stems);
    if m.limiter.verdict != LimiterVerdict::None {
        return if linear == Some(true) {
            MixLimiter::InTheStems
        } else {
            MixLimiter::Seen
        };
    }
    match normalized::limiter_ceiling(m.sample_peak_dbfs) {
        Some(ceiling) if linear == Some(false) && ceiling >= LIMITER_CEILINGS_FROM_DBFS => {
            MixLimiter::Ceiling(ceiling)
        }
        _ => MixLimiter::None,
    }
}

/// A limiter on the mix, as the set's evidence leaves it: the detector's verdict, unless the
/// stems hold the peaks it saw.
pub fn mix_is_limited(m: &FileMeasurements, linear_in_stems: bool) -> bool {
    m.limiter.verdict != LimiterVerdict::None && !linear_in_stems
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
        MixLimiter::Ceiling(ceiling) => Some((
            true,
            Finding::warn(
                Check::Limiter,
                format!("{label} peaks at exactly {ceiling:.1} dBFS, and no gain of the stems adds up to it: something non-linear on the master bus holds its peaks there, most likely a limiter or clipper. Bypass it before exporting stems and the reference mix."),
            ),
        )),
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
    let limited = matches!(limiter, MixLimiter::Seen | MixLimiter::Ceiling(_));
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
