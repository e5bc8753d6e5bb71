//! The limiter detector on labelled material: songs limited by a look-ahead brickwall limiter
//! at several ceilings and amounts of gain reduction, and clean negatives.
//!
//! The limiters are ours (`support/dynamics.rs`) and other people's, all installed by `.ci/run`
//! from Debian: ffmpeg's `alimiter`, sox's `compand` set up as a limiter, and the LV2 plugin
//! x42-dpl (Digital Peak Limiter) run offline by `lv2file`.

mod support;

use stem_preflight::analysis::{db_to_gain, LimiterDetector, LimiterEvidence, LimiterVerdict};
use support::dynamics::{compress, limit};
use support::external::{ffmpeg_alimiter, ffmpeg_compressor, sox_compand_limiter, x42_dpl};
use support::signals::{faded_sine, program, song, Rng};

const RATE: f64 = 48_000.0;

fn detect(x: &[f32]) -> LimiterEvidence {
    let mut detector = LimiterDetector::new(RATE as f32);
    for block in x.chunks(512) {
        detector.process(&[block, block]);
    }
    detector.evidence()
}

fn detected(e: &LimiterEvidence) -> bool {
    e.verdict >= LimiterVerdict::Likely
}

/// Runs the detector on clean material and counts (false alarms, cases).
fn check_clean(name: &str, clean: &[f32], false_alarms: &mut (u32, u32)) {
    let e = detect(clean);
    false_alarms.1 += 1;
    println!("clean {name}: {e:?}");
    if detected(&e) {
        false_alarms.0 += 1;
        println!("false alarm on {name}: {e:?}");
    }
}

#[test]
fn limited_songs_are_flagged_and_clean_material_is_not() {
    let mut hits_heavy = (0, 0);
    let mut hits_light = (0, 0);
    let mut false_alarms = (0, 0);
    for seed in 0..4 {
        let mix = song(RATE, 30.0, 0.5, seed);
        for ceiling_db in [-0.1, -0.3, -1.0] {
            for reduction_db in [1.5, 3.0, 6.0, 12.0] {
                // Drive the mix so the limiter takes off about `reduction_db` on the loudest peaks.
                let drive = reduction_db + ceiling_db - 20.0 * 0.5f64.log10();
                let limited = limit(&mix, RATE, drive, f64::from(db_to_gain(ceiling_db as f32)));
                let e = detect(&limited);
                let bucket = if reduction_db >= 3.0 {
                    &mut hits_heavy
                } else {
                    &mut hits_light
                };
                bucket.1 += 1;
                if detected(&e) {
                    bucket.0 += 1;
                    // The ceiling is read from the held peaks: exact to 0.01 dB.
                    assert!(
                        (e.ceiling_dbfs - ceiling_db as f32).abs() < 0.01,
                        "ceiling {ceiling_db}: read {e:?}"
                    );
                } else {
                    println!("missed: seed {seed}, ceiling {ceiling_db}, GR {reduction_db}: {e:?}");
                }
            }
        }
        // Negatives from the same song: untouched, and through a 4:1 bus compressor.
        for (name, clean) in [
            ("unlimited mix", mix.clone()),
            (
                "4:1 compressor, 3 ms",
                compress(&mix, RATE, -20.0, 4.0, 3.0, 120.0, 6.0),
            ),
            (
                "4:1 compressor, 10 ms",
                compress(&mix, RATE, -20.0, 4.0, 10.0, 120.0, 6.0),
            ),
        ] {
            check_clean(&format!("{name} (seed {seed})"), &clean, &mut false_alarms);
        }
    }
    let mut rng = Rng::new(1);
    let pink_ish = program(RATE, 30.0, 0.9, 77);
    let white: Vec<f32> = (0..(RATE * 20.0) as usize)
        .map(|_| (rng.unit() as f32 * 2.0 - 1.0) * 0.5)
        .collect();
    let sweep: Vec<f32> = (0..(RATE * 20.0) as usize)
        .map(|n| {
            let t = n as f64 / RATE;
            // 20 Hz to 20 kHz exponential sweep at -1 dBFS.
            let phase = 2.0 * std::f64::consts::PI * 20.0 * 20.0 / 3.0f64.ln().exp()
                * ((t / 20.0 * 1000f64.ln()).exp() - 1.0)
                / (1000f64.ln() / 20.0)
                / 20.0;
            (0.89 * phase.sin()) as f32
        })
        .collect();
    let square: Vec<f32> = (0..(RATE * 20.0) as usize)
        .map(|n| if (n / 100) % 2 == 0 { 0.9 } else { -0.9 })
        .collect();
    for (name, clean) in [
        ("sine", faded_sine(RATE, 1000.0, 0.9, 0.0, 10.0, 20.0)),
        ("square", square),
        ("sweep", sweep),
        ("silence", vec![0.0; (RATE * 20.0) as usize]),
        ("program noise", pink_ish),
        ("white noise", white),
    ] {
        check_clean(name, &clean, &mut false_alarms);
    }
    println!("confusion matrix        flagged  not flagged");
    println!(
        "limited, GR >= 3 dB     {:7}  {:11}",
        hits_heavy.0,
        hits_heavy.1 - hits_heavy.0
    );
    println!(
        "limited, GR 1-3 dB      {:7}  {:11}",
        hits_light.0,
        hits_light.1 - hits_light.0
    );
    println!(
        "clean                   {:7}  {:11}",
        false_alarms.0,
        false_alarms.1 - false_alarms.0
    );
    assert!(hits_heavy.0 as f64 >= 0.95 * hits_heavy.1 as f64);
    assert!(hits_light.0 as f64 >= 0.80 * hits_light.1 as f64);
    assert_eq!(false_alarms.0, 0);
}

/// Material the detector was not tuned on: many unlimited songs at several levels, raw and
/// through ffmpeg's compressor at bus settings (2:1 to 4:1, 3 to 30 ms attack).
#[test]
#[ignore = "needs ffmpeg: cargo xtask test --all"]
fn a_larger_clean_corpus_raises_no_alarm() {
    let mut false_alarms = (0, 0);
    for seed in 100..130u64 {
        let peak = [0.3, 0.5, 0.7, 0.9][seed as usize % 4];
        let mix = song(RATE, 20.0, peak, seed);
        check_clean(&format!("unlimited song {seed}"), &mix, &mut false_alarms);
        let ratio = [2.0, 3.0, 4.0][seed as usize % 3];
        let attack_ms = [3.0, 10.0, 30.0][seed as usize / 3 % 3];
        let compressed = ffmpeg_compressor(&mix, RATE as u32, -18.0, ratio, attack_ms, 3.0);
        check_clean(
            &format!("song {seed}, ffmpeg compressor {ratio}:1 {attack_ms} ms"),
            &compressed,
            &mut false_alarms,
        );
    }
    println!("false alarms: {}/{}", false_alarms.0, false_alarms.1);
    // The issue allows 2 %: at most one of these 60 cases.
    assert!(f64::from(false_alarms.0) <= 0.02 * f64::from(false_alarms.1));
}

#[test]
fn the_explanation_names_the_ceiling_and_the_fix() {
    let mix = song(RATE, 30.0, 0.5, 9);
    let limited = limit(&mix, RATE, 12.0, f64::from(db_to_gain(-0.3)));
    let e = detect(&limited);
    assert_eq!(e.verdict, LimiterVerdict::Certain, "{e:?}");
    let text = e.explanation();
    assert!(text.starts_with("Peaks pinned at -0.3 dBFS in "), "{text}");
    assert!(text.contains("Bypass it before exporting stems"), "{text}");
}

#[test]
fn a_verdict_within_five_seconds_of_loud_material() {
    let mix = song(RATE, 30.0, 0.5, 4);
    let limited = limit(&mix, RATE, 12.0, f64::from(db_to_gain(-1.0)));
    let mut detector = LimiterDetector::new(RATE as f32);
    let mut flagged_at = None;
    for (i, block) in limited.chunks(4800).enumerate() {
        detector.process(&[block]);
        if flagged_at.is_none() && detected(&detector.evidence()) {
            flagged_at = Some((i + 1) as f64 * 0.1);
        }
    }
    // The song starts loud; 12 passages of 0.4 s are 4.8 s.
    let seconds = flagged_at.expect("the limiter is found");
    assert!(seconds <= 5.0, "flagged only after {seconds} s");
}

#[test]
fn block_size_does_not_change_the_evidence() {
    let mix = song(RATE, 20.0, 0.5, 5);
    let limited = limit(&mix, RATE, 6.0, f64::from(db_to_gain(-0.3)));
    let mut reference = LimiterDetector::new(RATE as f32);
    reference.process(&[&limited[..]]);
    let mut rng = Rng::new(8);
    let mut chunked = LimiterDetector::new(RATE as f32);
    let mut at = 0;
    while at < limited.len() {
        let n = rng.range(1, 3000).min(limited.len() - at);
        chunked.process(&[&limited[at..at + n]]);
        at += n;
    }
    assert_eq!(
        format!("{:?}", reference.evidence()),
        format!("{:?}", chunked.evidence())
    );
}

#[test]
#[ignore = "needs ffmpeg, sox, lv2file and x42-plugins: cargo xtask test --all"]
fn other_peoples_limiters_are_found() {
    let mut found = [[(0u32, 0u32); 2]; 3]; // [tool][heavy?] = (flagged, total)
    let tools = ["ffmpeg alimiter", "sox compand", "x42-dpl (LV2)"];
    for seed in 0..3 {
        let mix = song(RATE, 30.0, 0.5, 20 + seed);
        for ceiling_db in [-0.1f64, -0.3, -1.0] {
            for reduction_db in [1.0, 1.5, 2.0, 2.5, 3.0, 6.0, 12.0] {
                let drive = reduction_db + ceiling_db - 20.0 * 0.5f64.log10();
                for (tool, name) in tools.iter().enumerate() {
                    let limited = match tool {
                        0 => {
                            ffmpeg_alimiter(&mix, RATE as u32, drive, 10f64.powf(ceiling_db / 20.0))
                        }
                        1 => sox_compand_limiter(&mix, RATE as u32, drive, ceiling_db),
                        _ => x42_dpl(&mix, RATE as u32, drive, ceiling_db),
                    };
                    let e = detect(&limited);
                    let cell = &mut found[tool][usize::from(reduction_db >= 3.0)];
                    cell.1 += 1;
                    if detected(&e) {
                        cell.0 += 1;
                    } else {
                        println!("missed: {name}, seed {seed}, ceiling {ceiling_db}, GR {reduction_db}: {e:?}");
                    }
                }
            }
        }
    }
    println!("limiter           GR >= 3 dB   GR 1-3 dB");
    for (tool, name) in tools.iter().enumerate() {
        let [light, heavy] = found[tool];
        println!(
            "{name:17} {:3}/{:<3}      {:3}/{:<3}",
            heavy.0, heavy.1, light.0, light.1
        );
    }
    // The targets apply to the corpus as a whole. (sox's compand follows an envelope
    // rather than the peaks, so at 1 dB it lets peaks past its ceiling: it is the harder tool.)
    let pooled = |heavy: usize| {
        found.iter().fold((0u32, 0u32), |(f, t), cells| {
            (f + cells[heavy].0, t + cells[heavy].1)
        })
    };
    let (heavy, light) = (pooled(1), pooled(0));
    println!(
        "all tools         {:3}/{:<3}      {:3}/{:<3}",
        heavy.0, heavy.1, light.0, light.1
    );
    assert!(f64::from(heavy.0) >= 0.95 * f64::from(heavy.1));
    assert!(f64::from(light.0) >= 0.80 * f64::from(light.1));
}
