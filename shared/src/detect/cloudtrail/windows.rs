//! Windowed and anomaly CloudTrail rules (DETECTIONS.md, kinds `window` and `anomaly`): what
//! each record adds to a per-entity counter, and the thresholds. The counting itself, exactly
//! once across inputs, is the state store's ([`crate::state`]).

use serde_json::Value;

use super::*;
use crate::detect::{
    Category, Check, CloudTrail, CloudTrailRule, Context, Hit, RuleKind, RuleMeta, Severity,
};

pub(crate) const fn window(minutes: u32, min_count: u64, min_distinct: [u64; 2]) -> RuleKind {
    RuleKind::Window {
        window_minutes: minutes,
        min_count,
        min_distinct,
    }
}

/// The seed's anomaly: 3-hour slices, z over the previous 10 non-empty slices.
pub(crate) const fn three_hour_anomaly(min_count: u64) -> RuleKind {
    RuleKind::Anomaly {
        slice_minutes: 180,
        min_count,
        z: 3.0,
        z_raise: 6.0,
        history: 10,
    }
}

/// Every windowed and anomaly CloudTrail rule.
pub static RULES: &[CloudTrailRule] = &[
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.console-login-burst",
            title: "Burst of failed console logins",
            description: "Ten or more failed console logins in an hour for one user, or from one source IP: password guessing.",
            severity: Severity::Medium,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: Some(BRUTE_FORCE),
            dedup_minutes: 60,
            action_plan: &[
                "Block the source IP at the edge if it is not yours, and check that the targeted users have MFA.",
                "Look for a successful login of the same users or from the same IP right after the burst.",
            ],
            references: &["Panther Standard.BruteForceByUser", "Panther Standard.BruteForceByIP"],
        },
        kind: window(60, 10, [0, 0]),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::Each(console_login_burst),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.root-login-failed-burst",
            title: "Repeated failed root logins",
            description: "Five or more failed console logins as root in 15 minutes.",
            severity: Severity::High,
            category: Category::UserActivity,
            entity: EntityKind::Account,
            attack: Some(BRUTE_FORCE),
            dedup_minutes: 15,
            action_plan: &[
                "Make sure root has a strong password and MFA; nobody should be trying to sign in as root.",
                "Block the source IPs and watch for a successful root login.",
            ],
            references: &["Panther AWS.Console.RootLoginFailed"],
        },
        kind: window(15, 5, [0, 0]),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::Each(root_login_failed),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.password-spraying",
            title: "Password spraying",
            description: "More than ten failed console logins over more than five user names in one account and region within an hour: one password tried on many users.",
            severity: Severity::Medium,
            category: Category::UserActivity,
            entity: EntityKind::Account,
            attack: Some(BRUTE_FORCE),
            dedup_minutes: 60,
            action_plan: &[
                "List the targeted user names and source IPs; block the IPs and require MFA for every console user.",
                "Check for a successful login of any targeted user afterwards.",
            ],
            references: &["Panther AWS.CloudTrail.PasswordSpraying"],
        },
        kind: window(60, 11, [6, 0]),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::Each(password_spraying),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.mfa-failed",
            title: "Repeated failed MFA",
            description: "Two or more console logins failed at the MFA step in 15 minutes: someone has the user's password.",
            severity: Severity::High,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: Some(BRUTE_FORCE),
            dedup_minutes: 15,
            action_plan: &[
                "Reset the user's password now: the first factor is known to someone.",
                "Ask the user whether they were signing in; check the source IPs.",
            ],
            references: &["Panther AWS.Unsuccessful.MFA.attempt"],
        },
        kind: window(15, 2, [0, 0]),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::Each(mfa_failed),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.access-denied-burst",
            title: "Burst of denied calls across services",
            description: "More than five denied calls in an hour by one principal, to more than one API of more than one service: probing what stolen credentials can do.",
            severity: Severity::Medium,
            category: Category::UserActivity,
            entity: EntityKind::Principal,
            attack: Some(UNAUTHORIZED_DISCOVERY),
            dedup_minutes: 60,
            action_plan: &[
                "Review the denied calls: enumeration across services from one principal is rarely a misconfiguration.",
                "If the principal's owner did not do this, deactivate its keys or revoke its sessions.",
            ],
            references: &["Sumo Logic CIS for AWS: Expel access denied query"],
        },
        kind: window(60, 6, [2, 2]),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::Each(access_denied_burst),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.recon-access-denied",
            title: "Reconnaissance denied",
            description: "Fifteen or more denied List, Describe or Get calls on DynamoDB, EC2, IAM, S3 or RDS in ten minutes by one principal.",
            severity: Severity::Medium,
            category: Category::UserActivity,
            entity: EntityKind::Principal,
            attack: Some(UNAUTHORIZED_DISCOVERY),
            dedup_minutes: 10,
            action_plan: &[
                "Find where the principal's credentials are used from (source IPs, user agents) and whether that is expected.",
                "Rotate the credentials if the enumeration is not from a known tool.",
            ],
            references: &["Panther AWS.IAMUser.ReconAccessDenied"],
        },
        kind: window(10, 15, [0, 0]),
        sources: &["dynamodb.amazonaws.com", "ec2.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com", "rds.amazonaws.com"],
        check: Check::<CloudTrail>::Each(recon_access_denied),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "cred.secrets-bulk-read",
            title: "Bulk read of secrets",
            description: "Ten or more distinct secrets read in ten minutes by one principal, or any BatchGetSecretValue.",
            severity: Severity::Medium,
            category: Category::CredentialAccess,
            entity: EntityKind::Principal,
            attack: Some(Attack {
                tactic_id: "TA0006",
                tactic: "Credential Access",
                technique_id: "T1555.006",
                technique: "Credentials from Password Stores: Cloud Secrets Management Stores",
            }),
            dedup_minutes: 10,
            action_plan: &[
                "Check whether the principal is an application that reads these secrets at start-up; if not, rotate every secret it read.",
                "Restrict secretsmanager:GetSecretValue to the secrets each principal needs.",
            ],
            references: &["Panther AWS.SecretsManager.RetrieveSecrets", "Panther AWS.SecretsManager.BatchRetrieveSecrets"],
        },
        kind: window(10, 1, [10, 0]),
        sources: &["secretsmanager.amazonaws.com"],
        check: Check::<CloudTrail>::Each(secrets_bulk_read),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "cred.ssm-secure-parameters-read",
            title: "Bulk read of secure parameters",
            description: "Ten or more distinct SSM parameters read with decryption in ten minutes by one principal.",
            severity: Severity::Medium,
            category: Category::CredentialAccess,
            entity: EntityKind::Principal,
            attack: Some(Attack {
                tactic_id: "TA0006",
                tactic: "Credential Access",
                technique_id: "T1552",
                technique: "Unsecured Credentials",
            }),
            dedup_minutes: 10,
            action_plan: &[
                "Check whether the principal is an application reading its configuration; if not, rotate the decrypted values.",
            ],
            references: &["Panther AWS.SSM.DecryptSSMParams"],
        },
        kind: window(10, 1, [10, 0]),
        sources: &["ssm.amazonaws.com"],
        check: Check::<CloudTrail>::Each(ssm_secure_parameters),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "cred.ec2-password-data",
            title: "Repeated Windows password retrieval",
            description: "Five or more GetPasswordData calls (successful or denied) in ten minutes by one principal.",
            severity: Severity::Medium,
            category: Category::CredentialAccess,
            entity: EntityKind::Principal,
            attack: Some(Attack {
                tactic_id: "TA0006",
                tactic: "Credential Access",
                technique_id: "T1552.005",
                technique: "Unsecured Credentials: Cloud Instance Metadata API",
            }),
            dedup_minutes: 10,
            action_plan: &[
                "Rotate the local administrator passwords of the instances asked for, and check logins to them.",
            ],
            references: &["Panther AWS.EC2.ManyPasswordReadAttempts"],
        },
        kind: window(10, 5, [0, 0]),
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::Each(ec2_password_data),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "discovery.ec2-user-data",
            title: "Repeated reads of EC2 user data",
            description: "Five or more reads of instance user data (successful or denied) in ten minutes: user data often holds secrets.",
            severity: Severity::Low,
            category: Category::CredentialAccess,
            entity: EntityKind::Principal,
            attack: Some(Attack {
                tactic_id: "TA0006",
                tactic: "Credential Access",
                technique_id: "T1552",
                technique: "Unsecured Credentials",
            }),
            dedup_minutes: 10,
            action_plan: &[
                "Check the user data of those instances for secrets and move any to Secrets Manager.",
            ],
            references: &["Panther AWS.EC2.DownloadInstanceUserData"],
        },
        kind: window(10, 5, [0, 0]),
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::Each(ec2_user_data_reads),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.console-login-failed-anomaly",
            title: "Unusual number of failed console logins",
            description: "A user's failed console logins in a 3-hour slice stand far above that user's usual (z-score over the previous 10 non-empty slices).",
            severity: Severity::Medium,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: Some(BRUTE_FORCE),
            dedup_minutes: 180,
            action_plan: &[
                "Compare the source IPs of the failures with the user's usual ones; block unknown ones.",
                "Make sure the user has MFA and ask whether they were locked out.",
            ],
            references: &["Sumo Logic CIS for AWS: failed logins outlier query"],
        },
        kind: three_hour_anomaly(3),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::Each(console_login_failed),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.change-anomaly",
            title: "Unusual number of configuration changes",
            description: "A principal's configuration and IAM changes in a 3-hour slice stand far above its usual (z-score over its previous 10 non-empty slices).",
            severity: Severity::Medium,
            category: Category::ConfigIam,
            entity: EntityKind::Principal,
            attack: Some(MODIFY_CLOUD_COMPUTE),
            dedup_minutes: 180,
            action_plan: &[
                "Review the changes of the slice: a deployment explains many; changes by a person at an unusual hour deserve a call.",
            ],
            references: &["Sumo Logic CIS for AWS: Suspicious Config dashboard"],
        },
        kind: three_hour_anomaly(3),
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::Each(config_changes),
    },
];

fn principal(r: &CloudTrailRecord<'_>) -> Entity {
    crate::detect::cloudtrail_entity(EntityKind::Principal, r)
}

fn console_login_burst(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if r.console_login_outcome() != Some(false) {
        return;
    }
    out.push(Hit::of(crate::detect::cloudtrail_entity(
        EntityKind::User,
        r,
    )));
    if let Some(ip) = r.source_ip_address.as_deref() {
        out.push(Hit::of(Entity {
            kind: EntityKind::Ip,
            id: ip.to_owned(),
        }));
    }
}

fn root_login_failed(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if r.console_login_outcome() == Some(false) && r.identity_type() == Some("Root") {
        out.push(Hit::of(crate::detect::cloudtrail_entity(
            EntityKind::Account,
            r,
        )));
    }
}

fn password_spraying(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if r.console_login_outcome() != Some(false) {
        return;
    }
    let account = r.account_id().unwrap_or("unknown");
    let region = r.aws_region.as_deref().unwrap_or("unknown");
    // A hidden name (a mistyped one) counts once, as CloudTrail does not say which it was.
    let user = r.user_identity.user_name.as_deref().map(crate::state::clip);
    out.push(Hit {
        entity: Some(Entity {
            kind: EntityKind::Account,
            id: format!("{account}/{region}"),
        }),
        distinct: [user, None],
        immediate: false,
        ..Hit::default()
    });
}

fn mfa_failed(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if r.console_login_outcome() == Some(false)
        && r.additional().get("MFAUsed").and_then(Value::as_str) == Some("Yes")
    {
        out.push(Hit::of(crate::detect::cloudtrail_entity(
            EntityKind::User,
            r,
        )));
    }
}

fn access_denied_burst(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if r.is_denied() {
        out.push(Hit {
            entity: Some(principal(r)),
            distinct: [
                Some(r.event_name.to_string()),
                Some(r.event_source.to_string()),
            ],
            immediate: false,
            ..Hit::default()
        });
    }
}

fn recon_access_denied(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    const SERVICES: [&str; 5] = [
        "dynamodb.amazonaws.com",
        "ec2.amazonaws.com",
        "iam.amazonaws.com",
        "s3.amazonaws.com",
        "rds.amazonaws.com",
    ];
    let read = ["List", "Describe", "Get"]
        .iter()
        .any(|p| r.event_name.starts_with(p));
    if r.is_denied() && read && SERVICES.contains(&&*r.event_source) {
        out.push(Hit::of(principal(r)));
    }
}

fn secrets_bulk_read(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if r.event_source != "secretsmanager.amazonaws.com" || !r.is_success() {
        return;
    }
    match &*r.event_name {
        "GetSecretValue" => out.push(Hit {
            entity: Some(principal(r)),
            distinct: [req_str(r, "secretId").map(crate::state::clip), None],
            immediate: false,
            ..Hit::default()
        }),
        "BatchGetSecretValue" => out.push(Hit {
            entity: Some(principal(r)),
            distinct: [None, None],
            immediate: true,
            ..Hit::default()
        }),
        _ => {}
    }
}

fn ssm_secure_parameters(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if !(r.is_success()
        && call_in(
            r,
            "ssm.amazonaws.com",
            &["GetParameter", "GetParameters", "GetParametersByPath"],
        ))
    {
        return;
    }
    let req = r.request();
    if req_bool(r, "withDecryption") != Some(true) {
        return;
    }
    let mut names: Vec<&str> = req_str(r, "name")
        .into_iter()
        .chain(req_str(r, "path"))
        .collect();
    if let Some(list) = req.get("names").and_then(Value::as_array) {
        names.extend(list.iter().filter_map(Value::as_str));
    }
    for name in names {
        out.push(Hit {
            entity: Some(principal(r)),
            distinct: [Some(crate::state::clip(name)), None],
            immediate: false,
            ..Hit::default()
        });
    }
}

fn ec2_password_data(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if call_in(r, "ec2.amazonaws.com", &["GetPasswordData"]) && (r.is_success() || r.is_denied()) {
        out.push(Hit::of(principal(r)));
    }
}

fn ec2_user_data_reads(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if call_in(r, "ec2.amazonaws.com", &["DescribeInstanceAttribute"])
        && req_str(r, "attribute") == Some("userData")
        && (r.is_success() || r.is_denied())
    {
        out.push(Hit::of(principal(r)));
    }
}

fn console_login_failed(r: &CloudTrailRecord<'_>, _: &Context<'_>, out: &mut Vec<Hit>) {
    if r.console_login_outcome() == Some(false) {
        out.push(Hit::of(crate::detect::cloudtrail_entity(
            EntityKind::User,
            r,
        )));
    }
}

fn config_changes(r: &CloudTrailRecord<'_>, cx: &Context<'_>, out: &mut Vec<Hit>) {
    if cx.fired.iter().any(|id| id.starts_with("config.")) {
        out.push(Hit::of(principal(r)));
    }
}
