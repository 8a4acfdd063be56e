//! `trustcheck collect github` and `check --collect github` as a user runs them, against a fake
//! GitHub (wiremock) on 127.0.0.1.

use crate::github_fake::Fake;
use assert_cmd::Command;
use predicates::prelude::*;

const TOKEN: &str = "ghp_CLItoken0123456789abcdefghijklmnopqrs";

fn trustcheck(fake: &Fake) -> Command {
    let mut cmd = Command::cargo_bin("trustcheck").unwrap();
    cmd.env("TC_GH_TOKEN", TOKEN)
        .env("GITHUB_API_URL", fake.api_url())
        .env_remove("GITHUB_TOKEN")
        .env("NO_COLOR", "1");
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_writes_a_snapshot_and_check_judges_it_without_leaking_the_token() {
    let fake = Fake::start("/api/v3").await;
    // Collected twice below, so ruleset details are fetched once per run.
    fake.mount_acme_partial().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("github.json");

    // Two branches cannot be read with this token: the snapshot is written, the run exits 2.
    let collected = trustcheck(&fake)
        .args([
            "collect",
            "github",
            "--org",
            "acme",
            "--token-env",
            "TC_GH_TOKEN",
        ])
        .args(["--concurrency", "4", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "trustcheck: github: collecting `acme`",
        ))
        .stderr(predicate::str::contains("facts could not be collected"))
        .stderr(predicate::str::contains(TOKEN).not())
        .get_output()
        .clone();
    assert!(collected.stdout.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(TOKEN));
    let snapshot: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(snapshot["sources"][0]["scope"], "acme");
    assert_eq!(snapshot["sources"][0]["identity"], "soc2-bot");

    // Judged offline: failures and errors, so exit 2 (errors win).
    trustcheck(&fake)
        .args(["check", "--format", "json", "--snapshot"])
        .arg(&out)
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "\"github-branch-admins-cannot-bypass\"",
        ));

    // Collected and judged in one go, keeping the evidence.
    let saved = dir.path().join("evidence.json");
    trustcheck(&fake)
        .args(["--quiet", "check", "--collect", "github", "--org", "acme"])
        .args(["--token-env", "TC_GH_TOKEN", "--save-snapshot"])
        .arg(&saved)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("github-branch-protected"))
        .stdout(predicate::str::contains(TOKEN).not())
        .stderr(predicate::str::contains("collecting").not());
    assert!(saved.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_token_is_a_clear_usage_error() {
    let fake = Fake::start("").await;
    trustcheck(&fake)
        .args(["collect", "github", "--org", "acme", "--out", "never.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no GitHub token: `GITHUB_TOKEN` is not set",
        ))
        .stderr(predicate::str::contains("help:"));
    assert!(!std::path::Path::new("never.json").exists());
    assert!(fake.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_token_stops_the_run_with_a_clear_error() {
    let fake = Fake::start("").await;
    fake.get(
        "/user",
        crate::github_fake::reply(
            401,
            serde_json::json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
        ),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.json");
    trustcheck(&fake)
        .args([
            "collect",
            "github",
            "--org",
            "acme",
            "--token-env",
            "TC_GH_TOKEN",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "GitHub rejected the token: 401 Bad credentials",
        ))
        .stderr(predicate::str::contains(TOKEN).not());
    assert!(!out.exists(), "no snapshot from a rejected token");
    assert_eq!(fake.server.received_requests().await.unwrap().len(), 1);
}
