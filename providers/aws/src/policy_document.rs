//! IAM policy documents: decoding whatever form they arrive in, and the few facts about them
//! that Cedar cannot derive itself (it has no way to look inside a JSON document).
//!
//! The facts are descriptions ("a statement allows `*` on `*`"), not verdicts: whether that is
//! acceptable is the rules' call. The documents themselves never go into the snapshot.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Decodes a policy document: an object (AWS CLI output), a JSON string, or a URL-encoded JSON
/// string (the IAM API, RFC 3986).
pub fn decode(document: &Value) -> Result<Value, String> {
    match document {
        Value::Object(_) => Ok(document.clone()),
        Value::String(text) => {
            let trimmed = text.trim_start();
            let json = if trimmed.starts_with('{') {
                trimmed.to_string()
            } else {
                percent_decode_str(trimmed)
                    .decode_utf8()
                    .map_err(|e| format!("policy document is not valid URL-encoded UTF-8: {e}"))?
                    .into_owned()
            };
            serde_json::from_str(&json)
                .map_err(|e| format!("policy document is not valid JSON: {e}"))
        }
        other => Err(format!(
            "policy document is neither a JSON object nor a string but {}",
            kind(other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The statements of a decoded document (`Statement` may be one object or a list).
pub(crate) fn statements(document: &Value) -> Result<Vec<&Value>, String> {
    match document.get("Statement") {
        Some(Value::Array(list)) => Ok(list.iter().collect()),
        Some(one @ Value::Object(_)) => Ok(vec![one]),
        Some(_) => Err("policy document's `Statement` is neither an object nor a list".into()),
        None => Err("policy document has no `Statement`".into()),
    }
}

/// A string-or-list field as a list of strings (other values are ignored).
pub(crate) fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn allows(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// Whether some statement grants administration in substance: it allows every action, or every
/// action but a list that leaves IAM allowed (`NotAction`), on every resource, or on every
/// resource but a list (`NotResource`). `Allow NotAction s3:* Resource *` grants `iam:*` and so
/// everything else; `Allow Action * NotResource <one ARN>` grants administration of the rest of
/// the account. Conditions do not change the answer: a conditional grant is still full
/// administrator access when it holds.
pub fn allows_full_admin(document: &Value) -> Result<bool, String> {
    Ok(statements(document)?
        .into_iter()
        .any(statement_grants_full_admin))
}

/// Whether one statement grants administration in substance (see [`allows_full_admin`]).
pub(crate) fn statement_grants_full_admin(s: &Value) -> bool {
    let every_action = strings(s.get("Action"))
        .iter()
        .any(|a| *a == "*" || *a == "*:*")
        || (s.get("NotAction").is_some()
            && !strings(s.get("NotAction"))
                .iter()
                .any(|a| covers_all_of_iam(a)));
    let every_resource =
        strings(s.get("Resource")).contains(&"*") || s.get("NotResource").is_some();
    allows(s) && every_action && every_resource
}

/// Whether an action pattern matches every IAM action (`*`, `*:*`, `iam:*`, `iam*`, `i*`):
/// excluding it from a `NotAction` keeps a statement from granting IAM. Actions are
/// case-insensitive.
fn covers_all_of_iam(pattern: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    p == "*:*"
        || p.strip_suffix('*')
            .is_some_and(|prefix| "iam:".starts_with(prefix))
}

/// Whether a trust policy lets any principal (`"*"`, or `"*"` under `AWS` or another key) assume
/// the role with no condition attached.
pub fn trusts_any_principal(document: &Value) -> Result<bool, String> {
    Ok(statements(document)?.into_iter().any(|s| {
        let unconditional = match s.get("Condition") {
            None | Some(Value::Null) => true,
            Some(Value::Object(c)) => c.is_empty(),
            Some(_) => false,
        };
        let any_principal = match s.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(by_kind)) => {
                by_kind.values().any(|v| strings(Some(v)).contains(&"*"))
            }
            _ => false,
        };
        allows(s) && unconditional && any_principal
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ADMIN_URL_ENCODED: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";

    #[test]
    fn decodes_url_encoded_raw_json_and_objects_alike() {
        let from_api = decode(&json!(ADMIN_URL_ENCODED)).unwrap();
        let raw = decode(&json!(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        ))
        .unwrap();
        let object = decode(&json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})).unwrap();
        assert_eq!(from_api, raw);
        assert_eq!(raw, object);
        assert!(allows_full_admin(&from_api).unwrap());
    }

    #[test]
    fn garbage_is_an_error_not_a_fact() {
        assert!(decode(&json!("%7Bnot json")).is_err());
        assert!(decode(&json!(42)).is_err());
        assert!(allows_full_admin(&json!({"Version": "2012-10-17"})).is_err());
    }

    #[test]
    fn full_admin_is_every_action_on_every_resource_in_substance() {
        let cases = [
            (
                json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["*"]}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
                false,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
                false,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}]}),
                false,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
                false,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "NotAction": ["IAM:*", "s3:*"], "Resource": "*"}]}),
                false,
            ),
            // Everything but S3, IAM included: administration in substance.
            (
                json!({"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}),
                true,
            ),
            // Everything but an action that does not exist.
            (
                json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:NoSuchAction", "Resource": "*"}]}),
                true,
            ),
            // Everything on everything but one ARN.
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit-logs"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "NotResource": "arn:aws:s3:::audit-logs"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}]}),
                false,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:s3:::bucket"}]}),
                false,
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(allows_full_admin(&doc).unwrap(), want, "{doc}");
        }
    }

    #[test]
    fn any_principal_without_condition_is_detected() {
        let cases = [
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}, "Action": "sts:AssumeRole"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}),
                false,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
                false,
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]}),
                false,
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(trusts_any_principal(&doc).unwrap(), want, "{doc}");
        }
    }
}
