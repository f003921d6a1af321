//! What one input costs in AWS requests, by kind, through the deployed handler (its cold start's
//! clients, the findings store configured as the template does) against the emulator: a quiet
//! object, a typical one, a busy one, and a redelivery. Every attempt the SDK sends is counted
//! on the wire, so a change that adds a request per object, or per finding, fails here.

use std::collections::BTreeMap;

use cloudsec_integration_tests::{
    create_findings_table, ct, iam_user, trail_file, unique, Env, EXAMPLE_KEY,
};
use serde_json::{json, Value};

/// A role's read-only calls: no rule looks at them.
fn quiet_records(n: usize) -> Vec<Value> {
    let role = json!({"type": "AssumedRole", "accountId": "111122223333",
        "principalId": "AROAEXAMPLE:deploy",
        "arn": "arn:aws:sts::111122223333:assumed-role/deploy/ci",
        "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "deploy",
            "arn": "arn:aws:iam::111122223333:role/deploy"}}});
    (0..n)
        .map(|i| {
            ct(
                &format!("2026-11-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
                "ec2.amazonaws.com",
                "DescribeInstances",
                role.clone(),
                json!({"readOnly": true, "requestParameters": {"maxResults": 100}}),
            )
        })
        .collect()
}

/// Security group `group` opened to one address by `user`: one single-event finding
/// (`config.security-group-change`, on the group), and the user's config-change series
/// counted.
fn sg_change(user: &str, group: usize) -> Value {
    ct(
        &format!("2026-11-01T10:30:{:02}Z", group % 60),
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        iam_user(user),
        json!({"requestParameters": {"groupId": format!("sg-{group:017x}"), "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
             "ipRanges": {"items": [{"cidrIp": "192.0.2.10/32"}]}}]}}}),
    )
}

fn key(name: &str) -> String {
    EXAMPLE_KEY.replace("Sample0001", name)
}

fn count(requests: &BTreeMap<String, u64>, op: &str) -> u64 {
    requests.get(op).copied().unwrap_or(0)
}

#[tokio::test]
async fn an_input_costs_the_requests_its_findings_need_and_a_quiet_one_costs_one_get() {
    let Some((env, requests)) = Env::counting().await else {
        return;
    };
    let table = unique("findings");
    create_findings_table(&env.dynamodb, &table).await;
    let handler = env.handler_keeping(&table).await;
    let busy_users = 120;
    let objects = [
        ("quiet", quiet_records(500)),
        ("typical", {
            let mut r = quiet_records(500);
            r.push(sg_change("alice", 0));
            r
        }),
        ("busy", {
            let mut r = quiet_records(500);
            r.extend((0..busy_users).map(|i| sg_change(&format!("user{i:03}"), 1000 + i)));
            r
        }),
    ];
    for (name, records) in &objects {
        env.put(&key(name), trail_file(records)).await;
    }
    requests.take();
    let mut cost = BTreeMap::new();
    for (name, _) in &objects {
        handler
            .handle(env.event("s3-object-created.json", Some(&key(name))))
            .await
            .expect("handled");
        cost.insert(*name, requests.take());
    }
    handler
        .handle(env.event("s3-object-created.json", Some(&key("typical"))))
        .await
        .expect("redelivered");
    cost.insert("typical, redelivered", requests.take());
    for (name, r) in &cost {
        println!("requests of the {name} object: {r:?}");
    }

    // Quiet: the object is read, and nothing else is asked of AWS.
    assert_eq!(
        cost["quiet"],
        BTreeMap::from([("s3.GetObject".to_owned(), 1)]),
        "a quiet object"
    );

    // Typical: one finding. One transaction commits its two counters (the rule's and the
    // user's config-change series) with the input's ledger item; one read returns them; one
    // read asks whether the finding was published; one conditional write claims it; the
    // findings store keeps it (one write); one batch marks it published; one SNS batch sends
    // it.
    let typical = &cost["typical"];
    let expected = BTreeMap::from([
        ("s3.GetObject".to_owned(), 1),
        ("dynamodb.TransactWriteItems".to_owned(), 1),
        ("dynamodb.BatchGetItem".to_owned(), 2),
        ("dynamodb.UpdateItem".to_owned(), 2),
        ("dynamodb.BatchWriteItem".to_owned(), 1),
        ("sns.PublishBatch".to_owned(), 1),
    ]);
    assert_eq!(typical, &expected, "a typical object");

    // Redelivered: the ledger item cancels the commit (one transaction, nothing counted
    // twice), the counters and the finding's state are read, nothing is claimed or sent; the
    // store writes the same item again.
    let again = &cost["typical, redelivered"];
    let expected = BTreeMap::from([
        ("s3.GetObject".to_owned(), 1),
        ("dynamodb.TransactWriteItems".to_owned(), 1),
        ("dynamodb.BatchGetItem".to_owned(), 2),
        ("dynamodb.UpdateItem".to_owned(), 1),
    ]);
    assert_eq!(again, &expected, "a redelivered object");

    // Busy: 120 users, each opening a group of their own: a finding and two counters each. Requests grow with the findings and
    // counters in the batches DynamoDB and SNS allow, not per record.
    let busy = &cost["busy"];
    let counters = 2 * busy_users as u64;
    let findings = busy_users as u64;
    assert_eq!(count(busy, "s3.GetObject"), 1);
    // A ledger item and up to 99 counters per transaction.
    assert_eq!(
        count(busy, "dynamodb.TransactWriteItems"),
        counters.div_ceil(99),
        "{busy:?}"
    );
    // 100 keys per BatchGetItem: the counters, then the findings' state.
    assert_eq!(
        count(busy, "dynamodb.BatchGetItem"),
        counters.div_ceil(100) + findings.div_ceil(100),
        "{busy:?}"
    );
    // A claim and the store's write per finding: the two writes that cannot be batched
    // (each has its own condition).
    assert_eq!(count(busy, "dynamodb.UpdateItem"), 2 * findings, "{busy:?}");
    assert_eq!(
        count(busy, "dynamodb.BatchWriteItem"),
        findings.div_ceil(25),
        "{busy:?}"
    );
    // Ten messages per SNS batch, fewer when they are large (256 KiB a batch).
    let batches = count(busy, "sns.PublishBatch");
    assert!(
        (findings.div_ceil(10)..=findings).contains(&batches),
        "{batches} SNS batches for {findings} findings"
    );
    assert_eq!(
        busy.keys()
            .filter(|k| !k.starts_with("dynamodb.") && !k.starts_with("sns.PublishBatch"))
            .collect::<Vec<_>>(),
        vec!["s3.GetObject"],
        "{busy:?}"
    );
}

/// A finding under the publishing threshold is never sent: it is counted and kept in the
/// findings store, but not claimed, looked up or settled (the template publishes from `low`;
/// a denied call is an `info` finding, the most common there is).
#[tokio::test]
async fn a_finding_under_the_publishing_threshold_costs_no_claim() {
    let Some((env, requests)) = Env::counting().await else {
        return;
    };
    let table = unique("findings");
    create_findings_table(&env.dynamodb, &table).await;
    let handler = env
        .handler_keeping_from(&table, cloudsec::detect::Severity::Low)
        .await;
    let mut records = quiet_records(100);
    records.push(ct(
        "2026-11-01T10:40:00Z",
        "s3.amazonaws.com",
        "ListBuckets",
        iam_user("bob"),
        json!({"errorCode": "AccessDenied", "errorMessage": "Access Denied"}),
    ));
    env.put(&key("denied"), trail_file(&records)).await;
    requests.take();
    handler
        .handle(env.event("s3-object-created.json", Some(&key("denied"))))
        .await
        .expect("handled");
    let r = requests.take();
    println!("requests of an object with an info finding, published from low: {r:?}");
    // The counters' commit and read; the store's write of the finding; nothing else.
    assert_eq!(count(&r, "s3.GetObject"), 1, "{r:?}");
    assert_eq!(count(&r, "dynamodb.TransactWriteItems"), 1, "{r:?}");
    assert_eq!(count(&r, "dynamodb.BatchGetItem"), 1, "{r:?}");
    assert_eq!(count(&r, "dynamodb.UpdateItem"), 1, "{r:?}");
    for op in ["dynamodb.BatchWriteItem", "sns.PublishBatch"] {
        assert_eq!(count(&r, op), 0, "{op}: {r:?}");
    }
    // And it is in the store, as not published.
    let items = env
        .dynamodb
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let unauthorized: Vec<_> = items
        .iter()
        .filter(|i| {
            i.get("rule")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("user.unauthorized-api-call")
        })
        .collect();
    assert_eq!(unauthorized.len(), 1, "{items:?}");
    assert_eq!(
        unauthorized[0]
            .get("published")
            .and_then(|v| v.as_bool().ok()),
        Some(&false)
    );
}
