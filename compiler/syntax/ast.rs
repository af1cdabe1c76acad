//! The spanned syntax tree of one `.sorcha` file, as written: no names resolved, no
//! templates merged. Every node carries the span of the text it came from.

use crate::source::{SourceId, Span};

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A dotted name: `std.postgres`, `wallet.http`, `db-admin.password`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    /// The path as written, segments joined with `.`.
    pub fn dotted(&self) -> String {
        let mut s = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                s.push('.');
            }
            s.push_str(&seg.name);
        }
        s
    }
}

/// One parsed file.
#[derive(Clone, Debug, Default)]
pub struct File {
    pub source: SourceId,
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug)]
pub enum Item {
    /// `use std.postgres`
    Use(UseDecl),
    /// `import "services/peer.sorcha"`
    Import(ImportDecl),
    /// `template dotnet-api for service { ... }`
    Template(TemplateDecl),
    /// `KIND NAME [: TEMPLATE] { ... }`, including `env NAME { ... }` and `platform`.
    Decl(Decl),
}

#[derive(Clone, Debug)]
pub struct UseDecl {
    pub doc: Option<String>,
    pub path: Path,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ImportDecl {
    pub doc: Option<String>,
    pub path: StrLit,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TemplateDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub kind: Ident,
    /// The template this one extends: `template sorcha-api for service : std.dotnet-api`.
    pub base: Option<Path>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Decl {
    pub doc: Option<String>,
    pub kind: Ident,
    pub name: Ident,
    pub template: Option<Path>,
    pub body: Block,
    pub span: Span,
}

/// `{ entries }`
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub entries: Vec<Entry>,
    pub span: Span,
}

/// One entry of a block, with its doc comment.
#[derive(Clone, Debug)]
pub struct Entry {
    pub doc: Option<String>,
    pub kind: EntryKind,
    pub span: Span,
}

/// One segment of a key: a name, or a quoted string (`"appsettings.json"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySeg {
    pub name: String,
    pub span: Span,
    pub quoted: bool,
}

/// A key: one segment, or a dotted path (only meaningful in `env` blocks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub segments: Vec<KeySeg>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum EntryKind {
    /// `key = expr`
    Field { key: Key, value: Expr },
    /// `key { ... }`
    Block { key: Key, block: Block },
    /// `key NAME = expr [{ ... }]`
    NamedField {
        key: Ident,
        name: Ident,
        value: Expr,
        block: Option<Block>,
    },
    /// `key NAME { ... }`
    NamedBlock {
        key: Ident,
        name: Ident,
        block: Block,
    },
    /// `route "PATH" -> expr [{ ... }]`
    Route {
        path: StrLit,
        target: Expr,
        block: Option<Block>,
    },
    /// `mount REF at "PATH"`
    Mount { target: Path, at: StrLit },
    /// `param NAME: TYPE [= expr]` (templates only)
    Param {
        name: Ident,
        ty: TypeExpr,
        default: Option<Expr>,
    },
}

/// A parameter type: `string`, `secret?`, `[string]`.
#[derive(Clone, Debug)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub optional: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TypeExprKind {
    Named(Ident),
    List(Box<TypeExpr>),
}

/// A string literal: text pieces and `${}` interpolations.
#[derive(Clone, Debug)]
pub struct StrLit {
    pub parts: Vec<StrPart>,
    pub span: Span,
}

impl StrLit {
    /// The text when the literal has no interpolation.
    pub fn as_plain(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                StrPart::Text(t, _) => s.push_str(t),
                StrPart::Interp(_) => return None,
            }
        }
        Some(s)
    }
}

#[derive(Clone, Debug)]
pub enum StrPart {
    /// Literal text (escapes already decoded) and the span it was written at.
    Text(String, Span),
    Interp(Expr),
}

/// A number as written: mantissa digits, an optional fraction and an optional unit
/// (`%` included). Its meaning comes from the type the context expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumLit {
    pub int: String,
    pub frac: Option<String>,
    pub unit: Option<String>,
}

impl NumLit {
    /// The number and unit as written.
    pub fn text(&self) -> String {
        let mut s = self.int.clone();
        if let Some(f) = &self.frac {
            s.push('.');
            s.push_str(f);
        }
        if let Some(u) = &self.unit {
            s.push_str(u);
        }
        s
    }
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Str(StrLit),
    Num(NumLit),
    Bool(bool),
    Range(Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Ref(Path),
    Call { name: Ident, args: Vec<Arg> },
}

/// A call argument, positional or `name: value`.
#[derive(Clone, Debug)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

/// Moving a tree parsed from one piece of text to where that text now is: every span
/// gets `source` and is shifted `by` bytes. The language server keeps the trees of
/// unchanged declarations between edits and moves them instead of parsing them again.
pub trait Relocate {
    fn relocate(&mut self, source: SourceId, by: u32);
}

impl Relocate for Span {
    fn relocate(&mut self, source: SourceId, by: u32) {
        self.source = source;
        self.start = self.start.saturating_add(by);
        self.end = self.end.saturating_add(by);
    }
}

impl<T: Relocate> Relocate for Option<T> {
    fn relocate(&mut self, source: SourceId, by: u32) {
        if let Some(x) = self {
            x.relocate(source, by);
        }
    }
}

impl<T: Relocate> Relocate for Vec<T> {
    fn relocate(&mut self, source: SourceId, by: u32) {
        for x in self {
            x.relocate(source, by);
        }
    }
}

impl<T: Relocate> Relocate for Box<T> {
    fn relocate(&mut self, source: SourceId, by: u32) {
        (**self).relocate(source, by);
    }
}

impl Relocate for Ident {
    fn relocate(&mut self, source: SourceId, by: u32) {
        self.span.relocate(source, by);
    }
}

impl Relocate for Path {
    fn relocate(&mut self, source: SourceId, by: u32) {
        self.segments.relocate(source, by);
        self.span.relocate(source, by);
    }
}

impl Relocate for Item {
    fn relocate(&mut self, source: SourceId, by: u32) {
        // Destructured in full, so that a new field cannot be forgotten here.
        match self {
            Item::Use(UseDecl { doc: _, path, span }) => {
                path.relocate(source, by);
                span.relocate(source, by);
            }
            Item::Import(ImportDecl { doc: _, path, span }) => {
                path.relocate(source, by);
                span.relocate(source, by);
            }
            Item::Template(TemplateDecl {
                doc: _,
                name,
                kind,
                base,
                body,
                span,
            }) => {
                name.relocate(source, by);
                kind.relocate(source, by);
                base.relocate(source, by);
                body.relocate(source, by);
                span.relocate(source, by);
            }
            Item::Decl(Decl {
                doc: _,
                kind,
                name,
                template,
                body,
                span,
            }) => {
                kind.relocate(source, by);
                name.relocate(source, by);
                template.relocate(source, by);
                body.relocate(source, by);
                span.relocate(source, by);
            }
        }
    }
}

impl Relocate for Block {
    fn relocate(&mut self, source: SourceId, by: u32) {
        self.entries.relocate(source, by);
        self.span.relocate(source, by);
    }
}

impl Relocate for Entry {
    fn relocate(&mut self, source: SourceId, by: u32) {
        let Entry { doc: _, kind, span } = self;
        kind.relocate(source, by);
        span.relocate(source, by);
    }
}

impl Relocate for KeySeg {
    fn relocate(&mut self, source: SourceId, by: u32) {
        let KeySeg {
            name: _,
            span,
            quoted: _,
        } = self;
        span.relocate(source, by);
    }
}

impl Relocate for Key {
    fn relocate(&mut self, source: SourceId, by: u32) {
        self.segments.relocate(source, by);
        self.span.relocate(source, by);
    }
}

impl Relocate for EntryKind {
    fn relocate(&mut self, source: SourceId, by: u32) {
        match self {
            EntryKind::Field { key, value } => {
                key.relocate(source, by);
                value.relocate(source, by);
            }
            EntryKind::Block { key, block } => {
                key.relocate(source, by);
                block.relocate(source, by);
            }
            EntryKind::NamedField {
                key,
                name,
                value,
                block,
            } => {
                key.relocate(source, by);
                name.relocate(source, by);
                value.relocate(source, by);
                block.relocate(source, by);
            }
            EntryKind::NamedBlock { key, name, block } => {
                key.relocate(source, by);
                name.relocate(source, by);
                block.relocate(source, by);
            }
            EntryKind::Route {
                path,
                target,
                block,
            } => {
                path.relocate(source, by);
                target.relocate(source, by);
                block.relocate(source, by);
            }
            EntryKind::Mount { target, at } => {
                target.relocate(source, by);
                at.relocate(source, by);
            }
            EntryKind::Param { name, ty, default } => {
                name.relocate(source, by);
                ty.relocate(source, by);
                default.relocate(source, by);
            }
        }
    }
}

impl Relocate for TypeExpr {
    fn relocate(&mut self, source: SourceId, by: u32) {
        match &mut self.kind {
            TypeExprKind::Named(n) => n.relocate(source, by),
            TypeExprKind::List(t) => t.relocate(source, by),
        }
        self.span.relocate(source, by);
    }
}

impl Relocate for StrLit {
    fn relocate(&mut self, source: SourceId, by: u32) {
        self.parts.relocate(source, by);
        self.span.relocate(source, by);
    }
}

impl Relocate for StrPart {
    fn relocate(&mut self, source: SourceId, by: u32) {
        match self {
            StrPart::Text(_, span) => span.relocate(source, by),
            StrPart::Interp(e) => e.relocate(source, by),
        }
    }
}

impl Relocate for Expr {
    fn relocate(&mut self, source: SourceId, by: u32) {
        match &mut self.kind {
            ExprKind::Str(s) => s.relocate(source, by),
            ExprKind::Num(_) | ExprKind::Bool(_) => {}
            ExprKind::Range(a, b) => {
                a.relocate(source, by);
                b.relocate(source, by);
            }
            ExprKind::List(items) => items.relocate(source, by),
            ExprKind::Ref(p) => p.relocate(source, by),
            ExprKind::Call { name, args } => {
                name.relocate(source, by);
                args.relocate(source, by);
            }
        }
        self.span.relocate(source, by);
    }
}

impl Relocate for Arg {
    fn relocate(&mut self, source: SourceId, by: u32) {
        self.name.relocate(source, by);
        self.value.relocate(source, by);
    }
}
