//! `stem-preflight check`: the exported files, checked before they are sent.
//!
//! The numbers come from [`crate::analysis`], the same code the plugin runs. This module
//! decides what the files are, measures them in parallel, and judges each file and the set.

pub mod decode;
pub mod finding;
pub mod judge;
pub mod measure;
pub mod names;
pub mod note;
pub mod report;
mod set_work;
pub mod sniff;
pub mod sum;

use crate::analysis::{gain_to_db, HeadroomStatus, HeadroomThresholds};
use decode::AudioFormat;
use finding::{worst, Check, Finding, Severity};
use measure::FileMeasurements;
use serde::Serialize;
use sniff::FileKind;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use sum::{null_test, stem_offset, SumInput, MAX_OFFSET_S};

/// Version of the JSON report's schema (documented in the README).
pub const SCHEMA_VERSION: u32 = 1;
/// Null-test residual below which the stems add up to the mix, dB.
pub const NULL_PASS_DB: f32 = -60.0;
/// Residual above which the stems clearly do not add up, dB (between the two: warn).
pub const NULL_FAIL_DB: f32 = -40.0;
/// The null test keeps one reader and one block per stem open (and a stem-by-stem matrix).
const MAX_NULL_TEST_STEMS: usize = 64;
/// Below this share of the stem found in the mix, its offset is not trusted.
const MIN_PRESENCE: f32 = 0.3;

/// How to run the check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The reference mix, when its name does not say so.
    pub reference: Option<PathBuf>,
    /// The headroom rule.
    pub thresholds: HeadroomThresholds,
}

/// What a file is in the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
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
    /// Level of the last 50 ms, dBFS, and whether the tail is cut.
    pub tail: TailReport,
    /// The quietest level held for half a second, dBFS RMS.
    pub noise_floor_dbfs: Option<f32>,
    /// NaN and infinite samples.
    pub non_finite_samples: u64,
    /// First sound above -60 dBFS, seconds.
    pub first_sound_s: Option<f64>,
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
    pub role: Role,
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

fn label_of(path: &Path) -> String {
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
    /// The process exit code: 0 all pass, 1 warnings, 2 failures, 3 nothing readable.
    pub fn exit_code(&self) -> i32 {
        let readable = self.files.iter().any(|f| f.measured.is_some());
        match self.result {
            _ if !readable => 3,
            Severity::Pass => 0,
            Severity::Warn => 1,
            Severity::Fail => 2,
        }
    }

    /// The reference mix, if one was found.
    pub fn reference(&self) -> Option<&FileReport> {
        self.files.iter().find(|f| f.role == Role::Reference)
    }
}

/// A problem with the command line rather than the files.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Expands folders (one level, hidden files skipped) into files, sorted by name.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, UsageError> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files.dedup();
    Ok(files)
}

fn sniff_file(path: &Path) -> FileKind {
    let mut head = [0u8; 12];
    let read = std::fs::File::open(path).and_then(|mut f| {
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..])? {
                0 => break,
                k => n += k,
            }
        }
        Ok(n)
    });
    let extension = path
        .extension()
        .map_or_else(String::new, |e| e.to_string_lossy().into_owned());
    match read {
        Ok(n) => sniff::sniff(&head[..n], &extension),
        Err(_) => sniff::sniff(&[], &extension),
    }
}

fn looks_like_audio_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| {
        matches!(
            e.to_string_lossy().to_ascii_lowercase().as_str(),
            "wav" | "wave" | "aif" | "aiff" | "aifc" | "bwf" | "rf64"
        )
    })
}

/// Runs `work` on every item with one thread per core; results keep the items' order.
fn parallel_map<T: Sync, U: Send>(items: &[T], work: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<U>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = work(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was processed"))
        .collect()
}

fn measured(m: &FileMeasurements) -> Measured {
    let rate = f64::from(m.format.sample_rate);
    let clipped = m.clip_counts.iter().any(|&c| c > 0);
    let status = HeadroomStatus::assess(
        m.sample_peak_dbfs,
        m.true_peak_dbtp,
        clipped,
        HeadroomThresholds::default(),
    );
    Measured {
        duration_s: m.format.frames as f64 / rate,
        frames: m.format.frames,
        sample_peak_dbfs: m.sample_peak_dbfs,
        true_peak_dbtp: m.true_peak_dbtp,
        status: status.label(),
        clips: ClipSummary {
            sample: m.clip_counts[0],
            true_peak: m.clip_counts[1],
            flat_top: m.clip_counts[2],
        },
        clip_events: m
            .clip_events
            .iter()
            .map(|e| ClipEventReport {
                kind: e.kind.name(),
                channel: e.channel,
                time_s: e.start_sample as f64 / rate,
                timestamp: judge::timestamp(e.start_sample, m.format.sample_rate),
                start_sample: e.start_sample,
                length_samples: e.length_samples,
                peak_db: gain_to_db(e.peak),
            })
            .collect(),
        limiter: LimiterReport {
            verdict: m.limiter.verdict.name(),
            ceiling_dbfs: m
                .limiter
                .ceiling_dbfs
                .is_finite()
                .then_some(m.limiter.ceiling_dbfs),
            pinned_share: m.limiter.pinned_share,
            loudness_range_db: m.limiter.loudness_range_db,
        },
        dc_offset_dbfs: m.dc_offset.iter().map(|d| gain_to_db(d.abs())).collect(),
        effective_bits: m.effective_bits,
        lossy_cutoff_hz: m.cutoff.map(|c| c.frequency_hz),
        tail: TailReport {
            end_level_dbfs: m.tail.end_level_dbfs,
            cut: m.tail.cut,
            extend_by_s: m.tail.extend_by_s,
        },
        noise_floor_dbfs: m.noise_floor_dbfs,
        non_finite_samples: m.non_finite_samples,
        first_sound_s: m.first_sound_frame.map(|f| f as f64 / rate),
    }
}

/// Checks files and folders. `progress` is called with (files done, files to measure) from
/// worker threads.
pub fn check(
    paths: &[PathBuf],
    options: &CheckOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CheckReport, UsageError> {
    let mut files = collect_files(paths)?;
    if let Some(reference) = &options.reference {
        if !reference.is_file() {
            return Err(UsageError(format!(
                "--reference {}: no such file",
                reference.display()
            )));
        }
        if !files.iter().any(|f| same_file(f, reference)) {
            files.push(reference.clone());
        }
    }
    let mut ignored = Vec::new();
    let mut reports: Vec<FileReport> = Vec::new();
    let mut to_measure = Vec::new();
    for path in files {
        let kind = sniff_file(&path);
        let report = |role, finding| FileReport {
            path: path.clone(),
            role,
            format: None,
            measured: None,
            offset: None,
            findings: vec![finding],
            result: Severity::Fail,
        };
        match kind {
            FileKind::Wav | FileKind::Aiff => to_measure.push(path),
            FileKind::OtherAudio(format) => {
                let why = if sniff::is_lossy(format) {
                    format!("{format} is lossy: export WAV (24-bit or 32-bit float) from the session.")
                } else {
                    format!("{format} is not a stem deliverable: export WAV or AIFF (24-bit or 32-bit float) from the session.")
                };
                reports.push(report(Role::Rejected, Finding::fail(Check::Format, why)));
            }
            FileKind::NotAudio if looks_like_audio_name(&path) => reports.push(report(
                Role::Unreadable,
                Finding::fail(
                    Check::Readable,
                    "Named like audio but not a WAV or AIFF file (damaged, or another format renamed): export it again.",
                ),
            )),
            FileKind::NotAudio => ignored.push(path),
        }
    }

    // The reference: given, or found by name.
    let reference_index = match &options.reference {
        Some(given) => to_measure.iter().position(|p| same_file(p, given)),
        None => to_measure.iter().position(|p| {
            p.file_stem()
                .is_some_and(|s| names::is_reference(&s.to_string_lossy()))
        }),
    };
    let (results, prepared) = set_work::measure_all(&to_measure, reference_index, progress);
    let mut set_findings = Vec::new();
    let mut measurements: Vec<(usize, FileMeasurements)> = Vec::new();
    for (i, (path, result)) in to_measure.iter().zip(results).enumerate() {
        let is_reference = Some(i) == reference_index;
        match result {
            Ok(m) => {
                let label = label_of(path);
                let mut findings = judge::judge(&m, &label, is_reference, options.thresholds);
                findings.extend(name_findings(path, is_reference));
                reports.push(FileReport {
                    path: path.clone(),
                    role: if is_reference {
                        Role::Reference
                    } else {
                        Role::Stem
                    },
                    format: Some(m.format),
                    measured: Some(measured(&m)),
                    offset: None,
                    findings,
                    result: Severity::Pass,
                });
                measurements.push((reports.len() - 1, m));
            }
            Err(e) => reports.push(FileReport {
                path: path.clone(),
                role: Role::Unreadable,
                format: None,
                measured: None,
                offset: None,
                findings: vec![Finding::fail(Check::Readable, format!("{e}."))],
                result: Severity::Fail,
            }),
        }
    }

    let null = set_checks(&mut reports, &measurements, &mut set_findings, prepared);
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    let mut summary = Summary::default();
    for report in &mut reports {
        report.result = worst(&report.findings);
        summary.files += 1;
        match report.result {
            Severity::Pass => summary.pass += 1,
            Severity::Warn => summary.warn += 1,
            Severity::Fail => summary.fail += 1,
        }
    }
    let result = worst(
        reports
            .iter()
            .flat_map(|r| &r.findings)
            .chain(&set_findings),
    );
    Ok(CheckReport {
        schema: "stem-preflight-check",
        version: SCHEMA_VERSION,
        files: reports,
        set_findings,
        null_test: null,
        ignored,
        summary,
        result,
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn name_findings(path: &Path, is_reference: bool) -> Option<Finding> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let name = path.file_name()?.to_string_lossy().into_owned();
    if names::is_generic(&stem) {
        return Some(Finding::warn(
            Check::Name,
            format!("\"{name}\" says nothing about what it holds: name it Song_Group (e.g. Midnight_Drums.wav)."),
        ));
    }
    if names::parse(&stem).is_none() && !is_reference {
        return Some(Finding::warn(
            Check::Name,
            format!("\"{name}\" does not follow Song_Group (e.g. Midnight_Drums.wav): the mastering engineer sorts stems of several songs by name."),
        ));
    }
    None
}

/// Sample rates, lengths, offsets and the null test. Returns the null test's numbers.
fn set_checks(
    reports: &mut [FileReport],
    measurements: &[(usize, FileMeasurements)],
    set_findings: &mut Vec<Finding>,
    mut prepared: set_work::Prepared,
) -> Option<NullReport> {
    if measurements.is_empty() {
        return None;
    }
    // One sample rate.
    let mut rates: Vec<u32> = measurements
        .iter()
        .map(|(_, m)| m.format.sample_rate)
        .collect();
    rates.sort_unstable();
    rates.dedup();
    if rates.len() > 1 {
        let list: Vec<String> = measurements
            .iter()
            .map(|(i, m)| format!("{} {} Hz", reports[*i].file_name(), m.format.sample_rate))
            .collect();
        set_findings.push(Finding::fail(
            Check::SampleRate,
            format!(
                "Mixed sample rates ({}): export every file at the session's rate.",
                list.join(", ")
            ),
        ));
    } else {
        set_findings.push(Finding::pass(
            Check::SampleRate,
            format!("All files at {} Hz.", rates[0]),
        ));
    }

    // Same song name on every stem.
    let songs: Vec<String> = measurements
        .iter()
        .filter_map(|(i, _)| {
            let stem = reports[*i].path.file_stem()?.to_string_lossy().into_owned();
            names::parse(&stem).map(|n| n.song)
        })
        .collect();
    if let Some(first) = songs.first() {
        if songs.iter().any(|s| s != first) {
            set_findings.push(Finding::warn(
                Check::Name,
                format!("The files name different songs ({}): one folder per song, every file named Song_Group.", {
                    let mut unique = songs.clone();
                    unique.sort();
                    unique.dedup();
                    unique.join(", ")
                }),
            ));
        }
    }

    let reference = measurements
        .iter()
        .find(|(i, _)| reports[*i].role == Role::Reference);
    let Some((reference_index, reference_m)) = reference else {
        set_findings.push(Finding::warn(
            Check::Reference,
            "No reference mix found: name it Song_Mix.wav or pass --reference FILE. Offsets and the null test need it.",
        ));
        return None;
    };
    let reference_path = reports[*reference_index].path.clone();
    let rate = reference_m.format.sample_rate;
    let stems: Vec<&(usize, FileMeasurements)> = measurements
        .iter()
        .filter(|(i, m)| reports[*i].role == Role::Stem && m.format.sample_rate == rate)
        .collect();

    // Lengths, to the sample.
    let reference_frames = reference_m.format.frames;
    for (i, m) in &stems {
        let diff = m.format.frames as i64 - reference_frames as i64;
        let label = reports[*i].label();
        if diff != 0 {
            reports[*i].findings.push(Finding::fail(
                Check::Length,
                format!(
                    "{label} is {} samples ({:.3} s) {} than the mix: export every stem over the same range, from the song's start to after its last tail.",
                    diff.unsigned_abs(),
                    diff.unsigned_abs() as f64 / f64::from(rate),
                    if diff > 0 { "longer" } else { "shorter" }
                ),
            ));
        } else {
            reports[*i].findings.push(Finding::pass(
                Check::Length,
                "Same length as the mix, to the sample.",
            ));
        }
    }

    // Offsets: found while measuring, else here in parallel (each reads a window of two files).
    let mut alignments: Vec<_> = stems
        .iter()
        .map(|(i, m)| prepared.take_alignment(&reports[*i].path, m.first_sound_frame))
        .collect();
    let missing: Vec<(usize, &(usize, FileMeasurements))> = (stems.iter().copied().enumerate())
        .filter(|(s, _)| alignments[*s].is_none())
        .collect();
    let found = parallel_map(&missing, |(s, (i, m))| {
        let alignment = m
            .first_sound_frame
            .map(|first| stem_offset(&reference_path, &reports[*i].path, first, rate));
        (*s, alignment)
    });
    for (s, alignment) in found {
        alignments[s] = Some(alignment);
    }
    let alignments = alignments
        .into_iter()
        .map(|a| a.expect("every stem was aligned ahead or just now"));
    let mut offsets = vec![0i64; stems.len()];
    for (s, ((i, _), alignment)) in stems.iter().zip(alignments).enumerate() {
        let label = reports[*i].label();
        let finding = match alignment {
            None => continue, // silent: said already
            Some(Err(e)) => Finding::warn(Check::Offset, format!("Could not align {label}: {e}.")),
            Some(Ok(a)) if a.presence.abs() < MIN_PRESENCE => Finding::warn(
                Check::Offset,
                format!("{label} does not match anything in the mix within {MAX_OFFSET_S:.0} s either way, so its start could not be checked: is it from this song, and is it in the mix?"),
            ),
            Some(Ok(a)) => {
                let ms = a.offset_frames as f64 * 1000.0 / f64::from(rate);
                reports[*i].offset = Some(OffsetReport {
                    frames: a.offset_frames,
                    ms,
                    correlation: a.correlation,
                });
                offsets[s] = a.offset_frames;
                if a.offset_frames == 0 {
                    Finding::pass(Check::Offset, "Starts together with the mix.")
                } else {
                    Finding::fail(
                        Check::Offset,
                        format!(
                            "{label} starts {} samples ({:.1} ms) {} than the mix: export every stem from the same start point (the song's start, bar 1).",
                            a.offset_frames.unsigned_abs(),
                            ms.abs(),
                            if a.offset_frames > 0 { "later" } else { "earlier" }
                        ),
                    )
                }
            }
        };
        reports[*i].findings.push(finding);
    }

    // The null test reads every stem at once.
    if stems.is_empty() {
        return None;
    }
    if stems.len() > MAX_NULL_TEST_STEMS {
        set_findings.push(Finding::warn(
            Check::NullTest,
            format!("{} stems against one mix: the null test runs on at most {MAX_NULL_TEST_STEMS}. Check one song's folder at a time.", stems.len()),
        ));
        return None;
    }
    let inputs = |with_offsets: bool| -> Vec<SumInput> {
        stems
            .iter()
            .zip(&offsets)
            .map(|((i, _), &o)| SumInput {
                path: &reports[*i].path,
                offset_frames: if with_offsets { o } else { 0 },
            })
            .collect()
    };
    let raw = prepared
        .take_null(&inputs(false))
        .unwrap_or_else(|| null_test(&reference_path, &inputs(false)));
    let raw = match raw {
        Ok(r) => r,
        Err(e) => {
            set_findings.push(Finding::warn(
                Check::NullTest,
                format!("The null test could not run: {e}."),
            ));
            return None;
        }
    };
    let aligned = if offsets.iter().any(|&o| o != 0) && raw.residual_db >= NULL_PASS_DB {
        null_test(&reference_path, &inputs(true)).ok()
    } else {
        None
    };
    let fit = aligned.as_ref().unwrap_or(&raw);
    let names: Vec<String> = stems.iter().map(|(i, _)| reports[*i].label()).collect();
    set_findings.push(null_finding(
        &raw,
        aligned.as_ref(),
        &names,
        &offsets,
        reference_m,
    ));
    Some(NullReport {
        residual_db: raw.residual_db,
        residual_aligned_db: aligned.as_ref().map(|a| a.residual_db),
        stem_gains: stems
            .iter()
            .zip(&fit.gains)
            .map(|((i, _), &g)| (reports[*i].file_name(), g))
            .collect(),
    })
}

fn null_finding(
    raw: &sum::NullResult,
    aligned: Option<&sum::NullResult>,
    names: &[String],
    offsets: &[i64],
    reference: &FileMeasurements,
) -> Finding {
    let level = |db: f32| {
        if db < NULL_PASS_DB {
            Severity::Pass
        } else if db < NULL_FAIL_DB {
            Severity::Warn
        } else {
            Severity::Fail
        }
    };
    let severity = level(raw.residual_db);
    if severity == Severity::Pass {
        return Finding::pass(
            Check::NullTest,
            format!(
                "The stems add up to the mix (residual {:.1} dB).",
                raw.residual_db
            ),
        );
    }
    let mut why = Vec::new();
    if let Some(aligned) = aligned {
        let moved: Vec<&str> = names
            .iter()
            .zip(offsets)
            .filter(|(_, &o)| o != 0)
            .map(|(n, _)| n.as_str())
            .collect();
        if level(aligned.residual_db) == Severity::Pass {
            why.push(format!(
                "the offset of {} explains it: lined up, the residual is {:.1} dB",
                moved.join(" and "),
                aligned.residual_db
            ));
        } else {
            why.push(format!(
                "lining up {} helps only to {:.1} dB",
                moved.join(" and "),
                aligned.residual_db
            ));
        }
    }
    let fit = aligned.unwrap_or(raw);
    for (name, &gain) in names.iter().zip(&fit.gains) {
        if gain.abs() < 0.1 {
            why.push(format!(
                "{name} is not in the mix (muted there, or from another song)"
            ));
        } else if (gain + 1.0).abs() < 0.1 {
            why.push(format!("{name} has its polarity flipped against the mix"));
        } else if (gain - 1.0).abs() > 0.05 {
            why.push(format!(
                "{name} sits {:+.1} dB louder in the mix than in its stem: export stems with the same fader and bus settings as the mix",
                20.0 * gain.abs().log10()
            ));
        }
    }
    if level(fit.fitted_residual_db) != Severity::Pass {
        if reference.limiter.verdict != crate::analysis::LimiterVerdict::None {
            why.push(
                "the mix has a limiter the stems do not have: bypass it for the mix too".into(),
            );
        }
        why.push(format!(
            "{:.1} dB of the mix is in no stem: a track not routed to any stem bus, an effect return, a missing stem, or processing on the master bus",
            fit.fitted_residual_db
        ));
    }
    let text = format!(
        "The stems do not add up to the mix (residual {:.1} dB, pass below {NULL_PASS_DB:.0} dB): {}.",
        raw.residual_db,
        why.join("; ")
    );
    match severity {
        Severity::Warn => Finding::warn(Check::NullTest, text),
        _ => Finding::fail(Check::NullTest, text),
    }
}
