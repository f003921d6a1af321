//! From an input's groups of hits to findings, with the state store: commit the counters
//! exactly once, decide which thresholds are reached, and claim each finding for publishing.

use crate::detect::anomaly::z_score;
use crate::detect::{RuleKind, Severity};
use crate::finding::{Finding, FindingBuilder};
use crate::state::{Claim, StateError, StateStore};

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
}

/// Evaluation failed; the input is retried.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// The store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Another input holds the claim on these findings and has not published them yet.
    #[error("findings being published by another input: {0:?}")]
    Busy(Vec<String>),
}

/// Commits `groups` for `input_id`, and returns the findings whose thresholds are reached.
pub async fn evaluate<S: StateStore>(
    store: &S,
    input_id: &str,
    groups: Vec<FindingBuilder>,
    now: i64,
    config: &StateConfig,
) -> Result<Vec<Fired>, EvaluateError> {
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
    let mut fired = Vec::new();
    let mut busy = Vec::new();
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
                (reached || group.immediate(), meta.severity, None)
            }
            RuleKind::Anomaly {
                min_count,
                z: threshold,
                z_raise,
                history,
                ..
            } => {
                let baseline = store
                    .history(&update.key.series(), update.key.window_start, history)
                    .await?;
                match z_score(state.count, &baseline) {
                    Some(z) if state.count >= min_count && z > threshold => {
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
        };
        if !fires {
            continue;
        }
        let finding = group.build_with(&state, severity, z);
        let claim = store
            .claim(
                &finding.finding.id,
                input_id,
                now,
                config.lease_secs,
                update.expires_at,
            )
            .await?;
        match claim {
            Claim::Granted => fired.push(Fired {
                finding,
                publish: true,
            }),
            Claim::Published => fired.push(Fired {
                finding,
                publish: false,
            }),
            Claim::Busy => busy.push(finding.finding.id),
        }
    }
    if !busy.is_empty() {
        return Err(EvaluateError::Busy(busy));
    }
    Ok(fired)
}

/// Records that the findings this input was to publish are published (or deliberately not
/// sent): call it once they are delivered.
pub async fn settle<S: StateStore>(store: &S, fired: &[Fired]) -> Result<(), StateError> {
    for f in fired.iter().filter(|f| f.publish) {
        store.mark_published(&f.finding.finding.id).await?;
    }
    Ok(())
}
