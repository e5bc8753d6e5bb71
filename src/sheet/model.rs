//! What the delivery sheet shows, as plain data: the page, its rows and their pictures' inputs.

use crate::analysis::envelope::Column;
use crate::analysis::{HeadroomThresholds, Passage};
use crate::severity::Severity;

/// The whole page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The set's result.
    pub result: Option<Severity>,
    /// One sentence under the title: "4 files: 2 pass, 0 with warnings, 2 failing."
    pub summary: String,
    /// Verdicts about the set as a whole.
    pub set_findings: Vec<Line>,
    /// The null test over the song, when it ran.
    pub null_timeline: Vec<NullStretch>,
    /// One row per stem and the mix.
    pub rows: Vec<Row>,
    /// The delivery note's text.
    pub note: String,
}

/// One finding in words.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    pub severity: Severity,
    /// The check's name ("clipping"); empty when the words say it all.
    pub check: String,
    pub message: String,
}

/// One stem or the mix.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The file's name, or the stem's.
    pub name: String,
    pub result: Option<Severity>,
    /// What needs attention, as chips next to the result.
    pub chips: Vec<(Severity, String)>,
    /// One line of facts: format, length, peaks, loudness.
    pub describe: String,
    pub waveform: Option<Waveform>,
    pub levels: Option<Levels>,
    pub passages: Option<PassagePicture>,
    pub findings: Vec<Line>,
}

/// A waveform overview: the lowest and highest sample of each column of time, and markers.
#[derive(Debug, Clone, Default)]
pub struct Waveform {
    pub columns: Vec<Column>,
    /// The share of the strip's width one column takes (columns may cover less than all of it).
    pub column_share: f64,
    pub markers: Vec<Marker>,
}

/// A clip (red) or a true-peak over (orange) on the waveform.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Marker {
    /// Where across the strip, 0..1.
    pub at_share: f64,
    pub over: bool,
    /// Seconds into the file or the pass.
    pub time_s: f64,
    /// What a pointer resting on it shows.
    pub title: String,
}

/// Peak and true peak against the thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub sample_peak_dbfs: f32,
    pub true_peak_dbtp: f32,
    pub thresholds: HeadroomThresholds,
}

/// The limiter evidence: the passages behind it, and the ceiling when a limiter was found.
#[derive(Debug, Clone, Default)]
pub struct PassagePicture {
    pub passages: Vec<Passage>,
    pub ceiling_dbfs: Option<f32>,
}

/// One stretch of the null test: levels as RMS, dBFS; `None` for a stretch without audio read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NullStretch {
    pub mix_dbfs: Option<f32>,
    pub residual_dbfs: Option<f32>,
}
