//! Tests that run the library in process: real isolates through the real invoker, the store's
//! schema, the fuzz corpus. One test binary for all of them.

#[path = "../support/runtime.rs"]
mod in_process;
#[path = "../support/mod.rs"]
mod support;

mod fuzz_corpus;
mod runtime_functions;
mod runtime_reuse;
mod store_schema;
