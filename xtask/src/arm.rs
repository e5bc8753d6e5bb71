//! The ARM leg of `cargo xtask test --all`: the analysis, truth and checker tests cross-built
//! for aarch64 Linux with Debian's gcc-aarch64-linux-gnu and run under qemu-user
//! (`tools/qemu/run`, cargo's runner), so the NEON kernels Apple Silicon runs are tested here;
//! then the ARM checker's reports are compared with the native ones.

/// ARM Linux's target triple.
pub const TARGET: &str = "aarch64-unknown-linux-gnu";
/// The test binaries (besides the library's unit tests) that run as ARM programs: the analysis
/// and truth tests and the checker's. The plugin's host tests are not among them: the kernels
/// they would reach are the library's, and their programs start cargo or read `/proc`.
const TEST_BINARIES: [&str; 7] = [
    "analysis_truth",
    "architecture",
    "delivery_sheet",
    "file_check",
    "limiter_detection",
    "loudness_truth",
    "zip_delivery",
];

/// Runs the tests under the emulator, then compares the reports.
pub fn test() -> std::io::Result<()> {
    let root = crate::test::workspace_root();
    let runner = root.join("tools/qemu/run");
    let mut args = vec!["test", "--target", TARGET, "--lib"];
    for binary in TEST_BINARIES {
        args.extend(["--test", binary]);
    }
    // An emulated test cannot start an ARM program by itself: the checker's tests start it
    // through the runner.
    eprintln!("(with STEM_PREFLIGHT_TEST_RUNNER={})", runner.display());
    crate::test::cargo_with(&args, &[("STEM_PREFLIGHT_TEST_RUNNER", runner.as_os_str())])?;
    crate::test::cargo(&[
        "build",
        "--release",
        "--target",
        TARGET,
        "--bin",
        "stem-preflight",
    ])?;
    let checker = root
        .join("target")
        .join(TARGET)
        .join("release/stem-preflight");
    crate::same_reports::as_native("ARM", &runner, &checker)
}
