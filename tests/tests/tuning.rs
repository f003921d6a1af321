//! The tuning file read from S3 at cold start, against the emulator: an exception keeps a
//! finding from the topic, a staged rule's finding is settled in the state table and never
//! published, and a bad file fails the cold start naming its entry.

use cloudsec::state::FindingLedger;
use cloudsec_integration_tests::{date_in_days, local_findings, sample_object, Env, EXAMPLE_KEY};
use serde_json::json;

async fn put_tuning(env: &Env, key: &str, text: &str) -> String {
    env.s3
        .put_object()
        .bucket(&env.quarantine_bucket)
        .key(key)
        .body(text.as_bytes().to_vec().into())
        .send()
        .await
        .expect("put tuning");
    format!("s3://{}/{key}", env.quarantine_bucket)
}

#[tokio::test]
async fn a_tuning_file_in_s3_suppresses_and_stages_through_the_handler() {
    let Some(env) = Env::new().await else { return };
    // GIVEN a tuning file in S3 that excepts ci-bot's key rotation and stages the root login
    let uri = put_tuning(
        &env,
        "tuning/tuning.yaml",
        &format!(
            "exceptions:
  - rule: config.access-key-for-other-user
    match: {{user.target.name: ci-bot}}
    reason: the deploy pipeline rotates ci-bot's keys
    owner: platform-team@example.com
    expires: {}
rules:
  user.root-login: {{state: staged}}
",
            date_in_days(30)
        ),
    )
    .await;
    let handler = env
        .handler_from_env(&[("TUNING_URI", uri.as_str())])
        .await
        .expect("cold start");
    env.put(EXAMPLE_KEY, sample_object()).await;
    // WHEN the sample object is delivered
    let response = handler
        .handle(env.event("sqs-s3-object-created.json", None))
        .await
        .expect("handled");
    assert_eq!(response, json!({"batchItemFailures": []}));
    // THEN the topic has every finding but the excepted and the staged ones
    let published: Vec<(String, String)> = env
        .drain(&env.all_queue)
        .await
        .into_iter()
        .map(|(b, _)| {
            (
                b["rule"]["id"].as_str().unwrap_or("").to_owned(),
                b["finding"]["entity"]["id"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    let all = local_findings(&sample_object()).await;
    assert_eq!(published.len(), all.len() - 2, "{published:?}");
    assert!(!published.iter().any(|(r, _)| r == "user.root-login"));
    assert!(!published
        .iter()
        .any(|(r, e)| r == "config.access-key-for-other-user" && e == "ci-bot"));
    assert!(published
        .iter()
        .any(|(r, e)| r == "config.access-key-for-other-user" && e == "backup-svc"));
    // AND the staged finding is settled in the state table: delivered again, it is not sent
    let staged = all
        .iter()
        .find(|f| f.rule.id == "user.root-login")
        .expect("root login");
    let settled = env
        .store()
        .published(std::slice::from_ref(&staged.finding.id))
        .await
        .expect("ledger");
    assert!(settled.contains(&staged.finding.id));
}

#[tokio::test]
async fn a_bad_tuning_file_fails_the_cold_start_naming_the_entry() {
    let Some(env) = Env::new().await else { return };
    let uri = put_tuning(
        &env,
        "tuning/bad.yaml",
        "exceptions:\n  - {rule: config.access-key-for-other-user, match: {user.name: x}, reason: r, owner: o, expires: someday}\n",
    )
    .await;
    let e = env
        .handler_from_env(&[("TUNING_URI", uri.as_str())])
        .await
        .expect_err("a bad file");
    assert!(e.contains(&uri), "{e}");
    assert!(
        e.contains("exceptions[1] (rule config.access-key-for-other-user)"),
        "{e}"
    );
    assert!(e.contains("not a date"), "{e}");
    // A file that is not there fails it too.
    let missing = format!("s3://{}/tuning/none.yaml", env.quarantine_bucket);
    let e = env
        .handler_from_env(&[("TUNING_URI", missing.as_str())])
        .await
        .expect_err("a missing file");
    assert!(e.contains("none.yaml"), "{e}");
}
