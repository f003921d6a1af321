//! The operator's side against the emulator: the findings store (the template's table, its
//! entity index), the scheduled `risk-report` (store -> report in S3 + digest on the topic),
//! and the report in a real headless Chromium.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use cloudsec::config::RiskReportConfig;
use cloudsec::detect::{Catalogue, Severity};
use cloudsec::engine::ports::{FixedClock, LocalFiles, MemoryQuarantine};
use cloudsec::engine::{Engine, EngineConfig, InputId};
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::publish::sns::SnsSink;
use cloudsec::publish::Sinks;
use cloudsec::risk_report::RiskReport;
use cloudsec::sources::LogSource;
use cloudsec::state::dynamodb::DynamoStore;
use cloudsec::store::dynamodb::DynamoFindings;
use cloudsec::store::{FindingStore, Resolution, StoredFinding};
use cloudsec::timefmt::parse_rfc3339;
use cloudsec_integration_tests::browser;
use cloudsec_integration_tests::faults::Faults;
use cloudsec_integration_tests::{
    create_findings_table, root, sample_files, sample_log_objects, trail_file, trail_stopped_by,
    unique, Env,
};
use serde_json::Value;

/// What a hostile user name tries in the report: leave its cell, run a script, close the
/// data island's script element.
const HOSTILE: &str = "eve<img src=x onerror=alert(1)></script><script>alert(2)</script>";

/// The engine the functions run, over this test's tables and topic, on a clock standing at
/// `now`, keeping findings in `store`.
fn engine(
    env: &Env,
    store: Arc<DynamoFindings>,
    now: i64,
) -> Engine<DynamoStore, Arc<MemoryQuarantine>> {
    let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
    engine_over(env, store, now, pipeline)
}

/// [`engine`] over another pipeline (a tuned one).
fn engine_over(
    env: &Env,
    store: Arc<DynamoFindings>,
    now: i64,
    pipeline: Pipeline,
) -> Engine<DynamoStore, Arc<MemoryQuarantine>> {
    Engine::new(
        Arc::new(pipeline),
        env.store(),
        Arc::new(MemoryQuarantine::default()),
        Sinks::one(SnsSink::new(env.sns.clone(), &env.topic_arn)),
        EngineConfig {
            min_severity: Severity::Info,
            ..EngineConfig::default()
        },
    )
    .with_clock(Arc::new(FixedClock::at(now)))
    .with_findings_store(store)
}

async fn ingest_samples(engine: &Engine<DynamoStore, Arc<MemoryQuarantine>>) {
    for path in sample_files() {
        engine
            .process_object(&LocalFiles, &path, None)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// Every item of the findings table that is a finding: id -> item.
async fn items(env: &Env, table: &str) -> BTreeMap<String, BTreeMap<String, AttributeValue>> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = env
            .dynamodb
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in page.items() {
            if item.contains_key("doc") {
                let id = item["id"].as_s().expect("id").clone();
                out.insert(id, item.clone().into_iter().collect());
            }
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return out,
        }
    }
}

fn s<'a>(item: &'a BTreeMap<String, AttributeValue>, k: &str) -> &'a str {
    item.get(k)
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

fn t(text: &str) -> i64 {
    parse_rfc3339(text).expect("time")
}

#[tokio::test]
async fn the_store_keeps_one_item_per_finding_through_the_functions_and_redeliveries() {
    let Some(env) = Env::new().await else { return };
    let table = unique("findings");
    create_findings_table(&env.dynamodb, &table).await;
    // The deployed log-ingest, as its cold start builds it, with the store configured.
    let handler = env.handler_keeping(&table).await;
    let mut keys = Vec::new();
    for (key, path) in sample_log_objects() {
        env.put(&key, std::fs::read(&path).unwrap()).await;
        keys.push(key);
    }
    assert!(keys.len() >= 3, "{keys:?}");
    let deliver_all = || async {
        for key in &keys {
            handler
                .handle(env.event("s3-object-created.json", Some(key)))
                .await
                .expect("handled");
        }
    };
    deliver_all().await;
    let first = items(&env, &table).await;
    assert!(first.len() >= 10, "{} findings kept", first.len());
    // Every finding on the topic is kept, with its state.
    let published = published_ids(&env).await;
    let kept: BTreeSet<String> = first.keys().cloned().collect();
    assert!(
        published.is_subset(&kept),
        "published but not kept: {:?}",
        published.difference(&kept)
    );
    for (id, item) in &first {
        for attr in [
            "entity",
            "last_seen",
            "rule",
            "category",
            "severity",
            "account",
            "stored_at",
        ] {
            assert!(!s(item, attr).is_empty(), "{id}: no {attr}");
        }
        assert!(item["count"].as_n().unwrap().parse::<u64>().unwrap() >= 1);
        let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
        assert_eq!(
            expires,
            t(s(item, "last_seen")) + 90 * 86_400,
            "{id}: TTL after the retention"
        );
        assert_eq!(
            item["published"].as_bool().ok(),
            Some(&published.contains(id)),
            "{id}"
        );
    }
    // Redelivered (S3 and SQS do): the same items, the same counts, nothing new.
    deliver_all().await;
    let again = items(&env, &table).await;
    assert_eq!(
        again.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>()
    );
    for (id, item) in &again {
        assert_eq!(
            item["count"], first[id]["count"],
            "{id}: count changed on a redelivery"
        );
        assert_eq!(s(item, "stored_at"), s(&first[id], "stored_at"), "{id}");
    }

    // An entity's open findings: one Query of the entity index, exactly its findings.
    let mut per_entity: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (id, item) in &first {
        per_entity.entry(s(item, "entity")).or_default().insert(id);
    }
    let (entity, ids) = per_entity
        .iter()
        .max_by_key(|(e, ids)| (ids.len(), std::cmp::Reverse(**e)))
        .unwrap();
    assert!(
        ids.len() >= 2,
        "an entity with several findings: {per_entity:?}"
    );
    let counting = Faults::new(0);
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(counting.clone())
            .build(),
    );
    let store = DynamoFindings::new(client, &table, 90);
    let open = store
        .open_for(entity, "2026-10-01T00:00:00Z")
        .await
        .expect("query");
    let got: BTreeSet<&str> = open.iter().map(|f| f.finding.finding.id.as_str()).collect();
    assert_eq!(&got, ids, "{entity}");
    assert_eq!(
        counting.requests(),
        BTreeMap::from([("DynamoDB.Query".to_owned(), 1)]),
        "one Query"
    );
    // Active since a later time: none of them (the samples are of 2026-11-01).
    assert!(store
        .open_for(entity, "2026-11-02T00:00:00Z")
        .await
        .unwrap()
        .is_empty());
}

/// A bucket for the reports, and the deployed risk-report over `table` publishing to this
/// test's topic.
async fn risk_report(env: &Env, table: &str, per_account: bool) -> (String, RiskReport) {
    let bucket = unique("reports");
    env.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let config = RiskReportConfig {
        findings_table: table.to_owned(),
        report_bucket: bucket.clone(),
        report_prefix: "reports/".into(),
        findings_topic_arn: env.topic_arn.clone(),
        resolution: Resolution::default(),
        digest_per_account: per_account,
    };
    let function = RiskReport::from_config(&env.aws, &config);
    (bucket, function)
}

/// The ids of the findings published to this test's topic since the last call.
async fn published_ids(env: &Env) -> BTreeSet<String> {
    env.drain(&env.all_queue)
        .await
        .into_iter()
        .map(|(b, _)| b["finding"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The organization's digest among `got` (the per-account ones name their account).
fn org_digest(got: &[(Value, std::collections::HashMap<String, String>)]) -> &Value {
    &got.iter()
        .find(|(d, _)| d.get("account").is_none())
        .expect("the organization's digest")
        .0
}

/// The digests on `queue`: (JSON document, message attributes).
async fn digests(
    env: &Env,
    queue: &str,
) -> Vec<(Value, std::collections::HashMap<String, String>)> {
    env.drain(queue).await
}

#[tokio::test]
async fn the_scheduled_report_writes_the_page_and_the_digest_and_the_browser_shows_it() {
    let Some(env) = Env::new().await else { return };
    let table = unique("findings");
    create_findings_table(&env.dynamodb, &table).await;
    let store = Arc::new(DynamoFindings::new(env.dynamodb.clone(), &table, 90));
    // The samples (events of 2026-11-01) ingested that day.
    ingest_samples(&engine(&env, Arc::clone(&store), t("2026-11-01T12:00:00Z"))).await;
    let digest_queue = env
        .queue_on(&env.topic_arn, Some(r#"{"category": ["digest"]}"#))
        .await;
    let (report_bucket, function) = risk_report(&env, &table, true).await;

    // Day 1: the first report.
    let run = function
        .handle(serde_json::json!({"source": "cloudsec.schedule", "at": "2026-11-02T06:00:00Z"}))
        .await
        .expect("report");
    assert_eq!(
        run.report,
        format!("s3://{report_bucket}/reports/2026-11-02.html")
    );
    let kept = store.since("2026-10-01T00:00:00Z").await.unwrap().findings;
    assert_eq!(run.findings, kept.len());
    let got = digests(&env, &digest_queue).await;
    let accounts: BTreeSet<&str> = kept
        .iter()
        .map(|f| {
            f.finding
                .cloud
                .account
                .as_ref()
                .map_or("unknown", |a| a.id.as_str())
        })
        .collect();
    assert_eq!(
        got.len(),
        1 + accounts.len(),
        "the organization's and one per account"
    );
    let (org, attrs) = got
        .iter()
        .find(|(d, _)| d.get("account").is_none())
        .expect("the organization's digest");
    assert_eq!(attrs["category"], "digest");
    assert_eq!(attrs["account_id"], "all");
    assert_eq!(org["kind"], "cloudsec.digest");
    // Its counts are the store's: every finding open a day after its events, by severity.
    let mut by_severity: BTreeMap<String, u64> = BTreeMap::new();
    for f in &kept {
        *by_severity
            .entry(f.finding.finding.severity.as_str().to_owned())
            .or_default() += 1;
    }
    let digest_counts: BTreeMap<String, u64> =
        serde_json::from_value(org["open_by_severity"].clone()).unwrap();
    assert_eq!(digest_counts, by_severity);
    assert_eq!(
        org["new_count"],
        kept.len(),
        "the first digest: everything is new"
    );
    assert_eq!(org["resolved_count"], 0);
    assert_eq!(org["top_entities"].as_array().unwrap().len(), 10);
    let controls = kept
        .iter()
        .filter(|f| f.finding.finding.category == "control-failures")
        .count();
    assert_eq!(org["failing_controls_count"], controls);
    assert!(controls > 0);
    assert_eq!(org["report"], run.report.as_str());
    // Per account digests carry their account and only its findings.
    for (d, attrs) in got.iter().filter(|(d, _)| d.get("account").is_some()) {
        let a = d["account"].as_str().unwrap();
        assert_eq!(attrs["account_id"], a);
        let n = kept
            .iter()
            .filter(|f| {
                f.finding
                    .cloud
                    .account
                    .as_ref()
                    .map_or("unknown", |x| x.id.as_str())
                    == a
            })
            .count() as u64;
        let open: u64 = d["open_by_severity"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(open, n, "{a}");
    }

    // Day 2: a hostile trail record, then the next report: one new finding, nothing resolved.
    let hostile = trail_file(&[trail_stopped_by(HOSTILE)]);
    let hostile = String::from_utf8(hostile)
        .unwrap()
        .replace("2026-11-01T", "2026-11-02T");
    engine(&env, Arc::clone(&store), t("2026-11-02T12:00:00Z"))
        .process_bytes(
            &InputId::named("hostile"),
            hostile.into_bytes(),
            Some(LogSource::CloudTrail),
        )
        .await
        .expect("hostile input delivered");
    let run2 = function
        .handle(serde_json::json!({"at": "2026-11-03T06:00:00Z"}))
        .await
        .expect("report");
    let got = digests(&env, &digest_queue).await;
    let org2 = org_digest(&got);
    let now_kept = store.since("2026-10-01T00:00:00Z").await.unwrap().findings;
    let new: Vec<&StoredFinding> = now_kept
        .iter()
        .filter(|f| f.finding.user.as_ref().is_some_and(|u| u.name == HOSTILE))
        .collect();
    assert!(!new.is_empty(), "the trail stopped by the hostile user");
    assert_eq!(org2["new_count"], new.len(), "{org2}");
    let listed: BTreeSet<&str> = org2["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        new.iter().map(|f| f.finding.finding.id.as_str()).collect()
    );
    assert_eq!(org2["resolved_count"], 0);
    // What an e-mail subscription receives: the digest's text, with its subject; the findings
    // it names by title and id (a log value such as the hostile user name is not in it).
    let mails = cloudsec_integration_tests::sent_as(&env.topic_arn, "email").await;
    let (subject, text) = mails
        .iter()
        .rev()
        .find(|(subject, _)| subject.starts_with("Cloud security digest 2026-11-03"))
        .expect("the day-2 digest as e-mail");
    assert!(
        subject.contains(&format!(", {} new, 0 resolved", new.len())),
        "{subject}"
    );
    assert!(
        text.contains("New since the last digest (") && text.contains("Riskiest entities"),
        "{text}"
    );
    for f in &new {
        assert!(text.contains(&f.finding.finding.id), "{text}");
    }
    assert!(
        !text.contains('{'),
        "e-mail gets the text, not the JSON document"
    );
    assert!(
        !text.contains("<script>") && !text.contains("<img"),
        "{text}"
    );

    // Day 9: a week without events resolves what was last seen more than 7 days before.
    let _ = function
        .handle(serde_json::json!({"at": "2026-11-09T06:00:00Z"}))
        .await
        .expect("report");
    let got = digests(&env, &digest_queue).await;
    let org3 = org_digest(&got);
    let (day3, day9) = (t("2026-11-03T06:00:00Z"), t("2026-11-09T06:00:00Z"));
    let resolving = |f: &&StoredFinding| t(&f.finding.event.end) + 7 * 86_400;
    let resolved = now_kept
        .iter()
        .filter(|f| (day3 + 1..=day9).contains(&resolving(f)))
        .count();
    let still_open = now_kept.iter().filter(|f| resolving(f) > day9).count() as u64;
    assert!(resolved > 0 && still_open > 0);
    assert_eq!(org3["resolved_count"], resolved, "{org3}");
    assert_eq!(
        org3["open_by_severity"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        still_open
    );

    // The report of day 2, as written to S3, in a real browser.
    let object = env
        .s3
        .get_object()
        .bucket(&report_bucket)
        .key("reports/2026-11-03.html")
        .send()
        .await
        .expect("the report object of day 2");
    assert_eq!(object.content_type(), Some("text/html; charset=utf-8"));
    let page = object.body.collect().await.unwrap().into_bytes();
    assert!(run2.findings == now_kept.len());
    let Some(chromium) = browser::chromium() else {
        return;
    };
    let dir = root().join("target/report-test");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.html", unique("report")));
    std::fs::write(&file, &page).unwrap();
    let url = format!("file://{}", file.display());
    let shown = browser::render(&chromium, &url);
    let dom = &shown.dom;
    assert!(
        dom.contains(r#"data-script="ran""#),
        "the page's script did not run"
    );
    assert!(
        browser::script_errors(&shown.log).is_empty(),
        "{:?}",
        browser::script_errors(&shown.log)
    );
    for id in [
        "active-threats",
        "risk-overview",
        "control-failures",
        "suspicious-config-iam",
        "suspicious-network",
        "suspicious-user",
        "suspicious-web",
        "tuning",
        "all-findings",
    ] {
        assert!(
            dom.contains(&format!("<section id=\"{id}\"")),
            "no section {id}"
        );
    }
    // The hostile name is text: escaped in the DOM, no element made of it.
    assert!(
        dom.contains("eve&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;"),
        "hostile value not shown as text"
    );
    assert!(!dom.contains("<img"), "an element was made of a log value");
    assert_eq!(
        dom.matches("<script").count(),
        2,
        "only the page's two script elements"
    );

    // Every panel's numbers are the findings they came from, counted here from the store.
    let rows = browser::panel_rows(dom);
    let period: Vec<&StoredFinding> = now_kept.iter().collect();
    let expect = |panel: &str, category: &[&str], key: &dyn Fn(&StoredFinding) -> String| {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for f in &period {
            if category.contains(&f.finding.finding.category.as_str()) {
                *m.entry(key(f)).or_default() += 1;
            }
        }
        let shown: BTreeMap<String, u64> = rows
            .iter()
            .filter(|(p, _, _, hidden)| p == panel && !hidden)
            .map(|(_, k, n, _)| (k.clone(), *n))
            .collect();
        assert_eq!(shown, m, "panel {panel}");
        assert!(!m.is_empty(), "panel {panel} has rows");
    };
    expect("controls-severity", &["control-failures"], &|f| {
        f.finding.finding.severity.as_str().to_owned()
    });
    expect("controls-resource", &["control-failures"], &|f| {
        f.finding.finding.entity.id.clone()
    });
    expect("threats-resource", &["active-threats"], &|f| {
        f.finding.finding.entity.id.clone()
    });
    expect("config-rule", &["config-iam"], &|f| {
        f.finding.rule.name.clone()
    });
    expect("user-rule", &["user-activity", "credential-access"], &|f| {
        f.finding.rule.name.clone()
    });
    expect("web-rule", &["web-activity"], &|f| {
        f.finding.rule.name.clone()
    });
    expect("network-rule", &["network-activity"], &|f| {
        f.finding.rule.name.clone()
    });
    expect("config-trend", &["config-iam"], &|f| {
        f.finding.event.end[..10].to_owned()
    });
    // The open findings' cards.
    for sev in Severity::ALL {
        let n = now_kept
            .iter()
            .filter(|f| f.finding.finding.severity == sev)
            .count();
        assert!(
            dom.contains(&format!(
                r#"<div class="card" data-severity="{}"><b>{n}</b>"#,
                sev.as_str()
            )),
            "card {}",
            sev.as_str()
        );
    }
    // The riskiest entity's drill-down lists exactly its findings, across dashboards.
    let overview = cloudsec::risk::overview(now_kept.iter().map(|f| &f.finding));
    let top = &overview[0];
    let listed: BTreeSet<String> = browser::finding_rows_in(dom, "entity-0")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let its: BTreeSet<String> = now_kept
        .iter()
        .filter(|f| cloudsec::store::entity_key(&f.finding) == top.entity)
        .map(|f| f.finding.finding.id.clone())
        .collect();
    assert_eq!(listed, its, "{}", top.entity);
    assert!(dom.contains(&format!(
        r#"<div class="entity" id="entity-0" data-entity="{}""#,
        cloudsec::report::html::esc(&top.entity)
    )));

    // Filtered from the address: high and above only, every other finding hidden.
    let filtered = browser::render(&chromium, &format!("{url}?severity=high"));
    assert!(browser::script_errors(&filtered.log).is_empty());
    let all_rows = browser::rows_with_ids(
        &filtered.dom[filtered.dom.find(r#"<section id="all-findings""#).unwrap()..],
    );
    let high: BTreeSet<&str> = now_kept
        .iter()
        .filter(|f| f.finding.finding.severity >= Severity::High)
        .map(|f| f.finding.finding.id.as_str())
        .collect();
    assert_eq!(all_rows.len(), now_kept.len());
    for (id, hidden) in &all_rows {
        assert_eq!(*hidden, !high.contains(id.as_str()), "{id}");
    }
    assert!(filtered
        .dom
        .contains(&format!(r#"<span id="shown">{}</span>"#, high.len())));
    // A panel recounted: severities under high are gone from the controls' panel.
    for (panel, key, n, hidden) in browser::panel_rows(&filtered.dom) {
        if panel == "controls-severity" {
            let sev: Severity = key.parse().unwrap();
            assert_eq!(hidden, sev < Severity::High, "{key}");
            if !hidden {
                let want = now_kept
                    .iter()
                    .filter(|f| {
                        f.finding.finding.category == "control-failures"
                            && f.finding.finding.severity == sev
                    })
                    .count() as u64;
                assert_eq!(n, want);
            }
        }
    }
    // For a person to look at.
    let png = root().join("target/report-test/report.png");
    browser::screenshot(&chromium, &url, &png);
    println!("screenshot of the report: {}", png.display());
}

#[tokio::test]
async fn a_control_that_passes_again_resolves_its_findings_and_a_new_failure_reopens() {
    let Some(env) = Env::new().await else { return };
    let table = unique("findings");
    create_findings_table(&env.dynamodb, &table).await;
    let store = Arc::new(DynamoFindings::new(env.dynamodb.clone(), &table, 90));
    let engine = engine(&env, Arc::clone(&store), t("2026-11-02T12:00:00Z"));
    let sample = root().join("samples/securityhub/securityhub-findings-2026-11.jsonl");
    engine
        .process_object(&LocalFiles, &sample, None)
        .await
        .expect("sample");
    let bucket = "resource:arn:aws:s3:::cloudsec-example-public";
    let group = "resource:arn:aws:ec2:us-east-1:111122223333:security-group/sg-0a1b2c3d4e5f60718";
    let since = "2026-10-01T00:00:00Z";
    assert_eq!(
        store.open_for(bucket, since).await.unwrap().len(),
        1,
        "S3.8 fails"
    );
    // The security group passed EC2.2 and then failed it: the earlier pass resolves nothing.
    let group_open = store.open_for(group, since).await.unwrap().len();
    assert!(group_open >= 1);

    // The bucket is fixed: Security Hub reports S3.8 passing.
    let text = std::fs::read_to_string(&sample).unwrap();
    let mut event: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let findings = event["detail"]["findings"].as_array_mut().unwrap();
    findings.retain(|f| f["Compliance"]["SecurityControlId"] == "S3.8");
    let with = |status: &str, at: &str| {
        let mut e = event.clone();
        let f = &mut e["detail"]["findings"][0];
        f["Compliance"]["Status"] = status.into();
        f["UpdatedAt"] = at.into();
        e.to_string().into_bytes()
    };
    let deliver = |bytes: Vec<u8>, id: &'static str| {
        let engine = &engine;
        async move {
            engine
                .process_bytes(
                    &InputId::event("aws.securityhub", id),
                    bytes,
                    Some(LogSource::SecurityHub),
                )
                .await
                .expect("delivered")
        }
    };
    deliver(with("PASSED", "2026-11-03T08:00:00.000Z"), "pass").await;
    assert!(
        store.open_for(bucket, since).await.unwrap().is_empty(),
        "the pass resolves S3.8"
    );
    let kept = store.since(since).await.unwrap().findings;
    let resolved: Vec<&StoredFinding> = kept
        .iter()
        .filter(|f| cloudsec::store::entity_key(&f.finding) == bucket)
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(
        resolved[0].resolved_at.as_deref(),
        Some("2026-11-03T08:00:00Z")
    );
    // Only the bucket's: the account's IAM.6 and the group's EC2.2 stay open.
    assert_eq!(
        store.open_for(group, since).await.unwrap().len(),
        group_open
    );
    assert_eq!(
        store
            .open_for("resource:AWS::::Account:111122223333", since)
            .await
            .unwrap()
            .len(),
        1
    );
    // The report says so: the resolved finding is not open, nor in the risk overview.
    let report =
        cloudsec::report::Report::new(kept, &[], t("2026-11-03T09:00:00Z"), Resolution::default());
    let row = report
        .rows
        .iter()
        .find(|r| cloudsec::store::entity_key(r.finding()) == bucket)
        .unwrap();
    assert!(!row.open);
    assert!(report.risk.iter().all(|e| e.entity != bucket));

    // It fails again: open again, as a failure and as a control that passed and now fails.
    deliver(with("FAILED", "2026-11-04T08:00:00.000Z"), "fail-again").await;
    let open = store.open_for(bucket, since).await.unwrap();
    let rules: BTreeSet<&str> = open.iter().map(|f| f.finding.rule.id.as_str()).collect();
    assert_eq!(
        rules,
        BTreeSet::from(["control.failed", "control.newly-failing"])
    );
    assert!(open
        .iter()
        .all(|f| f.finding.event.end.starts_with("2026-11-04")));
}

#[tokio::test]
async fn staged_findings_and_suppressed_counts_are_kept_once_and_reach_the_digest() {
    let Some(env) = Env::new().await else { return };
    let table = unique("findings");
    create_findings_table(&env.dynamodb, &table).await;
    let store = Arc::new(DynamoFindings::new(env.dynamodb.clone(), &table, 90));
    let text = std::fs::read_to_string(root().join("examples/tuning.yaml")).unwrap();
    let tuning = cloudsec::tuning::Tuning::parse(&text).expect("the example tuning file");
    let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default())
        .with_tuning(tuning)
        .expect("applies");
    let engine = engine_over(
        &env,
        Arc::clone(&store),
        t("2026-11-01T12:00:00Z"),
        pipeline,
    );
    let mut suppressed = 0;
    let mut staged = BTreeSet::new();
    for _ in 0..2 {
        // Delivered twice: the store stays as the first delivery left it.
        for path in sample_files() {
            let d = engine
                .process_object(&LocalFiles, &path, None)
                .await
                .unwrap();
            suppressed += d.summary.suppressed;
            for f in d.fired.iter().filter(|f| f.finding.finding.staged) {
                staged.insert(f.finding.finding.id.clone());
            }
        }
        let kept = store.since("2026-10-01T00:00:00Z").await.unwrap();
        let counted: u64 = kept.suppressed.iter().map(|s| s.count).sum();
        assert_eq!(counted, 2, "the example's two excepted events, once");
        let rules: BTreeSet<&str> = kept.suppressed.iter().map(|s| s.rule.as_str()).collect();
        assert_eq!(
            rules,
            BTreeSet::from(["config.access-key-for-other-user", "web.rate-based-rule"])
        );
        assert!(kept
            .suppressed
            .iter()
            .all(|s| s.exception.contains("@example.com")));
        let kept_staged: BTreeSet<String> = kept
            .findings
            .iter()
            .filter(|f| f.finding.finding.staged)
            .map(|f| {
                assert!(!f.published, "a staged finding is kept, not published");
                assert_eq!(f.finding.rule.id, "user.root-activity");
                f.finding.finding.id.clone()
            })
            .collect();
        assert_eq!(kept_staged, staged);
    }
    // Each delivery says what it read (its log line); the store keeps one count per input.
    assert_eq!(suppressed, 4);
    let published = published_ids(&env).await;
    assert!(published.is_disjoint(&staged));

    // The digest names them; the report lists them apart from the dashboards.
    let queue = env
        .queue_on(&env.topic_arn, Some(r#"{"category": ["digest"]}"#))
        .await;
    let (report_bucket, function) = risk_report(&env, &table, false).await;
    function
        .handle(serde_json::json!({"at": "2026-11-02T06:00:00Z"}))
        .await
        .unwrap();
    let got = env.drain(&queue).await;
    assert_eq!(got.len(), 1);
    let digest = &got[0].0;
    assert_eq!(digest["suppressed_events"], 2);
    let listed: BTreeSet<String> = digest["staged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, staged);
    let page = env
        .s3
        .get_object()
        .bucket(&report_bucket)
        .key("reports/2026-11-02.html")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(page.contains(r#"<span id="suppressed-count">2</span>"#));
    assert!(page.contains(&format!(
        r#"<span id="staged-count">{}</span>"#,
        staged.len()
    )));
    for id in &staged {
        assert!(page.contains(&format!(r#"data-staged="{id}""#)));
        assert!(
            !page.contains(&format!(r#"data-id="{id}""#)),
            "a staged finding is not on the dashboards"
        );
    }
}
