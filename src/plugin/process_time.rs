//! Process-wide time: a monotonic millisecond clock the audio thread may read, and wall-clock
//! Unix milliseconds for what crosses processes (status files, the delivery note).

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static CLOCK: OnceLock<Instant> = OnceLock::new();

/// Starts [`clock_ms`] (once per process; later calls do nothing). Main thread.
pub fn start_clock() {
    CLOCK.get_or_init(Instant::now);
}

/// Milliseconds on a process-wide monotonic clock (0 before the first instance joined).
/// Lock-free and allocation-free: for the audio thread.
pub fn clock_ms() -> u64 {
    CLOCK
        .get()
        .map_or(0, |start| start.elapsed().as_millis() as u64)
}

/// Wall-clock time, Unix milliseconds.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Wall-clock Unix milliseconds of a moment on the monotonic clock in the past.
pub fn unix_ms_at(moment: Instant) -> u64 {
    unix_ms().saturating_sub(moment.elapsed().as_millis() as u64)
}
