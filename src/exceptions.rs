//! Risk acceptances ("exceptions" to an auditor): failures an organisation has decided to live
//! with for a while, each with a reason, an owner, an approver and an expiry, declared in a
//! reviewed file (`trustcheck-exceptions.toml`).
//!
//! ```toml
//! [[accept]]
//! rule = "aws-iam-user-console-mfa"                    # a rule id, or a glob: "github-branch-*"
//! resource = 'Aws::IamUser::"arn:aws:iam::210987654321:user/break-glass"'   # `*` globs the id
//! reason = "Break-glass user: its hardware key is in the safe"
//! owner = "security@northwind.example"
//! approved_by = "cto@northwind.example"
//! expires = 2027-03-31                                 # the last day it applies (UTC)
//! ticket = "https://tracker.northwind.example/SEC-12"  # optional
//! ```
//!
//! A `fail` finding that an acceptance covers becomes `accepted` (and no longer fails the run);
//! an expired acceptance does not apply (the finding stays `fail` and says so). An `error` is
//! never accepted: unknown is not a risk anyone could have weighed. Time is the snapshot's, never
//! the wall clock: the same snapshot, rules and file give the same findings on any day.
//!
//! Parsing is strict and every problem is located (file, line, column); the file is checked
//! against the loaded rules before anything is judged. This module never prints.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::SourceSpan;
use serde::Deserialize;
use time::{Date, Month, OffsetDateTime};
use toml::Spanned;

use crate::diagnostics::{Diagnostics, InFile, Problem, SourceFile};
use crate::findings::{Acceptance, Finding, Status, Uid};
use crate::rules::RuleSet;
use crate::suggest::nearest;

/// The file name looked for.
pub const FILE_NAME: &str = "trustcheck-exceptions.toml";

/// How far ahead an expiry may be unless `max-exception-days` says otherwise.
pub const DEFAULT_MAX_DAYS: i64 = 365;

/// An acceptance expiring within this many days is called out in reports.
pub const EXPIRING_SOON_DAYS: i64 = 30;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    accept: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    rule: Option<Spanned<String>>,
    resource: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    owner: Option<Spanned<String>>,
    approved_by: Option<Spanned<String>>,
    expires: Option<Spanned<toml::Value>>,
    ticket: Option<Spanned<String>>,
}

/// One acceptance, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The rule id or glob of ids.
    pub rule: String,
    /// The resource's type.
    pub resource_type: String,
    /// The resource's id, or a glob of ids (`*` any run of characters, `?` one).
    pub resource_id: String,
    /// Why.
    pub reason: String,
    /// Who owns the risk.
    pub owner: String,
    /// Who approved it.
    pub approved_by: String,
    /// The last day it applies (UTC).
    pub expires: Date,
    /// A ticket or decision record.
    pub ticket: Option<String>,
    /// 1-based line of its `[[accept]]` table.
    pub line: usize,
    /// Where its table is in the file.
    pub span: SourceSpan,
}

impl Entry {
    /// `Type::"id"` as findings show it.
    pub fn resource(&self) -> String {
        Uid::new(self.resource_type.clone(), self.resource_id.clone()).to_string()
    }

    /// Whether it covers this finding's rule and resource (whatever the finding's status).
    pub fn covers(&self, f: &Finding) -> bool {
        glob(&self.rule, &f.rule)
            && glob(&self.resource_type, &f.resource.type_name)
            && glob(&self.resource_id, &f.resource.id)
    }

    /// Whether it has expired on `today` (it applies through its `expires` day).
    pub fn expired_on(&self, today: Date) -> bool {
        today > self.expires
    }
}

/// The acceptances of one file, checked against the loaded rules.
#[derive(Debug, Clone)]
pub struct Exceptions {
    /// The file.
    pub file: SourceFile,
    /// Its entries, in file order.
    pub entries: Vec<Entry>,
}

/// An exceptions file that cannot be found, read or trusted.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ExceptionsError {
    /// The file cannot be read.
    #[error("cannot read exceptions file `{path}`: {source}")]
    #[diagnostic(
        code(exceptions::read),
        help("`--exceptions FILE` (or `exceptions` in trustcheck.toml) names a `trustcheck-exceptions.toml` file")
    )]
    Read {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Both `.github/trustcheck-exceptions.toml` and `trustcheck-exceptions.toml` exist.
    #[error("two exceptions files: `{first}` and `{second}`")]
    #[diagnostic(
        code(exceptions::ambiguous),
        help("keep one of them, or choose with `--exceptions FILE`")
    )]
    Ambiguous {
        /// The first found.
        first: String,
        /// The other.
        second: String,
    },
    /// The file is not valid TOML, or one or more entries are not acceptable.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<Diagnostics>),
}

/// What applying the acceptances did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Failures now `accepted`.
    pub accepted: usize,
    /// Failures whose acceptance had expired (still `fail`).
    pub expired: usize,
    /// Acceptances that cover no failing finding (line, `rule` and `resource` as written).
    pub stale: Vec<(usize, String, String)>,
}

/// Finds the exceptions file for a command run in `cwd`, as `trustcheck.toml` is found:
/// `.github/trustcheck-exceptions.toml` or `trustcheck-exceptions.toml` in `cwd`, else in its
/// ancestors up to the repository root. The path is relative to `cwd`.
pub fn discover(cwd: &Path) -> Result<Option<PathBuf>, ExceptionsError> {
    crate::config::discover_named(cwd, FILE_NAME)
        .map_err(|(first, second)| ExceptionsError::Ambiguous { first, second })
}

/// Where `trustcheck accept` writes when no file exists: the repository root (the nearest
/// ancestor holding `.git`), or `cwd` outside a repository.
pub fn default_path(cwd: &Path) -> PathBuf {
    cwd.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(cwd)
        .join(FILE_NAME)
}

impl Exceptions {
    /// Reads and checks a file. `today` is the date expiries are measured from (the latest
    /// snapshot's, or for `accept` the day it is run); `max_days` how far ahead they may be.
    pub fn read(
        path: &Path,
        rules: &RuleSet,
        today: Date,
        max_days: i64,
    ) -> Result<Self, ExceptionsError> {
        let text = crate::input::read_to_string(path).map_err(|source| ExceptionsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(
            SourceFile::new(path.display().to_string(), text).with_language("toml"),
            rules,
            today,
            max_days,
        )
    }

    /// Parses and checks a file's text: every problem of every entry is reported at once.
    pub fn parse(
        file: SourceFile,
        rules: &RuleSet,
        today: Date,
        max_days: i64,
    ) -> Result<Self, ExceptionsError> {
        let raw: RawFile = toml::from_str(&file.text).map_err(|e| {
            let span = e.span().map_or(SourceSpan::from((0, 0)), SourceSpan::from);
            invalid(
                &file,
                vec![problem(
                    span,
                    e.message().trim(),
                    "each acceptance is an `[[accept]]` table with rule, resource, reason, owner, approved_by, expires and optionally ticket",
                )],
            )
        })?;
        let mut problems = Vec::new();
        let mut entries = Vec::new();
        for table in &raw.accept {
            let span = SourceSpan::from(table.span());
            match check_entry(table.get_ref(), span, rules, today, max_days) {
                Ok(mut entry) => {
                    entry.line = file.line_col(span.offset()).0;
                    entries.push(entry);
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        if problems.is_empty() {
            Ok(Self { file, entries })
        } else {
            Err(invalid(&file, problems))
        }
    }

    /// Applies the acceptances to the findings, as of `today`: a `fail` finding covered by an
    /// acceptance in force becomes `accepted`; one covered only by expired acceptances stays
    /// `fail` and says when its acceptance expired. The first covering entry in file order wins.
    pub fn apply(&self, findings: &mut [Finding], today: Date) -> Applied {
        let mut applied = Applied::default();
        let mut used = vec![false; self.entries.len()];
        for f in findings.iter_mut().filter(|f| f.status == Status::Fail) {
            let mut expired = None;
            let mut in_force = None;
            for (e, used) in self.entries.iter().zip(used.iter_mut()) {
                if !e.covers(f) {
                    continue;
                }
                *used = true;
                if e.expired_on(today) {
                    expired = expired.or(Some(e));
                } else {
                    in_force = in_force.or(Some(e));
                }
            }
            if let Some(e) = in_force {
                f.status = Status::Accepted;
                f.acceptance = Some(self.echo(e, today));
                applied.accepted += 1;
            } else if let Some(e) = expired {
                f.message = format!(
                    "{}; its acceptance expired on {} ({}:{})",
                    f.message, e.expires, self.file.name, e.line
                );
                f.acceptance = Some(self.echo(e, today));
                applied.expired += 1;
            }
        }
        applied.stale = self
            .entries
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(e, _)| (e.line, e.rule.clone(), e.resource()))
            .collect();
        applied
    }

    fn echo(&self, e: &Entry, today: Date) -> Arc<Acceptance> {
        Arc::new(Acceptance {
            reason: e.reason.clone(),
            owner: e.owner.clone(),
            approved_by: e.approved_by.clone(),
            expires: e.expires.to_string(),
            ticket: e.ticket.clone(),
            expired: e.expired_on(today),
            days_left: (e.expires - today).whole_days(),
            declared_at: format!("{}:{}", self.file.name, e.line),
        })
    }

    /// The stale acceptances as located warnings-turned-errors, for `--strict-exceptions`.
    pub fn stale_error(&self, stale: &[(usize, String, String)]) -> Option<ExceptionsError> {
        let problems: Vec<Problem> = self
            .entries
            .iter()
            .filter(|e| stale.iter().any(|(line, _, _)| *line == e.line))
            .map(|e| {
                problem(
                    e.span,
                    &format!(
                        "acceptance of `{}` on `{}` covers no failing finding",
                        e.rule,
                        e.resource()
                    ),
                    "remove it (the failure was fixed, or the resource is gone), or correct its rule or resource",
                )
            })
            .collect();
        (!problems.is_empty()).then(|| invalid(&self.file, problems))
    }
}

/// The UTC date of a snapshot time (`2026-11-22T03:00:00Z`).
pub fn date_of(utc: &str) -> Option<Date> {
    trustcheck_snapshot::utc::parse_utc(utc).map(OffsetDateTime::date)
}

fn check_entry(
    raw: &RawEntry,
    table: SourceSpan,
    rules: &RuleSet,
    today: Date,
    max_days: i64,
) -> Result<Entry, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut text = |field: &Option<Spanned<String>>, name: &str, what: &str| -> String {
        match field {
            Some(v) if !v.get_ref().trim().is_empty() => v.get_ref().trim().to_string(),
            Some(v) => {
                problems.push(problem(
                    SourceSpan::from(v.span()),
                    &format!("`{name}` is empty"),
                    what,
                ));
                String::new()
            }
            None => {
                problems.push(problem(table, &format!("acceptance has no `{name}`"), what));
                String::new()
            }
        }
    };
    let rule = text(
        &raw.rule,
        "rule",
        "name the rule id (or a glob of ids, `github-branch-*`) as findings show it",
    );
    let resource = text(
        &raw.resource,
        "resource",
        "name the resource as findings show it: `Github::Org::\"acme\"`; `*` in the id globs",
    );
    let reason = text(
        &raw.reason,
        "reason",
        "say why the risk is accepted: an auditor reads it",
    );
    let owner = text(&raw.owner, "owner", "name who owns the risk");
    let approved_by = text(
        &raw.approved_by,
        "approved_by",
        "name who approved accepting it",
    );
    let ticket = raw.ticket.as_ref().map(|t| t.get_ref().trim().to_string());

    if let (Some(at), false) = (&raw.rule, rule.is_empty()) {
        if !rules.rules().iter().any(|r| glob(&rule, &r.id)) {
            let hint = nearest(&rule, rules.rules().iter().map(|r| r.id.as_ref()))
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            problems.push(problem(
                SourceSpan::from(at.span()),
                &format!("no loaded rule is `{rule}`"),
                &format!("{hint}`trustcheck controls` lists the rule ids"),
            ));
        }
    }
    let (resource_type, resource_id) = match parse_resource(&resource) {
        Some(parts) => parts,
        None => {
            if let (Some(at), false) = (&raw.resource, resource.is_empty()) {
                problems.push(problem(
                    SourceSpan::from(at.span()),
                    &format!("`{resource}` is not a resource as findings show it"),
                    "write `Type::\"id\"`, e.g. `Github::Branch::\"acme/marketing-*:main\"` (TOML: put it in single quotes)",
                ));
            }
            (String::new(), String::new())
        }
    };
    let expires = match &raw.expires {
        None => {
            problems.push(problem(
                table,
                "acceptance has no `expires`",
                "every acceptance ends: add `expires = YYYY-MM-DD`, the last day it applies",
            ));
            None
        }
        Some(v) => match expiry(v.get_ref()) {
            None => {
                problems.push(problem(
                    SourceSpan::from(v.span()),
                    "`expires` is not a date",
                    "write the last day it applies as `expires = 2027-03-31`",
                ));
                None
            }
            Some(date) if (date - today).whole_days() > max_days => {
                problems.push(problem(
                    SourceSpan::from(v.span()),
                    &format!(
                        "`expires` {date} is {} days after {today}, more than the {max_days} allowed",
                        (date - today).whole_days()
                    ),
                    "accept risks for a bounded time and review them; `max-exception-days` in trustcheck.toml sets the limit",
                ));
                None
            }
            Some(date) => Some(date),
        },
    };
    match expires {
        Some(expires) if problems.is_empty() => Ok(Entry {
            rule,
            resource_type,
            resource_id,
            reason,
            owner,
            approved_by,
            expires,
            ticket: ticket.filter(|t| !t.is_empty()),
            line: 0,
            span: table,
        }),
        _ => Err(problems),
    }
}

/// `expires` as a TOML date (`2027-03-31`) or a string of one.
fn expiry(v: &toml::Value) -> Option<Date> {
    match v {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
            let date = d.date?;
            Date::from_calendar_date(
                i32::from(date.year),
                Month::try_from(date.month).ok()?,
                date.day,
            )
            .ok()
        }
        toml::Value::String(s) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(s.trim(), &format).ok()
        }
        _ => None,
    }
}

/// `Type::"id"` (Cedar's display of a uid, as findings show it) into its type and id.
pub fn parse_resource(text: &str) -> Option<(String, String)> {
    let (type_name, quoted) = text.trim().split_once("::\"")?;
    let id = quoted.strip_suffix('"')?;
    if type_name.is_empty() || type_name.contains('"') {
        return None;
    }
    // The id is shown with Rust/Cedar string escapes; undo the two that ids use.
    let id = id.replace("\\\"", "\"").replace("\\\\", "\\");
    Some((type_name.to_string(), id))
}

/// Whether `text` matches `pattern`, where `*` is any run of characters (`/` and `:` included)
/// and `?` one character. Hand-written rather than a glob crate's: those treat `/` as a path
/// separator, and ids are not paths.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic backtracking over the last `*`: linear in practice, no recursion.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.iter().skip(pi).all(|c| *c == '*')
}

fn problem(span: SourceSpan, message: &str, help: &str) -> Problem {
    Problem {
        message: message.to_string(),
        help: Some(help.to_string()),
        span,
        label: "here".into(),
    }
}

fn invalid(file: &SourceFile, problems: Vec<Problem>) -> ExceptionsError {
    let count = problems.len();
    ExceptionsError::Invalid(Box::new(Diagnostics {
        summary: format!(
            "{count} problem{} in exceptions file `{}`",
            if count == 1 { "" } else { "s" },
            file.name
        ),
        items: problems
            .into_iter()
            .map(|p| InFile::new(p, file).with_code("exceptions::invalid"))
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::findings::fingerprint;
    use crate::rules::{builtin_sources, RuleSet};
    use crate::schema::SchemaSet;
    use crate::severity::Severity;

    fn rules() -> RuleSet {
        RuleSet::load(builtin_sources(), &SchemaSet::builtin().unwrap()).unwrap()
    }

    fn finding(rule: &str, t: &str, id: &str, status: Status) -> Finding {
        let resource = Uid::new(t, id);
        Finding {
            rule: rule.into(),
            title: "t".into(),
            soc2: vec!["CC6.1".to_string()].into(),
            severity: Severity::High,
            fingerprint: fingerprint(rule, &resource),
            acceptance: None,
            resource: resource.into(),
            status,
            message: "mfaActive = false".into(),
            remediation: "r".into(),
        }
    }

    const ONE: &str = r#"
[[accept]]
rule = "aws-iam-user-console-mfa"
resource = 'Aws::IamUser::"arn:aws:iam::1:user/break-*"'
reason = "break-glass"
owner = "sec"
approved_by = "cto"
expires = 2027-03-31
"#;

    fn parse(text: &str, today: Date) -> Result<Exceptions, ExceptionsError> {
        Exceptions::parse(
            SourceFile::new("x.toml", text),
            &rules(),
            today,
            DEFAULT_MAX_DAYS,
        )
    }

    #[test]
    fn globs_match_ids_with_slashes_and_colons() {
        assert!(glob("github-branch-*", "github-branch-protected"));
        assert!(glob("acme/marketing-*:main", "acme/marketing-site:main"));
        assert!(!glob("acme/marketing-*:main", "acme/marketing-site:dev"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
        assert!(glob("*", "") && glob("**x", "yx") && !glob("", "x"));
    }

    #[test]
    fn resources_parse_as_findings_show_them() {
        assert_eq!(
            parse_resource(r#"Github::Org::"acme""#),
            Some(("Github::Org".into(), "acme".into()))
        );
        assert_eq!(
            parse_resource(r#"Github::Repo::"a/\"q\"""#),
            Some(("Github::Repo".into(), "a/\"q\"".into()))
        );
        assert_eq!(parse_resource("acme"), None);
    }

    #[test]
    fn the_expiry_day_is_the_last_day_it_applies() {
        let x = parse(ONE, date!(2026 - 11 - 22)).unwrap();
        let mut on_the_day = vec![finding(
            "aws-iam-user-console-mfa",
            "Aws::IamUser",
            "arn:aws:iam::1:user/break-glass",
            Status::Fail,
        )];
        let mut day_after = on_the_day.clone();
        let applied = x.apply(&mut on_the_day, date!(2027 - 03 - 31));
        assert_eq!((applied.accepted, applied.expired), (1, 0));
        assert_eq!(on_the_day[0].status, Status::Accepted);
        let a = on_the_day[0].acceptance.as_ref().unwrap();
        assert_eq!((a.days_left, a.expired), (0, false));
        assert_eq!(a.declared_at, "x.toml:2");

        let applied = x.apply(&mut day_after, date!(2027 - 04 - 01));
        assert_eq!((applied.accepted, applied.expired), (0, 1));
        assert_eq!(day_after[0].status, Status::Fail);
        assert!(
            day_after[0]
                .message
                .ends_with("its acceptance expired on 2027-03-31 (x.toml:2)"),
            "{}",
            day_after[0].message
        );
        assert!(day_after[0].acceptance.as_ref().unwrap().expired);
    }

    #[test]
    fn errors_are_never_accepted_and_unused_entries_are_stale() {
        let x = parse(ONE, date!(2026 - 11 - 22)).unwrap();
        let mut findings = vec![finding(
            "aws-iam-user-console-mfa",
            "Aws::IamUser",
            "arn:aws:iam::1:user/break-glass",
            Status::Error,
        )];
        let applied = x.apply(&mut findings, date!(2026 - 11 - 22));
        assert_eq!(findings[0].status, Status::Error);
        assert_eq!(applied.stale.len(), 1);
        assert!(x.stale_error(&applied.stale).is_some());
    }

    #[test]
    fn snapshot_dates_are_utc_whatever_the_clock() {
        assert_eq!(date_of("2027-03-31T23:59:59Z"), Some(date!(2027 - 03 - 31)));
        assert_eq!(date_of("2027-03-31T23:59:59+02:00"), None);
    }

    #[test]
    fn every_bad_entry_is_located() {
        let bad = r#"
[[accept]]
rule = "aws-iam-user-console-mfaa"
resource = "acme"
reason = " "
owner = "sec"
approved_by = "cto"
expires = "31/03/2027"

[[accept]]
rule = "aws-root-mfa"
resource = 'Aws::Account::"*"'
reason = "r"
owner = ""
approved_by = "cto"
expires = 2030-01-01
"#;
        let Err(ExceptionsError::Invalid(d)) = parse(bad, date!(2026 - 11 - 22)) else {
            panic!("invalid")
        };
        let shown = crate::diagnostics::render_plain(d.as_ref());
        for want in [
            "did you mean `aws-iam-user-console-mfa`?",
            "`acme` is not a resource",
            "`reason` is empty",
            "`expires` is not a date",
            "`owner` is empty",
            "more than the 365 allowed",
            "x.toml:3:",
        ] {
            assert!(shown.contains(want), "{want} in {shown}");
        }
        assert!(matches!(
            parse("[[accept]]\nrule = 1\n", date!(2026 - 11 - 22)),
            Err(ExceptionsError::Invalid(_))
        ));
        assert!(matches!(
            parse(
                "[[accept]]\nrule = \"aws-root-mfa\"\nwho = 1\n",
                date!(2026 - 11 - 22)
            ),
            Err(ExceptionsError::Invalid(_))
        ));
    }
}
