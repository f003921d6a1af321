//! Delivering findings: the port, its SNS adapter, and an in-memory one for the CLI and tests.

pub mod memory;
pub mod sns;

use std::future::Future;

use crate::finding::Finding;

/// Where findings go.
pub trait FindingSink: Send + Sync {
    /// Delivers every finding, or fails (the input is then retried; findings carry stable ids,
    /// so a finding delivered twice is recognizable).
    fn publish(
        &self,
        findings: &[Finding],
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// Findings could not be delivered.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PublishError(pub String);

/// The message attributes a subscriber can filter on.
pub fn attributes(f: &Finding) -> [(&'static str, String); 5] {
    [
        ("severity", f.finding.severity.as_str().to_owned()),
        ("rule_id", f.rule.id.clone()),
        ("category", f.finding.category.clone()),
        (
            "account_id",
            f.cloud
                .account
                .as_ref()
                .map(|a| a.id.clone())
                .unwrap_or_else(|| "unknown".to_owned()),
        ),
        ("dataset", f.event.dataset.clone()),
    ]
}
