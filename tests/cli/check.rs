//! CLI tests of `trustcheck check`, `validate` and `controls`: the real binary, its exit codes,
//! its reports on the demo data, and every kind of bad input the core must reject cleanly.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/snapshot.json")
}

fn trustcheck() -> Command {
    let mut cmd = Command::cargo_bin("trustcheck").expect("binary is built");
    cmd.env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .env_remove("GITHUB_ACTIONS");
    cmd
}

/// Runs in a temp dir holding `files`, so paths in messages are short and stable.
fn in_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

fn demo_text() -> String {
    fs::read_to_string(demo()).unwrap()
}

/// The fixture rules and snapshot the pinned reports are rendered from (tests/fixtures/reports).
fn fixture_check() -> Command {
    // Relative paths, so the pinned output names files the same way in every checkout.
    let mut cmd = trustcheck();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        "tests/fixtures/reports/rules",
        "--exceptions",
        "tests/fixtures/reports/exceptions.toml",
        "--snapshot",
        "tests/fixtures/reports/snapshot.json",
    ]);
    cmd
}

#[test]
fn demo_report_fails_with_exit_1_and_is_grouped_by_criterion() {
    let out = fixture_check().output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let cc61 = text.find("\nCC6.1").expect("CC6.1 section");
    let cc81 = text.find("\nCC8.1").expect("CC8.1 section");
    assert!(cc61 < cc81, "criteria in catalogue order");
    assert!(text.contains("FAILED:"), "{text}");
    insta::assert_snapshot!("demo_table", text);
}

#[test]
fn demo_json_is_the_pinned_public_contract() {
    let out = fixture_check().args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "trustcheck.findings/v1");
    let first = &doc["findings"][0];
    for key in [
        "rule",
        "title",
        "soc2",
        "severity",
        "resource",
        "status",
        "message",
        "remediation",
        "fingerprint",
    ] {
        assert!(first.get(key).is_some(), "finding lacks `{key}`");
    }
    insta::assert_json_snapshot!("demo_findings", doc);
}

#[test]
fn same_snapshot_gives_byte_identical_findings() {
    let run = || {
        let out = trustcheck()
            .args(["check", "--format", "json", "--snapshot"])
            .arg(demo())
            .output()
            .unwrap();
        // The demo has failures: exit 1 with a whole findings document, not an empty stdout.
        assert_eq!(out.status.code(), Some(1));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(doc["findings"].as_array().is_some_and(|f| f.len() > 100));
        out.stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn fail_on_threshold_decides_exit_0_or_1() {
    // The demo's failures include critical ones, so even --fail-on critical fails.
    trustcheck()
        .args(["check", "--fail-on", "critical", "--snapshot"])
        .arg(demo())
        .assert()
        .code(1);
    // With only the low-severity... use a custom rule set whose only failure is medium.
    let dir = in_dir(&[(
        "rules/acme-org-public-repos.cedar",
        r#"@id("acme-org-public-repos")
@soc2("CC6.6")
@severity("medium")
@title("Members cannot create public repositories")
@remediation("Disable public repository creation for members.")
forbid (principal, action, resource is Github::Org)
unless { resource has membersCanCreatePublicRepositories && !resource.membersCanCreatePublicRepositories };
"#,
    )]);
    let mut snapshot: serde_json::Value = serde_json::from_str(&demo_text()).unwrap();
    for e in snapshot["entities"].as_array_mut().unwrap() {
        if e["uid"]["type"] == "Github::Org" {
            e["attrs"]["membersCanCreatePublicRepositories"] = true.into();
        }
    }
    fs::write(dir.path().join("s.json"), snapshot.to_string()).unwrap();
    let base = |fail_on: &str| {
        let mut c = trustcheck();
        c.current_dir(dir.path()).args([
            "check",
            "--no-builtin",
            "--policies",
            "rules",
            "--snapshot",
            "s.json",
            "--fail-on",
            fail_on,
        ]);
        c
    };
    base("medium").assert().code(1);
    base("high")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "PASSED: no failure at or above `high`",
        ));
}

#[test]
fn an_uncollected_fact_is_an_error_finding_and_exit_2() {
    let mut snapshot: serde_json::Value = serde_json::from_str(&demo_text()).unwrap();
    snapshot["sources"][1]["errors"] = serde_json::json!([{
        "entity": {"type": "Github::Branch", "id": "northwind-labs/payments-api:main"},
        "fact": "*",
        "reason": "GET /repos/northwind-labs/payments-api/branches/main/protection: 403 Resource not accessible by integration"
    }]);
    let dir = in_dir(&[("s.json", &snapshot.to_string())]);
    let out = trustcheck()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "--snapshot", "s.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["id"] == "northwind-labs/payments-api:main")
        .collect();
    assert!(!errors.is_empty());
    for f in errors {
        assert_eq!(f["status"], "error", "{f}");
        assert!(f["message"].as_str().unwrap().contains("403"), "{f}");
    }
}

#[test]
fn a_clean_snapshot_exits_0() {
    let snapshot = r#"{"format": "trustcheck.snapshot/v1", "collected_at": "2026-11-22T03:00:00Z",
      "sources": [], "entities": [
        {"uid": {"type": "Github::Org", "id": "tidy"}, "attrs": {"login": "tidy",
         "twoFactorRequirementEnabled": true, "defaultRepositoryPermission": "read",
         "membersCanInviteOutsideCollaborators": false, "actionsDefaultWorkflowPermissions": "read",
         "actionsCanApprovePullRequests": false, "membersCanDeleteRepositories": false,
         "membersCanChangeRepoVisibility": false, "membersCanForkPrivateRepositories": false,
         "membersCanCreatePublicRepositories": false, "webCommitSignoffRequired": true,
         "secretScanningForNewRepositories": true, "pushProtectionForNewRepositories": true,
         "dependabotSecurityUpdatesForNewRepositories": true, "samlSsoConfigured": true}}]}"#;
    let dir = in_dir(&[("s.json", snapshot)]);
    trustcheck()
        .current_dir(dir.path())
        .args(["check", "--snapshot", "s.json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASSED"));
}

#[test]
fn several_snapshots_are_judged_together() {
    let mut snapshot: serde_json::Value = serde_json::from_str(&demo_text()).unwrap();
    let entities = snapshot["entities"].as_array().unwrap().clone();
    let (aws, github): (Vec<_>, Vec<_>) = entities
        .into_iter()
        .partition(|e| e["uid"]["type"].as_str().unwrap().starts_with("Aws::"));
    snapshot["entities"] = aws.into();
    let a = snapshot.to_string();
    snapshot["entities"] = github.into();
    let b = snapshot.to_string();
    let dir = in_dir(&[("a.json", &a), ("b.json", &b)]);
    let split = trustcheck()
        .current_dir(dir.path())
        .args([
            "check",
            "--format",
            "json",
            "--snapshot",
            "a.json",
            "--snapshot",
            "b.json",
        ])
        .output()
        .unwrap();
    let whole = trustcheck()
        .args(["check", "--format", "json", "--snapshot"])
        .arg(demo())
        .output()
        .unwrap();
    assert_eq!(split.stdout, whole.stdout);
    // The same entity in both files is an error naming both.
    trustcheck()
        .current_dir(dir.path())
        .args(["check", "--snapshot", "a.json", "--snapshot", "a.json"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("duplicate entity")
                .and(predicate::str::contains("also in `a.json`")),
        );
}

#[test]
fn output_file_is_written_whole_and_not_touched_on_error() {
    let dir = in_dir(&[("bad.json", "{ not json")]);
    let out = dir.path().join("findings.json");
    fs::write(&out, "previous good report").unwrap();
    trustcheck()
        .current_dir(dir.path())
        .args([
            "check",
            "--snapshot",
            "bad.json",
            "--output",
            "findings.json",
        ])
        .assert()
        .code(2);
    assert_eq!(fs::read_to_string(&out).unwrap(), "previous good report");
    trustcheck()
        .current_dir(dir.path())
        .args([
            "check",
            "--format",
            "json",
            "--output",
            "findings.json",
            "--snapshot",
        ])
        .arg(demo())
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty());
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["format"], "trustcheck.findings/v1");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temp file left behind: {names:?}");
}

/// Runs `check` on a snapshot text and returns stderr, asserting exit 2.
fn bad_snapshot(text: &str) -> String {
    let dir = in_dir(&[("bad.json", text)]);
    let out = trustcheck()
        .current_dir(dir.path())
        .args(["check", "--snapshot", "bad.json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let err = bad_snapshot("{\n  \"format\": \"trustcheck.snapshot/v1\",\n  \"collected_at\": \"2026-11-22T03:00:00Z\"\n  \"entities\": []\n}\n");
    assert!(err.contains("bad.json:4:3"), "{err}");
    insta::assert_snapshot!("malformed_json", err);
}

#[test]
fn unknown_format_version_is_named() {
    let err = bad_snapshot(
        r#"{"format": "trustcheck.snapshot/v2", "collected_at": "2026-11-22T03:00:00Z"}"#,
    );
    assert!(err.contains("`trustcheck.snapshot/v2`"), "{err}");
    assert!(err.contains("expected `trustcheck.snapshot/v1`"), "{err}");
}

fn with_entity(entity: &str) -> String {
    format!(
        r#"{{"format": "trustcheck.snapshot/v1", "collected_at": "2026-11-22T03:00:00Z",
  "entities": [
    {entity}
  ]}}"#
    )
}

#[test]
fn unknown_entity_type_is_named_with_did_you_mean() {
    let err = bad_snapshot(&with_entity(
        r#"{"uid": {"type": "Aws::IamUsr", "id": "u"}, "attrs": {}}"#,
    ));
    assert!(err.contains("`Aws::IamUsr`"), "{err}");
    assert!(err.contains("did you mean `Aws::IamUser`"), "{err}");
    assert!(err.contains("bad.json:3:"), "{err}");
}

#[test]
fn wrongly_typed_attribute_names_entity_and_attribute() {
    let err = bad_snapshot(&with_entity(
        r#"{"uid": {"type": "Github::Org", "id": "acme"}, "attrs": {"login": "acme", "twoFactorRequirementEnabled": "yes"}}"#,
    ));
    assert!(err.contains("twoFactorRequirementEnabled"), "{err}");
    assert!(err.contains(r#"Github::Org::"acme""#), "{err}");
    assert!(err.contains("expected Bool"), "{err}");
    insta::assert_snapshot!("wrong_attribute_type", err);
}

#[test]
fn duplicate_entity_uids_are_rejected() {
    let org = r#"{"uid": {"type": "Github::Org", "id": "acme"}, "attrs": {"login": "acme"}}"#;
    let err = bad_snapshot(&with_entity(&format!("{org},\n    {org}")));
    assert!(
        err.contains(r#"duplicate entity `Github::Org::"acme"`"#),
        "{err}"
    );
}

/// Runs `validate` on rule files and returns stderr, asserting exit 2.
fn bad_rules(files: &[(&str, &str)]) -> String {
    let dir = in_dir(files);
    let out = trustcheck()
        .current_dir(dir.path())
        .args(["validate", "--no-builtin", "--policies", "rules"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    // `check` refuses the same rules with the same exit code.
    trustcheck()
        .current_dir(dir.path())
        .args(["check", "--no-builtin", "--policies", "rules", "--snapshot"])
        .arg(demo())
        .assert()
        .code(2);
    err
}

const RULE: &str = r#"@id("acme-console-mfa")
@soc2("CC6.1")
@severity("high")
@title("Console users have MFA")
@remediation("Enable MFA.")
forbid (principal, action, resource is Aws::IamUser)
when { resource has consoleAccess && resource.consoleAccess }
unless { resource has mfaActive && resource.mfaActive };
"#;

#[test]
fn valid_custom_rules_validate_and_are_listed_by_controls() {
    let dir = in_dir(&[("rules/acme-console-mfa.cedar", RULE)]);
    trustcheck()
        .current_dir(dir.path())
        .args(["validate", "--policies", "rules"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1 custom"));
    trustcheck()
        .current_dir(dir.path())
        .args(["controls", "--policies", "rules"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "acme-console-mfa (Aws::IamUser) [custom]",
        ));
}

#[test]
fn rule_syntax_error_shows_file_line_column_and_snippet() {
    let err = bad_rules(&[(
        "rules/acme-console-mfa.cedar",
        &RULE.replace("resource.consoleAccess }", "resource.consoleAccess && }"),
    )]);
    assert!(err.contains("rules/acme-console-mfa.cedar:7:"), "{err}");
    insta::assert_snapshot!("rule_syntax_error", err);
}

#[test]
fn rule_schema_violation_keeps_cedars_did_you_mean() {
    let err = bad_rules(&[(
        "rules/acme-console-mfa.cedar",
        &RULE.replace("resource.mfaActive }", "resource.mfaActiv }"),
    )]);
    assert!(err.contains("rules/acme-console-mfa.cedar:8:"), "{err}");
    assert!(err.contains("mfaActive"), "{err}");
    insta::assert_snapshot!("rule_schema_violation", err);
}

#[test]
fn duplicate_rule_ids_name_both_files() {
    let err = bad_rules(&[
        ("rules/a/acme-console-mfa.cedar", RULE),
        ("rules/b/acme-console-mfa.cedar", RULE),
    ]);
    assert!(
        err.contains(
            "duplicate rule id `acme-console-mfa`: also in `rules/a/acme-console-mfa.cedar`"
        ),
        "{err}"
    );
    assert!(err.contains("rules/b/acme-console-mfa.cedar"), "{err}");
}

#[test]
fn missing_annotation_and_unknown_criterion_are_reported() {
    let err = bad_rules(&[(
        "rules/acme-console-mfa.cedar",
        &RULE
            .replace("@title(\"Console users have MFA\")\n", "")
            .replace("CC6.1", "CC6.10"),
    )]);
    assert!(err.contains("rule lacks the `@title` annotation"), "{err}");
    assert!(err.contains("unknown SOC 2 criterion `CC6.10`"), "{err}");
    assert!(err.contains("did you mean `CC6.1`"), "{err}");
    insta::assert_snapshot!("rule_annotation_problems", err);
}

#[test]
fn a_missing_snapshot_file_is_a_clear_error() {
    trustcheck()
        .args(["check", "--snapshot", "/no/such/snapshot.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read snapshot `/no/such/snapshot.json`",
        ));
}

#[test]
fn usage_errors_exit_2() {
    trustcheck().args(["check"]).assert().code(2);
    trustcheck()
        .args(["check", "--fail-on", "urgent", "--snapshot"])
        .arg(demo())
        .assert()
        .code(2);
}

#[test]
fn controls_lists_criteria_with_and_without_rules() {
    let out = trustcheck().arg("controls").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("CC6.1"));
    assert!(text.contains("aws-root-mfa"));
    assert!(text.contains("no automated rule"));
    assert!(text.contains("criteria have automated rules"));
}

#[test]
fn every_command_has_help() {
    for cmd in [
        &["--help"][..],
        &["check", "--help"],
        &["validate", "--help"],
        &["controls", "--help"],
        &["collect", "--help"],
    ] {
        trustcheck()
            .args(cmd)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Usage"));
    }
}

#[test]
fn a_cedar_evaluation_error_is_an_error_finding_never_a_skip() {
    // Valid under strict validation, but the offset overflows at run time for every key.
    let dir = in_dir(&[(
        "rules/acme-key-far-future.cedar",
        r#"@id("acme-key-far-future")
@soc2("CC6.1")
@severity("low")
@title("Keys are not from the far future")
@remediation("None: this rule exists to fail evaluation.")
forbid (principal, action, resource is Aws::AccessKey)
unless { resource.createdAt.offset(duration("9223372036854775807ms")) > context.now };
"#,
    )]);
    let out = trustcheck()
        .current_dir(dir.path())
        .args([
            "check",
            "--no-builtin",
            "--policies",
            "rules",
            "--format",
            "json",
            "--snapshot",
        ])
        .arg(demo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["status"], "error", "{f}");
        assert!(
            f["message"].as_str().unwrap().contains("evaluation error"),
            "{f}"
        );
    }
}
