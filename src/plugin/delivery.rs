//! The delivery note of one export, across every instance that took part, in this process and
//! in others.
//!
//! Each instance that finished an export publishes a [`NoteEntry`] (in memory, and through its
//! process's status file for the others). When the last instance of a process has finished, the
//! process holds the note until no instance elsewhere is still exporting; then the process whose
//! instance finished last writes one note listing everyone, and the others leave it to that
//! process. Sandboxing hosts (one process per plugin) thus still get one note per export.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

use crate::delivery_note::{DeliveryNote, NoteInfo};
use crate::sheet::{Line, Marker};

/// Passes whose wall-clock spans come this close belong to the same export.
const SAME_EXPORT_SLACK_MS: u64 = 1_000;
/// How long a finished process waits for others still exporting before it writes anyway (one
/// of them may be playing something unrelated).
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// How long a finished process holds the note before it trusts what the status files say.
/// Status files are up to a heartbeat old when written and another when read: a process that
/// started exporting just before this one finished may not show as busy yet. Two heartbeats
/// and some scheduling slack.
pub const SETTLE: Duration = Duration::from_millis(2_500);

/// One instance's part of a delivery note: everything the note says about it, ready to print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteEntry {
    /// The stem's name.
    pub name: String,
    /// On the master bus (the reference mix).
    pub master: bool,
    /// See [`crate::delivery_note::stem_line`].
    pub stem_line: String,
    /// What still needs attention, each prefixed by the stem's name.
    pub attention: Vec<String>,
    /// Hz.
    pub sample_rate: u32,
    /// When the host gave one.
    pub tempo_bpm: Option<f64>,
    /// "4/4", when the host gave one.
    pub time_signature: Option<String>,
    /// Where this instance's reports go.
    pub folder: PathBuf,
    /// Wall-clock span of the pass, Unix milliseconds.
    pub began_unix_ms: u64,
    /// Wall-clock time of the pass's last block, Unix milliseconds.
    pub ended_unix_ms: u64,
    /// The process the instance runs in.
    pub pid: u32,
    /// What the delivery sheet shows of it.
    #[serde(default)]
    pub sheet: SheetStem,
}

/// One instance's row on the delivery sheet, kept as numbers so it travels through status
/// files: levels as linear gains (JSON has no infinity for a silent pass).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SheetStem {
    /// "Ready", "Too hot"…
    pub status: String,
    /// What the pass calls for, with what each is about and how bad it is.
    pub findings: Vec<Line>,
    pub sample_peak: f32,
    pub true_peak: f32,
    pub target_dbfs: f32,
    pub warning_dbfs: f32,
    /// The pass timeline: the highest sample magnitude of each column, oldest first.
    pub peaks: Vec<f32>,
    /// The share of the strip one column takes.
    pub column_share: f64,
    pub markers: Vec<Marker>,
}

impl NoteEntry {
    /// The two passes overlap in time, give or take a second.
    pub fn same_export_as(&self, other: &NoteEntry) -> bool {
        self.began_unix_ms <= other.ended_unix_ms + SAME_EXPORT_SLACK_MS
            && other.began_unix_ms <= self.ended_unix_ms + SAME_EXPORT_SLACK_MS
    }
}

/// An instance in another process as its status file shows it.
#[derive(Debug, Clone, Copy)]
pub struct RemoteInstance<'a> {
    /// In a pass, or its report not yet handled.
    pub busy: bool,
    /// Its last export, if any.
    pub last_export: Option<&'a NoteEntry>,
}

/// What a process holding a finished export's note should do.
#[derive(Debug, Clone, PartialEq)]
pub enum NoteDecision {
    /// Others are still exporting: ask again at the next heartbeat.
    Wait,
    /// Write the note with these entries (this process's and the others').
    Write(Vec<NoteEntry>),
    /// An instance elsewhere finished last: its process writes the note.
    Leave,
}

/// Decides for the entries `local` of this process's export, given what the other processes'
/// status files show and how long the note has been held.
pub fn decide(local: &[NoteEntry], remote: &[RemoteInstance], held: Duration) -> NoteDecision {
    let Some(first) = local.first() else {
        return NoteDecision::Leave;
    };
    if held < SETTLE || (remote.iter().any(|r| r.busy) && held < MAX_WAIT) {
        return NoteDecision::Wait;
    }
    let mut entries: Vec<NoteEntry> = local.to_vec();
    entries.extend(
        remote
            .iter()
            .filter_map(|r| r.last_export)
            .filter(|e| local.iter().any(|l| l.same_export_as(e)))
            .cloned(),
    );
    // Everyone sees the same entries once nobody is busy, so exactly one process is last.
    let last = entries
        .iter()
        .max_by_key(|e| (e.ended_unix_ms, e.pid))
        .map_or(first.pid, |e| e.pid);
    if last == first.pid {
        NoteDecision::Write(entries)
    } else {
        NoteDecision::Leave
    }
}

/// The note for one export: every instance's peaks and status, and what still needs fixing.
pub fn render(entries: &[NoteEntry]) -> DeliveryNote {
    let mut entries: Vec<&NoteEntry> = entries.iter().collect();
    entries.sort_by_key(|e| (e.master, e.name.to_lowercase()));
    let mut sample_rates: Vec<u32> = entries.iter().map(|e| e.sample_rate).collect();
    sample_rates.sort_unstable();
    sample_rates.dedup();
    DeliveryNote {
        info: NoteInfo {
            tempo_bpm: entries.iter().find_map(|e| e.tempo_bpm),
            time_signature: entries.iter().find_map(|e| e.time_signature.clone()),
            ..NoteInfo::default()
        },
        sample_rates,
        stems_heading: "Stems in this export (measured by Stem Preflight while it ran):",
        stems: entries.iter().map(|e| e.stem_line.clone()).collect(),
        attention: entries
            .iter()
            .flat_map(|e| e.attention.iter().cloned())
            .collect(),
        checked_by: "Stem Preflight, during the export",
        ..DeliveryNote::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, pid: u32, began: u64, ended: u64) -> NoteEntry {
        NoteEntry {
            name: name.into(),
            master: false,
            stem_line: format!("{name}: peak -6.0 dBFS"),
            attention: Vec::new(),
            sample_rate: 48_000,
            tempo_bpm: Some(120.0),
            time_signature: Some("4/4".into()),
            folder: PathBuf::from("/reports"),
            began_unix_ms: began,
            ended_unix_ms: ended,
            pid,
            sheet: SheetStem::default(),
        }
    }

    fn remote(busy: bool, last_export: Option<&NoteEntry>) -> RemoteInstance<'_> {
        RemoteInstance { busy, last_export }
    }

    #[test]
    fn alone_a_process_writes_once_settled() {
        let local = [entry("Drums", 1, 0, 10_000), entry("Mix", 1, 0, 10_050)];
        // Nobody else shows as exporting yet, but their status may be a heartbeat old.
        assert_eq!(
            decide(&local, &[], SETTLE - Duration::from_millis(1)),
            NoteDecision::Wait
        );
        assert_eq!(
            decide(&local, &[], SETTLE),
            NoteDecision::Write(local.to_vec())
        );
    }

    #[test]
    fn a_process_still_exporting_elsewhere_is_waited_for_then_writes() {
        let local = [entry("Drums", 1, 0, 10_000)];
        assert_eq!(
            decide(&local, &[remote(true, None)], SETTLE),
            NoteDecision::Wait
        );
        // It finished later than this process: the note is its to write.
        let bass = entry("Bass", 2, 5, 10_400);
        assert_eq!(
            decide(&local, &[remote(false, Some(&bass))], SETTLE),
            NoteDecision::Leave
        );
        // And from its side: this process finished first, so it writes both.
        let theirs = [bass.clone()];
        let NoteDecision::Write(entries) =
            decide(&theirs, &[remote(false, Some(&local[0]))], SETTLE)
        else {
            panic!("the last to finish writes");
        };
        assert_eq!(entries, vec![bass, local[0].clone()]);
    }

    #[test]
    fn two_processes_finishing_together_agree_on_one_writer() {
        let a = entry("Drums", 1, 0, 10_000);
        let b = entry("Bass", 2, 0, 10_000);
        let from_a = decide(std::slice::from_ref(&a), &[remote(false, Some(&b))], SETTLE);
        let from_b = decide(std::slice::from_ref(&b), &[remote(false, Some(&a))], SETTLE);
        // Same end time: the higher process id writes, the other leaves it.
        assert_eq!(from_a, NoteDecision::Leave);
        assert!(matches!(from_b, NoteDecision::Write(ref e) if e.len() == 2));
    }

    #[test]
    fn an_earlier_export_elsewhere_is_not_part_of_this_one() {
        let local = [entry("Drums", 1, 100_000, 110_000)];
        let yesterday = entry("Bass", 2, 0, 10_000);
        assert_eq!(
            decide(&local, &[remote(false, Some(&yesterday))], SETTLE),
            NoteDecision::Write(local.to_vec())
        );
    }

    #[test]
    fn a_process_that_never_finishes_is_waited_for_only_so_long() {
        let local = [entry("Drums", 1, 0, 10_000)];
        assert_eq!(
            decide(&local, &[remote(true, None)], MAX_WAIT),
            NoteDecision::Write(local.to_vec())
        );
    }

    #[test]
    fn the_note_lists_stems_by_name_and_the_mix_last() {
        let mut mix = entry("Mix", 2, 0, 1);
        mix.master = true;
        mix.stem_line = "Mix (reference mix): peak -1.0 dBFS".into();
        mix.attention = vec!["Mix: a limiter is active".into()];
        let note = render(&[mix, entry("drums", 1, 0, 1), entry("Bass", 2, 0, 1)]);
        assert_eq!(
            note.stems,
            [
                "Bass: peak -6.0 dBFS",
                "drums: peak -6.0 dBFS",
                "Mix (reference mix): peak -1.0 dBFS"
            ]
        );
        assert_eq!(note.attention, ["Mix: a limiter is active"]);
        assert_eq!(note.sample_rates, [48_000]);
        assert_eq!(note.info.tempo_bpm, Some(120.0));
    }
}
