//! `Aws::IamGroup` entities, from GetAccountAuthorizationDetails.

use std::collections::HashMap;

use serde_json::{json, Map};
use trustcheck_snapshot::Uid;

use super::policies::{policy_arns, Attachments, ManagedPolicies};
use super::{sorted, types, Mapper};
use crate::raw::GroupDetail;

/// What a user inherits from a group it names (a user lists its groups by name only).
pub(super) struct Membership<'g> {
    /// The group's ARN.
    pub(super) arn: &'g str,
    /// Whether the group grants full admin to its members, or why that is unknown.
    pub(super) full_admin: Result<bool, String>,
}

/// Each listed group by name.
pub(super) fn by_name<'g>(
    groups: &'g [GroupDetail],
    policies: &ManagedPolicies<'_>,
) -> HashMap<&'g str, Membership<'g>> {
    groups
        .iter()
        .map(|g| {
            (
                g.group_name.as_str(),
                Membership {
                    arn: g.arn.as_str(),
                    full_admin: policies
                        .full_admin(&g.attached_managed_policies, &g.group_policy_list),
                },
            )
        })
        .collect()
}

impl Mapper<'_> {
    /// A group, with its inline policies; the managed policies it attaches are recorded in
    /// `attachments`.
    pub(super) fn group<'d>(
        &mut self,
        group: &'d GroupDetail,
        policies: &ManagedPolicies<'_>,
        attachments: &mut Attachments<'d>,
    ) {
        let uid = Uid::new(types::GROUP, &group.arn);
        let arns = policy_arns(&group.attached_managed_policies);
        attachments.reference(&arns);
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!(group.group_name));
        attrs.insert("attachedPolicyArns".into(), json!(sorted(&arns)));
        match policies.full_admin(&group.attached_managed_policies, &group.group_policy_list) {
            Ok(admin) => {
                attrs.insert("grantsFullAdmin".into(), json!(admin));
            }
            Err(e) => self.out.unknown(&uid, "grantsFullAdmin", e),
        }
        self.inline_policies(&group.arn, &group.group_policy_list, false);
        self.out.push(uid, attrs, vec![self.account.clone()]);
    }
}
