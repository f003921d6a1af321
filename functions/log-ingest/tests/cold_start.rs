//! A cold start that cannot succeed says why as one JSON log line, as Lambda's JSON logging
//! shows every other line, naming the variable, and the process fails.

use std::process::Command;

#[test]
fn a_missing_variable_fails_the_cold_start_with_one_json_line_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_log-ingest"))
        .env_clear()
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("STATE_TABLE_NAME", "state")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("cold start failed"))
        .unwrap_or_else(|| panic!("no cold-start line in {stdout:?}"));
    let doc: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    assert_eq!(doc["level"], "ERROR");
    let error = doc["fields"]["error"].as_str().expect("the error");
    assert!(error.contains("FINDINGS_TOPIC_ARN"), "{error}");
}
