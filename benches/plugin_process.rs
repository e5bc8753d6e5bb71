//! `process()` through the real plugin: the release `.clap` in the test CLAP host, stereo,
//! 48 kHz, 512-frame blocks of program material. Run: `cargo bench --bench plugin_process`.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use support::clap_host::{release_bundle, Driver, Plugin, Song};
use support::signals::program;

const RATE: f64 = 48_000.0;
const BLOCK: usize = 512;

fn bench(c: &mut Criterion) {
    let material = [0, 1].map(|seed| program(RATE, 10.0, 0.5, seed));
    let mut plugin = Plugin::load(release_bundle());
    let mut processor = plugin.start(RATE, BLOCK as u32);
    let mut driver = Driver::new(2);
    let mut input = vec![vec![0.0f32; BLOCK]; 2];
    let mut output = vec![vec![0.0f32; BLOCK]; 2];
    let blocks = material[0].len() / BLOCK;
    let mut block = 0usize;

    let mut group = c.benchmark_group("plugin_process");
    group.throughput(Throughput::Elements(BLOCK as u64));
    group.bench_function("stereo_48k_512", |b| {
        b.iter(|| {
            let start = (block % blocks) * BLOCK;
            for (buffer, source) in input.iter_mut().zip(&material) {
                buffer.copy_from_slice(&source[start..start + BLOCK]);
            }
            let song = Song {
                seconds: start as f64 / RATE,
                tempo_bpm: 120.0,
                time_signature: (4, 4),
                playing: true,
            };
            driver.process(&mut processor, &mut input, &mut output, Some(song));
            block += 1;
        })
    });
    group.finish();
    plugin.stop(processor);
}

criterion_group!(benches, bench);
criterion_main!(benches);
