//! The HTTP plumbing trustcheck's REST providers (Google Workspace, Okta) share: the TLS client
//! (rustls with ring and the system's roots, the same stack as the AWS and GitHub providers), the
//! retry policy and its backoff, a gate bounding requests in flight and counting them, the
//! `Retry-After` header, transport errors in one line, and where waits and retries are reported.
//!
//! What differs by vendor stays in the providers: which answers are worth a retry, Okta's
//! `X-Rate-Limit-*` headers and `Link` paging, Google's `nextPageToken`. Nothing here prints, and
//! nothing here sees a credential: the providers set their own `Authorization` headers.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

/// How often and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff; doubled each retry.
    pub base_delay: Duration,
    /// Longest single wait, whatever the server asks for (a longer wait is an error).
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

impl RetryPolicy {
    /// The backoff before retry number `attempt` (1 after the first attempt): `base_delay`
    /// doubled each time, capped at 2^10 times.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(10))
    }
}

/// Where a client reports waits and retries (progress, never a secret).
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

/// Bounds the requests in flight and counts those sent, retries included.
#[derive(Debug)]
pub struct Gate {
    permits: Semaphore,
    calls: AtomicU64,
}

impl Gate {
    /// At most `concurrency` requests in flight (at least one).
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Semaphore::new(concurrency.max(1)),
            calls: AtomicU64::new(0),
        }
    }

    /// Waits for a slot and counts one request; the slot is held until the permit is dropped
    /// (release it before any wait). `None` only if the gate was closed.
    pub async fn enter(&self) -> Option<SemaphorePermit<'_>> {
        let permit = self.permits.acquire().await.ok()?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        Some(permit)
    }

    /// Requests sent so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

/// `Retry-After` in seconds (the HTTP-date form gives `None`: the caller backs off instead).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A transport error in one line: what failed and its innermost cause, without the URL.
pub fn transport_reason(e: &reqwest::Error) -> String {
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

/// What an OAuth 2.0 token endpoint answered (RFC 6749 §5.1 and §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenReply {
    /// A 200 with an `access_token`.
    Token(String),
    /// A refusal: `error` and, when given, `error_description`.
    Refused {
        /// E.g. `invalid_client`, `invalid_scope`, `unauthorized_client`.
        error: String,
        /// Okta's and Google's explanation.
        description: Option<String>,
    },
    /// Anything else (no JSON, no token, no error).
    Unexpected,
}

#[derive(serde::Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Reads a token endpoint's answer.
pub fn token_reply(status: u16, body: &str) -> TokenReply {
    match serde_json::from_str::<TokenBody>(body).ok() {
        Some(TokenBody {
            access_token: Some(token),
            ..
        }) if status == 200 => TokenReply::Token(token),
        Some(TokenBody {
            error: Some(error),
            error_description,
            ..
        }) => TokenReply::Refused {
            error,
            description: error_description,
        },
        _ => TokenReply::Unexpected,
    }
}

/// Posts a form to an OAuth 2.0 token endpoint and reads its answer: the HTTP status and the
/// reply, or why the endpoint could not be reached (one line). The caller keeps the token out of
/// every output ([`TokenReply::Token`] is a secret).
pub async fn request_token(
    http: &reqwest::Client,
    uri: &str,
    form: &[(&str, &str)],
) -> Result<(u16, TokenReply), String> {
    let reply = http
        .post(uri)
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot reach the token endpoint `{uri}`: {}",
                transport_reason(&e)
            )
        })?;
    let status = reply.status().as_u16();
    // An unreadable body is an unexpected answer, reported with its status.
    let body = reply.text().await.unwrap_or_default();
    Ok((status, token_reply(status, &body)))
}

/// Whether the client follows redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// Follow them (reqwest's default: up to 10).
    Follow,
    /// Never: a redirect would carry the credential to wherever it points.
    Refuse,
}

/// The HTTP client: rustls with ring and the system's roots (no native-tls, no second crypto
/// library), a 10 s connect timeout, `timeout` per request, trustcheck's user agent.
pub fn client(timeout: Duration, redirects: Redirects) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped, as hyper-rustls does; none at all only
    // matters for https endpoints, which then fail with a certificate error per call.
    let _ = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .user_agent(concat!("trustcheck/", env!("CARGO_PKG_VERSION")));
    if redirects == Redirects::Refuse {
        builder = builder.redirect(reqwest::redirect::Policy::none());
    }
    builder.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_growing() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(3), Duration::from_millis(400));
        assert_eq!(p.backoff(40), p.backoff(11));
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static(" 7 "));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn token_replies_are_a_token_a_refusal_or_unexpected() {
        assert_eq!(
            token_reply(200, r#"{"access_token":"t","token_type":"Bearer"}"#),
            TokenReply::Token("t".into())
        );
        assert_eq!(
            token_reply(401, r#"{"error":"invalid_client"}"#),
            TokenReply::Refused {
                error: "invalid_client".into(),
                description: None
            }
        );
        assert_eq!(
            token_reply(401, r#"{"access_token":"t"}"#),
            TokenReply::Unexpected
        );
        assert_eq!(token_reply(502, "<html>"), TokenReply::Unexpected);
    }

    #[tokio::test]
    async fn the_gate_counts_requests_and_bounds_them() {
        let gate = Gate::new(0);
        let first = gate.enter().await;
        assert!(first.is_some());
        // One slot (0 means 1): a second request waits while the first holds it.
        assert!(gate.permits.try_acquire().is_err());
        drop(first);
        let _second = gate.enter().await;
        assert_eq!(gate.calls(), 2);
    }
}
