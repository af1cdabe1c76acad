//! A diff report for people (optionally coloured), as Markdown for a pull-request
//! comment, and as JSON.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Change, Report};

fn short(v: &Option<Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(Value::String(s)) if !s.contains('\n') && s.len() <= 80 => s.clone(),
        Some(v) => {
            let t = v.to_string();
            if t.len() > 100 {
                format!("{}…", t.chars().take(100).collect::<String>())
            } else {
                t
            }
        }
    }
}

struct Paint(bool);

impl Paint {
    fn c(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub fn human(r: &Report, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    if r.is_empty() {
        out.push_str("no changes\n");
        return out;
    }
    for e in &r.envs {
        if e.changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", p.c("1", &format!("environment {}", e.env)));
        for f in &e.findings {
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                p.c("1;31", &format!("danger[{}]", f.code)),
                f.object,
                f.title,
                f.message
            );
        }
        for c in &e.changes {
            match c {
                Change::Added { object } => {
                    let _ = writeln!(out, "  {}", p.c("32", &format!("+ {object}")));
                }
                Change::Removed { object } => {
                    let _ = writeln!(out, "  {}", p.c("31", &format!("- {object}")));
                }
                Change::Changed { object, fields } => {
                    let _ = writeln!(out, "  {}", p.c("33", &format!("~ {object}")));
                    for f in fields {
                        let _ = writeln!(
                            out,
                            "      {}: {} → {}",
                            f.path,
                            p.c("31", &short(&f.old)),
                            p.c("32", &short(&f.new))
                        );
                    }
                }
            }
        }
    }
    let n = r.findings();
    if n > 0 {
        let _ = writeln!(out, "{}", p.c("1;31", &format!("{n} dangerous change(s)")));
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(r: &Report) -> String {
    let mut out = String::from("### sorchac diff\n\n");
    if r.is_empty() {
        out.push_str("No changes to the generated objects.\n");
        return out;
    }
    let n = r.findings();
    if n > 0 {
        let _ = writeln!(
            out,
            "**{n} dangerous change(s)** — review before merging.\n"
        );
    }
    for e in &r.envs {
        if e.changes.is_empty() {
            continue;
        }
        let (mut add, mut rem, mut chg) = (0, 0, 0);
        for c in &e.changes {
            match c {
                Change::Added { .. } => add += 1,
                Change::Removed { .. } => rem += 1,
                Change::Changed { .. } => chg += 1,
            }
        }
        let _ = writeln!(
            out,
            "#### Environment `{}`: {add} added, {rem} removed, {chg} changed\n",
            e.env
        );
        if !e.findings.is_empty() {
            out.push_str("| | object | danger |\n|---|---|---|\n");
            for f in &e.findings {
                let _ = writeln!(
                    out,
                    "| :warning: `{}` | `{}` | {} |",
                    f.code,
                    md_escape(&f.object),
                    md_escape(&f.message)
                );
            }
            out.push('\n');
        }
        out.push_str("<details><summary>Changes</summary>\n\n```diff\n");
        for c in &e.changes {
            match c {
                Change::Added { object } => {
                    let _ = writeln!(out, "+ {object}");
                }
                Change::Removed { object } => {
                    let _ = writeln!(out, "- {object}");
                }
                Change::Changed { object, fields } => {
                    let _ = writeln!(out, "! {object}");
                    for f in fields {
                        let _ = writeln!(
                            out,
                            "!     {}: {} -> {}",
                            f.path,
                            short(&f.old),
                            short(&f.new)
                        );
                    }
                }
            }
        }
        out.push_str("```\n\n</details>\n\n");
    }
    out
}

pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
