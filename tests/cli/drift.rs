//! `trustcheck diff` on the demo's previous and current nights, through the real binary.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use serde_json::Value;

const DEMO: &str = "examples/demo/snapshot.json";
const PREVIOUS: &str = "examples/demo/snapshot-previous.json";

fn diff(format: &str) -> String {
    let out = cargo_bin_cmd!("trustcheck")
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["diff", PREVIOUS, DEMO, "--format", format])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn drift_reports_are_pinned() {
    insta::assert_snapshot!("drift_table", diff("table"));
    insta::assert_snapshot!("drift_markdown", diff("markdown"));
    insta::assert_snapshot!("drift_json", diff("json"));
}

#[test]
fn drift_names_entities_attributes_and_status_changes() {
    let text = diff("table");
    assert!(text.contains("~ Github::Branch::\"northwind-labs/infra:main\""));
    assert!(text.contains("requiredApprovingReviews  1 → 0"));
    assert!(text.contains("defaultRepositoryPermission  \"read\" → \"write\""));
    // A large value is a unified diff.
    assert!(text.contains("-  \"minimumLength\": 14,"));
    assert!(text.contains("+  \"minimumLength\": 12,"));
    assert!(text.contains("+ Github::Member::\"northwind-labs/contractor-zed\""));
    assert!(text.contains("- Aws::IamUser::\"arn:aws:iam::210987654321:user/former-contractor\""));

    let json: Value = serde_json::from_str(&diff("json")).unwrap();
    assert_eq!(json["format"], "trustcheck.drift/v1");
    let changes: Vec<(&str, &str, Option<&str>, Option<&str>)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["rule"].as_str().unwrap(),
                c["resource"]["id"].as_str().unwrap(),
                c["old"].as_str(),
                c["new"].as_str(),
            )
        })
        .collect();
    assert!(changes.contains(&(
        "github-branch-required-reviews",
        "northwind-labs/infra:main",
        Some("pass"),
        Some("fail")
    )));
    assert!(changes.contains(&(
        "github-member-2fa",
        "northwind-labs/jkim-dev",
        Some("error"),
        Some("fail")
    )));
    assert!(changes.contains(&(
        "aws-iam-user-console-mfa",
        "arn:aws:iam::210987654321:user/former-contractor",
        Some("fail"),
        None
    )));
}

#[test]
fn a_snapshot_against_itself_has_no_drift() {
    cargo_bin_cmd!("trustcheck")
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["diff", DEMO, DEMO])
        .assert()
        .code(0)
        .stdout(contains(
            "0 entities changed, 0 added, 0 removed; 0 findings changed status",
        ));
}

#[test]
fn diff_of_a_missing_file_exits_2() {
    cargo_bin_cmd!("trustcheck")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["diff", "no-such.json", DEMO])
        .assert()
        .code(2)
        .stderr(contains("no-such.json"));
}

/// The facts are compared on the entities' text; an entity that is not one (here, no uid) is
/// still reported located in its file, exit 2, nothing written. The old side is read and judged
/// first: a broken new side fails before any report.
#[test]
fn diff_of_a_snapshot_with_a_broken_entity_exits_2_located() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO))
        .unwrap();
    let mut doc: Value = serde_json::from_str(&demo).unwrap();
    let entities = doc["entities"].as_array_mut().unwrap();
    entities[3].as_object_mut().unwrap().remove("uid");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let out = dir.path().join("drift.json");
    for (old, new) in [
        (DEMO, broken.to_str().unwrap()),
        (broken.to_str().unwrap(), DEMO),
    ] {
        cargo_bin_cmd!("trustcheck")
            .env("NO_COLOR", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["diff", old, new, "--format", "json", "--output"])
            .arg(&out)
            .assert()
            .code(2)
            .stderr(contains("broken.json"))
            .stderr(contains("missing field `uid`"));
        assert!(!out.exists());
    }
}
