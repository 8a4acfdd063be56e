//! Rules: one Cedar `forbid` policy per `.cedar` file, its annotations the only source of its
//! metadata, checked strictly against the schema when loaded.
//!
//! A rule is written `when { applies } unless { requirement }`. Loading splits the two parts into
//! separate Cedar expressions so that the engine can tell *not applicable* from *pass*, and records
//! which attributes of `resource` each part reads, so that an uncollected fact turns the finding
//! into `error` instead of a guess.
//!
//! The steps of loading each have a module: `sources` (where rule texts come from), `parse` (one
//! `forbid` policy per file), `annotations` (its metadata), `validation` (the checks that need the
//! whole set and the schema) and `compile` (the applies and requirement parts). None of them
//! prints or stops at the first problem: every problem comes back in one [`Diagnostics`].

mod annotations;
pub mod codes;
mod compile;
mod parse;
pub use parse::MAX_NESTING;
mod sources;
mod validation;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cedar_policy::{Expression, Policy};

use crate::diagnostics::{Diagnostics, SourceFile};
use crate::params::Params;
use crate::schema::SchemaSet;
use crate::severity::Severity;

pub use annotations::{id_problem, OPTIONAL_ANNOTATIONS, REQUIRED_ANNOTATIONS};
pub use sources::{builtin_sources, sources_from_path, walk, Origin, ReadRulesError, RuleSource};

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
    /// Parameters the rule reads (`context.params.NAME`), sorted.
    pub params_read: Vec<String>,
    /// Every attribute name the rule reads or tests with `has`, on the resource or on any entity
    /// or record it reaches, sorted: a superset of what an evaluation of the rule can observe.
    pub names_read: Vec<String>,
    /// When the rule reads no entity but the resource it judges and those its attributes lead
    /// to: the attribute names it reads through (`a` in `resource.a.b`), sorted. Such a rule can
    /// be judged on a store of a chunk of resources, with the entities they reference through
    /// those names ([`crate::entities::Store::holds_references`]). `None` when it may read any
    /// entity.
    pub reads_through: Option<Vec<String>>,
    /// How many entities deep the rule can read from the resource (`resource.a.b.c`: 2).
    pub read_depth: usize,
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
    params: Params,
}

impl RuleSet {
    /// Loads and validates rules. Every problem in every file is reported, not just the first:
    /// a rule whose annotations are wrong is still checked against the schema, and the problems
    /// come out sorted by file and position.
    pub fn load(sources: Vec<RuleSource>, schema: &SchemaSet) -> Result<Self, Diagnostics> {
        // Each step appends what it finds; sorting happens once, at the end, and is stable, so
        // problems at the same place keep the order the steps found them in.
        let mut problems = Vec::new();
        let parsed = validation::parse_all(sources, &mut problems);
        let invalid = validation::check_schema(&parsed, schema, &mut problems);
        let mut rules = validation::build_rules(parsed, &invalid, schema, &mut problems);
        if !problems.is_empty() {
            return Err(validation::diagnostics(problems));
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self::from_rules(rules))
    }

    pub(crate) fn from_rules(rules: Vec<Rule>) -> Self {
        let mut by_type: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            for t in &r.resource_types {
                by_type.entry(t.clone()).or_default().push(i);
            }
        }
        Self {
            rules,
            by_type,
            params: Params::default(),
        }
    }

    /// The parameter values the rules are judged with (defaults unless configured).
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The same rules, judged with `params`.
    pub fn with_params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// Every attribute name any rule reads or tests: the only attributes evaluation can observe,
    /// so the only ones the entity store needs to hold ([`crate::entities::Store::load_for`]).
    pub fn names_read(&self) -> rustc_hash::FxHashSet<String> {
        self.rules
            .iter()
            .flat_map(|r| r.names_read.iter().cloned())
            .collect()
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

    /// The rules that judge resources of `type_name`, in id order.
    pub fn judging(&self, type_name: &str) -> impl Iterator<Item = &Rule> + Clone {
        self.for_type(type_name)
            .iter()
            .filter_map(|&i| self.rules.get(i))
    }

    /// The rules as `adjust` leaves them: each is kept (possibly changed, e.g. a severity
    /// override from the configuration) or dropped (`None`).
    pub fn adjusted(&self, adjust: impl FnMut(&Rule) -> Option<Rule>) -> Self {
        Self::from_rules(self.rules.iter().filter_map(adjust).collect())
            .with_params(self.params.clone())
    }

    /// The rules for which `keep` is true.
    pub fn filtered(&self, mut keep: impl FnMut(&Rule) -> bool) -> Self {
        Self::from_rules(self.rules.iter().filter(|r| keep(r)).cloned().collect())
            .with_params(self.params.clone())
    }
}

/// Loading as a whole. Each step's own cases live beside it and share the helpers here
/// (`crate::rules::tests::{load, GOOD, messages}`).
#[cfg(test)]
mod tests {
    use super::*;

    /// Loads custom rules from `(file name, text)` pairs against the built-in schema.
    pub(super) fn load(files: &[(&str, &str)]) -> Result<RuleSet, Diagnostics> {
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

    /// A rule with nothing wrong, for the tests to break one piece at a time.
    pub(super) const GOOD: &str = r#"@id("x-mfa")
@soc2("CC6.1")
@severity("high")
@title("t")
@remediation("r")
forbid (principal, action, resource is Aws::IamUser)
when { resource has consoleAccess && resource.consoleAccess }
unless { resource has mfaActive && resource.mfaActive };
"#;

    /// Every problem's message, one a line.
    pub(super) fn messages(e: &Diagnostics) -> String {
        e.items.iter().map(|d| format!("{d}\n")).collect()
    }

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

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::diagnostics::render_plain;

        /// Pieces of rules, well-formed and not, so generated texts get past the lexer often.
        fn piece() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("@id(\"x-r\")\n".to_string()),
                Just("@soc2(\"CC6.1\")\n".to_string()),
                Just("@severity(\"high\")\n@title(\"t\")\n@remediation(\"r\")\n".to_string()),
                Just("forbid (principal, action, resource is Aws::IamUser)".to_string()),
                Just("permit (principal, action, resource)".to_string()),
                Just(" when { ".to_string()),
                Just(" unless { ".to_string()),
                Just("resource.mfaActive".to_string()),
                Just("resource has consoleAccess && ".to_string()),
                Just("context.now".to_string()),
                Just(" }".to_string()),
                Just(";\n".to_string()),
                Just("(".to_string()),
                Just(")".to_string()),
                "\\PC{0,12}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// Whatever a pull request puts in a rule file, loading it ends in rules or in
            /// located diagnostics, and rendering those never panics.
            #[test]
            fn any_rule_text_loads_or_is_explained(pieces in prop::collection::vec(piece(), 0..14)) {
                let text = pieces.concat();
                if let Err(e) = load(&[("x-r.cedar", &text)]) {
                    prop_assert!(!render_plain(&e).is_empty());
                    for record in crate::diagnostics::records(&e) {
                        prop_assert!(record.line.is_none_or(|l| l >= 1));
                    }
                }
            }
        }
    }
}
