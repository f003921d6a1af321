//! GuardDuty and Security Hub through `finding-ingest`, WAF and Network Firewall objects
//! through `log-ingest`, against the emulator: findings reach SNS (and the subscribed queue)
//! with their attributes, once.

use std::collections::{BTreeMap, HashMap};

use cloudsec::detect::Severity;
use cloudsec_integration_tests::{root, Env};
use serde_json::{json, Value};

type Delivered = Vec<(Value, HashMap<String, String>)>;

fn rules(findings: &Delivered) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (f, _) in findings {
        *m.entry(f["rule"]["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    m
}

fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(r, n)| (r.to_string(), *n)).collect()
}

/// Every delivered finding carries attributes that match its document.
fn check_attributes(findings: &Delivered, dataset: &str) {
    for (f, attrs) in findings {
        assert_eq!(
            attrs["severity"],
            f["finding"]["severity"].as_str().unwrap()
        );
        assert_eq!(attrs["rule_id"], f["rule"]["id"].as_str().unwrap());
        assert_eq!(
            attrs["category"],
            f["finding"]["category"].as_str().unwrap()
        );
        assert_eq!(attrs["dataset"], dataset);
        assert_eq!(attrs["account_id"], "111122223333");
        assert_eq!(attrs["severity_score"], f["event"]["severity"].to_string());
        assert!(!f["finding"]["evidence"].as_array().unwrap().is_empty());
    }
}

fn event_file(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("events").join(name)).unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_guardduty_event_reaches_sns_once_and_samples_never_do() {
    let Some(env) = Env::new().await else { return };
    let handler = env.finding_handler(Severity::Info).await;
    // GIVEN GuardDuty's EventBridge event of exfiltrated instance credentials (severity 8)
    let event = event_file("eventbridge-guardduty-finding.json");
    // WHEN finding-ingest handles it, and then the same event again (EventBridge redelivers)
    handler.handle(event.clone()).await.expect("first delivery");
    handler.handle(event.clone()).await.expect("redelivery");
    // THEN one finding, raised a band, with GuardDuty's attributes
    let findings = env.drain(&env.all_queue).await;
    assert_eq!(
        rules(&findings),
        expect(&[("threat.guardduty-anomalous-behavior", 1)])
    );
    check_attributes(&findings, "aws.guardduty");
    let (f, attrs) = &findings[0];
    assert_eq!(attrs["severity"], "critical");
    assert_eq!(attrs["category"], "active-threats");
    assert_eq!(f["finding"]["subcategory"], "api");
    assert_eq!(f["finding"]["entity"]["id"], "ASIAEXAMPLEEXFILKEY1");
    assert_eq!(f["source"]["ip"], "198.51.100.77");

    // AND a sample finding (GuardDuty's "generate sample findings"), through SQS, alerts no one
    let mut sample = event.clone();
    sample["id"] = "sample-event-1".into();
    sample["detail"]["id"] = "sample-finding".into();
    sample["detail"]["service"]["additionalInfo"] = json!({"sample": true});
    let sqs = json!({"Records": [{"messageId": "m1", "eventSource": "aws:sqs",
        "body": sample.to_string()}]});
    let response = handler.handle(sqs).await.expect("sqs batch");
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert!(env.drain(&env.all_queue).await.is_empty());
}

#[tokio::test]
async fn a_security_hub_event_with_several_findings_and_a_control_that_starts_failing() {
    let Some(env) = Env::new().await else { return };
    let handler = env.finding_handler(Severity::Info).await;
    // GIVEN an "Imported" event with three control findings: two FAILED, one PASSED
    let event = event_file("eventbridge-securityhub-findings-imported.json");
    handler.handle(event.clone()).await.expect("imported");
    // THEN the two failures are findings, each with its control's severity
    let findings = env.drain(&env.all_queue).await;
    assert_eq!(rules(&findings), expect(&[("control.failed", 2)]));
    check_attributes(&findings, "aws.securityhub_findings");
    let severities: BTreeMap<String, String> = findings
        .iter()
        .map(|(f, a)| {
            (
                f["rule"]["id"].to_string() + f["finding"]["entity"]["id"].as_str().unwrap(),
                a["severity"].clone(),
            )
        })
        .collect();
    assert!(
        severities.values().any(|s| s == "critical"),
        "{severities:?}"
    );
    assert!(severities.values().any(|s| s == "high"), "{severities:?}");

    // WHEN, in a later event, the control that passed fails (state in DynamoDB across events)
    let mut later = event.clone();
    later["id"] = "later-event".into();
    let mut f = later["detail"]["findings"][2].clone();
    assert_eq!(f["Compliance"]["Status"], "PASSED");
    f["Compliance"]["Status"] = "FAILED".into();
    f["UpdatedAt"] = "2026-11-02T09:14:10.000Z".into();
    later["detail"]["findings"] = json!([f]);
    handler.handle(later).await.expect("later");
    // THEN it is failed, and newly failing
    let findings = env.drain(&env.all_queue).await;
    assert_eq!(
        rules(&findings),
        expect(&[("control.failed", 1), ("control.newly-failing", 1)])
    );
    // AND a fix (FAILED then PASSED) is not "newly failing"
    let mut fixed = event_file("eventbridge-securityhub-findings-imported.json");
    fixed["id"] = "fixed-event".into();
    let mut g = fixed["detail"]["findings"][0].clone();
    g["Compliance"]["Status"] = "PASSED".into();
    g["UpdatedAt"] = "2026-11-02T10:00:00.000Z".into();
    fixed["detail"]["findings"] = json!([g]);
    handler.handle(fixed).await.expect("fixed");
    assert!(env.drain(&env.all_queue).await.is_empty());
}

/// The key of the object an S3 event file names.
fn key_of(event: &Value) -> String {
    event["Records"][0]["s3"]["object"]["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn waf_and_network_firewall_objects_reach_sns() {
    for (event_name, sample_dir, dataset, want) in [
        (
            "s3-waf-object-created.json",
            "waf",
            "aws.waf",
            expect(&[
                ("web.blocked-burst", 1),
                ("web.managed-rule-match", 2),
                ("web.rate-based-rule", 1),
            ]),
        ),
        (
            "s3-network-firewall-object-created.json",
            "network-firewall",
            "aws.firewall_logs",
            expect(&[("network.alert-signature", 1), ("network.blocked-burst", 1)]),
        ),
    ] {
        let Some(env) = Env::new().await else { return };
        // GIVEN the sample log object at the key AWS writes it to
        let event = env.event(event_name, None);
        let key = key_of(&event);
        let body = std::fs::read(root().join("samples").join(sample_dir).join(&key))
            .unwrap_or_else(|e| panic!("sample for {key}: {e}"));
        env.put(&key, body).await;
        // WHEN log-ingest gets the notification
        env.handler(Severity::Info)
            .await
            .handle(event)
            .await
            .unwrap_or_else(|e| panic!("{event_name}: {e}"));
        // THEN the findings of that source reach SNS with its attributes
        let findings = env.drain(&env.all_queue).await;
        assert_eq!(rules(&findings), want, "{event_name}");
        check_attributes(&findings, dataset);
        for (f, _) in &findings {
            assert_eq!(
                f["finding"]["evidence"][0]["log"]["file"]["path"],
                format!("s3://{}/{key}", env.bucket)
            );
        }
    }
}

#[tokio::test]
async fn a_waf_object_under_an_unknown_prefix_is_recognized_by_its_content() {
    let Some(env) = Env::new().await else { return };
    let event = env.event("s3-waf-object-created.json", None);
    let key = key_of(&event);
    let body = std::fs::read(root().join("samples/waf").join(&key)).unwrap();
    // GIVEN a WAF log delivered by a Firehose stream to a prefix of the team's choosing
    let custom = "edge/2026/11/01/10/part-0001.gz";
    env.put(custom, body).await;
    let event = env.event("s3-object-created.json", Some(custom));
    // WHEN log-ingest reads it (its key names no source)
    env.handler(Severity::Info)
        .await
        .handle(event)
        .await
        .expect("handled");
    // THEN its records tell it is WAF, and its findings are WAF's
    let findings = env.drain(&env.all_queue).await;
    assert_eq!(rules(&findings).get("web.blocked-burst"), Some(&1));
    check_attributes(&findings, "aws.waf");
}

#[tokio::test]
async fn an_s3_notification_sent_to_finding_ingest_fails_not_retryable() {
    let Some(env) = Env::new().await else { return };
    // GIVEN an S3 event: a Records array that is no SQS batch
    let event = env.event("s3-object-created.json", None);
    // WHEN finding-ingest gets it
    let err = env
        .finding_handler(Severity::Info)
        .await
        .handle(event)
        .await
        .expect_err("not for finding-ingest");
    // THEN it fails, not retryable, saying what came
    assert!(!err.retryable);
    assert!(err.to_string().contains("aws:s3"), "{err}");
    let diag: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diag.error_type, "NonRetryable");
}
