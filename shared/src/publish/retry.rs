//! Findings a sink refused, retried on their own.
//!
//! A finding that SNS refuses for itself (an entry that is the sender's fault) must not hold
//! back the input's other findings, nor be dropped. The engine sends each one, as a message of
//! its own, to the republish queue, settles the input, and goes on; a function consuming that
//! queue publishes the finding again ([`crate::engine::Engine::republish`]), after the queue's
//! delivery delay. Refused again, the
//! message comes back after the queue's visibility timeout, and after the redrive policy's
//! receives it is kept in the dead-letter queue, whose alarm tells the operators.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{InputError, PortError};
use crate::finding::Finding;

/// The key of a republish message's only member: what tells it from an S3 notification or
/// an EventBridge event in a queue.
pub const REPUBLISH_KEY: &str = "cloudsec_republish";

/// A republish message's body stays under SQS's 256 KiB, with room for its attributes: the
/// evidence is cut from the end (and counted as omitted) until it fits.
pub const MAX_MESSAGE_BYTES: usize = 250 * 1024;

/// One finding to publish again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepublishRequest {
    /// The input that produced it (`s3://bucket/key`, `eventbridge:source/id`).
    pub input: String,
    /// Why it was refused the first time.
    pub reason: String,
    /// The finding, as it was to be published.
    pub finding: Finding,
}

impl RepublishRequest {
    /// The message body: `{"cloudsec_republish": {...}}`, within [`MAX_MESSAGE_BYTES`].
    pub fn to_body(&self) -> Result<String, PortError> {
        let mut request = self.clone();
        loop {
            let body = serde_json::to_string(&serde_json::json!({ REPUBLISH_KEY: &request }))
                .map_err(|e| PortError::permanent(format!("serialize republish message: {e}")))?;
            if body.len() <= MAX_MESSAGE_BYTES || request.finding.finding.evidence.is_empty() {
                return Ok(body);
            }
            request.finding.finding.evidence.pop();
            request.finding.finding.evidence_omitted += 1;
        }
    }

    /// The request in a message body, if it is one: `None` for anything else.
    pub fn from_value(value: &Value) -> Option<Result<RepublishRequest, InputError>> {
        let inner = value.get(REPUBLISH_KEY)?;
        Some(
            RepublishRequest::deserialize(inner)
                .map_err(|e| InputError::Event(format!("republish message: {e}"))),
        )
    }
}

/// Where refused findings go to be retried.
#[derive(Debug, Clone)]
pub enum RepublishQueue {
    /// An SQS queue that one of the functions consumes (`REPUBLISH_QUEUE_URL`).
    Sqs {
        /// The client.
        client: aws_sdk_sqs::Client,
        /// The queue's URL.
        url: String,
    },
    /// Message bodies kept in memory (unit tests).
    Memory(Arc<Mutex<Vec<String>>>),
}

impl RepublishQueue {
    /// Sends one request; an error fails the input, which is retried.
    pub async fn send(&self, request: &RepublishRequest) -> Result<(), PortError> {
        let body = request.to_body()?;
        match self {
            RepublishQueue::Sqs { client, url } => {
                client
                    .send_message()
                    .queue_url(url)
                    .message_body(body)
                    .send()
                    .await
                    .map_err(|e| PortError::sdk(&format!("SendMessage to {url}"), e))?;
            }
            RepublishQueue::Memory(kept) => kept
                .lock()
                .map_err(|_| PortError::new("memory republish queue poisoned"))?
                .push(body),
        }
        Ok(())
    }
}
