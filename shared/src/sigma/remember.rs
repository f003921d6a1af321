//! rsigma's answers remembered for the rules that read only a record's few-valued fields.
//!
//! Most of SigmaHQ's CloudTrail rules select on `eventSource`, `eventName` and little else (the
//! caller's kind); a log repeats a few hundred such combinations. What rsigma says of a record
//! for those rules is a function of the values of the fields they read, so it is asked once per
//! combination, per thread, and remembered: the rules' evaluation, and the candidate index's
//! probes before it, cost a lookup on every other record.
//!
//! A rule is remembered only when all it reads is one of [`FIELDS`] through a matcher that
//! looks at the field's own value (no keyword, no field reference, no placeholder, no timestamp
//! part, no array-member scope): walked in its compiled form ([`fields_read`]). The key is what
//! the record answers for each field the remembered rules read, as rsigma would be answered
//! (absent or the string); a record that answers one of them otherwise (null, a number, an
//! object) is evaluated and not remembered. The memory is bounded: at most [`REMEMBERED`] keys
//! of at most [`MAX_KEY`] bytes per thread, started afresh when full, so a log of distinct
//! hostile values costs an evaluation each, as without it, and no more memory.

use std::cell::RefCell;
use std::collections::HashMap;

use rsigma_eval::compiler::CompiledDetection;
use rsigma_eval::{CompiledMatcher, CompiledRule, Event, EventValue};

/// The fields whose values a remembered rule may read: the record's own, answered from its
/// typed parse, each with few values in a log, and present in every record CloudTrail writes
/// (the session issuer's type is absent with its issuer, which the typed record tells). Not
/// `errorCode`: absent from most records, and an absent field is told from the record's
/// text (about 1,900 instructions a record, more than its rules' evaluation spares).
pub const FIELDS: [&str; 6] = [
    "eventSource",
    "eventName",
    "eventType",
    "eventCategory",
    "userIdentity.type",
    "userIdentity.sessionContext.sessionIssuer.type",
];

/// Keys remembered per thread, at most.
pub const REMEMBERED: usize = 4096;

/// The longest key remembered, in bytes.
pub const MAX_KEY: usize = 512;

/// Which of [`FIELDS`] `rule` reads (`fields[i]` set for `FIELDS[i]`), when what it says of an
/// event depends on nothing else; `None` when it may.
pub fn fields_read(rule: &CompiledRule) -> Option<[bool; FIELDS.len()]> {
    fn walk(d: &CompiledDetection, read: &mut [bool; FIELDS.len()]) -> bool {
        match d {
            CompiledDetection::AllOf(items) => items.iter().all(|item| {
                let at = item
                    .field
                    .as_deref()
                    .and_then(|f| FIELDS.iter().position(|x| *x == f));
                at.is_some_and(|i| {
                    read[i] = true;
                    value_only(&item.matcher)
                })
            }),
            CompiledDetection::AnyOf(ds) | CompiledDetection::And(ds) => {
                ds.iter().all(|d| walk(d, read))
            }
            // Keywords read every value; an array's scope, its members' fields.
            CompiledDetection::Keywords(_)
            | CompiledDetection::ArrayMatch { .. }
            | CompiledDetection::Conditional { .. } => false,
        }
    }
    let mut read = [false; FIELDS.len()];
    rule.detections
        .values()
        .all(|d| walk(d, &mut read))
        .then_some(read)
}

/// Whether a matcher looks at its field's value alone.
fn value_only(m: &CompiledMatcher) -> bool {
    use CompiledMatcher as M;
    match m {
        M::Exact { .. }
        | M::Contains { .. }
        | M::StartsWith { .. }
        | M::EndsWith { .. }
        | M::Regex(_)
        | M::AhoCorasickSet { .. }
        | M::RegexSetMatch { .. }
        | M::Cidr(_)
        | M::NumericEq(_)
        | M::NumericGt(_)
        | M::NumericGte(_)
        | M::NumericLt(_)
        | M::NumericLte(_)
        | M::Exists(_)
        | M::Null
        | M::BoolEq(_) => true,
        M::Not(inner) => value_only(inner),
        M::AnyOf(ms) | M::AllOf(ms) => ms.iter().all(value_only),
        M::CaseInsensitiveGroup { children, .. } => children.iter().all(value_only),
        // Another field's value (`fieldref`), a placeholder's, a timestamp's part: not
        // remembered.
        _ => false,
    }
}

/// Writes to `out` what `event` answers for `fields`, as a key: false when a field answers
/// other than absent or a string, or when the key would be longer than [`MAX_KEY`].
pub fn key(event: &impl Event, fields: &[String], out: &mut Vec<u8>) -> bool {
    out.clear();
    for f in fields {
        match event.get_field(f) {
            None => out.push(0),
            Some(EventValue::Str(s)) => {
                let Ok(len) = u32::try_from(s.len()) else {
                    return false;
                };
                out.push(1);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Some(_) => return false,
        }
        if out.len() > MAX_KEY {
            return false;
        }
    }
    true
}

/// The answers a thread remembers: detections matched, by key, for one rule set.
#[derive(Default)]
struct Answers {
    set: u64,
    by_key: HashMap<Box<[u8]>, Box<[usize]>>,
    key: Vec<u8>,
}

thread_local! {
    static ANSWERS: RefCell<Answers> = RefCell::default();
}

/// The detections matched on `event` by the remembered rules of rule set `set`, whose fields
/// are `fields`: remembered, or `evaluate`d (and remembered when the key allows).
pub fn answer(
    set: u64,
    fields: &[String],
    event: &impl Event,
    evaluate: impl FnOnce() -> Vec<usize>,
    mut found: impl FnMut(usize),
) {
    ANSWERS.with_borrow_mut(|a| {
        if a.set != set {
            a.by_key.clear();
            a.set = set;
        }
        let mut key = std::mem::take(&mut a.key);
        if !self::key(event, fields, &mut key) {
            a.key = key;
            evaluate().into_iter().for_each(found);
            return;
        }
        match a.by_key.get(key.as_slice()) {
            Some(matched) => matched.iter().copied().for_each(&mut found),
            None => {
                let matched = evaluate();
                matched.iter().copied().for_each(&mut found);
                if a.by_key.len() >= REMEMBERED {
                    a.by_key.clear();
                }
                a.by_key.insert(key.as_slice().into(), matched.into());
            }
        }
        a.key = key;
    });
}

/// How many keys this thread remembers for rule set `set` (the tests' measure).
#[doc(hidden)]
pub fn remembered(set: u64) -> usize {
    ANSWERS.with_borrow(|a| if a.set == set { a.by_key.len() } else { 0 })
}
