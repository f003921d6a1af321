//! The four sources beside CloudTrail against other projects' data:
//! - every record of `corpora/findings-samples` (GuardDuty, Security Hub, WAF, Network
//!   Firewall) parses and maps, or is rejected with a reason when it is not an event of its
//!   type (an EventBridge rule pattern, an Insight Results event, a notifier's payload);
//! - Panther's WAF and GuardDuty rule tests agree with our matchers (at least 95%), each
//!   disagreement listed with its reason.

mod common;

use std::collections::BTreeMap;

use cloudsec::detect::{Catalogue, Severity};
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::sources::guardduty::GuardDutyFinding;
use cloudsec::sources::waf::WafRecord;
use cloudsec::sources::LogSource;
use serde_json::Value;

/// Envelopes of the corpus that are not events of their type, and why.
const NOT_EVENTS: &[(&str, &str)] = &[
    (
        "eventbridge_pattern (rule pattern, not an event)",
        "pattern",
    ),
    ("eventbridge_pattern", "pattern"),
    (
        "Security Hub Insight Results",
        "no GuardDuty or Security Hub findings",
    ),
    ("other", "not a Security Hub record"),
];

#[test]
fn every_findings_sample_parses_and_maps_or_is_rejected_with_a_reason() {
    let pipeline = Pipeline::new(Catalogue::builtin(), PipelineConfig::default());
    let mut counts: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for (file, source, want) in [
        (
            "guardduty/guardduty_samples.jsonl",
            LogSource::GuardDuty,
            19,
        ),
        (
            "securityhub/securityhub_samples.jsonl",
            LogSource::SecurityHub,
            144,
        ),
        ("waf/waf_samples.jsonl", LogSource::Waf, 60),
        (
            "network-firewall/network_firewall_samples.jsonl",
            LogSource::NetworkFirewall,
            8,
        ),
    ] {
        let Some(path) = common::shared_path(&format!("corpora/findings-samples/{file}")) else {
            return;
        };
        let text = std::fs::read_to_string(path).expect("corpus");
        let mut n = 0;
        for line in text.lines() {
            n += 1;
            let entry: Value = serde_json::from_str(line).expect("corpus line");
            let mut record = entry["record"].clone();
            common::strip_panther_fields(&mut record);
            let envelope = entry["envelope"].as_str().unwrap_or("");
            let raw = record.to_string();
            let mut events = 0;
            let report = pipeline.normalize(raw.as_bytes(), file, Some(source), &mut |e| {
                events += 1;
                // Every event serializes, with the dataset of its source.
                let doc = serde_json::to_value(e).expect("serialize");
                assert_eq!(doc["event"]["dataset"], source.dataset());
                assert!(
                    doc["@timestamp"].as_str().is_some_and(|t| t.contains('T')),
                    "{doc}"
                );
            });
            let c = counts.entry(file).or_default();
            match NOT_EVENTS.iter().find(|(e, _)| *e == envelope) {
                Some((_, reason)) => {
                    assert_eq!(report.bad, 1, "{file} {envelope}: expected one rejection");
                    let error = &report.bad_records[0].error;
                    assert!(error.contains(reason), "{file} {envelope}: {error}");
                    c.1 += 1;
                }
                None => {
                    assert_eq!(
                        report.bad, 0,
                        "{file} {envelope} {}: {:?}",
                        entry["path"], report.bad_records
                    );
                    assert!(events >= 1, "{file}: no event from {raw}");
                    c.0 += 1;
                    c.2 += events;
                }
            }
        }
        assert_eq!(n, want, "{file}: record count");
    }
    for (file, (ok, rejected, events)) in &counts {
        println!("{file}: {ok} mapped ({events} ECS events), {rejected} rejected with a reason");
    }
}

/// Panther rule -> what our matcher must say (one of the groups matched, or the band): the WAF managed group matched, or the GuardDuty
/// band of the finding we report.
enum Expect {
    WafGroup(&'static [&'static str]),
    GuardDutyBand(Severity),
}

const PANTHER: &[(&str, Expect)] = &[
    (
        "AWS.WAF.Managed.AdminProtection",
        Expect::WafGroup(&["AWSManagedRulesAdminProtectionRuleSet"]),
    ),
    (
        "AWS.WAF.Managed.BotControl",
        Expect::WafGroup(&["AWSManagedRulesBotControlRuleSet"]),
    ),
    (
        "AWS.WAF.Managed.CoreRuleSet",
        Expect::WafGroup(&["AWSManagedRulesCommonRuleSet"]),
    ),
    (
        "AWS.WAF.Managed.IPReputation",
        Expect::WafGroup(&[
            "AWSManagedRulesAmazonIpReputationList",
            "AWSManagedRulesAnonymousIpList",
        ]),
    ),
    (
        "AWS.WAF.Managed.KnownBadInputs",
        Expect::WafGroup(&["AWSManagedRulesKnownBadInputsRuleSet"]),
    ),
    (
        "AWS.WAF.Managed.SQLDatabase",
        Expect::WafGroup(&["AWSManagedRulesSQLiRuleSet"]),
    ),
    (
        "AWS.GuardDuty.LowSeverityFinding",
        Expect::GuardDutyBand(Severity::Low),
    ),
    (
        "AWS.GuardDuty.MediumSeverityFinding",
        Expect::GuardDutyBand(Severity::Medium),
    ),
    (
        "AWS.GuardDuty.HighSeverityFinding",
        Expect::GuardDutyBand(Severity::High),
    ),
    (
        "AWS.GuardDuty.CriticalSeverityFinding",
        Expect::GuardDutyBand(Severity::Critical),
    ),
];

/// Panther WAF rules with no row in our catalogue: their cases are printed, not judged.
const NOT_IN_CATALOGUE: &[&str] = &["AWS.WAF.Managed.AntiDDoS", "AWS.WAF.ReactJSRCE.Body"];

/// Cases where we knowingly differ: (Panther rule, test name, why).
const KNOWN_DISAGREEMENTS: &[(&str, &str, &str)] = &[];

#[test]
fn panther_waf_and_guardduty_cases_agree_with_our_matchers() {
    let Some(path) = common::shared_path("corpora/panther/panther_aws_test_cases.jsonl") else {
        return;
    };
    let catalogue = Catalogue::builtin();
    let mut agree = 0;
    let mut judged = 0;
    let mut not_judged = 0;
    let mut disagreements = Vec::new();
    for line in std::fs::read_to_string(path).expect("corpus").lines() {
        let case: Value = serde_json::from_str(line).expect("line");
        let rule = case["rule_id"].as_str().unwrap_or("");
        if NOT_IN_CATALOGUE.contains(&rule) {
            not_judged += 1;
            continue;
        }
        let Some((_, expect)) = PANTHER.iter().find(|(p, _)| *p == rule) else {
            continue;
        };
        let mut log = case["log"].clone();
        common::strip_panther_fields(&mut log);
        let raw = log.to_string();
        let ours = match expect {
            Expect::WafGroup(groups) => {
                let r = WafRecord::parse(&raw).expect("Panther WAF log parses");
                cloudsec::detect::waf::managed_match(&r).is_some_and(|(g, _)| groups.contains(&g))
            }
            Expect::GuardDutyBand(band) => {
                let f = GuardDutyFinding::parse(&raw).expect("Panther GuardDuty log parses");
                let cx = cloudsec::detect::Context::of(&catalogue.settings);
                catalogue
                    .guardduty
                    .iter()
                    .filter_map(|rule| rule.first(&f, &cx))
                    .any(|h| h.severity == Some(*band))
            }
        };
        let expected = case["expected"].as_bool().expect("bool");
        judged += 1;
        let name = case["test_name"].as_str().unwrap_or("").to_owned();
        if ours == expected {
            agree += 1;
        } else {
            disagreements.push((rule.to_owned(), name, expected, ours));
        }
    }
    let share = agree as f64 / judged.max(1) as f64;
    println!(
        "Panther WAF and GuardDuty: {agree}/{judged} agree ({:.1}%), {not_judged} cases of rules outside the catalogue not judged",
        share * 100.0
    );
    for (rule, name, expected, ours) in &disagreements {
        let why = KNOWN_DISAGREEMENTS
            .iter()
            .find(|(r, n, _)| r == rule && n == name)
            .map(|(_, _, why)| *why);
        println!(
            "  disagree: {rule} {name:?}: Panther {expected}, ours {ours}: {}",
            why.unwrap_or("UNEXPLAINED")
        );
    }
    // 50 WAF cases, 12 of them of rules outside the catalogue, and 8 GuardDuty cases.
    assert!(
        judged >= 46,
        "expected the WAF and GuardDuty cases, judged {judged}"
    );
    let unexplained: Vec<_> = disagreements
        .iter()
        .filter(|(r, n, ..)| {
            !KNOWN_DISAGREEMENTS
                .iter()
                .any(|(kr, kn, _)| kr == r && kn == n)
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained disagreements: {unexplained:?}"
    );
    assert!(share >= 0.95, "agreement {share}");
}
