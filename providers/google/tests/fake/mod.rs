//! A fake Google (wiremock on 127.0.0.1) answering with the Admin SDK Directory API's documented
//! shapes (`fixtures/`), and a service account key file whose `token_uri` points at it. Shared by
//! this crate's tests and the CLI tests (`tests/cli/google.rs`), so both talk to the same fake.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use wiremock::matchers::{
    body_string_contains, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The access token the fake hands out.
pub const ACCESS_TOKEN: &str = "ya29.fake-access-token";
/// The administrator the tests impersonate.
pub const ADMIN: &str = "admin@acme.example";
/// Directory API paths.
pub const USERS: &str = "/admin/directory/v1/users";
pub const CUSTOMER: &str = "/admin/directory/v1/customers/my_customer";
pub const ROLES: &str = "/admin/directory/v1/customer/my_customer/roles";
pub const ASSIGNMENTS: &str = "/admin/directory/v1/customer/my_customer/roleassignments";

/// A fixture of `providers/google/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The CLI tests live in the root package; this crate's tests in providers/google.
    let base = if dir.join("providers/google").exists() {
        dir.join("providers/google/fixtures")
    } else {
        dir.join("fixtures")
    };
    let text = std::fs::read_to_string(base.join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The test key (PKCS #8 PEM): generated for these tests, never used anywhere else.
pub fn key_pem() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = if dir.join("providers/google").exists() {
        dir.join("providers/google/fixtures/test-key.pem")
    } else {
        dir.join("fixtures/test-key.pem")
    };
    std::fs::read_to_string(p).unwrap()
}

/// A running fake.
pub struct Fake {
    pub server: MockServer,
}

impl Fake {
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    /// The API root to point `--google-api-url` at.
    pub fn api_url(&self) -> String {
        self.server.uri()
    }

    /// The service account key file's JSON, with `token_uri` on this fake.
    pub fn key_json(&self) -> Value {
        serde_json::json!({
            "type": "service_account",
            "project_id": "acme-trustcheck",
            "private_key_id": "0123456789abcdef",
            "private_key": key_pem(),
            "client_email": "trustcheck@acme-trustcheck.iam.gserviceaccount.com",
            "client_id": "111111111111111111111",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("{}/token", self.server.uri()),
            "universe_domain": "googleapis.com"
        })
    }

    /// Writes the key file into `dir`.
    pub fn key_file(&self, dir: &Path) -> PathBuf {
        let p = dir.join("service-account.json");
        std::fs::write(&p, self.key_json().to_string()).unwrap();
        p
    }

    /// A token endpoint that grants any JWT-bearer assertion.
    pub async fn token(&self) {
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(body_string_contains(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
            ))
            .and(body_string_contains("assertion="))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": ACCESS_TOKEN,
                "expires_in": 3599,
                "token_type": "Bearer"
            })))
            .mount(&self.server)
            .await;
    }

    /// A token endpoint that refuses every assertion with `status` and `body`.
    pub async fn fail_token(&self, status: u16, body: Value) {
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.server)
            .await;
    }

    /// `body` for every authorised GET of `at`.
    pub async fn ok(&self, at: &str, body: Value) {
        Mock::given(method("GET"))
            .and(path(at))
            .and(header(
                "authorization",
                format!("Bearer {ACCESS_TOKEN}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&self.server)
            .await;
    }

    /// `status` with `body` for every GET of `at`.
    pub async fn fail(&self, at: &str, status: u16, body: Value) {
        Mock::given(method("GET"))
            .and(path(at))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.server)
            .await;
    }

    /// The fixture's users in two pages: the first two, then the third.
    pub async fn users_in_two_pages(&self) {
        let all = fixture("users_page.json");
        let users = all["users"].as_array().unwrap();
        Mock::given(method("GET"))
            .and(path(USERS))
            .and(query_param("customer", "my_customer"))
            .and(query_param("projection", "full"))
            .and(query_param_is_missing("pageToken"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "kind": "admin#directory#users",
                "users": [users[0], users[1]],
                "nextPageToken": "page-2"
            })))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path(USERS))
            .and(query_param("pageToken", "page-2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "kind": "admin#directory#users",
                "users": [users[2]]
            })))
            .mount(&self.server)
            .await;
    }

    /// The whole documented directory: token, customer, users (two pages), roles, assignments.
    pub async fn mount_acme(&self) {
        self.token().await;
        self.users_in_two_pages().await;
        self.ok(CUSTOMER, fixture("customer.json")).await;
        self.ok(ROLES, fixture("roles.json")).await;
        self.ok(ASSIGNMENTS, fixture("role_assignments.json")).await;
    }
}
