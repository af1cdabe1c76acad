//! `sorchac fmt`: the one canonical layout of a `.sorcha` file. Two-space indentation,
//! one entry per line, `=` aligned within a run of consecutive fields, one blank line
//! between declarations (at most one anywhere), trailing commas in multi-line lists and
//! calls. Comments and doc comments are kept exactly as written; strings, numbers and
//! names are copied from the source, so formatting never changes what a program means.
//! A list, call or block written on one line stays on one line, and one written over
//! several lines stays that way, so formatting twice changes nothing.

use crate::diag::{Code, Diagnostic, Severity};
use crate::source::{SourceId, Span};
use crate::syntax::ast::*;
use crate::syntax::parse_file;

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FmtError {
    /// The file does not parse.
    Syntax(Vec<Diagnostic>),
    /// A comment sits where the layout has no place for it (inside an entry).
    Comment(Span),
}

/// The file in its canonical layout.
pub fn format(source: SourceId, text: &str) -> Result<String, FmtError> {
    let (file, diags) = parse_file(source, text);
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(FmtError::Syntax(diags));
    }
    let comments = scan_comments(text);
    let mut p = Printer {
        src: text,
        comments: &comments,
        next: 0,
        out: String::with_capacity(text.len() + text.len() / 8),
        indent: 0,
        last: 0,
    };
    p.file(&file);
    let out = p.out;
    // Every comment must come out, in order, exactly as written.
    let kept: Vec<&str> = scan_comments(&out).iter().map(|c| &out[c.0..c.1]).collect();
    let had: Vec<&str> = comments.iter().map(|c| &text[c.0..c.1]).collect();
    if kept != had {
        let lost = comments
            .iter()
            .zip(kept.iter().chain(std::iter::repeat(&"")))
            .find(|(c, k)| &text[c.0..c.1] != **k)
            .map_or(comments.first().copied().unwrap_or((0, 0)), |(c, _)| *c);
        return Err(FmtError::Comment(Span::new(source, lost.0, lost.1)));
    }
    // Never hand back text that does not parse.
    let (_, again) = parse_file(source, &out);
    if again.iter().any(|d| d.severity == Severity::Error) {
        return Err(FmtError::Syntax(again));
    }
    Ok(out)
}

/// The diagnostic for a comment the layout has no place for.
pub fn comment_diagnostic(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::SYNTAX,
        span,
        "this comment is inside an entry, where the formatter cannot keep it in place",
    )
    .with_help("move the comment to its own line, or to the end of the entry's line")
}

/// The comments of a file, as byte ranges, in order: `//` to the end of the line and
/// `/* … */` (nested); text inside strings is not a comment.
pub fn scan_comments(text: &str) -> Vec<(usize, usize)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Code,
        Str,
        Triple,
    }
    let b = text.as_bytes();
    let mut out = Vec::new();
    // Each `${` inside a string opens code until its `}`: a stack of what to go back to.
    let mut stack: Vec<(Mode, usize)> = Vec::new();
    let mut mode = Mode::Code;
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match mode {
            Mode::Code => {
                if b[i..].starts_with(b"//") {
                    let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                    out.push((i, end));
                    i = end;
                    continue;
                }
                if b[i..].starts_with(b"/*") {
                    let mut nest = 0usize;
                    let mut j = i;
                    while j < b.len() {
                        if b[j..].starts_with(b"/*") {
                            nest += 1;
                            j += 2;
                        } else if b[j..].starts_with(b"*/") {
                            nest -= 1;
                            j += 2;
                            if nest == 0 {
                                break;
                            }
                        } else {
                            j += 1;
                        }
                    }
                    out.push((i, j.min(b.len())));
                    i = j;
                    continue;
                }
                if b[i..].starts_with(b"\"\"\"") {
                    mode = Mode::Triple;
                    i += 3;
                    continue;
                }
                match b[i] {
                    b'"' => mode = Mode::Str,
                    b'{' => depth += 1,
                    b'}' => {
                        if let Some(&(back, d)) = stack.last()
                            && d == depth
                        {
                            stack.pop();
                            mode = back;
                        } else {
                            depth = depth.saturating_sub(1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Mode::Str | Mode::Triple => {
                if b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i..].starts_with(b"${") {
                    stack.push((mode, depth));
                    mode = Mode::Code;
                    i += 2;
                    continue;
                }
                if mode == Mode::Triple && b[i..].starts_with(b"\"\"\"") {
                    mode = Mode::Code;
                    i += 3;
                    continue;
                }
                if mode == Mode::Str && (b[i] == b'"' || b[i] == b'\n') {
                    mode = Mode::Code;
                }
                i += 1;
            }
        }
    }
    out
}

struct Printer<'a> {
    src: &'a str,
    comments: &'a [(usize, usize)],
    /// The next comment to place.
    next: usize,
    out: String,
    indent: usize,
    /// Where the source text already accounted for ends.
    last: usize,
}

fn lo(s: Span) -> usize {
    s.start as usize
}

fn hi(s: Span) -> usize {
    s.end as usize
}

impl Printer<'_> {
    /// The source of a node, without what the parser took in after it.
    fn text(&self, span: Span) -> &str {
        self.src.get(lo(span)..self.code_end(span)).unwrap_or("")
    }

    fn pad(&mut self) {
        for _ in 0..self.indent {
            self.out.push(' ');
        }
    }

    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
    }

    /// Whether the source between two offsets holds an empty line.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let gap = self.src.get(from..to).unwrap_or("");
        let mut newlines = 0;
        for c in gap.chars() {
            match c {
                '\n' => {
                    newlines += 1;
                    if newlines >= 2 {
                        return true;
                    }
                }
                c if c.is_whitespace() => {}
                _ => newlines = 0,
            }
        }
        false
    }

    /// Whether a comment starts a line of its own.
    fn own_line(&self, c: (usize, usize)) -> bool {
        let line_start = self.src[..c.0].rfind('\n').map_or(0, |n| n + 1);
        self.src[line_start..c.0].trim().is_empty()
    }

    /// Places the comments before `pos`: those that end a line of code after it, the
    /// others on their own lines (with the blank lines before them kept, at most one).
    /// `blank_ok` says whether an empty line may come first.
    fn comments_before(&mut self, pos: usize, blank_ok: bool) -> bool {
        let mut placed = false;
        while let Some(&c) = self.comments.get(self.next) {
            if c.0 >= pos {
                break;
            }
            self.next += 1;
            let text = &self.src[c.0..c.1];
            if !self.own_line(c) && !self.out.is_empty() {
                // Trailing: back onto the line it ended.
                while self.out.ends_with('\n') {
                    self.out.pop();
                }
                self.out.push(' ');
                self.out.push_str(text.trim_end());
                self.out.push('\n');
            } else {
                if (blank_ok || placed)
                    && self.blank_between(self.last, c.0)
                    && !self.out.is_empty()
                {
                    self.newline();
                }
                self.pad();
                self.out.push_str(text.trim_end());
                self.newline();
                placed = true;
            }
            self.last = c.1;
        }
        placed
    }

    /// Starts a line for a node at `start`: comments before it, a kept blank line.
    fn start_line(&mut self, start: usize, blank_ok: bool) {
        let placed = self.comments_before(start, blank_ok);
        if (blank_ok || placed) && self.blank_between(self.last, start) && !self.out.is_empty() {
            self.newline();
        }
        self.pad();
    }

    /// Where the code of a node starts: after the doc comments its span begins with.
    fn code_start(&self, span: Span) -> usize {
        let mut pos = lo(span);
        loop {
            let rest = self.src.get(pos..hi(span)).unwrap_or("");
            let ws = rest.len() - rest.trim_start().len();
            pos += ws;
            match self.comments.iter().find(|c| c.0 == pos) {
                Some(c) => pos = c.1,
                None => return pos,
            }
        }
    }

    /// Where the code of a node ends: before the whitespace and comments the parser
    /// takes in after an optional part that was not there.
    fn code_end(&self, span: Span) -> usize {
        let mut pos = hi(span);
        loop {
            let before = self.src.get(lo(span)..pos).unwrap_or("");
            pos = lo(span) + before.trim_end().len();
            match self.comments.iter().find(|c| c.1 == pos && c.0 >= lo(span)) {
                Some(c) => pos = c.0,
                None => return pos,
            }
        }
    }

    fn has_comment_in(&self, span: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.0 >= lo(span) && c.0 < hi(span))
    }

    fn multi_line(&self, span: Span) -> bool {
        self.text(span).contains('\n') || self.has_comment_in(span)
    }

    // ---- files and items ---------------------------------------------------------

    fn file(&mut self, f: &File) {
        let mut prev: Option<&Item> = None;
        for item in &f.items {
            let start = self.code_start(item_span(item));
            let together = matches!(
                (prev, item),
                (
                    Some(Item::Use(_) | Item::Import(_)),
                    Item::Use(_) | Item::Import(_)
                )
            );
            if prev.is_some() {
                if together {
                    let placed = self.comments_before(start, true);
                    if (placed || self.blank_between(self.last, start))
                        && !self.out.ends_with("\n\n")
                    {
                        self.newline();
                    }
                } else {
                    self.newline();
                    self.comments_before(start, false);
                }
            } else {
                self.comments_before(start, false);
            }
            self.pad();
            self.item(item);
            self.newline();
            self.last = self.code_end(item_span(item));
            prev = Some(item);
        }
        // Comments after the last item.
        if self.next < self.comments.len() {
            if self.blank_between(self.last, self.comments[self.next].0) {
                self.newline();
            }
            self.comments_before(self.src.len() + 1, true);
        }
        if self.out.is_empty() {
            return;
        }
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Use(u) => {
                self.out.push_str("use ");
                let t = self.text(u.path.span).to_string();
                self.out.push_str(&t);
                self.last = hi(u.span);
            }
            Item::Import(i) => {
                self.out.push_str("import ");
                let t = self.text(i.path.span).to_string();
                self.out.push_str(&t);
                self.last = hi(i.span);
            }
            Item::Template(t) => {
                let head = format!(
                    "template {} for {}{}",
                    t.name.name,
                    t.kind.name,
                    t.base
                        .as_ref()
                        .map(|b| format!(" : {}", self.text(b.span)))
                        .unwrap_or_default()
                );
                self.out.push_str(&head);
                self.block(&t.body, t.span);
            }
            Item::Decl(d) => {
                let head = format!(
                    "{} {}{}",
                    d.kind.name,
                    d.name.name,
                    d.template
                        .as_ref()
                        .map(|t| format!(" : {}", self.text(t.span)))
                        .unwrap_or_default()
                );
                self.out.push_str(&head);
                self.block(&d.body, d.span);
            }
        }
    }

    // ---- blocks and entries ------------------------------------------------------

    /// ` { … }` after a header; `whole` is the span of what the block closes.
    fn block(&mut self, b: &Block, whole: Span) {
        if b.entries.is_empty() && !self.has_comment_in(b.span) {
            self.out.push_str(" {}");
            self.last = hi(whole).max(hi(b.span));
            return;
        }
        if self.one_line(b) {
            self.out.push_str(" { ");
            let parts: Vec<String> = b.entries.iter().map(|e| self.simple_entry(e)).collect();
            self.out.push_str(&parts.join("  "));
            self.out.push_str(" }");
            self.last = hi(b.span);
            return;
        }
        self.out.push_str(" {");
        self.newline();
        self.last = lo(b.span) + 1;
        self.indent += 2;
        let widths = self.alignment(b);
        for (i, e) in b.entries.iter().enumerate() {
            let start = self.code_start(e.span);
            self.start_line(start, i > 0);
            self.entry(e, widths[i]);
            self.newline();
            self.last = self.code_end(e.span);
        }
        // Comments before the closing brace.
        let close = hi(b.span).saturating_sub(1);
        self.comments_before(close, true);
        self.indent -= 2;
        self.pad();
        self.out.push('}');
        self.last = hi(b.span);
    }

    /// Whether a block stays on one line: written on one, without comments, and made of
    /// plain fields.
    fn one_line(&self, b: &Block) -> bool {
        !self.multi_line(b.span)
            && b.entries.iter().all(|e| {
                matches!(
                    e.kind,
                    EntryKind::Field { .. }
                        | EntryKind::NamedField { block: None, .. }
                        | EntryKind::Mount { .. }
                )
            })
    }

    fn simple_entry(&self, e: &Entry) -> String {
        match &e.kind {
            EntryKind::Field { key, value } => {
                format!("{} = {}", self.text(key.span), self.inline_expr(value))
            }
            EntryKind::NamedField {
                key, name, value, ..
            } => {
                format!("{} {} = {}", key.name, name.name, self.inline_expr(value))
            }
            EntryKind::Mount { target, at } => {
                format!("mount {} at {}", self.text(target.span), self.text(at.span))
            }
            _ => self.text(e.span).to_string(),
        }
    }

    /// The key width each entry's `=` is aligned to: runs of consecutive one-line
    /// fields, broken by blank lines, comments and anything else.
    fn alignment(&self, b: &Block) -> Vec<usize> {
        let mut widths = vec![0; b.entries.len()];
        let mut run: Vec<usize> = Vec::new();
        let mut prev_end = lo(b.span) + 1;
        let flush = |run: &mut Vec<usize>, widths: &mut Vec<usize>, b: &Block, s: &Self| {
            let w = run
                .iter()
                .filter_map(|i| s.field_key(&b.entries[*i]))
                .map(|k| k.chars().count())
                .max()
                .unwrap_or(0);
            for i in run.drain(..) {
                widths[i] = w;
            }
        };
        for (i, e) in b.entries.iter().enumerate() {
            let start = self.code_start(e.span);
            let breaks = self.blank_between(prev_end, start)
                || self
                    .comments
                    .iter()
                    .any(|c| c.0 >= prev_end && c.0 < start && self.own_line(*c));
            let aligned = self.field_key(e).is_some() && !self.value_multi_line(e);
            if breaks || !aligned {
                flush(&mut run, &mut widths, b, self);
            }
            if aligned {
                run.push(i);
            }
            prev_end = self.code_end(e.span);
        }
        flush(&mut run, &mut widths, b, self);
        widths
    }

    fn field_key(&self, e: &Entry) -> Option<String> {
        match &e.kind {
            EntryKind::Field { key, .. } => Some(self.text(key.span).to_string()),
            EntryKind::NamedField {
                key,
                name,
                block: None,
                ..
            } => Some(format!("{} {}", key.name, name.name)),
            _ => None,
        }
    }

    fn value_multi_line(&self, e: &Entry) -> bool {
        match &e.kind {
            EntryKind::Field { value, .. } | EntryKind::NamedField { value, .. } => {
                self.multi_line(value.span)
            }
            _ => true,
        }
    }

    fn entry(&mut self, e: &Entry, width: usize) {
        match &e.kind {
            EntryKind::Field { key, value } => {
                let k = self.text(key.span).to_string();
                self.key_eq(&k, width);
                self.expr(value);
            }
            EntryKind::NamedField {
                key,
                name,
                value,
                block,
            } => {
                let k = format!("{} {}", key.name, name.name);
                self.key_eq(&k, width);
                self.expr(value);
                if let Some(b) = block {
                    self.block(b, e.span);
                }
            }
            EntryKind::Block { key, block } => {
                let k = self.text(key.span).to_string();
                self.out.push_str(&k);
                self.block(block, e.span);
            }
            EntryKind::NamedBlock { key, name, block } => {
                let k = format!("{} {}", key.name, name.name);
                self.out.push_str(&k);
                self.block(block, e.span);
            }
            EntryKind::Route {
                path,
                target,
                block,
            } => {
                let head = format!("route {} -> ", self.text(path.span));
                self.out.push_str(&head);
                self.expr(target);
                if let Some(b) = block {
                    self.block(b, e.span);
                }
            }
            EntryKind::Mount { target, at } => {
                let t = format!("mount {} at {}", self.text(target.span), self.text(at.span));
                self.out.push_str(&t);
            }
            EntryKind::Param { name, ty, default } => {
                let t = format!("param {}: {}", name.name, self.text(ty.span));
                self.out.push_str(&t);
                if let Some(d) = default {
                    self.out.push_str(" = ");
                    self.expr(d);
                }
            }
        }
    }

    fn key_eq(&mut self, key: &str, width: usize) {
        self.out.push_str(key);
        for _ in key.chars().count()..width {
            self.out.push(' ');
        }
        self.out.push_str(" = ");
    }

    // ---- expressions -------------------------------------------------------------

    /// An expression on one line.
    fn inline_expr(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Range(a, b) => format!("{}..{}", self.inline_expr(a), self.inline_expr(b)),
            ExprKind::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| self.inline_expr(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ExprKind::Call { name, args } => format!(
                "{}({})",
                name.name,
                args.iter()
                    .map(|a| self.inline_arg(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => self.text(e.span).to_string(),
        }
    }

    fn inline_arg(&self, a: &Arg) -> String {
        match &a.name {
            Some(n) => format!("{}: {}", n.name, self.inline_expr(&a.value)),
            None => self.inline_expr(&a.value),
        }
    }

    /// Whether a list or call was written over several lines: a line break or a comment
    /// between its items (not inside them).
    fn vertical(&self, e: &Expr) -> bool {
        let inner: Vec<Span> = match &e.kind {
            ExprKind::List(items) => items.iter().map(|i| i.span).collect(),
            ExprKind::Call { args, .. } => args
                .iter()
                .map(|a| {
                    a.name
                        .as_ref()
                        .map_or(a.value.span, |n| n.span.to(a.value.span))
                })
                .collect(),
            _ => return false,
        };
        let open = match &e.kind {
            ExprKind::Call { name, .. } => hi(name.span) + 1,
            _ => lo(e.span) + 1,
        };
        let close = self.code_end(e.span).saturating_sub(1);
        let mut at = open;
        for s in inner
            .iter()
            .chain(std::iter::once(&Span::new(e.span.source, close, close)))
        {
            let gap = self.src.get(at..lo(*s)).unwrap_or("");
            if gap.contains('\n') || self.comments.iter().any(|c| c.0 >= at && c.0 < lo(*s)) {
                return true;
            }
            at = self.code_end(*s).max(lo(*s));
        }
        false
    }

    /// An expression at the current position: lists and calls written over several
    /// lines stay so, one item per line with a trailing comma.
    fn expr(&mut self, e: &Expr) {
        if !self.vertical(e) {
            let t = self.inline_expr(e);
            self.out.push_str(&t);
            self.last = hi(e.span);
            return;
        }
        match &e.kind {
            ExprKind::List(items) => {
                self.out.push('[');
                self.items(items.iter().map(|i| (None, i)), e.span);
                self.out.push(']');
            }
            ExprKind::Call { name, args } => {
                self.out.push_str(&name.name);
                self.out.push('(');
                self.items(args.iter().map(|a| (a.name.as_ref(), &a.value)), e.span);
                self.out.push(')');
            }
            _ => {
                // Strings (triple-quoted ones included) and the rest, as written.
                let t = self.text(e.span).to_string();
                self.out.push_str(&t);
            }
        }
        self.last = hi(e.span);
    }

    fn items<'e>(
        &mut self,
        items: impl Iterator<Item = (Option<&'e Ident>, &'e Expr)>,
        whole: Span,
    ) {
        self.newline();
        self.last = lo(whole) + 1;
        self.indent += 2;
        for (i, (name, value)) in items.enumerate() {
            self.start_line(
                lo(value.span).min(name.map_or(usize::MAX, |n| lo(n.span))),
                i > 0,
            );
            if let Some(n) = name {
                self.out.push_str(&n.name);
                self.out.push_str(": ");
            }
            self.expr(value);
            self.out.push(',');
            self.newline();
        }
        self.comments_before(hi(whole).saturating_sub(1), true);
        self.indent -= 2;
        self.pad();
    }
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Use(u) => u.span,
        Item::Import(i) => i.span,
        Item::Template(t) => t.span,
        Item::Decl(d) => d.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> String {
        match format(SourceId(0), s) {
            Ok(t) => t,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn comments_are_found_outside_strings_only() {
        let s = "a = \"// not ${x(\"/* no */\")}\" // yes\n/* b /* nested */ */";
        let c: Vec<&str> = scan_comments(s).iter().map(|c| &s[c.0..c.1]).collect();
        assert_eq!(c, vec!["// yes", "/* b /* nested */ */"]);
    }

    #[test]
    fn layout_is_canonical_and_stable() {
        let messy = "use std.postgres\n\n\n/// The API.\nservice api {\n    image =\"api:1\"\n  port http=8080\n\n  cpu=250m..1 // requests..limits\n  scale {min=2 max=3}\n  calls = [\n    db,\n    cache\n  ]\n}\nplatform p { namespace = \"p\" }\n";
        let once = fmt(messy);
        assert_eq!(
            once,
            "use std.postgres\n\n/// The API.\nservice api {\n  image     = \"api:1\"\n  port http = 8080\n\n  cpu = 250m..1 // requests..limits\n  scale { min = 2  max = 3 }\n  calls = [\n    db,\n    cache,\n  ]\n}\n\nplatform p { namespace = \"p\" }\n"
        );
        assert_eq!(fmt(&once), once);
    }
}
