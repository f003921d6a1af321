//! Entry points of the fuzz targets (`fuzz/`, run with `cargo fuzz`) and of the replay of their
//! corpora in the normal test suite (`shared/tests/fuzz_corpus.rs`): one function per target,
//! over arbitrary bytes. Each must return for any input, without panicking.

use std::io::Read;

use crate::detect::Catalogue;
use crate::error::{RecordError, RecordPosition};
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::read::{self, RecordVisitor};
use crate::sources::{LogSource, Record};

/// Decompressed bytes a fuzz input may expand to: a gzip bomb fails at the cap, as in AWS.
const FUZZ_MAX_DECOMPRESSED: u64 = 16 << 20;

struct Count(u64);

impl RecordVisitor for Count {
    fn record(&mut self, _: RecordPosition, raw: &str) {
        self.0 += raw.len() as u64;
    }
    fn malformed(&mut self, _: RecordPosition, raw: &str, _: RecordError) {
        self.0 += raw.len() as u64;
    }
}

/// The framing: decompression, the cap, and splitting into records.
pub fn framing(data: &[u8]) {
    if let Ok(reader) = read::open(data, FUZZ_MAX_DECOMPRESSED) {
        let _ = read::read_records(reader, "fuzz", &mut Count(0));
    }
}

/// Each source's record parser and ECS mapping, and the whole pipeline (every rule) over the
/// bytes as an object of unknown source and of each source.
pub fn records(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        for source in LogSource::ALL {
            if let Ok(record) = Record::parse(source, text) {
                let _ = record.time();
                let _ = serde_json::to_string(&record.to_ecs(Some("fuzz")));
            }
        }
    }
    let pipeline = Pipeline::new(
        Catalogue::builtin(),
        PipelineConfig {
            max_decompressed_bytes: FUZZ_MAX_DECOMPRESSED,
            ..PipelineConfig::default()
        },
    );
    let mut sources: Vec<Option<LogSource>> = vec![None];
    sources.extend(LogSource::ALL.map(Some));
    for source in sources {
        let report = pipeline.scan_any(data, "fuzz", source);
        for group in report.groups {
            let _ = serde_json::to_string(&group.build());
        }
    }
}

/// The envelopes of both functions: S3, SQS, SNS and EventBridge notifications for log-ingest,
/// EventBridge finding events for finding-ingest.
pub fn envelope(data: &[u8]) {
    let mut text = String::new();
    if (&data[..]).read_to_string(&mut text).is_err() {
        return;
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        let _ = crate::envelope::unwrap(&value);
    }
    let _ = crate::sources::unwrap_eventbridge(&text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_points_take_anything() {
        for data in [
            &b""[..],
            b"\x1f\x8b",
            b"{\"Records\":[",
            b"[[[[",
            b"\xff\xfe",
            b"{\"Records\":{}}",
        ] {
            framing(data);
            records(data);
            envelope(data);
        }
    }
}
