//! Publishing findings to an SNS topic with `PublishBatch`.

use std::time::Duration;

use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sns::Client;

use super::{attributes, FindingSink, PublishError, Rejected};
use crate::finding::Finding;

/// `PublishBatch` takes at most 10 entries per call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// SNS caps a message, and the sum of a batch's messages, at 256 KiB (body and attributes).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Room left for the attributes and the subject of one entry, within [`MAX_PAYLOAD_BYTES`].
const ENTRY_OVERHEAD_BYTES: usize = 1024;
/// An email subject is at most 100 characters.
const MAX_SUBJECT_CHARS: usize = 100;
/// Entries that failed inside a successful call (throttled, internal error) are retried this
/// many times, with a growing pause, before the input is failed.
const ENTRY_ATTEMPTS: u32 = 4;

/// What a topic's messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The findings topic: each protocol its own message (`MessageStructure: json`): the
    /// finding's JSON document for SQS, Lambda, HTTPS and every other subscriber, as it always
    /// was, and a readable text for `email` subscriptions.
    Findings,
    /// The chat topic: Amazon Q Developer's custom notification.
    Chat,
}

/// Publishes to one topic.
#[derive(Debug, Clone)]
pub struct SnsSink {
    client: Client,
    topic_arn: String,
    style: Style,
}

impl SnsSink {
    /// A findings topic's sink for `topic_arn`.
    pub fn new(client: Client, topic_arn: impl Into<String>) -> SnsSink {
        SnsSink {
            client,
            topic_arn: topic_arn.into(),
            style: Style::Findings,
        }
    }

    /// A chat topic's sink for `topic_arn`.
    pub fn chat(client: Client, topic_arn: impl Into<String>) -> SnsSink {
        SnsSink {
            style: Style::Chat,
            ..SnsSink::new(client, topic_arn)
        }
    }
}

/// One finding ready to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The finding's id.
    pub id: String,
    /// The message: per protocol (`{"default": document, "email": text}`) for the findings
    /// topic, the chat notification for the chat topic.
    pub body: String,
    /// Whether `body` is per protocol (`MessageStructure: json`).
    pub structured: bool,
    /// `[HIGH] title - account`.
    pub subject: String,
    /// Its attributes.
    pub attributes: [(&'static str, String); 5],
    /// Numeric severity, for numeric filter policies.
    pub severity_score: i64,
}

impl Prepared {
    fn size(&self) -> usize {
        self.body.len() + ENTRY_OVERHEAD_BYTES
    }
}

/// The message of a finding in `style`, dropping evidence events from the end until it fits in
/// one SNS message: the finding itself is never cut.
pub fn prepare(finding: &Finding, style: Style) -> Result<Prepared, PublishError> {
    let mut f = finding.clone();
    let mut body = message(&f, style)?;
    while body.len() + ENTRY_OVERHEAD_BYTES > MAX_PAYLOAD_BYTES && !f.finding.evidence.is_empty() {
        f.finding.evidence.pop();
        f.finding.evidence_omitted += 1;
        body = message(&f, style)?;
    }
    if body.len() + ENTRY_OVERHEAD_BYTES > MAX_PAYLOAD_BYTES {
        return Err(PublishError::permanent(format!(
            "finding {} is {} bytes without evidence, over SNS's limit",
            f.event.id,
            body.len()
        )));
    }
    let account = f
        .cloud
        .account
        .as_ref()
        .map(|a| a.id.as_str())
        .unwrap_or("unknown account");
    let subject: String = format!(
        "[{}] {} - {}",
        f.finding.severity.as_str().to_uppercase(),
        f.rule.name,
        account
    )
    .chars()
    .filter(|c| c.is_ascii() && !c.is_ascii_control())
    .take(MAX_SUBJECT_CHARS)
    .collect();
    Ok(Prepared {
        id: f.finding.id.clone(),
        body,
        structured: style == Style::Findings,
        subject,
        attributes: attributes(&f),
        severity_score: f.event.severity,
    })
}

/// The message body of `f` in `style`.
fn message(f: &Finding, style: Style) -> Result<String, PublishError> {
    match style {
        Style::Findings => {
            let per_protocol = serde_json::json!({
                "default": to_json(f)?,
                "email": super::render::email_text(f),
            });
            Ok(per_protocol.to_string())
        }
        Style::Chat => Ok(super::render::chat_message(f).to_string()),
    }
}

fn to_json(f: &Finding) -> Result<String, PublishError> {
    serde_json::to_string(f).map_err(|e| PublishError::permanent(format!("serialize finding: {e}")))
}

/// Groups prepared findings into batches of at most 10 entries and 256 KiB.
pub fn batches(prepared: Vec<Prepared>) -> Vec<Vec<Prepared>> {
    let mut out: Vec<Vec<Prepared>> = Vec::new();
    let mut size = 0;
    for p in prepared {
        let fits = out
            .last()
            .is_some_and(|b| b.len() < MAX_BATCH_ENTRIES && size + p.size() <= MAX_PAYLOAD_BYTES);
        if !fits {
            out.push(Vec::new());
            size = 0;
        }
        size += p.size();
        if let Some(b) = out.last_mut() {
            b.push(p);
        }
    }
    out
}

fn entry(id: usize, p: &Prepared) -> Result<PublishBatchRequestEntry, PublishError> {
    let mut e = PublishBatchRequestEntry::builder()
        .id(id.to_string())
        .message(&p.body)
        .subject(&p.subject);
    if p.structured {
        e = e.message_structure("json");
    }
    for (name, value) in &p.attributes {
        let attr = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| PublishError::permanent(e.to_string()))?;
        e = e.message_attributes(*name, attr);
    }
    let score = MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(p.severity_score.to_string())
        .build()
        .map_err(|e| PublishError::permanent(e.to_string()))?;
    e.message_attributes("severity_score", score)
        .build()
        .map_err(|e| PublishError::permanent(e.to_string()))
}

/// Error codes of a whole `PublishBatch` call refused as invalid: one entry may be the cause,
/// so each entry is then sent alone, and only the ones refused alone are rejected.
const INVALID_REQUEST_CODES: &[&str] = &[
    "InvalidParameter",
    "InvalidParameterValue",
    "ParameterValueInvalid",
    "ValidationException",
];

fn invalid_request(e: &PublishError) -> bool {
    !e.is_retryable() && e.code().is_some_and(|c| INVALID_REQUEST_CODES.contains(&c))
}

impl SnsSink {
    /// Sends one batch. Entries that fail inside a successful call are retried when SNS says
    /// it was its fault, and rejected when it says it was ours.
    async fn send_batch(&self, batch: &[Prepared]) -> Result<Vec<Rejected>, PublishError> {
        let mut rejected = Vec::new();
        let mut pending: Vec<(usize, &Prepared)> = batch.iter().enumerate().collect();
        for attempt in 1..=ENTRY_ATTEMPTS {
            let entries = pending
                .iter()
                .map(|(i, p)| entry(*i, p))
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    PublishError::sdk(&format!("PublishBatch to {}", self.topic_arn), e)
                })?;
            let failed = out.failed();
            if failed.is_empty() {
                return Ok(rejected);
            }
            for f in failed.iter().filter(|f| f.sender_fault()) {
                if let Some((_, p)) = pending.iter().find(|(i, _)| i.to_string() == f.id()) {
                    rejected.push(Rejected {
                        id: p.id.clone(),
                        reason: format!(
                            "{} refused it: {}: {}",
                            self.topic_arn,
                            f.code(),
                            f.message().unwrap_or("")
                        ),
                    });
                }
            }
            let retry: Vec<&str> = failed
                .iter()
                .filter(|f| !f.sender_fault())
                .map(|f| f.id())
                .collect();
            pending.retain(|(i, _)| retry.contains(&i.to_string().as_str()));
            if pending.is_empty() {
                return Ok(rejected);
            }
            tracing::warn!(
                topic = %self.topic_arn,
                failed = pending.len(),
                attempt,
                first_code = failed.iter().find(|f| !f.sender_fault()).map(|f| f.code()).unwrap_or(""),
                "PublishBatch entries failed on SNS's side; retrying them"
            );
            tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
        }
        Err(PublishError::new(format!(
            "{} findings not accepted by {} after {ENTRY_ATTEMPTS} attempts",
            pending.len(),
            self.topic_arn
        )))
    }
}

impl FindingSink for SnsSink {
    async fn publish(&self, findings: &[&Finding]) -> Result<Vec<Rejected>, PublishError> {
        let mut rejected = Vec::new();
        let mut prepared = Vec::with_capacity(findings.len());
        for f in findings {
            match prepare(f, self.style) {
                Ok(p) => prepared.push(p),
                Err(e) if !e.is_retryable() => rejected.push(Rejected {
                    id: f.finding.id.clone(),
                    reason: e.to_string(),
                }),
                Err(e) => return Err(e),
            }
        }
        for batch in batches(prepared) {
            match self.send_batch(&batch).await {
                Ok(r) => rejected.extend(r),
                // The whole call refused as invalid: find the entries that are, one by one.
                Err(e) if invalid_request(&e) => {
                    for p in &batch {
                        match self.send_batch(std::slice::from_ref(p)).await {
                            Ok(r) => rejected.extend(r),
                            Err(e) if invalid_request(&e) => rejected.push(Rejected {
                                id: p.id.clone(),
                                reason: e.to_string(),
                            }),
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(size: usize) -> Prepared {
        Prepared {
            id: String::new(),
            body: "x".repeat(size),
            structured: false,
            subject: String::new(),
            attributes: Default::default(),
            severity_score: 0,
        }
    }

    #[test]
    fn batches_respect_count_and_size() {
        let b = batches((0..25).map(|_| prepared(10)).collect());
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 5]);
        let b = batches((0..5).map(|_| prepared(100 * 1024)).collect());
        assert!(b
            .iter()
            .all(|batch| batch.iter().map(Prepared::size).sum::<usize>() <= MAX_PAYLOAD_BYTES));
        assert_eq!(b.len(), 3);
    }
}
