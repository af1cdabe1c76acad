//! No input may crash the front end. Random text, random token soups and mutations of
//! real programs go through parse, resolve and check; every diagnostic must carry a
//! registered code and a span that lies inside its file on character boundaries, and
//! every renderer must cope with it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use proptest::prelude::*;
use sorchac::diag::codes::REGISTRY;
use sorchac::diag::render;
use sorchac::resolve::MemoryLoader;
use sorchac::source::SourceId;
use sorchac::syntax::ast::Item;
use sorchac::syntax::keyed::Keyed;
use sorchac::syntax::{ParseCache, parse_file_cached};

fn check_invariants(text: &str) {
    let loader = MemoryLoader::new()
        .with("main.sorcha", text)
        .with("other.sorcha", "service other { image = \"x/y:1\" }\n");
    let c = sorchac::compile("main.sorcha", &loader).unwrap();
    for d in &c.diagnostics {
        assert!(
            REGISTRY.iter().any(|i| i.code == d.code),
            "unregistered code {}",
            d.code
        );
        assert!(!d.message.is_empty());
        let file = c
            .program
            .sources
            .get(d.span.source)
            .expect("span in a known file");
        let (s, e) = (d.span.start as usize, d.span.end as usize);
        assert!(
            s <= e && e <= file.text.len(),
            "span {s}..{e} outside a file of {} bytes",
            file.text.len()
        );
        assert!(
            file.text.is_char_boundary(s) && file.text.is_char_boundary(e),
            "span {s}..{e} splits a character"
        );
        for l in &d.labels {
            let f = c
                .program
                .sources
                .get(l.span.source)
                .expect("label in a known file");
            assert!((l.span.end as usize) <= f.text.len());
        }
    }
    render::human(&c.diagnostics, &c.program.sources, false, 80);
    render::json(&c.diagnostics, &c.program.sources);
    render::github(&c.diagnostics, &c.program.sources);
}

const TOKENS: &[&str] = &[
    "platform",
    "service",
    "database",
    "secret",
    "config",
    "gateway",
    "job",
    "env",
    "template",
    "use",
    "import",
    "std.postgres",
    "std.redis",
    "for",
    "param",
    "route",
    "mount",
    "at",
    "self",
    "wallet",
    "db",
    "api",
    "image",
    "port",
    "http",
    "grpc",
    "ready",
    "live",
    "calls",
    "scale",
    "min",
    "max",
    "cpu",
    "memory",
    "replicas",
    "keys",
    "from",
    "deploy",
    "vault",
    "rotation",
    "live",
    "host",
    "tls",
    "issuer",
    "file",
    "if_unset",
    "credentials",
    "storage",
    "backup",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    ":",
    ",",
    ".",
    "..",
    "->",
    "?",
    "\"",
    "\"\"\"",
    "${",
    "\"x:1.0\"",
    "\"/p\"",
    "\"0 2 * * *\"",
    "8080",
    "250m",
    "1.5",
    "512Mi",
    "70%",
    "30s",
    "7d",
    "true",
    "false",
    "//c\n",
    "/*",
    "*/",
    "///d\n",
    "\n",
    " ",
    "\\",
    "$",
    "é",
    "😀",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..120).prop_map(|t| t.join(" "))
}

const SEEDS: &[&str] = &[
    include_str!("spec/platform.sorcha"),
    include_str!("ui/env/overrides-ok.sorcha"),
    include_str!("ui/resolve/template-merge.sorcha"),
    include_str!("ui/syntax/multiline-ok.sorcha"),
    include_str!("../stdlib/postgres.sorcha"),
];

/// A real program with a random edit: a range deleted, text inserted, or a range doubled.
fn mutated() -> impl Strategy<Value = String> {
    edited().prop_map(|(_, edited)| edited)
}

/// A real program, and the same with a random edit.
fn edited() -> impl Strategy<Value = (&'static str, String)> {
    (
        prop::sample::select(SEEDS),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        0u8..3,
        prop::sample::select(TOKENS),
    )
        .prop_map(|(seed, a, b, op, tok)| {
            let chars: Vec<char> = seed.chars().collect();
            let (mut i, mut j) = (a.index(chars.len() + 1), b.index(chars.len() + 1));
            if i > j {
                std::mem::swap(&mut i, &mut j);
            }
            let mut out: Vec<char> = chars[..i].to_vec();
            match op {
                0 => {}
                1 => out.extend(tok.chars()),
                _ => out.extend(chars[i..j].iter().chain(chars[i..j].iter())),
            }
            if op != 2 {
                out.extend(&chars[j.min(chars.len())..]);
            } else {
                out.extend(&chars[j..]);
            }
            (seed, out.into_iter().collect())
        })
}

/// The tree and diagnostics of a parse, as text to compare. Declarations' bodies are
/// compared in keyed form: the cache keys the bodies it keeps between edits.
fn parsed(text: &str, cache: Option<&ParseCache>) -> String {
    let (mut file, diags) =
        parse_file_cached(SourceId(3), text, cache.map(|c| (c, "platform.sorcha")));
    for item in &mut file.items {
        if let Item::Decl(d) = item
            && d.kind.name != "env"
            && d.keyed.is_none()
        {
            d.keyed = Some(Box::new(Keyed::of(&mut d.body)));
        }
    }
    format!("{:?}", (file, diags))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_crashes(s in ".{0,400}") {
        check_invariants(&s);
    }

    #[test]
    fn token_soups_never_crash(s in soup()) {
        check_invariants(&s);
    }

    #[test]
    fn mutated_programs_never_crash(s in mutated()) {
        check_invariants(&s);
    }

    /// The language server reuses the trees of unchanged declarations between edits;
    /// what it gets is exactly what parsing afresh gives, after an edit and after undoing it.
    #[test]
    fn reused_trees_are_the_trees_of_a_fresh_parse((seed, edited) in edited()) {
        let cache = ParseCache::default();
        prop_assert_eq!(parsed(seed, Some(&cache)), parsed(seed, None));
        // Copies made between edits are taken by the next parse; the rest are copied then.
        cache.prepare();
        prop_assert_eq!(parsed(&edited, Some(&cache)), parsed(&edited, None));
        prop_assert_eq!(parsed(seed, Some(&cache)), parsed(seed, None));
        cache.prepare();
        prop_assert_eq!(parsed(seed, Some(&cache)), parsed(seed, None));
    }
}

#[test]
fn pathological_inputs_are_diagnosed_not_fatal() {
    let deep_interp = format!(
        "platform p {{ }}\nservice a {{ image = {}\"x\"{} }}\n",
        "\"${".repeat(300),
        "}\"".repeat(300)
    );
    check_invariants(&deep_interp);
    let long_list = format!(
        "platform p {{ }}\nservice a {{ image = \"x:1\"  args = [{}] }}\n",
        vec!["\"a\""; 10_000].join(", ")
    );
    check_invariants(&long_list);
    let big_string = format!(
        "platform p {{ }}\nconfig c {{ big = \"{}\" }}\n",
        "x".repeat(1 << 20)
    );
    check_invariants(&big_string);
    let long_line = format!(
        "platform p {{ }}\n{}",
        "service s { image = \"x:1\" } ".repeat(5_000)
    );
    check_invariants(&long_line);
    check_invariants(&"{".repeat(100_000));
    check_invariants(&"\"".repeat(10_001));
    check_invariants("\u{feff}platform p { }\n");
}

#[test]
fn a_deep_chain_of_imports_is_diagnosed() {
    let mut loader =
        MemoryLoader::new().with("f0.sorcha", "import \"f1.sorcha\"\nplatform p { }\n");
    for i in 1..2_000 {
        loader = loader.with(
            &format!("f{i}.sorcha"),
            &format!(
                "import \"f{}.sorcha\"\nconfig c{i} {{ k = \"v\" }}\n",
                i + 1
            ),
        );
    }
    let c = sorchac::compile("f0.sorcha", &loader).unwrap();
    assert!(
        c.diagnostics
            .iter()
            .any(|d| d.code.as_str() == "E0804" && d.message.contains("imports nested")),
        "{:?}",
        c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

#[test]
fn inputs_that_once_crashed_a_fuzzer_do_not() {
    for e in std::fs::read_dir("tests/fuzz/regressions").unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let loader = MemoryLoader::new().with_bytes("main.sorcha", bytes.clone());
        let c = sorchac::compile("main.sorcha", &loader).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            check_invariants(text);
            // What formats, formats to itself again (as the parse target checks).
            if let Ok(once) = sorchac::fmt::format(sorchac::source::SourceId(0), text) {
                let twice = sorchac::fmt::format(sorchac::source::SourceId(0), &once).unwrap();
                assert_eq!(once, twice, "{}: formatting is not idempotent", p.display());
            }
        }
        if !c.has_errors() {
            for m in &c.checked.envs {
                sorchac::emit::raw::files(&sorchac::ir::lower(m)).unwrap();
            }
            let envs: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
            let _ = sorchac::emit::helm::files(&c.checked.base, &envs);
        }
    }
}
