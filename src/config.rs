//! `trustcheck.toml`: a repository's settings for trustcheck — folders of custom rules, rules
//! turned off, severity overrides and the default of `check --fail-on`.
//!
//! ```toml
//! policies = ["controls"]                        # custom rule folders, relative to the repository root
//! schemas = ["facts/mdm.cedarschema"]            # schema fragments of your own facts
//! exceptions = "risk/trustcheck-exceptions.toml"  # risk acceptances (default: found like this file)
//! max-exception-days = 180                       # how far ahead an acceptance may expire (365)
//! fail-on = "high"                               # default of `check --fail-on`
//! evidence = "evidence"                          # record every `check` in this ledger folder
//! disable = ["github-org-default-permission-read"]
//!
//! [severity]                                     # override a rule's @severity
//! aws-access-key-rotated-90d = "medium"
//!
//! [params]                                       # thresholds rules read (`trustcheck controls`)
//! awsCredentialUnusedDays = 90
//!
//! [collect.github]                               # options of `collect github` (and `check --collect github`)
//! org = "acme"
//! branches = ["release/*"]                       # a key is an option's long name (or alias)
//! ```
//!
//! The file is `.github/trustcheck.toml` or `trustcheck.toml`, in the current directory or the
//! nearest ancestor up to the repository root (the directory holding `.git`), or the one given
//! with `--config`. Relative folders are resolved against the directory that holds the file, or
//! for `.github/trustcheck.toml` against the repository root (the parent of `.github/`).
//! Precedence is command-line flag > environment variable > file > built-in default: a setting
//! given at a higher level replaces the lower ones, lists included.
//!
//! Parsing is strict (unknown keys are errors) and validation is a separate step, so every error
//! points at the file, line and column. This module never prints and never reads environment
//! variables: the command line passes their values in, so precedence is decided in one place.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use miette::SourceSpan;
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostics::{Diagnostics, InFile, Problem, SourceFile};
use crate::rules::RuleSet;
use crate::schema::nearest;
use crate::severity::Severity;

/// The file name looked for.
pub const FILE_NAME: &str = "trustcheck.toml";

/// The keys a configuration file may hold.
pub const KEYS: &[&str] = &[
    "policies",
    "schemas",
    "exceptions",
    "max-exception-days",
    "fail-on",
    "evidence",
    "disable",
    "severity",
    "params",
    "collect",
];

/// The file as written: parsed strictly, not yet checked against the loaded rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    policies: Vec<String>,
    #[serde(default)]
    schemas: Vec<String>,
    #[serde(default)]
    exceptions: Option<String>,
    #[serde(default)]
    max_exception_days: Option<Spanned<i64>>,
    #[serde(default)]
    fail_on: Option<Severity>,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Severity>,
    #[serde(default)]
    params: BTreeMap<Spanned<String>, Spanned<i64>>,
    #[serde(default)]
    collect: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
}

/// A rule id written in the file, with where it was written (for errors about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    /// The id.
    pub id: String,
    /// Where it is in the file.
    pub span: SourceSpan,
}

/// One option of a provider's collection set in the file (`[collect.github] org = "acme"`):
/// the command line checks it against the provider's options and gives it to the collector
/// as if it had been typed, unless the command line or the environment sets that option.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectSetting {
    /// The provider's name (`github`), where the table is named.
    pub provider: RuleRef,
    /// The option's long name or alias (`branch`, `branches`), where the key is.
    pub option: RuleRef,
    /// The value.
    pub value: CollectValue,
    /// Where the value is.
    pub value_span: SourceSpan,
}

/// The value of a [`CollectSetting`], as the command line would take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectValue {
    /// One value (`"acme"`, or a number written as its digits).
    One(String),
    /// A switch on (`true`) or left off (`false`).
    Switch(bool),
    /// Several values, as a repeatable option takes them.
    Many(Vec<String>),
}

/// The settings of one configuration file (or none: [`Config::default`]).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file, when there is one.
    pub file: Option<SourceFile>,
    /// Custom rule folders, resolved against the file's base directory.
    pub policies: Vec<PathBuf>,
    /// Schema fragments of a team's own facts, resolved against the file's base directory.
    pub schemas: Vec<PathBuf>,
    /// The exceptions file, resolved against the file's base directory.
    pub exceptions: Option<PathBuf>,
    /// How many days ahead an acceptance may expire.
    pub max_exception_days: Option<i64>,
    /// Default of `check --fail-on`.
    pub fail_on: Option<Severity>,
    /// The evidence ledger every `check` records into (like `check --evidence`): an
    /// `s3://bucket/prefix`, or a folder resolved against the file's base directory.
    pub evidence: Option<PathBuf>,
    /// Rules not to load.
    pub disable: Vec<RuleRef>,
    /// Severity overrides.
    pub severity: Vec<(RuleRef, Severity)>,
    /// Parameter values (`[params]`), each with where its name was written.
    pub params: Vec<(RuleRef, i64)>,
    /// Options of providers' collections (`[collect.NAME]`), in file order per provider.
    pub collect: Vec<CollectSetting>,
}

/// A configuration file that cannot be found, read or understood.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read configuration `{path}`: {source}")]
    #[diagnostic(
        code(config::read),
        help("`--config` (or `TRUSTCHECK_CONFIG`) names a `trustcheck.toml` file")
    )]
    Read {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Both `.github/trustcheck.toml` and `trustcheck.toml` exist.
    #[error("two configuration files: `{first}` and `{second}`")]
    #[diagnostic(
        code(config::ambiguous),
        help("keep one of them, or choose with `--config FILE`")
    )]
    Ambiguous {
        /// The first found.
        first: String,
        /// The other.
        second: String,
    },
    /// The file is not valid TOML or holds an unknown key or a bad value.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InFile>),
}

/// Finds the configuration file for a command run in `cwd`: `.github/trustcheck.toml` or
/// `trustcheck.toml` in `cwd`, else in its ancestors up to the repository root (the first that
/// holds `.git`). Outside a repository only `cwd` is searched. The path returned is relative to
/// `cwd` (`trustcheck.toml`, `../.github/trustcheck.toml`), as a user would type it.
pub fn discover(cwd: &Path) -> Result<Option<PathBuf>, ConfigError> {
    discover_named(cwd, FILE_NAME)
        .map_err(|(first, second)| ConfigError::Ambiguous { first, second })
}

/// Finds `.github/NAME` or `NAME` in `cwd`, else in its ancestors up to the repository root
/// (only `cwd` outside a repository); the path is relative to `cwd`. Two in one place are an
/// error: `(first, second)`.
pub fn discover_named(cwd: &Path, name: &str) -> Result<Option<PathBuf>, (String, String)> {
    let in_repo = cwd.ancestors().any(|d| d.join(".git").exists());
    let mut relative = PathBuf::new();
    for dir in cwd.ancestors() {
        let found: Vec<PathBuf> = [Path::new(".github").join(name), PathBuf::from(name)]
            .into_iter()
            .filter(|f| dir.join(f).is_file())
            .map(|f| relative.join(f))
            .collect();
        match found.as_slice() {
            [] => {}
            [one] => return Ok(Some(one.clone())),
            [first, second, ..] => {
                return Err((first.display().to_string(), second.display().to_string()))
            }
        }
        if !in_repo || dir.join(".git").exists() {
            break;
        }
        relative.push("..");
    }
    Ok(None)
}

impl Config {
    /// Reads and parses a configuration file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = crate::input::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(SourceFile::new(path.display().to_string(), text))
    }

    /// Parses a configuration file's text; `file.name` is its path (relative folders in it are
    /// resolved against that path's directory, or the repository root for `.github/`).
    pub fn parse(file: SourceFile) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(&file.text).map_err(|e| invalid(&file, &e))?;
        let base = base_dir(Path::new(file.name.as_ref()));
        let rule_ref = |s: &Spanned<String>| RuleRef {
            id: s.get_ref().clone(),
            span: SourceSpan::from(s.span()),
        };
        Ok(Self {
            policies: raw.policies.iter().map(|p| base.join(p)).collect(),
            schemas: raw.schemas.iter().map(|p| base.join(p)).collect(),
            exceptions: raw.exceptions.as_ref().map(|p| base.join(p)),
            max_exception_days: match &raw.max_exception_days {
                Some(days) if *days.get_ref() < 1 => {
                    return Err(ConfigError::Invalid(Box::new(InFile::new(
                        Problem {
                            message: format!(
                                "`max-exception-days` is {}, not a number of days",
                                days.get_ref()
                            ),
                            help: Some("give a positive number of days, e.g. `180`".into()),
                            span: SourceSpan::from(days.span()),
                            label: "here".into(),
                        },
                        &file,
                    ))))
                }
                Some(days) => Some(*days.get_ref()),
                None => None,
            },
            fail_on: raw.fail_on,
            evidence: raw.evidence.as_ref().map(|p| {
                if p.starts_with("s3://") {
                    PathBuf::from(p)
                } else {
                    base.join(p)
                }
            }),
            disable: raw.disable.iter().map(rule_ref).collect(),
            severity: raw
                .severity
                .iter()
                .map(|(id, sev)| (rule_ref(id), *sev))
                .collect(),
            params: raw
                .params
                .iter()
                .map(|(name, value)| (rule_ref(name), *value.get_ref()))
                .collect(),
            collect: collect_settings(&raw.collect, &file)?,
            file: Some(file),
        })
    }

    /// Whether the file turns the rule off.
    pub fn is_disabled(&self, id: &str) -> bool {
        self.disable.iter().any(|r| r.id == id)
    }

    /// The severity the file gives the rule, if it overrides it.
    pub fn severity_of(&self, id: &str) -> Option<Severity> {
        self.severity
            .iter()
            .find(|(r, _)| r.id == id)
            .map(|(_, s)| *s)
    }

    /// Where the settings come from, for messages: the file's path, or `defaults`.
    pub fn origin(&self) -> &str {
        self.file.as_ref().map_or("defaults", |f| &f.name)
    }

    /// Applies the file to loaded rules: drops disabled rules, overrides severities and sets
    /// parameters. Every rule id and parameter the file names must exist; a typo is an error
    /// (with the nearest name), never silently ignored. Returns the rules and how many were
    /// disabled.
    pub fn apply(&self, rules: &RuleSet) -> Result<(RuleSet, usize), Diagnostics> {
        let mut problems = Vec::new();
        let mut params = rules.params().clone();
        if let Some(file) = &self.file {
            for (name, value) in &self.params {
                if let Err(e) = params.set(&name.id, *value) {
                    problems.push(
                        InFile::new(
                            Problem {
                                message: format!("bad parameter `{}`", name.id),
                                help: Some(e),
                                span: name.span,
                                label: "here".into(),
                            },
                            file,
                        )
                        .with_code("config::param"),
                    );
                }
            }
            let named = self
                .disable
                .iter()
                .chain(self.severity.iter().map(|(r, _)| r));
            for r in named {
                if rules.get(&r.id).is_none() {
                    let hint = nearest(&r.id, rules.rules().iter().map(|x| x.id.as_ref()))
                        .map(|n| format!("did you mean `{n}`? "))
                        .unwrap_or_default();
                    problems.push(
                        InFile::new(
                            Problem {
                                message: format!("no rule `{}` is loaded", r.id),
                                help: Some(format!(
                                    "{hint}`trustcheck controls` lists the rule ids; custom rules are loaded from `policies`"
                                )),
                                span: r.span,
                                label: "unknown rule".into(),
                            },
                            file,
                        )
                        .with_code("config::unknown-rule"),
                    );
                }
            }
        }
        if !problems.is_empty() {
            return Err(Diagnostics {
                summary: format!(
                    "{} problem{} in `{}`",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    self.origin()
                ),
                items: problems,
            });
        }
        let mut disabled = 0;
        let adjusted = rules.adjusted(|rule| {
            if self.is_disabled(&rule.id) {
                disabled += 1;
                return None;
            }
            let mut rule = rule.clone();
            if let Some(severity) = self.severity_of(&rule.id) {
                rule.severity = severity;
            }
            Some(rule)
        });
        Ok((adjusted.with_params(params), disabled))
    }
}

/// The custom rule folders in effect: the command line's when it names any, else the
/// environment's (`TRUSTCHECK_POLICIES`, split like `PATH`), else the file's.
pub fn policy_folders(flag: &[PathBuf], env: Option<&OsStr>, config: &Config) -> Vec<PathBuf> {
    if !flag.is_empty() {
        return flag.to_vec();
    }
    if let Some(env) = env.filter(|e| !e.is_empty()) {
        return std::env::split_paths(env).collect();
    }
    config.policies.clone()
}

/// The custom schema fragments in effect: the command line's when it names any, else the file's.
pub fn schema_files(flag: &[PathBuf], config: &Config) -> Vec<PathBuf> {
    if flag.is_empty() {
        config.schemas.clone()
    } else {
        flag.to_vec()
    }
}

/// The `--fail-on` in effect: the command line's or environment's (clap has already chosen
/// between those two), else the file's, else `low`.
pub fn fail_on(flag_or_env: Option<Severity>, config: &Config) -> Severity {
    flag_or_env.or(config.fail_on).unwrap_or(Severity::Low)
}

/// The `[collect.NAME]` tables as settings; a value the command line could not take (a table,
/// a date, a list of non-strings) is an error at the value.
fn collect_settings(
    raw: &BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    file: &SourceFile,
) -> Result<Vec<CollectSetting>, ConfigError> {
    let name = |s: &Spanned<String>| RuleRef {
        id: s.get_ref().clone(),
        span: SourceSpan::from(s.span()),
    };
    let scalar = |v: &toml::Value| match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        _ => None,
    };
    let mut settings = Vec::new();
    for (provider, options) in raw {
        for (option, value) in options {
            let converted = match value.get_ref() {
                toml::Value::Boolean(b) => Some(CollectValue::Switch(*b)),
                toml::Value::Array(items) => items
                    .iter()
                    .map(scalar)
                    .collect::<Option<Vec<_>>>()
                    .map(CollectValue::Many),
                other => scalar(other).map(CollectValue::One),
            };
            let Some(value_converted) = converted else {
                return Err(ConfigError::Invalid(Box::new(
                    InFile::new(
                        Problem {
                            message: format!(
                                "`{}` in `[collect.{}]` is not a value an option takes",
                                option.get_ref(),
                                provider.get_ref()
                            ),
                            help: Some(
                                "give a string, a number, `true`/`false` for a switch, or a list of strings"
                                    .into(),
                            ),
                            span: SourceSpan::from(value.span()),
                            label: "here".into(),
                        },
                        file,
                    )
                    .with_code("config::collect"),
                )));
            };
            settings.push(CollectSetting {
                provider: name(provider),
                option: name(option),
                value: value_converted,
                value_span: SourceSpan::from(value.span()),
            });
        }
    }
    Ok(settings)
}

/// The directory relative folders are resolved against.
fn base_dir(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new(""));
    if dir.file_name() == Some(OsStr::new(".github")) {
        dir.parent().unwrap_or(Path::new("")).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// A TOML or schema error, located in the file, with a did-you-mean for a misspelt key.
fn invalid(file: &SourceFile, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().to_string();
    let unknown_key = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next());
    let help = match unknown_key {
        Some(key) => {
            let hint = nearest(key, KEYS.iter().copied())
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            format!("{hint}trustcheck.toml takes `{}`", KEYS.join("`, `"))
        }
        None => "see the README's \"Configuration\" section for the keys and their values".into(),
    };
    let span = e.span().map_or(SourceSpan::from((0, 0)), SourceSpan::from);
    ConfigError::Invalid(Box::new(
        InFile::new(
            Problem {
                message: message.lines().next().unwrap_or_default().to_string(),
                help: Some(help),
                span,
                label: if unknown_key.is_some() {
                    "unknown key".into()
                } else {
                    "here".into()
                },
            },
            file,
        )
        .with_code(if unknown_key.is_some() {
            "config::unknown-key"
        } else {
            "config::invalid"
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::render_plain;

    fn parse(name: &str, text: &str) -> Result<Config, ConfigError> {
        Config::parse(SourceFile::new(name, text))
    }

    #[test]
    fn a_full_file_parses_and_resolves_folders_against_the_repository_root() {
        let c = parse(
            ".github/trustcheck.toml",
            "policies = [\"controls\"]\nfail-on = \"high\"\ndisable = [\"a\"]\n[severity]\nb = \"low\"\n",
        )
        .unwrap();
        assert_eq!(c.policies, vec![PathBuf::from("controls")]);
        assert_eq!(c.fail_on, Some(Severity::High));
        assert!(c.is_disabled("a"));
        assert_eq!(c.severity_of("b"), Some(Severity::Low));
        let c = parse("sub/trustcheck.toml", "policies = [\"controls\"]").unwrap();
        assert_eq!(c.policies, vec![PathBuf::from("sub/controls")]);
    }

    #[test]
    fn unknown_keys_are_errors_with_the_line_and_a_suggestion() {
        let err = parse("trustcheck.toml", "policies = []\nfail_on = \"high\"\n").unwrap_err();
        let text = render_plain(&err);
        assert!(text.contains("unknown field `fail_on`"), "{text}");
        assert!(text.contains("trustcheck.toml:2:1"), "{text}");
        assert!(text.contains("did you mean `fail-on`?"), "{text}");
    }

    #[test]
    fn bad_values_are_errors_with_the_line() {
        let err = parse("trustcheck.toml", "\nfail-on = \"urgent\"\n").unwrap_err();
        let text = render_plain(&err);
        assert!(text.contains("trustcheck.toml:2:11"), "{text}");
        assert!(text.contains("urgent"), "{text}");
    }

    #[test]
    fn collect_tables_become_settings_and_odd_values_are_located_errors() {
        let c = parse(
            "trustcheck.toml",
            "[collect.github]\norg = \"acme\"\nbranches = [\"release/*\", \"main\"]\nconcurrency = 4\nx = true\n",
        )
        .unwrap();
        let values: Vec<_> = c
            .collect
            .iter()
            .map(|s| {
                (
                    s.provider.id.as_str(),
                    s.option.id.as_str(),
                    s.value.clone(),
                )
            })
            .collect();
        assert_eq!(
            values,
            [
                (
                    "github",
                    "branches",
                    CollectValue::Many(vec!["release/*".into(), "main".into()])
                ),
                ("github", "concurrency", CollectValue::One("4".into())),
                ("github", "org", CollectValue::One("acme".into())),
                ("github", "x", CollectValue::Switch(true)),
            ]
        );
        let err = parse("trustcheck.toml", "[collect.aws]\nrole-name = { a = 1 }\n").unwrap_err();
        let text = render_plain(&err);
        assert!(text.contains("trustcheck.toml:2:13"), "{text}");
        assert!(text.contains("not a value an option takes"), "{text}");
    }

    #[test]
    fn precedence_is_flag_then_environment_then_file() {
        let file = parse("trustcheck.toml", "policies = [\"f\"]\nfail-on = \"high\"").unwrap();
        let flag = [PathBuf::from("x")];
        let env = std::env::join_paths(["e1", "e2"]).unwrap();
        assert_eq!(policy_folders(&flag, Some(&env), &file), flag.to_vec());
        assert_eq!(
            policy_folders(&[], Some(&env), &file),
            vec![PathBuf::from("e1"), PathBuf::from("e2")]
        );
        assert_eq!(policy_folders(&[], None, &file), vec![PathBuf::from("f")]);
        assert_eq!(fail_on(Some(Severity::Critical), &file), Severity::Critical);
        assert_eq!(fail_on(None, &file), Severity::High);
        assert_eq!(fail_on(None, &Config::default()), Severity::Low);
    }

    #[test]
    fn discovery_prefers_the_nearest_and_rejects_two_in_one_place() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(".git")).unwrap();
        std::fs::create_dir_all(root.path().join(".github")).unwrap();
        std::fs::create_dir_all(root.path().join("a/b")).unwrap();
        assert_eq!(discover(&root.path().join("a/b")).unwrap(), None);
        std::fs::write(root.path().join(".github").join(FILE_NAME), "").unwrap();
        assert_eq!(
            discover(&root.path().join("a/b")).unwrap(),
            Some(PathBuf::from("../../.github/trustcheck.toml"))
        );
        std::fs::write(root.path().join("a").join(FILE_NAME), "").unwrap();
        assert_eq!(
            discover(&root.path().join("a/b")).unwrap(),
            Some(PathBuf::from("../trustcheck.toml"))
        );
        std::fs::write(root.path().join(FILE_NAME), "").unwrap();
        assert!(matches!(
            discover(root.path()),
            Err(ConfigError::Ambiguous { .. })
        ));
    }
}
