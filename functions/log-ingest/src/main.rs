//! `log-ingest`: S3 log objects (CloudTrail, WAF, Network Firewall) to ECS, detections, and findings on SNS.
//!
//! Wiring only: tracing, configuration, SDK clients and the engine built once, then the handler
//! of `cloudsec::ingest` for every invocation.

use cloudsec::ingest::LogIngest;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON lines when the function's logging format is JSON (the template sets it).
    cloudsec::logging::init_lambda();
    let handler = cloudsec::coldstart::from_env(|aws, config| async move {
        LogIngest::from_config(&aws, &config).await
    })
    .await?;
    let handler = &handler;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event.payload).await
    }))
    .await
}
