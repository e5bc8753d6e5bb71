//! One overview of every instance, and the delivery note for each export.
//!
//! Instances in this host process find each other through a process-wide registry: an instance
//! joins at its first activation and leaves when it is destroyed (both on the main thread);
//! the audio thread only writes its own atomics in [`MeterShared`]. Instances in other
//! processes (hosts that sandbox plugins) are seen through one small status file per process in
//! a per-user runtime folder, rewritten every [`HEARTBEAT`] by a process-wide thread. A file not
//! rewritten within [`STALE_AFTER`] belongs to a process that crashed or hung: it is no longer
//! shown and the next reader deletes it, so a crash never leaves a ghost.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::delivery::{self, NoteDecision, NoteEntry, RemoteInstance};
use super::finished_pass::{PassLine, FinishedPass};
use super::params::{BusRole, StemPreflightParams};
use super::process_time::{self, clock_ms, unix_ms};
use super::report;
use super::shared::MeterShared;
use crate::analysis::{gain_to_db, HeadroomStatus, LimiterVerdict};
use nice_plug_egui::RepaintNotifier;

/// How often each process rewrites its status file.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A status file not rewritten for this long is hidden and deleted.
pub const STALE_AFTER: Duration = Duration::from_secs(3);
/// A pass that has had no block for this long no longer holds up the delivery note: the host
/// stopped processing that instance.
pub const PASS_QUIET_AFTER: Duration = Duration::from_secs(2);
// A held note must see every other process's status written and read since the export ended.
const _: () = assert!(delivery::SETTLE.as_millis() >= 2 * HEARTBEAT.as_millis());
/// Status files larger than this are not ours.
const MAX_STATUS_BYTES: u64 = 1 << 20;
/// `schema` field of a status file.
pub const STATUS_SCHEMA: &str = "stem-preflight-instances";
/// `version` field of a status file.
pub const STATUS_VERSION: u32 = 1;
/// Name of the note written next to the reports.
pub const DELIVERY_NOTE_FILE: &str = "Delivery note.txt";

/// How an instance stands, as its status light shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Light {
    /// Nothing measured yet.
    NoSignal,
    /// Peak at or below the target.
    Ready,
    /// Between target and warning.
    Acceptable,
    /// Above the warning.
    TooHot,
    /// An over or a baked-in clip.
    Clipped,
}

impl Light {
    /// The light for a status.
    pub fn of(status: HeadroomStatus) -> Self {
        match status {
            HeadroomStatus::Ready => Self::Ready,
            HeadroomStatus::Acceptable => Self::Acceptable,
            HeadroomStatus::TooHot { .. } => Self::TooHot,
            HeadroomStatus::Clipped { .. } => Self::Clipped,
        }
    }
}

/// One line of the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRow {
    /// The stem's name.
    pub name: String,
    /// On the master bus (the reference mix).
    pub master: bool,
    /// Sample peak since the last reset or pass start, dBFS.
    pub sample_peak_dbfs: f32,
    /// True peak since the last reset or pass start, dBTP.
    pub true_peak_dbtp: f32,
    /// The status light.
    pub light: Light,
    /// Clip events since the last reset or pass start.
    pub clips: u64,
    /// "none", "likely" or "certain".
    pub limiter: String,
    /// The last pass, when there was one.
    pub last_pass: Option<PassLine>,
    /// In a pass, or its pass report not yet handled: an export may still be under way.
    #[serde(default)]
    pub busy: bool,
    /// The last export's part of the delivery note, for a process that writes the note.
    #[serde(default)]
    pub last_export: Option<NoteEntry>,
    /// Runs in another process (not stored in status files).
    #[serde(skip)]
    pub elsewhere: bool,
}

struct Member {
    id: u64,
    params: Arc<StemPreflightParams>,
    shared: Arc<MeterShared>,
    repaint: RepaintNotifier,
}

impl Member {
    fn row(&self) -> InstanceRow {
        let shared = &*self.shared;
        let channels = shared.live_channels();
        let max = |pick: fn(&super::shared::ChannelMeter) -> f32| {
            gain_to_db(channels.iter().map(pick).fold(0.0, f32::max))
        };
        let sample_peak_dbfs = max(|c| c.max_sample_peak.load(Ordering::Relaxed));
        let true_peak_dbtp = max(|c| c.max_true_peak.load(Ordering::Relaxed));
        let clips = channels
            .iter()
            .map(|c| c.clip_events.load(Ordering::Relaxed))
            .sum();
        let light = if sample_peak_dbfs.max(true_peak_dbtp) <= crate::analysis::level::SILENCE_DB {
            Light::NoSignal
        } else {
            Light::of(HeadroomStatus::assess(
                sample_peak_dbfs,
                true_peak_dbtp,
                clips > 0,
                self.params.thresholds(),
            ))
        };
        // One lock for both fields: a second guard in the same expression would deadlock.
        let last_pass = shared.last_pass().clone();
        InstanceRow {
            name: self.params.display_name(shared.track_name().as_deref()),
            master: self.params.role.value() == BusRole::Master,
            sample_peak_dbfs,
            true_peak_dbtp,
            light,
            clips,
            limiter: shared
                .limiter
                .read()
                .map_or(LimiterVerdict::None, |e| e.verdict)
                .name()
                .to_owned(),
            last_pass: last_pass.as_ref().map(FinishedPass::line),
            busy: shared.reports_in_flight() > 0
                || shared.in_pass(clock_ms(), PASS_QUIET_AFTER.as_millis() as u64),
            last_export: last_pass
                .as_ref()
                .filter(|p| p.export)
                .map(FinishedPass::note_entry),
            elsewhere: false,
        }
    }
}

struct Heartbeat {
    stop: crossbeam_channel::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

struct Registry {
    members: Vec<Member>,
    /// Rows read from other processes' status files at the last heartbeat.
    elsewhere: Vec<InstanceRow>,
    heartbeat: Option<Heartbeat>,
    /// The last delivery note and where it went.
    last_note: Option<NoteOutcome>,
    /// This process's part of a finished export whose note waits for other processes.
    pending_note: Option<PendingNote>,
}

struct PendingNote {
    entries: Vec<NoteEntry>,
    since: Instant,
}

/// The last delivery note, kept in memory so a failed write loses nothing.
#[derive(Debug, Clone)]
pub struct NoteOutcome {
    /// The note.
    pub text: String,
    /// The report folders of the instances in the export.
    pub folders: Vec<PathBuf>,
    /// The path written, or why a folder could not be written.
    pub written: Result<PathBuf, String>,
}

impl NoteOutcome {
    /// Writes the note into every folder; the first failure wins.
    fn write(text: String, folders: Vec<PathBuf>) -> Self {
        let mut written = Err("no report folder".to_owned());
        for (i, folder) in folders.iter().enumerate() {
            let result = report::write_file(folder, DELIVERY_NOTE_FILE, &text);
            if i == 0 || written.is_ok() {
                written = result;
            }
        }
        Self {
            text,
            folders,
            written,
        }
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    members: Vec::new(),
    elsewhere: Vec::new(),
    heartbeat: None,
    last_note: None,
    pending_note: None,
});
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, Registry> {
    // A panic elsewhere must not take the overview down with it.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// An instance's place in the overview; leaving it (dropping) removes the instance. The last
/// instance to leave stops the heartbeat thread and waits for it, so no thread outlives the
/// plugin library.
#[derive(Debug)]
pub struct Registration {
    id: u64,
}

/// Adds an instance. Main thread; allocates.
pub fn register(
    params: Arc<StemPreflightParams>,
    shared: Arc<MeterShared>,
    repaint: RepaintNotifier,
) -> Registration {
    process_time::start_clock();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut registry = registry();
    registry.members.push(Member {
        id,
        params,
        shared,
        repaint,
    });
    if registry.heartbeat.is_none() {
        let (stop, stopped) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new()
            .name("stem-preflight-overview".into())
            .spawn(move || heartbeat(&stopped));
        // Without the thread the in-process overview still works; only other processes
        // cannot see this one.
        if let Ok(thread) = spawned {
            registry.heartbeat = Some(Heartbeat { stop, thread });
        }
    }
    Registration { id }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let heartbeat = {
            let mut registry = registry();
            // The leaving instance's last export still counts.
            gather_export(&mut registry);
            registry.members.retain(|m| m.id != self.id);
            if registry.members.is_empty() {
                // Closing down: a note still waiting for other processes is written now.
                resolve_pending_note(&mut registry, true);
                registry.heartbeat.take()
            } else {
                None
            }
        };
        if let Some(heartbeat) = heartbeat {
            let _ = heartbeat.stop.send(());
            let _ = heartbeat.thread.join();
        }
    }
}

/// Every instance this one can see: this process's first, then other processes', stems by
/// name and the master last. Not for the audio thread.
pub fn rows() -> Vec<InstanceRow> {
    let registry = registry();
    let mut rows: Vec<InstanceRow> = registry.members.iter().map(Member::row).collect();
    rows.extend(registry.elsewhere.iter().cloned());
    rows.sort_by(|a, b| {
        (a.master, a.elsewhere, a.name.to_lowercase()).cmp(&(
            b.master,
            b.elsewhere,
            b.name.to_lowercase(),
        ))
    });
    rows
}

/// The last delivery note written by an instance of this process.
pub fn last_note() -> Option<NoteOutcome> {
    registry().last_note.clone()
}

/// Tries the last delivery note's write again (after the user fixed the folder).
pub fn retry_note() {
    let mut registry = registry();
    if let Some(note) = registry.last_note.take() {
        registry.last_note = Some(NoteOutcome::write(note.text, note.folders));
    }
}

/// The per-user folder for status files: `$STEM_PREFLIGHT_RUNTIME_DIR`, else
/// `$XDG_RUNTIME_DIR/stem-preflight`, else a per-user folder in the temporary directory.
pub fn runtime_folder() -> PathBuf {
    if let Some(dir) = std::env::var_os("STEM_PREFLIGHT_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("stem-preflight");
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "user".into());
    std::env::temp_dir().join(format!("stem-preflight-{}", report::file_safe(&user)))
}

/// The heartbeat thread: publishes this process's rows, reads everyone else's, and wakes the
/// editors so the overview stays current.
fn heartbeat(stop: &crossbeam_channel::Receiver<()>) {
    let folder = runtime_folder();
    let pid = std::process::id();
    loop {
        let rows: Vec<InstanceRow> = registry().members.iter().map(Member::row).collect();
        // A status file that cannot be written only hides this process from the others.
        let _ = write_status(&folder, pid, &rows, unix_ms());
        let elsewhere = read_statuses(&folder, pid, unix_ms());
        {
            let mut registry = registry();
            registry.elsewhere = elsewhere;
            gather_export(&mut registry);
            resolve_pending_note(&mut registry, false);
            for member in &registry.members {
                member.repaint.request_repaint();
            }
        }
        match stop.recv_timeout(HEARTBEAT) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
    let _ = std::fs::remove_file(status_path(&folder, pid));
    registry().elsewhere.clear();
}

#[derive(Serialize, Deserialize)]
struct StatusFile {
    schema: String,
    version: u32,
    pid: u32,
    heartbeat_unix_ms: u64,
    instances: Vec<InstanceRow>,
}

fn status_path(folder: &Path, pid: u32) -> PathBuf {
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

/// Called by an instance's report writer once it has handled a pass: records the pass for the
/// overview and, if this was the last instance of the export to finish, holds the delivery note.
/// Not for the audio thread.
pub fn pass_finished(shared: &MeterShared, summary: FinishedPass) {
    let mut registry = registry();
    *shared.last_pass() = Some(summary);
    shared.report_handled();
    gather_export(&mut registry);
}

/// Once no instance of this process is in a pass or has a report on its way, holds one delivery
/// note for the latest export passes that no note lists yet. The last report writer to finish
/// calls it, and so does every heartbeat: an instance that saw another still busy when it
/// finished (one the host stopped calling, or whose pass just ended without an export) does not
/// lose its part of the note. The note is held until the status files are fresh; the heartbeat
/// decides (or the last instance to close).
fn gather_export(registry: &mut Registry) {
    let now = clock_ms();
    let quiet_ms = PASS_QUIET_AFTER.as_millis() as u64;
    let busy = registry
        .members
        .iter()
        .any(|m| m.shared.reports_in_flight() > 0 || m.shared.in_pass(now, quiet_ms));
    if busy || registry.pending_note.is_some() {
        return;
    }
    let mut slots: Vec<_> = registry
        .members
        .iter()
        .map(|m| m.shared.last_pass())
        .collect();
    let latest = slots
        .iter()
        .filter_map(|slot| slot.as_ref().filter(|p| p.export && !p.noted))
        .max_by_key(|p| p.ended_unix_ms)
        .map(FinishedPass::note_entry);
    let Some(latest) = latest else {
        return;
    };
    let mut group = Vec::new();
    for slot in &mut slots {
        if let Some(pass) = slot.as_mut().filter(|p| p.export && !p.noted) {
            let entry = pass.note_entry();
            if entry.same_export_as(&latest) {
                pass.noted = true;
                group.push(entry);
            }
        }
    }
    drop(slots);
    registry.pending_note = Some(PendingNote {
        entries: group,
        since: Instant::now(),
    });
}

/// Writes the held note, waits, or leaves it to another process (see [`delivery::decide`]);
/// `closing` stops waiting.
fn resolve_pending_note(registry: &mut Registry, closing: bool) {
    let Some(pending) = &registry.pending_note else {
        return;
    };
    let remote: Vec<RemoteInstance> = registry
        .elsewhere
        .iter()
        .map(|row| RemoteInstance {
            busy: row.busy,
            last_export: row.last_export.as_ref(),
        })
        .collect();
    let held = if closing {
        delivery::MAX_WAIT
    } else {
        pending.since.elapsed()
    };
    match delivery::decide(&pending.entries, &remote, held) {
        NoteDecision::Wait => {}
        NoteDecision::Leave => registry.pending_note = None,
        NoteDecision::Write(entries) => {
            let note = delivery::render(&entries).render();
            let mut folders: Vec<PathBuf> = entries.iter().map(|e| e.folder.clone()).collect();
            folders.sort();
            folders.dedup();
            registry.last_note = Some(NoteOutcome::write(note, folders));
            registry.pending_note = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let dir = std::env::temp_dir().join(format!("sp-overview-{name}-{}", std::process::id()));
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
