//! The digest: what the report says, short enough for an e-mail, with a JSON form for tools.
//! Counts by severity and dashboard, what is new and what resolved since the last digest, the
//! ten riskiest entities with their action plans, the failing controls and the staged rules'
//! findings.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::{Dashboard, Report, Row};
use crate::publish::render::email_value;
use crate::risk::{finding_ref, EntityRisk, FindingRef};
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// Entities the digest lists.
pub const TOP_ENTITIES: usize = 10;
/// Findings a list of the digest names, at most (the rest is counted).
pub const MAX_LISTED: usize = 20;

/// The digest of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    /// `cloudsec.digest`.
    pub kind: &'static str,
    /// When (RFC 3339).
    pub generated_at: String,
    /// Since when "new" and "resolved" count: the last digest, or the report's period.
    pub since: String,
    /// The account it is about, for a per-account digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Open findings per severity.
    pub open_by_severity: BTreeMap<String, u64>,
    /// Open findings per dashboard.
    pub open_by_dashboard: BTreeMap<String, u64>,
    /// Findings first kept since `since`.
    pub new: Vec<FindingRef>,
    /// How many.
    pub new_count: usize,
    /// Findings that resolved since `since`.
    pub resolved: Vec<FindingRef>,
    /// How many.
    pub resolved_count: usize,
    /// The riskiest entities.
    pub top_entities: Vec<EntityRisk>,
    /// Open control failures.
    pub failing_controls: Vec<FindingRef>,
    /// How many.
    pub failing_controls_count: usize,
    /// Staged rules' findings of the period.
    pub staged: Vec<FindingRef>,
    /// Events the exceptions suppressed in the period.
    pub suppressed_events: u64,
    /// Where the full report is, when it was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

fn listed<'a>(rows: impl Iterator<Item = &'a Row>) -> (Vec<FindingRef>, usize) {
    let mut all: Vec<&Row> = rows.collect();
    all.sort_by(|a, b| {
        b.finding()
            .finding
            .severity
            .cmp(&a.finding().finding.severity)
            .then_with(|| b.finding().event.end.cmp(&a.finding().event.end))
    });
    let n = all.len();
    (
        all.iter()
            .take(MAX_LISTED)
            .map(|r| finding_ref(r.finding()))
            .collect(),
        n,
    )
}

/// The digest of `report`, since `last` (the previous digest's time; the report's period
/// without one), for one account or all.
pub fn digest(
    report: &Report,
    last: Option<i64>,
    account: Option<&str>,
    report_location: Option<&str>,
) -> Digest {
    let since = last.unwrap_or(report.since);
    let mine = |r: &&Row| account.is_none_or(|a| r.account() == a);
    let open: Vec<&Row> = report.rows.iter().filter(mine).filter(|r| r.open).collect();
    let mut by_severity = BTreeMap::new();
    let mut by_dashboard = BTreeMap::new();
    for r in &open {
        *by_severity
            .entry(r.finding().finding.severity.as_str().to_owned())
            .or_insert(0) += 1;
        *by_dashboard
            .entry(r.dashboard.title().to_owned())
            .or_insert(0) += 1;
    }
    let (new, new_count) = listed(
        report
            .rows
            .iter()
            .filter(mine)
            .filter(|r| parse_rfc3339(&r.stored.stored_at).is_some_and(|at| at > since)),
    );
    let (resolved, resolved_count) = listed(report.rows.iter().filter(mine).filter(|r| {
        !r.open
            && report
                .resolution
                .resolved_at(&r.stored)
                .is_some_and(|at| at > since && at <= report.now)
    }));
    let (failing_controls, failing_controls_count) = listed(
        open.iter()
            .copied()
            .filter(|r| r.dashboard == Dashboard::ControlFailures),
    );
    let top_entities = match account {
        None => report.risk.iter().take(TOP_ENTITIES).cloned().collect(),
        Some(_) => crate::risk::overview(open.iter().map(|r| r.finding()))
            .into_iter()
            .take(TOP_ENTITIES)
            .collect(),
    };
    Digest {
        kind: "cloudsec.digest",
        generated_at: format_rfc3339(report.now),
        since: format_rfc3339(since),
        account: account.map(str::to_owned),
        open_by_severity: by_severity,
        open_by_dashboard: by_dashboard,
        new,
        new_count,
        resolved,
        resolved_count,
        top_entities,
        failing_controls,
        failing_controls_count,
        staged: report
            .staged
            .iter()
            .filter(|s| {
                account.is_none_or(|a| s.finding.cloud.account.as_ref().is_some_and(|x| x.id == a))
            })
            .take(MAX_LISTED)
            .map(|s| finding_ref(&s.finding))
            .collect(),
        suppressed_events: report.suppressed.values().sum(),
        report: report_location.map(str::to_owned),
    }
}

impl Digest {
    /// The subject line.
    pub fn subject(&self) -> String {
        let critical = self.open_by_severity.get("critical").copied().unwrap_or(0);
        let high = self.open_by_severity.get("high").copied().unwrap_or(0);
        let scope = self
            .account
            .as_deref()
            .map(|a| format!(" for {}", email_value(a)))
            .unwrap_or_default();
        format!(
            "Cloud security digest{scope} {}: {critical} critical, {high} high open, {} new, {} resolved",
            self.generated_at.get(..10).unwrap_or(""),
            self.new_count,
            self.resolved_count
        )
    }

    /// The e-mail: plain text, every value from a log neutralized.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "{}\n", self.subject());
        let _ = writeln!(t, "Since {}.", self.since);
        t.push_str("\nOpen findings by severity:\n");
        for s in ["critical", "high", "medium", "low", "info"] {
            let _ = writeln!(
                t,
                "  {s:<9}{}",
                self.open_by_severity.get(s).copied().unwrap_or(0)
            );
        }
        t.push_str("\nOpen findings by dashboard:\n");
        for (d, n) in &self.open_by_dashboard {
            let _ = writeln!(t, "  {d}: {n}");
        }
        let list = |t: &mut String, title: &str, items: &[FindingRef], total: usize| {
            let _ = writeln!(t, "\n{title} ({total}):");
            if items.is_empty() {
                t.push_str("  none\n");
            }
            for f in items {
                let _ = writeln!(
                    t,
                    "  - [{}] {} ({} events, last {}) {}",
                    f.severity.as_str(),
                    email_value(&f.title),
                    f.count,
                    email_value(&f.last_seen),
                    f.id
                );
            }
            if total > items.len() {
                let _ = writeln!(t, "  and {} more", total - items.len());
            }
        };
        list(
            &mut t,
            "New since the last digest",
            &self.new,
            self.new_count,
        );
        list(
            &mut t,
            "Resolved since the last digest",
            &self.resolved,
            self.resolved_count,
        );
        let _ = writeln!(t, "\nRiskiest entities ({}):", self.top_entities.len());
        for (i, e) in self.top_entities.iter().enumerate() {
            let _ = writeln!(
                t,
                "  {}. {}: {} score {:.2} ({}), {} open findings",
                i + 1,
                email_value(&e.kind),
                email_value(&e.id),
                e.score,
                e.level.as_str(),
                e.open_findings
            );
            for (j, step) in e.action_plan.iter().take(5).enumerate() {
                let _ = writeln!(t, "       {}. {}", j + 1, email_value(step));
            }
        }
        list(
            &mut t,
            "Failing controls",
            &self.failing_controls,
            self.failing_controls_count,
        );
        list(
            &mut t,
            "Staged rules' findings (not published)",
            &self.staged,
            self.staged.len(),
        );
        let _ = writeln!(
            t,
            "\nEvents suppressed by the tuning's exceptions: {}",
            self.suppressed_events
        );
        if let Some(r) = &self.report {
            let _ = writeln!(t, "\nThe full report: {r}");
        }
        t
    }
}
