//! Policy statements as facts (`Aws::PolicyStatement`), and the sensitive actions each one
//! allows once wildcards and `NotAction` are resolved.
//!
//! Cedar cannot match wildcards inside a set, so "does this statement allow `iam:PassRole`?"
//! is answered here, against a shipped list ([`SENSITIVE_ACTIONS`]): the privilege-escalation
//! actions of IAM (after Rhino Security Labs' catalogue of AWS privilege escalation methods)
//! plus full access to KMS and CloudTrail. The answer is a fact about the document ("this
//! statement allows `iam:PassRole`"), not a verdict; whether it may is the rules' call.
//!
//! IAM's wildcard matching (`*` any run of characters, `?` one) is a few lines, written here
//! rather than taken from a crate: action names are short ASCII, and no glob crate matches
//! IAM's case-insensitive semantics without configuration of its own.

use serde_json::Value;

use crate::policy_document::{statement_grants_full_admin, statements, strings};

/// The actions whose grant on every resource lets a principal raise its own privileges, or (for
/// `service:*` entries) full access to a service that guards evidence or keys. An entry
/// `service:*` is allowed only when every action of the service is.
pub const SENSITIVE_ACTIONS: &[&str] = &[
    "cloudformation:CreateStack",
    "cloudtrail:*",
    "ec2:RunInstances",
    "glue:CreateDevEndpoint",
    "glue:UpdateDevEndpoint",
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreatePolicyVersion",
    "iam:PassRole",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
    "kms:*",
    "lambda:CreateFunction",
    "lambda:UpdateFunctionCode",
    "sts:AssumeRole",
];

/// The sensitive actions statements are resolved against: [`SENSITIVE_ACTIONS`], plus those an
/// organisation adds (`--sensitive-action`, `[collect.aws] sensitive-action` in trustcheck.toml).
///
/// An entry is an action (`iam:PassRole`: the statement allows it) or a prefix ending in `*`
/// (`kms:*`, `iam:Put*`: the statement allows every action that starts with it), never a pattern
/// with a wildcard inside, whose meaning ("some" or "all" of what it matches) would be unclear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveActions(Vec<String>);

impl Default for SensitiveActions {
    fn default() -> Self {
        Self(SENSITIVE_ACTIONS.iter().map(|a| a.to_string()).collect())
    }
}

impl SensitiveActions {
    /// The shipped list plus `extra`, each checked with [`parse_sensitive_action`]; an entry the
    /// list already holds (IAM compares actions without case) is not repeated.
    pub fn with_extra(extra: &[String]) -> Result<Self, String> {
        let mut list = Self::default();
        for entry in extra {
            let entry = parse_sensitive_action(entry)?;
            if !list.0.iter().any(|a| a.eq_ignore_ascii_case(&entry)) {
                list.0.push(entry);
            }
        }
        Ok(list)
    }

    /// The entries, shipped ones first.
    pub fn entries(&self) -> &[String] {
        &self.0
    }
}

/// Checks one `--sensitive-action` entry: `service:Action` (`iam:PassRole`), or a prefix ending
/// in `*` (`kms:*`, `iam:Put*`). The service is lower-case letters, digits and `-`, as in IAM;
/// the action letters and digits.
pub fn parse_sensitive_action(entry: &str) -> Result<String, String> {
    let entry = entry.trim();
    let invalid = |why: &str| {
        format!(
            "`{entry}` is not a sensitive action: {why} (expected `service:Action` such as `iam:PassRole`, or a prefix such as `kms:*` or `iam:Put*`)"
        )
    };
    let Some((service, action)) = entry.split_once(':') else {
        return Err(invalid("no `:` between service and action"));
    };
    if service.is_empty()
        || !service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(invalid(
            "the service is lower-case letters, digits and `-` (`iam`, `kms`)",
        ));
    }
    let head = action.strip_suffix('*').unwrap_or(action);
    if !head.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid(
            "the action is letters and digits, with at most one `*` at its end",
        ));
    }
    if action.is_empty() {
        return Err(invalid("the action is missing"));
    }
    Ok(entry.to_string())
}

/// The facts of one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFacts {
    /// Its position in the document (0-based).
    pub index: usize,
    /// `Sid`, when it has one.
    pub sid: Option<String>,
    /// `Allow` or `Deny`, as written.
    pub effect: String,
    /// `Action`, as written.
    pub actions: Vec<String>,
    /// `NotAction`, as written.
    pub not_actions: Vec<String>,
    /// `Resource`, as written.
    pub resources: Vec<String>,
    /// `NotResource`, as written.
    pub not_resources: Vec<String>,
    /// The condition keys its `Condition` tests, lower-cased (IAM compares them without case).
    pub condition_keys: Vec<String>,
    /// Entries of the [`SensitiveActions`] it allows (empty for `Deny`), sorted.
    pub sensitive_allowed: Vec<String>,
    /// It allows every action on every resource in substance (see
    /// [`crate::policy_document::allows_full_admin`]).
    pub full_admin: bool,
}

/// The facts of every statement of a decoded document, its sensitive actions resolved against
/// `sensitive`.
pub fn facts(
    document: &Value,
    sensitive: &SensitiveActions,
) -> Result<Vec<StatementFacts>, String> {
    statements(document)?
        .into_iter()
        .enumerate()
        .map(|(index, s)| {
            let effect = s
                .get("Effect")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("statement {index} has no `Effect`"))?
                .to_string();
            let owned = |key: &str| -> Vec<String> {
                let mut v: Vec<String> =
                    strings(s.get(key)).into_iter().map(String::from).collect();
                v.sort();
                v.dedup();
                v
            };
            let condition_keys = condition_keys(s);
            let actions = owned("Action");
            let not_actions = owned("NotAction");
            let has_not_action = s.get("NotAction").is_some();
            let mut sensitive_allowed: Vec<String> = if effect == "Allow" {
                sensitive
                    .entries()
                    .iter()
                    .filter(|a| allows_action(&actions, has_not_action, &not_actions, a))
                    .map(|a| a.to_string())
                    .collect()
            } else {
                Vec::new()
            };
            sensitive_allowed.sort();
            Ok(StatementFacts {
                index,
                sid: s.get("Sid").and_then(Value::as_str).map(String::from),
                full_admin: statement_grants_full_admin(s),
                effect,
                actions,
                not_actions,
                resources: owned("Resource"),
                not_resources: owned("NotResource"),
                condition_keys,
                sensitive_allowed,
            })
        })
        .collect()
}

/// The condition keys a statement's `Condition` tests, under any operator, lower-cased (IAM
/// compares them without case), sorted and without repeats. Shared with the trust statements.
pub(crate) fn condition_keys(statement: &Value) -> Vec<String> {
    let mut keys: Vec<String> = statement
        .get("Condition")
        .and_then(Value::as_object)
        .map(|ops| {
            ops.values()
                .filter_map(Value::as_object)
                .flat_map(|keys| keys.keys().map(|k| k.to_ascii_lowercase()))
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys.dedup();
    keys
}

/// Whether a statement with these `Action` / `NotAction` lists allows `wanted` (an action, or
/// `prefix*` for every action that starts with `prefix`, such as `kms:*`).
fn allows_action(
    actions: &[String],
    has_not_action: bool,
    not_actions: &[String],
    wanted: &str,
) -> bool {
    match wanted.strip_suffix('*') {
        Some(prefix) => {
            let prefix = prefix.to_ascii_lowercase();
            if has_not_action {
                // Every action of the service, unless an excluded pattern may reach one.
                !not_actions.iter().any(|p| may_match_prefix(p, &prefix))
            } else {
                actions.iter().any(|p| covers_prefix(p, &prefix))
            }
        }
        None => {
            if has_not_action {
                !not_actions.iter().any(|p| glob(p, wanted))
            } else {
                actions.iter().any(|p| glob(p, wanted))
            }
        }
    }
}

/// IAM wildcard matching, without case: `*` any run of characters, `?` exactly one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    // Iterative matching with one backtrack point for the last `*`: linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// Whether a pattern matches every action that starts with `prefix` (`kms:`, `iam:put`): `*`,
/// `kms:*`, `k*`.
fn covers_prefix(pattern: &str, prefix: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    p.strip_suffix('*')
        .is_some_and(|head| !head.contains(['*', '?']) && prefix.starts_with(head))
        || p == "*:*"
}

/// Whether a pattern may match some action that starts with `prefix`.
fn may_match_prefix(pattern: &str, prefix: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let literal: String = p.chars().take_while(|c| *c != '*' && *c != '?').collect();
    if literal.len() == p.len() {
        p.starts_with(prefix)
    } else {
        prefix.starts_with(&literal) || literal.starts_with(prefix)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(statement: Value) -> StatementFacts {
        facts(
            &json!({"Version": "2012-10-17", "Statement": [statement]}),
            &SensitiveActions::default(),
        )
        .unwrap()
        .remove(0)
    }

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("iam:Pass*", "iam:PassRole"));
        assert!(glob("IAM:passrole", "iam:PassRole"));
        assert!(glob("iam:?assRole", "iam:PassRole"));
        assert!(glob("*", "kms:Decrypt"));
        assert!(glob("i*:*Policy", "iam:AttachUserPolicy"));
        assert!(!glob("iam:Get*", "iam:PassRole"));
        assert!(!glob("iam:PassRol", "iam:PassRole"));
    }

    #[test]
    fn wildcards_and_not_action_resolve_to_sensitive_actions() {
        let pass = one(json!({"Effect": "Allow", "Action": "iam:Pass*", "Resource": "*"}));
        assert_eq!(pass.sensitive_allowed, ["iam:PassRole"]);
        assert!(!pass.full_admin);

        // Everything but S3: IAM escalation and full KMS included.
        let not_s3 = one(json!({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}));
        assert!(not_s3
            .sensitive_allowed
            .contains(&"iam:PassRole".to_string()));
        assert!(not_s3.sensitive_allowed.contains(&"kms:*".to_string()));
        assert!(not_s3.full_admin);

        // Everything but IAM and one KMS action: no IAM escalation, KMS not in full.
        let not_iam =
            one(json!({"Effect": "Allow", "NotAction": ["iam:*", "kms:Decrypt"], "Resource": "*"}));
        assert!(!not_iam
            .sensitive_allowed
            .iter()
            .any(|a| a.starts_with("iam:")));
        assert!(!not_iam.sensitive_allowed.contains(&"kms:*".to_string()));
        assert!(not_iam
            .sensitive_allowed
            .contains(&"cloudtrail:*".to_string()));

        let kms =
            one(json!({"Effect": "Allow", "Action": ["kms:*", "s3:GetObject"], "Resource": "*"}));
        assert_eq!(kms.sensitive_allowed, ["kms:*"]);
        let kms_some = one(json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}));
        assert!(kms_some.sensitive_allowed.is_empty());

        let deny = one(json!({"Effect": "Deny", "Action": "*", "Resource": "*"}));
        assert!(deny.sensitive_allowed.is_empty());
    }

    #[test]
    fn an_organisation_extends_the_list_with_actions_and_prefixes() {
        let extra = |entries: &[&str]| {
            SensitiveActions::with_extra(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>())
        };
        let list = extra(&["s3:PutBucketPolicy", "ssm:Send*", "iam:passrole"]).unwrap();
        assert_eq!(
            list.entries().len(),
            SENSITIVE_ACTIONS.len() + 2,
            "an entry the list holds, in any case, is not repeated"
        );
        let facts_of = |statement: Value| {
            facts(
                &json!({"Version": "2012-10-17", "Statement": [statement]}),
                &list,
            )
            .unwrap()
            .remove(0)
            .sensitive_allowed
        };
        assert_eq!(
            facts_of(json!({"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"})),
            ["s3:PutBucketPolicy"]
        );
        // A prefix entry is allowed only when every action under it is.
        assert_eq!(
            facts_of(json!({"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*"})),
            Vec::<String>::new()
        );
        assert_eq!(
            facts_of(json!({"Effect": "Allow", "Action": "ssm:*", "Resource": "*"})),
            ["ssm:Send*"]
        );
        let not_ssm_send =
            facts_of(json!({"Effect": "Allow", "NotAction": ["ssm:SendCommand"], "Resource": "*"}));
        assert!(!not_ssm_send.contains(&"ssm:Send*".to_string()));
        assert!(not_ssm_send.contains(&"s3:PutBucketPolicy".to_string()));
        // The shipped list alone does not know them.
        assert!(
            one(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
                .sensitive_allowed
                .is_empty()
        );

        for bad in [
            "PassRole",
            "IAM:PassRole",
            "iam:",
            "iam:Pass*Role",
            "iam:Pass?ole",
            "*",
            ":PassRole",
            "iam:Pass Role",
        ] {
            let err = extra(&[bad]).unwrap_err();
            assert!(
                err.starts_with(&format!("`{bad}` is not a sensitive action")),
                "{err}"
            );
        }
        assert_eq!(parse_sensitive_action(" kms:* ").unwrap(), "kms:*");
    }

    #[test]
    fn conditions_keys_and_lists_are_facts() {
        let s = one(json!({
            "Sid": "Assume",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123", "sts:ExternalId": "x"},
                          "Bool": {"aws:MultiFactorAuthPresent": "true"}}
        }));
        assert_eq!(s.sid.as_deref(), Some("Assume"));
        assert_eq!(
            s.condition_keys,
            [
                "aws:multifactorauthpresent",
                "aws:principalorgid",
                "sts:externalid"
            ]
        );
        assert_eq!(s.resources, ["*"]);
        assert_eq!(s.sensitive_allowed, ["sts:AssumeRole"]);
        assert!(facts(
            &json!({"Statement": [{"Action": "*"}]}),
            &SensitiveActions::default()
        )
        .is_err());
    }
}
