//! Security Hub detections (DETECTIONS.md, "Security control failures"): failed controls, and
//! controls that passed and now fail for the same account and resource.

use super::{
    Category, Check, Context, EntityKind, Hit, RuleKind, RuleMeta, SecurityHub, SecurityHubRule,
    Severity,
};
use crate::sources::securityhub::SecurityHubFinding;

/// How far back a PASSED result counts for "newly failing".
pub const NEWLY_FAILING_WINDOW_MINUTES: u32 = 7 * 24 * 60;

/// Every Security Hub rule.
pub static RULES: &[SecurityHubRule] = &[
    SecurityHubRule {
        meta: RuleMeta {
            id: "control.failed",
            title: "Security control failed",
            description: "A Security Hub control check failed for a resource (the latest version of the finding, active and not suppressed). Severity follows the control's.",
            severity: Severity::Medium,
            category: Category::ControlFailures,
            entity: EntityKind::Resource,
            attack: None,
            dedup_minutes: 24 * 60,
            action_plan: &[
                "Follow the control's remediation (linked in the finding) for the resource.",
                "If the resource is meant to be this way, suppress the finding in Security Hub with a note saying why.",
            ],
            references: &["AWS Security Hub controls reference", "CIS AWS Foundations Benchmark"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<SecurityHub>::One(failed),
    },
    SecurityHubRule {
        meta: RuleMeta {
            id: "control.newly-failing",
            title: "Security control newly failing",
            description: "A control that passed for a resource now fails: a change undid a fix or a safeguard. High when the control is high or critical.",
            severity: Severity::Medium,
            category: Category::ControlFailures,
            entity: EntityKind::Resource,
            attack: None,
            dedup_minutes: NEWLY_FAILING_WINDOW_MINUTES,
            action_plan: &[
                "Find the change that made the control fail: CloudTrail calls on the resource since it last passed.",
                "Revert it, or fix the resource as the control's remediation says.",
            ],
            references: &["AWS Security Hub control findings: compliance status changes"],
        },
        kind: RuleKind::Window {
            window_minutes: NEWLY_FAILING_WINDOW_MINUTES,
            min_count: 2,
            min_distinct: [2, 0],
        },
        sources: crate::detect::ANY_SOURCE,
        check: Check::<SecurityHub>::One(newly_failing),
    },
];

/// `Severity.Normalized` as a band: 0 info, below 40 low, below 70 medium, below 90 high, else
/// critical.
pub fn band(normalized: f64) -> Severity {
    if normalized <= 0.0 {
        Severity::Info
    } else if normalized < 40.0 {
        Severity::Low
    } else if normalized < 70.0 {
        Severity::Medium
    } else if normalized < 90.0 {
        Severity::High
    } else {
        Severity::Critical
    }
}

/// The finding's entity and grouping: the resource, per account and control.
fn about(f: &SecurityHubFinding<'_>) -> Hit {
    Hit::on(
        EntityKind::Resource,
        f.resource_id()
            .or(f.aws_account_id.as_deref())
            .unwrap_or("unknown"),
    )
    .within(format!(
        "{}/{}",
        f.aws_account_id.as_deref().unwrap_or("?"),
        f.control_id().unwrap_or("?")
    ))
}

fn failed(f: &SecurityHubFinding<'_>, _: &Context<'_>) -> Option<Hit> {
    if f.superseded || f.compliance_status() != Some("FAILED") || !f.is_active() {
        return None;
    }
    Some(about(f).severity(band(f.normalized_severity().unwrap_or(40.0))))
}

fn newly_failing(f: &SecurityHubFinding<'_>, _: &Context<'_>) -> Option<Hit> {
    let status = f.compliance_status()?;
    if !matches!(status, "PASSED" | "FAILED") || !f.is_active() {
        return None;
    }
    let mut hit = about(f);
    hit.distinct[0] = Some(status.to_owned());
    // PASSED then FAILED completes the pattern; FAILED then PASSED (a fix) does not.
    hit.completes = status == "FAILED";
    if f.normalized_severity().is_some_and(|s| s >= 70.0) {
        hit.severity = Some(Severity::High);
    }
    Some(hit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Settings;
    use crate::sources::securityhub::tests::control;

    fn check(rule: &str, raw: &str) -> Option<Hit> {
        let f = SecurityHubFinding::parse(raw).unwrap();
        let rule = RULES.iter().find(|x| x.meta.id == rule).unwrap();
        rule.first(&f, &Context::of(&Settings::default()))
    }

    #[test]
    fn failed_controls_fire_with_the_controls_severity() {
        let raw = control("S3.8", "arn:aws:s3:::b", "FAILED", "2026-11-01T10:00:00Z");
        let hit = check("control.failed", &raw).unwrap();
        assert_eq!(hit.severity, Some(Severity::High));
        assert_eq!(hit.entity.clone().unwrap().id, "arn:aws:s3:::b");
        assert_eq!(hit.discriminator.as_deref(), Some("111122223333/S3.8"));
        let passed = control("S3.8", "arn:aws:s3:::b", "PASSED", "2026-11-01T10:00:00Z");
        assert!(check("control.failed", &passed).is_none());
    }

    #[test]
    fn suppressed_and_archived_failures_do_not_fire() {
        let mut v: serde_json::Value =
            serde_json::from_str(&control("S3.8", "b", "FAILED", "2026-11-01T10:00:00Z")).unwrap();
        v["Workflow"]["Status"] = "SUPPRESSED".into();
        assert!(check("control.failed", &v.to_string()).is_none());
        let mut v: serde_json::Value =
            serde_json::from_str(&control("S3.8", "b", "FAILED", "2026-11-01T10:00:00Z")).unwrap();
        v["RecordState"] = "ARCHIVED".into();
        assert!(check("control.failed", &v.to_string()).is_none());
    }

    #[test]
    fn a_superseded_version_is_not_a_failure() {
        let raw = control("S3.8", "b", "FAILED", "2026-11-01T10:00:00Z");
        let mut f = SecurityHubFinding::parse(&raw).unwrap();
        f.superseded = true;
        let rule = RULES
            .iter()
            .find(|x| x.meta.id == "control.failed")
            .unwrap();
        assert!(rule.first(&f, &Context::of(&Settings::default())).is_none());
        let rule = RULES
            .iter()
            .find(|x| x.meta.id == "control.newly-failing")
            .unwrap();
        assert!(rule.first(&f, &Context::of(&Settings::default())).is_some());
    }

    #[test]
    fn severity_bands() {
        assert_eq!(band(0.0), Severity::Info);
        assert_eq!(band(39.0), Severity::Low);
        assert_eq!(band(40.0), Severity::Medium);
        assert_eq!(band(89.9), Severity::High);
        assert_eq!(band(90.0), Severity::Critical);
    }

    #[test]
    fn newly_failing_observes_both_statuses_and_only_failed_completes() {
        let passed = check(
            "control.newly-failing",
            &control("S3.8", "b", "PASSED", "2026-11-01T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(passed.distinct[0].as_deref(), Some("PASSED"));
        assert!(!passed.completes);
        let failed = check(
            "control.newly-failing",
            &control("S3.8", "b", "FAILED", "2026-11-02T10:00:00Z"),
        )
        .unwrap();
        assert!(failed.completes);
        assert_eq!(failed.severity, Some(Severity::High));
        let na = control("S3.8", "b", "NOT_AVAILABLE", "2026-11-02T10:00:00Z");
        assert!(check("control.newly-failing", &na).is_none());
    }
}
