//! OCSF output: one Compliance Finding event (class 2003, OCSF 1.8.0) per finding, for AWS
//! Security Hub, Prowler and security data lakes. The events validate against the class's JSON
//! Schema with the `cloud` profile (vendored in `tests/data/ocsf/`, checked by `tests/cli/ocsf.rs`).
//!
//! Every finding becomes an event, whatever its status: an auditor samples from a complete
//! population, and consumers filter on `compliance.status_id`. The mapping:
//!
//! | trustcheck       | `compliance.status_id`  | finding `status_id` |
//! |------------------|-------------------------|---------------------|
//! | `pass`           | 1 Pass                  | 1 New               |
//! | `error`          | 2 Warning               | 1 New               |
//! | `fail`           | 3 Fail                  | 1 New               |
//! | `accepted`       | 3 Fail                  | 3 Suppressed        |
//! | `not_applicable` | 99 Other (Not Applicable) | 1 New             |
//!
//! OCSF defines Warning as "the compliance check did not yield a result due to missing
//! information", which is exactly an `error` (never a pass). An accepted failure is still a
//! failure of the control; what changed is that someone reviewed and suppressed it, which is what
//! the finding-level Suppressed says. `compliance.status_code` keeps trustcheck's own status so
//! nothing is lost in the translation.
//!
//! `time` is the `collected_at` of the snapshot that read the finding's scope, never the clock:
//! rendering the same snapshot gives the same events on any day.
//!
//! This module translates; it never decides a status, and never prints.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Report, Scope};
use crate::baseline::BaselineState;
use crate::criteria;
use crate::findings::{Acceptance, Finding, Fingerprint, Status};
use crate::severity::Severity;

/// The OCSF version the events follow (`metadata.version`).
pub const OCSF_VERSION: &str = "1.8.0";

/// The compliance standard every event names.
const STANDARD: &str = "SOC 2";

/// `finding_info.types`: the finding type in the taxonomy Security Hub uses for findings of
/// industry and regulatory standards (as Prowler's checks do).
const FINDING_TYPE: &str =
    "Software and Configuration Checks/Industry and Regulatory Standards/SOC 2";

/// Findings category (2), Compliance Finding class (2003), activity Create (1): `type_uid` is
/// `class_uid * 100 + activity_id`.
const CATEGORY_UID: u8 = 2;
const CLASS_UID: u16 = 2003;
const ACTIVITY_CREATE: u8 = 1;
const TYPE_UID: u32 = 200_301;

/// Renders the findings as a JSON array of OCSF Compliance Finding events, pretty-printed, with a
/// trailing newline.
pub fn render(report: &Report<'_>) -> String {
    let events = events(report);
    crate::untrusted::json_string(&events)
}

/// One event per reported finding, in the report's order.
fn events<'a>(report: &Report<'a>) -> Vec<Event<'a>> {
    let scopes = report.scopes();
    let times = Times::of(report);
    report
        .findings
        .iter()
        .map(|f| {
            let scope = super::scope_of(&f.resource, &scopes);
            let baseline = report.context.baseline.and_then(|b| b.state(f));
            event(f, &scope, times.at(&scope), baseline)
        })
        .collect()
}

/// When each scope was read: the `collected_at` of the first snapshot whose sources include it,
/// in milliseconds since the epoch (OCSF's `timestamp_t`).
struct Times {
    by_scope: BTreeMap<Scope, i64>,
    /// For a scope no source names (a hand-written snapshot without `sources`): the first
    /// snapshot's time; 0 (the epoch) only when the report has no snapshot at all, which a run of
    /// `check` never produces. `time` is required, and the clock would make reports differ.
    fallback: i64,
}

impl Times {
    fn of(report: &Report<'_>) -> Self {
        let mut by_scope = BTreeMap::new();
        for snapshot in report.snapshots {
            let Some(ms) = epoch_millis(&snapshot.collected_at) else {
                continue;
            };
            for source in &snapshot.sources {
                let scope = Scope {
                    provider: source.provider.clone(),
                    scope: source.scope.clone(),
                };
                by_scope.entry(scope).or_insert(ms);
            }
        }
        let fallback = report
            .snapshots
            .iter()
            .find_map(|s| epoch_millis(&s.collected_at))
            .unwrap_or(0);
        Self { by_scope, fallback }
    }

    fn at(&self, scope: &Scope) -> i64 {
        self.by_scope.get(scope).copied().unwrap_or(self.fallback)
    }
}

/// An RFC 3339 UTC time as milliseconds since the epoch; `None` if it is not one.
fn epoch_millis(utc: &str) -> Option<i64> {
    let t = trustcheck_snapshot::utc::parse_utc(utc)?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn event<'a>(
    f: &'a Finding,
    scope: &Scope,
    time: i64,
    baseline: Option<BaselineState>,
) -> Event<'a> {
    let (severity_id, severity) = ocsf_severity(f.severity);
    let (compliance_status_id, compliance_status) = compliance_status(f.status);
    let (status_id, status) = match f.status {
        Status::Accepted => (3, "Suppressed"),
        Status::Fail | Status::Error | Status::Pass | Status::NotApplicable => (1, "New"),
    };
    let acceptance = f.acceptance.as_deref();
    let control = f.soc2.first().map(String::as_str);
    Event {
        activity_id: ACTIVITY_CREATE,
        activity_name: "Create",
        category_uid: CATEGORY_UID,
        category_name: "Findings",
        class_uid: CLASS_UID,
        class_name: "Compliance Finding",
        type_uid: TYPE_UID,
        type_name: "Compliance Finding: Create",
        severity_id,
        severity,
        time,
        message: message(f),
        status_id,
        status,
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "trustcheck",
                vendor_name: "trustcheck",
                version: env!("CARGO_PKG_VERSION"),
                url_string: env!("CARGO_PKG_REPOSITORY"),
            },
            profiles: ["cloud"],
        },
        cloud: cloud(scope),
        finding_info: FindingInfo {
            uid: f.fingerprint,
            title: &f.title,
            desc: &f.message,
            types: [FINDING_TYPE],
            analytic: Analytic {
                uid: &f.rule,
                name: &f.title,
                type_id: 1,
                kind: "Rule",
            },
        },
        compliance: Compliance {
            standards: [STANDARD],
            control,
            requirements: &f.soc2,
            desc: control.and_then(criteria::find).map(|c| c.title),
            status_id: compliance_status_id,
            status: compliance_status,
            status_code: f.status.as_str(),
        },
        resources: [Resource {
            uid: &f.resource.id,
            kind: &f.resource.type_name,
            role_id: 1,
            role: "Target",
        }],
        remediation: Remediation {
            desc: &f.remediation,
        },
        comment: acceptance.map(comment),
        unmapped: (acceptance.is_some() || baseline.is_some()).then_some(Unmapped {
            acceptance,
            baseline,
        }),
    }
}

/// OCSF `severity_id` and its caption.
fn ocsf_severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// `compliance.status_id` and its caption (see the module comment for why).
fn compliance_status(s: Status) -> (u8, &'static str) {
    match s {
        Status::Pass => (1, "Pass"),
        Status::Error => (2, "Warning"),
        Status::Fail | Status::Accepted => (3, "Fail"),
        // OCSF has no "not applicable": Other, with the source's own word as the caption.
        Status::NotApplicable => (99, "Not Applicable"),
    }
}

/// The event's one-line `message`, in the words of the other reports.
fn message(f: &Finding) -> String {
    let head = match (f.status, f.acceptance.as_deref()) {
        (Status::Pass, _) => format!("{} is met by {}", f.title, f.resource),
        (Status::Fail, _) => format!("{} is not met by {}", f.title, f.resource),
        (Status::Accepted, Some(a)) => format!(
            "{} is not met by {} (risk accepted until {})",
            f.title, f.resource, a.expires
        ),
        (Status::Accepted, None) => {
            format!("{} is not met by {} (risk accepted)", f.title, f.resource)
        }
        (Status::Error, _) => format!(
            "{} could not be judged for {}; unknown is never a pass",
            f.title, f.resource
        ),
        (Status::NotApplicable, _) => format!("{} does not apply to {}", f.title, f.resource),
    };
    if f.message.is_empty() {
        head
    } else {
        format!("{head}: {}", f.message)
    }
}

/// The acceptance in words, for `comment` (the structured record is in `unmapped.acceptance`).
fn comment(a: &Acceptance) -> String {
    let state = if a.expired {
        format!("Risk acceptance expired after {}", a.expires)
    } else {
        format!("Risk accepted until {}", a.expires)
    };
    let ticket = a
        .ticket
        .as_deref()
        .map_or(String::new(), |t| format!(" ({t})"));
    format!(
        "{state}; owner {}, approved by {}: {}{ticket}",
        a.owner, a.approved_by, a.reason
    )
}

/// The provider and scope that read the resource. OCSF's `cloud.account` is the closest object
/// for an AWS account or a GitHub organization; its `type_id` is Other (99), with the provider's
/// own noun as `type`, since this module names no provider.
fn cloud(scope: &Scope) -> Cloud {
    let account = (scope.scope != "*").then(|| {
        let noun = crate::providers::by_name(&scope.provider).map_or("scope", |p| p.scope_noun);
        Account {
            uid: scope.scope.clone(),
            type_id: 99,
            kind: format!("{} {noun}", scope.provider),
        }
    });
    Cloud {
        provider: scope.provider.clone(),
        account,
    }
}

/// A Compliance Finding event. Field names are OCSF's; `kind` is OCSF's `type`.
#[derive(Serialize)]
struct Event<'a> {
    activity_id: u8,
    activity_name: &'static str,
    category_uid: u8,
    category_name: &'static str,
    class_uid: u16,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    severity_id: u8,
    severity: &'static str,
    time: i64,
    message: String,
    status_id: u8,
    status: &'static str,
    metadata: Metadata,
    cloud: Cloud,
    finding_info: FindingInfo<'a>,
    compliance: Compliance<'a>,
    resources: [Resource<'a>; 1],
    remediation: Remediation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unmapped: Option<Unmapped<'a>>,
}

#[derive(Serialize)]
struct Metadata {
    version: &'static str,
    product: Product,
    /// The `cloud` profile is what makes `cloud` an attribute of the event.
    profiles: [&'static str; 1],
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
    version: &'static str,
    url_string: &'static str,
}

#[derive(Serialize)]
struct Cloud {
    provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<Account>,
}

#[derive(Serialize)]
struct Account {
    uid: String,
    type_id: u8,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    /// The finding's fingerprint: stable across runs, so a consumer updates rather than
    /// duplicates the finding.
    uid: Fingerprint,
    title: &'a str,
    desc: &'a str,
    types: [&'static str; 1],
    /// The rule that judged: an analytic of type Rule (1).
    analytic: Analytic<'a>,
}

#[derive(Serialize)]
struct Analytic<'a> {
    uid: &'a str,
    name: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// One event per finding even when its rule evidences several criteria: `finding_info.uid` is
/// the finding's fingerprint, which consumers deduplicate on, and one event per criterion would
/// count one resource's failure several times. `control` is the rule's first criterion (the one
/// it is filed under first); `requirements` lists all of them, so filtering on any finds it.
#[derive(Serialize)]
struct Compliance<'a> {
    standards: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    control: Option<&'a str>,
    requirements: &'a [String],
    /// The control's title from the criteria catalogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    desc: Option<&'static str>,
    status_id: u8,
    status: &'static str,
    /// trustcheck's own status (`pass`, `fail`, `error`, `accepted`, `not_applicable`).
    status_code: &'static str,
}

#[derive(Serialize)]
struct Resource<'a> {
    uid: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    /// Target (1): the resource is the subject of the finding.
    role_id: u8,
    role: &'static str,
}

#[derive(Serialize)]
struct Remediation<'a> {
    desc: &'a str,
}

/// What OCSF has no attribute for: the acceptance as recorded (reason, owner, approver, expiry,
/// ticket, where it is declared) and, with `--baseline`, whether the status is new.
#[derive(Serialize)]
struct Unmapped<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    acceptance: Option<&'a Acceptance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineState>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::entities::LoadedSource;
    use crate::findings::{fingerprint, Uid};
    use crate::gate::{Gate, Verdict};
    use crate::report::Context;
    use crate::rules::RuleSet;
    use crate::snapshot::Source;

    fn finding(status: Status, soc2: &[&str]) -> Finding {
        let resource = Uid::new("Aws::IamUser", "arn:aws:iam::111111111111:user/a");
        Finding {
            rule: "aws-iam-user-console-mfa".into(),
            title: "IAM users with console access use MFA".into(),
            soc2: soc2
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into(),
            severity: Severity::High,
            fingerprint: fingerprint("aws-iam-user-console-mfa", &resource),
            acceptance: None,
            resource: resource.into(),
            status,
            message: "consoleAccess = true, mfaActive = false".into(),
            remediation: "Assign an MFA device.".into(),
        }
    }

    fn snapshot(collected_at: &str, provider: &str, scope: &str) -> LoadedSource {
        LoadedSource {
            file: "s.json".into(),
            collected_at: collected_at.into(),
            sources: vec![Source::new(provider, scope, collected_at)],
        }
    }

    fn render_with(findings: &[Finding], snapshots: &[LoadedSource]) -> Vec<Value> {
        let rules = RuleSet::default();
        let report = Report {
            findings,
            rules: &rules,
            snapshots,
            gate: Gate::new(Severity::Low),
            verdict: Verdict::Failed,
            context: Context::default(),
        };
        let text = render(&report);
        assert!(text.ends_with("]\n"));
        serde_json::from_str::<Value>(&text)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    #[test]
    fn statuses_map_to_compliance_and_finding_statuses() {
        let cases = [
            (Status::Pass, 1, "Pass", 1),
            (Status::Error, 2, "Warning", 1),
            (Status::Fail, 3, "Fail", 1),
            (Status::Accepted, 3, "Fail", 3),
            (Status::NotApplicable, 99, "Not Applicable", 1),
        ];
        for (status, compliance_id, caption, finding_id) in cases {
            let events = render_with(&[finding(status, &["CC6.1"])], &[]);
            let e = &events[0];
            assert_eq!(e["compliance"]["status_id"], compliance_id, "{status}");
            assert_eq!(e["compliance"]["status"], caption, "{status}");
            assert_eq!(e["compliance"]["status_code"], status.as_str());
            assert_eq!(e["status_id"], finding_id, "{status}");
            assert_eq!(e["class_uid"], 2003);
            assert_eq!(e["type_uid"], 200301);
            assert_eq!(e["severity_id"], 4);
        }
    }

    #[test]
    fn a_rule_with_several_criteria_is_one_event_filed_under_the_first() {
        let events = render_with(&[finding(Status::Fail, &["CC8.1", "CC6.1"])], &[]);
        assert_eq!(events.len(), 1);
        let c = &events[0]["compliance"];
        assert_eq!(c["standards"], serde_json::json!(["SOC 2"]));
        assert_eq!(c["control"], "CC8.1");
        assert_eq!(c["requirements"], serde_json::json!(["CC8.1", "CC6.1"]));
        assert_eq!(c["desc"], criteria::find("CC8.1").unwrap().title);
    }

    #[test]
    fn time_is_the_snapshot_of_the_scope_never_the_clock() {
        let snapshots = [
            snapshot("2026-11-22T03:00:00Z", "aws", "222222222222"),
            snapshot("2026-11-23T03:00:00.250Z", "aws", "111111111111"),
        ];
        let events = render_with(&[finding(Status::Fail, &["CC6.1"])], &snapshots);
        // The finding's account was read by the second snapshot.
        assert_eq!(events[0]["time"], 1_795_316_400_000_i64 + 86_400_000 + 250);
        assert_eq!(events[0]["cloud"]["account"]["uid"], "111111111111");
        assert_eq!(events[0]["cloud"]["account"]["type"], "aws account");
        // No source read its provider: the first snapshot's time, and no account.
        let github_only = [snapshot("2026-11-21T03:00:00Z", "github", "acme")];
        let events = render_with(&[finding(Status::Fail, &["CC6.1"])], &github_only);
        assert_eq!(events[0]["time"], 1_795_316_400_000_i64 - 86_400_000);
        assert_eq!(events[0]["cloud"], serde_json::json!({"provider": "aws"}));
        // No snapshot at all (never from `check`): the epoch, not the clock.
        assert_eq!(
            render_with(&[finding(Status::Fail, &["CC6.1"])], &[])[0]["time"],
            0
        );
    }

    #[test]
    fn an_accepted_failure_is_suppressed_with_its_acceptance() {
        let mut f = finding(Status::Accepted, &["CC6.1"]);
        f.acceptance = Some(Arc::new(Acceptance {
            reason: "Break-glass user".into(),
            owner: "security@example.com".into(),
            approved_by: "cto@example.com".into(),
            expires: "2027-03-31".into(),
            ticket: Some("SEC-12".into()),
            expired: false,
            days_left: 129,
            declared_at: "trustcheck-exceptions.toml:1".into(),
        }));
        let e = &render_with(&[f], &[])[0];
        assert_eq!(e["status"], "Suppressed");
        assert_eq!(
            e["unmapped"]["acceptance"]["approved_by"],
            "cto@example.com"
        );
        assert_eq!(e["unmapped"]["acceptance"]["expires"], "2027-03-31");
        assert_eq!(
            e["comment"],
            "Risk accepted until 2027-03-31; owner security@example.com, approved by cto@example.com: Break-glass user (SEC-12)"
        );
        assert!(e["message"]
            .as_str()
            .unwrap()
            .contains("risk accepted until 2027-03-31"));
        // Without an acceptance there is nothing unmapped.
        let plain = &render_with(&[finding(Status::Fail, &["CC6.1"])], &[])[0];
        assert!(plain.get("unmapped").is_none() && plain.get("comment").is_none());
    }

    #[test]
    fn severities_follow_ocsf() {
        assert_eq!(ocsf_severity(Severity::Critical), (5, "Critical"));
        assert_eq!(ocsf_severity(Severity::High), (4, "High"));
        assert_eq!(ocsf_severity(Severity::Medium), (3, "Medium"));
        assert_eq!(ocsf_severity(Severity::Low), (2, "Low"));
        assert_eq!(
            epoch_millis("2026-11-22T03:00:00Z"),
            Some(1_795_316_400_000)
        );
        assert_eq!(epoch_millis("yesterday"), None);
    }
}
