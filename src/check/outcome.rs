//! The checker's results: what `--json` prints and the readable table and note are made from.

use super::decode::AudioFormat;
use super::finding::{Finding, Severity};
use super::names;
use super::sum::NullColumn;
use crate::analysis::envelope::Column;
use crate::analysis::loudness::LoudnessFigures;
use crate::analysis::mp3_grid::GridEvidence;
use crate::analysis::Passage;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Version of the JSON report's schema (documented in the README).
pub const SCHEMA_VERSION: u32 = 1;

/// What a file is in the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileRole {
    /// A stem.
    Stem,
    /// The reference mix.
    Reference,
    /// Audio in a format that is not a deliverable (MP3, FLAC…).
    Rejected,
    /// Named like audio but unreadable.
    Unreadable,
}

/// Measurements as they appear in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// Length, seconds.
    pub duration_s: f64,
    /// Length, frames.
    pub frames: u64,
    /// Sample peak, dBFS.
    pub sample_peak_dbfs: f32,
    /// True peak, dBTP.
    pub true_peak_dbtp: f32,
    /// Headroom status label.
    pub status: &'static str,
    /// Sample clips, true-peak overs, flat tops (events).
    pub clips: ClipSummary,
    /// The first clip events.
    pub clip_events: Vec<ClipEventReport>,
    /// Limiter verdict (none / likely / certain) and ceiling.
    pub limiter: LimiterReport,
    /// DC offset per channel, dBFS.
    pub dc_offset_dbfs: Vec<f32>,
    /// Bits in use (integer) or the integer grid the floats lie on.
    pub effective_bits: Option<u16>,
    /// Frequency of a lossy encoder's cliff, Hz.
    pub lossy_cutoff_hz: Option<f32>,
    /// The MP3 granule-grid search, where it ran: the share of silent spectrum lines on the
    /// best alignment and on the others, and how far it stands out.
    pub mp3_grid: Option<GridEvidence>,
    /// Level of the last 50 ms, dBFS, and whether the tail is cut.
    pub tail: TailReport,
    /// The quietest level held for half a second, dBFS RMS.
    pub noise_floor_dbfs: Option<f32>,
    /// NaN and infinite samples.
    pub non_finite_samples: u64,
    /// First sound above -60 dBFS, seconds.
    pub first_sound_s: Option<f64>,
    /// Loudness (BS.1770-5, EBU R128).
    pub loudness: LoudnessFigures,
    /// The waveform overview (lowest and highest sample per column), for the sheet only.
    #[serde(skip)]
    pub envelope: Vec<Column>,
    /// Frames per column of the overview.
    #[serde(skip)]
    pub envelope_frames_per_column: u64,
    /// The limiter detector's passages (peak against loudness), for the sheet only.
    #[serde(skip)]
    pub passages: Vec<Passage>,
}

/// Clip events by kind.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClipSummary {
    /// Runs of samples at or above full scale.
    pub sample: u64,
    /// Runs of inter-sample overs above 0 dBTP.
    pub true_peak: u64,
    /// Runs of flattened peaks below full scale.
    pub flat_top: u64,
}

/// One clip event.
#[derive(Debug, Clone, Serialize)]
pub struct ClipEventReport {
    /// "sample", "true-peak" or "flat-top".
    pub kind: &'static str,
    /// Channel index (0 = left).
    pub channel: u16,
    /// Start, seconds.
    pub time_s: f64,
    /// Start, m:ss.mmm.
    pub timestamp: String,
    /// First sample index.
    pub start_sample: u64,
    /// Run length, samples.
    pub length_samples: u64,
    /// Peak inside the run, dBFS (dBTP for true-peak overs).
    pub peak_db: f32,
}

/// The limiter evidence.
#[derive(Debug, Clone, Serialize)]
pub struct LimiterReport {
    /// "none", "likely" or "certain".
    pub verdict: &'static str,
    /// Ceiling, dBFS (null without a verdict).
    pub ceiling_dbfs: Option<f32>,
    /// Share of loud passages pinned to the ceiling.
    pub pinned_share: f32,
    /// Loudness range of loud passages, dB.
    pub loudness_range_db: f32,
}

/// The end of the file.
#[derive(Debug, Clone, Serialize)]
pub struct TailReport {
    /// RMS level of the last 50 ms, dBFS.
    pub end_level_dbfs: f32,
    /// The sound was still going when the file ended.
    pub cut: bool,
    /// Suggested extension, seconds.
    pub extend_by_s: Option<f32>,
}

/// A stem's position against the reference.
#[derive(Debug, Clone, Serialize)]
pub struct OffsetReport {
    /// Frames late (negative: early).
    pub frames: i64,
    /// The same in milliseconds.
    pub ms: f64,
    /// Normalised correlation with the mix at that offset.
    pub correlation: f32,
}

/// Everything about one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as given or found.
    pub path: PathBuf,
    /// Stem, reference, rejected or unreadable.
    pub role: FileRole,
    /// Container, encoding, rate, channels, frames (readable files).
    pub format: Option<AudioFormat>,
    /// The numbers (readable files).
    pub measured: Option<Measured>,
    /// Offset against the reference (stems, when a reference was found).
    pub offset: Option<OffsetReport>,
    /// The verdicts.
    pub findings: Vec<Finding>,
    /// The worst verdict.
    pub result: Severity,
}

impl FileReport {
    /// The file name without folders.
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The name used in messages: the group of `Song_Group`, else the file stem.
    pub fn label(&self) -> String {
        label_of(&self.path)
    }
}

/// The name a file goes by in messages: the group of `Song_Group`, else the file stem.
pub fn label_of(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    names::parse(&stem).map_or(stem, |n| n.group)
}

/// The null test's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct NullReport {
    /// Residual of Σ stems − reference, dB relative to the reference.
    pub residual_db: f32,
    /// Residual after undoing the measured offsets, when any was non-zero.
    pub residual_aligned_db: Option<f32>,
    /// Each stem's least-squares gain in the mix, by file name.
    pub stem_gains: Vec<(String, f32)>,
    /// What no gain of the stems explains, dB relative to the reference: very low when the mix
    /// is the stems' sum times some gain, higher when it went through something non-linear.
    pub fitted_residual_db: f32,
    /// The residual as delivered (no offsets undone) over the song, for the sheet only.
    #[serde(skip)]
    pub timeline: Vec<NullColumn>,
    /// The peak of the stems' plain sum (lined up, when any was moved), dBFS.
    #[serde(skip)]
    pub stems_sum_peak_dbfs: f32,
}

/// Counts by result.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    /// Files checked (readable or not; ignored files excluded).
    pub files: usize,
    /// Files with only passes.
    pub pass: usize,
    /// Files whose worst finding is a warning.
    pub warn: usize,
    /// Files with a failure.
    pub fail: usize,
}

/// The whole run: what `--json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Always "stem-preflight-check".
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    /// Every file, in name order.
    pub files: Vec<FileReport>,
    /// Verdicts about the set: sample rates, lengths, the null test, the reference.
    pub set_findings: Vec<Finding>,
    /// The null test, when it ran.
    pub null_test: Option<NullReport>,
    /// Files that are not audio, left alone.
    pub ignored: Vec<PathBuf>,
    /// Counts.
    pub summary: Summary,
    /// The worst verdict of the run.
    pub result: Severity,
}

impl CheckReport {
    /// Every finding at `least` or worse, in words: "Bass.wav: message" for a file's, the
    /// message alone for the set's.
    pub fn messages_at_least(&self, least: Severity) -> Vec<String> {
        self.files
            .iter()
            .flat_map(|f| {
                f.findings
                    .iter()
                    .filter(move |x| x.severity >= least)
                    .map(move |x| format!("{}: {}", f.file_name(), x.message))
            })
            .chain(
                self.set_findings
                    .iter()
                    .filter(|x| x.severity >= least)
                    .map(|x| x.message.clone()),
            )
            .collect()
    }

    /// The process exit code: 0 all pass, 1 warnings, 2 failures, 3 nothing readable.
    pub fn exit_code(&self) -> i32 {
        let readable = self.files.iter().any(|f| f.measured.is_some());
        match self.result {
            _ if !readable => 3,
            Severity::Note | Severity::Pass => 0,
            Severity::Warn => 1,
            Severity::Fail => 2,
        }
    }

    /// The reference mix, if one was found.
    pub fn reference(&self) -> Option<&FileReport> {
        self.files.iter().find(|f| f.role == FileRole::Reference)
    }
}
