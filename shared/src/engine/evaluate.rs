//! From an input's groups of hits to findings, with the state store: commit the counters
//! exactly once, decide which thresholds are reached, and claim each finding for publishing.
//! The decisions (thresholds, the z-score) are the pure code of [`crate::detect`]; this module
//! is where they meet the store.

use crate::detect::anomaly::z_score;
use crate::detect::{RuleKind, Severity};
use crate::error::InputError;
use crate::finding::{Finding, FindingBuilder};
use crate::state::{Claim, Counters, FindingLedger, StateError};

/// Timing of the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateConfig {
    /// How long a window's counter is kept after the window ends (late records still count).
    pub retention_secs: i64,
    /// How long an anomaly slice is kept: the baseline is made of the previous slices.
    pub series_retention_secs: i64,
    /// How long a claim to publish a finding holds before another input may take it over.
    pub lease_secs: i64,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            retention_secs: 2 * 24 * 3600,
            series_retention_secs: 30 * 24 * 3600,
            lease_secs: 300,
        }
    }
}

/// A finding whose threshold is reached.
#[derive(Debug, Clone)]
pub struct Fired {
    /// The document, with the counts as they stand.
    pub finding: Finding,
    /// Whether this input publishes it (it was not published before).
    pub publish: bool,
    /// Whether this input sent it to the sinks: it publishes it, and it is at or above the
    /// publishing severity (set by the engine).
    pub sent: bool,
    /// When the finding's state may be forgotten.
    pub expires_at: i64,
}

/// What an input's evaluation produced.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Findings whose thresholds are reached.
    pub fired: Vec<Fired>,
    /// Findings another input has claimed and not yet published. The caller publishes and
    /// settles its own first, then fails the input so that it is retried: holding its claims
    /// while waiting for another's would let two inputs wait on each other.
    pub busy: Vec<String>,
}

impl Evaluation {
    /// `Err(Busy)` when some findings were claimed by another input.
    pub fn check_busy(&self) -> Result<(), InputError> {
        if self.busy.is_empty() {
            Ok(())
        } else {
            Err(InputError::Busy(self.busy.clone()))
        }
    }
}

/// Commits `groups` for `input_id`, and returns the findings whose thresholds are reached.
/// Only those at or above `publishing_from` are claimed for publishing: one below it is never
/// sent, so exactly-once publishing has nothing to guard, and its claim, lookup and settling
/// would be DynamoDB requests for nothing (the most common findings, `info`, are of this kind).
pub async fn evaluate<S: Counters + FindingLedger>(
    store: &S,
    input_id: &str,
    groups: Vec<FindingBuilder>,
    now: i64,
    config: &StateConfig,
    publishing_from: Severity,
) -> Result<Evaluation, StateError> {
    let updates: Vec<_> = groups
        .iter()
        .map(|g| {
            let retention = match g.kind() {
                RuleKind::Anomaly { .. } => config.series_retention_secs,
                _ => config.retention_secs,
            };
            g.update(retention)
        })
        .collect();
    let states = store.commit(input_id, &updates).await?;
    // Decide what fires first, then ask once which of those were published already: a
    // redelivered input then costs no claim per finding.
    let mut firing = Vec::new();
    for ((group, state), update) in groups.into_iter().zip(states).zip(&updates) {
        let meta = *group.meta();
        let (fires, severity, z) = match group.kind() {
            RuleKind::Single => (state.count >= 1, meta.severity, None),
            RuleKind::Window {
                min_count,
                min_distinct,
                ..
            } => {
                let reached = state.count >= min_count
                    && state
                        .distinct
                        .iter()
                        .zip(min_distinct)
                        .all(|(d, min)| d.len() as u64 >= min);
                // A sequence rule fires only on an input whose latest event completes it.
                (
                    (reached && group.completes()) || group.immediate(),
                    meta.severity,
                    None,
                )
            }
            RuleKind::Anomaly {
                min_count,
                z: threshold,
                z_raise,
                history,
                ..
            } if state.count >= min_count => {
                let baseline = store
                    .history(&update.key.series(), update.key.window_start, history)
                    .await?;
                match z_score(state.count, &baseline) {
                    Some(z) if z > threshold => {
                        let sev = if z > z_raise {
                            meta.severity.raised()
                        } else {
                            meta.severity
                        };
                        (true, sev, Some(z))
                    }
                    _ => (false, Severity::Info, None),
                }
            }
            RuleKind::Anomaly { .. } => (false, Severity::Info, None),
        };
        if fires {
            firing.push((group.build_with(&state, severity, z), update.expires_at));
        }
    }
    let mut fired = Vec::new();
    let (firing, unsent): (Vec<_>, Vec<_>) = firing
        .into_iter()
        .partition(|(f, _)| f.finding.severity >= publishing_from);
    for (finding, expires_at) in unsent {
        fired.push(Fired {
            finding,
            publish: false,
            sent: false,
            expires_at,
        });
    }
    let ids: Vec<String> = firing.iter().map(|(f, _)| f.finding.id.clone()).collect();
    let published = store.published(&ids).await?;
    let mut busy = Vec::new();
    for (finding, expires_at) in firing {
        if published.contains(&finding.finding.id) {
            fired.push(Fired {
                finding,
                publish: false,
                sent: false,
                expires_at,
            });
            continue;
        }
        let claim = store
            .claim(
                &finding.finding.id,
                input_id,
                now,
                config.lease_secs,
                expires_at,
            )
            .await?;
        match claim {
            Claim::Granted => fired.push(Fired {
                finding,
                publish: true,
                sent: false,
                expires_at,
            }),
            Claim::Published => fired.push(Fired {
                finding,
                publish: false,
                sent: false,
                expires_at,
            }),
            Claim::Busy => busy.push(finding.finding.id),
        }
    }
    Ok(Evaluation { fired, busy })
}

/// Records that the findings this input was to publish are published (or deliberately not
/// sent): call it once they are delivered.
pub async fn settle<S: FindingLedger>(store: &S, fired: &[Fired]) -> Result<(), StateError> {
    let done: Vec<(String, i64)> = fired
        .iter()
        .filter(|f| f.publish)
        .map(|f| (f.finding.finding.id.clone(), f.expires_at))
        .collect();
    if done.is_empty() {
        return Ok(());
    }
    store.mark_all_published(&done).await
}
