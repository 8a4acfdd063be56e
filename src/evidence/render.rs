//! The period report as Markdown, JSON (`trustcheck.evidence-period/v1`), CSV and HTML.

use std::fmt::Write;

use super::period::{Cell, PeriodReport, RuleReport, Window};
use crate::report::markdown::{code, plain};

/// Formats of `evidence report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodFormat {
    /// Markdown: per criterion and rule, exception windows, acceptances, gaps, populations.
    Markdown,
    /// `trustcheck.evidence-period/v1` JSON: everything the other formats print.
    Json,
    /// CSV, one row per exception window, for sampling in a spreadsheet.
    Csv,
    /// One self-contained HTML page opening with a picture of the period; prints to PDF.
    Html,
}

/// Renders the report.
pub fn render(format: PeriodFormat, report: &PeriodReport) -> String {
    match format {
        PeriodFormat::Markdown => markdown(report),
        PeriodFormat::Json => {
            let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
            s.push('\n');
            s
        }
        PeriodFormat::Csv => csv(report),
        PeriodFormat::Html => super::html::render(report),
    }
}

fn day(utc: &str) -> &str {
    utc.get(..10).unwrap_or(utc)
}

fn run_label(sequence: u64, at: &str) -> String {
    format!("#{sequence} ({})", day(at))
}

fn percent(r: &RuleReport) -> String {
    r.held_percent()
        .map_or("–".to_string(), |p| format!("{p:.1} %"))
}

fn open_windows(report: &PeriodReport) -> (usize, usize) {
    let windows = report.rules.iter().flat_map(|r| &r.windows);
    let (mut all, mut open) = (0, 0);
    for w in windows {
        all += 1;
        if w.fixed_by.is_none() {
            open += 1;
        }
    }
    (all, open)
}

fn fixed_cell(w: &Window) -> String {
    match &w.fixed_by {
        Some(f) => run_label(f.sequence, &f.collected_at),
        None => "**still open** at period end".to_string(),
    }
}

/// Markdown for workpapers and job summaries. Resource ids and acceptance texts only ever go
/// into code spans (see `report::markdown`).
pub fn markdown(report: &PeriodReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Evidence report {} – {}\n",
        day(&report.from),
        day(&report.to)
    );
    let (windows, open) = open_windows(report);
    let incomplete = report.runs.iter().filter(|r| r.incomplete).count();
    let _ = writeln!(
        out,
        "Ledger `{}`, period {} to {}, expected cadence {}. Every bundle's SHA-256 and the chain were verified; head bundle `{}`.\n",
        report.ledger,
        report.from,
        report.to,
        report.cadence,
        report.head.as_deref().unwrap_or("none")
    );
    let _ = writeln!(out, "| | |\n|---|---:|");
    let _ = writeln!(out, "| runs in period | {} |", report.runs.len());
    let _ = writeln!(
        out,
        "| incomplete runs (collection failed) | {incomplete} |"
    );
    let _ = writeln!(out, "| cadence gaps | {} |", report.gaps.len());
    let _ = writeln!(
        out,
        "| exception windows | {windows} ({open} open at period end) |"
    );
    let _ = writeln!(
        out,
        "| accepted exceptions | {} |\n",
        report.acceptances.len()
    );

    let _ = writeln!(out, "## Controls by criterion\n");
    for c in &report.criteria {
        let _ = writeln!(out, "### {} {}\n", c.id, plain(&c.title));
        let _ = writeln!(
            out,
            "| rule | severity | runs | held | failed | accepted | could not judge | held share | windows |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for id in &c.rules {
            if let Some(r) = report.rules.iter().find(|r| &r.id == id) {
                let _ = writeln!(
                    out,
                    "| {} {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    code(&r.id),
                    plain(&r.title),
                    r.severity.as_str(),
                    r.runs,
                    r.held,
                    r.failed,
                    r.accepted,
                    r.could_not_judge,
                    percent(r),
                    r.windows.len()
                );
            }
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Exception windows\n");
    if windows == 0 {
        let _ = writeln!(out, "No resource failed a rule in the period.\n");
    }
    for r in report.rules.iter().filter(|r| !r.windows.is_empty()) {
        let _ = writeln!(out, "### {} ({})\n", code(&r.id), r.soc2.join(", "));
        let _ = writeln!(
            out,
            "| resource | first failed | last failed | fixed by | duration | runs failed (accepted) |"
        );
        let _ = writeln!(out, "|---|---|---|---|---:|---:|");
        for w in &r.windows {
            let _ = writeln!(
                out,
                "| {} | {}{} | {} | {} | {} | {} ({}) |",
                code(&w.resource),
                run_label(w.first_failed.sequence, &w.first_failed.collected_at),
                if w.open_at_start {
                    " (failing at period start)"
                } else {
                    ""
                },
                run_label(w.last_failed.sequence, &w.last_failed.collected_at),
                fixed_cell(w),
                w.duration,
                w.failed_runs,
                w.accepted_runs
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Accepted exceptions\n");
    if report.acceptances.is_empty() {
        let _ = writeln!(out, "None in the period.\n");
    } else {
        let _ = writeln!(
            out,
            "| rule | resource | owner | approved by | expires | runs in force | runs after expiry | reason |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---:|---:|---|");
        for a in &report.acceptances {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                code(&a.rule),
                code(&a.resource),
                code(&a.owner),
                code(&a.approved_by),
                a.expires,
                a.runs_in_force,
                a.runs_expired,
                code(&a.reason)
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Runs that could not judge\n");
    let unjudged: Vec<_> = report
        .rules
        .iter()
        .flat_map(|r| r.unjudged.iter().map(move |u| (r, u)))
        .collect();
    if unjudged.is_empty() && incomplete == 0 {
        let _ = writeln!(out, "Every run judged every resource.\n");
    } else {
        for run in report.runs.iter().filter(|r| r.incomplete) {
            let _ = writeln!(
                out,
                "- run {} was **incomplete**: {}",
                run_label(run.sequence, &run.collected_at),
                code(&run.incomplete_reasons.join("; "))
            );
        }
        for (r, u) in unjudged {
            let _ = writeln!(
                out,
                "- {} in run {}: {} resource(s), {}",
                code(&r.id),
                run_label(u.run.sequence, &u.run.collected_at),
                u.resources,
                code(&u.reason)
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Cadence gaps\n");
    if report.gaps.is_empty() {
        let _ = writeln!(
            out,
            "No gap longer than the cadence ({}).\n",
            report.cadence
        );
    } else {
        let _ = writeln!(out, "| from | to | length |\n|---|---|---:|");
        for g in &report.gaps {
            let _ = writeln!(out, "| {} | {} | {} |", g.from, g.to, g.length);
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Population per run\n");
    let types: std::collections::BTreeSet<&str> = report
        .runs
        .iter()
        .flat_map(|r| r.population.keys().map(String::as_str))
        .collect();
    let _ = write!(out, "| run | collected at |");
    for t in &types {
        let _ = write!(out, " {} |", code(t));
    }
    let _ = writeln!(out, " findings | failed |");
    let _ = write!(out, "|---|---|");
    for _ in &types {
        let _ = write!(out, "---:|");
    }
    let _ = writeln!(out, "---:|---:|");
    for run in &report.runs {
        let _ = write!(
            out,
            "| #{}{} | {} |",
            run.sequence,
            if run.incomplete { " (incomplete)" } else { "" },
            run.collected_at
        );
        for t in &types {
            let _ = write!(out, " {} |", run.population.get(*t).copied().unwrap_or(0));
        }
        let c = run.counts;
        let total = c.pass + c.fail + c.error + c.not_applicable + c.accepted;
        let _ = writeln!(out, " {total} | {} |", c.fail);
    }
    out
}

/// One row per exception window.
pub fn csv(report: &PeriodReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "rule",
        "criteria",
        "severity",
        "resource",
        "first_failed_run",
        "first_failed_at",
        "last_failed_run",
        "last_failed_at",
        "fixed_by_run",
        "fixed_at",
        "open_at_period_end",
        "failing_at_period_start",
        "duration_seconds",
        "failed_runs",
        "accepted_runs",
        "unjudged_runs",
    ]);
    for r in &report.rules {
        for win in &r.windows {
            let (fixed_run, fixed_at) = match &win.fixed_by {
                Some(f) => (f.sequence.to_string(), f.collected_at.clone()),
                None => (String::new(), String::new()),
            };
            let _ = w.write_record([
                r.id.clone(),
                r.soc2.join(" "),
                r.severity.as_str().to_string(),
                win.resource.clone(),
                win.first_failed.sequence.to_string(),
                win.first_failed.collected_at.clone(),
                win.last_failed.sequence.to_string(),
                win.last_failed.collected_at.clone(),
                fixed_run,
                fixed_at,
                win.fixed_by.is_none().to_string(),
                win.open_at_start.to_string(),
                win.duration_seconds.to_string(),
                win.failed_runs.to_string(),
                win.accepted_runs.to_string(),
                win.unjudged_runs.to_string(),
            ]);
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The cell's CSS class and legend word (shared with the HTML picture).
pub fn cell_class(cell: Cell) -> &'static str {
    match cell {
        Cell::Held => "held",
        Cell::Failed => "failed",
        Cell::Accepted => "accepted",
        Cell::CouldNotJudge => "unjudged",
        Cell::NoRun => "norun",
    }
}
