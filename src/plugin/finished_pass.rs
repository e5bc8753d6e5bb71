//! A finished pass as the overview and the delivery note need it.

use std::path::PathBuf;

use super::delivery::{NoteEntry, SheetStem};
use super::pass_strip::StripPicture;
use super::report::{PassKind, PassMeasurements};
use crate::analysis::{db_to_gain, HeadroomStatus, HeadroomThresholds};
use crate::delivery_note::stem_line;
use crate::sheet::{Line, Marker};

/// A finished pass as the overview and the delivery note need it.
#[derive(Debug, Clone)]
pub struct FinishedPass {
    /// What the instance measured.
    pub report: PassMeasurements,
    /// The stem's name when the pass ended.
    pub name: String,
    /// On the master bus.
    pub master: bool,
    /// Headroom thresholds when the pass ended.
    pub thresholds: HeadroomThresholds,
    /// Where this instance's reports go.
    pub folder: PathBuf,
    /// Export, playback or part of the song.
    pub kind: PassKind,
    /// A delivery note already lists it.
    pub noted: bool,
    /// Wall-clock time of the pass's first block, Unix milliseconds.
    pub began_unix_ms: u64,
    /// Wall-clock time of the pass's last block, Unix milliseconds.
    pub ended_unix_ms: u64,
    /// The pass timeline when the pass ended.
    pub timeline: StripPicture,
}

impl FinishedPass {
    /// The pass was an export: it got a report and belongs in the delivery note.
    pub fn is_export(&self) -> bool {
        self.kind == PassKind::Export
    }

    fn status(&self) -> HeadroomStatus {
        HeadroomStatus::assess(
            self.report.sample_peak_dbfs(),
            self.report.true_peak_dbtp(),
            self.report.clips.total_events() > 0,
            self.thresholds,
        )
    }

    /// What the pass was and what became of it, in one line: "export: report written (33.0 s
    /// from 0:00.000 (bar 1, beat 1.00))". `saved`: the export's report reached the disk.
    pub fn outcome_line(&self, saved: bool) -> String {
        let pass = &self.report.pass;
        let span = format!("{:.1} s from {}", pass.duration_s(), pass.start.describe());
        let fate = match (self.kind, saved) {
            (PassKind::Export, true) => "export: report written",
            (PassKind::Export, false) => "export: report not saved",
            (PassKind::Playback, _) => "playback: not saved",
            (PassKind::Partial, _) => "part of the song: not saved",
        };
        format!("{fate} ({span})")
    }

    /// What the pass's numbers call for, each in one sentence.
    pub fn findings(&self) -> Vec<String> {
        self.report
            .findings(&self.name, self.master, self.thresholds)
    }

    /// The pass in the overview: "from 0:00.000 (bar 1, beat 1.00), tail decayed".
    pub fn overview_line(&self) -> String {
        let tail = &self.report.tail;
        let tail = if tail.cut {
            format!("cut: extend {}", tail.extend_hint())
        } else {
            "decayed".into()
        };
        format!("from {}, tail {tail}", self.report.pass.start.describe())
    }

    /// Everything the delivery note says about this pass.
    pub fn note_entry(&self) -> NoteEntry {
        let report = &self.report;
        NoteEntry {
            name: self.name.clone(),
            master: self.master,
            stem_line: stem_line(
                &self.name,
                self.master,
                report.sample_peak_dbfs(),
                report.true_peak_dbtp(),
                self.status().label(),
                report.pass.duration_s(),
                report.loudness_figures().describe().as_deref(),
            ),
            attention: self
                .findings()
                .into_iter()
                .map(|finding| format!("{}: {finding}", self.name))
                .collect(),
            sample_rate: report.pass.sample_rate.round() as u32,
            tempo_bpm: report.pass.tempo_bpm,
            time_signature: report.pass.time_signature.map(|(n, d)| format!("{n}/{d}")),
            folder: self.folder.clone(),
            began_unix_ms: self.began_unix_ms,
            ended_unix_ms: self.ended_unix_ms,
            pid: std::process::id(),
            sheet: self.sheet_stem(),
        }
    }

    /// The pass on the delivery sheet: its status, levels, timeline and clips.
    fn sheet_stem(&self) -> SheetStem {
        let timeline = &self.timeline;
        // The strip's columns cover the pass: a column's share of the sheet's strip is its
        // share of the pass.
        let drawn_s = timeline.columns.len() as f64 * timeline.column_s;
        let pass_s = self.report.pass.duration_s().max(drawn_s).max(1e-9);
        let column_share = timeline.column_s / pass_s;
        SheetStem {
            status: self.status().label().to_owned(),
            findings: self
                .report
                .judged(&self.name, self.master, self.thresholds)
                .into_iter()
                .map(|finding| Line {
                    severity: finding.severity,
                    check: finding.check.to_owned(),
                    message: finding.text,
                })
                .collect(),
            sample_peak: db_to_gain(self.report.sample_peak_dbfs()),
            true_peak: db_to_gain(self.report.true_peak_dbtp()),
            target_dbfs: self.thresholds.target_dbfs,
            warning_dbfs: self.thresholds.warning_dbfs,
            peaks: timeline.columns.iter().map(|c| c.peak).collect(),
            column_share,
            markers: timeline
                .columns
                .iter()
                .enumerate()
                .filter_map(|(i, column)| {
                    let title = column.marks_text()?;
                    let marks = column.marks;
                    Some(Marker {
                        at_share: (i as f64 + 0.5) * column_share,
                        over: marks.clips + marks.flat_tops == 0,
                        time_s: (i as f64 + 0.5) * timeline.column_s,
                        title,
                    })
                })
                .collect(),
        }
    }
}
