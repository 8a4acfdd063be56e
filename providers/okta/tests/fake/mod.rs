//! A fake Okta org (wiremock on 127.0.0.1) answering with the management API's documented shapes
//! (`fixtures/`): users in two `Link`-paginated pages plus the DEPROVISIONED ones asked for
//! explicitly, factors per user, role holders and their roles. Shared by this crate's tests and
//! the CLI tests (`tests/cli/okta.rs`).

#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The API token the fake accepts.
pub const TOKEN: &str = "00fakeOktaApiToken0123456789abcdefghijkl";

/// A fixture of `providers/okta/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = if dir.join("providers/okta").exists() {
        dir.join("providers/okta/fixtures")
    } else {
        dir.join("fixtures")
    };
    serde_json::from_str(&std::fs::read_to_string(base.join(name)).unwrap()).unwrap()
}

/// A 200 with Okta's rate-limit headers (plenty left).
pub fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("X-Rate-Limit-Limit", "600")
        .insert_header("X-Rate-Limit-Remaining", "599")
        .insert_header("X-Rate-Limit-Reset", (unix_now() + 60).to_string().as_str())
        .set_body_json(body)
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
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

    /// The org URL (`http://127.0.0.1:PORT`).
    pub fn org_url(&self) -> String {
        self.server.uri()
    }

    /// `host:port`, the snapshot's scope.
    pub fn host(&self) -> String {
        self.server.uri().trim_start_matches("http://").to_string()
    }

    /// `response` to every authorised GET of `at`.
    pub async fn get(&self, at: &str, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(at))
            .and(header("authorization", format!("SSWS {TOKEN}").as_str()))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// Users: the fixture's first two on page one, the third on page two (`Link: rel="next"`),
    /// and the DEPROVISIONED one only when asked for by filter.
    pub async fn users(&self) {
        let all = fixture("users.json");
        let users = all.as_array().unwrap();
        let next = format!(
            "{}/api/v1/users?after=00u2staff&limit=200",
            self.server.uri()
        );
        Mock::given(method("GET"))
            .and(path("/api/v1/users"))
            .and(query_param_is_missing("after"))
            .and(query_param_is_missing("filter"))
            .respond_with(
                ok(Value::Array(vec![users[0].clone(), users[1].clone()])).insert_header(
                    "Link",
                    format!(
                        "<{}/api/v1/users?limit=200>; rel=\"self\", <{next}>; rel=\"next\"",
                        self.server.uri()
                    )
                    .as_str(),
                ),
            )
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/users"))
            .and(query_param("after", "00u2staff"))
            .respond_with(ok(Value::Array(vec![users[2].clone()])))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/users"))
            .and(query_param("filter", "status eq \"DEPROVISIONED\""))
            .respond_with(ok(Value::Array(vec![users[3].clone()])))
            .mount(&self.server)
            .await;
    }

    /// Role holders and their roles.
    pub async fn roles(&self) {
        self.get("/api/v1/iam/assignees/users", ok(fixture("assignees.json")))
            .await;
        for id in ["00u1admin", "00u4gone"] {
            self.get(
                &format!("/api/v1/users/{id}/roles"),
                ok(fixture("roles_super_admin.json")),
            )
            .await;
        }
    }

    /// Factors of the users who can sign in.
    pub async fn factors(&self) {
        self.get(
            "/api/v1/users/00u1admin/factors",
            ok(fixture("factors_admin.json")),
        )
        .await;
        self.get(
            "/api/v1/users/00u2staff/factors",
            ok(fixture("factors_sms_only.json")),
        )
        .await;
    }

    /// Global session policies with their rules, and authenticator enrollment policies.
    pub async fn policies(&self) {
        for (kind, file) in [
            ("OKTA_SIGN_ON", "policies_sign_on.json"),
            ("MFA_ENROLL", "policies_mfa_enroll.json"),
        ] {
            Mock::given(method("GET"))
                .and(path("/api/v1/policies"))
                .and(query_param("type", kind))
                .and(header("authorization", format!("SSWS {TOKEN}").as_str()))
                .respond_with(ok(fixture(file)))
                .mount(&self.server)
                .await;
        }
        self.get(
            "/api/v1/policies/00p0default/rules",
            ok(fixture("sign_on_rules_default.json")),
        )
        .await;
        self.get(
            "/api/v1/policies/00p1contractors/rules",
            ok(fixture("sign_on_rules_contractors.json")),
        )
        .await;
    }

    /// The whole documented org.
    pub async fn mount_acme(&self) {
        self.users().await;
        self.roles().await;
        self.factors().await;
        self.policies().await;
    }
}
