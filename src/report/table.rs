//! The human-readable report: grouped by SOC 2 criterion, failures first, a summary at the end.

use std::fmt::Write;

use comfy_table::{presets, Cell, CellAlignment, Color, ContentArrangement, Table};
use owo_colors::OwoColorize;

use super::{Report, Style};
use crate::baseline::BaselineState;
use crate::criteria;
use crate::findings::{Counts, Finding, Status, Summary};
use crate::gate::Verdict;

/// Renders the report.
pub fn render(report: &Report<'_>, style: Style) -> String {
    let mut out = String::new();
    let summary = Summary::of(report.findings);
    let scopes: Vec<String> = report
        .snapshots
        .iter()
        .flat_map(|s| {
            s.sources
                .iter()
                .map(|src| format!("{} {}", src.provider, src.scope))
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
            .filter(|f| style.show_passed || matches!(f.status, Status::Fail | Status::Error))
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
                    && matches!(f.status, Status::Fail | Status::Error);
                table.add_row(vec![
                    status_cell(f.status, new, style.color),
                    Cell::new(f.severity.as_str()),
                    Cell::new(f.rule.as_ref()),
                    Cell::new(f.resource.to_string()),
                    Cell::new(&f.message),
                ]);
            }
            let _ = writeln!(out, "{table}");
        }
        let _ = writeln!(out, "  {}", counts_line(&counts));
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "Summary by criterion:");
    let mut table = Table::new();
    table.load_preset(presets::NOTHING).set_header(vec![
        "criterion",
        "passed",
        "failed",
        "errors",
        "n/a",
    ]);
    for c in &summary.criteria {
        table.add_row(vec![
            Cell::new(&c.id),
            Cell::new(c.counts.pass).set_alignment(CellAlignment::Right),
            Cell::new(c.counts.fail).set_alignment(CellAlignment::Right),
            Cell::new(c.counts.error).set_alignment(CellAlignment::Right),
            Cell::new(c.counts.not_applicable).set_alignment(CellAlignment::Right),
        ]);
    }
    table.force_no_tty();
    let _ = writeln!(out, "{table}");
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
            let _ = writeln!(out, "  fixed  {} {} {}", f.severity, f.rule, f.resource);
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
        Status::Pass => 2,
        Status::NotApplicable => 3,
    }
}

fn status_cell(status: Status, new: bool, color: bool) -> Cell {
    let (text, c) = match status {
        Status::Fail => ("FAIL", Color::Red),
        Status::Error => ("ERROR", Color::Yellow),
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

fn counts_line(c: &Counts) -> String {
    format!(
        "{} passed, {} failed, {} errors, {} not applicable",
        c.pass, c.fail, c.error, c.not_applicable
    )
}
