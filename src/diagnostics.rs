//! Diagnostics that point into a named file: `file:line:col` plus the snippet.
//!
//! Cedar's parse and validation errors carry their own *unnamed* source text, and miette prefers a
//! diagnostic's own `source_code()` over one attached to the report, so a plain report prints
//! `[9:34]` with no file name. [`InFile`] wraps any diagnostic and supplies the named source.
//!
//! [`records`] flattens any diagnostic (and the problems grouped in a [`Diagnostics`]) into plain
//! located records, the machine-readable form `validate --format json` prints for editors and CI.
//!
//! This module must never print: it builds values and strings; the CLI decides where they go.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, Severity, SourceCode, SourceSpan,
    SpanContents,
};

/// The text of one input file, shared by every diagnostic that points into it.
#[derive(Clone)]
pub struct SourceFile {
    /// The path as the user should see it (relative to where they ran the command, or
    /// `policies/...` for built-in rules).
    pub name: Arc<str>,
    /// The whole file.
    pub text: Arc<str>,
    /// The language its snippets are highlighted as.
    language: &'static str,
}

/// How much of a long line a snippet shows on each side of the location, in bytes. A snapshot
/// written by `jq -c` is one line of many megabytes: a snippet must never print all of it.
pub const SNIPPET_WINDOW: usize = 160;

impl SourceFile {
    /// A source file from a display name and its text.
    ///
    /// Control and direction characters in the text are shown as `?` (as many as their bytes,
    /// so spans stay right): a snippet of a hostile file cannot drive the terminal.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let text = match crate::untrusted::same_length(&text) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(clean) => clean.into(),
        };
        Self {
            name: name.into(),
            text,
            language: "cedar",
        }
    }

    /// The same file, its snippets highlighted as `language` (e.g. `json`).
    pub fn with_language(mut self, language: &'static str) -> Self {
        self.language = language;
        self
    }

    /// 1-based line and column of a byte offset, for messages that are not rendered by miette.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = self
            .text
            .get(..floor_boundary(&self.text, offset))
            .unwrap_or_default();
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

impl SourceCode for SourceFile {
    /// Lines around `span` as usual, unless that is more than a few windows of text (a long
    /// line): then only [`SNIPPET_WINDOW`] bytes either side of the span, on its line, with the
    /// real line and column, so that `file:line:col` stays right whatever the line's length.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        lines_before: usize,
        lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &'a str = &self.text;
        let whole = text.as_bytes().read_span(span, lines_before, lines_after)?;
        let (data, at, line, column, count) = if whole.data().len() <= 4 * SNIPPET_WINDOW {
            (
                whole.data(),
                *whole.span(),
                whole.line(),
                whole.column(),
                whole.line_count(),
            )
        } else {
            let start = floor_boundary(text, span.offset().min(text.len()));
            let end = ceil_boundary(text, (span.offset() + span.len()).min(text.len()));
            let line_start = text
                .get(..start)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1);
            let line_end = text
                .get(end..)
                .and_then(|t| t.find('\n'))
                .map_or(text.len(), |i| end + i);
            // Without context lines miette asks where the span starts (its header): answer
            // exactly, from the span on.
            let lo = if lines_before == 0 && lines_after == 0 {
                start
            } else {
                floor_boundary(text, start.saturating_sub(SNIPPET_WINDOW)).max(line_start)
            };
            let hi = ceil_boundary(text, end.max(start + 1).saturating_add(SNIPPET_WINDOW))
                .min(line_end)
                .max(end);
            let data = text.get(lo..hi).unwrap_or_default().as_bytes();
            let line = text.get(..lo).map_or(0, |t| t.matches('\n').count());
            (
                data,
                SourceSpan::from((lo, hi - lo)),
                line,
                lo - line_start,
                1,
            )
        };
        let contents =
            MietteSpanContents::new_named(self.name.to_string(), data, at, line, column, count)
                .with_language(self.language);
        Ok(Box::new(contents))
    }
}

/// The nearest char boundary at or before `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The nearest char boundary at or after `at`.
fn ceil_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Any diagnostic, shown against a named file.
pub struct InFile {
    inner: Box<dyn Diagnostic + Send + Sync>,
    source: SourceFile,
    file: Arc<str>,
    code: Option<&'static str>,
}

impl InFile {
    /// Wraps `inner` so that its labels point into `file`.
    pub fn new(inner: impl Diagnostic + Send + Sync + 'static, file: &SourceFile) -> Self {
        Self {
            inner: Box::new(inner),
            source: file.clone(),
            file: file.name.clone(),
            code: None,
        }
    }

    /// Gives the diagnostic a stable code (e.g. `rule::unknown-criterion`), shown above the
    /// message and in `--format json`, unless the wrapped diagnostic has its own.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// Byte offset of the first label, for sorting problems in file order.
    pub fn offset(&self) -> usize {
        self.inner
            .labels()
            .and_then(|mut l| l.next())
            .map_or(0, |l| l.offset())
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
        self.inner
            .code()
            .or_else(|| self.code.map(|c| Box::new(c) as Box<dyn fmt::Display + 'a>))
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
    render(diagnostic, false)
}

/// Renders a diagnostic for a terminal, coloured or not. A group of problems (a [`Diagnostics`],
/// or any diagnostic with related ones and no location of its own) is rendered as each problem in
/// turn, then the group's one-line summary: the most useful line ends up last, next to the prompt.
pub fn render(diagnostic: &dyn Diagnostic, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    // Rendering into a String cannot fail: fmt::Write for String is infallible.
    if is_group(diagnostic) {
        for item in diagnostic.related().into_iter().flatten() {
            let _ = handler.render_report(&mut out, &Inert(item));
            out.push('\n');
        }
        let summary = Summary(diagnostic.to_string());
        let _ = handler.render_report(&mut out, &Inert(&summary));
    } else {
        let _ = handler.render_report(&mut out, &Inert(diagnostic));
    }
    out
}

/// A diagnostic whose every text (message, help, labels, related problems) is shown inert
/// ([`crate::untrusted::terminal_lines`]): errors quote entity ids, attribute values and server
/// messages, which may hold escape sequences or workflow commands.
struct Inert<'a>(&'a dyn Diagnostic);

impl std::fmt::Debug for Inert<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for Inert<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::untrusted::terminal_lines(&self.0.to_string()))
    }
}

impl std::error::Error for Inert<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

fn inert(d: Box<dyn std::fmt::Display + '_>) -> Box<dyn std::fmt::Display + '_> {
    Box::new(crate::untrusted::terminal_lines(&d.to_string()).into_owned())
}

impl Diagnostic for Inert<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.0.code().map(inert)
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.0.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.0.help().map(inert)
    }
    fn url<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.0.url().map(inert)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.0.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self.0.labels()?;
        Some(Box::new(labels.map(|mut l| {
            let text = l
                .label()
                .map(|t| crate::untrusted::terminal_lines(t).into_owned());
            l.set_label(text);
            l
        })))
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        // Related problems are rendered through the handler, which cannot take owned wrappers;
        // groups are split before this (see `render`), and each item's own text is wrapped.
        self.0.related()
    }
    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.0.diagnostic_source()
    }
}

/// A group's summary line, rendered like any other error but without location or related items.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{0}")]
struct Summary(String);

/// A diagnostic that only groups others: it has related diagnostics and no location.
fn is_group(d: &dyn Diagnostic) -> bool {
    d.related().is_some_and(|mut r| r.next().is_some()) && d.labels().is_none()
}

/// One problem as plain data: the `--format json` form of a diagnostic, for editors and CI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Record {
    /// The file the problem is in, when it is in one.
    pub file: Option<String>,
    /// 1-based line of the start of the problem.
    pub line: Option<usize>,
    /// 1-based column of the start of the problem, counted in bytes.
    pub column: Option<usize>,
    /// 1-based line of the end of the problem.
    pub end_line: Option<usize>,
    /// 1-based column of the end of the problem (exclusive).
    pub end_column: Option<usize>,
    /// `error`, `warning` or `advice`.
    pub severity: &'static str,
    /// A stable code, e.g. `rule::unknown-criterion`, when the problem has one.
    pub code: Option<String>,
    /// What is wrong.
    pub message: String,
    /// The label at the location.
    pub label: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

/// Flattens a diagnostic into records: a group into its members (recursively), anything else
/// into one record located at its first label.
pub fn records(diagnostic: &dyn Diagnostic) -> Vec<Record> {
    if is_group(diagnostic) {
        return diagnostic
            .related()
            .into_iter()
            .flatten()
            .flat_map(records)
            .collect();
    }
    let mut record = Record {
        file: None,
        line: None,
        column: None,
        end_line: None,
        end_column: None,
        severity: match diagnostic.severity() {
            Some(Severity::Warning) => "warning",
            Some(Severity::Advice) => "advice",
            Some(Severity::Error) | None => "error",
        },
        code: diagnostic.code().map(|c| c.to_string()),
        message: diagnostic.to_string(),
        label: None,
        help: diagnostic.help().map(|h| h.to_string()),
    };
    let label = diagnostic.labels().and_then(|mut l| l.next());
    if let (Some(source), Some(label)) = (diagnostic.source_code(), label) {
        let start = SourceSpan::from((label.offset(), 0));
        let end = SourceSpan::from((label.offset() + label.len(), 0));
        if let Ok(at) = source.read_span(&start, 0, 0) {
            record.file = at.name().map(str::to_string);
            record.line = Some(at.line() + 1);
            record.column = Some(at.column() + 1);
        }
        if let Ok(at) = source.read_span(&end, 0, 0) {
            record.end_line = Some(at.line() + 1);
            record.end_column = Some(at.column() + 1);
        }
        record.label = label.label().map(str::to_string);
    }
    vec![record]
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

    #[test]
    fn records_locate_each_problem_of_a_group() {
        let f = SourceFile::new("rules/x.cedar", "ab\ncd ef\n");
        let p = |at: usize, code| {
            InFile::new(
                Problem {
                    message: "m".into(),
                    help: Some("h".into()),
                    span: SourceSpan::from((at, 2)),
                    label: "l".into(),
                },
                &f,
            )
            .with_code(code)
        };
        let group = Diagnostics {
            summary: "2 problems".into(),
            items: vec![p(0, "a::b"), p(6, "c::d")],
        };
        let r = records(&group);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].file.as_deref(), Some("rules/x.cedar"));
        assert_eq!((r[0].line, r[0].column), (Some(1), Some(1)));
        assert_eq!((r[1].line, r[1].column), (Some(2), Some(4)));
        assert_eq!((r[1].end_line, r[1].end_column), (Some(2), Some(6)));
        assert_eq!(r[1].code.as_deref(), Some("c::d"));
        assert_eq!(r[1].help.as_deref(), Some("h"));
        let text = render(&group, false);
        assert!(text.trim_end().ends_with("× 2 problems"), "{text}");
        assert!(text.contains("rules/x.cedar:2:4"), "{text}");
    }
}
