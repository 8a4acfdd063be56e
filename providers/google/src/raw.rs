//! Raw Admin SDK Directory API payloads, as the discovery document `admin:directory_v1` describes
//! them. Every field the collector reads is optional here, because the API omits fields freely:
//! an absent field becomes an uncollected fact in the mapping, never a default value.

use serde::Deserialize;

/// Why something could not be read: the call, the status and Google's reason. Never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    /// One line, e.g. `GET /admin/directory/v1/users: 403 forbidden: Not Authorized to access
    /// this resource/api`.
    pub reason: String,
}

impl ReadFailure {
    /// A failure with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// A list or object that was read, or why not.
pub type Fetched<T> = Result<T, ReadFailure>;

/// Google's error envelope: `{"error": {"code", "message", "status", "errors": [{"reason", …}]}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorPayload {
    /// The error, when the body is Google's envelope.
    pub error: Option<ErrorBody>,
}

/// The inside of [`ErrorPayload`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    /// Human-readable message.
    pub message: Option<String>,
    /// Canonical status, e.g. `PERMISSION_DENIED`.
    pub status: Option<String>,
    /// Legacy per-error details with a `reason` such as `forbidden` or `rateLimitExceeded`.
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

/// One entry of [`ErrorBody::errors`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorItem {
    /// E.g. `forbidden`, `notFound`, `rateLimitExceeded`.
    pub reason: Option<String>,
}

impl ErrorPayload {
    /// Parses an error body; anything else is an empty payload.
    pub fn parse(body: &str) -> Self {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// The legacy reasons.
    pub fn reasons(&self) -> impl Iterator<Item = &str> {
        self.error
            .iter()
            .flat_map(|e| &e.errors)
            .filter_map(|i| i.reason.as_deref())
    }

    /// ` forbidden: message` (leading space), or empty.
    pub fn describe(&self) -> String {
        let Some(e) = &self.error else {
            return String::new();
        };
        let code = self
            .reasons()
            .next()
            .map(str::to_string)
            .or_else(|| e.status.clone());
        match (code, &e.message) {
            (Some(c), Some(m)) => format!(" {c}: {m}"),
            (Some(c), None) => format!(" {c}"),
            (None, Some(m)) => format!(": {m}"),
            (None, None) => String::new(),
        }
    }
}

/// `GET /admin/directory/v1/customers/my_customer`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The customer's immutable id (`C01abc2de`).
    pub id: Option<String>,
    /// The primary domain.
    pub customer_domain: Option<String>,
    /// When the account was created (RFC 3339).
    pub customer_creation_time: Option<String>,
}

/// One page of `GET /admin/directory/v1/users` (`users` is absent on an empty page).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersPage {
    /// The users of this page.
    #[serde(default)]
    pub users: Vec<User>,
    /// Token of the next page, absent on the last.
    pub next_page_token: Option<String>,
}

/// A user (`projection=full`); only the fields the collector reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's unique id (role assignments name users by it).
    pub id: Option<String>,
    /// Primary email address.
    pub primary_email: Option<String>,
    /// Super administrator.
    pub is_admin: Option<bool>,
    /// Holds a delegated (non-super) administrator role.
    pub is_delegated_admin: Option<bool>,
    /// Enrolled in 2-Step Verification.
    #[serde(rename = "isEnrolledIn2Sv")]
    pub is_enrolled_in_2sv: Option<bool>,
    /// 2-Step Verification is enforced for the user.
    #[serde(rename = "isEnforcedIn2Sv")]
    pub is_enforced_in_2sv: Option<bool>,
    /// Suspended.
    pub suspended: Option<bool>,
    /// Archived.
    pub archived: Option<bool>,
    /// When the account was created (RFC 3339).
    pub creation_time: Option<String>,
    /// Last sign-in (RFC 3339); `1970-01-01T00:00:00.000Z` when the user never signed in.
    pub last_login_time: Option<String>,
    /// Organisational unit path, e.g. `/Engineering`.
    pub org_unit_path: Option<String>,
}

/// One page of `GET /admin/directory/v1/customer/my_customer/roles` (`items` absent when empty).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolesPage {
    /// The roles.
    #[serde(default)]
    pub items: Vec<Role>,
    /// Token of the next page.
    pub next_page_token: Option<String>,
}

/// An administrator role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Its id (an int64 as a string).
    pub role_id: Option<String>,
    /// Its name, e.g. `_SEED_ADMIN_ROLE` for super admin.
    pub role_name: Option<String>,
    /// It is the super administrator role.
    pub is_super_admin_role: Option<bool>,
}

/// One page of `GET /admin/directory/v1/customer/my_customer/roleassignments`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentsPage {
    /// The assignments.
    #[serde(default)]
    pub items: Vec<RoleAssignment>,
    /// Token of the next page.
    pub next_page_token: Option<String>,
}

/// A role held by a user or a group.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    /// The role's id.
    pub role_id: Option<String>,
    /// The user's (or group's) unique id.
    pub assigned_to: Option<String>,
    /// `USER` or `GROUP` (output only; older answers omit it, meaning a user).
    pub assignee_type: Option<String>,
}

/// Everything fetched for one customer.
#[derive(Debug, Clone)]
pub struct RawDirectory {
    /// The customer.
    pub customer: Fetched<Customer>,
    /// Every user, all pages.
    pub users: Fetched<Vec<User>>,
    /// Every role.
    pub roles: Fetched<Vec<Role>>,
    /// Every role assignment.
    pub assignments: Fetched<Vec<RoleAssignment>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_described_from_googles_envelope() {
        let e = ErrorPayload::parse(
            r#"{"error": {"code": 403, "message": "Not Authorized to access this resource/api",
                "errors": [{"message": "Not Authorized to access this resource/api", "domain": "global", "reason": "forbidden"}],
                "status": "PERMISSION_DENIED"}}"#,
        );
        assert_eq!(
            e.describe(),
            " forbidden: Not Authorized to access this resource/api"
        );
        assert_eq!(ErrorPayload::parse("<html>").describe(), "");
    }
}
