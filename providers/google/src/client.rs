//! HTTP to the Admin SDK within Google's limits: a bearer token, a bounded number of requests in
//! flight, retries with backoff on 429, 5xx, rate-limit 403s and transport errors, honouring
//! `Retry-After`. Every other answer is handed back as a [`ReadFailure`] naming the call, the
//! status and Google's reason: the caller records it as an uncollected fact, never as a verdict.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use crate::auth::AccessToken;
use crate::raw::{ErrorPayload, ReadFailure};

/// How often and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff; doubled each retry.
    pub base_delay: Duration,
    /// Longest single wait, whatever `Retry-After` says (a longer wait is an error).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// Where the client reports waits and retries (progress, never a secret).
pub trait Progress: Send + Sync {
    /// One line about a wait or a retry.
    fn note(&self, message: &str);
}

/// Says nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn note(&self, _message: &str) {}
}

/// An authenticated client of one API root.
pub struct Client {
    http: reqwest::Client,
    api_url: String,
    token: AccessToken,
    permits: Arc<Semaphore>,
    retry: RetryPolicy,
    calls: AtomicU64,
    progress: Arc<dyn Progress>,
}

impl Client {
    /// A client of `api_url` (`https://admin.googleapis.com`) with at most `concurrency`
    /// requests in flight.
    pub fn new(
        http: reqwest::Client,
        api_url: &str,
        token: AccessToken,
        concurrency: usize,
        retry: RetryPolicy,
        progress: Arc<dyn Progress>,
    ) -> Self {
        Self {
            http,
            api_url: api_url.trim_end_matches('/').to_string(),
            token,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            retry,
            calls: AtomicU64::new(0),
            progress,
        }
    }

    /// Requests made so far, retries included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// GETs `path` with `query` and parses the JSON answer as `T`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ReadFailure> {
        let body = self.get(path, query).await?;
        serde_json::from_str(&body)
            .map_err(|e| ReadFailure::new(format!("GET {path}: unexpected response shape: {e}")))
    }

    /// GETs `path`: the body of a 200, or why there is none.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<String, ReadFailure> {
        let url = format!("{}{path}", self.api_url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = {
                // The permit bounds requests in flight; it is released before any wait.
                let _permit = self.permits.acquire().await.map_err(|_| {
                    ReadFailure::new(format!("GET {path}: the client was shut down"))
                })?;
                self.calls.fetch_add(1, Ordering::Relaxed);
                match self
                    .http
                    .get(&url)
                    .bearer_auth(&self.token.0)
                    .query(query)
                    .send()
                    .await
                {
                    Ok(reply) => {
                        let status = reply.status().as_u16();
                        let retry_after = retry_after(reply.headers());
                        let body = reply.text().await.unwrap_or_default();
                        Ok((status, retry_after, body))
                    }
                    Err(e) => Err(transport_reason(&e)),
                }
            };
            let (why, retry_after) = match sent {
                Ok((200, _, body)) => return Ok(body),
                Ok((status, retry_after, body)) => {
                    let error = ErrorPayload::parse(&body);
                    let why = format!("{status}{}", error.describe());
                    if !retryable(status, &error) {
                        return Err(ReadFailure::new(format!("GET {path}: {why}")));
                    }
                    (why, retry_after)
                }
                Err(why) => (why, None),
            };
            if attempt >= self.retry.max_attempts {
                return Err(ReadFailure::new(format!(
                    "GET {path}: {why} (gave up after {attempt} attempts)"
                )));
            }
            let backoff = self
                .retry
                .base_delay
                .saturating_mul(1 << (attempt - 1).min(10));
            let wait = retry_after.unwrap_or(backoff);
            if wait > self.retry.max_wait {
                return Err(ReadFailure::new(format!(
                    "GET {path}: {why} (asked to wait {}s, more than the {}s allowed)",
                    wait.as_secs(),
                    self.retry.max_wait.as_secs()
                )));
            }
            self.progress.note(&format!(
                "google: retrying GET {path} in {:.1}s (attempt {attempt}: {why})",
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
        }
    }
}

/// 429, 5xx, and the 403s Google uses for quotas are worth another try.
fn retryable(status: u16, error: &ErrorPayload) -> bool {
    status == 429
        || (500..=599).contains(&status)
        || (status == 403
            && error.reasons().any(|r| {
                matches!(
                    r,
                    "rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded"
                )
            }))
}

/// `Retry-After` in seconds (the HTTP-date form falls back to backoff).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A transport error in one line, without the URL's query (which never holds a secret here,
/// but keeps messages short).
pub(crate) fn transport_reason(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// The HTTP client: rustls with ring and the system's roots (the same TLS stack as the AWS and
/// GitHub providers; no native-tls, no second crypto library).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    // Unreadable system certificates are skipped, as hyper-rustls does; none at all only
    // matters for https endpoints, which then fail with a certificate error per call.
    let _ = roots.add_parsable_certificates(native.certs);
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .user_agent(concat!("trustcheck/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}
