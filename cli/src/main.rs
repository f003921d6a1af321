//! `cloudsec`: the detection pipeline of the Lambda functions, over log files on disk, with an
//! embedded in-memory state. Needs no AWS account.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use cloudsec::detect::{Catalogue, Settings, Severity};
use cloudsec::engine::listing::{list_objects, parse_s3_uri, DayRange};
use cloudsec::engine::ports::{FileQuarantine, LocalFiles, ObjectSource, S3Objects};
use cloudsec::engine::{Engine, EngineConfig, Prepared, Publishing};
use cloudsec::finding::Finding;
use cloudsec::pipeline::{InputReport, Pipeline, PipelineConfig};
use cloudsec::publish::{FindingSink, PublishError, Rejected, Sinks};
use cloudsec::sources::{classify_key, KeyVerdict, LogSource};
use cloudsec::state::memory::MemoryStore;
use cloudsec::tuning::check::Level;
use cloudsec::tuning::Tuning;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

mod backfill;
mod report;

#[derive(Parser)]
#[command(
    name = "cloudsec",
    version,
    about = "Cloud Infrastructure Security for AWS: detections over CloudTrail, WAF and Network Firewall logs and GuardDuty and Security Hub findings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every detection over log files and folders; findings on stdout, a summary on stderr.
    Scan {
        /// Files (.json, .json.gz, .jsonl, .log.gz) or folders, read recursively, or
        /// `s3://bucket/prefix`: CloudTrail, WAF and Network Firewall logs, GuardDuty and Security
        /// Hub findings (raw or as EventBridge events).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// `table` (default on a terminal) or `json` (one finding per line; default otherwise).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Lowest severity shown.
        #[arg(long, default_value = "info")]
        min_severity: Severity,
        /// Write records that could not be used to this file, as JSON lines with their location.
        #[arg(long)]
        bad_records: Option<PathBuf>,
        /// An account of your organization (repeat): sharing with it is not a finding.
        #[arg(long = "known-account", value_name = "ACCOUNT_ID")]
        known_accounts: Vec<String>,
        /// Read every file as this source (cloudtrail, waf, network-firewall, guardduty,
        /// securityhub) instead of telling it from the path and the records.
        #[arg(long)]
        source: Option<LogSource>,
        /// Largest decompressed size of one file; a larger one (a gzip bomb) fails.
        #[arg(long, value_name = "BYTES", default_value_t = cloudsec::read::DEFAULT_MAX_DECOMPRESSED_BYTES)]
        max_decompressed_bytes: u64,
        /// A tuning file (YAML): exceptions, staged and disabled rules, rules' settings.
        #[arg(long, value_name = "FILE")]
        tuning: Option<PathBuf>,
        /// With `--format asff`: the Security Hub product the documents name (your account's
        /// default product); the placeholder account 000000000000 otherwise.
        #[arg(long, value_name = "ARN")]
        product_arn: Option<String>,
        #[command(flatten)]
        days: Days,
        #[command(flatten)]
        geo: GeoArgs,
        #[command(flatten)]
        sigma: SigmaArgs,
    },
    /// Draw the report (the dashboards, the risk overview with action plans, staged and
    /// suppressed) as one self-contained HTML file.
    Report {
        #[command(flatten)]
        over: report::Over,
        /// The HTML file to write.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// The risk overview: every entity with open findings, by Elastic's entity risk score,
    /// highest first, with its action plan.
    Risk {
        #[command(flatten)]
        over: report::Over,
        /// `table` (default), `json` (an array) or `jsonl` (one entity per line).
        #[arg(long, value_enum, default_value = "table")]
        format: report::RiskFormat,
    },
    /// Send the objects of an S3 prefix to the deployed ingest queue as S3 notifications, for
    /// the functions to read: a backfill of an archive larger than one machine should read.
    Backfill {
        /// `s3://bucket/prefix` of the archive.
        uri: String,
        /// The stack's ingest queue (output `IngestQueueUrl`).
        #[arg(long, value_name = "URL")]
        queue_url: String,
        /// Messages sent per second, at most.
        #[arg(long, default_value_t = 100)]
        rate: u32,
        /// Hold the findings of these objects: stored (in the report and the digest), not
        /// published, so that replaying history pages no one.
        #[arg(long)]
        hold: bool,
        /// A file of the objects sent, appended as they are: a second run with it sends only
        /// what the first did not.
        #[arg(long, value_name = "FILE")]
        progress: Option<PathBuf>,
        #[command(flatten)]
        days: Days,
    },
    /// Print the ECS event of every record, one JSON document per line.
    Normalize {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Read every file as this source instead of telling it from the path and the records.
        #[arg(long)]
        source: Option<LogSource>,
        /// Largest decompressed size of one file; a larger one (a gzip bomb) fails.
        #[arg(long, value_name = "BYTES", default_value_t = cloudsec::read::DEFAULT_MAX_DECOMPRESSED_BYTES)]
        max_decompressed_bytes: u64,
        #[command(flatten)]
        geo: GeoArgs,
    },
    /// Work with a tuning file.
    Tuning {
        #[command(subcommand)]
        command: TuningCommand,
    },
    /// List the detection catalogue.
    Rules {
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        #[command(flatten)]
        sigma: SigmaArgs,
    },
    /// Work with Sigma rules.
    Sigma {
        #[command(subcommand)]
        command: SigmaCommand,
    },
}

#[derive(Subcommand)]
enum SigmaCommand {
    /// List which rules of a folder load and which do not, with the reason; exits non-zero
    /// when one does not.
    Check {
        /// The folder of rules (`.yml`/`.yaml`, at any depth).
        dir: PathBuf,
    },
}

/// The users' own rules.
#[derive(clap::Args, Clone, Default)]
struct SigmaArgs {
    /// A folder of Sigma rules (`product: aws`, `service: cloudtrail`), run beside the
    /// built-in ones; a rule that cannot be used is reported and left out.
    #[arg(long, value_name = "DIR")]
    sigma: Option<PathBuf>,
}

impl SigmaArgs {
    /// The rules of the folder (none without one); each rejected rule said on stderr.
    fn load(&self) -> Result<cloudsec::sigma::SigmaSet, String> {
        let Some(dir) = &self.sigma else {
            return Ok(cloudsec::sigma::SigmaSet::default());
        };
        let set = cloudsec::sigma::SigmaSet::load_dir(dir)
            .map_err(|e| format!("--sigma {}: {e}", dir.display()))?;
        for r in set.rejected() {
            eprintln!(
                "cloudsec: sigma rule left out: {}",
                printable(&r.to_string())
            );
        }
        Ok(set)
    }
}

#[derive(Subcommand)]
enum TuningCommand {
    /// Validate a tuning file; exits non-zero on an error. With `--over`, a dry run: how many
    /// events each exception suppresses in those logs, and which match nothing.
    Check {
        /// The tuning file.
        file: PathBuf,
        /// Log files or folders to try the exceptions on.
        #[arg(long, num_args = 1..)]
        over: Vec<PathBuf>,
        #[command(flatten)]
        geo: GeoArgs,
    },
}

/// GeoIP enrichment and the geo detections.
#[derive(clap::Args, Clone, Default)]
struct GeoArgs {
    /// A GeoIP2/GeoLite2 City database (MaxMind's format): enriches `source.geo` and turns on
    /// the geo detections.
    #[arg(long, value_name = "MMDB")]
    geoip_city: Option<PathBuf>,
    /// A GeoIP2/GeoLite2 ASN database: enriches `source.as`.
    #[arg(long, value_name = "MMDB")]
    geoip_asn: Option<PathBuf>,
    /// A country (ISO code) whose console logins are findings (repeat).
    #[arg(long = "risky-country", value_name = "CC")]
    risky_countries: Vec<String>,
    /// A country whose console logins are expected (repeat); logins from others are findings.
    #[arg(long = "allowed-country", value_name = "CC")]
    allowed_countries: Vec<String>,
}

impl GeoArgs {
    fn settings(&self) -> cloudsec::geo::GeoSettings {
        let upper = |v: &[String]| v.iter().map(|c| c.trim().to_ascii_uppercase()).collect();
        cloudsec::geo::GeoSettings {
            deny: upper(&self.risky_countries),
            allow: upper(&self.allowed_countries),
            ..Default::default()
        }
    }

    /// The pipeline with the databases, when given.
    fn apply(&self, pipeline: Pipeline) -> Result<Pipeline, String> {
        if self.geoip_city.is_none() && self.geoip_asn.is_none() {
            return Ok(pipeline);
        }
        let geo =
            cloudsec::geo::GeoIp::open(self.geoip_city.as_deref(), self.geoip_asn.as_deref())?;
        Ok(pipeline.with_geo(std::sync::Arc::new(geo)))
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    /// AWS Security Finding Format, one document per line (`scan` only).
    Asff,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .without_time()
        .finish()
        .with(cloudsec::logging::cli_filter(
            std::env::var("RUST_LOG").ok().as_deref(),
        ))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan {
            paths,
            format,
            min_severity,
            bad_records,
            known_accounts,
            source,
            max_decompressed_bytes,
            tuning,
            product_arn,
            days,
            geo,
            sigma,
        } => {
            let product = match product_arn.as_deref() {
                None => Ok(cloudsec::publish::asff::Product::default_of(
                    "aws",
                    "us-east-1",
                    "000000000000",
                )),
                Some(arn) => cloudsec::publish::asff::Product::from_arn(arn)
                    .ok_or_else(|| format!("--product-arn {arn}: not a Security Hub product ARN")),
            };
            let settings = Settings {
                known_accounts: known_accounts.into_iter().collect(),
                geo: geo.settings(),
                ..Settings::default()
            };
            product.and_then(|product| {
                build_pipeline(settings, max_decompressed_bytes, &geo, &sigma)
                    .and_then(|pipeline| tuned(pipeline, tuning.as_deref()))
                    .and_then(|pipeline| {
                        scan(
                            &paths,
                            format,
                            product,
                            min_severity,
                            bad_records.as_deref(),
                            pipeline,
                            source,
                            days,
                        )
                    })
            })
        }
        Command::Normalize {
            paths,
            source,
            max_decompressed_bytes,
            geo,
        } => build_pipeline(
            Settings::default(),
            max_decompressed_bytes,
            &geo,
            &SigmaArgs::default(),
        )
        .and_then(|pipeline| normalize(&paths, source, &pipeline)),
        Command::Tuning {
            command: TuningCommand::Check { file, over, geo },
        } => tuning_check(&file, &over, &geo),
        Command::Rules { format, sigma } => rules(format, &sigma),
        Command::Sigma {
            command: SigmaCommand::Check { dir },
        } => sigma_check(&dir),
        Command::Report { over, output } => report::report(&over, &output),
        Command::Backfill {
            uri,
            queue_url,
            rate,
            hold,
            progress,
            days,
        } => backfill::backfill(&uri, &queue_url, days, rate, hold, progress.as_deref()),
        Command::Risk { over, format } => report::risk(&over, format),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cloudsec: {e}");
            ExitCode::from(2)
        }
    }
}

/// The functions' pipeline with the command line's settings.
fn build_pipeline(
    settings: Settings,
    max_decompressed_bytes: u64,
    geo: &GeoArgs,
    sigma: &SigmaArgs,
) -> Result<Pipeline, String> {
    let mut catalogue = Catalogue::with_settings(settings);
    catalogue.sigma = sigma.load()?;
    geo.apply(Pipeline::new(
        catalogue,
        PipelineConfig {
            max_decompressed_bytes,
            ..PipelineConfig::default()
        },
    ))
}

/// Reads the tuning file at `path`, and applies it to `pipeline`; says which exceptions expired.
fn tuned(pipeline: Pipeline, path: Option<&Path>) -> Result<Pipeline, String> {
    let Some(path) = path else {
        return Ok(pipeline);
    };
    let tuning = read_tuning(path)?;
    for e in tuning.expired(cloudsec::tuning::now()) {
        eprintln!(
            "cloudsec: {}: {} expired on {}: it no longer applies",
            path.display(),
            printable(&e.label()),
            printable(&e.entry.expires)
        );
    }
    pipeline
        .with_tuning(tuning)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn read_tuning(path: &Path) -> Result<Tuning, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Tuning::parse(&text).map_err(|e| format!("{}: {}", path.display(), printable(&e.to_string())))
}

/// `cloudsec tuning check`.
fn tuning_check(path: &Path, over: &[PathBuf], geo: &GeoArgs) -> Result<ExitCode, String> {
    let tuning = match read_tuning(path) {
        Ok(t) => t,
        Err(e) => {
            println!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut catalogue = Catalogue::builtin();
    let mut bound = tuning.clone();
    if let Err(e) = bound.apply(&mut catalogue) {
        println!("error: {}: {}", path.display(), printable(&e.to_string()));
        return Ok(ExitCode::FAILURE);
    }
    let problems = cloudsec::tuning::check::check(&tuning, cloudsec::tuning::now());
    for p in &problems {
        let level = match p.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        println!(
            "{level}: {}: {}",
            printable(&p.entry),
            printable(&p.message)
        );
    }
    let errors = problems.iter().filter(|p| p.level == Level::Error).count();
    println!(
        "{}: {} exceptions, {} rules tuned; {} errors, {} warnings",
        path.display(),
        tuning.exceptions().len(),
        tuning
            .states()
            .keys()
            .chain(tuning.settings().keys())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        errors,
        problems.len() - errors
    );
    if !over.is_empty() {
        // The file read and checked above, applied as is: not read and parsed again.
        let pipeline = build_pipeline(
            Settings::default(),
            cloudsec::read::DEFAULT_MAX_DECOMPRESSED_BYTES,
            geo,
            &SigmaArgs::default(),
        )?
        .with_tuning(tuning.clone())
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let run = run_files(
            over,
            pipeline,
            Severity::Info,
            None,
            None,
            None,
            Days::default(),
        )?;
        println!(
            "dry run over {} files, {} records:",
            run.totals.files, run.totals.records
        );
        for (i, e) in tuning.exceptions().iter().enumerate() {
            let by_rule: Vec<String> = run
                .suppressed
                .iter()
                .filter(|((x, _), _)| *x == cloudsec::tuning::Suppressor::Exception(i))
                .map(|((_, rule), n)| format!("{n} events of {rule}"))
                .collect();
            if by_rule.is_empty() {
                println!("  {}: matches nothing", printable(&e.label()));
            } else {
                println!(
                    "  {}: suppresses {}",
                    printable(&e.label()),
                    by_rule.join(", ")
                );
            }
        }
    }
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Every log file under `paths`, sorted, so that runs are reproducible.
fn collect_files(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if is_log_file(&path) {
                        out.push(path);
                    }
                }
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such file or folder", p.display()),
            ));
        }
    }
    out.sort();
    Ok(out)
}

fn is_log_file(p: &Path) -> bool {
    // A name that is not UTF-8 is still told by its ending.
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    [
        ".json",
        ".json.gz",
        ".jsonl",
        ".jsonl.gz",
        ".ndjson",
        ".log",
        ".log.gz",
        ".gz",
    ]
    .iter()
    .any(|ext| name.ends_with(ext))
}

/// The source of a file: `None` to skip it (a CloudTrail digest), `Some(None)` when its records
/// tell.
fn source_of(path: &Path, forced: Option<LogSource>) -> Option<Option<LogSource>> {
    match classify_key(&path.to_string_lossy()) {
        KeyVerdict::SkipDigest => None,
        _ if forced.is_some() => Some(forced),
        KeyVerdict::Read(s) => Some(Some(s)),
        KeyVerdict::Sniff => Some(None),
    }
}

#[derive(Default)]
struct Totals {
    files: u64,
    skipped_files: u64,
    failed_files: u64,
    records: u64,
    bad: u64,
}

/// What a run over files came to.
struct Run {
    totals: Totals,
    /// What the functions would have published, as it stands after the last file.
    published: Vec<Finding>,
    /// Findings of staged rules, as they stand after the last file.
    staged: Vec<Finding>,
    /// Events the exceptions and the Sigma filters kept from counting.
    suppressed: cloudsec::tuning::Suppressed,
}

/// What a run published: the findings' ids, in their order. The findings themselves are the
/// run's latest versions, which the delivered inputs carry; a copy of each published one here
/// (its evidence too) was made on the delivering thread and read only for its id.
#[derive(Default)]
struct PublishedIds(std::sync::Mutex<Vec<String>>);

impl PublishedIds {
    fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut ids| std::mem::take(&mut *ids))
            .unwrap_or_default()
    }
}

impl FindingSink for PublishedIds {
    async fn publish(&self, findings: &[&Finding]) -> Result<Vec<Rejected>, PublishError> {
        self.0
            .lock()
            .map_err(|_| PublishError::new("published ids poisoned"))?
            .extend(findings.iter().map(|f| f.finding.id.clone()));
        Ok(Vec::new())
    }
}

/// A progress line on stderr, redrawn after each input, when stderr is a terminal.
struct Progress {
    on: bool,
    started: std::time::Instant,
    sizes: Vec<u64>,
    total: u64,
    done: usize,
    bytes: u64,
    records: u64,
    drawn: std::time::Instant,
}

impl Progress {
    fn new(sizes: &[u64], on: bool) -> Progress {
        let now = std::time::Instant::now();
        Progress {
            on: on && !sizes.is_empty(),
            started: now,
            sizes: sizes.to_vec(),
            total: sizes.iter().sum(),
            done: 0,
            bytes: 0,
            records: 0,
            drawn: now,
        }
    }

    fn step(&mut self, records: u64) {
        self.bytes += self.sizes.get(self.done).copied().unwrap_or(0);
        self.done += 1;
        self.records += records;
        if !self.on || (self.drawn.elapsed().as_millis() < 200 && self.done < self.sizes.len()) {
            return;
        }
        self.drawn = std::time::Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let left = if self.bytes > 0 {
            secs * (self.total.saturating_sub(self.bytes)) as f64 / self.bytes as f64
        } else {
            0.0
        };
        eprint!(
            "\r{}/{} objects, {:.1}/{:.1} MB, {:.0} records/s, {:.0} s left   ",
            self.done,
            self.sizes.len(),
            self.bytes as f64 / 1e6,
            self.total as f64 / 1e6,
            self.records as f64 / secs,
            left
        );
    }

    fn finish(&self) {
        if self.on {
            eprintln!();
        }
    }
}

/// One input of a run.
#[derive(Clone, Copy)]
enum Input<'a> {
    File(&'a PathBuf),
    Object(&'a cloudsec::envelope::ObjectRef),
}

/// Reads one input of a scan (a file, or an object of `s3`).
async fn read_input<S: cloudsec::state::StateStore, Q: cloudsec::engine::ports::Quarantine>(
    engine: &Engine<S, Q>,
    input: &Input<'_>,
    s3: Option<&S3Objects>,
    forced: Option<LogSource>,
) -> Result<Prepared, cloudsec::error::InputError> {
    match (input, s3) {
        (Input::File(path), _) => engine.read_object(&LocalFiles, path, forced).await,
        (Input::Object(object), Some(s3)) => engine.read_object(s3, object, forced).await,
        (Input::Object(_), None) => unreachable!("objects are listed with a client"),
    }
}

/// Delivers what [`read_input`] read.
async fn deliver_input<S: cloudsec::state::StateStore, Q: cloudsec::engine::ports::Quarantine>(
    engine: &Engine<S, Q>,
    read: Result<Prepared, cloudsec::error::InputError>,
) -> Result<cloudsec::engine::Delivered, cloudsec::error::InputError> {
    match read {
        Ok(Prepared::Skipped(delivered)) => Ok(delivered),
        Ok(Prepared::Read(read)) => engine.deliver_read(read, Publishing::Publish).await,
        Err(e) => Err(e),
    }
}

/// The inputs of a scan's readers: which one is next, and how many are delivered. A reader
/// takes the next one while fewer than `ahead` are read and not yet delivered, so that memory
/// stays bounded.
struct ReadQueue {
    state: std::sync::Mutex<ReadState>,
    room: std::sync::Condvar,
    inputs: usize,
    ahead: usize,
}

#[derive(Default)]
struct ReadState {
    next: usize,
    delivered: usize,
    /// A reader failed (panicked): the others stop taking inputs, so that the scan ends.
    stopped: bool,
}

impl ReadQueue {
    fn new(inputs: usize, ahead: usize) -> ReadQueue {
        ReadQueue {
            state: std::sync::Mutex::default(),
            room: std::sync::Condvar::new(),
            inputs,
            ahead,
        }
    }

    /// The next input to read, once there is room for it; `None` when every input is taken
    /// or the queue stopped.
    fn take(&self) -> Option<usize> {
        let mut q = self.state.lock().ok()?;
        while !q.stopped && q.next < self.inputs && q.next >= q.delivered + self.ahead {
            q = self.room.wait(q).ok()?;
        }
        if q.stopped || q.next >= self.inputs {
            return None;
        }
        q.next += 1;
        Some(q.next - 1)
    }

    /// Input `i` is delivered: room for one more.
    fn delivered(&self, i: usize) {
        if let Ok(mut q) = self.state.lock() {
            q.delivered = i + 1;
        }
        self.room.notify_all();
    }
}

/// Held by a scan's reader: if it unwinds, the queue is stopped and the other readers woken,
/// so that none waits for room that no delivery will make.
struct StopOnPanic<'q>(&'q ReadQueue);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .stopped = true;
            self.0.room.notify_all();
        }
    }
}

/// Which objects of a folder or a prefix are read, and how many at a time.
#[derive(clap::Args, Clone, Copy)]
struct Days {
    /// Objects read at a time (findings and state are those of reading them one by one).
    #[arg(long, default_value_t = default_jobs())]
    jobs: usize,
    /// Only objects of this day and later, by the dates of AWS's key layouts
    /// (`.../YYYY/MM/DD/...`); in S3, only the day folders in range are listed.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = DayRange::parse_day)]
    since: Option<(u32, u32, u32)>,
    /// Only objects of this day and earlier.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = DayRange::parse_day)]
    until: Option<(u32, u32, u32)>,
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for Days {
    fn default() -> Days {
        Days {
            jobs: default_jobs(),
            since: None,
            until: None,
        }
    }
}

impl Days {
    fn range(self) -> DayRange {
        DayRange {
            since: self.since,
            until: self.until,
        }
    }
}

/// The day of a path or key in AWS's layouts: the first `YYYY/MM/DD` folders in it.
fn day_of(path: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = path.split(['/', '\\']).collect();
    parts.windows(3).find_map(|w| {
        let (y, m, d) = (w[0], w[1], w[2]);
        let ok = y.len() == 4 && m.len() == 2 && d.len() == 2;
        ok.then(|| Some((y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)))
            .flatten()
            .filter(|&(_, m, d): &(u32, u32, u32)| (1..=12).contains(&m) && (1..=31).contains(&d))
    })
}

/// The functions' engine over `paths` (files, folders, `s3://bucket/prefix`), with an
/// in-memory state and topic.
fn run_files(
    paths: &[PathBuf],
    pipeline: Pipeline,
    min_severity: Severity,
    quarantine: Option<Arc<FileQuarantine>>,
    forced: Option<LogSource>,
    kept: Option<Arc<cloudsec::store::memory::MemoryFindings>>,
    days: Days,
) -> Result<Run, String> {
    let range = days.range();
    let (remote, local): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .iter()
        .cloned()
        .partition(|p| p.to_str().is_some_and(|s| s.starts_with("s3://")));
    let files: Vec<PathBuf> = collect_files(&local)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|f| {
            range.is_open()
                || day_of(&f.to_string_lossy()).is_some_and(|d| {
                    range.since.is_none_or(|s| d >= s) && range.until.is_none_or(|u| d <= u)
                })
        })
        .collect();
    let max_evidence = pipeline.config().max_evidence;
    let published = Arc::new(PublishedIds::default());
    let engine = Engine::new(
        Arc::new(pipeline),
        MemoryStore::new(),
        quarantine,
        Sinks::one(Arc::clone(&published)),
        EngineConfig {
            min_severity,
            ..EngineConfig::default()
        },
    );
    let engine = match kept {
        Some(store) => engine.with_findings_store(store),
        None => engine,
    };
    // One worker drives S3's connections while this thread delivers and the readers read.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // Objects in S3: listed with the credentials, profile and region the AWS CLI would use
    // (and AWS_ENDPOINT_URL).
    let mut objects = Vec::new();
    let s3 = if remote.is_empty() {
        None
    } else {
        let aws = runtime.block_on(aws_config::load_defaults(
            aws_config::BehaviorVersion::latest(),
        ));
        let client = aws_sdk_s3::Client::new(&aws);
        for uri in &remote {
            let uri = uri.to_string_lossy();
            let (bucket, prefix) =
                parse_s3_uri(&uri).ok_or_else(|| format!("{uri}: expected s3://bucket/prefix"))?;
            let listed = runtime
                .block_on(list_objects(&client, &bucket, &prefix, range))
                .map_err(|e| printable(&e.to_string()))?;
            objects.extend(listed);
        }
        Some(S3Objects::new(client))
    };
    let mut totals = Totals::default();
    let mut suppressed = BTreeMap::new();
    // Every finding as the latest file left it, by its deterministic id.
    let mut latest: HashMap<String, Finding> = HashMap::new();
    let mut take =
        |result: Result<cloudsec::engine::Delivered, cloudsec::error::InputError>| match result {
            Ok(delivered) if delivered.summary.skipped.is_some() => totals.skipped_files += 1,
            Ok(delivered) => {
                totals.files += 1;
                totals.records += delivered.summary.records;
                totals.bad += delivered.summary.bad;
                for (k, n) in delivered.suppressed {
                    *suppressed.entry(k).or_insert(0) += n;
                }
                for f in delivered.fired {
                    match latest.get_mut(&f.finding.finding.id) {
                        Some(have) => have.update_from(f.finding, max_evidence),
                        None => {
                            latest.insert(f.finding.finding.id.clone(), f.finding);
                        }
                    }
                }
            }
            Err(e) => {
                totals.files += 1;
                totals.failed_files += 1;
                eprintln!(
                    "cloudsec: {} (nothing counted from it)",
                    printable(&e.to_string())
                );
            }
        };
    // Read `jobs` inputs at a time (the pipeline on the blocking threads), delivered one by
    // one in their order: the state and findings of a sequential run.
    let inputs: Vec<Input<'_>> = files
        .iter()
        .map(Input::File)
        .chain(objects.iter().map(Input::Object))
        .collect();
    let engine = &engine;
    let s3 = s3.as_ref();
    // Progress on stderr when it is a terminal: objects, bytes, records per second, time left.
    let sizes: Vec<u64> = inputs
        .iter()
        .map(|i| match i {
            Input::File(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
            Input::Object(o) => o.size.unwrap_or(0),
        })
        .collect();
    let mut progress = Progress::new(&sizes, io::stderr().is_terminal());
    let jobs = days.jobs.max(1);
    if jobs == 1 {
        // One core: each input read, then delivered, in turn.
        for input in &inputs {
            let delivered = runtime.block_on(async {
                let read = read_input(engine, input, s3, forced).await;
                deliver_input(engine, read).await
            });
            progress.step(delivered.as_ref().map_or(0, |d| d.summary.records));
            take(delivered);
        }
    } else {
        // `jobs` threads read inputs, in their order, each taking the next one as it finishes;
        // this thread delivers them one by one in that order, the state and findings of a
        // sequential run. The readers never wait for a delivery, only for room: at most
        // `2 * jobs` inputs are read ahead of the last one delivered, so memory stays bounded.
        let queue = ReadQueue::new(inputs.len(), 2 * jobs);
        let (sent, received) = std::sync::mpsc::channel();
        let handle = runtime.handle();
        std::thread::scope(|scope| {
            for _ in 0..jobs.min(inputs.len()) {
                let sent = sent.clone();
                let (queue, inputs) = (&queue, &inputs);
                scope.spawn(move || {
                    let _stop = StopOnPanic(queue);
                    while let Some(i) = queue.take() {
                        let read = handle.block_on(read_input(engine, &inputs[i], s3, forced));
                        if sent.send((i, read)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(sent);
            let mut waiting = BTreeMap::new();
            for i in 0..inputs.len() {
                let read = loop {
                    if let Some(read) = waiting.remove(&i) {
                        break read;
                    }
                    match received.recv() {
                        Ok((at, read)) => {
                            waiting.insert(at, read);
                        }
                        // Every reader stopped, one without sending (it panicked, and the
                        // others stopped with it): the scope reports the panic.
                        Err(_) => return,
                    }
                };
                let delivered = runtime.block_on(deliver_input(engine, read));
                queue.delivered(i);
                progress.step(delivered.as_ref().map_or(0, |d| d.summary.records));
                take(delivered);
            }
        });
    }
    progress.finish();
    let mut published: Vec<Finding> = published
        .take()
        .into_iter()
        .filter_map(|id| latest.remove(&id))
        .collect();
    let mut staged: Vec<Finding> = latest
        .into_values()
        .filter(|f| f.finding.staged && f.finding.severity >= min_severity)
        .collect();
    for list in [&mut published, &mut staged] {
        list.sort_by(|a, b| {
            b.finding
                .severity
                .cmp(&a.finding.severity)
                .then_with(|| a.event.start.cmp(&b.event.start))
                .then_with(|| a.rule.id.cmp(&b.rule.id))
        });
    }
    Ok(Run {
        totals,
        published,
        staged,
        suppressed,
    })
}

#[allow(clippy::too_many_arguments)]
fn scan(
    paths: &[PathBuf],
    format: Option<Format>,
    product: cloudsec::publish::asff::Product,
    min_severity: Severity,
    bad_path: Option<&Path>,
    pipeline: Pipeline,
    forced: Option<LogSource>,
    days: Days,
) -> Result<ExitCode, String> {
    let quarantine = match bad_path {
        Some(p) => Some(Arc::new(
            FileQuarantine::create(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )),
        None => None,
    };
    // What may suppress, named before the pipeline goes to the run.
    let exceptions = pipeline.tuning().map_or(0, |t| t.exceptions().len());
    let filters = pipeline.catalogue().sigma.filters().len();
    let labels: std::collections::HashMap<cloudsec::tuning::Suppressor, String> = (0..exceptions)
        .map(cloudsec::tuning::Suppressor::Exception)
        .chain((0..filters).map(cloudsec::tuning::Suppressor::SigmaFilter))
        .map(|s| (s, pipeline.suppressor_label(s)))
        .collect();
    let run = run_files(
        paths,
        pipeline,
        min_severity,
        quarantine.clone(),
        forced,
        None,
        days,
    )?;
    if let Some(q) = &quarantine {
        q.flush().map_err(|e| e.to_string())?;
    }
    let stdout = io::stdout();
    let format = format.unwrap_or(if stdout.is_terminal() {
        Format::Table
    } else {
        Format::Json
    });
    let mut out = BufWriter::new(stdout.lock());
    let written = match format {
        // Staged findings carry `"staged": true`.
        Format::Json => run.published.iter().chain(&run.staged).try_for_each(|f| {
            serde_json::to_writer(&mut out, f).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }),
        // What Security Hub would be given, for a manual import or a look.
        Format::Asff => run.published.iter().try_for_each(|f| {
            let doc = cloudsec::publish::asff::document(f, &product);
            serde_json::to_writer(&mut out, &doc).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }),
        Format::Table => print_table(&mut out, &run.published).and_then(|()| {
            if run.staged.is_empty() {
                return Ok(());
            }
            writeln!(out, "\nStaged rules (kept, not published):")?;
            print_table(&mut out, &run.staged)
        }),
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    print_summary(&run.totals, &run.published);
    if !run.staged.is_empty() {
        eprintln!(
            "{} findings of staged rules, not published",
            run.staged.len()
        );
    }
    if !run.suppressed.is_empty() {
        let events: u64 = run.suppressed.values().sum();
        let by: std::collections::BTreeSet<_> = run.suppressed.keys().map(|(s, _)| *s).collect();
        eprintln!(
            "{events} events suppressed by {} exceptions and filters:",
            by.len()
        );
        for ((s, rule), n) in &run.suppressed {
            let label = labels.get(s).map(String::as_str).unwrap_or("exception");
            eprintln!("  {}: {n} events of {rule}", printable(label));
        }
    }
    let code = if run.totals.failed_files > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    };
    // The process ends with this command: the findings' memory (their evidence, a few
    // allocations each) goes back to the system at exit instead of piece by piece, which
    // took about 8 ms of a 0.7 s scan's serial end (perf, 2,000 findings).
    std::mem::forget(run);
    Ok(code)
}

fn account(totals: &mut Totals, report: &InputReport, display: &str) {
    totals.records += report.records;
    totals.bad += report.bad;
    if let Some(e) = &report.error {
        totals.failed_files += 1;
        eprintln!("cloudsec: {display}: {e} (records before the error were scanned)");
    }
}

/// `s` cut to `max` characters, with the control characters of a log value (ESC, BEL, CR, ...)
/// written as escapes, so that text from logs can never drive the terminal.
fn truncate(s: &str, max: usize) -> String {
    let s = printable(s);
    if s.chars().count() <= max {
        s
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// `s` with every control character escaped (`\u{1b}`).
fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn print_table(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "No findings.");
    }
    writeln!(
        out,
        "{:<9} {:<28} {:>5}  {:<20}  {:<30}  MESSAGE",
        "SEVERITY", "RULE", "COUNT", "FIRST SEEN", "ENTITY"
    )?;
    for f in findings {
        writeln!(
            out,
            "{:<9} {:<28} {:>5}  {:<20}  {:<30}  {}",
            f.finding.severity.as_str().to_uppercase(),
            truncate(&f.rule.id, 28),
            f.finding.count,
            f.event.start,
            truncate(
                &format!("{}:{}", f.finding.entity.kind, f.finding.entity.id),
                30
            ),
            truncate(&f.message, 120),
        )?;
    }
    Ok(())
}

fn print_summary(t: &Totals, findings: &[Finding]) {
    let by = InputReport::count_by_severity(findings);
    let severities: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| format!("{} {}", by[*s as usize], s))
        .collect();
    eprintln!(
        "scanned {} files ({} skipped, {} failed): {} records, {} bad records; {} findings: {}",
        t.files,
        t.skipped_files,
        t.failed_files,
        t.records,
        t.bad,
        findings.len(),
        severities.join(", ")
    );
}

fn normalize(
    paths: &[PathBuf],
    forced: Option<LogSource>,
    pipeline: &Pipeline,
) -> Result<ExitCode, String> {
    let (remote, local): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .iter()
        .cloned()
        .partition(|p| p.to_str().is_some_and(|s| s.starts_with("s3://")));
    let files = collect_files(&local).map_err(|e| e.to_string())?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut totals = Totals::default();
    let mut write_error: Option<io::Error> = None;
    // One input: its ECS events written; false once the reader of stdout is gone.
    let mut one = |body: Box<dyn io::Read + Send>,
                   display: &str,
                   source: Option<LogSource>,
                   totals: &mut Totals|
     -> Result<bool, String> {
        let report = pipeline.normalize(body, display, source, &mut |event| {
            if write_error.is_none() {
                let r = serde_json::to_writer(&mut out, event)
                    .map_err(io::Error::other)
                    .and_then(|()| out.write_all(b"\n"));
                write_error = r.err();
            }
        });
        totals.files += 1;
        account(totals, &report, display);
        match write_error.take() {
            // A closed pipe (`| head`) is a normal end, not an error.
            Some(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
            Some(e) => Err(e.to_string()),
            None => Ok(true),
        }
    };
    for path in &files {
        let Some(source) = source_of(path, forced) else {
            totals.skipped_files += 1;
            continue;
        };
        let display = path.display().to_string();
        let file = File::open(path).map_err(|e| format!("{display}: {e}"))?;
        if !one(Box::new(file), &display, source, &mut totals)? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    if !remote.is_empty() {
        // A runtime of its own threads: the objects' bodies are read synchronously from here.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let aws = runtime.block_on(aws_config::load_defaults(
            aws_config::BehaviorVersion::latest(),
        ));
        let s3 = S3Objects::new(aws_sdk_s3::Client::new(&aws));
        for uri in &remote {
            let uri = uri.to_string_lossy();
            let (bucket, prefix) =
                parse_s3_uri(&uri).ok_or_else(|| format!("{uri}: expected s3://bucket/prefix"))?;
            let client = aws_sdk_s3::Client::new(&aws);
            let objects = runtime
                .block_on(list_objects(&client, &bucket, &prefix, DayRange::default()))
                .map_err(|e| printable(&e.to_string()))?;
            for object in objects {
                let Some(source) = source_of(Path::new(&object.key), forced) else {
                    totals.skipped_files += 1;
                    continue;
                };
                let opened = match runtime.block_on(s3.open(&object)) {
                    Ok(o) => o,
                    Err(e) => {
                        totals.files += 1;
                        totals.failed_files += 1;
                        eprintln!("cloudsec: {}", printable(&e.to_string()));
                        continue;
                    }
                };
                let display = object.uri();
                if !one(opened.body, &display, source, &mut totals)? {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    eprintln!(
        "normalized {} records from {} files ({} bad records, {} failed files)",
        totals.records, totals.files, totals.bad, totals.failed_files
    );
    Ok(if totals.failed_files > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn rules(format: Format, sigma: &SigmaArgs) -> Result<ExitCode, String> {
    let mut catalogue = Catalogue::builtin();
    catalogue.sigma = sigma.load()?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for m in catalogue.metas() {
        let kind = match catalogue.kind(m.id) {
            Some(cloudsec::detect::RuleKind::Window { .. }) => "window",
            Some(cloudsec::detect::RuleKind::Anomaly { .. }) => "anomaly",
            _ => "single",
        };
        let r = match format {
            Format::Json | Format::Asff => {
                let doc = serde_json::json!({
                    "id": m.id, "kind": kind, "title": m.title, "description": m.description,
                    "severity": m.severity, "category": m.category.as_str(),
                    "dashboard": m.category.title(), "entity": m.entity.as_str(),
                    "attack": m.attack, "dedup_minutes": m.dedup_minutes,
                    "action_plan": m.action_plan, "references": m.references,
                });
                writeln!(out, "{doc}")
            }
            Format::Table => writeln!(
                out,
                "{:<42} {:<8} {:<9} {:<18} {}",
                m.id,
                kind,
                m.severity.as_str(),
                m.category.as_str(),
                printable(m.title)
            ),
        };
        r.map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// `cloudsec sigma check`: what loads and what does not, and why.
fn sigma_check(dir: &Path) -> Result<ExitCode, String> {
    let set =
        cloudsec::sigma::SigmaSet::load_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut lines = Vec::new();
    for d in set.detections() {
        let what = if d.generates {
            "detection"
        } else {
            "detection, correlated only"
        };
        lines.push(format!(
            "ok     {}: {} ({what}): {}",
            d.file, d.meta.id, d.meta.title
        ));
    }
    for c in set.correlations() {
        lines.push(format!(
            "ok     {}: {} (correlation): {}",
            c.file, c.meta.id, c.meta.title
        ));
    }
    for f in set.filters() {
        lines.push(format!("ok     {}: filter: {}", f.file, f.title));
    }
    for r in set.rejected() {
        lines.push(format!("error  {r}"));
    }
    for line in lines {
        writeln!(out, "{}", printable(&line)).map_err(|e| e.to_string())?;
    }
    writeln!(
        out,
        "{} detections, {} correlations, {} filters load; {} rejected",
        set.detections().len(),
        set.correlations().len(),
        set.filters().len(),
        set.rejected().len()
    )
    .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    Ok(if set.rejected().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
