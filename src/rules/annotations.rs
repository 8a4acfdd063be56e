//! A rule's metadata: its annotations (`@id @soc2 @severity @title @remediation`, optionally
//! `@description`), read and checked one by one, and the located problems they lead to. The
//! annotations are the only source of a rule's metadata; this module never reads its conditions.

use std::sync::Arc;

use cedar_policy::Policy;
use miette::SourceSpan;

use super::codes;
use super::parse::{annotation_span, effect_span};
use super::sources::file_stem;
use crate::criteria;
use crate::diagnostics::{InFile, Problem, SourceFile};
use crate::schema::nearest;
use crate::severity::Severity;

/// Annotations every rule must carry.
pub const REQUIRED_ANNOTATIONS: &[&str] = &["id", "soc2", "severity", "title", "remediation"];
/// Annotations a rule may carry besides the required ones.
pub const OPTIONAL_ANNOTATIONS: &[&str] = &["description"];

/// A rule's metadata, read from its annotations.
pub(super) struct Meta {
    /// `@id`
    pub(super) id: Arc<str>,
    /// `@title`
    pub(super) title: Arc<str>,
    /// `@soc2`, split on commas, every entry in the criteria catalogue.
    pub(super) soc2: Arc<[String]>,
    /// `@severity`
    pub(super) severity: Severity,
    /// `@remediation`
    pub(super) remediation: Arc<str>,
    /// `@description`, when given.
    pub(super) description: Option<String>,
}

/// Reads a rule's annotations, pushing onto `problems` one problem for each that is unknown,
/// missing or invalid. `Some` when every required annotation is present and the severity is one
/// of the four; whether the metadata is usable is for the caller to decide from `problems`.
pub(super) fn read(policy: &Policy, file: &SourceFile, problems: &mut Vec<InFile>) -> Option<Meta> {
    problems.extend(unknown_annotations(policy, file));
    let id = required(policy, "id", file, problems);
    let soc2 = required(policy, "soc2", file, problems);
    let severity = required(policy, "severity", file, problems);
    let title = required(policy, "title", file, problems);
    let remediation = required(policy, "remediation", file, problems);

    if let Some(id) = &id {
        problems.extend(id_or_file_name_problem(id, file));
    }
    let criteria_ids = soc2
        .map(|list| criteria_of(&list, file, problems))
        .unwrap_or_default();
    let severity = severity.and_then(|s| severity_of(&s, file, problems));
    let (Some(id), Some(title), Some(remediation), Some(severity)) =
        (id, title, remediation, severity)
    else {
        return None;
    };
    Some(Meta {
        id: id.as_str().into(),
        title: title.into(),
        soc2: criteria_ids.into(),
        severity,
        remediation: remediation.into(),
        description: policy.annotation("description").map(str::to_string),
    })
}

/// One problem per annotation that is neither required nor optional, with the nearest known one.
fn unknown_annotations(policy: &Policy, file: &SourceFile) -> Vec<InFile> {
    policy
        .annotations()
        .map(|(key, _)| key)
        .filter(|key| !REQUIRED_ANNOTATIONS.contains(key) && !OPTIONAL_ANNOTATIONS.contains(key))
        .map(|key| {
            let known = REQUIRED_ANNOTATIONS
                .iter()
                .chain(OPTIONAL_ANNOTATIONS)
                .copied();
            let hint = nearest(key, known)
                .map(|n| format!("did you mean `@{n}`? "))
                .unwrap_or_default();
            problem(
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
            )
        })
        .collect()
}

/// The trimmed value of a required annotation, or a problem when it is missing or blank.
fn required(
    policy: &Policy,
    key: &str,
    file: &SourceFile,
    problems: &mut Vec<InFile>,
) -> Option<String> {
    match policy.annotation(key) {
        Some(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
        _ => {
            problems.push(problem(
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
}

/// The problem with an `@id`, if any: not kebab-case, or not the file's name.
fn id_or_file_name_problem(id: &str, file: &SourceFile) -> Option<InFile> {
    let stem = file_stem(&file.name);
    if let Some(why) = id_problem(id) {
        Some(problem(
            file,
            codes::INVALID_ID,
            format!("rule id `{id}` {why}"),
            Some("ids are public API (baselines, SARIF and trustcheck.toml key on them); write them in kebab-case, e.g. `acme-prod-two-approvals`".into()),
            annotation_span(&file.text, "id"),
            "invalid id",
        ))
    } else if id != stem {
        Some(problem(
            file,
            codes::ID_NOT_FILE_NAME,
            format!("rule id `{id}` does not match its file name `{stem}.cedar`"),
            Some(format!(
                "rename the file to `{id}.cedar` or change the `@id`"
            )),
            annotation_span(&file.text, "id"),
            "id and file name differ",
        ))
    } else {
        None
    }
}

/// The criteria a `@soc2` list names, in order; a problem for each not in the catalogue.
fn criteria_of(list: &str, file: &SourceFile, problems: &mut Vec<InFile>) -> Vec<String> {
    let mut ids = Vec::new();
    for c in list.split(',').map(str::trim) {
        if criteria::find(c).is_some() {
            ids.push(c.to_string());
            continue;
        }
        let help = match criteria::nearest(c) {
            Some(n) => {
                format!("did you mean `{n}`? `trustcheck controls` lists every criterion")
            }
            None => {
                "criteria are ids like `CC6.1`, `CC8.1`, `A1.2`; `trustcheck controls` lists them"
                    .into()
            }
        };
        problems.push(problem(
            file,
            codes::UNKNOWN_CRITERION,
            format!("unknown SOC 2 criterion `{c}`"),
            Some(help),
            annotation_span(&file.text, "soc2"),
            "not in the criteria catalogue",
        ));
    }
    ids
}

/// The `@severity`, or a problem when it is not one of the four.
fn severity_of(s: &str, file: &SourceFile, problems: &mut Vec<InFile>) -> Option<Severity> {
    match s.parse::<Severity>() {
        Ok(v) => Some(v),
        Err(_) => {
            problems.push(problem(
                file,
                codes::UNKNOWN_SEVERITY,
                format!("unknown severity `{s}`"),
                Some("severity is one of `critical`, `high`, `medium`, `low`".into()),
                annotation_span(&file.text, "severity"),
                "unknown severity",
            ));
            None
        }
    }
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

/// A problem trustcheck found in a rule file (not one Cedar reported), with its stable code.
pub(super) fn problem(
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

#[cfg(test)]
mod tests {
    use crate::rules::tests::{load, messages, GOOD};

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
    fn id_must_match_file_name() {
        let err = load(&[("p/other.cedar", GOOD)]).unwrap_err();
        assert!(messages(&err).contains("does not match its file name"));
    }
}
