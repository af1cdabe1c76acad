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
