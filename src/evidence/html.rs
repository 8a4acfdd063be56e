//! The period report as one self-contained HTML page: no script, no external asset, print styles
//! for PDF. It opens with a picture of the period drawn as inline SVG: per criterion, one row per
//! rule and one cell per run, coloured held / failed / accepted / could not judge / no run.
//!
//! Written by hand rather than with a template crate: the page is one function of plain
//! `write!`s, and every text from the ledger goes through [`esc`].

use std::fmt::Write;

use super::period::{Cell, PeriodReport};
use super::render::cell_class;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    // One place for untrusted text (crate::untrusted): markup and unsafe characters escaped.
    crate::untrusted::html(s)
}

const STYLE: &str = r#"
body { font: 11pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; margin: 2em; }
h1 { font-size: 18pt; margin: 0 0 .3em; } h2 { font-size: 14pt; margin-top: 1.6em; } h3 { font-size: 12pt; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 9.5pt; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 9pt; word-break: break-all; }
.legend span { display: inline-block; margin-right: 1.2em; }
.legend i { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -1px; border: 1px solid #888; }
.held { fill: #2e7d32; background: #2e7d32; } .failed { fill: #c62828; background: #c62828; }
.accepted { fill: #f9a825; background: #f9a825; } .unjudged { fill: #6a1b9a; background: #6a1b9a; }
.norun { fill: #e0e0e0; background: #e0e0e0; }
svg text { font: 9px system-ui, sans-serif; fill: #111; }
.picture { max-width: 100%; }
@media print {
  body { margin: 0; }
  h2 { break-after: avoid; } table, svg { break-inside: avoid; }
  @page { size: A4 landscape; margin: 12mm; }
}
"#;

/// Renders the page.
pub fn render(report: &PeriodReport) -> String {
    let mut out = String::new();
    let title = format!(
        "Evidence report {} – {}",
        report.from.get(..10).unwrap_or(&report.from),
        report.to.get(..10).unwrap_or(&report.to)
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let _ = writeln!(
        out,
        "<p>Ledger <code>{}</code>: {} runs from {} to {}, expected cadence {}. Every bundle's SHA-256 and the chain were verified; head bundle <code>{}</code>.</p>",
        esc(&report.ledger),
        report.runs.len(),
        esc(&report.from),
        esc(&report.to),
        esc(&report.cadence),
        esc(report.head.as_deref().unwrap_or("none"))
    );
    picture(&mut out, report);
    tables(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

/// The period picture: one SVG, a band per criterion, a row per rule, a cell per run; gaps
/// between runs are marked by a tick above the grid.
fn picture(out: &mut String, report: &PeriodReport) {
    let runs = report.runs.len().max(1);
    let label_w = 260.0;
    let grid_w = 900.0_f64;
    let cell_w = (grid_w / runs as f64).max(1.0);
    let row_h = 12.0;
    let mut rows = 0usize;
    for c in &report.criteria {
        rows += 1 + c.rules.len();
    }
    let height = 30.0 + rows as f64 * row_h + 10.0;
    let width = label_w + cell_w * runs as f64 + 10.0;
    let _ = writeln!(
        out,
        "<h2>The period at a glance</h2>\n<p class=\"legend\">{}</p>",
        [
            Cell::Held,
            Cell::Failed,
            Cell::Accepted,
            Cell::CouldNotJudge,
            Cell::NoRun
        ]
        .iter()
        .map(|c| format!(
            "<span><i class=\"{}\"></i>{}</span>",
            cell_class(*c),
            c.word()
        ))
        .collect::<String>()
    );
    let _ = writeln!(
        out,
        "<svg class=\"picture\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" role=\"img\" aria-label=\"Per rule and run: held, failed, accepted, could not judge, no run\">"
    );
    if let (Some(first), Some(last)) = (report.runs.first(), report.runs.last()) {
        let _ = writeln!(
            out,
            "<text x=\"{label_w}\" y=\"12\">{}</text><text x=\"{:.1}\" y=\"12\" text-anchor=\"end\">{}</text>",
            esc(first.collected_at.get(..10).unwrap_or("")),
            label_w + cell_w * runs as f64,
            esc(last.collected_at.get(..10).unwrap_or(""))
        );
    }
    for g in &report.gaps {
        if let Some(i) = g
            .after
            .and_then(|s| report.runs.iter().position(|r| r.sequence == s))
        {
            let x = label_w + cell_w * (i as f64 + 1.0);
            let _ = writeln!(
                out,
                "<path d=\"M{x:.1} 16 v8\" stroke=\"#c62828\" stroke-width=\"2\"><title>gap of {}: {} to {}</title></path>",
                esc(&g.length),
                esc(&g.from),
                esc(&g.to)
            );
        }
    }
    let mut y = 30.0;
    for c in &report.criteria {
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{:.1}\" font-weight=\"bold\">{} {}</text>",
            y + 9.0,
            esc(&c.id),
            esc(&truncate(&c.title, 40))
        );
        y += row_h;
        for id in &c.rules {
            let Some(rule) = report.rules.iter().find(|r| &r.id == id) else {
                continue;
            };
            let _ = writeln!(
                out,
                "<text x=\"8\" y=\"{:.1}\">{}</text>",
                y + 9.0,
                esc(&truncate(&rule.id, 44))
            );
            for (i, cell) in rule.cells.iter().enumerate() {
                let run = report.runs.get(i);
                let _ = writeln!(
                    out,
                    "<rect x=\"{:.2}\" y=\"{y:.1}\" width=\"{:.2}\" height=\"{:.1}\" class=\"{}\"><title>{} #{} {}: {}</title></rect>",
                    label_w + cell_w * i as f64,
                    (cell_w - if cell_w > 3.0 { 1.0 } else { 0.0 }).max(0.5),
                    row_h - 2.0,
                    cell_class(*cell),
                    esc(&rule.id),
                    run.map_or(0, |r| r.sequence),
                    esc(run.map_or("", |r| r.collected_at.as_str())),
                    cell.word()
                );
            }
            y += row_h;
        }
    }
    out.push_str("</svg>\n");
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn day(utc: &str) -> &str {
    utc.get(..10).unwrap_or(utc)
}

fn run_label(sequence: u64, at: &str) -> String {
    format!("#{sequence} ({})", day(at))
}

fn table(out: &mut String, head: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    out.push_str("<table>\n<tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", esc(s))
}

/// The sections after the picture: the same as the Markdown report's.
fn tables(out: &mut String, report: &PeriodReport) {
    out.push_str("<h2>Controls by criterion</h2>\n");
    for c in &report.criteria {
        let _ = writeln!(out, "<h3>{} {}</h3>", esc(&c.id), esc(&c.title));
        let rows = c
            .rules
            .iter()
            .filter_map(|id| report.rules.iter().find(|r| &r.id == id))
            .map(|r| {
                vec![
                    format!("{} {}", code(&r.id), esc(&r.title)),
                    r.severity.as_str().to_string(),
                    r.runs.to_string(),
                    r.held.to_string(),
                    r.failed.to_string(),
                    r.accepted.to_string(),
                    r.could_not_judge.to_string(),
                    r.held_percent()
                        .map_or("–".to_string(), |p| format!("{p:.1} %")),
                    r.windows.len().to_string(),
                ]
            });
        table(
            out,
            &[
                "rule",
                "severity",
                "runs",
                "held",
                "failed",
                "accepted",
                "could not judge",
                "held share",
                "windows",
            ],
            rows,
        );
    }
    out.push_str("<h2>Exception windows</h2>\n");
    let mut any = false;
    for r in report.rules.iter().filter(|r| !r.windows.is_empty()) {
        any = true;
        let _ = writeln!(
            out,
            "<h3>{} ({})</h3>",
            code(&r.id),
            esc(&r.soc2.join(", "))
        );
        let rows = r.windows.iter().map(|w| {
            vec![
                code(&w.resource),
                format!(
                    "{}{}",
                    esc(&run_label(
                        w.first_failed.sequence,
                        &w.first_failed.collected_at
                    )),
                    if w.open_at_start {
                        " (failing at period start)"
                    } else {
                        ""
                    }
                ),
                esc(&run_label(
                    w.last_failed.sequence,
                    &w.last_failed.collected_at,
                )),
                match &w.fixed_by {
                    Some(f) => esc(&run_label(f.sequence, &f.collected_at)),
                    None => "<strong>still open</strong> at period end".to_string(),
                },
                esc(&w.duration),
                format!("{} ({})", w.failed_runs, w.accepted_runs),
            ]
        });
        table(
            out,
            &[
                "resource",
                "first failed",
                "last failed",
                "fixed by",
                "duration",
                "runs failed (accepted)",
            ],
            rows,
        );
    }
    if !any {
        out.push_str("<p>No resource failed a rule in the period.</p>\n");
    }
    out.push_str("<h2>Accepted exceptions</h2>\n");
    if report.acceptances.is_empty() {
        out.push_str("<p>None in the period.</p>\n");
    } else {
        let rows = report.acceptances.iter().map(|a| {
            vec![
                code(&a.rule),
                code(&a.resource),
                esc(&a.owner),
                esc(&a.approved_by),
                esc(&a.expires),
                a.runs_in_force.to_string(),
                a.runs_expired.to_string(),
                esc(&a.reason),
            ]
        });
        table(
            out,
            &[
                "rule",
                "resource",
                "owner",
                "approved by",
                "expires",
                "runs in force",
                "runs after expiry",
                "reason",
            ],
            rows,
        );
    }
    out.push_str("<h2>Runs that could not judge</h2>\n<ul>\n");
    for run in report.runs.iter().filter(|r| r.incomplete) {
        let _ = writeln!(
            out,
            "<li>run {} was <strong>incomplete</strong>: {}</li>",
            esc(&run_label(run.sequence, &run.collected_at)),
            esc(&run.incomplete_reasons.join("; "))
        );
    }
    for r in &report.rules {
        for u in &r.unjudged {
            let _ = writeln!(
                out,
                "<li>{} in run {}: {} resource(s), {}</li>",
                code(&r.id),
                esc(&run_label(u.run.sequence, &u.run.collected_at)),
                u.resources,
                esc(&u.reason)
            );
        }
    }
    out.push_str("</ul>\n<h2>Cadence gaps</h2>\n");
    if report.gaps.is_empty() {
        let _ = writeln!(
            out,
            "<p>No gap longer than the cadence ({}).</p>",
            esc(&report.cadence)
        );
    } else {
        let rows = report
            .gaps
            .iter()
            .map(|g| vec![esc(&g.from), esc(&g.to), esc(&g.length)]);
        table(out, &["from", "to", "length"], rows);
    }
    out.push_str("<h2>Population per run</h2>\n");
    let types: std::collections::BTreeSet<&str> = report
        .runs
        .iter()
        .flat_map(|r| r.population.keys().map(String::as_str))
        .collect();
    let mut head = vec!["run", "collected at"];
    head.extend(types.iter().copied());
    head.push("failed");
    let rows = report.runs.iter().map(|run| {
        let mut row = vec![
            format!(
                "#{}{}",
                run.sequence,
                if run.incomplete { " (incomplete)" } else { "" }
            ),
            esc(&run.collected_at),
        ];
        row.extend(
            types
                .iter()
                .map(|t| run.population.get(*t).copied().unwrap_or(0).to_string()),
        );
        row.push(run.counts.fail.to_string());
        row
    });
    table(out, &head, rows);
}
