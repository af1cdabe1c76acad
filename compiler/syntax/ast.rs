//! The spanned syntax tree of one `.sorcha` file, as written: no names resolved, no
//! templates merged. Every node carries the span of the text it came from.

use crate::source::{SourceId, Span, Spans};

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

/// The path as written, segments joined with `.`.
impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&seg.name)?;
        }
        Ok(())
    }
}

impl Path {
    /// The path as written, segments joined with `.`.
    pub fn dotted(&self) -> String {
        self.to_string()
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
    /// The paths the body reads with `file("…")`, in order (found as it is parsed).
    pub file_calls: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Decl {
    pub doc: Option<String>,
    pub kind: Ident,
    pub name: Ident,
    pub template: Option<Path>,
    pub body: Block,
    /// The body in keyed form, made between edits by the language server's parse cache
    /// ([`crate::syntax::ParseCache::prepare`]); `body.entries` is then empty.
    pub keyed: Option<Box<crate::syntax::keyed::Keyed>>,
    /// The paths the body reads with `file("…")`, in order (found as it is parsed, so
    /// on all cores: loading reads those files).
    pub file_calls: Vec<String>,
    pub span: Span,
}

/// `{ entries }`
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub entries: Vec<Entry>,
    pub span: Span,
}

impl Block {
    /// The paths this block reads with `file("…")`, in order.
    pub fn file_calls(&self, out: &mut Vec<String>) {
        for e in &self.entries {
            match &e.kind {
                EntryKind::Field { value, .. } => expr_file_calls(value, out),
                EntryKind::Block { block, .. } | EntryKind::NamedBlock { block, .. } => {
                    block.file_calls(out)
                }
                EntryKind::NamedField { value, block, .. } => {
                    expr_file_calls(value, out);
                    if let Some(b) = block {
                        b.file_calls(out);
                    }
                }
                EntryKind::Param {
                    default: Some(v), ..
                } => expr_file_calls(v, out),
                _ => {}
            }
        }
    }
}

fn expr_file_calls(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Call { name, args } => {
            if name.name == "file"
                && let Some(Arg { value, .. }) = args.first()
                && let ExprKind::Str(s) = &value.kind
                && let Some(p) = s.as_plain()
            {
                out.push(p);
            }
            for a in args {
                expr_file_calls(&a.value, out);
            }
        }
        ExprKind::List(items) => items.iter().for_each(|i| expr_file_calls(i, out)),
        _ => {}
    }
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
/// (`%` included). Its meaning comes from the type the context expects. Held as its text
/// and where its parts end, one string for the whole literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumLit {
    text: String,
    /// End of the whole digits.
    int_end: u32,
    /// End of the mantissa: the whole digits, and a `.` and the fraction's if any.
    num_end: u32,
}

impl NumLit {
    /// Splits a literal as the grammar's `number` matches it: digits, optionally `.` and
    /// digits, then the unit.
    pub fn new(text: &str) -> NumLit {
        let digits = |from: usize| {
            text[from..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(text.len(), |i| from + i)
        };
        let int_end = digits(0);
        let num_end = if text[int_end..].starts_with('.') {
            digits(int_end + 1)
        } else {
            int_end
        };
        let at = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        NumLit {
            text: text.to_string(),
            int_end: at(int_end),
            num_end: at(num_end),
        }
    }

    /// The whole digits: `1` of `1.5Gi`.
    pub fn int(&self) -> &str {
        self.text.get(..self.int_end as usize).unwrap_or("")
    }

    /// The fraction's digits: `5` of `1.5Gi`.
    pub fn frac(&self) -> Option<&str> {
        let (i, n) = (self.int_end as usize, self.num_end as usize);
        (n > i).then(|| self.text.get(i + 1..n).unwrap_or(""))
    }

    /// The unit: `Gi` of `1.5Gi`, `%` of `70%`.
    pub fn unit(&self) -> Option<&str> {
        let u = self.text.get(self.num_end as usize..).unwrap_or("");
        (!u.is_empty()).then_some(u)
    }

    /// The number and unit as written.
    pub fn text(&self) -> &str {
        &self.text
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

impl Spans for Ident {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        self.span.each_span(f);
    }
}

impl Spans for Path {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        self.segments.each_span(f);
        self.span.each_span(f);
    }
}

impl Spans for Item {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        // Destructured in full, so that a new field cannot be forgotten here.
        match self {
            Item::Use(UseDecl { doc: _, path, span }) => {
                path.each_span(f);
                span.each_span(f);
            }
            Item::Import(ImportDecl { doc: _, path, span }) => {
                path.each_span(f);
                span.each_span(f);
            }
            Item::Template(TemplateDecl {
                doc: _,
                name,
                kind,
                base,
                body,
                file_calls: _,
                span,
            }) => {
                name.each_span(f);
                kind.each_span(f);
                base.each_span(f);
                body.each_span(f);
                span.each_span(f);
            }
            Item::Decl(Decl {
                doc: _,
                kind,
                name,
                template,
                body,
                keyed,
                file_calls: _,
                span,
            }) => {
                kind.each_span(f);
                name.each_span(f);
                template.each_span(f);
                body.each_span(f);
                keyed.each_span(f);
                span.each_span(f);
            }
        }
    }
}

impl Spans for Block {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        self.entries.each_span(f);
        self.span.each_span(f);
    }
}

impl Spans for Entry {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        let Entry { doc: _, kind, span } = self;
        kind.each_span(f);
        span.each_span(f);
    }
}

impl Spans for KeySeg {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        let KeySeg {
            name: _,
            span,
            quoted: _,
        } = self;
        span.each_span(f);
    }
}

impl Spans for Key {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        self.segments.each_span(f);
        self.span.each_span(f);
    }
}

impl Spans for EntryKind {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        match self {
            EntryKind::Field { key, value } => {
                key.each_span(f);
                value.each_span(f);
            }
            EntryKind::Block { key, block } => {
                key.each_span(f);
                block.each_span(f);
            }
            EntryKind::NamedField {
                key,
                name,
                value,
                block,
            } => {
                key.each_span(f);
                name.each_span(f);
                value.each_span(f);
                block.each_span(f);
            }
            EntryKind::NamedBlock { key, name, block } => {
                key.each_span(f);
                name.each_span(f);
                block.each_span(f);
            }
            EntryKind::Route {
                path,
                target,
                block,
            } => {
                path.each_span(f);
                target.each_span(f);
                block.each_span(f);
            }
            EntryKind::Mount { target, at } => {
                target.each_span(f);
                at.each_span(f);
            }
            EntryKind::Param { name, ty, default } => {
                name.each_span(f);
                ty.each_span(f);
                default.each_span(f);
            }
        }
    }
}

impl Spans for TypeExpr {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        match &mut self.kind {
            TypeExprKind::Named(n) => n.each_span(f),
            TypeExprKind::List(t) => t.each_span(f),
        }
        self.span.each_span(f);
    }
}

impl Spans for StrLit {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        self.parts.each_span(f);
        self.span.each_span(f);
    }
}

impl Spans for StrPart {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        match self {
            StrPart::Text(_, span) => span.each_span(f),
            StrPart::Interp(e) => e.each_span(f),
        }
    }
}

impl Spans for Expr {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        match &mut self.kind {
            ExprKind::Str(s) => s.each_span(f),
            ExprKind::Num(_) | ExprKind::Bool(_) => {}
            ExprKind::Range(a, b) => {
                a.each_span(f);
                b.each_span(f);
            }
            ExprKind::List(items) => items.each_span(f),
            ExprKind::Ref(p) => p.each_span(f),
            ExprKind::Call { name, args } => {
                name.each_span(f);
                args.each_span(f);
            }
        }
        self.span.each_span(f);
    }
}

impl Spans for Arg {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        self.name.each_span(f);
        self.value.each_span(f);
    }
}
