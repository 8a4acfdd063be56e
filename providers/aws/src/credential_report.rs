//! The IAM credential report: one CSV row per user, plus the root user's row `<root_account>`.
//!
//! Columns are read by name, so AWS adding columns does not break parsing. Placeholder values
//! (`N/A`, `no_information`, `not_supported`) are kept as they are; the mapping decides what each
//! means for each fact. This module only parses; it never judges.

use serde::Deserialize;

/// The user name AWS gives the root user's row.
pub const ROOT_USER: &str = "<root_account>";

/// One row of the report (the columns trustcheck reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Row {
    /// User name, or `<root_account>`.
    pub user: String,
    /// User ARN (the account root ARN for the root row).
    pub arn: String,
    /// When the user was created.
    pub user_creation_time: String,
    /// `true`, `false`, or `not_supported` (root).
    pub password_enabled: String,
    /// A time, `N/A` (never used) or `no_information` (not used since tracking began).
    pub password_last_used: String,
    /// A time, or `N/A` (no password).
    pub password_last_changed: String,
    /// `true` or `false`.
    pub mfa_active: String,
    /// `true` or `false`.
    pub access_key_1_active: String,
    /// When key 1 was created or last rotated; `N/A` when there is no key 1.
    pub access_key_1_last_rotated: String,
    /// When key 1 was last used; `N/A` when never.
    pub access_key_1_last_used_date: String,
    /// `true` or `false`.
    pub access_key_2_active: String,
    /// When key 2 was created or last rotated; `N/A` when there is no key 2.
    pub access_key_2_last_rotated: String,
    /// When key 2 was last used; `N/A` when never.
    pub access_key_2_last_used_date: String,
}

/// One access key slot of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySlot<'a> {
    /// 1 or 2.
    pub slot: i64,
    /// `true` / `false`.
    pub active: &'a str,
    /// Created or last rotated, or `N/A` when the slot is empty.
    pub last_rotated: &'a str,
    /// Last used, or `N/A`.
    pub last_used: &'a str,
}

impl Row {
    /// Whether this is the root user's row.
    pub fn is_root(&self) -> bool {
        self.user == ROOT_USER
    }

    /// The two key slots, in order.
    pub fn key_slots(&self) -> [KeySlot<'_>; 2] {
        [
            KeySlot {
                slot: 1,
                active: &self.access_key_1_active,
                last_rotated: &self.access_key_1_last_rotated,
                last_used: &self.access_key_1_last_used_date,
            },
            KeySlot {
                slot: 2,
                active: &self.access_key_2_active,
                last_rotated: &self.access_key_2_last_rotated,
                last_used: &self.access_key_2_last_used_date,
            },
        ]
    }

    /// Number of active access keys.
    pub fn active_keys(&self) -> i64 {
        self.key_slots()
            .iter()
            .filter(|k| k.active == "true")
            .count() as i64
    }
}

/// Parses the report's CSV text; the message names the line that is wrong.
pub fn parse(content: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(content.as_bytes());
    let mut rows = Vec::new();
    for record in reader.deserialize::<Row>() {
        rows.push(
            record
                .map_err(|e| format!("credential report is not in the expected CSV format: {e}"))?,
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111122223333:root,2019-04-01T10:00:00+00:00,not_supported,2026-09-02T18:11:04+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::111122223333:user/alice,2024-01-10T09:00:00+00:00,true,no_information,2024-01-10T09:05:00+00:00,N/A,false,true,2026-10-01T00:00:00+00:00,2026-11-20T08:00:00+00:00,us-east-1,s3,true,2025-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A
";

    #[test]
    fn reads_root_and_user_rows_by_column_name() {
        let rows = parse(REPORT).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_root());
        assert_eq!(rows[0].mfa_active, "true");
        assert_eq!(rows[0].active_keys(), 0);
        assert_eq!(rows[1].user, "alice");
        assert_eq!(rows[1].active_keys(), 2);
        assert_eq!(rows[1].key_slots()[1].last_used, "N/A");
    }

    #[test]
    fn a_report_missing_a_column_is_an_error() {
        let err = parse("user,arn\nalice,arn:aws:iam::1:user/alice\n").unwrap_err();
        assert!(err.contains("expected CSV format"), "{err}");
    }
}
