//! Okta collector for trustcheck: every user (DEPROVISIONED ones included) with their status,
//! creation and last sign-in, the factors they have enrolled and activated, and the admin roles
//! they hold, and the global session (with their rules) and authenticator enrollment policies, as
//! Cedar entities of the `Okta::` namespace (`okta.cedarschema`).
//!
//! Layout: [`client`] talks HTTP within Okta's rate limits, [`fetch`] gathers raw payloads
//! ([`raw`]), and the pure [`mapping`] turns them into entities. Facts that cannot be read are
//! left absent and recorded as [`trustcheck_snapshot::UncollectedFact`]s.
//! [`provider::PROVIDER`] describes the crate to the binary's registry.
//!
//! This crate must never judge (no pass/fail) and never depend on the engine; only
//! [`provider`] prints, and only progress on stderr. The API token is never printed or stored.

pub mod client;
pub mod fetch;
pub mod mapping;
pub mod oauth;
pub mod provider;
pub mod raw;

use std::sync::Arc;
use std::time::Duration;

pub use client::{ApiToken, NoProgress, Progress, RetryPolicy};
pub use oauth::ServiceApp;
pub use provider::PROVIDER;
use trustcheck_snapshot::{CollectError, Snapshot, Source};

use crate::client::Client;

/// What to collect, from where, how.
#[derive(Debug, Clone)]
pub struct Config {
    /// The org's base URL, `https://acme.okta.com` (any `http(s)://host:port`).
    pub org_url: String,
    /// How requests are authorised.
    pub credentials: Credentials,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Config {
    /// A configuration with the defaults (4 requests in flight, default retries, 30 s timeout).
    pub fn new(org_url: impl Into<String>, token: ApiToken) -> Self {
        Self {
            org_url: org_url.into(),
            credentials: Credentials::ApiToken(token),
            concurrency: 4,
            retry: client::default_retry(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// How requests are authorised.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// An API token (`SSWS`).
    ApiToken(ApiToken),
    /// An API service app, exchanged for a Bearer token first.
    ServiceApp(ServiceApp),
}

impl Config {
    /// A configuration authorised by an API service app, with the defaults of [`Config::new`].
    pub fn with_service_app(org_url: impl Into<String>, app: ServiceApp) -> Self {
        let mut config = Self::new(org_url, ApiToken::new(String::new()));
        config.credentials = Credentials::ServiceApp(app);
        config
    }
}

/// The org URL's origin (`https://host:port`) and host (`host` or `host:port`), or why not.
pub fn origin_and_host(org_url: &str) -> Result<(String, String), CollectError> {
    let bad = || {
        CollectError::new(format!("`{org_url}` is not an Okta org URL"))
            .with_help("use the org's base URL, like `https://acme.okta.com` (no path)")
    };
    let trimmed = org_url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(bad)?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return Err(bad());
    }
    Ok((trimmed.to_string(), rest.to_string()))
}

/// Collects one Okta org into a normalised snapshot taken at `started`.
///
/// Fails only when collection cannot start (a bad URL) or the token is rejected outright (a 401
/// on the user list); every other fact that cannot be read is an uncollected fact.
pub async fn collect(
    config: &Config,
    started: time::OffsetDateTime,
    progress: Arc<dyn Progress>,
) -> Result<Snapshot, CollectError> {
    let (origin, host) = origin_and_host(&config.org_url)?;
    let http = client::http_client(config.timeout)
        .map_err(|e| CollectError::new(format!("cannot set up the HTTP client: {e}")))?;
    let token = match &config.credentials {
        Credentials::ApiToken(t) => t.clone(),
        Credentials::ServiceApp(app) => {
            oauth::exchange(&http, &origin, app, started.unix_timestamp()).await?
        }
    };
    let client = Arc::new(Client::new(
        http,
        &origin,
        token,
        config.concurrency,
        config.retry,
        progress,
    ));
    let raw = fetch::fetch_org(Arc::clone(&client), &host).await;
    if let Err(u) = &raw.users {
        // A rejected token reads nothing at all: stop rather than write a snapshot of errors.
        if u.status == Some(401) {
            return Err(CollectError::new(format!("Okta rejected the credentials: {}", u.reason))
                .with_help(match config.credentials {
                    Credentials::ApiToken(_) => "the token is wrong, expired or revoked: create a new one (Security → API → Tokens); providers/okta/README.md lists what it needs",
                    Credentials::ServiceApp(_) => "the service app's token was refused: check that the app has the Okta API scopes and an administrator role; providers/okta/README.md lists what it needs",
                }));
        }
    }
    let mapped = mapping::map_org(&raw);
    let collected_at = trustcheck_snapshot::utc::format_utc_seconds(started);
    let mut snapshot = Snapshot::new(collected_at.clone());
    let mut source = Source::new(PROVIDER.name, host, collected_at);
    source.api_calls = client.calls();
    source.errors = mapped.errors;
    snapshot.sources.push(source);
    snapshot.entities = mapped.entities;
    snapshot.normalize();
    Ok(snapshot)
}
