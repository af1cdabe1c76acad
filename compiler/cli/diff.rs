//! `sorchac diff OLD NEW` and `sorchac graph FILE`. A side is a program (`.sorcha`
//! file), a build output directory, or `git:REV:path/platform.sorcha` (the program as it
//! was at a git revision).

#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use super::build::Target;
use super::check::{print, use_color};
use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE, FsLoader};
use crate::diag::render::Format;
use crate::diff::{self, Side};
use crate::emit::OutFile;
use crate::resolve::Loader;

/// How a diff is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Human,
    Markdown,
    Json,
}

/// What makes `diff` fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any dangerous change.
    Danger,
}

/// Reads files as they were at a git revision.
struct GitLoader {
    rev: String,
}

impl Loader for GitLoader {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        let spec = if path.starts_with('/') {
            format!("{}:{path}", self.rev)
        } else {
            format!("{}:./{path}", self.rev)
        };
        let out = Command::new("git")
            .args(["show", &spec])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!(
                "not in git at `{}`: {}",
                self.rev,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

/// One side: its objects, and the files of the chosen target.
struct Loaded {
    side: Side,
    /// The target's files (kustomize and helm targets), by path.
    files: Option<BTreeMap<String, Vec<u8>>>,
    /// Objects come from a program (not from YAML on disk).
    compiled: bool,
}

fn compile(spec: &str, target: Target) -> Result<Loaded, u8> {
    let (path, c) = match spec.strip_prefix("git:") {
        Some(rest) => {
            let Some((rev, path)) = rest.split_once(':') else {
                eprintln!("error: `{spec}` is not `git:REV:path`");
                return Err(EXIT_USAGE);
            };
            let loader = GitLoader { rev: rev.into() };
            (path, crate::compile(path, &loader))
        }
        None => (spec, crate::compile(spec, &FsLoader)),
    };
    let c = match c {
        Ok(c) => c,
        Err(reason) => {
            eprintln!("error: cannot read `{spec}`: {reason}");
            return Err(EXIT_USAGE);
        }
    };
    if c.has_errors() {
        print(
            &mut std::io::stderr(),
            &c.diagnostics,
            &c.program.sources,
            Format::Human,
        );
        eprintln!("error: `{spec}` has errors; there is nothing to compare");
        return Err(EXIT_ERRORS);
    }
    let lowered: Vec<_> = c.checked.envs.iter().map(crate::ir::lower).collect();
    let side = Side::from_objects(
        c.checked
            .envs
            .iter()
            .map(|m| m.env.clone())
            .zip(lowered.iter()),
    );
    let envs: Vec<_> = c.checked.envs.iter().collect();
    let files = match target {
        Target::Raw | Target::All => None,
        Target::Kustomize => crate::emit::kustomize::of_models(&c.checked.base, &envs)
            .ok()
            .map(|t| by_path(t.files)),
        Target::Helm => crate::emit::helm::files(&c.checked.base, &envs)
            .ok()
            .map(by_path),
    };
    let _ = path;
    Ok(Loaded {
        side,
        files,
        compiled: true,
    })
}

fn by_path(files: Vec<OutFile>) -> BTreeMap<String, Vec<u8>> {
    files.into_iter().map(|f| (f.path, f.bytes)).collect()
}

/// Every file under a directory, by path relative to `base`.
fn read_tree(dir: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            read_tree(&p, base, out);
        } else if let (Ok(rel), Ok(bytes)) = (p.strip_prefix(base), std::fs::read(&p)) {
            out.insert(rel.to_string_lossy().replace('\\', "/"), bytes);
        }
    }
}

/// A build output directory: `raw/<env>/` objects, and the target's tree.
fn directory(dir: &Path, target: Target) -> Loaded {
    let mut side = Side::default();
    let mut all = BTreeMap::new();
    read_tree(dir, dir, &mut all);
    for (path, bytes) in &all {
        let Some(rest) = path.strip_prefix("raw/") else {
            continue;
        };
        let Some((env, _)) = rest.split_once('/') else {
            continue;
        };
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let objects = side.envs.entry(env.to_string()).or_default();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            if let Ok(v) = <serde_json::Value as serde::Deserialize>::deserialize(doc)
                && !v.is_null()
            {
                objects.insert(diff::key(&v), v);
            }
        }
    }
    let prefix = match target {
        Target::Kustomize => Some("kustomize/"),
        Target::Helm => Some("helm/"),
        Target::Raw | Target::All => None,
    };
    let files = prefix.map(|p| {
        all.iter()
            .filter(|(k, _)| k.starts_with(p))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    Loaded {
        side,
        files,
        compiled: false,
    }
}

fn load(spec: &str, target: Target) -> Result<Loaded, u8> {
    if !spec.starts_with("git:") && Path::new(spec).is_dir() {
        return Ok(directory(Path::new(spec), target));
    }
    compile(spec, target)
}

pub struct Options<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub env: Option<&'a str>,
    pub target: Target,
    pub format: DiffFormat,
    pub fail_on: Option<FailOn>,
}

pub fn run(o: &Options) -> u8 {
    let (old, new) = match (load(o.old, o.target), load(o.new, o.target)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if let Some(env) = o.env
        && !old.side.envs.contains_key(env)
        && !new.side.envs.contains_key(env)
        && (old.compiled || new.compiled || !old.side.envs.is_empty())
    {
        eprintln!("error: neither side has an environment `{env}`");
        return EXIT_USAGE;
    }
    let report = diff::diff(&old.side, &new.side, o.env);
    let mut out = std::io::stdout().lock();
    let text = match o.format {
        DiffFormat::Human => diff::render::human(&report, use_color()),
        DiffFormat::Markdown => diff::render::markdown(&report),
        DiffFormat::Json => diff::render::json(&report),
    };
    let _ = out.write_all(text.as_bytes());
    if let (Some(a), Some(b)) = (&old.files, &new.files) {
        let _ = out.write_all(files_diff(a, b, o.format).as_bytes());
    }
    if o.fail_on == Some(FailOn::Danger) && report.findings() > 0 {
        return EXIT_ERRORS;
    }
    EXIT_OK
}

/// The target's files that differ, as unified diffs.
fn files_diff(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
    format: DiffFormat,
) -> String {
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = String::new();
    let mut entries = Vec::new();
    for p in paths {
        let x = a.get(p).map(|v| String::from_utf8_lossy(v).into_owned());
        let y = b.get(p).map(|v| String::from_utf8_lossy(v).into_owned());
        if x == y {
            continue;
        }
        let (xs, ys) = (x.clone().unwrap_or_default(), y.clone().unwrap_or_default());
        let udiff = similar::TextDiff::from_lines(&xs, &ys)
            .unified_diff()
            .context_radius(3)
            .header(
                &if x.is_some() {
                    format!("a/{p}")
                } else {
                    "/dev/null".into()
                },
                &if y.is_some() {
                    format!("b/{p}")
                } else {
                    "/dev/null".into()
                },
            )
            .to_string();
        entries.push((p.clone(), udiff));
    }
    match format {
        DiffFormat::Json => {
            let v: Vec<serde_json::Value> = entries
                .iter()
                .map(|(p, d)| serde_json::json!({"file": p, "diff": d}))
                .collect();
            out.push_str(
                &serde_json::to_string_pretty(&serde_json::json!({"files": v})).unwrap_or_default(),
            );
            out.push('\n');
        }
        DiffFormat::Markdown => {
            for (p, d) in &entries {
                out.push_str(&format!("<details><summary><code>{p}</code></summary>\n\n```diff\n{d}```\n\n</details>\n\n"));
            }
        }
        DiffFormat::Human => {
            for (_, d) in &entries {
                out.push_str(d);
            }
        }
    }
    out
}

/// How a graph is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Svg,
}

pub fn graph(file: &str, env: Option<&str>, format: GraphFormat) -> u8 {
    let c = match crate::compile(file, &FsLoader) {
        Ok(c) => c,
        Err(reason) => {
            eprintln!("error: cannot read `{file}`: {reason}");
            return EXIT_USAGE;
        }
    };
    if c.has_errors() {
        print(
            &mut std::io::stderr(),
            &c.diagnostics,
            &c.program.sources,
            Format::Human,
        );
        return EXIT_ERRORS;
    }
    let model = match env {
        None => c.checked.envs.first(),
        Some(e) => c.checked.envs.iter().find(|m| m.env == e),
    };
    let Some(model) = model else {
        eprintln!(
            "error: the program has no environment `{}`",
            env.unwrap_or("")
        );
        return EXIT_USAGE;
    };
    let g = crate::graph::of(model);
    let text = match format {
        GraphFormat::Dot => crate::graph::dot(&g),
        GraphFormat::Mermaid => crate::graph::mermaid(&g),
        GraphFormat::Svg => match crate::graph::svg(&g) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERRORS;
            }
        },
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    EXIT_OK
}
