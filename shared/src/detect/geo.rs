//! Geo detections (DETECTIONS.md, kind `geo`): logins from risky countries, impossible travel
//! between consecutive logins of a user, and logins from a country new for a user. They need
//! the GeoIP databases ([`crate::geo::GeoIp`]); without them they are off.
//!
//! Risky countries are judged on the record; the other two on the user's login history in the
//! state store, by event time ([`judge_login`]).

use serde_json::value::RawValue;

use super::{
    Category, Check, CloudTrail, CloudTrailRule, Context, Entity, EntityKind, Hit, RuleKind,
    RuleMeta, Severity,
};
use crate::finding::{finding_id, FindingBuilder, Window};
use crate::geo::{impossible_travel, GeoSettings, LoginRecord};
use crate::sources::cloudtrail::CloudTrailRecord;
use crate::timefmt::format_rfc3339;

const VALID_ACCOUNTS: Option<super::Attack> = Some(super::Attack {
    tactic_id: "TA0001",
    tactic: "Initial Access",
    technique_id: "T1078.004",
    technique: "Valid Accounts: Cloud Accounts",
});

/// Every geo rule: risky countries judged on the record (when the pipeline has GeoIP
/// databases), the other two on the user's login history.
pub static RULES: &[CloudTrailRule] = &[
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.risky-country-login",
            title: "Console login from a risky country",
            description: "A successful console login from a country on the deny list, or outside the allow list when one is set.",
            severity: Severity::Medium,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: VALID_ACCOUNTS,
            dedup_minutes: 24 * 60,
            action_plan: &[
                "Ask the user whether they signed in from that country; if not, reset their password, revoke their sessions and review what they did since.",
                "Check whether the IP is a VPN or proxy your company uses, and add the country to the allow list if logins from it are expected.",
            ],
            references: &["Panther Standard.SignInFromRogueState"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::<CloudTrail>::One(risky_country),
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.impossible-travel",
            title: "Impossible travel between console logins",
            description: "Two consecutive successful console logins of one user from places farther apart than anyone could travel in the time between them (over 900 km/h and over 100 km), from different IPs.",
            severity: Severity::High,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: VALID_ACCOUNTS,
            dedup_minutes: 24 * 60,
            action_plan: &[
                "Ask the user which of the two logins was theirs; treat the other as an attacker with the user's password and MFA: revoke sessions, reset credentials.",
                "Review what was done from the unexpected login's IP (CloudTrail sourceIPAddress) since.",
            ],
            references: &["Panther Standard.ImpossibleTravel.Login"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::History,
    },
    CloudTrailRule {
        meta: RuleMeta {
            id: "user.new-country",
            title: "Console login from a new country",
            description: "A successful console login from a country never seen for a user with at least a week of login history.",
            severity: Severity::Low,
            category: Category::UserActivity,
            entity: EntityKind::User,
            attack: VALID_ACCOUNTS,
            dedup_minutes: 24 * 60,
            action_plan: &[
                "Confirm the trip or the new VPN with the user.",
                "If it was not them, revoke the user's sessions and reset the password and MFA device.",
            ],
            references: &["Matano and Panther first-seen country pattern"],
        },
        kind: RuleKind::Single,
        sources: crate::detect::ANY_SOURCE,
        check: Check::History,
    },
];

/// A successful console login from a country the settings call risky; the country is the
/// finding's discriminator.
fn risky_country(r: &CloudTrailRecord<'_>, cx: &Context<'_>) -> Option<Hit> {
    if r.event_name != "ConsoleLogin" || r.console_login_outcome() != Some(true) {
        return None;
    }
    let place = cx.geo?.lookup(r.source_ip()?)?;
    let country = place.country?;
    cx.settings.geo.is_risky(&country).then(|| Hit {
        discriminator: Some(country),
        ..Hit::default()
    })
}

/// A successful console login with a known place, from one input, for [`judge_login`].
#[derive(Debug, Clone)]
pub struct Login {
    /// The user (as findings name users).
    pub user: String,
    /// Time, IP and place.
    pub record: LoginRecord,
    /// The caller's account.
    pub account: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The login's ECS event, enriched, as evidence.
    pub evidence: Box<RawValue>,
}

/// `user.impossible-travel`, judged on the login history.
pub const IMPOSSIBLE_TRAVEL: &str = "user.impossible-travel";
/// `user.new-country`, judged on the login history.
pub const NEW_COUNTRY: &str = "user.new-country";

/// A rule's metadata as the catalogue has it (its overrides applied), by id.
fn meta(rules: &[CloudTrailRule], id: &str) -> Option<RuleMeta> {
    rules.iter().find(|r| r.meta.id == id).map(|r| r.meta)
}

/// A login in words: "81.2.69.142 (London, GB) at 2026-11-01T10:00:00Z".
fn describe(l: &LoginRecord) -> String {
    format!(
        "{} ({}) at {}",
        l.ip,
        l.place.describe(),
        format_rfc3339(l.ts)
    )
}

/// A small ECS document for a login known only from the store.
fn stored_evidence(user: &str, l: &LoginRecord) -> Option<Box<RawValue>> {
    let mut geo = serde_json::Map::new();
    if let Some(c) = &l.place.country {
        geo.insert("country_iso_code".into(), c.clone().into());
    }
    if let Some(c) = &l.place.city {
        geo.insert("city_name".into(), c.clone().into());
    }
    if let Some((lat, lon)) = l.place.point() {
        geo.insert(
            "location".into(),
            serde_json::json!({"lat": lat, "lon": lon}),
        );
    }
    let doc = serde_json::json!({
        "@timestamp": format_rfc3339(l.ts),
        "event": {"kind": "event", "category": ["authentication"], "type": ["start"],
            "outcome": "success", "action": "ConsoleLogin", "dataset": "aws.cloudtrail", "module": "aws"},
        "user": {"name": user},
        "source": {"address": l.ip, "ip": l.ip, "geo": geo},
    });
    serde_json::value::to_raw_value(&doc).ok()
}

/// The impossible-travel and new-country findings `login` makes with its neighbours in the
/// user's history (by event time), pushed to `out` unless already there. Pure: the engine
/// keeps the login and reads its neighbours from the state store
/// ([`crate::engine::history::judge_logins`]). Judging the same login with the same
/// neighbours again gives the same findings (same ids).
pub fn judge_login(
    login: &Login,
    around: &crate::geo::LoginNeighbours,
    rules: &[CloudTrailRule],
    settings: &GeoSettings,
    max_evidence: usize,
    out: &mut Vec<FindingBuilder>,
) {
    let (Some(travel), Some(new_country)) =
        (meta(rules, IMPOSSIBLE_TRAVEL), meta(rules, NEW_COUNTRY))
    else {
        return;
    };
    let me = &login.record;
    let entity = Entity {
        kind: EntityKind::User,
        id: login.user.clone(),
    };
    // Each consecutive pair this login is part of.
    for (a, b) in [
        around.previous.as_ref().map(|p| (p, me)),
        around.next.as_ref().map(|n| (me, n)),
    ]
    .into_iter()
    .flatten()
    {
        let Some((km, kmh)) = impossible_travel(a, b, settings) else {
            continue;
        };
        let discriminator = format!("{}-{}", a.sort_key(), b.sort_key());
        let window = Window::of(b.ts, travel.dedup_minutes);
        let id = finding_id(travel.id, &entity, Some(&discriminator), window.start);
        if out.iter().any(|f| f.id() == id) {
            continue;
        }
        let speed = if kmh.is_finite() {
            format!("{kmh:.0} km/h")
        } else {
            "at the same moment".to_owned()
        };
        let message = format!(
            "User {} logged in to the console from {} and then from {}: {km:.0} km in {}, {speed}",
            login.user,
            describe(a),
            describe(b),
            humanize(b.ts - a.ts)
        );
        let other = if std::ptr::eq(a, me) { b } else { a };
        let mut evidence = vec![login.evidence.clone()];
        evidence.extend(stored_evidence(&login.user, other));
        let mut f = FindingBuilder::from_parts(
            travel,
            id,
            entity.clone(),
            Some(discriminator),
            window,
            (a.ts, b.ts),
            message,
            login,
            evidence,
            max_evidence,
        );
        f.add_related_ip(&other.ip);
        out.push(f);
    }
    // A new country for a user with history.
    let Some(country) = &me.place.country else {
        return;
    };
    let seasoned = around
        .first_seen
        .is_some_and(|first| first <= me.ts - settings.new_country_history_days * 86_400);
    if seasoned && !around.countries_before.contains(country) {
        let window = Window::of(me.ts, new_country.dedup_minutes);
        let id = finding_id(new_country.id, &entity, Some(country), window.start);
        if out.iter().any(|f| f.id() == id) {
            return;
        }
        let message = format!(
                "User {} logged in to the console from {}, a country not seen for them before (history since {}; seen: {})",
                login.user,
                describe(me),
                format_rfc3339(around.first_seen.unwrap_or(me.ts)),
                around.countries_before.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        out.push(FindingBuilder::from_parts(
            new_country,
            id,
            entity,
            Some(country.clone()),
            window,
            (me.ts, me.ts),
            message,
            login,
            vec![login.evidence.clone()],
            max_evidence,
        ));
    }
}

/// "1 h 5 min", "40 min", "12 s".
fn humanize(secs: i64) -> String {
    let secs = secs.abs();
    match secs {
        s if s >= 3600 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::history::judge_logins;
    use crate::geo::Place;
    use crate::state::memory::MemoryStore;

    fn place(country: &str, city: &str, lat: f64, lon: f64) -> Place {
        Place {
            country: Some(country.into()),
            city: Some(city.into()),
            lat: Some(lat),
            lon: Some(lon),
            ..Place::default()
        }
    }

    fn london() -> Place {
        place("GB", "London", 51.5142, -0.0931)
    }

    fn milton() -> Place {
        place("US", "Milton", 47.2513, -122.3149)
    }

    fn login(user: &str, ts: i64, ip: &str, p: Place) -> Login {
        Login {
            user: user.into(),
            record: LoginRecord {
                ts,
                ip: ip.into(),
                place: p,
            },
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            evidence: serde_json::value::to_raw_value(
                &serde_json::json!({"event": {"action": "ConsoleLogin"}}),
            )
            .unwrap(),
        }
    }

    async fn judge(store: &MemoryStore, logins: &[Login]) -> Vec<crate::finding::Finding> {
        let mut groups = Vec::new();
        judge_logins(
            store,
            logins,
            RULES,
            &GeoSettings::default(),
            5,
            None,
            &mut groups,
            &mut Default::default(),
        )
        .await
        .unwrap();
        groups.into_iter().map(FindingBuilder::build).collect()
    }

    const T0: i64 = 1_793_527_200; // 2026-11-01T10:00:00Z

    #[tokio::test]
    async fn london_then_milton_an_hour_later_is_impossible_travel_in_either_order() {
        let a = login("alice", T0, "81.2.69.142", london());
        let b = login("alice", T0 + 3600, "216.160.83.56", milton());
        // In order: the second login finds the first.
        let store = MemoryStore::new();
        assert!(judge(&store, std::slice::from_ref(&a)).await.is_empty());
        let f = judge(&store, std::slice::from_ref(&b)).await;
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule.id, "user.impossible-travel");
        let m = &f[0].message;
        assert!(m.contains("London, GB") && m.contains("Milton, US"), "{m}");
        assert!(
            m.contains("81.2.69.142") && m.contains("216.160.83.56"),
            "{m}"
        );
        assert!(m.contains("km in 1 h 0 min") && m.contains("km/h"), "{m}");
        assert_eq!(f[0].event.start, "2026-11-01T10:00:00Z");
        assert_eq!(f[0].event.end, "2026-11-01T11:00:00Z");
        // Reversed delivery: the first login finds the second; the same finding.
        let store = MemoryStore::new();
        assert!(judge(&store, std::slice::from_ref(&b)).await.is_empty());
        let g = judge(&store, std::slice::from_ref(&a)).await;
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].finding.id, f[0].finding.id);
    }

    #[tokio::test]
    async fn two_logins_from_london_or_from_one_ip_never_fire() {
        let store = MemoryStore::new();
        let a = login("bob", T0, "81.2.69.142", london());
        let b = login("bob", T0 + 60, "81.2.69.144", london());
        assert!(judge(&store, &[a, b]).await.is_empty());
        // The same IP placed far away (a database update, an anycast VPN): never.
        let store = MemoryStore::new();
        let a = login("carol", T0, "81.2.69.142", london());
        let b = login("carol", T0 + 60, "81.2.69.142", milton());
        assert!(judge(&store, &[a, b]).await.is_empty());
    }

    #[tokio::test]
    async fn a_new_country_after_a_week_of_history_fires_and_a_first_login_does_not() {
        let store = MemoryStore::new();
        // The first login ever: no history, no finding.
        let first = login("dave", T0, "81.2.69.142", london());
        assert!(judge(&store, &[first]).await.is_empty());
        // Eight days later from Sweden: new country (and far, but days apart: no travel).
        let se = place("SE", "Linköping", 58.4167, 15.6167);
        let later = login("dave", T0 + 8 * 86_400, "89.160.20.112", se.clone());
        let f = judge(&store, &[later]).await;
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule.id, "user.new-country");
        assert!(f[0].message.contains("Linköping, SE") && f[0].message.contains("seen: GB"));
        // Sweden again: not new.
        let again = login("dave", T0 + 9 * 86_400, "89.160.20.113", se);
        assert!(judge(&store, &[again]).await.is_empty());
        // A user with less than a week of history: not yet.
        let store = MemoryStore::new();
        judge(&store, &[login("erin", T0, "81.2.69.142", london())]).await;
        let soon = login(
            "erin",
            T0 + 2 * 86_400,
            "89.160.20.112",
            place("SE", "Linköping", 58.4167, 15.6167),
        );
        assert!(judge(&store, &[soon]).await.is_empty());
    }

    #[tokio::test]
    async fn judging_the_same_logins_again_gives_the_same_findings() {
        let store = MemoryStore::new();
        let logins = [
            login("frank", T0, "81.2.69.142", london()),
            login("frank", T0 + 1800, "216.160.83.56", milton()),
        ];
        let first: Vec<String> = judge(&store, &logins)
            .await
            .iter()
            .map(|f| f.finding.id.clone())
            .collect();
        let again: Vec<String> = judge(&store, &logins)
            .await
            .iter()
            .map(|f| f.finding.id.clone())
            .collect();
        assert_eq!(first.len(), 1);
        assert_eq!(first, again);
    }
}
