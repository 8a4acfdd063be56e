//! Raw IAM data as AWS returns it, before any interpretation.
//!
//! The structs mirror the JSON shapes of the IAM API (and of `aws iam … --output json`), so a
//! recorded payload deserialises straight into them and the mapping can be tested without a
//! server. Policy documents are kept as they came: a URL-encoded string (the API), a raw JSON
//! string (some emulators) or an object (the AWS CLI, which decodes them).
//!
//! Nothing here is secret: fields that could be (virtual MFA seeds, QR codes, access key ids) are
//! never copied from the SDK.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The result of one API call (or one paginated listing): the data, or why it could not be read.
pub type Fetched<T> = Result<T, ReadFailure>;

/// An API call that failed after the SDK's retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFailure {
    /// The IAM or STS operation, e.g. `GetAccountAuthorizationDetails`.
    pub operation: String,
    /// What AWS (or the network) said: error code and message, or the transport failure.
    pub reason: String,
}

impl ReadFailure {
    /// A failed `operation` and why.
    pub fn new(operation: &str, reason: impl Into<String>) -> Self {
        Self {
            operation: operation.to_string(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.operation, self.reason)
    }
}

/// Everything read from one account.
#[derive(Debug, Clone, PartialEq)]
pub struct RawAccount {
    /// The 12-digit account id.
    pub account_id: String,
    /// The ARN partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// `ListAccountAliases`.
    pub aliases: Fetched<Vec<String>>,
    /// `GetAccountAuthorizationDetails`, all pages merged.
    pub authorization_details: Fetched<AuthorizationDetails>,
    /// `GenerateCredentialReport` + `GetCredentialReport`.
    pub credential_report: Fetched<CredentialReport>,
    /// `GetAccountSummary`'s `SummaryMap`.
    pub account_summary: Fetched<BTreeMap<String, i64>>,
    /// `GetAccountPasswordPolicy`; `None` when AWS said `NoSuchEntity` (no policy is set).
    pub password_policy: Fetched<Option<PasswordPolicy>>,
    /// `ListVirtualMFADevices` (assigned devices only), all pages merged.
    pub virtual_mfa_devices: Fetched<Vec<VirtualMfaDevice>>,
}

/// `GetAccountAuthorizationDetails` output (pages merged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthorizationDetails {
    /// Users.
    #[serde(default)]
    pub user_detail_list: Vec<UserDetail>,
    /// Groups.
    #[serde(default)]
    pub group_detail_list: Vec<GroupDetail>,
    /// Roles.
    #[serde(default)]
    pub role_detail_list: Vec<RoleDetail>,
    /// Managed policies (customer-managed, and AWS-managed ones).
    #[serde(default)]
    pub policies: Vec<ManagedPolicyDetail>,
}

/// `UserDetail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserDetail {
    /// Path, e.g. `/`.
    #[serde(default)]
    pub path: Option<String>,
    /// User name.
    pub user_name: String,
    /// ARN.
    pub arn: String,
    /// Creation time (ISO 8601).
    pub create_date: String,
    /// Inline policies.
    #[serde(default)]
    pub user_policy_list: Vec<InlinePolicy>,
    /// Names of the groups the user is in.
    #[serde(default)]
    pub group_list: Vec<String>,
    /// Managed policies attached directly.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

/// `GroupDetail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupDetail {
    /// Path.
    #[serde(default)]
    pub path: Option<String>,
    /// Group name.
    pub group_name: String,
    /// ARN.
    pub arn: String,
    /// Creation time.
    #[serde(default)]
    pub create_date: Option<String>,
    /// Inline policies.
    #[serde(default)]
    pub group_policy_list: Vec<InlinePolicy>,
    /// Attached managed policies.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

/// `RoleDetail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleDetail {
    /// Path; `/aws-service-role/…` for service-linked roles.
    #[serde(default)]
    pub path: Option<String>,
    /// Role name.
    pub role_name: String,
    /// ARN.
    pub arn: String,
    /// Creation time.
    pub create_date: String,
    /// The trust policy.
    #[serde(default)]
    pub assume_role_policy_document: Option<Value>,
    /// Inline policies.
    #[serde(default)]
    pub role_policy_list: Vec<InlinePolicy>,
    /// Attached managed policies.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    /// When and where the role was last used.
    #[serde(default)]
    pub role_last_used: Option<RoleLastUsed>,
}

/// `RoleLastUsed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleLastUsed {
    /// Last use (absent when never used in the tracking period).
    #[serde(default)]
    pub last_used_date: Option<String>,
    /// Region of the last use.
    #[serde(default)]
    pub region: Option<String>,
}

/// `PolicyDetail`: an inline policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    /// Policy name.
    pub policy_name: String,
    /// The document: URL-encoded string, raw JSON string, or object.
    #[serde(default)]
    pub policy_document: Option<Value>,
}

/// `AttachedPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    /// Policy name.
    #[serde(default)]
    pub policy_name: Option<String>,
    /// Policy ARN.
    pub policy_arn: String,
}

/// `ManagedPolicyDetail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicyDetail {
    /// Policy name.
    pub policy_name: String,
    /// ARN (`arn:aws:iam::aws:policy/…` for AWS-managed policies).
    pub arn: String,
    /// Path.
    #[serde(default)]
    pub path: Option<String>,
    /// The version in force.
    #[serde(default)]
    pub default_version_id: Option<String>,
    /// Number of users, groups and roles it is attached to.
    #[serde(default)]
    pub attachment_count: i64,
    /// Versions with their documents.
    #[serde(default)]
    pub policy_version_list: Vec<PolicyVersion>,
}

/// `PolicyVersion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    /// The document: URL-encoded string, raw JSON string, or object.
    #[serde(default)]
    pub document: Option<Value>,
    /// Version id, e.g. `v3`.
    #[serde(default)]
    pub version_id: Option<String>,
    /// Whether this is the version in force.
    #[serde(default)]
    pub is_default_version: bool,
}

/// The credential report and when AWS generated it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialReport {
    /// `GeneratedTime` (ISO 8601), when AWS said.
    pub generated_time: Option<String>,
    /// The CSV text.
    pub content: String,
}

/// `PasswordPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    /// Minimum length (AWS's default when unset is 8).
    #[serde(default)]
    pub minimum_password_length: Option<i64>,
    /// Symbols required.
    #[serde(default)]
    pub require_symbols: bool,
    /// Digits required.
    #[serde(default)]
    pub require_numbers: bool,
    /// Upper-case letters required.
    #[serde(default)]
    pub require_uppercase_characters: bool,
    /// Lower-case letters required.
    #[serde(default)]
    pub require_lowercase_characters: bool,
    /// Users may change their own password.
    #[serde(default)]
    pub allow_users_to_change_password: bool,
    /// Days before a password expires.
    #[serde(default)]
    pub max_password_age: Option<i64>,
    /// Previous passwords that cannot be reused.
    #[serde(default)]
    pub password_reuse_prevention: Option<i64>,
}

/// `VirtualMFADevice`, reduced to who it is assigned to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VirtualMfaDevice {
    /// The device ARN, e.g. `arn:aws:iam::123456789012:mfa/alice`.
    pub serial_number: String,
    /// The user it is assigned to (the root user has the account root ARN).
    #[serde(default)]
    pub user: Option<MfaDeviceUser>,
}

/// The `User` of a virtual MFA device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MfaDeviceUser {
    /// The user's ARN.
    pub arn: String,
}
