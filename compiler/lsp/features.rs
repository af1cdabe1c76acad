//! What the language server answers: hover, go to definition, references, rename,
//! completion, the outline, formatting and the objects a declaration compiles to.
//! Names are looked up in the analysed program; positions in the document's own syntax
//! tree, so half-typed text still gets answers where it parses.

use lsp_types as lsp;

use super::world::{Analysis, World, location, range, uri_of};
use crate::check::model::{Replicas, SecretSource};
use crate::resolve::{DeclId, MKey, Program, Target, TemplateId};
use crate::schema::{KeySpec, Kind, Schema, Shape, Ty};
use crate::source::{SourceFile, SourceId, Span};
use crate::syntax::ast::*;

// ---- where the cursor is ---------------------------------------------------------

/// The context of an offset in a document's syntax tree.
#[derive(Default)]
pub struct At<'a> {
    /// The kind of the enclosing declaration (or template).
    pub kind: Option<Kind>,
    /// Keys of the enclosing blocks, outermost first.
    pub path: Vec<String>,
    /// The innermost entry around the offset.
    pub entry: Option<&'a Entry>,
    /// The innermost block around the offset.
    pub block: Option<&'a Block>,
}

fn inside(span: Span, off: usize) -> bool {
    (span.start as usize) <= off && off <= span.end as usize
}

/// The enclosing declaration kind and block keys, read from the text itself: for the
/// declaration being typed, which does not parse yet.
fn text_context(text: &str, off: usize) -> (Option<Kind>, Vec<String>) {
    let before = text.get(..off).unwrap_or("");
    let start = before
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .rfind(|&i| text[i..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .unwrap_or(0);
    let chunk = &before[start..];
    let mut words = chunk.split_whitespace();
    let first = words.next().unwrap_or("");
    let kind = if first == "template" {
        chunk
            .split_whitespace()
            .skip_while(|w| *w != "for")
            .nth(1)
            .and_then(Kind::parse)
    } else {
        Kind::parse(first)
    };
    let mut path: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut in_str = false;
    for line in chunk.lines() {
        for (i, c) in line.char_indices() {
            match c {
                '"' => in_str = !in_str,
                '{' if !in_str => {
                    if depth > 0 {
                        let key = line[..i]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_string();
                        path.push(key);
                    }
                    depth += 1;
                }
                '}' if !in_str => {
                    depth = depth.saturating_sub(1);
                    path.pop();
                }
                _ => {}
            }
        }
    }
    (kind, path)
}

pub fn at(file: &File, off: usize) -> At<'_> {
    let mut a = At::default();
    for item in &file.items {
        let (kind, body, span) = match item {
            Item::Decl(d) => (Kind::parse(&d.kind.name), &d.body, d.span),
            Item::Template(t) => (Kind::parse(&t.kind.name), &t.body, t.span),
            _ => continue,
        };
        if !inside(span, off) {
            continue;
        }
        a.kind = kind;
        if inside(body.span, off) {
            walk(body, off, &mut a);
        }
        break;
    }
    a
}

fn walk<'a>(block: &'a Block, off: usize, a: &mut At<'a>) {
    a.block = Some(block);
    for e in &block.entries {
        if !inside(e.span, off) {
            continue;
        }
        a.entry = Some(e);
        let (key, inner) = match &e.kind {
            EntryKind::Block { key, block } => (key_text(key), Some(block)),
            EntryKind::NamedBlock { key, block, .. } => (key.name.clone(), Some(block)),
            EntryKind::NamedField {
                key,
                block: Some(b),
                ..
            } => (key.name.clone(), Some(b)),
            EntryKind::Route { block: Some(b), .. } => ("route".to_string(), Some(b)),
            _ => (String::new(), None),
        };
        if let Some(b) = inner
            && inside(b.span, off)
        {
            a.path.push(key);
            a.entry = None;
            walk(b, off, a);
        }
        return;
    }
}

fn key_text(k: &Key) -> String {
    k.segments
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// The schema of the block at `path` of a kind.
pub fn schema_at(kind: Kind, path: &[String]) -> Option<&'static Schema> {
    let mut s = kind.schema();
    for seg in path {
        let k = s.keys.iter().find(|k| k.name == seg)?;
        s = match k.shape {
            Shape::Block(b) | Shape::Route(b) => b,
            Shape::Named { block: Some(b), .. } => b,
            _ => return None,
        };
    }
    Some(s)
}

fn key_spec(schema: &Schema, key: &str) -> Option<&'static KeySpec> {
    // `schema.keys` is 'static: the tables are statics.
    let keys: &'static [KeySpec] = schema.keys;
    keys.iter().find(|k| k.name == key)
}

// ---- hover ------------------------------------------------------------------------

fn markdown(text: String) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: text,
        }),
        range: None,
    }
}

pub fn hover(w: &World, path: &str, text: &str, line: u32, col: u32) -> Option<lsp::Hover> {
    let a = w.analysis(path);
    let file = SourceFile::new(crate::source::Origin::File(path.to_string()), text);
    let off = file.offset_of_utf16(line, col);
    // A name: what it refers to.
    if let Some(a) = a
        && let Some((sid, _)) = a.source(path)
        && let Some(t) = target_at(a, sid, off)
        && let Some(h) = describe(a, &t)
    {
        return Some(markdown(h));
    }
    // A key or a number, from the document's own tree.
    let (tree, _) = crate::syntax::parse_file(SourceId(0), text);
    let at = at(&tree, off);
    let kind = at.kind?;
    let entry = at.entry?;
    let schema = schema_at(kind, &at.path)?;
    let (key_span, key) = match &entry.kind {
        EntryKind::Field { key, .. } | EntryKind::Block { key, .. } => (key.span, key_text(key)),
        EntryKind::NamedField { key, .. } | EntryKind::NamedBlock { key, .. } => {
            (key.span, key.name.clone())
        }
        _ => return None,
    };
    let spec = key_spec(schema, &key);
    if inside(key_span, off) {
        let spec = spec?;
        let mut s = format!("**{}** — {}", spec.name, spec.doc);
        match spec.shape {
            Shape::Field(ty) => s.push_str(&format!("\n\nType: {}", ty.describe())),
            Shape::Named {
                value: Some(ty), ..
            } => {
                s.push_str(&format!("\n\n`{} NAME = …`: {}", spec.name, ty.describe()));
            }
            _ => {}
        }
        if spec.required {
            s.push_str("\n\nRequired.");
        }
        if let Some(d) = spec.default {
            s.push_str(&format!("\n\nDefault: `{d}`"));
        }
        return Some(markdown(s));
    }
    if let EntryKind::Field { value, .. } | EntryKind::NamedField { value, .. } = &entry.kind {
        let ty = match spec?.shape {
            Shape::Field(ty) => ty,
            Shape::Named {
                value: Some(ty), ..
            } => ty,
            _ => return None,
        };
        let n = number_at(value, off)?;
        return Some(markdown(describe_number(ty, n)?));
    }
    None
}

fn number_at(e: &Expr, off: usize) -> Option<&NumLit> {
    if !inside(e.span, off) {
        return None;
    }
    match &e.kind {
        ExprKind::Num(n) => Some(n),
        ExprKind::Range(a, b) => number_at(a, off).or_else(|| number_at(b, off)),
        _ => None,
    }
}

fn describe_number(ty: Ty, n: &NumLit) -> Option<String> {
    use crate::check::value::{bytes, cpu, describe_duration, duration, group_digits};
    let text = n.text();
    match ty {
        Ty::Bytes | Ty::Resource(crate::schema::Resource::Memory) => {
            let b = bytes(n).ok()?;
            Some(format!("`{text}` = {} bytes", group_digits(b.bytes)))
        }
        Ty::Cpu | Ty::Resource(crate::schema::Resource::Cpu) => {
            let m = cpu(n).ok()?;
            Some(format!(
                "`{text}` = {} millicores ({} CPU)",
                group_digits(m.0),
                m.0 as f64 / 1000.0
            ))
        }
        Ty::Duration => {
            let ms = duration(n).ok()?;
            Some(format!("`{text}` = {}", describe_duration(ms)))
        }
        _ => None,
    }
}

/// What a name at an offset refers to.
pub fn target_at(a: &Analysis, sid: SourceId, off: usize) -> Option<Target> {
    let c = &a.compilation;
    if let Some(r) = c
        .checked
        .references
        .iter()
        .filter(|r| r.span.source == sid && inside(r.span, off))
        .min_by_key(|r| r.span.end - r.span.start)
    {
        return Some(r.target.clone());
    }
    let p = &c.program;
    if let Some(i) = p
        .decls
        .iter()
        .position(|d| d.name.span.source == sid && inside(d.name.span, off))
    {
        return Some(Target::Decl(DeclId(i as u32)));
    }
    if let Some(i) = p
        .templates
        .iter()
        .position(|t| t.name.span.source == sid && inside(t.name.span, off))
    {
        return Some(Target::Template(TemplateId(i as u32)));
    }
    None
}

fn describe(a: &Analysis, t: &Target) -> Option<String> {
    let p = &a.compilation.program;
    let m = &a.compilation.checked.base;
    Some(match t {
        Target::Decl(id) => {
            let d = p.decls.get(id.0 as usize)?;
            let mut s = format!("{} `{}`", d.kind.as_str(), d.name.name);
            if let Some((tid, _)) = d.template
                && let Some(tpl) = p.templates.get(tid.0 as usize)
            {
                s.push_str(&format!(" : `{}`", template_name(tpl)));
            }
            if let Some(doc) = &d.doc {
                s.push_str(&format!("\n\n{doc}"));
            }
            if let Some(w) = m.workload(&d.name.name) {
                s.push_str(&format!("\n\nImage `{}`", w.image));
                if !w.ports.is_empty() {
                    let ports: Vec<String> = w
                        .ports
                        .iter()
                        .map(|p| format!("`{}` {}", p.name, p.number))
                        .collect();
                    s.push_str(&format!("; ports {}", ports.join(", ")));
                }
                s.push_str(&format!(
                    "; replicas {}",
                    match &w.replicas {
                        Replicas::Fixed(n) => n.to_string(),
                        Replicas::Auto(sc) => format!("{}..{}", sc.min, sc.max),
                    }
                ));
            }
            if let Some(sec) = m.secret(&d.name.name) {
                s.push_str(&format!(
                    "\n\nKeys: {}; {}",
                    sec.keys.join(", "),
                    match &sec.source {
                        SecretSource::Vault { path } => format!("from Vault `{path}`"),
                        SecretSource::Deploy => "supplied at deploy time".into(),
                    }
                ));
            }
            if let Some(cfg) = m.config(&d.name.name) {
                let keys: Vec<&str> = cfg.entries.iter().map(|e| e.key.as_str()).collect();
                s.push_str(&format!("\n\nKeys: {}", keys.join(", ")));
            }
            s
        }
        Target::Template(tid) => {
            let tpl = p.templates.get(tid.0 as usize)?;
            let mut s = format!(
                "template `{}` for {}",
                template_name(tpl),
                tpl.kind.as_str()
            );
            if let Some(doc) = &tpl.doc {
                s.push_str(&format!("\n\n{doc}"));
            }
            if !tpl.params.is_empty() {
                let ps: Vec<String> = tpl
                    .params
                    .iter()
                    .map(|p| format!("`{}`", p.name.name))
                    .collect();
                s.push_str(&format!("\n\nParameters: {}", ps.join(", ")));
            }
            s
        }
        Target::Param(_, name) | Target::TemplateParam(_, name) => {
            format!("template parameter `{name}`")
        }
        Target::Port(decl, port) => {
            let d = p.decls.get(decl.0 as usize)?;
            let w = m.workload(&d.name.name)?;
            let pt = w.port(port)?;
            format!(
                "port `{}` of `{}`: {} ({:?})",
                pt.name, w.name, pt.number, pt.protocol
            )
        }
        Target::SecretKey(decl, key) => {
            let d = p.decls.get(decl.0 as usize)?;
            format!("key `{key}` of secret `{}`", d.name.name)
        }
        Target::ConfigKey(decl, key) => {
            let d = p.decls.get(decl.0 as usize)?;
            let value = m
                .config(&d.name.name)
                .and_then(|c| c.entries.iter().find(|e| e.key == *key))
                .map(|e| e.value.lines().next().unwrap_or("").to_string())
                .unwrap_or_default();
            format!("key `{key}` of config `{}`: `{value}`", d.name.name)
        }
        Target::Source(sid) => {
            let f = p.sources.get(*sid)?;
            format!("file `{}`", f.name())
        }
        Target::Env(i) => {
            let e = p.envs.get(*i)?;
            let mut s = format!("environment `{}`", e.name.name);
            if let Some(doc) = &e.doc {
                s.push_str(&format!("\n\n{doc}"));
            }
            s
        }
    })
}

fn template_name(t: &crate::resolve::RTemplate) -> String {
    match &t.module {
        Some(m) if m.as_str() == t.name.name => format!("std.{m}"),
        Some(m) => format!("std.{m}.{}", t.name.name),
        None => t.name.name.clone(),
    }
}

// ---- definitions and references ----------------------------------------------------

/// Where a target is defined.
pub fn definition_span(p: &Program, t: &Target) -> Option<Span> {
    match t {
        Target::Decl(id) => Some(p.decls.get(id.0 as usize)?.name.span),
        Target::Template(id) => Some(p.templates.get(id.0 as usize)?.name.span),
        Target::Param(decl, name) => {
            Some(p.decls.get(decl.0 as usize)?.param(name)?.decl.name.span)
        }
        Target::TemplateParam(id, name) => p
            .templates
            .get(id.0 as usize)?
            .params
            .iter()
            .find(|x| x.name.name == *name)
            .map(|x| x.name.span),
        Target::Port(decl, port) => p
            .decls
            .get(decl.0 as usize)?
            .body
            .get(&MKey::Named("port".into(), port.clone()))
            .and_then(|e| e.name_span.or(Some(e.key_span))),
        Target::SecretKey(decl, key) => {
            let keys = p.decls.get(decl.0 as usize)?.body.field("keys")?;
            match &keys.value.as_ref()?.kind {
                ExprKind::List(items) => items
                    .iter()
                    .find(|i| matches!(&i.kind, ExprKind::Ref(r) if r.dotted() == *key))
                    .map(|i| i.span),
                _ => None,
            }
        }
        Target::ConfigKey(decl, key) => Some(
            p.decls
                .get(decl.0 as usize)?
                .body
                .get(&MKey::Field(key.clone()))?
                .key_span,
        ),
        Target::Source(sid) => Some(Span::new(*sid, 0, 0)),
        Target::Env(i) => Some(p.envs.get(*i)?.name.span),
    }
}

pub fn definition(a: &Analysis, sid: SourceId, off: usize) -> Option<lsp::Location> {
    let t = target_at(a, sid, off)?;
    location(
        &a.compilation.program.sources,
        definition_span(&a.compilation.program, &t)?,
    )
}

/// Every use of what the name at an offset refers to (and its definition).
pub fn references(a: &Analysis, sid: SourceId, off: usize, with_def: bool) -> Vec<lsp::Location> {
    let Some(t) = target_at(a, sid, off) else {
        return Vec::new();
    };
    let c = &a.compilation;
    let mut spans: Vec<Span> = c
        .checked
        .references
        .iter()
        .filter(|r| r.target == t)
        .map(|r| r.span)
        .collect();
    if with_def && let Some(d) = definition_span(&c.program, &t) {
        spans.insert(0, d);
    }
    spans.dedup();
    spans
        .into_iter()
        .filter_map(|s| location(&c.program.sources, s))
        .collect()
}

/// Renames a declaration everywhere it is named.
pub fn rename(
    a: &Analysis,
    sid: SourceId,
    off: usize,
    new: &str,
) -> Result<lsp::WorkspaceEdit, String> {
    let t = target_at(a, sid, off).ok_or("there is no declaration here to rename")?;
    if !matches!(t, Target::Decl(_)) {
        return Err("only declarations can be renamed".into());
    }
    if crate::check::names::dns_label(new).is_err() {
        return Err(format!(
            "`{new}` is not a valid name: lower-case letters, digits and `-`, at most 63, starting with a letter"
        ));
    }
    let mut changes: std::collections::HashMap<lsp::Url, Vec<lsp::TextEdit>> =
        std::collections::HashMap::new();
    for loc in references(a, sid, off, true) {
        changes.entry(loc.uri).or_default().push(lsp::TextEdit {
            range: loc.range,
            new_text: new.to_string(),
        });
    }
    Ok(lsp::WorkspaceEdit {
        changes: Some(changes),
        ..lsp::WorkspaceEdit::default()
    })
}

// ---- completion ---------------------------------------------------------------------

fn item(label: &str, kind: lsp::CompletionItemKind, detail: &str) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        ..lsp::CompletionItem::default()
    }
}

fn snippet(label: &str, text: String, detail: &str) -> lsp::CompletionItem {
    lsp::CompletionItem {
        insert_text: Some(text),
        insert_text_format: Some(lsp::InsertTextFormat::SNIPPET),
        ..item(label, lsp::CompletionItemKind::PROPERTY, detail)
    }
}

fn decls_of(a: &Analysis, accept: impl Fn(Kind) -> bool) -> Vec<lsp::CompletionItem> {
    a.compilation
        .program
        .decls
        .iter()
        .filter(|d| accept(d.kind))
        .map(|d| {
            item(
                &d.name.name,
                lsp::CompletionItemKind::REFERENCE,
                d.kind.as_str(),
            )
        })
        .collect()
}

pub fn completion(
    w: &World,
    path: &str,
    text: &str,
    line: u32,
    col: u32,
) -> Vec<lsp::CompletionItem> {
    let file = SourceFile::new(crate::source::Origin::File(path.to_string()), text);
    let off = file.offset_of_utf16(line, col);
    let line_start = file.line_start(file.line_of(off));
    let before = text.get(line_start..off).unwrap_or("");
    let trimmed = before.trim_start();
    // `use std.`
    if trimmed.starts_with("use std.") || trimmed == "use " {
        return crate::resolve::stdlib::names()
            .map(|n| item(n, lsp::CompletionItemKind::MODULE, "standard library"))
            .collect();
    }
    let a = w.analysis(path);
    // `NAME.`: ports, keys and addresses of a declaration.
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = before.get(word_start..).unwrap_or("");
    if let (Some(a), Some((base, _))) = (a, word.rsplit_once('.')) {
        let m = &a.compilation.checked.base;
        let mut out = Vec::new();
        if let Some(wl) = m.workload(base) {
            for p in &wl.ports {
                out.push(item(
                    &p.name,
                    lsp::CompletionItemKind::FIELD,
                    &format!("port {}", p.number),
                ));
            }
            for k in ["host", "address", "port"] {
                out.push(item(
                    k,
                    lsp::CompletionItemKind::PROPERTY,
                    "in-cluster address",
                ));
            }
        }
        if let Some(s) = m.secret(base) {
            for k in &s.keys {
                out.push(item(k, lsp::CompletionItemKind::FIELD, "secret key"));
            }
        }
        if let Some(c) = m.config(base) {
            for e in &c.entries {
                out.push(item(&e.key, lsp::CompletionItemKind::FIELD, "config key"));
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    let (tree, _) = crate::syntax::parse_file(SourceId(0), text);
    let mut here = at(&tree, off);
    if here.kind.is_none() {
        // The declaration being typed does not parse: read its context from the text.
        let (kind, path) = text_context(text, off);
        here.kind = kind;
        here.path = path;
    }
    let Some(kind) = here.kind else {
        // Between declarations: the kinds.
        return Kind::ALL
            .iter()
            .filter(|k| **k != Kind::Env)
            .map(|k| {
                snippet(
                    k.as_str(),
                    format!("{} ${{1:name}} {{\n\t$0\n}}", k.as_str()),
                    "declaration",
                )
            })
            .chain(std::iter::once(snippet(
                "env",
                "env ${1:name} {\n\t$0\n}".into(),
                "environment",
            )))
            .collect();
    };
    // `mount `
    if trimmed.starts_with("mount ") && !trimmed.contains(" at ") {
        return a.map_or_else(Vec::new, |a| {
            decls_of(a, |k| matches!(k, Kind::Secret | Kind::Config))
        });
    }
    let Some(schema) = schema_at(kind, &here.path) else {
        return Vec::new();
    };
    // `key = …`: values of the key's type.
    if let Some((key, _)) = trimmed.split_once('=') {
        let key = key.trim();
        let ty = key_spec(schema, key).and_then(|s| match s.shape {
            Shape::Field(t) => Some(t),
            Shape::Named { value, .. } => value,
            _ => None,
        });
        let ty = match ty {
            Some(Ty::List(inner)) => *inner,
            Some(t) => t,
            None => schema.open.unwrap_or(Ty::Str),
        };
        return values(a, ty);
    }
    // The start of an entry: the keys of this block.
    if trimmed
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return schema
            .keys
            .iter()
            .map(|k| {
                let text = match k.shape {
                    Shape::Field(_) | Shape::Map(_) if matches!(k.shape, Shape::Field(_)) => {
                        format!("{} = $0", k.name)
                    }
                    Shape::Block(_) | Shape::Map(_) => format!("{} {{\n\t$0\n}}", k.name),
                    Shape::Named { value: Some(_), .. } => format!("{} ${{1:name}} = $0", k.name),
                    Shape::Named { .. } => format!("{} ${{1:name}} {{\n\t$0\n}}", k.name),
                    Shape::Route(_) => "route \"${1:/}\" -> $0".to_string(),
                    Shape::Mount => "mount ${1:name} at \"$0\"".to_string(),
                    Shape::Field(_) => format!("{} = $0", k.name),
                };
                let mut it = snippet(k.name, text, if k.required { "required" } else { "" });
                it.documentation = Some(lsp::Documentation::String(k.doc.to_string()));
                it
            })
            .collect();
    }
    Vec::new()
}

fn values(a: Option<&Analysis>, ty: Ty) -> Vec<lsp::CompletionItem> {
    let v = lsp::CompletionItemKind::VALUE;
    match ty {
        Ty::Enum(words) => words
            .iter()
            .map(|w| item(w, lsp::CompletionItemKind::ENUM_MEMBER, ""))
            .collect(),
        Ty::Bool => vec![item("true", v, ""), item("false", v, "")],
        Ty::Probe => [
            "http(\"/health\", port: ${1:http})",
            "grpc(port: ${1:grpc})",
            "tcp(port: ${1:http})",
            "exec([\"${1:cmd}\"])",
        ]
        .iter()
        .map(|s| lsp::CompletionItem {
            label: s.split('(').next().unwrap_or(s).to_string(),
            insert_text: Some((*s).to_string()),
            insert_text_format: Some(lsp::InsertTextFormat::SNIPPET),
            kind: Some(lsp::CompletionItemKind::FUNCTION),
            ..lsp::CompletionItem::default()
        })
        .collect(),
        Ty::SecretSource => vec![
            item("deploy", v, "supplied at deploy time"),
            item("vault(\"path\")", v, "from Vault"),
        ],
        Ty::Workload | Ty::CallTarget => {
            a.map_or_else(Vec::new, |a| decls_of(a, Kind::is_workload))
        }
        Ty::Secret => a.map_or_else(Vec::new, |a| decls_of(a, |k| k == Kind::Secret)),
        Ty::Mountable => a.map_or_else(Vec::new, |a| {
            decls_of(a, |k| matches!(k, Kind::Secret | Kind::Config))
        }),
        Ty::EnvValue => a.map_or_else(Vec::new, |a| {
            decls_of(a, |k| k != Kind::Env && k != Kind::Platform)
        }),
        _ => Vec::new(),
    }
}

// ---- outline, formatting, objects ------------------------------------------------------

#[allow(deprecated)] // `DocumentSymbol::deprecated` is deprecated but must be written
fn symbol(
    file: &SourceFile,
    name: String,
    detail: &str,
    kind: lsp::SymbolKind,
    span: Span,
    sel: Span,
    children: Vec<lsp::DocumentSymbol>,
) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name,
        detail: Some(detail.to_string()),
        kind,
        tags: None,
        deprecated: None,
        range: range(file, span),
        selection_range: range(file, sel),
        children: (!children.is_empty()).then_some(children),
    }
}

pub fn symbols(path: &str, text: &str) -> Vec<lsp::DocumentSymbol> {
    let file = SourceFile::new(crate::source::Origin::File(path.to_string()), text);
    let (tree, _) = crate::syntax::parse_file(SourceId(0), text);
    let mut out = Vec::new();
    for it in &tree.items {
        let (name, detail, kind, span, sel, body) = match it {
            Item::Decl(d) => {
                let kind = match Kind::parse(&d.kind.name) {
                    Some(Kind::Service | Kind::Database | Kind::Job) => lsp::SymbolKind::CLASS,
                    Some(Kind::Secret) => lsp::SymbolKind::KEY,
                    Some(Kind::Config) => lsp::SymbolKind::OBJECT,
                    Some(Kind::Gateway) => lsp::SymbolKind::INTERFACE,
                    Some(Kind::Env) => lsp::SymbolKind::NAMESPACE,
                    _ => lsp::SymbolKind::MODULE,
                };
                (
                    d.name.name.clone(),
                    d.kind.name.clone(),
                    kind,
                    d.span,
                    d.name.span,
                    &d.body,
                )
            }
            Item::Template(t) => (
                t.name.name.clone(),
                format!("template for {}", t.kind.name),
                lsp::SymbolKind::STRUCT,
                t.span,
                t.name.span,
                &t.body,
            ),
            _ => continue,
        };
        let children = body
            .entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::NamedField { key, name, .. }
                | EntryKind::NamedBlock { key, name, .. } => Some(symbol(
                    &file,
                    name.name.clone(),
                    &key.name,
                    lsp::SymbolKind::FIELD,
                    e.span,
                    name.span,
                    Vec::new(),
                )),
                EntryKind::Route { path, .. } => Some(symbol(
                    &file,
                    path.as_plain().unwrap_or_default(),
                    "route",
                    lsp::SymbolKind::EVENT,
                    e.span,
                    path.span,
                    Vec::new(),
                )),
                _ => None,
            })
            .collect();
        out.push(symbol(&file, name, &detail, kind, span, sel, children));
    }
    out
}

pub fn formatting(text: &str) -> Option<Vec<lsp::TextEdit>> {
    let formatted = crate::fmt::format(SourceId(0), text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let file = SourceFile::new(crate::source::Origin::File(String::new()), text);
    Some(vec![lsp::TextEdit {
        range: range(&file, Span::new(SourceId(0), 0, text.len())),
        new_text: formatted,
    }])
}

/// The command that shows the objects a declaration compiles to.
pub const SHOW_OBJECTS: &str = "sorchac.showObjects";

pub fn code_lenses(path: &str, text: &str) -> Vec<lsp::CodeLens> {
    let file = SourceFile::new(crate::source::Origin::File(path.to_string()), text);
    let (tree, _) = crate::syntax::parse_file(SourceId(0), text);
    let Some(uri) = uri_of(path) else {
        return Vec::new();
    };
    tree.items
        .iter()
        .filter_map(|it| match it {
            Item::Decl(d)
                if Kind::parse(&d.kind.name).is_some_and(|k| {
                    k.is_workload() || matches!(k, Kind::Gateway | Kind::Config)
                }) =>
            {
                Some(lsp::CodeLens {
                    range: range(&file, d.name.span),
                    command: Some(lsp::Command {
                        title: "Show Kubernetes objects".into(),
                        command: SHOW_OBJECTS.into(),
                        arguments: Some(vec![
                            serde_json::json!(uri.as_str()),
                            serde_json::json!(d.name.name),
                        ]),
                    }),
                    data: None,
                })
            }
            _ => None,
        })
        .collect()
}

/// The objects a declaration compiles to (its first environment), as YAML.
pub fn show_objects(a: &Analysis, name: &str) -> Result<String, String> {
    let c = &a.compilation;
    if c.has_errors() {
        return Err("the program has errors; fix them to see its objects".into());
    }
    let m = c
        .checked
        .envs
        .first()
        .ok_or("the program has no environment")?;
    let objects = crate::ir::lower(m);
    let mut out = String::new();
    for g in &objects.groups {
        if g.origin != crate::ir::Origin::Decl(name.to_string()) {
            continue;
        }
        out.push_str(&crate::emit::yaml::file(g).map_err(|e| e.to_string())?);
    }
    if out.is_empty() {
        return Err(format!("`{name}` compiles to no objects of its own"));
    }
    Ok(out)
}
