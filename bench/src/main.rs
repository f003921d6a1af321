//! `cloudsec-bench`: how fast and lean the pipeline is, on one generated CloudTrail object.
//!
//! In one run, on the same object (`scripts/bench`, or `cargo run --release -p cloudsec-bench`):
//! 1. the floor: gunzip plus a typed parse of each record, nothing else;
//! 2. the full pipeline on one core: gunzip, parse, ECS, every detection, the in-memory state,
//!    findings serialized;
//! 3. the ratio of 2 to 1;
//! 4. a peer: Python's standard `gzip` + `json` reading the same file, and the ratio of 2 to it;
//! 5. peak resident memory of a process running the pipeline over the object, streamed from a
//!    file;
//! 6. DynamoDB write requests per 1,000 records with the state of the windowed rules (against
//!    the emulator when `AWS_ENDPOINT_URL` is set);
//! 7. `cloudsec scan` over a folder, on every core against one.
//!
//! `cloudsec-bench cost` prints the monthly cost for an organization's volumes ([`cost`]).

mod cost;
mod generate;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::{Parser, Subcommand};
use std::sync::Arc;

use cloudsec::detect::Catalogue;
use cloudsec::engine::ports::MemoryQuarantine;
use cloudsec::engine::{Engine, EngineConfig, InputId};
use cloudsec::error::{RecordError, RecordPosition};
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::publish::Sinks;
use cloudsec::read::{self, RecordVisitor};
use cloudsec::sources::cloudtrail::CloudTrailRecord;
use cloudsec::sources::LogSource;
use cloudsec::state::memory::MemoryStore;

#[derive(Parser)]
#[command(name = "cloudsec-bench", about = "Benchmark of the cloudsec pipeline")]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the benchmark (the default).
    Run(RunArgs),
    /// Write a generated CloudTrail object, gzip, to a file.
    Generate {
        /// Uncompressed size, in MB.
        #[arg(long, default_value_t = 200)]
        megabytes: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Where to write it (`.json.gz`).
        #[arg(long)]
        out: PathBuf,
    },
    /// The monthly cost for an organization's volumes, from this run's measurements and AWS's
    /// list prices (needs the emulator: `scripts/bench cost ...`).
    Cost(cost::CostArgs),
    /// Pipeline / floor in instructions executed, counted by valgrind (callgrind): the same on
    /// every run of the same build, where the timed ratio moves with a shared machine's load.
    Instructions {
        /// Size of the generated object, MB of JSON.
        #[arg(long, default_value_t = 20)]
        megabytes: usize,
    },
    /// (used by `run` and `instructions`) Run the pipeline over a file and print the peak
    /// resident memory; with `--sigma DIR`, with the Sigma rules of that folder loaded.
    RssChild {
        path: PathBuf,
        #[arg(long)]
        sigma: Option<PathBuf>,
    },
    /// (used by `instructions`) Run the floor over a file.
    FloorChild { path: PathBuf },
    /// (used by `instructions`) Compile the user agent regexes, and nothing else.
    AgentsChild { path: PathBuf },
    /// (used by `instructions`) Start and exit: the baseline of the one above; with
    /// `--sigma DIR`, load the Sigma rules of that folder, and exit.
    EmptyChild {
        path: PathBuf,
        #[arg(long)]
        sigma: Option<PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    /// Uncompressed size of the generated object, in MB.
    #[arg(long, default_value_t = 200)]
    megabytes: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Timed runs of each measurement (rounds of the floor and the pipelines, in turn); the
    /// best is reported.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Records sent through DynamoDB (in inputs of 1,000) for the write count.
    #[arg(long, default_value_t = 20_000)]
    dynamodb_records: usize,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            megabytes: 200,
            seed: 42,
            repeat: 5,
            dynamodb_records: 20_000,
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Cmd::Run(RunArgs::default())) {
        Cmd::Run(args) => run(args),
        Cmd::Generate {
            megabytes,
            seed,
            out,
        } => {
            let (gz, json_bytes, records) = generate_object(megabytes, seed)?;
            std::fs::write(&out, &gz)?;
            eprintln!(
                "{}: {records} records, {:.1} MB of JSON, {:.1} MB gzip",
                out.display(),
                mb(json_bytes),
                mb(gz.len())
            );
            Ok(())
        }
        Cmd::Cost(args) => cost::cost(args),
        Cmd::Instructions { megabytes } => instructions(megabytes),
        Cmd::RssChild { path, sigma } => rss_child(&path, sigma.as_deref()),
        Cmd::AgentsChild { .. } => {
            std::hint::black_box(cloudsec::user_agent::Agents::load());
            Ok(())
        }
        Cmd::EmptyChild { sigma, .. } => {
            if let Some(dir) = sigma {
                std::hint::black_box(cloudsec::sigma::SigmaSet::load_dir(&dir)?);
            }
            Ok(())
        }
        Cmd::FloorChild { path } => {
            let records = floor(&std::fs::read(path)?);
            println!("{records}");
            Ok(())
        }
    }
}

/// SigmaHQ's CloudTrail rules, beside the project.
const SIGMA_CORPUS: &str = "../shared/corpora/sigma";

/// The built-in pipeline, with the Sigma rules of `sigma` loaded when given.
fn pipeline_with(sigma: Option<&Path>) -> Result<Arc<Pipeline>, Box<dyn std::error::Error>> {
    let mut catalogue = Catalogue::builtin();
    if let Some(dir) = sigma {
        catalogue.sigma = cloudsec::sigma::SigmaSet::load_dir(dir)?;
    }
    Ok(Arc::new(Pipeline::new(
        catalogue,
        PipelineConfig::default(),
    )))
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// The generated object as gzip, its JSON size and record count.
fn generate_object(
    megabytes: usize,
    seed: u64,
) -> Result<(Vec<u8>, usize, u64), Box<dyn std::error::Error>> {
    struct Counting<W> {
        inner: W,
        bytes: usize,
    }
    impl<W: Write> Write for Counting<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.bytes += n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut out = Counting {
        inner: std::io::BufWriter::with_capacity(1 << 20, enc),
        bytes: 0,
    };
    let records = generate::Generator::new(seed).write_object(megabytes * 1_000_000, &mut out)?;
    let json_bytes = out.bytes;
    let gz = out
        .inner
        .into_inner()
        .map_err(|e| e.into_error())?
        .finish()?;
    Ok((gz, json_bytes, records))
}

/// Parses every record as CloudTrail and nothing else.
struct Floor {
    records: u64,
    bad: u64,
}

impl RecordVisitor for Floor {
    fn record(&mut self, _: RecordPosition, raw: &str) {
        match CloudTrailRecord::parse(raw) {
            Ok(r) => {
                std::hint::black_box(&r);
                self.records += 1;
            }
            Err(_) => self.bad += 1,
        }
    }
    fn malformed(&mut self, _: RecordPosition, _: &str, _: RecordError) {
        self.bad += 1;
    }
}

/// What the Sigma rules ask of the records: how many are parsed whole for them (a field the
/// typed record does not answer, and the text cannot rule out), and how many matches there
/// are, with the rule that matches most.
struct SigmaWork<'s> {
    set: &'s cloudsec::sigma::SigmaSet,
    records: u64,
    parsed_whole: u64,
    matches: Vec<u64>,
    scratch: Vec<cloudsec::sigma::Match>,
}

impl RecordVisitor for SigmaWork<'_> {
    fn record(&mut self, _: RecordPosition, raw: &str) {
        let Ok(r) = CloudTrailRecord::parse(raw) else {
            return;
        };
        let event = cloudsec::sigma::RecordEvent::new(&r, raw);
        self.scratch.clear();
        self.set.evaluate(&event, &mut self.scratch);
        self.records += 1;
        self.parsed_whole += u64::from(event.parsed_whole());
        for m in &self.scratch {
            self.matches[m.detection] += 1;
        }
    }
    fn malformed(&mut self, _: RecordPosition, _: &str, _: RecordError) {}
}

fn sigma_work(set: &cloudsec::sigma::SigmaSet, gz: &[u8]) {
    let mut work = SigmaWork {
        set,
        records: 0,
        parsed_whole: 0,
        matches: vec![0; set.detections().len()],
        scratch: Vec::new(),
    };
    let reader = read::open(gz, u64::MAX).expect("gzip");
    read::read_records(reader, "bench", &mut work).expect("read");
    let (top, most) = work
        .matches
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .map_or(("none", 0), |(i, n)| (set.detections()[i].meta.title, *n));
    println!(
        "      of {} records, {} parsed whole for the rules; {} matches, {most} of them by \"{top}\"",
        work.records,
        work.parsed_whole,
        work.matches.iter().sum::<u64>()
    );
}

fn floor(gz: &[u8]) -> u64 {
    let mut v = Floor { records: 0, bad: 0 };
    let reader = read::open(gz, u64::MAX).expect("gzip");
    read::read_records(reader, "bench", &mut v).expect("read");
    assert_eq!(v.bad, 0, "the generated object has no bad records");
    v.records
}

/// The whole pipeline over `input`, as the functions run it: read, then the engine's delivery
/// over a fresh in-memory state (commit, claim, settle); the findings serialized. Returns
/// (records, findings, serialized bytes).
fn pipeline<R: std::io::Read>(
    pipeline: &Arc<Pipeline>,
    runtime: &tokio::runtime::Runtime,
    input: R,
    id: &str,
) -> (u64, usize, usize) {
    let engine = Engine::new(
        Arc::clone(pipeline),
        MemoryStore::new(),
        MemoryQuarantine::default(),
        Sinks::none(),
        EngineConfig::default(),
    );
    // The engine's read step is this scan, on a blocking thread; here it runs on this one.
    let report = engine.pipeline().scan(input, id, LogSource::CloudTrail);
    assert!(report.error.is_none() && report.bad == 0);
    let records = report.records;
    let fired = runtime
        .block_on(engine.deliver(&InputId::named(id), report, Instant::now()))
        .expect("deliver")
        .fired;
    // Serialized one by one, as the Lambda publishes them in batches; not all held at once.
    let count = fired.len();
    let mut bytes = 0;
    let mut out = Vec::new();
    for f in fired {
        out.clear();
        serde_json::to_writer(&mut out, &f.finding).expect("serialize");
        bytes += out.len() + 1;
    }
    (records, count, bytes)
}

/// A tuning file of 50 exceptions spread over the catalogue's rules, each with two
/// conditions (a user-name glob and a CIDR) that the generated records never meet.
fn fifty_exceptions() -> String {
    let ids: Vec<&str> = Catalogue::builtin().metas().map(|m| m.id).collect();
    let mut text = String::from("exceptions:\n");
    for i in 0..50 {
        text.push_str(&format!(
            "  - rule: {}\n    match: {{user.name: \"svc-{i}-*\", source.ip: 10.{i}.0.0/16}}\n    reason: bench\n    owner: bench@example.com\n    expires: 2999-12-31\n",
            ids[i % ids.len()]
        ));
    }
    text
}

/// Writes a generated object under `target/bench/`, for the child processes and Python.
fn save_object(gz: &[u8], megabytes: usize, seed: u64) -> std::io::Result<PathBuf> {
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("cloudtrail-{megabytes}mb-seed{seed}.json.gz"));
    std::fs::write(&path, gz)?;
    Ok(path)
}

fn best<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(v);
    }
    (best, last.expect("ran"))
}

fn run(args: RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!(
        "cloudsec-bench: {} MB object, seed {}, best of {}; {} ({} cores)",
        args.megabytes,
        args.seed,
        args.repeat,
        cpu,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let t = Instant::now();
    let (gz, json_bytes, generated) = generate_object(args.megabytes, args.seed)?;
    println!(
        "generated {generated} records: {:.1} MB of JSON, {:.1} MB gzip ({:.1} s)",
        mb(json_bytes),
        mb(gz.len()),
        t.elapsed().as_secs_f64()
    );
    let path = save_object(&gz, args.megabytes, args.seed)?;

    // 0. Decompression alone: no reader of this object can go faster.
    let (gunzip_s, _) = best(args.repeat, || {
        let mut d = flate2::read::MultiGzDecoder::new(&gz[..]);
        std::io::copy(&mut d, &mut std::io::sink()).expect("gunzip")
    });
    println!(
        "0. gunzip alone (zlib-rs):            {:8.1} MB/s",
        mb(json_bytes) / gunzip_s
    );

    // 1 to 3c, in rounds: each round runs the floor and every pipeline once, in turn, and
    // each keeps its best round; a slow moment of this shared machine then falls on all of
    // them alike instead of on one, and the ratios hold from run to run.
    let plain = pipeline_with(None)?;
    // 3b. The same pipeline tuned with 50 exceptions over the rules, none matching the
    // generated users: every hit of a covered rule is checked against them.
    let tuned = Arc::new(
        Pipeline::new(Catalogue::builtin(), PipelineConfig::default())
            .with_tuning(cloudsec::tuning::Tuning::parse(&fifty_exceptions())?)?,
    );
    // 3c. The same pipeline with SigmaHQ's CloudTrail rules loaded (those that load), each
    // evaluated against every record under CloudTrail's own field names.
    let sigma_dir = std::path::Path::new(SIGMA_CORPUS);
    let with_sigma = if sigma_dir.is_dir() {
        Some(pipeline_with(Some(sigma_dir))?)
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let pipelines: Vec<&Arc<Pipeline>> = [Some(&plain), Some(&tuned), with_sigma.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    let mut floor_s = f64::MAX;
    let mut pipe_s = vec![f64::MAX; pipelines.len()];
    let mut outputs = vec![(0, 0, 0); pipelines.len()];
    for round in 0..args.repeat.max(1) {
        let t = Instant::now();
        let floor_records = floor(&gz);
        floor_s = floor_s.min(t.elapsed().as_secs_f64());
        assert_eq!(floor_records, generated);
        for (i, p) in pipelines.iter().enumerate() {
            let t = Instant::now();
            // A fresh state each run: every run does the same work.
            outputs[i] = pipeline(p, &runtime, &gz[..], &format!("bench-{round}-{i}"));
            pipe_s[i] = pipe_s[i].min(t.elapsed().as_secs_f64());
        }
    }
    let floor_mbps = mb(json_bytes) / floor_s;
    println!(
        "1. floor (gunzip + typed parse):       {floor_mbps:8.1} MB/s  {:>10.0} records/s",
        generated as f64 / floor_s
    );
    let (records, findings, out_bytes) = outputs[0];
    assert_eq!(records, generated);
    let pipe_mbps = mb(json_bytes) / pipe_s[0];
    println!(
        "2. full pipeline, one core:            {pipe_mbps:8.1} MB/s  {:>10.0} records/s  ({findings} findings, {:.1} KB serialized)",
        generated as f64 / pipe_s[0],
        out_bytes as f64 / 1e3
    );
    println!(
        "3. pipeline / floor:                   {:8.2}",
        pipe_mbps / floor_mbps
    );
    let (tuned_records, tuned_findings, _) = outputs[1];
    assert_eq!((tuned_records, tuned_findings), (records, findings));
    let tuned_mbps = mb(json_bytes) / pipe_s[1];
    println!(
        "   with 50 exceptions:                 {tuned_mbps:8.1} MB/s  ({:.2} of the untuned pipeline)",
        tuned_mbps / pipe_mbps
    );
    match &with_sigma {
        Some(set) => {
            let loaded = set.catalogue().sigma.detections().len();
            let (sigma_records, sigma_findings, _) = outputs[2];
            assert_eq!(sigma_records, records);
            let sigma_mbps = mb(json_bytes) / pipe_s[2];
            println!(
                "   with {loaded} SigmaHQ rules:             {sigma_mbps:8.1} MB/s  ({sigma_findings} findings; pipeline / floor {:.2})",
                sigma_mbps / floor_mbps
            );
            sigma_work(&set.catalogue().sigma, &gz);
        }
        None => println!("   with SigmaHQ's rules: skipped (no {SIGMA_CORPUS})"),
    }

    // 4. The Python peer, on the same file.
    let script = [
        "import gzip, json, sys, time",
        "t = time.perf_counter()",
        "with gzip.open(sys.argv[1], 'rb') as f:",
        "    n = len(json.load(f)['Records'])",
        "print(n, time.perf_counter() - t)",
    ]
    .join("\n");
    let mut py_best = f64::MAX;
    let mut py_ok = true;
    for _ in 0..args.repeat.max(1) {
        match Command::new("python3")
            .arg("-c")
            .arg(&script)
            .arg(&path)
            .output()
        {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout);
                let mut parts = text.split_whitespace();
                let n: u64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                let s: f64 = parts
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::MAX);
                assert_eq!(n, generated, "Python read another number of records");
                py_best = py_best.min(s);
            }
            _ => py_ok = false,
        }
    }
    if py_ok {
        let py_mbps = mb(json_bytes) / py_best;
        println!(
            "4. Python gzip + json (peer):          {py_mbps:8.1} MB/s  {:>10.0} records/s",
            generated as f64 / py_best
        );
        println!(
            "   pipeline / Python:                  {:8.1}",
            pipe_mbps / py_mbps
        );
    } else {
        println!("4. Python gzip + json (peer):          skipped (python3 failed)");
    }

    // 5. Peak resident memory, in a process of its own.
    let out = Command::new(std::env::current_exe()?)
        .arg("rss-child")
        .arg(&path)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<u64> = text
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    if out.status.success() && nums.len() == 3 {
        println!(
            "5. peak resident memory, {:.0} MB object: {:.1} MB ({:.1} MB at start, {} records)",
            mb(json_bytes),
            nums[1] as f64 / 1024.0,
            nums[0] as f64 / 1024.0,
            nums[2]
        );
    } else {
        println!(
            "5. peak resident memory: failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // 6. DynamoDB write requests.
    dynamodb_writes(&args)?;

    // 7. `cloudsec scan` over a folder of objects: all cores against one.
    scan_folder(&args)?;

    // 8. The user agent parser, against a record's share of the floor.
    user_agents(floor_s / generated as f64);
    Ok(())
}

/// What `user_agent.*` costs where an ECS event is built (evidence, exceptions, `normalize`):
/// compiling uap-core's regexes once per process, and parsing one agent of each kind.
fn user_agents(floor_per_record_s: f64) {
    let t = Instant::now();
    let agents = cloudsec::user_agent::Agents::load();
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let per_agent = |list: &[&str]| {
        let rounds = 2_000;
        let (s, named) = best(3, || {
            let mut named = 0;
            for _ in 0..rounds {
                for ua in list {
                    named += usize::from(std::hint::black_box(agents.parse(ua)).name.is_some());
                }
            }
            named
        });
        assert_eq!(
            named,
            rounds * list.len(),
            "an agent of the benchmark was not recognized"
        );
        s / (rounds * list.len()) as f64
    };
    let sdk = per_agent(&[
        "aws-cli/2.15.0 md/awscrt#0.19.18 ua/2.0 os/linux#5.10.0 md/arch#x86_64 lang/python#3.11.6",
        "Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10.0 md/arch#x86_64 lang/python#3.11.4",
        "aws-sdk-java/1.12.488 Linux/5.10.184-175.749.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/11.0.19",
        "ec2.amazonaws.com",
    ]);
    let browser = per_agent(&[
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "curl/7.61.1",
    ]);
    println!(
        "8. user agents: uap-core regexes compiled in {load_ms:.1} ms (once per process); \
         parsed in {:.2} us (CLI/SDK) and {:.2} us (browser), {:.2} and {:.2} of a record's floor",
        sdk * 1e6,
        browser * 1e6,
        sdk / floor_per_record_s,
        browser / floor_per_record_s
    );
}

/// `cloudsec scan` (the release binary beside this one) over a folder of 16 objects of the
/// generator's, with `--jobs 1` and with every core: the same output, in less time.
fn scan_folder(args: &RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    let cli = std::env::current_exe()?.with_file_name("cloudsec");
    if !cli.is_file() {
        println!(
            "7. cloudsec scan, all cores vs one: skipped (no {}; scripts/bench builds it)",
            cli.display()
        );
        return Ok(());
    }
    let dir =
        PathBuf::from("target/bench/folder/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01");
    std::fs::create_dir_all(&dir)?;
    let parts = 16;
    let mut json_bytes = 0;
    let mut objects = Vec::new();
    for i in 0..parts {
        let (gz, bytes, _) =
            generate_object((args.megabytes / parts).max(1), args.seed + i as u64)?;
        json_bytes += bytes;
        std::fs::write(
            dir.join(format!(
                "111122223333_CloudTrail_us-east-1_20261101T{i:02}00Z_bench.json.gz"
            )),
            &gz,
        )?;
        objects.push(gz);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The baseline: what this machine gives work that shares nothing, the floor over the same
    // objects on every core at once against one core (a shared host's second core may give
    // much less than a first).
    let floors = |threads: usize| {
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    while let Some(gz) =
                        objects.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        floor(gz);
                    }
                });
            }
        });
    };
    // One core is one core: the run with `--jobs 1` is confined to the first CPU (util-linux's
    // `taskset`), since the process's other threads (the agents' compile shares itself with a
    // second thread) would otherwise use the second core. The same run free to use every core
    // is printed beside it.
    let pinned = Command::new("taskset")
        .args(["-c", "0", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let scan = |jobs: usize, one_core: bool| -> Result<(f64, Vec<u8>), String> {
        let mut command = if one_core {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(&cli);
            c
        } else {
            Command::new(&cli)
        };
        let t = Instant::now();
        let out = command
            .args(["scan", "target/bench/folder", "--format", "json", "--jobs"])
            .arg(jobs.to_string())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok((t.elapsed().as_secs_f64(), out.stdout))
    };
    let mut one = f64::MAX;
    let mut one_free = f64::MAX;
    let mut all = f64::MAX;
    let (mut floor_one, mut floor_all) = (f64::MAX, f64::MAX);
    let mut outputs = Vec::new();
    for _ in 0..args.repeat {
        let (t1, o1) = scan(1, pinned)?;
        let (tf, of) = scan(1, false)?;
        let (tn, on) = scan(cores, false)?;
        one = one.min(t1);
        one_free = one_free.min(tf);
        all = all.min(tn);
        outputs.push([o1, of, on]);
        floor_one = floor_one.min(best(1, || floors(1)).0);
        floor_all = floor_all.min(best(1, || floors(cores)).0);
    }
    let same = outputs.iter().all(|[a, b, c]| a == b && b == c);
    println!(
        "7. cloudsec scan, {parts} objects ({:.0} MB of JSON): --jobs 1 {} {:.2} s, --jobs {cores} {:.2} s: {:.2} times{}",
        mb(json_bytes),
        if pinned { "on one core" } else { "(not confined: no taskset)" },
        one,
        all,
        one / all,
        if same { ", the same findings" } else { ", DIFFERENT findings" }
    );
    println!(
        "   --jobs 1 free to use every core: {one_free:.2} s ({:.2} times)",
        one_free / all
    );
    println!(
        "   baseline, the floor over the same objects on {cores} threads against one: {:.2} times ({:.2} s, {:.2} s); the scan's speed-up is {:.2} of it",
        floor_one / floor_all,
        floor_one,
        floor_all,
        (one / all) / (floor_one / floor_all)
    );
    Ok(())
}

/// VmHWM (peak resident set) and VmRSS of this process, KiB.
fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_child(path: &Path, sigma: Option<&Path>) -> Result<(), Box<dyn std::error::Error>> {
    let p = pipeline_with(sigma)?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let start = memory_kib("VmHWM:");
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let (records, _, _) = pipeline(&p, &runtime, file, "rss");
    let peak = memory_kib("VmHWM:");
    println!("{start} {peak} {records}");
    Ok(())
}

/// Counts the instructions of the floor and of the pipeline over the same generated object,
/// each in a child process under callgrind (process start and the catalogue's setup included
/// in both: a few million instructions against billions).
fn instructions(megabytes: usize) -> Result<(), Box<dyn std::error::Error>> {
    let (gz, json_bytes, records) = generate_object(megabytes, 42)?;
    let path = save_object(&gz, megabytes, 42)?;
    let me = std::env::current_exe()?;
    let count_with =
        |child: &str, sigma: Option<&Path>| -> Result<u64, Box<dyn std::error::Error>> {
            let out = Command::new("valgrind")
                .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
                .arg(&me)
                .arg(child)
                .arg(&path)
                .args(sigma.iter().flat_map(|dir| [Path::new("--sigma"), dir]))
                .output()
                .map_err(|e| format!("valgrind (apt-get install valgrind): {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{child} under valgrind: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
            // callgrind ends with `==pid== Collected : <instructions>`.
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .find_map(|l| l.split("Collected :").nth(1))
                .and_then(|n| n.trim().parse().ok())
                .ok_or_else(|| format!("no instruction count from callgrind for {child}").into())
        };
    let count = |child: &str| count_with(child, None);
    let floor = count("floor-child")?;
    let pipeline = count("rss-child")?;
    // The pipeline's process compiles the user agent regexes once (a cold start's cost, not a
    // record's): counted apart, in a process that does only that, and left out of the ratio.
    let empty = count("empty-child")?;
    let agents = count("agents-child")?.saturating_sub(empty);
    let per_record = pipeline.saturating_sub(agents) as f64 / records as f64;
    println!(
        "instructions over {:.1} MB of JSON ({records} records): floor {:.0} per record, pipeline {per_record:.0} per record; pipeline / floor {:.2} (as throughput: floor / pipeline); compiling the user agent regexes once: {:.0} million more",
        mb(json_bytes),
        floor as f64 / records as f64,
        floor as f64 / records as f64 / per_record,
        agents as f64 / 1e6
    );
    // The same pipeline with SigmaHQ's CloudTrail rules loaded (step 3c of `run`); loading
    // them is a cold start's cost too, counted apart like the agents' regexes.
    let sigma_dir = Path::new(SIGMA_CORPUS);
    if sigma_dir.is_dir() {
        let with_sigma = count_with("rss-child", Some(sigma_dir))?;
        let loading = count_with("empty-child", Some(sigma_dir))?.saturating_sub(empty);
        let per_record = with_sigma.saturating_sub(agents + loading) as f64 / records as f64;
        println!(
            "   with SigmaHQ's rules: {per_record:.0} per record; pipeline / floor {:.2}; loading the rules once: {:.0} million more",
            floor as f64 / records as f64 / per_record,
            loading as f64 / 1e6
        );
    }
    Ok(())
}

/// Sends the first records of the generated object through the DynamoDB store, as inputs of
/// 1,000 records (a CloudTrail file of a busy account every few minutes), and counts the
/// write requests.
fn dynamodb_writes(args: &RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        println!("6. DynamoDB writes per 1,000 records: skipped (no AWS_ENDPOINT_URL; scripts/bench starts the emulator)");
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // About 1.34 KB a record, with room to spare.
    let megabytes = args.dynamodb_records * 1500 / 1_000_000 + 1;
    let (gz, _, _) = generate_object(megabytes, args.seed)?;
    // Split the object into inputs of 1,000 records.
    let mut inputs: Vec<Vec<serde_json::Value>> = Vec::new();
    {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text)?;
        let doc: serde_json::Value = serde_json::from_str(&text)?;
        let records = doc["Records"].as_array().ok_or("Records")?;
        for chunk in records
            .iter()
            .take(args.dynamodb_records)
            .collect::<Vec<_>>()
            .chunks(1000)
        {
            inputs.push(chunk.iter().map(|v| (*v).clone()).collect());
        }
    }
    let n_records: usize = inputs.iter().map(Vec::len).sum();
    runtime.block_on(async {
        use cloudsec_integration_tests::faults::Faults;
        let faults = Faults::new(0);
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let conf = aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(faults.clone())
            .build();
        let client = aws_sdk_dynamodb::Client::from_conf(conf);
        let table = cloudsec_integration_tests::unique("bench");
        cloudsec_integration_tests::create_state_table(&client, &table).await;
        let store = cloudsec::state::dynamodb::DynamoStore::new(client, &table);
        faults.reset_counts();
        let engine = Engine::new(
            Arc::new(Pipeline::new(Catalogue::builtin(), PipelineConfig::default())),
            store,
            MemoryQuarantine::default(),
            Sinks::none(),
            EngineConfig::default(),
        );
        let mut findings = 0;
        for (i, records) in inputs.iter().enumerate() {
            let object = serde_json::to_vec(&serde_json::json!({ "Records": records }))?;
            let delivered = engine
                .process_bytes(&InputId::named(&format!("bench-{i}")), object, Some(LogSource::CloudTrail))
                .await?;
            findings += delivered.fired.iter().filter(|f| f.sent).count();
        }
        let requests = faults.requests();
        let writes: u64 = requests
            .iter()
            .filter(|(op, _)| ["TransactWriteItems", "UpdateItem", "PutItem", "BatchWriteItem", "DeleteItem"].iter().any(|w| op.ends_with(w)))
            .map(|(_, n)| n)
            .sum();
        let all: u64 = requests.values().sum();
        println!(
            "6. DynamoDB write requests:            {:8.1} per 1,000 records ({writes} writes, {all} requests in all, {n_records} records in {} inputs, {findings} findings published)",
            writes as f64 * 1000.0 / n_records as f64,
            inputs.len()
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}
