//! The host's life cycle, in one place. [`Host::open`] opens what every command that runs
//! handlers needs: the store, the secrets and settings services over it, and the invoker.
//! [`Host::run`] is `fluxbase serve`: job queue recovery and workers, the pre-boot pool and idle
//! reaper, HTTP until a stop signal, then the workers' finish and a flush of the records.
//! It owns the wiring and the embedded store's job recovery; what each part does lives in its
//! own module, none of which reaches back here. It reads no secret and serves no route itself.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, KeyPolicy};
use crate::http::{self, AppState, ServeOptions, ServiceKey, UserTokens};
use crate::invoke::{Invoker, InvokerConfig};
use crate::jobs::{JobQueue, QueueConfig};
use crate::logs::LogBook;
use crate::secrets::SecretsService;
use crate::settings::SettingsService;
use crate::store::{Store, redact_url};
use crate::{Error, Result};

/// How often idle warm isolates are looked for.
const IDLE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// How a host opens its store's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A server: a missing master key is created (and kept) on first start.
    Serve,
    /// A one-shot execution: an empty store gets a throwaway key, nothing is written.
    OneShot,
}

/// The opened parts of a host. See the module documentation.
pub struct Host {
    store: Store,
    secrets: Arc<SecretsService>,
    settings: Arc<SettingsService>,
    invoker: Arc<Invoker>,
    database: String,
}

impl Host {
    /// Opens the store of `config`, the secrets service (recording `actor` in the audit log)
    /// and the settings service over it, and an invoker with `invoker`.
    pub async fn open(
        config: &Config,
        purpose: Purpose,
        actor: &str,
        invoker: InvokerConfig,
    ) -> Result<Host> {
        let policy = match purpose {
            Purpose::Serve => KeyPolicy::CreateIfMissing,
            Purpose::OneShot => KeyPolicy::EphemeralIfEmpty,
        };
        let store = config.open_store().await?;
        let (keyring, _) = config.load_keyring(&store, policy).await?;
        let secrets = SecretsService::new(store.clone(), keyring, actor).await?;
        let secrets = Arc::new(secrets.with_retention(config.deleted_retention()?));
        let settings = Arc::new(config.open_settings(store.clone(), policy).await?);
        let invoker = Invoker::new(secrets.clone(), settings.clone(), store.clone(), invoker);
        Ok(Host {
            store,
            secrets,
            settings,
            invoker: Arc::new(invoker),
            database: redact_url(&config.database_url()),
        })
    }

    /// The invoker, for one-shot executions.
    pub fn invoker(&self) -> &Invoker {
        &self.invoker
    }

    /// Serves until SIGTERM or Ctrl-C (see the module documentation): binds
    /// `options.listen`, writes one "listening on" line, and runs the job queue of `queue`.
    pub async fn run(
        self,
        options: ServeOptions,
        queue: QueueConfig,
        key: ServiceKey,
        tokens: Option<UserTokens>,
    ) -> Result<()> {
        // Build the startup snapshot now rather than on the first request.
        tokio::task::spawn_blocking(crate::isolate::boot::startup_snapshot);
        let store = self.store.clone();
        let jobs = JobQueue::new(store.clone(), queue);
        jobs.recover().await?;
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|e| Error::io(format!("cannot listen on {}", options.listen), e))?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the bound address", e))?;
        // Handlers see the bound address (port 0 resolved) when a request names no host.
        let options = ServeOptions {
            listen: address,
            ..options
        };
        http::announce(&options, &self.database)?;

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let workers = jobs.start(self.invoker.clone(), stop_rx.clone());
        let scheduler = {
            let jobs = jobs.clone();
            let stop = stop_rx.clone();
            tokio::spawn(async move { jobs.schedule(stop).await })
        };
        self.invoker.prepare();
        tokio::spawn(retire_idle_isolates(self.invoker.clone(), stop_rx.clone()));
        tokio::spawn(crate::secrets::purge_periodically(
            self.secrets.clone(),
            stop_rx,
        ));
        let grace = options.shutdown_grace;
        let state = AppState {
            secrets: self.secrets,
            settings: self.settings,
            invoker: self.invoker.clone(),
            jobs,
            logs: LogBook::new(store),
            options: Arc::new(options),
            tokens,
            service_key: key,
            rate_limits: http::RateLimits::default(),
            sockets: http::OpenSockets::new(stop_tx.subscribe()),
        };
        let served = http::serve(listener, state, stop_tx).await;
        // Workers finish the run they are on (a run cut short is claimed again after a restart).
        let _ = tokio::time::timeout(grace, async {
            for worker in workers {
                let _ = worker.await;
            }
        })
        .await;
        let _ = scheduler.await;
        self.invoker.flush_records().await;
        served
    }
}

/// Retires warm isolates past their idle time, every few seconds until the host stops.
async fn retire_idle_isolates(invoker: Arc<Invoker>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(IDLE_CHECK_INTERVAL);
    loop {
        tokio::select! {
            _ = every.tick() => {
                let retired = invoker.retire_idle();
                if retired > 0 {
                    tracing::debug!("retired {retired} idle isolate(s)");
                }
            }
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}
