//! The delivery sheet (`check --html`, and inside `pack`'s ZIP): self-contained, its clip
//! markers where the clips are, its verdicts the JSON report's; in a real browser (Debian's
//! chromium, headless) it renders offline, and screenshots are kept for a person to look at.

mod support;

use serde_json::Value;
use std::path::Path;
use support::checker::{check, run, scratch_folder};
use support::dynamics::limit;
use support::files::{mix, stems, write_song, write_wav, Store};

const RATE: u32 = 48_000;
/// Where the Bass stem clips, seconds.
const CLIPS_AT_S: [f64; 2] = [2.0, 4.5];

/// A set whose Bass clips (ten samples at full scale) at [`CLIPS_AT_S`].
fn clipped_set(dir: &Path) {
    let mut set = stems(RATE, 6.0, 8);
    let bass = set.iter_mut().find(|(n, _)| *n == "Bass").unwrap();
    for t in CLIPS_AT_S {
        let at = (t * f64::from(RATE)) as usize;
        for channel in &mut bass.1 {
            channel[at..at + 10].fill(1.0);
        }
    }
    write_song(dir, "Midnight", RATE, &set, Store::Int(24));
}

/// Seconds of the sets with a limited mix or a missing section.
const LONG_S: f64 = 16.0;
/// Where the Vocals stem is missing from its file (but not from the mix), seconds.
const MISSING_S: (f64, f64) = (6.0, 10.0);

/// A set whose mix went through a brickwall limiter (8 dB into a -0.3 dBFS ceiling).
fn limited_set(dir: &Path) {
    let set = stems(RATE, LONG_S, 11);
    let ceiling = 10f64.powf(-0.3 / 20.0);
    let limited: Vec<Vec<f32>> = mix(&set)
        .iter()
        .map(|c| limit(c, f64::from(RATE), 8.0, ceiling))
        .collect();
    write_set(dir, &set, &limited);
}

/// A set whose Vocals file is silent over [`MISSING_S`] while the mix has them.
fn missing_section_set(dir: &Path) {
    let mut set = stems(RATE, LONG_S, 12);
    let full_mix = mix(&set);
    let vocals = set.iter_mut().find(|(n, _)| *n == "Vocals").unwrap();
    let range = (MISSING_S.0 * f64::from(RATE)) as usize..(MISSING_S.1 * f64::from(RATE)) as usize;
    for channel in &mut vocals.1 {
        channel[range.clone()].fill(0.0);
    }
    write_set(dir, &set, &full_mix);
}

/// A set whose Bass file starts 120 ms late.
fn offset_set(dir: &Path) {
    let mut set = stems(RATE, LONG_S, 13);
    let full_mix = mix(&set);
    let bass = set.iter_mut().find(|(n, _)| *n == "Bass").unwrap();
    let late = (0.12 * f64::from(RATE)) as usize;
    for channel in &mut bass.1 {
        channel.rotate_right(late);
        channel[..late].fill(0.0);
    }
    write_set(dir, &set, &full_mix);
}

/// Writes the stems and `mix` as song "Midnight", 24-bit.
fn write_set(dir: &Path, set: &[(&str, Vec<Vec<f32>>)], mix: &[Vec<f32>]) {
    for (name, audio) in set {
        write_wav(
            &dir.join(format!("Midnight_{name}.wav")),
            RATE,
            audio,
            Store::Int(24),
        );
    }
    write_wav(&dir.join("Midnight_Mix.wav"), RATE, mix, Store::Int(24));
}

/// The file's entry in the JSON report.
fn file_in<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} in the report"))
}

/// The page's section for `file` (its file name).
fn section<'a>(page: &'a str, file: &str) -> &'a str {
    let start = page
        .find(&format!("data-file=\"{file}\""))
        .unwrap_or_else(|| panic!("{file} on the sheet"));
    let end = page[start..].find("</section>").unwrap() + start;
    &page[start..end]
}

/// Every value of `attribute` on elements of `class` in `html`.
fn attributes(html: &str, class: &str, attribute: &str) -> Vec<f64> {
    html.split(&format!("class=\"{class}\""))
        .skip(1)
        .map(|rest| {
            let at = rest.find(&format!("{attribute}=\"")).unwrap() + attribute.len() + 2;
            rest[at..rest[at..].find('"').unwrap() + at]
                .parse()
                .unwrap()
        })
        .collect()
}

/// Writes the sheet of `dir` and returns it with the JSON report.
fn sheet_and_report(dir: &Path, sheet: &Path) -> (String, Value) {
    let (_, _, stderr) = run(&[
        "check",
        "--html",
        sheet.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    let page = std::fs::read_to_string(sheet).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let (_, report) = check(dir, &[]);
    (page, report)
}

#[test]
fn the_sheet_marks_the_clips_where_they_are_and_agrees_with_the_report() {
    let root = scratch_folder("delivery_sheet", "clipped");
    let dir = root.join("Midnight");
    std::fs::create_dir(&dir).unwrap();
    clipped_set(&dir);
    let (page, report) = sheet_and_report(&dir, &root.join("sheet.html"));

    // Self-contained: no scripts, nothing fetched.
    for banned in ["<script", "http://", "https://", "@import", "url("] {
        assert!(!page.contains(banned), "{banned} in the sheet");
    }
    // Every file's verdict is the report's.
    for file in report["files"].as_array().unwrap() {
        let name = Path::new(file["path"].as_str().unwrap())
            .file_name()
            .unwrap();
        let name = name.to_str().unwrap();
        let result = file["result"].as_str().unwrap();
        assert!(
            section(&page, name).contains(&format!("data-result=\"{result}\"")),
            "{name}: {result}"
        );
    }
    assert!(page.contains(&format!(
        "data-result=\"{}\"",
        report["result"].as_str().unwrap()
    )));
    // The Bass's markers: at the clips' times, where those times fall on the strip.
    let bass = section(&page, "Midnight_Bass.wav");
    let times = attributes(bass, "clip", "data-time");
    let xs = attributes(bass, "clip", "x1");
    assert!(!times.is_empty(), "{bass}");
    for t in CLIPS_AT_S {
        assert!(
            times.iter().any(|got| (got - t).abs() < 1e-3),
            "a marker at {t} s: {times:?}"
        );
    }
    for (t, x) in times.iter().zip(&xs) {
        let want = t / 6.0 * 800.0;
        assert!(
            (x - want).abs() <= 0.1,
            "marker at {t} s drawn at {x}, not {want}"
        );
    }
    // The clean Vocals have none, and their bars show the measured peak.
    let vocals = section(&page, "Midnight_Vocals.wav");
    assert!(attributes(vocals, "clip", "data-time").is_empty());
    let measured = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("Midnight_Vocals.wav"))
        .unwrap()["measured"]["sample_peak_dbfs"]
        .as_f64()
        .unwrap();
    let drawn = attributes(vocals, "bar-sp", "data-db")[0];
    assert!((drawn - measured).abs() < 0.01, "{drawn} vs {measured}");
    // The findings in words, as the terminal says them.
    let (_, text, _) = run(&["check", dir.to_str().unwrap()]);
    let first_fail = text
        .lines()
        .find(|l| l.trim_start().starts_with("FAIL  clipping"))
        .unwrap();
    let words = first_fail.trim_start()["FAIL  clipping".len()..].trim();
    let escaped = words.replace('&', "&amp;").replace('"', "&quot;");
    assert!(page.contains(&escaped), "{words}");
}

#[test]
fn the_limiter_shows_as_loud_passages_pinned_to_its_ceiling() {
    let root = scratch_folder("delivery_sheet", "limited");
    let dir = root.join("Midnight");
    std::fs::create_dir(&dir).unwrap();
    limited_set(&dir);
    let (page, report) = sheet_and_report(&dir, &root.join("sheet.html"));
    let limiter = &file_in(&report, "Midnight_Mix.wav")["measured"]["limiter"];
    assert_ne!(limiter["verdict"], "none", "{limiter}");
    let ceiling = limiter["ceiling_dbfs"].as_f64().unwrap();
    let mix = section(&page, "Midnight_Mix.wav");
    assert_eq!(
        attributes(mix, "limiter", "data-ceiling"),
        [(ceiling * 100.0).round() / 100.0]
    );
    assert_eq!(mix.matches("class=\"ceiling\"").count(), 1);
    // The loud passages' dots: as many at the ceiling as the report says, whatever their
    // loudness.
    let peaks = attributes(mix, "passage", "data-peak");
    let counts = attributes(mix, "passage", "data-count");
    let loudness = attributes(mix, "passage", "data-loudness");
    let total: f64 = counts.iter().sum();
    let pinned: f64 = peaks
        .iter()
        .zip(&counts)
        .filter(|(p, _)| (*p - ceiling).abs() <= 0.3)
        .map(|(_, c)| c)
        .sum();
    let reported = limiter["pinned_share"].as_f64().unwrap();
    assert!(
        pinned / total >= 0.3 && (pinned / total - reported).abs() <= 0.1,
        "{pinned} of {total} loud passages at {ceiling}, the report says {reported}"
    );
    let spread = loudness.iter().cloned().fold(f64::MIN, f64::max)
        - loudness.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        spread >= 3.0,
        "the pinned passages' loudness moves: {spread} dB"
    );
    // The report names no limiter on the stems, so neither does the sheet.
    assert!(!section(&page, "Midnight_Bass.wav").contains("class=\"limiter\""));

    // A clean mix gets the picture without a ceiling line: its peaks move with the loudness.
    let clean = root.join("Clean");
    std::fs::create_dir(&clean).unwrap();
    write_song(
        &clean,
        "Midnight",
        RATE,
        &stems(RATE, LONG_S, 11),
        Store::Int(24),
    );
    let (page, _) = sheet_and_report(&clean, &root.join("clean.html"));
    let mix = section(&page, "Midnight_Mix.wav");
    assert!(
        mix.contains("class=\"limiter\" data-found=\"false\" data-ceiling=\"\""),
        "{mix}"
    );
    assert!(!mix.contains("class=\"ceiling\""));
}

#[test]
fn a_stem_missing_for_a_section_shows_where_in_the_null_test() {
    let root = scratch_folder("delivery_sheet", "missing");
    let dir = root.join("Midnight");
    std::fs::create_dir(&dir).unwrap();
    missing_section_set(&dir);
    let (page, report) = sheet_and_report(&dir, &root.join("sheet.html"));
    assert!(report["null_test"].is_object(), "{report}");
    let set = &page[page.find("id=\"set\"").unwrap()..];
    let columns = attributes(set, "mix", "data-i");
    let mix_db = attributes(set, "mix", "data-db");
    let residual_db = attributes(set, "residual", "data-db");
    assert_eq!(attributes(set, "residual", "data-i"), columns);
    assert!(columns.len() > 300, "{} stretches", columns.len());
    // Stretches of LONG_S / 400 each; judge those well inside or well outside the gap.
    let stretch_s = LONG_S / 400.0;
    let mut inside = 0;
    for ((i, mix), residual) in columns.iter().zip(&mix_db).zip(&residual_db) {
        let (from, to) = (i * stretch_s, (i + 1.0) * stretch_s);
        let vocals_sing = (from % 2.0) > 0.6 && (to % 2.0) < 1.3;
        if from > MISSING_S.0 + 0.1 && to < MISSING_S.1 - 0.1 && vocals_sing {
            // The vocals are the residual: within 15 dB of the whole mix.
            assert!(
                mix - residual < 15.0,
                "at {from} s: mix {mix}, residual {residual}"
            );
            inside += 1;
        } else if (to < MISSING_S.0 - 0.1 || from > MISSING_S.1 + 0.1) && *mix > -60.0 {
            // Elsewhere only the 24-bit rounding of the files is left.
            assert!(
                mix - residual > 60.0,
                "at {from} s: mix {mix}, residual {residual}"
            );
        }
    }
    assert!(inside > 30, "{inside} stretches judged in the gap");
}

#[test]
fn twelve_stems_make_a_small_sheet_whatever_their_length() {
    let root = scratch_folder("delivery_sheet", "twelve");
    let dir = root.join("Big");
    std::fs::create_dir(&dir).unwrap();
    let base = stems(RATE, 8.0, 9);
    let set: Vec<(&str, Vec<Vec<f32>>)> = [
        "Drums", "Bass", "Keys", "Pads", "Gtr", "Lead", "Vox", "Bvox", "Fx", "Perc", "Brass", "Str",
    ]
    .iter()
    .zip(base.iter().cycle())
    .map(|(name, (_, audio))| {
        (
            *name,
            audio
                .iter()
                .map(|c| c.iter().map(|x| x * 0.25).collect())
                .collect(),
        )
    })
    .collect();
    write_song(&dir, "Big", RATE, &set, Store::Int(24));
    let (page, _) = sheet_and_report(&dir, &root.join("sheet.html"));
    // The strip has a fixed number of columns, so the size does not grow with the length; at
    // most 200 markers per file are drawn.
    assert_eq!(page.matches("class=\"wave\"").count(), 13);
    assert!(page.len() < 1_000_000, "{} bytes", page.len());
    println!("12 stems and a mix: {} bytes", page.len());
}

/// Writes a set of files into a folder.
type WriteSet = fn(&Path);

/// Every finding of the report, as the page escapes it.
fn findings_in(report: &Value) -> Vec<String> {
    let files = report["files"].as_array().unwrap().iter();
    files
        .flat_map(|f| f["findings"].as_array().unwrap().iter())
        .chain(report["set_findings"].as_array().unwrap())
        .map(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        })
        .collect()
}

/// Where a screenshot of a sheet shows clip markers on the first waveform strip, as seconds
/// into the file lasting `seconds`: a marker is a red line the strip's height (80 pixels at
/// scale 1); the strip's ends are those of the level bars under it (the same width): the peak
/// bar starts at the left end, the bars' background reaches the right end.
fn markers_on_screen(png: &Path, seconds: f64) -> Vec<f64> {
    const RED: [u8; 3] = [0xc6, 0x28, 0x28];
    const PEAK_BAR: [u8; 3] = [0x54, 0x6e, 0x7a];
    const BAR_BACKGROUND: [u8; 3] = [0xec, 0xef, 0xf1];
    let screen = support::screen::Screen::from_png(png);
    let is = |colour, x: usize, y: usize| screen.count(colour, (x, y, x + 1, y + 1)) == 1;
    // Solid fills only: the page's background is within the usual tolerance of the bars'.
    let exactly = |colour: [u8; 3], x: usize, y: usize| {
        let p = screen.pixel(x, y);
        p.iter().zip(colour).all(|(&a, b)| a.abs_diff(b) <= 2)
    };
    let marker_top = |x: usize| {
        (0..screen.height.saturating_sub(76)).find(|&y| (y..y + 76).all(|y| is(RED, x, y)))
    };
    let columns: Vec<(usize, usize)> = (0..screen.width)
        .filter_map(|x| marker_top(x).map(|top| (x, top)))
        .collect();
    let Some(top) = columns.iter().map(|&(_, top)| top).min() else {
        return Vec::new();
    };
    let (left, right) = (top + 80..top + 130)
        .find_map(|y| {
            let left = (0..screen.width).find(|&x| exactly(PEAK_BAR, x, y))?;
            let right = (0..screen.width)
                .rev()
                .find(|&x| exactly(BAR_BACKGROUND, x, y))?;
            Some((left as f64, right as f64 + 1.0))
        })
        .expect("the level bars under the strip");
    let xs: Vec<usize> = columns
        .iter()
        .filter(|&&(_, t)| t.abs_diff(top) <= 2)
        .map(|&(x, _)| x)
        .collect();
    // Neighbouring columns are one marker.
    let mut markers = Vec::new();
    let mut start = 0;
    for i in 1..=xs.len() {
        if i == xs.len() || xs[i] != xs[i - 1] + 1 {
            let centre = (xs[start] + xs[i - 1]) as f64 / 2.0 + 0.5;
            markers.push((centre - left) / (right - left) * seconds);
            start = i;
        }
    }
    markers
}

#[test]
#[ignore = "needs chromium and imagemagick: cargo xtask test --all"]
fn a_real_browser_renders_the_sheet_offline() {
    let root = scratch_folder("delivery_sheet", "browser");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("delivery-sheets");
    std::fs::create_dir_all(&shots).unwrap();
    let sets: [(&str, WriteSet); 5] = [
        ("clean", |dir| {
            write_song(dir, "Midnight", RATE, &stems(RATE, 6.0, 10), Store::Int(24))
        }),
        ("clipped", clipped_set),
        ("limited", limited_set),
        ("offset", offset_set),
        ("missing-section", missing_section_set),
    ];
    for (name, make) in sets {
        let dir = root.join(name);
        std::fs::create_dir(&dir).unwrap();
        make(&dir);
        let sheet = root.join(format!("{name}.html"));
        let (_, report) = sheet_and_report(&dir, &sheet);
        let url = format!("file://{}", sheet.display());
        // No network: every request goes to a closed port.
        let offline = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",
        ];
        let dom = std::process::Command::new("chromium")
            .args(offline)
            .args(["--dump-dom", &url])
            .output()
            .expect("chromium runs");
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(dom.contains("Delivery sheet"), "{name}: {dom}");
        // The verdicts and the words are the report's.
        let files = report["files"].as_array().unwrap();
        assert_eq!(dom.matches("class=\"wave\"").count(), files.len(), "{name}");
        for file in files {
            let path = Path::new(file["path"].as_str().unwrap());
            let file_name = path.file_name().unwrap().to_str().unwrap();
            let result = file["result"].as_str().unwrap();
            assert!(
                section(&dom, file_name).contains(&format!("data-result=\"{result}\"")),
                "{name}: {file_name} {result}"
            );
        }
        for words in findings_in(&report) {
            assert!(dom.contains(&words), "{name}: {words}");
        }
        let markers = attributes(section(&dom, "Midnight_Bass.wav"), "clip", "data-time");
        assert_eq!(markers.is_empty(), name != "clipped", "{name}: {markers:?}");
        match name {
            "limited" => assert!(
                section(&dom, "Midnight_Mix.wav").contains("class=\"ceiling\""),
                "{name}"
            ),
            "offset" => assert!(
                !file_in(&report, "Midnight_Bass.wav")["offset"].is_null(),
                "{name}: {report}"
            ),
            "missing-section" => assert!(dom.contains("class=\"null\""), "{name}"),
            _ => {}
        }

        let png = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        let status = std::process::Command::new("chromium")
            .args(offline)
            .args([
                &format!("--screenshot={}", png.display()),
                "--window-size=1000,1600",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                &url,
            ])
            .output()
            .expect("chromium runs");
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{name}: screenshot {size} bytes: {status:?}");
        if name == "clipped" {
            // The pixels: the Bass (the first strip) has its markers where its clips are.
            let seen = markers_on_screen(&png, 6.0);
            assert_eq!(seen.len(), CLIPS_AT_S.len(), "{seen:?}");
            for (seen, clip) in seen.iter().zip(CLIPS_AT_S) {
                assert!(
                    (seen - clip).abs() < 0.03,
                    "a marker at {seen} s for the clip at {clip} s"
                );
            }
        }
    }
}
