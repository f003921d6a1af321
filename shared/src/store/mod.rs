//! The findings store: every finding the engine reaches (published, staged, under the
//! publishing severity) kept with its current state, and the counts the tuning's exceptions
//! suppressed, for the risk overview, the report and the digest.
//!
//! A finding is one item, by its deterministic id: a redelivered input writes the same item
//! again, and a later input that adds events to it moves its count and last-seen time forward,
//! never back. A finding is open while it is active: until [`Resolution::after_days`] without
//! an event, or until it is resolved (a Security Hub control that passes again). Items expire
//! after the retention the store is given.

pub mod dynamodb;
pub mod memory;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::engine::evaluate::Fired;
use crate::engine::InputId;
use crate::error::PortError;
use crate::finding::Finding;
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// Evidence events a stored finding keeps: enough for the report's countries and pairs,
/// small enough that an item costs a few write units.
pub const STORED_EVIDENCE: usize = 3;

/// A finding as the store keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredFinding {
    /// The document (its evidence cut to [`STORED_EVIDENCE`] events).
    pub finding: Finding,
    /// When the store first kept it (processing time, RFC 3339): what "new since the last
    /// digest" is measured by, whatever the events' own times (a backfill's are old).
    pub stored_at: String,
    /// Whether it was sent to the sinks (a staged rule's, or one under the publishing
    /// severity, is kept and not sent).
    pub published: bool,
    /// When it was resolved explicitly (a control that passes again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
}

impl StoredFinding {
    /// A finding as a scan printed it or the archive holds it: kept when its last event
    /// happened, published unless staged, never resolved explicitly.
    pub fn archived(finding: Finding) -> StoredFinding {
        StoredFinding {
            stored_at: finding.event.end.clone(),
            published: !finding.finding.staged,
            finding,
            resolved_at: None,
        }
    }
}

/// Events the tuning's exceptions kept from counting, per rule and exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedCount {
    /// The rule.
    pub rule: String,
    /// The exception, as its label names it.
    pub exception: String,
    /// Events.
    pub count: u64,
    /// When they were counted (processing time, RFC 3339).
    pub at: String,
}

/// What the store holds for a period: its findings and suppressed counts.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// Findings active in the period.
    pub findings: Vec<StoredFinding>,
    /// Suppressed counts of the period, one per input, rule and exception.
    pub suppressed: Vec<SuppressedCount>,
}

/// When a finding stops being open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    /// Days without an event after which a finding is resolved.
    pub after_days: i64,
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution { after_days: 7 }
    }
}

impl Resolution {
    /// The earliest last-seen time of an open finding at `now`.
    pub fn open_since(&self, now: i64) -> String {
        format_rfc3339(now - self.after_days * 86_400)
    }

    /// When `f` resolved, or resolves (RFC 3339): explicitly, or `after_days` after its last
    /// event.
    pub fn resolved_at(&self, f: &StoredFinding) -> Option<i64> {
        let by_time = parse_rfc3339(&f.finding.event.end).map(|end| end + self.after_days * 86_400);
        let explicit = f.resolved_at.as_deref().and_then(parse_rfc3339);
        match (explicit, by_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `f` is open at `now`.
    pub fn is_open(&self, f: &StoredFinding, now: i64) -> bool {
        self.resolved_at(f).is_none_or(|at| at > now)
    }
}

/// A boxed future of the store, so that an engine holds any store behind one pointer.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PortError>> + Send + 'a>>;

/// Where findings are kept. A real adapter (DynamoDB) and an in-memory one (the CLI, tests).
pub trait FindingStore: Send + Sync {
    /// Keeps what one input reached: its findings as their counts stand now, and the counts
    /// its exceptions suppressed. Idempotent: the same input kept again changes nothing.
    fn keep<'a>(
        &'a self,
        input: &'a InputId,
        fired: &'a [Fired],
        suppressed: &'a [SuppressedCount],
        now: i64,
    ) -> StoreFuture<'a, ()>;

    /// The open findings of one entity (`<type>:<id>`, as [`entity_key`] writes it) active
    /// since `since` (RFC 3339): one query of the entity index.
    fn open_for<'a>(
        &'a self,
        entity: &'a str,
        since: &'a str,
    ) -> StoreFuture<'a, Vec<StoredFinding>>;

    /// Every finding active since `since`, and the counts suppressed since then.
    fn since<'a>(&'a self, since: &'a str) -> StoreFuture<'a, Kept>;

    /// A Security Hub control passes again for a resource: marks as resolved at `at` the open
    /// findings of its failure about `entity` (the control rules' findings of that control
    /// last seen before `at`). Answers how many.
    fn resolve_control<'a>(
        &'a self,
        entity: &'a str,
        control: &'a str,
        at: i64,
    ) -> StoreFuture<'a, u64>;

    /// When the last digest was sent (Unix seconds), if one was.
    fn last_digest(&self) -> StoreFuture<'_, Option<i64>>;

    /// Records that a digest was sent at `at`.
    fn record_digest(&self, at: i64) -> StoreFuture<'_, ()>;
}

/// The entity index's key of a finding: `<type>:<id>`.
pub fn entity_key(f: &Finding) -> String {
    format!("{}:{}", f.finding.entity.kind, f.finding.entity.id)
}

/// Whether `f` is a finding of the failure of `control` that a pass at `at` resolves.
pub fn resolved_by_pass(f: &StoredFinding, control: &str, at: i64) -> bool {
    f.resolved_at.is_none()
        && f.finding.rule.id.starts_with("control.")
        && parse_rfc3339(&f.finding.event.end).is_some_and(|end| end <= at)
        && f.finding.finding.evidence.iter().any(|e| {
            serde_json::from_str::<serde_json::Value>(e.get()).is_ok_and(|v| {
                v["aws"]["securityhub_findings"]["control_id"].as_str() == Some(control)
            })
        })
}

/// `fired` as the store keeps it: evidence cut, sent or not.
pub fn stored(fired: &Fired, now: i64) -> StoredFinding {
    let mut finding = fired.finding.clone();
    let cut = finding
        .finding
        .evidence
        .len()
        .saturating_sub(STORED_EVIDENCE);
    finding.finding.evidence.truncate(STORED_EVIDENCE);
    finding.finding.evidence_omitted += cut as u64;
    StoredFinding {
        finding,
        stored_at: format_rfc3339(now),
        published: fired.sent,
        resolved_at: None,
    }
}

/// The suppressed counts of one delivery, as the store keeps them.
pub fn suppressed_counts(
    suppressed: &crate::tuning::Suppressed,
    pipeline: &crate::pipeline::Pipeline,
    now: i64,
) -> Vec<SuppressedCount> {
    suppressed
        .iter()
        .map(|((by, rule), n)| SuppressedCount {
            rule: (*rule).to_owned(),
            exception: pipeline.suppressor_label(*by),
            count: *n,
            at: format_rfc3339(now),
        })
        .collect()
}
