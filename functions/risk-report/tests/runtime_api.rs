//! The real `risk-report` binary under a Runtime API served by the test, against the emulator:
//! the schedule's event (as of a day after the store's findings) writes the report to S3 and
//! publishes the digest; a cold start without its bucket reports to `/init/error`.

use std::path::Path;
use std::time::Duration;

use cloudsec_integration_tests::runtime_api::{Answer, RuntimeApi};
use cloudsec_integration_tests::{create_findings_table, unique, Env};

const BINARY: &str = env!("CARGO_BIN_EXE_risk-report");

#[tokio::test]
async fn the_scheduled_event_writes_the_report_and_publishes_the_digest() {
    let Some(env) = Env::new().await else { return };
    let table = unique("findings");
    create_findings_table(&env.dynamodb, &table).await;
    let bucket = unique("reports");
    env.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    // GIVEN the sample trail's findings in the store, kept by the deployed log-ingest
    let ingest = env.handler_keeping(&table).await;
    env.put(
        cloudsec_integration_tests::EXAMPLE_KEY,
        cloudsec_integration_tests::sample_object(),
    )
    .await;
    ingest
        .handle(env.event("s3-object-created.json", None))
        .await
        .unwrap();
    let published = env.drain(&env.all_queue).await.len();
    assert!(published > 0);
    // WHEN the binary gets the schedule's event (drawn as of the next day)
    let mut event = env.event("scheduler-risk-report.json", None);
    event["at"] = "2026-11-02T06:00:00Z".into();
    let api = RuntimeApi::serve(vec![event]);
    let mut vars = env.function_env();
    vars.extend([
        ("FINDINGS_TABLE_NAME", table.as_str()),
        ("REPORT_BUCKET", bucket.as_str()),
    ]);
    let child = api.start(Path::new(BINARY), &vars);
    let output = api.finish(child, Duration::from_secs(120));
    // THEN it answers what it wrote, the page is in S3, and the digest is on the topic
    let answers = api.answers();
    let Answer::Response(run) = &answers["req-0"] else {
        panic!("{answers:?}\n{output}")
    };
    assert_eq!(
        run["report"],
        format!("s3://{bucket}/reports/2026-11-02.html")
    );
    assert_eq!(run["findings"].as_u64().unwrap() as usize, published);
    let page = env
        .s3
        .get_object()
        .bucket(&bucket)
        .key("reports/2026-11-02.html")
        .send()
        .await
        .expect("the report");
    assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));
    let digests: Vec<_> = env
        .drain(&env.all_queue)
        .await
        .into_iter()
        .filter(|(_, attrs)| attrs.get("category").map(String::as_str) == Some("digest"))
        .collect();
    assert_eq!(digests.len(), 1);
    assert_eq!(
        digests[0].0["new_count"].as_u64().unwrap() as usize,
        published
    );
}

#[tokio::test]
async fn a_cold_start_without_its_bucket_is_reported_to_init_error() {
    let Some(env) = Env::new().await else { return };
    let api = RuntimeApi::serve(vec![serde_json::json!({"source": "cloudsec.schedule"})]);
    let vars = [
        ("FINDINGS_TOPIC_ARN", env.topic_arn.as_str()),
        ("FINDINGS_TABLE_NAME", "findings"),
    ];
    let child = api.start(Path::new(BINARY), &vars);
    let output = api.finish(child, Duration::from_secs(60));
    let (kind, body) = api
        .init_error()
        .unwrap_or_else(|| panic!("no /init/error\n{output}"));
    assert_eq!(kind.as_deref(), Some("Runtime.InitError"));
    assert_eq!(body["errorType"], "ConfigError");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("REPORT_BUCKET"),
        "{body}"
    );
}
