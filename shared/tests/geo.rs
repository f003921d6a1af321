//! Geo enrichment and the geo detections with MaxMind's test databases
//! (`../shared/testdata/geoip`): 81.2.69.142 is London GB, 216.160.83.56 Milton US,
//! 89.160.20.112 Linköping SE, 175.16.199.0/24 Changchun CN.

mod common;

use std::sync::Arc;

use cloudsec::detect::{Catalogue, Settings};
use cloudsec::engine::ports::MemoryQuarantine;
use cloudsec::engine::{Engine, EngineConfig, InputId};
use cloudsec::finding::Finding;
use cloudsec::geo::{GeoIp, GeoSettings};
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::publish::memory::MemorySink;
use cloudsec::publish::Sinks;
use cloudsec::sources::LogSource;
use cloudsec::state::memory::MemoryStore;
use serde_json::{json, Value};

fn geoip() -> Option<Arc<GeoIp>> {
    let city = common::shared_path("testdata/geoip/GeoLite2-City-Test.mmdb")?;
    let asn = common::shared_path("testdata/geoip/GeoLite2-ASN-Test.mmdb")?;
    Some(Arc::new(
        GeoIp::open(Some(&city), Some(&asn)).expect("test databases"),
    ))
}

fn login(user: &str, time: &str, ip: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": ip,
        "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
            "arn": format!("arn:aws:iam::111122223333:user/{user}"), "userName": user},
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"MFAUsed": "Yes"}
    })
}

fn file(records: &[Value]) -> Vec<u8> {
    json!({ "Records": records }).to_string().into_bytes()
}

/// Runs inputs through the engine over the in-memory state, as the Lambda does; returns the
/// geo findings published, in order.
fn run(pipeline: &Pipeline, store: &MemoryStore, inputs: &[(&str, Vec<u8>)]) -> Vec<Finding> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let sink = Arc::new(MemorySink::default());
    let engine = Engine::new(
        Arc::new(pipeline.clone()),
        store,
        MemoryQuarantine::default(),
        Sinks::one(Arc::clone(&sink)),
        EngineConfig::default(),
    );
    for (id, object) in inputs {
        let delivered = rt
            .block_on(engine.process_bytes(
                &InputId::named(id),
                object.clone(),
                Some(LogSource::CloudTrail),
            ))
            .unwrap();
        assert_eq!(delivered.summary.bad, 0);
    }
    sink.findings()
        .into_iter()
        .filter(|f| f.rule.id.contains("country") | f.rule.id.contains("travel"))
        .collect()
}

fn pipeline(geo: Arc<GeoIp>, settings: GeoSettings) -> Pipeline {
    Pipeline::new(
        Catalogue::with_settings(Settings {
            geo: settings,
            ..Settings::default()
        }),
        PipelineConfig::default(),
    )
    .with_geo(geo)
}

#[test]
fn the_databases_enrich_source_geo_and_as() {
    let Some(geo) = geoip() else { return };
    let p = pipeline(geo, GeoSettings::default());
    let mut events = Vec::new();
    p.normalize(
        &file(&[login("alice", "2026-11-01T10:00:00Z", "89.160.20.112")])[..],
        "f",
        Some(LogSource::CloudTrail),
        &mut |e| {
            events.push(serde_json::to_value(e).unwrap());
        },
    );
    let source = &events[0]["source"];
    assert_eq!(source["geo"]["country_iso_code"], "SE");
    assert_eq!(source["geo"]["city_name"], "Linköping");
    assert_eq!(source["geo"]["location"]["lat"], 58.4167);
    assert_eq!(source["as"]["number"], 29518);
    assert_eq!(source["as"]["organization"]["name"], "Bredband2 AB");
}

#[test]
fn london_then_milton_an_hour_later_is_impossible_travel_once_in_either_order() {
    let Some(geo) = geoip() else { return };
    let p = pipeline(geo, GeoSettings::default());
    let london = (
        "london",
        file(&[login("alice", "2026-11-01T10:00:00Z", "81.2.69.142")]),
    );
    let milton = (
        "milton",
        file(&[login("alice", "2026-11-01T11:00:00Z", "216.160.83.56")]),
    );
    let in_order = run(&p, &MemoryStore::new(), &[london.clone(), milton.clone()]);
    assert_eq!(in_order.len(), 1, "{in_order:?}");
    let f = &in_order[0];
    assert_eq!(f.rule.id, "user.impossible-travel");
    assert_eq!(f.finding.severity, cloudsec::detect::Severity::High);
    for part in [
        "London, GB",
        "Milton, US",
        "81.2.69.142",
        "216.160.83.56",
        "2026-11-01T10:00:00Z",
        "2026-11-01T11:00:00Z",
        "km in 1 h 0 min",
        "km/h",
    ] {
        assert!(f.message.contains(part), "{part} missing: {}", f.message);
    }
    assert_eq!(f.related.ip.len(), 2);
    assert_eq!(f.finding.evidence.len(), 2, "both logins as evidence");
    // Delivered the other way round: the same finding, once.
    let reversed = run(&p, &MemoryStore::new(), &[milton.clone(), london.clone()]);
    assert_eq!(reversed.len(), 1);
    assert_eq!(reversed[0].finding.id, f.finding.id);
    // Delivered again: counted and published once.
    let store = MemoryStore::new();
    let twice = run(
        &p,
        &store,
        &[london.clone(), milton.clone(), milton, london],
    );
    assert_eq!(twice.len(), 1);
}

#[test]
fn two_logins_from_london_and_the_same_ip_never_fire() {
    let Some(geo) = geoip() else { return };
    let p = pipeline(geo, GeoSettings::default());
    let london = file(&[
        login("bob", "2026-11-01T10:00:00Z", "81.2.69.142"),
        login("bob", "2026-11-01T10:05:00Z", "81.2.69.144"),
        login("bob", "2026-11-01T10:06:00Z", "81.2.69.144"),
    ]);
    assert!(run(&p, &MemoryStore::new(), &[("l", london)]).is_empty());
}

#[test]
fn a_login_from_a_denied_country_or_outside_the_allowed_ones_is_risky() {
    let Some(geo) = geoip() else { return };
    let deny = pipeline(
        geo.clone(),
        GeoSettings {
            deny: vec!["CN".into()],
            ..GeoSettings::default()
        },
    );
    let cn = file(&[login("carol", "2026-11-01T10:00:00Z", "175.16.199.10")]);
    let f = run(&deny, &MemoryStore::new(), &[("cn", cn.clone())]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule.id, "user.risky-country-login");
    assert_eq!(f[0].finding.entity.id, "carol");
    let gb = file(&[login("carol", "2026-11-01T10:00:00Z", "81.2.69.142")]);
    assert!(run(&deny, &MemoryStore::new(), &[("gb", gb.clone())]).is_empty());
    let allow = pipeline(
        geo,
        GeoSettings {
            allow: vec!["GB".into()],
            ..GeoSettings::default()
        },
    );
    assert!(run(&allow, &MemoryStore::new(), &[("gb", gb)]).is_empty());
    assert_eq!(run(&allow, &MemoryStore::new(), &[("cn", cn)]).len(), 1);
}

#[test]
fn a_new_country_after_a_week_of_history_fires_and_the_first_login_ever_does_not() {
    let Some(geo) = geoip() else { return };
    let p = pipeline(geo, GeoSettings::default());
    let store = MemoryStore::new();
    let first = file(&[login("dave", "2026-10-20T09:00:00Z", "81.2.69.142")]);
    assert!(
        run(&p, &store, &[("first", first)]).is_empty(),
        "the first login ever is not new"
    );
    let week = file(&[login("dave", "2026-10-25T09:00:00Z", "81.2.69.143")]);
    assert!(run(&p, &store, &[("week", week)]).is_empty());
    let sweden = file(&[login("dave", "2026-11-01T09:00:00Z", "89.160.20.112")]);
    let f = run(&p, &store, &[("sweden", sweden)]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule.id, "user.new-country");
    assert!(f[0].message.contains("Linköping, SE"), "{}", f[0].message);
}

#[test]
fn without_databases_nothing_geo_happens() {
    let p = Pipeline::new(
        Catalogue::with_settings(Settings {
            geo: GeoSettings {
                deny: vec!["CN".into()],
                ..GeoSettings::default()
            },
            ..Settings::default()
        }),
        PipelineConfig::default(),
    );
    let cn = file(&[
        login("erin", "2026-11-01T10:00:00Z", "175.16.199.10"),
        login("erin", "2026-11-01T10:10:00Z", "81.2.69.142"),
    ]);
    assert!(run(&p, &MemoryStore::new(), &[("cn", cn)]).is_empty());
}

#[test]
fn a_login_redelivered_after_its_neighbour_arrived_still_finds_the_pair_once() {
    let Some(geo) = geoip() else { return };
    let p = pipeline(geo, GeoSettings::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryStore::new();
    let sink = Arc::new(MemorySink::default());
    let engine = Engine::new(
        Arc::new(p.clone()),
        &store,
        MemoryQuarantine::default(),
        Sinks::one(Arc::clone(&sink)),
        EngineConfig::default(),
    );
    // A root login in the same object gives the input a deterministic group as well: its
    // ledger chunk is committed by the first delivery.
    let london = file(&[
        login("alice", "2026-11-01T10:00:00Z", "81.2.69.142"),
        json!({"eventVersion": "1.09", "eventTime": "2026-11-01T10:01:00Z",
            "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
            "sourceIPAddress": "81.2.69.142", "recipientAccountId": "111122223333",
            "userIdentity": {"type": "Root", "accountId": "111122223333",
                "arn": "arn:aws:iam::111122223333:root"}}),
    ]);
    let milton = file(&[login("alice", "2026-11-01T11:00:00Z", "216.160.83.56")]);
    let deliver = |id: &str, body: &[u8]| {
        rt.block_on(engine.process_bytes(
            &InputId::named(id),
            body.to_vec(),
            Some(LogSource::CloudTrail),
        ))
        .unwrap()
    };
    // GIVEN London delivered alone: no pair yet
    deliver("london", &london);
    let travel = |sink: &MemorySink| {
        sink.findings()
            .into_iter()
            .filter(|f| f.rule.id == "user.impossible-travel")
            .count()
    };
    assert_eq!(travel(&sink), 0);
    // AND Milton's delivery kept its login in the history, then died before committing
    let mut report = p.scan(&milton[..], "milton", LogSource::CloudTrail);
    let mut groups = Vec::new();
    rt.block_on(cloudsec::engine::history::judge_logins(
        &store,
        &report.logins,
        &p.catalogue().cloudtrail,
        &p.catalogue().settings.geo,
        5,
        None,
        &mut groups,
        &mut Default::default(),
    ))
    .unwrap();
    report.logins.clear();
    // WHEN London is delivered again (its neighbour is now in the history)
    let again = deliver("london", &london);
    // THEN the pair it now makes is counted and published, though its other groups were
    // committed before
    assert_eq!(travel(&sink), 1, "{:?}", again.fired);
    // AND Milton's retry finds the same pair: published already, counted once
    let retry = deliver("milton", &milton);
    assert_eq!(travel(&sink), 1);
    let pair = retry
        .fired
        .iter()
        .find(|f| f.finding.rule.id == "user.impossible-travel")
        .expect("the retry sees the pair");
    assert!(!pair.sent);
    assert_eq!(pair.finding.finding.count, 2, "two logins, counted once");
    // AND the root use of London's object was not counted twice
    let root = again
        .fired
        .iter()
        .find(|f| f.finding.rule.id == "user.root-activity")
        .expect("root activity");
    assert_eq!(root.finding.finding.count, 1);
}
