//! `cloudsec scan` against hostile files: control characters never reach the terminal, the
//! decompressed-size cap is the user's to set, odd file names are read, and memory stays
//! bounded however many bad records a file holds.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cloudsec_integration_tests::{gzip, trail_file, trail_stopped_by, unique};
use serde_json::json;

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("cloudsec-cli"));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn cloudsec(args: &[&str], path: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .args(args)
        .arg(path)
        .output()
        .expect("cloudsec runs")
}

#[test]
fn control_characters_from_logs_never_reach_the_terminal() {
    let dir = scratch();
    // GIVEN a trail stopped by a user whose name retitles the terminal, clears the screen and
    // forges a line
    let name = "eve\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nCRITICAL forged";
    let record = trail_stopped_by(name);
    let file = dir.join("ct.json");
    std::fs::write(&file, trail_file(&[record])).expect("write");
    // WHEN it is scanned into a table
    let out = cloudsec(&["scan", "--format", "table"], &file);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    // THEN the findings are there, with the name escaped: no ESC, BEL or CR is printed
    assert!(table.contains("config.cloudtrail-stopped"), "{table}");
    assert!(table.contains("eve\\u{1b}"), "{table}");
    for c in ['\u{1b}', '\u{7}', '\r'] {
        assert!(!table.contains(c), "{c:?} reached the terminal: {table:?}");
    }
    assert_eq!(
        table.lines().filter(|l| l.starts_with("CRITICAL")).count(),
        0
    );
}

#[test]
fn the_decompressed_size_cap_is_the_users_to_set() {
    let dir = scratch();
    let file = dir.join("bomb.json.gz");
    // 4 MB of blank lines compress to a few KB
    std::fs::write(&file, gzip(&vec![b'\n'; 4 << 20])).expect("write");
    let out = cloudsec(
        &[
            "scan",
            "--format",
            "json",
            "--max-decompressed-bytes",
            "1048576",
        ],
        &file,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("decompresses to more than 1048576 bytes"),
        "{err}"
    );
    let out = cloudsec(&["scan", "--format", "json"], &file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn files_whose_names_are_not_utf8_are_read_and_counted() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch();
    let record = json!({"eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9", "recipientAccountId": "111122223333",
        "userIdentity": {"type": "Root", "accountId": "111122223333", "arn": "arn:aws:iam::111122223333:root"}});
    for name in [&b"\xff.json"[..], &b"\xfe.json"[..]] {
        let path = dir.join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(path, trail_file(std::slice::from_ref(&record))).expect("write");
    }
    let out = cloudsec(&["scan", "--format", "json"], &dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scanned 2 files"), "{err}");
    assert!(err.contains("2 records"), "{err}");
}

#[test]
fn three_million_bad_lines_are_counted_in_bounded_memory() {
    let dir = scratch();
    let file = dir.join("bad.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..3_000_000u32 {
        writeln!(enc, "not a record {i}").expect("gzip");
    }
    std::fs::write(&file, enc.finish().expect("gzip")).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .args(["scan", "--format", "json"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cloudsec runs");
    // The peak resident set, read while it runs (the last reading before it exits).
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    while child.try_wait().expect("wait").is_none() {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3000000 bad records"), "{err}");
    println!(
        "3,000,000 bad lines: peak RSS {:.1} MB",
        peak_kib as f64 / 1024.0
    );
    assert!(peak_kib > 0, "the process was measured");
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
}

#[test]
fn every_bad_record_is_written_not_only_a_sample() {
    let dir = scratch();
    let file = dir.join("bad.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Twice the sample the reader keeps in memory (10,000), and one good record.
    for i in 0..20_000u32 {
        writeln!(enc, "not a record {i}").expect("gzip");
    }
    std::fs::write(&file, enc.finish().expect("gzip")).expect("write");
    let bad_out = dir.join("bad-records.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_cloudsec"))
        .args(["scan", "--format", "json", "--bad-records"])
        .arg(&bad_out)
        .arg(&file)
        .output()
        .expect("cloudsec runs");
    assert!(out.status.success());
    let kept = std::fs::read_to_string(&bad_out).expect("bad records file");
    let lines: Vec<serde_json::Value> = kept
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 20_000, "every bad record is kept");
    assert_eq!(lines[19_999]["location"]["record"]["line"], 20_000);
    assert_eq!(lines[19_999]["raw"], "not a record 19999");
}
