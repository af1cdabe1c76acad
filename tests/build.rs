//! `sorchac build` as users run it: one directory per environment, written atomically;
//! a failed build leaves earlier output exactly as it was; stale files never linger.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

fn sorchac(args: &[&str], out: &Path) -> Output {
    let out = out.to_string_lossy();
    let args: Vec<&str> = args.iter().copied().chain(["-o", &out]).collect();
    common::sorchac(&args)
}

fn fresh(name: &str) -> common::Scratch {
    common::scratch(name)
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    common::files_under(dir)
}

const THREE_TIER: &str = "examples/three-tier/platform.sorcha";

#[test]
fn writes_one_directory_per_environment() {
    let out = fresh("envs");
    let o = sorchac(&["build", THREE_TIER], &out);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let files = snapshot(&out);
    assert!(
        files
            .keys()
            .all(|p| p.starts_with("raw/staging") || p.starts_with("raw/prod"))
    );
    assert!(files.contains_key(Path::new("raw/prod/00-namespace.yaml")));
    assert!(files.contains_key(Path::new("raw/staging/service-api.yaml")));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("2 environments"), "{stderr}");
    let default = fresh("default");
    sorchac(
        &["build", "examples/queue-worker/platform.sorcha"],
        &default,
    );
    assert!(
        default.join("raw/default/platform.yaml").exists(),
        "a program without env builds `default`"
    );
}

#[test]
fn a_failed_build_leaves_earlier_output_as_it_was() {
    let out = fresh("failed");
    assert!(sorchac(&["build", THREE_TIER], &out).status.success());
    let before = snapshot(&out);
    let o = sorchac(&["build", "tests/ui/types/bad-port.sorcha"], &out);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing was written"));
    assert_eq!(before, snapshot(&out));

    let untouched = fresh("never-written");
    assert_eq!(
        sorchac(&["build", "tests/ui/types/bad-port.sorcha"], &untouched)
            .status
            .code(),
        Some(1)
    );
    assert!(
        !untouched.exists(),
        "nothing is created for a program with errors"
    );
}

#[test]
fn stale_files_never_linger() {
    let out = fresh("stale");
    assert!(sorchac(&["build", THREE_TIER], &out).status.success());
    let stale = out.join("raw/prod/service-old.yaml");
    std::fs::write(&stale, "kind: Stale\n").unwrap();
    assert!(sorchac(&["build", THREE_TIER], &out).status.success());
    assert!(!stale.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["raw"], "no staging directories are left behind");
}

#[test]
fn one_environment_replaces_only_its_directory() {
    let out = fresh("one-env");
    assert!(sorchac(&["build", THREE_TIER], &out).status.success());
    let staging_before: BTreeMap<_, _> = snapshot(&out)
        .into_iter()
        .filter(|(p, _)| p.starts_with("raw/staging"))
        .collect();
    std::fs::write(out.join("raw/prod/extra.yaml"), "x").unwrap();
    let o = sorchac(&["build", THREE_TIER, "--env", "prod"], &out);
    assert!(o.status.success());
    let after = snapshot(&out);
    assert!(!after.contains_key(Path::new("raw/prod/extra.yaml")));
    let staging_after: BTreeMap<_, _> = after
        .into_iter()
        .filter(|(p, _)| p.starts_with("raw/staging"))
        .collect();
    assert_eq!(staging_before, staging_after);

    let o = sorchac(&["build", THREE_TIER, "--env", "prd"], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `prod`?"));
}

#[test]
fn unwritable_outputs_exit_2() {
    let file = fresh("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let o = sorchac(&["build", THREE_TIER], &file);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a file"));
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");

    let o = sorchac(&["build", THREE_TIER], Path::new("/proc/sorchac-out"));
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = sorchac(&["build", "tests/no-such.sorcha"], &fresh("missing"));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn kustomize_target_writes_a_base_and_an_overlay_per_environment() {
    let out = fresh("kustomize");
    let o = sorchac(&["build", THREE_TIER, "--target", "kustomize"], &out);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.join("kustomize/base/kustomization.yaml").is_file());
    for env in ["staging", "prod"] {
        let k = out.join(format!("kustomize/overlays/{env}/kustomization.yaml"));
        let text = std::fs::read_to_string(&k).unwrap();
        assert!(text.contains("- ../../base"), "{text}");
        // Deploy-time secrets: an example file with the keys, and a .gitignore.
        let example = out.join(format!(
            "kustomize/overlays/{env}/secrets/db-credentials.env.example"
        ));
        assert_eq!(
            std::fs::read_to_string(example).unwrap(),
            "username=\npassword=\n"
        );
        let ignore = out.join(format!("kustomize/overlays/{env}/secrets/.gitignore"));
        assert!(std::fs::read_to_string(ignore).unwrap().contains("*.env"));
    }
    assert!(
        !out.join("raw").exists(),
        "only the kustomize tree is written"
    );
}

#[test]
fn the_operators_secret_env_files_survive_a_rebuild_and_nothing_else_does() {
    let out = fresh("keep");
    assert_eq!(
        sorchac(&["build", THREE_TIER, "--target", "kustomize"], &out)
            .status
            .code(),
        Some(0)
    );
    let secrets = out.join("kustomize/overlays/prod/secrets");
    std::fs::write(
        secrets.join("db-credentials.env"),
        "username=app\npassword=x\n",
    )
    .unwrap();
    // Not named by any kustomization: stale.
    std::fs::write(secrets.join("old.env"), "password=y\n").unwrap();
    std::fs::write(out.join("kustomize/overlays/prod/extra.yaml"), "kind: X\n").unwrap();
    assert_eq!(
        sorchac(&["build", THREE_TIER, "--target", "kustomize"], &out)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        std::fs::read_to_string(secrets.join("db-credentials.env")).unwrap(),
        "username=app\npassword=x\n"
    );
    assert!(!secrets.join("old.env").exists());
    assert!(!out.join("kustomize/overlays/prod/extra.yaml").exists());
}

#[test]
fn all_targets_side_by_side_and_env_is_for_raw_only() {
    let out = fresh("all");
    let o = sorchac(&["build", THREE_TIER, "--target", "all"], &out);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.join("raw/prod").is_dir());
    assert!(out.join("kustomize/overlays/prod").is_dir());
    for f in [
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        "values-staging.yaml",
        "values-prod.yaml",
        "templates/_helpers.tpl",
        "templates/NOTES.txt",
    ] {
        assert!(out.join("helm/shop").join(f).is_file(), "{f}");
    }
    let o = sorchac(
        &[
            "build",
            THREE_TIER,
            "--target",
            "kustomize",
            "--env",
            "prod",
        ],
        &out,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("`--env` selects one environment of the raw target"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_build_that_fails_half_way_leaves_the_earlier_output_untouched() {
    let out = fresh("half-way");
    let o = sorchac(&["build", THREE_TIER, "--target", "all"], &out);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The Helm chart's directory cannot be made: the build fails after the raw and
    // kustomize trees are begun (their staging directories made).
    std::fs::remove_dir_all(out.join("helm")).unwrap();
    std::fs::write(out.join("helm"), "in the way\n").unwrap();
    let before = snapshot(&out);
    // A new version of the program, beside its config files.
    let src = fresh("half-way-src");
    std::fs::create_dir_all(src.join("config")).unwrap();
    for e in std::fs::read_dir("examples/three-tier/config").unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, src.join("config").join(p.file_name().unwrap())).unwrap();
    }
    let edited = src.join("platform.sorcha");
    let text = std::fs::read_to_string(THREE_TIER)
        .unwrap()
        .replace("\"2.3.1\"", "\"2.4.0\"");
    std::fs::write(&edited, text).unwrap();
    let o = sorchac(
        &["build", edited.to_str().unwrap(), "--target", "all"],
        &out,
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write"));
    assert_eq!(
        snapshot(&out),
        before,
        "nothing changed, nothing half written"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("sorchac-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
