//! The file checker on realistic deliveries: songs from Debian's OpenTTD music set rendered by
//! FluidSynth (sampled instruments and drum kits, reverb tails) into group stems and their exact
//! sum, each set clean or with one defect of known cause and size, among them real limiters
//! (x42-dpl, ffmpeg's `alimiter`) and real MP3 round trips (LAME). Prints the confusion table
//! per check (`cargo test --release --test real_deliveries -- --ignored --nocapture`; with
//! `STEM_PREFLIGHT_KEEP_CORPUS=1` the sets stay in `target/corpus/sets/` with their `truth.txt`)
//! and holds the checker to its goals.
//! `STEM_PREFLIGHT_CORPUS_SONGS` sets how many songs (default 8, the size CI runs; EVALUATION.md
//! has 12 and 31; the set holds 31); `STEM_PREFLIGHT_CORPUS_SONG` runs one song by its title.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use stem_preflight::check::finding::{Check, Severity};
use stem_preflight::check::{check, CheckOptions, CheckReport};
use support::corpus::{self, Stem};
use support::delivery::{self, peak, scaled, sum, write_set};
use support::files::Store;
use support::signals::Rng;

/// Seconds of each song used (the notes started after it play out, then the tails).
const EXCERPT_S: f64 = 30.0;
const RATES: [u32; 3] = [44_100, 48_000, 96_000];
/// Set to keep every set on disk after it is checked (about 5 GB per song at 96 kHz), to run
/// `stem-preflight check` on them or to check them again without making them.
const KEEP_SETS: &str = "STEM_PREFLIGHT_KEEP_CORPUS";
/// Set to a song's title (`SayWhatRedfarn`) to make and check that song's sets alone, at the
/// rate and level it gets in the full run: to look into one set the tables name.
const ONE_SONG: &str = "STEM_PREFLIGHT_CORPUS_SONG";
/// Raised whenever the way a set is made changes, so cached sets are made again.
const CORPUS_VERSION: &str = "corpus 3";

/// One defect, injected into one set.
#[derive(Debug, Clone)]
enum Defect {
    Clean,
    /// A stem exported from another start point: frames late (negative: early).
    Offset(usize, i64),
    /// A stem exported with its fader moved by this many dB.
    Gain(usize, f32),
    /// A stem normalized to this peak, dBFS.
    Normalized(usize, f32),
    /// The mix normalized to this peak, dBFS, with 24-bit dither or without.
    NormalizedMix(f32, bool),
    /// A limiter on the master: tool, ceiling dBFS, gain reduction dB on the loudest peaks.
    Limiter(&'static str, f64, f64),
    /// A bus compressor on the master (no limiter): ratio, attack ms.
    Compressor(f64, f64),
    /// A stem made from an MP3 at this bitrate.
    Mp3(usize, &'static str),
    /// A stem exported at 16 bits.
    SixteenBit(usize),
    /// A stem dithered to 16 bits, stored in 24.
    Dithered(usize),
    /// Every file ends this many seconds after the last note starts to fade.
    CutTail,
    /// A stem at another sample rate.
    MixedRate(usize),
    /// A stem with its polarity flipped.
    Polarity(usize),
    /// A stem left out of the delivery.
    Missing(usize),
    /// A stem driven into a clipper at full scale.
    Clipped(usize),
    /// A stem with a DC offset (linear, full scale = 1).
    Dc(usize, f32),
    /// A 32-bit float stem that peaks above full scale, dB.
    FloatOver(usize, f32),
}

impl Defect {
    fn kind(&self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Offset(..) => "offset",
            Self::Gain(..) => "gain",
            Self::Normalized(..) => "normalized",
            Self::NormalizedMix(..) => "normalized mix",
            Self::Limiter(..) => "limiter",
            Self::Compressor(..) => "bus compressor",
            Self::Mp3(..) => "mp3",
            Self::SixteenBit(..) => "16-bit",
            Self::Dithered(..) => "dithered",
            Self::CutTail => "cut tail",
            Self::MixedRate(..) => "mixed rate",
            Self::Polarity(..) => "polarity",
            Self::Missing(..) => "missing stem",
            Self::Clipped(..) => "clipped",
            Self::Dc(..) => "dc offset",
            Self::FloatOver(..) => "float over",
        }
    }

    /// The findings that must appear (check, words its message must hold), and the checks
    /// that may also speak because the defect really causes them.
    fn expectation(&self, stem: &str) -> (Vec<(Check, String)>, Vec<Check>) {
        let must = |c: Check, words: &str| (c, words.to_owned());
        match self {
            Self::Clean => (vec![], vec![]),
            Self::Offset(..) => (vec![must(Check::Offset, stem)], vec![Check::NullTest]),
            Self::Gain(_, db) => (
                vec![must(
                    Check::NullTest,
                    &format!(
                        "{stem} is {:.1} dB {} in its stem than in the mix",
                        db.abs(),
                        if *db > 0.0 { "hotter" } else { "quieter" }
                    ),
                )],
                vec![Check::Headroom],
            ),
            Self::Normalized(..) => (
                vec![must(Check::Normalized, stem)],
                vec![Check::NullTest, Check::Headroom],
            ),
            // The null test fails because of it, and must say so. Its gain raises the DC the
            // sampled instruments carry, as a limiter's does.
            Self::NormalizedMix(..) => (
                vec![
                    must(Check::Normalized, "Mix peaks at exactly"),
                    must(Check::NullTest, "the mix was normalized"),
                ],
                vec![Check::Headroom, Check::DcOffset],
            ),
            // A limiter's input gain, a clipper's drive and a hot float export raise the DC the
            // sampled instruments carry (0.1-0.5 %) past 1 %, where it really costs headroom.
            Self::Limiter(..) => (
                vec![must(Check::Limiter, "")],
                vec![Check::NullTest, Check::Headroom, Check::DcOffset],
            ),
            Self::Compressor(..) => (vec![must(Check::NullTest, "")], vec![]),
            Self::Mp3(..) => (vec![must(Check::LossyOrigin, stem)], vec![Check::NullTest]),
            Self::SixteenBit(..) => (vec![must(Check::BitDepth, "")], vec![]),
            Self::Dithered(..) => (
                vec![must(Check::EffectiveBitDepth, "")],
                vec![Check::Dither],
            ),
            Self::CutTail => (vec![must(Check::Tail, "")], vec![]),
            Self::MixedRate(..) => (vec![must(Check::SampleRate, "")], vec![Check::Length]),
            Self::Polarity(..) => (vec![must(Check::NullTest, "polarity")], vec![]),
            Self::Missing(..) => (vec![must(Check::NullTest, "in no stem")], vec![]),
            Self::Clipped(..) => (
                vec![must(Check::Clipping, stem)],
                vec![Check::Headroom, Check::NullTest, Check::DcOffset],
            ),
            Self::Dc(..) => (vec![must(Check::DcOffset, "")], vec![Check::NullTest]),
            Self::FloatOver(..) => (
                vec![must(Check::Headroom, "24-bit")],
                vec![Check::NullTest, Check::DcOffset],
            ),
        }
    }
}

/// The defects tried on song number `i` (rotating stems, sizes and tools over the songs).
fn defects(i: usize, stems: usize) -> Vec<Defect> {
    let s = |k: usize| (i + k) % stems;
    let ceilings = [-0.1, -0.3, -1.0];
    let mut list = vec![
        Defect::Clean,
        Defect::Offset(s(0), [480, -1000, 7, 2205][i % 4]),
        Defect::Gain(s(1), [6.0, -14.0, 3.5, -6.0][i % 4]),
        Defect::Normalized(s(2), [-6.0, -3.0, -1.0, -0.3, -0.1, -4.5][i % 6]),
        Defect::NormalizedMix([-0.1, -0.3, -1.0, -0.5, -3.0][i % 5], i % 2 == 1),
        Defect::Compressor([2.0, 3.0, 4.0][i % 3], [3.0, 10.0, 30.0][i % 3]),
        Defect::SixteenBit(s(0)),
        Defect::Dithered(s(1)),
        Defect::CutTail,
        Defect::MixedRate(s(2)),
        Defect::Polarity(s(3)),
        Defect::Missing(s(1)),
        Defect::Clipped(s(0)),
        Defect::Dc(s(2), 0.02),
        Defect::FloatOver(s(3), 2.0),
    ];
    for (k, reduction) in [1.0, 2.0, 3.0, 6.0, 9.0, 12.0].into_iter().enumerate() {
        let tool = ["x42-dpl", "alimiter"][(i + k) % 2];
        list.push(Defect::Limiter(tool, ceilings[(i + k) % 3], reduction));
    }
    for (k, bitrate) in ["96k", "128k", "192k", "320k", "V2"]
        .into_iter()
        .enumerate()
    {
        list.push(Defect::Mp3(s(k), bitrate));
    }
    list
}

/// The song's name as a file-name part: `busy_schedule` → `BusySchedule`.
fn song_title(path: &Path) -> String {
    path.file_stem()
        .expect("file name")
        .to_string_lossy()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect()
}

fn db(gain: f32) -> f32 {
    20.0 * gain.log10()
}

fn shifted(audio: &[Vec<f32>], frames: i64) -> Vec<Vec<f32>> {
    audio
        .iter()
        .map(|c| {
            let n = c.len() as i64;
            (0..n)
                .map(|k| {
                    let from = k - frames;
                    if (0..n).contains(&from) {
                        c[from as usize]
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

/// Builds the set for `defect` in `dir`, unless it is there already (the corpus is
/// deterministic: the same truth means the same files).
fn build(dir: &Path, title: &str, rate: u32, stems: &[Stem], defect: &Defect) {
    let truth = format!("{defect:?}\n{CORPUS_VERSION}\n");
    if std::fs::read_to_string(dir.join("truth.txt")).is_ok_and(|t| t == truth) {
        return;
    }
    let mix = sum(stems);
    let mut files: Vec<(String, Vec<Vec<f32>>, Store, u32)> = stems
        .iter()
        .map(|s| {
            (
                delivery::file_name(title, &s.group),
                s.audio.clone(),
                Store::Int(24),
                0,
            )
        })
        .collect();
    let mut mix_audio = mix.clone();
    let work = dir.with_extension("work");
    std::fs::create_dir_all(&work).expect("work folder");
    match *defect {
        Defect::Clean => {}
        Defect::Offset(k, frames) => files[k].1 = shifted(&files[k].1, frames),
        Defect::Gain(k, gain_db) => files[k].1 = scaled(&files[k].1, 10f32.powf(gain_db / 20.0)),
        Defect::Normalized(k, to_dbfs) => {
            // A 24-bit normalizer lands the peak on the integer grid nearest the target.
            let target =
                (10f64.powf(f64::from(to_dbfs) / 20.0) * 8_388_608.0).round() / 8_388_608.0;
            files[k].1 = scaled(&files[k].1, (target / f64::from(peak(&files[k].1))) as f32);
        }
        Defect::NormalizedMix(to_dbfs, dither) => {
            let gain = 10f64.powf(f64::from(to_dbfs) / 20.0) / f64::from(peak(&mix));
            // Triangular dither of one 24-bit step, as an export's dither adds before rounding.
            let mut rng = Rng::new(0x5EED);
            let mut uniform = move || rng.unit();
            mix_audio = mix
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|&x| {
                            let noise = if dither { uniform() - uniform() } else { 0.0 };
                            (f64::from(x) * gain + noise / 8_388_608.0) as f32
                        })
                        .collect()
                })
                .collect();
        }
        Defect::Limiter(tool, ceiling_db, reduction_db) => {
            let drive = reduction_db + ceiling_db - f64::from(db(peak(&mix)));
            let limited = match tool {
                "x42-dpl" => delivery::x42_dpl(&mix, rate, drive, ceiling_db, &work),
                _ => delivery::alimiter(&mix, rate, drive, ceiling_db),
            };
            mix_audio = delivery::delay_compensated(&mix, limited, rate);
        }
        Defect::Compressor(ratio, attack_ms) => {
            let filter = format!(
                "acompressor=threshold={:.6}:ratio={ratio}:attack={attack_ms}:release=150:makeup=1",
                peak(&mix) * 0.25
            );
            mix_audio = delivery::ffmpeg(&mix, rate, &filter, rate);
        }
        Defect::Mp3(k, bitrate) => {
            files[k].1 = delivery::mp3_round_trip(&files[k].1, rate, bitrate, &work)
        }
        Defect::SixteenBit(k) => files[k].2 = Store::Int(16),
        Defect::Dithered(k) => files[k].1 = delivery::dithered_to_16_bit(&files[k].1, k as u64),
        Defect::CutTail => {
            // Cut where the mix's last second begins to fall: 1.5 s before its tail ends.
            let level = |n: usize| mix.iter().map(|c| c[n].abs()).fold(0.0f32, f32::max);
            let last_loud = (0..mix[0].len())
                .rev()
                .find(|&n| level(n) > 0.01)
                .unwrap_or(0);
            let cut = last_loud
                .saturating_sub((0.3 * f64::from(rate)) as usize)
                .max(1);
            for file in &mut files {
                file.1.iter_mut().for_each(|c| c.truncate(cut));
            }
            mix_audio.iter_mut().for_each(|c| c.truncate(cut));
        }
        Defect::MixedRate(k) => {
            let other = if rate == 48_000 { 44_100 } else { 48_000 };
            files[k].1 = delivery::ffmpeg(&files[k].1, rate, "anull", other);
            files[k].3 = other;
        }
        Defect::Polarity(k) => files[k].1 = scaled(&files[k].1, -1.0),
        Defect::Missing(k) => {
            files.remove(k);
        }
        Defect::Clipped(k) => {
            let drive = 1.0 / peak(&files[k].1) * 10f32.powf(4.0 / 20.0);
            files[k].1 = files[k]
                .1
                .iter()
                .map(|c| c.iter().map(|x| (x * drive).clamp(-1.0, 1.0)).collect())
                .collect();
        }
        Defect::Dc(k, offset) => {
            let add = |audio: &mut Vec<Vec<f32>>| {
                audio.iter_mut().flatten().for_each(|x| *x += offset);
            };
            add(&mut files[k].1);
            add(&mut mix_audio);
        }
        Defect::FloatOver(k, over_db) => {
            let gain = 10f32.powf(over_db / 20.0) / peak(&files[k].1);
            files[k].1 = scaled(&files[k].1, gain);
            files[k].2 = Store::Float32;
        }
    }
    std::fs::remove_dir_all(&work).ok();
    files.push((
        delivery::file_name(title, "Mix"),
        mix_audio,
        Store::Int(24),
        0,
    ));
    write_set(dir, rate, &files, &truth);
}

/// What one set's check said.
struct Outcome {
    set: String,
    kind: &'static str,
    defect: Defect,
    /// The group of the stem the defect is in ("" for the mix or the set).
    stem: String,
    /// Every warning and failure: (check, severity, message).
    spoke: Vec<(Check, Severity, String)>,
    exit_code: i32,
    found: bool,
    /// Findings that name another cause than the set's one defect.
    unexpected: Vec<String>,
}

fn judge(set: &str, defect: &Defect, stem: &str, report: &CheckReport) -> Outcome {
    let spoke: Vec<(Check, Severity, String)> = report
        .files
        .iter()
        .flat_map(|f| &f.findings)
        .chain(&report.set_findings)
        .filter(|f| f.severity != Severity::Pass)
        .map(|f| (f.check, f.severity, f.message.clone()))
        .collect();
    let (must, allowed) = defect.expectation(stem);
    let found = must.iter().all(|(c, words)| {
        spoke
            .iter()
            .any(|(s, _, m)| s == c && m.contains(words.as_str()))
    });
    let unexpected = spoke
        .iter()
        .filter(|(c, _, _)| !must.iter().any(|(m, _)| m == c) && !allowed.contains(c))
        .map(|(c, s, m)| format!("{c:?} {}: {m}", s.label()))
        .collect();
    Outcome {
        set: set.to_owned(),
        kind: defect.kind(),
        defect: defect.clone(),
        stem: stem.to_owned(),
        spoke,
        exit_code: report.exit_code(),
        found,
        unexpected,
    }
}

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/corpus/sets")
}

#[test]
#[ignore = "needs fluidsynth, fluid-soundfont-gm, openttd-openmsx, ffmpeg, sox, lv2file and x42-plugins: cargo xtask test --all"]
fn the_checker_is_right_on_real_deliveries() {
    let count: usize = std::env::var("STEM_PREFLIGHT_CORPUS_SONGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let songs = corpus::songs();
    assert!(songs.len() >= count, "{} songs found", songs.len());
    let one_song = std::env::var(ONE_SONG).ok();
    let count = if one_song.is_some() {
        songs.len()
    } else {
        count
    };
    let mut outcomes = Vec::new();
    for (i, song) in songs.iter().take(count).enumerate() {
        let rate = RATES[i % RATES.len()];
        let title = song_title(song);
        if one_song.as_ref().is_some_and(|one| *one != title) {
            continue;
        }
        let mut stems = corpus::render(song, rate, EXCERPT_S);
        assert!(stems.len() >= 2, "{title}: {} stems", stems.len());
        // The mix peaks between -6 and -4 dBFS, as a mix left with headroom does (not on a
        // round value: that is what normalizing leaves).
        let mix_peak = peak(&sum(&stems));
        let gain = 10f32.powf((-5.93 + (i % 4) as f32 * 0.61) / 20.0) / mix_peak;
        for stem in &mut stems {
            stem.audio = scaled(&stem.audio, gain);
        }
        for (d, defect) in defects(i, stems.len()).iter().enumerate() {
            let name = format!("{title}-{rate}-{d:02}-{}", defect.kind().replace(' ', "-"));
            let dir = corpus_root().join(&name);
            build(&dir, &title, rate, &stems, defect);
            let stem_index = match *defect {
                Defect::Offset(k, _)
                | Defect::Gain(k, _)
                | Defect::Normalized(k, _)
                | Defect::Mp3(k, _)
                | Defect::SixteenBit(k)
                | Defect::Dithered(k)
                | Defect::MixedRate(k)
                | Defect::Polarity(k)
                | Defect::Missing(k)
                | Defect::Clipped(k)
                | Defect::Dc(k, _)
                | Defect::FloatOver(k, _) => Some(k),
                _ => None,
            };
            let stem = stem_index.map_or("", |k| stems[k].group.as_str());
            let report = check(
                std::slice::from_ref(&dir),
                &CheckOptions::default(),
                &|_, _| {},
            )
            .expect("the set is checked");
            outcomes.push(judge(&name, defect, stem, &report));
            // 300 sets take tens of gigabytes: kept only when asked for.
            if std::env::var_os(KEEP_SETS).is_none() {
                std::fs::remove_dir_all(&dir).ok();
            }
        }
    }
    print_tables(&outcomes);
    assert_goals(&outcomes);
}

fn print_tables(outcomes: &[Outcome]) {
    println!("\n| defect | sets | found with the right cause | other findings |");
    println!("|---|---|---|---|");
    let mut kinds: BTreeMap<&str, (u32, u32, u32)> = BTreeMap::new();
    for o in outcomes {
        let e = kinds.entry(o.kind).or_default();
        e.0 += 1;
        e.1 += u32::from(o.found && (o.kind != "clean" || o.spoke.is_empty()));
        e.2 += u32::from(!o.unexpected.is_empty());
    }
    for (kind, (n, found, other)) in &kinds {
        println!("| {kind} | {n} | {found} | {other} |");
    }
    println!("\n| check | fired where expected | missed | fired elsewhere (false alarms) | quiet elsewhere |");
    println!("|---|---|---|---|---|");
    let checks = [
        Check::Offset,
        Check::NullTest,
        Check::Normalized,
        Check::Limiter,
        Check::LossyOrigin,
        Check::BitDepth,
        Check::EffectiveBitDepth,
        Check::Dither,
        Check::Tail,
        Check::SampleRate,
        Check::Clipping,
        Check::Headroom,
        Check::DcOffset,
        Check::Length,
    ];
    for check in checks {
        let (mut tp, mut missed, mut fp, mut tn) = (0, 0, 0, 0);
        for o in outcomes {
            let (must, allowed) = o.defect.expectation("");
            let expected = must.iter().any(|(c, _)| *c == check);
            let fired = o.spoke.iter().any(|(c, _, _)| *c == check);
            match (expected, fired) {
                (true, true) => tp += 1,
                (true, false) => missed += 1,
                (false, true) if !allowed.contains(&check) => fp += 1,
                (false, false) => tn += 1,
                _ => {}
            }
        }
        println!("| {check:?} | {tp} | {missed} | {fp} | {tn} |");
    }
    println!("\nMP3 stems found, by stem group and bitrate:");
    let bitrates = ["96k", "128k", "192k", "320k", "V2"];
    println!("| stem | {} | all |", bitrates.join(" | "));
    println!("|---|{}---|", "---|".repeat(bitrates.len()));
    let mut groups: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.kind == "mp3")
        .map(|o| o.stem.as_str())
        .collect();
    groups.sort();
    groups.dedup();
    for group in groups {
        let cell = |pick: &dyn Fn(&str) -> bool| {
            let chosen: Vec<&Outcome> = outcomes
                .iter()
                .filter(|o| o.stem == group)
                .filter(|o| matches!(o.defect, Defect::Mp3(_, b) if pick(b)))
                .collect();
            let found = chosen.iter().filter(|o| o.found).count();
            match chosen.len() {
                0 => "–".to_owned(),
                n => format!("{found}/{n}"),
            }
        };
        let cells: Vec<String> = bitrates.iter().map(|b| cell(&|x| x == *b)).collect();
        println!("| {group} | {} | {} |", cells.join(" | "), cell(&|_| true));
    }
    println!("\nLimiter sets:");
    for o in outcomes.iter().filter(|o| o.kind == "limiter") {
        println!(
            "  {:?}: {}",
            o.defect,
            if o.found { "found" } else { "MISSED" }
        );
    }
    println!("\nEvery set with a miss or another finding:");
    for o in outcomes {
        if !o.found || !o.unexpected.is_empty() || (o.kind == "clean" && o.exit_code != 0) {
            println!(
                "  {} ({}): exit {}",
                o.set,
                if o.found { "found" } else { "MISSED" },
                o.exit_code
            );
            for u in &o.unexpected {
                println!("      {u}");
            }
            if !o.found {
                for (c, s, m) in &o.spoke {
                    println!("      said: {c:?} {}: {m}", s.label());
                }
            }
        }
    }
}

fn assert_goals(outcomes: &[Outcome]) {
    let share = |pick: &dyn Fn(&Outcome) -> bool| {
        let chosen: Vec<&Outcome> = outcomes.iter().filter(|o| pick(o)).collect();
        let found = chosen.iter().filter(|o| o.found).count();
        (found, chosen.len())
    };
    let mut failures = Vec::new();
    for o in outcomes.iter().filter(|o| o.kind == "clean") {
        if o.exit_code != 0 || !o.spoke.is_empty() {
            failures.push(format!("clean set {} is not silent: {:?}", o.set, o.spoke));
        }
    }
    for o in outcomes {
        for u in o.unexpected.iter().filter(|u| u.contains(" FAIL: ")) {
            failures.push(format!("false FAIL in {}: {u}", o.set));
        }
    }
    let kinds: Vec<&str> = {
        let mut k: Vec<&str> = outcomes.iter().map(|o| o.kind).collect();
        k.sort();
        k.dedup();
        k
    };
    for kind in kinds
        .into_iter()
        .filter(|k| !["clean", "limiter", "mp3"].contains(k))
    {
        let (found, n) = share(&|o| o.kind == kind);
        if (found as f64) < 0.95 * n as f64 {
            failures.push(format!("{kind}: found in {found} of {n} sets (goal 95 %)"));
        }
    }
    let reduction = |o: &Outcome| match o.defect {
        Defect::Limiter(_, _, r) => r,
        _ => 0.0,
    };
    let (found, n) = share(&|o| o.kind == "limiter" && reduction(o) >= 3.0);
    if (found as f64) < 0.95 * n as f64 {
        failures.push(format!("limiter at >= 3 dB: {found} of {n} (goal 95 %)"));
    }
    let (found, n) = share(&|o| o.kind == "limiter" && reduction(o) < 3.0);
    if (found as f64) < 0.85 * n as f64 {
        failures.push(format!("limiter at 1-3 dB: {found} of {n} (goal 85 %)"));
    }
    let limiter_alarms = outcomes
        .iter()
        .filter(|o| o.kind != "limiter" && o.spoke.iter().any(|(c, _, _)| *c == Check::Limiter))
        .count();
    if limiter_alarms as f64 > 0.02 * outcomes.len() as f64 {
        failures.push(format!("{limiter_alarms} limiter false alarms"));
    }
    let bitrate = |o: &Outcome| match o.defect {
        Defect::Mp3(_, b) => b,
        _ => "",
    };
    let (found, n) = share(&|o| o.kind == "mp3" && bitrate(o) != "320k");
    if (found as f64) < 0.9 * n as f64 {
        failures.push(format!(
            "MP3 at 192 kbps and below (and VBR): {found} of {n} (goal 90 %)"
        ));
    }
    let (found, n) = share(&|o| o.kind == "mp3" && bitrate(o) == "320k");
    if (found as f64) < 0.6 * n as f64 {
        failures.push(format!("MP3 at 320 kbps: {found} of {n} (goal 60 %)"));
    }
    assert!(
        failures.is_empty(),
        "goals missed:\n{}",
        failures.join("\n")
    );
}
