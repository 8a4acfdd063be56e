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

/// The document's parts, written in this order by [`write`].
struct Document<'a> {
    format: &'static str,
    summary: Summary,
    findings: Vec<Entry<'a>>,
    baseline: Option<BaselineSection<'a>>,
    policy_impact: Option<&'a [StatusChange]>,
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

/// Streams the document to a writer: large runs are never held in memory twice. The findings,
/// nearly all of the bytes, are rendered by all cores a chunk at a time and written in order; the
/// bytes are those of one pretty-printing pass over the whole document (a test compares them).
pub fn write(out: &mut impl Write, report: &Report<'_>) -> std::io::Result<()> {
    let doc = document(report);
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    w.write_all(b"{\n  \"format\": ")?;
    nested(&mut w, &doc.format)?;
    w.write_all(b",\n  \"summary\": ")?;
    nested(&mut w, &doc.summary)?;
    w.write_all(b",\n  \"findings\": ")?;
    entries(&mut w, &doc.findings)?;
    if let Some(baseline) = &doc.baseline {
        w.write_all(b",\n  \"baseline\": ")?;
        nested(&mut w, baseline)?;
    }
    if let Some(impact) = doc.policy_impact {
        w.write_all(b",\n  \"policy_impact\": ")?;
        nested(&mut w, impact)?;
    }
    if let Some(exceptions) = &doc.exceptions {
        w.write_all(b",\n  \"exceptions\": ")?;
        nested(&mut w, exceptions)?;
    }
    w.write_all(b"\n}\n")?;
    w.flush()
}

/// Findings rendered per chunk on rayon's threads, in groups of this many chunks: a group is
/// written while the next is rendered, so two groups (about 16 MB each) are held at once.
const CHUNK: usize = 2048;
const CHUNKS_IN_FLIGHT: usize = 8;

/// The findings array, one level deep, as the pretty printer lays it out. Each group of chunks is
/// written while the next one is rendered (writing 300 MB is a core's work of its own).
fn entries(w: &mut impl Write, entries: &[Entry<'_>]) -> std::io::Result<()> {
    if entries.is_empty() {
        return w.write_all(b"[]");
    }
    w.write_all(b"[")?;
    let mut groups = entries.chunks(CHUNK * CHUNKS_IN_FLIGHT).enumerate();
    let mut pending = groups
        .next()
        .map(|(index, group)| render_group(index, group));
    while let Some(rendered) = pending.take() {
        let next = groups.next();
        let slot = std::sync::Mutex::new(None);
        let written = rayon::in_place_scope(|scope| {
            if let Some((index, group)) = next {
                let slot = &slot;
                scope.spawn(move |_| {
                    let chunks = render_group(index, group);
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(chunks);
                    }
                });
            }
            rendered
                .into_iter()
                .try_for_each(|chunk| w.write_all(&chunk?))
        });
        written?;
        pending = match slot.into_inner() {
            Ok(Some(chunks)) => Some(chunks),
            // A next group whose chunks were not handed over (never expected): its findings
            // would be missing, so the write fails rather than leave a short report.
            _ if next.is_some() => {
                return Err(std::io::Error::other(
                    "a group of findings was not rendered",
                ))
            }
            _ => None,
        };
    }
    w.write_all(b"\n  ]")
}

/// One group of findings, rendered a chunk per rayon task; `group_index` places its separators.
fn render_group(group_index: usize, group: &[Entry<'_>]) -> Vec<std::io::Result<Vec<u8>>> {
    use rayon::prelude::*;
    group
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(chunk_index, chunk)| {
            let mut buf = Vec::with_capacity(chunk.len() * 1024);
            let mut parts = None;
            for (i, entry) in chunk.iter().enumerate() {
                if group_index > 0 || chunk_index > 0 || i > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(b"\n    ");
                finding(&mut buf, entry, &mut parts)?;
            }
            Ok(buf)
        })
        .collect()
}

/// What a finding takes from its rule, rendered once for a run of findings that share it: the
/// fields before `resource` and the `remediation` field. Most of a finding's bytes are its rule's
/// (title and remediation), and escaping them for every finding was a tenth of `check`'s time at
/// 100k resources (docs/performance.md).
struct RuleParts<'a> {
    of: &'a Finding,
    /// From the opening brace to the space after `"resource":`.
    head: Vec<u8>,
    /// From the comma before `"remediation"` to the end of its value.
    remediation: Vec<u8>,
}

impl<'a> RuleParts<'a> {
    fn of(finding: &'a Finding) -> std::io::Result<Self> {
        let mut head = b"{".to_vec();
        field(&mut head, "rule", &finding.rule, true)?;
        field(&mut head, "title", &finding.title, false)?;
        field(&mut head, "soc2", &finding.soc2, false)?;
        field(&mut head, "severity", &finding.severity, false)?;
        head.extend_from_slice(FIELD_BREAK);
        head.extend_from_slice(b"\"resource\": ");
        let mut remediation = Vec::new();
        field(&mut remediation, "remediation", &finding.remediation, false)?;
        Ok(Self {
            of: finding,
            head,
            remediation,
        })
    }

    /// Whether `finding` has the same rule fields. The findings of one rule share them (the same
    /// allocations), so this is mostly pointer compares; equal values count as the same.
    fn fit(&self, finding: &Finding) -> bool {
        let was = self.of;
        was.rule == finding.rule
            && was.title == finding.title
            && was.soc2 == finding.soc2
            && was.severity == finding.severity
            && was.remediation == finding.remediation
    }
}

/// What comes before each field of a finding but the first: the findings sit two levels deep.
const FIELD_BREAK: &[u8] = b",\n      ";
/// What comes before the first.
const FIRST_FIELD: &[u8] = b"\n      ";

/// One finding of the findings array, as the pretty printer lays out [`Entry`] there (a test
/// compares the bytes): its rule's fields from `parts`, rendered again only when the rule
/// changes, and the rest through the serialiser. The fields follow [`Finding`]'s order.
fn finding<'a>(
    out: &mut Vec<u8>,
    entry: &Entry<'a>,
    parts: &mut Option<RuleParts<'a>>,
) -> std::io::Result<()> {
    let f = entry.finding;
    let parts = match parts {
        Some(parts) if parts.fit(f) => parts,
        _ => parts.insert(RuleParts::of(f)?),
    };
    out.extend_from_slice(&parts.head);
    indented(out, &*f.resource, 3)?;
    field(out, "status", &f.status, false)?;
    field(out, "message", &f.message, false)?;
    out.extend_from_slice(&parts.remediation);
    field(out, "fingerprint", &f.fingerprint, false)?;
    if let Some(acceptance) = &f.acceptance {
        field(out, "acceptance", acceptance, false)?;
    }
    if let Some(state) = &entry.baseline {
        field(out, "baseline", state, false)?;
    }
    out.extend_from_slice(b"\n    }");
    Ok(())
}

/// `"key": value` of a finding (keys are plain ASCII: written as they are).
fn field<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    key: &str,
    value: &T,
    first: bool,
) -> std::io::Result<()> {
    out.extend_from_slice(if first { FIRST_FIELD } else { FIELD_BREAK });
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\": ");
    indented(out, value, 3)
}

/// A value one level deep in the document.
fn nested<T: Serialize + ?Sized>(w: &mut impl Write, value: &T) -> std::io::Result<()> {
    let mut buf = Vec::new();
    indented(&mut buf, value, 1)?;
    w.write_all(&buf)
}

/// Pretty JSON of `value` laid out `depth` levels deep, written straight into `out` (it was
/// written apart and copied line by line with the indent added: a second pass over 300 MB).
fn indented<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    depth: usize,
) -> std::io::Result<()> {
    crate::untrusted::write_json_nested(out, value, depth).map_err(std::io::Error::other)
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
    use crate::severity::Severity;

    /// The document as one serde pass writes it (what `write` produced before it rendered the
    /// findings in parallel chunks): `write` must give the same bytes.
    fn one_pass(report: &Report<'_>) -> Vec<u8> {
        #[derive(Serialize)]
        struct Whole<'a> {
            format: &'static str,
            summary: &'a Summary,
            findings: &'a [Entry<'a>],
            #[serde(skip_serializing_if = "Option::is_none")]
            baseline: Option<&'a BaselineSection<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            policy_impact: Option<&'a [StatusChange]>,
            #[serde(skip_serializing_if = "Option::is_none")]
            exceptions: Option<&'a ExceptionsSection<'a>>,
        }
        let doc = document(report);
        let whole = Whole {
            format: doc.format,
            summary: &doc.summary,
            findings: &doc.findings,
            baseline: doc.baseline.as_ref(),
            policy_impact: doc.policy_impact,
            exceptions: doc.exceptions.as_ref(),
        };
        let mut out = Vec::new();
        crate::untrusted::write_json(&mut out, &whole).unwrap();
        out.push(b'\n');
        out
    }

    #[test]
    fn chunked_findings_are_the_bytes_of_one_pass() {
        let hostile = crate::untrusted::HOSTILE;
        // Runs of findings of three rules (sharing their rule's fields, as a run's findings do),
        // with hostile titles, criteria and remediations; now and then a finding whose rule
        // fields are equal but not shared, or a run broken by one finding.
        let rules: Vec<Finding> = (0..3)
            .map(|r| {
                let mut f = finding("rule", Status::Pass, None);
                f.rule = format!("rule-{r}").into();
                f.title = hostile[r % hostile.len()].into();
                f.soc2 = vec!["CC6.1".to_string(), hostile[(r + 4) % hostile.len()].into()].into();
                f.remediation = hostile[(r + 7) % hostile.len()].into();
                f.severity = [Severity::Low, Severity::High, Severity::Critical][r];
                f
            })
            .collect();
        let mut findings: Vec<Finding> = (0..CHUNK * CHUNKS_IN_FLIGHT + 3 * CHUNK + 7)
            .map(|i| {
                let status = [Status::Pass, Status::Fail, Status::Error][i % 3];
                let name = format!("user-{i:06}{}", hostile[i % hostile.len()]);
                let plain = finding(&name, status, None);
                let rule = (i / 700 + usize::from(i % 997 == 0)) % rules.len();
                let mut f = match (i % 301, rules.get(rule)) {
                    (0, _) | (_, None) => plain.clone(),
                    (_, Some(of_rule)) => Finding {
                        resource: plain.resource.clone(),
                        status,
                        fingerprint: plain.fingerprint,
                        ..of_rule.clone()
                    },
                };
                f.message = hostile[i % hostile.len()].to_string();
                f
            })
            .collect();
        findings.push(finding(
            "kept",
            Status::Accepted,
            Some(acceptance("2027-01-31", 9)),
        ));
        let stale = [(3, "r".to_string(), "line\nbreak \u{202e}".to_string())];
        // A baseline where every fifth finding failed before: the others are new.
        let baseline =
            crate::baseline::Baseline::from_findings(findings.iter().step_by(5).map(|f| Finding {
                status: Status::Fail,
                ..f.clone()
            }));
        let comparison = crate::baseline::Comparison::of(&baseline, &findings);
        for context in [
            Context::default(),
            Context {
                baseline: Some(&comparison),
                ..Context::default()
            },
            Context {
                exceptions_file: Some("x.toml"),
                stale_acceptances: &stale,
                ..Context::default()
            },
        ] {
            for n in [0, 1, CHUNK, findings.len()] {
                with_report(&findings[..n], Verdict::Clean, context, |report| {
                    let mut chunked = Vec::new();
                    write(&mut chunked, report).unwrap();
                    assert!(chunked == one_pass(report), "{n} findings differ");
                });
            }
        }
    }

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
