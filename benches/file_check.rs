//! `stem-preflight check` on a delivery-sized set (6 stems and the reference mix, 4 minutes,
//! 48 kHz, 24-bit) against `ffmpeg -af ebur128=peak=true -f null -` over the same files, in
//! one criterion group, with the delivery sheet (`--html`) drawn from the check's report.
//! Then real songs (a corpus song played by FluidSynth, one stem per group bus and their mix,
//! 24-bit) at 30 s and 4 min (or the whole song, if shorter) and 44.1, 48 and 96 kHz, each against ffmpeg and against `cat` of
//! the same files (the page-cache read floor) in its own group.
//! Run: `cargo bench --bench file_check` (needs ffmpeg; the real songs need fluidsynth,
//! fluid-soundfont-gm and openttd-openmsx). Results: BENCHMARKS.md.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use std::path::{Path, PathBuf};
use std::process::Command;

use stem_preflight::check::note::delivery_note;
use stem_preflight::check::sheet::sheet;
use stem_preflight::check::{check, CheckOptions};
use stem_preflight::delivery_note::NoteInfo;
use support::corpus;
use support::delivery::{peak, scaled, sum};
use support::files::{mix, stems, write_song, write_wav, Store};

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

/// The corpus song the real-song sets come from (the music set's second, in name order).
const REAL_SONG: usize = 1;
/// The real-song sets: (seconds, sample rate).
const REAL_SETS: [(f64, u32); 6] = [
    (30.0, 44_100),
    (30.0, 48_000),
    (30.0, 96_000),
    (240.0, 44_100),
    (240.0, 48_000),
    (240.0, 96_000),
];

/// Writes a real-song set once and reuses it: the song's stems scaled so their mix peaks at
/// -6 dBFS, and the mix.
fn real_song_set(seconds: f64, rate: u32) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-real-{seconds}-{rate}"));
    let listing = |dir: &Path| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    };
    let files = listing(&dir);
    if !files.is_empty() {
        return files;
    }
    let song = &corpus::songs()[REAL_SONG];
    let mut stems = corpus::render(song, rate, seconds);
    // The render lets the last notes and the reverb play out (minutes, for some songs): cut
    // it to the set's length.
    let frames = (seconds * f64::from(rate)) as usize;
    for stem in &mut stems {
        stem.audio
            .iter_mut()
            .for_each(|channel| channel.truncate(frames));
    }
    let gain = 0.5 / peak(&sum(&stems));
    for stem in &mut stems {
        stem.audio = scaled(&stem.audio, gain);
    }
    let set: Vec<(&str, Vec<Vec<f32>>)> = stems
        .iter()
        .map(|s| (s.group.as_str(), s.audio.clone()))
        .collect();
    std::fs::create_dir_all(&dir).expect("bench folder");
    write_song(&dir, "Song", rate, &set, Store::Int(24));
    listing(&dir)
}

/// Our check of the folder holding `files`, every check.
fn bench_check(group: &mut BenchmarkGroup<WallTime>, files: &[PathBuf]) {
    let folder = vec![files[0].parent().expect("a folder").to_path_buf()];
    group.bench_function("stem-preflight check (all checks)", |b| {
        b.iter(|| {
            let report = check(&folder, &CheckOptions::default(), &|_, _| {}).expect("checked");
            assert_eq!(report.files.len(), files.len());
        })
    });
}

/// The checker as a user runs it, a fresh process each time, as ffmpeg is run: what a process
/// pays once (the FFT plans, first use of its memory) counts too.
fn bench_program(group: &mut BenchmarkGroup<WallTime>, files: &[PathBuf]) {
    let folder = files[0].parent().expect("a folder");
    group.bench_function("stem-preflight check --json (the program)", |b| {
        b.iter(|| {
            let output = Command::new(env!("CARGO_BIN_EXE_stem-preflight"))
                .args(["check", "--json"])
                .arg(folder)
                .output()
                .expect("the checker runs");
            assert!(output.stdout.starts_with(b"{"), "{output:?}");
        })
    });
}

/// ffmpeg's loudness and true peak over each file in turn.
fn bench_ffmpeg(group: &mut BenchmarkGroup<WallTime>, files: &[PathBuf]) {
    group.bench_function("ffmpeg ebur128 peak=true (each file)", |b| {
        b.iter(|| {
            for file in files {
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
}

fn bench(c: &mut Criterion) {
    let files = delivery_set();
    let mut group = c.benchmark_group("check 6 stems + mix, 4 min 48 kHz 24-bit");
    group.sample_size(10);
    bench_check(&mut group, &files);
    let folder = vec![files[0].parent().expect("a folder").to_path_buf()];
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
    bench_ffmpeg(&mut group, &files);
    group.finish();

    for (seconds, rate) in REAL_SETS {
        let files = real_song_set(seconds, rate);
        // The song may end before `seconds`: name the set by its files' length (24-bit stereo
        // after a 44-byte header).
        let bytes = std::fs::metadata(&files[0]).expect("a set file").len();
        let length = (bytes - 44) as f64 / (6.0 * f64::from(rate));
        let mut group = c.benchmark_group(format!(
            "real song, {} stems + mix, {length:.0} s {rate} Hz 24-bit",
            files.len() - 1
        ));
        group.sample_size(10);
        bench_check(&mut group, &files);
        bench_program(&mut group, &files);
        bench_ffmpeg(&mut group, &files);
        group.bench_function("cat (page-cache read floor)", |b| {
            b.iter(|| {
                let status = Command::new("cat")
                    .args(&files)
                    .stdout(std::process::Stdio::null())
                    .status()
                    .expect("cat runs");
                assert!(status.success());
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
