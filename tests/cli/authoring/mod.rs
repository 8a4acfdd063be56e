//! CLI tests of the rule author's workflow: `new`, `validate`, `test`, `explain`, `schema`, the
//! configuration file and the generated docs. Each runs the real binary in a scratch directory
//! (so no configuration file of this repository is picked up), colour off.

mod config;
mod docs;
mod explain;
mod new;
mod rule_test;
mod validate;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The demo snapshot.
pub fn demo() -> PathBuf {
    root().join("examples/demo/snapshot.json")
}

/// `trustcheck --color never …` run in `dir`, with no trustcheck variable from the environment.
pub fn tc(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("trustcheck").expect("the binary is built for tests");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("TRUSTCHECK_CONFIG")
        .env_remove("TRUSTCHECK_POLICIES")
        .env_remove("TRUSTCHECK_FAIL_ON")
        .arg("--color")
        .arg("never");
    cmd
}

/// Writes `files` (path relative to `dir`, text) under `dir`.
pub fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("files are in a folder"))
            .expect("scratch dir is writable");
        std::fs::write(path, text).expect("scratch dir is writable");
    }
}

/// (exit code, stdout, stderr) of a finished command.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A valid custom rule on IAM users, to be broken by each test.
pub const GOOD_RULE: &str = r#"@id("acme-console-mfa")
@soc2("CC6.1")
@severity("high")
@title("Console users have MFA")
@remediation("Assign an MFA device.")
forbid (principal, action, resource is Aws::IamUser)
when { resource has consoleAccess && resource.consoleAccess }
unless { resource has mfaActive && resource.mfaActive };
"#;
