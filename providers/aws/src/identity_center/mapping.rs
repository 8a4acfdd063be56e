//! The pure half of Identity Center collection: raw `sso-admin` and `identitystore` data →
//! `Aws::PermissionSet`, `Aws::AccountAssignment`, `Aws::IdentityCenterUser` and
//! `Aws::IdentityCenterGroup` entities, and the facts that could not be read.
//!
//! Ids live under the reading account's root ARN (`arn:aws:iam::<account>:root/identity-center/
//! <instance id>/…`), as AWS-managed policies' do: a permission set's ARN names no account, and
//! the report files each entity under the account whose source holds it. No I/O and no clock
//! here; a fact that cannot be established (a denied call, a customer-managed policy of an account
//! not collected in the same run) is recorded as unknown, never guessed. Customer-managed
//! policies are judged through a [`Resolve`] the caller builds from the accounts it collected.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use trustcheck_snapshot::Uid;

use super::{RawIdentityCenter, RawInstance, RawPermissionSet};
use crate::mapping::{types, Mapped};
use crate::policy_document;

/// The AWS-managed policies that allow every action on every resource (their documents are the
/// same in every account, so they are known without being read).
const FULL_ADMIN_MANAGED_POLICIES: [&str; 1] = ["AdministratorAccess"];

/// Whether a customer-managed policy (`/path/name`) of an account grants full administration,
/// from that account's collection; `None` when the account was not read in this run.
pub type Resolve<'a> = &'a dyn Fn(&str, &str) -> Option<Result<bool, String>>;

/// Turns what was read from Identity Center into entities, sorted, with the unknown facts;
/// customer-managed policies are left unknown.
pub fn map(raw: &RawIdentityCenter) -> Mapped {
    map_with(raw, &|_, _| None)
}

/// [`map`], judging customer-managed policies with `resolve` in each account a permission set
/// is provisioned to.
pub fn map_with(raw: &RawIdentityCenter, resolve: Resolve<'_>) -> Mapped {
    let account = Uid::new(
        types::ACCOUNT,
        format!("arn:{}:iam::{}:root", raw.partition, raw.account_id),
    );
    let mut m = IdcMapper {
        prefix: format!("{}/identity-center/", account.id),
        account,
        partition: &raw.partition,
        resolve,
        out: Mapped::default(),
    };
    match &raw.instances {
        Ok(instances) if instances.is_empty() => m.unlisted_all(&format!(
            "ListInstances: no IAM Identity Center instance is visible to account `{}` in region `{}`",
            raw.account_id, raw.region
        )),
        Ok(instances) => {
            for instance in instances {
                m.instance(instance);
            }
        }
        Err(e) => m.unlisted_all(&e.to_string()),
    }
    let mut out = m.out;
    out.entities.sort_by(|a, b| a.uid.cmp(&b.uid));
    out.errors.sort();
    out.errors.dedup();
    out
}

/// The last segment of an ARN's resource path: `ssoins-…` of an instance, `ps-…` of a
/// permission set.
fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// An ISO 8601 duration of hours, minutes and seconds (`PT1H`, `PT1H30M`, what Identity Center
/// returns) as a Cedar duration (`1h`, `1h30m`).
pub fn cedar_duration(iso: &str) -> Result<String, String> {
    let bad = || format!("session duration `{iso}` is not an ISO 8601 duration like `PT1H`");
    let rest = iso.strip_prefix("PT").ok_or_else(bad)?;
    let mut out = String::new();
    let mut digits = String::new();
    let mut last_unit = 0;
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let order = match c {
            'H' => 1,
            'M' => 2,
            'S' => 3,
            _ => return Err(bad()),
        };
        if digits.is_empty() || order <= last_unit {
            return Err(bad());
        }
        last_unit = order;
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        if n > 0 {
            out.push_str(&format!("{n}{}", c.to_ascii_lowercase()));
        }
    }
    if !digits.is_empty() || last_unit == 0 {
        return Err(bad());
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    Ok(out)
}

/// Whether a permission set allows every action on every resource, wherever it is provisioned:
/// `AdministratorAccess` attached, or an inline policy statement that does; customer-managed
/// policies are not judged (see [`grants_full_admin_in`]). `Err` says why it cannot be told.
/// Permissions boundaries are not read: they can only narrow, so `true` may overstate.
pub fn grants_full_admin(ps: &RawPermissionSet, partition: &str) -> Result<bool, String> {
    grants_full_admin_in(ps, partition, None, &|_, _| None)
}

/// [`grants_full_admin`] in `account`, its customer-managed policies judged by `resolve` there.
pub fn grants_full_admin_in(
    ps: &RawPermissionSet,
    partition: &str,
    account: Option<&str>,
    resolve: Resolve<'_>,
) -> Result<bool, String> {
    let mut unknown = Vec::new();
    match &ps.managed_policies {
        Ok(arns)
            if arns.iter().any(|a| {
                FULL_ADMIN_MANAGED_POLICIES
                    .iter()
                    .any(|name| *a == format!("arn:{partition}:iam::aws:policy/{name}"))
            }) =>
        {
            return Ok(true)
        }
        Ok(_) => {}
        Err(e) => unknown.push(e.to_string()),
    }
    match &ps.inline_policy {
        Ok(Some(document)) => {
            let decoded = policy_document::decode(&Value::String(document.clone()));
            match decoded.and_then(|d| policy_document::allows_full_admin(&d)) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(e) => unknown.push(format!("GetInlinePolicyForPermissionSet: {e}")),
            }
        }
        Ok(None) => {}
        Err(e) => unknown.push(e.to_string()),
    }
    match &ps.customer_managed_policies {
        Ok(names) => {
            let mut unresolved = Vec::new();
            for name in names {
                match account.and_then(|a| Some((a, resolve(a, name)?))) {
                    Some((_, Ok(true))) => return Ok(true),
                    Some((_, Ok(false))) => {}
                    Some((a, Err(e))) => unknown.push(format!(
                        "customer-managed policy `{name}` in account `{a}`: {e}"
                    )),
                    None => unresolved.push(format!("`{name}`")),
                }
            }
            if !unresolved.is_empty() {
                unknown.push(match account {
                    None => format!(
                        "customer-managed policies {} are defined in each account the permission set is provisioned to; their documents are not read",
                        unresolved.join(", ")
                    ),
                    Some(a) => format!(
                        "customer-managed policies {} are defined in account `{a}`, which was not collected in this run",
                        unresolved.join(", ")
                    ),
                });
            }
        }
        Err(e) => unknown.push(e.to_string()),
    }
    if unknown.is_empty() {
        Ok(false)
    } else {
        Err(unknown.join("; "))
    }
}

/// A permission set's `grantsFullAdmin`: known from its AWS-managed and inline policies, else
/// from its customer-managed policies in every account it is provisioned to (true when it is in
/// one, false only when it is in none).
fn permission_set_full_admin(
    ps: &RawPermissionSet,
    partition: &str,
    resolve: Resolve<'_>,
) -> Result<bool, String> {
    let anywhere = grants_full_admin(ps, partition);
    let has_references = ps
        .customer_managed_policies
        .as_ref()
        .is_ok_and(|names| !names.is_empty());
    match (&anywhere, &ps.accounts) {
        (Err(_), Ok(accounts)) if has_references && !accounts.is_empty() => {
            let mut first_unknown = None;
            for a in accounts {
                match grants_full_admin_in(ps, partition, Some(&a.account_id), resolve) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(e) => {
                        first_unknown.get_or_insert(e);
                    }
                }
            }
            first_unknown.map_or(Ok(false), Err)
        }
        _ => anywhere,
    }
}

/// The state of one mapping.
struct IdcMapper<'a> {
    /// The reading account's entity, parent of every entity here.
    account: Uid,
    /// `<account root ARN>/identity-center/`.
    prefix: String,
    partition: &'a str,
    resolve: Resolve<'a>,
    out: Mapped,
}

impl IdcMapper<'_> {
    /// A listing that failed: a uid not among the entities, so every rule on the type reports
    /// `error` instead of passing over an empty list.
    fn unlisted(&mut self, type_name: &str, id: String, reason: &str) {
        self.out.unknown(&Uid::new(type_name, id), "*", reason);
    }

    fn unlisted_all(&mut self, reason: &str) {
        let p = self.prefix.clone();
        self.unlisted(
            types::PERMISSION_SET,
            format!("{p}*/permission-set/*"),
            reason,
        );
        self.unlisted(
            types::ACCOUNT_ASSIGNMENT,
            format!("{p}*/assignment/*"),
            reason,
        );
        self.unlisted(types::IDC_USER, format!("{p}*/user/*"), reason);
        self.unlisted(types::IDC_GROUP, format!("{p}*/group/*"), reason);
    }

    fn instance(&mut self, instance: &RawInstance) {
        let prefix = format!("{}{}/", self.prefix, last_segment(&instance.instance_arn));
        let names = self.identities(instance, &prefix);
        match &instance.permission_sets {
            Ok(sets) => {
                for ps in sets {
                    self.permission_set(ps, instance, &prefix, &names);
                }
            }
            Err(e) => {
                let reason = e.to_string();
                self.unlisted(
                    types::PERMISSION_SET,
                    format!("{prefix}permission-set/*"),
                    &reason,
                );
                self.unlisted(
                    types::ACCOUNT_ASSIGNMENT,
                    format!("{prefix}assignment/*"),
                    &reason,
                );
            }
        }
    }

    /// Users and groups; returns the name of each principal id (user name, group display name).
    fn identities(&mut self, instance: &RawInstance, prefix: &str) -> BTreeMap<String, String> {
        let mut names = BTreeMap::new();
        // user id → (group uids, group names); a group whose members could not be listed
        // leaves every user's groups unknown.
        let mut member_of: BTreeMap<&str, (Vec<Uid>, BTreeSet<String>)> = BTreeMap::new();
        let mut unread_members = Vec::new();
        match &instance.groups {
            Ok(groups) => {
                for g in groups {
                    let uid = Uid::new(types::IDC_GROUP, format!("{prefix}group/{}", g.group_id));
                    let mut attrs = Map::new();
                    attrs.insert("groupId".into(), json!(g.group_id));
                    if let Some(name) = &g.display_name {
                        attrs.insert("displayName".into(), json!(name));
                        names.insert(g.group_id.clone(), name.clone());
                    }
                    match &g.members {
                        Ok(members) => {
                            attrs.insert("memberCount".into(), json!(members.len()));
                            for user in members {
                                let entry = member_of.entry(user.as_str()).or_default();
                                entry.0.push(uid.clone());
                                entry
                                    .1
                                    .insert(g.display_name.clone().unwrap_or(g.group_id.clone()));
                            }
                        }
                        Err(e) => {
                            self.out.unknown(&uid, "memberCount", e.to_string());
                            unread_members.push(format!(
                                "members of group `{}`: {e}",
                                g.display_name.as_deref().unwrap_or(&g.group_id)
                            ));
                        }
                    }
                    self.out.push(uid, attrs, vec![self.account.clone()]);
                }
            }
            Err(e) => {
                let reason = e.to_string();
                self.unlisted(types::IDC_GROUP, format!("{prefix}group/*"), &reason);
                unread_members.push(reason);
            }
        }
        match &instance.users {
            Ok(users) => {
                for u in users {
                    let uid = Uid::new(types::IDC_USER, format!("{prefix}user/{}", u.user_id));
                    let mut attrs = Map::new();
                    attrs.insert("userId".into(), json!(u.user_id));
                    if let Some(name) = &u.user_name {
                        attrs.insert("userName".into(), json!(name));
                        names.insert(u.user_id.clone(), name.clone());
                    }
                    if let Some(name) = &u.display_name {
                        attrs.insert("displayName".into(), json!(name));
                    }
                    let (groups, group_names) =
                        member_of.remove(u.user_id.as_str()).unwrap_or_default();
                    if unread_members.is_empty() {
                        attrs.insert("groupNames".into(), json!(group_names));
                    } else {
                        self.out
                            .unknown(&uid, "groupNames", unread_members.join("; "));
                    }
                    let mut parents = vec![self.account.clone()];
                    parents.extend(groups);
                    self.out.push(uid, attrs, parents);
                }
            }
            Err(e) => self.unlisted(types::IDC_USER, format!("{prefix}user/*"), &e.to_string()),
        }
        names
    }

    fn permission_set(
        &mut self,
        ps: &RawPermissionSet,
        instance: &RawInstance,
        prefix: &str,
        names: &BTreeMap<String, String>,
    ) {
        let ps_id = last_segment(&ps.arn);
        let ps_uid = Uid::new(
            types::PERMISSION_SET,
            format!("{prefix}permission-set/{ps_id}"),
        );
        let uid = ps_uid.clone();
        let admin = permission_set_full_admin(ps, self.partition, self.resolve);
        let mut attrs = Map::new();
        attrs.insert("arn".into(), json!(ps.arn));
        match &ps.description {
            Ok(d) => {
                attrs.insert("name".into(), json!(d.name));
                if let Some(text) = &d.description {
                    attrs.insert("description".into(), json!(text));
                }
                match d.session_duration.as_deref().map(cedar_duration) {
                    Some(Ok(duration)) => {
                        attrs.insert("sessionDuration".into(), json!(duration));
                    }
                    Some(Err(e)) => self.out.unknown(&uid, "sessionDuration", e),
                    None => self.out.unknown(
                        &uid,
                        "sessionDuration",
                        "DescribePermissionSet: the permission set has no SessionDuration",
                    ),
                }
            }
            // Without its name the permission set is not described in part.
            Err(e) => self.out.unknown(&uid, "*", e.to_string()),
        }
        match &ps.managed_policies {
            Ok(arns) => {
                attrs.insert("managedPolicyArns".into(), json!(sorted(arns)));
            }
            Err(e) => self.out.unknown(&uid, "managedPolicyArns", e.to_string()),
        }
        match &ps.customer_managed_policies {
            Ok(refs) => {
                attrs.insert("customerManagedPolicies".into(), json!(sorted(refs)));
            }
            Err(e) => self
                .out
                .unknown(&uid, "customerManagedPolicies", e.to_string()),
        }
        match &ps.inline_policy {
            Ok(p) => {
                attrs.insert("hasInlinePolicy".into(), json!(p.is_some()));
            }
            Err(e) => self.out.unknown(&uid, "hasInlinePolicy", e.to_string()),
        }
        match &admin {
            Ok(b) => {
                attrs.insert("grantsFullAdmin".into(), json!(b));
            }
            Err(e) => self.out.unknown(&uid, "grantsFullAdmin", e.clone()),
        }
        let name = ps.description.as_ref().ok().map(|d| d.name.clone());
        match &ps.accounts {
            Ok(accounts) => {
                attrs.insert(
                    "provisionedAccounts".into(),
                    json!(accounts
                        .iter()
                        .map(|a| a.account_id.as_str())
                        .collect::<BTreeSet<_>>()),
                );
                for account in accounts {
                    let base = format!("{prefix}assignment/{}/{ps_id}/", account.account_id);
                    match &account.assignments {
                        Ok(list) => {
                            for a in list {
                                let kind = a.principal_type.to_ascii_lowercase();
                                let uid = Uid::new(
                                    types::ACCOUNT_ASSIGNMENT,
                                    format!("{base}{kind}/{}", a.principal_id),
                                );
                                let mut attrs = Map::new();
                                attrs.insert("accountId".into(), json!(account.account_id));
                                attrs.insert("permissionSetArn".into(), json!(ps.arn));
                                if let Some(n) = &name {
                                    attrs.insert("permissionSetName".into(), json!(n));
                                }
                                attrs.insert("principalType".into(), json!(a.principal_type));
                                attrs.insert("principalId".into(), json!(a.principal_id));
                                if let Some(n) = names.get(&a.principal_id) {
                                    attrs.insert("principalName".into(), json!(n));
                                }
                                match &instance.owner_account_id {
                                    Some(owner) => {
                                        attrs.insert(
                                            "inInstanceOwnerAccount".into(),
                                            json!(*owner == account.account_id),
                                        );
                                    }
                                    None => self.out.unknown(
                                        &uid,
                                        "inInstanceOwnerAccount",
                                        "ListInstances: the instance has no OwnerAccountId",
                                    ),
                                }
                                match grants_full_admin_in(
                                    ps,
                                    self.partition,
                                    Some(&account.account_id),
                                    self.resolve,
                                ) {
                                    Ok(b) => {
                                        attrs.insert(
                                            "permissionSetGrantsFullAdmin".into(),
                                            json!(b),
                                        );
                                    }
                                    Err(e) => {
                                        self.out.unknown(&uid, "permissionSetGrantsFullAdmin", e)
                                    }
                                }
                                let mut parents = vec![self.account.clone()];
                                // A permission set that could not be described is not an
                                // entity, so it cannot be a parent.
                                if ps.description.is_ok() {
                                    parents.push(ps_uid.clone());
                                }
                                self.out.push(uid, attrs, parents);
                            }
                        }
                        Err(e) => self.unlisted(
                            types::ACCOUNT_ASSIGNMENT,
                            format!("{base}*"),
                            &e.to_string(),
                        ),
                    }
                }
            }
            Err(e) => {
                self.out.unknown(&uid, "provisionedAccounts", e.to_string());
                self.unlisted(
                    types::ACCOUNT_ASSIGNMENT,
                    format!("{prefix}assignment/*/{ps_id}/*"),
                    &e.to_string(),
                );
            }
        }
        if ps.description.is_ok() {
            self.out.push(uid, attrs, vec![self.account.clone()]);
        }
    }
}

/// Sorted and without duplicates, so that attribute sets do not depend on API order.
fn sorted(items: &[String]) -> Vec<&str> {
    items
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity_center::{
        PermissionSetDescription, RawAccountAssignments, RawAssignment, RawGroup, RawUser,
    };
    use crate::raw::ReadFailure;

    const ROOT: &str = "arn:aws:iam::111122223333:root";
    const PREFIX: &str = "arn:aws:iam::111122223333:root/identity-center/ssoins-abc/";
    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

    fn denied(op: &str) -> ReadFailure {
        ReadFailure::new(op, "AccessDeniedException: not authorized")
    }

    fn permission_set(id: &str, name: &str, managed: &[&str]) -> RawPermissionSet {
        RawPermissionSet {
            arn: format!("arn:aws:sso:::permissionSet/ssoins-abc/{id}"),
            description: Ok(PermissionSetDescription {
                name: name.into(),
                description: None,
                session_duration: Some("PT1H".into()),
            }),
            managed_policies: Ok(managed.iter().map(|s| s.to_string()).collect()),
            customer_managed_policies: Ok(Vec::new()),
            inline_policy: Ok(None),
            accounts: Ok(vec![RawAccountAssignments {
                account_id: "444455556666".into(),
                assignments: Ok(vec![RawAssignment {
                    principal_type: "USER".into(),
                    principal_id: "u-1".into(),
                }]),
            }]),
        }
    }

    fn center(instance: RawInstance) -> RawIdentityCenter {
        RawIdentityCenter {
            account_id: "111122223333".into(),
            partition: "aws".into(),
            region: "eu-west-1".into(),
            instances: Ok(vec![instance]),
        }
    }

    fn instance(permission_sets: Vec<RawPermissionSet>) -> RawInstance {
        RawInstance {
            instance_arn: "arn:aws:sso:::instance/ssoins-abc".into(),
            identity_store_id: "d-123".into(),
            owner_account_id: Some("111122223333".into()),
            permission_sets: Ok(permission_sets),
            users: Ok(vec![RawUser {
                user_id: "u-1".into(),
                user_name: Some("alice".into()),
                display_name: Some("Alice".into()),
            }]),
            groups: Ok(vec![RawGroup {
                group_id: "g-1".into(),
                display_name: Some("admins".into()),
                members: Ok(vec!["u-1".into()]),
            }]),
        }
    }

    fn attrs<'a>(m: &'a Mapped, type_name: &str, id: &str) -> &'a Map<String, Value> {
        &m.entities
            .iter()
            .find(|e| e.uid.type_name == type_name && e.uid.id == id)
            .unwrap_or_else(|| panic!("no {type_name} {id} in {:?}", m.entities))
            .attrs
    }

    fn errors_of<'a>(m: &'a Mapped, id: &str) -> Vec<(&'a str, &'a str)> {
        m.errors
            .iter()
            .filter(|e| e.entity.id == id)
            .map(|e| (e.fact.as_str(), e.reason.as_str()))
            .collect()
    }

    #[test]
    fn session_durations_become_cedar_durations() {
        assert_eq!(cedar_duration("PT1H").unwrap(), "1h");
        assert_eq!(cedar_duration("PT12H").unwrap(), "12h");
        assert_eq!(cedar_duration("PT1H30M").unwrap(), "1h30m");
        assert_eq!(cedar_duration("PT90M").unwrap(), "90m");
        assert_eq!(cedar_duration("PT0H").unwrap(), "0s");
        for bad in ["1h", "P1D", "PT", "PTH", "PT1M1H", "PT1.5H", "PT1", "PT1X"] {
            assert!(cedar_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn administrator_access_or_an_admin_inline_policy_grants_full_admin() {
        let admin = permission_set("ps-1", "Admin", &[ADMIN]);
        assert_eq!(grants_full_admin(&admin, "aws"), Ok(true));
        // The same name in another partition's ARN is the partition's own policy.
        assert_eq!(grants_full_admin(&admin, "aws-us-gov"), Ok(false));
        let mut inline = permission_set("ps-2", "Inline", &[]);
        inline.inline_policy = Ok(Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
                .into(),
        ));
        assert_eq!(grants_full_admin(&inline, "aws"), Ok(true));
        let read_only = permission_set(
            "ps-3",
            "ReadOnly",
            &["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        );
        assert_eq!(grants_full_admin(&read_only, "aws"), Ok(false));
    }

    #[test]
    fn unread_policies_leave_full_admin_unknown_unless_another_grants_it() {
        let mut ps = permission_set("ps-1", "Platform", &[]);
        ps.customer_managed_policies = Ok(vec!["/platform-admin".into()]);
        let reason = grants_full_admin(&ps, "aws").unwrap_err();
        assert!(reason.contains("`/platform-admin`"), "{reason}");
        ps.inline_policy = Err(denied("GetInlinePolicyForPermissionSet"));
        let reason = grants_full_admin(&ps, "aws").unwrap_err();
        assert!(
            reason.contains("GetInlinePolicyForPermissionSet"),
            "{reason}"
        );
        // AdministratorAccess settles it whatever else is unknown.
        ps.managed_policies = Ok(vec![ADMIN.into()]);
        assert_eq!(grants_full_admin(&ps, "aws"), Ok(true));
    }

    #[test]
    fn customer_managed_policies_are_judged_in_each_account() {
        let mut ps = permission_set("ps-1", "Platform", &[]);
        ps.customer_managed_policies = Ok(vec!["/platform-admin".into()]);
        let accounts = ["444455556666", "777788889999", "000011112222"];
        ps.accounts = Ok(accounts
            .iter()
            .map(|a| RawAccountAssignments {
                account_id: a.to_string(),
                assignments: Ok(vec![RawAssignment {
                    principal_type: "GROUP".into(),
                    principal_id: "g-1".into(),
                }]),
            })
            .collect());
        // Administration in the first account, read-only in the second, the third not read.
        let resolve = |account: &str, name: &str| -> Option<Result<bool, String>> {
            assert_eq!(name, "/platform-admin");
            match account {
                "444455556666" => Some(Ok(true)),
                "777788889999" => Some(Ok(false)),
                _ => None,
            }
        };
        let m = map_with(&center(instance(vec![ps.clone()])), &resolve);
        let ps_id = format!("{PREFIX}permission-set/ps-1");
        assert_eq!(
            attrs(&m, types::PERMISSION_SET, &ps_id)["grantsFullAdmin"],
            json!(true),
            "administration in one account is administration"
        );
        let in_account = |a: &str| format!("{PREFIX}assignment/{a}/ps-1/group/g-1");
        assert_eq!(
            attrs(&m, types::ACCOUNT_ASSIGNMENT, &in_account("444455556666"))
                ["permissionSetGrantsFullAdmin"],
            json!(true)
        );
        assert_eq!(
            attrs(&m, types::ACCOUNT_ASSIGNMENT, &in_account("777788889999"))
                ["permissionSetGrantsFullAdmin"],
            json!(false)
        );
        let unread = errors_of(&m, &in_account("000011112222"));
        assert_eq!(unread.len(), 1, "{unread:?}");
        assert!(
            unread[0]
                .1
                .contains("`000011112222`, which was not collected in this run"),
            "{unread:?}"
        );
        // Read-only wherever it was read, and one account not read: unknown, not false.
        let read_only = |account: &str, _: &str| -> Option<Result<bool, String>> {
            (account != "000011112222").then_some(Ok(false))
        };
        let m = map_with(&center(instance(vec![ps.clone()])), &read_only);
        assert!(errors_of(&m, &ps_id)
            .iter()
            .any(|(f, r)| *f == "grantsFullAdmin" && r.contains("000011112222")));
        // Read-only in every account it is provisioned to: false.
        let m = map_with(&center(instance(vec![ps])), &|_, _| Some(Ok(false)));
        assert_eq!(
            attrs(&m, types::PERMISSION_SET, &ps_id)["grantsFullAdmin"],
            json!(false)
        );
        assert!(m.errors.is_empty(), "{:?}", m.errors);
    }

    #[test]
    fn permission_sets_assignments_users_and_groups_are_mapped() {
        let m = map(&center(instance(vec![permission_set(
            "ps-1",
            "AdministratorAccess",
            &[ADMIN],
        )])));
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        let ps_id = format!("{PREFIX}permission-set/ps-1");
        let ps = attrs(&m, types::PERMISSION_SET, &ps_id);
        assert_eq!(ps["name"], json!("AdministratorAccess"));
        assert_eq!(ps["sessionDuration"], json!("1h"));
        assert_eq!(ps["grantsFullAdmin"], json!(true));
        assert_eq!(ps["managedPolicyArns"], json!([ADMIN]));
        assert_eq!(ps["provisionedAccounts"], json!(["444455556666"]));
        let a_id = format!("{PREFIX}assignment/444455556666/ps-1/user/u-1");
        let a = attrs(&m, types::ACCOUNT_ASSIGNMENT, &a_id);
        assert_eq!(a["principalType"], json!("USER"));
        assert_eq!(a["principalName"], json!("alice"));
        assert_eq!(a["permissionSetGrantsFullAdmin"], json!(true));
        assert_eq!(a["inInstanceOwnerAccount"], json!(false));
        let assignment = m.entities.iter().find(|e| e.uid.id == a_id).unwrap();
        assert!(assignment.parents.iter().any(|p| p.id == ps_id));
        let user_id = format!("{PREFIX}user/u-1");
        let user = m.entities.iter().find(|e| e.uid.id == user_id).unwrap();
        assert_eq!(user.attrs["groupNames"], json!(["admins"]));
        assert!(user
            .parents
            .iter()
            .any(|p| p.id == format!("{PREFIX}group/g-1")));
        assert!(user.parents.iter().any(|p| p.id == ROOT));
        assert_eq!(
            attrs(&m, types::IDC_GROUP, &format!("{PREFIX}group/g-1"))["memberCount"],
            json!(1)
        );
    }

    #[test]
    fn what_could_not_be_read_is_unknown_never_absent() {
        let mut ps = permission_set("ps-1", "Admin", &[]);
        ps.inline_policy = Err(denied("GetInlinePolicyForPermissionSet"));
        ps.accounts = Ok(vec![RawAccountAssignments {
            account_id: "444455556666".into(),
            assignments: Err(denied("ListAccountAssignments")),
        }]);
        let mut described_not = permission_set("ps-2", "Hidden", &[]);
        described_not.description = Err(denied("DescribePermissionSet"));
        let mut i = instance(vec![ps, described_not]);
        i.groups = Ok(vec![RawGroup {
            group_id: "g-1".into(),
            display_name: Some("admins".into()),
            members: Err(denied("ListGroupMemberships")),
        }]);
        i.owner_account_id = None;
        let m = map(&center(i));
        let ps_id = format!("{PREFIX}permission-set/ps-1");
        assert!(
            errors_of(&m, &ps_id)
                .iter()
                .any(|(f, r)| *f == "grantsFullAdmin"
                    && r.contains("GetInlinePolicyForPermissionSet"))
        );
        assert!(errors_of(&m, &ps_id)
            .iter()
            .any(|(f, _)| *f == "hasInlinePolicy"));
        assert_eq!(
            errors_of(&m, &format!("{PREFIX}assignment/444455556666/ps-1/*")),
            vec![(
                "*",
                "ListAccountAssignments: AccessDeniedException: not authorized"
            )]
        );
        // Not described: no entity, its id wholly unknown; its assignments are still listed.
        let hidden = format!("{PREFIX}permission-set/ps-2");
        assert!(!m.entities.iter().any(|e| e.uid.id == hidden));
        assert_eq!(errors_of(&m, &hidden)[0].0, "*");
        let a_id = format!("{PREFIX}assignment/444455556666/ps-2/user/u-1");
        assert!(errors_of(&m, &a_id)
            .iter()
            .any(|(f, _)| *f == "inInstanceOwnerAccount"));
        let user_id = format!("{PREFIX}user/u-1");
        assert!(errors_of(&m, &user_id)
            .iter()
            .any(|(f, r)| *f == "groupNames" && r.contains("`admins`")));
    }

    #[test]
    fn no_instance_or_a_denied_listing_leaves_every_kind_unknown() {
        let mut raw = center(instance(Vec::new()));
        raw.instances = Ok(Vec::new());
        let m = map(&raw);
        assert!(m.entities.is_empty());
        let kinds: BTreeSet<&str> = m
            .errors
            .iter()
            .map(|e| e.entity.type_name.as_str())
            .collect();
        assert_eq!(
            kinds,
            BTreeSet::from([
                types::ACCOUNT_ASSIGNMENT,
                types::IDC_GROUP,
                types::IDC_USER,
                types::PERMISSION_SET
            ])
        );
        assert!(m.errors.iter().all(|e| e.fact == "*"
            && e.reason.contains("no IAM Identity Center instance")
            && e.reason.contains("eu-west-1")));
        raw.instances = Err(denied("ListInstances"));
        let m = map(&raw);
        assert_eq!(m.errors.len(), 4);
        assert!(m
            .errors
            .iter()
            .all(|e| e.reason.starts_with("ListInstances: ")));
    }
}
