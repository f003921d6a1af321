//! State across records, inputs and invocations: counters per (rule, entity, window), the
//! ledger of inputs already counted, and which findings were published.
//!
//! The port is [`StateStore`]; [`dynamodb::DynamoStore`] is the adapter used in AWS and
//! [`memory::MemoryStore`] the one of the CLI and unit tests, with the same semantics:
//! - [`StateStore::commit`] applies an input's counter updates exactly once, however often the
//!   input is delivered, and returns the counters as they stand after it;
//! - [`StateStore::claim`] and [`StateStore::mark_published`] make each finding published by
//!   one input, and published again only if that input failed before marking it.

pub mod dynamodb;
pub mod memory;

use std::collections::BTreeSet;
use std::future::Future;

/// What a counter is about. Also the finding's identity: one finding per key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    /// Rule id.
    pub rule: String,
    /// Entity kind and id, as `kind:id`.
    pub entity: String,
    /// A finer grouping than the entity, or empty.
    pub discriminator: String,
    /// Start of the window (Unix seconds).
    pub window_start: i64,
}

impl CounterKey {
    /// The series this counter belongs to: every window of one rule and entity.
    pub fn series(&self) -> String {
        format!("{}|{}|{}", self.rule, self.entity, self.discriminator)
    }
}

/// Distinct values kept per counter dimension and input. Thresholds on distinct counts are in
/// the tens, so keeping more only costs item size (a DynamoDB item stays under 400 KB).
pub const MAX_DISTINCT_PER_INPUT: usize = 50;
/// A distinct value is cut to this many bytes.
pub const MAX_DISTINCT_VALUE_BYTES: usize = 128;

/// What one input adds to one counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterUpdate {
    /// The counter.
    pub key: CounterKey,
    /// Events to add.
    pub count: u64,
    /// Values of up to two distinct-count dimensions.
    pub distinct: [BTreeSet<String>; 2],
    /// Earliest and latest event time in this input.
    pub first_seen: i64,
    /// Latest event time in this input.
    pub last_seen: i64,
    /// When the counter may be forgotten (Unix seconds; the DynamoDB TTL attribute).
    pub expires_at: i64,
}

/// A counter after a commit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CounterState {
    /// Events counted, over every input.
    pub count: u64,
    /// Distinct values seen, per dimension.
    pub distinct: [BTreeSet<String>; 2],
    /// Earliest event time.
    pub first_seen: i64,
    /// Latest event time.
    pub last_seen: i64,
}

/// Who may publish a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This input publishes it (first claim, or its own earlier claim, or an expired one).
    Granted,
    /// It was published already.
    Published,
    /// Another input is publishing it now; if that input dies, its lease expires and a retry of
    /// this input takes over.
    Busy,
}

/// The state store failed; the input is retried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StateError(pub String);

/// The port.
pub trait StateStore: Send + Sync {
    /// Applies `updates` for `input_id` exactly once and returns the counters after, in the
    /// order of `updates`. Committing the same input again changes nothing and returns the
    /// counters as they stand.
    fn commit(
        &self,
        input_id: &str,
        updates: &[CounterUpdate],
    ) -> impl Future<Output = Result<Vec<CounterState>, StateError>> + Send;

    /// Counts of the windows of `series` that start before `before`, newest first, at most
    /// `limit`, empty windows left out.
    fn history(
        &self,
        series: &str,
        before: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<u64>, StateError>> + Send;

    /// Asks to publish finding `finding_id` on behalf of `input_id`, holding the claim for
    /// `lease_secs` from `now`.
    fn claim(
        &self,
        finding_id: &str,
        input_id: &str,
        now: i64,
        lease_secs: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<Claim, StateError>> + Send;

    /// Which of `finding_ids` were published already: those need no claim.
    fn published(
        &self,
        finding_ids: &[String],
    ) -> impl Future<Output = Result<std::collections::HashSet<String>, StateError>> + Send;

    /// Records that `finding_id` was published.
    fn mark_published(
        &self,
        finding_id: &str,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Keeps a successful login of `user` (storing the same login again changes nothing) until
    /// `expires_at`, and returns the user's logins around it by event time, and what came
    /// before it. Keeping before reading means that of two logins judged concurrently, at least
    /// the later reader sees the other.
    fn record_login(
        &self,
        user: &str,
        login: &crate::geo::LoginRecord,
        expires_at: i64,
    ) -> impl Future<Output = Result<crate::geo::LoginNeighbours, StateError>> + Send;

    /// Records that each finding was published; `(id, expires_at)`. Stores may batch this.
    fn mark_all_published(
        &self,
        findings: &[(String, i64)],
    ) -> impl Future<Output = Result<(), StateError>> + Send {
        async move {
            for (id, _) in findings {
                self.mark_published(id).await?;
            }
            Ok(())
        }
    }
}

/// The neighbours of the login with sort key `me` among a user's logins (any order).
pub fn neighbours<'a>(
    me: i64,
    logins: impl IntoIterator<Item = (i64, &'a crate::geo::LoginRecord)>,
) -> crate::geo::LoginNeighbours {
    let mut out = crate::geo::LoginNeighbours::default();
    let mut prev: Option<(i64, &crate::geo::LoginRecord)> = None;
    let mut next: Option<(i64, &crate::geo::LoginRecord)> = None;
    for (key, l) in logins {
        if key == me {
            continue;
        }
        out.first_seen = Some(out.first_seen.map_or(l.ts, |f: i64| f.min(l.ts)));
        if key < me {
            if let Some(c) = &l.place.country {
                out.countries_before.insert(c.clone());
            }
            if prev.is_none_or(|(k, _)| key > k) {
                prev = Some((key, l));
            }
        } else if next.is_none_or(|(k, _)| key < k) {
            next = Some((key, l));
        }
    }
    out.previous = prev.map(|(_, l)| l.clone());
    out.next = next.map(|(_, l)| l.clone());
    out
}

/// Adds what one update says to a state: the merge both stores implement.
pub fn apply(state: &mut CounterState, update: &CounterUpdate) {
    let fresh = state.count == 0;
    state.count += update.count;
    for (have, add) in state.distinct.iter_mut().zip(&update.distinct) {
        have.extend(add.iter().cloned());
    }
    state.first_seen = if fresh {
        update.first_seen
    } else {
        state.first_seen.min(update.first_seen)
    };
    state.last_seen = state.last_seen.max(update.last_seen);
}

/// Cuts a distinct value to [`MAX_DISTINCT_VALUE_BYTES`] on a character boundary.
pub fn clip(value: &str) -> String {
    if value.len() <= MAX_DISTINCT_VALUE_BYTES {
        return value.to_owned();
    }
    let mut end = MAX_DISTINCT_VALUE_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}
