//! The engine: one delivery path for every input, whoever calls it.
//!
//! The Lambda functions, the CLI, the benchmark and the tests all turn an input into effects
//! through [`Engine`]: read it ([`Engine::read`], the pure pipeline on a blocking thread, each
//! bad record streamed to the quarantine, [`ports::Quarantine`]), then [`Engine::deliver`] what
//! was read: keep the logins and judge them against the users' history ([`history`]), commit the counters and
//! claim the findings exactly once ([`evaluate`]), publish to every sink
//! ([`crate::publish::Sinks`]) what is new and at or above the publishing severity, keep every
//! finding reached in the findings store ([`crate::store`]), and settle.
//! An input delivered again, concurrently or after a crash anywhere in here, comes out the
//! same. The engine works over ports, each with a real adapter and an in-memory one: where
//! objects come from ([`ports::ObjectSource`]), the quarantine, the state
//! ([`crate::state::StateStore`]), the sinks and the clock ([`ports::Clock`]).

pub mod evaluate;
pub mod history;
pub mod listing;
pub mod ports;

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use crate::detect::Severity;
use crate::error::InputError;
use crate::error::PortError;
use crate::metrics;
use crate::pipeline::{InputReport, Pipeline};
use crate::publish::retry::{RepublishQueue, RepublishRequest};
use crate::publish::Sinks;
use crate::sources::{KeyLayouts, KeyVerdict, LogSource};
use crate::state::StateStore;
use crate::store::FindingStore;
use evaluate::{evaluate, settle, Fired, StateConfig};
use ports::{Clock, ObjectSource, Quarantine, SystemClock};

/// One input, named three ways: the ledger's id (the same however and however often the input
/// is announced), the address shown in logs and evidence, and the name its bad records are kept
/// under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputId {
    ledger: String,
    uri: String,
    name: String,
}

impl InputId {
    /// An S3 object. Its version (the ETag) is part of the ledger id: an object written again
    /// with other content is another input; S3, SNS and EventBridge announcements of one
    /// version are one.
    pub fn s3(bucket: &str, key: &str, etag: Option<&str>) -> InputId {
        let uri = format!("s3://{bucket}/{key}");
        InputId {
            ledger: format!("{uri}@{}", etag.unwrap_or("-")),
            name: format!("{bucket}/{key}"),
            uri,
        }
    }

    /// A local file, by its path.
    pub fn file(path: &str) -> InputId {
        InputId {
            ledger: path.to_owned(),
            uri: path.to_owned(),
            name: path.trim_start_matches('/').to_owned(),
        }
    }

    /// An EventBridge event of `source` (e.g. `aws.guardduty`) with event id `id`.
    pub fn event(source: &str, id: &str) -> InputId {
        InputId {
            ledger: format!("eventbridge:{source}/{id}"),
            uri: format!("eventbridge:{source}/{id}"),
            name: format!("eventbridge/{source}/{id}"),
        }
    }

    /// An input named by one string in all three roles (tests, the benchmark).
    pub fn named(id: &str) -> InputId {
        InputId {
            ledger: id.to_owned(),
            uri: id.to_owned(),
            name: id.to_owned(),
        }
    }

    /// The ledger's id.
    pub fn ledger(&self) -> &str {
        &self.ledger
    }

    /// `s3://bucket/key`, a path, or `eventbridge:source/id`.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The name its bad records are kept under (`bucket/key`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What one input came to: the counts logged and emitted as metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputSummary {
    /// The input's address.
    pub input: String,
    /// The source its records were read as.
    pub source: Option<&'static str>,
    /// Records read.
    pub records: u64,
    /// Records that could not be used (kept in the quarantine).
    pub bad: u64,
    /// Findings whose thresholds are reached.
    pub findings: u64,
    /// Findings this delivery sent to the sinks and they took.
    pub published: u64,
    /// Findings a sink refused for themselves: sent to the republish queue, retried there.
    pub rejected: u64,
    /// Findings of staged rules: kept, not published.
    pub staged: u64,
    /// Hits the tuning's exceptions kept from counting.
    pub suppressed: u64,
    /// Findings a backfill held: kept in the store, settled, not published.
    pub held: u64,
    /// Why it was skipped, when it was.
    pub skipped: Option<&'static str>,
}

/// What a delivery did: its summary and the findings it reached, each with whether this
/// delivery sent it.
#[derive(Debug, Default, Clone)]
pub struct Delivered {
    /// The counts.
    pub summary: InputSummary,
    /// Findings whose thresholds are reached, as their counters stand after this input.
    pub fired: Vec<Fired>,
    /// Hits the tuning's exceptions and the Sigma filters kept from counting.
    pub suppressed: crate::tuning::Suppressed,
}

impl Delivered {
    /// An input with nothing to read: logged, counted as a metric, and answered as done.
    pub fn skipped(input: String, why: &'static str) -> Delivered {
        tracing::info!(input = %input, skipped = why, "input skipped");
        metrics::emit_skip(why);
        Delivered {
            summary: InputSummary {
                input,
                skipped: Some(why),
                ..InputSummary::default()
            },
            fired: Vec::new(),
            suppressed: Default::default(),
        }
    }
}

/// Whether an input's new findings are sent to the sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Publishing {
    /// As always.
    #[default]
    Publish,
    /// Held (a backfill with `--hold`): evaluated, kept in the findings store and settled, so
    /// that replaying history pages no one; a later input joining such a finding does not
    /// publish it either.
    Hold,
}

/// An object read and not yet delivered ([`Engine::read_object`]).
#[derive(Debug)]
pub enum Prepared {
    /// Nothing to read: done.
    Skipped(Delivered),
    /// Read: to deliver.
    Read(ReadInput),
}

/// What was read of an input, waiting for its delivery.
#[derive(Debug)]
pub struct ReadInput {
    input: InputId,
    report: InputReport,
    started: Instant,
}

/// How the engine delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Timing of the state.
    pub state: StateConfig,
    /// Findings under this severity are settled but not sent.
    pub min_severity: Severity,
    /// Which keys are which source.
    pub layouts: KeyLayouts,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            state: StateConfig::default(),
            min_severity: Severity::Info,
            layouts: KeyLayouts::default(),
        }
    }
}

/// The delivery path, over its ports.
pub struct Engine<S, Q> {
    pipeline: Arc<Pipeline>,
    store: S,
    quarantine: Q,
    sinks: Sinks,
    republish: Option<RepublishQueue>,
    findings: Option<Arc<dyn FindingStore>>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
}

impl<S: std::fmt::Debug, Q: std::fmt::Debug> std::fmt::Debug for Engine<S, Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .field("quarantine", &self.quarantine)
            .field("sinks", &self.sinks)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: StateStore, Q: Quarantine> Engine<S, Q> {
    /// An engine over `pipeline` and its ports, on the system clock.
    pub fn new(
        pipeline: Arc<Pipeline>,
        store: S,
        quarantine: Q,
        sinks: Sinks,
        config: EngineConfig,
    ) -> Engine<S, Q> {
        Engine {
            pipeline,
            store,
            quarantine,
            sinks,
            republish: None,
            findings: None,
            clock: Arc::new(SystemClock),
            config,
        }
    }

    /// The same engine, sending the findings a sink refuses to `queue` to be retried there.
    /// Without one, a refused finding fails its input.
    pub fn with_republish(mut self, queue: RepublishQueue) -> Engine<S, Q> {
        self.republish = Some(queue);
        self
    }

    /// The same engine, keeping every finding it reaches (and the counts its exceptions
    /// suppress) in `store`, before an input is settled.
    pub fn with_findings_store(mut self, store: Arc<dyn FindingStore>) -> Engine<S, Q> {
        self.findings = Some(store);
        self
    }

    /// The same engine on another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Engine<S, Q> {
        self.clock = clock;
        self
    }

    /// The detections.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The state store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// How it delivers.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Reads `body` (gzip or plain) on a blocking thread: the pure pipeline, records to
    /// hits, every bad record streamed to the quarantine as it comes (kept once the input is
    /// read to its end, abandoned if it is not). Without a source, the records tell it.
    pub async fn read(
        &self,
        input: &InputId,
        body: Box<dyn Read + Send>,
        source: Option<LogSource>,
    ) -> Result<InputReport, InputError> {
        let pipeline = Arc::clone(&self.pipeline);
        let uri = input.uri().to_owned();
        let mut quarantine = self.quarantine.open(input);
        tokio::task::spawn_blocking(move || {
            let mut report = pipeline.scan_into(body, &uri, source, Some(&mut *quarantine));
            match &report.error {
                None => {
                    if let Err(e) = quarantine.finish() {
                        report.error = Some(InputError::Deliver(e));
                    }
                }
                Some(_) => quarantine.abort(),
            }
            report
        })
        .await
        .map_err(|e| InputError::Read {
            uri: input.uri().to_owned(),
            reason: format!("pipeline task failed: {e}"),
        })
    }

    /// One object of `objects`: skipped when its key or size says there is nothing to read
    /// (a CloudTrail digest, a folder, an empty object), else read and delivered. `forced`
    /// reads it as that source whatever its key says.
    pub async fn process_object<O: ObjectSource>(
        &self,
        objects: &O,
        object: &O::Ref,
        forced: Option<LogSource>,
    ) -> Result<Delivered, InputError> {
        self.process_object_as(objects, object, forced, Publishing::Publish)
            .await
    }

    /// [`Engine::process_object`], its findings published or held (a backfill's: kept in the
    /// findings store, settled, never sent).
    pub async fn process_object_as<O: ObjectSource>(
        &self,
        objects: &O,
        object: &O::Ref,
        forced: Option<LogSource>,
        publishing: Publishing,
    ) -> Result<Delivered, InputError> {
        match self.read_object(objects, object, forced).await? {
            Prepared::Skipped(delivered) => Ok(delivered),
            Prepared::Read(read) => self.deliver_read(read, publishing).await,
        }
    }

    /// The first half of [`Engine::process_object`]: the object classified, opened and read
    /// (the pure pipeline, touching no state). Reads of several objects may run at once;
    /// delivering them ([`Engine::deliver_read`]) in their order then counts as reading them
    /// one after the other would.
    pub async fn read_object<O: ObjectSource>(
        &self,
        objects: &O,
        object: &O::Ref,
        forced: Option<LogSource>,
    ) -> Result<Prepared, InputError> {
        let started = Instant::now();
        let key = objects.key(object);
        let source = match self.config.layouts.classify(&key) {
            KeyVerdict::SkipDigest => {
                return Ok(Prepared::Skipped(Delivered::skipped(
                    key,
                    "cloudtrail_digest",
                )));
            }
            KeyVerdict::Read(source) => Some(source),
            KeyVerdict::Sniff => None,
        };
        if objects.known_empty(object) {
            return Ok(Prepared::Skipped(Delivered::skipped(key, "empty_object")));
        }
        let opened = objects.open(object).await?;
        if opened.size == Some(0) {
            return Ok(Prepared::Skipped(Delivered::skipped(
                opened.input.uri().to_owned(),
                "empty_object",
            )));
        }
        let report = self
            .read(&opened.input, opened.body, forced.or(source))
            .await?;
        Ok(Prepared::Read(ReadInput {
            input: opened.input,
            report,
            started,
        }))
    }

    /// The second half of [`Engine::process_object`].
    pub async fn deliver_read(
        &self,
        read: ReadInput,
        publishing: Publishing,
    ) -> Result<Delivered, InputError> {
        self.deliver_as(&read.input, read.report, read.started, publishing)
            .await
    }

    /// Reads `bytes` as `source` and delivers them: an EventBridge event, a test's object.
    pub async fn process_bytes(
        &self,
        input: &InputId,
        bytes: Vec<u8>,
        source: Option<LogSource>,
    ) -> Result<Delivered, InputError> {
        let started = Instant::now();
        let report = self
            .read(input, Box::new(std::io::Cursor::new(bytes)), source)
            .await?;
        self.deliver(input, report, started).await
    }

    /// The second half of an input, once read: quarantine, history, state, publish, settle.
    pub async fn deliver(
        &self,
        input: &InputId,
        report: InputReport,
        started: Instant,
    ) -> Result<Delivered, InputError> {
        self.deliver_as(input, report, started, Publishing::Publish)
            .await
    }

    /// [`Engine::deliver`], its findings published or held.
    pub async fn deliver_as(
        &self,
        input: &InputId,
        mut report: InputReport,
        started: Instant,
        publishing: Publishing,
    ) -> Result<Delivered, InputError> {
        let mut summary = InputSummary {
            input: input.uri().to_owned(),
            source: report.source.map(LogSource::dataset),
            records: report.records,
            bad: report.bad,
            ..InputSummary::default()
        };
        if let Some(e) = report.error.take() {
            // Nothing is counted from an object that could not be read to its end: counting
            // part of it now would make a retry that reads further count it short. The caller
            // logs the failure, once.
            tracing::debug!(
                input = %input.uri(), records_read = report.records, hits = report.groups.len(),
                "input not read to its end; nothing counted"
            );
            return Err(e);
        }
        let mut groups = std::mem::take(&mut report.groups);
        let logins = std::mem::take(&mut report.logins);
        if !logins.is_empty() {
            let catalogue = self.pipeline.catalogue();
            history::judge_logins(
                &self.store,
                &logins,
                &catalogue.cloudtrail,
                &catalogue.settings.geo,
                self.pipeline.config().max_evidence,
                self.pipeline.tuning(),
                &mut groups,
                &mut report.suppressed,
            )
            .await
            .map_err(InputError::State)?;
        }
        let now = self.clock.now();
        let mut evaluation = evaluate(
            &self.store,
            input.ledger(),
            groups,
            now,
            &self.config.state,
            self.config.min_severity,
        )
        .await
        .map_err(InputError::State)?;
        let tuning = self.pipeline.tuning();
        for f in &mut evaluation.fired {
            // A staged rule's findings are evaluated, kept and settled, never sent.
            let staged = tuning.is_some_and(|t| t.is_staged(&f.finding.rule.id));
            f.finding.finding.staged = staged;
            // `publish` is false under `min_severity` already: `evaluate` does not claim them.
            f.sent = !staged && publishing == Publishing::Publish && f.publish;
            if publishing == Publishing::Hold && f.publish {
                summary.held += 1;
            }
            if staged && f.publish {
                tracing::info!(
                    input = %input.uri(), finding = %f.finding.finding.id, rule = %f.finding.rule.id,
                    entity = %f.finding.finding.entity.id, "staged finding kept, not published"
                );
            }
        }
        summary.staged = evaluation
            .fired
            .iter()
            .filter(|f| f.finding.finding.staged)
            .count() as u64;
        summary.suppressed = report.suppressed.values().sum();
        for ((by, rule), n) in &report.suppressed {
            metrics::emit_suppressed(rule, &self.pipeline.suppressor_label(*by), *n);
        }
        let publish: Vec<_> = evaluation
            .fired
            .iter()
            .filter(|f| f.sent)
            .map(|f| &f.finding)
            .collect();
        let rejected = self
            .sinks
            .publish(&publish)
            .await
            .map_err(InputError::Deliver)?;
        // A refused finding does not hold back the others: it leaves as a message of its own,
        // which is then the one owner of its publishing, before the input is settled.
        for r in &rejected {
            let Some(finding) = publish.iter().find(|f| f.finding.id == r.id) else {
                continue;
            };
            let Some(queue) = &self.republish else {
                return Err(InputError::Deliver(PortError::permanent(format!(
                    "finding {} refused, and no republish queue to retry it: {}",
                    r.id, r.reason
                ))));
            };
            queue
                .send(&RepublishRequest {
                    input: input.uri().to_owned(),
                    reason: r.reason.clone(),
                    finding: (*finding).clone(),
                })
                .await
                .map_err(InputError::Deliver)?;
            tracing::warn!(
                input = %input.uri(), finding = %r.id, rule = %finding.rule.id, reason = %r.reason,
                "finding refused by a sink; sent to the republish queue"
            );
        }
        // Kept before the input settles: a crash in between redelivers it, and the store
        // takes the same findings again as the same items.
        if let Some(store) = &self.findings {
            let counts = crate::store::suppressed_counts(&report.suppressed, &self.pipeline, now);
            store
                .keep(input, &evaluation.fired, &counts, now)
                .await
                .map_err(InputError::Deliver)?;
            // A control that passes again resolves its failure's findings (after they were
            // kept: a failure and its fix in one input end resolved).
            for p in &report.passed_controls {
                let n = store
                    .resolve_control(&p.entity, &p.control, p.at)
                    .await
                    .map_err(InputError::Deliver)?;
                if n > 0 {
                    tracing::info!(
                        input = %input.uri(), entity = %p.entity, control = %p.control, resolved = n,
                        "control passes again: its findings resolved"
                    );
                }
            }
        }
        // Findings under the publishing threshold are settled too: they are not to be sent.
        settle(&self.store, &evaluation.fired)
            .await
            .map_err(InputError::State)?;
        evaluation.check_busy()?;
        summary.findings = evaluation.fired.len() as u64;
        summary.rejected = rejected.len() as u64;
        summary.published = publish.len() as u64 - summary.rejected;
        let duration_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            input = %summary.input,
            source = summary.source.unwrap_or("unknown"),
            records = summary.records,
            bad = summary.bad,
            findings = summary.findings,
            published = summary.published,
            rejected = summary.rejected,
            staged = summary.staged,
            suppressed = summary.suppressed,
            held = summary.held,
            duration_ms,
            "input processed"
        );
        metrics::emit_input(&summary, duration_ms);
        Ok(Delivered {
            summary,
            fired: evaluation.fired,
            suppressed: std::mem::take(&mut report.suppressed),
        })
    }

    /// A finding refused before, from the republish queue: published again to every sink
    /// (with its id, so a sink that took it the first time recognizes it). Refused again, it
    /// fails, so that its message is retried and, in the end, kept in the dead-letter queue.
    pub async fn republish(&self, request: RepublishRequest) -> Result<(), InputError> {
        let id = request.finding.finding.id.clone();
        let rejected = self
            .sinks
            .publish(&[&request.finding])
            .await
            .map_err(InputError::Deliver)?;
        if let Some(r) = rejected.first() {
            return Err(InputError::Deliver(PortError::new(format!(
                "finding {id} of {} refused again: {}",
                request.input, r.reason
            ))));
        }
        tracing::info!(
            finding = %id, input = %request.input, first_refusal = %request.reason,
            "refused finding published on a retry"
        );
        metrics::emit_republished();
        Ok(())
    }
}
