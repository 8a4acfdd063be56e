//! Command-line parsing and the edge where errors are rendered. One file per subcommand.

mod check;
mod collect;
mod collect_aws;
mod collect_github;
mod controls;
mod diff;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use trustcheck::rules::{self, RuleSet};
use trustcheck::schema::SchemaSet;

/// SOC 2 controls as code: snapshot AWS IAM and GitHub settings, judge them with Cedar rules.
///
/// Exit codes: 0 nothing failed at or above --fail-on; 1 something did; 2 the run is not
/// trustworthy (bad input, rule errors, or any finding that could not be judged).
#[derive(Debug, Parser)]
#[command(name = "trustcheck", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,

    /// When to colour output: auto (only on a terminal, and not when NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Print nothing but the report and errors.
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge one or more snapshots with the shipped and custom rules.
    Check(check::Args),
    /// Snapshot a provider's facts into a file.
    Collect(collect::Args),
    /// Check rules against the schema and our conventions, without judging anything.
    Validate(validate::Args),
    /// List rules by SOC 2 criterion, and which criteria have no automated rule.
    Controls(controls::Args),
    /// Show what changed between two snapshots: facts, and findings that changed status.
    Diff(diff::Args),
}

/// Where rules come from; shared by every subcommand that loads rules.
#[derive(Debug, Clone, clap::Args)]
pub struct RuleArgs {
    /// Folder of custom `.cedar` rules (searched recursively); repeatable.
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,

    /// Do not load the shipped rules (only those from --policies).
    #[arg(long)]
    pub no_builtin: bool,
}

impl RuleArgs {
    /// Loads the schema and the rules, or the diagnostics that stop them loading.
    pub fn load(&self) -> miette::Result<(SchemaSet, RuleSet)> {
        let schema = SchemaSet::builtin()?;
        let mut sources = if self.no_builtin {
            Vec::new()
        } else {
            rules::builtin_sources()
        };
        for dir in &self.policies {
            sources.extend(rules::sources_from_path(dir)?);
        }
        let rules = RuleSet::load(sources, &schema)?;
        Ok((schema, rules))
    }
}

/// Shared output settings derived from the global flags.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Colour stdout.
    pub color: bool,
    /// Suppress progress and notes.
    pub quiet: bool,
}

/// Parses arguments, runs the command, renders errors; never panics on bad input.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    };
    let stderr_color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
        }
    };
    // Installing the hook only fails if one is installed already, which cannot be in main.
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(stderr_color)
                .unicode(true)
                .width(100)
                .terminal_links(false)
                .build(),
        )
    }));
    let out = Output {
        color,
        quiet: cli.quiet,
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args, out),
        Command::Collect(args) => collect::run(args, out),
        Command::Validate(args) => validate::run(args, out),
        Command::Controls(args) => controls::run(args, out),
        Command::Diff(args) => diff::run(args, out),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
