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
use crate::error::{chain, InputError, PortError};
use crate::pipeline::{BadRecord, InputReport};

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
            .map_err(|e| InputError::Fetch {
                uri: object.uri(),
                reason: chain(&e),
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

/// Where an input's bad records are kept.
pub trait Quarantine: Send + Sync {
    /// Keeps the bad records of `report`; an error fails the input, which is retried.
    fn keep(
        &self,
        input: &InputId,
        report: &InputReport,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// No quarantine configured: the bad records are in the logs only.
impl<Q: Quarantine> Quarantine for Option<Q> {
    async fn keep(&self, input: &InputId, report: &InputReport) -> Result<(), PortError> {
        match self {
            Some(q) => q.keep(input, report).await,
            None => Ok(()),
        }
    }
}

/// The quarantine's content for one input: its bad records as JSON lines with their locations,
/// and, when more were counted than kept, a note pointing at the original object.
pub fn quarantine_lines(input: &InputId, report: &InputReport) -> String {
    let mut body = String::new();
    for bad in &report.bad_records {
        if let Ok(line) = serde_json::to_string(bad) {
            body.push_str(&line);
            body.push('\n');
        }
    }
    if report.bad_records_truncated {
        let note = serde_json::json!({
            "note": "more bad records than kept; the original object holds them all",
            "object": input.uri(), "bad": report.bad,
        });
        body.push_str(&note.to_string());
        body.push('\n');
    }
    body
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
    async fn keep(&self, input: &InputId, report: &InputReport) -> Result<(), PortError> {
        let (key, shortened) = quarantine_key(&self.prefix, input);
        let mut body = String::new();
        if shortened {
            let note = serde_json::json!({
                "note": "the object's key is too long to name this file; this is its quarantine",
                "object": input.uri(),
            });
            body.push_str(&note.to_string());
            body.push('\n');
        }
        body.push_str(&quarantine_lines(input, report));
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/x-ndjson")
            .body(body.into_bytes().into())
            .send()
            .await
            .map_err(|e| PortError::sdk(&format!("quarantine s3://{}/{key}", self.bucket), e))?;
        Ok(())
    }
}

/// Bad records of every input appended to one file as JSON lines (the CLI's `--bad-records`).
#[derive(Debug)]
pub struct FileQuarantine {
    out: Mutex<BufWriter<File>>,
}

impl FileQuarantine {
    /// Creates (or empties) the file at `path`.
    pub fn create(path: &std::path::Path) -> std::io::Result<FileQuarantine> {
        Ok(FileQuarantine {
            out: Mutex::new(BufWriter::new(File::create(path)?)),
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

impl Quarantine for FileQuarantine {
    async fn keep(&self, input: &InputId, report: &InputReport) -> Result<(), PortError> {
        let lines = quarantine_lines(input, report);
        let mut out = self
            .out
            .lock()
            .map_err(|_| PortError::new("quarantine file poisoned"))?;
        out.write_all(lines.as_bytes())
            .map_err(|e| PortError::new(format!("write bad records: {e}")))
    }
}

/// Bad records kept in memory, per input (unit tests).
#[derive(Debug, Default)]
pub struct MemoryQuarantine {
    kept: Mutex<Vec<(String, Vec<BadRecord>)>>,
}

impl MemoryQuarantine {
    /// What was kept, by input address.
    pub fn kept(&self) -> Vec<(String, Vec<BadRecord>)> {
        self.kept.lock().map(|k| k.clone()).unwrap_or_default()
    }
}

impl Quarantine for MemoryQuarantine {
    async fn keep(&self, input: &InputId, report: &InputReport) -> Result<(), PortError> {
        self.kept
            .lock()
            .map_err(|_| PortError::new("memory quarantine poisoned"))?
            .push((input.uri().to_owned(), report.bad_records.clone()));
        Ok(())
    }
}

impl<Q: Quarantine> Quarantine for std::sync::Arc<Q> {
    fn keep(
        &self,
        input: &InputId,
        report: &InputReport,
    ) -> impl Future<Output = Result<(), PortError>> + Send {
        (**self).keep(input, report)
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
