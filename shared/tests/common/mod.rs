//! Access to `../shared` (the corpora and the ECS reference), beside the project.

#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/<rel>` from the project root, or `None` with a notice when it is missing outside
/// CI. Under CI a missing corpus fails the test: CI always has it.
pub fn shared_path(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing: CI must have ../shared beside the project",
            p.display()
        );
    }
    eprintln!("skipped: {} is missing", p.display());
    None
}

/// Removes Panther's enrichment keys (`p_*`) from a log, recursively at the top level.
pub fn strip_panther_fields(v: &mut serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.starts_with("p_"));
    }
}

/// Every CloudTrail-shaped record of the corpora, as text: Panther's test cases (all of AWS's;
/// those that are not CloudTrail records fail its parse) and the bundled samples. Empty, with
/// a notice, when `../shared` is missing outside CI.
pub fn cloudtrail_corpus_records() -> Vec<String> {
    use serde_json::Value;
    let Some(path) = shared_path("corpora/panther/panther_aws_test_cases.jsonl") else {
        return Vec::new();
    };
    let mut records: Vec<String> = Vec::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let mut log = case["log"].clone();
        strip_panther_fields(&mut log);
        records.push(log.to_string());
    }
    for (_, text) in sample_texts("cloudtrail") {
        let doc: Value = serde_json::from_str(&text).unwrap();
        records.extend(
            doc["Records"]
                .as_array()
                .into_iter()
                .flatten()
                .map(Value::to_string),
        );
    }
    records
}

/// Every file under `samples/<dir>` (`samples` itself for ""), at any depth.
pub fn sample_files(dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samples")
        .join(dir)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("samples") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Every file under `samples/<dir>`, at any depth, as text (gunzipped when it ends in `.gz`).
pub fn sample_texts(dir: &str) -> Vec<(PathBuf, String)> {
    sample_files(dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("sample");
            let mut text = String::new();
            if path.extension().is_some_and(|x| x == "gz") {
                std::io::Read::read_to_string(
                    &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
                    &mut text,
                )
                .expect("gunzip");
            } else {
                text = String::from_utf8(bytes).expect("utf8");
            }
            (path, text)
        })
        .collect()
}
