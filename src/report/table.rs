//! The human-readable report: grouped by SOC 2 criterion, failures first, a summary at the end.
//!
//! Accepted findings (failures a risk acceptance covers) are listed with the failures, then the
//! acceptances themselves are listed once, with owner, approver and time left, so a reader sees
//! what is being lived with and what is about to need a decision.

use std::fmt::Write;

use comfy_table::{presets, Cell, CellAlignment, Color, ContentArrangement, Table};
use owo_colors::OwoColorize;

use super::{Report, Style};
use crate::baseline::BaselineState;
use crate::criteria;
use crate::exceptions::EXPIRING_SOON_DAYS;
use crate::findings::{Acceptance, Counts, Finding, Status, Summary};
use crate::gate::Verdict;
use crate::untrusted::terminal;

/// Renders the report.
pub fn render(report: &Report<'_>, style: Style) -> String {
    let mut out = String::new();
    let summary = Summary::of(report.findings);
    let accepting = report.shows_acceptances();
    let scopes: Vec<String> = report
        .snapshots
        .iter()
        .flat_map(|s| {
            s.sources
                .iter()
                .map(|src| terminal(&format!("{} {}", src.provider, src.scope)).into_owned())
        })
        .collect();
    let _ = writeln!(
        out,
        "trustcheck: {} rules on {} ({}), {} findings",
        report.rules.rules().len(),
        if scopes.is_empty() {
            "no sources".to_string()
        } else {
            scopes.join(", ")
        },
        report
            .snapshots
            .iter()
            .map(|s| format!("collected {}", s.collected_at))
            .collect::<Vec<_>>()
            .join("; "),
        summary.total
    );

    // Group by criterion (a finding of a rule with two criteria shows under both).
    let by_criterion = super::by_criterion(report.findings);
    for ((_, id), mut findings) in by_criterion {
        let counts = summary
            .criteria
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.counts)
            .unwrap_or_default();
        let title = criteria::find(id).map_or("", |c| c.title);
        let heading = format!("{id}  {title}");
        let _ = writeln!(out);
        if style.color {
            let _ = writeln!(out, "{}", heading.bold());
        } else {
            let _ = writeln!(out, "{heading}");
        }
        findings.sort_by_key(|f| (rank(f.status), std::cmp::Reverse(f.severity)));
        let listed: Vec<&&Finding> = findings
            .iter()
            .filter(|f| {
                style.show_passed
                    || matches!(f.status, Status::Fail | Status::Error | Status::Accepted)
            })
            .collect();
        if !listed.is_empty() {
            let mut table = Table::new();
            table
                .load_preset(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(style.width)
                .set_header(vec!["status", "severity", "rule", "resource", "why"]);
            if !style.color {
                table.force_no_tty();
            }
            for f in listed {
                let new = report.context.baseline.is_some_and(|b| b.is_new(f))
                    && matches!(f.status, Status::Fail | Status::Error | Status::Accepted);
                table.add_row(vec![
                    status_cell(f.status, new, style.color),
                    Cell::new(f.severity.as_str()),
                    Cell::new(terminal(&f.rule)),
                    Cell::new(terminal(&f.resource.to_string())),
                    Cell::new(terminal(&f.message)),
                ]);
            }
            let _ = writeln!(out, "{table}");
        }
        let _ = writeln!(out, "  {}", counts_line(&counts, accepting));
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "Summary by criterion:");
    let mut table = Table::new();
    let mut header = vec!["criterion", "passed", "failed"];
    if accepting {
        header.push("accepted");
    }
    header.extend(["errors", "n/a"]);
    table.load_preset(presets::NOTHING).set_header(header);
    for c in &summary.criteria {
        let right = |n: usize| Cell::new(n).set_alignment(CellAlignment::Right);
        let mut row = vec![Cell::new(&c.id), right(c.counts.pass), right(c.counts.fail)];
        if accepting {
            row.push(right(c.counts.accepted));
        }
        row.extend([right(c.counts.error), right(c.counts.not_applicable)]);
        table.add_row(row);
    }
    table.force_no_tty();
    let _ = writeln!(out, "{table}");
    acceptances(&mut out, report, style);
    stale(&mut out, report, style);
    extras(&mut out, report);
    let _ = writeln!(out);
    let verdict = super::verdict_sentence(report);
    if style.color {
        let painted = match report.verdict {
            Verdict::Clean => verdict.green().bold().to_string(),
            Verdict::Failed => verdict.red().bold().to_string(),
            Verdict::Untrustworthy => verdict.yellow().bold().to_string(),
        };
        let _ = writeln!(out, "{painted}");
    } else {
        let _ = writeln!(out, "{verdict}");
    }
    out
}

/// Every acceptance echoed on a finding, in force or expired, soonest expiry first (expired ones
/// lead: they no longer cover anything and need a decision now).
fn acceptances(out: &mut String, report: &Report<'_>, style: Style) {
    let super::Acceptances {
        listed: accepted,
        expired,
        soon,
    } = report.acceptances();
    if accepted.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nRisk acceptances: {} in force ({soon} expiring within {EXPIRING_SOON_DAYS} days), {expired} expired",
        accepted.len() - expired
    );
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width)
        .set_header(vec![
            "expires",
            "rule",
            "resource",
            "owner",
            "approved by",
            "reason",
        ]);
    if !style.color {
        table.force_no_tty();
    }
    for (f, a) in accepted {
        let mut reason = a.reason.clone();
        if let Some(ticket) = &a.ticket {
            reason.push_str(&format!(" ({ticket})"));
        }
        reason.push_str(&format!(" [{}]", a.declared_at));
        table.add_row(vec![
            expiry_cell(a, style.color),
            Cell::new(terminal(&f.rule)),
            Cell::new(terminal(&f.resource.to_string())),
            Cell::new(terminal(&a.owner)),
            Cell::new(terminal(&a.approved_by)),
            Cell::new(terminal(&reason)),
        ]);
    }
    let _ = writeln!(out, "{table}");
}

/// The expiry date and the time left: expired ones say so (in red), those expiring within
/// [`EXPIRING_SOON_DAYS`] are marked `soon` (in yellow), so the marking survives `NO_COLOR`.
fn expiry_cell(a: &Acceptance, color: bool) -> Cell {
    let (text, c) = if a.expired {
        (format!("EXPIRED\n{}", a.expires), Some(Color::Red))
    } else if a.expiring_soon() {
        (
            format!("{}\n{}, soon", a.expires, days_left(a.days_left)),
            Some(Color::Yellow),
        )
    } else {
        (format!("{}\n{}", a.expires, days_left(a.days_left)), None)
    };
    match (c, color) {
        (Some(c), true) => Cell::new(text).fg(c),
        _ => Cell::new(text),
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

/// Acceptances that cover no failing finding: a warning, since they would silently accept a
/// future failure of the same resource.
fn stale(out: &mut String, report: &Report<'_>, style: Style) {
    let stale = report.context.stale_acceptances;
    if stale.is_empty() {
        return;
    }
    let file = report.context.exceptions_file.unwrap_or("exceptions file");
    let warning = format!(
        "\nWarning: {} no failing finding (fixed, or the resource is gone); remove {}:",
        if stale.len() == 1 {
            "1 acceptance covers".to_string()
        } else {
            format!("{} acceptances cover", stale.len())
        },
        if stale.len() == 1 { "it" } else { "them" }
    );
    if style.color {
        let _ = writeln!(out, "{}", warning.yellow());
    } else {
        let _ = writeln!(out, "{warning}");
    }
    for (line, rule, resource) in stale {
        let _ = writeln!(
            out,
            "  {}:{line}  {}  {}",
            terminal(file),
            terminal(rule),
            terminal(resource)
        );
    }
}

/// The baseline and policy-impact sections, when asked for.
fn extras(out: &mut String, report: &Report<'_>) {
    if let Some(cmp) = report.context.baseline {
        let _ = writeln!(
            out,
            "\nBaseline: {} new failures, {} unchanged failures, {} fixed",
            report.baseline_failures(BaselineState::New),
            report.baseline_failures(BaselineState::Unchanged),
            cmp.fixed.len()
        );
        for f in &cmp.fixed {
            let _ = writeln!(
                out,
                "  fixed  {} {} {}",
                f.severity,
                terminal(&f.rule),
                terminal(&f.resource.to_string())
            );
        }
    }
    if let Some(impact) = report.context.policy_impact {
        let _ = writeln!(
            out,
            "\nPolicy impact: {} findings change status with the new rules",
            impact.len()
        );
        for c in impact {
            let _ = writeln!(
                out,
                "  {} {} {}  {} → {}  {}",
                c.severity,
                c.rule,
                c.resource,
                c.old.map_or("—", Status::as_str),
                c.new.map_or("—", Status::as_str),
                c.message
            );
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

fn status_cell(status: Status, new: bool, color: bool) -> Cell {
    let (text, c) = match status {
        Status::Fail => ("FAIL", Color::Red),
        Status::Error => ("ERROR", Color::Yellow),
        Status::Accepted => ("ACCEPTED", Color::Cyan),
        Status::Pass => ("pass", Color::Green),
        Status::NotApplicable => ("n/a", Color::Grey),
    };
    // "new" relative to --baseline, on its own line so the column stays narrow.
    let cell = Cell::new(if new {
        format!("{text}\nnew")
    } else {
        text.to_string()
    });
    if color {
        cell.fg(c)
    } else {
        cell
    }
}

fn counts_line(c: &Counts, accepting: bool) -> String {
    let accepted = if accepting {
        format!("{} accepted, ", c.accepted)
    } else {
        String::new()
    };
    format!(
        "{} passed, {} failed, {accepted}{} errors, {} not applicable",
        c.pass, c.fail, c.error, c.not_applicable
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{acceptance, finding, with_report};
    use crate::report::Context;

    #[test]
    fn acceptances_are_listed_with_expiry_and_counted_apart() {
        let findings = [
            finding("far", Status::Accepted, Some(acceptance("2027-06-10", 200))),
            finding("lapsed", Status::Fail, Some(acceptance("2026-11-19", -3))),
            finding("near", Status::Accepted, Some(acceptance("2026-12-01", 9))),
            finding("ok", Status::Pass, None),
        ];
        let stale = [(
            4,
            "aws-root-mfa".to_string(),
            "Aws::Account::\"x\"".to_string(),
        )];
        let context = Context {
            exceptions_file: Some("x.toml"),
            stale_acceptances: &stale,
            ..Context::default()
        };
        let style = Style {
            color: false,
            width: 250,
            show_passed: false,
        };
        let out = with_report(&findings, Verdict::Failed, context, |report| {
            render(report, style)
        });
        // Accepted findings are listed after the failure, the pass is not.
        let fail = out.find("FAIL").unwrap();
        let accepted = out.find("ACCEPTED").unwrap();
        assert!(fail < accepted, "{out}");
        assert!(!out.contains("│ pass"), "{out}");
        assert!(
            out.contains("1 passed, 1 failed, 2 accepted, 0 errors, 0 not applicable"),
            "{out}"
        );
        assert!(
            out.contains("Risk acceptances: 2 in force (1 expiring within 30 days), 1 expired"),
            "{out}"
        );
        // Expired first, then the one expiring soon, marked so without colour too.
        let section = out.split("Risk acceptances:").nth(1).unwrap();
        let lapsed = section.find("EXPIRED").unwrap();
        let near = section.find("9 days left, soon").unwrap();
        let far = section.find("200 days left").unwrap();
        assert!(lapsed < near && near < far, "{section}");
        assert!(!section.contains("200 days left, soon"), "{section}");
        assert!(
            out.contains("Warning: 1 acceptance covers no failing finding"),
            "{out}"
        );
        assert!(out.contains("x.toml:4  aws-root-mfa"), "{out}");
        let summary = out.split("Summary by criterion:").nth(1).unwrap();
        assert!(summary.contains("accepted"), "{summary}");
    }
}
