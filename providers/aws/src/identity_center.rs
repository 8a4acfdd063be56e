//! IAM Identity Center (`--identity-center`): who may sign in to which account with which
//! permission set. Many organisations have no IAM users at all; their people sign in through
//! Identity Center, which neither `GetAccountAuthorizationDetails` nor the credential report sees.
//!
//! [`fetch`] reads an instance with the `sso-admin` and `identitystore` calls (AWS offers nothing
//! batched: a few calls per permission set, one listing per (permission set, account) and per
//! group, bounded by the collection's concurrency); [`mapping`] turns the raw data below into
//! entities, a pure function tested without a server. Like the rest of the crate it collects
//! facts, never verdicts: what could not be read is recorded as unknown, never guessed.

pub mod fetch;
pub mod mapping;
pub mod resolve;

use crate::raw::Fetched;

/// Everything read from Identity Center, through one account's credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct RawIdentityCenter {
    /// The account whose credentials read it (its entities belong to that account's source).
    pub account_id: String,
    /// The ARN partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// The region the instances were listed in (Identity Center is regional).
    pub region: String,
    /// `ListInstances`.
    pub instances: Fetched<Vec<RawInstance>>,
}

/// One Identity Center instance and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RawInstance {
    /// `arn:aws:sso:::instance/ssoins-…`.
    pub instance_arn: String,
    /// `d-…`: the identity store of its users and groups.
    pub identity_store_id: String,
    /// The account the instance belongs to (an organisation instance: the management account).
    pub owner_account_id: Option<String>,
    /// `ListPermissionSets`, each permission set read in full.
    pub permission_sets: Fetched<Vec<RawPermissionSet>>,
    /// `identitystore:ListUsers`.
    pub users: Fetched<Vec<RawUser>>,
    /// `identitystore:ListGroups`, each with its members.
    pub groups: Fetched<Vec<RawGroup>>,
}

/// `DescribePermissionSet`'s answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionSetDescription {
    /// Name.
    pub name: String,
    /// Description, when set.
    pub description: Option<String>,
    /// ISO 8601 duration (`PT1H`), when AWS said.
    pub session_duration: Option<String>,
}

/// One permission set and its assignments.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPermissionSet {
    /// `arn:aws:sso:::permissionSet/ssoins-…/ps-…`.
    pub arn: String,
    /// `DescribePermissionSet`.
    pub description: Fetched<PermissionSetDescription>,
    /// `ListManagedPoliciesInPermissionSet`: ARNs of the AWS-managed policies attached.
    pub managed_policies: Fetched<Vec<String>>,
    /// `ListCustomerManagedPolicyReferencesInPermissionSet`: `<path><name>` of each reference.
    pub customer_managed_policies: Fetched<Vec<String>>,
    /// `GetInlinePolicyForPermissionSet`: the inline policy document; `None` when there is none.
    pub inline_policy: Fetched<Option<String>>,
    /// `ListAccountsForProvisionedPermissionSet`, then `ListAccountAssignments` per account.
    pub accounts: Fetched<Vec<RawAccountAssignments>>,
}

/// The assignments of one permission set in one account.
#[derive(Debug, Clone, PartialEq)]
pub struct RawAccountAssignments {
    /// The 12-digit account id.
    pub account_id: String,
    /// `ListAccountAssignments`.
    pub assignments: Fetched<Vec<RawAssignment>>,
}

/// Who is assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct RawAssignment {
    /// `USER` or `GROUP`.
    pub principal_type: String,
    /// The identity store id of the user or group.
    pub principal_id: String,
}

/// `identitystore` `User`, reduced to who it is (no e-mail, address or phone number).
#[derive(Debug, Clone, PartialEq)]
pub struct RawUser {
    /// Identity store user id.
    pub user_id: String,
    /// `UserName`, the sign-in name.
    pub user_name: Option<String>,
    /// `DisplayName`.
    pub display_name: Option<String>,
}

/// `identitystore` `Group` and its members.
#[derive(Debug, Clone, PartialEq)]
pub struct RawGroup {
    /// Identity store group id.
    pub group_id: String,
    /// `DisplayName`.
    pub display_name: Option<String>,
    /// `ListGroupMemberships`: user ids of the members.
    pub members: Fetched<Vec<String>>,
}
