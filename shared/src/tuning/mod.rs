//! Tuning: the one file in which a deployment says which rules run and how, and which events
//! are known good. It holds the rules' settings (what `RULE_SETTINGS` holds), each rule's state
//! (`enabled`, `staged`: evaluated and kept, never published; `disabled`: not run) and the
//! exceptions: events that count toward no finding of a rule, each with an owner, a reason and
//! an expiry, and counted whenever they suppress something.
//!
//! ```yaml
//! exceptions:
//!   - rule: config.access-key-for-other-user   # an id, or a glob over ids: "config.*"
//!     match:                                   # ECS fields of the event; all must hold
//!       user.name: deploy-bot                  # a value, a list of values, a glob
//!       source.ip: 10.20.0.0/16                # IP fields also take CIDRs
//!     reason: the deploy pipeline rotates ci-bot's keys
//!     owner: platform-team@example.com
//!     expires: 2027-06-30                      # required; applies until the end of that day, UTC
//! rules:
//!   user.root-login:
//!     state: staged
//!   user.console-login-burst:
//!     min_count: 3
//!     window_minutes: 30
//! ```
//!
//! A condition names a field of the ECS event that raised the hit (`user.name`,
//! `cloud.account.id`, `aws.cloudtrail.user_identity.arn`, ...) or the finding's entity
//! (`finding.entity.id`, `finding.entity.kind`). A condition on a field the event lacks does not
//! hold, so the exception does not apply. Within an exception every condition must hold; the
//! exceptions of a rule apply if any does. Everything is compiled once, at cold start.

pub mod check;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use globset::{Glob, GlobMatcher};
use ipnet::IpNet;
use serde::Deserialize;
use serde_json::Value;

use crate::detect::{Catalogue, Entity, RuleOverride};

/// The fields an exception may name (see the file's header).
pub const FIELDS: &str = include_str!("fields.txt");

/// A problem with the tuning file, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry}: {reason}")]
pub struct TuningError {
    /// `exceptions[3] (rule config.*)`, `rules.user.root-login`, or `file`.
    pub entry: String,
    /// What is wrong.
    pub reason: String,
}

fn error(entry: impl Into<String>, reason: impl Into<String>) -> TuningError {
    TuningError {
        entry: entry.into(),
        reason: reason.into(),
    }
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleState {
    /// Runs and publishes (the default).
    #[default]
    Enabled,
    /// Runs; its findings are kept with `finding.staged: true` and not published.
    Staged,
    /// Does not run.
    Disabled,
}

/// One exception as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionEntry {
    /// A rule id, or a glob over ids.
    pub rule: String,
    /// Field to value(s); all must hold.
    #[serde(default, rename = "match")]
    pub conditions: BTreeMap<String, serde_yaml_ng::Value>,
    /// Why these events are known good.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// The last day it applies, `YYYY-MM-DD` (UTC).
    pub expires: String,
    /// Says that an exception without conditions, which mutes its rules, is meant.
    #[serde(default)]
    pub all_events: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    exceptions: Vec<ExceptionEntry>,
    #[serde(default)]
    rules: BTreeMap<String, serde_yaml_ng::Mapping>,
}

/// One value a condition takes.
#[derive(Debug, Clone)]
enum Pattern {
    Exact(String),
    Glob(GlobMatcher),
    Net(IpNet),
}

impl Pattern {
    fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(v) => v == value,
            Pattern::Glob(g) => g.is_match(value),
            Pattern::Net(n) => value.parse::<IpAddr>().is_ok_and(|ip| n.contains(&ip)),
        }
    }
}

#[derive(Debug, Clone)]
struct Condition {
    field: String,
    path: Vec<String>,
    any_of: Vec<Pattern>,
}

/// An exception, compiled.
#[derive(Debug, Clone)]
pub struct Exception {
    /// Its position in the file, from 1.
    pub number: usize,
    /// As written.
    pub entry: ExceptionEntry,
    /// Seconds since the epoch at which it stops applying (the end of its `expires` day).
    pub expires_at: i64,
    rule: GlobMatcher,
    conditions: Vec<Condition>,
}

impl Exception {
    /// `exception 2 (config.access-key-for-other-user, platform-team@example.com)`.
    pub fn label(&self) -> String {
        format!(
            "exception {} ({}, {})",
            self.number, self.entry.rule, self.entry.owner
        )
    }

    /// Whether it covers rule `id`.
    pub fn covers(&self, id: &str) -> bool {
        self.rule.is_match(id)
    }

    /// Whether every condition holds for the event `doc` and the finding's `entity`.
    pub fn matches(&self, doc: &Value, entity: &Entity) -> bool {
        self.conditions.iter().all(|c| {
            let mut values: Vec<String> = Vec::new();
            match c.field.as_str() {
                "finding.entity.id" => values.push(entity.id.clone()),
                "finding.entity.kind" => values.push(entity.kind.as_str().to_owned()),
                _ => {
                    let segments: Vec<&str> = c.path.iter().map(String::as_str).collect();
                    let mut found = Vec::new();
                    lookup(doc, &segments, &mut found);
                    for v in found {
                        scalars(v, &mut values);
                    }
                }
            }
            values.iter().any(|v| c.any_of.iter().any(|p| p.matches(v)))
        })
    }
}

/// Every value at `path` in `v`: objects are walked by name (a name may itself hold dots, as
/// AWS's own keys do), arrays element by element.
fn lookup<'v>(v: &'v Value, path: &[&str], out: &mut Vec<&'v Value>) {
    if path.is_empty() {
        out.push(v);
        return;
    }
    match v {
        Value::Object(map) => {
            for i in 1..=path.len() {
                let key = path[..i].join(".");
                if let Some(x) = map.get(&key) {
                    lookup(x, &path[i..], out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| lookup(x, path, out)),
        _ => {}
    }
}

fn scalars(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        Value::Array(items) => items.iter().for_each(|x| scalars(x, out)),
        _ => {}
    }
}

/// Whether `field` holds IP addresses (and so takes CIDRs).
pub fn is_ip_field(field: &str) -> bool {
    field.ends_with(".ip") || field == "related.ip"
}

fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("{pattern:?} is not a glob: {e}"))
}

fn yaml_scalar(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn pattern(field: &str, value: &str) -> Result<Pattern, String> {
    if is_ip_field(field) {
        if let Ok(net) = value.parse::<IpNet>() {
            return Ok(Pattern::Net(net));
        }
        if let Ok(ip) = value.parse::<IpAddr>() {
            return Ok(Pattern::Net(IpNet::from(ip)));
        }
    } else if value.contains('/') && value.parse::<IpNet>().is_ok() {
        return Err(format!(
            "{value:?} is a CIDR range, and `{field}` is not an IP field: it cannot match"
        ));
    }
    if value.contains(['*', '?', '[']) {
        return glob(value).map(Pattern::Glob);
    }
    Ok(Pattern::Exact(value.to_owned()))
}

/// Seconds since the epoch at the end of `date` (`YYYY-MM-DD`), UTC.
fn end_of_day(date: &str) -> Result<i64, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(date.trim(), &format)
        .map_err(|e| format!("`expires: {date}` is not a date (YYYY-MM-DD): {e}"))?;
    Ok(d.midnight().assume_utc().unix_timestamp() + 86_400)
}

/// The tuning file, compiled.
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    exceptions: Vec<Exception>,
    states: BTreeMap<String, RuleState>,
    settings: BTreeMap<String, RuleOverride>,
    /// Rule id to the exceptions that cover it, once bound to the catalogue.
    by_rule: HashMap<String, Vec<usize>>,
}

impl Tuning {
    /// Reads and compiles a tuning file. Every problem names its entry.
    pub fn parse(text: &str) -> Result<Tuning, TuningError> {
        let file: File = serde_yaml_ng::from_str(text).map_err(|e| error("file", e.to_string()))?;
        let mut exceptions = Vec::new();
        for (i, entry) in file.exceptions.into_iter().enumerate() {
            let name = format!("exceptions[{}] (rule {})", i + 1, entry.rule);
            for (what, value) in [
                ("reason", &entry.reason),
                ("owner", &entry.owner),
                ("expires", &entry.expires),
            ] {
                if value.trim().is_empty() {
                    return Err(error(&name, format!("`{what}` is required")));
                }
            }
            let expires_at = end_of_day(&entry.expires).map_err(|e| error(&name, e))?;
            if entry.conditions.is_empty() && !entry.all_events {
                return Err(error(
                    &name,
                    "no `match`: it would mute the rule for every event; say `all_events: true` if that is meant",
                ));
            }
            if !entry.conditions.is_empty() && entry.all_events {
                return Err(error(
                    &name,
                    "`all_events: true` with a `match`: choose one",
                ));
            }
            let mut conditions = Vec::new();
            for (field, value) in &entry.conditions {
                let values: Vec<String> = match value {
                    serde_yaml_ng::Value::Sequence(items) => items
                        .iter()
                        .map(|v| {
                            yaml_scalar(v).ok_or_else(|| {
                                error(&name, format!("`{field}`: values are strings or numbers"))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    v => vec![yaml_scalar(v).ok_or_else(|| {
                        error(&name, format!("`{field}`: a value or a list of values"))
                    })?],
                };
                if values.is_empty() {
                    return Err(error(
                        &name,
                        format!("`{field}`: an empty list matches nothing"),
                    ));
                }
                let any_of = values
                    .iter()
                    .map(|v| pattern(field, v))
                    .collect::<Result<_, _>>()
                    .map_err(|e| error(&name, e))?;
                conditions.push(Condition {
                    field: field.clone(),
                    path: field.split('.').map(str::to_owned).collect(),
                    any_of,
                });
            }
            exceptions.push(Exception {
                number: i + 1,
                rule: glob(&entry.rule).map_err(|e| error(&name, e))?,
                expires_at,
                conditions,
                entry,
            });
        }
        let mut states = BTreeMap::new();
        let mut settings = BTreeMap::new();
        for (id, mut map) in file.rules {
            let name = format!("rules.{id}");
            if let Some(state) = map.remove("state") {
                let state: RuleState = serde_yaml_ng::from_value(state).map_err(|e| {
                    error(&name, format!("`state`: {e} (enabled, staged or disabled)"))
                })?;
                states.insert(id.clone(), state);
            }
            if !map.is_empty() {
                let o: RuleOverride = serde_yaml_ng::from_value(serde_yaml_ng::Value::Mapping(map))
                    .map_err(|e| error(&name, e.to_string()))?;
                settings.insert(id, o);
            }
        }
        Ok(Tuning {
            exceptions,
            states,
            settings,
            by_rule: HashMap::new(),
        })
    }

    /// Applies the rules' settings and states to `catalogue` (disabled rules leave it) and
    /// binds the exceptions to its rules. A rule id or glob that names no rule is an error.
    pub fn apply(&mut self, catalogue: &mut Catalogue) -> Result<(), TuningError> {
        catalogue
            .apply_overrides(&self.settings)
            .map_err(|e| error("rules", e))?;
        let ids: Vec<&'static str> = catalogue.metas().map(|m| m.id).collect();
        for id in self.states.keys() {
            if !ids.contains(&id.as_str()) {
                return Err(error(
                    format!("rules.{id}"),
                    "no such rule (see `cloudsec rules`)",
                ));
            }
        }
        self.by_rule.clear();
        for (i, e) in self.exceptions.iter().enumerate() {
            let covered: Vec<&&str> = ids.iter().filter(|id| e.covers(id)).collect();
            if covered.is_empty() {
                return Err(error(
                    format!("exceptions[{}] (rule {})", e.number, e.entry.rule),
                    "names no rule (see `cloudsec rules`)",
                ));
            }
            for id in covered {
                self.by_rule.entry((*id).to_owned()).or_default().push(i);
            }
        }
        catalogue.retain_rules(|m| self.state(m.id) != RuleState::Disabled);
        Ok(())
    }

    /// The state of rule `id`.
    pub fn state(&self, id: &str) -> RuleState {
        self.states.get(id).copied().unwrap_or_default()
    }

    /// Whether rule `id` is staged.
    pub fn is_staged(&self, id: &str) -> bool {
        self.state(id) == RuleState::Staged
    }

    /// Whether some exception covers rule `id` (bound by [`Tuning::apply`]).
    pub fn has_exceptions(&self, id: &str) -> bool {
        self.by_rule.contains_key(id)
    }

    /// The first exception of rule `id` in force at `now` that holds for the event `doc` and
    /// the finding's `entity`: its index in [`Tuning::exceptions`].
    pub fn suppressing(&self, id: &str, doc: &Value, entity: &Entity, now: i64) -> Option<usize> {
        self.by_rule.get(id)?.iter().copied().find(|&i| {
            let e = &self.exceptions[i];
            now < e.expires_at && e.matches(doc, entity)
        })
    }

    /// Every exception, in file order.
    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    /// The exceptions past their expiry at `now`: they no longer apply.
    pub fn expired(&self, now: i64) -> Vec<&Exception> {
        self.exceptions
            .iter()
            .filter(|e| e.expires_at <= now)
            .collect()
    }

    /// The rules' settings the file holds.
    pub fn settings(&self) -> &BTreeMap<String, RuleOverride> {
        &self.settings
    }

    /// The rules' states the file sets.
    pub fn states(&self) -> &BTreeMap<String, RuleState> {
        &self.states
    }
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;

/// What kept a hit from counting: one of the tuning's exceptions, or one of the Sigma filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suppressor {
    /// An exception, by its index in [`Tuning::exceptions`].
    Exception(usize),
    /// A Sigma filter, by its index in [`crate::sigma::SigmaSet::filters`].
    SigmaFilter(usize),
}

/// Hits kept from counting, per (what kept them, rule id).
pub type Suppressed = std::collections::BTreeMap<(Suppressor, &'static str), u64>;
