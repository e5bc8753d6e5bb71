//! Hosts that bend or break the rules, through a real CLAP host: resets and empty calls
//! between blocks, no transport, transports that jump, a thousand activations, parameter events
//! at every sample offset, old and corrupted states, instances created and destroyed on several
//! threads. Nothing crashes, the audio passes through bit for bit, and the reported numbers
//! stay those of the signal.

mod support;

use clack_host::prelude::StartedPluginAudioProcessor;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::clap_host::{release_bundle, Driver, Plugin, Song, TestHost};

const RATE: f64 = 48_000.0;
const BLOCK: usize = 512;
/// Where the three full-scale samples sit in [`signal`].
const CLIP_AT: usize = 96_000;

/// 6 s of a 1 kHz sine at 0.5 (-6.02 dBFS), faded in over 10 ms and out by 5 s (a clean tail),
/// with three samples at full scale at 2.000 s.
fn signal() -> Vec<f32> {
    let len = 6 * RATE as usize;
    let mut x: Vec<f32> = (0..len)
        .map(|n| {
            let fade_in = (n as f64 / 480.0).min(1.0);
            let fade_out = ((5.0 * RATE - n as f64) / RATE).clamp(0.0, 1.0);
            (0.5 * fade_in
                * fade_out
                * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / RATE).sin()) as f32
        })
        .collect();
    x[CLIP_AT..CLIP_AT + 3].fill(1.0);
    x
}

fn song(seconds: f64, playing: bool) -> Song {
    Song {
        seconds,
        tempo_bpm: 120.0,
        time_signature: (4, 4),
        playing,
    }
}

/// An instance whose reports go to its own folder (so these tests can run side by side).
fn instance(name: &str) -> (Plugin, PathBuf) {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile_hosts")
        .join(name);
    let _ = std::fs::remove_dir_all(&folder);
    let mut plugin = Plugin::load(release_bundle());
    plugin.set_persisted("report_folder", &Value::from(folder.to_str().unwrap()));
    (plugin, folder)
}

/// One block through `driver`, asserting that the audio passed through bit for bit.
fn pass_through(
    driver: &mut Driver,
    processor: &mut StartedPluginAudioProcessor<TestHost>,
    block: &[f32],
    song: Option<Song>,
) {
    let mut input = vec![block.to_vec(), block.to_vec()];
    let mut output = vec![vec![0.123f32; block.len()]; 2];
    driver.process(processor, &mut input, &mut output, song);
    for (a, b) in input.iter().zip(&output) {
        assert!(
            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "pass-through"
        );
    }
}

/// The reports written into `folder`, once there are `count`.
fn reports_in(folder: &Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reports: Vec<Value> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .filter_map(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
                    .collect()
            })
            .unwrap_or_default();
        if reports.len() >= count || Instant::now() > deadline {
            assert_eq!(reports.len(), count, "reports in {}", folder.display());
            return reports;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The numbers [`signal`] must give: exact sample peak and clip count, true peak at least the
/// clip's, the first clip at 2.000 s of the stream, the whole length.
fn assert_signal_numbers(report: &Value, frames: usize, clip_seconds: f64) {
    assert_eq!(report["sample_peak_dbfs"], 0.0, "{report:#}");
    assert_eq!(report["clips"]["sample"], 2, "one run per channel");
    assert!(report["true_peak_dbtp"].as_f64().unwrap() >= 0.0);
    assert_eq!(report["status"], "Clipped");
    let first = &report["clips"]["first"][0];
    assert_eq!(first["length_samples"], 3);
    let at = first["position"]["seconds"].as_f64().unwrap();
    assert!((at - clip_seconds).abs() < 0.5 / RATE, "clip at {at} s");
    let duration = report["pass"]["duration_s"].as_f64().unwrap();
    assert!(
        (duration - frames as f64 / RATE).abs() < 0.5 / RATE,
        "duration {duration} s"
    );
}

type Processor = StartedPluginAudioProcessor<TestHost>;

/// Plays [`signal`] block by block from the song position `position(stream sample)` (seconds),
/// calling `before_block` first each time, then one stopped block, then deactivates. Returns
/// the one report the export left.
fn export(
    plugin: &mut Plugin,
    folder: &Path,
    position: impl Fn(usize) -> f64,
    before_block: impl FnMut(&mut Processor, &mut Driver, usize),
) -> Value {
    export_audio(plugin, folder, &signal(), position, before_block)
}

/// [`export`] with audio of its own.
fn export_audio(
    plugin: &mut Plugin,
    folder: &Path,
    x: &[f32],
    position: impl Fn(usize) -> f64,
    mut before_block: impl FnMut(&mut Processor, &mut Driver, usize),
) -> Value {
    let mut processor = plugin.start(RATE, BLOCK as u32);
    let mut driver = Driver::new(2);
    for (i, block) in x.chunks(BLOCK).enumerate() {
        let at = position(i * BLOCK);
        before_block(&mut processor, &mut driver, block.len());
        pass_through(&mut driver, &mut processor, block, Some(song(at, true)));
    }
    let end = Some(song(position(x.len()), false));
    pass_through(&mut driver, &mut processor, &[0.0; BLOCK], end);
    plugin.run_main_thread();
    plugin.stop(processor);
    reports_in(folder, 1).remove(0)
}

/// Plays `x` with no transport at all, as fast as it goes (a render the plugin must recognise
/// by its pace), then deactivates. Returns the one report it left.
fn render_without_transport(plugin: &mut Plugin, folder: &Path, x: &[f32]) -> Value {
    let mut processor = plugin.start(RATE, BLOCK as u32);
    let mut driver = Driver::new(2);
    for block in x.chunks(BLOCK) {
        pass_through(&mut driver, &mut processor, block, None);
    }
    plugin.stop(processor);
    reports_in(folder, 1).remove(0)
}

/// The song position of a transport that plays straight from the project start.
fn straight(stream_sample: usize) -> f64 {
    stream_sample as f64 / RATE
}

#[test]
fn a_reset_and_an_empty_call_before_every_block() {
    let (mut plugin, folder) = instance("resets");
    let report = export(&mut plugin, &folder, straight, |processor, driver, _| {
        processor.reset();
        pass_through(driver, processor, &[], Some(song(0.0, true)));
    });
    assert_signal_numbers(&report, signal().len(), 2.0);
    assert_eq!(report["pass"]["from_project_start"], true);
    assert_eq!(report["tail"]["cut"], false);
}

#[test]
fn no_transport_at_all() {
    let (mut plugin, folder) = instance("no-transport");
    let x = signal();
    // Fast blocks say it is a render; deactivation ends it. It covers every block, including
    // those before the render was recognised.
    let report = &render_without_transport(&mut plugin, &folder, &x);
    assert_signal_numbers(report, x.len(), 2.0);
    assert_eq!(report["pass"]["offline"], true);
    assert_eq!(report["pass"]["start"]["from_host"], false);
    let findings = report["findings"].to_string();
    assert!(findings.contains("no song position"), "{findings}");
    assert!(!findings.contains("not at the project start"), "{findings}");
}

#[test]
fn a_render_recognised_late_lists_the_clips_of_its_first_blocks() {
    // A clip in the first block, long before 16 fast blocks tell the plugin it renders.
    let (mut plugin, folder) = instance("late-render");
    let mut x = signal();
    x[CLIP_AT..CLIP_AT + 3].copy_from_slice(&[0.0; 3]);
    x[100..103].fill(1.0);
    let report = &render_without_transport(&mut plugin, &folder, &x);
    assert_signal_numbers(report, x.len(), 100.0 / RATE);
}

#[test]
fn a_transport_that_loops_back_and_jumps_forward() {
    let (mut plugin, folder) = instance("jumps");
    // The song position: linear for 3 s (the clip at 2 s), then back to 1 s (a loop), then
    // forward to 30 s.
    let position = |stream: usize| {
        let s = stream as f64 / RATE;
        match s {
            s if s < 3.0 => s,
            s if s < 4.5 => s - 2.0,
            s => s + 24.0,
        }
    };
    let report = export(&mut plugin, &folder, position, |_, _, _| {});
    // A loop or a jump is not a new export: one pass, every block in it.
    assert_signal_numbers(&report, signal().len(), 2.0);
    assert_eq!(report["clips"]["first"][0]["position"]["bar"], 2);
}

#[test]
fn a_clip_across_a_transport_jump_is_placed_where_it_began() {
    // Five full-scale samples from 2 samples before a block boundary; the transport jumps 24 s
    // ahead at that boundary. The run ends (and is reported) in the block after the jump.
    let (mut plugin, folder) = instance("clip-across-a-jump");
    let mut x = signal();
    x[CLIP_AT..CLIP_AT + 3].copy_from_slice(&[0.0; 3]);
    let boundary = CLIP_AT.next_multiple_of(BLOCK);
    x[boundary - 2..boundary + 3].fill(1.0);
    let position = |at: usize| {
        let s = at as f64 / RATE;
        if at < boundary {
            s
        } else {
            s + 24.0
        }
    };
    let report = export_audio(&mut plugin, &folder, &x, position, |_, _, _| {});
    let first = &report["clips"]["first"][0];
    assert_eq!(first["length_samples"], 5, "{report:#}");
    let at = first["position"]["seconds"].as_f64().unwrap();
    let began = (boundary - 2) as f64 / RATE;
    assert!(
        (at - began).abs() < 0.5 / RATE,
        "clip at {at} s, began at {began} s"
    );
}

#[test]
fn a_thousand_activations_then_an_export_at_a_new_rate() {
    let (mut plugin, folder) = instance("activations");
    // Our own threads (report writers, the overview's heartbeat), by name: the kernel keeps
    // 15 characters of it.
    let threads = || {
        std::fs::read_dir("/proc/self/task").ok().map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|name| name.starts_with("stem-preflight"))
                .count()
        })
    };
    let tone = &signal()[..BLOCK];
    let before = threads();
    for i in 0..1000 {
        let rate = [44_100.0, 48_000.0, 96_000.0][i % 3];
        let mut processor = plugin.start(rate, BLOCK as u32);
        pass_through(
            &mut Driver::new(2),
            &mut processor,
            tone,
            Some(song(0.0, false)),
        );
        plugin.stop(processor);
    }
    // The report writer and the overview's heartbeat exist once, not once per activation: a
    // leak would add hundreds. Other tests in this binary start and end their own instances
    // meanwhile, a few threads each.
    if let (Some(before), Some(after)) = (before, threads()) {
        assert!(
            after <= before + 40,
            "threads: {before} before, {after} after"
        );
    }
    let report = export(&mut plugin, &folder, straight, |_, _, _| {});
    assert_signal_numbers(&report, signal().len(), 2.0);
    assert_eq!(report["pass"]["sample_rate"], RATE);
}

#[test]
fn parameter_events_at_every_sample_offset() {
    let (mut plugin, folder) = instance("param-events");
    let value_at = |offset: u32| f64::from(offset % 7) / 7.0;
    let report = export(&mut plugin, &folder, straight, |_, driver, frames| {
        for offset in 0..frames as u32 {
            driver.set_param_at(offset, "target_peak", value_at(offset));
            driver.set_param_at(offset, "warning_peak", 1.0 - value_at(offset));
        }
    });
    assert_signal_numbers(&report, signal().len(), 2.0);
    // The last event of the last block is the value that stays, give or take the parameters'
    // 0.1 dB step (0.05 dB of a 24 dB range, normalized); neighbouring values differ by 1/7.
    let step = 0.05 / 24.0 + 1e-6;
    let last_offset = ((signal().len() - 1) % BLOCK) as u32;
    let expected = value_at(last_offset);
    assert!((plugin.param_value("target_peak") - expected).abs() < step);
    assert!((plugin.param_value("warning_peak") - (1.0 - expected)).abs() < step);
}

#[test]
fn old_and_corrupted_states_fall_back_to_defaults() {
    let bundle = release_bundle();
    let with_length = |json: &[u8]| {
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(json);
        bytes
    };
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("random bytes", garbage.clone()),
        (
            "a length longer than the data",
            with_length(b"{}")[..6].to_vec(),
        ),
        ("an absurd length", u64::MAX.to_le_bytes().to_vec()),
        ("not JSON", with_length(&garbage)),
        ("JSON of the wrong shape", with_length(br#"[1, 2, 3]"#)),
        (
            "wrong types",
            with_length(
                br#"{"version":"0.1.0","params":{"target_peak":"loud"},"fields":{"stem_name":17}}"#,
            ),
        ),
        (
            "a persisted field that is not JSON",
            with_length(br#"{"version":"0.1.0","params":{},"fields":{"stem_name":"{not json"}}"#),
        ),
    ];
    for (what, bytes) in &cases {
        let mut plugin = Plugin::load(bundle);
        let _accepted = plugin.try_load_state(bytes);
        // Whatever happened to the state, the parameters are valid and the plugin works.
        let target = plugin.param_value("target_peak");
        assert!((0.0..=1.0).contains(&target), "{what}: target {target}");
        let mut processor = plugin.start(RATE, BLOCK as u32);
        pass_through(
            &mut Driver::new(2),
            &mut processor,
            &signal()[..BLOCK],
            None,
        );
        plugin.stop(processor);
        let saved = plugin.save_state();
        let json: Value = serde_json::from_slice(&saved[8..]).expect("it still saves valid state");
        assert!(json["params"].is_object(), "{what}");
    }

    // A state from an older version: only some parameters, an unknown field. What it has is
    // restored, the rest is default.
    let mut plugin = Plugin::load(bundle);
    let old = with_length(
        br#"{"version":"0.0.1","params":{"target_peak":{"f32":-9.0}},"fields":{"retired_setting":"1"}}"#,
    );
    assert!(plugin.try_load_state(&old), "an older state loads");
    assert!(
        (plugin.param_value("target_peak") - 15.0 / 24.0).abs() < 1e-6,
        "-9 dBFS"
    );
    assert!(
        (plugin.param_value("warning_peak") - 21.0 / 24.0).abs() < 1e-6,
        "default -3 dBFS"
    );
    assert!(
        plugin.param_value("role").abs() < 1e-9,
        "default role: stem"
    );
}

#[test]
fn instances_created_and_destroyed_on_several_threads() {
    let bundle = release_bundle();
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            std::thread::spawn(move || {
                let x = signal();
                for round in 0..10 {
                    let mut plugin = Plugin::load(bundle);
                    let mut processor = plugin.start(RATE, BLOCK as u32);
                    let mut driver = Driver::new(2);
                    for (i, block) in x.chunks(BLOCK).take(8).enumerate() {
                        let at = (i * BLOCK) as f64 / RATE;
                        let playing = (worker + round + i) % 3 != 0;
                        pass_through(&mut driver, &mut processor, block, Some(song(at, playing)));
                    }
                    plugin.stop(processor);
                    drop(plugin);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no instance panicked");
    }
}
