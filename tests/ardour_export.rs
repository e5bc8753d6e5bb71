//! The whole chain in a real DAW: Debian's Ardour 7.3, headless, with the VST3 on three
//! tracks and the master, known audio on the tracks, an export with `ardour7-export`, then
//! every instance's report checked against what the audio is known to hold. A second export
//! with x42-dpl driven hard on the master must be flagged by the master instance.
//!
//! Needs `apt-get install --no-install-recommends ardour x42-plugins` (`.ci/run` does it).
//! About a minute: 12 s of the session are recorded in real time from the Dummy backend
//! (Ardour 7.3 cannot import a file without its GUI), and those files are then replaced.

mod support;

use base64::Engine as _;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use stem_preflight::analysis::{gain_to_db, TruePeakMeter};
use stem_preflight::check::decode::AudioReader;
use support::files::{write_wav, Store};
use support::signals::{faded_sine, song};

const RATE: u32 = 48_000;
/// Seconds recorded from the Dummy backend: the length of the regions, so of the export.
const RECORD_S: f64 = 12.0;
/// Silence before the music; Ardour fades every region in over its first ~4400 samples.
const LEAD_IN: usize = 12_000;
/// Ardour's region fades: exported audio is compared away from both ends.
const EDGE: usize = 4_800;
/// Reported dB values against the known signal: the reports are computed in f32.
const PEAK_TOLERANCE_DB: f64 = 0.01;
/// True peak against analytic truth: the analysis core's accuracy (issue 3, ±0.05 dB).
const TRUE_PEAK_TOLERANCE_DB: f64 = 0.05;
/// Positions: the clip is reported at its first sample; one sample of slack for rounding.
const POSITION_TOLERANCE_S: f64 = 1.0 / RATE as f64;
/// The drum bus's deliberate overs: (first sample, values) on the left channel.
const DRUM_OVERS: [(usize, &[f32]); 2] = [(96_000, &[1.25, 1.3, 1.25]), (312_000, &[1.1])];
/// The bass: a sine of known amplitude sounding to the very end (a cut tail).
const BASS_AMPLITUDE: f64 = 0.25;
/// The name typed into the Vocals instance, set through its saved state.
const VOCALS_NAME: &str = "Lead Vocals";

fn ardour_tool(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{name} not found: this test needs Debian's Ardour 7 \
         (apt-get install --no-install-recommends ardour x42-plugins)"
    );
    path
}

/// A command with Ardour kept in `home` and our plugin's files in `work`.
fn ardour(program: &Path, home: &Path, work: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_DATA_HOME")
        .env("STEM_PREFLIGHT_RUNTIME_DIR", work.join("runtime"));
    command
}

fn run(mut command: Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // ardour7-lua reports a failed script on stdout with a zero exit status.
    assert!(
        !stdout.contains("Error: "),
        "{what} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Installs the VST3 into `home/.vst3` and scans it the way Ardour will find it.
fn install_vst3(home: &Path) {
    support::clap_host::release_bundle();
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Stem Preflight.vst3");
    let installed = home.join(".vst3/Stem Preflight.vst3");
    copy_dir(&bundle, &installed);
    // Ardour trusts its scan cache only when the cache is newer than the module, comparing
    // with sub-second precision against a cache stamped in whole seconds: give the module a
    // whole-second time in the past.
    let module = installed.join("Contents/x86_64-linux/Stem Preflight.so");
    std::fs::File::options()
        .write(true)
        .open(&module)
        .and_then(|f| {
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))
        })
        .expect("module time set");
    let mut scan = ardour(
        Path::new("/usr/lib/ardour7/ardour-vst3-scanner"),
        home,
        home,
    );
    scan.env("LD_LIBRARY_PATH", "/usr/lib/ardour7")
        .arg("-f")
        .arg(&installed);
    let log = run(scan, "ardour-vst3-scanner");
    assert!(log.contains("Found Plugin: Stem Preflight"), "{log}");
}

/// Known audio per track (planar stereo), `frames` long.
fn track_audio(frames: usize) -> BTreeMap<&'static str, [Vec<f32>; 2]> {
    let seconds = frames as f64 / f64::from(RATE);
    let with_lead_in = |mut x: Vec<f32>| {
        x.resize(frames, 0.0);
        x[..LEAD_IN].fill(0.0);
        x
    };
    // Drums: a song-like bus at -10.5 dBFS whose last 1.5 s are silent (a clean tail), with
    // overs baked in on the left.
    let mut drums = with_lead_in(song(f64::from(RATE), seconds, 0.3, 11));
    drums[frames - 72_000..].fill(0.0);
    let drums_right: Vec<f32> = drums.iter().map(|s| s * 0.8).collect();
    for (start, values) in DRUM_OVERS {
        drums[start..start + values.len()].copy_from_slice(values);
    }
    // Bass: a sine from after the lead-in to the end of the region.
    let mut bass = vec![0.0; LEAD_IN];
    bass.extend(faded_sine(
        f64::from(RATE),
        110.0,
        BASS_AMPLITUDE,
        0.0,
        10.0,
        (frames - LEAD_IN) as f64 / f64::from(RATE),
    ));
    let bass = with_lead_in(bass);
    // Vocals: quieter, silent for the last 2 s.
    let mut vocals = with_lead_in(song(f64::from(RATE), seconds, 0.2, 12));
    vocals[frames - 96_000..].fill(0.0);
    BTreeMap::from([
        ("Drums", [drums, drums_right]),
        ("Bass", [bass.clone(), bass]),
        ("Vocals", [vocals.clone(), vocals]),
    ])
}

/// The capture files Ardour recorded for `track`, left then right.
fn capture_files(session: &Path, track: &str) -> [PathBuf; 2] {
    let interchange = std::fs::read_dir(session.join("interchange"))
        .unwrap()
        .next()
        .expect("an interchange folder")
        .unwrap()
        .path();
    let audio = interchange.join("audiofiles");
    ["L", "R"].map(|side| audio.join(format!("Take1_{track}-1%{side}.wav")))
}

fn read_planar(path: &Path) -> Vec<Vec<f32>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = AudioReader::new(std::io::BufReader::new(file)).expect("a readable WAV");
    let format = reader.format();
    let mut channels = vec![Vec::new(); usize::from(format.channels)];
    let frames = reader
        .read_planar(&mut channels, format.frames as usize)
        .expect("audio read");
    assert_eq!(frames as u64, format.frames);
    channels
}

/// Replaces the `stem_name` in the saved state of the plugin on route `route`.
fn set_stem_name_in_state(session_file: &Path, route: &str, name: &str) {
    let xml = std::fs::read_to_string(session_file).unwrap();
    let route_at = xml
        .match_indices("<Route ")
        .map(|(at, _)| at)
        .find(|&at| {
            let tag_end = at + xml[at..].find('>').unwrap();
            xml[at..tag_end].contains(&format!(" name=\"{route}\" "))
        })
        .expect("the route in the session file");
    let open = route_at + xml[route_at..].find("<chunk>").expect("the plugin's state") + 7;
    let close = open + xml[open..].find("</chunk>").unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let chunk = engine
        .decode(xml[open..close].trim())
        .expect("base64 state");
    let edited = engine.encode(vst3_state_with_name(&chunk, name));
    std::fs::write(
        session_file,
        format!("{}{edited}{}", &xml[..open], &xml[close..]),
    )
    .unwrap();
}

/// A VST3 state blob (the `.vstpreset` layout: "VST3", version, class id, chunk-list offset,
/// data, then a "List" of (id, offset, size)) with the component state's JSON changed so
/// that `fields.stem_name` is `name`.
fn vst3_state_with_name(blob: &[u8], name: &str) -> Vec<u8> {
    let u64_at = |at: usize| u64::from_le_bytes(blob[at..at + 8].try_into().unwrap()) as usize;
    assert_eq!(&blob[..4], b"VST3");
    let list = u64_at(40);
    assert_eq!(&blob[list..list + 4], b"List");
    let count = u32::from_le_bytes(blob[list + 4..list + 8].try_into().unwrap()) as usize;
    let mut chunks: Vec<([u8; 4], Vec<u8>)> = (0..count)
        .map(|i| {
            let entry = list + 8 + i * 20;
            let (offset, size) = (u64_at(entry + 4), u64_at(entry + 12));
            (
                blob[entry..entry + 4].try_into().unwrap(),
                blob[offset..offset + size].to_vec(),
            )
        })
        .collect();
    let component = chunks
        .iter_mut()
        .find(|(id, _)| id == b"Comp")
        .expect("a component state");
    let mut state: Value = serde_json::from_slice(&component.1).expect("nice-plug's JSON state");
    // Persisted fields are stored as JSON text.
    state["fields"]["stem_name"] = Value::String(serde_json::to_string(name).unwrap());
    component.1 = serde_json::to_vec(&state).unwrap();
    let mut out = blob[..40].to_vec();
    let data_len: usize = chunks.iter().map(|(_, data)| data.len()).sum();
    out.extend_from_slice(&((48 + data_len) as u64).to_le_bytes());
    let mut offset = 48u64;
    let mut list_bytes = b"List".to_vec();
    list_bytes.extend_from_slice(&(count as u32).to_le_bytes());
    for (id, data) in &chunks {
        out.extend_from_slice(data);
        list_bytes.extend_from_slice(id);
        list_bytes.extend_from_slice(&offset.to_le_bytes());
        list_bytes.extend_from_slice(&(data.len() as u64).to_le_bytes());
        offset += data.len() as u64;
    }
    out.extend_from_slice(&list_bytes);
    out
}

fn export(home: &Path, work: &Path, session: &Path, reports: &Path) -> Vec<Vec<f32>> {
    let output = work.join(format!(
        "{}.wav",
        reports.file_name().unwrap().to_string_lossy()
    ));
    let mut command = ardour(&ardour_tool("ardour7-export"), home, work);
    command
        .env("STEM_PREFLIGHT_REPORT_DIR", reports)
        .args(["-b", "float", "-o"])
        .arg(&output)
        .arg(session)
        .arg("Export");
    run(command, "ardour7-export");
    read_planar(&output)
}

/// The reports in `folder` by stem name.
fn reports(folder: &Path) -> BTreeMap<String, Value> {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let report: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            (report["name"].as_str().unwrap().to_owned(), report)
        })
        .collect()
}

fn number_at(report: &Value, pointer: &str) -> f64 {
    report
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} missing in {report:#}"))
}

fn max_abs_db(channels: &[Vec<f32>]) -> f64 {
    let peak = channels
        .iter()
        .flatten()
        .fold(0.0f32, |m, s| m.max(s.abs()));
    f64::from(gain_to_db(peak))
}

fn true_peak_db(channels: &[Vec<f32>]) -> f64 {
    let peak = channels
        .iter()
        .map(|channel| {
            let mut meter = TruePeakMeter::new();
            meter.process(channel, |_, _| {});
            meter.process(&[0.0; 64], |_, _| {});
            meter.max()
        })
        .fold(0.0f32, f32::max);
    f64::from(gain_to_db(peak))
}

/// Runs of consecutive samples at or above full scale, counted per channel.
fn clip_runs(channels: &[Vec<f32>]) -> u64 {
    channels
        .iter()
        .map(|channel| {
            channel
                .windows(2)
                .filter(|w| w[0].abs() < 1.0 && w[1].abs() >= 1.0)
                .count() as u64
        })
        .sum()
}

#[test]
#[ignore = "needs Ardour 7 and x42-plugins: cargo xtask test --all"]
fn an_ardour_export_is_reported_by_every_instance_and_a_master_limiter_is_caught() {
    let lua = ardour_tool("ardour7-lua");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/tmp/ardour-export");
    let _ = std::fs::remove_dir_all(&work);
    let home = work.join("home");
    std::fs::create_dir_all(&home).unwrap();
    install_vst3(&home);

    // The session: three tracks and the master, each with Stem Preflight; regions recorded.
    let session = work.join("Export");
    let mut create = ardour(&ardour_tool("ardour7-new_session"), &home, &work);
    create
        .args(["-s", &RATE.to_string()])
        .arg(&session)
        .arg("Export");
    run(create, "ardour7-new_session");
    let mut build = ardour(&lua, &home, &work);
    build
        .env("SP_SESSION_DIR", &session)
        .env("SP_SESSION_NAME", "Export")
        .env("SP_RECORD_SECONDS", RECORD_S.to_string())
        .arg(root.join("tests/ardour/build_session.lua"));
    let log = run(build, "ardour7-lua build_session.lua");
    assert_eq!(log.matches("region ").count(), 3, "{log}");
    assert!(
        log.contains("role 1.0"),
        "the master's role did not reach Ardour:\n{log}"
    );

    // Known audio in place of the recorded silence, the same length and format.
    let frames = read_planar(&capture_files(&session, "Drums")[0])[0].len();
    assert!(
        frames > (RECORD_S as usize - 2) * RATE as usize,
        "region of {frames} frames"
    );
    let audio = track_audio(frames);
    for (track, channels) in &audio {
        for (path, channel) in capture_files(&session, track).iter().zip(channels) {
            assert_eq!(read_planar(path)[0].len(), frames, "{}", path.display());
            write_wav(path, RATE, std::slice::from_ref(channel), Store::Float32);
        }
    }
    let mix: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..frames)
                .map(|n| audio.values().map(|channels| channels[c][n]).sum())
                .collect()
        })
        .collect();
    set_stem_name_in_state(&session.join("Export.ardour"), "Vocals", VOCALS_NAME);

    // Export 1: the clean session.
    let clean_folder = work.join("reports-clean");
    let exported = export(&home, &work, &session, &clean_folder);
    assert_eq!(exported.len(), 2);
    assert_eq!(
        exported[0].len(),
        frames,
        "the export covers the session range"
    );
    // The plugin passes audio through bit for bit, so the export is the tracks' float sum up to
    // the order Ardour adds them in, which varies between runs (its process graph is
    // threaded): within the rounding of a three-term sum, 2 ε Σ|x|.
    for (c, channel) in exported.iter().enumerate() {
        for n in EDGE..frames - EDGE {
            let magnitude: f32 = audio.values().map(|track| track[c][n].abs()).sum();
            assert!(
                (channel[n] - mix[c][n]).abs() <= 2.0 * f32::EPSILON * magnitude,
                "channel {c}, sample {n}: exported {} but the tracks sum to {}",
                channel[n],
                mix[c][n]
            );
        }
    }

    let clean = reports(&clean_folder);
    let names: Vec<&str> = clean.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["Bass", "Drums", "Lead Vocals", "Master"],
        "one report per instance"
    );
    let expected: BTreeMap<&str, Vec<Vec<f32>>> = [
        ("Drums", audio["Drums"].to_vec()),
        ("Bass", audio["Bass"].to_vec()),
        (VOCALS_NAME, audio["Vocals"].to_vec()),
        ("Master", mix.clone()),
    ]
    .into();
    for (name, channels) in &expected {
        let report = &clean[*name];
        println!(
            "{name}: peak {:.3} dBFS, true peak {:.3} dBTP, {} clips, start {}, offline {}, limiter {}",
            number_at(report, "/sample_peak_dbfs"),
            number_at(report, "/true_peak_dbtp"),
            report["clips"]["sample"],
            report["pass"]["start"],
            report["pass"]["offline"],
            report["limiter"]["verdict"],
        );
        assert_eq!(
            report["role"],
            if *name == "Master" { "master" } else { "stem" },
            "{name}"
        );
        assert_eq!(
            report["pass"]["from_project_start"], true,
            "{name}: {report:#}"
        );
        assert!(number_at(report, "/pass/duration_s") >= frames as f64 / f64::from(RATE) - 0.01);
        let (peak, true_peak) = (max_abs_db(channels), true_peak_db(channels));
        assert!(
            (number_at(report, "/sample_peak_dbfs") - peak).abs() < PEAK_TOLERANCE_DB,
            "{name}: sample peak {} dBFS, the audio's is {peak:.3}",
            number_at(report, "/sample_peak_dbfs")
        );
        assert!(
            (number_at(report, "/true_peak_dbtp") - true_peak).abs() < TRUE_PEAK_TOLERANCE_DB,
            "{name}: true peak {} dBTP, expected {true_peak:.3}",
            number_at(report, "/true_peak_dbtp")
        );
        assert_eq!(
            report["clips"]["sample"].as_u64(),
            Some(clip_runs(channels)),
            "{name}"
        );
        assert_eq!(report["limiter"]["verdict"], "none", "{name}: {report:#}");
    }

    // The bass is a sine of known amplitude: its true peak is analytic.
    let analytic = 20.0 * BASS_AMPLITUDE.log10();
    assert!(
        (number_at(&clean["Bass"], "/true_peak_dbtp") - analytic).abs() < TRUE_PEAK_TOLERANCE_DB
    );
    // The drum bus clipped at 2.000 s: bar 2, beat 1 at Ardour's default 120 BPM in 4/4.
    let drums = &clean["Drums"];
    assert_eq!(drums["status"], "Clipped");
    assert_eq!(drums["clips"]["sample"], 2);
    let first = &drums["clips"]["first"][0]["position"];
    let at = DRUM_OVERS[0].0 as f64 / f64::from(RATE);
    assert!(
        (number_at(first, "/seconds") - at).abs() <= POSITION_TOLERANCE_S,
        "{first}"
    );
    assert_eq!(first["bar"], 2, "{first}");
    assert!((number_at(first, "/beat") - 1.0).abs() < 0.01, "{first}");
    // Tails: the bass sounds to the last sample, the others had decayed.
    assert_eq!(clean["Bass"]["tail"]["cut"], true);
    assert_eq!(drums["tail"]["cut"], false);
    assert_eq!(clean[VOCALS_NAME]["tail"]["cut"], false);
    let note = std::fs::read_to_string(clean_folder.join("Delivery note.txt")).unwrap();
    for name in expected.keys() {
        let listed = note
            .lines()
            .any(|line| line.starts_with(&format!("  {name}")) && line.contains(": peak "));
        assert!(listed, "{name} missing from:\n{note}");
    }

    // Export 2: x42-dpl on the master, before Stem Preflight, 12 dB into -1 dBFS.
    let mut limit = ardour(&lua, &home, &work);
    limit
        .env("SP_SESSION_DIR", &session)
        .env("SP_SESSION_NAME", "Export")
        .env("SP_LIMITER_GAIN_DB", "12")
        .env("SP_LIMITER_CEILING_DB", "-1")
        .arg(root.join("tests/ardour/add_limiter.lua"));
    run(limit, "ardour7-lua add_limiter.lua");
    let limited_folder = work.join("reports-limited");
    export(&home, &work, &session, &limited_folder);
    let limited = reports(&limited_folder);
    let master = &limited["Master"];
    println!("limited master: {:#}", master["limiter"]);
    let verdict = master["limiter"]["verdict"].as_str().unwrap();
    assert!(verdict == "likely" || verdict == "certain", "{master:#}");
    assert!(
        number_at(master, "/sample_peak_dbfs") <= -1.0 + PEAK_TOLERANCE_DB,
        "{master:#}"
    );
    // The limiter's look-ahead makes Ardour pre-roll the export: still the project start.
    assert!(
        number_at(master, "/pass/start/seconds") < -0.02,
        "{master:#}"
    );
    assert_eq!(master["pass"]["from_project_start"], true, "{master:#}");
    let text = std::fs::read_dir(&limited_folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("Master.txt"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .expect("the master's readable report");
    assert!(text.to_lowercase().contains("limiter"), "{text}");
    let note = std::fs::read_to_string(limited_folder.join("Delivery note.txt"))
        .expect("the limited export's delivery note");
    // What still needs attention: the master's limiter, with its fix.
    assert!(
        note.lines()
            .any(|l| l.contains("Master: ") && l.to_lowercase().contains("limiter")),
        "{note}"
    );
    for stem in ["Drums", "Bass", VOCALS_NAME] {
        assert_eq!(limited[stem]["limiter"]["verdict"], "none", "{stem}");
    }
}
