//! Parsing one rule file: exactly one `forbid` policy and its metadata, plus the spans that rule
//! problems point at. Only what one file can tell; checks that need the other files or the schema
//! are `validation`'s.

use std::str::FromStr;

use cedar_policy::{Effect, Policy, PolicySet};
use miette::SourceSpan;

use super::annotations::{self, problem, Meta};
use super::codes;
use crate::diagnostics::{InFile, SourceFile};

/// A parsed rule file.
pub(super) struct ParsedRule {
    /// The file's one policy.
    pub(super) policy: Policy,
    /// Its metadata, when the file has no problem at all.
    pub(super) meta: Option<Meta>,
    /// The problems found in the file's shape and annotations: the policy is still worth
    /// checking against the schema, so that every problem is reported at once.
    pub(super) problems: Vec<InFile>,
}

/// Parses one rule file and checks its shape and annotations. `Err` when there is no single
/// policy to check at all.
pub(super) fn parse_rule(file: &SourceFile) -> Result<ParsedRule, Vec<InFile>> {
    let policy = single_policy(file)?;
    let mut problems: Vec<InFile> = not_forbid(&policy, file).into_iter().collect();
    let meta = annotations::read(&policy, file, &mut problems);
    // A rule with any problem in its shape or annotations is still checked against the schema,
    // but never loaded.
    let meta = meta.filter(|_| problems.is_empty());
    Ok(ParsedRule {
        policy,
        meta,
        problems,
    })
}

/// The file's one policy, or why there is not exactly one: not Cedar, several policies or none,
/// or a template.
fn single_policy(file: &SourceFile) -> Result<Policy, Vec<InFile>> {
    if let Some(at) = too_deep(&file.text) {
        return Err(vec![problem(
            file,
            codes::TOO_DEEP,
            format!("brackets nested deeper than {MAX_NESTING} levels"),
            Some(
                "a rule this deep is not reviewable; split the condition into simpler parts".into(),
            ),
            SourceSpan::from((at, 1)),
            "too deep",
        )]);
    }
    let set = PolicySet::from_str(&file.text).map_err(|e| {
        if looks_like_cedar(&file.text) {
            vec![InFile::new(e, file).with_code(codes::SYNTAX)]
        } else {
            // Perhaps a link or a misnamed file: never echo a file that is not a rule.
            let hidden = SourceFile::new(file.name.clone(), "");
            vec![problem(
                &hidden,
                codes::NOT_A_RULE,
                "this `.cedar` file is not a Cedar rule (no `permit` or `forbid`); its content is not shown".into(),
                Some("remove the file from the rules folder, or write one `forbid` rule in it".into()),
                SourceSpan::from((0, 0)),
                "",
            )]
        }
    })?;
    let has_template = set.templates().next().is_some();
    let mut policies = set.policies();
    match (policies.next(), policies.next()) {
        (Some(policy), None) if !has_template => Ok(policy.clone()),
        _ => Err(vec![not_one_policy(
            file,
            set.policies().count(),
            has_template,
        )]),
    }
}

/// How deep brackets may nest in a rule. Cedar's parser recurses per level and overflows the
/// stack somewhere above 150 (debug builds) to 600 (release); real rules stay under 10.
pub const MAX_NESTING: usize = 32;

/// Offset of the first bracket nested deeper than [`MAX_NESTING`], outside strings and comments.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => {
                // A string literal: skip to its closing quote, honouring escapes.
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek().is_some_and(|&(_, n)| n == '/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(at);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Whether the text could be meant as Cedar at all.
fn looks_like_cedar(text: &str) -> bool {
    text.contains("forbid") || text.contains("permit")
}

fn not_one_policy(file: &SourceFile, policies: usize, has_template: bool) -> InFile {
    problem(
        file,
        codes::ONE_POLICY_PER_FILE,
        format!(
            "a rule file holds exactly one policy, found {policies}{}",
            if has_template { " and a template" } else { "" }
        ),
        Some("split the file: one `forbid` rule per `.cedar` file, named after its `@id`".into()),
        effect_span(&file.text),
        "here",
    )
}

/// The problem with a policy that is not a `forbid`: a rule forbids what fails its requirement.
fn not_forbid(policy: &Policy, file: &SourceFile) -> Option<InFile> {
    (policy.effect() != Effect::Forbid).then(|| {
        problem(
            file,
            codes::NOT_FORBID,
            "a rule is a `forbid` policy".into(),
            Some("write the rule as `forbid (principal, action, resource is T) when { applies } unless { requirement };`".into()),
            effect_span(&file.text),
            "not `forbid`",
        )
    })
}

/// Span of an annotation's value (or of the file start when it is absent).
pub(super) fn annotation_span(text: &str, key: &str) -> SourceSpan {
    let needle = format!("@{key}");
    match text.find(&needle) {
        Some(at) => {
            // Up to the closing parenthesis, so the label covers `@key("value")`.
            let len = text
                .get(at..)
                .and_then(|rest| rest.find(')'))
                .map_or(needle.len(), |e| e + 1);
            SourceSpan::from((at, len))
        }
        None => SourceSpan::from((0, 0)),
    }
}

/// Span of the policy's effect keyword, skipping comments and annotations.
pub(super) fn effect_span(text: &str) -> SourceSpan {
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
