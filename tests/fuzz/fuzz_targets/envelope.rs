//! Fuzz target `envelope`: see `fluxbase::fuzzing::envelope` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxbase::fuzzing::envelope(data));
