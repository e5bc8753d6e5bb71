//! Any bytes through the checker's decode-and-measure entry point: an error is fine, a panic,
//! a hang or an unbounded allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use stem_preflight::check::decode::AudioReader;
use stem_preflight::check::measure::measure;

fuzz_target!(|data: &[u8]| {
    if let Ok(reader) = AudioReader::new(Cursor::new(data)) {
        let _ = measure(reader);
    }
});
