//! State across records, inputs and invocations: counters per (rule, entity, window), the
//! ledger of inputs already counted, and which findings were published.
//!
//! The port is [`StateStore`], split by what it holds: [`Counters`], the [`FindingLedger`] and
//! the [`LoginHistory`]. [`dynamodb::DynamoStore`] is the adapter used in AWS and
//! [`memory::MemoryStore`] the one of the CLI and unit tests, with the same semantics:
//! - [`Counters::commit`] applies an input's counter updates exactly once, however often the
//!   input is delivered, under the ledger items of [`ledger_plan`], and returns the counters
//!   as they stand after it;
//! - [`FindingLedger::claim`] and [`FindingLedger::mark_all_published`] make each finding
//!   published by one input, and published again only if that input failed before marking it.

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
    /// Whether the update depends on the state as well as on the input (see [`ledger_plan`]).
    pub own_ledger: bool,
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

/// The state store failed: the input is retried when a retry can help.
pub type StateError = crate::error::PortError;

/// The counters of the window, anomaly and single-event rules.
pub trait Counters: Send + Sync {
    /// Applies `updates` for `input_id` exactly once and returns the counters after, in the
    /// order of `updates`. Committing the same input again changes nothing and returns the
    /// counters as they stand. The updates commit under the ledger items [`ledger_plan`] names,
    /// in both stores alike.
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
}

/// Which findings were published, and who may publish one.
pub trait FindingLedger: Send + Sync {
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

    /// Records that each finding was published; `(id, expires_at)`.
    fn mark_all_published(
        &self,
        findings: &[(String, i64)],
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// The users' successful console logins, for the geo rules.
pub trait LoginHistory: Send + Sync {
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
}

/// A store shared by reference or by `Arc` is the same store: several engines (a test's
/// concurrent deliveries, a CLI's jobs) may share one.
macro_rules! shared_store {
    ($($ptr:ty),*) => {$(
        impl<T: Counters + ?Sized> Counters for $ptr {
            fn commit(&self, input_id: &str, updates: &[CounterUpdate])
                -> impl Future<Output = Result<Vec<CounterState>, StateError>> + Send {
                (**self).commit(input_id, updates)
            }
            fn history(&self, series: &str, before: i64, limit: usize)
                -> impl Future<Output = Result<Vec<u64>, StateError>> + Send {
                (**self).history(series, before, limit)
            }
        }
        impl<T: FindingLedger + ?Sized> FindingLedger for $ptr {
            fn claim(&self, finding_id: &str, input_id: &str, now: i64, lease_secs: i64, expires_at: i64)
                -> impl Future<Output = Result<Claim, StateError>> + Send {
                (**self).claim(finding_id, input_id, now, lease_secs, expires_at)
            }
            fn published(&self, finding_ids: &[String])
                -> impl Future<Output = Result<std::collections::HashSet<String>, StateError>> + Send {
                (**self).published(finding_ids)
            }
            fn mark_all_published(&self, findings: &[(String, i64)])
                -> impl Future<Output = Result<(), StateError>> + Send {
                (**self).mark_all_published(findings)
            }
        }
        impl<T: LoginHistory + ?Sized> LoginHistory for $ptr {
            fn record_login(&self, user: &str, login: &crate::geo::LoginRecord, expires_at: i64)
                -> impl Future<Output = Result<crate::geo::LoginNeighbours, StateError>> + Send {
                (**self).record_login(user, login, expires_at)
            }
        }
    )*};
}
shared_store!(&T, std::sync::Arc<T>);

/// The whole state port: what the engine needs of a store.
pub trait StateStore: Counters + FindingLedger + LoginHistory {}

impl<T: Counters + FindingLedger + LoginHistory> StateStore for T {}

/// The ledger items an input's updates commit under, with the indices of the updates each one
/// covers. Updates that follow from the input alone are sorted by key and cut into chunks of
/// [`MAX_UPDATES_PER_LEDGER_ITEM`], so every delivery makes the same chunks; an update whose
/// content depends on the state (a pair of logins found through the login history) has a
/// ledger item of its own, named by its counter alone: a redelivery that finds a new pair
/// counts it, and a pair found again, by this input or by the other login's, is not counted
/// twice, whatever else changed.
pub fn ledger_plan(input_id: &str, updates: &[CounterUpdate]) -> Vec<(String, Vec<usize>)> {
    let mut fixed: Vec<usize> = (0..updates.len())
        .filter(|&i| !updates[i].own_ledger)
        .collect();
    fixed.sort_by(|&a, &b| updates[a].key.cmp(&updates[b].key));
    let mut plan: Vec<(String, Vec<usize>)> = fixed
        .chunks(MAX_UPDATES_PER_LEDGER_ITEM)
        .enumerate()
        .map(|(i, chunk)| (format!("L#{input_id}#{i}"), chunk.to_vec()))
        .collect();
    for (i, u) in updates.iter().enumerate().filter(|(_, u)| u.own_ledger) {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [u.key.series(), u.key.window_start.to_string()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let tag = hex::encode(&h.finalize()[..16]);
        plan.push((format!("L#k{tag}"), vec![i]));
    }
    plan
}

/// A DynamoDB transaction takes 100 actions: one ledger item and 99 counters.
pub const MAX_UPDATES_PER_LEDGER_ITEM: usize = 99;

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
