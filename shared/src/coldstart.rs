//! What both functions build once per cold start from their configuration: the catalogue with
//! the configured rule changes, the GeoIP databases, the SDK clients and the engine over
//! DynamoDB, the S3 quarantine and the SNS topic. A problem fails the cold start with a message
//! that names what is wrong.

use std::sync::Arc;

use crate::config::{ConfigError, LogIngestConfig};
use crate::engine::ports::S3Quarantine;
use crate::engine::{Engine, EngineConfig};
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::publish::retry::RepublishQueue;
use crate::publish::sns::SnsSink;
use crate::publish::Sinks;
use crate::state::dynamodb::DynamoStore;

/// The engine as deployed.
pub type DeployedEngine = Engine<DynamoStore, Option<S3Quarantine>>;

/// The cold start failed: the function cannot run with this configuration.
#[derive(Debug, thiserror::Error)]
pub enum ColdStartError {
    /// A variable is missing or wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A GeoIP database could not be read.
    #[error("GeoIP databases: {0}")]
    GeoIp(String),
    /// The Sigma rules' location could not be read (a rule that is wrong is left out, not
    /// this).
    #[error("sigma rules {location}: {reason}")]
    Sigma {
        /// `SIGMA_RULES_URI`.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// The tuning file could not be read, or is wrong.
    #[error("tuning file {location}: {reason}")]
    Tuning {
        /// `TUNING_URI`.
        location: String,
        /// What is wrong, naming the entry.
        reason: String,
    },
}

/// The bytes at `location`: an S3 object (`s3://bucket/key`), else a file (a layer's).
pub async fn read_location(s3: &aws_sdk_s3::Client, location: &str) -> Result<Vec<u8>, String> {
    match location
        .strip_prefix("s3://")
        .and_then(|r| r.split_once('/'))
    {
        Some((bucket, key)) => {
            let obj = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| format!("{location}: {}", crate::error::chain(&e)))?;
            let data = obj
                .body
                .collect()
                .await
                .map_err(|e| format!("{location}: {e}"))?;
            Ok(data.into_bytes().to_vec())
        }
        None => std::fs::read(location).map_err(|e| format!("{location}: {e}")),
    }
}

/// The findings topic, and the chat topic and Security Hub when configured.
fn sinks(aws: &aws_config::SdkConfig, config: &LogIngestConfig) -> Sinks {
    let sns = aws_sdk_sns::Client::new(aws);
    let mut sinks = Sinks::one(SnsSink::new(sns.clone(), &config.findings_topic_arn));
    if let Some(chat) = &config.chat_topic_arn {
        sinks = sinks.with(SnsSink::chat(sns, chat));
    }
    if let Some(product) = &config.security_hub {
        sinks = sinks.with(crate::publish::securityhub::SecurityHubSink::new(
            aws_sdk_securityhub::Client::new(aws),
            product.clone(),
        ));
    }
    sinks
}

/// Reads and compiles the Sigma rules at `location`: the `.yml`/`.yaml` objects under an S3
/// prefix (`s3://bucket/prefix/`; only that prefix is listed), or the files of a folder. Each
/// rule that cannot be used is logged with its reason and left out.
pub async fn load_sigma(
    s3: &aws_sdk_s3::Client,
    location: &str,
) -> Result<crate::sigma::SigmaSet, ColdStartError> {
    let failed = |reason: String| ColdStartError::Sigma {
        location: location.to_owned(),
        reason,
    };
    let set = match crate::engine::listing::parse_s3_uri(location) {
        Some((bucket, prefix)) => {
            let objects = crate::engine::listing::list_objects(
                s3,
                &bucket,
                &prefix,
                crate::engine::listing::DayRange::default(),
            )
            .await
            .map_err(|e| failed(e.to_string()))?;
            let mut docs = Vec::new();
            for o in objects
                .iter()
                .filter(|o| o.key.ends_with(".yml") || o.key.ends_with(".yaml"))
            {
                let uri = format!("s3://{bucket}/{}", o.key);
                let bytes = read_location(s3, &uri).await.map_err(failed)?;
                docs.push((uri, String::from_utf8_lossy(&bytes).into_owned()));
            }
            crate::sigma::SigmaSet::load(docs)
        }
        None => crate::sigma::SigmaSet::load_dir(std::path::Path::new(location))
            .map_err(|e| failed(e.to_string()))?,
    };
    for r in set.rejected() {
        tracing::warn!(file = %r.file, title = ?r.title, reason = %r.reason, "sigma rule left out");
    }
    tracing::info!(
        location,
        detections = set.detections().len(),
        correlations = set.correlations().len(),
        filters = set.filters().len(),
        rejected = set.rejected().len(),
        "sigma rules loaded"
    );
    Ok(set)
}

/// Reads and compiles the tuning file at `location`, and says which exceptions expired.
pub async fn load_tuning(
    s3: &aws_sdk_s3::Client,
    location: &str,
) -> Result<crate::tuning::Tuning, ColdStartError> {
    let failed = |reason: String| ColdStartError::Tuning {
        location: location.to_owned(),
        reason,
    };
    let bytes = read_location(s3, location).await.map_err(failed)?;
    let text = String::from_utf8(bytes).map_err(|e| failed(format!("not UTF-8: {e}")))?;
    let tuning = crate::tuning::Tuning::parse(&text).map_err(|e| failed(e.to_string()))?;
    for e in tuning.expired(crate::tuning::now()) {
        tracing::warn!(
            exception = %e.label(), expires = %e.entry.expires, reason = %e.entry.reason,
            "tuning exception expired: it no longer applies"
        );
    }
    Ok(tuning)
}

/// Reads the function's configuration from the environment and the SDK's from its chain, and
/// builds with `make` what the function needs. A failure is logged as one line, as every other
/// log line (JSON under Lambda), naming what is wrong, before it ends the cold start.
pub async fn from_env<T, F, Fut>(make: F) -> Result<T, ColdStartError>
where
    F: FnOnce(aws_config::SdkConfig, LogIngestConfig) -> Fut,
    Fut: std::future::Future<Output = Result<T, ColdStartError>>,
{
    start(LogIngestConfig::from_env, make).await
}

/// [`from_env`] for a function of another configuration, which `read` reads.
pub async fn start<C, T, F, Fut>(
    read: impl FnOnce() -> Result<C, ConfigError>,
    make: F,
) -> Result<T, ColdStartError>
where
    F: FnOnce(aws_config::SdkConfig, C) -> Fut,
    Fut: std::future::Future<Output = Result<T, ColdStartError>>,
{
    let result = async {
        let config = read()?;
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        make(aws, config).await
    }
    .await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "cold start failed");
        if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
            report_init_error(&api, e).await;
        }
    }
    result
}

impl ColdStartError {
    /// The `errorType` Lambda shows for it.
    pub fn error_type(&self) -> &'static str {
        match self {
            ColdStartError::Config(_) => "ConfigError",
            ColdStartError::GeoIp(_) => "GeoIpError",
            ColdStartError::Tuning { .. } => "TuningError",
            ColdStartError::Sigma { .. } => "SigmaRulesError",
        }
    }
}

/// Tells Lambda why the cold start failed, through the Runtime API's `/init/error` (with the
/// runtime crate's own client: the crate reports there only for SnapStart hooks), so that the
/// invocation fails with `Runtime.InitError` and this message rather than an exit code. A
/// failure to report is logged; the process then exits with the error anyway.
pub async fn report_init_error(api: &str, e: &ColdStartError) {
    let diagnostic = lambda_runtime::Diagnostic {
        error_type: e.error_type().to_owned(),
        error_message: e.to_string(),
    };
    let sent = async {
        let endpoint: http::Uri = format!("http://{api}").parse()?;
        let client = lambda_runtime_api_client::PooledClient::builder()
            .with_endpoint(endpoint)
            .build();
        let request = lambda_runtime_api_client::build_request()
            .method(http::Method::POST)
            .uri("/2018-06-01/runtime/init/error")
            .header("lambda-runtime-function-error-type", "Runtime.InitError")
            .body(lambda_runtime_api_client::body::Body::from(
                serde_json::to_vec(&diagnostic)?,
            ))?;
        let response = client.call(request).await?;
        if !response.status().is_success() {
            return Err(format!("the Runtime API answered {}", response.status()).into());
        }
        Ok::<(), lambda_runtime_api_client::BoxError>(())
    }
    .await;
    if let Err(report) = sent {
        tracing::error!(error = %report, "could not report the cold-start failure to /init/error");
    }
}

/// The engine and the S3 client of a function.
pub async fn build(
    aws: &aws_config::SdkConfig,
    config: &LogIngestConfig,
) -> Result<(DeployedEngine, aws_sdk_s3::Client), ColdStartError> {
    let s3 = aws_sdk_s3::Client::new(aws);
    let sigma = match &config.sigma_rules_uri {
        Some(location) => load_sigma(&s3, location).await?,
        None => crate::sigma::SigmaSet::default(),
    };
    let catalogue = config.catalogue_with(sigma)?;
    let mut pipeline = Pipeline::new(
        catalogue,
        PipelineConfig {
            max_decompressed_bytes: config.max_decompressed_bytes,
            max_evidence: config.max_evidence,
            ..PipelineConfig::default()
        },
    );
    if let Some(geo) = crate::geo::load(
        &s3,
        config.geoip_city.as_deref(),
        config.geoip_asn.as_deref(),
    )
    .await
    .map_err(ColdStartError::GeoIp)?
    {
        pipeline = pipeline.with_geo(Arc::new(geo));
    }
    if let Some(location) = &config.tuning_uri {
        let tuning = load_tuning(&s3, location).await?;
        pipeline = pipeline
            .with_tuning(tuning)
            .map_err(|e| ColdStartError::Tuning {
                location: location.clone(),
                reason: e.to_string(),
            })?;
    }
    let quarantine = config
        .quarantine_bucket
        .as_deref()
        .map(|bucket| S3Quarantine::new(s3.clone(), bucket, &config.quarantine_prefix));
    let mut engine = Engine::new(
        Arc::new(pipeline),
        DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), &config.state_table),
        quarantine,
        sinks(aws, config),
        EngineConfig {
            state: config.state,
            min_severity: config.min_severity,
            layouts: config.layouts.clone(),
        },
    );
    if let Some(table) = &config.findings_table {
        engine = engine.with_findings_store(Arc::new(crate::store::dynamodb::DynamoFindings::new(
            aws_sdk_dynamodb::Client::new(aws),
            table,
            config.findings_retention_days,
        )));
    }
    if let Some(url) = &config.republish_queue_url {
        engine = engine.with_republish(RepublishQueue::Sqs {
            client: aws_sdk_sqs::Client::new(aws),
            url: url.clone(),
        });
    }
    Ok((engine, s3))
}
