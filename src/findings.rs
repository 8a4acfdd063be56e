//! Findings: the outcome of one rule on one resource, their summary and the run's verdict.
//!
//! `trustcheck.findings/v1` (the JSON report) is a public contract: field names and meanings here
//! change only with a new format version.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use trustcheck_snapshot::Uid;

use crate::criteria;
use crate::severity::Severity;

/// The format tag of the JSON findings document.
pub const FINDINGS_FORMAT: &str = "trustcheck.findings/v1";

/// What a rule concluded about a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The rule applies and its requirement is not met.
    Fail,
    /// The rule could not be judged: a fact it needs was not collected, or evaluation failed.
    /// Never counted as a pass, and never accepted.
    Error,
    /// The requirement is not met, and a valid risk acceptance covers the finding (see
    /// [`crate::exceptions`]); [`Finding::acceptance`] says who accepted it, why and until when.
    /// It does not fail the run.
    Accepted,
    /// The rule applies and its requirement is met.
    Pass,
    /// The rule does not apply to this resource (its `when` part is false).
    NotApplicable,
}

impl Status {
    /// The snake_case name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Accepted => "accepted",
            Status::Pass => "pass",
            Status::NotApplicable => "not_applicable",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One rule's outcome on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's `@id`.
    pub rule: Arc<str>,
    /// The rule's `@title`.
    pub title: Arc<str>,
    /// The SOC 2 criteria the rule evidences.
    pub soc2: Arc<[String]>,
    /// The rule's `@severity`.
    pub severity: Severity,
    /// The resource judged (shared with the store's resource and the rule's other findings).
    pub resource: Arc<Uid>,
    /// The outcome.
    pub status: Status,
    /// The facts that decided it (or, for `error`, the reason).
    pub message: String,
    /// The rule's `@remediation`.
    pub remediation: Arc<str>,
    /// A stable id of (rule, resource): the same on every run, for baselines and code scanning.
    pub fingerprint: Fingerprint,
    /// The risk acceptance that covers this failure: in force (status `accepted`) or expired
    /// (status `fail`). Absent when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Arc<Acceptance>>,
}

/// A risk acceptance as echoed on the finding it covers (declared in the exceptions file, see
/// [`crate::exceptions`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// Why the risk is accepted.
    pub reason: String,
    /// Who owns the risk.
    pub owner: String,
    /// Who approved accepting it.
    pub approved_by: String,
    /// The last day it applies, UTC (`YYYY-MM-DD`); from the next day on it has expired.
    pub expires: String,
    /// A ticket or decision record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Whether it had expired at the time of the snapshot (the finding then stays `fail`).
    pub expired: bool,
    /// Whole days from the snapshot's date to `expires` (negative once expired).
    pub days_left: i64,
    /// Where it is declared: `file:line`.
    pub declared_at: String,
}

impl Acceptance {
    /// Whether it is in force and runs out within
    /// [`crate::exceptions::EXPIRING_SOON_DAYS`] days: reports call it out.
    pub fn expiring_soon(&self) -> bool {
        !self.expired && self.days_left <= crate::exceptions::EXPIRING_SOON_DAYS
    }
}

/// The stable fingerprint of (rule id, resource): the first 16 bytes of SHA-256, written
/// (serialized, displayed) as 32 lowercase hex digits. Held as bytes: a 100k-resource run holds
/// half a million of them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The 32 hex digits.
    pub fn to_hex(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One write of 32 digits (half a million fingerprints go through here in a big report).
        let digit = |n: u8| if n < 10 { b'0' + n } else { b'a' + (n - 10) };
        let mut out = [0u8; 32];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            if let [hi, lo] = pair {
                *hi = digit(b >> 4);
                *lo = digit(b & 0xf);
            }
        }
        // Only ASCII hex digits were written.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("a fingerprint is 32 hex digits, not `{}`", s.escape_debug());
        if s.len() != 32 {
            return Err(bad());
        }
        let mut bytes = [0u8; 16];
        // `from_str_radix` alone would take a sign (`+f`).
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        for (b, pair) in bytes.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| bad())?;
            *b = u8::from_str_radix(text, 16).map_err(|_| bad())?;
        }
        Ok(Self(bytes))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The [`Fingerprint`] of (rule id, resource).
pub fn fingerprint(rule: &str, resource: &Uid) -> Fingerprint {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(resource.type_name.as_bytes());
    h.update([0]);
    h.update(resource.id.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    for (out, b) in bytes.iter_mut().zip(digest.iter()) {
        *out = *b;
    }
    Fingerprint(bytes)
}

/// Sorts findings by (rule id, resource type, resource id): the one order every report uses.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| (a.rule.as_ref(), &a.resource).cmp(&(b.rule.as_ref(), &b.resource)));
}

/// Counts of findings by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Findings with status `pass`.
    pub pass: usize,
    /// Findings with status `fail`.
    pub fail: usize,
    /// Findings with status `error`.
    pub error: usize,
    /// Findings with status `not_applicable`.
    pub not_applicable: usize,
    /// Findings with status `accepted` (failures covered by a valid risk acceptance).
    #[serde(default)]
    pub accepted: usize,
}

impl Counts {
    /// Adds one finding of `status`.
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::Accepted => self.accepted += 1,
        }
    }

    /// All findings counted.
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.error + self.not_applicable + self.accepted
    }
}

/// The counts for one SOC 2 criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionCounts {
    /// The criterion id, e.g. `CC6.1`.
    pub id: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// Totals of a run, overall and per criterion (criteria in catalogue order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// All findings.
    pub total: usize,
    /// Overall counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// Counts per criterion; a finding of a rule with several criteria counts under each.
    pub criteria: Vec<CriterionCounts>,
}

impl Summary {
    /// Summarises findings.
    pub fn of(findings: &[Finding]) -> Self {
        let mut counts = Counts::default();
        let mut by: BTreeMap<(usize, String), Counts> = BTreeMap::new();
        for f in findings {
            counts.add(f.status);
            for c in f.soc2.iter() {
                by.entry((criteria::order(c), c.clone()))
                    .or_default()
                    .add(f.status);
            }
        }
        Summary {
            total: counts.total(),
            counts,
            criteria: by
                .into_iter()
                .map(|((_, id), counts)| CriterionCounts { id, counts })
                .collect(),
        }
    }
}

/// The `trustcheck.findings/v1` document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingsDocument {
    /// Always [`FINDINGS_FORMAT`].
    pub format: String,
    /// Totals.
    pub summary: Summary,
    /// Every finding, sorted by (rule, resource).
    pub findings: Vec<Finding>,
}

/// The `trustcheck.findings/v1` document over borrowed findings, for writing without a copy.
#[derive(Debug, Serialize)]
pub struct FindingsDocumentRef<'a> {
    /// Always [`FINDINGS_FORMAT`].
    pub format: &'static str,
    /// Totals.
    pub summary: Summary,
    /// Every finding, sorted by (rule, resource).
    pub findings: &'a [Finding],
}

impl<'a> FindingsDocumentRef<'a> {
    /// The document for sorted findings.
    pub fn new(findings: &'a [Finding]) -> Self {
        Self {
            format: FINDINGS_FORMAT,
            summary: Summary::of(findings),
            findings,
        }
    }
}

impl FindingsDocument {
    /// The document for sorted findings.
    pub fn new(findings: Vec<Finding>) -> Self {
        Self {
            format: FINDINGS_FORMAT.to_string(),
            summary: Summary::of(&findings),
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, id: &str, status: Status, severity: Severity) -> Finding {
        let resource = Uid::new("Aws::IamUser", id);
        Finding {
            rule: rule.into(),
            title: "t".into(),
            soc2: vec!["CC8.1".to_string(), "CC6.1".to_string()].into(),
            severity,
            fingerprint: fingerprint(rule, &resource),
            acceptance: None,
            resource: resource.into(),
            status,
            message: String::new(),
            remediation: "r".into(),
        }
    }

    #[test]
    fn fingerprint_is_stable_and_distinguishes_resources() {
        let r = Uid::new("Aws::IamUser", "a");
        assert_eq!(fingerprint("x", &r), fingerprint("x", &r.clone()));
        assert_eq!(fingerprint("x", &r).to_hex().len(), 32);
        let other = Uid::new("Aws::IamUser", "b");
        assert_ne!(fingerprint("x", &r), fingerprint("x", &other));
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(fingerprint("ab", &other), fingerprint("a", &r));
    }

    #[test]
    fn fingerprint_is_written_and_read_as_32_hex_digits() {
        // The value findings files and baselines have always carried for this (rule, resource).
        let f = fingerprint("aws-iam-user-mfa", &Uid::new("Aws::IamUser", "alice"));
        let hex = f.to_hex();
        assert_eq!(hex.len(), 32);
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<Fingerprint>(&json).unwrap(), f);
        for bad in [
            "\"+f+f+f+f+f+f+f+f+f+f+f+f+f+f+f+f\"",
            "\"\"",
            "\"abc\"",
            "\"zz0123456789abcdef0123456789abcd\"",
            "\"é123456789abcdef0123456789abcd\"",
            "7",
        ] {
            assert!(serde_json::from_str::<Fingerprint>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn summary_counts_each_criterion_in_catalogue_order() {
        let s = Summary::of(&[
            finding("a", "1", Status::Fail, Severity::Low),
            finding("a", "2", Status::Pass, Severity::Low),
        ]);
        assert_eq!(s.total, 2);
        assert_eq!(s.criteria[0].id, "CC6.1");
        assert_eq!(s.criteria[1].id, "CC8.1");
        assert_eq!(s.criteria[1].counts.fail, 1);
    }

    #[test]
    fn resource_display_escapes_like_cedar() {
        let r = Uid::new("Github::Repo", "acme/\"x\"");
        assert_eq!(r.to_string(), r#"Github::Repo::"acme/\"x\"""#);
    }
}
