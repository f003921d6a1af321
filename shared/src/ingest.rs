//! The `log-ingest` handler: S3 notifications in, findings out.
//!
//! It takes its dependencies as parameters ([`LogIngest`]); the function's `main` builds them
//! once at cold start. Each object is one input: it is fetched, streamed through the pipeline on
//! a blocking thread, its bad records are quarantined and its findings published. An input that
//! fails is retried: through `batchItemFailures` for SQS (only the failed messages), by failing
//! the invocation for the other triggers.

use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use lambda_runtime::Diagnostic;
use serde_json::Value;
use tokio_util::io::SyncIoBridge;

use crate::config::LogIngestConfig;
use crate::detect::evaluate::{evaluate, settle, StateConfig};
use crate::envelope::{self, Input, Notice, ObjectRef, Trigger};
use crate::error::{chain, InputError};
use crate::metrics;
use crate::pipeline::{InputReport, Pipeline};
use crate::publish::FindingSink;
use crate::sources::{KeyVerdict, LogSource};
use crate::state::StateStore;

/// Everything the handler needs, built once per cold start.
#[derive(Debug)]
pub struct LogIngest<P, S> {
    /// Reads the log objects and writes the quarantine.
    pub s3: aws_sdk_s3::Client,
    /// Receives the findings.
    pub sink: P,
    /// Counters, ledger and published findings.
    pub store: S,
    /// Timing of the state.
    pub state: StateConfig,
    /// The detections.
    pub pipeline: Arc<Pipeline>,
    /// The function's configuration.
    pub config: LogIngestConfig,
}

/// What happened to one object.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectSummary {
    /// `s3://bucket/key`.
    pub object: String,
    /// Records read.
    pub records: u64,
    /// Records that could not be used.
    pub bad: u64,
    /// Findings produced.
    pub findings: u64,
    /// Findings published (at or above the configured severity).
    pub published: u64,
    /// Why it was skipped, when it was.
    pub skipped: Option<&'static str>,
}

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

impl LogIngest<crate::publish::sns::SnsSink, crate::state::dynamodb::DynamoStore> {
    /// Everything a function needs, built once at cold start from its configuration: the
    /// catalogue with the configured rule changes, the GeoIP databases (from a file or S3, when
    /// named), the SDK clients, the SNS sink and the DynamoDB store. An error names what is
    /// wrong, and fails the cold start.
    pub async fn from_config(
        aws: &aws_config::SdkConfig,
        config: LogIngestConfig,
    ) -> Result<Self, String> {
        let catalogue = config.catalogue().map_err(|e| e.to_string())?;
        let mut pipeline = Pipeline::new(
            catalogue,
            crate::pipeline::PipelineConfig {
                max_decompressed_bytes: config.max_decompressed_bytes,
                max_evidence: config.max_evidence,
                ..crate::pipeline::PipelineConfig::default()
            },
        );
        let s3 = aws_sdk_s3::Client::new(aws);
        if let Some(geo) = crate::geo::load(
            &s3,
            config.geoip_city.as_deref(),
            config.geoip_asn.as_deref(),
        )
        .await?
        {
            pipeline = pipeline.with_geo(Arc::new(geo));
        }
        Ok(LogIngest {
            s3,
            sink: crate::publish::sns::SnsSink::new(
                aws_sdk_sns::Client::new(aws),
                &config.findings_topic_arn,
            ),
            store: crate::state::dynamodb::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(aws),
                &config.state_table,
            ),
            state: config.state,
            pipeline: Arc::new(pipeline),
            config,
        })
    }
}

impl<P: FindingSink, S: StateStore> LogIngest<P, S> {
    /// Handles one invocation, whatever its trigger.
    pub async fn handle(&self, event: Value) -> Result<Value, InvocationError> {
        let (trigger, inputs) = envelope::unwrap(&event).map_err(|e| InvocationError {
            failed: 1,
            inputs: 1,
            first: e.to_string(),
            retryable: false,
        })?;
        let total = inputs.len();
        let mut failures: Vec<(Option<String>, InputError)> = Vec::new();
        for input in inputs {
            let Input {
                message_id,
                notices,
            } = input;
            if let Err(e) = self.handle_input(notices).await {
                tracing::error!(message_id = message_id.as_deref().unwrap_or("-"), error = %e, "input failed");
                failures.push((message_id, e));
            }
        }
        match trigger {
            Trigger::Sqs => {
                let mut response = SqsBatchResponse::default();
                for id in failures.into_iter().filter_map(|(id, _)| id) {
                    response.add_failure(id);
                }
                serde_json::to_value(response).map_err(|e| InvocationError {
                    failed: total,
                    inputs: total,
                    first: e.to_string(),
                    retryable: true,
                })
            }
            Trigger::Direct if failures.is_empty() => Ok(Value::Null),
            Trigger::Direct => Err(InvocationError {
                failed: failures.len(),
                inputs: total,
                retryable: failures.iter().any(|(_, e)| e.is_retryable()),
                first: failures
                    .into_iter()
                    .next()
                    .map(|(_, e)| e.to_string())
                    .unwrap_or_default(),
            }),
        }
    }

    async fn handle_input(
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
                Notice::Object(obj) => {
                    // One object's failure does not stop the others of the same notification.
                    if let Err(e) = self.process_object(&obj).await {
                        tracing::error!(object = %obj.uri(), error = %e, "object failed");
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Reads one object and delivers what it produced.
    pub async fn process_object(&self, obj: &ObjectRef) -> Result<ObjectSummary, InputError> {
        let started = Instant::now();
        let uri = obj.uri();
        let summary = ObjectSummary {
            object: uri.clone(),
            ..Default::default()
        };
        let source = match self.config.layouts.classify(&obj.key) {
            KeyVerdict::SkipDigest => return Ok(skipped(summary, "cloudtrail_digest")),
            KeyVerdict::Read(source) => Some(source),
            KeyVerdict::Sniff => None,
        };
        if obj.size == Some(0) || obj.key.ends_with('/') {
            return Ok(skipped(summary, "empty_object"));
        }
        let response = self
            .s3
            .get_object()
            .bucket(&obj.bucket)
            .key(&obj.key)
            .send()
            .await
            .map_err(|e| InputError::Fetch {
                uri: uri.clone(),
                reason: chain(&e),
            })?;
        if response.content_length() == Some(0) {
            return Ok(skipped(summary, "empty_object"));
        }
        // The same object is the same input however it is announced (S3, SNS, EventBridge) and
        // however often: its counters are committed once under this id.
        let input_id = format!("{uri}@{}", response.e_tag().unwrap_or("-"));
        let report = self.scan_body(response.body, &uri, source).await?;
        let name = format!("{}/{}", obj.bucket, obj.key);
        self.deliver(&input_id, &uri, &name, source, report, started)
            .await
    }

    /// The second half of an input, once read: quarantine, state, publish, settle. An input
    /// delivered again, concurrently or after a crash anywhere in here, comes out the same.
    /// `uri` names the input in logs; bad records are kept under the quarantine prefix at
    /// `<name>.bad.jsonl`.
    pub async fn deliver(
        &self,
        input_id: &str,
        uri: &str,
        name: &str,
        source: Option<LogSource>,
        mut report: InputReport,
        started: Instant,
    ) -> Result<ObjectSummary, InputError> {
        let uri = uri.to_owned();
        let source = report.source.or(source);
        let mut summary = ObjectSummary {
            object: uri.clone(),
            records: report.records,
            bad: report.bad,
            ..Default::default()
        };
        if let Some(e) = report.error {
            // Nothing is counted from an object that could not be read to its end: counting
            // part of it now would make a retry that reads further count it short.
            tracing::error!(
                object = %uri, records_read = report.records, hits = report.groups.len(),
                error = %e, "object not read to its end; nothing counted, input retried"
            );
            return Err(e);
        }
        if report.bad > 0 {
            self.quarantine(name, &uri, &report).await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let groups = self
            .pipeline
            .groups_with_history(&self.store, &mut report)
            .await
            .map_err(|e| InputError::State(e.to_string()))?;
        let evaluation = evaluate(&self.store, input_id, groups, now, &self.state)
            .await
            .map_err(|e| InputError::State(e.to_string()))?;
        let fired = &evaluation.fired;
        summary.findings = fired.len() as u64;
        let publish: Vec<_> = fired
            .iter()
            .filter(|f| f.publish && f.finding.finding.severity >= self.config.min_severity)
            .map(|f| f.finding.clone())
            .collect();
        self.sink
            .publish(&publish)
            .await
            .map_err(|e| InputError::Deliver(e.to_string()))?;
        // Findings under the publishing threshold are settled too: they are not to be sent.
        settle(&self.store, fired)
            .await
            .map_err(|e| InputError::State(e.to_string()))?;
        evaluation
            .check_busy()
            .map_err(|e| InputError::State(e.to_string()))?;
        summary.published = publish.len() as u64;
        let duration_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            object = %uri,
            source = source.map_or("unknown", LogSource::dataset),
            records = summary.records,
            bad = summary.bad,
            findings = summary.findings,
            published = summary.published,
            duration_ms,
            "object processed"
        );
        metrics::emit_object(source, &summary, duration_ms);
        Ok(summary)
    }

    async fn scan_body(
        &self,
        body: aws_sdk_s3::primitives::ByteStream,
        uri: &str,
        source: Option<LogSource>,
    ) -> Result<InputReport, InputError> {
        let reader = SyncIoBridge::new(body.into_async_read());
        let pipeline = Arc::clone(&self.pipeline);
        let uri_owned = uri.to_owned();
        tokio::task::spawn_blocking(move || pipeline.scan_any(reader, &uri_owned, source))
            .await
            .map_err(|e| InputError::Read {
                uri: uri.to_owned(),
                reason: format!("pipeline task failed: {e}"),
            })
    }

    /// Writes the bad records of an object, as JSON lines with their locations, next to a
    /// pointer to the original object. Without a quarantine bucket they are in the logs only.
    async fn quarantine(
        &self,
        name: &str,
        uri: &str,
        report: &InputReport,
    ) -> Result<(), InputError> {
        let Some(bucket) = &self.config.quarantine_bucket else {
            return Ok(());
        };
        let key = format!("{}{name}.bad.jsonl", self.config.quarantine_prefix);
        let mut body = String::new();
        for bad in &report.bad_records {
            if let Ok(line) = serde_json::to_string(bad) {
                body.push_str(&line);
                body.push('\n');
            }
        }
        if report.bad_records_truncated {
            let note = serde_json::json!({
                "note": "more bad records than kept; the original object holds them all",
                "object": uri, "bad": report.bad,
            });
            body.push_str(&note.to_string());
            body.push('\n');
        }
        self.s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("application/x-ndjson")
            .body(body.into_bytes().into())
            .send()
            .await
            .map_err(|e| {
                InputError::Deliver(format!("quarantine s3://{bucket}/{key}: {}", chain(&e)))
            })?;
        Ok(())
    }
}

fn skipped(mut summary: ObjectSummary, why: &'static str) -> ObjectSummary {
    tracing::info!(object = %summary.object, skipped = why, "object skipped");
    metrics::emit_skip(why);
    summary.skipped = Some(why);
    summary
}
