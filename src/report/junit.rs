//! JUnit XML for CI test reporters (GitLab, Jenkins, dorny/test-reporter, …).
//!
//! A test suite per SOC 2 criterion, a test case per (rule, resource): `classname` is the rule
//! id, `name` the resource. Failures are `<failure>`, findings that could not be judged are
//! `<error>` (never a pass), not-applicable ones are `<skipped>`. Accepted findings (failures a
//! risk acceptance covers) are `<skipped>` too, typed `accepted`, with the reason, owner, approver
//! and expiry in the message: a test reporter then shows them apart from passes without failing
//! the build. A rule with two criteria appears in both suites, as it does in the table.

use crate::untrusted::terminal;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::criteria;
use crate::findings::{Finding, Status};

/// Renders the JUnit XML document.
pub fn render(report: &Report<'_>) -> String {
    let by_criterion = super::by_criterion(report.findings);
    let mut junit = quick_junit::Report::new("trustcheck");
    for ((_, id), findings) in by_criterion {
        let mut suite = TestSuite::new(id);
        if let Some(c) = criteria::find(id) {
            suite.add_property(Property::new("criterion", c.title));
        }
        for f in findings {
            suite.add_test_case(case(report, f));
        }
        junit.add_test_suite(suite);
    }
    // Writing XML into a String only fails on I/O, which a String does not do.
    // Collected strings may hold characters XML forbids (ESC, other controls): escaped, so the
    // document stays well-formed for every CI system that parses it.
    crate::untrusted::xml(&junit.to_string().unwrap_or_default()).into_owned()
}

fn case(report: &Report<'_>, f: &Finding) -> TestCase {
    // Values from the audited systems: one visible line each (crate::untrusted).
    let resource = terminal(&f.resource.to_string()).into_owned();
    let message = terminal(&f.message);
    let status = match f.status {
        Status::Pass => TestCaseStatus::success(),
        Status::NotApplicable => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("not applicable: {}", message));
            s
        }
        Status::Accepted => {
            let mut s = TestCaseStatus::skipped();
            s.set_type("accepted");
            match f.acceptance.as_deref() {
                Some(a) => {
                    let ticket = a
                        .ticket
                        .as_deref()
                        .map_or(String::new(), |t| format!("; ticket {}", terminal(t)));
                    s.set_message(format!(
                        "accepted risk until {}: {} (owner {}, approved by {}{ticket})",
                        a.expires,
                        terminal(&a.reason),
                        terminal(&a.owner),
                        terminal(&a.approved_by)
                    ))
                    .set_description(format!(
                        "{}\n{}: {}\naccepted in {}; remediation: {}",
                        f.title, resource, message, a.declared_at, f.remediation
                    ));
                }
                None => {
                    s.set_message(format!("accepted risk: {}", message));
                }
            }
            s
        }
        Status::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message.as_ref())
                .set_type(f.severity.as_str())
                .set_description(format!(
                    "{}\n{}: {}\nremediation: {}",
                    f.title, resource, message, f.remediation
                ));
            s
        }
        Status::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(format!("could not be judged: {}", message))
                .set_type("error")
                .set_description(format!(
                    "{}\n{}: {}\nunknown is never a pass: collect the missing fact and re-run",
                    f.title, resource, message
                ));
            s
        }
    };
    let mut case = TestCase::new(resource, status);
    case.set_classname(f.rule.as_ref());
    case.add_property(Property::new("severity", f.severity.as_str()));
    case.add_property(Property::new("fingerprint", f.fingerprint.to_hex()));
    if let Some(state) = report.context.baseline.and_then(|b| b.state(f)) {
        case.add_property(Property::new("baseline", state.as_str()));
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Verdict;
    use crate::report::fixtures::{acceptance, finding, with_report};
    use crate::report::Context;

    #[test]
    fn an_accepted_finding_is_skipped_with_who_why_and_until_when() {
        let f = finding(
            "break-glass",
            Status::Accepted,
            Some(acceptance("2027-03-31", 129)),
        );
        with_report(
            std::slice::from_ref(&f),
            Verdict::Clean,
            Context::default(),
            |report| {
                let TestCaseStatus::Skipped { message, ty, .. } = case(report, &f).status else {
                    panic!("an accepted finding is skipped")
                };
                assert_eq!(ty.as_deref(), Some("accepted"));
                let message = message.unwrap().as_str().to_string();
                for part in [
                    "2027-03-31",
                    "Break-glass user",
                    "security@northwind.example",
                    "cto@northwind.example",
                ] {
                    assert!(message.contains(part), "{part} missing from {message}");
                }
                let xml = render(report);
                assert!(xml.contains("<skipped"), "{xml}");
                assert!(!xml.contains("<failure"), "{xml}");
            },
        );
    }
}
