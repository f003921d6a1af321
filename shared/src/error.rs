//! Errors, split the way the pipeline treats them.
//!
//! A [`RecordError`] concerns one record: it is counted, logged with its location, the record is
//! kept (quarantined) and the rest of the object goes on. An [`InputError`] concerns a whole input
//! (an S3 object, an SQS message): the input fails so that it is retried.

use std::fmt;

/// Where a record came from: enough to find it again by hand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// `s3://bucket/key` or a file path.
    pub object: String,
    /// 1-based line for JSON lines, 0-based array index for `{"Records":[...]}`.
    pub record: RecordPosition,
}

/// Position of a record inside its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordPosition {
    /// Index into the `Records` array (or a top-level array), from 0.
    Index(u64),
    /// Line of a JSON-lines object, from 1.
    Line(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            RecordPosition::Index(i) => write!(f, "{} record #{}", self.object, i),
            RecordPosition::Line(l) => write!(f, "{} line {}", self.object, l),
        }
    }
}

/// One record that could not be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// Not valid JSON.
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// Valid JSON, but not a record of the expected source (a missing or mistyped field).
    #[error("not a {source_name} record: {reason}")]
    Shape {
        /// The source the record was read as.
        source_name: &'static str,
        /// What serde or the mapping said.
        reason: String,
    },
    /// A single record larger than the reader accepts.
    #[error("record larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// A whole input failed; it must be retried (or, when it can never succeed, sent to a DLQ by the
/// retry policy of the trigger).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The object could not be fetched.
    #[error("failed to fetch {uri}: {reason}")]
    Fetch {
        /// `s3://bucket/key`.
        uri: String,
        /// The SDK's error, with its source chain.
        reason: String,
    },
    /// The byte stream broke: truncated gzip, a read error half-way.
    #[error("failed to read {uri}: {reason}")]
    Read {
        /// `s3://bucket/key` or a path.
        uri: String,
        /// What the decoder or the stream said.
        reason: String,
    },
    /// The object decompresses to more than the configured cap (a gzip bomb, or a cap set too low).
    #[error("{uri} decompresses to more than {limit} bytes")]
    TooLarge {
        /// `s3://bucket/key` or a path.
        uri: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// The JSON structure of the object broke (for `{"Records":[...]}` nothing after a syntax
    /// error can be read reliably).
    #[error("malformed {uri}: {reason}")]
    Malformed {
        /// `s3://bucket/key` or a path.
        uri: String,
        /// serde_json's message, with line and column.
        reason: String,
    },
    /// The notification itself could not be understood.
    #[error("unrecognized event: {0}")]
    Event(String),
    /// Findings could not be published, or bad records could not be quarantined.
    #[error("failed to deliver: {0}")]
    Deliver(String),
    /// The state store failed.
    #[error("state store: {0}")]
    State(String),
}

impl InputError {
    /// Whether retrying the same input can succeed. A gzip bomb or a malformed object will fail
    /// the same way every time; the trigger's retry policy moves it to the DLQ, where it is kept.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, InputError::TooLarge { .. } | InputError::Event(_))
    }
}

/// Formats an error with its whole `source()` chain, as the SDK's errors hide the cause there.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}
