//! The `Aws::Account` entity: the account's identity, its root user and its password policy.
//!
//! Root facts never come from a guess: when neither the credential report's root row nor
//! GetAccountSummary can establish one, it is recorded as unknown.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};
use trustcheck_snapshot::Uid;

use super::{mfa_kind, Mapper, Report};
use crate::credential_report::{self, Row};
use crate::raw::{Fetched, PasswordPolicy};
use crate::timestamp;

impl Mapper<'_> {
    /// The account entity, parent of every other one.
    pub(super) fn account(
        &mut self,
        report: &Result<Report, String>,
        virtual_mfa: &Result<HashSet<String>, String>,
    ) {
        let uid = self.account.clone();
        let mut attrs = Map::new();
        attrs.insert("accountId".into(), json!(self.raw.account_id));
        self.alias(&uid, &mut attrs);
        let root = RootSources::new(report, &self.raw.account_summary);
        self.root_mfa(&uid, &mut attrs, &root, virtual_mfa);
        self.root_credentials(&uid, &mut attrs, &root);
        if let Ok(Report {
            generated_at: Some(t),
            ..
        }) = report
        {
            attrs.insert("credentialReportGeneratedAt".into(), json!(t));
        }
        self.password_policy(&uid, &mut attrs);
        self.out.push(uid, attrs, Vec::new());
    }

    /// `alias`: the first account alias (IAM allows one), absent when there is none.
    fn alias(&mut self, uid: &Uid, attrs: &mut Map<String, Value>) {
        match &self.raw.aliases {
            Ok(aliases) => {
                if let Some(alias) = aliases.first() {
                    attrs.insert("alias".into(), json!(alias));
                }
            }
            Err(e) => self.out.unknown(uid, "alias", e.to_string()),
        }
    }

    /// `rootMfaActive` and `rootMfaKind`.
    fn root_mfa(
        &mut self,
        uid: &Uid,
        attrs: &mut Map<String, Value>,
        root: &RootSources<'_>,
        virtual_mfa: &Result<HashSet<String>, String>,
    ) {
        let mfa_active = root.mfa_active();
        match &mfa_active {
            Ok(active) => {
                attrs.insert("rootMfaActive".into(), json!(active));
            }
            Err(e) => self.out.unknown(uid, "rootMfaActive", e.clone()),
        }
        match mfa_kind(&mfa_active, virtual_mfa, &uid.id) {
            Ok(kind) => {
                attrs.insert("rootMfaKind".into(), json!(kind));
            }
            Err(e) => self.out.unknown(uid, "rootMfaKind", e),
        }
    }

    /// `rootActiveAccessKeys` and `rootPasswordLastUsed`.
    fn root_credentials(
        &mut self,
        uid: &Uid,
        attrs: &mut Map<String, Value>,
        root: &RootSources<'_>,
    ) {
        match root.active_keys() {
            Ok(n) => {
                attrs.insert("rootActiveAccessKeys".into(), json!(n));
            }
            Err(e) => self.out.unknown(uid, "rootActiveAccessKeys", e),
        }
        // Only the report has it: GetAccountSummary says nothing about the root password.
        match root.row {
            Some(row) => {
                if let Some(t) = timestamp::normalize(&row.password_last_used) {
                    attrs.insert("rootPasswordLastUsed".into(), json!(t));
                }
            }
            None => self
                .out
                .unknown(uid, "rootPasswordLastUsed", root.no_row.clone()),
        }
    }

    /// `passwordPolicyExists` and `passwordPolicy`.
    fn password_policy(&mut self, uid: &Uid, attrs: &mut Map<String, Value>) {
        match &self.raw.password_policy {
            Ok(None) => {
                attrs.insert("passwordPolicyExists".into(), json!(false));
            }
            Ok(Some(p)) => {
                attrs.insert("passwordPolicyExists".into(), json!(true));
                match password_policy_record(p) {
                    Some(policy) => {
                        attrs.insert("passwordPolicy".into(), Value::Object(policy));
                    }
                    None => self.out.unknown(
                        uid,
                        "passwordPolicy",
                        "GetAccountPasswordPolicy: the policy has no MinimumPasswordLength",
                    ),
                }
            }
            Err(e) => {
                self.out.unknown(uid, "passwordPolicyExists", e.to_string());
                self.out.unknown(uid, "passwordPolicy", e.to_string());
            }
        }
    }
}

/// The `passwordPolicy` record; `None` when AWS gave no minimum length, so that the record is
/// unknown as a whole rather than written without it.
fn password_policy_record(p: &PasswordPolicy) -> Option<Map<String, Value>> {
    let len = p.minimum_password_length?;
    let mut policy = Map::new();
    policy.insert("minimumLength".into(), json!(len));
    policy.insert(
        "requireUppercase".into(),
        json!(p.require_uppercase_characters),
    );
    policy.insert(
        "requireLowercase".into(),
        json!(p.require_lowercase_characters),
    );
    policy.insert("requireNumbers".into(), json!(p.require_numbers));
    policy.insert("requireSymbols".into(), json!(p.require_symbols));
    policy.insert(
        "allowUsersToChangePassword".into(),
        json!(p.allow_users_to_change_password),
    );
    if let Some(n) = p.password_reuse_prevention {
        policy.insert("reusePrevention".into(), json!(n));
    }
    if let Some(n) = p.max_password_age {
        policy.insert("maxPasswordAgeDays".into(), json!(n));
    }
    Some(policy)
}

/// Where the root user's facts come from: the credential report's `<root_account>` row, else
/// GetAccountSummary, which carries the same MFA and key-presence flags (and is all some
/// emulators provide).
struct RootSources<'r> {
    row: Option<&'r Row>,
    /// Why there is no row; it leads every error of a fact the summary could not give either.
    no_row: String,
    summary: Result<&'r BTreeMap<String, i64>, String>,
}

impl<'r> RootSources<'r> {
    fn new(
        report: &'r Result<Report, String>,
        summary: &'r Fetched<BTreeMap<String, i64>>,
    ) -> Self {
        let no_row = match report {
            Ok(_) => format!(
                "the credential report has no `{}` row",
                credential_report::ROOT_USER
            ),
            Err(e) => e.clone(),
        };
        Self {
            row: report.as_ref().ok().and_then(|r| r.root.as_ref()),
            no_row,
            summary: summary.as_ref().map_err(|e| e.to_string()),
        }
    }

    fn summary_flag(&self, key: &str) -> Result<i64, String> {
        match &self.summary {
            Ok(map) => map
                .get(key)
                .copied()
                .ok_or_else(|| format!("GetAccountSummary has no `{key}`")),
            Err(e) => Err(e.clone()),
        }
    }

    /// Whether the root user has MFA.
    fn mfa_active(&self) -> Result<bool, String> {
        match self.row {
            Some(row) => Ok(row.mfa_active == "true"),
            None => self
                .summary_flag("AccountMFAEnabled")
                .map(|v| v == 1)
                .map_err(|e| format!("{}; {e}", self.no_row)),
        }
    }

    /// The root user's active access keys. The summary only says whether keys exist, so
    /// alone it can only answer 0.
    fn active_keys(&self) -> Result<i64, String> {
        let no_row = &self.no_row;
        match self.row {
            Some(row) => Ok(row.active_keys()),
            None => match self.summary_flag("AccountAccessKeysPresent") {
                Ok(0) => Ok(0),
                Ok(_) => Err(format!(
                    "{no_row}; GetAccountSummary says the root user has access keys but not whether they are active"
                )),
                Err(e) => Err(format!("{no_row}; {e}")),
            },
        }
    }
}
