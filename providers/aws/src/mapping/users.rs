//! `Aws::IamUser` entities and their `Aws::AccessKey`s: GetAccountAuthorizationDetails joined
//! with the credential report, or the credential report alone when that call failed.
//!
//! A user missing from the report (created since it was generated) keeps its report facts
//! unknown: never read as "no console access" or "no keys".

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};
use trustcheck_snapshot::Uid;

use super::groups::Membership;
use super::policies::{any_true, policy_arns, Attachments, ManagedPolicies};
use super::{mfa_kind, sorted, types, Mapper, Report, REPORT_FACTS};
use crate::credential_report::Row;
use crate::raw::UserDetail;
use crate::timestamp;

impl Mapper<'_> {
    /// A user listed by GetAccountAuthorizationDetails, with its inline policies and access
    /// keys; the managed policies it attaches are recorded in `attachments`.
    pub(super) fn user<'d>(
        &mut self,
        user: &'d UserDetail,
        policies: &ManagedPolicies<'_>,
        groups: &HashMap<&str, Membership<'_>>,
        attachments: &mut Attachments<'d>,
        report: &Result<Report, String>,
        virtual_mfa: &Result<HashSet<String>, String>,
    ) {
        let uid = Uid::new(types::USER, &user.arn);
        let Some(created) = self.created_at(&uid, &user.create_date) else {
            return;
        };
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!(user.user_name));
        attrs.insert("createdAt".into(), json!(created));
        let arns = policy_arns(&user.attached_managed_policies);
        attachments.attach_to_user(&arns, &user.arn);
        attrs.insert("attachedPolicyArns".into(), json!(sorted(&arns)));
        match policies.full_admin(&user.attached_managed_policies, &user.user_policy_list) {
            Ok(admin) => {
                attrs.insert("directFullAdmin".into(), json!(admin));
            }
            Err(e) => self.out.unknown(&uid, "directFullAdmin", e),
        }
        let inline: Vec<&str> = user
            .user_policy_list
            .iter()
            .map(|p| p.policy_name.as_str())
            .collect();
        attrs.insert("inlinePolicyNames".into(), json!(sorted(&inline)));
        // A group that was not listed grants nothing known; only listed groups count.
        match any_true(
            user.group_list
                .iter()
                .filter_map(|g| groups.get(g.as_str()))
                .map(|g| g.full_admin.clone()),
        ) {
            Ok(admin) => {
                attrs.insert("groupFullAdmin".into(), json!(admin));
            }
            Err(e) => self.out.unknown(&uid, "groupFullAdmin", e),
        }
        self.listed_user_report_facts(&uid, &mut attrs, report, virtual_mfa);
        let mut parents = vec![self.account.clone()];
        // A user names its groups; groups that were not listed are left out.
        parents.extend(
            user.group_list
                .iter()
                .filter_map(|group| groups.get(group.as_str()))
                .map(|g| Uid::new(types::GROUP, g.arn)),
        );
        self.inline_policies(&user.arn, &user.user_policy_list, true);
        self.out.push(uid, attrs, parents);
    }

    /// The report facts of a user listed by GetAccountAuthorizationDetails, or why they are
    /// unknown.
    fn listed_user_report_facts(
        &mut self,
        uid: &Uid,
        attrs: &mut Map<String, Value>,
        report: &Result<Report, String>,
        virtual_mfa: &Result<HashSet<String>, String>,
    ) {
        match report {
            Ok(r) => match r.users.get(&uid.id) {
                Some(row) => self.report_facts(uid, attrs, row, virtual_mfa),
                None => {
                    let when = r.generated_at.as_deref().unwrap_or("an unknown time");
                    let reason = format!(
                        "the user is not in the credential report generated at {when} (AWS reuses a report for up to 4 hours)"
                    );
                    self.report_facts_unknown(uid, &reason);
                }
            },
            Err(e) => self.report_facts_unknown(uid, e),
        }
    }

    /// Every report fact of `uid` is unknown, because `reason`.
    fn report_facts_unknown(&mut self, uid: &Uid, reason: &str) {
        for fact in REPORT_FACTS {
            self.out.unknown(uid, fact, reason);
        }
    }

    /// A user of the credential report alone: GetAccountAuthorizationDetails failed because
    /// `reason`, so what only that call lists is unknown.
    pub(super) fn user_from_report(
        &mut self,
        row: &Row,
        reason: &str,
        virtual_mfa: &Result<HashSet<String>, String>,
    ) {
        let uid = Uid::new(types::USER, &row.arn);
        let Some(created) = timestamp::normalize(&row.user_creation_time) else {
            self.out.unknown(
                &uid,
                "*",
                format!(
                    "credential report: user_creation_time `{}` is not a timestamp",
                    row.user_creation_time
                ),
            );
            return;
        };
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!(row.user));
        attrs.insert("createdAt".into(), json!(created));
        self.out.unknown(&uid, "attachedPolicyArns", reason);
        self.out.unknown(&uid, "directFullAdmin", reason);
        self.out.unknown(&uid, "inlinePolicyNames", reason);
        self.out.unknown(&uid, "groupFullAdmin", reason);
        self.report_facts(&uid, &mut attrs, row, virtual_mfa);
        self.out.push(uid, attrs, vec![self.account.clone()]);
    }

    /// A user's credential report facts, and its access key entities.
    fn report_facts(
        &mut self,
        uid: &Uid,
        attrs: &mut Map<String, Value>,
        row: &Row,
        virtual_mfa: &Result<HashSet<String>, String>,
    ) {
        attrs.insert(
            "consoleAccess".into(),
            json!(row.password_enabled == "true"),
        );
        if let Some(t) = timestamp::normalize(&row.password_last_used) {
            attrs.insert("passwordLastUsed".into(), json!(t));
        }
        if let Some(t) = timestamp::normalize(&row.password_last_changed) {
            attrs.insert("passwordLastChanged".into(), json!(t));
        }
        let mfa_active = row.mfa_active == "true";
        attrs.insert("mfaActive".into(), json!(mfa_active));
        match mfa_kind(&Ok(mfa_active), virtual_mfa, &uid.id) {
            Ok(kind) => {
                attrs.insert("mfaKind".into(), json!(kind));
            }
            Err(e) => self.out.unknown(uid, "mfaKind", e),
        }
        attrs.insert("activeAccessKeys".into(), json!(row.active_keys()));
        self.access_keys(uid, row);
    }

    /// The access keys of `user`, one per filled key slot of its report row.
    fn access_keys(&mut self, user: &Uid, row: &Row) {
        for key in row.key_slots() {
            // An empty slot has `N/A` here: there is no key to describe.
            let Some(created) = timestamp::normalize(key.last_rotated) else {
                continue;
            };
            let key_uid = Uid::new(
                types::ACCESS_KEY,
                format!("{}/access-key/{}", user.id, key.slot),
            );
            let mut key_attrs = Map::new();
            key_attrs.insert("slot".into(), json!(key.slot));
            key_attrs.insert("active".into(), json!(key.active == "true"));
            key_attrs.insert("createdAt".into(), json!(created));
            key_attrs.insert(
                "ownerConsoleAccess".into(),
                json!(row.password_enabled == "true"),
            );
            if let Some(t) = timestamp::normalize(key.last_used) {
                key_attrs.insert("lastUsed".into(), json!(t));
            }
            self.out.push(key_uid, key_attrs, vec![user.clone()]);
        }
    }
}
