//! AWS WAF (v2) logs: one JSON document per request, in JSON lines objects (gzip or plain)
//! written by Kinesis Data Firehose or by WAF's direct delivery to S3. Mapped to ECS as
//! Elastic's `aws.waf` data stream does.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::arn_account_region;
use super::lenient::{lenient_str, lenient_time, lenient_u64};
use super::Aws;
use crate::ecs::{
    compact_raw, Account, Cloud, EcsEvent, Endpoint, Event, Geo, Http, HttpRequest, HttpResponse,
    Log, LogFile, Network, ObserverRule, Related, Service, Url, UserAgent,
};
use crate::timefmt::format_rfc3339_millis;

/// One WAF log record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WafRecord<'a> {
    /// When WAF saw the request, Unix milliseconds (WAF writes a number; exports write text).
    #[serde(default, deserialize_with = "lenient_time")]
    pub timestamp: Option<i64>,
    /// The web ACL's ARN.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub webacl_id: Option<Cow<'a, str>>,
    /// The rule that decided (`Default_Action` when none did).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub terminating_rule_id: Option<Cow<'a, str>>,
    /// `REGULAR`, `RATE_BASED`, `GROUP`, `MANAGED_RULE_GROUP`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub terminating_rule_type: Option<Cow<'a, str>>,
    /// `ALLOW`, `BLOCK`, `COUNT`, `CAPTCHA`, `CHALLENGE`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub action: Option<Cow<'a, str>>,
    /// What matched in the terminating rule.
    #[serde(borrow, default)]
    pub terminating_rule_match_details: Option<&'a RawValue>,
    /// `ALB`, `CF`, `APIGW`, `APPSYNC`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub http_source_name: Option<Cow<'a, str>>,
    /// The protected resource.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub http_source_id: Option<Cow<'a, str>>,
    /// Every rule group evaluated, with what matched in it.
    #[serde(borrow, default)]
    pub rule_group_list: Option<&'a RawValue>,
    /// Rate-based rules that matched.
    #[serde(borrow, default)]
    pub rate_based_rule_list: Option<&'a RawValue>,
    /// Rules of the web ACL that matched in COUNT mode.
    #[serde(borrow, default)]
    pub non_terminating_matching_rules: Option<&'a RawValue>,
    /// The status code WAF sent for a custom response.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub response_code_sent: Option<u64>,
    /// The request.
    #[serde(borrow, default)]
    pub http_request: HttpRequestFields<'a>,
    /// Labels the rules added.
    #[serde(borrow, default)]
    pub labels: Option<&'a RawValue>,
    #[serde(skip)]
    groups: OnceCell<Vec<RuleGroup<'a>>>,
    #[serde(skip)]
    counted: OnceCell<Vec<MatchedRule<'a>>>,
}

/// `httpRequest`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequestFields<'a> {
    /// The client's IP (the viewer's, for CloudFront).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub client_ip: Option<Cow<'a, str>>,
    /// The client's country, ISO 3166-1 alpha-2, as WAF resolved it.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub country: Option<Cow<'a, str>>,
    /// The path.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub uri: Option<Cow<'a, str>>,
    /// The query string.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub args: Option<Cow<'a, str>>,
    /// `HTTP/1.1`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub http_version: Option<Cow<'a, str>>,
    /// `GET`, `POST`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub http_method: Option<Cow<'a, str>>,
    /// The request id.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub request_id: Option<Cow<'a, str>>,
    /// The headers, as logged (WAF can redact some).
    #[serde(borrow, default)]
    pub headers: Option<Vec<Header<'a>>>,
}

/// One request header.
#[derive(Debug, Deserialize)]
pub struct Header<'a> {
    /// Its name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub name: Option<Cow<'a, str>>,
    /// Its value.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub value: Option<Cow<'a, str>>,
}

/// One entry of `ruleGroupList`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroup<'a> {
    /// `AWS#AWSManagedRulesCommonRuleSet`, or a rule group ARN.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub rule_group_id: Option<Cow<'a, str>>,
    /// The rule of the group that decided, if one did.
    #[serde(borrow, default)]
    pub terminating_rule: Option<MatchedRule<'a>>,
    /// Rules of the group that matched in COUNT mode.
    #[serde(borrow, default)]
    pub non_terminating_matching_rules: Option<Vec<MatchedRule<'a>>>,
}

/// A rule that matched.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchedRule<'a> {
    /// The rule's name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub rule_id: Option<Cow<'a, str>>,
    /// What it did (`BLOCK`, `COUNT`, ...).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub action: Option<Cow<'a, str>>,
}

fn opt<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    s.as_deref()
}

impl<'a> WafRecord<'a> {
    /// Parses one record. A WAF record has a time and names a web ACL or a rule.
    pub fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        let r: WafRecord<'a> = serde_json::from_str(raw)?;
        if r.timestamp.is_none() {
            return Err(serde::de::Error::custom(
                "missing or unreadable field `timestamp`",
            ));
        }
        if r.webacl_id.is_none() && r.terminating_rule_id.is_none() {
            return Err(serde::de::Error::custom(
                "no `webaclId` and no `terminatingRuleId`",
            ));
        }
        Ok(r)
    }

    /// Unix milliseconds.
    pub fn millis(&self) -> i64 {
        self.timestamp.unwrap_or_default()
    }

    /// The client's IP.
    pub fn client_ip(&self) -> Option<&str> {
        opt(&self.http_request.client_ip)
    }

    /// The final action, uppercase as WAF writes it.
    pub fn action(&self) -> &str {
        opt(&self.action).unwrap_or("")
    }

    /// Whether the request was stopped (blocked, or held at a CAPTCHA or challenge).
    pub fn is_blocked(&self) -> bool {
        matches!(self.action(), "BLOCK" | "CAPTCHA" | "CHALLENGE")
    }

    /// The rule groups evaluated (parsed on first use).
    pub fn rule_groups(&self) -> &[RuleGroup<'a>] {
        self.groups.get_or_init(|| {
            self.rule_group_list
                .and_then(|raw| serde_json::from_str::<Option<Vec<RuleGroup<'a>>>>(raw.get()).ok())
                .flatten()
                .unwrap_or_default()
        })
    }

    /// Rules of the web ACL that matched in COUNT mode (parsed on first use).
    pub fn counted_rules(&self) -> &[MatchedRule<'a>] {
        self.counted.get_or_init(|| {
            self.non_terminating_matching_rules
                .and_then(|raw| {
                    serde_json::from_str::<Option<Vec<MatchedRule<'a>>>>(raw.get()).ok()
                })
                .flatten()
                .unwrap_or_default()
        })
    }

    /// The web ACL's name (`arn:...:regional/webacl/<name>/<id>`).
    pub fn web_acl_name(&self) -> Option<&str> {
        let arn = opt(&self.webacl_id)?;
        let mut parts = arn.rsplit('/');
        parts.next()?;
        parts.next()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.http_request
            .headers
            .as_ref()?
            .iter()
            .find(|h| opt(&h.name).is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .and_then(|h| opt(&h.value))
    }

    /// Maps the record to ECS. `path` is where it was read from.
    pub fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        let arn = opt(&self.webacl_id);
        let (account, region) = arn.map(arn_account_region).unwrap_or_default();
        let allowed = matches!(self.action(), "ALLOW" | "COUNT");
        let client_ip = self.client_ip();
        let uri = opt(&self.http_request.uri).filter(|u| !u.is_empty());
        EcsEvent {
            timestamp: Cow::Owned(format_rfc3339_millis(self.millis())),
            event: Event {
                kind: "event",
                category: &["web", "network"],
                kind_types: if allowed {
                    &["access", "allowed"]
                } else {
                    &["access", "denied"]
                },
                action: opt(&self.action),
                dataset: "aws.waf",
                module: "aws",
                id: opt(&self.http_request.request_id),
                ..Event::default()
            },
            cloud: Cloud {
                region,
                account: account.map(|id| Account { id }),
                service: Some(Service { name: "wafv2" }),
                ..Cloud::aws()
            },
            source: client_ip.map(|ip| Endpoint {
                geo: opt(&self.http_request.country).map(|c| Geo {
                    country_iso_code: Some(Cow::Borrowed(c)),
                    ..Geo::default()
                }),
                ..Endpoint::at(ip)
            }),
            user_agent: self.header("user-agent").map(UserAgent::of),
            related: Related {
                ip: client_ip.into_iter().collect(),
                ..Related::default()
            },
            log: path.map(|path| Log {
                file: LogFile { path },
            }),
            network: Some(Network {
                protocol: Some("http".into()),
                transport: Some("tcp".into()),
                ..Network::default()
            }),
            url: uri.map(|path| Url {
                original: None,
                path,
                query: opt(&self.http_request.args).filter(|a| !a.is_empty()),
                domain: self.header("host"),
            }),
            http: Some(Http {
                request: HttpRequest {
                    method: opt(&self.http_request.http_method),
                    id: opt(&self.http_request.request_id),
                },
                response: self
                    .response_code_sent
                    .and_then(|c| u16::try_from(c).ok())
                    .map(|status_code| HttpResponse { status_code }),
                version: opt(&self.http_request.http_version)
                    .map(|v| v.strip_prefix("HTTP/").unwrap_or(v)),
            }),
            rule: opt(&self.terminating_rule_id).map(|id| ObserverRule {
                id: Some(Cow::Borrowed(id)),
                ruleset: opt(&self.terminating_rule_type),
                ..ObserverRule::default()
            }),
            aws: Aws {
                waf: Some(WafFields {
                    arn,
                    id: arn.and_then(|a| a.splitn(6, ':').nth(5)),
                    source: (self.http_source_name.is_some() || self.http_source_id.is_some())
                        .then(|| WafSource {
                            id: opt(&self.http_source_id).filter(|s| *s != "-"),
                            name: opt(&self.http_source_name).filter(|s| *s != "-"),
                        })
                        .filter(|s| s.id.is_some() || s.name.is_some()),
                    terminating_rule_match_details: non_empty(self.terminating_rule_match_details),
                    rule_group_list: non_empty(self.rule_group_list),
                    rate_based_rule_list: non_empty(self.rate_based_rule_list),
                    non_terminating_matching_rules: non_empty(self.non_terminating_matching_rules),
                    labels: non_empty(self.labels),
                }),
                ..Aws::default()
            },
            ..EcsEvent::default()
        }
    }
}

/// A raw list, unless it is `null` or `[]`.
fn non_empty(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|r| {
        let t = r.get().trim();
        t != "null" && t != "[]"
    })
}

/// `aws.waf.*`, named as Elastic's integration names them.
#[derive(Debug, Serialize)]
pub struct WafFields<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<WafSource<'r>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
    )]
    terminating_rule_match_details: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
    )]
    rule_group_list: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
    )]
    rate_based_rule_list: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
    )]
    non_terminating_matching_rules: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
    )]
    labels: Option<&'r RawValue>,
}

#[derive(Debug, Serialize)]
struct WafSource<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'r str>,
}

impl<'a> super::SourceRecord<'a> for WafRecord<'a> {
    fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        WafRecord::parse(raw)
    }

    fn event_time(&self) -> Option<i64> {
        Some(self.millis().div_euclid(1000))
    }

    fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        WafRecord::to_ecs(self, path)
    }

    fn summary(&self, _entity: &crate::detect::Entity) -> String {
        let r = self;
        let mut s = format!(
            "WAF web ACL {} {} {} {}",
            r.web_acl_name().unwrap_or("(unknown)"),
            match r.action() {
                "BLOCK" => "blocked",
                "ALLOW" => "allowed",
                "COUNT" => "counted",
                "CAPTCHA" => "sent a CAPTCHA to",
                "CHALLENGE" => "challenged",
                other => other,
            },
            r.http_request.http_method.as_deref().unwrap_or("a request"),
            r.http_request.uri.as_deref().unwrap_or(""),
        );
        if let Some(ip) = r.client_ip() {
            s.push_str(&format!(" from {ip}"));
            if let Some(c) = r.http_request.country.as_deref() {
                s.push_str(&format!(" ({c})"));
            }
        }
        if let Some(rule) = r.terminating_rule_id.as_deref() {
            s.push_str(&format!("; terminating rule {rule}"));
        }
        s
    }

    fn sniff(head: &str) -> bool {
        let has = |k: &str| head.contains(k);
        has("\"webaclId\"") || has("\"terminatingRuleId\"")
    }

    fn remote_ip(&self) -> Option<&str> {
        self.client_ip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCKED: &str = r#"{"timestamp":1576280412771,"formatVersion":1,"webaclId":"arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE","terminatingRuleId":"STMTest_SQLi_XSS","terminatingRuleType":"REGULAR","action":"BLOCK","terminatingRuleMatchDetails":[{"conditionType":"SQL_INJECTION","location":"HEADER","matchedData":["10","AND","1"]}],"httpSourceName":"ALB","httpSourceId":"alb","ruleGroupList":[{"ruleGroupId":"AWS#AWSManagedRulesSQLiRuleSet","terminatingRule":null,"nonTerminatingMatchingRules":[]}],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"httpRequest":{"clientIp":"89.160.20.156","country":"SE","headers":[{"name":"Host","value":"shop.example.com"},{"name":"User-Agent","value":"curl/7.61.1"}],"uri":"/foo","args":"id=1","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"rid"}}"#;

    #[test]
    fn a_blocked_request_maps_to_ecs() {
        let r = WafRecord::parse(BLOCKED).unwrap();
        let ecs = serde_json::to_value(r.to_ecs(Some("s3://b/k"))).unwrap();
        assert_eq!(ecs["@timestamp"], "2019-12-13T23:40:12.771Z");
        assert_eq!(ecs["event"]["dataset"], "aws.waf");
        assert_eq!(
            ecs["event"]["type"],
            serde_json::json!(["access", "denied"])
        );
        assert_eq!(ecs["cloud"]["account"]["id"], "111122223333");
        assert_eq!(ecs["cloud"]["region"], "ap-southeast-2");
        assert_eq!(ecs["source"]["ip"], "89.160.20.156");
        assert_eq!(ecs["source"]["geo"]["country_iso_code"], "SE");
        assert_eq!(ecs["url"]["path"], "/foo");
        assert_eq!(ecs["url"]["query"], "id=1");
        assert_eq!(ecs["url"]["domain"], "shop.example.com");
        assert_eq!(ecs["http"]["version"], "1.1");
        assert_eq!(ecs["user_agent"]["original"], "curl/7.61.1");
        assert_eq!(ecs["user_agent"]["name"], "curl");
        assert_eq!(ecs["user_agent"]["version"], "7.61.1");
        assert_eq!(ecs["rule"]["id"], "STMTest_SQLi_XSS");
        assert_eq!(ecs["aws"]["waf"]["id"], "regional/webacl/STMTest/1EXAMPLE");
        assert_eq!(ecs["aws"]["waf"]["source"]["name"], "ALB");
        assert!(ecs["aws"]["waf"].get("rate_based_rule_list").is_none());
        assert!(r.is_blocked());
        assert_eq!(r.web_acl_name(), Some("STMTest"));
        assert_eq!(r.rule_groups().len(), 1);
        assert!(r.rule_groups()[0].terminating_rule.is_none());
    }

    #[test]
    fn iso_timestamps_and_missing_parts_are_accepted() {
        let r = WafRecord::parse(
            r#"{"timestamp":"2024-03-20T10:30:00.000Z","terminatingRuleId":"Default_Action","action":"ALLOW","httpRequest":{"clientIp":"198.51.100.10"}}"#,
        )
        .unwrap();
        assert_eq!(r.millis(), 1710930600000);
        assert!(!r.is_blocked());
        let ecs = serde_json::to_value(r.to_ecs(None)).unwrap();
        assert!(ecs["cloud"].get("account").is_none());
        assert_eq!(
            ecs["event"]["type"],
            serde_json::json!(["access", "allowed"])
        );
    }

    #[test]
    fn records_that_are_not_waf_are_rejected_with_a_reason() {
        let e = WafRecord::parse(r#"{"eventVersion":"1.08"}"#).unwrap_err();
        assert!(e.to_string().contains("timestamp"), "{e}");
        let e = WafRecord::parse(r#"{"timestamp":1}"#).unwrap_err();
        assert!(e.to_string().contains("webaclId"), "{e}");
        assert!(WafRecord::parse("[1,2]").is_err());
    }
}
