//! UI tests: every `tests/ui/**/*.sorcha` fixture states its expected outcome in its
//! first line (`// expect: ok`, `// expect: error E0201, warning W0003`), which must match
//! the diagnostics exactly; the rendered diagnostics are snapshotted after the source.
//! Files under a `_files` directory are imported or read by fixtures, not fixtures.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use sorchac::diag::codes::REGISTRY;

fn expectation(text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or("");
    let spec = first
        .strip_prefix("// expect:")
        .unwrap_or_else(|| panic!("a fixture starts with `// expect: ...`, found {first:?}"))
        .trim();
    if spec == "ok" {
        return Vec::new();
    }
    let mut v: Vec<String> = spec.split(',').map(|s| s.trim().to_string()).collect();
    v.sort();
    v.dedup();
    v
}

fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn ui() {
    let mut failures = Vec::new();
    insta::glob!("ui/**/*.sorcha", |path| {
        let rel = relative(path);
        if rel.contains("/_files/") {
            return;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let c = common::compile_path(&rel);
        let expected = expectation(&text);
        let found = common::outcome(&c.diagnostics);
        if found != expected {
            failures.push(format!(
                "{rel}: expected {expected:?}, found {found:?}\n{}",
                common::rendered(&c)
            ));
        }
        for d in &c.diagnostics {
            let file = c.program.sources.get(d.span.source).unwrap();
            assert!(
                d.span.end as usize <= file.text.len(),
                "{rel}: span outside its file"
            );
        }
        insta::assert_snapshot!(format!(
            "{text}\n----- diagnostics -----\n{}",
            common::rendered(&c)
        ));
    });
    assert!(
        failures.is_empty(),
        "outcomes differ from `// expect:` lines:\n\n{}",
        failures.join("\n")
    );
}

/// Every code has at least one fixture that expects it.
#[test]
fn every_code_has_a_fixture() {
    let mut covered = BTreeSet::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "sorcha")
                && !relative(&p).contains("/_files/")
            {
                let text = std::fs::read_to_string(&p).unwrap();
                for e in expectation(&text) {
                    if let Some(code) = e.split_whitespace().nth(1) {
                        covered.insert(code.to_string());
                    }
                }
            }
        }
    }
    let missing: Vec<&str> = REGISTRY
        .iter()
        .map(|i| i.code.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a ui fixture: {missing:?}"
    );
}
