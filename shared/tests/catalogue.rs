//! The catalogue is the one of `../shared/DETECTIONS.md`: every rule it lists is built in, and
//! every built-in rule is listed there or named below as an addition.

mod common;

use std::collections::BTreeSet;

use cloudsec::detect::Catalogue;

/// Rules we have that DETECTIONS.md does not list (none today).
const ADDITIONS: &[&str] = &[];

#[test]
fn the_catalogue_ids_are_those_of_detections_md() {
    let Some(path) = common::shared_path("DETECTIONS.md") else {
        return;
    };
    let text = std::fs::read_to_string(path).expect("DETECTIONS.md");
    // A rule is a table row whose first cell is an id: `| user.root-login | ...`.
    let listed: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .map(str::trim)
        .filter(|id| {
            id.split_once('.').is_some_and(|(group, name)| {
                !group.is_empty()
                    && group.bytes().all(|b| b.is_ascii_lowercase())
                    && !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
        })
        .map(str::to_owned)
        .collect();
    assert!(
        listed.len() > 50,
        "rows read from DETECTIONS.md: {listed:?}"
    );
    let catalogue = Catalogue::builtin();
    let ids: Vec<&str> = catalogue.metas().map(|m| m.id).collect();
    let built: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(ids.len(), built.len(), "rule ids are unique");
    let missing: Vec<_> = listed.difference(&built).collect();
    assert!(missing.is_empty(), "listed but not built in: {missing:?}");
    let extra: Vec<_> = built
        .difference(&listed)
        .filter(|id| !ADDITIONS.contains(&id.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "built in but not listed nor an addition: {extra:?}"
    );
    println!("{} rules, as DETECTIONS.md lists them", built.len());
}
