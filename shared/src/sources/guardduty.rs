//! GuardDuty findings, as the `detail` of EventBridge "GuardDuty Finding" events (or exported
//! one per line). Typed where detections and the mapping look; `resource` and `service` are
//! also kept raw for the evidence. Mapped to ECS after Elastic's `aws.guardduty` data stream.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lenient::{lenient_bool, lenient_f64, lenient_str, lenient_time, lenient_u64};
use crate::ecs::{
    compact_raw, Account, Cloud, EcsEvent, Endpoint, Event, Geo, Log, LogFile, ObserverRule,
    Related, Service, User,
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
    #[serde(skip)]
    typed_resource: OnceCell<Resource<'a>>,
    #[serde(skip)]
    typed_service: OnceCell<ServiceFields<'a>>,
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
}

/// An action with a remote party.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Remote<'a> {
    /// The API called.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub api: Option<Cow<'a, str>>,
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
        self.typed_resource.get_or_init(|| {
            self.resource
                .and_then(|r| serde_json::from_str(r.get()).ok())
                .unwrap_or_default()
        })
    }

    /// What GuardDuty saw, typed (parsed on first use).
    pub fn service(&self) -> &ServiceFields<'a> {
        self.typed_service.get_or_init(|| {
            self.service
                .and_then(|r| serde_json::from_str(r.get()).ok())
                .unwrap_or_default()
        })
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
                ..Event::default()
            },
            cloud: Cloud {
                region: opt(&self.region),
                account: opt(&self.account_id).map(|id| Account { id }),
                service: Some(Service { name: "guardduty" }),
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
                name: Some(&self.kind),
                ruleset: Some("GuardDuty"),
                ..ObserverRule::default()
            }),
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
        serialize_with = "compact_raw"
    )]
    resource: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact_raw"
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
    fn samples_are_recognized_and_bad_findings_rejected() {
        let raw = finding("Recon:EC2/PortProbeUnprotectedPort", 2.0, true);
        assert!(GuardDutyFinding::parse(&raw).unwrap().is_sample());
        let e = GuardDutyFinding::parse(r#"{"severity":5}"#).unwrap_err();
        assert!(e.to_string().contains("type"), "{e}");
        let e = GuardDutyFinding::parse(r#"{"type":"X"}"#).unwrap_err();
        assert!(e.to_string().contains("updatedAt"), "{e}");
    }
}
