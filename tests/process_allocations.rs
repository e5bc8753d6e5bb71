//! `process()` never allocates: a debug build with nice-plug's `assert_process_allocs` runs a
//! long, varied session in a child process (a violation aborts the whole process), and a
//! negative control proves that the check does catch an allocation.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Mutex;

use support::clap_host::{debug_build_with_features, Driver, Plugin, Song};
use support::signals::{program, Rng};

/// The child reads the plugin path from this variable.
const CHILD_ENV: &str = "STEM_PREFLIGHT_ALLOC_CHILD";
/// Both builds share one target folder (same dependencies, only our crate differs), so they
/// must not run at the same time.
static BUILD: Mutex<()> = Mutex::new(());

fn build_copy(features: &str, name: &str) -> PathBuf {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let built = debug_build_with_features(features, "target/alloc-check");
    // A private copy: the next build overwrites the original while a child may still load it.
    let copy = built.with_file_name(name);
    std::fs::copy(&built, &copy).expect("copy the plugin");
    copy
}

fn run_child(plugin: &Path) -> ExitStatus {
    Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "--exact",
            "child_session",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, plugin)
        .status()
        .expect("the child runs")
}

#[test]
fn process_never_allocates_over_a_long_varied_session() {
    let plugin = build_copy("assert_process_allocs", "checked.clap");
    let status = run_child(&plugin);
    assert!(
        status.success(),
        "the session failed ({status:?}); a SIGABRT means process() allocated: see the backtrace above"
    );
}

#[test]
fn negative_control_an_allocation_in_process_is_caught() {
    let plugin = build_copy("assert_process_allocs alloc_canary", "canary.clap");
    let status = run_child(&plugin);
    assert_eq!(
        status.signal(),
        Some(6),
        "a plugin that allocates in process() must abort the host with SIGABRT, got {status:?}"
    );
}

/// The session the parent runs in a child process: clips, transport jumps and gaps, parameter
/// changes (some at every sample offset), resets, empty calls and block-size changes, with NaN
/// and Inf mixed in.
#[test]
#[ignore = "runs only as the child process of the two tests above"]
fn child_session() {
    let path = std::env::var_os(CHILD_ENV).expect("started by the parent test");
    let mut plugin = Plugin::load(Path::new(&path));
    let rate = 48_000.0;
    let mut processor = plugin.start(rate, 8192);
    let mut driver = Driver::new(2);
    let mut rng = Rng::new(5);
    // Hot program material: overs, true-peak overs and flat tops all occur.
    let source = program(rate, 6.0, 1.4, 9);
    let mut at = 0usize;
    let mut song_seconds = 0.0;
    for block in 0..900 {
        let n = match block % 7 {
            0 => 1,
            1 => 8192,
            _ => rng.range(1, 2048),
        };
        let mut input: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..n)
                    .map(|i| source[(at + i + c * 1000) % source.len()].clamp(-1.0, 1.0) * 1.1)
                    .collect()
            })
            .collect();
        if block % 50 == 3 {
            input[0][0] = f32::NAN;
            input[1][n - 1] = f32::INFINITY;
        }
        let mut output = vec![vec![0.0f32; n]; 2];
        if block % 40 == 5 {
            driver.set_param("target_peak", rng.unit());
            driver.set_param("role", (block / 40 % 2) as f64);
        }
        if block % 40 == 17 {
            // A parameter event at every sample offset of the block.
            for offset in 0..n as u32 {
                driver.set_param_at(offset, "warning_peak", f64::from(offset % 5) / 5.0);
            }
        }
        // Transport: rolling, jumping back (a loop), missing entirely, stopped.
        let song = match block % 100 {
            0..=59 => Some(Song {
                seconds: song_seconds,
                tempo_bpm: 97.0,
                time_signature: (7, 8),
                playing: true,
            }),
            60 => {
                song_seconds = 1.5;
                Some(Song {
                    seconds: song_seconds,
                    tempo_bpm: 140.0,
                    time_signature: (4, 4),
                    playing: true,
                })
            }
            61..=79 => None,
            _ => Some(Song {
                seconds: song_seconds,
                tempo_bpm: 140.0,
                time_signature: (4, 4),
                playing: false,
            }),
        };
        if block % 10 == 9 {
            // An empty call, as some hosts make between blocks.
            driver.process(
                &mut processor,
                &mut [vec![], vec![]],
                &mut [vec![], vec![]],
                song,
            );
        }
        driver.process(&mut processor, &mut input, &mut output, song);
        plugin.run_main_thread();
        if block % 300 == 299 {
            processor.reset();
        }
        at += n;
        song_seconds += n as f64 / rate;
    }
    // One unbroken pass of 150 s: the pass timeline outgrows its columns and merges them twice.
    let mut song_seconds = 0.0;
    while song_seconds < 150.0 {
        let n = 8192;
        let mut input: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..n)
                    .map(|i| source[(at + i + c * 1000) % source.len()] * 1.1)
                    .collect()
            })
            .collect();
        let mut output = vec![vec![0.0f32; n]; 2];
        let song = Song {
            seconds: song_seconds,
            tempo_bpm: 120.0,
            time_signature: (4, 4),
            playing: true,
        };
        driver.process(&mut processor, &mut input, &mut output, Some(song));
        plugin.run_main_thread();
        at += n;
        song_seconds += n as f64 / rate;
    }
    plugin.stop(processor);
    // At 96 kHz, two passes: the lossy-origin search keeps each sample phase apart.
    let mut processor = plugin.start(96_000.0, 4096);
    for block in 0..400 {
        let n = 1 + block * 37 % 4096;
        let mut input: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..n)
                    .map(|i| source[(at + i + c * 1000) % source.len()])
                    .collect()
            })
            .collect();
        let mut output = vec![vec![0.0f32; n]; 2];
        let song = Song {
            seconds: (block % 200) as f64 * 0.02,
            tempo_bpm: 120.0,
            time_signature: (4, 4),
            playing: block % 200 < 190,
        };
        driver.process(&mut processor, &mut input, &mut output, Some(song));
        plugin.run_main_thread();
        at += n;
    }
    plugin.stop(processor);
}
