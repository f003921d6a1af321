//! Event times: RFC 3339 text to Unix seconds and back.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Parses an RFC 3339 time (`2026-11-01T10:00:00Z`) to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// Formats Unix seconds as RFC 3339 in UTC (`2026-11-01T10:00:00Z`).
pub fn format_rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = parse_rfc3339("2026-11-01T10:00:00Z").unwrap();
        assert_eq!(format_rfc3339(s), "2026-11-01T10:00:00Z");
        assert_eq!(
            parse_rfc3339("2026-11-01T10:00:00.123+01:00"),
            Some(s - 3600)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
