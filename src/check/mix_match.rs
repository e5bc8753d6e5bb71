//! Each stem against the mix: where it starts (the correlation proposes, the null test
//! confirms) and whether the stems add up to the mix.

use super::decode::DecodeError;
use super::finding::{Check, Finding, Severity};
use super::measure::FileMeasurements;
use super::mix_verdict;
use super::normalized;
use super::outcome::{FileReport, NullReport, OffsetReport};
use super::parallel::parallel_map;
use super::set_work;
use super::sum::{self, null_test, stem_offset, SumInput, MAX_NULL_TEST_STEMS};
use crate::analysis::{gain_to_db, Alignment, ClipKind};
use std::path::{Path, PathBuf};

/// Null-test residual below which the stems add up to the mix, dB.
pub const NULL_PASS_DB: f32 = -60.0;
/// Residual above which the stems clearly do not add up, dB (between the two: warn).
pub const NULL_FAIL_DB: f32 = -40.0;
/// A stem whose least-squares gain in the mix is below this (-20 dB) is not in the mix.
const NOT_IN_MIX_GAIN: f32 = 0.1;
/// Stem gains this close together (dB) are one gain of the whole mix.
const COMMON_GAIN_DB: f32 = 0.1;
/// Under a limiter the stems' fitted gains spread (it pulls down the loud ones most): within
/// this many dB of each other they are still the master's one gain.
const LIMITED_COMMON_GAIN_DB: f32 = 1.5;
/// A proposed offset counts when moving the stem lowers the fitted null residual this much, dB.
const OFFSET_EVIDENCE_DB: f32 = 3.0;

/// The reference mix as the stems are compared with it.
pub struct Reference<'a> {
    /// Its file.
    pub path: PathBuf,
    /// Its measurements.
    pub measured: &'a FileMeasurements,
    /// Every stem is at the mix's rate, so the null test's verdict means something.
    pub judge_null: bool,
}

/// Offsets and the null test of `stems` against the mix. Returns the null test's numbers.
pub fn stems_against_mix(
    reports: &mut [FileReport],
    stems: &[&(usize, FileMeasurements)],
    reference: &Reference,
    set_findings: &mut Vec<Finding>,
    mut prepared: set_work::Prepared,
) -> Option<NullReport> {
    let rate = reference.measured.format.sample_rate;
    // Offsets: found while measuring, else here in parallel (each reads a window of two files).
    let mut alignments: Vec<_> = stems
        .iter()
        .map(|(i, m)| prepared.take_alignment(&reports[*i].path, m.first_sound_frame))
        .collect();
    let missing: Vec<(usize, &(usize, FileMeasurements))> = (stems.iter().copied().enumerate())
        .filter(|(s, _)| alignments[*s].is_none())
        .collect();
    let found = parallel_map(&missing, |(s, (i, m))| {
        let alignment = m
            .first_sound_frame
            .map(|first| stem_offset(&reference.path, &reports[*i].path, first, rate));
        (*s, alignment)
    });
    for (s, alignment) in found {
        alignments[s] = Some(alignment);
    }
    let alignments: Vec<Option<Result<Alignment, DecodeError>>> = alignments
        .into_iter()
        .map(|a| a.expect("every stem was aligned ahead or just now"))
        .collect();

    // The null test reads every stem at once.
    if stems.is_empty() {
        return None;
    }
    if stems.len() > MAX_NULL_TEST_STEMS {
        set_findings.push(Finding::warn(
            Check::NullTest,
            format!("{} stems against one mix: the null test runs on at most {MAX_NULL_TEST_STEMS}. Check one song's folder at a time.", stems.len()),
        ));
        return None;
    }
    let paths: Vec<&Path> = stems
        .iter()
        .map(|(i, _)| reports[*i].path.as_path())
        .collect();
    let raw = prepared
        .take_null(&inputs(&paths, &[]))
        .unwrap_or_else(|| null_test(&reference.path, &inputs(&paths, &[])));
    let raw = match raw {
        Ok(r) => r,
        Err(e) => {
            set_findings.push(Finding::warn(
                Check::NullTest,
                format!("The null test could not run: {e}."),
            ));
            return None;
        }
    };
    let offsets = confirmed_offsets(&reference.path, &paths, &alignments, &raw);
    let aligned = if offsets.iter().any(|&o| o != 0) {
        null_test(&reference.path, &inputs(&paths, &offsets)).ok()
    } else {
        None
    };
    let fit = aligned.as_ref().unwrap_or(&raw);
    for (s, (i, _)) in stems.iter().enumerate() {
        let finding = offset_finding(
            &reports[*i].label(),
            alignments[s].as_ref(),
            offsets[s],
            fit.gains[s],
            rate,
        );
        if let Some((finding, report)) = finding {
            reports[*i].offset = report;
            reports[*i].findings.push(finding);
        }
    }
    let names: Vec<String> = stems.iter().map(|(i, _)| reports[*i].label()).collect();
    let normalized: Vec<Option<f32>> = stems
        .iter()
        .enumerate()
        .map(|(s, (_, m))| {
            let gain = normalized::telling_gain(&fit.gains, s, fit.fitted_residual_db);
            normalized::round_peak(m.sample_peak_dbfs, m.sample_step(), gain)
        })
        .collect();
    let report = NullReport {
        residual_db: raw.residual_db,
        residual_aligned_db: aligned.as_ref().map(|a| a.residual_db),
        stem_gains: stems
            .iter()
            .zip(&fit.gains)
            .map(|((i, _), &g)| (reports[*i].file_name(), g))
            .collect(),
        fitted_residual_db: fit.fitted_residual_db,
        timeline: raw.timeline.clone(),
        stems_sum_peak_dbfs: gain_to_db(fit.stems_sum_peak),
    };
    if reference.judge_null {
        let linear = mix_verdict::linear_in_stems(&report);
        set_findings.push(null_finding(
            &raw,
            aligned.as_ref(),
            &names,
            &offsets,
            &normalized,
            MixProcessing {
                limited: mix_verdict::mix_is_limited(reference.measured, Some(&report)),
                clipped: reference.measured.count(ClipKind::Sample) > 0
                    || reference.measured.count(ClipKind::FlatTop) > 0,
                normalized_to: normalized::round_peak(
                    reference.measured.sample_peak_dbfs,
                    reference.measured.sample_step(),
                    None,
                )
                .filter(|_| linear),
            },
        ));
    }
    Some(report)
}

/// The stems as the null test reads them, each moved back by its offset (none: all at 0).
fn inputs<'a>(paths: &[&'a Path], offsets: &[i64]) -> Vec<SumInput<'a>> {
    paths
        .iter()
        .enumerate()
        .map(|(s, path)| SumInput {
            path,
            offset_frames: offsets.get(s).copied().unwrap_or(0),
        })
        .collect()
}

/// The offsets the null test confirms. The correlation proposes a lag for each stem; a stem
/// counts as moved only when the stems add up to the mix clearly better with it moved than in
/// place, the other proposals applied either way (a sustained bass line correlates almost as
/// well a period off, so the correlation alone must never say so). When the stems already add
/// up in place, nothing moved.
fn confirmed_offsets(
    reference: &Path,
    paths: &[&Path],
    alignments: &[Option<Result<Alignment, DecodeError>>],
    raw: &sum::NullResult,
) -> Vec<i64> {
    let proposed: Vec<i64> = alignments
        .iter()
        .map(|a| match a {
            Some(Ok(a)) => a.offset_frames,
            _ => 0,
        })
        .collect();
    let mut offsets = vec![0i64; paths.len()];
    if raw.residual_db < NULL_PASS_DB || proposed.iter().all(|&o| o == 0) {
        return offsets;
    }
    let fitted = |trial: &[i64]| {
        if trial.iter().all(|&o| o == 0) {
            return Some(raw.fitted_residual_db);
        }
        null_test(reference, &inputs(paths, trial))
            .ok()
            .map(|n| n.fitted_residual_db)
    };
    let Some(all_moved) = fitted(&proposed) else {
        return offsets;
    };
    for (s, &lag) in proposed.iter().enumerate() {
        if lag == 0 {
            continue;
        }
        let mut in_place = proposed.clone();
        in_place[s] = 0;
        if fitted(&in_place).is_some_and(|kept| all_moved <= kept - OFFSET_EVIDENCE_DB) {
            offsets[s] = lag;
        }
    }
    offsets
}

/// A stem's offset finding and the offset for the report. A stem the mix does not hold has
/// no start to compare (the null test says it is missing); a silent one has none either.
fn offset_finding(
    label: &str,
    alignment: Option<&Result<Alignment, DecodeError>>,
    offset_frames: i64,
    gain_in_mix: f32,
    rate: u32,
) -> Option<(Finding, Option<OffsetReport>)> {
    let alignment = match alignment? {
        Err(e) => {
            return Some((
                Finding::warn(Check::Offset, format!("Could not align {label}: {e}.")),
                None,
            ))
        }
        Ok(a) => a,
    };
    if gain_in_mix.abs() < NOT_IN_MIX_GAIN {
        return None;
    }
    let ms = offset_frames as f64 * 1000.0 / f64::from(rate);
    let report = OffsetReport {
        frames: offset_frames,
        ms,
        correlation: if offset_frames == alignment.offset_frames {
            alignment.correlation
        } else {
            alignment.correlation_in_place
        },
    };
    let finding = if offset_frames == 0 {
        Finding::pass(Check::Offset, "Starts together with the mix.")
    } else {
        Finding::fail(
            Check::Offset,
            format!(
                "{label} starts {} samples ({:.1} ms) {} than the mix: export every stem from the same start point (the song's start, bar 1).",
                offset_frames.unsigned_abs(),
                ms.abs(),
                if offset_frames > 0 { "later" } else { "earlier" }
            ),
        )
    };
    Some((finding, Some(report)))
}

/// What the mix went through that the stems did not, as far as its own measurement tells.
#[derive(Debug, Clone, Copy, Default)]
struct MixProcessing {
    /// A limiter on the mix (likely or certain).
    limited: bool,
    /// Clipped samples or flat tops in the mix.
    clipped: bool,
    /// The round peak a normalize step put the mix on: the stems times one gain add up to it.
    normalized_to: Option<f32>,
}

/// A stem's level difference is named only from here: smaller rounds to "0.0 dB".
const SMALLEST_NAMED_DB: f32 = 0.05;

fn null_finding(
    raw: &sum::NullResult,
    aligned: Option<&sum::NullResult>,
    names: &[String],
    offsets: &[i64],
    normalized: &[Option<f32>],
    mix: MixProcessing,
) -> Finding {
    let level = |db: f32| {
        if db < NULL_PASS_DB {
            Severity::Pass
        } else if db < NULL_FAIL_DB {
            Severity::Warn
        } else {
            Severity::Fail
        }
    };
    let severity = level(raw.residual_db);
    if severity == Severity::Pass {
        return Finding::pass(
            Check::NullTest,
            format!(
                "The stems add up to the mix (residual {:.1} dB).",
                raw.residual_db
            ),
        );
    }
    let mut why = Vec::new();
    if let Some(aligned) = aligned {
        let moved: Vec<&str> = names
            .iter()
            .zip(offsets)
            .filter(|(_, &o)| o != 0)
            .map(|(n, _)| n.as_str())
            .collect();
        if level(aligned.residual_db) == Severity::Pass {
            why.push(format!(
                "the offset of {} explains it: lined up, the residual is {:.1} dB",
                moved.join(" and "),
                aligned.residual_db
            ));
        } else {
            why.push(format!(
                "lining up {} helps only to {:.1} dB",
                moved.join(" and "),
                aligned.residual_db
            ));
        }
    }
    let fit = aligned.unwrap_or(raw);
    // Every stem at the same other level: the mix's own level moved (master fader, a gain or
    // maximizer plugin on the master), not each stem's.
    let present: Vec<f32> = fit
        .gains
        .iter()
        .copied()
        .filter(|g| g.abs() >= NOT_IN_MIX_GAIN)
        .collect();
    let db = |g: f32| gain_to_db(g.abs());
    let spread = if mix.limited {
        LIMITED_COMMON_GAIN_DB
    } else {
        COMMON_GAIN_DB
    };
    let (low, high) = present
        .iter()
        .map(|&g| db(g))
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), d| {
            (l.min(d), h.max(d))
        });
    let common_gain = (present.len() >= 2 && high - low < spread)
        .then_some((low + high) / 2.0)
        .filter(|mean| mean.abs() > COMMON_GAIN_DB);
    match common_gain {
        // One cause: the master's gain into its limiter. What no stem holds is the limiter's
        // doing too, so it is not named apart.
        Some(gain_db) if mix.limited => why.push(format!(
            "the mix is {:.1} dB {} than the sum of the stems and limited: a gain and a limiter on the master bus that the stems do not go through; bypass them for the mix too",
            gain_db.abs(),
            if gain_db > 0.0 { "louder" } else { "quieter" }
        )),
        Some(gain_db) => {
            let level = format!(
                "{:.1} dB {} than the sum of the stems",
                gain_db.abs(),
                if gain_db > 0.0 { "louder" } else { "quieter" }
            );
            why.push(match mix.normalized_to {
                Some(peak) => format!("the mix was normalized to {peak:.1} dBFS, which made it {level}: export it without normalizing"),
                None => format!("the mix is {level}: its master fader or a plugin on the master bus changed its level"),
            });
        }
        None => {}
    }
    let stem_gains = fit.gains.iter().filter(|_| common_gain.is_none());
    for ((name, &gain), round) in names.iter().zip(stem_gains).zip(normalized) {
        if gain.abs() < NOT_IN_MIX_GAIN {
            why.push(format!(
                "{name} is not in the mix (muted there, or from another song)"
            ));
        } else if (gain + 1.0).abs() < 0.1 {
            why.push(format!("{name} has its polarity flipped against the mix"));
        } else if (gain - 1.0).abs() > 0.05 {
            let level = normalized::level_in_stem(name, gain);
            why.push(match round {
                Some(peak) => format!("{name} was normalized to {peak:.1} dBFS: {level}"),
                None => {
                    format!("{level}: export stems with the same fader and bus settings as the mix")
                }
            });
        }
    }
    let master_explains = common_gain.is_some() && mix.limited;
    if level(fit.fitted_residual_db) != Severity::Pass && !master_explains {
        if mix.limited {
            why.push(
                "the mix has a limiter the stems do not have: bypass it for the mix too".into(),
            );
        }
        why.push(format!(
            "{:.1} dB of the mix is in no stem: a track not routed to any stem bus, an effect return, a missing stem, or processing on the master bus",
            fit.fitted_residual_db
        ));
    }
    let in_mix = |gain: &f32| gain.abs() >= NOT_IN_MIX_GAIN;
    if why.is_empty() && mix.clipped {
        // The stems add up past full scale where the mix was cut off: that difference is the
        // residual, and the mix's clipping finding already gives the fix.
        why.push("the mix is clipped where the stems add up to more than full scale (see its clipping finding)".into());
    }
    if why.is_empty() {
        // Nothing else is wrong and the fitted gains explain the mix: level differences too
        // small to name one by one add up to the whole residual. Name the largest, if it is
        // large enough to say.
        let largest = names
            .iter()
            .zip(&fit.gains)
            .filter(|(_, g)| in_mix(g) && db(**g).abs() >= SMALLEST_NAMED_DB)
            .max_by(|a, b| db(*a.1).abs().total_cmp(&db(*b.1).abs()));
        if let Some((name, &gain)) = largest {
            why.push(format!(
                "{}: export stems with the same fader and bus settings as the mix",
                normalized::level_in_stem(name, gain)
            ));
        }
    }
    if why.is_empty() {
        why.push("no stem's level, offset or polarity explains it, each differs from the mix by less than 0.1 dB: export the stems and the mix again from the same session state".into());
    }
    let text = format!(
        "The stems do not add up to the mix (residual {:.1} dB, pass below {NULL_PASS_DB:.0} dB): {}.",
        raw.residual_db,
        why.join("; ")
    );
    match severity {
        Severity::Warn => Finding::warn(Check::NullTest, text),
        _ => Finding::fail(Check::NullTest, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn null(residual_db: f32, gains: &[f32], fitted_residual_db: f32) -> sum::NullResult {
        sum::NullResult {
            residual_db,
            gains: gains.to_vec(),
            fitted_residual_db,
            timeline: Vec::new(),
            stems_sum_peak: 0.5,
        }
    }

    fn message(result: &sum::NullResult) -> String {
        let names = ["Bass".to_owned(), "Drums".to_owned()];
        null_finding(
            result,
            None,
            &names,
            &[0, 0],
            &[None, None],
            MixProcessing::default(),
        )
        .message
    }

    #[test]
    fn a_clipped_mix_is_the_cause_not_a_level_difference_too_small_to_say() {
        let result = null(-40.9, &[1.001, 0.9995], -62.0);
        let names = ["Bass".to_owned(), "Drums".to_owned()];
        let mix = MixProcessing {
            clipped: true,
            ..MixProcessing::default()
        };
        let text = null_finding(&result, None, &names, &[0, 0], &[None, None], mix).message;
        assert!(
            text.contains("the mix is clipped where the stems add up"),
            "{text}"
        );
        assert!(!text.contains("0.0 dB"), "{text}");
        // Without the clipping nothing is named that would read "0.0 dB".
        let text = message(&result);
        assert!(!text.contains("0.0 dB"), "{text}");
        assert!(!text.ends_with(": ."), "{text}");
    }

    #[test]
    fn a_normalized_mix_is_named_as_the_cause_of_its_level() {
        let result = null(-6.1, &[1.977, 1.977], -130.0);
        let names = ["Bass".to_owned(), "Drums".to_owned()];
        let mix = MixProcessing {
            normalized_to: Some(-0.1),
            ..MixProcessing::default()
        };
        let text = null_finding(&result, None, &names, &[0, 0], &[None, None], mix).message;
        assert!(
            text.contains("the mix was normalized to -0.1 dBFS, which made it 5.9 dB louder than the sum of the stems: export it without normalizing"),
            "{text}"
        );
        assert!(!text.contains("master fader"), "{text}");
        // A peak on no round value: the master's level, as before.
        let text = message(&result);
        assert!(
            text.contains("5.9 dB louder than the sum of the stems: its master fader"),
            "{text}"
        );
    }

    #[test]
    fn a_small_level_difference_that_explains_the_residual_is_named() {
        // Bass 0.27 dB louder in the mix than in its stem, nothing else wrong.
        let text = message(&null(-38.7, &[1.031, 1.0], -85.7));
        assert!(
            text.contains("Bass is 0.3 dB quieter in its stem than in the mix"),
            "{text}"
        );
        assert!(!text.contains("Drums"), "{text}");
        assert!(!text.ends_with(": ."), "{text}");
    }

    #[test]
    fn gain_into_a_limiter_on_the_master_is_one_cause() {
        // 8 dB into a limiter: the stems' fitted gains spread by 0.6 dB, and what the limiter
        // took off is in no stem.
        let result = null(-4.5, &[2.455, 2.317, 2.483], -28.4);
        let names = ["Bass".to_owned(), "Drums".to_owned(), "Vocals".to_owned()];
        let text_for =
            |mix| null_finding(&result, None, &names, &[0, 0, 0], &[None, None, None], mix).message;
        let text = text_for(MixProcessing {
            limited: true,
            ..MixProcessing::default()
        });
        assert!(
            text.contains("the mix is 7.6 dB louder than the sum of the stems and limited"),
            "{text}"
        );
        for other in ["quieter in its stem", "in no stem", "Bass", "Drums"] {
            assert!(!text.contains(other), "{other} in {text}");
        }
        // Without a limiter the same spread is three stems at three levels.
        let text = text_for(MixProcessing::default());
        assert!(
            text.contains("Bass is 7.8 dB quieter in its stem"),
            "{text}"
        );
    }

    #[test]
    fn what_no_stem_holds_is_not_blamed_on_a_small_level_difference() {
        let text = message(&null(-30.0, &[1.02, 1.0], -31.0));
        assert!(text.contains("-31.0 dB of the mix is in no stem"), "{text}");
        assert!(!text.contains("quieter"), "{text}");
    }
}
