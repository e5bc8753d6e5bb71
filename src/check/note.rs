//! The delivery note that goes in the folder with the stems: what the mastering engineer
//! needs to know before opening the files.

use super::finding::Severity;
use super::outcome::{CheckReport, FileRole};
pub use crate::delivery_note::NoteInfo;
use crate::delivery_note::{stem_line, DeliveryNote};

/// Writes the note from a finished check. Sample rate, bit depth and the stems come from the
/// files; tempo, key and the rest from `info` or a blank to fill in.
pub fn delivery_note(report: &CheckReport, info: &NoteInfo) -> String {
    let readable: Vec<_> = report.files.iter().filter(|f| f.format.is_some()).collect();
    let song = info.song.clone().or_else(|| {
        readable.iter().find_map(|f| {
            let stem = f.path.file_stem()?.to_string_lossy().into_owned();
            super::names::parse(&stem).map(|n| n.song)
        })
    });
    let mut sample_rates: Vec<u32> = readable
        .iter()
        .filter_map(|f| f.format.map(|x| x.sample_rate))
        .collect();
    sample_rates.sort_unstable();
    sample_rates.dedup();
    let mut formats: Vec<String> = readable
        .iter()
        .filter_map(|f| f.format.map(|x| x.encoding.to_string()))
        .collect();
    formats.sort();
    formats.dedup();
    let stems = readable
        .iter()
        .filter_map(|file| {
            let m = file.measured.as_ref()?;
            Some(stem_line(
                &file.file_name(),
                file.role == FileRole::Reference,
                m.sample_peak_dbfs,
                m.true_peak_dbtp,
                m.status,
                m.duration_s,
                m.loudness.describe().as_deref(),
            ))
        })
        .collect();
    let attention = report.messages_at_least(Severity::Warn);
    DeliveryNote {
        info: NoteInfo {
            song,
            ..info.clone()
        },
        sample_rates,
        formats,
        stems_heading: "Files:",
        stems,
        attention,
        checked_by: "stem-preflight check",
    }
    .render()
}
