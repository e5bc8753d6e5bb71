//! The delivery sheet: one self-contained HTML page for the set (inline SVG and CSS, no
//! scripts, nothing from the network) that shows at a glance what the report says in words:
//! each file's waveform with the -6/-3/0 dBFS lines and its clips where they are, its peak and
//! true peak against the target and warning levels, every finding, and the note.

use super::finding::Severity;
use super::outcome::{CheckReport, FileReport, Measured};
use super::report::describe;
use crate::analysis::HeadroomThresholds;
use std::fmt::Write;

/// Width of a waveform strip and a level bar, in SVG units (one per overview column).
const WIDTH: f64 = 800.0;
/// Height of a waveform strip.
const STRIP_HEIGHT: f64 = 80.0;
/// Height of a level bar.
const BAR_HEIGHT: f64 = 22.0;
/// The level bars run from here ...
const BAR_FLOOR_DB: f64 = -60.0;
/// ... to here.
const BAR_TOP_DB: f64 = 3.0;
/// The lines drawn on every strip, dBFS.
const STRIP_LINES_DB: [f64; 3] = [-6.0, -3.0, 0.0];

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0}\
.file{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin:12px 0}\
.chip{display:inline-block;border-radius:10px;padding:1px 9px;margin:2px 4px 2px 0;font-size:12px;font-weight:600;color:#fff}\
.pass{background:#2e7d32}.note{background:#1565c0}.warn{background:#ef6c00}.fail{background:#c62828}\
.describe{color:#555;font-size:12px;margin:4px 0}\
svg{display:block;width:100%;max-width:800px;height:auto;margin:6px 0}\
.wave{fill:none;stroke:#37474f;stroke-width:1}.db{stroke:#999;stroke-dasharray:4 3;stroke-width:.6}\
.db0{stroke:#c62828}.clip{stroke:#c62828;stroke-width:2}.over{stroke:#ef6c00;stroke-width:2}\
.bar-bg{fill:#eceff1}.bar-sp{fill:#546e7a}.bar-tp{fill:#90a4ae}.target{stroke:#2e7d32;stroke-width:2}\
.warning{stroke:#ef6c00;stroke-width:2}ul{margin:4px 0;padding-left:18px}li{margin:2px 0}\
pre{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;white-space:pre-wrap}\
footer{color:#777;font-size:12px;margin-top:16px}";

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn chip(severity: Severity, text: &str) -> String {
    format!(
        "<span class=\"chip {}\">{}</span>",
        severity.label().to_ascii_lowercase(),
        escape(text)
    )
}

/// The page for `report`, with `note` (the delivery note's text) at its end.
pub fn sheet(report: &CheckReport, note: &str, thresholds: HeadroomThresholds) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>Delivery sheet</title><style>{STYLE}</style></head><body>\
         <h1>Delivery sheet</h1><p id=\"result\" data-result=\"{}\">{} {} files: {} pass, {} with warnings, {} failing.</p>",
        report.result.label().to_ascii_lowercase(),
        chip(report.result, report.result.label()),
        report.summary.files,
        report.summary.pass,
        report.summary.warn,
        report.summary.fail
    );
    if !report.set_findings.is_empty() {
        page += "<section class=\"file\" id=\"set\"><h2>The set</h2><ul>";
        for finding in &report.set_findings {
            let _ = write!(
                page,
                "<li>{} {}</li>",
                chip(finding.severity, finding.severity.label()),
                escape(&finding.message)
            );
        }
        page += "</ul></section>";
    }
    for file in &report.files {
        file_section(&mut page, file, thresholds);
    }
    let _ = writeln!(
        page,
        "<h2>Delivery note</h2><pre id=\"note\">{}</pre>\
         <footer>Written by stem-preflight {}.</footer></body></html>",
        escape(note),
        env!("CARGO_PKG_VERSION")
    );
    page
}

fn file_section(page: &mut String, file: &FileReport, thresholds: HeadroomThresholds) {
    let name = file.file_name();
    let _ = write!(
        page,
        "<section class=\"file\" data-file=\"{}\" data-result=\"{}\"><h2>{}</h2><div>{}",
        escape(&name),
        file.result.label().to_ascii_lowercase(),
        escape(&name),
        chip(file.result, file.result.label())
    );
    for finding in file.findings.iter().filter(|f| f.severity > Severity::Pass) {
        page.push_str(&chip(finding.severity, &finding.check.name()));
    }
    let _ = write!(
        page,
        "</div><p class=\"describe\">{}</p>",
        escape(&describe(file))
    );
    if let Some(measured) = &file.measured {
        strip(page, measured);
        level_bars(page, measured, thresholds);
    }
    page.push_str("<ul>");
    for finding in &file.findings {
        let _ = write!(
            page,
            "<li>{} <b>{}</b> {}</li>",
            chip(finding.severity, finding.severity.label()),
            escape(&finding.check.name()),
            escape(&finding.message)
        );
    }
    page.push_str("</ul></section>");
}

/// The waveform, the dB lines and a marker at each clip or over.
fn strip(page: &mut String, m: &Measured) {
    let frames = m.frames.max(1) as f64;
    let half = STRIP_HEIGHT / 2.0;
    let y = |v: f64| half - v.clamp(-1.0, 1.0) * (half - 1.0);
    let _ = write!(
        page,
        "<svg class=\"strip\" viewBox=\"0 0 {WIDTH} {STRIP_HEIGHT}\" role=\"img\" \
         aria-label=\"waveform\"><rect width=\"{WIDTH}\" height=\"{STRIP_HEIGHT}\" fill=\"#fff\"/>"
    );
    for db in STRIP_LINES_DB {
        let a = 10f64.powf(db / 20.0);
        let class = if db == 0.0 { "db db0" } else { "db" };
        for level in [a, -a] {
            let _ = write!(
                page,
                "<line class=\"{class}\" data-db=\"{db}\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
                y(level),
                y(level)
            );
        }
    }
    page.push_str("<path class=\"wave\" d=\"");
    let per = m.envelope_frames_per_column as f64;
    for (i, column) in m.envelope.iter().enumerate() {
        let x = (i as f64 + 0.5) * per / frames * WIDTH;
        let (low, high) = (y(f64::from(column.min)), y(f64::from(column.max)));
        // At least a pixel tall, so silence still draws a line.
        let _ = write!(
            page,
            "M{x:.1} {:.1}V{:.1}",
            high.min(half - 0.5),
            low.max(half + 0.5)
        );
    }
    page.push_str("\"/>");
    for event in &m.clip_events {
        let x = event.start_sample as f64 / frames * WIDTH;
        let class = if event.kind == "true-peak" {
            "over"
        } else {
            "clip"
        };
        let _ = write!(
            page,
            "<line class=\"{class}\" data-time=\"{:.6}\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"0\" y2=\"{STRIP_HEIGHT}\">\
             <title>{} at {} (channel {})</title></line>",
            event.time_s,
            event.kind,
            event.timestamp,
            event.channel + 1
        );
    }
    page.push_str("</svg>");
}

/// Sample peak and true peak as bars on a -60..+3 dB scale, with the target and warning lines.
fn level_bars(page: &mut String, m: &Measured, thresholds: HeadroomThresholds) {
    let x = |db: f64| {
        ((db.clamp(BAR_FLOOR_DB, BAR_TOP_DB) - BAR_FLOOR_DB) / (BAR_TOP_DB - BAR_FLOOR_DB)) * WIDTH
    };
    let half = BAR_HEIGHT / 2.0;
    let _ = write!(
        page,
        "<svg class=\"bars\" viewBox=\"0 0 {WIDTH} {BAR_HEIGHT}\" role=\"img\" aria-label=\"peak and true peak\">\
         <rect class=\"bar-bg\" width=\"{WIDTH}\" height=\"{BAR_HEIGHT}\"/>\
         <rect class=\"bar-sp\" data-db=\"{sp:.2}\" width=\"{:.1}\" height=\"{half}\"><title>peak {sp:.1} dBFS</title></rect>\
         <rect class=\"bar-tp\" data-db=\"{tp:.2}\" y=\"{half}\" width=\"{:.1}\" height=\"{half}\"><title>true peak {tp:.1} dBTP</title></rect>",
        x(f64::from(m.sample_peak_dbfs)),
        x(f64::from(m.true_peak_dbtp)),
        sp = m.sample_peak_dbfs,
        tp = m.true_peak_dbtp,
    );
    for (class, db) in [
        ("target", thresholds.target_dbfs),
        ("warning", thresholds.warning_dbfs),
    ] {
        let at = x(f64::from(db));
        let _ = write!(
            page,
            "<line class=\"{class}\" x1=\"{at:.1}\" x2=\"{at:.1}\" y1=\"0\" y2=\"{BAR_HEIGHT}\"><title>{class} {db} dBFS</title></line>"
        );
    }
    page.push_str("</svg>");
}
