//! GitHub collector for trustcheck: organization settings, members and outside collaborators
//! with their 2FA state, repositories, and each default branch's *effective* protection (classic
//! branch protection united with the active rulesets that target it) as Cedar entities of the
//! `Github::` namespace (`github.cedarschema`).
//!
//! Layout: [`client`] talks HTTP through octocrab within GitHub's limits, [`fetch`] gathers raw
//! payloads ([`raw`]), and the pure [`mapping`] and [`protection`] turn them into [`entity`]
//! values. Facts that cannot be read are left absent and recorded as
//! [`trustcheck_snapshot::UncollectedFact`]s. [`provider::PROVIDER`] describes the crate to the
//! binary's registry.
//!
//! This crate must never judge (no pass/fail) and never depend on the engine; only
//! [`provider`] prints, and only progress on stderr.

pub mod changes;
pub mod client;
pub mod entity;
pub mod fetch;
pub mod mapping;
pub mod progress;
pub mod protection;
pub mod provider;
pub mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use octocrab::service::middleware::retry::RetryConfig;
use octocrab::Octocrab;

pub use client::RetryPolicy;
pub use entity::OrgCollection;
pub use progress::{Event, NoProgress, Progress};
pub use provider::PROVIDER;
pub use trustcheck_snapshot::{CollectError, Entity, Uid, UncollectedFact};

use crate::client::{Client, Shared};
use crate::fetch::RulesetCache;

/// The public GitHub API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// A token. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// How to authenticate.
#[derive(Clone)]
pub enum Auth {
    /// A personal access token (fine-grained or classic), or an installation token.
    Token(Token),
    /// A GitHub App: its id and private key (PEM); the installation is looked up per org.
    App {
        /// App id.
        app_id: u64,
        /// The app's private key, PEM.
        private_key_pem: Vec<u8>,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Token(t) => write!(f, "Auth::Token({t:?})"),
            Auth::App { app_id, .. } => write!(f, "Auth::App {{ app_id: {app_id}, key: *** }}"),
        }
    }
}

/// What to collect, from where, how.
#[derive(Debug, Clone)]
pub struct Config {
    /// API base, e.g. `https://api.github.com` or `https://HOST/api/v3` (GitHub Enterprise Server).
    pub api_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Organizations to collect in full.
    pub orgs: Vec<String>,
    /// `owner/name`: collect only these repositories (their owner orgs are collected too).
    pub repos: Vec<String>,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// Per-request read timeout.
    pub timeout: Duration,
    /// Globs (`*`, case-insensitive) of branches judged like the default branch (`--branch`).
    pub branches: Vec<String>,
    /// Days of operating evidence (rule bypasses) to collect (`--changes-since`); `None`: none.
    pub changes_since_days: Option<u32>,
    /// Globs (`*`, case-insensitive) naming production environments; empty: the defaults of
    /// [`mapping::DEFAULT_PRODUCTION_ENVIRONMENTS`].
    pub production_environments: Vec<String>,
}

impl Config {
    /// A configuration with the defaults (8 requests in flight, default retry policy, 30 s timeout).
    pub fn new(api_url: impl Into<String>, auth: Auth) -> Self {
        Self {
            api_url: api_url.into(),
            auth,
            orgs: Vec::new(),
            repos: Vec::new(),
            concurrency: 8,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            production_environments: Vec::new(),
            branches: Vec::new(),
            changes_since_days: None,
        }
    }
}

/// Why a collection could not start at all (configuration problems, rejected credentials).
/// Facts that cannot be read are not errors of this kind: they are recorded per fact in
/// [`OrgCollection::errors`].
pub mod setup {
    use trustcheck_snapshot::CollectError;

    /// The API URL does not parse.
    pub fn api_url(url: &str) -> CollectError {
        CollectError::new(format!("`{url}` is not a valid API URL")).with_help(
            "use `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server",
        )
    }

    /// A `--repo` value is not `owner/name`.
    pub fn repo_name(repo: &str) -> CollectError {
        CollectError::new(format!(
            "`{repo}` is not a repository name of the form `owner/name`"
        ))
        .with_help("write repositories as `OWNER/NAME`")
    }

    /// Nothing to collect.
    pub fn nothing_to_collect() -> CollectError {
        CollectError::new("no GitHub organization or repository to collect")
            .with_help("name what to collect: `--org ORG` (repeatable) or `--repo OWNER/NAME`")
    }

    /// The GitHub App key is not an RSA private key in PEM.
    pub fn app_key(why: &str) -> CollectError {
        CollectError::new(format!(
            "the GitHub App private key is not an RSA key in PEM format: {why}"
        ))
        .with_help("download a private key from the GitHub App's settings page (a `.pem` file)")
    }

    /// GitHub rejected the credentials.
    pub fn rejected(why: &str) -> CollectError {
        CollectError::new(format!("GitHub rejected the token: {why}")).with_help(
            "the token is wrong, expired or revoked: create a new one (see providers/github/README.md for its permissions)",
        )
    }

    /// octocrab could not be set up.
    pub fn client(why: &str) -> CollectError {
        CollectError::new(format!("cannot set up the GitHub client: {why}"))
    }
}

/// Collects every configured organization, one [`OrgCollection`] each, in the order given.
pub async fn collect(
    config: &Config,
    progress: Arc<dyn Progress>,
) -> Result<Vec<OrgCollection>, CollectError> {
    let plan = plan(config)?;
    let base: http::Uri = config
        .api_url
        .trim_end_matches('/')
        .parse()
        .map_err(|_| setup::api_url(&config.api_url))?;
    let authority = base
        .authority()
        .map(|a| a.as_str().to_string())
        .ok_or_else(|| setup::api_url(&config.api_url))?;
    let (graphql_root, graphql_path) =
        graphql_endpoint(&base).ok_or_else(|| setup::api_url(&config.api_url))?;
    let shared = Shared::new(config.concurrency);
    let cache = RulesetCache::default();
    let build_at = |base: &http::Uri, auth: BuilderAuth| -> Result<Octocrab, CollectError> {
        let builder = Octocrab::builder()
            .base_uri(base.clone())
            .map_err(|e| setup::client(&e.to_string()))?
            // Our client layer retries with knowledge of GitHub's headers; two layers would
            // multiply attempts and hide them from `api_calls`.
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(config.timeout));
        let builder = match auth {
            BuilderAuth::Token(t) => builder.personal_token(t.0.clone()),
        };
        builder.build().map_err(|e| setup::client(&e.to_string()))
    };
    let build = |auth: BuilderAuth| build_at(&base, auth);
    // octocrab joins every path to the base path, so GraphQL, which GitHub Enterprise Server
    // serves outside `/api/v3`, gets its own client rooted at the host.
    let client = |token: &Token| -> Result<Client, CollectError> {
        Ok(Client::new(
            build(BuilderAuth::Token(token))?,
            authority.clone(),
            shared.clone(),
            config.retry,
            progress.clone(),
        )
        .with_graphql(
            build_at(&graphql_root, BuilderAuth::Token(token))?,
            graphql_path.clone(),
        ))
    };

    let mut out = Vec::new();
    match &config.auth {
        Auth::Token(token) => {
            let base_client = client(token)?;
            // Who the token belongs to; a rejected token stops the run here rather than
            // producing a snapshot in which every fact is an error.
            let identity = match base_client.get("/user").await {
                Ok(reply) if reply.status == 401 => {
                    return Err(setup::rejected(&format!("401 {}", reply.message())))
                }
                Ok(reply) if reply.status == 200 => {
                    serde_json::from_str::<raw::UserPayload>(&reply.body)
                        .ok()
                        .map(|u| u.login)
                }
                // Installation tokens (e.g. Actions' GITHUB_TOKEN) cannot read `/user`.
                _ => None,
            };
            for (org, only) in &plan {
                let c = base_client.counted_separately();
                out.push(
                    collect_org(&c, config, org, only.as_deref(), identity.clone(), &cache).await,
                );
            }
        }
        Auth::App {
            app_id,
            private_key_pem,
        } => {
            // Signed with ring (trustcheck-jws), not octocrab's JWT backends: those are the
            // `rsa` crate (RUSTSEC-2023-0071) or aws-lc.
            let key = trustcheck_jws::key_pair(private_key_pem)
                .map_err(|e| setup::app_key(&e.to_string()))?;
            for (org, only) in &plan {
                let collected_at = time::OffsetDateTime::now_utc();
                let installed = installation_token(&build, &key, *app_id, org).await;
                match installed {
                    Ok((id, token)) => {
                        let c = client(&token)?;
                        let identity = Some(format!("github-app:{app_id}/installation:{id}"));
                        out.push(
                            collect_org(&c, config, org, only.as_deref(), identity, &cache).await,
                        );
                    }
                    Err(reason) => out.push(unreachable_org(org, collected_at, &reason)),
                }
            }
        }
    }
    Ok(out)
}

/// Where GraphQL lives for the REST base `base`: the host root and the path to post to.
/// GitHub.com: `https://api.github.com/graphql`; GitHub Enterprise Server, whose REST base is
/// `https://HOST/api/v3`: `https://HOST/api/graphql` (not `/api/v3/graphql`); any other base
/// (a proxy, a test server): `<base>/graphql`.
fn graphql_endpoint(base: &http::Uri) -> Option<(http::Uri, String)> {
    let scheme = base.scheme_str()?;
    let authority = base.authority()?;
    let root: http::Uri = format!("{scheme}://{authority}").parse().ok()?;
    let path = base.path().trim_end_matches('/');
    let graphql = match path.strip_suffix("/api/v3") {
        Some(prefix) => format!("{prefix}/api/graphql"),
        None => format!("{path}/graphql"),
    };
    Some((root, graphql))
}

enum BuilderAuth<'a> {
    Token(&'a Token),
}

/// The App's JWT (RS256): issued a minute in the past for clock drift, valid ten minutes, the
/// longest GitHub accepts.
fn app_jwt(key: &ring::signature::RsaKeyPair, app_id: u64) -> Result<String, String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = serde_json::json!({"iat": now - 60, "exp": now + 540, "iss": app_id.to_string()});
    let jwt = trustcheck_jws::sign_rs256(
        key,
        &serde_json::json!({"alg": "RS256", "typ": "JWT"}),
        &claims,
    )
    .map_err(|e| format!("cannot sign the GitHub App JWT: {e}"))?;
    trustcheck_snapshot::secrets::register(&jwt);
    Ok(jwt)
}

/// The App's installation on `org` and a token for it, minted once per org (an installation
/// token lasts an hour, far longer than collecting an org takes).
async fn installation_token(
    build: &impl Fn(BuilderAuth<'_>) -> Result<Octocrab, CollectError>,
    key: &ring::signature::RsaKeyPair,
    app_id: u64,
    org: &str,
) -> Result<(u64, Token), String> {
    let jwt = Token::new(&app_jwt(key, app_id)?);
    let app = build(BuilderAuth::Token(&jwt)).map_err(|e| e.message)?;
    let id = app
        .apps()
        .get_org_installation(org)
        .await
        .map(|i| i.id.0)
        .map_err(|e| {
            format!(
                "GET /orgs/{org}/installation: the GitHub App {app_id} is not installed on `{org}` or cannot be used ({})",
                first_line(&e.to_string())
            )
        })?;
    let reply: serde_json::Value = app
        .post(
            format!("/app/installations/{id}/access_tokens"),
            None::<&()>,
        )
        .await
        .map_err(|e| {
            format!(
                "POST /app/installations/{id}/access_tokens: cannot get an installation token ({})",
                first_line(&e.to_string())
            )
        })?;
    let token = reply.get("token").and_then(|t| t.as_str()).ok_or_else(|| {
        format!("POST /app/installations/{id}/access_tokens: the reply has no `token`")
    })?;
    trustcheck_snapshot::secrets::register(token);
    Ok((id, Token::new(token)))
}

/// An org to collect and the repositories to limit it to (`None`: all).
type PlannedOrg = (String, Option<Vec<String>>);

/// Which orgs to collect and, per org, which repositories.
fn plan(config: &Config) -> Result<Vec<PlannedOrg>, CollectError> {
    let mut plan: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    let mut order = Vec::new();
    for org in &config.orgs {
        if !plan.contains_key(org) {
            order.push(org.clone());
        }
        plan.insert(org.clone(), None);
    }
    for repo in &config.repos {
        let Some((owner, name)) = repo
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        else {
            return Err(setup::repo_name(repo));
        };
        if !plan.contains_key(owner) {
            order.push(owner.to_string());
            plan.insert(owner.to_string(), Some(Vec::new()));
        }
        // `--repo` limits the org to the named repositories, even when `--org` names it too.
        let entry = plan.entry(owner.to_string()).or_default();
        let list = entry.get_or_insert_with(Vec::new);
        if !list.iter().any(|n| n == name) {
            list.push(name.to_string());
        }
    }
    if order.is_empty() {
        return Err(setup::nothing_to_collect());
    }
    Ok(order
        .into_iter()
        .map(|org| {
            let only = plan.remove(&org).flatten();
            (org, only)
        })
        .collect())
}

async fn collect_org(
    client: &Client,
    config: &Config,
    org: &str,
    only: Option<&[String]>,
    identity: Option<String>,
    cache: &RulesetCache,
) -> OrgCollection {
    let collected_at = time::OffsetDateTime::now_utc();
    client.progress().event(&Event::OrgStarted { org });
    let scope = fetch::Scope {
        branches: config.branches.clone(),
        window_days: config.changes_since_days,
    };
    let mut raw = fetch::fetch_org(client, org, only, &scope, cache).await;
    if let Some(days) = config.changes_since_days {
        raw.changes = Some(changes::fetch_changes(client, org, collected_at, days).await);
        raw.change_branches = config.branches.clone();
        raw.changes_until = Some(collected_at);
    }
    let mapped = if config.production_environments.is_empty() {
        mapping::map_org(&raw)
    } else {
        mapping::map_org_with(&raw, &config.production_environments)
    };
    let api_calls = client.calls();
    client.progress().event(&Event::OrgDone {
        org,
        api_calls,
        errors: mapped.errors.len(),
    });
    OrgCollection {
        org: org.to_string(),
        identity,
        collected_at,
        api_calls,
        entities: mapped.entities,
        errors: mapped.errors,
    }
}

/// An organization that could not be reached at all (e.g. the App is not installed there).
fn unreachable_org(org: &str, collected_at: time::OffsetDateTime, reason: &str) -> OrgCollection {
    let unreadable = raw::ReadFailure::new(reason);
    let raw = raw::RawOrg {
        login: org.to_string(),
        settings: Err(unreadable.clone()),
        members: Err(unreadable.clone()),
        admins: Err(unreadable.clone()),
        members_2fa_disabled: Err(unreadable.clone()),
        members_2fa_insecure: Err(unreadable.clone()),
        collaborators: Err(unreadable.clone()),
        collaborators_2fa_disabled: Err(unreadable.clone()),
        collaborators_2fa_insecure: Err(unreadable.clone()),
        actions: Err(unreadable.clone()),
        saml: Err(unreadable.clone()),
        changes: None,
        change_branches: Vec::new(),
        changes_until: None,
        repos: Vec::new(),
        repo_listing_error: Some(unreadable),
        unreadable_repos: Vec::new(),
    };
    let mapped = mapping::map_org(&raw);
    OrgCollection {
        org: org.to_string(),
        identity: None,
        collected_at,
        api_calls: 0,
        entities: mapped.entities,
        errors: mapped.errors,
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(orgs: &[&str], repos: &[&str]) -> Config {
        let mut c = Config::new(DEFAULT_API_URL, Auth::Token(Token::new("t")));
        c.orgs = orgs.iter().map(|s| s.to_string()).collect();
        c.repos = repos.iter().map(|s| s.to_string()).collect();
        c
    }

    #[test]
    fn graphql_is_at_the_host_root_for_enterprise_server() {
        let at = |base: &str| {
            let (root, path) = graphql_endpoint(&base.parse().unwrap()).unwrap();
            format!("{}{path}", root.to_string().trim_end_matches('/'))
        };
        assert_eq!(
            at("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            at("https://ghe.example.com/api/v3"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            at("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            at("http://127.0.0.1:8080/proxy"),
            "http://127.0.0.1:8080/proxy/graphql"
        );
    }

    #[test]
    fn repos_limit_their_org_and_add_missing_orgs() {
        let p = plan(&config(&["acme", "beta"], &["acme/api", "gamma/x"])).unwrap();
        assert_eq!(
            p,
            vec![
                ("acme".to_string(), Some(vec!["api".to_string()])),
                ("beta".to_string(), None),
                ("gamma".to_string(), Some(vec!["x".to_string()])),
            ]
        );
        assert_eq!(plan(&config(&[], &["nope"])), Err(setup::repo_name("nope")));
        assert_eq!(plan(&config(&[], &[])), Err(setup::nothing_to_collect()));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let c = config(&["acme"], &[]);
        let shown = format!("{c:?}");
        assert!(!shown.contains("\"t\""), "{shown}");
        assert!(shown.contains("***"));
    }
}
