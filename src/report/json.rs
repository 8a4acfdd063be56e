//! The `trustcheck.findings/v1` JSON document.
//!
//! Baseline and policy-impact data are optional, additive fields (see docs/findings-format.md):
//! a document written without `--baseline` or `--compare-policies` is exactly the plain v1 shape.

use std::io::Write;

use serde::Serialize;

use super::Report;
use crate::baseline::BaselineState;
use crate::drift::StatusChange;
use crate::findings::{Finding, Summary, FINDINGS_FORMAT};

#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    summary: Summary,
    findings: Vec<Entry<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineSection<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_impact: Option<&'a [StatusChange]>,
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineState>,
}

#[derive(Serialize)]
struct BaselineSection<'a> {
    new: usize,
    unchanged: usize,
    fixed: Vec<&'a Finding>,
}

/// Pretty JSON of the findings document, with a trailing newline.
pub fn render(report: &Report<'_>) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and plain data with string keys always serialises.
    let _ = write(&mut out, report);
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the document to a writer: large runs are never held in memory twice.
pub fn write(out: &mut impl Write, report: &Report<'_>) -> std::io::Result<()> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buffered, &document(report))?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

fn document<'a>(report: &'a Report<'a>) -> Document<'a> {
    let cmp = report.context.baseline;
    let findings: Vec<Entry<'_>> = report
        .findings
        .iter()
        .map(|finding| Entry {
            finding,
            baseline: cmp.and_then(|c| c.state(finding)),
        })
        .collect();
    let baseline = cmp.map(|c| {
        let count = |s| findings.iter().filter(|e| e.baseline == Some(s)).count();
        BaselineSection {
            new: count(BaselineState::New),
            unchanged: count(BaselineState::Unchanged),
            fixed: c
                .fixed
                .iter()
                .filter(|f| report.context.min_severity.is_none_or(|m| f.severity >= m))
                .collect(),
        }
    });
    Document {
        format: FINDINGS_FORMAT,
        summary: Summary::of(report.findings),
        findings,
        baseline,
        policy_impact: report.context.policy_impact,
    }
}
