//! GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY` and pull request comments.
//!
//! A headline verdict, a table of counts per SOC 2 criterion, then per criterion its failures and
//! errors first (resource, message, remediation), with long lists and the passing findings folded
//! in `<details>`. GitHub rejects a step summary over 1 MiB, so the document is built within a
//! byte budget: when a row does not fit it is left out, counted, and a visible note at the end
//! says how many rows are missing. It is never cut silently.
//!
//! Data from the audited systems (resource ids, messages) is only ever put in code spans, so it
//! cannot inject markup, links or @-mentions into a pull request comment.

use std::fmt::Write;

use super::Report;
use crate::baseline::BaselineState;
use crate::criteria;
use crate::findings::{Finding, Status, Summary};
use crate::gate::Verdict;

/// GitHub's limit for one step's summary.
pub const GITHUB_SUMMARY_LIMIT: usize = 1024 * 1024;

/// The budget [`render`] uses: under the limit, leaving room for what else the step appends.
pub const DEFAULT_BUDGET: usize = 1_000_000;

/// How many failures/errors per criterion are shown before the rest is folded.
const SHOWN: usize = 10;

/// Bytes kept free for closing tags and the truncation note.
const RESERVE: usize = 2048;

/// Renders the Markdown report within [`DEFAULT_BUDGET`] bytes.
pub fn render(report: &Report<'_>) -> String {
    render_within(report, DEFAULT_BUDGET)
}

/// Renders the Markdown report within `budget` bytes (the headline and counts table are always
/// written; rows that do not fit are left out and counted in a note).
pub fn render_within(report: &Report<'_>, budget: usize) -> String {
    let mut md = Budget {
        out: String::new(),
        budget,
        omitted: 0,
        full: false,
    };
    head(&mut md, report);

    let by_criterion = super::by_criterion(report.findings);
    for ((_, id), mut findings) in by_criterion {
        findings.sort_by_key(|f| (rank(f.status), std::cmp::Reverse(f.severity)));
        criterion_section(&mut md, report, id, &findings);
    }
    if let Some(cmp) = report.context.baseline {
        let fixed: Vec<&Finding> = cmp
            .fixed
            .iter()
            .filter(|f| report.context.min_severity.is_none_or(|m| f.severity >= m))
            .collect();
        if !fixed.is_empty() {
            md.section(&format!(
                "\n### ✅ Fixed since the baseline ({})\n\n",
                fixed.len()
            ));
            md.rows(
                "| severity | rule | resource | was |\n|---|---|---|---|\n",
                fixed.iter().map(|f| {
                    format!(
                        "| {} | {} | {} | {} |\n",
                        f.severity,
                        code(&f.rule),
                        code(&f.resource.to_string()),
                        code(&f.message)
                    )
                }),
            );
        }
    }
    if let Some(impact) = report.context.policy_impact {
        md.section(&format!(
            "\n### Policy impact ({} findings change status)\n\n",
            impact.len()
        ));
        if impact.is_empty() {
            md.rows(
                "",
                ["The rule change alters no finding on this snapshot.\n".to_string()],
            );
        } else {
            md.rows(
                "| rule | resource | before | after | why |\n|---|---|---|---|---|\n",
                impact.iter().map(|c| {
                    format!(
                        "| {} | {} | {} | {} | {} |\n",
                        code(&c.rule),
                        code(&c.resource.to_string()),
                        c.old.map_or("—", |s| s.as_str()),
                        c.new.map_or("—", |s| s.as_str()),
                        code(&c.message)
                    )
                }),
            );
        }
    }
    md.finish()
}

struct Budget {
    out: String,
    budget: usize,
    omitted: usize,
    full: bool,
}

impl Budget {
    fn fits(&mut self, s: &str) -> bool {
        if !self.full && self.out.len() + s.len() + RESERVE <= self.budget {
            true
        } else {
            self.full = true;
            false
        }
    }

    /// Writes `s` unless the budget is spent; returns whether it was written.
    fn section(&mut self, s: &str) -> bool {
        let ok = self.fits(s);
        if ok {
            self.out.push_str(s);
        }
        ok
    }

    /// A table: the header, then each row that fits; rows left out are counted.
    fn rows(&mut self, header: &str, rows: impl IntoIterator<Item = String>) {
        let mut rows = rows.into_iter();
        if !self.section(header) {
            self.omitted += rows.count();
            return;
        }
        for row in rows.by_ref() {
            if !self.section(&row) {
                self.omitted += 1;
                break;
            }
        }
        self.omitted += rows.count();
    }

    fn finish(mut self) -> String {
        if self.omitted > 0 {
            let _ = write!(
                self.out,
                "\n> [!WARNING]\n> Truncated to stay under GitHub's 1 MiB step-summary limit: {} rows are not shown. \
                 The JSON, CSV and SARIF reports list every finding.\n",
                self.omitted
            );
        }
        self.out
    }
}

fn head(md: &mut Budget, report: &Report<'_>) {
    let summary = Summary::of(report.findings);
    let c = summary.counts;
    let (icon, word) = match report.verdict {
        Verdict::Clean => ("✅", "passed"),
        Verdict::Failed => ("❌", "failed"),
        Verdict::Untrustworthy => ("⚠️", "incomplete"),
    };
    let out = &mut md.out;
    let _ = writeln!(out, "## {icon} trustcheck: {word}\n");
    let _ = writeln!(
        out,
        "{}\n",
        super::verdict_sentence(report).replace('`', "")
    );
    let scopes: Vec<String> = report
        .scopes()
        .iter()
        .map(|s| code(&s.to_string()))
        .collect();
    let collected: Vec<&str> = report
        .snapshots
        .iter()
        .map(|s| s.collected_at.as_str())
        .collect();
    let _ = writeln!(
        out,
        "**{} failed** · {} errors · {} passed · {} not applicable — {} findings of {} rules on {}, collected {}\n",
        c.fail,
        c.error,
        c.pass,
        c.not_applicable,
        summary.total,
        report.rules.rules().len(),
        if scopes.is_empty() {
            "no sources".to_string()
        } else {
            scopes.join(", ")
        },
        collected.join(", ")
    );
    if let Some(cmp) = report.context.baseline {
        let _ = writeln!(
            out,
            "Baseline: **{} new failures**, {} unchanged failures, {} fixed\n",
            report.baseline_failures(BaselineState::New),
            report.baseline_failures(BaselineState::Unchanged),
            cmp.fixed.len()
        );
    }
    let _ = writeln!(
        out,
        "| | criterion | passed | failed | errors | n/a |\n|---|---|---:|---:|---:|---:|"
    );
    for k in &summary.criteria {
        let mark = if k.counts.error > 0 {
            "⚠️"
        } else if k.counts.fail > 0 {
            "❌"
        } else {
            "✅"
        };
        let title = criteria::find(&k.id).map_or("", |c| c.title);
        let _ = writeln!(
            out,
            "| {mark} | **{}** {} | {} | {} | {} | {} |",
            k.id, title, k.counts.pass, k.counts.fail, k.counts.error, k.counts.not_applicable
        );
    }
}

fn criterion_section(md: &mut Budget, report: &Report<'_>, id: &str, findings: &[&Finding]) {
    let bad: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
        .collect();
    let good: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| !matches!(f.status, Status::Fail | Status::Error))
        .collect();
    let title = criteria::find(id).map_or("", |c| c.title);
    let mark = if bad.iter().any(|f| f.status == Status::Error) {
        "⚠️"
    } else if bad.is_empty() {
        "✅"
    } else {
        "❌"
    };
    if !md.section(&format!("\n### {mark} {id} — {title}\n\n")) {
        md.omitted += findings.len();
        return;
    }
    let with_baseline = report.context.baseline.is_some();
    let header = if with_baseline {
        "| status | baseline | severity | rule | resource | why |\n|---|---|---|---|---|---|\n"
    } else {
        "| status | severity | rule | resource | why |\n|---|---|---|---|---|\n"
    };
    let row = |f: &&Finding| {
        let status = match f.status {
            Status::Fail => "❌ fail",
            Status::Error => "⚠️ error",
            Status::Pass => "✅ pass",
            Status::NotApplicable => "n/a",
        };
        let baseline = if with_baseline {
            let state = report
                .context
                .baseline
                .and_then(|b| b.state(f))
                .map_or("", |s| match s {
                    BaselineState::New => "🆕 new",
                    BaselineState::Unchanged => "unchanged",
                });
            format!(" {state} |")
        } else {
            String::new()
        };
        format!(
            "| {status} |{baseline} {} | {} | {} | {} |\n",
            f.severity,
            code(&f.rule),
            code(&f.resource.to_string()),
            code(&f.message)
        )
    };
    if !bad.is_empty() {
        md.rows(header, bad.iter().take(SHOWN).map(row));
        if bad.len() > SHOWN {
            let rest = bad.get(SHOWN..).unwrap_or(&[]);
            if md.section(&format!(
                "\n<details><summary>{} more failures and errors</summary>\n\n",
                rest.len()
            )) {
                md.rows(header, rest.iter().map(row));
                md.out.push_str("\n</details>\n");
            } else {
                md.omitted += rest.len();
            }
        }
        // Remediation once per rule, in the order the rules first appear above.
        let mut seen = Vec::new();
        for f in &bad {
            if !seen.contains(&f.rule.as_ref()) {
                seen.push(f.rule.as_ref());
            }
        }
        md.rows(
            "\n**Remediation**\n\n",
            seen.into_iter().filter_map(|rule| {
                let f = bad.iter().find(|f| f.rule.as_ref() == rule)?;
                Some(format!("- {}: {}\n", code(rule), plain(&f.remediation)))
            }),
        );
    }
    if !good.is_empty() {
        let passed = good.iter().filter(|f| f.status == Status::Pass).count();
        if md.section(&format!(
            "\n<details><summary>{} passed, {} not applicable</summary>\n\n",
            passed,
            good.len() - passed
        )) {
            md.rows(header, good.iter().map(row));
            md.out.push_str("\n</details>\n");
        } else {
            md.omitted += good.len();
        }
    }
}

fn rank(s: Status) -> u8 {
    match s {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Pass => 2,
        Status::NotApplicable => 3,
    }
}

/// A code span safe inside a table cell: on one line, `|` escaped, delimited by more backticks
/// than the text holds in a row.
fn code(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    let longest = s
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{s}{fence}")
    } else {
        format!("{fence} {s} {fence}")
    }
}

/// Plain text from rule annotations (written by the rule author): one line, HTML neutralised.
fn plain(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{fingerprint, Uid};
    use crate::report::Context;
    use crate::rules::{self, RuleSet};
    use crate::schema::SchemaSet;
    use crate::severity::Severity;

    fn failures(n: usize) -> Vec<Finding> {
        (0..n)
            .map(|i| {
                let resource = Uid {
                    type_name: "Aws::IamUser".into(),
                    id: format!("arn:aws:iam::210987654321:user/user-{i:06}"),
                };
                Finding {
                    rule: "aws-iam-user-console-mfa".into(),
                    title: "IAM users with console access use MFA".into(),
                    soc2: vec!["CC6.1".to_string()].into(),
                    severity: Severity::High,
                    fingerprint: fingerprint("aws-iam-user-console-mfa", &resource),
                    resource,
                    status: if i % 3 == 0 {
                        Status::Pass
                    } else {
                        Status::Fail
                    },
                    message: "consoleAccess = true, mfaActive = false".into(),
                    remediation: "Assign an MFA device.".into(),
                }
            })
            .collect()
    }

    fn with_report<T>(findings: &[Finding], f: impl FnOnce(&Report<'_>) -> T) -> T {
        let rules =
            RuleSet::load(rules::builtin_sources(), &SchemaSet::builtin().unwrap()).unwrap();
        let report = Report {
            findings,
            rules: &rules,
            snapshots: &[],
            gate: crate::gate::Gate::new(Severity::Low),
            verdict: Verdict::Failed,
            context: Context::default(),
        };
        f(&report)
    }

    fn balanced(md: &str) -> bool {
        md.matches("<details>").count() == md.matches("</details>").count()
    }

    #[test]
    fn a_huge_report_stays_under_githubs_limit_and_says_it_was_cut() {
        let findings = failures(100_000);
        let md = with_report(&findings, render);
        assert!(md.len() <= GITHUB_SUMMARY_LIMIT, "{} bytes", md.len());
        assert!(
            md.len() > DEFAULT_BUDGET / 2,
            "the budget is used, not wasted"
        );
        assert!(balanced(&md));
        let note = md.lines().rev().find(|l| l.contains("Truncated")).unwrap();
        // Every finding is a row, and so is the rule's remediation line (left out here): the note
        // counts every row that is missing.
        let shown = md.matches("| `aws-iam-user-console-mfa` |").count();
        let missing: usize = note
            .split_once("limit: ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert_eq!(shown + missing, findings.len() + 1, "{note}");
    }

    #[test]
    fn a_small_budget_truncates_visibly_and_a_large_one_not_at_all() {
        let findings = failures(40);
        let full = with_report(&findings, render);
        assert!(!full.contains("Truncated"));
        assert!(full.contains("<details><summary>16 more failures and errors</summary>"));
        let cut = with_report(&findings, |r| render_within(r, 4096));
        assert!(cut.len() <= 4096, "{} bytes", cut.len());
        assert!(balanced(&cut));
        assert!(cut.contains("> [!WARNING]\n> Truncated to stay under GitHub's 1 MiB"));
        assert!(cut.starts_with("## ❌ trustcheck: failed"));
    }

    #[test]
    fn code_spans_survive_backticks_pipes_and_newlines() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "`` x`y ``");
        assert_eq!(code("l1\nl2"), "`l1 l2`");
        assert_eq!(plain("<b>"), "&lt;b&gt;");
    }
}
