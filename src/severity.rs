//! How bad a finding is, for the checker's report, the plugin's and the delivery sheet.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: the worst finding sets a file's (and the run's) result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, nothing to fix: never changes a result.
    Note,
    /// Checked and fine.
    Pass,
    /// Worth fixing; the files can still be used.
    Warn,
    /// The delivery should not go out like this.
    Fail,
}

impl Severity {
    /// Upper-case label for the terminal table.
    pub fn label(self) -> &'static str {
        match self {
            Self::Note => "NOTE",
            Self::Pass => "PASS",
            Self::Warn => "WARN",
            Self::Fail => "FAIL",
        }
    }
}
