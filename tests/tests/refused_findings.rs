//! A finding that SNS refuses does not hold back the others: it is kept, counted, and retried
//! on its own through the republish queue, against the emulator.
//!
//! The emulator refuses a `PublishBatch` to a FIFO topic whose entries have no message group
//! (`InvalidParameter`), which is how the test makes SNS refuse findings for real; a finding
//! refused among others that are taken is shown over the in-memory sink in `selective`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use cloudsec::detect::Severity;
use cloudsec::engine::InputId;
use cloudsec::finding::Finding;
use cloudsec::publish::memory::MemorySink;
use cloudsec::publish::retry::{RepublishQueue, RepublishRequest, REPUBLISH_KEY};
use cloudsec::publish::{FindingSink, PublishError, Rejected, Sinks};
use cloudsec::sources::LogSource;
use cloudsec::state::memory::MemoryStore;
use cloudsec_integration_tests::{local_findings, memory_engine, sample_object, unique, Env};
use serde_json::{json, Value};

fn sqs_event(messages: &[(String, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "receiptHandle": "h", "body": body,
                   "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                   "md5OfBody": "m", "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:republish",
                   "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

/// Every message of `queue`, raw: (message id, body).
async fn receive_all(env: &Env, queue: &str) -> Vec<(String, String)> {
    env.drain_messages(queue)
        .await
        .into_iter()
        .map(|m| (m.message_id.unwrap_or_default(), m.body.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn findings_sns_refuses_go_to_the_republish_queue_and_are_published_from_there() {
    let Some(env) = Env::new().await else { return };
    // GIVEN a function whose topic refuses every entry (a FIFO topic, entries without a
    // message group), with a republish queue (without the stack's delivery delay)
    let fifo = env
        .sns
        .create_topic()
        .name(format!("{}.fifo", unique("refusing")))
        .attributes("FifoTopic", "true")
        .send()
        .await
        .expect("fifo topic")
        .topic_arn
        .expect("arn");
    let republish = env.queue("republish").await;
    let refusing = env
        .handler_from_env(&[
            ("FINDINGS_TOPIC_ARN", fifo.as_str()),
            ("REPUBLISH_QUEUE_URL", republish.as_str()),
        ])
        .await
        .expect("cold start");
    env.put(cloudsec_integration_tests::EXAMPLE_KEY, sample_object())
        .await;
    let event = env.event("sqs-s3-object-created.json", None);

    // WHEN the sample object is delivered
    let response = refusing.handle(event.clone()).await.expect("handled");

    // THEN the input succeeds: every finding was refused, and each is a message of its own in
    // the republish queue, with the reason SNS gave
    assert_eq!(response, json!({"batchItemFailures": []}));
    let expected = local_findings(&sample_object()).await;
    let messages = receive_all(&env, &republish).await;
    assert_eq!(
        messages.len(),
        expected.len(),
        "one message per refused finding"
    );
    let ids = |fs: &mut dyn Iterator<Item = String>| fs.collect::<BTreeSet<_>>();
    let mut requests = Vec::new();
    for (_, body) in &messages {
        let v: Value = serde_json::from_str(body).expect("json");
        let r = RepublishRequest::from_value(&v)
            .expect("a republish message")
            .expect("well formed");
        assert!(r.reason.contains("InvalidParameter"), "{}", r.reason);
        assert!(r.input.starts_with("s3://"), "{}", r.input);
        requests.push(r);
    }
    assert_eq!(
        ids(&mut requests.iter().map(|r| r.finding.finding.id.clone())),
        ids(&mut expected.iter().map(|f| f.finding.id.clone()))
    );
    assert!(env.drain(&env.all_queue).await.is_empty());

    // WHEN the object is delivered again: the refused findings are owned by their messages
    let again = refusing.handle(event).await.expect("handled");
    assert_eq!(again, json!({"batchItemFailures": []}));
    assert!(receive_all(&env, &republish).await.is_empty());

    // WHEN the refusing function consumes its republish messages, they fail again, each alone
    let response = refusing
        .handle(sqs_event(&messages))
        .await
        .expect("handled");
    let failed: BTreeSet<String> = response["batchItemFailures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(failed, messages.iter().map(|(id, _)| id.clone()).collect());

    // WHEN the topic takes them again (a standard topic), the messages publish every finding
    let fixed = env.handler(Severity::Info).await;
    let response = fixed.handle(sqs_event(&messages)).await.expect("handled");
    assert_eq!(response, json!({"batchItemFailures": []}));
    let published = env.drain(&env.all_queue).await;
    assert_eq!(
        ids(&mut published
            .iter()
            .map(|(b, _)| b["finding"]["id"].as_str().unwrap_or("").to_owned())),
        ids(&mut expected.iter().map(|f| f.finding.id.clone()))
    );
}

#[tokio::test]
async fn finding_ingest_consumes_republish_messages_too() {
    let Some(env) = Env::new().await else { return };
    // GIVEN a republish message of a finding
    let finding = local_findings(&sample_object())
        .await
        .into_iter()
        .next()
        .expect("a finding");
    let body = RepublishRequest {
        input: "s3://b/k".into(),
        reason: "refused".into(),
        finding: finding.clone(),
    }
    .to_body()
    .expect("body");
    assert!(body.starts_with(&format!("{{\"{REPUBLISH_KEY}\"")));
    // WHEN finding-ingest consumes it from its queue
    let handler = env.finding_handler(Severity::Info).await;
    let response = handler
        .handle(sqs_event(&[("m1".into(), body)]))
        .await
        .expect("handled");
    // THEN the finding is published
    assert_eq!(response, json!({"batchItemFailures": []}));
    let published = env.drain(&env.all_queue).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].0["finding"]["id"], json!(finding.finding.id));
}

/// Refuses the findings of one rule, takes the others into `inner`.
struct Refuse {
    rule: &'static str,
    inner: Arc<MemorySink>,
}

impl FindingSink for Refuse {
    async fn publish(&self, findings: &[&Finding]) -> Result<Vec<Rejected>, PublishError> {
        let (refused, taken): (Vec<&Finding>, Vec<&Finding>) = findings
            .iter()
            .copied()
            .partition(|f| f.rule.id == self.rule);
        self.inner.publish(&taken).await?;
        Ok(refused
            .into_iter()
            .map(|f| Rejected {
                id: f.finding.id.clone(),
                reason: format!("refused {}", self.rule),
            })
            .collect())
    }
}

#[tokio::test]
async fn selective_one_refused_finding_does_not_hold_back_the_others() {
    // GIVEN a sink that refuses the root-login finding, and a republish queue
    let taken = Arc::new(MemorySink::default());
    let kept = Arc::new(Mutex::new(Vec::new()));
    let engine = memory_engine(
        MemoryStore::new(),
        Sinks::one(Refuse {
            rule: "user.root-login",
            inner: Arc::clone(&taken),
        }),
    )
    .with_republish(RepublishQueue::Memory(Arc::clone(&kept)));
    // WHEN the sample object is delivered
    let delivered = engine
        .process_bytes(
            &InputId::named("sample"),
            sample_object(),
            Some(LogSource::CloudTrail),
        )
        .await
        .expect("delivered");
    // THEN every other finding is published, the refused one is counted and kept
    let all = local_findings(&sample_object()).await;
    assert_eq!(delivered.summary.rejected, 1);
    assert_eq!(delivered.summary.published, all.len() as u64 - 1);
    assert_eq!(taken.findings().len(), all.len() - 1);
    assert!(taken
        .findings()
        .iter()
        .all(|f| f.rule.id != "user.root-login"));
    let bodies = kept.lock().expect("kept").clone();
    assert_eq!(bodies.len(), 1);
    let request = RepublishRequest::from_value(&serde_json::from_str(&bodies[0]).expect("json"))
        .expect("republish")
        .expect("well formed");
    assert_eq!(request.finding.rule.id, "user.root-login");
    assert_eq!(request.reason, "refused user.root-login");

    // WITHOUT a republish queue, a refused finding fails its input (not retryable: nothing
    // else would keep it)
    let engine = memory_engine(
        MemoryStore::new(),
        Sinks::one(Refuse {
            rule: "user.root-login",
            inner: Arc::new(MemorySink::default()),
        }),
    );
    let e = engine
        .process_bytes(
            &InputId::named("sample"),
            sample_object(),
            Some(LogSource::CloudTrail),
        )
        .await
        .expect_err("refused without a queue");
    assert!(e.to_string().contains("no republish queue"), "{e}");
}
