//! A real headless Chromium (Debian's `chromium`, which the test command installs) for the
//! report's tests: the page as the browser built it after its script ran, its console errors,
//! and a screenshot for a person to look at.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser, when there is one. The test command sets `CLOUDSEC_TEST_TOOLS`: there a
/// missing browser fails the test; elsewhere (a bare `cargo test`) the test is skipped.
pub fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CLOUDSEC_TEST_TOOLS").is_none(),
            "chromium is not installed, and the test command requires it"
        );
        eprintln!("chromium not installed: browser test skipped");
    }
    found
}

/// What the browser made of a page.
#[derive(Debug)]
pub struct Rendered {
    /// The DOM, serialized after the page's script ran.
    pub dom: String,
    /// What the browser logged: console messages and script errors among them.
    pub log: String,
}

fn base_command(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Loads `url` and answers the DOM after its script ran, with the browser's log.
pub fn render(browser: &Path, url: &str) -> Rendered {
    let profile = std::env::temp_dir().join(crate::unique("chromium-profile"));
    let out = base_command(browser, &profile)
        .arg("--virtual-time-budget=5000")
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Rendered {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        log: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Takes a screenshot of `url` into `png`.
pub fn screenshot(browser: &Path, url: &str, png: &Path) {
    let profile = std::env::temp_dir().join(crate::unique("chromium-profile"));
    let out = base_command(browser, &profile)
        .arg("--window-size=1280,2600")
        .arg("--hide-scrollbars")
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success() && png.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The console's errors and uncaught exceptions in a browser log.
pub fn script_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            (l.contains("CONSOLE") && (l.contains("Error") || l.contains("Uncaught")))
                || l.contains("Uncaught ")
                || l.contains("Refused to execute")
                || l.contains("Content Security Policy")
        })
        .collect()
}

/// The rows of the page's panels as the browser shows them: (panel, key, findings, hidden).
pub fn panel_rows(dom: &str) -> Vec<(String, String, u64, bool)> {
    let mut out = Vec::new();
    for chunk in dom.split("<tr ").skip(1) {
        let tag_end = chunk.find('>').unwrap_or(chunk.len());
        let tag = &chunk[..tag_end];
        let (Some(panel), Some(key)) = (attr(tag, "data-panel"), attr(tag, "data-key")) else {
            continue;
        };
        let n = cell(chunk, "n")
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        out.push((panel, key, n, tag.contains("hidden=\"\"")));
    }
    out
}

/// The value of attribute `name` in an opening tag's text, unescaped.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let tag = format!(" {tag}");
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + len]))
}

/// The text of the first `<td class="{class}">` in `html`.
pub fn cell(html: &str, class: &str) -> Option<String> {
    let marker = format!("<td class=\"{class}\">");
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find("</td>")?;
    Some(unescape(&html[start..start + len]))
}

/// HTML's five escapes undone.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The `<tr data-id>` rows inside the element whose opening tag carries `id="{id}"`, up to
/// the next element of the same kind: (finding id, hidden).
pub fn finding_rows_in(dom: &str, id: &str) -> Vec<(String, bool)> {
    let Some(start) = dom.find(&format!("id=\"{id}\"")) else {
        return Vec::new();
    };
    let rest = &dom[start..];
    let end = rest[1..]
        .find("class=\"entity\"")
        .or_else(|| rest.find("</section>"))
        .unwrap_or(rest.len());
    rows_with_ids(&rest[..end])
}

/// Every `<tr data-id>` of `html`: (finding id, hidden).
pub fn rows_with_ids(html: &str) -> Vec<(String, bool)> {
    html.split("<tr ")
        .skip(1)
        .filter_map(|chunk| {
            let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
            attr(tag, "data-id").map(|id| (id, tag.contains("hidden=\"\"")))
        })
        .collect()
}
