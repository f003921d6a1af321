//! uap-core's `regexes.yaml`, as JSON: the user agent parser reads it at run time with
//! `serde_json` (a few million instructions) instead of a YAML parser (44 million, all of it on
//! the path of the first agent parsed: a cold start's, or a scan's while its readers wait).

use std::path::PathBuf;

fn main() {
    let source = "data/uap-core/regexes.yaml";
    println!("cargo::rerun-if-changed={source}");
    let yaml = std::fs::read_to_string(source).expect("uap-core's regexes.yaml");
    let value: serde_json::Value =
        serde_yaml_ng::from_str(&yaml).expect("uap-core's regexes.yaml is YAML");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("uap-core.json");
    std::fs::write(out, serde_json::to_string(&value).expect("JSON")).expect("write OUT_DIR");
}
