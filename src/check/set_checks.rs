//! The checks of the set as a whole: one sample rate, one song name, equal lengths; then each
//! stem against the mix (see [`mix_match`](super::mix_match)).

use super::finding::{Check, Finding};
use super::measure::FileMeasurements;
use super::mix_match::{self, Reference};
use super::names;
use super::outcome::{FileReport, FileRole, NullReport};
use super::set_work;

/// Sample rates, names, lengths, offsets and the null test. Returns the null test's numbers.
pub fn set_checks(
    reports: &mut [FileReport],
    measurements: &[(usize, FileMeasurements)],
    set_findings: &mut Vec<Finding>,
    prepared: set_work::Prepared,
) -> Option<NullReport> {
    if measurements.is_empty() {
        return None;
    }
    set_findings.push(rate_finding(reports, measurements));
    set_findings.extend(song_name_finding(reports, measurements));
    let reference = measurements
        .iter()
        .find(|(i, _)| reports[*i].role == FileRole::Reference);
    let Some((reference_index, reference_m)) = reference else {
        set_findings.push(Finding::warn(
            Check::Reference,
            "No reference mix found: name it Song_Mix.wav or pass --reference FILE. Offsets and the null test need it.",
        ));
        return None;
    };
    let rate = reference_m.format.sample_rate;
    let stems: Vec<&(usize, FileMeasurements)> = measurements
        .iter()
        .filter(|(i, m)| reports[*i].role == FileRole::Stem && m.format.sample_rate == rate)
        .collect();
    length_findings(reports, &stems, reference_m);
    // A stem at another rate is missing from the sum: the rate finding already says why.
    let all_at_one_rate = measurements
        .iter()
        .all(|(i, m)| reports[*i].role != FileRole::Stem || m.format.sample_rate == rate);
    let reference = Reference {
        path: reports[*reference_index].path.clone(),
        measured: reference_m,
        judge_null: all_at_one_rate,
    };
    mix_match::stems_against_mix(reports, &stems, &reference, set_findings, prepared)
}

/// One sample rate for every file.
fn rate_finding(reports: &[FileReport], measurements: &[(usize, FileMeasurements)]) -> Finding {
    let mut rates: Vec<u32> = measurements
        .iter()
        .map(|(_, m)| m.format.sample_rate)
        .collect();
    rates.sort_unstable();
    rates.dedup();
    if rates.len() > 1 {
        let list: Vec<String> = measurements
            .iter()
            .map(|(i, m)| format!("{} {} Hz", reports[*i].file_name(), m.format.sample_rate))
            .collect();
        Finding::fail(
            Check::SampleRate,
            format!(
                "Mixed sample rates ({}): export every file at the session's rate.",
                list.join(", ")
            ),
        )
    } else {
        Finding::pass(Check::SampleRate, format!("All files at {} Hz.", rates[0]))
    }
}

/// The same song name on every file, when the files are named Song_Group.
fn song_name_finding(
    reports: &[FileReport],
    measurements: &[(usize, FileMeasurements)],
) -> Option<Finding> {
    let mut songs: Vec<String> = measurements
        .iter()
        .filter_map(|(i, _)| {
            let stem = reports[*i].path.file_stem()?.to_string_lossy().into_owned();
            names::parse(&stem).map(|n| n.song)
        })
        .collect();
    let first = songs.first()?.clone();
    if songs.iter().all(|s| *s == first) {
        return None;
    }
    songs.sort();
    songs.dedup();
    Some(Finding::warn(
        Check::Name,
        format!(
            "The files name different songs ({}): one folder per song, every file named Song_Group.",
            songs.join(", ")
        ),
    ))
}

/// Every stem as long as the mix, to the sample.
fn length_findings(
    reports: &mut [FileReport],
    stems: &[&(usize, FileMeasurements)],
    reference: &FileMeasurements,
) {
    let rate = reference.format.sample_rate;
    for (i, m) in stems {
        let diff = m.format.frames as i64 - reference.format.frames as i64;
        let label = reports[*i].label();
        let finding = if diff != 0 {
            Finding::fail(
                Check::Length,
                format!(
                    "{label} is {} samples ({:.3} s) {} than the mix: export every stem over the same range, from the song's start to after its last tail.",
                    diff.unsigned_abs(),
                    diff.unsigned_abs() as f64 / f64::from(rate),
                    if diff > 0 { "longer" } else { "shorter" }
                ),
            )
        } else {
            Finding::pass(Check::Length, "Same length as the mix, to the sample.")
        };
        reports[*i].findings.push(finding);
    }
}
