//! `finding-ingest`: GuardDuty and Security Hub findings from EventBridge to ECS, detections,
//! and findings on SNS.
//!
//! Wiring only: tracing, configuration, SDK clients built once, then the handler of
//! `cloudsec::finding_ingest` for every invocation. The S3 client writes the quarantine of
//! findings that cannot be read.

use cloudsec::config::LogIngestConfig;
use cloudsec::ingest::LogIngest;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .init();

    let config = LogIngestConfig::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let deps = LogIngest::from_config(&aws, config).await?;
    let deps = &deps;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        deps.handle_findings(event.payload).await
    }))
    .await
}
