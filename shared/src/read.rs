//! Reading log objects: decompression, the decompressed-size cap, and framing into raw records.
//!
//! Everything here is synchronous over `std::io::Read`, so it is tested without tokio or AWS; the
//! Lambda bridges the S3 body into it with `tokio_util::io::SyncIoBridge` on a blocking thread.
//! The decompressed object is never held whole: records are handed to a [`RecordVisitor`] one by
//! one as they are decoded.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::{InputError, RecordError, RecordPosition};

/// Default cap on the decompressed size of one object. CloudTrail objects are rarely above a few
/// hundred MB decompressed; a gzip bomb expands far beyond.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 4 << 30;

/// Largest single record (one JSON line, or one pretty-printed document) that is accepted. A
/// CloudTrail record is at most a few hundred KB; this bounds memory for a line with no newline.
pub const MAX_RECORD_BYTES: usize = 8 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const READ_BUFFER: usize = 64 << 10;

/// Receives the records of an object, in order.
pub trait RecordVisitor {
    /// One record, as its JSON text (not yet checked against any source's shape).
    fn record(&mut self, position: RecordPosition, raw: &str);
    /// A record that is not even JSON (JSON lines only: in an array, a syntax error ends the
    /// object). `raw` is what was read, to be kept.
    fn malformed(&mut self, position: RecordPosition, raw: &str, error: RecordError);
}

/// The error a capped reader returns once the cap is passed.
#[derive(Debug)]
struct CapExceeded(u64);

impl fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "decompressed size exceeds {} bytes", self.0)
    }
}

impl std::error::Error for CapExceeded {}

/// Counts what passes through and fails once more than `limit` bytes have been read. Unlike
/// `Read::take`, which would end the stream quietly and make a cut object look complete.
struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(CapExceeded(self.limit)));
        }
        Ok(n)
    }
}

/// Opens an object for reading: gzip (any number of members) when it starts with the gzip magic
/// bytes, plain otherwise, and capped at `max_decompressed` bytes.
pub fn open<'r, R: Read + 'r>(raw: R, max_decompressed: u64) -> io::Result<Box<dyn BufRead + 'r>> {
    let mut raw = BufReader::with_capacity(READ_BUFFER, raw);
    let is_gzip = raw.fill_buf()?.starts_with(&GZIP_MAGIC);
    let decoded: Box<dyn Read + 'r> = if is_gzip {
        Box::new(MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    Ok(Box::new(BufReader::with_capacity(
        READ_BUFFER,
        Capped {
            inner: decoded,
            read: 0,
            limit: max_decompressed,
        },
    )))
}

/// How the records of an object are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `{"Records":[...]}`: a CloudTrail log file.
    RecordsObject,
    /// `[ {...}, {...} ]`.
    Array,
    /// One JSON document per line (pretty-printed documents are accepted too).
    Lines,
}

/// Looks at the first bytes to tell the framing; an empty object reads as lines (of which there
/// are none).
pub fn sniff(reader: &mut dyn BufRead) -> io::Result<Framing> {
    let head = reader.fill_buf()?;
    let mut rest = head.trim_ascii_start();
    match rest.first() {
        Some(b'[') => return Ok(Framing::Array),
        Some(b'{') => rest = rest[1..].trim_ascii_start(),
        _ => return Ok(Framing::Lines),
    }
    if rest.starts_with(b"\"Records\"") {
        Ok(Framing::RecordsObject)
    } else {
        Ok(Framing::Lines)
    }
}

/// Reads every record of `reader` into `visitor`. `uri` names the object in errors.
///
/// Record-level problems go to [`RecordVisitor::malformed`]; an error that leaves the rest of the
/// object unreadable (a broken stream, the size cap, a syntax error inside an array) is returned,
/// after every record before it was visited.
pub fn read_records<V: RecordVisitor>(
    mut reader: Box<dyn BufRead + '_>,
    uri: &str,
    visitor: &mut V,
) -> Result<Framing, InputError> {
    let framing = sniff(&mut reader).map_err(|e| io_error(uri, e))?;
    match framing {
        Framing::RecordsObject | Framing::Array => {
            let mut de = serde_json::Deserializer::from_reader(reader);
            let seed = Document {
                visitor,
                next_index: 0,
            };
            seed.deserialize(&mut de)
                .and_then(|()| de.end())
                .map_err(|e| json_error(uri, e))?;
        }
        Framing::Lines => read_lines(reader, uri, visitor)?,
    }
    Ok(framing)
}

fn read_lines<V: RecordVisitor>(
    mut reader: Box<dyn BufRead + '_>,
    uri: &str,
    visitor: &mut V,
) -> Result<(), InputError> {
    let mut line = Vec::with_capacity(4096);
    // A pretty-printed document spans lines; they are gathered here until it parses.
    let mut pending = String::new();
    let mut pending_start = 0u64;
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_RECORD_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(uri, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.len() > MAX_RECORD_BYTES {
            // Skip to the end of this overlong line, keeping its head as evidence.
            let head = String::from_utf8_lossy(&line[..1024]).into_owned();
            skip_line(&mut reader).map_err(|e| io_error(uri, e))?;
            visitor.malformed(
                RecordPosition::Line(line_no),
                &head,
                RecordError::TooLarge {
                    limit: MAX_RECORD_BYTES,
                },
            );
            continue;
        }
        let text = match std::str::from_utf8(&line) {
            Ok(t) => t,
            Err(e) => {
                let lossy = String::from_utf8_lossy(&line).into_owned();
                visitor.malformed(
                    RecordPosition::Line(line_no),
                    lossy.trim_end(),
                    RecordError::Syntax(format!("not UTF-8: {e}")),
                );
                continue;
            }
        };
        // A document starting at column 0 while another is still open means the open one was
        // cut (a truncated line): keep it aside and read this line on its own. Lines inside a
        // pretty-printed document are indented, so they never start a new one.
        if !pending.is_empty() && (text.starts_with('{') || text.starts_with('[')) {
            visitor.malformed(
                RecordPosition::Line(pending_start),
                pending.trim(),
                RecordError::Syntax("document not closed before the next one starts".into()),
            );
            pending.clear();
        }
        if pending.is_empty() {
            let trimmed = text.trim();
            if trimmed.is_empty() {
                continue;
            }
            match serde_json::from_str::<&RawValue>(trimmed) {
                Ok(raw) => emit_document(raw.get(), RecordPosition::Line(line_no), uri, visitor),
                Err(e) if e.is_eof() => {
                    pending_start = line_no;
                    pending.push_str(text);
                }
                Err(e) => {
                    visitor.malformed(
                        RecordPosition::Line(line_no),
                        trimmed,
                        RecordError::Syntax(e.to_string()),
                    );
                }
            }
            continue;
        }
        pending.push_str(text);
        if pending.len() > MAX_RECORD_BYTES {
            visitor.malformed(
                RecordPosition::Line(pending_start),
                &pending[..1024],
                RecordError::TooLarge {
                    limit: MAX_RECORD_BYTES,
                },
            );
            pending.clear();
            continue;
        }
        // Pretty printers close a top-level document at column 0; trying to parse only there
        // keeps a long pretty-printed document from being re-parsed at every line.
        if !(text.starts_with('}') || text.starts_with(']')) {
            continue;
        }
        match serde_json::from_str::<&RawValue>(pending.trim()) {
            Ok(raw) => {
                emit_document(raw.get(), RecordPosition::Line(pending_start), uri, visitor);
                pending.clear();
            }
            Err(e) if e.is_eof() => {}
            Err(e) => {
                visitor.malformed(
                    RecordPosition::Line(pending_start),
                    pending.trim(),
                    RecordError::Syntax(e.to_string()),
                );
                pending.clear();
            }
        }
    }
    if !pending.trim().is_empty() {
        visitor.malformed(
            RecordPosition::Line(pending_start),
            pending.trim(),
            RecordError::Syntax("document not closed before the end of the object".into()),
        );
    }
    Ok(())
}

/// A line holding a whole `{"Records":[...]}` (CloudTrail files concatenated, one per line) is
/// expanded into its records; any other document is one record.
fn emit_document<V: RecordVisitor>(
    raw: &str,
    position: RecordPosition,
    uri: &str,
    visitor: &mut V,
) {
    let is_records = {
        let mut slice: &[u8] = raw.as_bytes();
        matches!(sniff(&mut slice), Ok(Framing::RecordsObject))
    };
    if !is_records {
        visitor.record(position, raw);
        return;
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    let seed = Document {
        visitor,
        next_index: 0,
    };
    if let Err(e) = seed.deserialize(&mut de) {
        visitor.malformed(position, raw, RecordError::Syntax(format!("{uri}: {e}")));
    }
}

fn skip_line(reader: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            reader.consume(i + 1);
            return Ok(());
        }
        let n = buf.len();
        reader.consume(n);
    }
}

fn io_error(uri: &str, e: io::Error) -> InputError {
    if let Some(cap) = e.get_ref().and_then(|i| i.downcast_ref::<CapExceeded>()) {
        return InputError::TooLarge {
            uri: uri.to_owned(),
            limit: cap.0,
        };
    }
    InputError::Read {
        uri: uri.to_owned(),
        reason: e.to_string(),
    }
}

fn json_error(uri: &str, e: serde_json::Error) -> InputError {
    if e.is_io() {
        // serde_json wraps the reader's error; recover it to tell the cap from a broken stream.
        let io: io::Error = e.into();
        return io_error(uri, io);
    }
    InputError::Malformed {
        uri: uri.to_owned(),
        reason: e.to_string(),
    }
}

/// The top level of an object in array framings: `{"Records":[...], ...}` or `[...]`.
struct Document<'v, V> {
    visitor: &'v mut V,
    next_index: u64,
}

impl<'de, V: RecordVisitor> DeserializeSeed<'de> for Document<'_, V> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, V: RecordVisitor> Visitor<'de> for Document<'_, V> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"{"Records":[...]} or an array of records"#)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Records => map.next_value_seed(Elements {
                    visitor: &mut *self.visitor,
                    next_index: &mut self.next_index,
                })?,
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<(), A::Error> {
        Elements {
            visitor: &mut *self.visitor,
            next_index: &mut self.next_index,
        }
        .visit_seq(seq)
    }
}

#[derive(serde::Deserialize)]
enum TopKey {
    Records,
    #[serde(other)]
    Other,
}

struct Elements<'v, V> {
    visitor: &'v mut V,
    next_index: &'v mut u64,
}

impl<'de, V: RecordVisitor> DeserializeSeed<'de> for Elements<'_, V> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, V: RecordVisitor> Visitor<'de> for Elements<'_, V> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Box<RawValue> rather than &RawValue: from a reader nothing can be borrowed; the record's
        // bytes are copied once, and the typed parse then borrows from that copy.
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            self.visitor
                .record(RecordPosition::Index(*self.next_index), raw.get());
            *self.next_index += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    #[derive(Default)]
    struct Collect {
        records: Vec<(RecordPosition, String)>,
        bad: Vec<(RecordPosition, String, RecordError)>,
    }

    impl RecordVisitor for Collect {
        fn record(&mut self, position: RecordPosition, raw: &str) {
            self.records.push((position, raw.to_owned()));
        }
        fn malformed(&mut self, position: RecordPosition, raw: &str, error: RecordError) {
            self.bad.push((position, raw.to_owned(), error));
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn read(bytes: &[u8], cap: u64) -> (Result<Framing, InputError>, Collect) {
        let mut c = Collect::default();
        let r = open(bytes, cap).map(|reader| read_records(reader, "test", &mut c));
        (r.unwrap(), c)
    }

    #[test]
    fn records_object_plain_and_gzip() {
        let doc = br#"{"Records":[{"a":1},{"b":"x\"y"}], "extra": {"k": [1,2]}}"#;
        for bytes in [doc.to_vec(), gzip(doc)] {
            let (r, c) = read(&bytes, u64::MAX);
            assert_eq!(r.unwrap(), Framing::RecordsObject);
            assert_eq!(c.records.len(), 2);
            assert_eq!(c.records[1].0, RecordPosition::Index(1));
            assert_eq!(c.records[1].1, r#"{"b":"x\"y"}"#);
        }
    }

    #[test]
    fn multi_member_gzip_is_read_whole() {
        let mut bytes = gzip(b"{\"a\":1}\n");
        bytes.extend(gzip(b"{\"a\":2}\n"));
        let (r, c) = read(&bytes, u64::MAX);
        assert!(r.is_ok());
        assert_eq!(c.records.len(), 2, "second gzip member lost");
    }

    #[test]
    fn json_lines_keep_going_after_a_bad_line() {
        let text = b"{\"a\":1}\nnot json\n\n{\"a\":3}\n";
        let (r, c) = read(text, u64::MAX);
        assert_eq!(r.unwrap(), Framing::Lines);
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.records[1].0, RecordPosition::Line(4));
        assert_eq!(c.bad.len(), 1);
        assert_eq!(c.bad[0].0, RecordPosition::Line(2));
        assert_eq!(c.bad[0].1, "not json");
    }

    #[test]
    fn pretty_printed_documents_are_read_as_one_record() {
        let text = b"{\n  \"a\": {\n    \"b\": 1\n  }\n}\n{\"c\":2}\n";
        let (_, c) = read(text, u64::MAX);
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.records[0].0, RecordPosition::Line(1));
        assert!(c.bad.is_empty());
    }

    #[test]
    fn unclosed_document_at_end_is_kept_as_malformed() {
        let (r, c) = read(b"{\"a\":1}\n{\"b\":\n", u64::MAX);
        assert!(r.is_ok());
        assert_eq!(c.records.len(), 1);
        assert_eq!(c.bad.len(), 1);
        assert_eq!(c.bad[0].0, RecordPosition::Line(2));
    }

    #[test]
    fn a_cut_line_does_not_swallow_the_next_records() {
        let (_, c) = read(b"{\"a\":1}\n{\"b\": \n{\"c\":3}\n{\"d\":4}\n", u64::MAX);
        assert_eq!(c.records.len(), 3, "{:?}", c.records);
        assert_eq!(c.bad.len(), 1);
        assert_eq!(c.bad[0].0, RecordPosition::Line(2));
    }

    #[test]
    fn records_line_in_json_lines_is_expanded() {
        let (_, c) = read(
            b"{\"x\":0}\n{\"Records\":[{\"a\":1},{\"a\":2}]}\n",
            u64::MAX,
        );
        assert_eq!(c.records.len(), 3);
    }

    #[test]
    fn truncated_gzip_fails_after_the_records_before_the_cut() {
        let mut body = String::from("{\"Records\":[");
        for i in 0..2000 {
            body.push_str(&format!(
                "{{\"i\":{i},\"pad\":\"{}\"}},",
                "x".repeat(i % 50)
            ));
        }
        body.push_str("{}]}");
        let gz = gzip(body.as_bytes());
        let (r, c) = read(&gz[..gz.len() / 2], u64::MAX);
        let err = r.unwrap_err();
        assert!(
            matches!(err, InputError::Read { .. } | InputError::Malformed { .. }),
            "{err:?}"
        );
        assert!(
            !c.records.is_empty(),
            "records before the cut were not read"
        );
        assert!(c.records.len() < 2001);
    }

    #[test]
    fn cap_stops_a_gzip_bomb() {
        let zeros = vec![b' '; 4 << 20];
        let gz = gzip(&zeros);
        assert!(gz.len() < 64 << 10);
        let (r, _) = read(&gz, 1 << 20);
        assert!(matches!(r, Err(InputError::TooLarge { limit, .. }) if limit == 1 << 20));
        let (r, _) = read(&gz, 8 << 20);
        assert!(r.is_ok());
    }

    #[test]
    fn syntax_error_inside_records_is_an_input_error() {
        let (r, c) = read(br#"{"Records":[{"a":1},{"a":}]}"#, u64::MAX);
        assert!(matches!(r, Err(InputError::Malformed { .. })));
        assert_eq!(c.records.len(), 1);
    }

    #[test]
    fn top_level_array() {
        let (r, c) = read(b" [ {\"a\":1}, {\"a\":2} ] ", u64::MAX);
        assert_eq!(r.unwrap(), Framing::Array);
        assert_eq!(c.records.len(), 2);
    }

    #[test]
    fn not_utf8_line_is_malformed_not_fatal() {
        let (r, c) = read(b"{\"a\":1}\n\xff\xfe\n{\"a\":2}\n", u64::MAX);
        assert!(r.is_ok());
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.bad.len(), 1);
    }
}
