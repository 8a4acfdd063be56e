//! The pure mapping from raw Directory API data ([`RawDirectory`]) to `Google::` entities and
//! uncollected facts.
//!
//! A field the API did not return is left absent and gets an [`UncollectedFact`] saying which
//! call left it out, so rules reading it report `error`. No verdicts here: the super admin count
//! and the roles each user holds are facts; whether they are too many is for the rules.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use trustcheck_snapshot::{Entity, Uid, UncollectedFact};

use crate::fetch::DIRECTORY;
use crate::raw::{RawDirectory, User};

/// Entity type of the customer (the Workspace account).
pub const CUSTOMER: &str = "Google::Customer";
/// Entity type of a user.
pub const USER: &str = "Google::User";

/// Entities and uncollected facts of one customer, sorted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapped {
    /// The customer's primary domain: the source's scope and the customer entity's id.
    pub domain: String,
    /// Entities, sorted by uid.
    pub entities: Vec<Entity>,
    /// Facts that could not be read, sorted.
    pub errors: Vec<UncollectedFact>,
}

/// Maps one customer. `fallback_domain` names the customer when the customer itself could not
/// be read (the impersonated administrator's domain).
pub fn map_directory(raw: &RawDirectory, fallback_domain: &str) -> Mapped {
    let customer_path = format!("GET {DIRECTORY}/customers/my_customer");
    let users_path = format!("GET {DIRECTORY}/users");
    let mut errors = Vec::new();
    let domain = raw
        .customer
        .as_ref()
        .ok()
        .and_then(|c| c.customer_domain.clone())
        .unwrap_or_else(|| fallback_domain.to_string());
    let customer_uid = Uid::new(CUSTOMER, &domain);

    let mut customer = Map::new();
    customer.insert("domain".into(), Value::from(domain.clone()));
    match &raw.customer {
        Ok(c) => {
            let mut put = |name: &str, field: &str, value: Option<Value>| match value {
                Some(v) => {
                    customer.insert(name.into(), v);
                }
                None => errors.push(missing(&customer_uid, name, &customer_path, field)),
            };
            put("customerId", "id", c.id.clone().map(Value::from));
            put(
                "creationTime",
                "customerCreationTime",
                c.customer_creation_time.as_deref().and_then(time_value),
            );
        }
        Err(u) => {
            for fact in ["customerId", "creationTime"] {
                errors.push(UncollectedFact::new(customer_uid.clone(), fact, &u.reason));
            }
        }
    }

    // Roles held per user id, from direct user assignments; `Err` when roles or assignments
    // could not be read.
    let held = roles_held(raw);
    let mut entities = Vec::new();
    match &raw.users {
        Ok(users) => {
            let mut seen = BTreeSet::new();
            for user in users {
                let Some(email) = user.primary_email.as_deref() else {
                    // Without its email a user has no name to be judged under; say so on the
                    // type, so that every user rule reports the gap.
                    let id = user.id.as_deref().unwrap_or("(no id)");
                    errors.push(UncollectedFact::new(
                        Uid::new(USER, format!("{domain}/id:{id}")),
                        "*",
                        format!("{users_path}: user `{id}` has no `primaryEmail`"),
                    ));
                    continue;
                };
                if !seen.insert(email.to_string()) {
                    continue; // a page boundary moved while listing
                }
                let (entity, mut user_errors) =
                    map_user(user, email, &customer_uid, &held, &users_path);
                entities.push(entity);
                errors.append(&mut user_errors);
            }
            match &held {
                Ok(held) => {
                    let super_admins = users
                        .iter()
                        .filter_map(|u| u.id.as_deref())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .filter(|id| held.get(*id).is_some_and(|r| r.super_admin))
                        .count();
                    customer.insert("superAdminCount".into(), Value::from(super_admins));
                }
                Err(reason) => errors.push(UncollectedFact::new(
                    customer_uid.clone(),
                    "superAdminCount",
                    reason.as_str(),
                )),
            }
        }
        Err(u) => {
            // Users we never saw must not look compliant.
            errors.push(UncollectedFact::new(
                Uid::new(USER, format!("{domain}/*")),
                "*",
                &u.reason,
            ));
            errors.push(UncollectedFact::new(
                customer_uid.clone(),
                "superAdminCount",
                &u.reason,
            ));
        }
    }
    entities.push(Entity {
        uid: customer_uid,
        attrs: customer,
        parents: Vec::new(),
    });
    entities.sort_by(|a, b| a.uid.cmp(&b.uid));
    errors.sort();
    errors.dedup();
    Mapped {
        domain,
        entities,
        errors,
    }
}

/// What one user holds through direct role assignments.
#[derive(Debug, Default)]
struct Held {
    names: BTreeSet<String>,
    super_admin: bool,
}

fn roles_held(raw: &RawDirectory) -> Result<BTreeMap<String, Held>, String> {
    let roles = raw.roles.as_ref().map_err(|u| u.reason.clone())?;
    let assignments = raw.assignments.as_ref().map_err(|u| u.reason.clone())?;
    let by_id: BTreeMap<&str, _> = roles
        .iter()
        .filter_map(|r| r.role_id.as_deref().map(|id| (id, r)))
        .collect();
    let mut held: BTreeMap<String, Held> = BTreeMap::new();
    for a in assignments {
        let is_user = a
            .assignee_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("user"));
        let (Some(role_id), Some(user_id), true) =
            (a.role_id.as_deref(), a.assigned_to.as_deref(), is_user)
        else {
            continue;
        };
        let entry = held.entry(user_id.to_string()).or_default();
        match by_id.get(role_id) {
            Some(role) => {
                entry.names.insert(
                    role.role_name
                        .clone()
                        .unwrap_or_else(|| format!("role:{role_id}")),
                );
                entry.super_admin |= role.is_super_admin_role == Some(true);
            }
            // An assignment of a role the list did not show: still a role held.
            None => {
                entry.names.insert(format!("role:{role_id}"));
            }
        }
    }
    Ok(held)
}

fn map_user(
    user: &User,
    email: &str,
    customer: &Uid,
    held: &Result<BTreeMap<String, Held>, String>,
    users_path: &str,
) -> (Entity, Vec<UncollectedFact>) {
    let uid = Uid::new(USER, email);
    let mut attrs = Map::new();
    let mut errors = Vec::new();
    attrs.insert("primaryEmail".into(), Value::from(email));
    attrs.insert(
        "customer".into(),
        serde_json::json!({"type": customer.type_name, "id": customer.id}),
    );
    let mut put = |name: &str, field: &str, value: Option<Value>| match value {
        Some(v) => {
            attrs.insert(name.into(), v);
        }
        None => errors.push(missing(&uid, name, users_path, field)),
    };
    put("isAdmin", "isAdmin", user.is_admin.map(Value::from));
    put(
        "isDelegatedAdmin",
        "isDelegatedAdmin",
        user.is_delegated_admin.map(Value::from),
    );
    put(
        "isEnrolledIn2Sv",
        "isEnrolledIn2Sv",
        user.is_enrolled_in_2sv.map(Value::from),
    );
    put(
        "isEnforcedIn2Sv",
        "isEnforcedIn2Sv",
        user.is_enforced_in_2sv.map(Value::from),
    );
    put("suspended", "suspended", user.suspended.map(Value::from));
    put("archived", "archived", user.archived.map(Value::from));
    put(
        "creationTime",
        "creationTime",
        user.creation_time.as_deref().and_then(time_value),
    );
    put(
        "lastLoginTime",
        "lastLoginTime",
        user.last_login_time.as_deref().and_then(time_value),
    );
    put(
        "orgUnitPath",
        "orgUnitPath",
        user.org_unit_path.clone().map(Value::from),
    );
    match (held, user.id.as_deref()) {
        (Ok(held), Some(id)) => {
            let names: Vec<Value> = held
                .get(id)
                .map(|h| h.names.iter().cloned().map(Value::from).collect())
                .unwrap_or_default();
            attrs.insert("adminRoles".into(), Value::Array(names));
        }
        (Ok(_), None) => errors.push(missing(&uid, "adminRoles", users_path, "id")),
        (Err(reason), _) => errors.push(UncollectedFact::new(uid.clone(), "adminRoles", reason)),
    }
    (
        Entity {
            uid,
            attrs,
            parents: vec![customer.clone()],
        },
        errors,
    )
}

fn missing(uid: &Uid, fact: &str, call: &str, field: &str) -> UncollectedFact {
    UncollectedFact::new(
        uid.clone(),
        fact,
        format!("{call}: `{field}` missing or not a valid value"),
    )
}

/// An RFC 3339 UTC time as the snapshot writes it (Google answers `…T10:00:00.000Z`).
fn time_value(text: &str) -> Option<Value> {
    trustcheck_snapshot::utc::normalize_utc(text).map(Value::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::{Customer, ReadFailure, Role, RoleAssignment};

    fn users() -> Vec<User> {
        serde_json::from_str(include_str!("../fixtures/users_page.json"))
            .map(|p: crate::raw::UsersPage| p.users)
            .unwrap()
    }

    fn raw() -> RawDirectory {
        RawDirectory {
            customer: Ok(Customer {
                id: Some("C01abc2de".into()),
                customer_domain: Some("acme.example".into()),
                customer_creation_time: Some("2019-03-01T10:00:00.000Z".into()),
            }),
            users: Ok(users()),
            roles: Ok(vec![
                Role {
                    role_id: Some("1".into()),
                    role_name: Some("_SEED_ADMIN_ROLE".into()),
                    is_super_admin_role: Some(true),
                },
                Role {
                    role_id: Some("2".into()),
                    role_name: Some("_HELP_DESK_ADMIN_ROLE".into()),
                    is_super_admin_role: Some(false),
                },
            ]),
            assignments: Ok(vec![
                RoleAssignment {
                    role_id: Some("1".into()),
                    assigned_to: Some("100".into()),
                    assignee_type: Some("user".into()),
                },
                RoleAssignment {
                    role_id: Some("2".into()),
                    assigned_to: Some("101".into()),
                    assignee_type: None,
                },
                RoleAssignment {
                    role_id: Some("1".into()),
                    assigned_to: Some("900".into()),
                    assignee_type: Some("GROUP".into()),
                },
            ]),
        }
    }

    fn entity<'a>(m: &'a Mapped, id: &str) -> &'a Entity {
        m.entities.iter().find(|e| e.uid.id == id).unwrap()
    }

    #[test]
    fn users_map_their_facts_and_roles_as_reported() {
        let m = map_directory(&raw(), "fallback.example");
        assert_eq!(m.domain, "acme.example");
        let admin = entity(&m, "ada@acme.example");
        assert_eq!(admin.attrs["isEnrolledIn2Sv"], true);
        assert_eq!(admin.attrs["lastLoginTime"], "2026-11-20T08:15:00Z");
        assert_eq!(
            admin.attrs["adminRoles"],
            serde_json::json!(["_SEED_ADMIN_ROLE"])
        );
        assert_eq!(admin.parents, vec![Uid::new(CUSTOMER, "acme.example")]);
        let never = entity(&m, "new@acme.example");
        // Google's "never signed in" is kept as reported: the rule knows what it means.
        assert_eq!(never.attrs["lastLoginTime"], "1970-01-01T00:00:00Z");
        let customer = entity(&m, "acme.example");
        assert_eq!(customer.attrs["superAdminCount"], 1);
        assert!(!customer.attrs.contains_key("maxSuperAdmins"));
        assert_eq!(customer.attrs["customerId"], "C01abc2de");
    }

    #[test]
    fn missing_fields_are_uncollected_never_defaulted() {
        let m = map_directory(&raw(), "fallback.example");
        let sparse = entity(&m, "sparse@acme.example");
        assert!(!sparse.attrs.contains_key("isEnrolledIn2Sv"));
        assert!(m.errors.iter().any(|e| e.entity.id == "sparse@acme.example"
            && e.fact == "isEnrolledIn2Sv"
            && e.reason.contains("`isEnrolledIn2Sv` missing")));
    }

    #[test]
    fn unreadable_lists_are_errors_on_what_they_would_have_given() {
        let mut r = raw();
        r.users = Err(ReadFailure::new(
            "GET /admin/directory/v1/users: 403 forbidden: no",
        ));
        r.assignments = Err(ReadFailure::new("GET …/roleassignments: 403 forbidden: no"));
        r.customer = Err(ReadFailure::new("GET …/customers/my_customer: 403"));
        let m = map_directory(&r, "fallback.example");
        assert_eq!(m.domain, "fallback.example");
        assert_eq!(m.entities.len(), 1);
        assert!(m
            .errors
            .iter()
            .any(|e| e.entity.id == "fallback.example/*" && e.fact == "*"));
        assert!(m.errors.iter().any(|e| e.fact == "superAdminCount"));
        let mut r = raw();
        r.assignments = Err(ReadFailure::new("GET …/roleassignments: 403 forbidden: no"));
        let m = map_directory(&r, "fallback.example");
        assert!(m
            .errors
            .iter()
            .any(|e| e.entity.id == "ada@acme.example" && e.fact == "adminRoles"));
        assert!(!entity(&m, "acme.example")
            .attrs
            .contains_key("superAdminCount"));
    }
}
