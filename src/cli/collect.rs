//! `trustcheck collect`: snapshot a provider into a file. The provider-specific flags and the
//! collection itself live in `collect_aws.rs` and `collect_github.rs`.

use std::path::PathBuf;

use trustcheck::atomic_write;
use trustcheck::snapshot::Snapshot;

use super::{collect_aws, collect_github, Output};

/// Snapshot a provider's facts into a file (no judging: `check --snapshot` does that).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    provider: Provider,
}

#[derive(Debug, clap::Subcommand)]
enum Provider {
    /// Snapshot the AWS account(s) of the current credentials (IAM, credential report, MFA).
    Aws(AwsArgs),
    /// Snapshot GitHub organizations (2FA, members, repositories, effective branch protection).
    Github(GithubArgs),
}

#[derive(Debug, clap::Args)]
struct AwsArgs {
    #[command(flatten)]
    aws: collect_aws::AwsOptions,
    /// Where to write the snapshot (whole or not at all).
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct GithubArgs {
    #[command(flatten)]
    github: collect_github::GithubOptions,
    /// Where to write the snapshot (whole or not at all).
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
}

/// Which providers `check --collect` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderName {
    /// AWS IAM.
    Aws,
    /// GitHub.
    Github,
}

pub fn run(args: Args, out: Output) -> miette::Result<u8> {
    let (snapshot, path) = match &args.provider {
        Provider::Aws(a) => (collect_aws::collect(&a.aws, out)?, &a.out),
        Provider::Github(g) => (collect_github::collect(&g.github, out)?, &g.out),
    };
    write(&snapshot, path, out)?;
    // A snapshot with uncollected facts is still evidence, but the run is not complete.
    let errors: usize = snapshot.sources.iter().map(|s| s.errors.len()).sum();
    Ok(if errors > 0 { 2 } else { 0 })
}

/// Writes a snapshot atomically and says so on stderr.
pub fn write(snapshot: &Snapshot, path: &std::path::Path, out: Output) -> miette::Result<()> {
    atomic_write::write(path, snapshot.to_json().as_bytes())?;
    if !out.quiet {
        let errors: usize = snapshot.sources.iter().map(|s| s.errors.len()).sum();
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
