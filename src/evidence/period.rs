//! The period model: what every rule showed over the runs of a period, built by streaming the
//! ledger one bundle at a time from the findings the bundles recorded (no rule is evaluated).
//!
//! Transition tracking: a (rule, resource) whose finding is `fail` or `accepted` opens an
//! **exception window**; the window stays open while the finding keeps failing or cannot be
//! judged (`error` proves nothing either way), and closes at the first complete run in which
//! the rule judged it passing, not applicable, or no longer found the resource. A resource that
//! fails again later opens a new window.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use time::OffsetDateTime;

use crate::criteria;
use crate::findings::{Counts, Status};
use crate::severity::Severity;

use super::bundle::{decode, BundleResults, RecordedFinding};
use super::ledger::Ledger;
use super::verify::{gaps, Gap, Options, RunRef};
use super::{sha256_hex, times, EvidenceError};

/// The format tag of the JSON period report.
pub const PERIOD_FORMAT: &str = "trustcheck.evidence-period/v1";

/// What one rule showed in one run: a cell of the period picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// Every resource passed (or the rule applied to none).
    Held,
    /// At least one resource failed.
    Failed,
    /// Failures, all covered by risk acceptances in force.
    Accepted,
    /// Something could not be judged (an uncollected fact, a failed collection), nothing failed.
    CouldNotJudge,
    /// The rule was not in effect in that run.
    NoRun,
}

impl Cell {
    /// The word reports print.
    pub fn word(self) -> &'static str {
        match self {
            Cell::Held => "held",
            Cell::Failed => "failed",
            Cell::Accepted => "accepted",
            Cell::CouldNotJudge => "could not judge",
            Cell::NoRun => "no run",
        }
    }
}

/// One run of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Its sequence number in the ledger.
    pub sequence: u64,
    /// When its facts were true.
    pub collected_at: String,
    /// Hash of its bundle.
    pub sha256: String,
    /// Collection failed.
    pub incomplete: bool,
    /// Why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete_reasons: Vec<String>,
    /// Entities by type: the population judged.
    pub population: BTreeMap<String, u64>,
    /// Findings by status.
    pub counts: Counts,
}

/// A stretch of runs in which a resource failed a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// The resource, `Type::"id"`.
    pub resource: String,
    /// The first run in which it failed.
    pub first_failed: RunRef,
    /// The last run in which it failed.
    pub last_failed: RunRef,
    /// The run that showed it fixed; `None` while still open at the period's end.
    pub fixed_by: Option<RunRef>,
    /// It was already failing in the period's first run (it may have started before).
    pub open_at_start: bool,
    /// From the first failing run to the fixing run (or the period's end), for people.
    pub duration: String,
    /// The same in seconds.
    pub duration_seconds: i64,
    /// Runs in which it failed.
    pub failed_runs: usize,
    /// Runs in which it failed under a risk acceptance in force.
    pub accepted_runs: usize,
    /// Runs in which it could not be judged while the window was open.
    pub unjudged_runs: usize,
}

/// A run in which a rule could not judge some resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unjudged {
    /// The run.
    pub run: RunRef,
    /// How many resources.
    pub resources: usize,
    /// The first reason.
    pub reason: String,
}

/// A risk acceptance seen in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptanceSeen {
    /// The rule.
    pub rule: String,
    /// The resource.
    pub resource: String,
    /// Why.
    pub reason: String,
    /// Who owns the risk.
    pub owner: String,
    /// Who approved it.
    pub approved_by: String,
    /// Last day it applies.
    pub expires: String,
    /// Ticket, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Runs in which it covered the failure.
    pub runs_in_force: usize,
    /// Runs in which it had expired (the finding failed).
    pub runs_expired: usize,
}

/// One rule over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleReport {
    /// `@id`.
    pub id: String,
    /// `@title` (as of its last run in the period).
    pub title: String,
    /// Severity in effect (as of its last run).
    pub severity: Severity,
    /// Criteria.
    pub soc2: Vec<String>,
    /// Runs in which the rule was in effect.
    pub runs: usize,
    /// Runs in which it held.
    pub held: usize,
    /// Runs in which something failed.
    pub failed: usize,
    /// Runs in which every failure was accepted.
    pub accepted: usize,
    /// Runs in which something could not be judged and nothing failed.
    pub could_not_judge: usize,
    /// One cell per run of the period, in order.
    pub cells: Vec<Cell>,
    /// Exception windows, by first failing run then resource.
    pub windows: Vec<Window>,
    /// Runs in which it could not judge every resource.
    pub unjudged: Vec<Unjudged>,
}

impl RuleReport {
    /// Share of its runs in which the rule held, in per cent (one decimal), `None` without runs.
    pub fn held_percent(&self) -> Option<f64> {
        (self.runs > 0).then(|| (self.held as f64 * 1000.0 / self.runs as f64).round() / 10.0)
    }
}

/// A criterion and the rules that evidence it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionReport {
    /// `CC6.1`.
    pub id: String,
    /// Its title from the catalogue.
    pub title: String,
    /// Rule ids.
    pub rules: Vec<String>,
}

/// The period report's data: what every renderer prints.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodReport {
    /// Always [`PERIOD_FORMAT`].
    pub format: &'static str,
    /// The ledger id.
    pub ledger: String,
    /// The period's start.
    pub from: String,
    /// The period's end (exclusive).
    pub to: String,
    /// The expected interval between runs.
    pub cadence: String,
    /// Hash of the ledger's last bundle (verified).
    pub head: Option<String>,
    /// The runs of the period.
    pub runs: Vec<RunSummary>,
    /// Cadence gaps in the period.
    pub gaps: Vec<Gap>,
    /// Criteria in catalogue order, each with its rules.
    pub criteria: Vec<CriterionReport>,
    /// Every rule in effect in some run of the period, by id.
    pub rules: Vec<RuleReport>,
    /// Risk acceptances seen.
    pub acceptances: Vec<AcceptanceSeen>,
}

struct OpenWindow {
    first: RunRef,
    last: RunRef,
    open_at_start: bool,
    failed: usize,
    accepted: usize,
    unjudged: usize,
}

/// Builds the period report from the ledger's bundles in `[from, to)`, streaming one bundle at
/// a time. The ledger must have been verified intact (see [`super::verify::require_intact`]);
/// each bundle's hash is checked again as it is read.
pub fn build(
    ledger: &Ledger,
    options: Options,
    head: Option<String>,
) -> Result<PeriodReport, EvidenceError> {
    let index = ledger.read_index()?;
    let in_period: Vec<_> = index
        .entries
        .iter()
        .map(|(_, e)| e)
        .filter_map(|e| times::instant(&e.collected_at).map(|at| (e, at)))
        .filter(|(_, at)| {
            options.from.is_none_or(|f| *at >= f) && options.to.is_none_or(|t| *at < t)
        })
        .collect();
    let from = options
        .from
        .or_else(|| in_period.first().map(|(_, at)| *at))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let to = options
        .to
        .or_else(|| in_period.last().map(|(_, at)| *at))
        .unwrap_or(from);
    let mut builder = Builder::default();
    for (entry, _) in &in_period {
        let bytes = ledger.read_bundle(entry)?.unwrap_or_default();
        if sha256_hex(&bytes) != entry.sha256 {
            return Err(EvidenceError::Broken {
                dir: ledger.display(),
                first: format!("{}: altered while the report was read", entry.file),
                more: String::new(),
            });
        }
        let bundle: BundleResults = decode(&entry.file, &bytes)?;
        drop(bytes);
        builder.add(bundle, &entry.sha256);
    }
    let instants: Vec<(u64, OffsetDateTime)> =
        in_period.iter().map(|(e, at)| (e.sequence, *at)).collect();
    Ok(builder.finish(
        index.header.ledger,
        from,
        to,
        options,
        head,
        gaps(&instants, options),
    ))
}

#[derive(Default)]
struct RuleAgg {
    report: Option<RuleReport>,
    unjudged: Vec<Unjudged>,
}

/// The streaming state: per-rule tallies, open windows, and what is finished.
#[derive(Default)]
struct Builder {
    runs: Vec<RunSummary>,
    rules: BTreeMap<String, RuleAgg>,
    open: HashMap<(String, String), OpenWindow>,
    closed: BTreeMap<String, Vec<Window>>,
    acceptances: BTreeMap<(String, String, String), AcceptanceSeen>,
}

impl Builder {
    fn add(&mut self, bundle: BundleResults, sha256: &str) {
        let run_index = self.runs.len();
        let run = RunRef {
            sequence: bundle.sequence,
            collected_at: bundle.collected_at.clone(),
        };
        let mut counts = Counts::default();
        let results: HashMap<&str, &super::bundle::RuleResult> = bundle
            .results
            .iter()
            .map(|r| (r.rule.as_str(), r))
            .collect();
        for meta in &bundle.rules {
            let agg = self.rules.entry(meta.id.clone()).or_default();
            let report = agg.report.get_or_insert_with(|| RuleReport {
                id: meta.id.clone(),
                title: String::new(),
                severity: meta.severity,
                soc2: Vec::new(),
                runs: 0,
                held: 0,
                failed: 0,
                accepted: 0,
                could_not_judge: 0,
                cells: Vec::new(),
                windows: Vec::new(),
                unjudged: Vec::new(),
            });
            report.title.clone_from(&meta.title);
            report.severity = meta.severity;
            report.soc2.clone_from(&meta.soc2);
            report.cells.resize(run_index, Cell::NoRun);
            let result = results.get(meta.id.as_str());
            let c = result.map(|r| r.counts).unwrap_or_default();
            let cell = if c.fail > 0 {
                Cell::Failed
            } else if c.error > 0
                || (bundle.incomplete && result.is_none_or(|r| r.findings.is_empty()))
            {
                Cell::CouldNotJudge
            } else if c.accepted > 0 {
                Cell::Accepted
            } else {
                Cell::Held
            };
            report.cells.push(cell);
            report.runs += 1;
            match cell {
                Cell::Held => report.held += 1,
                Cell::Failed => report.failed += 1,
                Cell::Accepted => report.accepted += 1,
                Cell::CouldNotJudge => report.could_not_judge += 1,
                Cell::NoRun => {}
            }
            if c.error > 0 {
                let reason = result
                    .and_then(|r| r.findings.iter().find(|f| f.status == Status::Error))
                    .and_then(|f| f.message.clone())
                    .unwrap_or_default();
                agg.unjudged.push(Unjudged {
                    run: run.clone(),
                    resources: c.error,
                    reason,
                });
            } else if bundle.incomplete && result.is_none_or(|r| r.findings.is_empty()) {
                agg.unjudged.push(Unjudged {
                    run: run.clone(),
                    resources: 0,
                    reason: bundle.incomplete_reasons.join("; "),
                });
            }
            if let Some(r) = result {
                add_counts(&mut counts, &r.counts);
                self.track(
                    &meta.id,
                    &r.findings,
                    &run,
                    run_index == 0,
                    bundle.incomplete,
                );
            }
        }
        self.runs.push(RunSummary {
            sequence: bundle.sequence,
            collected_at: bundle.collected_at,
            sha256: sha256.to_string(),
            incomplete: bundle.incomplete,
            incomplete_reasons: bundle.incomplete_reasons,
            population: bundle.population,
            counts,
        });
    }

    /// Transition tracking for one rule in one run.
    fn track(
        &mut self,
        rule: &str,
        findings: &[RecordedFinding],
        run: &RunRef,
        first_run: bool,
        incomplete: bool,
    ) {
        let mut seen = std::collections::HashSet::new();
        for f in findings {
            if let Some(a) = &f.acceptance {
                let key = (rule.to_string(), f.resource.clone(), a.declared_at.clone());
                let acc = self
                    .acceptances
                    .entry(key)
                    .or_insert_with(|| AcceptanceSeen {
                        rule: rule.to_string(),
                        resource: f.resource.clone(),
                        reason: a.reason.clone(),
                        owner: a.owner.clone(),
                        approved_by: a.approved_by.clone(),
                        expires: a.expires.clone(),
                        ticket: a.ticket.clone(),
                        runs_in_force: 0,
                        runs_expired: 0,
                    });
                if a.expired {
                    acc.runs_expired += 1;
                } else {
                    acc.runs_in_force += 1;
                }
            }
            let key = (rule.to_string(), f.resource.clone());
            match f.status {
                Status::Fail | Status::Accepted => {
                    let w = self.open.entry(key.clone()).or_insert_with(|| OpenWindow {
                        first: run.clone(),
                        last: run.clone(),
                        open_at_start: first_run,
                        failed: 0,
                        accepted: 0,
                        unjudged: 0,
                    });
                    w.last = run.clone();
                    w.failed += 1;
                    if f.status == Status::Accepted {
                        w.accepted += 1;
                    }
                    seen.insert(key);
                }
                Status::Error => {
                    if let Some(w) = self.open.get_mut(&key) {
                        w.unjudged += 1;
                        seen.insert(key);
                    }
                }
                Status::Pass | Status::NotApplicable => {}
            }
        }
        // A failed collection proves no fix: its windows stay open.
        if incomplete {
            return;
        }
        let fixed: Vec<(String, String)> = self
            .open
            .keys()
            .filter(|k| k.0 == rule && !seen.contains(*k))
            .cloned()
            .collect();
        for key in fixed {
            if let Some(w) = self.open.remove(&key) {
                let window = close(key.1, w, Some(run.clone()), None);
                self.closed.entry(key.0).or_default().push(window);
            }
        }
    }

    fn finish(
        mut self,
        ledger: String,
        from: OffsetDateTime,
        to: OffsetDateTime,
        options: Options,
        head: Option<String>,
        gaps: Vec<Gap>,
    ) -> PeriodReport {
        for (key, w) in std::mem::take(&mut self.open) {
            let window = close(key.1, w, None, Some(to));
            self.closed.entry(key.0).or_default().push(window);
        }
        let total = self.runs.len();
        let mut rules = Vec::new();
        for (id, agg) in std::mem::take(&mut self.rules) {
            let Some(mut report) = agg.report else {
                continue;
            };
            report.cells.resize(total, Cell::NoRun);
            let mut windows = self.closed.remove(&id).unwrap_or_default();
            windows.sort_by(|a, b| {
                (a.first_failed.sequence, &a.resource).cmp(&(b.first_failed.sequence, &b.resource))
            });
            report.windows = windows;
            report.unjudged = agg.unjudged;
            rules.push(report);
        }
        let mut by_criterion: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
        for r in &rules {
            for c in &r.soc2 {
                by_criterion
                    .entry((criteria::order(c), c.clone()))
                    .or_default()
                    .push(r.id.clone());
            }
        }
        let criteria = by_criterion
            .into_iter()
            .map(|((_, id), rules)| CriterionReport {
                title: criteria::find(&id).map_or("", |c| c.title).to_string(),
                id,
                rules,
            })
            .collect();
        PeriodReport {
            format: PERIOD_FORMAT,
            ledger,
            from: times::format(from),
            to: times::format(to),
            cadence: times::human(options.cadence),
            head,
            runs: self.runs,
            gaps,
            criteria,
            rules,
            acceptances: self.acceptances.into_values().collect(),
        }
    }
}

fn add_counts(total: &mut Counts, c: &Counts) {
    total.pass += c.pass;
    total.fail += c.fail;
    total.error += c.error;
    total.not_applicable += c.not_applicable;
    total.accepted += c.accepted;
}

fn close(
    resource: String,
    w: OpenWindow,
    fixed_by: Option<RunRef>,
    period_end: Option<OffsetDateTime>,
) -> Window {
    let start = times::instant(&w.first.collected_at);
    let end = match &fixed_by {
        Some(run) => times::instant(&run.collected_at),
        None => period_end,
    };
    let duration = match (start, end) {
        (Some(s), Some(e)) if e > s => e - s,
        _ => time::Duration::ZERO,
    };
    Window {
        resource,
        first_failed: w.first,
        last_failed: w.last,
        fixed_by,
        open_at_start: w.open_at_start,
        duration: times::human(duration),
        duration_seconds: duration.whole_seconds(),
        failed_runs: w.failed,
        accepted_runs: w.accepted,
        unjudged_runs: w.unjudged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::bundle::{RuleMeta, RuleResult, BUNDLE_FORMAT};

    fn run(sequence: u64, day: u32, statuses: &[(&str, Status)]) -> BundleResults {
        let mut counts = Counts::default();
        let findings = statuses
            .iter()
            .map(|(resource, status)| {
                match status {
                    Status::Pass => counts.pass += 1,
                    Status::Fail => counts.fail += 1,
                    Status::Error => counts.error += 1,
                    Status::NotApplicable => counts.not_applicable += 1,
                    Status::Accepted => counts.accepted += 1,
                }
                RecordedFinding {
                    resource: resource.to_string(),
                    status: *status,
                    message: (*status == Status::Error).then(|| "403".to_string()),
                    acceptance: None,
                }
            })
            .collect();
        BundleResults {
            format: BUNDLE_FORMAT.into(),
            sequence,
            collected_at: format!("2026-01-{day:02}T03:00:00Z"),
            incomplete: false,
            incomplete_reasons: Vec::new(),
            population: BTreeMap::new(),
            rules: vec![RuleMeta {
                id: "r".into(),
                title: "R".into(),
                soc2: vec!["CC6.1".into()],
                severity: Severity::High,
            }],
            results: vec![RuleResult {
                rule: "r".into(),
                counts,
                findings,
            }],
        }
    }

    fn options() -> Options {
        Options {
            cadence: time::Duration::DAY,
            from: None,
            to: None,
        }
    }

    fn report(runs: Vec<BundleResults>) -> PeriodReport {
        let mut b = Builder::default();
        let last = runs.last().map(|r| r.collected_at.clone()).unwrap();
        let first = runs.first().map(|r| r.collected_at.clone()).unwrap();
        for r in runs {
            b.add(r, "h");
        }
        b.finish(
            "l".into(),
            times::instant(&first).unwrap(),
            times::instant(&last).unwrap(),
            options(),
            None,
            Vec::new(),
        )
    }

    use Status::{Error, Fail, Pass};

    #[test]
    fn a_fixed_then_regressed_resource_has_two_windows() {
        let r = report(vec![
            run(1, 1, &[("a", Pass), ("b", Pass)]),
            run(2, 2, &[("a", Fail), ("b", Pass)]),
            run(3, 3, &[("a", Fail), ("b", Pass)]),
            run(4, 4, &[("a", Pass), ("b", Pass)]),
            run(5, 5, &[("a", Fail), ("b", Fail)]),
        ]);
        let rule = &r.rules[0];
        assert_eq!((rule.runs, rule.held, rule.failed), (5, 2, 3));
        assert_eq!(rule.held_percent(), Some(40.0));
        let w: Vec<_> = rule
            .windows
            .iter()
            .map(|w| {
                (
                    w.resource.as_str(),
                    w.first_failed.sequence,
                    w.last_failed.sequence,
                    w.fixed_by.as_ref().map(|f| f.sequence),
                    w.duration.as_str(),
                )
            })
            .collect();
        assert_eq!(
            w,
            [
                ("a", 2, 3, Some(4), "2d"),
                ("a", 5, 5, None, "0m"),
                ("b", 5, 5, None, "0m")
            ]
        );
    }

    #[test]
    fn an_error_neither_fails_nor_fixes_and_a_vanished_resource_is_fixed() {
        let r = report(vec![
            run(1, 1, &[("a", Fail), ("b", Fail)]),
            run(2, 2, &[("a", Error), ("b", Fail)]),
            run(3, 3, &[("a", Fail)]),
        ]);
        let rule = &r.rules[0];
        assert_eq!(rule.cells, [Cell::Failed, Cell::Failed, Cell::Failed]);
        let a = rule.windows.iter().find(|w| w.resource == "a").unwrap();
        assert!(a.fixed_by.is_none() && a.open_at_start);
        assert_eq!((a.failed_runs, a.unjudged_runs), (2, 1));
        let b = rule.windows.iter().find(|w| w.resource == "b").unwrap();
        assert_eq!(b.fixed_by.as_ref().map(|f| f.sequence), Some(3));
        assert_eq!(rule.unjudged.len(), 1);
    }

    #[test]
    fn a_run_without_the_rule_is_no_run() {
        let mut second = run(2, 2, &[]);
        second.rules.clear();
        second.results.clear();
        let r = report(vec![
            run(1, 1, &[("a", Pass)]),
            second,
            run(3, 3, &[("a", Error)]),
        ]);
        assert_eq!(
            r.rules[0].cells,
            [Cell::Held, Cell::NoRun, Cell::CouldNotJudge]
        );
        assert_eq!(r.rules[0].runs, 2);
    }
}
