//! Declaration bodies in keyed form: each entry under the key that identifies it in its
//! block (`port http`, `route "/api"`), nested blocks keyed the same way. This is the
//! form resolution merges (a template's entries overridden by an instance's, then by an
//! environment's; see `resolve::merge`). Entries keep the spans and doc comments they
//! were written with, so diagnostics point at the text that produced a value.
//!
//! It is made from the syntax tree alone, so the language server's parse cache makes it
//! between edits for declarations whose text did not change ([`Keyed`]).

use std::sync::Arc;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{Span, Spans};
use crate::syntax::ast::{self, EntryKind, Expr, ExprKind, StrLit};

/// What identifies an entry within its block (two entries with the same key are the same
/// setting: the later one overrides, or, in one written block, it is a duplicate).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MKey {
    /// `key = …` or `key { … }`
    Field(String),
    /// `key NAME = …` or `key NAME { … }`
    Named(String, String),
    /// `route "PATH" -> …`
    Route(String),
    /// `mount X at "PATH"`
    Mount(String),
}

impl MKey {
    /// The key as the user wrote it, for messages.
    pub fn describe(&self) -> String {
        match self {
            MKey::Field(k) => format!("`{k}`"),
            MKey::Named(k, n) => format!("`{k} {n}`"),
            MKey::Route(p) => format!("route `{p}`"),
            MKey::Mount(p) => format!("mount at `{p}`"),
        }
    }

    /// The key word itself (`port` for `port http`).
    pub fn word(&self) -> &str {
        match self {
            MKey::Field(k) | MKey::Named(k, _) => k,
            MKey::Route(_) => "route",
            MKey::Mount(_) => "mount",
        }
    }
}

/// One merged entry.
#[derive(Clone, Debug)]
pub struct MEntry {
    pub key: MKey,
    /// The span of the key word (or the route path, or the mount path).
    pub key_span: Span,
    /// The span of the name of a named entry.
    pub name_span: Option<Span>,
    pub doc: Option<String>,
    /// The value: a field's expression, a named field's value, a route's target, a
    /// mount's source (as a reference).
    pub value: Option<Expr>,
    pub block: Option<MBlock>,
    /// The whole entry as written.
    pub span: Span,
    /// The key had more than one segment (`a.b = …`), which only env blocks allow.
    pub dotted: Option<Span>,
    /// Written as `param …` (only templates declare parameters).
    pub is_param: bool,
}

/// A block of merged entries, in the order they were first written.
#[derive(Clone, Debug, Default)]
pub struct MBlock {
    /// Shared between a declaration and its environments' copies until one changes.
    pub entries: Vec<Arc<MEntry>>,
    pub span: Span,
}

impl MBlock {
    pub fn get(&self, key: &MKey) -> Option<&MEntry> {
        self.entries.iter().find(|e| &e.key == key).map(|e| &**e)
    }

    /// The entry, to change: copied first when another block shares it.
    pub fn get_mut(&mut self, key: &MKey) -> Option<&mut MEntry> {
        self.entries
            .iter_mut()
            .find(|e| &e.key == key)
            .map(Arc::make_mut)
    }

    pub fn field(&self, name: &str) -> Option<&MEntry> {
        self.entries
            .iter()
            .find(|e| matches!(&e.key, MKey::Field(k) if k == name))
            .map(|e| &**e)
    }

    /// Entries of a named kind (`port`), in order.
    pub fn named<'a>(&'a self, word: &'a str) -> impl Iterator<Item = &'a MEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| matches!(&e.key, MKey::Named(k, _) if k == word))
            .map(|e| &**e)
    }

    /// Converts a written block, reporting keys written twice in it (E0102).
    pub fn from_ast(b: ast::Block, diags: &mut Diagnostics) -> MBlock {
        let mut out = MBlock {
            entries: Vec::with_capacity(b.entries.len()),
            span: b.span,
        };
        for e in b.entries {
            let m = MEntry::from_ast(e, diags);
            if let Some(first) = out.get(&m.key) {
                if let MKey::Route(path) = &m.key {
                    diags.push(
                        Diagnostic::new(
                            Code::DUPLICATE_ROUTE,
                            m.key_span,
                            format!("route `{path}` is declared twice on this gateway"),
                        )
                        .with_label(first.key_span, "first declared here"),
                    );
                    continue;
                }
                if let MKey::Mount(path) = &m.key {
                    diags.push(
                        Diagnostic::new(
                            Code::MOUNT_CONFLICT,
                            m.key_span,
                            format!("two mounts at `{path}`"),
                        )
                        .with_label(first.key_span, "first mounted here"),
                    );
                    continue;
                }
                diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE,
                        m.key_span,
                        format!("{} is set twice in this block", m.key.describe()),
                    )
                    .with_label(first.key_span, "first set here")
                    .with_help(
                        "remove one of them; to change a value per environment, use an `env` block",
                    ),
                );
                continue;
            }
            out.entries.push(Arc::new(m));
        }
        out
    }
}

impl MEntry {
    fn from_ast(e: ast::Entry, diags: &mut Diagnostics) -> MEntry {
        let mut m = MEntry {
            key: MKey::Field(String::new()),
            key_span: e.span,
            name_span: None,
            doc: e.doc,
            value: None,
            block: None,
            span: e.span,
            dotted: None,
            is_param: false,
        };
        match e.kind {
            EntryKind::Field { key, value } => {
                m.set_key(key);
                m.value = Some(value);
            }
            EntryKind::Block { key, block } => {
                m.set_key(key);
                m.block = Some(MBlock::from_ast(block, diags));
            }
            EntryKind::NamedField {
                key,
                name,
                value,
                block,
            } => {
                m.key = MKey::Named(key.name, name.name);
                m.key_span = key.span;
                m.name_span = Some(name.span);
                m.value = Some(value);
                m.block = block.map(|b| MBlock::from_ast(b, diags));
            }
            EntryKind::NamedBlock { key, name, block } => {
                m.key = MKey::Named(key.name, name.name);
                m.key_span = key.span;
                m.name_span = Some(name.span);
                m.block = Some(MBlock::from_ast(block, diags));
            }
            EntryKind::Route {
                path,
                target,
                block,
            } => {
                m.key = MKey::Route(plain_or_report(&path, "a route path", diags));
                m.key_span = path.span;
                m.value = Some(target);
                m.block = block.map(|b| MBlock::from_ast(b, diags));
            }
            EntryKind::Mount { target, at } => {
                m.key = MKey::Mount(plain_or_report(&at, "a mount path", diags));
                m.key_span = at.span;
                let span = target.span;
                m.value = Some(Expr {
                    kind: ExprKind::Ref(target),
                    span,
                });
            }
            EntryKind::Param { name, default, .. } => {
                m.key = MKey::Field(name.name);
                m.key_span = name.span;
                m.value = default;
                m.is_param = true;
            }
        }
        m
    }

    fn set_key(&mut self, key: ast::Key) {
        self.key_span = key.span;
        if key.segments.len() > 1 {
            self.dotted = Some(key.span);
        }
        let mut segments = key.segments.into_iter();
        let mut name = segments.next().map(|s| s.name).unwrap_or_default();
        for s in segments {
            name.push('.');
            name.push_str(&s.name);
        }
        self.key = MKey::Field(name);
    }
}

fn plain_or_report(s: &StrLit, what: &str, diags: &mut Diagnostics) -> String {
    match s.as_plain() {
        Some(p) => p,
        None => {
            diags.push(Diagnostic::new(
                Code::TYPE_MISMATCH,
                s.span,
                format!("{what} cannot interpolate values"),
            ));
            String::new()
        }
    }
}

/// A declaration's body in keyed form, with the diagnostics making it found
/// ([`MBlock::from_ast`]).
#[derive(Clone, Debug)]
pub struct Keyed {
    pub block: MBlock,
    pub diags: Vec<Diagnostic>,
}

impl Keyed {
    /// The keyed form of a declaration's body, which is left empty.
    pub fn of(body: &mut ast::Block) -> Keyed {
        let mut found = Diagnostics::new();
        let entries = std::mem::take(&mut body.entries);
        let block = MBlock::from_ast(
            ast::Block {
                entries,
                span: body.span,
            },
            &mut found,
        );
        Keyed {
            block,
            diags: found.into_sorted(),
        }
    }
}

impl Spans for Keyed {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        let Keyed { block, diags } = self;
        block.each_span(f);
        diags.each_span(f);
    }
}

impl Spans for MBlock {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        self.entries.each_span(f);
        self.span.each_span(f);
    }
}

impl Spans for MEntry {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        // Destructured in full, so that a new field cannot be forgotten here.
        let MEntry {
            key: _,
            key_span,
            name_span,
            doc: _,
            value,
            block,
            span,
            dotted,
            is_param: _,
        } = self;
        key_span.each_span(f);
        name_span.each_span(f);
        value.each_span(f);
        block.each_span(f);
        span.each_span(f);
        dotted.each_span(f);
    }
}
