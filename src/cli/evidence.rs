//! `trustcheck evidence verify|report`, and recording a `check` run with `--evidence`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use trustcheck::atomic_write;
use trustcheck::diagnostics::SourceFile;
use trustcheck::entities::{Input, Store};
use trustcheck::evidence::bundle::{CiContext, FileRecord, SourceRecord};
use trustcheck::evidence::render::{self, PeriodFormat};
use trustcheck::evidence::verify::{self, Options, Verification};
use trustcheck::evidence::{period, times, EvidenceError, Ledger, RunInput};
use trustcheck::exit::ExitStatus;
use trustcheck::findings::Finding;

use super::{Loaded, Output};

/// Verify an evidence ledger, or report on a period of it.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Recompute every bundle's hash and the chain; report altered, removed or inserted bundles
    /// and cadence gaps. Reads only, never repairs. Exit 0: intact and complete for the period;
    /// 1: intact, but runs are missing (gaps) or incomplete; 2: not intact, or unreadable.
    Verify(VerifyArgs),
    /// Report a period of the ledger per SOC 2 criterion and rule: runs, share of runs the
    /// control held, exception windows, accepted exceptions, runs that could not judge, cadence
    /// gaps, population per run. The ledger must verify intact; rules are not evaluated again.
    Report(ReportArgs),
}

/// The period and cadence, shared by `verify` and `report`.
#[derive(Debug, Clone, clap::Args)]
struct PeriodArgs {
    /// Expected interval between runs: a longer stretch without a run (by more than a quarter of
    /// it) is a cadence gap. `90m`, `24h`, `7d`.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    cadence: String,

    /// Start of the period: `YYYY-MM-DD` (UTC midnight) or a UTC time [default: the first run;
    /// gaps are then checked between runs only].
    #[arg(long, value_name = "DATE")]
    from: Option<String>,

    /// End of the period: `YYYY-MM-DD` (that whole day included) or a UTC time [default: the
    /// last run].
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
}

impl PeriodArgs {
    fn options(&self) -> Result<Options, EvidenceError> {
        let options = Options {
            cadence: times::duration(&self.cadence)?,
            from: self.from.as_deref().map(times::period_start).transpose()?,
            to: self.to.as_deref().map(times::period_end).transpose()?,
        };
        if let (Some(from), Some(to)) = (options.from, options.to) {
            if to <= from {
                return Err(EvidenceError::Usage(
                    "`--to` is before `--from`: the period is empty".into(),
                ));
            }
        }
        Ok(options)
    }
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The ledger: a folder or `s3://BUCKET/PREFIX` (as given to `check --evidence`).
    #[arg(value_name = "DIR")]
    dir: PathBuf,

    #[command(flatten)]
    period: PeriodArgs,

    /// `text` for people, `json` for tools.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    format: VerifyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum VerifyFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// The ledger: a folder or `s3://BUCKET/PREFIX` (as given to `check --evidence`).
    #[arg(value_name = "DIR")]
    dir: PathBuf,

    #[command(flatten)]
    period: PeriodArgs,

    /// Report format.
    #[arg(long, value_enum, default_value_t = PeriodFormat::Markdown)]
    format: PeriodFormat,

    /// Write the report to FILE (whole or not at all) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: Args, out: Output) -> miette::Result<ExitStatus> {
    match args.command {
        Command::Verify(a) => run_verify(a),
        Command::Report(a) => run_report(a, out),
    }
}

fn run_verify(args: VerifyArgs) -> miette::Result<ExitStatus> {
    let options = args.period.options()?;
    let ledger = Ledger::open(&args.dir, 0)?;
    let v = verify::verify(&ledger, options)?;
    match args.format {
        VerifyFormat::Text => print!("{}", verification_text(&v)),
        VerifyFormat::Json => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
    }
    Ok(if !v.intact() {
        ExitStatus::Untrustworthy
    } else if !v.complete() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// What `verify` prints: one line per problem, gap and incomplete run, then the verdict.
fn verification_text(v: &Verification) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "ledger {} ({}): {} bundle(s), {} run(s) in the period{}",
        v.dir,
        v.ledger,
        v.bundles,
        v.runs_in_period,
        match (&v.from, &v.to) {
            (None, None) => String::new(),
            (f, t) => format!(
                " {} to {}",
                f.as_deref().unwrap_or("(first run)"),
                t.as_deref().unwrap_or("(last run)")
            ),
        }
    );
    if let Some(head) = &v.head {
        let _ = writeln!(s, "head bundle sha256 {head}");
    }
    for p in &v.problems {
        let kind = serde_json::to_value(p.kind)
            .ok()
            .and_then(|k| k.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(s, "✗ {kind}: {}: {}", p.location, p.message);
    }
    for g in &v.gaps {
        let _ = writeln!(s, "gap: no run from {} to {} ({})", g.from, g.to, g.length);
    }
    for r in &v.incomplete {
        let _ = writeln!(
            s,
            "incomplete: run #{} of {} could not collect everything",
            r.sequence, r.collected_at
        );
    }
    let verdict = if !v.intact() {
        format!(
            "NOT INTACT: {} problem(s); nothing was changed (trustcheck never repairs evidence)",
            v.problems.len()
        )
    } else if v.runs_in_period == 0 {
        "intact, but no run in the period".to_string()
    } else if !v.complete() {
        format!(
            "intact, not complete: {} gap(s), {} incomplete run(s)",
            v.gaps.len(),
            v.incomplete.len()
        )
    } else {
        "intact and complete".to_string()
    };
    let _ = writeln!(s, "{verdict}");
    s
}

fn run_report(args: ReportArgs, out: Output) -> miette::Result<ExitStatus> {
    let options = args.period.options()?;
    let ledger = Ledger::open(&args.dir, 0)?;
    let v = verify::verify(&ledger, options)?;
    verify::require_intact(&v)?;
    if v.runs_in_period == 0 {
        return Err(EvidenceError::Usage(format!(
            "the ledger `{}` has no run in the period",
            ledger.display()
        ))
        .into());
    }
    let report = period::build(&ledger, options, v.head.clone())?;
    let text = render::render(args.format, &report);
    match &args.output {
        Some(path) => {
            atomic_write::write(path, text.as_bytes())?;
            if !out.quiet {
                eprintln!(
                    "trustcheck: wrote the evidence report of {} run(s) to {}",
                    report.runs.len(),
                    path.display()
                );
            }
        }
        None => print!("{text}"),
    }
    Ok(ExitStatus::Success)
}

/// The ledger `--evidence` names: a folder or `s3://bucket/prefix`.
pub fn open(location: &Path, retention_days: u32) -> miette::Result<Ledger> {
    Ok(Ledger::open(location, retention_days)?)
}

/// The snapshots of a run as recorded: their text as read, or as collected.
pub fn snapshot_files(inputs: &[Input]) -> Vec<FileRecord> {
    inputs
        .iter()
        .map(|i| {
            let text = if i.text.is_empty() {
                i.snapshot.to_json()
            } else {
                i.text.clone()
            };
            FileRecord::of(i.name.clone(), text)
        })
        .collect()
}

/// What a judged run hands to the ledger.
pub struct Recorded<'a> {
    pub files: Vec<FileRecord>,
    pub store: &'a Store,
    pub loaded: &'a Loaded,
    pub exceptions: Option<&'a SourceFile>,
    pub findings: &'a [Finding],
    pub failure: Option<String>,
}

/// When the bundle is written: `SOURCE_DATE_EPOCH` when set (reproducible demo ledgers and
/// tests), else the clock.
fn written_at() -> String {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    times::format(now)
}

fn ci() -> Option<CiContext> {
    CiContext::from_github_env(|k| std::env::var(k).ok())
}

/// Records a judged run.
pub fn record(ledger: &Ledger, run: Recorded<'_>, out: Output) -> miette::Result<()> {
    let mut population: BTreeMap<String, u64> = BTreeMap::new();
    for r in &run.store.resources {
        *population.entry(r.reference.type_name.clone()).or_default() += 1;
    }
    let collected_at = run
        .store
        .snapshots
        .iter()
        .map(|s| s.collected_at.clone())
        .max()
        .unwrap_or_else(written_at);
    let input = RunInput {
        collected_at,
        snapshots: run.files,
        sources: run
            .store
            .snapshots
            .iter()
            .flat_map(|s| s.sources.iter().map(SourceRecord::from))
            .collect(),
        population,
        rules: &run.loaded.rules,
        schema_fragments: run.loaded.schema.fragments(),
        config: run.loaded.config.file.as_ref(),
        exceptions: run.exceptions,
        findings: run.findings,
        incomplete_reasons: run.failure.into_iter().collect(),
        ci: ci(),
    };
    append(ledger, input, out)
}

/// Records a run whose snapshots could not be read or collected: incomplete, no findings. The
/// run fails with its own error either way; when it cannot be recorded either, that is said too.
pub fn record_failure(
    ledger: &Ledger,
    files: Vec<FileRecord>,
    loaded: &Loaded,
    error: &miette::Report,
    out: Output,
) {
    let now = written_at();
    let input = RunInput {
        collected_at: now,
        snapshots: files,
        sources: Vec::new(),
        population: BTreeMap::new(),
        rules: &loaded.rules,
        schema_fragments: loaded.schema.fragments(),
        config: loaded.config.file.as_ref(),
        exceptions: None,
        findings: &[],
        incomplete_reasons: vec![error.to_string()],
        ci: ci(),
    };
    if let Err(e) = append(ledger, input, out) {
        eprintln!(
            "trustcheck: the failed run could not be recorded in the evidence ledger {} either: {e}",
            ledger.display()
        );
    }
}

fn append(ledger: &Ledger, input: RunInput<'_>, out: Output) -> miette::Result<()> {
    let entry = ledger.append(input, &written_at())?;
    if !out.quiet {
        eprintln!(
            "trustcheck: recorded run #{} ({}{}) in the evidence ledger {} (sha256 {})",
            entry.sequence,
            entry.collected_at,
            if entry.incomplete { ", incomplete" } else { "" },
            ledger.display(),
            entry.sha256
        );
    }
    Ok(())
}
