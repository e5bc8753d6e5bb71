//! The analysis core against a bare peak scan and the `ebur128` crate's true peak, on 10 s of
//! 48 kHz stereo. Run: `cargo bench --bench analysis`. Results: BENCHMARKS.md.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

use stem_preflight::analysis::{ChannelAnalyzer, LimiterDetector};
use support::signals::{program, Rng};

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

/// The reference floor: the largest |x| per channel, written the obvious way.
fn bare_scan(channels: &[Vec<f32>; 2]) -> f32 {
    channels
        .iter()
        .map(|c| c.iter().fold(0.0f32, |m, &x| m.max(x.abs())))
        .fold(0.0, f32::max)
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

fn full_analysis(
    analyzers: &mut [ChannelAnalyzer; 2],
    limiter: &mut LimiterDetector,
    channels: &[Vec<f32>; 2],
) -> u64 {
    let mut events = 0u64;
    limiter.reset();
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
        let mut analyzers = [ChannelAnalyzer::new(0), ChannelAnalyzer::new(1)];
        let mut limiter = LimiterDetector::new(RATE as f32);
        group.bench_function(BenchmarkId::new("stem_preflight_full", name), |b| {
            b.iter(|| full_analysis(&mut analyzers, &mut limiter, black_box(&material)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
