//! Hostile input through the log-ingest handler against the emulator: every record is used or
//! kept as bad, and one bad record never blocks the others.

use std::collections::BTreeSet;

use cloudsec::detect::Severity;
use cloudsec_integration_tests::*;
use serde_json::{json, Value};

fn root_identity(account: &str) -> Value {
    json!({"type": "Root", "accountId": account, "arn": format!("arn:aws:iam::{account}:root")})
}

fn root_call(time: &str, account: &str) -> Value {
    let mut r = ct(
        time,
        "s3.amazonaws.com",
        "ListBuckets",
        root_identity(account),
        json!({}),
    );
    r["recipientAccountId"] = account.into();
    r
}

/// Handles an S3 notification of `key` and returns the published findings' (rule, account).
async fn deliver(env: &Env, key: &str) -> Vec<(String, String, Value)> {
    env.handler(Severity::Info)
        .await
        .handle(env.event("s3-object-created.json", Some(key)))
        .await
        .unwrap_or_else(|e| panic!("{key}: {e}"));
    env.drain(&env.all_queue)
        .await
        .into_iter()
        .map(|(f, attrs)| {
            (
                f["rule"]["id"].as_str().unwrap_or_default().to_owned(),
                attrs.get("account_id").cloned().unwrap_or_default(),
                f,
            )
        })
        .collect()
}

#[tokio::test]
async fn an_empty_account_id_does_not_block_the_object() {
    let Some(env) = Env::new().await else { return };
    // GIVEN root use in an account named "" and in a real account, in one object
    let body = trail_file(&[
        root_call("2026-11-02T08:00:00Z", ""),
        root_call("2026-11-02T08:01:00Z", "111122223333"),
    ]);
    env.put(
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/empty.json",
        body,
    )
    .await;
    // WHEN it is delivered
    let got = deliver(
        &env,
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/empty.json",
    )
    .await;
    // THEN both findings are published, the empty account as "unknown"
    let accounts: BTreeSet<&str> = got
        .iter()
        .filter(|(rule, _, _)| rule == "user.root-activity")
        .map(|(_, a, _)| a.as_str())
        .collect();
    assert_eq!(accounts, BTreeSet::from(["111122223333", "unknown"]));
}

#[tokio::test]
async fn framings_a_reader_meets_are_all_read() {
    let Some(env) = Env::new().await else { return };
    // GIVEN one object with a byte-order mark, `Records` after another key, a second
    // `Records` array, and a second document on the next line
    let first = json!({"Records": [root_call("2026-11-02T08:00:00Z", "111111111111")]});
    let mut text = String::from("\u{feff}{\"version\":\"1\",");
    text.push_str(&first.to_string()[1..first.to_string().len() - 1]);
    text.push_str(&format!(
        ",\"Records\":[{}]}}\n{}\n",
        root_call("2026-11-02T08:00:00Z", "222222222222"),
        json!({"Records": [root_call("2026-11-02T08:00:00Z", "333333333333")]})
    ));
    let key = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/02/framings.json.gz";
    env.put(key, gzip(text.as_bytes())).await;
    // WHEN it is delivered
    let got = deliver(&env, key).await;
    // THEN the records of all three arrays made their findings
    let accounts: BTreeSet<&str> = got
        .iter()
        .filter(|(rule, _, _)| rule == "user.root-activity")
        .map(|(_, a, _)| a.as_str())
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from(["111111111111", "222222222222", "333333333333"])
    );
}

#[tokio::test]
async fn json_lines_mixing_sources_and_a_key_too_long_for_its_quarantine() {
    let Some(env) = Env::new().await else { return };
    // GIVEN JSON lines under a key of no known layout, so long that its quarantine key would
    // pass S3's limit: a CloudTrail record, a GuardDuty event, a broken line
    let guardduty = std::fs::read_to_string(
        root().join("samples/guardduty/guardduty-findings-2026-11-01.jsonl"),
    )
    .expect("sample");
    let guardduty = guardduty.lines().next().expect("line");
    let text = format!(
        "{}\n{guardduty}\n{{\"broken\": \n",
        root_call("2026-11-02T08:00:00Z", "111122223333")
    );
    let key = format!("exports/{}/mixed.jsonl", "x".repeat(990));
    env.put(&key, text.into_bytes()).await;
    // WHEN it is delivered
    let got = deliver(&env, &key).await;
    // THEN the CloudTrail record and the GuardDuty finding both made findings
    let rules: BTreeSet<&str> = got.iter().map(|(r, _, _)| r.as_str()).collect();
    assert!(rules.contains("user.root-activity"), "{rules:?}");
    assert!(
        rules.iter().any(|r| r.starts_with("threat.guardduty")),
        "{rules:?}"
    );
    // AND the broken line is kept under a shortened key that names the object inside
    let listed = env
        .s3
        .list_objects_v2()
        .bucket(&env.quarantine_bucket)
        .prefix("quarantine/long-keys/")
        .send()
        .await
        .expect("list");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let body = env
        .s3
        .get_object()
        .bucket(&env.quarantine_bucket)
        .key(keys[0])
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    let text = String::from_utf8_lossy(&body);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0]["object"]
        .as_str()
        .unwrap()
        .ends_with("/mixed.jsonl"));
    assert!(lines[1]["raw"].as_str().unwrap().contains("broken"));
}

#[tokio::test]
async fn every_bad_record_of_a_large_object_is_streamed_to_the_quarantine() {
    let Some(env) = Env::new().await else { return };
    // GIVEN an object of 100,000 bad lines (about 20 MB of quarantine, more than two parts of a
    // multipart upload) around one root call
    let mut text = root_call("2026-11-02T08:00:00Z", "111122223333").to_string();
    text.push('\n');
    let pad = "x".repeat(120);
    for i in 0..100_000 {
        text.push_str(&format!("not a record {i} {pad}\n"));
    }
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/many-bad.json.gz";
    env.put(key, gzip(text.as_bytes())).await;
    // WHEN it is delivered
    let got = deliver(&env, key).await;
    assert!(got.iter().any(|(rule, _, _)| rule == "user.root-activity"));
    // THEN the quarantine holds every bad record, in order
    let body = env
        .s3
        .get_object()
        .bucket(&env.quarantine_bucket)
        .key(format!("quarantine/{}/{key}.bad.jsonl", env.bucket))
        .send()
        .await
        .expect("quarantine object")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    assert!(
        body.len() > 2 * cloudsec::engine::ports::QUARANTINE_PART_BYTES,
        "{} bytes: a multipart upload",
        body.len()
    );
    let text = String::from_utf8_lossy(&body);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 100_000);
    let last: Value = serde_json::from_str(lines[99_999]).expect("a JSON line");
    assert_eq!(last["location"]["record"]["line"], 100_001);
    assert!(last["raw"]
        .as_str()
        .unwrap()
        .starts_with("not a record 99999"));
}
