//! One module per log source: its typed record, how to recognize it, and its ECS mapping.

pub mod cloudtrail;

/// The sources `log-ingest` reads from S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    /// CloudTrail log files.
    CloudTrail,
}

impl LogSource {
    /// The ECS `event.dataset` of the source.
    pub fn dataset(self) -> &'static str {
        match self {
            LogSource::CloudTrail => "aws.cloudtrail",
        }
    }
}

/// What to do with an object, decided from its key before it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVerdict {
    /// Read it as this source.
    Read(LogSource),
    /// A CloudTrail digest file: signatures, no events.
    SkipDigest,
}

/// Decides from the key. Keys that match no known layout are read as CloudTrail, whose content
/// (`{"Records":[...]}` of CloudTrail records) is then checked record by record.
pub fn classify_key(key: &str) -> KeyVerdict {
    if key.contains("/CloudTrail-Digest/") || key.starts_with("CloudTrail-Digest/") {
        return KeyVerdict::SkipDigest;
    }
    KeyVerdict::Read(LogSource::CloudTrail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_files_are_skipped() {
        let k = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_org_us-east-1_20261101T000000Z.json.gz";
        assert_eq!(classify_key(k), KeyVerdict::SkipDigest);
        let k = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/111122223333_CloudTrail_us-east-1_20261101T0000Z_abc.json.gz";
        assert_eq!(classify_key(k), KeyVerdict::Read(LogSource::CloudTrail));
    }
}
