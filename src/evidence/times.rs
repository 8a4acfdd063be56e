//! Dates, durations and cadences as the evidence commands take and print them.
//!
//! Durations are small enough a grammar (`90m`, `24h`, `7d`) that a parser of a few lines is
//! clearer than a dependency.

use time::{Duration, OffsetDateTime};
use trustcheck_snapshot::utc::{format_utc_seconds, parse_utc};

use super::EvidenceError;

/// Parses a run time recorded in the ledger (`2026-11-22T03:00:00Z`).
pub fn instant(utc: &str) -> Option<OffsetDateTime> {
    parse_utc(utc)
}

/// Formats a time as the ledger writes it.
pub fn format(t: OffsetDateTime) -> String {
    format_utc_seconds(t)
}

/// The start of a period: `YYYY-MM-DD` (midnight UTC) or a UTC time.
pub fn period_start(text: &str) -> Result<OffsetDateTime, EvidenceError> {
    parse_bound(text, false)
}

/// The end of a period (exclusive): `YYYY-MM-DD` means the end of that day (midnight UTC of the
/// next), a UTC time means that instant.
pub fn period_end(text: &str) -> Result<OffsetDateTime, EvidenceError> {
    parse_bound(text, true)
}

fn parse_bound(text: &str, end: bool) -> Result<OffsetDateTime, EvidenceError> {
    if let Some(t) = parse_utc(text) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(text, &format) {
        Ok(date) => {
            let start = date.midnight().assume_utc();
            Ok(if end { start + Duration::DAY } else { start })
        }
        Err(_) => Err(EvidenceError::Usage(format!(
            "`{text}` is not a date (`2026-06-30`) or a UTC time (`2026-06-30T12:00:00Z`)"
        ))),
    }
}

/// Parses a duration: a whole number and a unit, `s`, `m`, `h` or `d` (`24h`, `7d`).
pub fn duration(text: &str) -> Result<Duration, EvidenceError> {
    let bad = || {
        EvidenceError::Usage(format!(
            "`{text}` is not a duration: give a number and a unit, e.g. `24h`, `7d`, `90m`"
        ))
    };
    let unit = text.chars().last().ok_or_else(bad)?;
    let number: i64 = text
        .strip_suffix(unit)
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .ok_or_else(bad)?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    number
        .checked_mul(seconds)
        .map(Duration::seconds)
        .ok_or_else(bad)
}

/// A duration for people: `2d 4h`, `5h 30m`, `45m`, `0m`.
pub fn human(d: Duration) -> String {
    let minutes = d.whole_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours, mins) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Whether the interval between two runs is a cadence gap: longer than the cadence by more than
/// a quarter of it (a nightly job may start an hour or two late without being a missed night).
pub fn is_gap(interval: Duration, cadence: Duration) -> bool {
    interval > cadence + cadence / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(duration("24h").unwrap(), Duration::hours(24));
        assert_eq!(duration("7d").unwrap(), Duration::days(7));
        assert_eq!(duration("90m").unwrap(), Duration::minutes(90));
        for bad in ["", "h", "24", "-1h", "0h", "2w", "1.5h"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        assert_eq!(human(Duration::hours(52)), "2d 4h");
        assert_eq!(human(Duration::minutes(330)), "5h 30m");
        assert_eq!(human(Duration::days(3)), "3d");
    }

    #[test]
    fn a_day_bound_covers_the_whole_day() {
        let start = period_start("2026-01-01").unwrap();
        let end = period_end("2026-01-01").unwrap();
        assert_eq!(end - start, Duration::DAY);
        assert_eq!(format(start), "2026-01-01T00:00:00Z");
        assert!(period_start("2026-13-01").is_err());
    }

    #[test]
    fn a_late_night_is_not_a_gap_a_missed_one_is() {
        let day = Duration::DAY;
        assert!(!is_gap(Duration::hours(26), day));
        assert!(is_gap(Duration::hours(48), day));
    }
}
