//! The checker's delivery sheet: the report's files, findings and null test as a
//! [`crate::sheet::Page`].

use super::finding::{Check, Severity};
use super::outcome::{CheckReport, FileReport, FileRole, Measured};
use super::report::describe;
use crate::analysis::HeadroomThresholds;
use crate::sheet::{Levels, Line, Marker, NullStretch, Page, PassagePicture, Row, Waveform};

/// The page for `report`, with `note` (the delivery note's text) at its end.
pub fn sheet(report: &CheckReport, note: &str, thresholds: HeadroomThresholds) -> String {
    Page {
        result: Some(report.result),
        summary: format!(
            "{} files: {} pass, {} with warnings, {} failing.",
            report.summary.files, report.summary.pass, report.summary.warn, report.summary.fail
        ),
        set_findings: report
            .set_findings
            .iter()
            .map(|f| Line {
                severity: f.severity,
                check: String::new(),
                message: f.message.clone(),
            })
            .collect(),
        null_timeline: report.null_test.as_ref().map_or_else(Vec::new, |null| {
            null.timeline
                .iter()
                .map(|c| NullStretch {
                    mix_dbfs: c.mix_dbfs,
                    residual_dbfs: c.residual_dbfs,
                })
                .collect()
        }),
        rows: report
            .files
            .iter()
            .map(|file| row(file, thresholds))
            .collect(),
        note: note.to_owned(),
    }
    .render()
}

fn row(file: &FileReport, thresholds: HeadroomThresholds) -> Row {
    // The mix always (its limiter matters most), any other file when the report names a
    // limiter on it; the ceiling only where the report names one.
    let limiter_found = file
        .findings
        .iter()
        .any(|f| f.check == Check::Limiter && f.severity > Severity::Pass);
    let measured = file.measured.as_ref();
    Row {
        name: file.file_name(),
        result: Some(file.result),
        chips: file
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Pass)
            .map(|f| (f.severity, f.check.name()))
            .collect(),
        describe: describe(file),
        waveform: measured.map(waveform),
        levels: measured.map(|m| Levels {
            sample_peak_dbfs: m.sample_peak_dbfs,
            true_peak_dbtp: m.true_peak_dbtp,
            thresholds,
        }),
        passages: measured
            .filter(|_| file.role == FileRole::Reference || limiter_found)
            .map(|m| PassagePicture {
                passages: m.passages.clone(),
                ceiling_dbfs: m.limiter.ceiling_dbfs.filter(|_| limiter_found),
            }),
        findings: file
            .findings
            .iter()
            .map(|f| Line {
                severity: f.severity,
                check: f.check.name(),
                message: f.message.clone(),
            })
            .collect(),
    }
}

/// The file's overview, its clips and overs at their times.
fn waveform(m: &Measured) -> Waveform {
    let frames = m.frames.max(1) as f64;
    Waveform {
        columns: m.envelope.clone(),
        column_share: m.envelope_frames_per_column as f64 / frames,
        markers: m
            .clip_events
            .iter()
            .map(|event| Marker {
                at_share: event.start_sample as f64 / frames,
                over: event.kind == "true-peak",
                time_s: event.time_s,
                title: format!(
                    "{} at {} (channel {})",
                    event.kind,
                    event.timestamp,
                    event.channel + 1
                ),
            })
            .collect(),
    }
}
