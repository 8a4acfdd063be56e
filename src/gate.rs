//! The one decision of whether a run fails: `--fail-on`, `--baseline` with `--fail-on-new`, and
//! errors. `check`, baselines and every report ask this module, so they can never disagree.

use crate::baseline::Comparison;
use crate::exit::ExitStatus;
use crate::findings::{Finding, Status};
use crate::severity::Severity;

/// The run's verdict over every finding (also those a report does not list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Nothing gates the run and every finding could be judged.
    Clean,
    /// At least one failure gates the run.
    Failed,
    /// At least one finding is an `error`: an unknown is never a pass, baseline or not.
    Untrustworthy,
}

impl Verdict {
    /// The exit status of a run with this verdict.
    pub fn exit_status(self) -> ExitStatus {
        match self {
            Verdict::Clean => ExitStatus::Success,
            Verdict::Failed => ExitStatus::Failure,
            Verdict::Untrustworthy => ExitStatus::Untrustworthy,
        }
    }

    /// One word for messages: `passed`, `failed`, or why the run is incomplete.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Clean => "passed",
            Verdict::Failed => "failed",
            Verdict::Untrustworthy => "incomplete: some findings could not be judged",
        }
    }
}

/// What fails the run.
#[derive(Debug, Clone, Copy)]
pub struct Gate<'a> {
    /// Failures at or above this severity fail the run.
    pub fail_on: Severity,
    /// `--fail-on-new`: only failures that are new relative to this baseline comparison count.
    pub new_only: Option<&'a Comparison>,
}

impl<'a> Gate<'a> {
    /// Failures at or above `fail_on` fail the run.
    pub fn new(fail_on: Severity) -> Self {
        Self {
            fail_on,
            new_only: None,
        }
    }

    /// Only failures new relative to `comparison` fail the run (`--fail-on-new`).
    pub fn new_failures_only(mut self, comparison: &'a Comparison) -> Self {
        self.new_only = Some(comparison);
        self
    }

    /// Whether this finding fails the run: a failure at or above `fail_on` (and, with
    /// `--fail-on-new`, new relative to the baseline).
    pub fn fails(&self, f: &Finding) -> bool {
        f.status == Status::Fail
            && f.severity >= self.fail_on
            && self.new_only.is_none_or(|c| c.is_new(f))
    }

    /// The verdict over every finding: any `error` makes the run untrustworthy, whatever the
    /// baseline says; else any finding that [`Gate::fails`] fails it.
    pub fn verdict(&self, findings: &[Finding]) -> Verdict {
        if findings.iter().any(|f| f.status == Status::Error) {
            Verdict::Untrustworthy
        } else if findings.iter().any(|f| self.fails(f)) {
            Verdict::Failed
        } else {
            Verdict::Clean
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Baseline;
    use crate::findings::{fingerprint, Uid};

    fn finding(id: &str, status: Status, severity: Severity) -> Finding {
        let resource = Uid::new("Aws::IamUser", id);
        Finding {
            rule: "r".into(),
            title: "t".into(),
            soc2: vec!["CC6.1".to_string()].into(),
            severity,
            fingerprint: fingerprint("r", &resource),
            acceptance: None,
            resource: resource.into(),
            status,
            message: String::new(),
            remediation: "r".into(),
        }
    }

    #[test]
    fn errors_beat_failures_and_fail_on_sets_the_bar() {
        let low = finding("a", Status::Fail, Severity::Low);
        let high = finding("b", Status::Fail, Severity::High);
        let error = finding("c", Status::Error, Severity::Low);
        let gate = Gate::new(Severity::High);
        assert_eq!(gate.verdict(std::slice::from_ref(&low)), Verdict::Clean);
        assert_eq!(gate.verdict(&[low.clone(), high.clone()]), Verdict::Failed);
        assert_eq!(gate.verdict(&[high, error]), Verdict::Untrustworthy);
        assert_eq!(Verdict::Failed.exit_status().code(), 1);
    }

    #[test]
    fn fail_on_new_ignores_unchanged_failures_but_never_errors() {
        let old = finding("a", Status::Fail, Severity::High);
        let baseline = Baseline::from_findings(vec![old.clone()]);
        let new = finding("b", Status::Fail, Severity::High);
        let cmp = Comparison::of(&baseline, &[old.clone(), new.clone()]);
        let gate = Gate::new(Severity::Low).new_failures_only(&cmp);
        assert!(!gate.fails(&old));
        assert!(gate.fails(&new));
        assert_eq!(gate.verdict(std::slice::from_ref(&old)), Verdict::Clean);
        let error = finding("c", Status::Error, Severity::Low);
        let cmp = Comparison::of(
            &Baseline::from_findings(vec![error.clone()]),
            std::slice::from_ref(&error),
        );
        let gate = Gate::new(Severity::Low).new_failures_only(&cmp);
        assert_eq!(gate.verdict(&[error]), Verdict::Untrustworthy);
    }
}
