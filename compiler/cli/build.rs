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
    /// A Kustomize base and one overlay per environment.
    Kustomize,
    /// A Helm chart with values, and a values file per environment.
    Helm,
    /// Every target, side by side.
    All,
}

pub struct Options<'a> {
    pub file: &'a str,
    pub target: Target,
    pub env: Option<&'a str>,
    pub out: &'a str,
    pub format: Format,
    pub deny_warnings: bool,
    /// Compare with the directory instead of writing.
    pub check: bool,
}

pub fn run(o: &Options) -> u8 {
    let crate::Compilation {
        program,
        checked,
        diagnostics,
        ..
    } = match crate::compile(o.file, &FsLoader) {
        Ok(c) => c,
        Err(reason) => {
            eprintln!("error: cannot read `{}`: {reason}", o.file);
            return EXIT_USAGE;
        }
    };
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    if !diagnostics.is_empty() {
        print(
            &mut std::io::stderr(),
            &diagnostics,
            &program.sources,
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
    if o.env.is_some() && o.target != Target::Raw {
        eprintln!(
            "error: `--env` selects one environment of the raw target\nhelp: the kustomize tree and the Helm chart always hold every environment; leave out `--env`"
        );
        return EXIT_USAGE;
    }
    let models: Vec<_> = match o.env {
        None => checked.envs.iter().collect(),
        Some(name) => match checked.envs.iter().find(|m| m.env == name) {
            Some(m) => vec![m],
            None => {
                let names: Vec<&str> = checked.envs.iter().map(|m| m.env.as_str()).collect();
                eprintln!(
                    "error: the program has no environment `{name}`\nhelp: {}",
                    did_you_mean(name, names.iter().copied())
                        .unwrap_or_else(|| format!("its environments are {}", names.join(", ")))
                );
                return EXIT_USAGE;
            }
        },
    };
    // The syntax trees and the resolved program are not needed to lower the models.
    // The overlays and the chart hold more than the raw output ever does: for them the
    // program's memory is given back first (a sixth of `--target all`'s peak), while a
    // raw build, whose peak is far lower, leaves it to the exit rather than spend the
    // time freeing it.
    if o.target == Target::Raw {
        std::mem::forget(program);
    } else {
        drop(program);
    }
    // Output goes to disk as it is made, staged beside its target and swapped in at
    // the end (or, with `--check`, is kept to be compared with what is there).
    let mut sink = if o.check {
        Sink::Keep(Vec::new())
    } else {
        match write::Staged::new(Path::new(o.out)) {
            Ok(s) => Sink::Stage(s),
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", o.out);
                return EXIT_USAGE;
            }
        }
    };
    let raw = matches!(o.target, Target::Raw | Target::All);
    let raw_tree = match o.env {
        Some(env) => format!("raw/{env}"),
        None => "raw".to_string(),
    };
    let mut objects = 0;
    let kustomize = matches!(o.target, Target::Kustomize | Target::All);
    // Every environment's lowering context (its call graph) is made first, on all
    // cores, for the raw output and the overlays both.
    let cxs = if raw || kustomize {
        crate::ir::labels::Cx::each(&models)
    } else {
        Vec::new()
    };
    // Nothing of the raw output needs an environment's objects together: each run of
    // sources is lowered and printed in every environment, so that an object the
    // environments share is printed once, and dropped.
    if raw {
        // Each run of groups goes to disk from the thread that printed it.
        match put_tree(
            &mut sink,
            o.out,
            &raw_tree,
            |w| emit::raw::put_in(&cxs, |files| w.write(&files).map_err(Failed::Write)),
            || emit::raw::files_in(&cxs),
        ) {
            Ok(n) => objects += n,
            Err(code) => return code,
        }
    }
    // The overlays are made a declaration at a time too, in the base and in every
    // environment at once.
    if kustomize {
        let base = crate::ir::labels::Cx::new(&checked.base);
        let tree = match emit::kustomize::tree(&base, &cxs) {
            Ok(tree) => tree,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERRORS;
            }
        };
        let path = emit::kustomize::ROOT.to_string();
        if let Err(e) = sink
            .put(&path, tree.files)
            .and_then(|()| sink.keep(&path, tree.keep))
        {
            return cannot_write(o.out, &path, e);
        }
    }
    // The chart's files go to disk as they are made: each group's as soon as every
    // environment comes out of it exactly, then the rest.
    if matches!(o.target, Target::Helm | Target::All) {
        let path = emit::helm::root(&checked.base);
        if let Err(code) = put_tree(
            &mut sink,
            o.out,
            &path,
            |w| {
                emit::helm::put_in(&checked.base, &models, |files| {
                    w.write(&files).map_err(Failed::Write)
                })
            },
            || emit::helm::files(&checked.base, &models).map(|files| (files, ())),
        ) {
            return code;
        }
    }
    let sizes = sink.sizes();
    match sink {
        Sink::Keep(kept) => {
            let subtrees: Vec<write::Subtree> = kept
                .iter()
                .map(|(path, files, keep)| write::Subtree { path, files, keep })
                .collect();
            let stale = write::stale(Path::new(o.out), &subtrees);
            let mut out = std::io::stdout().lock();
            for s in &stale {
                let _ = writeln!(out, "{s}");
            }
            if !stale.is_empty() {
                eprintln!(
                    "error: {} file(s) in `{}` differ from what the program compiles to; build again and commit the output",
                    stale.len(),
                    o.out
                );
                return EXIT_ERRORS;
            }
            return EXIT_OK;
        }
        Sink::Stage(staged) => {
            if let Err(e) = staged.commit() {
                let trees: Vec<&str> = sizes.iter().map(|(path, ..)| path.as_str()).collect();
                eprintln!(
                    "error: cannot write `{}/{}`: {e}",
                    o.out,
                    trees.join("`, `")
                );
                return EXIT_USAGE;
            }
        }
    }
    let mut err = std::io::stderr();
    for (path, files, bytes) in &sizes {
        let what = if path.starts_with("helm") {
            format!(
                "a chart and {} values file{}",
                models.len(),
                if models.len() == 1 { "" } else { "s" }
            )
        } else if path.starts_with("raw") {
            format!(
                "{} environment{}, {objects} objects",
                models.len(),
                if models.len() == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "a base and {} overlay{}",
                models.len(),
                if models.len() == 1 { "" } else { "s" }
            )
        };
        let _ = writeln!(
            err,
            "wrote {}/{path}: {what}, {files} files, {bytes} bytes",
            o.out
        );
    }
    // The process ends now: freeing the program piece by piece would take longer than
    // writing its output did, so it is left for the exit to reclaim.
    std::mem::forget(checked);
    EXIT_OK
}

/// Reports that the tree at `tree` under `out` cannot be written; the exit code.
fn cannot_write(out: &str, tree: &str, e: std::io::Error) -> u8 {
    eprintln!("error: cannot write `{out}/{tree}`: {e}");
    EXIT_USAGE
}

/// Puts one tree of the output in the sink as its files are made: to its staging
/// directory from the threads that make them (`stream`), or, with `--check`, made whole
/// (`whole`) to be compared. What the making gives back, or, once the failure is
/// reported, the exit code.
fn put_tree<R>(
    sink: &mut Sink,
    out: &str,
    tree: &str,
    stream: impl FnOnce(&write::TreeWriter) -> Result<R, Failed>,
    whole: impl FnOnce() -> Result<(Vec<OutFile>, R), emit::EmitError>,
) -> Result<R, u8> {
    let written = match sink {
        Sink::Stage(s) => s.write_with(tree, stream),
        Sink::Keep(_) => Ok(whole().map_err(Failed::Emit).and_then(|(files, r)| {
            sink.put(tree, files).map_err(Failed::Write)?;
            Ok(r)
        })),
    };
    match written {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(Failed::Emit(e))) => {
            eprintln!("error: {e}");
            Err(EXIT_ERRORS)
        }
        Ok(Err(Failed::Write(e))) | Err(e) => Err(cannot_write(out, tree, e)),
    }
}

/// Why making or writing a tree's files failed.
enum Failed {
    Emit(emit::EmitError),
    Write(std::io::Error),
}

impl From<emit::EmitError> for Failed {
    fn from(e: emit::EmitError) -> Failed {
        Failed::Emit(e)
    }
}

/// Where output goes as it is made.
enum Sink {
    /// To disk, staged beside its target until the build is done.
    Stage(write::Staged),
    /// Kept whole, by tree, to be compared with what is on disk (`--check`).
    Keep(Vec<(String, Vec<OutFile>, Vec<String>)>),
}

impl Sink {
    /// Adds files of the tree at `tree`.
    fn put(&mut self, tree: &str, files: Vec<OutFile>) -> std::io::Result<()> {
        match self {
            Sink::Stage(s) => s.write(tree, &files),
            Sink::Keep(kept) => {
                Self::kept(kept, tree).1.extend(files);
                Ok(())
            }
        }
    }

    /// Names the operator's files inside the tree at `tree`, carried over from the tree
    /// being replaced.
    fn keep(&mut self, tree: &str, keep: Vec<String>) -> std::io::Result<()> {
        match self {
            Sink::Stage(s) => s.keep(tree, &keep),
            Sink::Keep(kept) => {
                Self::kept(kept, tree).2.extend(keep);
                Ok(())
            }
        }
    }

    /// Every tree in the order it was begun, with how many files and bytes it holds.
    fn sizes(&self) -> Vec<(String, usize, usize)> {
        match self {
            Sink::Stage(s) => s.sizes(),
            Sink::Keep(kept) => kept
                .iter()
                .map(|(path, files, _)| {
                    let bytes = files.iter().map(|f| f.bytes.len()).sum();
                    (path.clone(), files.len(), bytes)
                })
                .collect(),
        }
    }

    fn kept<'k>(
        kept: &'k mut Vec<(String, Vec<OutFile>, Vec<String>)>,
        tree: &str,
    ) -> &'k mut (String, Vec<OutFile>, Vec<String>) {
        let i = match kept.iter().position(|(p, ..)| p == tree) {
            Some(i) => i,
            None => {
                kept.push((tree.to_string(), Vec::new(), Vec::new()));
                kept.len() - 1
            }
        };
        &mut kept[i]
    }
}
