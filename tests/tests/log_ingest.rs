//! `log-ingest` against the emulator: real S3 objects, real notifications of every shape, real
//! SNS delivery to SQS with message attributes and filter policies.

use std::collections::{BTreeMap, HashSet};

use cloudsec::detect::Severity;
use cloudsec_integration_tests::{gzip, local_findings, sample_object, Env, EXAMPLE_KEY};
use serde_json::{json, Value};

/// The findings of the sample object, as rule id -> count of findings.
fn expected_rules() -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (rule, n) in [
        ("user.console-login-no-mfa", 1),
        ("user.root-activity", 1),
        ("user.root-login", 1),
        ("config.cloudtrail-stopped", 2),
        ("config.lambda-persistence", 1),
        ("user.console-login-failed", 2),
        ("config.iam-policy-change", 1),
        ("config.admin-policy-attached", 1),
        ("config.access-key-for-other-user", 2),
        ("config.cloudtrail-change", 1),
        ("user.unauthorized-api-call", 1),
    ] {
        m.insert(rule.to_owned(), n);
    }
    m
}

fn rule_counts(
    findings: &[(Value, std::collections::HashMap<String, String>)],
) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (f, _) in findings {
        *m.entry(f["rule"]["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    m
}

#[tokio::test]
async fn every_envelope_shape_delivers_the_findings_with_attributes() {
    // The same object through the in-memory store, as the CLI runs it.
    let local = local_findings(&sample_object()).await;
    let local_ids: HashSet<String> = local.iter().map(|f| f.finding.id.clone()).collect();
    for event_file in [
        "s3-object-created.json",
        "sqs-s3-object-created.json",
        "sns-s3-object-created.json",
        "sqs-sns-s3-object-created.json",
        "eventbridge-s3-object-created.json",
    ] {
        // GIVEN the sample CloudTrail object in a bucket, and a queue subscribed to the topic
        let Some(env) = Env::new().await else { return };
        env.put(EXAMPLE_KEY, sample_object()).await;
        // WHEN the handler gets the notification in this shape
        let response = env
            .handler(Severity::Info)
            .await
            .handle(env.event(event_file, None))
            .await
            .unwrap_or_else(|e| panic!("{event_file}: {e}"));
        // THEN every finding reaches SNS once, with its attributes
        if event_file.starts_with("sqs") {
            assert_eq!(response, json!({"batchItemFailures": []}), "{event_file}");
        }
        let findings = env.drain(&env.all_queue).await;
        assert_eq!(rule_counts(&findings), expected_rules(), "{event_file}");
        let ids: HashSet<String> = findings
            .iter()
            .map(|(f, _)| f["finding"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            ids, local_ids,
            "{event_file}: the Lambda and the local pipeline disagree"
        );
        for (f, attrs) in &findings {
            assert_eq!(f["event"]["kind"], "alert");
            assert_eq!(
                attrs["severity"],
                f["finding"]["severity"].as_str().unwrap()
            );
            assert_eq!(attrs["rule_id"], f["rule"]["id"].as_str().unwrap());
            assert_eq!(
                attrs["category"],
                f["finding"]["category"].as_str().unwrap()
            );
            assert_eq!(attrs["account_id"], "111122223333");
            assert_eq!(attrs["dataset"], "aws.cloudtrail");
            assert_eq!(attrs["severity_score"], f["event"]["severity"].to_string());
            let evidence = f["finding"]["evidence"].as_array().unwrap();
            assert!(!evidence.is_empty());
            assert_eq!(
                evidence[0]["log"]["file"]["path"],
                format!("s3://{}/{}", env.bucket, EXAMPLE_KEY)
            );
        }
        let stopped = findings
            .iter()
            .find(|(f, _)| f["finding"]["entity"]["id"] == "security-trail")
            .expect("PutEventSelectors finding");
        assert_eq!(stopped.0["finding"]["severity"], "high");
        assert_eq!(stopped.0["threat"]["technique"]["id"][0], "T1562.008");
        assert!(stopped.0["message"]
            .as_str()
            .unwrap()
            .contains("(cloudtrail:PutEventSelectors) on security-trail"));
    }
}

#[tokio::test]
async fn filter_policies_on_severity_select_findings() {
    let Some(env) = Env::new().await else { return };
    let high_only = env
        .subscribe_queue(Some(r#"{"severity": ["high", "critical"]}"#))
        .await;
    let numeric = env
        .subscribe_queue(Some(r#"{"severity_score": [{"numeric": [">=", 73]}]}"#))
        .await;
    env.put(EXAMPLE_KEY, sample_object()).await;
    env.handler(Severity::Info)
        .await
        .handle(env.event("s3-object-created.json", None))
        .await
        .unwrap();
    let all = env.drain(&env.all_queue).await;
    let high = env.drain(&high_only).await;
    let by_score = env.drain(&numeric).await;
    let expected_high = all
        .iter()
        .filter(|(f, _)| matches!(f["finding"]["severity"].as_str(), Some("high" | "critical")))
        .count();
    assert!(
        expected_high > 0 && expected_high < all.len(),
        "the sample must mix severities"
    );
    assert_eq!(high.len(), expected_high);
    assert!(high
        .iter()
        .all(|(_, a)| a["severity"] == "high" || a["severity"] == "critical"));
    assert_eq!(by_score.len(), expected_high);
}

#[tokio::test]
async fn min_severity_is_applied_before_publishing() {
    let Some(env) = Env::new().await else { return };
    env.put(EXAMPLE_KEY, sample_object()).await;
    env.handler(Severity::High)
        .await
        .handle(env.event("s3-object-created.json", None))
        .await
        .unwrap();
    let findings = env.drain(&env.all_queue).await;
    assert!(!findings.is_empty());
    assert!(findings
        .iter()
        .all(|(f, _)| f["finding"]["severity"] == "high"));
}

fn ct(name: &str, source: &str, identity: Value, extra: Value) -> Value {
    let mut r = json!({
        "eventVersion": "1.09", "eventTime": "2026-11-02T08:00:00Z", "eventSource": source,
        "eventName": name, "awsRegion": "eu-west-1", "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.15.0", "userIdentity": identity, "eventType": "AwsApiCall",
        "recipientAccountId": "444455556666"
    });
    if let (Some(r), Some(e)) = (r.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    r
}

fn root_identity() -> Value {
    json!({"type": "Root", "arn": "arn:aws:iam::444455556666:root", "accountId": "444455556666", "principalId": "444455556666"})
}

fn sqs_message(id: &str, bucket: &str, key: &str) -> Value {
    let s3 = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-02T08:05:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE"}, "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "r", "x-amz-id-2": "h"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A"}, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": cloudsec_integration_tests::encode_key(key), "size": 100, "eTag": "e", "sequencer": "01"}}}]});
    json!({"messageId": id, "receiptHandle": "h", "body": s3.to_string(),
           "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "m",
           "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:q", "awsRegion": "us-east-1"})
}

#[tokio::test]
async fn bad_objects_fail_only_their_own_message_and_bad_records_are_kept() {
    let Some(env) = Env::new().await else { return };
    // GIVEN five objects: a good one; a truncated gzip; plain text; JSON lines mixing good
    // records, a malformed one and one of an unknown layout; and one that does not exist
    let sample = sample_object();
    env.put("good/ct.json.gz", sample.clone()).await;
    env.put("bad/truncated.json.gz", sample[..sample.len() / 2].to_vec())
        .await;
    env.put("bad/not json.txt", b"hello\nworld\n".to_vec())
        .await;
    let login = ct(
        "ConsoleLogin",
        "signin.amazonaws.com",
        root_identity(),
        json!({"responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "Yes"}}),
    );
    let stop = ct(
        "StopLogging",
        "cloudtrail.amazonaws.com",
        json!({"type": "IAMUser", "arn": "arn:aws:iam::444455556666:user/eve", "accountId": "444455556666", "userName": "eve"}),
        json!({"requestParameters": {"name": "main-trail"}}),
    );
    let mixed = format!(
        "{}\n{{\"eventTime\": \"2026-11-02T08:00:00Z\", \"eventName\": \n{}\n{}\n",
        login,
        json!({"foo": "an unknown layout"}),
        stop
    );
    env.put("mixed/records.jsonl", gzip(mixed.as_bytes())).await;
    let event = json!({"Records": [
        sqs_message("m-good", &env.bucket, "good/ct.json.gz"),
        sqs_message("m-truncated", &env.bucket, "bad/truncated.json.gz"),
        sqs_message("m-text", &env.bucket, "bad/not json.txt"),
        sqs_message("m-mixed", &env.bucket, "mixed/records.jsonl"),
        sqs_message("m-missing", &env.bucket, "does/not/exist.json.gz"),
    ]});
    // WHEN the batch is handled
    let response = env
        .handler(Severity::Info)
        .await
        .handle(event)
        .await
        .expect("batch response");
    // THEN only the truncated and the missing objects are retried
    let mut failed: Vec<&str> = response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    failed.sort();
    assert_eq!(failed, vec!["m-missing", "m-truncated"]);
    // AND the good records of the mixed object produced their findings
    let findings = env.drain(&env.all_queue).await;
    let mixed_rules: HashSet<&str> = findings
        .iter()
        .filter(|(f, _)| f["cloud"]["account"]["id"] == "444455556666")
        .map(|(f, _)| f["rule"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        mixed_rules,
        HashSet::from([
            "user.root-login",
            "user.root-activity",
            "config.cloudtrail-stopped",
            "config.cloudtrail-change"
        ])
    );
    // AND the bad records are kept with their location
    let kept = env
        .s3
        .get_object()
        .bucket(&env.quarantine_bucket)
        .key(format!(
            "quarantine/{}/mixed/records.jsonl.bad.jsonl",
            env.bucket
        ))
        .send()
        .await
        .expect("quarantined records")
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let kept: Vec<Value> = String::from_utf8(kept.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0]["location"]["record"]["line"], 2);
    assert_eq!(kept[1]["location"]["record"]["line"], 3);
    // (judged on its own: the object's key names no source, and its lines may mix sources)
    assert!(kept[1]["error"]
        .as_str()
        .unwrap()
        .contains("not a record of any source"));
    assert!(kept[1]["raw"]
        .as_str()
        .unwrap()
        .contains("an unknown layout"));
    // AND plain text is kept aside line by line, not an error
    let text = env
        .s3
        .get_object()
        .bucket(&env.quarantine_bucket)
        .key(format!(
            "quarantine/{}/bad/not json.txt.bad.jsonl",
            env.bucket
        ))
        .send()
        .await
        .expect("quarantined text");
    assert!(text.content_length().unwrap_or(0) > 0);
}

#[tokio::test]
async fn test_events_digests_and_empty_objects_are_skipped() {
    let Some(env) = Env::new().await else { return };
    let digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_org_us-east-1_20261101T103000Z.json.gz";
    env.put(digest, gzip(b"{\"not\": \"records\"}")).await;
    env.put("AWSLogs/empty.json.gz", Vec::new()).await;
    let mut digest_msg = sqs_message("m-digest", &env.bucket, digest);
    let mut empty_msg = sqs_message("m-empty", &env.bucket, "AWSLogs/empty.json.gz");
    for (m, size) in [(&mut digest_msg, 100), (&mut empty_msg, 0)] {
        let mut body: Value = serde_json::from_str(m["body"].as_str().unwrap()).unwrap();
        body["Records"][0]["s3"]["object"]["size"] = json!(size);
        m["body"] = json!(body.to_string());
    }
    let mut test_event = env.event("sqs-s3-test-event.json", None);
    let records = test_event["Records"].as_array_mut().unwrap();
    records.push(digest_msg);
    records.push(empty_msg);
    let response = env
        .handler(Severity::Info)
        .await
        .handle(test_event)
        .await
        .unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert!(env.drain(&env.all_queue).await.is_empty());
    let kept = env
        .s3
        .list_objects_v2()
        .bucket(&env.quarantine_bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        kept.key_count(),
        Some(0),
        "a skipped object is not a bad one"
    );
}

#[tokio::test]
async fn keys_with_spaces_and_plus_signs_are_decoded() {
    let Some(env) = Env::new().await else { return };
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/odd name+plus (1).json.gz";
    env.put(key, sample_object()).await;
    let event = env.event("s3-object-created.json", Some(key));
    assert!(event.to_string().contains("odd+name%2Bplus+%281%29"));
    env.handler(Severity::Info)
        .await
        .handle(event)
        .await
        .expect("object found");
    assert_eq!(
        rule_counts(&env.drain(&env.all_queue).await),
        expected_rules()
    );
}

#[tokio::test]
async fn eventbridge_keys_are_read_as_they_are() {
    let Some(env) = Env::new().await else { return };
    // GIVEN an object whose key holds what URL decoding would change
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/a+b %2F 100%25.json.gz";
    env.put(key, sample_object()).await;
    // WHEN EventBridge announces it
    let event = env.event("eventbridge-s3-object-created.json", Some(key));
    assert!(event.to_string().contains("a+b %2F 100%25"));
    env.handler(Severity::Info)
        .await
        .handle(event)
        .await
        .expect("the object is found under its own key");
    // THEN it is read
    assert_eq!(
        rule_counts(&env.drain(&env.all_queue).await),
        expected_rules()
    );
}

#[tokio::test]
async fn a_failed_direct_invocation_is_retryable() {
    let Some(env) = Env::new().await else { return };
    let err = env
        .handler(Severity::Info)
        .await
        .handle(env.event("s3-object-created.json", None))
        .await
        .expect_err("the object does not exist");
    assert!(err.retryable);
    assert!(err.to_string().contains("failed to fetch s3://"), "{err}");
    let diag: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diag.error_type, "Retryable");
}

#[tokio::test]
async fn s3_batch_operations_tasks_are_answered_one_by_one() {
    let Some(env) = Env::new().await else { return };
    // GIVEN a good object, a missing one, a truncated gzip (S3 may still be writing it), a gzip
    // bomb over the cap, and a task naming no object, in one Batch Operations invocation
    env.put(EXAMPLE_KEY, sample_object()).await;
    let good_spaced =
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/with space+plus.json.gz";
    env.put(good_spaced, sample_object()).await;
    let truncated = sample_object()[..40].to_vec();
    env.put("AWSLogs/truncated.json.gz", truncated).await;
    env.put("AWSLogs/bomb.json.gz", gzip(&vec![b' '; 65 << 20]))
        .await;
    let mut event = env.event("s3-batch-operations-task.json", None);
    let task = |id: &str, key: &str| {
        // As S3 Batch Operations encodes keys: everything but letters, digits and `/._-`.
        const KEY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'/')
            .remove(b'.')
            .remove(b'_')
            .remove(b'-');
        let encoded = percent_encoding::utf8_percent_encode(key, KEY).to_string();
        json!({"taskId": id, "s3Key": encoded, "s3VersionId": null, "s3Bucket": env.bucket})
    };
    event["tasks"] = json!([
        task("good", EXAMPLE_KEY),
        task("missing", "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/gone.json.gz"),
        task("truncated", "AWSLogs/truncated.json.gz"),
        task("bomb", "AWSLogs/bomb.json.gz"),
        {"taskId": "nothing", "s3Key": "", "s3VersionId": null},
    ]);
    let handler = env.handler(Severity::Info).await;
    // WHEN log-ingest is invoked with it
    let response = handler.handle(event.clone()).await.expect("answered");
    // THEN each task has its own result, in the job's terms
    assert_eq!(response["invocationSchemaVersion"], "2.0");
    assert_eq!(response["invocationId"], event["invocationId"]);
    assert_eq!(response["treatMissingKeysAs"], "PermanentFailure");
    let codes: Vec<(String, String)> = response["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["taskId"].as_str().unwrap().to_owned(),
                r["resultCode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        codes,
        expect(&[
            ("good", "Succeeded"),
            ("missing", "PermanentFailure"),
            ("truncated", "TemporaryFailure"),
            ("bomb", "PermanentFailure"),
            ("nothing", "PermanentFailure"),
        ]),
        "{response}"
    );
    let strings: Vec<&str> = response["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resultString"].as_str().unwrap())
        .collect();
    assert!(strings[0].contains("findings"), "{}", strings[0]);
    assert!(strings[1].contains("NoSuchKey"), "{}", strings[1]);
    // AND the good object's findings are published, once: a second run of the job (or the
    // live notification) counts nothing again
    let first = env.drain(&env.all_queue).await.len();
    assert!(first > 0);
    handler.handle(event).await.expect("answered again");
    handler
        .handle(env.event("s3-object-created.json", Some(EXAMPLE_KEY)))
        .await
        .expect("live notification");
    assert!(
        env.drain(&env.all_queue).await.is_empty(),
        "nothing published twice"
    );

    // Schema 1.0 names the bucket by ARN; a key with a space and a plus sign, URL-encoded.
    let v1 = json!({
        "invocationSchemaVersion": "1.0",
        "invocationId": "v1",
        "job": {"id": "job-1"},
        "tasks": [{
            "taskId": "spaced",
            "s3Key": good_spaced.replace(' ', "%20").replace('+', "%2B"),
            "s3VersionId": "1",
            "s3BucketArn": format!("arn:aws:s3:::{}", env.bucket),
        }],
    });
    let response = handler.handle(v1).await.expect("answered");
    assert_eq!(response["invocationSchemaVersion"], "1.0");
    assert_eq!(
        response["results"][0]["resultCode"], "Succeeded",
        "{response}"
    );
}
