//! The delivery sheet: one self-contained HTML page for a set of stems (inline SVG and CSS, no
//! scripts, nothing from the network) that shows at a glance what the report says in words.
//! The checker fills it from the files, the plugin from what its instances measured during an
//! export; this module only draws what it is given.

mod html;
mod model;
mod pictures;

use crate::severity::Severity;
use html::escape;
pub use model::{Levels, Line, Marker, NullStretch, Page, PassagePicture, Row, Waveform};
use std::fmt::Write;

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

fn chip(severity: Severity, text: &str) -> String {
    format!(
        "<span class=\"chip {}\">{}</span>",
        severity.label().to_ascii_lowercase(),
        escape(text)
    )
}

fn result_attribute(result: Option<Severity>) -> String {
    result.map_or_else(|| "none".to_owned(), |r| r.label().to_ascii_lowercase())
}

fn lines(page: &mut String, lines: &[Line]) {
    page.push_str("<ul>");
    for line in lines {
        let _ = write!(
            page,
            "<li>{} <b>{}</b> {}</li>",
            chip(line.severity, line.severity.label()),
            escape(&line.check),
            escape(&line.message)
        );
    }
    page.push_str("</ul>");
}

impl Page {
    /// The page as HTML.
    pub fn render(&self) -> String {
        let mut page = String::with_capacity(64 * 1024);
        let result_chip = self.result.map_or_else(String::new, |r| chip(r, r.label()));
        let _ = write!(
            page,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\">\
             <title>Delivery sheet</title><style>{STYLE}</style></head><body>\
             <h1>Delivery sheet</h1><p id=\"result\" data-result=\"{}\">{result_chip} {}</p>",
            result_attribute(self.result),
            escape(&self.summary)
        );
        if !self.set_findings.is_empty() || !self.null_timeline.is_empty() {
            page += "<section class=\"file\" id=\"set\"><h2>The set</h2>";
            lines(&mut page, &self.set_findings);
            pictures::null_timeline(&mut page, &self.null_timeline);
            page += "</section>";
        }
        for row in &self.rows {
            row.render(&mut page);
        }
        let _ = writeln!(
            page,
            "<h2>Delivery note</h2><pre id=\"note\">{}</pre>\
             <footer>Written by stem-preflight {}.</footer></body></html>",
            escape(&self.note),
            env!("CARGO_PKG_VERSION")
        );
        page
    }
}

impl Row {
    fn render(&self, page: &mut String) {
        let result_chip = self.result.map_or_else(String::new, |r| chip(r, r.label()));
        let _ = write!(
            page,
            "<section class=\"file\" data-file=\"{}\" data-result=\"{}\"><h2>{}</h2><div>{result_chip}",
            escape(&self.name),
            result_attribute(self.result),
            escape(&self.name),
        );
        for (severity, text) in &self.chips {
            page.push_str(&chip(*severity, text));
        }
        let _ = write!(
            page,
            "</div><p class=\"describe\">{}</p>",
            escape(&self.describe)
        );
        if let Some(waveform) = &self.waveform {
            pictures::waveform(page, waveform);
        }
        if let Some(levels) = &self.levels {
            pictures::level_bars(page, levels);
        }
        if let Some(passages) = &self.passages {
            pictures::passages(page, passages);
        }
        lines(page, &self.findings);
        page.push_str("</section>");
    }
}
