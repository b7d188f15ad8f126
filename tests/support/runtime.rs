//! Runs fixtures through the real invoker, in process, over a real store on the test backend
//! (see `FLUXBASE_TEST_BACKEND` in the support module).

#![allow(dead_code)]

use std::sync::Arc;

use fluxbase::config::{Config, KeyPolicy};
use fluxbase::crypto::{Keyring, MasterKey};
use fluxbase::invoke::{Call, ExecutionFailure, Invoker, InvokerConfig};
use fluxbase::isolate::{HttpRequest, HttpResponse, RequestBody};
use fluxbase::secrets::{
    Namespace, SecretName, SecretRef, SecretValue, SecretsService, SetRequest,
};
use fluxbase::settings::SettingsService;
use fluxbase::store::{ExecutionRecord, LogFilter, Store};
use fluxbase::time::Timestamp;

pub use crate::support::fixtures;
use crate::support::{Backend, POSTGRES_TEST_KEY, TestDatabase, backend, postgres_url};

/// A store, its secrets service and an invoker over the fixtures.
pub struct Runtime {
    _dir: tempfile::TempDir,
    /// The store below everything, for reading records back.
    pub store: Store,
    /// The secrets service the invoker reads.
    pub secrets: Arc<SecretsService>,
    /// The invoker under test.
    pub invoker: Invoker,
    /// The PostgreSQL database of the store, dropped with the runtime.
    _database: Option<TestDatabase>,
}

impl Runtime {
    /// A runtime with the default invoker settings (snapshot, warm isolates).
    pub async fn new() -> Self {
        Self::with(InvokerConfig::default()).await
    }

    /// A runtime with these invoker settings.
    pub async fn with(config: InvokerConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (store, keyring, database) = match backend() {
            Backend::Sqlite => {
                let config_files = Config {
                    data_dir: dir.path().join("data"),
                    database_url: None,
                    remote_url: None,
                };
                let store = config_files.open_store().await.unwrap();
                let (keyring, _) = config_files
                    .load_keyring(&store, KeyPolicy::CreateIfMissing)
                    .await
                    .unwrap();
                (store, keyring, None)
            }
            Backend::Postgres => {
                let admin_url = postgres_url("the PostgreSQL backend").expect("URL checked");
                let database = TestDatabase::create(&admin_url);
                let store = Store::open(&database.url).await.unwrap();
                let key = MasterKey::parse(POSTGRES_TEST_KEY.as_bytes(), "the test key").unwrap();
                (store, Keyring::new(key), Some(database))
            }
        };
        let settings_keyring = Keyring::new(keyring.active().clone());
        let service = SecretsService::new(store.clone(), keyring, "test")
            .await
            .unwrap();
        let secrets = Arc::new(service);
        let settings = Arc::new(
            SettingsService::new(store.clone(), settings_keyring)
                .await
                .unwrap(),
        );
        let invoker = Invoker::new(secrets.clone(), settings, store.clone(), config);
        Runtime {
            _dir: dir,
            store,
            secrets,
            invoker,
            _database: database,
        }
    }

    /// Sets a secret (global when `namespace` is `None`).
    pub async fn set(&self, name: &str, value: &str, namespace: Option<&str>) {
        self.set_expiring(name, value, namespace, None).await;
    }

    /// Sets a secret with an expiry.
    pub async fn set_expiring(
        &self,
        name: &str,
        value: &str,
        namespace: Option<&str>,
        expires_at: Option<Timestamp>,
    ) {
        let name = SecretName::parse(name).unwrap();
        let secret = match namespace {
            Some(ns) => SecretRef::in_namespace(Namespace::parse(ns).unwrap(), name),
            None => SecretRef::global(name),
        };
        let request = SetRequest {
            secret,
            value: SecretValue::new(value.into()).unwrap(),
            description: None,
            expires_at,
            if_version: None,
            must_exist: false,
            max_versions: None,
        };
        self.secrets.set(&request).await.unwrap();
    }

    /// Invokes a fixture function with GET `target` (`name?query`).
    pub async fn get(&self, target: &str) -> fluxbase::Result<(HttpResponse, String)> {
        let end = target.find(['/', '?']).unwrap_or(target.len());
        let request = HttpRequest {
            method: "GET".into(),
            url: format!("http://localhost/functions/v1/{target}"),
            headers: Vec::new(),
            body: RequestBody::None,
            upgrade: None,
        };
        let outcome = self
            .invoker
            .execute(Call::function(
                &fixtures("functions"),
                &target[..end],
                request,
            ))
            .await?;
        let id = outcome.execution_id.clone();
        Ok((outcome.response().expect("a response"), id))
    }

    /// Invokes a fixture function and parses its JSON body.
    pub async fn json(&self, target: &str) -> serde_json::Value {
        let (response, _) = self
            .get(target)
            .await
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(response.status, 200, "{target}");
        serde_json::from_slice(&response.body).unwrap()
    }

    /// The execution record with this id.
    pub async fn record(&self, id: &str) -> ExecutionRecord {
        self.invoker.flush_records().await;
        self.store.execution(id).await.unwrap().unwrap()
    }

    /// The newest execution records.
    pub async fn records(&self) -> Vec<ExecutionRecord> {
        self.invoker.flush_records().await;
        let filter = LogFilter {
            name: None,
            search: None,
            limit: 10_000,
            ..LogFilter::default()
        };
        self.store.executions(&filter).await.unwrap()
    }
}

/// The failure of an execution error, with its record id.
pub fn failure(error: fluxbase::Error) -> (ExecutionFailure, String) {
    match error {
        fluxbase::Error::Execution {
            failure,
            execution_id,
            ..
        } => (failure, execution_id),
        other => panic!("not an execution failure: {other}"),
    }
}
