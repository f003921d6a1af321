//! Security Hub findings in the AWS Security Finding Format (ASFF), as carried by EventBridge
//! "Security Hub Findings - Imported" events (`detail.findings[]`, many per event) or exported
//! one per line. Mapped to ECS after Elastic's `aws.securityhub_findings` data stream.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::lenient::{lenient_f64, lenient_str, lenient_time};
use crate::ecs::{
    compact_raw, Account, Cloud, EcsEvent, Event, Log, LogFile, ObserverRule, Related,
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
            related: Related::default(),
            log: path.map(|path| Log {
                file: LogFile { path },
            }),
            rule: self.control_id().map(|id| ObserverRule {
                id: Some(Cow::Borrowed(id)),
                name: opt(&self.title),
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
