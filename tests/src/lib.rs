//! Harness for the integration tests: AWS clients pointed at the local emulator, and a fresh,
//! uniquely named bucket, topic and queues per test so tests run in parallel on one emulator.
//!
//! The emulator's address comes from `AWS_ENDPOINT_URL`, as it would for any SDK user. Without
//! it the tests say so and skip, except under CI, where they fail.

pub mod browser;
pub mod faults;
pub mod requests;
pub mod runtime_api;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use aws_sdk_sqs::types::QueueAttributeName;
use cloudsec::config::LogIngestConfig;
use cloudsec::detect::{Catalogue, Severity};
use cloudsec::engine::evaluate::StateConfig;
use cloudsec::engine::ports::{FixedClock, MemoryQuarantine, S3Quarantine};
use cloudsec::engine::{Delivered, Engine, EngineConfig, InputId};
use cloudsec::finding_ingest::FindingIngest;
use cloudsec::ingest::LogIngest;
use cloudsec::pipeline::{Pipeline, PipelineConfig};
use cloudsec::publish::Sinks;
use cloudsec::state::dynamodb::DynamoStore;
use serde_json::Value;

/// The project root (the workspace).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `../shared` beside the project: the corpora and references.
pub fn shared_dir() -> PathBuf {
    root()
        .parent()
        .map(|p| p.join("shared"))
        .unwrap_or_default()
}

/// The emulator's endpoint, or `None` (with a notice) when the tests should skip.
pub fn endpoint() -> Option<String> {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var_os("CI").is_some() => {
            panic!("AWS_ENDPOINT_URL is not set under CI: run the tests with scripts/test")
        }
        _ => {
            eprintln!("skipped: AWS_ENDPOINT_URL is not set (scripts/test starts the emulator and sets it)");
            None
        }
    }
}

/// What moto recorded of the messages published to `topic`, as a `protocol` subscription
/// receives them (`scripts/moto_atomic.py`).
pub async fn sent_as(topic: &str, protocol: &str) -> Vec<(String, String)> {
    let url = format!(
        "{}/_cloudsec/sns/sent?topic={topic}&protocol={protocol}",
        endpoint().expect("emulator")
    );
    let text = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut s = std::net::TcpStream::connect(host).expect("connect");
        write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("request");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("response");
        out
    })
    .await
    .expect("request");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("[]");
    let docs: Vec<Value> = serde_json::from_str(body).expect("json");
    docs.iter()
        .map(|d| {
            (
                d["subject"].as_str().unwrap_or("").to_owned(),
                d["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Every emulator the tests may spread work over: the one of `AWS_ENDPOINT_URL`, and the
/// second one `scripts/test` starts (`CLOUDSEC_SECOND_ENDPOINT`), when there is one.
pub fn endpoints() -> Vec<String> {
    endpoint()
        .into_iter()
        .chain(
            std::env::var("CLOUDSEC_SECOND_ENDPOINT")
                .ok()
                .filter(|e| !e.is_empty()),
        )
        .collect()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test of this run or of an earlier run uses.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000)
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{t}", std::process::id())
}

/// Clients and resources of one test.
pub struct Env {
    /// The SDK's configuration, from the environment.
    pub aws: aws_config::SdkConfig,
    /// S3.
    pub s3: aws_sdk_s3::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The state table.
    pub table: String,
    /// The log bucket.
    pub bucket: String,
    /// The quarantine bucket.
    pub quarantine_bucket: String,
    /// The findings topic.
    pub topic_arn: String,
    /// A queue subscribed to every finding, raw delivery.
    pub all_queue: String,
}

impl Env {
    /// Creates a bucket, a quarantine bucket, a findings topic and a queue subscribed to it.
    pub async fn new() -> Option<Env> {
        endpoint()?;
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Some(Env::with_aws(aws).await)
    }

    /// [`Env::new`], every client built from its config (the handlers' too) counting the
    /// requests it sends; the counts start after the test's resources are created.
    pub async fn counting() -> Option<(Env, requests::Requests)> {
        endpoint()?;
        let requests = requests::Requests::default();
        let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(requests.http_client())
            .load()
            .await;
        let env = Env::with_aws(aws).await;
        requests.take();
        Some((env, requests))
    }

    async fn with_aws(aws: aws_config::SdkConfig) -> Env {
        let s3 = aws_sdk_s3::Client::new(&aws);
        let sns = aws_sdk_sns::Client::new(&aws);
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
        let table = unique("state");
        create_state_table(&dynamodb, &table).await;
        let bucket = unique("logs");
        let quarantine_bucket = unique("quarantine");
        for b in [&bucket, &quarantine_bucket] {
            s3.create_bucket()
                .bucket(b)
                .send()
                .await
                .expect("create bucket");
        }
        let topic_arn = sns
            .create_topic()
            .name(unique("findings"))
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic arn");
        let mut env = Env {
            aws,
            s3,
            sns,
            sqs,
            dynamodb,
            table,
            bucket,
            quarantine_bucket,
            topic_arn,
            all_queue: String::new(),
        };
        env.all_queue = env.subscribe_queue(None).await;
        env
    }

    /// A queue subscribed to the topic with raw delivery, and a filter policy when given.
    pub async fn subscribe_queue(&self, filter_policy: Option<&str>) -> String {
        self.queue_on(&self.topic_arn, filter_policy).await
    }

    /// A new queue (a name starting with `prefix`): its URL.
    pub async fn queue(&self, prefix: &str) -> String {
        self.sqs
            .create_queue()
            .queue_name(unique(prefix))
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url")
    }

    /// A new queue subscribed to `topic` with raw delivery, and a filter policy when given.
    pub async fn queue_on(&self, topic: &str, filter_policy: Option<&str>) -> String {
        let url = self.queue("sub").await;
        let arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("queue arn");
        let mut sub = self
            .sns
            .subscribe()
            .topic_arn(topic)
            .protocol("sqs")
            .endpoint(arn)
            .attributes("RawMessageDelivery", "true");
        if let Some(p) = filter_policy {
            sub = sub.attributes("FilterPolicy", p);
        }
        sub.send().await.expect("subscribe");
        url
    }

    /// The variables the template gives both functions, for this test's topic, table and
    /// quarantine bucket, every severity published.
    pub fn function_env(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("FINDINGS_TOPIC_ARN", self.topic_arn.as_str()),
            ("STATE_TABLE_NAME", self.table.as_str()),
            ("QUARANTINE_BUCKET", self.quarantine_bucket.as_str()),
            ("MIN_PUBLISH_SEVERITY", "info"),
        ]
    }

    /// This test's configuration: its topic, table and quarantine bucket.
    pub fn config(&self, min_severity: Severity) -> LogIngestConfig {
        LogIngestConfig {
            findings_topic_arn: self.topic_arn.clone(),
            min_severity,
            max_decompressed_bytes: 64 << 20,
            quarantine_bucket: Some(self.quarantine_bucket.clone()),
            republish_queue_url: None,
            tuning_uri: None,
            sigma_rules_uri: None,
            chat_topic_arn: None,
            security_hub: None,
            findings_table: None,
            findings_retention_days: 90,
            quarantine_prefix: "quarantine/".into(),
            max_evidence: 5,
            state_table: self.table.clone(),
            state: StateConfig::default(),
            layouts: Default::default(),
            rule_overrides: Default::default(),
            known_accounts: Vec::new(),
            geoip_city: None,
            geoip_asn: None,
            geo: Default::default(),
        }
    }

    /// The `log-ingest` handler as the function's cold start builds it
    /// ([`cloudsec::coldstart::build`]), publishing to this test's topic.
    pub async fn handler(
        &self,
        min_severity: Severity,
    ) -> LogIngest<DynamoStore, Option<S3Quarantine>> {
        LogIngest::from_config(&self.aws, &self.config(min_severity))
            .await
            .expect("cold start")
    }

    /// The `log-ingest` handler keeping its findings in the findings store `table`
    /// (`FINDINGS_TABLE_NAME`), every severity published.
    pub async fn handler_keeping(
        &self,
        table: &str,
    ) -> LogIngest<DynamoStore, Option<S3Quarantine>> {
        self.handler_keeping_from(table, Severity::Info).await
    }

    /// The same, publishing from `min_severity` (`MIN_PUBLISH_SEVERITY`).
    pub async fn handler_keeping_from(
        &self,
        table: &str,
        min_severity: Severity,
    ) -> LogIngest<DynamoStore, Option<S3Quarantine>> {
        let mut config = self.config(min_severity);
        config.findings_table = Some(table.to_owned());
        LogIngest::from_config(&self.aws, &config)
            .await
            .expect("cold start")
    }

    /// The `finding-ingest` handler as the function's cold start builds it.
    pub async fn finding_handler(
        &self,
        min_severity: Severity,
    ) -> FindingIngest<DynamoStore, Option<S3Quarantine>> {
        FindingIngest::from_config(&self.aws, &self.config(min_severity))
            .await
            .expect("cold start")
    }

    /// The handler as the function's `main` builds it from its environment: this test's
    /// topic, table and quarantine bucket, plus `extra` variables (GeoIP databases, country
    /// lists, rule settings).
    pub async fn handler_from_env(
        &self,
        extra: &[(&str, &str)],
    ) -> Result<LogIngest<DynamoStore, Option<S3Quarantine>>, String> {
        use cloudsec::config as c;
        let mut env: HashMap<String, String> = [
            (c::ENV_FINDINGS_TOPIC_ARN, self.topic_arn.as_str()),
            (c::ENV_STATE_TABLE, self.table.as_str()),
            (c::ENV_QUARANTINE_BUCKET, self.quarantine_bucket.as_str()),
            (c::ENV_MIN_SEVERITY, "info"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = LogIngestConfig::from_map(&env).map_err(|e| e.to_string())?;
        LogIngest::from_config(&self.aws, &config)
            .await
            .map_err(|e| e.to_string())
    }

    /// The state store over this test's table.
    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.dynamodb.clone(), &self.table)
    }

    /// Uploads `body` to the log bucket.
    pub async fn put(&self, key: &str, body: Vec<u8>) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .expect("put object");
    }

    /// An event file of `events/`, aimed at this test's bucket (and `key`, when given).
    pub fn event(&self, name: &str, key: Option<&str>) -> Value {
        let text = std::fs::read_to_string(root().join("events").join(name)).expect("event file");
        let mut text = text.replace(EXAMPLE_BUCKET, &self.bucket);
        if let Some(k) = key {
            // Classic notifications encode the key; EventBridge events carry it as it is.
            let k = if name.starts_with("eventbridge-") {
                serde_json::to_string(k)
                    .expect("key")
                    .trim_matches('"')
                    .to_owned()
            } else {
                encode_key(k)
            };
            text = text.replace(EXAMPLE_KEY, &k);
        }
        serde_json::from_str(&text).expect("event json")
    }

    /// Every message of `queue` until it stays empty, deleted as read: (body, attributes).
    pub async fn drain(&self, queue: &str) -> Vec<(Value, HashMap<String, String>)> {
        self.drain_messages(queue)
            .await
            .into_iter()
            .map(|m| {
                let body: Value =
                    serde_json::from_str(m.body().unwrap_or("")).expect("finding json");
                let attrs = m
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.string_value.unwrap_or_default()))
                    .collect();
                (body, attrs)
            })
            .collect()
    }

    /// Every message of `queue` until it stays empty, deleted as read, as SQS gave them.
    pub async fn drain_messages(&self, queue: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let mut out = Vec::new();
        let mut empty_polls = 0;
        while empty_polls < 2 {
            let r = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .wait_time_seconds(0)
                .send()
                .await
                .expect("receive");
            let msgs = r.messages.unwrap_or_default();
            if msgs.is_empty() {
                empty_polls += 1;
                continue;
            }
            for m in msgs {
                if let Some(h) = &m.receipt_handle {
                    self.sqs
                        .delete_message()
                        .queue_url(queue)
                        .receipt_handle(h)
                        .send()
                        .await
                        .expect("delete");
                }
                out.push(m);
            }
        }
        out
    }
}

/// The bucket named in `events/`.
pub const EXAMPLE_BUCKET: &str = "cloudsec-example-logs";
/// The key named in `events/`.
pub const EXAMPLE_KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/111122223333_CloudTrail_us-east-1_20261101T1030Z_Sample0001.json.gz";

/// Encodes a key as S3 notifications do: form encoding, `+` for space, `/` kept.
pub fn encode_key(key: &str) -> String {
    cloudsec::envelope::encode_key(key)
}

/// Every file of `samples/` (the logs of each source and the findings files), sorted.
pub fn sample_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("samples")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("samples/") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The sample log objects (CloudTrail, WAF, Network Firewall) with the keys AWS writes them
/// at: (key, file), sorted by key.
pub fn sample_log_objects() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = sample_files()
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(root().join("samples")).ok()?;
            let mut parts = rel.components();
            parts.next(); // the source's folder: the rest is AWS's key
            let key = parts.as_path().to_string_lossy().into_owned();
            key.starts_with("AWSLogs/").then_some((key, p))
        })
        .collect();
    out.sort();
    out
}

/// The sample CloudTrail object of `samples/`.
pub fn sample_object() -> Vec<u8> {
    std::fs::read(root().join("samples/cloudtrail").join(EXAMPLE_KEY)).expect("sample object")
}

/// Gzips `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

/// Creates the state table as the SAM template does: `pk` (S) and `sk` (N), on-demand, TTL on
/// `expires_at`.
pub async fn create_state_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TimeToLiveSpecification,
    };
    let attr = |name: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(t)
            .build()
            .expect("attribute")
    };
    let key = |name: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
            .expect("key")
    };
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()
                .expect("ttl"),
        )
        .send()
        .await
        .expect("ttl");
}

/// Creates the findings store's table `table` as the template declares `FindingsTable`: its
/// keys, its entity index and its TTL, read from template.yaml.
pub async fn create_findings_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
    };
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let t: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("template.yaml is YAML");
    let p = &t["Resources"]["FindingsTable"]["Properties"];
    let text_of = |v: &serde_yaml_ng::Value| v.as_str().expect("a string").to_owned();
    let keys = |schema: &serde_yaml_ng::Value| -> Vec<KeySchemaElement> {
        schema
            .as_sequence()
            .expect("KeySchema")
            .iter()
            .map(|k| {
                KeySchemaElement::builder()
                    .attribute_name(text_of(&k["AttributeName"]))
                    .key_type(KeyType::from(text_of(&k["KeyType"]).as_str()))
                    .build()
                    .expect("key")
            })
            .collect()
    };
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(keys(&p["KeySchema"])));
    for a in p["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
    {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text_of(&a["AttributeName"]))
                .attribute_type(ScalarAttributeType::from(
                    text_of(&a["AttributeType"]).as_str(),
                ))
                .build()
                .expect("attribute"),
        );
    }
    for g in p["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("an entity index")
    {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text_of(&g["IndexName"]))
                .set_key_schema(Some(keys(&g["KeySchema"])))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            text_of(&g["Projection"]["ProjectionType"]).as_str(),
                        ))
                        .build(),
                )
                .build()
                .expect("index"),
        );
    }
    create.send().await.expect("create findings table");
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(text_of(&p["TimeToLiveSpecification"]["AttributeName"]))
                .build()
                .expect("ttl"),
        )
        .send()
        .await
        .expect("ttl");
}

/// The findings `object` publishes through the engine over the in-memory adapters, as the CLI
/// makes them: what the Lambda must match.
pub async fn local_findings(object: &[u8]) -> Vec<cloudsec::finding::Finding> {
    let sink = Arc::new(cloudsec::publish::memory::MemorySink::default());
    let engine = memory_engine(
        cloudsec::state::memory::MemoryStore::new(),
        Sinks::one(Arc::clone(&sink)),
    );
    engine
        .process_bytes(
            &InputId::named("local"),
            object.to_vec(),
            Some(cloudsec::sources::LogSource::CloudTrail),
        )
        .await
        .expect("deliver");
    sink.findings()
}

/// The engine the functions run, over `store` and `sinks`, with an in-memory quarantine and a
/// clock standing at 0: the built-in catalogue, every severity published.
pub fn memory_engine<S: cloudsec::state::StateStore>(
    store: S,
    sinks: Sinks,
) -> Engine<S, Arc<MemoryQuarantine>> {
    Engine::new(
        Arc::new(Pipeline::new(
            Catalogue::builtin(),
            PipelineConfig::default(),
        )),
        store,
        Arc::new(MemoryQuarantine::default()),
        sinks,
        EngineConfig::default(),
    )
    .with_clock(Arc::new(FixedClock::at(0)))
}

/// The day `days` from today, `YYYY-MM-DD` (UTC): tuning files' expiries.
pub fn date_in_days(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// A trail stopped by an IAM user named `name` (a name a test makes hostile).
pub fn trail_stopped_by(name: &str) -> Value {
    serde_json::json!({"eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9", "recipientAccountId": "111122223333",
        "requestParameters": {"name": "main"},
        "userIdentity": {"type": "IAMUser", "userName": name, "accountId": "111122223333",
            "arn": format!("arn:aws:iam::111122223333:user/{name}")}})
}

/// A CloudTrail record: `name` on `source` at `time` by `identity`, with `extra` fields.
pub fn ct(time: &str, source: &str, name: &str, identity: Value, extra: Value) -> Value {
    let mut r = serde_json::json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": source, "eventName": name,
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0",
        "userIdentity": identity, "eventType": "AwsApiCall", "recipientAccountId": "111122223333"
    });
    if let (Some(r), Some(e)) = (r.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    r
}

/// An IAM user of account 111122223333.
pub fn iam_user(name: &str) -> Value {
    serde_json::json!({"type": "IAMUser", "userName": name, "accountId": "111122223333",
        "arn": format!("arn:aws:iam::111122223333:user/{name}"), "principalId": format!("AIDA{name}")})
}

/// The root user of account 111122223333.
pub fn root_user() -> Value {
    serde_json::json!({"type": "Root", "accountId": "111122223333",
        "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333"})
}

/// A failed console login of `identity`.
pub fn failed_login(time: &str, identity: Value, mfa: bool) -> Value {
    ct(
        time,
        "signin.amazonaws.com",
        "ConsoleLogin",
        identity,
        serde_json::json!({
        "eventType": "AwsConsoleSignIn", "errorMessage": "Failed authentication",
        "responseElements": {"ConsoleLogin": "Failure"},
        "additionalEventData": {"MFAUsed": if mfa { "Yes" } else { "No" }}}),
    )
}

/// Records as a CloudTrail file.
pub fn trail_file(records: &[Value]) -> Vec<u8> {
    serde_json::json!({ "Records": records })
        .to_string()
        .into_bytes()
}

/// What one run of inputs produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Finding ids published, with how often each was published.
    pub published: std::collections::BTreeMap<String, u32>,
    /// Every finding that fired, latest version per id.
    pub findings: std::collections::BTreeMap<String, cloudsec::finding::Finding>,
}

/// Delivers one input through the engine, as the functions do after fetching it, and keeps the
/// findings it reached in `outcome` (what it published is in the engine's sinks).
pub async fn run_engine<S, Q>(
    engine: &Engine<S, Q>,
    input_id: &str,
    object: &[u8],
    outcome: &mut Outcome,
) -> Result<Delivered, cloudsec::error::InputError>
where
    S: cloudsec::state::StateStore,
    Q: cloudsec::engine::ports::Quarantine,
{
    let delivered = engine
        .process_bytes(
            &InputId::named(input_id),
            object.to_vec(),
            Some(cloudsec::sources::LogSource::CloudTrail),
        )
        .await;
    let delivered = delivered?;
    outcome.add(&delivered);
    Ok(delivered)
}

impl Outcome {
    /// Keeps the findings one delivery reached, latest version per id.
    pub fn add(&mut self, delivered: &Delivered) {
        for f in &delivered.fired {
            self.findings
                .insert(f.finding.finding.id.clone(), f.finding.clone());
        }
    }

    /// Counts what reached `sink`: also what a delivery published before it failed (one that
    /// found another input's claim publishes its own findings first).
    pub fn count_published(&mut self, sink: &cloudsec::publish::memory::MemorySink) {
        self.published.clear();
        for f in sink.findings() {
            *self.published.entry(f.finding.id.clone()).or_default() += 1;
        }
    }
}
