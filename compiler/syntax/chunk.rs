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

/// Byte offsets where chunks start; always begins with 0.
pub fn chunk_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0usize];
    // Stack of modes: strings nest inside interpolations, which nest inside strings.
    let mut modes: Vec<Mode> = vec![Mode::Code];
    // Brace depth per code level (interpolations track their own braces).
    let mut depth: Vec<i64> = vec![0];
    let mut block_comment = 0usize;
    let mut last_sig: u8 = 0;
    let mut at_line_start = true;
    let mut i = 0;
    while i < b.len() {
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
    starts.dedup();
    starts
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

/// Moves a chunk start back over the `///` lines directly above it.
fn back_over_docs(text: &str, start: usize) -> usize {
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

    #[test]
    fn nested_env_blocks_and_interpolations_are_not_boundaries() {
        let t = "service a {\n  env {\n    X = \"${b.host}\"\n  }\n}\n";
        assert_eq!(chunks(t).len(), 1);
    }
}
