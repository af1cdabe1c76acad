//! Splits a file into top-level chunks, each holding one or more whole declarations, so
//! that a syntax error costs only the declaration it is in: the parser parses chunk by
//! chunk and reports each broken chunk once.
//!
//! A chunk starts at a line whose first word is a top-level keyword (`service`, `use`,
//! `env`, …) at brace depth 0, or at any word following a closing `}` at depth 0. A
//! top-level keyword written at column 0 and followed by a name always starts a chunk,
//! even inside an unclosed block, so a missing `}` does not swallow the rest of the file.
//! Doc comments directly above a chunk start belong to it. Strings, interpolations and
//! comments are skipped exactly as the grammar reads them.

/// Words that begin a top-level item.
pub const TOP_LEVEL: &[&str] = &[
    "platform", "service", "database", "secret", "config", "gateway", "job", "template", "env",
    "use", "import",
];

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Code,
    /// A `"` string; `true` when it is a `"""` string.
    Str(bool),
}

/// Below this many bytes a file is scanned in one piece.
const SPLIT_AT: usize = 64 * 1024;

/// Byte offsets where chunks start; always begins with 0.
///
/// A long file is scanned in two halves at once, the second from a line in the middle
/// that starts a declaration at column 0 (which starts a chunk whatever came before it,
/// unless it is inside a string or a comment). When the first half's scan reaches that
/// line outside any string and comment, the halves' starts are joined; otherwise the
/// first scan reads on to the end, as a scan in one piece does.
pub fn chunk_starts(text: &str) -> Vec<usize> {
    let split = if text.len() >= SPLIT_AT && crate::par::threads() > 1 {
        split_point(text, text.len() / 2)
    } else {
        None
    };
    match split {
        Some(at) => starts_split_at(text, at),
        None => in_one_piece(text),
    }
}

/// [`chunk_starts`] by one scan from the start to the end.
fn in_one_piece(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    Scan::at(0).run(text, text.len(), &mut starts);
    starts.dedup();
    starts
}

/// [`chunk_starts`] with the second half's scan begun at `at`, a [`split_point`].
fn starts_split_at(text: &str, at: usize) -> Vec<usize> {
    let ((mut first, mut starts), second) = crate::par::join(
        || {
            let mut starts = vec![0];
            let mut scan = Scan::at(0);
            scan.run(text, at, &mut starts);
            (scan, starts)
        },
        || {
            let mut starts = Vec::new();
            Scan::at(at).run(text, text.len(), &mut starts);
            starts
        },
    );
    if first.is_fresh_at(at) {
        starts.extend(second);
    } else {
        first.run(text, text.len(), &mut starts);
    }
    starts.dedup();
    starts
}

/// Where a chunk starts at every line that begins with a top-level keyword at column 0
/// followed by a name (moved back over the doc comments directly above it), found
/// without reading strings and comments: some may be inside one, where no chunk
/// starts. In order; never 0.
pub fn heads(text: &str) -> Vec<usize> {
    let mut heads = Vec::new();
    let mut at = 0;
    loop {
        if begins_a_head(text, at) {
            let start = back_over_docs(text, at);
            if start > 0 {
                heads.push(start);
            }
        }
        match text.get(at..).and_then(|rest| rest.find('\n')) {
            Some(n) => at += n + 1,
            None => return heads,
        }
    }
}

/// The first line at or after byte `from` that starts with a top-level keyword at
/// column 0 followed by a name.
fn split_point(text: &str, from: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut from = from;
    while let Some(n) = b.get(from..)?.iter().position(|&c| c == b'\n') {
        let at = from + n + 1;
        if begins_a_head(text, at) {
            return Some(at);
        }
        from = at;
    }
    None
}

/// Whether byte `at`, the start of a line, begins a top-level keyword followed by a name.
fn begins_a_head(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    b.get(at).is_some_and(|&c| is_word_start(c)) && {
        let end = word_end(b, at);
        TOP_LEVEL.contains(&&text[at..end]) && next_is_name(b, end)
    }
}

/// Where a scan stands: what it is inside and what it last read.
struct Scan {
    /// Strings nest inside interpolations, which nest inside strings.
    modes: Vec<Mode>,
    /// Brace depth per code level (interpolations track their own braces).
    depth: Vec<i64>,
    block_comment: usize,
    last_sig: u8,
    at_line_start: bool,
    /// The next byte to read.
    i: usize,
}

impl Scan {
    /// A scan beginning at byte `i`, at the start of a line, outside everything.
    fn at(i: usize) -> Scan {
        Scan {
            modes: vec![Mode::Code],
            depth: vec![0],
            block_comment: 0,
            last_sig: 0,
            at_line_start: true,
            i,
        }
    }

    /// At byte `at`, at the start of a line and outside any string, interpolation or
    /// comment: from there on it reads as a scan begun at `at` does.
    fn is_fresh_at(&self, at: usize) -> bool {
        self.i == at && self.block_comment == 0 && self.modes.len() == 1 && self.at_line_start
    }

    /// Reads on to byte `to` (or past it, to the end of what crosses it), adding the
    /// chunk starts it finds to `starts`.
    fn run(&mut self, text: &str, to: usize, starts: &mut Vec<usize>) {
        let b = text.as_bytes();
        let (modes, depth) = (&mut self.modes, &mut self.depth);
        let mut block_comment = self.block_comment;
        let mut last_sig = self.last_sig;
        let mut at_line_start = self.at_line_start;
        let mut i = self.i;
        while i < to {
            let c = b[i];
            if block_comment > 0 {
                if b[i..].starts_with(b"*/") {
                    block_comment -= 1;
                    i += 2;
                } else if b[i..].starts_with(b"/*") {
                    block_comment += 1;
                    i += 2;
                } else {
                    if c == b'\n' {
                        at_line_start = true;
                    }
                    i += 1;
                }
                continue;
            }
            let mode = modes.last().copied().unwrap_or(Mode::Code);
            match mode {
                Mode::Str(triple) => {
                    if c == b'\\' {
                        i += 2;
                    } else if b[i..].starts_with(b"${") {
                        modes.push(Mode::Code);
                        depth.push(0);
                        i += 2;
                    } else if triple && b[i..].starts_with(b"\"\"\"") {
                        modes.pop();
                        i += 3;
                    } else if !triple && c == b'"' {
                        modes.pop();
                        i += 1;
                    } else if !triple && c == b'\n' {
                        // An unterminated string ends at the line end, as the grammar reads it.
                        modes.pop();
                        at_line_start = true;
                        i += 1;
                    } else {
                        // The run of plain characters up to the next one that matters here.
                        i += 1;
                        while i < b.len() && !matches!(b[i], b'\\' | b'$' | b'"' | b'\n') {
                            i += 1;
                        }
                    }
                    last_sig = b'"';
                }
                Mode::Code => {
                    if c == b'\n' {
                        at_line_start = true;
                        i += 1;
                        continue;
                    }
                    if c == b' ' || c == b'\t' || c == b'\r' {
                        i += 1;
                        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r') {
                            i += 1;
                        }
                        continue;
                    }
                    if b[i..].starts_with(b"//") {
                        while i < b.len() && b[i] != b'\n' {
                            i += 1;
                        }
                        continue;
                    }
                    if b[i..].starts_with(b"/*") {
                        block_comment = 1;
                        i += 2;
                        continue;
                    }
                    let line_start = at_line_start;
                    at_line_start = false;
                    let in_interp = modes.len() > 1;
                    let column0 = i == 0 || b[i - 1] == b'\n';
                    let d = depth.last().copied().unwrap_or(0);
                    // An indented line inside a block (most lines) starts nothing.
                    if line_start && !in_interp && is_word_start(c) && (column0 || d <= 0) {
                        let word_end = word_end(b, i);
                        let word = &text[i..word_end];
                        let top = TOP_LEVEL.contains(&word);
                        let followed_by_name = next_is_name(b, word_end);
                        let boundary = (column0 && top && followed_by_name)
                            || (d <= 0 && (top || last_sig == b'}'));
                        if boundary && i > 0 {
                            starts.push(back_over_docs(text, i));
                            if let Some(d) = depth.last_mut() {
                                *d = 0;
                            }
                        }
                    }
                    match c {
                        b'"' => {
                            let triple = b[i..].starts_with(b"\"\"\"");
                            modes.push(Mode::Str(triple));
                            i += if triple { 3 } else { 1 };
                        }
                        b'{' => {
                            if let Some(d) = depth.last_mut() {
                                *d += 1;
                            }
                            i += 1;
                        }
                        b'}' => {
                            if in_interp && depth.last().copied().unwrap_or(0) == 0 {
                                modes.pop();
                                depth.pop();
                            } else if let Some(d) = depth.last_mut() {
                                *d -= 1;
                            }
                            i += 1;
                        }
                        _ if is_word_char(c) => {
                            // The rest of the word: nothing in it starts or ends anything.
                            i += 1;
                            while i < b.len() && is_word_char(b[i]) {
                                i += 1;
                            }
                        }
                        _ => i += 1,
                    }
                    last_sig = c;
                }
            }
        }
        self.block_comment = block_comment;
        self.last_sig = last_sig;
        self.at_line_start = at_line_start;
        self.i = i;
    }
}

/// The byte ranges of the chunks that start at `starts` in a text of `len` bytes.
pub fn ranges(starts: &[usize], len: usize) -> Vec<(usize, usize)> {
    starts
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(len)))
        .collect()
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// A character that can only continue what it follows: a name, a number, a dotted path.
fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

fn word_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
        i += 1;
    }
    i
}

fn next_is_name(b: &[u8], mut i: usize) -> bool {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i < b.len() && (is_word_start(b[i]) || b[i] == b'"')
}

/// Moves a chunk start back over the `///` lines directly above it: where the chunk of a
/// declaration whose line starts at `start` begins.
pub fn back_over_docs(text: &str, start: usize) -> usize {
    let mut s = text[..start].rfind('\n').map_or(0, |n| n + 1);
    loop {
        if s == 0 {
            return s;
        }
        let prev_start = text[..s - 1].rfind('\n').map_or(0, |n| n + 1);
        let line = text[prev_start..s - 1].trim_start();
        if line.starts_with("///") && !line.starts_with("////") {
            s = prev_start;
        } else {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str) -> Vec<&str> {
        ranges(&chunk_starts(text), text.len())
            .into_iter()
            .map(|(s, e)| text[s..e].trim())
            .collect()
    }

    #[test]
    fn splits_at_declarations() {
        let t = "use std.postgres\nplatform p { }\n/// doc\nservice a {\n  env { A = \"}\" }\n}\nservice b { }\n";
        assert_eq!(
            chunks(t),
            vec![
                "use std.postgres",
                "platform p { }",
                "/// doc\nservice a {\n  env { A = \"}\" }\n}",
                "service b { }"
            ]
        );
    }

    #[test]
    fn a_missing_brace_does_not_swallow_the_next_declaration() {
        let t = "service a {\n  image = \"x\"\n\nservice b { }\n";
        assert_eq!(chunks(t).len(), 2);
    }

    /// Every place a long file may be split at, over the whole file.
    fn splits(text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(at) = split_point(text, from) {
            out.push(at);
            from = at;
        }
        out
    }

    #[test]
    fn a_file_scanned_in_two_halves_has_the_chunks_of_one_piece() {
        let base = crate::synth::platform(12);
        let mid = base.len() / 2;
        let line = base[mid..].find("\nservice").map_or(mid, |n| mid + n + 1);
        // What a split line can be inside of: each must be read through, as in one piece.
        let spans_split = [
            ("", ""),
            ("/* a comment over\n", "\n still a comment */\n"),
            ("/* nested /* comments\n", "*/ still */\n"),
            ("x = \"\"\"a long string\n", "\"\"\"\n"),
            ("x = \"${\n", "}\"\n"),
            ("service unclosed {\n", ""),
            ("/// documented\n", ""),
            ("x = \"unterminated\n", ""),
            ("}\n}\n", ""),
        ];
        for (before, after) in spans_split {
            let text = format!("{}{before}{}{after}", &base[..line], &base[line..]);
            let whole = in_one_piece(&text);
            let at_all = splits(&text);
            assert!(at_all.len() > 10, "{before:?}: a split at every service");
            for at in at_all {
                assert_eq!(
                    starts_split_at(&text, at),
                    whole,
                    "{before:?}, split at {at}"
                );
            }
        }
    }

    #[test]
    fn a_broken_file_scanned_in_two_halves_has_the_chunks_of_one_piece() {
        let base = crate::synth::platform(6);
        let pieces = [
            "{",
            "}",
            "\"",
            "\"\"\"",
            "/*",
            "*/",
            "//",
            "${",
            "\n",
            "\\",
            "service x ",
        ];
        let mut seed: u64 = 7;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize % n
        };
        for _ in 0..200 {
            let mut text = base.clone();
            for _ in 0..3 {
                let mut at = next(text.len());
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.insert_str(at, pieces[next(pieces.len())]);
            }
            let whole = in_one_piece(&text);
            for at in splits(&text) {
                assert_eq!(
                    starts_split_at(&text, at),
                    whole,
                    "split at {at} of {text:?}"
                );
            }
        }
    }

    #[test]
    fn nested_env_blocks_and_interpolations_are_not_boundaries() {
        let t = "service a {\n  env {\n    X = \"${b.host}\"\n  }\n}\n";
        assert_eq!(chunks(t).len(), 1);
    }
}
