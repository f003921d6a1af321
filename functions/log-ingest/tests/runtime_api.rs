//! The real `log-ingest` binary under a Runtime API served by the test, against the emulator:
//! `main.rs`, the configuration from the environment and the cold start, as Lambda runs them,
//! handed every `events/` file meant for it.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use cloudsec_integration_tests::runtime_api::{Answer, RuntimeApi};
use cloudsec_integration_tests::{local_findings, root, sample_object, Env};
use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_log-ingest");

/// Every sample log object, at the key AWS would write it (`samples/<source>/<key>`).
async fn upload_samples(env: &Env) {
    for source in ["cloudtrail", "waf", "network-firewall"] {
        let dir = root().join("samples").join(source);
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("samples") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let key = path
                        .strip_prefix(&dir)
                        .expect("under the folder")
                        .to_string_lossy()
                        .into_owned();
                    env.put(&key, std::fs::read(&path).expect("sample")).await;
                }
            }
        }
    }
}

#[tokio::test]
async fn the_binary_answers_every_event_as_lambda_expects() {
    let Some(env) = Env::new().await else { return };
    upload_samples(&env).await;
    // GIVEN every event of `events/` meant for log-ingest, and one that is not
    let names = [
        "sqs-s3-object-created.json",
        "sqs-s3-test-event.json",
        "sqs-sns-s3-object-created.json",
        "s3-object-created.json",
        "sns-s3-object-created.json",
        "eventbridge-s3-object-created.json",
        "s3-waf-object-created.json",
        "s3-network-firewall-object-created.json",
        "eventbridge-guardduty-finding.json",
    ];
    let events: Vec<Value> = names.iter().map(|n| env.event(n, None)).collect();
    let api = RuntimeApi::serve(events);
    // WHEN the binary runs under the Runtime API with the template's variables
    let child = api.start(Path::new(BINARY), &env.function_env());
    let output = api.finish(child, Duration::from_secs(120));
    let answers = api.answers();
    assert_eq!(
        answers.len(),
        names.len(),
        "answers {answers:?}; output:\n{output}"
    );
    // THEN each SQS batch answers with its (empty) failures, each direct trigger succeeds,
    // and the EventBridge finding event, which is not for this function, fails as not
    // retryable, saying why
    for (i, name) in names.iter().enumerate() {
        let answer = &answers[&format!("req-{i}")];
        match *name {
            n if n.starts_with("sqs-") => {
                assert_eq!(
                    answer,
                    &Answer::Response(json!({"batchItemFailures": []})),
                    "{n}"
                )
            }
            "eventbridge-guardduty-finding.json" => match answer {
                Answer::Error { body, .. } => {
                    assert_eq!(body["errorType"], "NonRetryable", "{body}");
                    let message = body["errorMessage"].as_str().unwrap_or("");
                    assert!(message.contains("not for log-ingest"), "{message}");
                }
                other => panic!("{name}: {other:?}"),
            },
            n => assert!(matches!(answer, Answer::Response(_)), "{n}: {answer:?}"),
        }
    }
    // AND the binary kept asking for the next event, as a runtime does
    assert!(api.polls() > names.len() as u32);
    // AND the sample CloudTrail object, named by six of the events, published its findings
    // once; the WAF and Network Firewall objects theirs
    let published = env.drain(&env.all_queue).await;
    let ids: Vec<String> = published
        .iter()
        .map(|(b, _)| b["finding"]["id"].as_str().unwrap_or("").to_owned())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a finding published twice");
    let cloudtrail: BTreeSet<String> = local_findings(&sample_object())
        .await
        .into_iter()
        .map(|f| f.finding.id)
        .collect();
    assert!(cloudtrail.iter().all(|id| unique.contains(id)));
    let datasets: BTreeSet<&str> = published
        .iter()
        .filter_map(|(b, _)| b["event"]["dataset"].as_str())
        .collect();
    for d in ["aws.cloudtrail", "aws.waf", "aws.firewall_logs"] {
        assert!(datasets.contains(d), "no {d} finding in {datasets:?}");
    }
    // AND its log lines are JSON, as under the template's LoggingConfig
    let processed: Vec<Value> = output
        .lines()
        .filter(|l| l.contains("input processed"))
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON log line"))
        .collect();
    assert!(processed.iter().all(|l| l["level"] == "INFO"), "{output}");
    assert!(processed.len() >= 3, "{output}");
}

#[tokio::test]
async fn a_cold_start_that_fails_is_reported_to_init_error() {
    // GIVEN a function without its findings topic
    let api = RuntimeApi::serve(vec![json!({})]);
    let child = api.start(
        Path::new(BINARY),
        &[("STATE_TABLE_NAME", "state"), ("AWS_REGION", "us-east-1")],
    );
    // WHEN it starts
    let output = api.finish(child, Duration::from_secs(30));
    // THEN Lambda is told, as Runtime.InitError naming the variable, and no event is taken
    let (header, body) = api
        .init_error()
        .unwrap_or_else(|| panic!("no /init/error; {output}"));
    assert_eq!(header.as_deref(), Some("Runtime.InitError"));
    assert_eq!(body["errorType"], "ConfigError");
    let message = body["errorMessage"].as_str().unwrap_or("");
    assert!(message.contains("FINDINGS_TOPIC_ARN"), "{message}");
    assert_eq!(api.polls(), 0);
    assert!(api.answers().is_empty());
}
