//! A CloudTrail record as a Sigma event, under CloudTrail's own field names.
//!
//! The fields most rules select on first (`eventSource`, `eventName`, the caller's identity)
//! are answered from the typed record the pipeline already parsed; `requestParameters.*`,
//! `responseElements.*` and `additionalEventData.*` from that part alone, parsed once for the
//! built-in rules and the Sigma rules alike; a field the record surely lacks, from its text
//! alone (see [`RecordEvent::surely_absent`]); any other field from the whole record, parsed
//! once on first need. A record that the rules dismiss by `eventName` is never parsed a second
//! time, and neither is one whose fields the candidate index probes are absent.

use std::borrow::Cow;
use std::cell::OnceCell;

use memchr::memmem;
use rsigma_eval::{Event, EventValue, JsonEvent};
use serde_json::Value;

use crate::sources::cloudtrail::CloudTrailRecord;

const ISSUER: &str = "userIdentity.sessionContext.sessionIssuer.";

/// One CloudTrail record, for the Sigma rules.
pub struct RecordEvent<'r, 'a> {
    record: &'r CloudTrailRecord<'a>,
    text: &'r str,
    document: OnceCell<JsonEvent<'static>>,
    request: OnceCell<JsonEvent<'r>>,
    response: OnceCell<JsonEvent<'r>>,
    additional: OnceCell<JsonEvent<'r>>,
    /// Whether the text has a `\u` escape, through which a key can be spelled otherwise.
    escaped: OnceCell<bool>,
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
            additional: OnceCell::new(),
            escaped: OnceCell::new(),
        }
    }

    /// Whether the whole record has been parsed (the benchmark's and the tests' measure of
    /// what a record costs the rules).
    #[doc(hidden)]
    pub fn parsed_whole(&self) -> bool {
        self.document.get().is_some()
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

    /// A field under `requestParameters`, `responseElements` or `additionalEventData`, from
    /// that part alone (the record's own parse of it, made once): what the whole record would
    /// answer, for less (CloudTrail writes no top-level key with a dot in it, which the whole
    /// record's lookup would try first, as it does for the typed fields). `None` when `path` is
    /// under none of them, or the part is neither an object nor null.
    fn part(&self, path: &str) -> Option<Option<EventValue<'_>>> {
        let (cell, value, rest): (_, fn(&'r CloudTrailRecord<'a>) -> &'r Value, _) =
            if let Some(rest) = path.strip_prefix("requestParameters.") {
                (&self.request, CloudTrailRecord::request, rest)
            } else if let Some(rest) = path.strip_prefix("responseElements.") {
                (&self.response, CloudTrailRecord::response, rest)
            } else if let Some(rest) = path.strip_prefix("additionalEventData.") {
                (&self.additional, CloudTrailRecord::additional, rest)
            } else {
                return None;
            };
        let value = value(self.record);
        match value {
            Value::Object(_) => {}
            Value::Null => return Some(None),
            // An array's members are walked by the whole record's lookup, not by the part's
            // (whose root is no object): rare enough to leave to it.
            _ => return None,
        }
        Some(
            cell.get_or_init(|| JsonEvent::borrow(value))
                .get_field(rest),
        )
    }

    /// Whether the record surely has no key `key` at any depth, told from its text: a key of
    /// plain characters (letters, digits, `_ - . : @`) is written as itself between quotes,
    /// unless a `\u` escape spells it otherwise; without such an escape in the text, a key
    /// whose quoted form is not in the text is in no object of the record. Anything else
    /// answers false (the record may have it).
    fn surely_lacks_key(&self, key: &str) -> bool {
        let plain =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'@');
        if key.is_empty() || !key.bytes().all(plain) {
            return false;
        }
        let text = self.text.as_bytes();
        if *self
            .escaped
            .get_or_init(|| memmem::find(text, b"\\u").is_some())
        {
            return false;
        }
        !memmem::find_iter(text, key.as_bytes())
            .any(|at| at > 0 && text[at - 1] == b'"' && text.get(at + key.len()) == Some(&b'"'))
    }

    /// Whether the record surely has no field `path`: the whole record's lookup
    /// ([`JsonEvent::get_field`]) tries `path` as one flat key, then walks its segments, each
    /// a key of the object (or of the objects of an array) the last one led to; a segment
    /// that is a key nowhere in the record ends the walk. The last segment is tried first: a
    /// field of a sub-object the typed record holds (`userIdentity.arn` of a service's call)
    /// is most often absent by its own name.
    fn surely_absent(&self, path: &str) -> bool {
        self.surely_lacks_key(path)
            && (!path.contains('.')
                || path
                    .rsplit('.')
                    .any(|segment| self.surely_lacks_key(segment)))
    }

    /// A field the typed record holds as a string, when it holds it.
    fn typed(&self, path: &str) -> Option<&str> {
        let r = self.record;
        let id = &r.user_identity;
        let value = match path {
            "eventSource" => Some(&*r.event_source).filter(|s| !s.is_empty()),
            "eventName" => Some(&*r.event_name).filter(|s| !s.is_empty()),
            "eventType" => r.event_type.as_deref(),
            "eventCategory" => r.event_category.as_deref(),
            "eventID" => r.event_id.as_deref(),
            "requestID" => r.request_id.as_deref(),
            "awsRegion" => r.aws_region.as_deref(),
            "sourceIPAddress" => r.source_ip_address.as_deref(),
            "userAgent" => r.user_agent.as_deref(),
            "errorCode" => r.error_code.as_deref(),
            "errorMessage" => r.error_message.as_deref(),
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
        if let Some(value) = self.part(path) {
            return value;
        }
        if self.surely_absent(path) {
            return None;
        }
        self.document().get_field(path)
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
            "additionalEventData":{"MFAUsed":"No"},
            "readOnly":false}"#;
        let r = CloudTrailRecord::parse(text).unwrap();
        let e = RecordEvent::new(&r, text);
        assert!(!e.parsed_whole());
        assert_eq!(
            e.get_field("eventName"),
            Some(EventValue::Str("CreateUser".into()))
        );
        assert_eq!(
            e.get_field("userIdentity.type"),
            Some(EventValue::Str("IAMUser".into()))
        );
        assert!(!e.parsed_whole(), "typed fields parse nothing");
        assert_eq!(
            e.get_field("requestParameters.userName"),
            Some(EventValue::Str("bob".into()))
        );
        assert_eq!(
            e.get_field("additionalEventData.MFAUsed"),
            Some(EventValue::Str("No".into()))
        );
        assert!(
            !e.parsed_whole(),
            "nor do the request's and the extra data's"
        );
        assert_eq!(
            r.parsed_lazily(),
            [true, false, true],
            "the record's own parse of a part serves the built-in rules too"
        );
        assert_eq!(
            e.get_field("requestParameters.tags.key"),
            Some(EventValue::Array(vec![
                EventValue::Str("a".into()),
                EventValue::Str("b".into())
            ]))
        );
        assert_eq!(e.get_field("responseElements.user"), None);
        assert_eq!(e.get_field("errorCode"), None);
        assert_eq!(e.get_field("serviceEventDetails.x"), None);
        assert_eq!(e.get_field("src_ip"), None);
        assert!(!e.parsed_whole(), "absent fields are told from the text");
        assert_eq!(e.get_field("readOnly"), Some(EventValue::Bool(false)));
        assert!(
            e.parsed_whole(),
            "a field that is there and not typed is parsed"
        );
        assert!(e.any_string_value(&|s| s == "b"));
    }

    /// A key the text may hold, in any spelling JSON allows, is looked up in the whole record:
    /// only a key whose quoted plain form is missing, from a text without `\u` escapes, is
    /// absent without a parse.
    #[test]
    fn a_key_spelled_with_escapes_or_not_as_a_key_is_looked_up_in_the_whole_record() {
        let cases = [
            // Spelled with an escape: found.
            (r#""st\u0061tus":"up""#, "status", true, true),
            // The name as a value, not a key: parsed, and absent.
            (r#""x":"status""#, "status", false, true),
            // A flat key with a dot, which the whole record's lookup tries first.
            (r#""geo.country":"NZ""#, "geo.country", true, true),
            // Its first segment only: absent, nothing parsed (no key `country`).
            (r#""geo":"NZ""#, "geo.country", false, false),
            // Every segment a key somewhere, not on one path: parsed, and absent.
            (
                r#""geo":"NZ","x":{"country":"NZ"}"#,
                "geo.country",
                false,
                true,
            ),
            // A field of the identity the typed record does not hold, or holds as absent.
            (
                r#""userIdentity":{"type":"AWSService"}"#,
                "userIdentity.arn",
                false,
                false,
            ),
            (
                r#""userIdentity":{"type":"X","arn":7}"#,
                "userIdentity.arn",
                true,
                true,
            ),
            // Nowhere: absent, nothing parsed.
            (r#""x":"y""#, "geo.country", false, false),
            // Any `\u` in the text: parsed.
            (r#""x":"\u00e9""#, "status", false, true),
            // A path of other characters: parsed.
            (r#""a b":"c""#, "a b", true, true),
        ];
        for (fields, path, present, parsed) in cases {
            let text = &format!(
                r#"{{"eventTime":"2026-11-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject",{fields}}}"#
            );
            let r = CloudTrailRecord::parse(text).unwrap();
            let e = RecordEvent::new(&r, text);
            let got = e.get_field(path);
            assert_eq!(got.is_some(), present, "{path} in {text}");
            assert_eq!(e.parsed_whole(), parsed, "{path} in {text}");
            let whole = JsonEvent::owned(serde_json::from_str(text).unwrap());
            assert_eq!(got, whole.get_field(path), "{path} in {text}");
        }
    }

    /// A JSON fragment of the keys the paths below name, each spelled as itself or with a
    /// `\u` escape, as a key or inside a string value, at some depth.
    fn fragment() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("a"),
            Just("b"),
            Just("status"),
            Just("st\\u0061tus"),
            Just("a.b"),
            Just("arn"),
            Just("\\u0061rn"),
            Just("country"),
        ];
        let leaf = prop_oneof![
            Just("1".to_owned()),
            Just("null".to_owned()),
            Just("\"status\"".to_owned()),
            Just("\"x \\\"arn\\\" y\"".to_owned()),
            Just("\"NZ\"".to_owned()),
        ];
        leaf.prop_recursive(3, 16, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec((key.clone(), inner.clone()), 0..4).prop_map(|kv| {
                    let body: Vec<String> =
                        kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", body.join(","))
                }),
                proptest::collection::vec(inner, 0..3).prop_map(|v| format!("[{}]", v.join(","))),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 400, ..Default::default() })]

        /// Whatever keys a record has and however they are spelled, the event answers every
        /// path as the whole record parsed to JSON does.
        #[test]
        fn any_record_answers_as_its_whole_json(
            extra in fragment(),
            identity in fragment(),
            path in proptest::sample::select(vec![
                "a", "b", "status", "a.b", "a.b.a", "b.status", "arn", "userIdentity.arn",
                "userIdentity.status", "x.country", "country", "requestParameters.a",
            ]),
        ) {
            let text = format!(
                r#"{{"eventTime":"2026-11-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","extra":{extra},"userIdentity":{identity},"requestParameters":{extra}}}"#
            );
            // A record the typed parse refuses (an identity that is no object) never reaches
            // the rules.
            let Ok(r) = CloudTrailRecord::parse(&text) else { return Ok(()) };
            let whole = JsonEvent::owned(serde_json::from_str(&text).unwrap());
            let e = RecordEvent::new(&r, &text);
            proptest::prop_assert_eq!(e.get_field(path), whole.get_field(path), "{}", text);
        }
    }
}
