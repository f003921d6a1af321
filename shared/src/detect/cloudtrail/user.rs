//! Suspicious user activity: root use, console sign-ins, denied calls, session tokens.

use serde_json::Value;

use super::*;
use crate::detect::{Category, Check, CloudTrail, Context, Hit, RuleKind, RuleMeta, Severity};

/// The single-event rules of the "Suspicious user activity" dashboard.
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
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::One(root_activity),
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
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::One(root_login),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.root-access-key-created",
            title: "Access key created for the root user",
            description: "The root user created an access key for itself: long-lived credentials with every permission in the account.",
            severity: Severity::Critical,
            category: Category::UserActivity,
            entity: EntityKind::Account,
            attack: Some(ADDITIONAL_CLOUD_CREDENTIALS),
            dedup_minutes: 60,
            action_plan: &[
                "Delete the new root access key now (IAM console, Security credentials of the root user).",
                "Reset the root password and MFA: whoever created the key had the root password.",
                "Search CloudTrail for calls made with the key id in responseElements.accessKey.accessKeyId.",
            ],
            references: &["Panther AWS.CloudTrail.RootAccessKeyCreated", "CIS AWS Foundations IAM.4"],
        },
        kind: RuleKind::Single,
        sources: &["iam.amazonaws.com"],
        check: Check::<CloudTrail>::One(root_access_key_created),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.root-password-changed",
            title: "Root password changed",
            description: "The root user's password was changed.",
            severity: Severity::High,
            category: Category::UserActivity,
            entity: EntityKind::Account,
            attack: Some(ACCOUNT_MANIPULATION),
            dedup_minutes: 60,
            action_plan: &[
                "Confirm with the holder of the root credentials that they changed the password from this IP.",
                "If not, recover the account through AWS Support's root password recovery and re-register MFA.",
            ],
            references: &["Panther AWS.CloudTrail.RootPasswordChanged"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::One(root_password_changed),
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
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::One(console_login_no_mfa),
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
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::One(console_login_failed),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.unauthorized-api-call",
            title: "Unauthorized API call",
            description: "A call was denied for lack of permission. One is usually a mistake; many are reconnaissance or a stolen credential probing what it can do.",
            severity: Severity::Info,
            category: Category::UserActivity,
            entity: EntityKind::Principal,
            attack: Some(UNAUTHORIZED_DISCOVERY),
            dedup_minutes: 60,
            action_plan: &[
                "Look at what else the principal was denied in the same hour: many services or many calls point to probing with stolen credentials.",
                "If the calls are expected, grant the missing permission deliberately; if not, rotate the principal's credentials.",
            ],
            references: &["CIS AWS Foundations CloudWatch.2", "Panther AWS.CloudTrail.UnauthorizedAPICall"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::One(unauthorized_api_call),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.get-signin-token",
            title: "Console sign-in token requested outside the SSO portal",
            description: "GetSigninToken turns temporary credentials into a console session; outside the AWS SSO portal it is how stolen keys are turned into console access.",
            severity: Severity::Medium,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: Some(WEB_SESSION_COOKIE),
            dedup_minutes: 60,
            action_plan: &[
                "Find the credentials the token was made from (the session's access key) and where they were issued.",
                "If no one in your team uses a console federation tool from this IP, revoke the role's sessions (revoke older sessions) and rotate the source keys.",
            ],
            references: &["Panther AWS.Console.GetSigninToken.Abuse", "Sigma aws_console_getsignintoken"],
        },
        kind: RuleKind::Single,
        sources: &["signin.amazonaws.com"],
        check: Check::<CloudTrail>::One(get_signin_token),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.federation-token",
            title: "Federation token requested by an IAM user",
            description: "An IAM user called sts:GetFederationToken: temporary credentials that survive deleting the user's access key, a known persistence trick.",
            severity: Severity::Low,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: Some(ADDITIONAL_CLOUD_CREDENTIALS),
            dedup_minutes: 60,
            action_plan: &[
                "Check whether the user runs a federation broker that needs this call; if not, treat the user's access key as compromised.",
                "Deny sts:GetFederationToken to users who do not need it; sessions already issued last until they expire (up to 36 hours).",
            ],
            references: &["Stratus Red Team aws.persistence.sts-federation-token"],
        },
        kind: RuleKind::Single,
        sources: &["sts.amazonaws.com"],
        check: Check::<CloudTrail>::One(federation_token),
    },
];

fn root_activity(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    let by_root = r.identity_type() == Some("Root")
        && r.user_identity.invoked_by.is_none()
        && r.event_type.as_deref() != Some("AwsServiceEvent");
    by_root.then(|| Hit {
        discriminator: r.source_ip_address.as_deref().map(str::to_owned),
        ..Hit::default()
    })
}

fn root_login(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    (r.identity_type() == Some("Root") && r.console_login_outcome() == Some(true))
        .then(Hit::default)
}

// The request and response are parsed on first use: the rules read them only once the call is
// the one they judge, so a record no rule names costs no parse beyond its floor.

fn root_access_key_created(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    (call_in(r, "iam.amazonaws.com", &["CreateAccessKey"])
        && r.identity_type() == Some("Root")
        && r.is_success()
        && r.request().get("userName").is_none_or(Value::is_null))
    .then(Hit::default)
}

fn root_password_changed(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    (r.event_name == "PasswordUpdated"
        && r.identity_type() == Some("Root")
        && r.is_success()
        && r.response()
            .get("PasswordUpdated")
            .and_then(Value::as_str)
            .is_none_or(|v| v == "Success"))
    .then(Hit::default)
}

fn console_login_no_mfa(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if r.console_login_outcome() != Some(true) || r.identity_type() != Some("IAMUser") {
        return None;
    }
    let extra = r.additional();
    let mfa_used = extra.get("MFAUsed").and_then(Value::as_str) == Some("Yes");
    let saml = extra.get("SamlProviderArn").is_some_and(|v| !v.is_null());
    let sso = r.arn().is_some_and(|a| a.contains("AWSReservedSSO"));
    (!mfa_used && !saml && !sso).then(Hit::default)
}

fn console_login_failed(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    (r.console_login_outcome() == Some(false)).then(Hit::default)
}

fn unauthorized_api_call(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    // Log delivery services probe bucket permissions as a matter of course.
    let noise = r.source_ip_address.as_deref() == Some("delivery.logs.amazonaws.com")
        || r.event_name == "HeadBucket";
    (r.is_denied() && !noise).then(Hit::default)
}

fn get_signin_token(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    // The AWS SSO portal's own calls carry this unexpanded Maven placeholder as user agent.
    const SSO_PORTAL_AGENT: &str = "Jersey/${project.version}";
    (call_in(r, "signin.amazonaws.com", &["GetSigninToken"])
        && r.user_agent.as_deref() != Some(SSO_PORTAL_AGENT))
    .then(Hit::default)
}

fn federation_token(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    (call_in(r, "sts.amazonaws.com", &["GetFederationToken"])
        && r.identity_type() == Some("IAMUser"))
    .then(Hit::default)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::testing::*;
    use crate::detect::{cloudtrail_entity, EntityKind};
    use crate::sources::cloudtrail::CloudTrailRecord;

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
        let v = verdict(
            "user.root-activity",
            &root(base("s3.amazonaws.com", "ListBuckets")),
        )
        .unwrap();
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
    fn root_access_key_only_for_root_itself_and_on_success() {
        let call = base("iam.amazonaws.com", "CreateAccessKey");
        assert!(fires("user.root-access-key-created", root(call.clone())));
        assert!(!fires(
            "user.root-access-key-created",
            root(with_req(call.clone(), json!({"userName": "bob"})))
        ));
        assert!(!fires("user.root-access-key-created", call.clone()));
        assert!(!fires(
            "user.root-access-key-created",
            failed(root(call), "LimitExceeded")
        ));
    }

    #[test]
    fn root_password_changed_needs_root_and_success() {
        let mut v = root(base("signin.amazonaws.com", "PasswordUpdated"));
        v["responseElements"] = json!({"PasswordUpdated": "Success"});
        assert!(fires("user.root-password-changed", v.clone()));
        v["responseElements"] = json!({"PasswordUpdated": "Failure"});
        assert!(!fires("user.root-password-changed", v));
        assert!(!fires(
            "user.root-password-changed",
            base("signin.amazonaws.com", "PasswordUpdated")
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
        assert_eq!(cloudtrail_entity(EntityKind::User, &r).id, "203.0.113.10");
    }

    #[test]
    fn unauthorized_api_call_variants_and_noise() {
        let call = base("ec2.amazonaws.com", "DescribeInstances");
        assert!(fires(
            "user.unauthorized-api-call",
            failed(call.clone(), "Client.UnauthorizedOperation")
        ));
        assert!(fires(
            "user.unauthorized-api-call",
            failed(call.clone(), "AccessDeniedException")
        ));
        assert!(!fires(
            "user.unauthorized-api-call",
            failed(call.clone(), "ThrottlingException")
        ));
        assert!(!fires("user.unauthorized-api-call", call.clone()));
        assert!(!fires(
            "user.unauthorized-api-call",
            failed(base("s3.amazonaws.com", "HeadBucket"), "AccessDenied")
        ));
        let mut delivery = failed(call, "AccessDenied");
        delivery["sourceIPAddress"] = json!("delivery.logs.amazonaws.com");
        assert!(!fires("user.unauthorized-api-call", delivery));
    }

    #[test]
    fn get_signin_token_except_the_sso_portal() {
        let mut v = role_session(base("signin.amazonaws.com", "GetSigninToken"), "Admin", "x");
        v["userAgent"] = json!("python-requests/2.31.0");
        assert!(fires("user.get-signin-token", v.clone()));
        v["userAgent"] = json!("Jersey/${project.version}");
        assert!(!fires("user.get-signin-token", v));
        assert!(!fires(
            "user.get-signin-token",
            base("signin.amazonaws.com", "ConsoleLogin")
        ));
    }

    #[test]
    fn federation_token_by_iam_users_only() {
        let v = base("sts.amazonaws.com", "GetFederationToken");
        assert!(fires("user.federation-token", v.clone()));
        assert!(!fires(
            "user.federation-token",
            role_session(v, "Broker", "b")
        ));
        assert!(!fires(
            "user.federation-token",
            base("sts.amazonaws.com", "GetSessionToken")
        ));
    }
}
