//! AWS timestamps → the UTC form Cedar's `datetime` accepts (`2026-11-22T03:00:00Z`).
//!
//! AWS writes times as ISO 8601 with an offset (`2026-11-22T03:00:00+00:00`) or `Z`, sometimes
//! with fractions of a second; emulators add microseconds. Seconds are all IAM tracks, so
//! fractions are dropped, which also keeps snapshots stable.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Parses an AWS timestamp and formats it as `YYYY-MM-DDThh:mm:ssZ`; `None` if it is not one.
pub fn normalize(value: &str) -> Option<String> {
    let value = value.trim();
    let parsed = OffsetDateTime::parse(value, &Rfc3339).ok().or_else(|| {
        // A timestamp without an offset (seen in some recorded payloads) is UTC in IAM.
        let format = time::macros::format_description!(
            "[year]-[month]-[day][first [T][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        PrimitiveDateTime::parse(value, &format)
            .ok()
            .map(PrimitiveDateTime::assume_utc)
    })?;
    Some(format(parsed))
}

/// Formats a time as `YYYY-MM-DDThh:mm:ssZ` in UTC, dropping fractions of a second.
pub fn format(t: OffsetDateTime) -> String {
    trustcheck_snapshot::utc::format_utc_seconds(t)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn aws_forms_normalise_to_cedar_utc() {
        for (input, want) in [
            ("2026-11-22T03:00:00+00:00", "2026-11-22T03:00:00Z"),
            ("2026-11-22T03:00:00Z", "2026-11-22T03:00:00Z"),
            ("2026-11-22T16:56:06.845071Z", "2026-11-22T16:56:06Z"),
            ("2026-11-22T05:00:00+02:00", "2026-11-22T03:00:00Z"),
            ("2015-02-02 20:02:02", "2015-02-02T20:02:02Z"),
        ] {
            assert_eq!(normalize(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn credential_report_placeholders_are_not_times() {
        for input in ["N/A", "no_information", "not_supported", ""] {
            assert_eq!(normalize(input), None, "{input}");
        }
    }
}
