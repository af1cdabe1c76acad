//! The helm target's contract: for every example and feature fixture, and every
//! environment E, the chart rendered by Helm with `values-E.yaml` (and the deploy-time
//! secrets supplied) gives the same objects, with the same content, as `raw/E/` —
//! compared as parsed objects, every difference reported by object and field. Helm's
//! own additions are set aside first, each for a reason given in docs/language.md: the
//! `helm.sh/chart` label, `managed-by: Helm`, `checksum/*` annotations, hook
//! annotations, and the Secrets made from the supplied values (checked on their own).
//!
//! Rendering uses the real Helm library through the shared conformance kit
//! (`check helm-template`); `.ci/run` points `SORCHA_CONFORMANCE` at it. Without it,
//! the rendering test is skipped and says so. Snapshots of every example's chart run
//! everywhere.

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
use sorchac::emit::{OutFile, helm};

struct Output {
    raw: Vec<OutFile>,
    chart: Vec<OutFile>,
    chart_dir: String,
    /// Per environment: (name, namespace, release, deploy secrets with their keys).
    envs: Vec<(String, String, String)>,
    secrets: Vec<(String, Vec<String>)>,
}

fn build(path: &str) -> Output {
    let c = common::compile_path(path);
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    let mut raw = Vec::new();
    for m in &c.checked.envs {
        raw.extend(sorchac::emit::raw::files(&sorchac::ir::lower(m)).unwrap());
    }
    let envs: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
    let chart = sorchac::emit::helm::files(&c.checked.base, &envs).unwrap();
    Output {
        raw,
        chart,
        chart_dir: sorchac::emit::helm::root(&c.checked.base),
        envs: c
            .checked
            .envs
            .iter()
            .map(|m| {
                (
                    m.env.clone(),
                    m.platform.namespace.clone(),
                    sorchac::ir::labels::instance(m),
                )
            })
            .collect(),
        secrets: c
            .checked
            .base
            .secrets
            .iter()
            .filter(|s| s.source == SecretSource::Deploy)
            .map(|s| (s.name.clone(), s.keys.clone()))
            .collect(),
    }
}

/// Helm's own additions, set aside before comparing with the raw output.
fn without_helm_additions(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(labels)) = m.get_mut("labels") {
                labels.remove("helm.sh/chart");
                if labels.get("app.kubernetes.io/managed-by") == Some(&Value::from("Helm")) {
                    labels.insert("app.kubernetes.io/managed-by".into(), "sorchac".into());
                }
            }
            if let Some(Value::Object(a)) = m.get_mut("annotations") {
                a.retain(|k, _| !k.starts_with("checksum/") && !k.starts_with("helm.sh/hook"));
                if a.is_empty() {
                    m.remove("annotations");
                }
            }
            for child in m.values_mut() {
                without_helm_additions(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_helm_additions),
        _ => {}
    }
}

fn camel(name: &str) -> String {
    sorchac::emit::helm::values::camel(name)
}

fn render(kit: &Path, program: &str) {
    let out = build(program);
    let dir = common::scratch("helm");
    common::write_files(&dir, &out.chart);
    let chart = dir.join(&out.chart_dir);
    // Stand-ins for the values an operator supplies at install.
    let mut secrets = String::from("secrets:\n");
    for (name, keys) in &out.secrets {
        secrets.push_str(&format!("  {}:\n", camel(name)));
        for k in keys {
            secrets.push_str(&format!("    {k}: stand-in-{k}\n"));
        }
    }
    let secrets_file = dir.join("secrets.yaml");
    std::fs::write(
        &secrets_file,
        if out.secrets.is_empty() {
            "{}\n".into()
        } else {
            secrets
        },
    )
    .unwrap();
    let mut problems = Vec::new();
    for (env, namespace, release) in &out.envs {
        // Lint, render and validate: no failure and no warning.
        let checked = Command::new(kit.join("check"))
            .arg("helm")
            .arg(&chart)
            .arg("-f")
            .arg(chart.join(format!("values-{env}.yaml")))
            .arg("-f")
            .arg(&secrets_file)
            .args(["--namespace", namespace, "--release-name", release, "-q"])
            .output()
            .unwrap();
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
        assert!(
            checked.status.success() && report.contains(" 0 warnings"),
            "{program} {env}: check helm:\n{report}"
        );
        let rendered = dir.join(format!("{env}.yaml"));
        let o = Command::new(kit.join("check"))
            .arg("helm-template")
            .arg(&chart)
            .arg("-f")
            .arg(chart.join(format!("values-{env}.yaml")))
            .arg("-f")
            .arg(&secrets_file)
            .args([
                "--namespace",
                namespace,
                "--release-name",
                release,
                "-q",
                "-o",
            ])
            .arg(&rendered)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{program} {env}: helm-template failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let got: BTreeMap<String, Value> =
            common::documents(&std::fs::read_to_string(&rendered).unwrap())
                .into_iter()
                .map(|mut v| {
                    without_helm_additions(&mut v);
                    (common::key(&v), v)
                })
                .collect();
        problems.extend(common::compare_with_raw(
            &format!("{program} {env}"),
            "helm",
            &out.raw,
            env,
            got,
            &out.secrets,
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The conformance kit, when `SORCHA_CONFORMANCE` names it.
fn kit() -> Option<PathBuf> {
    let k = std::env::var_os("SORCHA_CONFORMANCE").map(PathBuf::from);
    if k.is_none() {
        eprintln!("SORCHA_CONFORMANCE is not set: rendering with Helm skipped (.ci/run sets it)");
    }
    k
}

#[test]
fn charts_render_to_the_raw_output() {
    let Some(kit) = kit() else {
        return;
    };
    for p in common::programs() {
        render(&kit, &p);
    }
}

#[test]
fn every_program_has_a_chart_that_reproduces_each_environment() {
    // The chart's own check (its templates evaluated against every environment's
    // values) runs inside `files`; it must pass for every example and fixture.
    for p in common::programs() {
        let out = build(&p);
        assert!(
            out.chart.iter().any(|f| f.path.ends_with("/Chart.yaml")),
            "{p}"
        );
    }
}

#[test]
fn a_group_lowered_by_part_gives_the_chart_of_whole_groups() {
    // The chart lowers each part of a group only for the settings that part reads
    // (`ir::Part`); that must give exactly the chart of every group lowered whole in
    // every sample, for every program of the suite and a synthetic one.
    for c in &common::compiled_programs() {
        let envs: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
        let by_part = helm::files_by(&c.checked.base, &envs, helm::Sampling::ByPart).unwrap();
        let whole = helm::files_by(&c.checked.base, &envs, helm::Sampling::Whole).unwrap();
        let text = |files: &[OutFile]| -> Vec<(String, String)> {
            files
                .iter()
                .map(|f| {
                    (
                        f.path.clone(),
                        String::from_utf8_lossy(&f.bytes).into_owned(),
                    )
                })
                .collect()
        };
        for (a, b) in text(&by_part).iter().zip(text(&whole).iter()) {
            assert_eq!(a, b, "{}", c.checked.base.platform.name);
        }
        assert_eq!(by_part.len(), whole.len());
    }
}

#[test]
fn examples() {
    for name in ["sorcha", "three-tier", "queue-worker"] {
        let out = build(&format!("examples/{name}/platform.sorcha"));
        insta::assert_snapshot!(format!("helm-{name}"), common::tree(&out.chart));
    }
}

#[test]
fn output_is_identical_on_every_run() {
    assert_eq!(
        build("examples/sorcha/platform.sorcha").chart,
        build("examples/sorcha/platform.sorcha").chart
    );
}

#[test]
fn wrong_values_and_missing_secrets_fail_at_install_with_clear_messages() {
    let Some(kit) = kit() else {
        return;
    };
    let out = build("examples/three-tier/platform.sorcha");
    let dir = common::scratch("helm-bad");
    common::write_files(&dir, &out.chart);
    let chart = dir.join(&out.chart_dir);
    let attempt = |values: &str| {
        let file = dir.join("values-test.yaml");
        std::fs::write(&file, values).unwrap();
        let o = Command::new(kit.join("check"))
            .arg("helm-template")
            .arg(&chart)
            .arg("-f")
            .arg(&file)
            .args(["-o", "-"])
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
    };
    let secrets =
        "secrets:\n  dbCredentials: {username: u, password: p}\n  cacheAuth: {password: p}\n";
    let (ok, report) = attempt(secrets);
    assert!(ok, "{report}");
    let (ok, report) = attempt(&format!(
        "{secrets}services:\n  api:\n    replicaCount: three\n"
    ));
    assert!(!ok && report.contains("replicaCount"), "{report}");
    let (ok, report) = attempt(&format!("{secrets}services:\n  api:\n    replicas: 3\n"));
    assert!(!ok && report.contains("replicas"), "{report}");
    let (ok, report) = attempt("secrets:\n  cacheAuth: {password: p}\n");
    assert!(
        !ok && report.contains("secrets.dbCredentials.username is required"),
        "{report}"
    );
}

/// An object an environment has in its own form is written into the chart with the
/// release's namespace wherever the object has the namespace (an Istio principal names
/// the caller's), as the templates made from the samples have it, not the namespace the
/// environment was compiled for.
#[test]
fn an_environment_s_own_form_of_an_object_takes_the_release_s_namespace() {
    let out = build("tests/emit/env-mesh-calls.sorcha");
    let batch = out
        .chart
        .iter()
        .find(|f| f.path.ends_with("/templates/service-batch.yaml"))
        .unwrap();
    let text = String::from_utf8_lossy(&batch.bytes);
    assert!(text.contains(r#"eq .Values.environment "prod""#), "{text}");
    assert!(
        text.contains(r#"{{ printf "cluster.local/ns/%v/sa/web" .Release.Namespace | quote }}"#),
        "{text}"
    );
    assert!(!text.contains("cluster.local/ns/shop/"), "{text}");
}
