//! Which files the checker looks at: folders expanded, each file's kind sniffed.

use super::sniff::{self, FileKind};
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

/// What a file is, from its first bytes and its extension.
pub fn sniff_file(path: &Path) -> FileKind {
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
