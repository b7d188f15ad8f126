//! Every test that drives the built `fluxbase` binary (the CLI, and `fluxbase serve` over real
//! HTTP), one module per area, in one test binary: one link instead of one per file, and this
//! binary does not link the JavaScript engine (it only starts the built program).

#[path = "../settings_support/mod.rs"]
mod settings_support;
#[path = "../support/mod.rs"]
mod support;

mod conformance;
mod dashboard;
mod dashboard_routes;
mod egress;
mod fault_kill;
mod fault_storage;
mod function_settings;
mod hostile_functions;
mod http_api;
mod http_auth;
mod http_input;
mod http_jobs;
mod http_streaming;
mod job_control;
mod load_http;
mod multi_host;
mod npm_packages;
mod redaction;
mod remote_cli;
mod remote_modules;
mod runtime_cli;
mod schedules;
mod secrets_audit;
mod secrets_cli;
mod secrets_concurrency;
mod secrets_deletion;
mod secrets_digest;
mod secrets_expiry;
mod secrets_import;
mod secrets_leaks;
mod secrets_tamper;
mod settings_api;
mod settings_cli;
mod settings_leaks;
mod settings_runtime;
mod websocket;
mod websocket_server;
