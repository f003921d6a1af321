//! `cloudsec scan --tuning` and `cloudsec tuning check`, and the users' own Sigma rules
//! (`--sigma`, `cloudsec sigma check`), over the bundled samples.

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
  - {{rule: user.root-login, match: {{file.path: x}}, reason: r, owner: o, expires: {soon}}}
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
    assert!(text.contains("error: exceptions[1] (rule user.root-login): `file.path` is a field the product never writes"), "{text}");
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

#[test]
fn sigma_check_lists_what_loads_and_fails_on_a_bad_rule() {
    let out = cloudsec(&["sigma", "check", "examples/sigma"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("ok     examples/sigma/inline_policy_on_role.yml"),
        "{text}"
    );
    assert!(
        text.contains("1 detections, 0 correlations, 0 filters load; 0 rejected"),
        "{text}"
    );

    let dir = std::env::temp_dir().join(unique("cloudsec-sigma"));
    std::fs::create_dir_all(&dir).expect("folder");
    let good =
        std::fs::read_to_string(root().join("examples/sigma/inline_policy_on_role.yml")).unwrap();
    std::fs::write(dir.join("good.yml"), &good).unwrap();
    std::fs::write(
        dir.join("bad.yml"),
        good.replace("3f1d2c4b", "4f1d2c4b")
            .replace("eventName:", "eventName|nosuch:"),
    )
    .unwrap();
    let out = cloudsec(&["sigma", "check", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a rejected rule fails the check: {text}"
    );
    assert!(text.contains("error") && text.contains("nosuch"), "{text}");
    assert!(
        text.contains("1 detections") && text.contains("1 rejected"),
        "{text}"
    );
}

#[test]
fn scan_with_sigma_rules_finds_what_they_say_beside_the_built_in_findings() {
    let without = cloudsec(&["scan", "samples/cloudtrail", "--format", "json"]);
    let with = cloudsec(&[
        "scan",
        "samples/cloudtrail",
        "--format",
        "json",
        "--sigma",
        "examples/sigma",
    ]);
    assert!(without.status.success() && with.status.success());
    let ids = |o: &Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["rule"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let (a, b) = (ids(&without), ids(&with));
    let sigma: Vec<_> = b.iter().filter(|id| id.starts_with("sigma.")).collect();
    assert_eq!(
        sigma,
        ["sigma.3f1d2c4b-5a6e-4f70-8b91-a2b3c4d5e6f7"],
        "mallory's PutRolePolicy"
    );
    assert_eq!(b.len(), a.len() + 1, "the built-in findings are unchanged");
    let rules = cloudsec(&["rules", "--sigma", "examples/sigma"]);
    assert!(String::from_utf8_lossy(&rules.stdout)
        .contains("sigma.3f1d2c4b-5a6e-4f70-8b91-a2b3c4d5e6f7"));
}
