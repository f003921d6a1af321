//! CloudWatch Embedded Metric Format: one JSON line on stdout per object, which CloudWatch Logs
//! turns into metrics without any API call.

use serde_json::json;

use crate::engine::InputSummary;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "CloudInfrastructureSecurity";

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Whether metrics are printed: only inside Lambda, where CloudWatch Logs reads them.
fn enabled() -> bool {
    std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
}

/// Counts of one processed input.
pub fn emit_input(s: &InputSummary, duration_ms: u64) {
    if !enabled() {
        return;
    }
    let line = json!({
        "_aws": {"Timestamp": now_ms(), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [["Dataset"]],
            "Metrics": [
                {"Name": "Records", "Unit": "Count"}, {"Name": "BadRecords", "Unit": "Count"},
                {"Name": "Findings", "Unit": "Count"}, {"Name": "Published", "Unit": "Count"},
                {"Name": "Rejected", "Unit": "Count"},
                {"Name": "DurationMs", "Unit": "Milliseconds"}]}]},
        "Dataset": s.source.unwrap_or("unknown"), "Records": s.records, "BadRecords": s.bad,
        "Findings": s.findings, "Published": s.published, "Rejected": s.rejected,
        "DurationMs": duration_ms,
    });
    println!("{line}");
}

/// One skipped notification or object.
pub fn emit_skip(reason: &str) {
    if !enabled() {
        return;
    }
    let line = json!({
        "_aws": {"Timestamp": now_ms(), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [["Reason"]],
            "Metrics": [{"Name": "Skipped", "Unit": "Count"}]}]},
        "Reason": reason, "Skipped": 1,
    });
    println!("{line}");
}

/// A refused finding published on a retry.
pub fn emit_republished() {
    if !enabled() {
        return;
    }
    let line = json!({
        "_aws": {"Timestamp": now_ms(), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [[]],
            "Metrics": [{"Name": "Republished", "Unit": "Count"}]}]},
        "Republished": 1,
    });
    println!("{line}");
}

/// Hits of `rule` that the tuning's exception `exception` kept from counting, in one input.
pub fn emit_suppressed(rule: &str, exception: &str, count: u64) {
    if !enabled() {
        return;
    }
    let line = json!({
        "_aws": {"Timestamp": now_ms(), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [["Rule"]],
            "Metrics": [{"Name": "Suppressed", "Unit": "Count"}]}]},
        "Rule": rule, "Exception": exception, "Suppressed": count,
    });
    println!("{line}");
}
