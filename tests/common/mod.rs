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
