//! `cargo xtask bundle-windows`: the Windows plugin bundles and command, cross-built with
//! MinGW-w64, in `target/bundled-windows/`: `Stem Preflight.clap`, `Stem Preflight.vst3`
//! (`Contents/x86_64-win/…`) and `stem-preflight.exe`. nice-plug's bundler writes every target's
//! bundles to `target/bundled/`, so the Windows ones are moved out and the native ones rebuilt
//! (a copy: nothing is compiled again). Then the checker's reports from both builds are
//! compared.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Windows' target triple.
pub const TARGET: &str = "x86_64-pc-windows-gnu";
const CLAP: &str = "Stem Preflight.clap";
const VST3: &str = "Stem Preflight.vst3";
const EXE: &str = "stem-preflight.exe";

/// Builds the Windows bundles; returns their folder.
pub fn bundle() -> std::io::Result<PathBuf> {
    let root = workspace_root();
    let (bundled, out) = (
        root.join("target/bundled"),
        root.join("target/bundled-windows"),
    );
    crate::test::cargo(&[
        "xtask",
        "bundle",
        "stem_preflight",
        "--release",
        "--target",
        TARGET,
    ])?;
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    fs::create_dir_all(&out)?;
    fs::rename(bundled.join(CLAP), out.join(CLAP))?;
    // The VST3 bundle holds every platform's folder: the Windows one moves to its own bundle.
    let win = Path::new(VST3).join("Contents/x86_64-win");
    fs::create_dir_all(out.join(&win).parent().expect("Contents"))?;
    fs::rename(bundled.join(&win), out.join(&win))?;
    fs::copy(
        root.join("target").join(TARGET).join("release").join(EXE),
        out.join(EXE),
    )?;
    crate::test::cargo(&["xtask", "bundle", "stem_preflight", "--release"])?;
    eprintln!("Windows bundles and command in {}", out.display());
    Ok(out)
}

/// Sets the checker's tests leave in `target/tmp/file_check/`, checked again by both builds.
const COMPARED_SETS: [&str; 7] = [
    "aiff",
    "clean",
    "clips",
    "dense",
    "dense-limited",
    "limiter",
    "missing",
];

/// The checker's JSON report on each of [`COMPARED_SETS`] from the native command and from
/// the Windows one under Wine: identical, but for the separator in paths and line ends.
pub fn same_reports_as_native(windows_exe: &Path) -> std::io::Result<()> {
    let root = workspace_root();
    crate::test::cargo(&["build", "--release", "--bin", "stem-preflight"])?;
    let native = root.join("target/release/stem-preflight");
    let sets = root.join("target/tmp/file_check");
    for set in COMPARED_SETS {
        if !sets.join(set).is_dir() {
            return Err(std::io::Error::other(format!(
                "{} is missing: the checker's tests make it (cargo test --test file_check)",
                sets.join(set).display()
            )));
        }
        let report = |program: &Path, before: &[&Path]| -> std::io::Result<String> {
            let output = Command::new(program)
                .args(before)
                .args(["check", "--json", set])
                .current_dir(&sets)
                .output()?;
            Ok(String::from_utf8_lossy(&output.stdout)
                .replace("\r\n", "\n")
                .replace("\\\\", "/"))
        };
        let on_linux = report(&native, &[])?;
        let on_windows = report(&root.join("tools/wine/run"), &[windows_exe])?;
        if on_linux.is_empty() || on_linux != on_windows {
            let first = on_linux
                .lines()
                .zip(on_windows.lines())
                .find(|(a, b)| a != b)
                .map_or_else(
                    || "one report is empty or shorter".to_owned(),
                    |(a, b)| format!("native `{}`, Windows `{}`", a.trim(), b.trim()),
                );
            return Err(std::io::Error::other(format!(
                "the reports on {set} differ between the native and the Windows checker: {first}"
            )));
        }
        eprintln!("{set}: the same report from both checkers");
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}
