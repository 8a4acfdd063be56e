//! The Google collector through its real HTTP client against a local server (wiremock) answering
//! with the Directory API's documented shapes: the token exchange (its JWT verified), pagination,
//! 401/403 (uncollected facts), 429 and 5xx (retried, then uncollected), a refused token (the run
//! stops).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{KeyPair as _, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::Value;
use trustcheck_google::auth::ServiceAccountKey;
use trustcheck_google::{collect, Config, NoProgress, RetryPolicy};
use trustcheck_snapshot::Snapshot;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

mod fake;

use fake::{fixture, key_pem, Fake, ASSIGNMENTS, CUSTOMER, ROLES, USERS};

fn config(fake: &Fake) -> Config {
    let key = ServiceAccountKey::parse(&fake.key_json().to_string(), "key.json").unwrap();
    let mut c = Config::new(fake.api_url(), key, fake::ADMIN);
    c.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_wait: Duration::from_secs(2),
    };
    c
}

/// The token endpoint: answers only an assertion signed by the key file's key, for the admin.
struct TokenEndpoint;

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body).to_string();
        let assertion = body
            .split('&')
            .find_map(|kv| kv.strip_prefix("assertion="))
            .unwrap_or_default();
        let grant_ok =
            body.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer");
        let parts: Vec<&str> = assertion.split('.').collect();
        let public = {
            let pem = key_pem();
            let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap();
            ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec()
        };
        let verified = parts.len() == 3
            && UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
                .verify(
                    format!("{}.{}", parts[0], parts[1]).as_bytes(),
                    &URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default(),
                )
                .is_ok();
        let claims: Value = parts
            .get(1)
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .and_then(|c| serde_json::from_slice(&c).ok())
            .unwrap_or_default();
        if grant_ok && verified && claims["sub"] == "admin@acme.example" {
            ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": fake::ACCESS_TOKEN,
                "expires_in": 3599,
                "token_type": "Bearer"
            }))
        } else {
            ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": "invalid_grant",
                "error_description": "Invalid JWT Signature."
            }))
        }
    }
}

use rustls_pki_types::pem::PemObject as _;

/// The fake's token endpoint, verifying the assertion's signature and subject.
async fn verifying_token(fake: &Fake) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(TokenEndpoint)
        .mount(&fake.server)
        .await;
}

async fn run(fake: &Fake) -> Snapshot {
    let started = time::macros::datetime!(2026-11-22 03:00:00 UTC);
    collect(&config(fake), started, Arc::new(NoProgress))
        .await
        .unwrap()
}

fn entity<'a>(s: &'a Snapshot, id: &str) -> &'a trustcheck_snapshot::Entity {
    s.entities.iter().find(|e| e.uid.id == id).unwrap()
}

#[tokio::test]
async fn collects_every_page_with_a_delegated_token() {
    let fake = Fake::start().await;
    verifying_token(&fake).await;
    fake.users_in_two_pages().await;
    fake.ok(CUSTOMER, fixture("customer.json")).await;
    fake.ok(ROLES, fixture("roles.json")).await;
    fake.ok(ASSIGNMENTS, fixture("role_assignments.json")).await;

    let s = run(&fake).await;
    let source = &s.sources[0];
    assert_eq!(source.provider, "google");
    assert_eq!(source.scope, "acme.example");
    assert_eq!(
        source.identity.as_deref(),
        Some("trustcheck@acme-trustcheck.iam.gserviceaccount.com as admin@acme.example")
    );
    // token + customer + 2 user pages + roles + assignments
    assert_eq!(source.api_calls, 6);
    let users: Vec<&str> = s
        .entities
        .iter()
        .filter(|e| e.uid.type_name == "Google::User")
        .map(|e| e.uid.id.as_str())
        .collect();
    assert_eq!(
        users,
        [
            "ada@acme.example",
            "new@acme.example",
            "sparse@acme.example"
        ]
    );
    assert_eq!(entity(&s, "acme.example").attrs["superAdminCount"], 1);
    assert_eq!(
        entity(&s, "sparse@acme.example").attrs["adminRoles"],
        serde_json::json!(["_HELP_DESK_ADMIN_ROLE"])
    );
    // The sparse user's missing 2SV fields are the only gaps, and they are named.
    let facts: Vec<(&str, &str)> = source
        .errors
        .iter()
        .map(|e| (e.entity.id.as_str(), e.fact.as_str()))
        .collect();
    assert_eq!(
        facts,
        [
            ("sparse@acme.example", "isEnforcedIn2Sv"),
            ("sparse@acme.example", "isEnrolledIn2Sv")
        ]
    );
    assert!(
        !s.to_json().contains("ya29.fake"),
        "the token never reaches the snapshot"
    );
}

#[tokio::test]
async fn denied_calls_are_uncollected_facts_not_verdicts() {
    let fake = Fake::start().await;
    fake.token().await;
    fake.users_in_two_pages().await;
    fake.ok(CUSTOMER, fixture("customer.json")).await;
    fake.ok(ROLES, fixture("roles.json")).await;
    Mock::given(method("GET"))
        .and(path(ASSIGNMENTS))
        .respond_with(ResponseTemplate::new(403).set_body_json(fixture("forbidden_403.json")))
        .mount(&fake.server)
        .await;

    let s = run(&fake).await;
    let errors = &s.sources[0].errors;
    let roles = errors
        .iter()
        .find(|e| e.entity.id == "ada@acme.example" && e.fact == "adminRoles")
        .unwrap();
    assert_eq!(
        roles.reason,
        "GET /admin/directory/v1/customer/my_customer/roleassignments: 403 forbidden: Not Authorized to access this resource/api"
    );
    assert!(errors
        .iter()
        .any(|e| e.entity.id == "acme.example" && e.fact == "superAdminCount"));
    assert!(!entity(&s, "ada@acme.example")
        .attrs
        .contains_key("adminRoles"));
    assert!(!entity(&s, "acme.example")
        .attrs
        .contains_key("superAdminCount"));
}

#[tokio::test]
async fn an_unauthorised_user_list_leaves_every_user_unknown() {
    let fake = Fake::start().await;
    fake.token().await;
    fake.ok(CUSTOMER, fixture("customer.json")).await;
    fake.ok(ROLES, fixture("roles.json")).await;
    fake.ok(ASSIGNMENTS, fixture("role_assignments.json")).await;
    Mock::given(method("GET"))
        .and(path(USERS))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("unauthenticated_401.json")))
        .mount(&fake.server)
        .await;

    let s = run(&fake).await;
    let list = s.sources[0]
        .errors
        .iter()
        .find(|e| e.entity.id == "acme.example/*")
        .unwrap();
    assert_eq!(list.entity.type_name, "Google::User");
    assert_eq!(list.fact, "*");
    assert!(list.reason.starts_with("GET /admin/directory/v1/users: 401 authError: Request had invalid authentication credentials"), "{}", list.reason);
    assert_eq!(s.entities.len(), 1, "only the customer");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_honouring_retry_after() {
    let fake = Fake::start().await;
    fake.token().await;
    Mock::given(method("GET"))
        .and(path(CUSTOMER))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(fixture("rate_limited_429.json")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    fake.ok(CUSTOMER, fixture("customer.json")).await;
    Mock::given(method("GET"))
        .and(path(ROLES))
        .respond_with(ResponseTemplate::new(503).set_body_json(fixture("backend_error_503.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    fake.ok(ROLES, fixture("roles.json")).await;
    fake.ok(ASSIGNMENTS, fixture("role_assignments.json")).await;
    fake.users_in_two_pages().await;

    let begun = std::time::Instant::now();
    let s = run(&fake).await;
    assert!(
        begun.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(s.sources[0].api_calls, 8, "two retries counted");
    assert_eq!(entity(&s, "acme.example").attrs["customerId"], "C01abc2de");
    assert_eq!(entity(&s, "acme.example").attrs["superAdminCount"], 1);
}

#[tokio::test]
async fn errors_that_outlast_retries_are_uncollected_facts() {
    let fake = Fake::start().await;
    fake.token().await;
    fake.ok(CUSTOMER, fixture("customer.json")).await;
    fake.ok(ASSIGNMENTS, fixture("role_assignments.json")).await;
    fake.users_in_two_pages().await;
    Mock::given(method("GET"))
        .and(path(ROLES))
        .respond_with(ResponseTemplate::new(503).set_body_json(fixture("backend_error_503.json")))
        .expect(3)
        .mount(&fake.server)
        .await;

    let s = run(&fake).await;
    let e = s.sources[0]
        .errors
        .iter()
        .find(|e| e.fact == "superAdminCount")
        .unwrap();
    assert_eq!(
        e.reason,
        "GET /admin/directory/v1/customer/my_customer/roles: 503 backendError: The service is currently unavailable. (gave up after 3 attempts)"
    );
}

#[tokio::test]
async fn a_refused_token_stops_the_run_with_advice() {
    let fake = Fake::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("token_unauthorized_client.json")),
        )
        .mount(&fake.server)
        .await;
    let started = time::macros::datetime!(2026-11-22 03:00:00 UTC);
    let e = collect(&config(&fake), started, Arc::new(NoProgress))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("401 unauthorized_client"),
        "{}",
        e.message
    );
    assert!(e.help.unwrap().contains("Domain-wide delegation"));
}
