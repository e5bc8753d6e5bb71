//! The delivery note that travels with the stems: what the mastering engineer needs to know
//! before opening the files, with blanks for what only the user knows. The file checker fills
//! it from the files, the plugin from the instances that took part in an export pass.

use std::fmt::Write;

/// What the user tells the note (or, for tempo and time signature, the host).
#[derive(Debug, Clone, Default)]
pub struct NoteInfo {
    /// Song title.
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

/// Everything a note says. `None` and empty lists become blanks to fill in.
#[derive(Debug, Clone, Default)]
pub struct DeliveryNote {
    /// Song, artist, tempo, key, time signature.
    pub info: NoteInfo,
    /// Every sample rate seen, Hz.
    pub sample_rates: Vec<u32>,
    /// Every file format seen ("24-bit PCM"); empty when the writer cannot know.
    pub formats: Vec<String>,
    /// Heading of the stem list ("Files:", "Stems in this export:").
    pub stems_heading: &'static str,
    /// One line per stem: name, peaks, status.
    pub stems: Vec<String>,
    /// What still needs fixing, one line each.
    pub attention: Vec<String>,
    /// What said everything passed ("stem-preflight check").
    pub checked_by: &'static str,
}

const BLANK: &str = "________________";

fn or_blank(value: Option<String>) -> String {
    value.unwrap_or_else(|| BLANK.into())
}

/// "48000 Hz, 96000 Hz", or a blank when none is known.
fn list(values: Vec<String>) -> String {
    if values.is_empty() {
        BLANK.into()
    } else {
        values.join(", ")
    }
}

impl DeliveryNote {
    /// The note as plain text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut line = |text: &str| {
            out.push_str(text);
            out.push('\n');
        };
        line("DELIVERY NOTE (Stem Preflight)");
        line("");
        let info = &self.info;
        let fields = [
            ("Song:", or_blank(info.song.clone())),
            ("Artist:", or_blank(info.artist.clone())),
            ("Tempo:", or_blank(info.tempo_bpm.map(format_tempo))),
            ("Time signature:", or_blank(info.time_signature.clone())),
            ("Key:", or_blank(info.key.clone())),
            (
                "Sample rate:",
                list(
                    self.sample_rates
                        .iter()
                        .map(|r| format!("{r} Hz"))
                        .collect(),
                ),
            ),
            ("Format:", list(self.formats.clone())),
        ];
        for (label, value) in fields {
            line(&format!("{label:<17}{value}"));
        }
        line("");
        line(self.stems_heading);
        for stem in &self.stems {
            line(&format!("  {stem}"));
        }
        line("");
        if self.attention.is_empty() {
            line(&format!("Checks: all passed ({}).", self.checked_by));
        } else {
            line("Still needs attention:");
            for item in &self.attention {
                line(&format!("  - {item}"));
            }
        }
        line("");
        // Not measured here, so asked, never stated: a sentence a finding above contradicts
        // would make the whole note untrustworthy.
        line("Please confirm before sending:");
        line("  [ ] Every stem starts at the song's start (bar 1) and runs to the end of the last tail.");
        line("  [ ] No limiter, normalization or dither on the stems or the reference mix.");
        line("");
        line("Reference tracks (artist - title, what to listen for):");
        line("  1. ________________________________________");
        line("  2. ________________________________________");
        line("Notes for mastering (loudness target, release format, concerns):");
        line("  ____________________________________________");
        out
    }
}

/// One stem as a note lists it: "Bass: peak -6.0 dBFS, true peak -6.0 dBTP, Ready, 11.000 s;
/// -18.2 LUFS integrated, LRA 5.1 LU, PLR 12.2 dB".
pub fn stem_line(
    name: &str,
    reference_mix: bool,
    sample_peak_dbfs: f32,
    true_peak_dbtp: f32,
    status: &str,
    duration_s: f64,
    loudness: Option<&str>,
) -> String {
    let role = if reference_mix {
        " (reference mix)"
    } else {
        ""
    };
    let mut line = format!(
        "{name}{role}: peak {sample_peak_dbfs:.1} dBFS, true peak {true_peak_dbtp:.1} dBTP, {status}, {duration_s:.3} s"
    );
    if let Some(loudness) = loudness {
        line += &format!("; {loudness}");
    }
    line
}

/// "120 BPM", "92.5 BPM": no trailing zeros, at most two decimals.
fn format_tempo(bpm: f64) -> String {
    let mut text = String::new();
    let _ = write!(text, "{:.2}", bpm);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} BPM")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_blanks_to_fill_in() {
        let note = DeliveryNote {
            info: NoteInfo {
                tempo_bpm: Some(92.5),
                ..NoteInfo::default()
            },
            sample_rates: vec![48_000],
            stems_heading: "Stems:",
            stems: vec!["Drums: peak -6.1 dBFS".into()],
            checked_by: "the plugin",
            ..DeliveryNote::default()
        }
        .render();
        assert!(note.contains("Tempo:           92.5 BPM"), "{note}");
        assert!(note.contains(&format!("Key:             {BLANK}")));
        assert!(note.contains(&format!("Format:          {BLANK}")));
        assert!(note.contains("Sample rate:     48000 Hz"));
        assert!(note.contains("Stems:\n  Drums: peak -6.1 dBFS\n"));
        assert!(note.contains("Checks: all passed (the plugin)."));
    }

    #[test]
    fn a_finding_is_never_contradicted_by_the_fixed_text() {
        let note = DeliveryNote {
            attention: vec!["Mix: a limiter or maximizer is active on this bus.".into()],
            ..DeliveryNote::default()
        }
        .render();
        assert!(
            note.contains("Still needs attention:\n  - Mix: a limiter"),
            "{note}"
        );
        // Only asked to confirm, never stated as fact.
        assert!(
            note.contains("  [ ] No limiter, normalization or dither"),
            "{note}"
        );
        assert!(!note.contains("\nNo limit"), "{note}");
    }

    #[test]
    fn tempos_lose_trailing_zeros() {
        assert_eq!(format_tempo(120.0), "120 BPM");
        assert_eq!(format_tempo(128.25), "128.25 BPM");
    }
}
