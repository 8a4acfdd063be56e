//! A built-in provider, described once: its name, its entity namespace, its command-line options,
//! its collector, how its scopes own entity ids, and the skeleton `trustcheck new rule` starts
//! from. The binary's registry lists one descriptor per provider; its schema fragment
//! (`providers/NAME/*.cedarschema`) and rules (`policies/NAME/`) are found by the build.
//!
//! A provider crate exports one `static PROVIDER: Provider`. It depends on this crate only, never
//! on the engine, and collects facts, never verdicts.

use std::io::IsTerminal;

use crate::document::Snapshot;

/// A collection that could not run at all (no credentials, a bad flag): the run stops with this
/// message. A fact that could not be read is not this: it is an [`crate::UncollectedFact`] in the
/// snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CollectError {
    /// What went wrong, in Cedar's style (lowercase, user input in backticks).
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl CollectError {
    /// An error with no advice.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: None,
        }
    }

    /// The same error, with what to do about it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// How a collector may talk to the person running it: progress on stderr, never on stdout,
/// nothing with `--quiet`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ui {
    /// `--quiet`: no progress at all.
    pub quiet: bool,
}

impl Ui {
    /// Prints a progress line on stderr, unless quiet.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("trustcheck: {message}");
        }
    }

    /// Whether a progress bar may be drawn (not quiet, and stderr is a terminal).
    pub fn bar(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

/// The curated requirement `trustcheck new rule` writes for a provider's default type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaffoldExample {
    /// One sentence: what the control ensures.
    pub summary: &'static str,
    /// `@title`.
    pub title: &'static str,
    /// `@remediation`.
    pub remediation: &'static str,
    /// `@severity`.
    pub severity: &'static str,
    /// The `when` part, with the attributes (a JSON object) that make it true and false; `None`
    /// when the rule applies to every resource of the type.
    pub applies: Option<(&'static str, &'static str, &'static str)>,
    /// The attribute the requirement reads.
    pub attr: &'static str,
    /// The `unless` part.
    pub requirement: &'static str,
    /// A value of `attr` (JSON) that meets the requirement, and one that does not.
    pub good: &'static str,
    /// See `good`.
    pub bad: &'static str,
}

/// What `trustcheck new rule --provider NAME` starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaffold {
    /// The resource type a new rule judges unless told otherwise, qualified (`Aws::IamUser`).
    pub resource: &'static str,
    /// The criteria a new rule cites unless told otherwise.
    pub criteria: &'static str,
    /// The requirement for `resource`, when it has one (checked against the schema when used).
    pub example: Option<ScaffoldExample>,
}

/// How a parameter's number reaches rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A number of days, a Cedar `duration` (`45` → `duration("45d")`), compared with
    /// `context.now.durationSince(…)`.
    Days,
    /// A number of hours, a Cedar `duration` (`4` → `duration("4h")`), compared with a
    /// `duration` attribute (a session length).
    Hours,
    /// A count, a Cedar `Long`.
    Count,
}

/// A threshold an organisation sets once (`[params]` in trustcheck.toml) and rules read as
/// `context.params.NAME`, so that one rule file serves every setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The name, as rules read it and trustcheck.toml sets it (`awsCredentialUnusedDays`):
    /// prefixed with the provider's name, camelCase, unique across providers.
    pub name: &'static str,
    /// Days or a count.
    pub kind: ParamKind,
    /// The value without configuration (the current benchmark's, e.g. CIS).
    pub default: i64,
    /// One sentence: what it sets, and where the default comes from.
    pub doc: &'static str,
}

/// One built-in provider.
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    /// `aws`: the name of `collect NAME` and `check --collect NAME`, of `sources[].provider`
    /// and of the rules folder `policies/NAME/`.
    pub name: &'static str,
    /// The Cedar namespace of its entity types (`Aws`).
    pub namespace: &'static str,
    /// One line for `collect --help`.
    pub about: &'static str,
    /// What one source is, in words (`account`, `organization`).
    pub scope_noun: &'static str,
    /// Whether an entity id belongs to a scope this provider read (an ARN's account field, a
    /// repository under an org), so reports can group findings by scope.
    pub owns: fn(id: &str, scope: &str) -> bool,
    /// Defaults of `trustcheck new rule`.
    pub scaffold: Scaffold,
    /// The parameters its rules read (`context.params.NAME`); empty when none.
    pub params: &'static [Param],
    /// Adds its options to `collect NAME` and to `check` (for `--collect NAME`). Give every
    /// option a long name no other provider uses, and a help heading.
    pub options: fn(clap::Command) -> clap::Command,
    /// Collects with the options parsed from the command line: one snapshot, its sources
    /// normalised, its uncollected facts recorded.
    pub collect: fn(&clap::ArgMatches, Ui) -> Result<Snapshot, CollectError>,
}

impl Provider {
    /// Whether `type_name` (`Aws::IamUser`) is one of this provider's entity types.
    pub fn declares(&self, type_name: &str) -> bool {
        type_name
            .strip_prefix(self.namespace)
            .is_some_and(|rest| rest.starts_with("::"))
    }
}

/// The usual way ids name their scope: the id is the scope, lies under `scope/`, or carries it
/// as an ARN field (`:123456789012:`).
pub fn owns_by_prefix_or_arn(id: &str, scope: &str) -> bool {
    id == scope
        || id
            .strip_prefix(scope)
            .is_some_and(|rest| rest.starts_with('/'))
        || id.contains(&format!(":{scope}:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_owned_by_prefix_or_arn_field() {
        assert!(owns_by_prefix_or_arn("acme/api:main", "acme"));
        assert!(!owns_by_prefix_or_arn("acme-labs/api:main", "acme"));
        assert!(owns_by_prefix_or_arn(
            "arn:aws:iam::210987654321:user/a",
            "210987654321"
        ));
        assert!(owns_by_prefix_or_arn("acme", "acme"));
    }
}
