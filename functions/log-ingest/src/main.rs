//! `log-ingest`: S3 log objects (CloudTrail, WAF, Network Firewall) to ECS, detections, and findings on SNS.
//!
//! Wiring only: tracing, configuration, SDK clients built once, then the handler of
//! `cloudsec::ingest` for every invocation.

use std::sync::Arc;

use cloudsec::config::LogIngestConfig;
use cloudsec::ingest::LogIngest;
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::publish::sns::SnsSink;
use cloudsec::state::dynamodb::DynamoStore;
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
    let catalogue = config.catalogue()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let pipeline = Pipeline::new(
        catalogue,
        PipelineConfig {
            max_decompressed_bytes: config.max_decompressed_bytes,
            max_evidence: config.max_evidence,
            ..PipelineConfig::default()
        },
    );
    let s3 = aws_sdk_s3::Client::new(&aws);
    let geo = cloudsec::geo::load(
        &s3,
        config.geoip_city.as_deref(),
        config.geoip_asn.as_deref(),
    )
    .await?;
    let pipeline = match geo {
        Some(g) => pipeline.with_geo(Arc::new(g)),
        None => pipeline,
    };
    let deps = LogIngest {
        s3,
        sink: SnsSink::new(aws_sdk_sns::Client::new(&aws), &config.findings_topic_arn),
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.state_table),
        state: config.state,
        pipeline: Arc::new(pipeline),
        config,
    };
    let deps = &deps;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        deps.handle(event.payload).await
    }))
    .await
}
