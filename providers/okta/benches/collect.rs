//! Collection benchmark: an Okta org of synthetic users on a local wiremock server answering every
//! request after a fixed latency, through the real client. Okta offers factors only per user, so
//! this measures how well the per-user calls use the concurrency.
//!
//! Prints requests made, requests per user, wall time, and the ratio of wall time to the bound
//! `requests × latency / concurrency` (what perfect use of the concurrency would take; the
//! paginated user list is sequential by nature).
//!
//! `cargo bench -p trustcheck-okta --bench collect` runs the full size; without `--bench` (as
//! `cargo test --all-targets` runs it) a small, fast version checks that it still works.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use trustcheck_okta::{collect, ApiToken, Config, NoProgress};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Users `u0`…: ACTIVE, each with one active FastPass factor; no admins; 200 users a page.
struct SyntheticOrg {
    base: String,
    users: usize,
    latency: Duration,
}

impl Respond for SyntheticOrg {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let query = |k: &str| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.to_string())
        };
        let reply = |body: serde_json::Value| {
            ResponseTemplate::new(200)
                .set_delay(self.latency)
                .insert_header("X-Rate-Limit-Remaining", "10000")
                .insert_header("X-Rate-Limit-Reset", "0")
                .set_body_json(body)
        };
        if path == "/api/v1/users" {
            if query("filter").is_some() {
                return reply(json!([]));
            }
            let from: usize = query("after").and_then(|a| a.parse().ok()).unwrap_or(0);
            let to = (from + 200).min(self.users);
            let page: Vec<_> = (from..to)
                .map(|i| {
                    json!({"id": format!("u{i}"), "status": "ACTIVE",
                           "created": "2025-01-01T00:00:00.000Z",
                           "lastLogin": "2026-11-20T00:00:00.000Z",
                           "profile": {"login": format!("user{i}@bench.example")}})
                })
                .collect();
            let mut r = reply(json!(page));
            if to < self.users {
                r = r.insert_header(
                    "Link",
                    format!(
                        "<{}/api/v1/users?after={to}&limit=200>; rel=\"next\"",
                        self.base
                    )
                    .as_str(),
                );
            }
            return r;
        }
        if path == "/api/v1/iam/assignees/users" {
            return reply(json!({"value": []}));
        }
        if path == "/api/v1/policies" {
            let kind = query("type").unwrap_or_default();
            return reply(json!([{"id": format!("p-{kind}"), "name": "Default Policy",
                "status": "ACTIVE", "priority": 1, "system": true, "type": kind,
                "conditions": {"people": {"groups": {"include": ["g-everyone"]}}},
                "settings": {"type": "AUTHENTICATORS", "authenticators": [
                    {"key": "okta_verify", "enroll": {"self": "REQUIRED"}}]}}]));
        }
        if path.ends_with("/rules") {
            return reply(
                json!([{"id": "r1", "name": "Default Rule", "status": "ACTIVE",
                "priority": 1, "system": true, "type": "SIGN_ON",
                "actions": {"signon": {"access": "ALLOW", "requireFactor": true,
                    "factorPromptMode": "ALWAYS"}}}]),
            );
        }
        if path.ends_with("/factors") {
            return reply(json!([{"factorType": "signed_nonce", "status": "ACTIVE"}]));
        }
        ResponseTemplate::new(404)
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let (users, latency, concurrencies): (usize, Duration, &[usize]) = if full {
        (1000, Duration::from_millis(20), &[4, 8, 16])
    } else {
        (30, Duration::from_millis(1), &[4])
    };
    println!(
        "Okta collection: {users} users, {} ms latency per request",
        latency.as_millis()
    );
    println!("| concurrency | requests | requests/user | wall (s) | bound (s) | wall/bound | entities | errors |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &c in concurrencies {
        let (requests, wall, entities, errors) = runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(SyntheticOrg {
                    base: server.uri(),
                    users,
                    latency,
                })
                .mount(&server)
                .await;
            let mut config = Config::new(server.uri(), ApiToken::new("bench-token"));
            config.concurrency = c;
            let started = Instant::now();
            let s = collect(
                &config,
                time::OffsetDateTime::now_utc(),
                Arc::new(NoProgress),
            )
            .await
            .expect("collection starts");
            let wall = started.elapsed();
            let requests = server.received_requests().await.map_or(0, |r| r.len());
            (requests, wall, s.entities.len(), s.sources[0].errors.len())
        });
        let bound = latency * u32::try_from(requests).unwrap_or(u32::MAX) / c as u32;
        println!(
            "| {c} | {requests} | {:.2} | {:.2} | {:.2} | {:.2} | {entities} | {errors} |",
            requests as f64 / users as f64,
            wall.as_secs_f64(),
            bound.as_secs_f64(),
            wall.as_secs_f64() / bound.as_secs_f64(),
        );
        // The org, every user, a sign-on policy with its rule and an enrollment policy.
        assert_eq!(entities, 1 + users + 3, "every user and policy collected");
        assert_eq!(errors, 0, "no fact left unread");
    }
}
