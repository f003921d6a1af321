//! `cloudsec backfill`: an archive's objects sent to the deployed ingest queue as S3
//! notifications, at a bounded rate, for the functions to read as many at once as their
//! concurrency allows. The ledger makes an object already read (live, or by an earlier run)
//! count nothing again; a progress file makes a second run send only what the first did not.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use cloudsec::engine::listing::{list_objects, parse_s3_uri};
use cloudsec::envelope::backfill_notification;

use crate::{printable, Days};

/// Messages SQS takes in one `SendMessageBatch`.
const BATCH: usize = 10;
/// Attempts at the entries of a batch that SQS did not take.
const ATTEMPTS: u32 = 5;

/// Sends every object of `uri` in `days` to `queue_url`.
pub fn backfill(
    uri: &str,
    queue_url: &str,
    days: Days,
    rate: u32,
    hold: bool,
    progress: Option<&Path>,
) -> Result<ExitCode, String> {
    let (bucket, prefix) =
        parse_s3_uri(uri).ok_or_else(|| format!("{uri}: expected s3://bucket/prefix"))?;
    let done: BTreeSet<String> = match progress {
        Some(p) if p.exists() => std::fs::read_to_string(p)
            .map_err(|e| format!("{}: {e}", p.display()))?
            .lines()
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    };
    let mut progress_file = match progress {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let s3 = aws_sdk_s3::Client::new(&aws);
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let objects = list_objects(&s3, &bucket, &prefix, days.range())
            .await
            .map_err(|e| printable(&e.to_string()))?;
        let listed = objects.len();
        let todo: Vec<_> = objects
            .into_iter()
            .filter(|o| !o.key.ends_with('/') && o.size != Some(0))
            .filter(|o| !done.contains(&format!("s3://{}/{}", o.bucket, o.key)))
            .collect();
        let interval = Duration::from_secs_f64(BATCH as f64 / f64::from(rate.max(1)));
        let mut sent = 0usize;
        for chunk in todo.chunks(BATCH) {
            let started = Instant::now();
            let mut pending: Vec<(String, String, String)> = chunk
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    (
                        i.to_string(),
                        backfill_notification(o, hold).to_string(),
                        format!("s3://{}/{}", o.bucket, o.key),
                    )
                })
                .collect();
            for attempt in 1..=ATTEMPTS {
                let entries = pending
                    .iter()
                    .map(|(id, body, _)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(id)
                            .message_body(body)
                            .build()
                            .map_err(|e| e.to_string())
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let answer = sqs
                    .send_message_batch()
                    .queue_url(queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| {
                        format!("SendMessageBatch to {queue_url}: {}", cloudsec::error::chain(&e))
                    })?;
                let ok: BTreeSet<&str> = answer.successful().iter().map(|s| s.id()).collect();
                for (_, _, uri) in pending.iter().filter(|(id, _, _)| ok.contains(id.as_str())) {
                    sent += 1;
                    if let Some(f) = progress_file.as_mut() {
                        writeln!(f, "{uri}").map_err(|e| e.to_string())?;
                    }
                }
                pending.retain(|(id, _, _)| !ok.contains(id.as_str()));
                if pending.is_empty() {
                    break;
                }
                if attempt == ATTEMPTS {
                    let reasons: Vec<String> = answer
                        .failed()
                        .iter()
                        .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or("")))
                        .collect();
                    return Err(format!(
                        "{} objects not taken by the queue after {ATTEMPTS} attempts (run again to resume): {}",
                        pending.len(),
                        reasons.join("; ")
                    ));
                }
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            if let Some(f) = progress_file.as_mut() {
                f.flush().map_err(|e| e.to_string())?;
            }
            if let Some(rest) = interval.checked_sub(started.elapsed()) {
                tokio::time::sleep(rest).await;
            }
        }
        eprintln!(
            "backfill of {uri}: {listed} objects listed, {} already sent by an earlier run, {sent} sent to the queue{}",
            listed - todo.len(),
            if hold { " (findings held: stored, not published)" } else { "" }
        );
        Ok(ExitCode::SUCCESS)
    })
}
