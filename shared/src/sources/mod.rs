//! One module per source: its typed record, how to recognize it, and its ECS mapping.

pub mod cloudtrail;
pub mod firewall;
pub mod guardduty;
pub mod lenient;
pub mod securityhub;
pub mod waf;

use serde::{Deserialize, Serialize};

/// The `detail-type` of GuardDuty's EventBridge events (one literal for the constants below).
macro_rules! guardduty_detail_type {
    () => {
        "GuardDuty Finding"
    };
}
/// How the `detail-type`s of Security Hub's EventBridge events start ("- Imported", "- Custom
/// Action", "- Custom Action - Imported").
macro_rules! securityhub_detail_type_prefix {
    () => {
        "Security Hub Findings"
    };
}

/// What to do with an object, decided from its key before it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVerdict {
    /// Read it as this source.
    Read(LogSource),
    /// The key matches no known layout: tell the source from the records.
    Sniff,
    /// A CloudTrail digest file: signatures, no events.
    SkipDigest,
}

/// Key prefixes that name a source, besides the layouts AWS writes by default. An
/// organization that delivers WAF logs through its own Firehose stream to `waf/` says so here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLayouts {
    /// Key prefixes and the source of the objects under them, in order: the first that matches
    /// decides.
    pub prefixes: Vec<(String, LogSource)>,
}

impl KeyLayouts {
    /// Decides from the key: the layouts AWS writes, then the configured prefixes (for keys of
    /// other layouts, such as a Firehose stream's), else the content decides.
    pub fn classify(&self, key: &str) -> KeyVerdict {
        if key.contains("/CloudTrail-Digest/") || key.starts_with("CloudTrail-Digest/") {
            return KeyVerdict::SkipDigest;
        }
        // AWSLogs/<acct>/CloudTrail/<region>/..., org trails AWSLogs/<org>/<acct>/CloudTrail/...
        if key.contains("/CloudTrail/") || key.starts_with("CloudTrail/") {
            return KeyVerdict::Read(LogSource::CloudTrail);
        }
        // AWSLogs/<acct>/network-firewall/{alert,flow,tls}/<region>/<firewall>/...
        if key.contains("/network-firewall/") || key.starts_with("network-firewall/") {
            return KeyVerdict::Read(LogSource::NetworkFirewall);
        }
        // Direct delivery: AWSLogs/<acct>/WAFLogs/<region>/<acl>/...; Firehose: the delivery
        // stream's name, which must start with aws-waf-logs-, is in every object's name.
        if key.contains("/WAFLogs/") || key.starts_with("WAFLogs/") || key.contains("aws-waf-logs-")
        {
            return KeyVerdict::Read(LogSource::Waf);
        }
        self.prefixes
            .iter()
            .find(|(prefix, _)| key.starts_with(prefix.as_str()))
            .map_or(KeyVerdict::Sniff, |(_, source)| KeyVerdict::Read(*source))
    }

    /// Reads `source=prefix` pairs, comma-separated (`waf=firehose/waf/,cloudtrail=org/`); a
    /// pair without a prefix is left out (a prefix of nothing would take every key).
    pub fn parse(text: &str) -> Result<KeyLayouts, String> {
        let mut prefixes = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (source, prefix) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} is not source=prefix"))?;
            let source: LogSource = source.parse()?;
            if !prefix.trim().is_empty() {
                prefixes.push((prefix.trim().to_owned(), source));
            }
        }
        Ok(KeyLayouts { prefixes })
    }
}

/// Decides from the key with the default layouts only.
pub fn classify_key(key: &str) -> KeyVerdict {
    KeyLayouts::default().classify(key)
}

/// The account in an AWS log key (`AWSLogs/<account>/...`, or `AWSLogs/<org id>/<account>/...`
/// for organization trails): the only place Network Firewall logs name their account.
pub fn account_from_key(key: &str) -> Option<&str> {
    let (_, rest) = key.split_once("AWSLogs/")?;
    let mut parts = rest.split('/');
    let first = parts.next()?;
    let acct = if first.starts_with("o-") {
        parts.next()?
    } else {
        first
    };
    (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())).then_some(acct)
}

/// The account and region of an ARN (`arn:aws:wafv2:us-east-1:123456789012:...`).
pub fn arn_account_region(arn: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = arn.splitn(6, ':');
    let (_, _, _, region, account) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    );
    (
        account.filter(|s| !s.is_empty()),
        region.filter(|s| !s.is_empty()),
    )
}

/// The ECS event of a record of any source.
pub type Ecs<'r> = crate::ecs::EcsEvent<'r, Aws<'r>>;

/// The findings an EventBridge event carries: its `detail` (GuardDuty), or each of
/// `detail.findings` (Security Hub). A list of findings as the APIs return them
/// (`{"findings": [...]}`, `{"Findings": [...]}`) is its findings, none when it is empty. A
/// record that is neither is returned as it is: a finding exported on its own.
pub fn unwrap_eventbridge(raw: &str) -> Result<Vec<&str>, String> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow, rename = "detail-type", default)]
        detail_type: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow, default)]
        detail: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow, default)]
        findings: Option<Vec<&'a serde_json::value::RawValue>>,
        #[serde(borrow, default, rename = "Findings")]
        findings_capitalized: Option<Vec<&'a serde_json::value::RawValue>>,
    }
    #[derive(Deserialize)]
    struct Findings<'a> {
        #[serde(borrow, default)]
        findings: Option<Vec<&'a serde_json::value::RawValue>>,
    }
    let Ok(env) = serde_json::from_str::<Envelope<'_>>(raw) else {
        // Not an object: the parser of the source says what is wrong with it.
        return Ok(vec![raw]);
    };
    if env.detail_type.is_none() && env.detail.is_none() {
        if let Some(list) = env.findings.or(env.findings_capitalized) {
            return Ok(list.into_iter().map(|f| f.get()).collect());
        }
    }
    let Some(detail_type) = env.detail_type else {
        // A trimmed event (only `detail`, as some tools forward it): its detail is the finding,
        // or holds them.
        return Ok(match env.detail {
            Some(detail) => match serde_json::from_str::<Findings<'_>>(detail.get()) {
                Ok(Findings {
                    findings: Some(findings),
                }) => findings.into_iter().map(|f| f.get()).collect(),
                _ => vec![detail.get()],
            },
            None => vec![raw],
        });
    };
    let detail_type: &str = match serde_json::from_str::<&str>(detail_type.get()) {
        Ok(t) => t,
        Err(_) if detail_type.get().trim_start().starts_with('[') => {
            return Err("an EventBridge event pattern (a rule), not an event".into());
        }
        Err(_) => return Err("`detail-type` is not a string".into()),
    };
    let Some(detail) = env.detail else {
        return Err(format!("EventBridge event {detail_type:?} has no `detail`"));
    };
    let source = source_of_detail_type(detail_type);
    if source == Some(LogSource::GuardDuty) {
        return Ok(vec![detail.get()]);
    }
    if source == Some(LogSource::SecurityHub) {
        let findings = serde_json::from_str::<Findings<'_>>(detail.get())
            .map_err(|e| format!("EventBridge event {detail_type:?}: {e}"))?
            .findings
            .ok_or_else(|| format!("EventBridge event {detail_type:?} has no `detail.findings`"))?;
        return Ok(findings.into_iter().map(|f| f.get()).collect());
    }
    Err(format!(
        "EventBridge event {detail_type:?} carries no GuardDuty or Security Hub findings"
    ))
}

/// What a source's record is to the pipeline: the one trait each source implements, beside its
/// line in the registry ([`sources!`] below).
pub trait SourceRecord<'a>: Sized {
    /// Parses one record from its JSON text.
    fn parse(raw: &'a str) -> Result<Self, serde_json::Error>;
    /// Its event time, Unix seconds, as the record gives it ([`Record::time`] checks it).
    fn event_time(&self) -> Option<i64>;
    /// Its ECS event; `path` is where it was read from.
    fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> Ecs<'r>;
    /// One sentence for a finding it triggered, about `entity`.
    fn summary(&self, entity: &crate::detect::Entity) -> String;
    /// Whether the head of a record's text looks like this source's.
    fn sniff(head: &str) -> bool;
    /// The user it names, for `related.user`.
    fn user_name(&self) -> Option<&str> {
        None
    }
    /// The remote IP it names, for `related.ip`.
    fn remote_ip(&self) -> Option<&str> {
        None
    }
    /// Whether its records name their account; those that do not (Network Firewall's) are
    /// scoped by the account their object's key names, so that one private IP in two accounts
    /// makes two findings.
    fn names_account() -> bool {
        true
    }
}

/// The registry of sources: one entry per source (its record type, ECS dataset, name, the
/// names the CLI takes, and its `aws.*` field) makes the [`LogSource`] enum, the [`Record`]
/// enum and its dispatch, and the [`Aws`] part of ECS events.
macro_rules! sources {
    ($( $(#[$doc:meta])* $variant:ident = $module:ident::$record:ident {
        dataset: $dataset:literal, name: $name:literal, aliases: [$($alias:literal),+ $(,)?],
        aws: $field:ident: $fields:ident $(,)?
    } ),+ $(,)?) => {
        /// The sources the pipeline reads: log files from S3 (CloudTrail, WAF, Network
        /// Firewall) and findings from EventBridge (GuardDuty, Security Hub).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum LogSource {
            $( $(#[$doc])* $variant, )+
        }

        impl LogSource {
            /// Every source, in the registry's order.
            pub const ALL: [LogSource; { [$(stringify!($variant)),+].len() }] =
                [$(LogSource::$variant),+];

            /// The ECS `event.dataset` of the source.
            pub fn dataset(self) -> &'static str {
                match self { $(LogSource::$variant => $dataset,)+ }
            }

            /// The name used in error messages.
            pub fn name(self) -> &'static str {
                match self { $(LogSource::$variant => $name,)+ }
            }

            fn sniff_content(head: &str) -> Option<LogSource> {
                $(
                    if <$module::$record<'_> as SourceRecord<'_>>::sniff(head) {
                        return Some(LogSource::$variant);
                    }
                )+
                None
            }
        }

        impl std::str::FromStr for LogSource {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let name = s.trim().to_ascii_lowercase();
                $(
                    if [$($alias),+].contains(&name.as_str()) {
                        return Ok(LogSource::$variant);
                    }
                )+
                let known: Vec<&str> = vec![$([$($alias),+][0]),+];
                Err(format!("unknown source {s:?}: expected one of {}", known.join(", ")))
            }
        }

        /// `aws.*`: what ECS has no field for, under the source's own name as Elastic's AWS
        /// integration does.
        #[derive(Debug, Serialize, Default)]
        pub struct Aws<'r> {
            $(
                #[doc = concat!("`aws.", stringify!($field), ".*`.")]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$module::$fields<'r>>,
            )+
        }

        /// A parsed record of any source: what the pipeline, the detections and the findings
        /// see.
        // CloudTrail's, the bulk of every input, is the largest variant: boxing it to shrink
        // the rare others would cost an allocation per record on the hot path.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug)]
        pub enum Record<'a> {
            $( $(#[$doc])* $variant($module::$record<'a>), )+
        }

        impl<'a> Record<'a> {
            /// Parses one record of `source` from its JSON text.
            pub fn parse(source: LogSource, raw: &'a str) -> Result<Record<'a>, serde_json::Error> {
                match source {
                    $(LogSource::$variant => {
                        <$module::$record<'a> as SourceRecord<'a>>::parse(raw).map(Record::$variant)
                    })+
                }
            }

            /// Its source.
            pub fn source(&self) -> LogSource {
                match self { $(Record::$variant(_) => LogSource::$variant,)+ }
            }

            /// Its event time, Unix seconds; `None` when it cannot be read or is no time an
            /// event happened at (the record is then bad): windows, TTLs and RFC 3339 need a
            /// time from 1970 to 9999.
            pub fn time(&self) -> Option<i64> {
                let t = match self { $(Record::$variant(r) => r.event_time()?,)+ };
                (0..=crate::timefmt::MAX_SECS).contains(&t).then_some(t)
            }

            /// Maps it to ECS. `path` is where it was read from.
            pub fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> Ecs<'r> {
                match self { $(Record::$variant(r) => SourceRecord::to_ecs(r, path),)+ }
            }

            /// One sentence for a finding it triggered, about `entity`.
            pub fn summary(&self, entity: &crate::detect::Entity) -> String {
                match self { $(Record::$variant(r) => SourceRecord::summary(r, entity),)+ }
            }

            /// The user it names, for `related.user`.
            pub fn user_name(&self) -> Option<&str> {
                match self { $(Record::$variant(r) => SourceRecord::user_name(r),)+ }
            }

            /// The remote IP it names, for `related.ip`.
            pub fn source_ip(&self) -> Option<&str> {
                match self { $(Record::$variant(r) => SourceRecord::remote_ip(r),)+ }
            }

            /// Whether records of its source name their account
            /// ([`SourceRecord::names_account`]).
            pub fn names_account(&self) -> bool {
                match self {
                    $(Record::$variant(_) => <$module::$record<'_> as SourceRecord<'_>>::names_account(),)+
                }
            }
        }
    };
}

sources! {
    /// CloudTrail log files.
    CloudTrail = cloudtrail::CloudTrailRecord {
        dataset: "aws.cloudtrail", name: "CloudTrail", aliases: ["cloudtrail"],
        aws: cloudtrail: CloudTrailFields,
    },
    /// AWS WAF (v2) logs, delivered by Kinesis Data Firehose or directly to S3.
    Waf = waf::WafRecord {
        dataset: "aws.waf", name: "WAF", aliases: ["waf"],
        aws: waf: WafFields,
    },
    /// AWS Network Firewall alert, flow and TLS logs.
    NetworkFirewall = firewall::FirewallRecord {
        dataset: "aws.firewall_logs", name: "Network Firewall",
        aliases: ["network-firewall", "firewall", "network_firewall"],
        aws: firewall: FirewallFields,
    },
    /// GuardDuty findings.
    GuardDuty = guardduty::GuardDutyFinding {
        dataset: "aws.guardduty", name: "GuardDuty", aliases: ["guardduty"],
        aws: guardduty: GuardDutyFields,
    },
    /// Security Hub findings (ASFF).
    SecurityHub = securityhub::SecurityHubFinding {
        dataset: "aws.securityhub_findings", name: "Security Hub",
        aliases: ["securityhub", "security-hub"],
        aws: securityhub_findings: SecurityHubFields,
    },
}

impl LogSource {
    /// Tells the source of one record from its top-level keys, for objects whose key matches
    /// no known layout: EventBridge events by their `detail-type`, other records by what each
    /// source recognizes as its own ([`SourceRecord::sniff`]), in the registry's order.
    pub fn sniff(raw: &str) -> Option<LogSource> {
        // The keys sit near the start of a record; a bounded look keeps this cheap on large
        // records. Cut on a character boundary.
        let mut end = raw.len().min(4096);
        while !raw.is_char_boundary(end) {
            end -= 1;
        }
        let head = &raw[..end];
        if head.contains(concat!("\"", guardduty_detail_type!(), "\"")) {
            Some(LogSource::GuardDuty)
        } else if head.contains(concat!("\"", securityhub_detail_type_prefix!())) {
            Some(LogSource::SecurityHub)
        } else {
            LogSource::sniff_content(head)
        }
    }
}

/// The `detail-type` of GuardDuty's EventBridge events.
pub const GUARDDUTY_DETAIL_TYPE: &str = guardduty_detail_type!();
/// How the `detail-type`s of Security Hub's EventBridge events start.
pub const SECURITYHUB_DETAIL_TYPE_PREFIX: &str = securityhub_detail_type_prefix!();

/// The source of an EventBridge event's findings, by its `detail-type`.
pub fn source_of_detail_type(detail_type: &str) -> Option<LogSource> {
    if detail_type == GUARDDUTY_DETAIL_TYPE {
        Some(LogSource::GuardDuty)
    } else if detail_type.starts_with(SECURITYHUB_DETAIL_TYPE_PREFIX) {
        Some(LogSource::SecurityHub)
    } else {
        None
    }
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

    #[test]
    fn key_layouts_of_each_source() {
        let cases = [
            ("AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/01/x.json.gz", KeyVerdict::Read(LogSource::CloudTrail)),
            ("AWSLogs/111122223333/network-firewall/alert/us-east-1/fw/2026/11/01/10/111122223333_network-firewall_alert_us-east-1_fw_202611011000_abc.log.gz", KeyVerdict::Read(LogSource::NetworkFirewall)),
            ("AWSLogs/111122223333/network-firewall/flow/us-east-1/fw/2026/11/01/10/x.log.gz", KeyVerdict::Read(LogSource::NetworkFirewall)),
            ("AWSLogs/111122223333/WAFLogs/us-east-1/my-acl/2026/11/01/10/05/111122223333_waflogs_us-east-1_my-acl_20261101T1005Z_abc.log.gz", KeyVerdict::Read(LogSource::Waf)),
            ("waf/2026/11/01/10/aws-waf-logs-prod-1-2026-11-01-10-05-00-0a1b2c3d", KeyVerdict::Read(LogSource::Waf)),
            ("exports/unknown/file.json", KeyVerdict::Sniff),
        ];
        for (key, want) in cases {
            assert_eq!(classify_key(key), want, "{key}");
        }
    }

    #[test]
    fn configured_prefixes_name_other_layouts() {
        let layouts =
            KeyLayouts::parse("waf=edge-logs/, network-firewall=nfw/,cloudtrail=").unwrap();
        assert_eq!(layouts.prefixes.len(), 2, "an empty prefix takes nothing");
        assert_eq!(
            layouts.classify("edge-logs/2026/11/01/part-0.gz"),
            KeyVerdict::Read(LogSource::Waf)
        );
        assert_eq!(
            layouts.classify("nfw/x.log.gz"),
            KeyVerdict::Read(LogSource::NetworkFirewall)
        );
        assert_eq!(layouts.classify("other/x.log.gz"), KeyVerdict::Sniff);
        assert!(KeyLayouts::parse("ward=x/").is_err());
        assert!(KeyLayouts::parse("waf").is_err());
        // Findings exported to S3 can be named too.
        assert_eq!(
            KeyLayouts::parse("guardduty=exports/gd/")
                .unwrap()
                .classify("exports/gd/f.jsonl.gz"),
            KeyVerdict::Read(LogSource::GuardDuty)
        );
        // AWS's own layouts win: one prefix configured for several sources still reads each
        // object as what it is.
        let shared = KeyLayouts::parse("cloudtrail=logs/").unwrap();
        assert_eq!(
            shared
                .classify("logs/AWSLogs/111122223333/network-firewall/flow/us-east-1/fw/x.log.gz"),
            KeyVerdict::Read(LogSource::NetworkFirewall)
        );
    }

    #[test]
    fn a_list_of_findings_is_its_findings_and_an_empty_one_none() {
        assert_eq!(
            unwrap_eventbridge(r#"{"findings": []}"#).unwrap(),
            Vec::<&str>::new()
        );
        assert_eq!(
            unwrap_eventbridge(r#"{"findings": [{"id":"a"}, {"id":"b"}]}"#).unwrap(),
            vec![r#"{"id":"a"}"#, r#"{"id":"b"}"#]
        );
        assert_eq!(
            unwrap_eventbridge(r#"{"Findings": [{"Id":"a"}], "NextToken": "x"}"#).unwrap(),
            vec![r#"{"Id":"a"}"#]
        );
        // A finding exported on its own is one finding.
        let finding = r#"{"id":"f","type":"Recon:EC2/PortProbeUnprotectedPort"}"#;
        assert_eq!(unwrap_eventbridge(finding).unwrap(), vec![finding]);
    }

    #[test]
    fn sniffing_by_content() {
        let cases = [
            (
                r#"{"eventVersion":"1.08","eventSource":"s3.amazonaws.com"}"#,
                Some(LogSource::CloudTrail),
            ),
            (
                r#"{"timestamp":1,"webaclId":"arn:aws:wafv2:..."}"#,
                Some(LogSource::Waf),
            ),
            (
                r#"{"firewall_name":"fw","event":{}}"#,
                Some(LogSource::NetworkFirewall),
            ),
            (
                r#"{"version":"0","detail-type":"GuardDuty Finding","detail":{}}"#,
                Some(LogSource::GuardDuty),
            ),
            (
                r#"{"detail-type":"Security Hub Findings - Imported","detail":{"findings":[]}}"#,
                Some(LogSource::SecurityHub),
            ),
            (
                r#"{"SchemaVersion":"2018-10-08","ProductArn":"arn"}"#,
                Some(LogSource::SecurityHub),
            ),
            (
                r#"{"schemaVersion":"2.0","service":{},"type":"Recon:EC2/PortProbeUnprotectedPort"}"#,
                Some(LogSource::GuardDuty),
            ),
            (r#"{"hello":"world"}"#, None),
        ];
        for (raw, want) in cases {
            assert_eq!(LogSource::sniff(raw), want, "{raw}");
        }
    }

    #[test]
    fn eventbridge_envelopes_are_unwrapped() {
        let gd = r#"{"version":"0","detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{"type":"X"}}"#;
        assert_eq!(unwrap_eventbridge(gd).unwrap(), vec![r#"{"type":"X"}"#]);
        let sh = r#"{"detail-type":"Security Hub Findings - Imported","detail":{"findings":[{"Id":"a"},{"Id":"b"}]}}"#;
        assert_eq!(
            unwrap_eventbridge(sh).unwrap(),
            vec![r#"{"Id":"a"}"#, r#"{"Id":"b"}"#]
        );
        let raw = r#"{"Id":"a"}"#;
        assert_eq!(unwrap_eventbridge(raw).unwrap(), vec![raw]);
        let trimmed = r#"{"region":"us-east-1","detail":{"type":"X"}}"#;
        assert_eq!(
            unwrap_eventbridge(trimmed).unwrap(),
            vec![r#"{"type":"X"}"#]
        );
        let pattern = r#"{"source":["aws.guardduty"],"detail-type":["GuardDuty Finding"]}"#;
        assert!(unwrap_eventbridge(pattern).unwrap_err().contains("pattern"));
        let insight = r#"{"detail-type":"Security Hub Insight Results","detail":{}}"#;
        assert!(unwrap_eventbridge(insight)
            .unwrap_err()
            .contains("no GuardDuty or Security Hub findings"));
    }

    #[test]
    fn accounts_in_keys() {
        assert_eq!(
            account_from_key("s3://b/AWSLogs/111122223333/network-firewall/alert/x"),
            Some("111122223333")
        );
        assert_eq!(
            account_from_key("AWSLogs/o-abc123/111122223333/CloudTrail/x"),
            Some("111122223333")
        );
        assert_eq!(account_from_key("logs/x.gz"), None);
        assert_eq!(account_from_key("AWSLogs/notanaccount/x"), None);
    }

    #[test]
    fn arn_parts() {
        assert_eq!(
            arn_account_region("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y"),
            (Some("123456789012"), Some("us-east-1"))
        );
        assert_eq!(arn_account_region("garbage"), (None, None));
    }
}
