//! The in-memory findings store: the CLI's report and risk overview, and unit tests. The same
//! rules as the DynamoDB one: one entry per finding id, counts and times never go back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::{
    entity_key, resolved_by_pass, stored, FindingStore, Kept, StoreFuture, StoredFinding,
    SuppressedCount,
};
use crate::engine::evaluate::Fired;
use crate::engine::InputId;
use crate::timefmt::format_rfc3339;

/// Findings and suppressed counts in a map.
#[derive(Debug, Default)]
pub struct MemoryFindings {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    findings: BTreeMap<String, StoredFinding>,
    suppressed: BTreeMap<String, Vec<SuppressedCount>>,
    digests: BTreeSet<i64>,
}

impl MemoryFindings {
    /// Every finding kept, by id.
    pub fn all(&self) -> Vec<StoredFinding> {
        self.lock().findings.values().cloned().collect()
    }

    /// Every suppressed count kept.
    pub fn suppressed(&self) -> Vec<SuppressedCount> {
        self.lock().suppressed.values().flatten().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `finding` as the DynamoDB store does: new, or with more events than kept (which
    /// reopens it if it was resolved); the same or an older view changes nothing.
    pub fn put(&self, finding: StoredFinding) {
        let mut inner = self.lock();
        match inner.findings.get_mut(&finding.finding.finding.id) {
            Some(old) if old.finding.finding.count >= finding.finding.finding.count => {}
            Some(old) => {
                let (stored_at, published) = (old.stored_at.clone(), old.published);
                *old = finding;
                old.stored_at = stored_at;
                old.published |= published;
                old.resolved_at = None;
            }
            None => {
                inner
                    .findings
                    .insert(finding.finding.finding.id.clone(), finding);
            }
        }
    }
}

impl FindingStore for MemoryFindings {
    fn keep<'a>(
        &'a self,
        input: &'a InputId,
        fired: &'a [Fired],
        suppressed: &'a [SuppressedCount],
        now: i64,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            for f in fired {
                self.put(stored(f, now));
            }
            if !suppressed.is_empty() {
                self.lock()
                    .suppressed
                    .insert(input.ledger().to_owned(), suppressed.to_vec());
            }
            Ok(())
        })
    }

    fn open_for<'a>(
        &'a self,
        entity: &'a str,
        since: &'a str,
    ) -> StoreFuture<'a, Vec<StoredFinding>> {
        Box::pin(async move {
            Ok(self
                .lock()
                .findings
                .values()
                .filter(|f| {
                    entity_key(&f.finding) == entity
                        && f.finding.event.end.as_str() >= since
                        && f.resolved_at.is_none()
                })
                .cloned()
                .collect())
        })
    }

    fn since<'a>(&'a self, since: &'a str) -> StoreFuture<'a, Kept> {
        Box::pin(async move {
            let inner = self.lock();
            Ok(Kept {
                findings: inner
                    .findings
                    .values()
                    .filter(|f| f.finding.event.end.as_str() >= since)
                    .cloned()
                    .collect(),
                suppressed: inner
                    .suppressed
                    .values()
                    .flatten()
                    .filter(|s| s.at.as_str() >= since)
                    .cloned()
                    .collect(),
            })
        })
    }

    fn resolve_control<'a>(
        &'a self,
        entity: &'a str,
        control: &'a str,
        at: i64,
    ) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut n = 0;
            for f in self.lock().findings.values_mut() {
                if entity_key(&f.finding) == entity && resolved_by_pass(f, control, at) {
                    f.resolved_at = Some(format_rfc3339(at));
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    fn last_digest(&self) -> StoreFuture<'_, Option<i64>> {
        Box::pin(async move { Ok(self.lock().digests.last().copied()) })
    }

    fn record_digest(&self, at: i64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.lock().digests.insert(at);
            Ok(())
        })
    }
}
