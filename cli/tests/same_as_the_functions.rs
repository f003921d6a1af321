//! The CLI and the deployed function are one engine: for the sample logs, `cloudsec scan`
//! reports the findings that `log-ingest` publishes for the same objects uploaded to the
//! emulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cloudsec::detect::Severity;
use cloudsec_integration_tests::{encode_key, root, Env};
use serde_json::{json, Value};

/// Every sample file, sorted as the CLI reads them, with the key it has in its bucket.
fn samples() -> Vec<(PathBuf, String)> {
    let base = root().join("samples");
    let mut out = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("samples") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                // samples/<source>/<key>
                let rel = path.strip_prefix(&base).expect("under samples");
                let key: PathBuf = rel.components().skip(1).collect();
                out.push((path.clone(), key.to_string_lossy().into_owned()));
            }
        }
    }
    out.sort();
    out
}

/// (rule, entity, severity) by finding id.
fn by_id(findings: impl IntoIterator<Item = Value>) -> BTreeMap<String, (String, String, String)> {
    findings
        .into_iter()
        .map(|f| {
            let id = f["finding"]["id"].as_str().unwrap_or_default().to_owned();
            let entity = format!(
                "{}:{}",
                f["finding"]["entity"]["type"].as_str().unwrap_or_default(),
                f["finding"]["entity"]["id"].as_str().unwrap_or_default()
            );
            let rule = f["rule"]["id"].as_str().unwrap_or_default().to_owned();
            let severity = f["finding"]["severity"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (id, (rule, entity, severity))
        })
        .collect()
}

#[tokio::test]
async fn the_cli_reports_what_log_ingest_publishes_for_the_samples() {
    let Some(env) = Env::new().await else { return };
    // GIVEN the sample logs, on disk and uploaded at their keys
    let samples = samples();
    assert!(samples.len() >= 5, "the samples are there");
    // WHEN the CLI scans the folder
    let out = Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .args(["scan", "--format", "json"])
        .arg(root().join("samples"))
        .output()
        .expect("cloudsec runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli = by_id(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("a finding per line")),
    );
    // AND log-ingest gets each object's notification, in the same order
    let handler = env.handler(Severity::Info).await;
    for (path, key) in &samples {
        env.put(key, std::fs::read(path).expect("sample")).await;
        let mut event = env.event("s3-object-created.json", None);
        event["Records"][0]["s3"]["object"]["key"] = json!(encode_key(key));
        event["Records"][0]["s3"]["object"]["size"] =
            json!(std::fs::metadata(Path::new(path)).expect("size").len());
        handler.handle(event).await.expect("delivered");
    }
    let published = by_id(env.drain(&env.all_queue).await.into_iter().map(|(f, _)| f));
    // THEN both report the same findings: ids, rules, entities and severities
    assert!(cli.len() >= 30, "the samples make findings: {}", cli.len());
    assert_eq!(cli, published);
}
