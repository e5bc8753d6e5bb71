//! Builds the release bundles and copies them where DAWs look for plugins.

use std::fs;
use std::path::{Path, PathBuf};

const CLAP_BUNDLE: &str = "Stem Preflight.clap";
const VST3_BUNDLE: &str = "Stem Preflight.vst3";

/// `cargo xtask install`: bundle, then copy the CLAP and VST3 bundles into the per-user plugin
/// folders (`~/.clap` and `~/.vst3` on Linux; the standard folders on macOS and Windows).
pub fn run() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main_with_args(
        "cargo xtask",
        ["bundle", "stem_preflight", "--release"].map(String::from),
    )?;
    // `main_with_args` moved us to the workspace root.
    let bundled = Path::new("target/bundled");
    let (clap_dir, vst3_dir) = plugin_folders()?;
    for (bundle, folder) in [(CLAP_BUNDLE, clap_dir), (VST3_BUNDLE, vst3_dir)] {
        let source = bundled.join(bundle);
        let target = folder.join(bundle);
        fs::create_dir_all(&folder)?;
        if target.exists() {
            if target.is_dir() {
                fs::remove_dir_all(&target)?;
            } else {
                fs::remove_file(&target)?;
            }
        }
        copy_recursively(&source, &target)?;
        eprintln!("Installed {}", target.display());
        if bundle == CLAP_BUNDLE {
            let plugins = crate::smoke::describe_clap(&target).map_err(anyhow_error)?;
            for plugin in plugins {
                eprintln!("  loads as a CLAP plugin: {plugin}");
            }
        }
    }
    install_checker()?;
    eprintln!("Rescan plugins in your DAW and insert \"Stem Preflight\" on each group bus and the master.");
    eprintln!("After exporting, check the files: stem-preflight check <export folder>");
    Ok(())
}

/// Builds the `stem-preflight` command-line checker and copies it to `~/.local/bin` (Linux,
/// macOS); on Windows it stays in `target\release`.
fn install_checker() -> nice_plug_xtask::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "--bin", "stem-preflight"])
        .status()?;
    if !status.success() {
        return Err(anyhow_error("building the stem-preflight checker failed").into());
    }
    let name = if cfg!(windows) {
        "stem-preflight.exe"
    } else {
        "stem-preflight"
    };
    let built = Path::new("target/release").join(name);
    let installed = match std::env::var_os("HOME") {
        Some(home) if !cfg!(windows) => {
            let folder = PathBuf::from(home).join(".local/bin");
            fs::create_dir_all(&folder)?;
            let target = folder.join(name);
            fs::copy(&built, &target)?;
            target
        }
        _ => built,
    };
    let version = std::process::Command::new(&installed)
        .arg("--version")
        .output()?;
    eprintln!(
        "Installed {} ({})",
        installed.display(),
        String::from_utf8_lossy(&version.stdout).trim()
    );
    Ok(())
}

fn plugin_folders() -> nice_plug_xtask::Result<(PathBuf, PathBuf)> {
    if cfg!(target_os = "windows") {
        let common = std::env::var_os("COMMONPROGRAMFILES")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\Program Files\Common Files"));
        return Ok((common.join("CLAP"), common.join("VST3")));
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow_error("HOME is not set: cannot find the plugin folders"))?;
    if cfg!(target_os = "macos") {
        let plugins = home.join("Library/Audio/Plug-Ins");
        Ok((plugins.join("CLAP"), plugins.join("VST3")))
    } else {
        Ok((home.join(".clap"), home.join(".vst3")))
    }
}

fn anyhow_error(message: impl Into<String>) -> std::io::Error {
    std::io::Error::other(message.into())
}

fn copy_recursively(source: &Path, target: &Path) -> std::io::Result<()> {
    if source.is_dir() {
        fs::create_dir_all(target)?;
        for entry in fs::read_dir(source)? {
            let entry = entry?;
            copy_recursively(&entry.path(), &target.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        fs::copy(source, target).map(drop)
    }
}
