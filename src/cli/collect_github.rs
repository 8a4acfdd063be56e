//! `collect github` / `check --collect github`: flags and glue for the GitHub provider.

use trustcheck::snapshot::Snapshot;

use super::Output;

/// GitHub collection options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GithubOptions {}

/// Collects the GitHub organization(s) into one snapshot.
pub fn collect(_args: &GithubOptions, _out: Output) -> miette::Result<Snapshot> {
    Err(miette::miette!("GitHub collection is not built yet"))
}
