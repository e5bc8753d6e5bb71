//! Running the `stem-preflight` binary from a test.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh folder `group/name` under the target directory.
pub fn scratch_folder(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test folder");
    dir
}

/// Runs the binary; returns its exit code, stdout and stderr. Under an emulator (the ARM leg
/// runs under qemu-user, which cannot start ARM programs by itself) the binary runs through
/// the program `STEM_PREFLIGHT_TEST_RUNNER` names.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let binary = env!("CARGO_BIN_EXE_stem-preflight");
    let mut command = match std::env::var_os("STEM_PREFLIGHT_TEST_RUNNER") {
        Some(runner) => {
            let mut command = Command::new(runner);
            command.arg(binary);
            command
        }
        None => Command::new(binary),
    };
    let output = command
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    (
        output
            .status
            .code()
            .expect("exited, not killed by a signal"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `check --json` on a folder, file or ZIP: exit code and the parsed report.
pub fn check(path: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["check", "--json", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("JSON report ({e}): {stdout}\nstderr: {stderr}"));
    (code, report)
}
