//! How many calls, pages and seconds collecting an account takes, as the account grows.
//!
//! Seeds moto (server mode, through the SDK) with 60 and with 1,000 users — roles, groups and
//! policies in proportion — then collects it and prints a table: API requests made, requests
//! per operation, the pages the same account would take on AWS at IAM's 1,000-item page size
//! (moto does not paginate GetAccountAuthorizationDetails), wall time, and the calls a
//! per-user collector like Prowler's would make. Run: `cargo bench -p trustcheck-aws`.

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

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_iam::Client;
use moto::{Moto, DEFAULT_ACCOUNT};
use trustcheck_aws::fetch::PAGE_SIZE;
use trustcheck_aws::{collect, CollectOptions};

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// An account's shape: per 60 users, 20 roles, 6 groups and 10 customer-managed policies.
#[derive(Clone, Copy)]
struct Shape {
    users: usize,
    roles: usize,
    groups: usize,
    policies: usize,
}

impl Shape {
    fn of(users: usize) -> Self {
        Self {
            users,
            roles: users / 3,
            groups: users.div_ceil(10),
            policies: users / 6,
        }
    }

    /// Items GetAccountAuthorizationDetails returns (every user, group, role and policy).
    fn items(self) -> usize {
        self.users + self.roles + self.groups + self.policies
    }
}

async fn seed(iam: &Client, shape: Shape) {
    let limit = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = Vec::new();
    for p in 0..shape.policies {
        let (iam, limit) = (iam.clone(), Arc::clone(&limit));
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await;
            iam.create_policy()
                .policy_name(format!("policy-{p}"))
                .policy_document(POLICY)
                .send()
                .await
                .unwrap();
        }));
    }
    for g in 0..shape.groups {
        let (iam, limit) = (iam.clone(), Arc::clone(&limit));
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await;
            iam.create_group()
                .group_name(format!("group-{g}"))
                .send()
                .await
                .unwrap();
        }));
    }
    for t in tasks.drain(..) {
        t.await.unwrap();
    }
    for u in 0..shape.users {
        let (iam, limit) = (iam.clone(), Arc::clone(&limit));
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await;
            let name = format!("user-{u:04}");
            iam.create_user().user_name(&name).send().await.unwrap();
            iam.add_user_to_group()
                .group_name(format!("group-{}", u % shape.groups))
                .user_name(&name)
                .send()
                .await
                .unwrap();
            if u % 2 == 0 {
                iam.create_login_profile()
                    .user_name(&name)
                    .password("Correct-Horse-9!")
                    .send()
                    .await
                    .unwrap();
            }
            if u % 3 == 0 {
                iam.create_access_key()
                    .user_name(&name)
                    .send()
                    .await
                    .unwrap();
            }
            if u % 5 == 0 && shape.policies > 0 {
                let arn = format!(
                    "arn:aws:iam::{DEFAULT_ACCOUNT}:policy/policy-{}",
                    u % shape.policies
                );
                iam.attach_user_policy()
                    .user_name(&name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .unwrap();
            }
            if u % 7 == 0 {
                iam.put_user_policy()
                    .user_name(&name)
                    .policy_name("inline")
                    .policy_document(POLICY)
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for r in 0..shape.roles {
        let (iam, limit) = (iam.clone(), Arc::clone(&limit));
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await;
            iam.create_role()
                .role_name(format!("role-{r:04}"))
                .assume_role_policy_document(TRUST)
                .send()
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

struct Row {
    shape: Shape,
    entities: usize,
    requests: u64,
    by_operation: String,
    aws_pages: usize,
    median: Duration,
    prowler: usize,
}

async fn measure(users: usize) -> Row {
    // Without AWS's ~1,300 managed policies, so the response size follows the account's size.
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")]);
    let config = moto.config(DEFAULT_ACCOUNT).await;
    let shape = Shape::of(users);
    let seeding = Instant::now();
    seed(&Client::new(&config), shape).await;
    eprintln!(
        "seeded {users} users in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let options = CollectOptions::default();
    // The first collection has moto generate the credential report (AWS reuses one for 4 h too);
    // the timed runs then measure collection, not report generation.
    collect(&config, &options).await.unwrap();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let start = Instant::now();
        let mut accounts = collect(&config, &options).await.unwrap();
        times.push(start.elapsed());
        last = Some(accounts.remove(0));
    }
    times.sort();
    let account = last.expect("three runs");
    assert!(
        account.errors.len() <= 1,
        "only moto's missing root row: {:?}",
        account.errors
    );
    // On AWS: the listings page at 1,000 items; everything else is one call per account
    // (GetCallerIdentity, ListAccountAliases, GetAccountSummary, GetAccountPasswordPolicy,
    // GenerateCredentialReport + GetCredentialReport when a report is ready). No MFA devices are
    // seeded, so ListVirtualMFADevices is one page.
    let aws_pages = shape.items().div_ceil(PAGE_SIZE as usize).max(1) + 1 + 6;
    // Prowler's documented per-entity calls (research/mission-anchors.md): ≈9 per user
    // (+1 per inline policy), ≈4 per role, ≈3 per group, 1 per policy, ≈15 account-wide.
    let inline = shape.users.div_ceil(7);
    let prowler =
        9 * shape.users + inline + 4 * shape.roles + 3 * shape.groups + shape.policies + 15;
    Row {
        shape,
        entities: account.entities.len(),
        requests: account.api_calls,
        by_operation: account
            .calls_by_operation
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        aws_pages,
        median: times[1],
        prowler,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it. Then
    // only the small account is seeded, as a smoke test that keeps this code working.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    if !benchmarking {
        let row = measure(60).await;
        assert_eq!(row.requests, 8, "{}", row.by_operation);
        println!("bench smoke run: 60 users collected in 8 requests (run `cargo bench -p trustcheck-aws` for the table)");
        return;
    }
    let mut rows = Vec::new();
    for users in [60, 1000] {
        rows.push(measure(users).await);
    }
    println!("| users | roles | groups | policies | entities | requests to moto | pages on AWS (1,000/page) | wall time (median of 3) | per-user approach (est.) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} s | ≈{} |",
            r.shape.users,
            r.shape.roles,
            r.shape.groups,
            r.shape.policies,
            r.entities,
            r.requests,
            r.aws_pages,
            r.median.as_secs_f64(),
            r.prowler
        );
    }
    println!();
    for r in &rows {
        println!("{} users: {}", r.shape.users, r.by_operation);
    }
}
