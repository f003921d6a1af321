//! The `finding-ingest` handler: EventBridge events of GuardDuty ("GuardDuty Finding") and
//! Security Hub ("Security Hub Findings - Imported", many findings per event) in, findings out.
//!
//! Each event is one input, named by its EventBridge id: a redelivered event is the same input
//! and counts once. The event runs through the same pipeline as a log object (the pipeline
//! unwraps the envelope), then through the same delivery: quarantine, state, publish, settle.
//! Events arrive directly from an EventBridge rule, or through an SQS queue (partial batch
//! responses: only the failed messages come back).

use std::time::Instant;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use serde_json::Value;

use crate::error::InputError;
use crate::ingest::{InvocationError, LogIngest, ObjectSummary};
use crate::metrics;
use crate::publish::FindingSink;
use crate::sources::LogSource;
use crate::state::StateStore;

/// The source of an EventBridge event's findings, by its `detail-type`.
pub fn source_of_detail_type(detail_type: &str) -> Option<LogSource> {
    match detail_type {
        "GuardDuty Finding" => Some(LogSource::GuardDuty),
        t if t.starts_with("Security Hub Findings") => Some(LogSource::SecurityHub),
        _ => None,
    }
}

impl<P: FindingSink, S: StateStore> LogIngest<P, S> {
    /// Handles one invocation of `finding-ingest`: an EventBridge event, or an SQS batch of
    /// them.
    pub async fn handle_findings(&self, event: Value) -> Result<Value, InvocationError> {
        let Some(records) = event.get("Records").and_then(Value::as_array) else {
            return match self.process_event(&event).await {
                Ok(_) => Ok(Value::Null),
                Err(e) => Err(InvocationError {
                    failed: 1,
                    inputs: 1,
                    retryable: e.is_retryable(),
                    first: e.to_string(),
                }),
            };
        };
        let mut response = SqsBatchResponse::default();
        for record in records {
            let id = record.get("messageId").and_then(Value::as_str);
            let body = record.get("body").and_then(Value::as_str).unwrap_or("");
            let result = match serde_json::from_str::<Value>(body) {
                Ok(inner) => self.process_event(&inner).await,
                Err(e) => Err(InputError::Event(format!(
                    "SQS message {} is not an EventBridge event: {e}",
                    id.unwrap_or("-")
                ))),
            };
            if let Err(e) = result {
                tracing::error!(message_id = id.unwrap_or("-"), error = %e, "event failed");
                if let Some(id) = id {
                    response.add_failure(id.to_owned());
                }
            }
        }
        serde_json::to_value(response).map_err(|e| InvocationError {
            failed: records.len(),
            inputs: records.len(),
            first: e.to_string(),
            retryable: true,
        })
    }

    /// One EventBridge event: its findings through the pipeline and delivered.
    pub async fn process_event(&self, event: &Value) -> Result<ObjectSummary, InputError> {
        let started = Instant::now();
        let detail_type = event
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(source) = source_of_detail_type(detail_type) else {
            tracing::info!(
                detail_type,
                skipped = "not_a_finding_event",
                "event skipped"
            );
            metrics::emit_skip("not_a_finding_event");
            return Ok(ObjectSummary {
                skipped: Some("not_a_finding_event"),
                ..ObjectSummary::default()
            });
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
        let uri = format!("eventbridge:{event_source}/{id}");
        let report = self.pipeline.scan(text.as_bytes(), &uri, source);
        let name = format!("eventbridge/{event_source}/{id}");
        self.deliver(&uri, &uri, &name, Some(source), report, started)
            .await
    }
}
