//! `trustcheck test`: passing suites, a wrong expectation shown as a diff, unusable test files.

use super::{run, tc};

/// A new rule with its generated cases in `dir/controls`.
fn new_rule(dir: &std::path::Path) {
    let (code, out, err) = run(tc(dir).args([
        "new",
        "rule",
        "--provider",
        "github",
        "--id",
        "acme-prod-two-approvals",
    ]));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn the_shipped_rules_pass_their_cases() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(tc(dir.path()).arg("test"));
    assert_eq!(code, 0, "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    assert!(!stdout.contains("warning"), "{stdout}");
}

#[test]
fn a_wrong_expectation_shows_the_case_statuses_and_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    new_rule(dir.path());
    let path = dir
        .path()
        .join("controls/acme-prod-two-approvals.test.json");
    let text = std::fs::read_to_string(&path).unwrap();
    // Claim the branch with one approval passes: the rule says it fails.
    let wrong = text.replacen("\"status\": \"fail\"", "\"status\": \"pass\"", 1);
    assert_ne!(text, wrong);
    std::fs::write(&path, wrong).unwrap();
    let (code, stdout, _) =
        run(tc(dir.path()).args(["test", "--no-builtin", "--policies", "controls"]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 1 failed"));
    insta::assert_snapshot!(stdout);
}

#[test]
fn an_unusable_test_file_is_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    new_rule(dir.path());
    std::fs::write(
        dir.path()
            .join("controls/acme-prod-two-approvals.test.json"),
        "{\"rule\": \"acme-prod-two-approvals\", \"cases\": [{\"name\": 1}]}",
    )
    .unwrap();
    let (code, stdout, _) =
        run(tc(dir.path()).args(["test", "--no-builtin", "--policies", "controls"]));
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("error: not a valid test file"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("0 passed, 1 failed"));
}

#[test]
fn a_rule_without_cases_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    new_rule(dir.path());
    std::fs::remove_file(
        dir.path()
            .join("controls/acme-prod-two-approvals.test.json"),
    )
    .unwrap();
    let (code, stdout, _) =
        run(tc(dir.path()).args(["test", "--no-builtin", "--policies", "controls"]));
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("warning: rule `acme-prod-two-approvals` has no test cases"),
        "{stdout}"
    );
}
