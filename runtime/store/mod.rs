//! Persistence through sqlx: SQLite (the embedded default) or PostgreSQL, chosen by the
//! database URL. The store speaks in records; it knows nothing of encryption or of output.
//!
//! Each database kind has its own migrations under `migrations/<kind>/`, applied when a store
//! opens. Queries are written once with `$N` placeholders, which both engines accept.

mod audit;
mod change_signal;
mod connect;
mod executions;
mod generation;
mod jobs;
mod records;
mod secrets;
mod settings;

pub use audit::{AuditEntry, with_client_address};
pub use connect::{Backend, default_sqlite_url, redact_url};
pub use executions::{ExecutionRecord, LogLine};
pub use jobs::JobRun;
pub use records::{
    AuditRecord, ListFilter, LogFilter, MetadataChange, NewVersion, SecretCounts, SecretRecord,
    StoredVersion, VersionRecord,
};
pub use settings::{SettingRecord, SettingWrite};

use std::sync::Arc;

use sqlx::{Any, AnyPool, Transaction};

use crate::Result;
use change_signal::ChangeSignal;

/// An open, migrated store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    changes: Arc<ChangeSignal>,
}

/// A write transaction. Every change to a secret goes through one: either all of it is
/// committed or none of it is. Dropping it without [`WriteTx::commit`] rolls back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    changes: Arc<ChangeSignal>,
    /// Whether this transaction bumped the store generation.
    bumped: bool,
}

impl Store {
    /// Connects to `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let (pool, backend) = connect::connect(url).await?;
        connect::migrate(&pool, backend, url).await?;
        let changes = match (backend, connect::sqlite_path(url)) {
            (Backend::Sqlite, Some(path)) => ChangeSignal::for_sqlite_file(&path),
            _ => ChangeSignal::off(),
        };
        Ok(Store {
            pool,
            backend,
            changes: Arc::new(changes),
        })
    }

    /// Which database kind this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing on a lock upgrade.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            backend: self.backend,
            changes: self.changes.clone(),
            bumped: false,
        })
    }

    /// After a commit that destroyed values: on SQLite, copies the write-ahead log into the
    /// database and truncates it, so the log keeps no earlier frame that held their ciphertexts
    /// (the database file itself has them zeroed by `secure_delete`). PostgreSQL: nothing to do
    /// here (see SECURITY.md). Best effort: a reader holding the log open leaves it for the next
    /// checkpoint.
    pub async fn truncate_log(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection, waiting for them to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl WriteTx {
    /// Makes every change of this transaction durable.
    pub async fn commit(self) -> Result<()> {
        let committed = self.tx.commit().await;
        if self.bumped {
            // After the commit, whatever its outcome: a needless announcement costs a reader
            // one query, a missing one would leave it on a stale generation.
            self.changes.announce();
        }
        committed?;
        Ok(())
    }
}

/// Why the database refused a write it could not store at all, if that is what `error` is: a
/// full disk, or a database (file) that is read-only. The transaction was rolled back, so
/// nothing of the write was made.
pub fn storage_refusal(error: &crate::Error) -> Option<&'static str> {
    let crate::Error::Database(sqlx::Error::Database(db)) = error else {
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

/// Whether a database error is worth retrying the whole transaction for: a lost race to create
/// the same row, a serialization failure, a deadlock, or a busy SQLite database.
pub fn is_retryable(error: &crate::Error) -> bool {
    let crate::Error::Database(sqlx::Error::Database(db)) = error else {
        return false;
    };
    matches!(
        db.code().as_deref(),
        // PostgreSQL: unique_violation, serialization_failure, deadlock_detected.
        Some("23505" | "40001" | "40P01")
        // SQLite: SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
        | Some("5" | "6" | "261" | "262" | "517" | "773")
    )
}
