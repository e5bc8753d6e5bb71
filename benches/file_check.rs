//! `stem-preflight check` on a delivery-sized set (6 stems and the reference mix, 4 minutes,
//! 48 kHz, 24-bit) against `ffmpeg -af ebur128=peak=true -f null -` over the same files, in
//! one criterion group, with the delivery sheet (`--html`) drawn from the check's report.
//! Run: `cargo bench --bench file_check` (needs ffmpeg). Results: BENCHMARKS.md.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use std::process::Command;

use stem_preflight::check::note::delivery_note;
use stem_preflight::check::sheet::sheet;
use stem_preflight::check::{check, CheckOptions};
use stem_preflight::delivery_note::NoteInfo;
use support::files::{mix, stems, write_wav, Store};

const RATE: u32 = 48_000;
const SECONDS: f64 = 240.0;

/// Writes the set once and reuses it (about 480 MB).
fn delivery_set() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-delivery-set");
    let reference = dir.join("Midnight_Mix.wav");
    let mut set = stems(RATE, SECONDS, 1);
    for (name, audio) in stems(RATE, SECONDS, 2) {
        let renamed = match name {
            "Drums" => "Percussion",
            "Bass" => "Synth Bass",
            _ => "Backing Vocals",
        };
        set.push((renamed, audio));
    }
    // Six stems at about -13 dBFS would sum above full scale: bring them down 6 dB.
    for (_, audio) in &mut set {
        audio.iter_mut().flatten().for_each(|x| *x *= 0.5);
    }
    let files: Vec<PathBuf> = set
        .iter()
        .map(|(name, _)| dir.join(format!("Midnight_{name}.wav")))
        .chain([reference.clone()])
        .collect();
    if !files.iter().all(|f| f.is_file()) {
        std::fs::create_dir_all(&dir).expect("bench folder");
        for ((_, audio), path) in set.iter().zip(&files) {
            write_wav(path, RATE, audio, Store::Int(24));
        }
        write_wav(&reference, RATE, &mix(&set), Store::Int(24));
    }
    files
}

fn bench(c: &mut Criterion) {
    let files = delivery_set();
    let folder = vec![files[0].parent().expect("a folder").to_path_buf()];
    let mut group = c.benchmark_group("check 6 stems + mix, 4 min 48 kHz 24-bit");
    group.sample_size(10);
    group.bench_function("stem-preflight check (all checks)", |b| {
        b.iter(|| {
            let report = check(&folder, &CheckOptions::default(), &|_, _| {}).expect("checked");
            assert_eq!(report.files.len(), files.len());
        })
    });
    // What `check --html` adds to the check: the note and the page from the finished report.
    let options = CheckOptions::default();
    let report = check(&folder, &options, &|_, _| {}).expect("checked");
    group.bench_function("delivery sheet (note and page from the report)", |b| {
        b.iter(|| {
            let note = delivery_note(&report, &NoteInfo::default());
            let page = sheet(&report, &note, options.thresholds);
            assert!(page.len() > 10_000);
        })
    });
    group.bench_function("ffmpeg ebur128 peak=true (each file)", |b| {
        b.iter(|| {
            for file in &files {
                let status = Command::new("ffmpeg")
                    .args(["-v", "error", "-nostats", "-i"])
                    .arg(file)
                    .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
                    .status()
                    .expect("ffmpeg runs");
                assert!(status.success());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
