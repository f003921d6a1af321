//! Event times: RFC 3339 text to Unix seconds and back.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Parses an event time to Unix seconds: RFC 3339 (`2026-11-01T10:00:00Z`), as every AWS source
/// writes it, or the space-separated UTC form that exports and SIEMs re-write it to
/// (`2026-11-01 10:00:00.000000000`, optionally with a trailing `Z`).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let plain = s.strip_suffix('Z').unwrap_or(s);
    let with_fraction =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
    let without = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(plain, with_fraction)
        .or_else(|_| PrimitiveDateTime::parse(plain, without))
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
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

    #[test]
    fn exported_forms() {
        let s = parse_rfc3339("2026-11-01T10:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-11-01 10:00:00.000000000"), Some(s));
        assert_eq!(parse_rfc3339("2026-11-01 10:00:00Z"), Some(s));
        assert_eq!(parse_rfc3339("2026-11-01 25:00:00"), None);
    }
}
