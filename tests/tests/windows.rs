//! Windowed and anomaly rules: each fires at its threshold and not below it, once per window,
//! with the same findings on the in-memory store and on DynamoDB (through the emulator).

use std::sync::Arc;

use cloudsec::publish::memory::MemorySink;
use cloudsec::publish::Sinks;
use cloudsec::state::memory::MemoryStore;
use cloudsec::state::StateStore;
use cloudsec::timefmt::{format_rfc3339, parse_rfc3339};
use cloudsec_integration_tests::*;
use serde_json::{json, Value};

/// Seconds after 2026-11-02T08:00:00Z (a 3-hour slice boundary).
fn t(secs: i64) -> String {
    format_rfc3339(parse_rfc3339("2026-11-02T08:00:00Z").unwrap() + secs)
}

fn denied(i: usize, name: &str, source: &str, who: &str) -> Value {
    ct(
        &t(i as i64),
        source,
        name,
        iam_user(who),
        json!({"errorCode": "AccessDenied", "errorMessage": "denied"}),
    )
}

/// A scenario: inputs (each a list of records), the rule and entity expected to fire (or not).
struct Scenario {
    name: &'static str,
    rule: &'static str,
    entity: &'static str,
    inputs: Vec<Vec<Value>>,
    fires: bool,
}

fn split(records: Vec<Value>) -> Vec<Vec<Value>> {
    // Two inputs, so that thresholds are reached across inputs, not within one.
    let half = records.len() / 2;
    let (a, b) = records.split_at(half);
    vec![a.to_vec(), b.to_vec()]
}

fn burst(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| failed_login(&t(i as i64 * 30), iam_user("victim"), false))
        .collect()
}

fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    for (n, fires) in [(10, true), (9, false)] {
        v.push(Scenario {
            name: "console-login-burst per user",
            rule: "user.console-login-burst",
            entity: "user:victim",
            inputs: split(burst(n)),
            fires,
        });
        v.push(Scenario {
            name: "console-login-burst per ip",
            rule: "user.console-login-burst",
            entity: "ip:198.51.100.7",
            inputs: split(burst(n)),
            fires,
        });
    }
    for (n, fires) in [(5, true), (4, false)] {
        let recs = (0..n)
            .map(|i| failed_login(&t(i as i64 * 60), root_user(), false))
            .collect();
        v.push(Scenario {
            name: "root-login-failed-burst",
            rule: "user.root-login-failed-burst",
            entity: "account:111122223333",
            inputs: split(recs),
            fires,
        });
    }
    for (failures, users, fires) in [(11, 6, true), (11, 5, false), (10, 6, false)] {
        let recs = (0..failures)
            .map(|i| {
                failed_login(
                    &t(i as i64 * 60),
                    iam_user(&format!("user{}", i % users)),
                    false,
                )
            })
            .collect();
        v.push(Scenario {
            name: "password-spraying",
            rule: "user.password-spraying",
            entity: "account:111122223333/us-east-1",
            inputs: split(recs),
            fires,
        });
    }
    for (n, mfa, fires) in [(2, true, true), (1, true, false), (2, false, false)] {
        let recs = (0..n)
            .map(|i| failed_login(&t(i * 60), iam_user("victim"), mfa))
            .collect();
        v.push(Scenario {
            name: "mfa-failed",
            rule: "user.mfa-failed",
            entity: "user:victim",
            inputs: split(recs),
            fires,
        });
    }
    let arn = "principal:arn:aws:iam::111122223333:user/prober";
    for (n, names, sources, fires) in [
        (6, 2, 2, true),
        (5, 2, 2, false),
        (6, 1, 2, false),
        (6, 2, 1, false),
    ] {
        let recs = (0..n)
            .map(|i| {
                let name = ["ListUsers", "ListRoles"][i % names];
                let source = ["iam.amazonaws.com", "sts.amazonaws.com"][(i / names) % sources];
                denied(i, name, source, "prober")
            })
            .collect();
        v.push(Scenario {
            name: "access-denied-burst",
            rule: "user.access-denied-burst",
            entity: arn,
            inputs: split(recs),
            fires,
        });
    }
    for (n, fires) in [(15, true), (14, false)] {
        let recs = (0..n)
            .map(|i| denied(i, "DescribeInstances", "ec2.amazonaws.com", "prober"))
            .collect();
        v.push(Scenario {
            name: "recon-access-denied",
            rule: "user.recon-access-denied",
            entity: arn,
            inputs: split(recs),
            fires,
        });
    }
    let reader = "principal:arn:aws:iam::111122223333:user/reader";
    for (n, fires) in [(10, true), (9, false)] {
        let recs = (0..n)
            .map(|i| {
                ct(
                    &t(i as i64),
                    "secretsmanager.amazonaws.com",
                    "GetSecretValue",
                    iam_user("reader"),
                    json!({"requestParameters": {"secretId": format!("prod/db{i}")}}),
                )
            })
            .collect();
        v.push(Scenario {
            name: "secrets-bulk-read",
            rule: "cred.secrets-bulk-read",
            entity: reader,
            inputs: split(recs),
            fires,
        });
    }
    let same_secret = (0..12)
        .map(|i| {
            ct(
                &t(i),
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                iam_user("reader"),
                json!({"requestParameters": {"secretId": "prod/db"}}),
            )
        })
        .collect();
    v.push(Scenario {
        name: "secrets-bulk-read same secret",
        rule: "cred.secrets-bulk-read",
        entity: reader,
        inputs: split(same_secret),
        fires: false,
    });
    let batch = vec![ct(
        &t(0),
        "secretsmanager.amazonaws.com",
        "BatchGetSecretValue",
        iam_user("reader"),
        json!({}),
    )];
    v.push(Scenario {
        name: "secrets-bulk-read batch",
        rule: "cred.secrets-bulk-read",
        entity: reader,
        inputs: vec![batch],
        fires: true,
    });
    for (n, decrypt, fires) in [(10, true, true), (9, true, false), (10, false, false)] {
        let recs = (0..n)
            .map(|i| ct(&t(i as i64), "ssm.amazonaws.com", "GetParameter", iam_user("reader"), json!({"requestParameters": {"name": format!("/prod/p{i}"), "withDecryption": decrypt}})))
            .collect();
        v.push(Scenario {
            name: "ssm-secure-parameters-read",
            rule: "cred.ssm-secure-parameters-read",
            entity: reader,
            inputs: split(recs),
            fires,
        });
    }
    for (n, fires) in [(5, true), (4, false)] {
        let recs = (0..n)
            .map(|i| {
                ct(
                    &t(i as i64),
                    "ec2.amazonaws.com",
                    "GetPasswordData",
                    iam_user("reader"),
                    json!({"requestParameters": {"instanceId": format!("i-{i}")}}),
                )
            })
            .collect();
        v.push(Scenario {
            name: "ec2-password-data",
            rule: "cred.ec2-password-data",
            entity: reader,
            inputs: split(recs),
            fires,
        });
        let recs = (0..n)
            .map(|i| {
                denied(
                    i,
                    "DescribeInstanceAttribute",
                    "ec2.amazonaws.com",
                    "reader",
                )
            })
            .map(|mut r| {
                r["requestParameters"] = json!({"instanceId": "i-1", "attribute": "userData"});
                r
            })
            .collect();
        v.push(Scenario {
            name: "ec2-user-data reads (denied count too)",
            rule: "discovery.ec2-user-data",
            entity: reader,
            inputs: split(recs),
            fires,
        });
    }
    // Anomalies: three earlier 3-hour slices make the baseline, one input each, then the slice
    // under test.
    let slice = 3 * 3600;
    let failures_at = |slice_no: i64, n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| {
                failed_login(
                    &t(slice_no * slice + i as i64 * 60),
                    iam_user("victim"),
                    false,
                )
            })
            .collect()
    };
    for (baseline, now, fires) in [(1, 4, true), (1, 2, false), (4, 4, false)] {
        let mut inputs: Vec<Vec<Value>> = (-3..0).map(|s| failures_at(s, baseline)).collect();
        inputs.push(failures_at(0, now));
        v.push(Scenario {
            name: "console-login-failed-anomaly",
            rule: "user.console-login-failed-anomaly",
            entity: "user:victim",
            inputs,
            fires,
        });
    }
    let changes_at = |slice_no: i64, n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| {
                ct(
                    &t(slice_no * slice + i as i64 * 60),
                    "iam.amazonaws.com",
                    "PutRolePolicy",
                    iam_user("admin"),
                    json!({"requestParameters": {"roleName": "r", "policyName": format!("p{i}")}}),
                )
            })
            .collect()
    };
    for (baseline, now, fires) in [(1, 6, true), (6, 6, false)] {
        let mut inputs: Vec<Vec<Value>> = (-3..0).map(|s| changes_at(s, baseline)).collect();
        inputs.push(changes_at(0, now));
        v.push(Scenario {
            name: "config.change-anomaly",
            rule: "config.change-anomaly",
            entity: "principal:arn:aws:iam::111122223333:user/admin",
            inputs,
            fires,
        });
    }
    v
}

async fn check<S: StateStore>(store: &S, s: &Scenario, label: &str) -> (bool, Option<u64>) {
    let sink = Arc::new(MemorySink::default());
    let engine = memory_engine(store, Sinks::one(Arc::clone(&sink)));
    let mut outcome = Outcome::default();
    for (i, records) in s.inputs.iter().enumerate() {
        run_engine(
            &engine,
            &format!("{}-{i}", s.name),
            &trail_file(records),
            &mut outcome,
        )
        .await
        .unwrap_or_else(|e| panic!("{label} {}: {e}", s.name));
    }
    outcome.count_published(&sink);
    let mine: Vec<_> = outcome
        .findings
        .values()
        .filter(|f| {
            f.rule.id == s.rule
                && format!("{}:{}", f.finding.entity.kind, f.finding.entity.id) == s.entity
        })
        .collect();
    assert!(
        mine.len() <= 1,
        "{label} {}: one finding per window, got {}",
        s.name,
        mine.len()
    );
    let fired = !mine.is_empty();
    if let Some(f) = mine.first() {
        assert_eq!(
            outcome.published.get(&f.finding.id).copied(),
            Some(1),
            "{label} {}: published once",
            s.name
        );
    }
    (fired, mine.first().map(|f| f.finding.count))
}

#[tokio::test]
async fn each_windowed_and_anomaly_rule_fires_at_its_threshold_only_on_both_stores() {
    let env = Env::new().await;
    for s in scenarios() {
        let memory = check(&MemoryStore::new(), &s, "memory").await;
        assert_eq!(
            memory.0, s.fires,
            "memory store: {} (rule {}, entity {})",
            s.name, s.rule, s.entity
        );
        let Some(env) = &env else { continue };
        let table = unique("windows");
        create_state_table(&env.dynamodb, &table).await;
        let store = cloudsec::state::dynamodb::DynamoStore::new(env.dynamodb.clone(), &table);
        let dynamo = check(&store, &s, "dynamodb").await;
        assert_eq!(
            dynamo, memory,
            "{}: DynamoDB and memory stores disagree",
            s.name
        );
    }
}

#[tokio::test]
async fn later_events_join_the_finding_and_are_not_published_again() {
    let sink = Arc::new(MemorySink::default());
    let engine = memory_engine(MemoryStore::new(), Sinks::one(Arc::clone(&sink)));
    let mut outcome = Outcome::default();
    let all = burst(25);
    for (i, chunk) in all.chunks(5).enumerate() {
        run_engine(
            &engine,
            &format!("in-{i}"),
            &trail_file(chunk),
            &mut outcome,
        )
        .await
        .unwrap();
    }
    outcome.count_published(&sink);
    let burst_findings: Vec<_> = outcome
        .findings
        .values()
        .filter(|f| f.rule.id == "user.console-login-burst" && f.finding.entity.id == "victim")
        .collect();
    assert_eq!(burst_findings.len(), 1);
    let f = burst_findings[0];
    assert_eq!(f.finding.count, 25, "later events update the count");
    assert_eq!(f.event.end, t(24 * 30), "and the last seen");
    assert_eq!(
        outcome.published[&f.finding.id], 1,
        "published once, when the threshold was crossed"
    );
}

#[tokio::test]
async fn a_window_does_not_carry_over_into_the_next() {
    let engine = memory_engine(MemoryStore::new(), Sinks::none());
    let mut outcome = Outcome::default();
    // Nine failures at the end of one hour and nine at the start of the next: two windows of
    // nine, neither reaching ten.
    let recs: Vec<Value> = (0..18)
        .map(|i| {
            let at = if i < 9 { 3600 - 100 + i } else { 3600 + i };
            failed_login(&t(at), iam_user("victim"), false)
        })
        .collect();
    run_engine(&engine, "in", &trail_file(&recs), &mut outcome)
        .await
        .unwrap();
    assert!(!outcome
        .findings
        .values()
        .any(|f| f.rule.id == "user.console-login-burst"));
}
