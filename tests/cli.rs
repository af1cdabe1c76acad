//! The command line as users run it: exit codes, output formats, colour, and inputs that
//! are not programs at all.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::path::Path;
use std::process::Output;

use common::sorchac;

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A file of these bytes, removed with its directory when the value is dropped.
fn temp_file(name: &str, bytes: &[u8]) -> common::Scratch {
    let file = common::scratch(name);
    std::fs::write(&*file, bytes).unwrap();
    file
}

fn arg(file: &Path) -> &str {
    file.to_str().unwrap()
}

#[test]
fn clean_programs_exit_0_and_errors_exit_1() {
    let ok = sorchac(&["check", "tests/ui/resolve/template-merge.sorcha"]);
    assert_eq!(code(&ok), 0, "{}", stdout(&ok));
    assert!(stdout(&ok).ends_with(": ok\n"));

    let bad = sorchac(&["check", "tests/ui/types/bad-port.sorcha"]);
    assert_eq!(code(&bad), 1);
    assert!(stdout(&bad).contains("E0202"));
    assert!(
        !stdout(&bad).contains('\u{1b}'),
        "no colour when piped or with NO_COLOR"
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let w = sorchac(&["check", "tests/ui/rules/unpinned-image.sorcha"]);
    assert_eq!(code(&w), 0);
    let denied = sorchac(&[
        "check",
        "--deny-warnings",
        "tests/ui/rules/unpinned-image.sorcha",
    ]);
    assert_eq!(code(&denied), 1);
}

#[test]
fn usage_and_io_problems_exit_2() {
    let missing = sorchac(&["check", "tests/ui/no-such-file.sorcha"]);
    assert_eq!(code(&missing), 2);
    assert!(
        stderr(&missing).contains("no such file"),
        "{}",
        stderr(&missing)
    );

    let dir = sorchac(&["check", "tests/ui"]);
    assert_eq!(code(&dir), 2);
    assert!(stderr(&dir).contains("directory"));

    let no_args = sorchac(&["check"]);
    assert_eq!(code(&no_args), 2);

    let unknown = sorchac(&["frobnicate"]);
    assert_eq!(code(&unknown), 2);
}

#[test]
fn files_that_are_not_programs_get_diagnostics() {
    let empty = temp_file("empty.sorcha", b"");
    let o = sorchac(&["check", arg(&empty)]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("the file is empty"), "{}", stdout(&o));

    let binary = temp_file(
        "binary.sorcha",
        &[0x7f, b'E', b'L', b'F', 0, 0xff, 0xfe, 0x12],
    );
    let o = sorchac(&["check", arg(&binary)]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("E0803"), "{}", stdout(&o));

    let latin1 = temp_file("latin1.sorcha", b"platform caf\xe9 { }\n");
    let o = sorchac(&["check", arg(&latin1)]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("not UTF-8"), "{}", stdout(&o));

    let garbage = temp_file(
        "garbage.sorcha",
        "}}}{{{ ==== \"\"\" ${ ]]] ⚙ \u{0301}".as_bytes(),
    );
    let o = sorchac(&["check", arg(&garbage)]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("E0001"), "{}", stdout(&o));
}

#[test]
fn json_output_follows_the_reference() {
    let o = sorchac(&[
        "check",
        "--format",
        "json",
        "tests/ui/rules/unknown-secret-key.sorcha",
    ]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E0403");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["message"], "secret `db` has no key `pasword`");
    assert_eq!(d["file"], "tests/ui/rules/unknown-secret-key.sorcha");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(8), Some(26))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(8), Some(33))
    );
    assert_eq!(d["help"], "did you mean `password`?");
    assert_eq!(d["labels"][0]["line"].as_u64(), Some(4));
    assert_eq!(
        d["labels"][0]["message"],
        "`db` declares `username` and `password`"
    );

    let clean = sorchac(&[
        "check",
        "--format",
        "json",
        "tests/ui/resolve/template-merge.sorcha",
    ]);
    assert_eq!(code(&clean), 0);
    assert_eq!(stdout(&clean).trim(), r#"{"diagnostics":[]}"#);
}

#[test]
fn json_columns_count_unicode_scalar_values() {
    let f = temp_file(
        "unicode.sorcha",
        "platform shop { }\nservice api { image = \"shop/api:1.0\"  env { A = \"héllo wörld ẞ 😀\"  X = nope } }\n".as_bytes(),
    );
    let o = sorchac(&["check", "--format", "json", arg(&f)]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E0101");
    let line =
        "service api { image = \"shop/api:1.0\"  env { A = \"héllo wörld ẞ 😀\"  X = nope } }";
    let col = line[..line.find("nope").unwrap()].chars().count() + 1;
    assert_eq!(d["column"].as_u64(), Some(col as u64));
}

#[test]
fn github_format_writes_workflow_commands() {
    let o = sorchac(&[
        "check",
        "--format",
        "github",
        "tests/ui/rules/egress-to-hostname.sorcha",
    ]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(
        out.starts_with("::warning file=tests/ui/rules/egress-to-hostname.sorcha,line=6,col=13,endLine=6,endColumn=33,title=W0003 egress to a host name::"),
        "{out}"
    );
    assert!(out.contains("%0Ahelp: "), "help is on its own line: {out}");
}

#[test]
fn explain_prints_the_explanation() {
    let o = sorchac(&["explain", "E0402"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("# E0402: live-rotated secret consumed through env"));
    let lower = sorchac(&["explain", "w0003"]);
    assert_eq!(code(&lower), 0);
    let unknown = sorchac(&["explain", "E9999"]);
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("not a diagnostic code"));
}

#[test]
fn several_files_are_checked_together() {
    let o = sorchac(&[
        "check",
        "--format",
        "json",
        "tests/ui/types/bad-port.sorcha",
        "tests/ui/rules/unpinned-image.sorcha",
    ]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["E0202", "W0001", "W0001"]);
}
