//! Bounce awareness through a real CLAP host: passes are recognised from the transport, and
//! each pass that looks like an export leaves a JSON and a text report with the right numbers.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use stem_preflight::check::{check, CheckOptions};
use stem_preflight::plugin::overview::DELIVERY_NOTE_FILE;
use support::clap_host::{release_bundle, Driver, Plugin, Song};
use support::dynamics::limit;
use support::files::{write_wav, Store};
use support::signals::song;

const RATE: f64 = 48_000.0;
const BLOCK: usize = 512;
/// The report folder comes from the environment, which the plugin reads on its background
/// thread: one test at a time sets it.
static REPORT_DIR: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A 1 kHz sine at 0.5 (-6.02 dBFS) on both channels, faded in over 10 ms; with `clip_at`, three
/// samples at full scale there; with `fade_out`, it dies away over the last 1.5 s.
fn signal(seconds: f64, clip_at: Option<usize>, fade_out: bool) -> Vec<f32> {
    let len = (seconds * RATE) as usize;
    let end = len as f64 - 1.5 * RATE;
    let mut x: Vec<f32> = (0..len)
        .map(|n| {
            let fade_in = (n as f64 / 480.0).min(1.0);
            let fade = if fade_out {
                ((end + 0.5 * RATE - n as f64) / (0.5 * RATE)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            (0.5 * fade_in * fade * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / RATE).sin())
                as f32
        })
        .collect();
    if let Some(at) = clip_at {
        x[at..at + 3].fill(1.0);
    }
    x
}

/// Plays `x` on both channels from `start_s` with the transport rolling, then one stopped
/// block. `paced` feeds blocks no faster than real time (otherwise the plugin rightly takes it
/// for an offline render).
fn play(plugin: &mut Plugin, x: &[f32], start_s: f64, paced: bool) {
    play_stereo(plugin, &[x.to_vec(), x.to_vec()], RATE, start_s, paced);
}

/// [`play`] for stereo `audio` at `rate`.
fn play_stereo(plugin: &mut Plugin, audio: &[Vec<f32>], rate: f64, start_s: f64, paced: bool) {
    let mut processor = plugin.start(rate, BLOCK as u32);
    let mut driver = Driver::new(2);
    let song = |at: usize, playing: bool| Song {
        seconds: start_s + at as f64 / rate,
        tempo_bpm: 120.0,
        time_signature: (4, 4),
        playing,
    };
    let frames = audio[0].len();
    for at in (0..frames).step_by(BLOCK) {
        let n = BLOCK.min(frames - at);
        let mut input: Vec<Vec<f32>> = audio.iter().map(|c| c[at..at + n].to_vec()).collect();
        let mut output = vec![vec![0.0; n]; 2];
        driver.process(
            &mut processor,
            &mut input,
            &mut output,
            Some(song(at, true)),
        );
        assert_eq!(output, input, "pass-through");
        if paced {
            std::thread::sleep(std::time::Duration::from_secs_f64(n as f64 / rate));
        }
    }
    let mut input = vec![vec![0.0; BLOCK]; 2];
    let mut output = input.clone();
    driver.process(
        &mut processor,
        &mut input,
        &mut output,
        Some(song(frames, false)),
    );
    plugin.stop(processor);
}

/// Waits for the background thread to write the report into `folder`.
fn report_in(folder: &Path) -> (Value, String) {
    for _ in 0..500 {
        let found: Vec<PathBuf> = std::fs::read_dir(folder)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        let json = found
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "json"));
        let text = found
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "txt"));
        if let (Some(json), Some(text)) = (json, text) {
            let report = serde_json::from_str(&std::fs::read_to_string(json).unwrap())
                .expect("the report is valid JSON");
            return (report, std::fs::read_to_string(text).unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no report in {}", folder.display());
}

/// Report files in `folder`: not the delivery note next to them, nor a file still being
/// written (a hidden temporary).
fn report_files(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != DELIVERY_NOTE_FILE && !name.starts_with('.'))
        .collect()
}

fn folder(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pass_reports")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The fields the README documents, with their types.
fn assert_schema(report: &Value) {
    assert_eq!(report["schema"], "stem-preflight-pass-report");
    assert_eq!(report["version"], 1);
    for key in ["written_at", "name", "role", "status"] {
        assert!(report[key].is_string(), "{key}: {report:#}");
    }
    for key in ["sample_peak_dbfs", "true_peak_dbtp", "non_finite_samples"] {
        assert!(report[key].is_number(), "{key}");
    }
    assert!(report["pass"]["from_project_start"].is_boolean());
    assert!(report["pass"]["duration_s"].is_number());
    assert!(report["pass"]["start"]["seconds"].is_number());
    assert!(report["clips"]["first"].is_array());
    assert!(report["limiter"]["verdict"].is_string());
    assert!(report["tail"]["cut"].is_boolean());
    assert!(report["findings"].is_array());
}

/// One test, scenarios in sequence: the report folder comes from the environment.
#[test]
fn passes_leave_reports_with_the_right_numbers() {
    let _env = REPORT_DIR.lock().unwrap_or_else(|e| e.into_inner());
    let mut plugin = Plugin::load(release_bundle());

    // A pass from the project start: clipped at 2.000 s (bar 2, beat 1 at 120 BPM), decayed.
    let first = folder("from-start");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &first);
    play(&mut plugin, &signal(12.0, Some(96_000), true), 0.0, false);
    let (report, text) = report_in(&first);
    assert_schema(&report);
    assert_eq!(report["pass"]["from_project_start"], true);
    assert_eq!(report["pass"]["sample_rate"], RATE);
    assert_eq!(report["pass"]["tempo_bpm"], 120.0);
    assert_eq!(report["pass"]["time_signature"], "4/4");
    let duration = report["pass"]["duration_s"].as_f64().unwrap();
    assert!((duration - 12.0).abs() < BLOCK as f64 / RATE, "{duration}");
    assert_eq!(report["status"], "Clipped");
    assert_eq!(report["clips"]["sample"], 2, "one run per channel");
    assert_eq!(report["sample_peak_dbfs"], 0.0);
    let first_clip = &report["clips"]["first"][0];
    assert_eq!(first_clip["length_samples"], 3);
    assert!((first_clip["position"]["seconds"].as_f64().unwrap() - 2.0).abs() < 1e-9);
    assert_eq!(first_clip["position"]["bar"], 2);
    assert_eq!(report["tail"]["cut"], false);
    assert!(
        text.contains("clip at 0:02.000 (bar 2, beat 1.00)"),
        "{text}"
    );

    // A pass from bar 17 (32 s) that stops while the sine still sounds at -9 dBFS RMS.
    let second = folder("bar-17");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &second);
    play(&mut plugin, &signal(12.0, None, false), 32.0, false);
    let (report, _) = report_in(&second);
    assert_schema(&report);
    assert_eq!(report["pass"]["from_project_start"], false);
    assert_eq!(report["pass"]["start"]["bar"], 17);
    // A sine of peak 0.5 has an RMS of -9.03 dBFS; the true peak is the sine's peak.
    assert!((report["true_peak_dbtp"].as_f64().unwrap() - -6.02).abs() < 0.05);
    assert!((report["tail"]["end_level_dbfs"].as_f64().unwrap() - -9.03).abs() < 0.1);
    assert_eq!(report["tail"]["cut"], true);
    // A 1 kHz sine of peak 0.5 on both channels is -6.02 LUFS (BS.1770's offset cancels the
    // K-weighting's gain at 1 kHz); steady, so its loudness range is 0 and its PLR 0 dB.
    let loudness = &report["loudness"];
    let integrated = loudness["integrated_lufs"].as_f64().unwrap();
    assert!((integrated - -6.02).abs() < 0.02, "{loudness}");
    assert!(
        loudness["range_lu"].as_f64().unwrap().abs() < 0.05,
        "{loudness}"
    );
    assert!(
        loudness["plr_db"].as_f64().unwrap().abs() < 0.05,
        "{loudness}"
    );
    // -6.02 dBTP is just under the -6 dBFS target.
    assert_eq!(report["status"], "Ready");
    let findings: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.contains("not at the project start")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.contains("still sounding at -9 dBFS")),
        "{findings:?}"
    );

    // Playing a part of the song in real time is a rehearsal, not an export: no report.
    let third = folder("rehearsal");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &third);
    play(&mut plugin, &signal(2.0, None, true), 10.0, true);
    // The next export's report proves the background thread has run past the rehearsal.
    play(&mut plugin, &signal(12.0, None, true), 0.0, false);
    let (report, _) = report_in(&third);
    assert_eq!(report["pass"]["from_project_start"], true);
    assert_eq!(
        report["pass"]["offline"], true,
        "blocks came much faster than real time"
    );
    assert_eq!(report_files(&third).len(), 2, "one JSON and one text file");

    // The host switches to 96 kHz between passes: the next report says so, and its length
    // comes from the new rate (288 000 frames = 3 s).
    let fourth = folder("96k");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &fourth);
    let mut processor = plugin.start(96_000.0, BLOCK as u32);
    let mut driver = Driver::new(2);
    let x = signal(6.0, None, true);
    for (i, block) in x.chunks(BLOCK).enumerate() {
        let song = Song {
            seconds: (i * BLOCK) as f64 / 96_000.0,
            tempo_bpm: 120.0,
            time_signature: (4, 4),
            playing: true,
        };
        let mut input = vec![block.to_vec(), block.to_vec()];
        let mut output = vec![vec![0.0; block.len()]; 2];
        driver.process(&mut processor, &mut input, &mut output, Some(song));
    }
    plugin.stop(processor); // deactivation ends the pass
    let (report, _) = report_in(&fourth);
    assert_eq!(report["pass"]["sample_rate"], 96_000.0);
    assert!((report["pass"]["duration_s"].as_f64().unwrap() - 3.0).abs() < 0.01);

    // A host that renders with a transport stuck at the project start: still one export pass,
    // as long as the audio.
    let fifth = folder("stuck-transport");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &fifth);
    let x = signal(11.0, None, true);
    let stuck = Song {
        seconds: 0.0,
        tempo_bpm: 120.0,
        time_signature: (4, 4),
        playing: true,
    };
    let mut processor = plugin.start(RATE, BLOCK as u32);
    let mut driver = Driver::new(2);
    for block in x.chunks(BLOCK) {
        let mut input = vec![block.to_vec(), block.to_vec()];
        let mut output = vec![vec![0.0; block.len()]; 2];
        driver.process(&mut processor, &mut input, &mut output, Some(stuck));
    }
    plugin.stop(processor);
    let (report, _) = report_in(&fifth);
    assert_schema(&report);
    assert_eq!(report["pass"]["from_project_start"], true);
    assert!((report["pass"]["duration_s"].as_f64().unwrap() - 11.0).abs() < 0.011);
    assert!((report["sample_peak_dbfs"].as_f64().unwrap() - -6.02).abs() < 0.01);

    // A host that stops and starts processing around every block (CLAP allows it): the pass
    // follows the transport, not the processing calls, so it is one pass with every block.
    let sixth = folder("start-stop-every-block");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &sixth);
    let mut processor = plugin.start(RATE, BLOCK as u32);
    let mut driver = Driver::new(2);
    for (i, block) in x.chunks(BLOCK).enumerate() {
        let mut input = vec![block.to_vec(), block.to_vec()];
        let mut output = vec![vec![0.0; block.len()]; 2];
        let song = Song {
            seconds: (i * BLOCK) as f64 / RATE,
            ..stuck
        };
        driver.process(&mut processor, &mut input, &mut output, Some(song));
        assert_eq!(output, input, "pass-through");
        processor = processor
            .stop_processing()
            .start_processing()
            .expect("processing restarts");
    }
    plugin.stop(processor);
    let (report, _) = report_in(&sixth);
    assert!((report["pass"]["duration_s"].as_f64().unwrap() - 11.0).abs() < 0.011);
    assert!((report["true_peak_dbtp"].as_f64().unwrap() - -6.02).abs() < 0.05);
    let files = report_files(&sixth);
    assert_eq!(files.len(), 2, "one pass, one report: {files:?}");

    // A pass that ends on full-scale samples.
    // Without ending the analyzers at the pass's end, the open run of full-scale samples
    // (and the last samples' true peak) would stay unreported.
    let dir = folder("ends-on-a-clip");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &dir);
    let mut x = signal(12.0, None, true);
    let len = x.len();
    x[len - 3..].fill(1.0);
    play(&mut plugin, &x, 0.0, false);
    let (report, _) = report_in(&dir);
    assert_eq!(
        report["clips"]["sample"], 2,
        "one run per channel: {report}"
    );
    assert_eq!(report["status"], "Clipped");
    let first_clip = &report["clips"]["first"][0];
    assert_eq!(first_clip["length_samples"], 3);
    let at_s = first_clip["position"]["seconds"].as_f64().unwrap();
    assert!((at_s - (len - 3) as f64 / RATE).abs() < 1e-9, "{at_s}");
    // Three samples at full scale after silence reconstruct to at least full scale.
    assert!(
        report["true_peak_dbtp"].as_f64().unwrap() >= 0.0,
        "{report}"
    );

    // Listening is not exporting: 200 real-time passes from the start write nothing. (The
    // minimum length is lowered so 200 passes take half a minute; the rule is the same.)
    let listening = folder("listening");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &listening);
    plugin.set_persisted("report_min_s", &Value::from(0.1));
    let short = signal(0.15, None, false);
    for _ in 0..200 {
        play(&mut plugin, &short, 0.0, true);
    }
    // Armed, the next real-time pass is an export; its report proves the writer has handled
    // the 200 before it.
    plugin.set_persisted("export_armed", &Value::from(true));
    play(&mut plugin, &short, 0.0, true);
    let (report, _) = report_in(&listening);
    assert_eq!(report["pass"]["offline"], false, "{report}");
    assert_eq!(report["pass"]["from_project_start"], true);
    let files = report_files(&listening);
    assert_eq!(files.len(), 2, "only the armed pass was saved: {files:?}");
    // The arm lasts one export: the next real-time pass is playback again. An offline export
    // after it shows the writer got past it.
    play(&mut plugin, &short, 0.0, true);
    play(&mut plugin, &signal(1.0, None, false), 0.0, false);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while report_files(&listening).len() < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let files = report_files(&listening);
    assert_eq!(
        files.len(),
        4,
        "the armed and the offline export: {files:?}"
    );

    // The plugin and the checker agree: one song limited 8 dB into -0.3 dBFS, exported by the
    // plugin and checked as a file. (Clip counts agree on the clipped passes above too: both
    // run the same ChannelAnalyzer, whatever the block size.)
    let agree = folder("plugin-and-checker");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &agree);
    let mix = limit(
        &song(RATE, 20.0, 0.5, 11),
        RATE,
        8.0,
        10f64.powf(-0.3 / 20.0),
    );
    play(&mut plugin, &mix, 0.0, false);
    let (plugin_report, _) = report_in(&agree);
    let files = folder("plugin-and-checker-files");
    std::fs::create_dir_all(&files).unwrap();
    let wav = files.join("Parity_Mix.wav");
    write_wav(&wav, RATE as u32, &[mix.clone(), mix], Store::Float32);
    let checked = check(&[wav], &CheckOptions::default(), &|_, _| {}).unwrap();
    let checked = serde_json::to_value(&checked.files[0].measured).unwrap();
    let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    for (plugin_key, checker_key, tolerance) in [
        ("/sample_peak_dbfs", "/sample_peak_dbfs", 0.0),
        ("/true_peak_dbtp", "/true_peak_dbtp", 1e-4),
        ("/clips/sample", "/clips/sample", 0.0),
        ("/clips/true_peak", "/clips/true_peak", 0.0),
        ("/clips/flat_top", "/clips/flat_top", 0.0),
        ("/limiter/ceiling_dbfs", "/limiter/ceiling_dbfs", 0.0),
        (
            "/loudness/integrated_lufs",
            "/loudness/integrated_lufs",
            1e-6,
        ),
        ("/loudness/range_lu", "/loudness/range_lu", 1e-6),
        ("/loudness/plr_db", "/loudness/plr_db", 1e-4),
    ] {
        let (a, b) = (
            number(plugin_report.pointer(plugin_key).unwrap()),
            number(checked.pointer(checker_key).unwrap()),
        );
        assert!(
            (a - b).abs() <= tolerance,
            "{plugin_key}: plugin {a}, checker {b}\n{plugin_report:#}\n{checked:#}"
        );
    }
    assert_eq!(
        plugin_report["limiter"]["verdict"], checked["limiter"]["verdict"],
        "{plugin_report:#}\n{checked:#}"
    );
    assert_ne!(plugin_report["limiter"]["verdict"], "none");

    // The same DC finding from both: a song on 2 % DC in the left channel only.
    let dc = folder("dc-offset");
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &dc);
    let clean = song(RATE, 12.0, 0.5, 5);
    let offset: Vec<f32> = clean.iter().map(|x| x + 0.02).collect();
    play_stereo(
        &mut plugin,
        &[offset.clone(), clean.clone()],
        RATE,
        0.0,
        false,
    );
    let (plugin_report, _) = report_in(&dc);
    let wav = files.join("Parity_Bass.wav");
    write_wav(&wav, RATE as u32, &[offset, clean], Store::Float32);
    let checked = check(&[wav], &CheckOptions::default(), &|_, _| {}).unwrap();
    let file = &checked.files[0];
    let checker_dc = &serde_json::to_value(&file.measured).unwrap()["dc_offset_dbfs"];
    for channel in 0..2 {
        let (a, b) = (
            number(&plugin_report["channels"][channel]["dc_offset_dbfs"]),
            number(&checker_dc[channel]),
        );
        assert!(
            (a - b).abs() < 1e-3,
            "channel {channel}: plugin {a}, checker {b}"
        );
    }
    let said: Vec<&str> = plugin_report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|f| f.starts_with("DC offset"))
        .collect();
    let checker_said: Vec<&str> = file
        .findings
        .iter()
        .filter(|f| f.check.name() == "dc-offset")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(said, checker_said);
    assert_eq!(said.len(), 1, "{plugin_report:#}");
    assert!(said[0].contains("on the left channel"), "{}", said[0]);

    // An unwritable folder: the plugin goes on and the host sees nothing break. Last, as no
    // later report shows when the writer is done with these (dropping the plugin waits for it).
    std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", "/proc/stem-preflight/not-here");
    play(&mut plugin, &signal(12.0, None, true), 0.0, false);
    play(&mut plugin, &signal(1.0, None, true), 0.0, false);
}

/// The plugin looks for a lossy origin with the checker's detector. Exported through the
/// plugin and checked as files, these get the same evidence to the bit and the same verdict:
/// a FluidSynth lead band-limited to 9 kHz and made from an MP3 at 128 kbit/s (no cliff can
/// show: only the frame grid), the same at 96 kHz (decoded at 48 kHz and resampled), the
/// drums from an MP3 (the encoder's cliff), and the clean lead.
#[test]
#[ignore = "needs ffmpeg, fluidsynth and the OpenTTD music set: cargo xtask test --all"]
fn the_plugin_finds_a_lossy_origin_as_the_checker_does() {
    let _env = REPORT_DIR.lock().unwrap_or_else(|e| e.into_inner());
    use support::delivery::{ffmpeg, mp3_round_trip};
    let work = folder("lossy-work");
    std::fs::create_dir_all(&work).unwrap();
    let song = &support::corpus::songs()[3];
    let steep = "lowpass=f=9000,lowpass=f=9000,lowpass=f=9000,lowpass=f=9000";
    let mut cases = Vec::new();
    for rate in [48_000, 96_000] {
        let stems = support::corpus::render(song, rate, 12.0);
        let lead = ffmpeg(&support::corpus::lead(&stems).audio, rate, steep, rate);
        let from_mp3 = mp3_round_trip(&lead, rate, "128k", &work);
        cases.push((
            format!("lead from MP3 at {rate} Hz"),
            rate,
            from_mp3,
            "frame grid",
        ));
        if rate == 48_000 {
            let drums = &stems
                .iter()
                .find(|s| s.group == "Drums")
                .expect("drums")
                .audio;
            let drums = mp3_round_trip(drums, rate, "128k", &work);
            cases.push(("drums from MP3".into(), rate, drums, "stops abruptly"));
            cases.push(("clean lead".into(), rate, lead, ""));
        }
    }
    for (case, rate, audio, expected) in cases {
        let dir = folder(&format!("lossy-{}", case.replace(' ', "-")));
        std::env::set_var("STEM_PREFLIGHT_REPORT_DIR", &dir);
        let mut plugin = Plugin::load(release_bundle());
        play_stereo(&mut plugin, &audio, f64::from(rate), 0.0, false);
        let (report, text) = report_in(&dir);
        let files = dir.join("files");
        std::fs::create_dir_all(&files).unwrap();
        let wav = files.join("Lossy_Lead.wav");
        write_wav(&wav, rate, &audio, Store::Float32);
        let checked = check(&[wav], &CheckOptions::default(), &|_, _| {}).unwrap();
        let file = &checked.files[0];
        let measured = serde_json::to_value(&file.measured).unwrap();
        let lossy = &report["lossy_origin"];
        assert_eq!(lossy["mp3_grid"], measured["mp3_grid"], "{case}: {lossy}");
        assert_eq!(
            lossy["cutoff_hz"], measured["lossy_cutoff_hz"],
            "{case}: {lossy}"
        );
        let plugin_says: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|f| f.contains("lossy") || f.contains("MP3"))
            .collect();
        let checker_says: Vec<&str> = file
            .findings
            .iter()
            .filter(|f| f.check.name() == "lossy-origin")
            .map(|f| f.message.as_str())
            .collect();
        if expected.is_empty() {
            assert!(plugin_says.is_empty(), "{case}: {plugin_says:?}");
            assert!(checker_says.is_empty(), "{case}: {checker_says:?}");
            assert!(
                lossy["mp3_grid"]["spreads"].as_f64().unwrap() < 6.0,
                "{case}: {lossy}"
            );
        } else {
            assert_eq!(plugin_says.len(), 1, "{case}: {report:#}");
            assert!(
                plugin_says[0].contains(expected),
                "{case}: {}",
                plugin_says[0]
            );
            assert!(text.contains(expected), "{case}: {text}");
            assert_eq!(checker_says.len(), 1, "{case}: {checker_says:?}");
            assert!(
                checker_says[0].contains(expected),
                "{case}: {}",
                checker_says[0]
            );
        }
    }
}
