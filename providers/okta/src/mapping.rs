//! The pure mapping from raw Okta data ([`RawOrg`]) to `Okta::` entities and uncollected facts.
//!
//! A field Okta did not return is left absent and gets an [`UncollectedFact`] saying which call
//! left it out, so rules reading it report `error`. No verdicts here: which factors count as
//! MFA, or as phishing-resistant, is for the rules.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use trustcheck_snapshot::{Entity, Uid, UncollectedFact};

use crate::fetch::SIGN_IN_STATUSES;
use crate::raw::{RawOrg, User};

/// Entity type of the org.
pub const ORG: &str = "Okta::Org";
/// Entity type of a user.
pub const USER: &str = "Okta::User";

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
}
