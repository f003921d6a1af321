//! The fuzz targets' corpora (`fuzz/corpus/<target>/`, kept in the repository) replayed through
//! the same entry points the fuzzer drives: every input found so far, and every crash fixed,
//! stays a regression test of the normal suite.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no inputs", dir.display());
    for file in &files {
        let data = std::fs::read(file).expect("corpus input");
        run(&data);
    }
    println!("{target}: {} inputs replayed", files.len());
}

#[test]
fn the_framing_corpus_replays() {
    replay("framing", cloudsec::fuzz::framing);
}

#[test]
fn the_records_corpus_replays() {
    replay("records", cloudsec::fuzz::records);
}

#[test]
fn the_envelope_corpus_replays() {
    replay("envelope", cloudsec::fuzz::envelope);
}
