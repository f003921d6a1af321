use serde_json::json;

use super::check::{check, known_field, Level};
use super::*;
use crate::detect::{Catalogue, EntityKind};

const DAY: i64 = 86_400;

fn date(offset_days: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(now() + offset_days * DAY).unwrap();
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// A file of one exception of `rule` with the `match` lines given, expiring in 30 days.
fn one(rule: &str, conditions: &str) -> Tuning {
    let text = format!(
        "exceptions:\n  - rule: \"{rule}\"\n    match:\n{conditions}\n    reason: known good\n    owner: me@example.com\n    expires: {}\n",
        date(30)
    );
    let mut t = Tuning::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    t.apply(&mut Catalogue::builtin()).expect("applies");
    t
}

fn user(id: &str) -> Entity {
    Entity {
        kind: EntityKind::User,
        id: id.into(),
    }
}

fn event() -> Value {
    json!({
        "user": {"name": "deploy-bot", "target": {"name": "ci-bot"}},
        "source": {"ip": "10.20.3.4"},
        "related": {"user": ["deploy-bot", "ci-bot"]},
        "cloud": {"account": {"id": "111122223333"}},
        "aws": {"cloudtrail": {"read_only": false,
            "user_identity": {"arn": "arn:aws:sts::111122223333:assumed-role/Deploy/gha-1"},
            "request_parameters": {"userName": "ci-bot", "a.b": "dotted"}}}
    })
}

const RULE: &str = "config.access-key-for-other-user";

fn suppressed(t: &Tuning) -> bool {
    t.suppressing(RULE, &event(), &user("ci-bot"), now())
        .is_some()
}

#[test]
fn each_kind_of_condition_holds_and_fails() {
    for (conditions, expected) in [
        ("      user.name: deploy-bot", true),
        ("      user.name: other-bot", false),
        ("      user.name: [a, deploy-bot]", true),
        ("      user.name: [a, b]", false),
        ("      user.name: \"deploy-*\"", true),
        ("      user.name: \"ci-*\"", false),
        ("      source.ip: 10.20.0.0/16", true),
        ("      source.ip: 10.21.0.0/16", false),
        ("      source.ip: 10.20.3.4", true),
        ("      source.ip: 10.20.3.5", false),
        ("      cloud.account.id: 111122223333", true),
        ("      aws.cloudtrail.read_only: false", true),
        ("      aws.cloudtrail.read_only: true", false),
        ("      related.user: ci-bot", true),
        ("      related.user: eve", false),
        (
            "      aws.cloudtrail.user_identity.arn: \"arn:aws:sts::*:assumed-role/Deploy/*\"",
            true,
        ),
        (
            "      aws.cloudtrail.request_parameters.userName: ci-bot",
            true,
        ),
        ("      aws.cloudtrail.request_parameters.a.b: dotted", true),
        ("      finding.entity.id: ci-bot", true),
        ("      finding.entity.id: backup-svc", false),
        ("      finding.entity.kind: user", true),
        // A field the event lacks does not hold.
        ("      user.email: deploy@example.com", false),
        ("      url.path: \"*\"", false),
    ] {
        assert_eq!(suppressed(&one(RULE, conditions)), expected, "{conditions}");
    }
}

#[test]
fn conditions_and_within_an_exception_exceptions_or_across() {
    // AND: both must hold.
    assert!(suppressed(&one(
        RULE,
        "      user.name: deploy-bot\n      source.ip: 10.20.0.0/16"
    )));
    assert!(!suppressed(&one(
        RULE,
        "      user.name: deploy-bot\n      source.ip: 192.168.0.0/16"
    )));
    // OR: the second exception applies when the first does not.
    let text = format!(
        "exceptions:
  - {{rule: {RULE}, match: {{user.name: nobody}}, reason: r, owner: o, expires: {d}}}
  - {{rule: {RULE}, match: {{source.ip: 10.0.0.0/8}}, reason: r, owner: o, expires: {d}}}
",
        d = date(10)
    );
    let mut t = Tuning::parse(&text).expect("parses");
    t.apply(&mut Catalogue::builtin()).expect("applies");
    assert_eq!(
        t.suppressing(RULE, &event(), &user("ci-bot"), now()),
        Some(1)
    );
}

#[test]
fn a_glob_over_rule_ids_covers_those_rules_only() {
    let t = one("config.*", "      user.name: deploy-bot");
    assert!(t.has_exceptions("config.access-key-for-other-user"));
    assert!(t.has_exceptions("config.cloudtrail-stopped"));
    assert!(!t.has_exceptions("user.root-login"));
    assert!(t
        .suppressing("user.root-login", &event(), &user("x"), now())
        .is_none());
}

#[test]
fn an_exception_stops_applying_after_its_day() {
    let text = |d: String| {
        format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: deploy-bot}}, reason: r, owner: o, expires: {d}}}\n")
    };
    let mut past = Tuning::parse(&text(date(-1))).expect("parses");
    past.apply(&mut Catalogue::builtin()).expect("applies");
    assert!(!suppressed(&past));
    assert_eq!(past.expired(now()).len(), 1);
    let mut today = Tuning::parse(&text(date(0))).expect("parses");
    today.apply(&mut Catalogue::builtin()).expect("applies");
    assert!(suppressed(&today), "applies until the end of its day");
    assert!(today.expired(now()).is_empty());
}

fn parse_error(text: &str) -> TuningError {
    Tuning::parse(text).expect_err(text)
}

#[test]
fn a_bad_file_is_refused_naming_the_entry() {
    let d = date(5);
    let cases = [
        (format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: x}}, owner: o, expires: {d}}}\n"), "reason"),
        (format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: x}}, reason: r, expires: {d}}}\n"), "owner"),
        (format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: x}}, reason: r, owner: o}}\n"), "expires"),
        (format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: x}}, reason: \" \", owner: o, expires: {d}}}\n"), "`reason` is required"),
        (format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: x}}, reason: r, owner: o, expires: 30/06/2027}}\n"), "not a date"),
        (format!("exceptions:\n  - {{rule: {RULE}, reason: r, owner: o, expires: {d}}}\n"), "all_events: true"),
        (format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: 10.0.0.0/8}}, reason: r, owner: o, expires: {d}}}\n"), "not an IP field"),
        (format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: []}}, reason: r, owner: o, expires: {d}}}\n"), "empty list"),
        (format!("exceptions:\n  - {{rule: {RULE}, match: {{user.name: x}}, reason: r, owner: o, expires: {d}, colour: red}}\n"), "colour"),
        ("rules:\n  user.root-login:\n    state: paused\n".to_owned(), "enabled, staged or disabled"),
        ("rules:\n  user.root-login:\n    min_count: 3\n".to_owned(), ""),
        ("rule:\n  x: 1\n".to_owned(), "rule"),
    ];
    for (text, says) in cases {
        match Tuning::parse(&text) {
            Err(e) => assert!(e.to_string().contains(says), "{e} should say {says}"),
            // A setting that does not fit its rule fails when applied.
            Ok(mut t) => {
                let e = t.apply(&mut Catalogue::builtin()).expect_err(&text);
                assert!(e.to_string().contains("user.root-login"), "{e}");
            }
        }
    }
    let e = parse_error(&format!("exceptions:\n  - {{rule: x, match: {{user.name: x}}, reason: r, owner: o, expires: {d}}}\n  - {{rule: {RULE}, reason: r, owner: o, expires: {d}}}\n"));
    assert!(e.entry.starts_with("exceptions[2]"), "{e}");
    // Rules that do not exist are refused once bound to the catalogue.
    for text in [
        format!("exceptions:\n  - {{rule: \"nosuch.*\", match: {{user.name: x}}, reason: r, owner: o, expires: {d}}}\n"),
        "rules:\n  nosuch.rule:\n    state: staged\n".to_owned(),
        "rules:\n  nosuch.rule:\n    min_count: 2\n".to_owned(),
    ] {
        let mut t = Tuning::parse(&text).expect("parses");
        let e = t.apply(&mut Catalogue::builtin()).expect_err(&text);
        assert!(e.to_string().contains("nosuch"), "{e}");
    }
}

#[test]
fn an_exception_without_conditions_must_say_so() {
    let text = format!(
        "exceptions:\n  - {{rule: {RULE}, all_events: true, reason: r, owner: o, expires: {}}}\n",
        date(3)
    );
    let mut t = Tuning::parse(&text).expect("parses");
    t.apply(&mut Catalogue::builtin()).expect("applies");
    assert!(t
        .suppressing(RULE, &json!({}), &user("anyone"), now())
        .is_some());
    assert!(check(&t, now()).iter().any(|p| p.level == Level::Warning));
}

#[test]
fn states_disable_and_stage_rules_and_settings_apply() {
    let mut t = Tuning::parse(
        "rules:\n  user.root-login:\n    state: disabled\n  user.root-activity:\n    state: staged\n  user.console-login-burst:\n    min_count: 3\n    window_minutes: 30\n",
    )
    .expect("parses");
    let mut c = Catalogue::builtin();
    t.apply(&mut c).expect("applies");
    assert!(c.meta("user.root-login").is_none(), "disabled rules leave");
    assert!(c.meta("user.root-activity").is_some());
    assert!(t.is_staged("user.root-activity"));
    assert!(!t.is_staged("user.console-login-burst"));
    match c.kind("user.console-login-burst") {
        Some(crate::detect::RuleKind::Window {
            min_count,
            window_minutes,
            ..
        }) => assert_eq!((min_count, window_minutes), (3, 30)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_check_finds_what_cannot_be_right() {
    let text = format!(
        "exceptions:
  - {{rule: {RULE}, match: {{file.path: x}}, reason: r, owner: o, expires: {soon}}}
  - {{rule: {RULE}, match: {{user.name: x}}, reason: r, owner: o, expires: {far}}}
  - {{rule: {RULE}, match: {{user.name: y}}, reason: r, owner: o, expires: {past}}}
  - {{rule: {RULE}, match: {{user.name: y}}, reason: r, owner: o, expires: {soon}}}
  - {{rule: {RULE}, match: {{source.geo.country_iso_code: FR}}, reason: r, owner: o, expires: {soon}}}
",
        soon = date(30),
        far = date(500),
        past = date(-3)
    );
    let t = Tuning::parse(&text).expect("parses");
    let problems = check(&t, now());
    let at = |n: usize| -> Vec<&str> {
        problems
            .iter()
            .filter(|p| p.entry.starts_with(&format!("exceptions[{n}]")))
            .map(|p| p.message.as_str())
            .collect()
    };
    assert!(
        at(1).iter().any(|m| m.contains("never writes")),
        "{problems:?}"
    );
    assert!(
        at(2).iter().any(|m| m.contains("more than a year")),
        "{problems:?}"
    );
    assert!(at(3).iter().any(|m| m.contains("expired")), "{problems:?}");
    assert!(
        at(4).iter().any(|m| m.contains("same rule and conditions")),
        "{problems:?}"
    );
    assert!(at(5).is_empty(), "{problems:?}");
    assert!(known_field("user.name") && known_field("source.geo.city_name"));
    assert!(!known_field("file.path") && !known_field("source.geo"));
    assert!(
        known_field("process.name"),
        "Runtime Monitoring findings name the process"
    );
}
