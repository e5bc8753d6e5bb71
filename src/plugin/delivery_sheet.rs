//! The plugin's delivery sheet: every instance of one export, as it measured the pass, on the
//! same page the checker writes for files.

use super::delivery::NoteEntry;
use crate::analysis::envelope::Column;
use crate::analysis::{gain_to_db, HeadroomThresholds};
use crate::severity::Severity;
use crate::sheet::{Levels, Line, Page, Row, Waveform};

/// The sheet's file name, next to the delivery note.
pub const SHEET_FILE: &str = "Delivery sheet.html";

/// The page for the export of `entries`, with the note's text at its end.
pub fn sheet(entries: &[NoteEntry], note: &str) -> String {
    let mut entries: Vec<&NoteEntry> = entries.iter().collect();
    entries.sort_by_key(|e| (e.master, e.name.to_lowercase()));
    let rows: Vec<Row> = entries.iter().map(|e| row(e)).collect();
    let count = |severity: Severity| rows.iter().filter(|r| r.result == Some(severity)).count();
    Page {
        result: rows.iter().filter_map(|r| r.result).max(),
        summary: format!(
            "{} buses in this export: {} pass, {} with warnings, {} failing. Measured by Stem Preflight while it ran.",
            rows.len(),
            count(Severity::Pass),
            count(Severity::Warn),
            count(Severity::Fail)
        ),
        rows,
        note: note.to_owned(),
        ..Page::default()
    }
    .render()
}

fn row(entry: &NoteEntry) -> Row {
    let sheet = &entry.sheet;
    let result = sheet
        .findings
        .iter()
        .map(|f| f.severity)
        .fold(Severity::Pass, Severity::max);
    let name = if entry.master {
        format!("{} (reference mix)", entry.name)
    } else {
        entry.name.clone()
    };
    let mut findings = sheet.findings.clone();
    if findings.is_empty() {
        findings.push(Line {
            severity: Severity::Pass,
            check: String::new(),
            message: format!("{}: nothing needs attention.", sheet.status),
        });
    }
    Row {
        name,
        result: Some(result),
        chips: findings
            .iter()
            .filter(|f| f.severity > Severity::Pass)
            .map(|f| (f.severity, f.check.clone()))
            .collect(),
        describe: entry.stem_line.clone(),
        waveform: Some(Waveform {
            columns: sheet
                .peaks
                .iter()
                .map(|&peak| Column {
                    min: -peak,
                    max: peak,
                })
                .collect(),
            column_share: sheet.column_share,
            markers: sheet.markers.clone(),
        }),
        levels: Some(Levels {
            sample_peak_dbfs: gain_to_db(sheet.sample_peak),
            true_peak_dbtp: gain_to_db(sheet.true_peak),
            thresholds: HeadroomThresholds {
                target_dbfs: sheet.target_dbfs,
                warning_dbfs: sheet.warning_dbfs,
            },
        }),
        passages: None,
        findings,
    }
}
