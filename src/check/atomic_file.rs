//! Files written whole or not at all: the bytes go to `<name>.partial` beside the target
//! (the same folder, so the rename cannot cross file systems) and are renamed into place; on
//! any error the partial file is removed.

use std::path::{Path, PathBuf};

/// Where `target` is written before it is renamed into place.
pub fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    target.with_file_name(name)
}

/// Writes `target` through `write` (which fills the partial file) and renames it into place.
pub fn write_with(
    target: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let partial = partial_path(target);
    let result = write(&partial).and_then(|()| std::fs::rename(&partial, target));
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Writes `bytes` to `target`, whole or not at all.
pub fn write(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(target, |partial| std::fs::write(partial, bytes))
}
