//! Fuzz target `dotenv`: see `fluxbase::fuzzing::dotenv` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxbase::fuzzing::dotenv(data));
