//! Collecting one or more accounts: credentials and clients per account (the current
//! credentials, or a role assumed through STS), bounded concurrency across accounts, and the
//! wrapping of each account's entities into an [`AccountSnapshot`].
//!
//! The only failure that stops a run is not knowing who the current credentials belong to
//! (`sts:GetCallerIdentity`, which IAM cannot deny, failed: there are no usable credentials). A
//! role that cannot be assumed becomes an account whose every fact is recorded as unknown.

use std::sync::Arc;
use std::time::Duration;

use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::ProvideCredentials;
use aws_sdk_iam::config::SharedCredentialsProvider;
use aws_sdk_iam::error::DisplayErrorContext;
use trustcheck_snapshot::CollectError;

use crate::account::AccountSnapshot;
use crate::api_calls::ApiCallCounter;
use crate::fetch::{self, CallLog, FetchSettings};
use crate::identity_center::RawIdentityCenter;
use crate::mapping;
use crate::raw::{RawAccount, ReadFailure};
use crate::statements::SensitiveActions;
use crate::timestamp;

/// IAM is a global service; its endpoint lives in us-east-1 (for the `aws` partition).
pub const DEFAULT_REGION: &str = "us-east-1";

/// Which account to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The account of the current credentials.
    Current,
    /// The account of this role, assumed with the current credentials.
    Role(String),
}

/// What to collect, and how.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Accounts to read, in order; results come back in the same order.
    pub targets: Vec<Target>,
    /// External id to pass to `sts:AssumeRole`.
    pub external_id: Option<String>,
    /// Role session name (shows up in the audited account's CloudTrail).
    pub session_name: String,
    /// How many accounts are read at once.
    pub concurrency: usize,
    /// Credential report polling.
    pub fetch: FetchSettings,
    /// What policy statements' sensitive actions are resolved against.
    pub sensitive_actions: SensitiveActions,
    /// Read IAM Identity Center (permission sets, assignments, users, groups) once, through the
    /// first target's credentials, into that account's snapshot.
    pub identity_center: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        Self {
            targets: vec![Target::Current],
            external_id: None,
            session_name: "trustcheck".to_string(),
            concurrency: 4,
            fetch: FetchSettings::default(),
            sensitive_actions: SensitiveActions::default(),
            identity_center: false,
        }
    }
}

/// The current credentials could not be identified (missing, expired or invalid).
fn identity_error(reason: &str) -> CollectError {
    CollectError::new(format!("cannot identify the AWS credentials: {reason}")).with_help(
        "configure AWS credentials: environment variables, `AWS_PROFILE`, SSO (`aws sso login`), or web identity (OIDC) in GitHub Actions; see providers/aws/README.md",
    )
}

/// A role ARN that is not an IAM role ARN.
fn role_arn_error(arn: &str) -> CollectError {
    CollectError::new(format!(
        "`{arn}` is not an IAM role ARN (expected `arn:aws:iam::<12-digit account id>:role/<name>`)"
    ))
    .with_help("pass a role ARN such as `arn:aws:iam::123456789012:role/trustcheck-audit`")
}

/// The base SDK configuration: the standard credential chain (environment, profile, SSO, web
/// identity, container, instance metadata), the region (`region`, else the standard chain, else
/// us-east-1), adaptive retries and bounded timeouts. `AWS_ENDPOINT_URL` is honoured by the SDK;
/// `endpoint_url` overrides it.
pub async fn load_base_config(
    region: Option<String>,
    endpoint_url: Option<String>,
    max_attempts: u32,
) -> SdkConfig {
    let http_client = https_client();
    // The standard region chain (environment, profile, instance metadata), spelled out because
    // `or_default_provider()` would build its IMDS client without an HTTP client (none is
    // compiled in: the SDK crates' `default-https-client` feature is off).
    let imds = ImdsRegionProvider::builder()
        .configure(&ProviderConfig::default().with_http_client(http_client.clone()))
        .build();
    let region = RegionProviderChain::first_try(region.map(Region::new))
        .or_else(EnvironmentVariableRegionProvider::new())
        .or_else(ProfileFileRegionProvider::new())
        .or_else(imds)
        .or_else(Region::from_static(DEFAULT_REGION));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .region(region)
        // Adaptive mode also slows the client down when IAM throttles, instead of only retrying.
        .retry_config(RetryConfig::adaptive().with_max_attempts(max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                // A 1,000-item authorization details page with documents can take a while.
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        );
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The SDK's default hyper 1.x HTTPS client, with rustls on `ring` instead of aws-lc (the crates'
/// `default-https-client` feature would compile aws-lc-sys). Built like
/// `aws_smithy_runtime::client::http::default_https_client`: connect/read timeouts and the sleep
/// come from the SDK at request time, and `HTTP(S)_PROXY`/`NO_PROXY` are honoured. Plain `http://`
/// endpoints (`AWS_ENDPOINT_URL`, moto) still work: the connector does not force HTTPS. It is used
/// by every client of the returned config, including the SSO, SSO-OIDC and STS (web identity,
/// assume role) clients of the credential chain.
fn https_client() -> aws_sdk_iam::config::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{Builder, Connector};

    Builder::new().build_with_connector_fn(|settings, runtime_components| {
        let mut connector = Connector::builder().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The ARN partition of a region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else `aws`.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// `arn:<partition>:iam::<account>:role/<name>`.
pub fn role_arn(partition: &str, account_id: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:role/{role_name}")
}

/// `(partition, account id)` of a role ARN.
pub fn parse_role_arn(arn: &str) -> Result<(String, String), CollectError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.starts_with("role/")
                && resource.len() > "role/".len() =>
        {
            Ok((partition.to_string(), account.to_string()))
        }
        _ => Err(role_arn_error(arn)),
    }
}

/// Collects every target, at most `concurrency` at a time; results in target order.
pub async fn collect(
    base: &SdkConfig,
    options: &CollectOptions,
) -> Result<Vec<AccountSnapshot>, CollectError> {
    // Reject bad ARNs before any call is made.
    for target in &options.targets {
        if let Target::Role(arn) = target {
            parse_role_arn(arn)?;
        }
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut tasks = Vec::new();
    for (index, target) in options.targets.clone().into_iter().enumerate() {
        let base = base.clone();
        let options = options.clone();
        let permits = Arc::clone(&permits);
        // Identity Center is organisation-wide: read once, in the first account (the caller's
        // own when it is read).
        let identity_center = options.identity_center && index == 0;
        tasks.push(tokio::spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = permits.acquire_owned().await;
            collect_one(&base, &target, &options, identity_center).await
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    let mut identity_center = None;
    for task in tasks {
        let (account, idc) = task
            .await
            .map_err(|e| CollectError::new(format!("collection task failed: {e}")))??;
        identity_center = identity_center.or(idc);
        out.push(account);
    }
    // Mapped once every account is read: a permission set's customer-managed policies are
    // judged in the accounts they live in, when those were read in this run.
    if let Some(raw) = identity_center {
        let policies = crate::identity_center::resolve::CustomerPolicies::of(&out);
        let mapped = crate::identity_center::mapping::map_with(&raw, &|account, policy| {
            policies.grants_full_admin(&raw.partition, account, policy)
        });
        if let Some(first) = out.first_mut() {
            add_to(first, mapped);
        }
    }
    Ok(out)
}

async fn collect_one(
    base: &SdkConfig,
    target: &Target,
    options: &CollectOptions,
    identity_center: bool,
) -> Result<(AccountSnapshot, Option<RawIdentityCenter>), CollectError> {
    let started = timestamp::format(time::OffsetDateTime::now_utc());
    let counter = ApiCallCounter::default();
    let log = CallLog::default();
    let (config, role) = match target {
        Target::Current => (base.clone(), None),
        Target::Role(arn) => {
            let mut builder = AssumeRoleProvider::builder(arn.clone())
                .session_name(options.session_name.clone())
                .configure(base);
            if let Some(id) = &options.external_id {
                builder = builder.external_id(id.clone());
            }
            let provider = builder.build().await;
            // Assumed once, here. Handing the provider itself to the clients let accounts read
            // at the same time assume their role twice now and then (the organisation
            // benchmark's proxy counted them), calls no count here could see. The session (an
            // hour) outlasts an account's collection, which the report timeout bounds.
            match provider.provide_credentials().await {
                Ok(credentials) => {
                    let config = base
                        .to_builder()
                        .credentials_provider(SharedCredentialsProvider::new(credentials))
                        .build();
                    (config, Some(arn.as_str()))
                }
                Err(e) => {
                    // Validated in `collect`.
                    let (partition, account_id) = parse_role_arn(arn)?;
                    let reason = fetch::assume_role_refusal(&e)
                        .unwrap_or_else(|| DisplayErrorContext(&e).to_string());
                    let failed = ReadFailure::new(
                        "AssumeRole",
                        format!("role `{arn}` could not be assumed: {reason}"),
                    );
                    let raw = unreadable(&account_id, &partition, &failed);
                    let mapped = mapping::map_account_with(&raw, &options.sensitive_actions);
                    let idc = identity_center.then(|| RawIdentityCenter {
                        account_id: account_id.clone(),
                        partition: partition.clone(),
                        region: region_of(base),
                        instances: Err(failed.clone()),
                    });
                    return Ok((
                        AccountSnapshot {
                            account_id,
                            identity: None,
                            collected_at: started,
                            api_calls: 1,
                            calls_by_operation: [("AssumeRole".to_string(), 1)].into(),
                            entities: mapped.entities,
                            errors: mapped.errors,
                        },
                        idc,
                    ));
                }
            }
        }
    };
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&config)
            .interceptor(counter.clone())
            .build(),
    );
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&config)
            .interceptor(counter.clone())
            .build(),
    );

    let identity = fetch::caller_identity(&sts, &log).await;
    let idc_log = Arc::new(CallLog::default());
    let mut idc = None;
    let (raw, identity) = match (identity, role) {
        (Ok((account_id, caller)), _) => {
            let partition = caller.split(':').nth(1).unwrap_or("aws").to_string();
            let iam_read = fetch::account(&iam, &account_id, &partition, &options.fetch, &log);
            let raw = if identity_center {
                let idc_read = crate::identity_center::fetch::identity_center(
                    &config,
                    &account_id,
                    &partition,
                    &counter,
                    Arc::clone(&idc_log),
                    options.concurrency,
                );
                let (raw, read) = tokio::join!(iam_read, idc_read);
                idc = Some(read);
                raw
            } else {
                iam_read.await
            };
            (raw, Some(caller))
        }
        (Err(e), None) => return Err(identity_error(&e.to_string())),
        (Err(e), Some(arn)) => {
            // Validated in `collect`.
            let (partition, account_id) = parse_role_arn(arn)?;
            let failed = ReadFailure::new(
                "GetCallerIdentity",
                format!(
                    "role `{arn}` was assumed but its session could not be used: {}",
                    e.reason
                ),
            );
            if identity_center {
                idc = Some(RawIdentityCenter {
                    account_id: account_id.clone(),
                    partition: partition.clone(),
                    region: region_of(base),
                    instances: Err(failed.clone()),
                });
            }
            (unreadable(&account_id, &partition, &failed), None)
        }
    };
    let mapped = mapping::map_account_with(&raw, &options.sensitive_actions);
    let mut calls_by_operation = log.snapshot();
    for (op, n) in idc_log.snapshot() {
        *calls_by_operation.entry(op).or_default() += n;
    }
    let mut api_calls = counter.get();
    if role.is_some() {
        // AssumeRole goes through the credentials provider's own STS client, which the counter
        // does not see: one call per account (retries, if any, not counted).
        *calls_by_operation
            .entry("AssumeRole".to_string())
            .or_default() += 1;
        api_calls += 1;
    }
    Ok((
        AccountSnapshot {
            account_id: raw.account_id,
            identity,
            collected_at: started,
            api_calls,
            calls_by_operation,
            entities: mapped.entities,
            errors: mapped.errors,
        },
        idc,
    ))
}

/// The region of `config`, or IAM's default.
fn region_of(config: &SdkConfig) -> String {
    config
        .region()
        .map_or_else(|| DEFAULT_REGION.to_string(), |r| r.to_string())
}

/// `extra`'s entities and unknown facts added to `account`'s, both kept sorted.
fn add_to(account: &mut AccountSnapshot, extra: mapping::Mapped) {
    account.entities.extend(extra.entities);
    account.entities.sort_by(|a, b| a.uid.cmp(&b.uid));
    account.errors.extend(extra.errors);
    account.errors.sort();
    account.errors.dedup();
}

/// An account none of whose calls could be made: every fact and list is recorded as unknown.
fn unreadable(account_id: &str, partition: &str, e: &ReadFailure) -> RawAccount {
    RawAccount {
        account_id: account_id.to_string(),
        partition: partition.to_string(),
        aliases: Err(e.clone()),
        authorization_details: Err(e.clone()),
        credential_report: Err(e.clone()),
        account_summary: Err(e.clone()),
        password_policy: Err(e.clone()),
        virtual_mfa_devices: Err(e.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_are_checked() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/audit").unwrap(),
            ("aws".to_string(), "123456789012".to_string())
        );
        assert_eq!(
            parse_role_arn("arn:aws-us-gov:iam::123456789012:role/path/audit")
                .unwrap()
                .0,
            "aws-us-gov"
        );
        for bad in [
            "audit",
            "arn:aws:iam::12345:role/audit",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:sts::123456789012:role/audit",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(parse_role_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partitions_follow_regions() {
        assert_eq!(partition_of_region("eu-west-1"), "aws");
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(
            role_arn("aws", "123456789012", "audit"),
            "arn:aws:iam::123456789012:role/audit"
        );
    }

    #[test]
    fn an_unusable_role_leaves_every_fact_unknown() {
        let raw = unreadable(
            "123456789012",
            "aws",
            &ReadFailure::new("AssumeRole", "AccessDenied"),
        );
        let m = mapping::map_account(&raw);
        assert_eq!(m.entities.len(), 1, "only the account itself");
        for pattern in [
            "user/*",
            "group/*",
            "role/*",
            "policy/*",
            "user/*/access-key/*",
        ] {
            let id = format!("arn:aws:iam::123456789012:{pattern}");
            assert!(m.errors.iter().any(|e| e.entity.id == id), "{pattern}");
        }
        assert!(m.errors.iter().all(|e| e.reason.contains("AssumeRole")));
    }
}
