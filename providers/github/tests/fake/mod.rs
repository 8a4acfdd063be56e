//! A fake GitHub REST API on 127.0.0.1 (wiremock) answering with GitHub's real payload shapes
//! (from the REST docs / OpenAPI description): `Link` pagination with absolute URLs, the real
//! 404 bodies, `x-ratelimit-*` headers, and an optional GitHub Enterprise Server `/api/v3` prefix.
//!
//! The "acme" organization holds one repository per protection case the collector must get
//! right; `ACME_CASES` documents them.

#![allow(dead_code)] // the provider's tests and the CLI's each use a different part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use trustcheck_github::{
    collect, Auth, Config, Event, OrgCollection, Progress, RetryPolicy, Token,
};
use trustcheck_snapshot::Snapshot;
use wiremock::matchers::{
    body_string_contains, method, path, path_regex, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The provider's recorded payloads (this module serves the provider's tests and the CLI's).
pub fn fixtures_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if dir.ends_with("providers/github") {
        dir.join("fixtures")
    } else {
        dir.join("providers/github/fixtures")
    }
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures_dir().join(name)).expect("fixture exists")
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixture is JSON")
}

/// The fake server and the API prefix it serves under (`""` or `"/api/v3"`).
pub struct Fake {
    pub server: MockServer,
    pub prefix: String,
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A response with GitHub's usual headers.
pub fn reply(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json; charset=utf-8")
        .insert_header("x-github-api-version-selected", "2022-11-28")
        .insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", "4321")
        .insert_header("x-ratelimit-used", "679")
        .insert_header("x-ratelimit-resource", "core")
        .insert_header(
            "x-ratelimit-reset",
            (unix_now() + 3600).to_string().as_str(),
        )
        .insert_header("x-github-request-id", "8A2C:3B7E:1F0A2B:2C4D6E:6740B1C2")
        .set_body_json(body)
}

pub fn simple_user(login: &str, id: u64) -> Value {
    json!({
        "login": login, "id": id, "node_id": format!("MDQ6VXNlcj{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "", "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("https://api.github.com/users/{login}/followers"),
        "following_url": format!("https://api.github.com/users/{login}/following{{/other_user}}"),
        "gists_url": format!("https://api.github.com/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("https://api.github.com/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("https://api.github.com/users/{login}/subscriptions"),
        "organizations_url": format!("https://api.github.com/users/{login}/orgs"),
        "repos_url": format!("https://api.github.com/users/{login}/repos"),
        "events_url": format!("https://api.github.com/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("https://api.github.com/users/{login}/received_events"),
        "type": "User", "user_view_type": "public", "site_admin": false
    })
}

pub fn minimal_repo(org: &str, name: &str, id: u64, archived: bool) -> Value {
    json!({
        "id": id, "node_id": format!("R_kgDO{id}"), "name": name,
        "full_name": format!("{org}/{name}"), "private": true,
        "owner": { "login": org, "id": 1001, "node_id": "MDEyOk9yZ2FuaXphdGlvbjEwMDE=",
                   "type": "Organization", "site_admin": false,
                   "url": format!("https://api.github.com/users/{org}") },
        "html_url": format!("https://github.com/{org}/{name}"),
        "description": null, "fork": false,
        "url": format!("https://api.github.com/repos/{org}/{name}"),
        "created_at": "2024-02-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z",
        "pushed_at": "2026-11-20T10:00:00Z", "size": 2048, "stargazers_count": 0,
        "watchers_count": 0, "language": "Rust", "forks_count": 0, "archived": archived,
        "disabled": false, "open_issues_count": 0, "license": null, "allow_forking": false,
        "is_template": false, "topics": [], "visibility": "private", "forks": 0,
        "open_issues": 0, "watchers": 0, "default_branch": "main",
        "permissions": { "admin": true, "maintain": true, "push": true, "triage": true, "pull": true },
        "security_and_analysis": security_and_analysis("enabled")
    })
}

/// `security_and_analysis` with every feature in `status`.
pub fn security_and_analysis(status: &str) -> Value {
    json!({
        "advanced_security": { "status": status },
        "dependabot_security_updates": { "status": status },
        "secret_scanning": { "status": status },
        "secret_scanning_push_protection": { "status": status },
        "secret_scanning_non_provider_patterns": { "status": "disabled" },
        "secret_scanning_ai_detection": { "status": "disabled" }
    })
}

/// A deploy key (`deploy-key`).
pub fn deploy_key(id: u64, title: &str, read_only: bool) -> Value {
    json!({
        "id": id, "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly",
        "url": format!("https://api.github.com/repos/acme/r/keys/{id}"), "title": title,
        "verified": true, "created_at": "2026-01-05T10:00:00Z", "read_only": read_only,
        "added_by": "alice", "last_used": "2026-11-20T10:00:00Z", "enabled": true
    })
}

/// An environment (`environment`) with `reviewers` required reviewers (none: no such rule).
pub fn environment(id: u64, name: &str, reviewers: usize, protected_branches: bool) -> Value {
    let mut rules =
        vec![json!({"id": id * 10, "node_id": "GA_1", "type": "wait_timer", "wait_timer": 5})];
    if reviewers > 0 {
        let list: Vec<Value> = (0..reviewers)
            .map(|i| json!({"type": "User", "reviewer": simple_user(&format!("reviewer{i}"), 700 + i as u64)}))
            .collect();
        rules.push(
            json!({"id": id * 10 + 1, "node_id": "GA_2", "prevent_self_review": true,
                          "type": "required_reviewers", "reviewers": list}),
        );
    }
    json!({
        "id": id, "node_id": format!("EN_{id}"), "name": name,
        "url": format!("https://api.github.com/repos/acme/r/environments/{name}"),
        "html_url": format!("https://github.com/acme/r/deployments/activity_log?environments_filter={name}"),
        "created_at": "2026-01-05T10:00:00Z", "updated_at": "2026-10-05T10:00:00Z",
        "protection_rules": rules,
        "deployment_branch_policy": if protected_branches {
            json!({"protected_branches": true, "custom_branch_policies": false})
        } else { Value::Null }
    })
}

/// How a repository's settings endpoints answer in the fake.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Settings {
    /// Read-only token, no approvals by Actions, valid CODEOWNERS, a read-only key, a reviewed
    /// production environment.
    Good,
    /// Write token, Actions can approve, CODEOWNERS errors, a read-write key, a production
    /// environment without reviewers.
    Weak,
    /// GitHub's 404 for a token that cannot see the settings.
    NotFound,
    /// A fine-grained token without the permissions: 403 naming them.
    Forbidden,
}

/// One effective rule as `/rules/branches/{b}` returns it.
pub fn rule(
    rule_type: &str,
    params: Option<Value>,
    source_type: &str,
    source: &str,
    id: u64,
) -> Value {
    let mut r = json!({
        "type": rule_type, "ruleset_source_type": source_type,
        "ruleset_source": source, "ruleset_id": id
    });
    if let Some(p) = params {
        r["parameters"] = p;
    }
    r
}

pub fn pull_request(approvals: u64, stale: bool, code_owner: bool) -> Value {
    json!({
        "required_approving_review_count": approvals,
        "dismiss_stale_reviews_on_push": stale,
        "require_code_owner_review": code_owner,
        "require_last_push_approval": false,
        "required_review_thread_resolution": false,
        "allowed_merge_methods": ["merge", "squash", "rebase"]
    })
}

pub fn status_checks() -> Value {
    json!({
        "strict_required_status_checks_policy": true,
        "do_not_enforce_on_create": false,
        "required_status_checks": [{ "context": "ci/build", "integration_id": 15368 }]
    })
}

/// Every rule that makes a branch compliant, from one ruleset.
pub fn full_rules(source_type: &str, source: &str, id: u64) -> Vec<Value> {
    vec![
        rule("deletion", None, source_type, source, id),
        rule("non_fast_forward", None, source_type, source, id),
        rule(
            "pull_request",
            Some(pull_request(1, true, true)),
            source_type,
            source,
            id,
        ),
        rule(
            "required_status_checks",
            Some(status_checks()),
            source_type,
            source,
            id,
        ),
        rule("required_signatures", None, source_type, source, id),
    ]
}

/// A ruleset detail.
pub fn ruleset(
    id: u64,
    source_type: &str,
    source: &str,
    enforcement: &str,
    include: &str,
    bypass: Option<Value>,
) -> Value {
    let mut r = json!({
        "id": id, "name": format!("ruleset {id}"), "target": "branch",
        "source_type": source_type, "source": source, "enforcement": enforcement,
        "conditions": { "ref_name": { "exclude": [], "include": [include] } },
        "rules": [],
        "node_id": format!("RRS_{id}"),
        "created_at": "2026-03-02T10:11:12.000Z", "updated_at": "2026-09-14T08:00:01.000Z",
        "current_user_can_bypass": "never"
    });
    if let Some(b) = bypass {
        r["bypass_actors"] = b;
    }
    r
}

impl Fake {
    pub async fn start(prefix: &str) -> Self {
        Self {
            server: MockServer::start().await,
            prefix: prefix.to_string(),
        }
    }

    pub fn api_url(&self) -> String {
        format!("{}{}", self.server.uri(), self.prefix)
    }

    fn p(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// `GET path` (any query) answers `response`.
    pub async fn get(&self, rest: &str, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(self.p(rest)))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// `GET path` answers `response` exactly `times` times (then the next matching mock answers).
    pub async fn get_times(&self, rest: &str, response: ResponseTemplate, times: u64) {
        Mock::given(method("GET"))
            .and(path(self.p(rest)))
            .respond_with(response)
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// A list at `rest` (no `filter`/`role`), split over two pages linked like GitHub does, plus
    /// the filtered variants.
    pub async fn people(
        &self,
        rest: &str,
        page2: &str,
        all: &[&str],
        admins: Option<&[&str]>,
        disabled: &[&str],
        insecure: &[&str],
    ) {
        let users = |names: &[&str]| -> Value {
            Value::Array(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| simple_user(n, 500 + i as u64))
                    .collect(),
            )
        };
        let (first, second) = all.split_at(all.len().div_ceil(2));
        let next = format!("{}{page2}?per_page=100&page=2", self.api_url());
        let link = format!("<{next}>; rel=\"next\", <{next}>; rel=\"last\"");
        Mock::given(method("GET"))
            .and(path(self.p(rest)))
            .and(query_param_is_missing("filter"))
            .and(query_param_is_missing("role"))
            .respond_with(reply(200, users(first)).insert_header("link", link.as_str()))
            .mount(&self.server)
            .await;
        let prev = format!("{}{page2}?per_page=100&page=1", self.api_url());
        Mock::given(method("GET"))
            .and(path(self.p(page2)))
            .and(query_param("page", "2"))
            .respond_with(reply(200, users(second)).insert_header(
                "link",
                format!("<{prev}>; rel=\"prev\", <{prev}>; rel=\"first\"").as_str(),
            ))
            .mount(&self.server)
            .await;
        if let Some(admins) = admins {
            Mock::given(method("GET"))
                .and(path(self.p(rest)))
                .and(query_param("role", "admin"))
                .respond_with(reply(200, users(admins)))
                .mount(&self.server)
                .await;
        }
        for (filter, list) in [("2fa_disabled", disabled), ("2fa_insecure", insecure)] {
            Mock::given(method("GET"))
                .and(path(self.p(rest)))
                .and(query_param("filter", filter))
                .respond_with(reply(200, users(list)))
                .mount(&self.server)
                .await;
        }
    }

    /// `/orgs/{org}/repos` over two pages (`Link` to `/organizations/{id}/repos?page=2`).
    pub async fn repos(&self, org: &str, repos: &[Value]) {
        let (first, second) = repos.split_at(repos.len().div_ceil(2));
        let next = format!(
            "{}/organizations/1001/repos?type=all&per_page=100&page=2",
            self.api_url()
        );
        Mock::given(method("GET"))
            .and(path(self.p(&format!("/orgs/{org}/repos"))))
            .respond_with(reply(200, Value::Array(first.to_vec())).insert_header(
                "link",
                format!("<{next}>; rel=\"next\", <{next}>; rel=\"last\"").as_str(),
            ))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path(self.p("/organizations/1001/repos")))
            .and(query_param("page", "2"))
            .respond_with(reply(200, Value::Array(second.to_vec())))
            .mount(&self.server)
            .await;
    }

    pub async fn protection(&self, repo: &str, response: ResponseTemplate) {
        self.get(&format!("/repos/{repo}/branches/main/protection"), response)
            .await;
    }

    /// The Actions policy, CODEOWNERS errors, deploy keys and environments of `repo`.
    pub async fn settings(&self, repo: &str, kind: Settings) {
        let base = format!("/repos/{repo}");
        let not_found = || reply(404, fixture_json("not_found_404.json"));
        let forbidden = |perm: &str| {
            reply(403, fixture_json("forbidden_403.json"))
                .insert_header("x-accepted-github-permissions", perm)
        };
        let (actions, codeowners, keys, envs) = match kind {
            Settings::Good => (
                reply(
                    200,
                    json!({"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false}),
                ),
                reply(200, json!({"errors": []})),
                reply(200, json!([deploy_key(1, "ci read", true)])),
                reply(
                    200,
                    json!({"total_count": 2, "environments": [
                        environment(1, "production", 2, true), environment(2, "staging", 0, false)
                    ]}),
                ),
            ),
            Settings::Weak => (
                reply(
                    200,
                    json!({"default_workflow_permissions": "write", "can_approve_pull_request_reviews": true}),
                ),
                reply(
                    200,
                    json!({"errors": [{
                        "line": 3, "column": 1, "kind": "Unknown owner", "source": "* @acme/ghosts\n",
                        "suggestion": null,
                        "message": "Unknown owner on line 3: make sure @acme/ghosts exists and has write access to the repository\n\n  * @acme/ghosts\n    ^",
                        "path": ".github/CODEOWNERS"
                    }]}),
                ),
                reply(
                    200,
                    json!([
                        deploy_key(2, "deploy bot", false),
                        deploy_key(3, "mirror", true)
                    ]),
                ),
                reply(
                    200,
                    json!({"total_count": 1, "environments": [environment(3, "Prod-EU", 0, false)]}),
                ),
            ),
            Settings::NotFound => (not_found(), not_found(), not_found(), not_found()),
            Settings::Forbidden => (
                forbidden("actions=read"),
                forbidden("contents=read"),
                forbidden("administration=read"),
                forbidden("actions=read"),
            ),
        };
        self.get(&format!("{base}/actions/permissions/workflow"), actions)
            .await;
        self.get(&format!("{base}/codeowners/errors"), codeowners)
            .await;
        self.get(&format!("{base}/keys"), keys).await;
        self.get(&format!("{base}/environments"), envs).await;
    }

    pub async fn rules(&self, repo: &str, rules: Vec<Value>) {
        self.get(
            &format!("/repos/{repo}/rules/branches/main"),
            reply(200, Value::Array(rules)),
        )
        .await;
    }

    /// A ruleset detail served for any repository of `org` (org rulesets are reached through
    /// each repository with `includes_parents=true`); `expect` pins how often it is fetched.
    pub async fn ruleset(&self, org: &str, id: u64, body: Value, expect: Option<u64>) {
        let mut mock = Mock::given(method("GET"))
            .and(path_regex(format!(
                "^{}/repos/{org}/[^/]+/rulesets/{id}$",
                self.prefix
            )))
            .and(query_param("includes_parents", "true"))
            .respond_with(reply(200, body));
        if let Some(n) = expect {
            mock = mock.expect(n);
        }
        mock.mount(&self.server).await;
    }

    /// The "acme" org with one repository per case (see [`ACME_CASES`]); every ruleset detail
    /// must be fetched exactly once (archived repositories not at all).
    pub async fn mount_acme(&self) {
        self.mount_acme_with(true).await;
    }

    /// GraphQL: the organization's SAML identity provider, configured (whatever the endpoint
    /// path, so that GitHub Enterprise Server's `/api/graphql` is answered too).
    pub async fn saml(&self) {
        Mock::given(method("POST"))
            .and(body_string_contains("samlIdentityProvider"))
            .respond_with(reply(
                200,
                json!({"data": {"organization": {"viewerCanAdminister": true,
                    "samlIdentityProvider": {"ssoUrl": "https://idp.example.com/saml/acme"}}}}),
            ))
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// [`Fake::mount_acme`] without request-count expectations (for partial collections).
    pub async fn mount_acme_partial(&self) {
        self.mount_acme_with(false).await;
    }

    async fn mount_acme_with(&self, strict: bool) {
        let once = |n: u64| strict.then_some(n);
        self.get("/user", reply(200, simple_user("soc2-bot", 42)))
            .await;
        self.get("/orgs/acme", reply(200, fixture_json("org.json")))
            .await;
        self.people(
            "/orgs/acme/members",
            "/organizations/1001/members",
            &["alice", "bob", "carol", "dave"],
            Some(&["alice"]),
            &["bob"],
            &["carol"],
        )
        .await;
        self.people(
            "/orgs/acme/outside_collaborators",
            "/organizations/1001/outside_collaborators",
            &["vendor-1", "vendor-2"],
            None,
            &["vendor-1"],
            &[],
        )
        .await;
        self.saml().await;
        self.get(
            "/orgs/acme/actions/permissions/workflow",
            reply(200, json!({"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false})),
        )
        .await;
        let repos: Vec<Value> = ACME_CASES
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                let mut repo = minimal_repo("acme", name, 9000 + i as u64, *name == "archived");
                match *name {
                    "classic-weak" => {
                        repo["security_and_analysis"] = security_and_analysis("disabled")
                    }
                    // GitHub leaves it out for callers without admin rights.
                    "no-admin" | "fine-grained" => {
                        repo.as_object_mut()
                            .map(|o| o.remove("security_and_analysis"));
                    }
                    _ => {}
                }
                repo
            })
            .collect();
        for (name, _) in ACME_CASES {
            let kind = match name {
                "archived" => continue,
                "classic-weak" => Settings::Weak,
                "no-admin" => Settings::NotFound,
                "fine-grained" => Settings::Forbidden,
                _ => Settings::Good,
            };
            self.settings(&format!("acme/{name}"), kind).await;
        }
        self.repos("acme", &repos).await;
        for repo in &repos {
            let name = repo["name"].as_str().unwrap_or_default();
            self.get(&format!("/repos/acme/{name}"), reply(200, repo.clone()))
                .await;
        }

        let not_protected = || reply(404, fixture_json("not_protected_404.json"));
        let none = Vec::new;

        self.protection(
            "acme/classic-good",
            reply(200, fixture_json("protection_compliant.json")),
        )
        .await;
        self.rules("acme/classic-good", none()).await;

        self.protection(
            "acme/classic-weak",
            reply(200, fixture_json("protection_weak.json")),
        )
        .await;
        self.rules("acme/classic-weak", none()).await;

        self.protection("acme/unprotected", not_protected()).await;
        self.rules("acme/unprotected", none()).await;

        self.protection("acme/ruleset-only", not_protected()).await;
        self.rules(
            "acme/ruleset-only",
            full_rules("Repository", "acme/ruleset-only", 101),
        )
        .await;
        self.ruleset(
            "acme",
            101,
            ruleset(
                101,
                "Repository",
                "acme/ruleset-only",
                "active",
                "~DEFAULT_BRANCH",
                Some(json!([])),
            ),
            once(1),
        )
        .await;

        // GitHub leaves rules of `evaluate` rulesets out of the effective rules.
        self.protection("acme/evaluate-mode", not_protected()).await;
        self.rules("acme/evaluate-mode", none()).await;
        self.ruleset(
            "acme",
            102,
            ruleset(
                102,
                "Repository",
                "acme/evaluate-mode",
                "evaluate",
                "~DEFAULT_BRANCH",
                Some(json!([])),
            ),
            once(0),
        )
        .await;

        self.protection("acme/admin-bypass", not_protected()).await;
        self.rules(
            "acme/admin-bypass",
            vec![
                rule(
                    "pull_request",
                    Some(pull_request(1, false, false)),
                    "Organization",
                    "acme",
                    4211,
                ),
                rule("non_fast_forward", None, "Organization", "acme", 4211),
                rule("deletion", None, "Organization", "acme", 4211),
            ],
        )
        .await;
        self.ruleset(
            "acme",
            4211,
            fixture_json("ruleset_org_admin_bypass.json"),
            once(1),
        )
        .await;

        // One org ruleset applying to two repositories: its detail is fetched once.
        for repo in ["org-baseline", "org-baseline-2"] {
            self.protection(&format!("acme/{repo}"), not_protected())
                .await;
            self.rules(
                &format!("acme/{repo}"),
                full_rules("Organization", "acme", 4300),
            )
            .await;
        }
        self.ruleset(
            "acme",
            4300,
            ruleset(
                4300,
                "Organization",
                "acme",
                "active",
                "~DEFAULT_BRANCH",
                Some(json!([])),
            ),
            once(1),
        )
        .await;

        // A ruleset for `release/*`: GitHub does not list it among main's rules.
        self.protection("acme/other-branch", not_protected()).await;
        self.rules("acme/other-branch", none()).await;
        self.ruleset(
            "acme",
            103,
            ruleset(
                103,
                "Repository",
                "acme/other-branch",
                "active",
                "refs/heads/release/*",
                Some(json!([])),
            ),
            once(0),
        )
        .await;

        // Classic requires reviews but allows force pushes and deletion; a ruleset blocks those.
        let mut together = fixture_json("protection_compliant.json");
        together["allow_force_pushes"]["enabled"] = json!(true);
        together["allow_deletions"]["enabled"] = json!(true);
        self.protection("acme/together", reply(200, together)).await;
        self.rules(
            "acme/together",
            vec![
                rule("deletion", None, "Repository", "acme/together", 104),
                rule("non_fast_forward", None, "Repository", "acme/together", 104),
            ],
        )
        .await;
        self.ruleset(
            "acme",
            104,
            ruleset(
                104,
                "Repository",
                "acme/together",
                "active",
                "~DEFAULT_BRANCH",
                Some(json!([])),
            ),
            once(1),
        )
        .await;

        // Archived: read-only, so its protection must not even be requested.
        Mock::given(method("GET"))
            .and(path_regex(format!(
                "^{}/repos/acme/archived/.*",
                self.prefix
            )))
            .respond_with(reply(500, json!({})))
            .expect(if strict { 0..1 } else { 0..u64::MAX })
            .mount(&self.server)
            .await;

        // A token without admin rights: GitHub hides classic protection behind a plain 404.
        self.protection(
            "acme/no-admin",
            reply(404, fixture_json("not_found_404.json")),
        )
        .await;
        self.rules("acme/no-admin", none()).await;

        // A fine-grained token without Administration read: 403 naming the permission.
        self.protection(
            "acme/fine-grained",
            reply(403, fixture_json("forbidden_403.json"))
                .insert_header("x-accepted-github-permissions", "administration=read"),
        )
        .await;
        self.rules("acme/fine-grained", none()).await;
    }
}

/// The repositories of "acme" and what each one shows.
pub const ACME_CASES: [(&str, &str); 13] = [
    ("classic-good", "classic protection, fully compliant"),
    (
        "classic-weak",
        "classic protection, weak, admins and a user can bypass",
    ),
    ("unprotected", "404 Branch not protected, no rulesets"),
    (
        "ruleset-only",
        "no classic protection; an active repository ruleset makes it compliant",
    ),
    ("evaluate-mode", "only a ruleset in evaluate mode"),
    (
        "admin-bypass",
        "org ruleset with OrganizationAdmin as bypass actor",
    ),
    ("org-baseline", "org ruleset, compliant, no bypass"),
    ("org-baseline-2", "same org ruleset (fetched once)"),
    ("other-branch", "a ruleset targeting release/* only"),
    ("together", "classic + ruleset, compliant only together"),
    ("archived", "archived repository"),
    ("no-admin", "token without admin rights (404 Not Found)"),
    (
        "fine-grained",
        "fine-grained token without Administration read (403)",
    ),
];

// Shared by the provider's tests and the CLI's: a collection configured against this fake.

pub const TOKEN: &str = "ghp_TESTtoken0123456789abcdefghijklmnopqrst";

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

pub fn config(fake: &Fake) -> Config {
    let mut c = Config::new(fake.api_url(), Auth::Token(Token::new(TOKEN)));
    c.orgs = vec!["acme".into()];
    c.retry = fast_retries();
    c
}

/// Progress events, for asserting that retries and waits happened.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<String>>);

impl Progress for Recorder {
    fn event(&self, event: &Event<'_>) {
        let line = match event {
            Event::Retrying { path, why, .. } => format!("retry {path}: {why}"),
            Event::Waiting { why, .. } => format!("wait: {why}"),
            _ => return,
        };
        self.0.lock().unwrap().push(line);
    }
}

impl Recorder {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

pub async fn run(config: &Config) -> (Vec<OrgCollection>, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let out = collect(config, recorder.clone())
        .await
        .expect("collection starts");
    (out, recorder)
}

/// What `collect github` writes: the provider's own conversion, with a fixed time.
pub fn to_snapshot(collections: &[OrgCollection]) -> Snapshot {
    let mut s = trustcheck_github::provider::to_snapshot(
        collections.to_vec(),
        time::macros::datetime!(2026-11-22 03:00:00 UTC),
    );
    s.collected_at = "2026-11-22T03:00:00Z".into();
    s
}

/// Mounts faults that answer before the normal mocks, `times` times each.
pub async fn inject_faults(fake: &Fake) {
    let bad_gateway = || reply(502, fixture_json("bad_gateway_502.json"));
    fake.get_times("/orgs/acme/repos", bad_gateway(), 1).await;
    fake.get_times(
        "/repos/acme/classic-good/branches/main/protection",
        bad_gateway(),
        2,
    )
    .await;
    fake.get_times(
        "/orgs/acme/outside_collaborators",
        reply(403, fixture_json("secondary_rate_limit_403.json")).insert_header("retry-after", "1"),
        1,
    )
    .await;
    fake.get_times(
        "/repos/acme/ruleset-only/rules/branches/main",
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(json!({"message": "You have exceeded a secondary rate limit."})),
        1,
    )
    .await;
    // The primary limit exhausted: 403 with remaining 0 until the reset a second from now.
    fake.get_times(
        "/orgs/acme",
        reply(403, json!({"message": "API rate limit exceeded for user ID 42.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", "status": "403"}))
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", (unix_now() + 1).to_string().as_str()),
        1,
    )
    .await;
}

/// A synthetic organization for the collection benchmark: answers like GitHub for org `bench`: repository `r{i}` has, by `i % 4`, classic protection;
/// an org ruleset; a repository ruleset; or weak classic protection plus the org ruleset.
pub struct SyntheticOrg {
    /// The server's base URL (for `Link` headers).
    pub base: String,
    /// Repositories in the organization.
    pub repos: usize,
    /// How long every answer takes.
    pub latency: Duration,
}

const ORG_RULESET: u64 = 7000;

impl SyntheticOrg {
    fn ok(&self, body: Value) -> ResponseTemplate {
        self.reply(200, body)
    }

    fn reply(&self, status: u16, body: Value) -> ResponseTemplate {
        ResponseTemplate::new(status)
            .insert_header("content-type", "application/json; charset=utf-8")
            .insert_header("x-ratelimit-limit", "15000")
            .insert_header("x-ratelimit-remaining", "14000")
            .insert_header("x-ratelimit-reset", "4102444800")
            .set_body_json(body)
            .set_delay(self.latency)
    }

    fn repo(&self, i: usize) -> Value {
        json!({
            "id": i, "name": format!("r{i}"), "full_name": format!("bench/r{i}"),
            "owner": {"login": "bench", "id": 1, "type": "Organization"},
            "private": true, "visibility": "private", "fork": false, "archived": false,
            "disabled": false, "default_branch": "main",
            "security_and_analysis": security_and_analysis(if i.is_multiple_of(2) { "enabled" } else { "disabled" })
        })
    }

    fn rules(&self, i: usize) -> Value {
        let (source_type, id) = match i % 4 {
            0 => return json!([]),
            2 => ("Repository", 10_000 + i as u64),
            _ => ("Organization", ORG_RULESET),
        };
        json!([
            {"type": "deletion", "ruleset_source_type": source_type, "ruleset_source": "bench", "ruleset_id": id},
            {"type": "non_fast_forward", "ruleset_source_type": source_type, "ruleset_source": "bench", "ruleset_id": id},
            {"type": "pull_request", "ruleset_source_type": source_type, "ruleset_source": "bench", "ruleset_id": id,
             "parameters": {"required_approving_review_count": 1, "dismiss_stale_reviews_on_push": true,
                            "require_code_owner_review": true, "require_last_push_approval": false,
                            "required_review_thread_resolution": false}}
        ])
    }
}

impl Respond for SyntheticOrg {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let query = request.url.query().unwrap_or_default();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["user"] => self.ok(json!({"login": "bench-bot", "id": 1})),
            ["graphql"] => self.ok(json!({"data": {"organization": {"viewerCanAdminister": true,
                "samlIdentityProvider": {"ssoUrl": "https://idp.example.com/saml/bench"}}}})),
            ["orgs", "bench"] => self.ok(json!({
                "login": "bench", "id": 1, "two_factor_requirement_enabled": true,
                "default_repository_permission": "read", "members_can_create_repositories": false,
                "members_can_create_public_repositories": false,
                "members_can_invite_outside_collaborators": false, "members_can_delete_repositories": false,
                "members_can_change_repo_visibility": false, "members_can_fork_private_repositories": false,
                "web_commit_signoff_required": true, "secret_scanning_enabled_for_new_repositories": true,
                "secret_scanning_push_protection_enabled_for_new_repositories": true,
                "dependabot_security_updates_enabled_for_new_repositories": true
            })),
            ["orgs", "bench", "members" | "outside_collaborators"] => {
                let users: Vec<Value> = (0..50)
                    .filter(|n| !query.contains("filter=") || n % 10 == 0)
                    .map(|n| json!({"login": format!("u{n}"), "id": n}))
                    .collect();
                self.ok(Value::Array(users))
            }
            ["orgs", "bench", "repos"] | ["organizations", "1", "repos"] => {
                let page: usize = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("page="))
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                let pages = self.repos.div_ceil(100);
                let items: Vec<Value> = ((page - 1) * 100..(page * 100).min(self.repos))
                    .map(|i| self.repo(i))
                    .collect();
                let mut reply = self.ok(Value::Array(items));
                if page < pages {
                    let next = format!(
                        "{}/organizations/1/repos?type=all&per_page=100&page={}",
                        self.base,
                        page + 1
                    );
                    let last = format!(
                        "{}/organizations/1/repos?type=all&per_page=100&page={pages}",
                        self.base
                    );
                    reply = reply.insert_header(
                        "link",
                        format!("<{next}>; rel=\"next\", <{last}>; rel=\"last\"").as_str(),
                    );
                }
                reply
            }
            ["repos", "bench", name, "branches", "main", "protection"] => {
                let i: usize = name.trim_start_matches('r').parse().unwrap_or(0);
                match i % 4 {
                    0 | 3 => self.ok(json!({
                        "required_pull_request_reviews": {"dismiss_stale_reviews": i.is_multiple_of(4),
                            "require_code_owner_reviews": false, "required_approving_review_count": 1},
                        "required_status_checks": {"strict": true, "contexts": ["ci"], "checks": []},
                        "enforce_admins": {"enabled": i.is_multiple_of(4)},
                        "required_signatures": {"enabled": false},
                        "required_linear_history": {"enabled": false},
                        "allow_force_pushes": {"enabled": false},
                        "allow_deletions": {"enabled": false},
                        "required_conversation_resolution": {"enabled": i.is_multiple_of(4)},
                        "lock_branch": {"enabled": false}
                    })),
                    _ => self.reply(404, json!({
                        "message": "Branch not protected",
                        "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
                        "status": "404"
                    })),
                }
            }
            ["repos", "bench", name, "rules", "branches", "main"] => {
                let i: usize = name.trim_start_matches('r').parse().unwrap_or(0);
                self.ok(self.rules(i))
            }
            ["orgs", "bench", "actions", "permissions", "workflow"]
            | ["repos", "bench", _, "actions", "permissions", "workflow"] => self.ok(json!({
                "default_workflow_permissions": "read", "can_approve_pull_request_reviews": false
            })),
            ["repos", "bench", _, "codeowners", "errors"] => self.ok(json!({"errors": []})),
            ["repos", "bench", _, "keys"] => self.ok(json!([])),
            ["repos", "bench", _, "environments"] => self.ok(json!({"total_count": 0, "environments": []})),
            ["repos", "bench", _, "rulesets", id] => self.ok(json!({
                "id": id.parse::<u64>().unwrap_or(0), "name": "baseline", "target": "branch",
                "source_type": if *id == ORG_RULESET.to_string() { "Organization" } else { "Repository" },
                "source": "bench", "enforcement": "active", "bypass_actors": [],
                "current_user_can_bypass": "never"
            })),
            _ => self.reply(404, json!({"message": "Not Found", "status": "404"})),
        }
    }
}
