//! `[collect.NAME]` in trustcheck.toml: a provider's options set once for the repository, used
//! by `collect NAME` and `check --collect NAME`, with the command line taking precedence.

use crate::github_fake::Fake;
use assert_cmd::Command;
use predicates::prelude::*;

const TOKEN: &str = "ghp_CLItoken0123456789abcdefghijklmnopqrs";

fn trustcheck(fake: &Fake, dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("trustcheck").unwrap();
    cmd.current_dir(dir)
        .env("TC_GH_TOKEN", TOKEN)
        .env("GITHUB_API_URL", fake.api_url())
        .env_remove("GITHUB_TOKEN")
        .env_remove("TRUSTCHECK_CONFIG")
        .env("NO_COLOR", "1");
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_sets_collect_options_and_the_command_line_wins() {
    let fake = Fake::start("/api/v3").await;
    fake.mount_acme_partial().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(
        dir.path().join("trustcheck.toml"),
        "[collect.github]\norg = \"acme\"\ntoken-env = \"TC_GH_TOKEN\"\nconcurrency = 2\n",
    )
    .unwrap();

    // Everything from the file: no option on the command line but the output.
    trustcheck(&fake, dir.path())
        .args(["collect", "github", "--out", "a.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("collecting `acme`"));
    let snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a.json")).unwrap()).unwrap();
    assert_eq!(snapshot["sources"][0]["scope"], "acme");

    // The command line replaces the file's value (an org the fake does not know: an error
    // naming it proves the flag won).
    trustcheck(&fake, dir.path())
        .args(["collect", "github", "--org", "other", "--out", "b.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("other"));

    // `check --collect` reads the same table; `--no-config` ignores it.
    trustcheck(&fake, dir.path())
        .args([
            "--quiet",
            "check",
            "--collect",
            "github",
            "--format",
            "json",
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("github-branch-protected"));
    trustcheck(&fake, dir.path())
        .args(["collect", "github", "--no-config", "--out", "c.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--org"));
}

#[test]
fn unknown_providers_options_wrong_kinds_and_secrets_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trustcheck.toml"),
        "[collect.gthub]\norg = \"acme\"\n\n[collect.github]\nbrnch = [\"release/*\"]\ntoken-env = [\"a\", \"b\"]\n\n[collect.aws]\nconcurrency = \"many\"\n",
    )
    .unwrap();
    let out = Command::cargo_bin("trustcheck")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("TRUSTCHECK_CONFIG")
        .args(["collect", "aws", "--out", "x.json"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    for expected in [
        "no provider `gthub`",
        "did you mean `github`?",
        "trustcheck.toml:1:10",
        "`collect github` has no option `brnch`",
        "did you mean `branch`?",
        "trustcheck.toml:5:1",
        "`--token-env` takes one value",
        "trustcheck.toml:6:13",
        "3 problems in `trustcheck.toml`",
    ] {
        assert!(stderr.contains(expected), "{expected} in:\n{stderr}");
    }
    assert!(!dir.path().join("x.json").exists());

    // A value the option's own parser refuses is shown where the file holds it.
    std::fs::write(
        dir.path().join("trustcheck.toml"),
        "[collect.aws]\nconcurrency = \"many\"\n",
    )
    .unwrap();
    Command::cargo_bin("trustcheck")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("TRUSTCHECK_CONFIG")
        .args(["collect", "aws", "--out", "x.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("trustcheck.toml:2:15"))
        .stderr(predicate::str::contains("invalid digit"))
        .stderr(predicate::str::contains("--aws-concurrency"));
}
