//! `trustcheck collect NAME`: snapshot a provider into a file. One subcommand per registered
//! provider (`trustcheck::providers`), with that provider's own options.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgMatches, Command};
use trustcheck::atomic_write;
use trustcheck::exit::ExitStatus;
use trustcheck::providers::{self, Provider};
use trustcheck::snapshot::Snapshot;
use trustcheck_snapshot::Ui;

use super::Output;

/// Snapshot a provider's facts into a file (no judging: `check --snapshot` does that).
#[derive(Debug, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct Args {}

/// Adds `collect NAME` for every registered provider.
pub fn with_providers(collect: Command, registry: &[&'static Provider]) -> Command {
    registry.iter().fold(collect, |cmd, p| {
        let sub = Command::new(p.name).about(p.about).arg(
            Arg::new("out")
                .long("out")
                .short('o')
                .value_name("FILE")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Where to write the snapshot (whole or not at all)"),
        );
        // The options' doc comment must not replace the provider's `about`.
        cmd.subcommand((p.options)(sub).about(p.about))
    })
}

pub fn run(
    _args: Args,
    matches: &ArgMatches,
    registry: &[&'static Provider],
    out: Output,
) -> miette::Result<ExitStatus> {
    let Some((name, sub)) = matches.subcommand() else {
        return Err(miette::miette!(
            help = format!("name one: {}", providers::names().join(", ")),
            "no provider to collect"
        ));
    };
    let provider = registry.iter().find(|p| p.name == name).ok_or_else(|| {
        miette::miette!(
            help = format!("providers: {}", providers::names().join(", ")),
            "unknown provider `{name}`"
        )
    })?;
    let path = sub
        .get_one::<PathBuf>("out")
        .ok_or_else(|| miette::miette!("`--out FILE` is required"))?;
    // Before a possibly long collection: a FIFO or device at the path is refused now.
    atomic_write::check_outputs(&[path], &[])?;
    let snapshot = collect(provider, sub, out)?;
    write(&snapshot, path, out)?;
    // A snapshot with uncollected facts is still evidence, but the run is not complete.
    Ok(if snapshot.uncollected().next().is_some() {
        ExitStatus::Untrustworthy
    } else {
        ExitStatus::Success
    })
}

/// Runs a provider's collector with the options parsed from `matches`.
///
/// Text that came back from servers (the reasons of uncollected facts, error messages) is
/// redacted of every secret the process holds and cut to a few hundred bytes here, whatever the
/// provider did: a server that echoes the request must not put the token in the snapshot.
pub fn collect(provider: &Provider, matches: &ArgMatches, out: Output) -> miette::Result<Snapshot> {
    use trustcheck_snapshot::secrets::{quote, redact};
    let mut snapshot = (provider.collect)(matches, Ui { quiet: out.quiet }).map_err(|e| {
        let message = quote(&e.message);
        match e.help {
            Some(help) => miette::miette!(help = redact(&help), "{message}"),
            None => miette::miette!("{message}"),
        }
    })?;
    for source in &mut snapshot.sources {
        source.identity = source.identity.as_deref().map(redact);
        for error in &mut source.errors {
            error.reason = quote(&error.reason);
        }
    }
    Ok(snapshot)
}

/// Writes a snapshot atomically and says so on stderr.
pub fn write(snapshot: &Snapshot, path: &Path, out: Output) -> miette::Result<()> {
    atomic_write::write(path, snapshot.to_json().as_bytes())?;
    if !out.quiet {
        let errors = snapshot.uncollected().count();
        eprintln!(
            "trustcheck: wrote {} entities from {} source(s) to {}{}",
            snapshot.entities.len(),
            snapshot.sources.len(),
            path.display(),
            if errors > 0 {
                format!(" ({errors} facts could not be collected: see sources[].errors)")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
