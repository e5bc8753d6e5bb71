//! The export report: what one instance measured in one pass, written as JSON and as text
//! next to the other instances' reports, off the audio thread and atomically.

use super::clip_notice::{ClipNotice, MAX_CHANNELS};
use super::pass::PassTiming;
use super::timeline::TimelinePosition;
use super::user_folders;
use crate::analysis::dc::dc_advice;
use crate::analysis::{
    gain_to_db, ClipCounts, HeadroomStatus, HeadroomThresholds, LimiterEvidence, LimiterVerdict,
    LossyEvidence, Loudness, LoudnessFigures, TailState,
};
use crate::channel_name::channel_name;
use crate::clock::CivilTime;
use crate::severity::Severity;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Version of the report's JSON schema (documented in the README).
pub const REPORT_SCHEMA_VERSION: u32 = 1;
/// Clip positions carried in a report.
pub const REPORTED_CLIPS: usize = 8;
/// A pass that is not offline counts as an export when it started at the project start and
/// ran at least this long (the default of the persisted `report_min_s` setting).
pub const MIN_EXPORT_S: f32 = 10.0;
/// A pass quieter than this everywhere is silent.
const SILENT_DBFS: f32 = -90.0;

/// One finding of a pass.
#[derive(Debug, Clone, PartialEq)]
pub struct PassFinding {
    /// What it is about: "clipping", "headroom", "tail"…
    pub check: &'static str,
    pub severity: Severity,
    /// In words, with the fix.
    pub text: String,
}

/// Everything the audio thread hands over at the end of a pass. Plain data, no heap: it
/// travels to the instance's report writer over a bounded queue without allocating.
#[derive(Debug, Clone, Copy)]
pub struct PassMeasurements {
    /// When, where and how the pass ran.
    pub pass: PassTiming,
    /// Channels measured.
    pub channels: usize,
    /// Sample peak per channel, linear.
    pub sample_peak: [f32; MAX_CHANNELS],
    /// True peak per channel, linear.
    pub true_peak: [f32; MAX_CHANNELS],
    /// DC offset per channel (its mean while it sounds), linear.
    pub dc_offset: [f32; MAX_CHANNELS],
    /// Clip events over all channels.
    pub clips: ClipCounts,
    /// The first clips with their timeline positions.
    pub first_clips: [Option<ClipNotice>; REPORTED_CLIPS],
    /// The limiter detector's evidence at the end of the pass.
    pub limiter: LimiterEvidence,
    /// How the pass ended.
    pub tail: TailState,
    /// NaN and ±Inf samples.
    pub non_finite_samples: u64,
    /// Loudness of the pass.
    pub loudness: Loudness,
    /// The traces of a lossy encoder, searched by the report writer (`None`: not searched).
    pub lossy: Option<LossyEvidence>,
}

/// What a finished pass was, which decides what is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    /// An offline or faster-than-real-time render, or a real-time pass from the start the
    /// user armed as an export: it gets a report and a place in the delivery note.
    Export,
    /// A real-time pass from the project start, at least the minimum length, not armed: most
    /// likely listening. Shown in the editor, never written.
    Playback,
    /// Part of the song, or shorter than the minimum: a rehearsal.
    Partial,
}

impl PassMeasurements {
    /// What the pass was, given the minimum length of a real-time export and whether the user
    /// armed the next real-time pass as an export.
    pub fn kind(&self, min_s: f32, armed: bool) -> PassKind {
        let whole_song = self.pass.from_project_start && self.pass.duration_s() >= f64::from(min_s);
        match (self.pass.offline, whole_song, armed) {
            (true, _, _) | (false, true, true) => PassKind::Export,
            (false, true, false) => PassKind::Playback,
            (false, false, _) => PassKind::Partial,
        }
    }

    fn peak_db(&self, of: &[f32; MAX_CHANNELS]) -> f32 {
        gain_to_db(of[..self.channels].iter().fold(0.0, |m, &x| m.max(x)))
    }

    /// The pass's loudness as reports give it.
    pub fn loudness_figures(&self) -> LoudnessFigures {
        self.loudness.figures(self.true_peak_dbtp())
    }

    /// Sample peak over all channels, dBFS.
    pub fn sample_peak_dbfs(&self) -> f32 {
        self.peak_db(&self.sample_peak)
    }

    /// True peak over all channels, dBTP.
    pub fn true_peak_dbtp(&self) -> f32 {
        self.peak_db(&self.true_peak)
    }

    fn clipped(&self) -> bool {
        self.clips.total_events() > 0
    }

    /// The warnings for this pass, in words, with the fix.
    pub fn findings(
        &self,
        name: &str,
        is_master: bool,
        thresholds: HeadroomThresholds,
    ) -> Vec<String> {
        self.judged(name, is_master, thresholds)
            .into_iter()
            .map(|finding| finding.text)
            .collect()
    }

    /// The warnings for this pass with what each is about and how bad it is.
    pub fn judged(
        &self,
        name: &str,
        is_master: bool,
        thresholds: HeadroomThresholds,
    ) -> Vec<PassFinding> {
        let mut out = Vec::new();
        let mut push = |check, severity, text| {
            out.push(PassFinding {
                check,
                severity,
                text,
            })
        };
        let (sample, true_peak) = (self.sample_peak_dbfs(), self.true_peak_dbtp());
        if sample < SILENT_DBFS {
            push("silence", Severity::Warn, format!("{name} was silent for the whole pass: check the routing, mutes and solos, or leave this stem out."));
            return out;
        }
        let status = HeadroomStatus::assess(sample, true_peak, self.clipped(), thresholds);
        match status {
            HeadroomStatus::Ready | HeadroomStatus::Acceptable => {}
            HeadroomStatus::Clipped { .. } => push(
                "clipping",
                Severity::Fail,
                status.advice(name, sample, true_peak, thresholds),
            ),
            HeadroomStatus::TooHot { .. } => push(
                "headroom",
                Severity::Warn,
                status.advice(name, sample, true_peak, thresholds),
            ),
        }
        if !self.pass.start.from_host {
            push("start", Severity::Warn, "The host gave no song position, so the start of the export could not be checked: make sure every stem is exported from the song's start.".to_owned());
        } else if !self.pass.from_project_start {
            push(
                "start",
                Severity::Warn,
                format!(
                    "The pass started at {}, not at the project start: export every stem from the song's start so they line up.",
                    self.pass.start.describe()
                ),
            );
        }
        if self.tail.cut {
            let extend = self.tail.extend_hint();
            push(
                "tail",
                Severity::Warn,
                format!(
                    "The export stopped while the signal was still sounding at {:.0} dBFS: extend the range {extend}.",
                    self.tail.end_level_dbfs
                ),
            );
        }
        if self.limiter.verdict != LimiterVerdict::None {
            let (severity, note) = if is_master {
                (Severity::Warn, "")
            } else {
                (Severity::Note, " (on a stem bus this may be intended)")
            };
            push(
                "limiter",
                severity,
                format!("{}{note}", self.limiter.explanation()),
            );
        }
        if let Some(origin) = self.lossy.and_then(|e| e.verdict()) {
            push("lossy origin", Severity::Warn, origin.advice(name));
        }
        for (channel, &dc) in self.dc_offset[..self.channels].iter().enumerate() {
            if let Some(advice) = dc_advice(dc, &channel_name(channel, self.channels)) {
                push("dc offset", Severity::Warn, advice);
            }
        }
        if self.non_finite_samples > 0 {
            push("invalid samples", Severity::Fail, format!("{} samples were NaN or infinite: a plugin on this bus blew up. Find and fix it before exporting.", self.non_finite_samples));
        }
        out
    }

    /// The report as JSON (schema [`REPORT_SCHEMA_VERSION`]).
    pub fn to_json(
        &self,
        name: &str,
        is_master: bool,
        thresholds: HeadroomThresholds,
        written_at: &str,
    ) -> serde_json::Value {
        let status = HeadroomStatus::assess(
            self.sample_peak_dbfs(),
            self.true_peak_dbtp(),
            self.clipped(),
            thresholds,
        );
        let position = |p: &TimelinePosition| {
            json!({
                "seconds": p.seconds,
                "from_host": p.from_host,
                "bar": p.bar_beat.map(|b| b.bar),
                "beat": p.bar_beat.map(|b| b.beat),
            })
        };
        let clips: Vec<serde_json::Value> = self
            .first_clips
            .iter()
            .flatten()
            .map(|c| {
                json!({
                    "kind": c.event.kind.name(),
                    "channel": c.event.channel,
                    "length_samples": c.event.length_samples,
                    "peak_db": gain_to_db(c.event.peak),
                    "position": position(&c.position),
                })
            })
            .collect();
        json!({
            "schema": "stem-preflight-pass-report",
            "version": REPORT_SCHEMA_VERSION,
            "written_at": written_at,
            "name": name,
            "role": if is_master { "master" } else { "stem" },
            "pass": {
                "start": position(&self.pass.start),
                "from_project_start": self.pass.from_project_start,
                "duration_s": self.pass.duration_s(),
                "sample_rate": self.pass.sample_rate,
                "tempo_bpm": self.pass.tempo_bpm,
                "time_signature": self.pass.time_signature.map(|(n, d)| format!("{n}/{d}")),
                "offline": self.pass.offline,
            },
            "sample_peak_dbfs": self.sample_peak_dbfs(),
            "true_peak_dbtp": self.true_peak_dbtp(),
            "channels": (0..self.channels).map(|c| json!({
                "sample_peak_dbfs": gain_to_db(self.sample_peak[c]),
                "true_peak_dbtp": gain_to_db(self.true_peak[c]),
                "dc_offset_dbfs": gain_to_db(self.dc_offset[c].abs()),
            })).collect::<Vec<_>>(),
            "status": status.label(),
            "clips": {
                "sample": self.clips.sample_events,
                "true_peak": self.clips.true_peak_events,
                "flat_top": self.clips.flat_top_events,
                "first": clips,
            },
            "limiter": {
                "verdict": self.limiter.verdict.name(),
                "ceiling_dbfs": self.limiter.ceiling_dbfs.is_finite().then_some(self.limiter.ceiling_dbfs),
                "pinned_share": self.limiter.pinned_share,
                "loudness_range_db": self.limiter.loudness_range_db,
            },
            "tail": {
                "end_level_dbfs": self.tail.end_level_dbfs,
                "cut": self.tail.cut,
                "extend_by_s": self.tail.extend_by_s,
            },
            "non_finite_samples": self.non_finite_samples,
            "loudness": self.loudness_figures(),
            "lossy_origin": self.lossy.map(|e| json!({
                "cutoff_hz": e.cutoff.map(|c| c.frequency_hz),
                "cutoff_drop_db": e.cutoff.map(|c| c.drop_db),
                "mp3_grid": e.mp3_grid,
            })),
            "findings": self.findings(name, is_master, thresholds),
        })
    }

    /// The report as text for a person.
    pub fn to_text(
        &self,
        name: &str,
        is_master: bool,
        thresholds: HeadroomThresholds,
        written_at: &str,
    ) -> String {
        let mut out = format!(
            "Stem Preflight pass report: {name}{}\nWritten {written_at}\n\n",
            if is_master { " (reference mix)" } else { "" }
        );
        out += &format!(
            "Pass: started at {}{}, {:.1} s, {} Hz{}{}\n",
            self.pass.start.describe(),
            if self.pass.from_project_start {
                " (project start)"
            } else {
                ""
            },
            self.pass.duration_s(),
            self.pass.sample_rate,
            self.pass
                .tempo_bpm
                .map_or(String::new(), |t| format!(", {t:.2} BPM")),
            if self.pass.offline {
                ", offline render"
            } else {
                ", real time"
            },
        );
        out += &format!(
            "Peak {:.1} dBFS, true peak {:.1} dBTP; {} clips, {} true-peak overs, {} flat tops\n",
            self.sample_peak_dbfs(),
            self.true_peak_dbtp(),
            self.clips.sample_events,
            self.clips.true_peak_events,
            self.clips.flat_top_events
        );
        for clip in self.first_clips.iter().flatten() {
            out += &format!("  clip at {}\n", clip.position.describe());
        }
        if let Some(loudness) = self.loudness_figures().describe() {
            out += &format!("Loudness: {loudness}\n");
        }
        let findings = self.findings(name, is_master, thresholds);
        if findings.is_empty() {
            out += "\nReady for mastering.\n";
        } else {
            out += "\nNeeds attention:\n";
            for finding in findings {
                out += &format!("  - {finding}\n");
            }
        }
        out
    }
}

/// Where reports go when the user has not chosen a folder: `$STEM_PREFLIGHT_REPORT_DIR`, else
/// `Stem Preflight` in the documents folder.
pub fn default_folder() -> PathBuf {
    if let Some(dir) = std::env::var_os("STEM_PREFLIGHT_REPORT_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    user_folders::documents()
        .unwrap_or_else(std::env::temp_dir)
        .join("Stem Preflight")
}

/// "2026-11-22 10.31.07" (UTC) from seconds since 1970.
pub fn file_date_time(unix_seconds: u64) -> String {
    let CivilTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
    } = CivilTime::of(unix_seconds);
    format!("{year:04}-{month:02}-{day:02} {hour:02}.{minute:02}.{second:02}")
}

/// Writes `<folder>/<base>.json` and `.txt` through temporary files, so a reader never sees
/// half a report. An existing report is never replaced: when `<base>` is taken (two buses
/// with the same name finishing in the same second), the report becomes `<base> (2)` and so
/// on. Returns the JSON's path.
pub fn write_report(folder: &Path, base: &str, json: &str, text: &str) -> Result<PathBuf, String> {
    let temporary = write_temporary(folder, &format!("{base}.json"), json)?;
    for copy in 1..=MAX_SAME_NAME {
        let stem = if copy == 1 {
            base.to_owned()
        } else {
            format!("{base} ({copy})")
        };
        let target = folder.join(format!("{stem}.json"));
        match claim(&temporary, &target) {
            Ok(()) => {
                write_file(folder, &format!("{stem}.txt"), text)?;
                return Ok(target);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                let _ = std::fs::remove_file(&temporary);
                return Err(format!("cannot write {}: {e}", target.display()));
            }
        }
    }
    let _ = std::fs::remove_file(&temporary);
    Err(format!(
        "cannot write {}: {MAX_SAME_NAME} reports of that name already exist",
        folder.join(format!("{base}.json")).display()
    ))
}

/// How many reports of one name and second [`write_report`] numbers before giving up.
const MAX_SAME_NAME: u32 = 999;

/// Moves `temporary` to `target` unless `target` exists (then `AlreadyExists`).
fn claim(temporary: &Path, target: &Path) -> std::io::Result<()> {
    // Creating a hard link fails when the target exists, which makes taking the name atomic
    // between instances finishing at the same moment.
    match std::fs::hard_link(temporary, target) {
        Ok(()) => {
            let _ = std::fs::remove_file(temporary);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        // File systems without hard links (FAT on a USB stick, some network shares).
        Err(_) if target.exists() => Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(temporary, target),
    }
}

/// Writes `<folder>/<name>` through a temporary file and a rename, creating the folder and
/// replacing an older file of that name. The error says what could not be written and why.
pub fn write_file(folder: &Path, name: &str, body: &str) -> Result<PathBuf, String> {
    let target = folder.join(name);
    let temporary = write_temporary(folder, name, body)?;
    std::fs::rename(&temporary, &target).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write {}: {e}", target.display())
    })?;
    Ok(target)
}

/// Writes `body` to a hidden file of its own in `folder` (created if missing) and returns it.
fn write_temporary(folder: &Path, name: &str, body: &str) -> Result<PathBuf, String> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create the report folder {}: {e}", folder.display()))?;
    // Unique per process and write: instances of one name never share a temporary file.
    let temporary = folder.join(format!(
        ".{name}.{}-{}.partial",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&temporary, body).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write {}: {e}", folder.join(name).display())
    })?;
    Ok(temporary)
}

/// A file name part from a stem name: no path separators or characters Windows refuses.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(windows)]
    #[test]
    fn on_windows_reports_go_to_the_documents_known_folder() {
        if std::env::var_os("STEM_PREFLIGHT_REPORT_DIR").is_some() {
            return; // NOTE: the user chose another folder; nothing to check.
        }
        let folder = default_folder();
        let documents = user_folders::documents().expect("Documents");
        assert_eq!(folder, documents.join("Stem Preflight"));
        let base = format!("stem-preflight-test-{}", std::process::id());
        let written = write_report(&folder, &base, "{}", "text").expect("written");
        assert!(
            written.starts_with(&folder) && written.is_file(),
            "{written:?}"
        );
        std::fs::remove_file(&written).unwrap();
        std::fs::remove_file(folder.join(format!("{base}.txt"))).unwrap();
        let _ = std::fs::remove_dir(&folder); // only if nothing else is in it
    }

    #[test]
    fn file_date_times_are_civil_dates() {
        assert_eq!(file_date_time(0), "1970-01-01 00.00.00");
        // 2026-11-22 10:31:07 UTC.
        assert_eq!(file_date_time(1_795_343_467), "2026-11-22 10.31.07");
        // A leap day.
        assert_eq!(file_date_time(951_782_400), "2000-02-29 00.00.00");
    }

    #[test]
    fn names_are_made_safe_for_file_names() {
        assert_eq!(file_safe("Drums/Perc: 1?"), "Drums_Perc_ 1_");
    }

    fn scratch_folder(label: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!("sp-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    fn leftovers(folder: &Path) -> Vec<String> {
        std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".partial"))
            .collect()
    }

    #[test]
    fn a_failed_write_says_why_and_leaves_no_partial_file() {
        let folder = scratch_folder("report-fail");
        // A file where the report folder should be.
        std::fs::write(folder.join("reports"), "not a folder").unwrap();
        let error = write_report(&folder.join("reports"), "x", "{}", "text").unwrap_err();
        assert!(error.contains("cannot create the report folder"), "{error}");
        // A folder where the delivery note should go makes its rename fail.
        std::fs::create_dir_all(folder.join("note.txt/inside")).unwrap();
        let error = write_file(&folder, "note.txt", "text").unwrap_err();
        assert!(error.contains("cannot write"), "{error}");
        assert!(leftovers(&folder).is_empty(), "{:?}", leftovers(&folder));
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn reports_of_the_same_name_and_second_are_numbered_not_replaced() {
        let folder = scratch_folder("report-same");
        let bodies = ["first", "second", "third"];
        let paths: Vec<PathBuf> = bodies
            .iter()
            .map(|body| write_report(&folder, "2026-11-22 10.00.00 Drums", body, body).unwrap())
            .collect();
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "2026-11-22 10.00.00 Drums.json",
                "2026-11-22 10.00.00 Drums (2).json",
                "2026-11-22 10.00.00 Drums (3).json"
            ]
        );
        for (path, body) in paths.iter().zip(bodies) {
            assert_eq!(std::fs::read_to_string(path).unwrap(), body);
            assert_eq!(
                std::fs::read_to_string(path.with_extension("txt")).unwrap(),
                body
            );
        }
        assert!(leftovers(&folder).is_empty(), "{:?}", leftovers(&folder));
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
