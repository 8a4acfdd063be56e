//! The async fetch of raw API data for one organization: settings, people, repositories and,
//! per default branch, classic protection, effective rules and ruleset details.
//!
//! Request budget per repository: classic protection + effective rules (+ one ruleset detail per
//! repository-level ruleset). Organization and enterprise rulesets are fetched once per run.
//! Archived and disabled repositories are read-only, so their protection is not read.
//!
//! This module only fetches and classifies HTTP answers into data or [`ReadFailure`]; turning
//! them into facts is [`crate::mapping`]'s job.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use tokio::task::JoinSet;

use crate::client::{describe, Client};
use crate::mapping::glob_matches;
use crate::progress::Event;
use crate::raw::{
    BranchPayload, CodeownersErrorsPayload, DeployKeyPayload, EnabledPayload, EnvironmentsPayload,
    Fetched, OrgPayload, ProtectionPayload, RawBranch, RawOrg, RawRepo, RawRepoSettings,
    ReadFailure, RepoPayload, RulePayload, RuleSuitePayload, RulesetPayload, StatusChecksPayload,
    UserPayload, WorkflowPermissionsPayload,
};

/// One ruleset's details, fetched by whichever repository asks first.
type RulesetCell = OnceCell<Fetched<RulesetPayload>>;

/// Ruleset details by id, fetched once per run however many repositories they apply to.
#[derive(Clone, Default)]
pub struct RulesetCache {
    cells: Arc<Mutex<HashMap<u64, Arc<RulesetCell>>>>,
}

impl RulesetCache {
    async fn get(&self, client: &Client, repo: &str, id: u64) -> Fetched<RulesetPayload> {
        let cell = match self.cells.lock() {
            Ok(mut cells) => cells.entry(id).or_default().clone(),
            // A poisoned map only means another task panicked; fetch without caching.
            Err(_) => Arc::new(OnceCell::new()),
        };
        cell.get_or_init(|| async {
            // `includes_parents` makes the repository endpoint return org and enterprise
            // rulesets too, with repository-level permissions only.
            client
                .get_json(&format!(
                    "/repos/{repo}/rulesets/{id}?includes_parents=true"
                ))
                .await
        })
        .await
        .clone()
    }
}

/// What to read beyond the defaults, for every repository.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Globs of branches judged besides the default branch (`--branch`).
    pub branches: Vec<String>,
    /// Days of operating evidence to read (`--changes-since`); `None`: none.
    pub window_days: Option<u32>,
}

/// The organization's SAML identity provider, which GitHub shows only to owners (and to Apps with
/// Members access); `viewerCanAdminister` tells a `null` meaning "none" from "not shown".
pub const SAML_QUERY: &str = "query($login: String!) { organization(login: $login) { viewerCanAdminister samlIdentityProvider { ssoUrl } } }";

/// Fetches one organization. `only` limits the repositories to these names (`--repo`).
pub async fn fetch_org(
    client: &Client,
    org: &str,
    only: Option<&[String]>,
    scope: &Scope,
    cache: &RulesetCache,
) -> RawOrg {
    let branches: Arc<Scope> = Arc::new(scope.clone());
    let org_path = format!("/orgs/{org}");
    let actions_path = format!("/orgs/{org}/actions/permissions/workflow");
    let saml_query = serde_json::json!({"query": SAML_QUERY, "variables": {"login": org}});
    let people = |query: &str| {
        let path = format!("/orgs/{org}/{query}");
        async move { client.get_all::<UserPayload>(&path).await }
    };
    let (
        settings,
        members,
        admins,
        members_2fa_disabled,
        members_2fa_insecure,
        collaborators,
        collaborators_2fa_disabled,
        collaborators_2fa_insecure,
        actions,
        saml,
        (repos, repo_listing_error, unreadable_repos),
    ) = tokio::join!(
        client.get_json::<OrgPayload>(&org_path),
        people("members?per_page=100"),
        people("members?role=admin&per_page=100"),
        people("members?filter=2fa_disabled&per_page=100"),
        people("members?filter=2fa_insecure&per_page=100"),
        people("outside_collaborators?per_page=100"),
        people("outside_collaborators?filter=2fa_disabled&per_page=100"),
        people("outside_collaborators?filter=2fa_insecure&per_page=100"),
        client.get_json::<WorkflowPermissionsPayload>(&actions_path),
        client.graphql(&saml_query),
        fetch_repos(client, org, only, &branches, cache),
    );
    RawOrg {
        login: org.to_string(),
        settings,
        members,
        admins,
        members_2fa_disabled,
        members_2fa_insecure,
        collaborators,
        collaborators_2fa_disabled,
        collaborators_2fa_insecure,
        actions,
        saml,
        changes: None,
        change_branches: Vec::new(),
        changes_until: None,
        repos,
        repo_listing_error,
        unreadable_repos,
    }
}

type RepoResults = (
    Vec<RawRepo>,
    Option<ReadFailure>,
    Vec<(String, ReadFailure)>,
);

async fn fetch_repos(
    client: &Client,
    org: &str,
    only: Option<&[String]>,
    branches: &Arc<Scope>,
    cache: &RulesetCache,
) -> RepoResults {
    let mut tasks: JoinSet<Result<RawRepo, (String, ReadFailure)>> = JoinSet::new();
    let mut listing_error = None;
    match only {
        None => {
            // Each page's repositories start while the next page is requested.
            let listed = client
                .get_pages::<RepoPayload>(
                    &format!("/orgs/{org}/repos?type=all&per_page=100"),
                    |page| {
                        client.progress().event(&Event::ReposFound {
                            org,
                            count: page.len(),
                        });
                        for repo in page {
                            let (client, cache, org, branches) = (
                                client.clone(),
                                cache.clone(),
                                org.to_string(),
                                branches.clone(),
                            );
                            tasks.spawn(async move {
                                let raw = fetch_repo(&client, repo, &branches, &cache).await;
                                client.progress().event(&Event::RepoDone { org: &org });
                                Ok(raw)
                            });
                        }
                    },
                )
                .await;
            listing_error = listed.err();
        }
        Some(names) => {
            client.progress().event(&Event::ReposFound {
                org,
                count: names.len(),
            });
            for name in names {
                let (client, cache, org, branches) = (
                    client.clone(),
                    cache.clone(),
                    org.to_string(),
                    branches.clone(),
                );
                let full = format!("{org}/{name}");
                tasks.spawn(async move {
                    let repo = client
                        .get_json::<RepoPayload>(&format!("/repos/{full}"))
                        .await
                        .map_err(|u| (full.clone(), u));
                    let result = match repo {
                        Ok(repo) => Ok(fetch_repo(&client, repo, &branches, &cache).await),
                        Err(e) => Err(e),
                    };
                    client.progress().event(&Event::RepoDone { org: &org });
                    result
                });
            }
        }
    }
    let mut repos = Vec::new();
    let mut unreadable = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(repo)) => repos.push(repo),
            Ok(Err(e)) => unreadable.push(e),
            // A task only ends without a result if it panicked: the listing is incomplete.
            Err(e) => {
                listing_error = listing_error.or(Some(ReadFailure::new(format!(
                    "collecting a repository of `{org}` failed: {e}"
                ))))
            }
        }
    }
    repos.sort_by(|a, b| a.repo.full_name.cmp(&b.repo.full_name));
    // A page boundary can move while listing; the same repository must appear once.
    repos.dedup_by(|a, b| a.repo.full_name == b.repo.full_name);
    unreadable.sort_by(|a, b| a.0.cmp(&b.0));
    (repos, listing_error, unreadable)
}

/// Fetches a repository's settings, its default branch protection and that of the branches
/// matching `branches`.
pub async fn fetch_repo(
    client: &Client,
    repo: RepoPayload,
    scope: &Scope,
    cache: &RulesetCache,
) -> RawRepo {
    let branches = &scope.branches[..];
    if repo.archived || repo.disabled {
        // Read-only: nothing in it can change, so nothing more is read.
        return RawRepo {
            repo,
            branch: None,
            settings: None,
            other_branches: Ok(Vec::new()),
        };
    }
    let default = repo.default_branch.clone().filter(|b| !b.is_empty());
    let (settings, branch, other_branches) = tokio::join!(
        fetch_settings(client, &repo.full_name, scope.window_days),
        async {
            match &default {
                Some(name) => Some(fetch_branch(client, &repo.full_name, name, cache).await),
                None => None,
            }
        },
        fetch_matching_branches(client, &repo.full_name, default.as_deref(), branches, cache),
    );
    RawRepo {
        repo,
        branch,
        settings: Some(settings),
        other_branches,
    }
}

/// The protection of every branch (other than the default) whose name matches a pattern; one
/// listing request plus the per-branch reads, and nothing at all without patterns.
async fn fetch_matching_branches(
    client: &Client,
    full: &str,
    default: Option<&str>,
    patterns: &[String],
    cache: &RulesetCache,
) -> Fetched<Vec<RawBranch>> {
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let listed = client
        .get_all::<BranchPayload>(&format!("/repos/{full}/branches?per_page=100"))
        .await?;
    let mut out = Vec::new();
    for b in listed {
        let matches = patterns.iter().any(|p| glob_matches(p, &b.name));
        if matches && Some(b.name.as_str()) != default {
            out.push(fetch_branch(client, full, &b.name, cache).await);
        }
    }
    Ok(out)
}

/// Actions policy, CODEOWNERS errors, deploy keys and environments: four requests; with an
/// evidence window, the rule suites that bypassed a ruleset too.
async fn fetch_settings(client: &Client, full: &str, window_days: Option<u32>) -> RawRepoSettings {
    let actions_path = format!("/repos/{full}/actions/permissions/workflow");
    let keys_path = format!("/repos/{full}/keys?per_page=100");
    let (actions, codeowners, deploy_keys, environments, bypasses) = tokio::join!(
        client.get_json::<WorkflowPermissionsPayload>(&actions_path),
        fetch_codeowners(client, full),
        client.get_all::<DeployKeyPayload>(&keys_path),
        fetch_environments(client, full),
        async {
            match window_days {
                Some(days) => Some(fetch_bypasses(client, full, days).await),
                None => None,
            }
        },
    );
    RawRepoSettings {
        actions,
        codeowners,
        deploy_keys,
        environments,
        bypasses,
    }
}

/// Rule suites whose result was `bypass`, over the smallest period GitHub offers that covers
/// the window (`day`, `week`, `month`; GitHub keeps about a month); the mapping keeps those
/// inside the window. A plan without rulesets has none.
async fn fetch_bypasses(
    client: &Client,
    full: &str,
    days: u32,
) -> (&'static str, Fetched<Vec<RuleSuitePayload>>) {
    let period = match days {
        0..=1 => "day",
        2..=7 => "week",
        _ => "month",
    };
    let suites = client
        .get_all::<RuleSuitePayload>(&format!(
            "/repos/{full}/rulesets/rule-suites?rule_suite_result=bypass&time_period={period}&per_page=100"
        ))
        .await
        .or_else(|u| plan_without_feature(u, Vec::new()));
    (period, suites)
}

/// GitHub answers 404 both when there is no CODEOWNERS file and when the token cannot read the
/// repository's contents: unknown either way, with both explanations.
async fn fetch_codeowners(client: &Client, full: &str) -> Fetched<CodeownersErrorsPayload> {
    let path = format!("/repos/{full}/codeowners/errors");
    let reply = client.get(&path).await?;
    match reply.status {
        200 => serde_json::from_str(&reply.body)
            .map_err(|e| ReadFailure::new(format!("GET {path}: unexpected response shape ({e})"))),
        404 => {
            let mut u = describe(&path, &reply);
            u.reason.push_str(
                " (no CODEOWNERS file in the default branch, or the token lacks Contents read: GitHub answers 404 to both)",
            );
            Err(u)
        }
        _ => Err(describe(&path, &reply)),
    }
}

/// Environments come in an object, not a list: one page of 100; more is an unknown rest.
async fn fetch_environments(client: &Client, full: &str) -> Fetched<EnvironmentsPayload> {
    let path = format!("/repos/{full}/environments?per_page=100");
    let envs: EnvironmentsPayload = client.get_json(&path).await?;
    match envs.total_count {
        Some(total) if total > envs.environments.len() as u64 => Err(ReadFailure::new(format!(
            "GET {path}: {total} environments, more than one page of {} (not collected)",
            envs.environments.len()
        ))),
        _ => Ok(envs),
    }
}

/// Fetches a branch's effective protection: classic protection, effective rules and the
/// details of the rulesets they come from.
async fn fetch_branch(
    client: &Client,
    full: &str,
    branch: &str,
    cache: &RulesetCache,
) -> RawBranch {
    let encoded = encode_branch(branch);
    let classic_path = format!("/repos/{full}/branches/{encoded}/protection");
    let rules_path = format!("/repos/{full}/rules/branches/{encoded}?per_page=100");
    let (classic, rules) = tokio::join!(
        fetch_classic(client, &classic_path),
        client.get_all::<RulePayload>(&rules_path),
    );
    let rules = rules.or_else(|u| plan_without_feature(u, Vec::new()));
    let (classic, completion) = complete_classic(client, &classic_path, classic).await;
    let mut rulesets = BTreeMap::new();
    if let Ok(rules) = &rules {
        let ids: BTreeSet<u64> = rules.iter().filter_map(|r| r.ruleset_id).collect();
        for id in ids {
            rulesets.insert(id, cache.get(client, full, id).await);
        }
    }
    RawBranch {
        name: branch.to_string(),
        classic,
        signatures_error: completion.signatures,
        status_checks_error: completion.status_checks,
        rules,
        rulesets,
    }
}

/// Classic protection: 200 is the protection; 404 "Branch not protected" (or "Branch not found",
/// for an empty repository) is the fact that there is none; any other 404 is GitHub hiding the
/// endpoint from a token without admin rights, so unknown.
async fn fetch_classic(client: &Client, path: &str) -> Fetched<Option<ProtectionPayload>> {
    let reply = client.get(path).await?;
    match reply.status {
        200 => serde_json::from_str(&reply.body)
            .map(Some)
            .map_err(|e| ReadFailure::new(format!("GET {path}: unexpected response shape ({e})"))),
        404 => {
            let message = reply.message();
            if message == "Branch not protected" || message == "Branch not found" {
                Ok(None)
            } else {
                let mut u = describe(path, &reply);
                u.reason.push_str(
                    " (GitHub answers 404 when the token lacks admin rights on the repository: it needs Administration read)",
                );
                Err(u)
            }
        }
        _ => plan_without_feature(describe(path, &reply), None),
    }
}

/// What [`complete_classic`] could not read.
#[derive(Default)]
struct Completion {
    signatures: Option<ReadFailure>,
    status_checks: Option<ReadFailure>,
}

/// GitHub's example protection payload, and some servers, leave `required_signatures` or the
/// `strict`/`checks` of `required_status_checks` out; their dedicated endpoints
/// (`GET …/protection/required_signatures`, `GET …/protection/required_status_checks`, where
/// those fields are required) then say: one extra request each, only in that case. A failure is
/// kept to explain the unknown fact.
async fn complete_classic(
    client: &Client,
    classic_path: &str,
    classic: Fetched<Option<ProtectionPayload>>,
) -> (Fetched<Option<ProtectionPayload>>, Completion) {
    let mut done = Completion::default();
    let mut p = match classic {
        Ok(Some(p)) => p,
        other => return (other, done),
    };
    if p.required_signatures.is_none() {
        let path = format!("{classic_path}/required_signatures");
        match client.get_json::<EnabledPayload>(&path).await {
            Ok(signatures) => p.required_signatures = Some(signatures),
            Err(u) => done.signatures = Some(u),
        }
    }
    if let Some(checks) = &mut p.required_status_checks {
        if checks.strict.is_none() || checks.checks.is_none() || checks.contexts.is_none() {
            let path = format!("{classic_path}/required_status_checks");
            match client.get_json::<StatusChecksPayload>(&path).await {
                Ok(policy) => {
                    checks.strict = checks.strict.or(policy.strict);
                    checks.checks = checks.checks.take().or(policy.checks);
                    checks.contexts = checks.contexts.take().or(policy.contexts);
                }
                Err(u) => done.status_checks = Some(u),
            }
        }
    }
    (Ok(Some(p)), done)
}

/// GitHub answers 403 "Upgrade to GitHub Pro or make this repository public to enable this
/// feature." for protection and rulesets of private repositories on plans without them: then
/// nothing of that kind can apply, which is a fact, not an unknown.
fn plan_without_feature<T>(u: ReadFailure, none: T) -> Fetched<T> {
    if u.reason.contains("Upgrade to GitHub Pro") {
        Ok(none)
    } else {
        Err(u)
    }
}

/// Percent-encodes a branch name for a path (slashes stay: GitHub routes them).
fn encode_branch(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn branch_names_are_encoded_for_paths() {
        assert_eq!(super::encode_branch("release/1.2"), "release/1.2");
        assert_eq!(super::encode_branch("fix#1 ü"), "fix%231%20%C3%BC");
    }
}
