//! The built `.clap` bundle in a real CLAP host (clack-host): bit-identical pass-through at
//! every rate, layout and block size, hostile samples, state round trips, parameter events.

mod support;

use support::clap_host::{release_bundle, Driver, Plugin, Song};
use support::signals::{program, Rng};

/// A signal with everything a plugin might choke on: program material, a full-scale square,
/// NaN, ±Inf, denormals and signed zeros.
fn hostile_signal(frames: usize, seed: u64) -> Vec<f32> {
    let mut x = program(48_000.0, frames as f64 / 48_000.0, 0.9, seed);
    x.resize(frames, 0.0);
    for (n, v) in x.iter_mut().enumerate().skip(frames / 3).take(2000) {
        *v = if (n / 50) % 2 == 0 { 1.0 } else { -1.0 };
    }
    let specials = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE / 3.0,
        -f32::MIN_POSITIVE / 7.0,
        -0.0,
        f32::MAX,
    ];
    let mut rng = Rng::new(seed);
    for special in specials.iter().cycle().take(60) {
        let at = rng.range(0, frames - 1);
        x[at] = *special;
    }
    x
}

/// Runs `input` through the plugin in blocks of the given sizes; returns the output.
fn run(
    plugin: &mut Plugin,
    sample_rate: f64,
    input: &[Vec<f32>],
    block_sizes: &[usize],
) -> Vec<Vec<f32>> {
    let channels = input.len();
    let frames = input[0].len();
    let max_block = *block_sizes.iter().max().unwrap() as u32;
    let mut processor = plugin.start(sample_rate, max_block);
    let mut driver = Driver::new(channels);
    let mut output = vec![Vec::with_capacity(frames); channels];
    let mut at = 0;
    let mut i = 0;
    while at < frames {
        let n = block_sizes[i % block_sizes.len()].min(frames - at);
        let mut block_in: Vec<Vec<f32>> = input.iter().map(|c| c[at..at + n].to_vec()).collect();
        // Fill the output with garbage first: the plugin must overwrite all of it.
        let mut block_out = vec![vec![0.123f32; n]; channels];
        let song = Song {
            seconds: at as f64 / sample_rate,
            tempo_bpm: 120.0,
            time_signature: (4, 4),
            playing: true,
        };
        driver.process(&mut processor, &mut block_in, &mut block_out, Some(song));
        plugin.run_main_thread();
        for (out, block) in output.iter_mut().zip(block_out) {
            out.extend(block);
        }
        at += n;
        i += 1;
    }
    plugin.stop(processor);
    output
}

fn assert_bit_identical(input: &[Vec<f32>], output: &[Vec<f32>], context: &str) {
    for (channel, (a, b)) in input.iter().zip(output).enumerate() {
        assert_eq!(a.len(), b.len());
        for (n, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(
                x.to_bits(),
                y.to_bits(),
                "{context}: channel {channel}, sample {n}: in {x:e}, out {y:e}"
            );
        }
    }
}

#[test]
fn passes_audio_through_bit_for_bit_at_every_rate_and_layout() {
    let bundle = release_bundle();
    for (layout, channels) in [("Stereo", 2), ("Mono", 1)] {
        for rate in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            let input: Vec<Vec<f32>> = (0..channels)
                .map(|c| hostile_signal(40_000, c as u64 + rate as u64))
                .collect();
            let mut plugin = Plugin::load(bundle);
            plugin.select_layout(layout);
            let output = run(&mut plugin, rate, &input, &[512]);
            assert_bit_identical(&input, &output, &format!("{layout} at {rate} Hz"));
        }
    }
}

#[test]
fn any_block_size_from_1_to_8192_and_varying() {
    let bundle = release_bundle();
    let input: Vec<Vec<f32>> = (0..2).map(|c| hostile_signal(60_000, 40 + c)).collect();
    let mut rng = Rng::new(11);
    let varying: Vec<usize> = (0..400).map(|_| rng.range(1, 8192)).collect();
    for sizes in [vec![1], vec![8192], vec![1, 8192, 3, 4096, 17, 64], varying] {
        let mut plugin = Plugin::load(bundle);
        // The first 3000 frames one sample at a time is plenty to cover size 1.
        let input: Vec<Vec<f32>> = if sizes == [1] {
            input.iter().map(|c| c[..3000].to_vec()).collect()
        } else {
            input.clone()
        };
        let output = run(&mut plugin, 48_000.0, &input, &sizes);
        assert_bit_identical(
            &input,
            &output,
            &format!("blocks {:?}", &sizes[..sizes.len().min(6)]),
        );
    }
}

#[test]
fn state_survives_save_load_save_byte_for_byte() {
    let bundle = release_bundle();
    let mut plugin = Plugin::load(bundle);
    // Change every parameter away from its default through CLAP events, as automation would.
    let mut processor = plugin.start(48_000.0, 256);
    let mut driver = Driver::new(2);
    driver.set_param("target_peak", 0.5); // -24..0 dBFS: 0.5 is -12 dBFS
    driver.set_param("warning_peak", 0.75); // -6 dBFS
    driver.set_param("role", 1.0); // Master
    let mut input = vec![vec![0.25f32; 256]; 2];
    let mut output = vec![vec![0.0f32; 256]; 2];
    driver.process(&mut processor, &mut input, &mut output, None);
    plugin.run_main_thread();
    plugin.stop(processor);

    let saved = plugin.save_state();
    let mut fresh = Plugin::load(bundle);
    fresh.load_state(&saved);
    let saved_again = fresh.save_state();
    assert_eq!(saved, saved_again, "state changed across a save/load/save");
    assert!((fresh.param_value("target_peak") - 0.5).abs() < 1e-6);
    assert!((fresh.param_value("role") - 1.0).abs() < 1e-9);

    // And the defaults are not what was saved: the test would notice a state that ignores them.
    let mut default = Plugin::load(bundle);
    assert_ne!(default.save_state(), saved);
}

/// A writer that takes at most `limit` bytes per call, as a host's stream may.
struct Trickle<T> {
    inner: T,
    limit: usize,
}

impl std::io::Write for Trickle<Vec<u8>> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.inner.write(&bytes[..bytes.len().min(self.limit)])
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Read for Trickle<&[u8]> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let take = buffer.len().min(self.limit);
        self.inner.read(&mut buffer[..take])
    }
}

#[test]
fn state_streams_that_move_a_few_bytes_per_call_lose_nothing() {
    // The CLAP spec lets a host's stream read or write fewer bytes than asked for; the plugin
    // must keep going (clap-validator's "buffered streams" check).
    let bundle = release_bundle();
    let mut plugin = Plugin::load(bundle);
    plugin.set_persisted("stem_name", &serde_json::json!("Drums und Percussion"));
    let whole = plugin.save_state();
    for limit in [1, 3, 64] {
        let mut trickle = Trickle {
            inner: Vec::new(),
            limit,
        };
        plugin.save_state_into(&mut trickle);
        assert_eq!(trickle.inner, whole, "saved {limit} bytes at a time");

        let mut fresh = Plugin::load(bundle);
        assert_ne!(
            fresh.save_state(),
            whole,
            "a fresh instance differs before loading"
        );
        let mut reader = Trickle {
            inner: whole.as_slice(),
            limit,
        };
        assert!(
            fresh.try_load_state_from(&mut reader),
            "loaded {limit} bytes at a time"
        );
        assert_eq!(fresh.save_state(), whole, "loaded {limit} bytes at a time");
    }
}

#[test]
fn every_parameter_value_survives_text_and_back() {
    // clap-validator's "param conversions" check: value → text → value → the same text.
    let mut plugin = Plugin::load(release_bundle());
    let params = plugin.param_infos();
    assert_eq!(params.len(), 3);
    for param in params {
        let steps = if param.stepped {
            (param.max - param.min).round() as usize
        } else {
            20
        };
        for i in 0..=steps {
            let value = param.min + (param.max - param.min) * i as f64 / steps as f64;
            let text = plugin
                .value_to_text(param.id, value)
                .unwrap_or_else(|| panic!("{}: no text for {value}", param.name));
            let back = plugin
                .text_to_value(param.id, &text)
                .unwrap_or_else(|| panic!("{}: {text:?} is not read back", param.name));
            assert!(
                (param.min..=param.max).contains(&back),
                "{}: {text:?} read as {back}, outside the range",
                param.name
            );
            let again = plugin.value_to_text(param.id, back).unwrap();
            assert_eq!(again, text, "{}: {value} → {text:?} → {back}", param.name);
        }
    }
}

#[test]
fn parameter_events_take_effect() {
    let bundle = release_bundle();
    let mut plugin = Plugin::load(bundle);
    let names: Vec<String> = plugin
        .param_infos()
        .into_iter()
        .map(|param| param.name)
        .collect();
    for expected in ["Target peak", "Warning peak", "Role"] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing {expected} in {names:?}"
        );
    }
    // Defaults: -6 dBFS on a -24..0 range is 0.75; -3 is 0.875; Stem is step 0.
    assert!((plugin.param_value("target_peak") - 0.75).abs() < 1e-6);
    assert!((plugin.param_value("warning_peak") - 0.875).abs() < 1e-6);
    assert_eq!(plugin.param_value("role"), 0.0);

    let mut processor = plugin.start(44_100.0, 64);
    let mut driver = Driver::new(2);
    driver.set_param("target_peak", 0.25); // -18 dBFS
    driver.set_param("role", 1.0);
    let mut input = vec![vec![0.0f32; 64]; 2];
    let mut output = vec![vec![0.0f32; 64]; 2];
    driver.process(&mut processor, &mut input, &mut output, None);
    plugin.run_main_thread();
    plugin.stop(processor);
    assert!((plugin.param_value("target_peak") - 0.25).abs() < 1e-6);
    assert_eq!(plugin.param_value("role"), 1.0);
}
