//! `risk-report`: on its schedule (EventBridge Scheduler), the risk overview and the report of
//! the findings store written to S3, and the digest published to the findings topic.
//!
//! Wiring only: tracing, configuration and SDK clients built once, then the handler of
//! `cloudsec::risk_report` for every invocation.

use cloudsec::config::RiskReportConfig;
use cloudsec::risk_report::RiskReport;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    cloudsec::logging::init_lambda();
    let handler =
        cloudsec::coldstart::start(RiskReportConfig::from_env, |aws, config| async move {
            Ok(RiskReport::from_config(&aws, &config))
        })
        .await?;
    let handler = &handler;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event.payload).await
    }))
    .await
}
