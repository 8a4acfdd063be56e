//! The checks that loading a set makes beyond each file on its own: ids unique across the set,
//! strict validation of every rule against the schema, rules that can apply to no resource type,
//! and the summary of everything found. A problem in one rule never stops the others from being
//! checked: the author sees every problem in one run.

use std::collections::{BTreeSet, HashMap};

use cedar_policy::{Policy, PolicyId, PolicySet, ValidationMode, Validator};

use super::annotations::{problem, Meta};
use super::compile::compile;
use super::parse::{annotation_span, effect_span, parse_rule};
use super::sources::{file_stem, RuleSource};
use super::{codes, Rule};
use crate::diagnostics::{Diagnostics, InFile, SourceFile};
use crate::schema::SchemaSet;

/// A rule file that holds one policy, renamed to a key unique in the set (its `@id` when it
/// has a usable one), with its metadata when its annotations are all valid.
pub(super) struct Parsed {
    policy: Policy,
    source: RuleSource,
    meta: Option<Meta>,
}

/// Parses every file, in order, and keys each policy uniquely. A rule whose `@id` an earlier
/// file already took is reported and left out.
pub(super) fn parse_all(sources: Vec<RuleSource>, problems: &mut Vec<InFile>) -> Vec<Parsed> {
    let mut parsed = Vec::new();
    let mut ids: HashMap<String, SourceFile> = HashMap::new();
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for source in sources {
        let rule = match parse_rule(&source.file) {
            Ok(rule) => rule,
            Err(errs) => {
                problems.extend(errs);
                continue;
            }
        };
        problems.extend(rule.problems);
        if let Some(meta) = &rule.meta {
            if let Some(first) = ids.get(meta.id.as_ref()) {
                problems.push(duplicate_id(&meta.id, first, &source.file));
                // Most often a copy: checking it against the schema would repeat the
                // first file's problems under a made-up policy name.
                continue;
            }
            ids.insert(meta.id.to_string(), source.file.clone());
        }
        let key = unique_key(&rule.policy, &source.file, &mut keys);
        parsed.push(Parsed {
            policy: rule.policy.new_id(PolicyId::new(key)),
            source,
            meta: rule.meta,
        });
    }
    parsed
}

fn duplicate_id(id: &str, first: &SourceFile, file: &SourceFile) -> InFile {
    problem(
        file,
        codes::DUPLICATE_ID,
        format!("duplicate rule id `{id}`: also in `{}`", first.name),
        Some("rule ids are unique; rename one of the rules (and its file)".into()),
        annotation_span(&file.text, "id"),
        "this id is taken",
    )
}

/// A key for `policy` that no other policy in the set has: its `@id`, else its file's name, with
/// `#2`, `#3`… appended while taken. Rules with a bad or missing `@id` still need one to be
/// checked against the schema.
fn unique_key(policy: &Policy, file: &SourceFile, keys: &mut BTreeSet<String>) -> String {
    let wanted = policy
        .annotation("id")
        .map(str::to_string)
        .unwrap_or_else(|| file_stem(&file.name).to_string());
    let mut key = wanted.clone();
    let mut n = 1;
    while !keys.insert(key.clone()) {
        n += 1;
        key = format!("{wanted}#{n}");
    }
    key
}

/// Validates every parsed rule strictly against the schema, all at once, and reports each error
/// against its rule's file. Returns the keys of the rules that failed.
pub(super) fn check_schema(
    parsed: &[Parsed],
    schema: &SchemaSet,
    problems: &mut Vec<InFile>,
) -> BTreeSet<String> {
    let mut set = PolicySet::new();
    for p in parsed {
        // Keys are unique (made so by `parse_all`), so adding cannot fail on a duplicate.
        let _ = set.add(p.policy.clone());
    }
    let validator = Validator::new(schema.schema().clone());
    let result = validator.validate(&set, ValidationMode::Strict);
    let files: HashMap<String, &SourceFile> = parsed
        .iter()
        .map(|p| (p.policy.id().to_string(), &p.source.file))
        .collect();
    let mut invalid = BTreeSet::new();
    for e in result.validation_errors() {
        let id = e.policy_id().to_string();
        if let Some(file) = files.get(&id) {
            problems.push(InFile::new(e.clone(), file).with_code(codes::SCHEMA));
        }
        invalid.insert(id);
    }
    invalid
}

/// The rules that passed every check, compiled, in the order given. Rules without metadata or
/// that failed schema validation are left out without a word: their problems are reported.
pub(super) fn build_rules(
    parsed: Vec<Parsed>,
    invalid: &BTreeSet<String>,
    schema: &SchemaSet,
    problems: &mut Vec<InFile>,
) -> Vec<Rule> {
    let mut rules = Vec::new();
    for Parsed {
        policy,
        source,
        meta,
    } in parsed
    {
        let Some(meta) = meta else { continue };
        if invalid.contains(&policy.id().to_string()) {
            continue;
        }
        match build_rule(policy, source, meta, schema) {
            Ok(rule) => rules.push(rule),
            Err(why) => problems.push(why),
        }
    }
    rules
}

/// One rule, or the problem that keeps it out: it can apply to no resource type, or it cannot
/// be split into its applies and requirement parts.
fn build_rule(
    policy: Policy,
    source: RuleSource,
    meta: Meta,
    schema: &SchemaSet,
) -> Result<Rule, InFile> {
    let resource_types = resource_types(&policy, schema);
    if resource_types.is_empty() {
        return Err(problem(
            &source.file,
            codes::APPLIES_TO_NOTHING,
            format!("rule `{}` can apply to no resource type", meta.id),
            Some("narrow the scope to a type the schema declares, e.g. `resource is Aws::IamUser`, and check that `when` is not always false; `trustcheck schema` lists the types".into()),
            effect_span(&source.file.text),
            "this rule never applies",
        ));
    }
    let compiled = compile(&policy).map_err(|message| {
        problem(
            &source.file,
            codes::UNCOMPILABLE,
            format!("rule `{}` cannot be compiled: {message}", meta.id),
            None,
            effect_span(&source.file.text),
            "here",
        )
    })?;
    Ok(Rule {
        id: meta.id,
        title: meta.title,
        soc2: meta.soc2,
        severity: meta.severity,
        remediation: meta.remediation,
        description: meta.description,
        file: source.file,
        origin: source.origin,
        resource_types,
        policy,
        applies: compiled.applies,
        requirement: compiled.requirement,
        outcome: compiled.outcome,
        applies_attrs: compiled.applies_attrs,
        requirement_attrs: compiled.requirement_attrs,
        reads_through: compiled.reads_through,
        read_depth: compiled.read_depth,
        params_read: compiled.params_read,
        names_read: compiled.names_read,
    })
}

/// The entity types the typechecker says the rule can apply to, sorted, without repeats.
fn resource_types(policy: &Policy, schema: &SchemaSet) -> Vec<String> {
    let mut types: Vec<String> = policy
        .get_valid_request_envs(schema.schema())
        .map(|env| env.resource().to_string())
        .collect();
    types.sort();
    types.dedup();
    types
}

/// Every problem, sorted by file and position, under a one-line count.
pub(super) fn diagnostics(mut problems: Vec<InFile>) -> Diagnostics {
    problems.sort_by(|a, b| (a.file(), a.offset()).cmp(&(b.file(), b.offset())));
    let mut files: Vec<&str> = problems.iter().map(InFile::file).collect();
    files.dedup();
    let summary = format!(
        "{} problem{} in {} rule file{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    Diagnostics {
        summary,
        items: problems,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::tests::{load, messages, GOOD};

    #[test]
    fn ids_are_unique() {
        let err = load(&[("a/x-mfa.cedar", GOOD), ("b/x-mfa.cedar", GOOD)]).unwrap_err();
        let m = messages(&err);
        assert!(
            m.contains("duplicate rule id `x-mfa`: also in `a/x-mfa.cedar`"),
            "{m}"
        );
    }

    #[test]
    fn schema_violations_keep_cedars_did_you_mean() {
        let err = load(&[(
            "p/x-mfa.cedar",
            &GOOD.replace("resource.mfaActive", "resource.mfaActiv"),
        )])
        .unwrap_err();
        let rendered = crate::diagnostics::render_plain(&err.items[0]);
        assert!(rendered.contains("p/x-mfa.cedar:8"), "{rendered}");
        assert!(rendered.contains("mfaActive"), "{rendered}");
    }
}
