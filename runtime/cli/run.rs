//! What `functions invoke` and `jobs run` share: limits, namespace, network access and the
//! one-shot host they open. It only turns flags into the invoker's configuration.

use std::time::Duration;

use clap::Args;

use super::actor;
use crate::config::Config;
use crate::host::{Host, Purpose};
use crate::invoke::{DEFAULT_HEAP_LIMIT_BYTES, InvokerConfig, Isolation};
use crate::isolate::NetworkAccess;
use crate::modules::{ImportAccess, ModuleOptions};
use crate::secrets::Namespace;
use crate::{Error, Result};

/// Options of a one-shot execution.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Namespace for handlers without a `// @fluxbase:namespace` line.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Wall-clock limit, e.g. 30s or 2m (default: 30s for functions, 5m for jobs).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// Heap limit of the isolate in MiB.
    #[arg(long, value_name = "MIB", default_value_t = (DEFAULT_HEAP_LIMIT_BYTES / (1024 * 1024)) as u64,
          value_parser = clap::value_parser!(u64).range(16..=16_384))]
    pub heap_limit_mb: u64,
    #[command(flatten)]
    pub network: NetworkArgs,
}

impl RunArgs {
    /// A host for one execution: a fresh isolate booted without a snapshot (building the
    /// snapshot costs more than one boot), with the system settings secrets (a one-shot run
    /// is made for no user).
    pub async fn host(&self, config: &Config) -> Result<Host> {
        let mut invoker_config = InvokerConfig {
            default_namespace: Namespace::parse(&self.namespace)?,
            heap_limit_bytes: usize::try_from(self.heap_limit_mb * 1024 * 1024)
                .map_err(|_| Error::invalid("--heap-limit-mb is too large"))?,
            use_snapshot: false,
            isolation: Isolation::PerInvocation,
            network: self.network.access(),
            modules: ModuleOptions::in_data_dir(&config.data_dir, self.network.imports()),
            ..InvokerConfig::default()
        };
        if let Some(timeout) = self.timeout {
            if timeout.is_zero() {
                return Err(Error::invalid("--timeout must be longer than zero"));
            }
            invoker_config.function_timeout = timeout;
            invoker_config.job_timeout = timeout;
        }
        Host::open(config, Purpose::OneShot, &actor(), invoker_config).await
    }
}

/// Where `fetch` in function and job code may connect, and where the host fetches their remote
/// modules from (`serve`, `functions invoke`, `jobs run`).
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Let `fetch` in function and job code reach loopback, private, link-local (cloud
    /// metadata) and other non-public addresses. Without it they are refused.
    #[arg(long, env = "FLUXBASE_ALLOW_PRIVATE_NETWORK")]
    allow_private_network: bool,
    /// Let the host fetch the remote modules functions import (`https:`/`http:` imports) from
    /// loopback, private and other non-public addresses: a module server on its own network.
    /// Without it they are refused. Independent of --allow-private-network.
    #[arg(long, env = "FLUXBASE_ALLOW_PRIVATE_IMPORTS")]
    allow_private_imports: bool,
}

impl NetworkArgs {
    /// The network access these options ask for.
    pub fn access(&self) -> NetworkAccess {
        if self.allow_private_network {
            NetworkAccess::Any
        } else {
            NetworkAccess::PublicOnly
        }
    }

    /// Where the host may fetch remote modules from, as these options ask.
    pub fn imports(&self) -> ImportAccess {
        if self.allow_private_imports {
            ImportAccess::Any
        } else {
            ImportAccess::PublicOnly
        }
    }
}
