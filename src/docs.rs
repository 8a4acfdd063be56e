//! Reference documents generated from the code: the entity reference (from the schema fragments
//! and their `@doc` annotations) and the controls reference (from the rules' annotations and the
//! criteria catalogue), as Markdown for `docs/` and JSON for tools.
//!
//! `docs/schema.md` and `docs/controls.md` are these functions' output, committed; a test fails
//! when they are stale (`scripts/gen-docs` regenerates them). Nothing here is written by hand
//! twice: a rule or attribute is documented where it is declared. This module never prints.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{json, Value};

use crate::criteria::{self, CRITERIA};
use crate::rules::{Rule, RuleSet};
use crate::schema::{AttrSpec, AttrType, EntityTypeSpec, SchemaSet};

/// The command that regenerates the committed documents, for the notice at their top.
pub const REGENERATE: &str = "scripts/gen-docs";

/// The entity types whose name is `filter` (fully qualified, or without its namespace), or all.
pub fn select_types<'a>(schema: &'a SchemaSet, filter: Option<&str>) -> Vec<&'a EntityTypeSpec> {
    schema
        .entity_types()
        .filter(|t| match filter {
            None => true,
            Some(f) => t.name == f || t.name.rsplit("::").next() == Some(f),
        })
        .collect()
}

/// Table cell text: pipes escaped, line breaks folded.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The type as a reader sees it; a record is described by its rows below.
fn type_name(ty: &AttrType) -> String {
    match ty {
        AttrType::Record(_) => "record".into(),
        AttrType::Set(inner) if matches!(**inner, AttrType::Record(_)) => "Set<record>".into(),
        other => other.to_string(),
    }
}

fn attr_rows(out: &mut String, prefix: &str, attrs: &BTreeMap<String, AttrSpec>) {
    for (name, spec) in attrs {
        let _ = writeln!(
            out,
            "| `{prefix}{name}` | `{}` | {} | {} |",
            cell(&type_name(&spec.ty)),
            if spec.required { "yes" } else { "no" },
            cell(spec.doc.as_deref().unwrap_or(""))
        );
        if let AttrType::Record(fields) = &spec.ty {
            attr_rows(out, &format!("{prefix}{name}."), fields);
        }
    }
}

/// `docs/schema.md`: every entity type, its attributes (type, required, meaning) and parents.
pub fn schema_markdown(types: &[&EntityTypeSpec]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Entity reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the schema fragments by `trustcheck schema --format markdown`; do not edit. Regenerate with `{REGENERATE}`. -->\n"
    );
    let _ = writeln!(
        out,
        "Rules judge these entity types: a rule's `resource is T` names one, and `resource.attr` reads \
         one of its attributes. An attribute that is not required (`?` in the schema) is absent when \
         the collector could not read it, so a rule tests it with `has` first; the finding is then \
         `error`, never `pass`. Datetimes are compared with `context.now`, the snapshot's collection \
         time.\n"
    );
    let mut namespace = "";
    for t in types {
        let ns = t.name.split("::").next().unwrap_or("");
        if ns != namespace {
            namespace = ns;
            let _ = writeln!(out, "## {ns}\n");
        }
        let _ = writeln!(out, "### `{}`\n", t.name);
        if let Some(doc) = &t.doc {
            let _ = writeln!(out, "{doc}\n");
        }
        let parents = if t.parents.is_empty() {
            "none".to_string()
        } else {
            t.parents
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "Parents: {parents}. Declared in `{}`.\n", t.fragment);
        if t.attrs.is_empty() {
            let _ = writeln!(out, "No attributes.\n");
            continue;
        }
        let _ = writeln!(out, "| attribute | type | required | meaning |");
        let _ = writeln!(out, "|---|---|---|---|");
        attr_rows(&mut out, "", &t.attrs);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn attr_json(attrs: &BTreeMap<String, AttrSpec>) -> Value {
    Value::Array(
        attrs
            .iter()
            .map(|(name, spec)| {
                let mut v = json!({
                    "name": name,
                    "type": type_name(&spec.ty),
                    "required": spec.required,
                    "doc": spec.doc,
                });
                if let (AttrType::Record(fields), Some(object)) = (&spec.ty, v.as_object_mut()) {
                    object.insert("attributes".into(), attr_json(fields));
                }
                v
            })
            .collect(),
    )
}

/// The entity reference as JSON: `{"types": [{name, doc, fragment, parents, attributes: [{name,
/// type, required, doc, attributes?}]}]}`.
pub fn schema_json(types: &[&EntityTypeSpec]) -> Value {
    json!({
        "types": types.iter().map(|t| json!({
            "name": t.name,
            "doc": t.doc,
            "fragment": t.fragment,
            "parents": t.parents,
            "attributes": attr_json(&t.attrs),
        })).collect::<Vec<_>>()
    })
}

/// `docs/controls.md`: the rules grouped by SOC 2 criterion, each rule's details, and the
/// criteria no rule covers.
pub fn controls_markdown(rules: &RuleSet) -> String {
    let mut by: BTreeMap<&str, Vec<&Rule>> = BTreeMap::new();
    for r in rules.rules() {
        for c in r.soc2.iter() {
            by.entry(c.as_str()).or_default().push(r);
        }
    }
    let covered = CRITERIA.iter().filter(|c| by.contains_key(c.id)).count();
    let mut out = String::new();
    let _ = writeln!(out, "# Controls\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the rules' annotations by `trustcheck controls --format markdown`; do not edit. Regenerate with `{REGENERATE}`. -->\n"
    );
    let _ = writeln!(
        out,
        "{} rules cover {covered} of the {} SOC 2 Trust Services criteria. Each rule is one Cedar \
         file; its annotations are the only source of what is written here. `trustcheck explain \
         RULE` shows a rule with the attributes it reads.\n",
        rules.rules().len(),
        CRITERIA.len()
    );
    let _ = writeln!(out, "## By criterion\n");
    let mut category = "";
    for c in CRITERIA {
        let Some(list) = by.get(c.id) else { continue };
        if c.category.name() != category {
            category = c.category.name();
            let _ = writeln!(out, "### {category}\n");
        }
        let _ = writeln!(out, "**{}** {}\n", c.id, c.title);
        let _ = writeln!(out, "| rule | severity | judges | title |");
        let _ = writeln!(out, "|---|---|---|---|");
        for r in list {
            let _ = writeln!(
                out,
                "| [`{}`](#{}) | {} | {} | {} |",
                r.id,
                r.id,
                r.severity,
                r.resource_types
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                cell(&r.title)
            );
        }
        out.push('\n');
    }

    let params = rules.params();
    if params.iter().next().is_some() {
        let _ = writeln!(out, "## Parameters\n");
        let _ = writeln!(
            out,
            "Thresholds set once in `[params]` of `trustcheck.toml`; rules read them as \
             `context.params.NAME`, and each finding names the value that judged it.\n"
        );
        let _ = writeln!(out, "| parameter | value | default | what it sets |");
        let _ = writeln!(out, "|---|---|---|---|");
        for (p, _) in params.iter() {
            let default = match p.kind {
                crate::params::ParamKind::Days => format!("{} days", p.default),
                crate::params::ParamKind::Hours => format!("{} hours", p.default),
                crate::params::ParamKind::Count => p.default.to_string(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {default} | {} |",
                p.name,
                params.show(p.name).unwrap_or_default(),
                cell(p.doc)
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Rules\n");
    for r in rules.rules() {
        let _ = writeln!(out, "### {}\n", r.id);
        let _ = writeln!(out, "{}\n", r.title);
        let criteria: Vec<String> = r
            .soc2
            .iter()
            .map(|c| match criteria::find(c) {
                Some(_) => c.clone(),
                None => format!("{c} (unknown)"),
            })
            .collect();
        let _ = writeln!(out, "- criteria: {}", criteria.join(", "));
        let _ = writeln!(out, "- severity: {}", r.severity);
        let _ = writeln!(
            out,
            "- judges: {}",
            r.resource_types
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let attrs: Vec<String> = r.attrs_read().map(|a| format!("`{a}`")).collect();
        if !attrs.is_empty() {
            let _ = writeln!(out, "- reads: {}", attrs.join(", "));
        }
        let used: Vec<String> = r
            .params_read
            .iter()
            .map(|p| match params.show(p) {
                Some(v) => format!("`{p}` ({v})"),
                None => format!("`{p}`"),
            })
            .collect();
        if !used.is_empty() {
            let _ = writeln!(out, "- parameters: {}", used.join(", "));
        }
        let _ = writeln!(out, "- source: `{}`", r.file.name);
        if let Some(d) = &r.description {
            let _ = writeln!(out, "\n{d}");
        }
        let _ = writeln!(out, "\nRemediation: {}\n", r.remediation);
    }

    let uncovered: Vec<_> = CRITERIA.iter().filter(|c| !by.contains_key(c.id)).collect();
    if !uncovered.is_empty() {
        let _ = writeln!(out, "## Criteria without an automated rule\n");
        let _ = writeln!(
            out,
            "Evidence for these is collected outside trustcheck (policies, reviews, tickets).\n"
        );
        let _ = writeln!(out, "| criterion | summary |");
        let _ = writeln!(out, "|---|---|");
        for c in uncovered {
            let _ = writeln!(out, "| {} | {} |", c.id, cell(c.title));
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::builtin_sources;

    #[test]
    fn schema_reference_lists_types_attributes_and_record_fields() {
        let schema = SchemaSet::builtin().unwrap();
        let md = schema_markdown(&select_types(&schema, None));
        assert!(md.contains("### `Aws::IamUser`"), "{md}");
        assert!(
            md.contains("| `mfaActive` | `Bool` | no | the user has an MFA device"),
            "{md}"
        );
        assert!(md.contains("| `passwordPolicy.minimumLength` | `Long` | yes |"));
        assert!(md.contains("Parents: `Aws::Account`, `Aws::IamGroup`."));
        let json = schema_json(&select_types(&schema, Some("IamUser")));
        assert_eq!(json["types"].as_array().unwrap().len(), 1);
        assert_eq!(json["types"][0]["name"], "Aws::IamUser");
    }

    #[test]
    fn controls_reference_groups_rules_by_criterion() {
        let schema = SchemaSet::builtin().unwrap();
        let rules = RuleSet::load(builtin_sources(), &schema).unwrap();
        let md = controls_markdown(&rules);
        assert!(md.contains("**CC6.1**"), "{md}");
        assert!(md.contains("[`aws-root-mfa`](#aws-root-mfa) | critical | `Aws::Account`"));
        assert!(md.contains("### aws-root-mfa"));
        assert!(md.contains("## Criteria without an automated rule"));
    }
}
