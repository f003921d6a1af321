//! A CloudTrail record as a Sigma event, under CloudTrail's own field names.
//!
//! The fields most rules select on first (`eventSource`, `eventName`, the caller's identity)
//! are answered from the typed record the pipeline already parsed; any other field, or a typed
//! one the record lacks, from the whole record parsed once on first need. A quiet record that
//! the rules dismiss by `eventName` is never parsed a second time.

use std::borrow::Cow;
use std::cell::OnceCell;

use rsigma_eval::{Event, EventValue, JsonEvent};
use serde_json::Value;

use crate::sources::cloudtrail::CloudTrailRecord;

const ISSUER: &str = "userIdentity.sessionContext.sessionIssuer.";

/// One CloudTrail record, for the Sigma rules.
pub struct RecordEvent<'r, 'a> {
    record: &'r CloudTrailRecord<'a>,
    text: &'r str,
    document: OnceCell<JsonEvent<'static>>,
    request: OnceCell<JsonEvent<'static>>,
    response: OnceCell<JsonEvent<'static>>,
}

impl<'r, 'a> RecordEvent<'r, 'a> {
    /// `record`, whose text is `text`.
    pub fn new(record: &'r CloudTrailRecord<'a>, text: &'r str) -> RecordEvent<'r, 'a> {
        RecordEvent {
            record,
            text,
            document: OnceCell::new(),
            request: OnceCell::new(),
            response: OnceCell::new(),
        }
    }

    /// The whole record, parsed on first use (an object that does not parse is an empty one:
    /// the pipeline parsed it already, so this does not happen).
    fn document(&self) -> &JsonEvent<'static> {
        self.document.get_or_init(|| {
            JsonEvent::owned(
                serde_json::from_str(self.text).unwrap_or(Value::Object(Default::default())),
            )
        })
    }

    /// A field under `requestParameters` or `responseElements`, from that part alone (parsed
    /// once, on first need): what the whole record would answer, for less.
    fn part(&self, path: &str) -> Option<Option<EventValue<'_>>> {
        let (cell, raw, rest) = if let Some(rest) = path.strip_prefix("requestParameters.") {
            (&self.request, self.record.request_parameters, rest)
        } else if let Some(rest) = path.strip_prefix("responseElements.") {
            (&self.response, self.record.response_elements, rest)
        } else {
            return None;
        };
        let part = cell.get_or_init(|| {
            JsonEvent::owned(
                raw.and_then(|r| serde_json::from_str(r.get()).ok())
                    .unwrap_or(Value::Null),
            )
        });
        Some(part.get_field(rest))
    }

    /// A field the typed record holds as a string, when it holds it.
    fn typed(&self, path: &str) -> Option<&str> {
        let r = self.record;
        let id = &r.user_identity;
        let value = match path {
            "eventSource" => Some(&*r.event_source).filter(|s| !s.is_empty()),
            "eventName" => Some(&*r.event_name).filter(|s| !s.is_empty()),
            "eventType" => r.event_type.as_deref(),
            "awsRegion" => r.aws_region.as_deref(),
            "sourceIPAddress" => r.source_ip_address.as_deref(),
            "userAgent" => r.user_agent.as_deref(),
            "errorCode" => r.error_code.as_deref(),
            "recipientAccountId" => r.recipient_account_id.as_deref(),
            "userIdentity.type" => id.kind.as_deref(),
            "userIdentity.arn" => id.arn.as_deref(),
            "userIdentity.accountId" => id.account_id.as_deref(),
            "userIdentity.userName" => id.user_name.as_deref(),
            "userIdentity.principalId" => id.principal_id.as_deref(),
            "userIdentity.accessKeyId" => id.access_key_id.as_deref(),
            "userIdentity.invokedBy" => id.invoked_by.as_deref(),
            _ => None,
        };
        value
    }
}

impl Event for RecordEvent<'_, '_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if let Some(s) = self.typed(path) {
            return Some(EventValue::Str(Cow::Borrowed(s)));
        }
        if let Some(field) = path.strip_prefix(ISSUER) {
            // A record without a session issuer has none of its fields (it would not have
            // parsed with one that is not an object).
            let ctx = self.record.user_identity.session_context.as_ref();
            let i = ctx.and_then(|c| c.session_issuer.as_ref())?;
            let value = match field {
                "type" => i.kind.as_deref(),
                "arn" => i.arn.as_deref(),
                "userName" => i.user_name.as_deref(),
                "accountId" => i.account_id.as_deref(),
                "principalId" => i.principal_id.as_deref(),
                _ => None,
            };
            if let Some(s) = value {
                return Some(EventValue::Str(Cow::Borrowed(s)));
            }
        }
        match self.part(path) {
            Some(value) => value,
            None => self.document().get_field(path),
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.document().any_string_value(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.document().all_string_values()
    }

    fn to_json(&self) -> Value {
        self.document().to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_and_parsed_fields_answer_as_the_record_logs_them() {
        let text = r#"{"eventVersion":"1.08","eventTime":"2026-11-01T10:00:00Z",
            "eventSource":"iam.amazonaws.com","eventName":"CreateUser",
            "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"},
            "requestParameters":{"userName":"bob","tags":[{"key":"a"},{"key":"b"}]},
            "readOnly":false}"#;
        let r = CloudTrailRecord::parse(text).unwrap();
        let e = RecordEvent::new(&r, text);
        assert!(e.document.get().is_none());
        assert_eq!(
            e.get_field("eventName"),
            Some(EventValue::Str("CreateUser".into()))
        );
        assert_eq!(
            e.get_field("userIdentity.type"),
            Some(EventValue::Str("IAMUser".into()))
        );
        assert!(e.document.get().is_none(), "typed fields parse nothing");
        assert_eq!(
            e.get_field("requestParameters.userName"),
            Some(EventValue::Str("bob".into()))
        );
        assert!(e.document.get().is_none(), "nor do the request's");
        assert_eq!(
            e.get_field("requestParameters.tags.key"),
            Some(EventValue::Array(vec![
                EventValue::Str("a".into()),
                EventValue::Str("b".into())
            ]))
        );
        assert_eq!(e.get_field("responseElements.user"), None);
        assert_eq!(e.get_field("readOnly"), Some(EventValue::Bool(false)));
        assert_eq!(e.get_field("errorCode"), None);
        assert!(e.any_string_value(&|s| s == "b"));
    }
}
