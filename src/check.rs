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

use crate::analysis::{gain_to_db, HeadroomStatus, HeadroomThresholds, LimiterVerdict};
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

/// Master limiters are set within this much of full scale, dBFS.
const LIMITER_CEILINGS_FROM_DBFS: f32 = -3.0;

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
            note_a_dense_mix(report, m, null.as_ref());
        }
        // A limiter's ceiling is a round peak too; the limiter finding names it.
        if report.role == FileRole::Reference && m.limiter.verdict != LimiterVerdict::None {
            continue;
        }
        if report.role == FileRole::Reference {
            if let Some(ceiling) = limiter_ceiling(m, null.as_ref()) {
                let label = report.label();
                judge::rejudge_clipping_under_a_limiter(
                    &mut report.findings,
                    m,
                    &label,
                    options.thresholds,
                );
                for finding in report
                    .findings
                    .iter_mut()
                    .filter(|f| f.check == Check::Limiter)
                {
                    *finding = Finding::warn(
                        Check::Limiter,
                        format!("{label} peaks at exactly {ceiling:.1} dBFS, and no gain of the stems adds up to it: something non-linear on the master bus holds its peaks there, most likely a limiter or clipper. Bypass it before exporting stems and the reference mix."),
                    );
                }
                continue;
            }
        }
        let gains = |n: &NullReport| -> Vec<f32> { n.stem_gains.iter().map(|(_, g)| *g).collect() };
        let mix_as_mixed = report.role == FileRole::Reference
            && null
                .as_ref()
                .is_some_and(|n| normalized::sums_its_stems(&gains(n), n.fitted_residual_db));
        if mix_as_mixed {
            continue;
        }
        let gain_in_mix = null.as_ref().and_then(|n| {
            let name = report.file_name();
            let stem = n.stem_gains.iter().position(|(f, _)| *f == name)?;
            normalized::telling_gain(&gains(n), stem, n.fitted_residual_db)
        });
        let label = report.label();
        report.findings.extend(normalized::finding(
            &label,
            m.sample_peak_dbfs,
            m.sample_step(),
            gain_in_mix,
        ));
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

/// Adds the dense-mix note after the limiter finding, unless a limiter (seen by the detector
/// or by its ceiling) already names the cause: one cause, one finding.
fn note_a_dense_mix(report: &mut FileReport, m: &FileMeasurements, null: Option<&NullReport>) {
    let limited = m.limiter.verdict != LimiterVerdict::None || limiter_ceiling(m, null).is_some();
    let Some(note) = judge::dense_mix_note(m).filter(|_| !limited) else {
        return;
    };
    let after_limiter = report
        .findings
        .iter()
        .position(|f| f.check == Check::Limiter)
        .map_or(report.findings.len(), |at| at + 1);
    report.findings.insert(after_limiter, note);
}

/// The ceiling of a limiter the peak detector could not see (it touched too few passages):
/// the mix peaks on a value a limiter is set to, yet it is not the stems' sum times any gain,
/// as it would be if a normalize step had put the peak there.
fn limiter_ceiling(m: &FileMeasurements, null: Option<&NullReport>) -> Option<f32> {
    let ceiling = normalized::limiter_ceiling(m.sample_peak_dbfs)?;
    let null = null?;
    let non_linear = !normalized::linear_in_stems(
        null.residual_db,
        null.residual_aligned_db,
        null.fitted_residual_db,
    );
    (non_linear && ceiling >= LIMITER_CEILINGS_FROM_DBFS).then_some(ceiling)
}
