//! The `log-ingest` handler: S3 notifications in, findings out.
//!
//! It only unwraps envelopes: each notification names objects, and each object goes through
//! the [`Engine`] (fetched from the [`ObjectSource`], read, delivered). A failed input is
//! retried: through `batchItemFailures` for SQS (only the failed messages), by failing the
//! invocation for the other triggers ([`crate::batch`]).

use aws_lambda_events::event::s3::batch_job::{S3BatchJobResponse, S3BatchJobResult};
use serde_json::Value;

use crate::batch::{self, InvocationError};
use crate::config::LogIngestConfig;
use crate::engine::ports::{ObjectSource, Quarantine, S3Objects};
use crate::engine::{Engine, Publishing};
use crate::envelope::{self, Notice, ObjectRef};
use crate::error::InputError;
use crate::metrics;
use crate::publish::retry::RepublishRequest;
use crate::state::StateStore;

/// Everything the handler needs, built once per cold start.
#[derive(Debug)]
pub struct LogIngest<S, Q, O = S3Objects> {
    /// The delivery path.
    pub engine: Engine<S, Q>,
    /// Where the objects are read.
    pub objects: O,
}

impl LogIngest<crate::state::dynamodb::DynamoStore, Option<crate::engine::ports::S3Quarantine>> {
    /// The handler as deployed ([`crate::coldstart::build`]).
    pub async fn from_config(
        aws: &aws_config::SdkConfig,
        config: &LogIngestConfig,
    ) -> Result<Self, crate::coldstart::ColdStartError> {
        let (engine, s3) = crate::coldstart::build(aws, config).await?;
        Ok(LogIngest {
            engine,
            objects: S3Objects::new(s3),
        })
    }
}

impl<S: StateStore, Q: Quarantine, O: ObjectSource<Ref = ObjectRef>> LogIngest<S, Q, O> {
    /// Handles one invocation, whatever its trigger.
    pub async fn handle(&self, event: Value) -> Result<Value, InvocationError> {
        if envelope::is_batch_job(&event) {
            // Boxed: the job's future stays off the stack of every other invocation's.
            return Box::pin(self.handle_batch_job(&event)).await;
        }
        let (trigger, inputs) = envelope::unwrap(&event).map_err(InvocationError::rejected)?;
        let inputs = inputs
            .into_iter()
            .map(|i| (i.message_id, i.notices))
            .collect();
        batch::answer(trigger, inputs, |notices| self.handle_notices(notices)).await
    }

    /// An S3 Batch Operations invocation (a job over an S3 Inventory manifest or a CSV list of
    /// objects): each task's object delivered as a notified one would be, and answered for
    /// itself: `Succeeded`; `TemporaryFailure` when a retry can help (Batch Operations retries
    /// it); `PermanentFailure` for a task that names no object, an object that does not exist,
    /// or one that can never be read (over the decompressed-size cap).
    async fn handle_batch_job(&self, event: &Value) -> Result<Value, InvocationError> {
        let job = envelope::batch_job(event).map_err(InvocationError::rejected)?;
        let mut results = Vec::with_capacity(job.tasks.len());
        for task in job.tasks {
            let (code, text) = match task.object {
                Err(reason) => ("PermanentFailure", reason),
                Ok(obj) => match self.engine.process_object(&self.objects, &obj, None).await {
                    Ok(d) => (
                        "Succeeded",
                        match d.summary.skipped {
                            Some(why) => format!("skipped: {why}"),
                            None => format!(
                                "{} records, {} bad, {} findings, {} published",
                                d.summary.records,
                                d.summary.bad,
                                d.summary.findings,
                                d.summary.published
                            ),
                        },
                    ),
                    Err(e) => {
                        tracing::error!(object = %obj.uri(), error = %e, "batch task failed");
                        let permanent =
                            matches!(e, InputError::Missing { .. }) || !e.is_retryable();
                        (
                            if permanent {
                                "PermanentFailure"
                            } else {
                                "TemporaryFailure"
                            },
                            e.to_string(),
                        )
                    }
                },
            };
            let mut result = S3BatchJobResult::default();
            result.task_id = task.id;
            result.result_code = Some(code.to_owned());
            // Kept in the job's completion report: short.
            result.result_string = Some(text.chars().take(512).collect());
            results.push(result);
        }
        let mut response = S3BatchJobResponse::default();
        response.invocation_schema_version = job.schema_version;
        response.treat_missing_keys_as = Some("PermanentFailure".to_owned());
        response.invocation_id = job.invocation_id;
        response.results = results;
        serde_json::to_value(response).map_err(InvocationError::rejected)
    }

    /// The objects of one notification; one object's failure does not stop the others. The
    /// first failure fails the input (logged by the caller), the others are logged here.
    async fn handle_notices(
        &self,
        notices: Result<Vec<Notice>, InputError>,
    ) -> Result<(), InputError> {
        let mut first_error = None;
        for notice in notices? {
            let publishing = match notice {
                Notice::Held(_) => Publishing::Hold,
                _ => Publishing::Publish,
            };
            match notice {
                Notice::TestEvent => {
                    tracing::info!(skipped = "s3:TestEvent", "notification skipped");
                    metrics::emit_skip("test_event");
                }
                Notice::Ignored(what) => {
                    tracing::info!(skipped = %what, "notification skipped");
                    metrics::emit_skip("not_object_created");
                }
                Notice::Republish(message) => {
                    let request = RepublishRequest::from_value(&message).unwrap_or_else(|| {
                        Err(InputError::Event("not a republish message".into()))
                    });
                    let result = match request {
                        Ok(request) => self.engine.republish(request).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = result {
                        if first_error.is_some() {
                            tracing::error!(error = %e, "republish failed");
                        } else {
                            first_error = Some(e);
                        }
                    }
                }
                Notice::Object(obj) | Notice::Held(obj) => {
                    let done = self
                        .engine
                        .process_object_as(&self.objects, &obj, None, publishing)
                        .await;
                    if let Err(e) = done {
                        if first_error.is_some() {
                            tracing::error!(object = %obj.uri(), error = %e, "object failed");
                        } else {
                            first_error = Some(e);
                        }
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
