//! `src/analysis/` is pure DSP: it must not reach for the plugin framework, the GUI, files,
//! the network or threads, so the plugin and the file checker can share it unchanged.

use std::fs;
use std::path::Path;

/// Paths that would tie the analysis core to something other than numbers.
const FORBIDDEN: &[&str] = &[
    "nice_plug",
    "egui",
    "crate::plugin",
    "crate::editor",
    "crate::check",
    "std::fs",
    "std::io",
    "std::net",
    "std::path",
    "std::thread",
    "std::sync",
    "File::",
    "println!",
    "eprintln!",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The analysis module's source with `#[cfg(test)]` modules cut off (tests may print).
fn production_code(source: &str) -> &str {
    source.split("#[cfg(test)]").next().unwrap_or(source)
}

#[test]
fn analysis_imports_nothing_from_the_plugin_gui_or_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("analysis.rs")];
    rust_files(&root.join("analysis"), &mut files);
    assert!(
        files.len() > 5,
        "expected the analysis sources, found {files:?}"
    );
    let mut violations = Vec::new();
    for file in &files {
        let source = fs::read_to_string(file).expect("readable source");
        for (number, line) in production_code(&source).lines().enumerate() {
            for needle in FORBIDDEN {
                // An Arc shares an immutable FFT plan: no lock, no blocking.
                let allowed = line.contains("std::sync::Arc;") && !line.contains('{');
                if line.contains(needle) && !allowed && !line.trim_start().starts_with("//") {
                    violations.push(format!(
                        "{}:{}: {}",
                        file.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "analysis must stay pure:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scan_would_catch_a_violation() {
    // Negative control for the scanner itself.
    let sample = "use nice_plug::prelude::*;\nfn f() {}\n#[cfg(test)]\nmod tests { use std::fs; }";
    let code = production_code(sample);
    assert!(FORBIDDEN.iter().any(|n| code.contains(n)));
    assert!(!code.contains("std::fs"));
}
