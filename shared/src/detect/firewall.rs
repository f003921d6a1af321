//! Network Firewall detections (DETECTIONS.md, "Suspicious network activity"): bursts of
//! blocked flows, high-severity alerts that were let through, and sources blocked far more
//! than usual.

use super::cloudtrail::windows::{three_hour_anomaly, window};
use super::{
    Attack, Category, Check, Context, EntityKind, Firewall, FirewallRule, Hit, RuleKind, RuleMeta,
    Severity,
};
use crate::sources::firewall::FirewallRecord;

const NETWORK_SERVICE_DISCOVERY: Attack = Attack {
    tactic_id: "TA0007",
    tactic: "Discovery",
    technique_id: "T1046",
    technique: "Network Service Discovery",
};

const APPLICATION_LAYER_PROTOCOL: Attack = Attack {
    tactic_id: "TA0011",
    tactic: "Command and Control",
    technique_id: "T1071",
    technique: "Application Layer Protocol",
};

/// Every Network Firewall rule.
pub static RULES: &[FirewallRule] = &[
    FirewallRule {
        meta: RuleMeta {
            id: "network.blocked-burst",
            title: "Burst of blocked connections",
            description: "Twenty or more blocked alerts for one source, destination and port within an hour: a scan, a misbehaving client, or malware retrying its command server.",
            severity: Severity::Medium,
            category: Category::NetworkActivity,
            entity: EntityKind::Ip,
            attack: Some(NETWORK_SERVICE_DISCOVERY),
            dedup_minutes: 60,
            action_plan: &[
                "Find the workload behind the source IP (ENI, instance, task) and what it was trying to reach.",
                "If the source is inside your VPC and the destination is not a known service, isolate the workload and investigate it.",
            ],
            references: &["Sumo Logic CIS for AWS: Network Firewall blocked traffic"],
        },
        kind: window(60, 20, [0, 0]),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<Firewall>::One(blocked_burst),
    },
    FirewallRule {
        meta: RuleMeta {
            id: "network.alert-signature",
            title: "High-severity firewall alert allowed",
            description: "A Suricata rule of severity 1 matched traffic that the firewall let through (an alert rule, or a policy in alert-only mode).",
            severity: Severity::High,
            category: Category::NetworkActivity,
            entity: EntityKind::Ip,
            attack: Some(APPLICATION_LAYER_PROTOCOL),
            dedup_minutes: 60,
            action_plan: &[
                "Read the signature and the flow: which workload talked to what, over which protocol.",
                "If the traffic is malicious, change the rule to drop and isolate the workload; if not, tune the rule.",
            ],
            references: &["AWS Network Firewall alert logs", "Suricata classification severities"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<Firewall>::One(alert_signature),
    },
    FirewallRule {
        meta: RuleMeta {
            id: "network.blocked-anomaly",
            title: "Unusual number of blocked connections from one source",
            description: "A source's blocked alerts in a 3-hour slice stand far above its usual (z-score over its previous 10 non-empty slices).",
            severity: Severity::Medium,
            category: Category::NetworkActivity,
            entity: EntityKind::Ip,
            attack: Some(NETWORK_SERVICE_DISCOVERY),
            dedup_minutes: 180,
            action_plan: &[
                "Compare the destinations and ports with the source's usual traffic: a new scan or a new behaviour of the workload?",
                "Investigate the workload if the source is yours; block the network if it is outside.",
            ],
            references: &["Sumo Logic CIS for AWS: outlier queries"],
        },
        kind: three_hour_anomaly(10),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<Firewall>::One(blocked_source),
    },
];

fn source(r: &FirewallRecord<'_>) -> Hit {
    Hit::on(EntityKind::Ip, r.src_ip().unwrap_or("unknown"))
}

fn blocked_burst(r: &FirewallRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !r.is_blocked_alert() {
        return None;
    }
    let to = format!(
        "{}:{}",
        r.dest_ip().unwrap_or("?"),
        r.event.dest_port.map_or("?".to_owned(), |p| p.to_string())
    );
    Some(source(r).within(to))
}

fn alert_signature(r: &FirewallRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    let alert = r.alert()?;
    let allowed = alert
        .action
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("allowed"));
    (allowed && alert.severity == Some(1)).then(|| {
        source(r).within(
            alert
                .signature_id
                .map_or("?".to_owned(), |id| id.to_string()),
        )
    })
}

fn blocked_source(r: &FirewallRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    r.is_blocked_alert().then(|| source(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Settings;

    fn alert(action: &str, severity: u64) -> String {
        serde_json::json!({"firewall_name": "fw", "availability_zone": "us-east-1a", "event_timestamp": "1700000000",
            "event": {"timestamp": "2023-11-14T22:13:20.000000+0000", "event_type": "alert", "src_ip": "10.0.1.5",
            "src_port": 40000, "dest_ip": "198.51.100.20", "dest_port": 4444, "proto": "TCP",
            "alert": {"action": action, "signature_id": 9000001, "signature": "C2 beacon", "category": "", "severity": severity}}})
        .to_string()
    }

    fn check(rule: &str, raw: &str) -> Option<Hit> {
        let r = FirewallRecord::parse(raw).unwrap();
        let rule = RULES.iter().find(|x| x.meta.id == rule).unwrap();
        rule.first(&r, &Context::of(&Settings::default()))
    }

    #[test]
    fn blocked_alerts_count_per_source_destination_and_port() {
        let hit = check("network.blocked-burst", &alert("blocked", 3)).unwrap();
        assert_eq!(hit.entity.clone().unwrap().id, "10.0.1.5");
        assert_eq!(hit.discriminator.as_deref(), Some("198.51.100.20:4444"));
        assert!(check("network.blocked-burst", &alert("allowed", 3)).is_none());
        assert!(check("network.blocked-anomaly", &alert("blocked", 3)).is_some());
        assert!(check("network.blocked-anomaly", &alert("allowed", 1)).is_none());
    }

    #[test]
    fn only_allowed_severity_one_alerts_are_signature_findings() {
        assert!(check("network.alert-signature", &alert("allowed", 1)).is_some());
        assert!(check("network.alert-signature", &alert("allowed", 2)).is_none());
        assert!(check("network.alert-signature", &alert("blocked", 1)).is_none());
        let flow = r#"{"firewall_name":"fw","event_timestamp":"1700000000","event":{"event_type":"netflow","src_ip":"10.0.1.5","netflow":{"pkts":1}}}"#;
        assert!(check("network.alert-signature", flow).is_none());
        assert!(check("network.blocked-burst", flow).is_none());
    }
}
