//! The delivery note that goes in the folder with the stems: what the mastering engineer
//! needs to know before opening the files.

use super::finding::Severity;
use super::{CheckReport, Role};
use std::fmt::Write;

/// What only the user knows.
#[derive(Debug, Clone, Default)]
pub struct NoteInfo {
    /// Song title (default: the song part of the file names).
    pub song: Option<String>,
    /// Artist.
    pub artist: Option<String>,
    /// Tempo, BPM.
    pub tempo_bpm: Option<f64>,
    /// Key ("A minor").
    pub key: Option<String>,
    /// Time signature ("4/4").
    pub time_signature: Option<String>,
}

fn or_blank(value: Option<String>) -> String {
    value.unwrap_or_else(|| "________________".into())
}

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
    let mut rates: Vec<u32> = readable
        .iter()
        .filter_map(|f| f.format.map(|x| x.sample_rate))
        .collect();
    rates.sort_unstable();
    rates.dedup();
    let mut depths: Vec<String> = readable
        .iter()
        .filter_map(|f| f.format.map(|x| x.encoding.to_string()))
        .collect();
    depths.sort();
    depths.dedup();
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "unknown".to_string()
        } else {
            v.join(", ")
        }
    };

    let mut out = String::new();
    let _ = writeln!(out, "DELIVERY NOTE (Stem Preflight)");
    let _ = writeln!(out);
    let _ = writeln!(out, "Song:            {}", or_blank(song));
    let _ = writeln!(out, "Artist:          {}", or_blank(info.artist.clone()));
    let _ = writeln!(
        out,
        "Tempo:           {}",
        or_blank(info.tempo_bpm.map(|t| format!("{t} BPM")))
    );
    let _ = writeln!(
        out,
        "Time signature:  {}",
        or_blank(info.time_signature.clone())
    );
    let _ = writeln!(out, "Key:             {}", or_blank(info.key.clone()));
    let _ = writeln!(
        out,
        "Sample rate:     {}",
        list(rates.iter().map(|r| format!("{r} Hz")).collect())
    );
    let _ = writeln!(out, "Format:          {}", list(depths));
    let _ = writeln!(out);
    let _ = writeln!(out, "Files:");
    for file in &readable {
        let Some(m) = &file.measured else { continue };
        let role = if file.role == Role::Reference {
            " (reference mix)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {}{role}: peak {:.1} dBFS, true peak {:.1} dBTP, {}, {:.3} s",
            file.file_name(),
            m.sample_peak_dbfs,
            m.true_peak_dbtp,
            m.status,
            m.duration_s
        );
    }
    let attention: Vec<String> = report
        .files
        .iter()
        .flat_map(|f| {
            f.findings
                .iter()
                .filter(|x| x.severity > Severity::Pass)
                .map(move |x| format!("{}: {}", f.file_name(), x.message))
        })
        .chain(
            report
                .set_findings
                .iter()
                .filter(|x| x.severity > Severity::Pass)
                .map(|x| x.message.clone()),
        )
        .collect();
    let _ = writeln!(out);
    if attention.is_empty() {
        let _ = writeln!(out, "Checks: all passed (stem-preflight check).");
    } else {
        let _ = writeln!(out, "Still needs attention:");
        for line in attention {
            let _ = writeln!(out, "  - {line}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "All stems start at the song's start (bar 1) and run to the end of the last tail."
    );
    let _ = writeln!(
        out,
        "No limiting, normalization or dither on the stems or the reference mix."
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Reference tracks (artist - title, what to listen for):"
    );
    let _ = writeln!(out, "  1. ________________________________________");
    let _ = writeln!(out, "  2. ________________________________________");
    let _ = writeln!(
        out,
        "Notes for mastering (loudness target, release format, concerns):"
    );
    let _ = writeln!(out, "  ____________________________________________");
    out
}
