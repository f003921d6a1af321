//! The SAM application against the code: every function's crate exists with the binary the
//! template builds; the template sets every environment variable the code reads, and nothing
//! the code does not read; every file of `events/` parses as the event type of the function it
//! is meant for, and that function accepts it.

use std::collections::BTreeSet;

use cloudsec_integration_tests::root;
use serde_yaml_ng::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

fn functions(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, r)| (name.as_str().unwrap().to_owned(), r))
        .collect()
}

/// The package names of `functions/*/Cargo.toml`.
fn function_crates() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(root().join("functions")).expect("functions/") {
        let manifest = e.expect("entry").path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .expect("package name")
            .trim_matches('"')
            .to_owned();
        // A binary crate with src/main.rs builds a binary of the package's name.
        assert!(
            manifest.with_file_name("src/main.rs").exists(),
            "{name}: no src/main.rs"
        );
        out.insert(name);
    }
    out
}

#[test]
fn every_function_is_a_crate_built_by_cargo_lambda_for_arm64() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(globals["LoggingConfig"]["LogFormat"], "JSON");
    let crates = function_crates();
    let mut built = BTreeSet::new();
    for (name, f) in functions(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no BuildProperties.Binary"));
        assert!(crates.contains(binary), "{name}: no crate builds {binary}");
        assert!(
            !f["Properties"]["ReservedConcurrentExecutions"].is_null(),
            "{name}: unbounded concurrency"
        );
        built.insert(binary.to_owned());
    }
    assert_eq!(built, crates, "every function crate is deployed");
}

#[test]
fn the_template_sets_exactly_the_variables_the_code_reads() {
    let t = template();
    let set: BTreeSet<String> = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .expect("Globals environment")
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let read: BTreeSet<String> = cloudsec::config::ALL_ENV
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(set, read, "template (left) and code (right) disagree");
    // And the code's own list is complete: every ENV_ constant of config.rs is in it.
    let source = std::fs::read_to_string(root().join("shared/src/config.rs")).expect("config.rs");
    let declared = source.matches("pub const ENV_").count();
    assert_eq!(
        declared,
        read.len(),
        "ALL_ENV misses a variable of config.rs"
    );
}

#[test]
fn the_default_rule_settings_of_the_template_are_accepted_by_the_code() {
    // RULE_SETTINGS with the parameters' defaults substituted, as CloudFormation would.
    let t = template();
    let raw = &t["Globals"]["Function"]["Environment"]["Variables"]["RULE_SETTINGS"];
    let Value::Tagged(tagged) = raw else {
        panic!("RULE_SETTINGS is a !Sub")
    };
    let mut text = tagged.value.as_str().expect("!Sub string").to_owned();
    for (name, p) in t["Parameters"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let default = match &p["Default"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => continue,
        };
        text = text.replace(&format!("${{{name}}}"), &default);
    }
    assert!(!text.contains("${"), "unresolved parameter in {text}");
    let overrides = serde_json::from_str(&text).expect("RULE_SETTINGS is JSON");
    let mut catalogue = cloudsec::detect::Catalogue::builtin();
    catalogue
        .apply_overrides(&overrides)
        .expect("every rule named exists and takes these settings");
    // The defaults are the catalogue's own: deploying with defaults changes nothing.
    let builtin = cloudsec::detect::Catalogue::builtin();
    for id in overrides.keys() {
        assert_eq!(catalogue.kind(id), builtin.kind(id), "{id}");
    }
}

#[test]
fn every_event_file_parses_as_its_trigger_and_its_function_accepts_it() {
    use aws_lambda_events::event::{
        eventbridge::EventBridgeEvent, s3::S3Event, sns::SnsEvent, sqs::SqsEvent,
    };
    let mut seen = 0;
    for e in std::fs::read_dir(root().join("events")).expect("events/") {
        let path = e.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("event");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        if name.starts_with("scheduler-") {
            // What the schedule gives risk-report: the template's Input, exactly.
            let t = template();
            let input = t["Resources"]["RiskReportSchedule"]["Properties"]["Target"]["Input"]
                .as_str()
                .expect("the schedule's Input");
            let input: serde_json::Value = serde_json::from_str(input).expect("Input is JSON");
            assert_eq!(json, input, "{name}: not what the schedule sends");
            assert!(
                json.get("at").is_none(),
                "{name}: a schedule draws today's report"
            );
            seen += 1;
            continue;
        }
        if name.starts_with("s3-batch-") {
            // S3 Batch Operations: log-ingest answers it task by task.
            let job = cloudsec::envelope::batch_job(&json)
                .unwrap_or_else(|e| panic!("{name}: not a Batch Operations event: {e}"));
            assert!(!job.tasks.is_empty(), "{name}");
            for t in job.tasks {
                t.object.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            seen += 1;
            continue;
        }
        let parsed = if name.starts_with("s3-") {
            serde_json::from_value::<S3Event>(json.clone()).map(|_| ())
        } else if name.starts_with("sqs-") {
            serde_json::from_value::<SqsEvent>(json.clone()).map(|_| ())
        } else if name.starts_with("sns-") {
            serde_json::from_value::<SnsEvent>(json.clone()).map(|_| ())
        } else if name.starts_with("eventbridge-") {
            serde_json::from_value::<EventBridgeEvent<serde_json::Value>>(json.clone()).map(|_| ())
        } else {
            panic!("{name}: name it after its trigger (s3-, s3-batch-, sqs-, sns-, eventbridge-, scheduler-)")
        };
        parsed.unwrap_or_else(|e| panic!("{name}: not its trigger's event: {e}"));
        // Which function it is for: finding events go to finding-ingest, the rest to log-ingest.
        let detail_type = json["detail-type"].as_str().unwrap_or("");
        match cloudsec::sources::source_of_detail_type(detail_type) {
            Some(_) => assert!(json["detail"].is_object(), "{name}"),
            None => {
                let (_, inputs) = cloudsec::envelope::unwrap(&json)
                    .unwrap_or_else(|e| panic!("{name}: log-ingest rejects it: {e}"));
                assert!(!inputs.is_empty(), "{name}");
                for input in inputs {
                    input.notices.unwrap_or_else(|e| panic!("{name}: {e}"));
                }
            }
        }
        seen += 1;
    }
    assert!(seen >= 10, "{seen} event files");
}

#[test]
fn plain_sam_deploy_carries_no_example_values() {
    // The example's fake account ids, bucket and e-mail live in [example.*]; the default
    // environment, which plain `sam deploy` reads, names no parameter.
    let text = std::fs::read_to_string(root().join("samconfig.toml")).expect("samconfig.toml");
    let mut section = String::new();
    let mut example_overrides = false;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        if line.starts_with("parameter_overrides") {
            assert!(
                !section.starts_with("default."),
                "[{section}] sets parameters: plain `sam deploy` would use them"
            );
            example_overrides |= section == "example.deploy.parameters";
        }
    }
    assert!(
        example_overrides,
        "the example environment keeps its parameters"
    );
}
