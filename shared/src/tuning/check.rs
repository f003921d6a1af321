//! `cloudsec tuning check`: what in a tuning file cannot be right, beyond what stops it from
//! loading (which [`super::Tuning::parse`] and [`super::Tuning::apply`] refuse): fields the
//! product never writes, expiries passed or more than a year away, entries written twice.

use std::collections::BTreeSet;

use super::{Exception, Tuning};

/// How bad a problem is: an error fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The file is wrong.
    Error,
    /// The file works, and someone should look.
    Warning,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub level: Level,
    /// The entry, e.g. `exceptions[2] (rule config.*)`.
    pub entry: String,
    /// What is wrong.
    pub message: String,
}

/// Seconds in a year, for the longest expiry accepted without a warning.
const YEAR_SECS: i64 = 366 * 86_400;

/// Whether the product writes `field` in some event (see `fields.txt`).
pub fn known_field(field: &str) -> bool {
    super::FIELDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|known| match known.strip_suffix(".*") {
            Some(prefix) => field.starts_with(prefix) && field[prefix.len()..].starts_with('.'),
            None => known == field,
        })
}

fn name(e: &Exception) -> String {
    format!("exceptions[{}] (rule {})", e.number, e.entry.rule)
}

/// Every problem of a tuning file that loaded, at `now`.
pub fn check(tuning: &Tuning, now: i64) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for e in tuning.exceptions() {
        for field in e.entry.conditions.keys() {
            if !known_field(field) {
                out.push(Problem {
                    level: Level::Error,
                    entry: name(e),
                    message: format!(
                        "`{field}` is a field the product never writes: the exception cannot apply"
                    ),
                });
            }
        }
        if e.expires_at <= now {
            out.push(Problem {
                level: Level::Error,
                entry: name(e),
                message: format!("expired on {}: it no longer applies", e.entry.expires),
            });
        } else if e.expires_at - now > YEAR_SECS {
            out.push(Problem {
                level: Level::Error,
                entry: name(e),
                message: format!(
                    "expires on {}, more than a year from now: review exceptions at least yearly",
                    e.entry.expires
                ),
            });
        }
        let key = format!(
            "{}|{}",
            e.entry.rule,
            serde_json::to_string(&e.entry.conditions).unwrap_or_default()
        );
        if !seen.insert(key) {
            out.push(Problem {
                level: Level::Error,
                entry: name(e),
                message: "the same rule and conditions as an earlier exception".into(),
            });
        }
        if e.entry.all_events {
            out.push(Problem {
                level: Level::Warning,
                entry: name(e),
                message: "mutes its rules for every event (`all_events: true`); a staged or disabled rule says so more plainly".into(),
            });
        }
    }
    out
}
