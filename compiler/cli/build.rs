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
    if o.env.is_some() && o.target != Target::Raw {
        eprintln!(
            "error: `--env` selects one environment of the raw target\nhelp: the kustomize tree and the Helm chart always hold every environment; leave out `--env`"
        );
        return EXIT_USAGE;
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
    // Each environment is lowered once and dropped when its raw files and its overlay
    // are made, so no more than one is held at a time.
    let raw = matches!(o.target, Target::Raw | Target::All);
    let mut kustomize = None;
    if matches!(o.target, Target::Kustomize | Target::All) {
        let base = emit::kustomize::Built {
            model: &c.checked.base,
            objects: crate::ir::lower(&c.checked.base),
        };
        match emit::kustomize::Builder::new(base) {
            Ok(b) => kustomize = Some(b),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERRORS;
            }
        }
    }
    let mut objects = 0;
    let mut outputs: Vec<(String, Vec<OutFile>, Vec<String>)> = Vec::new();
    let mut raw_files = Vec::new();
    // Without an overlay to make, nothing needs an environment's objects together:
    // each group is lowered, printed and dropped.
    if raw && kustomize.is_none() {
        for m in &models {
            match emit::raw::files_of(m) {
                Ok((f, n)) => {
                    objects += n;
                    raw_files.extend(f);
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_ERRORS;
                }
            }
        }
    }
    let lowering = kustomize.is_some();
    for m in models.iter().filter(|_| lowering) {
        let objs = crate::ir::lower(m);
        if raw {
            objects += objs.len();
            match emit::raw::files(&objs) {
                Ok(f) => raw_files.extend(f),
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_ERRORS;
                }
            }
        }
        if let Some(k) = kustomize.as_mut() {
            let env = emit::kustomize::Built {
                model: m,
                objects: objs,
            };
            if let Err(e) = k.add(env) {
                eprintln!("error: {e}");
                return EXIT_ERRORS;
            }
        }
    }
    if raw {
        let subtree = match o.env {
            Some(env) => format!("raw/{env}"),
            None => "raw".to_string(),
        };
        outputs.push((subtree, raw_files, Vec::new()));
    }
    if let Some(k) = kustomize {
        let tree = k.finish();
        outputs.push((emit::kustomize::ROOT.to_string(), tree.files, tree.keep));
    }
    if matches!(o.target, Target::Helm | Target::All) {
        match emit::helm::files(&c.checked.base, &models) {
            Ok(files) => outputs.push((emit::helm::root(&c.checked.base), files, Vec::new())),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERRORS;
            }
        }
    }
    let trees: Vec<write::Subtree> = outputs
        .iter()
        .map(|(path, files, keep)| write::Subtree { path, files, keep })
        .collect();
    if o.check {
        let stale = write::stale(Path::new(o.out), &trees);
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
    if let Err(e) = write::replace_trees(Path::new(o.out), &trees) {
        let names: Vec<&str> = outputs.iter().map(|(p, ..)| p.as_str()).collect();
        eprintln!(
            "error: cannot write `{}/{}`: {e}",
            o.out,
            names.join("`, `")
        );
        return EXIT_USAGE;
    }
    let mut err = std::io::stderr();
    for (path, files, _) in &outputs {
        let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
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
            "wrote {}/{path}: {what}, {} files, {bytes} bytes",
            o.out,
            files.len()
        );
    }
    // The process ends now: freeing the program and its output piece by piece would
    // take longer than writing them did, so they are left for the exit to reclaim.
    std::mem::forget(outputs);
    std::mem::forget(c);
    EXIT_OK
}
