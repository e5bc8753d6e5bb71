//! Which files the checker looks at: folders expanded, each file's kind sniffed.

use super::archive;
use super::sniff::{self, FileKind};
use super::source;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A problem with the command line rather than the files.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Expands folders (one level, hidden files skipped) into files, sorted by name, and ZIP
/// archives given on the command line into their entries (paths inside the archive's). A link
/// counts as the file it points to; a broken one is kept, so that it is reported.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, UsageError> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        if meta.is_file() && head(path).is_ok_and(|h| archive::is_zip(&h)) {
            let mut found = archive::entries(path).map_err(|e| UsageError(e.to_string()))?;
            found.sort();
            files.extend(found);
        } else if meta.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter(|e| {
                    e.file_type()
                        .is_ok_and(|t| t.is_file() || (t.is_symlink() && !e.path().is_dir()))
                })
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

/// Why a file could not be opened, in the words of the fix when it is a link to nothing.
pub fn unopened_reason(path: &Path, error: &std::io::Error) -> String {
    match std::fs::read_link(path) {
        Ok(target) if !path.exists() => format!(
            "A link to {}, which is not there: put the file itself in the delivery.",
            target.display()
        ),
        _ => format!("{error}."),
    }
}

/// The first 12 bytes of a file or archive entry (fewer if it is shorter).
fn head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(12);
    source::open(path)?.take(12).read_to_end(&mut head)?;
    Ok(head)
}

/// What a file is, from its first bytes and its extension; an error when it cannot be read
/// at all (an archive entry compressed in a way that is not read, say).
pub fn sniff_file(path: &Path) -> std::io::Result<FileKind> {
    let extension = path
        .extension()
        .map_or_else(String::new, |e| e.to_string_lossy().into_owned());
    Ok(sniff::sniff(&head(path)?, &extension))
}

/// Named like a WAV or AIFF file, whatever it holds.
pub fn looks_like_audio_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| {
        matches!(
            e.to_string_lossy().to_ascii_lowercase().as_str(),
            "wav" | "wave" | "aif" | "aiff" | "aifc" | "bwf" | "rf64"
        )
    })
}

/// The same file, however the two paths spell it.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
