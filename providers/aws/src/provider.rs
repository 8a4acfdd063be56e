//! The AWS provider as the binary's registry sees it: its options (`collect aws`, `check
//! --collect aws`), how they become collection targets, and the collection of every target into
//! one snapshot. Progress goes to stderr, never with a credential in it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use clap::{Args, FromArgMatches};
use trustcheck_snapshot::provider::owns_by_prefix_or_arn;
use trustcheck_snapshot::{
    CollectError, Param, ParamKind, Provider, Scaffold, ScaffoldExample, Snapshot, Ui,
};

use crate::account::AccountSnapshot;
use crate::collect::{partition_of_region, role_arn, CollectOptions, Target, DEFAULT_REGION};
use crate::fetch::FetchSettings;
use crate::organization::Organization;
use crate::statements::{parse_sensitive_action, SensitiveActions};
use crate::timestamp;

/// The AWS IAM provider.
pub static PROVIDER: Provider = Provider {
    name: "aws",
    namespace: "Aws",
    about: "Snapshot the AWS account(s) of the current credentials (IAM, credential report, MFA)",
    scope_noun: "account",
    owns: owns_by_prefix_or_arn,
    scaffold: Scaffold {
        resource: "Aws::IamUser",
        criteria: "CC6.1",
        example: Some(ScaffoldExample {
            summary: "People sign in to the console; programs use roles, not a person's keys.",
            title: "IAM users who sign in to the console have no access keys",
            remediation: "Delete the user's access keys and give the program that used them a role of its own.",
            severity: "medium",
            applies: Some((
                "resource has consoleAccess && resource.consoleAccess",
                r#"{"consoleAccess": true}"#,
                r#"{"consoleAccess": false}"#,
            )),
            attr: "activeAccessKeys",
            requirement: "resource.activeAccessKeys == 0",
            good: "0",
            bad: "1",
        }),
    },
    params: &PARAMS,
    options: AwsOptions::augment_args,
    collect: collect_from_matches,
};

/// The thresholds of the AWS rules (`[params]` in trustcheck.toml).
static PARAMS: [Param; 4] = [
    Param {
        name: "awsCredentialUnusedDays",
        kind: ParamKind::Days,
        default: 45,
        doc: "days a console password or active access key may go unused (CIS AWS Foundations 1.12 since v1.4, Security Hub IAM.22: 45)",
    },
    Param {
        name: "awsAccessKeyMaxAgeDays",
        kind: ParamKind::Days,
        default: 90,
        doc: "days before an active access key must be rotated (CIS AWS Foundations 1.14: 90)",
    },
    Param {
        name: "awsRoleUnusedDays",
        kind: ParamKind::Days,
        default: 90,
        doc: "days a role (not service-linked) may go unused before it should be removed",
    },
    Param {
        name: "awsAdminSessionMaxHours",
        kind: ParamKind::Hours,
        default: 4,
        doc: "hours an IAM Identity Center session of a full-admin permission set may last (AWS's default is 1, its maximum 12; 4 keeps an admin session within half a working day)",
    },
];

/// What to do about a malformed `--sensitive-action`.
const SENSITIVE_ACTION_HELP: &str = "give `service:Action` as IAM spells it (`iam:PassRole`), or a prefix ending in `*` (`ssm:Send*`, `kms:*`)";

/// Where the AWS flags are listed in `--help`.
const HEADING: &str = "AWS collection";

/// AWS collection options.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsOptions {
    /// Assume this role and read its account instead of the current credentials' account;
    /// repeatable (one account each), e.g. `arn:aws:iam::123456789012:role/trustcheck-audit`.
    #[arg(long = "assume-role", value_name = "ARN", help_heading = HEADING)]
    pub assume_role: Vec<String>,

    /// Assume the role of this name in each of --accounts, or in each account of --organization.
    #[arg(long = "role-name", value_name = "NAME", help_heading = HEADING)]
    pub role_name: Option<String>,

    /// Read every active account of the caller's AWS Organization (organizations:ListAccounts,
    /// from the management account or a delegated administrator) through --role-name; the
    /// caller's own account is read with the caller's credentials.
    #[arg(
        long = "organization",
        requires = "role_name",
        conflicts_with = "accounts",
        help_heading = HEADING
    )]
    pub organization: bool,

    /// Accounts read at the same time (`--concurrency` is GitHub's: requests in flight).
    #[arg(
        id = "aws_concurrency",
        long = "aws-concurrency",
        value_name = "N",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..),
        help_heading = HEADING
    )]
    pub concurrency: u16,

    /// Account ids to read through --role-name (comma-separated).
    #[arg(
        long = "accounts",
        value_name = "ID,ID",
        value_delimiter = ',',
        requires = "role_name",
        help_heading = HEADING
    )]
    pub accounts: Vec<String>,

    /// External id to pass when assuming roles.
    #[arg(long = "external-id", value_name = "ID", help_heading = HEADING)]
    pub external_id: Option<String>,

    /// Region for the STS and IAM endpoints (IAM is global). Default: `AWS_REGION` or the
    /// profile's region, else us-east-1.
    #[arg(long = "aws-region", value_name = "REGION", help_heading = HEADING)]
    pub region: Option<String>,

    /// Send AWS requests to this endpoint (an emulator, a VPC endpoint). Default: `AWS_ENDPOINT_URL`.
    #[arg(long = "aws-endpoint-url", value_name = "URL", help_heading = HEADING)]
    pub endpoint_url: Option<String>,

    /// Attempts per AWS request, first try included (adaptive retry on throttling and 5xx).
    #[arg(long = "aws-max-attempts", value_name = "N", default_value_t = 8, help_heading = HEADING)]
    pub max_attempts: u32,

    /// An action to add to the shipped list of sensitive actions that policy statements are
    /// resolved against (`sensitiveActionsAllowed`): `service:Action` (`s3:PutBucketPolicy`), or
    /// a prefix ending in `*` for every action it starts (`ssm:Send*`, `secretsmanager:*`);
    /// repeatable or comma-separated. In trustcheck.toml: `[collect.aws] sensitive-action = [...]`.
    #[arg(
        long = "sensitive-action",
        visible_alias = "sensitive-actions",
        value_name = "SERVICE:ACTION",
        value_delimiter = ',',
        value_parser = parse_sensitive_action,
        help_heading = HEADING
    )]
    pub sensitive_actions: Vec<String>,

    /// Also read IAM Identity Center (sso-admin, identitystore): permission sets, who is assigned
    /// which in which account, users and groups. Read once, with the first account's
    /// credentials, in --aws-region, which must be the Identity Center's region; run it from
    /// the management account or Identity Center's delegated administrator.
    #[arg(long = "identity-center", help_heading = HEADING)]
    pub identity_center: bool,

    /// Seconds to wait for AWS to generate the credential report before recording its facts as
    /// unknown.
    #[arg(
        long = "aws-report-timeout",
        value_name = "SECONDS",
        default_value_t = 120,
        help_heading = HEADING
    )]
    pub report_timeout: u64,
}

impl AwsOptions {
    /// The accounts to read, without duplicates (each account once, or its entities would clash):
    /// those of `organization` when `--organization` listed them.
    pub fn targets(
        &self,
        partition: &str,
        organization: Option<&Organization>,
    ) -> Result<Vec<Target>, CollectError> {
        let mut arns: Vec<String> = self.assume_role.clone();
        let mut current = false;
        if self.role_name.is_some() && self.accounts.is_empty() && organization.is_none() {
            return Err(CollectError::new("--role-name needs --accounts or --organization")
                .with_help("name the accounts (`--accounts 123456789012,210987654321`) or read the whole organisation (`--organization`)"));
        }
        if let Some(name) = &self.role_name {
            let name = name.trim_start_matches('/');
            if name.is_empty() || name.starts_with("arn:") {
                return Err(CollectError::new(format!("--role-name `{name}` is not a role name"))
                    .with_help("give the role's name (with its path, if any), not its ARN; use --assume-role for an ARN"));
            }
            for account in &self.accounts {
                let account = account.trim();
                if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(CollectError::new(format!(
                        "`{account}` is not a 12-digit AWS account id"
                    ))
                    .with_help("pass account ids to --accounts, comma-separated: `--accounts 123456789012,210987654321`"));
                }
                arns.push(role_arn(partition, account, name));
            }
            for account in organization
                .map(|o| o.active.as_slice())
                .unwrap_or_default()
            {
                if organization.is_some_and(|o| o.caller_account == *account) {
                    current = true;
                } else {
                    arns.push(role_arn(partition, account, name));
                }
            }
        }
        if arns.is_empty() {
            return Ok(vec![Target::Current]);
        }
        let mut seen = BTreeSet::new();
        Ok(current
            .then_some(Target::Current)
            .into_iter()
            .chain(
                arns.into_iter()
                    .filter(|a| seen.insert(a.clone()))
                    .map(Target::Role),
            )
            .collect())
    }
}

fn collect_from_matches(matches: &clap::ArgMatches, ui: Ui) -> Result<Snapshot, CollectError> {
    let options = AwsOptions::from_arg_matches(matches)
        .map_err(|e| CollectError::new(format!("AWS options: {e}")))?;
    collect_snapshot(&options, ui)
}

/// Collects the AWS account(s) of `args` into one snapshot.
pub fn collect_snapshot(args: &AwsOptions, ui: Ui) -> Result<Snapshot, CollectError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectError::new(format!("cannot start the AWS collector: {e}")))?;
    let started = Instant::now();
    let accounts = runtime.block_on(async {
        let base = crate::load_base_config(
            args.region.clone(),
            args.endpoint_url.clone(),
            args.max_attempts,
        )
        .await;
        let region = base
            .region()
            .map_or_else(|| DEFAULT_REGION.to_string(), |r| r.to_string());
        let organization = if args.organization {
            let org = crate::organization::list(&base).await?;
            ui.note(&format!(
                "AWS Organization: {} active accounts ({} ListAccounts calls)",
                org.active.len(),
                org.calls.get("ListAccounts").copied().unwrap_or_default()
            ));
            for (id, state) in &org.inactive {
                ui.note(&format!("aws {id}: not read, the account is {state}"));
            }
            Some(org)
        } else {
            None
        };
        let targets = args.targets(partition_of_region(&region), organization.as_ref())?;
        let what = match targets.as_slice() {
            [Target::Current] => "the current credentials' account".to_string(),
            [_] => "1 account".to_string(),
            many => format!("{} accounts", many.len()),
        };
        ui.note(&format!("collecting AWS IAM from {what} (region {region})"));
        let options = CollectOptions {
            targets,
            external_id: args.external_id.clone(),
            concurrency: usize::from(args.concurrency),
            fetch: FetchSettings {
                report_timeout: Duration::from_secs(args.report_timeout),
                ..FetchSettings::default()
            },
            sensitive_actions: SensitiveActions::with_extra(&args.sensitive_actions)
                .map_err(|e| CollectError::new(e).with_help(SENSITIVE_ACTION_HELP))?,
            identity_center: args.identity_center,
            ..CollectOptions::default()
        };
        let mut accounts = crate::collect(&base, &options).await?;
        // The organisation was listed from the caller's account: its calls count there.
        if let Some(org) = &organization {
            if let Some(home) = accounts
                .iter_mut()
                .find(|a| a.account_id == org.caller_account)
            {
                for (op, n) in &org.calls {
                    *home.calls_by_operation.entry(op.clone()).or_default() += n;
                    home.api_calls += n;
                }
            }
        }
        Ok::<_, CollectError>(accounts)
    })?;
    for a in &accounts {
        match (&a.identity, a.errors.first()) {
            // Nobody read the account (its role could not be assumed): every fact is unknown,
            // for one reason, which is said here rather than as a count.
            (None, Some(unread)) => ui.note(&format!(
                "aws {}: not read: {}",
                a.account_id, unread.reason
            )),
            _ => ui.note(&format!(
                "aws {}: {} entities, {} API calls, {} facts not collected",
                a.account_id,
                a.entities.len(),
                a.api_calls,
                a.errors.len()
            )),
        }
    }
    if let Some(first) = accounts.first().filter(|_| args.identity_center) {
        let count = |type_name: &str| {
            first
                .entities
                .iter()
                .filter(|e| e.uid.type_name == type_name)
                .count()
        };
        ui.note(&format!(
            "aws {}: IAM Identity Center: {} permission sets, {} account assignments, {} users, {} groups",
            first.account_id,
            count(crate::mapping::types::PERMISSION_SET),
            count(crate::mapping::types::ACCOUNT_ASSIGNMENT),
            count(crate::mapping::types::IDC_USER),
            count(crate::mapping::types::IDC_GROUP),
        ));
    }
    ui.note(&format!(
        "AWS collection took {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(to_snapshot(accounts))
}

/// One snapshot of all accounts; its time is the earliest account's start.
pub fn to_snapshot(accounts: Vec<AccountSnapshot>) -> Snapshot {
    let collected_at = accounts
        .iter()
        .map(|a| a.collected_at.clone())
        .min()
        .unwrap_or_else(|| timestamp::format(time::OffsetDateTime::now_utc()));
    let mut snapshot = Snapshot::new(collected_at);
    for account in accounts {
        let (source, entities) = account.into_source();
        snapshot.sources.push(source);
        snapshot.entities.extend(entities);
    }
    snapshot.normalize();
    snapshot
}

#[cfg(test)]
mod tests {
    use clap::Parser;

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
        assert_eq!(
            options(&[]).targets("aws", None).unwrap(),
            [Target::Current]
        );
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
            .targets("aws", None)
            .unwrap(),
            [
                Target::Role(arn.into()),
                Target::Role("arn:aws:iam::444455556666:role/audit".into())
            ],
            "the same account twice is read once"
        );
        let err = options(&["--role-name", "audit", "--accounts", "12345"])
            .targets("aws", None)
            .unwrap_err();
        assert_eq!(err.message, "`12345` is not a 12-digit AWS account id");
        assert!(options(&["--role-name", "audit"])
            .targets("aws", None)
            .is_err());
        assert!(Cli::try_parse_from(["t", "--organization"]).is_err());
        assert!(Cli::try_parse_from(["t", "--aws-concurrency", "0"]).is_err());
    }

    #[test]
    fn sensitive_actions_are_checked_when_parsed() {
        let parsed = options(&[
            "--sensitive-action",
            "s3:PutBucketPolicy",
            "--sensitive-actions",
            "ssm:Send*,secretsmanager:*",
        ]);
        assert_eq!(
            parsed.sensitive_actions,
            ["s3:PutBucketPolicy", "ssm:Send*", "secretsmanager:*"]
        );
        let err = Cli::try_parse_from(["t", "--sensitive-action", "iam:Pass*Role"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`iam:Pass*Role` is not a sensitive action"),
            "{err}"
        );
        assert!(Cli::try_parse_from(["t", "--sensitive-action", "PassRole"]).is_err());
        assert!(options(&[]).sensitive_actions.is_empty());
    }

    #[test]
    fn an_organization_becomes_the_caller_and_a_role_in_each_member() {
        let org = Organization {
            caller_account: "111111111111".into(),
            active: vec!["111111111111".into(), "222222222222".into()],
            ..Organization::default()
        };
        let targets = options(&["--organization", "--role-name", "audit"])
            .targets("aws", Some(&org))
            .unwrap();
        assert_eq!(
            targets,
            [
                Target::Current,
                Target::Role("arn:aws:iam::222222222222:role/audit".into())
            ]
        );
    }
}
