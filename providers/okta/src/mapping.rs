//! The pure mapping from raw Okta data ([`RawOrg`]) to `Okta::` entities and uncollected facts.
//!
//! A field Okta did not return is left absent and gets an [`UncollectedFact`] saying which call
//! left it out, so rules reading it report `error`. No verdicts here: which factors count as
//! MFA, or as phishing-resistant, is for the rules.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use trustcheck_snapshot::{Entity, Uid, UncollectedFact};

use crate::fetch::SIGN_IN_STATUSES;
use crate::raw::{Policy, PolicyConditions, RawOrg, SignOnRule, User};

/// Entity type of the org.
pub const ORG: &str = "Okta::Org";
/// Entity type of a user.
pub const USER: &str = "Okta::User";
/// Entity type of a global session policy.
pub const SIGN_ON_POLICY: &str = "Okta::SignOnPolicy";
/// Entity type of a rule of a global session policy.
pub const SIGN_ON_RULE: &str = "Okta::SignOnPolicyRule";
/// Entity type of an authenticator enrollment policy.
pub const ENROLLMENT_POLICY: &str = "Okta::EnrollmentPolicy";

/// Entities and uncollected facts of one org, sorted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapped {
    /// Entities, sorted by uid.
    pub entities: Vec<Entity>,
    /// Facts that could not be read, sorted.
    pub errors: Vec<UncollectedFact>,
}

/// Maps one org.
pub fn map_org(raw: &RawOrg) -> Mapped {
    let org = Uid::new(ORG, &raw.host);
    let mut out = Mapped::default();
    let mut attrs = Map::new();
    attrs.insert("host".into(), Value::from(raw.host.clone()));
    out.entities.push(Entity {
        uid: org.clone(),
        attrs,
        parents: Vec::new(),
    });
    match &raw.users {
        Ok(users) => {
            let mut seen = BTreeSet::new();
            for user in users {
                let (Some(id), Some(login)) = (
                    user.id.as_deref(),
                    user.profile.as_ref().and_then(|p| p.login.as_deref()),
                ) else {
                    let id = user.id.as_deref().unwrap_or("(no id)");
                    out.errors.push(UncollectedFact::new(
                        Uid::new(USER, format!("{}/id:{id}", raw.host)),
                        "*",
                        format!("GET /api/v1/users: user `{id}` has no `id` or `profile.login`"),
                    ));
                    continue;
                };
                if seen.insert(id.to_string()) {
                    map_user(raw, user, id, login, &org, &mut out);
                }
            }
        }
        Err(u) => out.errors.push(UncollectedFact::new(
            Uid::new(USER, format!("{}/*", raw.host)),
            "*",
            &u.reason,
        )),
    }
    map_sign_on(raw, &org, &mut out);
    map_enrollment(raw, &org, &mut out);
    out.entities.sort_by(|a, b| a.uid.cmp(&b.uid));
    out.errors.sort();
    out.errors.dedup();
    out
}

fn map_user(raw: &RawOrg, user: &User, id: &str, login: &str, org: &Uid, out: &mut Mapped) {
    let uid = Uid::new(USER, format!("{}/{login}", raw.host));
    let users = "GET /api/v1/users";
    let mut attrs = Map::new();
    let mut errors = Vec::new();
    let missing = |fact: &str, call: &str, field: &str| {
        UncollectedFact::new(
            uid.clone(),
            fact,
            format!("{call}: `{field}` missing or not a valid value"),
        )
    };
    attrs.insert("login".into(), Value::from(login));
    attrs.insert(
        "org".into(),
        serde_json::json!({"type": org.type_name, "id": org.id}),
    );
    match &user.status {
        Some(s) => {
            attrs.insert("status".into(), Value::from(s.clone()));
        }
        None => errors.push(missing("status", users, "status")),
    }
    match user.created.as_deref().and_then(time_value) {
        Some(v) => {
            attrs.insert("created".into(), v);
        }
        None => errors.push(missing("created", users, "created")),
    }
    match &user.last_login {
        // `null`: never signed in, a fact; the attribute stays absent and no error is recorded.
        Some(None) => {}
        Some(Some(t)) => match time_value(t) {
            Some(v) => {
                attrs.insert("lastLogin".into(), v);
            }
            None => errors.push(missing("lastLogin", users, "lastLogin")),
        },
        None => errors.push(missing("lastLogin", users, "lastLogin")),
    }
    let signs_in = user
        .status
        .as_deref()
        .is_some_and(|s| SIGN_IN_STATUSES.contains(&s));
    if signs_in {
        let call = "GET /api/v1/users/{id}/factors";
        match raw.factors.get(id) {
            Some(Ok(factors)) => {
                let active: BTreeSet<&str> = factors
                    .iter()
                    .filter(|f| f.status.as_deref() == Some("ACTIVE"))
                    .filter_map(|f| f.factor_type.as_deref())
                    .collect();
                attrs.insert(
                    "activeFactorTypes".into(),
                    Value::Array(active.into_iter().map(Value::from).collect()),
                );
            }
            Some(Err(u)) => errors.push(UncollectedFact::new(
                uid.clone(),
                "activeFactorTypes",
                &u.reason,
            )),
            None => errors.push(UncollectedFact::new(
                uid.clone(),
                "activeFactorTypes",
                format!("{call}: not read"),
            )),
        }
    }
    match &raw.roles {
        Ok(holders) => match holders.get(id) {
            None => {
                attrs.insert("adminRoles".into(), Value::Array(Vec::new()));
            }
            Some(Ok(roles)) => {
                let names: BTreeSet<String> = roles
                    .iter()
                    .filter_map(|r| match (r.role_type.as_deref(), r.label.as_deref()) {
                        (Some("CUSTOM"), Some(label)) => Some(format!("CUSTOM:{label}")),
                        (Some(t), _) => Some(t.to_string()),
                        (None, label) => label.map(|l| format!("CUSTOM:{l}")),
                    })
                    .collect();
                attrs.insert(
                    "adminRoles".into(),
                    Value::Array(names.into_iter().map(Value::from).collect()),
                );
            }
            Some(Err(u)) => errors.push(UncollectedFact::new(uid.clone(), "adminRoles", &u.reason)),
        },
        Err(u) => errors.push(UncollectedFact::new(uid.clone(), "adminRoles", &u.reason)),
    }
    out.entities.push(Entity {
        uid,
        attrs,
        parents: vec![org.clone()],
    });
    out.errors.append(&mut errors);
}

/// Name, status, priority, `system` and the groups a policy or rule applies to; a missing field is
/// an uncollected fact.
fn policy_common(
    uid: &Uid,
    call: &str,
    fields: (&Option<String>, &Option<String>, Option<i64>, Option<bool>),
    conditions: Option<&PolicyConditions>,
    attrs: &mut Map<String, Value>,
    errors: &mut Vec<UncollectedFact>,
) {
    let (name, status, priority, system) = fields;
    let mut put = |fact: &str, value: Option<Value>| match value {
        Some(v) => {
            attrs.insert(fact.into(), v);
        }
        None => errors.push(UncollectedFact::new(
            uid.clone(),
            fact,
            format!("{call}: `{fact}` missing or not a valid value"),
        )),
    };
    put("name", name.clone().map(Value::from));
    put("status", status.clone().map(Value::from));
    put("system", system.map(Value::from));
    // Nullable for rules in Okta's description, and no rule reads it: absent is not an error.
    if let Some(p) = priority {
        attrs.insert("priority".into(), Value::from(p));
    }
    // No people condition (or no group list) means no group restriction: an empty set, a fact.
    let groups = conditions
        .and_then(|c| c.people.as_ref())
        .and_then(|p| p.groups.as_ref());
    let ids = |list: Option<&Vec<String>>| {
        Value::Array(
            list.into_iter()
                .flatten()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|g| Value::from(g.clone()))
                .collect(),
        )
    };
    attrs.insert(
        "includedGroupIds".into(),
        ids(groups.and_then(|g| g.include.as_ref())),
    );
    attrs.insert(
        "excludedGroupIds".into(),
        ids(groups.and_then(|g| g.exclude.as_ref())),
    );
}

/// A policy's id, uid and common attributes, or `None` (and an uncollected fact) without an id.
fn map_policy<'a>(
    raw: &RawOrg,
    type_name: &str,
    call: &str,
    policy: &'a Policy,
    org: &Uid,
    out: &mut Mapped,
) -> Option<(&'a str, Uid, Map<String, Value>)> {
    let Some(id) = policy.id.as_deref() else {
        out.errors.push(UncollectedFact::new(
            Uid::new(type_name, format!("{}/*", raw.host)),
            "*",
            format!("{call}: a policy has no `id`"),
        ));
        return None;
    };
    let uid = Uid::new(type_name, format!("{}/{id}", raw.host));
    let mut attrs = Map::new();
    attrs.insert("org".into(), entity_ref(org));
    policy_common(
        &uid,
        call,
        (&policy.name, &policy.status, policy.priority, policy.system),
        policy.conditions.as_ref(),
        &mut attrs,
        &mut out.errors,
    );
    Some((id, uid, attrs))
}

fn map_sign_on(raw: &RawOrg, org: &Uid, out: &mut Mapped) {
    let call = "GET /api/v1/policies?type=OKTA_SIGN_ON";
    let policies = match &raw.sign_on {
        Ok(p) => p,
        Err(u) => {
            for t in [SIGN_ON_POLICY, SIGN_ON_RULE] {
                out.errors.push(UncollectedFact::new(
                    Uid::new(t, format!("{}/*", raw.host)),
                    "*",
                    &u.reason,
                ));
            }
            return;
        }
    };
    for (policy, rules) in policies {
        let Some((id, uid, attrs)) = map_policy(raw, SIGN_ON_POLICY, call, policy, org, out) else {
            continue;
        };
        out.entities.push(Entity {
            uid: uid.clone(),
            attrs,
            parents: vec![org.clone()],
        });
        let rules = match rules {
            Ok(r) => r,
            Err(u) => {
                out.errors.push(UncollectedFact::new(
                    Uid::new(SIGN_ON_RULE, format!("{}/{id}/*", raw.host)),
                    "*",
                    &u.reason,
                ));
                continue;
            }
        };
        for rule in rules {
            map_sign_on_rule(raw, &uid, id, rule, out);
        }
    }
}

fn map_sign_on_rule(
    raw: &RawOrg,
    policy: &Uid,
    policy_id: &str,
    rule: &SignOnRule,
    out: &mut Mapped,
) {
    let call = "GET /api/v1/policies/{id}/rules";
    let Some(rule_id) = rule.id.as_deref() else {
        out.errors.push(UncollectedFact::new(
            Uid::new(SIGN_ON_RULE, format!("{}/{policy_id}/*", raw.host)),
            "*",
            format!("{call}: a rule has no `id`"),
        ));
        return;
    };
    let uid = Uid::new(SIGN_ON_RULE, format!("{}/{policy_id}/{rule_id}", raw.host));
    let mut attrs = Map::new();
    let mut errors = Vec::new();
    attrs.insert("policy".into(), entity_ref(policy));
    policy_common(
        &uid,
        call,
        (&rule.name, &rule.status, rule.priority, rule.system),
        rule.conditions.as_ref(),
        &mut attrs,
        &mut errors,
    );
    let signon = rule.actions.as_ref().and_then(|a| a.signon.as_ref());
    let missing = |fact: &str, field: &str| {
        UncollectedFact::new(
            uid.clone(),
            fact,
            format!("{call}: `{field}` missing or not a valid value"),
        )
    };
    match signon.and_then(|s| s.access.clone()) {
        Some(access) => {
            // What a rule that denies sign-in requires of a factor does not matter.
            if access == "ALLOW" {
                match signon.and_then(|s| s.require_factor) {
                    Some(b) => {
                        attrs.insert("requireFactor".into(), Value::from(b));
                    }
                    None => errors.push(missing("requireFactor", "actions.signon.requireFactor")),
                }
            }
            attrs.insert("access".into(), Value::from(access));
        }
        None => errors.push(missing("access", "actions.signon.access")),
    }
    // Optional settings: Okta leaves them out when they do not apply (no prompt mode without
    // `requireFactor`), so an absence is not an error; no shipped rule reads them yet.
    if let Some(s) = signon {
        if let Some(m) = &s.factor_prompt_mode {
            attrs.insert("factorPromptMode".into(), Value::from(m.clone()));
        }
        if let Some(m) = s.factor_lifetime {
            attrs.insert("factorLifetimeMinutes".into(), Value::from(m));
        }
        if let Some(session) = &s.session {
            if let Some(m) = session.max_session_idle_minutes {
                attrs.insert("maxSessionIdleMinutes".into(), Value::from(m));
            }
            if let Some(m) = session.max_session_lifetime_minutes {
                attrs.insert("maxSessionLifetimeMinutes".into(), Value::from(m));
            }
            if let Some(b) = session.use_persistent_cookie {
                attrs.insert("usePersistentCookie".into(), Value::from(b));
            }
        }
    }
    out.entities.push(Entity {
        uid,
        attrs,
        parents: vec![policy.clone()],
    });
    out.errors.append(&mut errors);
}

fn map_enrollment(raw: &RawOrg, org: &Uid, out: &mut Mapped) {
    let call = "GET /api/v1/policies?type=MFA_ENROLL";
    let policies = match &raw.enrollment {
        Ok(p) => p,
        Err(u) => {
            out.errors.push(UncollectedFact::new(
                Uid::new(ENROLLMENT_POLICY, format!("{}/*", raw.host)),
                "*",
                &u.reason,
            ));
            return;
        }
    };
    for policy in policies {
        let Some((_, uid, mut attrs)) = map_policy(raw, ENROLLMENT_POLICY, call, policy, org, out)
        else {
            continue;
        };
        let settings = policy.settings.as_ref();
        // Identity Engine lists authenticators; Classic Engine keys factors. Either is a list of
        // what enrolment requires; neither is unknown.
        let required: Option<BTreeSet<String>> = match (
            settings.and_then(|s| s.authenticators.as_ref()),
            settings.and_then(|s| s.factors.as_ref()),
        ) {
            (Some(list), _) => Some(
                list.iter()
                    .filter(|a| {
                        a.enroll.as_ref().and_then(|e| e.self_.as_deref()) == Some("REQUIRED")
                    })
                    .filter_map(|a| a.key.clone())
                    .collect(),
            ),
            (None, Some(map)) => Some(
                map.iter()
                    .filter(|(_, f)| {
                        f.enroll.as_ref().and_then(|e| e.self_.as_deref()) == Some("REQUIRED")
                    })
                    .map(|(k, _)| k.clone())
                    .collect(),
            ),
            (None, None) => None,
        };
        match required {
            Some(keys) => {
                attrs.insert(
                    "requiredAuthenticators".into(),
                    Value::Array(keys.into_iter().map(Value::from).collect()),
                );
            }
            None => out.errors.push(UncollectedFact::new(
                uid.clone(),
                "requiredAuthenticators",
                format!("{call}: `settings.authenticators` and `settings.factors` missing"),
            )),
        }
        out.entities.push(Entity {
            uid,
            attrs,
            parents: vec![org.clone()],
        });
    }
}

/// `{"type": …, "id": …}`: an attribute naming another entity.
fn entity_ref(uid: &Uid) -> Value {
    serde_json::json!({"type": uid.type_name, "id": uid.id})
}

/// An RFC 3339 UTC time as the snapshot writes it (Okta answers `…T10:00:00.000Z`).
fn time_value(text: &str) -> Option<Value> {
    trustcheck_snapshot::utc::normalize_utc(text).map(Value::from)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::raw::{Factor, ReadFailure, Role};

    fn raw() -> RawOrg {
        let users: Vec<User> =
            serde_json::from_str(include_str!("../fixtures/users.json")).unwrap();
        let factors: Vec<Factor> =
            serde_json::from_str(include_str!("../fixtures/factors_admin.json")).unwrap();
        let roles: Vec<Role> =
            serde_json::from_str(include_str!("../fixtures/roles_super_admin.json")).unwrap();
        RawOrg {
            host: "acme.okta.com".into(),
            users: Ok(users),
            factors: BTreeMap::from([
                ("00u1admin".to_string(), Ok(factors)),
                ("00u2staff".to_string(), Ok(Vec::new())),
            ]),
            roles: Ok(BTreeMap::from([
                ("00u1admin".to_string(), Ok(roles.clone())),
                ("00u4gone".to_string(), Ok(roles)),
            ])),
            sign_on: Ok(Vec::new()),
            enrollment: Ok(Vec::new()),
        }
    }

    fn entity<'a>(m: &'a Mapped, login: &str) -> &'a Entity {
        m.entities
            .iter()
            .find(|e| e.uid.id == format!("acme.okta.com/{login}"))
            .unwrap()
    }

    #[test]
    fn users_map_active_factors_roles_and_sign_ins() {
        let m = map_org(&raw());
        let admin = entity(&m, "ada@acme.example");
        // PENDING_ACTIVATION factors are not among the active ones.
        assert_eq!(
            admin.attrs["activeFactorTypes"],
            serde_json::json!(["signed_nonce", "token:software:totp"])
        );
        assert_eq!(
            admin.attrs["adminRoles"],
            serde_json::json!(["SUPER_ADMIN"])
        );
        assert_eq!(admin.attrs["lastLogin"], "2026-11-20T08:15:00Z");
        let staff = entity(&m, "sam@acme.example");
        assert_eq!(staff.attrs["activeFactorTypes"], serde_json::json!([]));
        assert_eq!(staff.attrs["adminRoles"], serde_json::json!([]));
        // null lastLogin: never signed in, a fact, not an error.
        assert!(!staff.attrs.contains_key("lastLogin"));
        assert!(!m.errors.iter().any(|e| e.fact == "lastLogin"));
        let gone = entity(&m, "gus@acme.example");
        assert_eq!(gone.attrs["status"], "DEPROVISIONED");
        assert_eq!(gone.attrs["adminRoles"], serde_json::json!(["SUPER_ADMIN"]));
        assert!(!gone.attrs.contains_key("activeFactorTypes"));
        assert_eq!(
            entity(&m, "ada@acme.example").parents[0].id,
            "acme.okta.com"
        );
    }

    #[test]
    fn unread_facts_are_uncollected_never_defaulted() {
        let mut r = raw();
        r.factors.insert(
            "00u1admin".into(),
            Err(ReadFailure::new(
                "GET /api/v1/users/00u1admin/factors: 403 E0000006: no",
            )),
        );
        r.factors.remove("00u2staff");
        let m = map_org(&r);
        assert!(!entity(&m, "ada@acme.example")
            .attrs
            .contains_key("activeFactorTypes"));
        let facts: Vec<(&str, &str)> = m
            .errors
            .iter()
            .map(|e| (e.entity.id.as_str(), e.fact.as_str()))
            .collect();
        assert!(facts.contains(&("acme.okta.com/ada@acme.example", "activeFactorTypes")));
        assert!(facts.contains(&("acme.okta.com/sam@acme.example", "activeFactorTypes")));

        r.roles = Err(ReadFailure::new(
            "GET /api/v1/iam/assignees/users: 403 E0000006: no",
        ));
        r.users = Err(ReadFailure::new(
            "GET /api/v1/users: 401 E0000011: Invalid token provided",
        ));
        let m = map_org(&r);
        assert_eq!(m.entities.len(), 1);
        assert_eq!(m.errors[0].entity.id, "acme.okta.com/*");
    }

    #[test]
    fn policies_without_settings_or_id_and_rules_not_read_are_uncollected() {
        let mut r = raw();
        let policies: Vec<crate::raw::Policy> = serde_json::from_str(
            r#"[{"id": "00p1", "status": "ACTIVE", "name": "P", "priority": 1, "system": false},
                {"status": "ACTIVE", "name": "no id"}]"#,
        )
        .unwrap();
        r.enrollment = Ok(policies.clone());
        r.sign_on = Ok(vec![(
            policies[0].clone(),
            Err(ReadFailure::new("GET /api/v1/policies/{id}/rules: 403").with_status(403)),
        )]);
        let m = map_org(&r);
        let facts: Vec<(&str, &str, &str)> = m
            .errors
            .iter()
            .map(|e| {
                (
                    e.entity.type_name.as_str(),
                    e.entity.id.as_str(),
                    e.fact.as_str(),
                )
            })
            .collect();
        assert!(facts.contains(&(
            ENROLLMENT_POLICY,
            "acme.okta.com/00p1",
            "requiredAuthenticators"
        )));
        assert!(facts.contains(&(ENROLLMENT_POLICY, "acme.okta.com/*", "*")));
        assert!(facts.contains(&(SIGN_ON_RULE, "acme.okta.com/00p1/*", "*")));
        // No group condition is a fact: applies to no group in particular, not unknown.
        let policy = m
            .entities
            .iter()
            .find(|e| e.uid.type_name == SIGN_ON_POLICY)
            .unwrap();
        assert_eq!(policy.attrs["includedGroupIds"], serde_json::json!([]));
    }
}
