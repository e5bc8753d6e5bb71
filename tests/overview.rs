//! One overview of every instance, through a real CLAP host: ten instances in this process see
//! each other, an export of all of them leaves one delivery note written by the last to finish,
//! a second process sees them (and they it) through the status files, and a killed process's
//! entries expire. An export spread over two processes (a sandboxing host) leaves one note
//! listing both, written by the process that finished last.

mod support;

use clack_host::process::StartedPluginAudioProcessor;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use stem_preflight::plugin::delivery::SETTLE;
use stem_preflight::plugin::instance_row::{InstanceRow, Light};
use stem_preflight::plugin::overview::{DELIVERY_NOTE_FILE, HEARTBEAT};
use stem_preflight::plugin::shared::PASS_QUIET_AFTER;
use stem_preflight::plugin::status_file::{read_statuses, STALE_AFTER};
use support::clap_host::{release_bundle, Driver, Plugin, Song, TestHost};

const RATE: f64 = 48_000.0;
const BLOCK: usize = 512;
/// The child process names its instances after this variable's comma-separated value.
const CHILD_NAMES: &str = "STEM_PREFLIGHT_TEST_CHILD_NAMES";
/// The child process exports for this many seconds of audio, in real time.
const CHILD_EXPORT_S: &str = "STEM_PREFLIGHT_TEST_CHILD_EXPORT_S";

/// The tests share the process-wide registry and environment: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Peaks read from a sine whose crest lands on a sample: exact up to float rounding and the
/// true-peak meter's ±0.05 dB (analysis-core issue).
const PEAK_TOLERANCE_DB: f32 = 0.05;

/// A 1 kHz sine of peak `amplitude` (a crest falls on every 48th sample), faded in over 10 ms.
fn sine(amplitude: f32, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|n| {
            let fade = (n as f64 / 480.0).min(1.0);
            (f64::from(amplitude)
                * fade
                * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / RATE).sin()) as f32
        })
        .collect()
}

fn db(gain: f32) -> f32 {
    20.0 * gain.log10()
}

fn fresh(path: PathBuf) -> PathBuf {
    let _ = std::fs::remove_dir_all(&path);
    path
}

/// Runs one test at a time with fresh runtime and report folders of its own, which the plugin
/// instances it creates will use. Returns the lock and the two folders.
fn isolated(name: &str) -> (std::sync::MutexGuard<'static, ()>, PathBuf, PathBuf) {
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let runtime = fresh(tmp.join("runtime"));
    let reports = fresh(tmp.join("reports"));
    std::env::set_var("STEM_PREFLIGHT_RUNTIME_DIR", &runtime);
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &reports);
    (serial, runtime, reports)
}

/// This test binary again, running only the ignored test `test` with `env`, sharing the
/// runtime and report folders; its standard output is piped.
fn spawn_child(
    test: &str,
    env: &[(&str, &str)],
    runtime: &Path,
    reports: &Path,
) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            test,
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(env.iter().copied())
        .env("STEM_PREFLIGHT_RUNTIME_DIR", runtime)
        .env("STEM_PREFLIGHT_REPORT_DIR", reports)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the test binary runs as a child")
}

/// Polls `probe` every 50 ms for up to `limit`.
fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The rows in this process's own status file.
fn own_rows(runtime: &Path) -> Vec<InstanceRow> {
    let path = runtime.join(format!("{}.json", std::process::id()));
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|status| serde_json::from_value(status["instances"].clone()).ok())
        .unwrap_or_default()
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

struct Bus {
    name: &'static str,
    amplitude: f32,
    master: bool,
    clip_at: Option<usize>,
}

impl Bus {
    /// The sample peak its status row must show: full scale once the clip has played.
    fn expected_peak_dbfs(&self) -> f32 {
        if self.clip_at.is_some() {
            0.0
        } else {
            db(self.amplitude)
        }
    }
}

const BUSES: [Bus; 10] = [
    Bus {
        name: "Drums",
        amplitude: 0.891_250_9,
        master: false,
        clip_at: None,
    },
    Bus {
        name: "Bass",
        amplitude: 0.5,
        master: false,
        clip_at: None,
    },
    Bus {
        name: "Vocals",
        amplitude: 0.4,
        master: false,
        clip_at: Some(96_000),
    },
    Bus {
        name: "Music",
        amplitude: 0.3,
        master: false,
        clip_at: None,
    },
    Bus {
        name: "FX",
        amplitude: 0.2,
        master: false,
        clip_at: None,
    },
    Bus {
        name: "Keys",
        amplitude: 0.25,
        master: false,
        clip_at: None,
    },
    Bus {
        name: "Guitars",
        amplitude: 0.35,
        master: false,
        clip_at: None,
    },
    Bus {
        name: "Pads",
        amplitude: 0.15,
        master: false,
        clip_at: None,
    },
    Bus {
        name: "Perc",
        amplitude: 0.6,
        master: false,
        clip_at: None,
    },
    Bus {
        name: "Mix",
        amplitude: 0.45,
        master: true,
        clip_at: None,
    },
];

/// The sheet written with the note: one row per bus with its verdict and its pass timeline,
/// the Vocals clip marked where it happened, the note at the end.
fn delivery_sheet_beside_the_note(reports: &Path, note: &str) {
    let sheet = std::fs::read_to_string(reports.join("Delivery sheet.html"))
        .expect("a delivery sheet beside the note");
    for banned in ["<script", "http://", "https://", "url("] {
        assert!(!sheet.contains(banned), "{banned} in the sheet");
    }
    let section = |name: &str| {
        let start = sheet
            .find(&format!("data-file=\"{name}\""))
            .unwrap_or_else(|| panic!("{name} on the sheet"));
        &sheet[start..sheet[start..].find("</section>").unwrap() + start]
    };
    for bus in &BUSES {
        let name = if bus.master {
            format!("{} (reference mix)", bus.name)
        } else {
            bus.name.to_owned()
        };
        // Every bus's sine stops at the export's end: its tail is cut, a warning.
        let (result, chips) = match bus.name {
            "Vocals" => ("fail", &["clipping", "tail"][..]),
            "Drums" => ("warn", &["headroom", "tail"][..]),
            _ => ("warn", &["tail"][..]),
        };
        let row = section(&name);
        assert!(
            row.contains(&format!("data-result=\"{result}\"")),
            "{name}: {row}"
        );
        // The chips by the verdict, before the row's facts.
        let shown: Vec<&str> = row[..row.find("</div>").unwrap()]
            .split("<span class=\"chip ")
            .skip(2)
            .map(|chip| &chip[chip.find('>').unwrap() + 1..chip.find('<').unwrap()])
            .collect();
        assert_eq!(shown, chips, "{name}");
        assert_eq!(row.matches("class=\"wave\"").count(), 1, "{name}");
        let markers = row.matches("class=\"clip\"").count();
        assert_eq!(markers > 0, bus.clip_at.is_some(), "{name}: {row}");
    }
    // The Vocals clip, 2 s into the 11 s pass: at its time, and there on the strip.
    let vocals = section("Vocals");
    let value = |attribute: &str| -> f64 {
        let at = vocals.find("class=\"clip\"").unwrap();
        let rest = &vocals[at..];
        let start = rest.find(&format!("{attribute}=\"")).unwrap() + attribute.len() + 2;
        rest[start..start + rest[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    assert!((value("data-time") - 2.0).abs() <= 0.1, "{vocals}");
    assert!((value("x1") - 2.0 / 11.0 * 800.0).abs() <= 8.0, "{vocals}");
    assert!(vocals.contains("0:02.0"), "{vocals}");
    let escaped_note = note
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    assert!(sheet.contains(&escaped_note));
}

#[test]
fn instances_see_each_other_and_an_export_leaves_one_delivery_note() {
    let (_serial, runtime, reports) = isolated("overview");

    // Ten instances in this process, each on its own bus with its own signal.
    let frames = (11.0 * RATE) as usize;
    let mut plugins: Vec<Plugin> = BUSES
        .iter()
        .map(|bus| {
            let mut plugin = Plugin::load(release_bundle());
            plugin.set_persisted("stem_name", &Value::from(bus.name));
            plugin
        })
        .collect();
    let signals: Vec<Vec<f32>> = BUSES
        .iter()
        .map(|bus| {
            let mut x = sine(bus.amplitude, frames);
            if let Some(at) = bus.clip_at {
                x[at..at + 3].fill(1.0);
            }
            x
        })
        .collect();
    let mut processors: Vec<_> = plugins
        .iter_mut()
        .map(|p| p.start(RATE, BLOCK as u32))
        .collect();
    let mut drivers: Vec<Driver> = BUSES.iter().map(|_| Driver::new(2)).collect();
    for (driver, bus) in drivers.iter_mut().zip(&BUSES) {
        if bus.master {
            driver.set_param("role", 1.0);
        }
    }
    let song = |at: usize, playing: bool| Song {
        seconds: at as f64 / RATE,
        tempo_bpm: 120.0,
        time_signature: (4, 4),
        playing,
    };
    // The host renders every bus block by block, as fast as it can (an offline export).
    let mut block = |i: usize, playing: bool| {
        for ((processor, driver), x) in processors.iter_mut().zip(&mut drivers).zip(&signals) {
            let start = (i * BLOCK).min(x.len());
            let end = ((i + 1) * BLOCK).min(x.len());
            let chunk = if playing { &x[start..end] } else { &[][..] };
            let chunk = if chunk.is_empty() {
                vec![0.0; BLOCK]
            } else {
                chunk.to_vec()
            };
            let mut input = vec![chunk.clone(), chunk];
            let mut output = input.clone();
            driver.process(
                processor,
                &mut input,
                &mut output,
                Some(song(start, playing)),
            );
            assert_eq!(output, input, "pass-through");
        }
    };
    let blocks = frames.div_ceil(BLOCK);
    let halfway = blocks / 2;
    for i in 0..halfway {
        block(i, true);
    }

    // Halfway through the export, this process's status file lists all ten with their numbers.
    // Wait for a status written after the last block: one a heartbeat older can predate the
    // Vocals clip (seen in CI).
    let rows = wait_for(HEARTBEAT * 4, || {
        let rows = own_rows(&runtime);
        let current = BUSES.iter().all(|bus| {
            rows.iter().any(|r| {
                r.name == bus.name
                    && (r.sample_peak_dbfs - bus.expected_peak_dbfs()).abs() < PEAK_TOLERANCE_DB
            })
        });
        (rows.len() == BUSES.len() && current).then_some(rows)
    })
    .unwrap_or_else(|| panic!("ten rows in the status file, got {:#?}", own_rows(&runtime)));
    for bus in &BUSES {
        let row = rows
            .iter()
            .find(|r| r.name == bus.name)
            .expect("every bus has a row");
        let expected = bus.expected_peak_dbfs();
        assert!(
            (row.sample_peak_dbfs - expected).abs() < PEAK_TOLERANCE_DB,
            "{}: sample peak {} vs {expected}",
            bus.name,
            row.sample_peak_dbfs
        );
        assert!((row.true_peak_dbtp - expected).abs() < PEAK_TOLERANCE_DB || bus.clip_at.is_some());
        assert_eq!(row.master, bus.master, "{}", bus.name);
        assert_eq!(row.limiter, "none");
        let light = match bus.name {
            "Drums" => Light::TooHot,    // -1.0 dBFS
            "Vocals" => Light::Clipped,  // three samples at full scale
            "Perc" => Light::Acceptable, // -4.4 dBFS
            _ => Light::Ready,
        };
        assert_eq!(row.light, light, "{}", bus.name);
        // The three samples at full scale are a sample clip, and maybe an over and a flat top.
        assert_eq!(
            row.clips > 0,
            bus.clip_at.is_some(),
            "{}: {} clips",
            bus.name,
            row.clips
        );
    }

    for i in halfway..blocks {
        block(i, true);
    }
    // The transport stops: each instance ends its pass in turn; the last one writes the note.
    block(blocks, false);
    let note_path = reports.join(DELIVERY_NOTE_FILE);
    let count_reports = || {
        std::fs::read_dir(&reports)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
            .unwrap_or(0)
    };
    wait_for(Duration::from_secs(10), || {
        (count_reports() == BUSES.len() && note_path.exists()).then_some(())
    })
    .expect("ten reports and a delivery note");
    // Every report is valid JSON with the documented schema tag.
    for entry in std::fs::read_dir(&reports).unwrap().filter_map(Result::ok) {
        if entry.path().extension().is_some_and(|x| x == "json") {
            let report: Value =
                serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
            assert_eq!(report["schema"], "stem-preflight-pass-report");
            assert_eq!(report["pass"]["from_project_start"], true);
        }
    }
    // A note written before the last instance finished would have claimed only part of the
    // export; the last writer would then list only the rest. All ten are in it.
    let note = std::fs::read_to_string(&note_path).unwrap();
    for expected in [
        "Tempo:           120 BPM",
        "Time signature:  4/4",
        "Sample rate:     48000 Hz",
        "Mix (reference mix): peak -6.9 dBFS",
        "Bass: peak -6.0 dBFS, true peak -6.0 dBTP, Ready",
        "FX: peak -14.0 dBFS",
        "Drums: Peak -1.0 dBFS: too hot. Lower the Drums bus by 5.0 dB",
        "Vocals: ",
        "Key:             ____",
        "Reference tracks",
    ] {
        assert!(note.contains(expected), "{expected:?} in\n{note}");
    }
    for bus in &BUSES {
        assert!(
            note.contains(&format!("\n  {}", bus.name)),
            "{} in\n{note}",
            bus.name
        );
    }
    assert!(
        note.find("  Mix (reference mix)") > note.find("  Vocals:"),
        "the mix comes last"
    );
    delivery_sheet_beside_the_note(&reports, &note);

    // A second process with two instances: each side sees the other through the status files.
    let mut child = spawn_child(
        "child_process_instances",
        &[(CHILD_NAMES, "Child A,Child B")],
        &runtime,
        &reports,
    );
    let child_pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let seen_by_child = lines
        .by_ref()
        .map_while(Result::ok)
        // libtest may have printed "test child_process_instances ... " on the same line.
        .find_map(|line| {
            line.split_once("CHILD SEES ")
                .map(|(_, seen)| seen.to_owned())
        })
        .expect("the child reports what it sees");
    for bus in &BUSES {
        assert!(
            seen_by_child.contains(bus.name),
            "{} in {seen_by_child}",
            bus.name
        );
    }
    let child_rows = wait_for(HEARTBEAT * 4, || {
        let rows = read_statuses(&runtime, std::process::id(), unix_ms());
        (rows.len() == 2).then_some(rows)
    })
    .expect("this process sees the child's two instances");
    assert!(child_rows
        .iter()
        .all(|r| r.elsewhere && r.name.starts_with("Child ")));

    // Killed: its file stops beating and this process's plugin deletes it.
    child.kill().unwrap();
    child.wait().unwrap();
    let child_file = runtime.join(format!("{child_pid}.json"));
    let killed_at = Instant::now();
    wait_for(STALE_AFTER + HEARTBEAT * 3, || {
        (!child_file.exists()).then_some(())
    })
    .expect("the killed process's status file is removed by the survivors");
    assert!(
        killed_at.elapsed() >= STALE_AFTER - HEARTBEAT,
        "not removed while fresh"
    );
    assert!(read_statuses(&runtime, std::process::id(), unix_ms()).is_empty());

    // The last instance to leave takes this process's status file with it.
    for (plugin, processor) in plugins.iter_mut().zip(processors) {
        plugin.stop(processor);
    }
    drop(plugins);
    assert!(!runtime
        .join(format!("{}.json", std::process::id()))
        .exists());
}

/// Run by the test above as a second process: two instances that stay alive until killed.
#[test]
#[ignore = "run as a child process by the overview test"]
fn child_process_instances() {
    let Ok(names) = std::env::var(CHILD_NAMES) else {
        return;
    };
    let mut plugins: Vec<Plugin> = names
        .split(',')
        .map(|name| {
            let mut plugin = Plugin::load(release_bundle());
            plugin.set_persisted("stem_name", &Value::from(name));
            plugin
        })
        .collect();
    let mut processors: Vec<_> = plugins
        .iter_mut()
        .map(|p| p.start(RATE, BLOCK as u32))
        .collect();
    let x = sine(0.25, BLOCK);
    for processor in &mut processors {
        let mut input = vec![x.clone(), x.clone()];
        let mut output = input.clone();
        Driver::new(2).process(processor, &mut input, &mut output, None);
    }
    let runtime = PathBuf::from(std::env::var_os("STEM_PREFLIGHT_RUNTIME_DIR").unwrap());
    let seen = wait_for(HEARTBEAT * 4, || {
        let rows = read_statuses(&runtime, std::process::id(), unix_ms());
        (rows.len() >= BUSES.len()).then_some(rows)
    })
    .unwrap_or_default();
    let names: Vec<&str> = seen.iter().map(|r| r.name.as_str()).collect();
    println!("CHILD SEES {}", names.join(","));
    // Stay alive (beating) until the parent kills this process; never longer than a minute.
    std::thread::sleep(Duration::from_secs(60));
    drop(processors);
}

/// Instances named `names` (a ` (mix)` suffix makes the reference mix) that count a pass from
/// the project start as an export after one second.
fn export_instances(names: &[&str]) -> (Vec<Plugin>, Vec<Driver>) {
    let plugins = names
        .iter()
        .map(|name| {
            let mut plugin = Plugin::load(release_bundle());
            let name = name.trim_end_matches(" (mix)");
            plugin.set_persisted("stem_name", &Value::from(name));
            plugin.set_persisted("report_min_s", &Value::from(1.0));
            // Played in real time, an export counts only when armed.
            plugin.set_persisted("export_armed", &Value::from(true));
            plugin
        })
        .collect();
    let drivers = names
        .iter()
        .map(|name| {
            let mut driver = Driver::new(2);
            if name.ends_with(" (mix)") {
                driver.set_param("role", 1.0);
            }
            driver
        })
        .collect();
    (plugins, drivers)
}

/// Block `i` of `x` from the project start at 120 BPM in 4/4, or a block of silence with the
/// transport stopped.
fn play_block(
    processor: &mut StartedPluginAudioProcessor<TestHost>,
    driver: &mut Driver,
    x: &[f32],
    i: usize,
    playing: bool,
) {
    let chunk = if playing {
        x[i * BLOCK..(i + 1) * BLOCK].to_vec()
    } else {
        vec![0.0; BLOCK]
    };
    let mut input = vec![chunk.clone(), chunk];
    let mut output = input.clone();
    let song = Song {
        seconds: (i * BLOCK) as f64 / RATE,
        tempo_bpm: 120.0,
        time_signature: (4, 4),
        playing,
    };
    driver.process(processor, &mut input, &mut output, Some(song));
}

/// Plays `seconds` of a sine from the project start through every instance in real time, as a
/// host exports in real time, then stops the transport.
fn export_in_real_time(plugins: &mut [Plugin], drivers: &mut [Driver], seconds: f64) {
    let mut processors: Vec<_> = plugins
        .iter_mut()
        .map(|p| p.start(RATE, BLOCK as u32))
        .collect();
    let x = sine(0.5, (seconds * RATE) as usize + BLOCK);
    let started = Instant::now();
    let blocks = (seconds * RATE) as usize / BLOCK;
    for i in 0..=blocks {
        for (processor, driver) in processors.iter_mut().zip(drivers.iter_mut()) {
            play_block(processor, driver, &x, i, i < blocks);
        }
        // Keep to the clock: the blocks of a real-time export.
        let due = Duration::from_secs_f64(((i + 1) * BLOCK) as f64 / RATE);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    for (plugin, processor) in plugins.iter_mut().zip(processors) {
        plugin.stop(processor);
    }
}

#[test]
fn an_export_across_two_processes_leaves_one_note_listing_both() {
    let (_serial, runtime, reports) = isolated("overview-processes");
    let note_path = reports.join(DELIVERY_NOTE_FILE);

    // This process: Drums and the mix, 3 s. The child: Bass, 4 s, starting a little later, so
    // it finishes last and must be the one to write the note.
    let (mut plugins, mut drivers) = export_instances(&["Drums", "Mix (mix)"]);
    let mut child = spawn_child(
        "child_process_export",
        &[(CHILD_NAMES, "Bass"), (CHILD_EXPORT_S, "4")],
        &runtime,
        &reports,
    );
    let mut child_says = BufReader::new(child.stdout.take().unwrap()).lines();
    // Both processes have their instances loaded before the host presses export.
    assert!(
        child_says
            .by_ref()
            .map_while(Result::ok)
            .any(|line| line.contains("CHILD READY")),
        "the child loads its instances"
    );
    export_in_real_time(&mut plugins, &mut drivers, 3.0);
    // This process has finished; the child is still exporting: no note yet, not a partial one.
    std::thread::sleep(HEARTBEAT / 2);
    assert!(
        !note_path.exists(),
        "a note was written before the export ended"
    );

    // Read to the end: the child still writes after its answer.
    let output: Vec<String> = child_says.map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success(), "{output:#?}");
    let child_says = output
        .iter()
        .find_map(|line| line.split_once("CHILD DONE ").map(|(_, r)| r.to_owned()))
        .expect("the child reports when its export is done");
    assert_eq!(child_says, "the note is there");

    let note = std::fs::read_to_string(&note_path).expect("a delivery note");
    // The true peak includes the waveform's abrupt end where the pass stopped (as the
    // exported file's does): at most a few tenths of a dB over the sine's -6.0.
    for line in [
        "  Bass: peak -6.0 dBFS, true peak -",
        "  Drums: peak -6.0 dBFS, true peak -",
        "  Mix (reference mix): peak -6.0 dBFS",
    ] {
        assert!(note.contains(line), "{line:?} in\n{note}");
    }
    // Written once: no process rewrites it afterwards.
    let written_at = std::fs::metadata(&note_path).unwrap().modified().unwrap();
    std::thread::sleep(HEARTBEAT * 3);
    assert_eq!(
        std::fs::metadata(&note_path).unwrap().modified().unwrap(),
        written_at,
        "the note was written again"
    );
    let reports_written = std::fs::read_dir(&reports)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(reports_written, 3, "one report per instance");
}

#[test]
fn an_instance_the_host_stopped_calling_does_not_hold_the_note_back() {
    let (_serial, _runtime, reports) = isolated("overview-frozen");
    let note_path = reports.join(DELIVERY_NOTE_FILE);
    let (mut plugins, mut drivers) = export_instances(&["Drums", "Frozen"]);
    let mut processors: Vec<_> = plugins
        .iter_mut()
        .map(|p| p.start(RATE, BLOCK as u32))
        .collect();
    // Both render two seconds offline; then the host stops calling Frozen (a frozen or
    // suspended track) while Drums's transport stops. When Drums's report is handled, Frozen
    // has just had a block: its pass still counts as running, and the note waits.
    let x = sine(0.5, 2 * RATE as usize + BLOCK);
    let blocks = 2 * RATE as usize / BLOCK;
    for i in 0..blocks {
        for (processor, driver) in processors.iter_mut().zip(drivers.iter_mut()) {
            play_block(processor, driver, &x, i, true);
        }
    }
    let stopped = Instant::now();
    play_block(&mut processors[0], &mut drivers[0], &x, blocks, false);
    // Once Frozen has been quiet long enough, the heartbeat holds the note for Drums alone and
    // writes it when the status files are fresh.
    let note = wait_for(PASS_QUIET_AFTER + SETTLE + HEARTBEAT * 4, || {
        std::fs::read_to_string(&note_path).ok()
    })
    .expect("a delivery note although Frozen's pass never ended");
    assert!(
        stopped.elapsed() >= PASS_QUIET_AFTER,
        "written while Frozen's pass still counted as running"
    );
    assert!(note.contains("  Drums: peak -6.0 dBFS"), "{note}");
    assert!(!note.contains("Frozen"), "{note}");
    for (plugin, processor) in plugins.iter_mut().zip(processors) {
        plugin.stop(processor);
    }
}

/// Run by the test above as a second process: exports its instances in real time, says when the
/// delivery note lists them, and keeps beating a little.
#[test]
#[ignore = "run as a child process by the two-process export test"]
fn child_process_export() {
    let (Ok(names), Ok(seconds)) = (std::env::var(CHILD_NAMES), std::env::var(CHILD_EXPORT_S))
    else {
        return;
    };
    let names: Vec<&str> = names.split(',').collect();
    let (mut plugins, mut drivers) = export_instances(&names);
    println!("CHILD READY");
    // Start a moment after the parent, as a second sandboxed process would.
    std::thread::sleep(Duration::from_millis(300));
    export_in_real_time(&mut plugins, &mut drivers, seconds.parse().unwrap());
    // The plugin's registry lives in the loaded bundle, not in this test binary: look for the
    // note itself.
    let reports = PathBuf::from(std::env::var_os("STEM_PREFLIGHT_REPORT_DIR").unwrap());
    let note = wait_for(SETTLE + HEARTBEAT * 5, || {
        std::fs::read_to_string(reports.join(DELIVERY_NOTE_FILE))
            .ok()
            .filter(|note| names.iter().all(|n| note.contains(n)))
    });
    println!(
        "CHILD DONE {}",
        if note.is_some() {
            "the note is there"
        } else {
            "no note"
        }
    );
    std::thread::sleep(HEARTBEAT * 2);
    drop(plugins);
}
