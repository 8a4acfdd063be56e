//! Requests through octocrab, within GitHub's limits: bounded concurrency, pacing on the
//! `x-ratelimit-*` headers, waiting out secondary rate limits (`Retry-After`), retrying 5xx and
//! transport errors with capped exponential backoff, and `Link` pagination that never leaves the
//! configured host.
//!
//! Retries are ours, not octocrab's (its retry layer is switched off): the decision needs the
//! response (status, `Retry-After`, `x-ratelimit-*`, body message), every attempt must be counted
//! in `api_calls`, and a wait longer than the cap must become a collection error, not a hang.
//!
//! This module never interprets payloads and never logs a token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use octocrab::Octocrab;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use crate::progress::{Event, Progress};
use crate::raw::ReadFailure;

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after a 5xx or a transport error.
    pub max_retries: u32,
    /// First backoff; doubles per retry.
    pub base_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// Longest single wait for a rate limit (`Retry-After` or `x-ratelimit-reset`); longer waits
    /// give up and record the fact as unknown.
    pub max_wait: Duration,
    /// Wait after a secondary rate limit that names no `Retry-After` (GitHub asks for a minute).
    pub secondary_wait: Duration,
    /// Rate-limit waits allowed per request before giving up.
    pub max_rate_waits: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_wait: Duration::from_secs(15 * 60),
            secondary_wait: Duration::from_secs(60),
            max_rate_waits: 10,
        }
    }
}

/// The last `x-ratelimit-*` headers seen.
#[derive(Debug, Clone, Copy, Default)]
struct RateState {
    limit: Option<u64>,
    remaining: Option<u64>,
    /// Unix seconds.
    reset: Option<u64>,
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// `Link: <…>; rel="next"`.
    pub next: Option<String>,
    /// `X-Accepted-GitHub-Permissions`: the permission GitHub says the endpoint needs.
    pub accepted_permissions: Option<String>,
    /// `Retry-After`, seconds.
    pub retry_after: Option<u64>,
}

impl Reply {
    /// GitHub's `message` field, or the start of the body: secrets redacted, a few hundred bytes
    /// at most (a server may echo the request, or send a megabyte of HTML).
    pub fn message(&self) -> String {
        let text = serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            });
        trustcheck_snapshot::secrets::quote(text.as_deref().unwrap_or(&self.body))
    }
}

/// Limits shared by every client of one run.
#[derive(Debug)]
pub struct Shared {
    permits: Semaphore,
}

impl Shared {
    /// At most `concurrency` requests in flight (at least one).
    pub fn new(concurrency: usize) -> Arc<Self> {
        Arc::new(Self {
            permits: Semaphore::new(concurrency.max(1)),
        })
    }
}

/// One authenticated client (a token, or one GitHub App installation) and its request count.
#[derive(Clone)]
pub struct Client {
    crab: Octocrab,
    /// The client GraphQL requests go through and the path they are posted to (see
    /// [`Client::with_graphql`]).
    graphql: Option<(Octocrab, String)>,
    shared: Arc<Shared>,
    rate: Arc<Mutex<RateState>>,
    calls: Arc<AtomicU64>,
    policy: RetryPolicy,
    /// `host[:port]` of the API: pagination links elsewhere are refused.
    authority: String,
    progress: Arc<dyn Progress>,
}

impl Client {
    /// Wraps an octocrab client whose base URI has `authority`.
    pub fn new(
        crab: Octocrab,
        authority: String,
        shared: Arc<Shared>,
        policy: RetryPolicy,
        progress: Arc<dyn Progress>,
    ) -> Self {
        Self {
            crab,
            graphql: None,
            shared,
            rate: Arc::new(Mutex::new(RateState::default())),
            calls: Arc::new(AtomicU64::new(0)),
            policy,
            authority,
            progress,
        }
    }

    /// The same client with its own request counter (one per organization).
    pub fn counted_separately(&self) -> Self {
        Self {
            calls: Arc::new(AtomicU64::new(0)),
            ..self.clone()
        }
    }

    /// Sends GraphQL requests through `crab` (rooted at the API host) to `path`: GitHub
    /// Enterprise Server serves GraphQL at `/api/graphql`, outside the REST base `/api/v3` that
    /// octocrab would join every path to. Without it, GraphQL goes to `<REST base>/graphql`.
    #[must_use]
    pub fn with_graphql(self, crab: Octocrab, path: String) -> Self {
        Self {
            graphql: Some((crab, path)),
            ..self
        }
    }

    /// Requests made through this counter, retries included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The underlying octocrab client.
    pub fn octocrab(&self) -> &Octocrab {
        &self.crab
    }

    /// Where progress events go.
    pub fn progress(&self) -> &Arc<dyn Progress> {
        &self.progress
    }

    /// `GET path` (relative to the API base), retried as the policy says. `Ok` for any final
    /// status: 4xx answers are facts or permissions problems the caller tells apart.
    pub async fn get(&self, path: &str) -> Result<Reply, ReadFailure> {
        let mut failures = 0u32;
        let mut rate_waits = 0u32;
        loop {
            self.pace(path).await?;
            let attempt = {
                // The semaphore is never closed, so acquiring only waits.
                let _permit = self.shared.permits.acquire().await;
                self.calls.fetch_add(1, Ordering::Relaxed);
                self.send(path).await
            };
            let reply = match attempt {
                Ok(reply) => reply,
                Err(transport) => {
                    failures += 1;
                    if failures > self.policy.max_retries {
                        return Err(ReadFailure::new(format!(
                            "GET {path}: {transport} (gave up after {failures} attempts)"
                        )));
                    }
                    self.backoff(path, failures, &transport).await;
                    continue;
                }
            };
            let status = reply.status;
            let rate_limited = matches!(status, 403 | 429);
            let retry_after = reply.retry_after;
            let exhausted = self.rate_exhausted_until();
            let message = reply.message();
            let secondary = message
                .to_ascii_lowercase()
                .contains("secondary rate limit");
            let wait = if rate_limited && retry_after.is_some() {
                retry_after.map(Duration::from_secs)
            } else if rate_limited && exhausted.is_some() {
                exhausted
            } else if rate_limited && secondary {
                Some(self.policy.secondary_wait)
            } else {
                None
            };
            if let Some(wait) = wait {
                rate_waits += 1;
                if rate_waits > self.policy.max_rate_waits || wait > self.policy.max_wait {
                    return Err(ReadFailure::new(format!(
                        "GET {path}: {status} {message} (rate limited; gave up instead of waiting {}s)",
                        wait.as_secs()
                    )));
                }
                self.progress.event(&Event::Waiting {
                    seconds: wait.as_secs_f64(),
                    why: "rate limit",
                });
                tokio::time::sleep(wait).await;
                continue;
            }
            if status == 429 || (500..=599).contains(&status) {
                failures += 1;
                if failures > self.policy.max_retries {
                    return Err(ReadFailure::new(format!(
                        "GET {path}: {status} {message} (gave up after {failures} attempts)"
                    )));
                }
                self.backoff(path, failures, &format!("{status} {message}"))
                    .await;
                continue;
            }
            return Ok(reply);
        }
    }

    /// `POST /graphql` with `body`, retried after 5xx and transport errors like [`Client::get`]
    /// (counted in `api_calls`); the `data` of a 200 answer without `errors`.
    pub async fn graphql(
        &self,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ReadFailure> {
        let mut failures = 0u32;
        loop {
            let attempt = {
                let _permit = self.shared.permits.acquire().await;
                self.calls.fetch_add(1, Ordering::Relaxed);
                self.post_graphql(body).await
            };
            let why = match attempt {
                Ok((200, text)) => {
                    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                        ReadFailure::new(format!("POST /graphql: unexpected response shape ({e})"))
                    })?;
                    if let Some(errors) = value.get("errors").filter(|e| !e.is_null()) {
                        return Err(ReadFailure::new(format!(
                            "POST /graphql: {}",
                            errors.to_string().chars().take(300).collect::<String>()
                        )));
                    }
                    return value
                        .get("data")
                        .cloned()
                        .ok_or_else(|| ReadFailure::new("POST /graphql: no `data` in the answer"));
                }
                Ok((status, text)) if status < 500 && status != 429 => {
                    return Err(ReadFailure::new(format!(
                        "POST /graphql: {status} {}",
                        text.chars().take(200).collect::<String>()
                    )))
                }
                Ok((status, _)) => format!("{status}"),
                Err(transport) => transport,
            };
            failures += 1;
            if failures > self.policy.max_retries {
                return Err(ReadFailure::new(format!(
                    "POST /graphql: {why} (gave up after {failures} attempts)"
                )));
            }
            self.backoff("/graphql", failures, &why).await;
        }
    }

    async fn post_graphql(&self, body: &serde_json::Value) -> Result<(u16, String), String> {
        let (crab, path) = match &self.graphql {
            Some((crab, path)) => (crab, path.as_str()),
            None => (&self.crab, "/graphql"),
        };
        let response = crab
            ._post(path, Some(body))
            .await
            .map_err(|e| short_error(&e))?;
        let status = response.status().as_u16();
        self.observe_rate(response.headers());
        let text = self
            .crab
            .body_to_string(response)
            .await
            .map_err(|e| short_error(&e))?;
        Ok((status, text))
    }

    /// `GET path` expecting 200 and a JSON body of type `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ReadFailure> {
        let reply = self.get(path).await?;
        if reply.status != 200 {
            return Err(describe(path, &reply));
        }
        parse(path, &reply.body)
    }

    /// Every page of a list, following `Link: rel="next"`; `on_page` sees each page as it
    /// arrives (so work on the first items can start while the rest is listed).
    pub async fn get_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        mut on_page: impl FnMut(Vec<T>),
    ) -> Result<(), ReadFailure> {
        let mut url = path.to_string();
        loop {
            let reply = self.get(&url).await?;
            if reply.status != 200 {
                return Err(describe(&url, &reply));
            }
            on_page(parse(&url, &reply.body)?);
            match &reply.next {
                Some(next) => url = self.relative(next)?,
                None => return Ok(()),
            }
        }
    }

    /// Every item of a list.
    pub async fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ReadFailure> {
        let mut all = Vec::new();
        self.get_pages(path, |page| all.extend(page)).await?;
        Ok(all)
    }

    /// The path and query of a `Link` URL, which must point at the configured API host. Sending
    /// it relative keeps the token on every page: octocrab attaches App and installation tokens
    /// only to relative URIs or api.github.com.
    fn relative(&self, link: &str) -> Result<String, ReadFailure> {
        let uri: http::Uri = link
            .parse()
            .map_err(|_| ReadFailure::new(format!("pagination link `{link}` is not a URI")))?;
        if let Some(authority) = uri.authority() {
            if !authority.as_str().eq_ignore_ascii_case(&self.authority) {
                return Err(ReadFailure::new(format!(
                    "pagination link `{link}` points away from the API host `{}`",
                    self.authority
                )));
            }
        }
        Ok(uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()))
    }

    async fn send(&self, path: &str) -> Result<Reply, String> {
        let response = self.crab._get(path).await.map_err(|e| short_error(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.observe_rate(&headers);
        let body = self
            .crab
            .body_to_string(response)
            .await
            .map_err(|e| short_error(&e))?;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let remaining = self.rate.lock().ok().and_then(|r| r.remaining);
        self.progress.event(&Event::Request {
            rate_limit_remaining: remaining,
        });
        Ok(Reply {
            status,
            body,
            next: header("link").and_then(|l| next_link(&l)),
            accepted_permissions: header("x-accepted-github-permissions"),
            retry_after: header("retry-after").and_then(|v| v.trim().parse().ok()),
        })
    }

    fn observe_rate(&self, headers: &http::HeaderMap) {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let (limit, remaining, reset) = (
            num("x-ratelimit-limit"),
            num("x-ratelimit-remaining"),
            num("x-ratelimit-reset"),
        );
        if let Ok(mut r) = self.rate.lock() {
            if remaining.is_some() {
                r.limit = limit.or(r.limit);
                r.remaining = remaining;
                r.reset = reset.or(r.reset);
            }
        }
    }

    /// How long until the primary limit resets, when it is exhausted.
    fn rate_exhausted_until(&self) -> Option<Duration> {
        let r = *self.rate.lock().ok()?;
        if r.remaining != Some(0) {
            return None;
        }
        let now = unix_now();
        let reset = r.reset?;
        Some(Duration::from_secs(reset.saturating_sub(now) + 1))
    }

    /// Slows down before the primary limit runs out: below a reserve, requests are spread evenly
    /// over the time left until the reset; at zero, wait for the reset.
    async fn pace(&self, path: &str) -> Result<(), ReadFailure> {
        let wait = {
            let Ok(mut r) = self.rate.lock() else {
                return Ok(());
            };
            let (Some(remaining), Some(reset)) = (r.remaining, r.reset) else {
                return Ok(());
            };
            let now = unix_now();
            if reset <= now {
                return Ok(());
            }
            let left = Duration::from_secs(reset - now);
            let reserve = r.limit.map_or(100, |l| (l / 20).max(10));
            // Count this request before sending, so concurrent callers see the budget shrink.
            r.remaining = Some(remaining.saturating_sub(1));
            if remaining == 0 {
                left + Duration::from_secs(1)
            } else if remaining < reserve {
                left / u32::try_from(remaining).unwrap_or(u32::MAX)
            } else {
                return Ok(());
            }
        };
        if wait > self.policy.max_wait {
            return Err(ReadFailure::new(format!(
                "GET {path}: rate limit exhausted; gave up instead of waiting {}s for the reset",
                wait.as_secs()
            )));
        }
        self.progress.event(&Event::Waiting {
            seconds: wait.as_secs_f64(),
            why: "rate limit budget low",
        });
        tokio::time::sleep(wait).await;
        Ok(())
    }

    async fn backoff(&self, path: &str, failures: u32, why: &str) {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        let wait = self
            .policy
            .base_backoff
            .saturating_mul(factor)
            .min(self.policy.max_backoff);
        self.progress.event(&Event::Retrying {
            path,
            why,
            attempt: failures,
        });
        tokio::time::sleep(wait).await;
    }
}

/// "GET path: 403 message; needs `administration=read`" for a reply that is not the data.
pub fn describe(path: &str, reply: &Reply) -> ReadFailure {
    let mut reason = format!("GET {path}: {} {}", reply.status, reply.message());
    if let Some(perm) = reply
        .accepted_permissions
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        reason.push_str(&format!(" (the endpoint needs `{perm}`)"));
    }
    ReadFailure::new(reason)
}

fn parse<T: DeserializeOwned>(path: &str, body: &str) -> Result<T, ReadFailure> {
    serde_json::from_str(body)
        .map_err(|e| ReadFailure::new(format!("GET {path}: unexpected response shape ({e})")))
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

/// A one-line description of an octocrab error, without backtraces.
fn short_error(e: &octocrab::Error) -> String {
    use std::error::Error as _;
    let mut text = match e {
        octocrab::Error::Service { source, .. } => format!("connection error: {source}"),
        octocrab::Error::Hyper { source, .. } => format!("connection error: {source}"),
        other => other.to_string(),
    };
    if let Some(source) = e.source().and_then(|s| s.source()) {
        text.push_str(&format!(": {source}"));
    }
    text.lines().next().unwrap_or_default().to_string()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let h = r#"<https://api.github.com/organizations/1001/repos?per_page=100&page=2>; rel="next", <https://api.github.com/organizations/1001/repos?per_page=100&page=10>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/organizations/1001/repos?per_page=100&page=2")
        );
        let last_page = r#"<https://api.github.com/organizations/1001/repos?per_page=100&page=1>; rel="prev", <https://api.github.com/organizations/1001/repos?per_page=100&page=1>; rel="first""#;
        assert_eq!(next_link(last_page), None);
    }
}
