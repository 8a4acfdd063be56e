//! The pure mapping from raw API data ([`RawOrg`]) to entities and collection errors.
//!
//! Every attribute that could not be read is left absent and gets a [`UncollectedFact`] saying why,
//! so that rules reading it report `error`, never pass and never fail. No verdicts here.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use trustcheck_snapshot::{Entity, Uid, UncollectedFact};

use crate::entity::{
    BRANCH, CHANGE, ENVIRONMENT, MEMBER, ORG, OUTSIDE_COLLABORATOR, REPO, RULE_BYPASS,
};
use crate::protection::{self, Fact, Protection};
use crate::raw::{
    EnvironmentPayload, Fetched, RawOrg, RawRepo, RawRepoSettings, RuleSuitePayload, UserPayload,
    WorkflowPermissionsPayload,
};

/// Entities and collection errors of one organization, sorted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapped {
    /// Entities, sorted by uid.
    pub entities: Vec<Entity>,
    /// Facts that could not be read, sorted.
    pub errors: Vec<UncollectedFact>,
}

impl Mapped {
    pub(crate) fn error(&mut self, entity: Uid, fact: &str, reason: &str) {
        self.errors.push(UncollectedFact {
            entity,
            fact: fact.to_string(),
            reason: reason.to_string(),
        });
    }
}

/// Glob patterns (`*` matches anything, case-insensitive) naming production environments when
/// none are configured.
pub const DEFAULT_PRODUCTION_ENVIRONMENTS: [&str; 3] = ["prod*", "production*", "live*"];

/// Maps everything fetched for one organization, with the default production patterns.
pub fn map_org(raw: &RawOrg) -> Mapped {
    let defaults: Vec<String> = DEFAULT_PRODUCTION_ENVIRONMENTS
        .iter()
        .map(|p| p.to_string())
        .collect();
    map_org_with(raw, &defaults)
}

/// Maps everything fetched for one organization; environments whose name matches one of
/// `production` (globs) are marked production.
pub fn map_org_with(raw: &RawOrg, production: &[String]) -> Mapped {
    let mut out = Mapped::default();
    let org_ref = Uid::new(ORG, &raw.login);
    map_settings(raw, &org_ref, &mut out);
    map_people(
        &mut out,
        &org_ref,
        MEMBER,
        &raw.members,
        Some(&raw.admins),
        &raw.members_2fa_disabled,
        &raw.members_2fa_insecure,
    );
    map_people(
        &mut out,
        &org_ref,
        OUTSIDE_COLLABORATOR,
        &raw.collaborators,
        None,
        &raw.collaborators_2fa_disabled,
        &raw.collaborators_2fa_insecure,
    );
    for repo in &raw.repos {
        map_repo(repo, &org_ref, production, &mut out);
    }
    match &raw.changes {
        Some(Ok(nodes)) => crate::changes::map_changes(raw, nodes, &mut out),
        // The population is incomplete: no change may look approved.
        Some(Err(u)) => out.error(Uid::new(CHANGE, format!("{}/*", raw.login)), "*", &u.reason),
        None => {}
    }
    if let Some(u) = &raw.repo_listing_error {
        // The list is incomplete: repositories we never saw must not look compliant.
        let all = format!("{}/*", raw.login);
        out.error(Uid::new(REPO, &all), "*", &u.reason);
        out.error(Uid::new(BRANCH, &all), "*", &u.reason);
    }
    for (full_name, u) in &raw.unreadable_repos {
        out.error(Uid::new(REPO, full_name), "*", &u.reason);
        out.error(Uid::new(BRANCH, format!("{full_name}:*")), "*", &u.reason);
    }
    out.entities.sort_by(|a, b| a.uid.cmp(&b.uid));
    out.errors.sort();
    out.errors.dedup();
    out
}

fn map_settings(raw: &RawOrg, org_ref: &Uid, out: &mut Mapped) {
    let mut attrs = Map::new();
    attrs.insert("login".into(), Value::from(raw.login.clone()));
    match &raw.settings {
        Ok(s) => {
            let owner_only = |field: &str| {
                format!(
                    "GET /orgs/{}: `{field}` not returned (GitHub shows it only to organization owners, or to tokens with organization Administration read)",
                    raw.login
                )
            };
            let mut put = |name: &str, field: &str, value: Option<Value>| match value {
                Some(v) => {
                    attrs.insert(name.into(), v);
                }
                None => out.error(org_ref.clone(), name, &owner_only(field)),
            };
            put(
                "twoFactorRequirementEnabled",
                "two_factor_requirement_enabled",
                s.two_factor_requirement_enabled.map(Value::from),
            );
            put(
                "defaultRepositoryPermission",
                "default_repository_permission",
                s.default_repository_permission.clone().map(Value::from),
            );
            put(
                "membersCanCreateRepositories",
                "members_can_create_repositories",
                s.members_can_create_repositories.map(Value::from),
            );
            put(
                "membersCanCreatePublicRepositories",
                "members_can_create_public_repositories",
                s.members_can_create_public_repositories.map(Value::from),
            );
            for (name, field, value) in [
                (
                    "membersCanInviteOutsideCollaborators",
                    "members_can_invite_outside_collaborators",
                    s.members_can_invite_outside_collaborators,
                ),
                (
                    "membersCanDeleteRepositories",
                    "members_can_delete_repositories",
                    s.members_can_delete_repositories,
                ),
                (
                    "membersCanChangeRepoVisibility",
                    "members_can_change_repo_visibility",
                    s.members_can_change_repo_visibility,
                ),
                (
                    "membersCanForkPrivateRepositories",
                    "members_can_fork_private_repositories",
                    s.members_can_fork_private_repositories,
                ),
                (
                    "webCommitSignoffRequired",
                    "web_commit_signoff_required",
                    s.web_commit_signoff_required,
                ),
                (
                    "secretScanningForNewRepositories",
                    "secret_scanning_enabled_for_new_repositories",
                    s.secret_scanning_enabled_for_new_repositories,
                ),
                (
                    "pushProtectionForNewRepositories",
                    "secret_scanning_push_protection_enabled_for_new_repositories",
                    s.secret_scanning_push_protection_enabled_for_new_repositories,
                ),
                (
                    "dependabotSecurityUpdatesForNewRepositories",
                    "dependabot_security_updates_enabled_for_new_repositories",
                    s.dependabot_security_updates_enabled_for_new_repositories,
                ),
            ] {
                put(name, field, value.map(Value::from));
            }
        }
        Err(u) => out.error(org_ref.clone(), "*", &u.reason),
    }
    put_actions(&raw.actions, org_ref, &mut attrs, out);
    match saml_configured(&raw.login, &raw.saml) {
        Ok(configured) => {
            attrs.insert("samlSsoConfigured".into(), Value::from(configured));
        }
        Err(reason) => out.error(org_ref.clone(), "samlSsoConfigured", &reason),
    }
    out.entities.push(Entity {
        uid: org_ref.clone(),
        attrs,
        parents: Vec::new(),
    });
}

/// Whether a SAML identity provider is configured, from the GraphQL answer; unknown when GitHub
/// may have hidden it (`null` for a caller who cannot administer the organization).
fn saml_configured(login: &str, saml: &Fetched<Value>) -> Result<bool, String> {
    let data = saml.as_ref().map_err(|u| u.reason.clone())?;
    let org = data
        .get("organization")
        .filter(|o| o.is_object())
        .ok_or_else(|| {
            format!("GraphQL `organization(login: \"{login}\")`: no organization in the answer")
        })?;
    match org.get("samlIdentityProvider") {
        Some(Value::Object(_)) => Ok(true),
        Some(Value::Null) | None => match org.get("viewerCanAdminister") {
            Some(Value::Bool(true)) => Ok(false),
            _ => Err(format!(
                "GraphQL `organization(login: \"{login}\").samlIdentityProvider` is null and the token cannot administer the organization: GitHub shows the identity provider only to organization owners (classic PAT `read:org`) and GitHub Apps with Members access, so \"none\" cannot be told from \"hidden\""
            )),
        },
        Some(_) => Err(format!(
            "GraphQL `organization(login: \"{login}\").samlIdentityProvider`: unexpected shape"
        )),
    }
}

fn logins(list: &Fetched<Vec<UserPayload>>) -> Result<BTreeSet<&str>, &str> {
    match list {
        Ok(users) => Ok(users.iter().map(|u| u.login.as_str()).collect()),
        Err(u) => Err(u.reason.as_str()),
    }
}

fn map_people(
    out: &mut Mapped,
    org_ref: &Uid,
    type_name: &str,
    all: &Fetched<Vec<UserPayload>>,
    admins: Option<&Fetched<Vec<UserPayload>>>,
    disabled: &Fetched<Vec<UserPayload>>,
    insecure: &Fetched<Vec<UserPayload>>,
) {
    let org = &org_ref.id;
    let users = match all {
        Ok(users) => users,
        Err(u) => {
            out.error(Uid::new(type_name, format!("{org}/*")), "*", &u.reason);
            return;
        }
    };
    let admins = admins.map(logins);
    let disabled = logins(disabled);
    let insecure = logins(insecure);
    let mut seen = BTreeSet::new();
    for user in users {
        if !seen.insert(user.login.as_str()) {
            continue; // a page boundary moved while listing
        }
        let uid = Uid::new(type_name, format!("{org}/{}", user.login));
        let mut attrs = Map::new();
        attrs.insert("login".into(), Value::from(user.login.clone()));
        let mut unknown: Vec<(&str, &str)> = Vec::new();
        if let Some(admins) = &admins {
            match admins {
                Ok(set) => {
                    let role = if set.contains(user.login.as_str()) {
                        "admin"
                    } else {
                        "member"
                    };
                    attrs.insert("role".into(), Value::from(role));
                }
                Err(reason) => unknown.push(("role", reason)),
            }
        }
        for (name, list) in [
            ("twoFactorDisabled", &disabled),
            ("twoFactorInsecure", &insecure),
        ] {
            match list {
                Ok(set) => {
                    attrs.insert(name.into(), Value::from(set.contains(user.login.as_str())));
                }
                Err(reason) => unknown.push((name, reason)),
            }
        }
        for (name, reason) in unknown {
            out.error(uid.clone(), name, reason);
        }
        out.entities.push(Entity {
            uid,
            attrs,
            parents: vec![org_ref.clone()],
        });
    }
}

/// `actionsDefaultWorkflowPermissions` and `actionsCanApprovePullRequests` of an org or repository.
fn put_actions(
    actions: &Fetched<WorkflowPermissionsPayload>,
    uid: &Uid,
    attrs: &mut Map<String, Value>,
    out: &mut Mapped,
) {
    let (permissions, approve) = match actions {
        Ok(a) => (
            a.default_workflow_permissions
                .clone()
                .ok_or("`default_workflow_permissions` not in the Actions workflow permissions"),
            a.can_approve_pull_request_reviews.ok_or(
                "`can_approve_pull_request_reviews` not in the Actions workflow permissions",
            ),
        ),
        Err(u) => (Err(u.reason.as_str()), Err(u.reason.as_str())),
    };
    match permissions {
        Ok(p) => {
            attrs.insert("actionsDefaultWorkflowPermissions".into(), Value::from(p));
        }
        Err(reason) => out.error(uid.clone(), "actionsDefaultWorkflowPermissions", reason),
    }
    match approve {
        Ok(b) => {
            attrs.insert("actionsCanApprovePullRequests".into(), Value::from(b));
        }
        Err(reason) => out.error(uid.clone(), "actionsCanApprovePullRequests", reason),
    }
}

/// Whether `name` matches a glob (`*` any run of characters), ignoring case.
pub(crate) fn glob_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.to_lowercase(), name.to_lowercase());
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == name;
    };
    if parts.len() == 1 {
        return pattern == name;
    }
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = rest.get(i + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn map_repo(raw: &RawRepo, org_ref: &Uid, production: &[String], out: &mut Mapped) {
    let r = &raw.repo;
    let repo_ref = Uid::new(REPO, &r.full_name);
    let visibility = r
        .visibility
        .clone()
        .unwrap_or_else(|| if r.private { "private" } else { "public" }.to_string());
    let default_branch = r.default_branch.clone().unwrap_or_default();
    let protection = raw.branch.as_ref().map(protection::effective);
    let mut attrs = Map::new();
    attrs.insert("fullName".into(), Value::from(r.full_name.clone()));
    attrs.insert("archived".into(), Value::from(r.archived));
    attrs.insert("readOnly".into(), Value::from(r.archived || r.disabled));
    attrs.insert("fork".into(), Value::from(r.fork));
    attrs.insert("visibility".into(), Value::from(visibility));
    attrs.insert("defaultBranch".into(), Value::from(default_branch.clone()));
    if let Some(p) = &protection {
        match &p.protected {
            Fact::Known(b) => {
                attrs.insert("defaultBranchProtected".into(), Value::from(*b));
            }
            Fact::Unknown(reason) => out.error(repo_ref.clone(), "defaultBranchProtected", reason),
        }
    }
    if let Some(settings) = &raw.settings {
        map_repo_settings(raw, settings, &repo_ref, &mut attrs, production, out);
    }
    // The repository's parent is its owner org, which is the org being collected.
    let parent = Uid::new(ORG, &r.owner.login);
    out.entities.push(Entity {
        uid: repo_ref.clone(),
        attrs,
        parents: vec![if parent.id.eq_ignore_ascii_case(&org_ref.id) {
            org_ref.clone()
        } else {
            parent
        }],
    });
    if default_branch.is_empty() {
        return;
    }
    let uid = Uid::new(BRANCH, format!("{}:{default_branch}", r.full_name));
    let mut attrs = Map::new();
    attrs.insert("name".into(), Value::from(default_branch.clone()));
    attrs.insert("isDefault".into(), Value::from(true));
    attrs.insert("repoArchived".into(), Value::from(r.archived || r.disabled));
    if let Some(p) = protection {
        map_protection(p, &uid, &mut attrs, out);
    }
    // Archived and disabled repositories are read-only: their protection is not read and every
    // branch rule treats them as not applicable.
    out.entities.push(Entity {
        uid,
        attrs,
        parents: vec![repo_ref.clone()],
    });
    match &raw.other_branches {
        Ok(branches) => {
            for b in branches {
                let uid = Uid::new(BRANCH, format!("{}:{}", r.full_name, b.name));
                let mut attrs = Map::new();
                attrs.insert("name".into(), Value::from(b.name.clone()));
                attrs.insert("isDefault".into(), Value::from(false));
                attrs.insert("configured".into(), Value::from(true));
                attrs.insert("repoArchived".into(), Value::from(false));
                map_protection(protection::effective(b), &uid, &mut attrs, out);
                out.entities.push(Entity {
                    uid,
                    attrs,
                    parents: vec![repo_ref.clone()],
                });
            }
        }
        // Branches we could not list must not look compliant.
        Err(u) => out.error(
            Uid::new(BRANCH, format!("{}:*", r.full_name)),
            "*",
            &u.reason,
        ),
    }
}

fn map_repo_settings(
    raw: &RawRepo,
    settings: &RawRepoSettings,
    repo_ref: &Uid,
    attrs: &mut Map<String, Value>,
    production: &[String],
    out: &mut Mapped,
) {
    let full = &raw.repo.full_name;
    // security_and_analysis comes with the repository itself, only for its administrators.
    let features = [
        ("secretScanning", "secret_scanning"),
        (
            "secretScanningPushProtection",
            "secret_scanning_push_protection",
        ),
        ("dependabotSecurityUpdates", "dependabot_security_updates"),
    ];
    for (name, field) in features {
        let block = raw
            .repo
            .security_and_analysis
            .as_ref()
            .map(|s| match field {
                "secret_scanning" => &s.secret_scanning,
                "secret_scanning_push_protection" => &s.secret_scanning_push_protection,
                _ => &s.dependabot_security_updates,
            });
        match block.map(|b| b.as_ref().and_then(|b| b.status.as_deref())) {
            Some(Some(status)) => {
                attrs.insert(name.into(), Value::from(status == "enabled"));
            }
            Some(None) => out.error(
                repo_ref.clone(),
                name,
                &format!("GET /repos/{full}: `security_and_analysis.{field}.status` not returned"),
            ),
            None => out.error(
                repo_ref.clone(),
                name,
                &format!("GET /repos/{full}: `security_and_analysis` not returned (GitHub shows it only to callers with admin rights on the repository: Administration read)"),
            ),
        }
    }
    put_actions(&settings.actions, repo_ref, attrs, out);
    match &settings.codeowners {
        Ok(c) => {
            attrs.insert("codeownersErrors".into(), Value::from(c.errors.len()));
        }
        Err(u) => out.error(repo_ref.clone(), "codeownersErrors", &u.reason),
    }
    match &settings.deploy_keys {
        Ok(keys) => {
            attrs.insert("deployKeys".into(), Value::from(keys.len()));
            let rw = keys.iter().filter(|k| !k.read_only).count();
            attrs.insert("readWriteDeployKeys".into(), Value::from(rw));
        }
        Err(u) => {
            out.error(repo_ref.clone(), "deployKeys", &u.reason);
            out.error(repo_ref.clone(), "readWriteDeployKeys", &u.reason);
        }
    }
    if let Some((period, suites)) = &settings.bypasses {
        attrs.insert("ruleBypassPeriod".into(), Value::from(*period));
        match suites {
            Ok(suites) => {
                let bypasses: Vec<_> = suites
                    .iter()
                    .filter(|s| s.result.as_deref().is_none_or(|r| r == "bypass"))
                    .collect();
                attrs.insert("ruleBypasses".into(), Value::from(bypasses.len()));
                for suite in bypasses {
                    out.entities.push(rule_bypass(full, suite, repo_ref));
                }
            }
            Err(u) => out.error(repo_ref.clone(), "ruleBypasses", &u.reason),
        }
    }
    match &settings.environments {
        Ok(envs) => {
            for env in &envs.environments {
                out.entities
                    .push(environment(full, env, repo_ref, production));
            }
        }
        Err(u) => out.error(Uid::new(ENVIRONMENT, format!("{full}:*")), "*", &u.reason),
    }
}

fn rule_bypass(full: &str, suite: &RuleSuitePayload, repo_ref: &Uid) -> Entity {
    let mut attrs = Map::new();
    let text = |v: &Option<String>| Value::from(v.clone().unwrap_or_default());
    attrs.insert("actor".into(), text(&suite.actor_name));
    attrs.insert("ref".into(), text(&suite.ref_name));
    attrs.insert("pushedAt".into(), text(&suite.pushed_at));
    attrs.insert("afterSha".into(), text(&suite.after_sha));
    Entity {
        uid: Uid::new(RULE_BYPASS, format!("{full}#{}", suite.id)),
        attrs,
        parents: vec![repo_ref.clone()],
    }
}

fn environment(
    full: &str,
    env: &EnvironmentPayload,
    repo_ref: &Uid,
    production: &[String],
) -> Entity {
    let rules = env.protection_rules.as_deref().unwrap_or_default();
    let reviewers: usize = rules
        .iter()
        .filter(|r| r.rule_type == "required_reviewers")
        .map(|r| r.reviewers.as_ref().map_or(0, Vec::len))
        .sum();
    let wait: i64 = rules
        .iter()
        .filter(|r| r.rule_type == "wait_timer")
        .filter_map(|r| r.wait_timer)
        .max()
        .unwrap_or(0);
    let self_review = rules
        .iter()
        .any(|r| r.rule_type == "required_reviewers" && r.prevent_self_review == Some(true));
    let policy = match env.deployment_branch_policy {
        None => "all",
        Some(p) if p.protected_branches => "protected",
        Some(_) => "custom",
    };
    let mut attrs = Map::new();
    attrs.insert("name".into(), Value::from(env.name.clone()));
    attrs.insert(
        "production".into(),
        Value::from(production.iter().any(|p| glob_matches(p, &env.name))),
    );
    attrs.insert("requiredReviewers".into(), Value::from(reviewers));
    attrs.insert("preventSelfReview".into(), Value::from(self_review));
    attrs.insert("waitTimerMinutes".into(), Value::from(wait));
    attrs.insert("deploymentBranchPolicy".into(), Value::from(policy));
    Entity {
        uid: Uid::new(ENVIRONMENT, format!("{full}:{}", env.name)),
        attrs,
        parents: vec![repo_ref.clone()],
    }
}

fn map_protection(p: Protection, uid: &Uid, attrs: &mut Map<String, Value>, out: &mut Mapped) {
    let mut put = |name: &str, fact: Fact<Value>| match fact {
        Fact::Known(v) => {
            attrs.insert(name.into(), v);
        }
        Fact::Unknown(reason) => out.error(uid.clone(), name, &reason),
    };
    let set = |f: Fact<BTreeSet<String>>| match f {
        Fact::Known(s) => Fact::Known(Value::from(s.into_iter().collect::<Vec<_>>())),
        Fact::Unknown(r) => Fact::Unknown(r),
    };
    let bool_fact = |f: Fact<bool>| match f {
        Fact::Known(b) => Fact::Known(Value::from(b)),
        Fact::Unknown(r) => Fact::Unknown(r),
    };
    put("protected", bool_fact(p.protected));
    put(
        "requiredApprovingReviews",
        match p.required_approving_reviews {
            Fact::Known(n) => Fact::Known(Value::from(n)),
            Fact::Unknown(r) => Fact::Unknown(r),
        },
    );
    for (name, fact) in p.bools {
        put(name, bool_fact(fact));
    }
    put("adminsCanBypass", bool_fact(p.admins_can_bypass));
    put("bypassActors", set(p.bypass_actors));
    put("protectionSources", set(p.sources));
    put("factSources", set(p.fact_sources));
    put(
        "requiredStatusCheckContexts",
        set(p.required_status_check_contexts),
    );
    put(
        "adminsExemptFromStatusChecks",
        bool_fact(p.admins_exempt_from_status_checks),
    );
    put("currentUserCanBypass", bool_fact(p.current_user_can_bypass));
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::raw::{RawBranch, ReadFailure, RepoPayload};

    fn users(names: &[&str]) -> Fetched<Vec<UserPayload>> {
        Ok(names
            .iter()
            .map(|n| UserPayload {
                login: n.to_string(),
            })
            .collect())
    }

    fn repo(name: &str, archived: bool) -> RepoPayload {
        serde_json::from_value(serde_json::json!({
            "id": 1, "node_id": "R_1", "name": name, "full_name": format!("acme/{name}"),
            "owner": {"login": "acme", "id": 1001, "type": "Organization"},
            "private": true, "visibility": "private", "fork": false, "archived": archived,
            "disabled": false, "default_branch": "main"
        }))
        .unwrap()
    }

    #[test]
    fn saml_is_configured_none_or_unknown_when_hidden() {
        let read = |v: serde_json::Value| saml_configured("acme", &Ok(v));
        let org = |admin: bool, idp: serde_json::Value| serde_json::json!({"organization": {"viewerCanAdminister": admin, "samlIdentityProvider": idp}});
        let idp = serde_json::json!({"ssoUrl": "https://idp.example/sso"});
        assert_eq!(read(org(false, idp.clone())), Ok(true));
        assert_eq!(read(org(true, idp)), Ok(true));
        assert_eq!(read(org(true, serde_json::Value::Null)), Ok(false));
        // A caller who cannot administer the org sees null whether or not there is one.
        assert!(read(org(false, serde_json::Value::Null))
            .unwrap_err()
            .contains("only to organization owners"));
        assert!(read(serde_json::json!({"organization": null})).is_err());
        let failed = saml_configured(
            "acme",
            &Err(ReadFailure::new("POST /graphql: 401 Bad credentials")),
        );
        assert_eq!(failed, Err("POST /graphql: 401 Bad credentials".into()));
    }

    fn org(settings: &str) -> RawOrg {
        RawOrg {
            login: "acme".into(),
            settings: Ok(serde_json::from_str(settings).unwrap()),
            members: users(&["alice", "bob", "carol"]),
            admins: users(&["alice"]),
            members_2fa_disabled: users(&["bob"]),
            members_2fa_insecure: users(&["carol"]),
            collaborators: users(&["vendor"]),
            collaborators_2fa_disabled: users(&["vendor"]),
            collaborators_2fa_insecure: users(&[]),
            changes: None,
            change_branches: vec![],
            changes_until: None,
            saml: Ok(
                serde_json::json!({"organization": {"viewerCanAdminister": true, "samlIdentityProvider": null}}),
            ),
            actions: Ok(WorkflowPermissionsPayload {
                default_workflow_permissions: Some("read".into()),
                can_approve_pull_request_reviews: Some(false),
            }),
            repos: vec![],
            repo_listing_error: None,
            unreadable_repos: vec![],
        }
    }

    fn entity<'a>(m: &'a Mapped, type_name: &str, id: &str) -> &'a Entity {
        m.entities
            .iter()
            .find(|e| e.uid.type_name == type_name && e.uid.id == id)
            .unwrap_or_else(|| panic!("no {type_name} {id}"))
    }

    #[test]
    fn org_settings_and_people() {
        let m = map_org(&org(include_str!("../fixtures/org.json")));
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        let o = entity(&m, ORG, "acme");
        assert_eq!(o.attrs["twoFactorRequirementEnabled"], true);
        assert_eq!(o.attrs["defaultRepositoryPermission"], "read");
        assert_eq!(o.attrs["membersCanCreatePublicRepositories"], false);
        let alice = entity(&m, MEMBER, "acme/alice");
        assert_eq!(alice.attrs["role"], "admin");
        assert_eq!(alice.attrs["twoFactorDisabled"], false);
        assert_eq!(alice.parents, vec![Uid::new(ORG, "acme")]);
        assert_eq!(
            entity(&m, MEMBER, "acme/bob").attrs["twoFactorDisabled"],
            true
        );
        assert_eq!(
            entity(&m, MEMBER, "acme/carol").attrs["twoFactorInsecure"],
            true
        );
        assert_eq!(
            entity(&m, OUTSIDE_COLLABORATOR, "acme/vendor").attrs["twoFactorDisabled"],
            true
        );
    }

    #[test]
    fn owner_only_settings_are_errors_not_values() {
        let mut raw = org(include_str!("../fixtures/org_not_owner.json"));
        raw.members_2fa_disabled = Err(ReadFailure::new(
            "GET /orgs/acme/members?filter=2fa_disabled: 422 Only owners can use this filter.",
        ));
        let m = map_org(&raw);
        let o = entity(&m, ORG, "acme");
        assert!(!o.attrs.contains_key("twoFactorRequirementEnabled"));
        let facts: Vec<(&str, &str)> = m
            .errors
            .iter()
            .map(|e| (e.entity.id.as_str(), e.fact.as_str()))
            .collect();
        assert!(facts.contains(&("acme", "twoFactorRequirementEnabled")));
        assert!(facts.contains(&("acme/bob", "twoFactorDisabled")));
        assert!(!entity(&m, MEMBER, "acme/bob")
            .attrs
            .contains_key("twoFactorDisabled"));
    }

    #[test]
    fn unreadable_lists_name_a_wildcard_entity() {
        let mut raw = org(include_str!("../fixtures/org.json"));
        raw.members = Err(ReadFailure::new("GET /orgs/acme/members: 403 Forbidden"));
        raw.repo_listing_error = Some(ReadFailure::new(
            "GET /orgs/acme/repos: 502 after 5 attempts",
        ));
        let m = map_org(&raw);
        assert!(m.entities.iter().all(|e| e.uid.type_name != MEMBER));
        let ids: Vec<String> = m.errors.iter().map(|e| pair(&e.entity)).collect();
        assert!(
            ids.contains(&"Github::Member acme/*".to_string()),
            "{ids:?}"
        );
        assert!(
            ids.contains(&"Github::Branch acme/*".to_string()),
            "{ids:?}"
        );
    }

    #[test]
    fn archived_repository_branch_has_no_protection_facts_and_no_errors() {
        let mut raw = org(include_str!("../fixtures/org.json"));
        raw.repos = vec![RawRepo {
            repo: repo("old", true),
            branch: None,
            settings: None,
            other_branches: Ok(vec![]),
        }];
        let m = map_org(&raw);
        assert!(m.errors.is_empty());
        let b = entity(&m, BRANCH, "acme/old:main");
        assert_eq!(b.attrs["repoArchived"], true);
        assert!(!b.attrs.contains_key("protected"));
    }

    #[test]
    fn branch_facts_and_their_errors() {
        let mut raw = org(include_str!("../fixtures/org.json"));
        raw.repos = vec![
            RawRepo {
                repo: repo("api", false),
                branch: Some(RawBranch {
                    name: "main".into(),
                    classic: Ok(Some(
                        serde_json::from_str(include_str!("../fixtures/protection_compliant.json"))
                            .unwrap(),
                    )),
                    signatures_error: None,
                    status_checks_error: None,
                    rules: Ok(vec![]),
                    rulesets: BTreeMap::new(),
                }),
                settings: None,
                other_branches: Ok(vec![]),
            },
            RawRepo {
                repo: repo("secret", false),
                branch: Some(RawBranch {
                    name: "main".into(),
                    classic: Err(ReadFailure::new("GET …: 404 Not Found")),
                    signatures_error: None,
                    status_checks_error: None,
                    rules: Ok(vec![]),
                    rulesets: BTreeMap::new(),
                }),
                settings: None,
                other_branches: Ok(vec![]),
            },
        ];
        let m = map_org(&raw);
        let api = entity(&m, BRANCH, "acme/api:main");
        assert_eq!(api.attrs["requiredApprovingReviews"], 2);
        assert_eq!(
            api.attrs["protectionSources"],
            serde_json::json!(["classic"])
        );
        assert_eq!(api.parents, vec![Uid::new(REPO, "acme/api")]);
        let secret = entity(&m, BRANCH, "acme/secret:main");
        assert!(!secret.attrs.contains_key("protected"));
        let secret_errors: Vec<&str> = m
            .errors
            .iter()
            .filter(|e| e.entity.id == "acme/secret:main")
            .map(|e| e.fact.as_str())
            .collect();
        // Every absent fact is explained.
        for fact in [
            "protected",
            "requiredApprovingReviews",
            "forcePushesBlocked",
            "adminsCanBypass",
            "protectionSources",
        ] {
            assert!(secret_errors.contains(&fact), "{fact}: {secret_errors:?}");
        }
    }

    #[test]
    fn production_environments_match_globs_ignoring_case() {
        for (pattern, name, hit) in [
            ("prod*", "Production", true),
            ("prod*", "prod-eu", true),
            ("prod*", "preprod", false),
            ("*-prod", "eu-prod", true),
            ("live", "LIVE", true),
            ("live", "lively", false),
            ("p*d*n", "production", true),
        ] {
            assert_eq!(glob_matches(pattern, name), hit, "{pattern} {name}");
        }
    }

    fn pair(uid: &Uid) -> String {
        format!("{} {}", uid.type_name, uid.id)
    }
}
