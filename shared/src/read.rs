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
    Ok(sniff_head(reader.fill_buf()?).0)
}

/// The framing of an object starting with `head`, and for `{"Records":[...]}` where its array
/// starts: right after the `:` of its top-level `Records` key, which other keys may precede.
fn sniff_head(head: &[u8]) -> (Framing, usize) {
    let rest = head.trim_ascii_start();
    match rest.first() {
        Some(b'[') => (Framing::Array, 0),
        Some(b'{') => match records_key_end(head) {
            Some(end) => (Framing::RecordsObject, end),
            None => (Framing::Lines, 0),
        },
        _ => (Framing::Lines, 0),
    }
}

/// In a JSON object's text (or its beginning), the offset just after the `:` that follows its
/// first top-level key `"Records"`, found by a scan that follows strings, escapes and nesting.
fn records_key_end(text: &[u8]) -> Option<usize> {
    let mut strings = Strings::default();
    let mut depth = 0u32;
    let mut key_start = None;
    let mut last_string: Option<(usize, usize)> = None;
    for (i, &b) in text.iter().enumerate() {
        let was_open = strings.open;
        if strings.step(b) {
            if !was_open {
                key_start = (depth == 1).then_some(i + 1);
                last_string = None;
            } else if !strings.open {
                last_string = key_start.take().map(|s| (s, i));
            }
            continue;
        }
        match b {
            b':' if depth == 1 => {
                if let Some((s, e)) = last_string.take() {
                    if &text[s..e] == b"Records" {
                        return Some(i + 1);
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                last_string = None;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return None;
                }
                last_string = None;
            }
            b if b.is_ascii_whitespace() => {}
            _ => last_string = None,
        }
    }
    None
}

/// Follows the strings and escapes of JSON text a byte at a time, for the scans of its
/// structure, which look only at the bytes outside strings.
#[derive(Debug, Default)]
struct Strings {
    open: bool,
    escaped: bool,
}

impl Strings {
    /// Takes one byte: `true` when it belongs to a string (its quotes included).
    fn step(&mut self, b: u8) -> bool {
        if self.open {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.open = false;
            }
            return true;
        }
        if b == b'"' {
            self.open = true;
            return true;
        }
        false
    }
}

/// The UTF-8 byte-order mark some tools write before a document.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// At most [`EXCERPT_BYTES`] of `text`, cut on a character boundary: what is kept of a record
/// too large to keep whole.
pub fn excerpt(text: &str) -> &str {
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Bytes kept of a record too large to keep.
pub const EXCERPT_BYTES: usize = 1024;

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
    let head = reader.fill_buf().map_err(|e| io_error(uri, e))?;
    if head.starts_with(BOM) {
        reader.consume(BOM.len());
    }
    let (framing, array_at) = sniff_head(reader.fill_buf().map_err(|e| io_error(uri, e))?);
    match framing {
        Framing::RecordsObject | Framing::Array => {
            // Keys before `Records` were read by the sniff; the splitter starts at its array.
            reader.consume(array_at);
            let (after, next_index) = split_array(&mut reader, uri, visitor)?;
            let malformed = |reason: String| InputError::Malformed {
                uri: uri.to_owned(),
                reason,
            };
            let more = match framing {
                Framing::RecordsObject => {
                    close_object(after, &mut reader, next_index, uri, visitor).map_err(malformed)?
                }
                _ => after,
            };
            // Documents concatenated after the first (one `{"Records":[...]}` per line) are
            // read as JSON lines; anything else after the document is an error.
            let start = more.iter().position(|b| !b.is_ascii_whitespace());
            match start.map(|i| more[i]) {
                None if reader.fill_buf().map_err(|e| io_error(uri, e))?.is_empty() => {}
                None | Some(b'{') | Some(b'[') => {
                    let rest: Box<dyn BufRead + '_> = Box::new(io::Cursor::new(more).chain(reader));
                    read_lines(rest, uri, visitor)?;
                }
                Some(_) => {
                    let text = String::from_utf8_lossy(&more);
                    return Err(malformed(format!(
                        "unexpected text after the records: {:.40}",
                        text.trim()
                    )));
                }
            }
        }
        Framing::Lines => read_lines(reader, uri, visitor)?,
    }
    Ok(framing)
}

/// After the `Records` array of a `{"Records":[...]}` document: the object's other keys (a
/// second `Records` array is read too) and its `}`. Returns what follows the object, as far as
/// it was read.
fn close_object<V: RecordVisitor>(
    mut after: Vec<u8>,
    reader: &mut Box<dyn BufRead + '_>,
    next_index: u64,
    uri: &str,
    visitor: &mut V,
) -> Result<Vec<u8>, String> {
    // The rest of the object is a few bytes in a CloudTrail file; it is read up to the
    // record limit, and must end within it.
    let mut more = Vec::new();
    reader
        .take(MAX_RECORD_BYTES as u64)
        .read_to_end(&mut more)
        .map_err(|e| io_error(uri, e).to_string())?;
    after.extend_from_slice(&more);
    let start = after
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or("the object ends before its closing `}`")?;
    match after[start] {
        b'}' => Ok(after.split_off(start + 1)),
        b',' => {
            // `{` + the other keys: an object of its own, read as a document.
            let end = object_end(&after[start..]).ok_or_else(|| {
                format!("the keys after the records do not close within {MAX_RECORD_BYTES} bytes")
            })? + start;
            let mut tail = Vec::with_capacity(end - start + 1);
            tail.push(b'{');
            tail.extend_from_slice(&after[start + 1..end]);
            let mut de = serde_json::Deserializer::from_slice(&tail);
            Document {
                visitor,
                next_index,
            }
            .deserialize(&mut de)
            .map_err(|e| format!("after the records: {e}"))?;
            Ok(after.split_off(end))
        }
        other => Err(format!(
            "expected `}}` after the records, found `{}`",
            char::from(other)
        )),
    }
}

/// The offset after the `}` that closes an object whose `{` was just before `text`.
fn object_end(text: &[u8]) -> Option<usize> {
    let mut strings = Strings::default();
    let mut depth = 1u32;
    for (i, &b) in text.iter().enumerate() {
        if strings.step(b) {
            continue;
        }
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where the splitter is in the top-level array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Between {
    /// After `[` or `,`: an element (or, right after `[`, the closing `]`) comes next.
    Expecting,
    /// Inside an element.
    Inside,
    /// After an element: `,` or `]` comes next.
    Finished,
}

/// Splits the elements of the top-level array (`{"Records":[...]}` or `[...]`) out of the
/// stream without parsing them: a scan that only follows strings, escapes and nesting, over
/// decompressed chunks, handing each element's text to the visitor, where the source's typed
/// parser reads it from the slice. This is much faster than a serde visitor over an
/// `io::Read` (which reads byte by byte and copies each record), and a record whose JSON is
/// broken inside balanced brackets costs only that record.
fn split_array<V: RecordVisitor>(
    reader: &mut Box<dyn BufRead + '_>,
    uri: &str,
    visitor: &mut V,
) -> Result<(Vec<u8>, u64), InputError> {
    let malformed = |reason: String| InputError::Malformed {
        uri: uri.to_owned(),
        reason,
    };
    // The opening `[`, with any whitespace before it.
    let mut opening: &[&[u8]] = &[b"["];
    let mut buf: Vec<u8> = Vec::with_capacity(READ_BUFFER * 4);
    let mut pos = 0usize; // next byte to look at
    let mut start = 0usize; // start of the current element
    let mut state = Between::Expecting;
    let (mut depth, mut in_str, mut esc) = (0u32, false, false);
    let mut index = 0u64;
    let mut skipping = false; // an element over MAX_RECORD_BYTES, being skipped
    let mut skipped_head = String::new();
    let mut first = true; // no element yet: `]` may close an empty array
    let mut eof = false;
    loop {
        // Refill when everything read has been looked at.
        if pos >= buf.len() {
            if eof {
                break;
            }
            // Drop what no element needs any more, then read on.
            let keep_from = if state == Between::Inside && !skipping {
                start
            } else {
                pos
            };
            buf.drain(..keep_from);
            pos -= keep_from;
            start -= keep_from.min(start);
            let chunk = reader.fill_buf().map_err(|e| io_error(uri, e))?;
            if chunk.is_empty() {
                eof = true;
                continue;
            }
            buf.extend_from_slice(chunk);
            let n = chunk.len();
            reader.consume(n);
            continue;
        }
        if !opening.is_empty() {
            let b = buf[pos];
            if b.is_ascii_whitespace() {
                pos += 1;
                continue;
            }
            let want = opening[0];
            if buf.len() - pos < want.len() {
                // Not enough bytes yet to compare the token: read more.
                if eof {
                    return Err(malformed("the object ends before its records".into()));
                }
                let chunk = reader.fill_buf().map_err(|e| io_error(uri, e))?;
                if chunk.is_empty() {
                    eof = true;
                }
                buf.extend_from_slice(chunk);
                let n = chunk.len();
                reader.consume(n);
                continue;
            }
            if &buf[pos..pos + want.len()] != want {
                return Err(malformed(format!(
                    "expected `{}` at the start of the object",
                    String::from_utf8_lossy(want)
                )));
            }
            pos += want.len();
            opening = &opening[1..];
            continue;
        }
        match state {
            Between::Expecting | Between::Finished => {
                let b = buf[pos];
                pos += 1;
                match b {
                    b' ' | b'\n' | b'\r' | b'\t' => {}
                    b',' if state == Between::Finished => {
                        state = Between::Expecting;
                    }
                    b']' if state == Between::Finished || first => {
                        return Ok((buf.split_off(pos), index));
                    }
                    _ if state == Between::Expecting => {
                        state = Between::Inside;
                        first = false;
                        start = pos - 1;
                        pos -= 1;
                        (depth, in_str, esc) = (0, false, false);
                    }
                    other => {
                        return Err(malformed(format!(
                            "expected `,` or `]` after record #{}, found `{}`",
                            index.saturating_sub(1),
                            char::from(other)
                        )))
                    }
                }
            }
            Between::Inside => {
                // Scan this chunk for the element's end.
                let mut end = None;
                let bytes = &buf[pos..];
                let mut i = 0;
                while i < bytes.len() {
                    let b = bytes[i];
                    if in_str {
                        if esc {
                            esc = false;
                        } else if b == b'\\' {
                            esc = true;
                        } else if b == b'"' {
                            in_str = false;
                            if depth == 0 {
                                end = Some(i + 1);
                                break;
                            }
                        }
                    } else {
                        match b {
                            b'"' => in_str = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' if depth > 0 => {
                                depth -= 1;
                                if depth == 0 {
                                    end = Some(i + 1);
                                    break;
                                }
                            }
                            // A scalar element ends where the array goes on or closes.
                            b',' | b']' | b'}' if depth == 0 => {
                                end = Some(i);
                                break;
                            }
                            _ => {}
                        }
                    }
                    i += 1;
                }
                match end {
                    None => {
                        pos = buf.len();
                        if !skipping && pos - start > MAX_RECORD_BYTES {
                            skipping = true;
                            skipped_head =
                                String::from_utf8_lossy(&buf[start..start + EXCERPT_BYTES])
                                    .into_owned();
                        }
                        if skipping {
                            // Keep nothing of an element too large to keep.
                            start = pos;
                        }
                        if eof {
                            break;
                        }
                    }
                    Some(e) => {
                        let stop = pos + e;
                        let position = RecordPosition::Index(index);
                        index += 1;
                        if skipping {
                            visitor.malformed(
                                position,
                                &skipped_head,
                                RecordError::TooLarge {
                                    limit: MAX_RECORD_BYTES,
                                },
                            );
                            skipping = false;
                        } else {
                            let raw = &buf[start..stop];
                            match std::str::from_utf8(raw) {
                                Ok(text) => visitor.record(position, text.trim_end()),
                                Err(e) => visitor.malformed(
                                    position,
                                    &String::from_utf8_lossy(raw),
                                    RecordError::Syntax(format!("not UTF-8: {e}")),
                                ),
                            }
                        }
                        pos = stop;
                        start = stop;
                        state = Between::Finished;
                    }
                }
            }
        }
    }
    Err(malformed(match state {
        Between::Inside => format!("the object ends inside record #{index}"),
        _ => "the object ends before its array is closed".into(),
    }))
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
    // After a pretty-printed document over the record limit: its remaining lines are part of
    // the one bad record already kept, until the line that closes it at column 0.
    let mut skipping_document = false;
    loop {
        if pending.is_empty() && !skipping_document {
            // Blank lines and indentation between documents are skipped in bulk, a buffer at
            // a time, counting the lines they end.
            loop {
                let buf = reader.fill_buf().map_err(|e| io_error(uri, e))?;
                let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
                line_no += buf[..blank].iter().filter(|&&b| b == b'\n').count() as u64;
                let whole = blank == buf.len() && blank > 0;
                reader.consume(blank);
                if !whole {
                    break;
                }
            }
        }
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
            let head = String::from_utf8_lossy(&line[..EXCERPT_BYTES]).into_owned();
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
        if skipping_document {
            let closes = text.starts_with('}') || text.starts_with(']');
            let opens = text.starts_with('{') || text.starts_with('[');
            skipping_document = !(closes || opens);
            if !opens {
                continue;
            }
        }
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
                excerpt(&pending),
                RecordError::TooLarge {
                    limit: MAX_RECORD_BYTES,
                },
            );
            pending.clear();
            skipping_document = !(text.starts_with('}') || text.starts_with(']'));
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
    let is_records = sniff_head(raw.as_bytes()).0 == Framing::RecordsObject;
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
    fn broken_structure_of_the_array_is_an_input_error() {
        // An element cut by the end of the object.
        let (r, c) = read(br#"{"Records":[{"a":1},{"a":"#, u64::MAX);
        assert!(matches!(r, Err(InputError::Malformed { .. })), "{r:?}");
        assert_eq!(c.records.len(), 1);
        // Garbage between elements.
        let (r, _) = read(br#"{"Records":[{"a":1} x {"a":2}]}"#, u64::MAX);
        assert!(matches!(r, Err(InputError::Malformed { .. })), "{r:?}");
        // Not closed.
        let (r, _) = read(br#"{"Records":[{"a":1}"#, u64::MAX);
        assert!(matches!(r, Err(InputError::Malformed { .. })), "{r:?}");
        // Text after the object.
        let (r, _) = read(br#"{"Records":[{"a":1}]} trailing"#, u64::MAX);
        assert!(matches!(r, Err(InputError::Malformed { .. })), "{r:?}");
    }

    #[test]
    fn a_record_broken_inside_its_brackets_costs_only_that_record() {
        // The record is handed on as text; its parser rejects it, the rest goes on.
        let (r, c) = read(br#"{"Records":[{"a":1},{"a":},{"a":3}]}"#, u64::MAX);
        assert_eq!(r.unwrap(), Framing::RecordsObject);
        let texts: Vec<&str> = c.records.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, vec![r#"{"a":1}"#, r#"{"a":}"#, r#"{"a":3}"#]);
        assert_eq!(c.records[2].0, RecordPosition::Index(2));
    }

    #[test]
    fn strings_with_brackets_quotes_and_escapes_do_not_confuse_the_splitter() {
        let doc = br#"{ "Records" : [ {"a":"}]\"{[","b":["x",{"c":"\\"}]} ,
            {"d":"\u00e9t\u00e9 ]"}, 7, "s,]" ], "Other": {"k": [1]} }"#;
        let (r, c) = read(doc, u64::MAX);
        assert_eq!(r.unwrap(), Framing::RecordsObject);
        assert_eq!(c.records.len(), 4, "{:?}", c.records);
        assert_eq!(c.records[0].1, r#"{"a":"}]\"{[","b":["x",{"c":"\\"}]}"#);
        assert_eq!(c.records[2].1, "7");
        assert_eq!(c.records[3].1, r#""s,]""#);
        let (r, c) = read(b"[]", u64::MAX);
        assert!(r.is_ok() && c.records.is_empty());
        let (r, c) = read(br#"{"Records":[]}"#, u64::MAX);
        assert!(r.is_ok() && c.records.is_empty());
    }

    #[test]
    fn records_split_across_read_chunks_are_whole() {
        // Records larger than the read buffer, in a gzip stream.
        let big = "x".repeat(200_000);
        let doc = format!(r#"{{"Records":[{{"a":"{big}"}},{{"b":1}},{{"c":"{big}"}}]}}"#);
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(doc.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let (r, c) = read(&gz, u64::MAX);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(c.records.len(), 3);
        assert_eq!(c.records[0].1.len(), big.len() + 8);
        assert_eq!(c.records[1].1, r#"{"b":1}"#);
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

    fn texts(c: &Collect) -> Vec<&str> {
        c.records.iter().map(|(_, t)| t.as_str()).collect()
    }

    #[test]
    fn a_byte_order_mark_before_the_document_is_skipped() {
        let (r, c) = read(b"\xEF\xBB\xBF{\"Records\":[{\"a\":1},{\"a\":2}]}", u64::MAX);
        assert_eq!(r.unwrap(), Framing::RecordsObject);
        assert_eq!(texts(&c), vec![r#"{"a":1}"#, r#"{"a":2}"#]);
        assert!(c.bad.is_empty());
        let (_, c) = read(&gzip(b"\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n"), u64::MAX);
        assert_eq!(c.records.len(), 2, "{:?}", c.bad);
    }

    #[test]
    fn records_after_other_keys_are_streamed() {
        let doc = br#"{"version": {"v": "1.0", "x": ["Records"]}, "Records" : [{"a":1},{"a":2}]}"#;
        let (r, c) = read(doc, u64::MAX);
        assert_eq!(r.unwrap(), Framing::RecordsObject);
        assert_eq!(texts(&c), vec![r#"{"a":1}"#, r#"{"a":2}"#]);
        assert!(c.bad.is_empty());
    }

    #[test]
    fn a_second_records_key_is_read_too() {
        let doc = br#"{"Records":[{"a":1}],"other":{"b":[1]},"Records":[{"a":2},{"a":3}]}"#;
        let (r, c) = read(doc, u64::MAX);
        assert_eq!(r.unwrap(), Framing::RecordsObject);
        assert_eq!(texts(&c).len(), 3);
        assert_eq!(c.records[2].0, RecordPosition::Index(2), "indices go on");
        // And in a JSON line, in any order.
        let (_, c) = read(
            b"{\"x\":0}\n{\"k\":1,\"Records\":[{\"a\":1}],\"Records\":[{\"a\":2}]}\n",
            u64::MAX,
        );
        assert_eq!(texts(&c), vec![r#"{"x":0}"#, r#"{"a":1}"#, r#"{"a":2}"#]);
    }

    #[test]
    fn one_records_document_per_line_is_read_whole() {
        let doc = b"{\"Records\":[{\"a\":1}]}\n{\"Records\":[{\"a\":2},{\"a\":3}]}\n\n{\"Records\":[]}\n{\"a\":4}\n";
        let (r, c) = read(doc, u64::MAX);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(texts(&c).len(), 4, "{:?}", c.bad);
        assert!(c.bad.is_empty());
        // Text that is no document after the first is still an error.
        let (r, _) = read(br#"{"Records":[{"a":1}]} trailing"#, u64::MAX);
        assert!(r.is_err());
    }

    #[test]
    fn an_overlong_pretty_document_cut_inside_a_character_is_kept_not_a_panic() {
        // A pretty-printed document over the record limit whose byte 1,024 falls inside "é".
        let mut doc = String::from("{\n \"");
        doc.push_str(&"a".repeat(EXCERPT_BYTES - 4));
        doc.push('é');
        doc.push_str("\": 1,\n");
        while doc.len() <= MAX_RECORD_BYTES {
            doc.push_str("  \"k\": \"ééééééééééééééééééééééééééééééé\",\n");
        }
        doc.push_str("  \"z\": 0\n}\n{\"after\":1}\n");
        let (r, c) = read(doc.as_bytes(), u64::MAX);
        assert!(r.is_ok());
        assert_eq!(c.bad.len(), 1);
        assert!(matches!(c.bad[0].2, RecordError::TooLarge { .. }));
        assert!(c.bad[0].1.len() <= EXCERPT_BYTES);
        assert_eq!(texts(&c), vec![r#"{"after":1}"#]);
    }

    #[test]
    fn blank_lines_are_skipped_and_lines_still_counted() {
        let mut doc = vec![b'\n'; 300_000];
        doc.extend_from_slice(b"  \t {\"a\":1}\n\n\n{\"a\":2}\n");
        doc.extend(std::iter::repeat_n(b' ', 200_000));
        let (_, c) = read(&gzip(&doc), u64::MAX);
        assert_eq!(
            c.records.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![RecordPosition::Line(300_001), RecordPosition::Line(300_004)]
        );
    }
}
