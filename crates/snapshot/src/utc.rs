//! UTC times as Cedar's `datetime` accepts them: `YYYY-MM-DDThh:mm:ssZ`, or with exactly three
//! fractional digits. Every timestamp in a snapshot has this form.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Formats a time in UTC, with milliseconds only when they are not zero.
pub fn format_utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match t.millisecond() {
        0 => format!("{base}Z"),
        ms => format!("{base}.{ms:03}Z"),
    }
}

/// Formats a time in UTC in whole seconds (`YYYY-MM-DDThh:mm:ssZ`): for facts whose source keeps
/// no more precision, and for collection times, so that snapshots stay stable.
pub fn format_utc_seconds(t: OffsetDateTime) -> String {
    format_utc(t.replace_millisecond(0).unwrap_or(t))
}

/// Parses an RFC 3339 UTC timestamp (`Z` or `+00:00`). `None` if it is not one.
pub fn parse_utc(value: &str) -> Option<OffsetDateTime> {
    let t = OffsetDateTime::parse(value, &Rfc3339).ok()?;
    if t.offset() != UtcOffset::UTC || !(value.ends_with('Z') || value.ends_with("+00:00")) {
        return None;
    }
    Some(t)
}

/// Normalises an RFC 3339 UTC timestamp to the form [`format_utc`] writes. `None` if it is not
/// UTC.
pub fn normalize_utc(value: &str) -> Option<String> {
    parse_utc(value).map(format_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_matches_cedar() {
        assert_eq!(
            normalize_utc("2026-11-22T03:00:00Z").as_deref(),
            Some("2026-11-22T03:00:00Z")
        );
        assert_eq!(
            normalize_utc("2026-11-22T03:00:00.123456Z").as_deref(),
            Some("2026-11-22T03:00:00.123Z")
        );
        assert_eq!(
            normalize_utc("2026-11-22T03:00:00+00:00").as_deref(),
            Some("2026-11-22T03:00:00Z")
        );
        assert!(normalize_utc("2026-11-22T03:00:00+01:00").is_none());
        assert!(normalize_utc("yesterday").is_none());
    }
}
