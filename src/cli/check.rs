//! `trustcheck check`: judge snapshots and report.

use std::path::PathBuf;

use trustcheck::atomic_write;
use trustcheck::engine;
use trustcheck::entities::{Input, Store};
use trustcheck::findings::Verdict;
use trustcheck::report::{self, Format, Report, Style};
use trustcheck::severity::Severity;

use super::collect::{self, ProviderName};
use super::{collect_aws, collect_github, Output, RuleArgs};

/// Judge one or more snapshots with the shipped and custom rules.
///
/// Several snapshots are judged together (e.g. one per AWS account and GitHub org).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Snapshot file written by `trustcheck collect`; repeatable.
    #[arg(
        long = "snapshot",
        value_name = "FILE",
        required_unless_present = "collect"
    )]
    snapshots: Vec<PathBuf>,

    /// Collect live from these providers first (comma-separated), then judge.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PROVIDERS")]
    collect: Vec<ProviderName>,

    /// With --collect: also keep the collected snapshot in FILE, as evidence.
    #[arg(long, value_name = "FILE", requires = "collect")]
    save_snapshot: Option<PathBuf>,

    #[command(flatten)]
    aws: collect_aws::AwsOptions,

    #[command(flatten)]
    github: collect_github::GithubOptions,

    #[command(flatten)]
    rules: RuleArgs,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Write the report to FILE (whole or not at all) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Exit 1 only for failures at or above this severity [default: `fail-on` in
    /// trustcheck.toml, else low].
    #[arg(long, value_enum, env = "TRUSTCHECK_FAIL_ON")]
    fail_on: Option<Severity>,

    /// List passing and not-applicable findings in the table too, not only their counts.
    #[arg(long)]
    show_passed: bool,
}

pub fn run(args: Args, out: Output) -> miette::Result<u8> {
    let (schema, rules) = args.rules.load()?;
    // Configuration (src/config.rs): flag > TRUSTCHECK_FAIL_ON > trustcheck.toml > low.
    let fail_on = args.rules.fail_on(args.fail_on)?;
    let mut inputs = Vec::new();
    for path in &args.snapshots {
        inputs.push(Input::read(path)?);
    }
    for provider in &args.collect {
        let snapshot = match provider {
            ProviderName::Aws => collect_aws::collect(&args.aws, out)?,
            ProviderName::Github => collect_github::collect(&args.github, out)?,
        };
        if let Some(path) = &args.save_snapshot {
            let path = if args.collect.len() > 1 {
                let name = format!(
                    "{}-{}",
                    match provider {
                        ProviderName::Aws => "aws",
                        ProviderName::Github => "github",
                    },
                    path.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                );
                path.with_file_name(name)
            } else {
                path.clone()
            };
            collect::write(&snapshot, &path, out)?;
        }
        inputs.push(Input::in_memory(
            format!("{provider:?} collection"),
            snapshot,
        ));
    }
    let store = Store::load(inputs, &schema).map_err(|e| miette::Report::new(*e))?;
    let findings = engine::evaluate(&rules, &store)?;
    let verdict = Verdict::of(&findings, fail_on);
    let report = Report {
        findings: &findings,
        rules: &rules,
        snapshots: &store.snapshots,
        fail_on,
        verdict,
    };
    let to_file = args.output.is_some();
    let style = Style {
        color: out.color && !to_file,
        width: terminal_width(),
        show_passed: args.show_passed,
    };
    match &args.output {
        Some(path) => {
            // JSON is streamed: a 100k-resource run is never held in memory twice.
            match args.format {
                Format::Json => {
                    atomic_write::write_with(path, |f| report::json::write(f, &findings))?
                }
                _ => atomic_write::write(
                    path,
                    report::render(args.format, &report, style).as_bytes(),
                )?,
            }
            if !out.quiet {
                eprintln!(
                    "trustcheck: wrote {} findings to {} ({})",
                    findings.len(),
                    path.display(),
                    verdict_word(verdict)
                );
            }
        }
        None => match args.format {
            Format::Json => report::json::write(&mut std::io::stdout().lock(), &findings)
                .map_err(|e| miette::miette!("cannot write to stdout: {e}"))?,
            _ => print!("{}", report::render(args.format, &report, style)),
        },
    }
    Ok(verdict.code())
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Clean => "passed",
        Verdict::Failed => "failed",
        Verdict::Untrustworthy => "incomplete: some findings could not be judged",
    }
}

/// Table width: `COLUMNS` when set (tests pin it), else 120.
fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}
