//! Command-line parsing and the edge where errors are rendered. One file per subcommand.

#[macro_use]
mod stdout;

mod accept;
mod check;
mod collect;
mod controls;
mod diff;
mod evidence;
mod explain;
mod new;
mod schema;
mod test;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use trustcheck::config::{self, Config};
use trustcheck::exit::ExitStatus;
use trustcheck::providers::{self, Provider};
use trustcheck::rules::{self, RuleSet};
use trustcheck::schema::SchemaSet;
use trustcheck::severity::Severity;

/// SOC 2 controls as code: snapshot AWS IAM, GitHub and your own facts, judge them with Cedar rules.
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
    /// Accept the risk of a failing finding: append a checked entry to the exceptions file.
    Accept(Box<accept::Args>),
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
    /// Type 2 evidence: verify the ledger `check --evidence` records, report on a period of it.
    Evidence(evidence::Args),
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
    pub schema: SchemaArgs,

    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Schema fragments of a team's own facts; shared by every subcommand that loads the schema.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SchemaArgs {
    /// A Cedar schema fragment declaring entity types of your own facts (an MDM, an HR system);
    /// repeatable. Replaces `schemas` in trustcheck.toml. See docs/bring-your-own-facts.md.
    #[arg(long = "schema", value_name = "FILE")]
    pub schemas: Vec<PathBuf>,
}

impl SchemaArgs {
    /// The built-in schema plus the custom fragments in effect (flag, else trustcheck.toml).
    pub fn load(&self, config: &Config) -> miette::Result<SchemaSet> {
        Ok(SchemaSet::with_custom(&config::schema_files(
            &self.schemas,
            config,
        ))?)
    }
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

/// Which risk acceptances apply; shared by `check` and `accept`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExceptionsArgs {
    /// The risk acceptances file [default: `exceptions` in trustcheck.toml, else
    /// `trustcheck-exceptions.toml` found like trustcheck.toml].
    #[arg(
        long = "exceptions",
        value_name = "FILE",
        env = "TRUSTCHECK_EXCEPTIONS"
    )]
    pub file: Option<PathBuf>,
}

impl ExceptionsArgs {
    /// The exceptions file in effect: the flag, else the configuration's, else the one found
    /// from the current directory (not with `--no-config`).
    pub fn path(&self, config: &Config, no_config: bool) -> miette::Result<Option<PathBuf>> {
        if let Some(file) = self.file.clone().or_else(|| config.exceptions.clone()) {
            return Ok(Some(file));
        }
        if no_config {
            return Ok(None);
        }
        let cwd = std::env::current_dir()
            .map_err(|e| miette::miette!("cannot read the current directory: {e}"))?;
        Ok(trustcheck::exceptions::discover(&cwd)?)
    }
}

/// Whether the configuration's `disable` and `[severity]` apply to the loaded rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjust {
    /// As the repository configured them: what `check`, `validate` and reports use.
    Configured,
    /// Every rule as written: what `test` and `explain` use.
    AsWritten,
}

/// The schema, rules and settings a command works with.
pub struct Loaded {
    /// The schema (built-in fragments plus custom ones).
    pub schema: SchemaSet,
    /// The rules.
    pub rules: RuleSet,
    /// The configuration in effect.
    pub config: Config,
    /// The custom rule folders in effect.
    pub folders: Vec<PathBuf>,
    /// How many rules the configuration disabled (0 with [`Adjust::AsWritten`]).
    pub disabled: usize,
}

impl RuleArgs {
    /// Loads the schema, the rules and the configuration, or the diagnostics that stop them
    /// loading.
    pub fn load(&self, adjust: Adjust) -> miette::Result<Loaded> {
        let config = self.config.load()?;
        let schema = self.schema.load(&config)?;
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
        let (rules, disabled) = match adjust {
            Adjust::Configured => config.apply(&rules)?,
            Adjust::AsWritten => (rules, 0),
        };
        Ok(Loaded {
            schema,
            rules,
            config,
            folders,
            disabled,
        })
    }

    /// The `--fail-on` in effect: flag or TRUSTCHECK_FAIL_ON (`flag_or_env`), else the
    /// configuration's `fail-on`, else `low`.
    pub fn fail_on(&self, flag_or_env: Option<Severity>, config: &Config) -> Severity {
        config::fail_on(flag_or_env, config)
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
/// Ends the life of the large values of a run (stores, findings) without freeing them: the process
/// ends right after, and the OS takes the memory back at once, where freeing 100,000s of
/// allocations one by one costs 0.3 to 0.5 s at 100k resources (docs/performance.md).
pub(crate) fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

pub fn run() -> ExitCode {
    // Values of secret-looking variables (tokens, keys) are redacted from any text that came
    // back from a server; providers add the secrets they read from elsewhere (files).
    trustcheck_snapshot::secrets::register_from_env();
    let registry = providers::PROVIDERS;
    let matches = command_with(registry).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
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
    // Ctrl-C (or SIGTERM) while a large report is being written: leave no temporary file
    // behind, then end as interrupted processes do (128 + SIGINT).
    let _ = ctrlc::set_handler(|| {
        trustcheck::atomic_write::remove_pending();
        std::process::exit(130);
    });
    let sub = |name: &str| {
        matches
            .subcommand_matches(name)
            .cloned()
            .unwrap_or_default()
    };
    let result = match cli.command {
        Command::Check(args) => check::run(*args, &sub("check"), registry, out),
        Command::Collect(args) => collect::run(args, &sub("collect"), registry, out),
        Command::Accept(args) => accept::run(*args, out),
        Command::Validate(args) => validate::run(args, out),
        Command::Controls(args) => controls::run(args, out),
        Command::Test(args) => test::run(args, out),
        Command::New(args) => new::run(args, out),
        Command::Explain(args) => explain::run(args, out),
        Command::Schema(args) => schema::run(args, out),
        Command::Diff(args) => diff::run(args, out),
        Command::Evidence(args) => evidence::run(args, out),
    };
    // A report that could not be written to stdout (a full disk, not a closed pipe) is an error.
    let result = match (result, stdout::failure()) {
        (Ok(_), Some(e)) => Err(e.into()),
        (result, _) => result,
    };
    match result {
        Ok(status) => status.into(),
        Err(report) => {
            // A group of rule problems is shown problem by problem, its summary last.
            let text = trustcheck::diagnostics::render(report.as_ref(), stderr_color);
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                trustcheck_snapshot::secrets::redact(&text).as_bytes(),
            );
            ExitStatus::Untrustworthy.into()
        }
    }
}

/// The command line: the derived commands, plus each registered provider's `collect NAME`
/// subcommand and its options on `check` (for `--collect NAME`).
fn command_with(registry: &[&'static Provider]) -> clap::Command {
    Cli::command()
        .mut_subcommand("collect", |c| collect::with_providers(c, registry))
        .mut_subcommand("check", |c| check::with_providers(c, registry))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::{Args as _, FromArgMatches as _};
    use trustcheck::snapshot::{Entity, Snapshot, Source, Uid, UncollectedFact};
    use trustcheck_snapshot::provider::owns_by_prefix_or_arn;
    use trustcheck_snapshot::{CollectError, Scaffold, Ui};

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        // Also catches two providers giving themselves the same option.
        command_with(providers::PROVIDERS).debug_assert();
    }

    /// A provider built exactly as docs/adding-a-provider.md says: a descriptor with options and
    /// a collector that returns facts (and an uncollected one), a schema fragment and a rules
    /// folder. Only the registration differs: a slice here, `trustcheck::providers::PROVIDERS`
    /// in the binary; and the fragment and rules are given as `--schema`/`--policies`, which is
    /// what the build embeds for `providers/NAME/` and `policies/NAME/`.
    static FIXTURE: Provider = Provider {
        name: "fixture",
        namespace: "Fixture",
        about: "Snapshot the things of a lab",
        scope_noun: "lab",
        owns: owns_by_prefix_or_arn,
        scaffold: Scaffold {
            resource: "Fixture::Thing",
            criteria: "CC7.1",
            example: None,
        },
        params: &[],
        options: FixtureOptions::augment_args,
        collect: collect_fixture,
    };

    #[derive(Debug, clap::Args)]
    struct FixtureOptions {
        /// Things in the lab.
        #[arg(long = "fixture-things", default_value_t = 2)]
        things: usize,
        /// One more thing, whose state cannot be read.
        #[arg(long = "fixture-unreadable")]
        unreadable: bool,
    }

    fn collect_fixture(m: &clap::ArgMatches, _ui: Ui) -> Result<Snapshot, CollectError> {
        let o =
            FixtureOptions::from_arg_matches(m).map_err(|e| CollectError::new(e.to_string()))?;
        let at = "2026-11-22T03:00:00Z";
        let mut snapshot = Snapshot::new(at);
        let mut source = Source::new("fixture", "lab", at);
        let lab = Uid::new("Fixture::Lab", "lab");
        let mut e = Entity::new(lab.clone());
        e.attrs.insert("name".into(), "lab".into());
        snapshot.entities.push(e);
        for i in 0..o.things {
            let mut thing = Entity::new(Uid::new("Fixture::Thing", format!("lab/thing-{i}")));
            // Every other thing is off: it fails the fixture rule.
            thing.attrs.insert("enabled".into(), (i % 2 == 0).into());
            thing.parents.push(lab.clone());
            snapshot.entities.push(thing);
        }
        if o.unreadable {
            let uid = Uid::new("Fixture::Thing", "lab/unreadable");
            let mut thing = Entity::new(uid.clone());
            thing.parents.push(lab);
            snapshot.entities.push(thing);
            source
                .errors
                .push(UncollectedFact::new(uid, "enabled", "403 Forbidden"));
        }
        snapshot.sources.push(source);
        snapshot.normalize();
        Ok(snapshot)
    }

    #[test]
    fn a_provider_is_one_descriptor_and_one_registration() {
        let registry: &[&'static Provider] = &[&trustcheck_aws::PROVIDER, &FIXTURE];
        let cmd = command_with(registry);
        cmd.clone().debug_assert();
        let quiet = Output {
            color: false,
            quiet: true,
        };
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/provider");
        let schema = root.join("fixture.cedarschema");
        let policies = root.join("policies");

        // `collect fixture` exists, with the provider's own options.
        let snapshot = dir.path().join("fixture.json");
        let m = cmd
            .clone()
            .try_get_matches_from([
                "trustcheck".as_ref(),
                "collect".as_ref(),
                "fixture".as_ref(),
                "--fixture-unreadable".as_ref(),
                "--out".as_ref(),
                snapshot.as_os_str(),
            ])
            .unwrap();
        let Command::Collect(args) = Cli::from_arg_matches(&m).unwrap().command else {
            panic!("collect parses as collect")
        };
        let status = collect::run(
            args,
            m.subcommand_matches("collect").unwrap(),
            registry,
            quiet,
        )
        .unwrap();
        assert_eq!(
            status,
            ExitStatus::Untrustworthy,
            "a fact was not collected"
        );
        let written = Snapshot::parse(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
        assert_eq!(written.entities.len(), 4);
        assert_eq!(written.sources[0].provider, "fixture");

        // `check --collect fixture` collects and judges with its schema and rules.
        let findings = dir.path().join("findings.json");
        let report = format!("json={}", findings.display());
        let m = cmd
            .try_get_matches_from([
                "trustcheck".as_ref(),
                "check".as_ref(),
                "--collect".as_ref(),
                "fixture".as_ref(),
                "--fixture-things".as_ref(),
                "3".as_ref(),
                "--schema".as_ref(),
                schema.as_os_str(),
                "--policies".as_ref(),
                policies.as_os_str(),
                "--no-builtin".as_ref(),
                "--no-config".as_ref(),
                "--report".as_ref(),
                report.as_ref(),
            ])
            .unwrap();
        let Command::Check(args) = Cli::from_arg_matches(&m).unwrap().command else {
            panic!("check parses as check")
        };
        let status = check::run(
            *args,
            m.subcommand_matches("check").unwrap(),
            registry,
            quiet,
        )
        .unwrap();
        assert_eq!(status, ExitStatus::Failure);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&findings).unwrap()).unwrap();
        let statuses: Vec<(&str, &str)> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["resource"]["id"].as_str().unwrap(),
                    f["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            statuses,
            [
                ("lab/thing-0", "pass"),
                ("lab/thing-1", "fail"),
                ("lab/thing-2", "pass")
            ]
        );
    }
}
