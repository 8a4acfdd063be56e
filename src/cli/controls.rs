//! `trustcheck controls`: the rules by SOC 2 criterion, and the criteria no rule covers.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;
use trustcheck::criteria::{self, CRITERIA};
use trustcheck::rules::{Origin, RuleSet};

use super::{Output, RuleArgs};

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

#[derive(Serialize)]
struct CriterionEntry<'a> {
    id: &'a str,
    category: &'a str,
    title: &'a str,
    rules: Vec<RuleEntry<'a>>,
}

#[derive(Serialize)]
struct RuleEntry<'a> {
    id: &'a str,
    title: &'a str,
    severity: &'a str,
    origin: Origin,
    resource_types: &'a [String],
    file: &'a str,
}

pub fn run(args: Args, _out: Output) -> miette::Result<u8> {
    let (_, rules) = args.rules.load()?;
    let entries = entries(&rules);
    let text = match args.format {
        ControlsFormat::Json => {
            let mut s = serde_json::to_string_pretty(&entries).unwrap_or_default();
            s.push('\n');
            s
        }
        ControlsFormat::Table => table(&entries),
        ControlsFormat::Markdown => trustcheck::docs::controls_markdown(&rules),
    };
    print!("{text}");
    Ok(0)
}

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

fn table(entries: &[CriterionEntry<'_>]) -> String {
    let mut out = String::new();
    let mut category = "";
    let mut covered = 0;
    let mut uncovered = Vec::new();
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
            uncovered.push(e.id);
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
        "\n{covered} of {} criteria have automated rules; {} have none.",
        CRITERIA.len(),
        uncovered.len()
    );
    let _ = criteria::find("CC6.1");
    out
}
