//! The in-memory state store: the CLI's embedded mode and the unit tests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use super::{
    apply, ledger_plan, Claim, CounterKey, CounterState, CounterUpdate, Counters, FindingLedger,
    LoginHistory, StateError,
};

#[derive(Debug, Default)]
struct Inner {
    counters: HashMap<CounterKey, CounterState>,
    series: HashMap<String, BTreeMap<i64, u64>>,
    ledger: HashSet<String>,
    findings: HashMap<String, (bool, String, i64)>,
    logins: HashMap<String, BTreeMap<i64, crate::geo::LoginRecord>>,
}

/// Everything in a mutex: fine for one process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Every counter, for tests.
    pub fn counters(&self) -> Vec<(CounterKey, CounterState)> {
        let inner = self
            .inner
            .lock()
            .map(|i| i.counters.clone())
            .unwrap_or_default();
        let mut v: Vec<_> = inner.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StateError> {
        self.inner
            .lock()
            .map_err(|_| StateError::new("memory store poisoned"))
    }

    /// The ledger items written so far (as the DynamoDB store names them), for tests.
    pub fn ledger(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .inner
            .lock()
            .map(|i| i.ledger.iter().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl LoginHistory for MemoryStore {
    async fn record_login(
        &self,
        user: &str,
        login: &crate::geo::LoginRecord,
        _expires_at: i64,
    ) -> Result<crate::geo::LoginNeighbours, StateError> {
        let mut inner = self.lock()?;
        let logins = inner.logins.entry(user.to_owned()).or_default();
        let key = login.sort_key();
        logins.insert(key, login.clone());
        Ok(super::neighbours(key, logins.iter().map(|(k, l)| (*k, l))))
    }
}

impl Counters for MemoryStore {
    async fn commit(
        &self,
        input_id: &str,
        updates: &[CounterUpdate],
    ) -> Result<Vec<CounterState>, StateError> {
        let mut inner = self.lock()?;
        // The same ledger items as DynamoDB's: each applies its updates once.
        for (ledger, indices) in ledger_plan(input_id, updates) {
            if !inner.ledger.insert(ledger) {
                continue;
            }
            for u in indices.into_iter().map(|i| &updates[i]) {
                let state = inner.counters.entry(u.key.clone()).or_default();
                apply(state, u);
                let count = state.count;
                inner
                    .series
                    .entry(u.key.series())
                    .or_default()
                    .insert(u.key.window_start, count);
            }
        }
        Ok(updates
            .iter()
            .map(|u| inner.counters.get(&u.key).cloned().unwrap_or_default())
            .collect())
    }

    async fn history(
        &self,
        series: &str,
        before: i64,
        limit: usize,
    ) -> Result<Vec<u64>, StateError> {
        let inner = self.lock()?;
        Ok(inner
            .series
            .get(series)
            .map(|s| {
                s.range(..before)
                    .rev()
                    .map(|(_, c)| *c)
                    .filter(|c| *c > 0)
                    .take(limit)
                    .collect()
            })
            .unwrap_or_default())
    }
}

impl FindingLedger for MemoryStore {
    async fn claim(
        &self,
        finding_id: &str,
        input_id: &str,
        now: i64,
        lease_secs: i64,
        _expires_at: i64,
    ) -> Result<Claim, StateError> {
        let mut inner = self.lock()?;
        match inner.findings.get_mut(finding_id) {
            Some((true, _, _)) => Ok(Claim::Published),
            Some((false, owner, until)) if owner != input_id && *until > now => Ok(Claim::Busy),
            Some(entry) => {
                *entry = (false, input_id.to_owned(), now + lease_secs);
                Ok(Claim::Granted)
            }
            None => {
                inner.findings.insert(
                    finding_id.to_owned(),
                    (false, input_id.to_owned(), now + lease_secs),
                );
                Ok(Claim::Granted)
            }
        }
    }

    async fn published(&self, finding_ids: &[String]) -> Result<HashSet<String>, StateError> {
        let inner = self.lock()?;
        Ok(finding_ids
            .iter()
            .filter(|id| inner.findings.get(*id).is_some_and(|f| f.0))
            .cloned()
            .collect())
    }

    async fn mark_all_published(&self, findings: &[(String, i64)]) -> Result<(), StateError> {
        let mut inner = self.lock()?;
        for (id, _) in findings {
            if let Some(entry) = inner.findings.get_mut(id) {
                entry.0 = true;
            }
        }
        Ok(())
    }
}
