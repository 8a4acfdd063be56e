//! Raw Okta management API payloads, as Okta's OpenAPI description (okta-management) describes
//! them. Every field the collector reads is optional or nullable here: an absent field becomes an
//! uncollected fact in the mapping, never a default value.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Why something could not be read: the call, the status and Okta's error. Never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    /// One line, e.g. `GET /api/v1/users: 403 E0000006: You do not have permission …`.
    pub reason: String,
    /// The HTTP status that ended the call, when there was one.
    pub status: Option<u16>,
}

impl ReadFailure {
    /// A failure with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            status: None,
        }
    }

    /// The same failure, ended by this HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

/// A list or object that was read, or why not.
pub type Fetched<T> = Result<T, ReadFailure>;

/// Okta's error body: `{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorPayload {
    /// E.g. `E0000006`.
    pub error_code: Option<String>,
    /// E.g. `You do not have permission to perform the requested action`.
    pub error_summary: Option<String>,
}

impl ErrorPayload {
    /// Parses an error body; anything else is an empty payload.
    pub fn parse(body: &str) -> Self {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// ` E0000006: summary` (leading space), or empty.
    pub fn describe(&self) -> String {
        match (&self.error_code, &self.error_summary) {
            (Some(c), Some(s)) => format!(" {c}: {s}"),
            (Some(c), None) => format!(" {c}"),
            (None, Some(s)) => format!(": {s}"),
            (None, None) => String::new(),
        }
    }
}

/// A field that may be absent (not returned: unknown) or `null` (returned as nothing: a fact).
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A user of `GET /api/v1/users`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's id (`00u…`).
    pub id: Option<String>,
    /// `STAGED`, `PROVISIONED`, `ACTIVE`, `RECOVERY`, `PASSWORD_EXPIRED`, `LOCKED_OUT`,
    /// `SUSPENDED` or `DEPROVISIONED`.
    pub status: Option<String>,
    /// When the user was created.
    pub created: Option<String>,
    /// Last sign-in; `null` when the user never signed in.
    #[serde(default, deserialize_with = "nullable")]
    pub last_login: Option<Option<String>>,
    /// The profile.
    pub profile: Option<Profile>,
}

/// The part of a user's profile the collector reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Profile {
    /// The sign-in name (often an email address).
    pub login: Option<String>,
}

/// A factor of `GET /api/v1/users/{id}/factors`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Factor {
    /// E.g. `webauthn`, `u2f`, `signed_nonce` (Okta FastPass), `push`, `token:software:totp`,
    /// `sms`, `call`, `email`, `question`.
    pub factor_type: Option<String>,
    /// `ACTIVE`, `PENDING_ACTIVATION`, `NOT_SETUP`, `ENROLLED`, `DISABLED`, `INACTIVE`, `EXPIRED`.
    pub status: Option<String>,
}

/// One page of `GET /api/v1/iam/assignees/users`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoleAssignedUsers {
    /// Users holding at least one admin role.
    #[serde(default)]
    pub value: Vec<RoleAssignedUser>,
    /// `_links.next.href` (the next page, also given in a `Link` header).
    #[serde(rename = "_links")]
    pub links: Option<Links>,
}

/// `_links`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Links {
    /// The next page.
    pub next: Option<Href>,
}

/// `{"href": …}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Href {
    /// The URL.
    pub href: Option<String>,
}

/// One entry of [`RoleAssignedUsers::value`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoleAssignedUser {
    /// The user's id.
    pub id: Option<String>,
}

/// A role of `GET /api/v1/users/{id}/roles`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// E.g. `SUPER_ADMIN`, `ORG_ADMIN`, `APP_ADMIN`, `READ_ONLY_ADMIN`, `CUSTOM`.
    #[serde(rename = "type")]
    pub role_type: Option<String>,
    /// The role's label (custom roles are named by it).
    pub label: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    /// `USER` (direct) or `GROUP`.
    pub assignment_type: Option<String>,
}

/// A policy of `GET /api/v1/policies?type=OKTA_SIGN_ON` (global session policy) or
/// `type=MFA_ENROLL` (authenticator enrollment policy).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Policy {
    /// The policy's id (`00p…`).
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    /// Evaluation order (1 first).
    pub priority: Option<i64>,
    /// Whether Okta created it (the default policy).
    pub system: Option<bool>,
    /// `conditions.people.groups.include`: the groups it applies to.
    pub conditions: Option<PolicyConditions>,
    /// Enrollment policies: `settings`.
    pub settings: Option<EnrollmentSettings>,
}

/// `conditions` of a policy or a rule.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PolicyConditions {
    /// `people`; `null` when the rule has no people condition.
    pub people: Option<People>,
}

/// `conditions.people`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct People {
    /// `groups`.
    pub groups: Option<GroupCondition>,
}

/// `conditions.people.groups`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupCondition {
    /// Group ids included.
    pub include: Option<Vec<String>>,
    /// Group ids excluded.
    pub exclude: Option<Vec<String>>,
}

/// `settings` of an authenticator enrollment policy: `authenticators` (Identity Engine,
/// `type: AUTHENTICATORS`) or `factors` (Classic Engine, `type: FACTORS`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EnrollmentSettings {
    /// `AUTHENTICATORS` or `FACTORS`.
    #[serde(rename = "type")]
    pub settings_type: Option<String>,
    /// Identity Engine: one entry per enabled authenticator.
    pub authenticators: Option<Vec<AuthenticatorSetting>>,
    /// Classic Engine: factor key → its settings.
    pub factors: Option<BTreeMap<String, FactorSetting>>,
}

/// One entry of `settings.authenticators`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthenticatorSetting {
    /// E.g. `okta_verify`, `webauthn`, `okta_password`, `phone_number`.
    pub key: Option<String>,
    /// `enroll.self`.
    pub enroll: Option<Enroll>,
}

/// One value of `settings.factors`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FactorSetting {
    /// `enroll.self`.
    pub enroll: Option<Enroll>,
}

/// `enroll`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Enroll {
    /// `NOT_ALLOWED`, `OPTIONAL` or `REQUIRED`.
    #[serde(rename = "self")]
    pub self_: Option<String>,
}

/// A rule of `GET /api/v1/policies/{id}/rules` of a global session policy (`type: SIGN_ON`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignOnRule {
    /// The rule's id (`0pr…`).
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    /// Evaluation order within the policy; nullable.
    pub priority: Option<i64>,
    /// Whether Okta created it (the policy's catch-all rule).
    pub system: Option<bool>,
    /// `conditions.people` (groups and users the rule applies to).
    pub conditions: Option<PolicyConditions>,
    /// `actions.signon`.
    pub actions: Option<SignOnActions>,
}

/// `actions` of a sign-on rule.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignOnActions {
    /// `signon`.
    pub signon: Option<SignOn>,
}

/// `actions.signon`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOn {
    /// `ALLOW` or `DENY`.
    pub access: Option<String>,
    /// Whether a second factor is required.
    pub require_factor: Option<bool>,
    /// `ALWAYS`, `DEVICE` or `SESSION`; only with `requireFactor`.
    pub factor_prompt_mode: Option<String>,
    /// Minutes before MFA is asked again (`SESSION` prompt mode).
    pub factor_lifetime: Option<i64>,
    /// `session`.
    pub session: Option<Session>,
}

/// `actions.signon.session`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Minutes a session may be idle.
    pub max_session_idle_minutes: Option<i64>,
    /// Minutes a session lasts at most (`0`: no limit).
    pub max_session_lifetime_minutes: Option<i64>,
    /// Whether session cookies outlive the browser.
    pub use_persistent_cookie: Option<bool>,
}

/// Everything fetched for one org.
#[derive(Debug, Clone)]
pub struct RawOrg {
    /// The org's host (`acme.okta.com`).
    pub host: String,
    /// Every user, DEPROVISIONED ones included.
    pub users: Fetched<Vec<User>>,
    /// Factors per user id, for users who can sign in.
    pub factors: BTreeMap<String, Fetched<Vec<Factor>>>,
    /// Admin roles per user id holding any (users absent here hold none), or why the list of
    /// role holders could not be read.
    pub roles: Fetched<BTreeMap<String, Fetched<Vec<Role>>>>,
    /// Global session policies, each with its rules (or why they could not be read).
    pub sign_on: Fetched<Vec<(Policy, Fetched<Vec<SignOnRule>>)>>,
    /// Authenticator enrollment policies.
    pub enrollment: Fetched<Vec<Policy>>,
}
