//! The `risk-report` function's handler: on its schedule, reads the findings store, writes the
//! report to S3 (`reports/<date>.html`) and publishes the digest to the findings topic (one for
//! the organization, and one per account when asked), with `category` = `digest` so that
//! subscribers filter it in or out.

use std::sync::Arc;

use aws_sdk_sns::types::MessageAttributeValue;
use serde::Serialize;
use serde_json::Value;

use crate::config::RiskReportConfig;
use crate::error::PortError;
use crate::report::digest::{digest, Digest};
use crate::report::{html, Report, PERIOD_DAYS};
use crate::store::dynamodb::DynamoFindings;
use crate::store::{FindingStore, Resolution};
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// SNS takes a message of at most 256 KiB; a digest's JSON stays well under.
const MAX_DIGEST_BYTES: usize = 200 * 1024;

/// The handler, built once per cold start.
pub struct RiskReport {
    store: Arc<dyn FindingStore>,
    s3: aws_sdk_s3::Client,
    sns: aws_sdk_sns::Client,
    bucket: String,
    prefix: String,
    topic: String,
    resolution: Resolution,
    per_account: bool,
}

/// What one run did.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRun {
    /// The time it stood at.
    pub at: String,
    /// `s3://bucket/key` of the report.
    pub report: String,
    /// Findings of the period.
    pub findings: usize,
    /// Of which open.
    pub open: usize,
    /// Entities at risk.
    pub entities: usize,
    /// Digests published (1, plus one per account when asked).
    pub digests: usize,
}

impl RiskReport {
    /// The handler over its clients.
    pub fn new(
        store: Arc<dyn FindingStore>,
        s3: aws_sdk_s3::Client,
        sns: aws_sdk_sns::Client,
        config: &RiskReportConfig,
    ) -> RiskReport {
        RiskReport {
            store,
            s3,
            sns,
            bucket: config.report_bucket.clone(),
            prefix: config.report_prefix.clone(),
            topic: config.findings_topic_arn.clone(),
            resolution: config.resolution,
            per_account: config.digest_per_account,
        }
    }

    /// The handler as deployed: DynamoDB, S3, SNS.
    pub fn from_config(aws: &aws_config::SdkConfig, config: &RiskReportConfig) -> RiskReport {
        RiskReport::new(
            Arc::new(DynamoFindings::new(
                aws_sdk_dynamodb::Client::new(aws),
                &config.findings_table,
                // The report only reads: retention is the ingest functions' to set.
                90,
            )),
            aws_sdk_s3::Client::new(aws),
            aws_sdk_sns::Client::new(aws),
            config,
        )
    }

    /// One invocation: the scheduler's event (any JSON; `{"at": "<RFC 3339>"}` draws the
    /// report as of that time, to redraw a past day).
    pub async fn handle(&self, event: Value) -> Result<ReportRun, lambda_runtime::Error> {
        let now = match event.get("at").and_then(Value::as_str) {
            Some(t) => {
                parse_rfc3339(t).ok_or_else(|| format!("\"at\": {t:?} is not an RFC 3339 time"))?
            }
            None => crate::tuning::now(),
        };
        let run = self.run(now).await.map_err(|e| {
            tracing::error!(error = %e, "risk report failed");
            e
        })?;
        tracing::info!(
            report = %run.report, findings = run.findings, open = run.open,
            entities = run.entities, digests = run.digests, "risk report written"
        );
        Ok(run)
    }

    /// Reads the period's findings, writes the report, publishes the digests, and records the
    /// digest's time (what "new" and "resolved" of the next one count from).
    pub async fn run(&self, now: i64) -> Result<ReportRun, PortError> {
        let since = format_rfc3339(now - PERIOD_DAYS * 86_400);
        let kept = self.store.since(&since).await?;
        let report = Report::new(kept.findings, &kept.suppressed, now, self.resolution);
        let date = format_rfc3339(now);
        let key = format!("{}{}.html", self.prefix, date.get(..10).unwrap_or(&date));
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("text/html; charset=utf-8")
            .cache_control("no-store")
            .body(html::render(&report).into_bytes().into())
            .send()
            .await
            .map_err(|e| {
                PortError::new(format!(
                    "report to s3://{}/{key}: {}",
                    self.bucket,
                    crate::error::chain(&e)
                ))
            })?;
        let location = format!("s3://{}/{key}", self.bucket);
        let last = self.store.last_digest().await?;
        let mut digests = vec![digest(&report, last, None, Some(&location))];
        if self.per_account {
            let mut accounts: Vec<&str> = report.rows.iter().map(|r| r.account()).collect();
            accounts.sort_unstable();
            accounts.dedup();
            for a in accounts {
                digests.push(digest(&report, last, Some(a), Some(&location)));
            }
        }
        for d in &digests {
            self.publish(d).await?;
        }
        self.store.record_digest(now).await?;
        Ok(ReportRun {
            at: date,
            report: location,
            findings: report.rows.len(),
            open: report.rows.iter().filter(|r| r.open).count(),
            entities: report.risk.len(),
            digests: digests.len(),
        })
    }

    async fn publish(&self, d: &Digest) -> Result<(), PortError> {
        let message = digest_message(d)?;
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(crate::publish::attribute_value(v))
                .build()
                .map_err(|e| PortError::permanent(format!("digest attribute: {e}")))
        };
        let subject: String = d
            .subject()
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .take(100)
            .collect();
        self.sns
            .publish()
            .topic_arn(&self.topic)
            .message_structure("json")
            .message(message)
            .subject(subject)
            .message_attributes("category", attr("digest")?)
            .message_attributes("severity", attr("info")?)
            .message_attributes("rule_id", attr("digest")?)
            .message_attributes("dataset", attr("cloudsec.digest")?)
            .message_attributes("account_id", attr(d.account.as_deref().unwrap_or("all"))?)
            .send()
            .await
            .map_err(|e| {
                PortError::new(format!(
                    "digest to {}: {}",
                    self.topic,
                    crate::error::chain(&e)
                ))
            })?;
        Ok(())
    }
}

/// The digest as an SNS message of per-protocol bodies: the JSON document by default (tools,
/// queues, the archive), the text for e-mail. Lists are cut until it fits.
pub fn digest_message(d: &Digest) -> Result<String, PortError> {
    let mut d = d.clone();
    loop {
        let json = serde_json::to_string(&d)
            .map_err(|e| PortError::permanent(format!("digest as JSON: {e}")))?;
        let text = d.text();
        if json.len() + text.len() <= MAX_DIGEST_BYTES || d.top_entities.is_empty() {
            return Ok(serde_json::json!({ "default": json, "email": text }).to_string());
        }
        // Too long (entities with very many findings): list fewer.
        for e in &mut d.top_entities {
            e.findings.truncate(3);
            e.action_plan.truncate(5);
        }
        let keep = d.top_entities.len() / 2;
        d.top_entities.truncate(keep);
        d.new.truncate(5);
        d.resolved.truncate(5);
        d.failing_controls.truncate(5);
        d.staged.truncate(5);
    }
}
