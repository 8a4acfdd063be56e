//! `collect aws` / `check --collect aws`: flags and glue for the AWS IAM provider.
//!
//! Turns the flags into collection targets, runs the `trustcheck-aws` collector on a Tokio
//! runtime, and converts its per-account results into one snapshot. Progress goes to stderr
//! (never with a credential in it); the snapshot itself is written by the caller.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use miette::{Diagnostic, IntoDiagnostic};
use trustcheck::findings::ResourceRef;
use trustcheck::snapshot::{CollectionError, RawEntity, Snapshot, Source};
use trustcheck_aws::collect::{partition_of_region, role_arn, DEFAULT_REGION};
use trustcheck_aws::fetch::FetchSettings;
use trustcheck_aws::{AccountSnapshot, CollectError, CollectOptions, Target, Uid};

use super::Output;

/// Where the AWS flags are listed in `--help`.
const HEADING: &str = "AWS collection";

/// AWS collection options.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsOptions {
    /// Assume this role and read its account instead of the current credentials' account;
    /// repeatable (one account each), e.g. `arn:aws:iam::123456789012:role/trustcheck-audit`.
    #[arg(long = "assume-role", value_name = "ARN", help_heading = HEADING)]
    assume_role: Vec<String>,

    /// Assume the role of this name in each of --accounts.
    #[arg(long = "role-name", value_name = "NAME", requires = "accounts", help_heading = HEADING)]
    role_name: Option<String>,

    /// Account ids to read through --role-name (comma-separated).
    #[arg(
        long = "accounts",
        value_name = "ID,ID",
        value_delimiter = ',',
        requires = "role_name",
        help_heading = HEADING
    )]
    accounts: Vec<String>,

    /// External id to pass when assuming roles.
    #[arg(long = "external-id", value_name = "ID", help_heading = HEADING)]
    external_id: Option<String>,

    /// Region for the STS and IAM endpoints (IAM is global). Default: `AWS_REGION` or the
    /// profile's region, else us-east-1.
    #[arg(long = "aws-region", value_name = "REGION", help_heading = HEADING)]
    region: Option<String>,

    /// Send AWS requests to this endpoint (an emulator, a VPC endpoint). Default: `AWS_ENDPOINT_URL`.
    #[arg(long = "aws-endpoint-url", value_name = "URL", help_heading = HEADING)]
    endpoint_url: Option<String>,

    /// Attempts per AWS request, first try included (adaptive retry on throttling and 5xx).
    #[arg(long = "aws-max-attempts", value_name = "N", default_value_t = 8, help_heading = HEADING)]
    max_attempts: u32,

    /// Seconds to wait for AWS to generate the credential report before recording its facts as
    /// unknown.
    #[arg(
        long = "aws-report-timeout",
        value_name = "SECONDS",
        default_value_t = 120,
        help_heading = HEADING
    )]
    report_timeout: u64,
}

/// A flag value that cannot name an account.
#[derive(Debug, thiserror::Error, Diagnostic)]
enum AwsFlagError {
    #[error("`{0}` is not a 12-digit AWS account id")]
    #[diagnostic(help(
        "pass account ids to --accounts, comma-separated: `--accounts 123456789012,210987654321`"
    ))]
    AccountId(String),
    #[error("--role-name `{0}` is not a role name")]
    #[diagnostic(help(
        "give the role's name (with its path, if any), not its ARN; use --assume-role for an ARN"
    ))]
    RoleName(String),
}

/// The collector's fatal errors, with what to do about them.
#[derive(Debug, thiserror::Error, Diagnostic)]
enum AwsCollectError {
    #[error("{0}")]
    #[diagnostic(help(
        "configure AWS credentials: environment variables, `AWS_PROFILE`, SSO (`aws sso login`), or web identity (OIDC) in GitHub Actions; see providers/aws/README.md"
    ))]
    Identity(CollectError),
    #[error("{0}")]
    #[diagnostic(help(
        "pass a role ARN such as `arn:aws:iam::123456789012:role/trustcheck-audit`"
    ))]
    RoleArn(CollectError),
    #[error("{0}")]
    Other(CollectError),
}

impl AwsOptions {
    /// The accounts to read, without duplicates (each account once, or its entities would clash).
    fn targets(&self, partition: &str) -> Result<Vec<Target>, AwsFlagError> {
        let mut arns: Vec<String> = self.assume_role.clone();
        if let Some(name) = &self.role_name {
            let name = name.trim_start_matches('/');
            if name.is_empty() || name.starts_with("arn:") {
                return Err(AwsFlagError::RoleName(name.to_string()));
            }
            for account in &self.accounts {
                let account = account.trim();
                if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(AwsFlagError::AccountId(account.to_string()));
                }
                arns.push(role_arn(partition, account, name));
            }
        }
        if arns.is_empty() {
            return Ok(vec![Target::Current]);
        }
        let mut seen = BTreeSet::new();
        Ok(arns
            .into_iter()
            .filter(|a| seen.insert(a.clone()))
            .map(Target::Role)
            .collect())
    }
}

/// Collects the AWS account(s) into one snapshot.
pub fn collect(args: &AwsOptions, out: Output) -> miette::Result<Snapshot> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    let started = Instant::now();
    let accounts = runtime.block_on(async {
        let base = trustcheck_aws::load_base_config(
            args.region.clone(),
            args.endpoint_url.clone(),
            args.max_attempts,
        )
        .await;
        let region = base
            .region()
            .map_or_else(|| DEFAULT_REGION.to_string(), |r| r.to_string());
        let targets = args.targets(partition_of_region(&region))?;
        if !out.quiet {
            let what = match targets.as_slice() {
                [Target::Current] => "the current credentials' account".to_string(),
                [_] => "1 account".to_string(),
                many => format!("{} accounts", many.len()),
            };
            eprintln!("trustcheck: collecting AWS IAM from {what} (region {region})");
        }
        let options = CollectOptions {
            targets,
            external_id: args.external_id.clone(),
            fetch: FetchSettings {
                report_timeout: Duration::from_secs(args.report_timeout),
                ..FetchSettings::default()
            },
            ..CollectOptions::default()
        };
        trustcheck_aws::collect(&base, &options)
            .await
            .map_err(|e| match e {
                CollectError::Identity(_) => miette::Report::new(AwsCollectError::Identity(e)),
                CollectError::RoleArn(_) => miette::Report::new(AwsCollectError::RoleArn(e)),
                CollectError::Task(_) => miette::Report::new(AwsCollectError::Other(e)),
            })
    })?;
    if !out.quiet {
        for a in &accounts {
            eprintln!(
                "trustcheck: aws {}: {} entities, {} API calls, {} facts not collected",
                a.account_id,
                a.entities.len(),
                a.api_calls,
                a.errors.len()
            );
        }
        eprintln!(
            "trustcheck: AWS collection took {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(to_snapshot(accounts))
}

/// One snapshot of all accounts; its time is the earliest account's start.
fn to_snapshot(accounts: Vec<AccountSnapshot>) -> Snapshot {
    let collected_at = accounts
        .iter()
        .map(|a| a.collected_at.clone())
        .min()
        .unwrap_or_else(|| trustcheck_aws::timestamp::format(time::OffsetDateTime::now_utc()));
    let mut snapshot = Snapshot::new(collected_at);
    for account in accounts {
        snapshot.sources.push(Source {
            provider: "aws".to_string(),
            scope: account.account_id,
            identity: account.identity,
            collected_at: account.collected_at,
            api_calls: account.api_calls,
            errors: account
                .errors
                .into_iter()
                .map(|e| CollectionError {
                    entity: reference(e.entity),
                    fact: e.fact,
                    reason: e.reason,
                })
                .collect(),
        });
        snapshot
            .entities
            .extend(account.entities.into_iter().map(|e| RawEntity {
                uid: reference(e.uid),
                attrs: e.attrs,
                parents: e.parents.into_iter().map(reference).collect(),
            }));
    }
    snapshot.normalize();
    snapshot
}

fn reference(uid: Uid) -> ResourceRef {
    ResourceRef {
        type_name: uid.type_name,
        id: uid.id,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::Parser;
    use trustcheck::engine;
    use trustcheck::entities::{Input, Store};
    use trustcheck::findings::Status;
    use trustcheck::rules::{self, RuleSet};
    use trustcheck::schema::SchemaSet;
    use trustcheck_aws::mapping::map_account;
    use trustcheck_aws::raw::{CallError, CredentialReport, RawAccount};

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        aws: AwsOptions,
    }

    fn options(args: &[&str]) -> AwsOptions {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .unwrap()
            .aws
    }

    #[test]
    fn flags_become_targets() {
        assert_eq!(options(&[]).targets("aws").unwrap(), [Target::Current]);
        let arn = "arn:aws:iam::111122223333:role/audit";
        assert_eq!(
            options(&[
                "--assume-role",
                arn,
                "--role-name",
                "audit",
                "--accounts",
                "111122223333,444455556666"
            ])
            .targets("aws")
            .unwrap(),
            [
                Target::Role(arn.into()),
                Target::Role("arn:aws:iam::444455556666:role/audit".into())
            ],
            "the same account twice is read once"
        );
        assert!(matches!(
            options(&["--role-name", "audit", "--accounts", "12345"]).targets("aws"),
            Err(AwsFlagError::AccountId(id)) if id == "12345"
        ));
        assert!(Cli::try_parse_from(["t", "--role-name", "audit"]).is_err());
    }

    /// The recorded payloads of the provider crate, mapped and converted, load against the
    /// shipped schema and are judged: the contract between the crate and the engine holds.
    #[test]
    fn recorded_account_loads_and_is_judged() {
        let details = serde_json::from_str(include_str!(
            "../../providers/aws/tests/fixtures/authorization-details.json"
        ))
        .unwrap();
        let raw = RawAccount {
            account_id: "111122223333".into(),
            partition: "aws".into(),
            aliases: Ok(vec![]),
            authorization_details: Ok(details),
            credential_report: Ok(CredentialReport {
                generated_time: Some("2026-11-22T02:00:00Z".into()),
                content: include_str!("../../providers/aws/tests/fixtures/credential-report.csv")
                    .into(),
            }),
            account_summary: Ok(BTreeMap::new()),
            password_policy: Ok(None),
            virtual_mfa_devices: Err(CallError::new(
                "ListVirtualMFADevices",
                "AccessDenied: not authorized",
            )),
        };
        let mapped = map_account(&raw);
        let snapshot = to_snapshot(vec![AccountSnapshot {
            account_id: raw.account_id.clone(),
            identity: Some("arn:aws:sts::111122223333:assumed-role/audit/trustcheck".into()),
            collected_at: "2026-11-22T03:00:00Z".into(),
            api_calls: 8,
            calls_by_operation: BTreeMap::new(),
            entities: mapped.entities,
            errors: mapped.errors,
        }]);
        let schema = SchemaSet::builtin().unwrap();
        let store = Store::load(vec![Input::in_memory("recorded", snapshot)], &schema).unwrap();
        let rules = RuleSet::load(rules::builtin_sources(), &schema).unwrap();
        let findings = engine::evaluate(&rules, &store).unwrap();
        let status = |rule: &str, id: &str| {
            findings
                .iter()
                .find(|f| &*f.rule == rule && f.resource.id == id)
                .map(|f| f.status)
                .unwrap_or_else(|| panic!("no finding of {rule} on {id}"))
        };
        let a = "arn:aws:iam::111122223333";
        assert_eq!(
            status("aws-iam-user-no-direct-admin", &format!("{a}:user/bob")),
            Status::Fail
        );
        assert_eq!(
            status("aws-iam-user-no-direct-admin", &format!("{a}:user/alice")),
            Status::Pass
        );
        assert_eq!(
            status("aws-iam-user-one-active-key", &format!("{a}:user/bob")),
            Status::Fail
        );
        assert_eq!(
            status("aws-root-no-access-keys", &format!("{a}:root")),
            Status::Fail
        );
        assert_eq!(
            status("aws-password-policy-strong", &format!("{a}:root")),
            Status::Fail
        );
        assert_eq!(
            status(
                "aws-role-no-public-trust",
                &format!("{a}:role/partner-access")
            ),
            Status::Fail
        );
        assert_eq!(
            status(
                "aws-iam-policy-no-full-admin",
                &format!("{a}:policy/break-glass")
            ),
            Status::Fail
        );
        // Unknowns are errors, never passes: MFA kind could not be read, dave is newer than the
        // report, and the broken trust policy could not be decoded.
        assert_eq!(
            status("aws-root-hardware-mfa", &format!("{a}:root")),
            Status::Error
        );
        assert_eq!(
            status("aws-iam-user-console-mfa", &format!("{a}:user/dave")),
            Status::Error
        );
        assert_eq!(
            status("aws-role-no-public-trust", &format!("{a}:role/broken")),
            Status::Error
        );
    }
}
