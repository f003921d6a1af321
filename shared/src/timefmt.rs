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

/// 9999-12-31T23:59:59Z: the last second RFC 3339 can write.
pub const MAX_SECS: i64 = 253_402_300_799;

/// Formats Unix seconds as RFC 3339 in UTC (`2026-11-01T10:00:00Z`).
pub fn format_rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

/// Formats Unix milliseconds as RFC 3339 in UTC, with milliseconds when there are any
/// (`2019-12-13T23:40:12.771Z`).
pub fn format_rfc3339_millis(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Parses the times the network and findings sources write: RFC 3339, the `+0000` offset form
/// of Suricata (`2021-11-08T14:22:12.637611+0000`), or Unix seconds or milliseconds as digits.
/// Returns Unix milliseconds.
pub fn parse_any_millis(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().map(epoch_to_millis);
    }
    let fixed;
    let mut text = s;
    // `+0000` -> `+00:00`
    let b = s.as_bytes();
    if b.len() > 5
        && (b[b.len() - 5] == b'+' || b[b.len() - 5] == b'-')
        && b[b.len() - 4..].iter().all(u8::is_ascii_digit)
    {
        fixed = format!("{}:{}", &s[..s.len() - 2], &s[s.len() - 2..]);
        text = &fixed;
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    }
    parse_rfc3339(text).map(|secs| secs * 1000)
}

/// Unix seconds or milliseconds (told apart by size) to milliseconds. Any number is taken:
/// one that is no time (`-4.4e52` saturates to `i64::MIN`) comes back as it is, and the record's
/// time check rejects it.
pub fn epoch_to_millis(n: i64) -> i64 {
    // `unsigned_abs`: `i64::MIN.abs()` overflows (found by the records fuzz target).
    if n.unsigned_abs() >= 100_000_000_000 {
        n
    } else {
        n * 1000
    }
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
    fn any_number_is_taken_as_an_epoch() {
        assert_eq!(epoch_to_millis(i64::MIN), i64::MIN);
        assert_eq!(epoch_to_millis(i64::MAX), i64::MAX);
        assert_eq!(epoch_to_millis(-99_999_999_999), -99_999_999_999_000);
        assert_eq!(epoch_to_millis(1_636_381_332), 1_636_381_332_000);
    }

    #[test]
    fn millis_and_network_forms() {
        assert_eq!(
            format_rfc3339_millis(1576280412771),
            "2019-12-13T23:40:12.771Z"
        );
        assert_eq!(format_rfc3339_millis(1576280412000), "2019-12-13T23:40:12Z");
        assert_eq!(
            parse_any_millis("2021-11-08T14:22:12.637611+0000"),
            Some(1636381332637)
        );
        assert_eq!(parse_any_millis("1636381332"), Some(1636381332000));
        assert_eq!(parse_any_millis("1636381332637"), Some(1636381332637));
        assert_eq!(
            parse_any_millis("2024-03-20T10:30:00.000Z"),
            Some(1710930600000)
        );
        assert_eq!(parse_any_millis("soon"), None);
    }

    #[test]
    fn exported_forms() {
        let s = parse_rfc3339("2026-11-01T10:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-11-01 10:00:00.000000000"), Some(s));
        assert_eq!(parse_rfc3339("2026-11-01 10:00:00Z"), Some(s));
        assert_eq!(parse_rfc3339("2026-11-01 25:00:00"), None);
    }
}
