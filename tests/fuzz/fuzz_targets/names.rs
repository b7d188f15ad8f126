//! Fuzz target `names`: see `fluxbase::fuzzing::names` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxbase::fuzzing::names(data));
