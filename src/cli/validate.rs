//! `trustcheck validate`: load every rule strictly and report problems.

use super::{Output, RuleArgs};

/// Check rules against the schema and trustcheck's conventions (annotations, ids, criteria).
///
/// Exit 0 when every rule is valid, 2 with diagnostics (file:line:col and the snippet) otherwise.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    rules: RuleArgs,
}

pub fn run(args: Args, out: Output) -> miette::Result<u8> {
    let (_, rules) = args.rules.load()?;
    let custom = rules
        .rules()
        .iter()
        .filter(|r| r.origin == trustcheck::rules::Origin::Custom)
        .count();
    if !out.quiet {
        println!(
            "{} rules valid ({} built-in, {} custom)",
            rules.rules().len(),
            rules.rules().len() - custom,
            custom
        );
    }
    Ok(0)
}
