//! Times as the app writes them: RFC 3339 in the API and exports, minutes on the pages. Stored times are epoch
//! milliseconds (UTC).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Epoch milliseconds as RFC 3339 (UTC).
pub fn iso(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM` (UTC), as the pages show dates.
pub fn minute(millis: i64) -> String {
    iso(millis).chars().take(16).collect::<String>().replace('T', " ")
}
