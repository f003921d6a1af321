//! `cloudsec scan s3://bucket/prefix` against the emulator: the same findings as the same files
//! on disk; with `--since`/`--until`, only the day folders in range are listed (objects on
//! other days cost no request).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use cloudsec::engine::listing::{list_objects, DayRange};
use cloudsec_integration_tests::faults::Faults;
use cloudsec_integration_tests::{root, sample_log_objects, unique, Env};

async fn upload(env: &Env, bucket: &str, objects: &[(String, PathBuf)]) {
    for (key, path) in objects {
        env.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(std::fs::read(path).unwrap().into())
            .send()
            .await
            .unwrap();
    }
}

/// (finding id, count) of `cloudsec scan ARGS --format json`.
fn scan(args: &[&str]) -> BTreeMap<String, u64> {
    scan_output(args)
        .lines()
        .map(|l| {
            let f: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                f["finding"]["id"].as_str().unwrap().to_owned(),
                f["finding"]["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_prefix_in_s3_scans_as_the_same_files_on_disk_and_lists_only_the_days_in_range() {
    let Some(env) = Env::new().await else { return };
    let objects = sample_log_objects();
    let bucket = unique("archive");
    env.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    upload(&env, &bucket, &objects).await;
    let uri = format!("s3://{bucket}/");

    // The whole prefix: the findings of the same files on disk.
    let local = scan(&[
        "samples/cloudtrail",
        "samples/waf",
        "samples/network-firewall",
    ]);
    assert!(local.len() >= 15, "{} findings", local.len());
    assert_eq!(scan(&[&uri]), local);

    // `normalize` reads the prefix as the files: the same ECS events (their `log.file.path`
    // says where each came from).
    let events = |args: &[&str]| -> Vec<String> {
        let mut docs: Vec<String> = cloudsec_ok(&[&["normalize"], args].concat())
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["log"]["file"]["path"] = serde_json::Value::Null;
                v.to_string()
            })
            .collect();
        docs.sort();
        docs
    };
    let from_disk = events(&[
        "samples/cloudtrail",
        "samples/waf",
        "samples/network-firewall",
    ]);
    assert!(from_disk.len() >= 200, "{} events", from_disk.len());
    assert_eq!(events(&[&uri]), from_disk);

    // Listing with a range: the same requests whatever lies on other days.
    let counting = Faults::new(0);
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&env.aws)
            .interceptor(counting.clone())
            .build(),
    );
    let day = DayRange {
        since: Some((2026, 11, 1)),
        until: Some((2026, 11, 1)),
    };
    let listed = list_objects(&client, &bucket, "", day).await.unwrap();
    let keys: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
    let expected: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, expected);
    let requests = counting.requests()["S3.ListObjectsV2"];
    // Other days: a month before, four days after, a year before (copies of the objects).
    let mut others = Vec::new();
    for (key, path) in &objects {
        for other in ["2026/10/30", "2026/11/05", "2025/11/01"] {
            others.push((key.replace("2026/11/01", other), path.clone()));
        }
    }
    upload(&env, &bucket, &others).await;
    counting.reset_counts();
    let listed = list_objects(&client, &bucket, "", day).await.unwrap();
    assert_eq!(listed.len(), objects.len(), "only the day in range");
    assert_eq!(
        counting.requests()["S3.ListObjectsV2"],
        requests,
        "no request for the folders of other days"
    );
    // Open on one side: that day and later.
    let since = DayRange {
        since: Some((2026, 11, 1)),
        until: None,
    };
    let listed = list_objects(&client, &bucket, "AWSLogs/", since)
        .await
        .unwrap();
    assert_eq!(listed.len(), objects.len() * 2);
    assert!(listed
        .iter()
        .all(|o| !o.key.contains("2026/10/30") && !o.key.contains("2025/")));

    // And the command: the day in range finds what the files of that day find.
    assert_eq!(
        scan(&[&uri, "--since", "2026-11-01", "--until", "2026-11-01"]),
        local
    );
    let none = scan(&[&uri, "--since", "2027-01-01"]);
    assert!(none.is_empty());
    // Folders on disk are selected by the same dates in their paths.
    let dirs = [
        "samples/cloudtrail",
        "samples/waf",
        "samples/network-firewall",
    ];
    assert_eq!(
        scan(&[&dirs[..], &["--until", "2026-11-01"]].concat()),
        local
    );
    assert!(scan(&[&dirs[..], &["--since", "2026-11-02"]].concat()).is_empty());
}

/// The whole output of `cloudsec scan ARGS --format json`.
fn scan_output(args: &[&str]) -> String {
    cloudsec_ok(&[&["scan"], args, &["--format", "json"]].concat())
}

/// The standard output of `cloudsec ARGS`, which must succeed.
fn cloudsec_ok(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("cloudsec runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn several_objects_read_at_a_time_find_exactly_what_one_at_a_time_finds() {
    // Windowed findings span files (the spraying run, the login burst): delivered in order,
    // their counts, evidence and times are the sequential run's, byte for byte.
    let one = scan_output(&["samples", "--jobs", "1"]);
    assert!(one.lines().count() >= 30);
    for jobs in ["2", "4", "16"] {
        assert_eq!(
            scan_output(&["samples", "--jobs", jobs]),
            one,
            "--jobs {jobs}"
        );
    }
}

#[test]
fn progress_is_drawn_on_a_terminal_only() {
    // On a pipe (a script's, a test's): the summary alone.
    let piped = Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .args(["scan", "samples", "--format", "json"])
        .current_dir(root())
        .output()
        .expect("cloudsec runs");
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(!stderr.contains(" objects, "), "{stderr}");
    // On a terminal (util-linux's `script` gives it one): objects, bytes, records per second.
    let command = format!(
        "{} scan samples --format json > /dev/null",
        env!("CARGO_BIN_EXE_cloudsec")
    );
    let Ok(tty) = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(root())
        .output()
    else {
        eprintln!("no `script` here: the terminal case is not tried");
        return;
    };
    let shown = String::from_utf8_lossy(&tty.stdout);
    let files = cloudsec_integration_tests::sample_files().len();
    assert!(
        shown.contains(&format!("{files}/{files} objects, ")) && shown.contains(" records/s"),
        "{shown}"
    );
}
