//! The parsed user agent: `user_agent.name`, `version`, `os.*` and, for phones and tablets,
//! `device.name`.
//!
//! Most CloudTrail calls come from the AWS CLI, an SDK or a tool built on one, whose agents
//! (`aws-cli/2.15.0 ... os/linux#5.10`, `Boto3/1.28.0 Python/3.11 Linux/5.10 Botocore/1.31.0`)
//! are recognized here first: the tool over the SDK it uses, the OS from the SDKs' `os/NAME#VER`
//! token or the older `Linux/VER`. AWS's own services (`ec2.amazonaws.com`, `AWS Internal`) are
//! named as logged. Everything else (browsers, curl) goes to uap-core's regexes, the data set
//! of the ua-parser project, evaluated by the `ua-parser` crate and bundled under
//! `shared/data/uap-core` (Apache-2.0, version in [`UAP_CORE_VERSION`]).
//!
//! The regexes are compiled once per process, on the first agent that needs them (a cold start
//! that maps no browser agent never pays for them). The set is immutable, so one static serves
//! every thread, as a compiled `Regex` would. uap-core's device section (633 of its 1,196
//! regexes; with it, the benchmark's compile took three times as long and its peak memory
//! 15 MB more) is compiled only on the first iOS or Android agent, the agents whose device is worth naming; a desktop's would be
//! "Mac" or "Other". Values uap-core calls `Other` are left out: they say nothing. Agents are
//! untrusted text: only the first [`MAX_PARSED`] bytes are looked at.

use std::borrow::Cow;
use std::sync::LazyLock;

use serde::Serialize;

/// The uap-core release the bundled `regexes.yaml` comes from.
pub const UAP_CORE_VERSION: &str = "0.18.0";

/// Bytes of an agent that are parsed: real agents are shorter; a hostile one costs no more.
pub const MAX_PARSED: usize = 1024;

/// uap-core's `regexes.yaml` (`shared/data/uap-core`), made JSON by the build script: reading
/// it as YAML was 44 million instructions of the benchmark's compile.
static REGEXES: &str = include_str!(concat!(env!("OUT_DIR"), "/uap-core.json"));

/// uap-core's agent and OS sections.
#[derive(serde::Deserialize)]
struct Sections<'a> {
    #[serde(borrow)]
    user_agent_parsers: Vec<ua_parser::user_agent::Parser<'a>>,
    #[serde(borrow)]
    os_parsers: Vec<ua_parser::os::Parser<'a>>,
}

/// uap-core's device section, read on the first mobile agent.
#[derive(serde::Deserialize)]
struct DeviceSection<'a> {
    #[serde(borrow)]
    device_parsers: Vec<ua_parser::device::Parser<'a>>,
}

/// The agent parser: uap-core's agent and OS regexes, compiled; its device regexes compiled on
/// the first mobile agent.
pub struct Agents(Option<Compiled>);

/// How many of uap-core's 362 agent regexes [`Agents::load`] compiles on its own thread: the
/// rest, and the 201 OS regexes, cost about as many instructions on the second (callgrind, per
/// thread, the process's start with the first: 162 and 151 million).
const UA_HEAD: usize = 232;

/// Compiles agent regexes, in their order.
fn build_agents(
    parsers: Vec<ua_parser::user_agent::Parser<'static>>,
) -> Result<ua_parser::user_agent::Extractor<'static>, String> {
    ua_parser::user_agent::Builder::new()
        .push_all(parsers)
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())
}

struct Compiled {
    /// uap-core's agent regexes in two extractors, the first regexes and the rest: an agent
    /// is what the first of them that matches says (an extractor answers whenever one of its
    /// regexes matches, as one extractor of them all would with its first match).
    ua: [ua_parser::user_agent::Extractor<'static>; 2],
    os: ua_parser::os::Extractor<'static>,
    devices: std::sync::OnceLock<Option<ua_parser::device::Extractor<'static>>>,
}

impl Compiled {
    fn devices(&self) -> Option<&ua_parser::device::Extractor<'static>> {
        self.devices
            .get_or_init(|| {
                let built = serde_json::from_str::<DeviceSection<'static>>(REGEXES)
                    .map_err(|e| e.to_string())
                    .and_then(|s| {
                        ua_parser::device::Builder::new()
                            .push_all(s.device_parsers)
                            .map_err(|e| e.to_string())?
                            .build()
                            .map_err(|e| e.to_string())
                    });
                built
                    .map_err(|error| {
                        tracing::error!(%error, "uap-core device regexes did not load");
                    })
                    .ok()
            })
            .as_ref()
    }
}

impl Agents {
    /// Compiles the bundled regexes (25 to 48 ms on the 2-core build machine; the benchmark
    /// prints it) on two threads: this one compiles the first [`UA_HEAD`] agent regexes while a
    /// second compiles the OS section and the agents' last ones, about as much work each, so
    /// that a machine with a second core spends about half the time (a scan's other readers
    /// wait for them).
    pub fn load() -> Self {
        let built = serde_json::from_str::<Sections<'static>>(REGEXES)
            .map_err(|e| e.to_string())
            .and_then(|s| {
                let mut head = s.user_agent_parsers;
                let tail = head.split_off(head.len().min(UA_HEAD));
                let os_parsers = s.os_parsers;
                let build_rest = move || {
                    let os = ua_parser::os::Builder::new()
                        .push_all(os_parsers)
                        .map_err(|e| e.to_string())?
                        .build()
                        .map_err(|e| e.to_string())?;
                    Ok::<_, String>((os, build_agents(tail)?))
                };
                // Where no thread can be started, the rest is compiled after the head.
                let rest_job = std::sync::Mutex::new(Some(build_rest));
                let take = || rest_job.lock().ok().and_then(|mut job| job.take());
                let (head, rest) = std::thread::scope(|scope| {
                    let thread = std::thread::Builder::new()
                        .name("uap-core-rest".into())
                        .spawn_scoped(scope, || take().map(|build| build()));
                    let head = build_agents(head);
                    let rest = thread.ok().and_then(|t| t.join().ok()).flatten();
                    (head, rest)
                });
                let (os, tail) = rest
                    .or_else(|| take().map(|build| build()))
                    .unwrap_or_else(|| {
                        Err("the thread of the OS and last agent regexes stopped".to_owned())
                    })?;
                Ok(Compiled {
                    ua: [head?, tail],
                    os,
                    devices: std::sync::OnceLock::new(),
                })
            });
        match built {
            Ok(x) => Agents(Some(x)),
            Err(error) => {
                // The bundled data is checked by a test; this only guards a broken build.
                tracing::error!(%error, "uap-core regexes did not load; browser agents are not parsed");
                Agents(None)
            }
        }
    }

    /// Parses an agent.
    pub fn parse<'a>(&'a self, original: &'a str) -> Parsed<'a> {
        parse_with(original, |agent| self.uap(agent))
    }

    /// What uap-core's regexes say of an agent that is no AWS tool's.
    fn uap<'a>(&'a self, agent: &'a str) -> Parsed<'a> {
        self.0
            .as_ref()
            .and_then(|x| uap(x, agent))
            .unwrap_or_default()
    }
}

/// The one way an agent is parsed: its head, trimmed; an AWS tool's own tokens; else `uap`,
/// called only then (so that the process's regexes are compiled only for an agent that needs
/// them).
fn parse_with<'a>(original: &'a str, uap: impl FnOnce(&'a str) -> Parsed<'a>) -> Parsed<'a> {
    let agent = head(original.trim());
    if agent.is_empty() {
        return Parsed::default();
    }
    aws_agent(agent).unwrap_or_else(|| uap(agent))
}

static AGENTS: LazyLock<Agents> = LazyLock::new(Agents::load);

/// What an agent says about itself.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// `user_agent.name`: the browser, tool or SDK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'a, str>>,
    /// `user_agent.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Cow<'a, str>>,
    /// `user_agent.os.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<Os<'a>>,
    /// `user_agent.device.*`, for mobile agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device<'a>>,
}

/// `user_agent.device.*`.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Device<'a> {
    /// `iPhone`, `Samsung SM-G960F`, ...
    pub name: Cow<'a, str>,
}

/// `user_agent.os.*`.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Os<'a> {
    /// `Linux`, `Mac OS X`, `Windows`, ...
    pub name: Cow<'a, str>,
    /// As logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Cow<'a, str>>,
    /// Name and version.
    pub full: String,
    /// One of ECS's `linux`, `macos`, `unix`, `windows`, `ios`, `android`, when known.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
}

impl Parsed<'_> {
    /// The same, owning its text.
    fn into_owned(self) -> Parsed<'static> {
        fn own(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        Parsed {
            name: self.name.map(own),
            version: self.version.map(own),
            os: self.os.map(|o| Os {
                name: own(o.name),
                version: o.version.map(own),
                full: o.full,
                kind: o.kind,
            }),
            device: self.device.map(|d| Device { name: own(d.name) }),
        }
    }

    /// Whether nothing was recognized.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.os.is_none()
    }
}

/// Parses an agent with the process's parser, compiled on the first agent that needs it. What
/// uap-core's regexes say of an agent is remembered by the thread (a log repeats its few
/// browsers' agents: a lookup costs a small part of a parse).
pub fn parse(original: &str) -> Parsed<'_> {
    parse_with(original, |agent| {
        RECENT.with_borrow_mut(|recent| recent.get(agent, |a| AGENTS.uap(a)))
    })
}

/// Agents remembered per thread, at most: bounded whatever a log holds (each under
/// [`MAX_PARSED`] bytes).
pub const REMEMBERED: usize = 256;

thread_local! {
    static RECENT: std::cell::RefCell<Recent> = std::cell::RefCell::default();
}

/// The agents a thread parsed with uap-core's regexes, and what they said.
#[derive(Default)]
struct Recent {
    parsed: std::collections::HashMap<Box<str>, Parsed<'static>>,
}

impl Recent {
    /// What `uap` says of `agent`, remembered; once full, the memory starts afresh (a hostile
    /// log of distinct agents costs a parse each, as without it, and no more memory).
    fn get<'a>(&mut self, agent: &'a str, uap: impl FnOnce(&'a str) -> Parsed<'a>) -> Parsed<'a> {
        if let Some(p) = self.parsed.get(agent) {
            return p.clone();
        }
        let p = uap(agent);
        if self.parsed.len() >= REMEMBERED {
            self.parsed.clear();
        }
        self.parsed.insert(agent.into(), p.clone().into_owned());
        p
    }
}

/// The first [`MAX_PARSED`] bytes, cut at a character boundary.
fn head(s: &str) -> &str {
    if s.len() <= MAX_PARSED {
        return s;
    }
    let mut end = MAX_PARSED;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// How strongly a `name/version` token names what made the call: a tool over the SDK it uses.
fn rank(name: &str) -> Option<u8> {
    // `get`, not an index: the agent is untrusted and may cut a character at `p.len()`.
    let lower = |p: &str| {
        name.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    let is = |p: &str| name.eq_ignore_ascii_case(p);
    if is("aws-cli")
        || is("Terraform")
        || is("aws-cdk")
        || is("Pulumi")
        || name.ends_with("Console")
    {
        Some(0)
    } else if is("Boto3") || lower("aws-toolkit-") || is("AWSPowerShell") {
        Some(1)
    } else if is("botocore") || lower("aws-sdk-") {
        Some(2)
    } else {
        None
    }
}

/// Tokens of an agent, without the brackets and commas some consoles wrap them in.
fn tokens(agent: &str) -> impl Iterator<Item = &str> {
    agent
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .map(|t| t.trim_matches(|c| matches!(c, '[' | ']' | '(' | ')')))
        .filter(|t| !t.is_empty())
}

fn aws_agent(agent: &str) -> Option<Parsed<'_>> {
    if !agent.contains(char::is_whitespace)
        && agent.len() > ".amazonaws.com".len()
        && agent.ends_with(".amazonaws.com")
        || agent == "AWS Internal"
    {
        return Some(Parsed {
            name: Some(Cow::Borrowed(agent)),
            ..Parsed::default()
        });
    }
    let (_, name, version) = tokens(agent)
        .filter_map(|t| {
            let (name, version) = t.split_once('/')?;
            Some((rank(name)?, name, version))
        })
        .min_by_key(|(rank, _, _)| *rank)?;
    Some(Parsed {
        name: Some(Cow::Borrowed(name)),
        version: (!version.is_empty()).then_some(Cow::Borrowed(version)),
        os: tokens(agent).find_map(sdk_os),
        device: None,
    })
}

/// The OS of an SDK agent: `os/linux#5.10.0`, the older `Linux/5.10.0-...`, `Mac_OS_X/10.15.7`,
/// `Windows_10/10.0`, or a bare `linux` in the Go SDK's parentheses.
fn sdk_os(token: &str) -> Option<Os<'_>> {
    let (name, version) = match token.split_once('/') {
        Some((n, v)) if n.eq_ignore_ascii_case("os") => match v.split_once('#') {
            Some((n, v)) => (n, Some(v)),
            None => (v, None),
        },
        Some((n, v)) => (n, Some(v)),
        None => (token, None),
    };
    let lower = name.to_ascii_lowercase();
    let (name, kind) = match lower.as_str() {
        "linux" => ("Linux", "linux"),
        "darwin" => ("Darwin", "macos"),
        "macos" | "mac_os_x" | "mac os x" => ("Mac OS X", "macos"),
        "android" => ("Android", "android"),
        "ios" => ("iOS", "ios"),
        w if w.starts_with("windows") => ("Windows", "windows"),
        _ => return None,
    };
    let version = version.filter(|v| !v.is_empty());
    Some(Os {
        name: Cow::Borrowed(name),
        full: match version {
            Some(v) => format!("{name} {v}"),
            None => name.to_owned(),
        },
        version: version.map(Cow::Borrowed),
        kind: Some(kind),
    })
}

/// `major.minor.patch.patch_minor`, as many parts as there are.
fn joined<'a, I: IntoIterator<Item = Option<&'a str>>>(parts: I) -> Option<String> {
    let mut out = String::new();
    for p in parts.into_iter().map_while(|p| p.filter(|p| !p.is_empty())) {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(p);
    }
    (!out.is_empty()).then_some(out)
}

fn known<'a>(value: Cow<'a, str>) -> Option<Cow<'a, str>> {
    (!value.is_empty() && value != "Other").then_some(value)
}

fn uap<'a>(x: &'a Compiled, agent: &'a str) -> Option<Parsed<'a>> {
    let ua = x.ua.iter().find_map(|e| e.extract(agent));
    let os = x.os.extract(agent);
    let ua = ua.and_then(|v| {
        Some((
            known(v.family)?,
            joined([v.major, v.minor, v.patch, v.patch_minor]),
        ))
    });
    let os = os.and_then(|v| {
        let name = known(v.os)?;
        let version = joined([
            v.major.as_deref(),
            v.minor.as_deref(),
            v.patch.as_deref(),
            v.patch_minor.as_deref(),
        ]);
        let kind = os_type(&name);
        Some(Os {
            full: match &version {
                Some(v) => format!("{name} {v}"),
                None => name.to_string(),
            },
            name,
            version: version.map(Cow::Owned),
            kind,
        })
    });
    let (name, version) = match ua {
        Some((name, version)) => (Some(name), version.map(Cow::Owned)),
        None => (None, None),
    };
    // The phone or tablet, from uap-core's device section, which is compiled only here: a
    // desktop or server agent says nothing its OS does not ("Mac", "Other").
    let device = os
        .as_ref()
        .filter(|o| matches!(o.kind, Some("ios" | "android")))
        .and_then(|_| x.devices())
        .and_then(|d| d.extract(agent))
        .and_then(|d| {
            Some(Device {
                name: known(d.device)?,
            })
        });
    Some(Parsed {
        name,
        version,
        os,
        device,
    })
}

/// ECS's `os.type` of a uap-core OS name.
fn os_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "Mac OS X" | "macOS" => "macos",
        "iOS" | "iPadOS" => "ios",
        "Android" => "android",
        n if n.starts_with("Windows") => "windows",
        "Linux" | "Ubuntu" | "Debian" | "Fedora" | "Red Hat" | "CentOS" | "Chrome OS"
        | "ChromeOS" => "linux",
        "FreeBSD" | "OpenBSD" | "NetBSD" | "Solaris" => "unix",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(p: &Parsed<'_>) -> (String, Option<String>, Option<&'static str>) {
        let os = p.os.as_ref().expect("an os");
        (
            os.name.to_string(),
            os.version.as_deref().map(str::to_owned),
            os.kind,
        )
    }

    #[test]
    fn the_aws_cli_is_named_over_the_sdk_it_uses_with_its_os() {
        let v2 = parse(
            "aws-cli/2.15.0 md/awscrt#0.19.18 ua/2.0 os/linux#5.10.0-26-cloud-amd64 md/arch#x86_64 \
             lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe \
             md/prompt#off md/command#s3.ls",
        );
        assert_eq!(v2.name.as_deref(), Some("aws-cli"));
        assert_eq!(v2.version.as_deref(), Some("2.15.0"));
        assert_eq!(
            os(&v2),
            (
                "Linux".into(),
                Some("5.10.0-26-cloud-amd64".into()),
                Some("linux")
            )
        );
        let v1 = parse(
            "aws-cli/1.18.147 Python/2.7.18 Linux/4.14.198-152.320.amzn2.x86_64 botocore/1.18.6",
        );
        assert_eq!(v1.name.as_deref(), Some("aws-cli"));
        assert_eq!(v1.version.as_deref(), Some("1.18.147"));
        assert_eq!(os(&v1).1.as_deref(), Some("4.14.198-152.320.amzn2.x86_64"));
        let mac = parse("aws-cli/2.13.5 Python/3.11.4 Darwin/22.6.0 exe/x86_64 prompt/off");
        assert_eq!(
            os(&mac),
            ("Darwin".into(), Some("22.6.0".into()), Some("macos"))
        );
        assert_eq!(
            mac.os.as_ref().map(|o| o.full.as_str()),
            Some("Darwin 22.6.0")
        );
    }

    #[test]
    fn sdks_and_tools_are_recognized() {
        let cases = [
            (
                "Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10.0 md/arch#x86_64 lang/python#3.11.4",
                "Boto3",
                "1.28.0",
            ),
            (
                "Boto3/1.9.201 Python/2.7.16 Linux/4.14.138-99.102.amzn2.x86_64 Botocore/1.12.201",
                "Boto3",
                "1.9.201",
            ),
            ("Botocore/1.31.0 Python/3.11.4 Linux/5.10.0", "Botocore", "1.31.0"),
            (
                "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) \
                 terraform-provider-aws/5.17.0 aws-sdk-go-v2/1.21.0 os/macos#22.6.0 lang/go#1.20.8",
                "Terraform",
                "1.5.7",
            ),
            (
                "aws-sdk-java/1.12.488 Linux/5.10.184-175.749.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/11.0.19",
                "aws-sdk-java",
                "1.12.488",
            ),
            ("aws-sdk-go/1.44.327 (go1.20.6; linux; amd64)", "aws-sdk-go", "1.44.327"),
            (
                "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.184]",
                "S3Console",
                "0.4",
            ),
        ];
        for (agent, name, version) in cases {
            let p = parse(agent);
            assert_eq!(p.name.as_deref(), Some(name), "{agent}");
            assert_eq!(p.version.as_deref(), Some(version), "{agent}");
        }
        let go = parse("aws-sdk-go/1.44.327 (go1.20.6; linux; amd64)");
        assert_eq!(os(&go), ("Linux".into(), None, Some("linux")));
        let tf = parse("Terraform/1.5.7 aws-sdk-go-v2/1.21.0 os/macos#22.6.0");
        assert_eq!(
            os(&tf),
            ("Mac OS X".into(), Some("22.6.0".into()), Some("macos"))
        );
    }

    #[test]
    fn aws_services_are_named_as_logged_and_unknown_agents_name_nothing() {
        for agent in ["ec2.amazonaws.com", "console.amazonaws.com", "AWS Internal"] {
            assert_eq!(parse(agent).name.as_deref(), Some(agent));
        }
        assert!(parse("").is_empty());
        assert!(parse(".amazonaws.com").is_empty());
        assert!(parse("zzz unknown thing").is_empty());
    }

    #[test]
    fn browsers_are_parsed_with_uap_core() {
        let p = parse(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like \
             Gecko) Chrome/95.0.4638.69 Safari/537.36",
        );
        assert_eq!(p.name.as_deref(), Some("Chrome"));
        assert_eq!(p.version.as_deref(), Some("95.0.4638.69"));
        assert_eq!(
            os(&p),
            ("Mac OS X".into(), Some("10.15.7".into()), Some("macos"))
        );
        let iphone = parse(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
             like Gecko) Version/12.0 Mobile/15E148 Safari/604.1",
        );
        assert_eq!(iphone.name.as_deref(), Some("Mobile Safari"));
        assert_eq!(os(&iphone).2, Some("ios"));
        assert_eq!(
            iphone.device.as_ref().map(|d| d.name.as_ref()),
            Some("iPhone")
        );
        assert!(p.device.is_none(), "a desktop's device is not looked for");
        let curl = parse("curl/7.61.1");
        assert_eq!(curl.name.as_deref(), Some("curl"));
        assert_eq!(curl.version.as_deref(), Some("7.61.1"));
        assert!(curl.os.is_none());
    }

    #[test]
    fn a_hostile_agent_is_parsed_on_its_head_only_and_never_panics() {
        let long = format!("aws-cli/2.0 {}é", "x".repeat(MAX_PARSED));
        assert_eq!(parse(&long).name.as_deref(), Some("aws-cli"));
        let cut = format!("{}é{}", "a".repeat(MAX_PARSED - 1), "b".repeat(10));
        assert!(head(&cut).len() < MAX_PARSED);
        for s in [
            "/",
            "aws-cli/",
            "os/",
            "os/#",
            "Mozilla/5.0 (",
            "\u{0}\u{ffff}",
            "[[[,,,]]]",
        ] {
            let _ = parse(s);
        }
        assert_eq!(parse("aws-cli/").version, None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

        /// Any text, alone or after a real agent's first token, parses without a panic; uap-core's
        /// `Other` is never written, and an OS's full name starts with its name.
        #[test]
        fn any_agent_parses(prefix in "(aws-cli/|Boto3/|os/|Mozilla/5.0 \\(|)", rest in "\\PC{0,80}") {
            let agent = format!("{prefix}{rest}");
            let p = parse(&agent);
            proptest::prop_assert_ne!(p.name.as_deref(), Some("Other"));
            if let Some(os) = &p.os {
                proptest::prop_assert!(os.full.starts_with(os.name.as_ref()));
            }
        }
    }

    #[test]
    fn a_remembered_agent_says_what_a_parse_does_and_the_memory_stays_bounded() {
        let agents = Agents::load();
        let mut recent = Recent::default();
        let mut parses = 0;
        let firefox =
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
        for _ in 0..3 {
            let p = recent.get(firefox, |a| {
                parses += 1;
                agents.uap(a)
            });
            assert_eq!(p, agents.parse(firefox));
            assert_eq!(p.name.as_deref(), Some("Firefox"));
        }
        assert_eq!(parses, 1, "parsed once, then remembered");
        for i in 0..REMEMBERED * 3 {
            let agent = format!("curl/7.{i}.0");
            let p = recent.get(&agent, |a| agents.uap(a));
            assert_eq!(p.version.as_deref(), Some(format!("7.{i}.0").as_str()));
            assert!(recent.parsed.len() <= REMEMBERED);
        }
        // Through the process's parser, twice on one thread: the same answer.
        assert_eq!(parse(firefox), parse(firefox));
        assert_eq!(parse(firefox), agents.parse(firefox));
    }

    #[test]
    fn the_regexes_read_as_json_are_uap_cores_yaml() {
        // Every parser of every section, field by field, as text: a value the YAML has as a
        // plain scalar (`10`) that the JSON made a number would fail here, not at run time.
        type Texts = BTreeMap<String, Vec<BTreeMap<String, Option<String>>>>;
        use std::collections::BTreeMap;
        let yaml: Texts =
            serde_yaml_ng::from_str(include_str!("../data/uap-core/regexes.yaml")).expect("yaml");
        let json: Texts = serde_json::from_str(REGEXES).expect("json");
        assert_eq!(
            yaml.keys().collect::<Vec<_>>(),
            ["device_parsers", "os_parsers", "user_agent_parsers"]
        );
        assert_eq!(yaml, json);
        assert_eq!(yaml.values().map(Vec::len).sum::<usize>(), 1_196);
    }

    #[test]
    fn the_agent_regexes_in_two_extractors_answer_as_one_extractor_of_them_all() {
        // GIVEN uap-core's agent regexes in one extractor, and as `load` splits them
        let sections: Sections<'static> = serde_json::from_str(REGEXES).expect("json");
        let all = build_agents(sections.user_agent_parsers).expect("one extractor");
        let agents = Agents::load();
        let [head, tail] = &agents.0.as_ref().expect("compiled").ua;
        // WHEN agents of every kind are parsed, those the first regexes do not know among them
        let corpus = [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/124.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like \
             Gecko) Version/17.4 Safari/605.1.15",
            "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
             like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/124.0.6367.82 Mobile Safari/537.36",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
            "Opera/9.80 (Windows NT 6.1) Presto/2.12.388 Version/12.16",
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
            "okhttp/4.12.0",
            "PostmanRuntime/7.37.3",
            "rclone/v1.66.0",
            "WindowsPowerShell/5.1.22621.2506",
            "Java/1.8.0_402",
            "ureq/2.9.7",
            "Box Sync/4.0.8003",
            "Mozilla/5.0 (Windows NT 10.0; rv:115.0) Gecko/20100101 MullvadBrowser/13.0.14",
            "Mozilla/5.0 (BlackBerry 9900) AppleWebKit/534.11+ (KHTML, like Gecko)",
            "aws-cli/2.15.0",
            "AWS Internal",
            "not an agent at all",
        ];
        let mut from_tail = 0;
        for agent in corpus {
            let first = head.extract(agent);
            let split = first.clone().or_else(|| tail.extract(agent));
            // THEN each answers what the one extractor does
            assert_eq!(split, all.extract(agent), "{agent}");
            from_tail += usize::from(first.is_none() && split.is_some());
        }
        assert!(
            from_tail >= 3,
            "{from_tail} agents known by the last regexes only"
        );
    }

    #[test]
    fn the_bundled_regexes_load() {
        let agents = Agents::load();
        let compiled = agents.0.as_ref().expect("compiled");
        assert!(
            compiled.ua[0].extract("curl/7.61.1").is_some()
                || compiled.ua[1].extract("curl/7.61.1").is_some()
        );
        assert!(compiled.os.extract("(Windows NT 10.0; Win64)").is_some());
        assert!(
            compiled.devices.get().is_none(),
            "devices wait for a mobile agent"
        );
        assert!(compiled.devices().is_some());
    }
}
