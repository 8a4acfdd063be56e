//! IAM Identity Center collection (`--identity-center`) as an instance grows: requests per
//! operation (AWS has no batched read, so they grow with permission sets, (permission set,
//! account) pairs and groups, and must grow with nothing else), and how wall time falls with
//! `--aws-concurrency`, which bounds how many permission sets and groups are read at once.
//!
//! moto (server mode, through the SDK) is seeded with 40 permission sets (every fourth
//! `AdministratorAccess`, the others `ReadOnlyAccess`, some with an inline policy), two assignments
//! each, 500 users and 20 groups of 25; then Identity Center alone is read through a proxy that
//! adds a fixed latency per request (`TRUSTCHECK_BENCH_LATENCY_MS`, default 50), because moto
//! answers in about a millisecond and AWS in tens, at concurrency 1, 4 and 16. moto provisions a
//! permission set to the caller's account only, so each has one account.
//! Run: `cargo bench -p trustcheck-aws --bench identity_center`.
//!
//! `cargo test --all-targets` runs this binary without `--bench`: then it seeds 3 permission sets,
//! 5 users and 2 groups, reads them once as a smoke test, and times nothing.

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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_iam::config::SharedCredentialsProvider;
use aws_sdk_identitystore::types::{MemberId, Name};
use aws_sdk_ssoadmin::types::{PrincipalType, ProvisionTargetType, TargetType};
use moto::{Moto, DEFAULT_ACCOUNT};
use proxy::{Proxy, ProxySettings};
use trustcheck_aws::api_calls::ApiCallCounter;
use trustcheck_aws::fetch::CallLog;
use trustcheck_aws::identity_center::{fetch, mapping};

const INLINE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*"],"Resource":"*"}]}"#;

/// The size of the seeded instance.
struct Size {
    permission_sets: usize,
    users: usize,
    groups: usize,
}

/// Seeds the instance of moto's default account; returns the number of assignments.
async fn seed(config: &aws_config::SdkConfig, size: &Size) -> usize {
    let sso = aws_sdk_ssoadmin::Client::new(config);
    let store = aws_sdk_identitystore::Client::new(config);
    let instances = sso.list_instances().send().await.unwrap();
    let instance = &instances.instances()[0];
    let instance_arn = instance.instance_arn().unwrap().to_string();
    let store_id = instance.identity_store_id().unwrap().to_string();
    let mut groups = Vec::new();
    for g in 0..size.groups {
        groups.push(
            store
                .create_group()
                .identity_store_id(&store_id)
                .display_name(format!("group-{g:02}"))
                .send()
                .await
                .unwrap()
                .group_id()
                .to_string(),
        );
    }
    let mut users = Vec::new();
    for u in 0..size.users {
        let name = format!("user{u:04}");
        let id = store
            .create_user()
            .identity_store_id(&store_id)
            .user_name(&name)
            .display_name(&name)
            .name(
                Name::builder()
                    .given_name(&name)
                    .family_name("Example")
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .user_id()
            .to_string();
        store
            .create_group_membership()
            .identity_store_id(&store_id)
            .group_id(&groups[u % groups.len()])
            .member_id(MemberId::UserId(id.clone()))
            .send()
            .await
            .unwrap();
        users.push(id);
    }
    let mut assignments = 0;
    for p in 0..size.permission_sets {
        let arn = sso
            .create_permission_set()
            .instance_arn(&instance_arn)
            .name(format!("ps-{p:03}"))
            .session_duration("PT1H")
            .send()
            .await
            .unwrap()
            .permission_set()
            .unwrap()
            .permission_set_arn()
            .unwrap()
            .to_string();
        let policy = if p % 4 == 0 {
            "arn:aws:iam::aws:policy/AdministratorAccess"
        } else {
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        };
        sso.attach_managed_policy_to_permission_set()
            .instance_arn(&instance_arn)
            .permission_set_arn(&arn)
            .managed_policy_arn(policy)
            .send()
            .await
            .unwrap();
        if p % 3 == 0 {
            sso.put_inline_policy_to_permission_set()
                .instance_arn(&instance_arn)
                .permission_set_arn(&arn)
                .inline_policy(INLINE)
                .send()
                .await
                .unwrap();
        }
        sso.provision_permission_set()
            .instance_arn(&instance_arn)
            .permission_set_arn(&arn)
            .target_type(ProvisionTargetType::AllProvisionedAccounts)
            .send()
            .await
            .unwrap();
        for (kind, principal) in [
            (PrincipalType::Group, &groups[p % groups.len()]),
            (PrincipalType::User, &users[p % users.len()]),
        ] {
            sso.create_account_assignment()
                .instance_arn(&instance_arn)
                .permission_set_arn(&arn)
                .target_id(DEFAULT_ACCOUNT)
                .target_type(TargetType::AwsAccount)
                .principal_type(kind)
                .principal_id(principal)
                .send()
                .await
                .unwrap();
            assignments += 1;
        }
    }
    assignments
}

/// One read of the instance: requests per operation, total, and wall time.
struct Run {
    concurrency: usize,
    by_operation: BTreeMap<String, u64>,
    requests: u64,
    wall: Duration,
}

async fn read(
    base: &aws_config::SdkConfig,
    proxy: &Proxy,
    concurrency: usize,
    size: &Size,
    assignments: usize,
) -> Run {
    let counter = ApiCallCounter::default();
    let log = Arc::new(CallLog::default());
    let before = proxy.requests();
    let start = Instant::now();
    let raw = fetch::identity_center(
        base,
        DEFAULT_ACCOUNT,
        "aws",
        &counter,
        Arc::clone(&log),
        concurrency,
    )
    .await;
    let wall = start.elapsed();
    assert_eq!(
        proxy.requests() - before,
        counter.get(),
        "every request that reached the proxy was counted"
    );
    let mapped = mapping::map(&raw);
    assert!(mapped.errors.is_empty(), "{:?}", mapped.errors.first());
    let count = |t: &str| {
        mapped
            .entities
            .iter()
            .filter(|e| e.uid.type_name == t)
            .count()
    };
    assert_eq!(count("Aws::PermissionSet"), size.permission_sets);
    assert_eq!(count("Aws::AccountAssignment"), assignments);
    assert_eq!(count("Aws::IdentityCenterUser"), size.users);
    assert_eq!(count("Aws::IdentityCenterGroup"), size.groups);
    Run {
        concurrency,
        by_operation: log.snapshot(),
        requests: counter.get(),
        wall,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let latency_ms: u64 = std::env::var("TRUSTCHECK_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let size = if benchmarking {
        Size {
            permission_sets: 40,
            users: 500,
            groups: 20,
        }
    } else {
        Size {
            permission_sets: 3,
            users: 5,
            groups: 2,
        }
    };
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")]);
    let direct = moto.config(DEFAULT_ACCOUNT).await;
    let seeded = Instant::now();
    let assignments = seed(&direct, &size).await;
    let proxy = Proxy::start(&moto.url, ProxySettings::default());
    let base =
        trustcheck_aws::load_base_config(Some("us-east-1".into()), Some(proxy.url.clone()), 3)
            .await
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(
                direct.credentials_provider().unwrap(),
            ))
            .build();
    if !benchmarking {
        let run = read(&base, &proxy, 4, &size, assignments).await;
        println!(
            "identity center smoke: {} requests for {} permission sets",
            run.requests, size.permission_sets
        );
        return;
    }
    println!(
        "seeded {} permission sets, {assignments} assignments, {} users, {} groups in {:.1} s",
        size.permission_sets,
        size.users,
        size.groups,
        seeded.elapsed().as_secs_f64()
    );
    proxy.set_latency(Duration::from_millis(latency_ms));
    let mut runs = Vec::new();
    for concurrency in [1, 4, 16] {
        runs.push(read(&base, &proxy, concurrency, &size, assignments).await);
    }
    println!("\nrequests per operation (the same in every run):");
    for (op, n) in &runs[0].by_operation {
        println!("  {op:<52} {n:>4}");
    }
    for run in &runs[1..] {
        assert_eq!(run.by_operation, runs[0].by_operation);
    }
    let serial = runs[0].wall.as_secs_f64();
    println!(
        "\n{latency_ms} ms per request\n| concurrency | requests | wall (s) | wall / (serial / concurrency) |\n|---|---|---|---|"
    );
    for run in &runs {
        let bound = serial / run.concurrency as f64;
        println!(
            "| {} | {} | {:.2} | {:.2} |",
            run.concurrency,
            run.requests,
            run.wall.as_secs_f64(),
            run.wall.as_secs_f64() / bound
        );
    }
}
