//! Source files held in memory: ids, byte spans, and the line index that turns a byte
//! offset into a line and column (Unicode scalar values for people and JSON, UTF-16 code
//! units for the language server). Nothing here touches the disk.

use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SourceId(pub u32);

/// A byte range in one source file. Every syntax node carries one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub source: SourceId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(source: SourceId, start: usize, end: usize) -> Span {
        Span {
            source,
            start: clamp_u32(start),
            end: clamp_u32(end.max(start)),
        }
    }

    /// The smallest span that covers both (they must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            source: self.source,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// A span of `len` bytes starting `offset` bytes into this one.
    pub fn sub(self, offset: usize, len: usize) -> Span {
        let start = (self.start as usize + offset).min(self.end as usize);
        let end = (start + len).min(self.end as usize);
        Span::new(self.source, start, end)
    }
}

/// Whatever holds spans: syntax trees, checked declarations, diagnostics. The language
/// server keeps what an edit did not change and moves its spans to where that text now
/// is, instead of computing it again.
pub trait Spans {
    /// Visits every span held.
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F);

    /// Gives every span `source` and shifts it `by` bytes.
    fn relocate(&mut self, source: SourceId, by: u32) {
        self.shift(source, i64::from(by));
    }

    /// Gives every span `source` and shifts it `by` bytes, forwards or back.
    fn shift(&mut self, source: SourceId, by: i64) {
        let moved = |x: u32| u32::try_from((i64::from(x) + by).max(0)).unwrap_or(u32::MAX);
        self.each_span(&mut |s: &mut Span| {
            s.source = source;
            s.start = moved(s.start);
            s.end = moved(s.end);
        });
    }
}

impl Spans for Span {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        f(self);
    }
}

impl<T: Spans> Spans for Option<T> {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        if let Some(x) = self {
            x.each_span(f);
        }
    }
}

impl<T: Spans> Spans for Vec<T> {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        for x in self {
            x.each_span(f);
        }
    }
}

impl<T: Spans> Spans for Box<T> {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        (**self).each_span(f);
    }
}

/// Shared values are copied before their spans change (when anything else holds them).
impl<T: Spans + Clone> Spans for Arc<T> {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        Arc::make_mut(self).each_span(f);
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Where a source file came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file of the program, by the path it was opened or imported with.
    File(String),
    /// A module of the embedded standard library (`std.postgres`).
    Stdlib(String),
}

/// One source file: its name as shown to users, its text and a line index.
#[derive(Debug)]
pub struct SourceFile {
    pub origin: Origin,
    pub text: Arc<str>,
    /// Where each line starts, found the first time a position is asked for (a
    /// diagnostic, the editor): a check that finds nothing never needs it.
    line_starts: std::sync::OnceLock<Vec<u32>>,
    /// Where its declarations start, once the parser has found them.
    chunks: std::sync::OnceLock<Vec<usize>>,
}

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(origin: Origin, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            origin,
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
            chunks: std::sync::OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| clamp_u32(i + 1)))
                .collect()
        })
    }

    /// Where the file's declarations start (see `syntax::chunk`), found by `find` the
    /// first time and kept: parsing finds them, and the language server compares them
    /// with the last version's after an edit.
    pub fn chunk_starts(&self, find: impl FnOnce(&str) -> Vec<usize>) -> &[usize] {
        self.chunks.get_or_init(|| find(&self.text))
    }

    /// The name shown in diagnostics: the path, or `<std.NAME>` for the standard library.
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::File(p) => p.clone(),
            Origin::Stdlib(m) => format!("<std.{m}>"),
        }
    }

    pub fn path(&self) -> Option<&str> {
        match &self.origin {
            Origin::File(p) => Some(p),
            Origin::Stdlib(_) => None,
        }
    }

    fn clamp(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while o > 0 && !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let o = clamp_u32(self.clamp(offset));
        match self.line_starts().binary_search(&o) {
            Ok(l) => l,
            Err(l) => l - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts()
            .get(line)
            .map(|&s| s as usize)
            .unwrap_or(self.text.len())
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// 1-based line and column, the column counted in Unicode scalar values.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let o = self.clamp(offset);
        let line = self.line_of(o);
        let start = self.line_start(line);
        LineCol {
            line: line + 1,
            column: self.text[start..o].chars().count() + 1,
        }
    }

    /// 0-based line and UTF-16 column, as the Language Server Protocol counts them.
    pub fn utf16_position(&self, offset: usize) -> (u32, u32) {
        let o = self.clamp(offset);
        let line = self.line_of(o);
        let start = self.line_start(line);
        let col: usize = self.text[start..o].chars().map(char::len_utf16).sum();
        (clamp_u32(line), clamp_u32(col))
    }

    /// Byte offset of a 0-based line and UTF-16 column (clamped to the line).
    pub fn offset_of_utf16(&self, line: u32, col: u32) -> usize {
        let line = line as usize;
        if line >= self.line_starts().len() {
            return self.text.len();
        }
        column_offset(&self.text, self.line_start(line), col)
    }
}

/// Byte offset of a 0-based line and UTF-16 column in `text` (clamped to the line),
/// found without indexing every line: for one edit to a large buffer.
pub fn offset_of_utf16(text: &str, line: u32, col: u32) -> usize {
    let start = match line.checked_sub(1) {
        None => 0,
        Some(before) => match text.match_indices('\n').nth(before as usize) {
            Some((i, _)) => i + 1,
            None => return text.len(),
        },
    };
    column_offset(text, start, col)
}

/// The byte offset `col` UTF-16 code units into the line starting at `start`, or the
/// line's end.
fn column_offset(text: &str, start: usize, col: u32) -> usize {
    let mut units = 0u32;
    for (i, c) in text[start..].char_indices() {
        if units >= col || c == '\n' {
            return start + i;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

/// Every file of one compilation, indexed by [`SourceId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, origin: Origin, text: impl Into<Arc<str>>) -> SourceId {
        let id = SourceId(clamp_u32(self.files.len()));
        self.files.push(SourceFile::new(origin, text));
        id
    }

    pub fn get(&self, id: SourceId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn text(&self, span: Span) -> &str {
        self.get(span.source)
            .and_then(|f| f.text.get(span.range()))
            .unwrap_or("")
    }

    pub fn find(&self, origin: &Origin) -> Option<SourceId> {
        self.files
            .iter()
            .position(|f| &f.origin == origin)
            .map(|i| SourceId(clamp_u32(i)))
    }

    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (SourceId(clamp_u32(i)), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_scalar_values_and_utf16_units() {
        let f = SourceFile::new(Origin::File("a".into()), "ab\n// é😀 x\n");
        let x = f.text.find('x').unwrap();
        assert_eq!(f.line_col(x), LineCol { line: 2, column: 7 });
        // é is 1 UTF-16 unit, 😀 is 2.
        assert_eq!(f.utf16_position(x), (1, 7));
        assert_eq!(f.offset_of_utf16(1, 7), x);
    }

    /// The language server applies edits without indexing the whole buffer; it finds
    /// the same offsets as the index does, at every position of every line and past them.
    #[test]
    fn offsets_found_without_the_index_are_the_same() {
        let text = "ab\n// é😀 x\n\n\tlast line";
        let f = SourceFile::new(Origin::File("a".into()), text);
        for line in 0..6 {
            for col in 0..14 {
                assert_eq!(
                    offset_of_utf16(text, line, col),
                    f.offset_of_utf16(line, col),
                    "line {line}, column {col}"
                );
            }
        }
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        let f = SourceFile::new(Origin::File("a".into()), "a\nb");
        assert_eq!(f.line_col(100), LineCol { line: 2, column: 2 });
        assert_eq!(f.offset_of_utf16(9, 0), 3);
    }
}
