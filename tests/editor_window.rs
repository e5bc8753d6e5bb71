//! The editor in a real window: the standalone build (nice-plug's standalone wrapper, dummy
//! audio backend) meters a known signal under Xvfb with Mesa's software OpenGL; screenshots of
//! each state are saved under `target/editor-screenshots/` for a person to look at, and checked
//! here: the window rendered, the status area has the colour of the expected state, and the
//! words that matter can be read back by OCR (tesseract) at 100 % and 200 %.
//!
//! Needs xvfb, x11-apps (xwd), imagemagick, libgl1-mesa-dri and tesseract-ocr (`.ci/run`
//! installs them).

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::screen::Screen;

/// Status colours (the editor's `light_colour`).
const READY: [u8; 3] = [60, 190, 90];
const ACCEPTABLE: [u8; 3] = [220, 200, 40];
const TOO_HOT: [u8; 3] = [240, 140, 20];
const CLIPPED: [u8; 3] = [230, 40, 40];
/// How long a window may take to show the expected state (software GL, a loaded machine).
const PATIENCE: Duration = Duration::from_secs(45);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the standalone program (a no-op when current).
fn standalone() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--features",
            "standalone",
            "--bin",
            "stem-preflight-standalone",
        ])
        .current_dir(root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the standalone program failed");
    root().join("target/release/stem-preflight-standalone")
}

fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{tool} is missing: install xvfb x11-apps imagemagick libgl1-mesa-dri tesseract-ocr (see .ci/run)"
    );
}

/// A private X server; the display number is the one it picked.
struct Display {
    server: Child,
    name: String,
}

impl Display {
    fn start() -> Self {
        let mut server = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "2800x2400x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let mut number = String::new();
        let mut out = server.stdout.take().unwrap();
        let mut byte = [0u8; 1];
        while out.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
            number.push(byte[0] as char);
        }
        assert!(!number.trim().is_empty(), "Xvfb gave no display number");
        Self {
            server,
            name: format!(":{}", number.trim()),
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Grabs the whole screen, saves it as a PNG and reads it back.
fn grab(display: &Display, png: &Path) -> Screen {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "xwd -root -silent -display {} | convert xwd:- png:'{}'",
            display.name,
            png.display()
        ))
        .status()
        .expect("xwd and convert run");
    assert!(status.success(), "screenshot failed");
    Screen::from_png(png)
}

/// The text OCR reads in the window (the top-left `width`x`height` of the screenshot), lower
/// case with all white space removed (OCR is unreliable about spaces). Dark-themed text is made
/// OCR-friendly first: brightest channel, inverted; read whole, enlarged to three times the size
/// of a 100 % window for the small text, and the top `heading_height` rows as they are for the
/// large status heading (one block of text must have one size of letters).
fn ocr(png: &Path, (width, height): (usize, usize), heading_height: usize, zoom: f32) -> String {
    let enlarged = format!("{:.0}%", 300.0 / zoom);
    ocr_at(png, (width, height), &enlarged) + &ocr_at(png, (width, heading_height), "100%")
}

fn ocr_at(png: &Path, (width, height): (usize, usize), scale: &str) -> String {
    // One uniform block of text (page segmentation 6): the automatic layout splits the
    // overview's rows at the status lights and loses names.
    squeeze(&read_text(png, (width, height, 0), scale, &[], "6"))
}

/// What tesseract reads in the `width`x`height` area `top` rows down the screenshot, made
/// OCR-friendly first: the brightest channel (red and orange text as dark as white text),
/// inverted, resized by `scale`, then `extra` ImageMagick steps; `psm` is tesseract's page
/// segmentation mode.
fn read_text(
    png: &Path,
    (width, height, top): (usize, usize, usize),
    scale: &str,
    extra: &[&str],
    psm: &str,
) -> String {
    let prepared = png.with_extension("ocr.png");
    let status = Command::new("convert")
        .arg(png)
        .args(["-crop", &format!("{width}x{height}+0+{top}"), "+repage"])
        .args(["-channel", "RGB", "-separate", "-evaluate-sequence", "Max"])
        .args(["-negate", "-resize", scale])
        .args(extra)
        .arg(&prepared)
        .status()
        .expect("convert runs");
    assert!(status.success());
    let out = Command::new("tesseract")
        .arg(&prepared)
        .arg("stdout")
        .args(["--psm", psm])
        .stderr(Stdio::null())
        .output()
        .expect("tesseract runs");
    let _ = std::fs::remove_file(&prepared);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn squeeze(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// One editor window showing a state.
#[derive(Clone, Copy)]
struct Shot<'a> {
    /// The screenshot's name: "<name>.png" at 100 %, "<name>-200.png" at 200 %.
    name: &'a str,
    signal: &'a str,
    zoom: f32,
    /// The status box's colour, and the ones it must not have.
    colour: [u8; 3],
    /// Words OCR must find (case and spaces do not matter), besides [`ALWAYS_READ`].
    words: &'a [&'a str],
    /// Seconds into the pass where the timeline must show a clip marker.
    markers_s: &'a [f64],
}

impl Shot<'_> {
    fn file(&self) -> String {
        if self.zoom > 1.0 {
            format!("{}-200.png", self.name)
        } else {
            format!("{}.png", self.name)
        }
    }
}

/// Read in every state: the bottom-most control, so nothing is cut off.
const ALWAYS_READ: [&str; 1] = ["warn above"];
/// The meters' scale labels -60 -40 -30 -20 -12 -9 -6 -3, as digits in a row: OCR loses the
/// thin minus signs.
const SCALE_DIGITS: &str = "6040302012963";
/// The meters' above-full-scale zone, as drawn over the bar's background.
const OVER_ZONE: [u8; 3] = [73, 31, 31];
/// The pass timeline's background and columns (the editor's `pass_timeline`).
const STRIP_BACKGROUND: [u8; 3] = [18, 22, 34];
const STRIP_COLUMNS: f64 = 480.0;
const FIRST_COLUMN_S: f64 = 0.1;

fn launch(program: &Path, display: &Display, signal: &str, zoom: f32, runtime: &Path) -> Child {
    Command::new(program)
        .args(["--backend", "dummy"])
        .env("DISPLAY", &display.name)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env("STEM_PREFLIGHT_TEST_SIGNAL", signal)
        .env("STEM_PREFLIGHT_EDITOR_ZOOM", zoom.to_string())
        .env("STEM_PREFLIGHT_RUNTIME_DIR", runtime)
        .env("STEM_PREFLIGHT_REPORT_DIR", runtime.join("reports"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the standalone program starts")
}

/// Waits until the window shows `shot`'s state, saves the screenshot, and returns the screen.
fn capture(display: &Display, shot: &Shot, out: &Path) -> Screen {
    let png = out.join(shot.file());
    let z = shot.zoom as usize;
    // The status box sits under the header, across the window.
    let status_area = (0, 30 * z, 520 * z, 125 * z);
    let others: Vec<[u8; 3]> = [READY, ACCEPTABLE, TOO_HOT, CLIPPED]
        .into_iter()
        .filter(|c| *c != shot.colour)
        .collect();
    let deadline = Instant::now() + PATIENCE;
    let mut last_text = String::new();
    loop {
        let screen = grab(display, &png);
        let coloured = screen.count(shot.colour, status_area);
        let foreign = others
            .iter()
            .map(|c| screen.count(*c, status_area))
            .max()
            .unwrap();
        let mut markers = Vec::new();
        if coloured >= 400 * z * z && foreign < 40 {
            last_text = ocr(&png, screen.window_extent(), 140 * z, shot.zoom);
            if !shot.markers_s.is_empty() {
                markers = timeline_markers(&screen);
            }
            let scale = scale_digits(&png, &screen, z);
            let read = shot
                .words
                .iter()
                .chain(&ALWAYS_READ)
                .all(|w| last_text.contains(&squeeze(w)))
                && scale.contains(SCALE_DIGITS);
            last_text += &format!(" [scale: {scale}]");
            let marked = shot.markers_s.iter().all(|&s| {
                markers
                    .iter()
                    .any(|&m| (m - s).abs() <= 2.0 * FIRST_COLUMN_S)
            });
            if read && marked {
                return screen;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{}: status colour {:?} in {coloured} pixels (others up to {foreign}); text read: {last_text:?}; markers at {markers:?} s",
            shot.file(),
            shot.colour
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The digits OCR reads on the meters' scale: the row under the last bar, found as the bottom
/// of the bars' above-full-scale zone (a run of its colour: red text's edges can take it too),
/// read as one line.
fn scale_digits(png: &Path, screen: &Screen, zoom: usize) -> String {
    let exactly = |x: usize, y: usize| {
        let p = screen.pixel(x, y);
        p.iter().zip(OVER_ZONE).all(|(&a, b)| a.abs_diff(b) <= 2)
    };
    let zone_row = |y: usize| {
        let mut run = 0;
        (0..(640 * zoom).min(screen.width)).any(|x| {
            run = if exactly(x, y) { run + 1 } else { 0 };
            run >= 20
        })
    };
    let Some(bottom) = (0..(500 * zoom).min(screen.height))
        .rev()
        .find(|&y| zone_row(y))
    else {
        return String::new();
    };
    read_text(
        png,
        (640 * zoom, 22 * zoom, bottom + 1),
        &format!("{}%", 300 / zoom),
        &[
            "-threshold",
            "60%",
            "-bordercolor",
            "white",
            "-border",
            "20",
        ],
        "7",
    )
    .chars()
    .filter(char::is_ascii_digit)
    .collect()
}

/// Where the pass timeline shows clip markers, in seconds from the start of the pass: the strip
/// is found by its background, a marker by red in its top rows, above the 0 dBFS line, where
/// only markers are drawn.
fn timeline_markers(screen: &Screen) -> Vec<f64> {
    let near = |p: [u8; 3], c: [u8; 3]| p.iter().zip(c).all(|(&a, b)| a.abs_diff(b) <= 3);
    let (mut left, mut right, mut top) = (usize::MAX, 0, usize::MAX);
    for y in 0..screen.height {
        for x in 0..screen.width {
            if near(screen.pixel(x, y), STRIP_BACKGROUND) {
                left = left.min(x);
                right = right.max(x + 1);
                top = top.min(y);
            }
        }
    }
    if right <= left {
        return Vec::new();
    }
    let row = top + 3;
    let width = (right - left) as f64;
    let mut markers = Vec::new();
    let mut run: Option<usize> = None;
    for x in left..=right {
        let red = x < right && screen.count(CLIPPED, (x, row, x + 1, row + 1)) == 1;
        match (red, run) {
            (true, None) => run = Some(x),
            (false, Some(start)) => {
                let centre = (start + x - 1) as f64 / 2.0 + 0.5 - left as f64;
                markers.push(centre / width * STRIP_COLUMNS * FIRST_COLUMN_S);
                run = None;
            }
            _ => {}
        }
    }
    markers
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
#[ignore = "needs Xvfb, ImageMagick, tesseract and the ALSA/JACK headers: cargo xtask test --all"]
fn the_editor_shows_each_state_in_a_real_window() {
    for tool in ["Xvfb", "xwd", "convert", "tesseract"] {
        require(tool);
    }
    let program = standalone();
    let out = root().join("target/editor-screenshots");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let display = Display::start();

    // Every state at 100 % and 200 %. The clipped signal has a clip 2 s into each 8 s loop.
    let states = [
        Shot {
            name: "ready",
            signal: "ready,name=Bass",
            zoom: 1.0,
            colour: READY,
            words: &["ready", "headroom"],
            markers_s: &[],
        },
        Shot {
            name: "acceptable",
            signal: "acceptable,name=Keys",
            zoom: 1.0,
            colour: ACCEPTABLE,
            words: &["acceptable"],
            markers_s: &[],
        },
        Shot {
            name: "too-hot",
            signal: "too-hot,name=Drums",
            zoom: 1.0,
            colour: TOO_HOT,
            words: &["too hot", "lower the drums bus by 4.0 db"],
            markers_s: &[],
        },
        Shot {
            name: "clipped",
            signal: "clipped,name=Vocals",
            zoom: 1.0,
            colour: CLIPPED,
            words: &["clipped", "lower the vocals bus", "last:", "(bar"],
            markers_s: &[2.0, 10.0],
        },
        Shot {
            name: "limiter",
            signal: "limited,name=Mix",
            zoom: 1.0,
            colour: TOO_HOT,
            words: &["peaks pinned at -1.0 dbfs", "limiter"],
            markers_s: &[],
        },
    ];
    let shots = states
        .iter()
        .flat_map(|shot| [1.0, 2.0].map(|zoom| Shot { zoom, ..*shot }));
    let mut extents = Vec::new();
    for (i, shot) in shots.enumerate() {
        let runtime = out.join(format!("runtime-{i}"));
        let child = launch(&program, &display, shot.signal, shot.zoom, &runtime);
        let screen = capture(&display, &shot, &out);
        stop(child);
        // Not blank: the window covers a real area and has many colours.
        let (w, h) = screen.window_extent();
        assert!(w > 300 && h > 300, "{}: window {w}x{h}", shot.file());
        extents.push((shot.zoom, w, h));
    }
    // 200 % is twice the size in pixels, not the same window with bigger text cut off.
    for pair in extents.chunks(2) {
        let (w1, h1) = (pair[0].1 as f32, pair[0].2 as f32);
        let (w2, h2) = (pair[1].1 as f32, pair[1].2 as f32);
        assert!(
            (w2 / w1 - 2.0).abs() < 0.1 && (h2 / h1 - 2.0).abs() < 0.1,
            "{w1}x{h1} vs {w2}x{h2}"
        );
    }

    // Three instances in three processes, at 100 % and 200 %: the top window lists all of them.
    for zoom in [1.0, 2.0] {
        let runtime = out.join(format!("runtime-overview-{zoom}"));
        let children: Vec<Child> = [
            "ready,name=Bass",
            "clipped,name=Vocals",
            "too-hot,name=Drums",
        ]
        .into_iter()
        .map(|signal| {
            let child = launch(&program, &display, signal, zoom, &runtime);
            // One after the other, so the Drums window ends up on top.
            std::thread::sleep(Duration::from_secs(2));
            child
        })
        .collect();
        capture(
            &display,
            &Shot {
                name: "overview",
                signal: "",
                zoom,
                colour: TOO_HOT,
                words: &["all instances (3)", "bass", "vocals", "drums"],
                markers_s: &[],
            },
            &out,
        );
        for child in children {
            stop(child);
        }
    }
}
