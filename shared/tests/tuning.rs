//! Tuning through the engine the functions run, over the bundled samples: exceptions keep
//! events from counting (a windowed rule stays under its threshold), every suppressed event is
//! counted, staged rules are kept and never sent, disabled rules do not run.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cloudsec::detect::Catalogue;
use cloudsec::engine::ports::{FixedClock, LocalFiles, MemoryQuarantine};
use cloudsec::engine::{Engine, EngineConfig};
use cloudsec::finding::Finding;
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::publish::memory::MemorySink;
use cloudsec::publish::Sinks;
use cloudsec::state::memory::MemoryStore;
use cloudsec::tuning::Tuning;

const WAF: &str = "samples/waf/AWSLogs/111122223333/WAFLogs/us-east-1/shop-web-acl/2026/11/01/10/35/111122223333_waflogs_us-east-1_shop-web-acl_20261101T1035Z_5f2c9a1b.log.gz";
const TRAIL: &str = "samples/cloudtrail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/111122223333_CloudTrail_us-east-1_20261101T1030Z_Sample0001.json.gz";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn in_days(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

struct Outcome {
    published: Vec<Finding>,
    fired: Vec<Finding>,
    suppressed: u64,
    staged: u64,
}

fn run(file: &str, tuning: Option<&str>) -> Outcome {
    let mut pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
    if let Some(text) = tuning {
        pipeline = pipeline
            .with_tuning(Tuning::parse(text).expect("parses"))
            .expect("applies");
    }
    let sink = Arc::new(MemorySink::default());
    let engine = Engine::new(
        Arc::new(pipeline),
        MemoryStore::new(),
        Arc::new(MemoryQuarantine::default()),
        Sinks::one(Arc::clone(&sink)),
        EngineConfig::default(),
    )
    .with_clock(Arc::new(FixedClock::at(0)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let delivered = rt
        .block_on(engine.process_object(&LocalFiles, &root().join(file), None))
        .expect("delivered");
    Outcome {
        published: sink.findings(),
        fired: delivered.fired.into_iter().map(|f| f.finding).collect(),
        suppressed: delivered.summary.suppressed,
        staged: delivered.summary.staged,
    }
}

fn rules(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.id.as_str()).collect()
}

#[test]
fn suppressed_events_do_not_count_toward_a_window() {
    // GIVEN the WAF sample, where one scanner is blocked 120 times (a burst)
    let untuned = run(WAF, None);
    let burst = untuned
        .published
        .iter()
        .find(|f| f.rule.id == "web.blocked-burst")
        .expect("the burst fires untuned");
    assert_eq!(burst.finding.entity.id, "203.0.113.77");
    // WHEN an exception covers that scanner's first /30 only
    let text = format!(
        "exceptions:\n  - rule: web.blocked-burst\n    match:\n      source.ip: 203.0.113.76/30\n    reason: the contracted scanner\n    owner: appsec@example.com\n    expires: {}\n",
        in_days(30)
    );
    let tuned = run(WAF, Some(&text));
    // THEN none of its events counts, the burst does not fire, and all of them are counted
    // as suppressed; the other findings are unchanged
    assert!(!rules(&tuned.published).contains(&"web.blocked-burst"));
    assert_eq!(tuned.suppressed, burst.finding.count);
    let mut others: Vec<&str> = rules(&untuned.published)
        .into_iter()
        .filter(|r| *r != "web.blocked-burst")
        .collect();
    others.sort();
    let mut left = rules(&tuned.published);
    left.sort();
    assert_eq!(left, others);
    // AND an exception whose range misses the scanner changes nothing
    let miss = text.replace("203.0.113.76/30", "203.0.113.80/30");
    let missed = run(WAF, Some(&miss));
    assert_eq!(missed.suppressed, 0);
    assert_eq!(missed.published.len(), untuned.published.len());
}

#[test]
fn a_staged_rule_is_kept_never_sent_and_a_disabled_one_does_not_run() {
    let untuned = run(TRAIL, None);
    assert!(rules(&untuned.published).contains(&"user.root-login"));
    assert!(rules(&untuned.published).contains(&"config.cloudtrail-stopped"));
    let tuned = run(
        TRAIL,
        Some("rules:\n  user.root-login:\n    state: staged\n  config.cloudtrail-stopped:\n    state: disabled\n"),
    );
    // The staged rule's finding is evaluated and flagged, not published.
    let staged: Vec<&Finding> = tuned
        .fired
        .iter()
        .filter(|f| f.rule.id == "user.root-login")
        .collect();
    assert_eq!(staged.len(), 1);
    assert!(staged[0].finding.staged);
    assert_eq!(tuned.staged, 1);
    assert!(!rules(&tuned.published).contains(&"user.root-login"));
    assert!(tuned.published.iter().all(|f| !f.finding.staged));
    // The disabled rule makes no finding at all.
    assert!(!rules(&tuned.fired).contains(&"config.cloudtrail-stopped"));
    assert_eq!(
        tuned.published.len(),
        untuned.published.len() - 1 - 2,
        "one staged, two disabled findings fewer"
    );
}

#[test]
fn every_field_the_samples_make_is_one_an_exception_may_name() {
    // The list `cloudsec tuning check` knows fields by must cover what the product writes.
    let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
    let mut missing = std::collections::BTreeSet::new();
    let mut seen = 0;
    for path in common::sample_files("") {
        let file = std::fs::File::open(&path).expect("open");
        pipeline.normalize(file, &path.to_string_lossy(), None, &mut |ecs| {
            let doc = serde_json::to_value(ecs).expect("json");
            let mut paths = Vec::new();
            leaves(&doc, String::new(), &mut paths);
            for p in paths {
                seen += 1;
                if !cloudsec::tuning::check::known_field(&p) {
                    missing.insert(p);
                }
            }
        });
    }
    assert!(seen > 1000, "{seen}");
    assert!(
        missing.is_empty(),
        "add to shared/src/tuning/fields.txt: {missing:?}"
    );
}

fn leaves(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                leaves(x, p, out);
            }
        }
        _ => out.push(at),
    }
}
