//! Renders diagnostics for people (miette, with or without colour), as the JSON object of
//! LANGUAGE.md §7, and as GitHub Actions workflow commands. All three read the same model.

use std::fmt;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::source::{SourceMap, Span};

/// Output formats of `check` and `build`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rendered for a terminal, with source snippets.
    Human,
    /// One JSON object, as LANGUAGE.md §7 defines it.
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
}

/// Renders diagnostics for a terminal; `color` chooses ANSI colours.
pub fn human(diags: &[Diagnostic], sources: &SourceMap, color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let view = MietteView::new(d, sources);
        if handler.render_report(&mut out, &view).is_err() {
            out.push_str(&plain_line(d, sources));
        }
        out.push('\n');
    }
    out
}

/// A one-line fallback and summary form: `file:line:col: error[E0101]: message`.
pub fn plain_line(d: &Diagnostic, sources: &SourceMap) -> String {
    let (file, lc) = position(d.span, sources);
    format!(
        "{file}:{}:{}: {}[{}]: {}\n",
        lc.0,
        lc.1,
        d.severity.as_str(),
        d.code,
        d.message
    )
}

fn position(span: Span, sources: &SourceMap) -> (String, (usize, usize)) {
    match sources.get(span.source) {
        Some(f) => {
            let lc = f.line_col(span.start as usize);
            (f.name(), (lc.line, lc.column))
        }
        None => ("<unknown>".to_string(), (1, 1)),
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: &'a str,
    message: &'a str,
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    help: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: String,
    line: usize,
    column: usize,
    message: &'a str,
}

/// The JSON report: lines and columns 1-based, columns in Unicode scalar values, the end
/// position exclusive (the column just after the last character).
pub fn json(diags: &[Diagnostic], sources: &SourceMap) -> String {
    json_many(&[(diags, sources)])
}

/// One JSON report for the diagnostics of several programs.
pub fn json_many(programs: &[(&[Diagnostic], &SourceMap)]) -> String {
    let report = JsonReport {
        diagnostics: programs
            .iter()
            .flat_map(|(diags, sources)| diags.iter().map(move |d| (d, *sources)))
            .map(|(d, sources)| {
                let (file, (line, column)) = position(d.span, sources);
                let end = sources
                    .get(d.span.source)
                    .map(|f| f.line_col(d.span.end as usize))
                    .map(|lc| (lc.line, lc.column))
                    .unwrap_or((line, column));
                JsonDiagnostic {
                    code: d.code.as_str(),
                    severity: d.severity.as_str(),
                    message: &d.message,
                    file,
                    line,
                    column,
                    end_line: end.0,
                    end_column: end.1,
                    help: d.help.as_deref(),
                    labels: d
                        .labels
                        .iter()
                        .map(|l| {
                            let (file, (line, column)) = position(l.span, sources);
                            JsonLabel {
                                file,
                                line,
                                column,
                                message: &l.message,
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    let mut s = serde_json::to_string(&report).unwrap_or_else(|_| "{\"diagnostics\":[]}".into());
    s.push('\n');
    s
}

/// GitHub Actions workflow commands: `::error file=…,line=…::message`.
pub fn github(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let (file, (line, col)) = position(d.span, sources);
        let (end_line, end_col) = sources
            .get(d.span.source)
            .map(|f| f.line_col(d.span.end as usize))
            .map(|lc| (lc.line, lc.column))
            .unwrap_or((line, col));
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        out.push_str(&format!(
            "::{level} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}\n",
            escape_property(&file),
            escape_property(&format!("{} {}", d.code, d.code.info().map_or("", |i| i.title))),
            escape_data(&message)
        ));
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Adapts one diagnostic to miette. Labels in the primary file are drawn on its snippet;
/// labels in other files become related notes with their own snippet.
struct MietteView {
    code: String,
    message: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<Arc<str>>>,
    labels: Vec<LabeledSpan>,
    related: Vec<MietteView>,
}

/// Lines longer than this are not drawn as snippets (the renderer cannot pad that far);
/// the diagnostic names the position instead.
const MAX_SNIPPET_LINE: usize = 4096;

fn snippet_fits(span: Span, sources: &SourceMap) -> bool {
    sources.get(span.source).is_some_and(|f| {
        [span.start as usize, span.end as usize].iter().all(|&o| {
            let line = f.line_of(o);
            let start = f.line_start(line);
            let end = f.text[start..]
                .find('\n')
                .map_or(f.text.len(), |n| start + n);
            end - start <= MAX_SNIPPET_LINE
        })
    })
}

impl MietteView {
    fn new(d: &Diagnostic, sources: &SourceMap) -> MietteView {
        if !snippet_fits(d.span, sources) || d.labels.iter().any(|l| !snippet_fits(l.span, sources))
        {
            let (file, (line, col)) = position(d.span, sources);
            return MietteView {
                code: d.code.to_string(),
                message: format!("{}\n  at {file}:{line}:{col}", d.message),
                severity: miette_severity(d.severity),
                help: d.help.clone(),
                source: None,
                labels: Vec::new(),
                related: Vec::new(),
            };
        }
        let file = sources.get(d.span.source);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            None,
            miette_span(d.span, file.map_or(0, |f| f.text.len())),
        )];
        let mut related = Vec::new();
        for l in &d.labels {
            if l.span.source == d.span.source {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.message.clone()),
                    miette_span(l.span, file.map_or(0, |f| f.text.len())),
                ));
            } else {
                let other = sources.get(l.span.source);
                related.push(MietteView {
                    code: String::new(),
                    message: l.message.clone(),
                    severity: miette::Severity::Advice,
                    help: None,
                    source: other.map(|f| NamedSource::new(f.name(), f.text.clone())),
                    labels: vec![LabeledSpan::new_primary_with_span(
                        None,
                        miette_span(l.span, other.map_or(0, |f| f.text.len())),
                    )],
                    related: Vec::new(),
                });
            }
        }
        MietteView {
            code: d.code.to_string(),
            message: d.message.clone(),
            severity: miette_severity(d.severity),
            help: d.help.clone(),
            source: file.map(|f| NamedSource::new(f.name(), f.text.clone())),
            labels,
            related,
        }
    }
}

fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn miette_span(span: Span, len: usize) -> miette::SourceSpan {
    let start = (span.start as usize).min(len);
    let end = (span.end as usize).min(len).max(start);
    (start, end - start).into()
}

impl fmt::Debug for MietteView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for MietteView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteView {}

impl miette::Diagnostic for MietteView {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.code.is_empty() {
            None
        } else {
            Some(Box::new(&self.code))
        }
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}
