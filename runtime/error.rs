//! The error type every layer returns. Messages are written for the person at the terminal and
//! never contain a secret value: variants carry names, versions and key ids only.
//! It maps nothing to HTTP statuses or exit codes: `http::api_error` and `main` do that.

use crate::secrets::SecretRef;

/// Shorthand for results across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, as a user would want it explained.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A name, namespace, value, duration or flag combination that is not accepted.
    #[error("{0}")]
    Invalid(String),

    /// The addressed secret does not exist.
    #[error("no secret {0}")]
    NotFound(SecretRef),

    /// The addressed secret is deleted: kept for its retention period, but not usable.
    #[error(
        "secret {secret} is deleted; `fluxbase secrets undelete {}` restores it until {purge_at}",
        secret.command_args()
    )]
    Deleted {
        /// The secret that was addressed.
        secret: SecretRef,
        /// When it is destroyed for good.
        purge_at: crate::time::Timestamp,
    },

    /// `undelete` of a secret that is not deleted.
    #[error("secret {0} is not deleted; nothing to undelete")]
    NotDeleted(SecretRef),

    /// The addressed version was destroyed because the secret keeps only its newest versions.
    #[error(
        "version {version} of secret {secret} was destroyed (the secret keeps only its newest \
         versions, --max-versions); it cannot be restored"
    )]
    VersionDestroyed {
        /// The secret that was addressed.
        secret: SecretRef,
        /// The version that is gone.
        version: i64,
    },

    /// No function or job of that name in the handler directory.
    #[error(
        "no {kind} {name} in {} (looked for {name}.ts, {name}.js and {name}/index.ts)",
        dir.display()
    )]
    NoHandler {
        /// `function` or `job`.
        kind: &'static str,
        /// The name that was asked for.
        name: String,
        /// The directory that was searched.
        dir: std::path::PathBuf,
    },

    /// No job run with that id (or none the caller may see).
    #[error("no job run {0}")]
    NoJobRun(String),

    /// The request does not fit the state the thing is in (a run that has ended cannot be
    /// cancelled); nothing was changed.
    #[error("{0}")]
    Conflict(String),

    /// No execution record with that id.
    #[error("no execution record {0}")]
    NoExecution(String),

    /// The addressed settings secret does not exist.
    #[error("no settings secret {0}")]
    SettingNotFound(crate::settings::SettingRef),

    /// A stored settings secret failed authentication: it was altered, or copied from another
    /// settings secret or user.
    #[error(
        "settings secret {0} failed to decrypt: its ciphertext was altered or belongs to another \
         settings secret or user"
    )]
    SettingTampered(crate::settings::SettingRef),

    /// The addressed version of a secret does not exist.
    #[error("secret {secret} has no version {version}")]
    UnknownVersion {
        /// The secret that was addressed.
        secret: SecretRef,
        /// The version that does not exist.
        version: i64,
    },

    /// A check-and-set (`--if-version`) found another current version.
    #[error("secret {secret} is at version {actual}, not {expected}; nothing was changed")]
    VersionConflict {
        /// The secret that was addressed.
        secret: SecretRef,
        /// The version the caller expected to be current.
        expected: i64,
        /// The version that is current (0 when the secret does not exist).
        actual: i64,
    },

    /// The configured master key is not the one the store's secrets were encrypted under.
    #[error(
        "the master key does not match this store: its secrets are encrypted under key id {stored}, \
         but the configured key has id {configured}; set FLUXBASE_ENCRYPTION_KEY to the key this \
         store was created with"
    )]
    WrongMasterKey {
        /// Key ids found in the store that no configured key opens.
        stored: String,
        /// Id of the configured master key.
        configured: String,
    },

    /// A problem with the master key's configuration or key file.
    #[error("{0}")]
    MasterKey(String),

    /// A stored ciphertext failed authentication: it was altered, or copied from another secret
    /// or version.
    #[error(
        "secret {secret} version {version} failed to decrypt: its ciphertext was altered or \
         belongs to another secret or version"
    )]
    Tampered {
        /// The secret whose ciphertext was refused.
        secret: SecretRef,
        /// The version whose ciphertext was refused.
        version: i64,
    },

    /// A handler was found and started but did not produce a result.
    #[error("{kind} {name} {failure} (execution {execution_id})")]
    Execution {
        /// `function` or `job`.
        kind: &'static str,
        /// The handler's name.
        name: String,
        /// The id of the execution record that holds the details.
        execution_id: String,
        /// What went wrong.
        failure: crate::invoke::ExecutionFailure,
    },

    /// Every invocation slot is taken and the queue of invocations waiting for one is full.
    #[error(
        "the host is busy: {running} invocations are running and {queued} are waiting; \
         retry shortly"
    )]
    Busy {
        /// Invocations running.
        running: usize,
        /// Invocations waiting for a slot.
        queued: usize,
    },

    /// A server answered a remote command with an error; its message, as the server gave it.
    #[error("{0}")]
    Remote(String),

    /// The database could not be opened, migrated or queried.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    /// A migration could not be applied.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// Why the database refused a write it could not store at all, if that is what `error` is: a
    /// full disk, or a database (file) that is read-only. The transaction was rolled back, so
    /// nothing of the write was made.
    pub fn storage_refusal(&self) -> Option<&'static str> {
        let Error::Database(sqlx::Error::Database(db)) = self else {
            return None;
        };
        match db.code().as_deref()? {
            // SQLite: SQLITE_FULL; PostgreSQL: disk_full.
            "13" | "53100" => Some("the database's disk is full"),
            // SQLite: SQLITE_READONLY and its extended codes; PostgreSQL: read_only_sql_transaction.
            "8" | "264" | "520" | "776" | "1032" | "1288" | "1544" | "25006" => {
                Some("the database is read-only")
            }
            // SQLite: SQLITE_IOERR and its extended codes (the low byte is 10), such as a WAL
            // file that can no longer be written.
            code if code.parse::<u32>().is_ok_and(|code| code & 0xff == 10) => {
                Some("the database's storage cannot be written")
            }
            _ => None,
        }
    }

    /// Builds an [`Error::Invalid`] from anything printable.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
