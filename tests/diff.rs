//! `sorchac diff`, `sorchac graph` and `sorchac build --check`. Each diff case changes
//! one thing of tests/diff/base.sorcha; the snapshots show what a reviewer sees, and
//! every danger code has a case that raises it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::path::Path;

use common::sorchac;

use proptest::prelude::*;
use serde_json::Value;

fn temp(name: &str) -> common::Scratch {
    let d = common::scratch(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A case: its name, replacements of the base program, the danger codes it must raise.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

const CASES: &[Case] = &[
    ("ordinary", &[("api:1.0.0", "api:1.1.0")], &[]),
    (
        "database-renamed",
        &[("database db :", "database store :"), ("[db]", "[store]")],
        &["D0101", "D0105"],
    ),
    (
        "job-changed",
        &[("migrate:1.0.0", "migrate:1.0.1")],
        &["D0102"],
    ),
    (
        "storage-shrinks",
        &[("size = 20Gi", "size = 10Gi")],
        &["D0102", "D0103"],
    ),
    (
        "storage-class-changes",
        &[("\"fast-ssd\"", "\"standard\"")],
        &["D0102", "D0104"],
    ),
    (
        "network-opened",
        &[(
            "image = \"ghcr.io/example/worker:1.0.0\"\n  calls = [db]",
            "image = \"ghcr.io/example/worker:1.0.0\"\n  calls = [db, api]",
        )],
        &["D0105"],
    ),
    (
        "routed-service-to-one-replica",
        &[("replicas = 2", "replicas = 1")],
        &["D0106"],
    ),
    (
        "secret-no-longer-provided",
        &[("from = vault(\"shop/api-token\")", "from = deploy")],
        &["D0107"],
    ),
];

#[test]
fn every_case_shows_its_changes_and_raises_its_dangers() {
    let base = std::fs::read_to_string("tests/diff/base.sorcha").unwrap();
    let dir = temp("cases");
    let old = dir.join("old.sorcha");
    std::fs::write(&old, &base).unwrap();
    let mut raised = std::collections::BTreeSet::new();
    for (case, edits, dangers) in CASES {
        let mut text = base.clone();
        for (from, to) in *edits {
            assert!(
                text.contains(from),
                "{case}: `{from}` not in the base program"
            );
            text = text.replace(from, to);
        }
        let new = dir.join(format!("{case}.sorcha"));
        std::fs::write(&new, &text).unwrap();
        let (o, n) = (old.to_str().unwrap(), new.to_str().unwrap());
        let human = sorchac(&["diff", o, n]);
        assert_eq!(
            human.status.code(),
            Some(0),
            "{case}: {}",
            String::from_utf8_lossy(&human.stderr)
        );
        insta::assert_snapshot!(
            format!("diff-{case}"),
            String::from_utf8_lossy(&human.stdout)
        );
        let json = sorchac(&["diff", o, n, "--format", "json"]);
        let report: Value = serde_json::from_slice(&json.stdout).unwrap();
        let mut codes: Vec<String> = report["envs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["findings"].as_array().unwrap().iter())
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect();
        codes.sort();
        codes.dedup();
        assert_eq!(
            codes,
            dangers.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "{case}"
        );
        raised.extend(codes);
        let gate = sorchac(&["diff", o, n, "--fail-on", "danger"]);
        assert_eq!(
            gate.status.code(),
            Some(if dangers.is_empty() { 0 } else { 1 }),
            "{case}"
        );
    }
    let all: std::collections::BTreeSet<String> = sorchac::diff::DANGERS
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    assert_eq!(raised, all, "every danger code has a case");
    // The pull-request form.
    let md = sorchac(&[
        "diff",
        old.to_str().unwrap(),
        dir.join("storage-shrinks.sorcha").to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    insta::assert_snapshot!("diff-markdown", String::from_utf8_lossy(&md.stdout));
}

#[test]
fn build_directories_and_git_revisions_are_sides_too() {
    let dir = temp("sides");
    let out = dir.join("out");
    let b = sorchac(&[
        "build",
        "examples/three-tier/platform.sorcha",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(b.status.code(), Some(0));
    // A build directory against the program it came from: nothing changes.
    let d = sorchac(&[
        "diff",
        out.to_str().unwrap(),
        "examples/three-tier/platform.sorcha",
    ]);
    assert_eq!(String::from_utf8_lossy(&d.stdout), "no changes\n");
    // The program as committed at HEAD against the working tree.
    let g = sorchac(&[
        "diff",
        "git:HEAD:examples/three-tier/platform.sorcha",
        "examples/three-tier/platform.sorcha",
    ]);
    assert_eq!(
        g.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&g.stderr)
    );
    let bad = sorchac(&[
        "diff",
        "git:no-such-rev:examples/three-tier/platform.sorcha",
        "examples/three-tier/platform.sorcha",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let missing = sorchac(&[
        "diff",
        "nowhere.sorcha",
        "examples/three-tier/platform.sorcha",
    ]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn target_trees_are_compared_as_files() {
    let base = std::fs::read_to_string("tests/diff/base.sorcha").unwrap();
    let dir = temp("trees");
    std::fs::write(dir.join("old.sorcha"), &base).unwrap();
    std::fs::write(
        dir.join("new.sorcha"),
        base.replace("replicas = 2", "replicas = 3"),
    )
    .unwrap();
    let o = dir.join("old.sorcha");
    let n = dir.join("new.sorcha");
    let k = sorchac(&[
        "diff",
        o.to_str().unwrap(),
        n.to_str().unwrap(),
        "--target",
        "kustomize",
    ]);
    let text = String::from_utf8_lossy(&k.stdout);
    assert!(
        text.contains("+++ b/kustomize/base/service-api.yaml"),
        "{text}"
    );
    assert!(text.contains("-  replicas: 2\n+  replicas: 3"), "{text}");
    let h = sorchac(&[
        "diff",
        o.to_str().unwrap(),
        n.to_str().unwrap(),
        "--target",
        "helm",
    ]);
    let text = String::from_utf8_lossy(&h.stdout);
    assert!(text.contains("+++ b/helm/shop/values.yaml"), "{text}");
}

#[test]
fn build_check_lists_stale_output_and_writes_nothing() {
    let dir = temp("check");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let p = "examples/three-tier/platform.sorcha";
    let missing = sorchac(&["build", p, "-o", o, "--check"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("missing raw/prod/"));
    assert!(!out.exists(), "--check writes nothing");
    assert_eq!(sorchac(&["build", p, "-o", o]).status.code(), Some(0));
    assert_eq!(
        sorchac(&["build", p, "-o", o, "--check"]).status.code(),
        Some(0)
    );
    let file = out.join("raw/prod/service-api.yaml");
    std::fs::write(&file, "edited by hand\n").unwrap();
    std::fs::write(out.join("raw/prod/stray.yaml"), "kind: X\n").unwrap();
    let stale = sorchac(&["build", p, "-o", o, "--check"]);
    assert_eq!(stale.status.code(), Some(1));
    let listed = String::from_utf8_lossy(&stale.stdout);
    assert!(
        listed.contains("changed raw/prod/service-api.yaml"),
        "{listed}"
    );
    assert!(listed.contains("extra raw/prod/stray.yaml"), "{listed}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "edited by hand\n");
}

#[test]
fn graphs_show_the_topology() {
    for example in ["three-tier", "queue-worker", "sorcha"] {
        let p = format!("examples/{example}/platform.sorcha");
        let dot = sorchac(&["graph", &p]);
        insta::assert_snapshot!(
            format!("graph-{example}-dot"),
            String::from_utf8_lossy(&dot.stdout)
        );
        let mermaid = sorchac(&["graph", &p, "--format", "mermaid"]);
        insta::assert_snapshot!(
            format!("graph-{example}-mermaid"),
            String::from_utf8_lossy(&mermaid.stdout)
        );
        // The SVG is XML with a shape per node and a path per edge.
        let svg = sorchac(&["graph", &p, "--format", "svg"]);
        assert_eq!(svg.status.code(), Some(0));
        let text = String::from_utf8(svg.stdout).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let c = sorchac::compile(&p, &sorchac::cli::FsLoader).unwrap();
        let g = sorchac::graph::of(&c.checked.envs[0]);
        let shapes = doc
            .descendants()
            .filter(|n| matches!(n.tag_name().name(), "rect" | "ellipse"))
            .count();
        let paths = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "path")
            .count();
        assert_eq!(shapes, g.nodes.len(), "{example}");
        assert_eq!(paths, g.edges.len(), "{example}");
    }
    let prod = sorchac(&[
        "graph",
        "examples/sorcha/platform.sorcha",
        "--env",
        "prod",
        "--format",
        "mermaid",
    ]);
    assert!(String::from_utf8_lossy(&prod.stdout).contains("n1.sorcha.dev"));
}

fn side(path: &Path) -> sorchac::diff::Side {
    let c = sorchac::compile(path.to_str().unwrap(), &sorchac::cli::FsLoader).unwrap();
    let lowered: Vec<_> = c.checked.envs.iter().map(sorchac::ir::lower).collect();
    sorchac::diff::Side::from_objects(
        c.checked
            .envs
            .iter()
            .map(|m| m.env.clone())
            .zip(lowered.iter()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, .. ProptestConfig::default() })]

    #[test]
    fn a_program_compared_with_itself_has_no_changes(n in 1usize..40) {
        let dir = temp(&format!("self-{n}"));
        let p = dir.join("p.sorcha");
        std::fs::write(&p, sorchac::synth::platform(n)).unwrap();
        let s = side(&p);
        let r = sorchac::diff::diff(&s, &s, None);
        prop_assert!(r.is_empty());
        prop_assert_eq!(r.findings(), 0);
    }
}
