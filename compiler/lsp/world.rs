//! What the language server knows: the open documents (their text wins over the disk),
//! and the analysed programs. A file is analysed as part of the program that imports it
//! (a nearby file with a `platform` declaration), so that names from its siblings
//! resolve; a file of no program is analysed on its own, without the complaint that it
//! has no platform.

#![allow(clippy::disallowed_methods)]

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use lsp_types::{self as lsp, Url};

use crate::Compilation;
use crate::cli::FsLoader;
use crate::diag::{Code, Diagnostic, Severity};
use crate::resolve::Loader;
use crate::source::{Origin, SourceFile, SourceId, SourceMap, Span};
use crate::syntax::ParseCache;

/// An open document.
pub struct Doc {
    pub text: String,
    pub version: i32,
}

/// A compiled program.
pub struct Analysis {
    pub compilation: Compilation,
    /// The program has no platform of its own (a file analysed alone).
    pub standalone: bool,
}

impl Analysis {
    /// The source of a file of this program.
    pub fn source(&self, path: &str) -> Option<(SourceId, &SourceFile)> {
        let sources = &self.compilation.program.sources;
        let id = sources.find(&Origin::File(path.to_string()))?;
        Some((id, sources.get(id)?))
    }

    /// The files of this program on disk.
    pub fn files(&self) -> Vec<String> {
        let sources = &self.compilation.program.sources;
        (0..)
            .map_while(|i| sources.get(SourceId(i)))
            .filter_map(|f| f.path().map(str::to_string))
            .collect()
    }
}

#[derive(Default)]
pub struct World {
    pub docs: HashMap<String, Doc>,
    /// By root file.
    pub analyses: HashMap<String, Analysis>,
    /// The root whose program a file belongs to.
    pub root_of: HashMap<String, String>,
    /// Files that have diagnostics published, by root.
    published: HashMap<String, HashSet<String>>,
    /// The trees of the declarations parsed last time, reused when unchanged.
    parsed: Arc<ParseCache>,
    /// Analyses replaced by newer ones, freed once the diagnostics are out (freeing a
    /// large program takes a few milliseconds the user need not wait for).
    retired: Vec<Analysis>,
}

/// The documents over the disk.
struct Overlay<'a> {
    docs: &'a HashMap<String, Doc>,
    parsed: &'a ParseCache,
}

impl Loader for Overlay<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        match self.docs.get(path) {
            Some(d) => Ok(d.text.clone().into_bytes()),
            None => FsLoader.read(path),
        }
    }

    fn parse_cache(&self) -> Option<&ParseCache> {
        Some(self.parsed)
    }
}

/// Whether a text declares a platform (a line that starts with `platform `).
fn declares_platform(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("platform "))
}

pub fn path_of(uri: &Url) -> Option<String> {
    uri.to_file_path()
        .ok()
        .map(|p| crate::resolve::load::normalize(&p.to_string_lossy()))
}

pub fn uri_of(path: &str) -> Option<Url> {
    Url::from_file_path(path).ok()
}

/// The LSP range of a span.
pub fn range(file: &SourceFile, span: Span) -> lsp::Range {
    let (sl, sc) = file.utf16_position(span.start as usize);
    let (el, ec) = file.utf16_position(span.end as usize);
    lsp::Range::new(lsp::Position::new(sl, sc), lsp::Position::new(el, ec))
}

/// The location of a span, when it is in a file on disk.
pub fn location(sources: &SourceMap, span: Span) -> Option<lsp::Location> {
    let file = sources.get(span.source)?;
    Some(lsp::Location::new(uri_of(file.path()?)?, range(file, span)))
}

/// A diagnostic as the protocol has it: the same code, message and severity as
/// `sorchac check`, the help as a second line, labels as related information.
pub fn diagnostic(sources: &SourceMap, d: &Diagnostic) -> Option<lsp::Diagnostic> {
    let file = sources.get(d.span.source)?;
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(sources, l.span)?,
                message: l.message.clone(),
            })
        })
        .collect();
    Some(lsp::Diagnostic {
        range: range(file, d.span),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        source: Some("sorchac".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp::Diagnostic::default()
    })
}

impl World {
    fn text(&self, path: &str) -> Option<String> {
        match self.docs.get(path) {
            Some(d) => Some(d.text.clone()),
            None => std::fs::read_to_string(path).ok(),
        }
    }

    fn compile(&self, root: &str, standalone: bool) -> Option<Analysis> {
        // The last analysis of this program lends what an edit did not change.
        let prev = self.analyses.get(root).map(|a| &a.compilation);
        let loader = Overlay {
            docs: &self.docs,
            parsed: &self.parsed,
        };
        let mut c = crate::compile_after(root, &loader, prev).ok()?;
        if standalone {
            c.diagnostics.retain(|d| {
                !(d.code == Code::MISSING_FIELD && d.message.contains("no `platform`"))
            });
        }
        Some(Analysis {
            compilation: c,
            standalone,
        })
    }

    /// The root of the program a file belongs to: itself when it declares a platform,
    /// else a file nearby (same folder, then the one above) whose program imports it.
    fn find_root(&mut self, path: &str) -> (String, bool) {
        if self.text(path).is_some_and(|t| declares_platform(&t)) {
            return (path.to_string(), false);
        }
        if let Some(r) = self.root_of.get(path)
            && self
                .analyses
                .get(r)
                .is_some_and(|a| !a.standalone && a.files().iter().any(|f| f == path))
        {
            return (r.clone(), false);
        }
        let dir = Path::new(path).parent();
        let dirs = [dir, dir.and_then(Path::parent)];
        for d in dirs.into_iter().flatten() {
            let Ok(entries) = std::fs::read_dir(d) else {
                continue;
            };
            let mut candidates: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| crate::resolve::load::normalize(&e.path().to_string_lossy()))
                .filter(|p| p.ends_with(".sorcha") && p != path)
                .collect();
            candidates.sort();
            for c in candidates {
                if !self.text(&c).is_some_and(|t| declares_platform(&t)) {
                    continue;
                }
                if let Some(a) = self.compile(&c, false) {
                    let includes = a.files().iter().any(|f| f == path);
                    self.keep(c.clone(), a);
                    if includes {
                        return (c, false);
                    }
                }
            }
        }
        (path.to_string(), true)
    }

    /// Re-analyses what a change of `path` touches; returns the diagnostics to publish.
    pub fn changed(&mut self, path: &str) -> Vec<lsp::PublishDiagnosticsParams> {
        let (root, standalone) = self.find_root(path);
        let mut roots: Vec<(String, bool)> = vec![(root, standalone)];
        for (r, a) in &self.analyses {
            if !roots.iter().any(|(x, _)| x == r) && a.files().iter().any(|f| f == path) {
                roots.push((r.clone(), a.standalone));
            }
        }
        let mut out = Vec::new();
        for (root, standalone) in roots {
            let Some(a) = self.compile(&root, standalone) else {
                continue;
            };
            for f in a.files() {
                self.root_of.insert(f, root.clone());
            }
            out.extend(self.publish(&root, &a));
            self.keep(root, a);
        }
        out
    }

    fn publish(&mut self, root: &str, a: &Analysis) -> Vec<lsp::PublishDiagnosticsParams> {
        let sources = &a.compilation.program.sources;
        let mut by_file: HashMap<String, Vec<lsp::Diagnostic>> = HashMap::new();
        for f in a.files() {
            by_file.insert(f, Vec::new());
        }
        for d in &a.compilation.diagnostics {
            let Some(path) = sources.get(d.span.source).and_then(SourceFile::path) else {
                continue;
            };
            if let Some(ld) = diagnostic(sources, d) {
                by_file.entry(path.to_string()).or_default().push(ld);
            }
        }
        let before = self.published.remove(root).unwrap_or_default();
        let gone: Vec<String> = before
            .iter()
            .filter(|p| !by_file.contains_key(*p))
            .cloned()
            .collect();
        for g in gone {
            by_file.insert(g, Vec::new());
        }
        let mut files: Vec<_> = by_file.into_iter().collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut now = HashSet::new();
        let mut out = Vec::new();
        for (path, diagnostics) in files {
            // Only the files open here, or the ones this program had diagnostics in.
            if !self.docs.contains_key(&path) && diagnostics.is_empty() && !before.contains(&path) {
                continue;
            }
            let Some(uri) = uri_of(&path) else {
                continue;
            };
            if !diagnostics.is_empty() {
                now.insert(path.clone());
            }
            out.push(lsp::PublishDiagnosticsParams {
                uri,
                version: self.docs.get(&path).map(|d| d.version),
                diagnostics,
            });
        }
        self.published.insert(root.to_string(), now);
        out
    }

    fn keep(&mut self, root: String, a: Analysis) {
        if let Some(old) = self.analyses.insert(root, a) {
            self.retired.push(old);
        }
    }

    /// The work an answered edit leaves for the time before the next one, on a thread
    /// of its own so that the server is ready for that edit at once: copying the kept
    /// syntax trees that the next parse will reuse ([`ParseCache::prepare`]) and the
    /// checked declarations that the next check will reuse
    /// ([`crate::check::Memo::prepare`]), then freeing the analyses that newer ones
    /// replaced. One thread, not more: the thread that writes the diagnostics out must
    /// find a core free at once (on two cores, more background threads kept it waiting
    /// for milliseconds).
    pub fn between_edits(&mut self) {
        let retired = std::mem::take(&mut self.retired);
        let parsed = Arc::clone(&self.parsed);
        let memos: Vec<_> = self
            .analyses
            .values()
            .filter_map(|a| a.compilation.memo.clone())
            .collect();
        std::thread::spawn(move || {
            parsed.prepare();
            memos.iter().for_each(|m| m.prepare());
            drop(memos);
            drop(retired);
        });
    }

    /// The analysis a file is read through.
    pub fn analysis(&self, path: &str) -> Option<&Analysis> {
        let root = self.root_of.get(path).map_or(path, String::as_str);
        self.analyses.get(root).filter(|a| a.source(path).is_some())
    }

    /// Forgets a closed document; its file is read from the disk again.
    pub fn closed(&mut self, path: &str) -> Vec<lsp::PublishDiagnosticsParams> {
        self.docs.remove(path);
        let mut out = Vec::new();
        if self.analyses.get(path).is_some_and(|a| a.standalone) {
            self.analyses.remove(path);
            self.published.remove(path);
            if let Some(uri) = uri_of(path) {
                out.push(lsp::PublishDiagnosticsParams {
                    uri,
                    version: None,
                    diagnostics: Vec::new(),
                });
            }
        }
        out
    }
}
