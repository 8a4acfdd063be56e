//! Progress events, so the caller can draw a bar or log lines. The collector itself never prints.

/// Something the collector is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// Collection of an organization started.
    OrgStarted {
        /// Login.
        org: &'a str,
    },
    /// More repositories were listed (a page arrived).
    ReposFound {
        /// Organization login.
        org: &'a str,
        /// Repositories in this page.
        count: usize,
    },
    /// One repository's protection was read (or found unreadable).
    RepoDone {
        /// Organization login.
        org: &'a str,
    },
    /// An HTTP request was answered.
    Request {
        /// `x-ratelimit-remaining` as last seen.
        rate_limit_remaining: Option<u64>,
    },
    /// Waiting because of a rate limit.
    Waiting {
        /// How long.
        seconds: f64,
        /// Why, in a few words.
        why: &'a str,
    },
    /// Retrying a request after a server or transport error.
    Retrying {
        /// The request path.
        path: &'a str,
        /// What went wrong.
        why: &'a str,
        /// Failures so far.
        attempt: u32,
    },
    /// Collection of an organization finished.
    OrgDone {
        /// Login.
        org: &'a str,
        /// Requests made.
        api_calls: u64,
        /// Facts that could not be read.
        errors: usize,
    },
}

/// Receives progress events; called from several tasks at once.
pub trait Progress: Send + Sync {
    /// One event.
    fn event(&self, event: &Event<'_>);
}

/// Ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&self, _event: &Event<'_>) {}
}
