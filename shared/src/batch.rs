//! How both functions answer an invocation: one function per input, lifted once into a
//! response. An SQS batch answers with `batchItemFailures` (only the failed messages come back);
//! the other triggers fail the whole invocation so that Lambda retries it.

use std::future::Future;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use futures_util::stream::{self, StreamExt};
use lambda_runtime::Diagnostic;
use serde_json::Value;

pub use crate::envelope::Trigger;
use crate::error::InputError;

/// Messages of one SQS batch processed at a time: one slow object does not hold back the
/// others, and the function's memory holds a few readers' buffers, not ten.
pub const MAX_CONCURRENT_INPUTS: usize = 4;

/// The invocation failed; Lambda's retry policy (or the SQS redrive) takes over.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {inputs} inputs failed: {first}")]
pub struct InvocationError {
    /// Inputs that failed.
    pub failed: usize,
    /// Inputs in the invocation.
    pub inputs: usize,
    /// The first failure.
    pub first: String,
    /// Whether a retry can succeed.
    pub retryable: bool,
}

impl InvocationError {
    /// The payload itself is not what the function takes: retrying it cannot help.
    pub fn rejected(reason: impl std::fmt::Display) -> InvocationError {
        InvocationError {
            failed: 1,
            inputs: 1,
            first: reason.to_string(),
            retryable: false,
        }
    }
}

impl From<InvocationError> for Diagnostic {
    fn from(e: InvocationError) -> Diagnostic {
        Diagnostic {
            error_type: if e.retryable {
                "Retryable"
            } else {
                "NonRetryable"
            }
            .to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Runs `handle` over every input, [`MAX_CONCURRENT_INPUTS`] at a time, and answers as
/// `trigger` expects. Each input is `(SQS message id, payload)`. Every failure is logged here,
/// once. A failed SQS message without a message id cannot be named in `batchItemFailures`:
/// the whole invocation then fails, so that nothing is dropped.
pub async fn answer<T, F, Fut>(
    trigger: Trigger,
    inputs: Vec<(Option<String>, T)>,
    handle: F,
) -> Result<Value, InvocationError>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), InputError>>,
{
    let total = inputs.len();
    let handle = &handle;
    let results: Vec<(Option<String>, Result<(), InputError>)> = stream::iter(inputs)
        .map(|(id, input)| async move { (id, handle(input).await) })
        .buffer_unordered(MAX_CONCURRENT_INPUTS)
        .collect()
        .await;
    let mut failures = Vec::new();
    for (id, result) in results {
        if let Err(e) = result {
            tracing::error!(message_id = id.as_deref().unwrap_or("-"), error = %e, retryable = e.is_retryable(), "input failed");
            failures.push((id, e));
        }
    }
    let failed = failures.len();
    let unnamed = trigger == Trigger::Sqs && failures.iter().any(|(id, _)| id.is_none());
    if trigger == Trigger::Sqs && !unnamed {
        let mut response = SqsBatchResponse::default();
        for (id, _) in failures {
            response.add_failure(id.unwrap_or_default());
        }
        return serde_json::to_value(response).map_err(|e| InvocationError {
            failed: total,
            inputs: total,
            first: e.to_string(),
            retryable: true,
        });
    }
    if failures.is_empty() {
        return Ok(Value::Null);
    }
    let retryable = unnamed || failures.iter().any(|(_, e)| e.is_retryable());
    let first = failures
        .into_iter()
        .next()
        .map(|(_, e)| e.to_string())
        .unwrap_or_default();
    Err(InvocationError {
        failed,
        inputs: total,
        first: if unnamed {
            format!(
                "an SQS message without a messageId failed, so the batch is retried whole: {first}"
            )
        } else {
            first
        },
        retryable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail() -> InputError {
        InputError::Read {
            uri: "s3://b/k".into(),
            reason: "cut".into(),
        }
    }

    #[tokio::test]
    async fn only_the_failed_messages_come_back() {
        let inputs = vec![
            (Some("m1".to_owned()), true),
            (Some("m2".to_owned()), false),
            (Some("m3".to_owned()), true),
        ];
        let v = answer(Trigger::Sqs, inputs, |ok| async move {
            if ok {
                Ok(())
            } else {
                Err(fail())
            }
        })
        .await
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m2"}]})
        );
    }

    #[tokio::test]
    async fn a_failed_message_without_an_id_fails_the_invocation() {
        let inputs = vec![(Some("m1".to_owned()), true), (None, false)];
        let e = answer(Trigger::Sqs, inputs, |ok| async move {
            if ok {
                Ok(())
            } else {
                Err(fail())
            }
        })
        .await
        .unwrap_err();
        assert!(e.retryable);
        assert!(e.first.contains("without a messageId"), "{e}");
    }

    #[tokio::test]
    async fn messages_run_concurrently() {
        // Four inputs that each wait for all four to have started: only a concurrent run ends.
        let started = std::sync::Arc::new(tokio::sync::Barrier::new(4));
        let inputs = (0..4).map(|i| (Some(format!("m{i}")), ())).collect();
        let run = answer(Trigger::Sqs, inputs, |()| {
            let started = std::sync::Arc::clone(&started);
            async move {
                started.wait().await;
                Ok(())
            }
        });
        let v = tokio::time::timeout(std::time::Duration::from_secs(5), run)
            .await
            .expect("inputs of one batch run at the same time")
            .unwrap();
        assert_eq!(v, serde_json::json!({"batchItemFailures": []}));
    }

    #[tokio::test]
    async fn a_direct_invocation_fails_whole_with_the_first_error() {
        let e = answer(Trigger::Direct, vec![(None, ())], |()| async {
            Err(fail())
        })
        .await
        .unwrap_err();
        assert!(e.retryable);
        let d: Diagnostic = e.into();
        assert_eq!(d.error_type, "Retryable");
        let ok = answer(Trigger::Direct, vec![(None, ())], |()| async { Ok(()) }).await;
        assert_eq!(ok.unwrap(), Value::Null);
    }
}
