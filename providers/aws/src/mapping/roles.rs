//! `Aws::IamRole` entities, from GetAccountAuthorizationDetails.

use serde_json::{json, Map};
use trustcheck_snapshot::Uid;

use super::policies::{policy_arns, Attachments, ManagedPolicies};
use super::{sorted, types, Mapper};
use crate::policy_document;
use crate::raw::RoleDetail;
use crate::timestamp;
use crate::trust;

impl Mapper<'_> {
    /// A role, with its inline policies; the managed policies it attaches are recorded in
    /// `attachments`.
    pub(super) fn role<'d>(
        &mut self,
        role: &'d RoleDetail,
        policies: &ManagedPolicies<'_>,
        attachments: &mut Attachments<'d>,
    ) {
        let uid = Uid::new(types::ROLE, &role.arn);
        let Some(created) = self.created_at(&uid, &role.create_date) else {
            return;
        };
        let arns = policy_arns(&role.attached_managed_policies);
        attachments.reference(&arns);
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!(role.role_name));
        attrs.insert("createdAt".into(), json!(created));
        attrs.insert(
            "serviceLinked".into(),
            json!(role
                .path
                .as_deref()
                .is_some_and(|p| p.starts_with("/aws-service-role/"))),
        );
        attrs.insert("attachedPolicyArns".into(), json!(sorted(&arns)));
        match policies.full_admin(&role.attached_managed_policies, &role.role_policy_list) {
            Ok(admin) => {
                attrs.insert("grantsFullAdmin".into(), json!(admin));
            }
            Err(e) => self.out.unknown(&uid, "grantsFullAdmin", e),
        }
        match trusts_any_principal(role) {
            Ok(any) => {
                attrs.insert("trustsAnyPrincipal".into(), json!(any));
            }
            Err(e) => self
                .out
                .unknown(&uid, "trustsAnyPrincipal", format!("trust policy: {e}")),
        }
        // Absent when AWS has no use on record (never used, or not in its tracking period).
        if let Some(t) = role
            .role_last_used
            .as_ref()
            .and_then(|u| u.last_used_date.as_deref())
            .and_then(timestamp::normalize)
        {
            attrs.insert("lastUsed".into(), json!(t));
        }
        self.inline_policies(&role.arn, &role.role_policy_list, false);
        self.trust_statements(&uid, role);
        self.out.push(uid, attrs, vec![self.account.clone()]);
    }

    /// The `Aws::TrustStatement`s of a role's trust policy, or why they are unknown.
    fn trust_statements(&mut self, role: &Uid, detail: &RoleDetail) {
        let facts = detail
            .assume_role_policy_document
            .as_ref()
            .ok_or_else(|| "GetAccountAuthorizationDetails returned no trust policy".to_string())
            .and_then(policy_document::decode)
            .and_then(|d| trust::facts(&d));
        let list = match facts {
            Ok(list) => list,
            Err(e) => {
                let uid = Uid::new(
                    types::TRUST_STATEMENT,
                    format!("{}/trust-statement/*", role.id),
                );
                self.out.unknown(&uid, "*", format!("trust policy: {e}"));
                return;
            }
        };
        let own = self.raw.account_id.clone();
        for s in list {
            let uid = Uid::new(
                types::TRUST_STATEMENT,
                format!("{}/trust-statement/{}", role.id, s.index),
            );
            let mut attrs = Map::new();
            attrs.insert(
                "trustsOtherAccounts".into(),
                json!(s.accounts.iter().any(|a| *a != own)),
            );
            attrs.insert(
                "trustsGithubOidc".into(),
                json!(s.federated.iter().any(|f| f.ends_with(trust::GITHUB_OIDC))),
            );
            attrs.insert("effect".into(), json!(s.effect));
            attrs.insert("actions".into(), json!(s.actions));
            attrs.insert("principalAccounts".into(), json!(s.accounts));
            attrs.insert("principalServices".into(), json!(s.services));
            attrs.insert("principalFederated".into(), json!(s.federated));
            attrs.insert("conditionKeys".into(), json!(s.condition_keys));
            attrs.insert("githubSubjects".into(), json!(s.github_subjects));
            self.out.push(uid, attrs, vec![role.clone()]);
        }
    }
}

/// Whether the role's trust policy lets any principal assume it.
fn trusts_any_principal(role: &RoleDetail) -> Result<bool, String> {
    role.assume_role_policy_document
        .as_ref()
        .ok_or_else(|| "GetAccountAuthorizationDetails returned no trust policy".to_string())
        .and_then(policy_document::decode)
        .and_then(|d| policy_document::trusts_any_principal(&d))
}
