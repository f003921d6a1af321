//! The geo rules that need the users' login history: each login of an input is kept in the
//! state store, and judged with its neighbours by event time (the judging is the pure
//! [`crate::detect::geo::judge_login`]).

use crate::detect::geo::{judge_login, Login};
use crate::detect::CloudTrailRule;
use crate::finding::FindingBuilder;
use crate::geo::GeoSettings;
use crate::state::{LoginHistory, StateError};

/// Keeps each login in the user's history and adds to `groups` the impossible-travel and
/// new-country findings it makes with its neighbours. Judging the same logins again gives the
/// same findings (same ids); each of them commits under a ledger item of its own
/// ([`crate::state::ledger_plan`]), so a login redelivered after its neighbour arrived still
/// counts the pair it now makes.
pub async fn judge_logins<S: LoginHistory>(
    store: &S,
    logins: &[Login],
    rules: &[CloudTrailRule],
    settings: &GeoSettings,
    max_evidence: usize,
    groups: &mut Vec<FindingBuilder>,
) -> Result<(), StateError> {
    let mut found: Vec<FindingBuilder> = Vec::new();
    for login in logins {
        let me = &login.record;
        let around = store
            .record_login(&login.user, me, me.ts + settings.history_days * 86_400)
            .await?;
        judge_login(login, &around, rules, settings, max_evidence, &mut found);
    }
    groups.extend(found);
    Ok(())
}
