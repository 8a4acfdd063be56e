//! `trustcheck validate`: every diagnostic a rule author can meet, rendered.

use super::{run, tc, write, GOOD_RULE};

/// Validates one custom rule file (besides the shipped rules) and returns the rendered stderr.
fn validate(files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let (code, stdout, stderr) = run(tc(dir.path()).args(["validate", "--policies", "rules"]));
    assert_eq!(code, 2, "{stdout}{stderr}");
    stderr
}

#[test]
fn a_valid_custom_rule_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("rules/acme-console-mfa.cedar", GOOD_RULE)]);
    let (code, stdout, _) = run(tc(dir.path()).args(["validate", "--policies", "rules"]));
    assert_eq!(code, 0);
    assert!(stdout.contains(" built-in, 1 custom)"), "{stdout}");
}

#[test]
fn a_misspelt_attribute_gets_cedars_did_you_mean() {
    let text = GOOD_RULE.replace("resource.mfaActive", "resource.mfaActiv");
    insta::assert_snapshot!(validate(&[("rules/acme-console-mfa.cedar", &text)]));
}

#[test]
fn a_misspelt_type_gets_cedars_did_you_mean() {
    let text = GOOD_RULE.replace("is Aws::IamUser", "is Aws::IamUsr");
    insta::assert_snapshot!(validate(&[("rules/acme-console-mfa.cedar", &text)]));
}

#[test]
fn annotation_problems_are_all_reported_with_the_nearest_criterion() {
    let text = GOOD_RULE.replace("CC6.1", "CC6.9").replace(
        "@remediation(\"Assign an MFA device.\")\n",
        "@owner(\"it\")\n",
    );
    insta::assert_snapshot!(validate(&[("rules/acme-console-mfa.cedar", &text)]));
}

#[test]
fn a_duplicate_id_names_both_files() {
    insta::assert_snapshot!(validate(&[
        ("rules/a/acme-console-mfa.cedar", GOOD_RULE),
        ("rules/b/acme-console-mfa.cedar", GOOD_RULE),
    ]));
}

#[test]
fn a_rule_that_applies_to_nothing_is_an_error() {
    let text = GOOD_RULE.replace(
        "when { resource has consoleAccess && resource.consoleAccess }",
        "when { false }",
    );
    insta::assert_snapshot!(validate(&[("rules/acme-console-mfa.cedar", &text)]));
}

#[test]
fn a_syntax_error_and_a_wrong_file_name_are_located() {
    insta::assert_snapshot!(validate(&[
        ("rules/acme-other-name.cedar", GOOD_RULE),
        (
            "rules/acme-broken.cedar",
            &GOOD_RULE
                .replace("acme-console-mfa", "acme-broken")
                .replace(" };\n", "\n"),
        ),
    ]));
}

#[test]
fn json_format_gives_located_records_for_editors() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD_RULE
        .replace("CC6.1", "CC6.9")
        .replace("resource.mfaActive", "resource.mfaActiv");
    write(dir.path(), &[("rules/acme-console-mfa.cedar", &text)]);
    let (code, stdout, stderr) =
        run(tc(dir.path()).args(["validate", "--policies", "rules", "--format", "json"]));
    assert_eq!(code, 2);
    assert_eq!(stderr, "");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    insta::assert_json_snapshot!(doc);

    write(dir.path(), &[("rules/acme-console-mfa.cedar", GOOD_RULE)]);
    let (code, stdout, _) =
        run(tc(dir.path()).args(["validate", "--policies", "rules", "--format", "json"]));
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["rules"]["custom"], 1);
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
}
