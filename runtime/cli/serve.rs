//! `fluxbase serve`: turns flags into the host's options, loads the service key and starts the
//! host ([`crate::host::Host::run`]): the admin API, the function endpoint, jobs and health over
//! HTTP. It serves no route and runs no SQL itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::run::NetworkArgs;
use crate::config::Config;
use crate::host::{Host, Purpose};
use crate::http::{ServeOptions, ServiceKey, UserTokens};
use crate::invoke::{
    DEFAULT_HEAP_LIMIT_BYTES, DEFAULT_JOB_TIMEOUT, DEFAULT_MAX_EXECUTIONS_PER_ISOLATE,
    DEFAULT_MAX_QUEUED, InvokerConfig, Isolation,
};
use crate::jobs::{DEFAULT_MAX_ATTEMPTS, QueueConfig};
use crate::modules::ModuleOptions;
use crate::secrets::Namespace;
use crate::{Error, Result};

/// Actor recorded in the audit log for changes made through the API.
const API_ACTOR: &str = "api:service-key";
/// The shortest `--job-lease`: renewals (every third of it) must have time to reach the store.
const MIN_JOB_LEASE: Duration = Duration::from_secs(1);

/// `fluxbase serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FLUXBASE_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Directory of the functions.
    #[arg(long, default_value = "functions")]
    functions_dir: PathBuf,
    /// Directory of the jobs.
    #[arg(long, default_value = "jobs")]
    jobs_dir: PathBuf,
    /// Namespace for handlers without a `// @fluxbase:namespace` line.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// Largest function request body in MiB (413 above).
    #[arg(long, value_name = "MIB", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1024))]
    body_limit_mb: u64,
    /// Wall-clock limit of a function invocation, e.g. 30s.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    function_timeout: Duration,
    /// Heap limit of each isolate in MiB.
    #[arg(long, value_name = "MIB", default_value_t = (DEFAULT_HEAP_LIMIT_BYTES / (1024 * 1024)) as u64,
          value_parser = clap::value_parser!(u64).range(16..=16_384))]
    heap_limit_mb: u64,
    /// How isolates are used: per-function (a warm isolate per function and namespace, reused
    /// one invocation at a time) or per-invocation (a fresh isolate for every call).
    #[arg(long, default_value = "per-function")]
    isolation: Isolation,
    /// Per-function: retire a warm isolate unused for this long.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5m")]
    isolate_idle_timeout: Duration,
    /// Per-function: retire a warm isolate after this many invocations.
    #[arg(long, default_value_t = DEFAULT_MAX_EXECUTIONS_PER_ISOLATE, value_parser = clap::value_parser!(u64).range(1..))]
    isolate_max_invocations: u64,
    /// Invocations running at once, each in an isolate on a thread of its own. Default: the
    /// number of cores.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    max_concurrent: Option<u64>,
    /// Function invocations that may wait for a free slot; past that they get 503.
    #[arg(long, default_value_t = DEFAULT_MAX_QUEUED as u64, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    max_queued: u64,
    /// Isolates booted ahead (no user code, no secrets) so that a cold invocation does not
    /// pay for the boot.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=64))]
    preboot: u64,
    /// Workers running background jobs at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    job_workers: u64,
    /// Attempts of a job run before it fails for good.
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(i64).range(1..=100))]
    job_max_attempts: i64,
    /// Pause before a job's first retry, doubled for each later one.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    job_backoff: Duration,
    /// How long a running job stays this host's without a renewal (renewed every third of it
    /// while the job runs): when the host dies, another host sharing the database runs the job
    /// again once the lease has passed. Default: the job timeout plus one minute.
    #[arg(long, value_parser = humantime::parse_duration)]
    job_lease: Option<Duration>,
    #[command(flatten)]
    network: NetworkArgs,
}

impl ServeArgs {
    /// Runs the server until it is told to stop.
    pub async fn run(self, config: &Config) -> Result<()> {
        if self.function_timeout.is_zero() {
            return Err(Error::invalid(
                "--function-timeout must be longer than zero",
            ));
        }
        let job_lease = self
            .job_lease
            .unwrap_or(DEFAULT_JOB_TIMEOUT + Duration::from_secs(60));
        if job_lease < MIN_JOB_LEASE {
            return Err(Error::invalid(format!(
                "--job-lease must be at least {}",
                humantime::format_duration(MIN_JOB_LEASE)
            )));
        }
        let tokens = UserTokens::from_env()?;
        let defaults = InvokerConfig::default();
        let invoker = InvokerConfig {
            default_namespace: Namespace::parse(&self.namespace)?,
            function_timeout: self.function_timeout,
            heap_limit_bytes: usize::try_from(self.heap_limit_mb * 1024 * 1024)
                .map_err(|_| Error::invalid("--heap-limit-mb is too large"))?,
            isolation: self.isolation,
            idle_timeout: self.isolate_idle_timeout,
            max_executions_per_isolate: self.isolate_max_invocations,
            max_concurrent: self
                .max_concurrent
                .map_or(defaults.max_concurrent, |n| n as usize),
            max_queued: self.max_queued as usize,
            preboot: self.preboot as usize,
            network: self.network.access(),
            modules: ModuleOptions::in_data_dir(&config.data_dir, self.network.imports()),
            ..defaults
        };
        let host = Host::open(config, Purpose::Serve, API_ACTOR, invoker).await?;
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| Error::io(format!("cannot create {}", config.data_dir.display()), e))?;
        let (key, generated) = ServiceKey::load_or_create(&config.data_dir)?;
        if let Some(path) = generated {
            eprintln!(
                "fluxbase: generated a service key in {}; send it as Authorization: Bearer <key>",
                path.display()
            );
        }
        let queue = QueueConfig {
            jobs_dir: self.jobs_dir.clone(),
            workers: usize::try_from(self.job_workers).unwrap_or(1),
            max_attempts: self.job_max_attempts,
            backoff: self.job_backoff,
            lease: job_lease,
            poll: Duration::from_secs(1),
        };
        let options = ServeOptions {
            listen: self.listen,
            functions_dir: self.functions_dir,
            jobs_dir: self.jobs_dir,
            body_limit: usize::try_from(self.body_limit_mb * 1024 * 1024).unwrap_or(usize::MAX),
            shutdown_grace: Duration::from_secs(30),
        };
        host.run(options, queue, key, tokens).await
    }
}
