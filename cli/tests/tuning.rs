//! `cloudsec scan --tuning` and `cloudsec tuning check`, over the bundled samples.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cloudsec_integration_tests::{date_in_days, unique};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn file(text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique("cloudsec-tuning"));
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("tuning.yaml");
    std::fs::write(&path, text).expect("write");
    path
}

fn cloudsec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("cloudsec runs")
}

fn good_file() -> String {
    format!(
        "exceptions:
  - rule: \"config.access-key-*\"
    match:
      user.target.name: ci-bot
      aws.cloudtrail.user_identity.arn: \"arn:aws:sts::111122223333:assumed-role/Deploy/*\"
    reason: the deploy pipeline rotates ci-bot's keys
    owner: platform-team@example.com
    expires: {soon}
  - rule: web.rate-based-rule
    match:
      source.ip: 192.0.2.0/24
    reason: our load tests
    owner: sre@example.com
    expires: {soon}
rules:
  user.root-login:
    state: staged
",
        soon = date_in_days(60)
    )
}

#[test]
fn scan_with_a_tuning_file_suppresses_counts_and_stages() {
    let tuning = file(&good_file());
    let plain = cloudsec(&["scan", "samples", "--format", "json"]);
    let tuned = cloudsec(&[
        "scan",
        "samples",
        "--format",
        "json",
        "--tuning",
        tuning.to_str().expect("path"),
    ]);
    assert!(
        tuned.status.success(),
        "{}",
        String::from_utf8_lossy(&tuned.stderr)
    );
    let docs = |o: &Output| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect()
    };
    let (before, after) = (docs(&plain), docs(&tuned));
    let about = |docs: &[serde_json::Value], rule: &str, entity: &str| {
        docs.iter()
            .filter(|d| d["rule"]["id"] == rule && d["finding"]["entity"]["id"] == entity)
            .count()
    };
    let rule = "config.access-key-for-other-user";
    assert_eq!(about(&before, rule, "ci-bot"), 1);
    assert_eq!(about(&after, rule, "ci-bot"), 0, "suppressed");
    assert_eq!(
        about(&after, rule, "backup-svc"),
        1,
        "another caller still fires"
    );
    // The staged rule's finding is printed, flagged, apart from the published ones.
    let staged: Vec<&serde_json::Value> = after
        .iter()
        .filter(|d| d["finding"]["staged"] == true)
        .collect();
    assert_eq!(staged.len(), 1);
    assert_eq!(staged[0]["rule"]["id"], "user.root-login");
    let stderr = String::from_utf8_lossy(&tuned.stderr);
    assert!(
        stderr.contains("1 events suppressed by 1 exceptions"),
        "{stderr}"
    );
    assert!(stderr.contains("exception 1 (config.access-key-*, platform-team@example.com): 1 events of config.access-key-for-other-user"), "{stderr}");
    assert!(
        stderr.contains("1 findings of staged rules, not published"),
        "{stderr}"
    );
    // In a table, staged findings have a section of their own.
    let table = cloudsec(&[
        "scan",
        "samples",
        "--format",
        "table",
        "--tuning",
        tuning.to_str().expect("path"),
    ]);
    let out = String::from_utf8_lossy(&table.stdout);
    let section = out
        .find("Staged rules (kept, not published):")
        .expect("section");
    assert!(out[section..].contains("user.root-login"));
}

#[test]
fn check_reports_errors_and_a_dry_run() {
    // A good file passes; the dry run says what each exception suppresses.
    let good = file(&good_file());
    let out = cloudsec(&[
        "tuning",
        "check",
        good.to_str().expect("path"),
        "--over",
        "samples",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("0 errors"), "{text}");
    assert!(text.contains("exception 1 (config.access-key-*, platform-team@example.com): suppresses 1 events of config.access-key-for-other-user"), "{text}");
    assert!(
        text.contains("exception 2 (web.rate-based-rule, sre@example.com): matches nothing"),
        "{text}"
    );
    // A file with what cannot be right fails, naming each entry.
    let bad = file(&format!(
        "exceptions:
  - {{rule: user.root-login, match: {{process.name: x}}, reason: r, owner: o, expires: {soon}}}
  - {{rule: user.root-login, match: {{user.name: x}}, reason: r, owner: o, expires: {far}}}
  - {{rule: user.root-login, match: {{user.name: y}}, reason: r, owner: o, expires: {past}}}
",
        soon = date_in_days(10),
        far = date_in_days(800),
        past = date_in_days(-2)
    ));
    let out = cloudsec(&["tuning", "check", bad.to_str().expect("path")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("error: exceptions[1] (rule user.root-login): `process.name` is a field the product never writes"), "{text}");
    assert!(
        text.contains("error: exceptions[2] (rule user.root-login): expires on"),
        "{text}"
    );
    assert!(
        text.contains("error: exceptions[3] (rule user.root-login): expired on"),
        "{text}"
    );
    // One that cannot load fails too: an unknown rule.
    let unknown = file(&format!(
        "exceptions:\n  - {{rule: user.nosuch, match: {{user.name: x}}, reason: r, owner: o, expires: {}}}\n",
        date_in_days(5)
    ));
    let out = cloudsec(&["tuning", "check", unknown.to_str().expect("path")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("exceptions[1] (rule user.nosuch): names no rule"),
        "{text}"
    );
}
