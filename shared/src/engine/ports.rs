//! The engine's ports other than the state store and the sinks: where objects come from, where
//! bad records are kept, and what time it is. Each has the adapter used in AWS and one for the
//! CLI and the tests beside it.

use std::fs::File;
use std::future::Future;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use tokio_util::io::SyncIoBridge;

use super::InputId;
use crate::envelope::ObjectRef;
use crate::error::Location;
use crate::error::{chain, InputError, PortError};
use crate::pipeline::{BadRecord, BadRecordSink};

/// An object opened for reading.
pub struct Opened {
    /// The input it is (for S3, with the version read).
    pub input: InputId,
    /// Its size, when known.
    pub size: Option<u64>,
    /// Its bytes, as stored (gzip or plain): read on a blocking thread.
    pub body: Box<dyn Read + Send>,
}

/// Where objects come from.
pub trait ObjectSource: Send + Sync {
    /// How the caller names an object.
    type Ref: Send + Sync;

    /// The object's key (or path): what its source is told from.
    fn key(&self, object: &Self::Ref) -> String;

    /// Whether the announcement already says there is nothing to read (a 0-byte object, a
    /// "folder").
    fn known_empty(&self, _object: &Self::Ref) -> bool {
        false
    }

    /// Opens the object; an error fails the input, which is retried.
    fn open(&self, object: &Self::Ref) -> impl Future<Output = Result<Opened, InputError>> + Send;
}

/// Objects in S3, streamed.
#[derive(Debug, Clone)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
}

impl S3Objects {
    /// Objects read with `client`.
    pub fn new(client: aws_sdk_s3::Client) -> S3Objects {
        S3Objects { client }
    }
}

impl ObjectSource for S3Objects {
    type Ref = ObjectRef;

    fn key(&self, object: &ObjectRef) -> String {
        object.key.clone()
    }

    fn known_empty(&self, object: &ObjectRef) -> bool {
        object.size == Some(0) || object.key.ends_with('/')
    }

    async fn open(&self, object: &ObjectRef) -> Result<Opened, InputError> {
        let response = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    InputError::Missing { uri: object.uri() }
                } else {
                    InputError::Fetch {
                        uri: object.uri(),
                        reason: chain(&e),
                    }
                }
            })?;
        let input = InputId::s3(&object.bucket, &object.key, response.e_tag());
        Ok(Opened {
            input,
            size: response
                .content_length()
                .and_then(|n| u64::try_from(n).ok()),
            body: Box::new(SyncIoBridge::new(response.body.into_async_read())),
        })
    }
}

/// Files on the local disk, by path.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalFiles;

impl ObjectSource for LocalFiles {
    type Ref = PathBuf;

    fn key(&self, object: &PathBuf) -> String {
        object.to_string_lossy().into_owned()
    }

    async fn open(&self, object: &PathBuf) -> Result<Opened, InputError> {
        let uri = object.display().to_string();
        let file = File::open(object).map_err(|e| InputError::Fetch {
            uri: uri.clone(),
            reason: e.to_string(),
        })?;
        let size = file.metadata().ok().map(|m| m.len());
        // The ledger needs the path to the byte: two names that are not UTF-8 may display
        // alike. `Debug` writes such bytes as escapes.
        let mut input = InputId::file(&uri);
        if object.to_str().is_none() {
            input.ledger = format!("{object:?}");
        }
        Ok(Opened {
            input,
            size,
            body: Box::new(file),
        })
    }
}

/// Where an input's bad records are kept: each is handed to the writer as it is read (on the
/// reading thread), and the writer is finished once the input is read to its end, or abandoned
/// when it was not (the input is then retried and written again).
pub trait Quarantine: Send + Sync {
    /// A writer for the bad records of `input`.
    fn open(&self, input: &InputId) -> Box<dyn QuarantineWriter>;
}

/// The bad records of one input, as they come.
pub trait QuarantineWriter: BadRecordSink {
    /// Keeps what was written, once the input is read to its end. Called on the reading thread.
    fn finish(self: Box<Self>) -> Result<(), PortError>;
    /// Throws away what was written: the input failed and is retried.
    fn abort(self: Box<Self>) {}
}

/// One line of a quarantine file: where the record was, why it was not used, its text.
#[derive(serde::Serialize)]
struct Line<'a> {
    location: &'a Location,
    error: &'a str,
    raw: &'a str,
}

fn line(location: &Location, error: &str, raw: &str) -> std::io::Result<Vec<u8>> {
    let mut out = serde_json::to_vec(&Line {
        location,
        error,
        raw,
    })?;
    out.push(b'\n');
    Ok(out)
}

/// Keeps nothing: no quarantine is configured, the bad records are in the logs only.
struct Discard;

impl BadRecordSink for Discard {
    fn keep(&mut self, _: &Location, _: &str, _: &str) -> std::io::Result<()> {
        Ok(())
    }
}

impl QuarantineWriter for Discard {
    fn finish(self: Box<Self>) -> Result<(), PortError> {
        Ok(())
    }
}

/// No quarantine configured: the bad records are in the logs only.
impl<Q: Quarantine> Quarantine for Option<Q> {
    fn open(&self, input: &InputId) -> Box<dyn QuarantineWriter> {
        match self {
            Some(q) => q.open(input),
            None => Box::new(Discard),
        }
    }
}

impl<Q: Quarantine> Quarantine for std::sync::Arc<Q> {
    fn open(&self, input: &InputId) -> Box<dyn QuarantineWriter> {
        (**self).open(input)
    }
}

/// Bad records kept in S3, one object per input: `s3://bucket/<prefix><name>.bad.jsonl`.
#[derive(Debug, Clone)]
pub struct S3Quarantine {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl S3Quarantine {
    /// A quarantine under `prefix` of `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, prefix: &str) -> S3Quarantine {
        S3Quarantine {
            client,
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        }
    }
}

/// S3 keys are at most 1,024 bytes.
pub const MAX_S3_KEY_BYTES: usize = 1024;

/// Bytes of bad records buffered before they are sent as one part of a multipart upload: S3's
/// parts are at least 5 MiB (but the last); this bounds the memory of any number of bad
/// records.
pub const QUARANTINE_PART_BYTES: usize = 8 << 20;

/// Where an input's bad records are kept under `prefix`: `<prefix><name>.bad.jsonl`, or, when
/// that key would be longer than S3 allows, `<prefix>long-keys/<sha-256 of the name>.bad.jsonl`
/// (the file's first line then names the input).
pub fn quarantine_key(prefix: &str, input: &InputId) -> (String, bool) {
    let key = format!("{prefix}{}.bad.jsonl", input.name());
    if key.len() <= MAX_S3_KEY_BYTES {
        return (key, false);
    }
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(input.name().as_bytes()));
    (format!("{prefix}long-keys/{digest}.bad.jsonl"), true)
}

impl Quarantine for S3Quarantine {
    fn open(&self, input: &InputId) -> Box<dyn QuarantineWriter> {
        let (key, shortened) = quarantine_key(&self.prefix, input);
        let mut buf = Vec::new();
        if shortened {
            let note = serde_json::json!({
                "note": "the object's key is too long to name this file; this is its quarantine",
                "object": input.uri(),
            });
            buf.extend_from_slice(note.to_string().as_bytes());
            buf.push(b'\n');
        }
        Box::new(S3Writer {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key,
            runtime: tokio::runtime::Handle::try_current().ok(),
            buf,
            records: 0,
            upload: None,
        })
    }
}

/// Streams one input's bad records to S3: one `PutObject` when they fit in a part, a multipart
/// upload of [`QUARANTINE_PART_BYTES`] parts when they do not. Runs on the reading thread, so
/// it waits for each request on the runtime it was opened on.
struct S3Writer {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    runtime: Option<tokio::runtime::Handle>,
    buf: Vec<u8>,
    records: u64,
    upload: Option<(String, Vec<aws_sdk_s3::types::CompletedPart>)>,
}

impl S3Writer {
    fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// A failed request about this quarantine object, with the SDK's error as its source.
    fn failed<E, R>(&self, e: aws_sdk_s3::error::SdkError<E, R>) -> PortError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        PortError::sdk(&format!("quarantine {}", self.uri()), e)
    }

    fn wait<F: std::future::Future>(&self, f: F) -> Result<F::Output, PortError> {
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| PortError::new("the quarantine was opened outside a tokio runtime"))?;
        Ok(rt.block_on(f))
    }

    /// Sends what is buffered as the next part, starting the upload on the first.
    fn send_part(&mut self) -> Result<(), PortError> {
        if self.upload.is_none() {
            let req = self
                .client
                .create_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type("application/x-ndjson")
                .send();
            let out = self.wait(req)?.map_err(|e| self.failed(e))?;
            let id = out
                .upload_id()
                .ok_or_else(|| PortError::new("CreateMultipartUpload returned no upload id"))?;
            self.upload = Some((id.to_owned(), Vec::new()));
        }
        let Some((id, parts)) = &self.upload else {
            return Ok(());
        };
        let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
        let body = std::mem::take(&mut self.buf);
        let req = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(id)
            .part_number(number)
            .body(body.into())
            .send();
        let out = self.wait(req)?.map_err(|e| self.failed(e))?;
        let part = aws_sdk_s3::types::CompletedPart::builder()
            .part_number(number)
            .set_e_tag(out.e_tag().map(str::to_owned))
            .build();
        if let Some((_, parts)) = &mut self.upload {
            parts.push(part);
        }
        Ok(())
    }
}

impl BadRecordSink for S3Writer {
    fn keep(&mut self, location: &Location, error: &str, raw: &str) -> std::io::Result<()> {
        self.buf.extend(line(location, error, raw)?);
        self.records += 1;
        if self.buf.len() >= QUARANTINE_PART_BYTES {
            self.send_part().map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

impl QuarantineWriter for S3Writer {
    fn finish(mut self: Box<Self>) -> Result<(), PortError> {
        if self.records == 0 {
            return Ok(());
        }
        if self.upload.is_none() {
            let body = std::mem::take(&mut self.buf);
            let req = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type("application/x-ndjson")
                .body(body.into())
                .send();
            self.wait(req)?.map_err(|e| self.failed(e))?;
            return Ok(());
        }
        if !self.buf.is_empty() {
            self.send_part()?;
        }
        let Some((id, parts)) = self.upload.take() else {
            return Ok(());
        };
        let req = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(id)
            .multipart_upload(
                aws_sdk_s3::types::CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send();
        self.wait(req)?.map_err(|e| self.failed(e))?;
        Ok(())
    }

    fn abort(self: Box<Self>) {
        if let Some((id, _)) = &self.upload {
            let req = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(id)
                .send();
            // The bucket's lifecycle also ends incomplete uploads; a failure here only delays it.
            if let Ok(Err(e)) = self.wait(req) {
                tracing::warn!(quarantine = %self.uri(), error = %crate::error::chain(&e), "abort of the quarantine upload failed");
            }
        }
    }
}

/// Bad records of every input appended to one file as JSON lines (the CLI's `--bad-records`).
#[derive(Debug)]
pub struct FileQuarantine {
    out: std::sync::Arc<Mutex<BufWriter<File>>>,
}

impl FileQuarantine {
    /// Creates (or empties) the file at `path`.
    pub fn create(path: &std::path::Path) -> std::io::Result<FileQuarantine> {
        Ok(FileQuarantine {
            out: std::sync::Arc::new(Mutex::new(BufWriter::new(File::create(path)?))),
        })
    }

    /// Writes what is buffered.
    pub fn flush(&self) -> std::io::Result<()> {
        match self.out.lock() {
            Ok(mut out) => out.flush(),
            Err(_) => Err(std::io::Error::other("quarantine file poisoned")),
        }
    }
}

struct FileWriter(std::sync::Arc<Mutex<BufWriter<File>>>);

impl BadRecordSink for FileWriter {
    fn keep(&mut self, location: &Location, error: &str, raw: &str) -> std::io::Result<()> {
        let bytes = line(location, error, raw)?;
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("quarantine file poisoned"))?
            .write_all(&bytes)
    }
}

impl QuarantineWriter for FileWriter {
    fn finish(self: Box<Self>) -> Result<(), PortError> {
        Ok(())
    }
}

impl Quarantine for FileQuarantine {
    fn open(&self, _: &InputId) -> Box<dyn QuarantineWriter> {
        Box::new(FileWriter(std::sync::Arc::clone(&self.out)))
    }
}

/// Bad records by input address.
type Kept = std::sync::Arc<Mutex<Vec<(String, Vec<BadRecord>)>>>;

/// Bad records kept in memory, per input (unit tests).
#[derive(Debug, Default)]
pub struct MemoryQuarantine {
    kept: Kept,
}

impl MemoryQuarantine {
    /// What was kept, by input address.
    pub fn kept(&self) -> Vec<(String, Vec<BadRecord>)> {
        self.kept.lock().map(|k| k.clone()).unwrap_or_default()
    }
}

struct MemoryWriter {
    input: String,
    records: Vec<BadRecord>,
    kept: Kept,
}

impl BadRecordSink for MemoryWriter {
    fn keep(&mut self, location: &Location, error: &str, raw: &str) -> std::io::Result<()> {
        self.records.push(BadRecord {
            location: location.clone(),
            error: error.to_owned(),
            raw: raw.to_owned(),
        });
        Ok(())
    }
}

impl QuarantineWriter for MemoryWriter {
    fn finish(self: Box<Self>) -> Result<(), PortError> {
        if !self.records.is_empty() {
            self.kept
                .lock()
                .map_err(|_| PortError::new("memory quarantine poisoned"))?
                .push((self.input, self.records));
        }
        Ok(())
    }
}

impl Quarantine for MemoryQuarantine {
    fn open(&self, input: &InputId) -> Box<dyn QuarantineWriter> {
        Box::new(MemoryWriter {
            input: input.uri().to_owned(),
            records: Vec::new(),
            kept: std::sync::Arc::clone(&self.kept),
        })
    }
}

/// What time it is, in Unix seconds: claims to publish a finding are leases on it.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A clock that stands where it is set (tests).
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock at `now`.
    pub fn at(now: i64) -> FixedClock {
        FixedClock(AtomicI64::new(now))
    }

    /// Moves it to `now`.
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::Relaxed);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantine_keys_stay_within_s3s_limit() {
        let short = InputId::s3("logs", "AWSLogs/1/CloudTrail/x.json.gz", Some("e"));
        assert_eq!(
            quarantine_key("quarantine/", &short),
            (
                "quarantine/logs/AWSLogs/1/CloudTrail/x.json.gz.bad.jsonl".to_owned(),
                false
            )
        );
        let long = InputId::s3("logs", &"k/".repeat(510), Some("e"));
        let (key, shortened) = quarantine_key("quarantine/", &long);
        assert!(shortened);
        assert!(key.len() <= MAX_S3_KEY_BYTES, "{}", key.len());
        assert!(key.starts_with("quarantine/long-keys/"));
        let other = InputId::s3("logs", &"j/".repeat(510), Some("e"));
        assert_ne!(quarantine_key("quarantine/", &other).0, key);
    }
}
