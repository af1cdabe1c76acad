//! Every example under `examples/` checks without a single diagnostic, and synthetic
//! platforms of every size check cleanly too.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

#[test]
fn every_example_checks_clean() {
    let mut found = 0;
    for entry in std::fs::read_dir("examples").unwrap() {
        let dir = entry.unwrap().path();
        let main = dir.join("platform.sorcha");
        if !main.exists() {
            continue;
        }
        found += 1;
        let c = common::compile_path(&main.to_string_lossy());
        assert!(c.diagnostics.is_empty(), "{}", common::rendered(&c));
    }
    assert!(
        found >= 3,
        "examples/sorcha and at least two smaller examples"
    );
}

#[test]
fn the_sorcha_example_describes_the_whole_platform() {
    let c = common::compile_path("examples/sorcha/platform.sorcha");
    let m = &c.checked.base;
    for name in [
        "api-gateway",
        "tenant-service",
        "blueprint-service",
        "wallet-service",
        "register-service",
        "validator-service",
        "peer-service",
        "haip-service",
        "ui-web",
        "wallet-pwa",
        "verifier",
        "mcp-server",
        "aspire-dashboard",
        "postgres",
        "mongodb",
        "redis",
    ] {
        assert!(m.workload(name).is_some(), "{name} is described");
    }
    for store in ["postgres", "mongodb", "redis"] {
        let w = m.workload(store).unwrap();
        assert!(w.backup.is_some(), "{store} is backed up");
    }
    let envs: Vec<&str> = c.checked.envs.iter().map(|e| e.env.as_str()).collect();
    assert_eq!(envs, ["dev", "staging", "prod"]);
    let wallet = m.workload("wallet-service").unwrap();
    assert!(
        wallet
            .ports
            .iter()
            .any(|p| p.name == "grpc" && p.number == 5001)
    );
    assert!(
        wallet
            .volumes
            .iter()
            .any(|v| v.persistent && v.name == "wallet-keys")
    );
}

#[test]
fn synthetic_platforms_check_clean() {
    for n in [1, 2, 10, 120] {
        let c = common::compile_text(&sorchac::synth::platform(n));
        assert!(
            c.diagnostics.is_empty(),
            "{n} services:\n{}",
            common::rendered(&c)
        );
        assert_eq!(c.checked.envs.len(), 3);
        assert_eq!(
            c.checked
                .base
                .workloads
                .iter()
                .filter(|w| w.name.starts_with("svc-"))
                .count(),
            n
        );
    }
}
