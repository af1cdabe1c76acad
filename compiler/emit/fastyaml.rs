//! A streaming YAML writer for serde values, byte-for-byte the output of serde_yaml_ng
//! (libyaml's emitter: block style, two-space indentation, sequences in mappings not
//! indented, libyaml's choice of plain, single-quoted, double-quoted or literal scalars)
//! at a fraction of the cost. The rare shapes it does not write itself (complex keys,
//! scalars at the top level, literals that keep trailing line breaks) are reported as
//! unsupported, and the caller falls back to serde_yaml_ng. `tests/yaml.rs` checks the
//! two agree on every example and on random values.

use std::cell::RefCell;
use std::fmt::Write as _;

use serde::ser::{self, Serialize};

/// Why a value could not be written here.
#[derive(Debug)]
pub enum Error {
    /// A shape this writer leaves to serde_yaml_ng.
    Unsupported(&'static str),
    Custom(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::Custom(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::Custom(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, Error>;

/// Writes `value` as a YAML document.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let mut out = String::with_capacity(2048);
    append(value, &mut out)?;
    Ok(out)
}

/// Appends `value` as a YAML document to `out`; on an error `out` is left as it was.
pub fn append<T: Serialize + ?Sized>(value: &T, out: &mut String) -> Result<()> {
    let start = out.len();
    let mut w = Writer {
        out: std::mem::take(out),
        pending: Pending::Root,
    };
    let result = value.serialize(&mut w).and(match w.pending {
        Pending::Root => Err(Error::Unsupported("empty document")),
        _ => Ok(()),
    });
    *out = w.out;
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// What was written just before the next node.
#[derive(Clone, Copy)]
enum Pending {
    /// Nothing: the node is the document.
    Root,
    /// `key:` at this indentation.
    AfterKey(usize),
    /// `- ` at this indentation.
    AfterDash(usize),
    /// The node was written.
    Done,
}

struct Writer {
    out: String,
    pending: Pending,
}

/// Appends `n` spaces.
#[inline]
pub fn indent(out: &mut String, n: usize) {
    let written: std::result::Result<(), std::convert::Infallible> = spaces(n, |run| {
        out.push_str(run);
        Ok(())
    });
    let Ok(()) = written;
}

/// Hands `put` `n` spaces, as runs of at most 64 (one copy each rather than one per
/// space); the first error `put` gives is given back.
#[inline]
pub fn spaces<E>(
    n: usize,
    mut put: impl FnMut(&'static str) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        put(SPACES)?;
        n -= SPACES.len();
    }
    put(&SPACES[..n])
}

/// Most scalars are names, paths and versions: ASCII letters, digits and `_ . / -`, not
/// starting with a digit, a sign, a dot or a dash, and not a YAML keyword. Those are plain
/// in every position, and need no further analysis.
pub fn obviously_plain(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == b'_' || first == b'/')
        && name_bytes(b)
        && !is_keyword(s)
}

/// [`obviously_plain`] of a struct's field name, at most 128 bytes long (longer keys
/// are complex keys), remembered per name. Field names are static text, so a name's
/// address and length stand for its text for as long as the program runs.
fn plain_field(k: &'static str) -> bool {
    thread_local! {
        static SEEN: RefCell<[(usize, usize, bool); FIELDS]> =
            const { RefCell::new([(0, 0, false); FIELDS]) };
    }
    let (addr, len) = (k.as_ptr() as usize, k.len());
    // Fibonacci hashing of the address: the top bits pick the slot.
    let slot =
        (addr.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - FIELDS.ilog2())) % FIELDS;
    let work = || len <= 128 && obviously_plain(k);
    SEEN.with(|seen| {
        let Ok(mut seen) = seen.try_borrow_mut() else {
            return work();
        };
        match seen.get_mut(slot) {
            Some((a, l, plain)) if *a == addr && *l == len => *plain,
            Some(entry) => {
                let plain = work();
                *entry = (addr, len, plain);
                plain
            }
            None => work(),
        }
    })
}

/// Slots for field names in [`plain_field`]: a power of two.
const FIELDS: usize = 256;

/// Whether every byte is an ASCII letter or digit, or one of `_ . / -`.
pub fn name_bytes(b: &[u8]) -> bool {
    // Eight bytes at a time without a branch between them, then the rest.
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        if !chunk
            .iter()
            .fold(true, |ok, &c| ok & NAME_BYTES[usize::from(c)])
        {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&c| NAME_BYTES[usize::from(c)])
}

/// An ASCII letter or digit, or one of `_ . / -`.
const fn name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-')
}

/// [`name_byte`] for every byte, looked up: most scalars are short, and a lookup per byte
/// is cheaper than working the test out.
static NAME_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = name_byte(i as u8);
        i += 1;
    }
    t
};

/// The words YAML reads as null, a boolean, an infinity or not-a-number when plain.
fn is_keyword(s: &str) -> bool {
    match s.len() {
        3 => s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("nan"),
        4 => matches!(s, "null" | "Null" | "NULL" | "true" | "True" | "TRUE"),
        5 => matches!(s, "false" | "False" | "FALSE"),
        8 => s.eq_ignore_ascii_case("infinity"),
        _ => false,
    }
}

/// How a scalar is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// What libyaml's analysis finds in a scalar (`yaml_emitter_analyze_scalar`).
#[derive(Debug, PartialEq, Eq)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `IS_PRINTABLE`.
fn is_printable(c: char) -> bool {
    let c = c as u32;
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (0xA0..=0xD7FF).contains(&c)
        || ((0xE000..=0xFFFD).contains(&c) && c != 0xFEFF)
        || (0x10000..=0x10FFFF).contains(&c)
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    analyze_line(s.as_bytes()).unwrap_or_else(|| analyze_chars(s))
}

/// [`analyze`] of a non-empty string of one line of ASCII (most of those that are not
/// [`obviously_plain`]), a byte at a time; `None` for any other string.
fn analyze_line(b: &[u8]) -> Option<Analysis> {
    let blank = |c: Option<&u8>| c.is_none_or(|&c| c == b' ' || c == b'\t');
    let (&first, &last) = (b.first()?, b.last()?);
    let mut block_indicators = b.starts_with(b"---")
        || b.starts_with(b"...")
        || b"#,[]{}&*!|>'\"%@`".contains(&first)
        || (matches!(first, b'?' | b':' | b'-') && blank(b.get(1)));
    let mut special = false;
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x80 || c == b'\n' || c == b'\r' {
            return None;
        }
        // After the first: `: ` and ` #` (the first has its own indicators, above).
        if i > 0
            && ((c == b':' && blank(b.get(i + 1)))
                || (c == b'#' && matches!(b[i - 1], b' ' | b'\t')))
        {
            block_indicators = true;
        }
        special |= !(0x20..=0x7E).contains(&c);
    }
    let (leading_space, trailing_space) = (first == b' ', last == b' ');
    Some(Analysis {
        multiline: false,
        block_plain_allowed: !(leading_space || trailing_space || special || block_indicators),
        single_quoted_allowed: !special,
        block_allowed: !(trailing_space || special),
    })
}

/// [`analyze`] of any non-empty string, a character at a time, as libyaml does.
fn analyze_chars(s: &str) -> Analysis {
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let blank = |c: Option<char>| c.is_none_or(|c| c == ' ' || c == '\t' || is_break(c));
    let mut preceded_by_whitespace = true;
    let mut it = s.chars().peekable();
    let mut first = true;
    while let Some(c) = it.next() {
        let next = it.peek().copied();
        let followed_by_whitespace = blank(next);
        let last = next.is_none();
        if first {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                block_indicators = true;
            }
            if (c == '?' || c == ':') && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '-' && followed_by_whitespace {
                block_indicators = true;
            }
        } else {
            if c == ':' && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '#' && preceded_by_whitespace {
                block_indicators = true;
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            if first {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            if first {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = c == ' ' || c == '\t' || is_break(c);
        first = false;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.block_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// `digits_but_not_number` of serde_yaml_ng: leading zeros make a string.
fn digits_but_not_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn int_radix(rest: &str, radix: u32) -> bool {
    !rest.starts_with(['+', '-']) && u128::from_str_radix(rest, radix).is_ok()
}

/// Whether a plain scalar would read back as an integer (serde_yaml_ng's rules).
fn looks_like_int(s: &str) -> bool {
    let unpositive = s.strip_prefix('+').unwrap_or(s);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix)
            && int_radix(rest, radix)
        {
            return true;
        }
    }
    if !unpositive.starts_with(['+', '-'])
        && !digits_but_not_number(s)
        && unpositive.parse::<u128>().is_ok()
    {
        return true;
    }
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = s.strip_prefix(prefix)
            && i128::from_str_radix(&format!("-{rest}"), radix).is_ok()
        {
            return true;
        }
    }
    !digits_but_not_number(s) && s.parse::<i128>().is_ok()
}

fn looks_like_float(s: &str) -> bool {
    let unpositive = match s.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return false,
        Some(u) => u,
        None => s,
    };
    if matches!(unpositive, ".inf" | ".Inf" | ".INF")
        || matches!(s, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
    {
        return true;
    }
    unpositive.parse::<f64>().is_ok_and(f64::is_finite)
}

/// The style serde_yaml_ng asks for, then the one libyaml settles on.
fn style(s: &str, key: bool) -> Style {
    if obviously_plain(s) {
        return Style::Plain;
    }
    let requested = if s.contains('\n') {
        Style::Literal
    } else if s.is_empty()
        || matches!(
            s,
            "null" | "Null" | "NULL" | "~" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        )
        || looks_like_int(s)
        || (!digits_but_not_number(s) && looks_like_float(s))
        || digits_but_not_number(s)
    {
        Style::Single
    } else {
        Style::Plain
    };
    let a = analyze(s);
    let mut style = requested;
    if key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || key) {
        style = Style::Double;
    }
    style
}

/// Appends `s` as a map's value is written on the line of its key (plain, quoted or
/// escaped, as the rest of this writer writes it), and says whether it could be: a
/// value that takes lines of its own (a block of text) is not written.
pub fn append_inline_value(out: &mut String, s: &str) -> bool {
    matches!(in_line(out, s, style(s, false)), Ok(true))
}

/// Appends `s` in `style` when it is one of the styles written on one line, and says
/// whether it was (nothing is written for a block of text, or on an error). Every
/// scalar and key is written through it: inlined, a plain one costs no more than a copy.
#[inline(always)]
fn in_line(out: &mut String, s: &str, style: Style) -> Result<bool> {
    match style {
        Style::Plain => out.push_str(s),
        Style::Single => write_single(out, s)?,
        Style::Double => write_double(out, s),
        Style::Literal => return Ok(false),
    }
    Ok(true)
}

fn write_single(out: &mut String, s: &str) -> Result<()> {
    // libyaml folds line breaks inside single quotes; left to it.
    if s.contains(is_break) {
        return Err(Error::Unsupported("line break in single quotes"));
    }
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    Ok(())
}

fn write_double(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        let escape = !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\';
        if !escape {
            out.push(c);
            continue;
        }
        out.push('\\');
        match c {
            '\0' => out.push('0'),
            '\u{07}' => out.push('a'),
            '\u{08}' => out.push('b'),
            '\t' => out.push('t'),
            '\n' => out.push('n'),
            '\u{0B}' => out.push('v'),
            '\u{0C}' => out.push('f'),
            '\r' => out.push('r'),
            '\u{1B}' => out.push('e'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '\u{85}' => out.push('N'),
            '\u{A0}' => out.push('_'),
            '\u{2028}' => out.push('L'),
            '\u{2029}' => out.push('P'),
            c if (c as u32) <= 0xFF => {
                let _ = write!(out, "x{:02X}", c as u32);
            }
            c if (c as u32) <= 0xFFFF => {
                let _ = write!(out, "u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
}

/// A literal block: `|` with libyaml's indentation and chomping hints, then the lines.
fn write_literal(out: &mut String, s: &str, at: usize) -> Result<()> {
    out.push('|');
    let first = s.chars().next();
    if first.is_some_and(|c| c == ' ' || is_break(c)) {
        out.push('2');
    }
    let mut rev = s.chars().rev();
    match (rev.next(), rev.next()) {
        (None, _) => out.push('-'),
        (Some(last), _) if !is_break(last) => out.push('-'),
        // A string of one break, or ending with two: `|+`, which libyaml closes with `...`.
        (Some(_), None) => {
            return Err(Error::Unsupported(
                "literal that keeps trailing line breaks",
            ));
        }
        (Some(_), Some(prev)) if is_break(prev) => {
            return Err(Error::Unsupported(
                "literal that keeps trailing line breaks",
            ));
        }
        _ => {}
    }
    if s.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        return Err(Error::Unsupported("literal with other line breaks"));
    }
    out.push('\n');
    for line in s.split_inclusive('\n') {
        let text = line.strip_suffix('\n').unwrap_or(line);
        if !text.is_empty() {
            indent(out, at);
            out.push_str(text);
        }
        out.push('\n');
    }
    Ok(())
}

impl Writer {
    /// Writes a scalar in the place `pending` describes.
    fn scalar(&mut self, s: &str) -> Result<()> {
        let (prefix_space, block_indent) = match self.pending {
            Pending::AfterKey(i) => (true, i + 2),
            Pending::AfterDash(i) => (false, i + 2),
            Pending::Root => return Err(Error::Unsupported("scalar document")),
            Pending::Done => return Err(Error::Custom("two values for one place".into())),
        };
        if prefix_space {
            self.out.push(' ');
        }
        if in_line(&mut self.out, s, style(s, false))? {
            self.out.push('\n');
        } else {
            write_literal(&mut self.out, s, block_indent)?;
        }
        self.pending = Pending::Done;
        Ok(())
    }

    /// A raw scalar (numbers, booleans) that needs no analysis.
    fn raw(&mut self, s: &str) -> Result<()> {
        match self.pending {
            Pending::AfterKey(_) => {
                self.out.push(' ');
            }
            Pending::AfterDash(_) => {}
            Pending::Root => return Err(Error::Unsupported("scalar document")),
            Pending::Done => return Err(Error::Custom("two values for one place".into())),
        }
        self.out.push_str(s);
        self.out.push('\n');
        self.pending = Pending::Done;
        Ok(())
    }

    fn key(&mut self, k: &str, at: usize) -> Result<()> {
        self.key_in(k, at, k.len() <= 128 && obviously_plain(k))
    }

    /// A struct's field name: whether it is plain is looked up, as the same few hundred
    /// names come again in every object.
    fn field_key(&mut self, k: &'static str, at: usize) -> Result<()> {
        self.key_in(k, at, plain_field(k))
    }

    /// A key, `plain` when it is known to need no quotes (a name, a number).
    fn key_in(&mut self, k: &str, at: usize, plain: bool) -> Result<()> {
        let style = if plain {
            Style::Plain
        } else if k.len() > 128 || k.contains(is_break) {
            // libyaml writes long or multi-line keys as complex keys (`? …`).
            return Err(Error::Unsupported("complex key"));
        } else {
            style(k, true)
        };
        if !in_line(&mut self.out, k, style)? {
            return Err(Error::Unsupported("literal key"));
        }
        self.out.push(':');
        self.pending = Pending::AfterKey(at);
        Ok(())
    }
}

/// An open mapping or sequence.
pub struct Compound<'w> {
    w: &'w mut Writer,
    /// Indentation of its keys or dashes.
    at: usize,
    /// Where it was opened, for the first entry and for an empty collection.
    opened: Pending,
    entries: usize,
}

impl<'w> Compound<'w> {
    fn map(w: &'w mut Writer) -> Compound<'w> {
        let opened = w.pending;
        let at = match opened {
            Pending::AfterKey(i) | Pending::AfterDash(i) => i + 2,
            _ => 0,
        };
        Compound {
            w,
            at,
            opened,
            entries: 0,
        }
    }

    fn seq(w: &'w mut Writer) -> Compound<'w> {
        let opened = w.pending;
        let at = match opened {
            Pending::AfterKey(i) => i,
            Pending::AfterDash(i) => i + 2,
            _ => 0,
        };
        Compound {
            w,
            at,
            opened,
            entries: 0,
        }
    }

    /// Positions the output for the next key of a mapping.
    fn next_key(&mut self) {
        if self.entries == 0 {
            if let Pending::AfterKey(_) = self.opened {
                self.w.out.push('\n');
                indent(&mut self.w.out, self.at);
            }
        } else {
            indent(&mut self.w.out, self.at);
        }
        self.entries += 1;
    }

    /// Positions the output for the next item of a sequence.
    fn next_item(&mut self) {
        if self.entries == 0 {
            if let Pending::AfterKey(_) = self.opened {
                self.w.out.push('\n');
                indent(&mut self.w.out, self.at);
            }
        } else {
            indent(&mut self.w.out, self.at);
        }
        self.w.out.push_str("- ");
        self.w.pending = Pending::AfterDash(self.at);
        self.entries += 1;
    }

    fn finish(self, empty: &str) -> Result<()> {
        if self.entries == 0 {
            match self.opened {
                Pending::AfterKey(_) => {
                    self.w.out.push(' ');
                }
                Pending::Root => return Err(Error::Unsupported("empty document")),
                _ => {}
            }
            self.w.out.push_str(empty);
            self.w.out.push('\n');
        }
        self.w.pending = Pending::Done;
        Ok(())
    }
}

/// Writes a map key in place: strings, characters, integers and unit variants.
struct KeyWriter<'c, 'w>(&'c mut Compound<'w>);

impl KeyWriter<'_, '_> {
    fn write(self, text: &str) -> Result<()> {
        self.0.next_key();
        self.0.w.key(text, self.0.at)
    }
}

macro_rules! key_int {
    ($($f:ident: $t:ty),*) => {
        // serde_yaml_ng writes an integer key as a plain number.
        $(fn $f(self, v: $t) -> Result<()> {
            self.0.next_key();
            self.0.w.key_in(itoa::Buffer::new().format(v), self.0.at, true)
        })*
    };
}

impl ser::Serializer for KeyWriter<'_, '_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<()> {
        self.write(v)
    }
    fn serialize_char(self, _: char) -> Result<()> {
        // serde_yaml_ng quotes a character key whatever it is; left to it.
        Err(Error::Unsupported("character key"))
    }
    key_int!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    fn serialize_bool(self, _: bool) -> Result<()> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_f32(self, _: f32) -> Result<()> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_f64(self, _: f64) -> Result<()> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<()> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_none(self) -> Result<()> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<()> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.write(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<()> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(Error::Unsupported("non-string key"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Error::Unsupported("non-string key"))
    }
}

macro_rules! raw_int {
    ($($f:ident: $t:ty),*) => {
        $(fn $f(self, v: $t) -> Result<()> { self.raw(itoa::Buffer::new().format(v)) })*
    };
}

impl<'w> ser::Serializer for &'w mut Writer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w>;
    type SerializeTuple = Compound<'w>;
    type SerializeTupleStruct = Compound<'w>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Compound<'w>;
    type SerializeStruct = Compound<'w>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.raw(if v { "true" } else { "false" })
    }
    raw_int!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_i128: i128, serialize_u128: u128);
    fn serialize_f32(self, _: f32) -> Result<()> {
        Err(Error::Unsupported("float"))
    }
    fn serialize_f64(self, _: f64) -> Result<()> {
        Err(Error::Unsupported("float"))
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.scalar(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.scalar(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<()> {
        Err(Error::Unsupported("bytes"))
    }
    fn serialize_none(self) -> Result<()> {
        self.raw("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.raw("null")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<()> {
        self.raw("null")
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.scalar(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<()> {
        Err(Error::Unsupported("enum variant"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w>> {
        Ok(Compound::seq(self))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'w>> {
        Ok(Compound::seq(self))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'w>> {
        Ok(Compound::seq(self))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Error::Unsupported("enum variant"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'w>> {
        Ok(Compound::map(self))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'w>> {
        Ok(Compound::map(self))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Error::Unsupported("enum variant"))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.next_item();
        v.serialize(&mut *self.w)
    }
    fn end(self) -> Result<()> {
        self.finish("[]")
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<()> {
        self.finish("[]")
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<()> {
        self.finish("[]")
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<()> {
        k.serialize(KeyWriter(self))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        v.serialize(&mut *self.w)
    }
    fn end(self) -> Result<()> {
        self.finish("{}")
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        self.next_key();
        self.w.field_key(key, self.at)?;
        v.serialize(&mut *self.w)
    }
    fn end(self) -> Result<()> {
        self.finish("{}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_styles_follow_libyaml() {
        assert_eq!(style("plain", false), Style::Plain);
        assert_eq!(style("1", false), Style::Single);
        assert_eq!(style("0123", false), Style::Single);
        assert_eq!(style("true", false), Style::Single);
        assert_eq!(style("", false), Style::Single);
        assert_eq!(style("1.5", false), Style::Single);
        assert_eq!(style("a: b", false), Style::Single);
        assert_eq!(style("- x", false), Style::Single);
        assert_eq!(style("tab\there", false), Style::Double);
        assert_eq!(style("line\nbreak", false), Style::Literal);
        assert_eq!(style("line \nbreak", false), Style::Double);
        assert_eq!(style("😀", false), Style::Plain);
        assert_eq!(style("\u{feff}x", false), Style::Double);
        assert_eq!(style("é", false), Style::Plain);
    }

    #[test]
    fn a_line_of_ascii_is_analysed_as_character_by_character() {
        // Every string of up to four of the characters the analysis looks at (and a few
        // it does not), and some longer ones.
        let alphabet = [
            "a", "1", " ", "\t", ":", "#", "-", "?", ".", "'", "\"", "\n", "\r", "é", "\u{1}", "{",
        ];
        let mut texts = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(last.iter().cloned());
        }
        texts.extend(
            [
                "---x", "...", "a: b", "a:b", "a #b", "a#b", "x- ", "@x", "%x",
            ]
            .map(String::from),
        );
        for t in texts.iter().filter(|t| !t.is_empty()) {
            let one_line_ascii = t.is_ascii() && !t.contains(['\n', '\r']);
            match analyze_line(t.as_bytes()) {
                Some(a) => {
                    assert!(one_line_ascii, "{t:?}");
                    assert_eq!(a, analyze_chars(t), "{t:?}");
                }
                None => assert!(!one_line_ascii, "{t:?}"),
            }
        }
    }

    #[test]
    fn name_bytes_are_letters_digits_and_four_marks() {
        for c in 0..=u8::MAX {
            let expected = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-');
            assert_eq!(NAME_BYTES[usize::from(c)], expected, "byte {c:#04x}");
        }
        let long = "a".repeat(40);
        assert!(obviously_plain(&long));
        assert!(!obviously_plain(&format!("{long}:")));
        assert!(!obviously_plain(&format!("{long}{long} x")));
        assert!(!obviously_plain("-a"));
        assert!(!obviously_plain("1a"));
        // A byte that is not a name's, anywhere in names of every length around the
        // eight bytes looked at together.
        for len in 0..=20 {
            assert!(name_bytes(&b"a".repeat(len)), "{len}");
            for at in 0..len {
                let mut b = b"a".repeat(len);
                for bad in [b' ', b':', 0x80, b'\n'] {
                    b[at] = bad;
                    assert!(!name_bytes(&b), "{len} {at} {bad}");
                }
            }
        }
    }

    /// A struct's field name is written as any key is, whether it is remembered or not.
    #[test]
    fn field_names_are_written_as_keys_are() {
        #[derive(serde::Serialize)]
        struct Fields {
            plain: u8,
            #[serde(rename = "true")]
            keyword: u8,
            #[serde(rename = "a: b")]
            colon: u8,
            #[serde(rename = "8080")]
            number: u8,
            #[serde(rename = "$ref")]
            dollar: u8,
        }
        let v = Fields {
            plain: 1,
            keyword: 2,
            colon: 3,
            number: 4,
            dollar: 5,
        };
        let expected = "plain: 1\n'true': 2\n'a: b': 3\n'8080': 4\n$ref: 5\n";
        // Written again, each name is remembered from the first time.
        for _ in 0..3 {
            assert_eq!(to_string(&v).unwrap(), expected);
        }
        assert_eq!(serde_yaml_ng::to_string(&v).unwrap(), expected);
    }
}
