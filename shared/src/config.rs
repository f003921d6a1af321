//! Typed configuration of the functions, read from the environment at cold start.
//!
//! A bad value fails the cold start with a message naming the variable, instead of failing every
//! invocation later.

use std::collections::HashMap;
use std::str::FromStr;

use crate::detect::Severity;
use crate::read::DEFAULT_MAX_DECOMPRESSED_BYTES;

/// ARN of the SNS topic findings are published to. Required.
pub const ENV_FINDINGS_TOPIC_ARN: &str = "FINDINGS_TOPIC_ARN";
/// Lowest severity published (`info`..`critical`). Default `low`.
pub const ENV_MIN_SEVERITY: &str = "MIN_PUBLISH_SEVERITY";
/// Cap on an object's decompressed size, in bytes. Default 4 GiB.
pub const ENV_MAX_DECOMPRESSED_BYTES: &str = "MAX_DECOMPRESSED_BYTES";
/// Bucket that keeps bad records. Optional: without it they are kept in the logs only.
pub const ENV_QUARANTINE_BUCKET: &str = "QUARANTINE_BUCKET";
/// Key prefix of kept bad records. Default `quarantine/`.
pub const ENV_QUARANTINE_PREFIX: &str = "QUARANTINE_PREFIX";
/// DynamoDB table of the state (counters, ledger, findings). Required.
pub const ENV_STATE_TABLE: &str = "STATE_TABLE_NAME";
/// Days a window's counters are kept after the window ends. Default 2.
pub const ENV_STATE_RETENTION_DAYS: &str = "STATE_RETENTION_DAYS";
/// Days the slices of anomaly baselines are kept. Default 30.
pub const ENV_BASELINE_RETENTION_DAYS: &str = "BASELINE_RETENTION_DAYS";
/// Evidence events kept per finding. Default 5.
pub const ENV_MAX_EVIDENCE: &str = "MAX_EVIDENCE_EVENTS";

/// Key prefixes and their source, besides AWS's layouts: `source=prefix` pairs,
/// comma-separated (`waf=firehose/waf/,cloudtrail=org-trail/`).
pub const ENV_SOURCE_PREFIXES: &str = "SOURCE_PREFIXES";
/// The per-source variables `SOURCE_PREFIXES` replaces, still read (comma-separated prefixes
/// of one source each), after it.
pub const LEGACY_SOURCE_PREFIXES: [(&str, crate::sources::LogSource); 3] = [
    ("CLOUDTRAIL_PREFIXES", crate::sources::LogSource::CloudTrail),
    ("WAF_PREFIXES", crate::sources::LogSource::Waf),
    (
        "NETWORK_FIREWALL_PREFIXES",
        crate::sources::LogSource::NetworkFirewall,
    ),
];

/// Changes to rules' thresholds, windows and severities: a JSON object by rule id, e.g.
/// `{"web.blocked-burst": {"min_count": 300}}`. Default: none.
pub const ENV_RULE_SETTINGS: &str = "RULE_SETTINGS";

/// Accounts outside the organization that are trusted (comma-separated): sharing with them is
/// not a finding. Default: none.
pub const ENV_KNOWN_ACCOUNTS: &str = "KNOWN_ACCOUNTS";

/// The GeoIP City database: a path (a Lambda layer's file under /opt) or `s3://bucket/key`.
/// Default: none (geo enrichment and detections off).
pub const ENV_GEOIP_CITY_DB: &str = "GEOIP_CITY_DB";
/// The GeoIP ASN database, the same way. Default: none.
pub const ENV_GEOIP_ASN_DB: &str = "GEOIP_ASN_DB";
/// Countries (ISO codes, comma-separated) a console login from which is a finding.
pub const ENV_RISKY_COUNTRIES: &str = "RISKY_COUNTRIES";
/// When set, console logins from countries outside these are findings.
pub const ENV_ALLOWED_COUNTRIES: &str = "ALLOWED_COUNTRIES";
/// Speed above which consecutive logins are impossible travel, km/h. Default 900.
pub const ENV_IMPOSSIBLE_TRAVEL_KMH: &str = "IMPOSSIBLE_TRAVEL_KMH";
/// Distance under which consecutive logins never are, km. Default 100.
pub const ENV_IMPOSSIBLE_TRAVEL_MIN_KM: &str = "IMPOSSIBLE_TRAVEL_MIN_KM";
/// Days of login history kept for the geo rules. Default 90.
pub const ENV_GEO_HISTORY_DAYS: &str = "GEO_HISTORY_DAYS";

/// The SQS queue to which findings a sink refused are sent, to be retried on their own.
/// Without it, a refused finding fails its input.
pub const ENV_REPUBLISH_QUEUE_URL: &str = "REPUBLISH_QUEUE_URL";

/// The tuning file (exceptions, rule states and settings): `s3://bucket/key`, or a path (a
/// layer's file). Its settings apply after `RULE_SETTINGS`'s.
pub const ENV_TUNING_URI: &str = "TUNING_URI";

/// The users' Sigma rules: `s3://bucket/prefix/` (the `.yml`/`.yaml` objects under it) or a
/// folder (a layer's), read once at cold start. A rule that cannot be used is logged with its
/// reason and left out; the others load.
pub const ENV_SIGMA_RULES_URI: &str = "SIGMA_RULES_URI";

/// The optional chat topic (Amazon Q Developer's custom notifications, to Slack, Teams or
/// Chime): every published finding goes there too.
pub const ENV_CHAT_TOPIC_ARN: &str = "CHAT_TOPIC_ARN";

/// The Security Hub product findings are imported under
/// (`arn:aws:securityhub:<region>:<account>:product/<account>/default`): set, every published
/// finding is imported too.
pub const ENV_SECURITY_HUB_PRODUCT_ARN: &str = "SECURITY_HUB_PRODUCT_ARN";

/// The DynamoDB table of the findings store. Optional for the ingest functions (without it,
/// findings are published and not kept); required by `risk-report`.
pub const ENV_FINDINGS_TABLE: &str = "FINDINGS_TABLE_NAME";
/// Days a finding is kept in the store after its last event. Default 90.
pub const ENV_FINDINGS_RETENTION_DAYS: &str = "FINDINGS_RETENTION_DAYS";
/// `risk-report`: the bucket the reports are written to. Required.
pub const ENV_REPORT_BUCKET: &str = "REPORT_BUCKET";
/// `risk-report`: the key prefix of the reports. Default `reports/`.
pub const ENV_REPORT_PREFIX: &str = "REPORT_PREFIX";
/// Days without an event after which a finding is resolved. Default 7.
pub const ENV_RESOLVE_AFTER_DAYS: &str = "RESOLVE_AFTER_DAYS";
/// `risk-report`: `true` to publish, besides the organization's digest, one per account.
pub const ENV_DIGEST_PER_ACCOUNT: &str = "DIGEST_PER_ACCOUNT";

/// Every variable the functions read, for the template check.
pub const ALL_ENV: &[&str] = &[
    ENV_FINDINGS_TOPIC_ARN,
    ENV_MIN_SEVERITY,
    ENV_MAX_DECOMPRESSED_BYTES,
    ENV_QUARANTINE_BUCKET,
    ENV_QUARANTINE_PREFIX,
    ENV_STATE_TABLE,
    ENV_STATE_RETENTION_DAYS,
    ENV_BASELINE_RETENTION_DAYS,
    ENV_MAX_EVIDENCE,
    ENV_SOURCE_PREFIXES,
    ENV_RULE_SETTINGS,
    ENV_KNOWN_ACCOUNTS,
    ENV_GEOIP_CITY_DB,
    ENV_GEOIP_ASN_DB,
    ENV_RISKY_COUNTRIES,
    ENV_ALLOWED_COUNTRIES,
    ENV_IMPOSSIBLE_TRAVEL_KMH,
    ENV_IMPOSSIBLE_TRAVEL_MIN_KM,
    ENV_GEO_HISTORY_DAYS,
    ENV_REPUBLISH_QUEUE_URL,
    ENV_TUNING_URI,
    ENV_SIGMA_RULES_URI,
    ENV_CHAT_TOPIC_ARN,
    ENV_SECURITY_HUB_PRODUCT_ARN,
    ENV_FINDINGS_TABLE,
    ENV_FINDINGS_RETENTION_DAYS,
    ENV_REPORT_BUCKET,
    ENV_REPORT_PREFIX,
    ENV_RESOLVE_AFTER_DAYS,
    ENV_DIGEST_PER_ACCOUNT,
];

/// A configuration value was missing or wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {name}: {reason}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// Configuration of `log-ingest`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogIngestConfig {
    /// Where findings go.
    pub findings_topic_arn: String,
    /// Lowest severity published.
    pub min_severity: Severity,
    /// Cap on an object's decompressed size.
    pub max_decompressed_bytes: u64,
    /// Bucket for bad records.
    pub quarantine_bucket: Option<String>,
    /// Queue for refused findings.
    pub republish_queue_url: Option<String>,
    /// Where the tuning file is.
    pub tuning_uri: Option<String>,
    /// Where the Sigma rules are.
    pub sigma_rules_uri: Option<String>,
    /// The chat topic.
    pub chat_topic_arn: Option<String>,
    /// The Security Hub product to import under.
    pub security_hub: Option<crate::publish::asff::Product>,
    /// The findings store's table.
    pub findings_table: Option<String>,
    /// Days a finding is kept after its last event.
    pub findings_retention_days: i64,
    /// Key prefix for bad records.
    pub quarantine_prefix: String,
    /// Evidence events kept per finding.
    pub max_evidence: usize,
    /// The state table.
    pub state_table: String,
    /// Timing of the state.
    pub state: crate::engine::evaluate::StateConfig,
    /// Which keys are which source.
    pub layouts: crate::sources::KeyLayouts,
    /// Changes to rules' thresholds and windows.
    pub rule_overrides: std::collections::BTreeMap<String, crate::detect::RuleOverride>,
    /// Trusted accounts outside the organization.
    pub known_accounts: Vec<String>,
    /// Where the GeoIP City database is (a path or `s3://bucket/key`).
    pub geoip_city: Option<String>,
    /// Where the GeoIP ASN database is.
    pub geoip_asn: Option<String>,
    /// Country lists and thresholds of the geo rules.
    pub geo: crate::geo::GeoSettings,
}

impl LogIngestConfig {
    /// The built-in catalogue with this configuration's rule changes; a change that does not
    /// fit its rule fails here, at cold start.
    pub fn catalogue(&self) -> Result<crate::detect::Catalogue, ConfigError> {
        self.catalogue_with(crate::sigma::SigmaSet::default())
    }

    /// [`LogIngestConfig::catalogue`] with the Sigma rules `sigma` (the changes may name them).
    pub fn catalogue_with(
        &self,
        sigma: crate::sigma::SigmaSet,
    ) -> Result<crate::detect::Catalogue, ConfigError> {
        let mut c = crate::detect::Catalogue::with_settings(crate::detect::Settings {
            known_accounts: self.known_accounts.iter().cloned().collect(),
            geo: self.geo.clone(),
            ..Default::default()
        });
        c.sigma = sigma;
        c.apply_overrides(&self.rule_overrides)
            .map_err(|reason| ConfigError {
                name: ENV_RULE_SETTINGS,
                reason,
            })?;
        Ok(c)
    }
}

impl LogIngestConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<LogIngestConfig, ConfigError> {
        Self::from_map(&std::env::vars().collect())
    }

    /// Reads a map of variables (the environment, or a test's).
    pub fn from_map(env: &HashMap<String, String>) -> Result<LogIngestConfig, ConfigError> {
        let get = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let topic = get(ENV_FINDINGS_TOPIC_ARN).ok_or(ConfigError {
            name: ENV_FINDINGS_TOPIC_ARN,
            reason: "required: the ARN of the findings topic".into(),
        })?;
        if !topic.starts_with("arn:") || !topic.contains(":sns:") {
            return Err(ConfigError {
                name: ENV_FINDINGS_TOPIC_ARN,
                reason: format!("{topic:?} is not an SNS topic ARN"),
            });
        }
        Ok(LogIngestConfig {
            findings_topic_arn: topic.to_owned(),
            min_severity: parse(get(ENV_MIN_SEVERITY), ENV_MIN_SEVERITY, Severity::Low)?,
            max_decompressed_bytes: parse(
                get(ENV_MAX_DECOMPRESSED_BYTES),
                ENV_MAX_DECOMPRESSED_BYTES,
                DEFAULT_MAX_DECOMPRESSED_BYTES,
            )?,
            quarantine_bucket: get(ENV_QUARANTINE_BUCKET).map(str::to_owned),
            republish_queue_url: get(ENV_REPUBLISH_QUEUE_URL).map(str::to_owned),
            tuning_uri: get(ENV_TUNING_URI).map(str::to_owned),
            sigma_rules_uri: get(ENV_SIGMA_RULES_URI).map(str::to_owned),
            chat_topic_arn: match get(ENV_CHAT_TOPIC_ARN) {
                Some(t) if !t.starts_with("arn:") || !t.contains(":sns:") => {
                    return Err(ConfigError {
                        name: ENV_CHAT_TOPIC_ARN,
                        reason: format!("{t:?} is not an SNS topic ARN"),
                    })
                }
                t => t.map(str::to_owned),
            },
            security_hub: match get(ENV_SECURITY_HUB_PRODUCT_ARN) {
                None => None,
                Some(arn) => Some(crate::publish::asff::Product::from_arn(arn).ok_or(
                    ConfigError {
                        name: ENV_SECURITY_HUB_PRODUCT_ARN,
                        reason: format!("{arn:?} is not a Security Hub product ARN"),
                    },
                )?),
            },
            findings_table: get(ENV_FINDINGS_TABLE).map(str::to_owned),
            findings_retention_days: days(
                get(ENV_FINDINGS_RETENTION_DAYS),
                ENV_FINDINGS_RETENTION_DAYS,
                90,
            )? / 86_400,
            quarantine_prefix: get(ENV_QUARANTINE_PREFIX)
                .unwrap_or("quarantine/")
                .to_owned(),
            max_evidence: parse(get(ENV_MAX_EVIDENCE), ENV_MAX_EVIDENCE, 5)?,
            state_table: get(ENV_STATE_TABLE)
                .ok_or(ConfigError {
                    name: ENV_STATE_TABLE,
                    reason: "required: the DynamoDB table of the detection state".into(),
                })?
                .to_owned(),
            state: crate::engine::evaluate::StateConfig {
                retention_secs: days(get(ENV_STATE_RETENTION_DAYS), ENV_STATE_RETENTION_DAYS, 2)?,
                series_retention_secs: days(
                    get(ENV_BASELINE_RETENTION_DAYS),
                    ENV_BASELINE_RETENTION_DAYS,
                    30,
                )?,
                ..Default::default()
            },
            rule_overrides: match get(ENV_RULE_SETTINGS) {
                None => Default::default(),
                Some(v) => serde_json::from_str(v).map_err(|e| ConfigError {
                    name: ENV_RULE_SETTINGS,
                    reason: format!("not a JSON object of rule changes: {e}"),
                })?,
            },
            known_accounts: {
                let accounts = list(get(ENV_KNOWN_ACCOUNTS));
                if let Some(bad) = accounts
                    .iter()
                    .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(ConfigError {
                        name: ENV_KNOWN_ACCOUNTS,
                        reason: format!("{bad:?} is not a twelve-digit account id"),
                    });
                }
                accounts
            },
            geoip_city: get(ENV_GEOIP_CITY_DB).map(str::to_owned),
            geoip_asn: get(ENV_GEOIP_ASN_DB).map(str::to_owned),
            geo: crate::geo::GeoSettings {
                deny: countries(get(ENV_RISKY_COUNTRIES), ENV_RISKY_COUNTRIES)?,
                allow: countries(get(ENV_ALLOWED_COUNTRIES), ENV_ALLOWED_COUNTRIES)?,
                max_speed_kmh: parse(
                    get(ENV_IMPOSSIBLE_TRAVEL_KMH),
                    ENV_IMPOSSIBLE_TRAVEL_KMH,
                    900.0,
                )?,
                min_distance_km: parse(
                    get(ENV_IMPOSSIBLE_TRAVEL_MIN_KM),
                    ENV_IMPOSSIBLE_TRAVEL_MIN_KM,
                    100.0,
                )?,
                history_days: days(get(ENV_GEO_HISTORY_DAYS), ENV_GEO_HISTORY_DAYS, 90)? / 86_400,
                ..crate::geo::GeoSettings::default()
            },
            layouts: {
                let mut layouts =
                    crate::sources::KeyLayouts::parse(get(ENV_SOURCE_PREFIXES).unwrap_or(""))
                        .map_err(|reason| ConfigError {
                            name: ENV_SOURCE_PREFIXES,
                            reason,
                        })?;
                for (name, source) in LEGACY_SOURCE_PREFIXES {
                    layouts
                        .prefixes
                        .extend(list(get(name)).into_iter().map(|p| (p, source)));
                }
                layouts
            },
        })
    }
}

/// Configuration of `risk-report`.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskReportConfig {
    /// The findings store's table.
    pub findings_table: String,
    /// Where the reports go.
    pub report_bucket: String,
    /// Their key prefix.
    pub report_prefix: String,
    /// Where the digests go.
    pub findings_topic_arn: String,
    /// When findings resolve.
    pub resolution: crate::store::Resolution,
    /// One digest per account too.
    pub digest_per_account: bool,
}

impl RiskReportConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<RiskReportConfig, ConfigError> {
        Self::from_map(&std::env::vars().collect())
    }

    /// Reads a map of variables.
    pub fn from_map(env: &HashMap<String, String>) -> Result<RiskReportConfig, ConfigError> {
        let get = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let required = |name: &'static str, what: &str| {
            get(name).map(str::to_owned).ok_or(ConfigError {
                name,
                reason: format!("required: {what}"),
            })
        };
        let topic = required(ENV_FINDINGS_TOPIC_ARN, "the ARN of the findings topic")?;
        if !topic.starts_with("arn:") || !topic.contains(":sns:") {
            return Err(ConfigError {
                name: ENV_FINDINGS_TOPIC_ARN,
                reason: format!("{topic:?} is not an SNS topic ARN"),
            });
        }
        Ok(RiskReportConfig {
            findings_table: required(ENV_FINDINGS_TABLE, "the findings store's table")?,
            report_bucket: required(ENV_REPORT_BUCKET, "the bucket of the reports")?,
            report_prefix: get(ENV_REPORT_PREFIX).unwrap_or("reports/").to_owned(),
            findings_topic_arn: topic,
            resolution: crate::store::Resolution {
                after_days: days(get(ENV_RESOLVE_AFTER_DAYS), ENV_RESOLVE_AFTER_DAYS, 7)? / 86_400,
            },
            digest_per_account: match get(ENV_DIGEST_PER_ACCOUNT) {
                None => false,
                Some(v) if v.eq_ignore_ascii_case("true") => true,
                Some(v) if v.eq_ignore_ascii_case("false") => false,
                Some(v) => {
                    return Err(ConfigError {
                        name: ENV_DIGEST_PER_ACCOUNT,
                        reason: format!("{v:?}: expected true or false"),
                    })
                }
            },
        })
    }
}

/// A list of ISO 3166-1 alpha-2 codes, uppercased.
fn countries(value: Option<&str>, name: &'static str) -> Result<Vec<String>, ConfigError> {
    let codes = list(value);
    match codes
        .iter()
        .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        Some(bad) => Err(ConfigError {
            name,
            reason: format!("{bad:?} is not a two-letter country code"),
        }),
        None => Ok(codes.iter().map(|c| c.to_ascii_uppercase()).collect()),
    }
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn days(value: Option<&str>, name: &'static str, default: u32) -> Result<i64, ConfigError> {
    let d: u32 = parse(value, name, default)?;
    if d == 0 || d > 3650 {
        return Err(ConfigError {
            name,
            reason: format!("{d} days: expected 1 to 3650"),
        });
    }
    Ok(i64::from(d) * 24 * 3600)
}

fn parse<T: FromStr>(value: Option<&str>, name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match value {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e| ConfigError {
            name,
            reason: format!("{v:?}: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_required() {
        let c = LogIngestConfig::from_map(&env(&[
            (
                ENV_FINDINGS_TOPIC_ARN,
                "arn:aws:sns:us-east-1:111122223333:findings",
            ),
            (ENV_STATE_TABLE, "state"),
        ]))
        .unwrap();
        assert_eq!(c.state.retention_secs, 2 * 86400);
        assert_eq!(c.min_severity, Severity::Low);
        assert_eq!(c.max_evidence, 5);
        assert!(c.layouts.prefixes.is_empty());
        let c = LogIngestConfig::from_map(&env(&[
            (
                ENV_FINDINGS_TOPIC_ARN,
                "arn:aws:sns:us-east-1:111122223333:findings",
            ),
            (ENV_STATE_TABLE, "state"),
            (ENV_SOURCE_PREFIXES, "waf=waf/, cloudtrail=org/"),
            ("WAF_PREFIXES", "edge/ ,"),
        ]))
        .unwrap();
        use crate::sources::LogSource;
        assert_eq!(
            c.layouts.prefixes,
            vec![
                ("waf/".to_owned(), LogSource::Waf),
                ("org/".to_owned(), LogSource::CloudTrail),
                ("edge/".to_owned(), LogSource::Waf)
            ],
            "SOURCE_PREFIXES first, then the old per-source variables"
        );
        let bad = LogIngestConfig::from_map(&env(&[
            (
                ENV_FINDINGS_TOPIC_ARN,
                "arn:aws:sns:us-east-1:111122223333:findings",
            ),
            (ENV_STATE_TABLE, "state"),
            (ENV_SOURCE_PREFIXES, "wafs=x/"),
        ]))
        .unwrap_err();
        assert_eq!(bad.name, ENV_SOURCE_PREFIXES);
        let with = |v: &str| {
            LogIngestConfig::from_map(&env(&[
                (
                    ENV_FINDINGS_TOPIC_ARN,
                    "arn:aws:sns:us-east-1:111122223333:findings",
                ),
                (ENV_STATE_TABLE, "state"),
                (ENV_RULE_SETTINGS, v),
            ]))
        };
        let geo = LogIngestConfig::from_map(&env(&[
            (
                ENV_FINDINGS_TOPIC_ARN,
                "arn:aws:sns:us-east-1:111122223333:findings",
            ),
            (ENV_STATE_TABLE, "state"),
            (ENV_RISKY_COUNTRIES, "kp, ir"),
            (ENV_IMPOSSIBLE_TRAVEL_KMH, "1000"),
        ]))
        .unwrap();
        assert_eq!(geo.geo.deny, vec!["KP".to_owned(), "IR".to_owned()]);
        assert_eq!(geo.geo.max_speed_kmh, 1000.0);
        assert_eq!(geo.geo.history_days, 90);
        let e = LogIngestConfig::from_map(&env(&[
            (
                ENV_FINDINGS_TOPIC_ARN,
                "arn:aws:sns:us-east-1:111122223333:findings",
            ),
            (ENV_STATE_TABLE, "state"),
            (ENV_ALLOWED_COUNTRIES, "GB,Britain"),
        ]))
        .unwrap_err();
        assert_eq!(e.name, ENV_ALLOWED_COUNTRIES);
        let c = with(r#"{"web.blocked-burst": {"min_count": 300}}"#).unwrap();
        assert!(c.catalogue().is_ok());
        assert_eq!(with("{not json").unwrap_err().name, ENV_RULE_SETTINGS);
        let c = with(r#"{"web.nope": {"min_count": 3}}"#).unwrap();
        assert_eq!(c.catalogue().unwrap_err().name, ENV_RULE_SETTINGS);
        let e = LogIngestConfig::from_map(&env(&[])).unwrap_err();
        assert_eq!(e.name, ENV_FINDINGS_TOPIC_ARN);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = LogIngestConfig::from_map(&env(&[
            (
                ENV_FINDINGS_TOPIC_ARN,
                "arn:aws:sns:us-east-1:111122223333:findings",
            ),
            (ENV_MIN_SEVERITY, "urgent"),
        ]))
        .unwrap_err();
        assert_eq!(e.name, ENV_MIN_SEVERITY);
        let e =
            LogIngestConfig::from_map(&env(&[(ENV_FINDINGS_TOPIC_ARN, "findings")])).unwrap_err();
        assert!(e.reason.contains("not an SNS topic ARN"));
    }
}
