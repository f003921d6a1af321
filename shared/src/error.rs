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
    /// Valid JSON whose fields name none of the sources read here.
    #[error("not a record of any source read here (CloudTrail, WAF, Network Firewall, GuardDuty, Security Hub)")]
    UnknownSource,
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
    /// The object does not exist (S3's `NoSuchKey`): deleted since it was announced or listed.
    #[error("failed to fetch {uri}: it does not exist (NoSuchKey)")]
    Missing {
        /// `s3://bucket/key`.
        uri: String,
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
    Deliver(#[source] PortError),
    /// The state store failed.
    #[error("state store: {0}")]
    State(#[source] PortError),
    /// Another input holds the claim on these findings and has not published them yet: this
    /// input published and settled its own, and is retried a little later.
    #[error("findings being published by another input: {0:?}")]
    Busy(Vec<String>),
}

impl InputError {
    /// Whether retrying the same input can succeed: `false` for a gzip bomb, an event that is
    /// not ours, and a port that refused for a reason a retry does not change (DynamoDB's
    /// `AccessDeniedException` or `ResourceNotFoundException`, SNS's `AuthorizationError`); the
    /// trigger's retry policy then moves the input to the DLQ, where it is kept. A broken or
    /// missing object is retryable: S3 may still be writing it, and the DLQ keeps it if not.
    pub fn is_retryable(&self) -> bool {
        match self {
            InputError::TooLarge { .. } | InputError::Event(_) => false,
            InputError::Deliver(e) | InputError::State(e) => e.is_retryable(),
            _ => true,
        }
    }
}

/// A port (the state store, a sink, the quarantine) failed. It keeps the AWS SDK's error as
/// its source and says whether retrying the input can help.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PortError {
    message: String,
    retryable: bool,
    code: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// Error codes for which a retry of the same request cannot succeed: permissions, missing
/// resources and invalid requests are fixed by a person, not by time.
const PERMANENT_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "ResourceNotFoundException",
    "NotFound",
    "NoSuchBucket",
    "ValidationException",
    "InvalidParameter",
    "InvalidParameterValue",
    "UnrecognizedClientException",
    "KMSAccessDenied",
    "KMSDisabled",
    "KMSNotFound",
];

impl PortError {
    /// A failure with no underlying error (a poisoned lock, a value that cannot be encoded).
    pub fn new(message: impl Into<String>) -> PortError {
        PortError {
            message: message.into(),
            retryable: true,
            code: None,
            source: None,
        }
    }

    /// A failure that a retry cannot mend.
    pub fn permanent(message: impl Into<String>) -> PortError {
        PortError {
            retryable: false,
            ..PortError::new(message)
        }
    }

    /// `what` failed with the SDK's error `e`, kept as the source; retryable unless the
    /// service's error code says a retry cannot help.
    pub fn sdk<E, R>(what: &str, e: aws_sdk_dynamodb::error::SdkError<E, R>) -> PortError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let code = e
            .as_service_error()
            .and_then(|s| s.code())
            .map(str::to_owned);
        let retryable = !code
            .as_deref()
            .is_some_and(|c| PERMANENT_CODES.contains(&c));
        PortError {
            message: format!("{what}: {}", chain(&e)),
            retryable,
            code,
            source: Some(Box::new(e)),
        }
    }

    /// The service's error code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Whether retrying can succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
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
