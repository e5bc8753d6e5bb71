//! `process()` through the real plugin: the release `.clap` in the test CLAP host, stereo,
//! 48 kHz, 512-frame blocks of program material, beside its floor (a nice-plug pass-through
//! plugin with no metering, in the same host) and the analysis alone. Then 64 instances in one
//! process, fed in real time. Run: `cargo bench --bench plugin_process`.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

use stem_preflight::analysis::{
    ChannelAnalyzer, LimiterDetector, LossyOriginDetector, LoudnessMeter, TailMeter,
};
use support::clap_host::{
    floor_bundle, release_bundle, Driver, Plugin, Song, FLOOR_PLUGIN_ID, PLUGIN_ID,
};
use support::signals::program;

const RATE: f64 = 48_000.0;
const BLOCK: usize = 512;
/// Instances in the session-sized measurement.
const INSTANCES: usize = 64;
/// How long the session plays, in real time.
const SESSION_S: f64 = 10.0;

/// Ten seconds of program material on two channels.
fn material() -> [Vec<f32>; 2] {
    [0, 1].map(|seed| program(RATE, 10.0, 0.5, seed))
}

/// Feeds block after block of `material` to a started plugin, the transport rolling.
struct Feeder {
    plugin: Plugin,
    processor:
        Option<clack_host::prelude::StartedPluginAudioProcessor<support::clap_host::TestHost>>,
    driver: Driver,
    input: Vec<Vec<f32>>,
    output: Vec<Vec<f32>>,
    block: usize,
}

impl Feeder {
    fn new(bundle: &std::path::Path, id: &str) -> Self {
        let mut plugin = Plugin::load_id(bundle, id);
        let processor = Some(plugin.start(RATE, BLOCK as u32));
        Self {
            plugin,
            processor,
            driver: Driver::new(2),
            input: vec![vec![0.0f32; BLOCK]; 2],
            output: vec![vec![0.0f32; BLOCK]; 2],
            block: 0,
        }
    }

    fn next_block(&mut self, material: &[Vec<f32>; 2]) {
        let blocks = material[0].len() / BLOCK;
        let start = (self.block % blocks) * BLOCK;
        for (buffer, source) in self.input.iter_mut().zip(material) {
            buffer.copy_from_slice(&source[start..start + BLOCK]);
        }
        // The song plays on (the material loops, the transport does not): one long pass.
        let song = Song {
            seconds: (self.block * BLOCK) as f64 / RATE,
            tempo_bpm: 120.0,
            time_signature: (4, 4),
            playing: true,
        };
        let processor = self.processor.as_mut().expect("started");
        self.driver
            .process(processor, &mut self.input, &mut self.output, Some(song));
        self.block += 1;
    }

    fn stop(mut self) {
        let processor = self.processor.take().expect("started");
        self.plugin.stop(processor);
    }
}

/// The analysis the core bench measures: a `ChannelAnalyzer` per channel and the limiter
/// detector.
struct Core {
    analyzers: [ChannelAnalyzer; 2],
    limiter: LimiterDetector,
}

/// Everything the plugin meters a block with, without the plugin around it.
struct Meters {
    core: Core,
    loudness: LoudnessMeter,
    tail: TailMeter,
    lossy: LossyOriginDetector,
}

impl Core {
    fn new() -> Self {
        Self {
            analyzers: [ChannelAnalyzer::new(0), ChannelAnalyzer::new(1)],
            limiter: LimiterDetector::new(RATE as f32),
        }
    }

    fn process(&mut self, block: &[&[f32]; 2]) {
        for (analyzer, samples) in self.analyzers.iter_mut().zip(block) {
            black_box(analyzer.process(samples, |event| {
                black_box(event);
            }));
        }
        self.limiter.process(block);
    }
}

fn blocks(material: &[Vec<f32>; 2]) -> impl Iterator<Item = [&[f32]; 2]> {
    material[0]
        .chunks_exact(BLOCK)
        .zip(material[1].chunks_exact(BLOCK))
        .map(|(l, r)| [l, r])
}

fn bench(c: &mut Criterion) {
    let material = material();
    let mut group = c.benchmark_group("plugin_process");
    group.throughput(Throughput::Elements(BLOCK as u64));
    for (name, bundle, id) in [
        ("floor_pass_through", floor_bundle(), FLOOR_PLUGIN_ID),
        ("stem_preflight", release_bundle(), PLUGIN_ID),
    ] {
        let mut feeder = Feeder::new(bundle, id);
        group.bench_function(name, |b| b.iter(|| feeder.next_block(&material)));
        feeder.stop();
    }
    let all: Vec<[&[f32]; 2]> = blocks(&material).collect();
    let mut core = Core::new();
    let mut at = 0;
    group.bench_function("core_alone", |b| {
        b.iter(|| {
            core.process(black_box(&all[at % all.len()]));
            at += 1;
        })
    });
    let mut meters = Meters {
        core: Core::new(),
        loudness: LoudnessMeter::new(RATE, 2),
        tail: TailMeter::new(RATE as f32),
        lossy: LossyOriginDetector::new(RATE as u32),
    };
    group.bench_function("all_meters_alone", |b| {
        b.iter(|| {
            let block = black_box(&all[at % all.len()]);
            meters.core.process(block);
            meters.loudness.process(block);
            meters.tail.process(block);
            meters.lossy.process(block);
            at += 1;
        })
    });
    group.finish();
    let floor = session(&material, floor_bundle(), FLOOR_PLUGIN_ID);
    let ours = session(&material, release_bundle(), PLUGIN_ID);
    println!(
        "plugin_process/session: {INSTANCES} stereo instances at 48 kHz in real time, share of \
         one core used by the whole process: floor (pass-through) {floor:.2} %, Stem Preflight \
         {ours:.2} %, difference {:.2} %",
        ours - floor
    );
}

/// CPU time of the whole process (every thread), seconds.
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let per_s = unsafe { sysconf(2) }; // _SC_CLK_TCK
    ticks / per_s as f64
}

extern "C" {
    fn sysconf(name: i32) -> i64;
}

/// 64 stereo instances of a plugin in one process, each fed a block every 512 frames of real
/// time for [`SESSION_S`], editors closed (Stem Preflight's overview heartbeat runs): the
/// share of one core, in %, the whole process used meanwhile, host included.
fn session(material: &[Vec<f32>; 2], bundle: &std::path::Path, id: &str) -> f64 {
    let mut feeders: Vec<Feeder> = (0..INSTANCES).map(|_| Feeder::new(bundle, id)).collect();
    // Settle: the first blocks start passes and threads.
    for feeder in &mut feeders {
        feeder.next_block(material);
    }
    let period = Duration::from_secs_f64(BLOCK as f64 / RATE);
    let blocks = (SESSION_S * RATE / BLOCK as f64) as u32;
    let (cpu_before, began) = (process_cpu_s(), Instant::now());
    for k in 1..=blocks {
        for feeder in &mut feeders {
            feeder.next_block(material);
        }
        if let Some(wait) = (began + period * k).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let (cpu, wall) = (process_cpu_s() - cpu_before, began.elapsed().as_secs_f64());
    for feeder in feeders {
        feeder.stop();
    }
    100.0 * cpu / wall
}

criterion_group!(benches, bench);
criterion_main!(benches);
