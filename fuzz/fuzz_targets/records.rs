#![no_main]
//! `cargo fuzz run records`: see `cloudsec::fuzz::records`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| cloudsec::fuzz::records(data));
