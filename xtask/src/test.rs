//! `cargo xtask test [--all]`: the test suite in the two sizes the README names.
//!
//! `cargo test --workspace` runs every test that needs only Rust and gcc. The tests that drive
//! other programs (ffmpeg, sox, lv2file, Ardour, an X server, OCR, fluidsynth) are marked
//! `#[ignore = "needs …"]` so cargo lists them as ignored, with the reason. `--all` first checks
//! that those programs are here (failing with the line that installs them), then runs both,
//! then the Windows leg: the tests below cross-built with MinGW-w64 and run under Wine, and
//! the ARM leg (`arm.rs`): the analysis and checker tests run under qemu-user.

use std::path::Path;
use std::process::Command;

/// The test binaries whose ignored tests need other programs: `--all` runs their ignored tests.
const EXTERNAL_TEST_BINARIES: [&str; 8] = [
    "ardour_export",
    "delivery_sheet",
    "editor_window",
    "file_check",
    "limiter_detection",
    "loudness_truth",
    "real_deliveries",
    "zip_delivery",
];

/// Windows' target, cross-built here and run under Wine by `tools/wine/run` (cargo's runner,
/// set in `.cargo/config.toml`).
const WINDOWS_TARGET: &str = crate::windows::TARGET;
/// The test binaries (besides the library's unit tests) that run as Windows programs. The CLAP
/// host tests load the Windows bundle built beforehand (a Windows test cannot start cargo to
/// build it). Their ignored tests, which drive Linux programs, stay ignored there; the host
/// tests that build the plugin with other features (`process_allocations`) or read Linux's
/// `/proc` (`hostile_hosts`) are not among them.
const WINDOWS_TEST_BINARIES: [&str; 10] = [
    "analysis_truth",
    "architecture",
    "clap_host",
    "delivery_sheet",
    "file_check",
    "limiter_detection",
    "loudness_truth",
    "overview",
    "pass_reports",
    "zip_delivery",
];

/// A program (or file) the external tests use, and the Debian package that brings it.
struct Requirement {
    what: &'static str,
    present: fn() -> bool,
    package: &'static str,
}

fn on_path(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn pkg_config(library: &str) -> bool {
    Command::new("pkg-config")
        .args(["--exists", library])
        .status()
        .is_ok_and(|s| s.success())
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        what: "ffmpeg",
        present: || on_path("ffmpeg"),
        package: "ffmpeg",
    },
    Requirement {
        what: "chromium",
        present: || on_path("chromium"),
        package: "chromium",
    },
    Requirement {
        what: "zip",
        present: || on_path("zip"),
        package: "zip",
    },
    Requirement {
        what: "sox",
        present: || on_path("sox"),
        package: "sox",
    },
    Requirement {
        what: "lv2file",
        present: || on_path("lv2file"),
        package: "lv2file",
    },
    Requirement {
        what: "x42-dpl (LV2)",
        present: || Path::new("/usr/lib/lv2/dpl.lv2").is_dir(),
        package: "x42-plugins",
    },
    Requirement {
        what: "fluidsynth",
        present: || on_path("fluidsynth"),
        package: "fluidsynth",
    },
    Requirement {
        what: "the FluidR3 GM sound font",
        present: || Path::new("/usr/share/sounds/sf2/FluidR3_GM.sf2").is_file(),
        package: "fluid-soundfont-gm",
    },
    Requirement {
        what: "the OpenTTD music set",
        present: || Path::new("/usr/share/games/openttd/baseset/openmsx").is_dir(),
        package: "openttd-openmsx",
    },
    Requirement {
        what: "ardour7-lua",
        present: || on_path("ardour7-lua"),
        package: "ardour",
    },
    Requirement {
        what: "Xvfb",
        present: || on_path("Xvfb"),
        package: "xvfb",
    },
    Requirement {
        what: "xwd",
        present: || on_path("xwd"),
        package: "x11-apps",
    },
    Requirement {
        what: "convert",
        present: || on_path("convert"),
        package: "imagemagick",
    },
    Requirement {
        what: "tesseract (English)",
        present: || Path::new("/usr/share/tesseract-ocr/5/tessdata/eng.traineddata").is_file(),
        package: "tesseract-ocr tesseract-ocr-eng",
    },
    Requirement {
        what: "pkg-config",
        present: || on_path("pkg-config"),
        package: "pkg-config",
    },
    Requirement {
        what: "ALSA headers",
        present: || pkg_config("alsa"),
        package: "libasound2-dev",
    },
    Requirement {
        what: "JACK headers",
        present: || pkg_config("jack"),
        package: "libjack-jackd2-dev",
    },
    Requirement {
        what: "the MinGW-w64 linker",
        present: || on_path("x86_64-w64-mingw32-gcc"),
        package: "gcc-mingw-w64-x86-64",
    },
    Requirement {
        what: "Wine",
        present: || Path::new("/usr/lib/wine/wine64").is_file(),
        package: "wine64",
    },
    Requirement {
        what: "the ARM cross-linker and C library",
        present: || {
            on_path("aarch64-linux-gnu-gcc")
                && Path::new("/usr/aarch64-linux-gnu/lib/crt1.o").is_file()
        },
        package: "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
    },
    Requirement {
        what: "qemu-aarch64",
        present: || on_path("qemu-aarch64"),
        package: "qemu-user",
    },
    Requirement {
        what: "Mesa's software OpenGL",
        present: || Path::new("/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so").is_file(),
        package: "libgl1 libgl1-mesa-dri libegl1 libegl-mesa0 libx11-xcb1 libxkbcommon-x11-0",
    },
];

/// Runs the tests; with `all`, every test including those that need other programs.
pub fn run(all: bool) -> std::io::Result<()> {
    if all {
        let missing: Vec<&Requirement> = REQUIREMENTS.iter().filter(|r| !(r.present)()).collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|r| r.what).collect();
            let packages: Vec<&str> = missing.iter().map(|r| r.package).collect();
            return Err(std::io::Error::other(format!(
                "the full test run needs {} that this machine lacks. Install with:\n  sudo apt-get install --no-install-recommends {}",
                names.join(", "),
                packages.join(" ")
            )));
        }
        for (target, system) in [
            (WINDOWS_TARGET, "Windows"),
            (crate::arm::TARGET, "ARM Linux"),
        ] {
            if !rust_target_installed(target) {
                return Err(std::io::Error::other(format!(
                    "the full test run needs Rust's standard library for {system}. Install with:\n  rustup target add {target}"
                )));
            }
        }
    }
    cargo(&["test", "--workspace"])?;
    if all {
        let mut args = vec!["test"];
        for binary in EXTERNAL_TEST_BINARIES {
            args.extend(["--test", binary]);
        }
        args.extend(["--", "--ignored"]);
        cargo(&args)?;
        let clap = crate::windows::bundle()?.join("Stem Preflight.clap");
        let mut args = vec!["test", "--target", WINDOWS_TARGET, "--lib"];
        for binary in WINDOWS_TEST_BINARIES {
            args.extend(["--test", binary]);
        }
        eprintln!("(with STEM_PREFLIGHT_TEST_CLAP={})", clap.display());
        cargo_with(&args, &[("STEM_PREFLIGHT_TEST_CLAP", clap.as_os_str())])?;
        let exe = clap.with_file_name("stem-preflight.exe");
        let wine = workspace_root().join("tools/wine/run");
        crate::same_reports::as_native("Windows", &wine, &exe)?;
        crate::arm::test()?;
    }
    Ok(())
}

/// Whether rustup has the standard library for `target`.
fn rust_target_installed(target: &str) -> bool {
    Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_dir())
}

/// Runs cargo with `args`.
pub fn cargo(args: &[&str]) -> std::io::Result<()> {
    cargo_with(args, &[])
}

/// Runs cargo with `args` and extra environment variables.
pub fn cargo_with(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> std::io::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("== cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(env.iter().copied())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "cargo {} failed",
            args.join(" ")
        )))
    }
}

/// The workspace's folder.
pub fn workspace_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}
