//! GuardDuty detections (DETECTIONS.md, "Active threats"): every real finding becomes one of
//! ours, banded by GuardDuty's severity and deduplicated per account, type and resource for a
//! period that shrinks as the band rises.

use super::{
    Category, Check, Context, EntityKind, GuardDuty, GuardDutyRule, Hit, RuleKind, RuleMeta,
    Severity,
};
use crate::sources::guardduty::GuardDutyFinding;

/// Every GuardDuty rule.
pub static RULES: &[GuardDutyRule] = &[
    GuardDutyRule {
        meta: RuleMeta {
            id: "threat.guardduty-finding",
            title: "GuardDuty finding",
            description: "GuardDuty reported a threat. Severity follows GuardDuty's (below 4 low, below 7 medium, below 9 high, else critical); one finding per account, type and resource for 24 h, 8 h, 1 h or 15 min by band.",
            severity: Severity::Medium,
            category: Category::ActiveThreats,
            entity: EntityKind::Resource,
            attack: None,
            dedup_minutes: 480,
            action_plan: &[
                "Open the finding in GuardDuty and follow the remediation of its type (the type names the threat, the resource and how it was detected).",
                "Contain the resource: isolate the instance with a restrictive security group, or deactivate the access key and revoke the role's sessions.",
                "Look in CloudTrail for what the principal or instance did around the finding's first and last seen times.",
            ],
            references: &["Amazon GuardDuty finding types", "Panther AWS.GuardDuty.*SeverityFinding"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<GuardDuty>::One(finding),
    },
    GuardDutyRule {
        meta: RuleMeta {
            id: "threat.guardduty-anomalous-behavior",
            title: "GuardDuty: anomalous or exfiltrated credentials",
            description: "GuardDuty saw an IAM principal behave unlike itself, credentials of an instance used elsewhere, a console login unlike the user's, CloudTrail logging disabled, or penetration-testing tools: raised one band above GuardDuty's severity.",
            severity: Severity::High,
            category: Category::ActiveThreats,
            entity: EntityKind::Resource,
            attack: None,
            dedup_minutes: 60,
            action_plan: &[
                "Treat the principal's credentials as compromised: deactivate its access keys, revoke its role sessions, reset its password.",
                "Review in CloudTrail every call the principal made since the finding's first seen time.",
                "Find how the credentials left: instance metadata exposure (IMDSv1, SSRF), a leaked key, a phished login.",
            ],
            references: &["Amazon GuardDuty IAM finding types"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<GuardDuty>::One(anomalous_behavior),
    },
];

/// GuardDuty's severity as a band: below 4 low, below 7 medium, below 9 high, else critical.
pub fn band(severity: f64) -> Severity {
    if severity < 4.0 {
        Severity::Low
    } else if severity < 7.0 {
        Severity::Medium
    } else if severity < 9.0 {
        Severity::High
    } else {
        Severity::Critical
    }
}

/// How long findings of a band are deduplicated for.
pub fn dedup_minutes(band: Severity) -> u32 {
    match band {
        Severity::Info | Severity::Low => 24 * 60,
        Severity::Medium => 8 * 60,
        Severity::High => 60,
        Severity::Critical => 15,
    }
}

/// The types that are raised one band.
pub fn is_anomalous_behavior(kind: &str) -> bool {
    kind.ends_with(":IAMUser/AnomalousBehavior")
        || kind == "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"
        || kind.contains("InstanceCredentialExfiltration.")
        || kind == "Stealth:IAMUser/CloudTrailLoggingDisabled"
        || kind.starts_with("PenTest:IAMUser/")
}

/// `api` when GuardDuty saw an API call, `storage` for S3, else `resource`.
pub fn subcategory(f: &GuardDutyFinding<'_>) -> &'static str {
    if f.action_type() == Some("AWS_API_CALL") {
        "api"
    } else if f.kind.contains(":S3/") || f.resource_type() == Some("S3Bucket") {
        "storage"
    } else {
        "resource"
    }
}

fn hit(f: &GuardDutyFinding<'_>, severity: Severity) -> Option<Hit> {
    if f.is_sample() || f.service().archived == Some(true) {
        return None;
    }
    let kind = if f.resource_type() == Some("AccessKey") && f.resource_id().is_some() {
        EntityKind::AccessKey
    } else {
        EntityKind::Resource
    };
    let id = f
        .resource_id()
        .or(f.resource_type())
        .or(f.account_id.as_deref())
        .unwrap_or("unknown");
    let mut hit = Hit::on(kind, id).severity(severity).within(format!(
        "{}/{}",
        f.account_id.as_deref().unwrap_or("?"),
        f.kind
    ));
    hit.window_minutes = Some(dedup_minutes(severity));
    hit.subcategory = Some(subcategory(f));
    Some(hit)
}

fn finding(f: &GuardDutyFinding<'_>, _: &Context<'_>) -> Option<Hit> {
    if is_anomalous_behavior(&f.kind) {
        return None;
    }
    hit(f, band(f.severity?))
}

fn anomalous_behavior(f: &GuardDutyFinding<'_>, _: &Context<'_>) -> Option<Hit> {
    if !is_anomalous_behavior(&f.kind) {
        return None;
    }
    hit(f, band(f.severity?).raised())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Settings;
    use crate::sources::guardduty::tests::finding as doc;

    fn check(rule: &str, raw: &str) -> Option<Hit> {
        let f = GuardDutyFinding::parse(raw).unwrap();
        let rule = RULES.iter().find(|x| x.meta.id == rule).unwrap();
        rule.first(&f, &Context::of(&Settings::default()))
    }

    #[test]
    fn bands_and_their_dedup_periods() {
        for (sev, want, minutes) in [
            (2.0, Severity::Low, 1440),
            (5.0, Severity::Medium, 480),
            (8.0, Severity::High, 60),
            (9.5, Severity::Critical, 15),
        ] {
            let hit = check(
                "threat.guardduty-finding",
                &doc("Recon:IAMUser/MaliciousIPCaller", sev, false),
            )
            .unwrap();
            assert_eq!(hit.severity, Some(want), "{sev}");
            assert_eq!(hit.window_minutes, Some(minutes), "{sev}");
            assert_eq!(hit.entity.clone().unwrap().kind, EntityKind::AccessKey);
            assert_eq!(hit.entity.clone().unwrap().id, "AKIAEXAMPLE");
            assert_eq!(hit.subcategory, Some("api"));
        }
    }

    #[test]
    fn sample_findings_never_alert() {
        let raw = doc("Recon:IAMUser/MaliciousIPCaller", 8.0, true);
        assert!(check("threat.guardduty-finding", &raw).is_none());
        let raw = doc("Discovery:IAMUser/AnomalousBehavior", 8.0, true);
        assert!(check("threat.guardduty-anomalous-behavior", &raw).is_none());
    }

    #[test]
    fn anomalous_behavior_is_raised_a_band_and_not_reported_twice() {
        for kind in [
            "Discovery:IAMUser/AnomalousBehavior",
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
            "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B",
            "Stealth:IAMUser/CloudTrailLoggingDisabled",
            "PenTest:IAMUser/KaliLinux",
        ] {
            let raw = doc(kind, 5.0, false);
            let hit = check("threat.guardduty-anomalous-behavior", &raw).unwrap();
            assert_eq!(hit.severity, Some(Severity::High), "{kind}");
            assert_eq!(hit.window_minutes, Some(60));
            assert!(check("threat.guardduty-finding", &raw).is_none(), "{kind}");
        }
        let raw = doc("Recon:EC2/PortProbeUnprotectedPort", 5.0, false);
        assert!(check("threat.guardduty-anomalous-behavior", &raw).is_none());
    }

    #[test]
    fn subcategories() {
        let mut v: serde_json::Value = serde_json::from_str(&doc(
            "Policy:S3/BucketBlockPublicAccessDisabled",
            2.0,
            false,
        ))
        .unwrap();
        v["service"]["action"]["actionType"] = "NETWORK_CONNECTION".into();
        v["resource"] =
            serde_json::json!({"resourceType": "S3Bucket", "s3BucketDetails": [{"name": "logs"}]});
        let hit = check("threat.guardduty-finding", &v.to_string()).unwrap();
        assert_eq!(hit.subcategory, Some("storage"));
        assert_eq!(hit.entity.clone().unwrap().id, "logs");
        v["type"] = "Backdoor:EC2/C&CActivity.B".into();
        v["resource"] = serde_json::json!({"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0abc"}});
        let hit = check("threat.guardduty-finding", &v.to_string()).unwrap();
        assert_eq!(hit.subcategory, Some("resource"));
        assert_eq!(
            hit.entity,
            Some(crate::detect::Entity {
                kind: EntityKind::Resource,
                id: "i-0abc".into()
            })
        );
    }
}
