//! Unwrapping S3 object notifications from every shape AWS delivers them in.
//!
//! A notification reaches `log-ingest` as a plain S3 event, as the body of SQS messages, inside an
//! SNS notification (itself possibly inside SQS), or as an EventBridge "Object Created" event.
//! The outer envelopes are `aws_lambda_events` types; the S3 notification itself is read with a
//! tolerant struct of our own, because real and emulated notifications differ in optional fields
//! (`userIdentity`, `requestParameters`), and the `s3:TestEvent` has another shape altogether.

use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::Value;

use crate::error::InputError;

/// One S3 object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Key, URL-decoded.
    pub key: String,
    /// Size in bytes, when the notification says.
    pub size: Option<u64>,
    /// S3's per-key ordering token, when given.
    pub sequencer: Option<String>,
}

impl ObjectRef {
    /// `s3://bucket/key`.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// What one notification asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Read this object.
    Object(ObjectRef),
    /// S3's `s3:TestEvent`, sent when a notification is configured: nothing to read.
    TestEvent,
    /// A notification of something other than a created object (a delete, a restore).
    Ignored(String),
    /// A finding refused before, to publish again ([`crate::publish::retry`]): the message's
    /// `cloudsec_republish` member.
    Republish(Value),
    /// An object a backfill sent with `--hold` ([`BACKFILL_KEY`]): read and kept, its findings
    /// not published.
    Held(ObjectRef),
}

/// The member a backfill adds to the S3 notifications it sends: `{"hold": true}` holds the
/// findings of their objects.
pub const BACKFILL_KEY: &str = "cloudsec_backfill";

/// One unit of retry: an SQS message (identified, so it alone can be retried), or the whole
/// invocation for the other triggers.
#[derive(Debug)]
pub struct Input {
    /// The SQS message id, for `batchItemFailures`.
    pub message_id: Option<String>,
    /// The objects it names, or why it could not be understood.
    pub notices: Result<Vec<Notice>, InputError>,
}

/// The shape of the invocation, to answer in kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// SQS: answer with `batchItemFailures`.
    Sqs,
    /// S3, SNS or EventBridge invoking the function directly: fail the invocation to retry.
    Direct,
}

/// Whether `event` is an S3 Batch Operations invocation (schema 1.0 or 2.0).
pub fn is_batch_job(event: &Value) -> bool {
    event.get("invocationSchemaVersion").is_some() && event.get("tasks").is_some()
}

/// An S3 Batch Operations invocation, its tasks read.
#[derive(Debug)]
pub struct BatchJob {
    /// `invocationSchemaVersion`, answered back.
    pub schema_version: Option<String>,
    /// `invocationId`, answered back.
    pub invocation_id: Option<String>,
    /// The tasks, in order.
    pub tasks: Vec<BatchTask>,
}

/// One task of a job: its id, and its object or why it names none.
#[derive(Debug)]
pub struct BatchTask {
    /// `taskId`, answered back.
    pub id: Option<String>,
    /// The object.
    pub object: Result<ObjectRef, String>,
}

/// Reads an S3 Batch Operations event: schema 1.0 names the bucket by ARN (`s3BucketArn`),
/// 2.0 by name (`s3Bucket`); keys are URL-encoded (`%XX`; a `+` is a plus sign here).
pub fn batch_job(event: &Value) -> Result<BatchJob, InputError> {
    let parsed: aws_lambda_events::event::s3::batch_job::S3BatchJobEvent =
        serde_json::from_value(event.clone())
            .map_err(|e| InputError::Event(format!("S3 Batch Operations event: {e}")))?;
    let raw = event["tasks"].as_array().cloned().unwrap_or_default();
    let tasks = parsed
        .tasks
        .into_iter()
        .zip(raw)
        .map(|(task, raw)| {
            let bucket = raw
                .get("s3Bucket")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    task.s3_bucket_arn
                        .as_deref()
                        .and_then(|arn| arn.rsplit(":::").next())
                        .map(str::to_owned)
                })
                .filter(|b| !b.is_empty());
            let key = task
                .s3_key
                .as_deref()
                .map(|k| percent_decode_str(k).decode_utf8_lossy().into_owned())
                .filter(|k| !k.is_empty());
            let object = match (bucket, key) {
                (Some(bucket), Some(key)) => Ok(ObjectRef {
                    bucket,
                    key,
                    size: None,
                    sequencer: None,
                }),
                _ => Err("the task names no bucket and key".to_owned()),
            };
            BatchTask {
                id: task.task_id,
                object,
            }
        })
        .collect();
    Ok(BatchJob {
        schema_version: parsed.invocation_schema_version,
        invocation_id: parsed.invocation_id,
        tasks,
    })
}

/// Splits an invocation's payload into inputs.
pub fn unwrap(event: &Value) -> Result<(Trigger, Vec<Input>), InputError> {
    let first_source = event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource").or_else(|| r.get("EventSource")))
        .and_then(Value::as_str);
    match first_source {
        Some("aws:sqs") => {
            let sqs: SqsEvent = serde_json::from_value(event.clone())
                .map_err(|e| InputError::Event(format!("SQS event: {e}")))?;
            let inputs = sqs
                .records
                .into_iter()
                .map(|m| Input {
                    notices: match m.body.as_deref() {
                        Some(body) => notices_from_text(body),
                        None => Err(InputError::Event("SQS message without a body".into())),
                    },
                    message_id: m.message_id,
                })
                .collect();
            Ok((Trigger::Sqs, inputs))
        }
        Some("aws:sns") => {
            let sns: SnsEvent = serde_json::from_value(event.clone())
                .map_err(|e| InputError::Event(format!("SNS event: {e}")))?;
            let inputs = sns
                .records
                .into_iter()
                .map(|r| Input {
                    message_id: None,
                    notices: notices_from_text(&r.sns.message),
                })
                .collect();
            Ok((Trigger::Direct, inputs))
        }
        _ => Ok((
            Trigger::Direct,
            vec![Input {
                message_id: None,
                notices: notices_from_value(event),
            }],
        )),
    }
}

/// A message body or an SNS `Message`: JSON text of any shape below.
fn notices_from_text(text: &str) -> Result<Vec<Notice>, InputError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| InputError::Event(format!("message body is not JSON: {e}")))?;
    notices_from_value(&value)
}

/// An S3 event, an S3 test event, an SNS notification as delivered to SQS, or an EventBridge
/// event.
pub fn notices_from_value(value: &Value) -> Result<Vec<Notice>, InputError> {
    if value.get(crate::publish::retry::REPUBLISH_KEY).is_some() {
        return Ok(vec![Notice::Republish(value.clone())]);
    }
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(vec![Notice::TestEvent]);
    }
    // SNS to SQS without raw delivery: the S3 event is the string in `Message`.
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        let message = value
            .get("Message")
            .and_then(Value::as_str)
            .ok_or_else(|| InputError::Event("SNS notification without a Message".into()))?;
        return notices_from_text(message);
    }
    if let Some(records) = value.get("Records").and_then(Value::as_array) {
        let hold = value
            .get(BACKFILL_KEY)
            .and_then(|b| b.get("hold"))
            .and_then(Value::as_bool)
            == Some(true);
        return records
            .iter()
            .map(|r| match s3_record(r)? {
                Notice::Object(o) if hold => Ok(Notice::Held(o)),
                other => Ok(other),
            })
            .collect();
    }
    if value.get("detail-type").is_some() {
        return eventbridge(value).map(|n| vec![n]);
    }
    Err(InputError::Event(
        "neither an S3 notification, an SNS notification nor an EventBridge event".into(),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    #[serde(default)]
    event_name: Option<String>,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Named,
    object: S3Object,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct S3Object {
    key: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    sequencer: Option<String>,
}

fn s3_record(v: &Value) -> Result<Notice, InputError> {
    let r: S3Record = serde_json::from_value(v.clone())
        .map_err(|e| InputError::Event(format!("S3 notification record: {e}")))?;
    let event_name = r.event_name.unwrap_or_default();
    // "ObjectCreated:Put" in S3 events, "s3:ObjectCreated:Put" in some emulators.
    if !event_name.is_empty() && !event_name.contains("ObjectCreated") {
        return Ok(Notice::Ignored(event_name));
    }
    Ok(Notice::Object(ObjectRef {
        bucket: r.s3.bucket.name,
        key: decode_key(&r.s3.object.key)?,
        size: r.s3.object.size,
        sequencer: r.s3.object.sequencer,
    }))
}

#[derive(Deserialize)]
struct EventBridgeDetail {
    bucket: Named,
    object: S3Object,
}

fn eventbridge(v: &Value) -> Result<Notice, InputError> {
    let detail_type = v.get("detail-type").and_then(Value::as_str).unwrap_or("");
    let source = v.get("source").and_then(Value::as_str).unwrap_or("");
    if source != "aws.s3" {
        return Err(InputError::Event(format!(
            "EventBridge event from {source:?} ({detail_type:?}) is not for log-ingest"
        )));
    }
    if detail_type != "Object Created" {
        return Ok(Notice::Ignored(detail_type.to_owned()));
    }
    let detail: EventBridgeDetail =
        serde_json::from_value(v.get("detail").cloned().unwrap_or_default())
            .map_err(|e| InputError::Event(format!("EventBridge Object Created detail: {e}")))?;
    // Unlike the classic notifications, EventBridge events carry the key as it is: AWS's
    // documentation of them says nothing of encoding, and published events show keys with a
    // raw `:` (which a classic notification writes `%3A`). Decoding it would read `a+b` as
    // `a b`, and `%2F` as another object.
    Ok(Notice::Object(ObjectRef {
        bucket: detail.bucket.name,
        key: detail.object.key,
        size: detail.object.size,
        sequencer: detail.object.sequencer,
    }))
}

/// A key as S3 notifications encode it (the inverse of [`decode_key`]): form encoding, `+`
/// for a space, `/` kept.
pub fn encode_key(key: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const KEY: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'/')
        .remove(b'~')
        .remove(b' ');
    utf8_percent_encode(key, KEY).to_string().replace(' ', "+")
}

/// The S3 notification of a created object, as a backfill sends it for `object`:
/// `{"Records": [...]}` in S3's shape, plus [`BACKFILL_KEY`] saying whether to hold.
pub fn backfill_notification(object: &ObjectRef, hold: bool) -> Value {
    serde_json::json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": object.bucket, "arn": format!("arn:aws:s3:::{}", object.bucket)},
                "object": {"key": encode_key(&object.key), "size": object.size},
            },
        }],
        BACKFILL_KEY: {"hold": hold},
    })
}

/// S3 notifications URL-encode keys as a form would: `+` is a space, `%2B` a plus.
pub fn decode_key(key: &str) -> Result<String, InputError> {
    let spaced = key.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|e| {
            InputError::Event(format!("object key {key:?} is not UTF-8 once decoded: {e}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3_event(key: &str) -> Value {
        json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-11-01T10:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "10.0.0.1"},
            "responseElements": {"x-amz-request-id": "r", "x-amz-id-2": "i"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": "logs", "ownerIdentity": {"principalId": "A"}, "arn": "arn:aws:s3:::logs"},
                   "object": {"key": key, "size": 10, "eTag": "e", "sequencer": "0055"}}}]})
    }

    fn object(key: &str) -> Notice {
        Notice::Object(ObjectRef {
            bucket: "logs".into(),
            key: key.into(),
            size: Some(10),
            sequencer: Some("0055".into()),
        })
    }

    #[test]
    fn plain_s3_event_with_encoded_key() {
        let (t, inputs) = unwrap(&s3_event("AWSLogs/my+file%2B1.json.gz")).unwrap();
        assert_eq!(t, Trigger::Direct);
        assert_eq!(
            inputs[0].notices.as_ref().unwrap(),
            &vec![object("AWSLogs/my file+1.json.gz")]
        );
    }

    #[test]
    fn s3_inside_sqs_and_sns_inside_sqs() {
        let body = s3_event("k").to_string();
        let sns_body = json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                              "Message": body, "Timestamp": "2026-11-01T10:00:00.000Z"}).to_string();
        let ev = json!({"Records": [
            {"messageId": "a", "receiptHandle": "h", "body": body, "attributes": {}, "messageAttributes": {},
             "md5OfBody": "x", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"},
            {"messageId": "b", "receiptHandle": "h", "body": sns_body, "attributes": {}, "messageAttributes": {},
             "md5OfBody": "x", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"},
            {"messageId": "c", "receiptHandle": "h", "body": "not json", "attributes": {}, "messageAttributes": {},
             "md5OfBody": "x", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"}]});
        let (t, inputs) = unwrap(&ev).unwrap();
        assert_eq!(t, Trigger::Sqs);
        assert_eq!(inputs.len(), 3);
        assert_eq!(inputs[0].message_id.as_deref(), Some("a"));
        assert_eq!(inputs[0].notices.as_ref().unwrap(), &vec![object("k")]);
        assert_eq!(inputs[1].notices.as_ref().unwrap(), &vec![object("k")]);
        assert!(
            inputs[2].notices.is_err(),
            "a bad body fails its message only"
        );
    }

    #[test]
    fn eventbridge_object_created_and_others() {
        let ev = json!({"version": "0", "id": "x", "detail-type": "Object Created", "source": "aws.s3",
            "account": "111122223333", "time": "2026-11-01T10:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:s3:::logs"],
            "detail": {"version": "0", "bucket": {"name": "logs"},
                       "object": {"key": "a+b %2F 100%25:x", "size": 10, "etag": "e", "sequencer": "0055"},
                       "request-id": "r", "requester": "111122223333", "reason": "PutObject"}});
        let (_, inputs) = unwrap(&ev).unwrap();
        // EventBridge keys are not encoded: read as they are.
        assert_eq!(
            inputs[0].notices.as_ref().unwrap(),
            &vec![object("a+b %2F 100%25:x")]
        );
        let mut deleted = ev.clone();
        deleted["detail-type"] = json!("Object Deleted");
        let (_, inputs) = unwrap(&deleted).unwrap();
        assert!(matches!(
            inputs[0].notices.as_ref().unwrap()[0],
            Notice::Ignored(_)
        ));
        let mut other = ev;
        other["source"] = json!("aws.guardduty");
        let (_, inputs) = unwrap(&other).unwrap();
        assert!(inputs[0].notices.is_err());
    }

    #[test]
    fn test_event_is_recognized() {
        let ev = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-01T10:00:00.000Z",
                        "Bucket": "logs", "RequestId": "r", "HostId": "h"});
        let (_, inputs) = unwrap(&ev).unwrap();
        assert_eq!(
            inputs[0].notices.as_ref().unwrap(),
            &vec![Notice::TestEvent]
        );
    }

    #[test]
    fn sns_event_direct() {
        let ev = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:1:t:s",
            "Sns": {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                    "Subject": null, "Message": s3_event("k").to_string(), "Timestamp": "2026-11-01T10:00:00.000Z",
                    "SignatureVersion": "1", "Signature": "s", "SigningCertUrl": "u", "UnsubscribeUrl": "u",
                    "MessageAttributes": {}}}]});
        let (t, inputs) = unwrap(&ev).unwrap();
        assert_eq!(t, Trigger::Direct);
        assert_eq!(inputs[0].notices.as_ref().unwrap(), &vec![object("k")]);
    }

    #[test]
    fn removal_is_ignored_not_read() {
        let mut ev = s3_event("k");
        ev["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
        let (_, inputs) = unwrap(&ev).unwrap();
        assert!(matches!(
            inputs[0].notices.as_ref().unwrap()[0],
            Notice::Ignored(_)
        ));
    }
}
