//! Diagnostics that point into a named file: `file:line:col` plus the snippet.
//!
//! Cedar's parse and validation errors carry their own *unnamed* source text, and miette prefers a
//! diagnostic's own `source_code()` over one attached to the report, so a plain report prints
//! `[9:34]` with no file name. [`InFile`] wraps any diagnostic and supplies the named source.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode, SourceSpan};

/// The text of one input file, shared by every diagnostic that points into it.
#[derive(Clone)]
pub struct SourceFile {
    /// The path as the user should see it (relative to where they ran the command, or
    /// `policies/...` for built-in rules).
    pub name: Arc<str>,
    /// The whole file.
    pub text: Arc<str>,
}

impl SourceFile {
    /// A source file from a display name and its text.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    fn named(&self) -> NamedSource<String> {
        NamedSource::new(&self.name, self.text.to_string()).with_language("cedar")
    }

    /// 1-based line and column of a byte offset, for messages that are not rendered by miette.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.len(), |nl| before.len() - nl - 1)
            + 1;
        (line, col)
    }
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.name)
            .finish()
    }
}

/// Any diagnostic, shown against a named file.
pub struct InFile {
    inner: Box<dyn Diagnostic + Send + Sync>,
    source: NamedSource<String>,
    file: Arc<str>,
}

impl InFile {
    /// Wraps `inner` so that its labels point into `file`.
    pub fn new(inner: impl Diagnostic + Send + Sync + 'static, file: &SourceFile) -> Self {
        Self {
            inner: Box::new(inner),
            source: file.named(),
            file: file.name.clone(),
        }
    }

    /// The display name of the file the diagnostic points into.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The wrapped diagnostic.
    pub fn inner(&self) -> &(dyn Diagnostic + Send + Sync) {
        self.inner.as_ref()
    }
}

impl fmt::Debug for InFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.inner)
    }
}

impl fmt::Display for InFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl std::error::Error for InFile {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl Diagnostic for InFile {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<Severity> {
        self.inner.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.help()
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.url()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        // A diagnostic without a label would print no location at all; point at the file start.
        match self.inner.labels() {
            Some(labels) => Some(labels),
            None => Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
                None,
                SourceSpan::from((0, 0)),
            )))),
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        self.inner.related()
    }
    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.inner.diagnostic_source()
    }
}

/// A problem found by trustcheck itself (not by Cedar), located in a file.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    /// What is wrong, Cedar style: lowercase, no trailing period, user input in backticks.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Where, as a byte span in the file.
    pub span: SourceSpan,
    /// A short label at the span.
    pub label: String,
}

impl Diagnostic for Problem {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            self.span,
        ))))
    }
}

/// Several diagnostics reported together (all rule errors at once, not the first only).
#[derive(Debug, thiserror::Error)]
#[error("{summary}")]
pub struct Diagnostics {
    /// One line that says how many problems were found and where.
    pub summary: String,
    /// The problems, in file order.
    pub items: Vec<InFile>,
}

impl Diagnostic for Diagnostics {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.items.iter().map(|d| d as &dyn Diagnostic)))
    }
}

/// Renders a diagnostic as plain text (no colour), as the CLI does when colour is off.
pub fn render_plain(diagnostic: &dyn Diagnostic) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    let mut out = String::new();
    // Rendering into a String cannot fail: fmt::Write for String is infallible.
    let _ = handler.render_report(&mut out, diagnostic);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based() {
        let f = SourceFile::new("a.cedar", "ab\ncd\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 2));
    }

    #[test]
    fn rendered_problem_names_the_file_and_line() {
        let f = SourceFile::new(
            "rules/x.cedar",
            "forbid (principal, action, resource)\nwhen { true };\n",
        );
        let p = Problem {
            message: "something is off".into(),
            help: Some("fix it".into()),
            span: SourceSpan::from((37, 4)),
            label: "here".into(),
        };
        let text = render_plain(&InFile::new(p, &f));
        assert!(text.contains("rules/x.cedar:2:1"), "{text}");
        assert!(text.contains("help: fix it"), "{text}");
    }
}
