//! Delivering findings: the port, its SNS adapter, and an in-memory one for the CLI and tests.

pub mod asff;
pub mod memory;
pub mod render;
pub mod retry;
pub mod securityhub;
pub mod sns;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::finding::Finding;

/// Where findings go.
pub trait FindingSink: Send + Sync {
    /// Delivers every finding, or fails (the input is then retried; findings carry stable ids,
    /// so a finding delivered twice is recognizable). A finding the destination refuses for
    /// itself (SNS says the entry is the sender's fault) does not fail the others: it comes
    /// back in the answer, and the engine keeps it and retries it on its own.
    fn publish(
        &self,
        findings: &[&Finding],
    ) -> impl Future<Output = Result<Vec<Rejected>, PublishError>> + Send;
}

/// A finding a sink refused for itself, while it took the others.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejected {
    /// The finding's id (`finding.id`).
    pub id: String,
    /// What the destination said.
    pub reason: String,
}

/// Findings could not be delivered: the input is retried when a retry can help.
pub type PublishError = crate::error::PortError;

impl<T: FindingSink> FindingSink for Arc<T> {
    fn publish(
        &self,
        findings: &[&Finding],
    ) -> impl Future<Output = Result<Vec<Rejected>, PublishError>> + Send {
        (**self).publish(findings)
    }
}

/// A sink behind a pointer, so that one list holds sinks of different kinds.
type BoxedPublish<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Rejected>, PublishError>> + Send + 'a>>;

trait AnySink: Send + Sync {
    fn publish_boxed<'a>(&'a self, findings: &'a [&'a Finding]) -> BoxedPublish<'a>;
}

impl<T: FindingSink> AnySink for T {
    fn publish_boxed<'a>(&'a self, findings: &'a [&'a Finding]) -> BoxedPublish<'a> {
        Box::pin(self.publish(findings))
    }
}

/// Every sink an engine delivers to (the findings topic; later the chat topic, Security Hub,
/// the findings store), in order. An input is published when every sink took its findings; a
/// sink that fails fails the input, which is retried, and the sinks that had taken them receive
/// them again with the same ids. A finding that some sink refused for itself is answered once,
/// with the first refusal's reason; it is retried on its own, to every sink, with its id.
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

    /// Delivers `findings` to every sink; answers the findings some sink refused.
    pub async fn publish(&self, findings: &[&Finding]) -> Result<Vec<Rejected>, PublishError> {
        let mut refused: Vec<Rejected> = Vec::new();
        if findings.is_empty() {
            return Ok(refused);
        }
        for sink in &self.0 {
            for r in sink.publish_boxed(findings).await? {
                if !refused.iter().any(|k| k.id == r.id) {
                    refused.push(r);
                }
            }
        }
        Ok(refused)
    }
}

/// The message attributes a subscriber can filter on. Every value is one SNS takes: not empty,
/// no control characters, at most [`MAX_ATTRIBUTE_CHARS`] characters; a value from a log that
/// is none of these (an empty account id) becomes `unknown` rather than failing the input.
pub fn attributes(f: &Finding) -> [(&'static str, String); 5] {
    [
        ("severity", f.finding.severity.as_str().to_owned()),
        ("rule_id", attribute_value(&f.rule.id)),
        ("category", attribute_value(&f.finding.category)),
        (
            "account_id",
            attribute_value(f.cloud.account.as_ref().map_or("", |a| a.id.as_str())),
        ),
        ("dataset", attribute_value(&f.event.dataset)),
    ]
}

/// Characters kept of an attribute value: filter policies match short identifiers.
pub const MAX_ATTRIBUTE_CHARS: usize = 256;

/// `value` as an SNS message attribute: printable characters only, trimmed, cut, and `unknown`
/// when nothing is left.
pub fn attribute_value(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| !c.is_control() && !matches!(*c, '\u{FFFE}' | '\u{FFFF}'))
        .take(MAX_ATTRIBUTE_CHARS)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "unknown".to_owned()
    } else {
        clean.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_are_never_empty_nor_control_characters() {
        assert_eq!(attribute_value(""), "unknown");
        assert_eq!(attribute_value(" \t\u{7}"), "unknown");
        assert_eq!(attribute_value("1111\u{1b}[2J2222"), "1111[2J2222");
        assert_eq!(
            attribute_value(&"x".repeat(1000)).len(),
            MAX_ATTRIBUTE_CHARS
        );
        assert_eq!(attribute_value("111122223333"), "111122223333");
    }
}
