//! Sigma rules as deployed: loaded from S3 at cold start through the handler, and a
//! correlation counted exactly once across inputs on both stores.

use std::sync::Arc;

use cloudsec::detect::Catalogue;
use cloudsec::engine::{Engine, EngineConfig};
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::publish::memory::MemorySink;
use cloudsec::publish::Sinks;
use cloudsec::sigma::SigmaSet;
use cloudsec::state::memory::MemoryStore;
use cloudsec::state::StateStore;
use cloudsec_integration_tests::*;
use serde_json::{json, Value};

const RULE: &str = "\
title: IAM user created
id: 0b7e5f8a-1c2d-4e3f-9a8b-7c6d5e4f3a2b
level: medium
tags:
  - attack.persistence
  - attack.t1136.003
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: iam.amazonaws.com
    eventName: CreateUser
  condition: selection
";

const CORRELATION: &str = "\
title: Three IAM users created by one principal in 15 minutes
id: 5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a
level: high
correlation:
  type: event_count
  rules:
    - 0b7e5f8a-1c2d-4e3f-9a8b-7c6d5e4f3a2b
  group-by:
    - userIdentity.arn
  timespan: 15m
  condition:
    gte: 3
";

const CORRELATION_ID: &str = "sigma.5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a";

fn created(i: i64, by: &str) -> Value {
    let time = cloudsec::timefmt::format_rfc3339(
        cloudsec::timefmt::parse_rfc3339("2026-11-02T08:00:00Z").unwrap() + i * 60,
    );
    ct(
        &time,
        "iam.amazonaws.com",
        "CreateUser",
        iam_user(by),
        json!({"requestParameters": {"userName": format!("new-{i}")}}),
    )
}

const DISTINCT: &str = "\
title: Users created under two names from one IP in an hour
id: 6e5d4c3b-2a1f-4e0d-9c8b-7a6f5e4d3c2b
level: medium
correlation:
  type: value_count
  rules:
    - 0b7e5f8a-1c2d-4e3f-9a8b-7c6d5e4f3a2b
  group-by:
    - sourceIPAddress
  timespan: 1h
  condition:
    gte: 2
    field: requestParameters.userName
";

const ATTACH: &str = "\
title: Policy attached to a user
id: 7f6e5d4c-3b2a-4f1e-8d9c-8b7a6f5e4d3c
level: low
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: AttachUserPolicy
  condition: selection
";

const TEMPORAL: &str = "\
title: A user created and given a policy by one principal in 10 minutes
id: 8a7f6e5d-4c3b-4a2f-9e1d-9c8b7a6f5e4d
level: high
correlation:
  type: temporal
  rules:
    - 0b7e5f8a-1c2d-4e3f-9a8b-7c6d5e4f3a2b
    - 7f6e5d4c-3b2a-4f1e-8d9c-8b7a6f5e4d3c
  group-by:
    - userIdentity.arn
  timespan: 10m
";

fn engine<S: StateStore>(
    store: S,
    sink: &Arc<MemorySink>,
) -> Engine<S, Arc<cloudsec::engine::ports::MemoryQuarantine>> {
    let mut catalogue = Catalogue::builtin();
    catalogue.sigma = SigmaSet::load([
        ("rule.yml", RULE),
        ("correlation.yml", CORRELATION),
        ("distinct.yml", DISTINCT),
        ("attach.yml", ATTACH),
        ("temporal.yml", TEMPORAL),
    ]);
    assert!(
        catalogue.sigma.rejected().is_empty(),
        "{:?}",
        catalogue.sigma.rejected()
    );
    Engine::new(
        Arc::new(Pipeline::new(catalogue, PipelineConfig::default())),
        store,
        Arc::new(Default::default()),
        Sinks::one(Arc::clone(sink)),
        EngineConfig::default(),
    )
}

/// Runs `inputs` (each delivered, the last one twice) and returns (findings of the
/// correlation, times published).
async fn correlate<S: StateStore>(store: S, id: &str, inputs: &[Vec<Value>]) -> (Vec<u64>, usize) {
    let sink = Arc::new(MemorySink::default());
    let engine = engine(store, &sink);
    let mut outcome = Outcome::default();
    let mut deliveries: Vec<(usize, &Vec<Value>)> = inputs.iter().enumerate().collect();
    if let Some(last) = deliveries.last().copied() {
        deliveries.push(last);
    }
    for (i, records) in deliveries {
        run_engine(
            &engine,
            &format!("input-{i}"),
            &trail_file(records),
            &mut outcome,
        )
        .await
        .expect("delivered");
    }
    let counts = outcome
        .findings
        .values()
        .filter(|f| f.rule.id == id)
        .map(|f| f.finding.count)
        .collect();
    let published = sink.findings().iter().filter(|f| f.rule.id == id).count();
    (counts, published)
}

fn attached(i: i64, by: &str) -> Value {
    let mut r = created(i, by);
    r["eventName"] = json!("AttachUserPolicy");
    r
}

fn named(i: i64, by: &str, name: &str) -> Value {
    let mut r = created(i, by);
    r["requestParameters"]["userName"] = json!(name);
    r
}

/// What a correlation scenario is: (what, correlation id, inputs at the threshold, inputs below
/// it, count when it fires).
type Scenario = (&'static str, String, Vec<Vec<Value>>, Vec<Vec<Value>>, u64);

fn scenarios() -> Vec<Scenario> {
    vec![
        (
            "event_count: three by one principal",
            CORRELATION_ID.to_owned(),
            vec![
                vec![created(0, "mallory"), created(1, "mallory")],
                vec![created(2, "mallory"), created(3, "alice")],
            ],
            vec![
                vec![created(0, "mallory"), created(1, "alice")],
                vec![created(2, "mallory"), created(3, "bob")],
            ],
            3,
        ),
        (
            "value_count: two names from one IP",
            "sigma.6e5d4c3b-2a1f-4e0d-9c8b-7a6f5e4d3c2b".to_owned(),
            vec![vec![named(0, "mallory", "a")], vec![named(1, "alice", "b")]],
            vec![vec![named(0, "mallory", "a")], vec![named(1, "alice", "a")]],
            2,
        ),
        (
            "temporal: created, then a policy attached",
            "sigma.8a7f6e5d-4c3b-4a2f-9e1d-9c8b7a6f5e4d".to_owned(),
            vec![vec![created(0, "mallory")], vec![attached(2, "mallory")]],
            vec![
                vec![created(0, "mallory")],
                vec![created(2, "mallory"), attached(3, "alice")],
            ],
            2,
        ),
    ]
}

#[tokio::test]
async fn each_correlation_reaches_its_threshold_once_across_inputs_on_both_stores() {
    let env = Env::new().await;
    for (what, id, at, below, count) in scenarios() {
        let memory = (
            correlate(MemoryStore::new(), &id, &at).await,
            correlate(MemoryStore::new(), &id, &below).await,
        );
        assert_eq!(
            memory.0,
            (vec![count], 1),
            "{what}: fires once, published once though redelivered"
        );
        assert_eq!(
            memory.1,
            (vec![], 0),
            "{what}: below the threshold, nothing"
        );
        let Some(env) = &env else { continue };
        for (inputs, expected) in [(&at, &memory.0), (&below, &memory.1)] {
            let table = unique("sigma");
            create_state_table(&env.dynamodb, &table).await;
            let store = cloudsec::state::dynamodb::DynamoStore::new(env.dynamodb.clone(), &table);
            assert_eq!(
                &correlate(store, &id, inputs).await,
                expected,
                "{what}: DynamoDB as memory"
            );
        }
    }
}

#[tokio::test]
async fn rules_load_from_s3_at_cold_start_and_a_bad_one_is_left_out() {
    let Some(env) = Env::new().await else { return };
    // GIVEN a rule, a correlation, a bad rule and a file that is not a rule under a prefix,
    // and a rule outside it
    env.put("sigma/created.yml", RULE.as_bytes().to_vec()).await;
    env.put("sigma/correlation.yaml", CORRELATION.as_bytes().to_vec())
        .await;
    env.put(
        "sigma/bad.yml",
        RULE.replace("eventName:", "eventName|nosuchmodifier:")
            .replace("0b7e5f8a", "1b7e5f8a")
            .into_bytes(),
    )
    .await;
    env.put("sigma/README.txt", b"not a rule".to_vec()).await;
    env.put(
        "other/elsewhere.yml",
        RULE.replace("0b7e5f8a", "2b7e5f8a").into_bytes(),
    )
    .await;
    let uri = format!("s3://{}/sigma/", env.bucket);
    let handler = env
        .handler_from_env(&[("SIGMA_RULES_URI", uri.as_str())])
        .await
        .expect("a bad rule does not stop the cold start");
    // WHEN three users are created by one principal, in two objects
    for (k, records) in [
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/a.json",
            vec![created(0, "mallory"), created(1, "mallory")],
        ),
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02/b.json",
            vec![created(2, "mallory")],
        ),
    ] {
        env.put(k, trail_file(&records)).await;
        handler
            .handle(env.event("s3-object-created.json", Some(k)))
            .await
            .expect("handled");
    }
    // THEN the correlation is published once, its rule on its own never, and the rules
    // outside the prefix or rejected do nothing
    let published: Vec<String> = env
        .drain(&env.all_queue)
        .await
        .into_iter()
        .map(|(f, _)| f["rule"]["id"].as_str().unwrap().to_owned())
        .filter(|id| id.starts_with("sigma."))
        .collect();
    assert_eq!(published, [CORRELATION_ID]);
    // And a location that cannot be read fails the cold start, naming it
    let missing = format!("s3://{}-missing/sigma/", env.bucket);
    let Err(e) = env
        .handler_from_env(&[("SIGMA_RULES_URI", missing.as_str())])
        .await
    else {
        panic!("an unreadable location fails the cold start");
    };
    assert!(e.contains("sigma rules") && e.contains("missing"), "{e}");
}
