//! The report and the digest, over the findings store: the seed app's dashboards (Active
//! Threats, Risk Overview, Security Control Failures, Suspicious Activity) as one
//! self-contained HTML page ([`html`]), and the daily digest ([`digest`]).
//!
//! Every panel is a count of findings per key (a resource, an actor, a country, a day), drawn
//! from one list of memberships per finding ([`Report::rows`]): the page's numbers, its
//! filters' recounts and the digest all come from it, so that they cannot disagree.

pub mod digest;
pub mod html;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::detect::Severity;
use crate::finding::Finding;
use crate::risk::EntityRisk;
use crate::store::{Resolution, StoredFinding, SuppressedCount};
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// Days the report and the risk overview look back (Elastic's risk scoring: 30 days).
pub const PERIOD_DAYS: i64 = 30;

/// Entities the report draws a page for, at most (the riskiest).
pub const MAX_ENTITY_PAGES: usize = 200;

/// Keys a panel lists, at most (the largest counts).
pub const MAX_PANEL_ROWS: usize = 15;

/// The sections of the report, in order: the seed's dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dashboard {
    /// GuardDuty's threats: APIs, resources, storage.
    ActiveThreats,
    /// Security Hub's failed controls.
    ControlFailures,
    /// Config and IAM changes.
    ConfigIam,
    /// Network Firewall.
    Network,
    /// Users: logins, root, unauthorized calls, travel; credential access and execution.
    User,
    /// WAF.
    Web,
}

impl Dashboard {
    /// Every dashboard, in the page's order.
    pub const ALL: [Dashboard; 6] = [
        Dashboard::ActiveThreats,
        Dashboard::ControlFailures,
        Dashboard::ConfigIam,
        Dashboard::Network,
        Dashboard::User,
        Dashboard::Web,
    ];

    /// The dashboard of a finding's `finding.category`.
    pub fn of(category: &str) -> Dashboard {
        match category {
            "active-threats" => Dashboard::ActiveThreats,
            "control-failures" => Dashboard::ControlFailures,
            "config-iam" => Dashboard::ConfigIam,
            "network-activity" => Dashboard::Network,
            "web-activity" => Dashboard::Web,
            _ => Dashboard::User,
        }
    }

    /// The id of its section.
    pub fn id(self) -> &'static str {
        match self {
            Dashboard::ActiveThreats => "active-threats",
            Dashboard::ControlFailures => "control-failures",
            Dashboard::ConfigIam => "suspicious-config-iam",
            Dashboard::Network => "suspicious-network",
            Dashboard::User => "suspicious-user",
            Dashboard::Web => "suspicious-web",
        }
    }

    /// Its title, as the seed names it.
    pub fn title(self) -> &'static str {
        match self {
            Dashboard::ActiveThreats => "Active Threats",
            Dashboard::ControlFailures => "Security Control Failures",
            Dashboard::ConfigIam => "Suspicious Activity: Config and IAM",
            Dashboard::Network => "Suspicious Activity: Network",
            Dashboard::User => "Suspicious Activity: User",
            Dashboard::Web => "Suspicious Activity: Web",
        }
    }

    /// What it answers.
    pub fn description(self) -> &'static str {
        match self {
            Dashboard::ActiveThreats => "GuardDuty's findings against AWS APIs, resources and storage: counts, trend, and who and what they are about.",
            Dashboard::ControlFailures => "Security Hub controls failing, by resource, severity and standard.",
            Dashboard::ConfigIam => "Changes to trails, IAM, networks, keys and security tooling that weaken the account.",
            Dashboard::Network => "Network Firewall: blocked source-destination pairs, alert signatures, trend and countries.",
            Dashboard::User => "Failed logins, logins without MFA, risky countries, root use, unauthorized calls, impossible travel; credential access and execution.",
            Dashboard::Web => "WAF: blocked requests by trend and country, rate limits and managed rules.",
        }
    }

    /// Its panels: (panel id, title), each a count of findings per key.
    pub fn panels(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Dashboard::ActiveThreats => &[
                (
                    "threats-kind",
                    "Threats by target (APIs, resources, storage)",
                ),
                ("threats-trend", "Trend: findings per day"),
                ("threats-resource", "By resource"),
                ("threats-actor", "By actor"),
                ("threats-event", "By event"),
                ("threats-country", "By country"),
            ],
            Dashboard::ControlFailures => &[
                ("controls-severity", "Failed controls by severity"),
                ("controls-standard", "By standard"),
                ("controls-resource", "By resource"),
                ("controls-control", "By control"),
            ],
            Dashboard::ConfigIam => &[
                ("config-rule", "Changes by detection"),
                ("config-trend", "Trend: findings per day"),
                ("config-actor", "By actor"),
                ("config-account", "By account"),
            ],
            Dashboard::Network => &[
                ("network-pair", "Blocked source → destination"),
                ("network-trend", "Trend: findings per day"),
                ("network-rule", "By detection"),
                ("network-country", "Source countries"),
            ],
            Dashboard::User => &[
                (
                    "user-rule",
                    "By detection (failed logins, no MFA, root, unauthorized calls, travel)",
                ),
                ("user-trend", "Trend: findings per day"),
                ("user-actor", "By user"),
                ("user-country", "Countries"),
            ],
            Dashboard::Web => &[
                ("web-trend", "Blocked requests: findings per day"),
                ("web-country", "By country"),
                ("web-rule", "By detection"),
                ("web-source", "By client IP"),
            ],
        }
    }
}

/// A panel's key: what one row (or one bar) of it counts.
pub type PanelKey = (&'static str, String);

/// One finding as the report shows it.
#[derive(Debug, Clone)]
pub struct Row {
    /// The stored finding.
    pub stored: StoredFinding,
    /// Its dashboard.
    pub dashboard: Dashboard,
    /// Whether it is open at the report's time.
    pub open: bool,
    /// The panels it counts in, each key once.
    pub memberships: Vec<PanelKey>,
}

impl Row {
    /// The finding.
    pub fn finding(&self) -> &Finding {
        &self.stored.finding
    }

    /// Its day (`YYYY-MM-DD` of its last event).
    pub fn day(&self) -> &str {
        self.finding().event.end.get(..10).unwrap_or("")
    }

    /// Its account, or `unknown`.
    pub fn account(&self) -> &str {
        self.finding()
            .cloud
            .account
            .as_ref()
            .map_or("unknown", |a| a.id.as_str())
    }

    /// Its region, or `unknown`.
    pub fn region(&self) -> &str {
        self.finding().cloud.region.as_deref().unwrap_or("unknown")
    }
}

/// What a report or a digest is drawn from.
#[derive(Debug, Clone)]
pub struct Report {
    /// When it is drawn (Unix seconds).
    pub now: i64,
    /// Start of its period.
    pub since: i64,
    /// Every finding of the period that a rule published or would have (staged rules' apart).
    pub rows: Vec<Row>,
    /// Staged rules' findings of the period: kept, not published.
    pub staged: Vec<StoredFinding>,
    /// The tuning's suppressed counts of the period, summed per (rule, exception).
    pub suppressed: BTreeMap<(String, String), u64>,
    /// The risk overview of the open findings.
    pub risk: Vec<EntityRisk>,
    /// When findings resolve.
    pub resolution: Resolution,
}

impl Report {
    /// The report at `now` over `findings` and `suppressed` (those of the period are used).
    pub fn new(
        findings: Vec<StoredFinding>,
        suppressed: &[SuppressedCount],
        now: i64,
        resolution: Resolution,
    ) -> Report {
        let since = now - PERIOD_DAYS * 86_400;
        let since_text = format_rfc3339(since);
        let mut seen = BTreeSet::new();
        let mut rows = Vec::new();
        let mut staged = Vec::new();
        let mut findings = findings;
        // Newest first: the page's lists read from the latest.
        findings.sort_by(|a, b| {
            b.finding
                .event
                .end
                .cmp(&a.finding.event.end)
                .then_with(|| a.finding.finding.id.cmp(&b.finding.finding.id))
        });
        for f in findings {
            if f.finding.event.end < since_text || !seen.insert(f.finding.finding.id.clone()) {
                continue;
            }
            if f.finding.finding.staged {
                staged.push(f);
                continue;
            }
            let dashboard = Dashboard::of(&f.finding.finding.category);
            let open = resolution.is_open(&f, now);
            let memberships = memberships(&f.finding, dashboard);
            rows.push(Row {
                stored: f,
                dashboard,
                open,
                memberships,
            });
        }
        let mut counted = BTreeMap::new();
        for s in suppressed {
            if parse_rfc3339(&s.at).is_none_or(|at| at >= since) {
                *counted
                    .entry((s.rule.clone(), s.exception.clone()))
                    .or_insert(0) += s.count;
            }
        }
        let risk = crate::risk::overview(rows.iter().filter(|r| r.open).map(Row::finding));
        Report {
            now,
            since,
            rows,
            staged,
            suppressed: counted,
            risk,
            resolution,
        }
    }

    /// The report over findings as they came out of a scan or an archive (all published).
    pub fn of_findings(findings: Vec<Finding>, now: i64, resolution: Resolution) -> Report {
        let stored = findings.into_iter().map(StoredFinding::archived).collect();
        Report::new(stored, &[], now, resolution)
    }

    /// Findings per key of `panel`, over the rows `keep` selects: (key, findings, events),
    /// largest first (trends: by day).
    pub fn panel(&self, panel: &str, keep: impl Fn(&Row) -> bool) -> Vec<(String, u64, u64)> {
        let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for r in self.rows.iter().filter(|r| keep(r)) {
            for (p, key) in &r.memberships {
                if *p == panel {
                    let c = counts.entry(key.as_str()).or_default();
                    c.0 += 1;
                    c.1 += r.finding().finding.count;
                }
            }
        }
        let mut out: Vec<(String, u64, u64)> = counts
            .into_iter()
            .map(|(k, (n, e))| (k.to_owned(), n, e))
            .collect();
        if !panel.ends_with("-trend") {
            out.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        }
        out
    }

    /// Rows of `dashboard`.
    pub fn of_dashboard(&self, dashboard: Dashboard) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.dashboard == dashboard)
    }

    /// Open findings per severity, most severe first.
    pub fn open_by_severity(&self) -> Vec<(Severity, u64)> {
        let mut out = Vec::new();
        for s in Severity::ALL.into_iter().rev() {
            let n = self
                .rows
                .iter()
                .filter(|r| r.open && r.finding().finding.severity == s)
                .count() as u64;
            out.push((s, n));
        }
        out
    }
}

/// The evidence events of `f`, parsed (those that are not JSON are skipped).
fn evidence(f: &Finding) -> Vec<Value> {
    f.finding
        .evidence
        .iter()
        .filter_map(|e| serde_json::from_str(e.get()).ok())
        .collect()
}

/// The string at dotted `path` of `doc`.
fn field<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let mut v = doc;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    v.as_str().filter(|s| !s.is_empty())
}

/// Distinct values of `path` over the evidence.
fn evidence_values(evidence: &[Value], path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in evidence {
        if let Some(v) = field(e, path) {
            if !out.iter().any(|o| o == v) {
                out.push(v.to_owned());
            }
        }
    }
    out
}

/// Who acted: the finding's user, else the first related user, else `unknown`.
pub fn actor(f: &Finding) -> String {
    f.user
        .as_ref()
        .map(|u| u.name.clone())
        .or_else(|| f.related.user.first().cloned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The countries of `f`'s events (ISO codes): each event's, `unknown` for an event without
/// one and for a finding without evidence (as the archive's queries count them).
fn countries(evidence: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in evidence {
        let c = field(e, "source.geo.country_iso_code").unwrap_or("unknown");
        if !out.iter().any(|o| o == c) {
            out.push(c.to_owned());
        }
    }
    if out.is_empty() {
        out.push("unknown".to_owned());
    }
    out
}

/// The compliance standard a Security Hub control finding's generator names.
pub fn standard(generator: &str) -> &'static str {
    let g = generator.to_ascii_lowercase();
    if g.contains("cis-aws-foundations") {
        "CIS AWS Foundations Benchmark"
    } else if g.contains("aws-foundational-security-best-practices") {
        "AWS Foundational Security Best Practices"
    } else if g.contains("pci-dss") {
        "PCI DSS"
    } else if g.contains("nist") {
        "NIST SP 800-53"
    } else if g.starts_with("security-control/") {
        "Security Hub controls (consolidated)"
    } else {
        "other"
    }
}

/// The panels `f` counts in.
fn memberships(f: &Finding, dashboard: Dashboard) -> Vec<PanelKey> {
    let ev = evidence(f);
    let day = f.event.end.get(..10).unwrap_or("unknown").to_owned();
    let title = f.rule.name.clone();
    let mut m: Vec<PanelKey> = Vec::new();
    let entity = f.finding.entity.id.clone();
    match dashboard {
        Dashboard::ActiveThreats => {
            let kind = match f.finding.subcategory.as_deref() {
                Some("api") => "AWS APIs",
                Some("storage") => "AWS storage",
                Some("resource") => "AWS resources",
                _ => "other",
            };
            m.push(("threats-kind", kind.to_owned()));
            m.push(("threats-trend", day));
            m.push(("threats-resource", entity));
            m.push(("threats-actor", actor(f)));
            m.push(("threats-event", f.event.action.clone().unwrap_or(title)));
            m.extend(countries(&ev).into_iter().map(|c| ("threats-country", c)));
        }
        Dashboard::ControlFailures => {
            m.push(("controls-severity", f.finding.severity.as_str().to_owned()));
            let generators = evidence_values(&ev, "aws.securityhub_findings.generator_id");
            let standard = generators.first().map_or("other", |g| standard(g));
            m.push(("controls-standard", standard.to_owned()));
            m.push(("controls-resource", entity));
            let controls = evidence_values(&ev, "aws.securityhub_findings.control_id");
            m.push((
                "controls-control",
                controls.into_iter().next().unwrap_or(title),
            ));
        }
        Dashboard::ConfigIam => {
            m.push(("config-rule", title));
            m.push(("config-trend", day));
            m.push(("config-actor", actor(f)));
            m.push((
                "config-account",
                f.cloud
                    .account
                    .as_ref()
                    .map_or("unknown".to_owned(), |a| a.id.clone()),
            ));
        }
        Dashboard::Network => {
            let mut pairs = Vec::new();
            for e in &ev {
                if let (Some(s), Some(d)) = (field(e, "source.ip"), field(e, "destination.ip")) {
                    let pair = format!("{s} → {d}");
                    if !pairs.contains(&pair) {
                        pairs.push(pair);
                    }
                }
            }
            m.extend(pairs.into_iter().map(|p| ("network-pair", p)));
            m.push(("network-trend", day));
            m.push(("network-rule", title));
            m.extend(countries(&ev).into_iter().map(|c| ("network-country", c)));
        }
        Dashboard::User => {
            m.push(("user-rule", title));
            m.push(("user-trend", day));
            m.push(("user-actor", actor(f)));
            m.extend(countries(&ev).into_iter().map(|c| ("user-country", c)));
        }
        Dashboard::Web => {
            m.push(("web-trend", day));
            m.extend(countries(&ev).into_iter().map(|c| ("web-country", c)));
            m.push(("web-rule", title));
            let ips = evidence_values(&ev, "source.ip");
            m.push(("web-source", ips.into_iter().next().unwrap_or(entity)));
        }
    }
    m
}

/// A line of a findings file that is not a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// Lines of a findings file told apart, at most (the rest are counted).
pub const MAX_BAD_LINES_KEPT: usize = 100;

/// Findings as JSON lines (the archive's objects, `cloudsec scan --format json`): every line
/// that is a finding, and the lines that are not (counted; the first
/// [`MAX_BAD_LINES_KEPT`] kept with their reason), so that one bad line costs only itself.
pub fn read_findings(
    reader: impl std::io::BufRead,
) -> std::io::Result<(Vec<Finding>, u64, Vec<BadLine>)> {
    let mut findings = Vec::new();
    let mut bad = Vec::new();
    let mut bad_count = 0;
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Finding>(text) {
            Ok(f) => findings.push(f),
            Err(e) => {
                bad_count += 1;
                if bad.len() < MAX_BAD_LINES_KEPT {
                    bad.push(BadLine {
                        line: i as u64 + 1,
                        reason: e.to_string(),
                    });
                }
            }
        }
    }
    Ok((findings, bad_count, bad))
}

/// [`read_findings`] over a file, gunzipped when its name ends in `.gz`.
pub fn read_findings_file(
    path: &std::path::Path,
) -> std::io::Result<(Vec<Finding>, u64, Vec<BadLine>)> {
    let file = std::fs::File::open(path)?;
    if path.extension().is_some_and(|x| x == "gz") {
        read_findings(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
            file,
        )))
    } else {
        read_findings(std::io::BufReader::new(file))
    }
}
