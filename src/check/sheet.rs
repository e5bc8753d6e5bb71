//! The delivery sheet: one self-contained HTML page for the set (inline SVG and CSS, no
//! scripts, nothing from the network) that shows at a glance what the report says in words:
//! each file's waveform with the -6/-3/0 dBFS lines and its clips where they are, its peak and
//! true peak against the target and warning levels, the limiter evidence as a picture, the
//! null test's residual over the song, every finding, and the note.

use super::finding::{Check, Severity};
use super::outcome::{CheckReport, FileReport, FileRole, Measured, NullReport};
use super::report::describe;
use super::sum::NULL_COLUMNS;
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
/// Height of the limiter picture and of the null test's timeline.
const PLOT_HEIGHT: f64 = 150.0;
/// The null test's timeline runs from here to 0 dBFS.
const NULL_FLOOR_DB: f64 = -72.0;
/// The limiter picture's peaks run from here to [`PASSAGE_TOP_DB`].
const PASSAGE_FLOOR_DB: f64 = -24.0;
const PASSAGE_TOP_DB: f64 = 1.0;

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
.warning{stroke:#ef6c00;stroke-width:2}.passage{fill:#37474f;fill-opacity:.7}.quiet{fill:#b0bec5}\
.ceiling{stroke:#c62828;stroke-width:1.5;stroke-dasharray:6 3}.axis{fill:#555;font-size:11px}\
.mix{fill:#cfd8dc}.residual{fill:#8e24aa}ul{margin:4px 0;padding-left:18px}li{margin:2px 0}\
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
    if !report.set_findings.is_empty() || report.null_test.is_some() {
        page += "<section class=\"file\" id=\"set\"><h2>The set</h2><ul>";
        for finding in &report.set_findings {
            let _ = write!(
                page,
                "<li>{} {}</li>",
                chip(finding.severity, finding.severity.label()),
                escape(&finding.message)
            );
        }
        page += "</ul>";
        if let Some(null) = &report.null_test {
            null_timeline(&mut page, null);
        }
        page += "</section>";
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
        // The mix always (its limiter matters most), any other file when the report names a
        // limiter on it; the ceiling only where the report names one.
        let limiter_found = file
            .findings
            .iter()
            .any(|f| f.check == Check::Limiter && f.severity > Severity::Pass);
        if file.role == FileRole::Reference || limiter_found {
            passages(page, measured, limiter_found);
        }
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
    // Overs first, so a clip at the same place is drawn over its over, red on top.
    let (overs, clips): (Vec<_>, Vec<_>) =
        m.clip_events.iter().partition(|e| e.kind == "true-peak");
    for event in overs.into_iter().chain(clips) {
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

/// The limiter evidence: every kind of 400 ms passage as a dot, its peak against its loudness.
/// Free peaks rise with the loudness; a limiter flattens the loud ones into a row at its
/// ceiling, drawn as a dashed line.
fn passages(page: &mut String, m: &Measured, limiter_found: bool) {
    let loud: Vec<_> = m.passages.iter().filter(|p| p.loud).collect();
    let (Some(low), Some(high)) = (
        loud.iter().map(|p| p.loudness_dbfs).reduce(f32::min),
        loud.iter().map(|p| p.loudness_dbfs).reduce(f32::max),
    ) else {
        return;
    };
    let (from, to) = (f64::from(low) - 3.0, f64::from(high) + 2.0);
    let x = |db: f64| (db - from) / (to - from) * (WIDTH - 60.0) + 50.0;
    let y = |db: f64| {
        let t = (db.clamp(PASSAGE_FLOOR_DB, PASSAGE_TOP_DB) - PASSAGE_FLOOR_DB)
            / (PASSAGE_TOP_DB - PASSAGE_FLOOR_DB);
        (PLOT_HEIGHT - 20.0) * (1.0 - t) + 4.0
    };
    let ceiling = m.limiter.ceiling_dbfs.filter(|_| limiter_found);
    let _ = write!(
        page,
        "<svg class=\"limiter\" data-found=\"{limiter_found}\" data-ceiling=\"{}\" viewBox=\"0 0 {WIDTH} {PLOT_HEIGHT}\" \
         role=\"img\" aria-label=\"peaks of loud passages against their loudness\">\
         <rect width=\"{WIDTH}\" height=\"{PLOT_HEIGHT}\" fill=\"#fff\"/>",
        ceiling.map_or_else(String::new, |c| format!("{c:.2}")),
    );
    for db in [-18.0, -12.0, -6.0, 0.0] {
        let at = y(db);
        let _ = write!(
            page,
            "<line class=\"db\" x1=\"50\" x2=\"{WIDTH}\" y1=\"{at:.1}\" y2=\"{at:.1}\"/>\
             <text class=\"axis\" x=\"44\" y=\"{:.1}\" text-anchor=\"end\">{db}</text>",
            at + 4.0
        );
    }
    let _ = write!(
        page,
        "<text class=\"axis\" x=\"50\" y=\"{:.1}\">peak of each 400 ms passage (dBFS) against its loudness: {from:.0} to {to:.0} dBFS RMS \u{2192}</text>",
        PLOT_HEIGHT - 4.0
    );
    for passage in &m.passages {
        let class = if passage.loud {
            "passage"
        } else {
            "passage quiet"
        };
        let radius = (1.5 + f64::from(passage.count).sqrt()).min(6.0);
        let loudness = f64::from(passage.loudness_dbfs);
        if loudness < from {
            continue;
        }
        let _ = write!(
            page,
            "<circle class=\"{class}\" data-peak=\"{:.2}\" data-loudness=\"{loudness:.1}\" data-count=\"{}\" \
             cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius:.1}\"/>",
            passage.peak_dbfs,
            passage.count,
            x(loudness),
            y(f64::from(passage.peak_dbfs)),
        );
    }
    if let Some(ceiling) = ceiling {
        let at = y(f64::from(ceiling));
        let _ = write!(
            page,
            "<line class=\"ceiling\" x1=\"50\" x2=\"{WIDTH}\" y1=\"{at:.1}\" y2=\"{at:.1}\">\
             <title>ceiling {ceiling:.1} dBFS</title></line>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">limiter ceiling {ceiling:.1} dBFS</text>",
            WIDTH - 4.0,
            at - 5.0
        );
    }
    page.push_str("</svg>");
}

/// The null test over the song: the mix's level in grey, what the stems leave unexplained in
/// purple. A stem missing for a section, or drifting, shows as purple rising towards the grey
/// there.
fn null_timeline(page: &mut String, null: &NullReport) {
    if null.timeline.is_empty() {
        return;
    }
    let column = WIDTH / NULL_COLUMNS as f64;
    let y = |db: f64| {
        let t = (db.clamp(NULL_FLOOR_DB, 0.0) - NULL_FLOOR_DB) / -NULL_FLOOR_DB;
        (PLOT_HEIGHT - 18.0) * (1.0 - t)
    };
    let _ = write!(
        page,
        "<svg class=\"null\" viewBox=\"0 0 {WIDTH} {PLOT_HEIGHT}\" role=\"img\" \
         aria-label=\"null test over the song\"><rect width=\"{WIDTH}\" height=\"{PLOT_HEIGHT}\" fill=\"#fff\"/>"
    );
    let bottom = y(NULL_FLOOR_DB);
    for (i, stretch) in null.timeline.iter().enumerate() {
        let (Some(mix), Some(residual)) = (stretch.mix_dbfs, stretch.residual_dbfs) else {
            continue;
        };
        let left = i as f64 * column;
        for (class, db) in [("mix", mix), ("residual", residual)] {
            let top = y(f64::from(db));
            let _ = write!(
                page,
                "<rect class=\"{class}\" data-i=\"{i}\" data-db=\"{db:.1}\" x=\"{left:.1}\" y=\"{top:.1}\" \
                 width=\"{column:.2}\" height=\"{:.1}\"/>",
                (bottom - top).max(0.0)
            );
        }
    }
    for db in [-60.0, -40.0, -20.0] {
        let at = y(db);
        let _ = write!(
            page,
            "<line class=\"db\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{at:.1}\" y2=\"{at:.1}\"/>\
             <text class=\"axis\" x=\"4\" y=\"{:.1}\">{db} dBFS</text>",
            at - 2.0
        );
    }
    let _ = write!(
        page,
        "<text class=\"axis\" x=\"4\" y=\"{:.1}\">null test over the song: the mix (grey) and what the stems leave unexplained (purple)</text></svg>",
        PLOT_HEIGHT - 3.0
    );
}
