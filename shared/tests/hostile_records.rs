//! A property of the reader and the pipeline under hostile input: good records interleaved with
//! garbage of every kind, in every framing (JSON lines, pretty documents, `{"Records":[...]}`,
//! several gzip members), never panic, never lose a record (records in = records used + records
//! kept as bad), and every good record still makes its finding.

use std::collections::BTreeSet;
use std::io::Write;

use cloudsec::detect::Catalogue;
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::sources::LogSource;
use proptest::prelude::*;

/// A record that makes one `user.root-activity` finding for account `n`.
fn good(n: u32) -> serde_json::Value {
    let account = format!("{:012}", 100_000_000_000u64 + u64::from(n));
    serde_json::json!({"eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9", "recipientAccountId": account,
        "requestParameters": {"note": "}]\"{[ \\ é \u{1b}"},
        "userIdentity": {"type": "Root", "accountId": account, "arn": format!("arn:aws:iam::{account}:root")}})
}

/// Garbage that keeps the JSON structure (an array's element): every kind a record can be bad
/// in while still being JSON.
fn json_garbage(kind: u8, n: u32) -> String {
    match kind % 7 {
        0 => serde_json::json!({"foo": n, "layout": "unknown"}).to_string(),
        1 => serde_json::json!({"eventTime": "2026-11-01T10:00:00Z", "eventSource": "s3.amazonaws.com"}).to_string(),
        2 => {
            let mut r = good(n);
            r["eventTime"] = "0000-01-01T00:00:00Z".into();
            r["recipientAccountId"] = "".into();
            r.to_string()
        }
        3 => format!("\"just a string {n}\""),
        4 => n.to_string(),
        5 => serde_json::json!({"eventName": 7, "eventSource": ["x"], "eventTime": {}}).to_string(),
        _ => "null".to_owned(),
    }
}

/// Garbage for line framings: the above, and text that is not JSON at all.
fn line_garbage(kind: u8, n: u32) -> Vec<u8> {
    match kind % 12 {
        7 => format!("not json at all {n} \u{7}\u{1b}[2J").into_bytes(),
        8 => format!("{{\"cut\": \"{n}").into_bytes(),
        9 => vec![0xff, 0xfe, b'{', 0x80, b'}'],
        10 => "\u{feff}".repeat(3).into_bytes(),
        11 => b"]]]}}}".to_vec(),
        k => json_garbage(k, n).into_bytes(),
    }
}

#[derive(Debug, Clone)]
enum Item {
    Good,
    Garbage(u8),
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    prop::collection::vec(
        prop_oneof![Just(Item::Good), any::<u8>().prop_map(Item::Garbage)],
        1..30,
    )
}

fn gzip_members(data: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    bounds.sort();
    bounds.push(data.len());
    for end in bounds {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data[at..end]).unwrap();
        out.extend(enc.finish().unwrap());
        at = end;
    }
    out
}

/// The object, and how many records it holds.
fn object(items: &[Item], framing: u8) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    match framing % 3 {
        // JSON lines
        0 => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Item::Good => out.extend(good(i as u32).to_string().into_bytes()),
                    Item::Garbage(k) => out.extend(line_garbage(*k, i as u32)),
                }
                out.push(b'\n');
            }
        }
        // pretty-printed documents, garbage lines between them
        1 => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Item::Good => out.extend(
                        serde_json::to_string_pretty(&good(i as u32))
                            .unwrap()
                            .into_bytes(),
                    ),
                    Item::Garbage(k) => out.extend(line_garbage(*k, i as u32)),
                }
                out.push(b'\n');
            }
        }
        // {"Records":[...]}, with JSON garbage as elements
        _ => {
            out.extend(b"{\"Records\":[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match item {
                    Item::Good => out.extend(good(i as u32).to_string().into_bytes()),
                    Item::Garbage(k) => out.extend(json_garbage(*k, i as u32).into_bytes()),
                }
            }
            out.extend(b"]}");
        }
    }
    (out, items.len() as u64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn garbage_among_good_records_loses_nothing(
        items in items(),
        framing in any::<u8>(),
        gzip in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..4),
        told in any::<bool>(),
    ) {
        let (plain, _) = object(&items, framing);
        let bytes = if gzip { gzip_members(&plain, &cuts) } else { plain };
        let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
        let source = told.then_some(LogSource::CloudTrail);
        let report = pipeline.scan_any(&bytes[..], "s3://b/hostile", source);
        prop_assert!(report.error.is_none(), "{:?}", report.error);
        // every good record made its finding
        let want: BTreeSet<String> = items
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i, Item::Good))
            .map(|(n, _)| format!("{:012}", 100_000_000_000u64 + n as u64))
            .collect();
        let got: BTreeSet<String> = report
            .groups
            .iter()
            .filter(|g| g.meta().id == "user.root-activity")
            .map(|g| g.clone().build().finding.entity.id)
            .collect();
        prop_assert_eq!(&got, &want);
        let good_count = want.len() as u64;
        prop_assert_eq!(report.records, good_count);
        // nothing is lost: every garbage item's text is kept in a bad record
        let norm = |t: &str| t.trim().trim_start_matches('\u{feff}').to_owned();
        let kept: Vec<String> = report.bad_records.iter().map(|b| norm(&b.raw)).collect();
        for (i, item) in items.iter().enumerate() {
            let Item::Garbage(k) = item else { continue };
            let text = if framing % 3 == 2 {
                json_garbage(*k, i as u32)
            } else {
                String::from_utf8_lossy(&line_garbage(*k, i as u32)).into_owned()
            };
            let text = norm(&text);
            prop_assert!(
                kept.iter().any(|raw| raw.contains(&text)),
                "garbage #{} {:?} not kept: {:?}", i, text, kept
            );
        }
        // records in = records used + records kept as bad; a cut line swallows the lines after
        // it that could continue it (they are kept in its bad record, checked above)
        let cut = framing % 3 != 2
            && items.iter().any(|i| matches!(i, Item::Garbage(k) if k % 12 == 8));
        if cut {
            prop_assert!(report.records + report.bad <= items.len() as u64);
        } else {
            prop_assert_eq!(report.records + report.bad, items.len() as u64);
        }
    }
}
