//! Compiling a rule: its `forbid` policy split into the two expressions the engine evaluates,
//! `applies` (scope and `when`) and `requirement` (`unless`), and the attributes of `resource`
//! each one reads. Nothing here checks a rule: only rules that passed every check get here.

use std::collections::BTreeSet;
use std::str::FromStr;

use cedar_policy::{pst, Expression, Policy};
use serde_json::Value;

/// A rule's policy in the form the engine evaluates.
pub(super) struct Compiled {
    /// The scope and `when` parts: does the rule apply?
    pub(super) applies: Expression,
    /// The `unless` parts: is the requirement met?
    pub(super) requirement: Expression,
    /// Both in one: `0` not applicable, `1` pass, `2` fail.
    pub(super) outcome: Expression,
    /// Attributes of `resource` the `applies` part reads, sorted.
    pub(super) applies_attrs: Vec<String>,
    /// Attributes of `resource` the `requirement` part reads, sorted.
    pub(super) requirement_attrs: Vec<String>,
    /// Parameters read (`context.params.NAME`), sorted.
    pub(super) params_read: Vec<String>,
    /// Every attribute name the rule reads or tests on any entity or record, sorted.
    pub(super) names_read: Vec<String>,
    /// The attribute names the rule reads through, when it reads nothing but the resource, the
    /// context and what they reach (see [`reads_through`]); `None` when it may read any entity.
    pub(super) reads_through: Option<Vec<String>>,
    /// The longest chain of names it reads through.
    pub(super) read_depth: usize,
}

/// Splits a rule into its `applies` (scope + `when`) and `requirement` (`unless`) expressions.
pub(super) fn compile(policy: &Policy) -> Result<Compiled, String> {
    let (applies_src, requirement_src) = part_sources(policy)?;
    let outcome_src =
        format!("if ({applies_src}) then (if ({requirement_src}) then 1 else 2) else 0");
    let parse = |src: &str| Expression::from_str(src).map_err(|e| e.to_string());
    let (applies, requirement, outcome) = (
        parse(&applies_src)?,
        parse(&requirement_src)?,
        parse(&outcome_src)?,
    );
    let (applies_attrs, requirement_attrs) = attrs_by_part(policy)?;
    let est = policy.to_json().map_err(|e| e.to_string())?;
    let mut params = BTreeSet::new();
    params_read(&est, &mut params);
    let mut names = BTreeSet::new();
    names_read(&est, &mut names);
    let mut through = Through::default();
    let local = est
        .get("conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("body"))
        .all(|body| reads_through(body, &mut through));
    Ok(Compiled {
        params_read: params.into_iter().collect(),
        names_read: names.into_iter().collect(),
        reads_through: local.then(|| through.names.into_iter().collect()),
        read_depth: through.depth,
        applies,
        requirement,
        outcome,
        applies_attrs,
        requirement_attrs,
    })
}

/// The Cedar text of the two parts: the scope and the `when` clauses joined with `&&` (`true`
/// when there are none), the `unless` clauses joined with `||` (`false` when there are none).
fn part_sources(policy: &Policy) -> Result<(String, String), String> {
    let tree = policy.to_pst().map_err(|e| e.to_string())?;
    let body = tree.body();
    let mut applies = Vec::new();
    let mut requirement = Vec::new();
    let scope = body.resource.to_string();
    if !scope.is_empty() {
        applies.push(format!("(resource {scope})"));
    }
    for clause in body.clauses() {
        match clause {
            pst::Clause::When(e) => applies.push(format!("({e})")),
            pst::Clause::Unless(e) => requirement.push(format!("({e})")),
        }
    }
    let applies_src = if applies.is_empty() {
        "true".to_string()
    } else {
        applies.join(" && ")
    };
    // `unless { a } unless { b }` forbids when neither holds, so the requirement is `a || b`.
    let requirement_src = if requirement.is_empty() {
        "false".to_string()
    } else {
        requirement.join(" || ")
    };
    Ok((applies_src, requirement_src))
}

/// The attributes of `resource` read by the applies part and by the requirement part, each
/// sorted, found in the policy's JSON (EST) form.
fn attrs_by_part(policy: &Policy) -> Result<(Vec<String>, Vec<String>), String> {
    let est = policy.to_json().map_err(|e| e.to_string())?;
    let mut applies_attrs = BTreeSet::new();
    let mut requirement_attrs = BTreeSet::new();
    if let Some(conditions) = est.get("conditions").and_then(Value::as_array) {
        for c in conditions {
            let into = match c.get("kind").and_then(Value::as_str) {
                Some("unless") => &mut requirement_attrs,
                _ => &mut applies_attrs,
            };
            if let Some(body) = c.get("body") {
                resource_attrs(body, into);
            }
        }
    }
    Ok((
        applies_attrs.into_iter().collect(),
        requirement_attrs.into_iter().collect(),
    ))
}

/// Collects `resource.x` and `resource has x` from an expression in Cedar's JSON (EST) form.
fn resource_attrs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "." || key == "has" {
                    let on_resource = inner
                        .get("left")
                        .and_then(|l| l.get("Var"))
                        .and_then(Value::as_str)
                        == Some("resource");
                    // `resource has a.b` tests `a` on the resource (then `b` in the record).
                    if on_resource {
                        if let Some(attr) = attr_names(inner).next() {
                            out.insert(attr.to_string());
                        }
                    }
                }
                resource_attrs(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| resource_attrs(i, out)),
        _ => {}
    }
}

/// Collects every attribute name read (`x.NAME`) or tested (`x has NAME`) on anything, from a
/// policy in Cedar's JSON (EST) form: what any evaluation of the rule can observe of an entity.
fn names_read(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "." || key == "has" {
                    out.extend(attr_names(inner).map(str::to_string));
                }
                names_read(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| names_read(i, out)),
        _ => {}
    }
}

/// The attribute names of a `.` or `has` node: one for `x.a` and `x has a`, a path for
/// `x has a.b` (Cedar writes `"attr": ["a", "b"]`).
fn attr_names(node: &Value) -> impl Iterator<Item = &str> {
    let attr = node.get("attr");
    let one = attr.and_then(Value::as_str);
    let path = attr
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    one.into_iter().chain(path)
}

/// What a rule reads through on its way from `resource`: the attribute names (`a` in
/// `resource.a.b`) and the longest chain of them (how many entities deep it can read).
#[derive(Default)]
struct Through {
    names: BTreeSet<String>,
    depth: usize,
}

/// Whether an expression in Cedar's JSON (EST) form reads no entity but `resource` and those it
/// reaches through its attributes: every attribute read or test (`.`, `has`, `getTag`,
/// `hasTag`) is on a path from `resource` or `context` (`resource.a.b`), and every `in` asks
/// about `resource`'s own ancestors. The names read through (`a` in `resource.a.b`, and in
/// `resource has a.b`) are collected into `through`: where the schema says one holds entity
/// references, the entities it names are read too, and a chunk's store must hold them.
/// Conservative: a literal, `principal`, an `if` or a record literal as a receiver counts as
/// reading any entity.
fn reads_through(v: &Value, through: &mut Through) -> bool {
    match v {
        Value::Object(map) => map.iter().all(|(key, inner)| {
            let here = match key.as_str() {
                // A literal: entity uids in it are values, not reads.
                "Value" => return true,
                "." | "has" | "getTag" | "hasTag" => {
                    let steps = inner
                        .get("left")
                        .and_then(|left| path_from_resource(left, &mut through.names));
                    // `x has a.b` reads `x.a` to test `b` in it.
                    let mut further = 0;
                    if key == "has" {
                        let path: Vec<&str> = attr_names(inner).collect();
                        if let Some((_, before)) = path.split_last() {
                            through.names.extend(before.iter().map(|n| n.to_string()));
                            further = before.len();
                        }
                    }
                    if let Some(steps) = steps {
                        through.depth = through.depth.max(steps + further);
                    }
                    steps.is_some()
                }
                "in" => is_resource(inner.get("left")),
                // `x is T in y`: its `in` field is an expression, not an `in` node.
                "is" => {
                    let within = inner.get("in");
                    return (within.is_none() || is_resource(inner.get("left")))
                        && [inner.get("left"), within]
                            .into_iter()
                            .flatten()
                            .all(|e| reads_through(e, through));
                }
                // A record literal's keys are names, not operators.
                "Record" => {
                    return inner
                        .as_object()
                        .is_some_and(|fields| fields.values().all(|e| reads_through(e, through)));
                }
                _ => true,
            };
            here && reads_through(inner, through)
        }),
        Value::Array(items) => items.iter().all(|i| reads_through(i, through)),
        _ => true,
    }
}

fn is_resource(v: Option<&Value>) -> bool {
    v.and_then(|l| l.get("Var")).and_then(Value::as_str) == Some("resource")
}

/// The number of steps of `resource`, `context`, or a chain of `.` from one of them (whose names
/// go into `names`); `None` for anything else.
fn path_from_resource(v: &Value, names: &mut BTreeSet<String>) -> Option<usize> {
    if let Some(var) = v.get("Var").and_then(Value::as_str) {
        return (var == "resource" || var == "context").then_some(0);
    }
    let step = v.get(".")?;
    let attr = step.get("attr").and_then(Value::as_str)?;
    names.insert(attr.to_string());
    Some(path_from_resource(step.get("left")?, names)? + 1)
}

/// Collects `context.params.NAME` from an expression in Cedar's JSON (EST) form.
fn params_read(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "." {
                    let on_params = inner.get("left").and_then(|l| l.get(".")).is_some_and(|l| {
                        l.get("left")
                            .and_then(|c| c.get("Var"))
                            .and_then(Value::as_str)
                            == Some("context")
                            && l.get("attr").and_then(Value::as_str) == Some("params")
                    });
                    if on_params {
                        if let Some(attr) = inner.get("attr").and_then(Value::as_str) {
                            out.insert(attr.to_string());
                        }
                    }
                }
                params_read(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| params_read(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::str::FromStr;

    use crate::rules::tests::{load, GOOD};

    /// `resource has a.b` is a path in Cedar's JSON form: both names are read, and `a` is the
    /// resource's (the store must keep it, and an uncollected `a` must make the finding `error`).
    #[test]
    fn a_has_path_reads_every_name_on_it() {
        let policy = cedar_policy::Policy::from_str(
            r#"forbid (principal, action, resource) unless { resource has policy.minimumLength && resource.owner.team == "x" };"#,
        )
        .unwrap();
        let est = policy.to_json().unwrap();
        let mut names = BTreeSet::new();
        super::names_read(&est, &mut names);
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["minimumLength", "owner", "policy", "team"]
        );
        let mut on_resource = BTreeSet::new();
        super::resource_attrs(&est, &mut on_resource);
        assert_eq!(
            on_resource.into_iter().collect::<Vec<_>>(),
            ["owner", "policy"]
        );
    }

    fn through(src: &str) -> Option<Vec<String>> {
        let policy = cedar_policy::Policy::from_str(&format!(
            "forbid (principal, action, resource) when {{ {src} }};"
        ))
        .unwrap();
        super::compile(&policy).unwrap().reads_through
    }

    /// A rule is judged on a store of its resource alone only when it provably reads nothing
    /// else; every other form falls back to one store of everything.
    #[test]
    fn rules_that_read_only_the_resource_are_told_apart() {
        let some = |names: &[&str]| Some(names.iter().map(|n| n.to_string()).collect());
        assert_eq!(through("resource.a"), some(&[]));
        assert_eq!(
            through("resource.p.minimumLength > 3 && resource has q.r"),
            some(&["p", "q"])
        );
        assert_eq!(through("context.params.x == 1"), some(&["params"]));
        assert_eq!(through(r#"resource in T::"x""#), some(&[]));
        assert_eq!(
            through(r#"resource.owners.contains(T::"x") && resource.owner == T::"y""#),
            some(&[])
        );
        assert_eq!(through("resource.owner.team == \"x\""), some(&["owner"]));
        assert_eq!(through(r#"T::"x".a"#), None);
        assert_eq!(through(r#"T::"x" in resource"#), None);
        assert_eq!(through(r#"resource.owner in T::"x""#), None);
        assert_eq!(through(r#"resource is T in resource.owner"#), some(&[]));
        assert_eq!(through(r#"resource.owner is T in T::"x""#), None);
        assert_eq!(through("principal.a"), None);
        assert_eq!(through("(if true then resource else resource).a"), None);
        assert_eq!(through(r#"{a: T::"x"}.a.b"#), None);

        let depth = |src: &str| {
            let policy = cedar_policy::Policy::from_str(&format!(
                "forbid (principal, action, resource) when {{ {src} }};"
            ))
            .unwrap();
            super::compile(&policy).unwrap().read_depth
        };
        assert_eq!(depth("resource.a"), 0);
        assert_eq!(depth("resource.a.b"), 1);
        assert_eq!(depth("resource.a.b.c || resource has d.e"), 2);
        assert_eq!(depth("resource has a.b.c.d"), 3);
    }

    #[test]
    fn multiple_unless_clauses_are_alternatives() {
        let text = GOOD.replace(
            "unless { resource has mfaActive && resource.mfaActive };",
            "unless { resource has mfaActive && resource.mfaActive } unless { resource.name == \"ci\" };",
        );
        let set = load(&[("p/x-mfa.cedar", &text)]).unwrap();
        assert_eq!(
            set.get("x-mfa").unwrap().requirement_attrs,
            vec!["mfaActive", "name"]
        );
    }
}
