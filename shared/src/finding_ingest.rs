//! The `finding-ingest` handler: EventBridge events of GuardDuty ("GuardDuty Finding") and
//! Security Hub ("Security Hub Findings - Imported", many findings per event) in, findings out.
//!
//! Each event is one input, named by its EventBridge id: a redelivered event is the same input
//! and counts once. The event's text goes through the [`Engine`] like a log object (the
//! pipeline unwraps the envelope). Events arrive directly from an EventBridge rule, or through
//! an SQS queue (partial batch responses: only the failed messages come back).

use serde_json::Value;

use crate::batch::{self, InvocationError, Trigger};
use crate::config::LogIngestConfig;
use crate::engine::ports::Quarantine;
use crate::engine::{Engine, InputId};
use crate::error::InputError;
use crate::publish::retry::RepublishRequest;
use crate::sources::source_of_detail_type;
use crate::state::StateStore;

/// Everything the handler needs, built once per cold start.
#[derive(Debug)]
pub struct FindingIngest<S, Q> {
    /// The delivery path.
    pub engine: Engine<S, Q>,
}

impl
    FindingIngest<crate::state::dynamodb::DynamoStore, Option<crate::engine::ports::S3Quarantine>>
{
    /// The handler as deployed ([`crate::coldstart::build`]).
    pub async fn from_config(
        aws: &aws_config::SdkConfig,
        config: &LogIngestConfig,
    ) -> Result<Self, crate::coldstart::ColdStartError> {
        let (engine, _) = crate::coldstart::build(aws, config).await?;
        Ok(FindingIngest { engine })
    }
}

impl<S: StateStore, Q: Quarantine> FindingIngest<S, Q> {
    /// Handles one invocation: an EventBridge event, or an SQS batch of them (or of refused
    /// findings to publish again, [`crate::publish::retry`]). Anything else
    /// (an S3 event sent to the wrong function) fails, not retryable, saying what came.
    pub async fn handle(&self, event: Value) -> Result<Value, InvocationError> {
        let Some(records) = event.get("Records") else {
            return batch::answer(Trigger::Direct, vec![(None, event)], |e| async move {
                self.process_event(&e).await.map(|_| ())
            })
            .await;
        };
        let records = records.as_array().ok_or_else(|| {
            InvocationError::rejected("`Records` is not an array: not an SQS batch")
        })?;
        if let Some(other) = records
            .iter()
            .map(|r| r.get("eventSource").and_then(Value::as_str).unwrap_or("-"))
            .find(|s| *s != "aws:sqs")
        {
            return Err(InvocationError::rejected(format!(
                "finding-ingest takes EventBridge events or SQS batches of them; got Records from {other:?} (an S3 notification belongs to log-ingest)"
            )));
        }
        let inputs = records
            .iter()
            .map(|r| {
                let id = r
                    .get("messageId")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let body = r
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                (id, body)
            })
            .collect();
        batch::answer(Trigger::Sqs, inputs, |body| async move {
            let event: Value = serde_json::from_str(&body).map_err(|e| {
                InputError::Event(format!("SQS message body is not an EventBridge event: {e}"))
            })?;
            if let Some(request) = RepublishRequest::from_value(&event) {
                return self.engine.republish(request?).await;
            }
            self.process_event(&event).await.map(|_| ())
        })
        .await
    }

    /// One EventBridge event: its findings through the engine.
    pub async fn process_event(
        &self,
        event: &Value,
    ) -> Result<crate::engine::Delivered, InputError> {
        let detail_type = event
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(source) = source_of_detail_type(detail_type) else {
            return Ok(crate::engine::Delivered::skipped(
                format!("eventbridge:{detail_type}"),
                "not_a_finding_event",
            ));
        };
        let text = event.to_string();
        // EventBridge gives every event an id, kept on redelivery; an event without one (a
        // hand-made test event) is named by its content.
        let id = match event.get("id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => {
                use sha2::Digest;
                hex::encode(&sha2::Sha256::digest(text.as_bytes())[..16])
            }
        };
        let event_source = event
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("eventbridge");
        let input = InputId::event(event_source, &id);
        self.engine
            .process_bytes(&input, text.into_bytes(), Some(source))
            .await
    }
}
