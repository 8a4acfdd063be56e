//! The GitHub provider end to end: real octocrab against a fake GitHub (wiremock on 127.0.0.1)
//! serving GitHub's real payload shapes, then the real engine judging the snapshot.

// Tests and benchmarks assert: a value that is not there is a failed test, not input to handle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod github_fake;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use github_fake::{fixture_json, reply, unix_now, Fake};
use serde_json::{json, Value};
use trustcheck::engine;
use trustcheck::entities::{Input, Store};
use trustcheck::findings::{Finding, Status};
use trustcheck::rules::{builtin_sources, RuleSet};
use trustcheck::schema::SchemaSet;
use trustcheck::snapshot::Snapshot;
use trustcheck_github::{
    collect, Auth, Config, Event, OrgCollection, Progress, RetryPolicy, Token,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const TOKEN: &str = "ghp_TESTtoken0123456789abcdefghijklmnopqrst";

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

fn config(fake: &Fake) -> Config {
    let mut c = Config::new(fake.api_url(), Auth::Token(Token::new(TOKEN)));
    c.orgs = vec!["acme".into()];
    c.retry = fast_retries();
    c
}

/// Progress events, for asserting that retries and waits happened.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

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
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

async fn run(config: &Config) -> (Vec<OrgCollection>, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let out = collect(config, recorder.clone())
        .await
        .expect("collection starts");
    (out, recorder)
}

/// What `collect github` writes: the provider's own conversion, with a fixed time.
fn to_snapshot(collections: &[OrgCollection]) -> Snapshot {
    let mut s = trustcheck_github::provider::to_snapshot(
        collections.to_vec(),
        time::macros::datetime!(2026-11-22 03:00:00 UTC),
    );
    s.collected_at = "2026-11-22T03:00:00Z".into();
    s
}

fn judge(snapshot: &Snapshot) -> Vec<Finding> {
    let schema = SchemaSet::builtin().unwrap();
    let rules = RuleSet::load(builtin_sources(), &schema).unwrap();
    let store = Store::load(vec![Input::in_memory("github", snapshot.clone())], &schema).unwrap();
    engine::evaluate(&rules, &store).unwrap()
}

fn status(findings: &[Finding], rule: &str, id: &str) -> Status {
    findings
        .iter()
        .find(|f| &*f.rule == rule && f.resource.id == id)
        .unwrap_or_else(|| panic!("no finding of {rule} on {id}"))
        .status
}

fn entity<'a>(s: &'a Snapshot, type_name: &str, id: &str) -> &'a serde_json::Map<String, Value> {
    &s.entities
        .iter()
        .find(|e| e.uid.type_name == type_name && e.uid.id == id)
        .unwrap_or_else(|| panic!("no {type_name} {id}"))
        .attrs
}

fn branch<'a>(s: &'a Snapshot, repo: &str) -> &'a serde_json::Map<String, Value> {
    entity(s, "Github::Branch", &format!("acme/{repo}:main"))
}

/// The default-branch rules: "protected" first, then the requirements.
const BRANCH_RULES: [&str; 9] = [
    "github-branch-protected",
    "github-branch-required-reviews",
    "github-branch-stale-reviews-dismissed",
    "github-branch-code-owner-review",
    "github-branch-status-checks-required",
    "github-branch-force-push-blocked",
    "github-branch-deletion-blocked",
    "github-branch-admins-cannot-bypass",
    "github-branch-signed-commits",
];

#[tokio::test]
async fn every_protection_case_becomes_the_right_facts_and_findings() {
    let fake = Fake::start("").await;
    fake.mount_acme().await;
    let (out, _) = run(&config(&fake)).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].identity.as_deref(), Some("soc2-bot"));
    let s = to_snapshot(&out);
    let f = judge(&s);
    use Status::*;

    // Org and people.
    assert_eq!(
        entity(&s, "Github::Org", "acme")["twoFactorRequirementEnabled"],
        true
    );
    assert_eq!(status(&f, "github-org-2fa-required", "acme"), Pass);
    assert_eq!(entity(&s, "Github::Member", "acme/alice")["role"], "admin");
    assert_eq!(entity(&s, "Github::Member", "acme/dave")["role"], "member");
    assert_eq!(status(&f, "github-member-2fa", "acme/bob"), Fail);
    assert_eq!(status(&f, "github-member-2fa", "acme/alice"), Pass);
    assert_eq!(
        status(&f, "github-member-2fa", "acme/dave"),
        Pass,
        "from page 2"
    );
    assert_eq!(
        entity(&s, "Github::Member", "acme/carol")["twoFactorInsecure"],
        true
    );
    assert_eq!(
        status(&f, "github-outside-collaborator-2fa", "acme/vendor-1"),
        Fail
    );
    assert_eq!(
        status(&f, "github-outside-collaborator-2fa", "acme/vendor-2"),
        Pass
    );

    // Every repository from both pages.
    let repos = s
        .entities
        .iter()
        .filter(|e| e.uid.type_name == "Github::Repo")
        .count();
    assert_eq!(repos, github_fake::ACME_CASES.len());

    let all_pass = |repo: &str| {
        for rule in BRANCH_RULES {
            let got = status(&f, rule, &format!("acme/{repo}:main"));
            assert_eq!(got, Pass, "{rule} on {repo}");
        }
    };
    all_pass("classic-good");
    all_pass("org-baseline");
    all_pass("org-baseline-2");

    // Ruleset-only protection is protection: the false positive every peer tool has.
    all_pass("ruleset-only");
    assert_eq!(
        branch(&s, "ruleset-only")["protectionSources"],
        json!(["ruleset:101"])
    );
    assert_eq!(
        branch(&s, "org-baseline")["protectionSources"],
        json!(["org-ruleset:4300"])
    );

    let weak = "acme/classic-weak:main";
    assert_eq!(status(&f, "github-branch-protected", weak), Pass);
    for rule in &BRANCH_RULES[1..] {
        assert_eq!(status(&f, rule, weak), Fail, "{rule}");
    }
    assert_eq!(
        branch(&s, "classic-weak")["bypassActors"],
        json!(["classic:admins", "classic:pull-request-bypass:user/octocat"])
    );

    for repo in ["unprotected", "evaluate-mode", "other-branch"] {
        assert_eq!(branch(&s, repo)["protected"], false, "{repo}");
        assert_eq!(
            status(&f, "github-branch-protected", &format!("acme/{repo}:main")),
            Fail
        );
    }

    let bypass = "acme/admin-bypass:main";
    assert_eq!(status(&f, "github-branch-protected", bypass), Pass);
    assert_eq!(status(&f, "github-branch-required-reviews", bypass), Pass);
    assert_eq!(
        status(&f, "github-branch-admins-cannot-bypass", bypass),
        Fail
    );
    assert_eq!(
        branch(&s, "admin-bypass")["bypassActors"],
        json!(["org-ruleset:4211:OrganizationAdmin#1:always"])
    );

    // Neither classic nor the ruleset is compliant alone; together they are.
    let together = branch(&s, "together");
    assert_eq!(together["forcePushesBlocked"], true);
    assert_eq!(together["requiredApprovingReviews"], 2);
    let sources = together["factSources"].as_array().unwrap();
    assert!(sources.contains(&json!("forcePushesBlocked=ruleset:104")));
    assert!(sources.contains(&json!("requiredApprovingReviews=classic")));
    all_pass("together");

    for rule in BRANCH_RULES {
        assert_eq!(
            status(&f, rule, "acme/archived:main"),
            NotApplicable,
            "{rule}"
        );
    }

    // Unknown is not unprotected: missing rights give errors with the reason, never fail.
    for repo in ["no-admin", "fine-grained"] {
        for rule in BRANCH_RULES {
            assert_eq!(
                status(&f, rule, &format!("acme/{repo}:main")),
                Error,
                "{rule} {repo}"
            );
        }
    }
    let reasons: Vec<&str> = s.sources[0]
        .errors
        .iter()
        .filter(|e| e.entity.id == "acme/fine-grained:main")
        .map(|e| e.reason.as_str())
        .collect();
    assert!(
        reasons.iter().all(|r| r.contains("`administration=read`")),
        "{reasons:?}"
    );
    let no_admin = f
        .iter()
        .find(|x| &*x.rule == "github-branch-protected" && x.resource.id == "acme/no-admin:main")
        .unwrap();
    assert!(
        no_admin.message.contains("404 Not Found"),
        "{}",
        no_admin.message
    );

    // The errors are exactly those two branches' facts.
    let erroring: std::collections::BTreeSet<&str> = s.sources[0]
        .errors
        .iter()
        .map(|e| e.entity.id.as_str())
        .collect();
    assert_eq!(
        erroring.into_iter().collect::<Vec<_>>(),
        vec!["acme/fine-grained:main", "acme/no-admin:main"]
    );

    // Requests: api_calls counts them all; the token went on every one and nowhere else.
    let requests = fake.server.received_requests().await.unwrap();
    assert_eq!(
        out[0].api_calls as usize,
        requests.len() - 1,
        "all but GET /user"
    );
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").unwrap(),
            &format!("Bearer {TOKEN}"),
            "{}",
            r.url
        );
    }
    assert!(!s.to_json().contains(TOKEN));
    // Budget: 8 org/people lists + 2 extra pages + 2 repo pages; per repository with protection
    // read (12 of 13): protection + rules; ruleset details once each (101, 104, 4211, 4300).
    assert_eq!(requests.len() - 1, 8 + 2 + 2 + 12 * 2 + 4);
}

#[tokio::test]
async fn a_token_without_owner_or_admin_rights_yields_errors_not_failures() {
    let fake = Fake::start("").await;
    fake.get("/user", reply(200, github_fake::simple_user("dev", 7)))
        .await;
    fake.get("/orgs/acme", reply(200, fixture_json("org_not_owner.json")))
        .await;
    let owners_only = || reply(422, fixture_json("owners_only_422.json"));
    // Listing members works for any member; the 2FA filters are owner-only.
    for (filter, response) in [
        ("2fa_disabled", owners_only()),
        ("2fa_insecure", owners_only()),
    ] {
        Mock::given(method("GET"))
            .and(path("/orgs/acme/members"))
            .and(wiremock::matchers::query_param("filter", filter))
            .respond_with(response)
            .mount(&fake.server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/orgs/acme/members"))
        .and(wiremock::matchers::query_param_is_missing("filter"))
        .respond_with(reply(
            200,
            json!([
                github_fake::simple_user("alice", 1),
                github_fake::simple_user("dev", 7)
            ]),
        ))
        .mount(&fake.server)
        .await;
    let forbidden = json!({"message": "You must be an admin to list outside collaborators.", "documentation_url": "https://docs.github.com/rest/orgs/outside-collaborators#list-outside-collaborators-for-an-organization", "status": "403"});
    fake.get("/orgs/acme/outside_collaborators", reply(403, forbidden))
        .await;
    fake.repos(
        "acme",
        &[
            github_fake::minimal_repo("acme", "svc", 1, false),
            github_fake::minimal_repo("acme", "web", 2, false),
        ],
    )
    .await;
    for repo in ["acme/svc", "acme/web"] {
        fake.protection(repo, reply(404, fixture_json("not_found_404.json")))
            .await;
    }
    // An org ruleset proves force pushes are blocked on svc, but hides its bypass actors.
    fake.rules(
        "acme/svc",
        vec![
            github_fake::rule("non_fast_forward", None, "Organization", "acme", 4211),
            github_fake::rule("deletion", None, "Organization", "acme", 4211),
        ],
    )
    .await;
    fake.ruleset(
        "acme",
        4211,
        fixture_json("ruleset_not_admin.json"),
        Some(1),
    )
    .await;
    fake.rules("acme/web", vec![]).await;

    let (out, _) = run(&config(&fake)).await;
    let s = to_snapshot(&out);
    let f = judge(&s);
    use Status::*;
    assert_eq!(status(&f, "github-org-2fa-required", "acme"), Error);
    assert_eq!(status(&f, "github-member-2fa", "acme/alice"), Error);
    assert_eq!(
        status(&f, "github-outside-collaborator-2fa", "acme/*"),
        Error
    );
    assert_eq!(
        status(&f, "github-branch-force-push-blocked", "acme/svc:main"),
        Pass
    );
    assert_eq!(
        status(&f, "github-branch-deletion-blocked", "acme/svc:main"),
        Pass
    );
    assert_eq!(status(&f, "github-branch-protected", "acme/svc:main"), Pass);
    assert_eq!(
        status(&f, "github-branch-required-reviews", "acme/svc:main"),
        Error
    );
    assert_eq!(
        status(&f, "github-branch-admins-cannot-bypass", "acme/svc:main"),
        Error
    );
    for rule in BRANCH_RULES {
        assert_eq!(status(&f, rule, "acme/web:main"), Error, "{rule}");
    }
    assert!(
        f.iter()
            .filter(|x| x.rule.starts_with("github-"))
            .all(|x| x.status != Fail),
        "nothing may fail on facts that were not read"
    );
    let member_reason = &s.sources[0]
        .errors
        .iter()
        .find(|e| e.entity.id == "acme/alice" && e.fact == "twoFactorDisabled")
        .unwrap()
        .reason;
    assert!(
        member_reason.contains("422 Only owners can use this filter."),
        "{member_reason}"
    );
}

/// Mounts faults that answer before the normal mocks, `times` times each.
async fn inject_faults(fake: &Fake) {
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

#[tokio::test]
async fn faults_are_waited_out_and_retried_and_the_snapshot_is_the_same() {
    let clean = Fake::start("").await;
    clean.mount_acme().await;
    let (clean_out, _) = run(&config(&clean)).await;

    let faulty = Fake::start("").await;
    inject_faults(&faulty).await;
    faulty.mount_acme().await;
    let (faulty_out, recorder) = run(&config(&faulty)).await;

    let (a, b) = (to_snapshot(&clean_out), to_snapshot(&faulty_out));
    assert_eq!(a.entities, b.entities);
    assert_eq!(a.sources[0].errors, b.sources[0].errors);
    // The faults cost requests (api_calls counts retries) …
    assert_eq!(b.sources[0].api_calls, a.sources[0].api_calls + 6);
    // … and were handled the way GitHub asks.
    let lines = recorder.lines();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("retry")).count(),
        3,
        "{lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| *l == "wait: rate limit").count(),
        3,
        "{lines:?}"
    );
}

#[tokio::test]
async fn server_errors_beyond_the_retries_are_errors_never_passes() {
    let fake = Fake::start("").await;
    fake.get_times(
        "/repos/acme/classic-good/branches/main/protection",
        reply(502, fixture_json("bad_gateway_502.json")),
        100,
    )
    .await;
    fake.mount_acme().await;
    let (out, _) = run(&config(&fake)).await;
    let s = to_snapshot(&out);
    let f = judge(&s);
    for rule in BRANCH_RULES {
        assert_eq!(
            status(&f, rule, "acme/classic-good:main"),
            Status::Error,
            "{rule}"
        );
    }
    let reason = &s.sources[0]
        .errors
        .iter()
        .find(|e| e.entity.id == "acme/classic-good:main")
        .unwrap()
        .reason;
    assert!(
        reason.contains("502") && reason.contains("gave up after 5 attempts"),
        "{reason}"
    );
}

#[tokio::test]
async fn ghes_prefix_and_absolute_link_pages_stay_on_the_host_with_the_token() {
    let ghes = Fake::start("/api/v3").await;
    ghes.mount_acme().await;
    let (out, _) = run(&config(&ghes)).await;
    let dotcom = Fake::start("").await;
    dotcom.mount_acme().await;
    let (expected, _) = run(&config(&dotcom)).await;
    assert_eq!(to_snapshot(&out).entities, to_snapshot(&expected).entities);
    for r in ghes.server.received_requests().await.unwrap() {
        assert!(r.url.path().starts_with("/api/v3/"), "{}", r.url);
        assert!(r.headers.contains_key("authorization"), "{}", r.url);
    }
}

#[tokio::test]
async fn repo_flag_limits_the_collection_to_named_repositories() {
    let fake = Fake::start("").await;
    fake.mount_acme_partial().await;
    let mut c = config(&fake);
    c.orgs.clear();
    c.repos = vec!["acme/ruleset-only".into(), "acme/gone".into()];
    let (out, _) = run(&c).await;
    let s = to_snapshot(&out);
    let repos: Vec<&str> = s
        .entities
        .iter()
        .filter(|e| e.uid.type_name == "Github::Repo")
        .map(|e| e.uid.id.as_str())
        .collect();
    assert_eq!(repos, vec!["acme/ruleset-only"]);
    let f = judge(&s);
    assert_eq!(
        status(&f, "github-branch-protected", "acme/ruleset-only:main"),
        Status::Pass
    );
    assert_eq!(
        status(&f, "github-branch-protected", "acme/gone:*"),
        Status::Error
    );
    let requests = fake.server.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| !r.url.path().ends_with("/repos")),
        "no org listing"
    );
}

#[tokio::test]
async fn a_low_rate_limit_budget_slows_requests_down_before_it_runs_out() {
    let fake = Fake::start("").await;
    // Every answer says 5 requests are left until a reset 2 s away.
    let reset = (unix_now() + 2).to_string();
    let low = |body: Value| {
        reply(200, body)
            .insert_header("x-ratelimit-remaining", "5")
            .insert_header("x-ratelimit-reset", reset.as_str())
    };
    fake.get("/user", low(github_fake::simple_user("soc2-bot", 42)))
        .await;
    fake.get(
        "/repos/acme/api",
        low(github_fake::minimal_repo("acme", "api", 1, false)),
    )
    .await;
    fake.protection("acme/api", low(fixture_json("protection_compliant.json")))
        .await;
    fake.get("/repos/acme/api/rules/branches/main", low(json!([])))
        .await;
    fake.get("/orgs/acme", low(fixture_json("org.json"))).await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            "^/orgs/acme/(members|outside_collaborators)$",
        ))
        .respond_with(low(json!([])))
        .mount(&fake.server)
        .await;
    let mut c = config(&fake);
    c.orgs.clear();
    c.repos = vec!["acme/api".into()];
    let (out, recorder) = run(&c).await;
    assert!(out[0].errors.is_empty(), "{:?}", out[0].errors);
    let paced = recorder
        .lines()
        .iter()
        .filter(|l| *l == "wait: rate limit budget low")
        .count();
    assert!(paced > 0, "{:?}", recorder.lines());
}

#[tokio::test]
async fn github_app_installation_token_goes_on_every_page_on_ghes() {
    let fake = Fake::start("/api/v3").await;
    let installation = json!({
        "id": 77,
        "account": github_fake::simple_user("acme", 1001),
        "access_tokens_url": format!("{}/app/installations/77/access_tokens", fake.api_url()),
        "repositories_url": format!("{}/installation/repositories", fake.api_url()),
        "html_url": "https://github.com/organizations/acme/settings/installations/77",
        "app_id": 314, "target_id": 1001, "target_type": "Organization",
        "permissions": {"administration": "read", "members": "read", "metadata": "read", "organization_administration": "read"},
        "events": [], "single_file_name": null, "repository_selection": "all",
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"
    });
    fake.get("/orgs/acme/installation", reply(200, installation))
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v3/app/installations/77/access_tokens"))
        .respond_with(reply(
            201,
            json!({
                "token": "ghs_installationTOKEN", "expires_at": "2099-01-01T00:00:00Z",
                "permissions": {"administration": "read", "members": "read", "metadata": "read"},
                "repository_selection": "all"
            }),
        ))
        .expect(1)
        .mount(&fake.server)
        .await;
    fake.mount_acme().await;
    let key = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/github-app-test-key.pem"
    ))
    .unwrap();
    let mut c = config(&fake);
    c.auth = Auth::App {
        app_id: 314,
        private_key_pem: key,
    };
    let (out, _) = run(&c).await;
    assert_eq!(
        out[0].identity.as_deref(),
        Some("github-app:314/installation:77")
    );
    let s = to_snapshot(&out);
    assert_eq!(
        s.entities
            .iter()
            .filter(|e| e.uid.type_name == "Github::Repo")
            .count(),
        github_fake::ACME_CASES.len(),
        "both pages"
    );
    let mut by_auth: BTreeMap<String, usize> = BTreeMap::new();
    for r in fake.server.received_requests().await.unwrap() {
        let auth = r
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let kind = if auth == "Bearer ghs_installationTOKEN" {
            "installation token".to_string()
        } else if auth.starts_with("Bearer ey") {
            format!("app JWT {}", r.url.path())
        } else {
            format!("other {} {auth}", r.url)
        };
        *by_auth.entry(kind).or_default() += 1;
    }
    assert!(
        by_auth
            .keys()
            .all(|k| k == "installation token" || k.starts_with("app JWT /api/v3/")),
        "{by_auth:?}"
    );
    assert_eq!(
        by_auth.len(),
        3,
        "installation token + 2 JWT calls: {by_auth:?}"
    );
}
