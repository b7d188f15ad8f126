//! `fluxbase secrets ...`: adapters from arguments to the secrets service (or, with `--url`, to a
//! server's admin API). Values are never printed. It runs no SQL and decrypts nothing; the
//! secrets service decides every change. `rotate-key` picks the new master key and swaps the
//! key file around the service's re-wrap.

use std::io::Read;

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use super::output::{self, OutputFormat, print_json};
use super::remote::Remote;
use super::{ScopeArg, actor};
use crate::config::{Config, KeySource, NEW_ENCRYPTION_KEY_ENV};
use crate::crypto::MasterKey;
use crate::secrets::{
    Deletion, Location, Namespace, Scope, SecretName, SecretRef, SecretValue, SetRequest,
    expiring_before, max_versions_from, parse_expiry,
};
use crate::store::ListFilter;
use crate::time::Timestamp;
use crate::{Error, Result};

/// `fluxbase secrets` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// List secrets (metadata and a digest of each value, never the value).
    List {
        /// Only secrets of this scope.
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
        /// Only secrets of this namespace.
        #[arg(long)]
        namespace: Option<String>,
        /// Deleted secrets (kept until their retention ends) instead of live ones.
        #[arg(long)]
        deleted: bool,
        /// Only secrets whose value expires within this duration (7d, 12h), or has expired.
        #[arg(long, value_name = "DURATION")]
        expiring: Option<String>,
    },
    /// Create a secret, or write a new version of an existing one; several at once with
    /// NAME=VALUE arguments (one transaction: all or nothing).
    Set {
        /// NAME VALUE (VALUE - reads stdin, one trailing newline dropped), or NAME=VALUE ...
        /// Names: letters, digits and _, case-insensitive.
        #[arg(required = true, value_name = "NAME VALUE | NAME=VALUE")]
        args: Vec<ValueArg>,
        /// global (default) or namespace (implied by --namespace).
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
        /// Namespace of a namespace-scoped secret.
        #[arg(long)]
        namespace: Option<String>,
        /// Description (kept from the previous version when not given).
        #[arg(long)]
        description: Option<String>,
        /// Expiry: a duration (30d, 12h, 2w, 1y) or an RFC 3339 time. Without it the new value
        /// does not expire.
        #[arg(long)]
        expires: Option<String>,
        /// Only write if the current version is N (0: only if the secret does not exist).
        #[arg(long, value_name = "N")]
        if_version: Option<i64>,
        /// Keep only the newest N versions, destroying older ones (0 removes the cap; kept until
        /// a `set` gives a new one).
        #[arg(long, value_name = "N")]
        max_versions: Option<i64>,
    },
    /// Set every NAME=VALUE of a .env file in one transaction: all or nothing.
    Import {
        /// The .env file (dotenv syntax: quotes, export, comments, multi-line quoted values).
        #[arg(long, value_name = "PATH")]
        env_file: std::path::PathBuf,
        /// global (default) or namespace (implied by --namespace).
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
        /// Namespace of the imported secrets.
        #[arg(long)]
        namespace: Option<String>,
        /// Check the file and show what would be written, without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show a secret's metadata and the digest of its value (never the value).
    Get(Target),
    /// Delete a secret: it stops being injected, and its versions are kept for the retention
    /// period (FLUXBASE_DELETED_RETENTION, default 30d) so that `undelete` can bring it back.
    Delete(Target),
    /// Bring a deleted secret back with every version.
    Undelete(Target),
    /// Remove a secret (live or deleted) for good: its values are wiped and cannot be restored.
    Destroy(Target),
    /// List a secret's versions.
    History(Target),
    /// Write an old version's value again as a new version.
    Rollback {
        /// Secret name.
        name: String,
        /// The version whose value to restore.
        version: i64,
        /// Namespace of a namespace-scoped secret.
        #[arg(long)]
        namespace: Option<String>,
        /// Only roll back if the current version is N.
        #[arg(long, value_name = "N")]
        if_version: Option<i64>,
    },
    /// Count secrets: total, expiring within 7 days, expired, deleted.
    Stats,
    /// Re-wrap every data key under a new master key, in one transaction.
    RotateKey,
    /// Decrypt every stored version (or one secret's) to check it is intact.
    Verify {
        /// Only this secret.
        name: Option<String>,
        /// Namespace of a namespace-scoped secret.
        #[arg(long)]
        namespace: Option<String>,
    },
}

/// A secret addressed by name and optional namespace.
#[derive(Debug, Args)]
pub struct Target {
    /// Secret name.
    name: String,
    /// Namespace of a namespace-scoped secret.
    #[arg(long)]
    namespace: Option<String>,
}

impl Target {
    fn secret_ref(&self) -> Result<SecretRef> {
        secret_ref(&self.name, None, self.namespace.as_deref())
    }
}

/// A secret value from the command line. Zeroed on drop, never printed by `Debug`.
#[derive(Clone)]
pub struct ValueArg(Zeroizing<String>);

impl std::str::FromStr for ValueArg {
    type Err = std::convert::Infallible;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Ok(ValueArg(Zeroizing::new(raw.to_owned())))
    }
}

impl std::fmt::Debug for ValueArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl ValueArg {
    /// The value, reading stdin for `-`.
    pub(super) fn into_value(self) -> Result<SecretValue> {
        if self.0.as_str() != "-" {
            return SecretValue::new(self.0.to_string());
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::io("cannot read the value from stdin", e))?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        SecretValue::new(text)
    }
}

fn secret_ref(name: &str, scope: Option<ScopeArg>, namespace: Option<&str>) -> Result<SecretRef> {
    let name = SecretName::parse(name)?;
    Ok(SecretRef {
        location: location(scope, namespace)?,
        name,
    })
}

/// Where `--scope` and `--namespace` put a secret.
fn location(scope: Option<ScopeArg>, namespace: Option<&str>) -> Result<Location> {
    let namespace = namespace.map(Namespace::parse).transpose()?;
    Location::from_flags(scope.map(scope_of), namespace)
}

/// Whether `set` was given the `NAME VALUE` form (two arguments, the first without `=`).
fn single_pair(args: &[ValueArg]) -> bool {
    args.len() == 2 && !args[0].0.contains('=')
}

/// The (name, value) pairs of `set`'s arguments: `NAME VALUE`, or `NAME=VALUE ...`. An argument
/// without `=` is named by its position, never shown: it may be a value.
fn pairs(args: Vec<ValueArg>) -> Result<Vec<(String, SecretValue)>> {
    if let [only] = args.as_slice()
        && !only.0.contains('=')
    {
        return Err(Error::invalid(
            "a value is missing: give `secrets set NAME VALUE`, or NAME=VALUE for each of \
             several secrets",
        ));
    }
    if single_pair(&args) {
        let mut args = args.into_iter();
        let name = args.next().map(|a| a.0.to_string()).unwrap_or_default();
        let value = args.next().expect("two arguments").into_value()?;
        return Ok(vec![(name, value)]);
    }
    args.into_iter()
        .enumerate()
        .map(|(i, arg)| {
            let Some((name, value)) = arg.0.split_once('=') else {
                return Err(Error::invalid(format!(
                    "argument {} is not NAME=VALUE: give `NAME VALUE` for one secret or \
                     NAME=VALUE for each of several; nothing was written",
                    i + 1
                )));
            };
            let value = SecretValue::new(value.to_owned())
                .map_err(|e| Error::invalid(format!("{name}: {e}; nothing was written")))?;
            Ok((name.to_owned(), value))
        })
        .collect()
}

/// The writes a `.env` file asks for, every line checked first.
fn import_requests(
    path: &std::path::Path,
    scope: Option<ScopeArg>,
    namespace: Option<&str>,
) -> Result<Vec<SetRequest>> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let entries = crate::secrets::parse_dotenv(&bytes)
        .map_err(|e| Error::invalid(format!("{} {e}; nothing was imported", path.display())))?;
    if entries.is_empty() {
        return Err(Error::invalid(format!(
            "{} holds no NAME=VALUE line; nothing was imported",
            path.display()
        )));
    }
    let location = location(scope, namespace)?;
    Ok(entries
        .into_iter()
        .map(|entry| SetRequest {
            secret: SecretRef {
                location: location.clone(),
                name: entry.name,
            },
            value: entry.value,
            description: None,
            expires_at: None,
            if_version: None,
            must_exist: false,
            max_versions: None,
        })
        .collect())
}

/// Prints what a multi-secret write wrote.
fn print_written(requests: &[SetRequest], written: &[crate::secrets::SecretMetadata], json: bool) {
    if json {
        print_json(&written);
        return;
    }
    for (request, meta) in requests.iter().zip(written) {
        println!("Set {} to version {}.", request.secret, meta.version);
    }
    println!("Wrote {} secret(s) in one transaction.", written.len());
}

/// Prints what an import would write (`--dry-run`).
fn print_plan(requests: &[SetRequest], existing: &[crate::secrets::SecretMetadata], json: bool) {
    let plan: Vec<(&SetRequest, Option<i64>)> = requests
        .iter()
        .map(|r| {
            let current = existing
                .iter()
                .find(|m| m.name == r.secret.name)
                .map(|m| m.version);
            (r, current)
        })
        .collect();
    if json {
        let items: Vec<serde_json::Value> = plan
            .iter()
            .map(|(r, current)| {
                serde_json::json!({
                    "name": r.secret.name,
                    "current_version": current,
                    "action": if current.is_some() { "new version" } else { "create" },
                })
            })
            .collect();
        print_json(&serde_json::json!({ "dry_run": true, "secrets": items }));
        return;
    }
    for (request, current) in &plan {
        match current {
            Some(version) => println!(
                "Would set {} to version {} (dry run).",
                request.secret,
                version + 1
            ),
            None => println!("Would create {} (dry run).", request.secret),
        }
    }
    println!(
        "Dry run: {} secret(s) checked, nothing was written.",
        plan.len()
    );
}

fn scope_of(arg: ScopeArg) -> Scope {
    match arg {
        ScopeArg::Global => Scope::Global,
        ScopeArg::Namespace => Scope::Namespace,
    }
}

impl SecretsCommand {
    /// Runs the subcommand.
    pub async fn run(self, config: &Config, format: OutputFormat) -> Result<()> {
        // A .env file is checked whole before anything is opened: a bad one changes nothing.
        let mut imported = match &self {
            SecretsCommand::Import {
                env_file,
                scope,
                namespace,
                ..
            } => Some(import_requests(env_file, *scope, namespace.as_deref())?),
            _ => None,
        };
        let json = format == OutputFormat::Json;
        if let SecretsCommand::RotateKey = self {
            return rotate_key(config, json).await;
        }
        let access = Access::open(config).await?;
        match self {
            SecretsCommand::List {
                scope,
                namespace,
                deleted,
                expiring,
            } => {
                let filter = ListFilter {
                    scope: scope.map(scope_of),
                    namespace: namespace.as_deref().map(Namespace::parse).transpose()?,
                    deleted,
                    expiring_before: expiring
                        .as_deref()
                        .map(|raw| expiring_before(raw, Timestamp::now()))
                        .transpose()?,
                };
                let secrets = access.list(&filter).await?;
                if json {
                    print_json(&secrets);
                } else if secrets.is_empty() {
                    println!(
                        "{}",
                        if deleted {
                            "No deleted secrets."
                        } else {
                            "No secrets."
                        }
                    );
                } else if deleted {
                    println!("{}", output::deleted_secrets_table(&secrets));
                } else {
                    println!("{}", output::secrets_table(&secrets));
                }
            }
            SecretsCommand::Set {
                args,
                scope,
                namespace,
                description,
                expires,
                if_version,
                max_versions,
            } => {
                let expires_at = expires
                    .as_deref()
                    .map(|raw| parse_expiry(raw, Timestamp::now()))
                    .transpose()?;
                let single = single_pair(&args);
                if !single && if_version.is_some() {
                    return Err(Error::invalid(
                        "--if-version applies to one secret: use `secrets set NAME VALUE`",
                    ));
                }
                let mut requests = Vec::with_capacity(args.len());
                for (name, value) in pairs(args)? {
                    requests.push(SetRequest {
                        secret: secret_ref(&name, scope, namespace.as_deref())?,
                        value,
                        description: description.clone(),
                        expires_at,
                        if_version,
                        must_exist: false,
                        max_versions: max_versions_from(max_versions),
                    });
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(twice) = requests.iter().find(|r| !seen.insert(&r.secret)) {
                    return Err(Error::invalid(format!(
                        "{} is given twice; nothing was written",
                        twice.secret
                    )));
                }
                if single {
                    let meta = access.set(&requests[0]).await?;
                    if json {
                        print_json(&meta);
                    } else {
                        println!("Set {} to version {}.", requests[0].secret, meta.version);
                    }
                } else {
                    let written = access.set_many(&requests).await?;
                    print_written(&requests, &written, json);
                }
            }
            SecretsCommand::Import {
                scope,
                namespace,
                dry_run,
                ..
            } => {
                let requests = imported.take().unwrap_or_default();
                if dry_run {
                    let location = location(scope, namespace.as_deref())?;
                    let existing = access
                        .list(&ListFilter {
                            scope: Some(location.scope()),
                            namespace: location.namespace().cloned(),
                            ..ListFilter::default()
                        })
                        .await?;
                    print_plan(&requests, &existing, json);
                } else {
                    let written = access.set_many(&requests).await?;
                    print_written(&requests, &written, json);
                }
            }
            SecretsCommand::Get(target) => {
                let meta = access.get(&target.secret_ref()?).await?;
                if json {
                    print_json(&meta);
                } else {
                    println!("{}", output::metadata_table(&meta));
                }
            }
            SecretsCommand::Delete(target) => {
                let secret = target.secret_ref()?;
                let deletion = access.delete(&secret).await?;
                if json {
                    print_json(&serde_json::json!({
                        "deleted": true,
                        "versions": deletion.kept_versions,
                        "purge_at": deletion.purge_at,
                    }));
                } else {
                    println!(
                        "Deleted {secret}: its {} version(s) are kept until {}; \
                         `fluxbase secrets undelete {}` brings it back.",
                        deletion.kept_versions, deletion.purge_at, secret.name
                    );
                }
            }
            SecretsCommand::Undelete(target) => {
                let secret = target.secret_ref()?;
                let meta = access.undelete(&secret).await?;
                if json {
                    print_json(&meta);
                } else {
                    println!("Restored {secret} at version {}.", meta.version);
                }
            }
            SecretsCommand::Destroy(target) => {
                let secret = target.secret_ref()?;
                let destroyed = access.destroy(&secret).await?;
                if json {
                    print_json(&serde_json::json!({ "destroyed": true, "versions": destroyed }));
                } else {
                    println!(
                        "Destroyed {secret}: its {destroyed} version(s) are wiped and cannot be \
                         restored."
                    );
                }
            }
            SecretsCommand::History(target) => {
                let (meta, versions) = access.history(&target.secret_ref()?).await?;
                if json {
                    print_json(&versions);
                } else {
                    println!("{}", output::history_table(meta.version, &versions));
                    if meta.pruned_through > 0 {
                        println!(
                            "Versions 1 to {} were destroyed: the secret keeps its newest {} \
                             (max-versions).",
                            meta.pruned_through,
                            meta.max_versions
                                .map_or_else(|| "versions".to_owned(), |n| n.to_string())
                        );
                    }
                }
            }
            SecretsCommand::Rollback {
                name,
                version,
                namespace,
                if_version,
            } => {
                let secret = secret_ref(&name, None, namespace.as_deref())?;
                let meta = access.rollback(&secret, version, if_version).await?;
                if json {
                    print_json(&meta);
                } else {
                    println!(
                        "Rolled back {secret}: version {} holds the value of version {version}.",
                        meta.version
                    );
                }
            }
            SecretsCommand::Stats => {
                let stats = access.stats().await?;
                if json {
                    print_json(&stats);
                } else {
                    println!("{}", output::stats_table(&stats));
                }
            }
            SecretsCommand::RotateKey => {
                unreachable!("rotate-key is run before the store is opened")
            }
            SecretsCommand::Verify { name, namespace } => {
                let secret = name
                    .as_deref()
                    .map(|name| secret_ref(name, None, namespace.as_deref()))
                    .transpose()?;
                let (service, _) = access.local("verify")?;
                let checked = service.verify(secret.as_ref()).await?;
                if json {
                    print_json(&serde_json::json!({ "verified_versions": checked }));
                } else {
                    println!("All {checked} version(s) decrypt and are intact.");
                }
            }
        }
        access.close().await;
        Ok(())
    }
}

/// `secrets rotate-key`: to the key in `FLUXBASE_NEW_ENCRYPTION_KEY`, or (with a key file) a
/// new one; see [`crate::key_rotation::KeyRotation::rotate_to`].
async fn rotate_key(config: &Config, json: bool) -> Result<()> {
    if config.remote_url.is_some() {
        return Err(local_only("rotate-key"));
    }
    let given = std::env::var_os(NEW_ENCRYPTION_KEY_ENV)
        .map(|raw| MasterKey::parse(raw.as_encoded_bytes(), NEW_ENCRYPTION_KEY_ENV))
        .transpose()?;
    let (rotation, source) = config.open_key_rotation(&actor()).await?;
    let rotated = rotation.rotate_to(given, &source).await;
    rotation.close().await;
    let report = rotated?;
    if json {
        print_json(&serde_json::json!({
            "rewrapped_versions": report.versions,
            "rewrapped_settings": report.settings,
            "key_id": report.key_id,
        }));
    } else {
        println!(
            "Re-wrapped {} data key(s) under master key {}.",
            report.versions, report.key_id
        );
    }
    Ok(())
}

/// The error of a command that works on the store itself, asked of a server.
fn local_only(command: &str) -> Error {
    Error::invalid(format!(
        "secrets {command} works on the store itself: run it without --url on a host that has \
         the database and the master key"
    ))
}

/// Where the secrets commands act: this host's store, or a server's admin API (`--url`).
enum Access {
    /// The store, through the secrets service.
    Local(crate::secrets::SecretsService, KeySource),
    /// A server.
    Remote(Remote),
}

impl Access {
    async fn open(config: &Config) -> Result<Self> {
        match &config.remote_url {
            Some(url) => Ok(Access::Remote(Remote::new(url)?)),
            None => {
                let (service, source) = config.open_secrets(&actor()).await?;
                Ok(Access::Local(service, source))
            }
        }
    }

    /// The local service, for commands the API does not offer.
    fn local(&self, command: &str) -> Result<(&crate::secrets::SecretsService, &KeySource)> {
        match self {
            Access::Local(service, source) => Ok((service, source)),
            Access::Remote(_) => Err(local_only(command)),
        }
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<crate::secrets::SecretMetadata>> {
        match self {
            Access::Local(service, _) => service.list(filter).await,
            Access::Remote(remote) => remote.list(filter),
        }
    }

    async fn set(&self, request: &SetRequest) -> Result<crate::secrets::SecretMetadata> {
        match self {
            Access::Local(service, _) => service.set(request).await,
            Access::Remote(remote) => remote.set(request),
        }
    }

    async fn set_many(
        &self,
        requests: &[SetRequest],
    ) -> Result<Vec<crate::secrets::SecretMetadata>> {
        match self {
            Access::Local(service, _) => service.set_many(requests).await,
            Access::Remote(remote) => remote.set_many(requests),
        }
    }

    async fn stats(&self) -> Result<crate::secrets::SecretStats> {
        match self {
            Access::Local(service, _) => service.stats().await,
            Access::Remote(remote) => remote.expect("GET", "/api/v1/admin/secret-stats", None),
        }
    }

    async fn get(&self, secret: &SecretRef) -> Result<crate::secrets::SecretMetadata> {
        match self {
            Access::Local(service, _) => service.get(secret).await,
            Access::Remote(remote) => remote.get(secret),
        }
    }

    async fn delete(&self, secret: &SecretRef) -> Result<Deletion> {
        match self {
            Access::Local(service, _) => service.delete(secret).await,
            Access::Remote(remote) => remote.delete(secret),
        }
    }

    async fn undelete(&self, secret: &SecretRef) -> Result<crate::secrets::SecretMetadata> {
        match self {
            Access::Local(service, _) => service.undelete(secret).await,
            Access::Remote(remote) => remote.undelete(secret),
        }
    }

    async fn destroy(&self, secret: &SecretRef) -> Result<i64> {
        match self {
            Access::Local(service, _) => service.destroy(secret).await,
            Access::Remote(remote) => remote.destroy(secret),
        }
    }

    async fn history(
        &self,
        secret: &SecretRef,
    ) -> Result<(
        crate::secrets::SecretMetadata,
        Vec<crate::store::VersionRecord>,
    )> {
        match self {
            Access::Local(service, _) => service.history(secret).await,
            Access::Remote(remote) => remote.history(secret),
        }
    }

    async fn rollback(
        &self,
        secret: &SecretRef,
        version: i64,
        if_version: Option<i64>,
    ) -> Result<crate::secrets::SecretMetadata> {
        match self {
            Access::Local(service, _) => service.rollback(secret, version, if_version).await,
            Access::Remote(remote) => remote.rollback(secret, version, if_version),
        }
    }

    async fn close(&self) {
        if let Access::Local(service, _) = self {
            service.close().await;
        }
    }
}
