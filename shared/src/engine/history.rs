//! The geo rules that need the users' login history: each login of an input is kept in the
//! state store, and judged with its neighbours by event time (the judging is the pure
//! [`crate::detect::geo::judge_login`]).

use crate::detect::geo::{judge_login, Login};
use crate::detect::{CloudTrailRule, Entity, EntityKind};
use crate::finding::FindingBuilder;
use crate::geo::GeoSettings;
use crate::state::{LoginHistory, StateError};
use crate::tuning::Tuning;

/// Keeps each login in the user's history and adds to `groups` the impossible-travel and
/// new-country findings it makes with its neighbours. Judging the same logins again gives the
/// same findings (same ids); each of them commits under a ledger item of its own
/// ([`crate::state::ledger_plan`]), so a login redelivered after its neighbour arrived still
/// counts the pair it now makes.
#[allow(clippy::too_many_arguments)]
pub async fn judge_logins<S: LoginHistory>(
    store: &S,
    logins: &[Login],
    rules: &[CloudTrailRule],
    settings: &GeoSettings,
    max_evidence: usize,
    tuning: Option<&Tuning>,
    groups: &mut Vec<FindingBuilder>,
    suppressed: &mut crate::tuning::Suppressed,
) -> Result<(), StateError> {
    let mut found: Vec<FindingBuilder> = Vec::new();
    let now = crate::tuning::now();
    for login in logins {
        let me = &login.record;
        let around = store
            .record_login(&login.user, me, me.ts + settings.history_days * 86_400)
            .await?;
        let before = found.len();
        judge_login(login, &around, rules, settings, max_evidence, &mut found);
        // The tuning's exceptions, with the login as the event that raised the finding.
        if let Some(tuning) = tuning {
            let mut document = None;
            let entity = Entity {
                kind: EntityKind::User,
                id: login.user.clone(),
            };
            let mut i = before;
            while i < found.len() {
                let id = found[i].meta().id;
                if tuning.has_exceptions(id) {
                    let doc = document.get_or_insert_with(|| {
                        serde_json::from_str(login.evidence.get()).unwrap_or_default()
                    });
                    if let Some(e) = tuning.suppressing(id, doc, &entity, now) {
                        *suppressed
                            .entry((crate::tuning::Suppressor::Exception(e), id))
                            .or_insert(0) += 1;
                        found.remove(i);
                        continue;
                    }
                }
                i += 1;
            }
        }
    }
    groups.extend(found);
    Ok(())
}
