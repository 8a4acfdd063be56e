//! What the collector hands back: the `Github::` entity type names, and per organization the
//! entities and uncollected facts of the snapshot contract. Nothing here is a verdict.

use trustcheck_snapshot::{Entity, Source, UncollectedFact};

/// Entity type of an organization.
pub const ORG: &str = "Github::Org";
/// Entity type of an organization member.
pub const MEMBER: &str = "Github::Member";
/// Entity type of an outside collaborator.
pub const OUTSIDE_COLLABORATOR: &str = "Github::OutsideCollaborator";
/// Entity type of a repository.
pub const REPO: &str = "Github::Repo";
/// Entity type of a branch.
pub const BRANCH: &str = "Github::Branch";
/// Entity type of a merged pull request (a change).
pub const CHANGE: &str = "Github::Change";
/// Entity type of a push that bypassed a ruleset.
pub const RULE_BYPASS: &str = "Github::RuleBypass";
/// Entity type of a deployment environment.
pub const ENVIRONMENT: &str = "Github::Environment";

/// Everything collected for one organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgCollection {
    /// The organization login.
    pub org: String,
    /// Who read it (token owner's login, or the GitHub App and installation). Never a secret.
    pub identity: Option<String>,
    /// When collection of this organization started, UTC.
    pub collected_at: time::OffsetDateTime,
    /// HTTP requests made for this organization, retries included.
    pub api_calls: u64,
    /// The facts, sorted by uid.
    pub entities: Vec<Entity>,
    /// Facts that could not be read, sorted.
    pub errors: Vec<UncollectedFact>,
}

impl OrgCollection {
    /// The organization as a snapshot source (`github`, the login) and its entities.
    pub fn into_source(self) -> (Source, Vec<Entity>) {
        let source = Source {
            provider: crate::provider::PROVIDER.name.to_string(),
            scope: self.org,
            identity: self.identity,
            collected_at: trustcheck_snapshot::utc::format_utc_seconds(self.collected_at),
            api_calls: self.api_calls,
            errors: self.errors,
        };
        (source, self.entities)
    }
}
