//! `collect aws` / `check --collect aws`: flags and glue for the AWS IAM provider.

use trustcheck::snapshot::Snapshot;

use super::Output;

/// AWS collection options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsOptions {}

/// Collects the AWS account(s) into one snapshot.
pub fn collect(_args: &AwsOptions, _out: Output) -> miette::Result<Snapshot> {
    Err(miette::miette!("AWS collection is not built yet"))
}
