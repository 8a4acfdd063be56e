//! Risk acceptances (docs/exceptions.md) through the real binary: the demo's file, every bad-file
//! case (located, exit 2, no report written), stale acceptances, errors that can never be
//! accepted, `trustcheck accept`, and determinism (time from the snapshot, never the clock).

use std::fs;
use std::path::{Path, PathBuf};

use crate::trustcheck;
use serde_json::Value;

fn demo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/demo")
        .join(file)
}

/// A scratch repository holding the demo snapshot and `exceptions` as its exceptions file.
fn repo(exceptions: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::copy(demo("snapshot.json"), dir.path().join("snapshot.json")).unwrap();
    fs::write(dir.path().join("trustcheck-exceptions.toml"), exceptions).unwrap();
    dir
}

fn findings(stdout: &[u8]) -> Value {
    serde_json::from_slice(stdout).unwrap()
}

fn finding<'a>(doc: &'a Value, rule: &str, id_end: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule && f["resource"]["id"].as_str().unwrap().ends_with(id_end))
        .unwrap_or_else(|| panic!("no finding of {rule} on …{id_end}"))
}

const MFA: &str = "aws-iam-user-console-mfa";
const ADMIN: &str = "user/legacy-admin";

fn entry(rule: &str, resource: &str, expires: &str) -> String {
    format!(
        "[[accept]]\nrule = \"{rule}\"\nresource = '{resource}'\nreason = \"r\"\nowner = \"o\"\napproved_by = \"a\"\nexpires = {expires}\n"
    )
}

#[test]
fn the_demo_accepts_one_failure_and_its_expired_acceptance_fails() {
    let out = trustcheck()
        .args(["check", "--no-config", "--format", "json", "--snapshot"])
        .arg(demo("snapshot.json"))
        .arg("--exceptions")
        .arg(demo("trustcheck-exceptions.toml"))
        .output()
        .unwrap();
    // Other failures remain.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = findings(&out.stdout);
    assert_eq!(doc["summary"]["accepted"], 1);
    let accepted = finding(&doc, MFA, ADMIN);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(
        accepted["acceptance"]["approved_by"],
        "cto@northwind.example"
    );
    assert_eq!(accepted["acceptance"]["expires"], "2027-02-28");
    assert_eq!(accepted["acceptance"]["expired"], false);
    assert_eq!(accepted["acceptance"]["days_left"], 98);
    let expired = finding(
        &doc,
        "aws-access-key-rotated-90d",
        "reporting-bot/access-key/2",
    );
    assert_eq!(expired["status"], "fail");
    assert!(
        expired["message"]
            .as_str()
            .unwrap()
            .contains("its acceptance expired on 2026-10-31"),
        "{expired}"
    );
    assert_eq!(expired["acceptance"]["expired"], true);
}

#[test]
fn accepted_failures_do_not_fail_the_run() {
    // The failures at or above `critical`, accepted: the run passes at that threshold.
    let critical = entry(
        "aws-role-no-public-trust",
        r#"Aws::IamRole::"arn:aws:iam::210987654321:role/partner-data-export""#,
        "2027-01-31",
    );
    let admin_2sv = entry(
        "google-admin-2sv",
        r#"Google::User::"ben.okafor@northwind.example""#,
        "2027-01-31",
    );
    let root_mfa = entry("aws-root-mfa", r#"Aws::Account::"*""#, "2027-01-31");
    let root_keys = entry(
        "aws-root-no-access-keys",
        r#"Aws::Account::"*""#,
        "2027-01-31",
    );
    let dir = repo(&format!("{critical}\n{admin_2sv}\n{root_mfa}\n{root_keys}"));
    let out = trustcheck()
        .current_dir(dir.path())
        .args([
            "check",
            "--snapshot",
            "snapshot.json",
            "--fail-on",
            "critical",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc = findings(&out.stdout);
    let left: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" && f["severity"] == "critical")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_bad_file_is_located_exits_2_and_writes_no_report() {
    let cases: &[(&str, &str)] = &[
        (
            "[[accept]]\nrule = \"aws-iam-user-console-mfa\"\nresource = 'Aws::IamUser::\"x\"'\nreason = \"r\"\nowner = \"o\"\napproved_by = \"a\"\n",
            "acceptance has no `expires`",
        ),
        (&entry(MFA, r#"Aws::IamUser::"x""#, "\"next spring\""), "`expires` is not a date"),
        (&entry(MFA, r#"Aws::IamUser::"x""#, "2030-01-01"), "more than the 365 allowed"),
        (&entry("aws-iam-user-console-mfaa", r#"Aws::IamUser::"x""#, "2027-01-01"), "did you mean `aws-iam-user-console-mfa`?"),
        (&entry(MFA, "legacy-admin", "2027-01-01"), "is not a resource as findings show it"),
        (
            &entry(MFA, r#"Aws::IamUser::"x""#, "2027-01-01").replace("reason = \"r\"", "reason = \"  \""),
            "`reason` is empty",
        ),
        (
            &entry(MFA, r#"Aws::IamUser::"x""#, "2027-01-01").replace("owner = \"o\"", "owner = \"\""),
            "`owner` is empty",
        ),
        ("[[accept]]\nrule = \"x\"\nexpries = 2027-01-01\n", "unknown field `expries`"),
    ];
    for (text, want) in cases {
        let dir = repo(text);
        let out = trustcheck()
            .current_dir(dir.path())
            .args([
                "check",
                "--snapshot",
                "snapshot.json",
                "--report",
                "json=out.json",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{want}: {err}");
        assert!(err.contains(want), "{want} in {err}");
        assert!(
            err.contains("trustcheck-exceptions.toml:"),
            "located: {err}"
        );
        assert!(
            !dir.path().join("out.json").exists(),
            "{want}: a report was written"
        );
    }
}

#[test]
fn stale_acceptances_warn_and_fail_with_strict_exceptions() {
    let dir = repo(&entry(
        MFA,
        r#"Aws::IamUser::"arn:aws:iam::210987654321:user/nobody""#,
        "2027-01-01",
    ));
    let out = trustcheck()
        .current_dir(dir.path())
        .args(["check", "--snapshot", "snapshot.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("covers no failing finding"), "{err}");
    let out = trustcheck()
        .current_dir(dir.path())
        .args([
            "check",
            "--snapshot",
            "snapshot.json",
            "--strict-exceptions",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("trustcheck-exceptions.toml:1:"));
}

#[test]
fn an_error_is_never_accepted() {
    // A branch whose protection could not be read: every rule on it is an error.
    let branch = "northwind-labs/payments-api:main";
    let dir = repo(&entry(
        "github-branch-*",
        &format!(r#"Github::Branch::"{branch}""#),
        "2027-01-01",
    ));
    let mut snapshot: Value =
        serde_json::from_str(&fs::read_to_string(demo("snapshot.json")).unwrap()).unwrap();
    snapshot["sources"][1]["errors"] = serde_json::json!([{
        "entity": {"type": "Github::Branch", "id": branch},
        "fact": "*",
        "reason": "GET /repos/northwind-labs/payments-api/branches/main/protection: 403"
    }]);
    fs::write(dir.path().join("snapshot.json"), snapshot.to_string()).unwrap();
    let out = trustcheck()
        .current_dir(dir.path())
        .args(["check", "--snapshot", "snapshot.json", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc = findings(&out.stdout);
    let on_branch: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["id"] == branch && f["rule"] != "github-branch-protected")
        .collect();
    assert!(!on_branch.is_empty());
    for f in on_branch {
        assert_eq!(f["status"], "error", "{f}");
        assert!(f.get("acceptance").is_none(), "{f}");
    }
    // An acceptance that covers only errors covers no failing finding: it is stale.
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("covers no failing finding"));
}

#[test]
fn the_same_snapshot_and_file_give_the_same_findings() {
    let run = || {
        trustcheck()
            .args(["check", "--no-config", "--format", "json", "--snapshot"])
            .arg(demo("snapshot.json"))
            .arg("--exceptions")
            .arg(demo("trustcheck-exceptions.toml"))
            .output()
            .unwrap()
            .stdout
    };
    let first = run();
    assert!(!first.is_empty());
    assert_eq!(first, run());
}

#[test]
fn accept_appends_a_checked_entry_that_check_then_applies() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    fs::copy(demo("snapshot.json"), dir.path().join("snapshot.json")).unwrap();
    let expires = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();
    let resource = r#"Aws::IamUser::"arn:aws:iam::210987654321:user/legacy-admin""#;
    let out = trustcheck()
        .current_dir(dir.path().join("sub"))
        .args([
            "accept",
            MFA,
            resource,
            "--reason",
            "break \"glass\"",
            "--owner",
            "sec",
            "--approved-by",
            "cto",
            "--expires",
        ])
        .arg(&expires)
        .args(["--ticket", "https://tracker.example/SEC-1"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Created in the repository root, not in the current directory.
    let file = dir.path().join("trustcheck-exceptions.toml");
    let text = fs::read_to_string(&file).unwrap();
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    let accept = &parsed["accept"].as_array().unwrap()[0];
    assert_eq!(accept["reason"].as_str(), Some("break \"glass\""), "{text}");
    assert_eq!(accept["resource"].as_str(), Some(resource), "{text}");
    assert!(accept["expires"].is_datetime(), "{text}");

    // A bad entry is refused and the file is left as it was.
    let out = trustcheck()
        .current_dir(dir.path())
        .args([
            "accept",
            "no-such-rule",
            resource,
            "--reason",
            "r",
            "--owner",
            "o",
            "--approved-by",
            "a",
            "--expires",
            "2026-13-01",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no loaded rule is `no-such-rule`") && err.contains("`expires` is not a date"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), text);

    // `check` measures the expiry from the snapshot (2026-11-22): an acceptance written today may
    // lie more than a year after the demo night, so check with a generous limit.
    fs::write(
        dir.path().join("trustcheck.toml"),
        "max-exception-days = 3650\n",
    )
    .unwrap();
    let out = trustcheck()
        .current_dir(dir.path())
        .args(["check", "--snapshot", "snapshot.json", "--format", "json"])
        .output()
        .unwrap();
    let doc = findings(&out.stdout);
    assert_eq!(
        finding(&doc, MFA, ADMIN)["status"],
        "accepted",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
