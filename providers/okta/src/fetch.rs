//! Gathers the raw Okta data of one org: every user (the default list, which omits DEPROVISIONED
//! users, plus those asked for explicitly), the holders of admin roles and their roles, and the
//! enrolled factors of every user who can sign in. Lists follow `Link: rel="next"`; the per-user
//! calls (what Okta offers) run concurrently within the client's bound and rate limit. No mapping
//! and no verdicts here.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use tokio::task::JoinSet;

use crate::client::Client;
use crate::raw::{
    Factor, Fetched, Policy, RawOrg, ReadFailure, Role, RoleAssignedUsers, SignOnRule, User,
};

/// Statuses of users who can sign in: their factors are read.
pub const SIGN_IN_STATUSES: &[&str] = &["ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"];

/// Pages followed at most per list (a server that keeps answering with a next link must not
/// keep the collector busy forever).
const MAX_PAGES: usize = 10_000;

/// Reads everything the mapping needs.
pub async fn fetch_org(client: Arc<Client>, host: &str) -> RawOrg {
    let listed = pages::<User>(&client, "/api/v1/users", &[("limit", "200")]);
    // Okta's default list leaves DEPROVISIONED users out; an offboarded admin is among them.
    let deprovisioned = pages::<User>(
        &client,
        "/api/v1/users",
        &[("filter", "status eq \"DEPROVISIONED\""), ("limit", "200")],
    );
    let holders = role_holders(&client);
    let sign_on = sign_on_policies(&client);
    let enrollment = policies(&client, "MFA_ENROLL");
    let (listed, deprovisioned, holders, sign_on, enrollment) =
        tokio::join!(listed, deprovisioned, holders, sign_on, enrollment);
    let users = match (listed, deprovisioned) {
        (Ok(mut users), Ok(more)) => {
            users.extend(more);
            Ok(users)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };

    let mut factors = BTreeMap::new();
    if let Ok(users) = &users {
        let ids: Vec<String> = users
            .iter()
            .filter(|u| {
                u.status
                    .as_deref()
                    .is_some_and(|s| SIGN_IN_STATUSES.contains(&s))
            })
            .filter_map(|u| u.id.clone())
            .collect();
        factors = per_user::<Factor>(&client, ids, "factors").await;
    }
    let roles = match holders {
        Ok(ids) => Ok(per_user::<Role>(&client, ids, "roles").await),
        Err(e) => Err(e),
    };
    RawOrg {
        host: host.to_string(),
        users,
        factors,
        roles,
        sign_on,
        enrollment,
    }
}

/// The policies of one type; a failure names the type.
async fn policies(client: &Client, kind: &str) -> Fetched<Vec<Policy>> {
    let path = "/api/v1/policies";
    pages::<Policy>(client, path, &[("type", kind), ("limit", "200")])
        .await
        .map_err(|mut e| {
            if let Some(rest) = e.reason.strip_prefix(&format!("GET {path}")) {
                e.reason = format!("GET {path}?type={kind}{rest}");
            }
            e
        })
}

/// Global session policies (`type=OKTA_SIGN_ON`) and the rules of each (one call per policy).
async fn sign_on_policies(
    client: &Arc<Client>,
) -> Fetched<Vec<(Policy, Fetched<Vec<SignOnRule>>)>> {
    let policies = policies(client, "OKTA_SIGN_ON").await?;
    let mut tasks = JoinSet::new();
    for (index, policy) in policies.iter().enumerate() {
        let Some(id) = policy.id.clone() else {
            continue;
        };
        let client = Arc::clone(client);
        tasks.spawn(async move {
            let path = format!("/api/v1/policies/{id}/rules");
            let rules = match client.get(&path, &[]).await {
                Ok(page) => parse::<Vec<SignOnRule>>("/api/v1/policies/{id}/rules", &page.body),
                Err(e) => Err(e),
            };
            (index, rules)
        });
    }
    let mut rules = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        // A task only ends early if it panicked, which nothing in it can do.
        if let Ok((index, list)) = done {
            rules.insert(index, list);
        }
    }
    Ok(policies
        .into_iter()
        .enumerate()
        .map(|(index, policy)| {
            let list = rules.remove(&index).unwrap_or_else(|| {
                Err(ReadFailure::new(
                    "GET /api/v1/policies/{id}/rules: not read (the policy has no `id`)",
                ))
            });
            (policy, list)
        })
        .collect())
}

/// Ids of the users holding an admin role (`GET /api/v1/iam/assignees/users`).
async fn role_holders(client: &Client) -> Fetched<Vec<String>> {
    let path = "/api/v1/iam/assignees/users";
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = match &next {
            None => client.get(path, &[("limit", "100")]).await?,
            Some(url) => client.get(url, &[]).await?,
        };
        let parsed: RoleAssignedUsers = parse(path, &page.body)?;
        ids.extend(parsed.value.into_iter().filter_map(|u| u.id));
        let in_body = parsed.links.and_then(|l| l.next).and_then(|n| n.href);
        match page.next.or(in_body) {
            // The body's link is checked like the header's on the next request.
            Some(url) if Some(&url) != next.as_ref() => next = Some(url),
            _ => return Ok(ids),
        }
    }
    Err(too_many_pages(path))
}

/// Every item of a list that pages with `Link: rel="next"`.
async fn pages<T: DeserializeOwned>(
    client: &Client,
    path: &str,
    query: &[(&str, &str)],
) -> Fetched<Vec<T>> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = match &next {
            None => client.get(path, query).await?,
            Some(url) => client.get(url, &[]).await?,
        };
        let items: Vec<T> = parse(path, &page.body)?;
        out.extend(items);
        match page.next {
            Some(url) => next = Some(url),
            None => return Ok(out),
        }
    }
    Err(too_many_pages(path))
}

/// `GET /api/v1/users/{id}/{what}` for every id, concurrently within the client's bound.
async fn per_user<T: DeserializeOwned + Send + 'static>(
    client: &Arc<Client>,
    ids: Vec<String>,
    what: &'static str,
) -> BTreeMap<String, Fetched<Vec<T>>> {
    let mut tasks = JoinSet::new();
    for id in ids {
        let client = Arc::clone(client);
        tasks.spawn(async move {
            let path = format!("/api/v1/users/{id}/{what}");
            let list = match client.get(&path, &[]).await {
                Ok(page) => parse::<Vec<T>>(&format!("/api/v1/users/{{id}}/{what}"), &page.body),
                Err(e) => Err(e),
            };
            (id, list)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        // A task only ends early if it panicked, which nothing in it can do.
        if let Ok((id, list)) = done {
            out.insert(id, list);
        }
    }
    out
}

fn parse<T: DeserializeOwned>(path: &str, body: &str) -> Fetched<T> {
    serde_json::from_str(body)
        .map_err(|e| ReadFailure::new(format!("GET {path}: unexpected response shape: {e}")))
}

fn too_many_pages(path: &str) -> ReadFailure {
    ReadFailure::new(format!(
        "GET {path}: more than {MAX_PAGES} pages; the list was not read to its end"
    ))
}
