//! The detection engine: what a rule is, and how a record becomes a hit.
//!
//! A rule is data ([`RuleMeta`]: id, title, severity, dashboard, ATT&CK, entity, dedup period,
//! action plan) plus a matcher, a plain function over the typed record. Adding a rule is one
//! entry in a catalogue table and one small function. Matchers are synchronous and pure, so
//! every rule is tested without AWS.

pub mod anomaly;
pub mod cloudtrail;
pub mod firewall;
pub mod geo;
pub mod guardduty;
pub mod securityhub;
pub mod waf;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::sources::cloudtrail::CloudTrailRecord;
use crate::sources::firewall::FirewallRecord;
use crate::sources::guardduty::GuardDutyFinding;
use crate::sources::securityhub::SecurityHubFinding;
use crate::sources::waf::WafRecord;
use crate::sources::Record;

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

/// How a rule turns events into a finding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RuleKind {
    /// One event decides; later events of the dedup period join the same finding.
    Single,
    /// A count, and up to two distinct counts, per entity in a window: fires once when every
    /// threshold is reached; later events of the window join the finding.
    Window {
        /// Window length.
        window_minutes: u32,
        /// Events needed (at least).
        min_count: u64,
        /// Distinct values needed per dimension (at least; 0 when the dimension is unused).
        min_distinct: [u64; 2],
    },
    /// A z-score of the entity's count in a slice against its previous non-empty slices:
    /// z = (count - mean) / (std + 0.1).
    Anomaly {
        /// Slice length.
        slice_minutes: u32,
        /// Events needed in the slice (at least).
        min_count: u64,
        /// z above which it fires.
        z: f64,
        /// z above which it is raised one severity band.
        z_raise: f64,
        /// Previous slices in the baseline (at most).
        history: usize,
    },
}

impl RuleKind {
    /// Length of the window (or slice, or dedup period) in minutes.
    pub fn window_minutes(&self, meta: &RuleMeta) -> u32 {
        match *self {
            RuleKind::Single => meta.dedup_minutes,
            RuleKind::Window { window_minutes, .. } => window_minutes,
            RuleKind::Anomaly { slice_minutes, .. } => slice_minutes,
        }
    }
}

/// The kinds of record rules are written over: one rule type each ([`Rule`]), whose checks are
/// plain functions over that record.
pub trait RecordType: 'static {
    /// The typed record.
    type Record<'r>;
    /// A check giving at most one hit.
    type One: Copy;
    /// A check giving any number of hits.
    type Each: Copy;
    /// Calls a check of the first kind.
    fn one(check: Self::One, record: &Self::Record<'_>, cx: &Context<'_>) -> Option<Hit>;
    /// Calls a check of the second kind.
    fn each(check: Self::Each, record: &Self::Record<'_>, cx: &Context<'_>, out: &mut Vec<Hit>);
}

/// What a rule sees besides the record: the organization's settings (through `Deref`), the
/// GeoIP databases when there are any, and the ids of the rules that already hit this record
/// (a rule over other rules' hits, such as the config-change anomaly, comes after them).
#[derive(Debug, Clone, Copy)]
pub struct Context<'c> {
    /// What the organization tells the rules.
    pub settings: &'c Settings,
    /// The GeoIP databases.
    pub geo: Option<&'c crate::geo::GeoIp>,
    /// Rules that hit the record so far, in catalogue order.
    pub fired: &'c [&'static str],
}

impl<'c> Context<'c> {
    /// The context of `settings` alone: no GeoIP, no rule fired yet.
    pub fn of(settings: &'c Settings) -> Context<'c> {
        Context {
            settings,
            geo: None,
            fired: &[],
        }
    }
}

impl std::ops::Deref for Context<'_> {
    type Target = Settings;

    fn deref(&self) -> &Settings {
        self.settings
    }
}

/// What a rule says about one record: whose finding it adds to, and how. The one hit type of
/// every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The entity; `None` for the rule's entity kind as this record names it
    /// ([`cloudtrail_entity`]).
    pub entity: Option<Entity>,
    /// A severity other than the rule's default, for this hit.
    pub severity: Option<Severity>,
    /// A finer grouping than the entity (root activity is deduplicated per source IP).
    pub discriminator: Option<String>,
    /// A window (or dedup period) other than the rule's, for this hit (GuardDuty's, by band).
    pub window_minutes: Option<u32>,
    /// A finer grouping within the rule, reported in the finding.
    pub subcategory: Option<&'static str>,
    /// Values of the rule's distinct-count dimensions.
    pub distinct: [Option<String>; 2],
    /// For a sequence rule: whether this event may complete the pattern. Always true for other
    /// rules.
    pub completes: bool,
    /// Fires whatever the counts (BatchGetSecretValue reads many secrets in one call).
    pub immediate: bool,
}

impl Default for Hit {
    fn default() -> Hit {
        Hit {
            entity: None,
            severity: None,
            discriminator: None,
            window_minutes: None,
            subcategory: None,
            distinct: [None, None],
            completes: true,
            immediate: false,
        }
    }
}

impl Hit {
    /// A plain hit about the rule's entity.
    pub fn matched() -> Option<Hit> {
        Some(Hit::default())
    }

    /// A hit with another severity.
    pub fn with_severity(severity: Severity) -> Option<Hit> {
        Some(Hit {
            severity: Some(severity),
            ..Hit::default()
        })
    }

    /// A plain hit about `entity`.
    pub fn of(entity: Entity) -> Hit {
        Hit {
            entity: Some(entity),
            ..Hit::default()
        }
    }

    /// A plain hit about the entity `kind`:`id`.
    pub fn on(kind: EntityKind, id: impl Into<String>) -> Hit {
        Hit::of(Entity {
            kind,
            id: id.into(),
        })
    }

    /// The same hit with another severity.
    pub fn severity(mut self, severity: Severity) -> Hit {
        self.severity = Some(severity);
        self
    }

    /// The same hit with a discriminator.
    pub fn within(mut self, discriminator: impl Into<String>) -> Hit {
        self.discriminator = Some(discriminator.into());
        self
    }
}

/// How a rule looks at a record.
pub enum Check<T: RecordType> {
    /// One record, at most one hit.
    One(T::One),
    /// One record, any number of hits (one per entity it counts for).
    Each(T::Each),
    /// Judged from the users' login history, not from one record
    /// ([`crate::engine::history`]).
    History,
}

impl<T: RecordType> Clone for Check<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: RecordType> Copy for Check<T> {}

/// A rule: its data, its kind (single, window, anomaly) and its check, over one record type.
pub struct Rule<T: RecordType> {
    /// The rule's data.
    pub meta: RuleMeta,
    /// Single, window or anomaly.
    pub kind: RuleKind,
    /// The CloudTrail `eventSource`s of the records its check can hit, [`ANY_SOURCE`] for a
    /// check that judges every record (and for the rules over other record types). The
    /// pipeline runs a rule only over the records of its sources, so a check must hit no
    /// other: `shared/tests/catalogue.rs` holds every rule to it.
    pub sources: &'static [&'static str],
    /// How it looks at a record.
    pub check: Check<T>,
}

/// The `sources` of a rule that judges every record of its type.
pub const ANY_SOURCE: &[&str] = &[];

/// The CloudTrail rules to run over a record, by its `eventSource`: a record of a source no
/// rule names is judged by the rules of [`ANY_SOURCE`] alone, one of a named source by those
/// and that source's, in catalogue order (the rules over other rules' hits come after them).
#[derive(Debug, Clone, Default)]
pub struct SourceDispatch {
    /// Keyed by foldhash, not SipHash: the table is made once from the catalogue and never
    /// grows with input, so a log cannot degrade it, and a record's lookup costs 119
    /// instructions instead of 290 (callgrind).
    by_source: foldhash::HashMap<&'static str, Box<[u32]>>,
    any: Box<[u32]>,
}

impl SourceDispatch {
    /// The dispatch of `rules`.
    pub fn new(rules: &[CloudTrailRule]) -> SourceDispatch {
        let positions = |keep: &dyn Fn(&CloudTrailRule) -> bool| -> Box<[u32]> {
            (0u32..)
                .zip(rules)
                .filter(|(_, r)| keep(r))
                .map(|(i, _)| i)
                .collect()
        };
        let named: std::collections::HashSet<&'static str> = rules
            .iter()
            .flat_map(|r| r.sources.iter().copied())
            .collect();
        SourceDispatch {
            by_source: named
                .into_iter()
                .map(|s| {
                    let of_s = positions(&|r| r.sources.is_empty() || r.sources.contains(&s));
                    (s, of_s)
                })
                .collect(),
            any: positions(&|r| r.sources.is_empty()),
        }
    }

    /// Positions in the rules (as given to [`SourceDispatch::new`]) of those that judge a
    /// record of `source`, in order.
    pub fn rules_for(&self, source: &str) -> &[u32] {
        self.by_source.get(source).unwrap_or(&self.any)
    }
}

impl<T: RecordType> Clone for Rule<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: RecordType> Copy for Rule<T> {}

impl<T: RecordType> fmt::Debug for Rule<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.meta.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl<T: RecordType> Rule<T> {
    /// Pushes what the rule says about `record` to `out`.
    pub fn run(&self, record: &T::Record<'_>, cx: &Context<'_>, out: &mut Vec<Hit>) {
        match self.check {
            Check::One(check) => out.extend(T::one(check, record, cx)),
            Check::Each(check) => T::each(check, record, cx, out),
            Check::History => {}
        }
    }

    /// The rule's first hit on `record`, if any (tests and conformance).
    pub fn first(&self, record: &T::Record<'_>, cx: &Context<'_>) -> Option<Hit> {
        let mut out = Vec::new();
        self.run(record, cx, &mut out);
        out.into_iter().next()
    }
}

/// A rule over CloudTrail records.
pub type CloudTrailRule = Rule<CloudTrail>;
/// A rule over WAF records.
pub type WafRule = Rule<Waf>;
/// A rule over Network Firewall records.
pub type FirewallRule = Rule<Firewall>;
/// A rule over GuardDuty findings.
pub type GuardDutyRule = Rule<GuardDuty>;
/// A rule over Security Hub findings.
pub type SecurityHubRule = Rule<SecurityHub>;

/// What the organization tells the rules about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// Accounts of the organization (and trusted partners): sharing with them is not a finding.
    pub known_accounts: std::collections::HashSet<String>,
    /// Instance type prefixes to flag besides the accelerated and very large ones (`x2`, `hpc`).
    pub unusual_instance_types: Vec<String>,
    /// Country lists and thresholds of the geo rules.
    pub geo: crate::geo::GeoSettings,
}

/// A change to one rule's thresholds or window, from the deployment's configuration
/// (`RULE_SETTINGS`, e.g. `{"web.blocked-burst": {"min_count": 300}}`).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    /// Window (window rules), slice (anomaly rules) or dedup period (single rules), minutes.
    pub window_minutes: Option<u32>,
    /// Events needed (window and anomaly rules).
    pub min_count: Option<u64>,
    /// Distinct values needed per dimension (window rules).
    pub min_distinct: Option<[u64; 2]>,
    /// z above which an anomaly fires.
    pub z: Option<f64>,
    /// z above which an anomaly is raised one band.
    pub z_raise: Option<f64>,
    /// Previous slices in an anomaly's baseline.
    pub history: Option<usize>,
    /// Severity of the rule's findings.
    pub severity: Option<Severity>,
}

/// Walks the rules of a record's type over the record ([`Catalogue::visit`]).
pub trait RuleVisitor {
    /// `rules` are those of `record`'s type; `typed` is the record as that type.
    fn visit<T: RecordType>(
        &mut self,
        rules: &[Rule<T>],
        record: &Record<'_>,
        typed: &T::Record<'_>,
    );
}

/// The registry of rule lists: one entry per record type (its marker, the record, the source
/// it comes from, the field of the catalogue and the built-in rules) makes the marker's
/// [`RecordType`], the [`Catalogue`] and its walks.
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $field:ident: $marker:ident($record:ident) from $source:ident = $builtin:expr ),+ $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $marker;

            impl RecordType for $marker {
                type Record<'r> = $record<'r>;
                type One = fn(&$record<'_>, &Context<'_>) -> Option<Hit>;
                type Each = fn(&$record<'_>, &Context<'_>, &mut Vec<Hit>);

                fn one(check: Self::One, record: &$record<'_>, cx: &Context<'_>) -> Option<Hit> {
                    check(record, cx)
                }

                fn each(check: Self::Each, record: &$record<'_>, cx: &Context<'_>, out: &mut Vec<Hit>) {
                    check(record, cx, out)
                }
            }
        )+

        /// The rules the pipeline runs, one list per record type, and their settings.
        #[derive(Debug, Clone)]
        pub struct Catalogue {
            $(
                $(#[$doc])*
                pub $field: Vec<Rule<$marker>>,
            )+
            /// The users' Sigma rules (CloudTrail's), after the built-in ones.
            pub sigma: crate::sigma::SigmaSet,
            /// Settings every rule sees.
            pub settings: Settings,
        }

        impl Catalogue {
            /// Every built-in rule, with `settings`.
            pub fn with_settings(settings: Settings) -> Catalogue {
                Catalogue {
                    $( $field: $builtin, )+
                    sigma: crate::sigma::SigmaSet::default(),
                    settings,
                }
            }

            /// Every rule's data and kind, in catalogue order: the one walk over the catalogue.
            pub fn rules(&self) -> impl Iterator<Item = (&RuleMeta, RuleKind)> {
                let walk = std::iter::empty();
                $( let walk = walk.chain(self.$field.iter().map(|r| (&r.meta, r.kind))); )+
                walk.chain(self.sigma.rules())
            }

            /// The same walk, to change rules.
            fn rules_mut(&mut self) -> impl Iterator<Item = (&mut RuleMeta, &mut RuleKind)> {
                let walk = std::iter::empty();
                $( let walk = walk.chain(self.$field.iter_mut().map(|r| (&mut r.meta, &mut r.kind))); )+
                walk.chain(self.sigma.rules_mut())
            }

            /// Keeps only the rules for which `keep` holds (a tuning file's disabled rules leave).
            pub fn retain_rules(&mut self, keep: impl Fn(&RuleMeta) -> bool) {
                $( self.$field.retain(|r| keep(&r.meta)); )+
                self.sigma.retain(&keep);
            }

            /// Hands `record` and the rules of its type to `visitor`.
            pub fn visit(&self, record: &Record<'_>, visitor: &mut impl RuleVisitor) {
                match record {
                    $( Record::$source(typed) => visitor.visit(&self.$field, record, typed), )+
                }
            }
        }
    };
}

catalogue! {
    /// CloudTrail rules: single-event, then windowed and anomaly (they see the single-event
    /// hits), then geo.
    cloudtrail: CloudTrail(CloudTrailRecord) from CloudTrail = cloudtrail::rules(),
    /// WAF rules.
    waf: Waf(WafRecord) from Waf = waf::RULES.to_vec(),
    /// Network Firewall rules.
    firewall: Firewall(FirewallRecord) from NetworkFirewall = firewall::RULES.to_vec(),
    /// GuardDuty rules.
    guardduty: GuardDuty(GuardDutyFinding) from GuardDuty = guardduty::RULES.to_vec(),
    /// Security Hub rules.
    securityhub: SecurityHub(SecurityHubFinding) from SecurityHub = securityhub::RULES.to_vec(),
}

impl Catalogue {
    /// Every built-in rule, with default settings.
    pub fn builtin() -> Catalogue {
        Catalogue::with_settings(Settings::default())
    }

    /// Applies the deployment's changes to thresholds and windows. An unknown rule, a field that
    /// does not apply to the rule's kind, or a zero window is an error naming the rule.
    pub fn apply_overrides(
        &mut self,
        overrides: &std::collections::BTreeMap<String, RuleOverride>,
    ) -> Result<(), String> {
        for (id, o) in overrides {
            let (meta, kind) = self
                .rules_mut()
                .find(|(m, _)| m.id == id)
                .ok_or_else(|| format!("{id}: no such rule (see `cloudsec rules`)"))?;
            let wrong = |field: &str| Err(format!("{id}: `{field}` does not apply to this rule"));
            if o.window_minutes == Some(0) {
                return Err(format!("{id}: `window_minutes` must be at least 1"));
            }
            if let Some(sev) = o.severity {
                meta.severity = sev;
            }
            match kind {
                RuleKind::Single => {
                    if o.min_count.is_some() {
                        return wrong("min_count");
                    }
                    if o.min_distinct.is_some() {
                        return wrong("min_distinct");
                    }
                    if o.z.is_some() || o.z_raise.is_some() || o.history.is_some() {
                        return wrong("z");
                    }
                    if let Some(w) = o.window_minutes {
                        meta.dedup_minutes = w;
                    }
                }
                RuleKind::Window {
                    window_minutes,
                    min_count,
                    min_distinct,
                } => {
                    if o.z.is_some() || o.z_raise.is_some() || o.history.is_some() {
                        return wrong("z");
                    }
                    if let Some(w) = o.window_minutes {
                        *window_minutes = w;
                        meta.dedup_minutes = w;
                    }
                    if let Some(c) = o.min_count {
                        *min_count = c.max(1);
                    }
                    if let Some(d) = o.min_distinct {
                        *min_distinct = d;
                    }
                }
                RuleKind::Anomaly {
                    slice_minutes,
                    min_count,
                    z,
                    z_raise,
                    history,
                } => {
                    if o.min_distinct.is_some() {
                        return wrong("min_distinct");
                    }
                    if let Some(w) = o.window_minutes {
                        *slice_minutes = w;
                        meta.dedup_minutes = w;
                    }
                    if let Some(c) = o.min_count {
                        *min_count = c.max(1);
                    }
                    if let Some(v) = o.z {
                        *z = v;
                    }
                    if let Some(v) = o.z_raise {
                        *z_raise = v;
                    }
                    if let Some(h) = o.history {
                        *history = h.max(1);
                    }
                }
            }
        }
        Ok(())
    }

    /// The metadata of every rule, for listing.
    pub fn metas(&self) -> impl Iterator<Item = &RuleMeta> {
        self.rules().map(|(m, _)| m)
    }

    /// The kind of rule `id`.
    pub fn kind(&self, id: &str) -> Option<RuleKind> {
        self.rules().find(|(m, _)| m.id == id).map(|(_, k)| k)
    }

    /// Looks a rule up by id.
    pub fn meta(&self, id: &str) -> Option<&RuleMeta> {
        self.metas().find(|m| m.id == id)
    }

    /// The CloudTrail rules that are judged on the login history, by id: their metadata as
    /// configured.
    pub fn history_rule(&self, id: &str) -> Option<&RuleMeta> {
        self.cloudtrail
            .iter()
            .find(|r| matches!(r.check, Check::History) && r.meta.id == id)
            .map(|r| &r.meta)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn overrides(json: &str) -> BTreeMap<String, RuleOverride> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn overrides_change_thresholds_windows_and_severity() {
        let mut c = Catalogue::builtin();
        c.apply_overrides(&overrides(
            r#"{"web.blocked-burst": {"min_count": 300, "window_minutes": 5},
                "user.console-login-failed-anomaly": {"z": 4.5, "history": 20},
                "user.root-activity": {"window_minutes": 15, "severity": "critical"}}"#,
        ))
        .unwrap();
        assert_eq!(
            c.kind("web.blocked-burst"),
            Some(RuleKind::Window {
                window_minutes: 5,
                min_count: 300,
                min_distinct: [0, 0]
            })
        );
        assert!(matches!(
            c.kind("user.console-login-failed-anomaly"),
            Some(RuleKind::Anomaly { z, history: 20, .. }) if z == 4.5
        ));
        let root = c.meta("user.root-activity").unwrap();
        assert_eq!(
            (root.dedup_minutes, root.severity),
            (15, Severity::Critical)
        );
    }

    #[test]
    fn a_record_is_judged_by_its_sources_rules_and_those_of_every_source_in_order() {
        let c = Catalogue::builtin();
        let dispatch = SourceDispatch::new(&c.cloudtrail);
        let ids = |source: &str| -> Vec<&str> {
            dispatch
                .rules_for(source)
                .iter()
                .map(|&i| c.cloudtrail[i as usize].meta.id)
                .collect()
        };
        let any: Vec<&str> = c
            .cloudtrail
            .iter()
            .filter(|r| r.sources.is_empty())
            .map(|r| r.meta.id)
            .collect();
        assert_eq!(ids("nothing.amazonaws.com"), any);
        let iam = ids("iam.amazonaws.com");
        let expected: Vec<&str> = c
            .cloudtrail
            .iter()
            .filter(|r| r.sources.is_empty() || r.sources.contains(&"iam.amazonaws.com"))
            .map(|r| r.meta.id)
            .collect();
        assert_eq!(iam, expected, "catalogue order");
        assert!(iam.contains(&"config.iam-policy-change") && iam.contains(&"user.root-activity"));
        assert!(!iam.contains(&"config.kms-key-disabled"));
        // The config-change anomaly, over the config rules' hits, still comes after them.
        let at = |id: &str| iam.iter().position(|x| *x == id).unwrap();
        assert!(at("config.iam-policy-change") < at("config.change-anomaly"));
    }

    #[test]
    fn bad_overrides_name_the_rule() {
        let mut c = Catalogue::builtin();
        let e = c
            .apply_overrides(&overrides(r#"{"no.such-rule": {"min_count": 1}}"#))
            .unwrap_err();
        assert!(e.contains("no.such-rule"), "{e}");
        let e = c
            .apply_overrides(&overrides(r#"{"user.root-login": {"min_count": 3}}"#))
            .unwrap_err();
        assert!(e.contains("does not apply"), "{e}");
        let e = c
            .apply_overrides(&overrides(
                r#"{"web.blocked-burst": {"window_minutes": 0}}"#,
            ))
            .unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
        assert!(serde_json::from_str::<BTreeMap<String, RuleOverride>>(
            r#"{"x": {"treshold": 1}}"#
        )
        .is_err());
    }
}
