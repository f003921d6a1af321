#![no_main]
//! `cargo fuzz run envelope`: see `cloudsec::fuzz::envelope`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| cloudsec::fuzz::envelope(data));
