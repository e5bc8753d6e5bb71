//! The status files through which instances in other processes see each other.
//!
//! Hosts that sandbox plugins run each in its own process. Each process writes one small
//! status file into a per-user runtime folder, rewritten every heartbeat; a file not rewritten
//! within [`STALE_AFTER`] belongs to a process that crashed or hung: it is no longer shown and
//! the next reader deletes it, so a crash never leaves a ghost.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::instance_row::InstanceRow;

use super::report;
use super::user_folders;

/// A status file not rewritten for this long is hidden and deleted.
pub const STALE_AFTER: Duration = Duration::from_secs(3);
/// Status files larger than this are not ours.
const MAX_STATUS_BYTES: u64 = 1 << 20;
/// `schema` field of a status file.
pub const STATUS_SCHEMA: &str = "stem-preflight-instances";
/// `version` field of a status file.
pub const STATUS_VERSION: u32 = 2;

/// The per-user folder for status files: `$STEM_PREFLIGHT_RUNTIME_DIR`, else (Windows)
/// `Stem Preflight\instances` in the local application data, else
/// `$XDG_RUNTIME_DIR/stem-preflight`, else a per-user folder in the temporary directory.
pub fn runtime_folder() -> PathBuf {
    if let Some(dir) = std::env::var_os("STEM_PREFLIGHT_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(local) = user_folders::local_app_data() {
        return local.join("Stem Preflight").join("instances");
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("stem-preflight");
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "user".into());
    std::env::temp_dir().join(format!("stem-preflight-{}", report::file_safe(&user)))
}

#[derive(Serialize, Deserialize)]
struct StatusFile {
    schema: String,
    version: u32,
    pid: u32,
    heartbeat_unix_ms: u64,
    instances: Vec<InstanceRow>,
}

pub fn status_path(folder: &Path, pid: u32) -> PathBuf {
    folder.join(format!("{pid}.json"))
}

/// Writes this process's status file atomically. Creates the folder, private to the user.
pub fn write_status(
    folder: &Path,
    pid: u32,
    rows: &[InstanceRow],
    now_unix_ms: u64,
) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)?;
    let status = StatusFile {
        schema: STATUS_SCHEMA.into(),
        version: STATUS_VERSION,
        pid,
        heartbeat_unix_ms: now_unix_ms,
        instances: rows.iter().map(finite_row).collect(),
    };
    let body = serde_json::to_vec(&status).map_err(std::io::Error::other)?;
    let temporary = folder.join(format!(".{pid}.json.partial"));
    std::fs::write(&temporary, body)?;
    std::fs::rename(&temporary, status_path(folder, pid))
}

/// JSON has no -∞: silence is written as the meter's floor.
fn finite_row(row: &InstanceRow) -> InstanceRow {
    let floor = |db: f32| {
        if db.is_finite() {
            db
        } else {
            crate::analysis::level::SILENCE_DB
        }
    };
    InstanceRow {
        sample_peak_dbfs: floor(row.sample_peak_dbfs),
        true_peak_dbtp: floor(row.true_peak_dbtp),
        ..row.clone()
    }
}

/// The rows of every other live process in `folder`. Stale files (older than
/// [`STALE_AFTER`]) and files that are not status files are skipped; stale ones are deleted.
pub fn read_statuses(folder: &Path, own_pid: u32, now_unix_ms: u64) -> Vec<InstanceRow> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let stale_ms = STALE_AFTER.as_millis() as u64;
    let mut rows = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_status = path.extension().is_some_and(|e| e == "json")
            && path
                .file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s.parse::<u32>().is_ok_and(|pid| pid != own_pid));
        if !is_status
            || entry
                .metadata()
                .map_or(true, |m| m.len() > MAX_STATUS_BYTES)
        {
            continue;
        }
        let status = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<StatusFile>(&bytes).ok())
            .filter(|s| s.schema == STATUS_SCHEMA && s.version == STATUS_VERSION);
        let Some(status) = status else {
            continue;
        };
        if now_unix_ms.saturating_sub(status.heartbeat_unix_ms) > stale_ms {
            // A process that stopped beating: crashed, killed or hung. It rewrites its file
            // if it ever comes back.
            let _ = std::fs::remove_file(&path);
            continue;
        }
        rows.extend(status.instances.into_iter().map(|row| InstanceRow {
            elsewhere: true,
            ..row
        }));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::instance_row::Light;

    fn row(name: &str, peak: f32) -> InstanceRow {
        InstanceRow {
            name: name.into(),
            master: false,
            sample_peak_dbfs: peak,
            true_peak_dbtp: f32::NEG_INFINITY,
            light: Light::Ready,
            clips: 0,
            limiter: "none".into(),
            last_pass: None,
            busy: false,
            last_export: None,
            elsewhere: false,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sp-status-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn other_processes_are_seen_until_their_heartbeat_stops() {
        let dir = scratch("heartbeat");
        let now = 1_000_000;
        write_status(&dir, 41, &[row("Drums", -6.5)], now).unwrap();
        write_status(&dir, 42, &[row("Own", -1.0)], now).unwrap();
        let seen = read_statuses(&dir, 42, now + 500);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].name, "Drums");
        assert_eq!(seen[0].sample_peak_dbfs, -6.5);
        assert!(seen[0].elsewhere);
        // Silence travels as the meter's floor.
        assert_eq!(seen[0].true_peak_dbtp, crate::analysis::level::SILENCE_DB);
        // Three seconds without a heartbeat: gone, and the file with it.
        let late = now + STALE_AFTER.as_millis() as u64 + 1;
        assert!(read_statuses(&dir, 42, late).is_empty());
        assert!(!status_path(&dir, 41).exists());
        assert!(status_path(&dir, 42).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(windows)]
    #[test]
    fn on_windows_status_files_live_in_the_local_application_data() {
        if std::env::var_os("STEM_PREFLIGHT_RUNTIME_DIR").is_some() {
            return; // NOTE: the user chose another folder; nothing to check.
        }
        let folder = runtime_folder();
        let local = user_folders::local_app_data().expect("LocalAppData");
        assert_eq!(folder, local.join("Stem Preflight").join("instances"));
        // Created and written there, in a folder of the test's own: the overview of this
        // process (other tests) reads the folder itself.
        let own = folder.join(format!("test-{}", std::process::id()));
        write_status(&own, 41, &[row("Drums", -6.5)], 1_000).unwrap();
        let seen = read_statuses(&own, 1, 1_500);
        assert!(seen.iter().any(|r| r.name == "Drums"), "{seen:?}");
        std::fs::remove_dir_all(&own).unwrap();
    }

    #[test]
    fn files_that_are_not_status_files_are_ignored() {
        let dir = scratch("junk");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("7.json"), b"{ not json").unwrap();
        std::fs::write(dir.join("notes.json"), b"{}").unwrap();
        std::fs::write(dir.join("8.json"), br#"{"schema":"other","version":1}"#).unwrap();
        assert!(read_statuses(&dir, 1, 0).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
