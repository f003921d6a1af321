//! Delivering findings: the port, its SNS adapter, and an in-memory one for the CLI and tests.

pub mod memory;
pub mod sns;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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

/// Findings could not be delivered: the input is retried when a retry can help.
pub type PublishError = crate::error::PortError;

impl<T: FindingSink> FindingSink for Arc<T> {
    fn publish(
        &self,
        findings: &[Finding],
    ) -> impl Future<Output = Result<(), PublishError>> + Send {
        (**self).publish(findings)
    }
}

/// A sink behind a pointer, so that one list holds sinks of different kinds.
type BoxedPublish<'a> = Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + 'a>>;

trait AnySink: Send + Sync {
    fn publish_boxed<'a>(&'a self, findings: &'a [Finding]) -> BoxedPublish<'a>;
}

impl<T: FindingSink> AnySink for T {
    fn publish_boxed<'a>(&'a self, findings: &'a [Finding]) -> BoxedPublish<'a> {
        Box::pin(self.publish(findings))
    }
}

/// Every sink an engine delivers to (the findings topic; later the chat topic, Security Hub,
/// the findings store), in order. An input is published when every sink took its findings; a
/// sink that fails fails the input, which is retried, and the sinks that had taken them receive
/// them again with the same ids.
#[derive(Default, Clone)]
pub struct Sinks(Vec<Arc<dyn AnySink>>);

impl std::fmt::Debug for Sinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sinks({})", self.0.len())
    }
}

impl Sinks {
    /// No sink: findings are evaluated and settled, and go nowhere.
    pub fn none() -> Sinks {
        Sinks::default()
    }

    /// One sink.
    pub fn one(sink: impl FindingSink + 'static) -> Sinks {
        Sinks::none().with(sink)
    }

    /// The same list with one more sink.
    pub fn with(mut self, sink: impl FindingSink + 'static) -> Sinks {
        self.0.push(Arc::new(sink));
        self
    }

    /// Delivers `findings` to every sink.
    pub async fn publish(&self, findings: &[Finding]) -> Result<(), PublishError> {
        if findings.is_empty() {
            return Ok(());
        }
        for sink in &self.0 {
            sink.publish_boxed(findings).await?;
        }
        Ok(())
    }
}

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
