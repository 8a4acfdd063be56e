//! Google Workspace collector for trustcheck: the customer, every user with their 2-Step
//! Verification state, administrator flags, suspension and sign-in times, and the administrator
//! roles each user holds, as Cedar entities of the `Google::` namespace (`google.cedarschema`).
//!
//! Layout: [`auth`] turns a service account key into an access token (domain-wide delegation),
//! [`client`] talks HTTP within Google's limits, [`fetch`] gathers raw payloads ([`raw`]), and the
//! pure [`mapping`] turns them into entities. Facts that cannot be read are left absent and
//! recorded as [`trustcheck_snapshot::UncollectedFact`]s. [`provider::PROVIDER`] describes the
//! crate to the binary's registry.
//!
//! This crate must never judge (no pass/fail) and never depend on the engine; only
//! [`provider`] prints, and only progress on stderr.

pub mod auth;
pub mod client;
pub mod fetch;
pub mod mapping;
pub mod provider;
pub mod raw;

use std::sync::Arc;
use std::time::Duration;

pub use client::{NoProgress, Progress, RetryPolicy};
pub use provider::PROVIDER;
use trustcheck_snapshot::{CollectError, Snapshot, Source};

use crate::auth::ServiceAccountKey;
use crate::client::Client;

/// The public Admin SDK API root.
pub const DEFAULT_API_URL: &str = "https://admin.googleapis.com";

/// What to collect, from where, how.
#[derive(Debug, Clone)]
pub struct Config {
    /// API root, e.g. `https://admin.googleapis.com` (`/admin/directory/v1/…` lives under it).
    pub api_url: String,
    /// The service account key.
    pub key: ServiceAccountKey,
    /// The administrator the service account impersonates.
    pub admin_email: String,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Config {
    /// A configuration with the defaults (4 requests in flight, default retries, 30 s timeout).
    pub fn new(
        api_url: impl Into<String>,
        key: ServiceAccountKey,
        admin_email: impl Into<String>,
    ) -> Self {
        Self {
            api_url: api_url.into(),
            key,
            admin_email: admin_email.into(),
            concurrency: 4,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Collects one Workspace customer into a normalised snapshot taken at `started`.
///
/// Fails only when collection cannot start (bad URL, a key that does not sign, the token
/// refused); every fact that cannot be read is an uncollected fact in the snapshot.
pub async fn collect(
    config: &Config,
    started: time::OffsetDateTime,
    progress: Arc<dyn Progress>,
) -> Result<Snapshot, CollectError> {
    let url = config.api_url.trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(
            CollectError::new(format!("`{}` is not an http(s) API root", config.api_url))
                .with_help("use `https://admin.googleapis.com`, or your private endpoint's root"),
        );
    }
    let Some((_, fallback_domain)) = config.admin_email.split_once('@') else {
        return Err(
            CollectError::new(format!("`{}` is not an email address", config.admin_email))
                .with_help(
                "--admin-email names the Workspace administrator the service account impersonates",
            ),
        );
    };
    let http = client::http_client(config.timeout)
        .map_err(|e| CollectError::new(format!("cannot set up the HTTP client: {e}")))?;
    let token = auth::exchange(
        &http,
        &config.key,
        &config.admin_email,
        started.unix_timestamp(),
    )
    .await?;
    let client = Client::new(http, url, token, config.concurrency, config.retry, progress);
    let raw = fetch::fetch_directory(&client).await;
    let mapped = mapping::map_directory(&raw, fallback_domain);
    let collected_at = trustcheck_snapshot::utc::format_utc_seconds(started);
    let mut snapshot = Snapshot::new(collected_at.clone());
    let mut source = Source::new(PROVIDER.name, mapped.domain, collected_at);
    source.identity = Some(format!(
        "{} as {}",
        config.key.client_email, config.admin_email
    ));
    // The token exchange is a request too.
    source.api_calls = client.calls() + 1;
    source.errors = mapped.errors;
    snapshot.sources.push(source);
    snapshot.entities = mapped.entities;
    snapshot.normalize();
    Ok(snapshot)
}
