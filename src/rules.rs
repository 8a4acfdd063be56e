//! Rules: one Cedar `forbid` policy per `.cedar` file, its annotations the only source of its
//! metadata, checked strictly against the schema when loaded.
//!
//! A rule is written `when { applies } unless { requirement }`. Loading splits the two parts into
//! separate Cedar expressions so that the engine can tell *not applicable* from *pass*, and records
//! which attributes of `resource` each part reads, so that an uncollected fact turns the finding
//! into `error` instead of a guess.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    pst, Effect, Expression, Policy, PolicyId, PolicySet, ValidationMode, Validator,
};
use miette::SourceSpan;
use serde_json::Value;

use crate::builtin;
use crate::criteria;
use crate::diagnostics::{Diagnostics, InFile, Problem, SourceFile};
use crate::schema::{nearest, SchemaSet};
use crate::severity::Severity;

/// Annotations every rule must carry.
pub const REQUIRED_ANNOTATIONS: &[&str] = &["id", "soc2", "severity", "title", "remediation"];
/// Annotations a rule may carry besides the required ones.
pub const OPTIONAL_ANNOTATIONS: &[&str] = &["description"];

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Shipped in the binary.
    Builtin,
    /// Loaded from a `--policies` folder.
    Custom,
}

/// The text of one rule file and where it comes from.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// The file.
    pub file: SourceFile,
    /// Shipped or custom.
    pub origin: Origin,
}

/// The shipped rules.
pub fn builtin_sources() -> Vec<RuleSource> {
    builtin::RULES
        .iter()
        .map(|(path, text)| RuleSource {
            file: SourceFile::new(*path, *text),
            origin: Origin::Builtin,
        })
        .collect()
}

/// A rules folder that cannot be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot read rules from `{path}`: {source}")]
#[diagnostic(help("`--policies` takes a folder of `.cedar` files (searched recursively)"))]
pub struct ReadRulesError {
    /// The path.
    pub path: String,
    /// Why.
    pub source: std::io::Error,
}

/// Every `.cedar` file below `dir` (recursively, sorted). A single `.cedar` file is accepted too.
pub fn sources_from_path(dir: &Path) -> Result<Vec<RuleSource>, ReadRulesError> {
    let err = |source| ReadRulesError {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    if dir.is_file() {
        files.push(dir.to_path_buf());
    } else {
        walk(dir, "cedar", &mut files).map_err(err)?;
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(err)?;
            Ok(RuleSource {
                file: SourceFile::new(path.display().to_string(), text),
                origin: Origin::Custom,
            })
        })
        .collect()
}

/// Files below `dir` whose name ends with `.{ext}`.
pub fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let suffix = format!(".{ext}");
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, ext, out)?;
        } else if path.to_string_lossy().ends_with(&suffix) {
            out.push(path);
        }
    }
    Ok(())
}

/// A loaded, validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `@id`: unique, equal to the file name.
    pub id: Arc<str>,
    /// `@title`
    pub title: Arc<str>,
    /// `@soc2`, split on commas.
    pub soc2: Arc<[String]>,
    /// `@severity`
    pub severity: Severity,
    /// `@remediation`
    pub remediation: Arc<str>,
    /// `@description`, when given.
    pub description: Option<String>,
    /// The file it was loaded from.
    pub file: SourceFile,
    /// Shipped or custom.
    pub origin: Origin,
    /// The entity types the rule can apply to, as the typechecker sees it.
    pub resource_types: Vec<String>,
    /// The Cedar policy (renamed to its `@id`).
    pub policy: Policy,
    /// The scope and `when` parts: does the rule apply?
    pub applies: Expression,
    /// The `unless` parts: is the requirement met?
    pub requirement: Expression,
    /// Both parts in one expression: `0` not applicable, `1` pass, `2` fail. One evaluation
    /// instead of two when no fact of the resource is unknown (the common case).
    pub outcome: Expression,
    /// Attributes of `resource` the `applies` part reads.
    pub applies_attrs: Vec<String>,
    /// Attributes of `resource` the `requirement` part reads.
    pub requirement_attrs: Vec<String>,
}

impl Rule {
    /// Every attribute of `resource` the rule reads, applies part first, without repeats.
    pub fn attrs_read(&self) -> impl Iterator<Item = &str> {
        let mut seen = BTreeSet::new();
        self.applies_attrs
            .iter()
            .chain(&self.requirement_attrs)
            .filter(move |a| seen.insert(a.as_str()))
            .map(String::as_str)
    }
}

/// All loaded rules, indexed by the resource type they apply to.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    by_type: HashMap<String, Vec<usize>>,
}

impl RuleSet {
    /// Loads and validates rules. Every problem in every file is reported, not just the first:
    /// a rule whose annotations are wrong is still checked against the schema, and the problems
    /// come out sorted by file and position.
    pub fn load(sources: Vec<RuleSource>, schema: &SchemaSet) -> Result<Self, Diagnostics> {
        let mut problems: Vec<InFile> = Vec::new();
        // Every parsed policy, under a key unique in the set (its `@id` when it has a usable one),
        // with its metadata when the annotations are all valid.
        let mut parsed: Vec<(Policy, RuleSource, Option<Meta>)> = Vec::new();
        let mut ids: HashMap<String, SourceFile> = HashMap::new();
        let mut keys: BTreeSet<String> = BTreeSet::new();

        for source in sources {
            let (policy, meta, mut errs) = match parse_rule(&source.file) {
                Ok(parsed) => parsed,
                Err(mut errs) => {
                    problems.append(&mut errs);
                    continue;
                }
            };
            problems.append(&mut errs);
            if let Some(m) = &meta {
                if let Some(first) = ids.get(m.id.as_ref()) {
                    let span = annotation_span(&source.file.text, "id");
                    problems.push(
                        InFile::new(
                            Problem {
                                message: format!(
                                    "duplicate rule id `{}`: also in `{}`",
                                    m.id, first.name
                                ),
                                help: Some(
                                    "rule ids are unique; rename one of the rules (and its file)"
                                        .into(),
                                ),
                                span,
                                label: "this id is taken".into(),
                            },
                            &source.file,
                        )
                        .with_code(codes::DUPLICATE_ID),
                    );
                    // Most often a copy: checking it against the schema would repeat the
                    // first file's problems under a made-up policy name.
                    continue;
                } else {
                    ids.insert(m.id.to_string(), source.file.clone());
                }
            }
            let wanted = policy
                .annotation("id")
                .map(str::to_string)
                .unwrap_or_else(|| file_stem(&source.file.name).to_string());
            let mut key = wanted.clone();
            let mut n = 1;
            while !keys.insert(key.clone()) {
                n += 1;
                key = format!("{wanted}#{n}");
            }
            parsed.push((policy.new_id(PolicyId::new(key)), source, meta));
        }

        // Strict validation of all rules at once; each error maps back to its rule's file.
        let mut set = PolicySet::new();
        for (policy, _, _) in &parsed {
            // Keys are unique (made so above), so adding cannot fail on a duplicate.
            let _ = set.add(policy.clone());
        }
        let validator = Validator::new(schema.schema().clone());
        let result = validator.validate(&set, ValidationMode::Strict);
        let mut invalid: BTreeSet<String> = BTreeSet::new();
        let files: HashMap<String, SourceFile> = parsed
            .iter()
            .map(|(p, s, _)| (p.id().to_string(), s.file.clone()))
            .collect();
        for e in result.validation_errors() {
            let id = e.policy_id().to_string();
            invalid.insert(id.clone());
            if let Some(file) = files.get(&id) {
                problems.push(InFile::new(e.clone(), file).with_code(codes::SCHEMA));
            }
        }

        let mut rules = Vec::new();
        for (policy, source, meta) in parsed {
            let Some(meta) = meta else { continue };
            if invalid.contains(&policy.id().to_string()) {
                continue;
            }
            let mut types: Vec<String> = policy
                .get_valid_request_envs(schema.schema())
                .map(|env| env.resource().to_string())
                .collect();
            types.sort();
            types.dedup();
            if types.is_empty() {
                problems.push(problem(
                    &source.file,
                    codes::APPLIES_TO_NOTHING,
                    format!("rule `{}` can apply to no resource type", meta.id),
                    Some("narrow the scope to a type the schema declares, e.g. `resource is Aws::IamUser`, and check that `when` is not always false; `trustcheck schema` lists the types".into()),
                    effect_span(&source.file.text),
                    "this rule never applies",
                ));
                continue;
            }
            match compile(&policy) {
                Ok((applies, requirement, outcome, applies_attrs, requirement_attrs)) => rules
                    .push(Rule {
                        id: meta.id,
                        title: meta.title,
                        soc2: meta.soc2,
                        severity: meta.severity,
                        remediation: meta.remediation,
                        description: meta.description,
                        file: source.file,
                        origin: source.origin,
                        resource_types: types,
                        policy,
                        applies,
                        requirement,
                        outcome,
                        applies_attrs,
                        requirement_attrs,
                    }),
                Err(message) => problems.push(problem(
                    &source.file,
                    codes::UNCOMPILABLE,
                    format!("rule `{}` cannot be compiled: {message}", meta.id),
                    None,
                    effect_span(&source.file.text),
                    "here",
                )),
            }
        }

        if !problems.is_empty() {
            problems.sort_by(|a, b| (a.file(), a.offset()).cmp(&(b.file(), b.offset())));
            let mut files: Vec<&str> = problems.iter().map(InFile::file).collect();
            files.dedup();
            return Err(Diagnostics {
                summary: format!(
                    "{} problem{} in {} rule file{}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    files.len(),
                    if files.len() == 1 { "" } else { "s" }
                ),
                items: problems,
            });
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self::from_rules(rules))
    }

    fn from_rules(rules: Vec<Rule>) -> Self {
        let mut by_type: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            for t in &r.resource_types {
                by_type.entry(t.clone()).or_default().push(i);
            }
        }
        Self { rules, by_type }
    }

    /// Every rule, sorted by id.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id.as_ref() == id)
    }

    /// Indexes (into [`rules`](Self::rules)) of the rules that apply to an entity type.
    pub fn for_type(&self, type_name: &str) -> &[usize] {
        self.by_type.get(type_name).map_or(&[], Vec::as_slice)
    }

    /// The rules as `adjust` leaves them: each is kept (possibly changed, e.g. a severity
    /// override from the configuration) or dropped (`None`).
    pub fn adjusted(&self, adjust: impl FnMut(&Rule) -> Option<Rule>) -> Self {
        Self::from_rules(self.rules.iter().filter_map(adjust).collect())
    }

    /// The rules for which `keep` is true.
    pub fn filtered(&self, mut keep: impl FnMut(&Rule) -> bool) -> Self {
        Self::from_rules(self.rules.iter().filter(|r| keep(r)).cloned().collect())
    }
}

struct Meta {
    id: Arc<str>,
    title: Arc<str>,
    soc2: Arc<[String]>,
    severity: Severity,
    remediation: Arc<str>,
    description: Option<String>,
}

fn problem(
    file: &SourceFile,
    code: &'static str,
    message: String,
    help: Option<String>,
    span: SourceSpan,
    label: &str,
) -> InFile {
    InFile::new(
        Problem {
            message,
            help,
            span,
            label: label.to_string(),
        },
        file,
    )
    .with_code(code)
}

/// The stable codes of rule problems, shown above each message and in `validate --format json`.
pub mod codes {
    /// The file is not valid Cedar.
    pub const SYNTAX: &str = "rule::syntax";
    /// The file does not hold exactly one policy.
    pub const ONE_POLICY_PER_FILE: &str = "rule::one-policy-per-file";
    /// The policy is a `permit`.
    pub const NOT_FORBID: &str = "rule::not-forbid";
    /// An annotation trustcheck does not know.
    pub const UNKNOWN_ANNOTATION: &str = "rule::unknown-annotation";
    /// A required annotation is missing or empty.
    pub const MISSING_ANNOTATION: &str = "rule::missing-annotation";
    /// The `@id` is not a valid rule id.
    pub const INVALID_ID: &str = "rule::invalid-id";
    /// The `@id` differs from the file name.
    pub const ID_NOT_FILE_NAME: &str = "rule::id-not-file-name";
    /// Two rules share an id.
    pub const DUPLICATE_ID: &str = "rule::duplicate-id";
    /// A `@soc2` entry is not in the criteria catalogue.
    pub const UNKNOWN_CRITERION: &str = "rule::unknown-criterion";
    /// The `@severity` is not one of the four.
    pub const UNKNOWN_SEVERITY: &str = "rule::unknown-severity";
    /// Cedar's strict validation against the schema failed.
    pub const SCHEMA: &str = "rule::schema";
    /// No resource type can satisfy the rule's scope and `when`.
    pub const APPLIES_TO_NOTHING: &str = "rule::applies-to-nothing";
    /// The rule could not be split into its applies and requirement parts.
    pub const UNCOMPILABLE: &str = "rule::uncompilable";
}

/// Why `id` is not a valid rule id, if it is not: ids are public API (baselines, SARIF and
/// configuration key on them), so they are kebab-case words: lowercase letters and digits,
/// starting with a letter, separated by single `-`.
pub fn id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        Some("is empty")
    } else if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("may use only lowercase letters, digits and `-`")
    } else if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a letter")
    } else if id.ends_with('-') || id.contains("--") {
        Some("must not end with `-` or contain `--`")
    } else {
        None
    }
}

fn file_stem(name: &str) -> &str {
    Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".cedar"))
        .unwrap_or("")
}

/// A parsed rule file: the policy, its metadata when every annotation is valid, and the
/// annotation problems found (the policy is still worth checking against the schema).
type ParsedRule = (Policy, Option<Meta>, Vec<InFile>);

/// Parses one rule file and checks its shape and annotations. `Err` when there is no single
/// policy to check at all.
fn parse_rule(file: &SourceFile) -> Result<ParsedRule, Vec<InFile>> {
    let set = PolicySet::from_str(&file.text)
        .map_err(|e| vec![InFile::new(e, file).with_code(codes::SYNTAX)])?;
    let policies: Vec<&Policy> = set.policies().collect();
    if set.templates().next().is_some() || policies.len() != 1 {
        return Err(vec![problem(
            file,
            codes::ONE_POLICY_PER_FILE,
            format!(
                "a rule file holds exactly one policy, found {}{}",
                policies.len(),
                if set.templates().next().is_some() {
                    " and a template"
                } else {
                    ""
                }
            ),
            Some(
                "split the file: one `forbid` rule per `.cedar` file, named after its `@id`".into(),
            ),
            effect_span(&file.text),
            "here",
        )]);
    }
    let policy = policies[0];
    let mut errors = Vec::new();
    if policy.effect() != Effect::Forbid {
        errors.push(problem(
            file,
            codes::NOT_FORBID,
            "a rule is a `forbid` policy".into(),
            Some("write the rule as `forbid (principal, action, resource is T) when { applies } unless { requirement };`".into()),
            effect_span(&file.text),
            "not `forbid`",
        ));
    }
    for (key, _) in policy.annotations() {
        if !REQUIRED_ANNOTATIONS.contains(&key) && !OPTIONAL_ANNOTATIONS.contains(&key) {
            let known = REQUIRED_ANNOTATIONS
                .iter()
                .chain(OPTIONAL_ANNOTATIONS)
                .copied();
            let hint = nearest(key, known)
                .map(|n| format!("did you mean `@{n}`? "))
                .unwrap_or_default();
            errors.push(problem(
                file,
                codes::UNKNOWN_ANNOTATION,
                format!("unknown annotation `@{key}`"),
                Some(format!(
                    "{hint}rules take @{} and optionally @{}",
                    REQUIRED_ANNOTATIONS.join(", @"),
                    OPTIONAL_ANNOTATIONS.join(", @")
                )),
                annotation_span(&file.text, key),
                "unknown",
            ));
        }
    }
    let mut get = |key: &str| -> Option<String> {
        match policy.annotation(key) {
            Some(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
            _ => {
                errors.push(problem(
                    file,
                    codes::MISSING_ANNOTATION,
                    format!("rule lacks the `@{key}` annotation"),
                    Some(format!(
                        "add `@{key}(\"…\")` above the policy; every rule carries @{}",
                        REQUIRED_ANNOTATIONS.join(", @")
                    )),
                    effect_span(&file.text),
                    "this rule",
                ));
                None
            }
        }
    };
    let id = get("id");
    let soc2 = get("soc2");
    let severity = get("severity");
    let title = get("title");
    let remediation = get("remediation");

    if let Some(id) = &id {
        let stem = file_stem(&file.name);
        if let Some(why) = id_problem(id) {
            errors.push(problem(
                file,
                codes::INVALID_ID,
                format!("rule id `{id}` {why}"),
                Some("ids are public API (baselines, SARIF and trustcheck.toml key on them); write them in kebab-case, e.g. `acme-prod-two-approvals`".into()),
                annotation_span(&file.text, "id"),
                "invalid id",
            ));
        } else if id != stem {
            errors.push(problem(
                file,
                codes::ID_NOT_FILE_NAME,
                format!("rule id `{id}` does not match its file name `{stem}.cedar`"),
                Some(format!(
                    "rename the file to `{id}.cedar` or change the `@id`"
                )),
                annotation_span(&file.text, "id"),
                "id and file name differ",
            ));
        }
    }
    let mut criteria_ids = Vec::new();
    if let Some(list) = &soc2 {
        for c in list.split(',').map(str::trim) {
            if criteria::find(c).is_some() {
                criteria_ids.push(c.to_string());
            } else {
                let help = match criteria::nearest(c) {
                    Some(n) => format!("did you mean `{n}`? `trustcheck controls` lists every criterion"),
                    None => "criteria are ids like `CC6.1`, `CC8.1`, `A1.2`; `trustcheck controls` lists them".into(),
                };
                errors.push(problem(
                    file,
                    codes::UNKNOWN_CRITERION,
                    format!("unknown SOC 2 criterion `{c}`"),
                    Some(help),
                    annotation_span(&file.text, "soc2"),
                    "not in the criteria catalogue",
                ));
            }
        }
    }
    let severity = severity.and_then(|s| match s.parse::<Severity>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(problem(
                file,
                codes::UNKNOWN_SEVERITY,
                format!("unknown severity `{s}`"),
                Some("severity is one of `critical`, `high`, `medium`, `low`".into()),
                annotation_span(&file.text, "severity"),
                "unknown severity",
            ));
            None
        }
    });
    let policy = policy.clone();
    // All present and valid exactly when no problem was recorded.
    let meta = match (id, title, remediation, severity) {
        (Some(id), Some(title), Some(remediation), Some(severity)) if errors.is_empty() => {
            Some(Meta {
                id: id.as_str().into(),
                title: title.into(),
                soc2: criteria_ids.into(),
                severity,
                remediation: remediation.into(),
                description: policy.annotation("description").map(str::to_string),
            })
        }
        _ => None,
    };
    Ok((policy, meta, errors))
}

/// Span of an annotation's value (or of the file start when it is absent).
fn annotation_span(text: &str, key: &str) -> SourceSpan {
    let needle = format!("@{key}");
    match text.find(&needle) {
        Some(at) => {
            let end = text[at..].find(')').map_or(needle.len(), |e| e + 1);
            SourceSpan::from((at, end))
        }
        None => SourceSpan::from((0, 0)),
    }
}

/// Span of the policy's effect keyword, skipping comments and annotations.
fn effect_span(text: &str) -> SourceSpan {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        for kw in ["forbid", "permit"] {
            if trimmed.starts_with(kw) {
                let at = offset + (line.len() - trimmed.len());
                return SourceSpan::from((at, kw.len()));
            }
        }
        offset += line.len();
    }
    SourceSpan::from((0, 0))
}

type Compiled = (Expression, Expression, Expression, Vec<String>, Vec<String>);

/// Splits a rule into its `applies` (scope + `when`) and `requirement` (`unless`) expressions.
fn compile(policy: &Policy) -> Result<Compiled, String> {
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
    let join = |parts: Vec<String>| {
        if parts.is_empty() {
            "true".to_string()
        } else {
            parts.join(" && ")
        }
    };
    let applies_src = join(applies);
    // `unless { a } unless { b }` forbids when neither holds, so the requirement is `a || b`.
    let requirement_src = if requirement.is_empty() {
        "false".to_string()
    } else {
        requirement.join(" || ")
    };
    let outcome_src =
        format!("if ({applies_src}) then (if ({requirement_src}) then 1 else 2) else 0");
    let parse = |src: &str| Expression::from_str(src).map_err(|e| e.to_string());
    let (applies, requirement, outcome) = (
        parse(&applies_src)?,
        parse(&requirement_src)?,
        parse(&outcome_src)?,
    );

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
        applies,
        requirement,
        outcome,
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
                    if on_resource {
                        if let Some(attr) = inner.get("attr").and_then(Value::as_str) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(files: &[(&str, &str)]) -> Result<RuleSet, Diagnostics> {
        let schema = SchemaSet::builtin().unwrap();
        let sources = files
            .iter()
            .map(|(n, t)| RuleSource {
                file: SourceFile::new(*n, *t),
                origin: Origin::Custom,
            })
            .collect();
        RuleSet::load(sources, &schema)
    }

    const GOOD: &str = r#"@id("x-mfa")
@soc2("CC6.1")
@severity("high")
@title("t")
@remediation("r")
forbid (principal, action, resource is Aws::IamUser)
when { resource has consoleAccess && resource.consoleAccess }
unless { resource has mfaActive && resource.mfaActive };
"#;

    #[test]
    fn a_good_rule_loads_with_types_and_attrs() {
        let set = load(&[("p/x-mfa.cedar", GOOD)]).unwrap();
        let r = set.get("x-mfa").unwrap();
        assert_eq!(r.resource_types, vec!["Aws::IamUser"]);
        assert_eq!(r.applies_attrs, vec!["consoleAccess"]);
        assert_eq!(r.requirement_attrs, vec!["mfaActive"]);
        assert_eq!(set.for_type("Aws::IamUser"), &[0]);
        assert_eq!(&*r.soc2, &["CC6.1".to_string()]);
    }

    fn messages(e: &Diagnostics) -> String {
        e.items.iter().map(|d| format!("{d}\n")).collect()
    }

    #[test]
    fn annotation_problems_are_all_reported() {
        let text = GOOD
            .replace("CC6.1", "CC6.9")
            .replace("\"high\"", "\"urgent\"")
            .replace("@title(\"t\")", "@titel(\"t\")");
        let err = load(&[("p/x-mfa.cedar", &text)]).unwrap_err();
        let m = messages(&err);
        assert!(m.contains("unknown SOC 2 criterion `CC6.9`"), "{m}");
        assert!(m.contains("unknown severity `urgent`"), "{m}");
        assert!(m.contains("unknown annotation `@titel`"), "{m}");
        assert!(m.contains("lacks the `@title`"), "{m}");
    }

    #[test]
    fn id_must_match_file_and_be_unique() {
        let err = load(&[("p/other.cedar", GOOD)]).unwrap_err();
        assert!(messages(&err).contains("does not match its file name"));
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
