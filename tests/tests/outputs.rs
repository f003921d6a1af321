//! Findings where people read them, against the emulator: the findings topic sends each
//! protocol its own message (a readable text to e-mail, the unchanged JSON document to SQS),
//! the chat topic Amazon Q Developer's custom notification, and a log value that tries to ping a
//! channel, plant a link or inject markup is harmless in both.

use std::collections::BTreeMap;

use cloudsec::detect::Severity;
use cloudsec_integration_tests::{
    local_findings, sample_object, sent_as, trail_file, trail_stopped_by, unique, Env, EXAMPLE_KEY,
};
use serde_json::{json, Value};

async fn chat_topic(env: &Env) -> (String, String) {
    let topic = env
        .sns
        .create_topic()
        .name(unique("chat"))
        .send()
        .await
        .expect("topic")
        .topic_arn
        .expect("arn");
    let queue = env.queue_on(&topic, None).await;
    (topic, queue)
}

/// Checks one chat message against Amazon Q Developer's custom-notification schema and the
/// chat applications' limits.
fn check_chat(m: &Value) {
    assert_eq!(m["version"], "1.0");
    assert_eq!(m["source"], "custom");
    let content = &m["content"];
    let title = content["title"].as_str().expect("title");
    let description = content["description"].as_str().expect("description");
    assert!(!title.is_empty() && title.chars().count() <= 250, "{title}");
    assert!(!description.is_empty() && description.chars().count() <= 3000);
    assert_eq!(content["textType"], "client-markdown");
    for list in ["nextSteps", "keywords"] {
        let items = content[list].as_array().expect(list);
        assert!(items.iter().all(Value::is_string), "{list}");
    }
    assert!(m["metadata"]["threadId"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let known: Vec<&str> = vec!["version", "source", "id", "content", "metadata"];
    assert!(m
        .as_object()
        .expect("object")
        .keys()
        .all(|k| known.contains(&k.as_str())));
}

#[tokio::test]
async fn e_mail_gets_text_sqs_the_json_document_and_chat_its_notification() {
    let Some(env) = Env::new().await else { return };
    // GIVEN an e-mail subscription beside the raw SQS one, and a chat topic
    env.sns
        .subscribe()
        .topic_arn(&env.topic_arn)
        .protocol("email")
        .endpoint("secops@example.com")
        .send()
        .await
        .expect("e-mail subscription");
    let (chat, chat_queue) = chat_topic(&env).await;
    let handler = env
        .handler_from_env(&[("CHAT_TOPIC_ARN", chat.as_str())])
        .await
        .expect("cold start");
    env.put(EXAMPLE_KEY, sample_object()).await;
    // WHEN the sample object is delivered
    let response = handler
        .handle(env.event("sqs-s3-object-created.json", None))
        .await
        .expect("handled");
    assert_eq!(response, json!({"batchItemFailures": []}));
    let expected: BTreeMap<String, cloudsec::finding::Finding> = local_findings(&sample_object())
        .await
        .into_iter()
        .map(|f| (f.finding.id.clone(), f))
        .collect();
    // THEN SQS gets each finding's JSON document, as before: no per-protocol wrapper
    let docs = env.drain(&env.all_queue).await;
    assert_eq!(docs.len(), expected.len());
    for (doc, _) in &docs {
        assert!(doc.get("default").is_none() && doc.get("email").is_none());
        let id = doc["finding"]["id"].as_str().expect("id");
        let want = serde_json::to_value(&expected[id]).expect("json");
        for key in ["message", "rule", "event", "cloud"] {
            let (mut got, mut want) = (doc[key].clone(), want[key].clone());
            for v in [&mut got, &mut want] {
                if let Some(o) = v.as_object_mut() {
                    o.remove("ingested");
                }
            }
            assert_eq!(got, want, "{key} of {id}");
        }
    }
    // AND e-mail gets a text that says what happened, what to do and the finding's id
    let mails = sent_as(&env.topic_arn, "email").await;
    assert_eq!(mails.len(), expected.len());
    for (subject, text) in &mails {
        assert!(subject.starts_with('['), "{subject}");
        assert!(!text.trim_start().starts_with('{'), "{text}");
        let id = expected
            .keys()
            .find(|id| text.contains(&format!("Finding id: {id}")))
            .unwrap_or_else(|| panic!("no finding id in {text}"));
        let f = &expected[id];
        assert!(text.contains(&f.rule.name), "{text}");
        assert!(
            text.contains("Resource:") && text.contains("When:"),
            "{text}"
        );
        if !f.finding.action_plan.is_empty() {
            assert!(text.contains("What to do:\n  1. "), "{text}");
        }
    }
    if let Some((_, one)) = mails
        .iter()
        .find(|(s, _)| s.contains("Console login without MFA"))
    {
        // The e-mail the README shows.
        println!("--- an e-mail ---\n{one}");
    }
    // AND the chat topic gets one notification per finding, threaded by the finding's id
    let notes = env.drain(&chat_queue).await;
    assert_eq!(notes.len(), expected.len());
    for (m, _) in &notes {
        check_chat(m);
        assert!(expected.contains_key(m["metadata"]["threadId"].as_str().unwrap_or("")));
    }
}

#[tokio::test]
async fn hostile_log_values_are_harmless_in_e_mail_and_chat() {
    let Some(env) = Env::new().await else { return };
    let (chat, chat_queue) = chat_topic(&env).await;
    let handler = env
        .handler_from_env(&[("CHAT_TOPIC_ARN", chat.as_str())])
        .await
        .expect("cold start");
    // GIVEN a trail stopped by a user whose name pings the channel, plants a link and a script
    let name = "eve@channel <!here> [reset your password](https://evil.example/login) <script>alert(1)</script>";
    let record = trail_stopped_by(name);
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/111122223333_CloudTrail_us-east-1_20261101T1000Z_hostile.json";
    env.put(key, trail_file(&[record])).await;
    let response = handler
        .handle(env.event("sqs-s3-object-created.json", Some(key)))
        .await
        .expect("handled");
    assert_eq!(response, json!({"batchItemFailures": []}));
    let _ = Severity::Info;
    // THEN neither medium carries a live mention, link or markup from the log
    let mails = sent_as(&env.topic_arn, "email").await;
    assert!(!mails.is_empty());
    for (_, text) in &mails {
        for live in ["@channel", "https://", "<script>"] {
            assert!(!text.contains(live), "{live} in {text}");
        }
    }
    let notes = env.drain(&chat_queue).await;
    assert!(!notes.is_empty());
    for (m, _) in &notes {
        check_chat(m);
        let all = m.to_string();
        for live in ["@channel", "<!here>", "https://", "<script>", "](http"] {
            assert!(!all.contains(live), "{live} in {all}");
        }
    }
}

/// ASFF's required fields and limits, on one document.
fn check_asff(d: &Value) {
    for field in [
        "SchemaVersion",
        "Id",
        "ProductArn",
        "GeneratorId",
        "AwsAccountId",
        "CreatedAt",
        "UpdatedAt",
        "Title",
        "Description",
    ] {
        assert!(
            d[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field} in {d}"
        );
    }
    assert_eq!(d["SchemaVersion"], "2018-10-08");
    assert!(d["Types"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(d["Severity"]["Label"].is_string());
    assert!(d["FindingProviderFields"]["Severity"]["Label"].is_string());
    assert!(d["Title"].as_str().unwrap_or("").chars().count() <= 256);
    assert!(d["Description"].as_str().unwrap_or("").chars().count() <= 1024);
    let resources = d["Resources"].as_array().expect("resources");
    assert!((1..=32).contains(&resources.len()));
    assert!(d.to_string().len() <= 240 * 1024);
}

async fn hub_findings(env: &Env) -> Vec<aws_sdk_securityhub::types::AwsSecurityFinding> {
    aws_sdk_securityhub::Client::new(&env.aws)
        .get_findings()
        .max_results(100)
        .send()
        .await
        .expect("GetFindings")
        .findings
        .unwrap_or_default()
}

#[tokio::test]
async fn findings_are_imported_into_security_hub_and_their_own_import_event_is_dropped() {
    let Some(env) = Env::new().await else { return };
    // GIVEN a product of an account of its own (moto's Security Hub is one per account)
    let account = format!("{:012}", 100_000_000_000u64 + u64::from(std::process::id()));
    let product = cloudsec::publish::asff::Product::default_of("aws", "us-east-1", &account);
    let handler = env
        .handler_from_env(&[("SECURITY_HUB_PRODUCT_ARN", product.arn.as_str())])
        .await
        .expect("cold start");
    env.put(EXAMPLE_KEY, sample_object()).await;
    let response = handler
        .handle(env.event("sqs-s3-object-created.json", None))
        .await
        .expect("handled");
    assert_eq!(response, json!({"batchItemFailures": []}));
    // THEN every published finding is in Security Hub under its id, with the fields ASFF asks
    let expected = local_findings(&sample_object()).await;
    let imported: Vec<_> = hub_findings(&env)
        .await
        .into_iter()
        .filter(|f| f.product_arn() == Some(product.arn.as_str()))
        .collect();
    let ids: std::collections::BTreeSet<&str> = imported.iter().filter_map(|f| f.id()).collect();
    assert_eq!(ids.len(), expected.len());
    for f in &expected {
        assert!(
            ids.contains(f.finding.id.as_str()),
            "{} missing",
            f.finding.id
        );
        check_asff(&cloudsec::publish::asff::document(f, &product));
    }
    for f in &imported {
        assert_eq!(f.aws_account_id(), Some(account.as_str()));
        assert!(f.generator_id().is_some_and(|g| g.starts_with("cloudsec/")));
        assert!(f
            .finding_provider_fields()
            .and_then(|p| p.severity())
            .is_some());
        assert!(f
            .resources()
            .iter()
            .any(|r| r.id() == Some("AWS::::Account:111122223333")));
    }

    // WHEN a finding is imported again with a higher count, THEN it keeps its Id
    let sink = cloudsec::publish::securityhub::SecurityHubSink::new(
        aws_sdk_securityhub::Client::new(&env.aws),
        product.clone(),
    );
    use cloudsec::publish::FindingSink;
    let mut again = expected[0].clone();
    again.finding.count += 7;
    assert!(sink.publish(&[&again]).await.expect("import").is_empty());
    let now: Vec<_> = hub_findings(&env)
        .await
        .into_iter()
        .filter(|f| f.id() == Some(again.finding.id.as_str()))
        .collect();
    assert_eq!(now.len(), 1);
    assert_eq!(
        now[0]
            .product_fields()
            .and_then(|p| p.get("cloudsec/count"))
            .map(String::as_str),
        Some(again.finding.count.to_string().as_str())
    );

    // AND an imported finding of ours, coming back as a "Findings - Imported" event, produces
    // nothing, where the same document from another generator, a failed control, does
    let mut ours = cloudsec::publish::asff::document(&expected[0], &product);
    ours["Compliance"] = json!({"Status": "FAILED", "SecurityControlId": "S3.8"});
    ours["ProductFields"]["aws/securityhub/ProductName"] = json!("Security Hub");
    let mut event = env.event("eventbridge-securityhub-findings-imported.json", None);
    let finding_handler = env.finding_handler(Severity::Info).await;
    let mut other = ours.clone();
    other["GeneratorId"] = json!("security-control/S3.8");
    other["Id"] = json!("another-product-finding");
    for (doc, id, findings) in [(other, "e-other", 1usize), (ours, "e-ours", 0)] {
        event["detail"]["findings"] = json!([doc]);
        event["id"] = json!(id);
        let delivered = finding_handler
            .process_event(&event)
            .await
            .expect("delivered");
        assert_eq!(delivered.summary.records, 1);
        assert_eq!(delivered.fired.len(), findings, "{id}");
    }
}
