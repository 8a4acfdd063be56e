//! `trustcheck.toml`: discovery, precedence (flag > environment > file) and strict keys.

use serde_json::Value;

use super::{demo, run, tc, write, GOOD_RULE};

/// The findings of a `check --format json` run of the demo.
fn check_json(cmd: &mut assert_cmd::Command, extra: &[&str]) -> Value {
    let (code, stdout, stderr) = run(cmd
        .args(["check", "--format", "json", "--snapshot"])
        .arg(demo())
        .args(extra));
    assert!(code == 0 || code == 1, "{code}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// The exit code of `check` on the demo with one custom rule whose failures are `medium`.
fn check_exit(cmd: &mut assert_cmd::Command, extra: &[&str]) -> i32 {
    let (code, _, stderr) = run(cmd
        .args(["check", "--no-builtin", "--policies", "rules", "--snapshot"])
        .arg(demo())
        .args(extra));
    assert!(code == 0 || code == 1, "{code}: {stderr}");
    code
}

#[test]
fn fail_on_comes_from_the_flag_then_the_environment_then_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (".github/trustcheck.toml", "fail-on = \"high\"\n"),
            (
                "rules/acme-console-mfa.cedar",
                &GOOD_RULE.replace("\"high\"", "\"medium\""),
            ),
        ],
    );
    // The demo has a console user without MFA: a medium failure.
    assert_eq!(
        check_exit(&mut tc(dir.path()), &["--no-config"]),
        1,
        "default: low"
    );
    assert_eq!(check_exit(&mut tc(dir.path()), &[]), 0, "file: high");
    assert_eq!(
        check_exit(tc(dir.path()).env("TRUSTCHECK_FAIL_ON", "medium"), &[]),
        1,
        "environment: medium"
    );
    assert_eq!(
        check_exit(
            tc(dir.path()).env("TRUSTCHECK_FAIL_ON", "medium"),
            &["--fail-on", "critical"]
        ),
        0,
        "flag: critical"
    );
}

/// The custom rules `controls --format json` lists.
fn custom_rules(cmd: &mut assert_cmd::Command, extra: &[&str]) -> Vec<String> {
    let (code, stdout, stderr) = run(cmd.args(["controls", "--format", "json"]).args(extra));
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let mut ids: Vec<String> = doc
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["rules"].as_array().unwrap().clone())
        .filter(|r| r["origin"] == "custom")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.dedup();
    ids
}

#[test]
fn policy_folders_come_from_the_flag_then_the_environment_then_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |id: &str| GOOD_RULE.replace("acme-console-mfa", id);
    write(
        dir.path(),
        &[
            ("trustcheck.toml", "policies = [\"from-file\"]\n"),
            ("from-file/acme-file.cedar", &rule("acme-file")),
            ("from-env/acme-env.cedar", &rule("acme-env")),
            ("from-flag/acme-flag.cedar", &rule("acme-flag")),
        ],
    );
    assert_eq!(custom_rules(&mut tc(dir.path()), &[]), ["acme-file"]);
    assert_eq!(
        custom_rules(tc(dir.path()).env("TRUSTCHECK_POLICIES", "from-env"), &[]),
        ["acme-env"]
    );
    assert_eq!(
        custom_rules(
            tc(dir.path()).env("TRUSTCHECK_POLICIES", "from-env"),
            &["--policies", "from-flag"]
        ),
        ["acme-flag"]
    );
    // A configuration file named elsewhere resolves its folders against its own directory.
    let other = tempfile::tempdir().unwrap();
    let file = dir.path().join("trustcheck.toml");
    let file = file.to_str().unwrap();
    assert_eq!(
        custom_rules(&mut tc(other.path()), &["--config", file]),
        ["acme-file"]
    );
}

#[test]
fn disabled_rules_and_severity_overrides_apply_to_check() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "trustcheck.toml",
            "disable = [\"aws-root-mfa\"]\n\n[severity]\ngithub-branch-required-reviews = \"low\"\n",
        )],
    );
    let doc = check_json(&mut tc(dir.path()), &[]);
    let findings = doc["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["rule"] != "aws-root-mfa"));
    let reviews: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "github-branch-required-reviews")
        .collect();
    assert!(!reviews.is_empty());
    assert!(reviews.iter().all(|f| f["severity"] == "low"));
    let (_, stdout, _) = run(tc(dir.path()).arg("validate"));
    assert!(stdout.contains("1 disabled by configuration"), "{stdout}");
}

#[test]
fn an_unknown_key_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "trustcheck.toml",
            "policies = [\"controls\"]\nfail_on = \"high\"\n",
        )],
    );
    let (code, _, stderr) = run(tc(dir.path()).arg("validate"));
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn an_unknown_rule_id_is_an_error_with_the_nearest() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            ".github/trustcheck.toml",
            "[severity]\naws-root-mfaa = \"low\"\n",
        )],
    );
    let (code, _, stderr) = run(tc(dir.path()).arg("validate"));
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn params_reach_the_rules_and_findings_name_the_value() {
    let statuses = |doc: &Value| -> Vec<(String, String)> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "aws-iam-user-console-unused-90d")
            .map(|f| {
                (
                    f["status"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let defaults = statuses(&check_json(&mut tc(dir.path()), &[]));
    assert!(defaults
        .iter()
        .filter(|(s, _)| s != "not_applicable")
        .all(|(_, m)| m.ends_with("params.awsCredentialUnusedDays = 45 days")));
    write(
        dir.path(),
        &[(
            "trustcheck.toml",
            "[params]\nawsCredentialUnusedDays = 3650\n",
        )],
    );
    let lenient = statuses(&check_json(&mut tc(dir.path()), &[]));
    assert!(lenient.iter().all(|(s, _)| s != "fail"), "{lenient:?}");
    assert!(defaults.iter().any(|(s, _)| s == "fail"));
    assert!(lenient
        .iter()
        .any(|(_, m)| m.ends_with("params.awsCredentialUnusedDays = 3650 days")));

    write(
        dir.path(),
        &[("trustcheck.toml", "[params]\nawsCredentialUnusedDay = 30\n")],
    );
    let (code, _, stderr) = run(tc(dir.path()).args(["check", "--snapshot"]).arg(demo()));
    assert_eq!(code, 2);
    assert!(stderr.contains("trustcheck.toml:2:1"), "{stderr}");
    assert!(
        stderr.contains("did you mean `awsCredentialUnusedDays`?"),
        "{stderr}"
    );
}
