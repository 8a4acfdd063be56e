//! `Aws::IamPolicy` entities, managed (customer- and AWS-managed) and inline, and whether a set
//! of attached and inline policies grants full admin.
//!
//! A policy document that cannot be read makes the grant unknown, never `false`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Map};
use trustcheck_snapshot::Uid;

use super::{sorted, types, Mapper};
use crate::policy_document;
use crate::raw::{AttachedPolicy, InlinePolicy, ManagedPolicyDetail};
use crate::statements;

/// The managed policies of one GetAccountAuthorizationDetails answer, by ARN.
pub(super) struct ManagedPolicies<'d> {
    by_arn: HashMap<&'d str, &'d ManagedPolicyDetail>,
}

impl<'d> ManagedPolicies<'d> {
    /// Indexes `policies` by ARN.
    pub(super) fn new(policies: &'d [ManagedPolicyDetail]) -> Self {
        Self {
            by_arn: policies.iter().map(|p| (p.arn.as_str(), p)).collect(),
        }
    }

    /// Whether these inline and attached policies, together, allow `*` on `*` (see [`any_true`]).
    pub(super) fn full_admin(
        &self,
        attached: &[AttachedPolicy],
        inline: &[InlinePolicy],
    ) -> Result<bool, String> {
        any_true(
            inline
                .iter()
                .map(inline_full_admin)
                .chain(attached.iter().map(|a| self.attached_full_admin(a))),
        )
    }

    fn attached_full_admin(&self, attached: &AttachedPolicy) -> Result<bool, String> {
        match self.by_arn.get(attached.policy_arn.as_str()) {
            Some(p) => managed_full_admin(p),
            None => Err(format!(
                "policy `{}` is attached but GetAccountAuthorizationDetails did not return it",
                attached.policy_arn
            )),
        }
    }
}

/// Which managed policies the mapped users, groups and roles attach: the managed policies'
/// `attachedUsers`, and whether an AWS-managed one concerns this account at all.
#[derive(Default)]
pub(super) struct Attachments<'d> {
    /// Users each policy is attached to directly, by policy ARN.
    users: BTreeMap<&'d str, Vec<&'d str>>,
    /// Every policy ARN attached to a mapped user, group or role.
    referenced: HashSet<&'d str>,
}

impl<'d> Attachments<'d> {
    /// `user` attaches the policies `arns` directly.
    pub(super) fn attach_to_user(&mut self, arns: &[&'d str], user: &'d str) {
        for &arn in arns {
            self.users.entry(arn).or_default().push(user);
            self.referenced.insert(arn);
        }
    }

    /// A group or role attaches the policies `arns`.
    pub(super) fn reference(&mut self, arns: &[&'d str]) {
        self.referenced.extend(arns.iter().copied());
    }
}

impl Mapper<'_> {
    /// A managed policy, unless it is AWS-managed and nothing in this account uses it.
    pub(super) fn managed_policy(
        &mut self,
        policy: &ManagedPolicyDetail,
        attachments: &Attachments<'_>,
    ) {
        let aws_managed = policy.arn.split(':').nth(4) == Some("aws");
        // AWS-managed policies nobody here uses say nothing about this account.
        if aws_managed
            && policy.attachment_count == 0
            && !attachments.referenced.contains(policy.arn.as_str())
        {
            return;
        }
        let uid = Uid::new(types::POLICY, self.managed_policy_id(policy, aws_managed));
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!(policy.policy_name));
        attrs.insert("arn".into(), json!(policy.arn));
        attrs.insert(
            "kind".into(),
            json!(if aws_managed {
                "aws-managed"
            } else {
                "customer-managed"
            }),
        );
        match managed_full_admin(policy) {
            Ok(admin) => {
                attrs.insert("grantsFullAdmin".into(), json!(admin));
            }
            Err(e) => self.out.unknown(&uid, "grantsFullAdmin", e),
        }
        attrs.insert("attachmentCount".into(), json!(policy.attachment_count));
        let users = attachments
            .users
            .get(policy.arn.as_str())
            .map(|u| sorted(u))
            .unwrap_or_default();
        attrs.insert("attachedUsers".into(), json!(users));
        self.statements(&uid, managed_document(policy));
        self.out.push(uid, attrs, vec![self.account.clone()]);
    }

    /// The `Aws::PolicyStatement`s of `policy`, or why they are unknown.
    fn statements(&mut self, policy: &Uid, document: Result<serde_json::Value, String>) {
        match document.and_then(|d| statements::facts(&d, self.sensitive)) {
            Ok(list) => {
                for s in list {
                    let uid = Uid::new(
                        types::STATEMENT,
                        format!("{}/statement/{}", policy.id, s.index),
                    );
                    let mut attrs = Map::new();
                    if let Some(sid) = &s.sid {
                        attrs.insert("sid".into(), json!(sid));
                    }
                    attrs.insert("effect".into(), json!(s.effect));
                    attrs.insert("actions".into(), json!(s.actions));
                    attrs.insert("notActions".into(), json!(s.not_actions));
                    attrs.insert("resources".into(), json!(s.resources));
                    attrs.insert("notResources".into(), json!(s.not_resources));
                    attrs.insert("conditionKeys".into(), json!(s.condition_keys));
                    attrs.insert("sensitiveActionsAllowed".into(), json!(s.sensitive_allowed));
                    attrs.insert("grantsFullAdmin".into(), json!(s.full_admin));
                    self.out.push(uid, attrs, vec![policy.clone()]);
                }
            }
            Err(e) => {
                let uid = Uid::new(types::STATEMENT, format!("{}/statement/*", policy.id));
                self.out.unknown(&uid, "*", e);
            }
        }
    }

    /// A customer-managed policy is named by its ARN. An AWS-managed ARN names no account, so
    /// its entity is named under this account's root, one per account.
    fn managed_policy_id(&self, policy: &ManagedPolicyDetail, aws_managed: bool) -> String {
        if !aws_managed {
            return policy.arn.clone();
        }
        let rest = policy
            .arn
            .split_once(":policy/")
            .map_or(policy.policy_name.as_str(), |(_, r)| r);
        format!("{}/aws-managed-policy/{rest}", self.account.id)
    }

    /// The inline policies of `owner` (a user, group or role ARN), one entity each.
    pub(super) fn inline_policies(
        &mut self,
        owner: &str,
        policies: &[InlinePolicy],
        owner_is_user: bool,
    ) {
        for policy in policies {
            let uid = Uid::new(
                types::POLICY,
                format!("{owner}/inline-policy/{}", policy.policy_name),
            );
            let mut attrs = Map::new();
            attrs.insert("name".into(), json!(policy.policy_name));
            attrs.insert("kind".into(), json!("inline"));
            attrs.insert("owner".into(), json!(owner));
            match inline_full_admin(policy) {
                Ok(admin) => {
                    attrs.insert("grantsFullAdmin".into(), json!(admin));
                }
                Err(e) => self.out.unknown(&uid, "grantsFullAdmin", e),
            }
            attrs.insert("attachmentCount".into(), json!(1));
            let users: Vec<&str> = if owner_is_user {
                vec![owner]
            } else {
                Vec::new()
            };
            attrs.insert("attachedUsers".into(), json!(users));
            self.statements(&uid, inline_document(policy));
            self.out.push(uid, attrs, vec![self.account.clone()]);
        }
    }
}

/// The ARNs of `attached`, in API order.
pub(super) fn policy_arns(attached: &[AttachedPolicy]) -> Vec<&str> {
    attached.iter().map(|a| a.policy_arn.as_str()).collect()
}

fn inline_full_admin(policy: &InlinePolicy) -> Result<bool, String> {
    inline_document(policy).and_then(|d| {
        policy_document::allows_full_admin(&d)
            .map_err(|e| format!("inline policy `{}`: {e}", policy.policy_name))
    })
}

/// An inline policy's decoded document.
fn inline_document(policy: &InlinePolicy) -> Result<serde_json::Value, String> {
    let document = policy
        .policy_document
        .as_ref()
        .ok_or_else(|| format!("inline policy `{}` has no document", policy.policy_name))?;
    policy_document::decode(document)
        .map_err(|e| format!("inline policy `{}`: {e}", policy.policy_name))
}

/// Only the default version counts: older versions are not in force.
fn managed_full_admin(policy: &ManagedPolicyDetail) -> Result<bool, String> {
    managed_document(policy).and_then(|d| {
        policy_document::allows_full_admin(&d).map_err(|e| format!("policy `{}`: {e}", policy.arn))
    })
}

/// The decoded document of a managed policy's default version.
fn managed_document(policy: &ManagedPolicyDetail) -> Result<serde_json::Value, String> {
    let version = policy
        .policy_version_list
        .iter()
        .find(|v| {
            v.is_default_version
                || (v.version_id.is_some() && v.version_id == policy.default_version_id)
        })
        .and_then(|v| v.document.as_ref())
        .ok_or_else(|| {
            format!(
                "policy `{}`: the default version's document was not returned",
                policy.arn
            )
        })?;
    policy_document::decode(version).map_err(|e| format!("policy `{}`: {e}", policy.arn))
}

/// `true` if any is `true` (an unknown cannot undo a known admin grant), else the first unknown,
/// else `false`.
pub(super) fn any_true(
    results: impl Iterator<Item = Result<bool, String>>,
) -> Result<bool, String> {
    let mut unknown = None;
    for r in results {
        match r {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => {
                unknown.get_or_insert(e);
            }
        }
    }
    match unknown {
        Some(e) => Err(e),
        None => Ok(false),
    }
}
