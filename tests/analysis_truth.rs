//! The analysis core against analytic truth: sines of known amplitude and phase, EBU Tech 3341
//! true-peak cases, exact clip counts, block-size invariance, and the `ebur128` crate.

mod support;

use stem_preflight::analysis::{gain_to_db, ChannelAnalyzer, ClipEvent, ClipKind, TruePeakMeter};
use support::signals::{faded_sine, program, Rng};

/// Our true-peak tolerance: ±0.05 dB. EBU Tech 3341 allows +0.2/-0.4 dB; ITU-R BS.1770-4's
/// own 4x, 48-tap method misses by up to 0.69 dB near fs/2.
const TRUE_PEAK_TOLERANCE_DB: f32 = 0.05;

fn true_peak_of(x: &[f32]) -> f32 {
    let mut meter = TruePeakMeter::new();
    meter.process(x, |_, _| {});
    meter.finish(|_, _| {});
    meter.max()
}

#[test]
fn sine_sweep_reads_within_tolerance_at_every_rate_frequency_and_phase() {
    let rates = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];
    let mut worst = 0.0f32;
    for &rate in &rates {
        // 24 log-spaced frequencies from 20 Hz to 0.45·fs.
        let top = 0.45 * rate;
        for i in 0..24 {
            let freq = 20.0 * (top / 20.0f64).powf(i as f64 / 23.0);
            for phase in [0.0, 17.0, 45.0, 90.0, 133.0] {
                // At least three full periods between the fades.
                let seconds = 0.02 + (3.0 / freq).max(0.005);
                let x = faded_sine(rate, freq, 0.5, phase, 10.0, seconds);
                let error_db = gain_to_db(true_peak_of(&x)) - gain_to_db(0.5);
                worst = worst.max(error_db.abs());
                assert!(
                    error_db.abs() <= TRUE_PEAK_TOLERANCE_DB,
                    "{freq:.1} Hz at {rate} Hz, phase {phase}°: error {error_db:+.4} dB"
                );
            }
        }
    }
    println!("worst true-peak error over the sweep: {worst:.4} dB");
}

#[test]
fn ebu_tech_3341_true_peak_cases() {
    let fs = 48_000.0;
    // Cases 15–19 (Tech 3341 §4, table 4): expected dBTP from the analytic peak.
    let cases = [
        ("15: fs/4, 0°", fs / 4.0, 0.0, 0.5, -6.0206),
        ("16: fs/4, 45°", fs / 4.0, 45.0, 0.5, -6.0206),
        ("17: fs/6, 60°", fs / 6.0, 60.0, 0.5, -6.0206),
        ("18: fs/8, 67.5°", fs / 8.0, 67.5, 0.5, -6.0206),
        ("19: fs/4, 45°, 1.41 FS", fs / 4.0, 45.0, 1.41, 2.9844),
    ];
    for (name, freq, phase, amplitude, expected_dbtp) in cases {
        let x = faded_sine(fs, freq, amplitude, phase, 10.0, 0.5);
        let read = gain_to_db(true_peak_of(&x));
        assert!(
            (read - expected_dbtp).abs() <= TRUE_PEAK_TOLERANCE_DB,
            "case {name}: read {read:.4} dBTP, expected {expected_dbtp:.4}"
        );
    }
}

#[test]
fn sample_rates_from_8k_to_384k() {
    for rate in [8_000.0, 11_025.0, 22_050.0, 32_000.0, 352_800.0, 384_000.0] {
        for freq_fraction in [0.01, 0.2, 0.45] {
            let x = faded_sine(rate, freq_fraction * rate, 0.25, 30.0, 10.0, 0.05);
            let error_db = gain_to_db(true_peak_of(&x)) - gain_to_db(0.25);
            assert!(
                error_db.abs() <= TRUE_PEAK_TOLERANCE_DB,
                "{rate}: {error_db}"
            );
        }
    }
}

/// Feeds `x` in blocks of the given sizes (cycled) and collects the summary and events.
fn analyse_in_blocks(x: &[f32], sizes: &[usize]) -> (String, Vec<ClipEvent>) {
    let mut analyzer = ChannelAnalyzer::new(0);
    let mut events = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < x.len() {
        let size = sizes[i % sizes.len()].min(x.len() - at);
        analyzer.process(&x[at..at + size], |e| events.push(e));
        at += size;
        i += 1;
    }
    analyzer.finish(|e| events.push(e));
    // True-peak runs are reported a few samples later than sample runs, so how the two kinds
    // interleave depends on block edges; each kind's own sequence must not.
    events.sort_by_key(|e| (e.kind as u8, e.start_sample));
    (format!("{:?}", analyzer.summary()), events)
}

#[test]
fn results_are_identical_for_any_block_size() {
    // Program material driven into overs and clips, so every detector has work to do.
    let mut x = program(48_000.0, 3.0, 1.3, 7);
    for v in &mut x {
        *v = v.clamp(-1.0, 1.0);
    }
    x.extend(faded_sine(48_000.0, 12_000.0, 1.41, 45.0, 10.0, 0.2));
    x[70_000] = f32::NAN;
    let reference = analyse_in_blocks(&x, &[x.len()]);
    assert!(
        !reference.1.is_empty(),
        "the signal should produce clip events"
    );
    let mut rng = Rng::new(3);
    let random: Vec<usize> = (0..1000).map(|_| rng.range(1, 3000)).collect();
    for sizes in [vec![1], vec![64], vec![512], vec![4096], vec![8192], random] {
        let got = analyse_in_blocks(&x, &sizes);
        assert_eq!(got, reference, "block sizes starting {:?}", sizes.first());
    }
}

fn events_of(x: &[f32], sizes: &[usize]) -> Vec<ClipEvent> {
    analyse_in_blocks(x, sizes).1
}

fn kinds(events: &[ClipEvent], kind: ClipKind) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| (e.start_sample, e.length_samples))
        .collect()
}

#[test]
fn an_over_spanning_a_block_boundary_is_one_event() {
    let mut x = vec![0.1f32; 1000];
    for v in &mut x[510..515] {
        *v = 1.0;
    }
    let events = events_of(&x, &[512]);
    assert_eq!(kinds(&events, ClipKind::Sample), vec![(510, 5)]);
}

#[test]
fn a_single_sample_at_exactly_full_scale_is_one_clip() {
    let mut x = vec![0.0f32; 100];
    x[40] = 1.0;
    let events = events_of(&x, &[7]);
    assert_eq!(kinds(&events, ClipKind::Sample), vec![(40, 1)]);
    // A lone sample at 1.0 interpolates to exactly 1.0 and no higher: not above 0 dBTP.
    assert!(kinds(&events, ClipKind::TruePeak).is_empty());
}

#[test]
fn nan_in_the_middle_of_an_over_does_not_split_it() {
    let mut x = vec![0.2f32; 100];
    x[50] = 1.0;
    x[51] = f32::NAN;
    x[52] = -1.0;
    let events = events_of(&x, &[1]);
    assert_eq!(kinds(&events, ClipKind::Sample), vec![(50, 3)]);
}

#[test]
fn four_sample_flat_top_at_minus_half_db_is_baked_in_clipping() {
    // A sine clipped at -0.5 dBFS (0.9441) for exactly four samples at its crest.
    let ceiling = 10f32.powf(-0.5 / 20.0);
    let mut x: Vec<f32> = (0..2000)
        .map(|n| 0.9 * (2.0 * std::f32::consts::PI * n as f32 / 400.0).sin())
        .collect();
    for v in &mut x[1000..1004] {
        *v = ceiling;
    }
    let events = events_of(&x, &[1001, 3]);
    assert_eq!(kinds(&events, ClipKind::FlatTop), vec![(1000, 4)]);
    assert!(kinds(&events, ClipKind::Sample).is_empty());
}

#[test]
fn silence_and_quiet_held_values_are_not_clipping() {
    let mut x = vec![0.0f32; 5000];
    // A held value at -46 dBFS, below the -40 dBFS floor.
    for v in &mut x[1000..3000] {
        *v = 0.005;
    }
    assert!(events_of(&x, &[256]).is_empty());
}

#[test]
fn inter_sample_overs_are_found_between_samples_below_full_scale() {
    // fs/4 at 45° and 1.41 FS: samples at ±0.997, reconstructed peaks at 1.41 (+3 dBTP).
    let x = faded_sine(48_000.0, 12_000.0, 1.41, 45.0, 10.0, 0.1);
    let events = events_of(&x, &[333]);
    assert!(
        kinds(&events, ClipKind::Sample).is_empty(),
        "no sample reaches 1.0"
    );
    // Each crest is its own excursion above 0 dBTP: one over per interval between two samples
    // of the same sign, every second interval, for the ~0.08 s between the fades.
    let overs = kinds(&events, ClipKind::TruePeak);
    assert!(
        overs.len() > 1800 && overs.len() < 2400,
        "{} overs",
        overs.len()
    );
    assert!(overs.iter().all(|&(_, len)| len == 1));
    assert!(overs.windows(2).all(|w| w[1].0 - w[0].0 == 2));
    let peak = events.iter().map(|e| e.peak).fold(0.0f32, f32::max);
    assert!((gain_to_db(peak) - 2.9844).abs() < TRUE_PEAK_TOLERANCE_DB);
}

#[test]
fn agrees_with_the_ebur128_crate_on_program_material() {
    // ebur128 (4x, 49 taps) reads faded-in sines within about -0.27..+0.10 dB of the truth; ours
    // is within ±0.05 dB. So ours minus theirs must lie within -0.15..+0.32 dB, widened a little
    // for program material.
    for seed in 0..6 {
        let x = program(48_000.0, 2.0, 0.8, seed);
        let ours = gain_to_db(true_peak_of(&x));
        let mut reference = ebur128::EbuR128::new(1, 48_000, ebur128::Mode::TRUE_PEAK).unwrap();
        reference.add_frames_f32(&x).unwrap();
        let theirs = gain_to_db(reference.true_peak(0).unwrap() as f32);
        let difference = ours - theirs;
        assert!(
            (-0.2..=0.35).contains(&difference),
            "seed {seed}: ours {ours:.3} dBTP, ebur128 {theirs:.3} dBTP"
        );
    }
}
