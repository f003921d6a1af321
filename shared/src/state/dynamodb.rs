//! The DynamoDB state store: one table, on-demand, TTL on `expires_at`.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | counter | `C#<rule>|<entity>|<discriminator>` | window start | `n`, `d0`/`d1` (string sets), `first`, `last`, `expires_at` |
//! | ledger | `L#<input id>#<chunk>` | 0 | `expires_at` |
//! | finding | `F#<finding id>` | 0 | `published`, `owner`, `lease_until`, `expires_at` |
//!
//! An input's counter updates commit in `TransactWriteItems` together with a ledger item that
//! must not exist yet: a redelivered input finds its ledger item, the transaction is cancelled,
//! and nothing is counted twice. A crash half-way loses nothing: a transaction applies whole or
//! not at all, and the retry commits what did not.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, PutRequest, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use sha2::{Digest, Sha256};

use super::{
    ledger_plan, Claim, CounterState, CounterUpdate, Counters, FindingLedger, LoginHistory,
    StateError,
};

/// `TransactWriteItems` takes at most 100 actions: one ledger item and 99 counters.
pub const MAX_COUNTERS_PER_TRANSACTION: usize = super::MAX_UPDATES_PER_LEDGER_ITEM;
/// `BatchGetItem` reads at most 100 keys per call.
const MAX_BATCH_GET: usize = 100;
/// Transactions cancelled by a conflict with a concurrent one are retried this many times.
const TRANSACTION_ATTEMPTS: u32 = 6;
/// Ledger items outlive any redelivery: SQS keeps a message at most 14 days.
pub const LEDGER_TTL_SECS: i64 = 15 * 24 * 3600;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key(pk: String, sk: i64) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), n(sk))])
}

/// A request that could not be built: a bug, not something a retry mends.
fn build_err(what: &str, e: &dyn std::error::Error) -> StateError {
    StateError::permanent(format!("{what}: {e}"))
}

fn num(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl DynamoStore {
    /// A store over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    fn counter_pk(u: &CounterUpdate) -> String {
        format!("C#{}", u.key.series())
    }

    fn update_action(&self, u: &CounterUpdate) -> Result<TransactWriteItem, StateError> {
        let mut expr = String::from("SET expires_at = :e, #first = if_not_exists(#first, :f), #last = if_not_exists(#last, :l) ADD #n :n");
        let mut values = HashMap::from([
            (":e".to_owned(), n(u.expires_at)),
            (":f".to_owned(), n(u.first_seen)),
            (":l".to_owned(), n(u.last_seen)),
            (":n".to_owned(), n(u.count)),
        ]);
        for (i, set) in u.distinct.iter().enumerate() {
            if !set.is_empty() {
                expr.push_str(&format!(", d{i} :d{i}"));
                values.insert(
                    format!(":d{i}"),
                    AttributeValue::Ss(set.iter().cloned().collect()),
                );
            }
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(Self::counter_pk(u), u.key.window_start)))
            .update_expression(expr)
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#first", "first")
            .expression_attribute_names("#last", "last")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| build_err("build update", &e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Commits one chunk with its ledger item; `Ok` also when the chunk was committed before.
    async fn commit_chunk(
        &self,
        ledger_pk: String,
        chunk: &[CounterUpdate],
    ) -> Result<(), StateError> {
        let expires = chunk.iter().map(|u| u.expires_at).max().unwrap_or(0) + LEDGER_TTL_SECS;
        let ledger = Put::builder()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                ("pk".to_owned(), s(ledger_pk.clone())),
                ("sk".to_owned(), n(0)),
                ("expires_at".to_owned(), n(expires)),
            ])))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_err("build ledger put", &e))?;
        let mut items = vec![TransactWriteItem::builder().put(ledger).build()];
        for u in chunk {
            items.push(self.update_action(u)?);
        }
        // The same token for the same chunk: DynamoDB itself then treats a resent request as
        // done (within 10 minutes); the ledger condition covers any later redelivery.
        let token = hex::encode(&Sha256::digest(ledger_pk.as_bytes())[..16]);
        for attempt in 1..=TRANSACTION_ATTEMPTS {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let e = match result {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if let SdkError::ServiceError(service) = &e {
                if let TransactWriteItemsError::TransactionCanceledException(c) = service.err() {
                    let reasons = c.cancellation_reasons();
                    let ledger_exists = reasons
                        .first()
                        .and_then(|r| r.code())
                        .is_some_and(|c| c == "ConditionalCheckFailed");
                    if ledger_exists {
                        return Ok(());
                    }
                    let conflict = reasons.iter().any(|r| {
                        matches!(
                            r.code(),
                            Some(
                                "TransactionConflict"
                                    | "ThrottlingError"
                                    | "ProvisionedThroughputExceeded"
                            )
                        )
                    });
                    if conflict && attempt < TRANSACTION_ATTEMPTS {
                        tokio::time::sleep(Duration::from_millis(20 * 2u64.pow(attempt))).await;
                        continue;
                    }
                }
            }
            return Err(StateError::sdk(&format!("commit {ledger_pk}"), e));
        }
        Err(StateError::new(format!(
            "commit {ledger_pk}: still conflicting after {TRANSACTION_ATTEMPTS} attempts"
        )))
    }

    /// Every item of `keys` that exists, read consistently, 100 keys a call, asking again for
    /// the keys DynamoDB left unprocessed (throttling).
    async fn batch_get(
        &self,
        mut keys: Vec<HashMap<String, AttributeValue>>,
        projection: Option<&str>,
        what: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StateError> {
        // The same key twice in one call is an error for DynamoDB.
        keys.sort_by_key(|k| format!("{:?}{:?}", k.get("pk"), k.get("sk")));
        keys.dedup();
        let mut items = Vec::new();
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .set_projection_expression(projection.map(str::to_owned))
                    .build()
                    .map_err(|e| build_err("build batch get", &e))?,
            );
            while let Some(keys) = request.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| StateError::sdk(what, e))?;
                items.extend(
                    out.responses()
                        .and_then(|r| r.get(&self.table))
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
                request = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
                if request.is_some() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Ok(items)
    }

    async fn read(&self, updates: &[CounterUpdate]) -> Result<Vec<CounterState>, StateError> {
        let keys = updates
            .iter()
            .map(|u| key(Self::counter_pk(u), u.key.window_start))
            .collect();
        let mut found: HashMap<(String, i64), CounterState> = HashMap::new();
        for item in self.batch_get(keys, None, "read counters").await? {
            let pk = item
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let set = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_ss().ok())
                    .map(|v| v.iter().cloned().collect())
                    .unwrap_or_default()
            };
            found.insert(
                (pk, num(&item, "sk")),
                CounterState {
                    count: num(&item, "n").max(0) as u64,
                    distinct: [set("d0"), set("d1")],
                    first_seen: num(&item, "first"),
                    last_seen: num(&item, "last"),
                },
            );
        }
        Ok(updates
            .iter()
            .map(|u| {
                found
                    .remove(&(Self::counter_pk(u), u.key.window_start))
                    .unwrap_or_default()
            })
            .collect())
    }

    /// `first`/`last` hold the earliest and latest event time. An update expression cannot take
    /// a minimum, so inputs delivered out of order are corrected here, all items in one
    /// transaction: min and max are idempotent and need no ledger. If a concurrent writer moved
    /// a time meanwhile (a condition fails), each item is corrected on its own.
    async fn widen_times(
        &self,
        updates: &[CounterUpdate],
        states: &mut [CounterState],
    ) -> Result<(), StateError> {
        let mut actions = Vec::new();
        for (u, state) in updates.iter().zip(states.iter()) {
            if let Some(update) = self.widen_action(u, state)? {
                actions.push((u, update));
            }
        }
        for chunk in actions.chunks(MAX_COUNTERS_PER_TRANSACTION + 1) {
            let items = chunk
                .iter()
                .map(|(_, a)| TransactWriteItem::builder().update(a.clone()).build())
                .collect();
            let batch = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            if batch.is_err() {
                for (_, a) in chunk {
                    let r = self
                        .client
                        .update_item()
                        .table_name(&self.table)
                        .set_key(Some(a.key().clone()))
                        .update_expression(a.update_expression())
                        .set_condition_expression(a.condition_expression().map(str::to_owned))
                        .set_expression_attribute_names(a.expression_attribute_names().cloned())
                        .set_expression_attribute_values(a.expression_attribute_values().cloned())
                        .send()
                        .await;
                    match r {
                        Ok(_) => {}
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                        Err(e) => return Err(StateError::sdk("widen counter times", e)),
                    }
                }
            }
        }
        for (u, state) in updates.iter().zip(states.iter_mut()) {
            state.first_seen = state.first_seen.min(u.first_seen);
            state.last_seen = state.last_seen.max(u.last_seen);
        }
        Ok(())
    }

    /// The update that widens one counter's times, when this input widens them.
    fn widen_action(
        &self,
        u: &CounterUpdate,
        state: &CounterState,
    ) -> Result<Option<Update>, StateError> {
        let (earlier, later) = (
            u.first_seen < state.first_seen,
            u.last_seen > state.last_seen,
        );
        let (set, cond) = match (earlier, later) {
            (false, false) => return Ok(None),
            (true, false) => ("SET #first = :f", "#first > :f"),
            (false, true) => ("SET #last = :l", "#last < :l"),
            (true, true) => ("SET #first = :f, #last = :l", "#first > :f AND #last < :l"),
        };
        let mut b = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(Self::counter_pk(u), u.key.window_start)))
            .update_expression(set)
            .condition_expression(cond);
        if earlier {
            b = b
                .expression_attribute_names("#first", "first")
                .expression_attribute_values(":f", n(u.first_seen));
        }
        if later {
            b = b
                .expression_attribute_names("#last", "last")
                .expression_attribute_values(":l", n(u.last_seen));
        }
        b.build()
            .map(Some)
            .map_err(|e| build_err("build widen", &e))
    }
}

impl LoginHistory for DynamoStore {
    async fn record_login(
        &self,
        user: &str,
        login: &crate::geo::LoginRecord,
        expires_at: i64,
    ) -> Result<crate::geo::LoginNeighbours, StateError> {
        let pk = format!("G#{user}");
        let me = login.sort_key();
        let place = serde_json::to_string(&login.place)
            .map_err(|e| StateError::permanent(format!("login place: {e}")))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk.clone()))
            .item("sk", n(me))
            .item("ts", n(login.ts))
            .item("ip", s(login.ip.clone()))
            .item("place", s(place))
            .item("expires_at", n(expires_at))
            .send()
            .await
            .map_err(|e| StateError::sdk("keep login", e))?;
        // Every login of the user (one item per console login, kept for the history days).
        let mut logins = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StateError::sdk("read logins", e))?;
            for item in out.items() {
                let place = item
                    .get("place")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|p| serde_json::from_str(p).ok())
                    .unwrap_or_default();
                let ip = item
                    .get("ip")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                logins.push((
                    num(item, "sk"),
                    crate::geo::LoginRecord {
                        ts: num(item, "ts"),
                        ip,
                        place,
                    },
                ));
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(super::neighbours(me, logins.iter().map(|(k, l)| (*k, l))))
    }
}

impl Counters for DynamoStore {
    async fn commit(
        &self,
        input_id: &str,
        updates: &[CounterUpdate],
    ) -> Result<Vec<CounterState>, StateError> {
        for (ledger_pk, indices) in ledger_plan(input_id, updates) {
            let chunk: Vec<CounterUpdate> = indices.iter().map(|&i| updates[i].clone()).collect();
            self.commit_chunk(ledger_pk, &chunk).await?;
        }
        let mut states = self.read(updates).await?;
        self.widen_times(updates, &mut states).await?;
        Ok(states)
    }

    async fn history(
        &self,
        series: &str,
        before: i64,
        limit: usize,
    ) -> Result<Vec<u64>, StateError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk < :before")
            .expression_attribute_values(":pk", s(format!("C#{series}")))
            .expression_attribute_values(":before", n(before))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StateError::sdk("read history", e))?;
        Ok(out
            .items()
            .iter()
            .map(|i| num(i, "n").max(0) as u64)
            .filter(|c| *c > 0)
            .collect())
    }
}

impl FindingLedger for DynamoStore {
    async fn claim(
        &self,
        finding_id: &str,
        input_id: &str,
        now: i64,
        lease_secs: i64,
        expires_at: i64,
    ) -> Result<Claim, StateError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("F#{finding_id}"), 0)))
            .update_expression("SET #owner = :o, lease_until = :until, expires_at = :e, published = if_not_exists(published, :no)")
            .condition_expression("attribute_not_exists(pk) OR (published = :no AND (#owner = :o OR lease_until < :now))")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":o", s(input_id))
            .expression_attribute_values(":until", n(now + lease_secs))
            .expression_attribute_values(":e", n(expires_at))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match r {
            Ok(_) => Ok(Claim::Granted),
            Err(e) => match e.as_service_error() {
                Some(service) if service.is_conditional_check_failed_exception() => {
                    let published = match service {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => c
                            .item()
                            .and_then(|i| i.get("published"))
                            .and_then(|v| v.as_bool().ok())
                            .copied()
                            .unwrap_or(false),
                        _ => false,
                    };
                    Ok(if published {
                        Claim::Published
                    } else {
                        Claim::Busy
                    })
                }
                _ => Err(StateError::sdk(&format!("claim finding {finding_id}"), e)),
            },
        }
    }

    async fn published(
        &self,
        finding_ids: &[String],
    ) -> Result<std::collections::HashSet<String>, StateError> {
        let keys = finding_ids
            .iter()
            .map(|id| key(format!("F#{id}"), 0))
            .collect();
        let items = self
            .batch_get(keys, Some("pk, published"), "read findings")
            .await?;
        Ok(items
            .iter()
            .filter(|i| i.get("published").and_then(|v| v.as_bool().ok()).copied() == Some(true))
            .filter_map(|i| i.get("pk").and_then(|v| v.as_s().ok()))
            .map(|pk| pk.trim_start_matches("F#").to_owned())
            .collect())
    }

    async fn mark_all_published(&self, findings: &[(String, i64)]) -> Result<(), StateError> {
        // Once published, a finding's owner and lease no longer matter: the item is written
        // whole, 25 to a BatchWriteItem call (its limit).
        for chunk in findings.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|(id, expires)| {
                    let put = PutRequest::builder()
                        .set_item(Some(HashMap::from([
                            ("pk".to_owned(), s(format!("F#{id}"))),
                            ("sk".to_owned(), n(0)),
                            ("published".to_owned(), AttributeValue::Bool(true)),
                            ("expires_at".to_owned(), n(*expires)),
                        ])))
                        .build()
                        .map_err(|e| build_err("build put", &e))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, StateError>>()?;
            while !requests.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| StateError::sdk("mark findings published", e))?;
                // Unprocessed items (throttling) are written again.
                requests = out
                    .unprocessed_items()
                    .and_then(|u| u.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
                if !requests.is_empty() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Ok(())
    }
}
