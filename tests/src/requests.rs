//! An HTTP client for the SDK that counts the requests it sends, by service and operation: what
//! an input costs in AWS requests, measured on the wire of the deployed code path (the functions'
//! cold start builds its clients from one `SdkConfig`, which takes an HTTP client but no
//! interceptor).
//!
//! The operation is read from the request as AWS reads it: the service from the signature's
//! credential scope; the operation from `X-Amz-Target` (DynamoDB, SQS), the form's `Action`
//! (SNS), or the method and path (S3, path-style as the SDK addresses an IP endpoint).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// Requests counted, per `service.Operation`, shared by every client built from the config.
#[derive(Debug, Clone, Default)]
pub struct Requests {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    units: Arc<Mutex<Units>>,
}

/// DynamoDB's billing units of the requests counted, estimated from each request as DynamoDB
/// bills them on demand: a write unit per KB of each item written (two in a transaction), a
/// read unit per 4 KB of each item read consistently (the engine reads consistently). An item's
/// size is taken as the size of its JSON in the request: the stored item is about as large
/// (attribute names and values; the JSON adds its type tags), so this errs high.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Units {
    /// Write request units.
    pub write: u64,
    /// Read request units.
    pub read: u64,
    /// SNS's billed requests: one per 64 KB of each message published.
    pub sns_chunks: u64,
}

impl Requests {
    /// The counts so far, per `service.Operation` (every attempt counts).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The counts so far, and forgets them.
    pub fn take(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// The SDK's own HTTPS client (rustls with aws-lc, as the functions use), counting.
    pub fn http_client(&self) -> SharedHttpClient {
        SharedHttpClient::new(Counting {
            inner: aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .build_https(),
            requests: self.clone(),
        })
    }

    /// The billing units so far, and forgets them.
    pub fn take_units(&self) -> Units {
        self.units
            .lock()
            .map(|mut u| std::mem::take(&mut *u))
            .unwrap_or_default()
    }

    fn count(&self, request: &HttpRequest) {
        let operation = operation(request);
        let body = request.body().bytes().unwrap_or_default();
        let units = billed_units(&operation, body);
        if let Ok(mut u) = self.units.lock() {
            u.write += units.write;
            u.read += units.read;
            u.sns_chunks += units.sns_chunks;
        }
        if let Ok(mut c) = self.counts.lock() {
            *c.entry(operation).or_default() += 1;
        }
    }
}

#[derive(Debug)]
struct Counting {
    inner: SharedHttpClient,
    requests: Requests,
}

impl HttpClient for Counting {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // The inner client caches its connector (and so its connection pool) per settings.
        SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
            requests: self.requests.clone(),
        })
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    requests: Requests,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.requests.count(&request);
        self.inner.call(request)
    }
}

/// `service.Operation` of a signed request.
pub fn operation(request: &HttpRequest) -> String {
    let header = |name: &str| request.headers().get(name).unwrap_or("");
    // Credential=AKID/20261202/us-east-1/dynamodb/aws4_request
    let service = header("authorization")
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("unsigned")
        .to_owned();
    let target = header("x-amz-target");
    if let Some((_, op)) = target.rsplit_once('.') {
        return format!("{service}.{op}");
    }
    let body = request.body().bytes().unwrap_or_default();
    if let Some(action) = std::str::from_utf8(body)
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
    {
        return format!("{service}.{action}");
    }
    let uri = request.uri();
    let path_and_query = uri
        .split_once("://")
        .map_or(uri, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let has_key = path.trim_start_matches('/').contains('/');
    let has = |q: &str| {
        query
            .split('&')
            .any(|kv| kv == q || kv.starts_with(&format!("{q}=")))
    };
    let op = match (request.method(), has_key) {
        ("GET", true) => "GetObject",
        ("HEAD", true) => "HeadObject",
        ("PUT", true) if !header("x-amz-copy-source").is_empty() => "CopyObject",
        ("PUT", true) => "PutObject",
        ("DELETE", true) => "DeleteObject",
        ("GET", false) if has("list-type") => "ListObjectsV2",
        ("POST", false) if has("delete") => "DeleteObjects",
        (method, _) => return format!("{service}.{method} {path}"),
    };
    format!("{service}.{op}")
}

/// What one request is billed, by [`Units`]'s estimate.
pub fn billed_units(operation: &str, body: &[u8]) -> Units {
    let kb = |v: &serde_json::Value, per: usize| (v.to_string().len().div_ceil(per)).max(1) as u64;
    let mut units = Units::default();
    if let Some(op) = operation.strip_prefix("sns.") {
        if op.starts_with("Publish") {
            // The form carries each message; a message is billed per 64 KB.
            let form = std::str::from_utf8(body).unwrap_or("");
            units.sns_chunks = form
                .split('&')
                .filter(|kv| kv.contains("Message="))
                .map(|kv| (kv.len().div_ceil(64 * 1024)).max(1) as u64)
                .sum();
        }
        return units;
    }
    let Some(op) = operation.strip_prefix("dynamodb.") else {
        return units;
    };
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body) else {
        return units;
    };
    let items = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
    match op {
        "TransactWriteItems" => {
            units.write = items(&doc["TransactItems"])
                .iter()
                .map(|a| 2 * kb(a, 1024))
                .sum();
        }
        "PutItem" | "UpdateItem" | "DeleteItem" => units.write = kb(&doc, 1024),
        "BatchWriteItem" => {
            units.write = doc["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|t| t.values())
                .flat_map(items)
                .map(|r| kb(&r, 1024))
                .sum();
        }
        "BatchGetItem" => {
            units.read = doc["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|t| t.values())
                .map(|t| items(&t["Keys"]).len() as u64)
                .sum();
        }
        // At least one unit per query (the engine's are a few small items).
        "Query" | "GetItem" => units.read = 1,
        _ => {}
    }
    units
}
