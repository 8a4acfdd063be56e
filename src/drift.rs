//! Drift: what changed between two states, in the facts and in the findings.
//!
//! [`facts`] compares two snapshots entity by entity and attribute by attribute (e.g. last night's
//! and tonight's); [`status_changes`] compares two evaluations (two snapshots under the same rules,
//! or one snapshot under two rule sets, the policy impact preview of a pull request).
//!
//! This module only compares data; it never evaluates rules or renders text (see
//! [`crate::report::drift`]).

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::findings::{Finding, Fingerprint, Status, Uid};
use crate::severity::Severity;
use crate::snapshot::UncollectedFact;
use trustcheck_snapshot::Entity;
use trustcheck_snapshot::SnapshotText;

/// The format tag of the JSON drift report.
pub const DRIFT_FORMAT: &str = "trustcheck.drift/v1";

/// One attribute whose value changed (absent on one side when it was added or removed, or when
/// the fact could not be collected).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttrChange {
    /// The attribute name.
    pub attr: String,
    /// The old value, if the old entity had it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The new value, if the new entity has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// An entity present in both snapshots whose attributes or parents differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityChange {
    /// The entity.
    pub entity: Uid,
    /// Changed attributes, by name.
    pub attrs: Vec<AttrChange>,
    /// Parents added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parents_added: Vec<Uid>,
    /// Parents removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parents_removed: Vec<Uid>,
}

/// What changed in the facts between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FactDrift {
    /// Entities only in the new snapshot, sorted.
    pub added: Vec<Uid>,
    /// Entities only in the old snapshot, sorted.
    pub removed: Vec<Uid>,
    /// Entities in both whose facts differ, sorted by uid.
    pub changed: Vec<EntityChange>,
    /// Facts that could not be collected in the new snapshot but could in the old one.
    pub errors_added: Vec<UncollectedFact>,
    /// Facts that could not be collected in the old snapshot and now could.
    pub errors_removed: Vec<UncollectedFact>,
}

impl FactDrift {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.errors_added.is_empty()
            && self.errors_removed.is_empty()
    }
}

/// Why two snapshots' facts could not be compared: an entity's text is not an entity (the full
/// parse of the snapshot, which locates the problem, says more).
#[derive(Debug, thiserror::Error)]
#[error("{entity} of the {side} snapshot: {source}")]
pub struct FactsError {
    /// `old` or `new`.
    pub side: &'static str,
    /// Which entity: its uid, or its position in `entities` when its uid is unreadable.
    pub entity: String,
    /// What serde said.
    pub source: serde_json::Error,
}

/// Compares two snapshots' entities and collection errors. Entities are matched by uid and
/// compared in parallel, walked in uid order (the order of every list in the result); an entity
/// whose JSON text is the same on both sides is unchanged without being parsed, the others are
/// parsed and compared attribute by attribute (so that formatting or key order is no change).
pub fn facts(old: &SnapshotText<'_>, new: &SnapshotText<'_>) -> Result<FactDrift, FactsError> {
    let old_by = by_uid(&old.entities, "old")?;
    let new_by = by_uid(&new.entities, "new")?;
    /// What became of one entity of the new snapshot.
    enum Compared {
        Added(Uid),
        Changed(EntityChange),
        Same,
    }
    let compared: Vec<Result<Compared, FactsError>> = new_by
        .par_iter()
        .map(|(uid, n)| match find(&old_by, uid) {
            None => Ok(Compared::Added(uid.clone())),
            Some(o) if o == *n => Ok(Compared::Same),
            Some(o) => {
                let parse = |text: &str, side| {
                    serde_json::from_str::<Entity>(text).map_err(|source| FactsError {
                        side,
                        entity: format!("entity `{uid}`"),
                        source,
                    })
                };
                Ok(entity_change(&parse(o, "old")?, &parse(n, "new")?)
                    .map_or(Compared::Same, Compared::Changed))
            }
        })
        .collect();
    let mut drift = FactDrift::default();
    for c in compared {
        match c? {
            Compared::Added(uid) => drift.added.push(uid),
            Compared::Changed(change) => drift.changed.push(change),
            Compared::Same => {}
        }
    }
    drift.removed = old_by
        .iter()
        .filter(|(uid, _)| find(&new_by, uid).is_none())
        .map(|(uid, _)| uid.clone())
        .collect();

    let key = |e: &UncollectedFact| (e.entity.clone(), e.fact.clone());
    let old_errors: BTreeMap<_, &UncollectedFact> = old
        .sources
        .iter()
        .flat_map(|s| &s.errors)
        .map(|e| (key(e), e))
        .collect();
    let new_errors: BTreeMap<_, &UncollectedFact> = new
        .sources
        .iter()
        .flat_map(|s| &s.errors)
        .map(|e| (key(e), e))
        .collect();
    drift.errors_added = new_errors
        .iter()
        .filter(|(k, _)| !old_errors.contains_key(*k))
        .map(|(_, e)| (*e).clone())
        .collect();
    drift.errors_removed = old_errors
        .iter()
        .filter(|(k, _)| !new_errors.contains_key(*k))
        .map(|(_, e)| (*e).clone())
        .collect();
    Ok(drift)
}

/// The text of the entity `uid` in a list sorted by uid.
fn find<'a>(side: &[(Uid, &'a str)], uid: &Uid) -> Option<&'a str> {
    side.binary_search_by(|(u, _)| u.cmp(uid))
        .ok()
        .and_then(|i| side.get(i))
        .map(|(_, text)| *text)
}

/// Each entity's uid (read from its text, nothing else parsed) and text, sorted by uid; of a uid
/// listed twice, the later (loading rejects such a snapshot).
fn by_uid<'a>(
    entities: &[&'a RawValue],
    side: &'static str,
) -> Result<Vec<(Uid, &'a str)>, FactsError> {
    /// The uid of an entity; its other fields are skipped. The same shape as [`Entity`], so that
    /// the array form `[uid, attrs, parents]` reads as well as the object.
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Head {
        uid: Uid,
        #[serde(default)]
        attrs: serde::de::IgnoredAny,
        #[serde(default)]
        parents: serde::de::IgnoredAny,
    }
    let mut sorted: Vec<(usize, Uid, &str)> = entities
        .par_iter()
        .enumerate()
        .map(|(index, raw)| {
            serde_json::from_str::<Head>(raw.get())
                .map(|h| (index, h.uid, raw.get()))
                .map_err(|source| FactsError {
                    side,
                    entity: format!("entity {index}"),
                    source,
                })
        })
        .collect::<Result<_, _>>()?;
    // Stable: of equal uids, the later stays later.
    sorted.par_sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    let mut out: Vec<(Uid, &str)> = Vec::with_capacity(sorted.len());
    for (_, uid, text) in sorted {
        if out.last().is_some_and(|(last, _)| *last == uid) {
            out.pop();
        }
        out.push((uid, text));
    }
    Ok(out)
}

/// What changed in one entity between two snapshots, if anything.
fn entity_change(o: &Entity, n: &Entity) -> Option<EntityChange> {
    let names: BTreeSet<&String> = o.attrs.keys().chain(n.attrs.keys()).collect();
    let attrs: Vec<AttrChange> = names
        .into_iter()
        .filter_map(|name| {
            let (a, b) = (o.attrs.get(name), n.attrs.get(name));
            (a != b).then(|| AttrChange {
                attr: name.clone(),
                old: a.cloned(),
                new: b.cloned(),
            })
        })
        .collect();
    let op: BTreeSet<&Uid> = o.parents.iter().collect();
    let np: BTreeSet<&Uid> = n.parents.iter().collect();
    let parents_added: Vec<Uid> = np.difference(&op).map(|r| (*r).clone()).collect();
    let parents_removed: Vec<Uid> = op.difference(&np).map(|r| (*r).clone()).collect();
    (!attrs.is_empty() || !parents_added.is_empty() || !parents_removed.is_empty()).then(|| {
        EntityChange {
            entity: n.uid.clone(),
            attrs,
            parents_added,
            parents_removed,
        }
    })
}

/// A (rule, resource) whose status differs between two evaluations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// The rule's `@id`.
    pub rule: String,
    /// The rule's `@title` (from the new evaluation when it has one).
    pub title: String,
    /// The rule's severity (new evaluation first).
    pub severity: Severity,
    /// The SOC 2 criteria of the rule.
    pub soc2: Vec<String>,
    /// The resource.
    pub resource: Uid,
    /// The status before; absent when the (rule, resource) was not evaluated then (new resource,
    /// new rule, or a rule that no longer targets this type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Status>,
    /// The status now; absent when it is no longer evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Status>,
    /// The message of the new finding, or of the old one when there is no new finding.
    pub message: String,
    /// The finding fingerprint (rule, resource).
    pub fingerprint: Fingerprint,
}

impl StatusChange {
    /// Whether this change makes things worse: a failure or an error where there was none.
    pub fn is_regression(&self) -> bool {
        matches!(self.new, Some(Status::Fail | Status::Error)) && self.old != self.new
    }
}

/// The (rule, resource) pairs whose status differs, sorted by (rule, resource). Pairs evaluated in
/// neither, or with the same status in both, are left out.
///
/// A merge of the two lists in (rule, resource) order, the order [`crate::engine::evaluate`]
/// returns (either list is sorted first when it is not): no map of 100,000s of fingerprints.
pub fn status_changes(old: &[Finding], new: &[Finding]) -> Vec<StatusChange> {
    fn sorted(findings: &[Finding]) -> Vec<&Finding> {
        let mut refs: Vec<&Finding> = findings.iter().collect();
        if !refs.is_sorted_by(|a, b| key(a) <= key(b)) {
            refs.sort_by(|a, b| key(a).cmp(&key(b)));
        }
        // One finding per (rule, resource); a repeat would be a bug, and the last one counts, as
        // it did when this was a map.
        refs.dedup_by(|later, earlier| {
            let same = key(later) == key(earlier);
            if same {
                *earlier = *later;
            }
            same
        });
        refs
    }
    let (old, new) = (sorted(old), sorted(new));
    let change = |o: Option<&Finding>, n: Option<&Finding>| -> Option<StatusChange> {
        let (os, ns) = (o.map(|f| f.status), n.map(|f| f.status));
        if os == ns {
            return None;
        }
        let f = n.or(o)?;
        Some(StatusChange {
            rule: f.rule.to_string(),
            title: f.title.to_string(),
            severity: f.severity,
            soc2: f.soc2.to_vec(),
            resource: (*f.resource).clone(),
            old: os,
            new: ns,
            message: f.message.clone(),
            fingerprint: f.fingerprint,
        })
    };
    let mut changes = Vec::new();
    let (mut o, mut n) = (old.iter().peekable(), new.iter().peekable());
    loop {
        let next = match (o.peek(), n.peek()) {
            (None, None) => break,
            (Some(_), None) => change(o.next().copied(), None),
            (None, Some(_)) => change(None, n.next().copied()),
            (Some(a), Some(b)) => match key(a).cmp(&key(b)) {
                std::cmp::Ordering::Less => change(o.next().copied(), None),
                std::cmp::Ordering::Greater => change(None, n.next().copied()),
                std::cmp::Ordering::Equal => change(o.next().copied(), n.next().copied()),
            },
        };
        changes.extend(next);
    }
    changes
}

/// The (rule, resource) pair a finding is about: the order of every list of findings.
fn key(f: &Finding) -> (&str, &Uid) {
    (f.rule.as_ref(), &f.resource)
}

/// The status of each (rule, resource) pair of findings sorted by (rule, resource), as
/// [`crate::engine::evaluate`] returns them, to be looked up once per finding of another list.
/// Each rule's findings are a run sorted by resource: a lookup finds the rule's run in a map and
/// the resource in the run, not comparing rule ids at every step of a search over all findings
/// (a binary search over all findings was 5% of a `perf` profile of `diff` at 100k resources;
/// a map of every pair measured no faster and held 35 MB more). A run is split by the
/// resource's type, so that the search compares ids only (string compares were 6% of `diff`).
pub struct Statuses<'a> {
    findings: &'a [Finding],
    runs: FxHashMap<(&'a str, &'a str), std::ops::Range<usize>>,
}

impl<'a> Statuses<'a> {
    /// The statuses of `findings`, sorted by (rule, resource). Unsorted findings (never given)
    /// get no runs: every pair then reads as not evaluated, so `diff` builds every message,
    /// rather than a wrong status leaving a changed finding without its message.
    pub fn of(findings: &'a [Finding]) -> Self {
        let mut runs: FxHashMap<(&'a str, &'a str), std::ops::Range<usize>> = FxHashMap::default();
        if !findings.is_sorted_by(|a, b| key(a) <= key(b)) {
            return Statuses { findings, runs };
        }
        let mut start = 0;
        for (at, f) in findings.iter().enumerate() {
            let next = findings.get(at + 1);
            if next.is_none_or(|n| n.rule != f.rule || n.resource.type_name != f.resource.type_name)
            {
                runs.insert(
                    (f.rule.as_ref(), f.resource.type_name.as_str()),
                    start..at + 1,
                );
                start = at + 1;
            }
        }
        Statuses { findings, runs }
    }

    /// The status of `rule` on `resource`; `None` when the pair was not evaluated. Of a repeated
    /// pair (never expected), the last counts, as in [`status_changes`].
    pub fn get(&self, rule: &str, resource: &Uid) -> Option<Status> {
        let run = self
            .findings
            .get(self.runs.get(&(rule, resource.type_name.as_str()))?.clone())?;
        let after = run.partition_point(|f| f.resource.id <= resource.id);
        after
            .checked_sub(1)
            .and_then(|at| run.get(at))
            .filter(|f| f.resource.as_ref() == resource)
            .map(|f| f.status)
    }
}

/// A whole drift report: facts and findings between an old and a new snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    /// Always [`DRIFT_FORMAT`].
    pub format: &'static str,
    /// The old snapshot's `collected_at`.
    pub old_collected_at: String,
    /// The new snapshot's `collected_at`.
    pub new_collected_at: String,
    /// What changed in the facts.
    pub facts: FactDrift,
    /// Findings whose status changed, both snapshots judged by the same rules.
    pub findings: Vec<StatusChange>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::fingerprint;
    use crate::snapshot::{Entity, Snapshot, Source};
    use serde_json::json;

    fn entity(id: &str, attrs: Value) -> Entity {
        Entity {
            uid: Uid {
                type_name: "Github::Branch".into(),
                id: id.into(),
            },
            attrs: attrs.as_object().cloned().unwrap_or_default(),
            parents: vec![],
        }
    }

    #[test]
    fn facts_report_changed_added_removed_and_collection_errors() {
        let mut old = Snapshot::new("2026-11-21T03:00:00Z");
        old.entities = vec![
            entity(
                "a:main",
                json!({"requiredApprovingReviews": 1, "protected": true}),
            ),
            entity("gone:main", json!({})),
            entity("same:main", json!({"protected": true})),
        ];
        let mut new = Snapshot::new("2026-11-22T03:00:00Z");
        new.entities = vec![
            entity(
                "a:main",
                json!({"requiredApprovingReviews": 0, "protected": true, "x": 1}),
            ),
            entity("fresh:main", json!({})),
            entity("same:main", json!({"protected": true})),
        ];
        new.sources = vec![Source {
            provider: "github".into(),
            scope: "a".into(),
            identity: None,
            collected_at: "2026-11-22T03:00:00Z".into(),
            api_calls: 1,
            errors: vec![UncollectedFact {
                entity: new.entities[0].uid.clone(),
                fact: "protected".into(),
                reason: "403".into(),
            }],
        }];
        let (old_text, new_text) = (old.to_json(), new.to_json());
        let view = |text| SnapshotText::parse(text).unwrap();
        let d = facts(&view(&old_text), &view(&new_text)).unwrap();
        assert_eq!(d.added[0].id, "fresh:main");
        assert_eq!(d.removed[0].id, "gone:main");
        assert_eq!(d.changed.len(), 1);
        let attrs: Vec<(&str, Option<&Value>, Option<&Value>)> = d.changed[0]
            .attrs
            .iter()
            .map(|a| (a.attr.as_str(), a.old.as_ref(), a.new.as_ref()))
            .collect();
        assert_eq!(
            attrs,
            [
                ("requiredApprovingReviews", Some(&json!(1)), Some(&json!(0))),
                ("x", None, Some(&json!(1)))
            ]
        );
        assert_eq!(d.errors_added.len(), 1);
        assert!(d.errors_removed.is_empty());
        assert!(facts(&view(&old_text), &view(&old_text))
            .unwrap()
            .is_empty());
        // Formatting is no change: only what the facts say is compared.
        let compact = serde_json::to_string(&old).unwrap();
        assert!(facts(&view(&old_text), &view(&compact)).unwrap().is_empty());
    }

    /// An entity may be written as an array `[uid, attrs, parents]`, as serde reads `Entity`:
    /// the comparison reads its uid too, and sees the same facts as the object form.
    #[test]
    fn entities_in_array_form_are_compared_like_objects() {
        let object = r#"{"format": "trustcheck.snapshot/v1", "collected_at": "2026-11-22T03:00:00Z",
            "entities": [{"uid": {"type": "T", "id": "a"}, "attrs": {"x": 1}, "parents": []}]}"#;
        let array = r#"{"format": "trustcheck.snapshot/v1", "collected_at": "2026-11-22T03:00:00Z",
            "entities": [[{"type": "T", "id": "a"}, {"x": 1}, []]]}"#;
        let changed = array.replace(r#"{"x": 1}"#, r#"{"x": 2}"#);
        let view = |text| SnapshotText::parse(text).unwrap();
        assert!(facts(&view(object), &view(array)).unwrap().is_empty());
        let d = facts(&view(object), &view(&changed)).unwrap();
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].attrs[0].attr, "x");
    }

    fn finding(rule: &str, id: &str, status: Status) -> Finding {
        let resource = Uid {
            type_name: "Github::Branch".into(),
            id: id.into(),
        };
        Finding {
            rule: rule.into(),
            title: "t".into(),
            soc2: vec!["CC8.1".to_string()].into(),
            severity: Severity::High,
            fingerprint: fingerprint(rule, &resource),
            acceptance: None,
            resource: resource.into(),
            status,
            message: String::new(),
            remediation: "r".into(),
        }
    }

    #[test]
    fn statuses_find_each_pair_of_a_sorted_list() {
        let findings = vec![
            finding("a", "x", Status::Pass),
            finding("a", "y", Status::Fail),
            finding("b", "x", Status::Error),
            finding("b", "x", Status::NotApplicable),
        ];
        let uid = |id: &str| Uid {
            type_name: "Github::Branch".into(),
            id: id.into(),
        };
        let statuses = Statuses::of(&findings);
        assert_eq!(statuses.get("a", &uid("x")), Some(Status::Pass));
        assert_eq!(statuses.get("a", &uid("y")), Some(Status::Fail));
        assert_eq!(statuses.get("a", &uid("w")), None);
        assert_eq!(statuses.get("a", &uid("z")), None);
        assert_eq!(statuses.get("c", &uid("x")), None);
        assert_eq!(Statuses::of(&[]).get("a", &uid("x")), None);
        // A repeat (never expected): the last counts, as in `status_changes`.
        assert_eq!(statuses.get("b", &uid("x")), Some(Status::NotApplicable));
        // A rule on two types: each type's run is searched by id.
        let mut repo = finding("a", "x", Status::Error);
        repo.resource = Uid {
            type_name: "Github::Repo".into(),
            id: "x".into(),
        }
        .into();
        let two = [findings[0].clone(), findings[1].clone(), repo.clone()];
        let statuses = Statuses::of(&two);
        assert_eq!(statuses.get("a", &uid("x")), Some(Status::Pass));
        assert_eq!(statuses.get("a", &repo.resource), Some(Status::Error));
        let other = Uid {
            type_name: "Github::Repo".into(),
            id: "y".into(),
        };
        assert_eq!(statuses.get("a", &other), None);
        // Unsorted findings: nothing is found, so every message is built.
        let unsorted = [
            finding("a", "x", Status::Pass),
            finding("b", "y", Status::Fail),
            finding("a", "z", Status::Fail),
        ];
        let statuses = Statuses::of(&unsorted);
        for f in &unsorted {
            assert_eq!(statuses.get(&f.rule, &f.resource), None);
        }
        // Every pair of the demo's evaluation is found with its status.
        let schema = crate::schema::SchemaSet::builtin().unwrap();
        let rules = crate::rules::RuleSet::load(crate::rules::builtin_sources(), &schema).unwrap();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/snapshot.json");
        let input = crate::entities::Input::read(&path).unwrap();
        let store = crate::entities::Store::load(vec![input], &schema).unwrap();
        let all = crate::engine::evaluate(&rules, &store).unwrap();
        let statuses = Statuses::of(&all);
        for f in &all {
            assert_eq!(statuses.get(&f.rule, &f.resource), Some(f.status));
        }
    }

    #[test]
    fn status_changes_list_only_differences_with_absent_sides() {
        let old = [
            finding("r", "a", Status::Pass),
            finding("r", "b", Status::Fail),
            finding("r", "gone", Status::Fail),
        ];
        let new = [
            finding("r", "a", Status::Fail),
            finding("r", "b", Status::Fail),
            finding("r", "fresh", Status::Error),
        ];
        let c = status_changes(&old, &new);
        let got: Vec<(&str, Option<Status>, Option<Status>, bool)> = c
            .iter()
            .map(|c| (c.resource.id.as_str(), c.old, c.new, c.is_regression()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", Some(Status::Pass), Some(Status::Fail), true),
                ("fresh", None, Some(Status::Error), true),
                ("gone", Some(Status::Fail), None, false),
            ]
        );
    }
}
