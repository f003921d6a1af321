//! The findings archive and Athena's saved queries: findings published to the topic are what
//! the archive's Firehose subscription receives (raw delivery of the default message); written
//! as Firehose writes them (gzip JSON lines under `dt=<day>/`), the Glue table of the template
//! read by DuckDB, every saved query gives the counts the report shows over the same files.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use cloudsec::detect::Severity;
use cloudsec::engine::ports::LocalFiles;
use cloudsec::publish::sns::SnsSink;
use cloudsec::publish::Sinks;
use cloudsec::report::{html, Report, MAX_PANEL_ROWS};
use cloudsec::state::memory::MemoryStore;
use cloudsec::store::Resolution;
use cloudsec::timefmt::{format_rfc3339, parse_rfc3339};
use cloudsec_integration_tests::{browser, memory_engine, root, unique, Env};
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

fn template() -> Yaml {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

/// A Hive type of the Glue table as DuckDB spells it.
fn duck_type(hive: &str) -> String {
    fn parse(s: &str) -> (String, &str) {
        let s = s.trim_start();
        if let Some(rest) = s.strip_prefix("struct<") {
            let mut fields = Vec::new();
            let mut rest = rest;
            loop {
                let colon = rest.find(':').expect("field name");
                let name = rest[..colon].trim().to_owned();
                let (t, after) = parse(&rest[colon + 1..]);
                fields.push(format!("\"{name}\" {t}"));
                match after.chars().next() {
                    Some(',') => rest = &after[1..],
                    Some('>') => return (format!("STRUCT({})", fields.join(", ")), &after[1..]),
                    other => panic!("unexpected {other:?} in {s}"),
                }
            }
        }
        if let Some(rest) = s.strip_prefix("array<") {
            let (t, after) = parse(rest);
            assert!(after.starts_with('>'), "{s}");
            return (format!("{t}[]"), &after[1..]);
        }
        let end = s.find([',', '>']).unwrap_or(s.len());
        let t = match &s[..end] {
            "string" => "VARCHAR",
            "bigint" => "BIGINT",
            "int" => "INTEGER",
            "double" => "DOUBLE",
            "boolean" => "BOOLEAN",
            other => panic!("type {other} not mapped"),
        };
        (t.to_owned(), &s[end..])
    }
    let (t, rest) = parse(hive);
    assert!(rest.is_empty(), "{hive}");
    t
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("CLOUDSEC_DUCKDB_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    let has = std::process::Command::new(&p)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        assert!(
            std::env::var_os("CLOUDSEC_TEST_TOOLS").is_none(),
            "DuckDB is not installed in {}, and the test command requires it",
            p.display()
        );
        eprintln!("duckdb not installed: archive test skipped");
        return None;
    }
    Some(p)
}

/// `doc`'s times moved by `delta` seconds.
fn shift(doc: &mut Value, delta: i64) {
    let move_time = |v: &mut Value| {
        if let Some(t) = v.as_str().and_then(parse_rfc3339) {
            *v = Value::String(format_rfc3339(t + delta));
        }
    };
    move_time(&mut doc["@timestamp"]);
    move_time(&mut doc["event"]["start"]);
    move_time(&mut doc["event"]["end"]);
    move_time(&mut doc["finding"]["window_start"]);
}

fn gzip_lines(path: &std::path::Path, docs: &[Value]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    for d in docs {
        // SNS separates the messages it gives Firehose with line breaks.
        writeln!(gz, "{d}").unwrap();
    }
    gz.finish().unwrap();
}

#[tokio::test]
async fn the_saved_queries_count_over_the_archive_what_the_report_shows() {
    let Some(env) = Env::new().await else { return };
    let Some(python) = python() else { return };
    let t = template();
    let r = &t["Resources"];

    // The archive's path: the subscription is raw and takes no digest; Firehose writes where
    // the table's projection reads.
    let sub = &r["ArchiveSubscription"]["Properties"];
    assert_eq!(sub["Protocol"], "firehose");
    assert_eq!(sub["RawMessageDelivery"], true);
    assert_eq!(
        sub["FilterPolicy"]["category"][0]["anything-but"][0],
        "digest"
    );
    let s3 = &r["ArchiveStream"]["Properties"]["ExtendedS3DestinationConfiguration"];
    assert_eq!(s3["Prefix"], "archive/findings/dt=!{timestamp:yyyy-MM-dd}/");
    assert_eq!(s3["CompressionFormat"], "GZIP");
    let table = &r["FindingsArchiveTable"]["Properties"]["TableInput"];
    let params = &table["Parameters"];
    assert_eq!(params["projection.enabled"], "true");
    assert_eq!(params["projection.dt.type"], "date");
    assert_eq!(params["projection.dt.format"], "yyyy-MM-dd");
    let Yaml::Tagged(location) = &params["storage.location.template"] else {
        panic!("a !Sub")
    };
    assert_eq!(
        location.value.as_str().unwrap(),
        "s3://${ReportBucket}/archive/findings/dt=${!dt}/"
    );
    let sd = &table["StorageDescriptor"];
    let mapping: BTreeMap<String, String> = sd["SerdeInfo"]["Parameters"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| {
            let column = k.as_str()?.strip_prefix("mapping.")?;
            Some((column.to_owned(), v.as_str()?.to_owned()))
        })
        .collect();
    let mut columns = serde_json::Map::new();
    let mut aliases = serde_json::Map::new();
    for c in sd["Columns"].as_sequence().unwrap() {
        let name = c["Name"].as_str().unwrap();
        let key = mapping.get(name).map_or(name, String::as_str);
        columns.insert(
            key.to_owned(),
            Value::String(duck_type(c["Type"].as_str().unwrap())),
        );
        if key != name {
            aliases.insert(key.to_owned(), Value::String(name.to_owned()));
        }
    }
    let mut queries = serde_json::Map::new();
    for (_, res) in r.as_mapping().unwrap() {
        if res["Type"] == "AWS::Athena::NamedQuery" {
            let p = &res["Properties"];
            queries.insert(
                p["Name"].as_str().unwrap().to_owned(),
                Value::String(p["QueryString"].as_str().unwrap().to_owned()),
            );
        }
    }
    assert!(queries.len() >= 12, "{} saved queries", queries.len());

    // The samples' findings as the topic publishes them: what the subscription receives.
    let engine = memory_engine(
        MemoryStore::new(),
        Sinks::one(SnsSink::new(env.sns.clone(), &env.topic_arn)),
    );
    let sample_files = cloudsec_integration_tests::sample_files();
    for path in &sample_files {
        engine
            .process_object(&LocalFiles, path, None)
            .await
            .expect("sample");
    }
    let mut docs: Vec<Value> = env
        .drain(&env.all_queue)
        .await
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert!(docs.len() >= 30, "{} findings published", docs.len());
    assert!(docs.iter().all(|d| d["event"]["kind"] == "alert"));
    // The saved queries read the last 30 days: the findings as if they came today and
    // yesterday.
    let now = cloudsec::tuning::now();
    let latest = docs
        .iter()
        .filter_map(|d| d["event"]["end"].as_str().and_then(parse_rfc3339))
        .max()
        .unwrap();
    let delta = (now - 86_400) - latest;
    for d in &mut docs {
        shift(d, delta);
    }
    // Firehose's objects: today's folder, and a second object repeating three findings (SNS
    // delivers at least once).
    let dir = root().join("target/archive-test").join(unique("archive"));
    let day = &format_rfc3339(now)[..10];
    let first = dir.join(format!("findings/dt={day}/cloudsec-archive-1.gz"));
    let second = dir.join(format!("findings/dt={day}/cloudsec-archive-2.gz"));
    gzip_lines(&first, &docs);
    gzip_lines(&second, &docs[..3]);

    // The report over the same files, as `cloudsec report --findings` draws it.
    let mut findings = Vec::new();
    for f in [&first, &second] {
        let (mut read, bad, _) = cloudsec::report::read_findings_file(f).expect("archive file");
        assert_eq!(bad, 0);
        findings.append(&mut read);
    }
    let report = Report::of_findings(findings, now, Resolution::default());
    assert_eq!(
        report.rows.len(),
        docs.len(),
        "a repeated finding counts once"
    );
    let page = html::render(&report);
    let mut shown: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (panel, key, n, _) in browser::panel_rows(&page) {
        shown.entry(panel).or_default().insert(key, n);
    }

    // DuckDB over the files, with the template's table and queries.
    let spec = serde_json::json!({
        "glob": format!("{}/findings/*/*.gz", dir.display()),
        "columns": columns,
        "aliases": aliases,
        "queries": queries,
    });
    let mut child = std::process::Command::new(&python)
        .arg(root().join("tests/duckdb_queries.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "DuckDB: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: BTreeMap<String, Vec<Vec<Value>>> = serde_json::from_slice(&out.stdout).unwrap();

    let mut compared = 0;
    for (name, rows) in &results {
        let Some(panel) = name.strip_prefix("cloudsec-") else {
            continue;
        };
        if panel == "risk-overview" {
            // Elastic's score per entity, computed by the query as by the report.
            let sql: BTreeMap<String, (f64, u64)> = rows
                .iter()
                .map(|r| {
                    (
                        r[0].as_str().unwrap().to_owned(),
                        (r[1].as_f64().unwrap(), r[2].as_u64().unwrap()),
                    )
                })
                .collect();
            let ours: BTreeMap<String, (f64, u64)> = report
                .risk
                .iter()
                .map(|e| (e.entity.clone(), (e.score, e.open_findings as u64)))
                .collect();
            assert_eq!(
                sql.keys().collect::<Vec<_>>(),
                ours.keys().collect::<Vec<_>>()
            );
            for (e, (score, n)) in &sql {
                assert!(
                    (score - ours[e].0).abs() < 0.011,
                    "{e}: {score} vs {}",
                    ours[e].0
                );
                assert_eq!(*n, ours[e].1, "{e}");
            }
            compared += 1;
            continue;
        }
        let sql: BTreeMap<String, u64> = rows
            .iter()
            .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].as_u64().unwrap()))
            .collect();
        assert!(
            sql.len() <= MAX_PANEL_ROWS,
            "{panel}: the report lists {MAX_PANEL_ROWS} keys"
        );
        let page_rows = shown.get(panel).cloned().unwrap_or_default();
        assert_eq!(
            sql, page_rows,
            "{panel}: the saved query (left) and the report (right)"
        );
        assert!(!sql.is_empty(), "{panel}: the samples have findings for it");
        compared += 1;
    }
    assert_eq!(compared, queries.len(), "every saved query compared");
    // And the severities the queries can filter on are the findings' own.
    assert!(report
        .rows
        .iter()
        .any(|r| r.finding().finding.severity == Severity::Critical));
}
