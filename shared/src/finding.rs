//! Findings: the ECS alert documents published for each detection.
//!
//! A finding's id is deterministic: a hash of the rule, the entity, an optional discriminator and
//! the window (the dedup period the first event falls in). Republishing the same finding, after a
//! retry or a redelivery, carries the same id, so subscribers can drop duplicates.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use std::collections::BTreeSet;

use crate::detect::{Entity, Hit, RuleKind, RuleMeta, Severity};
use crate::sources::Record;
use crate::state::{CounterKey, CounterState, CounterUpdate, MAX_DISTINCT_PER_INPUT};
use crate::timefmt::format_rfc3339;

/// The ECS alert document of one finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Last time an event of the finding happened.
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    /// One sentence: who did what, to what, where.
    pub message: String,
    /// `event.*`: `kind: alert`, severity, risk score, first and last seen.
    pub event: FindingEvent,
    /// `rule.*`.
    pub rule: FindingRule,
    /// `threat.*`: MITRE ATT&CK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat: Option<Threat>,
    /// `cloud.*` of the first event.
    pub cloud: FindingCloud,
    /// `user.name` of the first event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<NamedUser>,
    /// `source.*` of the first event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<FindingSource>,
    /// `related.*`, over all events of the finding (bounded).
    #[serde(default)]
    pub related: FindingRelated,
    /// What ECS has no field for: the finding's own id, severity label, entity, count, action
    /// plan and evidence. The product's namespace, as `kibana.alert.*` is Elastic's.
    pub finding: FindingBody,
}

/// `event.*` of a finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingEvent {
    /// Always `alert`.
    pub kind: String,
    /// ECS categories of the triggering event.
    pub category: Vec<String>,
    /// ECS types of the triggering event.
    #[serde(rename = "type")]
    pub kind_types: Vec<String>,
    /// Dataset the evidence came from (`aws.cloudtrail`).
    pub dataset: String,
    /// Always `aws`.
    pub module: String,
    /// The finding id.
    pub id: String,
    /// Numeric severity (Elastic's scale: 21, 47, 73, 99).
    pub severity: i64,
    /// Risk score, the same scale.
    pub risk_score: f64,
    /// First event time.
    pub start: String,
    /// Last event time.
    pub end: String,
    /// The triggering call (`eventName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The triggering service (`eventSource`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// `rule.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingRule {
    /// Rule id (`user.root-login`).
    pub id: String,
    /// Rule title.
    pub name: String,
    /// What the rule detects.
    pub description: String,
    /// The dashboard's title.
    pub category: String,
    /// Always `cloudsec`.
    pub ruleset: String,
    /// Where the logic comes from.
    pub reference: String,
}

/// `threat.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Threat {
    /// `MITRE ATT&CK`.
    pub framework: String,
    /// `threat.tactic.*`.
    pub tactic: IdName,
    /// `threat.technique.*`.
    pub technique: IdName,
}

/// An ATT&CK id and name, as ECS arrays.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdName {
    /// Ids.
    pub id: Vec<String>,
    /// Names.
    pub name: Vec<String>,
}

/// `cloud.*` of a finding.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct FindingCloud {
    /// Always `aws`.
    pub provider: String,
    /// `cloud.account.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// Region of the first event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// `cloud.account.*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountId {
    /// Twelve-digit id.
    pub id: String,
}

/// `user.*` of a finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedUser {
    /// User name.
    pub name: String,
}

/// `source.*` of a finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingSource {
    /// As logged.
    pub address: String,
    /// When it is an IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// `related.*` of a finding.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct FindingRelated {
    /// User names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<String>,
    /// IPs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip: Vec<String>,
}

/// The product's own part of a finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingBody {
    /// Deterministic id (also `event.id`).
    pub id: String,
    /// `info`, `low`, `medium`, `high` or `critical`.
    pub severity: Severity,
    /// The dashboard, as a machine name (`config-iam`).
    pub category: String,
    /// What the finding is about.
    pub entity: FindingEntity,
    /// Start of the dedup window, RFC 3339.
    pub window_start: String,
    /// How many events make it up.
    pub count: u64,
    /// The steps a responder should take.
    pub action_plan: Vec<String>,
    /// A finer grouping within the rule (GuardDuty: `api`, `resource` or `storage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<String>,
    /// A bounded sample of the events, as ECS documents.
    pub evidence: Vec<Box<RawValue>>,
    /// Events left out of `evidence` (over the sample size, or trimmed to fit SNS's size limit).
    #[serde(default)]
    pub evidence_omitted: u64,
    /// Distinct values counted by a windowed rule (user names sprayed, secrets read, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distinct: Vec<Vec<String>>,
    /// The z-score of an anomaly finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_score: Option<f64>,
    /// A finding of a staged rule: kept, not published ([`crate::tuning`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
}

/// The entity of a finding, owned and deserializable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingEntity {
    /// `user`, `principal`, `ip`, `account`, `access_key`, `resource`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The identifier.
    pub id: String,
}

impl Finding {
    /// Takes in `later`, the same finding as a later input left it: its counts, times,
    /// severity and distinct values replace these (they are cumulative); its evidence is added
    /// up to `max_evidence`.
    pub fn update_from(&mut self, mut later: Finding, max_evidence: usize) {
        debug_assert_eq!(self.finding.id, later.finding.id);
        let mut omitted = later.finding.evidence_omitted;
        let mut evidence = std::mem::take(&mut self.finding.evidence);
        for e in std::mem::take(&mut later.finding.evidence) {
            if evidence.len() < max_evidence {
                evidence.push(e);
            } else {
                omitted += 1;
            }
        }
        let previous_omitted = self.finding.evidence_omitted;
        let mut related = std::mem::take(&mut self.related);
        for (mine, theirs) in [
            (&mut related.user, &later.related.user),
            (&mut related.ip, &later.related.ip),
        ] {
            for v in theirs {
                push_related(mine, v);
            }
        }
        *self = later;
        self.related = related;
        self.finding.evidence = evidence;
        self.finding.evidence_omitted = previous_omitted + omitted;
    }
}

/// The deterministic id of the finding of `rule_id` about `entity` in the window starting at
/// `window_start` (Unix seconds).
pub fn finding_id(
    rule_id: &str,
    entity: &Entity,
    discriminator: Option<&str>,
    window_start: i64,
) -> String {
    let mut h = Sha256::new();
    for part in [
        rule_id,
        entity.kind.as_str(),
        &entity.id,
        discriminator.unwrap_or(""),
        &window_start.to_string(),
    ] {
        // Each part prefixed by its length: no content can make two lists of parts one input
        // to the hash (a separator could occur in a log value).
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// The window a hit falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Its start, Unix seconds.
    pub start: i64,
    /// Its length.
    pub minutes: u32,
}

impl Window {
    /// The window of `minutes` that `ts` falls in.
    pub fn of(ts: i64, minutes: u32) -> Window {
        Window {
            start: window_start(ts, minutes),
            minutes: minutes.max(1),
        }
    }
}

/// Start of the window of `dedup_minutes` that `ts` falls in.
pub fn window_start(ts: i64, dedup_minutes: u32) -> i64 {
    let len = i64::from(dedup_minutes.max(1)) * 60;
    ts.div_euclid(len) * len
}

/// Gathers the hits of one finding within one input.
#[derive(Debug, Clone)]
pub struct FindingBuilder {
    meta: RuleMeta,
    kind: RuleKind,
    id: String,
    entity: Entity,
    discriminator: Option<String>,
    distinct: [BTreeSet<String>; 2],
    immediate: bool,
    completes: (i64, bool),
    subcategory: Option<&'static str>,
    severity: Severity,
    window_start: i64,
    window_minutes: u32,
    first_seen: i64,
    last_seen: i64,
    count: u64,
    message: String,
    dataset: &'static str,
    category: Vec<String>,
    kind_types: Vec<String>,
    action: Option<String>,
    provider: Option<String>,
    account: Option<String>,
    region: Option<String>,
    user: Option<String>,
    source: Option<FindingSource>,
    related: FindingRelated,
    evidence: Vec<std::sync::Arc<Box<RawValue>>>,
    evidence_omitted: u64,
    max_evidence: usize,
    /// Made from the state as well as the input (a pair of logins): committed under a ledger
    /// item of its own ([`crate::state::ledger_plan`]).
    own_ledger: bool,
}

/// The ECS event of one record, built at most once (for the findings it starts and its
/// evidence), and serialized at most once however many findings the record joins (and not at
/// all when none has room for it).
pub struct Evidence<'a, 'r> {
    record: &'a Record<'r>,
    path: &'a str,
    geo: Option<&'a crate::geo::GeoIp>,
    ecs: Option<crate::sources::Ecs<'a>>,
    doc: Option<Option<std::sync::Arc<Box<RawValue>>>>,
}

impl<'a, 'r> Evidence<'a, 'r> {
    /// The evidence of `record`, read from `path`, enriched with `geo`.
    pub fn new(record: &'a Record<'r>, path: &'a str, geo: Option<&'a crate::geo::GeoIp>) -> Self {
        Evidence {
            record,
            path,
            geo,
            ecs: None,
            doc: None,
        }
    }

    /// The ECS event (built on the first call).
    pub fn ecs(&mut self) -> &crate::sources::Ecs<'a> {
        let (record, path, geo) = (self.record, self.path, self.geo);
        self.ecs.get_or_insert_with(|| {
            let mut ecs = record.to_ecs(Some(path));
            if let Some(g) = geo {
                ecs.enrich(g);
            }
            ecs
        })
    }

    /// The document (serialized on the first call).
    pub fn get(&mut self) -> Option<std::sync::Arc<Box<RawValue>>> {
        if self.doc.is_none() {
            let doc = serde_json::value::to_raw_value(self.ecs())
                .ok()
                .map(std::sync::Arc::new);
            self.doc = Some(doc);
        }
        self.doc.clone().flatten()
    }
}

/// At most this many users and IPs are listed in `related`, so that a burst over thousands of
/// events keeps a small finding.
const MAX_RELATED: usize = 20;

/// Adds `value` to a `related` list unless it is there or the list is full.
fn push_related(list: &mut Vec<String>, value: &str) {
    if list.len() < MAX_RELATED && !list.iter().any(|x| x == value) {
        list.push(value.to_owned());
    }
}

impl FindingBuilder {
    /// Starts a finding from its first hit.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        meta: RuleMeta,
        kind: RuleKind,
        id: String,
        entity: Entity,
        discriminator: Option<String>,
        severity: Severity,
        window: Window,
        ts: i64,
        record: &Record<'_>,
        ecs: &crate::sources::Ecs<'_>,
        max_evidence: usize,
    ) -> FindingBuilder {
        FindingBuilder {
            message: record.summary(&entity),
            category: ecs.event.category.iter().map(|s| s.to_string()).collect(),
            kind_types: ecs.event.kind_types.iter().map(|s| s.to_string()).collect(),
            meta,
            kind,
            id,
            entity,
            discriminator,
            distinct: Default::default(),
            immediate: false,
            completes: (i64::MIN, true),
            subcategory: None,
            severity,
            window_start: window.start,
            window_minutes: window.minutes,
            first_seen: ts,
            last_seen: ts,
            count: 0,
            dataset: ecs.event.dataset,
            action: ecs.event.action.map(str::to_owned),
            provider: ecs.event.provider.map(str::to_owned),
            account: ecs.cloud.account.as_ref().map(|a| a.id.to_owned()),
            region: ecs.cloud.region.map(str::to_owned),
            user: ecs.user.as_ref().and_then(|u| u.name).map(str::to_owned),
            source: ecs.source.as_ref().map(|s| FindingSource {
                address: s.address.to_owned(),
                ip: s.ip.map(str::to_owned),
            }),
            related: FindingRelated::default(),
            evidence: Vec::new(),
            evidence_omitted: 0,
            max_evidence,
            own_ledger: false,
        }
    }

    /// A finding of a geo rule, judged from a login and the user's history rather than from
    /// one record: `times` are its first and last event times.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        meta: RuleMeta,
        id: String,
        entity: Entity,
        discriminator: Option<String>,
        window: Window,
        times: (i64, i64),
        message: String,
        login: &crate::detect::geo::Login,
        evidence: Vec<Box<RawValue>>,
        max_evidence: usize,
    ) -> FindingBuilder {
        let count = evidence.len().max(1) as u64;
        let kept: Vec<_> = evidence
            .into_iter()
            .take(max_evidence)
            .map(std::sync::Arc::new)
            .collect();
        FindingBuilder {
            message,
            category: vec!["authentication".into()],
            kind_types: vec!["start".into()],
            meta,
            kind: RuleKind::Single,
            id,
            entity,
            discriminator,
            distinct: Default::default(),
            immediate: false,
            completes: (i64::MIN, true),
            subcategory: None,
            severity: meta.severity,
            window_start: window.start,
            window_minutes: window.minutes,
            first_seen: times.0.min(times.1),
            last_seen: times.0.max(times.1),
            count,
            dataset: "aws.cloudtrail",
            action: Some("ConsoleLogin".into()),
            provider: Some("signin.amazonaws.com".into()),
            account: login.account.clone(),
            region: login.region.clone(),
            user: Some(login.user.clone()),
            source: Some(FindingSource {
                address: login.record.ip.clone(),
                ip: Some(login.record.ip.clone()),
            }),
            related: FindingRelated {
                user: vec![login.user.clone()],
                ip: vec![login.record.ip.clone()],
            },
            evidence_omitted: count - kept.len() as u64,
            evidence: kept,
            max_evidence,
            own_ledger: true,
        }
    }

    /// Names one more IP in `related.ip`.
    pub fn add_related_ip(&mut self, ip: &str) {
        push_related(&mut self.related.ip, ip);
    }

    /// Adds one event: its time, its severity, and its ECS document as evidence while there is
    /// room (serialized only then, once per record).
    pub fn add(
        &mut self,
        ts: i64,
        severity: Severity,
        record: &Record<'_>,
        evidence: &mut Evidence<'_, '_>,
    ) {
        self.count += 1;
        self.first_seen = self.first_seen.min(ts);
        self.last_seen = self.last_seen.max(ts);
        self.severity = self.severity.max(severity);
        if let Some(u) = record.user_name() {
            push_related(&mut self.related.user, u);
        }
        if let Some(ip) = record.source_ip() {
            push_related(&mut self.related.ip, ip);
        }
        if self.evidence.len() < self.max_evidence {
            match evidence.get() {
                Some(doc) => self.evidence.push(doc),
                None => self.evidence_omitted += 1,
            }
        } else {
            self.evidence_omitted += 1;
        }
    }

    /// Records whether the event at `ts` may complete a sequence rule's pattern: the latest
    /// event of the input decides (PASSED then FAILED completes "newly failing"; FAILED then
    /// PASSED does not).
    pub fn sequence(&mut self, ts: i64, completes: bool) {
        if ts >= self.completes.0 {
            self.completes = (ts, completes);
        }
    }

    /// Whether the latest event of this input may complete the rule's pattern (always, for
    /// rules that are not sequences).
    pub fn completes(&self) -> bool {
        self.completes.1
    }

    /// Sets the account when the events did not name one (Network Firewall logs name it only in
    /// their key).
    pub fn default_account(&mut self, account: &str) {
        if self.account.is_none() {
            self.account = Some(account.to_owned());
        }
    }

    /// Sets the finer grouping a detection gives its findings (GuardDuty's api, resource or
    /// storage).
    pub fn set_subcategory(&mut self, subcategory: Option<&'static str>) {
        if subcategory.is_some() {
            self.subcategory = subcategory;
        }
    }

    /// Adds the distinct values and flags of an observation of a windowed rule.
    pub fn observe(&mut self, o: &Hit) {
        for (set, value) in self.distinct.iter_mut().zip(&o.distinct) {
            if let Some(v) = value {
                if set.len() < MAX_DISTINCT_PER_INPUT {
                    set.insert(v.clone());
                }
            }
        }
        self.immediate |= o.immediate;
    }

    /// The finding id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The rule's kind.
    pub fn kind(&self) -> RuleKind {
        self.kind
    }

    /// The rule's data.
    pub fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    /// Whether an observation asked to fire whatever the counts.
    pub fn immediate(&self) -> bool {
        self.immediate
    }

    /// The counter this group adds to.
    pub fn key(&self) -> CounterKey {
        CounterKey {
            rule: self.meta.id.to_owned(),
            entity: format!("{}:{}", self.entity.kind.as_str(), self.entity.id),
            discriminator: self.discriminator.clone().unwrap_or_default(),
            window_start: self.window_start,
        }
    }

    /// What this input adds to the counter; it may be forgotten `retention_secs` after its
    /// window ends.
    pub fn update(&self, retention_secs: i64) -> CounterUpdate {
        let window_secs = i64::from(self.window_minutes) * 60;
        CounterUpdate {
            key: self.key(),
            count: self.count,
            distinct: self.distinct.clone(),
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            expires_at: self.window_start + window_secs + retention_secs,
            own_ledger: self.own_ledger,
        }
    }

    /// The finished document, as the counter stands after this input was committed.
    pub fn build_with(
        mut self,
        state: &CounterState,
        severity: Severity,
        z_score: Option<f64>,
    ) -> Finding {
        if state.count > 0 {
            self.count = state.count;
            self.first_seen = state.first_seen;
            self.last_seen = state.last_seen;
            self.distinct = state.distinct.clone();
        }
        self.severity = self.severity.max(severity);
        if self.kind != RuleKind::Single {
            self.message = self.window_message(z_score);
        }
        let mut f = self.build();
        f.finding.z_score = z_score.map(|z| (z * 100.0).round() / 100.0);
        f
    }

    fn window_message(&self, z_score: Option<f64>) -> String {
        let mut s = format!(
            "{} for {} {}: {} events between {} and {}",
            self.meta.title,
            self.entity.kind.as_str().replace('_', " "),
            self.entity.id,
            self.count,
            format_rfc3339(self.first_seen),
            format_rfc3339(self.last_seen),
        );
        for set in self.distinct.iter().filter(|d| !d.is_empty()) {
            s.push_str(&format!(", {} distinct", set.len()));
        }
        if let Some(z) = z_score {
            s.push_str(&format!(" (z-score {z:.1})"));
        }
        s.push_str(". Latest: ");
        s.push_str(&self.message);
        s
    }

    /// The finished document, from this input alone.
    pub fn build(self) -> Finding {
        let m = self.meta;
        Finding {
            timestamp: format_rfc3339(self.last_seen),
            message: self.message,
            event: FindingEvent {
                kind: "alert".into(),
                category: self.category,
                kind_types: self.kind_types,
                dataset: self.dataset.into(),
                module: "aws".into(),
                id: self.id.clone(),
                severity: i64::from(self.severity.score()),
                risk_score: f64::from(self.severity.score()),
                start: format_rfc3339(self.first_seen),
                end: format_rfc3339(self.last_seen),
                action: self.action,
                provider: self.provider,
            },
            rule: FindingRule {
                id: m.id.into(),
                name: m.title.into(),
                description: m.description.into(),
                category: m.category.title().into(),
                ruleset: "cloudsec".into(),
                reference: m.references.join("; "),
            },
            threat: m.attack.map(|a| Threat {
                framework: "MITRE ATT&CK".into(),
                tactic: IdName {
                    id: vec![a.tactic_id.into()],
                    name: vec![a.tactic.into()],
                },
                technique: IdName {
                    id: vec![a.technique_id.into()],
                    name: vec![a.technique.into()],
                },
            }),
            cloud: FindingCloud {
                provider: "aws".into(),
                account: self.account.map(|id| AccountId { id }),
                region: self.region,
            },
            user: self.user.map(|name| NamedUser { name }),
            source: self.source,
            related: self.related,
            finding: FindingBody {
                id: self.id,
                severity: self.severity,
                category: m.category.as_str().into(),
                entity: FindingEntity {
                    kind: self.entity.kind.as_str().into(),
                    id: self.entity.id,
                },
                window_start: format_rfc3339(self.window_start),
                count: self.count,
                action_plan: m.action_plan.iter().map(|s| s.to_string()).collect(),
                subcategory: self.subcategory.map(str::to_owned),
                evidence: self
                    .evidence
                    .into_iter()
                    .map(|e| {
                        std::sync::Arc::try_unwrap(e).unwrap_or_else(|shared| (*shared).clone())
                    })
                    .collect(),
                evidence_omitted: self.evidence_omitted,
                distinct: self
                    .distinct
                    .into_iter()
                    .filter(|d| !d.is_empty())
                    .map(|d| d.into_iter().collect())
                    .collect(),
                z_score: None,
                staged: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::EntityKind;
    use crate::sources::cloudtrail::{describe_call, CloudTrailRecord};
    use crate::sources::SourceRecord;

    #[test]
    fn ids_are_stable_and_distinct() {
        let e = Entity {
            kind: EntityKind::User,
            id: "alice".into(),
        };
        let a = finding_id("r", &e, None, 3600);
        assert_eq!(a, finding_id("r", &e, None, 3600));
        assert_eq!(a.len(), 32);
        assert_ne!(a, finding_id("r", &e, None, 7200));
        assert_ne!(a, finding_id("r", &e, Some("1.2.3.4"), 3600));
        let e2 = Entity {
            kind: EntityKind::Ip,
            id: "alice".into(),
        };
        assert_ne!(a, finding_id("r", &e2, None, 3600));
        // A separator inside a value does not make two findings one.
        let ip = |id: &str| Entity {
            kind: EntityKind::Ip,
            id: id.into(),
        };
        assert_ne!(
            finding_id("r", &ip("B\u{1f}C"), Some("A"), 0),
            finding_id("r", &ip("C"), Some("A\u{1f}B"), 0)
        );
        assert_ne!(
            finding_id("r", &ip("a"), Some("bc"), 0),
            finding_id("r", &ip("ab"), Some("c"), 0)
        );
    }

    #[test]
    fn calls_in_words() {
        assert_eq!(describe_call("StopLogging"), "stopped logging");
        assert_eq!(describe_call("AttachUserPolicy"), "attached user policy");
        assert_eq!(
            describe_call("UpdateFunctionCode20150331v2"),
            "updated function code"
        );
        assert_eq!(
            describe_call("DisableEbsEncryptionByDefault"),
            "disabled ebs encryption by default"
        );
        assert_eq!(describe_call("CreateDBSnapshot"), "created DB snapshot");
        assert_eq!(describe_call("ListBuckets"), "called ListBuckets");
    }

    #[test]
    fn message_names_actor_account_action_target_region() {
        let raw = r#"{"eventTime":"2026-11-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","userIdentity":{"type":"Root","accountId":"111122223333"},"requestParameters":{"name":"org-trail"}}"#;
        let r = CloudTrailRecord::parse(raw).unwrap();
        let e = Entity {
            kind: EntityKind::Resource,
            id: "org-trail".into(),
        };
        assert_eq!(
            r.summary(&e),
            "Root user of account 111122223333 stopped logging (cloudtrail:StopLogging) on org-trail in us-east-1"
        );
    }

    #[test]
    fn windows_align_to_their_length() {
        assert_eq!(window_start(3599, 60), 0);
        assert_eq!(window_start(3600, 60), 3600);
        assert_eq!(window_start(-1, 60), -3600);
    }
}
