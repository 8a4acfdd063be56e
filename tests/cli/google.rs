//! `trustcheck collect google` and `check --collect google` as a user runs them, against a fake
//! Google (wiremock) on 127.0.0.1: the key file's `token_uri` and `GOOGLE_API_URL` point at it.

use assert_cmd::Command;
use predicates::prelude::*;

use crate::google_fake::{Fake, ACCESS_TOKEN, ADMIN};

fn trustcheck(fake: &Fake, key: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("trustcheck").unwrap();
    cmd.env("GOOGLE_APPLICATION_CREDENTIALS", key)
        .env("GOOGLE_API_URL", fake.api_url())
        .env_remove("GOOGLE_ADMIN_EMAIL")
        .env("NO_COLOR", "1");
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_writes_a_snapshot_and_check_judges_it_with_the_others() {
    let fake = Fake::start().await;
    fake.mount_acme().await;
    let dir = tempfile::tempdir().unwrap();
    let key = fake.key_file(dir.path());
    let out = dir.path().join("g.json");

    // The sparse user's 2SV state is not in the answer: the snapshot is written, the run exits 2.
    let collected = trustcheck(&fake, &key)
        .args(["collect", "google", "--admin-email", ADMIN, "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "trustcheck: google: collecting as `trustcheck@acme-trustcheck.iam.gserviceaccount.com` impersonating `admin@acme.example`",
        ))
        .stderr(predicate::str::contains("2 facts could not be collected"))
        .get_output()
        .clone();
    assert!(collected.stdout.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(ACCESS_TOKEN) && !text.contains("PRIVATE KEY"));
    let snapshot: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(snapshot["sources"][0]["provider"], "google");
    assert_eq!(snapshot["sources"][0]["scope"], "acme.example");

    // Judged offline together with the demo company's AWS and GitHub facts.
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/snapshot.json");
    let judged = trustcheck(&fake, &key)
        .args([
            "check",
            "--no-config",
            "--format",
            "json",
            "--snapshot",
            demo,
            "--snapshot",
        ])
        .arg(&out)
        .assert()
        // Failures, and no error: the sparse user's unknown 2SV state is not read by any rule
        // that applies to a suspended user.
        .code(1)
        .get_output()
        .clone();
    let findings: serde_json::Value = serde_json::from_slice(&judged.stdout).unwrap();
    let status = |rule: &str, id: &str| {
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["resource"]["id"] == id)
            .map(|f| f["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no finding of {rule} on {id}"))
    };
    assert_eq!(status("google-admin-2sv", "ada@acme.example"), "pass");
    assert_eq!(
        status("google-user-2sv-enrolled", "new@acme.example"),
        "fail"
    );
    assert_eq!(
        status("google-suspended-user-no-admin", "sparse@acme.example"),
        "fail"
    );
    assert_eq!(
        status("google-super-admins-limited", "acme.example"),
        "pass"
    );
    for provider in ["aws-", "github-", "google-"] {
        assert!(
            findings["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"].as_str().unwrap().starts_with(provider)),
            "no {provider} finding: the snapshots were not judged together"
        );
    }

    // Collected and judged in one go, with a parameter from trustcheck.toml, keeping the
    // evidence: the finding names the value that judged it; the snapshot holds facts only.
    let saved = dir.path().join("evidence.json");
    let config = dir.path().join("trustcheck.toml");
    std::fs::write(&config, "[params]\ngoogleMaxSuperAdmins = 0\n").unwrap();
    trustcheck(&fake, &key)
        .args(["--quiet", "check", "--format", "json", "--config"])
        .arg(&config)
        .args(["--collect", "google", "--admin-email", ADMIN])
        .arg("--save-snapshot")
        .arg(&saved)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("params.googleMaxSuperAdmins = 0"))
        .stdout(predicate::str::contains(ACCESS_TOKEN).not())
        .stderr(predicate::str::contains("collecting").not());
    let evidence: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let customer = evidence["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["uid"]["type"] == "Google::Customer")
        .unwrap();
    assert_eq!(customer["attrs"]["superAdminCount"], 1);
    assert!(customer["attrs"].get("maxSuperAdmins").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_admin_or_key_is_a_clear_usage_error() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = fake.key_file(dir.path());
    trustcheck(&fake, &key)
        .args(["collect", "google", "--out", "never.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no Google Workspace administrator to impersonate",
        ))
        .stderr(predicate::str::contains("--admin-email"));
    trustcheck(&fake, &key)
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .args([
            "collect",
            "google",
            "--admin-email",
            ADMIN,
            "--out",
            "never.json",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no Google service account key"));
    assert!(!std::path::Path::new("never.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_stops_the_run_and_writes_nothing() {
    let fake = Fake::start().await;
    fake.fail_token(
        401,
        crate::google_fake::fixture("token_unauthorized_client.json"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = fake.key_file(dir.path());
    let out = dir.path().join("g.json");
    trustcheck(&fake, &key)
        .args(["collect", "google", "--admin-email", ADMIN, "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Google refused a token"))
        .stderr(predicate::str::contains("Domain-wide delegation"))
        .stderr(predicate::str::contains("BEGIN PRIVATE KEY").not());
    assert!(!out.exists());
}
