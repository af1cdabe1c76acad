//! `sorchac fmt`: one canonical layout, idempotent, and never a change of meaning.
//! Examples, the standard library and the feature fixtures are kept formatted (CI runs
//! `fmt --check` through this test); a deliberately untidy program shows the layout.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::process::Command;

use proptest::prelude::*;
use sorchac::resolve::MemoryLoader;
use sorchac::source::SourceId;

fn format(text: &str) -> String {
    match sorchac::fmt::format(SourceId(0), text) {
        Ok(t) => t,
        Err(e) => panic!("{e:?}\n{text}"),
    }
}

/// The raw output and diagnostic codes of a one-file program (plus its imports).
fn meaning(files: &[(&str, &str)]) -> (Vec<String>, Vec<(String, Vec<u8>)>) {
    let mut loader = MemoryLoader::new();
    for (name, text) in files {
        loader = loader.with(name, text);
    }
    let c = sorchac::compile(files[0].0, &loader).unwrap();
    let codes = c
        .diagnostics
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect();
    let mut out = Vec::new();
    if !c.has_errors() {
        for m in &c.checked.envs {
            for f in sorchac::emit::raw::files(&sorchac::ir::lower(m)).unwrap() {
                out.push((f.path, f.bytes));
            }
        }
    }
    (codes, out)
}

fn sources() -> Vec<String> {
    let mut files = Vec::new();
    for dir in [
        "examples/sorcha",
        "examples/three-tier",
        "examples/queue-worker",
        "stdlib",
        "tests/emit",
    ] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "sorcha") {
                files.push(p.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn examples_stdlib_and_fixtures_are_formatted() {
    let files = sources();
    let o = Command::new(env!("CARGO_BIN_EXE_sorchac"))
        .arg("fmt")
        .arg("--check")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "not formatted (run `sorchac fmt` on them):\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn an_untidy_program_is_put_in_order_once_and_for_all() {
    let text = std::fs::read_to_string("tests/fmt/messy.sorcha").unwrap();
    let parts = std::fs::read_to_string("tests/fmt/parts.sorcha").unwrap();
    let once = format(&text);
    insta::assert_snapshot!(once);
    assert_eq!(format(&once), once, "formatting twice changes nothing");
    assert_eq!(
        meaning(&[("messy.sorcha", &text), ("parts.sorcha", &parts)]),
        meaning(&[("messy.sorcha", &once), ("parts.sorcha", &parts)]),
        "formatting changes no output"
    );
}

#[test]
fn every_formatted_file_keeps_its_meaning() {
    for f in sources().iter().filter(|f| !f.starts_with("stdlib/")) {
        let text = std::fs::read_to_string(f).unwrap();
        // Reflow the file (every line's indentation doubled) and format it back.
        let untidy: String = text
            .lines()
            .map(|l| {
                let indent = l.len() - l.trim_start().len();
                format!("{}{}\n", " ".repeat(indent * 2), l.trim_start())
            })
            .collect();
        if untidy.contains("\"\"\"") {
            continue; // indentation inside a multi-line string is part of its value
        }
        assert_eq!(format(&untidy), text, "{f}");
    }
}

#[test]
fn check_lists_files_and_changes_nothing_and_a_broken_file_is_left_alone() {
    let dir = common::scratch("fmt");
    std::fs::create_dir_all(&dir).unwrap();
    let untidy = dir.join("untidy.sorcha");
    std::fs::write(&untidy, "platform p {\nnamespace=\"p\"\n}\n").unwrap();
    let broken = dir.join("broken.sorcha");
    std::fs::write(&broken, "platform p {\n  namespace = \n").unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sorchac"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let u = untidy.to_str().unwrap();
    let o = run(&["fmt", "--check", u]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), u);
    assert_eq!(
        std::fs::read_to_string(&untidy).unwrap(),
        "platform p {\nnamespace=\"p\"\n}\n"
    );
    let o = run(&["fmt", u]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&untidy).unwrap(),
        "platform p {\n  namespace = \"p\"\n}\n"
    );
    let b = broken.to_str().unwrap();
    let o = run(&["fmt", b]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E0001"));
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "platform p {\n  namespace = \n"
    );
    let o = run(&["fmt", dir.join("missing.sorcha").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn comments_in_odd_places_are_kept_in_order() {
    let text = "template t for service {\n  param tag: /* c1 */ string\n}\n\nservice s : t {\n  tag = \"1\"\n  image = \"s:1\"\n  port http = 8080 /* c2 */ { protocol = http }\n  ready = http(\"/r\", /* c3 */ port: http)\n}\n";
    let once = format(text);
    let comments = |t: &str| -> Vec<String> {
        sorchac::fmt::scan_comments(t)
            .iter()
            .map(|c| t[c.0..c.1].to_string())
            .collect()
    };
    assert_eq!(
        comments(&once),
        vec!["/* c1 */", "/* c2 */", "/* c3 */"],
        "{once}"
    );
    assert_eq!(format(&once), once);
}

/// Lines of a synthetic platform with random indentation, spacing around `=`, blank
/// lines and comments.
fn untidy(text: &str, noise: &[u8]) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let n = noise[i % noise.len()];
        if n % 7 == 0 {
            out.push('\n');
        }
        if n % 5 == 0 {
            out.push_str("// noise\n");
        }
        let body = line.trim_start();
        out.push_str(&" ".repeat(l_indent(line) + usize::from(n % 3)));
        // More or fewer spaces around `=` (never a line break: a value starts on the
        // line of its `=`).
        let spaced = if n % 2 == 0 {
            body.replacen(" = ", "   =  ", 1)
        } else {
            body.replacen(" = ", "=", 1)
        };
        out.push_str(&spaced);
        if n % 11 == 0 && !body.ends_with('{') && !body.is_empty() {
            out.push_str(" // trailing");
        }
        out.push('\n');
    }
    out
}

fn l_indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn random_layouts_format_to_one_layout_with_the_same_meaning(
        n in 1usize..6,
        noise in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let text = sorchac::synth::platform(n);
        let messy = untidy(&text, &noise);
        let once = format(&messy);
        prop_assert_eq!(format(&once), once.clone());
        prop_assert_eq!(meaning(&[("p.sorcha", &messy)]), meaning(&[("p.sorcha", &once)]));
    }
}
