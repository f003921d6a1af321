//! The users' own detections, in Sigma: SigmaHQ's CloudTrail rules work unchanged.
//!
//! Rules are YAML files (`product: aws`, `service: cloudtrail`), read from a folder or an S3
//! prefix once at cold start, parsed and compiled by `rsigma` (the evaluator: its modifiers,
//! conditions, correlations and filters follow the Sigma specification) and evaluated against
//! the raw record under CloudTrail's own field names ([`RecordEvent`]). What they find goes the
//! way of every built-in rule's hits, through the same exceptions, windows, ledger and claims:
//!
//! - a **detection** rule is a single-event rule `sigma.<its id>`;
//! - a **correlation** rule (`event_count`, `value_count`, `temporal`) is a window rule
//!   `sigma.<its id>` counted on the state store's windows (tumbling windows of its
//!   `timespan`, per value of its `group-by` fields), exactly once like the built-in ones; the
//!   rules it correlates make no findings of their own unless it says `generate: true`;
//! - a **filter** keeps the events it excludes from the rules it names, and each event it keeps
//!   out is counted as the tuning's exceptions count theirs.
//!
//! A rule that cannot be used is rejected alone, with its reason ([`Rejected`]); the others
//! load. Strings of a loaded rule live as long as the process (they are loaded once).

mod event;
mod remember;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rsigma_eval::compile_rule;
use rsigma_eval::compiler::{compile_detection, eval_condition, CompiledDetection};
use rsigma_eval::{CompiledRule, Event};
use rsigma_parser::{
    ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType,
    FilterRuleTarget, Level, WindowMode,
};

pub use event::RecordEvent;

use crate::detect::{Attack, Category, EntityKind, RuleKind, RuleMeta, Severity};

/// How long hits of a Sigma detection rule for the same principal make one finding.
pub const DEDUP_MINUTES: u32 = 60;

/// A rule that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The file it came from.
    pub file: String,
    /// Its title, when it got that far.
    pub title: Option<String>,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.title {
            Some(t) => write!(f, "{}: {t:?}: {}", self.file, self.reason),
            None => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

/// A Sigma detection rule, compiled.
#[derive(Debug, Clone)]
pub struct Detection {
    /// Its data, as a finding shows it (`sigma.<id>`).
    pub meta: RuleMeta,
    /// The file it came from.
    pub file: String,
    /// Whether its matches are findings of their own (not only a correlation's events).
    pub generates: bool,
    /// The correlations its matches count for ([`SigmaSet::correlations`]).
    pub feeds: Vec<usize>,
    /// The filters that apply to it ([`SigmaSet::filters`]).
    pub filters: Vec<usize>,
    /// Its name and title, by which correlations and filters name it.
    names: Vec<String>,
    compiled: Arc<CompiledRule>,
    /// Always single; kept to be walked with the others.
    kind: RuleKind,
    active: bool,
}

/// What a correlation counts of each event.
#[derive(Debug, Clone, PartialEq)]
pub enum Counted {
    /// Events (`event_count`).
    Events,
    /// Distinct values of a field (`value_count`).
    Values(String),
    /// Which of its rules matched (`temporal`: all of them in the window).
    Rules,
}

/// A Sigma correlation rule, as a window rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    /// Its data (`sigma.<id>`).
    pub meta: RuleMeta,
    /// Its window and thresholds.
    pub kind: RuleKind,
    /// The file it came from.
    pub file: String,
    /// The fields whose values make a group: the finding's entity.
    pub group_by: Vec<String>,
    /// What it counts.
    pub counted: Counted,
    active: bool,
}

/// A Sigma filter.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Its title.
    pub title: String,
    /// The file it came from.
    pub file: String,
    detections: Arc<HashMap<String, CompiledDetection>>,
    conditions: Arc<Vec<ConditionExpr>>,
}

impl Filter {
    /// How its suppressed counts are labelled (beside the tuning's exceptions).
    pub fn label(&self) -> String {
        format!("sigma filter {:?} ({})", self.title, self.file)
    }

    /// Whether `event` passes it (the rule it applies to may fire).
    fn passes(&self, event: &impl Event) -> bool {
        let mut matched = Vec::new();
        match self.conditions.first() {
            Some(c) => eval_condition(c, &self.detections, event, &mut matched),
            None => self.detections.keys().all(|name| {
                eval_condition(
                    &ConditionExpr::Identifier(name.clone()),
                    &self.detections,
                    event,
                    &mut matched,
                )
            }),
        }
    }
}

/// What a detection rule said about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// The rule ([`SigmaSet::detections`]).
    pub detection: usize,
    /// The filter that kept the event from it, if one did.
    pub filtered_by: Option<usize>,
}

/// The Sigma rules of a deployment: what loaded, and what did not.
#[derive(Debug, Clone, Default)]
pub struct SigmaSet {
    detections: Vec<Detection>,
    correlations: Vec<Correlation>,
    filters: Vec<Filter>,
    rejected: Vec<Rejected>,
    index: Index,
}

/// The custom attribute that carries a detection's position into rsigma's engine and back.
const INDEX_ATTRIBUTE: &str = "x-cloudsec-detection";

/// rsigma's engines over the active detections: its candidate index takes from each rule the
/// conditions every match needs (an `eventName` or `eventSource` it must equal, a field it
/// must have, a substring), so a record is evaluated only by the rules it can match, not by
/// every rule. The rules that read only a record's few-valued fields have an engine of their
/// own, whose answers are remembered ([`remember`]); the others are asked of every record.
/// Rebuilt whenever the set of active detections changes.
#[derive(Clone, Default)]
struct Index {
    /// The rules whose answers are remembered, and the fields they read, in order.
    remembered: Option<Arc<rsigma_eval::Engine>>,
    fields: Arc<[String]>,
    /// The other rules.
    others: Option<Arc<rsigma_eval::Engine>>,
    /// This rule set among the process's, for the remembered answers.
    id: u64,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |e: &Option<Arc<rsigma_eval::Engine>>| e.as_ref().map_or(0, |e| e.rule_count());
        write!(
            f,
            "Index({} rules remembered by {:?}, {} others)",
            count(&self.remembered),
            self.fields,
            count(&self.others)
        )
    }
}

/// rsigma's engine over `rules`, or none.
fn engine(rules: Vec<CompiledRule>) -> Option<Arc<rsigma_eval::Engine>> {
    if rules.is_empty() {
        return None;
    }
    let mut engine = rsigma_eval::Engine::new();
    engine.set_include_event(false);
    engine.set_match_detail(rsigma_eval::MatchDetailLevel::Off);
    engine.extend_compiled_rules(rules);
    Some(Arc::new(engine))
}

/// The detection a match of the engines is, by the attribute [`SigmaSet::reindex`] gave it.
fn detection_of(m: &rsigma_eval::EvaluationResult) -> Option<usize> {
    m.header
        .custom_attributes
        .get(INDEX_ATTRIBUTE)
        .and_then(serde_json::Value::as_u64)
        .and_then(|i| usize::try_from(i).ok())
}

impl SigmaSet {
    /// The rules of `docs` (file name, YAML text; a file may hold several documents). Every
    /// document loads or is rejected with its reason; none stops the others.
    pub fn load<N: AsRef<str>, T: AsRef<str>>(docs: impl IntoIterator<Item = (N, T)>) -> SigmaSet {
        let mut set = SigmaSet::default();
        let mut correlations = Vec::new();
        let mut filters = Vec::new();
        let attacks = known_attacks();
        for (file, text) in docs {
            let file = file.as_ref();
            let collection = match rsigma_parser::parse_sigma_yaml(text.as_ref()) {
                Ok(c) => c,
                Err(e) => {
                    set.reject(file, None, format!("not a Sigma rule: {e}"));
                    continue;
                }
            };
            for e in &collection.errors {
                set.reject(file, None, format!("not a Sigma rule: {e}"));
            }
            for rule in &collection.rules {
                match detection(file, rule, &attacks) {
                    Ok(d) if set.detections.iter().any(|x| x.meta.id == d.meta.id) => {
                        let reason = format!("its id {} is taken by another rule", d.meta.id);
                        set.reject(file, Some(&rule.title), reason);
                    }
                    Ok(d) => set.detections.push(d),
                    Err(reason) => set.reject(file, Some(&rule.title), reason),
                }
            }
            correlations.extend(
                collection
                    .correlations
                    .into_iter()
                    .map(|c| (file.to_owned(), c)),
            );
            filters.extend(collection.filters.into_iter().map(|f| (file.to_owned(), f)));
        }
        // Correlations and filters name rules of any file: they are resolved once all are read.
        for (file, c) in correlations {
            match set.correlation(&file, &c, &attacks) {
                Ok(()) => {}
                Err(reason) => set.reject(&file, Some(&c.title), reason),
            }
        }
        for (file, f) in filters {
            match set.filter(&file, &f) {
                Ok(()) => {}
                Err(reason) => set.reject(&file, Some(&f.title), reason),
            }
        }
        set.reindex();
        set
    }

    /// Builds [`Index`] over the active detections.
    fn reindex(&mut self) {
        static SETS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut read = [false; remember::FIELDS.len()];
        let (remembered, others): (Vec<CompiledRule>, Vec<CompiledRule>) = self
            .detections
            .iter()
            .enumerate()
            .filter(|(_, d)| d.active)
            .map(|(i, d)| {
                let mut rule = (*d.compiled).clone();
                Arc::make_mut(&mut rule.custom_attributes)
                    .insert(INDEX_ATTRIBUTE.to_owned(), serde_json::Value::from(i));
                // rsigma copies a rule's title, id and tags into each of its matches; a match
                // here is read for its index alone (the rule's data is the detection's), so the
                // engine's copy of the rule holds none of them, and a match copies nothing.
                rule.title = String::new();
                rule.id = None;
                rule.tags = Vec::new();
                rule
            })
            .partition(|rule| match remember::fields_read(rule) {
                Some(fields) => {
                    read.iter_mut().zip(fields).for_each(|(r, f)| *r |= f);
                    true
                }
                None => false,
            });
        let fields: Vec<String> = remember::FIELDS
            .iter()
            .zip(read)
            .filter(|(_, r)| *r)
            .map(|(f, _)| (*f).to_owned())
            .collect();
        self.index = Index {
            remembered: engine(remembered),
            fields: fields.into(),
            others: engine(others),
            id: SETS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        };
    }

    /// The rules of the `.yml`/`.yaml` files under `dir`, at any depth, in path order. An
    /// unreadable file is rejected alone; an unreadable folder is an error.
    pub fn load_dir(dir: &Path) -> std::io::Result<SigmaSet> {
        let mut files = Vec::new();
        collect_yaml(dir, &mut files)?;
        files.sort();
        let mut unreadable = Vec::new();
        let mut docs = Vec::new();
        for path in files {
            let name = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(text) => docs.push((name, text)),
                Err(e) => unreadable.push(Rejected {
                    file: name,
                    title: None,
                    reason: format!("unreadable: {e}"),
                }),
            }
        }
        let mut set = SigmaSet::load(docs);
        set.rejected.extend(unreadable);
        Ok(set)
    }

    /// Whether it holds no rule.
    pub fn is_empty(&self) -> bool {
        self.detections.is_empty() && self.correlations.is_empty()
    }

    /// The detection rules.
    pub fn detections(&self) -> &[Detection] {
        &self.detections
    }

    /// The correlation rules.
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// The filters.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// The rules that could not be used, with their reasons.
    pub fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }

    /// Every active rule's data and kind: detections, then correlations.
    pub fn rules(&self) -> impl Iterator<Item = (&RuleMeta, RuleKind)> {
        let detections = self
            .detections
            .iter()
            .filter(|d| d.active)
            .map(|d| (&d.meta, d.kind));
        let correlations = self
            .correlations
            .iter()
            .filter(|c| c.active)
            .map(|c| (&c.meta, c.kind));
        detections.chain(correlations)
    }

    /// The same walk, to change them (the deployment's overrides).
    pub fn rules_mut(&mut self) -> impl Iterator<Item = (&mut RuleMeta, &mut RuleKind)> {
        let detections = self
            .detections
            .iter_mut()
            .filter(|d| d.active)
            .map(|d| (&mut d.meta, &mut d.kind));
        let correlations = self
            .correlations
            .iter_mut()
            .filter(|c| c.active)
            .map(|c| (&mut c.meta, &mut c.kind));
        detections.chain(correlations)
    }

    /// Keeps only the rules for which `keep` holds (a tuning file's disabled rules leave).
    pub fn retain(&mut self, keep: &dyn Fn(&RuleMeta) -> bool) {
        for d in &mut self.detections {
            d.active &= keep(&d.meta);
        }
        for c in &mut self.correlations {
            c.active &= keep(&c.meta);
        }
        self.reindex();
    }

    /// Evaluates the active detection rules on `event` (those the index does not rule out)
    /// and pushes what matched, in the rules' order.
    pub fn evaluate(&self, event: &impl Event, out: &mut Vec<Match>) {
        let start = out.len();
        let mut found = |i: usize| {
            if let Some(d) = self.detections.get(i).filter(|d| d.active) {
                out.push(self.matched(i, d, event));
            }
        };
        if let Some(engine) = &self.index.remembered {
            let evaluate = || {
                let matches = engine.evaluate(event);
                matches.iter().filter_map(detection_of).collect()
            };
            remember::answer(
                self.index.id,
                &self.index.fields,
                event,
                evaluate,
                &mut found,
            );
        }
        if let Some(engine) = &self.index.others {
            engine
                .evaluate(event)
                .iter()
                .filter_map(detection_of)
                .for_each(&mut found);
        }
        out[start..].sort_by_key(|m| m.detection);
    }

    /// How many of the active detections have their answers remembered, and by which fields.
    pub fn remembered(&self) -> (usize, &[String]) {
        let rules = self.index.remembered.as_ref().map_or(0, |e| e.rule_count());
        (rules, &self.index.fields)
    }

    /// How many keys this thread remembers answers for (the tests' measure).
    #[doc(hidden)]
    pub fn remembered_keys(&self) -> usize {
        remember::remembered(self.index.id)
    }

    /// [`SigmaSet::evaluate`] by every active rule in turn, without the index: what the
    /// index must agree with (a test holds them equal over every corpus record).
    #[doc(hidden)]
    pub fn evaluate_unindexed(&self, event: &impl Event, out: &mut Vec<Match>) {
        for (i, d) in self.detections.iter().enumerate() {
            if !d.active || rsigma_eval::evaluate_rule(&d.compiled, event).is_none() {
                continue;
            }
            out.push(self.matched(i, d, event));
        }
    }

    /// The match of detection `i` (`d`) on `event`, with the first filter that keeps the event
    /// from it, if one does.
    fn matched(&self, i: usize, d: &Detection, event: &impl Event) -> Match {
        Match {
            detection: i,
            filtered_by: d
                .filters
                .iter()
                .copied()
                .find(|&f| !self.filters[f].passes(event)),
        }
    }

    /// Whether a correlation is active.
    pub fn correlation_active(&self, i: usize) -> bool {
        self.correlations.get(i).is_some_and(|c| c.active)
    }

    fn reject(&mut self, file: &str, title: Option<&str>, reason: String) {
        self.rejected.push(Rejected {
            file: file.to_owned(),
            title: title.map(str::to_owned),
            reason: one_line(&reason),
        });
    }

    /// The detection a correlation or filter names: by id, name or title.
    fn find(&self, name: &str) -> Option<usize> {
        self.detections.iter().position(|d| {
            d.meta.id.strip_prefix("sigma.") == Some(name) || d.names.iter().any(|n| n == name)
        })
    }

    fn correlation(
        &mut self,
        file: &str,
        c: &CorrelationRule,
        attacks: &HashMap<String, Attack>,
    ) -> Result<(), String> {
        let id =
            c.id.as_deref()
                .ok_or("no id: a finding's id is made from the rule's")?;
        if self.find(id).is_some() || self.correlations.iter().any(|x| x.meta.id == sigma_id(id)) {
            return Err(format!("its id {id} is taken by another rule"));
        }
        if !c.aliases.is_empty() {
            return Err("field aliases are not supported".into());
        }
        if c.window == WindowMode::Session {
            return Err("session windows are not supported (windows are tumbling)".into());
        }
        let rules: Vec<usize> = c
            .rules
            .iter()
            .map(|r| {
                self.find(r)
                    .ok_or_else(|| format!("it correlates {r:?}, which is not a loaded rule"))
            })
            .collect::<Result<_, _>>()?;
        if rules.is_empty() {
            return Err("it correlates no rule".into());
        }
        let window_minutes = u32::try_from(c.timespan.seconds.div_ceil(60).max(1))
            .map_err(|_| format!("timespan {} is too long", c.timespan.original))?;
        let (min, field) = match &c.condition {
            CorrelationCondition::Threshold {
                predicates, field, ..
            } => (at_least(predicates)?, field.as_ref().and_then(|f| f.first().cloned())),
            CorrelationCondition::Extended(_) if c.correlation_type == CorrelationType::Temporal => {
                return Err("temporal conditions over rule names are not supported (all of the rules must match)".into())
            }
            CorrelationCondition::Extended(_) => return Err("an extended condition is only for temporal rules".into()),
        };
        let (counted, kind) = match c.correlation_type {
            CorrelationType::EventCount => (
                Counted::Events,
                RuleKind::Window {
                    window_minutes,
                    min_count: min.max(1),
                    min_distinct: [0, 0],
                },
            ),
            CorrelationType::ValueCount => {
                let field = field.ok_or("value_count needs the field whose values it counts")?;
                let most = crate::state::MAX_DISTINCT_PER_INPUT as u64;
                if min > most {
                    return Err(format!(
                        "value_count above {most} distinct values is not supported"
                    ));
                }
                (
                    Counted::Values(field),
                    RuleKind::Window {
                        window_minutes,
                        min_count: 1,
                        min_distinct: [min.max(1), 0],
                    },
                )
            }
            CorrelationType::Temporal => {
                let n = rules.len() as u64;
                (
                    Counted::Rules,
                    RuleKind::Window {
                        window_minutes,
                        min_count: n,
                        min_distinct: [n, 0],
                    },
                )
            }
            other => {
                return Err(format!(
                    "correlation type {} is not supported (event_count, value_count, temporal are)",
                    other.as_str()
                ))
            }
        };
        let entity = group_entity(&c.group_by);
        let meta = Described {
            id,
            title: &c.title,
            description: c.description.as_deref(),
            level: c.level,
            tags: &c.tags,
            falsepositives: &c.falsepositives,
            references: &c.references,
        }
        .meta(entity, window_minutes, attacks);
        let index = self.correlations.len();
        self.correlations.push(Correlation {
            meta,
            kind,
            file: file.to_owned(),
            group_by: c.group_by.clone(),
            counted,
            active: true,
        });
        for r in rules {
            let d = &mut self.detections[r];
            d.feeds.push(index);
            // The correlated rules' own matches are findings only if a correlation says so.
            if d.feeds.len() == 1 {
                d.generates = c.generate;
            } else {
                d.generates |= c.generate;
            }
        }
        Ok(())
    }

    fn filter(&mut self, file: &str, f: &rsigma_parser::FilterRule) -> Result<(), String> {
        if let Some(ls) = &f.logsource {
            check_logsource(ls)?;
        }
        let detections = f
            .detection
            .named
            .iter()
            .map(|(name, d)| {
                compile_detection(d)
                    .map(|c| (name.clone(), c))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        let targets: Vec<usize> = match &f.rules {
            FilterRuleTarget::Any => (0..self.detections.len()).collect(),
            FilterRuleTarget::Specific(names) => names
                .iter()
                .map(|n| {
                    self.find(n)
                        .ok_or_else(|| format!("it filters {n:?}, which is not a loaded rule"))
                })
                .collect::<Result<_, _>>()?,
        };
        let index = self.filters.len();
        self.filters.push(Filter {
            title: f.title.clone(),
            file: file.to_owned(),
            detections: Arc::new(detections),
            conditions: Arc::new(f.detection.conditions.clone()),
        });
        for t in targets {
            self.detections[t].filters.push(index);
        }
        Ok(())
    }
}

/// A parser's message on one line; the deprecated aggregation in a condition named as such.
fn one_line(reason: &str) -> String {
    let flat = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    let aggregation = [
        "| count(", "| near ", "| min(", "| max(", "| sum(", "| avg(",
    ];
    if flat.contains("Condition parse error") && aggregation.iter().any(|a| flat.contains(a)) {
        return format!(
            "an aggregation in the condition (`| count()`, `| near`) is Sigma's deprecated form: write it as a correlation rule ({flat})"
        );
    }
    flat
}

/// The least count a threshold's predicates allow, when they only set a floor.
fn at_least(predicates: &[(ConditionOperator, u64)]) -> Result<u64, String> {
    let mut min = 1;
    for (op, n) in predicates {
        min = match op {
            ConditionOperator::Gte => min.max(*n),
            ConditionOperator::Gt => min.max(n.saturating_add(1)),
            other => {
                return Err(format!(
                    "condition {other:?} is not supported: a window fires once when a count is reached (gte, gt)"
                ))
            }
        };
    }
    Ok(min)
}

fn detection(
    file: &str,
    rule: &rsigma_parser::SigmaRule,
    attacks: &HashMap<String, Attack>,
) -> Result<Detection, String> {
    check_logsource(&rule.logsource)?;
    let id = rule
        .id
        .as_deref()
        .ok_or("no id: a finding's id is made from the rule's")?;
    if rule.detection.timeframe.is_some() {
        return Err(
            "`timeframe` aggregations are not supported: write a correlation rule".to_owned(),
        );
    }
    let compiled = compile_rule(rule).map_err(|e| e.to_string())?;
    let entity = match rule.custom_attributes.get("x-cloudsec-entity") {
        None => EntityKind::Principal,
        Some(v) => entity_kind(v.as_str().unwrap_or_default()).ok_or_else(|| {
            "x-cloudsec-entity is one of user, principal, ip, account, access_key".to_owned()
        })?,
    };
    let meta = Described {
        id,
        title: &rule.title,
        description: rule.description.as_deref(),
        level: rule.level,
        tags: &rule.tags,
        falsepositives: &rule.falsepositives,
        references: &rule.references,
    }
    .meta(entity, DEDUP_MINUTES, attacks);
    let mut names = vec![rule.title.clone()];
    names.extend(rule.name.clone());
    Ok(Detection {
        meta,
        file: file.to_owned(),
        generates: true,
        feeds: Vec::new(),
        filters: Vec::new(),
        names,
        compiled: Arc::new(compiled),
        kind: RuleKind::Single,
        active: true,
    })
}

/// What detection and correlation rules both say about themselves.
struct Described<'r> {
    id: &'r str,
    title: &'r str,
    description: Option<&'r str>,
    level: Option<Level>,
    tags: &'r [String],
    falsepositives: &'r [String],
    references: &'r [String],
}

impl Described<'_> {
    /// The rule's data as a finding shows it.
    fn meta(
        &self,
        entity: EntityKind,
        dedup_minutes: u32,
        attacks: &HashMap<String, Attack>,
    ) -> RuleMeta {
        RuleMeta {
            id: leak(sigma_id(self.id)),
            title: leak(self.title.to_owned()),
            description: leak(self.description.unwrap_or(self.title).to_owned()),
            severity: severity(self.level),
            category: category(self.tags),
            entity,
            attack: attack(self.tags, attacks),
            dedup_minutes,
            action_plan: action_plan(self.falsepositives),
            references: leak_all(self.references),
        }
    }
}

/// Only CloudTrail's records are evaluated: a rule for another log would never fire.
fn check_logsource(ls: &rsigma_parser::LogSource) -> Result<(), String> {
    let product = ls.product.as_deref().unwrap_or("");
    let service = ls.service.as_deref().unwrap_or("");
    if product.eq_ignore_ascii_case("aws") && service.eq_ignore_ascii_case("cloudtrail") {
        return Ok(());
    }
    Err(format!(
        "unknown logsource (product {product:?}, service {service:?}): rules are read for product aws, service cloudtrail"
    ))
}

/// The entity of a correlation's findings: its one `group-by` field's kind when it names one,
/// else the account.
fn group_entity(group_by: &[String]) -> EntityKind {
    match group_by {
        [f] => match f.as_str() {
            "userIdentity.arn" => EntityKind::Principal,
            "userIdentity.userName" | "userIdentity.sessionContext.sessionIssuer.userName" => {
                EntityKind::User
            }
            "sourceIPAddress" => EntityKind::Ip,
            "userIdentity.accessKeyId" => EntityKind::AccessKey,
            "recipientAccountId" | "userIdentity.accountId" => EntityKind::Account,
            _ => EntityKind::Resource,
        },
        [] => EntityKind::Account,
        _ => EntityKind::Resource,
    }
}

fn entity_kind(name: &str) -> Option<EntityKind> {
    [
        EntityKind::User,
        EntityKind::Principal,
        EntityKind::Ip,
        EntityKind::Account,
        EntityKind::AccessKey,
    ]
    .into_iter()
    .find(|k| k.as_str() == name)
}

fn sigma_id(id: &str) -> String {
    format!("sigma.{id}")
}

fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Informational) | None => Severity::Info,
        Some(Level::Low) => Severity::Low,
        Some(Level::Medium) => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

/// ATT&CK's tactics, by the names Sigma's tags give them.
const TACTICS: [(&str, &str, &str); 14] = [
    ("reconnaissance", "TA0043", "Reconnaissance"),
    ("resource-development", "TA0042", "Resource Development"),
    ("initial-access", "TA0001", "Initial Access"),
    ("execution", "TA0002", "Execution"),
    ("persistence", "TA0003", "Persistence"),
    ("privilege-escalation", "TA0004", "Privilege Escalation"),
    ("defense-evasion", "TA0005", "Defense Evasion"),
    ("credential-access", "TA0006", "Credential Access"),
    ("discovery", "TA0007", "Discovery"),
    ("lateral-movement", "TA0008", "Lateral Movement"),
    ("collection", "TA0009", "Collection"),
    ("exfiltration", "TA0010", "Exfiltration"),
    ("command-and-control", "TA0011", "Command and Control"),
    ("impact", "TA0040", "Impact"),
];

/// The techniques the built-in rules name, by id: their names for Sigma's tags.
fn known_attacks() -> HashMap<String, Attack> {
    crate::detect::Catalogue::builtin()
        .metas()
        .filter_map(|m| m.attack)
        .map(|a| (a.technique_id.to_ascii_lowercase(), a))
        .collect()
}

/// `attack.<tactic>` and `attack.t<id>` tags as one tactic and technique (the first of each).
fn attack(tags: &[String], known: &HashMap<String, Attack>) -> Option<Attack> {
    let names: Vec<&str> = tags
        .iter()
        .filter_map(|t| t.strip_prefix("attack."))
        .collect();
    let tactic = names
        .iter()
        .find_map(|n| TACTICS.iter().find(|(tag, _, _)| tag == n));
    let technique = names
        .iter()
        .find(|n| n.starts_with('t') && n[1..].starts_with(|c: char| c.is_ascii_digit()));
    if tactic.is_none() && technique.is_none() {
        return None;
    }
    let (tactic_id, tactic) = tactic.map_or(("", ""), |(_, id, name)| (*id, *name));
    let (technique_id, technique) = match technique {
        Some(t) => match known.get(*t) {
            Some(a) => (a.technique_id, a.technique),
            None => {
                let id = leak(t.to_ascii_uppercase());
                (id, id)
            }
        },
        None => ("", ""),
    };
    Some(Attack {
        tactic_id,
        tactic,
        technique_id,
        technique,
    })
}

/// The dashboard of a rule, by its first ATT&CK tactic.
fn category(tags: &[String]) -> Category {
    let tactic = tags.iter().find_map(|t| {
        let t = t.strip_prefix("attack.")?;
        TACTICS.iter().any(|(tag, _, _)| *tag == t).then_some(t)
    });
    match tactic {
        Some("initial-access") | Some("reconnaissance") => Category::UserActivity,
        Some("credential-access") | Some("execution") | Some("lateral-movement") => {
            Category::CredentialAccess
        }
        _ => Category::ConfigIam,
    }
}

/// The responder's steps: confirm, weigh the rule's known false positives, contain.
fn action_plan(falsepositives: &[String]) -> &'static [&'static str] {
    let mut steps = vec![
        "Confirm with the owner of the principal whether this call was intended; read the evidence event and the rule's description.".to_owned(),
    ];
    let known: Vec<&str> = falsepositives
        .iter()
        .map(String::as_str)
        .filter(|f| !f.eq_ignore_ascii_case("unknown"))
        .collect();
    if !known.is_empty() {
        steps.push(format!("Known false positives: {}.", known.join("; ")));
    }
    steps.push(
        "If it was not intended: revoke the principal's sessions and keys, and undo the change."
            .to_owned(),
    );
    leak_all(&steps)
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn leak_all(items: &[String]) -> &'static [&'static str] {
    Box::leak(
        items
            .iter()
            .map(|s| leak(s.clone()))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

fn collect_yaml(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// What one match of `detection` adds to the correlation `c`: a hit about the group of the
/// event (the values of its `group-by` fields), with the value it counts. `None` when the
/// event lacks the field a `value_count` counts.
pub fn correlation_hit(
    c: &Correlation,
    detection: &Detection,
    event: &impl Event,
    r: &crate::sources::cloudtrail::CloudTrailRecord<'_>,
) -> Option<crate::detect::Hit> {
    let counted = match &c.counted {
        Counted::Events => None,
        Counted::Values(field) => Some(field_text(event, field)?),
        Counted::Rules => Some(detection.meta.id.to_owned()),
    };
    let entity = if c.group_by.is_empty() {
        crate::detect::cloudtrail_entity(EntityKind::Account, r)
    } else {
        let values: Vec<String> = c
            .group_by
            .iter()
            .map(|f| field_text(event, f).unwrap_or_else(|| "unknown".to_owned()))
            .collect();
        crate::detect::Entity {
            kind: c.meta.entity,
            id: values.join("/"),
        }
    };
    Some(crate::detect::Hit {
        entity: Some(entity),
        distinct: [counted, None],
        ..crate::detect::Hit::default()
    })
}

/// A field's value as text (a scalar's), if the event has one.
fn field_text(event: &impl Event, field: &str) -> Option<String> {
    event
        .get_field(field)
        .and_then(|v| v.as_str().map(|s| s.into_owned()))
}

#[cfg(test)]
mod tests;
