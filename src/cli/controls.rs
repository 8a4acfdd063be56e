//! `trustcheck controls`: the rules by SOC 2 criterion, and the criteria no rule covers.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;
use trustcheck::criteria::CRITERIA;
use trustcheck::rules::{Origin, RuleSet};

use trustcheck::exit::ExitStatus;

use super::{Adjust, Output, RuleArgs};

/// List rules grouped by SOC 2 criterion, and show which criteria have no automated rule.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    rules: RuleArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ControlsFormat::Table)]
    format: ControlsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ControlsFormat {
    Table,
    Json,
    /// The controls reference, as committed in docs/controls.md.
    Markdown,
}

/// One criterion and the rules that reference it: an element of the `--format json` list.
#[derive(Serialize)]
struct CriterionEntry<'a> {
    id: &'a str,
    category: &'a str,
    title: &'a str,
    rules: Vec<RuleEntry<'a>>,
}

/// One rule under a criterion.
#[derive(Serialize)]
struct RuleEntry<'a> {
    id: &'a str,
    title: &'a str,
    severity: &'a str,
    origin: Origin,
    resource_types: &'a [String],
    file: &'a str,
}

/// Prints the rules by criterion in the chosen format. The rules are those in effect: the
/// configuration can disable some.
pub fn run(args: Args, _out: Output) -> miette::Result<ExitStatus> {
    let rules = args.rules.load(Adjust::Configured)?.rules;
    let text = match args.format {
        ControlsFormat::Json => {
            // Structs, strings and lists, no map with non-string keys: serialising cannot fail.
            let mut s = serde_json::to_string_pretty(&entries(&rules)).unwrap_or_default();
            s.push('\n');
            s
        }
        ControlsFormat::Table => table(&entries(&rules)),
        ControlsFormat::Markdown => trustcheck::docs::controls_markdown(&rules),
    };
    out!("{text}");
    Ok(ExitStatus::Success)
}

/// Every criterion of the catalogue, in catalogue order, with the rules that reference it.
fn entries(rules: &RuleSet) -> Vec<CriterionEntry<'_>> {
    let mut by: BTreeMap<&str, Vec<RuleEntry<'_>>> = BTreeMap::new();
    for r in rules.rules() {
        for c in r.soc2.iter() {
            by.entry(c.as_str()).or_default().push(RuleEntry {
                id: &r.id,
                title: &r.title,
                severity: r.severity.as_str(),
                origin: r.origin,
                resource_types: &r.resource_types,
                file: &r.file.name,
            });
        }
    }
    CRITERIA
        .iter()
        .map(|c| CriterionEntry {
            id: c.id,
            category: c.category.name(),
            title: c.title,
            rules: by.remove(c.id).unwrap_or_default(),
        })
        .collect()
}

/// The plain-text listing: criteria under their category, each with its rules or a note that
/// none automates it, then the count of criteria with and without rules.
fn table(entries: &[CriterionEntry<'_>]) -> String {
    let mut out = String::new();
    let mut category = "";
    let mut covered = 0;
    let mut uncovered = 0;
    for e in entries {
        if e.category != category {
            category = e.category;
            let _ = writeln!(out, "\n{category}");
        }
        let _ = writeln!(out, "  {:<6} {}", e.id, e.title);
        if e.rules.is_empty() {
            let _ = writeln!(
                out,
                "         (no automated rule: evidence is collected outside trustcheck)"
            );
            uncovered += 1;
        } else {
            covered += 1;
            for r in &e.rules {
                let origin = if r.origin == Origin::Custom {
                    " [custom]"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "         {:<8} {} ({}){origin}: {}",
                    r.severity,
                    r.id,
                    r.resource_types.join(", "),
                    r.title
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{covered} of {} criteria have automated rules; {uncovered} have none.",
        CRITERIA.len(),
    );
    out
}
