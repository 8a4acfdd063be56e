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
    /// Members can invite outside collaborators to repositories.
    #[serde(default)]
    pub members_can_invite_outside_collaborators: Option<bool>,
    /// Members with admin rights can delete or transfer repositories.
    #[serde(default)]
    pub members_can_delete_repositories: Option<bool>,
    /// Members with admin rights can change repository visibility.
    #[serde(default)]
    pub members_can_change_repo_visibility: Option<bool>,
    /// Members can fork private and internal repositories.
    #[serde(default)]
    pub members_can_fork_private_repositories: Option<bool>,
    /// Commits made in the web interface must be signed off.
    #[serde(default)]
    pub web_commit_signoff_required: Option<bool>,
    /// Secret scanning is turned on for new repositories (owners and security managers only).
    #[serde(default)]
    pub secret_scanning_enabled_for_new_repositories: Option<bool>,
    /// Secret scanning push protection is turned on for new repositories.
    #[serde(default)]
    pub secret_scanning_push_protection_enabled_for_new_repositories: Option<bool>,
    /// Dependabot security updates are turned on for new repositories.
    #[serde(default)]
    pub dependabot_security_updates_enabled_for_new_repositories: Option<bool>,
}

/// `GET /orgs/{org}/actions/permissions/workflow` and `GET /repos/{o}/{r}/actions/permissions/workflow`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkflowPermissionsPayload {
    /// `read` or `write`: what `GITHUB_TOKEN` may do by default.
    #[serde(default)]
    pub default_workflow_permissions: Option<String>,
    /// GitHub Actions can approve pull requests.
    #[serde(default)]
    pub can_approve_pull_request_reviews: Option<bool>,
}

/// `{ "status": "enabled" | "disabled" }` of `security_and_analysis`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusPayload {
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
}

/// `security_and_analysis` of a repository (`null` or absent unless the caller administers it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SecurityAndAnalysisPayload {
    /// Secret scanning.
    #[serde(default)]
    pub secret_scanning: Option<StatusPayload>,
    /// Secret scanning push protection.
    #[serde(default)]
    pub secret_scanning_push_protection: Option<StatusPayload>,
    /// Dependabot security updates.
    #[serde(default)]
    pub dependabot_security_updates: Option<StatusPayload>,
}

/// A deploy key of `GET /repos/{o}/{r}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeployKeyPayload {
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Read-only key (required by the schema).
    pub read_only: bool,
}

/// `GET /repos/{o}/{r}/codeowners/errors`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CodeownersErrorsPayload {
    /// Problems found in the CODEOWNERS file.
    pub errors: Vec<Value>,
}

/// A protection rule of an environment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvironmentRulePayload {
    /// `required_reviewers`, `wait_timer` or `branch_policy`.
    #[serde(rename = "type")]
    pub rule_type: String,
    /// Minutes to wait (`wait_timer`).
    #[serde(default)]
    pub wait_timer: Option<i64>,
    /// Reviewers (`required_reviewers`).
    #[serde(default)]
    pub reviewers: Option<Vec<Value>>,
    /// The deployer cannot approve their own deployment.
    #[serde(default)]
    pub prevent_self_review: Option<bool>,
}

/// `deployment_branch_policy` of an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct BranchPolicyPayload {
    /// Only protected branches can deploy.
    pub protected_branches: bool,
    /// Only branches matching custom patterns can deploy.
    pub custom_branch_policies: bool,
}

/// An environment of `GET /repos/{o}/{r}/environments`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvironmentPayload {
    /// Name.
    pub name: String,
    /// Protection rules (absent: none).
    #[serde(default)]
    pub protection_rules: Option<Vec<EnvironmentRulePayload>>,
    /// `null`: any branch can deploy.
    #[serde(default)]
    pub deployment_branch_policy: Option<BranchPolicyPayload>,
}

/// `GET /repos/{o}/{r}/environments`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvironmentsPayload {
    /// How many environments exist.
    #[serde(default)]
    pub total_count: Option<u64>,
    /// This page of them.
    #[serde(default)]
    pub environments: Vec<EnvironmentPayload>,
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
    /// Private repository (required in both repository schemas).
    pub private: bool,
    /// `public`, `private`, `internal` (older GitHub Enterprise Server versions omit it).
    #[serde(default)]
    pub visibility: Option<String>,
    /// A fork (required in both repository schemas).
    pub fork: bool,
    /// Archived (read-only). Optional in `minimal-repository`: absent is read as "not
    /// archived", the direction that keeps the repository judged (its protection is read and
    /// every rule applies), never the one that excuses it.
    #[serde(default)]
    pub archived: bool,
    /// Disabled (read-only, e.g. after a billing or policy action); absent as for `archived`.
    #[serde(default)]
    pub disabled: bool,
    /// Default branch name.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// Security features; GitHub returns it only to callers who administer the repository.
    #[serde(default)]
    pub security_and_analysis: Option<SecurityAndAnalysisPayload>,
}

/// `{ "url": …, "enabled": bool }` blocks whose `enabled` GitHub's schema requires
/// (`enforce_admins`, `required_signatures`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct EnabledPayload {
    /// Whether the setting is on.
    pub enabled: bool,
}

/// `{ "enabled": bool }` blocks whose `enabled` GitHub's schema leaves optional
/// (`required_linear_history`, `allow_force_pushes`, `allow_deletions`,
/// `required_conversation_resolution`, `lock_branch`): absent `enabled` is unknown, unless the
/// schema documents a default (`lock_branch`: false), which the mapping applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct OptionalEnabledPayload {
    /// Whether the setting is on; `None` when not returned.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A user, team or app allowed to bypass pull request requirements or dismiss reviews (classic).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AllowedActor {
    /// User login (users).
    #[serde(default)]
    pub login: Option<String>,
    /// Team or app slug.
    #[serde(default)]
    pub slug: Option<String>,
}

/// `bypass_pull_request_allowances` / `dismissal_restrictions` of classic protection. Every list
/// is optional in GitHub's schema (absent: not known, never "nobody"), and `apps` items are
/// `nullable-integration` (an app GitHub no longer shows is still an entry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ActorLists {
    /// Users.
    #[serde(default)]
    pub users: Option<Vec<AllowedActor>>,
    /// Teams.
    #[serde(default)]
    pub teams: Option<Vec<AllowedActor>>,
    /// Apps; an item may be `null`.
    #[serde(default)]
    pub apps: Option<Vec<Option<AllowedActor>>>,
}

/// `required_pull_request_reviews` of classic protection (`protected-branch-pull-request-review`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReviewsPayload {
    /// Approvals are dismissed on push (required by the schema; absent is unknown).
    #[serde(default)]
    pub dismiss_stale_reviews: Option<bool>,
    /// A code owner must approve (required by the schema; absent is unknown).
    #[serde(default)]
    pub require_code_owner_reviews: Option<bool>,
    /// Approvals required (0–6); optional in the schema with no documented default, so absent
    /// is unknown.
    #[serde(default)]
    pub required_approving_review_count: Option<i64>,
    /// The last push must be approved by someone other than its pusher; the schema documents
    /// `default: false`, which the mapping applies when absent.
    #[serde(default)]
    pub require_last_push_approval: Option<bool>,
    /// Who may dismiss reviews; absent when anyone with write access may.
    #[serde(default)]
    pub dismissal_restrictions: Option<ActorLists>,
    /// Who may merge without meeting the review requirements; absent when nobody may.
    #[serde(default)]
    pub bypass_pull_request_allowances: Option<ActorLists>,
}

/// A required check of classic protection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckPayload {
    /// Check name.
    pub context: String,
}

/// `required_status_checks` of classic protection (`protected-branch-required-status-check`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusChecksPayload {
    /// Legacy list of contexts (required by the schema; absent is unknown).
    #[serde(default)]
    pub contexts: Option<Vec<String>>,
    /// Checks (required by the schema; absent is unknown).
    #[serde(default)]
    pub checks: Option<Vec<CheckPayload>>,
    /// The branch must be up to date with the base before merging (optional; absent is unknown).
    #[serde(default)]
    pub strict: Option<bool>,
    /// `off`, `non_admins` or `everyone` (optional; absent falls back to `enforce_admins`).
    #[serde(default)]
    pub enforcement_level: Option<String>,
}

/// `GET /repos/{o}/{r}/branches/{b}/protection` (classic branch protection, `branch-protection`).
/// Every block is optional in GitHub's schema; what an absent block means is decided per fact in
/// [`crate::protection`].
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
    /// Signed commits required. GitHub's own example omits it: then
    /// `GET …/protection/required_signatures` is read instead (see [`crate::fetch`]).
    #[serde(default)]
    pub required_signatures: Option<EnabledPayload>,
    /// Linear history required.
    #[serde(default)]
    pub required_linear_history: Option<OptionalEnabledPayload>,
    /// Force pushes allowed.
    #[serde(default)]
    pub allow_force_pushes: Option<OptionalEnabledPayload>,
    /// Deletion allowed.
    #[serde(default)]
    pub allow_deletions: Option<OptionalEnabledPayload>,
    /// Conversations must be resolved before merging.
    #[serde(default)]
    pub required_conversation_resolution: Option<OptionalEnabledPayload>,
    /// The branch is read-only.
    #[serde(default)]
    pub lock_branch: Option<OptionalEnabledPayload>,
    /// Who can push (`branch-restriction-policy`); absent or `null` when anyone with write
    /// access can. Only its presence is read.
    #[serde(default)]
    pub restrictions: Option<Value>,
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
    /// Whether the caller can bypass it: `always`, `pull_requests_only`, `never` or `exempt`;
    /// shown to any caller even when `bypass_actors` is hidden.
    #[serde(default)]
    pub current_user_can_bypass: Option<String>,
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
    /// `GET /orgs/{org}/actions/permissions/workflow`.
    pub actions: Fetched<WorkflowPermissionsPayload>,
    /// GraphQL `organization { viewerCanAdminister samlIdentityProvider { ssoUrl } }` (the
    /// `data`): whether a SAML identity provider is configured.
    pub saml: Fetched<Value>,
    /// Merged pull requests in the evidence window (GraphQL nodes), when collected.
    pub changes: Option<Fetched<Vec<Value>>>,
    /// Branch globs whose merged pull requests count as changes besides default branches.
    pub change_branches: Vec<String>,
    /// The end of the evidence window (the collection's time), when changes were collected:
    /// how far back the rule suites read cover is measured from it.
    pub changes_until: Option<time::OffsetDateTime>,
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
    /// Repository settings; `None` for archived or disabled repositories (not read).
    pub settings: Option<RawRepoSettings>,
    /// Branches other than the default matching a `--branch` pattern, with their protection
    /// (`Err`: the branch list could not be read).
    pub other_branches: Fetched<Vec<RawBranch>>,
}

/// A rule suite of `GET /repos/{o}/{r}/rulesets/rule-suites` (`rule-suites` items).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RuleSuitePayload {
    /// Id.
    pub id: u64,
    /// Who pushed.
    #[serde(default)]
    pub actor_name: Option<String>,
    /// The ref pushed to.
    #[serde(rename = "ref", default)]
    pub ref_name: Option<String>,
    /// When (ISO 8601).
    #[serde(default)]
    pub pushed_at: Option<String>,
    /// `pass`, `fail` or `bypass`.
    #[serde(default)]
    pub result: Option<String>,
    /// The commit after the push.
    #[serde(default)]
    pub after_sha: Option<String>,
}

/// A branch of `GET /repos/{o}/{r}/branches` (`short-branch`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BranchPayload {
    /// Branch name.
    pub name: String,
}

/// Per-repository settings beyond branch protection.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRepoSettings {
    /// `GET /repos/{o}/{r}/actions/permissions/workflow`.
    pub actions: Fetched<WorkflowPermissionsPayload>,
    /// `GET /repos/{o}/{r}/codeowners/errors`.
    pub codeowners: Fetched<CodeownersErrorsPayload>,
    /// `GET /repos/{o}/{r}/keys`.
    pub deploy_keys: Fetched<Vec<DeployKeyPayload>>,
    /// `GET /repos/{o}/{r}/environments`.
    pub environments: Fetched<EnvironmentsPayload>,
    /// Rule suites that bypassed a ruleset in the evidence window, when operating evidence is
    /// collected (`--changes-since`).
    /// The period asked for (`day`, `week`, `month`) and the suites.
    pub bypasses: Option<(&'static str, Fetched<Vec<RuleSuitePayload>>)>,
}

/// Protection data of one branch.
#[derive(Debug, Clone, PartialEq)]
pub struct RawBranch {
    /// Branch name.
    pub name: String,
    /// Classic protection: `Ok(None)` when GitHub says the branch is not protected.
    pub classic: Fetched<Option<ProtectionPayload>>,
    /// Why `required_signatures`, absent from the classic protection, could not be read from
    /// `GET …/protection/required_signatures` either.
    pub signatures_error: Option<ReadFailure>,
    /// Why `strict`/`checks` of `required_status_checks`, absent from the classic protection,
    /// could not be read from `GET …/protection/required_status_checks` either.
    pub status_checks_error: Option<ReadFailure>,
    /// Active rules that apply to the branch.
    pub rules: Fetched<Vec<RulePayload>>,
    /// Details of every ruleset the rules come from, by id.
    pub rulesets: BTreeMap<u64, Fetched<RulesetPayload>>,
}
