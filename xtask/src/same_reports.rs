//! The checker's JSON reports from another platform's build, compared with the native ones: the
//! same bytes on every test set, but for the separator in paths and line ends.

use std::path::Path;
use std::process::Command;

/// Sets the checker's tests leave in `target/tmp/file_check/`, checked again by each build.
const COMPARED_SETS: [&str; 7] = [
    "aiff",
    "clean",
    "clips",
    "dense",
    "dense-limited",
    "limiter",
    "missing",
];

/// Checks every one of [`COMPARED_SETS`] with the native release checker and with `checker`
/// (run by `runner`, an emulator's script) and requires identical reports.
pub fn as_native(platform: &str, runner: &Path, checker: &Path) -> std::io::Result<()> {
    let root = crate::test::workspace_root();
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
        let native_report = report(&native, &[])?;
        let other_report = report(runner, &[checker])?;
        if native_report.is_empty() || native_report != other_report {
            let first = native_report
                .lines()
                .zip(other_report.lines())
                .find(|(a, b)| a != b)
                .map_or_else(
                    || "one report is empty or shorter".to_owned(),
                    |(a, b)| format!("native `{}`, {platform} `{}`", a.trim(), b.trim()),
                );
            return Err(std::io::Error::other(format!(
                "the reports on {set} differ between the native and the {platform} checker: {first}"
            )));
        }
        eprintln!("{set}: the same report from the native and the {platform} checker");
    }
    Ok(())
}
