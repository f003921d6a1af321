//! Every field we emit outside `aws.*` (and, in findings, the product's `finding.*`) exists in
//! ECS (`../shared/reference/ecs/fields.csv`) with a compatible type, and the categorization
//! values are allowed ones (`allowed_values.json`), each `event.type` allowed by one of the
//! event's categories. Checked over every CloudTrail record we have: our samples, AWS's
//! documentation examples, Panther's and StreamAlert's test logs, as ECS events and as findings,
//! through the whole catalogue; no well-formed record may be rejected.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use cloudsec::detect::Catalogue;
use cloudsec::engine::ports::MemoryQuarantine;
use cloudsec::engine::{Engine, EngineConfig, InputId};
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::publish::Sinks;
use cloudsec::sources::LogSource;
use cloudsec::state::memory::MemoryStore;
use serde_json::Value;

struct Ecs {
    types: HashMap<String, String>,
    allowed: Value,
}

impl Ecs {
    fn load() -> Option<Ecs> {
        let fields = common::shared_path("reference/ecs/fields.csv")?;
        let allowed = common::shared_path("reference/ecs/allowed_values.json")?;
        let mut types = HashMap::new();
        let text = std::fs::read_to_string(fields).expect("fields.csv");
        for line in text.lines().skip(1) {
            // ECS_Version,Indexed,Field_Set,Field,Type,...: the first five columns never quote.
            let cols: Vec<&str> = line.splitn(6, ',').collect();
            if cols.len() >= 5 {
                types.insert(cols[3].to_owned(), cols[4].to_owned());
            }
        }
        let allowed = serde_json::from_str(&std::fs::read_to_string(allowed).expect("allowed"))
            .expect("json");
        Some(Ecs { types, allowed })
    }

    /// Checks one document; returns its problems.
    fn check(&self, doc: &Value, product_namespaces: &[&str]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut leaves = Vec::new();
        flatten("", doc, &mut leaves);
        for (field, value) in &leaves {
            let top = field.split('.').next().unwrap_or("");
            if top == "aws" || product_namespaces.contains(&top) {
                continue;
            }
            // A geo_point is written as an object {lat, lon}.
            let (field, value) = match field.rsplit_once('.') {
                Some((parent, "lat" | "lon"))
                    if self.types.get(parent).map(String::as_str) == Some("geo_point") =>
                {
                    (parent.to_owned(), *value)
                }
                _ => (field.clone(), *value),
            };
            match self.types.get(&field) {
                None => problems.push(format!("{field}: not an ECS field")),
                Some(t) if !compatible(t, value) => {
                    problems.push(format!("{field}: {value} is not of ECS type {t}"))
                }
                Some(_) => {}
            }
        }
        problems.extend(self.check_categorization(doc));
        problems
    }

    fn check_categorization(&self, doc: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        let event = &doc["event"];
        let allowed_in = |key: &str, v: &str| {
            self.allowed[key]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == v))
        };
        for key in ["kind", "outcome"] {
            if let Some(v) = event[key].as_str() {
                if !allowed_in(&format!("event.{key}"), v) {
                    problems.push(format!("event.{key}: {v:?} not allowed"));
                }
            }
        }
        let categories: Vec<&str> = event["category"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for c in &categories {
            if self.allowed["event.category"].get(c).is_none() {
                problems.push(format!("event.category: {c:?} not allowed"));
            }
        }
        for t in event["type"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !allowed_in("event.type", t) {
                problems.push(format!("event.type: {t:?} not allowed"));
            }
            let fits = categories.iter().any(|c| {
                self.allowed["event.category"][c]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == t))
            });
            if !fits {
                problems.push(format!(
                    "event.type {t:?} is allowed for none of {categories:?}"
                ));
            }
        }
        problems
    }
}

impl Ecs {
    /// Checks a finding and each of its evidence events.
    fn check_finding(&self, f: &cloudsec::finding::Finding) -> Vec<String> {
        let rule = &f.rule.id;
        let doc = serde_json::to_value(f).expect("serialize finding");
        let mut problems: Vec<String> = self
            .check(&doc, &["finding"])
            .into_iter()
            .map(|p| format!("finding {rule}: {p}"))
            .collect();
        for e in &f.finding.evidence {
            let doc: Value = serde_json::from_str(e.get()).expect("evidence json");
            problems.extend(
                self.check(&doc, &[])
                    .into_iter()
                    .map(|p| format!("evidence of {rule}: {p}")),
            );
        }
        problems
    }
}

/// The findings of one input as the product makes them: what was read, delivered through the
/// engine over the in-memory store (the logins judged against the history, the counters
/// evaluated and settled).
fn findings_of(
    runtime: &tokio::runtime::Runtime,
    pipeline: &Pipeline,
    store: &MemoryStore,
    name: &str,
    report: cloudsec::pipeline::InputReport,
) -> Vec<cloudsec::finding::Finding> {
    let engine = Engine::new(
        std::sync::Arc::new(pipeline.clone()),
        store,
        MemoryQuarantine::default(),
        Sinks::none(),
        EngineConfig::default(),
    );
    runtime
        .block_on(engine.deliver(&InputId::named(name), report, std::time::Instant::now()))
        .expect("deliver")
        .fired
        .into_iter()
        .map(|f| f.finding)
        .collect()
}

fn flatten<'v>(prefix: &str, v: &'v Value, out: &mut Vec<(String, &'v Value)>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, child, out);
            }
        }
        // Arrays of scalars are a multi-valued field; arrays of objects would not be ECS.
        Value::Array(a) => {
            for child in a {
                flatten(prefix, child, out);
            }
        }
        _ => out.push((prefix.to_owned(), v)),
    }
}

fn compatible(ecs_type: &str, v: &Value) -> bool {
    match ecs_type {
        "keyword" | "constant_keyword" | "wildcard" | "text" | "match_only_text" => v.is_string(),
        "long" | "integer" | "short" | "byte" | "unsigned_long" => v.is_i64() || v.is_u64(),
        "float" | "double" | "scaled_float" | "half_float" => v.is_number(),
        "boolean" => v.is_boolean(),
        "date" => v.as_str().is_some_and(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
        }),
        "ip" => v.as_str().is_some_and(|s| s.parse::<IpAddr>().is_ok()),
        "geo_point" => v.is_number(),
        "object" | "flattened" | "nested" => true,
        _ => false,
    }
}

/// Every CloudTrail document we can find, as (name, JSON text of a record or of a file).
fn cloudtrail_inputs() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = common::sample_texts("cloudtrail")
        .into_iter()
        .map(|(path, text)| (path.display().to_string(), text))
        .collect();
    if let Some(p) =
        common::shared_path("corpora/aws-docs-samples/cloudtrail/cloudtrail_records_flat.jsonl")
    {
        for line in std::fs::read_to_string(p).expect("aws docs").lines() {
            let v: Value = serde_json::from_str(line).expect("json");
            let r = &v["record"];
            // Insights events name their call in insightDetails; some entries are fragments.
            let insight = r["eventType"] == "AwsCloudTrailInsight" && r["eventTime"].is_string();
            if well_formed(r) || insight {
                out.push((v["heading"].to_string(), r.to_string()));
            }
        }
    }
    if let Some(p) = common::shared_path("corpora/panther/panther_aws_test_cases.jsonl") {
        for line in std::fs::read_to_string(p).expect("panther").lines() {
            let v: Value = serde_json::from_str(line).expect("json");
            if v["log_type"] == "AWS.CloudTrail" {
                let mut log = v["log"].clone();
                common::strip_panther_fields(&mut log);
                if well_formed(&log) {
                    out.push((format!("panther {}", v["test_name"]), log.to_string()));
                }
            }
        }
    }
    if let Some(p) = common::shared_path("corpora/streamalert/streamalert_aws_test_events.jsonl") {
        for line in std::fs::read_to_string(p).expect("streamalert").lines() {
            let v: Value = serde_json::from_str(line).expect("json");
            let data = &v["data"];
            let records: Vec<&Value> = match (data.get("Records"), data.get("detail")) {
                (Some(Value::Array(r)), _) => r.iter().collect(),
                (_, Some(d)) => vec![d],
                _ => vec![],
            };
            for (i, r) in records.into_iter().enumerate() {
                if well_formed(r) {
                    out.push((
                        format!("streamalert {}#{}/{i}", v["file"], v["index"]),
                        r.to_string(),
                    ));
                }
            }
        }
    }
    out
}

/// A record CloudTrail could have written: the fields every record has, as strings with a real
/// value (the corpora also hold partial logs, and placeholders such as "...").
fn well_formed(r: &Value) -> bool {
    let real = |k: &str| {
        r[k].as_str()
            .is_some_and(|v| !v.is_empty() && v != "..." && v != k)
    };
    real("eventSource")
        && real("eventName")
        && r["eventTime"]
            .as_str()
            .is_some_and(|t| cloudsec::timefmt::parse_rfc3339(t).is_some())
}

#[test]
fn ecs_events_and_findings_use_ecs_fields_and_allowed_values() {
    let Some(ecs) = Ecs::load() else { return };
    let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
    // Findings as the product makes them: every input through the state store, so windowed and
    // anomaly findings are checked too.
    let store = MemoryStore::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut problems: BTreeSet<String> = BTreeSet::new();
    let (mut events, mut findings, mut bad) = (0, 0, 0);
    let inputs = cloudtrail_inputs();
    assert!(
        inputs.len() > 400,
        "expected the samples and the corpora, got {}",
        inputs.len()
    );
    for (name, text) in &inputs {
        let report = pipeline.normalize(
            text.as_bytes(),
            name,
            Some(LogSource::CloudTrail),
            &mut |e| {
                events += 1;
                let doc = serde_json::to_value(e).expect("serialize");
                for p in ecs.check(&doc, &[]) {
                    problems.insert(format!("event: {p}"));
                }
            },
        );
        bad += report.bad;
        assert_eq!(
            report.bad, 0,
            "{name}: a well-formed record was rejected: {:?}",
            report.bad_records
        );
        assert!(report.error.is_none(), "{name}: {:?}", report.error);
        let report = pipeline.scan(text.as_bytes(), name, LogSource::CloudTrail);
        for f in findings_of(&runtime, &pipeline, &store, name, report) {
            findings += 1;
            problems.extend(ecs.check_finding(&f));
        }
    }
    println!(
        "checked {events} ECS events and {findings} findings from {} inputs ({bad} bad)",
        inputs.len()
    );
    assert!(
        events > 400 && findings > 20,
        "{events} events, {findings} findings"
    );
    assert!(
        problems.is_empty(),
        "ECS problems:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The records of `corpora/findings-samples` and our samples of the four other sources.
fn other_source_inputs() -> Vec<(String, LogSource, String)> {
    let mut out = Vec::new();
    for (file, source) in [
        ("guardduty/guardduty_samples.jsonl", LogSource::GuardDuty),
        (
            "securityhub/securityhub_samples.jsonl",
            LogSource::SecurityHub,
        ),
        ("waf/waf_samples.jsonl", LogSource::Waf),
        (
            "network-firewall/network_firewall_samples.jsonl",
            LogSource::NetworkFirewall,
        ),
    ] {
        let Some(p) = common::shared_path(&format!("corpora/findings-samples/{file}")) else {
            continue;
        };
        for (i, line) in std::fs::read_to_string(p)
            .expect("corpus")
            .lines()
            .enumerate()
        {
            let v: Value = serde_json::from_str(line).expect("json");
            let mut r = v["record"].clone();
            common::strip_panther_fields(&mut r);
            out.push((format!("{file}#{i}"), source, r.to_string()));
        }
    }
    for dir in ["waf", "network-firewall", "guardduty", "securityhub"] {
        let source = match dir {
            "waf" => LogSource::Waf,
            "network-firewall" => LogSource::NetworkFirewall,
            "guardduty" => LogSource::GuardDuty,
            _ => LogSource::SecurityHub,
        };
        for (path, text) in common::sample_texts(dir) {
            out.push((path.display().to_string(), source, text));
        }
    }
    out
}

#[test]
fn other_sources_events_and_findings_use_ecs_fields_and_allowed_values() {
    let Some(ecs) = Ecs::load() else { return };
    let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
    let store = MemoryStore::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut problems: BTreeSet<String> = BTreeSet::new();
    let (mut events, mut findings) = (0, 0);
    let mut datasets = BTreeSet::new();
    let inputs = other_source_inputs();
    for (name, source, text) in &inputs {
        pipeline.normalize(text.as_bytes(), name, Some(*source), &mut |e| {
            events += 1;
            let doc = serde_json::to_value(e).expect("serialize");
            for p in ecs.check(&doc, &[]) {
                problems.insert(format!("{} event: {p}", source.dataset()));
            }
        });
        let report = pipeline.scan(text.as_bytes(), name, *source);
        for f in findings_of(&runtime, &pipeline, &store, name, report) {
            findings += 1;
            datasets.insert(f.event.dataset.clone());
            problems.extend(ecs.check_finding(&f));
        }
    }
    println!(
        "checked {events} ECS events and {findings} findings ({datasets:?}) from {} inputs",
        inputs.len()
    );
    assert!(
        events > 200 && findings > 10,
        "{events} events, {findings} findings"
    );
    assert_eq!(datasets.len(), 4, "findings of every source: {datasets:?}");
    assert!(
        problems.is_empty(),
        "ECS problems:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The value with every `null` member of its objects removed.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        _ => v.clone(),
    }
}

/// Flattens objects to dotted keys; arrays are leaves (compared whole).
fn leaves<'v>(prefix: &str, v: &'v Value, out: &mut Vec<(String, &'v Value)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&key, x, out);
            }
        }
        _ => out.push((prefix.to_owned(), v)),
    }
}

/// Fields Elastic sets that we set differently, and why. Compared: every leaf both documents
/// have, outside these.
const GOLDEN_EXCEPTIONS: &[(&str, &str)] = &[
    ("source.geo", "Elastic's geo values come from its own GeoIP test setup, not the log"),
    ("destination.geo", "Elastic's geo values come from its own GeoIP test setup"),
    ("source.as", "from Elastic's GeoIP setup"),
    ("destination.as", "from Elastic's GeoIP setup"),
    ("event.category", "we add `network` to WAF's `web`: ECS allows the types `allowed`/`denied` only under `network` (or `intrusion_detection`), and every type must be allowed by a category"),
    ("event.original", "we do not keep the raw text in the event (evidence stays small)"),
    ("ecs.version", "we do not stamp an ECS version"),
    ("tags", "Elastic's pipeline option"),
    ("message", "Elastic sets an empty message for firewall alerts; we leave it out"),
    ("destination.domain", "Elastic copies the HTTP host into destination.domain; we put it in url.domain"),
    ("network.protocol", "for a flow Elastic writes `unknown`; we leave it out when the log has no app_proto"),
    ("user_agent.device", "named for phones and tablets only: uap-core's device section, more than half its regexes, is compiled for those only; a desktop's device is `Mac`"),
    ("aws.waf.request.headers", "not kept: the host and user agent are mapped, headers can hold secrets"),
];

/// Fields Elastic derives that we derive too: where Elastic has one, ours must have it, equal.
const ALWAYS_SET: &[&str] = &[
    "user_agent.name",
    "user_agent.version",
    "user_agent.os.",
    "network.community_id",
    "url.original",
    "aws.firewall.flow.",
    "aws.firewall.tcp_flags",
];

#[test]
fn waf_and_firewall_ecs_agrees_with_elastic_on_the_fields_both_set() {
    let Some(path) =
        common::shared_path("corpora/elastic-ecs/elastic_ecs_pairs_waf_firewall.jsonl")
    else {
        return;
    };
    let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
    let mut compared = 0;
    let mut mismatches = Vec::new();
    let mut docs = 0;
    for line in std::fs::read_to_string(path).expect("pairs").lines() {
        let pair: Value = serde_json::from_str(line).expect("json");
        let source = match pair["data_stream"].as_str() {
            Some("waf") => LogSource::Waf,
            Some("firewall_logs") => LogSource::NetworkFirewall,
            other => panic!("unexpected data stream {other:?}"),
        };
        let input = pair["input_line"].as_str().expect("input line");
        let mut ours = Vec::new();
        let report = pipeline.normalize(input.as_bytes(), "elastic", Some(source), &mut |e| {
            ours.push(serde_json::to_value(e).expect("serialize"));
        });
        assert_eq!(report.bad, 0, "{:?}", report.bad_records);
        assert_eq!(ours.len(), 1);
        docs += 1;
        let mut theirs = Vec::new();
        leaves("", &pair["expected_ecs"], &mut theirs);
        let mut mine = Vec::new();
        leaves("", &ours[0], &mut mine);
        let mine: HashMap<String, &Value> = mine.into_iter().collect();
        for (field, want) in theirs {
            if GOLDEN_EXCEPTIONS.iter().any(|(p, _)| field.starts_with(p)) {
                continue;
            }
            let Some(got) = mine.get(&field) else {
                if ALWAYS_SET.iter().any(|p| field.starts_with(p)) {
                    mismatches.push(format!(
                        "{} doc {}: {field}: elastic {want}, ours missing",
                        pair["data_stream"], pair["doc_index"]
                    ));
                }
                continue;
            };
            compared += 1;
            // Elastic writes a single category as a string, ECS allows both.
            // Elastic drops nulls inside the raw lists; so do we before comparing.
            let same = without_nulls(got) == without_nulls(want)
                || got
                    .as_array()
                    .is_some_and(|a| a.len() == 1 && &a[0] == want)
                || (got.is_number() && want.as_str() == Some(got.to_string().as_str()));
            if !same {
                mismatches.push(format!(
                    "{} doc {}: {field}: elastic {want}, ours {got}",
                    pair["data_stream"], pair["doc_index"]
                ));
            }
        }
    }
    println!("compared {compared} fields of {docs} documents with Elastic's");
    assert_eq!(docs, 6);
    assert!(compared >= 60, "only {compared} fields in common");
    assert!(
        mismatches.is_empty(),
        "differences:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn geo_enriched_events_and_geo_findings_use_ecs_fields() {
    let Some(ecs) = Ecs::load() else { return };
    let (Some(city), Some(asn)) = (
        common::shared_path("testdata/geoip/GeoLite2-City-Test.mmdb"),
        common::shared_path("testdata/geoip/GeoLite2-ASN-Test.mmdb"),
    ) else {
        return;
    };
    let geo = cloudsec::geo::GeoIp::open(Some(&city), Some(&asn)).expect("databases");
    let settings = cloudsec::detect::Settings {
        geo: cloudsec::geo::GeoSettings {
            deny: vec!["SE".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let pipeline = Pipeline::new(
        Catalogue::with_settings(settings),
        PipelineConfig::default(),
    )
    .with_geo(std::sync::Arc::new(geo));
    let login = |user: &str, t: &str, ip: &str| {
        serde_json::json!({"eventTime": t, "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1", "sourceIPAddress": ip, "responseElements": {"ConsoleLogin": "Success"},
            "userIdentity": {"type": "IAMUser", "accountId": "111122223333", "userName": user,
                "arn": format!("arn:aws:iam::111122223333:user/{user}")}})
    };
    let text = serde_json::json!({"Records": [
        login("alice", "2026-11-01T10:00:00Z", "81.2.69.142"),
        login("alice", "2026-11-01T11:00:00Z", "89.160.20.112"),
    ]})
    .to_string();
    let mut problems = Vec::new();
    let mut enriched = 0;
    pipeline.normalize(
        text.as_bytes(),
        "geo",
        Some(LogSource::CloudTrail),
        &mut |e| {
            let doc = serde_json::to_value(e).expect("serialize");
            enriched += usize::from(doc["source"]["geo"]["city_name"].is_string());
            problems.extend(ecs.check(&doc, &[]));
        },
    );
    assert_eq!(enriched, 2);
    let store = MemoryStore::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let report = pipeline.scan(text.as_bytes(), "geo", LogSource::CloudTrail);
    let fired = findings_of(&runtime, &pipeline, &store, "geo", report);
    let rules: BTreeSet<String> = fired.iter().map(|f| f.rule.id.clone()).collect();
    assert!(
        rules.contains("user.impossible-travel") && rules.contains("user.risky-country-login"),
        "{rules:?}"
    );
    for f in &fired {
        problems.extend(ecs.check_finding(f));
    }
    assert!(problems.is_empty(), "ECS problems: {problems:#?}");
}

/// Records of our own with every field group the mappings derive (issue 14): each group's
/// fields come out, and every one of them is in ECS with its type.
#[test]
fn every_field_group_comes_out_and_is_ecs() {
    let Some(ecs) = Ecs::load() else { return };
    let ct = serde_json::json!({"Records": [{
        "eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": "kms.amazonaws.com", "eventName": "ScheduleKeyDeletion",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0 md/awscrt#0.19.18 ua/2.0 os/linux#5.10.0 lang/python#3.11.6",
        "userIdentity": {"type": "IAMUser", "userName": "alice", "principalId": "AIDAALICE",
            "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "requestParameters": {"keyId": "k-1", "pendingWindowInDays": 7},
        "resources": [{"accountId": "111122223333", "type": "AWS::KMS::Key",
            "ARN": "arn:aws:kms:us-east-1:111122223333:key/k-1"}],
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "kms.us-east-1.amazonaws.com"}
    }]});
    let nfw = [
        r#"{"firewall_name":"fw","availability_zone":"us-east-1a","event_timestamp":"1636395643","event":{"timestamp":"2021-11-08T18:20:43.324542+0000","flow_id":1,"event_type":"netflow","src_ip":"10.0.0.5","src_port":40000,"dest_ip":"198.51.100.7","dest_port":443,"proto":"TCP","netflow":{"pkts":3,"bytes":180,"start":"2021-11-08T18:18:11.990632+0000","end":"2021-11-08T18:18:12.990632+0000","age":1,"min_ttl":60,"max_ttl":64},"tcp":{"tcp_flags":"1b"}}}"#,
        r#"{"firewall_name":"fw","availability_zone":"us-east-1a","event_timestamp":"1636381332","event":{"timestamp":"2021-11-08T14:22:12.637611+0000","flow_id":2,"event_type":"alert","src_ip":"10.0.0.5","src_port":51254,"dest_ip":"198.51.100.8","dest_port":80,"proto":"TCP","alert":{"action":"blocked","signature_id":7,"signature":"Deny","category":"","severity":1},"http":{"hostname":"bad.example","url":"/x?y=1","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0","http_method":"GET","protocol":"HTTP/1.1"},"app_proto":"http"}}"#,
    ]
    .join("\n");
    let gd = serde_json::json!({
        "schemaVersion": "2.0", "accountId": "111122223333", "region": "us-east-1", "id": "f2",
        "type": "PrivilegeEscalation:Runtime/DockerSocketAccessed", "severity": 8.0,
        "updatedAt": "2026-11-01T10:05:00.000Z", "title": "t",
        "resource": {"resourceType": "Container", "instanceDetails": {"instanceId": "i-0abc"},
            "containerDetails": {"containerRuntime": "docker", "id": "c1", "name": "web",
                "image": "repo/web:1.2", "securityContext": {"privileged": true}}},
        "service": {"serviceName": "guardduty", "eventFirstSeen": "2026-10-30T04:03:51.666Z",
            "eventLastSeen": "2025-02-25 20:40:06.000000000",
            "action": {"actionType": "DNS_REQUEST",
                "dnsRequestAction": {"domain": "evil.example.com", "protocol": "UDP"}},
            "runtimeDetails": {"process": {"name": "sshd", "executablePath": "/usr/sbin/sshd",
                "executableSha256": "d2d2", "pid": 2345, "pwd": "/home/user", "uuid": "u-1",
                "parentUuid": "u-0", "user": "admin", "userId": 1000}}}
    });
    let sh = serde_json::json!({
        "SchemaVersion": "2018-10-08", "Id": "t1", "ProductName": "Inspector",
        "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/inspector",
        "AwsAccountId": "111122223333", "Region": "us-east-1",
        "UpdatedAt": "2026-11-01T10:00:00.000Z", "Severity": {"Label": "CRITICAL"},
        "Title": "CVE-2024-1234 - openssl", "Description": "A flaw in openssl.",
        "Resources": [{"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}],
        "Network": {"Direction": "IN", "Protocol": "TCP", "SourceIpV4": "198.51.100.7",
            "SourcePort": 4444, "DestinationIpV4": "10.0.0.5", "DestinationPort": 22,
            "DestinationDomain": "db.internal.example"},
        "Process": {"Name": "sshd", "Path": "/usr/sbin/sshd", "Pid": 77, "ParentPid": 1},
        "Vulnerabilities": [{"Id": "CVE-2024-1234", "Cvss": [{"Version": "3.1", "BaseScore": 9.8}],
            "ReferenceUrls": ["https://nvd.nist.gov/vuln/detail/CVE-2024-1234"]}],
        "ThreatIntelIndicators": [{"Type": "IPV4_ADDRESS", "Value": "198.51.100.7",
            "Source": "ExampleFeed", "LastObservedAt": "2026-10-31T00:00:00.000Z"}],
        "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.1"},
        "Remediation": {"Recommendation": {"Text": "Patch", "Url": "https://docs.aws.amazon.com/x"}}
    });
    let inputs = [
        (LogSource::CloudTrail, ct.to_string()),
        (LogSource::NetworkFirewall, nfw),
        (LogSource::GuardDuty, gd.to_string()),
        (LogSource::SecurityHub, sh.to_string()),
    ];
    let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for (source, text) in &inputs {
        let report = pipeline.normalize(text.as_bytes(), "own", Some(*source), &mut |e| {
            let doc = serde_json::to_value(e).expect("serialize");
            problems.extend(ecs.check(&doc, &[]));
            let mut fields = Vec::new();
            flatten("", &doc, &mut fields);
            seen.extend(fields.into_iter().map(|(f, _)| f));
        });
        assert_eq!(report.bad, 0, "{source:?}: {:?}", report.bad_records);
    }
    let groups = [
        "user_agent.name",
        "user_agent.version",
        "user_agent.os.name",
        "user_agent.os.version",
        "user_agent.os.type",
        "entity.id",
        "entity.sub_type",
        "entity.type",
        "aws.cloudtrail.resources.arn",
        "tls.version",
        "network.community_id",
        "aws.firewall.flow.pkts",
        "aws.firewall.flow.start",
        "aws.firewall.tcp_flags_array",
        "url.original",
        "rule.category",
        "rule.ruleset",
        "event.start",
        "event.end",
        "cloud.instance.id",
        "host.id",
        "dns.question.name",
        "network.transport",
        "process.name",
        "process.executable",
        "process.hash.sha256",
        "process.user.id",
        "process.parent.entity_id",
        "process.parent.pid",
        "container.id",
        "container.image.name",
        "container.security_context.privileged",
        "vulnerability.id",
        "vulnerability.score.base",
        "vulnerability.scanner.vendor",
        "threat.indicator.ip",
        "threat.indicator.type",
        "destination.domain",
        "network.direction",
        "rule.description",
        "rule.reference",
    ];
    let missing: Vec<&str> = groups
        .iter()
        .copied()
        .filter(|g| !seen.contains(*g))
        .collect();
    assert!(missing.is_empty(), "not derived: {missing:?}");
    assert!(
        problems.is_empty(),
        "ECS problems:\n{}",
        problems.join("\n")
    );
}
