//! `trustcheck explain`: a rule, its findings on a snapshot, and one resource's facts.

use super::{demo, root, run, tc};

#[test]
fn a_rule_and_one_resource_are_explained_with_the_facts_read() {
    let (code, stdout, stderr) = run(tc(&root()).args([
        "explain",
        "github-branch-required-reviews",
        "--no-config",
        "--snapshot",
        "examples/demo/snapshot.json",
        "--resource",
        r#"Github::Branch::"northwind-labs/infra:main""#,
    ]));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_resource_can_be_named_by_its_id_alone() {
    let (code, stdout, stderr) = run(tc(&root())
        .args([
            "explain",
            "github-branch-required-reviews",
            "--no-config",
            "--snapshot",
        ])
        .arg(demo())
        .args(["--resource", "northwind-labs/infra:main"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("  status   fail\n"), "{stdout}");
    assert!(
        stdout.contains("    requiredApprovingReviews = 0\n"),
        "{stdout}"
    );
}

#[test]
fn unknown_rules_and_resources_get_suggestions() {
    let (code, _, stderr) = run(tc(&root()).args(["explain", "aws-root-mf", "--no-config"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("did you mean `aws-root-mfa`?"), "{stderr}");
    let (code, _, stderr) = run(tc(&root())
        .args([
            "explain",
            "github-branch-required-reviews",
            "--no-config",
            "--snapshot",
        ])
        .arg(demo())
        .args(["--resource", "northwind-labs/infra:mian"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(r#"did you mean `Github::Branch::"northwind-labs/infra:main"`?"#),
        "{stderr}"
    );
}
