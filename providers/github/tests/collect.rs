//! The GitHub provider against a fake GitHub (wiremock on 127.0.0.1) serving GitHub's real
//! payload shapes, through real octocrab: retries and waits, GitHub Enterprise Server prefixes and
//! pagination, rate-limit budgets, GitHub App installation tokens. The CLI's tests
//! (`tests/cli/github*.rs` at the repository root) judge what it collects with the real engine.

// Tests assert: a value that is not there is a failed test, not input to handle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod fake;

use std::collections::BTreeMap;

use fake::{
    config, fixture_json, fixtures_dir, inject_faults, reply, run, to_snapshot, unix_now, Fake,
};
use serde_json::{json, Value};
use trustcheck_github::Auth;
use wiremock::matchers::{method, path};
use wiremock::Mock;

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
async fn ghes_prefix_and_absolute_link_pages_stay_on_the_host_with_the_token() {
    let ghes = Fake::start("/api/v3").await;
    ghes.mount_acme().await;
    let (out, _) = run(&config(&ghes)).await;
    let dotcom = Fake::start("").await;
    dotcom.mount_acme().await;
    let (expected, _) = run(&config(&dotcom)).await;
    assert_eq!(to_snapshot(&out).entities, to_snapshot(&expected).entities);
    for r in ghes.server.received_requests().await.unwrap() {
        // REST under `/api/v3`, GraphQL at `/api/graphql` as GitHub Enterprise Server serves it.
        assert!(
            r.url.path().starts_with("/api/v3/") || r.url.path() == "/api/graphql",
            "{}",
            r.url
        );
        assert!(r.headers.contains_key("authorization"), "{}", r.url);
    }
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
    fake.get("/user", low(fake::simple_user("soc2-bot", 42)))
        .await;
    fake.get(
        "/repos/acme/api",
        low(fake::minimal_repo("acme", "api", 1, false)),
    )
    .await;
    fake.protection("acme/api", low(fixture_json("protection_compliant.json")))
        .await;
    fake.get("/repos/acme/api/rules/branches/main", low(json!([])))
        .await;
    fake.get("/orgs/acme", low(fixture_json("org.json"))).await;
    fake.get(
        "/orgs/acme/actions/permissions/workflow",
        low(json!({"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false})),
    )
    .await;
    fake.get(
        "/repos/acme/api/actions/permissions/workflow",
        low(json!({"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false})),
    )
    .await;
    fake.get(
        "/repos/acme/api/codeowners/errors",
        low(json!({"errors": []})),
    )
    .await;
    fake.get("/repos/acme/api/keys", low(json!([]))).await;
    fake.get(
        "/repos/acme/api/environments",
        low(json!({"total_count": 0, "environments": []})),
    )
    .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            "^/orgs/acme/(members|outside_collaborators)$",
        ))
        .respond_with(low(json!([])))
        .mount(&fake.server)
        .await;
    fake.saml().await;
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
        "account": fake::simple_user("acme", 1001),
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
    let key = std::fs::read(fixtures_dir().join("github-app-test-key.pem")).unwrap();
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
        fake::ACME_CASES.len(),
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

/// Payloads GitHub's schema allows must never break a branch: GitHub's own example (no
/// `required_signatures`: the dedicated endpoint is read), optional `enabled`, `null` apps and an
/// absent approval count are each at most one unknown fact.
#[tokio::test]
async fn payload_variants_allowed_by_githubs_schema() {
    let fake = Fake::start("").await;
    fake.get("/user", reply(200, fake::simple_user("soc2-bot", 42)))
        .await;
    fake.get("/orgs/acme", reply(200, fixture_json("org.json")))
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            "^/orgs/acme/(members|outside_collaborators)$",
        ))
        .respond_with(reply(200, json!([])))
        .mount(&fake.server)
        .await;
    let example = fixture_json("protection_github_example.json");
    let mut variants = BTreeMap::new();
    variants.insert("example", example.clone());
    variants.insert("example-signatures-hidden", example.clone());
    let mut no_enabled = fixture_json("protection_compliant.json");
    no_enabled["allow_force_pushes"] = json!({});
    variants.insert("no-enabled", no_enabled);
    let mut null_app = fixture_json("protection_weak.json");
    null_app["required_pull_request_reviews"]["bypass_pull_request_allowances"]["apps"] =
        json!([null]);
    variants.insert("null-app", null_app);
    let mut no_count = fixture_json("protection_compliant.json");
    no_count["required_pull_request_reviews"]
        .as_object_mut()
        .unwrap()
        .remove("required_approving_review_count");
    variants.insert("no-count", no_count);
    for (i, (name, protection)) in variants.iter().enumerate() {
        fake.get(
            &format!("/repos/acme/{name}"),
            reply(200, fake::minimal_repo("acme", name, 100 + i as u64, false)),
        )
        .await;
        fake.protection(&format!("acme/{name}"), reply(200, protection.clone()))
            .await;
        fake.rules(&format!("acme/{name}"), vec![]).await;
        fake.settings(&format!("acme/{name}"), fake::Settings::Good)
            .await;
    }
    fake.get(
        "/orgs/acme/actions/permissions/workflow",
        reply(200, json!({"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false})),
    )
    .await;
    let signatures =
        |repo: &str| format!("/repos/acme/{repo}/branches/main/protection/required_signatures");
    Mock::given(method("GET"))
        .and(path(signatures("example")))
        .respond_with(reply(
            200,
            json!({"url": format!("https://api.github.com{}", signatures("example")), "enabled": true}),
        ))
        .expect(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("GET"))
        .and(path(signatures("example-signatures-hidden")))
        .respond_with(reply(404, fixture_json("not_found_404.json")))
        .expect(1)
        .mount(&fake.server)
        .await;
    let status_checks =
        |repo: &str| format!("/repos/acme/{repo}/branches/main/protection/required_status_checks");
    Mock::given(method("GET"))
        .and(path(status_checks("example")))
        .respond_with(reply(
            200,
            json!({
                "url": format!("https://api.github.com{}", status_checks("example")),
                "strict": true,
                "contexts": ["continuous-integration/travis-ci"],
                "checks": [{"context": "continuous-integration/travis-ci", "app_id": null}],
                "contexts_url": format!("https://api.github.com{}/contexts", status_checks("example"))
            }),
        ))
        .expect(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("GET"))
        .and(path(status_checks("example-signatures-hidden")))
        .respond_with(
            reply(403, fixture_json("forbidden_403.json"))
                .insert_header("x-accepted-github-permissions", "administration=read"),
        )
        .expect(1)
        .mount(&fake.server)
        .await;
    fake.saml().await;
    let mut c = config(&fake);
    c.orgs.clear();
    c.repos = variants.keys().map(|n| format!("acme/{n}")).collect();
    let (out, _) = run(&c).await;
    let s = to_snapshot(&out);
    let branch = |repo: &str| {
        &s.entities
            .iter()
            .find(|e| e.uid.id == format!("acme/{repo}:main"))
            .unwrap()
            .attrs
    };
    let unknown: Vec<(String, String)> = s.sources[0]
        .errors
        .iter()
        .map(|e| (e.entity.id.clone(), e.fact.clone()))
        .collect();
    assert_eq!(branch("example")["requiredSignatures"], true);
    assert_eq!(branch("example")["statusChecksStrict"], true);
    assert_eq!(branch("example")["adminsExemptFromStatusChecks"], true);
    assert_eq!(branch("example")["requireLastPushApproval"], true);
    assert_eq!(branch("example")["requiredApprovingReviews"], 2);
    assert_eq!(
        branch("example-signatures-hidden")["requiredApprovingReviews"],
        2
    );
    assert_eq!(branch("no-enabled")["deletionBlocked"], true);
    assert!(branch("null-app")["bypassActors"]
        .as_array()
        .unwrap()
        .contains(&json!("classic:pull-request-bypass:app/?")));
    assert_eq!(branch("no-count")["dismissStaleReviews"], true);
    assert_eq!(
        unknown,
        vec![
            (
                "acme/example-signatures-hidden:main".into(),
                "requiredSignatures".into()
            ),
            (
                "acme/example-signatures-hidden:main".into(),
                "statusChecksStrict".into()
            ),
            (
                "acme/no-count:main".into(),
                "requiredApprovingReviews".into()
            ),
            ("acme/no-enabled:main".into(), "forcePushesBlocked".into()),
        ],
        "{:?}",
        s.sources[0].errors
    );
}
