//! One verdict of one check, with the fix in words.

use serde::Serialize;

pub use crate::severity::Severity;

/// The checks, as named in the JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The file could be opened and decoded.
    Readable,
    /// Container and encoding are deliverable.
    Format,
    /// Integer files carry at least 24 bits.
    BitDepth,
    /// The bits really used (16-bit audio padded to 24 bits).
    EffectiveBitDepth,
    /// Dither at a 16-bit level on a 24-bit or float export.
    Dither,
    /// One sample rate across the set.
    SampleRate,
    /// `Song_Group` naming.
    Name,
    /// All files the same length.
    Length,
    /// Every stem starts with the reference.
    Offset,
    /// The stems sum to the reference.
    NullTest,
    /// Peak level against the headroom rule.
    Headroom,
    /// Clips, true-peak overs, flat tops.
    Clipping,
    /// A limiter on the reference mix.
    Limiter,
    /// An encoder's spectral cliff.
    LossyOrigin,
    /// A peak at a round value: normalised.
    Normalized,
    /// The file ends while still sounding.
    Tail,
    /// The file holds nothing.
    Silence,
    /// A constant offset from zero.
    DcOffset,
    /// NaN or infinite samples in a float file.
    InvalidSamples,
    /// A reference mix was found.
    Reference,
    /// Integrated loudness and peak-to-loudness ratio of the reference mix.
    Loudness,
}

impl Check {
    /// The name the JSON output gives it ("headroom", "null-test").
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// A check's result with the explanation and the fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Which check.
    pub check: Check,
    /// Note, pass, warn or fail.
    pub severity: Severity,
    /// What was found and what to do, in the engineer's words.
    pub message: String,
}

impl Finding {
    /// Information, never a result.
    pub fn note(check: Check, message: impl Into<String>) -> Self {
        Self {
            check,
            severity: Severity::Note,
            message: message.into(),
        }
    }

    /// A passed check.
    pub fn pass(check: Check, message: impl Into<String>) -> Self {
        Self {
            check,
            severity: Severity::Pass,
            message: message.into(),
        }
    }

    /// A warning.
    pub fn warn(check: Check, message: impl Into<String>) -> Self {
        Self {
            check,
            severity: Severity::Warn,
            message: message.into(),
        }
    }

    /// A failure.
    pub fn fail(check: Check, message: impl Into<String>) -> Self {
        Self {
            check,
            severity: Severity::Fail,
            message: message.into(),
        }
    }
}

/// The worst severity among findings (Pass when there are none).
pub fn worst<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Severity {
    findings
        .into_iter()
        .map(|f| f.severity)
        .fold(Severity::Pass, Severity::max)
}
