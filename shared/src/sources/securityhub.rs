//! Security Hub findings in the AWS Security Finding Format (ASFF), as carried by EventBridge
//! "Security Hub Findings - Imported" events (`detail.findings[]`, many per event) or exported
//! one per line. Mapped to ECS after Elastic's `aws.securityhub_findings` data stream.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lenient::{lenient_f64, lenient_str, lenient_time, lenient_u64};
use crate::ecs::{
    compact_raw, Account, Cloud, Dns, DnsQuestion, EcsEvent, Endpoint, Entity, Event, FullUrl,
    Indicator, Log, LogFile, Network, ObserverRule, Process, ProcessParent, Related, Scanner,
    Threat, Vulnerability, VulnerabilityScore,
};
use crate::timefmt::format_rfc3339_millis;

/// One ASFF finding.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityHubFinding<'a> {
    /// `2018-10-08`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub schema_version: Option<Cow<'a, str>>,
    /// The finding's id (the same across its versions).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The product that wrote it.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub product_arn: Option<Cow<'a, str>>,
    /// `Security Hub`, `GuardDuty`, `Inspector`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub product_name: Option<Cow<'a, str>>,
    /// The rule or control that generated it.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub generator_id: Option<Cow<'a, str>>,
    /// The account it is about.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub aws_account_id: Option<Cow<'a, str>>,
    /// Its region.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub region: Option<Cow<'a, str>>,
    /// When this version was written.
    #[serde(default, deserialize_with = "lenient_time")]
    pub updated_at: Option<i64>,
    /// When the finding was first written.
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<i64>,
    /// Severity.
    #[serde(borrow, default)]
    pub severity: Option<SeverityFields<'a>>,
    /// One line.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub title: Option<Cow<'a, str>>,
    /// A paragraph.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub description: Option<Cow<'a, str>>,
    /// Compliance of a control finding.
    #[serde(borrow, default)]
    pub compliance: Option<Compliance<'a>>,
    /// The resources it is about.
    #[serde(borrow, default)]
    pub resources: Option<Vec<ResourceRef<'a>>>,
    /// `Workflow.Status`: `NEW`, `NOTIFIED`, `RESOLVED`, `SUPPRESSED`.
    #[serde(borrow, default)]
    pub workflow: Option<Workflow<'a>>,
    /// The older `WorkflowState`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub workflow_state: Option<Cow<'a, str>>,
    /// `ACTIVE` or `ARCHIVED`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub record_state: Option<Cow<'a, str>>,
    /// Free-form fields of the product (`ControlId`, `RuleId`, `StandardsControlArn`).
    #[serde(borrow, default)]
    pub product_fields: Option<ProductFields<'a>>,
    /// Remediation text and link.
    #[serde(borrow, default)]
    pub remediation: Option<Remediation<'a>>,
    /// Finding types.
    #[serde(borrow, default)]
    pub types: Option<&'a RawValue>,
    // The three parts below are boxed: most findings (controls) have none, and a record stays
    // the size of the others on the hot path.
    /// The network connection a threat finding is about.
    #[serde(borrow, default)]
    pub network: Option<Box<NetworkFields<'a>>>,
    /// The process a threat finding is about.
    #[serde(borrow, default)]
    pub process: Option<Box<ProcessFields<'a>>>,
    /// What was done (findings imported from GuardDuty).
    #[serde(borrow, default)]
    pub action: Option<Box<ActionFields<'a>>>,
    /// The vulnerabilities a finding reports (Inspector's).
    #[serde(borrow, default)]
    pub vulnerabilities: Option<Vec<VulnerabilityFields<'a>>>,
    /// The threat intelligence indicators a finding names.
    #[serde(borrow, default)]
    pub threat_intel_indicators: Option<Vec<IndicatorFields<'a>>>,
    /// Set by the pipeline when a newer version of the same finding (`Id`) is in the same
    /// input: rules about the current state skip it, rules about changes still see it.
    #[serde(skip)]
    pub superseded: bool,
}

/// `Severity`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SeverityFields<'a> {
    /// `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub label: Option<Cow<'a, str>>,
    /// 0-100.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub normalized: Option<f64>,
}

/// `Compliance`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Compliance<'a> {
    /// `PASSED`, `WARNING`, `FAILED`, `NOT_AVAILABLE`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub status: Option<Cow<'a, str>>,
    /// The consolidated control id (`S3.8`).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub security_control_id: Option<Cow<'a, str>>,
}

/// One of `Resources`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRef<'a> {
    /// `AwsS3Bucket`, `AwsEc2Instance`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub r#type: Option<Cow<'a, str>>,
    /// Its ARN or id.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub id: Option<Cow<'a, str>>,
}

/// `Network`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkFields<'a> {
    /// `IN` or `OUT`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub direction: Option<Cow<'a, str>>,
    /// `TCP`, `UDP`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub protocol: Option<Cow<'a, str>>,
    /// Source IPv4.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub source_ip_v4: Option<Cow<'a, str>>,
    /// Source IPv6.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub source_ip_v6: Option<Cow<'a, str>>,
    /// Source port.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub source_port: Option<u64>,
    /// Source domain.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub source_domain: Option<Cow<'a, str>>,
    /// Destination IPv4.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub destination_ip_v4: Option<Cow<'a, str>>,
    /// Destination IPv6.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub destination_ip_v6: Option<Cow<'a, str>>,
    /// Destination port.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub destination_port: Option<u64>,
    /// Destination domain.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub destination_domain: Option<Cow<'a, str>>,
}

/// `Process`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessFields<'a> {
    /// The executable's name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub name: Option<Cow<'a, str>>,
    /// Its path.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub path: Option<Cow<'a, str>>,
    /// Its id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub pid: Option<u64>,
    /// Its parent's id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub parent_pid: Option<u64>,
}

/// `Action`, the parts mapped.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ActionFields<'a> {
    /// `NETWORK_CONNECTION`, `AWS_API_CALL`, `DNS_REQUEST`, `PORT_PROBE`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub action_type: Option<Cow<'a, str>>,
    /// `NetworkConnectionAction`.
    #[serde(borrow, default)]
    pub network_connection_action: Option<RemoteAction<'a>>,
    /// `AwsApiCallAction`.
    #[serde(borrow, default)]
    pub aws_api_call_action: Option<RemoteAction<'a>>,
    /// `DnsRequestAction`.
    #[serde(borrow, default)]
    pub dns_request_action: Option<DnsRequestAction<'a>>,
}

/// An action with a remote party.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RemoteAction<'a> {
    /// `TCP`, `UDP` (network connections).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub protocol: Option<Cow<'a, str>>,
    /// The remote party.
    #[serde(borrow, default)]
    pub remote_ip_details: Option<RemoteIpDetails<'a>>,
}

/// `RemoteIpDetails`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RemoteIpDetails<'a> {
    /// IPv4.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub ip_address_v4: Option<Cow<'a, str>>,
}

/// `DnsRequestAction`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DnsRequestAction<'a> {
    /// The name asked for.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub domain: Option<Cow<'a, str>>,
    /// `UDP`, `TCP`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub protocol: Option<Cow<'a, str>>,
}

/// One of `Vulnerabilities`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct VulnerabilityFields<'a> {
    /// `CVE-2024-1234`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub id: Option<Cow<'a, str>>,
    /// Its CVSS scores.
    #[serde(borrow, default)]
    pub cvss: Option<Vec<Cvss<'a>>>,
    /// Where it is described.
    #[serde(borrow, default)]
    pub reference_urls: Option<Vec<Cow<'a, str>>>,
}

/// One of `Vulnerabilities[].Cvss`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Cvss<'a> {
    /// `3.1`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub version: Option<Cow<'a, str>>,
    /// 0-10.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub base_score: Option<f64>,
}

/// One of `ThreatIntelIndicators`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IndicatorFields<'a> {
    /// `IPV4_ADDRESS`, `DOMAIN`, `URL`, `HASH_SHA256`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub r#type: Option<Cow<'a, str>>,
    /// The indicator.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub value: Option<Cow<'a, str>>,
    /// Who published it.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub source: Option<Cow<'a, str>>,
    /// When it was last seen.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub last_observed_at: Option<Cow<'a, str>>,
}

/// ECS's `threat.indicator.type` of an ASFF indicator type.
fn indicator_type(asff: &str) -> Option<&'static str> {
    Some(match asff {
        "IPV4_ADDRESS" => "ipv4-addr",
        "IPV6_ADDRESS" => "ipv6-addr",
        "DOMAIN" => "domain-name",
        "URL" => "url",
        "EMAIL_ADDRESS" => "email-addr",
        "MUTEX" => "mutex",
        "PROCESS" => "process",
        t if t.starts_with("HASH_") => "file",
        _ => return None,
    })
}

/// ECS's `entity.type` of an ASFF resource type.
fn entity_type(asff: &str) -> Option<&'static str> {
    Some(match asff {
        "AwsS3Bucket" => "bucket",
        "AwsEc2Instance" => "host",
        "AwsIamUser" | "AwsIamAccessKey" => "user",
        "AwsLambdaFunction" => "function",
        "AwsRdsDbInstance" | "AwsRdsDbCluster" | "AwsDynamoDbTable" => "database",
        "AwsSqsQueue" => "queue",
        "Container" | "AwsEcsContainer" | "AwsEcrContainerImage" => "container",
        _ => return None,
    })
}

/// `Workflow`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Workflow<'a> {
    /// `NEW`, `NOTIFIED`, `RESOLVED`, `SUPPRESSED`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub status: Option<Cow<'a, str>>,
}

/// `ProductFields`, the keys used.
#[derive(Debug, Deserialize, Default)]
pub struct ProductFields<'a> {
    /// FSBP and PCI control findings.
    #[serde(
        borrow,
        default,
        rename = "ControlId",
        deserialize_with = "lenient_str"
    )]
    pub control_id: Option<Cow<'a, str>>,
    /// CIS 1.2 control findings.
    #[serde(borrow, default, rename = "RuleId", deserialize_with = "lenient_str")]
    pub rule_id: Option<Cow<'a, str>>,
}

/// `Remediation`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Remediation<'a> {
    /// `Recommendation`.
    #[serde(borrow, default)]
    pub recommendation: Option<Recommendation<'a>>,
}

/// `Remediation.Recommendation`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation<'a> {
    /// What to do.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub text: Option<Cow<'a, str>>,
    /// Where it is explained.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub url: Option<Cow<'a, str>>,
}

fn opt<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    s.as_deref()
}

impl<'a> SecurityHubFinding<'a> {
    /// Parses one finding: it has an `Id` and a time.
    pub fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        let f: SecurityHubFinding<'a> = serde_json::from_str(raw)?;
        if f.updated_at.or(f.created_at).is_none() {
            return Err(serde::de::Error::custom(
                "missing or unreadable field `UpdatedAt` and `CreatedAt`",
            ));
        }
        Ok(f)
    }

    /// Unix milliseconds of this version.
    pub fn millis(&self) -> i64 {
        self.updated_at.or(self.created_at).unwrap_or_default()
    }

    /// `Compliance.Status`.
    pub fn compliance_status(&self) -> Option<&str> {
        self.compliance.as_ref().and_then(|c| opt(&c.status))
    }

    /// The control: the consolidated id, else the standard's own (`ControlId`, CIS `RuleId`),
    /// else the generator.
    pub fn control_id(&self) -> Option<&str> {
        self.compliance
            .as_ref()
            .and_then(|c| opt(&c.security_control_id))
            .or_else(|| {
                self.product_fields
                    .as_ref()
                    .and_then(|p| opt(&p.control_id).or(opt(&p.rule_id)))
            })
            .or(opt(&self.generator_id))
    }

    /// The first resource's id.
    pub fn resource_id(&self) -> Option<&str> {
        self.resources.as_ref()?.first().and_then(|r| opt(&r.id))
    }

    /// The first resource's type.
    pub fn resource_type(&self) -> Option<&str> {
        self.resources
            .as_ref()?
            .first()
            .and_then(|r| opt(&r.r#type))
    }

    /// `Workflow.Status`, or the older `WorkflowState`.
    pub fn workflow_status(&self) -> Option<&str> {
        self.workflow
            .as_ref()
            .and_then(|w| opt(&w.status))
            .or(opt(&self.workflow_state))
    }

    /// Whether the finding is live: `RecordState` ACTIVE (or absent) and not suppressed.
    pub fn is_active(&self) -> bool {
        opt(&self.record_state).is_none_or(|s| s == "ACTIVE")
            && self.workflow_status() != Some("SUPPRESSED")
    }

    /// `Severity.Normalized`, else the label's lower bound.
    pub fn normalized_severity(&self) -> Option<f64> {
        let s = self.severity.as_ref()?;
        s.normalized.or_else(|| {
            Some(match opt(&s.label)? {
                "INFORMATIONAL" => 0.0,
                "LOW" => 1.0,
                "MEDIUM" => 40.0,
                "HIGH" => 70.0,
                "CRITICAL" => 90.0,
                _ => return None,
            })
        })
    }

    /// Maps the finding to ECS. `path` is where it was read from.
    pub fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        let control = self.compliance.is_some();
        let net = self.network.as_ref();
        let action = self.action.as_ref();
        let remote = action.and_then(|a| {
            a.network_connection_action
                .as_ref()
                .or(a.aws_api_call_action.as_ref())
        });
        let remote_ip = remote
            .and_then(|r| r.remote_ip_details.as_ref())
            .and_then(|d| opt(&d.ip_address_v4));
        let dns = action.and_then(|a| a.dns_request_action.as_ref());
        let port = |p: Option<u64>| p.and_then(|p| u16::try_from(p).ok());
        let endpoint = |ip: Option<&'r str>, p: Option<u64>, domain: Option<&'r str>| {
            let mut e = match ip {
                Some(ip) => Endpoint::at(ip),
                None => Endpoint {
                    address: domain?,
                    ..Endpoint::default()
                },
            };
            e.port = port(p);
            e.domain = domain;
            Some(e)
        };
        let source = net
            .and_then(|n| {
                endpoint(
                    opt(&n.source_ip_v4).or(opt(&n.source_ip_v6)),
                    n.source_port,
                    opt(&n.source_domain),
                )
            })
            .or_else(|| remote_ip.map(Endpoint::at));
        let destination = net.and_then(|n| {
            endpoint(
                opt(&n.destination_ip_v4).or(opt(&n.destination_ip_v6)),
                n.destination_port,
                opt(&n.destination_domain),
            )
        });
        let transport = net
            .and_then(|n| opt(&n.protocol))
            .or_else(|| remote.and_then(|r| opt(&r.protocol)))
            .or_else(|| dns.and_then(|d| opt(&d.protocol)));
        let direction = net.and_then(|n| match opt(&n.direction)? {
            "IN" => Some("inbound"),
            "OUT" => Some("outbound"),
            _ => None,
        });
        let vulnerability = self
            .vulnerabilities
            .as_ref()
            .and_then(|v| v.first())
            .map(|v| Vulnerability {
                id: opt(&v.id),
                enumeration: opt(&v.id)
                    .filter(|id| id.starts_with("CVE-"))
                    .map(|_| "CVE"),
                reference: v
                    .reference_urls
                    .as_ref()
                    .and_then(|u| u.first())
                    .map(|u| u.as_ref()),
                severity: self.severity.as_ref().and_then(|s| opt(&s.label)),
                description: opt(&self.description),
                score: v
                    .cvss
                    .as_ref()
                    .and_then(|c| c.iter().find(|c| c.base_score.is_some()))
                    .and_then(|c| {
                        Some(VulnerabilityScore {
                            base: c.base_score?,
                            version: opt(&c.version),
                        })
                    }),
                scanner: opt(&self.product_name).map(|vendor| Scanner { vendor }),
            });
        let threat = self
            .threat_intel_indicators
            .as_ref()
            .and_then(|t| t.first())
            .map(|i| {
                let kind = opt(&i.r#type).and_then(indicator_type);
                Threat {
                    indicator: Indicator {
                        kind,
                        name: opt(&i.value),
                        ip: opt(&i.value)
                            .filter(|_| matches!(kind, Some("ipv4-addr" | "ipv6-addr"))),
                        url: opt(&i.value)
                            .filter(|_| kind == Some("url"))
                            .map(|full| FullUrl { full }),
                        provider: opt(&i.source),
                        last_seen: opt(&i.last_observed_at),
                    },
                }
            });
        let entity = self
            .resources
            .as_ref()
            .and_then(|r| r.first())
            .and_then(|r| {
                Some(Entity {
                    id: Cow::Borrowed(opt(&r.id)?),
                    kind: opt(&r.r#type).and_then(entity_type),
                    sub_type: opt(&r.r#type).map(Cow::Borrowed),
                })
            });
        let ips: Vec<&str> = [
            source.as_ref().and_then(|e| e.ip),
            destination.as_ref().and_then(|e| e.ip),
        ]
        .into_iter()
        .flatten()
        .collect();
        EcsEvent {
            timestamp: Cow::Owned(format_rfc3339_millis(self.millis())),
            event: Event {
                // A control finding states a resource's compliance; other findings are alerts
                // of the product that wrote them.
                kind: if control { "state" } else { "alert" },
                category: if control {
                    &["configuration"]
                } else {
                    &["intrusion_detection"]
                },
                kind_types: &["info"],
                outcome: match self.compliance_status() {
                    Some("PASSED") => Some("success"),
                    Some("FAILED") => Some("failure"),
                    _ => None,
                },
                dataset: "aws.securityhub_findings",
                module: "aws",
                id: Some(&self.id),
                severity: self.normalized_severity().map(|s| s.round() as i64),
                reference: self
                    .remediation
                    .as_ref()
                    .and_then(|r| r.recommendation.as_ref())
                    .and_then(|r| opt(&r.url)),
                ..Event::default()
            },
            cloud: Cloud {
                region: opt(&self.region),
                account: opt(&self.aws_account_id).map(|id| Account { id }),
                ..Cloud::aws()
            },
            related: Related {
                ip: ips,
                hosts: [source.as_ref(), destination.as_ref()]
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.domain)
                    .chain(dns.and_then(|d| opt(&d.domain)))
                    .collect(),
                ..Related::default()
            },
            source,
            destination,
            network: (transport.is_some() || direction.is_some()).then(|| Network {
                transport: transport.map(str::to_ascii_lowercase),
                direction,
                ..Network::default()
            }),
            dns: dns.and_then(|d| opt(&d.domain)).map(|name| Dns {
                question: DnsQuestion { name },
            }),
            process: self.process.as_ref().map(|p| Process {
                name: opt(&p.name),
                executable: opt(&p.path),
                pid: p.pid,
                parent: p.parent_pid.map(|pid| ProcessParent {
                    entity_id: None,
                    pid: Some(pid),
                }),
                ..Process::default()
            }),
            entity,
            vulnerability,
            threat,
            log: path.map(|path| Log {
                file: LogFile { path },
            }),
            rule: self.control_id().map(|id| ObserverRule {
                id: Some(Cow::Borrowed(id)),
                name: opt(&self.title),
                description: opt(&self.description),
                reference: self
                    .remediation
                    .as_ref()
                    .and_then(|r| r.recommendation.as_ref())
                    .and_then(|r| opt(&r.url)),
                ..ObserverRule::default()
            }),
            message: opt(&self.title),
            aws: super::Aws {
                securityhub_findings: Some(SecurityHubFields {
                    product_arn: opt(&self.product_arn),
                    product_name: opt(&self.product_name),
                    generator_id: opt(&self.generator_id),
                    compliance_status: self.compliance_status(),
                    control_id: self.control_id(),
                    resource_id: self.resource_id(),
                    resource_type: self.resource_type(),
                    workflow_status: self.workflow_status(),
                    record_state: opt(&self.record_state),
                    severity_label: self.severity.as_ref().and_then(|s| opt(&s.label)),
                    types: self.types,
                    remediation: self
                        .remediation
                        .as_ref()
                        .and_then(|r| r.recommendation.as_ref())
                        .and_then(|r| opt(&r.text)),
                }),
                ..super::Aws::default()
            },
            ..EcsEvent::default()
        }
    }
}

/// `aws.securityhub_findings.*`.
#[derive(Debug, Serialize)]
pub struct SecurityHubFields<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    product_arn: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_name: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generator_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance_status: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    control_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_type: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    workflow_status: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_state: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity_label: Option<&'r str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
    )]
    types: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<&'r str>,
}

impl<'a> super::SourceRecord<'a> for SecurityHubFinding<'a> {
    fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        SecurityHubFinding::parse(raw)
    }

    fn event_time(&self) -> Option<i64> {
        Some(self.millis().div_euclid(1000))
    }

    fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        SecurityHubFinding::to_ecs(self, path)
    }

    fn summary(&self, _entity: &crate::detect::Entity) -> String {
        let f = self;
        let mut s = format!(
            "Security Hub control {} is {}",
            f.control_id().unwrap_or("(unknown)"),
            f.compliance_status().unwrap_or("reported")
        );
        if let Some(r) = f.resource_id() {
            s.push_str(&format!(" for {r}"));
        }
        if let Some(acct) = f.aws_account_id.as_deref() {
            s.push_str(&format!(" in account {acct}"));
        }
        if let Some(region) = f.region.as_deref() {
            s.push_str(&format!(" {region}"));
        }
        if let Some(t) = f.title.as_deref() {
            s.push_str(": ");
            s.push_str(t);
        }
        s
    }

    fn sniff(head: &str) -> bool {
        let has = |k: &str| head.contains(k);
        has("\"ProductArn\"") || has("\"AwsAccountId\"")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A control finding of `control` on `resource` with `status`, updated at `updated`.
    pub(crate) fn control(control: &str, resource: &str, status: &str, updated: &str) -> String {
        serde_json::json!({
            "SchemaVersion": "2018-10-08",
            "Id": format!("arn:aws:securityhub:us-east-1:111122223333:security-control/{control}/finding/{resource}"),
            "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "ProductName": "Security Hub",
            "GeneratorId": format!("security-control/{control}"),
            "AwsAccountId": "111122223333", "Region": "us-east-1",
            "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
            "CreatedAt": "2026-10-01T00:00:00.000Z", "UpdatedAt": updated,
            "Severity": {"Label": "HIGH", "Normalized": 70},
            "Title": "S3 general purpose buckets should block public access",
            "Description": "d",
            "Remediation": {"Recommendation": {"Text": "Fix it", "Url": "https://docs.aws.amazon.com/console/securityhub/S3.8/remediation"}},
            "Resources": [{"Type": "AwsS3Bucket", "Id": resource}],
            "Compliance": {"Status": status, "SecurityControlId": control},
            "Workflow": {"Status": "NEW"}, "WorkflowState": "NEW", "RecordState": "ACTIVE"
        })
        .to_string()
    }

    #[test]
    fn a_control_names_its_resource_rule_description_and_remediation() {
        let raw = control(
            "S3.8",
            "arn:aws:s3:::b",
            "FAILED",
            "2026-11-01T10:00:00.000Z",
        );
        let ecs =
            serde_json::to_value(SecurityHubFinding::parse(&raw).unwrap().to_ecs(None)).unwrap();
        assert_eq!(ecs["entity"]["id"], "arn:aws:s3:::b");
        assert_eq!(ecs["entity"]["type"], "bucket");
        assert_eq!(ecs["entity"]["sub_type"], "AwsS3Bucket");
        assert_eq!(ecs["rule"]["description"], "d");
        assert_eq!(
            ecs["rule"]["reference"],
            "https://docs.aws.amazon.com/console/securityhub/S3.8/remediation"
        );
        assert_eq!(ecs["aws"]["securityhub_findings"]["remediation"], "Fix it");
        assert!(ecs.get("vulnerability").is_none() && ecs.get("threat").is_none());
        assert!(ecs.get("source").is_none() && ecs.get("network").is_none());
    }

    #[test]
    fn threat_and_vulnerability_findings_map_network_process_indicator_and_cve() {
        let raw = serde_json::json!({
            "Id": "t1", "ProductName": "Inspector", "UpdatedAt": "2026-11-01T10:00:00.000Z",
            "Severity": {"Label": "CRITICAL"}, "Title": "CVE-2024-1234 - openssl",
            "Description": "A flaw in openssl.",
            "Resources": [{"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}],
            "Network": {"Direction": "IN", "Protocol": "TCP", "SourceIpV4": "198.51.100.7",
                "SourcePort": 4444, "DestinationIpV4": "10.0.0.5", "DestinationPort": "22",
                "DestinationDomain": "db.internal.example"},
            "Process": {"Name": "sshd", "Path": "/usr/sbin/sshd", "Pid": 77, "ParentPid": 1},
            "Vulnerabilities": [{"Id": "CVE-2024-1234",
                "Cvss": [{"Version": "3.1", "BaseScore": 9.8, "BaseVector": "AV:N"}],
                "ReferenceUrls": ["https://nvd.nist.gov/vuln/detail/CVE-2024-1234"]}],
            "ThreatIntelIndicators": [{"Type": "IPV4_ADDRESS", "Value": "198.51.100.7",
                "Source": "ExampleFeed", "LastObservedAt": "2026-10-31T00:00:00.000Z"}]
        })
        .to_string();
        let ecs =
            serde_json::to_value(SecurityHubFinding::parse(&raw).unwrap().to_ecs(None)).unwrap();
        assert_eq!(ecs["source"]["ip"], "198.51.100.7");
        assert_eq!(ecs["source"]["port"], 4444);
        assert_eq!(ecs["destination"]["ip"], "10.0.0.5");
        assert_eq!(ecs["destination"]["port"], 22);
        assert_eq!(ecs["destination"]["domain"], "db.internal.example");
        assert_eq!(ecs["network"]["transport"], "tcp");
        assert_eq!(ecs["network"]["direction"], "inbound");
        assert_eq!(
            ecs["related"]["ip"],
            serde_json::json!(["198.51.100.7", "10.0.0.5"])
        );
        assert_eq!(ecs["process"]["name"], "sshd");
        assert_eq!(ecs["process"]["executable"], "/usr/sbin/sshd");
        assert_eq!(ecs["process"]["pid"], 77);
        assert_eq!(ecs["process"]["parent"]["pid"], 1);
        let v = &ecs["vulnerability"];
        assert_eq!(v["id"], "CVE-2024-1234");
        assert_eq!(v["enumeration"], "CVE");
        assert_eq!(v["score"]["base"], 9.8);
        assert_eq!(v["score"]["version"], "3.1");
        assert_eq!(
            v["reference"],
            "https://nvd.nist.gov/vuln/detail/CVE-2024-1234"
        );
        assert_eq!(v["severity"], "CRITICAL");
        assert_eq!(v["scanner"]["vendor"], "Inspector");
        let i = &ecs["threat"]["indicator"];
        assert_eq!(i["type"], "ipv4-addr");
        assert_eq!(i["ip"], "198.51.100.7");
        assert_eq!(i["provider"], "ExampleFeed");
        assert_eq!(i["last_seen"], "2026-10-31T00:00:00.000Z");
        assert_eq!(ecs["entity"]["type"], "host");
    }

    #[test]
    fn an_imported_guardduty_finding_names_its_remote_party_and_dns_question() {
        let raw = serde_json::json!({
            "Id": "g1", "ProductName": "GuardDuty", "UpdatedAt": "2026-11-01T10:00:00.000Z",
            "Action": {"ActionType": "DNS_REQUEST",
                "DnsRequestAction": {"Domain": "evil.example.com", "Protocol": "UDP"}},
            "ThreatIntelIndicators": [{"Type": "DOMAIN", "Value": "evil.example.com"}]
        })
        .to_string();
        let ecs =
            serde_json::to_value(SecurityHubFinding::parse(&raw).unwrap().to_ecs(None)).unwrap();
        assert_eq!(ecs["dns"]["question"]["name"], "evil.example.com");
        assert_eq!(ecs["network"]["transport"], "udp");
        assert_eq!(
            ecs["related"]["hosts"],
            serde_json::json!(["evil.example.com"])
        );
        assert_eq!(ecs["threat"]["indicator"]["type"], "domain-name");
        assert!(ecs["threat"]["indicator"].get("ip").is_none());
        let url = serde_json::json!({"Id": "g3", "UpdatedAt": "2026-11-01T10:00:00.000Z",
            "ThreatIntelIndicators": [{"Type": "URL", "Value": "https://evil.example/x"}]})
        .to_string();
        let ecs =
            serde_json::to_value(SecurityHubFinding::parse(&url).unwrap().to_ecs(None)).unwrap();
        assert_eq!(
            ecs["threat"]["indicator"]["url"]["full"],
            "https://evil.example/x"
        );
        assert!(ecs["threat"]["indicator"].get("ip").is_none());
        let api = serde_json::json!({
            "Id": "g2", "UpdatedAt": "2026-11-01T10:00:00.000Z",
            "Action": {"ActionType": "AWS_API_CALL", "AwsApiCallAction": {"Api": "ListBuckets",
                "RemoteIpDetails": {"IpAddressV4": "203.0.113.9"}}}
        })
        .to_string();
        let ecs =
            serde_json::to_value(SecurityHubFinding::parse(&api).unwrap().to_ecs(None)).unwrap();
        assert_eq!(ecs["source"]["ip"], "203.0.113.9");
        assert_eq!(ecs["related"]["ip"], serde_json::json!(["203.0.113.9"]));
    }

    #[test]
    fn a_failed_control_maps_to_ecs() {
        let raw = control(
            "S3.8",
            "arn:aws:s3:::b",
            "FAILED",
            "2026-11-01T10:00:00.000Z",
        );
        let f = SecurityHubFinding::parse(&raw).unwrap();
        assert_eq!(f.control_id(), Some("S3.8"));
        assert!(f.is_active());
        let ecs = serde_json::to_value(f.to_ecs(None)).unwrap();
        assert_eq!(ecs["event"]["kind"], "state");
        assert_eq!(ecs["event"]["outcome"], "failure");
        assert_eq!(ecs["event"]["severity"], 70);
        assert_eq!(ecs["rule"]["id"], "S3.8");
        assert_eq!(
            ecs["event"]["reference"],
            "https://docs.aws.amazon.com/console/securityhub/S3.8/remediation"
        );
        assert_eq!(
            ecs["aws"]["securityhub_findings"]["resource_id"],
            "arn:aws:s3:::b"
        );
    }

    #[test]
    fn control_ids_of_older_standards_and_label_only_severity() {
        let raw = r#"{"Id":"x","UpdatedAt":"2020-01-01T00:00:00Z","ProductFields":{"RuleId":"1.3"},"Severity":{"Label":"CRITICAL"},"RecordState":"ARCHIVED"}"#;
        let f = SecurityHubFinding::parse(raw).unwrap();
        assert_eq!(f.control_id(), Some("1.3"));
        assert_eq!(f.normalized_severity(), Some(90.0));
        assert!(!f.is_active());
        let e = SecurityHubFinding::parse(r#"{"UpdatedAt":"2020-01-01T00:00:00Z"}"#).unwrap_err();
        assert!(e.to_string().contains("Id"), "{e}");
    }
}
