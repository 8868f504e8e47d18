//! Dates in the forms AWS logs write them.

use chrono::{DateTime, NaiveDateTime, Utc};

/// RFC 3339 (AWS's own form), or `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC (seen in edited
/// samples and some exports).
///
/// ```
/// use seclog_core::time::parse_time;
/// assert_eq!(parse_time("2023-07-10T12:00:00Z"), parse_time("2023-07-10 12:00:00"));
/// assert_eq!(parse_time("yesterday"), None);
/// ```
#[must_use]
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc()))
}
