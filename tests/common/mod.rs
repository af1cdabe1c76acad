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

/// Every program whose output the suite checks end to end: the examples, then the
/// emitter fixtures in tests/emit in name order.
pub fn programs() -> Vec<String> {
    let mut programs = vec![
        "examples/sorcha/platform.sorcha".to_string(),
        "examples/three-tier/platform.sorcha".to_string(),
        "examples/queue-worker/platform.sorcha".to_string(),
    ];
    let mut fixtures: Vec<String> = std::fs::read_dir("tests/emit")
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".sorcha"))
        .collect();
    fixtures.sort();
    programs.extend(fixtures);
    programs
}

/// Every program of [`programs`] compiled, then an 80-service synthetic one: what the
/// tests that hold one way of making an output to another run on.
pub fn compiled_programs() -> Vec<Compilation> {
    let mut compiled: Vec<Compilation> = programs().iter().map(|p| compile_path(p)).collect();
    compiled.push(compile_text(&sorchac::synth::platform(80)));
    compiled
}

/// A path in a fresh temporary directory of its own, which is removed with everything in
/// it when the value is dropped, a failing test's included. The path itself does not
/// exist yet: a test makes it a file, a directory, or the output of a build.
pub struct Scratch {
    path: std::path::PathBuf,
    _root: tempfile::TempDir,
}

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.path
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        &self.path
    }
}

/// A [`Scratch`] path named `name`.
pub fn scratch(name: &str) -> Scratch {
    let root = tempfile::Builder::new()
        .prefix("sorchac-test-")
        .tempdir()
        .unwrap();
    Scratch {
        path: root.path().join(name),
        _root: root,
    }
}

/// Runs the `sorchac` binary without colour.
pub fn sorchac(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sorchac"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

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

/// Every `.sorcha` file under these directories, however deep, in path order.
pub fn sorcha_files(dirs: &[&str]) -> Vec<String> {
    let mut stack: Vec<std::path::PathBuf> = dirs.iter().map(Into::into).collect();
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "sorcha") {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
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

/// The objects of `raw/<env>/`, by `key`.
pub fn raw_objects(
    raw: &[sorchac::emit::OutFile],
    env: &str,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let prefix = format!("raw/{env}/");
    raw.iter()
        .filter(|f| f.path.starts_with(&prefix))
        .flat_map(|f| documents(std::str::from_utf8(&f.bytes).unwrap()))
        .map(|v| (key(&v), v))
        .collect()
}

/// Every difference between the raw objects and another target's, by object and field.
pub fn differences(
    what: &str,
    target: &str,
    want: &std::collections::BTreeMap<String, serde_json::Value>,
    got: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => problems.push(format!("{what}: {k}: missing from the {target} output")),
            Some(g) => {
                if let Some((path, a, b)) = sorchac::emit::first_difference(w, g) {
                    problems.push(format!("{what}: {k}: {path}: raw {a:?}, {target} {b:?}"));
                }
            }
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("{what}: {k}: not in the raw output"));
    }
    problems
}

/// Checks what another target rendered for `env` against `raw/<env>/`: each
/// deploy-time Secret exactly once with the declared keys (its content is the
/// operator's), then every other object field by field.
pub fn compare_with_raw(
    what: &str,
    target: &str,
    raw: &[sorchac::emit::OutFile],
    env: &str,
    mut got: std::collections::BTreeMap<String, serde_json::Value>,
    secrets: &[(String, Vec<String>)],
) -> Vec<String> {
    for (name, keys) in secrets {
        let found: Vec<String> = got
            .keys()
            .filter(|k| k.starts_with("v1 Secret ") && k.ends_with(&format!("/{name}")))
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "{what}: secret `{name}`: {found:?}");
        let secret = got.remove(&found[0]).unwrap();
        assert_secret_keys(&secret, keys, &format!("{what}: secret `{name}`"));
    }
    differences(what, target, &raw_objects(raw, env), &got)
}

/// Writes files under a directory.
pub fn write_files(dir: &std::path::Path, files: &[sorchac::emit::OutFile]) {
    for f in files {
        let p = dir.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &f.bytes).unwrap();
    }
}

/// A Secret made from values an operator supplies holds exactly the declared keys.
pub fn assert_secret_keys(secret: &serde_json::Value, keys: &[String], what: &str) {
    let data = secret["data"]
        .as_object()
        .or(secret["stringData"].as_object())
        .unwrap_or_else(|| panic!("{what}: no data: {secret}"));
    let mut have: Vec<&String> = data.keys().collect();
    have.sort();
    let mut want: Vec<&String> = keys.iter().collect();
    want.sort();
    assert_eq!(have, want, "{what}: keys");
}
