//! An SDK interceptor that counts requests per operation and injects faults.
//!
//! Faults are injected after the emulator answered: the response is replaced by a throttling
//! error or a 500. The request may well have been applied, and the SDK retries it: the hardest
//! case for exactly-once effects, and the one real networks produce.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug)]
struct Inner {
    requests: Mutex<BTreeMap<String, u64>>,
    fail_per_mille: AtomicU32,
    injected: AtomicU64,
    rng: Mutex<StdRng>,
}

/// Counts and faults, shared by the clients it is installed on.
#[derive(Debug, Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

impl Faults {
    /// No faults yet; `seed` makes the injected ones reproducible.
    pub fn new(seed: u64) -> Faults {
        Faults {
            inner: Arc::new(Inner {
                requests: Mutex::new(BTreeMap::new()),
                fail_per_mille: AtomicU32::new(0),
                injected: AtomicU64::new(0),
                rng: Mutex::new(StdRng::seed_from_u64(seed)),
            }),
        }
    }

    /// Fails this share (per thousand) of responses from now on.
    pub fn fail(&self, per_mille: u32) {
        self.inner.fail_per_mille.store(per_mille, Ordering::SeqCst);
    }

    /// Requests sent so far, per `Service.Operation` (every attempt counts).
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.inner
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        if let Ok(mut r) = self.inner.requests.lock() {
            r.clear();
        }
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.inner.injected.load(Ordering::SeqCst)
    }
}

impl Intercept for Faults {
    fn name(&self) -> &'static str {
        "Faults"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map(|m| format!("{}.{}", m.service(), m.name()))
            .unwrap_or_else(|| "unknown".into());
        if let Ok(mut r) = self.inner.requests.lock() {
            *r.entry(op).or_default() += 1;
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let per_mille = self.inner.fail_per_mille.load(Ordering::SeqCst);
        if per_mille == 0 {
            return Ok(());
        }
        let (fail, throttle) = match self.inner.rng.lock() {
            Ok(mut rng) => (rng.random_range(0..1000) < per_mille, rng.random_bool(0.5)),
            Err(_) => return Ok(()),
        };
        if !fail {
            return Ok(());
        }
        self.inner.injected.fetch_add(1, Ordering::SeqCst);
        let service = cfg
            .load::<Metadata>()
            .map(|m| m.service().to_owned())
            .unwrap_or_default();
        let json = service.eq_ignore_ascii_case("dynamodb");
        let (status, body) = match (json, throttle) {
            (true, true) => (
                400,
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"injected"}"#.to_owned(),
            ),
            (true, false) => (
                500,
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}"#.to_owned(),
            ),
            (false, true) => (
                400,
                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>injected</Message></Error></ErrorResponse>".to_owned(),
            ),
            (false, false) => (
                500,
                "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>injected</Message></Error></ErrorResponse>".to_owned(),
            ),
        };
        let response = context.response_mut();
        *response.status_mut() = StatusCode::try_from(status)?;
        *response.body_mut() = SdkBody::from(body);
        Ok(())
    }
}
