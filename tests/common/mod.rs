//! Helpers shared by the integration tests.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use sorchac::Compilation;
use sorchac::cli::FsLoader;
use sorchac::diag::Diagnostic;
use sorchac::diag::render;
use sorchac::resolve::MemoryLoader;

/// Compiles a program from the disk (paths relative to the package root).
pub fn compile_path(path: &str) -> Compilation {
    sorchac::compile(path, &FsLoader).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Compiles one in-memory file, `main.sorcha`.
pub fn compile_text(text: &str) -> Compilation {
    let loader = MemoryLoader::new().with("main.sorcha", text);
    sorchac::compile("main.sorcha", &loader).unwrap()
}

/// The diagnostics rendered for people, without colour, at a fixed width.
pub fn rendered(c: &Compilation) -> String {
    render::human(&c.diagnostics, &c.program.sources, false, 100)
}

/// `error E0201` for each diagnostic, sorted.
pub fn outcome(diags: &[Diagnostic]) -> Vec<String> {
    let mut v: Vec<String> = diags
        .iter()
        .map(|d| format!("{} {}", d.severity.as_str(), d.code))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A tree of output files as one text: each file under a `//// path` header.
pub fn tree(files: &[sorchac::emit::OutFile]) -> String {
    let mut out = String::new();
    for f in files {
        out.push_str(&format!("//// {}\n", f.path));
        out.push_str(std::str::from_utf8(&f.bytes).unwrap());
        out.push('\n');
    }
    out
}

/// Every file under `dir` (paths relative to it) with its bytes, in path order.
pub fn files_under(
    dir: &std::path::Path,
) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Every document of a YAML stream, as values.
pub fn documents(text: &str) -> Vec<serde_json::Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| <serde_json::Value as serde::Deserialize>::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

pub fn key(v: &serde_json::Value) -> String {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    format!(
        "{} {} {}/{}",
        s("/apiVersion"),
        s("/kind"),
        s("/metadata/namespace"),
        s("/metadata/name")
    )
}

/// The first place where `a` and `b` differ, as a path and both values.
pub fn first_difference(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &str,
) -> Option<String> {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => {
                        if let Some(d) = first_difference(va, vb, &p) {
                            return Some(d);
                        }
                    }
                    (va, vb) => return Some(format!("{p}: raw {va:?}, kustomize {vb:?}")),
                }
            }
            None
        }
        (serde_json::Value::Array(x), serde_json::Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: raw {a}, kustomize {b}")),
    }
}
