//! `trustcheck validate`: load every rule strictly and report problems, as text or JSON.

use serde::Serialize;
use trustcheck::diagnostics::{self, Record};
use trustcheck::rules::Origin;

use trustcheck::exit::ExitStatus;

use super::{Adjust, Output, RuleArgs};

/// Check rules against the schema and trustcheck's conventions (annotations, ids, criteria).
///
/// Exit 0 when every rule is valid, 2 with diagnostics (file:line:col and the snippet) otherwise.
/// `--format json` prints `{"valid", "rules", "diagnostics": [{file, line, column, end_line,
/// end_column, severity, code, message, label, help}]}` on stdout, for editors and CI.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    rules: RuleArgs,

    /// Output format: text (diagnostics on stderr) or json (one document on stdout).
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    format: ValidateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ValidateFormat {
    Text,
    Json,
}

/// The `--format json` document.
#[derive(Serialize)]
struct Document {
    /// Every rule loaded without a problem.
    valid: bool,
    /// How many rules were loaded, when they all were.
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<Counts>,
    /// The problems, in file order.
    diagnostics: Vec<Record>,
}

#[derive(Serialize)]
struct Counts {
    builtin: usize,
    custom: usize,
    disabled: usize,
}

pub fn run(args: Args, out: Output) -> miette::Result<ExitStatus> {
    let loaded = args
        .rules
        .load(Adjust::Configured)
        .map(|l| (l.rules, l.disabled));
    if args.format == ValidateFormat::Json {
        let doc = match &loaded {
            Ok((rules, disabled)) => Document {
                valid: true,
                rules: Some(counts(rules, *disabled)),
                diagnostics: Vec::new(),
            },
            Err(report) => Document {
                valid: false,
                rules: None,
                diagnostics: diagnostics::records(report.as_ref()),
            },
        };
        // Serialising plain strings and numbers cannot fail.
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        outln!("{text}");
        return Ok(if doc.valid {
            ExitStatus::Success
        } else {
            ExitStatus::Untrustworthy
        });
    }
    let (rules, disabled) = loaded?;
    if !out.quiet {
        let c = counts(&rules, disabled);
        let total = c.builtin + c.custom;
        let disabled = if c.disabled > 0 {
            format!("; {} disabled by configuration", c.disabled)
        } else {
            String::new()
        };
        outln!(
            "{total} rule{} valid ({} built-in, {} custom{disabled})",
            if total == 1 { "" } else { "s" },
            c.builtin,
            c.custom
        );
    }
    Ok(ExitStatus::Success)
}

fn counts(rules: &trustcheck::rules::RuleSet, disabled: usize) -> Counts {
    let custom = rules
        .rules()
        .iter()
        .filter(|r| r.origin == Origin::Custom)
        .count();
    Counts {
        builtin: rules.rules().len() - custom,
        custom,
        disabled,
    }
}
