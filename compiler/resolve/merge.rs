//! Merged blocks: the entries of a declaration after its template's entries have been
//! overridden by the instance's (nested blocks merged key by key) and, per environment,
//! by the env block's overrides. Entries keep the spans and doc comments they were
//! written with, so diagnostics point at the text that produced a value.

use std::sync::Arc;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Span;
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

    /// Overrides this block with `over`: an entry of `over` replaces the entry with the
    /// same key, except that two blocks merge key by key (and a named field keeps its
    /// options block when the override only gives a new value).
    pub fn merge(&mut self, over: MBlock) {
        for o in over.entries {
            match self.get_mut(&o.key) {
                Some(base) => base.override_with(Arc::unwrap_or_clone(o)),
                None => self.entries.push(o),
            }
        }
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

    /// Replaces this entry's value with `o`'s, merging blocks key by key.
    pub fn override_with(&mut self, o: MEntry) {
        let MEntry {
            key_span,
            name_span,
            doc,
            value,
            block,
            span,
            dotted,
            is_param,
            ..
        } = o;
        match (&mut self.block, block) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine, Some(theirs)) => *mine = Some(theirs),
            (mine, None) => {
                // A plain field replaces a block entirely; a named field's new value keeps
                // the block of options.
                if !matches!(self.key, MKey::Named(..)) || value.is_none() {
                    *mine = None;
                }
            }
        }
        if value.is_some() {
            self.value = value;
        } else if !matches!(self.key, MKey::Named(..)) {
            self.value = None;
        }
        self.key_span = key_span;
        self.name_span = name_span.or(self.name_span);
        self.doc = doc.or(self.doc.take());
        self.span = span;
        self.dotted = dotted;
        self.is_param = is_param;
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
