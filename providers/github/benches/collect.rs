//! Collection benchmark: one organization with 1,000 repositories on the fake GitHub of the
//! provider's tests (`tests/fake`, its synthetic organization) answering every request after 50 ms, through real octocrab.
//!
//! Prints requests made, requests per repository, wall time, and the ratio of wall time to the
//! bound `requests × latency / concurrency` (what perfect use of the concurrency would take).
//! Targets: ratio ≤ 1.3, and ≤ 6 requests per repository plus pagination (issue 11).
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

#[path = "../tests/fake/mod.rs"]
mod fake;

use fake::SyntheticOrg;
use trustcheck_github::{collect, Auth, Config, NoProgress, Token};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

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
        .respond_with(SyntheticOrg {
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
