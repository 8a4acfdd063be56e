//! Baselines: comparing this run's findings with a previous `trustcheck.findings/v1` document.
//!
//! A PR gate in "adoption mode" fails only on failures that are *new* relative to the last
//! default-branch run. Findings are matched by their stable fingerprint (rule id, resource), so a
//! finding keeps its identity across runs whatever its message says.
//!
//! This module must never treat a baseline it cannot read as empty: that would silently turn
//! every failure into "unchanged" or every old failure into "fixed". It returns a typed error.

use std::collections::HashMap;
use std::path::Path;

use miette::{Diagnostic, SourceSpan};
use serde::{Deserialize, Serialize};

use crate::findings::{Finding, FindingsDocument, Fingerprint, Status, FINDINGS_FORMAT};

/// How a current finding relates to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineState {
    /// The baseline had no finding for this (rule, resource), or had it with another status:
    /// this status is new (e.g. a resource that passed last night and fails now).
    New,
    /// The baseline had this (rule, resource) with the same status.
    Unchanged,
}

impl BaselineState {
    /// The snake_case name used in JSON, CSV and SARIF.
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
        }
    }
}

/// A previous run's findings, by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    by_fingerprint: HashMap<Fingerprint, Finding>,
}

/// A baseline file that cannot be used.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("cannot read baseline `{path}`: {source}")]
    #[diagnostic(help(
        "`--baseline` takes a findings file written by `trustcheck check --report json=FILE`"
    ))]
    Read {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON, or not shaped like a findings document.
    #[error("baseline `{path}` is not a valid findings document: {message}")]
    #[diagnostic(help(
        "`--baseline` takes a findings file written by `trustcheck check --report json=FILE`; see docs/findings-format.md"
    ))]
    Parse {
        /// The path given.
        path: String,
        /// serde's message without its position suffix.
        message: String,
        /// The file, for the snippet.
        #[source_code]
        src: crate::diagnostics::SourceFile,
        /// Where.
        #[label("here")]
        span: SourceSpan,
    },
    /// The document has another format tag (e.g. a snapshot).
    #[error("baseline `{path}` has format `{found}`, expected `{FINDINGS_FORMAT}`")]
    #[diagnostic(help(
        "`--baseline` compares findings; to compare two snapshots' facts use `trustcheck diff OLD NEW`"
    ))]
    Format {
        /// The path given.
        path: String,
        /// The format tag found (empty when there is none).
        found: String,
    },
}

impl Baseline {
    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Self, BaselineError> {
        let display = path.display().to_string();
        let text = crate::input::read_to_string(path).map_err(|source| BaselineError::Read {
            path: display.clone(),
            source,
        })?;
        Self::parse(&display, &text)
    }

    /// Parses baseline text; `name` is used in messages.
    pub fn parse(name: &str, text: &str) -> Result<Self, BaselineError> {
        let parse_error = |e: serde_json::Error| {
            let offset = offset_of(text, e.line(), e.column());
            let message = e.to_string();
            // serde appends " at line L column C"; the snippet shows the position instead.
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m)
                .to_string();
            BaselineError::Parse {
                path: name.to_string(),
                message,
                src: crate::diagnostics::SourceFile::new(name, text).with_language("json"),
                span: SourceSpan::from((offset, 0)),
            }
        };
        // Check the tag first, so a snapshot or a future version says so rather than failing on
        // whichever field differs.
        #[derive(Deserialize)]
        struct Tag {
            #[serde(default)]
            format: Option<String>,
        }
        let tag: Tag = serde_json::from_str(text).map_err(parse_error)?;
        match tag.format.as_deref() {
            Some(FINDINGS_FORMAT) => {}
            other => {
                return Err(BaselineError::Format {
                    path: name.to_string(),
                    found: other.unwrap_or_default().to_string(),
                })
            }
        }
        let doc: FindingsDocument = serde_json::from_str(text).map_err(parse_error)?;
        Ok(Self::from_findings(doc.findings))
    }

    /// A baseline of findings already in memory.
    pub fn from_findings(findings: impl IntoIterator<Item = Finding>) -> Self {
        Self {
            by_fingerprint: findings.into_iter().map(|f| (f.fingerprint, f)).collect(),
        }
    }

    /// How many findings the baseline holds.
    pub fn len(&self) -> usize {
        self.by_fingerprint.len()
    }

    /// Whether the baseline holds no findings (a legitimate, if unusual, baseline).
    pub fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty()
    }
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// The current findings compared with a baseline.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    states: HashMap<Fingerprint, BaselineState>,
    /// The baseline's failures that no longer fail (now pass, not applicable, or gone because the
    /// resource or the rule is gone), as they were in the baseline, sorted by (rule, resource).
    /// A failure that became an `error` is *not* fixed: unknown is never pass.
    pub fixed: Vec<Finding>,
}

impl Comparison {
    /// Compares every current finding (not only the reported ones, or failures hidden by
    /// `--min-severity` would look fixed) with the baseline.
    pub fn of(baseline: &Baseline, current: &[Finding]) -> Self {
        let mut states = HashMap::with_capacity(current.len());
        let mut still_failing: HashMap<Fingerprint, Status> = HashMap::new();
        for f in current {
            let state = match baseline.by_fingerprint.get(&f.fingerprint) {
                Some(old) if old.status == f.status => BaselineState::Unchanged,
                _ => BaselineState::New,
            };
            states.insert(f.fingerprint, state);
            still_failing.insert(f.fingerprint, f.status);
        }
        let mut fixed: Vec<Finding> = baseline
            .by_fingerprint
            .values()
            .filter(|old| old.status == Status::Fail)
            .filter(|old| {
                // Accepted is not fixed either: the failure is still there, someone accepted it.
                !matches!(
                    still_failing.get(&old.fingerprint),
                    Some(Status::Fail | Status::Error | Status::Accepted)
                )
            })
            .cloned()
            .collect();
        crate::findings::sort(&mut fixed);
        Self { states, fixed }
    }

    /// The state of a current finding (`None` if it was not part of the comparison).
    pub fn state(&self, finding: &Finding) -> Option<BaselineState> {
        self.states.get(&finding.fingerprint).copied()
    }

    /// Whether a current finding is new relative to the baseline.
    pub fn is_new(&self, finding: &Finding) -> bool {
        self.state(finding) == Some(BaselineState::New)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{fingerprint, Uid};
    use crate::severity::Severity;

    fn finding(id: &str, status: Status) -> Finding {
        let resource = Uid {
            type_name: "Aws::IamUser".into(),
            id: id.into(),
        };
        Finding {
            rule: "r".into(),
            title: "t".into(),
            soc2: vec!["CC6.1".to_string()].into(),
            severity: Severity::High,
            fingerprint: fingerprint("r", &resource),
            acceptance: None,
            resource: resource.into(),
            status,
            message: format!("message of {id}"),
            remediation: "fix".into(),
        }
    }

    #[test]
    fn states_follow_status_by_fingerprint_and_fixed_excludes_errors() {
        let baseline = Baseline::from_findings([
            finding("same", Status::Fail),
            finding("flipped", Status::Pass),
            finding("repaired", Status::Fail),
            finding("deleted", Status::Fail),
            finding("unknown-now", Status::Fail),
        ]);
        let mut changed_message = finding("same", Status::Fail);
        changed_message.message = "other words".into();
        let current = [
            changed_message,
            finding("flipped", Status::Fail),
            finding("repaired", Status::Pass),
            finding("unknown-now", Status::Error),
            finding("brand-new", Status::Fail),
        ];
        let cmp = Comparison::of(&baseline, &current);
        let states: Vec<_> = current.iter().map(|f| cmp.state(f).unwrap()).collect();
        assert_eq!(
            states,
            [
                BaselineState::Unchanged,
                BaselineState::New,
                BaselineState::New,
                BaselineState::New,
                BaselineState::New
            ]
        );
        let fixed: Vec<&str> = cmp.fixed.iter().map(|f| f.resource.id.as_str()).collect();
        assert_eq!(fixed, ["deleted", "repaired"]);
    }

    #[test]
    fn wrong_documents_are_errors_not_empty_baselines() {
        let snapshot =
            r#"{"format": "trustcheck.snapshot/v1", "collected_at": "2026-11-22T03:00:00Z"}"#;
        assert!(matches!(
            Baseline::parse("b.json", snapshot),
            Err(BaselineError::Format { found, .. }) if found == "trustcheck.snapshot/v1"
        ));
        assert!(matches!(
            Baseline::parse("b.json", "{\"findings\": []}"),
            Err(BaselineError::Format { found, .. }) if found.is_empty()
        ));
        assert!(matches!(
            Baseline::parse(
                "b.json",
                "{\n  \"format\": \"trustcheck.findings/v1\",\n  oops"
            ),
            Err(BaselineError::Parse { .. })
        ));
        let missing_fields = r#"{"format": "trustcheck.findings/v1", "findings": [{"rule": "x"}]}"#;
        assert!(matches!(
            Baseline::parse("b.json", missing_fields),
            Err(BaselineError::Parse { .. })
        ));
    }

    #[test]
    fn a_findings_document_round_trips_as_a_baseline() {
        let doc = FindingsDocument::new(vec![finding("a", Status::Fail)]);
        let text = serde_json::to_string(&doc).unwrap();
        let baseline = Baseline::parse("b.json", &text).unwrap();
        assert_eq!(baseline.len(), 1);
    }
}
