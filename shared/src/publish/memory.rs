//! An in-memory sink: the CLI's embedded mode and unit tests.

use std::sync::Mutex;

use super::{FindingSink, PublishError, Rejected};
use crate::finding::Finding;

/// Keeps every finding published to it.
#[derive(Debug, Default)]
pub struct MemorySink {
    findings: Mutex<Vec<Finding>>,
}

impl MemorySink {
    /// Everything published so far.
    pub fn findings(&self) -> Vec<Finding> {
        self.findings.lock().map(|f| f.clone()).unwrap_or_default()
    }
}

impl FindingSink for MemorySink {
    async fn publish(&self, findings: &[&Finding]) -> Result<Vec<Rejected>, PublishError> {
        self.findings
            .lock()
            .map_err(|_| PublishError::new("memory sink poisoned"))?
            .extend(findings.iter().map(|&f| f.clone()));
        Ok(Vec::new())
    }
}
