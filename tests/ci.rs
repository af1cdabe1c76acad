//! The scripted steps of examples/ci/platform.yml, run here against a scratch repository
//! that holds the three-tier example and its committed output, as the workflow would run
//! them on a pull request (the step that posts a comment needs GitHub and is left out).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(["-c", "user.name=ci", "-c", "user.email=ci@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The `run` steps of the workflow, by name, GitHub expressions filled in.
fn steps(base: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string("examples/ci/platform.yml").unwrap();
    let wf: Value = serde_yaml_ng::from_str(&text).unwrap();
    wf["jobs"]["platform"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            let run = s.get("run")?.as_str()?;
            Some((
                s["name"].as_str().unwrap_or("").to_string(),
                run.replace("${{ github.event.pull_request.base.sha }}", base),
            ))
        })
        .filter(|(name, run)| {
            !run.contains("cargo install") && !run.contains("gh pr") && !name.is_empty()
        })
        .collect()
}

/// Runs a step with `sorchac` on the PATH; its exit status and output.
fn run(dir: &Path, script: &str) -> (bool, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_sorchac")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .args(["-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// `text` with `from` replaced, which must be there.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the program");
    text.replace(from, to)
}

#[test]
fn the_workflow_passes_a_clean_change_and_stops_stale_or_dangerous_ones() {
    let dir = common::scratch("ci");
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::copy(
        "examples/three-tier/platform.sorcha",
        dir.join("platform.sorcha"),
    )
    .unwrap();
    for e in std::fs::read_dir("examples/three-tier/config").unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join("config").join(p.file_name().unwrap())).unwrap();
    }
    let (ok, out) = run(&dir, "sorchac build platform.sorcha --target all -o deploy");
    assert!(ok, "{out}");
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    let base = git(&dir, &["rev-parse", "HEAD"]);
    let steps = steps(&base);
    assert!(steps.len() >= 5, "{steps:?}");

    // A pull request that changes a tag and commits the new output: every step passes.
    let text = std::fs::read_to_string(dir.join("platform.sorcha")).unwrap();
    std::fs::write(
        dir.join("platform.sorcha"),
        edit(&text, "\"2.3.1\"", "\"2.3.2\""),
    )
    .unwrap();
    let (ok, out) = run(&dir, "sorchac build platform.sorcha --target all -o deploy");
    assert!(ok, "{out}");
    for (name, script) in &steps {
        let (ok, out) = run(&dir, script);
        assert!(ok, "step `{name}` failed:\n{out}");
    }
    let comment = std::fs::read_to_string(dir.join("sorchac-diff.md")).unwrap();
    assert!(comment.starts_with("### sorchac diff"), "{comment}");

    // Output not rebuilt: the up-to-date check stops it.
    std::fs::write(
        dir.join("platform.sorcha"),
        edit(&text, "\"2.3.1\"", "\"2.3.3\""),
    )
    .unwrap();
    let (name, script) = steps
        .iter()
        .find(|(_, s)| s.contains("--check") && s.contains("build"))
        .unwrap();
    let (ok, out) = run(&dir, script);
    assert!(
        !ok && out.contains("changed "),
        "step `{name}` passed:\n{out}"
    );

    // A dangerous change (a smaller database volume), output rebuilt: the last step stops it.
    std::fs::write(
        dir.join("platform.sorcha"),
        edit(&text, "db.storage.size = 100Gi", "db.storage.size = 50Gi"),
    )
    .unwrap();
    let (ok, out) = run(&dir, "sorchac build platform.sorcha --target all -o deploy");
    assert!(ok, "{out}");
    let (name, script) = steps
        .iter()
        .find(|(_, s)| s.contains("--fail-on danger"))
        .unwrap();
    let (ok, out) = run(&dir, script);
    assert!(!ok && out.contains("D0103"), "step `{name}` passed:\n{out}");
}

#[test]
fn the_documented_workflow_is_the_example_file() {
    let doc = std::fs::read_to_string("docs/ci.md").unwrap();
    let file = std::fs::read_to_string("examples/ci/platform.yml").unwrap();
    let block = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    assert_eq!(block, file);
}
