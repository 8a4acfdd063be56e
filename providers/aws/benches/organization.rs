//! `collect aws --organization` as the organisation grows: requests per member account (they must
//! not grow with the organisation), and how close wall time comes to
//! accounts × per-account time / concurrency.
//!
//! A moto organisation (server mode, through the SDK) grows to 50, then to 200 member accounts.
//! Each size is listed (`organizations:ListAccounts`) and read through `--role-name` exactly as
//! `collect aws --organization` does (the same flags, `AwsOptions::targets`, `collect`), first
//! once to have moto generate every credential report (AWS reuses one for 4 hours), then timed at
//! concurrency 1 (which gives the per-account time) and higher. moto answers in about a
//! millisecond and AWS in tens, so the requests go through a proxy that adds a fixed latency per
//! request (tests/support/proxy.rs); without it, moto's single Python process would be what is
//! measured. Run: `cargo bench -p trustcheck-aws --bench organization`.
//!
//! `cargo test --all-targets` runs this binary without `--bench`: then it builds an organisation
//! of 3 members and reads it once, as a smoke test, and times nothing.

// Tests and benchmarks assert: a value that is not there is a failed test, not input to handle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

#[path = "../tests/support/moto.rs"]
mod moto;
#[path = "../tests/support/proxy.rs"]
mod proxy;

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_iam::config::SharedCredentialsProvider;
use aws_sdk_organizations::types::OrganizationFeatureSet;
use clap::Parser;
use moto::{Moto, DEFAULT_ACCOUNT};
use proxy::{Proxy, ProxySettings};
use trustcheck_aws::provider::AwsOptions;
use trustcheck_aws::{collect, organization, CollectOptions, Target};

/// The role read in each member account.
const ROLE: &str = "trustcheck-audit";

/// The flags of `collect aws`, parsed as the binary parses them.
#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    aws: AwsOptions,
}

/// One timed collection of the whole organisation.
struct Run {
    members: usize,
    concurrency: usize,
    /// Requests each member account took (the same for all, or the run fails).
    per_member: u64,
    /// Requests the proxy forwarded or answered, the organisation listing included.
    proxied: u64,
    wall: Duration,
}

/// Grows the organisation to `n` member accounts.
async fn grow(org: &aws_sdk_organizations::Client, members: &mut Vec<String>, n: usize) {
    while members.len() < n {
        let i = members.len();
        let created = org
            .create_account()
            .account_name(format!("member-{i}"))
            .email(format!("member-{i}@example.com"))
            .send()
            .await
            .unwrap();
        members.push(
            created
                .create_account_status()
                .and_then(|s| s.account_id())
                .unwrap()
                .to_string(),
        );
    }
}

/// `collect aws --organization --role-name trustcheck-audit --aws-concurrency <c>`, through
/// `base` (the proxy); the member accounts' request counts and the wall time.
async fn read_organization(base: &SdkConfig, proxy: &Proxy, concurrency: usize) -> Run {
    let c = concurrency.to_string();
    let flags = Flags::parse_from([
        "bench",
        "--organization",
        "--role-name",
        ROLE,
        "--aws-concurrency",
        &c,
    ])
    .aws;
    let before = proxy.requests();
    let start = Instant::now();
    let org = organization::list(base).await.unwrap();
    let targets = flags.targets("aws", Some(&org)).unwrap();
    let options = CollectOptions {
        targets: targets.clone(),
        concurrency: usize::from(flags.concurrency),
        ..CollectOptions::default()
    };
    let accounts = collect(base, &options).await.unwrap();
    let wall = start.elapsed();
    let mut per_member: Vec<u64> = targets
        .iter()
        .zip(&accounts)
        .filter(|(t, _)| matches!(t, Target::Role(_)))
        .map(|(_, a)| {
            assert!(
                a.identity.is_some(),
                "every member is read: {:?}",
                a.errors.first()
            );
            a.api_calls
        })
        .collect();
    let members = per_member.len();
    per_member.dedup();
    assert_eq!(
        per_member.len(),
        1,
        "every member account takes the same requests: {per_member:?}"
    );
    Run {
        members,
        concurrency,
        per_member: per_member[0],
        proxied: proxy.requests() - before,
        wall,
    }
}

/// The management account's SDK config, its requests sent through `proxy`.
async fn through(moto: &Moto, proxy: &Proxy) -> SdkConfig {
    let direct = moto.config(DEFAULT_ACCOUNT).await;
    trustcheck_aws::load_base_config(Some("us-east-1".into()), Some(proxy.url.clone()), 3)
        .await
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(
            direct.credentials_provider().unwrap(),
        ))
        .build()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let latency_ms: u64 = std::env::var("TRUSTCHECK_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benchmarking { 50 } else { 0 });
    // Without AWS's ~1,300 managed policies, so moto's CPU per account stays small.
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")]);
    let management = moto.config(DEFAULT_ACCOUNT).await;
    let org = aws_sdk_organizations::Client::new(&management);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let proxy = Proxy::start(
        &moto.url,
        ProxySettings {
            latency: Duration::from_millis(latency_ms),
            ..ProxySettings::default()
        },
    );
    let base = through(&moto, &proxy).await;
    let mut members = Vec::new();

    if !benchmarking {
        grow(&org, &mut members, 3).await;
        let run = read_organization(&base, &proxy, 2).await;
        assert_eq!(run.members, 3);
        println!(
            "bench smoke run: 3 member accounts read in {} requests each (run `cargo bench -p trustcheck-aws --bench organization` for the table)",
            run.per_member
        );
        return;
    }

    let mut runs = Vec::new();
    for (size, concurrencies) in [(50, &[1, 8][..]), (200, &[1, 8, 32][..])] {
        grow(&org, &mut members, size).await;
        // Has moto generate each new account's credential report; not timed.
        read_organization(&base, &proxy, 32).await;
        for &c in concurrencies {
            let run = read_organization(&base, &proxy, c).await;
            eprintln!(
                "{} members, concurrency {c}: {:.1} s",
                run.members,
                run.wall.as_secs_f64()
            );
            runs.push(run);
        }
    }

    println!("Latency added per request: {latency_ms} ms. Member accounts read through `{ROLE}`; the management account with the caller's credentials.");
    println!();
    println!("| member accounts | concurrency | requests per member | requests in all | wall (s) | per-account time (s) | bound = accounts × per-account / concurrency (s) | wall / bound |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in &runs {
        // Per-account time: the concurrency-1 run of the same organisation, over every account
        // it read (the members and the management account).
        let serial = runs
            .iter()
            .find(|r| r.members == run.members && r.concurrency == 1)
            .unwrap();
        let accounts = (run.members + 1) as f64;
        let per_account = serial.wall.as_secs_f64() / accounts;
        let bound = accounts * per_account / run.concurrency as f64;
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.3} | {:.2} | **{:.2}** |",
            run.members,
            run.concurrency,
            run.per_member,
            run.proxied,
            run.wall.as_secs_f64(),
            per_account,
            bound,
            run.wall.as_secs_f64() / bound
        );
    }
}
