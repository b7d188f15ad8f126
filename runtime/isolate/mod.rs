//! JavaScript isolates: one deno_core runtime per OS thread, booted (from a startup snapshot
//! when one is at hand) with the web extensions and the `fluxbase` extension from `ops/`,
//! running one function or job module.
//!
//! - [`array_buffers`]: the memory behind `ArrayBuffer`s, held to the heap limit;
//! - [`boot`]: the extension list, permissions, the startup snapshot, runtime creation;
//! - [`network`]: where `fetch` may connect (public addresses only, by default);
//! - [`loader`]: the module loader (files under the handler directory, TypeScript transpiled);
//! - [`sources`]: the extension JavaScript compiled into the binary;
//! - [`worker`]: the isolate thread, invocations, wall-clock and heap limits.
//!
//! The engine is V8. Every isolate gets an OS thread of its own that ends when the isolate is
//! dropped: a busy isolate never holds up another, and its thread-local state (its tokio
//! runtime, V8's per-thread isolate entry) ends with it.

pub mod array_buffers;
pub mod boot;
pub mod loader;
pub mod network;
pub mod sources;
pub mod transpile_cache;
pub mod worker;

pub use boot::BootOptions;
pub use fluxbase_ops::body::{
    RequestBody, RequestChunk, ResponseHead, ResponseReceiver, ResponseSink,
};
pub use fluxbase_ops::state::{
    HttpRequest, HttpResponse, IsolateEnv, LogLevel, LogLine, ResolvedSecrets,
};
pub use network::NetworkAccess;
pub use worker::{
    BlankIsolate, BootFailure, Invocation, InvocationResult, Isolate, IsolateConfig, IsolateError,
    Output,
};
