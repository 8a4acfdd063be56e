//! Collection benchmark: one organization with 1,000 repositories on a local fake GitHub
//! (wiremock on 127.0.0.1) that answers every request after 50 ms, through real octocrab.
//!
//! Prints requests made, requests per repository, wall time, and the ratio of wall time to the
//! bound `requests × latency / concurrency` (what perfect use of the concurrency would take).
//! Targets: ratio ≤ 1.3, and ≤ 3 requests per repository plus pagination.
//!
//! `cargo bench -p trustcheck-github --bench collect` runs the full size; without `--bench`
//! (as `cargo test --all-targets` runs it) a small, fast version checks that it still works.

// Tests and benchmarks assert: a value that is not there is a failed test, not input to handle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use trustcheck_github::{collect, Auth, Config, NoProgress, Token};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers like GitHub for org `bench`: repository `r{i}` has, by `i % 4`, classic protection;
/// an org ruleset; a repository ruleset; or weak classic protection plus the org ruleset.
struct FakeGithub {
    base: String,
    repos: usize,
    latency: Duration,
}

const ORG_RULESET: u64 = 7000;

impl FakeGithub {
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
            "disabled": false, "default_branch": "main"
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

impl Respond for FakeGithub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let query = request.url.query().unwrap_or_default();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["user"] => self.ok(json!({"login": "bench-bot", "id": 1})),
            ["orgs", "bench"] => self.ok(json!({
                "login": "bench", "id": 1, "two_factor_requirement_enabled": true,
                "default_repository_permission": "read", "members_can_create_repositories": false,
                "members_can_create_public_repositories": false
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
                        "allow_deletions": {"enabled": false}
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
            ["repos", "bench", _, "rulesets", id] => self.ok(json!({
                "id": id.parse::<u64>().unwrap_or(0), "name": "baseline", "target": "branch",
                "source_type": if *id == ORG_RULESET.to_string() { "Organization" } else { "Repository" },
                "source": "bench", "enforcement": "active", "bypass_actors": []
            })),
            _ => self.reply(404, json!({"message": "Not Found", "status": "404"})),
        }
    }
}

struct Run {
    concurrency: usize,
    repos: usize,
    requests: usize,
    wall: Duration,
    bound: Duration,
    entities: usize,
    errors: usize,
}

async fn run(repos: usize, latency: Duration, concurrency: usize) -> Run {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(FakeGithub {
            base: server.uri(),
            repos,
            latency,
        })
        .mount(&server)
        .await;
    let mut config = Config::new(server.uri(), Auth::Token(Token::new("bench-token")));
    config.orgs = vec!["bench".into()];
    config.concurrency = concurrency;
    let started = Instant::now();
    let out = collect(&config, Arc::new(NoProgress))
        .await
        .expect("collection starts");
    let wall = started.elapsed();
    let requests = server.received_requests().await.map_or(0, |r| r.len());
    Run {
        concurrency,
        repos,
        requests,
        wall,
        bound: latency * u32::try_from(requests).unwrap_or(u32::MAX)
            / u32::try_from(concurrency).unwrap_or(1),
        entities: out[0].entities.len(),
        errors: out[0].errors.len(),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let (repos, latency, concurrencies): (usize, Duration, &[usize]) = if full {
        (1000, Duration::from_millis(50), &[8, 16])
    } else {
        (20, Duration::from_millis(2), &[8])
    };
    println!(
        "GitHub collection: {repos} repositories, {} ms latency per request",
        latency.as_millis()
    );
    println!("| concurrency | requests | requests/repo | wall (s) | bound (s) | wall/bound | entities | errors |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &c in concurrencies {
        let r = runtime.block_on(run(repos, latency, c));
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
            r.concurrency,
            r.requests,
            r.requests as f64 / r.repos as f64,
            r.wall.as_secs_f64(),
            r.bound.as_secs_f64(),
            r.wall.as_secs_f64() / r.bound.as_secs_f64(),
            r.entities,
            r.errors
        );
        // Org + 50 members + 50 collaborators + repositories + default branches.
        assert_eq!(
            r.entities,
            1 + 50 + 50 + 2 * repos,
            "every entity collected"
        );
        assert_eq!(r.errors, 0, "no fact left unread");
    }
}
