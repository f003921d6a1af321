//! AWS Network Firewall logs: alert, flow (netflow) and TLS logs, gzip JSON lines, each line a
//! Suricata EVE event wrapped with the firewall's name and zone. Mapped to ECS as Elastic's
//! `aws.firewall_logs` data stream does.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lenient::{lenient_str, lenient_time, lenient_u64};
use crate::ecs::{
    compact_raw, Cloud, EcsEvent, Endpoint, Event, Http, HttpRequest, Log, LogFile, Network,
    Observer, ObserverRule, Related, Url, UserAgent,
};
use crate::timefmt::format_rfc3339_millis;

/// One Network Firewall log record.
#[derive(Debug, Deserialize)]
pub struct FirewallRecord<'a> {
    /// The firewall's name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub firewall_name: Option<Cow<'a, str>>,
    /// The zone of the endpoint that logged it.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub availability_zone: Option<Cow<'a, str>>,
    /// When the record was written, Unix seconds (text or number).
    #[serde(default, deserialize_with = "lenient_time")]
    pub event_timestamp: Option<i64>,
    /// The EVE event.
    #[serde(borrow)]
    pub event: EveEvent<'a>,
}

/// The Suricata EVE event of a record.
#[derive(Debug, Deserialize, Default)]
pub struct EveEvent<'a> {
    /// When the packet or flow was seen (`2021-11-08T14:22:12.637611+0000`).
    #[serde(default, deserialize_with = "lenient_time")]
    pub timestamp: Option<i64>,
    /// `alert`, `netflow`, `tls`, ... (absent in TLS inspection logs).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub event_type: Option<Cow<'a, str>>,
    /// Suricata's flow id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub flow_id: Option<u64>,
    /// Source IP.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub src_ip: Option<Cow<'a, str>>,
    /// Source port (a number, or text in TLS logs).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub src_port: Option<u64>,
    /// Destination IP.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub dest_ip: Option<Cow<'a, str>>,
    /// Destination port.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub dest_port: Option<u64>,
    /// `TCP`, `UDP`, `ICMP`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub proto: Option<Cow<'a, str>>,
    /// `http`, `tls`, `dns`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub app_proto: Option<Cow<'a, str>>,
    /// The alert of an alert log.
    #[serde(borrow, default)]
    pub alert: Option<Alert<'a>>,
    /// The counters of a flow log.
    #[serde(borrow, default)]
    pub netflow: Option<Netflow<'a>>,
    /// The TCP flags seen in a flow.
    #[serde(borrow, default)]
    pub tcp: Option<TcpFields<'a>>,
    /// HTTP metadata.
    #[serde(borrow, default)]
    pub http: Option<HttpFields<'a>>,
    /// TLS metadata.
    #[serde(borrow, default)]
    pub tls: Option<&'a RawValue>,
    /// The SNI of a TLS inspection log.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub sni: Option<Cow<'a, str>>,
    /// The certificate revocation check of a TLS inspection log.
    #[serde(borrow, default)]
    pub revocation_check: Option<&'a RawValue>,
    /// URL and domain categories of the alert (a JSON list written as text).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub aws_category: Option<Cow<'a, str>>,
}

/// `event.alert`.
#[derive(Debug, Deserialize, Default)]
pub struct Alert<'a> {
    /// `blocked` or `allowed`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub action: Option<Cow<'a, str>>,
    /// The rule's signature id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub signature_id: Option<u64>,
    /// The rule's message.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub signature: Option<Cow<'a, str>>,
    /// The rule's class.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub category: Option<Cow<'a, str>>,
    /// 1 (highest) to 3 by Suricata's classification; custom rules may set others.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub severity: Option<u64>,
}

/// `event.netflow`.
#[derive(Debug, Deserialize, Default)]
pub struct Netflow<'a> {
    /// Packets.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub pkts: Option<u64>,
    /// Bytes.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub bytes: Option<u64>,
    /// The flow's first packet, as logged (`2021-11-08T18:18:11.990632+0000`).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub start: Option<Cow<'a, str>>,
    /// Its last packet.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub end: Option<Cow<'a, str>>,
    /// Seconds between them.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub age: Option<u64>,
    /// The lowest TTL seen.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub min_ttl: Option<u64>,
    /// The highest TTL seen.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub max_ttl: Option<u64>,
}

/// `event.tcp`.
#[derive(Debug, Deserialize, Default)]
pub struct TcpFields<'a> {
    /// The flags seen, OR-ed, in hex (`02`: SYN only; `1b`: FIN, SYN, PSH, ACK).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub tcp_flags: Option<Cow<'a, str>>,
}

/// The names Suricata gives the TCP flag bits, lowest first.
const TCP_FLAGS: [&str; 8] = ["fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"];

/// The flags of a hex flag byte, by name; none for text that is not one byte of hex.
fn tcp_flag_names(hex: &str) -> Vec<&'static str> {
    match u8::from_str_radix(hex, 16) {
        Ok(bits) if hex.len() <= 2 => TCP_FLAGS
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, name)| *name)
            .collect(),
        _ => Vec::new(),
    }
}

/// `network.community_id` of a flow, as the Community ID spec (v1, seed 0) defines it, for the
/// protocols whose ports it hashes: TCP, UDP and SCTP. ICMP flows would need the ICMP type and
/// code, which Network Firewall's flow logs do not carry: they get none.
fn flow_community_id(
    proto: &str,
    src: &str,
    sport: Option<u64>,
    dst: &str,
    dport: Option<u64>,
) -> Option<String> {
    let number = match proto.to_ascii_uppercase().as_str() {
        "TCP" => 6,
        "UDP" => 17,
        "SCTP" => 132,
        _ => return None,
    };
    let port = |p: Option<u64>| p.and_then(|p| u16::try_from(p).ok());
    ::community_id::calculate_community_id(
        0,
        src.parse().ok()?,
        dst.parse().ok()?,
        Some(port(sport)?),
        Some(port(dport)?),
        number,
        false,
    )
    .ok()
}

/// `event.http`.
#[derive(Debug, Deserialize, Default)]
pub struct HttpFields<'a> {
    /// Host.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub hostname: Option<Cow<'a, str>>,
    /// Path and query.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub url: Option<Cow<'a, str>>,
    /// User agent.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub http_user_agent: Option<Cow<'a, str>>,
    /// Method.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub http_method: Option<Cow<'a, str>>,
    /// `HTTP/1.1`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub protocol: Option<Cow<'a, str>>,
}

fn opt<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    s.as_deref()
}

impl<'a> FirewallRecord<'a> {
    /// Parses one record: it has an `event` and a time.
    pub fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        let r: FirewallRecord<'a> = serde_json::from_str(raw)?;
        if r.event.timestamp.is_none() && r.event_timestamp.is_none() {
            return Err(serde::de::Error::custom(
                "missing or unreadable field `event.timestamp` and `event_timestamp`",
            ));
        }
        Ok(r)
    }

    /// Unix milliseconds: the packet's time, else the record's.
    pub fn millis(&self) -> i64 {
        self.event
            .timestamp
            .or(self.event_timestamp)
            .unwrap_or_default()
    }

    /// `alert`, `netflow`, `tls`; a TLS inspection log has no type and reads as `tls`.
    pub fn event_type(&self) -> &str {
        opt(&self.event.event_type).unwrap_or(if self.event.revocation_check.is_some() {
            "tls"
        } else {
            ""
        })
    }

    /// The alert, for alert logs.
    pub fn alert(&self) -> Option<&Alert<'a>> {
        self.event
            .alert
            .as_ref()
            .filter(|_| self.event_type() == "alert")
    }

    /// Whether this is an alert whose traffic was blocked.
    pub fn is_blocked_alert(&self) -> bool {
        self.alert()
            .is_some_and(|a| opt(&a.action).is_some_and(|x| x.eq_ignore_ascii_case("blocked")))
    }

    /// Source IP.
    pub fn src_ip(&self) -> Option<&str> {
        opt(&self.event.src_ip)
    }

    /// Destination IP.
    pub fn dest_ip(&self) -> Option<&str> {
        opt(&self.event.dest_ip)
    }

    /// Maps the record to ECS. `path` is where it was read from.
    pub fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        let e = &self.event;
        let alert = self.alert();
        let blocked = self.is_blocked_alert();
        let (kind, kind_types): (&'static str, &'static [&'static str]) = match self.event_type() {
            "alert" if blocked => ("alert", &["connection", "denied"]),
            "alert" => ("alert", &["connection", "allowed"]),
            "tls" => ("event", &["connection", "protocol"]),
            _ => ("event", &["connection"]),
        };
        let endpoint = |ip: Option<&'r str>, port: Option<u64>| {
            ip.map(|ip| Endpoint {
                port: port.and_then(|p| u16::try_from(p).ok()),
                ..Endpoint::at(ip)
            })
        };
        let src = self.src_ip();
        let dst = self.dest_ip();
        let http = e.http.as_ref();
        let ip_type = src
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .map(|ip| if ip.is_ipv4() { "ipv4" } else { "ipv6" });
        let netflow = e.netflow.as_ref();
        let tcp_flags = e.tcp.as_ref().and_then(|t| opt(&t.tcp_flags));
        EcsEvent {
            timestamp: Cow::Owned(format_rfc3339_millis(self.millis())),
            event: Event {
                kind,
                category: &["network"],
                kind_types,
                dataset: "aws.firewall_logs",
                module: "aws",
                severity: alert.and_then(|a| a.severity).map(|s| s as i64),
                action: alert.and_then(|a| opt(&a.action)),
                ..Event::default()
            },
            cloud: Cloud {
                availability_zone: opt(&self.availability_zone),
                region: opt(&self.availability_zone).map(region_of_zone),
                ..Cloud::aws()
            },
            source: endpoint(src, e.src_port),
            destination: endpoint(dst, e.dest_port).map(|mut d| {
                d.geo = None;
                d
            }),
            user_agent: http
                .and_then(|h| opt(&h.http_user_agent))
                .map(UserAgent::of),
            related: Related {
                ip: src.into_iter().chain(dst).collect(),
                ..Related::default()
            },
            log: path.map(|path| Log {
                file: LogFile { path },
            }),
            network: Some(Network {
                transport: opt(&e.proto).map(str::to_ascii_lowercase),
                protocol: opt(&e.app_proto).map(str::to_ascii_lowercase),
                kind: ip_type,
                bytes: netflow.and_then(|n| n.bytes),
                packets: netflow.and_then(|n| n.pkts),
                community_id: match (opt(&e.proto), src, dst) {
                    (Some(p), Some(s), Some(d)) => {
                        flow_community_id(p, s, e.src_port, d, e.dest_port)
                    }
                    _ => None,
                },
                direction: None,
            }),
            url: http.and_then(|h| opt(&h.url)).map(|u| {
                let (path, query) = match u.split_once('?') {
                    Some((p, q)) => (p, Some(q)),
                    None => (u, None),
                };
                Url {
                    original: Some(u),
                    path,
                    query,
                    domain: http.and_then(|h| opt(&h.hostname)),
                }
            }),
            http: http.map(|h| Http {
                request: HttpRequest {
                    method: opt(&h.http_method),
                    id: None,
                },
                response: None,
                version: opt(&h.protocol).map(|v| v.strip_prefix("HTTP/").unwrap_or(v)),
            }),
            rule: alert.map(|a| ObserverRule {
                id: a.signature_id.map(|id| Cow::Owned(id.to_string())),
                name: opt(&a.signature).filter(|s| !s.is_empty()),
                category: opt(&a.category).filter(|s| !s.is_empty()),
                ..ObserverRule::default()
            }),
            observer: Some(Observer {
                name: opt(&self.firewall_name),
                vendor: "AWS",
                product: "Network Firewall",
                kind: "firewall",
            }),
            aws: super::Aws {
                firewall: Some(FirewallFields {
                    flow: FlowFields {
                        id: e.flow_id.map(|id| id.to_string()),
                        pkts: netflow.and_then(|n| n.pkts),
                        bytes: netflow.and_then(|n| n.bytes),
                        start: netflow.and_then(|n| opt(&n.start)),
                        end: netflow.and_then(|n| opt(&n.end)),
                        age: netflow.and_then(|n| n.age),
                        min_ttl: netflow.and_then(|n| n.min_ttl),
                        max_ttl: netflow.and_then(|n| n.max_ttl),
                    },
                    tcp_flags,
                    tcp_flags_array: tcp_flags.map(tcp_flag_names).unwrap_or_default(),
                    sni: opt(&e.sni),
                    aws_category: opt(&e.aws_category),
                    tls: e.tls,
                    revocation_check: e.revocation_check,
                }),
                ..super::Aws::default()
            },
            ..EcsEvent::default()
        }
    }
}

/// `us-east-2a` -> `us-east-2`; zone ids (`use1-az1`) are left as they are.
fn region_of_zone(zone: &str) -> &str {
    match zone.as_bytes().last() {
        Some(c) if c.is_ascii_lowercase() && zone.contains('-') && !zone.contains("-az") => {
            &zone[..zone.len() - 1]
        }
        _ => zone,
    }
}

/// `aws.firewall.*`, named as Elastic's integration names them.
#[derive(Debug, Serialize)]
pub struct FirewallFields<'r> {
    flow: FlowFields<'r>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp_flags: Option<&'r str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tcp_flags_array: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sni: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aws_category: Option<&'r str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
    )]
    tls: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
    )]
    revocation_check: Option<&'r RawValue>,
}

/// `aws.firewall.flow.*`: the flow's id, and a flow log's counters as logged.
#[derive(Debug, Serialize)]
struct FlowFields<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pkts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_ttl: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ttl: Option<u64>,
}

impl<'a> super::SourceRecord<'a> for FirewallRecord<'a> {
    fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        FirewallRecord::parse(raw)
    }

    fn event_time(&self) -> Option<i64> {
        Some(self.millis().div_euclid(1000))
    }

    fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        FirewallRecord::to_ecs(self, path)
    }

    fn summary(&self, _entity: &crate::detect::Entity) -> String {
        let r = self;
        let e = &r.event;
        let endpoint = |ip: Option<&str>, port: Option<u64>| match (ip, port) {
            (Some(ip), Some(p)) => format!("{ip}:{p}"),
            (Some(ip), None) => ip.to_owned(),
            _ => "?".to_owned(),
        };
        let mut s = format!(
            "Network Firewall {}",
            r.firewall_name.as_deref().unwrap_or("(unknown)")
        );
        match r.alert() {
            Some(a) => s.push_str(&format!(
                " {} traffic matching \"{}\" (signature {}, severity {})",
                a.action.as_deref().unwrap_or("saw"),
                a.signature
                    .as_deref()
                    .filter(|x| !x.is_empty())
                    .unwrap_or("(no message)"),
                a.signature_id.map_or("?".to_owned(), |i| i.to_string()),
                a.severity.map_or("?".to_owned(), |i| i.to_string()),
            )),
            None => s.push_str(&format!(" logged {} traffic", r.event_type())),
        }
        s.push_str(&format!(
            " from {} to {}",
            endpoint(r.src_ip(), e.src_port),
            endpoint(r.dest_ip(), e.dest_port)
        ));
        if let Some(p) = e.proto.as_deref() {
            s.push_str(&format!("/{p}"));
        }
        s
    }

    fn sniff(head: &str) -> bool {
        let has = |k: &str| head.contains(k);
        has("\"firewall_name\"")
    }

    fn remote_ip(&self) -> Option<&str> {
        self.src_ip()
    }

    fn names_account() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_high_severity_alert_maps_to_ecs() {
        let raw = r#"{"firewall_name":"test-firewall","availability_zone":"us-east-1b","event_timestamp":"1602627001","event":{"timestamp":"2020-10-13T22:10:01.006481+0000","flow_id":1582438383425873,"event_type":"alert","src_ip":"203.0.113.4","src_port":55555,"dest_ip":"192.0.2.16","dest_port":111,"proto":"TCP","alert":{"action":"allowed","signature_id":5,"rev":0,"signature":"test_tcp","category":"","severity":1}}}"#;
        let r = FirewallRecord::parse(raw).unwrap();
        assert!(!r.is_blocked_alert());
        let ecs = serde_json::to_value(r.to_ecs(None)).unwrap();
        assert_eq!(ecs["@timestamp"], "2020-10-13T22:10:01.006Z");
        assert_eq!(ecs["event"]["kind"], "alert");
        assert_eq!(ecs["event"]["severity"], 1);
        assert_eq!(
            ecs["event"]["type"],
            serde_json::json!(["connection", "allowed"])
        );
        assert_eq!(ecs["cloud"]["region"], "us-east-1");
        assert_eq!(ecs["source"]["port"], 55555);
        assert_eq!(ecs["destination"]["ip"], "192.0.2.16");
        assert_eq!(ecs["network"]["transport"], "tcp");
        assert_eq!(ecs["rule"]["id"], "5");
        assert!(ecs["rule"].get("category").is_none());
        assert_eq!(ecs["aws"]["firewall"]["flow"]["id"], "1582438383425873");
        assert!(ecs["aws"]["firewall"]["flow"].get("pkts").is_none());
        assert!(ecs["aws"]["firewall"].get("tcp_flags_array").is_none());
    }

    #[test]
    fn a_tls_inspection_log_with_text_ports_maps() {
        let raw = r#"{"firewall_name":"egress-fw","availability_zone":"us-east-1d","event_timestamp":1708361189,"event":{"src_ip":"10.0.2.53","src_port":"55930","revocation_check":{"leaf_cert_fpr":"12","status":"REVOKED","action":"DROP"},"dest_ip":"54.92.160.72","dest_port":"443","timestamp":"2024-02-19T16:46:29.441824Z","sni":"revoked-rsa-dv.ssl.com"}}"#;
        let r = FirewallRecord::parse(raw).unwrap();
        assert_eq!(r.event_type(), "tls");
        let ecs = serde_json::to_value(r.to_ecs(None)).unwrap();
        assert_eq!(ecs["destination"]["port"], 443);
        assert_eq!(
            ecs["aws"]["firewall"]["revocation_check"]["status"],
            "REVOKED"
        );
    }

    #[test]
    fn a_flow_log_keeps_its_counters_flags_and_community_id() {
        let raw = r#"{"firewall_name":"fw","availability_zone":"us-east-2a","event_timestamp":"1636395643","event":{"timestamp":"2021-11-08T18:20:43.324542+0000","flow_id":625409144331688,"event_type":"netflow","src_ip":"1.2.3.4","src_port":1122,"dest_ip":"5.6.7.8","dest_port":3344,"proto":"TCP","netflow":{"pkts":3,"bytes":180,"start":"2021-11-08T18:18:11.990632+0000","end":"2021-11-08T18:18:12.990632+0000","age":1,"min_ttl":60,"max_ttl":64},"tcp":{"tcp_flags":"1b","syn":true,"fin":true,"psh":true,"ack":true}}}"#;
        let ecs = serde_json::to_value(FirewallRecord::parse(raw).unwrap().to_ecs(None)).unwrap();
        let flow = &ecs["aws"]["firewall"]["flow"];
        assert_eq!(flow["pkts"], 3);
        assert_eq!(flow["bytes"], 180);
        assert_eq!(flow["start"], "2021-11-08T18:18:11.990632+0000");
        assert_eq!(flow["end"], "2021-11-08T18:18:12.990632+0000");
        assert_eq!(
            (
                flow["age"].as_u64(),
                flow["min_ttl"].as_u64(),
                flow["max_ttl"].as_u64()
            ),
            (Some(1), Some(60), Some(64))
        );
        assert_eq!(ecs["aws"]["firewall"]["tcp_flags"], "1b");
        assert_eq!(
            ecs["aws"]["firewall"]["tcp_flags_array"],
            serde_json::json!(["fin", "syn", "psh", "ack"])
        );
        // The Community ID spec's own example flow.
        assert_eq!(
            ecs["network"]["community_id"],
            "1:wCb3OG7yAFWelaUydu0D+125CLM="
        );
    }

    #[test]
    fn the_community_id_is_the_same_both_ways_and_only_for_ported_protocols() {
        let there = flow_community_id("tcp", "1.2.3.4", Some(1122), "5.6.7.8", Some(3344));
        let back = flow_community_id("TCP", "5.6.7.8", Some(3344), "1.2.3.4", Some(1122));
        assert_eq!(there.as_deref(), Some("1:wCb3OG7yAFWelaUydu0D+125CLM="));
        assert_eq!(there, back);
        assert_ne!(
            there,
            flow_community_id("UDP", "1.2.3.4", Some(1122), "5.6.7.8", Some(3344))
        );
        assert!(
            flow_community_id("UDP", "2001:db8::1", Some(53), "2001:db8::2", Some(5353)).is_some()
        );
        assert_eq!(
            flow_community_id("ICMP", "1.2.3.4", None, "5.6.7.8", None),
            None
        );
        assert_eq!(
            flow_community_id("TCP", "not-an-ip", Some(1), "5.6.7.8", Some(2)),
            None
        );
        assert_eq!(
            flow_community_id("TCP", "1.2.3.4", Some(70_000), "5.6.7.8", Some(2)),
            None
        );
        assert_eq!(tcp_flag_names("zz"), Vec::<&str>::new());
        assert_eq!(tcp_flag_names("102"), Vec::<&str>::new());
        assert_eq!(tcp_flag_names("12"), vec!["syn", "ack"]);
    }

    #[test]
    fn records_without_an_event_are_rejected() {
        let e = FirewallRecord::parse(r#"{"firewall_name":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("event"), "{e}");
        let e = FirewallRecord::parse(r#"{"firewall_name":"x","event":{}}"#).unwrap_err();
        assert!(e.to_string().contains("timestamp"), "{e}");
    }
}
