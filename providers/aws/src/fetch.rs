//! The async half of the collector: the IAM and STS calls, each made once per account (or once
//! per page), turned into [`crate::raw`] data.
//!
//! Every call's failure is kept as a [`ReadFailure`] next to the data it would have produced, so one
//! denied call never stops the others. Throttling and 5xx are retried by the SDK (adaptive retry
//! mode, configured in [`crate::collect`]); only the credential report's generation is polled here.
//! This module never interprets the data and never reads or returns a secret: the virtual MFA
//! seeds and QR codes that `ListVirtualMFADevices` can carry are dropped on the spot.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};
use aws_sdk_iam::types::{self as iam_types, AssignmentStatusType, ReportStateType};
use serde_json::Value;

use crate::raw::{self, Fetched, RawAccount, ReadFailure};

/// The IAM page size: the largest AWS accepts for these listings.
pub const PAGE_SIZE: i32 = 1000;

/// How the calls are made.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// How long to wait for AWS to generate the credential report before giving up on it.
    pub report_timeout: Duration,
    /// First wait between credential report polls (doubles, up to 4 s).
    pub report_poll: Duration,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            report_timeout: Duration::from_secs(120),
            report_poll: Duration::from_millis(500),
        }
    }
}

/// Requests per operation (one per page); retries are not counted here.
#[derive(Debug, Default)]
pub struct CallLog(Mutex<BTreeMap<String, u64>>);

impl CallLog {
    pub(crate) fn record(&self, operation: &str) {
        // A poisoned lock only means another task panicked mid-increment; the count is still usable.
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(operation.to_string()).or_default() += 1;
    }

    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Who the credentials belong to: `(account id, caller ARN)`.
pub async fn caller_identity(
    sts: &aws_sdk_sts::Client,
    log: &CallLog,
) -> Result<(String, String), ReadFailure> {
    const OP: &str = "GetCallerIdentity";
    log.record(OP);
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| call_error(OP, &e))?;
    match (out.account(), out.arn()) {
        (Some(account), Some(arn)) => Ok((account.to_string(), arn.to_string())),
        _ => Err(ReadFailure::new(OP, "the response has no account or ARN")),
    }
}

/// Reads one account: every IAM call at once (they are independent), each to completion.
pub async fn account(
    iam: &aws_sdk_iam::Client,
    account_id: &str,
    partition: &str,
    settings: &FetchSettings,
    log: &CallLog,
) -> RawAccount {
    let (
        aliases,
        authorization_details,
        credential_report,
        account_summary,
        password_policy,
        virtual_mfa_devices,
    ) = tokio::join!(
        aliases(iam, log),
        authorization_details(iam, log),
        credential_report(iam, settings, log),
        account_summary(iam, log),
        password_policy(iam, log),
        virtual_mfa_devices(iam, log),
    );
    RawAccount {
        account_id: account_id.to_string(),
        partition: partition.to_string(),
        aliases,
        authorization_details,
        credential_report,
        account_summary,
        password_policy,
        virtual_mfa_devices,
    }
}

/// What AWS said, in one line: `AccessDenied: User … is not authorized …`, or the transport
/// failure (timeout, connection refused, expired credentials) with its causes.
pub fn call_error<E, R>(operation: &str, err: &SdkError<E, R>) -> ReadFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let reason = match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                _ => DisplayErrorContext(err).to_string(),
            }
        }
        _ => std::error::Error::source(err)
            .and_then(assume_role_refusal)
            .unwrap_or_else(|| DisplayErrorContext(err).to_string()),
    };
    ReadFailure::new(operation, reason)
}

/// STS's answer, in one line, when a call failed because its credentials could not be loaded: the
/// credentials provider's `AssumeRole` was refused (`AccessDenied: User … is not authorized to
/// perform: sts:AssumeRole …`). The SDK buries it in the dispatch failure's causes, with the raw
/// response beside it; `None` when no cause is such a refusal.
pub(crate) fn assume_role_refusal(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut next = Some(cause);
    while let Some(e) = next {
        if let Some(SdkError::ServiceError(refused)) =
            e.downcast_ref::<aws_sdk_sts::error::SdkError<AssumeRoleError>>()
        {
            let refused = refused.err();
            return Some(match (refused.code(), refused.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                _ => DisplayErrorContext(refused).to_string(),
            });
        }
        next = e.source();
    }
    None
}

async fn aliases(iam: &aws_sdk_iam::Client, log: &CallLog) -> Fetched<Vec<String>> {
    const OP: &str = "ListAccountAliases";
    log.record(OP);
    // An account has at most one alias, so one page is all there is.
    let out = iam
        .list_account_aliases()
        .send()
        .await
        .map_err(|e| call_error(OP, &e))?;
    Ok(out.account_aliases().to_vec())
}

async fn authorization_details(
    iam: &aws_sdk_iam::Client,
    log: &CallLog,
) -> Fetched<raw::AuthorizationDetails> {
    const OP: &str = "GetAccountAuthorizationDetails";
    let mut pages = iam
        .get_account_authorization_details()
        .max_items(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut details = raw::AuthorizationDetails::default();
    while let Some(page) = pages.next().await {
        log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        details
            .user_detail_list
            .extend(page.user_detail_list().iter().map(user));
        details
            .group_detail_list
            .extend(page.group_detail_list().iter().map(group));
        details
            .role_detail_list
            .extend(page.role_detail_list().iter().map(role));
        details
            .policies
            .extend(page.policies().iter().map(managed_policy));
    }
    Ok(details)
}

async fn credential_report(
    iam: &aws_sdk_iam::Client,
    settings: &FetchSettings,
    log: &CallLog,
) -> Fetched<raw::CredentialReport> {
    const GENERATE: &str = "GenerateCredentialReport";
    const GET: &str = "GetCredentialReport";
    let deadline = Instant::now() + settings.report_timeout;
    let mut wait = settings.report_poll;
    loop {
        log.record(GENERATE);
        match iam.generate_credential_report().send().await {
            Ok(out) if out.state() == Some(&ReportStateType::Complete) => break,
            Ok(_) => {}
            // AWS limits how often a report may be generated; waiting is the remedy.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_limit_exceeded_exception()) => {}
            Err(e) => return Err(call_error(GENERATE, &e)),
        }
        if Instant::now() + wait > deadline {
            return Err(ReadFailure::new(
                GENERATE,
                format!(
                    "the report was not ready within {} s",
                    settings.report_timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(4));
    }
    log.record(GET);
    let out = iam
        .get_credential_report()
        .send()
        .await
        .map_err(|e| call_error(GET, &e))?;
    let content = out
        .content()
        .map(|blob| String::from_utf8_lossy(blob.as_ref()).into_owned())
        .ok_or_else(|| ReadFailure::new(GET, "the response has no report content"))?;
    Ok(raw::CredentialReport {
        generated_time: out.generated_time().and_then(time_string),
        content,
    })
}

async fn account_summary(
    iam: &aws_sdk_iam::Client,
    log: &CallLog,
) -> Fetched<BTreeMap<String, i64>> {
    const OP: &str = "GetAccountSummary";
    log.record(OP);
    let out = iam
        .get_account_summary()
        .send()
        .await
        .map_err(|e| call_error(OP, &e))?;
    Ok(out
        .summary_map()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().to_string(), i64::from(*v)))
                .collect()
        })
        .unwrap_or_default())
}

async fn password_policy(
    iam: &aws_sdk_iam::Client,
    log: &CallLog,
) -> Fetched<Option<raw::PasswordPolicy>> {
    const OP: &str = "GetAccountPasswordPolicy";
    log.record(OP);
    match iam.get_account_password_policy().send().await {
        Ok(out) => Ok(out.password_policy().map(|p| raw::PasswordPolicy {
            minimum_password_length: p.minimum_password_length().map(i64::from),
            require_symbols: p.require_symbols(),
            require_numbers: p.require_numbers(),
            require_uppercase_characters: p.require_uppercase_characters(),
            require_lowercase_characters: p.require_lowercase_characters(),
            allow_users_to_change_password: p.allow_users_to_change_password(),
            max_password_age: p.max_password_age().map(i64::from),
            password_reuse_prevention: p.password_reuse_prevention().map(i64::from),
        })),
        // NoSuchEntity is AWS's way of saying the account has no password policy: a fact.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(call_error(OP, &e)),
    }
}

async fn virtual_mfa_devices(
    iam: &aws_sdk_iam::Client,
    log: &CallLog,
) -> Fetched<Vec<raw::VirtualMfaDevice>> {
    const OP: &str = "ListVirtualMFADevices";
    let mut pages = iam
        .list_virtual_mfa_devices()
        .assignment_status(AssignmentStatusType::Assigned)
        .max_items(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut devices = Vec::new();
    while let Some(page) = pages.next().await {
        log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        devices.extend(
            page.virtual_mfa_devices()
                .iter()
                .map(|d| raw::VirtualMfaDevice {
                    serial_number: d.serial_number().to_string(),
                    user: d.user().map(|u| raw::MfaDeviceUser {
                        arn: u.arn().to_string(),
                    }),
                }),
        );
    }
    Ok(devices)
}

fn time_string(t: &DateTime) -> Option<String> {
    t.fmt(DateTimeFormat::DateTime).ok()
}

fn time_or_empty(t: Option<&DateTime>) -> String {
    // An empty string is not a timestamp: the mapping reports the entity as unreadable.
    t.and_then(time_string).unwrap_or_default()
}

fn document(text: Option<&str>) -> Option<Value> {
    text.map(|t| Value::String(t.to_string()))
}

fn inline(p: &iam_types::PolicyDetail) -> raw::InlinePolicy {
    raw::InlinePolicy {
        policy_name: p.policy_name().unwrap_or_default().to_string(),
        policy_document: document(p.policy_document()),
    }
}

fn attached(p: &iam_types::AttachedPolicy) -> raw::AttachedPolicy {
    raw::AttachedPolicy {
        policy_name: p.policy_name().map(str::to_string),
        policy_arn: p.policy_arn().unwrap_or_default().to_string(),
    }
}

fn user(u: &iam_types::UserDetail) -> raw::UserDetail {
    raw::UserDetail {
        path: u.path().map(str::to_string),
        user_name: u.user_name().unwrap_or_default().to_string(),
        arn: u.arn().unwrap_or_default().to_string(),
        create_date: time_or_empty(u.create_date()),
        user_policy_list: u.user_policy_list().iter().map(inline).collect(),
        group_list: u.group_list().to_vec(),
        attached_managed_policies: u.attached_managed_policies().iter().map(attached).collect(),
    }
}

fn group(g: &iam_types::GroupDetail) -> raw::GroupDetail {
    raw::GroupDetail {
        path: g.path().map(str::to_string),
        group_name: g.group_name().unwrap_or_default().to_string(),
        arn: g.arn().unwrap_or_default().to_string(),
        create_date: g.create_date().and_then(time_string),
        group_policy_list: g.group_policy_list().iter().map(inline).collect(),
        attached_managed_policies: g.attached_managed_policies().iter().map(attached).collect(),
    }
}

fn role(r: &iam_types::RoleDetail) -> raw::RoleDetail {
    raw::RoleDetail {
        path: r.path().map(str::to_string),
        role_name: r.role_name().unwrap_or_default().to_string(),
        arn: r.arn().unwrap_or_default().to_string(),
        create_date: time_or_empty(r.create_date()),
        assume_role_policy_document: document(r.assume_role_policy_document()),
        role_policy_list: r.role_policy_list().iter().map(inline).collect(),
        attached_managed_policies: r.attached_managed_policies().iter().map(attached).collect(),
        role_last_used: r.role_last_used().map(|u| raw::RoleLastUsed {
            last_used_date: u.last_used_date().and_then(time_string),
            region: u.region().map(str::to_string),
        }),
    }
}

fn managed_policy(p: &iam_types::ManagedPolicyDetail) -> raw::ManagedPolicyDetail {
    raw::ManagedPolicyDetail {
        policy_name: p.policy_name().unwrap_or_default().to_string(),
        arn: p.arn().unwrap_or_default().to_string(),
        path: p.path().map(str::to_string),
        default_version_id: p.default_version_id().map(str::to_string),
        attachment_count: p.attachment_count().map(i64::from).unwrap_or_default(),
        policy_version_list: p
            .policy_version_list()
            .iter()
            .map(|v| raw::PolicyVersion {
                document: document(v.document()),
                version_id: v.version_id().map(str::to_string),
                is_default_version: v.is_default_version(),
            })
            .collect(),
    }
}
