//! SARIF 2.1.0 for GitHub code scanning (and any other SARIF viewer).
//!
//! Cloud and GitHub-settings findings have no source line, and code scanning rejects results
//! without a location, so each result is located at the `.cedar` file of the rule that found it
//! (the line of its `@id`). Every result carries `partialFingerprints.primaryLocationLineHash` =
//! the finding fingerprint (rule, resource): otherwise code scanning would hash that one line and
//! fold every resource of a rule into one alert. A failure that becomes an `error` keeps the same
//! fingerprint, so its alert stays open (unknown is never pass) until the resource passes.
//!
//! One run per scope (AWS account, GitHub org) with `automationDetails.id` =
//! `<category>/<provider>/<scope>/`, so uploads for different accounts never replace each other;
//! a scope with nothing failing still gets an empty run, which is what closes its fixed alerts.
//!
//! Only failures, errors and accepted findings become results; passes are the absence of an
//! alert. An accepted finding (a failure a risk acceptance covers) is a result with an `external`
//! suppression of status `accepted` whose justification is the reason, owner, approver and
//! expiry: code scanning shows its alert as dismissed, with why, instead of closing it as fixed.
//! When the acceptance expires the finding is a plain failure again, with the same fingerprint,
//! so the same alert reopens.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use serde_sarif::sarif;

use super::{Report, Scope};
use crate::criteria;
use crate::findings::{Acceptance, Finding, Status};
use crate::rules::{Origin, Rule};
use crate::severity::Severity;

/// The default prefix of `automationDetails.id`.
pub const DEFAULT_CATEGORY: &str = "trustcheck";

/// The `$schema` written into the log.
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// GitHub's numeric `security-severity` for a rule severity (>= 9.0 critical, 7.0–8.9 high,
/// 4.0–6.9 medium, < 4.0 low).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "7.5",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
    }
}

/// The SARIF level of a failure of this severity.
fn fail_level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Critical | Severity::High => sarif::ResultLevel::Error,
        Severity::Medium => sarif::ResultLevel::Warning,
        Severity::Low => sarif::ResultLevel::Note,
    }
}

/// Renders the SARIF log, pretty-printed, with a trailing newline.
pub fn render(report: &Report<'_>) -> String {
    let log = log(report);
    crate::untrusted::json_string(&log)
}

/// The SARIF log as data.
pub fn log(report: &Report<'_>) -> sarif::Sarif {
    let rules = report.rules.rules();
    let descriptors: Vec<sarif::ReportingDescriptor> = rules.iter().map(descriptor).collect();
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_ref(), i))
        .collect();
    let category = report.context.sarif_category.unwrap_or(DEFAULT_CATEGORY);

    let scopes = report.scopes();
    let mut by_scope: BTreeMap<Scope, Vec<sarif::Result>> =
        scopes.iter().map(|s| (s.clone(), Vec::new())).collect();
    for f in report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error | Status::Accepted))
    {
        let scope = super::scope_of(&f.resource, &scopes);
        let rule = index
            .get(f.rule.as_ref())
            .and_then(|&i| rules.get(i).map(|r| (i, r)));
        let result = result(report, f, &scope, rule);
        by_scope.entry(scope).or_default().push(result);
    }
    if by_scope.is_empty() {
        // No sources at all (a hand-written snapshot): still one run, so the log is uploadable.
        by_scope.insert(
            Scope {
                provider: "none".into(),
                scope: "*".into(),
            },
            Vec::new(),
        );
    }

    let runs: Vec<sarif::Run> = by_scope
        .into_iter()
        .map(|(scope, results)| {
            let driver = sarif::ToolComponent::builder()
                .name("trustcheck")
                .semantic_version(env!("CARGO_PKG_VERSION"))
                .information_uri(env!("CARGO_PKG_REPOSITORY"))
                .rules(descriptors.clone())
                .build();
            sarif::Run::builder()
                .tool(sarif::Tool::builder().driver(driver).build())
                .automation_details(
                    sarif::RunAutomationDetails::builder()
                        .id(format!(
                            "{category}/{}/{}/",
                            uri_safe(&scope.provider),
                            uri_safe(&scope.scope)
                        ))
                        .build(),
                )
                .results(results)
                .build()
        })
        .collect();
    sarif::Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(runs)
        .build()
}

fn descriptor(rule: &Rule) -> sarif::ReportingDescriptor {
    let criteria_lines: Vec<String> = rule
        .soc2
        .iter()
        .map(|c| match criteria::find(c) {
            Some(k) => format!("{c}: {}", k.title),
            None => c.clone(),
        })
        .collect();
    let full = rule.description.clone().unwrap_or_else(|| {
        format!(
            "{} (SOC 2 {}; severity {}).",
            rule.title,
            rule.soc2.join(", "),
            rule.severity
        )
    });
    let help_text = format!(
        "{}\n\nRemediation: {}\n\nSOC 2 criteria:\n{}\n",
        rule.title,
        rule.remediation,
        criteria_lines
            .iter()
            .map(|l| format!("- {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let help_markdown = format!(
        "**{}**\n\n{}### Remediation\n\n{}\n\n### SOC 2 criteria\n\n{}\n\nRule `{}` ({} rule, severity **{}**), defined in `{}`.\n",
        rule.title,
        rule.description
            .as_deref()
            .map_or(String::new(), |d| format!("{d}\n\n")),
        rule.remediation,
        criteria_lines
            .iter()
            .map(|l| format!("- {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
        rule.id,
        match rule.origin {
            Origin::Builtin => "shipped",
            Origin::Custom => "custom",
        },
        rule.severity,
        rule.file.name
    );
    let mut tags = vec!["security".to_string(), "soc2".to_string()];
    tags.extend(rule.soc2.iter().cloned());
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_string(),
        json!(security_severity(rule.severity)),
    );
    props.insert("precision".to_string(), json!("very-high"));
    props.insert("severity".to_string(), json!(rule.severity.as_str()));
    sarif::ReportingDescriptor::builder()
        .id(rule.id.to_string())
        .name(pascal_case(&rule.id))
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(rule.title.to_string())
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(truncate(&full, 1024))
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_markdown)
                .build(),
        )
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(json!(level_name(fail_level(rule.severity))))
                .build(),
        )
        .properties(
            sarif::PropertyBag::builder()
                .tags(tags)
                .additional_properties(props)
                .build(),
        )
        .build()
}

fn result(
    report: &Report<'_>,
    f: &Finding,
    scope: &Scope,
    rule: Option<(usize, &Rule)>,
) -> sarif::Result {
    let (level, text) = match f.status {
        Status::Error => (
            sarif::ResultLevel::Warning,
            format!(
                "{} could not be judged for {}: {}. Unknown is never a pass.",
                f.title, f.resource, f.message
            ),
        ),
        Status::Accepted => (
            fail_level(f.severity),
            match f.acceptance.as_deref() {
                Some(a) => format!(
                    "{} is not met by {}: {}. Risk accepted until {}: {}",
                    f.title, f.resource, f.message, a.expires, a.reason
                ),
                None => format!(
                    "{} is not met by {}: {}. Risk accepted.",
                    f.title, f.resource, f.message
                ),
            },
        ),
        _ => (
            fail_level(f.severity),
            format!("{} is not met by {}: {}.", f.title, f.resource, f.message),
        ),
    };
    let (uri, line) = match rule {
        Some((_, r)) => (rule_uri(r), id_line(r)),
        None => (format!("policies/{}.cedar", f.rule), 1),
    };
    let location = sarif::Location::builder()
        .physical_location(
            sarif::PhysicalLocation::builder()
                .artifact_location(sarif::ArtifactLocation::builder().uri(uri).build())
                .region(sarif::Region::builder().start_line(line as i64).build())
                .build(),
        )
        .build();
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(
        "primaryLocationLineHash".to_string(),
        f.fingerprint.to_hex(),
    );
    let mut props: BTreeMap<String, Value> = BTreeMap::new();
    props.insert("status".into(), json!(f.status.as_str()));
    props.insert("severity".into(), json!(f.severity.as_str()));
    props.insert("resourceType".into(), json!(f.resource.type_name));
    props.insert("resourceId".into(), json!(f.resource.id));
    props.insert("provider".into(), json!(scope.provider));
    props.insert("scope".into(), json!(scope.scope));
    props.insert("soc2".into(), json!(f.soc2.as_ref()));
    props.insert("remediation".into(), json!(f.remediation.as_ref()));
    if let Some(a) = f.acceptance.as_deref() {
        // In force or expired: the record an auditor follows either way.
        props.insert("acceptance".into(), json!(a));
    }
    let mut builder_result = sarif::Result::builder()
        .rule_id(f.rule.to_string())
        .level(level)
        .message(sarif::Message::builder().text(text).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(
            sarif::PropertyBag::builder()
                .additional_properties(props)
                .build(),
        )
        .build();
    if let Some((i, _)) = rule {
        builder_result.rule_index = Some(i as i64);
    }
    if let Some(state) = report.context.baseline.and_then(|b| b.state(f)) {
        builder_result.baseline_state = Some(json!(state.as_str()));
    }
    if f.status == Status::Accepted {
        builder_result.suppressions = Some(vec![suppression(f.acceptance.as_deref())]);
    }
    builder_result
}

/// The suppression of an accepted finding: `external` (declared outside the analysed file, in the
/// exceptions file) and `accepted`, justified by who accepted what, why and until when.
fn suppression(acceptance: Option<&Acceptance>) -> sarif::Suppression {
    let justification = match acceptance {
        Some(a) => {
            let ticket = a
                .ticket
                .as_deref()
                .map_or(String::new(), |t| format!("; ticket: {t}"));
            format!(
                "{} (owner: {}; approved by: {}; expires: {}{ticket}; declared in {})",
                a.reason, a.owner, a.approved_by, a.expires, a.declared_at
            )
        }
        None => "accepted risk".to_string(),
    };
    sarif::Suppression::builder()
        .kind(json!("external"))
        .status(json!("accepted"))
        .justification(justification)
        .build()
}

fn level_name(l: sarif::ResultLevel) -> &'static str {
    match l {
        sarif::ResultLevel::Error => "error",
        sarif::ResultLevel::Warning => "warning",
        sarif::ResultLevel::Note => "note",
        sarif::ResultLevel::None => "none",
    }
}

/// The rule file as a repository-relative URI reference: `policies/aws/x.cedar` for shipped
/// rules, the path given to `--policies` for custom ones (run from the repository root so it
/// matches a file code scanning can show).
fn rule_uri(rule: &Rule) -> String {
    let name = rule.file.name.replace('\\', "/");
    let name = name.trim_start_matches("./");
    uri_safe(name)
}

/// Percent-encodes what a URI reference may not contain (spaces, `%`, `#`, `?`, non-ASCII…),
/// keeping `/` so paths stay paths.
fn uri_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The 1-based line of the rule's `@id` annotation (1 if not found).
fn id_line(rule: &Rule) -> usize {
    rule.file
        .text
        .find("@id")
        .map_or(1, |offset| rule.file.line_col(offset).0)
}

fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|first| first.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn truncate(s: &str, max: usize) -> String {
    crate::text::shorten(s, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Verdict;
    use crate::report::fixtures::{acceptance, finding, with_report};
    use crate::report::Context;

    #[test]
    fn an_accepted_finding_is_an_externally_suppressed_result_and_a_failure_is_not() {
        let findings = [
            finding(
                "break-glass",
                Status::Accepted,
                Some(acceptance("2027-03-31", 129)),
            ),
            finding("jordan.kim", Status::Fail, None),
            finding("ok", Status::Pass, None),
        ];
        let value = with_report(&findings, Verdict::Failed, Context::default(), |report| {
            serde_json::to_value(log(report)).unwrap()
        });
        let results = value["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "the pass is not a result");
        let accepted = results
            .iter()
            .find(|r| r["properties"]["status"] == "accepted")
            .unwrap();
        let suppression = &accepted["suppressions"][0];
        assert_eq!(suppression["kind"], "external");
        assert_eq!(suppression["status"], "accepted");
        let justification = suppression["justification"].as_str().unwrap();
        for part in [
            "Break-glass user",
            "owner: security@northwind.example",
            "approved by: cto@northwind.example",
            "expires: 2027-03-31",
            "SEC-12",
        ] {
            assert!(
                justification.contains(part),
                "{part} missing: {justification}"
            );
        }
        assert_eq!(
            accepted["properties"]["acceptance"]["owner"],
            "security@northwind.example"
        );
        let failure = results
            .iter()
            .find(|r| r["properties"]["status"] == "fail")
            .unwrap();
        assert!(failure.get("suppressions").is_none(), "{failure}");
        assert_eq!(failure["level"], "error");
    }

    #[test]
    fn uris_are_encoded_and_names_pascal_cased() {
        assert_eq!(uri_safe("my rules/a#b.cedar"), "my%20rules/a%23b.cedar");
        assert_eq!(uri_safe("policies/aws/x.cedar"), "policies/aws/x.cedar");
        assert_eq!(pascal_case("aws-root-mfa"), "AwsRootMfa");
        assert_eq!(security_severity(Severity::Critical), "9.5");
        assert!(truncate(&"x".repeat(2000), 1024).len() <= 1024);
        // A long `@description` in a language with multi-byte characters.
        assert!(truncate(&"é".repeat(1000), 1024).len() <= 1024);
        assert!(truncate(&"日本".repeat(400), 1024).ends_with('…'));
    }
}
