//! `trustcheck collect okta` and `check --collect okta` as a user runs them, against a fake Okta
//! org (wiremock) on 127.0.0.1 named by `OKTA_ORG_URL`.

use assert_cmd::Command;
use predicates::prelude::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::okta_fake::{Fake, TOKEN};

fn trustcheck(fake: &Fake) -> Command {
    let mut cmd = Command::cargo_bin("trustcheck").unwrap();
    cmd.env("OKTA_API_TOKEN", TOKEN)
        .env("OKTA_ORG_URL", fake.org_url())
        .env_remove("OKTA_CLIENT_ID")
        .env("NO_COLOR", "1");
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_writes_a_snapshot_and_check_judges_it_with_the_others() {
    let fake = Fake::start().await;
    fake.mount_acme().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.json");

    let collected = trustcheck(&fake)
        .args(["collect", "okta", "--org-url", &fake.org_url(), "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "trustcheck: okta: collecting `{}`",
            fake.host()
        )))
        .stderr(predicate::str::contains(TOKEN).not())
        .get_output()
        .clone();
    assert!(collected.stdout.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(TOKEN));
    let snapshot: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(snapshot["sources"][0]["provider"], "okta");

    // Judged offline together with the demo company (AWS, GitHub, Google Workspace).
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/snapshot.json");
    let judged = trustcheck(&fake)
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
        .code(1)
        .get_output()
        .clone();
    let findings: serde_json::Value = serde_json::from_slice(&judged.stdout).unwrap();
    let all = findings["findings"].as_array().unwrap();
    let status = |rule: &str, login: &str| {
        let id = format!("{}/{login}", fake.host());
        all.iter()
            .find(|f| f["rule"] == rule && f["resource"]["id"] == id.as_str())
            .map(|f| f["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no finding of {rule} on {id}"))
    };
    assert_eq!(
        status("okta-admin-phishing-resistant", "ada@acme.example"),
        "pass"
    );
    assert_eq!(status("okta-user-mfa-enrolled", "sam@acme.example"), "pass");
    // Never signed in, created weeks ago: judged by creation, not yet stale.
    assert_eq!(status("okta-user-stale", "sam@acme.example"), "pass");
    assert_eq!(
        status("okta-inactive-user-no-admin", "gus@acme.example"),
        "fail"
    );
    // Policies: the default rule requires MFA, the contractors' office rule does not; the
    // Classic enrollment policy requires only a security question.
    assert_eq!(
        status("okta-sign-on-requires-mfa", "00p0default/0pr0default"),
        "pass"
    );
    assert_eq!(
        status("okta-sign-on-requires-mfa", "00p1contractors/0pr1office"),
        "fail"
    );
    assert_eq!(status("okta-enrollment-requires-mfa", "00p3enroll"), "pass");
    assert_eq!(
        status("okta-enrollment-requires-mfa", "00p4classic"),
        "fail"
    );
    for provider in ["aws-", "github-", "okta-"] {
        assert!(
            all.iter()
                .any(|f| f["rule"].as_str().unwrap().starts_with(provider)),
            "no {provider} finding: the snapshots were not judged together"
        );
    }

    // Collected and judged in one go, keeping the evidence.
    let saved = dir.path().join("evidence.json");
    trustcheck(&fake)
        .args([
            "--quiet",
            "check",
            "--no-config",
            "--collect",
            "okta",
            "--save-snapshot",
        ])
        .arg(&saved)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("okta-inactive-user-no-admin"))
        .stdout(predicate::str::contains(TOKEN).not())
        .stderr(predicate::str::contains("collecting").not());
    assert!(saved.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_token_or_org_is_a_clear_usage_error() {
    let fake = Fake::start().await;
    trustcheck(&fake)
        .env_remove("OKTA_API_TOKEN")
        .args(["collect", "okta", "--out", "never.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no Okta API token: `OKTA_API_TOKEN` is not set",
        ));
    trustcheck(&fake)
        .env_remove("OKTA_ORG_URL")
        .args(["collect", "okta", "--out", "never.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no Okta org to collect"));
    trustcheck(&fake)
        .args([
            "collect",
            "okta",
            "--org-url",
            "acme.okta.com/admin",
            "--out",
            "never.json",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not an Okta org URL"));
    // A service app without its key; then one whose key is refused, which never prints the key.
    trustcheck(&fake)
        .env_remove("OKTA_PRIVATE_KEY_FILE")
        .args([
            "collect",
            "okta",
            "--okta-client-id",
            "0oa1app",
            "--out",
            "never.json",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the Okta service app `0oa1app` has no private key",
        ))
        .stderr(predicate::str::contains("OKTA_PRIVATE_KEY_FILE"));
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/providers/google/fixtures/test-key.pem"
    );
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_scope",
            "error_description": "The following scopes are not allowed: okta.policies.read"
        })))
        .mount(&fake.server)
        .await;
    trustcheck(&fake)
        .env("OKTA_CLIENT_ID", "0oa1app")
        .env("OKTA_PRIVATE_KEY_FILE", key)
        .args(["collect", "okta", "--out", "never.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "Okta refused a token for the service app `0oa1app` (400 invalid_scope",
        ))
        .stderr(predicate::str::contains("PRIVATE KEY").not());
    assert!(!std::path::Path::new("never.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn check_collects_google_and_okta_and_judges_them_with_aws_and_github_snapshots() {
    let okta = Fake::start().await;
    okta.mount_acme().await;
    let google = crate::google_fake::Fake::start().await;
    google.mount_acme().await;
    let dir = tempfile::tempdir().unwrap();
    let key = google.key_file(dir.path());
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/snapshot.json");
    let saved = dir.path().join("evidence.json");
    let judged = trustcheck(&okta)
        .env("GOOGLE_APPLICATION_CREDENTIALS", &key)
        .env("GOOGLE_API_URL", google.api_url())
        .args(["--quiet", "check", "--no-config", "--format", "json"])
        .args([
            "--collect",
            "google,okta",
            "--admin-email",
            crate::google_fake::ADMIN,
        ])
        .args(["--snapshot", demo, "--save-snapshot"])
        .arg(&saved)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let findings: serde_json::Value = serde_json::from_slice(&judged.stdout).unwrap();
    let all = findings["findings"].as_array().unwrap();
    for provider in ["aws-", "github-", "google-", "okta-"] {
        assert!(
            all.iter()
                .any(|f| f["rule"].as_str().unwrap().starts_with(provider)),
            "no {provider} finding"
        );
    }
    // Both collections are kept, one file each.
    assert!(dir.path().join("google-evidence.json").exists());
    assert!(dir.path().join("okta-evidence.json").exists());
}
