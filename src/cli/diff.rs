//! `trustcheck diff`: what changed between two snapshots, in the facts and in the findings.

use std::path::PathBuf;

use trustcheck::atomic_write;
use trustcheck::drift::{self, Drift, DRIFT_FORMAT};
use trustcheck::engine::{self, Messages};
use trustcheck::entities::{Envelope, Input, Store};
use trustcheck::report::drift::{render, DiffFormat, Sides};
use trustcheck::snapshot;
use trustcheck_snapshot::Uid;

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
    let (old_name, new_name) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    let old_text = snapshot::read_text(&args.old)?;
    let new_text = snapshot::read_text(&args.new)?;
    // The facts are compared on the entities' text (an entity whose text did not change is not
    // parsed), so that neither snapshot is held parsed (several times the file: 300 MB at 100k
    // resources) for the comparison. Bad input is reported in the order it is met: either file
    // unreadable, either envelope, OLD in full (then its entities typed), NEW in full; each is a
    // located error, exit 2, and nothing is written.
    let (facts, old_at, new_at, old_envelope, new_envelope) = {
        let (old_view, new_view) = rayon::join(
            || snapshot::view(&old_name, &old_text),
            || snapshot::view(&new_name, &new_text),
        );
        let (old_view, new_view) = (old_view?, new_view?);
        let facts = match drift::facts(&old_view, &new_view) {
            Ok(facts) => facts,
            // The full parse locates what is wrong; should it find nothing, serde's message.
            Err(e) => {
                snapshot::parse(&old_name, &old_text)?;
                snapshot::parse(&new_name, &new_text)?;
                return Err(miette::miette!("{e}"));
            }
        };
        let (old_at, new_at) = (old_view.collected_at.clone(), new_view.collected_at.clone());
        let old = Envelope::of(&old_text, old_view);
        let new = Envelope::of(&new_text, new_view);
        (facts, old_at, new_at, old, new)
    };
    // Judged apart: the same entity is expected in both, which one store would reject. One store
    // at a time: each is dropped once judged, so peak memory holds one store, not two.
    // Only the attributes some rule reads are held in the stores (all are still checked).
    let kept = rules.names_read();
    let judge = |input: Input, messages: Messages<'_>| -> miette::Result<_> {
        let store = Store::load_for(vec![input], &schema, Some(&kept))
            .map_err(|e| miette::Report::new(*e))?;
        let findings = engine::evaluate_with(&rules, &store, messages)?;
        Ok((findings, store))
    };
    // Only the messages the report shows are built: an old finding's when its resource is gone
    // (a pair only in OLD, since both sides are judged by the same rules; the findings of lists
    // that could not be read always have theirs), a new finding's when its status is not the
    // old one.
    let removed = |_: &str, resource: &Uid, _| facts.removed.binary_search(resource).is_ok();
    // The old store is freed before the new snapshot is parsed, so its memory is reused for the
    // new one. Freeing it on a second thread measured no faster (the parse and the free compete
    // for the cores) and held 50–100 MB more at the peak (the allocator returns another
    // thread's frees late).
    let (old_findings, old_store) = judge(
        Input::with_envelope(old_name.clone(), old_text, old_envelope),
        Messages::Only(&removed),
    )?;
    drop(old_store);
    let old_statuses = drift::Statuses::of(&old_findings);
    let changed =
        |rule: &str, resource: &Uid, status| old_statuses.get(rule, resource) != Some(status);
    let (new_findings, new_store) = judge(
        Input::with_envelope(new_name.clone(), new_text, new_envelope),
        Messages::Only(&changed),
    )?;
    drop(old_statuses);
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
