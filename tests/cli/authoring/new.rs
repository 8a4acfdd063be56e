//! `trustcheck new rule`: skeletons that validate and pass as written; no overwriting.

use super::{run, tc};

#[test]
fn a_new_rule_validates_and_its_cases_pass_for_each_provider() {
    for (provider, id) in [
        ("github", "acme-prod-two-approvals"),
        ("aws", "acme-console-no-keys"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) =
            run(tc(dir.path()).args(["new", "rule", "--provider", provider, "--id", id]));
        assert_eq!(code, 0, "{stdout}{stderr}");
        insta::assert_snapshot!(format!("new_{provider}_stdout"), stdout);
        let rule =
            std::fs::read_to_string(dir.path().join(format!("controls/{id}.cedar"))).unwrap();
        insta::assert_snapshot!(format!("new_{provider}_rule"), rule);

        let (code, stdout, stderr) =
            run(tc(dir.path()).args(["validate", "--policies", "controls"]));
        assert_eq!(code, 0, "{stdout}{stderr}");
        let (code, stdout, _) =
            run(tc(dir.path()).args(["test", "--no-builtin", "--policies", "controls"]));
        assert_eq!(code, 0, "{stdout}");
        assert!(stdout.ends_with(" passed, 0 failed\n"), "{stdout}");
        assert!(!stdout.contains("warning"), "{stdout}");
    }
}

#[test]
fn another_resource_type_gets_a_working_skeleton() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "new",
        "rule",
        "--provider",
        "github",
        "--id",
        "acme-org",
        "--resource",
        "Org",
        "--dir",
        "my rules",
    ];
    let (code, stdout, stderr) = run(tc(dir.path()).args(args));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("trustcheck test --policies 'my rules'"),
        "{stdout}"
    );
    let (code, stdout, _) =
        run(tc(dir.path()).args(["test", "--no-builtin", "--policies", "my rules"]));
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn existing_files_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("controls")).unwrap();
    std::fs::write(dir.path().join("controls/acme-x.test.json"), "mine").unwrap();
    let (code, _, stderr) =
        run(tc(dir.path()).args(["new", "rule", "--provider", "aws", "--id", "acme-x"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("controls/acme-x.test.json")).unwrap(),
        "mine"
    );
    assert!(!dir.path().join("controls/acme-x.cedar").exists());
}

#[test]
fn bad_ids_and_types_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["--id", "Acme_Rule"],
            "rule id `Acme_Rule` may use only lowercase letters",
        ),
        (
            vec!["--id=-acme"],
            "rule id `-acme` must start with a letter",
        ),
        (
            vec!["--id", "aws-root-mfa"],
            "rule id `aws-root-mfa` is taken by a shipped rule",
        ),
        (
            vec!["--id", "acme-x", "--resource", "IamUsr"],
            "did you mean `Aws::IamUser`?",
        ),
        (
            vec!["--id", "acme-x", "--soc2", "CC6.9"],
            "did you mean `CC6.1`?",
        ),
    ] {
        let (code, _, stderr) = run(tc(dir.path())
            .args(["new", "rule", "--provider", "aws"])
            .args(&args));
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(
        !dir.path().join("controls").exists()
            || std::fs::read_dir(dir.path().join("controls"))
                .unwrap()
                .next()
                .is_none()
    );
}
