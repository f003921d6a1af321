//! `cloudsec backfill` against the emulator: the archive's objects sent to the ingest queue as
//! S3 notifications; log-ingest reads them from the queue; `--hold` stores the findings and
//! publishes none; a second run with the progress file sends nothing; a re-sent object and a
//! live notification of one count nothing twice.

use std::process::Command;

use cloudsec::store::dynamodb::DynamoFindings;
use cloudsec::store::FindingStore;
use cloudsec_integration_tests::{create_findings_table, root, sample_log_objects, unique, Env};
use serde_json::{json, Value};

fn backfill(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .arg("backfill")
        .args(args)
        .current_dir(root())
        .output()
        .expect("cloudsec runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

/// The queue's messages as the SQS event source mapping hands them to log-ingest.
async fn sqs_event(env: &Env, queue: &str) -> (Value, usize) {
    let messages = env.drain_messages(queue).await;
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                "body": m.body(), "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ingest", "awsRegion": "us-east-1"
            })
        })
        .collect();
    (json!({ "Records": records }), messages.len())
}

#[tokio::test]
async fn a_held_backfill_stores_findings_publishes_none_and_resumes() {
    let Some(env) = Env::new().await else { return };
    // GIVEN the sample logs in an archive bucket, the ingest queue and log-ingest with a store
    let archive = unique("archive");
    env.s3
        .create_bucket()
        .bucket(&archive)
        .send()
        .await
        .unwrap();
    let mut keys = Vec::new();
    for (key, path) in sample_log_objects() {
        env.s3
            .put_object()
            .bucket(&archive)
            .key(&key)
            .body(std::fs::read(&path).unwrap().into())
            .send()
            .await
            .unwrap();
        keys.push(key);
    }
    let queue = env.queue("ingest").await;
    let table = unique("findings");
    create_findings_table(&env.dynamodb, &table).await;
    let handler = env.handler_keeping(&table).await;
    let progress = std::env::temp_dir().join(unique("backfill-progress"));
    let progress = progress.to_str().unwrap();
    let uri = format!("s3://{archive}/AWSLogs/");

    // WHEN the archive is backfilled with --hold, and log-ingest reads the queue
    let said = backfill(&[
        &uri,
        "--queue-url",
        &queue,
        "--hold",
        "--progress",
        progress,
        "--rate",
        "1000",
    ]);
    assert!(said.contains(&format!("{} sent", keys.len())), "{said}");
    let (event, n) = sqs_event(&env, &queue).await;
    assert_eq!(n, keys.len(), "one message per object");
    let answer = handler.handle(event).await.expect("handled");
    assert_eq!(answer, json!({"batchItemFailures": []}));
    // THEN no finding is published, and every finding is in the store, not published
    assert!(
        env.drain(&env.all_queue).await.is_empty(),
        "held findings were published"
    );
    let store = DynamoFindings::new(env.dynamodb.clone(), &table, 90);
    let kept = store.since("2026-10-01T00:00:00Z").await.unwrap().findings;
    assert!(kept.len() >= 15, "{} findings kept", kept.len());
    assert!(kept.iter().all(|f| !f.published));

    // AND a second run with the progress file sends nothing
    let said = backfill(&[&uri, "--queue-url", &queue, "--progress", progress]);
    assert!(
        said.contains(&format!(
            "{} already sent by an earlier run, 0 sent",
            keys.len()
        )),
        "{said}"
    );
    assert_eq!(sqs_event(&env, &queue).await.1, 0);
    // AND re-sent without it (and without --hold), and notified live, nothing counts twice
    backfill(&[&uri, "--queue-url", &queue, "--rate", "1000"]);
    let (event, n) = sqs_event(&env, &queue).await;
    assert_eq!(n, keys.len());
    handler.handle(event).await.expect("handled");
    let live = env.event("s3-object-created.json", None);
    let live = serde_json::to_string(&live)
        .unwrap()
        .replace(&env.bucket, &archive);
    handler
        .handle(serde_json::from_str(&live).unwrap())
        .await
        .expect("live");
    assert!(
        env.drain(&env.all_queue).await.is_empty(),
        "a finding published on a redelivery"
    );
    let again = store.since("2026-10-01T00:00:00Z").await.unwrap().findings;
    assert_eq!(again.len(), kept.len());
    for f in &again {
        let before = kept
            .iter()
            .find(|k| k.finding.finding.id == f.finding.finding.id)
            .unwrap();
        assert_eq!(
            f.finding.finding.count, before.finding.finding.count,
            "{}",
            f.finding.rule.id
        );
    }
}
