//! `stem-preflight check` and `note` end to end: generated WAV and AIFF sets with each defect
//! injected exactly, checked through the real binary, asserting verdicts, numbers and exit
//! codes.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::checker::{check, run, scratch_folder};
use support::dynamics::limit;
use support::files::{mix, stems, write_aiff, write_song, write_wav, Store};
use support::signals::song;

const RATE: u32 = 48_000;

/// A fresh folder under the target directory.
fn folder(name: &str) -> PathBuf {
    scratch_folder("file_check", name)
}

fn file<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} in the report: {report:#}"))
}

/// The findings of `check` in a file (or the set, with `None`), as (severity, message).
fn findings(report: &Value, name: Option<&str>, check: &str) -> Vec<(String, String)> {
    let list = match name {
        Some(name) => &file(report, name)["findings"],
        None => &report["set_findings"],
    };
    list.as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn severity(report: &Value, name: Option<&str>, check: &str) -> String {
    let found = findings(report, name, check);
    assert_eq!(
        found.len(),
        1,
        "one {check} finding for {name:?}: {report:#}"
    );
    found[0].0.clone()
}

fn peak_dbfs(channels: &[Vec<f32>]) -> f64 {
    let peak = channels
        .iter()
        .flatten()
        .fold(0.0f32, |m, x| m.max(x.abs()));
    20.0 * f64::from(peak).log10()
}

fn write_set(dir: &Path, set: &[(&str, Vec<Vec<f32>>)], store: Store) {
    write_song(dir, "Midnight", RATE, set, store);
}

#[test]
fn a_clean_set_passes_with_exact_numbers() {
    let dir = folder("clean");
    let set = stems(RATE, 12.0, 1);
    write_set(&dir, &set, Store::Int(24));
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["schema"], "stem-preflight-check");
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["pass"], 4);
    for (name, audio) in &set {
        let f = file(&report, &format!("Midnight_{name}.wav"));
        assert_eq!(f["role"], "stem");
        assert_eq!(f["offset"]["frames"], 0);
        // 24-bit quantization moves a peak by far less than 0.001 dB at these levels.
        let read = f["measured"]["sample_peak_dbfs"].as_f64().unwrap();
        assert!((read - peak_dbfs(audio)).abs() < 0.001, "{name}: {read}");
        assert_eq!(f["format"]["frames"], 12 * RATE);
    }
    assert_eq!(file(&report, "Midnight_Mix.wav")["role"], "reference");
    // Stems and mix quantized separately to 24 bits: the residual is quantization noise.
    let residual = report["null_test"]["residual_db"].as_f64().unwrap();
    assert!(residual < -100.0, "{residual}");
    // Loudness for every file, against the ebur128 crate on the same audio.
    let mix = &set.iter().map(|(_, a)| a.clone()).reduce(|a, b| {
        a.iter()
            .zip(&b)
            .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p + q).collect())
            .collect()
    });
    let mix = mix.as_ref().unwrap();
    let mut reference =
        ebur128::EbuR128::new(2, RATE, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK).unwrap();
    let planar: Vec<&[f32]> = mix.iter().map(Vec::as_slice).collect();
    reference.add_frames_planar_f32(&planar).unwrap();
    let loudness = &file(&report, "Midnight_Mix.wav")["measured"]["loudness"];
    let integrated = loudness["integrated_lufs"].as_f64().unwrap();
    let expected = reference.loudness_global().unwrap();
    assert!(
        (integrated - expected).abs() < 0.01,
        "{integrated} vs {expected}"
    );
    assert!(loudness["range_lu"].is_number(), "{loudness}");
    assert!(loudness["max_short_term_lufs"].is_number(), "{loudness}");
    let true_peak = file(&report, "Midnight_Mix.wav")["measured"]["true_peak_dbtp"]
        .as_f64()
        .unwrap();
    let plr = loudness["plr_db"].as_f64().unwrap();
    assert!((plr - (true_peak - integrated)).abs() < 1e-4, "{loudness}");
    // A mix with room to master gets no note.
    assert!(findings(&report, Some("Midnight_Mix.wav"), "loudness").is_empty());
}

/// `set` with every stem times `gain`.
fn scaled(set: &[(&'static str, Vec<Vec<f32>>)], gain: f64) -> Vec<(&'static str, Vec<Vec<f32>>)> {
    set.iter()
        .map(|(name, audio)| {
            let audio = audio
                .iter()
                .map(|c| c.iter().map(|&x| (f64::from(x) * gain) as f32).collect())
                .collect();
            (*name, audio)
        })
        .collect()
}

/// The gain that puts the peak of `audio` on `dbfs`.
fn gain_to_peak(audio: &[Vec<f32>], dbfs: f64) -> f64 {
    10f64.powf((dbfs - peak_dbfs(audio)) / 20.0)
}

#[test]
fn a_round_peak_is_normalized_only_when_the_stems_say_the_level_moved() {
    // Every stem moved by one fader gain so that the mix peaks at exactly -6.0 dBFS, a
    // normalize dialog's favourite value, by its own mixing.
    let set = stems(RATE, 8.0, 2);
    let set = scaled(&set, gain_to_peak(&mix(&set), -6.0));
    let dir = folder("round mix");
    write_set(&dir, &set, Store::Int(24));
    let (code, report) = check(&dir, &[]);
    let mix_file = "Midnight_Mix.wav";
    let mix_peak = file(&report, mix_file)["measured"]["sample_peak_dbfs"]
        .as_f64()
        .unwrap();
    assert!((mix_peak + 6.0).abs() < 1e-5, "{mix_peak}");
    // The stems add up to the mix at unity: its peak is the mix's own, not a normalizer's.
    assert!(
        findings(&report, Some(mix_file), "normalized").is_empty(),
        "{report:#}"
    );
    assert_eq!(code, 0, "{report:#}");

    // The mix alone normalized to -1.0 dBFS, the stems as they were: every stem's gain in it
    // moved together, and a normalize step (not a limiter) put its peak there.
    let normalized = folder("normalized mix");
    let mixed = mix(&set);
    let louder = scaled(&[("Mix", mixed)], gain_to_peak(&mix(&set), -1.0));
    for (name, audio) in &set {
        write_wav(
            &normalized.join(format!("Midnight_{name}.wav")),
            RATE,
            audio,
            Store::Int(24),
        );
    }
    write_wav(
        &normalized.join(mix_file),
        RATE,
        &louder[0].1,
        Store::Int(24),
    );
    let (_, report) = check(&normalized, &[]);
    let said = findings(&report, Some(mix_file), "normalized");
    assert!(said[0].1.contains("exactly -1.0 dBFS"), "{report:#}");
    let null = findings(&report, None, "null-test");
    assert!(
        null[0]
            .1
            .contains("the mix was normalized to -1.0 dBFS, which made it"),
        "{null:?}"
    );
    assert!(
        findings(&report, Some(mix_file), "limiter")
            .iter()
            .all(|(severity, _)| severity == "pass"),
        "{report:#}"
    );

    // The same mix mixed up to peak at exactly -1.0 dBFS, where limiters are set: too hot, but
    // neither normalized nor limited.
    let hot = folder("round hot mix");
    let set = scaled(&set, gain_to_peak(&mix(&set), -1.0));
    write_set(&hot, &set, Store::Int(24));
    let (_, report) = check(&hot, &[]);
    for check in ["normalized", "limiter"] {
        let said = findings(&report, Some(mix_file), check);
        assert!(
            said.iter().all(|(severity, _)| severity == "pass"),
            "{report:#}"
        );
    }

    // Without its stems the first mix cannot be cross-checked, and its round peak is told.
    let alone = folder("round mix alone");
    std::fs::copy(dir.join(mix_file), alone.join(mix_file)).unwrap();
    let (_, report) = check(&alone, &[]);
    let said = findings(&report, Some(mix_file), "normalized");
    assert!(said[0].1.contains("exactly -6.0 dBFS"), "{said:?}");
}

#[test]
fn a_dense_reference_mix_gets_a_note_never_a_warning() {
    // A steady sine: its true peak sits 0 dB above its loudness, and no limiter can be told
    // from a steady level, so only the loudness note speaks.
    let dir = folder("dense");
    let mut sine: Vec<f32> = (0..12 * RATE as usize)
        .map(|n| {
            // Faded out over the last second: the tail dies away.
            let fade = ((12 * RATE as usize - n) as f32 / RATE as f32).min(1.0);
            0.4 * fade * (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / RATE as f32).sin()
        })
        .collect();
    sine.extend(std::iter::repeat_n(0.0, RATE as usize));
    write_wav(
        &dir.join("Midnight_Mix.wav"),
        RATE,
        &[sine.clone(), sine],
        Store::Int(24),
    );
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 0, "a note never changes the result: {report:#}");
    let notes = findings(&report, Some("Midnight_Mix.wav"), "loudness");
    assert_eq!(notes.len(), 1, "{report:#}");
    assert_eq!(notes[0].0, "note");
    assert!(notes[0].1.contains("-8.1 LUFS integrated"), "{notes:?}");
    assert!(notes[0].1.contains("0.2 dB above (PLR)"), "{notes:?}");
    let (_, text, _) = run(&["check", dir.to_str().unwrap()]);
    assert!(text.contains("NOTE  loudness"), "{text}");
}

#[test]
fn an_aiff_set_reads_like_the_wav_set() {
    let dir = folder("aiff");
    let set = stems(RATE, 8.0, 2);
    for (name, audio) in &set {
        write_aiff(&dir.join(format!("Midnight_{name}.aif")), RATE, audio, 24);
    }
    write_aiff(&dir.join("Midnight_Mix.aiff"), RATE, &mix(&set), 24);
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 0, "{report:#}");
    let drums = file(&report, "Midnight_Drums.aif");
    assert_eq!(drums["format"]["container"], "Aiff");
    let read = drums["measured"]["sample_peak_dbfs"].as_f64().unwrap();
    assert!((read - peak_dbfs(&set[0].1)).abs() < 0.001);
}

/// Shifts a stem `by` frames later (negative: earlier), keeping its length.
fn shifted(audio: &[Vec<f32>], by: i64) -> Vec<Vec<f32>> {
    audio
        .iter()
        .map(|c| {
            (0..c.len() as i64)
                .map(|n| {
                    c.get((n - by) as usize)
                        .copied()
                        .filter(|_| n >= by)
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .collect()
}

#[test]
fn offsets_are_measured_to_the_sample_and_explain_the_null_test() {
    let dir = folder("offsets");
    let set = stems(RATE, 12.0, 3);
    write_wav(
        &dir.join("Midnight_Mix.wav"),
        RATE,
        &mix(&set),
        Store::Int(24),
    );
    let offsets = [("Drums", 0i64), ("Bass", 480), ("Vocals", -1_000)];
    for ((name, audio), (_, by)) in set.iter().zip(offsets) {
        write_wav(
            &dir.join(format!("Midnight_{name}.wav")),
            RATE,
            &shifted(audio, by),
            Store::Int(24),
        );
    }
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 2);
    for (name, by) in offsets {
        let f = file(&report, &format!("Midnight_{name}.wav"));
        assert_eq!(f["offset"]["frames"], by, "{name}");
        let ms = f["offset"]["ms"].as_f64().unwrap();
        assert!((ms - by as f64 / 48.0).abs() < 1e-9);
    }
    let bass = findings(&report, Some("Midnight_Bass.wav"), "offset");
    assert_eq!(bass[0].0, "fail");
    assert!(
        bass[0].1.contains("480 samples (10.0 ms) later"),
        "{}",
        bass[0].1
    );
    let null = findings(&report, None, "null-test");
    assert_eq!(null[0].0, "fail");
    assert!(
        null[0]
            .1
            .contains("the offset of Bass and Vocals explains it"),
        "{}",
        null[0].1
    );
    assert!(report["null_test"]["residual_aligned_db"].as_f64().unwrap() < -100.0);
}

#[test]
fn clips_are_counted_and_located_and_hot_stems_get_the_fix() {
    let dir = folder("clips");
    let mut set = stems(RATE, 10.0, 4);
    // Three runs of full-scale samples in the drums, at 1.000 s, 2.500 s and 7.250 s.
    for (start, len) in [(48_000usize, 3usize), (120_000, 1), (348_000, 7)] {
        for channel in &mut set[0].1 {
            for x in &mut channel[start..start + len] {
                *x = 1.0;
            }
        }
    }
    // Bass too hot: sample peak exactly -1 dBFS (its true peak lies a little above).
    let gain = 10f32.powf(-1.0 / 20.0) / 10f32.powf(peak_dbfs(&set[1].1) as f32 / 20.0);
    for channel in &mut set[1].1 {
        channel.iter_mut().for_each(|x| *x *= gain);
    }
    write_set(&dir, &set, Store::Float32);
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 2);
    let drums = &file(&report, "Midnight_Drums.wav")["measured"];
    // One event per run and channel: 3 runs on 2 channels.
    assert_eq!(drums["clips"]["sample"], 6, "{drums:#}");
    let first = &drums["clip_events"][0];
    assert_eq!(first["start_sample"], 48_000);
    assert_eq!(first["timestamp"], "0:01.000");
    assert_eq!(first["length_samples"], 3);
    assert_eq!(
        severity(&report, Some("Midnight_Drums.wav"), "clipping"),
        "fail"
    );
    let clipping = findings(&report, Some("Midnight_Drums.wav"), "clipping");
    assert!(
        clipping[0].1.contains("0:01.000 clip (left, 3 samples)"),
        "{}",
        clipping[0].1
    );
    let measured = &file(&report, "Midnight_Bass.wav")["measured"];
    let sample_peak = measured["sample_peak_dbfs"].as_f64().unwrap();
    assert!((sample_peak - -1.0).abs() < 0.001, "{sample_peak}");
    let peak = sample_peak.max(measured["true_peak_dbtp"].as_f64().unwrap());
    let bass = findings(&report, Some("Midnight_Bass.wav"), "headroom");
    assert_eq!(bass[0].0, "warn");
    let fix = format!(
        "Lower the Bass bus by {:.1} dB to reach -6 dBFS",
        peak + 6.0
    );
    assert!(bass[0].1.contains(&fix), "{}", bass[0].1);
}

#[test]
fn bit_depth_normalization_tails_and_sample_rates() {
    let dir = folder("formats");
    let set = stems(RATE, 8.0, 5);
    write_wav(
        &dir.join("Midnight_Mix.wav"),
        RATE,
        &mix(&set),
        Store::Int(24),
    );
    // Drums as 16-bit: fails.
    write_wav(
        &dir.join("Midnight_Drums.wav"),
        RATE,
        &set[0].1,
        Store::Int(16),
    );
    // Bass: 16-bit audio padded into a 24-bit file.
    let padded: Vec<Vec<f32>> = set[1]
        .1
        .iter()
        .map(|c| c.iter().map(|x| (x * 32768.0).round() / 32768.0).collect())
        .collect();
    write_wav(
        &dir.join("Midnight_Bass.wav"),
        RATE,
        &padded,
        Store::Int(24),
    );
    // Vocals normalized to exactly -0.3 dBFS (float keeps the value exact).
    let gain = 10f32.powf(-0.3 / 20.0) / 10f32.powf(peak_dbfs(&set[2].1) as f32 / 20.0);
    let normalized: Vec<Vec<f32>> = set[2]
        .1
        .iter()
        .map(|c| c.iter().map(|x| x * gain).collect())
        .collect();
    write_wav(
        &dir.join("Midnight_Vocals.wav"),
        RATE,
        &normalized,
        Store::Float32,
    );
    // FX: a reverb tail cut while still sounding (noise decaying 20 dB/s from -20 dBFS).
    let mut state = 9u64;
    let tail: Vec<f32> = (0..8 * RATE as usize)
        .map(|n| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let white = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
            let t = n as f32 / RATE as f32;
            let db = if t < 6.0 {
                -20.0
            } else {
                -20.0 - 20.0 * (t - 6.0)
            };
            white * 10f32.powf(db / 20.0)
        })
        .collect();
    write_wav(
        &dir.join("Midnight_FX.wav"),
        RATE,
        &[tail.clone(), tail],
        Store::Int(24),
    );
    // Pads: 24-bit, but exported with 16-bit TPDF dither on (-98 dBFS RMS under everything).
    let mut state = 3u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let dithered: Vec<Vec<f32>> = set[2]
        .1
        .iter()
        .map(|c| {
            c.iter()
                .map(|x| x + (uniform() + uniform() - 1.0) / 32768.0)
                .collect()
        })
        .collect();
    write_wav(
        &dir.join("Midnight_Pads.wav"),
        RATE,
        &dithered,
        Store::Int(24),
    );
    // Keys at 44.1 kHz.
    write_wav(
        &dir.join("Midnight_Keys.wav"),
        44_100,
        &set[2].1,
        Store::Int(24),
    );

    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        severity(&report, Some("Midnight_Drums.wav"), "bit-depth"),
        "fail"
    );
    assert_eq!(
        severity(&report, Some("Midnight_Bass.wav"), "effective-bit-depth"),
        "fail"
    );
    assert_eq!(
        file(&report, "Midnight_Bass.wav")["measured"]["effective_bits"],
        16
    );
    assert!(findings(&report, Some("Midnight_Mix.wav"), "effective-bit-depth").is_empty());
    let normalized = findings(&report, Some("Midnight_Vocals.wav"), "normalized");
    assert!(
        normalized[0].1.contains("exactly -0.3 dBFS"),
        "{normalized:?}"
    );
    assert!(findings(&report, Some("Midnight_Drums.wav"), "normalized").is_empty());
    let tail = findings(&report, Some("Midnight_FX.wav"), "tail");
    assert_eq!(tail[0].0, "warn");
    // Ends at about -60 dBFS RMS falling 20 dB/s: about 1 s more reaches -80 dBFS.
    assert!(tail[0].1.contains("by about 1 s"), "{}", tail[0].1);
    for stem in ["Drums", "Bass", "Vocals"] {
        assert!(findings(&report, Some(&format!("Midnight_{stem}.wav")), "tail").is_empty());
    }
    let dither = findings(&report, Some("Midnight_Pads.wav"), "dither");
    assert_eq!(dither.len(), 1, "{report:#}");
    let floor = file(&report, "Midnight_Pads.wav")["measured"]["noise_floor_dbfs"]
        .as_f64()
        .unwrap();
    // TPDF dither of one 16-bit step: RMS 2^-15 / sqrt(6) = -98.1 dBFS.
    assert!((floor - -98.1).abs() <= 1.0, "{floor}");
    for stem in ["Drums", "Bass", "Vocals", "FX"] {
        let name = format!("Midnight_{stem}.wav");
        assert!(
            findings(&report, Some(&name), "dither").is_empty(),
            "{name}"
        );
    }
    let rates = findings(&report, None, "sample-rate");
    assert_eq!(rates[0].0, "fail");
    assert!(
        rates[0].1.contains("Midnight_Keys.wav 44100 Hz"),
        "{}",
        rates[0].1
    );
}

#[test]
fn a_stem_missing_from_the_sum_and_one_not_in_the_mix_are_named() {
    let dir = folder("missing");
    let set = stems(RATE, 10.0, 6);
    write_wav(
        &dir.join("Midnight_Mix.wav"),
        RATE,
        &mix(&set),
        Store::Int(24),
    );
    // Vocals are in the mix but not delivered; a Pad stem is delivered but not in the mix.
    for (name, audio) in &set[..2] {
        write_wav(
            &dir.join(format!("Midnight_{name}.wav")),
            RATE,
            audio,
            Store::Int(24),
        );
    }
    let pad: Vec<f32> = (0..10 * RATE as usize)
        .map(|n| 0.1 * (2.0 * std::f32::consts::PI * 330.0 * n as f32 / RATE as f32).sin())
        .collect();
    write_wav(
        &dir.join("Midnight_Pad.wav"),
        RATE,
        &[pad.clone(), pad],
        Store::Int(24),
    );
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 2);
    let null = findings(&report, None, "null-test");
    assert_eq!(null[0].0, "fail");
    assert!(null[0].1.contains("Pad is not in the mix"), "{}", null[0].1);
    assert!(
        null[0].1.contains("of the mix is in no stem"),
        "{}",
        null[0].1
    );
    assert!(!null[0].1.contains("Drums"), "{}", null[0].1);
}

/// Runs ffmpeg on `input` with `args` (output options and the output file).
fn ffmpeg(input: &Path, args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i", input.to_str().unwrap()])
        .args(args)
        .status()
        .expect("ffmpeg runs (installed by .ci/run)");
    assert!(status.success());
}

#[test]
#[ignore = "needs ffmpeg: cargo xtask test --all"]
fn lossy_files_are_rejected_and_a_lossy_origin_is_found() {
    let dir = folder("lossy");
    let set = stems(RATE, 8.0, 7);
    let clean = dir.join("Midnight_Drums.wav");
    write_wav(&clean, RATE, &set[0].1, Store::Int(24));
    let mp3 = dir.join("Midnight_Drums.mp3");
    let decoded = dir.join("Midnight_DrumsFromMp3.wav");
    ffmpeg(&clean, &["-b:a", "128k", mp3.to_str().unwrap()]);
    ffmpeg(&mp3, &["-c:a", "pcm_s24le", decoded.to_str().unwrap()]);
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 2);
    let rejected = file(&report, "Midnight_Drums.mp3");
    assert_eq!(rejected["role"], "rejected");
    assert!(rejected["findings"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("MP3 is lossy: export WAV"));
    let cutoff = file(&report, "Midnight_DrumsFromMp3.wav")["measured"]["lossy_cutoff_hz"]
        .as_f64()
        .expect("a cutoff in the MP3 round trip");
    // LAME at 128 kbit/s low-passes at about 17 kHz.
    assert!((15_000.0..18_500.0).contains(&cutoff), "{cutoff}");
    assert_eq!(
        severity(&report, Some("Midnight_DrumsFromMp3.wav"), "lossy-origin"),
        "warn"
    );
    assert!(findings(&report, Some("Midnight_Drums.wav"), "lossy-origin").is_empty());
}

#[test]
#[ignore = "needs ffmpeg, fluidsynth and the OpenTTD music set: cargo xtask test --all"]
fn a_band_limited_stem_from_an_mp3_is_found_by_its_frame_grid() {
    let dir = folder("lossy-grid");
    // A real instrument: a song's lead (or its first pitched stem) played by FluidSynth.
    let song = &support::corpus::songs()[3];
    let stems = support::corpus::render(song, RATE, 12.0);
    let lead = support::corpus::lead(&stems);
    let source = dir.join("source.wav");
    write_wav(&source, RATE, &lead.audio, Store::Int(24));
    // Nothing above 10 kHz, so no encoder's low-pass can show: only the frame grid can.
    let clean = dir.join("Midnight_Lead.wav");
    let steep = "lowpass=f=9000,lowpass=f=9000,lowpass=f=9000,lowpass=f=9000";
    ffmpeg(
        &source,
        &["-af", steep, "-c:a", "pcm_s24le", clean.to_str().unwrap()],
    );
    std::fs::remove_file(&source).unwrap();
    // LAME at 128 kbit/s and VBR quality 2, and 128 kbit/s decoded and resampled to 96 kHz.
    let made = [("128k", "48000"), ("V2", "48000"), ("128k", "96000")];
    for (bitrate, rate) in made {
        let mp3 = dir.join(format!("lead-{bitrate}.mp3"));
        let decoded = dir.join(format!("Midnight_LeadFromMp3{bitrate}{rate}.wav"));
        let quality = match bitrate.strip_prefix('V') {
            Some(q) => ["-q:a", q],
            None => ["-b:a", bitrate],
        };
        ffmpeg(&clean, &[quality[0], quality[1], mp3.to_str().unwrap()]);
        let decode = ["-ar", rate, "-c:a", "pcm_s24le", decoded.to_str().unwrap()];
        ffmpeg(&mp3, &decode);
        std::fs::remove_file(&mp3).unwrap();
    }
    let (_, report) = check(&dir, &[]);
    for (bitrate, rate) in made {
        let name = format!("Midnight_LeadFromMp3{bitrate}{rate}.wav");
        let measured = &file(&report, &name)["measured"];
        assert!(measured["lossy_cutoff_hz"].is_null(), "{measured:#}");
        let found = findings(&report, Some(&name), "lossy-origin");
        assert_eq!(found.len(), 1, "{name}: {measured:#}");
        assert_eq!(found[0].0, "warn");
        assert!(found[0].1.contains("frame grid"), "{}", found[0].1);
        assert!(measured["mp3_grid"]["spreads"].as_f64().unwrap() > 8.0);
    }
    let clean = &file(&report, "Midnight_Lead.wav")["measured"];
    assert!(findings(&report, Some("Midnight_Lead.wav"), "lossy-origin").is_empty());
    assert!(
        clean["mp3_grid"]["spreads"].as_f64().unwrap() < 6.0,
        "{clean:#}"
    );
}

#[test]
fn a_limited_reference_mix_is_flagged() {
    let dir = folder("limiter");
    let song = song(f64::from(RATE), 20.0, 0.5, 11);
    let limited: Vec<f32> = limit(&song, f64::from(RATE), 8.0, 10f64.powf(-0.3 / 20.0));
    write_wav(
        &dir.join("Midnight_Mix.wav"),
        RATE,
        &[limited.clone(), limited.clone()],
        Store::Int(24),
    );
    let (_, report) = check(&dir, &[]);
    let limiter = findings(&report, Some("Midnight_Mix.wav"), "limiter");
    assert_ne!(limiter[0].0, "pass", "{limiter:?}");
    assert!(limiter[0].1.contains("-0.3 dBFS"), "{}", limiter[0].1);
    let clean = folder("no-limiter");
    write_wav(
        &clean.join("Midnight_Mix.wav"),
        RATE,
        &[song.clone(), song],
        Store::Int(24),
    );
    let (_, report) = check(&clean, &[]);
    assert_eq!(
        severity(&report, Some("Midnight_Mix.wav"), "limiter"),
        "pass"
    );
    // The same limiter on a bus, its stem delivered: the mix is that stem's sum, so its held
    // peaks are the stem's own and nothing on the master bus is blamed.
    let on_a_bus = folder("limiter on a bus");
    for name in ["Midnight_Music.wav", "Midnight_Mix.wav"] {
        write_wav(
            &on_a_bus.join(name),
            RATE,
            &[limited.clone(), limited.clone()],
            Store::Int(24),
        );
    }
    let (_, report) = check(&on_a_bus, &[]);
    let limiter = findings(&report, Some("Midnight_Mix.wav"), "limiter");
    assert_eq!(limiter[0].0, "pass", "{limiter:?}");
    assert!(
        limiter[0].1.starts_with("No limiter on the master bus"),
        "{limiter:?}"
    );
    for name in ["Midnight_Music.wav", "Midnight_Mix.wav"] {
        assert!(
            findings(&report, Some(name), "normalized").is_empty(),
            "{report:#}"
        );
    }
}

#[test]
fn a_dense_mix_held_at_a_ceiling_is_blamed_on_the_limiter_alone() {
    // Two steady stems; the mix is their sum held at exactly -0.3 dBFS by something non-linear
    // on the master. Dense (PLR well under 9 dB), but the limiter is the one cause to name.
    let dir = folder("dense-limited");
    let frames = 12 * RATE as usize;
    let tone = |hz: f32, n: usize| {
        let fade = ((frames - n) as f32 / RATE as f32).min(1.0);
        0.6 * fade * (2.0 * std::f32::consts::PI * hz * n as f32 / RATE as f32).sin()
    };
    let keys: Vec<f32> = (0..frames).map(|n| tone(440.0, n)).collect();
    let bass: Vec<f32> = (0..frames).map(|n| tone(110.0, n)).collect();
    let ceiling = 10f32.powf(-0.3 / 20.0);
    let mix: Vec<f32> = keys
        .iter()
        .zip(&bass)
        .map(|(k, b)| (k + b).clamp(-ceiling, ceiling))
        .collect();
    for (name, audio) in [("Keys", &keys), ("Bass", &bass), ("Mix", &mix)] {
        let mut audio = audio.clone();
        audio.extend(std::iter::repeat_n(0.0, RATE as usize));
        let path = dir.join(format!("Midnight_{name}.wav"));
        write_wav(&path, RATE, &[audio.clone(), audio], Store::Float32);
    }
    let (_, report) = check(&dir, &[]);
    let mix = file(&report, "Midnight_Mix.wav");
    let plr = mix["measured"]["loudness"]["plr_db"].as_f64().unwrap();
    assert!(plr < 9.0, "the dense-mix rule would apply: PLR {plr}");
    let limiter = findings(&report, Some("Midnight_Mix.wav"), "limiter");
    assert_eq!(limiter[0].0, "warn", "{report:#}");
    assert!(limiter[0].1.contains("-0.3 dBFS"), "{limiter:?}");
    assert!(
        findings(&report, Some("Midnight_Mix.wav"), "loudness").is_empty(),
        "{report:#}"
    );
    // The plateaus at the ceiling are the limiter's too, not a clipper's.
    assert_eq!(
        severity(&report, Some("Midnight_Mix.wav"), "clipping"),
        "pass",
        "{report:#}"
    );
    assert_ne!(
        severity(&report, Some("Midnight_Mix.wav"), "headroom"),
        "fail",
        "{report:#}"
    );
}

#[test]
fn names_and_the_reference_option() {
    let dir = folder("names");
    let set = stems(RATE, 6.0, 8);
    write_wav(&dir.join("stem1.wav"), RATE, &set[0].1, Store::Int(24));
    write_wav(&dir.join("Bass.wav"), RATE, &set[1].1, Store::Int(24));
    write_wav(
        &dir.join("Midnight_Vocals.wav"),
        RATE,
        &set[2].1,
        Store::Int(24),
    );
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(findings(&report, Some("stem1.wav"), "name")[0]
        .1
        .contains("says nothing"));
    assert!(findings(&report, Some("Bass.wav"), "name")[0]
        .1
        .contains("Song_Group"));
    assert!(findings(&report, Some("Midnight_Vocals.wav"), "name").is_empty());
    assert_eq!(severity(&report, None, "reference"), "warn");

    // A reference named otherwise, given on the command line.
    let elsewhere = folder("names-reference");
    let reference = elsewhere.join("bounce_v3_final.wav");
    write_wav(&reference, RATE, &mix(&set), Store::Int(24));
    let (_, report) = check(&dir, &["--reference", reference.to_str().unwrap()]);
    assert_eq!(file(&report, "bounce_v3_final.wav")["role"], "reference");
    assert!(report["null_test"]["residual_db"].as_f64().unwrap() < -100.0);
}

#[test]
fn broken_files_get_a_clear_error_and_the_rest_is_still_checked() {
    let dir = folder("broken");
    let set = stems(RATE, 6.0, 9);
    write_wav(
        &dir.join("Midnight_Drums.wav"),
        RATE,
        &set[0].1,
        Store::Int(24),
    );
    // Cut in half mid-sample.
    let cut = dir.join("Midnight_Bass.wav");
    write_wav(&cut, RATE, &set[1].1, Store::Int(24));
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 1]).unwrap();
    std::fs::write(dir.join("Midnight_Empty.wav"), b"").unwrap();
    std::fs::write(
        dir.join("Midnight_Text.wav"),
        b"these are my notes, not audio",
    )
    .unwrap();
    let mut absurd = bytes[..44].to_vec();
    absurd[22] = 0xFF; // 65 281 channels
    std::fs::write(dir.join("Midnight_Absurd.wav"), absurd).unwrap();
    std::fs::write(dir.join("notes.txt"), b"tempo 120").unwrap();
    // The mix: the set's alignments and null test run alongside the measurements, on the
    // readable stems only.
    write_wav(
        &dir.join("Midnight_Mix.wav"),
        RATE,
        &mix(&set[..2]),
        Store::Int(24),
    );
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 2);
    assert_eq!(file(&report, "Midnight_Drums.wav")["role"], "stem");
    assert_eq!(file(&report, "Midnight_Drums.wav")["offset"]["frames"], 0);
    // Drums and half of Bass against the whole mix: the missing half is heard.
    let residual = report["null_test"]["residual_db"].as_f64().unwrap();
    assert!(residual > -40.0, "{residual}");
    let cut = findings(&report, Some("Midnight_Bass.wav"), "readable");
    assert!(cut[0].1.contains("cut short"), "{cut:?}");
    for name in [
        "Midnight_Empty.wav",
        "Midnight_Text.wav",
        "Midnight_Absurd.wav",
    ] {
        assert_eq!(file(&report, name)["role"], "unreadable", "{name}");
        assert_eq!(file(&report, name)["result"], "fail");
    }
    assert!(report["ignored"][0]
        .as_str()
        .unwrap()
        .ends_with("notes.txt"));

    // Nothing readable at all, and usage errors: exit 3.
    let nothing = folder("nothing");
    std::fs::write(nothing.join("a.wav"), b"RIFF").unwrap();
    assert_eq!(check(&nothing, &[]).0, 3);
    // A folder with no audio: nothing was checked, so nothing "passed".
    let no_audio = folder("no-audio");
    std::fs::write(no_audio.join("s01.zip"), b"PK\x03\x04").unwrap();
    let (code, text, _) = run(&["check", no_audio.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(
        text.contains(&format!(
            "No WAV or AIFF files in {}: ignored s01.zip (not audio).",
            no_audio.display()
        )),
        "{text}"
    );
    assert!(!text.contains("PASS"), "{text}");
    assert_eq!(run(&["check"]).0, 3);
    assert_eq!(run(&["check", "/no/such/folder"]).0, 3);
    assert_eq!(run(&["check", "--bogus", "x"]).0, 3);
    let (code, help, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(help.contains("Exit status:"));
}

#[cfg(unix)]
#[test]
fn files_linked_into_the_folder_are_checked_and_a_broken_link_is_named() {
    let originals = folder("linked originals");
    let set = stems(RATE, 6.0, 4);
    write_set(&originals, &set, Store::Int(24));
    let linked = folder("linked");
    for entry in std::fs::read_dir(&originals).unwrap() {
        let path = entry.unwrap().path();
        std::os::unix::fs::symlink(&path, linked.join(path.file_name().unwrap())).unwrap();
    }
    let (code, report) = check(&linked, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["files"], set.len() + 1);
    assert!(report["null_test"]["residual_db"].as_f64().unwrap() < -100.0);
    let gone = originals.join("Midnight_Pads.wav");
    std::os::unix::fs::symlink(&gone, linked.join("Midnight_Pads.wav")).unwrap();
    let (code, report) = check(&linked, &[]);
    assert_eq!(code, 2, "{report:#}");
    let said = findings(&report, Some("Midnight_Pads.wav"), "readable");
    assert_eq!(
        said[0].1,
        format!(
            "A link to {}, which is not there: put the file itself in the delivery.",
            gone.display()
        )
    );
}

#[test]
fn the_delivery_note_is_written_and_a_failed_write_loses_nothing() {
    let dir = folder("note");
    let set = stems(RATE, 6.0, 10);
    write_set(&dir, &set, Store::Int(24));
    let (code, _, stderr) = run(&[
        "note",
        dir.to_str().unwrap(),
        "--tempo",
        "120",
        "--key",
        "A minor",
        "--time-signature",
        "4/4",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let note = std::fs::read_to_string(dir.join("Delivery note.txt")).unwrap();
    for expected in [
        "Song:            Midnight",
        "Tempo:           120 BPM",
        "Key:             A minor",
        "Time signature:  4/4",
        "Sample rate:     48000 Hz",
        "Format:          24-bit integer PCM",
        "Midnight_Bass.wav: peak",
        "Midnight_Mix.wav (reference mix)",
        "Checks: all passed",
    ] {
        assert!(note.contains(expected), "{expected:?} in\n{note}");
    }
    // An unwritable target: exit 4, the note on stdout instead.
    let (code, stdout, stderr) = run(&[
        "note",
        dir.to_str().unwrap(),
        "-o",
        "/proc/no/such/Delivery note.txt",
    ]);
    assert_eq!(code, 4);
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(stdout.contains("DELIVERY NOTE"));
}

#[test]
fn a_folder_of_thousands_of_files_is_checked_in_bounded_memory() {
    let dir = folder("thousands");
    let tone: Vec<f32> = (0..400).map(|n| 0.25 * (n as f32 * 0.05).sin()).collect();
    for i in 0..1_500 {
        write_wav(
            &dir.join(format!("Midnight_Take {i}.wav")),
            RATE,
            std::slice::from_ref(&tone),
            Store::Int(16),
        );
    }
    write_wav(
        &dir.join("Midnight_Mix.wav"),
        RATE,
        std::slice::from_ref(&tone),
        Store::Int(24),
    );
    let (code, report) = check(&dir, &[]);
    assert_eq!(code, 2);
    assert_eq!(report["summary"]["files"], 1_501);
    assert_eq!(
        severity(&report, Some("Midnight_Take 1499.wav"), "bit-depth"),
        "fail"
    );
    let null = findings(&report, None, "null-test");
    assert!(null[0].1.contains("1500 stems against one mix"), "{null:?}");
}

/// WAV and AIFF variants as ffmpeg and sox write them (extensible headers, RF64, AIFF-C, 8-bit,
/// 64-bit float): every one decodes to the right length and level.
#[test]
#[ignore = "needs ffmpeg and sox: cargo xtask test --all"]
fn files_written_by_other_programs_decode_exactly() {
    let dir = folder("interop");
    // 1 s of stereo: a 997 Hz sine at 0.5 on the left, 0.25 on the right, faded in over 10 ms.
    let frames = RATE as usize;
    let raw = dir.join("sine.f32");
    let samples: Vec<u8> = (0..frames)
        .flat_map(|n| {
            let fade = (n as f64 / 480.0).min(1.0);
            let s = fade * (2.0 * std::f64::consts::PI * 997.0 * n as f64 / f64::from(RATE)).sin();
            [(0.5 * s) as f32, (0.25 * s) as f32]
        })
        .flat_map(f32::to_le_bytes)
        .collect();
    std::fs::write(&raw, samples).unwrap();
    let ffmpeg = |name: &str, args: &[&str]| {
        let out = dir.join(name);
        let status = Command::new("ffmpeg")
            .args([
                "-v", "error", "-y", "-f", "f32le", "-ar", "48000", "-ac", "2", "-i",
            ])
            .arg(&raw)
            .args(args)
            .arg(&out)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success(), "{name}");
        out
    };
    let sox = |name: &str, args: &[&str]| {
        let out = dir.join(name);
        let status = Command::new("sox")
            .args(["-t", "f32", "-r", "48000", "-c", "2"])
            .arg(&raw)
            .args(args)
            .arg(&out)
            .status()
            .expect("sox runs");
        assert!(status.success(), "{name}");
        out
    };
    // (file, encoding type, bits, tolerance of the peak in dB)
    let cases = [
        (
            ffmpeg("ff_s16.wav", &["-c:a", "pcm_s16le"]),
            "int",
            16,
            0.001,
        ),
        (
            ffmpeg("ff_s24.wav", &["-c:a", "pcm_s24le"]),
            "int",
            24,
            0.0001,
        ),
        (
            ffmpeg("ff_s32.wav", &["-c:a", "pcm_s32le"]),
            "int",
            32,
            0.0001,
        ),
        (ffmpeg("ff_u8.wav", &["-c:a", "pcm_u8"]), "int", 8, 0.1),
        (
            ffmpeg("ff_f32.wav", &["-c:a", "pcm_f32le"]),
            "float",
            32,
            0.0001,
        ),
        (
            ffmpeg("ff_f64.wav", &["-c:a", "pcm_f64le"]),
            "float",
            64,
            0.0001,
        ),
        (
            ffmpeg("ff_rf64.wav", &["-c:a", "pcm_s24le", "-rf64", "always"]),
            "int",
            24,
            0.0001,
        ),
        (
            ffmpeg("ff_s16.aiff", &["-c:a", "pcm_s16be"]),
            "int",
            16,
            0.001,
        ),
        (
            ffmpeg("ff_s24.aiff", &["-c:a", "pcm_s24be"]),
            "int",
            24,
            0.0001,
        ),
        (sox("sox_s24.wav", &["-b", "24"]), "int", 24, 0.0001),
        (sox("sox_s24.aiff", &["-b", "24"]), "int", 24, 0.0001),
        (
            sox("sox_f32.aifc", &["-e", "floating-point", "-b", "32"]),
            "float",
            32,
            0.0001,
        ),
    ];
    for (path, kind, bits, tolerance) in cases {
        let (_, report) = check(&path, &[]);
        let name = path.file_name().unwrap().to_str().unwrap();
        let f = file(&report, name);
        assert_eq!(f["role"], "stem", "{name}: {f:#}");
        assert_eq!(f["format"]["encoding"]["type"], kind, "{name}");
        assert_eq!(f["format"]["encoding"]["bits"], bits, "{name}");
        assert_eq!(f["format"]["sample_rate"], RATE, "{name}");
        assert_eq!(f["format"]["channels"], 2, "{name}");
        assert_eq!(f["format"]["frames"], frames, "{name}");
        let peak = f["measured"]["sample_peak_dbfs"].as_f64().unwrap();
        // The left channel's peak: 0.5 (-6.02 dBFS), within the format's quantization.
        assert!(
            (peak - 20.0 * 0.5f64.log10()).abs() < tolerance,
            "{name}: {peak}"
        );
    }
}
