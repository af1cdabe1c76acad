//! The one diagnostic model every phase reports with: a stable code, a severity, a
//! primary span, a message, secondary labels and a help line. Rendering (terminal, JSON,
//! GitHub annotations, LSP) lives in `render` and `lsp`; codes and their explanations in
//! `codes`; "did you mean" in `suggest`.

pub mod allow;
pub mod codes;
pub mod render;
pub mod suggest;

pub use codes::Code;

use crate::source::Span;

/// How serious a diagnostic is. Errors fail the build; warnings and infos do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A secondary span with a short message ("first declared here").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding about the program.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl crate::source::Spans for Diagnostic {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        f(&mut self.span);
        for l in &mut self.labels {
            f(&mut l.span);
        }
    }
}

impl Diagnostic {
    /// A diagnostic with the code's own severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            span,
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a help line only when there is something to say.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics a phase produced, kept in report order and free of exact duplicates
/// (the same program is checked once per environment; a finding is reported once).
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
    seen: std::collections::HashSet<(Code, Span, String)>,
}

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        if self.seen.insert((d.code, d.span, d.message.clone())) {
            self.list.push(d);
        }
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        for d in ds {
            self.push(d);
        }
    }

    /// Whether the same finding (code, place and message) was already reported.
    pub fn contains(&self, d: &Diagnostic) -> bool {
        self.seen.contains(&(d.code, d.span, d.message.clone()))
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.list.iter()
    }

    /// The diagnostics sorted by file and position, errors before warnings at one place.
    pub fn into_sorted(self) -> Vec<Diagnostic> {
        let mut v = self.list;
        v.sort_by(|a, b| {
            (a.span.source, a.span.start, a.severity, a.code.as_str()).cmp(&(
                b.span.source,
                b.span.start,
                b.severity,
                b.code.as_str(),
            ))
        });
        v
    }
}
