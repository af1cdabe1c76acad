//! Text -> spanned AST. Parses chunk by chunk (see `chunk`), so one broken declaration
//! yields one E0001 and the rest of the file still parses. pest pairs never leave this
//! module; pest errors are turned into diagnostics with the expected tokens in words.

use foldhash::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::*;
use super::chunk::{self, chunk_starts};
use super::keyed::Keyed;
use crate::diag::{Code, Diagnostic};
use crate::source::{SourceId, Span, Spans};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/sorcha.pest"]
struct SorchaParser;

/// Deepest nesting of brackets the parser accepts; deeper input gets E0804.
pub const MAX_NESTING: usize = 128;

/// Parses a whole file. Never fails: broken chunks are left out and diagnosed.
pub fn parse_file(source: SourceId, text: &str) -> (File, Vec<Diagnostic>) {
    parse_file_cached(source, text, None)
}

/// The trees of each file's declarations from its last parse, by their text. A
/// keystroke changes one declaration; the language server parses that one again and
/// moves the others' trees to where they now are (see [`Spans::relocate`]).
#[derive(Default)]
pub struct ParseCache {
    files: Mutex<HashMap<String, Chunks>>,
    /// [`ParseCache::prepare`] is running.
    preparing: AtomicBool,
}

type Chunks = HashMap<Box<str>, Kept>;

/// Where a chunk's trees are: the file and the byte its text starts at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place {
    source: SourceId,
    at: u32,
}

/// Trees, and where they are.
type Placed = (Place, Vec<Item>);

/// The trees of one chunk.
#[derive(Clone)]
struct Kept {
    /// As parsed, where the chunk starts at 0 (at `origin`).
    trees: Arc<Vec<Item>>,
    origin: Place,
    /// A copy of `trees` made between edits ([`ParseCache::prepare`]), and where it
    /// is; the next parse that reuses the chunk takes it instead of copying the trees
    /// while the user waits.
    spare: Arc<Mutex<Option<Placed>>>,
    /// Where the last parse put the chunk, and how far it had moved since the parse
    /// before: the copy is made where the next parse will likely want it (typing moves
    /// the text after the cursor by the same amount at every keystroke), so that its
    /// spans need not be moved while the user waits.
    last: Arc<Mutex<(Place, i64)>>,
    /// Reused by the parse under way; what no parse reused is forgotten after it.
    used: Arc<AtomicBool>,
}

impl Kept {
    fn new(trees: Vec<Item>, at: Place) -> Kept {
        Kept {
            trees: Arc::new(trees),
            origin: Place {
                source: at.source,
                at: 0,
            },
            spare: Arc::default(),
            last: Arc::new(Mutex::new((at, 0))),
            used: Arc::default(),
        }
    }

    /// The trees, to own, at `to`: the spare copy when there is one.
    fn take(&self, to: Place) -> Vec<Item> {
        self.used.store(true, Ordering::Relaxed);
        let spare = self.spare.lock().ok().and_then(|mut s| s.take());
        let (from, mut trees) = spare.unwrap_or_else(|| (self.origin, self.trees.as_ref().clone()));
        if from != to {
            trees.shift(to.source, i64::from(to.at) - i64::from(from.at));
        }
        if let Ok(mut last) = self.last.lock() {
            let (p, _) = *last;
            let moved = if p.source == to.source {
                i64::from(to.at) - i64::from(p.at)
            } else {
                0
            };
            *last = (to, moved);
        }
        trees
    }

    /// Where the next parse will likely want the trees.
    fn next_place(&self) -> Place {
        match self.last.lock() {
            Ok(last) => {
                let (p, moved) = *last;
                Place {
                    source: p.source,
                    at: u32::try_from(i64::from(p.at) + moved).unwrap_or(p.at),
                }
            }
            Err(_) => self.origin,
        }
    }
}

impl ParseCache {
    /// Copies the kept trees that have no spare copy, so that the next parse finds
    /// them ready. The language server calls it on a thread of its own after it has
    /// answered an edit; a call while another is running returns at once.
    pub fn prepare(&self) {
        if self.preparing.swap(true, Ordering::AcqRel) {
            return;
        }
        let todo: Vec<Kept> = match self.files.lock() {
            Ok(files) => files
                .values()
                .flat_map(HashMap::values)
                .filter(|k| k.spare.lock().is_ok_and(|s| s.is_none()))
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        };
        for k in todo {
            let mut copy = k.trees.as_ref().clone();
            let place = k.next_place();
            copy.shift(place.source, i64::from(place.at));
            // Declarations' bodies are keyed now rather than while the user waits.
            copy.iter_mut().for_each(key_body);
            if let Ok(mut spare) = k.spare.lock()
                && spare.is_none()
            {
                *spare = Some((place, copy));
            }
        }
        self.preparing.store(false, Ordering::Release);
    }
}

/// Keys a declaration's body (`Keyed::of`, the form the resolver merges), leaving the
/// body empty; environments keep theirs: they are paths into other declarations.
fn key_body(item: &mut Item) {
    if let Item::Decl(d) = item
        && d.kind.name != "env"
    {
        d.keyed = Some(Box::new(Keyed::of(&mut d.body)));
    }
}

/// Like [`parse_file`], reusing from `cache` the trees of declarations of the file at
/// `path` whose text has not changed. The result is the same as without it.
pub fn parse_file_cached(
    source: SourceId,
    text: &str,
    cache: Option<(&ParseCache, &str)>,
) -> (File, Vec<Diagnostic>) {
    if cache.is_none()
        && let Some(parsed) = parse_unchunked(source, text, false)
    {
        return parsed;
    }
    parse_chunked(source, text, &chunk_starts(text), cache)
}

/// Like [`parse_file_cached`], with the chunks of `text` already found.
pub fn parse_chunked(
    source: SourceId,
    text: &str,
    starts: &[usize],
    cache: Option<(&ParseCache, &str)>,
) -> (File, Vec<Diagnostic>) {
    parse_chunks_of(source, text, starts, cache, false)
}

/// Like [`parse_chunked`] without a cache, for the resolver: each declaration's body
/// is also keyed ([`Keyed::of`]) on the thread that parsed it, instead of in a pass of
/// its own after the whole file is parsed. Only the resolver may use this: the bodies
/// are left empty.
pub fn parse_chunked_keyed(
    source: SourceId,
    text: &str,
    starts: &[usize],
) -> (File, Vec<Diagnostic>) {
    parse_chunks_of(source, text, starts, None, true)
}

/// Like [`parse_chunked_keyed`], without finding the chunks first when the file can do
/// without them (see [`parse_unchunked`]).
pub fn parse_keyed<'s>(
    source: SourceId,
    text: &str,
    starts: impl FnOnce() -> &'s [usize],
) -> (File, Vec<Diagnostic>) {
    match parse_unchunked(source, text, true) {
        Some(parsed) => parsed,
        None => parse_chunked_keyed(source, text, starts()),
    }
}

/// Parses a file without scanning it for its chunks, as most files can be: split
/// before the declarations that begin a line at column 0 ([`chunk::heads`]), each run
/// of them parsed in one piece on all cores, as [`parse_run_whole`] parses a run of
/// chunks. The chunk scan reads every byte, strings and comments included; this only
/// looks at the lines' first words. `None` where parsing chunk by chunk could give
/// something else: a run that does not parse or nests too deep, or a declaration a
/// chunk would start inside of ([`within_a_chunk`]).
fn parse_unchunked(source: SourceId, text: &str, key: bool) -> Option<(File, Vec<Diagnostic>)> {
    let heads = chunk::heads(text);
    let mut starts = Vec::with_capacity(heads.len() + 1);
    starts.push(0);
    starts.extend_from_slice(&heads);
    let ranges = chunk::ranges(&starts, text.len());
    let parts = crate::par::runs(&ranges, |_, run| {
        parse_run_unchunked(source, text, run, &heads, key)
    });
    let mut file = File {
        source,
        items: Vec::new(),
    };
    let mut diags = Vec::new();
    for part in parts {
        let (items, d) = part?;
        file.items.extend(items);
        diags.extend(d);
    }
    Some((file, diags))
}

/// One run of [`parse_unchunked`]: its items and their diagnostics, or `None`.
fn parse_run_unchunked(
    source: SourceId,
    text: &str,
    run: &[(usize, usize)],
    heads: &[usize],
    key: bool,
) -> Option<(Vec<Item>, Vec<Diagnostic>)> {
    let (&(from, _), &(_, to)) = (run.first()?, run.last()?);
    if too_deep(text.get(from..to)?).is_some() {
        return None;
    }
    parse_piece(source, text, (from, to), key, |start, end| {
        within_a_chunk(text, heads, start, end)
    })
}

/// The items of `text[from..to]` parsed in one piece, and their diagnostics; `None` when
/// it does not parse or an item (its byte range in `text`) does not `fit`.
fn parse_piece(
    source: SourceId,
    text: &str,
    (from, to): (usize, usize),
    key: bool,
    fits: impl Fn(usize, usize) -> bool,
) -> Option<(Vec<Item>, Vec<Diagnostic>)> {
    let f = SorchaParser::parse(Rule::file, text.get(from..to)?)
        .ok()?
        .next()?;
    let whole: Vec<Pair<Rule>> = f
        .into_inner()
        .filter(|p| p.as_rule() == Rule::item)
        .collect();
    let fit = |p: &Pair<Rule>| {
        let s = p.as_span();
        fits(from + s.start(), from + s.end())
    };
    if !whole.iter().all(fit) {
        return None;
    }
    let mut items = Vec::with_capacity(whole.len());
    let mut diags = Vec::new();
    let mut b = Builder {
        source,
        base: from,
        diags: &mut diags,
    };
    b.items(whole, key, &mut items);
    Some((items, diags))
}

/// Whether the chunk scan would find no chunk start inside the item at `start..end`:
/// none of the `heads` (column 0) is inside it, its own chunk starts where it does (no
/// blank or plain comment line between its doc comments and its head), and its head is
/// on one line up to its block (elsewhere in an item the braces are open, and only a
/// head at column 0 starts a chunk).
fn within_a_chunk(text: &str, heads: &[usize], start: usize, end: usize) -> bool {
    let next = heads.partition_point(|&h| h <= start);
    if heads.get(next).is_some_and(|&h| h < end) {
        return false;
    }
    let Some(item) = text.get(start..end) else {
        return false;
    };
    // The line of the item's head, past its comment lines.
    let mut line = 0;
    while let Some(n) = item[line..].find('\n') {
        if !item[line..line + n].trim_start().starts_with("//") {
            break;
        }
        line += n + 1;
    }
    let head = &item[line..];
    let head = head.find('{').map_or(head, |brace| &head[..brace]);
    let line_start = text[..start + line].rfind('\n').map_or(0, |n| n + 1);
    !head.contains('\n') && chunk::back_over_docs(text, line_start) <= start
}

fn parse_chunks_of(
    source: SourceId,
    text: &str,
    starts: &[usize],
    cache: Option<(&ParseCache, &str)>,
    key: bool,
) -> (File, Vec<Diagnostic>) {
    let ranges = chunk::ranges(starts, text.len());
    let mut old = cache
        .and_then(|(c, path)| c.files.lock().ok()?.remove(path))
        .unwrap_or_default();
    let known = cache.map(|_| &old);
    let parts = crate::par::runs(&ranges, |_, run| {
        parse_chunks(source, text, run, known, key)
    });
    let mut file = File {
        source,
        items: Vec::new(),
    };
    let mut diags = Vec::new();
    let mut fresh: Vec<(Box<str>, Kept)> = Vec::new();
    file.items
        .reserve_exact(parts.iter().map(|(items, ..)| items.len()).sum());
    for (items, d, f) in parts {
        file.items.extend(items);
        diags.extend(d);
        fresh.extend(f);
    }
    if let Some((c, path)) = cache {
        old.retain(|_, k| k.used.swap(false, Ordering::Relaxed));
        old.extend(fresh);
        if let Ok(mut files) = c.files.lock() {
            files.insert(path.to_string(), old);
        }
    }
    (file, diags)
}

/// Parses a run of chunks: their items, their diagnostics, and (with `known`, the
/// trees of the file's last parse) the trees of chunks parsed afresh, for next time.
#[allow(clippy::type_complexity)]
fn parse_chunks(
    source: SourceId,
    text: &str,
    run: &[(usize, usize)],
    known: Option<&Chunks>,
    key: bool,
) -> (Vec<Item>, Vec<Diagnostic>, Vec<(Box<str>, Kept)>) {
    // A chunk is one declaration, as a rule.
    let mut items = Vec::with_capacity(run.len());
    let mut diags = Vec::new();
    let mut fresh = Vec::new();
    if known.is_none() && parse_run_whole(source, text, run, key, &mut items, &mut diags) {
        return (items, diags, fresh);
    }
    for &(start, end) in run {
        let chunk = &text[start..end];
        if chunk.trim().is_empty() {
            continue;
        }
        let by = u32::try_from(start).unwrap_or(u32::MAX);
        if let Some(kept) = known.and_then(|k| k.get(chunk)) {
            let trees = kept.take(Place { source, at: by });
            items.extend(trees);
            continue;
        }
        if let Some(at) = too_deep(chunk) {
            diags.push(
                Diagnostic::new(
                    Code::LIMIT,
                    Span::new(source, start + at, start + at + 1),
                    format!("nesting deeper than {MAX_NESTING} levels"),
                )
                .with_help("flatten the value; no platform needs this much nesting"),
            );
            continue;
        }
        match SorchaParser::parse(Rule::file, chunk) {
            Ok(mut pairs) if known.is_some() => {
                // Parsed where the chunk starts at 0, kept when clean, then moved.
                let mut own = Vec::new();
                let mut b = Builder {
                    source,
                    base: 0,
                    diags: &mut own,
                };
                let mut trees: Vec<Item> = match pairs.next() {
                    Some(f) => f.into_inner().filter_map(|p| b.item(p)).collect(),
                    None => Vec::new(),
                };
                if own.is_empty() {
                    fresh.push((
                        Box::from(chunk),
                        Kept::new(trees.clone(), Place { source, at: by }),
                    ));
                }
                own.relocate(source, by);
                diags.extend(own);
                trees.relocate(source, by);
                items.extend(trees);
            }
            Ok(mut pairs) => {
                let mut b = Builder {
                    source,
                    base: start,
                    diags: &mut diags,
                };
                if let Some(f) = pairs.next() {
                    b.items(f.into_inner(), key, &mut items);
                }
            }
            Err(e) => diags.push(syntax_error(source, text, start, chunk, &e)),
        }
    }
    (items, diags, fresh)
}

/// Parses a run of chunks in one piece, as one parse: each parse has fixed costs, and
/// a run of well-formed declarations parses as they do one by one. Returns `false`,
/// having added nothing, when the run does not parse or a declaration would reach
/// across the start of a chunk (a `}` missing, say): then each chunk is parsed alone,
/// so that each broken one is reported once, as the chunks are meant to.
fn parse_run_whole(
    source: SourceId,
    text: &str,
    run: &[(usize, usize)],
    key: bool,
    items: &mut Vec<Item>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let (Some(&(from, _)), Some(&(_, to))) = (run.first(), run.last()) else {
        return false;
    };
    if run.len() < 2 || run.iter().any(|&(s, e)| too_deep(&text[s..e]).is_some()) {
        return false;
    }
    // The chunk holding byte `at` of the text.
    let chunk_of = |at: usize| run.partition_point(|&(s, _)| s <= at);
    let one_chunk =
        |start: usize, end: usize| chunk_of(start) == chunk_of(end.saturating_sub(1).max(start));
    match parse_piece(source, text, (from, to), key, one_chunk) {
        Some((run_items, run_diags)) => {
            items.extend(run_items);
            diags.extend(run_diags);
            true
        }
        None => false,
    }
}

fn too_deep(chunk: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in chunk.bytes().enumerate() {
        match c {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

struct Builder<'d> {
    source: SourceId,
    base: usize,
    diags: &'d mut Vec<Diagnostic>,
}

impl Builder<'_> {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        self.span_of(s.start(), s.end())
    }

    /// The span of the bytes `start..end` of the chunk.
    fn span_of(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, self.base + start, self.base + end)
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    /// The dot-separated names in `text`, which starts at `from` in the chunk, each
    /// with its span. The grammar writes the names of keys and references out rather
    /// than as `ident` pairs (see `key` there); no name contains a `.`.
    fn names<'t>(&self, text: &'t str, from: usize) -> impl Iterator<Item = Ident> + 't {
        let (source, base) = (self.source, self.base);
        let mut at = from;
        text.split('.').filter_map(move |name| {
            let span = Span::new(source, base + at, base + at + name.len());
            at += name.len() + 1;
            (!name.is_empty()).then(|| Ident {
                name: name.to_string(),
                span,
            })
        })
    }

    /// The items among `pairs`, onto `items`; with `key`, each declaration's body keyed.
    fn items<'i>(
        &mut self,
        pairs: impl IntoIterator<Item = Pair<'i, Rule>>,
        key: bool,
        items: &mut Vec<Item>,
    ) {
        for p in pairs {
            if let Some(mut item) = self.item(p) {
                if key {
                    key_body(&mut item);
                }
                items.push(item);
            }
        }
    }

    fn item(&mut self, p: Pair<Rule>) -> Option<Item> {
        if p.as_rule() != Rule::item {
            return None;
        }
        let span = self.span(&p);
        let mut docs = Vec::new();
        let mut decl = None;
        for q in p.into_inner() {
            if q.as_rule() == Rule::doc {
                docs.push(q);
            } else {
                decl = Some(q);
            }
        }
        let doc = join_docs(docs);
        let decl = decl?;
        let rule = decl.as_rule();
        let mut rest = decl.into_inner().filter(|q| !is_punct(q.as_rule()));
        match rule {
            Rule::use_decl => {
                rest.next(); // `use`
                let path = self.path(rest.next()?);
                Some(Item::Use(UseDecl { doc, path, span }))
            }
            Rule::import_decl => {
                rest.next(); // `import`
                let path = self.string(rest.next()?);
                Some(Item::Import(ImportDecl { doc, path, span }))
            }
            Rule::template_decl => {
                rest.next(); // `template`
                let name = self.ident(rest.next()?);
                rest.next(); // `for`
                let kind = self.ident(rest.next()?);
                let mut base = None;
                let mut body = Block::default();
                for q in rest {
                    match q.as_rule() {
                        Rule::path => base = Some(self.path(q)),
                        Rule::block => body = self.block(q),
                        _ => {}
                    }
                }
                let mut file_calls = Vec::new();
                body.file_calls(&mut file_calls);
                Some(Item::Template(TemplateDecl {
                    doc,
                    name,
                    kind,
                    base,
                    body,
                    file_calls,
                    span,
                }))
            }
            Rule::declaration => {
                let kind = self.ident(rest.next()?);
                let name = self.ident(rest.next()?);
                let mut template = None;
                let mut body = Block::default();
                for q in rest {
                    match q.as_rule() {
                        Rule::path => template = Some(self.path(q)),
                        Rule::block => body = self.block(q),
                        _ => {}
                    }
                }
                let mut file_calls = Vec::new();
                body.file_calls(&mut file_calls);
                Some(Item::Decl(Decl {
                    doc,
                    kind,
                    name,
                    template,
                    body,
                    keyed: None,
                    file_calls,
                    span,
                }))
            }
            _ => None,
        }
    }

    fn path(&self, p: Pair<Rule>) -> Path {
        let span = self.span(&p);
        Path {
            segments: p.into_inner().map(|q| self.ident(q)).collect(),
            span,
        }
    }

    /// A reference: its path's names, then its arguments when it is a call.
    fn reference(&mut self, p: Pair<Rule>) -> ExprKind {
        let whole = self.span(&p);
        let start = p.as_span().start();
        let text = p.as_str();
        let call_args = p.into_inner().next();
        let names_end = call_args
            .as_ref()
            .map_or(text.len(), |c| c.as_span().start() - start);
        let segments: Vec<Ident> = self.names(&text[..names_end], start).collect();
        let span = match (segments.first(), segments.last()) {
            (Some(first), Some(last)) => first.span.to(last.span),
            _ => self.span_of(0, 0),
        };
        // `true` and `false` are read as names (the grammar tries a reference first,
        // being the commonest value) and become booleans here.
        if let Some(first) = segments.first()
            && matches!(first.name.as_str(), "true" | "false")
        {
            let value = first.name == "true";
            if segments.len() > 1 || call_args.is_some() {
                self.diags.push(
                    Diagnostic::new(
                        Code::SYNTAX,
                        whole,
                        format!(
                            "`{}` is a boolean: it has no fields and cannot be called",
                            first.name
                        ),
                    )
                    .with_help("write `true` or `false` alone"),
                );
            }
            return ExprKind::Bool(value);
        }
        let path = Path { segments, span };
        let Some(call_args) = call_args else {
            return ExprKind::Ref(path);
        };
        let name = match path.segments.as_slice() {
            [one] => one.clone(),
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        Code::SYNTAX,
                        path.span,
                        format!("`{}` cannot be called", path.dotted()),
                    )
                    .with_help(
                        "only the built-in functions can be called: `http(…)`, `vault(…)`, `file(…)`, …",
                    ),
                );
                Ident {
                    name: path.dotted(),
                    span: path.span,
                }
            }
        };
        let args = self.call_args(call_args);
        ExprKind::Call { name, args }
    }

    fn block(&mut self, p: Pair<Rule>) -> Block {
        let span = self.span(&p);
        let inner = p.into_inner();
        // The braces are pairs too; a block of many entries is not grown step by step.
        let mut entries = Vec::with_capacity(inner.len().saturating_sub(2));
        for q in inner {
            if q.as_rule() == Rule::entry
                && let Some(e) = self.entry(q)
            {
                entries.push(e);
            }
        }
        Block { entries, span }
    }

    fn entry(&mut self, p: Pair<Rule>) -> Option<Entry> {
        let span = self.span(&p);
        let mut docs = Vec::new();
        let mut parts = p.into_inner();
        let body = loop {
            let q = parts.next()?;
            if q.as_rule() != Rule::doc {
                break q;
            }
            docs.push(q);
        };
        let doc = join_docs(docs);
        let rule = body.as_rule();
        // A keyed entry's parts are the entry's own; the others are rules of their own.
        if rule == Rule::key {
            let kind = self.keyed(body, parts)?;
            return Some(Entry { doc, kind, span });
        }
        let mut rest = body.into_inner().filter(|q| !is_punct(q.as_rule()));
        let kind = match rule {
            Rule::route => {
                rest.next(); // `route`
                let path = self.string(rest.next()?);
                let target = self.expr(rest.next()?);
                let block = rest.next().map(|b| self.block(b));
                EntryKind::Route {
                    path,
                    target,
                    block,
                }
            }
            Rule::mount => {
                rest.next(); // `mount`
                let target = self.path(rest.next()?);
                rest.next(); // `at`
                let at = self.string(rest.next()?);
                EntryKind::Mount { target, at }
            }
            Rule::param => {
                rest.next(); // `param`
                let name = self.ident(rest.next()?);
                let ty = self.type_expr(rest.next()?);
                let default = rest.next().map(|e| self.expr(e));
                EntryKind::Param { name, ty, default }
            }
            _ => return None,
        };
        Some(Entry { doc, kind, span })
    }

    /// A keyed entry from its key and the parts after it: `key = value`, `key { … }`,
    /// `key NAME = value { … }` or `key NAME { … }`.
    fn keyed<'i>(
        &mut self,
        key_pair: Pair<'i, Rule>,
        mut rest: impl Iterator<Item = Pair<'i, Rule>>,
    ) -> Option<EntryKind> {
        let mut next = rest.next()?;
        let kind = if next.as_rule() == Rule::name {
            // A named entry: `port http = 8080 { … }` or `volume cache { … }`.
            let name = self.ident(next.into_inner().next()?);
            let key = self.key(key_pair);
            let key = match key.segments.as_slice() {
                [seg] if !seg.quoted => Ident {
                    name: seg.name.clone(),
                    span: seg.span,
                },
                _ => {
                    self.diags.push(Diagnostic::new(
                        Code::SYNTAX,
                        key.span,
                        "a named entry needs a plain key, like `port http = 8080`",
                    ));
                    return None;
                }
            };
            next = rest.next()?;
            if next.as_rule() == Rule::block {
                EntryKind::NamedBlock {
                    key,
                    name,
                    block: self.block(next),
                }
            } else {
                let value = self.eq_value(next)?;
                let block = rest.next().map(|b| self.block(b));
                EntryKind::NamedField {
                    key,
                    name,
                    value,
                    block,
                }
            }
        } else if next.as_rule() == Rule::block {
            let key = self.key(key_pair);
            EntryKind::Block {
                key,
                block: self.block(next),
            }
        } else {
            EntryKind::Field {
                key: self.key(key_pair),
                value: self.eq_value(next)?,
            }
        };
        Some(kind)
    }

    /// `= value`: the expression inside.
    fn eq_value(&mut self, p: Pair<Rule>) -> Option<Expr> {
        Some(self.expr(p.into_inner().next()?))
    }

    fn key(&mut self, p: Pair<Rule>) -> Key {
        let span = self.span(&p);
        let start = p.as_span().start();
        let text = p.as_str();
        let unquoted = |n: Ident| KeySeg {
            name: n.name,
            span: n.span,
            quoted: false,
        };
        let mut segments = Vec::new();
        let mut names_from = start;
        // The quoted segments are pairs; the names between them are not.
        for q in p.into_inner() {
            let names = &text[names_from - start..q.as_span().start() - start];
            segments.extend(self.names(names, names_from).map(unquoted));
            names_from = q.as_span().end();
            let s = self.string(q);
            let name = match s.as_plain() {
                Some(t) => t,
                None => {
                    self.diags.push(Diagnostic::new(
                        Code::SYNTAX,
                        s.span,
                        "a quoted key cannot interpolate values",
                    ));
                    String::new()
                }
            };
            segments.push(KeySeg {
                name,
                span: s.span,
                quoted: true,
            });
        }
        segments.extend(
            self.names(&text[names_from - start..], names_from)
                .map(unquoted),
        );
        Key { segments, span }
    }

    fn type_expr(&self, p: Pair<Rule>) -> TypeExpr {
        let span = self.span(&p);
        let mut optional = false;
        let mut kind = TypeExprKind::Named(Ident {
            name: String::new(),
            span,
        });
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::ident => kind = TypeExprKind::Named(self.ident(q)),
                Rule::type_expr => kind = TypeExprKind::List(Box::new(self.type_expr(q))),
                Rule::question => optional = true,
                _ => {}
            }
        }
        TypeExpr {
            kind,
            optional,
            span,
        }
    }

    fn expr(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        // `expr` wraps exactly one alternative.
        let inner = if p.as_rule() == Rule::expr {
            match p.into_inner().next() {
                Some(q) => q,
                None => {
                    return Expr {
                        kind: ExprKind::List(Vec::new()),
                        span,
                    };
                }
            }
        } else {
            p
        };
        let kind = match inner.as_rule() {
            Rule::number => ExprKind::Num(NumLit::new(inner.as_str())),
            Rule::string => ExprKind::Str(self.string(inner)),
            Rule::numeric => {
                // The first number is the text before `..`; the second is a pair.
                let text = inner.as_str();
                let start = inner.as_span().start();
                let mut rest = inner.into_inner();
                let Some(dotdot) = rest.next() else {
                    return Expr {
                        kind: ExprKind::Num(NumLit::new(text)),
                        span,
                    };
                };
                let lo_end = dotdot.as_span().start() - start;
                let lo = Expr {
                    kind: ExprKind::Num(NumLit::new(&text[..lo_end])),
                    span: self.span_of(start, start + lo_end),
                };
                match rest.find(|q| q.as_rule() == Rule::number) {
                    Some(hi) => ExprKind::Range(Box::new(lo), Box::new(self.expr(hi))),
                    None => lo.kind,
                }
            }
            Rule::list => ExprKind::List(
                inner
                    .into_inner()
                    .filter(|q| q.as_rule() == Rule::expr)
                    .map(|q| self.expr(q))
                    .collect(),
            ),
            Rule::reference => self.reference(inner),
            _ => ExprKind::List(Vec::new()),
        };
        Expr { kind, span }
    }

    fn call_args(&mut self, p: Pair<Rule>) -> Vec<Arg> {
        let mut args = Vec::new();
        for a in p.into_inner() {
            match a.as_rule() {
                Rule::named_arg => {
                    let mut parts = a.into_inner().filter(|q| !is_punct(q.as_rule()));
                    if let (Some(n), Some(v)) = (parts.next(), parts.next()) {
                        args.push(Arg {
                            name: Some(self.ident(n)),
                            value: self.expr(v),
                        });
                    }
                }
                Rule::expr => args.push(Arg {
                    name: None,
                    value: self.expr(a),
                }),
                _ => {}
            }
        }
        args
    }

    fn string(&mut self, p: Pair<Rule>) -> StrLit {
        let span = self.span(&p);
        let triple = p.as_str().starts_with("\"\"\"");
        let mut parts: Vec<StrPart> = Vec::new();
        for q in p.into_inner() {
            let qspan = self.span(&q);
            match q.as_rule() {
                Rule::chars | Rule::triple_chars => push_text(&mut parts, q.as_str(), qspan),
                Rule::escape => match decode_escape(q.as_str()) {
                    Some(c) => push_text(&mut parts, c, qspan),
                    None => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::SYNTAX,
                                qspan,
                                format!("unknown escape `{}`", q.as_str()),
                            )
                            .with_help(
                                "the escapes are `\\n`, `\\t`, `\\\"`, `\\\\` and `\\$` (a literal `$`)",
                            ),
                        );
                    }
                },
                Rule::interp => {
                    if let Some(e) = q.into_inner().find(|x| x.as_rule() == Rule::expr) {
                        parts.push(StrPart::Interp(self.expr(e)));
                    }
                }
                _ => {}
            }
        }
        if triple {
            parts = self.dedent(parts, span);
        }
        StrLit { parts, span }
    }

    /// Multi-line strings: a first line holding only spaces is dropped, and the
    /// indentation of the closing `"""` is removed from every line (the whitespace line
    /// before it too, so the text ends with a newline).
    fn dedent(&mut self, mut parts: Vec<StrPart>, span: Span) -> Vec<StrPart> {
        if let Some(StrPart::Text(t, _)) = parts.first_mut()
            && let Some(nl) = t.find('\n')
            && t[..nl].trim().is_empty()
        {
            t.drain(..=nl);
        }
        let indent = match parts.last_mut() {
            Some(StrPart::Text(t, _)) => {
                let from = t.rfind('\n').map_or(0, |n| n + 1);
                let tail = &t[from..];
                if tail.chars().all(|c| c == ' ' || c == '\t') && (from > 0 || all_blank(t)) {
                    let n = tail.len();
                    t.truncate(from);
                    n
                } else {
                    0
                }
            }
            _ => 0,
        };
        if indent == 0 {
            return parts;
        }
        let mut out = Vec::with_capacity(parts.len());
        let mut at_line_start = true;
        let mut reported = false;
        for part in parts {
            match part {
                StrPart::Text(t, s) => {
                    let mut text = String::with_capacity(t.len());
                    for line in t.split_inclusive('\n') {
                        let mut l = line;
                        if at_line_start {
                            let ws = l.len() - l.trim_start_matches([' ', '\t']).len();
                            let blank = l.trim_end_matches(['\n', '\r']).trim().is_empty();
                            if ws >= indent {
                                l = &l[indent..];
                            } else if blank {
                                l = &l[ws..];
                            } else {
                                if !reported {
                                    self.diags.push(
                                        Diagnostic::new(
                                            Code::SYNTAX,
                                            s,
                                            "a line of this multi-line string is indented less than its closing `\"\"\"`",
                                        )
                                        .with_label(span, "in this string")
                                        .with_help("indent every line at least as far as the closing quotes"),
                                    );
                                    reported = true;
                                }
                                l = &l[ws..];
                            }
                        }
                        text.push_str(l);
                        at_line_start = line.ends_with('\n');
                    }
                    out.push(StrPart::Text(text, s));
                }
                interp => {
                    at_line_start = false;
                    out.push(interp);
                }
            }
        }
        out
    }
}

/// Only spaces and tabs: a closing line with nothing before the quotes.
fn all_blank(t: &str) -> bool {
    t.chars().all(|c| c == ' ' || c == '\t')
}

fn push_text(parts: &mut Vec<StrPart>, text: &str, span: Span) {
    if let Some(StrPart::Text(t, s)) = parts.last_mut() {
        t.push_str(text);
        *s = s.to(span);
    } else {
        parts.push(StrPart::Text(text.to_string(), span));
    }
}

fn decode_escape(e: &str) -> Option<&'static str> {
    match e {
        "\\n" => Some("\n"),
        "\\t" => Some("\t"),
        "\\\"" => Some("\""),
        "\\\\" => Some("\\"),
        "\\$" => Some("$"),
        _ => None,
    }
}

fn join_docs(docs: Vec<Pair<Rule>>) -> Option<String> {
    if docs.is_empty() {
        return None;
    }
    let lines: Vec<&str> = docs
        .iter()
        .map(|d| {
            let t = d.as_str().trim_start_matches("///");
            t.strip_prefix(' ').unwrap_or(t).trim_end()
        })
        .collect();
    Some(lines.join("\n"))
}

fn is_punct(r: Rule) -> bool {
    matches!(
        r,
        Rule::lbrace
            | Rule::rbrace
            | Rule::lbracket
            | Rule::rbracket
            | Rule::lparen
            | Rule::rparen
            | Rule::eq
            | Rule::colon
            | Rule::comma
            | Rule::arrow
            | Rule::dotdot
            | Rule::question
            | Rule::doc
    )
}

/// What a grammar rule means to a user, in words; `None` for rules never worth listing.
fn words(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::EOI => "end of file",
        Rule::item
        | Rule::use_decl
        | Rule::import_decl
        | Rule::template_decl
        | Rule::declaration
        | Rule::kw_use
        | Rule::kw_import
        | Rule::kw_template => "a declaration",
        Rule::entry
        | Rule::route
        | Rule::mount
        | Rule::param
        | Rule::key
        | Rule::kw_route
        | Rule::kw_mount
        | Rule::kw_param => "an entry",
        Rule::block | Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::expr
        | Rule::numeric
        | Rule::number
        | Rule::list
        | Rule::reference
        | Rule::path
        | Rule::string => "a value",
        Rule::chars | Rule::escape | Rule::interp => "the closing `\"`",
        Rule::triple_chars => "the closing `\"\"\"`",
        Rule::ident | Rule::name => "a name",
        Rule::call_args => "`(`",
        Rule::named_arg => "an argument",
        Rule::type_expr => "a type",
        Rule::unit => "a unit",
        Rule::kw_for => "`for`",
        Rule::kw_at => "`at`",
        Rule::arrow => "`->`",
        Rule::eq | Rule::eq_value => "`=`",
        Rule::colon => "`:`",
        Rule::comma => "`,`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::dotdot => "`..`",
        Rule::question => "`?`",
        _ => return None,
    })
}

fn syntax_error(
    source: SourceId,
    text: &str,
    base: usize,
    chunk: &str,
    e: &pest::error::Error<Rule>,
) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&'static str> = Vec::new();
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant {
        for r in positives {
            if let Some(w) = words(*r)
                && !expected.contains(&w)
            {
                expected.push(w);
            }
        }
    }
    // A name is also a declaration or an entry there; say the bigger thing.
    if expected.contains(&"a declaration") || expected.contains(&"an entry") {
        expected.retain(|w| *w != "a name");
    }
    // Where a value may start, a name (a reference) and `[` (a list) are values too.
    if expected.contains(&"a value") {
        expected.retain(|w| *w != "a name" && *w != "`[`");
    }
    // `..` is only ever a possible continuation of a number; it is noise next to others.
    if expected.len() > 1 {
        expected.retain(|w| *w != "`..`");
    }
    expected.sort_by_key(|w| word_rank(w));
    // At the end of a chunk, what follows is the next declaration (if any), not the end
    // of the file: report where it starts.
    let at_chunk_end = chunk.get(pos..).is_none_or(|rest| rest.trim().is_empty());
    let mut abs = base + pos;
    if at_chunk_end {
        let rest = &text[abs..];
        let skip = rest.len() - rest.trim_start().len();
        if abs + skip < text.len() {
            abs += skip;
        }
    }
    let (found, len) = found_at(text, abs);
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_or(&expected))
    };
    let mut d = Diagnostic::new(Code::SYNTAX, Span::new(source, abs, abs + len), message);
    if at_chunk_end && expected.contains(&"`}`") {
        d = d.with_help("a block is not closed: add the missing `}`");
        if let Some(open) = unclosed_brace(chunk) {
            d = d.with_label(
                Span::new(source, base + open, base + open + 1),
                "this block is not closed",
            );
        }
    } else if found.starts_with("`=`") && expected.contains(&"`{`") {
        d = d.with_help("a declaration has the shape `KIND NAME { ... }`");
    } else if expected.contains(&"`=`") && (found.starts_with("`\"") || found.starts_with("`[")) {
        d = d.with_help("a field is written `KEY = VALUE`");
    }
    d
}

/// The last `{` of a chunk that has no matching `}` (strings and comments skipped).
fn unclosed_brace(chunk: &str) -> Option<usize> {
    let b = chunk.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let triple = b[i..].starts_with(b"\"\"\"");
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if triple && b[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    }
                    if !triple && (b[i] == b'"' || b[i] == b'\n') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'/' if b[i..].starts_with(b"//") => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'{' => open.push(i),
            b'}' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.first().copied()
}

fn word_rank(w: &str) -> u8 {
    match w {
        "a declaration" | "an entry" => 0,
        "a value" | "a name" | "an argument" | "a type" => 1,
        "end of file" => 3,
        _ => 2,
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at `pos`, for "found …", and its length in bytes.
fn found_at(chunk: &str, pos: usize) -> (String, usize) {
    let rest = chunk.get(pos..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if c == '\n' || c == '\r' {
        return ("end of line".to_string(), c.len_utf8());
    }
    if c.is_ascii_alphanumeric() || c == '_' {
        let end = rest
            .find(|x: char| !(x.is_ascii_alphanumeric() || x == '_' || x == '-' || x == '.'))
            .unwrap_or(rest.len());
        return (format!("`{}`", &rest[..end]), end);
    }
    if rest.starts_with("->") || rest.starts_with("..") {
        return (format!("`{}`", &rest[..2]), 2);
    }
    (format!("`{c}`"), c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let (_, d) = parse_file(SourceId(0), text);
        d.into_iter()
            .map(|d| format!("{}..{} {}", d.span.start, d.span.end, d.message))
            .collect()
    }

    #[test]
    fn parses_every_entry_form() {
        let text = r#"
/// The wallet.
service wallet : dotnet-api {
  image = "x:${version}"
  port grpc = 5001 { protocol = grpc }
  port http = 8080
  scale { min = 2  max = 10  cpu = 70% }
  cpu = 250m..1
  volume scratch { size = 1Gi  at = "/var/scratch" }
  mount app-settings at "/app/config"
  ready = http("/health", port: http)
  calls = [register.grpc, validator,]
  "appsettings.json" = file("a.json")
  text = """
    line one
      line two
    """
}
gateway g { route "/a" -> wallet.http { timeout = 1h } }
template t for service { param version: string = "1" param creds: secret? }
env prod { wallet.scale { min = 3 } postgres.storage.size = 100Gi }
"#;
        let (f, d) = parse_file(SourceId(0), text);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.items.len(), 4);
        let Item::Decl(svc) = &f.items[0] else {
            panic!()
        };
        assert_eq!(svc.doc.as_deref(), Some("The wallet."));
        assert_eq!(svc.body.entries.len(), 11);
        let EntryKind::Field { value, .. } = &svc.body.entries[10].kind else {
            panic!()
        };
        let ExprKind::Str(s) = &value.kind else {
            panic!()
        };
        assert_eq!(s.as_plain().unwrap(), "line one\n  line two\n");
    }

    #[test]
    fn reports_each_broken_declaration_once_and_keeps_the_rest() {
        let text = "service a {\n  image = \n}\nservice b { image = \"x\" }\nservice c {\n  port = = 1\n}\n";
        let (f, d) = parse_file(SourceId(0), text);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(f.items.len(), 1);
        assert_eq!(d[0].message, "expected a value, found end of line");
    }

    /// Every item and diagnostic of `text`, parsed one chunk at a time.
    fn chunk_by_chunk(text: &str) -> (Vec<Item>, Vec<Diagnostic>) {
        let (mut items, mut diags) = (Vec::new(), Vec::new());
        for range in chunk::ranges(&chunk_starts(text), text.len()) {
            let (i, d, _) = parse_chunks(SourceId(0), text, &[range], None, false);
            items.extend(i);
            diags.extend(d);
        }
        (items, diags)
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test reads the repository's programs
    fn a_run_parsed_whole_is_the_chunks_parsed_one_by_one() {
        // Well-formed runs are parsed in one piece; a declaration missing its `}` would
        // swallow the next one there, and must not.
        let unclosed = "service a {\n  image = \"x\"\nservice b { image = \"y\" }\n";
        let trailing_doc = "service a { image = \"x\" }\n/// belongs to nothing\n\nservice b { }\n";
        // Where a file parsed without its chunks would see other declarations than the
        // chunks do (each must fall back to them): a chunk starting after the doc
        // comments of a declaration, inside its head or inside its block, and heads at
        // column 0 inside a string or a comment.
        let tricky = [
            "/// a\n// note\nservice a { }\n",
            "service x { }\n/// a\n// note\nservice a { }\n",
            "service x { }\n/// a\n// note\n  service a { }\n",
            "service x { }\n/// a\n\n/// b\nservice a { }\n",
            "service x { }\n/// a\n/* note */\nservice a { }\n",
            "service\nservice { }\n",
            "service x { }\nservice a\n  : base { }\n",
            "use std.postgres\nwidget w { }\nservice x { }\n",
            "service a {\n  x = 1\nservice b { }\n}\n",
            "service a {\n  x = 1\nservice b { }\n",
            "config c {\n  text = \"\"\"\nservice fake {\n}\n\"\"\"\n}\nservice b { }\n",
            "/*\nservice fake { }\n*/\nservice b { }\n",
            "service a { x = \"${\nservice b { }\n}\" }\n",
            "service a { }\r\n/// d\r\nservice b { }\r\n  /// e\r\nservice c { }\r\n",
            "  service a { }\n  /// d\n  service b { }\nservice c { }\n",
        ];
        let mut texts = vec![unclosed.to_string(), trailing_doc.to_string()];
        texts.extend(tricky.iter().map(|t| t.to_string()));
        // Long enough to be parsed in several runs on several cores.
        let synthetic = crate::synth::platform(120);
        texts.push(synthetic.clone());
        let mut dirs = vec![std::path::PathBuf::from("examples"), "tests".into()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "sorcha") {
                    texts.extend(std::fs::read_to_string(&path).ok());
                }
            }
        }
        assert!(texts.len() > 100, "{} programs", texts.len());
        // And each broken in the ways an edit breaks it: a brace, a quote or a `=` taken
        // out, a brace put in, the text cut short.
        let mut broken = Vec::new();
        for text in &texts {
            for (n, (at, c)) in text
                .char_indices()
                .filter(|(_, c)| "{}\"=".contains(*c))
                .enumerate()
            {
                if n % 7 != 0 || n > 70 {
                    continue;
                }
                broken.push(format!("{}{}", &text[..at], &text[at + c.len_utf8()..]));
                broken.push(format!("{}{{{}", &text[..at], &text[at..]));
                broken.push(text[..at].to_string());
            }
        }
        let (mut whole, mut whole_broken) = (0, 0);
        let (mut unchunked, mut unchunked_broken) = (0, 0);
        for (i, text) in texts.iter().chain(&broken).enumerate() {
            let (items, one_by_one) = chunk_by_chunk(text);
            let (items, one_by_one) = (format!("{items:?}"), format!("{one_by_one:?}"));
            // Parsed as files are: without the chunks where it can be, and with them.
            let starts = chunk_starts(text);
            let without = parse_unchunked(SourceId(0), text, false);
            for (file, diags) in [
                Some(parse_file(SourceId(0), text)),
                Some(parse_chunked(SourceId(0), text, &starts, None)),
                without.clone(),
            ]
            .into_iter()
            .flatten()
            {
                assert_eq!(format!("{:?}", file.items), items, "{text}");
                assert_eq!(format!("{diags:?}"), one_by_one, "{text}");
            }
            match i < texts.len() {
                true => unchunked += usize::from(without.is_some()),
                false => unchunked_broken += usize::from(without.is_some()),
            }
            let in_one_piece = parse_run_whole(
                SourceId(0),
                text,
                &chunk::ranges(&starts, text.len()),
                false,
                &mut Vec::new(),
                &mut Vec::new(),
            );
            match i < texts.len() {
                true => whole += usize::from(in_one_piece),
                false => whole_broken += usize::from(in_one_piece),
            }
        }
        // Most programs are parsed in one piece, and without their chunks; most broken
        // ones fall back.
        assert!(whole > texts.len() / 2, "{whole} of {}", texts.len());
        assert!(
            unchunked > texts.len() / 2,
            "{unchunked} of {}",
            texts.len()
        );
        assert!(
            unchunked_broken < broken.len() / 2,
            "{unchunked_broken} of {}",
            broken.len()
        );
        assert!(parse_unchunked(SourceId(0), &synthetic, false).is_some());
        // The first seven, and a head at column 0 inside a block, would be parsed into
        // other declarations in one piece.
        for t in tricky[..7].iter().chain(&tricky[8..9]) {
            assert!(parse_unchunked(SourceId(0), t, false).is_none(), "{t}");
        }
        assert!(
            whole_broken < broken.len() / 2,
            "{whole_broken} of {}",
            broken.len()
        );
        assert!(broken.len() > 1000, "{} broken programs", broken.len());
        let mut run = Vec::new();
        let starts = chunk_starts(unclosed);
        let ranges = chunk::ranges(&starts, unclosed.len());
        assert_eq!(ranges.len(), 2);
        assert!(!parse_run_whole(
            SourceId(0),
            unclosed,
            &ranges,
            false,
            &mut run,
            &mut Vec::new()
        ));
        assert!(run.is_empty());
    }

    #[test]
    fn messages_name_tokens_in_words() {
        for e in errors("service a {\n  image \"x\"\n}\n")
            .into_iter()
            .chain(errors("service a\n"))
            .chain(errors("service a { x = [1, 2 }"))
            .chain(errors("service a { x = \"abc\n}"))
            .chain(errors("service a { x = 1 }}"))
            .chain(errors("service a { x = 1 "))
        {
            println!("{e}");
            assert!(!e.contains("Rule") && !e.contains('_'), "{e}");
        }
    }
}
