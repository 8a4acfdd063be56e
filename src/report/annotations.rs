//! GitHub Actions workflow commands: `::group::` per scope and `::error::`/`::warning::`
//! annotations for the first failures.
//!
//! GitHub renders at most 10 error and 10 warning annotations per step, so the first 10 of each
//! are annotated (most severe first) and a `::notice::` points to the rest. Failures that decide
//! the exit code and findings that could not be judged are errors; failures that do not (below
//! `--fail-on`, or unchanged under `--fail-on-new`) are warnings. Accepted findings (failures a
//! risk acceptance covers) are neither: they are listed in their scope's group, and one
//! `::notice::` counts them and those expiring soon, so the annotations stay for what needs action.
//!
//! The runner reads workflow commands from both stdout and stderr (actions/runner
//! `ScriptHandler.cs` feeds both streams through its command manager); `check` writes them to
//! stderr so a report on stdout stays clean. Every piece of data is escaped, and each log line
//! inside a group starts with its status, so nothing collected from an audited system can start
//! a line with `::` and smuggle in a command.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Report, Scope};
use crate::exceptions::EXPIRING_SOON_DAYS;
use crate::findings::{Finding, Status};

/// Annotations GitHub shows per step and per level.
pub const MAX_PER_LEVEL: usize = 10;

/// Escapes a command's message: unsafe characters shown escaped (one line, see
/// [`crate::untrusted::terminal`]), then `%`, CR, LF as the runner expects.
pub fn escape_data(s: &str) -> String {
    crate::untrusted::terminal(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value (`%`, CR, LF, `:`, `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders the workflow commands, one per line.
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    let scopes = report.scopes();
    let mut by_scope: BTreeMap<Scope, Vec<&Finding>> = BTreeMap::new();
    for f in report.findings {
        by_scope
            .entry(super::scope_of(&f.resource, &scopes))
            .or_default()
            .push(f);
    }
    for (scope, findings) in &by_scope {
        let bad: Vec<&&Finding> = findings
            .iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Error))
            .collect();
        let accepted: Vec<&&Finding> = findings
            .iter()
            .filter(|f| f.status == Status::Accepted)
            .collect();
        let accepted_text = if accepted.is_empty() {
            String::new()
        } else {
            format!(", {} accepted", accepted.len())
        };
        let _ = writeln!(
            out,
            "::group::{}",
            escape_data(&format!(
                "trustcheck {scope}: {} findings, {} failed or not judged{accepted_text}",
                findings.len(),
                bad.len()
            ))
        );
        for f in bad {
            let _ = writeln!(
                out,
                "{} {} {} {} {}",
                f.status.as_str().to_uppercase(),
                f.severity,
                f.rule,
                escape_data(&f.resource.to_string()),
                escape_data(&f.message)
            );
        }
        for f in accepted {
            let until = f
                .acceptance
                .as_deref()
                .map_or(String::new(), |a| format!(" until {}", a.expires));
            let _ = writeln!(
                out,
                "ACCEPTED{} {} {} {} {}",
                escape_data(&until),
                f.severity,
                f.rule,
                escape_data(&f.resource.to_string()),
                escape_data(&f.message)
            );
        }
        let _ = writeln!(out, "::endgroup::");
    }

    let mut errors: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Error || report.gates(f))
        .collect();
    let mut warnings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail && !report.gates(f))
        .collect();
    for list in [&mut errors, &mut warnings] {
        // Most severe first; the sort is stable, so ties keep the (rule, resource) order.
        list.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    let mut more = 0;
    for (level, list) in [("error", &errors), ("warning", &warnings)] {
        for f in list.iter().take(MAX_PER_LEVEL) {
            let title = match f.status {
                Status::Error => format!("trustcheck: {} could not be judged", f.rule),
                _ => format!("trustcheck: {} ({})", f.rule, f.severity),
            };
            let _ = writeln!(
                out,
                "::{level} title={}::{}",
                escape_property(&title),
                escape_data(&format!(
                    "{} — {}: {}. Remediation: {}",
                    f.title, f.resource, f.message, f.remediation
                ))
            );
        }
        more += list.len().saturating_sub(MAX_PER_LEVEL);
    }
    let accepted = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Accepted)
        .count();
    if accepted > 0 {
        let soon = report
            .findings
            .iter()
            .filter_map(|f| f.acceptance.as_deref())
            .filter(|a| a.expiring_soon())
            .count();
        let _ = writeln!(
            out,
            "::notice title=trustcheck accepted risks::{}",
            escape_data(&format!(
                "accepted risks: {accepted} (failures a risk acceptance covers: they do not fail the run), {soon} expiring within {EXPIRING_SOON_DAYS} days; see the job summary"
            ))
        );
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "::notice title=trustcheck::{}",
            escape_data(&format!(
                "{more} more failures are not annotated; see the job summary or the reports"
            ))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Verdict;
    use crate::report::fixtures::{acceptance, finding, with_report};
    use crate::report::Context;

    #[test]
    fn accepted_findings_are_no_error_but_one_notice() {
        let findings = [
            finding("a", Status::Accepted, Some(acceptance("2026-12-01", 9))),
            finding("b", Status::Accepted, Some(acceptance("2026-12-01", 200))),
        ];
        let out = with_report(&findings, Verdict::Clean, Context::default(), render);
        assert!(!out.contains("::error"), "{out}");
        assert!(!out.contains("::warning"), "{out}");
        assert_eq!(out.matches("::notice").count(), 1, "{out}");
        assert!(
            out.contains("accepted risks: 2 (failures a risk acceptance covers"),
            "{out}"
        );
        assert!(out.contains("1 expiring within 30 days"), "{out}");
        assert!(out.contains("\nACCEPTED until 2026-12-01 high "), "{out}");
    }

    #[test]
    fn escaping_neutralises_newlines_and_separators() {
        assert_eq!(escape_data("50%\r\n::x"), "50%25\\r\\n::x");
        assert_eq!(escape_data("\u{1b}[2J"), "\\x1b[2J");
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
    }
}
