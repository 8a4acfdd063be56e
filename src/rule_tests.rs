//! Rule test cases: given entities and a `now`, expect each rule's status on each resource.
//!
//! A rule `policies/aws/aws-root-mfa.cedar` has its cases in `aws-root-mfa.test.json` beside it:
//!
//! ```json
//! { "rule": "aws-root-mfa",
//!   "cases": [ { "name": "root without MFA fails",
//!                "now": "2026-11-22T00:00:00Z",
//!                "entities": [ … Cedar entity JSON … ],
//!                "errors": [ … optional collection errors, as in a snapshot … ],
//!                "expect": [ { "resource": {"type": "Aws::Account", "id": "…"}, "status": "fail" } ] } ] }
//! ```
//!
//! Expectations are exhaustive for the rule under test: a finding of that rule on a resource the
//! case does not list is a mismatch too, so a case cannot pass by accident.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use crate::engine;
use crate::entities::{Input, Store};
use crate::findings::{Status, Uid};
use crate::params::Params;
use crate::rules::{self, ReadRulesError, RuleSet};
use crate::schema::SchemaSet;
use crate::snapshot::{Entity, Snapshot, Source, UncollectedFact};

/// A test file: the cases of one rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The rule under test (defaults to the file name without `.test.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The cases.
    pub cases: Vec<TestCase>,
}

/// One case.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the case shows.
    pub name: String,
    /// The snapshot time (`context.now`).
    pub now: String,
    /// The facts.
    pub entities: Vec<Entity>,
    /// Facts recorded as not collected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<UncollectedFact>,
    /// Parameters set for this case (`context.params`); the others keep their defaults, whatever
    /// trustcheck.toml says, so that a case means the same everywhere.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, i64>,
    /// The expected status of the rule on each resource it judges.
    pub expect: Vec<Expectation>,
}

/// The expected status of the rule on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The resource.
    pub resource: Uid,
    /// Its expected status.
    pub status: Status,
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The test file.
    pub file: String,
    /// The rule.
    pub rule: String,
    /// The case name.
    pub name: String,
    /// Expected (resource → status), sorted.
    pub expected: BTreeMap<Uid, Status>,
    /// Actual (resource → status), sorted; with the finding message.
    pub actual: BTreeMap<Uid, (Status, String)>,
    /// Set when the case could not run at all (bad entities, unknown rule).
    pub setup_error: Option<String>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.setup_error.is_none()
            && self.expected.len() == self.actual.len()
            && self
                .expected
                .iter()
                .all(|(r, s)| self.actual.get(r).map(|(a, _)| a) == Some(s))
    }
}

/// One line of the expected-vs-actual diff of a failed case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// In both, only expected (`Delete`), or only actual (`Insert`).
    pub tag: ChangeTag,
    /// `Type::"id"  status`.
    pub text: String,
}

impl CaseResult {
    /// One line per expected finding, `Type::"id"  status`, sorted by resource.
    pub fn expected_lines(&self) -> String {
        lines(self.expected.iter().map(|(r, s)| (r, *s)))
    }

    /// One line per actual finding of the rule, `Type::"id"  status`, sorted by resource.
    pub fn actual_lines(&self) -> String {
        lines(self.actual.iter().map(|(r, (s, _))| (r, *s)))
    }

    /// The line diff of expected against actual findings (similar's Myers diff).
    pub fn diff(&self) -> Vec<DiffLine> {
        let expected = self.expected_lines();
        let actual = self.actual_lines();
        TextDiff::from_lines(&expected, &actual)
            .iter_all_changes()
            .map(|c| DiffLine {
                tag: c.tag(),
                text: c.value().trim_end().to_string(),
            })
            .collect()
    }

    /// One sentence per resource whose status differs: expected, actual and the facts the rule
    /// read (or why it could not judge).
    pub fn mismatches(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (r, want) in &self.expected {
            match self.actual.get(r) {
                Some((got, _)) if got == want => {}
                Some((got, message)) => {
                    out.push(format!("{r}: expected {want}, actual {got} ({message})"))
                }
                None => out.push(format!(
                    "{r}: expected {want}, actual: no finding (the rule does not judge this resource: is its type right?)"
                )),
            }
        }
        for (r, (got, message)) in &self.actual {
            if !self.expected.contains_key(r) {
                out.push(format!(
                    "{r}: not expected, actual {got} ({message}); expectations list every resource the rule judges"
                ));
            }
        }
        out
    }

    /// The whole report of a failed case, as plain text: where, what differs, and the diff.
    pub fn failure_report(&self) -> String {
        let mut out = format!("{}: {}\n  in {}\n", self.rule, self.name, self.file);
        if let Some(e) = &self.setup_error {
            out.push_str(&format!("  error: {e}\n"));
            return out;
        }
        for m in self.mismatches() {
            out.push_str(&format!("  {m}\n"));
        }
        out.push_str("  expected (-) vs actual (+):\n");
        for line in self.diff() {
            let sign = match line.tag {
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
                ChangeTag::Equal => ' ',
            };
            out.push_str(&format!("    {sign} {}\n", line.text));
        }
        out
    }
}

fn lines<'a>(items: impl Iterator<Item = (&'a Uid, Status)>) -> String {
    items.map(|(r, s)| format!("{r}  {s}\n")).collect()
}

/// Whether each rule's cases include a passing and a failing expectation: (pass, fail) by rule.
pub fn coverage(results: &[CaseResult]) -> BTreeMap<String, (bool, bool)> {
    let mut covered: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for r in results {
        let entry = covered.entry(r.rule.clone()).or_default();
        entry.0 |= r.expected.values().any(|s| *s == Status::Pass);
        entry.1 |= r.expected.values().any(|s| *s == Status::Fail);
    }
    covered
}

/// Every `*.test.json` below `dir` (recursively, sorted), as (path, text).
pub fn files_in(dir: &Path) -> Result<Vec<(String, String)>, ReadRulesError> {
    let err = |source| ReadRulesError {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    if dir.is_dir() {
        rules::walk(dir, "test.json", &mut files).map_err(err)?;
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(err)?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}

/// Runs the cases of one test file against `rules`.
pub fn run_file(file: &str, text: &str, rules: &RuleSet, schema: &SchemaSet) -> Vec<CaseResult> {
    let default_rule = std::path::Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".test.json"))
        .unwrap_or("")
        .to_string();
    let parsed: TestFile = match serde_json::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            return vec![CaseResult {
                file: file.to_string(),
                rule: default_rule,
                name: "(file)".into(),
                expected: BTreeMap::new(),
                actual: BTreeMap::new(),
                setup_error: Some(format!("not a valid test file: {e}")),
            }]
        }
    };
    let rule_id = parsed.rule.clone().unwrap_or(default_rule);
    parsed
        .cases
        .iter()
        .map(|case| run_case(file, &rule_id, case, rules, schema))
        .collect()
}

fn run_case(
    file: &str,
    rule_id: &str,
    case: &TestCase,
    rules: &RuleSet,
    schema: &SchemaSet,
) -> CaseResult {
    let mut result = CaseResult {
        file: file.to_string(),
        rule: rule_id.to_string(),
        name: case.name.clone(),
        expected: case
            .expect
            .iter()
            .map(|e| (e.resource.clone(), e.status))
            .collect(),
        actual: BTreeMap::new(),
        setup_error: None,
    };
    if rules.get(rule_id).is_none() {
        result.setup_error = Some(format!("no rule `{rule_id}` is loaded"));
        return result;
    }
    let mut params = Params::default();
    for (name, value) in &case.params {
        if let Err(e) = params.set(name, *value) {
            result.setup_error = Some(e);
            return result;
        }
    }
    let only = rules
        .filtered(|r| r.id.as_ref() == rule_id)
        .with_params(params);
    let mut snapshot = Snapshot::new(case.now.clone());
    snapshot.sources.push(Source {
        provider: "test".into(),
        scope: case.name.clone(),
        identity: None,
        collected_at: case.now.clone(),
        api_calls: 0,
        errors: case.errors.clone(),
    });
    snapshot.entities = case.entities.clone();
    if crate::snapshot::normalize_utc(&case.now).is_none() {
        result.setup_error = Some(format!("`now` is `{}`, not a UTC datetime", case.now));
        return result;
    }
    let store = match Store::load(vec![Input::in_memory(file, snapshot)], schema) {
        Ok(s) => s,
        Err(e) => {
            result.setup_error = Some(e.to_string());
            return result;
        }
    };
    match engine::evaluate(&only, &store) {
        Ok(findings) => {
            result.actual = findings
                .into_iter()
                .map(|f| (Arc::unwrap_or_clone(f.resource), (f.status, f.message)))
                .collect();
        }
        Err(e) => result.setup_error = Some(e.to_string()),
    }
    result
}

/// The built-in test files.
pub fn builtin_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    crate::builtin::TESTS.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::builtin_sources;

    /// Every shipped rule: its cases pass, and they include at least one pass and one fail.
    #[test]
    fn shipped_rules_pass_their_cases_and_have_pass_and_fail_cases() {
        let schema = SchemaSet::builtin().unwrap();
        let rules = RuleSet::load(builtin_sources(), &schema).unwrap_or_else(|e| {
            panic!("{}", crate::diagnostics::render_plain(&e));
        });
        let mut results = Vec::new();
        for (file, text) in builtin_files() {
            results.extend(run_file(file, text, &rules, &schema));
        }
        let failures: Vec<String> = results
            .iter()
            .filter(|r| !r.passed())
            .map(CaseResult::failure_report)
            .collect();
        let covered = coverage(&results);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        for rule in rules.rules() {
            let (pass, fail) = covered.get(rule.id.as_ref()).copied().unwrap_or_default();
            assert!(pass, "rule `{}` has no passing test case", rule.id);
            assert!(fail, "rule `{}` has no failing test case", rule.id);
        }
    }

    fn result(expected: &[(&str, Status)], actual: &[(&str, Status)]) -> CaseResult {
        let r = |id: &str| Uid {
            type_name: "Github::Branch".into(),
            id: id.into(),
        };
        CaseResult {
            file: "t.test.json".into(),
            rule: "x".into(),
            name: "case".into(),
            expected: expected.iter().map(|(id, s)| (r(id), *s)).collect(),
            actual: actual
                .iter()
                .map(|(id, s)| (r(id), (*s, "facts".to_string())))
                .collect(),
            setup_error: None,
        }
    }

    #[test]
    fn a_wrong_expectation_is_reported_with_a_diff() {
        let r = result(
            &[("a", Status::Pass), ("b", Status::Fail)],
            &[
                ("a", Status::Fail),
                ("b", Status::Fail),
                ("c", Status::Pass),
            ],
        );
        assert!(!r.passed());
        let report = r.failure_report();
        assert!(
            report.contains(r#"Github::Branch::"a": expected pass, actual fail (facts)"#),
            "{report}"
        );
        assert!(
            report.contains(r#"Github::Branch::"c": not expected"#),
            "{report}"
        );
        assert!(
            report.contains(r#"- Github::Branch::"a"  pass"#),
            "{report}"
        );
        assert!(
            report.contains(r#"+ Github::Branch::"a"  fail"#),
            "{report}"
        );
        assert!(
            report.contains(r#"  Github::Branch::"b"  fail"#),
            "{report}"
        );
        assert!(result(&[("a", Status::Pass)], &[("a", Status::Pass)]).passed());
    }
}
