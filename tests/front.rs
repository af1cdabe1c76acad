//! What the front end makes of programs: templates merged, parameters bound, overrides
//! applied per environment, secrets kept as references. Diagnostics are covered by the
//! ui fixtures; this checks the typed model they describe.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use sorchac::check::model::{EnvValue, Replicas, Text, TextPart};

fn env<'a>(w: &'a sorchac::check::model::Workload, name: &str) -> &'a EnvValue {
    &w.env
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no env {name}"))
        .value
}

#[test]
fn templates_extend_templates_and_parameters_take_values() {
    let c = common::compile_path("tests/ui/resolve/template-extends.sorcha");
    assert!(c.diagnostics.is_empty(), "{}", common::rendered(&c));
    let m = &c.checked.base;
    let orders = m.workload("orders").unwrap();
    assert_eq!(orders.image, "shop/app:2.3");
    assert_eq!(orders.ports[0].name, "http");
    assert_eq!(orders.security.run_as, Some(1654));
    assert_eq!(
        env(orders, "ASPNETCORE_ENVIRONMENT"),
        &EnvValue::Text(Text::lit("Staging"))
    );
    assert_eq!(env(orders, "SHOP_REGION"), &EnvValue::Text(Text::lit("eu")));
    let billing = m.workload("billing").unwrap();
    assert_eq!(billing.image, "shop/app:1.0");
    assert_eq!(
        env(billing, "ASPNETCORE_ENVIRONMENT"),
        &EnvValue::Text(Text::lit("Production"))
    );
}

#[test]
fn nested_blocks_merge_key_by_key() {
    let c = common::compile_path("tests/ui/resolve/template-merge.sorcha");
    let api = c.checked.base.workload("api").unwrap();
    match &api.replicas {
        Replicas::Auto(s) => assert_eq!((s.min, s.max, s.cpu), (2, 10, Some(70))),
        other => panic!("{other:?}"),
    }
    assert_eq!(env(api, "LOG_LEVEL"), &EnvValue::Text(Text::lit("debug")));
    assert_eq!(env(api, "MODE"), &EnvValue::Text(Text::lit("server")));
    assert_eq!(api.image, "shop/app:2.0");
}

#[test]
fn environments_override_by_path() {
    let c = common::compile_path("tests/ui/env/overrides-ok.sorcha");
    assert!(c.diagnostics.is_empty(), "{}", common::rendered(&c));
    let [staging, prod] = c.checked.envs.as_slice() else {
        panic!()
    };
    assert_eq!(c.checked.base.platform.namespace, "shop");
    assert_eq!(staging.platform.namespace, "shop-staging");
    assert_eq!(prod.platform.namespace, "shop");
    assert_eq!(
        env(staging.workload("api").unwrap(), "MODE"),
        &EnvValue::Text(Text::lit("debug"))
    );
    let api = prod.workload("api").unwrap();
    assert_eq!(api.ports[0].number, 9090);
    match &api.replicas {
        Replicas::Auto(s) => assert_eq!((s.min, s.max, s.cpu), (2, 20, Some(60))),
        other => panic!("{other:?}"),
    }
    let db = prod.workload("db").unwrap();
    assert_eq!(db.image, "docker.io/library/postgres:18-alpine");
    assert_eq!(db.storage.as_ref().unwrap().size.bytes, 100 << 30);
    assert_eq!(
        c.checked.base.workload("db").unwrap().image,
        "docker.io/library/postgres:17-alpine"
    );
}

#[test]
fn secrets_stay_references() {
    let c = common::compile_path("tests/ui/rules/secret-in-env-ok.sorcha");
    let api = c.checked.base.workload("api").unwrap();
    assert_eq!(
        env(api, "DB_USER"),
        &EnvValue::SecretKey {
            secret: "db".into(),
            key: "username".into()
        }
    );
    let EnvValue::Text(t) = env(api, "DB_URL") else {
        panic!()
    };
    let db = c.program.lookup("db").unwrap();
    assert_eq!(
        t.parts,
        vec![
            TextPart::Lit("postgres://".into()),
            TextPart::Secret {
                secret: db,
                key: "username".into()
            },
            TextPart::Lit(":".into()),
            TextPart::Secret {
                secret: db,
                key: "password".into()
            },
            TextPart::Lit("@db:5432/shop".into()),
        ]
    );
}

#[test]
fn optional_parameters_without_a_value_leave_their_entries_out() {
    let c = common::compile_text(
        "use std.postgres\nplatform p { }\nsecret pg { keys = [username, password]  from = deploy }\n\
         database open : std.postgres { }\ndatabase locked : std.postgres { credentials = pg }\n",
    );
    let open = c.checked.base.workload("open").unwrap();
    let names: Vec<&str> = open.env.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["POSTGRES_HOST_AUTH_METHOD", "POSTGRES_DB", "PGDATA"]
    );
    let locked = c.checked.base.workload("locked").unwrap();
    let names: Vec<&str> = locked.env.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "POSTGRES_USER",
            "POSTGRES_PASSWORD",
            "POSTGRES_DB",
            "PGDATA"
        ]
    );
    assert_eq!(
        common::outcome(&c.diagnostics),
        ["warning W0004"],
        "only the store without credentials is warned about"
    );
}

#[test]
fn the_standard_library_checks_clean_and_is_complete() {
    for module in sorchac::resolve::stdlib::names() {
        let kind = if module == "dotnet-api" {
            "service"
        } else {
            "database"
        };
        let image = if kind == "service" {
            "  image = \"x/app:1.0\"\n"
        } else {
            ""
        };
        let text =
            format!("use std.{module}\nplatform p {{ }}\n{kind} x : std.{module} {{\n{image}}}\n");
        let c = common::compile_text(&text);
        let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "std.{module}: {}", common::rendered(&c));
        let w = c.checked.base.workload("x").unwrap();
        assert!(!w.ports.is_empty(), "std.{module} declares its ports");
        assert!(
            w.ready.is_some() && w.live.is_some(),
            "std.{module} has readiness and liveness probes"
        );
        assert!(
            w.cpu.is_some() && w.memory.is_some(),
            "std.{module} sets resources"
        );
        assert!(
            w.security.run_as.unwrap_or(0) > 0,
            "std.{module} names its non-root user"
        );
        if kind == "database" {
            let img = sorchac::check::names::image(&w.image).unwrap();
            assert!(
                img.registry.is_some() && img.tag.is_some(),
                "std.{module}: fully qualified, tagged image"
            );
            assert!(w.storage.is_some(), "std.{module} has a data volume");
            assert!(
                w.dump.as_ref().is_some_and(|d| !d.command.is_empty()),
                "std.{module} knows how to dump"
            );
        }
    }
}

/// Environments share the base model's index by name when their declarations sit in the
/// same places; every model of every program must still find each declaration by name.
#[test]
fn every_model_finds_its_declarations_by_name() {
    for path in common::programs() {
        let c = common::compile_path(&path);
        for m in std::iter::once(&c.checked.base).chain(&c.checked.envs) {
            for w in &m.workloads {
                let found = m.workload(&w.name).map(|f| (&f.name, f.kind));
                assert_eq!(found, Some((&w.name, w.kind)), "{path} {}", m.env);
            }
            for s in &m.secrets {
                assert_eq!(m.secret(&s.name).map(|f| &f.name), Some(&s.name), "{path}");
            }
            for k in &m.configs {
                assert_eq!(m.config(&k.name).map(|f| &f.name), Some(&k.name), "{path}");
            }
        }
    }
}
