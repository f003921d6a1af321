//! The detection engine: what a rule is, and how a record becomes a hit.
//!
//! A rule is data ([`RuleMeta`]: id, title, severity, dashboard, ATT&CK, entity, dedup period,
//! action plan) plus a matcher, a plain function over the typed record. Adding a rule is one
//! entry in a catalogue table and one small function. Matchers are synchronous and pure, so
//! every rule is tested without AWS.

pub mod cloudtrail;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::sources::cloudtrail::CloudTrailRecord;

/// Severity of a finding, in the order responders triage.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth recording, not worth waking anyone.
    #[default]
    Info,
    /// Review in the normal course of work.
    Low,
    /// Review today.
    Medium,
    /// Review now.
    High,
    /// Compromise is likely: respond now.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// ECS `event.risk_score` / `event.severity` (0-100), on the scale Elastic's detection rules
    /// use (low 21, medium 47, high 73, critical 99), so findings sort with theirs.
    pub fn score(self) -> u8 {
        match self {
            Severity::Info => 1,
            Severity::Low => 21,
            Severity::Medium => 47,
            Severity::High => 73,
            Severity::Critical => 99,
        }
    }

    /// One band higher (critical stays critical).
    pub fn raised(self) -> Severity {
        match self {
            Severity::Info => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity {s:?}: expected info, low, medium, high or critical")
            })
    }
}

/// The dashboard of the seed app a detection belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Suspicious user activity.
    UserActivity,
    /// Suspicious config and IAM activity.
    ConfigIam,
    /// Credential access, execution, lateral movement.
    CredentialAccess,
    /// Active threats (GuardDuty).
    ActiveThreats,
    /// Security control failures (Security Hub).
    ControlFailures,
    /// Suspicious network activity.
    NetworkActivity,
    /// Suspicious web activity.
    WebActivity,
}

impl Category {
    /// The machine name, as used in the `category` message attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::UserActivity => "user-activity",
            Category::ConfigIam => "config-iam",
            Category::CredentialAccess => "credential-access",
            Category::ActiveThreats => "active-threats",
            Category::ControlFailures => "control-failures",
            Category::NetworkActivity => "network-activity",
            Category::WebActivity => "web-activity",
        }
    }

    /// The dashboard's title.
    pub fn title(self) -> &'static str {
        match self {
            Category::UserActivity => "Suspicious user activity",
            Category::ConfigIam => "Suspicious config and IAM activity",
            Category::CredentialAccess => "Credential access, execution, lateral movement",
            Category::ActiveThreats => "Active threats",
            Category::ControlFailures => "Security control failures",
            Category::NetworkActivity => "Suspicious network activity",
            Category::WebActivity => "Suspicious web activity",
        }
    }
}

/// What a finding is about: the thing a responder pivots on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A user name (IAM user, or the role of a session).
    User,
    /// A principal ARN (for assumed roles, the session ARN, which names role and session).
    Principal,
    /// An IP address.
    Ip,
    /// An AWS account.
    Account,
    /// An access key id.
    AccessKey,
    /// A resource ARN or name (a trail, a bucket, a security group).
    Resource,
}

impl EntityKind {
    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Principal => "principal",
            EntityKind::Ip => "ip",
            EntityKind::Account => "account",
            EntityKind::AccessKey => "access_key",
            EntityKind::Resource => "resource",
        }
    }
}

/// A concrete entity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Entity {
    /// What kind of thing it is.
    #[serde(rename = "type")]
    pub kind: EntityKind,
    /// Its identifier.
    pub id: String,
}

/// A MITRE ATT&CK tactic and technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Attack {
    /// Tactic id, e.g. `TA0005`.
    pub tactic_id: &'static str,
    /// Tactic name, e.g. `Defense Evasion`.
    pub tactic: &'static str,
    /// Technique id, e.g. `T1562.008`.
    pub technique_id: &'static str,
    /// Technique name.
    pub technique: &'static str,
}

/// Everything about a rule except its logic.
#[derive(Debug, Clone, Copy)]
pub struct RuleMeta {
    /// Stable id, e.g. `user.root-login`. Part of every finding id: never reuse one.
    pub id: &'static str,
    /// A short title.
    pub title: &'static str,
    /// What it detects and why it matters.
    pub description: &'static str,
    /// Default severity (a matcher may raise or lower it for one hit).
    pub severity: Severity,
    /// The dashboard.
    pub category: Category,
    /// The kind of entity its findings are about.
    pub entity: EntityKind,
    /// ATT&CK mapping, where one fits.
    pub attack: Option<Attack>,
    /// Hits for the same entity within this many minutes make one finding.
    pub dedup_minutes: u32,
    /// One to three concrete steps for the responder.
    pub action_plan: &'static [&'static str],
    /// Where the logic comes from (CIS control, Panther rule id, ...).
    pub references: &'static [&'static str],
}

/// The outcome of a matcher that fired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// A severity other than the rule's default, for this hit.
    pub severity: Option<Severity>,
    /// A finer grouping than the entity (root activity is deduplicated per source IP).
    pub discriminator: Option<String>,
    /// The entity, when the rule's default choice for its entity kind is not right for this hit.
    pub entity: Option<Entity>,
}

impl Verdict {
    /// A plain hit.
    pub fn hit() -> Option<Verdict> {
        Some(Verdict::default())
    }

    /// A hit with another severity.
    pub fn with_severity(severity: Severity) -> Option<Verdict> {
        Some(Verdict {
            severity: Some(severity),
            ..Verdict::default()
        })
    }
}

/// A single-event CloudTrail rule.
#[derive(Debug, Clone, Copy)]
pub struct CloudTrailRule {
    /// The rule's data.
    pub meta: RuleMeta,
    /// Decides on one record.
    pub matcher: fn(&CloudTrailRecord<'_>, &Settings) -> Option<Verdict>,
}

/// What the organization tells the rules about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Accounts of the organization (and trusted partners): sharing with them is not a finding.
    pub known_accounts: std::collections::HashSet<String>,
    /// Instance type prefixes to flag besides the accelerated and very large ones (`x2`, `hpc`).
    pub unusual_instance_types: Vec<String>,
}

/// The rules the pipeline runs, and their settings.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Single-event CloudTrail rules.
    pub cloudtrail: Vec<CloudTrailRule>,
    /// Settings every matcher sees.
    pub settings: Settings,
}

impl Catalogue {
    /// Every built-in rule, with default settings.
    pub fn builtin() -> Catalogue {
        Catalogue::with_settings(Settings::default())
    }

    /// Every built-in rule, with `settings`.
    pub fn with_settings(settings: Settings) -> Catalogue {
        Catalogue {
            cloudtrail: cloudtrail::rules(),
            settings,
        }
    }

    /// The metadata of every rule, for listing.
    pub fn metas(&self) -> impl Iterator<Item = &RuleMeta> {
        self.cloudtrail.iter().map(|r| &r.meta)
    }

    /// Looks a rule up by id.
    pub fn meta(&self, id: &str) -> Option<&RuleMeta> {
        self.metas().find(|m| m.id == id)
    }
}

/// The entity of `kind` for a CloudTrail record, by the conventions of DETECTIONS.md: a user is
/// the user name, or the source IP when CloudTrail hides the name; a principal is the caller's
/// ARN; an account is the caller's account.
pub fn cloudtrail_entity(kind: EntityKind, r: &CloudTrailRecord<'_>) -> Entity {
    let id = match kind {
        EntityKind::User => r
            .user_name()
            .map(str::to_owned)
            .or_else(|| r.source_ip_address.as_deref().map(str::to_owned))
            .map(|id| (EntityKind::User, id)),
        EntityKind::Principal => r
            .arn()
            .or(r.user_identity.principal_id.as_deref())
            .or(r.user_identity.invoked_by.as_deref())
            .map(|a| (EntityKind::Principal, a.to_owned())),
        EntityKind::Ip => r
            .source_ip_address
            .as_deref()
            .map(|a| (EntityKind::Ip, a.to_owned())),
        EntityKind::Account => r.account_id().map(|a| (EntityKind::Account, a.to_owned())),
        EntityKind::AccessKey => r
            .user_identity
            .access_key_id
            .as_deref()
            .map(|a| (EntityKind::AccessKey, a.to_owned())),
        EntityKind::Resource => None,
    };
    let (kind, id) = id.unwrap_or((kind, "unknown".to_owned()));
    Entity { kind, id }
}
