//! `trustcheck check`: judge snapshots and report.

use std::borrow::Cow;
use std::path::PathBuf;

use trustcheck::atomic_write;
use trustcheck::baseline::{Baseline, Comparison};
use trustcheck::drift::{self, StatusChange};
use trustcheck::engine;
use trustcheck::entities::{Input, LoadError, LoadedSource, Store};
use trustcheck::exceptions::{self, Exceptions};
use trustcheck::exit::ExitStatus;
use trustcheck::findings::Finding;
use trustcheck::gate::Gate;
use trustcheck::providers::Provider;
use trustcheck::report::{self, annotations, Context, Format, Report, ReportSpec, Style};
use trustcheck::rules::RuleSet;
use trustcheck::severity::Severity;

use super::collect;
use super::evidence;
use super::{Adjust, ExceptionsArgs, Output, RuleArgs};

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
    #[arg(long, value_delimiter = ',', value_name = "PROVIDERS")]
    collect: Vec<String>,

    /// With --collect: also keep the collected snapshot in FILE, as evidence.
    #[arg(long, value_name = "FILE", requires = "collect")]
    save_snapshot: Option<PathBuf>,

    #[command(flatten)]
    rules: RuleArgs,

    #[command(flatten)]
    exceptions: ExceptionsArgs,

    /// Report format on stdout; shorthand for `--report FORMAT` (or `--report FORMAT=FILE` with
    /// --output).
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,

    /// Write the --format report to FILE (whole or not at all) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    #[command(flatten)]
    gate: GateArgs,

    /// List passing and not-applicable findings in the table too, not only their counts.
    #[arg(long)]
    show_passed: bool,

    /// Record this run in the evidence ledger DIR or `s3://BUCKET/PREFIX` (created when new): a
    /// bundle with the snapshots, findings, rules, schema, configuration and exceptions used,
    /// chained to the previous run's bundle [default: `evidence` in trustcheck.toml]. A
    /// collection that fails is recorded too, marked incomplete. See docs/evidence.md.
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,

    /// With an `s3://` --evidence: days each written object is locked in Object Lock
    /// compliance mode (no one can delete or overwrite that version before then).
    #[arg(long, value_name = "DAYS", default_value_t = 400)]
    evidence_retention_days: u32,
}

/// Reports, thresholds, baselines and policy comparison: the CI gate.
#[derive(Debug, clap::Args)]
struct GateArgs {
    /// Write a report: FORMAT (to stdout) or FORMAT=FILE; repeatable, all from one evaluation.
    /// Formats: table, json, sarif, junit, markdown, csv, ocsf. At most one report goes to stdout;
    /// when none does (and --format/--output are not given), the table does.
    #[arg(long = "report", value_name = "FORMAT[=FILE]")]
    reports: Vec<ReportSpec>,

    /// Exit 1 only for failures at or above this severity (what fails the run)
    /// [default: `fail-on` in trustcheck.toml, else low].
    #[arg(long, value_enum, env = "TRUSTCHECK_FAIL_ON")]
    fail_on: Option<Severity>,

    /// Report only findings at or above this severity (what is shown); the exit code still
    /// counts every finding.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    min_severity: Option<Severity>,

    /// A findings file of a previous run (`--report json=FILE`): mark each finding `new` or
    /// `unchanged` and list the failures that were fixed.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// With --baseline: fail only on new failures (errors still exit 2).
    #[arg(long, requires = "baseline")]
    fail_on_new: bool,

    /// Policy impact preview: also judge with the rules of this folder (instead of --policies)
    /// and report the findings whose status the rule change alters; repeatable.
    #[arg(long, value_name = "DIR")]
    compare_policies: Vec<PathBuf>,

    /// Exit 2 when an acceptance in the exceptions file covers no failing finding (it is
    /// otherwise a warning): keeps the file from collecting acceptances nobody needs.
    #[arg(long)]
    strict_exceptions: bool,

    /// Prefix of the SARIF `automationDetails.id` (default `trustcheck`); each scope gets
    /// `<category>/<provider>/<scope>/`.
    #[arg(long, value_name = "CATEGORY")]
    sarif_category: Option<String>,
}

/// Adds every provider's options (for `--collect NAME`) and the provider names `--collect`
/// accepts.
pub fn with_providers(check: clap::Command, registry: &[&'static Provider]) -> clap::Command {
    let names: Vec<&str> = registry.iter().map(|p| p.name).collect();
    let check = check.mut_arg("collect", |a| {
        a.value_parser(clap::builder::PossibleValuesParser::new(names))
    });
    // A provider's options struct carries a doc comment, which clap's derive makes the `about`
    // of the command it is added to: keep `check`'s own.
    let about = check.get_about().cloned();
    let long_about = check.get_long_about().cloned();
    let check = registry.iter().fold(check, |cmd, p| (p.options)(cmd));
    let check = match about {
        Some(about) => check.about(about),
        None => check,
    };
    match long_about {
        Some(long) => check.long_about(long),
        None => check,
    }
}

pub fn run(
    args: Args,
    matches: &clap::ArgMatches,
    registry: &[&'static Provider],
    out: Output,
) -> miette::Result<ExitStatus> {
    // Everything that can be wrong with the request is checked before any (slow) collection.
    let specs = report_specs(&args)?;
    let loaded = args.rules.load(Adjust::Configured)?;
    collect::check_settings(&loaded.config, registry)?;
    let mut collections = Vec::new();
    for name in &args.collect {
        let provider = registry
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| miette::miette!("unknown provider `{name}`"))?;
        collections.push((
            name,
            provider,
            collect::configured(provider, matches, &loaded.config)?,
        ));
    }
    let exceptions_file = args
        .exceptions
        .path(&loaded.config, args.rules.config.no_config)?;
    {
        let mut outputs: Vec<&std::path::Path> =
            specs.iter().filter_map(|s| s.path.as_deref()).collect();
        outputs.extend(args.save_snapshot.as_deref());
        let mut inputs: Vec<&std::path::Path> =
            args.snapshots.iter().map(PathBuf::as_path).collect();
        inputs.extend(args.gate.baseline.as_deref());
        inputs.extend(exceptions_file.as_deref());
        inputs.extend(args.rules.config.config.as_deref());
        atomic_write::check_outputs(&outputs, &inputs)?;
    }
    let (schema, rules) = (&loaded.schema, &loaded.rules);
    // Configuration (src/config.rs): flag > TRUSTCHECK_FAIL_ON > trustcheck.toml > low.
    let fail_on = args.rules.fail_on(args.gate.fail_on, &loaded.config);
    let baseline = match &args.gate.baseline {
        Some(path) => Some(Baseline::read(path)?),
        None => None,
    };
    let old_rules = if args.gate.compare_policies.is_empty() {
        None
    } else {
        let old = RuleArgs {
            policies: args.gate.compare_policies.clone(),
            ..args.rules.clone()
        };
        Some(old.load(Adjust::Configured)?.rules)
    };
    let evidence_dir = args
        .evidence
        .clone()
        .or_else(|| loaded.config.evidence.clone());
    // Opened before collecting: a bad `s3://` location fails before any slow work.
    let ledger = match &evidence_dir {
        Some(dir) => Some(evidence::open(dir, args.evidence_retention_days)?),
        None => None,
    };
    // A snapshot that cannot be read or a collection that fails is still recorded (incomplete):
    // an auditor must see the runs that produced nothing too.
    let failed = |inputs: &[Input], error: miette::Report| -> miette::Report {
        match &ledger {
            Some(ledger) => {
                evidence::record_failure(
                    ledger,
                    evidence::snapshot_files(inputs),
                    &loaded,
                    &error,
                    out,
                );
                error
            }
            None => error,
        }
    };
    let mut inputs = Vec::new();
    for path in &args.snapshots {
        // The store reads each entity when it types it; before a (slow) collection, a file
        // whose entities are not shaped like ones is reported now.
        let read = Input::read(path).and_then(|input| {
            if !collections.is_empty() {
                input.check_entities()?;
            }
            Ok(input)
        });
        match read {
            Ok(input) => inputs.push(input),
            Err(e) => return Err(failed(&inputs, e.into())),
        }
    }
    for (name, provider, options) in &collections {
        let snapshot = match collect::collect(provider, options, out) {
            Ok(snapshot) => snapshot,
            Err(e) => return Err(failed(&inputs, e)),
        };
        if let Some(path) = &args.save_snapshot {
            let path = if args.collect.len() > 1 {
                let file = path
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                path.with_file_name(format!("{name}-{file}"))
            } else {
                path.clone()
            };
            collect::write(&snapshot, &path, out)?;
        }
        inputs.push(Input::in_memory(format!("{name} collection"), snapshot));
    }
    let snapshot_files = ledger.as_ref().map(|_| evidence::snapshot_files(&inputs));
    // Only the attributes some rule reads are held in the store (all are still checked).
    let mut kept = rules.names_read();
    if let Some(old) = &old_rules {
        kept.extend(old.names_read());
    }
    let store = match Store::load_for(inputs, schema, Some(&kept)) {
        Ok(store) => store,
        Err(e) => {
            // A file that does not parse: the run is recorded with the files read before it, as
            // when it is found while the files are read.
            let read_before = match e.as_ref() {
                LoadError::Snapshot { input, .. } => Some(*input),
                LoadError::Entity(_) => None,
            };
            let error = miette::Report::new(*e);
            let snapshot_files = snapshot_files.map(|mut files| {
                if let Some(count) = read_before {
                    files.truncate(count);
                }
                files
            });
            return Err(match (&ledger, snapshot_files) {
                (Some(ledger), Some(files)) => {
                    evidence::record_failure(ledger, files, &loaded, &error, out);
                    error
                }
                _ => error,
            });
        }
    };
    let mut findings = engine::evaluate(rules, &store)?;
    // Risk acceptances, checked against the rules and measured from the snapshots' time.
    let today = store
        .snapshots
        .iter()
        .filter_map(|s| exceptions::date_of(&s.collected_at))
        .max()
        .ok_or_else(|| miette::miette!("the snapshots have no collection time"))?;
    let exceptions = match exceptions_file {
        Some(path) => Some(Exceptions::read(
            &path,
            rules,
            today,
            loaded
                .config
                .max_exception_days
                .unwrap_or(exceptions::DEFAULT_MAX_DAYS),
        )?),
        None => None,
    };
    let stale = match &exceptions {
        Some(x) => {
            let applied = x.apply(&mut findings, today);
            if args.gate.strict_exceptions {
                if let Some(e) = x.stale_error(&applied.stale) {
                    return Err(e.into());
                }
            }
            if !out.quiet {
                for (line, rule, resource) in &applied.stale {
                    eprintln!(
                        "trustcheck: warning: {}:{line}: the acceptance of `{rule}` on `{resource}` covers no failing finding (remove it, or --strict-exceptions to fail on it)",
                        x.file.name
                    );
                }
            }
            applied.stale
        }
        None => Vec::new(),
    };
    let policy_impact = match &old_rules {
        Some(old) => {
            let mut before = engine::evaluate(old, &store)?;
            if let Some(x) = &exceptions {
                x.apply(&mut before, today);
            }
            Some(drift::status_changes(&before, &findings))
        }
        None => None,
    };
    if let (Some(ledger), Some(files)) = (&ledger, snapshot_files) {
        evidence::record(
            ledger,
            evidence::Recorded {
                files,
                store: &store,
                loaded: &loaded,
                exceptions: exceptions.as_ref().map(|x| &x.file),
                findings: &findings,
                failure: None,
            },
            out,
        )?;
    }
    let comparison = baseline.map(|b| Comparison::of(&b, &findings));
    let mut gate = Gate::new(fail_on);
    if let (Some(c), true) = (&comparison, args.gate.fail_on_new) {
        gate = gate.new_failures_only(c);
    }
    let applied = Applied {
        file: exceptions.as_ref().map(|x| x.file.name.as_ref()),
        stale: &stale,
    };
    let status = deliver(
        &args,
        &specs,
        out,
        gate,
        &findings,
        rules,
        &store.snapshots,
        comparison.as_ref(),
        policy_impact.as_deref(),
        applied,
    );
    super::leave_to_exit((store, findings));
    status
}

/// The exceptions file applied and its acceptances that cover nothing, for the reports.
#[derive(Clone, Copy)]
struct Applied<'a> {
    file: Option<&'a str>,
    stale: &'a [(usize, String, String)],
}

/// The reports requested by `--report` plus the `--format`/`--output` shorthand, checked: at
/// most one goes to stdout, and the table does when nothing else is asked for.
fn report_specs(args: &Args) -> miette::Result<Vec<ReportSpec>> {
    let mut specs = args.gate.reports.clone();
    if args.format.is_some() || args.output.is_some() {
        specs.push(ReportSpec {
            format: args.format.unwrap_or(Format::Table),
            path: args.output.clone(),
        });
    }
    let to_stdout: Vec<&str> = specs
        .iter()
        .filter(|s| s.path.is_none())
        .map(|s| s.format.as_str())
        .collect();
    if to_stdout.len() > 1 {
        return Err(miette::miette!(
            help = "give all but one a file: `--report FORMAT=FILE`",
            "more than one report to stdout: `{}`",
            to_stdout.join("`, `")
        ));
    }
    // The table goes to stdout unless the user chose what stdout gets.
    if to_stdout.is_empty() && args.format.is_none() && args.output.is_none() {
        specs.push(ReportSpec {
            format: Format::Table,
            path: None,
        });
    }
    Ok(specs)
}

/// Filters by `--min-severity`, decides the verdict from every finding, renders every report and
/// the GitHub Actions annotations, writes files atomically, and returns the exit code.
#[allow(clippy::too_many_arguments)] // the one place where the run's parts meet
fn deliver(
    args: &Args,
    specs: &[ReportSpec],
    out: Output,
    gate: Gate<'_>,
    findings: &[Finding],
    rules: &RuleSet,
    snapshots: &[LoadedSource],
    comparison: Option<&Comparison>,
    policy_impact: Option<&[StatusChange]>,
    applied: Applied<'_>,
) -> miette::Result<ExitStatus> {
    let verdict = gate.verdict(findings);
    let flags = &args.gate;
    // Borrowed unless filtered: a 100k-resource run is not copied.
    let reported: Cow<'_, [Finding]> = match flags.min_severity {
        Some(min) => Cow::Owned(
            findings
                .iter()
                .filter(|f| f.severity >= min)
                .cloned()
                .collect(),
        ),
        None => Cow::Borrowed(findings),
    };
    let report = Report {
        findings: &reported,
        rules,
        snapshots,
        gate,
        verdict,
        context: Context {
            baseline: comparison,
            min_severity: flags.min_severity,
            hidden: findings.len() - reported.len(),
            policy_impact,
            exceptions_file: applied.file,
            stale_acceptances: applied.stale,
            sarif_category: flags.sarif_category.as_deref(),
        },
    };
    // Every text report is rendered before any is written; JSON is streamed instead, so a
    // 100k-resource run is never held in memory twice.
    let mut rendered = Vec::with_capacity(specs.len());
    for spec in specs {
        let style = Style {
            color: out.color && spec.path.is_none(),
            width: terminal_width(),
            show_passed: args.show_passed,
        };
        let text =
            (spec.format != Format::Json).then(|| report::render(spec.format, &report, style));
        rendered.push((spec, text));
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        // The runner reads these from the log; a closed stderr loses them, which is no reason to
        // panic.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            annotations::render(&report).as_bytes(),
        );
    }
    for (spec, text) in &rendered {
        match &spec.path {
            Some(path) => {
                match text {
                    Some(text) => atomic_write::write(path, text.as_bytes())?,
                    None => atomic_write::write_with(path, |f| report::json::write(f, &report))?,
                }
                if !out.quiet {
                    eprintln!(
                        "trustcheck: wrote {} report of {} findings to {} ({})",
                        spec.format.as_str(),
                        reported.len(),
                        path.display(),
                        verdict.word()
                    );
                }
            }
            None => match text {
                Some(text) => out!("{text}"),
                None => super::stdout::with(|mut w| report::json::write(&mut w, &report)),
            },
        }
    }
    Ok(verdict.exit_status())
}

/// Table width: `COLUMNS` when set (tests pin it), else 120.
fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}
