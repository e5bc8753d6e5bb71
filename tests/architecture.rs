//! `src/analysis/` is pure DSP: it must not reach for the plugin framework, the GUI, files,
//! the network or threads, so the plugin and the file checker can share it unchanged. And no
//! module's imports lead back to itself: the arrows point one way.

use std::collections::{BTreeMap, BTreeSet};
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

/// A module's path from the crate root (`["plugin", "overview"]`) for a source file.
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(root).expect("file under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "lib" && stem != "mod" {
        parts.push(stem.to_owned());
    }
    parts
}

/// Tokens of Rust source: identifiers, `::`, and the punctuation a `use` tree is made of.
/// Comments, strings and character literals are dropped.
fn tokens(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            while i < chars.len() && !(chars[i] == '\'' && chars[i - 1] != '\\' && i > 0) {
                i += 1;
            }
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && next == Some(':') {
            out.push("::".into());
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
            i += 1;
        }
    }
    out
}

/// Expands the `use` tree starting at `tokens[*at]` into full paths, advancing `*at` past it.
fn use_tree(tokens: &[String], at: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    while *at < tokens.len() {
        let token = tokens[*at].as_str();
        match token {
            "{" => {
                *at += 1;
                while *at < tokens.len() && tokens[*at] != "}" {
                    use_tree(tokens, at, &path, out);
                    if tokens.get(*at).is_some_and(|t| t == ",") {
                        *at += 1;
                    }
                }
                *at += 1;
                return;
            }
            "::" => *at += 1,
            "," | "}" | ";" => break,
            "as" => *at += 2,
            "*" => *at += 1,
            "self" if path.len() > prefix.len() || !prefix.is_empty() => *at += 1,
            _ => {
                path.push(token.to_owned());
                *at += 1;
            }
        }
    }
    out.push(path);
}

/// Every path the module's production code names: `use` trees expanded (`pub use`
/// re-exports left out: a facade that re-exports its leaves does not depend on them), and
/// paths written inline (`super::report::MIN_EXPORT_S`).
fn named_paths(source: &str) -> Vec<Vec<String>> {
    let tokens = tokens(production_code(source));
    let mut out = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        if tokens[at] == "use" {
            // `pub use` or `pub(crate) use`.
            let re_export = (at >= 1 && tokens[at - 1] == "pub")
                || (at >= 4 && tokens[at - 1] == ")" && tokens[at - 4] == "pub");
            let mut paths = Vec::new();
            at += 1;
            use_tree(&tokens, &mut at, &[], &mut paths);
            if !re_export {
                out.extend(paths);
            }
        } else if tokens[at] == "mod" {
            at += 2;
        } else if tokens.get(at + 1).is_some_and(|t| t == "::") && tokens[at] != "::" {
            let mut path = vec![tokens[at].clone()];
            at += 1;
            while tokens.get(at).is_some_and(|t| t == "::")
                && tokens.get(at + 1).is_some_and(|t| t != "{" && t != "*")
            {
                path.push(tokens[at + 1].clone());
                at += 2;
            }
            out.push(path);
        } else {
            at += 1;
        }
    }
    out
}

/// The module a path inside `from` leads to, if it is one of ours and not `from` itself:
/// the longest prefix that names a module.
fn target_module(
    from: &[String],
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut absolute: Vec<String> = from.to_vec();
    let mut rest = path;
    match path.first()?.as_str() {
        "crate" => {
            absolute.clear();
            rest = &path[1..];
        }
        "self" => rest = &path[1..],
        "super" => {
            while rest.first().is_some_and(|s| s == "super") {
                absolute.pop();
                rest = &rest[1..];
            }
        }
        first => {
            // A relative path: a child module of `from`, else something external or local.
            let mut child = from.to_vec();
            child.push(first.to_owned());
            if !modules.contains(&child) {
                return None;
            }
        }
    }
    absolute.extend(rest.iter().cloned());
    while !absolute.is_empty() && !modules.contains(&absolute) {
        absolute.pop();
    }
    (absolute != from && !absolute.is_empty()).then_some(absolute)
}

/// Which of our modules each module imports.
fn module_graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.retain(|f| !f.starts_with(root.join("bin")));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&root, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let from = module_of(&root, file);
        let source = fs::read_to_string(file).expect("readable source");
        let targets: BTreeSet<Vec<String>> = named_paths(&source)
            .iter()
            .filter_map(|path| target_module(&from, path, &modules))
            .collect();
        graph.insert(from, targets);
    }
    graph
}

/// A cycle in `graph` (as the modules along it), if there is one.
fn find_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        done: &mut BTreeSet<Vec<String>>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|m| m.join("::")).collect();
            cycle.push(node.join("::"));
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

#[test]
fn no_module_imports_lead_back_to_themselves() {
    let graph = module_graph();
    assert!(graph.len() > 30, "expected every module, found {graph:?}");
    // The scan sees both plain and grouped imports and inline paths.
    let editor = &graph[&vec!["editor".to_owned()]];
    assert!(editor.contains(&vec!["plugin".to_owned(), "shared".to_owned()]));
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_cycle_scan_reads_grouped_imports_and_finds_a_cycle() {
    let modules: BTreeSet<Vec<String>> = [vec!["a"], vec!["a", "b"], vec!["c"], vec!["c", "d"]]
        .iter()
        .map(|m| m.iter().map(|s| s.to_string()).collect())
        .collect();
    let edges = |from: &[&str], source: &str| -> BTreeSet<Vec<String>> {
        let from: Vec<String> = from.iter().map(|s| s.to_string()).collect();
        named_paths(source)
            .iter()
            .filter_map(|p| target_module(&from, p, &modules))
            .collect()
    };
    let b_to = edges(
        &["a", "b"],
        "use crate::{c::{d::Thing, self}, a};\nfn f() { super::helper(); }\n#[cfg(test)]\nmod tests { use crate::z; }",
    );
    let expected: BTreeSet<Vec<String>> = [vec!["c", "d"], vec!["c"], vec!["a"]]
        .iter()
        .map(|m| m.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(b_to, expected);
    // A re-export is not a dependency; a relative path into a child is, and so is an import
    // under an attribute.
    assert!(edges(&["a"], "pub use b::Thing;").is_empty());
    assert!(edges(&["a"], "pub(crate) use b::Thing;").is_empty());
    assert_eq!(edges(&["a"], "#[allow(unused)]\nuse b::Thing;").len(), 1);
    assert_eq!(edges(&["a"], "fn f() { b::go(\"//\"); }").len(), 1);
    let mut graph = BTreeMap::new();
    graph.insert(vec!["a".to_owned()], edges(&["a"], "use b::Thing;"));
    graph.insert(vec!["a".to_owned(), "b".to_owned()], b_to);
    graph.insert(vec!["c".to_owned()], BTreeSet::new());
    graph.insert(vec!["c".to_owned(), "d".to_owned()], BTreeSet::new());
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "a::b", "a"]);
}
