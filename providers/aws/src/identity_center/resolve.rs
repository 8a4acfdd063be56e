//! Customer-managed policies of permission sets, judged where they live. A permission set
//! references them by name; each account it is provisioned to holds its own policy of that name,
//! which `GetAccountAuthorizationDetails` already read when the account is collected in the same
//! run. This module looks them up in the collected accounts; an account not read in this run is
//! left to the caller to record as unknown. No I/O: it reads collected entities only.

use std::collections::HashMap;

use serde_json::Value;

use crate::account::AccountSnapshot;
use crate::mapping::types;

/// What the collected accounts say about their customer-managed policies.
#[derive(Debug, Clone, Default)]
pub struct CustomerPolicies {
    /// Account id → why its policies are unknown (`None`: listed).
    accounts: HashMap<String, Option<String>>,
    /// Policy ARN → its `grantsFullAdmin`, or why that is unknown.
    policies: HashMap<String, Result<bool, String>>,
}

impl CustomerPolicies {
    /// The customer-managed policies of `accounts`.
    pub fn of(accounts: &[AccountSnapshot]) -> Self {
        let mut out = Self::default();
        for a in accounts {
            let unlisted = a
                .errors
                .iter()
                .find(|e| {
                    e.entity.type_name == types::POLICY
                        && e.fact == "*"
                        && e.entity.id.ends_with(":policy/*")
                })
                .map(|e| e.reason.clone());
            out.accounts.insert(a.account_id.clone(), unlisted);
            for e in &a.entities {
                if e.uid.type_name != types::POLICY
                    || e.attrs.get("kind").and_then(Value::as_str) != Some("customer-managed")
                {
                    continue;
                }
                let admin = match e.attrs.get("grantsFullAdmin").and_then(Value::as_bool) {
                    Some(b) => Ok(b),
                    None => Err(a
                        .errors
                        .iter()
                        .find(|u| u.entity == e.uid && u.fact == "grantsFullAdmin")
                        .map_or_else(
                            || "its grantsFullAdmin was not collected".to_string(),
                            |u| u.reason.clone(),
                        )),
                };
                out.policies.insert(e.uid.id.clone(), admin);
            }
        }
        out
    }

    /// Whether the customer-managed policy `path_and_name` (`/platform-admin`) of `account`
    /// grants full administration; `None` when `account` was not collected in this run.
    pub fn grants_full_admin(
        &self,
        partition: &str,
        account: &str,
        path_and_name: &str,
    ) -> Option<Result<bool, String>> {
        if let Some(reason) = self.accounts.get(account)?.as_ref() {
            return Some(Err(reason.clone()));
        }
        let arn = format!("arn:{partition}:iam::{account}:policy{path_and_name}");
        Some(self.policies.get(&arn).cloned().unwrap_or_else(|| {
            Err(format!(
                "no customer-managed policy `{arn}` was listed in account `{account}`"
            ))
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};
    use trustcheck_snapshot::{Entity, Uid, UncollectedFact};

    use super::*;

    fn account(id: &str, entities: Vec<Entity>, errors: Vec<UncollectedFact>) -> AccountSnapshot {
        AccountSnapshot {
            account_id: id.into(),
            identity: Some(format!("arn:aws:sts::{id}:assumed-role/audit/trustcheck")),
            collected_at: "2026-12-07T06:00:00Z".into(),
            api_calls: 0,
            calls_by_operation: Default::default(),
            entities,
            errors,
        }
    }

    fn policy(id: &str, admin: Option<bool>) -> Entity {
        let mut attrs = Map::new();
        attrs.insert("kind".into(), json!("customer-managed"));
        if let Some(b) = admin {
            attrs.insert("grantsFullAdmin".into(), json!(b));
        }
        Entity {
            uid: Uid::new(types::POLICY, id),
            attrs,
            parents: Vec::new(),
        }
    }

    #[test]
    fn policies_are_looked_up_in_their_own_account() {
        let unreadable = "arn:aws:iam::111111111111:policy/unreadable";
        let policies = CustomerPolicies::of(&[
            account(
                "111111111111",
                vec![
                    policy(
                        "arn:aws:iam::111111111111:policy/platform-admin",
                        Some(true),
                    ),
                    policy("arn:aws:iam::111111111111:policy/ops/s3-read", Some(false)),
                    policy(unreadable, None),
                ],
                vec![UncollectedFact::new(
                    Uid::new(types::POLICY, unreadable),
                    "grantsFullAdmin",
                    "its document was not returned",
                )],
            ),
            account(
                "222222222222",
                Vec::new(),
                vec![UncollectedFact::new(
                    Uid::new(types::POLICY, "arn:aws:iam::222222222222:policy/*"),
                    "*",
                    "GetAccountAuthorizationDetails: AccessDenied",
                )],
            ),
        ]);
        let at = |account: &str, name: &str| policies.grants_full_admin("aws", account, name);
        assert_eq!(at("111111111111", "/platform-admin"), Some(Ok(true)));
        assert_eq!(at("111111111111", "/ops/s3-read"), Some(Ok(false)));
        assert_eq!(
            at("111111111111", "/unreadable"),
            Some(Err("its document was not returned".into()))
        );
        assert!(at("111111111111", "/missing").unwrap().is_err());
        assert_eq!(
            at("222222222222", "/platform-admin"),
            Some(Err("GetAccountAuthorizationDetails: AccessDenied".into()))
        );
        assert_eq!(at("333333333333", "/platform-admin"), None);
    }
}
