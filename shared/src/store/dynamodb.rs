//! The DynamoDB findings store: a table of its own, on-demand, TTL on `expires_at`.
//!
//! | item | `id` | `entity` (index hash) | `last_seen` (index range) | attributes |
//! |---|---|---|---|---|
//! | finding | the finding id | `<type>:<id>` | last event time | `rule`, `category`, `severity`, `account`, `region`, `count`, `risk_score`, `stored_at`, `published`, `resolved_at`, `doc` (the finding, JSON), `expires_at` |
//! | suppressed counts of one input | `S#<hash of the input>` | `tuning:suppressed` | processing time | `counts` (JSON), `expires_at` |
//! | the last digest | `digest` | | | `at` |
//!
//! The index `by-entity` (hash `entity`, range `last_seen`, all attributes) makes an entity's
//! open findings one `Query`. A finding is written with `UpdateItem` under the condition that
//! it is new or has more events than kept: a redelivery or an older view of it (a delayed
//! retry) changes nothing.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use sha2::{Digest, Sha256};

use super::{
    entity_key, resolved_by_pass, stored, FindingStore, Kept, StoreFuture, StoredFinding,
    SuppressedCount,
};
use crate::engine::evaluate::Fired;
use crate::engine::InputId;
use crate::error::PortError;
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// The entity index.
pub const ENTITY_INDEX: &str = "by-entity";
/// The entity of suppressed-count items.
const SUPPRESSED_ENTITY: &str = "tuning:suppressed";
/// Writes in flight at once for one input.
const CONCURRENT_WRITES: usize = 16;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoFindings {
    client: Client,
    table: String,
    retention_secs: i64,
}

impl DynamoFindings {
    /// The store in `table`; items expire `retention_days` after their last event.
    pub fn new(client: Client, table: &str, retention_days: i64) -> DynamoFindings {
        DynamoFindings {
            client,
            table: table.to_owned(),
            retention_secs: retention_days * 86_400,
        }
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn put_finding(&self, f: &StoredFinding, now: i64) -> Result<(), PortError> {
        let doc = serde_json::to_string(&f.finding)
            .map_err(|e| PortError::permanent(format!("finding as JSON: {e}")))?;
        let body = &f.finding.finding;
        let last = parse_rfc3339(&f.finding.event.end).unwrap_or(now);
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let n = |v: String| AttributeValue::N(v);
        // Once sent, a finding stays published, whatever a later view of it says.
        let published = if f.published {
            ":published"
        } else {
            "if_not_exists(published, :published)"
        };
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(&body.id))
            .update_expression(format!(
                "SET entity = :entity, last_seen = :last, #rule = :rule, category = :category, \
                 severity = :severity, #count = :count, risk_score = :risk, doc = :doc, \
                 expires_at = :expires, stored_at = if_not_exists(stored_at, :now), \
                 account = :account, #region = :region, published = {published} \
                 REMOVE resolved_at"
            ))
            // New, or with more events: a control that fails again after its pass reopens.
            // The same view again (a redelivery) or an older one changes nothing.
            .condition_expression("attribute_not_exists(id) OR #count < :count")
            .expression_attribute_names("#rule", "rule")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#region", "region")
            .expression_attribute_values(":entity", s(&entity_key(&f.finding)))
            .expression_attribute_values(":last", s(&f.finding.event.end))
            .expression_attribute_values(":rule", s(&f.finding.rule.id))
            .expression_attribute_values(":category", s(&body.category))
            .expression_attribute_values(":severity", s(body.severity.as_str()))
            .expression_attribute_values(":count", n(body.count.to_string()))
            .expression_attribute_values(":risk", n(f.finding.event.risk_score.to_string()))
            .expression_attribute_values(":doc", s(&doc))
            .expression_attribute_values(":expires", n((last + self.retention_secs).to_string()))
            .expression_attribute_values(":now", s(&f.stored_at))
            .expression_attribute_values(
                ":account",
                s(f.finding
                    .cloud
                    .account
                    .as_ref()
                    .map_or("", |a| a.id.as_str())),
            )
            .expression_attribute_values(
                ":region",
                s(f.finding.cloud.region.as_deref().unwrap_or("")),
            )
            .expression_attribute_values(":published", AttributeValue::Bool(f.published));
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                // A newer view of this finding is already kept.
                Ok(())
            }
            Err(e) => Err(PortError::sdk("findings store: UpdateItem", e)),
        }
    }

    async fn query_entity(
        &self,
        entity: &str,
        since: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, PortError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(ENTITY_INDEX)
                .key_condition_expression("entity = :e AND last_seen >= :since")
                .expression_attribute_values(":e", AttributeValue::S(entity.to_owned()))
                .expression_attribute_values(":since", AttributeValue::S(since.to_owned()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| PortError::sdk("findings store: Query", e))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }
}

/// A finding item back as a [`StoredFinding`]; an item that is not one (or was damaged) is
/// skipped with a warning rather than failing the report.
fn finding_of(item: &HashMap<String, AttributeValue>) -> Option<StoredFinding> {
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let doc = text("doc")?;
    match serde_json::from_str(&doc) {
        Ok(finding) => Some(StoredFinding {
            finding,
            stored_at: text("stored_at").unwrap_or_default(),
            published: item
                .get("published")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            resolved_at: text("resolved_at"),
        }),
        Err(e) => {
            tracing::warn!(id = ?text("id"), error = %e, "findings store: item is not a finding; skipped");
            None
        }
    }
}

impl FindingStore for DynamoFindings {
    fn keep<'a>(
        &'a self,
        input: &'a InputId,
        fired: &'a [Fired],
        suppressed: &'a [SuppressedCount],
        now: i64,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            for chunk in fired.chunks(CONCURRENT_WRITES) {
                let writes = chunk.iter().map(|f| {
                    let kept = stored(f, now);
                    async move { self.put_finding(&kept, now).await }
                });
                for r in futures_util::future::join_all(writes).await {
                    r?;
                }
            }
            if !suppressed.is_empty() {
                let id = hex::encode(&Sha256::digest(input.ledger().as_bytes())[..16]);
                let counts = serde_json::to_string(suppressed)
                    .map_err(|e| PortError::permanent(format!("suppressed counts: {e}")))?;
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .item("id", AttributeValue::S(format!("S#{id}")))
                    .item("entity", AttributeValue::S(SUPPRESSED_ENTITY.to_owned()))
                    .item("last_seen", AttributeValue::S(format_rfc3339(now)))
                    .item("counts", AttributeValue::S(counts))
                    .item(
                        "expires_at",
                        AttributeValue::N((now + self.retention_secs).to_string()),
                    )
                    .send()
                    .await
                    .map_err(|e| PortError::sdk("findings store: PutItem", e))?;
            }
            Ok(())
        })
    }

    fn open_for<'a>(
        &'a self,
        entity: &'a str,
        since: &'a str,
    ) -> StoreFuture<'a, Vec<StoredFinding>> {
        Box::pin(async move {
            Ok(self
                .query_entity(entity, since)
                .await?
                .iter()
                .filter_map(finding_of)
                .filter(|f| f.resolved_at.is_none())
                .collect())
        })
    }

    fn since<'a>(&'a self, since: &'a str) -> StoreFuture<'a, Kept> {
        Box::pin(async move {
            let mut kept = Kept::default();
            let mut start = None;
            loop {
                let page = self
                    .client
                    .scan()
                    .table_name(&self.table)
                    .filter_expression("last_seen >= :since")
                    .expression_attribute_values(":since", AttributeValue::S(since.to_owned()))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| PortError::sdk("findings store: Scan", e))?;
                for item in page.items() {
                    let is_suppressed = item
                        .get("entity")
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|e| e == SUPPRESSED_ENTITY);
                    if is_suppressed {
                        let counts = item.get("counts").and_then(|v| v.as_s().ok());
                        match counts.map(|c| serde_json::from_str::<Vec<SuppressedCount>>(c)) {
                            Some(Ok(c)) => kept.suppressed.extend(c),
                            _ => {
                                tracing::warn!("findings store: damaged suppressed counts; skipped")
                            }
                        }
                    } else if let Some(f) = finding_of(item) {
                        kept.findings.push(f);
                    }
                }
                match page.last_evaluated_key {
                    Some(k) if !k.is_empty() => start = Some(k),
                    _ => return Ok(kept),
                }
            }
        })
    }

    fn resolve_control<'a>(
        &'a self,
        entity: &'a str,
        control: &'a str,
        at: i64,
    ) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut n = 0;
            // Every finding of the entity, whatever its last event.
            for item in self.query_entity(entity, "0000").await? {
                let Some(f) = finding_of(&item) else { continue };
                if !resolved_by_pass(&f, control, at) {
                    continue;
                }
                let update = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("id", AttributeValue::S(f.finding.finding.id.clone()))
                    .update_expression("SET resolved_at = :at")
                    // Not if it failed again since (a newer view was written meanwhile).
                    .condition_expression("attribute_exists(id) AND last_seen <= :end")
                    .expression_attribute_values(":at", AttributeValue::S(format_rfc3339(at)))
                    .expression_attribute_values(":end", AttributeValue::S(format_rfc3339(at)))
                    .send()
                    .await;
                match update {
                    Ok(_) => n += 1,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                    Err(e) => return Err(PortError::sdk("findings store: UpdateItem", e)),
                }
            }
            Ok(n)
        })
    }

    fn last_digest(&self) -> StoreFuture<'_, Option<i64>> {
        Box::pin(async move {
            let item = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("id", AttributeValue::S("digest".to_owned()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| PortError::sdk("findings store: GetItem", e))?;
            Ok(item
                .item
                .and_then(|i| i.get("at").and_then(|v| v.as_n().ok()).cloned())
                .and_then(|n| n.parse().ok()))
        })
    }

    fn record_digest(&self, at: i64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("id", AttributeValue::S("digest".to_owned()))
                .item("at", AttributeValue::N(at.to_string()))
                .send()
                .await
                .map_err(|e| PortError::sdk("findings store: PutItem", e))?;
            Ok(())
        })
    }
}
