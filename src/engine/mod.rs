//! The engine: every rule on every resource of its type, into pass / fail / not applicable / error.
//!
//! Each rule was split at load time into `applies` and `requirement` expressions (see
//! [`crate::rules`]); here they are evaluated, resources spread over threads with rayon, first on
//! the store's own values ([`native`]) and, where that cannot answer, with Cedar's
//! `eval_expression` on a Cedar store of the chunk of resources being judged. This isolates errors
//! per rule and is the only way that yields *not applicable*. Tests check that it agrees with
//! Cedar's own authorizer on the demo data, and the native path with Cedar's evaluator.
//!
//! The engine must never turn an unknown into a pass: a Cedar evaluation error, or a fact that the
//! snapshot records as not collected, becomes an `error` finding with the reason.

mod native;

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cedar_policy::{
    eval_expression, Context, Entities, EntityUid, EvalResult, Expression, Request,
    RestrictedExpression,
};
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use trustcheck_snapshot::{Uid, UncollectedFact};

use crate::entities::{Resource, Store};
use crate::findings::{self, Finding, Status};
use crate::rules::{Rule, RuleSet};
use crate::schema::{ACTION_ID, ACTION_TYPE, CHECKER_TYPE};
use native::{Env, Native};

/// A request context could not be built (only possible with an invalid `collected_at`).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot build the evaluation request: {0}")]
pub struct EngineError(String);

/// Evaluates every rule on every resource of the store. Findings are sorted by (rule, resource).
pub fn evaluate(rules: &RuleSet, store: &Store) -> Result<Vec<Finding>, EngineError> {
    evaluate_with(rules, store, Messages::All)
}

/// Which findings are given their message (the facts that decided them, or the reason of an
/// `error`, which is always given): a report shows every finding's, `diff` only those of the
/// (rule, resource) pairs whose status changed, so it asks for those alone.
#[derive(Clone, Copy)]
pub enum Messages<'a> {
    /// Every finding's message.
    All,
    /// Only the messages of the findings for which this says `true`, given the rule id, the
    /// resource and the status; every other finding's message is empty.
    Only(&'a (dyn Fn(&str, &Uid, Status) -> bool + Sync)),
}

impl Messages<'_> {
    fn wants(&self, rule: &str, resource: &Uid, status: Status) -> bool {
        match self {
            Messages::All => true,
            Messages::Only(wants) => wants(rule, resource, status),
        }
    }
}

/// [`evaluate`], with messages only where `messages` asks for them: building a message reads and
/// shows every attribute the rule read, a twentieth of the evaluation of 100k resources.
pub fn evaluate_with(
    rules: &RuleSet,
    store: &Store,
    messages: Messages<'_>,
) -> Result<Vec<Finding>, EngineError> {
    let judge = Judge::new(rules, store, messages)?;
    let mut findings = judge_all(&judge);
    let mut missing = judge.missing();
    // Laid out in report order already: sorted only when lists that could not be read add
    // findings (or, never expected, a resource yielded more than its rules). A sort, even of
    // sorted findings, takes a scratch buffer of half of them (30 MB at 100k resources).
    let in_order = findings
        .is_sorted_by(|a, b| (a.rule.as_ref(), &a.resource) <= (b.rule.as_ref(), &b.resource));
    if !missing.is_empty() || !in_order {
        findings.append(&mut missing);
        findings::sort(&mut findings);
    }
    Ok(findings)
}

impl<'a> Judge<'a> {
    /// What every request and message of `rules` on `store` shares, worked out once.
    fn new(
        rules: &'a RuleSet,
        store: &'a Store,
        messages: Messages<'a>,
    ) -> Result<Self, EngineError> {
        let principal = uid(CHECKER_TYPE, "trustcheck")?;
        let action = uid(ACTION_TYPE, ACTION_ID)?;
        let params = rules.params().context().map_err(EngineError)?;
        let contexts = store
            .snapshots
            .iter()
            .map(|s| context(&s.collected_at, &params))
            .collect::<Result<Vec<_>, _>>()?;

        let prepared = rules
            .rules()
            .iter()
            .map(|rule| Prepared::of(rules, rule))
            .collect();
        // The same request as Cedar's values, for the native path; without them (never
        // expected) every rule is judged by Cedar.
        let natives = Natives::of(&principal, &action, &contexts);
        // Cedar's store is built a chunk of resources at a time, with the entities they
        // reference through the attributes rules read through, when no rule can read more than
        // that; otherwise once, of everything.
        let apart = rules
            .rules()
            .iter()
            .all(|rule| rule.reads_through.is_some());
        let follow: FxHashSet<String> = rules
            .rules()
            .iter()
            .flat_map(|rule| rule.reads_through.iter().flatten())
            .filter(|name| store.holds_references(name))
            .cloned()
            .collect();
        let depth = rules
            .rules()
            .iter()
            .map(|rule| rule.read_depth)
            .max()
            .unwrap_or(0);
        Ok(Judge {
            rules,
            store,
            principal,
            action,
            contexts,
            natives,
            prepared,
            apart,
            whole: OnceLock::new(),
            follow,
            depth,
            messages,
        })
    }
}

/// Resources judged per thread at a time: enough to spread over threads, few enough that each
/// chunk's slice of the output is small.
const CHUNK: usize = 512;

/// Every resource judged, the findings laid out in (rule, resource) order, the order of every
/// report. Findings are written straight into one vector (one slot per finding, each resource's
/// slots contiguous), then moved into rule order in place: the findings of 100k resources are
/// held once, not once per resource and once more in order (60 MB of the demo mix's peak).
fn judge_all(judge: &Judge<'_>) -> Vec<Finding> {
    let (rules, store) = (judge.rules, judge.store);
    // Each resource yields one finding per rule of its type, in id order.
    let counts: Vec<usize> = store
        .resources
        .iter()
        .map(|r| rules.for_type(&r.reference.type_name).len())
        .collect();
    let starts: Vec<usize> = counts
        .iter()
        .scan(0, |next, n| {
            let start = *next;
            *next += n;
            Some(start)
        })
        .collect();
    let total = counts.iter().sum();
    let mut slots: Vec<Option<Finding>> = vec![None; total];
    // A resource that yielded more findings than its rules (never expected) keeps them: they are
    // put in order by the caller's sort rather than lost.
    let extra = std::sync::Mutex::new(Vec::new());
    let mut pieces = Vec::new();
    let mut rest = slots.as_mut_slice();
    for (n, (chunk, chunk_counts)) in store
        .resources
        .chunks(CHUNK)
        .zip(counts.chunks(CHUNK))
        .enumerate()
    {
        // Measured before `take` empties `rest`.
        let at = chunk_counts.iter().sum::<usize>().min(rest.len());
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(at);
        let first = n * CHUNK;
        pieces.push((
            first..first + chunk.len(),
            chunk.iter().zip(chunk_counts),
            head,
        ));
        rest = tail;
    }
    pieces.into_par_iter().for_each(|(range, chunk, out)| {
        // No rule judges any of these resources (a type no rule is about): no store to build.
        if out.is_empty() {
            return;
        }
        // Cedar's store of this chunk, built only if some rule needs Cedar.
        let cedar = CedarStore {
            judge,
            range: range.clone(),
            built: OnceCell::new(),
        };
        let mut out = out.iter_mut();
        for (index, (resource, &expected)) in range.zip(chunk) {
            let mut found = judge.resource(index, resource, &cedar).into_iter();
            // Exactly this resource's slots, whatever it yielded: a short yield leaves `None`s
            // (dropped below), never shifts the next resource's findings.
            for slot in out.by_ref().take(expected) {
                *slot = found.next();
            }
            let left: Vec<Finding> = found.collect();
            if !left.is_empty() {
                if let Ok(mut extra) = extra.lock() {
                    extra.extend(left);
                }
            }
        }
    });
    permute(&mut slots, rule_order(rules, store, &starts, total));
    // `filter_map` collects in place (the slots' memory becomes the findings'); `flatten` does
    // not, and would hold a second copy of every finding at the peak.
    #[allow(clippy::filter_map_identity)]
    let mut findings: Vec<Finding> = slots.into_iter().filter_map(|f| f).collect();
    findings.extend(extra.into_inner().unwrap_or_default());
    findings
}

/// Where each slot of [`judge_all`] goes in (rule, resource) order: resources are sorted by
/// (type, id), so the findings of a rule are the runs of the types it judges, in type order.
fn rule_order(rules: &RuleSet, store: &Store, starts: &[usize], total: usize) -> Vec<usize> {
    // Resources of one type are contiguous: (type, first index, end index).
    let mut runs: Vec<(&str, usize, usize)> = Vec::new();
    for (i, r) in store.resources.iter().enumerate() {
        match runs.last_mut() {
            Some((t, _, end)) if *t == r.reference.type_name => *end = i + 1,
            _ => runs.push((r.reference.type_name.as_str(), i, i + 1)),
        }
    }
    let mut order: Vec<usize> = (0..rules.rules().len()).collect();
    order.sort_by_key(|&i| rules.rules().get(i).map(|r| r.id.clone()));
    // The next slot of each resource not yet placed.
    let mut cursor: Vec<usize> = starts.to_vec();
    let mut dest: Vec<usize> = (0..total).collect();
    let mut next = 0;
    for rule in order {
        for &(type_name, start, end) in &runs {
            if !rules.for_type(type_name).contains(&rule) {
                continue;
            }
            for at in cursor.get_mut(start..end).into_iter().flatten() {
                if let Some(d) = dest.get_mut(*at) {
                    *d = next;
                    next += 1;
                }
                *at += 1;
            }
        }
    }
    dest
}

/// Moves `items[i]` to `items[dest[i]]` for every `i`, in place, when `dest` is a permutation
/// (as [`rule_order`] makes it); otherwise the items are left where they are.
fn permute<T>(items: &mut [T], mut dest: Vec<usize>) {
    let mut seen = vec![false; dest.len()];
    let is_permutation = dest.len() == items.len()
        && dest
            .iter()
            .all(|&d| seen.get_mut(d).is_some_and(|s| !std::mem::replace(s, true)));
    if !is_permutation {
        return;
    }
    for i in 0..items.len() {
        // Each swap puts one item where it belongs; every cycle closes back at `i`.
        while let Some(&d) = dest.get(i).filter(|&&d| d != i) {
            items.swap(i, d);
            dest.swap(i, d);
        }
    }
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
    /// The request's variables as Cedar's values, for the native path.
    natives: Option<Natives>,
    /// By rule index: what every finding of the rule repeats, worked out once.
    prepared: Vec<Prepared<'a>>,
    /// Whether every rule reads nothing but its resource and what that references: Cedar's
    /// store is then built a chunk at a time; otherwise once, of every resource ([`Self::whole`]).
    apart: bool,
    /// Cedar's store of every resource, built the first time Cedar is asked, when some rule may
    /// read another entity than the one it judges.
    whole: OnceLock<Result<Entities, String>>,
    /// Attributes through which rules read other entities: a chunk's store holds the entities
    /// they reference.
    follow: FxHashSet<String>,
    /// How many references deep the rules read.
    depth: usize,
    /// Which findings get their message.
    messages: Messages<'a>,
}

/// `principal`, `action` and each snapshot's `context`, as the native path reads them.
struct Natives {
    principal: cedar_policy_core::ast::Value,
    action: cedar_policy_core::ast::Value,
    /// By snapshot index.
    contexts: Vec<cedar_policy_core::ast::Value>,
}

impl Natives {
    fn of(principal: &EntityUid, action: &EntityUid, contexts: &[Context]) -> Option<Self> {
        use cedar_policy_core::ast::{EntityUID, Value};
        let uid = |u: &EntityUid| Value::from(AsRef::<EntityUID>::as_ref(u).clone());
        let contexts = contexts
            .iter()
            .map(|c| {
                let c: &cedar_policy_core::ast::Context = c.as_ref();
                match cedar_policy_core::ast::PartialValue::from(c.clone()) {
                    cedar_policy_core::ast::PartialValue::Value(v) => Some(v),
                    cedar_policy_core::ast::PartialValue::Residual(_) => None,
                }
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Natives {
            principal: uid(principal),
            action: uid(action),
            contexts,
        })
    }
}

/// Cedar's store for one chunk of resources, built the first time Cedar is asked about one of
/// them: the native path answers for most rules and resources without it.
struct CedarStore<'j> {
    judge: &'j Judge<'j>,
    range: std::ops::Range<usize>,
    built: OnceCell<Result<Entities, String>>,
}

impl CedarStore<'_> {
    fn get(&self) -> Result<&Entities, &str> {
        let judge = self.judge;
        let built = if judge.apart {
            self.built.get_or_init(|| {
                judge
                    .store
                    .entities(self.range.clone(), &judge.follow, judge.depth)
            })
        } else {
            judge.whole.get_or_init(|| judge.store.all_entities())
        };
        built.as_ref().map_err(String::as_str)
    }
}

/// The parts of a rule's finding messages that do not depend on the resource, and the rule's
/// expressions for the native path.
struct Prepared<'a> {
    /// The attributes read, `when` part first, without repeats.
    attrs_read: Vec<&'a str>,
    /// `params.x = v` for each parameter the rule reads.
    params: Vec<String>,
    /// The rule for the native path, when it handles all three of its expressions.
    native: Option<NativeRule>,
}

/// A rule's expressions for the native path ([`Rule::outcome`], [`Rule::applies`],
/// [`Rule::requirement`]).
struct NativeRule {
    outcome: Native,
    applies: Native,
    requirement: Native,
}

impl<'a> Prepared<'a> {
    fn of(rules: &'a RuleSet, rule: &'a Rule) -> Self {
        let compile = |e: &Expression| Native::compile(e.as_ref());
        Self {
            attrs_read: rule.attrs_read().collect(),
            params: rule
                .params_read
                .iter()
                .filter_map(|p| rules.params().show(p).map(|v| format!("params.{p} = {v}")))
                .collect(),
            native: (|| {
                Some(NativeRule {
                    outcome: compile(&rule.outcome)?,
                    applies: compile(&rule.applies)?,
                    requirement: compile(&rule.requirement)?,
                })
            })(),
        }
    }
}

/// The attributes of one resource as shown in messages, each worked out once per resource (its
/// rules read the same few attributes).
struct Shown<'a> {
    store: &'a Store,
    index: usize,
    seen: Vec<(&'a str, String)>,
}

impl<'a> Shown<'a> {
    fn get(&mut self, attr: &'a str) -> &str {
        let at = match self.seen.iter().position(|(a, _)| *a == attr) {
            Some(at) => at,
            None => {
                // As Cedar's `Entity::attr` gives it.
                let text = match self.store.attr(self.index, attr) {
                    Some(v) => format!("{attr} = {}", show_value(v)),
                    None => format!("{attr} absent"),
                };
                self.seen.push((attr, text));
                self.seen.len() - 1
            }
        };
        self.seen.get(at).map_or("", |(_, text)| text.as_str())
    }
}

/// The outcome of one rule on one resource, before it is dressed as a finding.
enum Outcome {
    Decided(Status),
    Unknown(String),
}

/// What judging one resource needs: the native path's variables, and Cedar's request and store,
/// made only if Cedar is asked.
struct Asking<'j> {
    resource: &'j Resource,
    env: Option<Env<'j>>,
    cedar: &'j CedarStore<'j>,
    request: OnceCell<Result<Request, String>>,
}

impl Asking<'_> {
    /// Cedar's request and store for this resource, or why they could not be built.
    fn cedar(&self) -> Result<(&Request, &Entities), String> {
        let judge = self.cedar.judge;
        let request = self.request.get_or_init(|| {
            // Every resource comes from a loaded snapshot, which has a context; a missing one
            // would be a bug, reported as an error finding rather than a panic.
            let context = judge
                .contexts
                .get(self.resource.snapshot)
                .cloned()
                .ok_or_else(|| {
                    format!("no request context for snapshot {}", self.resource.snapshot)
                })?;
            Request::new(
                judge.principal.clone(),
                judge.action.clone(),
                self.resource.uid.clone(),
                context,
                None,
            )
            .map_err(|e| e.to_string())
        });
        // A store that could not be built (never expected: its entities were checked at load)
        // makes the finding an error, like a request that cannot be built.
        let entities = self
            .cedar
            .get()
            .map_err(|e| format!("request could not be built: no entity store: {e}"))?;
        let request = request
            .as_ref()
            .map_err(|e| format!("request could not be built: {e}"))?;
        Ok((request, entities))
    }
}

impl Judge<'_> {
    fn resource<'j>(
        &'j self,
        index: usize,
        resource: &'j Resource,
        cedar: &'j CedarStore<'j>,
    ) -> Vec<Finding> {
        let indexes = self.rules.for_type(&resource.reference.type_name);
        if indexes.is_empty() {
            return Vec::new();
        }
        let rules = indexes
            .iter()
            .filter_map(|&i| Some((self.rules.rules().get(i)?, self.prepared.get(i)?)));
        let env = self.natives.as_ref().and_then(|n| {
            Some(Env {
                store: self.store,
                resource: index,
                context: n.contexts.get(resource.snapshot)?,
                principal: &n.principal,
                action: &n.action,
            })
        });
        let asking = Asking {
            resource,
            env,
            cedar,
            request: OnceCell::new(),
        };
        let unknown = self.store.unknown_facts(&resource.reference);
        let mut shown = Shown {
            store: self.store,
            index,
            seen: Vec::new(),
        };
        let mut out = Vec::with_capacity(indexes.len());
        for (rule, prepared) in rules {
            let (status, message) = match self.judge(rule, prepared, &asking, unknown) {
                Outcome::Decided(status)
                    if self.messages.wants(&rule.id, &resource.reference, status) =>
                {
                    (status, facts(rule, prepared, &mut shown, status))
                }
                Outcome::Decided(status) => (status, String::new()),
                Outcome::Unknown(reason) => (Status::Error, reason),
            };
            out.push(self.finding(rule, &resource.reference, status, message));
        }
        out
    }

    fn judge(
        &self,
        rule: &Rule,
        prepared: &Prepared<'_>,
        asking: &Asking<'_>,
        unknown: &[UncollectedFact],
    ) -> Outcome {
        // The native path's answer, when it has one; Cedar's otherwise.
        let native = |part: fn(&NativeRule) -> &Native| {
            Some((part(prepared.native.as_ref()?), asking.env.as_ref()?))
        };
        if unknown.is_empty() {
            let decided = native(|n| &n.outcome)
                .and_then(|(outcome, env)| outcome.long(env).ok())
                .and_then(status_of);
            if let Some(status) = decided {
                return Outcome::Decided(status);
            }
            let (request, entities) = match asking.cedar() {
                Ok(cedar) => cedar,
                Err(reason) => return Outcome::Unknown(reason),
            };
            let result = eval_expression(request, entities, &rule.outcome);
            if let Some(status) = result.as_ref().ok().and_then(|r| match r {
                EvalResult::Long(n) => status_of(*n),
                _ => None,
            }) {
                return Outcome::Decided(status);
            }
            return match result {
                Ok(other) => {
                    Outcome::Unknown(format!("rule evaluated to `{other}`, not a boolean"))
                }
                Err(e) => Outcome::Unknown(format!("evaluation error: {e}")),
            };
        }
        let decide = |part: fn(&NativeRule) -> &Native, expr: &Expression| {
            if let Some(answer) = native(part).and_then(|(n, env)| n.bool(env).ok()) {
                return Ok(answer);
            }
            let (request, entities) = asking.cedar()?;
            eval(request, entities, expr)
        };
        // Some fact is unknown: evaluate the parts one by one, so that an unknown fact in the
        // requirement still lets a false `when` say "not applicable".
        if let Some(u) = first_unknown(&rule.applies_attrs, unknown) {
            return Outcome::Unknown(not_collected(u));
        }
        match decide(|n| &n.applies, &rule.applies) {
            Err(reason) => return Outcome::Unknown(reason),
            Ok(false) => return Outcome::Decided(Status::NotApplicable),
            Ok(true) => {}
        }
        if let Some(u) = first_unknown(&rule.requirement_attrs, unknown) {
            return Outcome::Unknown(not_collected(u));
        }
        match decide(|n| &n.requirement, &rule.requirement) {
            Err(reason) => Outcome::Unknown(reason),
            Ok(true) => Outcome::Decided(Status::Pass),
            Ok(false) => Outcome::Decided(Status::Fail),
        }
    }
    fn finding(
        &self,
        rule: &Rule,
        resource: &Arc<Uid>,
        status: Status,
        message: String,
    ) -> Finding {
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
            let entity = Arc::new(entity.clone());
            for rule in self.rules.judging(type_name) {
                let read: Vec<&str> = rule.attrs_read().collect();
                if let Some(u) = facts
                    .iter()
                    .find(|u| u.is_whole_entity() || read.contains(&u.fact.as_str()))
                {
                    out.push(self.finding(rule, &entity, Status::Error, not_collected(u)));
                }
            }
        }
        out
    }
}

/// The status a rule's outcome stands for: `0` not applicable, `1` pass, `2` fail.
fn status_of(outcome: i64) -> Option<Status> {
    match outcome {
        0 => Some(Status::NotApplicable),
        1 => Some(Status::Pass),
        2 => Some(Status::Fail),
        _ => None,
    }
}

fn eval(request: &Request, entities: &Entities, expr: &Expression) -> Result<bool, String> {
    match eval_expression(request, entities, expr) {
        Ok(EvalResult::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("rule evaluated to `{other}`, not a boolean")),
        Err(e) => Err(format!("evaluation error: {e}")),
    }
}

/// "attr = value, …" for the attributes the rule reads (the `when` part only for N/A), then the
/// thresholds that judged it, so a report says which setting it was held to.
fn facts<'a>(
    rule: &'a Rule,
    prepared: &Prepared<'a>,
    shown: &mut Shown<'a>,
    status: Status,
) -> String {
    let mut out = String::new();
    let mut push = |part: &str| {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(part);
    };
    if status == Status::NotApplicable {
        for a in &rule.applies_attrs {
            push(shown.get(a));
        }
    } else {
        for &a in &prepared.attrs_read {
            push(shown.get(a));
        }
        for p in &prepared.params {
            push(p);
        }
    }
    if out.is_empty() {
        match status {
            Status::NotApplicable => "rule does not apply".into(),
            _ => "decided by the rule's scope".into(),
        }
    } else {
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

/// [`show`] of Cedar's value, without building an [`EvalResult`] (copies of every string, a
/// tree per set) for the literals, sets and records that most messages show.
fn show_value(v: &cedar_policy_core::ast::Value) -> String {
    plain(v).unwrap_or_else(|| show(&EvalResult::from(v.clone())))
}

/// [`show`] of a value made of literals, sets and records only; `None` when it holds anything
/// else (an extension value is shown as Cedar writes its expression).
fn plain(v: &cedar_policy_core::ast::Value) -> Option<String> {
    use cedar_policy_core::ast::{Literal, ValueKind};
    Some(match v.value_kind() {
        ValueKind::Lit(Literal::Bool(b)) => b.to_string(),
        ValueKind::Lit(Literal::Long(n)) => n.to_string(),
        ValueKind::Lit(Literal::String(s)) => format!("{:?}", s.as_str()),
        ValueKind::Lit(Literal::EntityUID(uid)) => uid.to_string(),
        ValueKind::ExtensionValue(_) => return None,
        ValueKind::Set(set) => {
            let mut items = set.iter().map(plain).collect::<Option<Vec<_>>>()?;
            items.sort();
            format!("[{}]", items.join(", "))
        }
        ValueKind::Record(fields) => {
            let mut items = fields
                .iter()
                .map(|(k, v)| Some(format!("{k}: {}", plain(v)?)))
                .collect::<Option<Vec<_>>>()?;
            items.sort();
            format!("{{{}}}", items.join(", "))
        }
    })
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
    let entities = store.all_entities().map_err(EngineError)?;
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
        let response = authorizer.is_authorized(&request, set, &entities);
        for id in response.diagnostics().reason() {
            fired.push((id.to_string(), (*resource.reference).clone()));
        }
    }
    fired.sort();
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::str::FromStr;

    /// The built-in schema and a custom one of this text.
    fn hr_schema(text: &str) -> crate::schema::SchemaSet {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hr.cedarschema");
        std::fs::write(&path, text).unwrap();
        crate::schema::SchemaSet::with_custom(&[path]).unwrap()
    }

    /// A store of these entities, collected at `collected_at`.
    fn store_of(
        entities: &[serde_json::Value],
        collected_at: &str,
        schema: &crate::schema::SchemaSet,
    ) -> Store {
        let text = serde_json::json!({
            "format": "trustcheck.snapshot/v1",
            "collected_at": collected_at,
            "sources": [],
            "entities": entities,
        })
        .to_string();
        let input = crate::entities::Input::parse("hr.json".into(), text).unwrap();
        Store::load(vec![input], schema).unwrap()
    }

    /// The shipped rules and both nights of the demo company, by file name.
    fn demo_nights() -> (RuleSet, Vec<(&'static str, Store)>) {
        let schema = crate::schema::SchemaSet::builtin().unwrap();
        let rules = RuleSet::load(crate::rules::builtin_sources(), &schema).unwrap();
        let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
        let nights = ["snapshot.json", "snapshot-previous.json"]
            .into_iter()
            .map(|file| {
                let input = crate::entities::Input::read(&demo.join(file)).unwrap();
                (file, Store::load(vec![input], &schema).unwrap())
            })
            .collect();
        (rules, nights)
    }

    /// The shipped rules and the demo's current night.
    fn demo() -> (RuleSet, Store) {
        let schema = crate::schema::SchemaSet::builtin().unwrap();
        let rules = RuleSet::load(crate::rules::builtin_sources(), &schema).unwrap();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/snapshot.json");
        let store =
            Store::load(vec![crate::entities::Input::read(&path).unwrap()], &schema).unwrap();
        (rules, store)
    }

    /// Every shipped rule reads only the resource it judges: `check` never holds Cedar's store
    /// of everything (docs/performance.md).
    #[test]
    fn shipped_rules_are_judged_a_chunk_at_a_time() {
        let (rules, store) = demo();
        let reading: Vec<&str> = rules
            .rules()
            .iter()
            .filter(|r| r.reads_through.is_none())
            .map(|r| r.id.as_ref())
            .collect();
        assert!(reading.is_empty(), "{reading:?}");
        let judge = Judge::new(&rules, &store, Messages::All).unwrap();
        assert!(judge.apart);
        // Okta's sign-on rule reads its policy's status: each chunk holds the policies its
        // rules reference.
        assert_eq!(judge.follow.iter().collect::<Vec<_>>(), ["policy"]);
    }

    /// Rules that read entities their resource references (`resource.team.active`, through a
    /// record `resource.info.team.active`, along a chain `resource.boss.name`) are judged on a
    /// chunk's store with the referenced entities added; one that reads an entity named in the
    /// rule (`Hr::Team::"a".active`), on one store of everything. With more resources than a
    /// chunk holds, persons in the first chunk and their teams outside it, every rule must judge
    /// as Cedar's authorizer does on the store of everything (a chunk missing a team makes
    /// `.active` an error and `has active` false: a false pass).
    #[test]
    fn rules_reading_other_entities_see_them_in_a_chunk_or_in_the_store_of_everything() {
        let schema = hr_schema(
            "namespace Hr {\n  entity Team = { active: Bool };\n  entity Person = { team: Team, name: String, info: { team: Team }, boss?: Person };\n}\n",
        );
        let rule = |id: &str, requirement: &str| {
            crate::rules::RuleSource {
            file: crate::diagnostics::SourceFile::new(
                format!("p/{id}.cedar"),
                format!(
                    "@id(\"{id}\")\n@soc2(\"CC6.1\")\n@severity(\"low\")\n@title(\"t\")\n@remediation(\"r\")\nforbid (principal, action, resource is Hr::Person) unless {{ {requirement} }};\n"
                ),
            ),
            origin: crate::rules::Origin::Custom,
        }
        };
        let set = |id: &str, requirement: &str| {
            RuleSet::load(vec![rule(id, requirement)], &schema).unwrap()
        };
        let reaching = set("team-active", "resource.team.active");
        let in_record = set("info-team-active", "resource.info.team.active");
        let has_in_record = set("info-team-has", "!(resource.info.team has active)");
        let chain = set(
            "boss-named",
            r#"resource has boss && resource.boss.name == "n""#,
        );
        let named = set(
            "team-a-active",
            r#"resource.team == Hr::Team::"a" && Hr::Team::"a".active"#,
        );
        let local = set("team-a", r#"resource.team == Hr::Team::"a""#);
        assert_eq!(
            reaching.rules()[0].reads_through,
            Some(vec!["team".to_string()])
        );
        assert_eq!(in_record.rules()[0].read_depth, 2);

        let people = CHUNK + 100;
        let mut entities = vec![
            serde_json::json!({"uid": {"type": "Hr::Team", "id": "a"}, "attrs": {"active": true}, "parents": []}),
            serde_json::json!({"uid": {"type": "Hr::Team", "id": "b"}, "attrs": {"active": false}, "parents": []}),
        ];
        for i in 0..people {
            let team = serde_json::json!({"type": "Hr::Team", "id": if i.is_multiple_of(2) { "a" } else { "b" }});
            let mut attrs = serde_json::json!({"team": team, "name": "n", "info": {"team": team}});
            if i > 0 {
                attrs["boss"] =
                    serde_json::json!({"type": "Hr::Person", "id": format!("p{:05}", i - 1)});
            }
            entities.push(serde_json::json!({
                "uid": {"type": "Hr::Person", "id": format!("p{i:05}")},
                "attrs": attrs,
                "parents": [],
            }));
        }
        let store = store_of(&entities, "2026-11-22T03:00:00Z", &schema);
        // Persons sort before teams: the first chunk holds persons only.
        assert_eq!(store.resources[0].reference.type_name, "Hr::Person");
        let judge = Judge::new(&reaching, &store, Messages::All).unwrap();
        assert!(judge.apart);
        assert_eq!(judge.follow.iter().collect::<Vec<_>>(), ["team"]);
        let mut follow: Vec<String> = Judge::new(&in_record, &store, Messages::All)
            .unwrap()
            .follow
            .into_iter()
            .collect();
        follow.sort();
        assert_eq!(follow, ["info", "team"]);
        assert!(!Judge::new(&named, &store, Messages::All).unwrap().apart);
        assert!(Judge::new(&local, &store, Messages::All)
            .unwrap()
            .follow
            .is_empty());
        for set in [
            &reaching,
            &in_record,
            &has_in_record,
            &chain,
            &named,
            &local,
        ] {
            let findings = evaluate(set, &store).unwrap();
            assert_eq!(findings.len(), people);
            let mut failed: Vec<(String, Uid)> = Vec::new();
            for f in &findings {
                assert_ne!(
                    f.status,
                    Status::Error,
                    "{} on {}: {}",
                    f.rule,
                    f.resource,
                    f.message
                );
                if f.status == Status::Fail {
                    failed.push((f.rule.to_string(), (*f.resource).clone()));
                }
            }
            assert_eq!(failed, authorizer_failures(set, &store).unwrap());
        }
        for f in evaluate(&reaching, &store).unwrap() {
            let n: usize = f.resource.id.trim_start_matches('p').parse().unwrap();
            let expected = if n.is_multiple_of(2) {
                Status::Pass
            } else {
                Status::Fail
            };
            assert_eq!(f.status, expected);
        }
        // A chain of references adds one level per level the rules read, not the whole chain.
        let boss: FxHashSet<String> = ["boss".to_string()].into_iter().collect();
        let second = CHUNK..people;
        let one = store.entities(second.clone(), &boss, 1).unwrap();
        assert_eq!(one.iter().count(), second.len() + 1);
        let three = store.entities(second.clone(), &boss, 3).unwrap();
        assert_eq!(three.iter().count(), second.len() + 3);
    }

    /// Every (rule, resource) of `rules` on `store` judged by the native path and by Cedar's
    /// evaluator on the store of everything: wherever the native path answers, its answer is
    /// Cedar's, for the outcome and for each part. Returns how many outcomes it answered where
    /// the rule applies, by rule, and how many it left to Cedar.
    fn native_agrees(rules: &RuleSet, store: &Store) -> (BTreeMap<String, usize>, usize) {
        let judge = Judge::new(rules, store, Messages::All).unwrap();
        let natives = judge.natives.as_ref().unwrap();
        let whole = store.all_entities().unwrap();
        let (mut answered, mut asked) = (BTreeMap::new(), 0);
        for (index, resource) in store.resources.iter().enumerate() {
            let env = Env {
                store,
                resource: index,
                context: &natives.contexts[resource.snapshot],
                principal: &natives.principal,
                action: &natives.action,
            };
            let request = Request::new(
                judge.principal.clone(),
                judge.action.clone(),
                resource.uid.clone(),
                judge.contexts[resource.snapshot].clone(),
                None,
            )
            .unwrap();
            for &i in rules.for_type(&resource.reference.type_name) {
                let rule = &rules.rules()[i];
                let Some(native) = &judge.prepared[i].native else {
                    asked += 1;
                    continue;
                };
                let cedar = |e: &Expression| eval_expression(&request, &whole, e).ok();
                let at = format!("{} on {}", rule.id, resource.reference);
                match native.outcome.long(&env) {
                    Ok(n) => {
                        if n != 0 {
                            *answered.entry(rule.id.to_string()).or_default() += 1;
                        }
                        assert_eq!(Some(EvalResult::Long(n)), cedar(&rule.outcome), "{at}");
                    }
                    Err(native::Ask) => asked += 1,
                }
                for (part, n, expr) in [
                    ("applies", &native.applies, &rule.applies),
                    ("requirement", &native.requirement, &rule.requirement),
                ] {
                    if let Ok(b) = n.bool(&env) {
                        assert_eq!(Some(EvalResult::Bool(b)), cedar(expr), "{at}, part {part}");
                    }
                }
            }
        }
        (answered, asked)
    }

    /// Findings with the native path and with Cedar alone, for the same rules and store.
    fn both_ways(rules: &RuleSet, store: &Store) -> (Vec<Finding>, Vec<Finding>) {
        let native = Judge::new(rules, store, Messages::All).unwrap();
        let mut cedar = Judge::new(rules, store, Messages::All).unwrap();
        cedar.natives = None;
        (judge_all(&native), judge_all(&cedar))
    }

    /// Every shipped rule is judged natively on the demo company, with Cedar's answers and the
    /// same findings, messages included, as Cedar alone gives.
    #[test]
    fn shipped_rules_are_judged_natively_as_cedar_judges_them() {
        let (rules, nights) = demo_nights();
        for (file, store) in nights {
            let (answered, asked) = native_agrees(&rules, &store);
            assert!(
                answered.values().sum::<usize>() > 100,
                "{file}: {answered:?}"
            );
            assert_eq!(asked, 0, "{file}: every shipped rule is answered natively");
            let (native, cedar) = both_ways(&rules, &store);
            assert!(native == cedar, "{file}: findings differ");
        }
    }

    /// Every construct of Cedar's expressions, on values that make Cedar answer and on values
    /// that make it fail (a missing attribute, a type error, an overflow, an entity outside the
    /// store): the native path answers as Cedar does or leaves the answer to Cedar, and the
    /// findings, `error` reasons included, are Cedar's.
    #[test]
    fn native_path_answers_as_cedar_or_asks_it() {
        let schema = hr_schema(
            "namespace Hr {\n  entity Org;\n  entity Team in [Org] = { active: Bool };\n  entity Person in [Team] = { team: Team, name: String, age: Long, tags: Set<String>, info: { team: Team, level?: Long }, boss?: Person, since?: datetime };\n}\n",
        );
        let requirements = [
            r#"resource.team.active"#,
            r#"resource.info.team.active && resource.info has level"#,
            r#"resource has info.level && resource.info.level > 2"#,
            r#"resource.info.level > 2"#,
            r#"resource has boss.boss.name"#,
            r#"resource has boss && resource.boss.name like "p*1""#,
            r#"resource in Hr::Org::"o" || resource in [Hr::Team::"a"]"#,
            r#"resource.team in Hr::Org::"o""#,
            r#"resource is Hr::Person && !(resource.team is Hr::Org)"#,
            r#"resource.tags.contains("x") || resource.tags.containsAll(["y", "z"])"#,
            r#"resource.tags.containsAny(["z"]) && !resource.tags.isEmpty()"#,
            r#"resource.age * 2 + 1 - 3 >= 10 && -resource.age < 0"#,
            r#"resource.age * 9223372036854775807 > 0"#,
            r#"resource.name == "p00001" || resource.team == Hr::Team::"a""#,
            r#"{a: resource.age, b: [resource.name]} == {a: 7, b: ["p00007"]}"#,
            r#"{a: resource.team}.a.active"#,
            r#"if resource has since then context.now.durationSince(resource.since) < duration("30d") else resource.age > 3"#,
            r#"resource.since < context.now"#,
            r#"resource.name < "b""#,
            r#"resource.name.isEmpty()"#,
            r#"principal.name == "x""#,
            r#"Hr::Team::"missing".active"#,
            r#"Hr::Team::"missing" has active"#,
            r#"resource.boss.team.active"#,
            r#"decimal("1.5").lessThan(decimal("2.0")) && ip("10.0.0.1").isInRange(ip("10.0.0.0/8"))"#,
            r#"resource in Hr::Org::"gone" || resource.team in Hr::Org::"gone""#,
        ];
        // Built from one checked rule with its parts replaced, without Cedar's validator: some
        // of these are type errors it would refuse, and the point is what evaluation does with
        // them. Each is judged on the store of everything (`reads_through: None`).
        let template = RuleSet::load(
            vec![crate::rules::RuleSource {
                file: crate::diagnostics::SourceFile::new(
                    "p/r.cedar",
                    "@id(\"r\")\n@soc2(\"CC6.1\")\n@severity(\"low\")\n@title(\"t\")\n@remediation(\"r\")\nforbid (principal, action, resource is Hr::Person) when { resource.age > 0 } unless { resource.team.active };\n",
                ),
                origin: crate::rules::Origin::Custom,
            }],
            &schema,
        )
        .unwrap()
        .rules()[0]
            .clone();
        let applies = "(resource is Hr::Person) && (resource.age > 0)";
        let rules = RuleSet::from_rules(
            requirements
                .iter()
                .enumerate()
                .map(|(n, requirement)| {
                    let parse = |src: &str| Expression::from_str(src).unwrap();
                    crate::rules::Rule {
                        id: format!("r{n:02}").into(),
                        requirement: parse(requirement),
                        outcome: parse(&format!(
                            "if ({applies}) then (if ({requirement}) then 1 else 2) else 0"
                        )),
                        reads_through: None,
                        ..template.clone()
                    }
                })
                .collect(),
        );
        let mut entities = vec![
            serde_json::json!({"uid": {"type": "Hr::Org", "id": "o"}, "attrs": {}, "parents": []}),
            serde_json::json!({"uid": {"type": "Hr::Team", "id": "a"}, "attrs": {"active": true}, "parents": [{"type": "Hr::Org", "id": "o"}]}),
            serde_json::json!({"uid": {"type": "Hr::Team", "id": "b"}, "attrs": {"active": false}, "parents": []}),
            // In an organisation that was not collected.
            serde_json::json!({"uid": {"type": "Hr::Team", "id": "c"}, "attrs": {"active": true}, "parents": [{"type": "Hr::Org", "id": "gone"}]}),
        ];
        for i in 0..40 {
            let team = serde_json::json!({"type": "Hr::Team", "id": (["a", "b", "c"][i % 3])});
            let mut info = serde_json::json!({"team": team});
            if i % 4 != 0 {
                info["level"] = serde_json::json!(i % 5);
            }
            let tags: Vec<&str> = ["x", "y", "z"].into_iter().take(i % 4).collect();
            let mut attrs = serde_json::json!({
                "team": team, "name": format!("p{i:05}"), "age": i as i64 - 5,
                "tags": tags, "info": info,
            });
            if i % 5 != 0 {
                // The first persons' bosses are not in the snapshot.
                let boss = if i < 3 { 900 + i } else { i - 1 };
                attrs["boss"] =
                    serde_json::json!({"type": "Hr::Person", "id": format!("p{boss:05}")});
            }
            if i % 2 == 0 {
                attrs["since"] = serde_json::json!(format!("2026-0{}-01T00:00:00Z", 1 + i % 9));
            }
            entities.push(serde_json::json!({
                "uid": {"type": "Hr::Person", "id": format!("p{i:05}")},
                "attrs": attrs,
                "parents": [team],
            }));
        }
        let store = store_of(&entities, "2026-06-01T00:00:00Z", &schema);
        // The store's hierarchy is the one Cedar's own closure computes from the same entities
        // (an organisation that was not collected is still the ancestor of its team's persons).
        let hierarchy: Vec<serde_json::Value> = entities
            .iter()
            .map(|e| serde_json::json!({"uid": e["uid"], "attrs": {}, "parents": e["parents"]}))
            .collect();
        let cedars = Entities::from_json_value(serde_json::Value::Array(hierarchy), None).unwrap();
        let ours = store.all_entities().unwrap();
        for r in &store.resources {
            let set = |e: &Entities| {
                let mut all: Vec<String> = e
                    .ancestors(&r.uid)
                    .into_iter()
                    .flatten()
                    .map(ToString::to_string)
                    .collect();
                all.sort();
                all
            };
            assert_eq!(set(&ours), set(&cedars), "{}", r.reference);
        }
        let (answered, asked) = native_agrees(&rules, &store);
        // Each rule that Cedar can answer on some person it applies to is answered natively
        // there; those that always fail (a type error, an entity outside the store) never are.
        let never = ["r18", "r19", "r20", "r21", "r22"];
        for (n, requirement) in requirements.iter().enumerate() {
            let id = format!("r{n:02}");
            let count = answered.get(&id).copied().unwrap_or(0);
            if never.contains(&id.as_str()) {
                assert_eq!(count, 0, "{id}: {requirement}");
            } else {
                assert!(count > 0, "{id}: {requirement}");
            }
        }
        assert!(asked > 150, "the failing cases are left to Cedar: {asked}");
        let (native, cedar) = both_ways(&rules, &store);
        assert_eq!(native.len(), cedar.len());
        for (n, c) in native.iter().zip(&cedar) {
            assert_eq!(
                (&n.rule, &n.resource, n.status, &n.message),
                (&c.rule, &c.resource, c.status, &c.message)
            );
        }
        let errors = native.iter().filter(|f| f.status == Status::Error).count();
        assert!(errors > 50, "{errors}");
    }

    /// Findings come out of `judge_all` already in (rule, resource) order, each resource's in its
    /// own slots: the final sort only merges the few `missing` findings.
    #[test]
    fn findings_are_laid_out_in_report_order_without_a_sort() {
        let (rules, nights) = demo_nights();
        for (file, store) in nights {
            let judge = Judge::new(&rules, &store, Messages::All).unwrap();
            let laid_out = judge_all(&judge);
            let expected: usize = store
                .resources
                .iter()
                .map(|r| rules.for_type(&r.reference.type_name).len())
                .sum();
            assert_eq!(laid_out.len(), expected, "{file}");
            assert!(laid_out.len() > 100, "{file}");
            let mut sorted = laid_out.clone();
            findings::sort(&mut sorted);
            assert!(laid_out == sorted, "{file}: not in (rule, resource) order");
        }
    }

    /// Messages only where asked: the same findings, statuses and `error` reasons, and an empty
    /// message exactly where the question said no.
    #[test]
    fn messages_are_built_only_where_asked() {
        let (rules, store) = demo();
        let all = evaluate(&rules, &store).unwrap();
        let wants = |rule: &str, resource: &Uid, status: Status| {
            status == Status::Fail || (rule.starts_with("aws-") && resource.id.contains("admin"))
        };
        let some = evaluate_with(&rules, &store, Messages::Only(&wants)).unwrap();
        assert_eq!(all.len(), some.len());
        let (mut kept, mut left) = (0, 0);
        for (a, s) in all.iter().zip(&some) {
            assert_eq!(
                (&a.rule, &a.resource, a.status),
                (&s.rule, &s.resource, s.status)
            );
            assert_eq!(a.fingerprint, s.fingerprint);
            if a.status == Status::Error || wants(&a.rule, &a.resource, a.status) {
                assert_eq!(a.message, s.message);
                kept += 1;
            } else {
                assert_eq!(s.message, "", "{} {}", a.rule, a.resource);
                assert!(!a.message.is_empty());
                left += 1;
            }
        }
        assert!(kept > 50 && left > 50, "{kept} kept, {left} left");
    }

    #[test]
    fn permute_moves_each_item_to_its_destination_in_place() {
        let mut items = vec!['a', 'b', 'c', 'd', 'e'];
        // a→2, b→0, c→1 (one cycle), d and e swap (another).
        permute(&mut items, vec![2, 0, 1, 4, 3]);
        assert_eq!(items, vec!['b', 'c', 'a', 'e', 'd']);
        let mut same = vec![1, 2, 3];
        permute(&mut same, vec![0, 1, 2]);
        assert_eq!(same, vec![1, 2, 3]);
    }

    #[test]
    fn permute_leaves_items_alone_unless_given_a_permutation() {
        for dest in [vec![0, 0, 1], vec![0, 1], vec![0, 1, 3], vec![2, 1, 0, 3]] {
            let mut items = vec![1, 2, 3];
            permute(&mut items, dest.clone());
            assert_eq!(items, vec![1, 2, 3], "{dest:?}");
        }
    }

    #[test]
    fn constructor_is_stripped_from_datetimes() {
        assert_eq!(
            strip_constructor(r#"datetime("2026-01-01T00:00:00Z")"#),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(strip_constructor("plain"), "plain");
    }

    #[test]
    fn values_are_shown_as_cedars_eval_result_shows_them() {
        use cedar_policy_core::ast::{EntityUID, Value};
        let same = |v: &Value| assert_eq!(show_value(v), show(&EvalResult::from(v.clone())));
        let schema = crate::schema::SchemaSet::builtin().unwrap();
        let (_, nights) = demo_nights();
        let mut shown = 0;
        for (_, store) in &nights {
            for (i, r) in store.resources.iter().enumerate() {
                let spec = schema.entity_type(&r.reference.type_name).unwrap();
                for name in spec.attrs.keys() {
                    if let Some(v) = store.attr(i, name) {
                        same(v);
                        shown += 1;
                    }
                }
            }
        }
        assert!(shown > 1000, "{shown}");
        let uid = EntityUID::from_str(r#"Aws::IamUser::"a\"b""#).unwrap();
        let odd = [
            Value::from("quote \" tab \t é \u{202e} \\"),
            Value::from(-7),
            Value::from(false),
            Value::from(uid.clone()),
            Value::empty_set(None),
            Value::set([Value::from("b"), Value::from("a"), Value::from(uid)], None),
            Value::record(
                [
                    ("z", Value::from(1)),
                    ("a b", Value::set([Value::from(true)], None)),
                ],
                None,
            ),
        ];
        for v in &odd {
            same(v);
        }
    }
}
