//! Fuzz target `admin_body`: see `fluxbase::fuzzing::admin_body` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxbase::fuzzing::admin_body(data));
