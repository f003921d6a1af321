#![no_main]
//! `cargo fuzz run framing`: see `cloudsec::fuzz::framing`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| cloudsec::fuzz::framing(data));
