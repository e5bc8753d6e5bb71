//! Any bytes as a ZIP given to the checker: listing its entries, opening each, reading it,
//! seeking back and reading again, and decoding its header. An error is fine; a panic, a hang
//! or an unbounded allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use stem_preflight::check::archive::entries;
use stem_preflight::check::decode::AudioReader;
use stem_preflight::check::source;

/// Read at most this much of an entry: a deflated entry may declare gigabytes.
const READ_LIMIT: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("stem-preflight-fuzz-{}.zip", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let found: Vec<PathBuf> = entries(&path).unwrap_or_default();
    for entry in found.iter().take(16) {
        if let Ok(mut opened) = source::open(entry) {
            let mut sink = Vec::new();
            let _ = (&mut opened).take(READ_LIMIT).read_to_end(&mut sink);
            if opened.seek(SeekFrom::Start(0)).is_ok() {
                let _ = (&mut opened).take(4096).read_to_end(&mut sink);
            }
        }
        if let Ok(opened) = source::open(entry) {
            let _ = AudioReader::new(opened);
        }
    }
});
