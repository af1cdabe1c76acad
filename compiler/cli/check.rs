//! `sorchac check FILE...`: runs the front end on each program and prints its
//! diagnostics in the chosen format.

use std::io::{IsTerminal, Write};

use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE, FsLoader};
use crate::diag::render::{self, Format};
use crate::diag::{Diagnostic, Severity};
use crate::source::SourceMap;

/// Whether to colour output for people: only on a terminal, and never with `NO_COLOR`.
pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Prints diagnostics of one program in `format`.
pub fn print(out: &mut impl Write, diags: &[Diagnostic], sources: &SourceMap, format: Format) {
    let text = match format {
        Format::Human => render::human(diags, sources, use_color(), 100),
        Format::Json => render::json(diags, sources),
        Format::Github => render::github(diags, sources),
    };
    let _ = out.write_all(text.as_bytes());
}

pub fn run(files: &[String], format: Format, deny_warnings: bool) -> u8 {
    let mut worst = EXIT_OK;
    let mut all: Vec<(Vec<Diagnostic>, crate::Compilation)> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in files {
        match crate::compile(file, &FsLoader) {
            Ok(c) => all.push((c.diagnostics.clone(), c)),
            Err(reason) => {
                eprintln!("error: cannot read `{file}`: {reason}");
                worst = worst.max(EXIT_USAGE);
            }
        }
    }
    if format == Format::Json {
        let programs: Vec<(&[Diagnostic], &SourceMap)> = all
            .iter()
            .map(|(d, c)| (d.as_slice(), &c.program.sources))
            .collect();
        let _ = out.write_all(render::json_many(&programs).as_bytes());
    }
    for (diags, c) in &all {
        if format != Format::Json {
            print(&mut out, diags, &c.program.sources, format);
        }
        let errors = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        let warnings = diags
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        if errors > 0 || (deny_warnings && warnings > 0) {
            worst = worst.max(EXIT_ERRORS);
        }
        if format == Format::Human {
            let root = c
                .program
                .sources
                .get(crate::source::SourceId(0))
                .map(|f| f.name())
                .unwrap_or_default();
            let _ = writeln!(out, "{}", summary(&root, errors, warnings));
        }
    }
    // The process ends now: freeing every program node by node would cost as much as a
    // good part of the check, so the memory is left for the exit to reclaim.
    std::mem::forget(all);
    worst
}

fn summary(file: &str, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => format!("{file}: ok"),
        (0, w) => format!("{file}: ok, {}", plural(w, "warning")),
        (e, 0) => format!("{file}: {}", plural(e, "error")),
        (e, w) => format!("{file}: {}, {}", plural(e, "error"), plural(w, "warning")),
    }
}
