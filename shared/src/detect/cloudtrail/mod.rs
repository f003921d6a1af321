//! Single-event CloudTrail rules (DETECTIONS.md), one file per dashboard: [`user`] (suspicious
//! user activity), [`config`] (config and IAM), [`execution`] (credential access, execution,
//! lateral movement). Each rule is an entry of its file's table and one matcher written to read
//! like the catalogue's logic column. The helpers below are the vocabulary they share.

pub mod config;
pub mod execution;
pub mod user;
pub mod windows;

use serde_json::Value;

use super::{Attack, CloudTrailRule, Entity, EntityKind, Settings};
use crate::sources::cloudtrail::CloudTrailRecord;

/// Every CloudTrail rule, in catalogue order: the single-event rules, then the windowed and
/// anomaly ones (which may count the single-event hits), then the geo ones.
pub fn rules() -> Vec<CloudTrailRule> {
    [
        user::RULES,
        config::RULES,
        execution::RULES,
        windows::RULES,
        super::geo::RULES,
    ]
    .concat()
}

/// `eventSource` is `service` and `eventName` is one of `names`.
pub(crate) fn call_in(r: &CloudTrailRecord<'_>, service: &str, names: &[&str]) -> bool {
    r.event_source == service && names.contains(&&*r.event_name)
}

/// A string of `requestParameters`.
pub(crate) fn req_str<'r>(r: &'r CloudTrailRecord<'_>, key: &str) -> Option<&'r str> {
    r.request().get(key).and_then(Value::as_str)
}

/// A boolean of `requestParameters` as callers log it: `true`, or the string `"true"` (any
/// case) that some SDKs and the console send.
pub(crate) fn req_bool(r: &CloudTrailRecord<'_>, key: &str) -> Option<bool> {
    match r.request().get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A resource entity.
pub(crate) fn resource(id: impl Into<String>) -> Entity {
    Entity {
        kind: EntityKind::Resource,
        id: id.into(),
    }
}

/// A person, not automation: an IAM user, a federated user, an IAM Identity Center (SSO)
/// session, or a session whose credentials came from the console.
pub(crate) fn is_human_session(r: &CloudTrailRecord<'_>) -> bool {
    match r.identity_type() {
        Some("IAMUser") | Some("FederatedUser") | Some("IdentityCenterUser") => true,
        Some("AssumedRole") => {
            r.arn().is_some_and(|a| a.contains("AWSReservedSSO"))
                || r.session_credential_from_console == Some(true)
        }
        _ => false,
    }
}

/// A JSON document that may arrive as an object or as a string holding JSON (policies do both).
pub(crate) fn document(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) => serde_json::from_str(s).ok(),
        Value::Object(_) => Some(v.clone()),
        _ => None,
    }
}

/// Policy statements, whether `Statement` is a list or a single object.
pub(crate) fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

/// Every principal string a statement names (`"*"`, `{"AWS": [...]}`, `{"Service": ...}`).
pub(crate) fn principals(statement: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    fn push<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(a) => a.iter().for_each(|x| push(x, out)),
            Value::Object(o) => o.values().for_each(|x| push(x, out)),
            _ => {}
        }
    }
    if let Some(p) = statement.get("Principal") {
        push(p, &mut out);
    }
    out
}

/// The account id a principal names: `123456789012`, or an ARN in that account.
pub(crate) fn principal_account(p: &str) -> Option<&str> {
    let id = if p.starts_with("arn:") {
        p.split(':').nth(4)?
    } else {
        p
    };
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// Whether `account` is outside the organization as configured: neither the caller's account
/// nor one of the known accounts.
pub(crate) fn is_foreign_account(
    r: &CloudTrailRecord<'_>,
    settings: &Settings,
    account: &str,
) -> bool {
    Some(account) != r.account_id()
        && Some(account) != r.recipient_account_id.as_deref()
        && !settings.known_accounts.contains(account)
}

/// Whether any string in `v`, at any depth, satisfies `pred`.
pub(crate) fn any_string(v: &Value, pred: &dyn Fn(&str) -> bool) -> bool {
    match v {
        Value::String(s) => pred(s),
        Value::Array(a) => a.iter().any(|x| any_string(x, pred)),
        Value::Object(o) => o.values().any(|x| any_string(x, pred)),
        _ => false,
    }
}

/// Whether any value under a key in `keys`, at any depth, satisfies `pred`.
pub(crate) fn any_keyed(v: &Value, keys: &[&str], pred: &dyn Fn(&Value) -> bool) -> bool {
    match v {
        Value::Array(a) => a.iter().any(|x| any_keyed(x, keys, pred)),
        Value::Object(o) => o
            .iter()
            .any(|(k, x)| (keys.contains(&k.as_str()) && pred(x)) || any_keyed(x, keys, pred)),
        _ => false,
    }
}

pub(crate) const VALID_CLOUD_ACCOUNTS_PRIVESC: Attack = Attack {
    tactic_id: "TA0004",
    tactic: "Privilege Escalation",
    technique_id: "T1078.004",
    technique: "Valid Accounts: Cloud Accounts",
};
pub(crate) const VALID_CLOUD_ACCOUNTS_INITIAL: Attack = Attack {
    tactic_id: "TA0001",
    tactic: "Initial Access",
    technique_id: "T1078.004",
    technique: "Valid Accounts: Cloud Accounts",
};
pub(crate) const BRUTE_FORCE: Attack = Attack {
    tactic_id: "TA0006",
    tactic: "Credential Access",
    technique_id: "T1110",
    technique: "Brute Force",
};
pub(crate) const DISABLE_CLOUD_LOGS: Attack = Attack {
    tactic_id: "TA0005",
    tactic: "Defense Evasion",
    technique_id: "T1562.008",
    technique: "Impair Defenses: Disable or Modify Cloud Logs",
};
pub(crate) const DISABLE_TOOLS: Attack = Attack {
    tactic_id: "TA0005",
    tactic: "Defense Evasion",
    technique_id: "T1562.001",
    technique: "Impair Defenses: Disable or Modify Tools",
};
pub(crate) const ACCOUNT_MANIPULATION: Attack = Attack {
    tactic_id: "TA0003",
    tactic: "Persistence",
    technique_id: "T1098",
    technique: "Account Manipulation",
};
pub(crate) const ADDITIONAL_CLOUD_CREDENTIALS: Attack = Attack {
    tactic_id: "TA0003",
    tactic: "Persistence",
    technique_id: "T1098.001",
    technique: "Account Manipulation: Additional Cloud Credentials",
};
pub(crate) const ADDITIONAL_CLOUD_ROLES: Attack = Attack {
    tactic_id: "TA0004",
    tactic: "Privilege Escalation",
    technique_id: "T1098.003",
    technique: "Account Manipulation: Additional Cloud Roles",
};
pub(crate) const CLOUD_FIREWALL: Attack = Attack {
    tactic_id: "TA0005",
    tactic: "Defense Evasion",
    technique_id: "T1562.007",
    technique: "Impair Defenses: Disable or Modify Cloud Firewall",
};
pub(crate) const TRANSFER_TO_CLOUD_ACCOUNT: Attack = Attack {
    tactic_id: "TA0010",
    tactic: "Exfiltration",
    technique_id: "T1537",
    technique: "Transfer Data to Cloud Account",
};
pub(crate) const DATA_FROM_CLOUD_STORAGE: Attack = Attack {
    tactic_id: "TA0009",
    tactic: "Collection",
    technique_id: "T1530",
    technique: "Data from Cloud Storage",
};
pub(crate) const MODIFY_CLOUD_COMPUTE: Attack = Attack {
    tactic_id: "TA0005",
    tactic: "Defense Evasion",
    technique_id: "T1578",
    technique: "Modify Cloud Compute Infrastructure",
};
pub(crate) const DATA_DESTRUCTION: Attack = Attack {
    tactic_id: "TA0040",
    tactic: "Impact",
    technique_id: "T1485",
    technique: "Data Destruction",
};
pub(crate) const RESOURCE_HIJACKING: Attack = Attack {
    tactic_id: "TA0040",
    tactic: "Impact",
    technique_id: "T1496",
    technique: "Resource Hijacking",
};
pub(crate) const CLOUD_ADMIN_COMMAND: Attack = Attack {
    tactic_id: "TA0002",
    tactic: "Execution",
    technique_id: "T1651",
    technique: "Cloud Administration Command",
};
pub(crate) const REMOTE_SERVICES: Attack = Attack {
    tactic_id: "TA0008",
    tactic: "Lateral Movement",
    technique_id: "T1021",
    technique: "Remote Services",
};
pub(crate) const WEB_SESSION_COOKIE: Attack = Attack {
    tactic_id: "TA0008",
    tactic: "Lateral Movement",
    technique_id: "T1550.001",
    technique: "Use Alternate Authentication Material: Application Access Token",
};
pub(crate) const EVENT_TRIGGERED_EXECUTION: Attack = Attack {
    tactic_id: "TA0003",
    tactic: "Persistence",
    technique_id: "T1546",
    technique: "Event Triggered Execution",
};
pub(crate) const UNAUTHORIZED_DISCOVERY: Attack = Attack {
    tactic_id: "TA0007",
    tactic: "Discovery",
    technique_id: "T1580",
    technique: "Cloud Infrastructure Discovery",
};

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn every_rule_has_complete_metadata() {
        let mut ids = HashSet::new();
        for r in super::rules() {
            let m = &r.meta;
            assert!(ids.insert(m.id), "duplicate id {}", m.id);
            assert!(!m.title.is_empty() && !m.description.is_empty(), "{}", m.id);
            assert!(
                (1..=3).contains(&m.action_plan.len()),
                "{}: 1 to 3 steps",
                m.id
            );
            assert!(m.dedup_minutes > 0, "{}", m.id);
            assert!(!m.references.is_empty(), "{}", m.id);
            let prefix = m.id.split('.').next().unwrap_or("");
            assert!(
                [
                    "user",
                    "config",
                    "cred",
                    "discovery",
                    "exec",
                    "lateral",
                    "impact"
                ]
                .contains(&prefix),
                "{}",
                m.id
            );
        }
        assert!(ids.len() >= 38, "{} rules", ids.len());
    }
}

#[cfg(test)]
mod cost {
    use serde_json::json;

    use super::testing::{base, failed};
    use crate::detect::{Context, Settings};
    use crate::sources::cloudtrail::CloudTrailRecord;

    /// The calls no rule judges are the bulk of a trail (data events, reads, role sessions):
    /// their request, response and extra data are parsed on first use, and no rule may use
    /// them before it knows the call is one it judges, or every record pays three parses.
    #[test]
    fn no_rule_parses_what_a_call_it_does_not_judge_carries() {
        let quiet = [
            ("s3.amazonaws.com", "GetObject"),
            ("s3.amazonaws.com", "PutObject"),
            ("s3.amazonaws.com", "ListObjects"),
            ("ec2.amazonaws.com", "DescribeInstances"),
            ("sts.amazonaws.com", "GetCallerIdentity"),
            ("kms.amazonaws.com", "Decrypt"),
            ("dynamodb.amazonaws.com", "GetItem"),
            ("lambda.amazonaws.com", "Invoke"),
            ("iam.amazonaws.com", "GetUser"),
            ("rds.amazonaws.com", "DescribeDBInstances"),
            ("cloudtrail.amazonaws.com", "LookupEvents"),
            ("config.amazonaws.com", "DescribeConfigRules"),
        ];
        let settings = Settings::default();
        let cx = Context::of(&settings);
        let rules = super::rules();
        let mut parsing = std::collections::BTreeSet::new();
        for (source, name) in quiet {
            let mut ok = base(source, name);
            ok["requestParameters"] = json!({"bucketName": "b", "key": "k", "userName": "x"});
            ok["responseElements"] = json!({"x": 1});
            ok["additionalEventData"] = json!({"bytesTransferredIn": 0, "MFAUsed": "Yes"});
            for v in [ok.clone(), failed(ok, "AccessDenied")] {
                let text = v.to_string();
                for rule in &rules {
                    let r = CloudTrailRecord::parse(&text).expect("record");
                    rule.run(&r, &cx, &mut Vec::new());
                    if r.parsed_lazily() != [false; 3] {
                        parsing.insert(format!("{} on {source} {name}", rule.meta.id));
                    }
                }
            }
        }
        assert!(
            parsing.is_empty(),
            "these parse the request, response or extra data of a call they do not judge: \
             {parsing:#?}"
        );
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builders of records for the rules' tests.

    use serde_json::{json, Value};

    use crate::detect::{CloudTrailRule, Context, Hit, Settings};
    use crate::sources::cloudtrail::CloudTrailRecord;

    /// The rule `id`.
    pub fn rule(id: &str) -> CloudTrailRule {
        super::rules()
            .into_iter()
            .find(|r| r.meta.id == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
    }

    /// The verdict of rule `id` on the record `v`, with `settings`.
    pub fn verdict_with(id: &str, v: &Value, settings: &Settings) -> Option<Hit> {
        let text = v.to_string();
        let r = CloudTrailRecord::parse(&text).expect("record");
        rule(id).first(&r, &Context::of(settings))
    }

    /// The verdict with default settings.
    pub fn verdict(id: &str, v: &Value) -> Option<Hit> {
        verdict_with(id, v, &Settings::default())
    }

    /// Whether rule `id` fires on `v`.
    pub fn fires(id: &str, v: Value) -> bool {
        verdict(id, &v).is_some()
    }

    /// A successful call by IAM user alice of account 111122223333.
    pub fn base(source: &str, name: &str) -> Value {
        json!({
            "eventVersion": "1.08", "eventTime": "2026-11-01T10:00:00Z",
            "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.15.0",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                             "accountId": "111122223333", "userName": "alice", "principalId": "AIDAX"},
            "eventType": "AwsApiCall", "recipientAccountId": "111122223333"
        })
    }

    /// `v` with these request parameters.
    pub fn with_req(mut v: Value, req: Value) -> Value {
        v["requestParameters"] = req;
        v
    }

    /// `v` failed with `code`.
    pub fn failed(mut v: Value, code: &str) -> Value {
        v["errorCode"] = json!(code);
        v["errorMessage"] = json!("failed");
        v
    }

    /// `v` made by the root user.
    pub fn root(mut v: Value) -> Value {
        v["userIdentity"] = json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root",
                                   "accountId": "111122223333", "principalId": "111122223333"});
        v
    }

    /// `v` made by a role session (not a person's).
    pub fn role_session(mut v: Value, role: &str, session: &str) -> Value {
        v["userIdentity"] = json!({"type": "AssumedRole",
            "arn": format!("arn:aws:sts::111122223333:assumed-role/{role}/{session}"),
            "accountId": "111122223333", "principalId": format!("AROAX:{session}"),
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": role,
                "arn": format!("arn:aws:iam::111122223333:role/{role}"), "accountId": "111122223333"}}});
        v
    }
}
