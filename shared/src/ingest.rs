//! The `log-ingest` handler: S3 notifications in, findings out.
//!
//! It only unwraps envelopes: each notification names objects, and each object goes through
//! the [`Engine`] (fetched from the [`ObjectSource`], read, delivered). A failed input is
//! retried: through `batchItemFailures` for SQS (only the failed messages), by failing the
//! invocation for the other triggers ([`crate::batch`]).

use serde_json::Value;

use crate::batch::{self, InvocationError};
use crate::config::LogIngestConfig;
use crate::engine::ports::{ObjectSource, Quarantine, S3Objects};
use crate::engine::Engine;
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
        let (trigger, inputs) = envelope::unwrap(&event).map_err(InvocationError::rejected)?;
        let inputs = inputs
            .into_iter()
            .map(|i| (i.message_id, i.notices))
            .collect();
        batch::answer(trigger, inputs, |notices| self.handle_notices(notices)).await
    }

    /// The objects of one notification; one object's failure does not stop the others. The
    /// first failure fails the input (logged by the caller), the others are logged here.
    async fn handle_notices(
        &self,
        notices: Result<Vec<Notice>, InputError>,
    ) -> Result<(), InputError> {
        let mut first_error = None;
        for notice in notices? {
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
                Notice::Object(obj) => {
                    if let Err(e) = self.engine.process_object(&self.objects, &obj, None).await {
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
