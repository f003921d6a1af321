//! Importing findings into AWS Security Hub with `BatchImportFindings` ([`super::asff`]).

use std::time::Duration;

use aws_sdk_securityhub::Client;

use super::asff::{self, Product};
use super::{FindingSink, PublishError, Rejected};
use crate::finding::Finding;

/// `BatchImportFindings` takes at most 100 findings per call.
pub const MAX_BATCH: usize = 100;
/// Findings that a successful call reports as failed are retried this many times, with a
/// growing pause, before they are answered as refused.
const ATTEMPTS: u32 = 3;

/// Imports findings under one product.
#[derive(Debug, Clone)]
pub struct SecurityHubSink {
    client: Client,
    product: Product,
}

impl SecurityHubSink {
    /// A sink importing under `product`.
    pub fn new(client: Client, product: Product) -> SecurityHubSink {
        SecurityHubSink { client, product }
    }
}

impl FindingSink for SecurityHubSink {
    async fn publish(&self, findings: &[&Finding]) -> Result<Vec<Rejected>, PublishError> {
        let mut rejected = Vec::new();
        let mut docs = Vec::with_capacity(findings.len());
        for f in findings {
            let doc = asff::document(f, &self.product);
            if doc.to_string().len() > asff::MAX_FINDING_BYTES {
                rejected.push(Rejected {
                    id: f.finding.id.clone(),
                    reason: format!("over Security Hub's {} bytes", asff::MAX_FINDING_BYTES),
                });
                continue;
            }
            docs.push(doc);
        }
        for batch in docs.chunks(MAX_BATCH) {
            let mut pending: Vec<&serde_json::Value> = batch.iter().collect();
            for attempt in 1..=ATTEMPTS {
                let out = self
                    .client
                    .batch_import_findings()
                    .set_findings(Some(pending.iter().map(|d| asff::to_sdk(d)).collect()))
                    .send()
                    .await
                    .map_err(|e| PublishError::sdk("Security Hub BatchImportFindings", e))?;
                let failed = out.failed_findings();
                if failed.is_empty() {
                    pending.clear();
                    break;
                }
                tracing::warn!(
                    failed = failed.len(),
                    attempt,
                    first = failed.first().and_then(|f| f.error_message()).unwrap_or(""),
                    "Security Hub failed some findings; retrying them"
                );
                let ids: Vec<&str> = failed.iter().filter_map(|f| f.id()).collect();
                if attempt == ATTEMPTS {
                    for f in failed {
                        rejected.push(Rejected {
                            id: f.id().unwrap_or_default().to_owned(),
                            reason: format!(
                                "Security Hub: {}: {}",
                                f.error_code().unwrap_or(""),
                                f.error_message().unwrap_or("")
                            ),
                        });
                    }
                    pending.clear();
                    break;
                }
                pending.retain(|d| ids.contains(&d["Id"].as_str().unwrap_or_default()));
                tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
            }
        }
        Ok(rejected)
    }
}
