//! Reports: every output format is rendered from one evaluation's findings.
//!
//! Renderers are pure functions from a [`Report`] to text; they never decide anything (the
//! verdict is computed once, by the caller, from every finding) and never print or write files.

pub mod annotations;
pub mod csv;
pub mod drift;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod ocsf;
pub mod sarif;
pub mod table;

use std::path::PathBuf;

use crate::baseline::Comparison;
use crate::drift::StatusChange;
use crate::entities::LoadedSource;
use crate::findings::{Acceptance, Finding, Status, Uid};
use crate::gate::{Gate, Verdict};
use crate::rules::RuleSet;
use crate::severity::Severity;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable report grouped by SOC 2 criterion, failures first.
    Table,
    /// `trustcheck.findings/v1` JSON: the machine contract.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning: failures, errors, and accepted ones as suppressed.
    Sarif,
    /// JUnit XML for CI test reporters: a suite per SOC 2 criterion.
    Junit,
    /// GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY` and pull request comments.
    Markdown,
    /// CSV, one row per finding, for spreadsheets and auditors.
    Csv,
    /// OCSF Compliance Finding events (class 2003), for Security Hub, Prowler and data lakes.
    Ocsf,
}

impl Format {
    /// The lowercase name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Ocsf => "ocsf",
        }
    }
}

/// One requested report: a format and where to write it (`None` = stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// The format.
    pub format: Format,
    /// The file, or stdout.
    pub path: Option<PathBuf>,
}

impl std::str::FromStr for ReportSpec {
    type Err = String;

    /// Parses `FORMAT` or `FORMAT=PATH`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, path) = match s.split_once('=') {
            Some((name, "")) => {
                return Err(format!("`{name}=` names no file; use `{name}` for stdout"))
            }
            Some((name, path)) => (name, Some(PathBuf::from(path))),
            None => (s, None),
        };
        let format = <Format as clap::ValueEnum>::from_str(name, true).map_err(|_| {
            format!("unknown report format `{name}`; expected table, json, sarif, junit, markdown, csv or ocsf")
        })?;
        Ok(ReportSpec { format, path })
    }
}

/// Everything a renderer may use.
pub struct Report<'a> {
    /// The findings to report (at or above `--min-severity`), sorted by (rule, resource).
    pub findings: &'a [Finding],
    /// The rules that produced them.
    pub rules: &'a RuleSet,
    /// The snapshots judged.
    pub snapshots: &'a [LoadedSource],
    /// What fails the run (`--fail-on`, `--fail-on-new`).
    pub gate: Gate<'a>,
    /// The run's verdict, computed from every finding (also those not reported).
    pub verdict: Verdict,
    /// Extras beyond the plain findings (baseline, policy impact, filters).
    pub context: Context<'a>,
}

/// Optional parts of a report; `Context::default()` is a plain run.
#[derive(Default, Clone, Copy)]
pub struct Context<'a> {
    /// The comparison with `--baseline`, if one was given.
    pub baseline: Option<&'a Comparison>,
    /// `--min-severity`, when it hides findings.
    pub min_severity: Option<Severity>,
    /// Findings below `--min-severity`, evaluated but not listed.
    pub hidden: usize,
    /// `--compare-policies`: findings whose status the rule change alters.
    pub policy_impact: Option<&'a [StatusChange]>,
    /// The exceptions file applied, if any (its acceptances are echoed on the findings).
    pub exceptions_file: Option<&'a str>,
    /// Acceptances of that file that cover no failing finding: (line, rule, resource).
    pub stale_acceptances: &'a [(usize, String, String)],
    /// `--sarif-category`: the prefix of SARIF `automationDetails.id` (default `trustcheck`).
    pub sarif_category: Option<&'a str>,
}

/// Findings grouped by SOC 2 criterion in catalogue order; a finding of a rule with several
/// criteria appears under each.
pub fn by_criterion(
    findings: &[Finding],
) -> std::collections::BTreeMap<(usize, &str), Vec<&Finding>> {
    let mut groups: std::collections::BTreeMap<(usize, &str), Vec<&Finding>> = Default::default();
    for f in findings {
        for c in f.soc2.iter() {
            groups
                .entry((crate::criteria::order(c), c.as_str()))
                .or_default()
                .push(f);
        }
    }
    groups
}

impl<'a> Report<'a> {
    /// With a baseline: the failures in `state` (new or unchanged).
    pub fn baseline_failures(&self, state: crate::baseline::BaselineState) -> usize {
        self.context.baseline.map_or(0, |cmp| {
            self.findings
                .iter()
                .filter(|f| f.status == Status::Fail && cmp.state(f) == Some(state))
                .count()
        })
    }

    /// Whether the run involves risk acceptances: then the counts show `accepted` too (a run
    /// without an exceptions file keeps its familiar shape).
    pub fn shows_acceptances(&self) -> bool {
        self.context.exceptions_file.is_some()
            || self.findings.iter().any(|f| f.acceptance.is_some())
    }

    /// Every acceptance echoed on a reported finding, in force or expired, soonest expiry first
    /// (expired ones lead: they no longer cover anything and need a decision now).
    pub fn acceptances(&self) -> Acceptances<'a> {
        let mut listed: Vec<(&'a Finding, &'a Acceptance)> = self
            .findings
            .iter()
            .filter_map(|f| f.acceptance.as_deref().map(|a| (f, a)))
            .collect();
        // Stable: equal expiries keep the (rule, resource) order.
        listed.sort_by_key(|(_, a)| a.days_left);
        let expired = listed.iter().filter(|(_, a)| a.expired).count();
        let soon = listed.iter().filter(|(_, a)| a.expiring_soon()).count();
        Acceptances {
            listed,
            expired,
            soon,
        }
    }

    /// Whether a finding counts toward the verdict's failures: a failure at or above `--fail-on`
    /// (and, with `--fail-on-new`, new relative to the baseline).
    pub fn gates(&self, f: &Finding) -> bool {
        self.gate.fails(f)
    }

    /// Every (provider, scope) read by the snapshots, sorted and without duplicates.
    pub fn scopes(&self) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = self
            .snapshots
            .iter()
            .flat_map(|s| &s.sources)
            .map(|s| Scope {
                provider: s.provider.clone(),
                scope: s.scope.clone(),
            })
            .collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// The scope a resource belongs to; see [`scope_of`].
    pub fn scope_of(&self, resource: &Uid) -> Scope {
        scope_of(resource, &self.scopes())
    }
}

/// The acceptances of a report, as [`Report::acceptances`] lists them.
pub struct Acceptances<'a> {
    /// Each with its finding, soonest expiry first.
    pub listed: Vec<(&'a Finding, &'a Acceptance)>,
    /// How many had expired.
    pub expired: usize,
    /// How many are in force and expire within 30 days.
    pub soon: usize,
}

/// A provider and what it read: an AWS account, a GitHub org.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    /// `aws`, `github`, …
    pub provider: String,
    /// Account id, org login, … (`*` when no source matches).
    pub scope: String,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.provider, self.scope)
    }
}

/// The scope of a resource among the snapshots' scopes. The provider is the built-in one whose
/// namespace the entity type is in (`Aws::IamUser` → `aws`); for a team's own facts, the
/// namespace lowercased, else the only provider no built-in one claims. Among that provider's
/// scopes, the one that owns the id (the provider's rule: an ARN's account field, a repository
/// under its org), else the provider's only scope, else `*`.
pub fn scope_of(resource: &Uid, scopes: &[Scope]) -> Scope {
    let namespace = resource.namespace();
    let builtin = crate::providers::by_namespace(namespace);
    let provider = match builtin {
        Some(p) => p.name.to_string(),
        None => {
            let lower = namespace.to_lowercase();
            let foreign: Vec<&str> = scopes
                .iter()
                .map(|s| s.provider.as_str())
                .filter(|p| crate::providers::by_name(p).is_none())
                .collect();
            match foreign.as_slice() {
                _ if foreign.contains(&lower.as_str()) => lower,
                [first, rest @ ..] if rest.iter().all(|p| p == first) => first.to_string(),
                _ => lower,
            }
        }
    };
    let owns = builtin.map_or(
        trustcheck_snapshot::provider::owns_by_prefix_or_arn as fn(&str, &str) -> bool,
        |p| p.owns,
    );
    let candidates: Vec<&Scope> = scopes.iter().filter(|s| s.provider == provider).collect();
    let named = candidates.iter().find(|s| owns(&resource.id, &s.scope));
    match (named, candidates.as_slice()) {
        (Some(s), _) => (*s).clone(),
        (None, [only]) => (*only).clone(),
        _ => Scope {
            provider,
            scope: "*".to_string(),
        },
    }
}

/// The one-line verdict shared by the human-readable formats, e.g. `FAILED: 3 failures at or
/// above `high` (…)`. Counts are of the reported findings; the verdict is of all of them.
pub fn verdict_sentence(report: &Report<'_>) -> String {
    let c = crate::findings::Summary::of(report.findings).counts;
    let gating = report.findings.iter().filter(|f| report.gates(f)).count();
    let new = if report.gate.new_only.is_some() {
        " new"
    } else {
        ""
    };
    let accepted = match c.accepted {
        0 => String::new(),
        n => format!("{n} accepted, "),
    };
    let mut s = match report.verdict {
        Verdict::Clean if c.fail > 0 && !new.is_empty() => format!(
            "PASSED: no new failure at or above `{}` ({} failed, each unchanged from the baseline or below `{}`; {} passed)",
            report.gate.fail_on, c.fail, report.gate.fail_on, c.pass
        ),
        Verdict::Clean if c.fail > 0 => format!(
            "PASSED: no failure at or above `{}` ({} lower-severity failures, {} passed)",
            report.gate.fail_on, c.fail, c.pass
        ),
        Verdict::Clean if c.accepted > 0 => format!(
            "PASSED: {} passed, {} accepted (covered by risk acceptances), nothing else failed",
            c.pass, c.accepted
        ),
        Verdict::Clean => format!("PASSED: {} passed, nothing failed", c.pass),
        Verdict::Failed => format!(
            "FAILED: {gating}{new} failures at or above `{}` ({} failed, {accepted}{} passed, {} not applicable)",
            report.gate.fail_on, c.fail, c.pass, c.not_applicable
        ),
        Verdict::Untrustworthy => format!(
            "INCOMPLETE: {} findings could not be judged (errors are never a pass); {} failed, {} passed",
            c.error, c.fail, c.pass
        ),
    };
    if let (Some(min), hidden @ 1..) = (report.context.min_severity, report.context.hidden) {
        s.push_str(&format!(
            "; {hidden} findings below `{min}` are not listed but count toward the verdict"
        ));
    }
    s
}

/// Presentation options for human-readable formats.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
    /// Wrap tables to this many columns.
    pub width: u16,
    /// List passing and not-applicable findings too, not just their counts.
    pub show_passed: bool,
}

/// Renders a report in a format.
pub fn render(format: Format, report: &Report<'_>, style: Style) -> String {
    match format {
        Format::Table => table::render(report, style),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report),
        Format::Csv => csv::render(report),
        Format::Ocsf => ocsf::render(report),
    }
}

#[cfg(test)]
mod tests {

    /// Hostile text anywhere a collected string can reach a finding, through every format:
    /// terminals and logs see no control sequence and no workflow command, Markdown has no
    /// markup from values, XML and JSON stay well-formed.
    mod hostile {
        use super::super::fixtures;
        use super::*;
        use crate::findings::Status;
        use crate::untrusted::is_unsafe;
        use proptest::prelude::*;
        use std::sync::OnceLock;

        fn rules() -> &'static RuleSet {
            static RULES: OnceLock<RuleSet> = OnceLock::new();
            RULES.get_or_init(fixtures::rules)
        }

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                "[\\x00-\\x1f\\x7f-\\x9f\u{202a}-\u{202e}\u{200b}:`|<>@\\[\\]()=+ a-z]{0,24}",
                proptest::sample::select(crate::untrusted::HOSTILE.to_vec()).prop_map(String::from),
            ]
        }

        fn inert_lines(what: &str, out: &str) -> Result<(), TestCaseError> {
            prop_assert!(
                !out.chars().any(|c| is_unsafe(c) && c != '\n'),
                "{what}: raw control character in {out:?}"
            );
            for line in out.lines() {
                let line = line.trim_start();
                prop_assert!(
                    !line.starts_with("::")
                        || [
                            "::group::",
                            "::endgroup::",
                            "::error title=",
                            "::warning title=",
                            "::notice title="
                        ]
                        .iter()
                        .any(|p| line.starts_with(p)),
                    "{what}: workflow command from a value: {line}"
                );
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            #[test]
            fn every_renderer_keeps_hostile_values_inert(
                name in text(), message in text(), owner in text(), fail in any::<bool>()
            ) {
                let status = if fail { Status::Fail } else { Status::Accepted };
                let mut acceptance = fixtures::acceptance("2027-01-01", 40);
                acceptance.owner = owner;
                let mut f = fixtures::finding(&name, status, (!fail).then_some(acceptance));
                f.message = message;
                let findings = vec![f];
                let report = Report {
                    findings: &findings,
                    rules: rules(),
                    snapshots: &[],
                    gate: crate::gate::Gate::new(Severity::Low),
                    verdict: crate::gate::Verdict::Failed,
                    context: Context::default(),
                };
                let style = Style { color: false, width: 100, show_passed: true };
                for format in [Format::Table, Format::Csv, Format::Markdown, Format::Junit] {
                    inert_lines(format.as_str(), &render(format, &report, style))?;
                }
                inert_lines("annotations", &annotations::render(&report))?;
                for format in [Format::Json, Format::Sarif, Format::Ocsf] {
                    let out = render(format, &report, style);
                    inert_lines(format.as_str(), &out)?;
                    prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "{}", format.as_str());
                }
                let xml = render(Format::Junit, &report, style);
                prop_assert!(roxmltree::Document::parse(&xml).is_ok(), "{xml}");
                let md = render(Format::Markdown, &report, style);
                for event in pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES) {
                    match event {
                        // The report's own `<details>`/`<summary>` folding: no value inside.
                        pulldown_cmark::Event::Html(h) | pulldown_cmark::Event::InlineHtml(h) => {
                            let mut rest = h.to_string();
                            for tag in ["<details>", "</details>", "<summary>", "</summary>", "<code>", "</code>"] {
                                rest = rest.replace(tag, "");
                            }
                            prop_assert!(!rest.contains('<'), "HTML from a value: {h}\n{md}");
                        }
                        pulldown_cmark::Event::Start(pulldown_cmark::Tag::Link { .. }) => {
                            prop_assert!(false, "a link from a value\n{md}");
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    use super::*;

    #[test]
    fn report_specs_parse_format_and_optional_path() {
        let spec: ReportSpec = "sarif=out/x.sarif".parse().unwrap();
        assert_eq!(spec.format, Format::Sarif);
        assert_eq!(spec.path, Some(PathBuf::from("out/x.sarif")));
        let spec: ReportSpec = "markdown".parse().unwrap();
        assert_eq!((spec.format, spec.path), (Format::Markdown, None));
        assert!("xml=a".parse::<ReportSpec>().unwrap_err().contains("`xml`"));
        assert!("json=".parse::<ReportSpec>().is_err());
    }

    #[test]
    fn scopes_follow_provider_and_id() {
        let scopes = vec![
            Scope {
                provider: "aws".into(),
                scope: "111111111111".into(),
            },
            Scope {
                provider: "aws".into(),
                scope: "222222222222".into(),
            },
            Scope {
                provider: "github".into(),
                scope: "acme".into(),
            },
        ];
        let r = |t: &str, id: &str| Uid {
            type_name: t.into(),
            id: id.into(),
        };
        assert_eq!(
            scope_of(
                &r("Aws::IamUser", "arn:aws:iam::222222222222:user/a"),
                &scopes
            )
            .scope,
            "222222222222"
        );
        assert_eq!(
            scope_of(&r("Github::Branch", "acme/api:main"), &scopes).scope,
            "acme"
        );
        assert_eq!(
            scope_of(&r("Github::Member", "other/*"), &scopes).scope,
            "acme"
        );
        assert_eq!(scope_of(&r("Aws::Account", "nothing"), &scopes).scope, "*");
        // A team's own facts: the provider no built-in one claims, whatever its name.
        let mut with_mdm = scopes.clone();
        with_mdm.push(Scope {
            provider: "jamf-export".into(),
            scope: "acme-laptops".into(),
        });
        let laptop = scope_of(&r("Mdm::Laptop", "C02FQ1AAMD6T"), &with_mdm);
        assert_eq!(
            (laptop.provider.as_str(), laptop.scope.as_str()),
            ("jamf-export", "acme-laptops")
        );
    }
}
