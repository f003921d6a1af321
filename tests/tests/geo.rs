//! The geo detections through `log-ingest` against the emulator: the GeoIP databases loaded at
//! cold start from S3 (as the configuration names them), CloudTrail objects with console logins
//! uploaded and announced, the login history in DynamoDB, findings read back from SNS.

use cloudsec_integration_tests::{shared_dir, Env};
use serde_json::{json, Value};

fn login(user: &str, time: &str, ip: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": ip,
        "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
            "arn": format!("arn:aws:iam::111122223333:user/{user}"), "userName": user},
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"MFAUsed": "Yes"}
    })
}

fn key(n: u32) -> String {
    format!("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/111122223333_CloudTrail_us-east-1_20261101T10{n:02}Z_geo.json.gz")
}

/// The geo findings on the topic, as (rule id, finding).
async fn geo_findings(env: &Env) -> Vec<(String, Value)> {
    env.drain(&env.all_queue)
        .await
        .into_iter()
        .map(|(f, _)| (f["rule"]["id"].as_str().unwrap().to_owned(), f))
        .filter(|(r, _)| r.contains("travel") || r.contains("country"))
        .collect()
}

#[tokio::test]
async fn impossible_travel_risky_country_and_new_country_through_the_handler() {
    let Some(env) = Env::new().await else { return };
    // GIVEN the GeoIP databases in S3, named in the function's configuration
    let dir = shared_dir().join("testdata/geoip");
    let (Ok(city), Ok(asn)) = (
        std::fs::read(dir.join("GeoLite2-City-Test.mmdb")),
        std::fs::read(dir.join("GeoLite2-ASN-Test.mmdb")),
    ) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ../shared/testdata/geoip"
        );
        return;
    };
    env.put("geoip/GeoLite2-City-Test.mmdb", city).await;
    env.put("geoip/GeoLite2-ASN-Test.mmdb", asn).await;
    let city_uri = format!("s3://{}/geoip/GeoLite2-City-Test.mmdb", env.bucket);
    let asn_uri = format!("s3://{}/geoip/GeoLite2-ASN-Test.mmdb", env.bucket);
    let handler = env
        .handler_from_env(&[
            ("GEOIP_CITY_DB", city_uri.as_str()),
            ("GEOIP_ASN_DB", asn_uri.as_str()),
            ("RISKY_COUNTRIES", "CN"),
        ])
        .await
        .expect("cold start");

    // WHEN Milton's login (11:00) arrives before London's (10:00), each in its own object,
    // and London's object is delivered twice
    let objects = [
        (
            key(1),
            vec![login("alice", "2026-11-01T11:00:00Z", "216.160.83.56")],
        ),
        (
            key(2),
            vec![login("alice", "2026-11-01T10:00:00Z", "81.2.69.142")],
        ),
        (
            key(2),
            vec![login("alice", "2026-11-01T10:00:00Z", "81.2.69.142")],
        ),
    ];
    for (k, records) in &objects {
        env.put(
            k,
            serde_json::to_vec(&json!({ "Records": records })).unwrap(),
        )
        .await;
        handler
            .handle(env.event("s3-object-created.json", Some(k)))
            .await
            .expect("handled");
    }
    // THEN one impossible-travel finding names both logins
    let found = geo_findings(&env).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let (rule, f) = &found[0];
    assert_eq!(rule, "user.impossible-travel");
    let message = f["message"].as_str().unwrap();
    for part in [
        "London, GB",
        "Milton, US",
        "81.2.69.142",
        "216.160.83.56",
        "km/h",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert_eq!(
        f["finding"]["evidence"][0]["source"]["geo"]["city_name"],
        "London"
    );

    // WHEN a login from a denied country (and new for a user with a week of history) arrives
    let week_ago = key(3);
    env.put(
        &week_ago,
        serde_json::to_vec(
            &json!({"Records": [login("bob", "2026-10-20T08:00:00Z", "81.2.69.142")]}),
        )
        .unwrap(),
    )
    .await;
    handler
        .handle(env.event("s3-object-created.json", Some(&week_ago)))
        .await
        .expect("handled");
    assert!(
        geo_findings(&env).await.is_empty(),
        "a first login ever is nothing"
    );
    let cn = key(4);
    env.put(
        &cn,
        serde_json::to_vec(
            &json!({"Records": [login("bob", "2026-11-01T08:00:00Z", "175.16.199.10")]}),
        )
        .unwrap(),
    )
    .await;
    handler
        .handle(env.event("s3-object-created.json", Some(&cn)))
        .await
        .expect("handled");
    // THEN risky country and new country
    let mut rules: Vec<String> = geo_findings(&env)
        .await
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    rules.sort();
    assert_eq!(rules, ["user.new-country", "user.risky-country-login"]);
}

#[tokio::test]
async fn without_databases_the_handler_starts_and_geo_is_off() {
    let Some(env) = Env::new().await else { return };
    let handler = env
        .handler_from_env(&[("RISKY_COUNTRIES", "CN")])
        .await
        .expect("cold start");
    let k = key(5);
    env.put(
        &k,
        serde_json::to_vec(
            &json!({"Records": [login("carol", "2026-11-01T08:00:00Z", "175.16.199.10")]}),
        )
        .unwrap(),
    )
    .await;
    handler
        .handle(env.event("s3-object-created.json", Some(&k)))
        .await
        .expect("handled");
    assert!(geo_findings(&env).await.is_empty());
    // A database that is not one fails the cold start with a clear message.
    env.put("geoip/bad.mmdb", b"not a database".to_vec()).await;
    let bad = format!("s3://{}/geoip/bad.mmdb", env.bucket);
    let Err(err) = env
        .handler_from_env(&[("GEOIP_CITY_DB", bad.as_str())])
        .await
    else {
        panic!("a bad database must fail the cold start");
    };
    assert!(err.contains("not a MaxMind DB"), "{err}");
}
