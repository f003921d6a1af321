//! Findings imported into AWS Security Hub, in the AWS Security Finding Format (ASFF).
//!
//! The account model: findings are imported in the account the stack runs in (the
//! security-tooling account), under its own default product
//! (`arn:aws:securityhub:<region>:<account>:product/<account>/default`); `AwsAccountId` must be
//! the importing account, so the affected account is named in `Resources` (an `AwsAccount`
//! resource) and in `ProductFields` (`cloudsec/account_id`). Assuming a role in each member
//! account would attribute findings to their accounts, at the price of a role per account and
//! a trust in the tooling account everywhere; Security Hub's aggregation shows the tooling
//! account's findings beside the members' anyway. Severity and types go under
//! `FindingProviderFields`, so that the changes Security Hub users make are never overwritten;
//! an update of a finding keeps its `Id`.
//!
//! Every import comes back as a "Security Hub Findings - Imported" event: `finding-ingest`
//! drops the findings whose generator is ours ([`is_ours`]), or the stack would loop.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::detect::Severity;
use crate::finding::Finding;

/// ASFF's schema version.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// Our generators' prefix: `cloudsec/<rule id>`.
pub const GENERATOR_PREFIX: &str = "cloudsec/";
/// Characters of a title.
pub const MAX_TITLE: usize = 256;
/// Characters of a description.
pub const MAX_DESCRIPTION: usize = 1024;
/// Resources of a finding.
pub const MAX_RESOURCES: usize = 32;
/// Bytes of one finding.
pub const MAX_FINDING_BYTES: usize = 240 * 1024;

/// Whether a Security Hub finding is one this product imported (by its generator id).
pub fn is_ours(generator_id: Option<&str>) -> bool {
    generator_id.is_some_and(|g| g.starts_with(GENERATOR_PREFIX))
}

/// Where findings are imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
    pub arn: String,
    /// The importing account.
    pub account: String,
    /// The region.
    pub region: String,
}

impl Product {
    /// The default product of `account` in `region`.
    pub fn default_of(partition: &str, region: &str, account: &str) -> Product {
        Product {
            arn: format!(
                "arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
            ),
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }

    /// The product of an ARN as the template writes it, or `None`.
    pub fn from_arn(arn: &str) -> Option<Product> {
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() != 6 || parts[2] != "securityhub" || !parts[5].starts_with("product/") {
            return None;
        }
        Some(Product {
            arn: arn.to_owned(),
            account: parts[4].to_owned(),
            region: parts[3].to_owned(),
        })
    }
}

fn cut(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let mut out: String = clean.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Info => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// ASFF's finding types for a finding: its ATT&CK tactic under `TTPs/`, else by dashboard.
fn types(f: &Finding) -> Vec<String> {
    const TTPS: &[&str] = &[
        "Initial Access",
        "Execution",
        "Persistence",
        "Privilege Escalation",
        "Defense Evasion",
        "Credential Access",
        "Discovery",
        "Lateral Movement",
        "Collection",
        "Command and Control",
    ];
    if let Some(t) = &f.threat {
        if let Some(name) = t.tactic.name.iter().find(|n| TTPS.contains(&n.as_str())) {
            return vec![format!("TTPs/{name}")];
        }
        if t.tactic
            .name
            .iter()
            .any(|n| n == "Exfiltration" || n == "Impact")
        {
            return vec!["Effects/Data Exfiltration".to_owned()];
        }
    }
    vec![match f.rule.category.as_str() {
        c if c.contains("control") => {
            "Software and Configuration Checks/AWS Security Best Practices"
        }
        c if c.contains("network") || c.contains("web") => "Unusual Behaviors/Network Flow",
        _ => "Unusual Behaviors/User",
    }
    .to_owned()]
}

/// The ASFF document of a finding, as imported and as `cloudsec scan --format asff` prints it.
pub fn document(f: &Finding, product: &Product) -> Value {
    let b = &f.finding;
    let affected = f.cloud.account.as_ref().map(|a| a.id.as_str());
    let region = f.cloud.region.as_deref().unwrap_or(&product.region);
    let mut resources = vec![json!({
        "Type": "Other",
        "Id": cut(&format!("{}:{}", b.entity.kind, b.entity.id), 512),
        "Partition": "aws",
        "Region": region,
    })];
    if let Some(a) = affected {
        resources.push(json!({
            "Type": "AwsAccount",
            "Id": format!("AWS::::Account:{}", cut(a, 64)),
            "Partition": "aws",
            "Region": region,
        }));
    }
    resources.truncate(MAX_RESOURCES);
    let mut product_fields: HashMap<&str, String> = HashMap::new();
    product_fields.insert("cloudsec/finding_id", b.id.clone());
    product_fields.insert("cloudsec/rule_id", f.rule.id.clone());
    product_fields.insert("cloudsec/count", b.count.to_string());
    product_fields.insert("cloudsec/entity", cut(&b.entity.id, 512));
    if let Some(a) = affected {
        product_fields.insert("cloudsec/account_id", cut(a, 64));
    }
    let severity = json!({"Label": label(b.severity), "Original": b.severity.as_str()});
    let steps: Vec<String> = b
        .action_plan
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect();
    json!({
        "SchemaVersion": SCHEMA_VERSION,
        "Id": b.id,
        "ProductArn": product.arn,
        "ProductName": "Cloud Infrastructure Security",
        "CompanyName": "cloudsec",
        "GeneratorId": format!("{GENERATOR_PREFIX}{}", f.rule.id),
        "AwsAccountId": product.account,
        "Region": product.region,
        "Types": types(f),
        "FirstObservedAt": f.event.start,
        "LastObservedAt": f.event.end,
        "CreatedAt": f.event.start,
        "UpdatedAt": f.event.end,
        "Severity": severity,
        "Title": cut(&format!("{}: {}", f.rule.name, b.entity.id), MAX_TITLE),
        "Description": cut(&f.message, MAX_DESCRIPTION),
        "Remediation": {"Recommendation": {"Text": cut(&steps.join(" "), 512)}},
        "ProductFields": product_fields,
        "Resources": resources,
        "FindingProviderFields": {"Severity": severity, "Types": types(f)},
        "RecordState": "ACTIVE",
    })
}

/// The SDK's form of an ASFF document made by [`document`].
pub fn to_sdk(doc: &Value) -> aws_sdk_securityhub::types::AwsSecurityFinding {
    use aws_sdk_securityhub::types as t;
    let s = |k: &str| doc[k].as_str().unwrap_or_default().to_owned();
    let label = |v: &Value| t::SeverityLabel::from(v["Label"].as_str().unwrap_or("INFORMATIONAL"));
    let mut b = t::AwsSecurityFinding::builder()
        .schema_version(s("SchemaVersion"))
        .id(s("Id"))
        .product_arn(s("ProductArn"))
        .product_name(s("ProductName"))
        .company_name(s("CompanyName"))
        .generator_id(s("GeneratorId"))
        .aws_account_id(s("AwsAccountId"))
        .region(s("Region"))
        .first_observed_at(s("FirstObservedAt"))
        .last_observed_at(s("LastObservedAt"))
        .created_at(s("CreatedAt"))
        .updated_at(s("UpdatedAt"))
        .title(s("Title"))
        .description(s("Description"))
        .record_state(t::RecordState::Active)
        .severity(
            t::Severity::builder()
                .label(label(&doc["Severity"]))
                .original(doc["Severity"]["Original"].as_str().unwrap_or_default())
                .build(),
        )
        .remediation(
            t::Remediation::builder()
                .recommendation(
                    t::Recommendation::builder()
                        .text(
                            doc["Remediation"]["Recommendation"]["Text"]
                                .as_str()
                                .unwrap_or_default(),
                        )
                        .build(),
                )
                .build(),
        );
    let mut provider = t::FindingProviderFields::builder().severity(
        t::FindingProviderSeverity::builder()
            .label(label(&doc["FindingProviderFields"]["Severity"]))
            .original(doc["Severity"]["Original"].as_str().unwrap_or_default())
            .build(),
    );
    for ty in doc["Types"].as_array().into_iter().flatten() {
        b = b.types(ty.as_str().unwrap_or_default());
        provider = provider.types(ty.as_str().unwrap_or_default());
    }
    b = b.finding_provider_fields(provider.build());
    for (k, v) in doc["ProductFields"].as_object().into_iter().flatten() {
        b = b.product_fields(k, v.as_str().unwrap_or_default());
    }
    for r in doc["Resources"].as_array().into_iter().flatten() {
        b = b.resources(
            t::Resource::builder()
                .r#type(r["Type"].as_str().unwrap_or("Other"))
                .id(r["Id"].as_str().unwrap_or_default())
                .partition(t::Partition::Aws)
                .region(r["Region"].as_str().unwrap_or_default())
                .build(),
        );
    }
    b.build()
}
