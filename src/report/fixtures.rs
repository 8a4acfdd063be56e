//! Test data shared by the renderers' unit tests: one finding, one risk acceptance, the built-in
//! rules, and a report around them, so that each test spells out only what it is about.
//!
//! Compiled for tests only. It must never hold an assertion or an expected output: what a format
//! must say stays in that format's own tests, beside the code. A test that reads a value below
//! may rely on it; one that needs another value sets the field on what these return.

use std::sync::Arc;

use super::{Context, Report};
use crate::findings::{fingerprint, Acceptance, Finding, Status, Uid};
use crate::gate::{Gate, Verdict};
use crate::rules::{builtin_sources, RuleSet};
use crate::schema::SchemaSet;
use crate::severity::Severity;

/// The rule of every finding here: a built-in one, so renderers that look a rule up find it.
const RULE: &str = "aws-iam-user-console-mfa";

/// A risk acceptance of the break-glass user (reason `Break-glass user, key in the safe`, owner
/// `security@northwind.example`, approved by `cto@northwind.example`, ticket `SEC-12`, declared
/// at `trustcheck-exceptions.toml:1`) that ends on `expires`, `days_left` days after the
/// snapshot's date; a negative `days_left` means it has expired.
pub fn acceptance(expires: &str, days_left: i64) -> Acceptance {
    Acceptance {
        reason: "Break-glass user, key in the safe".into(),
        owner: "security@northwind.example".into(),
        approved_by: "cto@northwind.example".into(),
        expires: expires.into(),
        ticket: Some("SEC-12".into()),
        expired: days_left < 0,
        days_left,
        declared_at: "trustcheck-exceptions.toml:1".into(),
    }
}

/// A finding of `aws-iam-user-console-mfa` (high, SOC 2 CC6.1, with its real title and
/// remediation) on the IAM user `arn:aws:iam::210987654321:user/{name}`, with message
/// `consoleAccess = true, mfaActive = false`, covered by `acceptance` when one is given.
pub fn finding(name: &str, status: Status, acceptance: Option<Acceptance>) -> Finding {
    let resource = Uid::new(
        "Aws::IamUser",
        format!("arn:aws:iam::210987654321:user/{name}"),
    );
    Finding {
        rule: RULE.into(),
        title: "IAM users with console access use MFA".into(),
        soc2: vec!["CC6.1".to_string()].into(),
        severity: Severity::High,
        fingerprint: fingerprint(RULE, &resource),
        acceptance: acceptance.map(Arc::new),
        resource: resource.into(),
        status,
        message: "consoleAccess = true, mfaActive = false".into(),
        remediation: "Assign an MFA device.".into(),
    }
}

/// The built-in rules, checked against the built-in schema, as `check` loads them.
pub fn rules() -> RuleSet {
    RuleSet::load(builtin_sources(), &SchemaSet::builtin().unwrap()).unwrap()
}

/// Calls `f` with a report of `findings` under the built-in [`rules`], without snapshots, gated
/// at `low`, in `context`. The verdict is given, not computed: renderers take it as it comes.
pub fn with_report<T>(
    findings: &[Finding],
    verdict: Verdict,
    context: Context<'_>,
    f: impl FnOnce(&Report<'_>) -> T,
) -> T {
    let rules = rules();
    f(&Report {
        findings,
        rules: &rules,
        snapshots: &[],
        gate: Gate::new(Severity::Low),
        verdict,
        context,
    })
}
