//! `collect aws --organization`: the member accounts of the caller's AWS Organization
//! (`organizations:ListAccounts`, from the management account or a delegated administrator), to
//! be read through `--role-name` in each.
//!
//! The caller's own account is read with the caller's credentials (a management account rarely
//! holds the audit role its members do). Accounts that are not active (suspended, closing) cannot
//! be assumed and hold nothing to judge: they are listed on stderr, never silently dropped.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use trustcheck_snapshot::CollectError;

use crate::fetch::{self, CallLog};

/// The accounts of an organisation, as ListAccounts returned them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    /// The caller's account (read with the caller's credentials).
    pub caller_account: String,
    /// Active accounts, the caller's included, sorted.
    pub active: Vec<String>,
    /// Accounts that are not active, with their status, sorted.
    pub inactive: Vec<(String, String)>,
    /// Calls made, by operation: GetCallerIdentity and every ListAccounts page.
    pub calls: BTreeMap<String, u64>,
}

/// Lists the organisation's accounts: one GetCallerIdentity, then one ListAccounts call per 20
/// accounts (the API's page size).
pub async fn list(base: &SdkConfig) -> Result<Organization, CollectError> {
    let calls = CallLog::default();
    let sts = aws_sdk_sts::Client::new(base);
    let (caller_account, _) = fetch::caller_identity(&sts, &calls)
        .await
        .map_err(|e| CollectError::new(format!("cannot identify the AWS credentials: {e}")))?;
    let client = aws_sdk_organizations::Client::new(base);
    let mut active = Vec::new();
    let mut inactive = Vec::new();
    let mut token: Option<String> = None;
    loop {
        calls.record("ListAccounts");
        let page = client
            .list_accounts()
            .set_next_token(token.clone())
            .max_results(20)
            .send()
            .await
            .map_err(|e| {
                CollectError::new(format!(
                    "cannot list the organisation's accounts: ListAccounts: {}",
                    aws_sdk_organizations::error::DisplayErrorContext(&e)
                ))
                .with_help(
                    "run from the management account or a delegated administrator with `organizations:ListAccounts` (providers/aws/README.md), or name the accounts with --accounts",
                )
            })?;
        for account in page.accounts() {
            let Some(id) = account.id() else { continue };
            // `State` replaces the deprecated `Status`; either says whether it is active.
            let state = account
                .state()
                .map(|s| s.as_str().to_string())
                .or_else(|| account.status().map(|s| s.as_str().to_string()))
                .unwrap_or_else(|| "ACTIVE".to_string());
            if state == "ACTIVE" {
                active.push(id.to_string());
            } else {
                inactive.push((id.to_string(), state));
            }
        }
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    active.sort();
    active.dedup();
    inactive.sort();
    Ok(Organization {
        caller_account,
        active,
        inactive,
        calls: calls.snapshot(),
    })
}
