//! Exactly-once effects under at-least-once delivery, against DynamoDB and SNS in the emulator:
//! write cost, randomized redelivery, injected faults, and a crash between commit and publish.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use cloudsec::detect::Severity;
use cloudsec::engine::evaluate::{evaluate, StateConfig};
use cloudsec::error::InputError;
use cloudsec::publish::memory::MemorySink;
use cloudsec::publish::sns::SnsSink;
use cloudsec::publish::Sinks;
use cloudsec::state::dynamodb::DynamoStore;
use cloudsec::state::memory::MemoryStore;
use cloudsec::timefmt::{format_rfc3339, parse_rfc3339};
use cloudsec_integration_tests::faults::Faults;
use cloudsec_integration_tests::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

fn t(secs: i64) -> String {
    format_rfc3339(parse_rfc3339("2026-11-03T09:00:00Z").unwrap() + secs)
}

/// The SDK's standard retries (3 attempts), with a short backoff: the emulator is local, and the
/// default backoff of up to seconds would only make the test slow.
fn quick_retries() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(std::time::Duration::from_millis(5))
        .with_max_backoff(std::time::Duration::from_millis(50))
}

/// A DynamoDB client with `faults` installed.
async fn dynamodb_with(faults: &Faults) -> aws_sdk_dynamodb::Client {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let conf = aws_sdk_dynamodb::config::Builder::from(&aws)
        .interceptor(faults.clone())
        .retry_config(quick_retries())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

async fn sns_with(faults: &Faults) -> aws_sdk_sns::Client {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let conf = aws_sdk_sns::config::Builder::from(&aws)
        .interceptor(faults.clone())
        .retry_config(quick_retries())
        .build();
    aws_sdk_sns::Client::from_conf(conf)
}

/// Every counter of a table: key -> (count, distinct values).
async fn counters(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("begins_with(pk, :c)")
            .expression_attribute_values(":c", AttributeValue::S("C#".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in page.items() {
            let get = |k: &str| item.get(k).cloned();
            let key = format!(
                "{:?}/{:?}",
                get("pk").and_then(|v| v.as_s().ok().cloned()),
                get("sk").and_then(|v| v.as_n().ok().cloned())
            );
            let count = get("n")
                .and_then(|v| v.as_n().ok().cloned())
                .unwrap_or_default();
            let mut distinct: Vec<String> = ["d0", "d1"]
                .iter()
                .flat_map(|d| {
                    get(d)
                        .and_then(|v| v.as_ss().ok().cloned())
                        .unwrap_or_default()
                })
                .collect();
            distinct.sort();
            out.insert(key, (count, distinct));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

#[tokio::test]
async fn ten_thousand_denied_records_cost_a_few_dozen_writes() {
    let Some(env) = Env::new().await else { return };
    let faults = Faults::new(1);
    let client = dynamodb_with(&faults).await;
    let table = unique("cost");
    create_state_table(&client, &table).await;
    let store = DynamoStore::new(client, &table);
    let calls = [
        ("ListBuckets", "s3.amazonaws.com"),
        ("DescribeInstances", "ec2.amazonaws.com"),
        ("ListUsers", "iam.amazonaws.com"),
        ("GetFunction", "lambda.amazonaws.com"),
    ];
    let records: Vec<Value> = (0..10_000)
        .map(|i| {
            let (name, source) = calls[i % calls.len()];
            ct(
                &t((i % 600) as i64),
                source,
                name,
                iam_user(&format!("prober{}", i % 3)),
                json!({"errorCode": "AccessDenied", "errorMessage": "denied"}),
            )
        })
        .collect();
    faults.reset_counts();
    let mut outcome = Outcome::default();
    let engine = memory_engine(&store, Sinks::none());
    run_engine(&engine, "big", &trail_file(&records), &mut outcome)
        .await
        .unwrap();
    let requests = faults.requests();
    let writes: u64 = requests
        .iter()
        .filter(|(op, _)| {
            [
                "TransactWriteItems",
                "UpdateItem",
                "PutItem",
                "BatchWriteItem",
                "DeleteItem",
            ]
            .iter()
            .any(|w| op.ends_with(w))
        })
        .map(|(_, n)| n)
        .sum();
    let total: u64 = requests.values().sum();
    println!("10,000 AccessDenied records from 3 principals: {writes} DynamoDB write requests, {total} requests in all: {requests:?}");
    assert!(outcome
        .findings
        .values()
        .any(|f| f.rule.id == "user.access-denied-burst" && f.finding.count > 3000));
    assert!(writes <= 36, "{writes} write requests for 10,000 records");
    drop(env);
}

/// Inputs whose findings cross inputs: a failed-login burst and password spraying spread over
/// four objects, single-event hits repeated across them, denied calls by two principals.
fn dataset() -> Vec<(String, Vec<u8>)> {
    let mut inputs = Vec::new();
    for part in 0..4i64 {
        let mut recs = Vec::new();
        for i in 0..4i64 {
            let at = part * 300 + i * 20;
            recs.push(failed_login(
                &t(at),
                iam_user(&format!("user{}", (part * 4 + i) % 7)),
                false,
            ));
            recs.push(ct(
                &t(at + 5),
                "ec2.amazonaws.com",
                "DescribeInstances",
                iam_user(&format!("prober{}", i % 2)),
                json!({"errorCode": "Client.UnauthorizedOperation"}),
            ));
            recs.push(ct(
                &t(at + 6),
                "iam.amazonaws.com",
                "ListRoles",
                iam_user(&format!("prober{}", i % 2)),
                json!({"errorCode": "AccessDenied"}),
            ));
        }
        recs.push(ct(
            &t(part * 300 + 100),
            "s3.amazonaws.com",
            "ListBuckets",
            root_user(),
            json!({}),
        ));
        inputs.push((
            format!("s3://logs/part-{part}.json.gz@etag{part}"),
            trail_file(&recs),
        ));
    }
    inputs
}

#[tokio::test]
async fn two_hundred_randomized_redeliveries_end_as_one_clean_pass() {
    let Some(env) = Env::new().await else { return };
    let inputs = dataset();
    // The clean pass: every input once, in order.
    let clean_table = unique("clean");
    create_state_table(&env.dynamodb, &clean_table).await;
    let clean = clean_pass(
        DynamoStore::new(env.dynamodb.clone(), &clean_table),
        &inputs,
    )
    .await;
    let clean_counters = counters(&env.dynamodb, &clean_table).await;
    let clean_ids: BTreeSet<String> = clean.published.keys().cloned().collect();
    assert!(
        clean
            .findings
            .values()
            .any(|f| f.rule.id == "user.password-spraying"),
        "dataset must cross inputs"
    );
    assert!(clean
        .findings
        .values()
        .any(|f| f.rule.id == "user.access-denied-burst"));
    let mut seeds = StdRng::seed_from_u64(20261123);
    let inputs = Arc::new(inputs);
    let clean_counters = Arc::new(clean_counters);
    let clean_ids = Arc::new(clean_ids);
    // Four trials at a time per emulator: it applies one request at a time anyway, this overlaps
    // the rest. With a second emulator (scripts/test starts one), the trials alternate
    // between them: each keeps a core busy.
    let mut duplicate_publishes = 0;
    let counting = Faults::new(0);
    let mut trial_clients = Vec::new();
    for endpoint in cloudsec_integration_tests::endpoints() {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let conf = aws_sdk_dynamodb::config::Builder::from(&aws)
            .endpoint_url(endpoint)
            .interceptor(counting.clone())
            .retry_config(quick_retries())
            .build();
        trial_clients.push(aws_sdk_dynamodb::Client::from_conf(conf));
    }
    let mut trials = tokio::task::JoinSet::new();
    for trial in 0..200u64 {
        let seed = seeds.random::<u64>();
        let dynamodb = trial_clients[trial as usize % trial_clients.len()].clone();
        let inputs = Arc::clone(&inputs);
        let (clean_counters, clean_ids) = (Arc::clone(&clean_counters), Arc::clone(&clean_ids));
        trials.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            let table = unique("trial");
            create_state_table(&dynamodb, &table).await;
            let store = Arc::new(DynamoStore::new(dynamodb.clone(), &table));
            let outcome = randomized_trial(&mut rng, &store, &inputs).await;
            let got = counters(&dynamodb, &table).await;
            assert_eq!(
                &got, &*clean_counters,
                "trial {trial}: counters differ from a clean pass"
            );
            let ids: BTreeSet<String> = outcome.published.keys().cloned().collect();
            assert_eq!(
                &ids, &*clean_ids,
                "trial {trial}: findings differ from a clean pass"
            );
            // The emulator slows down with every table it holds.
            dynamodb
                .delete_table()
                .table_name(&table)
                .send()
                .await
                .expect("delete table");
            outcome.published.values().map(|n| n - 1).sum::<u32>()
        });
        if trials.len() >= 4 * trial_clients.len() {
            duplicate_publishes += trials
                .join_next()
                .await
                .expect("trial")
                .expect("trial passed");
        }
    }
    while let Some(r) = trials.join_next().await {
        duplicate_publishes += r.expect("trial passed");
    }
    println!(
        "DynamoDB requests of the 200 trials: {:?}",
        counting.requests()
    );
    println!(
        "200 trials: counters and findings equal to the clean pass ({} counters, {} findings); {duplicate_publishes} extra publications of a finding id by concurrent twins of one input",
        clean_counters.len(),
        clean_ids.len()
    );
}

#[tokio::test]
async fn injected_throttling_and_5xx_lose_nothing_and_double_nothing() {
    let Some(env) = Env::new().await else { return };
    let inputs = dataset();
    let clean_table = unique("clean");
    create_state_table(&env.dynamodb, &clean_table).await;
    let clean = clean_pass(
        DynamoStore::new(env.dynamodb.clone(), &clean_table),
        &inputs,
    )
    .await;
    let clean_counters = counters(&env.dynamodb, &clean_table).await;
    let clean_ids: BTreeSet<String> = clean.published.keys().cloned().collect();

    let faults = Faults::new(7);
    let dynamodb = dynamodb_with(&faults).await;
    let table = unique("faulty");
    create_state_table(&dynamodb, &table).await;
    let store = DynamoStore::new(dynamodb, &table);
    let sink = SnsSink::new(sns_with(&faults).await, &env.topic_arn);
    let engine = memory_engine(store, Sinks::one(sink));
    faults.fail(250);
    let mut rng = StdRng::seed_from_u64(99);
    let mut order: Vec<usize> = (0..inputs.len()).flat_map(|i| [i, i]).collect();
    order.shuffle(&mut rng);
    let mut failed_attempts = 0;
    for i in order {
        let (id, body) = &inputs[i];
        let mut outcome = Outcome::default();
        let mut attempts = 0;
        // The trigger retries a failed input (SQS redelivers it) until it goes through.
        while let Err(e) = run_engine(&engine, id, body, &mut outcome).await {
            attempts += 1;
            failed_attempts += 1;
            assert!(attempts < 50, "{id} never went through: {e}");
        }
    }
    faults.fail(0);
    let got = counters(&env.dynamodb, &table).await;
    assert_eq!(got, clean_counters, "counters differ from a clean pass");
    let published = env.drain(&env.all_queue).await;
    let ids: BTreeSet<String> = published
        .iter()
        .map(|(f, _)| f["finding"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, clean_ids, "findings on SNS differ from a clean pass");
    println!(
        "faults: {} injected into {} requests, {failed_attempts} inputs failed and were retried; {} messages for {} findings",
        faults.injected(),
        faults.requests().values().sum::<u64>(),
        published.len(),
        ids.len()
    );
    assert!(faults.injected() > 20, "the test must inject faults");
}

#[tokio::test]
async fn a_crash_between_commit_and_publish_is_published_by_the_retry() {
    let Some(env) = Env::new().await else { return };
    let store = env.store();
    let records = vec![ct(
        &t(0),
        "cloudtrail.amazonaws.com",
        "StopLogging",
        iam_user("eve"),
        json!({"requestParameters": {"name": "main"}}),
    )];
    let body = trail_file(&records);
    let sink = Arc::new(MemorySink::default());
    let engine = memory_engine(&store, Sinks::one(Arc::clone(&sink)));
    // GIVEN an input whose counters were committed and findings claimed (the engine's first
    // half, at time 1000), then the process died before publishing
    let groups = engine
        .pipeline()
        .scan(
            &body[..],
            "crashed",
            cloudsec::sources::LogSource::CloudTrail,
        )
        .groups;
    let fired = evaluate(
        &store,
        "crashed",
        groups,
        1000,
        &StateConfig::default(),
        Severity::Info,
    )
    .await
    .unwrap()
    .fired;
    assert!(fired.iter().all(|f| f.publish));
    let ids: BTreeSet<String> = fired.iter().map(|f| f.finding.finding.id.clone()).collect();
    // WHEN another input with the same finding comes while the claim holds
    let mut other = Outcome::default();
    let busy = run_engine(&engine, "other", &body, &mut other).await;
    // THEN it neither publishes nor succeeds, so that it is retried
    assert!(
        matches!(busy, Err(InputError::Busy(_))),
        "{:?}",
        busy.map(|d| d.summary)
    );
    assert!(sink.findings().is_empty());
    // WHEN the crashed input is retried
    let mut retry = Outcome::default();
    run_engine(&engine, "crashed", &body, &mut retry)
        .await
        .unwrap();
    retry.count_published(&sink);
    // THEN its findings are published, with the same ids; the count is the crashed input's and
    // the other input's (committed before it found the claim), not the retry's a second time
    assert_eq!(
        retry.published.keys().cloned().collect::<BTreeSet<_>>(),
        ids
    );
    let stopped = retry
        .findings
        .values()
        .find(|f| f.rule.id == "config.cloudtrail-stopped")
        .unwrap();
    assert_eq!(stopped.finding.count, 2, "the retry did not count again");
    // AND the other input then goes through without publishing them again
    let before = sink.findings().len();
    run_engine(&engine, "other", &body, &mut other)
        .await
        .unwrap();
    assert_eq!(sink.findings().len(), before);
}

/// Every input once, in order: what every trial must come to. Published ids from the sink.
async fn clean_pass<S: cloudsec::state::StateStore>(
    store: S,
    inputs: &[(String, Vec<u8>)],
) -> Outcome {
    let sink = Arc::new(MemorySink::default());
    let engine = memory_engine(store, Sinks::one(Arc::clone(&sink)));
    let mut clean = Outcome::default();
    for (id, body) in inputs {
        run_engine(&engine, id, body, &mut clean).await.unwrap();
    }
    clean.count_published(&sink);
    clean
}

/// One randomized trial over `store`: each input delivered 1 to 5 times, in any order, 1 to 3
/// at the same time, each through its own engine (as concurrent Lambda instances), all
/// publishing to one sink. Returns the findings fired and every publication.
async fn randomized_trial<S>(
    rng: &mut StdRng,
    store: &Arc<S>,
    inputs: &Arc<Vec<(String, Vec<u8>)>>,
) -> Outcome
where
    S: cloudsec::state::StateStore + 'static,
{
    let sink = Arc::new(MemorySink::default());
    let mut deliveries: Vec<usize> = (0..inputs.len())
        .flat_map(|i| std::iter::repeat_n(i, rng.random_range(1..=5)))
        .collect();
    deliveries.shuffle(rng);
    let mut outcome = Outcome::default();
    let mut rest = &deliveries[..];
    while !rest.is_empty() {
        let n = rng.random_range(1..=3).min(rest.len());
        let (now, later) = rest.split_at(n);
        rest = later;
        let tasks: Vec<_> = now
            .iter()
            .map(|&i| {
                let engine = memory_engine(Arc::clone(store), Sinks::one(Arc::clone(&sink)));
                let (id, body) = inputs[i].clone();
                tokio::spawn(async move {
                    let mut o = Outcome::default();
                    // A concurrent delivery may find a finding claimed by another input: like
                    // SQS, deliver it again a little later.
                    for _ in 0..200 {
                        match run_engine(&engine, &id, &body, &mut o).await {
                            Ok(_) => return o,
                            Err(InputError::Busy(_)) => {
                                tokio::time::sleep(std::time::Duration::from_millis(10)).await
                            }
                            Err(e) => panic!("{id}: {e}"),
                        }
                    }
                    panic!("{id}: never settled")
                })
            })
            .collect();
        for task in tasks {
            let o = task.await.expect("task");
            outcome.findings.extend(o.findings);
        }
    }
    outcome.count_published(&sink);
    outcome
}

#[tokio::test]
async fn the_same_randomized_trials_on_the_memory_store_end_as_its_clean_pass() {
    // The memory store's ledger has the DynamoDB store's semantics: the same trials end with
    // the counters of a clean pass, and the published ids of DynamoDB's clean pass.
    let inputs = dataset();
    let clean_store = MemoryStore::new();
    let clean = clean_pass(&clean_store, &inputs).await;
    let clean_ids: BTreeSet<String> = clean.published.keys().cloned().collect();
    if let Some(env) = Env::new().await {
        let table = unique("clean");
        create_state_table(&env.dynamodb, &table).await;
        let dynamo = clean_pass(DynamoStore::new(env.dynamodb.clone(), &table), &inputs).await;
        assert_eq!(
            dynamo.published.keys().cloned().collect::<BTreeSet<_>>(),
            clean_ids,
            "the two stores' clean passes publish the same findings"
        );
    }
    let inputs = Arc::new(inputs);
    let mut rng = StdRng::seed_from_u64(20261201);
    for trial in 0..200 {
        let store = Arc::new(MemoryStore::new());
        let outcome = randomized_trial(&mut rng, &store, &inputs).await;
        assert_eq!(
            store.counters(),
            clean_store.counters(),
            "trial {trial}: counters differ from a clean pass"
        );
        assert_eq!(
            outcome.published.keys().cloned().collect::<BTreeSet<_>>(),
            clean_ids,
            "trial {trial}: findings differ from a clean pass"
        );
    }
}
