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
    let raw_tree = match o.env {
        Some(env) => format!("raw/{env}"),
        None => "raw".to_string(),
    };
    let raw = matches!(o.target, Target::Raw | Target::All);
    let kustomize = matches!(o.target, Target::Kustomize | Target::All);
    // Every environment's lowering context (its call graph) is made first, on all
    // cores, for the raw output and the overlays both.
    let cxs = if raw || kustomize {
        crate::ir::labels::Cx::each(&models)
    } else {
        Vec::new()
    };
    let work = Work {
        raw: raw.then_some(raw_tree.as_str()),
        kustomize,
        helm: matches!(o.target, Target::Helm | Target::All),
        cxs: &cxs,
        base: &checked.base,
        models: &models,
    };
    let made = match &mut sink {
        Sink::Stage(staged) => work.stage(staged),
        Sink::Keep(kept) => work.whole(kept),
    };
    let objects = match made {
        Ok(objects) => objects,
        Err((_, Failed::Emit(e))) => {
            eprintln!("error: {e}");
            return EXIT_ERRORS;
        }
        Err((tree, Failed::Write(e))) => return cannot_write(o.out, &tree, e),
    };
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

/// What a build makes, and what from.
struct Work<'a> {
    /// The raw output's tree, when it is made.
    raw: Option<&'a str>,
    kustomize: bool,
    helm: bool,
    /// Every environment's lowering context (for the raw output and the overlays).
    cxs: &'a [crate::ir::labels::Cx<'a>],
    base: &'a crate::check::Model,
    models: &'a [&'a crate::check::Model],
}

/// Why a tree of the output was not made: the tree, and what failed.
type TreeFailed = (String, Failed);

/// A failure of the tree at `tree`.
fn in_tree(tree: &str) -> impl Fn(Failed) -> TreeFailed + '_ {
    move |f| (tree.to_string(), f)
}

impl Work<'_> {
    /// Writes every tree to its staging directory as its files are made; the number of
    /// raw objects. The chart's templates are made first, on all cores; what is left of
    /// the chart (its values and their schema, on one core) is then made beside the raw
    /// output, which takes the other core, or before the raw output and the overlays'
    /// declarations when both are made (from the same lowering); the overlays are
    /// written last.
    fn stage(&self, staged: &mut write::Staged) -> Result<usize, TreeFailed> {
        let chart = emit::helm::root(self.base);
        let trees = [
            self.raw,
            self.kustomize.then_some(emit::kustomize::ROOT),
            self.helm.then_some(chart.as_str()),
        ];
        // Trees are listed, when the build is done, in the order they are begun.
        for tree in trees.into_iter().flatten() {
            staged
                .begin(tree)
                .map_err(|e| (tree.to_string(), Failed::Write(e)))?;
        }
        let staged = &*staged;
        let writer = |tree: &str| {
            staged.writer(tree).ok_or_else(|| {
                let e = std::io::Error::other("the tree was not begun");
                (tree.to_string(), Failed::Write(e))
            })
        };
        // The chart's templates, on all cores.
        let chart_writer = self.helm.then(|| writer(&chart)).transpose()?;
        let templates = chart_writer.as_ref().map(|w| {
            let made = emit::helm::put_templates(self.base, self.models, |files| {
                w.write(&files).map_err(Failed::Write)
            });
            (made.map_err(in_tree(&chart)), w)
        });
        // Nothing of the raw output needs an environment's objects together: each run
        // of sources is lowered and printed in every environment (an object the
        // environments share printed once), goes to disk from the thread that printed
        // it, and is dropped. With the overlays, the same lowering of each run serves
        // both: the overlays' declarations are seen as the raw output is printed.
        let raw_output = || match (self.raw, self.kustomize) {
            (Some(tree), true) => writer(tree).and_then(|w| {
                let base = crate::ir::labels::Cx::new(self.base);
                emit::kustomize::tree_with_raw(&base, self.cxs, |files| {
                    w.write(&files).map_err(Failed::Write)
                })
                .map(|(objects, overlays)| (objects, Some(overlays)))
                .map_err(in_tree(tree))
            }),
            (Some(tree), false) => writer(tree).and_then(|w| {
                emit::raw::put_in(self.cxs, |files| w.write(&files).map_err(Failed::Write))
                    .map(|objects| (objects, None))
                    .map_err(in_tree(tree))
            }),
            (None, _) => Ok((0, None)),
        };
        // The values and their schema take both cores unless the raw output takes one.
        let tail = |rest: emit::helm::Rest, w: &write::TreeWriter, split: bool| {
            rest.files(self.base, self.models, split)
                .map_err(Failed::Emit)
                .and_then(|files| w.write(&files).map_err(Failed::Write))
                .map_err(in_tree(&chart))
        };
        // What is left of the chart is made on this thread, which the templates' memory
        // went back to, and the raw output beside it (which goes to disk as it is made,
        // and so holds little). With the overlays, whose declarations are seen as the
        // raw output is made and held until they are written, the two come one after
        // the other instead, each on all cores, so that their memory is not held at
        // once.
        let (raw, rest) = match templates {
            Some((Ok(rest), w)) if self.kustomize => {
                let rest = tail(rest, w, true);
                (raw_output(), rest)
            }
            Some((Ok(rest), w)) => {
                let (rest, raw) =
                    crate::par::join(|| tail(rest, w, self.raw.is_none()), raw_output);
                (raw, rest)
            }
            Some((Err(e), _)) => (raw_output(), Err(e)),
            None => (raw_output(), Ok(())),
        };
        let (raw, overlays) = match (raw, self.kustomize) {
            (Ok((objects, made)), true) => {
                let tree = match made {
                    Some(made) => made.map_err(|e| (emit::kustomize::ROOT.to_string(), e.into())),
                    None => self.overlays(),
                };
                let written = tree.and_then(|tree| {
                    let w = writer(emit::kustomize::ROOT)?;
                    w.write_all(&tree.files)
                        .and_then(|()| w.keep(&tree.keep))
                        .map_err(|e| in_tree(emit::kustomize::ROOT)(Failed::Write(e)))
                });
                (Ok(objects), written)
            }
            (raw, _) => (raw.map(|(objects, _)| objects), Ok(())),
        };
        // The first failure in the order the trees are listed.
        let objects = raw?;
        overlays?;
        rest?;
        Ok(objects)
    }

    /// Makes every tree whole, one after another, and keeps it (`--check`); the number
    /// of raw objects.
    fn whole(&self, kept: &mut Vec<Kept>) -> Result<usize, TreeFailed> {
        let mut objects = 0;
        if let Some(tree) = self.raw {
            let (files, n) =
                emit::raw::files_in(self.cxs).map_err(|e| (tree.to_string(), e.into()))?;
            Sink::kept(kept, tree).1.extend(files);
            objects = n;
        }
        if self.kustomize {
            let tree = self.overlays()?;
            let at = Sink::kept(kept, emit::kustomize::ROOT);
            at.1.extend(tree.files);
            at.2.extend(tree.keep);
        }
        if self.helm {
            let chart = emit::helm::root(self.base);
            let files =
                emit::helm::files(self.base, self.models).map_err(|e| (chart.clone(), e.into()))?;
            Sink::kept(kept, &chart).1.extend(files);
        }
        Ok(objects)
    }

    /// The overlays, made a declaration at a time, in the base and in every environment
    /// at once.
    fn overlays(&self) -> Result<emit::kustomize::Tree, TreeFailed> {
        let base = crate::ir::labels::Cx::new(self.base);
        emit::kustomize::tree(&base, self.cxs)
            .map_err(|e| (emit::kustomize::ROOT.to_string(), e.into()))
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

/// One tree kept whole, to be compared with what is on disk: its path, its files and
/// the operator's files inside it.
type Kept = (String, Vec<OutFile>, Vec<String>);

/// Where output goes as it is made.
enum Sink {
    /// To disk, staged beside its target until the build is done.
    Stage(write::Staged),
    /// Kept whole, by tree, to be compared with what is on disk (`--check`).
    Keep(Vec<Kept>),
}

impl Sink {
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

    /// The kept tree at `tree`, begun empty the first time.
    fn kept<'k>(kept: &'k mut Vec<Kept>, tree: &str) -> &'k mut Kept {
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
