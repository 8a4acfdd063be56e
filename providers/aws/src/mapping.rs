//! The pure half of the collector: raw IAM data of one account → Cedar entities, and the facts
//! that could not be read.
//!
//! No I/O and no clock here, so it is tested on recorded payloads. It derives facts (a statement
//! allows `*` on `*`, the number of active keys, which kind of MFA device) but never a verdict: a
//! fact it cannot establish is left absent and recorded as a [`UncollectedFact`], never guessed.
//!
//! This module holds the walk over one account and what every entity kind shares; each entity
//! kind is mapped in its own submodule: `account` (`Aws::Account`), `users` (`Aws::IamUser` and
//! `Aws::AccessKey`), `groups`, `roles` and `policies` (managed and inline `Aws::IamPolicy`).

mod account;
mod groups;
mod policies;
mod roles;
mod users;

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::credential_report::{self, Row};
use crate::raw::{AuthorizationDetails, RawAccount};
use crate::statements::SensitiveActions;
use crate::timestamp;
use policies::{Attachments, ManagedPolicies};
use trustcheck_snapshot::{Entity, Uid, UncollectedFact};

/// Entity type names of the `Aws::` schema fragment.
pub mod types {
    /// `Aws::Account`.
    pub const ACCOUNT: &str = "Aws::Account";
    /// `Aws::IamUser`.
    pub const USER: &str = "Aws::IamUser";
    /// `Aws::IamGroup`.
    pub const GROUP: &str = "Aws::IamGroup";
    /// `Aws::IamRole`.
    pub const ROLE: &str = "Aws::IamRole";
    /// `Aws::IamPolicy`.
    pub const POLICY: &str = "Aws::IamPolicy";
    /// `Aws::AccessKey`.
    pub const ACCESS_KEY: &str = "Aws::AccessKey";
    /// `Aws::PolicyStatement`.
    pub const STATEMENT: &str = "Aws::PolicyStatement";
    /// `Aws::TrustStatement`.
    pub const TRUST_STATEMENT: &str = "Aws::TrustStatement";
    /// `Aws::PermissionSet` (IAM Identity Center).
    pub const PERMISSION_SET: &str = "Aws::PermissionSet";
    /// `Aws::AccountAssignment` (IAM Identity Center).
    pub const ACCOUNT_ASSIGNMENT: &str = "Aws::AccountAssignment";
    /// `Aws::IdentityCenterUser`.
    pub const IDC_USER: &str = "Aws::IdentityCenterUser";
    /// `Aws::IdentityCenterGroup`.
    pub const IDC_GROUP: &str = "Aws::IdentityCenterGroup";
}

/// The user facts that come from the credential report.
const REPORT_FACTS: [&str; 6] = [
    "consoleAccess",
    "passwordLastUsed",
    "passwordLastChanged",
    "mfaActive",
    "mfaKind",
    "activeAccessKeys",
];

/// Entities and unknown facts of one account, both sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapped {
    /// The entities, sorted by uid.
    pub entities: Vec<Entity>,
    /// Facts that could not be read, sorted and without duplicates.
    pub errors: Vec<UncollectedFact>,
}

impl Mapped {
    /// Records a fact of `entity` that could not be read, and why.
    pub(crate) fn unknown(&mut self, entity: &Uid, fact: &str, reason: impl Into<String>) {
        self.errors
            .push(UncollectedFact::new(entity.clone(), fact, reason));
    }

    /// Adds an entity.
    pub(crate) fn push(&mut self, uid: Uid, attrs: Map<String, Value>, parents: Vec<Uid>) {
        self.entities.push(Entity {
            uid,
            attrs,
            parents,
        });
    }
}

/// Turns one account's raw data into entities, statements resolved against the shipped
/// sensitive actions. Never fails: what cannot be known is recorded.
pub fn map_account(raw: &RawAccount) -> Mapped {
    map_account_with(raw, &SensitiveActions::default())
}

/// [`map_account`], statements resolved against `sensitive` (the shipped list and the
/// organisation's additions).
pub fn map_account_with(raw: &RawAccount, sensitive: &SensitiveActions) -> Mapped {
    let prefix = format!("arn:{}:iam::{}:", raw.partition, raw.account_id);
    let mut m = Mapper {
        account: Uid::new(types::ACCOUNT, format!("{prefix}root")),
        prefix,
        raw,
        sensitive,
        out: Mapped::default(),
    };
    let report = m.report();
    let virtual_mfa = m.virtual_mfa_users();
    m.account(&report, &virtual_mfa);
    match &raw.authorization_details {
        Ok(details) => m.with_details(details, &report, &virtual_mfa),
        Err(e) => m.without_details(&e.to_string(), &report, &virtual_mfa),
    }
    let mut out = m.out;
    out.entities.sort_by(|a, b| a.uid.cmp(&b.uid));
    out.errors.sort();
    out.errors.dedup();
    out
}

/// The parsed credential report.
struct Report {
    generated_at: Option<String>,
    root: Option<Row>,
    users: HashMap<String, Row>,
}

/// The state of one account's mapping: what was read, and what has been mapped so far.
struct Mapper<'a> {
    raw: &'a RawAccount,
    /// `arn:<partition>:iam::<account id>:`, the start of every IAM ARN of the account.
    prefix: String,
    /// The account entity, parent of every other one.
    account: Uid,
    /// What statements' sensitive actions are resolved against.
    sensitive: &'a SensitiveActions,
    out: Mapped,
}

impl Mapper<'_> {
    /// An entity whose listing failed: a uid that is not among the entities, so every rule on
    /// the type reports `error` instead of passing over an empty list.
    fn unlisted(&mut self, type_name: &str, pattern: &str, reason: &str) {
        let uid = Uid::new(type_name, format!("{}{pattern}", self.prefix));
        self.out.unknown(&uid, "*", reason);
    }

    /// A GetAccountAuthorizationDetails `CreateDate` as a timestamp. Without one the entity is
    /// not mapped: it is recorded as wholly unknown rather than described in part.
    fn created_at(&mut self, uid: &Uid, create_date: &str) -> Option<String> {
        let created = timestamp::normalize(create_date);
        if created.is_none() {
            self.out.unknown(
                uid,
                "*",
                format!(
                    "GetAccountAuthorizationDetails: CreateDate `{create_date}` is not a timestamp"
                ),
            );
        }
        created
    }

    fn report(&self) -> Result<Report, String> {
        let fetched = self
            .raw
            .credential_report
            .as_ref()
            .map_err(|e| e.to_string())?;
        let rows = credential_report::parse(&fetched.content)?;
        let mut report = Report {
            generated_at: fetched
                .generated_time
                .as_deref()
                .and_then(timestamp::normalize),
            root: None,
            users: HashMap::new(),
        };
        for row in rows {
            if row.is_root() {
                report.root = Some(row);
            } else {
                report.users.insert(row.arn.clone(), row);
            }
        }
        Ok(report)
    }

    /// ARNs of the users (and root) that have a virtual MFA device assigned.
    fn virtual_mfa_users(&self) -> Result<HashSet<String>, String> {
        let devices = self
            .raw
            .virtual_mfa_devices
            .as_ref()
            .map_err(|e| e.to_string())?;
        let root_device = format!("{}mfa/root-account-mfa-device", self.prefix);
        Ok(devices
            .iter()
            .filter_map(|d| match &d.user {
                Some(u) => Some(u.arn.clone()),
                // The root user's device is named by AWS; its `User` may be left out.
                None if d.serial_number == root_device => Some(self.account.id.clone()),
                None => None,
            })
            .collect())
    }

    /// Everything GetAccountAuthorizationDetails lists. Users, groups and roles come first:
    /// which of them attach a managed policy decides whether (and with which users) it is mapped.
    fn with_details(
        &mut self,
        details: &AuthorizationDetails,
        report: &Result<Report, String>,
        virtual_mfa: &Result<HashSet<String>, String>,
    ) {
        let policies = ManagedPolicies::new(&details.policies);
        let groups = groups::by_name(&details.group_detail_list, &policies);
        let mut attachments = Attachments::default();
        if let Err(e) = report {
            self.unlisted(types::ACCESS_KEY, "user/*/access-key/*", e);
        }
        for user in &details.user_detail_list {
            self.user(
                user,
                &policies,
                &groups,
                &mut attachments,
                report,
                virtual_mfa,
            );
        }
        for group in &details.group_detail_list {
            self.group(group, &policies, &mut attachments);
        }
        for role in &details.role_detail_list {
            self.role(role, &policies, &mut attachments);
        }
        for policy in &details.policies {
            self.managed_policy(policy, &attachments);
        }
    }

    /// GetAccountAuthorizationDetails failed: users still come from the credential report,
    /// everything only that call lists is recorded as unknown.
    fn without_details(
        &mut self,
        reason: &str,
        report: &Result<Report, String>,
        virtual_mfa: &Result<HashSet<String>, String>,
    ) {
        self.unlisted(types::GROUP, "group/*", reason);
        self.unlisted(types::ROLE, "role/*", reason);
        self.unlisted(types::POLICY, "policy/*", reason);
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                let both = format!("{reason}; {e}");
                self.unlisted(types::USER, "user/*", &both);
                self.unlisted(types::ACCESS_KEY, "user/*/access-key/*", &both);
                return;
            }
        };
        let mut rows: Vec<&Row> = report.users.values().collect();
        rows.sort_by(|a, b| a.arn.cmp(&b.arn));
        for row in rows {
            self.user_from_report(row, reason, virtual_mfa);
        }
    }
}

/// `virtual` when a virtual device is assigned to `arn`, `hardware` when MFA is active without
/// one (a hardware TOTP token or a FIDO security key), `none` without MFA.
fn mfa_kind(
    active: &Result<bool, String>,
    virtual_mfa: &Result<HashSet<String>, String>,
    arn: &str,
) -> Result<&'static str, String> {
    match active {
        Err(e) => Err(e.clone()),
        Ok(false) => Ok("none"),
        Ok(true) => match virtual_mfa {
            Ok(users) if users.contains(arn) => Ok("virtual"),
            Ok(_) => Ok("hardware"),
            Err(e) => Err(e.clone()),
        },
    }
}

/// Owned, sorted and without duplicates, so that attribute sets do not depend on API order.
fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{json, Value};

    use super::*;
    use crate::raw::{
        CredentialReport, MfaDeviceUser, PasswordPolicy, ReadFailure, VirtualMfaDevice,
    };

    const ACCOUNT: &str = "arn:aws:iam::111122223333:root";
    const DENIED: &str = "AccessDenied: User: arn:aws:iam::111122223333:user/auditor is not authorized to perform this action";

    /// The recorded account: every call answered.
    fn recorded() -> RawAccount {
        let details: AuthorizationDetails =
            serde_json::from_str(include_str!("../tests/fixtures/authorization-details.json"))
                .unwrap();
        RawAccount {
            account_id: "111122223333".into(),
            partition: "aws".into(),
            aliases: Ok(vec!["acme-prod".into()]),
            authorization_details: Ok(details),
            credential_report: Ok(CredentialReport {
                generated_time: Some("2026-11-22T02:00:00+00:00".into()),
                content: include_str!("../tests/fixtures/credential-report.csv").into(),
            }),
            account_summary: Ok(BTreeMap::from([
                ("AccountMFAEnabled".to_string(), 1),
                ("AccountAccessKeysPresent".to_string(), 1),
            ])),
            password_policy: Ok(Some(PasswordPolicy {
                minimum_password_length: Some(14),
                require_symbols: true,
                require_numbers: true,
                require_uppercase_characters: true,
                require_lowercase_characters: true,
                allow_users_to_change_password: true,
                max_password_age: None,
                password_reuse_prevention: Some(24),
            })),
            virtual_mfa_devices: Ok(vec![VirtualMfaDevice {
                serial_number: "arn:aws:iam::111122223333:mfa/carol".into(),
                user: Some(MfaDeviceUser {
                    arn: "arn:aws:iam::111122223333:user/engineering/carol".into(),
                }),
            }]),
        }
    }

    fn denied(operation: &str) -> ReadFailure {
        ReadFailure::new(operation, DENIED)
    }

    fn entity<'a>(m: &'a Mapped, type_name: &str, id: &str) -> &'a Map<String, Value> {
        &m.entities
            .iter()
            .find(|e| e.uid.type_name == type_name && e.uid.id == id)
            .unwrap_or_else(|| panic!("no {type_name} {id}"))
            .attrs
    }

    fn has_entity(m: &Mapped, type_name: &str, id: &str) -> bool {
        m.entities
            .iter()
            .any(|e| e.uid.type_name == type_name && e.uid.id == id)
    }

    fn unknown_facts<'a>(m: &'a Mapped, id: &str) -> Vec<&'a str> {
        m.errors
            .iter()
            .filter(|e| e.entity.id == id)
            .map(|e| e.fact.as_str())
            .collect()
    }

    #[test]
    fn root_row_gives_root_facts_and_hardware_mfa() {
        let m = map_account(&recorded());
        let account = entity(&m, types::ACCOUNT, ACCOUNT);
        assert_eq!(account["accountId"], json!("111122223333"));
        assert_eq!(account["alias"], json!("acme-prod"));
        assert_eq!(account["rootMfaActive"], json!(true));
        // No virtual device is assigned to root, so its MFA is a hardware device or key.
        assert_eq!(account["rootMfaKind"], json!("hardware"));
        assert_eq!(account["rootActiveAccessKeys"], json!(1));
        assert_eq!(
            account["rootPasswordLastUsed"],
            json!("2026-09-02T18:11:04Z")
        );
        assert_eq!(
            account["credentialReportGeneratedAt"],
            json!("2026-11-22T02:00:00Z")
        );
        assert_eq!(account["passwordPolicyExists"], json!(true));
        assert_eq!(
            account["passwordPolicy"],
            json!({"minimumLength": 14, "requireUppercase": true, "requireLowercase": true,
                   "requireNumbers": true, "requireSymbols": true, "reusePrevention": 24,
                   "allowUsersToChangePassword": true})
        );
        assert!(unknown_facts(&m, ACCOUNT).is_empty(), "{:?}", m.errors);
    }

    #[test]
    fn users_combine_authorization_details_and_credential_report() {
        let m = map_account(&recorded());
        let alice = entity(&m, types::USER, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(alice["consoleAccess"], json!(true));
        assert_eq!(alice["mfaActive"], json!(true));
        assert_eq!(alice["mfaKind"], json!("hardware"));
        assert_eq!(alice["passwordLastUsed"], json!("2026-11-21T08:30:00Z"));
        assert_eq!(alice["activeAccessKeys"], json!(1));
        // Admin through a group is not a direct grant.
        assert_eq!(alice["directFullAdmin"], json!(false));

        let bob = entity(&m, types::USER, "arn:aws:iam::111122223333:user/bob");
        assert_eq!(bob["directFullAdmin"], json!(true));
        assert_eq!(
            bob["attachedPolicyArns"],
            json!(["arn:aws:iam::aws:policy/AdministratorAccess"])
        );
        assert_eq!(bob["mfaKind"], json!("none"));
        assert_eq!(bob["activeAccessKeys"], json!(2));
        // `no_information`: the password exists but its use is unknown to AWS; absent, and the
        // rules fall back to when it was set.
        assert!(!bob.contains_key("passwordLastUsed"));
        assert_eq!(bob["passwordLastChanged"], json!("2023-05-01T12:00:00Z"));

        let carol = entity(
            &m,
            types::USER,
            "arn:aws:iam::111122223333:user/engineering/carol",
        );
        assert_eq!(carol["consoleAccess"], json!(false));
        assert_eq!(carol["mfaKind"], json!("virtual"));
        // An inline policy (URL-encoded, as the API sends it) granting * on *.
        assert_eq!(carol["directFullAdmin"], json!(true));
        assert!(!carol.contains_key("passwordLastChanged"));

        // A user deleted since the report was generated is not resurrected.
        assert!(!has_entity(
            &m,
            types::USER,
            "arn:aws:iam::111122223333:user/ghost"
        ));
    }

    #[test]
    fn a_user_newer_than_the_report_has_unknown_report_facts() {
        let m = map_account(&recorded());
        let dave = "arn:aws:iam::111122223333:user/dave";
        let attrs = entity(&m, types::USER, dave);
        assert!(!attrs.contains_key("consoleAccess"));
        let mut facts = unknown_facts(&m, dave);
        facts.sort();
        assert_eq!(
            facts,
            [
                "activeAccessKeys",
                "consoleAccess",
                "mfaActive",
                "mfaKind",
                "passwordLastChanged",
                "passwordLastUsed"
            ]
        );
        assert!(m
            .errors
            .iter()
            .any(|e| e.reason.contains("generated at 2026-11-22T02:00:00Z")));
    }

    #[test]
    fn access_keys_come_from_report_slots() {
        let m = map_account(&recorded());
        let k1 = entity(
            &m,
            types::ACCESS_KEY,
            "arn:aws:iam::111122223333:user/bob/access-key/1",
        );
        assert_eq!(k1["active"], json!(true));
        assert_eq!(k1["createdAt"], json!("2025-01-01T00:00:00Z"));
        assert!(!k1.contains_key("lastUsed"), "N/A means never used");
        assert_eq!(k1["ownerConsoleAccess"], json!(true));
        let k2 = entity(
            &m,
            types::ACCESS_KEY,
            "arn:aws:iam::111122223333:user/bob/access-key/2",
        );
        assert_eq!(k2["lastUsed"], json!("2026-11-20T00:00:00Z"));
        let carol = entity(
            &m,
            types::ACCESS_KEY,
            "arn:aws:iam::111122223333:user/engineering/carol/access-key/1",
        );
        assert_eq!(carol["active"], json!(false));
        assert_eq!(carol["ownerConsoleAccess"], json!(false));
        // Empty slots are not keys.
        assert!(!has_entity(
            &m,
            types::ACCESS_KEY,
            "arn:aws:iam::111122223333:user/alice/access-key/2"
        ));
        // Root's keys are counted on the account, not listed as user keys.
        assert!(!m.entities.iter().any(|e| e
            .uid
            .id
            .starts_with("arn:aws:iam::111122223333:root/access-key")));
    }

    #[test]
    fn groups_roles_and_policies_carry_document_facts() {
        let m = map_account(&recorded());
        let admins = entity(&m, types::GROUP, "arn:aws:iam::111122223333:group/admins");
        assert_eq!(admins["grantsFullAdmin"], json!(true));
        let devs = entity(&m, types::GROUP, "arn:aws:iam::111122223333:group/devs");
        // dev-access's *old* version allowed * on *; only the default version counts.
        assert_eq!(devs["grantsFullAdmin"], json!(false));
        let ops = "arn:aws:iam::111122223333:group/ops";
        assert!(!entity(&m, types::GROUP, ops).contains_key("grantsFullAdmin"));
        assert_eq!(unknown_facts(&m, ops), ["grantsFullAdmin"]);

        let open = entity(
            &m,
            types::ROLE,
            "arn:aws:iam::111122223333:role/partner-access",
        );
        assert_eq!(open["trustsAnyPrincipal"], json!(true));
        assert!(!open.contains_key("lastUsed"));
        let ci = entity(&m, types::ROLE, "arn:aws:iam::111122223333:role/ci-deploy");
        assert_eq!(ci["trustsAnyPrincipal"], json!(false));
        assert_eq!(ci["lastUsed"], json!("2026-11-21T22:10:00Z"));
        assert_eq!(ci["serviceLinked"], json!(false));
        let support = entity(
            &m,
            types::ROLE,
            "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport",
        );
        assert_eq!(support["serviceLinked"], json!(true));
        // dev-access's default version is not admin; the old version does not count.
        assert_eq!(ci["grantsFullAdmin"], json!(false));
        let broken = "arn:aws:iam::111122223333:role/broken";
        assert_eq!(unknown_facts(&m, broken), ["trustsAnyPrincipal"]);
        assert_eq!(
            entity(&m, types::ROLE, broken)["grantsFullAdmin"],
            json!(false)
        );

        let admin = entity(
            &m,
            types::POLICY,
            "arn:aws:iam::111122223333:root/aws-managed-policy/AdministratorAccess",
        );
        assert_eq!(admin["kind"], json!("aws-managed"));
        assert_eq!(admin["grantsFullAdmin"], json!(true));
        assert_eq!(admin["attachmentCount"], json!(2));
        assert_eq!(
            admin["attachedUsers"],
            json!(["arn:aws:iam::111122223333:user/bob"])
        );
        assert!(has_entity(&m, types::POLICY, "arn:aws:iam::111122223333:root/aws-managed-policy/aws-service-role/AWSSupportServiceRolePolicy"));
        // Unattached AWS-managed policies say nothing about the account.
        assert!(!m
            .entities
            .iter()
            .any(|e| e.uid.id.ends_with("/ReadOnlyAccess")));
        let glass = entity(
            &m,
            types::POLICY,
            "arn:aws:iam::111122223333:policy/break-glass",
        );
        assert_eq!(
            (glass["kind"].clone(), glass["grantsFullAdmin"].clone()),
            (json!("customer-managed"), json!(true))
        );
        let inline = entity(
            &m,
            types::POLICY,
            "arn:aws:iam::111122223333:user/engineering/carol/inline-policy/everything",
        );
        assert_eq!(
            inline["owner"],
            json!("arn:aws:iam::111122223333:user/engineering/carol")
        );
        assert_eq!(
            inline["attachedUsers"],
            json!(["arn:aws:iam::111122223333:user/engineering/carol"])
        );
        let group_inline = entity(
            &m,
            types::POLICY,
            "arn:aws:iam::111122223333:group/devs/inline-policy/read-logs",
        );
        assert_eq!(group_inline["grantsFullAdmin"], json!(false));
        assert_eq!(group_inline["attachedUsers"], json!([]));
    }

    #[test]
    fn user_parents_are_the_account_and_groups() {
        let m = map_account(&recorded());
        let alice = m
            .entities
            .iter()
            .find(|e| e.uid.id == "arn:aws:iam::111122223333:user/alice")
            .unwrap();
        assert_eq!(
            alice.parents,
            [
                Uid::new(types::ACCOUNT, ACCOUNT),
                Uid::new(types::GROUP, "arn:aws:iam::111122223333:group/admins")
            ]
        );
    }

    #[test]
    fn no_password_policy_is_a_fact() {
        let mut raw = recorded();
        raw.password_policy = Ok(None);
        let m = map_account(&raw);
        let account = entity(&m, types::ACCOUNT, ACCOUNT);
        assert_eq!(account["passwordPolicyExists"], json!(false));
        assert!(!account.contains_key("passwordPolicy"));
        assert!(unknown_facts(&m, ACCOUNT).is_empty());
    }

    #[test]
    fn without_root_row_the_account_summary_answers() {
        // What moto serves: a report with no `<root_account>` row.
        let mut raw = recorded();
        let content: String = include_str!("../tests/fixtures/credential-report.csv")
            .lines()
            .filter(|l| !l.starts_with("<root_account>"))
            .map(|l| format!("{l}\n"))
            .collect();
        raw.credential_report = Ok(CredentialReport {
            generated_time: None,
            content,
        });
        raw.account_summary = Ok(BTreeMap::from([
            ("AccountMFAEnabled".to_string(), 0),
            ("AccountAccessKeysPresent".to_string(), 0),
        ]));
        let m = map_account(&raw);
        let account = entity(&m, types::ACCOUNT, ACCOUNT);
        assert_eq!(account["rootMfaActive"], json!(false));
        assert_eq!(account["rootMfaKind"], json!("none"));
        assert_eq!(account["rootActiveAccessKeys"], json!(0));
        assert_eq!(unknown_facts(&m, ACCOUNT), ["rootPasswordLastUsed"]);

        // Keys present but no row to say whether they are active: unknown, not guessed.
        raw.account_summary = Ok(BTreeMap::from([
            ("AccountMFAEnabled".to_string(), 1),
            ("AccountAccessKeysPresent".to_string(), 1),
        ]));
        let m = map_account(&raw);
        let mut facts = unknown_facts(&m, ACCOUNT);
        facts.sort();
        assert_eq!(facts, ["rootActiveAccessKeys", "rootPasswordLastUsed"]);
    }

    #[test]
    fn denied_calls_become_unknown_facts_not_values() {
        let mut raw = recorded();
        raw.password_policy = Err(denied("GetAccountPasswordPolicy"));
        raw.virtual_mfa_devices = Err(denied("ListVirtualMFADevices"));
        raw.aliases = Err(denied("ListAccountAliases"));
        let m = map_account(&raw);
        let account = entity(&m, types::ACCOUNT, ACCOUNT);
        for fact in [
            "passwordPolicyExists",
            "passwordPolicy",
            "rootMfaKind",
            "alias",
        ] {
            assert!(!account.contains_key(fact), "{fact}");
        }
        let mut facts = unknown_facts(&m, ACCOUNT);
        facts.sort();
        assert_eq!(
            facts,
            [
                "alias",
                "passwordPolicy",
                "passwordPolicyExists",
                "rootMfaKind"
            ]
        );
        let reason = &m
            .errors
            .iter()
            .find(|e| e.fact == "passwordPolicy")
            .unwrap()
            .reason;
        assert!(
            reason.starts_with("GetAccountPasswordPolicy: AccessDenied"),
            "{reason}"
        );
        // Users with MFA now have an unknown kind; users without MFA still have `none`.
        assert_eq!(
            unknown_facts(&m, "arn:aws:iam::111122223333:user/alice"),
            ["mfaKind"]
        );
        assert_eq!(
            entity(&m, types::USER, "arn:aws:iam::111122223333:user/bob")["mfaKind"],
            json!("none")
        );
    }

    #[test]
    fn a_denied_credential_report_leaves_report_facts_and_keys_unknown() {
        let mut raw = recorded();
        raw.credential_report = Err(denied("GenerateCredentialReport"));
        raw.account_summary = Err(denied("GetAccountSummary"));
        let m = map_account(&raw);
        let alice = entity(&m, types::USER, "arn:aws:iam::111122223333:user/alice");
        for fact in REPORT_FACTS {
            assert!(!alice.contains_key(fact), "{fact}");
        }
        assert!(!m
            .entities
            .iter()
            .any(|e| e.uid.type_name == types::ACCESS_KEY));
        assert!(m.errors.iter().any(|e| e.entity
            == Uid::new(
                types::ACCESS_KEY,
                "arn:aws:iam::111122223333:user/*/access-key/*"
            )
            && e.fact == "*"));
        let mut facts = unknown_facts(&m, ACCOUNT);
        facts.sort();
        assert_eq!(
            facts,
            [
                "rootActiveAccessKeys",
                "rootMfaActive",
                "rootMfaKind",
                "rootPasswordLastUsed"
            ]
        );
    }

    #[test]
    fn denied_authorization_details_keeps_report_users_and_marks_lists_unknown() {
        let mut raw = recorded();
        raw.authorization_details = Err(denied("GetAccountAuthorizationDetails"));
        let m = map_account(&raw);
        // Users now come from the report (ghost included: nothing says it is gone).
        let ghost = entity(&m, types::USER, "arn:aws:iam::111122223333:user/ghost");
        assert_eq!(ghost["createdAt"], json!("2020-01-01T00:00:00Z"));
        assert_eq!(ghost["consoleAccess"], json!(true));
        let mut facts = unknown_facts(&m, "arn:aws:iam::111122223333:user/ghost");
        facts.sort();
        assert_eq!(
            facts,
            [
                "attachedPolicyArns",
                "directFullAdmin",
                "groupFullAdmin",
                "inlinePolicyNames"
            ]
        );
        for (t, id) in [
            (types::GROUP, "arn:aws:iam::111122223333:group/*"),
            (types::ROLE, "arn:aws:iam::111122223333:role/*"),
            (types::POLICY, "arn:aws:iam::111122223333:policy/*"),
        ] {
            assert!(
                m.errors
                    .iter()
                    .any(|e| e.entity == Uid::new(t, id) && e.fact == "*"),
                "{t}"
            );
            assert!(!m.entities.iter().any(|e| e.uid.type_name == t), "{t}");
        }

        // Nothing readable at all: every list is unknown, only the account remains.
        raw.credential_report = Err(denied("GenerateCredentialReport"));
        let m = map_account(&raw);
        assert_eq!(m.entities.len(), 1);
        assert!(m
            .errors
            .iter()
            .any(|e| e.entity == Uid::new(types::USER, "arn:aws:iam::111122223333:user/*")));
    }

    #[test]
    fn users_carry_inline_policy_names_and_admin_through_groups() {
        let m = map_account(&recorded());
        let user = |name: &str| {
            entity(
                &m,
                types::USER,
                &format!("arn:aws:iam::111122223333:user/{name}"),
            )
        };
        // alice is in `admins`, which attaches AdministratorAccess.
        assert_eq!(user("alice")["groupFullAdmin"], json!(true));
        assert_eq!(user("alice")["inlinePolicyNames"], json!([]));
        assert_eq!(user("bob")["groupFullAdmin"], json!(false));
        let carol = entity(
            &m,
            types::USER,
            "arn:aws:iam::111122223333:user/engineering/carol",
        );
        assert_eq!(carol["inlinePolicyNames"], json!(["everything"]));
        assert_eq!(carol["groupFullAdmin"], json!(false));
    }

    #[test]
    fn policy_statements_are_entities_of_their_policy() {
        let m = map_account(&recorded());
        let admin = "arn:aws:iam::111122223333:root/aws-managed-policy/AdministratorAccess";
        let s = entity(&m, types::STATEMENT, &format!("{admin}/statement/0"));
        assert_eq!(s["effect"], json!("Allow"));
        assert_eq!(s["actions"], json!(["*"]));
        assert_eq!(s["resources"], json!(["*"]));
        assert_eq!(s["grantsFullAdmin"], json!(true));
        assert!(s["sensitiveActionsAllowed"]
            .as_array()
            .unwrap()
            .contains(&json!("iam:PassRole")));
        let parent = m
            .entities
            .iter()
            .find(|e| e.uid.id == format!("{admin}/statement/0"))
            .unwrap();
        assert_eq!(parent.parents, [Uid::new(types::POLICY, admin)]);
        // Only the default version of dev-access is in force: reads, nothing sensitive.
        let dev = entity(
            &m,
            types::STATEMENT,
            "arn:aws:iam::111122223333:policy/dev-access/statement/0",
        );
        assert_eq!(dev["actions"], json!(["s3:Get*", "s3:List*"]));
        assert_eq!(dev["sensitiveActionsAllowed"], json!([]));
        // An inline policy's single-object `Statement`.
        let logs = entity(
            &m,
            types::STATEMENT,
            "arn:aws:iam::111122223333:group/devs/inline-policy/read-logs/statement/0",
        );
        assert_eq!(logs["actions"], json!(["logs:Get*"]));
    }

    #[test]
    fn the_organisations_sensitive_actions_reach_every_statement() {
        let extended = SensitiveActions::with_extra(&["s3:GetObject".into()]).unwrap();
        let m = map_account_with(&recorded(), &extended);
        let dev = entity(
            &m,
            types::STATEMENT,
            "arn:aws:iam::111122223333:policy/dev-access/statement/0",
        );
        assert_eq!(dev["sensitiveActionsAllowed"], json!(["s3:GetObject"]));
        let admin = "arn:aws:iam::111122223333:root/aws-managed-policy/AdministratorAccess";
        let s = entity(&m, types::STATEMENT, &format!("{admin}/statement/0"));
        assert!(s["sensitiveActionsAllowed"]
            .as_array()
            .unwrap()
            .contains(&json!("s3:GetObject")));
        let logs = entity(
            &m,
            types::STATEMENT,
            "arn:aws:iam::111122223333:group/devs/inline-policy/read-logs/statement/0",
        );
        assert_eq!(logs["sensitiveActionsAllowed"], json!([]));
    }

    #[test]
    fn trust_statements_are_entities_of_their_role() {
        let m = map_account(&recorded());
        let r = "arn:aws:iam::111122223333:role";
        // GitHub OIDC with an audience but no subject condition.
        let ci = entity(
            &m,
            types::TRUST_STATEMENT,
            &format!("{r}/ci-deploy/trust-statement/0"),
        );
        assert_eq!(ci["trustsGithubOidc"], json!(true));
        assert_eq!(ci["trustsOtherAccounts"], json!(false));
        assert_eq!(
            ci["conditionKeys"],
            json!(["token.actions.githubusercontent.com:aud"])
        );
        assert_eq!(ci["githubSubjects"], json!([]));
        let open = entity(
            &m,
            types::TRUST_STATEMENT,
            &format!("{r}/partner-access/trust-statement/0"),
        );
        assert_eq!(open["principalAccounts"], json!(["*"]));
        assert_eq!(open["trustsOtherAccounts"], json!(true));
        let support = entity(
            &m,
            types::TRUST_STATEMENT,
            &format!("{r}/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport/trust-statement/0"),
        );
        assert_eq!(
            support["principalServices"],
            json!(["support.amazonaws.com"])
        );
        // An unreadable trust policy leaves its statements unknown.
        let broken = format!("{r}/broken/trust-statement/*");
        assert_eq!(unknown_facts(&m, &broken), ["*"]);
    }

    #[test]
    fn output_is_sorted_and_deterministic() {
        let a = map_account(&recorded());
        let b = map_account(&recorded());
        assert_eq!(a, b);
        let uids: Vec<&Uid> = a.entities.iter().map(|e| &e.uid).collect();
        let mut sorted_uids = uids.clone();
        sorted_uids.sort();
        assert_eq!(uids, sorted_uids);
    }
}
