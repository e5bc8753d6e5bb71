//! `stem-preflight check`: the exported files, checked before they are sent.
//!
//! The numbers come from [`crate::analysis`], the same code the plugin runs. This module
//! decides what the files are, measures them in parallel, and judges each file and the set.

pub mod archive;
pub mod atomic_file;
pub mod decode;
pub mod files;
pub mod finding;
pub mod judge;
pub mod measure;
mod mix_match;
mod mix_verdict;
pub mod names;
mod normalized;
pub mod note;
pub mod outcome;
pub mod pack;
mod parallel;
pub mod report;
mod set_checks;
mod set_work;
pub mod sheet;
pub mod sniff;
pub mod source;
pub mod sum;

use crate::analysis::{gain_to_db, HeadroomStatus, HeadroomThresholds};
use files::{looks_like_audio_name, same_file, sniff_file, unopened_reason};
use finding::{worst, Check, Finding, Severity};
use measure::FileMeasurements;
use names::name_findings;
use outcome::label_of;
use set_checks::set_checks;
use sniff::FileKind;
use std::path::PathBuf;

pub use files::{collect_files, UsageError};
pub use mix_match::{NULL_FAIL_DB, NULL_PASS_DB};
pub use outcome::{
    CheckReport, ClipEventReport, ClipSummary, FileReport, FileRole, LimiterReport, Measured,
    NullReport, OffsetReport, Summary, TailReport, SCHEMA_VERSION,
};

/// How to run the check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The reference mix, when its name does not say so.
    pub reference: Option<PathBuf>,
    /// The headroom rule.
    pub thresholds: HeadroomThresholds,
}

/// The report's numbers for one file; the status follows the run's headroom rule.
fn measured(m: &FileMeasurements, thresholds: HeadroomThresholds) -> Measured {
    let rate = f64::from(m.format.sample_rate);
    let clipped = m.clip_counts.iter().any(|&c| c > 0);
    let status = HeadroomStatus::assess(m.sample_peak_dbfs, m.true_peak_dbtp, clipped, thresholds);
    Measured {
        duration_s: m.format.frames as f64 / rate,
        frames: m.format.frames,
        sample_peak_dbfs: m.sample_peak_dbfs,
        true_peak_dbtp: m.true_peak_dbtp,
        status: status.label(),
        clips: ClipSummary {
            sample: m.clip_counts[0],
            true_peak: m.clip_counts[1],
            flat_top: m.clip_counts[2],
        },
        clip_events: m
            .clip_events
            .iter()
            .map(|e| ClipEventReport {
                kind: e.kind.name(),
                channel: e.channel,
                time_s: e.start_sample as f64 / rate,
                timestamp: judge::song_position(e.start_sample, m.format.sample_rate),
                start_sample: e.start_sample,
                length_samples: e.length_samples,
                peak_db: gain_to_db(e.peak),
            })
            .collect(),
        limiter: LimiterReport {
            verdict: m.limiter.verdict.name(),
            ceiling_dbfs: m
                .limiter
                .ceiling_dbfs
                .is_finite()
                .then_some(m.limiter.ceiling_dbfs),
            pinned_share: m.limiter.pinned_share,
            loudness_range_db: m.limiter.loudness_range_db,
        },
        dc_offset_dbfs: m.dc_offset.iter().map(|d| gain_to_db(d.abs())).collect(),
        effective_bits: m.effective_bits,
        lossy_cutoff_hz: m.lossy.cutoff.map(|c| c.frequency_hz),
        mp3_grid: m.lossy.mp3_grid,
        tail: TailReport {
            end_level_dbfs: m.tail.end_level_dbfs,
            cut: m.tail.cut,
            extend_by_s: m.tail.extend_by_s,
        },
        noise_floor_dbfs: m.noise_floor_dbfs,
        non_finite_samples: m.non_finite_samples,
        first_sound_s: m.first_sound_frame.map(|f| f as f64 / rate),
        loudness: m.loudness.figures(m.true_peak_dbtp),
        envelope: m.envelope.columns().collect(),
        envelope_frames_per_column: m.envelope.frames_per_column(),
        passages: m.passages.clone(),
    }
}

/// Checks files and folders. `progress` is called with (files done, files to measure) from
/// worker threads.
pub fn check(
    paths: &[PathBuf],
    options: &CheckOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CheckReport, UsageError> {
    let mut files = collect_files(paths)?;
    if let Some(reference) = &options.reference {
        if source::open(reference).is_err() {
            return Err(UsageError(format!(
                "--reference {}: no such file",
                reference.display()
            )));
        }
        if !files.iter().any(|f| same_file(f, reference)) {
            files.push(reference.clone());
        }
    }
    let mut ignored = Vec::new();
    let mut reports: Vec<FileReport> = Vec::new();
    let mut to_measure = Vec::new();
    for path in files {
        let kind = sniff_file(&path);
        let report = |role, finding| FileReport {
            path: path.clone(),
            role,
            format: None,
            measured: None,
            offset: None,
            findings: vec![finding],
            result: Severity::Fail,
        };
        let kind = match kind {
            Ok(kind) => kind,
            Err(e) => {
                let finding = Finding::fail(Check::Readable, unopened_reason(&path, &e));
                reports.push(report(FileRole::Unreadable, finding));
                continue;
            }
        };
        match kind {
            FileKind::Wav | FileKind::Aiff => to_measure.push(path),
            FileKind::OtherAudio(format) => {
                let why = if sniff::is_lossy(format) {
                    format!("{format} is lossy: export WAV (24-bit or 32-bit float) from the session.")
                } else {
                    format!("{format} is not a stem deliverable: export WAV or AIFF (24-bit or 32-bit float) from the session.")
                };
                reports.push(report(FileRole::Rejected, Finding::fail(Check::Format, why)));
            }
            FileKind::NotAudio if looks_like_audio_name(&path) => reports.push(report(
                FileRole::Unreadable,
                Finding::fail(
                    Check::Readable,
                    "Named like audio but not a WAV or AIFF file (damaged, or another format renamed): export it again.",
                ),
            )),
            FileKind::NotAudio => ignored.push(path),
        }
    }

    // The reference: given, or found by name.
    let reference_index = match &options.reference {
        Some(given) => to_measure.iter().position(|p| same_file(p, given)),
        None => to_measure.iter().position(|p| {
            p.file_stem()
                .is_some_and(|s| names::is_reference(&s.to_string_lossy()))
        }),
    };
    let (results, prepared) = set_work::measure_all(&to_measure, reference_index, progress);
    let mut set_findings = Vec::new();
    let mut measurements: Vec<(usize, FileMeasurements)> = Vec::new();
    for (i, (path, result)) in to_measure.iter().zip(results).enumerate() {
        let is_reference = Some(i) == reference_index;
        match result {
            Ok(m) => {
                let label = label_of(path);
                let mut findings = judge::judge(&m, &label, is_reference, options.thresholds);
                findings.extend(name_findings(path, is_reference));
                reports.push(FileReport {
                    path: path.clone(),
                    role: if is_reference {
                        FileRole::Reference
                    } else {
                        FileRole::Stem
                    },
                    format: Some(m.format),
                    measured: Some(measured(&m, options.thresholds)),
                    offset: None,
                    findings,
                    result: Severity::Pass,
                });
                measurements.push((reports.len() - 1, m));
            }
            Err(e) => reports.push(FileReport {
                path: path.clone(),
                role: FileRole::Unreadable,
                format: None,
                measured: None,
                offset: None,
                findings: vec![Finding::fail(Check::Readable, format!("{e}."))],
                result: Severity::Fail,
            }),
        }
    }

    let null = set_checks(&mut reports, &measurements, &mut set_findings, prepared);
    for (i, m) in &measurements {
        let report = &mut reports[*i];
        if report.role == FileRole::Reference {
            mix_verdict::judge_the_mix(report, m, null.as_ref(), options.thresholds);
        } else {
            mix_verdict::judge_normalized_stem(report, m, null.as_ref());
        }
    }
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    let mut summary = Summary::default();
    for report in &mut reports {
        report.result = worst(&report.findings);
        summary.files += 1;
        match report.result {
            Severity::Note | Severity::Pass => summary.pass += 1,
            Severity::Warn => summary.warn += 1,
            Severity::Fail => summary.fail += 1,
        }
    }
    let result = worst(
        reports
            .iter()
            .flat_map(|r| &r.findings)
            .chain(&set_findings),
    );
    Ok(CheckReport {
        schema: "stem-preflight-check",
        version: SCHEMA_VERSION,
        files: reports,
        set_findings,
        null_test: null,
        ignored,
        summary,
        result,
    })
}
