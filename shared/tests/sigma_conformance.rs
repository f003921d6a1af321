//! SigmaHQ's CloudTrail rules (`../shared/corpora/sigma`): every one loads or is rejected with
//! its reason, and each that has a built-in counterpart agrees with it on Panther's judgeable
//! cases of that behaviour, or the disagreement is explained below.

mod common;

use std::collections::BTreeMap;

use cloudsec::detect::{Catalogue, Context};
use cloudsec::sigma::{RecordEvent, SigmaSet};
use cloudsec::sources::cloudtrail::CloudTrailRecord;
use rsigma_eval::{Event, JsonEvent};
use serde_json::Value;

/// SigmaHQ rule file -> Panther's rule for the same behaviour -> our built-in rule. (SigmaHQ's
/// console login without MFA pairs with `user.console-login-no-mfa`, but Panther marks none of
/// its cases of that rule judgeable on the raw log: they need its MFA-device lookups. Its
/// GuardDuty IP set rule pairs with `config.security-tooling-tampered`, but Panther's cases of
/// `AWS.IPSet.Modified` are written with lower-cased keys, `eventname`, which CloudTrail never
/// logs.)
const PAIRS: &[(&str, &str, &str)] = &[
    (
        "aws_console_getsignintoken.yml",
        "AWS.Console.GetSigninToken.Abuse",
        "user.get-signin-token",
    ),
    (
        "aws_root_account_usage.yml",
        "AWS.Root.Activity",
        "user.root-activity",
    ),
    (
        "aws_cloudtrail_disable_logging.yml",
        "AWS.CloudTrail.Stopped",
        "config.cloudtrail-stopped",
    ),
    (
        "aws_config_disable_recording.yml",
        "AWS.ConfigService.DisabledDeleted",
        "config.aws-config-change",
    ),
    (
        "aws_cloudtrail_vpc_flow_logs_deleted.yml",
        "AWS.VPCFlow.LogsDeleted",
        "config.log-deletion",
    ),
    (
        "aws_ec2_disable_encryption.yml",
        "AWS.EC2.EBS.Encryption.Disabled",
        "config.security-tooling-tampered",
    ),
    (
        "aws_ec2_startup_script_change.yml",
        "AWS.EC2.Startup.Script.Change",
        "exec.ec2-user-data-modified",
    ),
    (
        "aws_iam_backdoor_users_keys.yml",
        "AWS.IAM.Backdoor.User.Keys",
        "config.access-key-for-other-user",
    ),
    (
        "aws_new_lambda_layer_attached.yml",
        "AWS.Lambda.UpdateFunctionConfiguration",
        "config.lambda-code-changed",
    ),
    (
        "aws_update_login_profile.yml",
        "AWS.User.Login.Profile.Modified",
        "config.login-profile-change",
    ),
    (
        "aws_securityhub_finding_evasion.yml",
        "AWS.SecurityHub.Finding.Evasion",
        "config.security-tooling-tampered",
    ),
    (
        "aws_cloudtrail_new_acl_entries.yml",
        "AWS.EC2.NetworkACLModified",
        "config.nacl-change",
    ),
    (
        "aws_cloudtrail_new_route_added.yml",
        "AWS.EC2.RouteTableModified",
        "config.route-table-change",
    ),
    (
        "aws_cloudtrail_security_group_change_ingress_egress.yml",
        "AWS.EC2.SecurityGroupModified",
        "config.security-group-change",
    ),
];

/// Cases where SigmaHQ's rule and ours disagree, and why: (Sigma file, Panther case name,
/// reason).
const EXPLAINED: &[(&str, &str, &str)] = &[
    ("aws_cloudtrail_disable_logging.yml", "Error Stopping CloudTrail", FAILED_TOO),
    ("aws_config_disable_recording.yml", "Error Deleting Config Recorder", FAILED_TOO),
    ("aws_cloudtrail_new_acl_entries.yml", "Error Modifying Network ACL", FAILED_TOO),
    ("aws_cloudtrail_new_route_added.yml", "Error Modifying Route Table", FAILED_TOO),
    ("aws_cloudtrail_security_group_change_ingress_egress.yml", "Error Mofidying Security Group", FAILED_TOO),
    ("aws_iam_backdoor_users_keys.yml", "CreateKey returns error code", FAILED_TOO),
    (
        "aws_config_disable_recording.yml",
        "Config Recorder Delivery Channel Created",
        "ours also reports the Put* calls at low severity (CIS's Config.1 watches every change); SigmaHQ's only stops and deletions",
    ),
    (
        "aws_ec2_startup_script_change.yml",
        "ModifyInstanceAttributeUserdata",
        "the request names the attribute as a key (`userData: ...`), the shape the current API logs; SigmaHQ's rule reads only `attribute: userData`",
    ),
    (
        "aws_iam_backdoor_users_keys.yml",
        "user1 create keys for user1",
        "SigmaHQ's filter compares userIdentity.arn with the literal text `responseElements.accessKey.userName` (no `fieldref`), so it never excludes a user's own key",
    ),
    (
        "aws_update_login_profile.yml",
        "ChangeOwnPassword",
        "SigmaHQ's filter compares an ARN with a user name (`userIdentity.arn|fieldref: requestParameters.userName`), never equal, so a user's own change is not excluded",
    ),
    (
        "aws_update_login_profile.yml",
        "User changed password for other reset required",
        "ours leaves out a reset that forces a new password at the next sign-in (the admin's routine reset); SigmaHQ's flags every update",
    ),
    (
        "aws_new_lambda_layer_attached.yml",
        "IAM User Updates Lambda Configuration with Layers",
        LAYERS_IN_RESPONSE,
    ),
    (
        "aws_new_lambda_layer_attached.yml",
        "SSO AssumedRole Updates Lambda Configuration with Layers",
        LAYERS_IN_RESPONSE,
    ),
    (
        "aws_new_lambda_layer_attached.yml",
        "FederatedUser Updates Lambda Configuration with Layers",
        LAYERS_IN_RESPONSE,
    ),
    (
        "aws_new_lambda_layer_attached.yml",
        "AssumedRole Updates Lambda Configuration with Layers (Normal CI/CD)",
        "ours reports every configuration change, automation's at low severity; SigmaHQ's only layers named in the request (absent here)",
    ),
];

const FAILED_TOO: &str = "SigmaHQ's rule has no errorCode filter: it flags the failed attempt too; ours counts calls that took effect";

const LAYERS_IN_RESPONSE: &str = "the layers are logged in responseElements, not in the request; SigmaHQ's rule reads `requestParameters.layers`, ours the change itself";

fn corpus() -> Option<SigmaSet> {
    let dir = common::shared_path("corpora/sigma")?;
    Some(SigmaSet::load_dir(&dir).expect("the corpus folder reads"))
}

#[test]
fn every_sigmahq_cloudtrail_rule_loads_or_is_rejected_with_a_reason() {
    let Some(set) = corpus() else { return };
    let dir = common::shared_path("corpora/sigma").unwrap();
    let index = std::fs::read_to_string(dir.join("sigma_aws_rules_index.jsonl")).unwrap();
    let files: Vec<String> = index
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(files.len(), 66);
    let name = |path: &str| path.rsplit('/').next().unwrap().to_owned();
    let loaded: Vec<String> = set.detections().iter().map(|d| name(&d.file)).collect();
    let rejected: BTreeMap<String, &str> = set
        .rejected()
        .iter()
        .map(|r| (name(&r.file), r.reason.as_str()))
        .collect();
    for f in &files {
        assert!(
            loaded.contains(f) != rejected.contains_key(f),
            "{f}: loads or is rejected, once"
        );
    }
    for (f, reason) in &rejected {
        assert!(!reason.is_empty(), "{f}: a reason");
        println!("rejected {f}: {reason}");
    }
    println!(
        "{} of {} SigmaHQ CloudTrail rules load; {} rejected",
        loaded.len(),
        files.len(),
        rejected.len()
    );
    // The rules SigmaHQ keeps under `unsupported/` use the deprecated aggregations; every
    // other one loads.
    assert_eq!(loaded.len(), 58);
}

#[test]
fn sigmahq_rules_agree_with_their_built_in_counterparts_on_pantherss_cases() {
    let Some(set) = corpus() else { return };
    let Some(path) = common::shared_path("corpora/panther/panther_aws_test_cases.jsonl") else {
        return;
    };
    let catalogue = Catalogue::builtin();
    let text = std::fs::read_to_string(path).unwrap();
    let mut agreed = 0;
    let mut unexplained = Vec::new();
    let mut used = 0;
    for (file, panther, ours) in PAIRS {
        let d = set
            .detections()
            .iter()
            .position(|d| d.file.ends_with(file))
            .unwrap_or_else(|| panic!("{file} loads"));
        let rule = catalogue
            .cloudtrail
            .iter()
            .find(|r| r.meta.id == *ours)
            .unwrap_or_else(|| panic!("{ours} exists"));
        let mut cases = 0;
        for line in text.lines() {
            let case: Value = serde_json::from_str(line).unwrap();
            if case["rule_id"] != *panther || case["judgeable_on_raw_log"] != Value::Bool(true) {
                continue;
            }
            let mut log = case["log"].clone();
            common::strip_panther_fields(&mut log);
            if log.get("eventTime").is_none() {
                log["eventTime"] = Value::from("2026-01-01T00:00:00Z");
            }
            let raw = log.to_string();
            let Ok(record) = CloudTrailRecord::parse(&raw) else {
                continue;
            };
            cases += 1;
            let mut matches = Vec::new();
            set.evaluate(&RecordEvent::new(&record, &raw), &mut matches);
            let sigma = matches.iter().any(|m| m.detection == d);
            let builtin = rule
                .first(&record, &Context::of(&catalogue.settings))
                .is_some();
            let name = case["test_name"].as_str().unwrap_or_default();
            if sigma == builtin {
                agreed += 1;
            } else if EXPLAINED.iter().any(|(f, n, _)| f == file && *n == name) {
                used += 1;
            } else {
                unexplained.push(format!(
                    "{file} / {panther} / {name:?}: sigma {sigma}, {ours} {builtin} (Panther expects {})",
                    case["expected"]
                ));
            }
        }
        assert!(cases > 0, "{file}: Panther has cases of {panther}");
    }
    println!("{agreed} cases agree, {used} explained disagreements");
    assert!(
        unexplained.is_empty(),
        "unexplained disagreements:\n{}",
        unexplained.join("\n")
    );
    assert_eq!(used, EXPLAINED.len(), "every explanation is still needed");
}

/// The index (rsigma's candidate index, which spares a record the rules it cannot match) finds
/// exactly what evaluating every rule finds, on every CloudTrail record of the corpora: Panther's
/// cases of every rule, and the bundled samples.
#[test]
fn the_rule_index_matches_what_every_rule_in_turn_matches() {
    let Some(set) = corpus() else { return };
    let records = common::cloudtrail_corpus_records();
    if records.is_empty() {
        return;
    }
    let (mut checked, mut matched, mut parsed) = (0, 0, 0);
    // Twice over: the second time, the answers of the rules that read only few-valued fields
    // are the ones remembered the first time.
    for pass in 0..2 {
        for raw in &records {
            let Ok(record) = CloudTrailRecord::parse(raw) else {
                continue;
            };
            let event = RecordEvent::new(&record, raw);
            let mut indexed = Vec::new();
            set.evaluate(&event, &mut indexed);
            let mut every = Vec::new();
            set.evaluate_unindexed(&event, &mut every);
            assert_eq!(indexed, every, "pass {pass}: {raw}");
            if pass == 0 {
                let again = RecordEvent::new(&record, raw);
                set.evaluate(&again, &mut Vec::new());
                parsed += usize::from(again.parsed_whole());
                checked += 1;
                matched += every.len();
            }
        }
    }
    let (remembered, fields) = set.remembered();
    println!(
        "{checked} records, {matched} matches, the same with and without the index, and with \
         the answers of {remembered} rules (on {fields:?}) remembered for {} keys; {parsed} \
         records parsed whole by the indexed evaluation",
        set.remembered_keys()
    );
    assert!(
        checked > 400 && matched > 50,
        "{checked} records, {matched} matches"
    );
    assert!(
        remembered > 30 && set.remembered_keys() > 20,
        "{remembered} rules remembered, {} keys",
        set.remembered_keys()
    );
}

/// The record as a Sigma event answers every field as the whole record parsed to JSON does:
/// each leaf and each object of every corpus record, and names no record has, whether the
/// answer comes from the typed record, a part parsed alone, the text, or the whole record.
#[test]
fn a_record_answers_every_field_as_its_whole_json_does() {
    let absent = [
        "src_ip",
        "status",
        "type",
        "errorMessage",
        "additionalEventData.MFAUsed",
        "requestParameters.nothing.here",
        "responseElements.ConsoleLogin",
        "userIdentity.sessionContext.sessionIssuer.type",
        "serviceEventDetails",
    ];
    let mut fields = 0;
    let records = common::cloudtrail_corpus_records();
    if records.is_empty() {
        return;
    }
    for raw in records {
        let Ok(record) = CloudTrailRecord::parse(&raw) else {
            continue;
        };
        let whole = JsonEvent::owned(serde_json::from_str(&raw).unwrap());
        let mut paths: Vec<String> = whole
            .field_keys()
            .into_iter()
            .map(|k| k.into_owned())
            .collect();
        let objects: Vec<String> = paths
            .iter()
            .flat_map(|p| {
                p.match_indices('.')
                    .map(|(i, _)| p[..i].to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        paths.extend(objects);
        paths.extend(absent.iter().map(|p| (*p).to_owned()));
        for path in &paths {
            // A fresh event each time: what one field costs does not depend on another's.
            let event = RecordEvent::new(&record, &raw);
            assert_eq!(
                event.get_field(path),
                whole.get_field(path),
                "{path} of {raw}"
            );
            fields += 1;
        }
    }
    println!("{fields} fields compared");
    assert!(fields > 10_000, "{fields} fields");
}
