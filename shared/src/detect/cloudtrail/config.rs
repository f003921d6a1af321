//! Suspicious config and IAM activity: the CIS AWS Foundations monitoring controls
//! (CloudWatch.4-14) and what attackers do after them. Success only unless a rule says otherwise.

use serde_json::Value;

use super::*;
use crate::detect::{Category, Check, CloudTrail, Context, Hit, RuleKind, RuleMeta, Severity};

/// The single-event rules of the "Suspicious config and IAM activity" dashboard.
pub static RULES: &[CloudTrailRule] = &[
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
            references: &[
                "CIS AWS Foundations CloudWatch.4",
                "Panther AWS.IAM.PolicyModified",
            ],
        },
        kind: RuleKind::Single,
        sources: &["iam.amazonaws.com"],
        check: Check::<CloudTrail>::One(iam_policy_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.admin-policy-attached",
            title: "AdministratorAccess attached",
            description: "The AWS managed AdministratorAccess policy was attached to a user, role or group.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(ADDITIONAL_CLOUD_ROLES),
            dedup_minutes: 60,
            action_plan: &[
                "Confirm the grant with the owner of the user, role or group; detach AdministratorAccess if it was not approved.",
                "Review what the grantee did since, and who can assume the role or use the user's keys.",
            ],
            references: &[
                "Panther AWS.IAM.AttachAdminUserPolicy",
                "Panther AWS.IAM.AttachAdminRolePolicy",
            ],
        },
        kind: RuleKind::Single,
        sources: &["iam.amazonaws.com"],
        check: Check::<CloudTrail>::One(admin_policy_attached),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.cloudtrail-change",
            title: "CloudTrail configuration changed",
            description: "A trail was created, updated, deleted, started or stopped.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(DISABLE_CLOUD_LOGS),
            dedup_minutes: 60,
            action_plan: &[
                "Check that the trail change was planned; compare the trail's settings (multi-region, log file validation, KMS key, bucket) with your baseline.",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.5",
            ],
        },
        kind: RuleKind::Single,
        sources: &["cloudtrail.amazonaws.com"],
        check: Check::<CloudTrail>::One(cloudtrail_change),
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
            references: &[
                "Panther AWS.CloudTrail.Stopped",
                "Panther AWS.CloudTrail.EventSelectorsDisabled",
            ],
        },
        kind: RuleKind::Single,
        sources: &["cloudtrail.amazonaws.com"],
        check: Check::<CloudTrail>::One(cloudtrail_stopped),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.log-deletion",
            title: "Logs deleted",
            description: "A CloudWatch log group or stream, a log destination, VPC flow logs or a Route 53 Resolver query log configuration was deleted.",
            severity: Severity::Medium,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(DISABLE_CLOUD_LOGS),
            dedup_minutes: 60,
            action_plan: &[
                "Check whether the deletion was planned (a decommissioned stack); if not, recreate the logging and find out what happened while it was off.",
                "Restrict logs:Delete*, ec2:DeleteFlowLogs and route53resolver deletions to the deployment role.",
            ],
            references: &[
                "Sumo Logic CIS for AWS: evading defenses",
                "Panther AWS.VPCFlow.LogsDeleted",
                "Panther AWS.CloudTrail.DNSLogsDeleted",
            ],
        },
        kind: RuleKind::Single,
        sources: &["logs.amazonaws.com", "ec2.amazonaws.com", "route53resolver.amazonaws.com"],
        check: Check::<CloudTrail>::One(log_deletion),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.kms-key-disabled",
            title: "KMS key disabled or scheduled for deletion",
            description: "A customer managed KMS key was disabled or scheduled for deletion: data encrypted with it becomes unreadable.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(DATA_DESTRUCTION),
            dedup_minutes: 60,
            action_plan: &[
                "If unplanned, cancel the deletion (CancelKeyDeletion) or re-enable the key (EnableKey) within the waiting period.",
                "Find which data and services use the key before deciding, and who can call kms:ScheduleKeyDeletion.",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.7",
                "Panther AWS.KMS.CustomerManagedKeyLoss",
            ],
        },
        kind: RuleKind::Single,
        sources: &["kms.amazonaws.com"],
        check: Check::<CloudTrail>::One(kms_key_disabled),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.s3-bucket-policy-change",
            title: "S3 bucket policy changed",
            description: "A bucket's ACL, policy, CORS, lifecycle or replication configuration was changed or deleted.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: None,
            dedup_minutes: 60,
            action_plan: &[
                "Review the new bucket policy or ACL for grants to other accounts or to everyone; revert what was not approved.",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.8",
                "Panther AWS.S3.BucketPolicyModified",
            ],
        },
        kind: RuleKind::Single,
        sources: &["s3.amazonaws.com"],
        check: Check::<CloudTrail>::One(s3_bucket_policy_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.s3-public-access",
            title: "S3 bucket or object made public",
            description: "An ACL granted access to all users or all authenticated AWS users, a public access block was removed or weakened, or a bucket policy allows everyone without a condition.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(DATA_FROM_CLOUD_STORAGE),
            dedup_minutes: 60,
            action_plan: &[
                "Restore the public access block (bucket and account) and remove the public grant or statement now.",
                "Check the bucket's access logs or data events for reads from unknown addresses since the change.",
            ],
            references: &[
                "StreamAlert cloudtrail_public_resources",
                "Panther AWS.S3.DeletePublicAccessBlock",
            ],
        },
        kind: RuleKind::Single,
        sources: &["s3.amazonaws.com", "s3-control.amazonaws.com"],
        check: Check::<CloudTrail>::One(s3_public_access),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.aws-config-change",
            title: "AWS Config changed",
            description: "The AWS Config recorder or delivery channel was stopped, deleted or reconfigured.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(DISABLE_TOOLS),
            dedup_minutes: 60,
            action_plan: &[
                "Make sure the configuration recorder is recording all resources and its delivery channel delivers (DescribeConfigurationRecorderStatus).",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.9",
                "Panther AWS.ConfigService.DisabledDeleted",
            ],
        },
        kind: RuleKind::Single,
        sources: &["config.amazonaws.com"],
        check: Check::<CloudTrail>::One(aws_config_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.security-group-change",
            title: "Security group changed",
            description: "A security group or one of its rules was created, changed or deleted.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(CLOUD_FIREWALL),
            dedup_minutes: 60,
            action_plan: &[
                "Check the change against your infrastructure-as-code; look for rules opened to 0.0.0.0/0 or to unknown networks.",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.10",
                "Panther AWS.EC2.SecurityGroupModified",
            ],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(security_group_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.security-group-open-ingress",
            title: "Security group opened to the internet",
            description: "An ingress rule was added allowing any IPv4 or IPv6 address (any /0 prefix: 0.0.0.0/0, ::/0), or an existing rule was changed to allow one.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(CLOUD_FIREWALL),
            dedup_minutes: 60,
            action_plan: &[
                "Revoke the rule unless the port serves the public (a load balancer's 443); SSH, RDP and database ports never should.",
                "Check the instances behind the group for logins from unknown addresses since the change.",
            ],
            references: &[
                "StreamAlert cloudtrail_security_group_ingress_anywhere",
                "CIS AWS Foundations EC2.19",
            ],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(security_group_open_ingress),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.nacl-change",
            title: "Network ACL changed",
            description: "A network ACL, one of its entries or an association was created, changed or deleted.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(CLOUD_FIREWALL),
            dedup_minutes: 60,
            action_plan: &[
                "Check the change against your network design; look for allow entries from 0.0.0.0/0.",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.11",
                "Panther AWS.EC2.NetworkACLModified",
            ],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(nacl_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.nacl-open-ingress",
            title: "Network ACL opened to the internet",
            description: "An inbound network ACL entry allowing all of the internet (0.0.0.0/0) was added.",
            severity: Severity::Medium,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(CLOUD_FIREWALL),
            dedup_minutes: 60,
            action_plan: &[
                "Replace the entry with the networks that need access, or delete it.",
            ],
            references: &[
                "StreamAlert cloudtrail_network_acl_ingress_anywhere",
                "Panther AWS.CloudTrail.NetworkACLPermissiveEntry",
            ],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(nacl_open_ingress),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.gateway-change",
            title: "Network gateway changed",
            description: "An internet or customer gateway was created, attached, detached or deleted.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(MODIFY_CLOUD_COMPUTE),
            dedup_minutes: 60,
            action_plan: &[
                "Check that the gateway change was planned: a new internet gateway gives a VPC a way out.",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.12",
                "Panther AWS.EC2.GatewayModified",
            ],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(gateway_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.route-table-change",
            title: "Route table changed",
            description: "A route or route table was created, replaced, disassociated or deleted.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(MODIFY_CLOUD_COMPUTE),
            dedup_minutes: 60,
            action_plan: &[
                "Check the new routes: traffic sent to an unknown gateway, peering or instance can be intercepted.",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.13",
                "Panther AWS.EC2.RouteTableModified",
            ],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(route_table_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.vpc-change",
            title: "VPC changed",
            description: "A VPC, a peering connection or ClassicLink was created, changed or deleted.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(MODIFY_CLOUD_COMPUTE),
            dedup_minutes: 60,
            action_plan: &[
                "Check that the VPC change was planned; a peering connection to an unknown account is a path in.",
            ],
            references: &[
                "CIS AWS Foundations CloudWatch.14",
                "Panther AWS.EC2.VPCModified",
            ],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(vpc_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.organizations-change",
            title: "AWS Organizations changed",
            description: "The organization's accounts, units or policies changed; an account leaving the organization (even an attempt) escapes its guardrails.",
            severity: Severity::Low,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(DISABLE_TOOLS),
            dedup_minutes: 60,
            action_plan: &[
                "Confirm the change with the organization's administrators; SCP changes alter every account's guardrails.",
                "For LeaveOrganization: find who tried it from the member account and revoke their access.",
            ],
            references: &[
                "CIS AWS Foundations 4.15",
                "Panther AWS.CloudTrail.AttemptToLeaveOrg",
            ],
        },
        kind: RuleKind::Single,
        sources: &["organizations.amazonaws.com"],
        check: Check::<CloudTrail>::One(organizations_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.security-tooling-tampered",
            title: "Security tooling tampered with",
            description: "GuardDuty, Security Hub, WAF, EventBridge rules or default EBS encryption were disabled, deleted, or had their findings or IP sets changed.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(DISABLE_TOOLS),
            dedup_minutes: 60,
            action_plan: &[
                "Restore the tool (re-enable the detector, re-associate the web ACL, re-enable the rule) and check what happened while it was off.",
                "For changed findings or IP sets, compare with the previous version: attackers suppress findings and trust their own IPs.",
            ],
            references: &[
                "Panther AWS.WAF.Disassociation",
                "Panther AWS.IPSet.Modified",
                "Panther AWS.SecurityHub.Finding.Evasion",
                "Panther AWS.EC2.EBS.Encryption.Disabled",
                "Sigma aws_guardduty_disruption",
            ],
        },
        kind: RuleKind::Single,
        sources: &["guardduty.amazonaws.com", "securityhub.amazonaws.com", "waf.amazonaws.com", "waf-regional.amazonaws.com", "wafv2.amazonaws.com", "events.amazonaws.com", "ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(security_tooling_tampered),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.resource-shared",
            title: "Snapshot or image shared",
            description: "An EBS snapshot, an AMI or an RDS snapshot was shared with everyone, or with an account outside the known ones.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(TRANSFER_TO_CLOUD_ACCOUNT),
            dedup_minutes: 60,
            action_plan: &[
                "Remove the share (reset the attribute) unless it was approved; a public snapshot can be copied by anyone.",
                "Find out what data the snapshot holds and whether the other account copied it.",
            ],
            references: &[
                "StreamAlert cloudtrail_snapshot_or_ami_made_public",
                "Panther AWS.CloudTrail.SnapshotMadePublic",
            ],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com", "rds.amazonaws.com"],
        check: Check::<CloudTrail>::One(resource_shared),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.access-key-for-other-user",
            title: "Access key created for another user",
            description: "A principal created an access key for an IAM user other than itself: a way to keep access through someone else's identity.",
            severity: Severity::Medium,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(ADDITIONAL_CLOUD_CREDENTIALS),
            dedup_minutes: 60,
            action_plan: &[
                "Ask the owner of the target user whether they expected a new key; if not, deactivate and delete it.",
                "Review what the creator did before and after: it may hold stolen credentials.",
            ],
            references: &[
                "Panther AWS.IAM.Backdoor.User.Keys",
            ],
        },
        kind: RuleKind::Single,
        sources: &["iam.amazonaws.com"],
        check: Check::<CloudTrail>::One(access_key_for_other_user),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.login-profile-change",
            title: "Console password set for another user",
            description: "A console password was created or changed for another user without requiring a reset at next sign-in: the setter can sign in as that user.",
            severity: Severity::Medium,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(ACCOUNT_MANIPULATION),
            dedup_minutes: 60,
            action_plan: &[
                "Ask the target user whether they asked for a password; if not, delete the login profile.",
                "Require passwordResetRequired for administrator-set passwords.",
            ],
            references: &[
                "Panther AWS.User.Login.Profile.Modified",
                "Sigma aws_iam_backdoor_users_keys",
            ],
        },
        kind: RuleKind::Single,
        sources: &["iam.amazonaws.com"],
        check: Check::<CloudTrail>::One(login_profile_change),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.role-trust-changed",
            title: "Role trust policy changed",
            description: "A role's trust policy changed; trusting everyone or an unknown account lets outsiders assume it.",
            severity: Severity::Medium,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(ADDITIONAL_CLOUD_ROLES),
            dedup_minutes: 60,
            action_plan: &[
                "Read the new trust policy: every principal it names can now assume the role.",
                "Revert it if it trusts * or an account you do not know, and review AssumeRole events for that role since.",
            ],
            references: &[
                "Stratus Red Team aws.persistence.iam-backdoor-role",
            ],
        },
        kind: RuleKind::Single,
        sources: &["iam.amazonaws.com"],
        check: Check::<CloudTrail>::One(role_trust_changed),
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
            references: &[
                "Sumo Logic CIS for AWS: maintaining access",
            ],
        },
        kind: RuleKind::Single,
        sources: &["iam.amazonaws.com", "ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(lambda_persistence),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.lambda-exposed",
            title: "Lambda function opened to everyone or another account",
            description: "A resource-based permission lets any principal, or an account outside the known ones, invoke or manage a function.",
            severity: Severity::High,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(EVENT_TRIGGERED_EXECUTION),
            dedup_minutes: 60,
            action_plan: &[
                "Remove the permission statement (RemovePermission) unless it was approved.",
                "Check the function's invocations from the new principal since the change.",
            ],
            references: &[
                "Panther AWS.Potential.Backdoor.Lambda",
            ],
        },
        kind: RuleKind::Single,
        sources: &["lambda.amazonaws.com"],
        check: Check::<CloudTrail>::One(lambda_exposed),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.lambda-code-changed",
            title: "Lambda code or layers changed",
            description: "A function's code was updated, or layers were set, by a person (medium) or by another role (low).",
            severity: Severity::Medium,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(EVENT_TRIGGERED_EXECUTION),
            dedup_minutes: 60,
            action_plan: &[
                "Check that the deployment came from your pipeline; compare the new code's hash (CodeSha256) with the pipeline's build.",
                "For unknown layers, inspect their content: a layer runs before the function's handler.",
            ],
            references: &[
                "Panther AWS.Lambda.UpdateFunctionCode",
                "Panther AWS.Lambda.UpdateFunctionConfiguration",
            ],
        },
        kind: RuleKind::Single,
        sources: &["lambda.amazonaws.com"],
        check: Check::<CloudTrail>::One(lambda_code_changed),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "config.rolesanywhere-trust-anchor",
            title: "IAM Roles Anywhere trust anchor changed",
            description: "A Roles Anywhere trust anchor was created or updated: certificates it trusts get role credentials from outside AWS.",
            severity: Severity::Medium,
            category: Category::ConfigIam,
            entity: EntityKind::Resource,
            attack: Some(ADDITIONAL_CLOUD_CREDENTIALS),
            dedup_minutes: 60,
            action_plan: &[
                "Check the certificate authority the anchor trusts; remove anchors nobody can account for, with their profiles.",
            ],
            references: &[
                "Stratus Red Team aws.persistence.rolesanywhere-create-trust-anchor",
            ],
        },
        kind: RuleKind::Single,
        sources: &["rolesanywhere.amazonaws.com"],
        check: Check::<CloudTrail>::One(rolesanywhere_trust_anchor),
    },
];

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

/// The resource named by the first of `keys` present in `requestParameters`.
fn target(r: &CloudTrailRecord<'_>, keys: &[&str]) -> Option<Entity> {
    keys.iter().find_map(|k| req_str(r, k)).map(resource)
}

fn hit_on(r: &CloudTrailRecord<'_>, keys: &[&str]) -> Option<Hit> {
    Some(Hit {
        entity: target(r, keys),
        ..Hit::default()
    })
}

fn iam_policy_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    (r.is_success() && call_in(r, "iam.amazonaws.com", IAM_POLICY_CHANGES)).then(Hit::default)
}

fn admin_policy_attached(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    let attach = call_in(
        r,
        "iam.amazonaws.com",
        &["AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"],
    );
    if !(attach
        && r.is_success()
        && req_str(r, "policyArn").is_some_and(|a| a.ends_with("/AdministratorAccess")))
    {
        return None;
    }
    hit_on(r, &["userName", "roleName", "groupName"])
}

fn cloudtrail_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "CreateTrail",
        "UpdateTrail",
        "DeleteTrail",
        "StartLogging",
        "StopLogging",
    ];
    if !(r.is_success() && call_in(r, "cloudtrail.amazonaws.com", NAMES)) {
        return None;
    }
    hit_on(r, &["name", "trailName"])
}

fn cloudtrail_stopped(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
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
    hit_on(r, &["name", "trailName"])
}

fn log_deletion(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    let deleted = call_in(
        r,
        "logs.amazonaws.com",
        &["DeleteLogGroup", "DeleteLogStream", "DeleteDestination"],
    ) || call_in(r, "ec2.amazonaws.com", &["DeleteFlowLogs"])
        || call_in(
            r,
            "route53resolver.amazonaws.com",
            &[
                "DeleteResolverQueryLogConfig",
                "DisassociateResolverQueryLogConfig",
            ],
        );
    if !(deleted && r.is_success()) {
        return None;
    }
    let flow_logs = r
        .request()
        .pointer("/DeleteFlowLogsRequest/FlowLogId/content")
        .and_then(Value::as_str)
        .map(resource);
    Some(Hit {
        entity: flow_logs.or_else(|| {
            target(
                r,
                &[
                    "logGroupName",
                    "destinationName",
                    "resolverQueryLogConfigId",
                    "ResolverQueryLogConfigId",
                ],
            )
        }),
        ..Hit::default()
    })
}

fn kms_key_disabled(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !(r.is_success()
        && call_in(
            r,
            "kms.amazonaws.com",
            &["DisableKey", "ScheduleKeyDeletion"],
        ))
    {
        return None;
    }
    hit_on(r, &["keyId"])
}

fn s3_bucket_policy_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "PutBucketAcl",
        "PutBucketPolicy",
        "PutBucketCors",
        "PutBucketLifecycle",
        "PutBucketReplication",
        "DeleteBucketPolicy",
        "DeleteBucketCors",
        "DeleteBucketLifecycle",
        "DeleteBucketReplication",
    ];
    if !(r.is_success() && call_in(r, "s3.amazonaws.com", NAMES)) {
        return None;
    }
    hit_on(r, &["bucketName"])
}

/// ACL grantees and canned ACLs that open a bucket or object to the world.
fn grants_public(request: &Value) -> bool {
    const PUBLIC_GROUPS: [&str; 2] = [
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    ];
    const PUBLIC_CANNED: [&str; 3] = ["public-read", "public-read-write", "authenticated-read"];
    any_string(request, &|s| PUBLIC_GROUPS.contains(&s))
        || any_keyed(request, &["x-amz-acl"], &|v| {
            any_string(v, &|s| PUBLIC_CANNED.contains(&s))
        })
        || any_keyed(
            request,
            &[
                "x-amz-grant-read",
                "x-amz-grant-full-control",
                "x-amz-grant-write",
            ],
            &|v| {
                any_string(v, &|s| {
                    s.contains("AllUsers") || s.contains("AuthenticatedUsers")
                })
            },
        )
}

/// A policy statement that allows everyone with no condition to narrow it.
fn allows_everyone(policy: &Value) -> bool {
    statements(policy).iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && s.get("Condition")
                .is_none_or(|c| c.as_object().is_none_or(|o| o.is_empty()))
            && principals(s).contains(&"*")
    })
}

fn s3_public_access(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !r.is_success()
        || !matches!(
            &*r.event_source,
            "s3.amazonaws.com" | "s3-control.amazonaws.com"
        )
    {
        return None;
    }
    let req = || r.request();
    let public = match &*r.event_name {
        "PutBucketAcl" | "PutObjectAcl" => grants_public(req()),
        "DeleteBucketPublicAccessBlock" | "DeleteAccountPublicAccessBlock" => true,
        "PutBucketPublicAccessBlock" | "PutAccountPublicAccessBlock" => any_keyed(
            req(),
            &[
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            ],
            &|v| v == &Value::Bool(false) || v.as_str() == Some("false"),
        ),
        "PutBucketPolicy" => req()
            .get("bucketPolicy")
            .and_then(document)
            .is_some_and(|p| allows_everyone(&p)),
        _ => false,
    };
    if !public {
        return None;
    }
    let object =
        req_str(r, "key").and_then(|k| req_str(r, "bucketName").map(|b| format!("{b}/{k}")));
    Some(Hit {
        entity: object
            .map(resource)
            .or_else(|| target(r, &["bucketName"]))
            .or_else(|| r.account_id().map(resource)),
        ..Hit::default()
    })
}

fn aws_config_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !r.is_success() || r.event_source != "config.amazonaws.com" {
        return None;
    }
    let severity = match &*r.event_name {
        "StopConfigurationRecorder" | "DeleteDeliveryChannel" => Severity::Medium,
        "PutDeliveryChannel" | "PutConfigurationRecorder" => Severity::Low,
        _ => return None,
    };
    Some(Hit {
        severity: Some(severity),
        entity: target(r, &["configurationRecorderName", "deliveryChannelName"]),
        ..Hit::default()
    })
}

fn security_group_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "AuthorizeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress",
        "CreateSecurityGroup",
        "DeleteSecurityGroup",
    ];
    if !(r.is_success() && call_in(r, "ec2.amazonaws.com", NAMES)) {
        return None;
    }
    hit_on(r, &["groupId", "groupName"])
}

/// The request shapes AWS logs for opening a security group, each tested:
/// `AuthorizeSecurityGroupIngress` with `ipPermissions.items[].ipRanges.items[].cidrIp` (and
/// `ipv6Ranges`/`cidrIpv6`); its simple form, `cidrIp` with `ipProtocol`/`fromPort`/`toPort` at
/// the top; the capitalized names newer SDKs log (`IpPermissions`, `CidrIp`, `CidrIpv6`); any of
/// these as a JSON string rather than an object; and `ModifySecurityGroupRules`, which rewrites
/// an existing rule (`ModifySecurityGroupRulesRequest.SecurityGroupRule.SecurityGroupRule`
/// with `CidrIpv4`/`CidrIpv6`; the request does not say whether that rule is inbound).
const OPEN_INGRESS_CALLS: &[&str] = &["AuthorizeSecurityGroupIngress", "ModifySecurityGroupRules"];
const CIDR_KEYS: &[&str] = &[
    "cidrIp", "cidrIpv6", "CidrIp", "CidrIpv6", "cidrIpv4", "CidrIpv4",
];

fn security_group_open_ingress(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !(r.is_success() && call_in(r, "ec2.amazonaws.com", OPEN_INGRESS_CALLS)) {
        return None;
    }
    let anywhere = any_keyed_in_json(r.request(), CIDR_KEYS, &|v| {
        v.as_str().is_some_and(is_whole_internet)
    });
    anywhere.then(|| Hit {
        entity: target_in(r, &["groupId", "groupName", "GroupId"]),
        ..Hit::default()
    })
}

/// Whether a CIDR block covers every address: any prefix of length 0 (`0.0.0.0/0`, `::/0`,
/// but also `10.1.2.3/0` or `0::/0`, which AWS accepts and which mean the same).
pub(crate) fn is_whole_internet(cidr: &str) -> bool {
    cidr.trim().split_once('/').is_some_and(|(addr, len)| {
        len.trim() == "0" && addr.trim().parse::<std::net::IpAddr>().is_ok()
    })
}

/// [`any_keyed`], also looking into string values that hold a JSON object or array (some
/// callers' parameters are logged as a JSON string).
fn any_keyed_in_json(v: &Value, keys: &[&str], pred: &dyn Fn(&Value) -> bool) -> bool {
    match v {
        Value::Array(a) => a.iter().any(|x| any_keyed_in_json(x, keys, pred)),
        Value::Object(o) => o.iter().any(|(k, x)| {
            (keys.contains(&k.as_str()) && pred(x)) || any_keyed_in_json(x, keys, pred)
        }),
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str::<Value>(s)
                .is_ok_and(|inner| any_keyed_in_json(&inner, keys, pred))
        }
        _ => false,
    }
}

/// The resource of a call: the first of `keys` at the top of `requestParameters`, or in the
/// one object nested there (`ModifySecurityGroupRulesRequest`).
fn target_in(r: &CloudTrailRecord<'_>, keys: &[&str]) -> Option<Entity> {
    target(r, keys).or_else(|| {
        let request = r.request().as_object().filter(|o| o.len() == 1)?;
        let inner = request.values().next()?;
        keys.iter()
            .find_map(|k| inner.get(k).and_then(Value::as_str))
            .map(resource)
    })
}

fn nacl_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "CreateNetworkAcl",
        "CreateNetworkAclEntry",
        "DeleteNetworkAcl",
        "DeleteNetworkAclEntry",
        "ReplaceNetworkAclEntry",
        "ReplaceNetworkAclAssociation",
    ];
    if !(r.is_success() && call_in(r, "ec2.amazonaws.com", NAMES)) {
        return None;
    }
    hit_on(r, &["networkAclId", "associationId"])
}

fn nacl_open_ingress(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !(r.is_success() && call_in(r, "ec2.amazonaws.com", &["CreateNetworkAclEntry"])) {
        return None;
    }
    let anywhere = ["cidrBlock", "ipv6CidrBlock"]
        .iter()
        .any(|k| req_str(r, k).is_some_and(is_whole_internet));
    let allow = req_str(r, "ruleAction").is_some_and(|a| a.eq_ignore_ascii_case("allow"));
    let ingress = req_bool(r, "egress") == Some(false);
    (anywhere && allow && ingress).then(|| Hit {
        entity: target(r, &["networkAclId"]),
        ..Hit::default()
    })
}

fn gateway_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "CreateCustomerGateway",
        "DeleteCustomerGateway",
        "AttachInternetGateway",
        "CreateInternetGateway",
        "DeleteInternetGateway",
        "DetachInternetGateway",
    ];
    if !(r.is_success() && call_in(r, "ec2.amazonaws.com", NAMES)) {
        return None;
    }
    hit_on(r, &["internetGatewayId", "customerGatewayId", "vpcId"])
}

fn route_table_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "CreateRoute",
        "CreateRouteTable",
        "ReplaceRoute",
        "ReplaceRouteTableAssociation",
        "DeleteRouteTable",
        "DeleteRoute",
        "DisassociateRouteTable",
    ];
    if !(r.is_success() && call_in(r, "ec2.amazonaws.com", NAMES)) {
        return None;
    }
    hit_on(r, &["routeTableId", "associationId", "vpcId"])
}

fn vpc_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "CreateVpc",
        "DeleteVpc",
        "ModifyVpcAttribute",
        "AcceptVpcPeeringConnection",
        "CreateVpcPeeringConnection",
        "DeleteVpcPeeringConnection",
        "RejectVpcPeeringConnection",
        "AttachClassicLinkVpc",
        "DetachClassicLinkVpc",
        "DisableVpcClassicLink",
        "EnableVpcClassicLink",
    ];
    if !(r.is_success() && call_in(r, "ec2.amazonaws.com", NAMES)) {
        return None;
    }
    hit_on(r, &["vpcId", "vpcPeeringConnectionId"])
}

fn organizations_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "AcceptHandshake",
        "AttachPolicy",
        "CreateAccount",
        "CreateOrganizationalUnit",
        "CreatePolicy",
        "DeclineHandshake",
        "DeleteOrganization",
        "DeleteOrganizationalUnit",
        "DeletePolicy",
        "DetachPolicy",
        "DisablePolicyType",
        "EnablePolicyType",
        "InviteAccountToOrganization",
        "LeaveOrganization",
        "MoveAccount",
        "RemoveAccountFromOrganization",
        "UpdatePolicy",
        "UpdateOrganizationalUnit",
    ];
    if !call_in(r, "organizations.amazonaws.com", NAMES) {
        return None;
    }
    let entity = target(
        r,
        &[
            "policyId",
            "accountId",
            "organizationalUnitId",
            "name",
            "targetId",
        ],
    )
    .or_else(|| r.account_id().map(resource));
    if r.event_name == "LeaveOrganization" {
        // Leaving escapes every SCP: even a denied attempt shows intent.
        return Some(Hit {
            severity: Some(Severity::High),
            entity,
            ..Hit::default()
        });
    }
    r.is_success().then_some(Hit {
        entity,
        ..Hit::default()
    })
}

fn security_tooling_tampered(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !r.is_success() {
        return None;
    }
    let name: &str = &r.event_name;
    let tampered = match &*r.event_source {
        "guardduty.amazonaws.com" => match name {
            "DeleteDetector" | "CreateIPSet" | "UpdateIPSet" => true,
            "UpdateDetector" => req_bool(r, "enable") == Some(false),
            _ => false,
        },
        "securityhub.amazonaws.com" => {
            matches!(
                name,
                "BatchUpdateFindings" | "DeleteInsight" | "UpdateFindings" | "UpdateInsight"
            )
        }
        "waf.amazonaws.com" | "waf-regional.amazonaws.com" | "wafv2.amazonaws.com" => {
            matches!(name, "DisassociateWebACL" | "CreateIPSet" | "UpdateIPSet")
        }
        "events.amazonaws.com" => matches!(name, "DeleteRule" | "DisableRule"),
        "ec2.amazonaws.com" => name == "DisableEbsEncryptionByDefault",
        _ => false,
    };
    if !tampered {
        return None;
    }
    Some(Hit {
        entity: target(
            r,
            &[
                "detectorId",
                "resourceArn",
                "ResourceArn",
                "name",
                "Name",
                "Id",
                "ipSetId",
            ],
        )
        .or_else(|| r.account_id().map(resource)),
        ..Hit::default()
    })
}

fn resource_shared(r: &CloudTrailRecord<'_>, settings: &Context<'_>) -> Option<Hit> {
    if !r.is_success() {
        return None;
    }
    // Who the resource is shared with: "all", or account ids; the request is parsed only for
    // the calls that share.
    type Grantees = fn(Option<&Value>) -> Vec<&str>;
    let (path, grantees, target_key): (&str, Grantees, &str) =
        match (&*r.event_source, &*r.event_name) {
            ("ec2.amazonaws.com", "ModifySnapshotAttribute") => (
                "/createVolumePermission/add/items",
                added_items,
                "snapshotId",
            ),
            ("ec2.amazonaws.com", "ModifyImageAttribute") => {
                ("/launchPermission/add/items", added_items, "imageId")
            }
            ("rds.amazonaws.com", "ModifyDBSnapshotAttribute") => {
                ("/valuesToAdd", string_list, "dBSnapshotIdentifier")
            }
            ("rds.amazonaws.com", "ModifyDBClusterSnapshotAttribute") => {
                ("/valuesToAdd", string_list, "dBClusterSnapshotIdentifier")
            }
            _ => return None,
        };
    let grantees = grantees(r.request().pointer(path));
    let severity = if grantees.iter().any(|g| g.eq_ignore_ascii_case("all")) {
        Severity::High
    } else if grantees
        .iter()
        .any(|g| principal_account(g).is_some_and(|a| is_foreign_account(r, settings, a)))
    {
        Severity::Medium
    } else {
        return None;
    };
    Some(Hit {
        severity: Some(severity),
        entity: target(r, &[target_key]),
        ..Hit::default()
    })
}

/// `[{"group": "all"}, {"userId": "123"}]` to `["all", "123"]`.
fn added_items(items: Option<&Value>) -> Vec<&str> {
    items
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    i.get("group")
                        .or_else(|| i.get("userId"))
                        .and_then(Value::as_str)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn string_list(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn access_key_for_other_user(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !(r.is_success() && call_in(r, "iam.amazonaws.com", &["CreateAccessKey"])) {
        return None;
    }
    let target_user = r
        .response()
        .pointer("/accessKey/userName")
        .and_then(Value::as_str)
        .or_else(|| req_str(r, "userName"))?;
    let own = r
        .arn()
        .is_some_and(|a| a.ends_with(&format!("user/{target_user}")));
    (!own).then(|| Hit {
        entity: Some(resource(target_user)),
        ..Hit::default()
    })
}

/// The caller's own name: the IAM user, or the session name of an assumed role (people sign in
/// to roles under their own name).
fn caller_name<'r>(r: &'r CloudTrailRecord<'_>) -> Option<&'r str> {
    match r.identity_type() {
        Some("AssumedRole") | Some("FederatedUser") => r.arn().and_then(|a| a.rsplit('/').next()),
        _ => r.user_identity.user_name.as_deref(),
    }
}

fn login_profile_change(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !(r.is_success()
        && call_in(
            r,
            "iam.amazonaws.com",
            &["CreateLoginProfile", "UpdateLoginProfile"],
        ))
    {
        return None;
    }
    // A password set for someone else and not forced to change at next sign-in: the setter
    // knows it and can sign in as that user. Self-service changes and helpdesk resets that
    // force a change are the normal flows.
    let target_user = req_str(r, "userName");
    let for_other = target_user.is_some() && target_user != caller_name(r);
    let reset_required = req_bool(r, "passwordResetRequired") == Some(true);
    (for_other && !reset_required).then(|| Hit {
        entity: target_user.map(resource),
        ..Hit::default()
    })
}

fn role_trust_changed(r: &CloudTrailRecord<'_>, settings: &Context<'_>) -> Option<Hit> {
    if !(r.is_success() && call_in(r, "iam.amazonaws.com", &["UpdateAssumeRolePolicy"])) {
        return None;
    }
    let policy = r.request().get("policyDocument").and_then(document);
    let risky = policy.as_ref().is_some_and(|p| {
        statements(p).iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && principals(s).iter().any(|p| {
                    *p == "*"
                        || principal_account(p).is_some_and(|a| is_foreign_account(r, settings, a))
                })
        })
    });
    Some(Hit {
        severity: risky.then_some(Severity::High),
        entity: target(r, &["roleName"]),
        ..Hit::default()
    })
}

fn lambda_persistence(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
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
    (invoked_by_lambda || from_function).then(Hit::default)
}

fn lambda_exposed(r: &CloudTrailRecord<'_>, settings: &Context<'_>) -> Option<Hit> {
    if !(r.is_success()
        && r.event_source == "lambda.amazonaws.com"
        && r.event_name.starts_with("AddPermission"))
    {
        return None;
    }
    let principal = req_str(r, "principal")?;
    let exposed = principal == "*"
        || principal_account(principal).is_some_and(|a| is_foreign_account(r, settings, a));
    exposed.then(|| Hit {
        entity: target(r, &["functionName"]),
        ..Hit::default()
    })
}

fn lambda_code_changed(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if r.event_source != "lambda.amazonaws.com" || !r.is_success() {
        return None;
    }
    let name: &str = &r.event_name;
    // Layers appear in the request, and in the response (which lists the function's layers).
    let sets_layers = || {
        [r.request(), r.response()].iter().any(|v| {
            v.get("layers")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty())
        })
    };
    let changed = name.starts_with("UpdateFunctionCode")
        || (name.starts_with("UpdateFunctionConfiguration") && sets_layers());
    if !changed {
        return None;
    }
    Some(Hit {
        severity: (!is_human_session(r)).then_some(Severity::Low),
        entity: target(r, &["functionName"]),
        ..Hit::default()
    })
}

fn rolesanywhere_trust_anchor(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !(r.is_success()
        && call_in(
            r,
            "rolesanywhere.amazonaws.com",
            &["CreateTrustAnchor", "UpdateTrustAnchor"],
        ))
    {
        return None;
    }
    hit_on(r, &["name", "trustAnchorId"])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::*;
    use crate::detect::{Settings, Severity};

    fn sev(id: &str, v: &serde_json::Value) -> Option<Severity> {
        verdict(id, v).map(|v| v.severity.unwrap_or(rule(id).meta.severity))
    }

    fn entity(id: &str, v: &serde_json::Value) -> String {
        verdict(id, v)
            .and_then(|v| v.entity)
            .map(|e| e.id)
            .unwrap_or_default()
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
        assert!(!fires(
            "config.iam-policy-change",
            failed(base("iam.amazonaws.com", "PutRolePolicy"), "AccessDenied")
        ));
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
    fn admin_policy_attached_names_the_grantee() {
        let v = with_req(
            base("iam.amazonaws.com", "AttachRolePolicy"),
            json!({"roleName": "ci", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        );
        assert_eq!(entity("config.admin-policy-attached", &v), "ci");
        let ro = with_req(
            base("iam.amazonaws.com", "AttachRolePolicy"),
            json!({"roleName": "ci", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        );
        assert!(!fires("config.admin-policy-attached", ro));
        assert!(!fires(
            "config.admin-policy-attached",
            failed(v, "AccessDenied")
        ));
    }

    #[test]
    fn cloudtrail_change_and_stopped() {
        let stop = with_req(
            base("cloudtrail.amazonaws.com", "StopLogging"),
            json!({"name": "org-trail"}),
        );
        assert_eq!(entity("config.cloudtrail-change", &stop), "org-trail");
        assert!(fires(
            "config.cloudtrail-change",
            base("cloudtrail.amazonaws.com", "CreateTrail")
        ));
        assert!(!fires(
            "config.cloudtrail-change",
            base("cloudtrail.amazonaws.com", "DescribeTrails")
        ));
        assert!(fires("config.cloudtrail-stopped", stop.clone()));
        assert!(
            fires(
                "config.cloudtrail-stopped",
                failed(stop.clone(), "AccessDenied")
            ),
            "a denied attempt"
        );
        assert!(
            !fires(
                "config.cloudtrail-stopped",
                failed(stop, "TrailNotFoundException")
            ),
            "stopped nothing"
        );
        assert!(fires(
            "config.cloudtrail-stopped",
            base("cloudtrail.amazonaws.com", "DeleteTrail")
        ));
        assert!(!fires(
            "config.cloudtrail-stopped",
            base("cloudtrail.amazonaws.com", "StartLogging")
        ));
        let sel = with_req(
            base("cloudtrail.amazonaws.com", "PutEventSelectors"),
            json!({"trailName": "t", "eventSelectors": [
            {"readWriteType": "All", "includeManagementEvents": true},
            {"readWriteType": "All", "includeManagementEvents": false}]}),
        );
        assert_eq!(entity("config.cloudtrail-stopped", &sel), "t");
        let sel_ok = with_req(
            base("cloudtrail.amazonaws.com", "PutEventSelectors"),
            json!({"eventSelectors": [{"includeManagementEvents": true}]}),
        );
        assert!(!fires("config.cloudtrail-stopped", sel_ok));
        assert!(!fires(
            "config.cloudtrail-stopped",
            base("s3.amazonaws.com", "StopLogging")
        ));
    }

    #[test]
    fn log_deletion_of_each_kind() {
        assert_eq!(
            entity(
                "config.log-deletion",
                &with_req(
                    base("logs.amazonaws.com", "DeleteLogGroup"),
                    json!({"logGroupName": "/aws/x"})
                )
            ),
            "/aws/x"
        );
        let flow = with_req(
            base("ec2.amazonaws.com", "DeleteFlowLogs"),
            json!({"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-1", "tag": 1}}}),
        );
        assert_eq!(entity("config.log-deletion", &flow), "fl-1");
        assert!(fires(
            "config.log-deletion",
            base(
                "route53resolver.amazonaws.com",
                "DisassociateResolverQueryLogConfig"
            )
        ));
        assert!(!fires(
            "config.log-deletion",
            base("logs.amazonaws.com", "CreateLogGroup")
        ));
        assert!(!fires(
            "config.log-deletion",
            failed(base("logs.amazonaws.com", "DeleteLogGroup"), "AccessDenied")
        ));
    }

    #[test]
    fn kms_key_disabled() {
        let v = with_req(
            base("kms.amazonaws.com", "ScheduleKeyDeletion"),
            json!({"keyId": "k-1", "pendingWindowInDays": 7}),
        );
        assert_eq!(entity("config.kms-key-disabled", &v), "k-1");
        assert!(!fires(
            "config.kms-key-disabled",
            base("kms.amazonaws.com", "EnableKey")
        ));
    }

    #[test]
    fn s3_bucket_policy_change() {
        assert!(fires(
            "config.s3-bucket-policy-change",
            with_req(
                base("s3.amazonaws.com", "PutBucketCors"),
                json!({"bucketName": "b"})
            )
        ));
        assert!(!fires(
            "config.s3-bucket-policy-change",
            base("s3.amazonaws.com", "GetBucketPolicy")
        ));
    }

    #[test]
    fn s3_public_access_shapes() {
        let acl = with_req(
            base("s3.amazonaws.com", "PutBucketAcl"),
            json!({"bucketName": "b",
            "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"xsi:type": "Group",
                "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}),
        );
        assert_eq!(entity("config.s3-public-access", &acl), "b");
        let canned = with_req(
            base("s3.amazonaws.com", "PutObjectAcl"),
            json!({"bucketName": "b", "key": "k", "x-amz-acl": ["public-read"]}),
        );
        assert_eq!(entity("config.s3-public-access", &canned), "b/k");
        let private = with_req(
            base("s3.amazonaws.com", "PutObjectAcl"),
            json!({"bucketName": "b", "key": "k", "x-amz-acl": ["private"]}),
        );
        assert!(!fires("config.s3-public-access", private));
        assert!(fires(
            "config.s3-public-access",
            base("s3.amazonaws.com", "DeleteBucketPublicAccessBlock")
        ));
        let weakened = with_req(
            base("s3.amazonaws.com", "PutBucketPublicAccessBlock"),
            json!({"bucketName": "b",
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": false, "RestrictPublicBuckets": true}}),
        );
        assert!(fires("config.s3-public-access", weakened));
        let strict = with_req(
            base("s3.amazonaws.com", "PutBucketPublicAccessBlock"),
            json!({"bucketName": "b",
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
        );
        assert!(!fires("config.s3-public-access", strict));
        let policy = |cond: serde_json::Value| {
            with_req(
                base("s3.amazonaws.com", "PutBucketPolicy"),
                json!({"bucketName": "b",
            "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": cond}]}}),
            )
        };
        assert!(fires("config.s3-public-access", policy(json!({}))));
        assert!(!fires(
            "config.s3-public-access",
            policy(json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}))
        ));
        let as_text = with_req(
            base("s3.amazonaws.com", "PutBucketPolicy"),
            json!({"bucketName": "b",
            "bucketPolicy": "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\"}}"}),
        );
        assert!(fires("config.s3-public-access", as_text));
        assert!(!fires(
            "config.s3-public-access",
            failed(policy(json!({})), "AccessDenied")
        ));
    }

    #[test]
    fn aws_config_change_severities() {
        assert_eq!(
            sev(
                "config.aws-config-change",
                &base("config.amazonaws.com", "StopConfigurationRecorder")
            ),
            Some(Severity::Medium)
        );
        assert_eq!(
            sev(
                "config.aws-config-change",
                &base("config.amazonaws.com", "PutDeliveryChannel")
            ),
            Some(Severity::Low)
        );
        assert_eq!(
            sev(
                "config.aws-config-change",
                &base("config.amazonaws.com", "DescribeDeliveryChannels")
            ),
            None
        );
    }

    #[test]
    fn security_groups() {
        let open = |cidr: &str| {
            with_req(
                base("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
                json!({"groupId": "sg-1",
            "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                "ipRanges": {"items": [{"cidrIp": cidr}]}}]}}),
            )
        };
        assert!(fires("config.security-group-change", open("10.0.0.0/8")));
        assert_eq!(
            entity("config.security-group-open-ingress", &open("0.0.0.0/0")),
            "sg-1"
        );
        assert!(!fires(
            "config.security-group-open-ingress",
            open("10.0.0.0/8")
        ));
        let v6 = with_req(
            base("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            json!({"groupId": "sg-1",
            "ipPermissions": {"items": [{"ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]}}]}}),
        );
        assert!(fires("config.security-group-open-ingress", v6));
        let flat = with_req(
            base("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            json!({"groupName": "web", "cidrIp": "0.0.0.0/0"}),
        );
        assert!(fires("config.security-group-open-ingress", flat));
        assert!(!fires(
            "config.security-group-open-ingress",
            failed(open("0.0.0.0/0"), "InvalidPermission.Duplicate")
        ));
        // Any /0 prefix is every address, whatever the address before it.
        for cidr in ["10.1.2.3/0", "0::/0", "2001:db8::/0"] {
            assert!(
                fires("config.security-group-open-ingress", open(cidr)),
                "{cidr}"
            );
        }
        for cidr in ["0.0.0.0/1", "0.0.0.0/00x", "not-an-ip/0", "0.0.0.0"] {
            assert!(
                !fires("config.security-group-open-ingress", open(cidr)),
                "{cidr}"
            );
        }
        // The capitalized names of newer SDKs.
        let capitalized = with_req(
            base("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            json!({"GroupId": "sg-2", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 3389,
                "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
        );
        assert_eq!(
            entity("config.security-group-open-ingress", &capitalized),
            "sg-2"
        );
        // The permissions logged as a JSON string.
        let as_string = with_req(
            base("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            json!({"groupId": "sg-3", "ipPermissions":
                "{\"items\": [{\"ipRanges\": {\"items\": [{\"cidrIp\": \"0.0.0.0/0\"}]}}]}"}),
        );
        assert_eq!(
            entity("config.security-group-open-ingress", &as_string),
            "sg-3"
        );
        // An existing rule rewritten to any address (the current API), under its group.
        let modify = |cidr: &str| {
            with_req(
                base("ec2.amazonaws.com", "ModifySecurityGroupRules"),
                json!({"ModifySecurityGroupRulesRequest": {"GroupId": "sg-4",
                    "SecurityGroupRule": {"SecurityGroupRuleId": "sgr-1", "tag": 1,
                        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                            "CidrIpv4": cidr}}}}),
            )
        };
        assert_eq!(
            entity("config.security-group-open-ingress", &modify("0.0.0.0/0")),
            "sg-4"
        );
        assert!(!fires(
            "config.security-group-open-ingress",
            modify("192.0.2.0/24")
        ));
    }

    #[test]
    fn network_acls() {
        let entry = |cidr: &str, action: &str, egress: bool| {
            with_req(
                base("ec2.amazonaws.com", "CreateNetworkAclEntry"),
                json!({"networkAclId": "acl-1", "cidrBlock": cidr, "ruleAction": action, "egress": egress, "ruleNumber": 100}),
            )
        };
        assert!(fires(
            "config.nacl-change",
            entry("10.0.0.0/8", "allow", false)
        ));
        assert!(fires(
            "config.nacl-open-ingress",
            entry("0.0.0.0/0", "allow", false)
        ));
        assert!(!fires(
            "config.nacl-open-ingress",
            entry("0.0.0.0/0", "deny", false)
        ));
        assert!(!fires(
            "config.nacl-open-ingress",
            entry("0.0.0.0/0", "allow", true)
        ));
        assert!(!fires(
            "config.nacl-open-ingress",
            entry("10.0.0.0/8", "allow", false)
        ));
        assert!(fires(
            "config.nacl-open-ingress",
            entry("192.0.2.1/0", "allow", false)
        ));
        let v6 = with_req(
            base("ec2.amazonaws.com", "CreateNetworkAclEntry"),
            json!({"networkAclId": "acl-1", "ipv6CidrBlock": "::/0", "ruleAction": "allow",
                "egress": "false", "ruleNumber": 100}),
        );
        assert!(fires("config.nacl-open-ingress", v6));
    }

    #[test]
    fn gateways_routes_vpcs() {
        assert!(fires(
            "config.gateway-change",
            base("ec2.amazonaws.com", "AttachInternetGateway")
        ));
        assert!(!fires(
            "config.gateway-change",
            base("ec2.amazonaws.com", "DescribeInternetGateways")
        ));
        assert!(fires(
            "config.route-table-change",
            base("ec2.amazonaws.com", "ReplaceRoute")
        ));
        assert!(!fires(
            "config.route-table-change",
            failed(
                base("ec2.amazonaws.com", "ReplaceRoute"),
                "InvalidRoute.NotFound"
            )
        ));
        assert!(fires(
            "config.vpc-change",
            base("ec2.amazonaws.com", "CreateVpcPeeringConnection")
        ));
        assert!(!fires(
            "config.vpc-change",
            base("ec2.amazonaws.com", "DescribeVpcs")
        ));
    }

    #[test]
    fn organizations_leave_is_high_even_when_denied() {
        assert_eq!(
            sev(
                "config.organizations-change",
                &base("organizations.amazonaws.com", "CreateAccount")
            ),
            Some(Severity::Low)
        );
        let leave = failed(
            base("organizations.amazonaws.com", "LeaveOrganization"),
            "AccessDenied",
        );
        assert_eq!(
            sev("config.organizations-change", &leave),
            Some(Severity::High)
        );
        assert!(!fires(
            "config.organizations-change",
            failed(
                base("organizations.amazonaws.com", "CreateAccount"),
                "AccessDenied"
            )
        ));
        assert!(!fires(
            "config.organizations-change",
            base("organizations.amazonaws.com", "ListAccounts")
        ));
    }

    #[test]
    fn security_tooling() {
        assert!(fires(
            "config.security-tooling-tampered",
            base("guardduty.amazonaws.com", "DeleteDetector")
        ));
        let disable = with_req(
            base("guardduty.amazonaws.com", "UpdateDetector"),
            json!({"detectorId": "d", "enable": false}),
        );
        assert_eq!(entity("config.security-tooling-tampered", &disable), "d");
        assert!(!fires(
            "config.security-tooling-tampered",
            with_req(
                base("guardduty.amazonaws.com", "UpdateDetector"),
                json!({"detectorId": "d", "enable": true})
            )
        ));
        // The flag as a string, as some callers log it.
        assert!(fires(
            "config.security-tooling-tampered",
            with_req(
                base("guardduty.amazonaws.com", "UpdateDetector"),
                json!({"detectorId": "d", "enable": "False"})
            )
        ));
        assert!(!fires(
            "config.security-tooling-tampered",
            with_req(
                base("guardduty.amazonaws.com", "UpdateDetector"),
                json!({"detectorId": "d", "enable": "true"})
            )
        ));
        assert!(fires(
            "config.security-tooling-tampered",
            base("wafv2.amazonaws.com", "DisassociateWebACL")
        ));
        assert!(fires(
            "config.security-tooling-tampered",
            base("events.amazonaws.com", "DisableRule")
        ));
        assert!(fires(
            "config.security-tooling-tampered",
            base("ec2.amazonaws.com", "DisableEbsEncryptionByDefault")
        ));
        assert!(fires(
            "config.security-tooling-tampered",
            base("securityhub.amazonaws.com", "BatchUpdateFindings")
        ));
        assert!(!fires(
            "config.security-tooling-tampered",
            base("securityhub.amazonaws.com", "GetFindings")
        ));
        assert!(!fires(
            "config.security-tooling-tampered",
            failed(
                base("guardduty.amazonaws.com", "DeleteDetector"),
                "AccessDenied"
            )
        ));
    }

    #[test]
    fn resource_sharing_public_foreign_and_known() {
        let share = |item: serde_json::Value| {
            with_req(
                base("ec2.amazonaws.com", "ModifySnapshotAttribute"),
                json!({"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"add": {"items": [item]}}}),
            )
        };
        assert_eq!(
            sev("config.resource-shared", &share(json!({"group": "all"}))),
            Some(Severity::High)
        );
        assert_eq!(
            sev(
                "config.resource-shared",
                &share(json!({"userId": "999988887777"}))
            ),
            Some(Severity::Medium)
        );
        assert_eq!(
            sev(
                "config.resource-shared",
                &share(json!({"userId": "111122223333"}))
            ),
            None,
            "own account"
        );
        assert_eq!(
            sev("config.resource-shared", &share(json!({"group": "none"}))),
            None,
            "not an account"
        );
        let known = Settings {
            known_accounts: ["999988887777".to_owned()].into(),
            ..Settings::default()
        };
        assert!(verdict_with(
            "config.resource-shared",
            &share(json!({"userId": "999988887777"})),
            &known
        )
        .is_none());
        let ami = with_req(
            base("ec2.amazonaws.com", "ModifyImageAttribute"),
            json!({"imageId": "ami-1", "launchPermission": {"add": {"items": [{"group": "all"}]}}}),
        );
        assert_eq!(entity("config.resource-shared", &ami), "ami-1");
        let rds = with_req(
            base("rds.amazonaws.com", "ModifyDBSnapshotAttribute"),
            json!({"dBSnapshotIdentifier": "db-snap", "attributeName": "restore", "valuesToAdd": ["all"]}),
        );
        assert_eq!(sev("config.resource-shared", &rds), Some(Severity::High));
        let removal = with_req(
            base("ec2.amazonaws.com", "ModifySnapshotAttribute"),
            json!({"snapshotId": "snap-1", "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}}),
        );
        assert!(!fires("config.resource-shared", removal));
    }

    #[test]
    fn access_key_for_other_user() {
        let key_for = |user: &str| {
            let mut v = with_req(
                base("iam.amazonaws.com", "CreateAccessKey"),
                json!({"userName": user}),
            );
            v["responseElements"] = json!({"accessKey": {"userName": user, "accessKeyId": "AKIA1", "status": "Active"}});
            v
        };
        assert_eq!(
            entity("config.access-key-for-other-user", &key_for("bob")),
            "bob"
        );
        assert!(!fires("config.access-key-for-other-user", key_for("alice")));
        let mut alice2 = key_for("ali");
        alice2["userIdentity"]["arn"] = json!("arn:aws:iam::111122223333:user/alice");
        assert!(
            fires("config.access-key-for-other-user", alice2),
            "a name that ends the same is not the same user"
        );
        assert!(
            !fires(
                "config.access-key-for-other-user",
                base("iam.amazonaws.com", "CreateAccessKey")
            ),
            "no target: own key"
        );
    }

    #[test]
    fn login_profile_for_other_or_without_reset() {
        let lp = |user: &str, reset: bool| {
            with_req(
                base("iam.amazonaws.com", "UpdateLoginProfile"),
                json!({"userName": user, "passwordResetRequired": reset}),
            )
        };
        assert!(fires("config.login-profile-change", lp("bob", false)));
        assert!(
            !fires("config.login-profile-change", lp("bob", true)),
            "a helpdesk reset forcing a change"
        );
        let as_string = with_req(
            base("iam.amazonaws.com", "UpdateLoginProfile"),
            json!({"userName": "bob", "passwordResetRequired": "true"}),
        );
        assert!(
            !fires("config.login-profile-change", as_string),
            "the reset flag logged as a string"
        );
        assert!(
            !fires("config.login-profile-change", lp("alice", false)),
            "one's own password"
        );
        let by_role = role_session(lp("alice", false), "Admin", "alice");
        assert!(
            !fires("config.login-profile-change", by_role),
            "a person's role session named after them"
        );
    }

    #[test]
    fn role_trust_changes() {
        let trust = |principal: serde_json::Value| {
            with_req(
                base("iam.amazonaws.com", "UpdateAssumeRolePolicy"),
                json!({"roleName": "r",
            "policyDocument": json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}).to_string()}),
            )
        };
        assert_eq!(
            sev(
                "config.role-trust-changed",
                &trust(json!({"Service": "ec2.amazonaws.com"}))
            ),
            Some(Severity::Medium)
        );
        assert_eq!(
            sev("config.role-trust-changed", &trust(json!({"AWS": "*"}))),
            Some(Severity::High)
        );
        assert_eq!(
            sev(
                "config.role-trust-changed",
                &trust(json!({"AWS": "arn:aws:iam::999988887777:root"}))
            ),
            Some(Severity::High)
        );
        assert_eq!(
            sev(
                "config.role-trust-changed",
                &trust(json!({"AWS": "arn:aws:iam::111122223333:role/x"}))
            ),
            Some(Severity::Medium)
        );
        assert!(!fires(
            "config.role-trust-changed",
            base("iam.amazonaws.com", "GetRole")
        ));
    }

    #[test]
    fn lambda_persistence_needs_a_function_caller() {
        let mut from_fn = role_session(
            base("iam.amazonaws.com", "CreateAccessKey"),
            "fn-role",
            "fn",
        );
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
        assert!(!fires(
            "config.lambda-persistence",
            failed(from_fn, "AccessDenied")
        ));
    }

    #[test]
    fn lambda_exposed_to_everyone_or_foreign_accounts() {
        let perm = |p: &str| {
            with_req(
                base("lambda.amazonaws.com", "AddPermission20150331v2"),
                json!({"functionName": "f", "principal": p, "action": "lambda:InvokeFunction"}),
            )
        };
        assert_eq!(entity("config.lambda-exposed", &perm("*")), "f");
        assert!(fires("config.lambda-exposed", perm("999988887777")));
        assert!(!fires("config.lambda-exposed", perm("111122223333")));
        assert!(!fires("config.lambda-exposed", perm("s3.amazonaws.com")));
        assert!(!fires(
            "config.lambda-exposed",
            with_req(
                base("lambda.amazonaws.com", "RemovePermission"),
                json!({"functionName": "f", "principal": "*"})
            )
        ));
    }

    #[test]
    fn lambda_code_changed_by_people_or_roles() {
        let code = with_req(
            base("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
            json!({"functionName": "f"}),
        );
        assert_eq!(
            sev("config.lambda-code-changed", &code),
            Some(Severity::Medium)
        );
        assert_eq!(
            sev(
                "config.lambda-code-changed",
                &role_session(code.clone(), "deploy", "ci")
            ),
            Some(Severity::Low)
        );
        let sso = role_session(code, "AWSReservedSSO_Dev_1", "dev@example.com");
        let mut sso = sso;
        sso["userIdentity"]["arn"] =
            json!("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_1/dev@example.com");
        assert_eq!(
            sev("config.lambda-code-changed", &sso),
            Some(Severity::Medium)
        );
        let layers = with_req(
            base(
                "lambda.amazonaws.com",
                "UpdateFunctionConfiguration20150331v2",
            ),
            json!({"functionName": "f", "layers": ["arn:aws:lambda:us-east-1:999988887777:layer:x:1"]}),
        );
        assert!(fires("config.lambda-code-changed", layers));
        let mut in_response = with_req(
            base(
                "lambda.amazonaws.com",
                "UpdateFunctionConfiguration20150331v2",
            ),
            json!({"functionName": "f"}),
        );
        in_response["responseElements"] = json!({"functionName": "f", "layers": [{"arn": "arn:aws:lambda:us-east-1:1:layer:x:1"}]});
        assert!(fires("config.lambda-code-changed", in_response));
        let memory = with_req(
            base(
                "lambda.amazonaws.com",
                "UpdateFunctionConfiguration20150331v2",
            ),
            json!({"functionName": "f", "memorySize": 512}),
        );
        assert!(!fires("config.lambda-code-changed", memory));
    }

    #[test]
    fn rolesanywhere() {
        assert!(fires(
            "config.rolesanywhere-trust-anchor",
            base("rolesanywhere.amazonaws.com", "CreateTrustAnchor")
        ));
        assert!(!fires(
            "config.rolesanywhere-trust-anchor",
            base("rolesanywhere.amazonaws.com", "ListTrustAnchors")
        ));
    }
}
