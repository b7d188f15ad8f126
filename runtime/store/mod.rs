//! Persistence through sqlx: SQLite (the embedded default) or PostgreSQL, chosen by the
//! database URL. It owns the pool, the write transaction and every SQL statement of the host,
//! written once with `$N` placeholders; each kind's migrations (`migrations/<kind>/`) run on open.
//! It never seals, opens or formats anything: envelopes are opaque bytes, rows go up as records,
//! and what a change means (versions, expiry, audit) is decided by the services above it.

mod audit;
mod change_signal;
mod connect;
mod executions;
mod generation;
mod jobs;
mod records;
mod schedules;
mod secrets;
mod settings;

pub use audit::{AuditEntry, with_client_address};
pub use connect::{Backend, default_sqlite_url, redact_url};
pub use executions::{ExecutionRecord, LogLine, MinuteCount};
pub use jobs::{Cancelled, JobRun, JobRunFilter, Progress};
pub use records::{
    AuditRecord, ListFilter, LogFilter, MetadataChange, NewVersion, SecretCounts, SecretRecord,
    StoredVersion, VersionRecord,
};
pub use schedules::{ScheduleState, ScheduledRun};
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
