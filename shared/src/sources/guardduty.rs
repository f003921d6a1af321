//! GuardDuty findings, as the `detail` of EventBridge "GuardDuty Finding" events (or exported
//! one per line). Typed where detections and the mapping look; `resource` and `service` are
//! also kept raw for the evidence. Mapped to ECS after Elastic's `aws.guardduty` data stream.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lenient::{lenient_bool, lenient_f64, lenient_str, lenient_time, lenient_u64};
use crate::ecs::{
    Account, Cloud, Container, ContainerImage, Dns, DnsQuestion, EcsEvent, Endpoint, Event, Geo,
    Id, Log, LogFile, Network, ObserverRule, Process, ProcessParent, ProcessUser, Related,
    SecurityContext as EcsSecurityContext, Service, Sha256, User,
};
use crate::timefmt::format_rfc3339_millis;

/// One GuardDuty finding.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardDutyFinding<'a> {
    /// `2.0`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub schema_version: Option<Cow<'a, str>>,
    /// The account the finding is about.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub account_id: Option<Cow<'a, str>>,
    /// Its region.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub region: Option<Cow<'a, str>>,
    /// The finding's id (the same across its updates).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub id: Option<Cow<'a, str>>,
    /// The finding's ARN.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub arn: Option<Cow<'a, str>>,
    /// `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact`.
    #[serde(borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    /// 1.0 to 10.0 (8.0 and up is high; 9.0 and up critical).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub severity: Option<f64>,
    /// First time GuardDuty wrote it.
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<i64>,
    /// Last update (its count and last-seen time change).
    #[serde(default, deserialize_with = "lenient_time")]
    pub updated_at: Option<i64>,
    /// One line.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub title: Option<Cow<'a, str>>,
    /// A paragraph.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub description: Option<Cow<'a, str>>,
    /// What is affected, raw.
    #[serde(borrow, default)]
    pub resource: Option<&'a RawValue>,
    /// What GuardDuty saw, raw.
    #[serde(borrow, default)]
    pub service: Option<&'a RawValue>,
    // Boxed: parsed on first use only, and a finding stays the size of the other records.
    #[serde(skip)]
    typed_resource: OnceCell<Box<Resource<'a>>>,
    #[serde(skip)]
    typed_service: OnceCell<Box<ServiceFields<'a>>>,
}

/// `resource`, the parts used.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Resource<'a> {
    /// `Instance`, `AccessKey`, `S3Bucket`, `EKSCluster`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub resource_type: Option<Cow<'a, str>>,
    /// `instanceDetails`.
    #[serde(borrow, default)]
    pub instance_details: Option<InstanceDetails<'a>>,
    /// `accessKeyDetails`.
    #[serde(borrow, default)]
    pub access_key_details: Option<AccessKeyDetails<'a>>,
    /// `s3BucketDetails`.
    #[serde(borrow, default)]
    pub s3_bucket_details: Option<Vec<Named<'a>>>,
    /// `eksClusterDetails`.
    #[serde(borrow, default)]
    pub eks_cluster_details: Option<Named<'a>>,
    /// `ecsClusterDetails`.
    #[serde(borrow, default)]
    pub ecs_cluster_details: Option<Named<'a>>,
    /// `rdsDbInstanceDetails`.
    #[serde(borrow, default)]
    pub rds_db_instance_details: Option<RdsDetails<'a>>,
    /// `lambdaDetails`.
    #[serde(borrow, default)]
    pub lambda_details: Option<LambdaDetails<'a>>,
    /// `containerDetails` (Runtime Monitoring findings on a container; boxed, as the other
    /// rare parts below, so that a record stays small on the hot path).
    #[serde(borrow, default)]
    pub container_details: Option<Box<ContainerDetails<'a>>>,
}

/// `containerDetails`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDetails<'a> {
    /// The container's id.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub id: Option<Cow<'a, str>>,
    /// Its name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub name: Option<Cow<'a, str>>,
    /// `docker`, `containerd`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub container_runtime: Option<Cow<'a, str>>,
    /// The image, as logged.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub image: Option<Cow<'a, str>>,
    /// `securityContext`.
    #[serde(default)]
    pub security_context: Option<SecurityContext>,
}

/// `containerDetails.securityContext`.
#[derive(Debug, Deserialize, Default)]
pub struct SecurityContext {
    /// Whether the container runs privileged.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub privileged: Option<bool>,
}

/// `instanceDetails`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InstanceDetails<'a> {
    /// `i-...`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub instance_id: Option<Cow<'a, str>>,
}

/// `accessKeyDetails`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyDetails<'a> {
    /// The key.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub access_key_id: Option<Cow<'a, str>>,
    /// The principal.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub principal_id: Option<Cow<'a, str>>,
    /// The user (or role) name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub user_name: Option<Cow<'a, str>>,
    /// `IAMUser`, `AssumedRole`, `Root`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub user_type: Option<Cow<'a, str>>,
}

/// Something with a name and maybe an ARN.
#[derive(Debug, Deserialize, Default)]
pub struct Named<'a> {
    /// Its name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub name: Option<Cow<'a, str>>,
    /// Its ARN.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub arn: Option<Cow<'a, str>>,
}

/// `rdsDbInstanceDetails`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RdsDetails<'a> {
    /// The instance.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub db_instance_identifier: Option<Cow<'a, str>>,
}

/// `lambdaDetails`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LambdaDetails<'a> {
    /// The function.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub function_name: Option<Cow<'a, str>>,
}

/// `service`, the parts used.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceFields<'a> {
    /// What was done.
    #[serde(borrow, default)]
    pub action: Option<Action<'a>>,
    /// `additionalInfo`.
    #[serde(default)]
    pub additional_info: Option<AdditionalInfo>,
    /// How many times GuardDuty saw it.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub count: Option<u64>,
    /// Whether it was archived (suppressed).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub archived: Option<bool>,
    /// The first sighting, as logged (`2024-07-24T04:03:51.666Z`).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub event_first_seen: Option<Cow<'a, str>>,
    /// The last one.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub event_last_seen: Option<Cow<'a, str>>,
    /// What Runtime Monitoring saw on the host or container.
    #[serde(borrow, default)]
    pub runtime_details: Option<Box<RuntimeDetails<'a>>>,
}

/// `service.runtimeDetails`, the parts mapped.
#[derive(Debug, Deserialize, Default)]
pub struct RuntimeDetails<'a> {
    /// The process the finding is about.
    #[serde(borrow, default)]
    pub process: Option<RuntimeProcess<'a>>,
}

/// `service.runtimeDetails.process`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeProcess<'a> {
    /// The executable's name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub name: Option<Cow<'a, str>>,
    /// Its path.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub executable_path: Option<Cow<'a, str>>,
    /// Its SHA-256.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub executable_sha256: Option<Cow<'a, str>>,
    /// The process id (on the host).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub pid: Option<u64>,
    /// Its working directory.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub pwd: Option<Cow<'a, str>>,
    /// GuardDuty's id of the process.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub uuid: Option<Cow<'a, str>>,
    /// GuardDuty's id of its parent.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub parent_uuid: Option<Cow<'a, str>>,
    /// The user it runs as.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub user: Option<Cow<'a, str>>,
    /// The user's uid.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub user_id: Option<u64>,
}

/// `service.additionalInfo`.
#[derive(Debug, Deserialize, Default)]
pub struct AdditionalInfo {
    /// Set on sample findings (GuardDuty's "Generate sample findings").
    #[serde(default, deserialize_with = "lenient_bool")]
    pub sample: Option<bool>,
}

/// `service.action`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Action<'a> {
    /// `AWS_API_CALL`, `NETWORK_CONNECTION`, `PORT_PROBE`, `DNS_REQUEST`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub action_type: Option<Cow<'a, str>>,
    /// `awsApiCallAction`.
    #[serde(borrow, default)]
    pub aws_api_call_action: Option<Remote<'a>>,
    /// `networkConnectionAction`.
    #[serde(borrow, default)]
    pub network_connection_action: Option<Remote<'a>>,
    /// `kubernetesApiCallAction`.
    #[serde(borrow, default)]
    pub kubernetes_api_call_action: Option<Remote<'a>>,
    /// `rdsLoginAttemptAction`.
    #[serde(borrow, default)]
    pub rds_login_attempt_action: Option<Remote<'a>>,
    /// `portProbeAction`.
    #[serde(borrow, default)]
    pub port_probe_action: Option<PortProbe<'a>>,
    /// `dnsRequestAction`.
    #[serde(borrow, default)]
    pub dns_request_action: Option<Box<DnsRequest<'a>>>,
}

/// `dnsRequestAction`.
#[derive(Debug, Deserialize, Default)]
pub struct DnsRequest<'a> {
    /// The name asked for.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub domain: Option<Cow<'a, str>>,
    /// `UDP` or `TCP`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub protocol: Option<Cow<'a, str>>,
}

/// An action with a remote party.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Remote<'a> {
    /// The API called.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub api: Option<Cow<'a, str>>,
    /// `TCP`, `UDP` (network connections).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub protocol: Option<Cow<'a, str>>,
    /// The remote party.
    #[serde(borrow, default)]
    pub remote_ip_details: Option<RemoteIp<'a>>,
}

/// `portProbeAction`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PortProbe<'a> {
    /// The probes.
    #[serde(borrow, default)]
    pub port_probe_details: Option<Vec<Remote<'a>>>,
}

/// `remoteIpDetails`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RemoteIp<'a> {
    /// IPv4.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub ip_address_v4: Option<Cow<'a, str>>,
    /// IPv6.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub ip_address_v6: Option<Cow<'a, str>>,
    /// Country.
    #[serde(borrow, default)]
    pub country: Option<Country<'a>>,
}

/// `country`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Country<'a> {
    /// ISO code, when GuardDuty gives it.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub country_code: Option<Cow<'a, str>>,
}

fn opt<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    s.as_deref()
}

impl<'a> GuardDutyFinding<'a> {
    /// Parses one finding: it has a `type` and a time.
    pub fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        let f: GuardDutyFinding<'a> = serde_json::from_str(raw)?;
        if f.updated_at.or(f.created_at).is_none() {
            return Err(serde::de::Error::custom(
                "missing or unreadable field `updatedAt` and `createdAt`",
            ));
        }
        if f.kind.is_empty() {
            return Err(serde::de::Error::custom("empty field `type`"));
        }
        Ok(f)
    }

    /// Unix milliseconds of the finding's latest update.
    pub fn millis(&self) -> i64 {
        self.updated_at.or(self.created_at).unwrap_or_default()
    }

    /// The affected resource, typed (parsed on first use).
    pub fn resource(&self) -> &Resource<'a> {
        self.typed_resource
            .get_or_init(|| {
                self.resource
                    .and_then(|r| serde_json::from_str(r.get()).ok())
                    .unwrap_or_default()
            })
            .as_ref()
    }

    /// What GuardDuty saw, typed (parsed on first use).
    pub fn service(&self) -> &ServiceFields<'a> {
        self.typed_service
            .get_or_init(|| {
                self.service
                    .and_then(|r| serde_json::from_str(r.get()).ok())
                    .unwrap_or_default()
            })
            .as_ref()
    }

    /// Whether it is one of GuardDuty's generated sample findings.
    pub fn is_sample(&self) -> bool {
        self.service()
            .additional_info
            .as_ref()
            .and_then(|a| a.sample)
            .unwrap_or(false)
    }

    /// `service.action.actionType`.
    pub fn action_type(&self) -> Option<&str> {
        self.service()
            .action
            .as_ref()
            .and_then(|a| opt(&a.action_type))
    }

    /// `resource.resourceType`.
    pub fn resource_type(&self) -> Option<&str> {
        opt(&self.resource().resource_type)
    }

    /// The affected resource's identifier: instance id, access key, bucket, cluster, ...
    pub fn resource_id(&self) -> Option<&str> {
        let r = self.resource();
        r.instance_details
            .as_ref()
            .and_then(|d| opt(&d.instance_id))
            .or_else(|| {
                r.access_key_details
                    .as_ref()
                    .and_then(|d| opt(&d.access_key_id))
            })
            .or_else(|| {
                r.s3_bucket_details
                    .as_ref()
                    .and_then(|b| b.first())
                    .and_then(|b| opt(&b.name))
            })
            .or_else(|| r.eks_cluster_details.as_ref().and_then(|d| opt(&d.name)))
            .or_else(|| r.ecs_cluster_details.as_ref().and_then(|d| opt(&d.name)))
            .or_else(|| {
                r.rds_db_instance_details
                    .as_ref()
                    .and_then(|d| opt(&d.db_instance_identifier))
            })
            .or_else(|| {
                r.lambda_details
                    .as_ref()
                    .and_then(|d| opt(&d.function_name))
            })
            .filter(|id| !id.is_empty())
    }

    /// The user of an access-key finding.
    pub fn user_name(&self) -> Option<&str> {
        self.resource()
            .access_key_details
            .as_ref()
            .and_then(|d| opt(&d.user_name))
    }

    /// The remote party's IP and country.
    pub fn remote(&self) -> Option<&RemoteIp<'a>> {
        let a = self.service().action.as_ref()?;
        [
            &a.aws_api_call_action,
            &a.network_connection_action,
            &a.kubernetes_api_call_action,
            &a.rds_login_attempt_action,
        ]
        .into_iter()
        .flatten()
        .find_map(|r| r.remote_ip_details.as_ref())
        .or_else(|| {
            a.port_probe_action
                .as_ref()
                .and_then(|p| p.port_probe_details.as_ref())
                .and_then(|d| d.iter().find_map(|r| r.remote_ip_details.as_ref()))
        })
    }

    /// The remote IP.
    pub fn remote_ip(&self) -> Option<&str> {
        let r = self.remote()?;
        opt(&r.ip_address_v4).or(opt(&r.ip_address_v6))
    }

    /// Maps the finding to ECS. `path` is where it was read from.
    pub fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        let remote_ip = self.remote_ip();
        let user = self.user_name();
        let host = self
            .resource()
            .instance_details
            .as_ref()
            .and_then(|d| opt(&d.instance_id));
        let service = self.service();
        let action = service.action.as_ref();
        let dns = action.and_then(|a| a.dns_request_action.as_ref());
        let transport = action
            .and_then(|a| a.network_connection_action.as_ref())
            .and_then(|n| opt(&n.protocol))
            .or_else(|| dns.and_then(|d| opt(&d.protocol)));
        let process = service
            .runtime_details
            .as_ref()
            .and_then(|r| r.process.as_ref())
            .map(|p| Process {
                name: opt(&p.name),
                executable: opt(&p.executable_path),
                pid: p.pid,
                working_directory: opt(&p.pwd),
                entity_id: opt(&p.uuid),
                hash: opt(&p.executable_sha256).map(|sha256| Sha256 { sha256 }),
                user: (p.user.is_some() || p.user_id.is_some()).then(|| ProcessUser {
                    name: opt(&p.user),
                    id: p.user_id.map(|id| id.to_string()),
                }),
                parent: opt(&p.parent_uuid).map(|entity_id| ProcessParent {
                    entity_id: Some(entity_id),
                    pid: None,
                }),
            });
        let container = self
            .resource()
            .container_details
            .as_ref()
            .map(|c| Container {
                id: opt(&c.id),
                name: opt(&c.name),
                runtime: opt(&c.container_runtime),
                image: opt(&c.image).map(|name| ContainerImage { name }),
                security_context: c
                    .security_context
                    .as_ref()
                    .and_then(|s| s.privileged)
                    .map(|privileged| EcsSecurityContext { privileged }),
            });
        // `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact`.
        let (purpose, rest) = self.kind.split_once(':').unwrap_or(("", &self.kind));
        let (resource_kind, family) = rest.split_once('/').unwrap_or(("", rest));
        let part = |p: &'r str| (!p.is_empty()).then_some(p);
        EcsEvent {
            timestamp: Cow::Owned(format_rfc3339_millis(self.millis())),
            event: Event {
                kind: "alert",
                category: &["intrusion_detection"],
                kind_types: &["info"],
                action: self.action_type(),
                dataset: "aws.guardduty",
                module: "aws",
                id: opt(&self.id),
                severity: self.severity.map(|s| s.clamp(0.0, 10.0).trunc() as i64),
                risk_score_norm: self
                    .severity
                    .map(|s| (s.clamp(0.0, 10.0) * 100.0).round() / 10.0),
                // As RFC 3339 whatever the form logged (exports write `2025-02-25 20:40:06.000000000`).
                start: opt(&service.event_first_seen)
                    .and_then(crate::timefmt::parse_any_millis)
                    .map(format_rfc3339_millis),
                end: opt(&service.event_last_seen)
                    .and_then(crate::timefmt::parse_any_millis)
                    .map(format_rfc3339_millis),
                ..Event::default()
            },
            cloud: Cloud {
                region: opt(&self.region),
                account: opt(&self.account_id).map(|id| Account { id }),
                service: Some(Service { name: "guardduty" }),
                instance: host.map(|id| Id { id }),
                ..Cloud::aws()
            },
            source: remote_ip.map(|ip| Endpoint {
                geo: self
                    .remote()
                    .and_then(|r| r.country.as_ref())
                    .and_then(|c| opt(&c.country_code))
                    .map(|c| Geo {
                        country_iso_code: Some(Cow::Borrowed(c)),
                        ..Geo::default()
                    }),
                ..Endpoint::at(ip)
            }),
            user: user.map(|name| User {
                name: Some(name),
                ..User::default()
            }),
            related: Related {
                ip: remote_ip.into_iter().collect(),
                user: user.map(str::to_owned).into_iter().collect(),
                hosts: host.into_iter().collect(),
            },
            log: path.map(|path| Log {
                file: LogFile { path },
            }),
            rule: Some(ObserverRule {
                name: part(family).or(Some(&self.kind)),
                category: part(purpose),
                ruleset: part(resource_kind),
                ..ObserverRule::default()
            }),
            host: host.map(|id| Id { id }),
            dns: dns.and_then(|d| opt(&d.domain)).map(|name| Dns {
                question: DnsQuestion { name },
            }),
            network: transport.map(|t| Network {
                transport: Some(t.to_ascii_lowercase()),
                ..Network::default()
            }),
            process,
            container,
            message: opt(&self.title),
            aws: super::Aws {
                guardduty: Some(GuardDutyFields {
                    kind: &self.kind,
                    arn: opt(&self.arn),
                    severity: self.severity,
                    schema_version: opt(&self.schema_version),
                    resource_type: self.resource_type(),
                    title: opt(&self.title),
                    description: opt(&self.description),
                    resource: self.resource,
                    service: self.service,
                }),
                ..super::Aws::default()
            },
            ..EcsEvent::default()
        }
    }
}

/// `aws.guardduty.*`.
#[derive(Debug, Serialize)]
pub struct GuardDutyFields<'r> {
    #[serde(rename = "type")]
    kind: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_version: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_type: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'r str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "snake_case_raw"
    )]
    resource: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "snake_case_raw"
    )]
    service: Option<&'r RawValue>,
}

impl<'a> super::SourceRecord<'a> for GuardDutyFinding<'a> {
    fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        GuardDutyFinding::parse(raw)
    }

    fn event_time(&self) -> Option<i64> {
        Some(self.millis().div_euclid(1000))
    }

    fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        GuardDutyFinding::to_ecs(self, path)
    }

    fn summary(&self, _entity: &crate::detect::Entity) -> String {
        let f = self;
        let mut s = format!(
            "GuardDuty {} (severity {})",
            f.kind,
            f.severity.map_or("?".to_owned(), |v| format!("{v:.1}"))
        );
        if let Some(acct) = f.account_id.as_deref() {
            s.push_str(&format!(" in account {acct}"));
        }
        if let Some(region) = f.region.as_deref() {
            s.push_str(&format!(" {region}"));
        }
        if let Some(id) = f.resource_id() {
            s.push_str(&format!(
                " on {} {id}",
                f.resource_type().unwrap_or("resource")
            ));
        }
        if let Some(ip) = f.remote_ip() {
            s.push_str(&format!(" from {ip}"));
        }
        if let Some(t) = f.title.as_deref() {
            s.push_str(": ");
            s.push_str(t);
        }
        s
    }

    fn sniff(head: &str) -> bool {
        let has = |k: &str| head.contains(k);
        has("\"schemaVersion\"") && has("\"service\"")
    }

    fn user_name(&self) -> Option<&str> {
        self.user_name()
    }

    fn remote_ip(&self) -> Option<&str> {
        self.remote_ip()
    }
}

/// A raw part of the finding with its keys in snake_case (`ipAddressV4` -> `ip_address_v4`),
/// as Elastic names `aws.guardduty.*`; values are kept as logged.
fn snake_case_raw<S: serde::Serializer>(raw: &Option<&RawValue>, s: S) -> Result<S::Ok, S::Error> {
    fn rename(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| (snake_case(&k), rename(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(rename).collect()),
            other => other,
        }
    }
    match raw {
        Some(r) => {
            let v: serde_json::Value =
                serde_json::from_str(r.get()).map_err(serde::ser::Error::custom)?;
            rename(v).serialize(s)
        }
        None => s.serialize_none(),
    }
}

/// `eventFirstSeen` -> `event_first_seen`; an acronym stays one word (`DNSRequest` ->
/// `dns_request`).
fn snake_case(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A finding about an access key used from a remote IP.
    pub(crate) fn finding(kind: &str, severity: f64, sample: bool) -> String {
        serde_json::json!({
            "schemaVersion": "2.0", "accountId": "111122223333", "region": "us-east-1",
            "id": "f1", "arn": "arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/f1",
            "type": kind, "severity": severity,
            "createdAt": "2026-11-01T10:00:00.000Z", "updatedAt": "2026-11-01T10:05:00.000Z",
            "title": "Unusual API call", "description": "d",
            "resource": {"resourceType": "AccessKey", "accessKeyDetails": {
                "accessKeyId": "AKIAEXAMPLE", "principalId": "AIDA", "userName": "alice", "userType": "IAMUser"}},
            "service": {"serviceName": "guardduty", "action": {"actionType": "AWS_API_CALL",
                "awsApiCallAction": {"api": "ListBuckets", "remoteIpDetails": {"ipAddressV4": "198.51.100.7",
                "country": {"countryName": "Example"}}}},
                "additionalInfo": {"sample": sample}, "count": 3, "archived": false}
        })
        .to_string()
    }

    #[test]
    fn an_access_key_finding_maps_to_ecs() {
        let raw = finding("Discovery:IAMUser/AnomalousBehavior", 5.0, false);
        let f = GuardDutyFinding::parse(&raw).unwrap();
        assert!(!f.is_sample());
        assert_eq!(f.resource_id(), Some("AKIAEXAMPLE"));
        assert_eq!(f.action_type(), Some("AWS_API_CALL"));
        let ecs = serde_json::to_value(f.to_ecs(None)).unwrap();
        assert_eq!(ecs["@timestamp"], "2026-11-01T10:05:00Z");
        assert_eq!(ecs["event"]["kind"], "alert");
        // GuardDuty's own number, as ECS defines event.severity; the 0-100 score beside it.
        assert_eq!(ecs["event"]["severity"], 5);
        assert_eq!(ecs["event"]["risk_score_norm"], 50.0);
        let high = finding("Discovery:IAMUser/AnomalousBehavior", 6.9, false);
        let ecs =
            serde_json::to_value(GuardDutyFinding::parse(&high).unwrap().to_ecs(None)).unwrap();
        assert_eq!(
            ecs["event"]["severity"], 6,
            "the band is kept: 6.9 is medium"
        );
        assert_eq!(ecs["event"]["risk_score_norm"], 69.0);
        assert_eq!(ecs["source"]["ip"], "198.51.100.7");
        assert_eq!(ecs["user"]["name"], "alice");
        assert_eq!(ecs["cloud"]["account"]["id"], "111122223333");
        assert_eq!(
            ecs["aws"]["guardduty"]["type"],
            "Discovery:IAMUser/AnomalousBehavior"
        );
        assert_eq!(ecs["aws"]["guardduty"]["service"]["count"], 3);
        assert_eq!(ecs["message"], "Unusual API call");
    }

    #[test]
    fn the_type_splits_into_rule_fields_and_runtime_findings_map_process_and_container() {
        let raw = serde_json::json!({
            "accountId": "111122223333", "region": "us-east-1", "id": "f2",
            "type": "PrivilegeEscalation:Runtime/DockerSocketAccessed", "severity": 8.0,
            "updatedAt": "2026-11-01T10:05:00.000Z",
            "resource": {"resourceType": "Container",
                "instanceDetails": {"instanceId": "i-0abc"},
                "containerDetails": {"containerRuntime": "docker", "id": "c1", "name": "web",
                    "image": "repo/web:1.2", "securityContext": {"privileged": true}}},
            "service": {"eventFirstSeen": "2026-10-30T04:03:51.666Z",
                "eventLastSeen": "2026-11-01T10:00:00.000Z",
                "runtimeDetails": {"process": {"name": "sshd", "executablePath": "/usr/sbin/sshd",
                    "executableSha256": "d2d2", "pid": 2345, "pwd": "/home/user",
                    "uuid": "u-1", "parentUuid": "u-0", "user": "admin", "userId": 1000}}}
        })
        .to_string();
        let ecs =
            serde_json::to_value(GuardDutyFinding::parse(&raw).unwrap().to_ecs(None)).unwrap();
        assert_eq!(ecs["rule"]["category"], "PrivilegeEscalation");
        assert_eq!(ecs["rule"]["ruleset"], "Runtime");
        assert_eq!(ecs["rule"]["name"], "DockerSocketAccessed");
        assert_eq!(ecs["event"]["start"], "2026-10-30T04:03:51.666Z");
        assert_eq!(ecs["event"]["end"], "2026-11-01T10:00:00Z");
        assert_eq!(ecs["cloud"]["instance"]["id"], "i-0abc");
        assert_eq!(ecs["host"]["id"], "i-0abc");
        let p = &ecs["process"];
        assert_eq!(
            (p["name"].as_str(), p["executable"].as_str()),
            (Some("sshd"), Some("/usr/sbin/sshd"))
        );
        assert_eq!(p["pid"], 2345);
        assert_eq!(p["working_directory"], "/home/user");
        assert_eq!(p["hash"]["sha256"], "d2d2");
        assert_eq!(p["user"]["name"], "admin");
        assert_eq!(p["user"]["id"], "1000");
        assert_eq!(p["entity_id"], "u-1");
        assert_eq!(p["parent"]["entity_id"], "u-0");
        let c = &ecs["container"];
        assert_eq!(
            (c["id"].as_str(), c["name"].as_str(), c["runtime"].as_str()),
            (Some("c1"), Some("web"), Some("docker"))
        );
        assert_eq!(c["image"]["name"], "repo/web:1.2");
        assert_eq!(c["security_context"]["privileged"], true);
        // aws.guardduty.* in snake_case, values as logged.
        let gd = &ecs["aws"]["guardduty"];
        assert_eq!(
            gd["service"]["runtime_details"]["process"]["executable_path"],
            "/usr/sbin/sshd"
        );
        assert_eq!(
            gd["resource"]["container_details"]["security_context"]["privileged"],
            true
        );
        assert!(gd["service"].get("eventFirstSeen").is_none());
    }

    #[test]
    fn dns_and_network_findings_name_the_question_and_the_transport() {
        let with_service = |service: serde_json::Value| {
            let raw = serde_json::json!({"type": "Trojan:EC2/BlackholeTraffic!DNS",
                "updatedAt": "2026-11-01T10:05:00.000Z", "service": service})
            .to_string();
            serde_json::to_value(GuardDutyFinding::parse(&raw).unwrap().to_ecs(None)).unwrap()
        };
        let dns = with_service(serde_json::json!({"action": {"actionType": "DNS_REQUEST",
            "dnsRequestAction": {"domain": "evil.example.com", "protocol": "UDP"}}}));
        assert_eq!(dns["dns"]["question"]["name"], "evil.example.com");
        assert_eq!(dns["network"]["transport"], "udp");
        assert_eq!(dns["rule"]["name"], "BlackholeTraffic!DNS");
        let tcp = with_service(
            serde_json::json!({"action": {"actionType": "NETWORK_CONNECTION",
            "networkConnectionAction": {"protocol": "TCP", "connectionDirection": "OUTBOUND"}}}),
        );
        assert_eq!(tcp["network"]["transport"], "tcp");
        assert!(
            tcp.get("dns").is_none() && tcp.get("process").is_none() && tcp.get("host").is_none()
        );
        // A type without the usual parts is still the rule's name.
        let odd = serde_json::json!({"type": "Custom", "updatedAt": "2026-11-01T10:05:00.000Z"})
            .to_string();
        let ecs =
            serde_json::to_value(GuardDutyFinding::parse(&odd).unwrap().to_ecs(None)).unwrap();
        assert_eq!(ecs["rule"]["name"], "Custom");
        assert!(ecs["rule"].get("category").is_none() && ecs["rule"].get("ruleset").is_none());
    }

    #[test]
    fn keys_become_snake_case() {
        for (camel, snake) in [
            ("eventFirstSeen", "event_first_seen"),
            ("ipAddressV4", "ip_address_v4"),
            ("executableSha256", "executable_sha256"),
            ("s3BucketDetails", "s3_bucket_details"),
            ("DNSRequest", "dns_request"),
            ("count", "count"),
            ("already_snake", "already_snake"),
            ("", ""),
        ] {
            assert_eq!(snake_case(camel), snake, "{camel}");
        }
    }

    #[test]
    fn samples_are_recognized_and_bad_findings_rejected() {
        let raw = finding("Recon:EC2/PortProbeUnprotectedPort", 2.0, true);
        assert!(GuardDutyFinding::parse(&raw).unwrap().is_sample());
        let e = GuardDutyFinding::parse(r#"{"severity":5}"#).unwrap_err();
        assert!(e.to_string().contains("type"), "{e}");
        let e = GuardDutyFinding::parse(r#"{"type":"X"}"#).unwrap_err();
        assert!(e.to_string().contains("updatedAt"), "{e}");
    }
}
