//! HTTP to the Okta management API within Okta's limits: the `SSWS` API token, a bounded number
//! of requests in flight, Okta's rate-limit headers honoured (`X-Rate-Limit-Remaining` running
//! low makes the next request wait for `X-Rate-Limit-Reset`; a 429 waits for it), retries with
//! backoff on 5xx and transport errors, and `Link: rel="next"` pagination that never leaves the
//! org's origin (the token goes only where the user pointed it). Every other answer is handed
//! back as a [`ReadFailure`]: the caller records it as an uncollected fact, never as a verdict.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use trustcheck_http::{Gate, Redirects};

use crate::raw::{ErrorPayload, ReadFailure};

/// What authorises requests: an API token (`SSWS`) or a service app's access token (`Bearer`).
/// Its `Debug` never shows it.
#[derive(Clone)]
pub struct ApiToken(String);

impl ApiToken {
    /// An API token, sent as `SSWS`.
    pub fn new(token: impl Into<String>) -> Self {
        Self(format!("SSWS {}", token.into()))
    }

    /// An OAuth access token, sent as `Bearer`.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self(format!("Bearer {}", token.into()))
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

pub use trustcheck_http::{NoProgress, Progress, RetryPolicy};

/// Okta's default retries: as the shared default, but a rate-limit reset is a minute away at
/// most, so a wait of up to 90 s is allowed.
pub fn default_retry() -> RetryPolicy {
    RetryPolicy {
        max_wait: Duration::from_secs(90),
        ..RetryPolicy::default()
    }
}

/// A 200 answer: its body and the next page's URL, if any.
#[derive(Debug, Clone)]
pub struct Page {
    /// The body.
    pub body: String,
    /// `Link: <…>; rel="next"`, on the org's origin.
    pub next: Option<String>,
}

/// An authenticated client of one Okta org.
pub struct Client {
    http: reqwest::Client,
    origin: String,
    token: ApiToken,
    gate: Gate,
    retry: RetryPolicy,
    /// When the last answer said the rate limit was (nearly) used up: its reset, Unix seconds.
    exhausted_until: Mutex<Option<u64>>,
    /// Requests left below which the next request waits for the reset (one per request that
    /// may be in flight, so concurrent requests cannot overrun the limit).
    reserve: u64,
    progress: Arc<dyn Progress>,
}

impl Client {
    /// A client of the org at `origin` (`https://acme.okta.com`) with at most `concurrency`
    /// requests in flight.
    pub fn new(
        http: reqwest::Client,
        origin: &str,
        token: ApiToken,
        concurrency: usize,
        retry: RetryPolicy,
        progress: Arc<dyn Progress>,
    ) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            http,
            origin: origin.trim_end_matches('/').to_string(),
            token,
            gate: Gate::new(concurrency),
            retry,
            exhausted_until: Mutex::new(None),
            reserve: concurrency as u64,
            progress,
        }
    }

    /// Requests made so far, retries included.
    pub fn calls(&self) -> u64 {
        self.gate.calls()
    }

    /// GETs `path` (with `query`) on the org, or a next-page URL returned earlier.
    pub async fn get(
        &self,
        path_or_url: &str,
        query: &[(&str, &str)],
    ) -> Result<Page, ReadFailure> {
        let (url, shown) = if path_or_url.starts_with('/') {
            (
                format!("{}{path_or_url}", self.origin),
                path_or_url.to_string(),
            )
        } else {
            let shown = path_or_url
                .strip_prefix(&self.origin)
                .unwrap_or(path_or_url)
                .to_string();
            (path_or_url.to_string(), shown)
        };
        let shown = shown.split('?').next().unwrap_or_default().to_string();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.wait_for_reset(&shown).await?;
            let sent = {
                // The permit bounds requests in flight; it is released before any wait.
                let _permit = self.gate.enter().await.ok_or_else(|| {
                    ReadFailure::new(format!("GET {shown}: the client was shut down"))
                })?;
                let mut request = self
                    .http
                    .get(&url)
                    .header("Authorization", &self.token.0)
                    .header("Accept", "application/json");
                if !query.is_empty() {
                    request = request.query(query);
                }
                match request.send().await {
                    Ok(reply) => {
                        let status = reply.status().as_u16();
                        let headers = reply.headers().clone();
                        let body = reply.text().await.unwrap_or_default();
                        Ok((status, headers, body))
                    }
                    Err(e) => Err(trustcheck_http::transport_reason(&e)),
                }
            };
            let (why, wait) = match sent {
                Ok((status, headers, body)) => {
                    let reset = self.note_rate_limit(&headers);
                    if status == 200 {
                        let next = next_link(&headers)
                            .map(|n| self.same_origin(&n, &shown))
                            .transpose()?;
                        return Ok(Page { body, next });
                    }
                    let why = format!("{status}{}", ErrorPayload::parse(&body).describe());
                    match status {
                        429 => (why, Some(reset.map_or(self.retry.base_delay, until))),
                        500..=599 => (why, None),
                        _ => {
                            return Err(
                                ReadFailure::new(format!("GET {shown}: {why}")).with_status(status)
                            )
                        }
                    }
                }
                Err(why) => (why, None),
            };
            if attempt >= self.retry.max_attempts {
                return Err(ReadFailure::new(format!(
                    "GET {shown}: {why} (gave up after {attempt} attempts)"
                )));
            }
            let wait = wait.unwrap_or_else(|| self.retry.backoff(attempt));
            if wait > self.retry.max_wait {
                return Err(ReadFailure::new(format!(
                    "GET {shown}: {why} (the rate limit resets in {}s, more than the {}s allowed)",
                    wait.as_secs(),
                    self.retry.max_wait.as_secs()
                )));
            }
            self.progress.note(&format!(
                "okta: retrying GET {shown} in {:.1}s (attempt {attempt}: {why})",
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
        }
    }

    /// Records `X-Rate-Limit-Remaining` / `X-Rate-Limit-Reset`; returns the reset when present.
    fn note_rate_limit(&self, headers: &HeaderMap) -> Option<u64> {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let reset = number("x-rate-limit-reset");
        if let (Some(remaining), Some(reset)) = (number("x-rate-limit-remaining"), reset) {
            if remaining <= self.reserve {
                if let Ok(mut guard) = self.exhausted_until.lock() {
                    *guard = Some(guard.map_or(reset, |r| r.max(reset)));
                }
            }
        }
        reset
    }

    /// Waits for the rate limit's reset when the last answer said it was nearly used up.
    async fn wait_for_reset(&self, shown: &str) -> Result<(), ReadFailure> {
        let reset = self.exhausted_until.lock().ok().and_then(|mut g| g.take());
        let Some(reset) = reset else {
            return Ok(());
        };
        let wait = until(reset);
        if wait.is_zero() {
            return Ok(());
        }
        if wait > self.retry.max_wait {
            return Err(ReadFailure::new(format!(
                "GET {shown}: rate limit used up; it resets in {}s, more than the {}s allowed",
                wait.as_secs(),
                self.retry.max_wait.as_secs()
            )));
        }
        self.progress.note(&format!(
            "okta: rate limit nearly used up, waiting {:.1}s for its reset",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// A next-page link, accepted only on the org's own origin: the token is never sent elsewhere.
    fn same_origin(&self, next: &str, shown: &str) -> Result<String, ReadFailure> {
        let rest = next.strip_prefix(&self.origin);
        if rest.is_some_and(|r| r.starts_with('/')) {
            Ok(next.to_string())
        } else {
            Err(ReadFailure::new(format!(
                "GET {shown}: the next page is on another origin (`{next}`); not followed"
            )))
        }
    }
}

/// How long until the Unix time `reset` (plus a second, as Okta's reset is rounded down).
fn until(reset: u64) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if reset < now {
        Duration::ZERO
    } else {
        Duration::from_secs((reset - now + 1).min(3600))
    }
}

/// The `rel="next"` target of the `Link` header(s).
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let is_next = params
                .split(';')
                .any(|p| p.trim().eq_ignore_ascii_case("rel=\"next\"") || p.trim() == "rel=next");
            is_next.then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
        })
}

/// The HTTP client (rustls with ring and the system's roots). Redirects are refused: they would
/// carry the token to wherever they point.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    trustcheck_http::client(timeout, Redirects::Refuse)
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderValue, LINK};

    use super::*;

    #[test]
    fn the_next_link_is_found_among_several() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static(
                "<https://acme.okta.com/api/v1/users?limit=200>; rel=\"self\"",
            ),
        );
        h.append(
            LINK,
            HeaderValue::from_static(
                "<https://acme.okta.com/api/v1/users?after=00u2&limit=200>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://acme.okta.com/api/v1/users?after=00u2&limit=200")
        );
        assert_eq!(next_link(&HeaderMap::new()), None);
        assert!(!format!("{:?}", ApiToken::new("00abc")).contains("00abc"));
    }
}
