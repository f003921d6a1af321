//! `cloudsec risk` and `cloudsec report`: the risk overview in its three formats, the same over
//! log files as over the findings `scan` printed (the archive's format), a findings file with a
//! bad line, and log values that never reach the terminal raw.

use std::path::{Path, PathBuf};
use std::process::Command;

use cloudsec_integration_tests::{root, trail_file, trail_stopped_by, unique};
use serde_json::Value;

fn cloudsec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("cloudsec runs")
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("cloudsec-report"));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_risk_overview_in_json_lines_and_a_table_ranks_every_entity() {
    let out = cloudsec(&["risk", "samples", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let array: Vec<Value> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    assert!(array.len() >= 20, "{} entities", array.len());
    for e in &array {
        for field in ["entity", "score", "level", "findings", "action_plan"] {
            assert!(!e[field].is_null(), "{field} missing in {e}");
        }
        let score = e["score"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&score));
        assert_eq!(
            e["open_findings"].as_u64().unwrap() as usize,
            e["findings"].as_array().unwrap().len()
        );
    }
    let scores: Vec<f64> = array.iter().map(|e| e["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "highest first: {scores:?}"
    );
    // One critical finding alone: Elastic's 99 / zeta(1.5).
    let exfil = array
        .iter()
        .find(|e| e["entity"] == "access_key:ASIAEXAMPLEEXFILKEY1")
        .expect("the exfiltrated key");
    assert_eq!(exfil["score"], 37.9);
    assert_eq!(exfil["level"], "Low");

    let lines = cloudsec(&["risk", "samples", "--format", "jsonl"]);
    let per_line: Vec<Value> = String::from_utf8(lines.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one object per line"))
        .collect();
    assert_eq!(per_line, array);

    let table = cloudsec(&["risk", "samples"]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("ENTITY"), "{text}");
    assert_eq!(text.lines().count(), array.len() + 1);
    assert!(text.contains("access_key:ASIAEXAMPLEEXFILKEY1"));
}

#[test]
fn the_report_over_logs_equals_the_report_over_the_findings_scan_printed() {
    let dir = scratch();
    let scan = cloudsec(&["scan", "samples", "--format", "json"]);
    assert!(scan.status.success());
    let findings = dir.join("findings.jsonl");
    // A line that is not a finding costs only itself.
    let mut text = String::from_utf8(scan.stdout).unwrap();
    text.push_str("{\"not\": \"a finding\"}\n");
    std::fs::write(&findings, text).unwrap();
    let over_logs = cloudsec(&["risk", "samples", "--format", "json"]);
    let over_findings = cloudsec(&["risk", "--findings", path(&findings), "--format", "json"]);
    assert!(over_findings.status.success());
    let stderr = String::from_utf8_lossy(&over_findings.stderr);
    assert!(
        stderr.contains(&format!("{}:", findings.display())) && stderr.contains("not a finding"),
        "{stderr}"
    );
    let a: Value = serde_json::from_slice(&over_logs.stdout).unwrap();
    let b: Value = serde_json::from_slice(&over_findings.stdout).unwrap();
    assert_eq!(
        a, b,
        "the same overview from the logs and from their findings"
    );

    let page = dir.join("report.html");
    let out = cloudsec(&["report", "samples", "-o", path(&page)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for section in [
        "active-threats",
        "risk-overview",
        "control-failures",
        "suspicious-user",
        "suspicious-web",
        "suspicious-network",
        "suspicious-config-iam",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{section}\"")),
            "{section}"
        );
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained: no address to fetch"
    );
    // Nothing to read is a clear error.
    let none = cloudsec(&["report", "-o", path(&page)]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("nothing to read"));
}

#[test]
fn log_values_never_reach_the_terminal_raw_in_the_risk_table() {
    let dir = scratch();
    let file = dir.join("ct.json");
    // The trail's name is the finding's entity: it is printed in the table.
    let mut record = trail_stopped_by("eve");
    record["requestParameters"]["name"] = "main\u{1b}[2J\r\nforged".into();
    std::fs::write(&file, trail_file(&[record])).unwrap();
    let out = cloudsec(&["risk", path(&file)]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("resource:main"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
}
