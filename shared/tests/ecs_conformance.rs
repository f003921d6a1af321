//! Every field we emit outside `aws.*` (and, in findings, the product's `finding.*`) exists in
//! ECS (`../shared/reference/ecs/fields.csv`) with a compatible type, and the categorization
//! values are allowed ones (`allowed_values.json`), each `event.type` allowed by one of the
//! event's categories. Checked over every CloudTrail record we have: our samples, AWS's
//! documentation examples, Panther's and StreamAlert's test logs, as ECS events and as findings,
//! through the whole catalogue; no well-formed record may be rejected.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;

use cloudsec::detect::evaluate::{evaluate, settle, StateConfig};
use cloudsec::detect::Catalogue;
use cloudsec::pipeline::{Pipeline, PipelineConfig};
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
    let mut out = Vec::new();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/cloudtrail");
    let mut stack = vec![samples];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("samples") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("sample");
                let mut text = String::new();
                use std::io::Read;
                if p.extension().is_some_and(|x| x == "gz") {
                    flate2::read::MultiGzDecoder::new(&bytes[..])
                        .read_to_string(&mut text)
                        .expect("gunzip");
                } else {
                    text = String::from_utf8(bytes).expect("utf8");
                }
                out.push((p.display().to_string(), text));
            }
        }
    }
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
        let groups = pipeline
            .scan(text.as_bytes(), name, LogSource::CloudTrail)
            .groups;
        let fired = runtime
            .block_on(async {
                let evaluation = evaluate(&store, name, groups, 0, &StateConfig::default()).await?;
                settle(&store, &evaluation.fired).await?;
                evaluation.check_busy()?;
                Ok::<_, cloudsec::detect::evaluate::EvaluateError>(evaluation.fired)
            })
            .expect("evaluate");
        for f in fired.into_iter().map(|f| f.finding) {
            findings += 1;
            let doc = serde_json::to_value(&f).expect("serialize");
            for p in ecs.check(&doc, &["finding"]) {
                problems.insert(format!("finding {}: {p}", f.rule.id));
            }
            for e in &f.finding.evidence {
                let doc: Value = serde_json::from_str(e.get()).expect("evidence json");
                for p in ecs.check(&doc, &[]) {
                    problems.insert(format!("evidence: {p}"));
                }
            }
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
