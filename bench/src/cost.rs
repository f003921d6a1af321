//! `cloudsec-bench cost`: what the stack costs a month for an organization's volumes, from what
//! this run measures (the pipeline's single-core throughput; the AWS requests and DynamoDB units
//! per object, through the deployed handler against the emulator) and AWS's list prices.
//!
//! The model, per day: CloudTrail delivers each account-region's events about every five
//! minutes, so `accounts × regions × objects-per-region` objects of the mean size carry the
//! day's bytes (WAF and Network Firewall add their own objects and bytes). Each object costs the
//! requests measured for an object of that size of the generator's mix. Lambda bills the wall
//! time: the CPU time at the memory size's share of a vCPU, plus the waits on AWS (S3, DynamoDB,
//! SNS round trips, overlapped by the inputs an invocation handles at once).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use cloudsec::detect::{Catalogue, Severity};
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec_integration_tests::{create_findings_table, unique, Env, EXAMPLE_KEY};

/// The region and date of the prices below: US East (N. Virginia), list prices as AWS's
/// pricing pages state them, checked on this date. Free tiers are left out.
pub const PRICES_READ: &str = "2026-12-02, us-east-1 list prices, no free tier";
/// Lambda on Arm (Graviton), per GB-second (first tier).
pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
/// Lambda, per request.
pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
/// DynamoDB on demand, per write request unit.
pub const DYNAMODB_WRU: f64 = 0.625 / 1e6;
/// DynamoDB on demand, per read request unit.
pub const DYNAMODB_RRU: f64 = 0.125 / 1e6;
/// DynamoDB storage, per GB-month (standard table class).
pub const DYNAMODB_GB_MONTH: f64 = 0.25;
/// S3 Standard, per GET request.
pub const S3_GET: f64 = 0.0004 / 1e3;
/// S3 Standard, per PUT request (quarantined records).
pub const S3_PUT: f64 = 0.005 / 1e3;
/// SQS standard queue, per request (64 KB chunk).
pub const SQS_REQUEST: f64 = 0.40 / 1e6;
/// SNS, per publish request (64 KB chunk).
pub const SNS_REQUEST: f64 = 0.50 / 1e6;
/// Data Firehose (Direct PUT), per GB ingested, each record rounded up to 5 KB.
pub const FIREHOSE_GB: f64 = 0.029;
/// Athena, per TB scanned (10 MB minimum per query).
pub const ATHENA_TB: f64 = 5.0;
/// CloudWatch Logs, per GB ingested (standard class).
pub const LOGS_GB: f64 = 0.50;
/// S3 Standard storage, per GB-month (the findings archive).
pub const S3_GB_MONTH: f64 = 0.023;

/// Latencies the model assumes for AWS's APIs from a function in the same region (the
/// emulator's are not AWS's, so these are not measured): an S3 GET of a small object to its
/// first byte, a DynamoDB request, an SNS publish.
const S3_GET_LATENCY_S: f64 = 0.030;
const DYNAMODB_LATENCY_S: f64 = 0.006;
const SNS_LATENCY_S: f64 = 0.020;
/// The function's log per input: its `input processed` line (JSON under Lambda).
const LOG_BYTES_PER_OBJECT: f64 = 450.0;
/// A finding as archived (SNS message to Firehose), and as kept in the findings store.
const FINDING_BYTES: f64 = 4_000.0;
/// How much smaller the archive's gzip JSON lines are than the findings (JSON compresses
/// about this well; Athena scans the compressed bytes).
const ARCHIVE_GZIP_RATIO: f64 = 8.0;
/// Days a finding stays in the findings store (the template's `FindingsRetentionDays`).
const STORE_RETENTION_DAYS: f64 = 90.0;
/// Lambda gives one full vCPU at this memory size, a share in proportion below it.
const FULL_VCPU_MB: f64 = 1769.0;
const DAYS_PER_MONTH: f64 = 30.4;

#[derive(clap::Args, Clone, Debug)]
pub struct CostArgs {
    /// CloudTrail a day, GB of JSON (as decompressed), across the organization.
    #[arg(long, default_value_t = 50.0)]
    gb_per_day: f64,
    /// Accounts in the organization.
    #[arg(long, default_value_t = 1000)]
    accounts: u64,
    /// Regions with CloudTrail delivering.
    #[arg(long, default_value_t = 17)]
    regions: u64,
    /// CloudTrail objects a day per account-region (one about every five minutes).
    #[arg(long, default_value_t = 288)]
    objects_per_region: u64,
    /// WAF logs a day, GB of JSON.
    #[arg(long, default_value_t = 20.0)]
    waf_gb_per_day: f64,
    /// WAF log objects a day (web ACLs × deliveries: 100 × 288).
    #[arg(long, default_value_t = 28_800)]
    waf_objects_per_day: u64,
    /// Network Firewall logs a day, GB of JSON.
    #[arg(long, default_value_t = 10.0)]
    firewall_gb_per_day: f64,
    /// Network Firewall log objects a day (firewalls × deliveries: 50 × 288).
    #[arg(long, default_value_t = 14_400)]
    firewall_objects_per_day: u64,
    /// The log-ingest function's memory, MB (the template's default when not given).
    #[arg(long)]
    memory_mb: Option<f64>,
    /// The pipeline's single-core throughput, MB/s; measured in this run when not given.
    #[arg(long)]
    mb_per_s: Option<f64>,
    /// Objects of the mean size delivered through the handler to measure requests per object.
    #[arg(long, default_value_t = 300)]
    sample_objects: usize,
    /// Athena queries a day over the findings archive.
    #[arg(long, default_value_t = 20)]
    athena_queries_per_day: u64,
    /// Days of the archive each query scans (the table is partitioned by day).
    #[arg(long, default_value_t = 30)]
    athena_days_per_query: u64,
    /// Days a finding is kept in the archive.
    #[arg(long, default_value_t = 365)]
    archive_days: u64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// What one object of the mean size costs, measured.
#[derive(Debug, Default, Clone)]
struct PerObject {
    requests: BTreeMap<String, f64>,
    wru: f64,
    rru: f64,
    sns_chunks: f64,
    /// Findings published (one SNS message each).
    findings: f64,
    /// Findings kept in the findings store (every one that fired, published or not).
    stored: f64,
    records: f64,
}

impl PerObject {
    fn get(&self, op: &str) -> f64 {
        self.requests.get(op).copied().unwrap_or(0.0)
    }
    /// The requests to one service (`dynamodb`, `sns`).
    fn requests_to(&self, service: &str) -> f64 {
        self.requests
            .iter()
            .filter(|(k, _)| k.split('.').next() == Some(service))
            .map(|(_, v)| v)
            .sum()
    }
}

pub fn cost(args: CostArgs) -> Result<(), Box<dyn std::error::Error>> {
    let memory_mb = match args.memory_mb {
        Some(m) => m,
        None => template_memory_mb()?,
    };
    let ct_objects = (args.accounts * args.regions * args.objects_per_region) as f64;
    let ct_bytes = args.gb_per_day * 1e9;
    let mean_bytes = ct_bytes / ct_objects;
    println!(
        "cloudsec-bench cost: {} accounts × {} regions × {} objects a day = {:.0} CloudTrail objects, {:.1} GB a day (mean object {:.1} KB of JSON); WAF {:.1} GB in {} objects, Network Firewall {:.1} GB in {} objects",
        args.accounts, args.regions, args.objects_per_region, ct_objects, args.gb_per_day,
        mean_bytes / 1e3, args.waf_gb_per_day, args.waf_objects_per_day,
        args.firewall_gb_per_day, args.firewall_objects_per_day
    );

    // The single-core throughput, measured on a generated object unless given.
    let mb_per_s = match args.mb_per_s {
        Some(v) => v,
        None => {
            let (gz, json_bytes, _) = crate::generate_object(50, args.seed)?;
            let p = Arc::new(Pipeline::new(
                Catalogue::builtin(),
                PipelineConfig::default(),
            ));
            let runtime = tokio::runtime::Builder::new_current_thread().build()?;
            let mut n = 0;
            let (secs, _) = crate::best(3, || {
                n += 1;
                crate::pipeline(&p, &runtime, &gz[..], &format!("cost-{n}"))
            });
            let v = crate::mb(json_bytes) / secs;
            println!("measured: the pipeline on one core, 50 MB object: {v:.1} MB/s");
            v
        }
    };

    let per_object = measure_requests(&args, mean_bytes)?;
    println!(
        "measured: {} objects of {:.1} KB ({:.1} records each) through the deployed handler against the emulator: per 1,000 objects {}; {:.0} DynamoDB write units, {:.0} read units, {:.1} findings published, {:.1} kept",
        args.sample_objects,
        mean_bytes / 1e3,
        per_object.records,
        per_object
            .requests
            .iter()
            .map(|(k, v)| format!("{k} {:.0}", v * 1000.0))
            .collect::<Vec<_>>()
            .join(", "),
        per_object.wru * 1000.0,
        per_object.rru * 1000.0,
        per_object.findings * 1000.0,
        per_object.stored * 1000.0
    );

    let model = Model {
        args: &args,
        ct_objects,
        ct_bytes,
        mb_per_s,
        per_object: &per_object,
    };
    let lines = model.monthly(memory_mb);
    println!(
        "\nMonthly cost, {PRICES_READ}; log-ingest at {memory_mb:.0} MB ({:.2} vCPU):",
        vcpu(memory_mb)
    );
    let total: f64 = lines.iter().map(|(_, v, _)| v).sum();
    for (what, usd, basis) in &lines {
        println!("  {what:<34} {usd:>10.2} USD  {basis}");
    }
    println!("  {:<34} {total:>10.2} USD", "total");
    let gb_month =
        (args.gb_per_day + args.waf_gb_per_day + args.firewall_gb_per_day) * DAYS_PER_MONTH;
    println!("  per GB of logs: {:.4} USD", total / gb_month);

    println!("\nlog-ingest's memory size against the month's cost (Lambda only, and in all):");
    for m in [256.0, 512.0, 1024.0, FULL_VCPU_MB, 3008.0] {
        let lines = model.monthly(m);
        let lambda: f64 = lines
            .iter()
            .filter(|(w, _, _)| w.starts_with("Lambda"))
            .map(|(_, v, _)| v)
            .sum();
        let all: f64 = lines.iter().map(|(_, v, _)| v).sum();
        let cpu_s = 4.0e3 / (mb_per_s * vcpu(m));
        println!(
            "  {m:>6.0} MB ({:.2} vCPU): Lambda {lambda:>9.2} USD, in all {all:>9.2} USD; a 4 GB object takes {cpu_s:.0} s of the 900",
            vcpu(m)
        );
    }
    Ok(())
}

fn vcpu(memory_mb: f64) -> f64 {
    (memory_mb / FULL_VCPU_MB).min(1.0)
}

struct Model<'a> {
    args: &'a CostArgs,
    ct_objects: f64,
    ct_bytes: f64,
    mb_per_s: f64,
    per_object: &'a PerObject,
}

impl Model<'_> {
    /// (what, USD a month, basis) at `memory_mb`.
    fn monthly(&self, memory_mb: f64) -> Vec<(&'static str, f64, String)> {
        let a = self.args;
        let p = self.per_object;
        let other_objects = (a.waf_objects_per_day + a.firewall_objects_per_day) as f64;
        let objects = self.ct_objects + other_objects;
        let bytes = self.ct_bytes + (a.waf_gb_per_day + a.firewall_gb_per_day) * 1e9;
        // Ten messages an invocation (the queue's batch size), four inputs at once.
        let invocations = objects / 10.0;
        let cpu_s = bytes / 1e6 / (self.mb_per_s * vcpu(memory_mb));
        // WAF and Network Firewall objects are costed as quiet ones: one GET.
        let wait_per_ct = S3_GET_LATENCY_S
            + p.requests_to("dynamodb") * DYNAMODB_LATENCY_S
            + p.requests_to("sns") * SNS_LATENCY_S;
        let wait_s = (self.ct_objects * wait_per_ct + other_objects * S3_GET_LATENCY_S)
            / cloudsec::batch::MAX_CONCURRENT_INPUTS as f64;
        let gb_s = memory_mb / 1024.0 * (cpu_s + wait_s);
        let findings = self.ct_objects * p.findings;
        let stored = self.ct_objects * p.stored;
        let m = DAYS_PER_MONTH;
        let archive_gb_per_day = findings * FINDING_BYTES / ARCHIVE_GZIP_RATIO / 1e9;
        let archive_gb = archive_gb_per_day * a.archive_days as f64;
        let scanned_gb = archive_gb_per_day * a.athena_days_per_query.min(a.archive_days) as f64;
        // Athena bills at least 10 MB a query.
        let athena_tb = (scanned_gb / 1e3).max(10e-6) * a.athena_queries_per_day as f64;
        vec![
            (
                "Lambda duration",
                gb_s * LAMBDA_GB_SECOND * m,
                format!(
                    "{:.0} GB-s a day: {:.0} s of CPU at {:.2} vCPU, {:.0} s waiting on AWS",
                    gb_s,
                    cpu_s,
                    vcpu(memory_mb),
                    wait_s
                ),
            ),
            (
                "Lambda requests",
                invocations * LAMBDA_REQUEST * m,
                format!("{invocations:.0} invocations a day (10 objects each)"),
            ),
            (
                "S3 GETs",
                objects * S3_GET * m,
                format!("{objects:.0} a day, one per object"),
            ),
            (
                "S3 quarantine PUTs",
                self.ct_objects * p.get("s3.PutObject") * S3_PUT * m,
                "one per object with bad records: none in the generated mix".into(),
            ),
            (
                "SQS (notifications, receives, deletes)",
                (objects + 2.0 * invocations) * SQS_REQUEST * m,
                "S3's send per object, a receive and a delete batch per invocation".into(),
            ),
            (
                "DynamoDB writes",
                self.ct_objects * p.wru * DYNAMODB_WRU * m,
                format!("{:.0} write units a day", self.ct_objects * p.wru),
            ),
            (
                "DynamoDB reads",
                self.ct_objects * p.rru * DYNAMODB_RRU * m,
                format!("{:.0} read units a day", self.ct_objects * p.rru),
            ),
            (
                "DynamoDB storage",
                // Upper bound: every write unit a new KB, kept two days (the windows'
                // retention), and the findings store's items for their retention.
                ((self.ct_objects * p.wru * 1e3 * 2.0)
                    + stored * FINDING_BYTES * STORE_RETENTION_DAYS)
                    / 1e9
                    * DYNAMODB_GB_MONTH,
                format!(
                    "upper bound: the state's items for 2 days, {stored:.0} findings a day kept {STORE_RETENTION_DAYS:.0}"
                ),
            ),
            (
                "SNS publishes",
                self.ct_objects * p.sns_chunks * SNS_REQUEST * m,
                format!("{findings:.0} findings a day, billed per 64 KB"),
            ),
            (
                "Firehose (findings archive)",
                findings * 5e3 / 1e9 * FIREHOSE_GB * m,
                "each finding rounded up to 5 KB".into(),
            ),
            (
                "Athena (findings archive)",
                athena_tb * ATHENA_TB * m,
                format!(
                    "{} queries a day, each over {} days ({scanned_gb:.2} GB of gzip)",
                    a.athena_queries_per_day, a.athena_days_per_query
                ),
            ),
            (
                "S3 (findings archive)",
                archive_gb * S3_GB_MONTH,
                format!("{archive_gb:.1} GB of gzip over {} days", a.archive_days),
            ),
            (
                "CloudWatch Logs",
                objects * LOG_BYTES_PER_OBJECT / 1e9 * LOGS_GB * m,
                "one log line per object".into(),
            ),
        ]
    }
}

/// log-ingest's `MemorySize` in `template.yaml`.
fn template_memory_mb() -> Result<f64, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(cloudsec_integration_tests::root().join("template.yaml"))?;
    let function = text
        .split("\n  LogIngestFunction:")
        .nth(1)
        .ok_or("no LogIngestFunction in template.yaml")?;
    function
        .lines()
        .take_while(|l| !l.starts_with("  ") || l.starts_with("   "))
        .find_map(|l| l.trim().strip_prefix("MemorySize:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "no MemorySize for LogIngestFunction in template.yaml".into())
}

/// The requests and units of `args.sample_objects` objects of `mean_bytes`, made of the
/// generator's records, each delivered through the deployed handler on its own.
fn measure_requests(
    args: &CostArgs,
    mean_bytes: f64,
) -> Result<PerObject, Box<dyn std::error::Error>> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        return Err("no AWS_ENDPOINT_URL: `scripts/bench cost ...` starts the emulator".into());
    }
    let records_per_object = (mean_bytes / 1340.0).round().max(1.0) as usize;
    let needed = records_per_object * args.sample_objects;
    let megabytes = needed * 1500 / 1_000_000 + 1;
    let (gz, _, _) = crate::generate_object(megabytes, args.seed)?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text)?;
    let doc: serde_json::Value = serde_json::from_str(&text)?;
    let records = doc["Records"].as_array().ok_or("Records")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (env, requests) = Env::counting().await.ok_or("no emulator")?;
        let table = unique("findings");
        create_findings_table(&env.dynamodb, &table).await;
        // Published from `low` up, as the template's default.
        let handler = env.handler_keeping_from(&table, Severity::Low).await;
        let mut keys = Vec::new();
        for (i, chunk) in records
            .chunks(records_per_object)
            .take(args.sample_objects)
            .enumerate()
        {
            let key = EXAMPLE_KEY.replace("Sample0001", &format!("Cost{i:05}"));
            let body = serde_json::to_vec(&serde_json::json!({ "Records": chunk }))?;
            env.put(&key, cloudsec_integration_tests::gzip(&body)).await;
            keys.push(key);
        }
        requests.take();
        requests.take_units();
        let t = Instant::now();
        for key in &keys {
            handler
                .handle(env.event("s3-object-created.json", Some(key)))
                .await
                .map_err(|e| format!("{key}: {e:?}"))?;
        }
        let counts = requests.take();
        let units = requests.take_units();
        let mut stored = 0u64;
        let mut start = None;
        loop {
            let page = env
                .dynamodb
                .scan()
                .table_name(&table)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            stored += page.count as u64;
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        // The findings published: one SNS message each, each under 64 KB.
        let findings = units.sns_chunks;
        let n = keys.len() as f64;
        eprintln!(
            "({} objects delivered in {:.1} s against the emulator)",
            keys.len(),
            t.elapsed().as_secs_f64()
        );
        Ok::<_, Box<dyn std::error::Error>>(PerObject {
            requests: counts.into_iter().map(|(k, v)| (k, v as f64 / n)).collect(),
            wru: units.write as f64 / n,
            rru: units.read as f64 / n,
            sns_chunks: units.sns_chunks as f64 / n,
            findings: findings as f64 / n,
            stored: stored as f64 / n,
            records: records_per_object as f64,
        })
    })
}
