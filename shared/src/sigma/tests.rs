//! Sigma rules through the pipeline: modifiers, metadata, rejection one by one, filters.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::detect::Catalogue;
use crate::pipeline::{InputReport, Pipeline, PipelineConfig};
use crate::sources::LogSource;
use crate::tuning::Suppressor;

/// A rule over CloudTrail, with `detection` (YAML, indented by 2) and extra top-level lines.
fn rule(id: &str, detection: &str, extra: &str) -> String {
    format!(
        "title: Rule {id}\nid: {id}\nstatus: test\ndescription: Test rule {id}.\n\
         references:\n  - https://example.com/{id}\nlevel: high\n\
         tags:\n  - attack.persistence\n  - attack.t1098.001\n\
         falsepositives:\n  - Automation that creates users\n\
         logsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}\n{extra}"
    )
}

fn pipeline(docs: &[(&str, String)]) -> Pipeline {
    let mut c = Catalogue::builtin();
    c.sigma = SigmaSet::load(docs.iter().map(|(n, t)| (*n, t.as_str())));
    assert!(
        c.sigma.rejected().is_empty(),
        "rejected: {:?}",
        c.sigma.rejected()
    );
    Pipeline::new(c, PipelineConfig::default())
}

fn record(name: &str, extra: Value) -> Value {
    let mut r = json!({
        "eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": "iam.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.15.0",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                         "accountId": "111122223333", "userName": "alice", "principalId": "AIDAX"},
        "eventType": "AwsApiCall", "recipientAccountId": "111122223333"
    });
    if let (Some(r), Some(e)) = (r.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    r
}

fn scan(p: &Pipeline, records: &[Value]) -> InputReport {
    let text = json!({ "Records": records }).to_string();
    p.scan(text.as_bytes(), "test://object", LogSource::CloudTrail)
}

fn sigma_rules(report: &InputReport) -> Vec<String> {
    report
        .single_event_findings()
        .into_iter()
        .map(|f| f.rule.id)
        .filter(|id| id.starts_with("sigma."))
        .collect()
}

/// The one finding of a Sigma rule in `report`.
fn sigma_finding(report: &InputReport) -> crate::finding::Finding {
    report
        .single_event_findings()
        .into_iter()
        .find(|f| f.rule.id.starts_with("sigma."))
        .expect("a sigma finding")
}

#[test]
fn each_modifier_matches_what_it_says_and_nothing_else() {
    let cases: &[(&str, &str, Value, Value)] = &[
        (
            "contains",
            "  sel:\n    requestParameters.userName|contains: admin\n  condition: sel",
            json!({"requestParameters": {"userName": "backdoor-admin-2"}}),
            json!({"requestParameters": {"userName": "bob"}}),
        ),
        (
            "endswith",
            "  sel:\n    userAgent|endswith: S3 Browser\n  condition: sel",
            json!({"userAgent": "Mozilla S3 Browser"}),
            json!({"userAgent": "S3 Browser 9.5"}),
        ),
        (
            "startswith",
            "  sel:\n    userIdentity.arn|startswith: 'arn:aws:iam::111122223333:user/ali'\n  condition: sel",
            json!({}),
            json!({"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"}}),
        ),
        (
            "re",
            "  sel:\n    requestParameters.userName|re: '^svc-[0-9]+$'\n  condition: sel",
            json!({"requestParameters": {"userName": "svc-42"}}),
            json!({"requestParameters": {"userName": "svc-42x"}}),
        ),
        (
            "cidr",
            "  sel:\n    sourceIPAddress|cidr: 203.0.113.0/24\n  condition: sel",
            json!({}),
            json!({"sourceIPAddress": "198.51.100.1"}),
        ),
        (
            "contains|all",
            "  sel:\n    userAgent|contains|all:\n      - aws-cli\n      - Python\n  condition: sel",
            json!({"userAgent": "aws-cli/2.15.0 Python/3.11"}),
            json!({"userAgent": "aws-cli/2.15.0"}),
        ),
        (
            "not",
            "  sel:\n    eventName: CreateUser\n  filter:\n    userIdentity.type: AssumedRole\n  condition: sel and not filter",
            json!({}),
            json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/r/s"}}),
        ),
    ];
    for (i, (name, detection, hit, miss)) in cases.iter().enumerate() {
        let id = format!("00000000-0000-0000-0000-00000000000{i}");
        let p = pipeline(&[("r.yml", rule(&id, detection, ""))]);
        let yes = scan(&p, &[record("CreateUser", hit.clone())]);
        assert_eq!(sigma_rules(&yes), [format!("sigma.{id}")], "{name}: match");
        let no = scan(&p, &[record("CreateUser", miss.clone())]);
        assert!(sigma_rules(&no).is_empty(), "{name}: no match");
    }
}

#[test]
fn a_finding_carries_the_rules_metadata_and_the_principal() {
    let id = "5a0e1c3b-6f5e-4a0c-9d1e-1a2b3c4d5e6f";
    let p = pipeline(&[(
        "r.yml",
        rule(
            id,
            "  sel:\n    eventSource: iam.amazonaws.com\n    eventName: CreateUser\n  condition: sel",
            "",
        ),
    )]);
    let report = scan(&p, &[record("CreateUser", json!({}))]);
    let f = sigma_finding(&report);
    assert_eq!(f.rule.id, format!("sigma.{id}"));
    assert_eq!(f.rule.name, format!("Rule {id}"));
    assert_eq!(f.rule.description, format!("Test rule {id}."));
    assert!(f.rule.reference.contains("https://example.com/"));
    assert_eq!(f.finding.severity, crate::detect::Severity::High);
    assert_eq!(f.finding.entity.id, "arn:aws:iam::111122223333:user/alice");
    let threat = f.threat.expect("threat from attack.* tags");
    assert_eq!(threat.tactic.id, ["TA0003"]);
    assert_eq!(threat.technique.id, ["T1098.001"]);
    assert!(
        f.finding
            .action_plan
            .iter()
            .any(|s| s.contains("Automation that creates users")),
        "falsepositives shown with the plan: {:?}",
        f.finding.action_plan
    );
    // A custom entity: the source IP.
    let p = pipeline(&[(
        "r.yml",
        rule(
            id,
            "  sel:\n    eventName: CreateUser\n  condition: sel",
            "x-cloudsec-entity: ip\n",
        ),
    )]);
    let report = scan(&p, &[record("CreateUser", json!({}))]);
    let f = sigma_finding(&report);
    assert_eq!(
        (f.finding.entity.kind.as_str(), f.finding.entity.id.as_str()),
        ("ip", "203.0.113.10")
    );
}

#[test]
fn a_bad_rule_is_rejected_alone_with_its_reason() {
    let good = rule(
        "11111111-1111-1111-1111-111111111111",
        "  sel:\n    eventName: CreateUser\n  condition: sel",
        "",
    );
    let bad_modifier = rule(
        "22222222-2222-2222-2222-222222222222",
        "  sel:\n    eventName|frobnicate: x\n  condition: sel",
        "",
    );
    let windows = rule(
        "33333333-3333-3333-3333-333333333333",
        "  sel:\n    EventID: 4688\n  condition: sel",
        "",
    )
    .replace(
        "product: aws\n  service: cloudtrail",
        "product: windows\n  category: process_creation",
    );
    let no_id = rule(
        "44444444-4444-4444-4444-444444444444",
        "  sel:\n    eventName: X\n  condition: sel",
        "",
    )
    .replace("id: 44444444-4444-4444-4444-444444444444\n", "");
    let set = SigmaSet::load([
        ("good.yml", good.clone()),
        ("modifier.yml", bad_modifier),
        ("yaml.yml", "title: [unclosed".to_owned()),
        ("windows.yml", windows),
        ("noid.yml", no_id),
        ("again.yml", good),
    ]);
    assert_eq!(set.detections().len(), 1, "{:?}", set.rejected());
    let reasons: BTreeMap<&str, &str> = set
        .rejected()
        .iter()
        .map(|r| (r.file.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(
        reasons["modifier.yml"].contains("frobnicate"),
        "{reasons:?}"
    );
    assert!(
        reasons["yaml.yml"].contains("not a Sigma rule"),
        "{reasons:?}"
    );
    assert!(
        reasons["windows.yml"].contains("unknown logsource"),
        "{reasons:?}"
    );
    assert!(reasons["noid.yml"].contains("no id"), "{reasons:?}");
    assert!(reasons["again.yml"].contains("taken"), "{reasons:?}");
}

#[test]
fn a_filter_suppresses_its_events_and_counts_them_as_an_exception_would() {
    let id = "66666666-6666-6666-6666-666666666666";
    let filter = format!(
        "title: CI creates users\nid: 77777777-7777-7777-7777-777777777777\n\
         logsource:\n  product: aws\n  service: cloudtrail\n\
         filter:\n  rules:\n    - {id}\n  selection:\n    userIdentity.userName: ci-bot\n  condition: not selection\n"
    );
    let p = pipeline(&[
        (
            "r.yml",
            rule(
                id,
                "  sel:\n    eventName: CreateUser\n  condition: sel",
                "",
            ),
        ),
        ("f.yml", filter),
    ]);
    let ci = json!({"userIdentity": {"type": "IAMUser", "userName": "ci-bot",
        "arn": "arn:aws:iam::111122223333:user/ci-bot", "accountId": "111122223333"}});
    let report = scan(
        &p,
        &[
            record("CreateUser", ci.clone()),
            record("CreateUser", ci),
            record("CreateUser", json!({})),
        ],
    );
    let findings = report.single_event_findings();
    let mine: Vec<_> = findings
        .iter()
        .filter(|f| f.rule.id == format!("sigma.{id}"))
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0].finding.entity.id,
        "arn:aws:iam::111122223333:user/alice"
    );
    assert_eq!(mine[0].finding.count, 1, "the filtered events do not count");
    let key = (Suppressor::SigmaFilter(0), mine[0].rule.id.as_str());
    let suppressed: Vec<_> = report
        .suppressed
        .iter()
        .map(|((s, r), n)| ((*s, *r), *n))
        .collect();
    assert_eq!(suppressed, [((key.0, key.1), 2)]);
    assert!(p.suppressor_label(key.0).contains("CI creates users"));
}

#[test]
fn correlations_are_window_rules_and_their_rules_make_no_findings_of_their_own() {
    let id = "88888888-8888-8888-8888-888888888888";
    let corr = format!(
        "title: Many users created\nid: 99999999-9999-9999-9999-999999999999\nlevel: high\n\
         correlation:\n  type: event_count\n  rules:\n    - {id}\n  group-by:\n    - userIdentity.arn\n\
         \x20 timespan: 15m\n  condition:\n    gte: 3\n"
    );
    let p = pipeline(&[
        (
            "r.yml",
            rule(
                id,
                "  sel:\n    eventName: CreateUser\n  condition: sel",
                "",
            ),
        ),
        ("c.yml", corr),
    ]);
    let set = &p.catalogue().sigma;
    assert_eq!(set.correlations().len(), 1);
    assert!(!set.detections()[0].generates);
    assert_eq!(
        set.correlations()[0].kind,
        RuleKind::Window {
            window_minutes: 15,
            min_count: 3,
            min_distinct: [0, 0]
        }
    );
    let report = scan(
        &p,
        &[
            record("CreateUser", json!({})),
            record("CreateUser", json!({})),
        ],
    );
    assert!(
        sigma_rules(&report).is_empty(),
        "the correlated rule does not fire alone"
    );
    let group = report
        .groups
        .iter()
        .find(|g| g.meta().id == "sigma.99999999-9999-9999-9999-999999999999")
        .expect("the correlation counts");
    assert_eq!(group.kind(), set.correlations()[0].kind);
}

#[test]
fn correlations_that_cannot_run_exactly_once_are_rejected() {
    let base = rule(
        "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
        "  sel:\n    eventName: CreateUser\n  condition: sel",
        "",
    );
    // A correlation of `rule` (an id) with `body` (its type and condition).
    let corr = |rule: &str, body: &str| {
        format!(
            "title: C\nid: bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb\ncorrelation:\n  rules:\n    - {rule}\n  timespan: 1h\n{body}"
        )
    };
    let base_id = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";
    for (rule, body, reason) in [
        (
            base_id,
            "  type: event_count\n  condition:\n    lt: 3\n",
            "condition Lt is not supported",
        ),
        (
            base_id,
            "  type: value_sum\n  condition:\n    gte: 3\n    field: x\n",
            "value_sum",
        ),
        (
            "nothing",
            "  type: event_count\n  condition:\n    gte: 3\n",
            "not a loaded rule",
        ),
    ] {
        let text = corr(rule, body);
        let set = SigmaSet::load([("r.yml", base.clone()), ("c.yml", text)]);
        assert_eq!(set.detections().len(), 1);
        assert_eq!(set.correlations().len(), 0, "{body}");
        assert!(
            set.rejected().iter().any(|r| r.reason.contains(reason)),
            "{body}: {:?}",
            set.rejected()
        );
    }
}

#[test]
fn value_count_and_temporal_correlations_count_what_they_say() {
    let create = "aaaaaaaa-0000-0000-0000-000000000001";
    let attach = "aaaaaaaa-0000-0000-0000-000000000002";
    let distinct = format!(
        "title: Users created under many names\nid: aaaaaaaa-0000-0000-0000-00000000000a\n\
         correlation:\n  type: value_count\n  rules:\n    - {create}\n  group-by:\n    - sourceIPAddress\n\
         \x20 timespan: 1h\n  condition:\n    gte: 2\n    field: requestParameters.userName\n"
    );
    let temporal = format!(
        "title: Create then attach\nid: aaaaaaaa-0000-0000-0000-00000000000b\n\
         correlation:\n  type: temporal\n  rules:\n    - {create}\n    - {attach}\n  group-by:\n    - userIdentity.arn\n\
         \x20 timespan: 10m\n"
    );
    let p = pipeline(&[
        (
            "create.yml",
            rule(
                create,
                "  sel:\n    eventName: CreateUser\n  condition: sel",
                "",
            ),
        ),
        (
            "attach.yml",
            rule(
                attach,
                "  sel:\n    eventName: AttachUserPolicy\n  condition: sel",
                "",
            ),
        ),
        ("distinct.yml", distinct),
        ("temporal.yml", temporal),
    ]);
    let set = &p.catalogue().sigma;
    assert_eq!(set.correlations().len(), 2, "{:?}", set.rejected());
    assert_eq!(
        set.correlations()[0].kind,
        RuleKind::Window {
            window_minutes: 60,
            min_count: 1,
            min_distinct: [2, 0]
        }
    );
    assert_eq!(
        set.correlations()[1].kind,
        RuleKind::Window {
            window_minutes: 10,
            min_count: 2,
            min_distinct: [2, 0]
        }
    );
    let user = |n: &str| json!({"requestParameters": {"userName": n}});
    let report = scan(
        &p,
        &[
            record("CreateUser", user("a")),
            record("CreateUser", user("a")),
            record("CreateUser", user("b")),
            record("AttachUserPolicy", user("b")),
        ],
    );
    let group = |id: &str| {
        report
            .groups
            .iter()
            .find(|g| g.meta().id == id)
            .unwrap_or_else(|| panic!("{id} counts"))
            .clone()
            .build()
    };
    // value_count: the names, per source IP.
    let names = group("sigma.aaaaaaaa-0000-0000-0000-00000000000a");
    assert_eq!(names.finding.entity.kind.as_str(), "ip");
    assert_eq!(names.finding.entity.id, "203.0.113.10");
    assert_eq!(names.finding.count, 3);
    // temporal: which rules matched, per principal.
    let both = group("sigma.aaaaaaaa-0000-0000-0000-00000000000b");
    assert_eq!(both.finding.entity.kind.as_str(), "principal");
    assert_eq!(
        both.finding.entity.id,
        "arn:aws:iam::111122223333:user/alice"
    );
    assert_eq!(both.finding.count, 4);
}

/// What rsigma said of a record, for the rules that read only few-valued fields, is
/// remembered by the values of those fields: a record that differs from a remembered one in
/// any of them is asked again, one that differs only elsewhere is answered the same, a value
/// that is no string is never remembered, the memory is bounded, and a rule set whose active
/// rules change is answered afresh.
#[test]
fn remembered_answers_are_what_the_rules_say() {
    let docs = [
        (
            "data.yml",
            rule(
                "6d3a1c1e-0000-4000-8000-000000000001",
                "  sel:\n    eventName: CreateUser\n    eventCategory: Data\n  condition: sel",
                "",
            ),
        ),
        (
            "no-error.yml",
            rule(
                "6d3a1c1e-0000-4000-8000-000000000002",
                "  sel:\n    eventName|startswith: Create\n  cat:\n    eventCategory: null\n  condition: sel and cat",
                "",
            ),
        ),
        (
            "agent.yml",
            rule(
                "6d3a1c1e-0000-4000-8000-000000000003",
                "  sel:\n    eventName: CreateUser\n    userAgent|contains: S3 Browser\n  condition: sel",
                "",
            ),
        ),
    ];
    let mut set = SigmaSet::load(docs.iter().map(|(n, t)| (*n, t.as_str())));
    assert!(set.rejected().is_empty(), "{:?}", set.rejected());
    let (rules, fields) = set.remembered();
    assert_eq!(rules, 2, "the rules on eventName and eventCategory alone");
    assert_eq!(fields, ["eventName", "eventCategory"]);
    let ask = |set: &SigmaSet, extra: Value| -> Vec<usize> {
        let text = record("CreateUser", extra).to_string();
        let r = crate::sources::cloudtrail::CloudTrailRecord::parse(&text).unwrap();
        let event = RecordEvent::new(&r, &text);
        let (mut got, mut every) = (Vec::new(), Vec::new());
        set.evaluate(&event, &mut got);
        set.evaluate_unindexed(&event, &mut every);
        assert_eq!(got, every, "{text}");
        got.iter().map(|m| m.detection).collect()
    };
    let data = json!({"eventCategory": "Data"});
    let browser = json!({"userAgent": "S3 Browser 10.9.9 https://s3browser.com"});
    for _ in 0..2 {
        assert_eq!(ask(&set, json!({})), [1], "no error");
        assert_eq!(ask(&set, data.clone()), [0], "data event");
        // The same remembered key, a different agent: the agent's rule is asked every time.
        assert_eq!(ask(&set, browser.clone()), [1, 2], "no error, S3 Browser");
        // `null` and a number are not remembered: the rules say of them what rsigma says.
        assert_eq!(ask(&set, json!({"eventCategory": null})), [1]);
        assert_eq!(
            ask(&set, json!({"eventCategory": 403})),
            Vec::<usize>::new()
        );
    }
    // Absent and "Data"; null and the number answer other than absent or a string.
    assert_eq!(set.remembered_keys(), 2);
    // Bounded: distinct values beyond the limit start the memory afresh.
    for i in 0..remember::REMEMBERED + 10 {
        let text = record(&format!("Create{i}"), json!({})).to_string();
        let r = crate::sources::cloudtrail::CloudTrailRecord::parse(&text).unwrap();
        let mut got = Vec::new();
        set.evaluate(&RecordEvent::new(&r, &text), &mut got);
        assert_eq!(got.len(), 1, "{text}");
        assert!(set.remembered_keys() <= remember::REMEMBERED);
    }
    // A rule disabled: what was remembered for the rule set before is not its answer now.
    set.retain(&|m| m.id != "sigma.6d3a1c1e-0000-4000-8000-000000000002");
    assert_eq!(ask(&set, json!({})), Vec::<usize>::new());
    assert_eq!(ask(&set, data), [0]);
}
