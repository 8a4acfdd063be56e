//! HTTP to the Admin SDK within Google's limits: a bearer token, a bounded number of requests in
//! flight, retries with backoff on 429, 5xx, rate-limit 403s and transport errors, honouring
//! `Retry-After`. Every other answer is handed back as a [`ReadFailure`] naming the call, the
//! status and Google's reason: the caller records it as an uncollected fact, never as a verdict.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use trustcheck_http::{retry_after, Gate, Redirects};

use crate::auth::AccessToken;
use crate::raw::{ErrorPayload, ReadFailure};

pub use trustcheck_http::{NoProgress, Progress, RetryPolicy};

/// An authenticated client of one API root.
pub struct Client {
    http: reqwest::Client,
    api_url: String,
    token: AccessToken,
    gate: Gate,
    retry: RetryPolicy,
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
            gate: Gate::new(concurrency),
            retry,
            progress,
        }
    }

    /// Requests made so far, retries included.
    pub fn calls(&self) -> u64 {
        self.gate.calls()
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
                let _permit = self.gate.enter().await.ok_or_else(|| {
                    ReadFailure::new(format!("GET {path}: the client was shut down"))
                })?;
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
                    Err(e) => Err(trustcheck_http::transport_reason(&e)),
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
            let wait = retry_after.unwrap_or_else(|| self.retry.backoff(attempt));
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

/// The HTTP client (rustls with ring and the system's roots), following redirects.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    trustcheck_http::client(timeout, Redirects::Follow)
}
