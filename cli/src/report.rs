//! `cloudsec report` and `cloudsec risk`: the deployed report and risk overview, over log files
//! (run through the same engine, into an in-memory findings store) or findings files.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::ValueEnum;
use cloudsec::detect::Severity;
use cloudsec::pipeline::Pipeline;
use cloudsec::report::{html, Report};
use cloudsec::risk::EntityRisk;
use cloudsec::store::memory::MemoryFindings;
use cloudsec::store::{Resolution, StoredFinding};
use cloudsec::timefmt::{format_rfc3339, parse_rfc3339};

use crate::{printable, run_files, truncate};

/// What both commands read and when they stand.
#[derive(clap::Args, Clone)]
pub struct Over {
    /// Log files or folders, or `s3://bucket/prefix`, run through every detection (as `scan`
    /// does).
    pub paths: Vec<PathBuf>,
    /// Findings as JSON lines (the archive's objects, `scan --format json`; .gz too), repeat.
    #[arg(long = "findings", value_name = "FILE")]
    pub findings: Vec<PathBuf>,
    /// A tuning file: its exceptions and staged rules apply to the logs.
    #[arg(long, value_name = "FILE")]
    pub tuning: Option<PathBuf>,
    /// The time the report stands at (RFC 3339); default: the last event of the findings, so
    /// that old logs draw as they were.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Days without an event after which a finding is resolved.
    #[arg(long, default_value_t = 7)]
    pub resolve_after_days: i64,
    #[command(flatten)]
    pub days: crate::Days,
    #[command(flatten)]
    pub geo: crate::GeoArgs,
    #[command(flatten)]
    pub sigma: crate::SigmaArgs,
}

/// `cloudsec risk`'s formats.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum RiskFormat {
    /// A table.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Jsonl,
}

/// The report of what `over` names.
fn build(over: &Over) -> Result<(Report, bool), String> {
    if over.paths.is_empty() && over.findings.is_empty() {
        return Err("nothing to read: give log files or folders, or --findings FILE".into());
    }
    let mut stored: Vec<StoredFinding> = Vec::new();
    let mut suppressed = Vec::new();
    let mut failed = false;
    if !over.paths.is_empty() {
        let pipeline = crate::build_pipeline(
            cloudsec::detect::Settings {
                geo: over.geo.settings(),
                ..Default::default()
            },
            cloudsec::read::DEFAULT_MAX_DECOMPRESSED_BYTES,
            &over.geo,
            &over.sigma,
        )
        .and_then(|p: Pipeline| crate::tuned(p, over.tuning.as_deref()))?;
        let kept = Arc::new(MemoryFindings::default());
        let run = run_files(
            &over.paths,
            pipeline,
            Severity::Info,
            None,
            None,
            Some(Arc::clone(&kept)),
            over.days,
        )?;
        failed |= run.totals.failed_files > 0;
        stored.extend(kept.all());
        suppressed.extend(kept.suppressed());
    }
    for path in &over.findings {
        let (findings, bad_count, bad) = cloudsec::report::read_findings_file(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        for b in &bad {
            eprintln!(
                "cloudsec: {}:{}: not a finding, skipped: {}",
                path.display(),
                b.line,
                printable(&truncate(&b.reason, 200))
            );
        }
        if bad_count > bad.len() as u64 {
            eprintln!(
                "cloudsec: {}: {} more lines that are not findings",
                path.display(),
                bad_count - bad.len() as u64
            );
        }
        let memory = MemoryFindings::default();
        // One entry per finding id, the latest view of it, as the store keeps them.
        for f in findings {
            memory.put(StoredFinding::archived(f));
        }
        stored.extend(memory.all());
    }
    let now = match &over.at {
        Some(t) => parse_rfc3339(t).ok_or_else(|| format!("--at {t}: not an RFC 3339 time"))?,
        None => stored
            .iter()
            .filter_map(|f| parse_rfc3339(&f.finding.event.end))
            .max()
            .unwrap_or_else(cloudsec::tuning::now),
    };
    let resolution = Resolution {
        after_days: over.resolve_after_days,
    };
    Ok((Report::new(stored, &suppressed, now, resolution), failed))
}

/// `cloudsec report`.
pub fn report(over: &Over, output: &Path) -> Result<ExitCode, String> {
    let (report, failed) = build(over)?;
    let page = html::render(&report);
    std::fs::write(output, page).map_err(|e| format!("{}: {e}", output.display()))?;
    eprintln!(
        "{}: report at {} over {} findings ({} open, {} entities at risk, {} staged)",
        output.display(),
        format_rfc3339(report.now),
        report.rows.len(),
        report.rows.iter().filter(|r| r.open).count(),
        report.risk.len(),
        report.staged.len()
    );
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `cloudsec risk`.
pub fn risk(over: &Over, format: RiskFormat) -> Result<ExitCode, String> {
    let (report, failed) = build(over)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = match format {
        RiskFormat::Json => serde_json::to_writer_pretty(&mut out, &report.risk)
            .map_err(io::Error::other)
            .and_then(|()| out.write_all(b"\n")),
        RiskFormat::Jsonl => report.risk.iter().try_for_each(|e| {
            serde_json::to_writer(&mut out, e).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }),
        RiskFormat::Table => table(&mut out, &report.risk),
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn table(out: &mut impl Write, risk: &[EntityRisk]) -> io::Result<()> {
    writeln!(
        out,
        "{:<48} {:>6}  {:<9} {:<9} {:>8}  first step",
        "ENTITY", "SCORE", "LEVEL", "SEVERITY", "FINDINGS"
    )?;
    for e in risk {
        writeln!(
            out,
            "{:<48} {:>6.2}  {:<9} {:<9} {:>8}  {}",
            printable(&truncate(&e.entity, 48)),
            e.score,
            e.level.as_str(),
            e.severity.as_str(),
            e.findings.len(),
            truncate(e.action_plan.first().map_or("", String::as_str), 80)
        )?;
    }
    Ok(())
}
