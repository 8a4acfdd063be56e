//! Baselines (`--baseline`, `--fail-on-new`), exit codes and the policy impact preview
//! (`--compare-policies`), through the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use serde_json::Value;

const DEMO: &str = "examples/demo/snapshot.json";
const PREVIOUS: &str = "examples/demo/snapshot-previous.json";

fn trustcheck() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("trustcheck");
    cmd.env("COLUMNS", "110")
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Writes the findings of `snapshot` to `dir/name` and returns the path.
fn findings_file(dir: &Path, snapshot: &str, name: &str) -> PathBuf {
    let path = dir.join(name);
    trustcheck()
        .args(["check", "-q", "--snapshot", snapshot, "--report"])
        .arg(format!("json={}", path.display()))
        .output()
        .unwrap();
    assert!(path.exists());
    path
}

#[test]
fn the_same_findings_as_baseline_pass_the_new_only_gate() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = findings_file(dir.path(), DEMO, "base.json");
    // Without --fail-on-new the unchanged failures still fail the run …
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--baseline"])
        .arg(&baseline)
        .assert()
        .code(1);
    // … with it, nothing is new, so it passes, and says why.
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--fail-on-new", "--baseline"])
        .arg(&baseline)
        .assert()
        .code(0)
        .stdout(contains("PASSED: no new failure at or above `low`"))
        .stdout(contains(
            "Baseline: 0 new failures, 81 unchanged failures, 0 fixed",
        ));
}

#[test]
fn last_nights_findings_mark_new_unchanged_and_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = findings_file(dir.path(), PREVIOUS, "prev.json");
    let out = trustcheck()
        .args([
            "check",
            "--snapshot",
            DEMO,
            "--fail-on-new",
            "--report",
            "json",
            "--baseline",
        ])
        .arg(&baseline)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "new failures fail the gate");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "trustcheck.findings/v1");
    let new: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline"] == "new" && f["status"] == "fail")
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["resource"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        new,
        [
            (
                "github-branch-force-push-blocked",
                "northwind-labs/infra:main"
            ),
            (
                "github-branch-required-reviews",
                "northwind-labs/infra:main"
            ),
            ("github-member-2fa", "northwind-labs/contractor-zed"),
            ("github-member-2fa", "northwind-labs/jkim-dev"),
            ("github-org-default-permission-read", "northwind-labs"),
            // Left on Friday, suspended tonight, still a super admin.
            (
                "google-suspended-user-no-admin",
                "gus.meyer@northwind.example"
            ),
        ]
    );
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["baseline"] == "new" || f["baseline"] == "unchanged"));
    // The deleted user's two failures (no MFA, unused console password) are fixed.
    let fixed = doc["baseline"]["fixed"].as_array().unwrap();
    assert_eq!(fixed.len(), 2);
    for f in fixed {
        assert_eq!(
            f["resource"]["id"],
            "arn:aws:iam::210987654321:user/former-contractor"
        );
    }
    // Every status that changed is new, not only new failures: the suspended admin's other
    // rules went from pass to not_applicable, and the SMS-2FA rule is not applicable to the two
    // members without 2FA.
    let all_new = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline"] == "new")
        .count();
    assert_eq!(all_new, new.len() + 6);
    assert_eq!(doc["baseline"]["new"].as_u64(), Some(all_new as u64));
}

#[test]
fn fail_on_is_independent_of_new() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = findings_file(dir.path(), PREVIOUS, "prev.json");
    // The new failures are high and medium: `--fail-on critical` lets them through.
    trustcheck()
        .args([
            "check",
            "--snapshot",
            DEMO,
            "--fail-on-new",
            "--fail-on",
            "critical",
            "--baseline",
        ])
        .arg(&baseline)
        .assert()
        .code(0);
    trustcheck()
        .args([
            "check",
            "--snapshot",
            DEMO,
            "--fail-on-new",
            "--fail-on",
            "high",
            "--baseline",
        ])
        .arg(&baseline)
        .assert()
        .code(1);
}

#[test]
fn errors_exit_2_even_in_adoption_mode() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = findings_file(dir.path(), PREVIOUS, "prev.json");
    // The previous night could not read one member's 2FA state: unknown is never pass.
    trustcheck()
        .args([
            "check",
            "--snapshot",
            PREVIOUS,
            "--fail-on-new",
            "--baseline",
        ])
        .arg(&baseline)
        .assert()
        .code(2)
        .stdout(contains("INCOMPLETE"));
}

#[test]
fn a_bad_baseline_is_an_error_not_an_empty_baseline() {
    let dir = tempfile::tempdir().unwrap();
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--baseline"])
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("cannot read baseline"));
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--baseline", DEMO])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("has format `trustcheck.snapshot/v1`"))
        .stderr(contains("trustcheck diff OLD"));
    let garbage = dir.path().join("garbage.json");
    std::fs::write(
        &garbage,
        "{\"format\": \"trustcheck.findings/v1\",\n \"findings\": [1,",
    )
    .unwrap();
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--baseline"])
        .arg(&garbage)
        .assert()
        .code(2)
        .stderr(contains("is not a valid findings document"));
    // A fingerprint is 32 hex digits: anything else is located, not matched against nothing.
    let written = dir.path().join("written.json");
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--format", "json", "--output"])
        .arg(&written)
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&written).unwrap();
    let first = text.find("\"fingerprint\": \"").unwrap() + "\"fingerprint\": \"".len();
    let bad = dir.path().join("bad-fingerprint.json");
    std::fs::write(&bad, format!("{}XYZ{}", &text[..first], &text[first + 3..])).unwrap();
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--baseline"])
        .arg(&bad)
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("32 hex digits, not `XYZ"))
        .stderr(contains("bad-fingerprint.json:"));
    // --fail-on-new without a baseline is a usage error.
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--fail-on-new"])
        .assert()
        .code(2);
}

#[test]
fn a_failed_report_write_leaves_no_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no/such/dir/r.sarif");
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--report"])
        .arg(format!("sarif={}", target.display()))
        .assert()
        .code(2)
        .stderr(contains("cannot write"));
    assert!(!target.exists());
}

/// Copies the shipped GitHub rules into `dir`, editing one rule's text with `edit`.
fn github_rules(dir: &Path, edit: impl Fn(&str, String) -> String) {
    std::fs::create_dir_all(dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/github");
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "cedar") {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(dir.join(&name), edit(&name, text)).unwrap();
        }
    }
}

#[test]
fn compare_policies_previews_the_impact_of_a_rule_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    let new = dir.path().join("new");
    github_rules(&old, |_, t| t);
    // The change under review: two approvals instead of one.
    github_rules(&new, |name, t| {
        if name == "github-branch-required-reviews.cedar" {
            assert!(t.contains(">= 1"), "the shipped rule changed: {t}");
            t.replace(">= 1", ">= 2")
        } else {
            t
        }
    });
    let out = trustcheck()
        .args([
            "check",
            "--snapshot",
            DEMO,
            "--no-builtin",
            "--report",
            "json",
            "--policies",
        ])
        .arg(&new)
        .arg("--compare-policies")
        .arg(&old)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let impact: Vec<(&str, &str, &str)> = doc["policy_impact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["resource"]["id"].as_str().unwrap(),
                c["old"].as_str().unwrap(),
                c["new"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        impact,
        [
            ("northwind-labs/web-app:main", "pass", "fail"),
            ("northwind-oss/sdk:main", "pass", "fail")
        ]
    );
    // The same comparison with identical rules changes nothing.
    trustcheck()
        .args(["check", "--snapshot", DEMO, "--no-builtin", "--policies"])
        .arg(&old)
        .arg("--compare-policies")
        .arg(&old)
        .assert()
        .stdout(contains("Policy impact: 0 findings change status"));
}
