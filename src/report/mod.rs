//! Reports: every output format is rendered from one evaluation's findings.
//!
//! Renderers are pure functions from findings to text; they never decide anything (the verdict
//! is computed once, in [`crate::findings::Verdict`]) and never print.

pub mod json;
pub mod table;

use crate::entities::LoadedSource;
use crate::findings::{Finding, Verdict};
use crate::rules::RuleSet;
use crate::severity::Severity;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable report grouped by SOC 2 criterion, failures first.
    Table,
    /// `trustcheck.findings/v1` JSON: the machine contract.
    Json,
}

/// Everything a renderer may use.
pub struct Report<'a> {
    /// Findings, sorted by (rule, resource).
    pub findings: &'a [Finding],
    /// The rules that produced them.
    pub rules: &'a RuleSet,
    /// The snapshots judged.
    pub snapshots: &'a [LoadedSource],
    /// The `--fail-on` threshold.
    pub fail_on: Severity,
    /// The run's verdict.
    pub verdict: Verdict,
}

/// Presentation options for human-readable formats.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
    /// Wrap tables to this many columns.
    pub width: u16,
    /// List passing and not-applicable findings too, not just their counts.
    pub show_passed: bool,
}

/// Renders a report in a format.
pub fn render(format: Format, report: &Report<'_>, style: Style) -> String {
    match format {
        Format::Table => table::render(report, style),
        Format::Json => json::render(report.findings),
    }
}
