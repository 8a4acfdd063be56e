//! Rendering a [`Drift`]: a readable text report, Markdown for pull requests, or JSON.
//!
//! Small values are shown inline (`requiredApprovingReviews  1 → 0`); larger ones (objects,
//! long lists, long strings) as a unified diff of their pretty-printed JSON, computed with
//! `similar`.
//!
//! A finding that became `accepted` is neither a regression nor a fix: the failure is still there,
//! now covered by a risk acceptance, so it is marked on its own rather than as an improvement.

use std::fmt::Write;

use owo_colors::OwoColorize;
use serde_json::Value;
use similar::TextDiff;

use crate::drift::{AttrChange, Drift, StatusChange};
use crate::findings::Status;

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Readable text, per entity and attribute.
    Table,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// `trustcheck.drift/v1` JSON.
    Json,
}

/// Values whose compact JSON is longer than this are shown as a unified diff.
const INLINE_MAX: usize = 60;

/// The names of the two sides, for headers.
#[derive(Debug, Clone, Copy)]
pub struct Sides<'a> {
    /// The old snapshot's name (its path).
    pub old: &'a str,
    /// The new snapshot's name.
    pub new: &'a str,
}

/// Renders a drift report.
pub fn render(drift: &Drift, format: DiffFormat, sides: Sides<'_>, color: bool) -> String {
    match format {
        DiffFormat::Table => text(drift, sides, color),
        DiffFormat::Markdown => markdown(drift, sides),
        DiffFormat::Json => crate::untrusted::json_string(drift),
    }
}

fn compact(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_string(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

fn pretty(v: Option<&Value>) -> String {
    match v {
        None => String::new(),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default() + "\n",
    }
}

enum Shown {
    Inline(String, String),
    Diff(String),
}

fn show(change: &AttrChange) -> Shown {
    let (a, b) = (compact(change.old.as_ref()), compact(change.new.as_ref()));
    if a.len() <= INLINE_MAX && b.len() <= INLINE_MAX {
        return Shown::Inline(a, b);
    }
    let (old, new) = (pretty(change.old.as_ref()), pretty(change.new.as_ref()));
    let diff = TextDiff::from_lines(&old, &new);
    Shown::Diff(
        diff.unified_diff()
            .context_radius(3)
            .missing_newline_hint(false)
            .to_string(),
    )
}

fn headline(drift: &Drift) -> String {
    let f = &drift.facts;
    let mut parts = vec![
        format!("{} entities changed", f.changed.len()),
        format!("{} added", f.added.len()),
        format!("{} removed", f.removed.len()),
    ];
    if !f.errors_added.is_empty() {
        parts.push(format!(
            "{} facts no longer collected",
            f.errors_added.len()
        ));
    }
    if !f.errors_removed.is_empty() {
        parts.push(format!("{} facts collected again", f.errors_removed.len()));
    }
    let regressions = drift.findings.iter().filter(|c| c.is_regression()).count();
    format!(
        "{}; {} findings changed status ({} worse)",
        parts.join(", "),
        drift.findings.len(),
        regressions
    )
}

fn status_name(s: Option<Status>) -> &'static str {
    s.map_or("—", Status::as_str)
}

/// How a status change reads: worse, accepted (a failure still there, now a known risk), or better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Worse,
    Accepted,
    Better,
}

fn direction(c: &StatusChange) -> Direction {
    if c.is_regression() {
        Direction::Worse
    } else if c.new == Some(Status::Accepted) {
        Direction::Accepted
    } else {
        Direction::Better
    }
}

fn text(drift: &Drift, sides: Sides<'_>, color: bool) -> String {
    let mut out = String::new();
    let paint = |s: &str, good: bool| -> String {
        if !color {
            s.to_string()
        } else if good {
            s.green().to_string()
        } else {
            s.red().to_string()
        }
    };
    let _ = writeln!(
        out,
        "trustcheck diff: {} ({}) → {} ({})",
        t(sides.old),
        drift.old_collected_at,
        t(sides.new),
        drift.new_collected_at
    );
    let _ = writeln!(out, "{}", headline(drift));
    let f = &drift.facts;
    if !f.changed.is_empty() {
        let _ = writeln!(out, "\nchanged");
        for e in &f.changed {
            let _ = writeln!(out, "  ~ {}", t(&e.entity.to_string()));
            for a in &e.attrs {
                match show(a) {
                    Shown::Inline(old, new) => {
                        let _ = writeln!(
                            out,
                            "      {}  {} → {}",
                            t(&a.attr),
                            paint(&t(&old), false),
                            paint(&t(&new), true)
                        );
                    }
                    Shown::Diff(d) => {
                        let _ = writeln!(out, "      {}:", t(&a.attr));
                        for line in d.lines().map(t) {
                            let line = if line.starts_with('+') {
                                paint(&line, true)
                            } else if line.starts_with('-') {
                                paint(&line, false)
                            } else {
                                line.to_string()
                            };
                            let _ = writeln!(out, "        {line}");
                        }
                    }
                }
            }
            for p in &e.parents_added {
                let _ = writeln!(
                    out,
                    "      parent {}",
                    paint(&format!("+ {}", t(&p.to_string())), true)
                );
            }
            for p in &e.parents_removed {
                let _ = writeln!(
                    out,
                    "      parent {}",
                    paint(&format!("- {}", t(&p.to_string())), false)
                );
            }
        }
    }
    if !f.added.is_empty() {
        let _ = writeln!(out, "\nadded");
        for r in &f.added {
            let _ = writeln!(
                out,
                "  {}",
                paint(&format!("+ {}", t(&r.to_string())), true)
            );
        }
    }
    if !f.removed.is_empty() {
        let _ = writeln!(out, "\nremoved");
        for r in &f.removed {
            let _ = writeln!(
                out,
                "  {}",
                paint(&format!("- {}", t(&r.to_string())), false)
            );
        }
    }
    if !f.errors_added.is_empty() {
        let _ = writeln!(
            out,
            "\nno longer collected (rules reading these report error)"
        );
        for e in &f.errors_added {
            let _ = writeln!(
                out,
                "  ! {} {}: {}",
                t(&e.entity.to_string()),
                t(&e.fact),
                t(&e.reason)
            );
        }
    }
    if !f.errors_removed.is_empty() {
        let _ = writeln!(out, "\ncollected again");
        for e in &f.errors_removed {
            let _ = writeln!(out, "  {} {}", t(&e.entity.to_string()), t(&e.fact));
        }
    }
    let _ = writeln!(
        out,
        "\nfindings that changed status (both judged by the same rules)"
    );
    if drift.findings.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for c in &drift.findings {
        let new = match direction(c) {
            Direction::Worse => paint(status_name(c.new), false),
            Direction::Better => paint(status_name(c.new), true),
            Direction::Accepted if color => status_name(c.new).cyan().to_string(),
            Direction::Accepted => status_name(c.new).to_string(),
        };
        let _ = writeln!(
            out,
            "  {} {} {}  {} → {}  {}",
            c.severity,
            t(&c.rule),
            t(&c.resource.to_string()),
            status_name(c.old),
            new,
            t(&c.message)
        );
    }
    out
}

fn md_code(s: &str) -> String {
    crate::untrusted::markdown_code(s)
}

/// An untrusted value for the terminal (see [`crate::untrusted::terminal`]).
fn t(s: &str) -> String {
    crate::untrusted::terminal(s).into_owned()
}

fn markdown(drift: &Drift, sides: Sides<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## trustcheck drift: {} → {}\n\n{} ({}) → {} ({})\n",
        drift.old_collected_at,
        drift.new_collected_at,
        md_code(sides.old),
        drift.old_collected_at,
        md_code(sides.new),
        drift.new_collected_at
    );
    let _ = writeln!(out, "{}\n", headline(drift));
    finding_table(&mut out, &drift.findings);
    let f = &drift.facts;
    if !f.changed.is_empty() {
        let _ = writeln!(
            out,
            "\n### Changed facts\n\n| entity | attribute | before | after |\n|---|---|---|---|"
        );
        let mut diffs = Vec::new();
        for e in &f.changed {
            for a in &e.attrs {
                match show(a) {
                    Shown::Inline(old, new) => {
                        let _ = writeln!(
                            out,
                            "| {} | {} | {} | {} |",
                            md_code(&e.entity.to_string()),
                            md_code(&a.attr),
                            md_code(&old),
                            md_code(&new)
                        );
                    }
                    Shown::Diff(d) => {
                        let _ = writeln!(
                            out,
                            "| {} | {} | see diff below | |",
                            md_code(&e.entity.to_string()),
                            md_code(&a.attr)
                        );
                        diffs.push((e.entity.to_string(), a.attr.clone(), d));
                    }
                }
            }
            for p in &e.parents_added {
                let _ = writeln!(
                    out,
                    "| {} | parent | | {} |",
                    md_code(&e.entity.to_string()),
                    md_code(&p.to_string())
                );
            }
            for p in &e.parents_removed {
                let _ = writeln!(
                    out,
                    "| {} | parent | {} | |",
                    md_code(&e.entity.to_string()),
                    md_code(&p.to_string())
                );
            }
        }
        for (entity, attr, d) in diffs {
            // A fence longer than any backtick run in the diff keeps it a code block.
            // The summary is raw HTML (Markdown is not parsed there): HTML-escaped. The diff
            // is a fenced block whose fence is longer than any backtick run inside, so
            // nothing in a value can close it.
            let d = d.lines().map(t).collect::<Vec<_>>().join("\n");
            let fence = crate::untrusted::markdown_fence(&d);
            let _ = writeln!(
                out,
                "\n<details><summary><code>{}</code> <code>{}</code></summary>\n\n{fence}diff\n{d}\n{fence}\n\n</details>",
                crate::untrusted::html(&entity),
                crate::untrusted::html(&attr),
            );
        }
    }
    for (title, list) in [
        ("Added entities", &f.added),
        ("Removed entities", &f.removed),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "\n### {title}\n");
            for r in list {
                let _ = writeln!(out, "- {}", md_code(&r.to_string()));
            }
        }
    }
    if !f.errors_added.is_empty() {
        let _ = writeln!(out, "\n### No longer collected\n");
        for e in &f.errors_added {
            let _ = writeln!(
                out,
                "- {} {}: {}",
                md_code(&e.entity.to_string()),
                md_code(&e.fact),
                md_code(&e.reason)
            );
        }
    }
    out
}

fn finding_table(out: &mut String, changes: &[StatusChange]) {
    let _ = writeln!(out, "### Findings that changed status\n");
    if changes.is_empty() {
        let _ = writeln!(out, "None.");
        return;
    }
    let _ = writeln!(
        out,
        "| | severity | rule | resource | before | after | why |\n|---|---|---|---|---|---|---|"
    );
    for c in changes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            match direction(c) {
                Direction::Worse => "❌",
                Direction::Accepted => "📝",
                Direction::Better => "✅",
            },
            c.severity,
            md_code(&c.rule),
            md_code(&c.resource.to_string()),
            status_name(c.old),
            status_name(c.new),
            md_code(&c.message)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_newly_accepted_failure_is_neither_worse_nor_better() {
        let change = |old, new| StatusChange {
            rule: "r".into(),
            title: "t".into(),
            severity: crate::severity::Severity::High,
            soc2: vec!["CC6.1".into()],
            resource: crate::findings::Uid::new("Aws::IamUser", "u"),
            old,
            new,
            message: String::new(),
            fingerprint: crate::findings::fingerprint(
                "r",
                &crate::findings::Uid::new("Aws::IamUser", "u"),
            ),
        };
        let accepted = change(Some(Status::Fail), Some(Status::Accepted));
        assert_eq!(direction(&accepted), Direction::Accepted);
        assert_eq!(
            direction(&change(Some(Status::Accepted), Some(Status::Fail))),
            Direction::Worse
        );
        assert_eq!(
            direction(&change(Some(Status::Accepted), Some(Status::Pass))),
            Direction::Better
        );
        let mut md = String::new();
        finding_table(&mut md, &[accepted]);
        assert!(md.contains("| 📝 | high | `r` |"), "{md}");
        assert!(md.contains("| fail | accepted |"), "{md}");
    }

    #[test]
    fn small_values_inline_large_values_as_unified_diff() {
        let small = AttrChange {
            attr: "n".into(),
            old: Some(json!(1)),
            new: Some(json!(0)),
        };
        assert!(matches!(show(&small), Shown::Inline(a, b) if a == "1" && b == "0"));
        let big = AttrChange {
            attr: "policy".into(),
            old: Some(json!({"minimumLength": 14, "requireSymbols": true, "reusePrevention": 24})),
            new: Some(json!({"minimumLength": 12, "requireSymbols": true, "reusePrevention": 24})),
        };
        let Shown::Diff(d) = show(&big) else {
            panic!("expected a diff")
        };
        assert!(d.contains("-  \"minimumLength\": 14,"), "{d}");
        assert!(d.contains("+  \"minimumLength\": 12,"), "{d}");
        assert!(d.starts_with("@@"), "{d}");
    }
}
