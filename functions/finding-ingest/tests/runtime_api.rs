//! The real `finding-ingest` binary under a Runtime API served by the test, against the
//! emulator: handed `events/`'s GuardDuty and Security Hub events, directly and in an SQS
//! batch, and an S3 notification meant for the other function.

use std::path::Path;
use std::time::Duration;

use cloudsec_integration_tests::runtime_api::{Answer, RuntimeApi};
use cloudsec_integration_tests::Env;
use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_finding-ingest");

#[tokio::test]
async fn the_binary_answers_every_event_as_lambda_expects() {
    let Some(env) = Env::new().await else { return };
    // GIVEN the GuardDuty and Security Hub events, the GuardDuty one again inside an SQS
    // batch (a redelivery: the same EventBridge id), and an S3 notification
    let guardduty = env.event("eventbridge-guardduty-finding.json", None);
    let securityhub = env.event("eventbridge-securityhub-findings-imported.json", None);
    let batch = json!({"Records": [{
        "messageId": "m1", "receiptHandle": "h", "body": guardduty.to_string(),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "md5OfBody": "m", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:findings", "awsRegion": "us-east-1"}]});
    let wrong = env.event("s3-object-created.json", None);
    let api = RuntimeApi::serve(vec![guardduty, securityhub, batch, wrong]);
    // WHEN the binary runs under the Runtime API
    let child = api.start(Path::new(BINARY), &env.function_env());
    let output = api.finish(child, Duration::from_secs(120));
    let answers = api.answers();
    assert_eq!(answers.len(), 4, "answers {answers:?}; output:\n{output}");
    // THEN the events succeed, the batch answers with no failure, and the S3 event fails as
    // not retryable, naming the function it belongs to
    assert!(matches!(answers["req-0"], Answer::Response(_)));
    assert!(matches!(answers["req-1"], Answer::Response(_)));
    assert_eq!(
        answers["req-2"],
        Answer::Response(json!({"batchItemFailures": []}))
    );
    match &answers["req-3"] {
        Answer::Error { body, .. } => {
            assert_eq!(body["errorType"], "NonRetryable");
            let message = body["errorMessage"].as_str().unwrap_or("");
            assert!(message.contains("log-ingest"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // AND the findings of both services are published, the redelivered one once
    let published = env.drain(&env.all_queue).await;
    let datasets: Vec<&str> = published
        .iter()
        .filter_map(|(b, _)| b["event"]["dataset"].as_str())
        .collect();
    assert_eq!(
        datasets.iter().filter(|d| **d == "aws.guardduty").count(),
        1,
        "{datasets:?}"
    );
    assert!(
        datasets.contains(&"aws.securityhub_findings"),
        "{datasets:?}"
    );
    let mut ids: Vec<&Value> = published.iter().map(|(b, _)| &b["finding"]["id"]).collect();
    let n = ids.len();
    ids.sort_by_key(|v| v.to_string());
    ids.dedup();
    assert_eq!(ids.len(), n, "a finding published twice");
}
