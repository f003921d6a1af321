//! Access to `../shared` (the corpora and the ECS reference), beside the project.

#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/<rel>` from the project root, or `None` with a notice when it is missing outside
/// CI. Under CI a missing corpus fails the test: CI always has it.
pub fn shared_path(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing: CI must have ../shared beside the project",
            p.display()
        );
    }
    eprintln!("skipped: {} is missing", p.display());
    None
}

/// Removes Panther's enrichment keys (`p_*`) from a log, recursively at the top level.
pub fn strip_panther_fields(v: &mut serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.starts_with("p_"));
    }
}
