//! One run's evidence: the bundle `check --evidence` writes, and the views of it that `verify`
//! and `report` read back.
//!
//! A bundle is one JSON document (`trustcheck.evidence-bundle/v1`) compressed with zstd. Its small
//! fields come first and the snapshots last, so a reader that needs only the findings skips the
//! largest part without keeping it.

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::diagnostics::SourceFile;
use crate::findings::{Acceptance, Counts, Finding, Status};
use crate::rules::RuleSet;
use crate::severity::Severity;
use crate::snapshot::Source;

use super::{sha256_hex, EvidenceError};

/// The format tag of a bundle.
pub const BUNDLE_FORMAT: &str = "trustcheck.evidence-bundle/v1";

/// zstd level: the default level compresses snapshots ~10× at a speed that never slows a run.
const ZSTD_LEVEL: i32 = 3;

/// A file used by the run, kept whole with its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Its path as the run named it (`policies/aws/….cedar` for shipped rules).
    pub name: String,
    /// Hex SHA-256 of `text`.
    pub sha256: String,
    /// The whole text.
    pub text: String,
}

impl FileRecord {
    /// Records a file's text and hash.
    pub fn of(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            name: name.into(),
            sha256: sha256_hex(text.as_bytes()),
            text,
        }
    }

    fn of_source(file: &SourceFile) -> Self {
        Self::of(file.name.as_ref(), file.text.as_ref())
    }
}

/// A rule as it was when the run judged: metadata, and its file's text and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRecord {
    /// `@id`.
    pub id: String,
    /// `@title`.
    pub title: String,
    /// `@soc2` criteria.
    pub soc2: Vec<String>,
    /// Severity in effect (after `[severity]` overrides).
    pub severity: Severity,
    /// The rule file.
    pub file: FileRecord,
}

/// The rule metadata the period report needs (a [`RuleRecord`] without its text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    /// `@id`.
    pub id: String,
    /// `@title`.
    pub title: String,
    /// `@soc2` criteria.
    pub soc2: Vec<String>,
    /// Severity in effect.
    pub severity: Severity,
}

/// One collection as the snapshot recorded it: who read what, when, and how much was missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// `aws`, `github`, …
    pub provider: String,
    /// The account id, org login, …
    pub scope: String,
    /// The collecting identity (caller ARN, token owner), when the provider reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// When it was read.
    pub collected_at: String,
    /// How many facts could not be read.
    pub uncollected: usize,
}

impl From<&Source> for SourceRecord {
    fn from(s: &Source) -> Self {
        Self {
            provider: s.provider.clone(),
            scope: s.scope.clone(),
            identity: s.identity.clone(),
            collected_at: s.collected_at.clone(),
            uncollected: s.errors.len(),
        }
    }
}

/// Where the run ran, when it ran in CI. Only these named, non-secret variables are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiContext {
    /// `github-actions`.
    pub system: String,
    /// The run's page (`$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    /// `GITHUB_REPOSITORY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// `GITHUB_SHA`: the commit of the workflow (and of the rules it loaded from the repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `GITHUB_REF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// `GITHUB_ACTOR`: who (or which schedule's owner) started the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// `GITHUB_WORKFLOW`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// `GITHUB_EVENT_NAME` (`schedule`, `workflow_dispatch`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

impl CiContext {
    /// The GitHub Actions context from `var` (the process environment in the binary), or `None`
    /// outside GitHub Actions. Tokens (`GITHUB_TOKEN`, `ACTIONS_*`) are never read.
    pub fn from_github_env(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        if var("GITHUB_ACTIONS").as_deref() != Some("true") {
            return None;
        }
        let repository = var("GITHUB_REPOSITORY");
        let run_url = match (var("GITHUB_SERVER_URL"), &repository, var("GITHUB_RUN_ID")) {
            (Some(server), Some(repo), Some(id)) => {
                let attempt = var("GITHUB_RUN_ATTEMPT")
                    .map(|a| format!("/attempts/{a}"))
                    .unwrap_or_default();
                Some(format!("{server}/{repo}/actions/runs/{id}{attempt}"))
            }
            _ => None,
        };
        Some(Self {
            system: "github-actions".into(),
            run_url,
            repository,
            commit: var("GITHUB_SHA"),
            git_ref: var("GITHUB_REF"),
            actor: var("GITHUB_ACTOR"),
            workflow: var("GITHUB_WORKFLOW"),
            event: var("GITHUB_EVENT_NAME"),
        })
    }
}

/// One finding as recorded: the resource and status of every finding, with the message of those
/// that did not pass (a passing finding's message is re-derived from the snapshot and rules in
/// the same bundle by `trustcheck check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFinding {
    /// The resource, `Type::"id"`.
    pub resource: String,
    /// The outcome.
    pub status: Status,
    /// Why (fail, error, accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The risk acceptance that covers it (in force or expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Acceptance>,
}

/// One rule's outcome in a run: counts by status and every finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// The rule id.
    pub rule: String,
    /// Findings by status.
    pub counts: Counts,
    /// Every finding of the rule, sorted by resource.
    pub findings: Vec<RecordedFinding>,
}

/// What `check` hands over to be recorded.
pub struct RunInput<'a> {
    /// The run's time: the latest `collected_at` of its snapshots (when collection failed
    /// entirely: the time it was attempted).
    pub collected_at: String,
    /// The snapshots as read (or as collected).
    pub snapshots: Vec<FileRecord>,
    /// Every source of every snapshot.
    pub sources: Vec<SourceRecord>,
    /// Entities by type: the population judged.
    pub population: BTreeMap<String, u64>,
    /// The rules in effect.
    pub rules: &'a RuleSet,
    /// The schema fragments in effect.
    pub schema_fragments: &'a [SourceFile],
    /// The configuration file, when one was read.
    pub config: Option<&'a SourceFile>,
    /// The exceptions file, when one was read.
    pub exceptions: Option<&'a SourceFile>,
    /// The findings, exceptions applied.
    pub findings: &'a [Finding],
    /// Why the run is incomplete (a collection or snapshot that failed); empty when it is not.
    pub incomplete_reasons: Vec<String>,
    /// Where it ran.
    pub ci: Option<CiContext>,
}

/// One run's bundle, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The id of the ledger it belongs to.
    pub ledger: String,
    /// 1 for the first bundle of the ledger, then +1.
    pub sequence: u64,
    /// Hex SHA-256 of the previous bundle's file (`None` for the first).
    pub previous: Option<String>,
    /// When the facts were true: the snapshots' `collected_at`.
    pub collected_at: String,
    /// When the bundle was written.
    pub written_at: String,
    /// The trustcheck version that wrote it.
    pub trustcheck_version: String,
    /// Collection failed: the run's findings do not cover its whole population.
    pub incomplete: bool,
    /// Why it is incomplete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete_reasons: Vec<String>,
    /// Where it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<CiContext>,
    /// Who collected what.
    pub sources: Vec<SourceRecord>,
    /// Entities by type.
    pub population: BTreeMap<String, u64>,
    /// The rules in effect, with their texts.
    pub rules: Vec<RuleRecord>,
    /// The schema fragments in effect.
    pub schemas: Vec<FileRecord>,
    /// The configuration file used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<FileRecord>,
    /// The exceptions file used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<FileRecord>,
    /// Every finding, by rule.
    pub results: Vec<RuleResult>,
    /// The snapshots, whole (last: the largest part).
    pub snapshots: Vec<FileRecord>,
}

impl Bundle {
    /// The bundle of a run, placed in a ledger after the bundle whose hash is `previous`.
    pub fn new(
        run: RunInput<'_>,
        ledger: &str,
        sequence: u64,
        previous: Option<String>,
        written_at: String,
    ) -> Self {
        let rules = run
            .rules
            .rules()
            .iter()
            .map(|r| RuleRecord {
                id: r.id.to_string(),
                title: r.title.to_string(),
                soc2: r.soc2.to_vec(),
                severity: r.severity,
                file: FileRecord::of_source(&r.file),
            })
            .collect();
        Self {
            format: BUNDLE_FORMAT.into(),
            ledger: ledger.into(),
            sequence,
            previous,
            collected_at: run.collected_at,
            written_at,
            trustcheck_version: env!("CARGO_PKG_VERSION").into(),
            incomplete: !run.incomplete_reasons.is_empty(),
            incomplete_reasons: run.incomplete_reasons,
            ci: run.ci,
            sources: run.sources,
            population: run.population,
            rules,
            schemas: run
                .schema_fragments
                .iter()
                .map(FileRecord::of_source)
                .collect(),
            config: run.config.map(FileRecord::of_source),
            exceptions: run.exceptions.map(FileRecord::of_source),
            results: results(run.rules, run.findings),
            snapshots: run.snapshots,
        }
    }

    /// The compressed bytes of the bundle file.
    pub fn encode(&self) -> std::io::Result<Vec<u8>> {
        let mut encoder = zstd::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
        serde_json::to_writer(&mut encoder, self)?;
        encoder.flush()?;
        encoder.finish()
    }
}

/// Findings grouped by rule, every rule in effect listed (a rule that judged nothing has none).
fn results(rules: &RuleSet, findings: &[Finding]) -> Vec<RuleResult> {
    let mut by_rule: BTreeMap<&str, RuleResult> = rules
        .rules()
        .iter()
        .map(|r| {
            (
                r.id.as_ref(),
                RuleResult {
                    rule: r.id.to_string(),
                    counts: Counts::default(),
                    findings: Vec::new(),
                },
            )
        })
        .collect();
    for f in findings {
        let Some(result) = by_rule.get_mut(f.rule.as_ref()) else {
            continue;
        };
        match f.status {
            Status::Pass => result.counts.pass += 1,
            Status::Fail => result.counts.fail += 1,
            Status::Error => result.counts.error += 1,
            Status::NotApplicable => result.counts.not_applicable += 1,
            Status::Accepted => result.counts.accepted += 1,
        }
        let judged = matches!(f.status, Status::Pass | Status::NotApplicable);
        result.findings.push(RecordedFinding {
            resource: f.resource.to_string(),
            status: f.status,
            message: (!judged).then(|| f.message.clone()),
            acceptance: f.acceptance.as_deref().cloned(),
        });
    }
    by_rule.into_values().collect()
}

/// The header of a bundle: what `verify` checks against the index and the chain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BundleSummary {
    /// The format tag.
    pub format: String,
    /// The ledger id.
    pub ledger: String,
    /// Position in the ledger.
    pub sequence: u64,
    /// Hash of the previous bundle.
    pub previous: Option<String>,
    /// Run time.
    pub collected_at: String,
    /// Written time.
    pub written_at: String,
    /// Collection failed.
    pub incomplete: bool,
    /// Who collected what.
    pub sources: Vec<SourceRecord>,
}

/// What the period report reads of a bundle: run time, population and findings (no texts).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BundleResults {
    /// The format tag.
    pub format: String,
    /// Position in the ledger.
    pub sequence: u64,
    /// Run time.
    pub collected_at: String,
    /// Collection failed.
    pub incomplete: bool,
    /// Why.
    #[serde(default)]
    pub incomplete_reasons: Vec<String>,
    /// Entities by type.
    pub population: BTreeMap<String, u64>,
    /// Rules in effect.
    pub rules: Vec<RuleMeta>,
    /// Findings by rule.
    pub results: Vec<RuleResult>,
}

/// A view of a bundle that carries its format tag, checked when it is decoded.
pub trait Tagged {
    /// The `format` field read.
    fn format(&self) -> &str;
}

impl Tagged for Bundle {
    fn format(&self) -> &str {
        &self.format
    }
}

impl Tagged for BundleSummary {
    fn format(&self) -> &str {
        &self.format
    }
}

impl Tagged for BundleResults {
    fn format(&self) -> &str {
        &self.format
    }
}

/// Decodes a bundle file's bytes into `T` (a full [`Bundle`] or one of its views), checking
/// the format tag.
pub fn decode<T: serde::de::DeserializeOwned + Tagged>(
    path: &str,
    bytes: &[u8],
) -> Result<T, EvidenceError> {
    let bad = |message: String| EvidenceError::BadBundle {
        path: path.to_string(),
        message,
    };
    let json = zstd::decode_all(bytes).map_err(|e| bad(format!("not zstd data ({e})")))?;
    let value: T = serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?;
    if value.format() != BUNDLE_FORMAT {
        return Err(bad(format!(
            "format `{}`, expected `{BUNDLE_FORMAT}`",
            value.format()
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ci_context_names_the_run_and_never_reads_a_token() {
        let env = |k: &str| {
            match k {
                "GITHUB_ACTIONS" => Some("true"),
                "GITHUB_SERVER_URL" => Some("https://github.com"),
                "GITHUB_REPOSITORY" => Some("acme/compliance"),
                "GITHUB_RUN_ID" => Some("42"),
                "GITHUB_SHA" => Some("abc123"),
                "GITHUB_ACTOR" => Some("nightly-bot"),
                "GITHUB_TOKEN" => panic!("the token must never be read"),
                _ => None,
            }
            .map(String::from)
        };
        let ci = CiContext::from_github_env(env).unwrap();
        assert_eq!(
            ci.run_url.as_deref(),
            Some("https://github.com/acme/compliance/actions/runs/42")
        );
        assert_eq!(ci.actor.as_deref(), Some("nightly-bot"));
        assert!(CiContext::from_github_env(|_| None).is_none());
    }
}
