//! Credential access, execution, lateral movement: the single-event rows (the windowed ones,
//! bulk secret reads and the like, count across records and live with the windowed rules).

use serde_json::Value;

use super::*;
use crate::detect::{Category, Check, CloudTrail, Context, Hit, RuleKind, RuleMeta, Severity};

/// The single-event rules of the "Credential access, execution, lateral movement" dashboard.
pub static RULES: &[CloudTrailRule] = &[
    CloudTrailRule {
        meta: RuleMeta {
            id: "exec.ec2-user-data-modified",
            title: "EC2 user data modified",
            description: "An instance's user data was changed: the script runs as root at the next start.",
            severity: Severity::Medium,
            category: Category::CredentialAccess,
            entity: EntityKind::Resource,
            attack: Some(MODIFY_CLOUD_COMPUTE),
            dedup_minutes: 60,
            action_plan: &[
                "Read the new user data (DescribeInstanceAttribute userData) before the instance restarts; revert anything unknown.",
                "Check who can call ec2:ModifyInstanceAttribute and whether the instance was stopped just before.",
            ],
            references: &["Panther AWS.EC2.Startup.Script.Change"],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(ec2_user_data_modified),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "exec.ssm-remote-command",
            title: "Remote command or session through Systems Manager",
            description: "A person ran a command on, or opened a shell to, instances through SSM (SendCommand, StartSession).",
            severity: Severity::Low,
            category: Category::CredentialAccess,
            entity: EntityKind::Principal,
            attack: Some(CLOUD_ADMIN_COMMAND),
            dedup_minutes: 60,
            action_plan: &[
                "Check the command document and parameters (or the session log) against the person's task.",
                "Limit ssm:SendCommand and ssm:StartSession to the instances and documents each team needs.",
            ],
            references: &["Panther AWS.SSM.DistributedCommand", "Stratus Red Team aws.execution.ssm-send-command"],
        },
        kind: RuleKind::Single,
        sources: &["ssm.amazonaws.com"],
        check: Check::<CloudTrail>::One(ssm_remote_command),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "exec.unusual-instance-type",
            title: "Accelerated or very large instance launched",
            description: "RunInstances (successful or denied) asked for a GPU, machine-learning or very large instance type: the usual sign of cryptomining on stolen credentials.",
            severity: Severity::Medium,
            category: Category::CredentialAccess,
            entity: EntityKind::Principal,
            attack: Some(RESOURCE_HIJACKING),
            dedup_minutes: 60,
            action_plan: &[
                "Confirm with the team that owns the principal that it needed this instance type; if not, terminate the instances.",
                "Rotate the principal's credentials and add an SCP limiting instance types where GPUs are not used.",
            ],
            references: &["Panther AWS.EC2.LaunchUnusualEC2Instances"],
        },
        kind: RuleKind::Single,
        sources: &["ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(unusual_instance_type),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "lateral.ec2-instance-connect",
            title: "SSH key pushed with EC2 Instance Connect",
            description: "A temporary SSH key was pushed to an instance or its serial console (low), or serial console access was enabled for the account (medium).",
            severity: Severity::Low,
            category: Category::CredentialAccess,
            entity: EntityKind::Resource,
            attack: Some(REMOTE_SERVICES),
            dedup_minutes: 60,
            action_plan: &[
                "Check that the person had a reason to log in to this instance; look at the instance's auth log for the login that followed.",
                "Serial console access should stay disabled unless a break-glass procedure needs it.",
            ],
            references: &["Panther AWS.EC2.MultiInstanceConnect", "Stratus Red Team aws.lateral-movement.ec2-instance-connect"],
        },
        kind: RuleKind::Single,
        sources: &["ec2-instance-connect.amazonaws.com", "ec2.amazonaws.com"],
        check: Check::<CloudTrail>::One(ec2_instance_connect),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "impact.bedrock-model-access",
            title: "Bedrock model access enabled",
            description: "Access to a Bedrock foundation model was requested or agreed to: the first step of using stolen credentials for LLM abuse (LLMjacking).",
            severity: Severity::Medium,
            category: Category::CredentialAccess,
            entity: EntityKind::Account,
            attack: Some(RESOURCE_HIJACKING),
            dedup_minutes: 60,
            action_plan: &[
                "Confirm with the account owner that a team asked for this model; if not, treat the principal's credentials as stolen.",
                "Check Bedrock invocation logs and costs for the account since the change.",
            ],
            references: &["Permiso LLMjacking research", "Panther AWS.Bedrock.ModelAccess"],
        },
        kind: RuleKind::Single,
        sources: &["bedrock.amazonaws.com"],
        check: Check::<CloudTrail>::One(bedrock_model_access),
    },
];

fn ec2_user_data_modified(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !(r.is_success() && call_in(r, "ec2.amazonaws.com", &["ModifyInstanceAttribute"])) {
        return None;
    }
    let req = r.request();
    let user_data = req.get("userData").is_some() || req_str(r, "attribute") == Some("userData");
    user_data.then(|| Hit {
        entity: req_str(r, "instanceId").map(resource),
        ..Hit::default()
    })
}

fn ssm_remote_command(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    (r.is_success()
        && call_in(r, "ssm.amazonaws.com", &["SendCommand", "StartSession"])
        && is_human_session(r))
    .then(Hit::default)
}

/// Families of accelerated instances: GPU (p, g), Inferentia, Trainium, Gaudi (dl).
const ACCELERATED_FAMILIES: [&str; 5] = ["p", "g", "inf", "trn", "dl"];

/// Whether an instance type is accelerated or very large: an accelerated family followed by its
/// generation digit (`p4d.24xlarge`, `g5.xlarge`, `inf2.xlarge`), bare metal, a 24xlarge or
/// bigger size, or one of the configured prefixes.
pub fn is_unusual_instance_type(instance_type: &str, settings: &Settings) -> bool {
    let t = instance_type.to_ascii_lowercase();
    if settings
        .unusual_instance_types
        .iter()
        .any(|p| t.starts_with(&p.to_ascii_lowercase()))
    {
        return true;
    }
    let (family, size) = t.split_once('.').unwrap_or((&t, ""));
    let accelerated = ACCELERATED_FAMILIES.iter().any(|f| {
        family
            .strip_prefix(f)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_digit())
    });
    let very_large = size.starts_with("metal")
        || size
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 24);
    accelerated || very_large
}

fn unusual_instance_type(r: &CloudTrailRecord<'_>, settings: &Context<'_>) -> Option<Hit> {
    if !(call_in(r, "ec2.amazonaws.com", &["RunInstances"]) && (r.is_success() || r.is_denied())) {
        return None;
    }
    let req = r.request();
    let mut types: Vec<&str> = req_str(r, "instanceType").into_iter().collect();
    if let Some(items) = req.pointer("/instancesSet/items").and_then(Value::as_array) {
        types.extend(
            items
                .iter()
                .filter_map(|i| i.get("instanceType").and_then(Value::as_str)),
        );
    }
    types
        .iter()
        .any(|t| is_unusual_instance_type(t, settings))
        .then(Hit::default)
}

fn ec2_instance_connect(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    if !r.is_success() {
        return None;
    }
    if call_in(
        r,
        "ec2-instance-connect.amazonaws.com",
        &["SendSSHPublicKey", "SendSerialConsoleSSHPublicKey"],
    ) {
        return Some(Hit {
            entity: req_str(r, "instanceId").map(resource),
            ..Hit::default()
        });
    }
    call_in(r, "ec2.amazonaws.com", &["EnableSerialConsoleAccess"]).then(|| Hit {
        severity: Some(Severity::Medium),
        entity: r.account_id().map(resource),
        ..Hit::default()
    })
}

fn bedrock_model_access(r: &CloudTrailRecord<'_>, _: &Context<'_>) -> Option<Hit> {
    const NAMES: &[&str] = &[
        "PutFoundationModelEntitlement",
        "CreateFoundationModelAgreement",
        "PutUseCaseForModelAccess",
    ];
    (r.is_success() && call_in(r, "bedrock.amazonaws.com", NAMES)).then(Hit::default)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::*;
    use super::is_unusual_instance_type;
    use crate::detect::{Settings, Severity};

    #[test]
    fn user_data_modified() {
        let v = with_req(
            base("ec2.amazonaws.com", "ModifyInstanceAttribute"),
            json!({"instanceId": "i-1", "userData": "<sensitiveDataRemoved>"}),
        );
        assert_eq!(
            verdict("exec.ec2-user-data-modified", &v)
                .unwrap()
                .entity
                .unwrap()
                .id,
            "i-1"
        );
        let other = with_req(
            base("ec2.amazonaws.com", "ModifyInstanceAttribute"),
            json!({"instanceId": "i-1", "instanceType": {"value": "t3.large"}}),
        );
        assert!(!fires("exec.ec2-user-data-modified", other));
    }

    #[test]
    fn ssm_by_people_not_automation() {
        assert!(fires(
            "exec.ssm-remote-command",
            base("ssm.amazonaws.com", "SendCommand")
        ));
        assert!(!fires(
            "exec.ssm-remote-command",
            role_session(base("ssm.amazonaws.com", "SendCommand"), "patch", "maint")
        ));
        assert!(!fires(
            "exec.ssm-remote-command",
            base("ssm.amazonaws.com", "ListCommands")
        ));
    }

    #[test]
    fn instance_types() {
        let s = Settings::default();
        for t in [
            "p4d.24xlarge",
            "g5.xlarge",
            "inf2.xlarge",
            "trn1.2xlarge",
            "dl1.24xlarge",
            "c5.metal",
            "x2iedn.32xlarge",
        ] {
            assert!(is_unusual_instance_type(t, &s), "{t}");
        }
        for t in [
            "t3.micro",
            "m5.large",
            "c6g.xlarge",
            "gr6.xlarge.invalid",
            "m5.16xlarge",
        ] {
            assert!(!is_unusual_instance_type(t, &s), "{t}");
        }
        let custom = Settings {
            unusual_instance_types: vec!["hpc".into()],
            ..Settings::default()
        };
        assert!(is_unusual_instance_type("hpc7g.16xlarge", &custom));
    }

    #[test]
    fn run_instances_success_or_denied() {
        let run = |t: &str| {
            with_req(
                base("ec2.amazonaws.com", "RunInstances"),
                json!({"instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1}]}, "instanceType": t}),
            )
        };
        assert!(fires("exec.unusual-instance-type", run("p3.16xlarge")));
        assert!(fires(
            "exec.unusual-instance-type",
            failed(run("p3.16xlarge"), "Client.UnauthorizedOperation")
        ));
        assert!(!fires(
            "exec.unusual-instance-type",
            failed(run("p3.16xlarge"), "InsufficientInstanceCapacity")
        ));
        assert!(!fires("exec.unusual-instance-type", run("t3.micro")));
    }

    #[test]
    fn instance_connect_and_serial_console() {
        let push = with_req(
            base("ec2-instance-connect.amazonaws.com", "SendSSHPublicKey"),
            json!({"instanceId": "i-9", "instanceOSUser": "ec2-user"}),
        );
        let v = verdict("lateral.ec2-instance-connect", &push).unwrap();
        assert_eq!(v.entity.unwrap().id, "i-9");
        assert_eq!(v.severity, None);
        let serial = verdict(
            "lateral.ec2-instance-connect",
            &base("ec2.amazonaws.com", "EnableSerialConsoleAccess"),
        )
        .unwrap();
        assert_eq!(serial.severity, Some(Severity::Medium));
        assert!(!fires(
            "lateral.ec2-instance-connect",
            base("ec2.amazonaws.com", "DisableSerialConsoleAccess")
        ));
    }

    #[test]
    fn bedrock_model_access() {
        assert!(fires(
            "impact.bedrock-model-access",
            base("bedrock.amazonaws.com", "PutUseCaseForModelAccess")
        ));
        assert!(!fires(
            "impact.bedrock-model-access",
            base("bedrock.amazonaws.com", "ListFoundationModels")
        ));
    }
}
