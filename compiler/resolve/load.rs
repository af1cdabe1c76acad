//! Loads a program: the root file, every file it imports (relative to the importing
//! file), the standard-library modules it uses, and the files read by `file("...")`. All
//! reading goes through a [`Loader`], so the core stays free of I/O. Import cycles and
//! missing files are E0801; a file that is not UTF-8 text is E0803.

use foldhash::{HashMap, HashSet, HashSetExt};

use super::stdlib;
use crate::diag::suggest::did_you_mean;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{Origin, SourceId, SourceMap, Span};
use crate::syntax::ast::{self, Item};
use crate::syntax::chunk::chunk_starts;
use crate::syntax::{ParseCache, parse_chunked, parse_file_cached, parse_keyed};

/// Reads the files of a program. The CLI reads the disk; the language server overlays
/// open editor buffers; tests serve files from memory.
pub trait Loader {
    /// The bytes of the file at `path` (a path as the user wrote it, joined with `/`), or
    /// a short reason it cannot be read ("no such file", "is a directory").
    fn read(&self, path: &str) -> Result<Vec<u8>, String>;

    /// Where to keep the trees of parsed declarations between compilations of the same
    /// files (the language server's); none by default.
    fn parse_cache(&self) -> Option<&ParseCache> {
        None
    }
}

/// Files served from memory, for tests and embedding.
#[derive(Default, Clone, Debug)]
pub struct MemoryLoader {
    pub files: HashMap<String, Vec<u8>>,
}

impl MemoryLoader {
    pub fn new() -> MemoryLoader {
        MemoryLoader::default()
    }

    pub fn with(mut self, path: &str, text: &str) -> MemoryLoader {
        self.files.insert(normalize(path), text.as_bytes().to_vec());
        self
    }

    /// A file of any bytes (not necessarily text).
    pub fn with_bytes(mut self, path: &str, bytes: Vec<u8>) -> MemoryLoader {
        self.files.insert(normalize(path), bytes);
        self
    }
}

impl Loader for MemoryLoader {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| "no such file".to_string())
    }
}

/// The contents of a `file("...")` call, read at compile time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileRead {
    Text(String),
    Missing(String),
    NotText,
}

/// Everything the program reads, parsed.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    pub files: Vec<ast::File>,
    /// Standard-library modules by name, to the index in `files`.
    pub std_modules: HashMap<String, usize>,
    /// `file("path")` contents by (the file the call is written in, the path as written).
    pub file_reads: HashMap<(SourceId, String), FileRead>,
}

/// Joins `rel` to the directory of `from` and removes `.` and `..` segments lexically.
pub fn join_relative(from: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        return normalize(rel);
    }
    let dir = match from.rfind('/') {
        Some(i) => &from[..i],
        None => "",
    };
    if dir.is_empty() {
        normalize(rel)
    } else {
        normalize(&format!("{dir}/{rel}"))
    }
}

/// Lexical normalisation: `a/./b/../c` -> `a/c`. Leading `..` segments are kept.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !absolute {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// Decodes source bytes: a file that is not UTF-8 text (or holds NUL bytes, as binary
/// files do) is refused.
fn decode(bytes: Vec<u8>) -> Result<String, usize> {
    match String::from_utf8(bytes) {
        Ok(s) => match s.find('\0') {
            Some(i) => Err(i),
            None => Ok(s),
        },
        Err(e) => Err(e.utf8_error().valid_up_to()),
    }
}

/// Loads the root file and everything it pulls in. `root_text` may supply the root's
/// text directly (the language server's open buffer); otherwise the loader reads it.
pub fn load(root: &str, loader: &dyn Loader, diags: &mut Diagnostics) -> Result<Loaded, String> {
    let mut l = Loaded::default();
    let root_bytes = loader.read(root)?;
    let mut stack: Vec<String> = Vec::new();
    let mut done: HashSet<String> = HashSet::new();
    load_file(
        &mut l,
        &normalize(root),
        root_bytes,
        loader,
        diags,
        &mut stack,
        &mut done,
    );
    Ok(l)
}

fn load_file(
    l: &mut Loaded,
    path: &str,
    bytes: Vec<u8>,
    loader: &dyn Loader,
    diags: &mut Diagnostics,
    stack: &mut Vec<String>,
    done: &mut HashSet<String>,
) {
    done.insert(path.to_string());
    let (text, bad_at) = match decode(bytes) {
        Ok(t) => (t, None),
        Err(at) => (String::new(), Some(at)),
    };
    // The source map and the parser share the one copy of the text.
    let text: std::sync::Arc<str> = text.into();
    let id = l
        .sources
        .add(Origin::File(path.to_string()), std::sync::Arc::clone(&text));
    if let Some(at) = bad_at {
        diags.push(
            Diagnostic::new(
                Code::NOT_TEXT,
                Span::new(id, 0, 0),
                format!("`{path}` is not UTF-8 text (first bad byte at offset {at})"),
            )
            .with_help("a `.sorcha` file is UTF-8 text; is this the right file?"),
        );
        l.files.push(ast::File {
            source: id,
            items: Vec::new(),
        });
        return;
    }
    let cache = loader.parse_cache().map(|c| (c, path));
    // Without a cache to keep trees in, declarations are keyed as they are parsed.
    let (file, parse_diags) = match (l.sources.get(id), cache) {
        (Some(f), None) => parse_keyed(id, &text, || f.chunk_starts(chunk_starts)),
        (Some(f), Some(_)) => parse_chunked(id, &text, f.chunk_starts(chunk_starts), cache),
        (None, _) => parse_file_cached(id, &text, cache),
    };
    diags.extend(parse_diags);
    stack.push(path.to_string());
    let index = l.files.len();
    l.files.push(file);
    // Imports and uses are few; copy them out so that loading can add files.
    let pulls: Vec<Item> = l.files[index]
        .items
        .iter()
        .filter(|i| matches!(i, Item::Import(_) | Item::Use(_)))
        .cloned()
        .collect();
    for item in &pulls {
        match item {
            Item::Import(imp) => import(l, path, id, imp, loader, diags, stack, done),
            Item::Use(u) => use_module(l, u, loader, diags),
            _ => {}
        }
    }
    let mut calls = Vec::new();
    for item in &l.files[index].items {
        match item {
            Item::Decl(d) => calls.extend(d.file_calls.iter().cloned()),
            Item::Template(t) => calls.extend(t.file_calls.iter().cloned()),
            _ => {}
        }
    }
    read_files(l, id, path, calls, loader);
    stack.pop();
}

/// How many files deep imports may nest.
pub const MAX_IMPORT_DEPTH: usize = 64;

#[allow(clippy::too_many_arguments)]
fn import(
    l: &mut Loaded,
    from: &str,
    _from_id: SourceId,
    imp: &ast::ImportDecl,
    loader: &dyn Loader,
    diags: &mut Diagnostics,
    stack: &mut Vec<String>,
    done: &mut HashSet<String>,
) {
    let Some(rel) = imp.path.as_plain() else {
        diags.push(Diagnostic::new(
            Code::IMPORT,
            imp.path.span,
            "an import path cannot interpolate values",
        ));
        return;
    };
    let target = join_relative(from, &rel);
    if let Some(pos) = stack.iter().position(|p| *p == target) {
        let mut chain: Vec<&str> = stack[pos..].iter().map(String::as_str).collect();
        chain.push(&target);
        diags.push(
            Diagnostic::new(
                Code::IMPORT,
                imp.path.span,
                format!("import cycle: {}", chain.join(" -> ")),
            )
            .with_help("files of one program may import each other only in one direction; move the shared declarations to a file both import"),
        );
        return;
    }
    if done.contains(&target) {
        return;
    }
    if stack.len() >= MAX_IMPORT_DEPTH {
        diags.push(
            Diagnostic::new(
                Code::LIMIT,
                imp.path.span,
                format!("imports nested more than {MAX_IMPORT_DEPTH} files deep"),
            )
            .with_help("import the files from one place (the file with the platform) instead of in a chain"),
        );
        return;
    }
    match loader.read(&target) {
        Ok(bytes) => load_file(l, &target, bytes, loader, diags, stack, done),
        Err(reason) => diags.push(
            Diagnostic::new(
                Code::IMPORT,
                imp.path.span,
                format!("cannot import `{rel}`: {reason}"),
            )
            .with_help(format!(
                "import paths are relative to the importing file; this one resolves to `{target}`"
            )),
        ),
    }
}

fn use_module(l: &mut Loaded, u: &ast::UseDecl, loader: &dyn Loader, diags: &mut Diagnostics) {
    let segs: Vec<&str> = u.path.segments.iter().map(|s| s.name.as_str()).collect();
    let (Some(&"std"), Some(module)) = (segs.first(), segs.get(1)) else {
        diags.push(
            Diagnostic::new(
                Code::UNKNOWN_REFERENCE,
                u.path.span,
                format!("unknown module `{}`", u.path.dotted()),
            )
            .with_help("`use` loads the standard library: `use std.postgres`; other files of the program are loaded with `import \"path\"`"),
        );
        return;
    };
    if segs.len() > 2 {
        diags.push(
            Diagnostic::new(
                Code::UNKNOWN_REFERENCE,
                u.path.span,
                format!("unknown module `{}`", u.path.dotted()),
            )
            .with_help(format!("use the module: `use std.{module}`")),
        );
        return;
    }
    if l.std_modules.contains_key(*module) {
        return;
    }
    let Some(text) = stdlib::module(module) else {
        diags.push(
            Diagnostic::new(
                Code::UNKNOWN_REFERENCE,
                u.path.segments[1].span,
                format!("the standard library has no module `{module}`"),
            )
            .with_help_opt(did_you_mean(module, stdlib::names()).or_else(|| {
                Some(format!(
                    "the modules are {}",
                    stdlib::names()
                        .map(|n| format!("`std.{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })),
        );
        return;
    };
    let id = l.sources.add(Origin::Stdlib(module.to_string()), text);
    // Kept under a name no file path can have.
    let key = format!("\0std.{module}");
    let (file, parse_diags) =
        parse_file_cached(id, text, loader.parse_cache().map(|c| (c, key.as_str())));
    diags.extend(parse_diags);
    l.std_modules.insert(module.to_string(), l.files.len());
    l.files.push(file);
}

/// Reads every `file("...")` a file's declarations call, relative to that file.
fn read_files(l: &mut Loaded, id: SourceId, path: &str, calls: Vec<String>, loader: &dyn Loader) {
    for rel in calls {
        let key = (id, rel.clone());
        if l.file_reads.contains_key(&key) {
            continue;
        }
        let target = join_relative(path, &rel);
        let read = match loader.read(&target) {
            Ok(bytes) => match decode(bytes) {
                Ok(t) => FileRead::Text(t),
                Err(_) => FileRead::NotText,
            },
            Err(reason) => FileRead::Missing(format!("{reason} (looked for `{target}`)")),
        };
        l.file_reads.insert(key, read);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_and_normalise_lexically() {
        assert_eq!(
            join_relative("a/b/p.sorcha", "c/d.sorcha"),
            "a/b/c/d.sorcha"
        );
        assert_eq!(join_relative("a/b/p.sorcha", "../x.sorcha"), "a/x.sorcha");
        assert_eq!(join_relative("p.sorcha", "./x.sorcha"), "x.sorcha");
        assert_eq!(join_relative("p.sorcha", "../x.sorcha"), "../x.sorcha");
        assert_eq!(normalize("/a/../../b"), "/b");
    }

    #[test]
    fn import_cycles_and_missing_files_are_e0801() {
        let loader = MemoryLoader::new()
            .with("a.sorcha", "import \"b.sorcha\"\nimport \"gone.sorcha\"\n")
            .with("b.sorcha", "import \"a.sorcha\"\n");
        let mut d = Diagnostics::new();
        let l = load("a.sorcha", &loader, &mut d).unwrap();
        assert_eq!(l.files.len(), 2);
        let msgs: Vec<_> = d.iter().map(|d| (d.code, d.message.clone())).collect();
        assert_eq!(
            msgs,
            vec![
                (
                    Code::IMPORT,
                    "import cycle: a.sorcha -> b.sorcha -> a.sorcha".into()
                ),
                (
                    Code::IMPORT,
                    "cannot import `gone.sorcha`: no such file".into()
                ),
            ]
        );
    }
}
