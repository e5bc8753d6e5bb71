//! The analysis core against a bare peak scan and the `ebur128` crate's true peak, on 10 s of
//! 48 kHz stereo (program material, full-band noise near full scale, a limited master), with the cost of bare 4x interpolation as a reference floor; and loudness
//! against a bare K-weighting cascade and the `ebur128` crate's loudness. Run:
//! `cargo bench --bench analysis`. Results: BENCHMARKS.md.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

use stem_preflight::analysis::k_weighting::Biquad;
use stem_preflight::analysis::simd::widest;
use stem_preflight::analysis::{ChannelAnalyzer, LimiterDetector, LoudnessMeter};
use support::dynamics::limit;
use support::signals::{program, song, Rng};

const RATE: usize = 48_000;
const SECONDS: f64 = 10.0;
/// The plugin sees blocks of this size in a typical session.
const BLOCK: usize = 512;

/// Program-like material: noise under a varying envelope with transients, peaks at -6 dBFS.
fn program_material() -> [Vec<f32>; 2] {
    [0, 1].map(|seed| program(RATE as f64, SECONDS, 0.5, seed))
}

/// Worst case: full-band noise peaking at -0.1 dBFS. Every stretch is loud enough that an
/// inter-sample peak could set a new maximum or cross 0 dBTP, so nothing can be skipped and
/// many intervals need the fine search.
fn worst_case() -> [Vec<f32>; 2] {
    [3, 4].map(|seed| {
        let mut rng = Rng::new(seed);
        (0..(RATE as f64 * SECONDS) as usize)
            .map(|_| ((rng.unit() * 2.0 - 1.0) * 0.9886) as f32)
            .collect()
    })
}

/// A heavily limited master, the realistic worst case on a master bus: a song-like mix driven
/// 12 dB into a look-ahead brickwall limiter whose ceiling is -0.3 dBFS, so the peaks of every
/// loud passage sit at the running maximum and most intervals come close to it.
fn limited_master() -> [Vec<f32>; 2] {
    let ceiling = 10f64.powf(-0.3 / 20.0);
    [5, 6].map(|seed| {
        limit(
            &song(RATE as f64, SECONDS, 0.5, seed),
            RATE as f64,
            12.0,
            ceiling,
        )
    })
}

/// The reference floor: the largest |x| per channel, written the obvious way.
fn bare_scan(channels: &[Vec<f32>; 2]) -> f32 {
    channels
        .iter()
        .map(|c| c.iter().fold(0.0f32, |m, &x| m.max(x.abs())))
        .fold(0.0, f32::max)
}

/// Taps per phase of BS.1770-4 Annex 2's 4x interpolator (48 taps in 4 phases).
const BS1770_TAPS: usize = 12;
/// Outputs computed together, in registers, by the reference floor.
const FLOOR_SPAN: usize = 16;

/// The least a 4x true-peak meter must compute on every sample when nothing can be skipped:
/// three interpolated points per sample (phase 0 taken as the sample itself) with a table the
/// size of BS.1770's, and the largest |y|. Nothing else: no clip runs, no refinement, no
/// accuracy beyond BS.1770's. Each span of outputs is summed tap by tap in registers, with
/// AVX2 when the CPU has it, like the meter's own kernel. What the table holds does not change
/// the cost; a windowed sinc of that length is used.
fn bs1770_interpolation_floor(table: &[[f32; BS1770_TAPS]; 3], channels: &[Vec<f32>; 2]) -> f32 {
    widest(
        #[inline(always)]
        || {
            let mut peak = [0.0f32; FLOOR_SPAN];
            for x in channels {
                for window in x.windows(FLOOR_SPAN + BS1770_TAPS).step_by(FLOOR_SPAN) {
                    let window: &[f32; FLOOR_SPAN + BS1770_TAPS] =
                        window.try_into().expect("windows of this length");
                    for phase in table {
                        let mut y = [0.0f32; FLOOR_SPAN];
                        for (k, &h) in phase.iter().enumerate() {
                            for (i, y) in y.iter_mut().enumerate() {
                                *y += h * window[k + i];
                            }
                        }
                        for (p, y) in peak.iter_mut().zip(&y) {
                            *p = p.max(y.abs());
                        }
                    }
                }
            }
            peak.iter().fold(0.0f32, |m, &p| m.max(p))
        },
    )
}

/// A Hann-windowed sinc in the floor's shape: `table[p][k]` gives y(n + (p+1)/4).
fn bs1770_sized_table() -> [[f32; BS1770_TAPS]; 3] {
    let center = (BS1770_TAPS / 2 - 1) as f64;
    std::array::from_fn(|p| {
        std::array::from_fn(|k| {
            // Never a whole number: the three phases lie between samples.
            let u = (p + 1) as f64 / 4.0 + center - k as f64;
            let sinc = (std::f64::consts::PI * u).sin() / (std::f64::consts::PI * u);
            let hann = 0.5 + 0.5 * (std::f64::consts::PI * u / (BS1770_TAPS as f64 / 2.0)).cos();
            (sinc * hann) as f32
        })
    })
}

fn ebur128_true_peak(channels: &[Vec<f32>; 2]) -> f64 {
    let mut meter = ebur128::EbuR128::new(2, RATE as u32, ebur128::Mode::TRUE_PEAK)
        .expect("valid configuration");
    for start in (0..channels[0].len()).step_by(BLOCK) {
        let end = (start + BLOCK).min(channels[0].len());
        meter
            .add_frames_planar_f32(&[&channels[0][start..end], &channels[1][start..end]])
            .expect("frames accepted");
    }
    meter.true_peak(0).unwrap().max(meter.true_peak(1).unwrap())
}

/// The loudness floor: the K-weighting's two biquads per channel and a sum of squares, nothing
/// else (no blocks, no gates). Recursive filters bound how fast any exact loudness meter runs.
fn k_weighting_floor(shelf: Biquad, high_pass: Biquad, channels: &[Vec<f32>; 2]) -> f64 {
    let mut total = 0.0;
    for channel in channels {
        let (mut s1, mut s2, mut h1, mut h2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for &x in channel {
            let x = f64::from(x);
            let y = shelf.b[0] * x + s1;
            s1 = shelf.b[1] * x - shelf.a[0] * y + s2;
            s2 = shelf.b[2] * x - shelf.a[1] * y;
            let z = y + h1;
            h1 = -2.0 * y - high_pass.a[0] * z + h2;
            h2 = y - high_pass.a[1] * z;
            total += z * z;
        }
    }
    total
}

/// Our loudness (momentary, short-term, integrated, range) in the plugin's blocks.
fn our_loudness(meter: &mut LoudnessMeter, channels: &[Vec<f32>; 2]) -> f64 {
    meter.reset();
    for start in (0..channels[0].len()).step_by(BLOCK) {
        let end = (start + BLOCK).min(channels[0].len());
        meter.process(&[&channels[0][start..end], &channels[1][start..end]]);
    }
    let loudness = meter.loudness();
    loudness.integrated_lufs.unwrap_or(0.0) + loudness.range_lu.unwrap_or(0.0)
}

/// The `ebur128` crate's integrated loudness and range (no true peak), same blocks.
fn ebur128_loudness(channels: &[Vec<f32>; 2]) -> f64 {
    let mode = ebur128::Mode::I | ebur128::Mode::LRA;
    let mut meter = ebur128::EbuR128::new(2, RATE as u32, mode).unwrap();
    for start in (0..channels[0].len()).step_by(BLOCK) {
        let end = (start + BLOCK).min(channels[0].len());
        meter
            .add_frames_planar_f32(&[&channels[0][start..end], &channels[1][start..end]])
            .unwrap();
    }
    meter.loudness_global().unwrap() + meter.loudness_range().unwrap()
}

fn full_analysis(
    analyzers: &mut [ChannelAnalyzer; 2],
    limiter: &mut LimiterDetector,
    mut loudness: Option<&mut LoudnessMeter>,
    channels: &[Vec<f32>; 2],
) -> u64 {
    let mut events = 0u64;
    limiter.reset();
    if let Some(meter) = loudness.as_deref_mut() {
        meter.reset();
    }
    for analyzer in analyzers.iter_mut() {
        analyzer.reset();
    }
    for start in (0..channels[0].len()).step_by(BLOCK) {
        let end = (start + BLOCK).min(channels[0].len());
        let blocks = [&channels[0][start..end], &channels[1][start..end]];
        for (analyzer, block) in analyzers.iter_mut().zip(blocks) {
            analyzer.process(block, |_| events += 1);
        }
        limiter.process(&blocks);
        if let Some(meter) = loudness.as_deref_mut() {
            meter.process(&blocks);
        }
    }
    for analyzer in analyzers.iter_mut() {
        analyzer.finish(|_| events += 1);
    }
    events + analyzers[0].summary().clips.sample_clipped + limiter.evidence().verdict as u64
}

fn bench(c: &mut Criterion) {
    for (name, material) in [
        ("program", program_material()),
        ("worst_case", worst_case()),
        ("limited_master", limited_master()),
    ] {
        let mut group = c.benchmark_group(format!("analysis_{name}"));
        group.throughput(Throughput::Elements(material[0].len() as u64));
        group.sample_size(20);
        group.bench_function(BenchmarkId::new("bare_max_abs_scan", name), |b| {
            b.iter(|| bare_scan(black_box(&material)))
        });
        group.bench_function(BenchmarkId::new("ebur128_true_peak", name), |b| {
            b.iter(|| ebur128_true_peak(black_box(&material)))
        });
        let table = bs1770_sized_table();
        group.bench_function(BenchmarkId::new("bs1770_interpolation_floor", name), |b| {
            b.iter(|| bs1770_interpolation_floor(&table, black_box(&material)))
        });
        let mut analyzers = [ChannelAnalyzer::new(0), ChannelAnalyzer::new(1)];
        let mut limiter = LimiterDetector::new(RATE as f32);
        group.bench_function(BenchmarkId::new("stem_preflight_full", name), |b| {
            b.iter(|| full_analysis(&mut analyzers, &mut limiter, None, black_box(&material)))
        });
        let mut meter = LoudnessMeter::new(RATE as f64, 2);
        group.bench_function(
            BenchmarkId::new("stem_preflight_full_with_loudness", name),
            |b| {
                b.iter(|| {
                    full_analysis(
                        &mut analyzers,
                        &mut limiter,
                        Some(&mut meter),
                        black_box(&material),
                    )
                })
            },
        );
        group.finish();
    }
    let material = program_material();
    let mut group = c.benchmark_group("loudness_program");
    group.throughput(Throughput::Elements(material[0].len() as u64));
    group.sample_size(20);
    let (shelf, high_pass) = (Biquad::shelf(RATE as f64), Biquad::high_pass(RATE as f64));
    group.bench_function("k_weighting_floor", |b| {
        b.iter(|| k_weighting_floor(shelf, high_pass, black_box(&material)))
    });
    let mut meter = LoudnessMeter::new(RATE as f64, 2);
    group.bench_function("stem_preflight_loudness", |b| {
        b.iter(|| our_loudness(&mut meter, black_box(&material)))
    });
    group.bench_function("ebur128_loudness", |b| {
        b.iter(|| ebur128_loudness(black_box(&material)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
