//! Command-line parsing and the edge where errors are rendered. One file per subcommand.

mod check;
mod collect;
mod collect_aws;
mod collect_github;
mod controls;
mod diff;
mod explain;
mod new;
mod schema;
mod test;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use trustcheck::config::{self, Config};
use trustcheck::rules::{self, RuleSet};
use trustcheck::schema::SchemaSet;
use trustcheck::severity::Severity;

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
    Check(Box<check::Args>),
    /// Snapshot a provider's facts into a file.
    Collect(collect::Args),
    /// Check rules against the schema and our conventions, without judging anything.
    Validate(validate::Args),
    /// List rules by SOC 2 criterion, and which criteria have no automated rule.
    Controls(controls::Args),
    /// Run every rule's test cases and show what differs.
    Test(test::Args),
    /// Create a custom rule skeleton with its test cases.
    New(new::Args),
    /// Explain a rule, and what it concludes about a resource and why.
    Explain(explain::Args),
    /// The entity types and attributes rules can read, from the schema.
    Schema(schema::Args),
    /// Show what changed between two snapshots: facts, and findings that changed status.
    Diff(diff::Args),
}

/// Where rules come from; shared by every subcommand that loads rules.
#[derive(Debug, Clone, clap::Args)]
pub struct RuleArgs {
    /// Folder of custom `.cedar` rules (searched recursively); repeatable. Replaces the folders of
    /// TRUSTCHECK_POLICIES (a PATH-style list) and of `policies` in trustcheck.toml.
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,

    /// Do not load the shipped rules (only those from --policies).
    #[arg(long)]
    pub no_builtin: bool,

    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Which configuration file to read.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Read settings from FILE instead of `.github/trustcheck.toml` or `trustcheck.toml` (found
    /// in the current directory or above it, up to the repository root).
    #[arg(long, value_name = "FILE", env = "TRUSTCHECK_CONFIG")]
    pub config: Option<PathBuf>,

    /// Ignore configuration files (and --config / TRUSTCHECK_CONFIG).
    #[arg(long)]
    pub no_config: bool,
}

impl ConfigArgs {
    /// The configuration in effect: the named file, the discovered one, or the defaults.
    pub fn load(&self) -> miette::Result<Config> {
        if self.no_config {
            return Ok(Config::default());
        }
        let path = match &self.config {
            Some(path) => Some(path.clone()),
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|e| miette::miette!("cannot read the current directory: {e}"))?;
                config::discover(&cwd)?
            }
        };
        match path {
            Some(path) => Ok(Config::read(&path)?),
            None => Ok(Config::default()),
        }
    }

    /// The custom rule folders in effect (flag > TRUSTCHECK_POLICIES > file).
    pub fn policy_folders(&self, flag: &[PathBuf], config: &Config) -> Vec<PathBuf> {
        config::policy_folders(flag, std::env::var_os(POLICIES_ENV).as_deref(), config)
    }
}

/// The environment variable that lists custom rule folders, split like `PATH`.
pub const POLICIES_ENV: &str = "TRUSTCHECK_POLICIES";

/// Rules as loaded for a command: configuration applied.
pub struct Loaded {
    /// The schema.
    pub schema: SchemaSet,
    /// The rules, without those the configuration disables, with its severity overrides.
    pub rules: RuleSet,
    /// How many rules the configuration disabled.
    pub disabled: usize,
}

impl RuleArgs {
    /// Loads the schema and the rules (configuration applied), or the diagnostics that stop
    /// them loading.
    pub fn load(&self) -> miette::Result<(SchemaSet, RuleSet)> {
        let loaded = self.load_all()?;
        Ok((loaded.schema, loaded.rules))
    }

    /// Loads the rules with the configuration applied, and counts what it disabled.
    pub fn load_counted(&self) -> miette::Result<(RuleSet, usize)> {
        let loaded = self.load_all()?;
        Ok((loaded.rules, loaded.disabled))
    }

    /// Loads everything, configuration applied.
    pub fn load_all(&self) -> miette::Result<Loaded> {
        let (schema, rules, config, _) = self.load_unadjusted()?;
        let (rules, disabled) = config.apply(&rules)?;
        Ok(Loaded {
            schema,
            rules,
            disabled,
        })
    }

    /// Loads every rule as written (no rule disabled, no severity overridden), with the
    /// configuration and the custom folders in effect: for `test` and `explain`.
    pub fn load_unadjusted(&self) -> miette::Result<(SchemaSet, RuleSet, Config, Vec<PathBuf>)> {
        let config = self.config.load()?;
        let schema = SchemaSet::builtin()?;
        let mut sources = if self.no_builtin {
            Vec::new()
        } else {
            rules::builtin_sources()
        };
        let folders = self.config.policy_folders(&self.policies, &config);
        for dir in &folders {
            sources.extend(rules::sources_from_path(dir)?);
        }
        let rules = RuleSet::load(sources, &schema)?;
        Ok((schema, rules, config, folders))
    }

    /// The `--fail-on` in effect: flag or TRUSTCHECK_FAIL_ON (`flag_or_env`), else the
    /// configuration's `fail-on`, else `low`.
    pub fn fail_on(&self, flag_or_env: Option<Severity>) -> miette::Result<Severity> {
        Ok(config::fail_on(flag_or_env, &self.config.load()?))
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
        Command::Check(args) => check::run(*args, out),
        Command::Collect(args) => collect::run(args, out),
        Command::Validate(args) => validate::run(args, out),
        Command::Controls(args) => controls::run(args, out),
        Command::Test(args) => test::run(args, out),
        Command::New(args) => new::run(args, out),
        Command::Explain(args) => explain::run(args, out),
        Command::Schema(args) => schema::run(args, out),
        Command::Diff(args) => diff::run(args, out),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            // A group of rule problems is shown problem by problem, its summary last.
            eprint!(
                "{}",
                trustcheck::diagnostics::render(report.as_ref(), stderr_color)
            );
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
