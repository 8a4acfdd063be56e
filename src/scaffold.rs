//! Skeletons of new custom rules: a `.cedar` file carrying every required annotation and a
//! `.test.json` whose cases pass as written, both derived from the schema so that they validate.
//!
//! The default skeleton of each provider states a small, real requirement a company might add
//! (two approvals on default branches; no access keys for console users). For any other resource
//! type the requirement is built from one of its attributes. Either way the author edits it.
//!
//! This module never writes files: `trustcheck new rule` does, after checking that the skeleton
//! loads and that its cases pass.

use serde_json::{Map, Value};

use crate::findings::{Status, Uid};
use crate::rule_tests::{Expectation, TestCase, TestFile};
use crate::schema::{nearest, AttrSpec, AttrType, EntityTypeSpec, SchemaSet};
use crate::severity::Severity;
use crate::snapshot::{Entity, UncollectedFact};
use trustcheck_snapshot::provider::{Scaffold, ScaffoldExample};

/// The `now` of generated test cases: a fixed instant, so cases stay deterministic.
pub const CASE_NOW: &str = "2026-01-01T00:00:00Z";

/// Whose entities a new rule judges: a built-in provider (its registry entry gives the defaults)
/// or the namespace of a team's own facts (`--schema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The schema namespace of the entity types (`Aws`, `Mdm`).
    pub namespace: &'a str,
    /// The built-in provider's defaults, when it is one.
    pub defaults: Option<&'a Scaffold>,
}

impl Target<'_> {
    /// The resource type a new rule judges unless told otherwise: the provider's, else the
    /// namespace's first type (by name) that a requirement can be written on.
    fn default_resource(&self, schema: &SchemaSet) -> Option<String> {
        if let Some(d) = self.defaults {
            return Some(d.resource.to_string());
        }
        let prefix = format!("{}::", self.namespace);
        schema
            .entity_types()
            .filter(|t| t.name.starts_with(&prefix))
            .find(|t| plan_for(t, None).is_ok())
            .map(|t| t.name.clone())
    }

    /// The criterion a new rule cites unless told otherwise.
    fn default_criteria(&self) -> &str {
        self.defaults.map_or(DEFAULT_CRITERIA, |d| d.criteria)
    }
}

/// The criterion a rule on a team's own facts cites unless told otherwise (logical access).
pub const DEFAULT_CRITERIA: &str = "CC6.1";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The rule id (already checked with [`crate::rules::id_problem`]).
    pub id: &'a str,
    /// Whose entities it judges.
    pub target: Target<'a>,
    /// The resource type, `Type` or `Namespace::Type`; the target's default when `None`.
    pub resource: Option<&'a str>,
    /// `@soc2`; the provider's default when `None`.
    pub soc2: Option<&'a str>,
    /// `@severity`; the template's when `None`.
    pub severity: Option<Severity>,
}

/// A generated rule and its test cases.
#[derive(Debug, Clone)]
pub struct Skeleton {
    /// The resource type the rule judges.
    pub resource_type: String,
    /// The `.cedar` text.
    pub rule: String,
    /// The `.test.json` content.
    pub tests: TestFile,
}

impl Skeleton {
    /// The `.test.json` text.
    pub fn tests_json(&self) -> String {
        // A TestFile holds only strings, numbers and JSON values: serialising cannot fail.
        let mut text = serde_json::to_string_pretty(&self.tests).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The resource type cannot be used for a rule of this provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum ScaffoldError {
    /// No such entity type.
    #[error("unknown resource type `{wanted}`")]
    #[diagnostic(code("new::unknown-type"), help("{help}"))]
    UnknownType {
        /// What was asked for.
        wanted: String,
        /// The nearest type, or the list of types.
        help: String,
    },
    /// The type has no attribute a simple requirement can be written on.
    #[error("no skeleton for `{0}`: it has no Bool or Long attribute to require")]
    #[diagnostic(
        code("new::no-template"),
        help("generate a skeleton for another type and change `resource is …`; `trustcheck schema` lists the attributes")
    )]
    NoTemplate(String),
}

/// A `when` expression, the attributes that make it true, and those that make it false.
type When = (String, Map<String, Value>, Map<String, Value>);

/// The requirement a skeleton starts with.
struct Plan {
    type_name: String,
    summary: String,
    title: String,
    remediation: String,
    severity: Severity,
    when: Option<When>,
    /// The attribute the requirement reads.
    attr: String,
    optional: bool,
    requirement: String,
    good: Value,
    bad: Value,
}

/// Generates the skeleton of a rule.
pub fn skeleton(schema: &SchemaSet, req: &Request<'_>) -> Result<Skeleton, ScaffoldError> {
    let ns = req.target.namespace;
    let default = req.target.default_resource(schema);
    let wanted = req
        .resource
        .or(default.as_deref())
        .ok_or_else(|| ScaffoldError::NoTemplate(format!("{ns}::*")))?;
    let qualified = if wanted.contains("::") {
        wanted.to_string()
    } else {
        format!("{ns}::{wanted}")
    };
    let in_namespace = |t: &&EntityTypeSpec| t.name.starts_with(&format!("{ns}::"));
    let spec = schema
        .entity_type(&qualified)
        .filter(|t| in_namespace(t))
        .ok_or_else(|| {
            let types: Vec<&str> = schema
                .entity_types()
                .filter(in_namespace)
                .map(|t| t.name.as_str())
                .collect();
            let help = match nearest(&qualified, types.iter().copied()) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!(
                    "`--provider {}` rules judge one of: {}",
                    ns.to_lowercase(),
                    types.join(", ")
                ),
            };
            ScaffoldError::UnknownType {
                wanted: wanted.to_string(),
                help,
            }
        })?;
    let plan = plan_for(spec, req.target.defaults)?;
    let soc2 = req.soc2.unwrap_or(req.target.default_criteria());
    let severity = req.severity.unwrap_or(plan.severity);
    Ok(Skeleton {
        resource_type: spec.name.clone(),
        rule: rule_text(req.id, soc2, severity, &plan),
        tests: tests(req.id, spec, &plan),
    })
}

/// A provider's curated example as a plan, if the schema still has every attribute it reads.
fn curated(spec: &EntityTypeSpec, e: &ScaffoldExample) -> Option<Plan> {
    let object = |text: &str| match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let when = match e.applies {
        Some((expr, yes, no)) => Some((expr.to_string(), object(yes)?, object(no)?)),
        None => None,
    };
    let reads_known = when
        .iter()
        .flat_map(|(_, yes, no)| yes.keys().chain(no.keys()))
        .chain(std::iter::once(&e.attr.to_string()))
        .all(|a| spec.attrs.contains_key(a));
    if !reads_known {
        return None;
    }
    Some(Plan {
        type_name: spec.name.clone(),
        summary: e.summary.into(),
        title: e.title.into(),
        remediation: e.remediation.into(),
        severity: e.severity.parse().ok()?,
        when,
        attr: e.attr.into(),
        optional: !spec.attrs.get(e.attr)?.required,
        requirement: e.requirement.into(),
        good: serde_json::from_str(e.good).ok()?,
        bad: serde_json::from_str(e.bad).ok()?,
    })
}

/// The curated requirement of a provider's default type, else one built from an attribute.
fn plan_for(spec: &EntityTypeSpec, defaults: Option<&Scaffold>) -> Result<Plan, ScaffoldError> {
    if let Some(plan) = defaults
        .filter(|d| d.resource == spec.name)
        .and_then(|d| d.example.as_ref())
        .and_then(|e| curated(spec, e))
    {
        return Ok(plan);
    }
    // Any other type: require its first Bool attribute to be true, else its first Long to be
    // at least 1, preferring optional attributes (they show the `has` guard a collected fact
    // needs).
    let mut candidates: Vec<(&String, &AttrSpec)> = spec.attrs.iter().collect();
    candidates.sort_by_key(|(_, a)| {
        (
            !matches!(a.ty, AttrType::Bool),
            !matches!(a.ty, AttrType::Bool | AttrType::Long),
            a.required,
        )
    });
    let (attr, a) = candidates
        .into_iter()
        .find(|(_, a)| matches!(a.ty, AttrType::Bool | AttrType::Long))
        .ok_or_else(|| ScaffoldError::NoTemplate(spec.name.clone()))?;
    let (requirement, good, bad) = match a.ty {
        AttrType::Bool => (format!("resource.{attr}"), true.into(), false.into()),
        _ => (format!("resource.{attr} >= 1"), 1.into(), 0.into()),
    };
    let short = spec.name.rsplit("::").next().unwrap_or(&spec.name);
    Ok(Plan {
        type_name: spec.name.clone(),
        summary: format!("Every {short} has `{attr}` set."),
        title: format!("{short} has {attr}"),
        remediation: format!("Set `{attr}` on the {short}."),
        severity: Severity::Medium,
        when: None,
        attr: attr.clone(),
        optional: !a.required,
        requirement,
        good,
        bad,
    })
}

/// A Cedar string literal's content.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn rule_text(id: &str, soc2: &str, severity: Severity, plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!("// {}\n", plan.summary));
    out.push_str(
        "// `trustcheck schema` lists every resource type and attribute a rule can read.\n",
    );
    out.push_str(&format!("@id(\"{}\")\n", escape(id)));
    out.push_str(&format!("@soc2(\"{}\")\n", escape(soc2)));
    out.push_str(&format!("@severity(\"{severity}\")\n"));
    out.push_str(&format!("@title(\"{}\")\n", escape(&plan.title)));
    out.push_str(&format!(
        "@remediation(\"{}\")\n",
        escape(&plan.remediation)
    ));
    out.push_str(&format!(
        "forbid (principal, action, resource is {})\n",
        plan.type_name
    ));
    if let Some((when, _, _)) = &plan.when {
        out.push_str(
            "// `when`: which resources the rule judges; for the others it is not_applicable.\n",
        );
        out.push_str(&format!("when {{ {when} }}\n"));
    }
    out.push_str("// `unless`: the requirement; a judged resource that does not meet it fails.\n");
    if plan.optional {
        out.push_str(&format!(
            "// `{}` is absent when it was not collected, so test `has` first: the finding\n\
             // is then an error, never a pass.\n",
            plan.attr
        ));
        out.push_str(&format!(
            "unless {{ resource has {} && {} }};\n",
            plan.attr, plan.requirement
        ));
    } else {
        out.push_str(&format!("unless {{ {} }};\n", plan.requirement));
    }
    out
}

/// A value of the type, for required attributes the requirement does not read.
fn placeholder(ty: &AttrType) -> Value {
    match ty {
        AttrType::Bool => false.into(),
        AttrType::Long => 0.into(),
        AttrType::String => "example".into(),
        AttrType::Datetime => CASE_NOW.into(),
        AttrType::Duration => "1h".into(),
        AttrType::Decimal => "0.0".into(),
        AttrType::IpAddr => "192.0.2.1".into(),
        AttrType::Set(_) => Value::Array(Vec::new()),
        AttrType::Record(fields) => Value::Object(
            fields
                .iter()
                .filter(|(_, f)| f.required)
                .map(|(k, f)| (k.clone(), placeholder(&f.ty)))
                .collect(),
        ),
        AttrType::Entity(t) => serde_json::json!({"type": t, "id": "example"}),
    }
}

fn tests(id: &str, spec: &EntityTypeSpec, plan: &Plan) -> TestFile {
    let base: Map<String, Value> = spec
        .attrs
        .iter()
        .filter(|(_, a)| a.required)
        .map(|(k, a)| (k.clone(), placeholder(&a.ty)))
        .collect();
    let applies = plan.when.as_ref().map(|(_, yes, _)| yes.clone());
    let entity = |name: &str, extra: &[&Map<String, Value>], value: Option<&Value>| {
        let mut attrs = base.clone();
        for m in extra {
            attrs.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(v) = value {
            attrs.insert(plan.attr.clone(), v.clone());
        }
        Entity {
            uid: Uid {
                type_name: spec.name.clone(),
                id: name.to_string(),
            },
            attrs,
            parents: Vec::new(),
        }
    };
    let expect = |name: &str, status| Expectation {
        resource: Uid {
            type_name: spec.name.clone(),
            id: name.to_string(),
        },
        status,
    };
    let with: Vec<&Map<String, Value>> = applies.iter().collect();
    let mut entities = vec![
        entity("compliant", &with, Some(&plan.good)),
        entity("failing", &with, Some(&plan.bad)),
    ];
    let mut expected = vec![
        expect("compliant", Status::Pass),
        expect("failing", Status::Fail),
    ];
    let mut name = "meeting the requirement passes, missing it fails".to_string();
    if let Some((_, _, no)) = &plan.when {
        entities.push(entity("not-applicable", &[no], Some(&plan.bad)));
        expected.push(expect("not-applicable", Status::NotApplicable));
        name.push_str(", others do not apply");
    }
    let mut cases = vec![TestCase {
        name,
        now: CASE_NOW.into(),
        entities,
        errors: Vec::new(),
        params: Default::default(),
        expect: expected,
    }];
    if plan.optional {
        cases.push(TestCase {
            name: format!("an uncollected `{}` is an error, never a pass", plan.attr),
            now: CASE_NOW.into(),
            entities: vec![entity("unreadable", &with, None)],
            errors: vec![UncollectedFact {
                entity: Uid {
                    type_name: spec.name.clone(),
                    id: "unreadable".into(),
                },
                fact: plan.attr.clone(),
                reason: "example: the API answered 403 Forbidden".into(),
            }],
            params: Default::default(),
            expect: vec![expect("unreadable", Status::Error)],
        });
    }
    TestFile {
        rule: Some(id.to_string()),
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;
    use crate::rule_tests::run_file;
    use crate::rules::{Origin, RuleSet, RuleSource};

    /// Loads a skeleton as a custom rule and runs its cases: all must pass, with a pass and a
    /// fail among them.
    fn check(schema: &SchemaSet, s: &Skeleton, id: &str) {
        let rules = RuleSet::load(
            vec![RuleSource {
                file: SourceFile::new(format!("controls/{id}.cedar"), s.rule.clone()),
                origin: Origin::Custom,
            }],
            schema,
        )
        .unwrap_or_else(|e| panic!("{}\n{}", s.rule, crate::diagnostics::render_plain(&e)));
        let results = run_file(
            &format!("controls/{id}.test.json"),
            &s.tests_json(),
            &rules,
            schema,
        );
        for r in &results {
            assert!(r.passed(), "{}\n{}", s.rule, r.failure_report());
        }
        assert_eq!(
            crate::rule_tests::coverage(&results).get(id),
            Some(&(true, true))
        );
    }

    fn target(namespace: &str) -> Target<'_> {
        Target {
            namespace,
            defaults: crate::providers::by_namespace(namespace).map(|p| &p.scaffold),
        }
    }

    #[test]
    fn default_skeletons_validate_and_pass_their_cases() {
        let schema = SchemaSet::builtin().unwrap();
        for provider in crate::providers::PROVIDERS {
            let req = Request {
                id: "acme-new-rule",
                target: target(provider.namespace),
                resource: None,
                soc2: None,
                severity: None,
            };
            let s = skeleton(&schema, &req).unwrap();
            assert_eq!(s.resource_type, provider.scaffold.resource);
            assert!(
                s.rule
                    .contains(provider.scaffold.example.map_or("", |e| e.requirement)),
                "{}: the curated requirement, not a generic one:\n{}",
                provider.name,
                s.rule
            );
            check(&schema, &s, "acme-new-rule");
        }
    }

    #[test]
    fn every_provider_type_with_a_bool_or_long_gets_a_working_skeleton() {
        let schema = SchemaSet::builtin().unwrap();
        for t in schema.entity_types() {
            let Some((namespace, _)) = t.name.rsplit_once("::") else {
                continue;
            };
            let req = Request {
                id: "acme-any",
                target: target(namespace),
                resource: Some(&t.name),
                soc2: Some("CC6.1,CC6.3"),
                severity: Some(Severity::Low),
            };
            match skeleton(&schema, &req) {
                Ok(s) => check(&schema, &s, "acme-any"),
                Err(ScaffoldError::NoTemplate(_)) => {}
                Err(e) => panic!("{}: {e}", t.name),
            }
        }
    }

    #[test]
    fn unknown_types_get_a_suggestion() {
        let schema = SchemaSet::builtin().unwrap();
        let req = Request {
            id: "x",
            target: target("Github"),
            resource: Some("Repos"),
            soc2: None,
            severity: None,
        };
        let err = skeleton(&schema, &req).unwrap_err();
        assert!(
            err.to_string().contains("`Repos`")
                && matches!(&err, ScaffoldError::UnknownType { help, .. } if help.contains("`Github::Repo`")),
            "{err:?}"
        );
        let req = Request {
            resource: Some("Aws::IamUser"),
            ..req
        };
        assert!(
            skeleton(&schema, &req).is_err(),
            "a GitHub rule on an AWS type"
        );
    }
}
