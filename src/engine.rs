//! The engine: every rule on every resource of its type, into pass / fail / not applicable / error.
//!
//! Each rule was split at load time into `applies` and `requirement` expressions (see
//! [`crate::rules`]); here they are evaluated with Cedar's `eval_expression`, resources spread over
//! threads with rayon. This is the fastest path measured (docs/performance.md), isolates errors per
//! rule and is the only one that yields *not applicable*. A test checks that it agrees with Cedar's
//! own authorizer on the demo data.
//!
//! The engine must never turn an unknown into a pass: a Cedar evaluation error, or a fact that the
//! snapshot records as not collected, becomes an `error` finding with the reason.

use std::collections::HashMap;

use cedar_policy::{
    eval_expression, Context, EntityUid, EvalResult, Expression, Request, RestrictedExpression,
};
use rayon::prelude::*;

use trustcheck_snapshot::{Uid, UncollectedFact};

use crate::entities::{Resource, Store};
use crate::findings::{self, Finding, Status};
use crate::rules::{Rule, RuleSet};
use crate::schema::{ACTION_ID, ACTION_TYPE, CHECKER_TYPE};

/// A request context could not be built (only possible with an invalid `collected_at`).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot build the evaluation request: {0}")]
pub struct EngineError(String);

/// Evaluates every rule on every resource of the store. Findings are sorted by (rule, resource).
pub fn evaluate(rules: &RuleSet, store: &Store) -> Result<Vec<Finding>, EngineError> {
    let principal = uid(CHECKER_TYPE, "trustcheck")?;
    let action = uid(ACTION_TYPE, ACTION_ID)?;
    let params = rules.params().context().map_err(EngineError)?;
    let contexts = store
        .snapshots
        .iter()
        .map(|s| context(&s.collected_at, &params))
        .collect::<Result<Vec<_>, _>>()?;

    let judge = Judge {
        rules,
        store,
        principal,
        action,
        contexts,
    };
    let mut findings: Vec<Finding> = store
        .resources
        .par_iter()
        .flat_map_iter(|resource| judge.resource(resource))
        .collect();
    findings.extend(judge.missing());
    findings::sort(&mut findings);
    Ok(findings)
}

/// The context of every request on a snapshot's resources: its time and the parameters.
fn context(now: &str, params: &RestrictedExpression) -> Result<Context, EngineError> {
    Context::from_pairs([
        ("now".to_string(), RestrictedExpression::new_datetime(now)),
        ("params".to_string(), params.clone()),
    ])
    .map_err(|e| EngineError(e.to_string()))
}

fn uid(type_name: &str, id: &str) -> Result<EntityUid, EngineError> {
    crate::entities::uid_of(&Uid {
        type_name: type_name.to_string(),
        id: id.to_string(),
    })
    .map_err(EngineError)
}

struct Judge<'a> {
    rules: &'a RuleSet,
    store: &'a Store,
    principal: EntityUid,
    action: EntityUid,
    contexts: Vec<Context>,
}

/// The outcome of one rule on one resource, before it is dressed as a finding.
enum Outcome {
    Decided(Status),
    Unknown(String),
}

impl Judge<'_> {
    fn resource(&self, resource: &Resource) -> Vec<Finding> {
        let rules = self.rules.judging(&resource.reference.type_name);
        if rules.clone().next().is_none() {
            return Vec::new();
        }
        // Every resource comes from a loaded snapshot, which has a context; a missing one would be
        // a bug, reported as an error finding rather than a panic.
        let context = self
            .contexts
            .get(resource.snapshot)
            .cloned()
            .ok_or_else(|| format!("no request context for snapshot {}", resource.snapshot));
        let request = match context.and_then(|context| {
            Request::new(
                self.principal.clone(),
                self.action.clone(),
                resource.uid.clone(),
                context,
                None,
            )
            .map_err(|e| e.to_string())
        }) {
            Ok(r) => r,
            Err(e) => {
                let reason = format!("request could not be built: {e}");
                return rules
                    .map(|rule| {
                        self.finding(rule, &resource.reference, Status::Error, reason.clone())
                    })
                    .collect();
            }
        };
        let unknown = self.store.unknown_facts(&resource.reference);
        rules
            .map(|rule| {
                let (status, message) = match self.judge(rule, &request, unknown) {
                    Outcome::Decided(status) => (status, self.facts(rule, resource, status)),
                    Outcome::Unknown(reason) => (Status::Error, reason),
                };
                self.finding(rule, &resource.reference, status, message)
            })
            .collect()
    }

    fn judge(&self, rule: &Rule, request: &Request, unknown: &[UncollectedFact]) -> Outcome {
        if unknown.is_empty() {
            return match eval_expression(request, &self.store.entities, &rule.outcome) {
                Ok(EvalResult::Long(0)) => Outcome::Decided(Status::NotApplicable),
                Ok(EvalResult::Long(1)) => Outcome::Decided(Status::Pass),
                Ok(EvalResult::Long(2)) => Outcome::Decided(Status::Fail),
                Ok(other) => {
                    Outcome::Unknown(format!("rule evaluated to `{other}`, not a boolean"))
                }
                Err(e) => Outcome::Unknown(format!("evaluation error: {e}")),
            };
        }
        // Some fact is unknown: evaluate the parts one by one, so that an unknown fact in the
        // requirement still lets a false `when` say "not applicable".
        if let Some(u) = first_unknown(&rule.applies_attrs, unknown) {
            return Outcome::Unknown(not_collected(u));
        }
        match self.eval(request, &rule.applies) {
            Err(reason) => return Outcome::Unknown(reason),
            Ok(false) => return Outcome::Decided(Status::NotApplicable),
            Ok(true) => {}
        }
        if let Some(u) = first_unknown(&rule.requirement_attrs, unknown) {
            return Outcome::Unknown(not_collected(u));
        }
        match self.eval(request, &rule.requirement) {
            Err(reason) => Outcome::Unknown(reason),
            Ok(true) => Outcome::Decided(Status::Pass),
            Ok(false) => Outcome::Decided(Status::Fail),
        }
    }

    fn eval(&self, request: &Request, expr: &Expression) -> Result<bool, String> {
        match eval_expression(request, &self.store.entities, expr) {
            Ok(EvalResult::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("rule evaluated to `{other}`, not a boolean")),
            Err(e) => Err(format!("evaluation error: {e}")),
        }
    }

    /// "attr = value, …" for the attributes the rule reads (the `when` part only for N/A).
    fn facts(&self, rule: &Rule, resource: &Resource, status: Status) -> String {
        let attrs: Vec<&str> = if status == Status::NotApplicable {
            rule.applies_attrs.iter().map(String::as_str).collect()
        } else {
            rule.attrs_read().collect()
        };
        let entity = self.store.entities.get(&resource.uid);
        let mut parts: Vec<String> = attrs
            .iter()
            .map(|a| match entity.and_then(|e| e.attr(a)) {
                Some(Ok(v)) => format!("{a} = {}", show(&v)),
                Some(Err(_)) => format!("{a} = (unreadable)"),
                None => format!("{a} absent"),
            })
            .collect();
        // The thresholds that judged it, so a report says which setting it was held to.
        if status != Status::NotApplicable {
            parts.extend(rule.params_read.iter().filter_map(|p| {
                self.rules
                    .params()
                    .show(p)
                    .map(|v| format!("params.{p} = {v}"))
            }));
        }
        if parts.is_empty() {
            match status {
                Status::NotApplicable => "rule does not apply".into(),
                _ => "decided by the rule's scope".into(),
            }
        } else {
            parts.join(", ")
        }
    }

    fn finding(&self, rule: &Rule, resource: &Uid, status: Status, message: String) -> Finding {
        Finding {
            rule: rule.id.clone(),
            title: rule.title.clone(),
            soc2: rule.soc2.clone(),
            severity: rule.severity,
            fingerprint: findings::fingerprint(&rule.id, resource),
            acceptance: None,
            resource: resource.clone(),
            status,
            message,
            remediation: rule.remediation.clone(),
        }
    }

    /// `error` findings for lists the collector could not read (entities that are not there).
    fn missing(&self) -> Vec<Finding> {
        let mut by_entity: HashMap<(&Uid, &str), Vec<&UncollectedFact>> = HashMap::new();
        for (fact, _) in &self.store.missing {
            by_entity
                .entry((&fact.entity, fact.entity.type_name.as_str()))
                .or_default()
                .push(fact);
        }
        let mut out = Vec::new();
        for ((entity, type_name), facts) in by_entity {
            for rule in self.rules.judging(type_name) {
                let read: Vec<&str> = rule.attrs_read().collect();
                if let Some(u) = facts
                    .iter()
                    .find(|u| u.is_whole_entity() || read.contains(&u.fact.as_str()))
                {
                    out.push(self.finding(rule, entity, Status::Error, not_collected(u)));
                }
            }
        }
        out
    }
}

fn first_unknown<'a>(
    attrs: &[String],
    unknown: &'a [UncollectedFact],
) -> Option<&'a UncollectedFact> {
    unknown
        .iter()
        .find(|u| u.is_whole_entity() || attrs.contains(&u.fact))
}

fn not_collected(u: &UncollectedFact) -> String {
    if u.is_whole_entity() {
        format!("not collected: {}", u.reason)
    } else {
        format!("`{}` not collected: {}", u.fact, u.reason)
    }
}

/// A value as an auditor reads it: datetimes as plain timestamps, sets in brackets.
pub fn show(v: &EvalResult) -> String {
    match v {
        EvalResult::String(s) => format!("{s:?}"),
        EvalResult::ExtensionValue(s) => strip_constructor(s),
        EvalResult::Set(set) => {
            let mut items: Vec<String> = set.iter().map(show).collect();
            items.sort();
            format!("[{}]", items.join(", "))
        }
        EvalResult::Record(r) => {
            let mut items: Vec<String> =
                r.iter().map(|(k, v)| format!("{k}: {}", show(v))).collect();
            items.sort();
            format!("{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// `datetime("2026-01-01T00:00:00Z")` → `2026-01-01T00:00:00Z`.
fn strip_constructor(s: &str) -> String {
    match (s.find("(\""), s.strip_suffix("\")")) {
        (Some(open), Some(body)) => body
            .get(open + 2..)
            .map_or_else(|| s.to_string(), str::to_string),
        _ => s.to_string(),
    }
}

/// Evaluates with Cedar's own authorizer (one per-type policy set, one request per resource):
/// the reference semantics the fast path must agree with. Returns (rule, resource) pairs whose
/// forbid fired. Used by tests and the benchmark, not by `check`.
pub fn authorizer_failures(
    rules: &RuleSet,
    store: &Store,
) -> Result<Vec<(String, Uid)>, EngineError> {
    use cedar_policy::{Authorizer, PolicySet};
    let principal = uid(CHECKER_TYPE, "trustcheck")?;
    let action = uid(ACTION_TYPE, ACTION_ID)?;
    let mut sets: HashMap<&str, PolicySet> = HashMap::new();
    for rule in rules.rules() {
        for t in &rule.resource_types {
            // Ids are unique within a rule set.
            let _ = sets.entry(t.as_str()).or_default().add(rule.policy.clone());
        }
    }
    let params = rules.params().context().map_err(EngineError)?;
    let authorizer = Authorizer::new();
    let mut fired = Vec::new();
    for resource in &store.resources {
        let Some(set) = sets.get(resource.reference.type_name.as_str()) else {
            continue;
        };
        let now = store
            .snapshots
            .get(resource.snapshot)
            .map(|s| s.collected_at.as_str())
            .ok_or_else(|| EngineError(format!("no snapshot {}", resource.snapshot)))?;
        let context = context(now, &params)?;
        let request = Request::new(
            principal.clone(),
            action.clone(),
            resource.uid.clone(),
            context,
            None,
        )
        .map_err(|e| EngineError(e.to_string()))?;
        let response = authorizer.is_authorized(&request, set, &store.entities);
        for id in response.diagnostics().reason() {
            fired.push((id.to_string(), resource.reference.clone()));
        }
    }
    fired.sort();
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructor_is_stripped_from_datetimes() {
        assert_eq!(
            strip_constructor(r#"datetime("2026-01-01T00:00:00Z")"#),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(strip_constructor("plain"), "plain");
    }
}
