//! `sorchac build FILE`: compiles the program and writes the chosen target for every
//! environment (or one), atomically. Nothing is written when the program has errors.

use std::io::Write;
use std::path::Path;

use super::check::print;
use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE, FsLoader, write};
use crate::diag::Severity;
use crate::diag::render::Format;
use crate::diag::suggest::did_you_mean;
use crate::emit::{self, OutFile};

/// Which output to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Plain manifests, one directory per environment.
    Raw,
}

pub struct Options<'a> {
    pub file: &'a str,
    pub target: Target,
    pub env: Option<&'a str>,
    pub out: &'a str,
    pub format: Format,
    pub deny_warnings: bool,
}

pub fn run(o: &Options) -> u8 {
    let c = match crate::compile(o.file, &FsLoader) {
        Ok(c) => c,
        Err(reason) => {
            eprintln!("error: cannot read `{}`: {reason}", o.file);
            return EXIT_USAGE;
        }
    };
    let errors = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    if !c.diagnostics.is_empty() {
        print(
            &mut std::io::stderr(),
            &c.diagnostics,
            &c.program.sources,
            o.format,
        );
    }
    if errors > 0 || (o.deny_warnings && warnings > 0) {
        eprintln!(
            "error: `{}` has {} error(s); nothing was written",
            o.file,
            errors.max(1)
        );
        return EXIT_ERRORS;
    }
    let models: Vec<_> = match o.env {
        None => c.checked.envs.iter().collect(),
        Some(name) => match c.checked.envs.iter().find(|m| m.env == name) {
            Some(m) => vec![m],
            None => {
                let names: Vec<&str> = c.checked.envs.iter().map(|m| m.env.as_str()).collect();
                eprintln!(
                    "error: the program has no environment `{name}`\nhelp: {}",
                    did_you_mean(name, names.iter().copied())
                        .unwrap_or_else(|| format!("its environments are {}", names.join(", ")))
                );
                return EXIT_USAGE;
            }
        },
    };
    let mut files: Vec<OutFile> = Vec::new();
    let mut objects = 0;
    for m in &models {
        let objs = crate::ir::lower(m);
        objects += objs.len();
        let emitted = match o.target {
            Target::Raw => emit::raw::files(&objs),
        };
        match emitted {
            Ok(f) => files.extend(f),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERRORS;
            }
        }
    }
    let subtree = match o.env {
        Some(env) => format!("raw/{env}"),
        None => "raw".to_string(),
    };
    if let Err(e) = write::replace_tree(Path::new(o.out), &subtree, &files) {
        eprintln!("error: cannot write `{}/{subtree}`: {e}", o.out);
        return EXIT_USAGE;
    }
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "wrote {}/{subtree}: {} environment{}, {objects} objects, {} files, {} bytes",
        o.out,
        models.len(),
        if models.len() == 1 { "" } else { "s" },
        files.len(),
        bytes
    );
    EXIT_OK
}
