//! The examples of the language reference must work as written. `tests/spec/LANGUAGE.md`
//! is a copy of the reference (checked against the shared original when it is present);
//! every code example of its §3 appears verbatim in `tests/spec/platform.sorcha`, which
//! completes them into one program that checks without errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

const REFERENCE: &str = include_str!("spec/LANGUAGE.md");

/// The fenced code blocks between two headings.
fn blocks_between<'a>(md: &'a str, from: &str, to: &str) -> Vec<&'a str> {
    let start = md.find(from).unwrap();
    let end = md[start..].find(to).map_or(md.len(), |e| start + e);
    let mut out = Vec::new();
    let mut rest = &md[start..end];
    while let Some(open) = rest.find("```\n") {
        let body = &rest[open + 4..];
        let close = body.find("\n```").unwrap();
        out.push(&body[..close]);
        rest = &body[close + 4..];
    }
    out
}

#[test]
fn the_copy_of_the_reference_is_current() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/spec/LANGUAGE.md");
    if let Ok(original) = std::fs::read_to_string(shared) {
        assert_eq!(
            original, REFERENCE,
            "tests/spec/LANGUAGE.md differs from {shared}: copy it again"
        );
    }
}

#[test]
fn every_declaration_example_appears_verbatim_and_checks() {
    let program = std::fs::read_to_string("tests/spec/platform.sorcha").unwrap();
    let examples = blocks_between(REFERENCE, "## 3. Declarations", "## 4.");
    assert!(examples.len() >= 9, "found {} examples", examples.len());
    for ex in &examples {
        assert!(
            program.contains(ex),
            "tests/spec/platform.sorcha does not hold this example as written:\n{ex}"
        );
    }
    let c = common::compile_path("tests/spec/platform.sorcha");
    let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{}", common::rendered(&c));
    assert_eq!(
        c.checked
            .envs
            .iter()
            .map(|m| m.env.as_str())
            .collect::<Vec<_>>(),
        ["staging", "prod"]
    );
}

#[test]
fn the_examples_mean_what_the_reference_says() {
    let c = common::compile_path("tests/spec/platform.sorcha");
    let base = &c.checked.base;
    let wallet = base.workload("wallet").unwrap();
    // `250m..1` is request..limit; `5m` would be millicores here.
    let cpu = wallet.cpu.as_ref().unwrap();
    assert_eq!(
        (cpu.request.text(), cpu.limit.text()),
        ("250m".into(), "1".into())
    );
    // `live = http("/alive")` probes the first port when none is named.
    match &wallet.live.as_ref().unwrap().action {
        sorchac::check::model::ProbeAction::Http { path, port } => {
            assert_eq!((path.as_str(), port.as_str()), ("/alive", "http"))
        }
        other => panic!("{other:?}"),
    }
    // `Redis__Endpoint = redis.address` is "redis:6379".
    let endpoint = wallet
        .env
        .iter()
        .find(|e| e.name == "Redis__Endpoint")
        .unwrap();
    assert_eq!(
        endpoint.value,
        sorchac::check::model::EnvValue::Text(sorchac::check::model::Text::lit("redis:6379"))
    );
    // The registry prefixes images that name no registry host, and only those.
    assert_eq!(wallet.image, "ghcr.io/sorcha-platform/wallet-service:1.4.0");
    let pg = base.workload("postgres").unwrap();
    assert_eq!(pg.image, "docker.io/library/postgres:17-alpine");
    // `service tenant : dotnet-api { image = "tenant-service:${version}" }`
    assert_eq!(
        base.workload("tenant").unwrap().image,
        "ghcr.io/sorcha-platform/tenant-service:1.4.0"
    );
    // Environments apply their overrides.
    let staging = &c.checked.envs[0];
    assert_eq!(staging.platform.namespace, "sorcha-staging");
    assert_eq!(staging.gateways[0].host, "staging.api.sorcha.dev");
    let prod = &c.checked.envs[1];
    assert_eq!(
        prod.workload("postgres")
            .unwrap()
            .storage
            .as_ref()
            .unwrap()
            .size
            .text,
        "100Gi"
    );
    match &prod.workload("wallet").unwrap().replicas {
        sorchac::check::model::Replicas::Auto(s) => {
            assert_eq!((s.min, s.max, s.cpu), (3, 20, Some(60)))
        }
        other => panic!("{other:?}"),
    }
}
