//! The check's result for a person at a terminal.

use super::finding::Severity;
use super::outcome::{CheckReport, FileReport, FileRole};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Colours for the severity labels, or none (not a terminal, or NO_COLOR set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// Plain text.
    Off,
    /// ANSI colours.
    On,
}

fn paint(colour: Colour, severity: Severity, text: &str) -> String {
    match colour {
        Colour::Off => text.to_string(),
        Colour::On => {
            let code = match severity {
                Severity::Note => "36",
                Severity::Pass => "32",
                Severity::Warn => "33",
                Severity::Fail => "1;31",
            };
            format!("\x1b[{code}m{text}\x1b[0m")
        }
    }
}

/// A path's last part ("s01.zip"), or the whole path when it has none.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A file's heading details: its role, format, length and levels.
pub fn describe(file: &FileReport) -> String {
    let role = match file.role {
        FileRole::Reference => "reference mix",
        FileRole::Stem => "stem",
        FileRole::Rejected => "not deliverable",
        FileRole::Unreadable => "unreadable",
    };
    match (&file.format, &file.measured) {
        (Some(format), Some(m)) => {
            let mut text = format!(
                "{role}, {} Hz, {}, {} ch, {:.3} s, peak {:.1} dBFS, true peak {:.1} dBTP",
                format.sample_rate,
                format.encoding,
                format.channels,
                m.duration_s,
                m.sample_peak_dbfs,
                m.true_peak_dbtp
            );
            if let Some(loudness) = m.loudness.describe() {
                text += &format!(", {loudness}");
            }
            text
        }
        _ => role.to_string(),
    }
}

/// The table: one heading per file, one line per finding, then the set and a summary.
pub fn render(report: &CheckReport, inputs: &[PathBuf], colour: Colour) -> String {
    let mut out = String::new();
    for file in &report.files {
        let _ = writeln!(
            out,
            "{}  {}  ({})",
            paint(colour, file.result, file.result.label()),
            file.file_name(),
            describe(file)
        );
        for finding in &file.findings {
            let _ = writeln!(
                out,
                "      {}  {:<19} {}",
                paint(colour, finding.severity, finding.severity.label()),
                finding.check.name(),
                finding.message
            );
        }
    }
    if !report.set_findings.is_empty() {
        let _ = writeln!(out, "The set");
        for finding in &report.set_findings {
            let _ = writeln!(
                out,
                "      {}  {}",
                paint(colour, finding.severity, finding.severity.label()),
                finding.message
            );
        }
    }
    let ignored: Vec<String> = report.ignored.iter().map(|p| file_name(p)).collect();
    if report.files.is_empty() {
        // Nothing was checked, so nothing passed.
        let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        let _ = write!(out, "No WAV or AIFF files in {}", inputs.join(", "));
        if ignored.is_empty() {
            let _ = writeln!(out, ".");
        } else {
            let _ = writeln!(out, ": ignored {} (not audio).", ignored.join(", "));
        }
        return out;
    }
    if !ignored.is_empty() {
        let _ = writeln!(out, "Ignored (not audio): {}", ignored.join(", "));
    }
    let s = report.summary;
    let _ = writeln!(
        out,
        "{}: {} files, {} pass, {} with warnings, {} failing.",
        paint(colour, report.result, report.result.label()),
        s.files,
        s.pass,
        s.warn,
        s.fail
    );
    out
}
