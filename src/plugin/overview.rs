//! One overview of every instance, and the delivery note for each export.
//!
//! Instances in this host process find each other through a process-wide registry: an instance
//! joins at its first activation and leaves when it is destroyed (both on the main thread);
//! the audio thread only writes its own atomics in [`MeterShared`]. Instances in other
//! processes are seen through [`status_file`](super::status_file)s, which a process-wide
//! heartbeat thread writes and reads every [`HEARTBEAT`]. The heartbeat also refreshes the rows
//! the editors show, so an editor frame only copies a pointer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::delivery::{self, NoteDecision, NoteEntry, RemoteInstance};
use super::delivery_sheet::{self, SHEET_FILE};
use super::finished_pass::FinishedPass;
use super::instance_row::InstanceRow;
use super::params::StemPreflightParams;
use super::process_time::{self, clock_ms, unix_ms};
use super::report;
use super::shared::MeterShared;
use super::status_file;
use nice_plug_egui::RepaintNotifier;

/// How often each process rewrites its status file and refreshes the overview.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
// A held note must see every other process's status written and read since the export ended.
const _: () = assert!(delivery::SETTLE.as_millis() >= 2 * HEARTBEAT.as_millis());
/// Name of the note written next to the reports.
pub const DELIVERY_NOTE_FILE: &str = "Delivery note.txt";

struct Member {
    id: u64,
    params: Arc<StemPreflightParams>,
    shared: Arc<MeterShared>,
    repaint: RepaintNotifier,
}

impl Member {
    fn row(&self) -> InstanceRow {
        InstanceRow::of(&self.params, &self.shared)
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
    /// Every row in display order, as of the last heartbeat or change of members.
    rows: Option<Arc<[InstanceRow]>>,
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

/// A delivery note to write once the registry is unlocked: writing may block on a slow disk.
struct NoteToWrite {
    text: String,
    /// The delivery sheet's HTML.
    sheet: String,
    folders: Vec<PathBuf>,
}

/// The last delivery note, kept in memory so a failed write loses nothing.
#[derive(Debug, Clone)]
pub struct NoteOutcome {
    /// The note.
    pub text: String,
    /// The delivery sheet's HTML, written next to the note.
    pub sheet: String,
    /// The report folders of the instances in the export.
    pub folders: Vec<PathBuf>,
    /// The path written, or why a folder could not be written.
    pub written: Result<PathBuf, String>,
}

impl NoteToWrite {
    /// Writes the note and the sheet into every folder; the first failure wins. Call without
    /// the registry.
    fn write(self) -> NoteOutcome {
        let mut written = Err("no report folder".to_owned());
        for (i, folder) in self.folders.iter().enumerate() {
            let result = report::write_file(folder, DELIVERY_NOTE_FILE, &self.text)
                .and_then(|note| report::write_file(folder, SHEET_FILE, &self.sheet).map(|_| note));
            if i == 0 || written.is_ok() {
                written = result;
            }
        }
        NoteOutcome {
            text: self.text,
            sheet: self.sheet,
            folders: self.folders,
            written,
        }
    }

    /// Writes the note and records the outcome for the editors.
    fn write_and_record(self) {
        let outcome = self.write();
        registry().last_note = Some(outcome);
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    members: Vec::new(),
    elsewhere: Vec::new(),
    rows: None,
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
    registry.rows = None;
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
        let (heartbeat, note) = {
            let mut registry = registry();
            // The leaving instance's last export still counts.
            gather_export(&mut registry);
            registry.members.retain(|m| m.id != self.id);
            registry.rows = None;
            if registry.members.is_empty() {
                // Closing down: a note still waiting for other processes is written now.
                let note = resolve_pending_note(&mut registry, true);
                (registry.heartbeat.take(), note)
            } else {
                (None, None)
            }
        };
        if let Some(note) = note {
            note.write_and_record();
        }
        if let Some(heartbeat) = heartbeat {
            let _ = heartbeat.stop.send(());
            let _ = heartbeat.thread.join();
        }
    }
}

/// Every instance this one can see: this process's first, then other processes', stems by
/// name and the master last. Refreshed every [`HEARTBEAT`]. Not for the audio thread.
pub fn rows() -> Arc<[InstanceRow]> {
    let mut registry = registry();
    if registry.rows.is_none() {
        let own: Vec<InstanceRow> = registry.members.iter().map(Member::row).collect();
        refresh_rows(&mut registry, own);
    }
    registry.rows.clone().unwrap_or_else(|| Arc::from([]))
}

/// Sorts this process's rows and the other processes' into display order.
fn refresh_rows(registry: &mut Registry, own: Vec<InstanceRow>) {
    let mut rows = own;
    rows.extend(registry.elsewhere.iter().cloned());
    rows.sort_by_cached_key(|row| (row.master, row.elsewhere, row.name.to_lowercase()));
    registry.rows = Some(rows.into());
}

/// Arms (or disarms) the next real-time pass from the project start as an export, for every
/// instance in this process: an export played in real time passes through all of them.
pub fn arm_every_instance(armed: bool) {
    for member in &registry().members {
        member.params.export_armed.store(armed, Ordering::Release);
    }
}

/// The last delivery note written by an instance of this process.
pub fn last_note() -> Option<NoteOutcome> {
    registry().last_note.clone()
}

/// Tries the last delivery note's write again (after the user fixed the folder).
pub fn retry_note() {
    let note = registry().last_note.as_ref().map(|note| NoteToWrite {
        text: note.text.clone(),
        sheet: note.sheet.clone(),
        folders: note.folders.clone(),
    });
    if let Some(note) = note {
        note.write_and_record();
    }
}

/// The heartbeat thread: publishes this process's rows, reads everyone else's, and wakes the
/// editors so the overview stays current.
fn heartbeat(stop: &crossbeam_channel::Receiver<()>) {
    let folder = status_file::runtime_folder();
    let pid = std::process::id();
    loop {
        let own: Vec<InstanceRow> = registry().members.iter().map(Member::row).collect();
        // A status file that cannot be written only hides this process from the others.
        let _ = status_file::write_status(&folder, pid, &own, unix_ms());
        let elsewhere = status_file::read_statuses(&folder, pid, unix_ms());
        let note = {
            let mut registry = registry();
            registry.elsewhere = elsewhere;
            // Taken again under this lock: the rows written above would undo an instance that
            // joined or left while the files were read.
            let own = registry.members.iter().map(Member::row).collect();
            refresh_rows(&mut registry, own);
            gather_export(&mut registry);
            for member in &registry.members {
                member.repaint.request_repaint();
            }
            resolve_pending_note(&mut registry, false)
        };
        if let Some(note) = note {
            note.write_and_record();
        }
        match stop.recv_timeout(HEARTBEAT) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
    let _ = std::fs::remove_file(status_file::status_path(&folder, pid));
    registry().elsewhere.clear();
}

/// Called by an instance's report writer once it has handled a pass: records the pass for the
/// overview and, if this was the last instance of the export to finish, holds the delivery note.
/// Not for the audio thread.
pub fn pass_finished(shared: &MeterShared, pass: FinishedPass) {
    let mut registry = registry();
    *shared.last_pass() = Some(pass);
    shared.report_handled();
    registry.rows = None;
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
    let busy = registry.members.iter().any(|m| m.shared.busy(now));
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
        .filter_map(|slot| slot.as_ref().filter(|p| p.is_export() && !p.noted))
        .max_by_key(|p| p.ended_unix_ms)
        .map(FinishedPass::note_entry);
    let Some(latest) = latest else {
        return;
    };
    let mut group = Vec::new();
    for slot in &mut slots {
        if let Some(pass) = slot.as_mut().filter(|p| p.is_export() && !p.noted) {
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

/// Returns the held note to write, waits, or leaves it to another process (see
/// [`delivery::decide`]); `closing` stops waiting.
fn resolve_pending_note(registry: &mut Registry, closing: bool) -> Option<NoteToWrite> {
    let pending = registry.pending_note.as_ref()?;
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
        NoteDecision::Wait => None,
        NoteDecision::Leave => {
            registry.pending_note = None;
            None
        }
        NoteDecision::Write(entries) => {
            let mut folders: Vec<PathBuf> = entries.iter().map(|e| e.folder.clone()).collect();
            folders.sort();
            folders.dedup();
            registry.pending_note = None;
            let text = delivery::render(&entries).render();
            Some(NoteToWrite {
                sheet: delivery_sheet::sheet(&entries, &text),
                text,
                folders,
            })
        }
    }
}

/// The registry is process-wide and the tests run in parallel: tests that register instances
/// take turns, so that one counting the rows sees only its own.
#[cfg(test)]
pub(crate) fn registry_to_myself() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editors_read_the_rows_kept_since_the_last_heartbeat() {
        let _turn = registry_to_myself();
        let _member = register(
            Arc::new(StemPreflightParams::default()),
            Arc::new(MeterShared::default()),
            RepaintNotifier::new(),
        );
        // A heartbeat may refresh the rows between two reads, but not between every pair.
        let cached = (0..5).any(|_| Arc::ptr_eq(&rows(), &rows()));
        assert!(cached, "every read rebuilt the rows");
    }

    #[test]
    fn arming_reaches_every_instance_in_the_process() {
        let _turn = registry_to_myself();
        let params: Vec<Arc<StemPreflightParams>> = (0..2)
            .map(|_| Arc::new(StemPreflightParams::default()))
            .collect();
        let _members: Vec<Registration> = params
            .iter()
            .map(|p| register(p.clone(), Arc::default(), RepaintNotifier::new()))
            .collect();
        let armed = || {
            params
                .iter()
                .map(|p| p.export_armed.load(Ordering::Acquire))
                .collect::<Vec<_>>()
        };
        assert_eq!(armed(), [false, false]);
        arm_every_instance(true);
        assert_eq!(armed(), [true, true]);
        arm_every_instance(false);
        assert_eq!(armed(), [false, false]);
    }
}
