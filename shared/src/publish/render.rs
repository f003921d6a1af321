//! Findings for people: the e-mail text and the chat notification. Every value that comes
//! from a log is untrusted here: it is cut, stripped of control characters, and neutralized for
//! its medium, so that a user name or a request URI can neither forge lines, nor ping a
//! channel, nor plant a link or markup that looks like ours.

use serde_json::{json, Value};

use crate::finding::Finding;

/// Characters kept of one value from a log.
const MAX_VALUE_CHARS: usize = 300;

/// The evidence fields an e-mail and a chat message show, in order, when the event has them.
const EVIDENCE_FIELDS: &[&str] = &[
    "event.action",
    "event.outcome",
    "user.name",
    "aws.cloudtrail.user_identity.arn",
    "user.target.name",
    "source.ip",
    "source.geo.country_iso_code",
    "destination.ip",
    "destination.port",
    "url.domain",
    "url.path",
    "http.request.method",
    "user_agent.original",
    "rule.name",
    "error.code",
    "aws.cloudtrail.request_parameters",
];

/// `value` on one line, without control characters, cut to `max` characters.
fn one_line(value: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in value.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// A log value for a plain-text e-mail: on one line, defanged (`hxxp[://]`, `[at]` for
/// anything that looks like a link or an address), so that no mail client turns it into one,
/// and with `<` `>` written `‹` `›`, so that a client that guesses HTML renders no markup.
pub fn email_value(value: &str) -> String {
    defang(&one_line(value, MAX_VALUE_CHARS))
        .replace('<', "‹")
        .replace('>', "›")
}

fn defang(s: &str) -> String {
    let lowered = s.to_ascii_lowercase();
    if !(lowered.contains("://") || lowered.contains("www.") || lowered.contains('@')) {
        return s.to_owned();
    }
    s.replace("://", "[://]")
        .replace("http", "hxxp")
        .replace("HTTP", "HXXP")
        .replace("www.", "www[.]")
        .replace('@', "[at]")
}

/// A log value for chat (Slack and Teams through Amazon Q Developer, client markdown): on one
/// line, defanged, with the characters that make markup, mentions and links escaped or broken:
/// `<!here>`, `@channel` and `[text](url)` reach the channel as plain text.
pub fn chat_value(value: &str) -> String {
    let mut out = String::new();
    for c in defang(&one_line(value, MAX_VALUE_CHARS)).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '*' | '_' | '~' | '`' | '[' | ']' | '(' | ')' | '|' | '#' | '!' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The first evidence event's fields worth showing, as (field, value) pairs.
fn evidence(f: &Finding) -> Vec<(&'static str, String)> {
    let Some(first) = f.finding.evidence.first() else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::from_str::<Value>(first.get()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for field in EVIDENCE_FIELDS {
        let mut v = &doc;
        for part in field.split('.') {
            v = match v.get(part) {
                Some(x) => x,
                None => &Value::Null,
            };
        }
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push((*field, text));
    }
    out
}

fn account(f: &Finding) -> &str {
    f.cloud
        .account
        .as_ref()
        .map_or("unknown account", |a| a.id.as_str())
}

/// The e-mail of one finding: what happened, to which resource, by whom, from where, when, the
/// severity, the action plan as numbered steps, the evidence's key fields and the finding id.
pub fn email_text(f: &Finding) -> String {
    let b = &f.finding;
    let mut t = String::new();
    let line = |t: &mut String, label: &str, value: &str| {
        t.push_str(&format!("{label:<12}{value}\n"));
    };
    t.push_str(&format!(
        "[{}] {}\n\n",
        b.severity.as_str().to_uppercase(),
        f.rule.name
    ));
    t.push_str(&email_value(&f.message));
    t.push_str("\n\n");
    line(
        &mut t,
        "Resource:",
        &format!("{} {}", b.entity.kind, email_value(&b.entity.id)),
    );
    if let Some(u) = &f.user {
        line(&mut t, "By:", &email_value(&u.name));
    }
    if let Some(s) = &f.source {
        line(&mut t, "From:", &email_value(&s.address));
    }
    line(
        &mut t,
        "When:",
        &if f.event.start == f.event.end {
            f.event.start.clone()
        } else {
            format!("{} to {}", f.event.start, f.event.end)
        },
    );
    line(&mut t, "Events:", &format!("{}", b.count));
    line(
        &mut t,
        "Account:",
        &format!(
            "{}{}",
            email_value(account(f)),
            f.cloud
                .region
                .as_deref()
                .map(|r| format!(", {}", email_value(r)))
                .unwrap_or_default()
        ),
    );
    line(
        &mut t,
        "Severity:",
        &format!("{} (risk score {:.0})", b.severity, f.event.risk_score),
    );
    line(
        &mut t,
        "Rule:",
        &format!("{} ({})", f.rule.id, f.rule.category),
    );
    if !b.action_plan.is_empty() {
        t.push_str("\nWhat to do:\n");
        for (i, step) in b.action_plan.iter().enumerate() {
            t.push_str(&format!("  {}. {}\n", i + 1, step));
        }
    }
    let ev = evidence(f);
    if !ev.is_empty() {
        t.push_str("\nEvidence (first event):\n");
        for (k, v) in ev {
            t.push_str(&format!("  {k}: {}\n", email_value(&v)));
        }
        let more = b.evidence.len() as u64 - 1 + b.evidence_omitted;
        if more > 0 {
            t.push_str(&format!(
                "  ({more} more events in the finding's JSON document)\n"
            ));
        }
    }
    t.push_str(&format!("\nWhy it matters: {}\n", f.rule.description));
    if !f.rule.reference.is_empty() {
        t.push_str(&format!("Reference: {}\n", f.rule.reference));
    }
    t.push_str(&format!("Finding id: {}\n", b.id));
    t
}

/// Characters of a chat notification's description: Slack shows at most 3,000 in a section.
pub const MAX_CHAT_DESCRIPTION: usize = 2_900;
/// Characters of its title.
pub const MAX_CHAT_TITLE: usize = 250;

/// The chat notification of one finding, in Amazon Q Developer's custom-notification schema:
/// later updates of the same finding thread under it (`metadata.threadId`).
pub fn chat_message(f: &Finding) -> Value {
    let b = &f.finding;
    let icon = match b.severity {
        crate::detect::Severity::Critical | crate::detect::Severity::High => ":rotating_light:",
        crate::detect::Severity::Medium => ":warning:",
        _ => ":information_source:",
    };
    let title = one_line(
        &format!(
            "{icon} [{}] {} - {}",
            b.severity.as_str().to_uppercase(),
            f.rule.name,
            chat_value(account(f))
        ),
        MAX_CHAT_TITLE,
    );
    let mut d = chat_value(&f.message);
    d.push_str(&format!(
        "\n*Resource:* {} {}\n*Events:* {} from {} to {}",
        b.entity.kind,
        chat_value(&b.entity.id),
        b.count,
        f.event.start,
        f.event.end
    ));
    for (k, v) in evidence(f).into_iter().take(6) {
        d.push_str(&format!("\n*{k}:* {}", chat_value(&v)));
    }
    d.push_str(&format!("\n*Finding:* {}", b.id));
    let description = one_line_keep_newlines(&d, MAX_CHAT_DESCRIPTION);
    let next_steps: Vec<String> = b
        .action_plan
        .iter()
        .take(5)
        .map(|s| one_line(s, 500))
        .collect();
    let mut keywords = vec![
        b.severity.as_str().to_owned(),
        f.rule.category.clone(),
        f.rule.id.clone(),
    ];
    if let Some(a) = &f.cloud.account {
        keywords.push(chat_value(&a.id));
    }
    keywords.iter_mut().for_each(|k| *k = one_line(k, 75));
    json!({
        "version": "1.0",
        "source": "custom",
        "id": b.id,
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": description,
            "nextSteps": next_steps,
            "keywords": keywords,
        },
        "metadata": {
            "threadId": b.id,
            "summary": one_line(&format!("[{}] {}", b.severity.as_str().to_uppercase(), f.rule.name), 200),
            "eventType": "cloudsec.finding",
            "relatedResources": [chat_value(&b.entity.id)],
            "additionalContext": {
                "rule_id": f.rule.id,
                "severity": b.severity.as_str(),
                "count": b.count.to_string(),
            },
        },
    })
}

/// `s` cut to `max` characters, keeping its own line breaks (ours, between fields).
fn one_line_keep_newlines(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_values_are_neutralized_for_each_medium() {
        let hostile = "eve <!here> @channel [click](https://evil.example/x) <script>alert(1)</script>\r\nCRITICAL forged";
        let mail = email_value(hostile);
        assert!(!mail.contains('\n') && !mail.contains('\r'));
        assert!(!mail.contains("https://") && mail.contains("hxxps[://]evil.example"));
        assert!(!mail.contains("@channel"));
        let chat = chat_value(hostile);
        assert!(
            !chat.contains("<!here>") && chat.contains("&lt;\\!here&gt;"),
            "{chat}"
        );
        assert!(!chat.contains("@channel"));
        assert!(!chat.contains("<script>"));
        assert!(!chat.contains("[click](") && chat.contains("\\[click\\]\\("));
        assert!(!chat.contains("https://"));
        assert!(!chat.contains('\n'));
        assert_eq!(email_value("bob"), "bob");
        assert_eq!(chat_value("111122223333"), "111122223333");
        assert!(email_value(&"x".repeat(5000)).chars().count() <= MAX_VALUE_CHARS + 1);
    }
}
