//! Fuzz target `expiry`: see `fluxbase::fuzzing::expiry` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxbase::fuzzing::expiry(data));
