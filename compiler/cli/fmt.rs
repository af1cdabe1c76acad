//! `sorchac fmt FILE... [--check]`: rewrites files in the canonical layout, or with
//! `--check` lists those that are not in it (exit 1) and changes nothing.

#![allow(clippy::disallowed_methods)]

use std::io::Write;
use std::path::Path;

use super::check::print;
use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE, FsLoader};
use crate::diag::render::Format;
use crate::fmt::{FmtError, comment_diagnostic, format};
use crate::resolve::Loader;
use crate::source::{Origin, SourceMap};

pub fn run(files: &[String], check: bool) -> u8 {
    let mut worst = EXIT_OK;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in files {
        let bytes = match FsLoader.read(file) {
            Ok(b) => b,
            Err(reason) => {
                eprintln!("error: cannot read `{file}`: {reason}");
                worst = worst.max(EXIT_USAGE);
                continue;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            eprintln!("error: `{file}` is not UTF-8 text");
            worst = worst.max(EXIT_ERRORS);
            continue;
        };
        let mut sources = SourceMap::new();
        let id = sources.add(Origin::File(file.clone()), text.clone());
        match format(id, &text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check {
                    let _ = writeln!(out, "{file}");
                    worst = worst.max(EXIT_ERRORS);
                } else if let Err(e) = replace(Path::new(file), &formatted) {
                    eprintln!("error: cannot write `{file}`: {e}");
                    worst = worst.max(EXIT_USAGE);
                }
            }
            Err(FmtError::Syntax(diags)) => {
                print(&mut std::io::stderr(), &diags, &sources, Format::Human);
                eprintln!("error: `{file}` does not parse; it was left as it is");
                worst = worst.max(EXIT_ERRORS);
            }
            Err(FmtError::Comment(span)) => {
                print(
                    &mut std::io::stderr(),
                    &[comment_diagnostic(span)],
                    &sources,
                    Format::Human,
                );
                worst = worst.max(EXIT_ERRORS);
            }
        }
    }
    worst
}

/// Writes beside the file and renames over it, so that it is never half written.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.sorchac-fmt-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
