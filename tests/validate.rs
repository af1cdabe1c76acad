//! The output of every example, in every environment, validated by a third-party tool:
//! kubernetes-validate (PyPI) with the strict Kubernetes 1.33 schemas, which reject
//! unknown fields. `scripts/test` installs it and points `SORCHAC_KUBERNETES_VALIDATE` at
//! it; there it is required. (Custom resources are validated by the conformance kit in CI.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::process::Command;

#[test]
fn examples_pass_kubernetes_validate() {
    let Some(tool) = std::env::var_os("SORCHAC_KUBERNETES_VALIDATE") else {
        assert!(
            std::env::var_os("SORCHAC_REQUIRE_VALIDATORS").is_none(),
            "SORCHAC_KUBERNETES_VALIDATE is not set; run ./scripts/test"
        );
        eprintln!("kubernetes-validate not installed: skipped (./scripts/test installs it)");
        return;
    };
    let out = common::scratch("validate");
    for example in ["sorcha", "three-tier", "queue-worker"] {
        let dir = out.join(example);
        let build = Command::new(env!("CARGO_BIN_EXE_sorchac"))
            .args([
                "build",
                &format!("examples/{example}/platform.sorcha"),
                "-o",
            ])
            .arg(&*dir)
            .output()
            .unwrap();
        assert!(
            build.status.success(),
            "{}",
            String::from_utf8_lossy(&build.stderr)
        );
        for env in std::fs::read_dir(dir.join("raw")).unwrap() {
            let env = env.unwrap().path();
            let mut files: Vec<_> = std::fs::read_dir(&env)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            let v = Command::new(&tool)
                .args(["--strict", "--no-warn", "--quiet", "-k", "1.33.0"])
                .args(&files)
                .output()
                .unwrap();
            let report = format!(
                "{}{}",
                String::from_utf8_lossy(&v.stdout),
                String::from_utf8_lossy(&v.stderr)
            );
            assert!(
                v.status.success() && !report.contains("ERROR"),
                "{}:\n{report}",
                env.display()
            );
        }
    }
}
