//! trustcheck's command-line tests: the real binary (and, where a provider is involved, its real
//! client against moto or a fake GitHub), one test binary sharing one build and one set-up.

// Tests assert: a value that is not there is a failed test, not input to handle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

#[path = "../../providers/github/tests/fake/mod.rs"]
mod github_fake;
#[path = "../../providers/google/tests/fake/mod.rs"]
mod google_fake;
#[path = "../../providers/aws/tests/support/moto.rs"]
mod moto;
#[path = "../../providers/okta/tests/fake/mod.rs"]
mod okta_fake;
#[path = "../../providers/aws/tests/support/proxy.rs"]
mod proxy;

mod action;
mod authoring;
mod aws;
mod baseline;
mod byo_facts;
mod check;
mod collect_config;
mod drift;
mod engine_agreement;
mod evidence;
mod exceptions;
mod github;
mod github_judged;
mod google;
mod hostile;
mod ocsf;
mod okta;
mod reports;
mod rule_catalogue;

/// The binary with colour off, a fixed width, and none of the environment that would pick up
/// this repository's own settings or a CI runner's annotations.
fn trustcheck() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("trustcheck").unwrap();
    cmd.env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("TRUSTCHECK_POLICIES")
        .env_remove("TRUSTCHECK_CONFIG")
        .env_remove("TRUSTCHECK_EXCEPTIONS");
    cmd
}
