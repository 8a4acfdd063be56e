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
    Ok(Compiled {
        params_read: params.into_iter().collect(),
        names_read: names.into_iter().collect(),
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
