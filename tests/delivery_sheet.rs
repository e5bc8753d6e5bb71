//! The delivery sheet (`check --html`, and inside `pack`'s ZIP): self-contained, its clip
//! markers where the clips are, its verdicts the JSON report's; in a real browser (Debian's
//! chromium, headless) it renders offline, and screenshots are kept for a person to look at.

mod support;

use serde_json::Value;
use std::path::Path;
use support::checker::{check, run, scratch_folder};
use support::files::{stems, write_song, Store};

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

#[test]
#[ignore = "needs chromium: cargo xtask test --all"]
fn a_real_browser_renders_the_sheet_offline() {
    let root = scratch_folder("delivery_sheet", "browser");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("delivery-sheets");
    std::fs::create_dir_all(&shots).unwrap();
    let clean = root.join("Clean");
    std::fs::create_dir(&clean).unwrap();
    write_song(
        &clean,
        "Midnight",
        RATE,
        &stems(RATE, 6.0, 10),
        Store::Int(24),
    );
    let clipped = root.join("Clipped");
    std::fs::create_dir(&clipped).unwrap();
    clipped_set(&clipped);
    for (name, dir) in [("clean", &clean), ("clipped", &clipped)] {
        let sheet = root.join(format!("{name}.html"));
        let (_, report) = sheet_and_report(dir, &sheet);
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
        let files = report["files"].as_array().unwrap().len();
        assert_eq!(dom.matches("class=\"wave\"").count(), files, "{name}");
        let markers = attributes(section(&dom, "Midnight_Bass.wav"), "clip", "data-time");
        assert_eq!(markers.is_empty(), name == "clean", "{name}: {markers:?}");
        let png = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        let status = std::process::Command::new("chromium")
            .args(offline)
            .args([
                &format!("--screenshot={}", png.display()),
                "--window-size=1000,1600",
                "--hide-scrollbars",
                &url,
            ])
            .output()
            .expect("chromium runs");
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{name}: screenshot {size} bytes: {status:?}");
    }
}
