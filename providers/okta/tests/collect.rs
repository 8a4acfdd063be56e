//! The Okta collector through its real HTTP client against a local server (wiremock) answering
//! with the management API's documented shapes: `Link` pagination, DEPROVISIONED users asked for,
//! per-user factors and roles, 401 (the run stops), 403 (uncollected facts), 429 honouring
//! `X-Rate-Limit-Reset`, a rate limit running low, 5xx retried and beyond the retries, and a next
//! link to another origin refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod fake;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake::{fixture, ok, unix_now, Fake, TOKEN};
use serde_json::Value;
use trustcheck_okta::{collect, ApiToken, Config, NoProgress, RetryPolicy};
use trustcheck_snapshot::Snapshot;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn config(fake: &Fake) -> Config {
    let mut c = Config::new(fake.org_url(), ApiToken::new(TOKEN));
    c.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_wait: Duration::from_secs(5),
    };
    c
}

async fn run(fake: &Fake) -> Snapshot {
    let started = time::macros::datetime!(2026-11-22 03:00:00 UTC);
    collect(&config(fake), started, Arc::new(NoProgress))
        .await
        .unwrap()
}

fn user<'a>(s: &'a Snapshot, fake: &Fake, login: &str) -> &'a serde_json::Map<String, Value> {
    let id = format!("{}/{login}", fake.host());
    &s.entities.iter().find(|e| e.uid.id == id).unwrap().attrs
}

fn errors(s: &Snapshot) -> Vec<(String, String, String)> {
    s.sources[0]
        .errors
        .iter()
        .map(|e| (e.entity.id.clone(), e.fact.clone(), e.reason.clone()))
        .collect()
}

#[tokio::test]
async fn collects_every_page_deprovisioned_users_factors_and_roles() {
    let fake = Fake::start().await;
    fake.mount_acme().await;
    let s = run(&fake).await;
    let source = &s.sources[0];
    assert_eq!(source.provider, "okta");
    assert_eq!(source.scope, fake.host());
    // 2 user pages + deprovisioned + assignees + 2 roles + 2 factor lists + 2 policy lists +
    // the rules of 2 sign-on policies
    assert_eq!(source.api_calls, 12);
    assert!(source.errors.is_empty(), "{:?}", source.errors);
    let users: Vec<&str> = s
        .entities
        .iter()
        .filter(|e| e.uid.type_name == "Okta::User")
        .map(|e| e.attrs["login"].as_str().unwrap())
        .collect();
    assert_eq!(
        users,
        [
            "ada@acme.example",
            "gus@acme.example",
            "pat@acme.example",
            "sam@acme.example"
        ]
    );
    assert_eq!(
        user(&s, &fake, "ada@acme.example")["activeFactorTypes"],
        serde_json::json!(["signed_nonce", "token:software:totp"])
    );
    assert_eq!(
        user(&s, &fake, "sam@acme.example")["activeFactorTypes"],
        serde_json::json!(["sms"])
    );
    assert_eq!(
        user(&s, &fake, "gus@acme.example")["adminRoles"],
        serde_json::json!(["SUPER_ADMIN"])
    );
    assert!(!s.to_json().contains(TOKEN));
}

#[tokio::test]
async fn sign_on_and_enrollment_policies_are_read_with_their_rules() {
    let fake = Fake::start().await;
    fake.mount_acme().await;
    let s = run(&fake).await;
    let host = fake.host();
    let attrs = |id: &str| {
        &s.entities
            .iter()
            .find(|e| e.uid.id == format!("{host}/{id}"))
            .unwrap_or_else(|| panic!("no {id}"))
            .attrs
    };
    let default = attrs("00p0default");
    assert_eq!(default["system"], true);
    assert_eq!(
        default["includedGroupIds"],
        serde_json::json!(["00g0everyone"])
    );
    let rule = attrs("00p0default/0pr0default");
    assert_eq!(rule["requireFactor"], true);
    assert_eq!(rule["factorPromptMode"], "ALWAYS");
    assert_eq!(rule["maxSessionLifetimeMinutes"], 0);
    let office = attrs("00p1contractors/0pr1office");
    assert_eq!(office["access"], "ALLOW");
    assert_eq!(office["requireFactor"], false);
    // A DENY rule's factor setting does not matter: not read, and not an error.
    let legacy = attrs("00p1contractors/0pr2legacy");
    assert_eq!(legacy["access"], "DENY");
    assert!(!legacy.contains_key("requireFactor") && !legacy.contains_key("priority"));
    assert_eq!(
        attrs("00p3enroll")["requiredAuthenticators"],
        serde_json::json!(["okta_password", "okta_verify"])
    );
    assert_eq!(
        attrs("00p4classic")["requiredAuthenticators"],
        serde_json::json!(["okta_question"])
    );
    assert!(errors(&s).is_empty(), "{:?}", errors(&s));
}

#[tokio::test]
async fn a_token_without_the_policies_scope_leaves_policies_uncollected() {
    let fake = Fake::start().await;
    fake.users().await;
    fake.roles().await;
    fake.factors().await;
    fake.get(
        "/api/v1/policies",
        ResponseTemplate::new(403).set_body_json(fixture("forbidden_403.json")),
    )
    .await;
    let s = run(&fake).await;
    let host = fake.host();
    let denied = "403 E0000006: You do not have permission to perform the requested action";
    let e = errors(&s);
    for (kind, t) in [
        ("OKTA_SIGN_ON", "Okta::SignOnPolicy"),
        ("OKTA_SIGN_ON", "Okta::SignOnPolicyRule"),
        ("MFA_ENROLL", "Okta::EnrollmentPolicy"),
    ] {
        let fact = s.sources[0]
            .errors
            .iter()
            .find(|f| f.entity.type_name == t)
            .unwrap_or_else(|| panic!("no error on {t}: {e:?}"));
        assert_eq!(fact.entity.id, format!("{host}/*"));
        assert_eq!(
            fact.reason,
            format!("GET /api/v1/policies?type={kind}: {denied}")
        );
    }
    assert!(!s
        .entities
        .iter()
        .any(|e| e.uid.type_name.contains("Policy")));
}

#[tokio::test]
async fn a_rejected_token_stops_the_run() {
    let fake = Fake::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("invalid_token_401.json")))
        .mount(&fake.server)
        .await;
    let started = time::macros::datetime!(2026-11-22 03:00:00 UTC);
    let e = collect(&config(&fake), started, Arc::new(NoProgress))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("401 E0000011: Invalid token provided"),
        "{}",
        e.message
    );
    assert!(!e.message.contains(TOKEN));
}

#[tokio::test]
async fn denied_role_and_factor_calls_are_uncollected_facts() {
    let fake = Fake::start().await;
    fake.users().await;
    fake.get(
        "/api/v1/iam/assignees/users",
        ResponseTemplate::new(403).set_body_json(fixture("forbidden_403.json")),
    )
    .await;
    fake.get(
        "/api/v1/users/00u1admin/factors",
        ok(fixture("factors_admin.json")),
    )
    .await;
    fake.get(
        "/api/v1/users/00u2staff/factors",
        ResponseTemplate::new(403).set_body_json(fixture("forbidden_403.json")),
    )
    .await;
    let s = run(&fake).await;
    let errors = errors(&s);
    let host = fake.host();
    assert!(errors.contains(&(
        format!("{host}/sam@acme.example"),
        "activeFactorTypes".into(),
        "GET /api/v1/users/00u2staff/factors: 403 E0000006: You do not have permission to perform the requested action".into()
    )));
    assert!(errors.contains(&(
        format!("{host}/gus@acme.example"),
        "adminRoles".into(),
        "GET /api/v1/iam/assignees/users: 403 E0000006: You do not have permission to perform the requested action".into()
    )));
    assert!(!user(&s, &fake, "sam@acme.example").contains_key("activeFactorTypes"));
    assert!(!user(&s, &fake, "gus@acme.example").contains_key("adminRoles"));
}

#[tokio::test]
async fn throttling_waits_for_the_rate_limit_reset_and_retries() {
    let fake = Fake::start().await;
    fake.users().await;
    fake.roles().await;
    // The first factor call is throttled until the limit resets a second from now; the retry
    // succeeds.
    Mock::given(method("GET"))
        .and(path("/api/v1/users/00u1admin/factors"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Limit", "600")
                .insert_header("X-Rate-Limit-Remaining", "0")
                .insert_header("X-Rate-Limit-Reset", (unix_now() + 1).to_string().as_str())
                .set_body_json(fixture("rate_limited_429.json")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    fake.factors().await;
    fake.policies().await;
    let begun = Instant::now();
    let s = run(&fake).await;
    assert!(
        begun.elapsed() >= Duration::from_secs(1),
        "the reset was waited for"
    );
    assert!(s.sources[0].errors.is_empty(), "{:?}", s.sources[0].errors);
    assert_eq!(s.sources[0].api_calls, 13, "the retry is counted");
}

#[tokio::test]
async fn a_rate_limit_running_low_makes_the_next_request_wait() {
    let fake = Fake::start().await;
    let all = fixture("users.json");
    let reset = (unix_now() + 1).to_string();
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Rate-Limit-Remaining", "1")
                .insert_header("X-Rate-Limit-Reset", reset.as_str())
                .set_body_json(Value::Array(vec![all[1].clone()])),
        )
        .mount(&fake.server)
        .await;
    fake.get(
        "/api/v1/iam/assignees/users",
        ok(serde_json::json!({"value": []})),
    )
    .await;
    fake.get(
        "/api/v1/users/00u2staff/factors",
        ok(fixture("factors_sms_only.json")),
    )
    .await;
    fake.policies().await;
    let begun = Instant::now();
    let s = run(&fake).await;
    assert!(
        begun.elapsed() >= Duration::from_secs(1),
        "waited for the reset"
    );
    assert!(s.sources[0].errors.is_empty(), "{:?}", s.sources[0].errors);
}

#[tokio::test]
async fn server_errors_beyond_the_retries_are_uncollected_facts() {
    let fake = Fake::start().await;
    fake.users().await;
    fake.roles().await;
    fake.get(
        "/api/v1/users/00u1admin/factors",
        ok(fixture("factors_admin.json")),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users/00u2staff/factors"))
        .respond_with(ResponseTemplate::new(500).set_body_json(fixture("server_error_500.json")))
        .expect(3)
        .mount(&fake.server)
        .await;
    fake.policies().await;
    let s = run(&fake).await;
    let e = errors(&s);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0].2,
        "GET /api/v1/users/00u2staff/factors: 500 E0000009: Internal Server Error (gave up after 3 attempts)"
    );
}

#[tokio::test]
async fn a_next_page_on_another_origin_is_not_followed() {
    let fake = Fake::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(ok(serde_json::json!([])).insert_header(
            "Link",
            "<https://attacker.example/api/v1/users?after=x>; rel=\"next\"",
        ))
        .mount(&fake.server)
        .await;
    fake.get(
        "/api/v1/iam/assignees/users",
        ok(serde_json::json!({"value": []})),
    )
    .await;
    fake.policies().await;
    let s = run(&fake).await;
    let e = errors(&s);
    assert_eq!(e[0].0, format!("{}/*", fake.host()));
    assert!(
        e[0].2.contains("the next page is on another origin"),
        "{e:?}"
    );
}

fn service_app() -> trustcheck_okta::ServiceApp {
    let pem = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../google/fixtures/test-key.pem"
    );
    trustcheck_okta::ServiceApp {
        client_id: "0oa1trustcheck".into(),
        private_key: std::fs::read_to_string(pem).unwrap(),
        key_id: Some("kid-1".into()),
    }
}

fn service_config(fake: &Fake) -> Config {
    let mut c = Config::with_service_app(fake.org_url(), service_app());
    c.retry = config(fake).retry;
    c
}

#[tokio::test]
async fn a_service_app_exchanges_a_signed_assertion_for_a_bearer_token() {
    use base64::Engine as _;
    use wiremock::matchers::{body_string_contains, header};
    let fake = Fake::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": "eyJraWQiOiJmYWtlIn0.bearer.token",
            "scope": "okta.users.read okta.roles.read okta.factors.read okta.policies.read"
        })))
        .expect(1)
        .mount(&fake.server)
        .await;
    let bearer = "Bearer eyJraWQiOiJmYWtlIn0.bearer.token";
    for (at, body) in [
        ("/api/v1/users", serde_json::json!([])),
        (
            "/api/v1/iam/assignees/users",
            serde_json::json!({"value": []}),
        ),
        ("/api/v1/policies", serde_json::json!([])),
    ] {
        Mock::given(method("GET"))
            .and(path(at))
            .and(header("authorization", bearer))
            .respond_with(ok(body))
            .mount(&fake.server)
            .await;
    }
    let started = time::macros::datetime!(2026-11-22 03:00:00 UTC);
    let s = collect(&service_config(&fake), started, Arc::new(NoProgress))
        .await
        .unwrap();
    assert!(errors(&s).is_empty(), "{:?}", errors(&s));

    let requests = fake.server.received_requests().await.unwrap();
    let token = requests
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    let form: std::collections::HashMap<String, String> =
        url_form(&String::from_utf8(token.body.clone()).unwrap());
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(
        form["scope"],
        "okta.users.read okta.roles.read okta.factors.read okta.policies.read"
    );
    let parts: Vec<&str> = form["client_assertion"].split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |p: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap(),
        )
        .unwrap()
    };
    let (head, claims) = (decode(parts[0]), decode(parts[1]));
    assert_eq!(head["alg"], "RS256");
    assert_eq!(head["kid"], "kid-1");
    assert_eq!(claims["iss"], "0oa1trustcheck");
    assert_eq!(claims["sub"], "0oa1trustcheck");
    assert_eq!(claims["aud"], format!("{}/oauth2/v1/token", fake.org_url()));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    // Every API call carried the Bearer token, none an SSWS one.
    assert!(requests
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .all(|r| r.headers.get("authorization").unwrap() == bearer));
}

#[tokio::test]
async fn a_refused_service_app_stops_the_run_and_says_what_to_grant() {
    let fake = Fake::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_client",
            "error_description": "The client_assertion signature is invalid."
        })))
        .mount(&fake.server)
        .await;
    let started = time::macros::datetime!(2026-11-22 03:00:00 UTC);
    let e = collect(&service_config(&fake), started, Arc::new(NoProgress))
        .await
        .unwrap_err();
    let shown = format!("{e:?}");
    assert!(
        shown.contains(
            "`0oa1trustcheck` (401 invalid_client: The client_assertion signature is invalid.)"
        ),
        "{shown}"
    );
    assert!(shown.contains("okta.policies.read"), "{shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}

#[tokio::test]
async fn a_service_app_that_requires_dpop_is_told_which_setting_to_change() {
    let fake = Fake::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_dpop_proof",
            "error_description": "The DPoP proof JWT header is missing."
        })))
        .mount(&fake.server)
        .await;
    let started = time::macros::datetime!(2026-11-22 03:00:00 UTC);
    let e = collect(&service_config(&fake), started, Arc::new(NoProgress))
        .await
        .unwrap_err();
    let shown = format!("{e:?}");
    assert!(shown.contains("400 invalid_dpop_proof"), "{shown}");
    assert!(
        shown.contains("Require Demonstrating Proof of Possession"),
        "{shown}"
    );
}

/// `a=b&c=d` with percent-encoding and `+` for spaces.
fn url_form(body: &str) -> std::collections::HashMap<String, String> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}
