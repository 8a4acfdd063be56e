//! Raw API data: the parts of GitHub's REST payloads the mapping reads, and the outcome of each
//! fetch. Deserialised with our own serde types because octocrab's models lack rules, rulesets,
//! the owner-only organization settings and the 2FA filters.
//!
//! Nothing here interprets the data; [`crate::mapping`] does that, purely.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The result of one fetch: the data, or why it could not be read.
pub type Fetched<T> = Result<T, ReadFailure>;

/// Why something could not be read: the request, the status and GitHub's message, and the
/// permission GitHub says the endpoint needs when it says so. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    /// Human-readable reason, e.g. ``GET /orgs/acme/members?filter=2fa_disabled: 422 Only owners can use this filter.``
    pub reason: String,
}

impl ReadFailure {
    /// A reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// `GET /orgs/{org}`; the settings are `null` or absent unless the caller is an owner.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrgPayload {
    /// Organization login.
    pub login: String,
    /// Members must have 2FA.
    #[serde(default)]
    pub two_factor_requirement_enabled: Option<bool>,
    /// Base permission: `read`, `write`, `admin`, `none`.
    #[serde(default)]
    pub default_repository_permission: Option<String>,
    /// Members can create repositories at all.
    #[serde(default)]
    pub members_can_create_repositories: Option<bool>,
    /// Members can create public repositories.
    #[serde(default)]
    pub members_can_create_public_repositories: Option<bool>,
}

/// A user in a list (`simple-user`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserPayload {
    /// Login.
    pub login: String,
}

/// The owner of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OwnerPayload {
    /// Login.
    pub login: String,
}

/// A repository (`minimal-repository` / `full-repository`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RepoPayload {
    /// Name.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// Owner.
    pub owner: OwnerPayload,
    /// Private repository.
    #[serde(default)]
    pub private: bool,
    /// `public`, `private`, `internal` (older GitHub Enterprise Server versions omit it).
    #[serde(default)]
    pub visibility: Option<String>,
    /// A fork.
    #[serde(default)]
    pub fork: bool,
    /// Archived (read-only).
    #[serde(default)]
    pub archived: bool,
    /// Disabled (read-only, e.g. after a billing or policy action).
    #[serde(default)]
    pub disabled: bool,
    /// Default branch name.
    #[serde(default)]
    pub default_branch: Option<String>,
}

/// `{ "enabled": bool }` blocks of classic protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct EnabledPayload {
    /// Whether the setting is on.
    pub enabled: bool,
}

/// A user, team or app allowed to bypass pull request requirements (classic).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AllowedActor {
    /// User login (users).
    #[serde(default)]
    pub login: Option<String>,
    /// Team or app slug.
    #[serde(default)]
    pub slug: Option<String>,
}

/// `bypass_pull_request_allowances` of classic protection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct BypassAllowances {
    /// Users.
    #[serde(default)]
    pub users: Vec<AllowedActor>,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<AllowedActor>,
    /// Apps.
    #[serde(default)]
    pub apps: Vec<AllowedActor>,
}

/// `required_pull_request_reviews` of classic protection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReviewsPayload {
    /// Approvals are dismissed on push.
    #[serde(default)]
    pub dismiss_stale_reviews: bool,
    /// A code owner must approve.
    #[serde(default)]
    pub require_code_owner_reviews: bool,
    /// Approvals required (0–6).
    #[serde(default)]
    pub required_approving_review_count: i64,
    /// Who may merge without meeting the review requirements.
    #[serde(default)]
    pub bypass_pull_request_allowances: Option<BypassAllowances>,
}

/// A required check of classic protection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckPayload {
    /// Check name.
    pub context: String,
}

/// `required_status_checks` of classic protection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusChecksPayload {
    /// Legacy list of contexts.
    #[serde(default)]
    pub contexts: Vec<String>,
    /// Checks.
    #[serde(default)]
    pub checks: Vec<CheckPayload>,
}

/// `GET /repos/{o}/{r}/branches/{b}/protection` (classic branch protection).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProtectionPayload {
    /// Absent: no status checks required.
    #[serde(default)]
    pub required_status_checks: Option<StatusChecksPayload>,
    /// Absent: pull requests not required.
    #[serde(default)]
    pub required_pull_request_reviews: Option<ReviewsPayload>,
    /// Administrators are held to the protection.
    #[serde(default)]
    pub enforce_admins: Option<EnabledPayload>,
    /// Signed commits required.
    #[serde(default)]
    pub required_signatures: Option<EnabledPayload>,
    /// Linear history required.
    #[serde(default)]
    pub required_linear_history: Option<EnabledPayload>,
    /// Force pushes allowed.
    #[serde(default)]
    pub allow_force_pushes: Option<EnabledPayload>,
    /// Deletion allowed.
    #[serde(default)]
    pub allow_deletions: Option<EnabledPayload>,
}

/// One item of `GET /repos/{o}/{r}/rules/branches/{b}`: an active rule that applies to the
/// branch, from a repository, organization or enterprise ruleset.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RulePayload {
    /// Rule type: `pull_request`, `non_fast_forward`, `deletion`, `required_status_checks`, …
    #[serde(rename = "type")]
    pub rule_type: String,
    /// Rule parameters (shape depends on the type).
    #[serde(default)]
    pub parameters: Option<Value>,
    /// `Repository`, `Organization` or `Enterprise`.
    #[serde(default)]
    pub ruleset_source_type: Option<String>,
    /// `owner/name` or the org login.
    #[serde(default)]
    pub ruleset_source: Option<String>,
    /// The ruleset the rule comes from.
    #[serde(default)]
    pub ruleset_id: Option<u64>,
}

/// A bypass actor of a ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BypassActorPayload {
    /// Team id, role id, app id (`OrganizationAdmin`: 1; may be null for some types).
    #[serde(default)]
    pub actor_id: Option<i64>,
    /// `OrganizationAdmin`, `RepositoryRole`, `Team`, `Integration`, `DeployKey`, …
    pub actor_type: String,
    /// `always`, `pull_request` or `exempt`.
    #[serde(default)]
    pub bypass_mode: Option<String>,
}

/// `GET /repos/{o}/{r}/rulesets/{id}?includes_parents=true`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RulesetPayload {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// `branch`, `tag` or `push`.
    #[serde(default)]
    pub target: Option<String>,
    /// `Repository`, `Organization`, `Enterprise`.
    #[serde(default)]
    pub source_type: Option<String>,
    /// `active`, `evaluate` or `disabled`.
    pub enforcement: String,
    /// Who can bypass; GitHub only returns it to callers with write access to the ruleset.
    #[serde(default)]
    pub bypass_actors: Option<Vec<BypassActorPayload>>,
}

/// What was fetched for one organization.
#[derive(Debug, Clone, PartialEq)]
pub struct RawOrg {
    /// Login as given.
    pub login: String,
    /// `GET /orgs/{org}`.
    pub settings: Fetched<OrgPayload>,
    /// `GET /orgs/{org}/members`.
    pub members: Fetched<Vec<UserPayload>>,
    /// `GET /orgs/{org}/members?role=admin` (owners).
    pub admins: Fetched<Vec<UserPayload>>,
    /// `GET /orgs/{org}/members?filter=2fa_disabled` (owners only).
    pub members_2fa_disabled: Fetched<Vec<UserPayload>>,
    /// `GET /orgs/{org}/members?filter=2fa_insecure` (owners only).
    pub members_2fa_insecure: Fetched<Vec<UserPayload>>,
    /// `GET /orgs/{org}/outside_collaborators`.
    pub collaborators: Fetched<Vec<UserPayload>>,
    /// `GET /orgs/{org}/outside_collaborators?filter=2fa_disabled`.
    pub collaborators_2fa_disabled: Fetched<Vec<UserPayload>>,
    /// `GET /orgs/{org}/outside_collaborators?filter=2fa_insecure`.
    pub collaborators_2fa_insecure: Fetched<Vec<UserPayload>>,
    /// Repositories read, with their default branch's protection.
    pub repos: Vec<RawRepo>,
    /// Set when the repository list could not be read to the end.
    pub repo_listing_error: Option<ReadFailure>,
    /// Repositories named with `--repo` that could not be read (`owner/name`, why).
    pub unreadable_repos: Vec<(String, ReadFailure)>,
}

/// A repository and its default branch's protection.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRepo {
    /// The repository.
    pub repo: RepoPayload,
    /// `None` when protection was not read: archived or disabled repositories (read-only), or
    /// no default branch.
    pub branch: Option<RawBranch>,
}

/// Protection data of one branch.
#[derive(Debug, Clone, PartialEq)]
pub struct RawBranch {
    /// Branch name.
    pub name: String,
    /// Classic protection: `Ok(None)` when GitHub says the branch is not protected.
    pub classic: Fetched<Option<ProtectionPayload>>,
    /// Active rules that apply to the branch.
    pub rules: Fetched<Vec<RulePayload>>,
    /// Details of every ruleset the rules come from, by id.
    pub rulesets: BTreeMap<u64, Fetched<RulesetPayload>>,
}
