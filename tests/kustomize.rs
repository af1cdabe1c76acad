//! The kustomize target's contract: for every example and feature fixture, and every
//! environment E, `kubectl kustomize kustomize/overlays/E` builds the same objects, with
//! the same content, as `raw/E/` — compared as parsed objects, with every difference
//! reported by object and field. The one difference by design: the Secrets that the
//! overlays' `secretGenerator`s make from the operator's env files (raw output never
//! holds secret values), which are checked on their own.
//!
//! Also: whole-tree snapshots of the kustomize output of every example.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sorchac::check::model::SecretSource;
use sorchac::emit::OutFile;
use sorchac::emit::kustomize;

/// kubectl, from `SORCHAC_KUBECTL` or `PATH`; `None` (test skipped) only when the suite
/// does not require its validators.
fn kubectl() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("SORCHAC_KUBECTL") {
        return Some(PathBuf::from(k));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("kubectl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("SORCHAC_REQUIRE_VALIDATORS").is_none(),
            "kubectl (with its built-in Kustomize) is required: put it on PATH or set SORCHAC_KUBECTL"
        );
        eprintln!("kubectl not found: skipped");
    }
    found
}

struct Output {
    raw: Vec<OutFile>,
    kustomize: Vec<OutFile>,
    /// Per environment: deploy-time secrets and their keys.
    deploy: BTreeMap<String, Vec<(String, Vec<String>)>>,
    envs: Vec<String>,
}

fn build(path: &str) -> Output {
    let c = common::compile_path(path);
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    let mut raw = Vec::new();
    for m in &c.checked.envs {
        raw.extend(sorchac::emit::raw::files(&sorchac::ir::lower(m)).unwrap());
    }
    let envs: Vec<_> = c.checked.envs.iter().collect();
    let tree = kustomize::of_models(&c.checked.base, &envs).unwrap();
    let deploy = c
        .checked
        .envs
        .iter()
        .map(|m| {
            let secrets = m
                .secrets
                .iter()
                .filter(|s| s.source == SecretSource::Deploy)
                .map(|s| (s.name.clone(), s.keys.clone()))
                .collect();
            (m.env.clone(), secrets)
        })
        .collect();
    Output {
        raw,
        kustomize: tree.files,
        deploy,
        envs: c.checked.envs.iter().map(|m| m.env.clone()).collect(),
    }
}

/// Builds every overlay with kubectl and compares it with the raw output.
fn assert_overlays_build_to_raw(program: &str, kubectl: &Path) {
    let out = build(program);
    let dir = common::scratch("kustomize");
    common::write_files(&dir, &out.kustomize);
    // The operator's env files, with stand-in values.
    for (env, secrets) in &out.deploy {
        for (name, keys) in secrets {
            let text: String = keys.iter().map(|k| format!("{k}=stand-in-{k}\n")).collect();
            let p = dir.join(format!("kustomize/overlays/{env}/secrets/{name}.env"));
            std::fs::write(p, text).unwrap();
        }
    }
    let mut problems = Vec::new();
    for env in &out.envs {
        let built = Command::new(kubectl)
            .arg("kustomize")
            .arg(dir.join(format!("kustomize/overlays/{env}")))
            .output()
            .unwrap();
        assert!(
            built.status.success(),
            "{program}: kubectl kustomize overlays/{env} failed:\n{}",
            String::from_utf8_lossy(&built.stderr)
        );
        let got: BTreeMap<String, Value> =
            common::documents(&String::from_utf8_lossy(&built.stdout))
                .into_iter()
                .map(|v| (common::key(&v), v))
                .collect();
        problems.extend(common::compare_with_raw(
            &format!("{program} {env}"),
            "kustomize",
            &out.raw,
            env,
            got,
            &out.deploy[env],
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn overlays_build_to_the_raw_output() {
    let Some(kubectl) = kubectl() else {
        return;
    };
    for p in &common::programs() {
        assert_overlays_build_to_raw(p, &kubectl);
    }
}

#[test]
fn examples() {
    for name in ["sorcha", "three-tier", "queue-worker"] {
        let out = build(&format!("examples/{name}/platform.sorcha"));
        insta::assert_snapshot!(format!("kustomize-{name}"), common::tree(&out.kustomize));
    }
}

#[test]
fn output_is_identical_on_every_run() {
    let a = build("examples/sorcha/platform.sorcha").kustomize;
    let b = build("examples/sorcha/platform.sorcha").kustomize;
    assert_eq!(a, b);
}

#[test]
fn declaration_by_declaration_gives_the_tree_of_whole_environments() {
    // The tree is made one declaration at a time, its image tags planned from the
    // models; it must be the tree made from every environment lowered whole, and the
    // plan must hold for every program (or the build would quietly take the slow way).
    for c in &common::compiled_programs() {
        let base = sorchac::ir::labels::Cx::new(&c.checked.base);
        let envs = sorchac::ir::labels::Cx::each(&c.checked.envs);
        let whole = kustomize::whole(&base, &envs).unwrap();
        let by_declaration = kustomize::by_declaration(&base, &envs)
            .unwrap()
            .expect("the plan holds");
        assert_eq!(
            by_declaration.files, whole.files,
            "{}",
            c.checked.base.platform.name
        );
        assert_eq!(by_declaration.keep, whole.keep);
    }
}
