//! The pipeline over one input: read, parse, normalize, detect, aggregate into findings.
//!
//! Plain synchronous code over `std::io::Read`: the Lambda runs it on a blocking thread over the
//! S3 body, the CLI over files, the tests over bytes. It returns what it found and what it could
//! not use; delivering findings and keeping bad records is the caller's job.

use std::collections::HashMap;
use std::io::Read;

use crate::detect::{
    cloudtrail_entity, Catalogue, Context, EntityKind, Hit, RecordType, Rule, RuleKind,
    RuleVisitor, Severity,
};
use crate::error::{InputError, Location, RecordError, RecordPosition};
use crate::finding::{finding_id, Evidence, Finding, FindingBuilder, Window};
use crate::read::{self, Framing, RecordVisitor};
use crate::sources::{unwrap_eventbridge, LogSource, Record};
use crate::tuning::{Suppressor, Tuning, TuningError};
use serde_json::Value;

/// Tuning of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Cap on an object's decompressed size.
    pub max_decompressed_bytes: u64,
    /// Evidence events kept in one finding.
    pub max_evidence: usize,
    /// Raw bytes of bad records kept per input for quarantine; past it they are counted only
    /// (the original object still holds them, and the quarantine note names it).
    pub max_kept_bad_bytes: usize,
    /// Bad records kept per input (with their location and error), however small: memory stays
    /// bounded however many bad records an object holds.
    pub max_kept_bad_records: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            max_decompressed_bytes: read::DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_evidence: 5,
            max_kept_bad_bytes: 4 << 20,
            max_kept_bad_records: 10_000,
        }
    }
}

/// A record that could not be used, kept for the quarantine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BadRecord {
    /// Where it was.
    pub location: Location,
    /// Why it was not used.
    pub error: String,
    /// Its text as read (empty once the kept-bytes budget is spent).
    pub raw: String,
}

/// Where every bad record of an input goes as it is read (the quarantine), beside the bounded
/// sample the report keeps: memory stays bounded however many there are, and none is lost.
pub trait BadRecordSink: Send {
    /// Keeps one bad record. An error fails the input once it is read (it is retried).
    fn keep(&mut self, location: &Location, error: &str, raw: &str) -> std::io::Result<()>;
}

/// What one input produced.
#[derive(Debug, Default)]
pub struct InputReport {
    /// Records read and parsed.
    pub records: u64,
    /// Records that could not be used.
    pub bad: u64,
    /// A bounded sample of the bad records (see [`PipelineConfig::max_kept_bad_bytes`]); all of
    /// them went to the [`BadRecordSink`], when there was one.
    pub bad_records: Vec<BadRecord>,
    /// Whether some bad records were counted but not kept.
    pub bad_records_truncated: bool,
    /// Hits grouped per (rule, entity, window), in a stable order: what the state store
    /// counts, and what becomes findings once thresholds are reached
    /// ([`crate::engine::evaluate`]).
    pub groups: Vec<FindingBuilder>,
    /// Set when the input could not be read to its end; everything above is what was read
    /// before.
    pub error: Option<InputError>,
    /// How the records were laid out, when known.
    pub framing: Option<Framing>,
    /// The source the records were read as (told by the content when the caller did not say).
    pub source: Option<LogSource>,
    /// Successful console logins with a known place, for the geo rules that need the user's
    /// history ([`crate::engine::history::judge_logins`]).
    pub logins: Vec<crate::detect::geo::Login>,
    /// Hits the tuning's exceptions and the Sigma filters kept from counting.
    pub suppressed: crate::tuning::Suppressed,
    /// Security Hub controls that pass (the current version of their result): they resolve
    /// the open findings of their failure ([`crate::store::FindingStore::resolve_control`]).
    pub passed_controls: Vec<PassedControl>,
}

/// A Security Hub control that passes for a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassedControl {
    /// The findings store's entity of its findings (`resource:<id>`).
    pub entity: String,
    /// The control (`S3.8`).
    pub control: String,
    /// When the result was recorded (Unix seconds).
    pub at: i64,
}

impl InputReport {
    /// The findings of the single-event rules of this input alone, without state: what a
    /// stateless run would report (tests and tools that look at one input).
    pub fn single_event_findings(&self) -> Vec<Finding> {
        self.groups
            .iter()
            .filter(|g| g.kind() == RuleKind::Single)
            .map(|g| g.clone().build())
            .collect()
    }

    /// Findings at or above `min`, by severity.
    pub fn count_by_severity(findings: &[Finding]) -> [u64; 5] {
        let mut out = [0; 5];
        for f in findings {
            out[f.finding.severity as usize] += 1;
        }
        out
    }
}

/// How many bad records of one input are logged one by one; the rest are counted.
const LOGGED_BAD_PER_INPUT: u64 = 10;

/// The pipeline: a catalogue and its tuning.
#[derive(Debug, Clone)]
pub struct Pipeline {
    catalogue: Catalogue,
    /// The catalogue's CloudTrail rules by `eventSource`, made whenever its rules change.
    dispatch: crate::detect::SourceDispatch,
    config: PipelineConfig,
    geo: Option<std::sync::Arc<crate::geo::GeoIp>>,
    tuning: Option<std::sync::Arc<Tuning>>,
}

impl Pipeline {
    /// A pipeline over `catalogue`.
    pub fn new(catalogue: Catalogue, config: PipelineConfig) -> Pipeline {
        Pipeline {
            dispatch: crate::detect::SourceDispatch::new(&catalogue.cloudtrail),
            catalogue,
            config,
            geo: None,
            tuning: None,
        }
    }

    /// The same pipeline tuned: the file's settings and rule states applied to the catalogue
    /// (disabled rules leave it), its exceptions applied to every hit.
    pub fn with_tuning(mut self, mut tuning: Tuning) -> Result<Pipeline, TuningError> {
        tuning.apply(&mut self.catalogue)?;
        self.dispatch = crate::detect::SourceDispatch::new(&self.catalogue.cloudtrail);
        self.tuning = Some(std::sync::Arc::new(tuning));
        Ok(self)
    }

    /// The tuning, when there is one.
    pub fn tuning(&self) -> Option<&Tuning> {
        self.tuning.as_deref()
    }

    /// The same pipeline with GeoIP databases: events are enriched with `source.geo`/`as`,
    /// and the geo rules are on.
    pub fn with_geo(mut self, geo: std::sync::Arc<crate::geo::GeoIp>) -> Pipeline {
        self.geo = Some(geo);
        self
    }

    /// The GeoIP databases, when given.
    pub fn geo(&self) -> Option<&crate::geo::GeoIp> {
        self.geo.as_deref()
    }

    /// How a suppressed count names what suppressed it: the exception's label, or the Sigma
    /// filter's.
    pub fn suppressor_label(&self, s: crate::tuning::Suppressor) -> String {
        use crate::tuning::Suppressor;
        let label = match s {
            Suppressor::Exception(i) => self
                .tuning()
                .and_then(|t| t.exceptions().get(i))
                .map(|e| e.label()),
            Suppressor::SigmaFilter(i) => self.catalogue.sigma.filters().get(i).map(|f| f.label()),
        };
        label.unwrap_or_else(|| format!("{s:?}"))
    }

    /// The rules it runs.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Its tuning.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Runs every detection over the records of `raw` (gzip or plain) and returns the findings.
    /// `uri` names the input in errors and evidence.
    pub fn scan<R: Read>(&self, raw: R, uri: &str, source: LogSource) -> InputReport {
        self.scan_any(raw, uri, Some(source))
    }

    /// As [`Pipeline::scan`]; without a source, the records tell it
    /// ([`LogSource::sniff`]).
    pub fn scan_any<R: Read>(&self, raw: R, uri: &str, source: Option<LogSource>) -> InputReport {
        self.scan_into(raw, uri, source, None)
    }

    /// As [`Pipeline::scan_any`], with every bad record handed to `bad` as it is read.
    pub fn scan_into<R: Read>(
        &self,
        raw: R,
        uri: &str,
        source: Option<LogSource>,
        bad: Option<&mut dyn BadRecordSink>,
    ) -> InputReport {
        let mut detect = Detect {
            catalogue: &self.catalogue,
            dispatch: &self.dispatch,
            geo: self.geo.as_deref(),
            logins: Vec::new(),
            uri,
            max_evidence: self.config.max_evidence,
            index: HashMap::new(),
            builders: Vec::new(),
            fired: Vec::new(),
            hits: Vec::new(),
            securityhub: Vec::new(),
            key_account: crate::sources::account_from_key(uri).map(str::to_owned),
            ts: 0,
            tuning: self.tuning.as_deref(),
            now: crate::tuning::now(),
            suppressed: Default::default(),
            passed: Vec::new(),
            sigma_matches: Vec::new(),
        };
        let mut report = self.run(raw, uri, source, &mut detect, bad);
        report.logins = std::mem::take(&mut detect.logins);
        report.passed_controls = std::mem::take(&mut detect.passed);
        report.suppressed = std::mem::take(&mut detect.suppressed);
        let mut builders = detect.builders;
        if let Some(account) = crate::sources::account_from_key(uri) {
            builders.iter_mut().for_each(|b| b.default_account(account));
        }
        report.groups = builders;
        report
    }

    /// Calls `out` with the ECS event of every record of `raw`.
    pub fn normalize<R: Read>(
        &self,
        raw: R,
        uri: &str,
        source: Option<LogSource>,
        out: &mut dyn FnMut(&crate::sources::Ecs<'_>),
    ) -> InputReport {
        let mut normalize = Normalize {
            uri,
            out,
            geo: self.geo.as_deref(),
        };
        self.run(raw, uri, source, &mut normalize, None)
    }

    fn run<'s, R: Read, H: RecordHandler>(
        &self,
        raw: R,
        uri: &str,
        source: Option<LogSource>,
        handler: &mut H,
        bad: Option<&'s mut (dyn BadRecordSink + 's)>,
    ) -> InputReport {
        let mut visitor = Parse {
            uri,
            source,
            handler,
            sink: bad,
            sink_error: None,
            report: InputReport::default(),
            kept_bad_bytes: 0,
            max_kept_bad_bytes: self.config.max_kept_bad_bytes,
            max_kept_bad_records: self.config.max_kept_bad_records,
            per_record: source.is_none(),
        };
        let result = read::open(raw, self.config.max_decompressed_bytes)
            .map_err(|e| InputError::Read {
                uri: uri.to_owned(),
                reason: e.to_string(),
            })
            .and_then(|reader| read::read_records(reader, uri, &mut visitor));
        visitor.handler.finish();
        let mut report = visitor.report;
        report.source = visitor.source;
        match result {
            Ok(framing) => report.framing = Some(framing),
            Err(e) => report.error = Some(e),
        }
        if let (None, Some(e)) = (&report.error, visitor.sink_error) {
            report.error = Some(InputError::Deliver(crate::error::PortError::new(format!(
                "quarantine of {uri}: {e}"
            ))));
        }
        if report.bad > LOGGED_BAD_PER_INPUT {
            tracing::warn!(
                object = uri,
                bad = report.bad,
                logged = LOGGED_BAD_PER_INPUT,
                "more bad records than logged one by one"
            );
        }
        report
    }
}

/// What is done with each parsed record.
trait RecordHandler {
    /// One record, its time (Unix seconds) and its text.
    fn handle(&mut self, record: &Record<'_>, ts: i64, raw: &str);
    /// Called once the input is read.
    fn finish(&mut self) {}
}

/// Parses records, keeps the bad ones, and hands the good ones on.
struct Parse<'h, 's, H> {
    uri: &'h str,
    source: Option<LogSource>,
    handler: &'h mut H,
    sink: Option<&'s mut (dyn BadRecordSink + 's)>,
    sink_error: Option<std::io::Error>,
    report: InputReport,
    kept_bad_bytes: usize,
    max_kept_bad_bytes: usize,
    max_kept_bad_records: usize,
    /// No source was given: each record tells its own (JSON lines may mix sources).
    per_record: bool,
}

impl<H: RecordHandler> Parse<'_, '_, H> {
    /// Parses one record of `source` (one finding, for the findings sources) and hands it on.
    fn one(&mut self, position: RecordPosition, raw: &str, source: LogSource) {
        // The record is used where it lies: moving it (CloudTrail's is nearly a kilobyte) would
        // cost a copy per record.
        match &Record::parse(source, raw) {
            Ok(record) => self.accept(position, raw, record, raw),
            Err(e) if e.to_string().starts_with("duplicate field") => {
                // Suricata writes some keys twice; the last value wins, as in most JSON readers.
                match serde_json::from_str::<serde_json::Value>(raw) {
                    Ok(v) => self.one_parsed(position, raw, &v.to_string(), source),
                    Err(e) => self.malformed(position, raw, RecordError::Syntax(e.to_string())),
                }
            }
            Err(e) => self.rejected(position, raw, source, e),
        }
    }

    fn one_parsed(&mut self, position: RecordPosition, raw: &str, text: &str, source: LogSource) {
        match Record::parse(source, text) {
            Ok(record) => self.accept(position, raw, &record, text),
            Err(e) => self.rejected(position, raw, source, &e),
        }
    }

    fn rejected(
        &mut self,
        position: RecordPosition,
        raw: &str,
        source: LogSource,
        e: &serde_json::Error,
    ) {
        let error = if e.is_syntax() || e.is_eof() {
            RecordError::Syntax(e.to_string())
        } else {
            RecordError::Shape {
                source_name: source.name(),
                reason: e.to_string(),
            }
        };
        self.malformed(position, raw, error);
    }

    fn accept(&mut self, position: RecordPosition, raw: &str, record: &Record<'_>, text: &str) {
        let Some(ts) = record.time() else {
            let reason = match record {
                Record::CloudTrail(r) => format!(
                    "eventTime {:?} is not an RFC 3339 time from 1970 to 9999",
                    r.event_time
                ),
                _ => "its time is not one from 1970 to 9999".to_owned(),
            };
            let error = RecordError::Shape {
                source_name: record.source().name(),
                reason,
            };
            return self.malformed(position, raw, error);
        };
        self.report.records += 1;
        self.handler.handle(record, ts, text);
    }
}

impl<H: RecordHandler> RecordVisitor for Parse<'_, '_, H> {
    fn record(&mut self, position: RecordPosition, raw: &str) {
        let known = if self.per_record { None } else { self.source };
        let source = match known {
            Some(s) => s,
            None => match LogSource::sniff(raw) {
                Some(s) => {
                    // The input's source, as reported, is its first record's.
                    self.source.get_or_insert(s);
                    s
                }
                None => {
                    return self.malformed(position, raw, RecordError::UnknownSource);
                }
            },
        };
        match source {
            LogSource::GuardDuty | LogSource::SecurityHub => match unwrap_eventbridge(raw) {
                Ok(findings) => {
                    for finding in findings {
                        self.one(position, finding, source);
                    }
                }
                Err(reason) => {
                    let error = RecordError::Shape {
                        source_name: source.name(),
                        reason,
                    };
                    self.malformed(position, raw, error);
                }
            },
            _ => self.one(position, raw, source),
        }
    }

    fn malformed(&mut self, position: RecordPosition, raw: &str, error: RecordError) {
        let report = &mut self.report;
        report.bad += 1;
        let location = Location {
            object: self.uri.to_owned(),
            record: position,
        };
        if report.bad <= LOGGED_BAD_PER_INPUT {
            tracing::warn!(location = %location, error = %error, "bad record kept aside");
        }
        let error = error.to_string();
        if let (Some(sink), None) = (self.sink.as_mut(), &self.sink_error) {
            if let Err(e) = sink.keep(&location, &error, raw) {
                self.sink_error = Some(e);
            }
        }
        if report.bad_records.len() >= self.max_kept_bad_records {
            report.bad_records_truncated = true;
            return;
        }
        let keep = self.kept_bad_bytes + raw.len() <= self.max_kept_bad_bytes;
        if keep {
            self.kept_bad_bytes += raw.len();
        } else {
            report.bad_records_truncated = true;
        }
        report.bad_records.push(BadRecord {
            location,
            error,
            raw: if keep { raw.to_owned() } else { String::new() },
        });
    }
}

/// Runs the rules and aggregates hits per finding id.
struct Detect<'c> {
    /// Which CloudTrail rules judge a record of each source.
    dispatch: &'c crate::detect::SourceDispatch,
    catalogue: &'c Catalogue,
    geo: Option<&'c crate::geo::GeoIp>,
    logins: Vec<crate::detect::geo::Login>,
    uri: &'c str,
    max_evidence: usize,
    /// The findings of this input, in the order of their first hit, and each one's place
    /// there by what its id is made of (the builders do not move when the index grows): the
    /// id, a hash, is computed once per finding, not once per hit.
    builders: Vec<FindingBuilder>,
    index: HashMap<FindingKey, usize>,
    // Scratch space reused across records.
    fired: Vec<&'static str>,
    hits: Vec<Hit>,
    /// Security Hub findings: every version's time, id and text. They are judged once the
    /// input is read, in time order, each knowing whether a newer version of the same finding
    /// follows (then only rules about changes look at it).
    securityhub: Vec<(i64, String, String)>,
    /// The account the object's key names (`AWSLogs/<account>/`), if any.
    key_account: Option<String>,
    /// The time of the record being detected on.
    ts: i64,
    /// The exceptions, when tuned.
    tuning: Option<&'c Tuning>,
    /// The wall clock, for the exceptions' expiry.
    now: i64,
    /// Hits kept from counting.
    suppressed: crate::tuning::Suppressed,
    /// Controls whose current result passes.
    passed: Vec<PassedControl>,
    /// Scratch space for the Sigma rules' matches of a record.
    sigma_matches: Vec<crate::sigma::Match>,
}

/// What a finding's id ([`finding_id`]) is made of: equal keys, equal ids.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FindingKey {
    rule: &'static str,
    entity: crate::detect::Entity,
    discriminator: Option<String>,
    window_start: i64,
}

impl Detect<'_> {
    #[allow(clippy::too_many_arguments)]
    fn hit(
        &mut self,
        meta: crate::detect::RuleMeta,
        kind: RuleKind,
        entity: crate::detect::Entity,
        discriminator: Option<String>,
        severity: Severity,
        window_minutes: u32,
        record: &Record<'_>,
        evidence: &mut Evidence<'_, '_>,
        ts: i64,
    ) -> &mut FindingBuilder {
        let window = Window::of(ts, window_minutes);
        let key = FindingKey {
            rule: meta.id,
            entity,
            discriminator,
            window_start: window.start,
        };
        let at = match self.index.get(&key) {
            Some(&at) => at,
            None => {
                let at = self.builders.len();
                let id = finding_id(
                    key.rule,
                    &key.entity,
                    key.discriminator.as_deref(),
                    key.window_start,
                );
                self.builders.push(FindingBuilder::start(
                    meta,
                    kind,
                    id,
                    key.entity.clone(),
                    key.discriminator.clone(),
                    severity,
                    window,
                    ts,
                    record,
                    evidence.ecs(),
                    self.max_evidence,
                ));
                self.index.insert(key, at);
                at
            }
        };
        let builder = &mut self.builders[at];
        builder.add(ts, severity, record, evidence);
        builder
    }

    /// Runs `rules` (those that judge the record, in catalogue order) over one record
    /// (`typed`, as `record`) and adds what they hit to the findings of this input. `entity_of`
    /// names the record's entity of a kind, for hits that leave it to the rule's.
    fn run<'r, T: RecordType + 'r>(
        &mut self,
        rules: impl Iterator<Item = &'r Rule<T>>,
        record: &Record<'_>,
        typed: &T::Record<'_>,
        ts: i64,
        entity_of: &dyn Fn(EntityKind) -> crate::detect::Entity,
    ) {
        let mut evidence = Evidence::new(record, self.uri, self.geo);
        let mut document: Option<Value> = None;
        let mut hits = std::mem::take(&mut self.hits);
        self.fired.clear();
        for rule in rules {
            hits.clear();
            let cx = Context {
                settings: &self.catalogue.settings,
                geo: self.geo,
                fired: &self.fired,
            };
            rule.run(typed, &cx, &mut hits);
            if hits.is_empty() {
                continue;
            }
            let mut counted = false;
            for hit in hits.drain(..) {
                let entity = hit
                    .entity
                    .clone()
                    .unwrap_or_else(|| entity_of(rule.meta.entity));
                counted |= self.count(
                    rule.meta,
                    rule.kind,
                    &hit,
                    entity,
                    record,
                    &mut evidence,
                    &mut document,
                    ts,
                );
            }
            // The rules after it (windows over single-event hits) see only what counted.
            if counted {
                self.fired.push(rule.meta.id);
            }
        }
        self.hits = hits;
        if let (Record::CloudTrail(r), Some(geo)) = (record, self.geo) {
            self.keep_login(r, ts, geo, &mut evidence);
        }
    }

    /// Adds one hit of a rule to the findings of this input, unless an exception suppresses
    /// it (then it is counted as suppressed). Whether it counted.
    #[allow(clippy::too_many_arguments)]
    fn count(
        &mut self,
        meta: crate::detect::RuleMeta,
        kind: RuleKind,
        hit: &Hit,
        entity: crate::detect::Entity,
        record: &Record<'_>,
        evidence: &mut Evidence<'_, '_>,
        document: &mut Option<Value>,
        ts: i64,
    ) -> bool {
        let severity = hit.severity.unwrap_or(meta.severity);
        let minutes = hit
            .window_minutes
            .unwrap_or_else(|| kind.window_minutes(&meta));
        if let Some(tuning) = self.tuning.filter(|t| t.has_exceptions(meta.id)) {
            // The event as a document, for the exceptions: made once per record, and only
            // when a hit meets a rule that has exceptions.
            // Built from the event, not from its text: a suppressed hit never serializes it.
            let doc = document
                .get_or_insert_with(|| serde_json::to_value(evidence.ecs()).unwrap_or(Value::Null));
            if let Some(i) = tuning.suppressing(meta.id, doc, &entity, self.now) {
                *self
                    .suppressed
                    .entry((Suppressor::Exception(i), meta.id))
                    .or_insert(0) += 1;
                return false;
            }
        }
        // A record that names no account (Network Firewall's) is scoped by the account of its
        // object's key, so that one private IP in two accounts makes two findings.
        let discriminator = match self.key_account.as_deref() {
            Some(account) if !record.names_account() => Some(match &hit.discriminator {
                Some(d) => format!("{account}/{d}"),
                None => account.to_owned(),
            }),
            _ => hit.discriminator.clone(),
        };
        let builder = self.hit(
            meta,
            kind,
            entity,
            discriminator,
            severity,
            minutes,
            record,
            evidence,
            ts,
        );
        builder.observe(hit);
        builder.set_subcategory(hit.subcategory);
        builder.sequence(ts, hit.completes);
        true
    }

    /// The Sigma rules over one CloudTrail record (`text`, as logged): each match is a hit of
    /// its detection rule (unless a correlation takes its place) and of the correlations it
    /// counts for, unless a filter keeps the event from it.
    fn sigma(
        &mut self,
        record: &Record<'_>,
        r: &crate::sources::cloudtrail::CloudTrailRecord<'_>,
        text: &str,
        ts: i64,
    ) {
        let set = &self.catalogue.sigma;
        let event = crate::sigma::RecordEvent::new(r, text);
        let mut matches = std::mem::take(&mut self.sigma_matches);
        matches.clear();
        set.evaluate(&event, &mut matches);
        if matches.is_empty() {
            self.sigma_matches = matches;
            return;
        }
        let mut evidence = Evidence::new(record, self.uri, self.geo);
        let mut document = None;
        for m in &matches {
            let d = &set.detections()[m.detection];
            if let Some(f) = m.filtered_by {
                *self
                    .suppressed
                    .entry((Suppressor::SigmaFilter(f), d.meta.id))
                    .or_insert(0) += 1;
                continue;
            }
            if d.generates {
                let entity = cloudtrail_entity(d.meta.entity, r);
                self.count(
                    d.meta,
                    RuleKind::Single,
                    &Hit::default(),
                    entity,
                    record,
                    &mut evidence,
                    &mut document,
                    ts,
                );
            }
            for &c in &d.feeds {
                if !set.correlation_active(c) {
                    continue;
                }
                let corr = &set.correlations()[c];
                let Some(hit) = crate::sigma::correlation_hit(corr, d, &event, r) else {
                    continue;
                };
                let entity = hit
                    .entity
                    .clone()
                    .unwrap_or_else(|| cloudtrail_entity(corr.meta.entity, r));
                self.count(
                    corr.meta,
                    corr.kind,
                    &hit,
                    entity,
                    record,
                    &mut evidence,
                    &mut document,
                    ts,
                );
            }
        }
        self.sigma_matches = matches;
    }

    /// A successful console login with a known place, kept for the rules judged on the user's
    /// login history ([`crate::engine::history`]).
    fn keep_login(
        &mut self,
        r: &crate::sources::cloudtrail::CloudTrailRecord<'_>,
        ts: i64,
        geo: &crate::geo::GeoIp,
        evidence: &mut Evidence<'_, '_>,
    ) {
        if r.event_name != "ConsoleLogin" || r.console_login_outcome() != Some(true) {
            return;
        }
        let (Some(ip), Some(user)) = (r.source_ip(), r.user_name()) else {
            return;
        };
        let Some(place) = geo.lookup(ip) else {
            return;
        };
        let Some(doc) = evidence.get() else {
            return;
        };
        let evidence = (*doc).clone();
        self.logins.push(crate::detect::geo::Login {
            user: user.to_owned(),
            record: crate::geo::LoginRecord {
                ts,
                ip: ip.to_owned(),
                place,
            },
            account: r.account_id().map(str::to_owned),
            region: r.aws_region.as_deref().map(str::to_owned),
            evidence,
        });
    }

    /// Every rule of the record's type over it.
    fn detect(&mut self, record: &Record<'_>, ts: i64) {
        self.ts = ts;
        self.catalogue.visit(record, self);
    }
}

impl RuleVisitor for Detect<'_> {
    fn visit<T: RecordType>(
        &mut self,
        rules: &[Rule<T>],
        record: &Record<'_>,
        typed: &T::Record<'_>,
    ) {
        let ts = self.ts;
        match record {
            Record::CloudTrail(r) => {
                // Those that judge the record's source.
                let order = self.dispatch.rules_for(&r.event_source);
                let judging = order.iter().filter_map(|&i| rules.get(i as usize));
                self.run(judging, record, typed, ts, &|kind| {
                    cloudtrail_entity(kind, r)
                })
            }
            _ => self.run(rules.iter(), record, typed, ts, &|kind| {
                crate::detect::Entity {
                    kind,
                    id: "unknown".to_owned(),
                }
            }),
        }
    }
}

impl RecordHandler for Detect<'_> {
    fn handle(&mut self, record: &Record<'_>, ts: i64, raw: &str) {
        match record {
            // Our own findings, imported into Security Hub, come back as imported findings:
            // judging them again would loop.
            Record::SecurityHub(f) if crate::publish::asff::is_ours(f.generator_id.as_deref()) => {}
            Record::SecurityHub(f) => {
                self.securityhub
                    .push((f.millis(), f.id.to_string(), raw.to_owned()));
            }
            Record::CloudTrail(r) => {
                self.detect(record, ts);
                if !self.catalogue.sigma.is_empty() {
                    self.sigma(record, r, raw, ts);
                }
            }
            _ => self.detect(record, ts),
        }
    }

    fn finish(&mut self) {
        let mut versions = std::mem::take(&mut self.securityhub);
        // Stable: of versions with the same time, the last one read stays last, and is the
        // current one.
        versions.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut current: HashMap<&str, usize> = HashMap::new();
        for (i, (_, id, _)) in versions.iter().enumerate() {
            current.insert(id.as_str(), i);
        }
        for (i, (_, id, text)) in versions.iter().enumerate() {
            let superseded = current.get(id.as_str()) != Some(&i);
            if let Ok(mut record) = Record::parse(LogSource::SecurityHub, text) {
                if let Record::SecurityHub(f) = &mut record {
                    f.superseded = superseded;
                }
                if let Some(ts) = record.time() {
                    if let Record::SecurityHub(f) = &record {
                        if let Some(passed) = passed_control(f, ts) {
                            self.passed.push(passed);
                        }
                    }
                    self.detect(&record, ts);
                }
            }
        }
    }
}

/// The control `f` says passes now, if it does: its current, active version.
fn passed_control(
    f: &crate::sources::securityhub::SecurityHubFinding<'_>,
    ts: i64,
) -> Option<PassedControl> {
    if f.superseded || f.compliance_status() != Some("PASSED") || !f.is_active() {
        return None;
    }
    Some(PassedControl {
        // The entity the control rules give their findings.
        entity: format!(
            "resource:{}",
            f.resource_id()
                .or(f.aws_account_id.as_deref())
                .unwrap_or("unknown")
        ),
        control: f.control_id()?.to_owned(),
        at: ts,
    })
}

struct Normalize<'o> {
    uri: &'o str,
    out: &'o mut dyn FnMut(&crate::sources::Ecs<'_>),
    geo: Option<&'o crate::geo::GeoIp>,
}

impl RecordHandler for Normalize<'_> {
    fn handle(&mut self, record: &Record<'_>, _ts: i64, _raw: &str) {
        let mut ecs = record.to_ecs(Some(self.uri));
        if let Some(g) = self.geo {
            ecs.enrich(g);
        }
        (self.out)(&ecs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn pipeline() -> Pipeline {
        Pipeline::new(Catalogue::builtin(), PipelineConfig::default())
    }

    fn root_login(t: &str) -> String {
        serde_json::json!({
            "eventTime": t, "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.5",
            "userIdentity": {"type": "Root", "accountId": "111122223333", "arn": "arn:aws:iam::111122223333:root"},
            "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "Yes"},
            "requestParameters": {"nested": {"a": [1, 2]}}
        })
        .to_string()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn rules(report: &InputReport) -> Vec<String> {
        let mut r: Vec<String> = report
            .single_event_findings()
            .iter()
            .map(|f| f.rule.id.clone())
            .collect();
        r.sort();
        r
    }

    #[test]
    fn one_malformed_record_among_good_ones_is_kept_and_the_rest_detected() {
        // GIVEN a CloudTrail file whose second record has no eventName
        let doc = format!(
            r#"{{"Records":[{},{{"eventTime":"2026-11-01T10:00:00Z","eventSource":"s3.amazonaws.com"}},{}]}}"#,
            root_login("2026-11-01T10:00:00Z"),
            root_login("2026-11-01T10:05:00Z")
        );
        // WHEN it is scanned
        let report = pipeline().scan(&gzip(doc.as_bytes())[..], "s3://b/k", LogSource::CloudTrail);
        // THEN the good records produce their findings and the bad one is kept with its place
        assert!(report.error.is_none());
        assert_eq!(report.records, 2);
        assert_eq!(report.bad, 1);
        assert_eq!(
            report.bad_records[0].location.record,
            RecordPosition::Index(1)
        );
        assert!(
            report.bad_records[0].error.contains("eventName"),
            "{}",
            report.bad_records[0].error
        );
        assert!(report.bad_records[0].raw.contains("s3.amazonaws.com"));
        assert_eq!(
            rules(&report),
            vec!["user.root-activity", "user.root-login"]
        );
        assert_eq!(
            report.single_event_findings()[0].finding.count,
            2,
            "same window, same finding"
        );
    }

    #[test]
    fn a_non_json_object_is_counted_not_fatal() {
        let report = pipeline().scan(
            &b"\x00\x01binary junk\nmore"[..],
            "f",
            LogSource::CloudTrail,
        );
        assert!(report.error.is_none());
        assert_eq!(report.records, 0);
        assert_eq!(report.bad, 2);
        assert!(report.groups.is_empty());
    }

    #[test]
    fn an_unknown_layout_is_counted_as_bad_records() {
        let waf_like =
            br#"{"timestamp":1700000000000,"action":"BLOCK","httpRequest":{"clientIp":"1.2.3.4"}}"#;
        let report = pipeline().scan(&waf_like[..], "f", LogSource::CloudTrail);
        assert_eq!(report.bad, 1);
        assert!(report.bad_records[0]
            .error
            .contains("not a CloudTrail record"));
    }

    #[test]
    fn a_truncated_gzip_fails_the_input_after_scanning_what_was_readable() {
        let mut doc = String::from(r#"{"Records":["#);
        for i in 0..500 {
            if i > 0 {
                doc.push(',');
            }
            doc.push_str(&root_login(&format!("2026-11-01T10:{:02}:00Z", i % 60)));
        }
        doc.push_str("]}");
        let gz = gzip(doc.as_bytes());
        let report = pipeline().scan(
            &gz[..gz.len() / 2],
            "s3://b/cut.json.gz",
            LogSource::CloudTrail,
        );
        let err = report.error.expect("a cut object is an input error");
        assert!(err.is_retryable());
        assert!(err.to_string().contains("s3://b/cut.json.gz"), "{err}");
        assert!(report.records > 0 && report.records < 500);
        assert!(!report.groups.is_empty());
    }

    #[test]
    fn a_bad_event_time_is_a_bad_record() {
        let r = root_login("sometime").replace("\n", "");
        let report = pipeline().scan(r.as_bytes(), "f", LogSource::CloudTrail);
        assert_eq!(report.bad, 1);
        assert!(report.bad_records[0].error.contains("eventTime"));
    }

    #[test]
    fn pretty_printed_input_gives_one_line_json_out() {
        let v: serde_json::Value =
            serde_json::from_str(&root_login("2026-11-01T10:00:00Z")).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let mut lines = Vec::new();
        let report = pipeline().normalize(
            pretty.as_bytes(),
            "f",
            Some(LogSource::CloudTrail),
            &mut |e| {
                lines.push(serde_json::to_string(e).unwrap());
            },
        );
        assert_eq!(report.records, 1);
        assert!(!lines[0].contains('\n'));
        let scan = pipeline().scan(pretty.as_bytes(), "f", LogSource::CloudTrail);
        let doc = serde_json::to_string(&scan.single_event_findings()[0]).unwrap();
        assert!(!doc.contains('\n'));
        let back: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            back["finding"]["evidence"][0]["aws"]["cloudtrail"]["request_parameters"]["nested"]
                ["a"][1],
            2
        );
    }

    #[test]
    fn kept_bad_bytes_are_bounded_and_the_overflow_flagged() {
        let config = PipelineConfig {
            max_kept_bad_bytes: 10,
            ..PipelineConfig::default()
        };
        let p = Pipeline::new(Catalogue::builtin(), config);
        let report = p.scan(&b"aaaaaaa\nbbbbbbb\n"[..], "f", LogSource::CloudTrail);
        assert_eq!(report.bad, 2);
        assert!(report.bad_records_truncated);
        assert_eq!(report.bad_records[0].raw, "aaaaaaa");
        assert_eq!(report.bad_records[1].raw, "");
    }

    /// Hands every record of every bundled sample to `each`, read as the pipeline reads them
    /// (each record's source sniffed, findings out of their EventBridge events).
    fn every_sample_record(each: impl FnMut(&Record<'_>)) {
        struct Each<F>(F);
        impl<F: FnMut(&Record<'_>)> RecordHandler for Each<F> {
            fn handle(&mut self, record: &Record<'_>, _ts: i64, _raw: &str) {
                (self.0)(record)
            }
        }
        let mut handler = Each(each);
        let pipeline = pipeline();
        let mut files = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let file = std::fs::File::open(&path).unwrap();
            let report = pipeline.run(file, "sample", None, &mut handler, None);
            assert!(
                report.error.is_none() && report.bad == 0,
                "{path:?}: {report:?}"
            );
        }
    }

    #[test]
    fn the_document_exceptions_judge_is_the_evidence_document() {
        let mut checked = 0;
        every_sample_record(|record| {
            let mut evidence = Evidence::new(record, "s3://bucket/key", None);
            let text = evidence.get().expect("serialized");
            let from_text: Value = serde_json::from_str(text.get()).unwrap();
            let built = serde_json::to_value(evidence.ecs()).unwrap();
            assert_eq!(built, from_text);
            checked += 1;
        });
        assert!(checked > 50, "{checked} sample records");
    }

    fn sample_line(path: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(path);
        let text = std::fs::read_to_string(p).expect("sample");
        text.lines().next().expect("a line").to_owned()
    }

    #[test]
    fn json_lines_that_mix_sources_are_each_read_as_their_own() {
        // GIVEN a GuardDuty event between CloudTrail records, in an object of no known layout
        let guardduty = sample_line("samples/guardduty/guardduty-findings-2026-11-01.jsonl");
        let lines = format!(
            "{}\n{}\n{}\n",
            root_login("2026-11-01T10:00:00Z"),
            guardduty,
            root_login("2026-11-01T10:05:00Z")
        );
        // WHEN it is scanned without a source
        let report = pipeline().scan_any(lines.as_bytes(), "s3://b/mixed.jsonl", None);
        // THEN every line is used: the CloudTrail records and the GuardDuty finding
        assert_eq!(
            (report.records, report.bad),
            (3, 0),
            "{:?}",
            report.bad_records
        );
        assert!(report
            .groups
            .iter()
            .any(|g| g.meta().id.starts_with("threat.guardduty")));
        assert!(report
            .groups
            .iter()
            .any(|g| g.meta().id == "user.root-login"));
    }

    #[test]
    fn memory_for_bad_records_is_bounded_and_every_one_counted() {
        let config = PipelineConfig {
            max_kept_bad_records: 100,
            ..PipelineConfig::default()
        };
        let p = Pipeline::new(Catalogue::builtin(), config);
        let mut text = String::new();
        for i in 0..50_000 {
            text.push_str(&format!("not json {i}\n"));
            if i % 1000 == 0 {
                text.push_str(&root_login("2026-11-01T10:00:00Z").replace('\n', ""));
                text.push('\n');
            }
        }
        let report = p.scan(&gzip(text.as_bytes())[..], "f", LogSource::CloudTrail);
        // records in = records used + records counted as bad
        assert_eq!(report.records, 50);
        assert_eq!(report.bad, 50_000);
        assert_eq!(report.bad_records.len(), 100);
        assert!(report.bad_records_truncated);
        assert!(!report.groups.is_empty(), "the good records still detect");
    }

    #[test]
    fn eighty_thousand_security_hub_findings_are_judged_in_one_pass() {
        // GIVEN 80,000 findings as JSON lines: 40,000 controls, each with an older FAILED and a
        // newer PASSED version, the newer first
        let event = sample_line("samples/securityhub/securityhub-findings-2026-11.jsonl");
        let v: serde_json::Value = serde_json::from_str(&event).unwrap();
        let base = v["detail"]["findings"][0].clone();
        let mut text = String::new();
        for i in 0..40_000 {
            for (status, at) in [
                ("PASSED", "2026-11-02T10:00:00.000Z"),
                ("FAILED", "2026-11-01T10:00:00.000Z"),
            ] {
                let mut f = base.clone();
                f["Id"] = format!("finding-{i}").into();
                f["Compliance"]["Status"] = status.into();
                f["RecordState"] = "ACTIVE".into();
                f["Workflow"] = serde_json::json!({"Status": "NEW"});
                f["UpdatedAt"] = at.into();
                text.push_str(&f.to_string());
                text.push('\n');
            }
        }
        let started = std::time::Instant::now();
        let report = pipeline().scan(text.as_bytes(), "f", LogSource::SecurityHub);
        let took = started.elapsed();
        println!("80,000 Security Hub findings: {took:?}");
        assert_eq!((report.records, report.bad), (80_000, 0));
        // THEN only the newest version of each counts: all pass, no control failed
        assert!(
            !report
                .groups
                .iter()
                .any(|g| g.meta().id == "control.failed"),
            "superseded versions were judged as current"
        );
        // (a quadratic pass takes minutes here; one pass takes a second or two in a debug build)
        assert!(took.as_secs() < 60, "{took:?}");
    }

    #[test]
    fn times_outside_1970_to_9999_are_bad_records_in_every_source() {
        let year_zero = root_login("0000-01-01T00:00:00Z");
        let report = pipeline().scan(year_zero.as_bytes(), "f", LogSource::CloudTrail);
        assert_eq!((report.records, report.bad), (0, 1));
        assert!(report.bad_records[0].error.contains("1970 to 9999"));
        let waf = r#"{"timestamp":-62167219200000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/a/1","terminatingRuleId":"Default_Action","terminatingRuleType":"REGULAR","action":"ALLOW","httpSourceName":"ALB","httpSourceId":"x","httpRequest":{"clientIp":"1.2.3.4","country":"US","headers":[],"uri":"/","httpMethod":"GET"}}"#;
        let report = pipeline().scan(waf.as_bytes(), "f", LogSource::Waf);
        assert_eq!(
            (report.records, report.bad),
            (0, 1),
            "{:?}",
            report.bad_records
        );
    }

    #[test]
    fn one_private_ip_in_two_accounts_makes_two_network_firewall_findings() {
        let alert = r#"{"firewall_name":"fw","availability_zone":"us-east-1a","event_timestamp":"1793527200","event":{"timestamp":"2026-11-01T10:00:00.000000+0000","flow_id":1,"event_type":"alert","src_ip":"10.0.12.34","src_port":40000,"dest_ip":"198.51.100.200","dest_port":4444,"proto":"TCP","alert":{"action":"allowed","signature_id":7,"rev":1,"signature":"x","category":"","severity":1}}}"#;
        let ids = |account: &str| -> Vec<(String, Option<String>)> {
            let key = format!(
                "s3://b/AWSLogs/{account}/network-firewall/alert/us-east-1/fw/2026/11/01/10/a.log"
            );
            pipeline()
                .scan(alert.as_bytes(), &key, LogSource::NetworkFirewall)
                .groups
                .into_iter()
                .map(|g| {
                    let f = g.build();
                    (f.finding.id.clone(), f.cloud.account.map(|a| a.id))
                })
                .collect()
        };
        let (a, b) = (ids("111111111111"), ids("222222222222"));
        assert_eq!(a.len(), 1);
        assert_ne!(a[0].0, b[0].0, "one finding per account");
        assert_eq!(a[0].1.as_deref(), Some("111111111111"));
        assert_eq!(b[0].1.as_deref(), Some("222222222222"));
    }
}
