//! `trustcheck diff`: what changed between two snapshots, in the facts and in the findings.

use std::path::PathBuf;

use trustcheck::atomic_write;
use trustcheck::drift::{self, Drift, DRIFT_FORMAT};
use trustcheck::engine;
use trustcheck::entities::{Input, Store};
use trustcheck::report::drift::{render, DiffFormat, Sides};

use trustcheck::exit::ExitStatus;

use super::{Adjust, Loaded, Output, RuleArgs};

/// Show the drift between two snapshots (e.g. last night's and tonight's): entities added and
/// removed, attributes changed, facts no longer collected, and the findings whose status changed,
/// both snapshots judged by the same rules.
///
/// Exits 0 when the report was written (drift or not), 2 on bad input.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The older snapshot.
    #[arg(value_name = "OLD")]
    old: PathBuf,

    /// The newer snapshot.
    #[arg(value_name = "NEW")]
    new: PathBuf,

    #[command(flatten)]
    rules: RuleArgs,

    /// Report format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    format: DiffFormat,

    /// Write the report to FILE (whole or not at all) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: Args, out: Output) -> miette::Result<ExitStatus> {
    if let Some(output) = &args.output {
        atomic_write::check_outputs(&[output], &[&args.old, &args.new])?;
    }
    let Loaded { schema, rules, .. } = args.rules.load(Adjust::Configured)?;
    let old = Input::read(&args.old)?;
    let new = Input::read(&args.new)?;
    let facts = drift::facts(&old.snapshot, &new.snapshot);
    let (old_at, new_at) = (
        old.snapshot.collected_at.clone(),
        new.snapshot.collected_at.clone(),
    );
    // The new snapshot's parsed form (several times the file: 300 MB at 100k resources) is not
    // held while the old one is judged: its text is parsed again when its turn comes (0.15 s).
    let (new_name_read, new_text) = (new.name, new.text);
    drop(new.snapshot);
    // Judged apart: the same entity is expected in both, which one store would reject. One store
    // at a time: each is dropped once judged, so peak memory holds one store, not two.
    // Only the attributes some rule reads are held in the stores (all are still checked).
    let kept = rules.names_read();
    let judge = |input: Input| -> miette::Result<_> {
        let store = Store::load_for(vec![input], &schema, Some(&kept))
            .map_err(|e| miette::Report::new(*e))?;
        let findings = engine::evaluate(&rules, &store)?;
        Ok((findings, store))
    };
    // The old store is freed before the new snapshot is parsed, so its memory is reused for the
    // new one. Freeing it on a second thread measured no faster (the parse and the free compete
    // for the cores) and held 50–100 MB more at the peak (the allocator returns another
    // thread's frees late).
    let (old_findings, old_store) = judge(old)?;
    drop(old_store);
    let new = Input::parse(new_name_read, new_text)?;
    let (new_findings, new_store) = judge(new)?;
    super::leave_to_exit(new_store);
    let findings = drift::status_changes(&old_findings, &new_findings);
    super::leave_to_exit((old_findings, new_findings));
    let report = Drift {
        format: DRIFT_FORMAT,
        old_collected_at: old_at,
        new_collected_at: new_at,
        facts,
        findings,
    };
    let (old_name, new_name) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    let sides = Sides {
        old: &old_name,
        new: &new_name,
    };
    match &args.output {
        Some(path) => {
            let text = render(&report, args.format, sides, false);
            atomic_write::write(path, text.as_bytes())?;
            if !out.quiet {
                eprintln!("trustcheck: wrote the drift report to {}", path.display());
            }
        }
        None => out!("{}", render(&report, args.format, sides, out.color)),
    }
    Ok(ExitStatus::Success)
}
