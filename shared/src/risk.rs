//! The risk overview: one score per entity, as Elastic's entity risk scoring documents it.
//!
//! An entity's open findings of the last 30 days are sorted by risk score, descending; the
//! score is the sum of `risk_i / i^1.5`, divided by zeta(1.5) so that it stays within 0-100,
//! then weighted by the entity's asset criticality, if it has one, on the odds scale
//! (`100 * w*s / (w*s + 100 - s)`). Levels: Unknown under 20, Low under 40, Moderate under 70,
//! High under 90, Critical from 90. The action plan is the union of the findings' steps, most
//! severe finding first, each step once.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::detect::Severity;
use crate::finding::Finding;

/// zeta(1.5): the sum of 1/i^1.5 over every i, the largest a sum of scores of 100 can reach.
pub const ZETA_1_5: f64 = 2.612_375_348_685_488;

/// Findings an entity's score is computed over, at most (Elastic processes up to 10,000).
pub const MAX_FINDINGS_SCORED: usize = 10_000;

/// Elastic's entity risk levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum RiskLevel {
    /// Under 20.
    Unknown,
    /// 20 to 40.
    Low,
    /// 40 to 70.
    Moderate,
    /// 70 to 90.
    High,
    /// 90 and over.
    Critical,
}

impl RiskLevel {
    /// The level of a 0-100 score.
    pub fn of(score: f64) -> RiskLevel {
        match score {
            s if s < 20.0 => RiskLevel::Unknown,
            s if s < 40.0 => RiskLevel::Low,
            s if s < 70.0 => RiskLevel::Moderate,
            s if s < 90.0 => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }

    /// As shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Unknown => "Unknown",
            RiskLevel::Low => "Low",
            RiskLevel::Moderate => "Moderate",
            RiskLevel::High => "High",
            RiskLevel::Critical => "Critical",
        }
    }
}

/// Elastic's asset criticality levels and their default weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Criticality {
    /// 0.5.
    LowImpact,
    /// 1.
    MediumImpact,
    /// 1.5.
    HighImpact,
    /// 2.
    ExtremeImpact,
}

impl Criticality {
    /// The weight applied to the score.
    pub fn weight(self) -> f64 {
        match self {
            Criticality::LowImpact => 0.5,
            Criticality::MediumImpact => 1.0,
            Criticality::HighImpact => 1.5,
            Criticality::ExtremeImpact => 2.0,
        }
    }
}

/// The aggregated score of alert risk scores (each 0-100), in any order: 0-100.
pub fn aggregate_score(risk_scores: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = risk_scores
        .iter()
        .map(|r| r.clamp(0.0, 100.0))
        .filter(|r| !r.is_nan())
        .collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted.truncate(MAX_FINDINGS_SCORED);
    let sum: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, r)| r / ((i + 1) as f64).powf(1.5))
        .sum();
    (sum / ZETA_1_5).min(100.0)
}

/// `score` (0-100) weighted by `criticality`, as Elastic does: on the odds scale, so that it
/// stays within 0-100.
pub fn with_criticality(score: f64, criticality: Option<Criticality>) -> f64 {
    let Some(c) = criticality else { return score };
    if score >= 100.0 {
        return 100.0;
    }
    let weighted = score * c.weight();
    100.0 * weighted / (weighted + 100.0 - score)
}

/// One entity of the risk overview.
#[derive(Debug, Clone, Serialize)]
pub struct EntityRisk {
    /// `<type>:<id>` (`user:alice`, `ip:203.0.113.9`).
    pub entity: String,
    /// The entity's type (`user`, `principal`, `ip`, `account`, `access_key`, `resource`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The identifier.
    pub id: String,
    /// 0-100, two decimals.
    pub score: f64,
    /// Elastic's level of the score.
    pub level: RiskLevel,
    /// The most severe of its findings.
    pub severity: Severity,
    /// How many open findings it has.
    pub open_findings: usize,
    /// Its open findings, highest risk first.
    pub findings: Vec<FindingRef>,
    /// The union of its findings' action steps, most severe finding first, each step once.
    pub action_plan: Vec<String>,
}

/// A finding as the overview lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRef {
    /// The finding id.
    pub id: String,
    /// Rule id.
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// Severity label.
    pub severity: Severity,
    /// Risk score (21, 47, 73, 99).
    pub risk_score: f64,
    /// The dashboard.
    pub category: String,
    /// Events making it up.
    pub count: u64,
    /// Last event time.
    pub last_seen: String,
}

/// The risk overview of `findings`: every entity with at least one, highest score first (then
/// by entity, so that the order is stable). Callers pass the open findings of the period.
pub fn overview<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<EntityRisk> {
    overview_with(findings, |_| None)
}

/// [`overview`], each entity weighted by the criticality `criticality` gives it.
pub fn overview_with<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    criticality: impl Fn(&str) -> Option<Criticality>,
) -> Vec<EntityRisk> {
    let mut by_entity: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for f in findings {
        // The same finding twice (a redelivery, two copies of an archive) counts once.
        if !seen.insert(f.finding.id.as_str()) {
            continue;
        }
        let e = &f.finding.entity;
        by_entity
            .entry((e.kind.clone(), e.id.clone()))
            .or_default()
            .push(f);
    }
    let mut out: Vec<EntityRisk> = by_entity
        .into_iter()
        .map(|((kind, id), mut fs)| {
            fs.sort_by(|a, b| {
                b.event
                    .risk_score
                    .total_cmp(&a.event.risk_score)
                    .then_with(|| b.timestamp.cmp(&a.timestamp))
                    .then_with(|| a.finding.id.cmp(&b.finding.id))
            });
            let scores: Vec<f64> = fs.iter().map(|f| f.event.risk_score).collect();
            let entity = format!("{kind}:{id}");
            let score = with_criticality(aggregate_score(&scores), criticality(&entity));
            let score = (score * 100.0).round() / 100.0;
            let mut steps = HashSet::new();
            let action_plan = fs
                .iter()
                .flat_map(|f| f.finding.action_plan.iter())
                .filter(|s| steps.insert(s.as_str()))
                .cloned()
                .collect();
            EntityRisk {
                severity: fs
                    .iter()
                    .map(|f| f.finding.severity)
                    .max()
                    .unwrap_or(Severity::Info),
                open_findings: fs.len(),
                findings: fs.iter().map(|f| finding_ref(f)).collect(),
                level: RiskLevel::of(score),
                entity,
                kind,
                id,
                score,
                action_plan,
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entity.cmp(&b.entity)));
    out
}

/// How the overview lists `f`.
pub fn finding_ref(f: &Finding) -> FindingRef {
    FindingRef {
        id: f.finding.id.clone(),
        rule: f.rule.id.clone(),
        title: f.rule.name.clone(),
        severity: f.finding.severity,
        risk_score: f.event.risk_score,
        category: f.finding.category.clone(),
        count: f.finding.count,
        last_seen: f.event.end.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.005
    }

    #[test]
    fn elastics_worked_example() {
        // Elastic's documentation: User_A's five open alerts of scores 21, 45, 21, 70, 21
        // aggregate to 36.16; with an Extreme impact criticality the score is 53.11
        // (a contribution of 16.95), a Moderate level.
        let alerts = [21.0, 45.0, 21.0, 70.0, 21.0];
        let aggregated = aggregate_score(&alerts);
        assert!(close(aggregated, 36.16), "{aggregated}");
        let weighted = with_criticality(aggregated, Some(Criticality::ExtremeImpact));
        assert!(close(weighted, 53.11), "{weighted}");
        assert!(close(weighted - aggregated, 16.95));
        assert_eq!(RiskLevel::of(weighted), RiskLevel::Moderate);
        assert_eq!(RiskLevel::of(aggregated), RiskLevel::Low);
    }

    #[test]
    fn scores_stay_within_0_and_100_and_levels_follow_elastics_bounds() {
        assert_eq!(aggregate_score(&[]), 0.0);
        let many = vec![100.0; 20_000];
        let s = aggregate_score(&many);
        assert!(s <= 100.0 && s > 99.0, "{s}");
        assert!(aggregate_score(&[f64::NAN, 1e9, -5.0]) <= 100.0);
        assert!(with_criticality(100.0, Some(Criticality::ExtremeImpact)) <= 100.0);
        assert!(close(
            with_criticality(50.0, Some(Criticality::MediumImpact)),
            50.0
        ));
        assert!(with_criticality(50.0, Some(Criticality::LowImpact)) < 50.0);
        for (score, level) in [
            (0.0, RiskLevel::Unknown),
            (19.99, RiskLevel::Unknown),
            (20.0, RiskLevel::Low),
            (39.99, RiskLevel::Low),
            (40.0, RiskLevel::Moderate),
            (70.0, RiskLevel::High),
            (89.99, RiskLevel::High),
            (90.0, RiskLevel::Critical),
            (100.0, RiskLevel::Critical),
        ] {
            assert_eq!(RiskLevel::of(score), level, "{score}");
        }
    }

    #[test]
    fn one_critical_finding_alone_is_a_low_risk_and_a_pile_of_them_is_critical() {
        // 99 / zeta(1.5) = 37.9: one finding, however severe, is not yet a high-risk entity.
        assert!(close(aggregate_score(&[99.0]), 37.90));
        // Order does not matter: the engine sorts.
        assert_eq!(
            aggregate_score(&[21.0, 99.0, 47.0]),
            aggregate_score(&[99.0, 47.0, 21.0])
        );
        // The sum converges slowly: forty critical findings are High, a hundred Critical.
        let s = aggregate_score(&[99.0; 40]);
        assert_eq!(RiskLevel::of(s), RiskLevel::High, "{s}");
        let s = aggregate_score(&[99.0; 100]);
        assert_eq!(RiskLevel::of(s), RiskLevel::Critical, "{s}");
    }

    fn finding(
        id: &str,
        entity: (&str, &str),
        severity: &str,
        risk: f64,
        steps: &[&str],
    ) -> Finding {
        serde_json::from_value(serde_json::json!({
            "@timestamp": "2026-11-01T10:00:00Z", "message": "m",
            "event": {"kind": "alert", "category": [], "type": [], "dataset": "aws.cloudtrail",
                "module": "aws", "id": id, "severity": risk as i64, "risk_score": risk,
                "start": "2026-11-01T10:00:00Z", "end": "2026-11-01T10:00:00Z"},
            "rule": {"id": format!("rule.{id}"), "name": id, "description": "", "category": "",
                "ruleset": "cloudsec", "reference": ""},
            "cloud": {"provider": "aws"},
            "finding": {"id": id, "severity": severity, "category": "config-iam",
                "entity": {"type": entity.0, "id": entity.1}, "window_start": "2026-11-01T10:00:00Z",
                "count": 1, "action_plan": steps, "evidence": []}
        }))
        .expect("a finding")
    }

    #[test]
    fn a_hand_made_set_ranks_entities_and_merges_their_plans() {
        let findings = [
            finding(
                "a",
                ("user", "alice"),
                "medium",
                47.0,
                &["Reset the password.", "Check MFA."],
            ),
            finding(
                "b",
                ("user", "alice"),
                "critical",
                99.0,
                &["Revoke the sessions.", "Check MFA."],
            ),
            finding("c", ("ip", "203.0.113.9"), "high", 73.0, &["Block the IP."]),
            // The same finding again (a redelivered copy) counts once.
            finding("c", ("ip", "203.0.113.9"), "high", 73.0, &["Block the IP."]),
            finding("d", ("user", "bob"), "low", 21.0, &[]),
        ];
        let o = overview(&findings);
        let names: Vec<&str> = o.iter().map(|e| e.entity.as_str()).collect();
        assert_eq!(names, ["user:alice", "ip:203.0.113.9", "user:bob"]);
        let alice = &o[0];
        // (99 + 47 / 2^1.5) / zeta(1.5) = (99 + 16.617) / 2.6124
        assert!(close(alice.score, 44.26), "{}", alice.score);
        assert_eq!(alice.level, RiskLevel::Moderate);
        assert_eq!(alice.severity, Severity::Critical);
        assert_eq!(alice.open_findings, 2);
        let ids: Vec<&str> = alice.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"], "highest risk first");
        assert_eq!(
            alice.action_plan,
            ["Revoke the sessions.", "Check MFA.", "Reset the password."],
            "most severe finding's steps first, each step once"
        );
        assert_eq!(o[1].open_findings, 1);
        assert!(close(o[1].score, 27.94));
        assert!(close(o[2].score, 8.04));
        assert_eq!(o[2].level, RiskLevel::Unknown);
        assert!(o[2].action_plan.is_empty());
        // Weighted by criticality, the order can change.
        let weighted = overview_with(&findings, |e| {
            (e == "user:bob").then_some(Criticality::ExtremeImpact)
        });
        assert!(close(
            weighted
                .iter()
                .find(|e| e.entity == "user:bob")
                .unwrap()
                .score,
            14.88
        ));
    }
}
