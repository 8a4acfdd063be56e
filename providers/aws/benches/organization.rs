//! `collect aws --organization` as the organisation grows: requests per member account (they must
//! not grow with the organisation), and how close wall time comes to
//! accounts × per-account time / concurrency.
//!
//! A moto organisation (server mode, through the SDK) grows to 50, then to 200 member accounts.
//! Each size is listed (`organizations:ListAccounts`) and read through `--role-name` exactly as
//! `collect aws --organization` does (the same flags, `AwsOptions::targets`, `collect`): first
//! once, untimed, to have moto generate every credential report (AWS reuses one for 4 hours);
//! then at concurrency 1 without added latency (moto's own time per account); then at concurrency
//! 1, 8 and 32 with a fixed latency per request (`TRUSTCHECK_BENCH_LATENCY_MS`, default 50),
//! added by a proxy in front of moto (tests/support/proxy.rs), because moto answers in about a
//! millisecond and AWS in tens. The concurrency-1 run gives the per-account time of the bound.
//! Run: `cargo bench -p trustcheck-aws --bench organization`.
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
    latency_ms: u64,
    concurrency: usize,
    /// Requests each member account took, without repeats: one value when all took the same.
    per_member: Vec<u64>,
    /// Requests the proxy forwarded or answered, the organisation listing included (the same as
    /// the collector counted, or the run fails).
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
async fn read_organization(
    base: &SdkConfig,
    proxy: &Proxy,
    latency_ms: u64,
    concurrency: usize,
) -> Run {
    proxy.set_latency(Duration::from_millis(latency_ms));
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
    let before_by_action = proxy.requests_by_action();
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
    // Every request that reached the proxy is one the collector counted: the accounts' own
    // (AssumeRole included) and the organisation's listing.
    let proxied = proxy.requests() - before;
    let counted: u64 =
        accounts.iter().map(|a| a.api_calls).sum::<u64>() + org.calls.values().sum::<u64>();
    assert_eq!(
        proxied,
        counted,
        "requests by action: {:?} (before this run: {before_by_action:?})",
        proxy.requests_by_action()
    );
    let members = per_member.len();
    per_member.sort_unstable();
    per_member.dedup();
    Run {
        members,
        latency_ms,
        concurrency,
        per_member,
        proxied,
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

/// The same requests for every member account, or the run is wrong.
fn uniform(run: Run) -> Run {
    assert_eq!(
        run.per_member.len(),
        1,
        "every member account takes the same requests: {:?}",
        run.per_member
    );
    run
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    // AWS's round trip, roughly, from outside us-east-1 (where IAM answers).
    let latency_ms: u64 = std::env::var("TRUSTCHECK_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    // Without AWS's ~1,300 managed policies, so moto's CPU per account stays small.
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")]);
    let management = moto.config(DEFAULT_ACCOUNT).await;
    let org = aws_sdk_organizations::Client::new(&management);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let proxy = Proxy::start(&moto.url, ProxySettings::default());
    let base = through(&moto, &proxy).await;
    let mut members = Vec::new();

    if !benchmarking {
        grow(&org, &mut members, 3).await;
        let run = uniform(read_organization(&base, &proxy, 0, 2).await);
        assert_eq!(run.members, 3);
        println!(
            "bench smoke run: 3 member accounts read in {} requests each (run `cargo bench -p trustcheck-aws --bench organization` for the table)",
            run.per_member[0]
        );
        return;
    }

    let mut runs = Vec::new();
    for size in [50, 200] {
        grow(&org, &mut members, size).await;
        // Has moto generate each new account's credential report (its first read takes one
        // more GenerateCredentialReport poll); not timed.
        read_organization(&base, &proxy, 0, 32).await;
        // moto's own time per account: no latency, one account at a time.
        runs.push(uniform(read_organization(&base, &proxy, 0, 1).await));
        for c in [1, 8, 32] {
            runs.push(uniform(
                read_organization(&base, &proxy, latency_ms, c).await,
            ));
        }
        for run in runs.iter().filter(|r| r.members == size) {
            eprintln!(
                "{size} members, latency {} ms, concurrency {}: {:.1} s",
                run.latency_ms,
                run.concurrency,
                run.wall.as_secs_f64()
            );
        }
    }

    println!("Member accounts read through `{ROLE}`, the management account with the caller's credentials; per-account time from the concurrency-1 run at the same latency.");
    println!();
    println!("| member accounts | latency added (ms) | concurrency | requests per member | requests in all | wall (s) | per-account time (s) | bound = accounts × per-account / concurrency (s) | wall / bound | moto's floor = accounts × moto's time per account (s) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in &runs {
        let accounts = (run.members + 1) as f64;
        let per_account = |latency_ms: u64| {
            let serial = runs
                .iter()
                .find(|r| {
                    r.members == run.members && r.latency_ms == latency_ms && r.concurrency == 1
                })
                .unwrap();
            serial.wall.as_secs_f64() / accounts
        };
        let bound = accounts * per_account(run.latency_ms) / run.concurrency as f64;
        println!(
            "| {} | {} | {} | {} | {} | {:.2} | {:.3} | {:.2} | **{:.2}** | {:.2} |",
            run.members,
            run.latency_ms,
            run.concurrency,
            run.per_member[0],
            run.proxied,
            run.wall.as_secs_f64(),
            per_account(run.latency_ms),
            bound,
            run.wall.as_secs_f64() / bound,
            accounts * per_account(0)
        );
    }
}
