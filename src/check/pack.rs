//! A ZIP ready to send: the checked audio files stored exactly as they are (audio barely
//! compresses, and stored entries open anywhere) and the delivery note. It is written beside
//! the target and renamed into place, so a failed or interrupted write never leaves half an
//! archive under the name.

use super::atomic_file;
use super::finding::Severity;
use super::outcome::CheckReport;
use super::source;
use crate::clock::CivilTime;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// The note's name inside the archive.
pub const NOTE_NAME: &str = "Delivery note.txt";
/// The sheet's name inside the archive.
pub const SHEET_NAME: &str = "Delivery sheet.html";

/// The failures of a check, one line each, for the top of a note that goes out anyway.
pub fn failures_first(report: &CheckReport, note: &str) -> String {
    let failures: Vec<String> = report
        .messages_at_least(Severity::Fail)
        .iter()
        .map(|m| format!("- {m}"))
        .collect();
    if failures.is_empty() {
        return note.to_string();
    }
    format!(
        "SENT WITH FAILURES: stem-preflight found problems that were not fixed before packing.\n{}\n\n{note}",
        failures.join("\n")
    )
}

/// The audio files of `report` that go in the archive: every readable WAV or AIFF.
pub fn audio_files(report: &CheckReport) -> Vec<&Path> {
    report
        .files
        .iter()
        .filter(|f| f.format.is_some())
        .map(|f| f.path.as_path())
        .collect()
}

/// Writes `files` (each under its file name) and `documents` (name, text: the note, the
/// sheet) into a new ZIP at `target`.
pub fn pack(files: &[&Path], documents: &[(&str, String)], target: &Path) -> io::Result<()> {
    let mut names: Vec<String> = Vec::with_capacity(files.len());
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| io::Error::other(format!("{}: no file name", file.display())))?;
        if names.contains(&name) || documents.iter().any(|(d, _)| *d == name) {
            return Err(io::Error::other(format!(
                "two files are named \"{name}\": rename one before packing"
            )));
        }
        names.push(name);
    }
    atomic_file::write_with(target, |partial| {
        write_zip(files, &names, documents, partial)
    })
}

/// A ZIP entry's time stamp (UTC): `None` for a time a ZIP cannot hold (before 1980).
fn zip_time(time: SystemTime) -> Option<zip::DateTime> {
    let seconds = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let t = CivilTime::of(seconds);
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year).ok()?,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
    )
    .ok()
}

fn write_zip(
    files: &[&Path],
    names: &[String],
    documents: &[(&str, String)],
    to: &Path,
) -> io::Result<()> {
    let mut zip = zip::ZipWriter::new(BufWriter::new(File::create(to)?));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let stamped = |time: io::Result<SystemTime>| match time.ok().and_then(zip_time) {
        Some(time) => stored.last_modified_time(time),
        None => stored,
    };
    for (file, name) in files.iter().zip(names) {
        let mut audio = source::open(file)?;
        let size = audio.seek(SeekFrom::End(0))?;
        audio.seek(SeekFrom::Start(0))?;
        // The export's own time where the disk has it (an entry of a ZIP input keeps none).
        let options = stamped(std::fs::metadata(file).and_then(|m| m.modified()));
        // ZIP64 records only where a file needs them: older unzippers read plain ones best.
        zip.start_file(
            name.as_str(),
            options.large_file(size >= u64::from(u32::MAX)),
        )?;
        io::copy(&mut audio, &mut zip)?;
    }
    for (name, text) in documents {
        zip.start_file(*name, stamped(Ok(SystemTime::now())))?;
        zip.write_all(text.as_bytes())?;
    }
    let mut out = zip.finish()?;
    out.flush()?;
    out.get_ref().sync_all()
}
