//! `finding-ingest`: GuardDuty and Security Hub findings from EventBridge to ECS, detections,
//! and findings on SNS.
//!
//! Wiring only: tracing, configuration, SDK clients and the engine built once, then the handler
//! of `cloudsec::finding_ingest` for every invocation. The S3 client writes the quarantine of
//! findings that cannot be read.

use cloudsec::finding_ingest::FindingIngest;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON lines when the function's logging format is JSON (the template sets it).
    cloudsec::logging::init_lambda();
    let handler = cloudsec::coldstart::from_env(|aws, config| async move {
        FindingIngest::from_config(&aws, &config).await
    })
    .await?;
    let handler = &handler;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event.payload).await
    }))
    .await
}
