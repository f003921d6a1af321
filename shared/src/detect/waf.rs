//! WAF detections (DETECTIONS.md, "Suspicious web activity"): bursts of blocked requests per
//! client, AWS managed rule groups that matched, rate-based rules that fired.

use super::cloudtrail::windows::window;
use super::{
    Attack, Category, Check, Context, EntityKind, Hit, RuleKind, RuleMeta, Severity, Waf, WafRule,
};
use crate::sources::waf::WafRecord;

const EXPLOIT_PUBLIC_APP: Attack = Attack {
    tactic_id: "TA0001",
    tactic: "Initial Access",
    technique_id: "T1190",
    technique: "Exploit Public-Facing Application",
};

const NETWORK_DOS: Attack = Attack {
    tactic_id: "TA0040",
    tactic: "Impact",
    technique_id: "T1498",
    technique: "Network Denial of Service",
};

/// The AWS managed rule groups whose matches are findings: the catalogue's list, and the
/// anonymous-IP list (Tor, VPNs, hosting providers), the other half of AWS's IP reputation
/// groups (Panther's IP reputation rule covers both).
pub const MANAGED_GROUPS: [&str; 7] = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAdminProtectionRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesBotControlRuleSet",
];

/// Every WAF rule.
pub static RULES: &[WafRule] = &[
    WafRule {
        meta: RuleMeta {
            id: "web.blocked-burst",
            title: "Burst of blocked web requests from one client",
            description: "A hundred or more requests from one client IP blocked by WAF within ten minutes: scanning, brute force or an attack tool.",
            severity: Severity::Medium,
            category: Category::WebActivity,
            entity: EntityKind::Ip,
            attack: Some(EXPLOIT_PUBLIC_APP),
            dedup_minutes: 10,
            action_plan: &[
                "Look at the URIs and rules of the blocked requests: a scanner, credential stuffing on a login path, or exploitation attempts.",
                "If the client keeps coming back, add it to an IP set blocked by the web ACL, or a rate-based rule on the targeted path.",
            ],
            references: &["Sumo Logic CIS for AWS: WAF blocked requests"],
        },
        kind: window(10, 100, [0, 0]),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<Waf>::One(blocked_burst),
    },
    WafRule {
        meta: RuleMeta {
            id: "web.managed-rule-match",
            title: "AWS managed WAF rule matched",
            description: "A request matched a rule of an AWS managed rule group for common exploits, known bad inputs, SQL injection, admin paths, IP reputation, anonymous IPs or bots. Critical when the group only counts (the request reached the application), high when it was blocked.",
            severity: Severity::High,
            category: Category::WebActivity,
            entity: EntityKind::Ip,
            attack: Some(EXPLOIT_PUBLIC_APP),
            dedup_minutes: 60,
            action_plan: &[
                "Read the matched rule and the request (URI, arguments, headers): a real exploit attempt or a false positive of your application?",
                "If the group is in COUNT mode and the match is real, the request reached the application: check its logs and switch the group to BLOCK.",
                "Block the client IP if it keeps sending attacks.",
            ],
            references: &["Panther AWS.WAF.Managed.*", "AWS WAF managed rule groups"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<Waf>::One(managed_rule_match),
    },
    WafRule {
        meta: RuleMeta {
            id: "web.rate-based-rule",
            title: "WAF rate-based rule triggered",
            description: "A client went over a rate-based rule's limit: flooding, scraping or brute force.",
            severity: Severity::Medium,
            category: Category::WebActivity,
            entity: EntityKind::Ip,
            attack: Some(NETWORK_DOS),
            dedup_minutes: 60,
            action_plan: &[
                "Check what the client requested and whether the rule's limit fits the path's normal traffic.",
                "For a sustained flood, consider AWS Shield Advanced and blocking the source networks.",
            ],
            references: &["AWS WAF rate-based rules"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<Waf>::One(rate_based_rule),
    },
];

fn client(r: &WafRecord<'_>) -> Hit {
    Hit::on(EntityKind::Ip, r.client_ip().unwrap_or("unknown"))
}

fn blocked_burst(r: &WafRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    r.is_blocked().then(|| client(r))
}

/// The catalogue's managed group a rule group id or web ACL rule name refers to:
/// `AWS#AWSManagedRulesSQLiRuleSet`, or the name given to the group in the web ACL, which by
/// default is `AWS-AWSManagedRulesSQLiRuleSet`.
pub fn managed_group(name: &str) -> Option<&'static str> {
    MANAGED_GROUPS.iter().copied().find(|g| name.contains(g))
}

/// What matched: the managed group and whether the request was stopped by it.
pub fn managed_match(r: &WafRecord<'_>) -> Option<(&'static str, bool)> {
    // A group that ended the request: in the group list with its terminating rule, or named as
    // the web ACL's terminating rule.
    for g in r.rule_groups() {
        let Some(group) = g.rule_group_id.as_deref().and_then(managed_group) else {
            continue;
        };
        if let Some(t) = &g.terminating_rule {
            let stopped = !matches!(t.action.as_deref(), Some("ALLOW") | Some("COUNT"));
            return Some((group, stopped && r.is_blocked()));
        }
    }
    if let Some(group) = r.terminating_rule_id.as_deref().and_then(managed_group) {
        return Some((group, r.is_blocked()));
    }
    // A group that matched in COUNT mode: the request went on.
    for g in r.rule_groups() {
        let Some(group) = g.rule_group_id.as_deref().and_then(managed_group) else {
            continue;
        };
        if g.non_terminating_matching_rules
            .as_ref()
            .is_some_and(|rules| !rules.is_empty())
        {
            return Some((group, false));
        }
    }
    None
}

fn managed_rule_match(r: &WafRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    let (group, blocked) = managed_match(r)?;
    let severity = if blocked {
        Severity::High
    } else {
        Severity::Critical
    };
    Some(client(r).severity(severity).within(group))
}

fn rate_based_rule(r: &WafRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    (r.terminating_rule_type.as_deref() == Some("RATE_BASED"))
        .then(|| client(r).within(r.terminating_rule_id.as_deref().unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Settings;

    fn rec(doc: serde_json::Value) -> String {
        let mut doc = doc;
        let o = doc.as_object_mut().unwrap();
        o.entry("timestamp").or_insert(1_700_000_000_000u64.into());
        o.entry("webaclId")
            .or_insert("arn:aws:wafv2:us-east-1:111122223333:regional/webacl/shop/abc".into());
        o.entry("httpRequest")
            .or_insert(serde_json::json!({"clientIp": "203.0.113.9", "country": "NL", "uri": "/login", "httpMethod": "POST"}));
        doc.to_string()
    }

    fn check(rule: &str, raw: &str) -> Option<Hit> {
        let r = WafRecord::parse(raw).unwrap();
        let rule = RULES.iter().find(|x| x.meta.id == rule).unwrap();
        rule.first(&r, &Context::of(&Settings::default()))
    }

    #[test]
    fn blocked_requests_count_and_allowed_do_not() {
        let blocked = rec(serde_json::json!({"action": "BLOCK", "terminatingRuleId": "r"}));
        assert_eq!(
            check("web.blocked-burst", &blocked)
                .unwrap()
                .entity
                .unwrap()
                .id,
            "203.0.113.9"
        );
        let captcha = rec(serde_json::json!({"action": "CAPTCHA", "terminatingRuleId": "r"}));
        assert!(check("web.blocked-burst", &captcha).is_some());
        let allowed =
            rec(serde_json::json!({"action": "ALLOW", "terminatingRuleId": "Default_Action"}));
        assert!(check("web.blocked-burst", &allowed).is_none());
    }

    #[test]
    fn managed_group_blocked_is_high_counted_is_critical() {
        let blocked = rec(
            serde_json::json!({"action": "BLOCK", "terminatingRuleId": "AWS-AWSManagedRulesSQLiRuleSet",
            "terminatingRuleType": "MANAGED_RULE_GROUP",
            "ruleGroupList": [{"ruleGroupId": "AWS#AWSManagedRulesSQLiRuleSet", "terminatingRule": {"ruleId": "SQLi_BODY", "action": "BLOCK"}}]}),
        );
        let hit = check("web.managed-rule-match", &blocked).unwrap();
        assert_eq!(hit.severity, Some(Severity::High));
        assert_eq!(
            hit.discriminator.as_deref(),
            Some("AWSManagedRulesSQLiRuleSet")
        );

        let counted = rec(
            serde_json::json!({"action": "ALLOW", "terminatingRuleId": "Default_Action",
            "ruleGroupList": [{"ruleGroupId": "AWS#AWSManagedRulesCommonRuleSet", "terminatingRule": null,
                "nonTerminatingMatchingRules": [{"ruleId": "CrossSiteScripting_QUERYARGUMENTS", "action": "COUNT"}]}]}),
        );
        assert_eq!(
            check("web.managed-rule-match", &counted).unwrap().severity,
            Some(Severity::Critical)
        );
    }

    #[test]
    fn groups_evaluated_without_a_match_and_other_groups_do_not_fire() {
        // Real logs list every group evaluated, matched or not.
        let evaluated = rec(
            serde_json::json!({"action": "ALLOW", "terminatingRuleId": "Default_Action",
            "ruleGroupList": [{"ruleGroupId": "AWS#AWSManagedRulesCommonRuleSet", "terminatingRule": null,
                "nonTerminatingMatchingRules": [], "excludedRules": null}]}),
        );
        assert!(check("web.managed-rule-match", &evaluated).is_none());
        let other = rec(
            serde_json::json!({"action": "BLOCK", "terminatingRuleId": "AWS-AWSManagedRulesAntiDDoSRuleSet",
            "ruleGroupList": [{"ruleGroupId": "AWS#AWSManagedRulesAntiDDoSRuleSet", "terminatingRule": {"ruleId": "DDoSRequests", "action": "BLOCK"}}]}),
        );
        assert!(check("web.managed-rule-match", &other).is_none());
        let own = rec(
            serde_json::json!({"action": "BLOCK", "terminatingRuleId": "my-geo-block", "terminatingRuleType": "REGULAR"}),
        );
        assert!(check("web.managed-rule-match", &own).is_none());
    }

    #[test]
    fn rate_based_rules() {
        let rate = rec(
            serde_json::json!({"action": "BLOCK", "terminatingRuleId": "login-rate", "terminatingRuleType": "RATE_BASED"}),
        );
        assert_eq!(
            check("web.rate-based-rule", &rate)
                .unwrap()
                .discriminator
                .as_deref(),
            Some("login-rate")
        );
        let regular = rec(
            serde_json::json!({"action": "BLOCK", "terminatingRuleId": "login-rate", "terminatingRuleType": "REGULAR"}),
        );
        assert!(check("web.rate-based-rule", &regular).is_none());
    }
}
