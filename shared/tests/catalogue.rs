//! The catalogue is the one of `../shared/DETECTIONS.md`: every rule it lists is built in, and
//! every built-in rule is listed there or named below as an addition.

mod common;

use std::collections::BTreeSet;

use cloudsec::detect::Catalogue;

/// Rules we have that DETECTIONS.md does not list (none today).
const ADDITIONS: &[&str] = &[];

#[test]
fn the_catalogue_ids_are_those_of_detections_md() {
    let Some(path) = common::shared_path("DETECTIONS.md") else {
        return;
    };
    let text = std::fs::read_to_string(path).expect("DETECTIONS.md");
    // A rule is a table row whose first cell is an id: `| user.root-login | ...`.
    let listed: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .map(str::trim)
        .filter(|id| {
            id.split_once('.').is_some_and(|(group, name)| {
                !group.is_empty()
                    && group.bytes().all(|b| b.is_ascii_lowercase())
                    && !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
        })
        .map(str::to_owned)
        .collect();
    assert!(
        listed.len() > 50,
        "rows read from DETECTIONS.md: {listed:?}"
    );
    let catalogue = Catalogue::builtin();
    let ids: Vec<&str> = catalogue.metas().map(|m| m.id).collect();
    let built: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(ids.len(), built.len(), "rule ids are unique");
    let missing: Vec<_> = listed.difference(&built).collect();
    assert!(missing.is_empty(), "listed but not built in: {missing:?}");
    let extra: Vec<_> = built
        .difference(&listed)
        .filter(|id| !ADDITIONS.contains(&id.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "built in but not listed nor an addition: {extra:?}"
    );
    println!("{} rules, as DETECTIONS.md lists them", built.len());
}

/// The pipeline runs a CloudTrail rule only over the records of the `eventSource`s it declares
/// (`Rule::sources`), so a rule must hit no other: on every corpus record a rule hits, the
/// record's source is one it declares, and the same record from any other source (an unknown
/// one, or another that some rule declares) is no hit of it.
#[test]
fn every_cloudtrail_rule_hits_only_records_of_the_sources_it_declares() {
    use cloudsec::detect::Context;
    use cloudsec::sources::cloudtrail::CloudTrailRecord;

    let mut records = common::cloudtrail_corpus_records();
    if records.is_empty() {
        return;
    }
    // Calls of the rules no corpus record hits, in the shapes of their unit tests.
    let call = |source: &str, name: &str, identity: &str, request: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"2026-11-01T10:00:00Z","eventSource":"{source}",
            "eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.10",
            "userAgent":"aws-cli/2.15.0","userIdentity":{identity},"eventType":"AwsApiCall",
            "recipientAccountId":"111122223333","requestParameters":{request}}}"#
        )
    };
    let user = r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice",
        "accountId":"111122223333","userName":"alice","principalId":"AIDAX"}"#;
    records.extend([
        call("sts.amazonaws.com", "GetFederationToken", user, "{}"),
        call(
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            user,
            r#"{"functionName":"f","principal":"*","action":"lambda:InvokeFunction"}"#,
        ),
        call(
            "rolesanywhere.amazonaws.com",
            "CreateTrustAnchor",
            user,
            r#"{"name":"anchor"}"#,
        ),
        call(
            "ssm.amazonaws.com",
            "SendCommand",
            user,
            r#"{"documentName":"AWS-RunShellScript"}"#,
        ),
        call(
            "bedrock.amazonaws.com",
            "PutUseCaseForModelAccess",
            user,
            "{}",
        ),
        call(
            "secretsmanager.amazonaws.com",
            "BatchGetSecretValue",
            user,
            "{}",
        ),
    ]);
    let catalogue = Catalogue::builtin();
    let cx = Context::of(&catalogue.settings);
    let declared: Vec<_> = catalogue
        .cloudtrail
        .iter()
        .filter(|r| !r.sources.is_empty())
        .collect();
    let every_source: BTreeSet<&str> = declared
        .iter()
        .flat_map(|r| r.sources.iter().copied())
        .chain(["elsewhere.amazonaws.com"])
        .collect();
    let mut covered = BTreeSet::new();
    for raw in &records {
        let Ok(record) = CloudTrailRecord::parse(raw) else {
            continue;
        };
        for rule in &declared {
            if rule.first(&record, &cx).is_none() {
                continue;
            }
            assert!(
                rule.sources.contains(&&*record.event_source),
                "{} hits a record of {:?}, which it does not declare: {raw}",
                rule.meta.id,
                record.event_source
            );
            covered.insert(rule.meta.id);
            let mut moved: serde_json::Value = serde_json::from_str(raw).unwrap();
            for other in every_source.iter().filter(|s| !rule.sources.contains(s)) {
                moved["eventSource"] = (*other).into();
                let text = moved.to_string();
                let elsewhere = CloudTrailRecord::parse(&text).unwrap();
                assert!(
                    rule.first(&elsewhere, &cx).is_none(),
                    "{} hits the record moved to {other:?}: {text}",
                    rule.meta.id
                );
            }
        }
    }
    let uncovered: Vec<_> = declared
        .iter()
        .map(|r| r.meta.id)
        .filter(|id| !covered.contains(id))
        .collect();
    println!(
        "{} of {} rules that declare sources hit a record and were moved to every other source; no hit of: {uncovered:?}",
        covered.len(),
        declared.len()
    );
    assert!(uncovered.is_empty(), "no record hits {uncovered:?}");
}
