//! `trustcheck new rule`: write the skeleton of a custom rule and its test cases.

use std::path::{Path, PathBuf};

use trustcheck::atomic_write;
use trustcheck::diagnostics::SourceFile;
use trustcheck::exit::ExitStatus;
use trustcheck::providers;
use trustcheck::rule_tests;
use trustcheck::rules::{self, Origin, RuleSet, RuleSource};
use trustcheck::scaffold::{self, Request, Target};
use trustcheck::schema::SchemaSet;
use trustcheck::severity::Severity;

use super::{ConfigArgs, Output, SchemaArgs};

/// Create something new.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Write `<id>.cedar` with every required annotation and `<id>.test.json` with cases that
    /// pass as written; edit both, then run `validate` and `test`.
    Rule(RuleArgs),
}

#[derive(Debug, clap::Args)]
struct RuleArgs {
    /// Whose resources the rule judges.
    #[arg(long, value_name = "PROVIDER")]
    provider: String,

    /// The rule id, in kebab-case (e.g. `acme-prod-two-approvals`); also the file name.
    #[arg(long)]
    id: String,

    /// Folder to write into [default: the first `policies` folder of trustcheck.toml, else
    /// `controls`].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// The resource type the rule judges, e.g. `Repo` or `Github::Repo` [default: Branch for
    /// github, IamUser for aws].
    #[arg(long, value_name = "TYPE")]
    resource: Option<String>,

    /// SOC 2 criteria for `@soc2`, comma-separated [default: CC8.1 for github, CC6.1 for aws].
    #[arg(long, value_name = "IDS")]
    soc2: Option<String>,

    /// `@severity` of the rule [default: the skeleton's].
    #[arg(long, value_enum)]
    severity: Option<Severity>,

    #[command(flatten)]
    schema: SchemaArgs,

    #[command(flatten)]
    config: ConfigArgs,
}

/// The id, a file or the skeleton is not acceptable.
/// `--provider`: a built-in provider (`aws`), or the namespace of your own facts declared with
/// `--schema` (`mdm` or `Mdm` for `Mdm::Laptop`).
fn target<'a>(provider: &'a str, schema: &SchemaSet) -> miette::Result<Target<'a>> {
    if let Some(p) = providers::by_name(provider) {
        return Ok(Target {
            namespace: p.namespace,
            defaults: Some(&p.scaffold),
        });
    }
    let mut namespaces: Vec<&str> = schema
        .entity_types()
        .filter_map(|t| t.name.rsplit_once("::").map(|(ns, _)| ns))
        .collect();
    namespaces.dedup();
    match namespaces
        .iter()
        .find(|ns| ns.eq_ignore_ascii_case(provider))
    {
        Some(_) if provider.contains("::") => {
            Err(miette::miette!("`{provider}` is a type, not a provider"))
        }
        Some(_) => Ok(Target {
            // The namespace as the user typed it matches case-insensitively; rules need its
            // declared spelling, which the schema has.
            namespace: provider,
            defaults: None,
        })
        .and_then(|t| {
            let declared = namespaces
                .iter()
                .find(|ns| ns.eq_ignore_ascii_case(provider))
                .copied()
                .unwrap_or(provider);
            if declared == provider {
                Ok(t)
            } else {
                Err(miette::miette!(
                    help = format!("write `--provider {declared}`"),
                    "namespaces are case-sensitive: `{provider}` is declared as `{declared}`"
                ))
            }
        }),
        None => Err(miette::miette!(
            code = "new::unknown-provider",
            help = format!(
                "a provider ({}) or the namespace of your own types given with `--schema` ({})",
                providers::names().join(", "),
                namespaces.join(", ")
            ),
            "unknown provider `{provider}`"
        )),
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum NewError {
    #[error("rule id `{id}` {why}")]
    #[diagnostic(
        code("new::invalid-id"),
        help("ids are public API (baselines, SARIF and trustcheck.toml key on them); write them in kebab-case, e.g. `acme-prod-two-approvals`")
    )]
    InvalidId { id: String, why: &'static str },
    #[error("rule id `{0}` is taken by a shipped rule")]
    #[diagnostic(
        code("new::taken-id"),
        help("choose another id; prefixing it with your company's name keeps it apart from shipped rules")
    )]
    TakenId(String),
    #[error("`{0}` already exists")]
    #[diagnostic(
        code(new::exists),
        help("trustcheck never overwrites a rule: choose another id, or delete the file first")
    )]
    Exists(String),
}

pub fn run(args: Args, out: Output) -> miette::Result<ExitStatus> {
    let What::Rule(args) = args.what;
    if let Some(why) = rules::id_problem(&args.id) {
        return Err(NewError::InvalidId {
            id: args.id.clone(),
            why,
        }
        .into());
    }
    if rules::builtin_sources()
        .iter()
        .any(|s| file_stem(&s.file.name) == args.id)
    {
        return Err(NewError::TakenId(args.id.clone()).into());
    }
    let config = args.config.load()?;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => args
            .config
            .policy_folders(&[], &config)
            .into_iter()
            .next()
            .unwrap_or_else(|| PathBuf::from("controls")),
    };
    let rule_path = dir.join(format!("{}.cedar", args.id));
    let test_path = dir.join(format!("{}.test.json", args.id));
    for path in [&rule_path, &test_path] {
        if path.exists() {
            return Err(NewError::Exists(path.display().to_string()).into());
        }
    }

    let schema = args.schema.load(&config)?;
    let target = target(&args.provider, &schema)?;
    let skeleton = scaffold::skeleton(
        &schema,
        &Request {
            id: &args.id,
            target,
            resource: args.resource.as_deref(),
            soc2: args.soc2.as_deref(),
            severity: args.severity,
        },
    )?;
    let tests = skeleton.tests_json();
    // The skeleton must hold what `validate` and `test` will hold it to, before it is written:
    // a `--soc2` typo surfaces here, with the usual diagnostics.
    let rule_name = rule_path.display().to_string();
    let rules = RuleSet::load(
        vec![RuleSource {
            file: SourceFile::new(rule_name.clone(), skeleton.rule.clone()),
            origin: Origin::Custom,
        }],
        &schema,
    )?;
    let results = rule_tests::run_file(&test_path.display().to_string(), &tests, &rules, &schema);
    if let Some(failed) = results.iter().find(|r| !r.passed()) {
        return Err(miette::miette!(
            help = "this is a bug in trustcheck; please report it with the command you ran",
            "the generated test cases do not pass:\n{}",
            failed.failure_report()
        ));
    }

    std::fs::create_dir_all(&dir).map_err(|e| {
        miette::miette!(
            help = "`--dir` names the folder the rule goes in",
            "cannot create `{}`: {e}",
            dir.display()
        )
    })?;
    atomic_write::write(&rule_path, skeleton.rule.as_bytes())?;
    if let Err(e) = atomic_write::write(&test_path, tests.as_bytes()) {
        // Leave nothing half-made: a rule without its cases would fail `test` with a warning.
        let _ = std::fs::remove_file(&rule_path);
        return Err(e.into());
    }
    outln!("created {rule_name}");
    outln!("created {}", test_path.display());
    if !out.quiet {
        let d = shell_word(&dir);
        outln!(
            "\nThe rule judges {} resources. Edit the rule and its cases, then:\n  \
             trustcheck validate --policies {d}\n  \
             trustcheck test --policies {d}\n  \
             trustcheck check --policies {d} --snapshot SNAPSHOT",
            skeleton.resource_type
        );
    }
    Ok(ExitStatus::Success)
}

fn file_stem(name: &str) -> &str {
    Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".cedar"))
        .unwrap_or("")
}

/// A path as one shell word, quoted only when it needs to be.
fn shell_word(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
