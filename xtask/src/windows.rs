//! `cargo xtask bundle-windows`: the Windows plugin bundles and command, cross-built with
//! MinGW-w64, in `target/bundled-windows/`: `Stem Preflight.clap`, `Stem Preflight.vst3`
//! (`Contents/x86_64-win/…`) and `stem-preflight.exe`. nice-plug's bundler writes every target's
//! bundles to `target/bundled/`, so the Windows ones are moved out and the native ones rebuilt
//! (a copy: nothing is compiled again).

use std::fs;
use std::path::{Path, PathBuf};

/// Windows' target triple.
pub const TARGET: &str = "x86_64-pc-windows-gnu";
const CLAP: &str = "Stem Preflight.clap";
const VST3: &str = "Stem Preflight.vst3";
const EXE: &str = "stem-preflight.exe";

/// Builds the Windows bundles; returns their folder.
pub fn bundle() -> std::io::Result<PathBuf> {
    let root = crate::test::workspace_root();
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
