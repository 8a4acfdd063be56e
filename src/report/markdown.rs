//! GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY` and pull request comments.
//!
//! A headline verdict, a table of counts per SOC 2 criterion, then per criterion its failures and
//! errors first (resource, message, remediation), with long lists and the passing findings folded
//! in `<details>`. GitHub rejects a step summary over 1 MiB, so the document is built within a
//! byte budget: when a row does not fit it is left out, counted, and a visible note at the end
//! says how many rows are missing. It is never cut silently.
//!
//! Risk acceptances are listed in their own section (owner, approver, time left; those expiring
//! within [`EXPIRING_SOON_DAYS`] marked, expired ones shown as expired), and with `--baseline` the
//! head calls out the findings the change newly accepts, so a reviewer sees risk being accepted
//! in the pull request that accepts it.
//!
//! Data from the audited systems (resource ids, messages) is only ever put in code spans, so it
//! cannot inject markup, links or @-mentions into a pull request comment. So is the text of
//! acceptances: the exceptions file is reviewed, but a pull request can change it.

use std::fmt::Write;

use super::Report;
use crate::baseline::BaselineState;
use crate::criteria;
use crate::exceptions::EXPIRING_SOON_DAYS;
use crate::findings::{Acceptance, Finding, Status, Summary};
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
    newly_accepted(&mut md, report);

    let by_criterion = super::by_criterion(report.findings);
    for ((_, id), mut findings) in by_criterion {
        findings.sort_by_key(|f| (rank(f.status), std::cmp::Reverse(f.severity)));
        criterion_section(&mut md, report, id, &findings);
    }
    acceptances(&mut md, report);
    stale(&mut md, report);
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

    /// A table of the first [`SHOWN`] items, the rest folded in `<details>` ("N more `what`");
    /// rows left out are counted.
    fn folded<T>(&mut self, header: &str, items: &[T], row: impl Fn(&T) -> String, what: &str) {
        self.rows(header, items.iter().take(SHOWN).map(&row));
        let rest = items.get(SHOWN..).unwrap_or(&[]);
        if rest.is_empty() {
            return;
        }
        if self.section(&format!(
            "\n<details><summary>{} more {what}</summary>\n\n",
            rest.len()
        )) {
            self.rows(header, rest.iter().map(&row));
            self.out.push_str("\n</details>\n");
        } else {
            self.omitted += rest.len();
        }
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

/// With a baseline, the accepted findings whose status is new: failures the change accepts (or
/// resources it accepts before they were ever judged).
fn newly_accepted_findings<'a>(report: &Report<'a>) -> Vec<&'a Finding> {
    let Some(cmp) = report.context.baseline else {
        return Vec::new();
    };
    report
        .findings
        .iter()
        .filter(|f| f.status == Status::Accepted && cmp.is_new(f))
        .collect()
}

/// "1 finding", "2 findings".
fn findings_count(n: usize) -> String {
    if n == 1 {
        "1 finding".to_string()
    } else {
        format!("{n} findings")
    }
}

fn head(md: &mut Budget, report: &Report<'_>) {
    let summary = Summary::of(report.findings);
    let c = summary.counts;
    let accepting = report.shows_acceptances();
    let newly = newly_accepted_findings(report).len();
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
    let accepted = if accepting {
        format!(" · {} accepted", c.accepted)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "**{} failed**{accepted} · {} errors · {} passed · {} not applicable — {} findings of {} rules on {}, collected {}\n",
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
    if newly > 0 {
        let _ = writeln!(
            out,
            "> [!IMPORTANT]\n> **This change accepts {}** as risks: they are listed below with who owns and approved each, why, and until when.\n",
            findings_count(newly)
        );
    }
    if accepting {
        let _ = writeln!(
            out,
            "| | criterion | passed | failed | accepted | errors | n/a |\n|---|---|---:|---:|---:|---:|---:|"
        );
    } else {
        let _ = writeln!(
            out,
            "| | criterion | passed | failed | errors | n/a |\n|---|---|---:|---:|---:|---:|"
        );
    }
    for k in &summary.criteria {
        let mark = if k.counts.error > 0 {
            "⚠️"
        } else if k.counts.fail > 0 {
            "❌"
        } else if k.counts.accepted > 0 {
            "📝"
        } else {
            "✅"
        };
        let title = criteria::find(&k.id).map_or("", |c| c.title);
        let accepted = if accepting {
            format!(" {} |", k.counts.accepted)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {mark} | **{}** {} | {} | {} |{accepted} {} | {} |",
            k.id, title, k.counts.pass, k.counts.fail, k.counts.error, k.counts.not_applicable
        );
    }
}

/// The findings this change accepts, right after the head: the call-out there says how many.
fn newly_accepted(md: &mut Budget, report: &Report<'_>) {
    let newly = newly_accepted_findings(report);
    if newly.is_empty() {
        return;
    }
    if !md.section(&format!(
        "\n### 📝 Newly accepted ({})\n\n",
        findings_count(newly.len())
    )) {
        md.omitted += newly.len();
        return;
    }
    md.folded(
        "| severity | rule | resource | owner | approved by | expires | reason |\n|---|---|---|---|---|---|---|\n",
        &newly,
        |f| {
            let a = f.acceptance.as_deref();
            format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                f.severity,
                code(&f.rule),
                code(&f.resource.to_string()),
                a.map_or("—".to_string(), |a| code(&a.owner)),
                a.map_or("—".to_string(), |a| code(&a.approved_by)),
                a.map_or("—".to_string(), expiry),
                a.map_or("—".to_string(), reason),
            )
        },
        "newly accepted",
    );
}

/// Every acceptance echoed on a finding, in force or expired, soonest expiry first (expired ones
/// lead: they no longer cover anything and need a decision now).
fn acceptances(md: &mut Budget, report: &Report<'_>) {
    let super::Acceptances {
        listed,
        expired,
        soon,
    } = report.acceptances();
    if listed.is_empty() {
        return;
    }
    if !md.section(&format!(
        "\n### 📝 Risk acceptances: {} in force ({soon} expiring within {EXPIRING_SOON_DAYS} days), {expired} expired\n\n",
        listed.len() - expired
    )) {
        md.omitted += listed.len();
        return;
    }
    md.folded(
        "| expires | severity | rule | resource | owner | approved by | reason |\n|---|---|---|---|---|---|---|\n",
        &listed,
        |(f, a)| {
            format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                expiry(a),
                f.severity,
                code(&f.rule),
                code(&f.resource.to_string()),
                code(&a.owner),
                code(&a.approved_by),
                reason(a)
            )
        },
        "acceptances",
    );
}

/// Acceptances that cover no failing finding: a warning, since each would silently accept a
/// future failure of what it names.
fn stale(md: &mut Budget, report: &Report<'_>) {
    let stale = report.context.stale_acceptances;
    if stale.is_empty() {
        return;
    }
    let file = report
        .context
        .exceptions_file
        .map_or("the exceptions file".to_string(), code);
    if !md.section(&format!(
        "\n### ⚠️ Stale acceptances ({})\n\nThese acceptances in {file} cover no failing finding (the failure was fixed, or the resource is gone): remove them, or they would silently accept a future failure.\n\n",
        stale.len()
    )) {
        md.omitted += stale.len();
        return;
    }
    md.folded(
        "| line | rule | resource |\n|---:|---|---|\n",
        stale,
        |(line, rule, resource)| format!("| {line} | {} | {} |\n", code(rule), code(resource)),
        "stale acceptances",
    );
}

/// The expiry cell: expired ones say so, those expiring soon are marked and bold.
fn expiry(a: &Acceptance) -> String {
    let date = plain(&a.expires);
    if a.expired {
        format!("⛔ **expired** {date}")
    } else if a.expiring_soon() {
        format!("⏳ **{date}** ({})", days_left(a.days_left))
    } else {
        format!("{date} ({})", days_left(a.days_left))
    }
}

/// `expires` is the last day an acceptance applies, so 0 days left is its last day.
fn days_left(days: i64) -> String {
    match days {
        0 => "last day".to_string(),
        1 => "1 day left".to_string(),
        n => format!("{n} days left"),
    }
}

/// The reason, the ticket and where the acceptance is declared, each in a code span.
fn reason(a: &Acceptance) -> String {
    let mut cell = code(&a.reason);
    if let Some(ticket) = &a.ticket {
        cell.push_str(&format!(" · {}", code(ticket)));
    }
    cell.push_str(&format!(" · {}", code(&a.declared_at)));
    cell
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
    } else if !bad.is_empty() {
        "❌"
    } else if good.iter().any(|f| f.status == Status::Accepted) {
        "📝"
    } else {
        "✅"
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
            Status::Accepted => "📝 accepted",
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
        md.folded(header, &bad, row, "failures and errors");
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
        let accepted = good.iter().filter(|f| f.status == Status::Accepted).count();
        let accepted_text = if accepted > 0 {
            format!("{accepted} accepted, ")
        } else {
            String::new()
        };
        if md.section(&format!(
            "\n<details><summary>{passed} passed, {accepted_text}{} not applicable</summary>\n\n",
            good.len() - passed - accepted
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
        Status::Accepted => 2,
        Status::Pass => 3,
        Status::NotApplicable => 4,
    }
}

/// A code span safe inside a table cell (see [`crate::untrusted::markdown_code`]).
pub(crate) fn code(s: &str) -> String {
    crate::untrusted::markdown_code(s)
}

/// Plain text from rule annotations (written by the rule author): one line, HTML neutralised.
pub(crate) fn plain(s: &str) -> String {
    crate::untrusted::terminal(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{Baseline, Comparison};
    use crate::report::fixtures::{acceptance, finding, with_report};
    use crate::report::Context;

    fn failures(n: usize) -> Vec<Finding> {
        (0..n)
            .map(|i| {
                let status = if i % 3 == 0 {
                    Status::Pass
                } else {
                    Status::Fail
                };
                finding(&format!("user-{i:06}"), status, None)
            })
            .collect()
    }

    fn balanced(md: &str) -> bool {
        md.matches("<details>").count() == md.matches("</details>").count()
    }

    #[test]
    fn a_huge_report_stays_under_githubs_limit_and_says_it_was_cut() {
        let findings = failures(100_000);
        let md = with_report(&findings, Verdict::Failed, Context::default(), render);
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
        let full = with_report(&findings, Verdict::Failed, Context::default(), render);
        assert!(!full.contains("Truncated"));
        assert!(full.contains("<details><summary>16 more failures and errors</summary>"));
        let cut = with_report(&findings, Verdict::Failed, Context::default(), |r| {
            render_within(r, 4096)
        });
        assert!(cut.len() <= 4096, "{} bytes", cut.len());
        assert!(balanced(&cut));
        assert!(cut.contains("> [!WARNING]\n> Truncated to stay under GitHub's 1 MiB"));
        assert!(cut.starts_with("## ❌ trustcheck: failed"));
    }

    /// A finding covered by the fixture's acceptance, whose reason names the user and carries a
    /// mention and markup, declared on line 3.
    fn accepted(id: &str, status: Status, expires: &str, days_left: i64) -> Finding {
        let mut covering = acceptance(expires, days_left);
        covering.reason = format!("{id}: ping @security-team <b>now</b>");
        covering.declared_at = "trustcheck-exceptions.toml:3".into();
        finding(id, status, Some(covering))
    }

    fn render_in(findings: &[Finding], context: Context<'_>) -> String {
        with_report(findings, Verdict::Clean, context, render)
    }

    /// The text from `heading` to the next heading.
    fn section<'a>(md: &'a str, heading: &str) -> &'a str {
        let (_, rest) = md.split_once(heading).unwrap();
        rest.split("\n### ").next().unwrap()
    }

    #[test]
    fn a_change_that_accepts_findings_says_so_in_the_head_and_lists_them() {
        let mut was_failing = accepted("break-glass", Status::Fail, "2027-03-31", 129);
        was_failing.acceptance = None;
        let already = accepted("legacy", Status::Accepted, "2027-01-31", 70);
        let baseline = Baseline::from_findings([was_failing, already.clone()]);
        let current = [
            accepted("break-glass", Status::Accepted, "2027-03-31", 129),
            already,
        ];
        let cmp = Comparison::of(&baseline, &current);
        let md = render_in(
            &current,
            Context {
                baseline: Some(&cmp),
                exceptions_file: Some("trustcheck-exceptions.toml"),
                ..Context::default()
            },
        );
        let head = md.split("\n### ").next().unwrap();
        assert!(
            head.contains("> [!IMPORTANT]\n> **This change accepts 1 finding** as risks"),
            "{head}"
        );
        assert!(head.contains(" · 2 accepted · "), "{head}");
        assert!(
            head.contains("| passed | failed | accepted | errors | n/a |"),
            "{head}"
        );
        assert!(head.contains("| 📝 | **CC6.1**"), "{head}");
        let newly = section(&md, "### 📝 Newly accepted (1 finding)");
        assert!(newly.contains("user/break-glass"), "{newly}");
        assert!(
            !newly.contains("user/legacy"),
            "unchanged acceptances are not new: {newly}"
        );
        assert!(newly.contains("| `security@northwind.example` | `cto@northwind.example` |"));
        // Text from the exceptions file only ever in code spans: no mention, no markup.
        assert!(
            newly.contains("`break-glass: ping @security-team <b>now</b>` · `SEC-12` · `trustcheck-exceptions.toml:3`"),
            "{newly}"
        );
        // Without a baseline nothing is "newly" accepted.
        let md = render_in(&current, Context::default());
        assert!(!md.contains("This change accepts"), "{md}");
        assert!(!md.contains("Newly accepted"), "{md}");
    }

    #[test]
    fn acceptances_expiring_soon_are_highlighted_and_expired_ones_shown_as_expired() {
        let findings = [
            accepted("far", Status::Accepted, "2027-06-10", 200),
            accepted("lapsed", Status::Fail, "2026-11-19", -3),
            accepted("near", Status::Accepted, "2026-12-01", 9),
        ];
        let stale = [(
            12,
            "github-member-2fa".to_string(),
            "Github::Member::\"acme/gone\"".to_string(),
        )];
        let md = render_in(
            &findings,
            Context {
                exceptions_file: Some("trustcheck-exceptions.toml"),
                stale_acceptances: &stale,
                ..Context::default()
            },
        );
        let list = section(
            &md,
            "### 📝 Risk acceptances: 2 in force (1 expiring within 30 days), 1 expired",
        );
        let lapsed = list.find("| ⛔ **expired** 2026-11-19 | high |").unwrap();
        let near = list
            .find("| ⏳ **2026-12-01** (9 days left) | high |")
            .unwrap();
        let far = list.find("| 2027-06-10 (200 days left) | high |").unwrap();
        assert!(lapsed < near && near < far, "soonest first: {list}");
        let stale = section(&md, "### ⚠️ Stale acceptances (1)");
        assert!(stale.contains("in `trustcheck-exceptions.toml` cover no failing finding"));
        assert!(stale.contains("| 12 | `github-member-2fa` | `Github::Member::\"acme/gone\"` |"));
        // The accepted findings are folded with the passes, the expired one is a failure.
        let criterion = section(&md, "### ❌ CC6.1");
        assert!(criterion.contains("| ❌ fail | high |"), "{criterion}");
        assert!(criterion.contains("<summary>0 passed, 2 accepted, 0 not applicable</summary>"));
        assert!(criterion.contains("| 📝 accepted | high |"), "{criterion}");
    }

    #[test]
    fn code_spans_survive_backticks_pipes_and_newlines() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("l1\nl2"), "`l1\\nl2`");
        assert_eq!(plain("<b>"), "&lt;b&gt;");
    }
}
