//! Single-event CloudTrail rules (DETECTIONS.md). Each rule is one entry of [`RULES`] and one
//! matcher below it, written to read like the catalogue's logic column.

use serde_json::Value;

use super::{Attack, Category, CloudTrailRule, Entity, EntityKind, RuleMeta, Severity, Verdict};
use crate::sources::cloudtrail::CloudTrailRecord;

const VALID_CLOUD_ACCOUNTS_PRIVESC: Attack = Attack {
    tactic_id: "TA0004",
    tactic: "Privilege Escalation",
    technique_id: "T1078.004",
    technique: "Valid Accounts: Cloud Accounts",
};
const VALID_CLOUD_ACCOUNTS_INITIAL: Attack = Attack {
    tactic_id: "TA0001",
    tactic: "Initial Access",
    technique_id: "T1078.004",
    technique: "Valid Accounts: Cloud Accounts",
};
const BRUTE_FORCE: Attack = Attack {
    tactic_id: "TA0006",
    tactic: "Credential Access",
    technique_id: "T1110",
    technique: "Brute Force",
};
const DISABLE_CLOUD_LOGS: Attack = Attack {
    tactic_id: "TA0005",
    tactic: "Defense Evasion",
    technique_id: "T1562.008",
    technique: "Impair Defenses: Disable or Modify Cloud Logs",
};
const ACCOUNT_MANIPULATION: Attack = Attack {
    tactic_id: "TA0003",
    tactic: "Persistence",
    technique_id: "T1098",
    technique: "Account Manipulation",
};
const ADDITIONAL_CLOUD_CREDENTIALS: Attack = Attack {
    tactic_id: "TA0003",
    tactic: "Persistence",
    technique_id: "T1098.001",
    technique: "Account Manipulation: Additional Cloud Credentials",
};

/// Every single-event CloudTrail rule.
pub static RULES: &[CloudTrailRule] = &[
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.root-activity",
            title: "Root user activity",
            description: "The root user made an API call itself (not a service on its behalf). Root should be used only for the few tasks that require it.",
            severity: Severity::High,
            category: Category::UserActivity,
            entity: EntityKind::Account,
            attack: Some(VALID_CLOUD_ACCOUNTS_PRIVESC),
            dedup_minutes: 60,
            action_plan: &[
                "Confirm with the account owner that root was used on purpose, and for which task; if not, reset the root password and MFA at once.",
                "Review every call of this root session (source IP, user agent) in CloudTrail for changes to IAM, billing or logging.",
                "Delete any root access keys and enforce an SCP that denies root actions in member accounts.",
            ],
            references: &["CIS AWS Foundations CloudWatch.1", "Panther AWS.Root.Activity"],
        },
        matcher: root_activity,
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.root-login",
            title: "Root user console login",
            description: "Someone signed in to the console as the root user.",
            severity: Severity::High,
            category: Category::UserActivity,
            entity: EntityKind::Account,
            attack: Some(VALID_CLOUD_ACCOUNTS_INITIAL),
            dedup_minutes: 60,
            action_plan: &[
                "Confirm with the holder of the root credentials that this login from the source IP was theirs.",
                "If it was not: reset the root password, re-register its MFA device, and review the session's calls.",
                "Check that root has MFA and no access keys (IAM credential report).",
            ],
            references: &["Panther AWS.Console.RootLogin"],
        },
        matcher: root_login,
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.console-login-no-mfa",
            title: "Console login without MFA",
            description: "An IAM user signed in to the console without multi-factor authentication (SAML and IAM Identity Center logins excluded).",
            severity: Severity::High,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: Some(VALID_CLOUD_ACCOUNTS_INITIAL),
            dedup_minutes: 60,
            action_plan: &[
                "Ask the user whether the login from this IP was theirs; if not, disable the login profile and rotate the user's keys.",
                "Require MFA for the user (assign a device) and deny console actions without MFA by policy.",
            ],
            references: &["CIS AWS Foundations CloudWatch.3", "Panther AWS.Console.LoginWithoutMFA"],
        },
        matcher: console_login_no_mfa,
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.console-login-failed",
            title: "Failed console login",
            description: "A console sign-in failed (wrong password, unknown user).",
            severity: Severity::Low,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: Some(BRUTE_FORCE),
            dedup_minutes: 60,
            action_plan: &[
                "Check whether the user mistyped their password (one or two failures) or someone is guessing (many, or from an unknown IP).",
                "For repeated failures from an unknown IP, block it at the network edge and make sure the user has MFA.",
            ],
            references: &["CIS AWS Foundations CloudWatch.6", "Sigma aws_console_login_failure"],
        },
        matcher: console_login_failed,
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.cloudtrail-stopped",
            title: "CloudTrail logging stopped or weakened",
            description: "A trail was stopped or deleted, or its event selectors stopped recording management events; denied attempts count too.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(DISABLE_CLOUD_LOGS),
            dedup_minutes: 60,
            action_plan: &[
                "Restart logging on the trail (StartLogging) or restore its event selectors now; events are not recorded meanwhile.",
                "Find out who the principal is and why it touched the trail; if unexpected, revoke its sessions and keys.",
                "Protect trails with an SCP denying StopLogging, DeleteTrail and PutEventSelectors outside a break-glass role.",
            ],
            references: &["Panther AWS.CloudTrail.Stopped", "Panther AWS.CloudTrail.EventSelectorsDisabled"],
        },
        matcher: cloudtrail_stopped,
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.iam-policy-change",
            title: "IAM policy changed",
            description: "An IAM policy was created, changed, deleted, attached or detached.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Principal,
            attack: Some(ACCOUNT_MANIPULATION),
            dedup_minutes: 60,
            action_plan: &[
                "Check that the change came from your infrastructure-as-code pipeline or an approved change; otherwise revert it.",
                "Read the new policy document for wildcards (Action \"*\", Resource \"*\") and privilege-escalation actions (iam:PassRole, iam:Put*Policy).",
            ],
            references: &["CIS AWS Foundations CloudWatch.4", "Panther AWS.IAM.PolicyModified"],
        },
        matcher: iam_policy_change,
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.lambda-persistence",
            title: "Lambda function creating access",
            description: "Code running in a Lambda function created access keys, opened a security group, or changed a role's trust policy: a known way to keep access.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Principal,
            attack: Some(ADDITIONAL_CLOUD_CREDENTIALS),
            dedup_minutes: 60,
            action_plan: &[
                "Identify the function from the role session name and read its code and recent UpdateFunctionCode events.",
                "Revert what it created: delete the access key, revoke the ingress rule, restore the trust policy.",
                "Remove iam:CreateAccessKey, ec2:AuthorizeSecurityGroupIngress and iam:UpdateAssumeRolePolicy from the function's role.",
            ],
            references: &["Sumo Logic CIS for AWS: maintaining access"],
        },
        matcher: lambda_persistence,
    },
];

/// `eventSource` is `service` and `eventName` is one of `names`.
fn call_in(r: &CloudTrailRecord<'_>, service: &str, names: &[&str]) -> bool {
    r.event_source == service && names.contains(&&*r.event_name)
}

fn root_activity(r: &CloudTrailRecord<'_>) -> Option<Verdict> {
    let by_root = r.identity_type() == Some("Root")
        && r.user_identity.invoked_by.is_none()
        && r.event_type.as_deref() != Some("AwsServiceEvent");
    by_root.then(|| Verdict {
        discriminator: r.source_ip_address.as_deref().map(str::to_owned),
        ..Verdict::default()
    })
}

fn root_login(r: &CloudTrailRecord<'_>) -> Option<Verdict> {
    (r.identity_type() == Some("Root") && r.console_login_outcome() == Some(true))
        .then(Verdict::default)
}

fn console_login_no_mfa(r: &CloudTrailRecord<'_>) -> Option<Verdict> {
    if r.console_login_outcome() != Some(true) || r.identity_type() != Some("IAMUser") {
        return None;
    }
    let extra = r.additional();
    let mfa_used = extra.get("MFAUsed").and_then(Value::as_str) == Some("Yes");
    let saml = extra.get("SamlProviderArn").is_some_and(|v| !v.is_null());
    let sso = r.arn().is_some_and(|a| a.contains("AWSReservedSSO"));
    (!mfa_used && !saml && !sso).then(Verdict::default)
}

fn console_login_failed(r: &CloudTrailRecord<'_>) -> Option<Verdict> {
    (r.console_login_outcome() == Some(false)).then(Verdict::default)
}

fn cloudtrail_stopped(r: &CloudTrailRecord<'_>) -> Option<Verdict> {
    // A denied attempt counts; a call that failed otherwise (no such trail) stopped nothing.
    if r.event_source != "cloudtrail.amazonaws.com" || !(r.is_success() || r.is_denied()) {
        return None;
    }
    let fires = match &*r.event_name {
        "StopLogging" | "DeleteTrail" => true,
        "PutEventSelectors" => r
            .request()
            .get("eventSelectors")
            .and_then(Value::as_array)
            .is_some_and(|selectors| {
                selectors
                    .iter()
                    .any(|s| s.get("includeManagementEvents") == Some(&Value::Bool(false)))
            }),
        _ => false,
    };
    if !fires {
        return None;
    }
    let trail = r
        .request()
        .get("name")
        .or_else(|| r.request().get("trailName"))
        .and_then(Value::as_str);
    Some(Verdict {
        entity: trail.map(|t| Entity {
            kind: EntityKind::Resource,
            id: t.to_owned(),
        }),
        ..Verdict::default()
    })
}

const IAM_POLICY_CHANGES: &[&str] = &[
    "DeleteGroupPolicy",
    "DeleteRolePolicy",
    "DeleteUserPolicy",
    "PutGroupPolicy",
    "PutRolePolicy",
    "PutUserPolicy",
    "CreatePolicy",
    "DeletePolicy",
    "CreatePolicyVersion",
    "DeletePolicyVersion",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
];

fn iam_policy_change(r: &CloudTrailRecord<'_>) -> Option<Verdict> {
    (r.is_success() && call_in(r, "iam.amazonaws.com", IAM_POLICY_CHANGES)).then(Verdict::default)
}

fn lambda_persistence(r: &CloudTrailRecord<'_>) -> Option<Verdict> {
    let persistence_call = call_in(
        r,
        "iam.amazonaws.com",
        &["CreateAccessKey", "UpdateAssumeRolePolicy"],
    ) || call_in(r, "ec2.amazonaws.com", &["AuthorizeSecurityGroupIngress"]);
    if !persistence_call || !r.is_success() {
        return None;
    }
    let invoked_by_lambda = r.user_identity.invoked_by.as_deref() == Some("lambda.amazonaws.com");
    // The SDKs put the runtime's AWS_EXECUTION_ENV (AWS_Lambda_<runtime>) in the user agent: the
    // call was made by code running in a function, with its execution role.
    let from_function = r.identity_type() == Some("AssumedRole")
        && r.user_agent
            .as_deref()
            .is_some_and(|ua| ua.contains("AWS_Lambda_"));
    (invoked_by_lambda || from_function).then(Verdict::default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(id: &str) -> &'static CloudTrailRule {
        RULES.iter().find(|r| r.meta.id == id).unwrap()
    }

    /// GIVEN a record built from `v`, WHEN rule `id` runs, THEN it fires or not.
    fn fires(id: &str, v: Value) -> bool {
        let text = v.to_string();
        let r = CloudTrailRecord::parse(&text).unwrap();
        (rule(id).matcher)(&r).is_some()
    }

    fn base(source: &str, name: &str) -> Value {
        json!({
            "eventVersion": "1.08", "eventTime": "2026-11-01T10:00:00Z",
            "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.15.0",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                             "accountId": "111122223333", "userName": "alice", "principalId": "AIDAX"},
            "eventType": "AwsApiCall", "recipientAccountId": "111122223333"
        })
    }

    fn root(mut v: Value) -> Value {
        v["userIdentity"] = json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root",
                                   "accountId": "111122223333", "principalId": "111122223333"});
        v
    }

    fn login(success: bool, extra: Value) -> Value {
        let mut v = base("signin.amazonaws.com", "ConsoleLogin");
        v["eventType"] = json!("AwsConsoleSignIn");
        v["responseElements"] =
            json!({"ConsoleLogin": if success { "Success" } else { "Failure" }});
        if !success {
            v["errorMessage"] = json!("Failed authentication");
        }
        v["additionalEventData"] = extra;
        v
    }

    #[test]
    fn root_activity_fires_for_root_calls_only() {
        assert!(fires(
            "user.root-activity",
            root(base("s3.amazonaws.com", "ListBuckets"))
        ));
        assert!(!fires(
            "user.root-activity",
            base("s3.amazonaws.com", "ListBuckets")
        ));
        let mut by_service = root(base("s3.amazonaws.com", "ListBuckets"));
        by_service["userIdentity"]["invokedBy"] = json!("support.amazonaws.com");
        assert!(!fires("user.root-activity", by_service));
        let mut service_event = root(base("s3.amazonaws.com", "ListBuckets"));
        service_event["eventType"] = json!("AwsServiceEvent");
        assert!(!fires("user.root-activity", service_event));
    }

    #[test]
    fn root_activity_is_grouped_per_source_ip() {
        let text = root(base("s3.amazonaws.com", "ListBuckets")).to_string();
        let r = CloudTrailRecord::parse(&text).unwrap();
        let v = (rule("user.root-activity").matcher)(&r).unwrap();
        assert_eq!(v.discriminator.as_deref(), Some("203.0.113.10"));
    }

    #[test]
    fn root_login_needs_success() {
        assert!(fires(
            "user.root-login",
            root(login(true, json!({"MFAUsed": "Yes"})))
        ));
        assert!(!fires(
            "user.root-login",
            root(login(false, json!({"MFAUsed": "Yes"})))
        ));
        assert!(!fires(
            "user.root-login",
            login(true, json!({"MFAUsed": "Yes"}))
        ));
    }

    #[test]
    fn console_login_no_mfa_excludes_mfa_saml_sso_and_failures() {
        assert!(fires(
            "user.console-login-no-mfa",
            login(true, json!({"MFAUsed": "No"}))
        ));
        assert!(fires("user.console-login-no-mfa", login(true, json!({}))));
        assert!(!fires(
            "user.console-login-no-mfa",
            login(true, json!({"MFAUsed": "Yes"}))
        ));
        assert!(!fires(
            "user.console-login-no-mfa",
            login(false, json!({"MFAUsed": "No"}))
        ));
        assert!(!fires(
            "user.console-login-no-mfa",
            login(
                true,
                json!({"MFAUsed": "No", "SamlProviderArn": "arn:aws:iam::111122223333:saml-provider/Okta"})
            )
        ));
        let mut sso = login(true, json!({"MFAUsed": "No"}));
        sso["userIdentity"]["arn"] =
            json!("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice");
        assert!(!fires("user.console-login-no-mfa", sso.clone()));
        sso["userIdentity"]["type"] = json!("AssumedRole");
        assert!(!fires("user.console-login-no-mfa", sso));
        assert!(!fires(
            "user.console-login-no-mfa",
            root(login(true, json!({"MFAUsed": "No"})))
        ));
    }

    #[test]
    fn console_login_failed_reads_outcome_or_error_message() {
        assert!(fires("user.console-login-failed", login(false, json!({}))));
        assert!(!fires("user.console-login-failed", login(true, json!({}))));
        let mut msg_only = base("signin.amazonaws.com", "ConsoleLogin");
        msg_only["errorMessage"] = json!("Failed authentication");
        assert!(fires("user.console-login-failed", msg_only));
        assert!(!fires(
            "user.console-login-failed",
            base("signin.amazonaws.com", "CheckMfa")
        ));
    }

    #[test]
    fn console_login_failed_with_hidden_user_is_about_the_ip() {
        let mut v = login(false, json!({}));
        v["userIdentity"]["userName"] = json!("HIDDEN_DUE_TO_SECURITY_REASONS");
        let text = v.to_string();
        let r = CloudTrailRecord::parse(&text).unwrap();
        let e = crate::detect::cloudtrail_entity(EntityKind::User, &r);
        assert_eq!(e.id, "203.0.113.10");
    }

    #[test]
    fn cloudtrail_stopped_covers_stop_delete_selectors_and_denied_attempts() {
        let mut stop = base("cloudtrail.amazonaws.com", "StopLogging");
        stop["requestParameters"] = json!({"name": "org-trail"});
        assert!(fires("config.cloudtrail-stopped", stop.clone()));
        stop["errorCode"] = json!("AccessDenied");
        assert!(
            fires("config.cloudtrail-stopped", stop),
            "a denied attempt must fire too"
        );
        assert!(fires(
            "config.cloudtrail-stopped",
            base("cloudtrail.amazonaws.com", "DeleteTrail")
        ));
        assert!(!fires(
            "config.cloudtrail-stopped",
            base("cloudtrail.amazonaws.com", "StartLogging")
        ));
        let mut sel = base("cloudtrail.amazonaws.com", "PutEventSelectors");
        sel["requestParameters"] = json!({"trailName": "t", "eventSelectors": [
            {"readWriteType": "All", "includeManagementEvents": true},
            {"readWriteType": "All", "includeManagementEvents": false}]});
        assert!(fires("config.cloudtrail-stopped", sel));
        let mut sel_ok = base("cloudtrail.amazonaws.com", "PutEventSelectors");
        sel_ok["requestParameters"] =
            json!({"eventSelectors": [{"includeManagementEvents": true}]});
        assert!(!fires("config.cloudtrail-stopped", sel_ok));
        assert!(!fires(
            "config.cloudtrail-stopped",
            base("s3.amazonaws.com", "StopLogging")
        ));
    }

    #[test]
    fn iam_policy_change_success_only_and_iam_only() {
        assert!(fires(
            "config.iam-policy-change",
            base("iam.amazonaws.com", "AttachUserPolicy")
        ));
        assert!(fires(
            "config.iam-policy-change",
            base("iam.amazonaws.com", "CreatePolicyVersion")
        ));
        let mut denied = base("iam.amazonaws.com", "PutRolePolicy");
        denied["errorCode"] = json!("AccessDenied");
        assert!(!fires("config.iam-policy-change", denied));
        assert!(!fires(
            "config.iam-policy-change",
            base("organizations.amazonaws.com", "CreatePolicy")
        ));
        assert!(!fires(
            "config.iam-policy-change",
            base("iam.amazonaws.com", "GetPolicy")
        ));
    }

    #[test]
    fn lambda_persistence_needs_a_function_caller() {
        let mut from_fn = base("iam.amazonaws.com", "CreateAccessKey");
        from_fn["userIdentity"]["type"] = json!("AssumedRole");
        from_fn["userAgent"] = json!(
            "Boto3/1.34.0 Python/3.12.0 Linux/5.10 exec-env/AWS_Lambda_python3.12 Botocore/1.34.0"
        );
        assert!(fires("config.lambda-persistence", from_fn.clone()));
        let mut invoked = base("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress");
        invoked["userIdentity"]["invokedBy"] = json!("lambda.amazonaws.com");
        assert!(fires("config.lambda-persistence", invoked));
        assert!(!fires(
            "config.lambda-persistence",
            base("iam.amazonaws.com", "CreateAccessKey")
        ));
        let mut other_call = from_fn.clone();
        other_call["eventName"] = json!("ListUsers");
        assert!(!fires("config.lambda-persistence", other_call));
        let mut failed = from_fn;
        failed["errorCode"] = json!("AccessDenied");
        assert!(!fires("config.lambda-persistence", failed));
    }

    #[test]
    fn every_rule_has_complete_metadata() {
        let mut ids = std::collections::HashSet::new();
        for r in RULES {
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
        }
    }
}
