//! The `trustcheck.findings/v1` JSON document.
//!
//! Baseline and policy-impact data are optional, additive fields (see docs/findings-format.md):
//! a document written without `--baseline` or `--compare-policies` is exactly the plain v1 shape.
//! So is the `exceptions` section, present only when an exceptions file was applied; the
//! acceptance echoed on each finding and `summary.accepted` come with the findings themselves.

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
    #[serde(skip_serializing_if = "Option::is_none")]
    exceptions: Option<ExceptionsSection<'a>>,
}

/// The exceptions file applied, and its acceptances that cover no failing finding.
#[derive(Serialize)]
struct ExceptionsSection<'a> {
    file: &'a str,
    stale: Vec<Stale<'a>>,
}

#[derive(Serialize)]
struct Stale<'a> {
    line: usize,
    rule: &'a str,
    resource: &'a str,
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
    crate::untrusted::write_json(&mut buffered, &document(report))?;
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
        exceptions: report
            .context
            .exceptions_file
            .map(|file| ExceptionsSection {
                file,
                stale: report
                    .context
                    .stale_acceptances
                    .iter()
                    .map(|(line, rule, resource)| Stale {
                        line: *line,
                        rule,
                        resource,
                    })
                    .collect(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::findings::Status;
    use crate::gate::Verdict;
    use crate::report::fixtures::{acceptance, finding, with_report};
    use crate::report::Context;

    #[test]
    fn accepted_findings_carry_their_acceptance_and_are_counted_apart() {
        let mut without_ticket = acceptance("2027-03-31", 129);
        without_ticket.ticket = None;
        let accepted = finding("break-glass", Status::Accepted, Some(without_ticket));
        let stale = [(
            7,
            "github-member-2fa".to_string(),
            r#"Github::Member::"acme/gone""#.to_string(),
        )];
        let context = Context {
            exceptions_file: Some("trustcheck-exceptions.toml"),
            stale_acceptances: &stale,
            ..Context::default()
        };
        with_report(
            std::slice::from_ref(&accepted),
            Verdict::Clean,
            context,
            |report| {
                let doc: Value = serde_json::from_str(&render(report)).unwrap();
                assert_eq!(doc["summary"]["accepted"], 1);
                assert_eq!(doc["summary"]["fail"], 0);
                assert_eq!(doc["summary"]["pass"], 0);
                let f = &doc["findings"][0];
                assert_eq!(f["status"], "accepted");
                assert_eq!(f["acceptance"]["approved_by"], "cto@northwind.example");
                assert_eq!(f["acceptance"]["expires"], "2027-03-31");
                assert!(f["acceptance"].get("ticket").is_none());
                assert_eq!(doc["exceptions"]["file"], "trustcheck-exceptions.toml");
                assert_eq!(doc["exceptions"]["stale"][0]["line"], 7);
                assert_eq!(doc["exceptions"]["stale"][0]["rule"], "github-member-2fa");

                // A plain run keeps the plain v1 shape.
                let plain = Report {
                    context: Context::default(),
                    ..*report
                };
                let doc: Value = serde_json::from_str(&render(&plain)).unwrap();
                assert!(doc.get("exceptions").is_none());
            },
        );
    }
}
