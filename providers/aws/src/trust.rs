//! Role trust policies as facts (`Aws::TrustStatement`): who may assume the role — accounts
//! (this one, others, any), services, federated identity providers — and which conditions the
//! statement requires (ExternalId, MFA, organisation, an OIDC `sub`).
//!
//! Facts only: whether a trust is acceptable is the rules' call.

use serde_json::Value;

use crate::policy_document::{statements, strings};

/// The GitHub Actions OIDC provider's host, as it appears in a federated principal's ARN and in
/// its condition keys.
pub const GITHUB_OIDC: &str = "token.actions.githubusercontent.com";

/// The facts of one trust statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustFacts {
    /// Its position in the document (0-based).
    pub index: usize,
    /// `Allow` or `Deny`, as written.
    pub effect: String,
    /// `Action`, as written (`sts:AssumeRole`, `sts:AssumeRoleWithWebIdentity`, …).
    pub actions: Vec<String>,
    /// Accounts of the `AWS` principals: 12-digit ids, or `*` for any principal.
    pub accounts: Vec<String>,
    /// `Service` principals.
    pub services: Vec<String>,
    /// `Federated` principals (identity provider ARNs or names).
    pub federated: Vec<String>,
    /// Condition keys tested, lower-cased.
    pub condition_keys: Vec<String>,
    /// Values a `token.actions.githubusercontent.com:sub` condition allows (any operator).
    pub github_subjects: Vec<String>,
}

/// The facts of every statement of a decoded trust policy.
pub fn facts(document: &Value) -> Result<Vec<TrustFacts>, String> {
    statements(document)?
        .into_iter()
        .enumerate()
        .map(|(index, s)| {
            let effect = s
                .get("Effect")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("trust statement {index} has no `Effect`"))?
                .to_string();
            let (mut accounts, mut services, mut federated) = (Vec::new(), Vec::new(), Vec::new());
            match s.get("Principal") {
                Some(Value::String(p)) if p == "*" => accounts.push("*".to_string()),
                Some(Value::Object(by_kind)) => {
                    for (kind, v) in by_kind {
                        let names = strings(Some(v)).into_iter().map(String::from);
                        match kind.as_str() {
                            "AWS" => accounts.extend(strings(Some(v)).into_iter().map(account_of)),
                            "Service" => services.extend(names),
                            "Federated" => federated.extend(names),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            let condition_keys = crate::statements::condition_keys(s);
            let mut github_subjects = Vec::new();
            if let Some(ops) = s.get("Condition").and_then(Value::as_object) {
                for keys in ops.values().filter_map(Value::as_object) {
                    for (key, values) in keys {
                        if key.to_ascii_lowercase() == format!("{GITHUB_OIDC}:sub") {
                            github_subjects
                                .extend(strings(Some(values)).into_iter().map(String::from));
                        }
                    }
                }
            }
            let mut actions: Vec<String> = strings(s.get("Action"))
                .into_iter()
                .map(String::from)
                .collect();
            for list in [
                &mut actions,
                &mut accounts,
                &mut services,
                &mut federated,
                &mut github_subjects,
            ] {
                list.sort();
                list.dedup();
            }
            Ok(TrustFacts {
                index,
                effect,
                actions,
                accounts,
                services,
                federated,
                condition_keys,
                github_subjects,
            })
        })
        .collect()
}

/// The account of an `AWS` principal: `*`, a bare 12-digit id, or an ARN's account field.
fn account_of(principal: &str) -> String {
    if principal == "*" {
        return "*".into();
    }
    match principal.split(':').nth(4) {
        Some(account) if principal.starts_with("arn:") => account.to_string(),
        _ => principal.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn principals_and_conditions_become_facts() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "111122223333"]},
             "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "secret-id"}}},
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"},
                           "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}},
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": "sts:AssumeRole"}
        ]});
        let f = facts(&doc).unwrap();
        assert_eq!(f[0].accounts, ["111122223333", "444455556666"]);
        assert_eq!(f[0].condition_keys, ["sts:externalid"]);
        assert_eq!(
            f[1].federated,
            ["arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"]
        );
        assert_eq!(f[1].github_subjects, ["repo:acme/app:ref:refs/heads/main"]);
        assert_eq!(
            f[1].condition_keys,
            [
                "token.actions.githubusercontent.com:aud",
                "token.actions.githubusercontent.com:sub"
            ]
        );
        assert_eq!(f[2].accounts, ["*"]);
        assert_eq!(f[3].services, ["ec2.amazonaws.com"]);
        // The ExternalId's value is a shared secret: it is never a fact.
        assert!(!format!("{f:?}").contains("secret-id"));
    }
}
