//! What an isolate is given before user code runs: the secrets it may read and its `Deno.env`.
//! For each name the host process's `FLUXBASE_SECRET_<NAME>` wins, then the namespace secret,
//! then the global one (the secrets service already skipped expired ones). It combines what it
//! is given, cached per namespace: it never reads the store or decrypts.

use std::collections::BTreeMap;
use std::sync::Arc;

use fluxbase_ops::state::{IsolateEnv, ResolvedSecrets as IsolateSecrets, SECRET_ENV_PREFIX};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize;

use crate::bounded_cache::BoundedCache;
use crate::handlers::HandlerKind;
use crate::secrets::{Namespace, ResolvedSecrets, SecretName};

/// Where an injected secret came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The host process environment.
    HostEnv,
    /// The store: scope and version.
    Store(&'static str, i64),
}

/// The secrets chosen for one isolate, by upper-case name, with what every execution needs
/// from them worked out once.
pub struct Injection {
    values: BTreeMap<String, (Source, SecretString)>,
    /// Names, sources and versions (no values).
    fingerprint: Arc<[(String, Source)]>,
    /// The secrets as `FLUXBASE_SECRET_<NAME>` variables; wiped when dropped.
    secret_env: BTreeMap<String, String>,
}

impl Drop for Injection {
    fn drop(&mut self) {
        self.secret_env.values_mut().for_each(Zeroize::zeroize);
    }
}

impl std::fmt::Debug for Injection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injection")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// `FLUXBASE_SECRET_*` variables of the host process, as (name, value).
pub fn host_env_secrets() -> Vec<(SecretName, SecretString)> {
    std::env::vars_os()
        .filter_map(|(key, value)| {
            let name = key.to_str()?.strip_prefix(SECRET_ENV_PREFIX)?;
            let name = match SecretName::parse(name) {
                Ok(name) => name,
                Err(error) => {
                    tracing::warn!("ignoring host variable {SECRET_ENV_PREFIX}{name}: {error}");
                    return None;
                }
            };
            Some((name, SecretString::from(value.into_string().ok()?)))
        })
        .collect()
}

impl Injection {
    /// Combines the store's secrets for a namespace with the host's overrides.
    pub fn new(stored: &ResolvedSecrets, host: &[(SecretName, SecretString)]) -> Self {
        let mut values: BTreeMap<String, (Source, SecretString)> = stored
            .secrets
            .iter()
            .map(|(name, secret)| {
                let value = SecretString::from(secret.value.expose().to_owned());
                (
                    name.as_str().to_owned(),
                    (Source::Store(secret.scope.as_str(), secret.version), value),
                )
            })
            .collect();
        for (name, value) in host {
            values.insert(name.as_str().to_owned(), (Source::HostEnv, value.clone()));
        }
        let fingerprint = values
            .iter()
            .map(|(name, (source, _))| (name.clone(), source.clone()))
            .collect();
        let secret_env = values
            .iter()
            .map(|(secret, (_, value))| {
                (
                    format!("{SECRET_ENV_PREFIX}{secret}"),
                    value.expose_secret().to_owned(),
                )
            })
            .collect();
        Injection {
            values,
            fingerprint,
            secret_env,
        }
    }

    /// What the set is made of (names, sources, versions; no values), to tell whether a warm
    /// isolate still holds the current secrets.
    pub fn fingerprint(&self) -> Arc<[(String, Source)]> {
        self.fingerprint.clone()
    }

    /// The secrets as the isolate's ops hold them.
    pub fn isolate_secrets(&self) -> IsolateSecrets {
        self.values
            .iter()
            .map(|(name, (_, value))| (name.clone(), value.expose_secret().to_owned()))
            .collect()
    }

    /// The whole `Deno.env` of one execution: the secrets as `FLUXBASE_SECRET_<NAME>` and the
    /// identity variables, and nothing of the host's own environment.
    pub fn env(
        &self,
        kind: HandlerKind,
        name: &str,
        namespace: &Namespace,
        id: &str,
    ) -> IsolateEnv {
        let mut env = self.secret_env.clone();
        let (name_var, namespace_var, id_var) = match kind {
            HandlerKind::Function => (
                "FLUXBASE_FUNCTION_NAME",
                "FLUXBASE_FUNCTION_NAMESPACE",
                "FLUXBASE_EXECUTION_ID",
            ),
            HandlerKind::Job => (
                "FLUXBASE_JOB_NAME",
                "FLUXBASE_JOB_NAMESPACE",
                "FLUXBASE_JOB_ID",
            ),
        };
        env.insert(name_var.into(), name.to_owned());
        env.insert(namespace_var.into(), namespace.as_str().to_owned());
        env.insert(id_var.into(), id.to_owned());
        IsolateEnv(env)
    }
}

/// The injection of each namespace, kept while its resolved secrets are the same set (the
/// secrets service hands out one shared set per store generation), so that a warm execution
/// does not rebuild it.
#[derive(Default)]
pub(super) struct InjectionCache {
    entries: BoundedCache<Namespace, CachedInjection>,
}

/// A resolved set and the injection built from it.
type CachedInjection = (Arc<ResolvedSecrets>, Arc<Injection>);

impl InjectionCache {
    /// The injection of `resolved` (for `namespace`) with the host's overrides.
    pub(super) fn get(
        &self,
        namespace: &Namespace,
        resolved: &Arc<ResolvedSecrets>,
        host: &[(SecretName, SecretString)],
    ) -> Arc<Injection> {
        if let Some((_, injection)) = self
            .entries
            .get_if(namespace, |(set, _)| Arc::ptr_eq(set, resolved))
        {
            return injection;
        }
        let injection = Arc::new(Injection::new(resolved, host));
        self.entries
            .insert(namespace.clone(), (resolved.clone(), injection.clone()));
        injection
    }
}
