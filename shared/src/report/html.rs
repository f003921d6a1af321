//! The report as one self-contained HTML page: no network, no CDN, charts as inline SVG,
//! readable without JavaScript; a little script filters by account, region, time, severity and
//! status, recounting every panel from the same memberships the page was drawn from.
//!
//! Every value from a log is escaped for where it goes (text, attribute, JSON in a script
//! element), and a Content-Security-Policy lets only the page's own script run: a value that
//! got past the escaping still could not run.

use std::fmt::Write;

use sha2::{Digest, Sha256};

use super::{Dashboard, Report, Row, MAX_ENTITY_PAGES, MAX_PANEL_ROWS};
use crate::detect::Severity;
use crate::timefmt::format_rfc3339;

/// The filters' script. Reads the filters from the page's query string too
/// (`?severity=high&account=...`), so that a link opens the report filtered.
const SCRIPT: &str = r#"(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var form = document.getElementById("filters");
  var rank = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  function current() {
    var f = {};
    ["account", "region", "severity", "days", "status"].forEach(function (k) {
      f[k] = form.elements[k].value;
    });
    return f;
  }
  function keep(r, f) {
    if (f.account && r.a !== f.account) return false;
    if (f.region && r.r !== f.region) return false;
    if (f.severity && rank[r.s] < rank[f.severity]) return false;
    if (f.days && r.t < data.now - Number(f.days) * 86400) return false;
    if (f.status === "open" && !r.o) return false;
    return true;
  }
  function apply() {
    var f = current();
    var counts = {}, visible = {}, shown = 0;
    data.rows.forEach(function (r) {
      if (!keep(r, f)) return;
      visible[r.id] = true;
      shown += 1;
      r.m.forEach(function (pk) {
        var k = pk[0] + "\u0000" + pk[1];
        var c = counts[k] || (counts[k] = [0, 0]);
        c[0] += 1;
        c[1] += r.n;
      });
    });
    document.querySelectorAll("[data-panel]").forEach(function (el) {
      var c = counts[el.getAttribute("data-panel") + "\u0000" + el.getAttribute("data-key")] || [0, 0];
      if (el.tagName.toLowerCase() === "rect") {
        var max = Number(el.parentNode.getAttribute("data-max")) || 1;
        var h = Math.round(80 * c[0] / max);
        el.setAttribute("height", String(h));
        el.setAttribute("y", String(90 - h));
        return;
      }
      el.hidden = c[0] === 0;
      var n = el.querySelector(".n"), e = el.querySelector(".e");
      if (n) n.textContent = String(c[0]);
      if (e) e.textContent = String(c[1]);
    });
    document.querySelectorAll("tr[data-id]").forEach(function (tr) {
      tr.hidden = !visible[tr.getAttribute("data-id")];
    });
    document.getElementById("shown").textContent = String(shown);
    var q = [];
    Object.keys(f).forEach(function (k) { if (f[k]) q.push(k + "=" + encodeURIComponent(f[k])); });
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", (q.length ? "?" + q.join("&") : location.pathname) + location.hash);
    }
  }
  new URLSearchParams(location.search).forEach(function (v, k) {
    if (form.elements[k]) form.elements[k].value = v;
  });
  form.hidden = false;
  form.addEventListener("change", apply);
  apply();
  document.documentElement.setAttribute("data-script", "ran");
})();
"#;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c9d1e0}nav{padding:8px 24px;background:#e9ecf2}nav a{margin-right:14px;color:#24427a}
main{padding:8px 24px 40px}section{background:#fff;border:1px solid #dde2ea;border-radius:6px;margin:16px 0;padding:12px 18px}
h2{margin:4px 0 2px;font-size:18px}h3{font-size:15px;margin:14px 0 6px}.what{color:#5a6477;margin:0 0 8px}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px}
.panel{border:1px solid #e4e8ef;border-radius:4px;padding:6px 10px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eef1f5;vertical-align:top;word-break:break-word}
th{color:#5a6477;font-weight:600}td.n,td.e,th.num{text-align:right;white-space:nowrap}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #e4e8ef;border-radius:4px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:22px}.sev{font-weight:600;border-radius:3px;padding:0 5px;white-space:nowrap}td.score,td[class^=lvl-],th{white-space:nowrap}
.sev-critical{background:#7a0014;color:#fff}.sev-high{background:#d4351c;color:#fff}.sev-medium{background:#f0a30a}.sev-low{background:#d9e7f7}.sev-info{background:#eee}
.lvl-Critical{color:#7a0014;font-weight:700}.lvl-High{color:#d4351c;font-weight:700}.lvl-Moderate{color:#a35f00;font-weight:600}
form{display:flex;gap:12px;flex-wrap:wrap;padding:8px 24px;background:#fff;border-bottom:1px solid #dde2ea}
label{color:#5a6477}select{margin-left:4px}.empty{color:#8a93a6}ol{margin:4px 0 8px 18px;padding:0}
svg{max-width:100%}rect.bar{fill:#3e6fb5}.muted{color:#8a93a6}code{font-size:12px}
"#;

/// `s` escaped for HTML text and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside a `<script>` element: no `<`, `>` or `&` (in JSON they can only be
/// inside strings, where `\u003c` means the same).
fn script_json(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn sev(s: Severity) -> String {
    format!(r#"<span class="sev sev-{0}">{0}</span>"#, s.as_str())
}

/// The id of an entity's page in the report.
pub fn entity_anchor(i: usize) -> String {
    format!("entity-{i}")
}

/// The report as a page.
pub fn render(report: &Report) -> String {
    let mut body = String::new();
    let data = data_island(report);
    let mut accounts: Vec<&str> = report.rows.iter().map(Row::account).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let mut regions: Vec<&str> = report.rows.iter().map(Row::region).collect();
    regions.sort_unstable();
    regions.dedup();
    let open = report.rows.iter().filter(|r| r.open).count();
    let _ = write!(
        body,
        r#"<header><h1>Cloud Infrastructure Security for AWS</h1><p>Report of {now} over findings active since {since}: <span id="total">{total}</span> findings, {open} open; <span id="shown">{total}</span> shown.</p></header>"#,
        now = format_rfc3339(report.now),
        since = format_rfc3339(report.since),
        total = report.rows.len(),
    );
    body.push_str("<nav>");
    body.push_str(r##"<a href="#active-threats">Active Threats</a><a href="#risk-overview">Risk Overview</a><a href="#control-failures">Security Control Failures</a><a href="#suspicious-activity">Suspicious Activity</a><a href="#tuning">Staged and suppressed</a><a href="#all-findings">All findings</a>"##);
    body.push_str("</nav>");
    filters(&mut body, &accounts, &regions);
    body.push_str("<main>");
    summary_cards(&mut body, report);
    dashboard(&mut body, report, Dashboard::ActiveThreats);
    risk_overview(&mut body, report);
    dashboard(&mut body, report, Dashboard::ControlFailures);
    body.push_str(r#"<section id="suspicious-activity"><h2>Suspicious Activity</h2><p class="what">Config and IAM, network, user and web activity.</p></section>"#);
    for d in [
        Dashboard::ConfigIam,
        Dashboard::Network,
        Dashboard::User,
        Dashboard::Web,
    ] {
        dashboard(&mut body, report, d);
    }
    tuning(&mut body, report);
    all_findings(&mut body, report);
    body.push_str("</main>");
    let script_hash = {
        let digest = Sha256::digest(SCRIPT.as_bytes());
        aws_smithy_types::base64::encode(digest)
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{script_hash}'">
<title>Cloud Infrastructure Security for AWS: report of {date}</title><style>{STYLE}</style></head>
<body>{body}
<script type="application/json" id="report-data">{data}</script>
<script>{SCRIPT}</script>
</body></html>
"#,
        date = format_rfc3339(report.now).get(..10).unwrap_or(""),
    )
}

fn filters(out: &mut String, accounts: &[&str], regions: &[&str]) {
    out.push_str(r#"<form id="filters" hidden>"#);
    let select = |out: &mut String, name: &str, label: &str, options: &[(String, String)]| {
        let _ = write!(out, r#"<label>{label}<select name="{name}">"#);
        for (v, text) in options {
            let _ = write!(out, r#"<option value="{}">{}</option>"#, esc(v), esc(text));
        }
        out.push_str("</select></label>");
    };
    let mut opts = vec![(String::new(), "all".to_owned())];
    opts.extend(accounts.iter().map(|a| (a.to_string(), a.to_string())));
    select(out, "account", "Account", &opts);
    let mut opts = vec![(String::new(), "all".to_owned())];
    opts.extend(regions.iter().map(|a| (a.to_string(), a.to_string())));
    select(out, "region", "Region", &opts);
    let mut opts = vec![(String::new(), "any".to_owned())];
    opts.extend(
        Severity::ALL
            .iter()
            .skip(1)
            .map(|s| (s.as_str().to_owned(), format!("{} and above", s.as_str()))),
    );
    select(out, "severity", "Severity", &opts);
    select(
        out,
        "days",
        "Time",
        &[
            (String::new(), "last 30 days".into()),
            ("7".into(), "last 7 days".into()),
            ("1".into(), "last 24 hours".into()),
        ],
    );
    select(
        out,
        "status",
        "Status",
        &[
            (String::new(), "open and resolved".into()),
            ("open".into(), "open only".into()),
        ],
    );
    out.push_str("</form>");
}

fn summary_cards(out: &mut String, report: &Report) {
    out.push_str(r#"<section id="summary"><h2>Open findings by severity</h2><div class="cards">"#);
    for (s, n) in report.open_by_severity() {
        let _ = write!(
            out,
            r#"<div class="card" data-severity="{s}"><b>{n}</b>{}</div>"#,
            sev(s),
            s = s.as_str()
        );
    }
    out.push_str("</div></section>");
}

fn dashboard(out: &mut String, report: &Report, d: Dashboard) {
    let rows: Vec<&Row> = report.of_dashboard(d).collect();
    let _ = write!(
        out,
        r#"<section id="{id}" data-dashboard="{id}"><h2>{title}</h2><p class="what">{what} <span class="count">{n}</span> findings.</p>"#,
        id = d.id(),
        title = d.title(),
        what = d.description(),
        n = rows.len(),
    );
    if rows.is_empty() {
        out.push_str(r#"<p class="empty">Nothing in this period.</p></section>"#);
        return;
    }
    out.push_str(r#"<div class="panels">"#);
    for (panel, title) in d.panels() {
        let counts = report.panel(panel, |r| r.dashboard == d);
        let _ = write!(
            out,
            r#"<div class="panel" id="panel-{panel}"><h3>{title}</h3>"#
        );
        if panel.ends_with("-trend") {
            trend_svg(out, panel, &counts);
        }
        let _ = write!(
            out,
            r#"<table><thead><tr><th>{}</th><th class="num">findings</th><th class="num">events</th></tr></thead><tbody>"#,
            if panel.ends_with("-trend") { "day" } else { "" }
        );
        for (key, n, e) in counts.iter().take(if panel.ends_with("-trend") {
            usize::MAX
        } else {
            MAX_PANEL_ROWS
        }) {
            let _ = write!(
                out,
                r#"<tr data-panel="{panel}" data-key="{k}"><td class="k">{k}</td><td class="n">{n}</td><td class="e">{e}</td></tr>"#,
                k = esc(key)
            );
        }
        if counts.len() > MAX_PANEL_ROWS && !panel.ends_with("-trend") {
            let _ = write!(
                out,
                r#"<tr><td class="muted" colspan="3">and {} more</td></tr>"#,
                counts.len() - MAX_PANEL_ROWS
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</div>");
    findings_table(out, rows.iter().copied(), false);
    out.push_str("</section>");
}

fn trend_svg(out: &mut String, panel: &str, counts: &[(String, u64, u64)]) {
    let max = counts.iter().map(|c| c.1).max().unwrap_or(1).max(1);
    let w = 12;
    let width = (counts.len() * (w + 3)).max(60);
    let _ = write!(
        out,
        r#"<svg role="img" aria-label="findings per day" width="{width}" height="100" viewBox="0 0 {width} 100" data-max="{max}">"#
    );
    for (i, (day, n, _)) in counts.iter().enumerate() {
        let h = 80 * n / max;
        let _ = write!(
            out,
            r#"<rect class="bar" data-panel="{panel}" data-key="{d}" x="{x}" y="{y}" width="{w}" height="{h}"><title>{d}: {n}</title></rect>"#,
            d = esc(day),
            x = i * (w + 3),
            y = 90 - h,
        );
    }
    let _ = write!(
        out,
        r#"<line x1="0" y1="90" x2="{width}" y2="90" stroke="gray"/></svg>"#
    );
}

fn findings_table<'a>(out: &mut String, rows: impl Iterator<Item = &'a Row>, dashboards: bool) {
    out.push_str(r#"<table class="findings"><thead><tr>"#);
    if dashboards {
        out.push_str("<th>dashboard</th>");
    }
    out.push_str(r#"<th>severity</th><th>detection</th><th>entity</th><th>account</th><th>region</th><th class="num">events</th><th>last seen</th><th>status</th></tr></thead><tbody>"#);
    for r in rows {
        let f = r.finding();
        let _ = write!(out, r#"<tr data-id="{}">"#, esc(&f.finding.id));
        if dashboards {
            let _ = write!(out, "<td>{}</td>", r.dashboard.title());
        }
        let _ = write!(
            out,
            r#"<td>{sev}</td><td>{title}<br><code>{rule}</code></td><td>{kind}: {entity}</td><td>{account}</td><td>{region}</td><td class="e">{count}</td><td>{last}</td><td>{status}</td></tr>"#,
            sev = sev(f.finding.severity),
            title = esc(&f.rule.name),
            rule = esc(&f.rule.id),
            kind = esc(&f.finding.entity.kind),
            entity = esc(&f.finding.entity.id),
            account = esc(r.account()),
            region = esc(r.region()),
            count = f.finding.count,
            last = esc(&f.event.end),
            status = if r.open { "open" } else { "resolved" },
        );
    }
    out.push_str("</tbody></table>");
}

fn risk_overview(out: &mut String, report: &Report) {
    out.push_str(r#"<section id="risk-overview" data-dashboard="risk-overview"><h2>Risk Overview</h2><p class="what">Every entity with open findings, by Elastic's entity risk score (0-100: the open findings of the last 30 days, highest risk first, each weighted 1/i<sup>1.5</sup>); select one for every finding about it, across dashboards, and its action plan.</p>"#);
    if report.risk.is_empty() {
        out.push_str(r#"<p class="empty">No open findings.</p></section>"#);
        return;
    }
    out.push_str(r#"<table id="risk-table"><thead><tr><th>entity</th><th class="num">score</th><th>level</th><th>highest severity</th><th class="num">open findings</th><th>first steps</th></tr></thead><tbody>"#);
    for (i, e) in report.risk.iter().enumerate().take(MAX_ENTITY_PAGES) {
        let _ = write!(
            out,
            r##"<tr data-entity="{entity}"><td><a href="#{anchor}">{kind}: {id}</a></td><td class="score">{score:.2}</td><td class="lvl-{level}">{level}</td><td>{sev}</td><td class="n">{n}</td><td>{step}</td></tr>"##,
            entity = esc(&e.entity),
            anchor = entity_anchor(i),
            kind = esc(&e.kind),
            id = esc(&e.id),
            score = e.score,
            level = e.level.as_str(),
            sev = sev(e.severity),
            n = e.open_findings,
            step = e.action_plan.first().map(|s| esc(s)).unwrap_or_default(),
        );
    }
    out.push_str("</tbody></table>");
    if report.risk.len() > MAX_ENTITY_PAGES {
        let _ = write!(
            out,
            r#"<p class="muted">{} more entities with lower scores are not listed.</p>"#,
            report.risk.len() - MAX_ENTITY_PAGES
        );
    }
    for (i, e) in report.risk.iter().enumerate().take(MAX_ENTITY_PAGES) {
        let _ = write!(
            out,
            r#"<div class="entity" id="{anchor}" data-entity="{entity}"><h3>{kind}: {id} <span class="lvl-{level}">{score:.2} {level}</span></h3><h4>Action plan</h4><ol class="plan">"#,
            anchor = entity_anchor(i),
            entity = esc(&e.entity),
            kind = esc(&e.kind),
            id = esc(&e.id),
            score = e.score,
            level = e.level.as_str(),
        );
        for step in &e.action_plan {
            let _ = write!(out, "<li>{}</li>", esc(step));
        }
        out.push_str("</ol><h4>Findings about it</h4>");
        let ids: std::collections::HashSet<&str> =
            e.findings.iter().map(|f| f.id.as_str()).collect();
        findings_table(
            out,
            report
                .rows
                .iter()
                .filter(|r| ids.contains(r.finding().finding.id.as_str())),
            true,
        );
        out.push_str("</div>");
    }
    out.push_str("</section>");
}

fn tuning(out: &mut String, report: &Report) {
    out.push_str(r#"<section id="tuning"><h2>Staged rules and suppressed events</h2><p class="what">Findings of staged rules (kept, not published), and the events the tuning's exceptions kept from counting.</p>"#);
    let _ = write!(
        out,
        r#"<h3>Staged findings: <span id="staged-count">{}</span></h3>"#,
        report.staged.len()
    );
    if !report.staged.is_empty() {
        out.push_str(r#"<table><thead><tr><th>detection</th><th>entity</th><th class="num">events</th><th>last seen</th></tr></thead><tbody>"#);
        for s in &report.staged {
            let f = &s.finding;
            let _ = write!(
                out,
                r#"<tr data-staged="{id}"><td>{title}<br><code>{rule}</code></td><td>{kind}: {entity}</td><td class="e">{n}</td><td>{last}</td></tr>"#,
                id = esc(&f.finding.id),
                title = esc(&f.rule.name),
                rule = esc(&f.rule.id),
                kind = esc(&f.finding.entity.kind),
                entity = esc(&f.finding.entity.id),
                n = f.finding.count,
                last = esc(&f.event.end),
            );
        }
        out.push_str("</tbody></table>");
    }
    let total: u64 = report.suppressed.values().sum();
    let _ = write!(
        out,
        r#"<h3>Suppressed events: <span id="suppressed-count">{total}</span></h3>"#
    );
    if total > 0 {
        out.push_str(r#"<table><thead><tr><th>rule</th><th>exception</th><th class="num">events</th></tr></thead><tbody>"#);
        for ((rule, exception), n) in &report.suppressed {
            let _ = write!(
                out,
                r#"<tr><td><code>{}</code></td><td>{}</td><td class="e">{n}</td></tr>"#,
                esc(rule),
                esc(exception)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}

fn all_findings(out: &mut String, report: &Report) {
    out.push_str(r#"<section id="all-findings"><h2>All findings</h2>"#);
    findings_table(out, report.rows.iter(), true);
    out.push_str("</section>");
}

/// The rows as the filters' script reads them.
fn data_island(report: &Report) -> String {
    let rows: Vec<serde_json::Value> = report
        .rows
        .iter()
        .map(|r| {
            let f = r.finding();
            serde_json::json!({
                "id": f.finding.id,
                "a": r.account(),
                "r": r.region(),
                "s": f.finding.severity.as_str(),
                "t": crate::timefmt::parse_rfc3339(&f.event.end).unwrap_or(0),
                "o": r.open,
                "n": f.finding.count,
                "m": r.memberships.iter().map(|(p, k)| [*p, k.as_str()]).collect::<Vec<_>>(),
            })
        })
        .collect();
    script_json(&serde_json::json!({ "now": report.now, "rows": rows }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_leave_their_text_attribute_or_script() {
        assert_eq!(
            esc(r#"<img src=x onerror="a()">'&"#),
            "&lt;img src=x onerror=&quot;a()&quot;&gt;&#39;&amp;"
        );
        let island = script_json(&serde_json::json!({"k": "</script><script>alert(1)</script>&"}));
        assert!(!island.contains('<') && !island.contains('&'), "{island}");
        let back: serde_json::Value = serde_json::from_str(&island).unwrap();
        assert_eq!(back["k"], "</script><script>alert(1)</script>&");
    }
}
