//! JavaScript isolates: one deno_core runtime (V8) per OS thread, booted (from the startup
//! snapshot when at hand) with the web extensions and the `fluxbase` extension from `ops/`,
//! running one function or job module; the thread ends when the isolate is dropped.
//! It never reads the database or the secrets service: it runs with the resolved secrets it is
//! given before boot. Console lines, errors and job results pass `ops`'s redactor on the way out;
//! a function's HTTP response is its own answer and is not redacted.

pub mod array_buffers;
pub mod boot;
pub mod cpu_clock;
pub mod loader;
pub mod network;
pub mod node;
pub mod npm_modules;
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
pub use fluxbase_ops::upgrade::UpgradeSocket;
pub use network::NetworkAccess;
pub use worker::{
    BlankIsolate, BootFailure, CallLimits, Invocation, InvocationResult, Isolate, IsolateCall,
    IsolateConfig, IsolateError, Output,
};
